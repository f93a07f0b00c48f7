/* src/db/mysql_tx.c
 * MySQL transactions, XA or plain: begin, commit, a lost commit's status, rollback.
 */
#include <mysql.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sluice/convert.h"
#include "sluice/mysql_internal.h"
#include "sluice/signals.h"

/* Run "XA <verb> 'xid'" (the xid is sluice's own text, never input). */
static bool xa(struct conn *c, const char *verb, struct sl_error *err)
{
	char sql[128], what[48];
	snprintf(sql, sizeof sql, "XA %s '%s'", verb, c->xid);
	snprintf(what, sizeof what, "XA %s failed", verb);
	return my_run_query(c, sql, what, err);
}

/* XA errors that mean the server (or a node behind it) cannot run XA here:
 * Galera's "not supported with Galera replication" and the like. */
static bool xa_refused(unsigned code)
{
	return code == 1235 || code == 1178 || code == 1399 || code == 1400 || code == 1401;
}

bool my_begin(struct conn *c, struct sl_error *err)
{
	c->commit_sent = c->commit_in_doubt = false;
	if (!c->plain) {
		snprintf(c->xid, sizeof c->xid, "sluice-%ld-%lu-%lu", (long)getpid(),
			 mysql_thread_id(c->my), ++c->xa_seq);
		if (xa(c, "START", err)) {
			c->xa_active = true;
			return true;
		}
		if (!xa_refused(err->server_code))
			return false;
		/* from now on plain transactions; a lost COMMIT is settled another way */
		c->plain = true;
		sl_error_clear(err);
	}
	if (!my_run_query(c, "START TRANSACTION", "START TRANSACTION failed", err))
		return false;
	c->in_tx = true;
	return true;
}

/* Whether err is a signal's cut (signals.h) of a statement sent. */
static bool cut_off(const struct sl_error *err)
{
	return err->kind == SL_ERR_INTERRUPTED && my_is_connection_errno(err->server_code);
}

#ifdef SLUICE_TEST_HOOKS
/* Test builds, SLUICE_FAULT_LATE_COMMIT=n: the nth COMMIT goes out behind
 * a statement that sleeps a second, both as raw packets, and sluice gives
 * the connection up at once, as if the reply were lost; a copy of the
 * socket keeps the session alive (until the process ends), so the server
 * commits a second later, after sluice has moved on to settle it. */
static bool late_commit(struct conn *c, struct sl_error *err)
{
	static const char *const q[] = {"DO SLEEP(1)", "COMMIT"};
	int fd = my_socket_of(c->my);
	for (int i = 0; i < 2; i++) {
		char pkt[32];
		size_t n = strlen(q[i]) + 1; /* COM_QUERY and the statement */
		pkt[0] = (char)n;
		pkt[1] = pkt[2] = pkt[3] = 0; /* length (3 bytes), sequence 0 */
		pkt[4] = 0x03;
		memcpy(pkt + 5, q[i], n - 1);
		if (write(fd, pkt, n + 4) != (ssize_t)(n + 4))
			break;
	}
	if (dup(fd) < 0)
		return sl_error_set(err, SL_ERR_INTERNAL, "dup: the test's fault failed");
	c->in_tx = false;
	c->commit_in_doubt = true;
	return sl_error_set(err, SL_ERR_CONNECTION, "COMMIT failed: its reply was lost (a test)");
}
#endif

bool my_commit(struct conn *c, struct sl_error *err)
{
	if (c->plain) {
		c->commit_sent = true;
#ifdef SLUICE_TEST_HOOKS
		if (c->fault_commit && ++c->ncommits == c->fault_commit) {
			mysql_send_query(c->my, "COMMIT", 6);
			shutdown(my_socket_of(c->my), SHUT_RDWR);
			mysql_read_query_result(c->my);
		}
		if (c->fault_late && ++c->ncommits == c->fault_late)
			return late_commit(c, err);
#endif
		bool ok = my_run_query(c, "COMMIT", "COMMIT failed", err);
		c->in_tx = false;
		if (!ok)
			c->commit_in_doubt = err->kind == SL_ERR_CONNECTION || cut_off(err);
		return ok;
	}
	bool ok = xa(c, "END", err) && xa(c, "PREPARE", err);
	if (ok) {
		c->commit_sent = true;
		/* prepared, it would outlive the session: finished even after a
		 * signal, as a rollback is */
		c->cleanup = true;
		ok = xa(c, "COMMIT", err);
		c->cleanup = false;
	}
	if (ok)
		c->xa_active = false;
	else
		c->commit_in_doubt = err->kind == SL_ERR_CONNECTION || cut_off(err);
	return ok;
}

/* A rollback, after a signal too (a cleanup, cut at the signal's deadline). */
static bool rollback_now(struct conn *c, struct sl_error *err)
{
	if (c->plain) {
		if (!c->in_tx)
			return true;
		c->in_tx = false;
		return my_run_query(c, "ROLLBACK", "ROLLBACK failed", err);
	}
	if (!c->xa_active)
		return true;
	struct sl_error ignored;
	xa(c, "END", &ignored); /* fails harmlessly when the branch already ended */
	bool ok = xa(c, "ROLLBACK", err);
	if (ok)
		c->xa_active = false;
	return ok;
}

bool my_rollback(struct conn *c, struct sl_error *err)
{
	c->cleanup = true;
	bool ok = rollback_now(c, err);
	c->cleanup = false;
	return ok;
}

int my_commit_token(struct conn *c, char *out, size_t n)
{
	if (!c->commit_in_doubt)
		return 0;
	if (c->plain) {
		/* a plain COMMIT whose reply is lost: no token to ask about, but
		 * the session to end before the rows are looked up */
		snprintf(out, n, "S%d:%lu", c->host, c->thread_id);
		return -1;
	}
	snprintf(out, n, "%c%s", c->commit_sent ? 'C' : 'P', c->xid);
	return 1;
}

const char *my_commit_mode(const struct conn *c)
{
	return c->plain ? "plain" : "xa";
}

/* End session tid from c (KILL) and wait until the server lists it no
 * more (at most 10 s): a session that lives on, stalled (--timeout gave up
 * on it) or still reading the COMMIT it was sent, may yet commit. False
 * with err when it is still there, or when c cannot ask. */
static bool end_thread(struct conn *c, unsigned long tid, struct sl_error *err)
{
	if (!tid || tid == mysql_thread_id(c->my))
		return true;
	char sql[128];
	snprintf(sql, sizeof sql, "KILL %lu", tid);
	struct sl_error gone; /* "unknown thread": it has ended already */
	if (!my_run_query(c, sql, "ending the old session", &gone) &&
	    gone.kind == SL_ERR_CONNECTION)
		return my_fail(c, "ending the old session", err);
	snprintf(sql, sizeof sql,
		 "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE ID = %lu", tid);
	for (int i = 0; i < 200; i++) {
		long left = my_query_number(c, sql);
		if (left == 0)
			return true;
		if (left < 0)
			return my_fail(c, "waiting for the old session to end", err);
		if (signals_caught())
			return sl_error_set(err, SL_ERR_INTERRUPTED,
					    "waiting for the old session to end: interrupted by %s",
					    signals_name());
		struct timespec ts = {0, 50 * 1000 * 1000};
		nanosleep(&ts, NULL);
	}
	return sl_error_set(err, SL_ERR_SERVER,
			    "the old session (thread %lu) did not end within 10 s of KILL", tid);
}

bool my_end_session(struct conn *c, const char *token, struct sl_error *err)
{
	unsigned long tid = 0;
	int host = -1;
	/* a thread id is the server's own: only on the same server (another
	 * node of a cluster numbers its threads alike) */
	if (token[0] != 'S' || sscanf(token + 1, "%d:%lu", &host, &tid) != 2 || host != c->host)
		return true;
	return end_thread(c, tid, err);
}

/* Settle a transaction whose COMMIT lost its connection. Still prepared (XA
 * RECOVER lists it): commit it now. Not listed: it committed if XA COMMIT
 * had been sent (PREPARE had succeeded), else it was rolled back with the
 * connection. */
bool my_commit_status(struct conn *c, const char *token, bool *committed, struct sl_error *err)
{
	bool commit_sent = token[0] == 'C';
	snprintf(c->xid, sizeof c->xid, "%s", token + 1);
	/* the old session may live on and still finish its PREPARE or
	 * COMMIT: end it first, so that what XA RECOVER shows is final (the
	 * xid carries its thread id) */
	long pid;
	unsigned long tid = 0, seq;
	if (sscanf(c->xid, "sluice-%ld-%lu-%lu", &pid, &tid, &seq) == 3 && !end_thread(c, tid, err))
		return false;
	for (int attempt = 0; attempt < 50 && !signals_caught(); attempt++) {
		if (my_text_query(c, "XA RECOVER"))
			return my_fail(c, "XA RECOVER failed", err);
		MYSQL_RES *res = mysql_store_result(c->my);
		if (!res)
			return my_fail(c, "XA RECOVER failed", err);
		bool listed = false;
		MYSQL_ROW row;
		while ((row = mysql_fetch_row(res)) != NULL) {
			unsigned long *len = mysql_fetch_lengths(res);
			/* formatID, gtrid_length, bqual_length, data */
			if (row[3] && len[3] == strlen(c->xid) && !memcmp(row[3], c->xid, len[3]))
				listed = true;
		}
		mysql_free_result(res);
		if (!listed) {
			*committed = commit_sent;
			return true;
		}
		struct sl_error e;
		if (xa(c, "COMMIT", &e)) {
			*committed = true;
			return true;
		}
		/* the old session may still hold it for a moment */
		struct timespec ts = {0, 100 * 1000 * 1000};
		nanosleep(&ts, NULL);
	}
	return sl_error_set(err, SL_ERR_SERVER, "cannot settle XA transaction %s", c->xid);
}

/* Count the rows of the table that have the key of one of rows
 * [first, first+n): a lost plain COMMIT of an insert is settled by it. Keys
 * travel as parameters, in statements under the placeholder limit. */
bool my_count_keys(struct conn *c, const struct write_spec *spec, const struct batch *b,
		   size_t first, size_t n, unsigned long long *count, struct sl_error *err)
{
	*count = 0;
	int key[SQL_MAX_COLUMNS];
	if (spec->nkey > SQL_MAX_COLUMNS)
		return sl_error_set(err, SL_ERR_USAGE, "the key has more than %d columns",
				    SQL_MAX_COLUMNS);
	for (int k = 0; k < spec->nkey; k++) {
		key[k] = -1;
		for (int i = 0; i < spec->ncols; i++)
			if (!strcasecmp(spec->key[k], spec->columns[i]))
				key[k] = i;
		if (key[k] < 0)
			return sl_error_set(err, SL_ERR_USAGE, "key column %s is not written",
					    spec->key[k]);
	}
	if (spec->nkey == 0 || !my_ensure_kinds(c, spec, err))
		return spec->nkey ? false
				  : sl_error_set(err, SL_ERR_USAGE, "no key to look rows up by");
	size_t per = (size_t)(60000 / spec->nkey);
	bool ok = true;
	for (size_t r = first; ok && r < first + n; r += per) {
		size_t k = first + n - r < per ? first + n - r : per;
		size_t np = k * (size_t)spec->nkey, need = 1;
		if (!my_reserve_params(c, np, err))
			return false;
		for (size_t i = 0; i < k; i++)
			for (int q = 0; q < spec->nkey; q++)
				need += batch_row(b, r + i)[key[q]].len + CONVERT_MAX_GROWTH;
		buf_reset(&c->data);
		if (!buf_reserve(&c->data, need))
			return sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
		char *scratch = c->data.data;
		for (size_t i = 0; i < k; i++) {
			const struct cell *row = batch_row(b, r + i);
			for (int q = 0; q < spec->nkey; q++) {
				if (!row[key[q]].ptr || cell_is_default(&row[key[q]]))
					return sl_error_set(
						err, SL_ERR_SERVER,
						"a key is NULL, so the row cannot be looked up");
				c->vals[i * (size_t)spec->nkey + (size_t)q] =
					my_convert_cell(c, key[q], row[key[q]], &scratch);
			}
		}
		buf_reset(&c->sql);
		ok = buf_puts(&c->sql, "SELECT COUNT(*) FROM ") &&
		     sql_table_name(&mysql_dialect, &c->sql, spec) && buf_puts(&c->sql, " WHERE (");
		for (int q = 0; ok && q < spec->nkey; q++)
			ok = (!q || buf_puts(&c->sql, ", ")) &&
			     mysql_dialect.quote_ident(&c->sql, spec->key[q]);
		ok = ok && buf_puts(&c->sql, ") IN (");
		for (size_t i = 0; ok && i < k; i++) {
			ok = buf_puts(&c->sql, i ? ",(" : "(");
			for (int q = 0; ok && q < spec->nkey; q++)
				ok = buf_puts(&c->sql, q ? ",?" : "?");
			ok = ok && buf_putc(&c->sql, ')');
		}
		if (ok && spec->count_null_adds)
			ok = buf_puts(&c->sql, ") AND ") &&
			     sql_null_adds(&mysql_dialect, &c->sql, spec, "") &&
			     buf_puts(&c->sql, " AND (1");
		if (!ok || !buf_putc(&c->sql, ')'))
			return sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
		struct prepared p = {0};
		if (!my_prepare_sql(c, &p, "looking rows up", err))
			return false;
		long long got = 0;
		MYSQL_BIND out = {0};
		out.buffer_type = MYSQL_TYPE_LONGLONG;
		out.buffer = &got;
		ok = my_execute_stmt(c, &p, c->vals, np, false, "looking rows up", err);
		if (ok && (mysql_stmt_bind_result(p.stmt, &out) || mysql_stmt_fetch(p.stmt)))
			ok = my_stmt_fail(c, p.stmt, "looking rows up", err);
		my_prepared_clear(&p);
		*count += ok ? (unsigned long long)got : 0;
	}
	return ok;
}

/* A job's lock is a lock of the session (GET_LOCK), which no server
 * timeout may end. */
bool my_job_lock_hold(struct conn *c, struct sl_error *err)
{
	return my_exec(c, "SET SESSION wait_timeout = 31536000", err);
}

bool my_job_lock_try(struct conn *c, uint64_t key, bool *held, struct sl_error *err)
{
	/* GET_LOCK's names are per server: the database goes in */
	char sql[160], *got = NULL;
	snprintf(sql, sizeof sql,
		 "SELECT GET_LOCK(CONCAT('sluice-%016llx-', MD5(COALESCE(DATABASE(), ''))), 0)",
		 (unsigned long long)key);
	if (!my_query_row(c, sql, &got, 1, err))
		return false;
	*held = got && !strcmp(got, "1");
	free(got);
	return true;
}
