/* src/db/pg_write.c
 * PostgreSQL writes: COPY, prepared multi-row INSERT, rows one by one, UPDATE.
 */
#include <libpq-fe.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sluice/convert.h"
#include "sluice/log.h"
#include "sluice/pg_internal.h"
#include "sluice/signals.h"

#define COPY_FLUSH_BYTES (512 * 1024)
/* rows tested for exactness at a time, each stretch just before it is sent */
#define EXACT_STRETCH 1024

static int inexact_column(const struct conn *c, const struct cell *row, int ncols, char *why,
			  size_t whysz);
static int first_inexact(const struct conn *c, const struct batch *b, size_t first, size_t n,
			 char *why, size_t whysz);

/* Send len bytes of COPY data at s, after what c->copy holds, in pieces
 * of COPY_FLUSH_BYTES at most (libpq copies each into its buffer): 1 sent,
 * 0 a signal came (*interrupted set: the COPY is to be ended), -1 the
 * connection failed. */
static int send_copy_text(struct conn *c, const char *s, size_t len, bool *interrupted)
{
	while (len) {
		if (signals_caught()) {
			*interrupted = c->interrupted = true;
			return 0;
		}
		if (c->copy.len) {
			if (pg_put_copy(c, c->copy.data, c->copy.len) != 1)
				return -1;
			buf_reset(&c->copy);
		}
		size_t k = len < COPY_FLUSH_BYTES ? len : COPY_FLUSH_BYTES;
		if (pg_put_copy(c, s, k) != 1)
			return -1;
		s += k;
		len -= k;
	}
	return 1;
}

/* Send what c->copy holds once it is a flush's worth: 1 sent or not due
 * yet, 0 a signal came (*interrupted set: the COPY is to be ended here, not
 * at the batch's end), -1 the connection failed. */
static int flush_copy(struct conn *c, bool *interrupted)
{
	if (c->copy.len < COPY_FLUSH_BYTES)
		return 1;
	if (signals_caught()) {
		*interrupted = c->interrupted = true;
		return 0;
	}
	if (pg_put_copy(c, c->copy.data, c->copy.len) != 1)
		return -1;
	buf_reset(&c->copy);
	return 1;
}

/* End the COPY copy_in or copy_binary began: with its data all sent (ok,
 * the rest of c->copy sent first), else failed for the reason inexact
 * (a column of exact that would round, why) or interrupted tell, or as a
 * row too large. False when the server refused it, or it failed. */
static bool copy_end(struct conn *c, bool ok, bool interrupted, int inexact, const char *why,
		     char *const *exact, struct sl_error *err)
{
	PGresult *res;
	if (!ok) {
		c->cleanup = interrupted; /* ending it is the cancel */
		pg_put_copy_end(c, interrupted	  ? "interrupted"
				   : inexact >= 0 ? "a value the column would round"
						  : "row too large");
		while ((res = pg_result(c)) != NULL)
			PQclear(res);
		c->cleanup = false;
		if (c->stalled || interrupted)
			return pg_fail(c, NULL, "COPY failed", err);
		if (inexact >= 0)
			return sl_error_set(err, SL_ERR_DATA, "column \"%s\": %s", exact[inexact],
					    why);
		return sl_error_set(err, SL_ERR_DATA, "row too large for the COPY buffer");
	}
	if (c->copy.len && pg_put_copy(c, c->copy.data, c->copy.len) != 1)
		return pg_fail(c, NULL, "COPY failed", err);
	if (pg_put_copy_end(c, NULL) != 1)
		return pg_fail(c, NULL, "COPY failed", err);
	ok = true;
	while ((res = pg_result(c)) != NULL) {
		if (ok && PQresultStatus(res) != PGRES_COMMAND_OK) {
			pg_fail(c, res, "COPY failed", err);
			ok = false;
		}
		PQclear(res);
	}
	if (ok && (PQstatus(c->pg) == CONNECTION_BAD || c->stalled))
		return pg_fail(c, NULL, "COPY failed", err);
	return ok;
}

/* v in decimal and a tab after it: a numbered COPY line's start */
static bool put_number(struct buf *o, size_t v)
{
	char d[24], *p = d + sizeof d;
	*--p = '\t';
	do
		*--p = (char)('0' + v % 10);
	while (v /= 10);
	return buf_append(o, p, (size_t)(d + sizeof d - p));
}

/* Run COPY statement sql with rows [first, first+n) of b as its data, in
 * text format, escaped by pg_copy_escape; numbered: each line starts with
 * the row's number in the range (0, 1, ...). */
static bool copy_in(struct conn *c, const char *sql, const struct batch *b, size_t first, size_t n,
		    bool numbered, char *const *skip, bool csv, char *const *exact,
		    struct sl_error *err)
{
	PGresult *res = pg_run_first(c, sql);
	if (PQresultStatus(res) != PGRES_COPY_IN) {
		pg_fail(c, res, "COPY failed", err);
		PQclear(res);
		return false;
	}
	PQclear(res);
	buf_reset(&c->copy);
	bool ok = true, interrupted = false;
	char why[300];
	int inexact = -1; /* a column whose value it would round (exact) */
	for (size_t r = first; r < first + n && ok; r++) {
		const struct cell *row = batch_row(b, r);
		if (skip && skip[r - first])
			continue; /* refused already */
		if (csv && !numbered && !skip) {
			/* rows whose text lies one after the other go as it lies,
			 * each stretch tested before it goes, while the server reads
			 * the one before */
			size_t k = batch_csv_run(b, r, first + n - r);
			if (exact && k > EXACT_STRETCH)
				k = EXACT_STRETCH;
			if (k && exact &&
			    (inexact = first_inexact(c, b, r, k, why, sizeof why)) >= 0) {
				ok = false;
				break;
			}
			if (k) {
				const struct row_meta *z = &b->meta[r + k - 1];
				int sent = send_copy_text(
					c, b->meta[r].raw,
					(size_t)(z->raw + z->raw_len + 1 - b->meta[r].raw),
					&interrupted);
				if (sent < 0)
					break;
				ok = sent > 0;
				r += k - 1;
				continue;
			}
		}
		if (exact && (inexact = inexact_column(c, row, b->ncols, why, sizeof why)) >= 0) {
			ok = false;
			break;
		}
		if (numbered && !put_number(&c->copy, r - first))
			ok = false;
		if (csv && !buf_append(&c->copy, b->meta[r].raw, b->meta[r].raw_len))
			ok = false;
		for (int col = 0; ok && !csv && col < b->ncols; col++) {
			if ((col && !buf_putc(&c->copy, '\t')) ||
			    !pg_copy_escape(&c->copy, row[col].ptr, row[col].len)) {
				ok = false;
				break;
			}
		}
		if (ok && !buf_putc(&c->copy, '\n'))
			ok = false;
		int flushed = ok ? flush_copy(c, &interrupted) : 1;
		ok = ok && flushed != 0;
		if (flushed <= 0)
			break;
	}
	return copy_end(c, ok, interrupted, inexact, why, exact, err);
}

/* COPY in CSV format counts the line ends inside quoted fields too, and
 * names the line a refused row ends on; until it has met the first line
 * end outside quotes (the end of the first row) it takes a line end for a
 * CR, after that for a LF (sluice sends LF). The row (from 1) of rows
 * [first, first+n) of b its line `line` falls in; 0 when none does. */
static long csv_row_of_line(const struct batch *b, size_t first, size_t n, long line)
{
	long at = 1;
	for (size_t r = 0; r < n; r++) {
		const struct row_meta *m = &b->meta[first + r];
		const char *p = m->raw, *end = m->raw + m->raw_len;
		int eol = r == 0 ? '\r' : '\n';
		long span = 1;
		while ((p = memchr(p, eol, (size_t)(end - p)))) {
			span++;
			p++;
		}
		if (line < at + span)
			return (long)r + 1;
		at += span;
	}
	return 0;
}

/* Whether COPY may carry values in its binary format. Test builds:
 * SLUICE_PG_BINARY=0 says no, so that the tests of the text paths run. */
static bool binary_wanted(void)
{
#ifdef SLUICE_TEST_HOOKS
	const char *v = getenv("SLUICE_PG_BINARY");
	if (v && !strcmp(v, "0"))
		return false;
#endif
	return true;
}

/* COPY rows [first, first+n) of b into spec's table in COPY's binary
 * format, the server reading no text, as far as every value of a row is
 * one pg_binary.c carries: *done the rows sent, and then held by the
 * server in the batch's transaction; none, and no statement, when the
 * first row is not. Each stretch of rows is tested for values the columns
 * would round before it goes, as copy_in does. */
static bool copy_binary(struct conn *c, const struct write_spec *spec, const struct batch *b,
			size_t first, size_t n, char *const *exact, size_t *done,
			struct sl_error *err)
{
	*done = 0;
	buf_reset(&c->copy);
	int got = pg_bin_header(&c->copy) ? pg_bin_row(&c->copy, c->bin_kinds, batch_row(b, first),
						       b->ncols, b->values_padded)
					  : -1;
	if (got <= 0) {
		buf_reset(&c->copy);
		return got == 0 || sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
	}
	buf_reset(&c->sql);
	if (!pg_copy_sql(&c->sql, spec) || !buf_puts(&c->sql, " (FORMAT binary)"))
		return sl_error_set(err, SL_ERR_USAGE, "bad table or column name");
	PGresult *res = pg_run_first(c, c->sql.data);
	if (PQresultStatus(res) != PGRES_COPY_IN) {
		pg_fail(c, res, "COPY failed", err);
		PQclear(res);
		return false;
	}
	PQclear(res);
	bool ok = true, interrupted = false;
	char why[300];
	int inexact = -1;
	size_t end = first + n, sent = 1, tested = first; /* rows encoded; tested up to */
	for (size_t i = first; i < end; i++) {
		if (i == tested) {
			size_t k = end - i < EXACT_STRETCH ? end - i : EXACT_STRETCH;
			if (exact && (inexact = first_inexact(c, b, i, k, why, sizeof why)) >= 0) {
				ok = false;
				break;
			}
			tested = i + k;
		}
		if (i > first) {
			got = pg_bin_row(&c->copy, c->bin_kinds, batch_row(b, i), b->ncols,
					 b->values_padded);
			ok = got >= 0;
			if (got <= 0)
				break; /* row i is not carried: it and the rest go as text */
			sent++;
		}
		int flushed = flush_copy(c, &interrupted);
		ok = flushed != 0;
		if (flushed <= 0)
			break;
	}
	if (ok && !pg_bin_trailer(&c->copy))
		ok = false;
	log_debug("COPY in binary format: %zu of the %zu rows", sent, n);
	*done = sent;
	return copy_end(c, ok, interrupted, inexact, why, exact, err);
}

/* COPY the rows into spec's table: in binary as far as their values go
 * (copy_binary); the rest as their CSV text when every one has it (the
 * server's CSV parser reads the values the reader found), else escaped
 * from their values. err->row: the row refused, from 1 at first. */
static bool write_copy(struct conn *c, const struct write_spec *spec, const struct batch *b,
		       size_t first, size_t n, struct sl_error *err)
{
	char *const *exact = c->nexact_cols ? spec->columns : NULL;
	size_t done = 0;
	if (c->bin_cols && b->ncols > 0 && binary_wanted()) {
		if (!copy_binary(c, spec, b, first, n, exact, &done, err))
			return false;
		if (done == n)
			return true;
		first += done;
		n -= done;
	}
	bool csv = batch_rows_csv(b, first, n);
	buf_reset(&c->sql);
	if (!(csv ? pg_copy_csv_sql(&c->sql, spec, b->csv_delim, b->csv_quote)
		  : pg_copy_sql(&c->sql, spec)))
		return sl_error_set(err, SL_ERR_USAGE, "bad table or column name");
	if (copy_in(c, c->sql.data, b, first, n, false, NULL, csv, exact, err))
		return true;
	if (csv && err->row > 0)
		err->row = csv_row_of_line(b, first, n, err->row);
	if (err->row > 0)
		err->row += (long)done;
	return false;
}

bool pg_takes_csv(const struct write_spec *spec)
{
	return spec->method == METHOD_COPY && sql_uses_bulk(spec);
}

/* A refused parameter of a multi-row INSERT is named by the server as
 * "CONTEXT:  unnamed portal parameter $N = '...'": the rows' values go in
 * row by row, ncols each, so $N is column (N - 1) % ncols; say its name. */
static void name_parameter(struct sl_error *err, int ncols, char *const *columns, int n)
{
	char *ctx = strstr(err->msg, "CONTEXT:  unnamed portal parameter $");
	if (!ctx)
		return;
	long k = strtol(ctx + 36, NULL, 10);
	if (k < 1 || !columns || n < ncols)
		return;
	const char *name = columns[(k - 1) % ncols];
	while (ctx > err->msg && ctx[-1] == ' ')
		ctx--; /* the space pg_fail left for the line break */
	snprintf(ctx, sizeof err->msg - (size_t)(ctx - err->msg), " (column %.200s)", name);
}

/* A delta met a NULL in the table: the batch is refused (bisected until
 * the record stands alone, then rejected with this reason). False. */
static bool null_add_error(struct sl_error *err)
{
	return sl_error_set(err, SL_ERR_DATA,
			    "an --add column is NULL in the table: NULL + delta stays NULL "
			    "(--add-null-as-zero counts it as 0)");
}

/* Whether spec's INSERT is an upsert that updates a row already there: its
 * conflict clause sets a column that is not part of the key. */
static bool upsert_updates(const struct write_spec *spec)
{
	return sql_upsert_sets(&pg_dialect, spec);
}

/* The INSERT of nrows rows into b; an upsert that updates returns whether
 * each row was inserted: a row version written by this INSERT has no xmax,
 * one that updated an existing row carries the row lock ON CONFLICT took. */
static bool insert_sql(struct buf *b, const struct write_spec *spec, size_t nrows)
{
	buf_reset(b);
	return sql_insert(&pg_dialect, b, spec, nrows) &&
	       (!upsert_updates(spec) || (buf_puts(b, " RETURNING (xmax = 0), ") &&
					  sql_null_adds(&pg_dialect, b, spec, "")));
}

/* Run one INSERT of nrows rows starting at row r, prepared when prepare;
 * adds the rows the server inserted or updated to out. */
static bool insert_rows(struct conn *c, const struct write_spec *spec, const struct batch *b,
			size_t r, size_t nrows, bool prepared, struct write_count *out,
			struct sl_error *err)
{
	size_t np = nrows * (size_t)b->ncols;
	if (np > c->nparams_cap) {
		const char **p = realloc(c->params, np * sizeof *p);
		if (!p)
			return sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
		c->params = p;
		c->nparams_cap = np;
	}
	const struct cell *cells = batch_row(b, r);
	for (size_t i = 0; i < np; i++)
		c->params[i] = cells[i].ptr; /* NUL-terminated by batch_add_row */
	PGresult *res;
	if (prepared) {
		res = pg_run_prepared(c, "sluice_ins", (int)np, c->params);
	} else {
		if (!insert_sql(&c->sql, spec, nrows))
			return sl_error_set(err, SL_ERR_USAGE, "bad table or column name");
		res = pg_run_params(c, c->sql.data, (int)np, c->params);
	}
	bool returning = upsert_updates(spec);
	bool ok = PQresultStatus(res) == (returning ? PGRES_TUPLES_OK : PGRES_COMMAND_OK);
	if (!ok) {
		pg_fail(c, res, "INSERT failed", err);
		name_parameter(err, b->ncols > 0 ? b->ncols : 1, spec->columns, spec->ncols);
	} else if (returning) {
		int n = PQntuples(res);
		out->written += (size_t)n;
		for (int i = 0; i < n; i++) {
			out->updated += PQgetvalue(res, i, 0)[0] != 't';
			if (sql_checks_null_adds(spec) && PQgetvalue(res, i, 1)[0] == 't')
				ok = null_add_error(err);
		}
	} else {
		out->written += (size_t)strtoull(PQcmdTuples(res), NULL, 10);
	}
	PQclear(res);
	return ok;
}

/* Prepare the full-size INSERT once per connection and table shape (not
 * through a pooler: see write_insert). */
static bool ensure_prepared(struct conn *c, const struct write_spec *spec, size_t rows,
			    struct sl_error *err)
{
	if (!insert_sql(&c->sql, spec, rows))
		return sl_error_set(err, SL_ERR_USAGE, "bad table or column name");
	if (c->prepared_text && !strcmp(c->prepared_text, c->sql.data))
		return true;
	if (c->prepared_text) {
		PGresult *res = pg_run(c, "DEALLOCATE sluice_ins");
		PQclear(res);
		free(c->prepared_text);
		c->prepared_text = NULL;
	}
	PGresult *res = pg_run_prepare(c, "sluice_ins", c->sql.data);
	bool ok = PQresultStatus(res) == PGRES_COMMAND_OK;
	if (!ok)
		pg_fail(c, res, "preparing INSERT", err);
	PQclear(res);
	if (ok)
		c->prepared_text = strdup(c->sql.data);
	return ok;
}

/* Full-size statements go through the prepared "sluice_ins", the others
 * (and every one through a pooler) as unnamed statements, parsed each time.
 * A named statement lives in a server session, and behind a transaction
 * pooler the next transaction may run on another: ours would be missing
 * there, and another client's "sluice_ins" in the way. */
static bool write_insert(struct conn *c, const struct write_spec *spec, const struct batch *b,
			 size_t first, size_t n, struct write_count *out, struct sl_error *err)
{
	size_t per = sql_rows_per_statement(&pg_dialect, b->ncols, spec->batch_rows);
	size_t r = first, end = first + n;
	while (r < end) {
		size_t k = end - r < per ? end - r : per;
		bool prep = k == per && !c->pooled;
		if (prep && !ensure_prepared(c, spec, per, err))
			return false;
		if (!insert_rows(c, spec, b, r, k, prep, out, err))
			return false;
		r += k;
	}
	return true;
}

static bool ensure_types(struct conn *c, const struct write_spec *spec, struct sl_error *err);
static bool server_changed_rows(struct conn *c, const struct write_spec *spec,
				const struct batch *b, size_t first, size_t n, char **refused,
				size_t *bad, char *why, size_t whysz, struct sl_error *err);

/* False with a data error naming the first row of [first, first+n) whose
 * value the server says its column would change (err->row: the rows
 * before it are written, it is refused), or a broken connection. */
static bool server_keeps_rows(struct conn *c, const struct write_spec *spec, const struct batch *b,
			      size_t first, size_t n, struct sl_error *err)
{
	size_t bad;
	char why[400];
	if (!c->nserver_cols)
		return true;
	if (!server_changed_rows(c, spec, b, first, n, NULL, &bad, why, sizeof why, err))
		return false;
	if (bad == SIZE_MAX)
		return true;
	sl_error_set(err, SL_ERR_DATA, "%s", why);
	err->row = (long)bad + 1;
	return false;
}

bool pg_write_batch(struct conn *c, const struct write_spec *spec, const struct batch *b,
		    size_t first, size_t n, struct write_count *out, struct sl_error *err)
{
	*out = (struct write_count){0};
	if (n == 0)
		return true;
	if (!ensure_types(c, spec, err))
		return false;
	if (!server_keeps_rows(c, spec, b, first, n, err))
		return false;
	if (!sql_uses_bulk(spec)) {
		char why[300];
		int col = first_inexact(c, b, first, n, why, sizeof why);
		if (col >= 0)
			return sl_error_set(err, SL_ERR_DATA, "column \"%s\": %s",
					    spec->columns[col], why);
		return write_insert(c, spec, b, first, n, out, err);
	}
	/* COPY tests each stretch of rows as it sends them (copy_in) */
	if (!write_copy(c, spec, b, first, n, err))
		return false;
	out->written = n;
	return true;
}

/* The first column of row whose value the column would round (its rule in
 * c->exact), with why; -1 when none. */
static int inexact_column(const struct conn *c, const struct cell *row, int ncols, char *why,
			  size_t whysz)
{
	/* only the columns with a rule: the others' cells are not touched */
	for (int k = 0; k < c->nexact_cols; k++) {
		int col = c->exact_cols[k];
		if (col < ncols && row[col].ptr &&
		    !convert_surely_exact(c->exact[col], row[col].ptr, row[col].len) &&
		    !convert_is_exact(c->exact[col], row[col].ptr, row[col].len, why, whysz))
			return col;
	}
	return -1;
}

/* The column of the first row of [first, first+n) whose value its column
 * would round, with why (the first such column of that row, as
 * inexact_column); -1 when none. Column by column, the quick test's rule
 * fixed for each run over the rows: this runs on every row of a load. */
static int first_inexact(const struct conn *c, const struct batch *b, size_t first, size_t n,
			 char *why, size_t whysz)
{
	size_t end = first + n; /* the first row found so far, or end */
	/* the reader ran the quick tests of the same rules on every value and
	 * none failed: no value needs a look */
	if (b->exact_rules && !b->exact_doubt && c->ntypes == b->ncols &&
	    !memcmp(b->exact_rules, c->exact, (size_t)b->ncols * sizeof *c->exact))
		return -1;
	for (int k = 0; k < c->nexact_cols; k++) {
		int col = c->exact_cols[k], rule = c->exact[col];
		if (col >= b->ncols)
			continue;
		size_t arg;
		enum convert_quick q = convert_quick_for(rule, &arg);
		for (size_t r = first; r < end; r++) {
			const struct cell *v = &batch_row(b, r)[col];
			if (!v->ptr)
				continue;
			/* the quick test, picked once for the column */
			char w[300];
			if (!convert_quick_keeps(q, arg, v->ptr, v->len) &&
			    !convert_is_exact(rule, v->ptr, v->len, w, sizeof w)) {
				end = r; /* an earlier column of row r comes first */
				break;
			}
		}
	}
	return end < first + n ? inexact_column(c, batch_row(b, end), b->ncols, why, whysz) : -1;
}

/* A malloc'd printf, NULL on out of memory. */
static char *pg_printf_alloc(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *pg_printf_alloc(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *s = NULL;
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	return s;
}

/* Whether values of type t (a column's value type) are changed by its
 * modifier in ways no rule of convert.h tells: an interval with a
 * precision or fields, or an array of one. */
static bool server_checked(const char *t)
{
	return !strncmp(t, "interval", 8) && strcmp(t, "interval") && strcmp(t, "interval[]");
}

/* Append s (n bytes) to o as an element of an array literal. */
static bool put_array_element(struct buf *o, const char *s, size_t n)
{
	if (!buf_putc(o, '"'))
		return false;
	for (size_t i = 0; i < n; i++)
		if (((s[i] == '"' || s[i] == '\\') && !buf_putc(o, '\\')) || !buf_putc(o, s[i]))
			return false;
	return buf_putc(o, '"');
}

/* What server_changed_rows is asking about: column col (type t) of
 * rows[] of b, and where the answers go. */
struct server_ask {
	struct conn *c;
	const struct write_spec *spec;
	const struct batch *b;
	size_t first;
	int col;
	const char *t;
	const size_t *rows;
	char **refused;
	size_t *bad;
	char *why;
	size_t whysz;
	struct buf arr, q;
};

/* Ask the server about the values of rows[lo, hi): in one query, in a
 * savepoint; a value the type cannot read fails the query, and the
 * halves are asked apart until that value is alone (the write refuses
 * it), so it hides no other. False: the connection failed. */
static bool server_ask_range(struct server_ask *a, size_t lo, size_t hi, struct sl_error *err)
{
	struct conn *c = a->c;
	buf_reset(&a->arr);
	bool ok = buf_putc(&a->arr, '{');
	for (size_t i = lo; ok && i < hi; i++) {
		const struct cell *v = &batch_row(a->b, a->rows[i])[a->col];
		ok = (i == lo || buf_putc(&a->arr, ',')) &&
		     put_array_element(&a->arr, v->ptr, v->len);
	}
	if (!ok || !buf_putc(&a->arr, '}'))
		return sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
	bool in_tx = pg_in_transaction(c);
	if (in_tx && !pg_exec(c, "SAVEPOINT sluice_check", err))
		return false;
	const char *params[1] = {a->arr.data};
	PGresult *res = pg_run_params(c, a->q.data, 1, params);
	bool told = PQresultStatus(res) == PGRES_TUPLES_OK;
	for (int i = 0; told && ok && i < PQntuples(res); i++) {
		size_t at = (size_t)strtoull(PQgetvalue(res, i, 0), NULL, 10);
		if (at < 1 || at > hi - lo)
			continue;
		size_t r = a->rows[lo + at - 1];
		const struct cell *v = &batch_row(a->b, r)[a->col];
		char reason[300];
		snprintf(reason, sizeof reason, "'%.*s' would be stored as '%.60s' by %s",
			 (int)(v->len < 60 ? v->len : 60), v->ptr, PQgetvalue(res, i, 1), a->t);
		if (a->refused && !a->refused[r - a->first]) {
			a->refused[r - a->first] = pg_printf_alloc(
				"column \"%s\": %s", a->spec->columns[a->col], reason);
			if (!a->refused[r - a->first])
				ok = sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
		} else if (!a->refused && r - a->first < *a->bad) {
			*a->bad = r - a->first;
			snprintf(a->why, a->whysz, "column \"%s\": %s", a->spec->columns[a->col],
				 reason);
		}
	}
	PQclear(res);
	if (in_tx &&
	    !pg_exec(c,
		     told ? "RELEASE SAVEPOINT sluice_check" : "ROLLBACK TO SAVEPOINT sluice_check",
		     err))
		return false;
	if (!ok || told || hi - lo < 2)
		return ok;
	size_t mid = lo + (hi - lo) / 2;
	return server_ask_range(a, lo, mid, err) && server_ask_range(a, mid, hi, err);
}

/* Rows of [first, first+n) whose value of a server-checked column
 * (c->server_types) the column's modifier would change: the server reads
 * each value as the type without the modifier and with it, and compares
 * their texts (interval(2) keeps '1.234 s' as 00:00:01.23, interval year
 * to month drops days). With refused, every such row not refused yet gets
 * its reason there; without, *bad is the first such row (from 0) and why
 * its reason with the column, else SIZE_MAX. False: the connection
 * failed. */
static bool server_changed_rows(struct conn *c, const struct write_spec *spec,
				const struct batch *b, size_t first, size_t n, char **refused,
				size_t *bad, char *why, size_t whysz, struct sl_error *err)
{
	*bad = SIZE_MAX;
	if (!c->nserver_cols)
		return true;
	size_t *rows = malloc((n ? n : 1) * sizeof *rows);
	struct server_ask a = {.c = c,
			       .spec = spec,
			       .b = b,
			       .first = first,
			       .rows = rows,
			       .refused = refused,
			       .bad = bad,
			       .why = why,
			       .whysz = whysz};
	buf_init(&a.arr, 0);
	buf_init(&a.q, 0);
	bool ok = rows != NULL;
	if (!ok)
		sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
	for (int col = 0; ok && col < b->ncols && col < c->ntypes; col++) {
		const char *t = c->server_types[col];
		if (!t)
			continue;
		size_t k = 0;
		for (size_t r = first; r < first + n; r++) {
			const struct cell *v = &batch_row(b, r)[col];
			if (v->ptr && !cell_is_default(v) && !(refused && refused[r - first]))
				rows[k++] = r;
		}
		if (!k)
			continue;
		bool is_array = strlen(t) > 2 && !strcmp(t + strlen(t) - 2, "[]");
		buf_reset(&a.q);
		if (!buf_printf(&a.q,
				"SELECT i, v::%s::text FROM unnest($1::text[]) WITH ORDINALITY "
				"AS u(v, i) WHERE v::%s::text IS DISTINCT FROM v::%s::text "
				"ORDER BY i",
				t, is_array ? "interval[]" : "interval", t)) {
			ok = sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
			break;
		}
		a.col = col;
		a.t = t;
		ok = server_ask_range(&a, 0, k, err);
	}
	free(rows);
	buf_free(&a.arr);
	buf_free(&a.q);
	return ok;
}

/* Look up (once per table) the types of spec's columns: for the casts of
 * an update, and for what each would round. */
static bool ensure_types(struct conn *c, const struct write_spec *spec, struct sl_error *err)
{
	struct buf key;
	buf_init(&key, 0);
	bool named = sql_table_name(&pg_dialect, &key, spec);
	for (int i = 0; i < spec->ncols; i++) {
		buf_catc(&key, '\x1f');
		buf_cat(&key, spec->columns[i]);
	}
	if (!named || buf_failed(&key) || !key.data) {
		buf_free(&key);
		return named ? sl_error_set(err, SL_ERR_INTERNAL, "out of memory")
			     : sl_error_set(err, SL_ERR_USAGE, "bad table name");
	}
	if (c->types_key && !strcmp(c->types_key, key.data)) {
		buf_free(&key);
		return true;
	}
	struct table_desc td;
	if (!pg_describe_table(c, spec, &td, err)) {
		buf_free(&key);
		return false;
	}
	for (int i = 0; i < c->ntypes; i++) {
		free(c->types[i]);
		free(c->full_types[i]);
		free(c->server_types[i]);
	}
	free(c->types);
	free(c->full_types);
	free(c->server_types);
	free(c->types_key);
	c->types_key = NULL;
	c->types = calloc((size_t)(spec->ncols ? spec->ncols : 1), sizeof *c->types);
	c->full_types = calloc((size_t)(spec->ncols ? spec->ncols : 1), sizeof *c->full_types);
	c->server_types = calloc((size_t)(spec->ncols ? spec->ncols : 1), sizeof *c->server_types);
	c->nserver_cols = 0;
	free(c->exact);
	c->exact = calloc((size_t)(spec->ncols ? spec->ncols : 1), sizeof *c->exact);
	free(c->exact_cols);
	c->exact_cols = calloc((size_t)(spec->ncols ? spec->ncols : 1), sizeof *c->exact_cols);
	c->nexact_cols = 0;
	free(c->bin_kinds);
	c->bin_kinds = calloc((size_t)(spec->ncols ? spec->ncols : 1), sizeof *c->bin_kinds);
	c->bin_cols = c->bin_kinds != NULL;
	c->ntypes = 0;
	bool ok = c->types != NULL && c->full_types != NULL && c->server_types != NULL &&
		  c->exact != NULL && c->exact_cols != NULL && c->bin_kinds != NULL && td.exists;
	if (!td.exists)
		sl_error_set(err, SL_ERR_USAGE, "table %s does not exist", key.data);
	for (int i = 0; ok && i < spec->ncols; i++) {
		int j = 0;
		while (j < td.ncols && strcmp(td.cols[j].name, spec->columns[i]))
			j++;
		if (j == td.ncols) {
			ok = false;
			sl_error_set(err, SL_ERR_USAGE, "column \"%s\" is not in the table",
				     spec->columns[i]);
			break;
		}
		/* the casts of an update: to the type without its modifier, so
		 * assigning to the column checks it (a too-long value is an
		 * error, never cut as an explicit cast to varchar(n) would) */
		c->types[i] = strdup(td.cols[j].base_type);
		c->full_types[i] = strdup(td.cols[j].type ? td.cols[j].type : td.cols[j].base_type);
		c->exact[i] = convert_exact_rule_for_pg(column_value_type(&td.cols[j]));
		if (c->exact[i] != CONVERT_EXACT_ANY)
			c->exact_cols[c->nexact_cols++] = i;
		/* a built-in type's own name: no domain or enum, whose input
		 * function or checks are not the type's */
		c->bin_kinds[i] = td.cols[j].udt ? PG_BIN_NONE : pg_bin_kind_of(td.cols[j].type);
		c->bin_cols &= c->bin_kinds[i] != PG_BIN_NONE;
		if (server_checked(column_value_type(&td.cols[j]))) {
			c->server_types[i] = strdup(column_value_type(&td.cols[j]));
			ok = c->server_types[i] != NULL;
			c->nserver_cols++;
		}
		c->ntypes = i + 1;
		if (!c->types[i] || !c->full_types[i]) {
			ok = false;
			sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
		}
	}
	/* a unique index within the key: each record finds its row through it */
	c->key_indexed = false;
	for (int u = 0; ok && u < td.nunique && !c->key_indexed; u++) {
		bool all = td.unique[u].ncols > 0;
		for (int k = 0; all && k < td.unique[u].ncols; k++) {
			bool in = false;
			for (int q = 0; q < spec->nkey; q++)
				in |= !strcmp(td.unique[u].cols[k], spec->key[q]);
			all = in;
		}
		c->key_indexed = all;
	}
	table_desc_free(&td);
	if (ok)
		c->types_key = strdup(key.data);
	buf_free(&key);
	return ok;
}

/* Rows [first, first+n) one by one, in one round trip: COPY them into a
 * temporary table of text columns, then a DO block inserts each in its own
 * subtransaction, casting each value to its column's type without the
 * modifier (the column then checks that, as COPY would), and records the
 * message of each row refused. A batch with many bad rows costs one
 * round trip instead of a bisection per bad row. */
bool pg_write_each(struct conn *c, const struct write_spec *spec, const struct batch *b,
		   size_t first, size_t n, char **refused, size_t *written, struct sl_error *err)
{
	*written = 0;
	if (!ensure_types(c, spec, err))
		return false;
	/* a value the column would round is refused here, not left to the
	 * server, which would round it */
	for (size_t r = 0; c->nexact_cols && r < n; r++) {
		char why[300];
		int col = inexact_column(c, batch_row(b, first + r), b->ncols, why, sizeof why);
		if (col >= 0 &&
		    !(refused[r] = pg_printf_alloc("column \"%s\": %s", spec->columns[col], why)))
			return sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
	}
	size_t none;
	if (!server_changed_rows(c, spec, b, first, n, refused, &none, NULL, 0, err))
		return false;
	struct buf q, body;
	buf_init(&q, 0);
	buf_init(&body, 0);
	bool ok = buf_puts(
		&q, "DROP TABLE IF EXISTS pg_temp.\"sluice#each\", pg_temp.\"sluice#refused\"; "
		    "CREATE TEMP TABLE \"sluice#each\" (n int");
	for (int i = 0; ok && i < spec->ncols; i++)
		ok = buf_printf(&q, ", c%d text", i + 1);
	ok = ok &&
	     buf_puts(&q, ") ON COMMIT DROP; CREATE TEMP TABLE \"sluice#refused\" (n int, msg "
			  "text) ON COMMIT DROP");
	if (!ok) {
		buf_free(&q);
		return sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
	}
	if (!pg_exec(c, q.data, err) || !copy_in(c, "COPY pg_temp.\"sluice#each\" FROM STDIN", b,
						 first, n, true, refused, false, NULL, err)) {
		buf_free(&q);
		return false;
	}
	ok = buf_puts(&body,
		      " DECLARE r record; sluice_m text; sluice_col text; BEGIN FOR r IN SELECT * "
		      "FROM pg_temp.\"sluice#each\" ORDER BY n LOOP BEGIN INSERT INTO ") &&
	     sql_table_name(&pg_dialect, &body, spec) && buf_puts(&body, " (");
	for (int i = 0; ok && i < spec->ncols; i++)
		ok = (!i || buf_puts(&body, ", ")) &&
		     pg_dialect.quote_ident(&body, spec->columns[i]);
	ok = ok && buf_puts(&body, ") VALUES (");
	for (int i = 0; ok && i < spec->ncols; i++)
		ok = buf_printf(&body, "%sr.c%d::%s", i ? ", " : "", i + 1, c->types[i]);
	ok = ok && buf_puts(&body, "); EXCEPTION WHEN OTHERS THEN IF ") &&
	     pg_every_row_condition(&body) &&
	     buf_puts(&body, " THEN RAISE; END IF; sluice_m := SQLERRM; sluice_col := NULL;");
	/* the reason names the column whose value does not convert or fit,
	 * as the multi-row INSERT's does (name_parameter): the first that
	 * fails. The value initializes a variable of the column's type with
	 * its modifier, in a block of its own: that checks what assigning it
	 * to the column does (length, precision, a domain's constraints, its
	 * NOT NULL too), where a cast to the type would cut a long text */
	for (int i = 0; ok && i < spec->ncols; i++)
		ok = buf_printf(
			     &body,
			     " IF sluice_col IS NULL THEN BEGIN DECLARE sluice_v %s := r.c%d::%s; "
			     "BEGIN NULL; END; EXCEPTION WHEN OTHERS THEN sluice_col := ",
			     c->full_types[i], i + 1, c->types[i]) &&
		     pg_dialect.quote_literal(&body, spec->columns[i]) &&
		     buf_puts(&body, "; END; END IF;");
	ok = ok && buf_puts(&body, " INSERT INTO pg_temp.\"sluice#refused\" VALUES (r.n, sluice_m "
				   "|| coalesce(' (column ' || sluice_col || ')', '')); END; END "
				   "LOOP; END ");
	/* a dollar quote no name in the body can close */
	char tag[32] = "$sluice$";
	for (int k = 1; ok && strstr(body.data, tag); k++)
		snprintf(tag, sizeof tag, "$sluice%d$", k);
	buf_reset(&q);
	ok = ok && buf_printf(&q, "DO %s%s%s", tag, body.data, tag);
	buf_free(&body);
	if (!ok) {
		buf_free(&q);
		return sl_error_set(err, SL_ERR_USAGE, "bad table or column name");
	}
	ok = pg_exec(c, q.data, err);
	buf_free(&q);
	PGresult *res;
	if (!ok || !pg_query_rows(c, "SELECT n, msg FROM pg_temp.\"sluice#refused\" ORDER BY n", 0,
				  NULL, "reading the refused rows", &res, err))
		return false;
	for (int i = 0; i < PQntuples(res); i++) {
		size_t r = (size_t)strtoull(PQgetvalue(res, i, 0), NULL, 10);
		if (r >= n || refused[r])
			continue;
		struct buf m;
		buf_init(&m, 0);
		if (!buf_printf(&m, "INSERT failed: ERROR:  %s", PQgetvalue(res, i, 1))) {
			buf_free(&m);
			PQclear(res);
			return sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
		}
		refused[r] = m.data;
	}
	PQclear(res);
	/* the rows neither refused here for rounding nor by the server */
	size_t nref = 0;
	for (size_t r = 0; r < n; r++)
		nref += refused[r] != NULL;
	*written = n - nref;
	return true;
}

/* One UPDATE ... FROM (VALUES ...) for nrows rows starting at r. */
static bool update_rows(struct conn *c, const struct write_spec *spec, const struct batch *b,
			size_t r, size_t nrows, unsigned *matched, struct sl_error *err)
{
	int set[SQL_MAX_COLUMNS], key[SQL_MAX_COLUMNS], nset, nkey;
	if (!sql_update_columns(spec, set, &nset, key, &nkey))
		return sl_error_set(err, SL_ERR_USAGE,
				    "--key or --set names a column the input lacks");
	int per = nset + nkey + 1;
	size_t np = nrows * (size_t)per;
	if (np > c->nparams_cap) {
		const char **p = realloc(c->params, np * sizeof *p);
		if (!p)
			return sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
		c->params = p;
		c->nparams_cap = np;
	}
	char(*ords)[24] = malloc(nrows * sizeof *ords);
	if (!ords)
		return sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
	size_t k = 0;
	for (size_t i = 0; i < nrows; i++) {
		const struct cell *row = batch_row(b, r + i);
		for (int s = 0; s < nset; s++)
			c->params[k++] = row[set[s]].ptr;
		for (int s = 0; s < nkey; s++)
			c->params[k++] = row[key[s]].ptr;
		snprintf(ords[i], sizeof ords[i], "%zu", i);
		c->params[k++] = ords[i];
	}
	buf_reset(&c->sql);
	if (!pg_update_sql(&c->sql, spec, c->types, nrows)) {
		free(ords);
		return sl_error_set(err, SL_ERR_USAGE, "bad update: no columns to set or no key");
	}
	if (c->key_indexed) {
		/* a batch is a small share of the table: look each row up by the
		 * key's index rather than scan the whole table to hash it, which
		 * the planner would pick for every batch of a big table */
		PQclear(pg_run(
			c, "SET LOCAL enable_hashjoin = off; SET LOCAL enable_mergejoin = off"));
	}
	PGresult *res = pg_run_params(c, c->sql.data, (int)np, c->params);
	free(ords);
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		pg_fail(c, res, "UPDATE failed", err);
		PQclear(res);
		return false;
	}
	bool ok = true;
	for (int t = 0; t < PQntuples(res); t++) {
		long i = strtol(PQgetvalue(res, t, 0), NULL, 10);
		if (i >= 0 && (size_t)i < nrows)
			matched[i]++; /* one per target row the key matched */
		if (sql_checks_null_adds(spec) && PQgetvalue(res, t, 1)[0] == 't')
			ok = null_add_error(err);
	}
	PQclear(res);
	return ok;
}

/* sluice delete of rows [first, first+n) the staging way: the keys COPYed
 * into a temporary table dropped at COMMIT, then one DELETE ... USING it
 * returning the staged row of each row deleted. No key is staged twice
 * (write_rows goes in rounds), so a key not returned matched nothing. */
static bool delete_staged(struct conn *c, const struct write_spec *spec, const struct batch *b,
			  size_t first, size_t n, unsigned *matched, struct sl_error *err)
{
	buf_reset(&c->sql);
	if (!pg_keys_stage_sql(&c->sql, b->ncols))
		return sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
	if (!pg_exec(c, c->sql.data, err) || !copy_in(c, "COPY pg_temp.\"sluice#keys\" FROM STDIN",
						      b, first, n, true, NULL, false, NULL, err))
		return false;
	buf_reset(&c->sql);
	if (!pg_delete_staged_sql(&c->sql, spec, c->types))
		return sl_error_set(err, SL_ERR_USAGE, "bad delete: no key");
	if (c->key_indexed) /* as in update_rows: by the key's index, no scan */
		PQclear(pg_run(
			c, "SET LOCAL enable_hashjoin = off; SET LOCAL enable_mergejoin = off"));
	PGresult *res;
	if (!pg_query_rows(c, c->sql.data, 0, NULL,
			   spec->soft_col ? "UPDATE failed" : "DELETE failed", &res, err))
		return false;
	memset(matched, 0, n * sizeof *matched);
	for (int t = 0; t < PQntuples(res); t++) {
		size_t i = (size_t)strtoull(PQgetvalue(res, t, 0), NULL, 10);
		if (i < n)
			matched[i]++; /* one per row the key matched */
	}
	PQclear(res);
	return true;
}

bool pg_update_batch(struct conn *c, const struct write_spec *spec, const struct batch *b,
		     size_t first, size_t n, unsigned *matched, struct sl_error *err)
{
	if (!ensure_types(c, spec, err))
		return false;
	/* what a column would round is refused here too: a value set, and a
	 * key, which would find the row of the rounded value */
	for (size_t r = first; c->nexact_cols && r < first + n; r++) {
		char why[300];
		int col = inexact_column(c, batch_row(b, r), b->ncols, why, sizeof why);
		if (col >= 0)
			return sl_error_set(err, SL_ERR_DATA, "column \"%s\": %s",
					    spec->columns[col], why);
	}
	if (!server_keeps_rows(c, spec, b, first, n, err))
		return false;
	if (spec->del)
		return delete_staged(c, spec, b, first, n, matched, err);
	int set[SQL_MAX_COLUMNS], key[SQL_MAX_COLUMNS], nset, nkey;
	if (!sql_update_columns(spec, set, &nset, key, &nkey))
		return sl_error_set(err, SL_ERR_USAGE,
				    "--key or --set names a column the input lacks");
	size_t per = sql_rows_per_statement(&pg_dialect, nset + nkey + 1, spec->batch_rows);
	for (size_t r = 0; r < n; r += per) {
		size_t k = n - r < per ? n - r : per;
		if (!update_rows(c, spec, b, first + r, k, matched + r, err))
			return false;
	}
	return true;
}

/* --parent-key generated: the n ids come from the key column's sequence in
 * one round trip, inside the caller's transaction (a rolled-back batch
 * leaves a gap in the sequence, as any rolled-back insert does), and the
 * rows go in with them by the usual path, COPY included. */
bool pg_write_generated(struct conn *c, const struct write_spec *spec, const struct batch *b,
			size_t first, size_t n, int key, char (*ids)[SQL_ID_BYTES],
			struct write_count *out, struct sl_error *err)
{
	*out = (struct write_count){0};
	if (n == 0)
		return true;
	struct buf sql, table;
	buf_init(&sql, 0);
	buf_init(&table, 0);
	char count[24];
	snprintf(count, sizeof count, "%zu", n);
	bool ok = sql_take_ids(&pg_dialect, &sql) && sql_table_name(&pg_dialect, &table, spec);
	if (!ok) {
		buf_free(&sql);
		buf_free(&table);
		return sl_error_set(err, SL_ERR_USAGE, "bad table or column name");
	}
	const char *params[3] = {buf_str(&table), spec->columns[key], count};
	PGresult *res = pg_run_params(c, buf_str(&sql), 3, params);
	if (PQresultStatus(res) != PGRES_TUPLES_OK || (size_t)PQntuples(res) != n) {
		ok = false;
		pg_fail(c, res, "taking ids from the sequence", err);
		if (err->kind == SL_ERR_DATA)
			err->kind = SL_ERR_SERVER; /* no row's fault */
	}
	for (size_t i = 0; ok && i < n; i++) {
		if (PQgetisnull(res, (int)i, 0)) {
			ok = sl_error_set(err, SL_ERR_USAGE,
					  "--parent-key generated: column %s of %s has no sequence "
					  "(make it serial, bigserial or GENERATED BY DEFAULT AS "
					  "IDENTITY)",
					  spec->columns[key], spec->table);
			break;
		}
		snprintf(ids[i], SQL_ID_BYTES, "%s", PQgetvalue(res, (int)i, 0));
	}
	PQclear(res);
	buf_free(&sql);
	buf_free(&table);
	if (!ok)
		return false;
	/* the rows with their ids, in a view of b */
	struct batch view = {.ncols = b->ncols, .seq = b->seq, .cap_rows = n, .nrows = n};
	view.cells = malloc(n * (size_t)b->ncols * sizeof *view.cells);
	view.meta = malloc(n * sizeof *view.meta);
	if (!view.cells || !view.meta) {
		free(view.cells);
		free(view.meta);
		return sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
	}
	memcpy(view.cells, batch_row(b, first), n * (size_t)b->ncols * sizeof *view.cells);
	memcpy(view.meta, b->meta + first, n * sizeof *view.meta);
	for (size_t i = 0; i < n; i++)
		view.cells[i * (size_t)b->ncols + (size_t)key] =
			(struct cell){ids[i], strlen(ids[i])};
	ok = pg_write_batch(c, spec, &view, 0, n, out, err);
	free(view.cells);
	free(view.meta);
	return ok;
}
