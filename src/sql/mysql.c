/* src/sql/mysql.c
 * The MySQL/MariaDB dialect: `backtick` identifiers, ? placeholders,
 * INSERT IGNORE and ON DUPLICATE KEY UPDATE.
 */
#include <string.h>

#include "sluice/sql.h"

static bool mysql_quote_ident(struct buf *b, const char *ident)
{
	return sql_quote_with(b, ident, '`');
}

static bool mysql_placeholder(struct buf *b, int n)
{
	(void)n;
	return buf_putc(b, '?');
}

static bool mysql_conflict_clause(struct buf *b, const struct write_spec *spec)
{
	if (spec->on_conflict != CONFLICT_UPDATE)
		return true;
	bool any = false;
	for (int c = 0; c < spec->ncols; c++) {
		if (sql_is_key_column(&mysql_dialect, spec, c))
			continue;
		/* VALUES(col) works on MariaDB and MySQL (deprecated, not removed, in 8.0) */
		struct buf v;
		buf_init(&v, 0);
		bool ok = buf_puts(&v, "VALUES(") && mysql_quote_ident(&v, spec->columns[c]) &&
			  buf_putc(&v, ')') &&
			  buf_puts(b, any ? ", " : " ON DUPLICATE KEY UPDATE ") &&
			  sql_assign(&mysql_dialect, b, spec, spec->columns[c], "", v.data);
		buf_free(&v);
		if (!ok)
			return false;
		any = true;
	}
	return true;
}

static const char *mysql_insert_verb(const struct write_spec *spec)
{
	return spec->on_conflict == CONFLICT_SKIP ? "INSERT IGNORE" : "INSERT";
}

static bool mysql_quote_literal(struct buf *b, const char *s);

/* LOAD DATA LOCAL INFILE in the escaping the driver writes: tab-separated,
 * backslash escapes, \N for NULL, utf8mb4; the file name is a placeholder
 * the driver's local-infile handler answers from memory. */
static bool mysql_load_data_sql(struct buf *b, const struct write_spec *spec)
{
	return buf_puts(b, "LOAD DATA LOCAL INFILE 'sluice-batch' INTO TABLE ") &&
	       sql_table_name(&mysql_dialect, b, spec) &&
	       buf_puts(b, " CHARACTER SET utf8mb4 FIELDS TERMINATED BY '\\t' "
			   "ENCLOSED BY '' ESCAPED BY '\\\\' LINES TERMINATED BY '\\n' "
			   "STARTING BY '' ") &&
	       sql_column_list(&mysql_dialect, b, spec);
}

/* The same for rows as CSV text in this delimiter and quote (ASCII, the
 * reader's dialect): values enclosed or not, quotes doubled, no escapes,
 * the unquoted word NULL for NULL (the driver encloses a value "NULL"). */
bool mysql_load_csv_sql(struct buf *b, const struct write_spec *spec, char delim, char quote)
{
	char d[2] = {delim, '\0'}, q[2] = {quote, '\0'};
	return buf_puts(b, "LOAD DATA LOCAL INFILE 'sluice-batch' INTO TABLE ") &&
	       sql_table_name(&mysql_dialect, b, spec) &&
	       buf_puts(b, " CHARACTER SET utf8mb4 FIELDS TERMINATED BY ") &&
	       mysql_quote_literal(b, d) && buf_puts(b, " OPTIONALLY ENCLOSED BY ") &&
	       mysql_quote_literal(b, q) &&
	       buf_puts(b, " ESCAPED BY '' LINES TERMINATED BY '\\n' STARTING BY '' ") &&
	       sql_column_list(&mysql_dialect, b, spec);
}

bool mysql_stage_load_sql(struct buf *b, const struct write_spec *spec, const int *key, int nkey)
{
	bool ok = buf_puts(b, "LOAD DATA LOCAL INFILE 'sluice-batch' INTO TABLE `sluice#stage` "
			      "CHARACTER SET utf8mb4 FIELDS TERMINATED BY '\\t' ENCLOSED BY '' "
			      "ESCAPED BY '\\\\' LINES TERMINATED BY '\\n' STARTING BY '' "
			      "(`sluice#ord`");
	for (int i = 0; ok && i < spec->ncols; i++) {
		bool staged = false;
		for (int k = 0; k < nkey && !staged; k++)
			staged = key[k] == i;
		ok = buf_puts(b, ", ") && (staged ? mysql_quote_ident(b, spec->columns[i])
						  : buf_puts(b, "@sluice_skip"));
	}
	return ok && buf_putc(b, ')');
}

static bool mysql_drop_primary_key(struct buf *b, const char *name)
{
	(void)name;
	return buf_puts(b, "DROP PRIMARY KEY");
}

/* '...' with MySQL's backslash escapes (the session's sql_mode has no
 * NO_BACKSLASH_ESCAPES: src/db/mysql_conn.c sets it). */
static bool mysql_quote_literal(struct buf *b, const char *s)
{
	bool ok = buf_putc(b, '\'');
	for (; ok && *s; s++)
		ok = (*s != '\\' && *s != '\'' ? true : buf_putc(b, '\\')) && buf_putc(b, *s);
	return ok && buf_putc(b, '\'');
}

static bool mysql_minus_seconds(struct buf *b, const char *lit, double seconds)
{
	return buf_printf(b, "(CAST(%s AS DATETIME(6)) - INTERVAL %lld MICROSECOND)", lit,
			  (long long)(seconds * 1e6 + 0.5));
}

const struct dialect mysql_dialect = {
	.name = "mysql",
	.exact_rule = convert_exact_rule_for_mysql,
	.max_params = 65535,
	.fk_set_null_needs_null = true,
	.fk_needs_same_type = true,
	.alter_adds_foreign_key = true,
	.text_pads_spaces = true,
	.max_name_bytes = 64,
	/* the bytes in utf8mb4, whatever the column's character set */
	.bytewise_open = "CAST(CONVERT(",
	.bytewise_close = " USING utf8mb4) AS BINARY)",
	.columns_case_insensitive = true,
	.upsert_matches_any_unique = true,
	.bytewise_table_options = " DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin",
	.quote_ident = mysql_quote_ident,
	.quote_literal = mysql_quote_literal,
	.minus_seconds = mysql_minus_seconds,
	.placeholder = mysql_placeholder,
	.conflict_clause = mysql_conflict_clause,
	.insert_verb = mysql_insert_verb,
	.bulk_load = mysql_load_data_sql,
	.drop_primary_key = mysql_drop_primary_key,
	.type_classify = mysql_type_classify,
	.type_name = mysql_type_name,
	.canon_value = mysql_canon_value,
	.checksum_query = mysql_checksum_query,
	.has_returning = true,
};
