/* src/db/pg_tx.c
 * PostgreSQL transactions: begin, commit, a lost commit's status, rollback, job locks.
 */
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sluice/pg_internal.h"

/* BEGIN and what a lost COMMIT is looked up by: the transaction's id
 * (txid_status), and the server process running it, asked inside the
 * transaction (through a transaction pooler the next one may run on
 * another). Through a pooler each transaction sets its own time zone: the
 * session's SET TimeZone (pg_connect) is carried to whichever server
 * session runs it by PgBouncer, not by every pooler, and a SET LOCAL
 * leaves nothing behind for the next client. */
static const char *begin_sql(const struct conn *c)
{
	return c->pooled ? "BEGIN; SET LOCAL TimeZone = 'UTC'; "
			   "SELECT txid_current(), pg_backend_pid()"
			 : "BEGIN; SELECT txid_current(), pg_backend_pid()";
}

/* The transaction begins with its first statement, in the same round trip
 * where that is a COPY (pg_run_first), before it otherwise (pg_begin_now,
 * from pg_may_send): a batch's COPY waits for one reply fewer, and the
 * server for one less between batches. A transaction that runs nothing
 * sends nothing. */
bool pg_begin(struct conn *c, struct sl_error *err)
{
	(void)err;
	c->xid[0] = '\0';
	c->xid_pid = 0;
	c->commit_in_doubt = false;
	c->xid_wanted = false;
	c->begin_pending = true;
	return true;
}

/* The id and server process from the SELECT of begin_sql. */
void pg_note_xid(struct conn *c, PGresult *res)
{
	c->xid_wanted = false;
	if (PQntuples(res) != 1 || PQnfields(res) != 2)
		return;
	snprintf(c->xid, sizeof c->xid, "%s", PQgetvalue(res, 0, 0));
	c->xid_pid = atoi(PQgetvalue(res, 0, 1));
}

/* The pending BEGIN, on its own; false when it failed (the statement
 * that was to follow is not sent, and pg_fail reports the connection's
 * error). */
bool pg_begin_now(struct conn *c)
{
	c->begin_pending = false;
	PGresult *res = pg_run(c, begin_sql(c));
	bool ok = PQresultStatus(res) == PGRES_TUPLES_OK;
	if (ok)
		pg_note_xid(c, res);
	PQclear(res);
	return ok;
}

/* sql, a simple query (a COPY), as what may be its transaction's first
 * statement: with a BEGIN pending, both go in one round trip, and
 * pg_outcome notes the id on the way. */
PGresult *pg_run_first(struct conn *c, const char *sql)
{
	if (!c->begin_pending)
		return pg_run(c, sql);
	const char *b = begin_sql(c);
	size_t bl = strlen(b), sl = strlen(sql);
	char *both = malloc(bl + 2 + sl + 1);
	if (!both)
		return NULL;
	memcpy(both, b, bl);
	memcpy(both + bl, "; ", 2);
	memcpy(both + bl + 2, sql, sl + 1);
	c->xid_wanted = true;
	PGresult *res = pg_run(c, both);
	free(both);
	/* its results are read up to the COPY's (or its error): the id was
	 * noted, or the BEGIN failed, or it was not sent at all (a signal:
	 * begin_pending still) */
	c->xid_wanted = false;
	return res;
}

/* Inside a transaction, begun on the server or pending. */
bool pg_in_transaction(struct conn *c)
{
	return c->begin_pending || PQtransactionStatus(c->pg) == PQTRANS_INTRANS;
}

bool pg_commit(struct conn *c, struct sl_error *err)
{
	c->commit_in_doubt = false;
	if (c->begin_pending) {
		c->begin_pending = false; /* nothing ran: nothing to commit */
		return true;
	}
	if (pg_exec(c, "COMMIT", err))
		return true;
	/* sent and cut off (a signal's deadline too), not refused */
	c->commit_in_doubt =
		err->kind == SL_ERR_CONNECTION || (err->kind == SL_ERR_INTERRUPTED && c->stalled);
	return false;
}

int pg_commit_token(struct conn *c, char *out, size_t n)
{
	if (!c->commit_in_doubt)
		return 0;
	if (!c->xid[0])
		return -1;
	/* the transaction, and the backend that may still be running it */
	snprintf(out, n, "%s/%d", c->xid, c->xid_pid);
	return 1;
}

const char *pg_commit_mode(const struct conn *c)
{
	(void)c;
	return "txid";
}

bool pg_commit_status(struct conn *c, const char *token, bool *committed, struct sl_error *err)
{
	char xid[32], backend[16] = "";
	snprintf(xid, sizeof xid, "%s", token);
	char *slash = strchr(xid, '/');
	if (slash) {
		snprintf(backend, sizeof backend, "%s", slash + 1);
		*slash = '\0';
	}
	/* "in progress" while the old backend is still finishing: wait for it,
	 * as long as --timeout lets a backend be silent (a stalled one holds
	 * it). After a second, end that backend: its connection is dropped
	 * anyway, and a transaction is never half committed, so this only makes
	 * the answer final sooner (a COMMIT stuck waiting on a synchronous
	 * standby, a backend that has not noticed its client left). Only while
	 * it still runs that transaction: behind a pooler the process may serve
	 * another client by now. */
	double start = pg_mono_now(), wait = c->timeout > 5 ? c->timeout : 5;
	bool ended = !backend[0] || !strcmp(backend, "0");
	while (pg_mono_now() < start + wait) {
		const char *params[1] = {xid};
		if (!ended && pg_mono_now() > start + 1) {
			const char *pid[2] = {backend, xid};
			PQclear(pg_run_params(
				c,
				"SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
				"WHERE pid = $1::int AND backend_xid::text::bigint = "
				"$2::bigint % 4294967296",
				2, pid));
			ended = true;
		}
		PGresult *res = pg_run_params(c, "SELECT txid_status($1::bigint)", 1, params);
		if (PQresultStatus(res) != PGRES_TUPLES_OK) {
			pg_fail(c, res, "looking up a lost COMMIT", err);
			PQclear(res);
			return false;
		}
		const char *st = PQgetisnull(res, 0, 0) ? "unknown" : PQgetvalue(res, 0, 0);
		bool in_progress = !strcmp(st, "in progress");
		bool known = !strcmp(st, "committed") || !strcmp(st, "aborted");
		*committed = !strcmp(st, "committed");
		PQclear(res);
		if (known)
			return true;
		if (!in_progress)
			return sl_error_set(err, SL_ERR_SERVER,
					    "the outcome of transaction %s is unknown", xid);
		struct timespec ts = {0, 50 * 1000 * 1000};
		nanosleep(&ts, NULL);
	}
	return sl_error_set(
		err, SL_ERR_SERVER,
		"%s: transaction %s, whose COMMIT got no reply, is still in progress "
		"after %g s (its backend is stalled?): cannot tell whether it committed",
		c->redacted, xid, wait);
}

bool pg_rollback(struct conn *c, struct sl_error *err)
{
	if (c->begin_pending) {
		c->begin_pending = false; /* nothing ran: nothing to undo */
		return true;
	}
	/* after a signal too (a cleanup, bounded by signals_deadline) */
	c->cleanup = true;
	/* after a broken COPY the connection may still be in COPY state */
	PGresult *res;
	while ((res = pg_result(c)) != NULL)
		PQclear(res);
	bool ok = pg_exec(c, "ROLLBACK", err);
	c->cleanup = false;
	return ok;
}

/* A job's lock is a lock of a transaction left open, per database: it
 * takes no snapshot and no transaction id, so it holds nothing back
 * (VACUUM), and it pins the session through a pooler. */
bool pg_job_lock_hold(struct conn *c, struct sl_error *err)
{
	return pg_begin(c, err) &&
	       pg_exec(c, "SET LOCAL idle_in_transaction_session_timeout = 0", err);
}

bool pg_job_lock_try(struct conn *c, uint64_t key, bool *held, struct sl_error *err)
{
	char sql[80], *got = NULL;
	snprintf(sql, sizeof sql, "SELECT pg_try_advisory_xact_lock(%lld)", (long long)key);
	if (!pg_query_row(c, sql, &got, 1, err))
		return false;
	*held = got && !strcmp(got, "t");
	free(got);
	return true;
}
