/* src/sql/checkpoint_sql.c
 * The statements of --resume's checkpoint table (pipeline/checkpoint.c,
 * pipeline/jobs.c), in any dialect: names quoted, values as placeholders.
 */
#include "sluice/sql.h"

const char *const sql_checkpoint_columns[] = {
	"job",		"source",	"first_rec", "end_rec", "fingerprint",
	"rows_written", "committed_at", "kind",	     "mark",
};
const int sql_checkpoint_ncols = sizeof sql_checkpoint_columns / sizeof sql_checkpoint_columns[0];

bool sql_checkpoint_create(const struct dialect *d, struct buf *b, const struct write_spec *table)
{
	/* sizes that keep MySQL's primary key under its 3072 bytes */
	return buf_puts(b, "CREATE TABLE IF NOT EXISTS ") && sql_table_name(d, b, table) &&
	       buf_puts(b, " (job varchar(200) NOT NULL, source varchar(500) NOT NULL, "
			   "first_rec bigint NOT NULL, end_rec bigint NOT NULL, "
			   "fingerprint varchar(100) NOT NULL, rows_written bigint NOT NULL, "
			   "committed_at timestamp NULL DEFAULT CURRENT_TIMESTAMP, "
			   "kind smallint NOT NULL DEFAULT 0, mark text NULL, "
			   "PRIMARY KEY (job, source, kind, first_rec))") &&
	       (!d->bytewise_table_options || buf_puts(b, d->bytewise_table_options));
}

bool sql_checkpoint_upgrade(const struct dialect *d, struct buf *b, const struct write_spec *table,
			    const char *primary_key)
{
	/* one statement: a crash leaves the table as it was or upgraded */
	return d->drop_primary_key && buf_puts(b, "ALTER TABLE ") && sql_table_name(d, b, table) &&
	       buf_puts(b, " ADD COLUMN kind smallint NOT NULL DEFAULT 0, ") &&
	       d->drop_primary_key(b, primary_key) &&
	       buf_puts(b, ", ADD PRIMARY KEY (job, source, kind, first_rec)");
}

bool sql_checkpoint_rows(const struct dialect *d, struct buf *b, const struct write_spec *table)
{
	return buf_puts(b, "SELECT job, source, first_rec, end_rec, fingerprint, kind FROM ") &&
	       sql_table_name(d, b, table);
}

bool sql_checkpoint_claim(const struct dialect *d, struct buf *b, const struct write_spec *table,
			  size_t nrows)
{
	bool ok = buf_puts(b, "INSERT INTO ") && sql_table_name(d, b, table) &&
		  buf_puts(b, " (job, source, first_rec, end_rec, fingerprint, rows_written, "
			      "kind) VALUES ");
	for (size_t r = 0; ok && r < nrows; r++) {
		ok = buf_puts(b, r ? ", (" : "(");
		for (int i = 1; ok && i <= 7; i++)
			ok = (i == 1 || buf_puts(b, ", ")) && d->placeholder(b, (int)(7 * r) + i);
		ok = ok && buf_putc(b, ')');
	}
	return ok;
}

bool sql_checkpoint_at(const struct dialect *d, struct buf *b, const struct write_spec *table,
		       long long first)
{
	return buf_puts(b, "SELECT job, source, first_rec FROM ") && sql_table_name(d, b, table) &&
	       buf_printf(b, " WHERE first_rec = %lld AND kind = 1", first);
}

bool sql_checkpoint_overlap(const struct dialect *d, struct buf *b, const struct write_spec *table,
			    long long first, long long last)
{
	return buf_puts(b, "SELECT job, source, first_rec, end_rec FROM ") &&
	       sql_table_name(d, b, table) &&
	       buf_printf(b, " WHERE kind = 1 AND first_rec <= %lld AND end_rec > %lld", last,
			  first);
}

bool sql_checkpoint_unlock(const struct dialect *d, struct buf *b, const struct write_spec *table,
			   int kind)
{
	return buf_puts(b, "DELETE FROM ") && sql_table_name(d, b, table) &&
	       buf_printf(b, " WHERE kind = %d AND job = ", kind) && d->placeholder(b, 1) &&
	       buf_puts(b, " AND source = ") && d->placeholder(b, 2) &&
	       buf_puts(b, " AND first_rec >= ") && d->placeholder(b, 3) &&
	       buf_puts(b, " AND first_rec <= ") && d->placeholder(b, 4);
}

bool sql_checkpoint_jobs(const struct dialect *d, struct buf *b, const struct write_spec *table,
			 bool has_kind)
{
	/* kind 1 is a range, 2 a source whole, 3 its table created; kind 0
	 * (and a table of an earlier version, without kind) has the marks in
	 * the two lowest bigints */
	const char *range = has_kind ? "kind = 1 OR (kind = 0 AND first_rec > -9223372036854775807)"
				     : "first_rec > -9223372036854775807";
	const char *whole = has_kind ? "kind = 2 OR (kind = 0 AND first_rec < -9223372036854775807)"
				     : "first_rec < -9223372036854775807";
	return buf_printf(b,
			  "SELECT job, source, SUM(CASE WHEN %s THEN 1 ELSE 0 END), "
			  "SUM(rows_written), MAX(CASE WHEN %s THEN 1 ELSE 0 END), "
			  "MIN(committed_at), MAX(committed_at) FROM ",
			  range, whole) &&
	       sql_table_name(d, b, table) &&
	       buf_puts(b, " GROUP BY job, source ORDER BY job, source");
}

bool sql_checkpoint_forget(const struct dialect *d, struct buf *b, const struct write_spec *table)
{
	return buf_puts(b, "DELETE FROM ") && sql_table_name(d, b, table) &&
	       buf_puts(b, " WHERE job = ") && d->placeholder(b, 1);
}

bool sql_checkpoint_unmark(const struct dialect *d, struct buf *b, const struct write_spec *table)
{
	return buf_puts(b, "DELETE FROM ") && sql_table_name(d, b, table) &&
	       buf_puts(b, " WHERE job = ") && d->placeholder(b, 1) &&
	       buf_puts(b, " AND source = ") && d->placeholder(b, 2) &&
	       buf_puts(b, " AND kind = 4");
}

bool sql_checkpoint_mark(const struct dialect *d, struct buf *b, const struct write_spec *table)
{
	return buf_puts(b, "INSERT INTO ") && sql_table_name(d, b, table) &&
	       buf_puts(b, " (job, source, first_rec, end_rec, fingerprint, rows_written, kind, "
			   "mark) VALUES (") &&
	       d->placeholder(b, 1) && buf_puts(b, ", ") && d->placeholder(b, 2) &&
	       buf_puts(b, ", 0, 0, '', ") && d->placeholder(b, 3) && buf_puts(b, ", 4, ") &&
	       d->placeholder(b, 4) && buf_putc(b, ')');
}

bool sql_checkpoint_add_mark(const struct dialect *d, struct buf *b, const struct write_spec *table)
{
	return buf_puts(b, "ALTER TABLE ") && sql_table_name(d, b, table) &&
	       buf_puts(b, " ADD COLUMN mark text NULL");
}

bool sql_checkpoint_marks(const struct dialect *d, struct buf *b, const struct write_spec *table)
{
	return buf_puts(b, "SELECT job, source, mark, committed_at FROM ") &&
	       sql_table_name(d, b, table) && buf_puts(b, " WHERE kind = 4 ORDER BY job, source");
}
