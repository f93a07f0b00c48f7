/* src/db/mysql_each.c
 * MySQL write_each: the rows of a batch the server refused, written as
 * loading them one at a time would write them, in a few statements rather
 * than a bisection per bad row.
 *
 * A probe writes the rows the forgiving way (INSERT IGNORE; LOAD DATA LOCAL
 * forgives by itself) inside a savepoint and reads the warnings, each naming
 * its row ("... at row N"), then rolls back. A row whose first warning is
 * about its own value (the statement numbers it) is refused alone too, with
 * that message: such a value is refused whatever the table holds. Counting
 * stops at the first warning that names no row (a duplicate key, a CHECK):
 * the server's row count skips rows it left out. The probe repeats without
 * the refused rows until it is clean (then it stands), or names no row:
 * then the rest is written in halves in savepoints, strictly, down to the
 * single rows the server refuses, as one-at-a-time loading would.
 */
#include <mysql.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sluice/mysql_internal.h"
#include "sluice/url.h"

/* Errors whose INSERT IGNORE warning has the text of the strict error. */
static bool same_as_error(unsigned code)
{
	return code == 1366 /* incorrect value */ || code == 1264 /* out of range */;
}

struct each {
	struct conn *c;
	const struct write_spec *spec;
	bool infile;
	char **refused; /* by row of the caller's range */
	size_t *rows;	/* the rows still to write, as rows of that range */
	size_t nrows;
	struct batch view; /* those rows */
	const struct batch *b;
	size_t first;
	bool *seen;   /* a probe's rows that have had their first warning */
	size_t found; /* rows a probe refused */
	bool warned;  /* a probe met a warning */
};

/* "... at row N" at the end of msg: N, and where " at row" starts; 0 if none. */
static unsigned long row_named(const char *msg, size_t *at)
{
	const char *p = strstr(msg, " at row ");
	const char *last = NULL;
	while (p) {
		last = p;
		p = strstr(p + 1, " at row ");
	}
	if (!last)
		return 0;
	char *end;
	unsigned long n = strtoul(last + 8, &end, 10);
	if (*end || end == last + 8)
		return 0;
	*at = (size_t)(last - msg);
	return n;
}

/* Refuse row i of the view with the message one-at-a-time loading gives:
 * msg said of row 1, formatted as the statement's failure. */
static bool refuse(struct each *e, size_t i, const char *level, unsigned code, const char *msg,
		   size_t at, struct sl_error *err)
{
	struct buf m;
	buf_init(&m, 0);
	bool ok = buf_append(&m, msg, at) && buf_puts(&m, " at row 1");
	struct sl_error why;
	if (ok && e->infile) /* as my_check_warnings says it */
		sl_error_set(&why, SL_ERR_DATA, "LOAD DATA: %s (MySQL %s %u)", m.data, level, code);
	else if (ok) /* as my_stmt_fail says it */
		my_fail_code(e->c, code, m.data, NULL, "INSERT failed", &why);
	buf_free(&m);
	if (ok && e->c->url)
		url_scrub(why.msg, e->c->url);
	size_t r = e->rows[i];
	if (!ok || !(e->refused[r] = strdup(why.msg)))
		return sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
	e->found++;
	return true;
}

/* After a probe statement of view rows [row0, row0+k): its warnings. */
static bool read_warnings(void *ctx, size_t row0, size_t k, struct sl_error *err)
{
	struct each *e = ctx;
	struct conn *c = e->c;
	if (mysql_warning_count(c->my) == 0)
		return true;
	MYSQL_RES *res = NULL;
	if (my_text_query(c, "SHOW WARNINGS") || !(res = mysql_store_result(c->my)))
		return my_fail(c, "reading the warnings", err);
	MYSQL_ROW w;
	bool ok = true;
	while (ok && (w = mysql_fetch_row(res)) != NULL) {
		const char *level = w[0] ? w[0] : "", *msg = w[2] ? w[2] : "";
		unsigned code = (unsigned)strtoul(w[1] ? w[1] : "0", NULL, 10);
		if (my_harmless_warning(code))
			continue;
		e->warned = true;
		size_t at;
		unsigned long n = row_named(msg, &at);
		if (n == 0 || n > k)
			break; /* the server's row count may skip rows from here on */
		size_t i = row0 + n - 1;
		if (e->seen[i])
			continue;
		if (!e->infile && !strcmp(level, "Note"))
			continue; /* a strict INSERT fails on the error, if any */
		e->seen[i] = true;
		if (e->infile || same_as_error(code))
			ok = refuse(e, i, level, code, msg, at, err);
	}
	mysql_free_result(res);
	return ok;
}

/* Copy the rows still to write into the view. */
static void make_view(struct each *e)
{
	int nc = e->b->ncols;
	e->view.nrows = e->nrows;
	for (size_t i = 0; i < e->nrows; i++) {
		size_t r = e->first + e->rows[i];
		memcpy(e->view.cells + i * (size_t)nc, batch_row(e->b, r),
		       (size_t)nc * sizeof(struct cell));
		e->view.meta[i] = e->b->meta[r];
	}
}

/* Write view rows [lo, hi) strictly in a savepoint; refused, in halves
 * down to the rows the server refuses alone. */
static bool settle(struct each *e, size_t lo, size_t hi, struct sl_error *err)
{
	struct conn *c = e->c;
	if (!my_run_query(c, "SAVEPOINT sluice_each", "SAVEPOINT", err))
		return false;
	struct write_count wc;
	bool ok = e->infile ? my_write_infile(c, e->spec, &e->view, lo, hi - lo, err)
			    : my_write_insert(c, e->spec, &e->view, lo, hi - lo, &wc, err);
	if (ok)
		return true;
	if (err->kind != SL_ERR_DATA)
		return false;
	struct sl_error why = *err;
	if (!my_run_query(c, "ROLLBACK TO SAVEPOINT sluice_each", "ROLLBACK TO SAVEPOINT", err))
		return false;
	if (hi - lo == 1) {
		size_t r = e->rows[lo];
		if (!(e->refused[r] = strdup(why.msg)))
			return sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
		return true;
	}
	if (signals_caught())
		return sl_error_set(err, SL_ERR_INTERRUPTED, "interrupted by %s", signals_name());
	size_t mid = lo + (hi - lo) / 2;
	return settle(e, lo, mid, err) && settle(e, mid, hi, err);
}

/* The probes and, when they name no more rows, the halves. */
static bool write_rows(struct each *e, struct sl_error *err)
{
	struct conn *c = e->c;
	for (;;) {
		size_t k = 0;
		for (size_t i = 0; i < e->nrows; i++)
			if (!e->refused[e->rows[i]])
				e->rows[k++] = e->rows[i];
		e->nrows = k;
		if (k == 0)
			return true;
		if (signals_caught())
			return sl_error_set(err, SL_ERR_INTERRUPTED, "interrupted by %s",
					    signals_name());
		make_view(e);
		memset(e->seen, 0, k * sizeof *e->seen);
		e->found = 0;
		e->warned = false;
		if (!my_run_query(c, "SAVEPOINT sluice_each", "SAVEPOINT", err))
			return false;
		bool ok = e->infile ? my_load_unchecked(c, e->spec, &e->view, 0, k, err) &&
					      read_warnings(e, 0, k, err)
				    : my_insert_probe(c, e->spec, &e->view, 0, k, read_warnings, e,
						      err);
		if (!ok)
			return false;
		if (!e->warned)
			return true; /* clean: as strict loading would have written them */
		if (!my_run_query(c, "ROLLBACK TO SAVEPOINT sluice_each", "ROLLBACK TO SAVEPOINT",
				  err))
			return false;
		if (e->found == 0)
			return settle(e, 0, k, err);
	}
}

/* write_each of an upsert by the key alone: row by row, each in a
 * savepoint. A row refused may wait for another's change (two rows
 * trading a unique value): the refused are tried again while a pass
 * writes any; those left are refused with their reasons. */
static bool each_upsert_by_key(struct conn *c, const struct write_spec *spec, const struct batch *b,
			       size_t first, size_t n, char **refused, size_t *written,
			       struct sl_error *err)
{
	size_t *todo = malloc((n ? n : 1) * sizeof *todo), ntodo = 0;
	if (!todo)
		return sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
	bool ok = true;
	for (size_t i = 0; ok && i < n; i++) {
		struct sl_error why;
		if (my_check_exact(c, spec, b, first + i, 1, &why))
			todo[ntodo++] = i;
		else if (!(refused[i] = strdup(why.msg)))
			ok = sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
	}
	for (bool progress = true; ok && progress && ntodo;) {
		progress = false;
		size_t left = 0;
		for (size_t t = 0; ok && t < ntodo; t++) {
			size_t i = todo[t];
			if (signals_caught()) {
				ok = sl_error_set(err, SL_ERR_INTERRUPTED, "interrupted by %s",
						  signals_name());
				break;
			}
			if (!(ok = my_run_query(c, "SAVEPOINT sluice_each", "SAVEPOINT", err)))
				break;
			struct write_count w;
			if (my_upsert_by_key(c, spec, b, first + i, 1, &w, err)) {
				(*written)++;
				progress = true;
				free(refused[i]);
				refused[i] = NULL;
				continue;
			}
			if (err->kind != SL_ERR_DATA) {
				ok = false;
				break;
			}
			free(refused[i]);
			if (!(refused[i] = strdup(err->msg))) {
				ok = sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
				break;
			}
			sl_error_clear(err);
			ok = my_run_query(c, "ROLLBACK TO SAVEPOINT sluice_each",
					  "ROLLBACK TO SAVEPOINT", err);
			todo[left++] = i;
		}
		ntodo = left;
	}
	free(todo);
	return ok;
}

bool my_write_each(struct conn *c, const struct write_spec *spec, const struct batch *b,
		   size_t first, size_t n, char **refused, size_t *written, struct sl_error *err)
{
	*written = 0;
	if (!my_ensure_kinds(c, spec, err))
		return false;
	if (spec->on_conflict == CONFLICT_UPDATE && spec->upsert_by_key)
		return each_upsert_by_key(c, spec, b, first, n, refused, written, err);
	if (!c->each_ready) {
		/* a probe lists every bad row it meets: as many as a session keeps */
		if (!my_run_query(c, "SET SESSION max_error_count = 65535", "max_error_count", err))
			return false;
		c->each_ready = true;
	}
	struct each e = {.c = c,
			 .spec = spec,
			 .infile = sql_uses_bulk(spec),
			 .refused = refused,
			 .b = b,
			 .first = first};
	e.rows = malloc(n * sizeof *e.rows);
	e.seen = malloc(n * sizeof *e.seen);
	e.view = (struct batch){.ncols = b->ncols, .cap_rows = n, .seq = b->seq};
	e.view.cells = malloc(n * (size_t)b->ncols * sizeof *e.view.cells);
	e.view.meta = malloc(n * sizeof *e.view.meta);
	bool ok = e.rows && e.seen && e.view.cells && e.view.meta;
	if (!ok)
		sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
	/* a value its column would not keep exactly: refused before the server
	 * sees it, as write_batch does */
	for (size_t i = 0; ok && i < n; i++) {
		struct sl_error why;
		if (!my_check_exact(c, spec, b, first + i, 1, &why) &&
		    !(refused[i] = strdup(why.msg)))
			ok = sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
		e.rows[e.nrows++] = i;
	}
	ok = ok && write_rows(&e, err);
	size_t bad = 0;
	for (size_t i = 0; ok && i < n; i++)
		bad += refused[i] != NULL;
	if (ok)
		*written = n - bad;
	free(e.rows);
	free(e.seen);
	free(e.view.cells);
	free(e.view.meta);
	return ok;
}
