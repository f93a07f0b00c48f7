/* src/db/pg.c
 * The PostgreSQL driver on libpq: COPY FROM STDIN in text format, or
 * multi-row parameterized INSERTs through one reused prepared statement.
 * URLs go to libpq as they are, so PG* variables and ~/.pgpass apply.
 */
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sluice/driver.h"
#include "sluice/url.h"

#define COPY_FLUSH_BYTES (512 * 1024)

struct conn {
	PGconn *pg;
	char *url;            /* kept only to scrub its password from messages */
	struct buf sql;
	struct buf copy;
	char prepared_sql_key[64]; /* which INSERT shape is prepared as "sluice_ins" */
	char *prepared_text;
	const char **params;
	size_t nparams_cap;
};

/* Fill err from a failed result (or the connection when res is NULL). */
static bool pg_fail(struct conn *c, PGresult *res, const char *what, struct sl_error *err)
{
	const char *msg = res ? PQresultErrorMessage(res) : PQerrorMessage(c->pg);
	const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	enum sl_error_kind kind = SL_ERR_SERVER;
	if (PQstatus(c->pg) == CONNECTION_BAD || (state && !strncmp(state, "08", 2)) ||
	    (state && (!strcmp(state, "57P01") || !strcmp(state, "57P02") || !strcmp(state, "57P03"))))
		kind = SL_ERR_CONNECTION;
	else if (state && (!strncmp(state, "22", 2) || !strncmp(state, "23", 2)))
		kind = SL_ERR_DATA;
	char text[900];
	snprintf(text, sizeof text, "%s", msg && *msg ? msg : "unknown error");
	/* one line: drop the trailing newline, keep the detail on one line */
	for (char *p = text; *p; p++)
		if (*p == '\n')
			*p = p[1] ? ' ' : '\0';
	sl_error_set(err, kind, "%s: %s", what, text);
	if (state)
		snprintf(err->sqlstate, sizeof err->sqlstate, "%s", state);
	url_scrub(err->msg, c->url);
	return false;
}

static bool pg_supports(enum write_method m)
{
	return m == METHOD_COPY || m == METHOD_INSERT;
}

static void pg_close(struct conn *c)
{
	if (!c)
		return;
	if (c->pg)
		PQfinish(c->pg);
	free(c->url);
	buf_free(&c->sql);
	buf_free(&c->copy);
	free(c->prepared_text);
	free(c->params);
	free(c);
}

static void ignore_notice(void *arg, const char *message)
{
	(void)arg;
	(void)message; /* NOTICEs (e.g. "truncate cascades") are not for stderr */
}

static bool pg_connect(const char *url, struct conn **out, struct sl_error *err)
{
	struct conn *c = calloc(1, sizeof *c);
	if (!c)
		return sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
	c->url = strdup(url);
	buf_init(&c->sql, 0);
	buf_init(&c->copy, 0);
	const char *keys[] = { "dbname", "fallback_application_name", "client_encoding", NULL };
	const char *vals[] = { url, "sluice", "UTF8", NULL };
	c->pg = PQconnectdbParams(keys, vals, 1);
	if (!c->url || !c->pg || PQstatus(c->pg) != CONNECTION_OK) {
		char redacted[512];
		url_redact(url, redacted, sizeof redacted);
		if (c->pg)
			pg_fail(c, NULL, "cannot connect", err);
		else
			sl_error_set(err, SL_ERR_CONNECTION, "cannot connect: out of memory");
		err->kind = SL_ERR_CONNECTION;
		sl_error_prefix(err, "%s", redacted);
		pg_close(c);
		return false;
	}
	PQsetNoticeProcessor(c->pg, ignore_notice, NULL);
	*out = c;
	return true;
}

static bool pg_exec(struct conn *c, const char *sql, struct sl_error *err)
{
	PGresult *res = PQexec(c->pg, sql);
	ExecStatusType st = PQresultStatus(res);
	bool ok = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;
	if (!ok)
		pg_fail(c, res, "query failed", err);
	PQclear(res);
	return ok;
}

static bool pg_begin(struct conn *c, struct sl_error *err)
{
	return pg_exec(c, "BEGIN", err);
}

static bool pg_commit(struct conn *c, struct sl_error *err)
{
	return pg_exec(c, "COMMIT", err);
}

static bool pg_rollback(struct conn *c, struct sl_error *err)
{
	/* after a broken COPY the connection may still be in COPY state */
	PGresult *res;
	while ((res = PQgetResult(c->pg)) != NULL)
		PQclear(res);
	return pg_exec(c, "ROLLBACK", err);
}

static bool pg_server_version(struct conn *c, char *out, size_t n, struct sl_error *err)
{
	(void)err;
	int v = PQserverVersion(c->pg);
	snprintf(out, n, "PostgreSQL %d.%d", v / 10000, v % 10000);
	return true;
}

static bool pg_healthy(struct conn *c)
{
	if (PQstatus(c->pg) != CONNECTION_OK)
		return false;
	PGresult *res = PQexec(c->pg, "SELECT 1");
	bool ok = PQresultStatus(res) == PGRES_TUPLES_OK;
	PQclear(res);
	return ok;
}

static bool pg_describe_table(struct conn *c, const struct write_spec *spec, struct table_desc *out,
			      struct sl_error *err)
{
	memset(out, 0, sizeof *out);
	buf_reset(&c->sql);
	if (!sql_table_name(&pg_dialect, &c->sql, spec))
		return sl_error_set(err, SL_ERR_USAGE, "bad table name");
	const char *q =
		"SELECT a.attname, format_type(a.atttypid, a.atttypmod), NOT a.attnotnull, a.atthasdef "
		"FROM pg_attribute a WHERE a.attrelid = to_regclass($1) AND a.attnum > 0 "
		"AND NOT a.attisdropped ORDER BY a.attnum";
	const char *params[1] = { c->sql.data };
	PGresult *res = PQexecParams(c->pg, q, 1, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		pg_fail(c, res, "describing table", err);
		PQclear(res);
		return false;
	}
	int n = PQntuples(res);
	out->exists = n > 0;
	out->cols = n ? calloc((size_t)n, sizeof *out->cols) : NULL;
	for (int i = 0; i < n && out->cols; i++) {
		out->cols[i].name = strdup(PQgetvalue(res, i, 0));
		out->cols[i].type = strdup(PQgetvalue(res, i, 1));
		out->cols[i].nullable = PQgetvalue(res, i, 2)[0] == 't';
		out->cols[i].has_default = PQgetvalue(res, i, 3)[0] == 't';
		out->ncols = i + 1;
	}
	PQclear(res);
	if (n && !out->cols)
		return sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
	return true;
}

/* COPY the rows, in text format, escaped by pg_copy_escape. */
static bool write_copy(struct conn *c, const struct write_spec *spec, const struct batch *b,
		       size_t first, size_t n, struct sl_error *err)
{
	buf_reset(&c->sql);
	if (!pg_copy_sql(&c->sql, spec))
		return sl_error_set(err, SL_ERR_USAGE, "bad table or column name");
	PGresult *res = PQexec(c->pg, c->sql.data);
	if (PQresultStatus(res) != PGRES_COPY_IN) {
		pg_fail(c, res, "COPY failed", err);
		PQclear(res);
		return false;
	}
	PQclear(res);
	buf_reset(&c->copy);
	bool ok = true;
	for (size_t r = first; r < first + n && ok; r++) {
		const struct cell *row = batch_row(b, r);
		for (int col = 0; col < b->ncols; col++) {
			if ((col && !buf_putc(&c->copy, '\t')) ||
			    !pg_copy_escape(&c->copy, row[col].ptr, row[col].len)) {
				ok = false;
				break;
			}
		}
		if (ok && !buf_putc(&c->copy, '\n'))
			ok = false;
		if (ok && c->copy.len >= COPY_FLUSH_BYTES) {
			if (PQputCopyData(c->pg, c->copy.data, (int)c->copy.len) != 1)
				break;
			buf_reset(&c->copy);
		}
	}
	if (!ok) {
		PQputCopyEnd(c->pg, "row too large");
		while ((res = PQgetResult(c->pg)) != NULL)
			PQclear(res);
		return sl_error_set(err, SL_ERR_DATA, "row too large for the COPY buffer");
	}
	if (c->copy.len && PQputCopyData(c->pg, c->copy.data, (int)c->copy.len) != 1)
		return pg_fail(c, NULL, "COPY failed", err);
	if (PQputCopyEnd(c->pg, NULL) != 1)
		return pg_fail(c, NULL, "COPY failed", err);
	ok = true;
	while ((res = PQgetResult(c->pg)) != NULL) {
		if (ok && PQresultStatus(res) != PGRES_COMMAND_OK) {
			pg_fail(c, res, "COPY failed", err);
			ok = false;
		}
		PQclear(res);
	}
	if (ok && PQstatus(c->pg) == CONNECTION_BAD)
		return pg_fail(c, NULL, "COPY failed", err);
	return ok;
}

/* Run one INSERT of nrows rows starting at row r, prepared when prepare. */
static bool insert_rows(struct conn *c, const struct write_spec *spec, const struct batch *b,
			size_t r, size_t nrows, bool prepared, struct sl_error *err)
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
		res = PQexecPrepared(c->pg, "sluice_ins", (int)np, c->params, NULL, NULL, 0);
	} else {
		buf_reset(&c->sql);
		if (!sql_insert(&pg_dialect, &c->sql, spec, nrows))
			return sl_error_set(err, SL_ERR_USAGE, "bad table or column name");
		res = PQexecParams(c->pg, c->sql.data, (int)np, NULL, c->params, NULL, NULL, 0);
	}
	bool ok = PQresultStatus(res) == PGRES_COMMAND_OK;
	if (!ok)
		pg_fail(c, res, "INSERT failed", err);
	PQclear(res);
	return ok;
}

/* Prepare the full-size INSERT once per connection and table shape. */
static bool ensure_prepared(struct conn *c, const struct write_spec *spec, size_t rows,
			    struct sl_error *err)
{
	buf_reset(&c->sql);
	if (!sql_insert(&pg_dialect, &c->sql, spec, rows))
		return sl_error_set(err, SL_ERR_USAGE, "bad table or column name");
	if (c->prepared_text && !strcmp(c->prepared_text, c->sql.data))
		return true;
	if (c->prepared_text) {
		PGresult *res = PQexec(c->pg, "DEALLOCATE sluice_ins");
		PQclear(res);
		free(c->prepared_text);
		c->prepared_text = NULL;
	}
	PGresult *res = PQprepare(c->pg, "sluice_ins", c->sql.data, 0, NULL);
	bool ok = PQresultStatus(res) == PGRES_COMMAND_OK;
	if (!ok)
		pg_fail(c, res, "preparing INSERT", err);
	PQclear(res);
	if (ok)
		c->prepared_text = strdup(c->sql.data);
	return ok;
}

static bool write_insert(struct conn *c, const struct write_spec *spec, const struct batch *b,
			 size_t first, size_t n, struct sl_error *err)
{
	size_t per = sql_rows_per_statement(&pg_dialect, b->ncols, spec->batch_rows);
	size_t r = first, end = first + n;
	while (r < end) {
		size_t k = end - r < per ? end - r : per;
		bool prep = k == per;
		if (prep && !ensure_prepared(c, spec, per, err))
			return false;
		if (!insert_rows(c, spec, b, r, k, prep, err))
			return false;
		r += k;
	}
	return true;
}

static bool pg_write_batch(struct conn *c, const struct write_spec *spec, const struct batch *b,
			   size_t first, size_t n, struct sl_error *err)
{
	if (n == 0)
		return true;
	if (spec->method == METHOD_INSERT || spec->on_conflict != CONFLICT_ERROR)
		return write_insert(c, spec, b, first, n, err);
	return write_copy(c, spec, b, first, n, err);
}

const struct driver pg_driver = {
	.name = "postgresql",
	.dialect = &pg_dialect,
	.default_method = METHOD_COPY,
	.supports = pg_supports,
	.connect = pg_connect,
	.close = pg_close,
	.server_version = pg_server_version,
	.exec = pg_exec,
	.begin = pg_begin,
	.commit = pg_commit,
	.rollback = pg_rollback,
	.describe_table = pg_describe_table,
	.write_batch = pg_write_batch,
	.healthy = pg_healthy,
};
