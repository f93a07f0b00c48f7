/* src/db/pg.c
 * The PostgreSQL driver on libpq: COPY FROM STDIN in text format, or
 * multi-row parameterized INSERTs through one reused prepared statement.
 * URLs go to libpq as they are, so PG* variables and ~/.pgpass apply.
 * Here the driver table and the statements any caller runs; the rest in
 * pg_conn.c, pg_tx.c, pg_write.c, pg_catalog.c, pg_read.c (pg_internal.h).
 */
#include <libpq-fe.h>
#include <stdlib.h>
#include <string.h>

#include "sluice/pg_internal.h"

static bool pg_supports(enum write_method m)
{
	return m == METHOD_COPY || m == METHOD_INSERT;
}

static bool pg_exec_params(struct conn *c, const char *sql, int n, const char *const *values,
			   struct sl_error *err)
{
	PGresult *res = pg_run_params(c, sql, n, values);
	ExecStatusType st = PQresultStatus(res);
	bool ok = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;
	if (!ok)
		pg_fail(c, res, "query failed", err);
	PQclear(res);
	return ok;
}

static bool pg_query_each(struct conn *c, const char *sql,
			  bool (*row)(void *ctx, char *const *values, int n), void *ctx,
			  struct sl_error *err)
{
	PGresult *res;
	if (!pg_query_rows(c, sql, 0, NULL, "query failed", &res, err))
		return false;
	int nf = PQnfields(res);
	char **vals = calloc((size_t)(nf ? nf : 1), sizeof *vals);
	bool ok = vals != NULL;
	if (!ok)
		sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
	for (int r = 0; ok && r < PQntuples(res); r++) {
		for (int i = 0; i < nf; i++)
			vals[i] = PQgetisnull(res, r, i) ? NULL : PQgetvalue(res, r, i);
		if (!row(ctx, vals, nf))
			ok = sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
	}
	free(vals);
	PQclear(res);
	return ok;
}

/* One TRUNCATE of them all: PostgreSQL refuses it, naming the table, when
 * a table outside them references one. */
static bool pg_truncate_tables(struct conn *c, const struct write_spec *const *specs, int n,
			       struct sl_error *err)
{
	struct buf q;
	buf_init(&q, 0);
	bool ok = buf_puts(&q, "TRUNCATE TABLE ");
	for (int i = 0; ok && i < n; i++)
		ok = (!i || buf_puts(&q, ", ")) && sql_table_name(&pg_dialect, &q, specs[i]);
	if (!ok)
		sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
	else if (!(ok = pg_exec(c, q.data, err)) && !strcmp(err->sqlstate, "0A000"))
		err->kind = SL_ERR_USAGE; /* referenced from outside: say so, retry nothing */
	buf_free(&q);
	return ok;
}

bool pg_query_row(struct conn *c, const char *sql, char **out, int n, struct sl_error *err)
{
	PGresult *res;
	for (int i = 0; i < n; i++)
		out[i] = NULL;
	if (!pg_query_rows(c, sql, 0, NULL, "query failed", &res, err))
		return false;
	bool ok = PQntuples(res) >= 1 && PQnfields(res) >= n;
	for (int i = 0; ok && i < n; i++)
		if (!PQgetisnull(res, 0, i) && !(out[i] = strdup(PQgetvalue(res, 0, i))))
			ok = false;
	PQclear(res);
	if (!ok) {
		for (int i = 0; i < n; i++)
			free(out[i]);
		return sl_error_set(err, SL_ERR_SERVER,
				    "the query returned no row or too few columns");
	}
	return true;
}

static bool pg_unique_violation(const struct sl_error *err)
{
	return !strcmp(err->sqlstate, "23505");
}

static bool pg_object_exists(const struct sl_error *err)
{
	/* duplicate_object, duplicate_table */
	return !strcmp(err->sqlstate, "42710") || !strcmp(err->sqlstate, "42P07");
}

const struct driver pg_driver = {
	.name = "postgresql",
	.dialect = &pg_dialect,
	.default_method = METHOD_COPY,
	.conn =
		{
			.connect = pg_connect,
			.close = pg_close,
			.server_version = pg_server_version,
			.exec = pg_exec,
			.identity = pg_identity,
			.query_row = pg_query_row,
			.session_name = pg_session_name,
			.exec_params = pg_exec_params,
			.query_each = pg_query_each,
			.healthy = pg_healthy,
			.unique_violation = pg_unique_violation,
			.object_exists = pg_object_exists,
		},
	.tx =
		{
			.begin = pg_begin,
			.commit = pg_commit,
			.rollback = pg_rollback,
			.commit_token = pg_commit_token,
			.commit_status = pg_commit_status,
			.commit_mode = pg_commit_mode,
			.job_lock_hold = pg_job_lock_hold,
			.job_lock_try = pg_job_lock_try,
		},
	.write =
		{
			.supports = pg_supports,
			.write_batch = pg_write_batch,
			.takes_csv = pg_takes_csv,
			.write_each = pg_write_each,
			.write_generated = pg_write_generated,
			.update_batch = pg_update_batch,
			.truncate_tables = pg_truncate_tables,
		},
	.catalog =
		{
			.describe_table = pg_describe_table,
			.describe_schema = pg_describe_schema,
			.describe_full = pg_describe_full,
			.max_length = pg_max_length,
			.query_columns = pg_query_columns,
		},
	.read =
		{
			.snapshot = pg_snapshot,
			.export_snapshot = pg_export_snapshot,
			.snapshot_at = pg_snapshot_at,
			.snapshot_end = pg_snapshot_end,
			.open_read = pg_open_read,
			.read_row = pg_read_row,
			.close_read = pg_close_read,
		},
};
