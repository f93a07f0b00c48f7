/* src/db/mysql_read.c
 * MySQL reads for copy and verify: snapshots, and rows by an unbuffered SELECT.
 */
#include <mysql.h>
#include <stdio.h>
#include <stdlib.h>

#include "sluice/mysql_internal.h"

bool my_snapshot(struct conn *c, struct sl_error *err)
{
	return my_run_query(c, "SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ",
			    "starting a snapshot", err) &&
	       my_run_query(c, "START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY",
			    "starting a snapshot", err);
}

/* A plain ROLLBACK: my_snapshot's transaction is neither begin's nor XA. */
bool my_snapshot_end(struct conn *c, struct sl_error *err)
{
	return my_run_query(c, "ROLLBACK", "ending a snapshot", err);
}

/* A global read lock: no commit until let_go (it waits for running
 * writes to end, and needs RELOAD). */
bool my_hold_still(struct conn *c, struct sl_error *err)
{
	if (my_exec(c, "FLUSH TABLES WITH READ LOCK", err))
		return true;
	char why[sizeof err->msg];
	snprintf(why, sizeof why, "%s", err->msg);
	return sl_error_set(err, err->kind, "FLUSH TABLES WITH READ LOCK is not allowed here (%s)",
			    why);
}

void my_let_go(struct conn *c)
{
	struct sl_error e;
	my_exec(c, "UNLOCK TABLES", &e);
}

/* An unbuffered result: rows come from the server as they are fetched. */
struct read_stream {
	struct conn *c;
	MYSQL_RES *res;
	struct cell *cells;
	int ncols;
};

/* The SELECT that reads spec's table (or query) exactly: MySQL prints a
 * FLOAT with 6 digits, so a FLOAT column is read as a DOUBLE (" + 0e0"),
 * whose text keeps every bit of the float. A query is wrapped in a derived
 * table when it returns a FLOAT. Into c->sql. */
static bool exact_select(struct conn *c, const struct write_spec *spec, const char *query,
			 const struct read_range *range, struct sl_error *err)
{
	struct buf base;
	buf_init(&base, 0);
	bool ok = query ? buf_puts(&base, query)
			: sql_select(&mysql_dialect, &base, spec, NULL, NULL);
	MYSQL_RES *res = NULL;
	if (!ok) {
		buf_free(&base);
		return sl_error_set(err, SL_ERR_USAGE, "bad table or column name");
	}
	if (!my_probe_fields(c, base.data, &res, err)) {
		buf_free(&base);
		return false;
	}
	unsigned n = mysql_num_fields(res);
	MYSQL_FIELD *f = mysql_fetch_fields(res);
	const char **suffix = calloc(n ? n : 1, sizeof *suffix);
	bool any = false;
	for (unsigned i = 0; suffix && i < n; i++)
		if (f[i].type == MYSQL_TYPE_FLOAT)
			any = (suffix[i] = " + 0e0") != NULL;
	buf_reset(&c->sql);
	if (!suffix) {
		ok = sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
	} else if (!query) {
		ok = sql_select(&mysql_dialect, &c->sql, spec, range, suffix);
	} else if (!any) {
		ok = buf_puts(&c->sql, query);
	} else {
		/* the query's own column names, each read exactly */
		ok = buf_puts(&c->sql, "SELECT ");
		for (unsigned i = 0; ok && i < n; i++)
			ok = (!i || buf_puts(&c->sql, ", ")) &&
			     sql_quote_with(&c->sql, f[i].name, '`') &&
			     (!suffix[i] || buf_puts(&c->sql, suffix[i]));
		ok = ok && buf_puts(&c->sql, " FROM (") && buf_puts(&c->sql, query) &&
		     buf_puts(&c->sql, ") AS sluice_q");
	}
	if (suffix && !ok)
		sl_error_set(err, SL_ERR_USAGE, "bad table or column name");
	free(suffix);
	mysql_free_result(res);
	buf_free(&base);
	return ok;
}

bool my_open_read(struct conn *c, const struct write_spec *spec, const char *query,
		  const struct read_range *range, struct read_stream **out, struct sl_error *err)
{
	if (!exact_select(c, spec, query, range, err))
		return false;
	if (my_real_query(c, c->sql.data, c->sql.len))
		return my_fail(c, "reading the table", err);
	MYSQL_RES *res = mysql_use_result(c->my);
	if (!res)
		return my_fail(c, "reading the table", err);
	struct read_stream *s = calloc(1, sizeof *s);
	int n = (int)mysql_num_fields(res);
	if (s)
		s->cells = calloc((size_t)(n ? n : 1), sizeof *s->cells);
	if (!s || !s->cells) {
		mysql_free_result(res);
		free(s);
		return sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
	}
	s->c = c;
	s->res = res;
	s->ncols = n;
	*out = s;
	return true;
}

int my_read_row(struct read_stream *s, struct cell **cells, int *ncols, unsigned long long *bytes,
		struct sl_error *err)
{
	MYSQL_ROW row = mysql_fetch_row(s->res);
	if (!row) {
		if (mysql_errno(s->c->my))
			return my_fail(s->c, "reading the table", err), -1;
		return 0;
	}
	unsigned long *len = mysql_fetch_lengths(s->res);
	for (int i = 0; i < s->ncols; i++) {
		s->cells[i].ptr = row[i];
		s->cells[i].len = row[i] ? len[i] : 0;
		*bytes += (row[i] ? len[i] : 0) + 1;
	}
	*cells = s->cells;
	*ncols = s->ncols;
	return 1;
}

void my_close_read(struct read_stream *s)
{
	if (!s)
		return;
	mysql_free_result(s->res); /* reads and drops any rows left */
	free(s->cells);
	free(s);
}
