/* src/db/pg_read.c
 * PostgreSQL reads for copy and verify: snapshots, and rows by COPY TO STDOUT.
 */
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sluice/pg_internal.h"
#include "sluice/signals.h"

/* One text form for every value read: UTC, ISO dates, hex bytea, exact
 * floats. For the snapshot's transaction only, sent with its BEGIN: behind a
 * transaction pooler a session SET would stay on a server session other
 * clients get next, and miss the one the transaction runs on. */
#define READ_SETTINGS                                                                              \
	"SET LOCAL TimeZone = 'UTC'; SET LOCAL DateStyle = 'ISO, YMD'; SET LOCAL IntervalStyle = " \
	"'postgres'; SET LOCAL bytea_output = 'hex'; SET LOCAL extra_float_digits = 3"

/* How long a reader joining a copy's snapshot through a transaction pooler
 * waits for a server session of the pool (or --timeout, when shorter). */
#define POOL_WAIT_SECONDS 30.0

bool pg_snapshot(struct conn *c, struct sl_error *err)
{
	return pg_exec(c, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; " READ_SETTINGS, err);
}

bool pg_snapshot_end(struct conn *c, struct sl_error *err)
{
	return pg_exec(c, "ROLLBACK", err);
}

bool pg_export_snapshot(struct conn *c, char *id, size_t n, struct sl_error *err)
{
	PGresult *res;
	if (!pg_query_rows(c, "SELECT pg_export_snapshot()", 0, NULL, "exporting the snapshot",
			   &res, err))
		return false;
	snprintf(id, n, "%s", PQntuples(res) ? PQgetvalue(res, 0, 0) : "");
	PQclear(res);
	return true;
}

/* The importing transaction, and the exporting one it needs open, each hold
 * a server session for as long as they last: behind a transaction pooler a
 * copy with N readers holds N + 1 of the pool (the exporter's id is valid
 * on any session of the server). A reader that finds none free would wait
 * for the whole copy's readers to finish, that is for ever: it gives up
 * after POOL_WAIT_SECONDS, before anything is written. */
bool pg_snapshot_at(struct conn *c, const char *id, struct sl_error *err)
{
	/* SET TRANSACTION SNAPSHOT takes a literal only, and must come first in
	 * the transaction; the id is the server's own text (hex digits and
	 * dashes), checked before use */
	for (const char *p = id; *p; p++)
		if (!(*p >= '0' && *p <= '9') && !(*p >= 'A' && *p <= 'F') && *p != '-')
			return sl_error_set(err, SL_ERR_INTERNAL, "odd snapshot id %s", id);
	char sql[512];
	snprintf(
		sql, sizeof sql,
		"BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; SET TRANSACTION SNAPSHOT '%s'; " READ_SETTINGS,
		id);
	double timeout = c->timeout;
	if (c->pooled && !(timeout > 0 && timeout < POOL_WAIT_SECONDS))
		c->timeout = POOL_WAIT_SECONDS;
	bool ok = pg_exec(c, sql, err);
	double waited = c->timeout;
	c->timeout = timeout;
	if (!ok && c->pooled && c->stalled)
		return sl_error_set(
			err, SL_ERR_SERVER,
			"%s: no server connection of the pool came free in %g s for a reader of "
			"the copy's snapshot: through a transaction pooler the exported snapshot "
			"and each reader hold one for the whole copy (--workers N: N + 1 of the "
			"pool); use fewer --workers or a larger pool_size",
			c->redacted, waited);
	return ok;
}

/* A COPY ... TO STDOUT in text format, decoded row by row. */
struct read_stream {
	struct conn *c;
	struct buf row; /* the decoded values of the current row, NUL after each */
	struct cell *cells;
	size_t *offs;
	int ncols, cap;
	bool done;
};

bool pg_open_read(struct conn *c, const struct write_spec *spec, const char *query,
		  const struct read_range *range, struct read_stream **out, struct sl_error *err)
{
	buf_reset(&c->sql);
	bool ok = buf_puts(&c->sql, "COPY (") &&
		  (query ? buf_puts(&c->sql, query)
			 : sql_select(&pg_dialect, &c->sql, spec, range, NULL));
	if (!ok || !buf_puts(&c->sql, ") TO STDOUT"))
		return sl_error_set(err, SL_ERR_USAGE, "bad table or column name");
	PGresult *res = pg_run(c, c->sql.data);
	if (PQresultStatus(res) != PGRES_COPY_OUT) {
		pg_fail(c, res, "reading the table", err);
		PQclear(res);
		return false;
	}
	PQclear(res);
	struct read_stream *s = calloc(1, sizeof *s);
	if (!s)
		return sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
	s->c = c;
	buf_init(&s->row, 0);
	*out = s;
	return true;
}

/* The byte a COPY text escape \ch stands for. */
static char copy_unescape(char ch)
{
	switch (ch) {
	case 'b':
		return '\b';
	case 'f':
		return '\f';
	case 'n':
		return '\n';
	case 'r':
		return '\r';
	case 't':
		return '\t';
	case 'v':
		return '\v';
	default:
		return ch;
	}
}

int pg_read_row(struct read_stream *s, struct cell **cells, int *ncols, unsigned long long *bytes,
		struct sl_error *err)
{
	if (s->done)
		return 0;
	char *line = NULL;
	int n = pg_get_copy(s->c, &line);
	if (n == -1) {
		s->done = true;
		PGresult *res;
		bool ok = true;
		while ((res = pg_result(s->c)) != NULL) {
			if (ok && PQresultStatus(res) != PGRES_COMMAND_OK)
				ok = pg_fail(s->c, res, "reading the table", err);
			PQclear(res);
		}
		if (ok && s->c->stalled)
			ok = pg_fail(s->c, NULL, "reading the table", err);
		return ok ? 0 : -1;
	}
	if (n < 0)
		return pg_fail(s->c, NULL, "reading the table", err), -1;
	*bytes += (unsigned long long)n;
	buf_reset(&s->row);
	if (!buf_reserve(&s->row, (size_t)n + 1)) {
		PQfreemem(line);
		return sl_error_set(err, SL_ERR_INTERNAL, "out of memory"), -1;
	}
	/* decode fields: \N alone is NULL; other escapes are single bytes */
	int nf = 0;
	char *o = s->row.data;
	const char *p = line, *end = line + n;
	if (end > p && end[-1] == '\n')
		end--;
	for (;;) {
		if (nf == s->cap) {
			int cap = s->cap ? s->cap * 2 : 16;
			struct cell *nc = realloc(s->cells, (size_t)cap * sizeof *nc);
			size_t *no = nc ? realloc(s->offs, (size_t)cap * sizeof *no) : NULL;
			if (nc)
				s->cells = nc;
			if (!no) {
				PQfreemem(line);
				return sl_error_set(err, SL_ERR_INTERNAL, "out of memory"), -1;
			}
			s->offs = no;
			s->cap = cap;
		}
		const char *f = p;
		p = memchr(p, '\t', (size_t)(end - p));
		if (!p)
			p = end;
		if (p - f == 2 && f[0] == '\\' && f[1] == 'N') {
			s->offs[nf] = SIZE_MAX;
			s->cells[nf].len = 0;
		} else {
			s->offs[nf] = (size_t)(o - s->row.data);
			/* runs without a backslash copied whole */
			for (const char *q = f; q < p;) {
				const char *bs = memchr(q, '\\', (size_t)(p - q));
				const char *stop = bs ? bs : p;
				memcpy(o, q, (size_t)(stop - q));
				o += stop - q;
				q = stop;
				if (!bs)
					break;
				if (q + 1 < p) {
					*o++ = copy_unescape(q[1]);
					q += 2;
				} else {
					*o++ = *q++;
				}
			}
			s->cells[nf].len = (size_t)(o - s->row.data) - s->offs[nf];
			*o++ = '\0';
		}
		nf++;
		if (p >= end)
			break;
		p++; /* the tab */
	}
	PQfreemem(line);
	for (int i = 0; i < nf; i++)
		s->cells[i].ptr = s->offs[i] == SIZE_MAX ? NULL : s->row.data + s->offs[i];
	s->ncols = nf;
	*cells = s->cells;
	*ncols = nf;
	return 1;
}

void pg_close_read(struct read_stream *s)
{
	if (!s)
		return;
	if (!s->done && !s->c->stalled && signals_caught()) {
		/* interrupted: cancel it, and drop the connection rather than
		 * wait for the rest (a server that stopped would never end it) */
		if (!s->c->cancel_at)
			pg_cancel(s->c);
		s->c->stalled = s->c->interrupted = true;
	} else if (!s->done && !s->c->stalled) {
		/* stop a COPY half read: cancel it, then drain what is left */
		PGcancel *cancel = PQgetCancel(s->c->pg);
		char msg[256];
		if (cancel) {
			PQcancel(cancel, msg, sizeof msg);
			PQfreeCancel(cancel);
		}
		char *line;
		while (pg_get_copy(s->c, &line) >= 0)
			PQfreemem(line);
		PGresult *res;
		while ((res = pg_result(s->c)) != NULL)
			PQclear(res);
	}
	buf_free(&s->row);
	free(s->cells);
	free(s->offs);
	free(s);
}
