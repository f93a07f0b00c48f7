/* src/db/pg.c
 * The PostgreSQL driver on libpq: COPY FROM STDIN in text format, or
 * multi-row parameterized INSERTs through one reused prepared statement.
 * URLs go to libpq as they are, so PG* variables and ~/.pgpass apply.
 */
#include <errno.h>
#include <libpq-fe.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "sluice/convert.h"
#include "sluice/driver.h"
#include "sluice/signals.h"
#include "sluice/url.h"

#define COPY_FLUSH_BYTES (512 * 1024)

struct conn {
	PGconn *pg;
	char *url; /* kept only to scrub its password from messages */
	struct buf sql;
	struct buf copy;
	char *prepared_text; /* the INSERT prepared as "sluice_ins", or NULL */
	/* a pooler (PgBouncer) stands between: each transaction may run on
	 * another server session, so nothing lives in a session across them */
	bool pooled;
	const char **params;
	size_t nparams_cap;
	/* column types of the table being updated, by spec column */
	char *types_key;
	char **types;
	int ntypes;
	int *exact;	  /* per column: what it would round (convert_exact_rule_for_pg) */
	bool any_exact;	  /* some column has a rule */
	bool key_indexed; /* the update's key has a unique index */
	/* the transaction id of the last COMMIT sent, the server process that
	 * ran it (pg_backend_pid(): through a pooler PQbackendPID is the
	 * pooler's own key, no process), and whether its reply was lost */
	char xid[32];
	int xid_pid;
	bool commit_in_doubt;
	/* --timeout: every wait on the server is a poll on its socket that
	 * gives up after this many seconds without a byte moving (0: never);
	 * then the connection is dropped (stalled) and counts as broken */
	double timeout;
	bool stalled;
	/* after a signal (signals.h) no statement starts but a rollback
	 * (cleanup); the one in flight is cancelled (last at cancel_at, 0:
	 * not yet), and dropped when it does not end in time (interrupted) */
	bool cleanup;
	double cancel_at;
	bool interrupted;
	char redacted[512]; /* the URL without its password, once connected */
};

/* Whether an error with this SQLSTATE would hit every row of any batch
 * (privileges, a missing table or column, a read-only server, resources,
 * transaction state) and so must stop the run. Any other error belongs to
 * the rows written (a refused value, a constraint, a trigger's RAISE with
 * whatever code it chose, a row or a JSON value too big): the batch is
 * bisected and the row that fails alone is rejected. */
static const char *const every_row_classes[] = {
	"0A", "25", "26", "28", "2D", "34", "3B", "3D", "3F",
	"42", "53", "55", "57", "58", "72", "F0", "HV", "XX",
};

static bool pg_state_hits_every_row(const char *state)
{
	if (state[0] == '0' && state[1] != '9')
		return true; /* connection, feature and role classes; 09 is a trigger's */
	for (size_t i = 0; i < sizeof every_row_classes / sizeof every_row_classes[0]; i++)
		if (!strncmp(state, every_row_classes[i], 2))
			return true;
	return false;
}

/* Fill err from a failed result (or the connection when res is NULL). */
static bool pg_fail(struct conn *c, PGresult *res, const char *what, struct sl_error *err)
{
	const char *code = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	if (c->interrupted || (signals_caught() && code && !strcmp(code, "57014"))) {
		/* cut, refused or cancelled (57014) at a signal */
		c->interrupted = true;
		return sl_error_set(err, SL_ERR_INTERRUPTED, "%s: %s: interrupted by %s",
				    c->redacted, what, signals_name());
	}
	if (c->stalled)
		return sl_error_set(err, SL_ERR_CONNECTION,
				    "%s: %s: no reply from the server for %g s (--timeout %g); the "
				    "connection is dropped",
				    c->redacted, what, c->timeout, c->timeout);
	const char *msg = res ? PQresultErrorMessage(res) : PQerrorMessage(c->pg);
	const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	enum sl_error_kind kind = SL_ERR_SERVER;
	if (PQstatus(c->pg) == CONNECTION_BAD || (state && !strncmp(state, "08", 2)) ||
	    (state &&
	     (!strcmp(state, "57P01") || !strcmp(state, "57P02") || !strcmp(state, "57P03"))))
		kind = SL_ERR_CONNECTION;
	else if (state && (!strcmp(state, "40001") || !strcmp(state, "40P01")))
		kind = SL_ERR_RETRY;
	else if (state && strlen(state) == 5 && !pg_state_hits_every_row(state))
		kind = SL_ERR_DATA;
	/* the row COPY names: "COPY t, line N[, column c][: value]" (the first
	 * ", line " followed by digits; a table name could hold the words, so
	 * the caller only takes it as a hint: the row must fail alone) */
	long row = 0;
	const char *context = res ? PQresultErrorField(res, PG_DIAG_CONTEXT) : NULL;
	if (context && !strncmp(context, "COPY ", 5)) {
		for (const char *p = strstr(context, ", line "); p && !row;
		     p = strstr(p + 1, ", line ")) {
			char *end;
			long v = strtol(p + 7, &end, 10);
			if (end > p + 7 && v > 0 && (*end == ',' || *end == ':' || !*end))
				row = v;
		}
	}
	char text[900];
	snprintf(text, sizeof text, "%s", msg && *msg ? msg : "unknown error");
	/* COPY's context counts lines of the batch sluice sent ("COPY t, line
	 * 1, column n: ..."), which says nothing of the input: keep the column
	 * only; the caller names the input file and line */
	char *ctx = strstr(text, "CONTEXT:  COPY ");
	if (ctx) {
		char *col = strstr(ctx, ", column ");
		char column[200] = "";
		if (col) {
			size_t k = strcspn(col + 9, ":\n");
			snprintf(column, sizeof column, "(column %.*s)", (int)(k < 150 ? k : 150),
				 col + 9);
		}
		snprintf(ctx, sizeof text - (size_t)(ctx - text), "%s", column);
	}
	/* one line: drop the trailing newline, keep the detail on one line
	 * (libpq indents a continued line with a TAB: one space for both) */
	char *o = text;
	for (char *p = text; *p; p++) {
		if (*p == '\n') {
			while (p[1] == '\t' || p[1] == ' ')
				p++;
			if (!p[1])
				break;
			*o++ = ' ';
		} else {
			*o++ = *p;
		}
	}
	*o = '\0';
	/* a broken connection names its server (once connected: a failed
	 * connect is prefixed by pg_connect) */
	if (kind == SL_ERR_CONNECTION && c->redacted[0])
		sl_error_set(err, kind, "%s: %s: %s", c->redacted, what, text);
	else
		sl_error_set(err, kind, "%s: %s", what, text);
	if (state)
		snprintf(err->sqlstate, sizeof err->sqlstate, "%s", state);
	err->row = kind == SL_ERR_DATA ? row : 0;
	url_scrub(err->msg, c->url);
	return false;
}

static double mono_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The thread that sends a cancel request (pg_cancel). */
static void *cancel_main(void *arg)
{
	PGcancel *cancel = arg;
	char msg[256];
	PQcancel(cancel, msg, sizeof msg);
	PQfreeCancel(cancel);
	return NULL;
}

/* Ask the server to cancel what c runs, without waiting: libpq's PQcancel
 * waits for the server to close the request's socket, for ever when it is
 * stopped, so it runs on a thread of its own with a PGcancel of its own,
 * abandoned at exit if it never returns. The caller goes on waiting for
 * the statement's end on its own terms (pg_wait). */
static void pg_cancel(struct conn *c)
{
	PGcancel *cancel = PQgetCancel(c->pg);
	pthread_attr_t attr;
	pthread_t th;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	if (cancel && pthread_create(&th, &attr, cancel_main, cancel) != 0)
		PQfreeCancel(cancel);
	pthread_attr_destroy(&attr);
	c->cancel_at = mono_now();
}

/* Whether a statement may be sent on c: not on a dropped connection, nor
 * after a signal unless it is a rollback's (c->cleanup). */
static bool pg_may_send(struct conn *c)
{
	if (c->stalled)
		return false;
	if (signals_caught() && !c->cleanup) {
		c->interrupted = true;
		return false;
	}
	c->cancel_at = 0;
	return true;
}

/* Seconds between cancel requests for one statement: one that reaches the
 * server before it has read the statement is dropped there. */
#define CANCEL_AGAIN 0.25

/* Wait until the server's socket is readable (or writable, with out), for
 * at most --timeout seconds. False when the connection is gone or stalled:
 * nothing moved in time, so the connection is dropped (its socket shut
 * down, so no later call waits on it either) and c->stalled tells pg_fail.
 * A long statement that streams (COPY) keeps moving bytes and is never cut;
 * a stopped backend or a silent network is. A signal wakes the wait: the
 * statement is cancelled on the server, and waited for until
 * signals_deadline only; then the connection is dropped (c->interrupted). */
static bool pg_wait(struct conn *c, bool out)
{
	int fd = PQsocket(c->pg);
	if (c->stalled || fd < 0)
		return false;
	double start = mono_now();
	double deadline = c->timeout > 0 ? start + c->timeout : 0;
	bool signalled = false;
	for (;;) {
		double now = mono_now(), until = deadline;
		if (!signalled && signals_caught()) {
			signalled = true;
			double by = signals_deadline(start);
			if (!deadline || by < deadline)
				deadline = until = by;
		}
		if (signalled && !c->cleanup) {
			if (now >= c->cancel_at + CANCEL_AGAIN)
				pg_cancel(c);
			if (c->cancel_at + CANCEL_AGAIN < until)
				until = c->cancel_at + CANCEL_AGAIN;
		}
		struct pollfd p[2] = {
			{.fd = fd, .events = (short)(POLLIN | (out ? POLLOUT : 0))},
			{.fd = signals_fd(), .events = POLLIN},
		};
		int ms = -1;
		if (until > 0)
			ms = until > now ? (int)((until - now) * 1000) + 1 : 0;
		int rc = poll(p, signalled || p[1].fd < 0 ? 1 : 2, ms);
		if (rc > 0 && p[0].revents)
			return true; /* errors and hang-ups are libpq's to read */
		if (rc != 0 || !deadline || mono_now() < deadline)
			continue; /* the signal, or time to cancel again */
		c->stalled = true;
		c->interrupted = signalled;
		shutdown(fd, SHUT_RDWR);
		return false;
	}
}

/* Send what libpq holds (the connection is nonblocking), reading whatever
 * the server says meanwhile; false when it broke or stalled. */
static bool pg_flush(struct conn *c)
{
	for (;;) {
		int rc = PQflush(c->pg);
		if (rc <= 0)
			return rc == 0;
		if (!pg_wait(c, true) || !PQconsumeInput(c->pg))
			return false;
	}
}

/* The next result of what was sent, as PQgetResult, waiting at most
 * --timeout between bytes. NULL at the end, and when the connection broke
 * (libpq then gave an error result first) or stalled (c->stalled). */
static PGresult *pg_result(struct conn *c)
{
	if (c->stalled || !pg_flush(c))
		return NULL;
	while (PQisBusy(c->pg))
		if (!pg_wait(c, false) || !PQconsumeInput(c->pg))
			break;
	return c->stalled ? NULL : PQgetResult(c->pg);
}

/* After a statement was sent (sent: its PQsend* result), wait for its
 * outcome as PQexec does: the last result, the first error in preference,
 * a COPY state at once. NULL when it could not be sent or the connection
 * stalled (pg_fail says which). */
static PGresult *pg_outcome(struct conn *c, int sent)
{
	if (!sent || c->stalled)
		return NULL;
	PGresult *last = NULL, *res;
	while ((res = pg_result(c)) != NULL) {
		ExecStatusType st = PQresultStatus(res);
		if (st == PGRES_COPY_IN || st == PGRES_COPY_OUT || st == PGRES_COPY_BOTH) {
			PQclear(last);
			return res;
		}
		if (last && PQresultStatus(last) == PGRES_FATAL_ERROR) {
			PQclear(res);
		} else {
			PQclear(last);
			last = res;
		}
	}
	if (c->stalled) {
		PQclear(last);
		return NULL;
	}
	return last;
}

/* PQexec, PQexecParams (text), PQexecPrepared and PQprepare, each waiting
 * at most --timeout between bytes (see pg_outcome). */
static PGresult *pg_run(struct conn *c, const char *sql)
{
	return pg_outcome(c, pg_may_send(c) ? PQsendQuery(c->pg, sql) : 0);
}

static PGresult *pg_run_params(struct conn *c, const char *sql, int n, const char *const *params)
{
	return pg_outcome(c, pg_may_send(c) &&
				     PQsendQueryParams(c->pg, sql, n, NULL, params, NULL, NULL, 0));
}

static PGresult *pg_run_prepared(struct conn *c, const char *name, int n, const char *const *params)
{
	return pg_outcome(c, pg_may_send(c) &&
				     PQsendQueryPrepared(c->pg, name, n, params, NULL, NULL, 0));
}

static PGresult *pg_run_prepare(struct conn *c, const char *name, const char *sql)
{
	return pg_outcome(c, pg_may_send(c) ? PQsendPrepare(c->pg, name, sql, 0, NULL) : 0);
}

/* PQputCopyData, PQputCopyEnd and PQgetCopyData (blocking form) on the
 * nonblocking connection: they wait at most --timeout between bytes. The
 * first two return 1 or -1, the third as PQgetCopyData, -2 when broken or
 * stalled. */
static int pg_put_copy(struct conn *c, const char *data, size_t len)
{
	for (;;) {
		int rc = c->stalled ? -1 : PQputCopyData(c->pg, data, (int)len);
		/* send it before taking more: libpq's buffer would otherwise grow
		 * to the whole batch while the server is slower than the input */
		if (rc != 0)
			return rc == 1 && pg_flush(c) ? 1 : -1;
		if (!pg_wait(c, true) || !PQconsumeInput(c->pg))
			return -1;
	}
}

static int pg_put_copy_end(struct conn *c, const char *errmsg)
{
	for (;;) {
		int rc = c->stalled ? -1 : PQputCopyEnd(c->pg, errmsg);
		if (rc != 0)
			return rc == 1 && pg_flush(c) ? 1 : -1;
		if (!pg_wait(c, true) || !PQconsumeInput(c->pg))
			return -1;
	}
}

static int pg_get_copy(struct conn *c, char **line)
{
	for (;;) {
		int n = c->stalled ? -2 : PQgetCopyData(c->pg, line, 1);
		if (n != 0)
			return n;
		if (!pg_wait(c, false) || !PQconsumeInput(c->pg))
			return -2;
	}
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
	for (int i = 0; i < c->ntypes; i++)
		free(c->types[i]);
	free(c->types);
	free(c->types_key);
	free(c->exact);
	free(c);
}

static void ignore_notice(void *arg, const char *message)
{
	(void)arg;
	(void)message; /* NOTICEs (e.g. "truncate cascades") are not for stderr */
}

/* A connection failure that trying again cannot cure: wrong password or
 * user, a database that does not exist, no access. Retrying with backoff
 * would only lock accounts or delay the message. */
static bool pg_connect_refused(PGconn *pg)
{
	const char *msg = PQerrorMessage(pg);
	static const char *const refused[] = {
		"authentication failed",   "no password supplied",	    "password is required",
		"does not exist",	   "no pg_hba.conf entry",	    "permission denied",
		"not permitted to log in", "too many connections for role",
	};
	if (PQconnectionNeedsPassword(pg))
		return true;
	for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++)
		if (msg && strstr(msg, refused[i]))
			return true;
	return false;
}

static bool pg_exec(struct conn *c, const char *sql, struct sl_error *err);

/* Whether a pooler stands between sluice and PostgreSQL: PgBouncer and its
 * like answer the startup with a cancel key of their own, so PQbackendPID
 * names no server process. Through one, each transaction may run on another
 * server session (transaction pooling), so c->pooled turns off what would
 * live in a session across transactions: the prepared "sluice_ins" (another
 * client's may be there, or ours missing). Statement pooling ends the
 * connection at the first BEGIN, while sluice writes each batch in a
 * transaction: that is refused here, before anything is written (a
 * --truncate would otherwise empty the table first). */
static bool pg_detect_pooler(struct conn *c, struct sl_error *err)
{
	PGresult *res = pg_run(c, "SELECT pg_backend_pid()");
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		pg_fail(c, res, "asking for the server process", err);
		PQclear(res);
		return false;
	}
	c->pooled = atoi(PQgetvalue(res, 0, 0)) != PQbackendPID(c->pg);
	PQclear(res);
	if (!c->pooled || (pg_exec(c, "BEGIN", err) && pg_exec(c, "ROLLBACK", err)))
		return true;
	if (strstr(err->msg, "pooling mode"))
		/* PgBouncer: "transaction blocks not allowed in statement pooling mode" */
		return sl_error_set(err, SL_ERR_SERVER,
				    "the pooler in front of PostgreSQL refuses transactions "
				    "(statement pooling), and sluice writes each batch in one: use "
				    "pool_mode = transaction or session, or connect to PostgreSQL "
				    "directly");
	return false;
}

/* Drive a connection that PQconnectStartParams began to its end, polling
 * its socket next to signals_fd, for at most --timeout: neither a server
 * that never answers nor a signal keeps sluice waiting. False when it
 * failed (PQstatus), timed out (c->stalled) or a signal came
 * (c->interrupted). The timeout is the whole connect's, not each host's. */
static bool pg_connect_wait(struct conn *c)
{
	double deadline = c->timeout > 0 ? mono_now() + c->timeout : 0;
	PostgresPollingStatusType st = PGRES_POLLING_WRITING;
	for (;;) {
		if (signals_caught()) {
			c->interrupted = true;
			return false;
		}
		if (st == PGRES_POLLING_OK || st == PGRES_POLLING_FAILED)
			return st == PGRES_POLLING_OK;
		struct pollfd p[2] = {
			{.fd = PQsocket(c->pg),
			 .events = st == PGRES_POLLING_READING ? POLLIN : POLLOUT},
			{.fd = signals_fd(), .events = POLLIN},
		};
		if (p[0].fd < 0)
			return false;
		int ms = -1;
		if (deadline > 0) {
			double left = deadline - mono_now();
			ms = left > 0 ? (int)(left * 1000) + 1 : 0;
		}
		int rc = poll(p, p[1].fd < 0 ? 1 : 2, ms);
		if (rc == 0) {
			c->stalled = true;
			return false;
		}
		if (rc > 0 && p[0].revents)
			st = PQconnectPoll(c->pg);
	}
}

static bool pg_connect(const char *url, const struct conn_options *opts, struct conn **out,
		       struct sl_error *err)
{
	char redacted[512];
	url_redact(url, redacted, sizeof redacted);
	/* a URL libpq cannot parse is the user's to fix, not a failed connection */
	char *perr = NULL;
	PQconninfoOption *parsed = PQconninfoParse(url, &perr);
	if (!parsed) {
		char text[600];
		snprintf(text, sizeof text, "%s", perr ? perr : "out of memory");
		for (char *p = text; *p; p++)
			if (*p == '\n')
				*p = p[1] ? ' ' : '\0';
		PQfreemem(perr);
		sl_error_set(err, SL_ERR_USAGE, "%s: bad URL: %s", redacted, text);
		url_scrub(err->msg, url);
		return false;
	}
	PQconninfoFree(parsed);
	struct conn *c = calloc(1, sizeof *c);
	if (!c)
		return sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
	c->url = strdup(url);
	buf_init(&c->sql, 0);
	buf_init(&c->copy, 0);
	/* --timeout: a connect, and a connection that goes silent (a cut
	 * network: keepalives; data the server never acknowledges: TCP user
	 * timeout), give up after it. These come before the URL, so the URL's
	 * own settings win (libpq keeps the last value of a keyword). */
	c->timeout = opts && opts->timeout > 0 ? opts->timeout : 0;
	long secs = (long)c->timeout + ((double)(long)c->timeout < c->timeout);
	char ct[24], idle[24], intvl[24], uto[24];
	snprintf(ct, sizeof ct, "%ld", secs);
	snprintf(idle, sizeof idle, "%ld", secs / 3 > 1 ? secs / 3 : 1);
	snprintf(intvl, sizeof intvl, "%ld", secs / 9 > 1 ? secs / 9 : 1);
	snprintf(uto, sizeof uto, "%.0f", c->timeout * 1000);
	const char *keys[] = {"connect_timeout",  "keepalives",
			      "keepalives_idle",  "keepalives_interval",
			      "keepalives_count", "tcp_user_timeout",
			      "dbname",		  "fallback_application_name",
			      "client_encoding",  NULL};
	const char *vals[] = {ct, "1", idle, intvl, "3", uto, url, "sluice", "UTF8", NULL};
	int first = c->timeout > 0 ? 0 : 6; /* no timeout: libpq's defaults */
	c->pg = PQconnectStartParams(keys + first, vals + first, 1);
	bool up = c->url && c->pg && PQstatus(c->pg) != CONNECTION_BAD && pg_connect_wait(c);
	if (!up && (c->interrupted || c->stalled)) {
		if (c->interrupted)
			sl_error_set(err, SL_ERR_INTERRUPTED,
				     "%s: interrupted by %s while connecting", redacted,
				     signals_name());
		else
			sl_error_set(err, SL_ERR_CONNECTION,
				     "%s: cannot connect: no reply from the server for %g s "
				     "(--timeout %g)",
				     redacted, c->timeout, c->timeout);
		pg_close(c);
		return false;
	}
	if (!up) {
		if (c->pg && c->url)
			pg_fail(c, NULL, "cannot connect", err);
		else
			sl_error_set(err, SL_ERR_CONNECTION, "cannot connect: out of memory");
		/* SL_ERR_CONNECTION is retried with backoff; a refusal is not */
		err->kind = c->pg && pg_connect_refused(c->pg) ? SL_ERR_SERVER : SL_ERR_CONNECTION;
		/* libpq checks option values (a port that is not a number, an
		 * unknown sslmode) only when it connects: still the URL's fault */
		if (c->pg && !strncmp(PQerrorMessage(c->pg), "invalid ", 8))
			err->kind = SL_ERR_USAGE;
		sl_error_prefix(err, "%s", redacted);
		pg_close(c);
		return false;
	}
	PQsetNoticeProcessor(c->pg, ignore_notice, NULL);
	/* every wait is a poll on the socket (pg_wait): nothing blocks inside libpq */
	PQsetnonblocking(c->pg, 1);
	snprintf(c->redacted, sizeof c->redacted, "%s", redacted);
	if (!pg_detect_pooler(c, err)) {
		if (err->kind != SL_ERR_CONNECTION)
			sl_error_prefix(err, "%s", redacted);
		pg_close(c);
		return false;
	}
	/* string literals as sluice writes and reads them (DDL defaults, CHECKs,
	 * pg_get_expr text): a backslash is a backslash. A database or role
	 * set to off would turn a '\t' in a default into a TAB. A session SET,
	 * even through a transaction pooler: PgBouncer keeps this setting per
	 * client and puts it on whichever server session the client gets (as
	 * for TimeZone, DateStyle, client_encoding and application_name; any
	 * other setting sluice makes is a SET LOCAL inside its transaction). */
	const char *scs = PQparameterStatus(c->pg, "standard_conforming_strings");
	if ((!scs || strcmp(scs, "on")) &&
	    !pg_exec(c, "SET standard_conforming_strings = on", err)) {
		sl_error_prefix(err, "%s", redacted);
		pg_close(c);
		return false;
	}
	/* writes in UTC, as on MySQL: a timestamp without an offset means the
	 * same instant whatever the server's or the role's time zone */
	const char *tz = PQparameterStatus(c->pg, "TimeZone");
	if ((!tz || (strcmp(tz, "UTC") && strcmp(tz, "Etc/UTC"))) &&
	    !pg_exec(c, "SET TimeZone = 'UTC'", err)) {
		sl_error_prefix(err, "%s", redacted);
		pg_close(c);
		return false;
	}
	*out = c;
	return true;
}

static bool pg_exec(struct conn *c, const char *sql, struct sl_error *err)
{
	PGresult *res = pg_run(c, sql);
	ExecStatusType st = PQresultStatus(res);
	bool ok = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;
	if (!ok && c->stalled) {
		/* say what it was waiting for: "running COMMIT" */
		char what[64];
		snprintf(what, sizeof what, "running %.40s", sql);
		for (char *p = what; *p; p++)
			if (*p == '\n' || *p == '\t')
				*p = ' ';
		pg_fail(c, res, what, err);
	} else if (!ok) {
		pg_fail(c, res, "query failed", err);
	}
	PQclear(res);
	return ok;
}

/* Through a pooler each transaction sets its own time zone: the session's
 * SET TimeZone (pg_connect) is carried to whichever server session runs it
 * by PgBouncer, not by every pooler, and a SET LOCAL leaves nothing behind
 * for the next client. */
static bool pg_begin(struct conn *c, struct sl_error *err)
{
	return pg_exec(c, c->pooled ? "BEGIN; SET LOCAL TimeZone = 'UTC'" : "BEGIN", err);
}

static bool pg_commit(struct conn *c, struct sl_error *err)
{
	/* remember the transaction's id so that a COMMIT whose reply is lost
	 * can be looked up later (txid_status) instead of guessed, and the
	 * server process running it, asked inside the transaction (through a
	 * transaction pooler the next one may run on another) */
	c->xid[0] = '\0';
	c->xid_pid = 0;
	c->commit_in_doubt = false;
	PGresult *res = pg_run(c, "SELECT txid_current(), pg_backend_pid()");
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		pg_fail(c, res, "COMMIT failed", err);
		PQclear(res);
		return false;
	}
	snprintf(c->xid, sizeof c->xid, "%s", PQgetvalue(res, 0, 0));
	c->xid_pid = atoi(PQgetvalue(res, 0, 1));
	PQclear(res);
	if (pg_exec(c, "COMMIT", err))
		return true;
	/* sent and cut off (a signal's deadline too), not refused */
	c->commit_in_doubt =
		err->kind == SL_ERR_CONNECTION || (err->kind == SL_ERR_INTERRUPTED && c->stalled);
	return false;
}

static int pg_commit_token(struct conn *c, char *out, size_t n)
{
	if (!c->commit_in_doubt)
		return 0;
	if (!c->xid[0])
		return -1;
	/* the transaction, and the backend that may still be running it */
	snprintf(out, n, "%s/%d", c->xid, c->xid_pid);
	return 1;
}

static const char *pg_commit_mode(const struct conn *c)
{
	(void)c;
	return "txid";
}

static bool pg_commit_status(struct conn *c, const char *token, bool *committed,
			     struct sl_error *err)
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
	double start = mono_now(), wait = c->timeout > 5 ? c->timeout : 5;
	bool ended = !backend[0] || !strcmp(backend, "0");
	while (mono_now() < start + wait) {
		const char *params[1] = {xid};
		if (!ended && mono_now() > start + 1) {
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

static bool pg_rollback(struct conn *c, struct sl_error *err)
{
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

static bool pg_server_version(struct conn *c, char *out, size_t n, struct sl_error *err)
{
	(void)err;
	int v = PQserverVersion(c->pg);
	snprintf(out, n, "PostgreSQL %d.%d", v / 10000, v % 10000);
	return true;
}

static bool pg_healthy(struct conn *c)
{
	if (c->stalled || PQstatus(c->pg) != CONNECTION_OK)
		return false;
	PGresult *res = pg_run(c, "SELECT 1");
	bool ok = PQresultStatus(res) == PGRES_TUPLES_OK;
	PQclear(res);
	return ok;
}

/* Run q with params; false with err unless it returns rows. *res is the
 * caller's to PQclear. */
static bool query_rows(struct conn *c, const char *q, int nparams, const char *const *params,
		       const char *what, PGresult **res, struct sl_error *err)
{
	*res = pg_run_params(c, q, nparams, params);
	if (PQresultStatus(*res) == PGRES_TUPLES_OK)
		return true;
	pg_fail(c, *res, what, err);
	PQclear(*res);
	*res = NULL;
	return false;
}

/* Add the table's primary key and unique indexes (not partial, not on
 * expressions) to out, columns in index order. */
static bool describe_unique(struct conn *c, const char *table, struct table_desc *out,
			    struct sl_error *err)
{
	const char *q =
		"SELECT ic.relname, i.indisprimary, a.attname, k.ord = 1 "
		"FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid "
		"CROSS JOIN LATERAL unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord) "
		"JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum "
		"WHERE i.indrelid = to_regclass($1) AND i.indisunique AND i.indpred IS NULL "
		"AND i.indexprs IS NULL ORDER BY ic.relname, k.ord";
	const char *params[1] = {table};
	PGresult *res;
	if (!query_rows(c, q, 1, params, "describing table", &res, err))
		return false;
	int n = PQntuples(res);
	char **cols = calloc((size_t)(n ? n : 1), sizeof *cols);
	bool ok = cols != NULL;
	for (int i = 0; ok && i < n;) {
		int k = 0;
		do {
			cols[k] = PQgetvalue(res, i + k, 2);
			k++;
		} while (i + k < n && PQgetvalue(res, i + k, 3)[0] != 't');
		ok = table_desc_add_unique(out, PQgetvalue(res, i, 0),
					   PQgetvalue(res, i, 1)[0] == 't', cols, k);
		i += k;
	}
	free(cols);
	PQclear(res);
	if (!ok) {
		table_desc_free(out);
		return sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
	}
	return true;
}

/* The table among its relatives: whether it or any partition under it is
 * a foreign table (COPY into postgres_fdw sends one row per remote INSERT,
 * while a multi-row INSERT goes out in the foreign server's batch_size);
 * whether other tables inherit from it (not as partitions: those are read
 * through their parent); the table it inherits from itself. */
static bool describe_relatives(struct conn *c, const char *table, struct table_desc *out,
			       struct sl_error *err)
{
	const char *q =
		"WITH RECURSIVE parts(oid) AS (SELECT to_regclass($1)::oid UNION ALL "
		"SELECT i.inhrelid FROM pg_inherits i JOIN parts p ON i.inhparent = p.oid) "
		"SELECT EXISTS (SELECT 1 FROM parts JOIN pg_class r ON r.oid = parts.oid "
		"WHERE r.relkind = 'f'), "
		"EXISTS (SELECT 1 FROM pg_inherits i JOIN pg_class ch ON ch.oid = i.inhrelid "
		"WHERE i.inhparent = to_regclass($1) AND NOT ch.relispartition), "
		"(SELECT p.relname FROM pg_inherits i JOIN pg_class p ON p.oid = i.inhparent "
		"JOIN pg_class me ON me.oid = i.inhrelid WHERE i.inhrelid = to_regclass($1) "
		"AND NOT me.relispartition ORDER BY i.inhseqno LIMIT 1)";
	const char *params[1] = {table};
	PGresult *res;
	if (!query_rows(c, q, 1, params, "describing table", &res, err)) {
		table_desc_free(out);
		return false;
	}
	out->bulk_is_slow = PQgetvalue(res, 0, 0)[0] == 't';
	out->has_children = PQgetvalue(res, 0, 1)[0] == 't';
	bool ok = PQgetisnull(res, 0, 2) || (out->parent = strdup(PQgetvalue(res, 0, 2)));
	PQclear(res);
	if (!ok) {
		table_desc_free(out);
		return sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
	}
	return true;
}

static bool pg_describe_table(struct conn *c, const struct write_spec *spec, struct table_desc *out,
			      struct sl_error *err)
{
	memset(out, 0, sizeof *out);
	buf_reset(&c->sql);
	if (!sql_table_name(&pg_dialect, &c->sql, spec))
		return sl_error_set(err, SL_ERR_USAGE, "bad table name");
	const char *q = "SELECT a.attname, format_type(a.atttypid, a.atttypmod), NOT a.attnotnull, "
			/* the bare "bit" and "character" read as bit(1) and
			 * character(1): bit varying and bpchar keep the whole
			 * value for the column to check */
			"a.atthasdef, CASE a.atttypid WHEN 'bit'::regtype THEN 'bit varying' "
			"WHEN 'bit[]'::regtype THEN 'bit varying[]' WHEN 'bpchar'::regtype THEN "
			"'bpchar' WHEN 'bpchar[]'::regtype THEN 'bpchar[]' "
			"ELSE format_type(a.atttypid, NULL) END "
			"FROM pg_attribute a WHERE a.attrelid = to_regclass($1) AND a.attnum > 0 "
			"AND NOT a.attisdropped ORDER BY a.attnum";
	const char *params[1] = {c->sql.data};
	PGresult *res;
	if (!query_rows(c, q, 1, params, "describing table", &res, err))
		return false;
	int n = PQntuples(res);
	out->exists = n > 0;
	out->cols = n ? calloc((size_t)n, sizeof *out->cols) : NULL;
	for (int i = 0; i < n && out->cols; i++) {
		out->cols[i].name = strdup(PQgetvalue(res, i, 0));
		out->cols[i].type = strdup(PQgetvalue(res, i, 1));
		out->cols[i].nullable = PQgetvalue(res, i, 2)[0] == 't';
		out->cols[i].has_default = PQgetvalue(res, i, 3)[0] == 't';
		out->cols[i].base_type = strdup(PQgetvalue(res, i, 4));
		out->ncols = i + 1;
	}
	PQclear(res);
	if (n && !out->cols)
		return sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
	return !out->exists || (describe_unique(c, params[0], out, err) &&
				describe_relatives(c, params[0], out, err));
}

/* Run COPY statement sql with rows [first, first+n) of b as its data, in
 * text format, escaped by pg_copy_escape; numbered: each line starts with
 * the row's number in the range (0, 1, ...). */
static bool copy_in(struct conn *c, const char *sql, const struct batch *b, size_t first, size_t n,
		    bool numbered, char *const *skip, struct sl_error *err)
{
	PGresult *res = pg_run(c, sql);
	if (PQresultStatus(res) != PGRES_COPY_IN) {
		pg_fail(c, res, "COPY failed", err);
		PQclear(res);
		return false;
	}
	PQclear(res);
	buf_reset(&c->copy);
	bool ok = true, interrupted = false;
	for (size_t r = first; r < first + n && ok; r++) {
		const struct cell *row = batch_row(b, r);
		if (skip && skip[r - first])
			continue; /* refused already */
		if (numbered && !buf_printf(&c->copy, "%zu\t", r - first))
			ok = false;
		for (int col = 0; ok && col < b->ncols; col++) {
			if ((col && !buf_putc(&c->copy, '\t')) ||
			    !pg_copy_escape(&c->copy, row[col].ptr, row[col].len)) {
				ok = false;
				break;
			}
		}
		if (ok && !buf_putc(&c->copy, '\n'))
			ok = false;
		if (ok && c->copy.len >= COPY_FLUSH_BYTES) {
			/* a signal ends the COPY here, not at the batch's end */
			if (signals_caught()) {
				ok = false;
				interrupted = c->interrupted = true;
				break;
			}
			if (pg_put_copy(c, c->copy.data, c->copy.len) != 1)
				break;
			buf_reset(&c->copy);
		}
	}
	if (!ok) {
		c->cleanup = interrupted; /* ending it is the cancel */
		pg_put_copy_end(c, interrupted ? "interrupted" : "row too large");
		while ((res = pg_result(c)) != NULL)
			PQclear(res);
		c->cleanup = false;
		if (c->stalled || interrupted)
			return pg_fail(c, NULL, "COPY failed", err);
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

/* COPY the rows into spec's table. */
static bool write_copy(struct conn *c, const struct write_spec *spec, const struct batch *b,
		       size_t first, size_t n, struct sl_error *err)
{
	buf_reset(&c->sql);
	if (!pg_copy_sql(&c->sql, spec))
		return sl_error_set(err, SL_ERR_USAGE, "bad table or column name");
	return copy_in(c, c->sql.data, b, first, n, false, NULL, err);
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

/* Whether spec's INSERT is an upsert that updates a row already there: its
 * conflict clause sets a column that is not part of the key. */
static bool upsert_updates(const struct write_spec *spec)
{
	if (spec->on_conflict != CONFLICT_UPDATE)
		return false;
	for (int c = 0; c < spec->ncols; c++) {
		bool is_key = false;
		for (int k = 0; k < spec->nkey; k++)
			is_key |= !strcmp(spec->columns[c], spec->key[k]);
		if (!is_key)
			return true;
	}
	return false;
}

/* The INSERT of nrows rows into b; an upsert that updates returns whether
 * each row was inserted: a row version written by this INSERT has no xmax,
 * one that updated an existing row carries the row lock ON CONFLICT took. */
static bool insert_sql(struct buf *b, const struct write_spec *spec, size_t nrows)
{
	buf_reset(b);
	return sql_insert(&pg_dialect, b, spec, nrows) &&
	       (!upsert_updates(spec) || buf_puts(b, " RETURNING (xmax = 0)"));
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
		for (int i = 0; i < n; i++)
			out->updated += PQgetvalue(res, i, 0)[0] != 't';
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
static int inexact_column(const struct conn *c, const struct cell *row, int ncols, char *why,
			  size_t whysz);

static bool pg_write_batch(struct conn *c, const struct write_spec *spec, const struct batch *b,
			   size_t first, size_t n, struct write_count *out, struct sl_error *err)
{
	*out = (struct write_count){0};
	if (n == 0)
		return true;
	if (!ensure_types(c, spec, err))
		return false;
	for (size_t r = first; c->any_exact && r < first + n; r++) {
		char why[300];
		int col = inexact_column(c, batch_row(b, r), b->ncols, why, sizeof why);
		if (col >= 0)
			return sl_error_set(err, SL_ERR_DATA, "column \"%s\": %s",
					    spec->columns[col], why);
	}
	if (spec->method == METHOD_INSERT || spec->on_conflict != CONFLICT_ERROR)
		return write_insert(c, spec, b, first, n, out, err);
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
	for (int col = 0; col < ncols && col < c->ntypes; col++)
		if (row[col].ptr && c->exact[col] != CONVERT_EXACT_ANY &&
		    !convert_is_exact(c->exact[col], row[col].ptr, row[col].len, why, whysz))
			return col;
	return -1;
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
	for (int i = 0; i < c->ntypes; i++)
		free(c->types[i]);
	free(c->types);
	free(c->types_key);
	c->types_key = NULL;
	c->types = calloc((size_t)spec->ncols, sizeof *c->types);
	free(c->exact);
	c->exact = calloc((size_t)(spec->ncols ? spec->ncols : 1), sizeof *c->exact);
	c->any_exact = false;
	c->ntypes = 0;
	bool ok = c->types != NULL && c->exact != NULL && td.exists;
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
		c->exact[i] = convert_exact_rule_for_pg(td.cols[j].type);
		c->any_exact |= c->exact[i] != CONVERT_EXACT_ANY;
		c->ntypes = i + 1;
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

/* Append the condition, in PL/pgSQL, under which an error is not the
 * row's own (pg_state_hits_every_row, a broken connection, a deadlock):
 * write_each raises it again instead of refusing the row. */
static bool every_row_condition(struct buf *b)
{
	bool ok = buf_puts(b, "(left(SQLSTATE, 1) = '0' AND left(SQLSTATE, 2) <> '09') OR "
			      "SQLSTATE IN ('40001', '40P01') OR left(SQLSTATE, 2) IN (");
	for (size_t i = 0; ok && i < sizeof every_row_classes / sizeof every_row_classes[0]; i++)
		ok = buf_printf(b, "%s'%s'", i ? ", " : "", every_row_classes[i]);
	return ok && buf_putc(b, ')');
}

/* Rows [first, first+n) one by one, in one round trip: COPY them into a
 * temporary table of text columns, then a DO block inserts each in its own
 * subtransaction, casting each value to its column's type without the
 * modifier (the column then checks that, as COPY would), and records the
 * message of each row refused. A batch with many bad rows costs one
 * round trip instead of a bisection per bad row. */
static bool pg_write_each(struct conn *c, const struct write_spec *spec, const struct batch *b,
			  size_t first, size_t n, char **refused, size_t *written,
			  struct sl_error *err)
{
	*written = 0;
	if (!ensure_types(c, spec, err))
		return false;
	/* a value the column would round is refused here, not left to the
	 * server, which would round it */
	for (size_t r = 0; c->any_exact && r < n; r++) {
		char why[300];
		int col = inexact_column(c, batch_row(b, first + r), b->ncols, why, sizeof why);
		if (col >= 0 &&
		    !(refused[r] = pg_printf_alloc("column \"%s\": %s", spec->columns[col], why)))
			return sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
	}
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
						 first, n, true, refused, err)) {
		buf_free(&q);
		return false;
	}
	ok = buf_puts(&body,
		      " DECLARE r record; BEGIN FOR r IN SELECT * FROM pg_temp.\"sluice#each\" "
		      "ORDER BY n LOOP BEGIN INSERT INTO ") &&
	     sql_table_name(&pg_dialect, &body, spec) && buf_puts(&body, " (");
	for (int i = 0; ok && i < spec->ncols; i++)
		ok = (!i || buf_puts(&body, ", ")) &&
		     pg_dialect.quote_ident(&body, spec->columns[i]);
	ok = ok && buf_puts(&body, ") VALUES (");
	for (int i = 0; ok && i < spec->ncols; i++)
		ok = buf_printf(&body, "%sr.c%d::%s", i ? ", " : "", i + 1, c->types[i]);
	ok = ok && buf_puts(&body, "); EXCEPTION WHEN OTHERS THEN IF ") &&
	     every_row_condition(&body) &&
	     buf_puts(&body, " THEN RAISE; END IF; INSERT INTO pg_temp.\"sluice#refused\" VALUES "
			     "(r.n, SQLERRM); END; END LOOP; END ");
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
	if (!ok || !query_rows(c, "SELECT n, msg FROM pg_temp.\"sluice#refused\" ORDER BY n", 0,
			       NULL, "reading the refused rows", &res, err))
		return false;
	size_t nref = 0;
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
		nref++;
	}
	PQclear(res);
	*written = n - nref;
	return true;
}

/* One UPDATE ... FROM (VALUES ...) for nrows rows starting at r. */
static bool update_rows(struct conn *c, const struct write_spec *spec, const struct batch *b,
			size_t r, size_t nrows, unsigned *matched, struct sl_error *err)
{
	int set[b->ncols], key[b->ncols], nset, nkey;
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
	for (int t = 0; t < PQntuples(res); t++) {
		long i = strtol(PQgetvalue(res, t, 0), NULL, 10);
		if (i >= 0 && (size_t)i < nrows)
			matched[i]++; /* one per target row the key matched */
	}
	PQclear(res);
	return true;
}

static bool pg_update_batch(struct conn *c, const struct write_spec *spec, const struct batch *b,
			    size_t first, size_t n, unsigned *matched, struct sl_error *err)
{
	if (!ensure_types(c, spec, err))
		return false;
	int set[b->ncols], key[b->ncols], nset, nkey;
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

/* ---------------------------------------------------------------------------
 * Reading, for copy and verify
 */

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

static bool pg_snapshot(struct conn *c, struct sl_error *err)
{
	return pg_exec(c, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; " READ_SETTINGS, err);
}

static bool pg_snapshot_end(struct conn *c, struct sl_error *err)
{
	return pg_exec(c, "ROLLBACK", err);
}

static bool pg_export_snapshot(struct conn *c, char *id, size_t n, struct sl_error *err)
{
	PGresult *res;
	if (!query_rows(c, "SELECT pg_export_snapshot()", 0, NULL, "exporting the snapshot", &res,
			err))
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
static bool pg_snapshot_at(struct conn *c, const char *id, struct sl_error *err)
{
	/* SET TRANSACTION SNAPSHOT takes a literal only, and must come first in
	 * the transaction; the id is the server's own text (hex digits and
	 * dashes), checked before use */
	for (const char *p = id; *p; p++)
		if (!(*p >= '0' && *p <= '9') && !(*p >= 'A' && *p <= 'F') && *p != '-')
			return sl_error_set(err, SL_ERR_INTERNAL, "odd snapshot id %s", id);
	char sql[512];
	snprintf(sql, sizeof sql,
		 "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; SET TRANSACTION SNAPSHOT "
		 "'%s'; " READ_SETTINGS,
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

static bool pg_describe_schema(struct conn *c, const char *schema, struct schema_desc *out,
			       struct sl_error *err)
{
	memset(out, 0, sizeof *out);
	const char *params[1] = {schema && *schema ? schema : "public"};
	static const char *const queries[4] = {
		/* base tables; a partition is copied through its parent */
		"SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
		"WHERE n.nspname = $1 AND c.relkind IN ('r', 'p') AND NOT c.relispartition ORDER "
		"BY 1",
		"SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
		"WHERE n.nspname = $1 AND c.relkind IN ('v', 'm') ORDER BY 1",
		"SELECT c.relname || '.' || t.tgname FROM pg_trigger t JOIN pg_class c ON c.oid = "
		"t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND "
		"NOT t.tgisinternal ORDER BY 1",
		/* what else copy leaves behind: routines (not an extension's),
		 * rules, sequences that no column owns or takes its default from
		 * (those become the target's identity) */
		"SELECT CASE p.prokind WHEN 'a' THEN 'aggregate ' WHEN 'p' THEN 'procedure ' "
		"WHEN 'w' THEN 'window function ' ELSE 'function ' END || p.proname || '(' || "
		"pg_get_function_identity_arguments(p.oid) || ')' FROM pg_proc p JOIN pg_namespace "
		"n "
		"ON n.oid = p.pronamespace WHERE n.nspname = $1 AND NOT EXISTS (SELECT 1 FROM "
		"pg_depend d WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND "
		"d.deptype = 'e') "
		"UNION ALL SELECT 'rule ' || r.rulename || ' on ' || r.tablename FROM pg_rules r "
		"WHERE r.schemaname = $1 "
		"UNION ALL SELECT 'sequence ' || c.relname FROM pg_class c JOIN pg_namespace n ON "
		"n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relkind = 'S' AND NOT EXISTS "
		"(SELECT 1 FROM pg_depend d WHERE (d.classid = 'pg_attrdef'::regclass AND "
		"d.refclassid = 'pg_class'::regclass AND d.refobjid = c.oid) OR (d.classid = "
		"'pg_class'::regclass AND d.objid = c.oid AND d.deptype IN ('a', 'i', 'e'))) "
		"ORDER BY 1",
	};
	char ***lists[4] = {&out->tables, &out->views, &out->triggers, &out->objects};
	int *counts[4] = {&out->ntables, &out->nviews, &out->ntriggers, &out->nobjects};
	for (int q = 0; q < 4; q++) {
		PGresult *res;
		if (!query_rows(c, queries[q], 1, params, "listing tables", &res, err)) {
			schema_desc_free(out);
			return false;
		}
		bool ok = true;
		for (int i = 0; ok && i < PQntuples(res); i++)
			ok = names_add(lists[q], counts[q], PQgetvalue(res, i, 0));
		PQclear(res);
		if (!ok) {
			schema_desc_free(out);
			return sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
		}
	}
	return true;
}

/* Defaults, identity and generated expressions of out's columns. */
static bool describe_columns_full(struct conn *c, const char *table, struct table_desc *out,
				  struct sl_error *err)
{
	const char *q = "SELECT a.attname, CASE WHEN a.attgenerated = '' THEN pg_get_expr(d.adbin, "
			"d.adrelid) END, "
			"a.attidentity <> '' OR coalesce(pg_get_expr(d.adbin, d.adrelid) LIKE "
			"'nextval(%', false), "
			"CASE WHEN a.attgenerated <> '' THEN pg_get_expr(d.adbin, d.adrelid) END "
			"FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND "
			"d.adnum = "
			"a.attnum WHERE a.attrelid = to_regclass($1) AND a.attnum > 0 AND NOT "
			"a.attisdropped "
			"ORDER BY a.attnum";
	const char *params[1] = {table};
	PGresult *res;
	if (!query_rows(c, q, 1, params, "describing columns", &res, err))
		return false;
	bool ok = true;
	for (int i = 0; ok && i < PQntuples(res) && i < out->ncols; i++) {
		struct column_desc *col = &out->cols[i];
		if (!PQgetisnull(res, i, 1))
			ok = (col->default_expr = strdup(PQgetvalue(res, i, 1))) != NULL;
		col->identity = PQgetvalue(res, i, 2)[0] == 't';
		if (ok && !PQgetisnull(res, i, 3))
			ok = (col->generated = strdup(PQgetvalue(res, i, 3))) != NULL;
	}
	PQclear(res);
	return ok ? true : sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
}

/* The column named name in out, or NULL. */
static struct column_desc *column_named(struct table_desc *out, const char *name)
{
	for (int i = 0; i < out->ncols; i++)
		if (!strcmp(out->cols[i].name, name))
			return &out->cols[i];
	return NULL;
}

/* The enum types and domains of out's columns (of an array's elements
 * too): the type's name; an enum's labels in their order; a domain's base
 * type with its modifier, NOT NULL, its CHECKs joined by AND (written with
 * VALUE) and its default. */
static bool describe_user_types(struct conn *c, const char *table, struct table_desc *out,
				struct sl_error *err)
{
	const char *q =
		"SELECT a.attname, t.typname, t.typtype, CASE WHEN t.typtype = 'd' THEN "
		"format_type(t.typbasetype, t.typtypmod) END, t.typnotnull, "
		"(SELECT CASE WHEN count(*) > 1 THEN string_agg('(' || x.e || ')', ' AND ' ORDER "
		"BY "
		"x.n) ELSE min(x.e) END FROM (SELECT k.oid AS n, substring(pg_get_constraintdef("
		"k.oid) from '^CHECK \\((.*)\\)') AS e FROM pg_constraint k WHERE k.contypid = "
		"t.oid "
		"AND k.contype = 'c') x), CASE WHEN t.typdefaultbin IS NOT NULL THEN "
		"pg_get_expr(t.typdefaultbin, 0) END, e.enumlabel "
		"FROM pg_attribute a JOIN pg_type at ON at.oid = a.atttypid "
		"JOIN pg_type t ON t.oid = CASE WHEN at.typtype = 'b' AND at.typcategory = 'A' AND "
		"at.typelem <> 0 THEN at.typelem ELSE at.oid END "
		"LEFT JOIN pg_enum e ON e.enumtypid = t.oid "
		"WHERE a.attrelid = to_regclass($1) AND a.attnum > 0 AND NOT a.attisdropped "
		"AND t.typtype IN ('e', 'd') ORDER BY a.attnum, e.enumsortorder";
	const char *params[1] = {table};
	PGresult *res;
	if (!query_rows(c, q, 1, params, "describing column types", &res, err))
		return false;
	bool ok = true;
	for (int i = 0; ok && i < PQntuples(res); i++) {
		struct column_desc *col = column_named(out, PQgetvalue(res, i, 0));
		if (!col)
			continue;
		if (!col->udt) {
			col->udt_kind = PQgetvalue(res, i, 2)[0];
			col->domain_not_null = PQgetvalue(res, i, 4)[0] == 't';
			ok = (col->udt = strdup(PQgetvalue(res, i, 1))) != NULL;
			char **fields[] = {&col->domain_base, &col->domain_check,
					   &col->domain_default};
			int at[] = {3, 5, 6};
			for (int f = 0; ok && f < 3; f++)
				if (!PQgetisnull(res, i, at[f]))
					ok = (*fields[f] = strdup(PQgetvalue(res, i, at[f]))) !=
					     NULL;
		}
		if (ok && !PQgetisnull(res, i, 7))
			ok = names_add(&col->labels, &col->nlabels, PQgetvalue(res, i, 7));
	}
	PQclear(res);
	return ok ? true : sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
}

/* The table's CHECK constraints, by name: the expression inside CHECK (...)
 * as pg_get_constraintdef prints it (NOT VALID and NO INHERIT left out). */
static bool describe_checks(struct conn *c, const char *table, struct table_desc *out,
			    struct sl_error *err)
{
	const char *q = "SELECT conname, substring(pg_get_constraintdef(oid) from "
			"'^CHECK \\((.*)\\)') FROM pg_constraint WHERE conrelid = to_regclass($1) "
			"AND contype = 'c' ORDER BY conname";
	const char *params[1] = {table};
	PGresult *res;
	if (!query_rows(c, q, 1, params, "describing CHECK constraints", &res, err))
		return false;
	bool ok = true;
	for (int i = 0; ok && i < PQntuples(res); i++)
		if (!PQgetisnull(res, i, 1))
			ok = table_desc_add_check(out, PQgetvalue(res, i, 0),
						  PQgetvalue(res, i, 1));
	PQclear(res);
	return ok ? true : sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
}

/* Every index of the table, columns in order; an expression part makes the
 * index one that cannot be carried across servers. Its definition, for a
 * PostgreSQL target: pg_get_indexdef() after the table's name ("USING
 * btree (lower(a)) WHERE ..."), or an EXCLUDE constraint's
 * pg_get_constraintdef(). */
static bool describe_indexes(struct conn *c, const char *table, struct table_desc *out,
			     struct sl_error *err)
{
	const char *q =
		"SELECT ic.relname, i.indisunique, i.indisprimary, am.amname, "
		"i.indexprs IS NOT NULL OR i.indpred IS NOT NULL OR k.attnum = 0, "
		"coalesce(a.attname, ''), k.ord = 1, i.indisexclusion, "
		"CASE WHEN i.indisexclusion THEN (SELECT pg_get_constraintdef(x.oid) FROM "
		"pg_constraint x WHERE x.conindid = i.indexrelid AND x.contype = 'x' LIMIT 1) "
		"WHEN left(d.def, length(d.pre)) = d.pre THEN substr(d.def, length(d.pre) + 1) "
		"WHEN left(d.def, length(d.pre_only)) = d.pre_only THEN "
		"substr(d.def, length(d.pre_only) + 1) END "
		"FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid "
		"JOIN pg_am am ON am.oid = ic.relam JOIN pg_class tc ON tc.oid = i.indrelid "
		"JOIN pg_namespace n ON n.oid = tc.relnamespace "
		"CROSS JOIN LATERAL (SELECT pg_get_indexdef(i.indexrelid) AS def, 'CREATE ' || "
		"CASE WHEN i.indisunique THEN 'UNIQUE ' ELSE '' END || 'INDEX ' || "
		"quote_ident(ic.relname) || ' ON ' AS head, quote_ident(n.nspname) || '.' || "
		"quote_ident(tc.relname) || ' ' AS tail) h "
		"CROSS JOIN LATERAL (SELECT h.def, h.head || h.tail AS pre, h.head || 'ONLY ' || "
		"h.tail AS pre_only) d "
		"CROSS JOIN LATERAL unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord) "
		"LEFT JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum "
		"WHERE i.indrelid = to_regclass($1) AND k.ord <= i.indnkeyatts "
		"ORDER BY ic.relname, k.ord";
	const char *params[1] = {table};
	PGresult *res;
	if (!query_rows(c, q, 1, params, "describing indexes", &res, err))
		return false;
	int n = PQntuples(res);
	char **cols = calloc((size_t)(n ? n : 1), sizeof *cols);
	bool ok = cols != NULL;
	for (int i = 0; ok && i < n;) {
		int k = 0;
		bool expr = false;
		do {
			cols[k] = PQgetvalue(res, i + k, 5);
			expr |= PQgetvalue(res, i + k, 4)[0] == 't';
			k++;
		} while (i + k < n && PQgetvalue(res, i + k, 6)[0] != 't');
		ok = table_desc_add_index(
			out, PQgetvalue(res, i, 0), PQgetvalue(res, i, 1)[0] == 't',
			PQgetvalue(res, i, 2)[0] == 't', PQgetvalue(res, i, 3), expr, cols, k);
		if (ok) {
			struct index_desc *x = &out->indexes[out->nindexes - 1];
			x->exclusion = PQgetvalue(res, i, 7)[0] == 't';
			if (!PQgetisnull(res, i, 8))
				ok = (x->definition = strdup(PQgetvalue(res, i, 8))) != NULL;
		}
		i += k;
	}
	free(cols);
	PQclear(res);
	return ok ? true : sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
}

/* The table's foreign keys, columns in order. */
static bool describe_fkeys(struct conn *c, const char *table, struct table_desc *out,
			   struct sl_error *err)
{
	const char *q =
		"SELECT con.conname, a.attname, rn.nspname, rc.relname, ra.attname, "
		"CASE con.confdeltype WHEN 'c' THEN 'CASCADE' WHEN 'n' THEN 'SET NULL' WHEN 'd' "
		"THEN "
		"'SET DEFAULT' WHEN 'r' THEN 'RESTRICT' ELSE 'NO ACTION' END, "
		"CASE con.confupdtype WHEN 'c' THEN 'CASCADE' WHEN 'n' THEN 'SET NULL' WHEN 'd' "
		"THEN "
		"'SET DEFAULT' WHEN 'r' THEN 'RESTRICT' ELSE 'NO ACTION' END, k.ord = 1, "
		"rn.nspname = n.nspname "
		"FROM pg_constraint con JOIN pg_class t ON t.oid = con.conrelid "
		"JOIN pg_namespace n ON n.oid = t.relnamespace "
		"JOIN pg_class rc ON rc.oid = con.confrelid JOIN pg_namespace rn ON rn.oid = "
		"rc.relnamespace "
		"CROSS JOIN LATERAL unnest(con.conkey, con.confkey) WITH ORDINALITY AS k(att, "
		"fatt, ord) "
		"JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.att "
		"JOIN pg_attribute ra ON ra.attrelid = con.confrelid AND ra.attnum = k.fatt "
		"WHERE con.contype = 'f' AND con.conrelid = to_regclass($1) ORDER BY con.conname, "
		"k.ord";
	const char *params[1] = {table};
	PGresult *res;
	if (!query_rows(c, q, 1, params, "describing foreign keys", &res, err))
		return false;
	int n = PQntuples(res);
	char **cols = calloc((size_t)(n ? n : 1), sizeof *cols);
	char **refs = calloc((size_t)(n ? n : 1), sizeof *refs);
	bool ok = cols && refs;
	for (int i = 0; ok && i < n;) {
		int k = 0;
		do {
			cols[k] = PQgetvalue(res, i + k, 1);
			refs[k] = PQgetvalue(res, i + k, 4);
			k++;
		} while (i + k < n && PQgetvalue(res, i + k, 7)[0] != 't');
		bool same_schema = PQgetvalue(res, i, 8)[0] == 't';
		ok = table_desc_add_fkey(out, PQgetvalue(res, i, 0), cols,
					 same_schema ? NULL : PQgetvalue(res, i, 2),
					 PQgetvalue(res, i, 3), refs, k, PQgetvalue(res, i, 5),
					 PQgetvalue(res, i, 6));
		i += k;
	}
	free(cols);
	free(refs);
	PQclear(res);
	return ok ? true : sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
}

/* The catalog's row count guess (reltuples; a partitioned table's is the
 * sum of its leaf partitions'). A table never analyzed has none: reltuples
 * is -1 from PostgreSQL 14 on, 0 with no pages before it. */
static bool describe_estimate(struct conn *c, const char *table, struct table_desc *out,
			      struct sl_error *err)
{
	const char *q =
		"WITH RECURSIVE parts(oid) AS (SELECT to_regclass($1)::oid UNION ALL "
		"SELECT i.inhrelid FROM pg_inherits i JOIN parts p ON i.inhparent = p.oid "
		"JOIN pg_class ch ON ch.oid = i.inhrelid WHERE ch.relispartition) "
		"SELECT coalesce(sum(greatest(r.reltuples, 0)), 0)::bigint, "
		"coalesce(bool_and(r.reltuples > 0 OR (r.reltuples = 0 AND "
		"(current_setting('server_version_num')::int >= 140000 OR r.relpages > 0))), "
		"false) FROM parts JOIN pg_class r ON r.oid = parts.oid WHERE r.relkind <> 'p'";
	const char *params[1] = {table};
	PGresult *res;
	if (!query_rows(c, q, 1, params, "describing table", &res, err))
		return false;
	out->rows_estimated = PQntuples(res) == 1 && PQgetvalue(res, 0, 1)[0] == 't';
	out->rows_estimate = out->rows_estimated ? strtoull(PQgetvalue(res, 0, 0), NULL, 10) : 0;
	PQclear(res);
	return true;
}

static bool pg_describe_full(struct conn *c, const struct write_spec *spec, struct table_desc *out,
			     struct sl_error *err)
{
	if (!pg_describe_table(c, spec, out, err))
		return false;
	if (!out->exists)
		return true;
	struct buf name;
	buf_init(&name, 0);
	if (!sql_table_name(&pg_dialect, &name, spec)) {
		table_desc_free(out);
		buf_free(&name);
		return sl_error_set(err, SL_ERR_USAGE, "bad table name");
	}
	bool ok = describe_columns_full(c, name.data, out, err) &&
		  describe_indexes(c, name.data, out, err) &&
		  describe_fkeys(c, name.data, out, err) &&
		  describe_user_types(c, name.data, out, err) &&
		  describe_checks(c, name.data, out, err) &&
		  describe_estimate(c, name.data, out, err);
	buf_free(&name);
	if (!ok)
		table_desc_free(out);
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

static bool pg_open_read(struct conn *c, const struct write_spec *spec, const char *query,
			 const struct read_range *range, struct read_stream **out,
			 struct sl_error *err)
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

static int pg_read_row(struct read_stream *s, struct cell **cells, int *ncols,
		       unsigned long long *bytes, struct sl_error *err)
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
		while (p < end && *p != '\t')
			p++;
		if (p - f == 2 && f[0] == '\\' && f[1] == 'N') {
			s->offs[nf] = SIZE_MAX;
			s->cells[nf].len = 0;
		} else {
			s->offs[nf] = (size_t)(o - s->row.data);
			for (const char *q = f; q < p; q++) {
				if (*q == '\\' && q + 1 < p)
					*o++ = copy_unescape(*++q);
				else
					*o++ = *q;
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

static void pg_close_read(struct read_stream *s)
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
	if (!query_rows(c, sql, 0, NULL, "query failed", &res, err))
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

static bool pg_query_row(struct conn *c, const char *sql, char **out, int n, struct sl_error *err);

static bool pg_identity(struct conn *c, char *out, size_t n, struct sl_error *err)
{
	char *v = NULL;
	if (!pg_query_row(c,
			  "SELECT concat_ws(':', pg_postmaster_start_time(), "
			  "current_setting('port'), current_database(), current_schema())",
			  &v, 1, err))
		return false;
	snprintf(out, n, "%s", v ? v : "");
	free(v);
	return true;
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

static bool pg_query_columns(struct conn *c, const char *query, char ***names, int *n,
			     struct sl_error *err)
{
	*names = NULL;
	*n = 0;
	struct buf q;
	buf_init(&q, 0);
	PGresult *res = NULL;
	bool ok = buf_puts(&q, "SELECT * FROM (") && buf_puts(&q, query) &&
		  buf_puts(&q, ") AS sluice_probe LIMIT 0");
	if (!ok)
		sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
	else
		ok = query_rows(c, q.data, 0, NULL, "reading the query's columns", &res, err);
	buf_free(&q);
	for (int i = 0; ok && i < PQnfields(res); i++)
		if (!names_add(names, n, PQfname(res, i)))
			ok = sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
	if (res)
		PQclear(res);
	return ok;
}

/* Any type is cast to text first, so that no type makes the query fail (a
 * failed query would end the snapshot's transaction). */
static bool pg_max_length(struct conn *c, const struct write_spec *spec,
			  const struct column_desc *col, long *out, struct sl_error *err)
{
	bool bytes = !strcmp(col->type, "bytea");
	struct buf q;
	buf_init(&q, 0);
	char *v = NULL;
	bool ok = buf_puts(&q, bytes ? "SELECT MAX(octet_length(" : "SELECT MAX(char_length(") &&
		  pg_dialect.quote_ident(&q, col->name) &&
		  buf_puts(&q, bytes ? ")) FROM " : "::text)) FROM ") &&
		  sql_read_table(&pg_dialect, &q, spec);
	if (!ok)
		sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
	else
		ok = pg_query_row(c, q.data, &v, 1, err);
	buf_free(&q);
	*out = v ? atol(v) : 0;
	free(v);
	return ok;
}

static bool pg_query_row(struct conn *c, const char *sql, char **out, int n, struct sl_error *err)
{
	PGresult *res;
	for (int i = 0; i < n; i++)
		out[i] = NULL;
	if (!query_rows(c, sql, 0, NULL, "query failed", &res, err))
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
	return !strcmp(err->sqlstate, "42710"); /* duplicate_object */
}

/* A job's lock is a lock of a transaction left open, per database: it
 * takes no snapshot and no transaction id, so it holds nothing back
 * (VACUUM), and it pins the session through a pooler. */
static bool pg_job_lock_hold(struct conn *c, struct sl_error *err)
{
	return pg_begin(c, err) &&
	       pg_exec(c, "SET LOCAL idle_in_transaction_session_timeout = 0", err);
}

static bool pg_job_lock_try(struct conn *c, uint64_t key, bool *held, struct sl_error *err)
{
	char sql[80], *got = NULL;
	snprintf(sql, sizeof sql, "SELECT pg_try_advisory_xact_lock(%lld)", (long long)key);
	if (!pg_query_row(c, sql, &got, 1, err))
		return false;
	*held = got && !strcmp(got, "t");
	free(got);
	return true;
}

static void pg_session_name(struct conn *c, char *out, size_t n)
{
	/* through a pooler PQbackendPID is the pooler's key, and the backend
	 * may change with each transaction */
	if (c->pooled)
		snprintf(out, n, "a pooled session");
	else
		snprintf(out, n, "backend %d", PQbackendPID(c->pg));
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
	.write_each = pg_write_each,
	.update_batch = pg_update_batch,
	.commit_token = pg_commit_token,
	.commit_status = pg_commit_status,
	.commit_mode = pg_commit_mode,
	.snapshot = pg_snapshot,
	.export_snapshot = pg_export_snapshot,
	.snapshot_at = pg_snapshot_at,
	.snapshot_end = pg_snapshot_end,
	.describe_schema = pg_describe_schema,
	.describe_full = pg_describe_full,
	.open_read = pg_open_read,
	.max_length = pg_max_length,
	.query_columns = pg_query_columns,
	.truncate_tables = pg_truncate_tables,
	.identity = pg_identity,
	.read_row = pg_read_row,
	.close_read = pg_close_read,
	.query_row = pg_query_row,
	.session_name = pg_session_name,
	.exec_params = pg_exec_params,
	.query_each = pg_query_each,
	.healthy = pg_healthy,
	.unique_violation = pg_unique_violation,
	.object_exists = pg_object_exists,
	.job_lock_hold = pg_job_lock_hold,
	.job_lock_try = pg_job_lock_try,
};
