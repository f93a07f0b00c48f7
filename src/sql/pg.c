/* src/sql/pg.c
 * The PostgreSQL dialect: "double-quoted" identifiers, $n placeholders,
 * ON CONFLICT clauses, COPY statement text and COPY text-format escaping.
 */
#include <string.h>

#include "sluice/sql.h"

static bool pg_quote_ident(struct buf *b, const char *ident)
{
	return sql_quote_with(b, ident, '"');
}

static bool pg_placeholder(struct buf *b, int n)
{
	return buf_printf(b, "$%d", n);
}

static bool pg_conflict_clause(struct buf *b, const struct write_spec *spec)
{
	return sql_on_conflict(&pg_dialect, b, spec, "EXCLUDED");
}

static const char *pg_insert_verb(const struct write_spec *spec)
{
	(void)spec;
	return "INSERT";
}

/* setval to MAX + 1 (1 in an empty table), not yet called: the next
 * nextval returns it. */
static bool pg_identity_restart(struct buf *b, const struct write_spec *spec, const char *column)
{
	struct buf name;
	buf_init(&name, 0);
	bool ok = sql_table_name(&pg_dialect, &name, spec) &&
		  buf_puts(b, "SELECT setval(pg_get_serial_sequence(") &&
		  sql_quote_with(b, name.data, '\'') && buf_puts(b, ", ") &&
		  sql_quote_with(b, column, '\'') && buf_puts(b, "), COALESCE(MAX(") &&
		  pg_quote_ident(b, column) && buf_puts(b, "), 0) + 1, false) FROM ") &&
		  buf_puts(b, name.data);
	buf_free(&name);
	return ok;
}

static bool pg_drop_primary_key(struct buf *b, const char *name)
{
	return buf_puts(b, "DROP CONSTRAINT ") && pg_quote_ident(b, name);
}

/* E'...': a backslash and a quote doubled, whatever
 * standard_conforming_strings says. */
static bool pg_quote_literal(struct buf *b, const char *s)
{
	bool ok = buf_puts(b, "E'");
	for (; ok && *s; s++)
		ok = (*s != '\\' && *s != '\'' ? true : buf_putc(b, *s)) && buf_putc(b, *s);
	return ok && buf_putc(b, '\'');
}

static bool pg_minus_seconds(struct buf *b, const char *lit, double seconds)
{
	return buf_printf(b, "(CAST(%s AS timestamptz) - CAST('%lld microseconds' AS interval))",
			  lit, (long long)(seconds * 1e6 + 0.5));
}

const struct dialect pg_dialect = {
	.name = "postgresql",
	.exact_rule = convert_exact_rule_for_pg,
	.max_params = 65535,
	.transactional_ddl = true,
	.has_inheritance = true,
	.bytewise_open = "",
	.bytewise_close = " COLLATE \"C\"",
	.has_schemas = true,
	.has_user_types = true,
	.alter_adds_foreign_key = true,
	.max_name_bytes = 63,
	.quote_ident = pg_quote_ident,
	.quote_literal = pg_quote_literal,
	.minus_seconds = pg_minus_seconds,
	.placeholder = pg_placeholder,
	.conflict_clause = pg_conflict_clause,
	.insert_verb = pg_insert_verb,
	.bulk_load = pg_copy_sql,
	.identity_restart = pg_identity_restart,
	.drop_primary_key = pg_drop_primary_key,
	.type_classify = pg_type_classify,
	.type_name = pg_type_name,
	.canon_value = pg_canon_value,
	.checksum_query = pg_checksum_query,
	.take_ids_sql = "SELECT nextval(pg_get_serial_sequence($1, $2)) FROM generate_series(1, "
			"$3::int)",
	.has_returning = true,
	.compare_as = pg_compare_as,
};

bool pg_copy_sql(struct buf *b, const struct write_spec *spec)
{
	return buf_puts(b, "COPY ") && sql_table_name(&pg_dialect, b, spec) && buf_putc(b, ' ') &&
	       sql_column_list(&pg_dialect, b, spec) && buf_puts(b, " FROM STDIN");
}

bool pg_copy_csv_sql(struct buf *b, const struct write_spec *spec, char delim, char quote)
{
	/* as hex escapes, so that no delimiter or quote can end the literal */
	return pg_copy_sql(b, spec) &&
	       buf_printf(b, " (FORMAT csv, DELIMITER E'\\x%02x', QUOTE E'\\x%02x')",
			  (unsigned char)delim, (unsigned char)quote);
}

bool pg_copy_escape(struct buf *b, const char *s, size_t len)
{
	if (!s)
		return buf_append(b, "\\N", 2);
	/* worst case every byte doubles */
	if (!buf_reserve(b, len * 2))
		return false;
	char *o = b->data + b->len;
	const char *end = s + len;
	while (s < end) {
		/* copy runs of plain bytes at once */
		const char *run = s;
		while (s < end && *s != '\\' && *s != '\n' && *s != '\r' && *s != '\t')
			s++;
		memcpy(o, run, (size_t)(s - run));
		o += s - run;
		if (s == end)
			break;
		*o++ = '\\';
		switch (*s) {
		case '\\':
			*o++ = '\\';
			break;
		case '\n':
			*o++ = 'n';
			break;
		case '\r':
			*o++ = 'r';
			break;
		case '\t':
			*o++ = 't';
			break;
		}
		s++;
	}
	b->len = (size_t)(o - b->data);
	b->data[b->len] = '\0';
	return true;
}

bool pg_update_sql(struct buf *b, const struct write_spec *spec, char *const *types, size_t nrows)
{
	int set[SQL_MAX_COLUMNS], key[SQL_MAX_COLUMNS], nset, nkey;
	if (!sql_update_columns(spec, set, &nset, key, &nkey) || !nkey || (!nset && !spec->del))
		return false;
	/* the values are text parameters; each is cast to its column's type */
	bool hard = spec->del && !spec->soft_col;
	if (!buf_puts(b, hard ? "DELETE FROM " : "UPDATE ") ||
	    !sql_table_name(&pg_dialect, b, spec) ||
	    !buf_puts(b, hard ? " AS sluice_t USING (VALUES " : " AS sluice_t SET "))
		return false;
	if (spec->del && spec->soft_col &&
	    (!pg_quote_ident(b, spec->soft_col) || !buf_puts(b, " = ") ||
	     !buf_puts(b, spec->soft_expr)))
		return false;
	for (int i = 0; !spec->del && i < nset; i++) {
		struct buf v;
		buf_init(&v, 0);
		bool ok = buf_printf(&v, "sluice_v.c%d::%s", i + 1, types[set[i]]) &&
			  buf_puts(b, i ? ", " : "") &&
			  sql_assign(&pg_dialect, b, spec, spec->columns[set[i]], "sluice_t.",
				     v.data);
		buf_free(&v);
		if (!ok)
			return false;
	}
	if (!hard && !buf_puts(b, " FROM (VALUES "))
		return false;
	int n = 1, per = nset + nkey + 1;
	for (size_t r = 0; r < nrows; r++) {
		if (!buf_puts(b, r ? ",(" : "("))
			return false;
		for (int c = 0; c < per; c++)
			if (!buf_printf(b, c ? ",$%d" : "$%d", n++))
				return false;
		if (!buf_putc(b, ')'))
			return false;
	}
	if (!buf_puts(b, ") AS sluice_v ("))
		return false;
	for (int c = 0; c < nset + nkey; c++)
		if (!buf_printf(b, "c%d, ", c + 1))
			return false;
	if (!buf_puts(b, "ord) WHERE "))
		return false;
	for (int i = 0; i < nkey; i++)
		if (!buf_puts(b, i ? " AND sluice_t." : "sluice_t.") ||
		    !pg_quote_ident(b, spec->columns[key[i]]) ||
		    !buf_printf(b, " = sluice_v.c%d::%s", nset + i + 1, types[key[i]]))
			return false;
	/* with each row matched, whether a delta met a NULL (the new value of
	 * an --add column is NULL only then: the deltas are not NULL) */
	return buf_puts(b, " RETURNING sluice_v.ord, ") &&
	       sql_null_adds(&pg_dialect, b, spec, "sluice_t.");
}

bool pg_keys_stage_sql(struct buf *b, int ncols)
{
	bool ok = buf_puts(b, "DROP TABLE IF EXISTS pg_temp.\"sluice#keys\"; "
			      "CREATE TEMP TABLE \"sluice#keys\" (n int");
	for (int i = 0; ok && i < ncols; i++)
		ok = buf_printf(b, ", c%d text", i + 1);
	return ok && buf_puts(b, ") ON COMMIT DROP");
}

/* sluice_t's key columns equal to sluice_s's, each staged text cast to its
 * column's type (so the key's index serves the lookup). */
static bool keys_match(struct buf *b, const struct write_spec *spec, char *const *types,
		       const int *key, int nkey)
{
	bool ok = true;
	for (int i = 0; ok && i < nkey; i++)
		ok = buf_puts(b, i ? " AND sluice_t." : "sluice_t.") &&
		     pg_quote_ident(b, spec->columns[key[i]]) &&
		     buf_printf(b, " = sluice_s.c%d::%s", key[i] + 1, types[key[i]]);
	return ok;
}

bool pg_delete_staged_sql(struct buf *b, const struct write_spec *spec, char *const *types)
{
	int set[SQL_MAX_COLUMNS], key[SQL_MAX_COLUMNS], nset, nkey;
	if (!spec->del || !sql_update_columns(spec, set, &nset, key, &nkey) || !nkey)
		return false;
	bool hard = !spec->soft_col;
	bool ok = buf_puts(b, hard ? "DELETE FROM " : "UPDATE ") &&
		  sql_table_name(&pg_dialect, b, spec) && buf_puts(b, " AS sluice_t ");
	if (ok && hard)
		ok = buf_puts(b, "USING ");
	else if (ok)
		ok = buf_puts(b, "SET ") && pg_quote_ident(b, spec->soft_col) &&
		     buf_puts(b, " = ") && buf_puts(b, spec->soft_expr) && buf_puts(b, " FROM ");
	/* the keys in their order: the index is walked forward, and the rows
	 * are locked in key order (two writers do not lock in opposite orders) */
	ok = ok && buf_puts(b, "(SELECT * FROM pg_temp.\"sluice#keys\" ORDER BY ");
	for (int i = 0; ok && i < nkey; i++)
		ok = buf_printf(b, "%sc%d::%s", i ? ", " : "", key[i] + 1, types[key[i]]);
	return ok && buf_puts(b, ") AS sluice_s WHERE ") && keys_match(b, spec, types, key, nkey) &&
	       buf_puts(b, " RETURNING sluice_s.n");
}
