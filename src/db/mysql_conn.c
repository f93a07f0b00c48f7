/* src/db/mysql_conn.c
 * The MySQL connection: URL options, connect, session setup, cancel, errors.
 */
#include <errno.h>
#include <mysql.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "sluice/mysql_internal.h"
#include "sluice/prng.h"
#include "sluice/signals.h"
#include "sluice/url.h"

/* NO_AUTO_VALUE_ON_ZERO: a 0 written into an AUTO_INCREMENT column is the
 * key 0, never the next generated value (a copied or loaded row keeps its
 * key) */
#define SESSION_SQL                                                                                \
	"SET SESSION sql_mode = 'STRICT_ALL_TABLES,NO_ZERO_DATE,NO_ZERO_IN_DATE,"                  \
	"ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION,NO_AUTO_VALUE_ON_ZERO', "               \
	"time_zone = '+00:00'"

static pthread_once_t library_once = PTHREAD_ONCE_INIT;

static void library_init(void)
{
	mysql_library_init(0, NULL, NULL);
}

/* Server and client errors that mean the connection is gone or cannot be made. */
bool my_is_connection_errno(unsigned code)
{
	switch (code) {
	case 1040: /* too many connections */
	case 1053: /* server shutdown in progress */
	case 1077: /* normal shutdown */
	case 1152: /* aborted connection */
	case 1184: /* aborted new connection */
	case 1927: /* connection was killed (MariaDB) */
	case 2001: /* cannot create socket */
	case 2002: /* cannot connect through socket */
	case 2003: /* cannot connect to host */
	case 2004: /* cannot create TCP/IP socket */
	case 2005: /* unknown host */
	case 2006: /* server has gone away */
	case 2009: /* wrong host info */
	case 2011: /* TCP/IP socket */
	case 2012: /* error in server handshake */
	case 2013: /* lost connection during query */
	case 2026: /* SSL connection error */
	case 2047: /* wrong or unknown protocol */
	case 2048: /* invalid connection handle */
	case 2055: /* lost connection at reading */
	case 4031: /* disconnected by the server for inactivity (MySQL) */
		return true;
	default:
		return false;
	}
}

/* Errors that would hit every row of any batch: privileges, a missing
 * table or column, a read-only server or table, resources, transaction
 * state, unsupported features, client-side failures. They stop the run. Any
 * other error belongs to the rows written (a refused value, a constraint, a
 * trigger's SIGNAL, a row too big, JSON too deep): the batch is bisected and
 * the row that fails alone is rejected. */
static bool hits_every_row(unsigned code)
{
	static const unsigned every_row[] = {
		1015, 1021, 1030, 1036, 1037, 1038, 1041, 1044, 1045, 1046, 1049, 1051,
		1054, 1064, 1105, 1109, 1114, 1133, 1135, 1142, 1143, 1146, 1148, 1149,
		1178, 1180, 1181, 1211, 1223, 1227, 1235, 1290, 1305, 1356, 1370, 1397,
		1398, 1399, 1400, 1401, 1402, 1440, 1614, 1698, 1792, 3948, 4166,
	};
	if (code >= 2000 && code < 3000)
		return true; /* the client library's own errors */
	if (code >= 12500 && code < 12800)
		return true; /* Spider's */
	for (size_t i = 0; i < sizeof every_row / sizeof every_row[0]; i++)
		if (every_row[i] == code)
			return true;
	return false;
}

/* Warnings that say nothing about the values written. */
bool my_harmless_warning(unsigned code)
{
	return code == 1287 /* deprecated syntax */ || code == 1681 /* display width */ ||
	       code == 3090 /* sql_mode deprecated */ || code == 3719 /* utf8 alias */;
}

/* Errors that mean LOAD DATA LOCAL is switched off on one side. */
static bool is_local_infile_refused(unsigned code)
{
	return code == 1148 || code == 3948 || code == 2068 || code == 4166;
}

/* Fill err from a MySQL error; the message is made one line and scrubbed. */
bool my_fail_code(struct conn *c, unsigned code, const char *msg, const char *sqlstate,
		  const char *what, struct sl_error *err)
{
	(void)sqlstate;
	/* the library's read or write timeout ran out (its socket wait sets
	 * ETIMEDOUT): the server sent or took nothing for --timeout seconds, and
	 * the library has closed the connection */
	bool timed_out = errno == ETIMEDOUT;
	enum sl_error_kind kind = SL_ERR_SERVER;
	if ((c && c->refused) ||
	    (signals_caught() && (code == 1317 || my_is_connection_errno(code)))) {
		/* killed or cut by the watcher (1317: query execution was interrupted) */
		sl_error_set(err, SL_ERR_INTERRUPTED, "%s: %s: interrupted by %s",
			     c ? c->redacted : "", what, signals_name());
		err->server_code = code;
		return false;
	}
	if (my_is_connection_errno(code))
		kind = SL_ERR_CONNECTION;
	else if (code == 1213 || code == 1205) /* deadlock, lock wait timeout: rolled back */
		kind = SL_ERR_RETRY;
	else if (code && !hits_every_row(code))
		kind = SL_ERR_DATA;
	char text[900];
	snprintf(text, sizeof text, "%s", msg && *msg ? msg : "unknown error");
	for (char *p = text; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	if (is_local_infile_refused(code))
		sl_error_set(err, kind,
			     "%s: the server refuses LOAD DATA LOCAL INFILE (local_infile is off): "
			     "use --method insert, or enable local_infile on the server (%s)",
			     what, text);
	else if (kind == SL_ERR_CONNECTION && c && c->redacted[0] && c->timeout > 0 && timed_out)
		sl_error_set(err, kind,
			     "%s: %s: no reply from the server for %g s (--timeout %g); the "
			     "connection is dropped (%s, MySQL error %u)",
			     c->redacted, what, c->timeout, c->timeout, text, code);
	else if (kind == SL_ERR_CONNECTION && c && c->redacted[0])
		/* a broken connection names its server (a failed connect is
		 * prefixed by my_connect) */
		sl_error_set(err, kind, "%s: %s: %s (MySQL error %u)", c->redacted, what, text,
			     code);
	else
		sl_error_set(err, kind, "%s: %s (MySQL error %u)", what, text, code);
	err->server_code = code;
	if (c && c->url)
		url_scrub(err->msg, c->url);
	return false;
}

bool my_fail(struct conn *c, const char *what, struct sl_error *err)
{
	return my_fail_code(c, mysql_errno(c->my), mysql_error(c->my), mysql_sqlstate(c->my), what,
			    err);
}

bool my_stmt_fail(struct conn *c, MYSQL_STMT *st, const char *what, struct sl_error *err)
{
	return my_fail_code(c, mysql_stmt_errno(st), mysql_stmt_error(st), mysql_stmt_sqlstate(st),
			    what, err);
}

void my_prepared_clear(struct prepared *p)
{
	if (p->stmt)
		mysql_stmt_close(p->stmt);
	free(p->text);
	p->stmt = NULL;
	p->text = NULL;
}

void my_close(struct conn *c)
{
	if (!c)
		return;
	signals_unwatch(&c->watch);
	my_prepared_clear(&c->full);
	my_prepared_clear(&c->other);
	my_prepared_clear(&c->update);
	my_prepared_clear(&c->stage);
	for (int i = 0; i < MY_KEPT_STATEMENTS; i++)
		my_prepared_clear(&c->kept[i]);
	free(c->stage_key);
	if (c->my)
		mysql_close(c->my);
	free(c->url);
	buf_free(&c->sql);
	buf_free(&c->data);
	buf_free(&c->scratch);
	free(c->binds);
	free(c->lens);
	free(c->vals);
	free(c->types_key);
	free(c->kinds);
	free(c->kind_cols);
	free(c->exact);
	free(c);
}

/* The connection's socket: MariaDB Connector/C has a call for it,
 * libmysqlclient keeps it in the handle. */
int my_socket_of(MYSQL *my)
{
#ifdef LIBMARIADB
	return (int)mysql_get_socket(my);
#else
	return (int)my->net.fd;
#endif
}

/* Whether c may start a statement: not after a signal, unless it is a
 * rollback's. Refused, the call fails as if the library had failed it, and
 * my_fail says interrupted. */
static bool may_start(struct conn *c)
{
	if (signals_caught() && !c->cleanup) {
		c->refused = true;
		return false;
	}
	return true;
}

/* mysql_real_query, mysql_stmt_prepare and mysql_stmt_execute, unless a
 * signal came (may_start): nonzero on failure, as theirs. */
int my_real_query(struct conn *c, const char *sql, size_t len)
{
	return may_start(c) ? mysql_real_query(c->my, sql, (unsigned long)len) : 1;
}

/* mysql_query, likewise. */
int my_text_query(struct conn *c, const char *sql)
{
	return my_real_query(c, sql, strlen(sql));
}

int my_stmt_prepare(struct conn *c, MYSQL_STMT *st, const char *sql, size_t len)
{
	return may_start(c) ? mysql_stmt_prepare(st, sql, (unsigned long)len) : 1;
}

int my_stmt_execute(struct conn *c, MYSQL_STMT *st)
{
	return may_start(c) ? mysql_stmt_execute(st) : 1;
}

/* Run a statement and throw away any result set. */
bool my_run_query(struct conn *c, const char *sql, const char *what, struct sl_error *err)
{
	if (my_text_query(c, sql))
		return my_fail(c, what, err);
	if (mysql_field_count(c->my)) {
		MYSQL_RES *res = mysql_store_result(c->my);
		if (!res)
			return my_fail(c, what, err);
		mysql_free_result(res);
	}
	return true;
}

/* Run c->sql and keep the whole result; NULL with err. */
MYSQL_RES *my_store_query(struct conn *c, const char *what, struct sl_error *err)
{
	if (my_real_query(c, c->sql.data, c->sql.len)) {
		my_fail(c, what, err);
		return NULL;
	}
	MYSQL_RES *res = mysql_store_result(c->my);
	if (!res)
		my_fail(c, what, err);
	return res;
}

/* Apply the URL's query parameters as client options. */
static bool apply_params(MYSQL *my, const struct url_parts *u, const char **socket,
			 struct sl_error *err)
{
	*socket = NULL;
	for (int i = 0; i < u->nparams; i++) {
		const char *k = u->param_names[i], *v = u->param_values[i];
		if (!strcmp(k, "socket")) {
			*socket = v;
		} else if (!strcmp(k, "password") || !strcmp(k, "xa")) {
			/* used by the caller */
		} else if (!strcmp(k, "ssl-mode") || !strcmp(k, "sslmode")) {
#ifdef LIBMARIADB
			my_bool on = 1;
			if (!strcasecmp(v, "REQUIRED")) {
				mysql_options(my, MYSQL_OPT_SSL_ENFORCE, &on);
			} else if (!strcasecmp(v, "VERIFY_CA") ||
				   !strcasecmp(v, "VERIFY_IDENTITY")) {
				mysql_options(my, MYSQL_OPT_SSL_ENFORCE, &on);
				mysql_options(my, MYSQL_OPT_SSL_VERIFY_SERVER_CERT, &on);
			} else if (strcasecmp(v, "DISABLED") && strcasecmp(v, "PREFERRED")) {
				return sl_error_set(err, SL_ERR_USAGE,
						    "ssl-mode takes DISABLED, PREFERRED, REQUIRED, "
						    "VERIFY_CA or VERIFY_IDENTITY, not '%s'",
						    v);
			}
#else
			unsigned mode;
			if (!strcasecmp(v, "DISABLED"))
				mode = SSL_MODE_DISABLED;
			else if (!strcasecmp(v, "PREFERRED"))
				mode = SSL_MODE_PREFERRED;
			else if (!strcasecmp(v, "REQUIRED"))
				mode = SSL_MODE_REQUIRED;
			else if (!strcasecmp(v, "VERIFY_CA"))
				mode = SSL_MODE_VERIFY_CA;
			else if (!strcasecmp(v, "VERIFY_IDENTITY"))
				mode = SSL_MODE_VERIFY_IDENTITY;
			else
				return sl_error_set(err, SL_ERR_USAGE,
						    "ssl-mode takes DISABLED, PREFERRED, REQUIRED, "
						    "VERIFY_CA or VERIFY_IDENTITY, not '%s'",
						    v);
			mysql_options(my, MYSQL_OPT_SSL_MODE, &mode);
#endif
		} else if (!strcmp(k, "ssl-ca")) {
			mysql_options(my, MYSQL_OPT_SSL_CA, v);
		} else if (!strcmp(k, "ssl-capath")) {
			mysql_options(my, MYSQL_OPT_SSL_CAPATH, v);
		} else if (!strcmp(k, "ssl-cert")) {
			mysql_options(my, MYSQL_OPT_SSL_CERT, v);
		} else if (!strcmp(k, "ssl-key")) {
			mysql_options(my, MYSQL_OPT_SSL_KEY, v);
		} else if (!strcmp(k, "ssl-cipher")) {
			mysql_options(my, MYSQL_OPT_SSL_CIPHER, v);
		} else if (!strcmp(k, "connect-timeout") || !strcmp(k, "connect_timeout")) {
			char *end;
			unsigned long t = strtoul(v, &end, 10);
			if (!*v || *end || t > 86400)
				return sl_error_set(err, SL_ERR_USAGE,
						    "connect-timeout takes seconds, not '%s'", v);
			unsigned int secs = (unsigned int)t;
			mysql_options(my, MYSQL_OPT_CONNECT_TIMEOUT, &secs);
		} else {
			return sl_error_set(
				err, SL_ERR_USAGE,
				"unknown parameter '%s' in a mysql:// URL (known: socket, "
				"ssl-mode, ssl-ca, ssl-capath, ssl-cert, ssl-key, ssl-cipher, "
				"connect-timeout, xa)",
				k);
		}
	}
	return true;
}

/* A new handle's options: option files first, so the URL's own values win. */
static bool set_options(MYSQL *my, const struct url_parts *u, double timeout, const char **socket,
			struct sl_error *err)
{
	mysql_options(my, MYSQL_READ_DEFAULT_GROUP, "client");
	if (timeout > 0) {
		/* --timeout, whole seconds: before the URL's connect-timeout, which wins */
		unsigned int secs = timeout > 86400 ? 86400 : (unsigned int)timeout;
		secs += (double)secs < timeout && secs < 86400;
		mysql_options(my, MYSQL_OPT_CONNECT_TIMEOUT, &secs);
		mysql_options(my, MYSQL_OPT_READ_TIMEOUT, &secs);
		mysql_options(my, MYSQL_OPT_WRITE_TIMEOUT, &secs);
	}
	mysql_options(my, MYSQL_SET_CHARSET_NAME, "utf8mb4");
	unsigned int local_infile = 1;
	mysql_options(my, MYSQL_OPT_LOCAL_INFILE, &local_infile);
	unsigned long client_packet = 1UL << 30;
	mysql_options(my, MYSQL_OPT_MAX_ALLOWED_PACKET, &client_packet);
	/* LOAD DATA LOCAL hands the library 4 KB at a time: a bigger buffer
	 * sends them in fewer system calls (the default 8 KB splits most) */
	unsigned long net_buffer = 256UL << 10;
	mysql_options(my, MYSQL_OPT_NET_BUFFER_LENGTH, &net_buffer);
	return apply_params(my, u, socket, err);
}

/* The first column of the first row of sql as a number, or -1 when the
 * query fails (an unknown variable on another server, say). */
long my_query_number(struct conn *c, const char *sql)
{
	MYSQL_RES *res = NULL;
	MYSQL_ROW row;
	long v = -1;
	if (!my_text_query(c, sql) && (res = mysql_store_result(c->my)) &&
	    (row = mysql_fetch_row(res)) && row[0])
		v = strtol(row[0], NULL, 10);
	if (res)
		mysql_free_result(res);
	return v;
}

/* Whether XA transactions work behind this connection: Galera refuses them
 * (error 1235 at XA START) and a Spider head loses them (XA COMMIT "xid does
 * not exist"), so there sluice uses plain transactions from the start. */
static bool xa_usable(struct conn *c)
{
	if (my_query_number(c, "SELECT @@wsrep_on") > 0) {
		/* Galera applies other nodes' writes a moment later: reads wait
		 * for them (the lookup that settles a lost COMMIT must see a
		 * transaction the dead node committed) */
		struct sl_error ignored;
		my_run_query(c, "SET SESSION wsrep_sync_wait = 1", "setting wsrep_sync_wait",
			     &ignored);
		return false;
	}
	return my_query_number(c, "SELECT COUNT(*) FROM information_schema.ENGINES "
				  "WHERE ENGINE = 'SPIDER' AND SUPPORT IN ('YES', 'DEFAULT')") == 0;
}

/* Connect, blocking (my_connect runs it on a thread of its own). */
static bool connect_now(const char *url, const struct conn_options *opts, struct conn **out,
			struct sl_error *err)
{
	char redacted[512];
	url_redact(url, redacted, sizeof redacted);
	struct url_parts u;
	if (!url_parse(url, &u, err)) {
		sl_error_prefix(err, "%s", redacted);
		return false;
	}
	pthread_once(&library_once, library_init);
	struct conn *c = calloc(1, sizeof *c);
	if (c)
		c->drv = &mysql_driver;
	if (!c || !(c->url = strdup(url)) || !(c->my = mysql_init(NULL))) {
		url_parts_free(&u);
		my_close(c);
		return sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
	}
	buf_init(&c->sql, 0);
	buf_init(&c->data, 0);
	buf_init(&c->scratch, 0);
	const char *xa_param = url_param(&u, "xa");
	bool ok = true;
	if ((xa_param && (!strcmp(xa_param, "off") || !strcmp(xa_param, "0"))) ||
	    (opts && opts->plain_commits))
		c->plain = true;
	else if (xa_param && strcmp(xa_param, "on") && strcmp(xa_param, "1"))
		ok = sl_error_set(err, SL_ERR_USAGE, "xa takes on or off, not '%s'", xa_param);
	/* several hosts (h1:p1,h2:p2): start at a random one, so a pool's
	 * connections spread over them, and go on to the next when one is down */
	int start = u.nhosts > 1 ? (int)prng_below((unsigned)u.nhosts) : 0;
	for (int t = 0; ok && t < u.nhosts; t++) {
		int h = (start + t) % u.nhosts;
		const char *socket = NULL;
		if (t > 0) {
			mysql_close(c->my);
			if (!(c->my = mysql_init(NULL))) {
				ok = sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
				break;
			}
		}
		c->timeout = opts && opts->timeout > 0 ? opts->timeout : 0;
		ok = set_options(c->my, &u, c->timeout, &socket, err);
		if (!ok)
			break;
		const char *password = u.password ? u.password : url_param(&u, "password");
		/* NULL: the library falls back to the option files, then MYSQL_PWD */
		c->host = h;
		if (mysql_real_connect(c->my, u.hosts[h], u.user, password, u.database,
				       (unsigned)u.ports[h], socket, CLIENT_FOUND_ROWS))
			break;
		my_fail(c, "cannot connect", err);
		/* a refusal (wrong password, no such database) is not retried:
		 * backing off and trying again would only lock accounts */
		unsigned code = mysql_errno(c->my);
		bool refused = code == 1044 || code == 1045 || code == 1049 || code == 1130 ||
			       code == 1251 || code == 1698 || code == 1862 || code == 4151;
		err->kind = refused ? SL_ERR_SERVER : SL_ERR_CONNECTION;
		ok = false;
		if (refused)
			break;
		if (t + 1 < u.nhosts)
			ok = true; /* try the next host */
		else
			break;
	}
	url_parts_free(&u);
	if (ok && !my_run_query(c, SESSION_SQL, "setting the session's sql_mode", err))
		ok = false;
	if (ok) {
		MYSQL_RES *res = NULL;
		MYSQL_ROW row;
		if (my_text_query(c, "SELECT @@max_allowed_packet") ||
		    !(res = mysql_store_result(c->my)) || !(row = mysql_fetch_row(res)) ||
		    !row[0]) {
			my_fail(c, "reading max_allowed_packet", err);
			ok = false;
		} else {
			c->max_packet = strtoul(row[0], NULL, 10);
		}
		if (res)
			mysql_free_result(res);
	}
	if (!ok) {
		sl_error_prefix(err, "%s", redacted);
		my_close(c);
		return false;
	}
	if (c->max_packet < 4096)
		c->max_packet = 4096;
	c->plain = c->plain || !xa_usable(c);
	/* LOAD DATA LOCAL is the server's to allow (0: refused; -1: not
	 * known, tried) */
	c->no_local_infile = my_query_number(c, "SELECT @@local_infile") == 0;
#ifdef SLUICE_TEST_HOOKS
	const char *fault = getenv("SLUICE_FAULT_LOSE_COMMIT");
	c->fault_commit = fault ? atol(fault) : 0;
	fault = getenv("SLUICE_FAULT_LATE_COMMIT");
	c->fault_late = fault ? atol(fault) : 0;
#endif
	mysql_set_local_infile_handler(c->my, my_infile_init, my_infile_read, my_infile_end,
				       my_infile_error, c);
	snprintf(c->redacted, sizeof c->redacted, "%s", redacted);
	c->fd = my_socket_of(c->my);
	c->thread_id = mysql_thread_id(c->my);
	*out = c;
	return true;
}

/* A KILL QUERY for the watcher thread to send. */
struct kill_query {
	char *url;
	int host;
	unsigned long id;
};

/* Send k's KILL QUERY on a connection of its own, waiting at most about
 * SIGNALS_GRACE for each step (a pthread start routine; frees k). */
static void *kill_main(void *arg)
{
	struct kill_query *k = arg;
	struct url_parts u;
	struct sl_error err;
	MYSQL *my = NULL;
	if (url_parse(k->url, &u, &err)) {
		const char *socket = NULL;
		const char *password = u.password ? u.password : url_param(&u, "password");
		char sql[64];
		snprintf(sql, sizeof sql, "KILL QUERY %lu", k->id);
		if ((my = mysql_init(NULL)) && set_options(my, &u, SIGNALS_GRACE, &socket, &err) &&
		    mysql_real_connect(my, u.hosts[k->host], u.user, password, NULL,
				       (unsigned)u.ports[k->host], socket, 0))
			mysql_real_query(my, sql, strlen(sql));
		url_parts_free(&u);
	}
	if (my)
		mysql_close(my);
	free(k->url);
	free(k);
	mysql_thread_end();
	return NULL;
}

/* Start f(arg) on a detached thread; false when it cannot be. */
static bool start_detached(void *(*f)(void *), void *arg)
{
	pthread_attr_t attr;
	pthread_t th;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	bool ok = pthread_create(&th, &attr, f, arg) == 0;
	pthread_attr_destroy(&attr);
	return ok;
}

/* The watcher's, at a signal: KILL QUERY whatever the session runs, from
 * a side connection on a thread of its own, so that a server as silent as
 * this connection delays nothing. The session itself stays usable for the
 * rollback. */
static void my_cancel(void *arg)
{
	struct conn *c = arg;
	struct kill_query *k = malloc(sizeof *k);
	if (!k)
		return;
	*k = (struct kill_query){.url = strdup(c->url), .host = c->host, .id = c->thread_id};
	if (!k->url || !start_detached(kill_main, k)) {
		free(k->url);
		free(k);
	}
}

/* The watcher's, at the deadline: the call still blocked in the library
 * returns at once with a lost connection. */
static void my_cut(void *arg)
{
	struct conn *c = arg;
	shutdown(c->fd, SHUT_RDWR);
}

/* A connect on a thread of its own, which the caller waits for or, at a
 * signal, leaves behind; the last of the two to let go frees it. */
struct connecting {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int refs;
	bool done, woken;
	char *url;
	struct conn_options opts;
	bool has_opts;
	struct conn *c; /* the connection made, until the caller takes it */
	bool ok;
	struct sl_error err;
};

/* Let go of k (its lock held; released). */
static void connecting_release(struct connecting *k)
{
	bool last = --k->refs == 0;
	pthread_mutex_unlock(&k->lock);
	if (!last)
		return;
	my_close(k->c); /* made after the caller left */
	free(k->url);
	pthread_mutex_destroy(&k->lock);
	pthread_cond_destroy(&k->cond);
	free(k);
}

/* Connect for k and hand the result over. */
static void connecting_run(struct connecting *k)
{
	struct conn *c = NULL;
	struct sl_error err;
	sl_error_clear(&err);
	bool ok = connect_now(k->url, k->has_opts ? &k->opts : NULL, &c, &err);
	pthread_mutex_lock(&k->lock);
	k->ok = ok;
	k->c = ok ? c : NULL;
	k->err = err;
	k->done = true;
	pthread_cond_broadcast(&k->cond);
	connecting_release(k);
}

/* The connecting thread (a pthread start routine). */
static void *connecting_main(void *arg)
{
	connecting_run(arg);
	mysql_thread_end();
	return NULL;
}

/* The watcher's, at a signal: wake my_connect's caller. */
static void connecting_wake(void *arg)
{
	struct connecting *k = arg;
	pthread_mutex_lock(&k->lock);
	k->woken = true;
	pthread_cond_broadcast(&k->cond);
	pthread_mutex_unlock(&k->lock);
}

/* Connect on a thread of its own and wait for it, or for a signal: the
 * library's connect blocks (and the nonblocking ones of MariaDB
 * Connector/C and libmysqlclient differ), so a server that accepts and
 * never answers would hold the caller for --timeout. Interrupted, the
 * caller goes and the thread closes what it makes. */
bool my_connect(const char *url, const struct conn_options *opts, struct conn **out,
		struct sl_error *err)
{
	char redacted[512];
	url_redact(url, redacted, sizeof redacted);
	if (signals_caught())
		return sl_error_set(err, SL_ERR_INTERRUPTED,
				    "%s: interrupted by %s while connecting", redacted,
				    signals_name());
	pthread_once(&library_once, library_init);
	mysql_thread_init(); /* this thread uses the handle: libmysqlclient wants it */
	struct connecting *k = calloc(1, sizeof *k);
	if (!k || !(k->url = strdup(url))) {
		free(k);
		return sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
	}
	pthread_mutex_init(&k->lock, NULL);
	pthread_cond_init(&k->cond, NULL);
	k->refs = 2;
	k->has_opts = opts != NULL;
	if (opts)
		k->opts = *opts;
	if (!start_detached(connecting_main, k))
		connecting_run(k); /* no thread: connect here */
	struct signal_watch wait = {.cancel = connecting_wake, .arg = k};
	signals_watch(&wait);
	pthread_mutex_lock(&k->lock);
	while (!k->done && !k->woken)
		pthread_cond_wait(&k->cond, &k->lock);
	pthread_mutex_unlock(&k->lock);
	signals_unwatch(&wait);
	pthread_mutex_lock(&k->lock);
	struct conn *c = k->c;
	bool ok = k->done && k->ok;
	if (k->done)
		*err = k->err;
	k->c = NULL;
	connecting_release(k);
	if (ok && !signals_caught()) {
		c->watch = (struct signal_watch){.cancel = my_cancel, .cut = my_cut, .arg = c};
		signals_watch(&c->watch);
		*out = c;
		return true;
	}
	my_close(c);
	if (ok || signals_caught())
		return sl_error_set(err, SL_ERR_INTERRUPTED,
				    "%s: interrupted by %s while connecting", redacted,
				    signals_name());
	return false;
}

bool my_exec(struct conn *c, const char *sql, struct sl_error *err)
{
	return my_run_query(c, sql, "query failed", err);
}

bool my_server_version(struct conn *c, char *out, size_t n, struct sl_error *err)
{
	(void)err;
	const char *info = mysql_get_server_info(c->my);
	if (!info)
		info = "";
	size_t vlen = strcspn(info, "-");
	snprintf(out, n, "%s %.*s", strstr(info, "MariaDB") ? "MariaDB" : "MySQL", (int)vlen, info);
	return true;
}

bool my_healthy(struct conn *c, bool ask_server)
{
	return c && c->my && may_start(c) && (!ask_server || mysql_ping(c->my) == 0);
}

bool my_identity(struct conn *c, char *out, size_t n, struct sl_error *err)
{
	char *v = NULL;
	if (!my_query_row(c,
			  "SELECT CONCAT_WS(':', @@hostname, @@port, @@datadir, "
			  "COALESCE(DATABASE(), ''))",
			  &v, 1, err))
		return false;
	snprintf(out, n, "%s", v ? v : "");
	free(v);
	return true;
}

void my_session_name(struct conn *c, char *out, size_t n)
{
	snprintf(out, n, "thread %lu", mysql_thread_id(c->my));
}
