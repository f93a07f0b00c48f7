/* src/db/pg_conn.c
 * The PostgreSQL connection: connect, poll-driven waits with --timeout, cancel, errors.
 */
#include <errno.h>
#include <libpq-fe.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>

#include "sluice/pg_internal.h"
#include "sluice/signals.h"
#include "sluice/url.h"

/* COPY data sent in pieces this large or larger goes to the socket
 * itself (put_copy_direct); smaller pieces through libpq. */
#define DIRECT_COPY_BYTES (8 * 1024)

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
bool pg_fail(struct conn *c, PGresult *res, const char *what, struct sl_error *err)
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

double pg_mono_now(void)
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
void pg_cancel(struct conn *c)
{
	PGcancel *cancel = PQgetCancel(c->pg);
	pthread_attr_t attr;
	pthread_t th;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	if (cancel && pthread_create(&th, &attr, cancel_main, cancel) != 0)
		PQfreeCancel(cancel);
	pthread_attr_destroy(&attr);
	c->cancel_at = pg_mono_now();
}

/* Whether a statement may be sent on c: not on a dropped connection, nor
 * after a signal unless it is a rollback's (c->cleanup). A BEGIN pending
 * (pg_begin) is sent first, or with the statement (pg_run_first). */
static bool pg_may_send(struct conn *c)
{
	if (c->stalled)
		return false;
	if (signals_caught() && !c->cleanup) {
		c->interrupted = true;
		return false;
	}
	c->cancel_at = 0;
	if (!c->begin_pending)
		return true;
	if (c->xid_wanted) {
		c->begin_pending = false; /* pg_run_first's: it goes with this statement */
		return true;
	}
	return pg_begin_now(c);
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
	double start = pg_mono_now();
	double deadline = c->timeout > 0 ? start + c->timeout : 0;
	bool signalled = false;
	for (;;) {
		double now = pg_mono_now(), until = deadline;
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
		if (rc != 0 || !deadline || pg_mono_now() < deadline)
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
PGresult *pg_result(struct conn *c)
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
		if (st == PGRES_TUPLES_OK && c->xid_wanted)
			pg_note_xid(c, res); /* pg_run_first's BEGIN */
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
PGresult *pg_run(struct conn *c, const char *sql)
{
	return pg_outcome(c, pg_may_send(c) ? PQsendQuery(c->pg, sql) : 0);
}

PGresult *pg_run_params(struct conn *c, const char *sql, int n, const char *const *params)
{
	return pg_outcome(c, pg_may_send(c) &&
				     PQsendQueryParams(c->pg, sql, n, NULL, params, NULL, NULL, 0));
}

PGresult *pg_run_prepared(struct conn *c, const char *name, int n, const char *const *params)
{
	return pg_outcome(c, pg_may_send(c) &&
				     PQsendQueryPrepared(c->pg, name, n, params, NULL, NULL, 0));
}

PGresult *pg_run_prepare(struct conn *c, const char *name, const char *sql)
{
	return pg_outcome(c, pg_may_send(c) ? PQsendPrepare(c->pg, name, sql, 0, NULL) : 0);
}

/* One CopyData message of len bytes at data, written to the socket from
 * data, not through libpq's buffer (which would copy it first): libpq's
 * buffer emptied before, the message whole after, so the stream stays
 * libpq's. Only on a connection without TLS or GSS encryption, whose
 * bytes are the protocol's as they are. 1, or -1 when the connection
 * failed or stalled (libpq then meets the failure itself at its next
 * call, and tells it). */
static int put_copy_direct(struct conn *c, const char *data, size_t len)
{
	if (!pg_flush(c))
		return -1;
	unsigned char head[5] = {'d', (unsigned char)((len + 4) >> 24),
				 (unsigned char)((len + 4) >> 16), (unsigned char)((len + 4) >> 8),
				 (unsigned char)(len + 4)};
	size_t done = 0, total = sizeof head + len;
	while (done < total) {
		struct iovec iov[2];
		int n = 0;
		if (done < sizeof head)
			iov[n++] = (struct iovec){head + done, sizeof head - done};
		size_t off = done < sizeof head ? 0 : done - sizeof head;
		iov[n++] = (struct iovec){(char *)data + off, len - off};
		struct msghdr m = {.msg_iov = iov, .msg_iovlen = (size_t)n};
		ssize_t k = c->stalled ? -1 : sendmsg(PQsocket(c->pg), &m, MSG_NOSIGNAL);
		if (k > 0) {
			done += (size_t)k;
		} else if (k < 0 && errno == EINTR) {
			continue;
		} else if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			/* the server's replies are read meanwhile, as libpq does */
			if (!pg_wait(c, true) || !PQconsumeInput(c->pg))
				return -1;
		} else {
			return -1;
		}
	}
	return 1;
}

/* Whether COPY data may go straight to the socket (put_copy_direct).
 * Test builds: SLUICE_PG_DIRECT=0 says no, so libpq's path is tested. */
static bool direct_allowed(struct conn *c)
{
#ifdef SLUICE_TEST_HOOKS
	const char *v = getenv("SLUICE_PG_DIRECT");
	if (v && !strcmp(v, "0"))
		return false;
#endif
	return !PQsslInUse(c->pg) && !PQgssEncInUse(c->pg) && PQsocket(c->pg) >= 0;
}

/* PQputCopyData, PQputCopyEnd and PQgetCopyData (blocking form) on the
 * nonblocking connection: they wait at most --timeout between bytes. The
 * first two return 1 or -1, the third as PQgetCopyData, -2 when broken or
 * stalled. */
int pg_put_copy(struct conn *c, const char *data, size_t len)
{
	if (len >= DIRECT_COPY_BYTES && len <= INT32_MAX - 4 && !c->stalled && direct_allowed(c))
		return put_copy_direct(c, data, len);
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

int pg_put_copy_end(struct conn *c, const char *errmsg)
{
	for (;;) {
		int rc = c->stalled ? -1 : PQputCopyEnd(c->pg, errmsg);
		if (rc != 0)
			return rc == 1 && pg_flush(c) ? 1 : -1;
		if (!pg_wait(c, true) || !PQconsumeInput(c->pg))
			return -1;
	}
}

int pg_get_copy(struct conn *c, char **line)
{
	for (;;) {
		int n = c->stalled ? -2 : PQgetCopyData(c->pg, line, 1);
		if (n != 0)
			return n;
		if (!pg_wait(c, false) || !PQconsumeInput(c->pg))
			return -2;
	}
}

void pg_close(struct conn *c)
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
	for (int i = 0; c->full_types && i < c->ntypes; i++)
		free(c->full_types[i]);
	free(c->types);
	free(c->full_types);
	for (int i = 0; c->server_types && i < c->ntypes; i++)
		free(c->server_types[i]);
	free(c->server_types);
	free(c->types_key);
	free(c->exact);
	free(c->exact_cols);
	free(c->bin_kinds);
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
		return sl_error_set(
			err, SL_ERR_SERVER,
			"the pooler in front of PostgreSQL refuses transactions "
			"(statement pooling), and sluice writes each batch in one: use "
			"pool_mode = transaction or session, or connect to PostgreSQL directly");
	return false;
}

/* Drive a connection that PQconnectStartParams began to its end, polling
 * its socket next to signals_fd, for at most --timeout: neither a server
 * that never answers nor a signal keeps sluice waiting. False when it
 * failed (PQstatus), timed out (c->stalled) or a signal came
 * (c->interrupted). The timeout is the whole connect's, not each host's. */
static bool pg_connect_wait(struct conn *c)
{
	double deadline = c->timeout > 0 ? pg_mono_now() + c->timeout : 0;
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
			double left = deadline - pg_mono_now();
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

bool pg_connect(const char *url, const struct conn_options *opts, struct conn **out,
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
	c->drv = &pg_driver;
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

bool pg_exec(struct conn *c, const char *sql, struct sl_error *err)
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

bool pg_server_version(struct conn *c, char *out, size_t n, struct sl_error *err)
{
	(void)err;
	int v = PQserverVersion(c->pg);
	snprintf(out, n, "PostgreSQL %d.%d", v / 10000, v % 10000);
	return true;
}

bool pg_healthy(struct conn *c, bool ask_server)
{
	if (c->stalled || PQstatus(c->pg) != CONNECTION_OK)
		return false;
	if (!ask_server)
		return true;
	PGresult *res = pg_run(c, "SELECT 1");
	bool ok = PQresultStatus(res) == PGRES_TUPLES_OK;
	PQclear(res);
	return ok;
}

/* Append the condition, in PL/pgSQL, under which an error is not the
 * row's own (pg_state_hits_every_row, a broken connection, a deadlock):
 * write_each raises it again instead of refusing the row. */
bool pg_every_row_condition(struct buf *b)
{
	bool ok = buf_puts(b, "(left(SQLSTATE, 1) = '0' AND left(SQLSTATE, 2) <> '09') OR "
			      "SQLSTATE IN ('40001', '40P01') OR left(SQLSTATE, 2) IN (");
	for (size_t i = 0; ok && i < sizeof every_row_classes / sizeof every_row_classes[0]; i++)
		ok = buf_printf(b, "%s'%s'", i ? ", " : "", every_row_classes[i]);
	return ok && buf_putc(b, ')');
}

bool pg_identity(struct conn *c, char *out, size_t n, struct sl_error *err)
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

void pg_session_name(struct conn *c, char *out, size_t n)
{
	/* through a pooler PQbackendPID is the pooler's key, and the backend
	 * may change with each transaction */
	if (c->pooled)
		snprintf(out, n, "a pooled session");
	else
		snprintf(out, n, "backend %d", PQbackendPID(c->pg));
}
