/* src/db/mysql.c
 * The MySQL/MariaDB driver on the MySQL C API (libmariadb or libmysqlclient):
 * multi-row prepared INSERTs through one reused statement, or LOAD DATA LOCAL
 * INFILE fed from memory by a local-infile handler. Every session runs in
 * strict mode, utf8mb4, UTC; values are converted by the target column's
 * type first (src/row/convert.c). Here the driver table and the statements
 * any caller runs; the rest in mysql_conn.c, mysql_tx.c, mysql_write.c,
 * mysql_update.c, mysql_catalog.c, mysql_read.c (mysql_internal.h).
 */
#include <mysql.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sluice/mysql_internal.h"

static bool my_supports(enum write_method m)
{
	return m == METHOD_INSERT || m == METHOD_INFILE;
}

/* MySQL truncates no table a foreign key references, even an empty one's:
 * with every referencing table among them, the checks are off while they
 * are emptied; one outside them is refused, naming it. */
static bool my_truncate_tables(struct conn *c, const struct write_spec *const *specs, int n,
			       struct sl_error *err)
{
	bool fk_inside = false;
	for (int i = 0; i < n; i++) {
		buf_reset(&c->sql);
		if (!buf_puts(&c->sql, "SELECT TABLE_NAME, CONSTRAINT_NAME, CONSTRAINT_SCHEMA = "
				       "UNIQUE_CONSTRAINT_SCHEMA FROM "
				       "information_schema.REFERENTIAL_CONSTRAINTS WHERE ") ||
		    !my_put_schema_match(c, "UNIQUE_CONSTRAINT_SCHEMA", specs[i]->schema) ||
		    !buf_puts(&c->sql, " AND REFERENCED_TABLE_NAME = ") ||
		    !my_put_literal(c, specs[i]->table))
			return sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
		MYSQL_RES *res = my_store_query(c, "looking up foreign keys", err);
		if (!res)
			return false;
		MYSQL_ROW row;
		bool ok = true;
		while (ok && (row = mysql_fetch_row(res)) != NULL) {
			bool inside = false;
			for (int j = 0; j < n && row[2] && row[2][0] == '1'; j++)
				inside |= row[0] && !strcasecmp(row[0], specs[j]->table);
			fk_inside |= inside;
			if (!inside)
				ok = sl_error_set(
					err, SL_ERR_USAGE,
					"--truncate: foreign key %s of table %s references "
					"%s, and the copy does not empty %s: copy it too, or "
					"leave out --truncate",
					row[1] ? row[1] : "?", row[0] ? row[0] : "?",
					specs[i]->table, row[0] ? row[0] : "?");
		}
		mysql_free_result(res);
		if (!ok)
			return false;
	}
	bool ok = !fk_inside ||
		  my_run_query(c, "SET SESSION FOREIGN_KEY_CHECKS = 0", "emptying the tables", err);
	for (int i = 0; ok && i < n; i++) {
		buf_reset(&c->sql);
		if (!buf_puts(&c->sql, "TRUNCATE TABLE ") ||
		    !sql_table_name(&mysql_dialect, &c->sql, specs[i]))
			ok = sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
		else
			ok = !my_real_query(c, c->sql.data, c->sql.len) ||
			     my_fail(c, "emptying the tables", err);
	}
	struct sl_error e;
	if (fk_inside &&
	    !my_run_query(c, "SET SESSION FOREIGN_KEY_CHECKS = 1", "emptying the tables", &e) &&
	    ok) {
		*err = e;
		ok = false;
	}
	return ok;
}

static bool my_exec_params(struct conn *c, const char *sql, int n, const char *const *values,
			   struct sl_error *err)
{
	buf_reset(&c->sql);
	if (!buf_puts(&c->sql, sql) || !my_reserve_params(c, (size_t)(n > 0 ? n : 1), err))
		return sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
	for (int i = 0; i < n; i++)
		c->vals[i] = (struct cell){values[i], values[i] ? strlen(values[i]) : 0};
	/* prepared once: each statement a round trip, not two (a batch's
	 * checkpoint under --resume runs the same few) */
	struct prepared *p = NULL;
	for (int i = 0; i < MY_KEPT_STATEMENTS && !p; i++)
		if (c->kept[i].stmt && !strcmp(c->kept[i].text, c->sql.data))
			p = &c->kept[i];
	if (!p) {
		p = &c->kept[c->kept_next];
		c->kept_next = (c->kept_next + 1) % MY_KEPT_STATEMENTS;
	}
	bool ok = my_prepare_sql(c, p, "preparing a statement", err) &&
		  my_execute_stmt(c, p, c->vals, (size_t)n, false, "statement", err);
	/* one that returns rows is closed, as every one was before, which
	 * discards them: the next command finds the connection free */
	if (p->stmt && mysql_stmt_field_count(p->stmt) > 0)
		my_prepared_clear(p);
	return ok;
}

static bool my_query_each(struct conn *c, const char *sql,
			  bool (*row)(void *ctx, char *const *values, int n), void *ctx,
			  struct sl_error *err)
{
	buf_reset(&c->sql);
	if (!buf_puts(&c->sql, sql))
		return sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
	MYSQL_RES *res = my_store_query(c, "query failed", err);
	if (!res)
		return false;
	int nf = (int)mysql_num_fields(res);
	MYSQL_ROW r;
	bool ok = true;
	while (ok && (r = mysql_fetch_row(res)) != NULL)
		if (!row(ctx, r, nf))
			ok = sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
	mysql_free_result(res);
	return ok;
}

bool my_query_row(struct conn *c, const char *sql, char **out, int n, struct sl_error *err)
{
	for (int i = 0; i < n; i++)
		out[i] = NULL;
	buf_reset(&c->sql);
	if (!buf_puts(&c->sql, sql))
		return sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
	MYSQL_RES *res = my_store_query(c, "query failed", err);
	if (!res)
		return false;
	MYSQL_ROW row = mysql_fetch_row(res);
	bool ok = row && (int)mysql_num_fields(res) >= n;
	for (int i = 0; ok && i < n; i++)
		if (row[i] && !(out[i] = strdup(row[i])))
			ok = false;
	mysql_free_result(res);
	if (!ok) {
		for (int i = 0; i < n; i++)
			free(out[i]);
		return sl_error_set(err, SL_ERR_SERVER,
				    "the query returned no row or too few columns");
	}
	return true;
}

static bool my_unique_violation(const struct sl_error *err)
{
	return err->server_code == 1062; /* ER_DUP_ENTRY */
}

static bool my_object_exists(const struct sl_error *err)
{
	return err->server_code == 1359; /* ER_TRG_ALREADY_EXISTS */
}

const struct driver mysql_driver = {
	.name = "mysql",
	.dialect = &mysql_dialect,
	.default_method = METHOD_INSERT,
	.conn =
		{
			.connect = my_connect,
			.close = my_close,
			.server_version = my_server_version,
			.exec = my_exec,
			.identity = my_identity,
			.query_row = my_query_row,
			.session_name = my_session_name,
			.exec_params = my_exec_params,
			.query_each = my_query_each,
			.healthy = my_healthy,
			.unique_violation = my_unique_violation,
			.object_exists = my_object_exists,
		},
	.tx =
		{
			.begin = my_begin,
			.commit = my_commit,
			.rollback = my_rollback,
			.commit_token = my_commit_token,
			.commit_status = my_commit_status,
			.end_session = my_end_session,
			.commit_mode = my_commit_mode,
			.job_lock_hold = my_job_lock_hold,
			.job_lock_try = my_job_lock_try,
		},
	.write =
		{
			.supports = my_supports,
			.write_batch = my_write_batch,
			.takes_csv = my_takes_csv,
			.write_each = my_write_each,
			.write_generated = my_write_generated,
			.update_batch = my_update_batch,
			.count_keys = my_count_keys,
			.truncate_tables = my_truncate_tables,
		},
	.catalog =
		{
			.describe_table = my_describe_table,
			.describe_schema = my_describe_schema,
			.describe_full = my_describe_full,
			.max_length = my_max_length,
			.query_columns = my_query_columns,
		},
	.read =
		{
			.snapshot = my_snapshot,
			.snapshot_end = my_snapshot_end,
			.hold_still = my_hold_still,
			.let_go = my_let_go,
			.open_read = my_open_read,
			.read_row = my_read_row,
			.close_read = my_close_read,
		},
};
