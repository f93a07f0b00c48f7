/* src/db/mysql.c
 * The MySQL/MariaDB driver on the MySQL C API (libmariadb or libmysqlclient):
 * multi-row prepared INSERTs through one reused statement, or LOAD DATA LOCAL
 * INFILE fed from memory by a local-infile handler. Every session runs in
 * strict mode, utf8mb4, UTC; values are converted by the target column's
 * type first (src/row/convert.c).
 */
#include <errno.h>
#include <mysql.h>
#include <pthread.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sluice/convert.h"
#include "sluice/driver.h"
#include "sluice/prng.h"
#include "sluice/signals.h"
#include "sluice/url.h"

#define SESSION_SQL                                                                                \
	"SET SESSION sql_mode = 'STRICT_ALL_TABLES,NO_ZERO_DATE,NO_ZERO_IN_DATE,"                  \
	"ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION', time_zone = '+00:00'"

/* Statements are kept under this many bytes even when the server allows more,
 * so memory stays bounded; one row alone may still go up to the server's limit. */
#define SOFT_PACKET_MAX ((size_t)16 << 20)
/* Bytes the infile handler gathers before handing them to the library. */
#define INFILE_CHUNK (256 * 1024)

/* A prepared INSERT and the statement text it was prepared from. */
struct prepared {
	MYSQL_STMT *stmt;
	char *text;
};

/* The rows a LOAD DATA statement is reading, for the infile callbacks. */
struct infile_state {
	const struct batch *b;
	size_t next, end; /* rows still to send */
	size_t pos;	  /* bytes of conn->data already handed over */
	bool failed;
	bool interrupted; /* a signal stopped it */
};

struct conn {
	MYSQL *my;
	char *url;		  /* kept only to scrub its password from messages */
	unsigned long max_packet; /* the server's max_allowed_packet */
	struct buf sql;
	struct buf data;	/* infile bytes, converted values */
	struct buf scratch;	/* a long value converted for the infile stream */
	struct prepared full;	/* the full-batch INSERT */
	struct prepared other;	/* the last INSERT of another size */
	struct prepared update; /* sluice update's one-row UPDATE */
	struct prepared stage;	/* sluice update's staging INSERT */
	char *stage_key;	/* table and columns the staging table is made for */
	int single_existed;	/* a lone upsert row's key was there: 1, 0, -1 unknown */
	bool no_stage;		/* no temporary tables allowed: one UPDATE per row */
	MYSQL_BIND *binds;
	unsigned long *lens;
	struct cell *vals; /* a statement's values after conversion */
	size_t nparams_cap;
	/* column conversions for the table last written */
	char *types_key;
	enum convert_kind *kinds;
	bool any_kind;
	int *exact; /* convert_exact_rule_for_mysql, by column */
	bool any_exact;
	struct infile_state inf;
	/* Each transaction is an XA transaction, so that a COMMIT whose reply is
	 * lost can be settled from a fresh connection (XA RECOVER) instead of
	 * guessed: see my_commit and my_commit_status. */
	char xid[64];
	unsigned long xa_seq;
	bool plain;	      /* plain transactions: the server refuses or loses XA */
	bool no_local_infile; /* the server refuses LOAD DATA LOCAL INFILE */
	/* test hook (SLUICE_FAULT_LOSE_COMMIT=N): the reply of this connection's
	 * N-th plain COMMIT is lost, the connection cut right after sending it */
	long fault_commit, ncommits;
	bool in_tx;	      /* a plain transaction is open */
	bool xa_active;	      /* between XA START and its COMMIT or ROLLBACK */
	bool commit_sent;     /* XA COMMIT was sent (so XA PREPARE succeeded) */
	bool commit_in_doubt; /* the connection broke during XA END/PREPARE/COMMIT */
	/* --timeout: the library's connect, read and write timeouts (each
	 * socket wait gives up after it: no progress, not a long statement);
	 * 0 waits for ever */
	double timeout;
	char redacted[512]; /* the URL without its password, once connected */
	/* the library's calls block and cannot poll for a signal: the watcher
	 * thread KILLs the session's query (thread_id, on host number host of
	 * the URL), then shuts its socket down (signals.h) */
	struct signal_watch watch;
	int fd;
	int host;
	unsigned long thread_id;
	/* and after a signal no statement starts but a rollback's (cleanup):
	 * refused says one was refused */
	bool cleanup;
	bool refused;
};

static pthread_once_t library_once = PTHREAD_ONCE_INIT;

static void library_init(void)
{
	mysql_library_init(0, NULL, NULL);
}

/* Server and client errors that mean the connection is gone or cannot be made. */
static bool is_connection_errno(unsigned code)
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
static bool harmless_warning(unsigned code)
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
static bool my_fail_code(struct conn *c, unsigned code, const char *msg, const char *sqlstate,
			 const char *what, struct sl_error *err)
{
	(void)sqlstate;
	/* the library's read or write timeout ran out (its socket wait sets
	 * ETIMEDOUT): the server sent or took nothing for --timeout seconds, and
	 * the library has closed the connection */
	bool timed_out = errno == ETIMEDOUT;
	enum sl_error_kind kind = SL_ERR_SERVER;
	if ((c && c->refused) ||
	    (signals_caught() && (code == 1317 || is_connection_errno(code)))) {
		/* killed or cut by the watcher (1317: query execution was interrupted) */
		sl_error_set(err, SL_ERR_INTERRUPTED, "%s: %s: interrupted by %s",
			     c ? c->redacted : "", what, signals_name());
		err->server_code = code;
		return false;
	}
	if (is_connection_errno(code))
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

static bool my_fail(struct conn *c, const char *what, struct sl_error *err)
{
	return my_fail_code(c, mysql_errno(c->my), mysql_error(c->my), mysql_sqlstate(c->my), what,
			    err);
}

static bool my_stmt_fail(struct conn *c, MYSQL_STMT *st, const char *what, struct sl_error *err)
{
	return my_fail_code(c, mysql_stmt_errno(st), mysql_stmt_error(st), mysql_stmt_sqlstate(st),
			    what, err);
}

static bool my_supports(enum write_method m)
{
	return m == METHOD_INSERT || m == METHOD_INFILE;
}

static void prepared_clear(struct prepared *p)
{
	if (p->stmt)
		mysql_stmt_close(p->stmt);
	free(p->text);
	p->stmt = NULL;
	p->text = NULL;
}

static void my_close(struct conn *c)
{
	if (!c)
		return;
	signals_unwatch(&c->watch);
	prepared_clear(&c->full);
	prepared_clear(&c->other);
	prepared_clear(&c->update);
	prepared_clear(&c->stage);
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
	free(c->exact);
	free(c);
}

/* The connection's socket: MariaDB Connector/C has a call for it,
 * libmysqlclient keeps it in the handle. */
static int socket_of(MYSQL *my)
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
static int real_query(struct conn *c, const char *sql, size_t len)
{
	return may_start(c) ? mysql_real_query(c->my, sql, (unsigned long)len) : 1;
}

/* mysql_query, likewise. */
static int text_query(struct conn *c, const char *sql)
{
	return real_query(c, sql, strlen(sql));
}

static int stmt_prepare(struct conn *c, MYSQL_STMT *st, const char *sql, size_t len)
{
	return may_start(c) ? mysql_stmt_prepare(st, sql, (unsigned long)len) : 1;
}

static int stmt_execute(struct conn *c, MYSQL_STMT *st)
{
	return may_start(c) ? mysql_stmt_execute(st) : 1;
}

/* Run a statement and throw away any result set. */
static bool run_query(struct conn *c, const char *sql, const char *what, struct sl_error *err)
{
	if (text_query(c, sql))
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
static MYSQL_RES *store_query(struct conn *c, const char *what, struct sl_error *err)
{
	if (real_query(c, c->sql.data, c->sql.len)) {
		my_fail(c, what, err);
		return NULL;
	}
	MYSQL_RES *res = mysql_store_result(c->my);
	if (!res)
		my_fail(c, what, err);
	return res;
}

/* The infile callbacks: the "file" is the rows of c->inf, escaped for
 * FIELDS TERMINATED BY '\t' ESCAPED BY '\\' LINES TERMINATED BY '\n'. */
static int infile_init(void **ptr, const char *filename, void *userdata)
{
	(void)filename;
	*ptr = userdata;
	return 0;
}

static void infile_end(void *ptr)
{
	(void)ptr;
}

static int infile_error(void *ptr, char *msg, unsigned int len)
{
	struct conn *c = ptr;
	snprintf(msg, len, "%s",
		 c->inf.interrupted ? "sluice: interrupted"
				    : "sluice: a row is too large for the LOAD DATA buffer");
	return 2000; /* CR_UNKNOWN_ERROR */
}

/* Append one value escaped for LOAD DATA (\N for NULL). Writes straight into
 * the buffer after reserving the worst case: this runs for every value. */
static bool escape_infile(struct buf *out, const char *s, size_t len)
{
	if (!s)
		return buf_append(out, "\\N", 2);
	if (!buf_reserve(out, 2 * len + 1))
		return false;
	char *o = out->data + out->len;
	for (size_t i = 0; i < len; i++) {
		char ch = s[i], e;
		switch (ch) {
		case '\\':
			e = '\\';
			break;
		case '\t':
			e = 't';
			break;
		case '\n':
			e = 'n';
			break;
		case '\r':
			e = 'r';
			break;
		case '\0':
			e = '0';
			break;
		case '\x1a':
			e = 'Z';
			break;
		default:
			*o++ = ch;
			continue;
		}
		*o++ = '\\';
		*o++ = e;
	}
	out->len = (size_t)(o - out->data);
	out->data[out->len] = '\0';
	return true;
}

/* Convert cell v of column col for c->kinds into dst (bytes at *scratch,
 * advanced); cells that do not convert are copied as they are. */
static struct cell convert_cell(struct conn *c, int col, struct cell v, char **scratch)
{
	if (!c->any_kind || !v.ptr || c->kinds[col] == CONVERT_NONE)
		return v;
	size_t n;
	if (!convert_value(c->kinds[col], v.ptr, v.len, *scratch, v.len + CONVERT_MAX_GROWTH, &n))
		return v;
	struct cell out = {*scratch, n};
	*scratch += n + 1;
	return out;
}

static int infile_read(void *ptr, char *dst, unsigned int len)
{
	struct conn *c = ptr;
	struct infile_state *s = &c->inf;
	if (signals_caught()) {
		/* the statement ends here, not at the batch's end */
		s->interrupted = true;
		return -1;
	}
	if (s->pos == c->data.len) {
		buf_reset(&c->data);
		s->pos = 0;
	}
	char conv[64 + CONVERT_MAX_GROWTH];
	while (c->data.len - s->pos < len && c->data.len < INFILE_CHUNK && s->next < s->end) {
		const struct cell *row = batch_row(s->b, s->next);
		for (int col = 0; col < s->b->ncols; col++) {
			struct cell v = row[col];
			/* converted values are short: convert in a stack buffer;
			 * hex into bytes can be long, and halves: in a buffer of
			 * the connection's */
			if (c->any_kind && v.ptr && v.len <= 64) {
				char *p = conv;
				v = convert_cell(c, col, v, &p);
			} else if (c->any_kind && v.ptr && c->kinds[col] == CONVERT_BYTES) {
				buf_reset(&c->scratch);
				if (!buf_reserve(&c->scratch, v.len + CONVERT_MAX_GROWTH)) {
					s->failed = true;
					return -1;
				}
				char *p = c->scratch.data;
				v = convert_cell(c, col, v, &p);
			}
			if ((col && !buf_putc(&c->data, '\t')) ||
			    !escape_infile(&c->data, v.ptr, v.len)) {
				s->failed = true;
				return -1;
			}
		}
		if (!buf_putc(&c->data, '\n')) {
			s->failed = true;
			return -1;
		}
		s->next++;
	}
	size_t avail = c->data.len - s->pos;
	size_t n = avail < len ? avail : len;
	memcpy(dst, c->data.data + s->pos, n);
	s->pos += n;
	return (int)n;
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
	return apply_params(my, u, socket, err);
}

/* The first column of the first row of sql as a number, or -1 when the
 * query fails (an unknown variable on another server, say). */
static long query_number(struct conn *c, const char *sql)
{
	MYSQL_RES *res = NULL;
	MYSQL_ROW row;
	long v = -1;
	if (!text_query(c, sql) && (res = mysql_store_result(c->my)) &&
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
	if (query_number(c, "SELECT @@wsrep_on") > 0) {
		/* Galera applies other nodes' writes a moment later: reads wait
		 * for them (the lookup that settles a lost COMMIT must see a
		 * transaction the dead node committed) */
		struct sl_error ignored;
		run_query(c, "SET SESSION wsrep_sync_wait = 1", "setting wsrep_sync_wait",
			  &ignored);
		return false;
	}
	return query_number(c, "SELECT COUNT(*) FROM information_schema.ENGINES "
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
	if (ok && !run_query(c, SESSION_SQL, "setting the session's sql_mode", err))
		ok = false;
	if (ok) {
		MYSQL_RES *res = NULL;
		MYSQL_ROW row;
		if (text_query(c, "SELECT @@max_allowed_packet") ||
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
	c->no_local_infile = query_number(c, "SELECT @@local_infile") == 0;
	const char *fault = getenv("SLUICE_FAULT_LOSE_COMMIT");
	c->fault_commit = fault ? atol(fault) : 0;
	mysql_set_local_infile_handler(c->my, infile_init, infile_read, infile_end, infile_error,
				       c);
	snprintf(c->redacted, sizeof c->redacted, "%s", redacted);
	c->fd = socket_of(c->my);
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
static bool my_connect(const char *url, const struct conn_options *opts, struct conn **out,
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

static bool my_exec(struct conn *c, const char *sql, struct sl_error *err)
{
	return run_query(c, sql, "query failed", err);
}

/* Run "XA <verb> 'xid'" (the xid is sluice's own text, never input). */
static bool xa(struct conn *c, const char *verb, struct sl_error *err)
{
	char sql[128], what[48];
	snprintf(sql, sizeof sql, "XA %s '%s'", verb, c->xid);
	snprintf(what, sizeof what, "XA %s failed", verb);
	return run_query(c, sql, what, err);
}

/* XA errors that mean the server (or a node behind it) cannot run XA here:
 * Galera's "not supported with Galera replication" and the like. */
static bool xa_refused(unsigned code)
{
	return code == 1235 || code == 1178 || code == 1399 || code == 1400 || code == 1401;
}

static bool my_begin(struct conn *c, struct sl_error *err)
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
	if (!run_query(c, "START TRANSACTION", "START TRANSACTION failed", err))
		return false;
	c->in_tx = true;
	return true;
}

/* Whether err is a signal's cut (signals.h) of a statement sent. */
static bool cut_off(const struct sl_error *err)
{
	return err->kind == SL_ERR_INTERRUPTED && is_connection_errno(err->server_code);
}

static bool my_commit(struct conn *c, struct sl_error *err)
{
	if (c->plain) {
		c->commit_sent = true;
		if (c->fault_commit && ++c->ncommits == c->fault_commit) {
			mysql_send_query(c->my, "COMMIT", 6);
			shutdown(socket_of(c->my), SHUT_RDWR);
			mysql_read_query_result(c->my);
		}
		bool ok = run_query(c, "COMMIT", "COMMIT failed", err);
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
		return run_query(c, "ROLLBACK", "ROLLBACK failed", err);
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

static bool my_rollback(struct conn *c, struct sl_error *err)
{
	c->cleanup = true;
	bool ok = rollback_now(c, err);
	c->cleanup = false;
	return ok;
}

static int my_commit_token(struct conn *c, char *out, size_t n)
{
	if (!c->commit_in_doubt)
		return 0;
	if (c->plain)
		return -1; /* a plain COMMIT whose reply is lost: no token to ask about */
	snprintf(out, n, "%c%s", c->commit_sent ? 'C' : 'P', c->xid);
	return 1;
}

static const char *my_commit_mode(const struct conn *c)
{
	return c->plain ? "plain" : "xa";
}

/* Settle a transaction whose COMMIT lost its connection. Still prepared (XA
 * RECOVER lists it): commit it now. Not listed: it committed if XA COMMIT
 * had been sent (PREPARE had succeeded), else it was rolled back with the
 * connection. */
static bool my_commit_status(struct conn *c, const char *token, bool *committed,
			     struct sl_error *err)
{
	bool commit_sent = token[0] == 'C';
	snprintf(c->xid, sizeof c->xid, "%s", token + 1);
	/* the old session may live on, stalled (--timeout gave up on it), and
	 * still finish its PREPARE or COMMIT: end it first, so that what XA
	 * RECOVER shows is final (the xid carries its thread id) */
	long pid;
	unsigned long tid = 0, seq;
	if (sscanf(c->xid, "sluice-%ld-%lu-%lu", &pid, &tid, &seq) == 3 && tid &&
	    tid != mysql_thread_id(c->my)) {
		char sql[128];
		snprintf(sql, sizeof sql, "KILL %lu", tid);
		struct sl_error gone; /* "unknown thread": it has ended already */
		if (run_query(c, sql, "ending the old session", &gone)) {
			snprintf(sql, sizeof sql,
				 "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE ID = "
				 "%lu",
				 tid);
			for (int i = 0; i < 100 && !signals_caught() && query_number(c, sql) > 0;
			     i++) {
				struct timespec ts = {0, 50 * 1000 * 1000};
				nanosleep(&ts, NULL);
			}
		}
	}
	for (int attempt = 0; attempt < 50 && !signals_caught(); attempt++) {
		if (text_query(c, "XA RECOVER"))
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

static bool my_server_version(struct conn *c, char *out, size_t n, struct sl_error *err)
{
	(void)err;
	const char *info = mysql_get_server_info(c->my);
	if (!info)
		info = "";
	size_t vlen = strcspn(info, "-");
	snprintf(out, n, "%s %.*s", strstr(info, "MariaDB") ? "MariaDB" : "MySQL", (int)vlen, info);
	return true;
}

static bool my_healthy(struct conn *c)
{
	return c && c->my && may_start(c) && mysql_ping(c->my) == 0;
}

/* Append s to the SQL text as a quoted string literal. */
static bool put_literal(struct conn *c, const char *s)
{
	size_t n = strlen(s);
	if (!buf_reserve(&c->sql, 2 * n + 3))
		return false;
	c->sql.data[c->sql.len++] = '\'';
	c->sql.len +=
		mysql_real_escape_string(c->my, c->sql.data + c->sql.len, s, (unsigned long)n);
	c->sql.data[c->sql.len++] = '\'';
	c->sql.data[c->sql.len] = '\0';
	return true;
}

/* Append "<alias>TABLE_SCHEMA = ... AND <alias>TABLE_NAME = ..." for spec's
 * table to c->sql. */
static bool put_table_match_as(struct conn *c, const struct write_spec *spec, const char *alias)
{
	bool ok = buf_printf(&c->sql, " %sTABLE_SCHEMA = ", alias);
	if (spec->schema && *spec->schema)
		ok = ok && put_literal(c, spec->schema);
	else
		ok = ok && buf_puts(&c->sql, "DATABASE()");
	return ok && buf_printf(&c->sql, " AND %sTABLE_NAME = ", alias) &&
	       put_literal(c, spec->table);
}

static bool put_table_match(struct conn *c, const struct write_spec *spec)
{
	return put_table_match_as(c, spec, "");
}

/* Add the table's primary key and unique indexes to out, columns in index
 * order; a prefix or expression part gets a name no column has, so it never
 * passes for the column itself. */
static bool describe_unique(struct conn *c, const struct write_spec *spec, struct table_desc *out,
			    struct sl_error *err)
{
	buf_reset(&c->sql);
	bool ok = buf_puts(&c->sql,
			   "SELECT INDEX_NAME, CASE WHEN COLUMN_NAME IS NULL THEN '(expression)' "
			   "WHEN SUB_PART IS NOT NULL THEN CONCAT(COLUMN_NAME, '(', SUB_PART, ')') "
			   "ELSE COLUMN_NAME END FROM information_schema.STATISTICS WHERE "
			   "NON_UNIQUE = 0 "
			   "AND") &&
		  put_table_match(c, spec) &&
		  buf_puts(&c->sql, " ORDER BY INDEX_NAME <> 'PRIMARY', INDEX_NAME, SEQ_IN_INDEX");
	if (!ok)
		return sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
	if (real_query(c, c->sql.data, c->sql.len))
		return my_fail(c, "describing table", err);
	MYSQL_RES *res = mysql_store_result(c->my);
	if (!res)
		return my_fail(c, "describing table", err);
	size_t n = (size_t)mysql_num_rows(res);
	char **names = calloc(n ? n : 1, sizeof *names), **cols = calloc(n ? n : 1, sizeof *cols);
	ok = names && cols;
	MYSQL_ROW row;
	for (size_t i = 0; ok && i < n && (row = mysql_fetch_row(res)) != NULL; i++) {
		names[i] = strdup(row[0] ? row[0] : "");
		cols[i] = strdup(row[1] ? row[1] : "");
		ok = names[i] && cols[i];
	}
	mysql_free_result(res);
	for (size_t i = 0; ok && i < n;) {
		size_t k = 1;
		while (i + k < n && !strcmp(names[i + k], names[i]))
			k++;
		ok = table_desc_add_unique(out, names[i], !strcmp(names[i], "PRIMARY"), cols + i,
					   (int)k);
		i += k;
	}
	for (size_t i = 0; i < n; i++) {
		if (names)
			free(names[i]);
		if (cols)
			free(cols[i]);
	}
	free(names);
	free(cols);
	if (!ok) {
		table_desc_free(out);
		return sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
	}
	return true;
}

/* Lower-case type text t in place outside its quotes: the type's words
 * compare as lower case, while enum and set labels keep their exact case
 * (a lowercased label is another value). */
static void lower_type_words(char *t)
{
	char quote = 0;
	for (; *t; t++) {
		if (quote) {
			if (*t == '\\' && t[1])
				t++;
			else if (*t == quote)
				quote = 0;
		} else if (*t == '\'' || *t == '"') {
			quote = *t;
		} else {
			*t = (char)tolower((unsigned char)*t);
		}
	}
}

static bool my_describe_table(struct conn *c, const struct write_spec *spec, struct table_desc *out,
			      struct sl_error *err)
{
	memset(out, 0, sizeof *out);
	buf_reset(&c->sql);
	bool ok = buf_puts(&c->sql, "SELECT COLUMN_NAME, COLUMN_TYPE, IS_NULLABLE = 'YES', "
				    "COLUMN_DEFAULT IS NOT NULL OR EXTRA LIKE '%auto_increment%' "
				    "OR EXTRA LIKE '%GENERATED%', COLLATION_NAME "
				    "FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ");
	if (spec->schema && *spec->schema)
		ok = ok && put_literal(c, spec->schema);
	else
		ok = ok && buf_puts(&c->sql, "DATABASE()");
	ok = ok && buf_puts(&c->sql, " AND TABLE_NAME = ") && put_literal(c, spec->table) &&
	     buf_puts(&c->sql, " ORDER BY ORDINAL_POSITION");
	if (!ok)
		return sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
	if (real_query(c, c->sql.data, c->sql.len))
		return my_fail(c, "describing table", err);
	MYSQL_RES *res = mysql_store_result(c->my);
	if (!res)
		return my_fail(c, "describing table", err);
	size_t n = (size_t)mysql_num_rows(res);
	out->exists = n > 0;
	out->cols = n ? calloc(n, sizeof *out->cols) : NULL;
	MYSQL_ROW row;
	for (size_t i = 0; out->cols && i < n && (row = mysql_fetch_row(res)) != NULL; i++) {
		out->cols[i].name = strdup(row[0] ? row[0] : "");
		out->cols[i].type = strdup(row[1] ? row[1] : "");
		if (out->cols[i].type)
			lower_type_words(out->cols[i].type);
		out->cols[i].nullable = row[2] && row[2][0] == '1';
		out->cols[i].has_default = row[3] && row[3][0] == '1';
		out->cols[i].collation = row[4] ? strdup(row[4]) : NULL;
		out->ncols = (int)i + 1;
		if (!out->cols[i].name || !out->cols[i].type)
			break;
	}
	mysql_free_result(res);
	if (n && (!out->cols || (size_t)out->ncols < n || !out->cols[n - 1].type)) {
		table_desc_free(out);
		return sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
	}
	if (!out->exists || !describe_unique(c, spec, out, err))
		return !out->exists;
	out->bulk_refused = c->no_local_infile;
	/* a Spider head sends LOAD DATA to its data nodes one row at a time,
	 * multi-row INSERTs as they are */
	buf_reset(&c->sql);
	MYSQL_RES *eng = NULL;
	MYSQL_ROW erow;
	if (buf_puts(&c->sql, "SELECT ENGINE FROM information_schema.TABLES WHERE") &&
	    put_table_match(c, spec) && (eng = store_query(c, "describing table", err)) &&
	    (erow = mysql_fetch_row(eng)) && erow[0] && !strcasecmp(erow[0], "SPIDER"))
		out->bulk_is_slow = true;
	if (eng)
		mysql_free_result(eng);
	return true;
}

/* Look up, once per table and column list, how each column's values convert. */
static bool ensure_kinds(struct conn *c, const struct write_spec *spec, struct sl_error *err)
{
	struct buf key;
	buf_init(&key, 0);
	bool ok = buf_puts(&key, spec->raw_bytes ? "raw\x1f" : "hex\x1f") &&
		  buf_puts(&key, spec->schema ? spec->schema : "") && buf_putc(&key, '\x1f') &&
		  buf_puts(&key, spec->table);
	for (int i = 0; ok && i < spec->ncols; i++)
		ok = buf_putc(&key, '\x1f') && buf_puts(&key, spec->columns[i]);
	if (!ok) {
		buf_free(&key);
		return sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
	}
	if (c->types_key && !strcmp(c->types_key, key.data)) {
		buf_free(&key);
		return true;
	}
	free(c->types_key);
	free(c->kinds);
	free(c->exact);
	c->types_key = NULL;
	c->any_kind = c->any_exact = false;
	c->kinds = calloc((size_t)(spec->ncols > 0 ? spec->ncols : 1), sizeof *c->kinds);
	c->exact = calloc((size_t)(spec->ncols > 0 ? spec->ncols : 1), sizeof *c->exact);
	if (!c->kinds || !c->exact) {
		buf_free(&key);
		return sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
	}
	struct table_desc td;
	if (!my_describe_table(c, spec, &td, err)) {
		buf_free(&key);
		return false;
	}
	for (int i = 0; i < spec->ncols; i++) {
		c->exact[i] = CONVERT_EXACT_ANY;
		for (int j = 0; j < td.ncols; j++) {
			/* MySQL column names compare case-insensitively */
			if (!strcasecmp(spec->columns[i], td.cols[j].name)) {
				c->kinds[i] = convert_kind_for_mysql(td.cols[j].type);
				if (spec->raw_bytes && c->kinds[i] == CONVERT_BYTES)
					c->kinds[i] = CONVERT_NONE; /* copy's bytes are bytes */
				c->exact[i] = convert_exact_rule_for_mysql(td.cols[j].type);
				break;
			}
		}
		if (c->kinds[i] != CONVERT_NONE)
			c->any_kind = true;
		if (c->exact[i] != CONVERT_EXACT_ANY)
			c->any_exact = true;
	}
	table_desc_free(&td);
	c->types_key = key.data; /* the buffer's memory now belongs to c */
	return true;
}

/* Grow the per-statement parameter arrays to np entries. */
static bool reserve_params(struct conn *c, size_t np, struct sl_error *err)
{
	if (np <= c->nparams_cap)
		return true;
	MYSQL_BIND *bn = realloc(c->binds, np * sizeof *bn);
	if (bn)
		c->binds = bn;
	unsigned long *ln = realloc(c->lens, np * sizeof *ln);
	if (ln)
		c->lens = ln;
	struct cell *vn = realloc(c->vals, np * sizeof *vn);
	if (vn)
		c->vals = vn;
	if (!bn || !ln || !vn)
		return sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
	c->nparams_cap = np;
	return true;
}

/* Convert rows [r, r+k) into c->vals; converted bytes live in c->data. */
static bool convert_rows(struct conn *c, const struct batch *b, size_t r, size_t k,
			 struct sl_error *err)
{
	size_t np = k * (size_t)b->ncols;
	const struct cell *cells = batch_row(b, r);
	if (!c->any_kind) {
		memcpy(c->vals, cells, np * sizeof *cells);
		return true;
	}
	size_t need = 0;
	for (size_t i = 0; i < np; i++)
		if (cells[i].ptr && c->kinds[i % (size_t)b->ncols] != CONVERT_NONE)
			need += cells[i].len + CONVERT_MAX_GROWTH;
	buf_reset(&c->data);
	if (!buf_reserve(&c->data, need + 1))
		return sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
	char *scratch = c->data.data; /* no appends follow, so this stays valid */
	for (size_t i = 0; i < np; i++)
		c->vals[i] = convert_cell(c, (int)(i % (size_t)b->ncols), cells[i], &scratch);
	return true;
}

/* Bytes the values of rows [r, r+k) take in an execute packet (an upper bound). */
static size_t row_packet_bytes(const struct cell *vals, int ncols)
{
	size_t n = 0;
	for (int i = 0; i < ncols; i++)
		n += (vals[i].ptr ? vals[i].len : 0) + 9 + 2 + 1;
	return n;
}

/* Make p hold the INSERT of nrows rows, preparing it when its text changed. */
/* Make p hold the statement now in c->sql, preparing it when its text changed. */
static bool prepare_sql(struct conn *c, struct prepared *p, const char *what, struct sl_error *err)
{
	if (p->stmt && p->text && !strcmp(p->text, c->sql.data))
		return true;
	prepared_clear(p);
	p->stmt = mysql_stmt_init(c->my);
	if (!p->stmt)
		return my_fail(c, what, err);
	if (stmt_prepare(c, p->stmt, c->sql.data, c->sql.len)) {
		my_stmt_fail(c, p->stmt, what, err);
		prepared_clear(p);
		return false;
	}
	p->text = strdup(c->sql.data);
	if (!p->text) {
		prepared_clear(p);
		return sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
	}
	return true;
}

/* Make p hold the INSERT of nrows rows. */
static bool ensure_prepared(struct conn *c, struct prepared *p, const struct write_spec *spec,
			    size_t nrows, struct sl_error *err)
{
	buf_reset(&c->sql);
	if (!sql_insert(&mysql_dialect, &c->sql, spec, nrows))
		return sl_error_set(err, SL_ERR_USAGE, "bad table or column name");
	return prepare_sql(c, p, "preparing INSERT", err);
}

/* After a statement: any note or warning about the values (MariaDB reports
 * rounding, truncated fractions and dropped digits as notes even in strict
 * mode) means a value was changed on the way in, so the statement is a data
 * error and the batch is bisected down to the rows it names. Only a
 * duplicate key under INSERT IGNORE (--on-conflict skip) is expected. */
static bool check_warnings(struct conn *c, bool skip_duplicates, const char *what,
			   struct sl_error *err)
{
	if (mysql_warning_count(c->my) == 0)
		return true;
	MYSQL_RES *res = NULL;
	if (text_query(c, "SHOW WARNINGS") || !(res = mysql_store_result(c->my)))
		return my_fail(c, what, err);
	MYSQL_ROW row;
	bool ok = true;
	while ((row = mysql_fetch_row(res)) != NULL) {
		const char *level = row[0] ? row[0] : "", *code = row[1] ? row[1] : "0";
		const char *msg = row[2] ? row[2] : "";
		unsigned n = (unsigned)strtoul(code, NULL, 10);
		if (harmless_warning(n) || (skip_duplicates && n == 1062))
			continue;
		sl_error_set(err, SL_ERR_DATA, "%s: %s (MySQL %s %u)", what, msg, level, n);
		err->server_code = n;
		url_scrub(err->msg, c->url);
		ok = false;
		break;
	}
	mysql_free_result(res);
	return ok;
}

static bool execute_stmt(struct conn *c, struct prepared *p, const struct cell *vals, size_t np,
			 bool skip_duplicates, const char *what, struct sl_error *err);

/* Of the nrows rows an upsert (INSERT ... ON DUPLICATE KEY UPDATE) just
 * wrote, those that updated a row already there, into *updated; false when
 * the server did not say. A statement of several rows has an info line
 * "Records: R  Duplicates: D" in which, under CLIENT_FOUND_ROWS, D counts
 * every row that met an existing key, changed or not; the affected-row
 * count (1 per insert, 2 per changed row, 1 per unchanged one) must agree.
 * A one-row statement has no info line: 2 affected rows are a changed row,
 * and 1 an insert or an unchanged row, told apart by c->single_existed,
 * looked up before the statement (-1: not looked up). */
static bool upsert_updated(struct conn *c, my_ulonglong affected, size_t nrows, size_t *updated)
{
	const char *info = mysql_info(c->my);
	unsigned long long records, dups;
	if (!info && nrows == 1 && (affected == 2 || (affected == 1 && c->single_existed >= 0))) {
		*updated = affected == 2 ? 1 : (size_t)c->single_existed;
		return true;
	}
	if (!info || sscanf(info, "Records: %llu Duplicates: %llu", &records, &dups) != 2 ||
	    records != nrows || dups > records || affected < records || affected - records > dups)
		return false;
	*updated = (size_t)dups;
	return true;
}

/* Execute the INSERT p with the values vals[0 .. nrows*ncols); adds the rows
 * it wrote to out (under INSERT IGNORE, those not skipped). */
static bool execute_rows(struct conn *c, struct prepared *p, const struct write_spec *spec,
			 const struct cell *vals, size_t nrows, int ncols, struct write_count *out,
			 struct sl_error *err)
{
	bool skip = spec->on_conflict == CONFLICT_SKIP;
	if (!execute_stmt(c, p, vals, nrows * (size_t)ncols, skip, "INSERT", err))
		return false;
	my_ulonglong affected = mysql_stmt_affected_rows(p->stmt);
	/* ON DUPLICATE KEY UPDATE counts an update as 2: every row was written */
	out->written += skip ? (size_t)affected : nrows;
	if (spec->on_conflict == CONFLICT_UPDATE) {
		size_t upd = 0;
		if (upsert_updated(c, affected, nrows, &upd))
			out->updated += upd;
		else
			out->updated_unknown = true;
		c->single_existed = -1;
	}
	return true;
}

/* Execute p with np values; what names the statement in messages. */
static bool execute_stmt(struct conn *c, struct prepared *p, const struct cell *vals, size_t np,
			 bool skip_duplicates, const char *what, struct sl_error *err)
{
	char failed[64];
	snprintf(failed, sizeof failed, "%s failed", what);
	memset(c->binds, 0, np * sizeof *c->binds);
	for (size_t i = 0; i < np; i++) {
		MYSQL_BIND *bd = &c->binds[i];
		if (!vals[i].ptr) {
			bd->buffer_type = MYSQL_TYPE_NULL;
			continue;
		}
		c->lens[i] = (unsigned long)vals[i].len;
		bd->buffer_type = MYSQL_TYPE_STRING;
		bd->buffer = (void *)vals[i].ptr;
		bd->buffer_length = c->lens[i];
		bd->length = &c->lens[i];
	}
	if (mysql_stmt_bind_param(p->stmt, c->binds))
		return my_stmt_fail(c, p->stmt, failed, err);
	if (stmt_execute(c, p->stmt)) {
		my_stmt_fail(c, p->stmt, failed, err);
		if (err->kind == SL_ERR_CONNECTION)
			prepared_clear(p);
		return false;
	}
	return check_warnings(c, skip_duplicates, what, err);
}

/* Insert k rows, already converted into c->vals, in statements that stay
 * under the packet limits: one when they fit (the reused full-size statement
 * when k is a full chunk), else runs of rows that fit. */
static bool insert_chunk(struct conn *c, const struct write_spec *spec, int ncols, size_t k,
			 size_t per, struct write_count *out, struct sl_error *err)
{
	size_t hard = c->max_packet > 1024 ? c->max_packet - 1024 : c->max_packet;
	size_t soft = hard < SOFT_PACKET_MAX ? hard : SOFT_PACKET_MAX;
	size_t total = 64;
	for (size_t i = 0; i < k; i++)
		total += row_packet_bytes(c->vals + i * (size_t)ncols, ncols);
	if (total <= soft) {
		struct prepared *p = k == per ? &c->full : &c->other;
		return ensure_prepared(c, p, spec, k, err) &&
		       execute_rows(c, p, spec, c->vals, k, ncols, out, err);
	}
	size_t start = 0;
	while (start < k) {
		size_t bytes = 64, end = start;
		while (end < k) {
			size_t rb = row_packet_bytes(c->vals + end * (size_t)ncols, ncols);
			if (end > start && bytes + rb > soft)
				break;
			bytes += rb;
			end++;
		}
		if (bytes > hard)
			return sl_error_set(err, SL_ERR_DATA,
					    "a row of %zu bytes does not fit the server's "
					    "max_allowed_packet (%lu)",
					    bytes, c->max_packet);
		if (!ensure_prepared(c, &c->other, spec, end - start, err) ||
		    !execute_rows(c, &c->other, spec, c->vals + start * (size_t)ncols, end - start,
				  ncols, out, err))
			return false;
		start = end;
	}
	return true;
}

static bool my_count_keys(struct conn *c, const struct write_spec *spec, const struct batch *b,
			  size_t first, size_t n, unsigned long long *count, struct sl_error *err);

static bool write_insert(struct conn *c, const struct write_spec *spec, const struct batch *b,
			 size_t first, size_t n, struct write_count *out, struct sl_error *err)
{
	size_t per = sql_rows_per_statement(&mysql_dialect, b->ncols, spec->batch_rows);
	if (!reserve_params(c, per * (size_t)b->ncols, err))
		return false;
	size_t r = first, end = first + n;
	while (r < end) {
		size_t k = end - r < per ? end - r : per;
		c->single_existed = -1;
		if (k == 1 && spec->on_conflict == CONFLICT_UPDATE) {
			/* a one-row upsert does not say whether it inserted (see
			 * upsert_updated): ask first */
			unsigned long long there = 0;
			if (!my_count_keys(c, spec, b, r, 1, &there, err))
				return false;
			c->single_existed = there > 0;
		}
		if (!convert_rows(c, b, r, k, err) ||
		    !insert_chunk(c, spec, b->ncols, k, per, out, err))
			return false;
		r += k;
	}
	return true;
}

static bool write_infile(struct conn *c, const struct write_spec *spec, const struct batch *b,
			 size_t first, size_t n, struct sl_error *err)
{
	buf_reset(&c->sql);
	if (!mysql_dialect.bulk_load(&c->sql, spec))
		return sl_error_set(err, SL_ERR_USAGE, "bad table or column name");
	c->inf = (struct infile_state){.b = b, .next = first, .end = first + n};
	buf_reset(&c->data);
	if (real_query(c, c->sql.data, c->sql.len)) {
		if (c->inf.interrupted)
			return sl_error_set(err, SL_ERR_INTERRUPTED,
					    "%s: LOAD DATA failed: interrupted by %s", c->redacted,
					    signals_name());
		if (c->inf.failed)
			return sl_error_set(err, SL_ERR_DATA, "a row is too large for LOAD DATA");
		return my_fail(c, "LOAD DATA failed", err);
	}
	if (!check_warnings(c, false, "LOAD DATA", err))
		return false;
	my_ulonglong done = mysql_affected_rows(c->my);
	if (done != (my_ulonglong)n)
		return sl_error_set(err, SL_ERR_DATA, "LOAD DATA wrote %llu of %zu rows",
				    (unsigned long long)done, n);
	return true;
}

/* Refuse rows [first, first+n) when a value would not be kept exactly by
 * its column and the server would not say so (convert_is_exact): a data
 * error, so the batch is bisected down to the row. */
static bool check_exact(struct conn *c, const struct write_spec *spec, const struct batch *b,
			size_t first, size_t n, struct sl_error *err)
{
	if (!c->any_exact)
		return true;
	char why[300];
	for (size_t r = first; r < first + n; r++) {
		const struct cell *row = batch_row(b, r);
		for (int col = 0; col < b->ncols; col++) {
			if (row[col].ptr && c->exact[col] != CONVERT_EXACT_ANY &&
			    !convert_is_exact(c->exact[col], row[col].ptr, row[col].len, why,
					      sizeof why))
				return sl_error_set(err, SL_ERR_DATA, "column `%s`: %s",
						    spec->columns[col], why);
		}
	}
	return true;
}

static bool my_write_batch(struct conn *c, const struct write_spec *spec, const struct batch *b,
			   size_t first, size_t n, struct write_count *out, struct sl_error *err)
{
	*out = (struct write_count){0};
	if (n == 0)
		return true;
	if (!ensure_kinds(c, spec, err) || !check_exact(c, spec, b, first, n, err))
		return false;
	if (spec->method == METHOD_INFILE && spec->on_conflict == CONFLICT_ERROR) {
		if (!write_infile(c, spec, b, first, n, err))
			return false;
		out->written = n;
		return true;
	}
	return write_insert(c, spec, b, first, n, out, err);
}

/* Make the connection's staging table hold spec's key and set columns, with
 * the target columns' own types (CREATE TEMPORARY TABLE ... SELECT ... LIMIT
 * 0), plus sluice_ord, each staged row's place in the batch; emptied. A
 * temporary table is the session's own and takes part in its transaction. */
static bool ensure_stage(struct conn *c, const struct write_spec *spec, const int *set, int nset,
			 const int *key, int nkey, struct sl_error *err)
{
	struct buf shape;
	buf_init(&shape, 0);
	bool ok = sql_table_name(&mysql_dialect, &shape, spec);
	for (int i = 0; ok && i < nkey + nset; i++)
		ok = buf_putc(&shape, '\x1f') &&
		     buf_puts(&shape, spec->columns[i < nkey ? key[i] : set[i - nkey]]);
	if (!ok) {
		buf_free(&shape);
		return sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
	}
	if (c->stage_key && !strcmp(c->stage_key, shape.data)) {
		buf_free(&shape);
		return run_query(c, "DELETE FROM `sluice#stage`", "emptying the staging table",
				 err);
	}
	buf_reset(&c->sql);
	ok = buf_puts(&c->sql, "DROP TEMPORARY TABLE IF EXISTS `sluice#stage`");
	if (ok && !run_query(c, c->sql.data, "dropping the staging table", err)) {
		buf_free(&shape);
		return false;
	}
	buf_reset(&c->sql);
	ok = buf_puts(&c->sql, "CREATE TEMPORARY TABLE `sluice#stage` ENGINE=InnoDB SELECT "
			       "CAST(0 AS UNSIGNED) AS `sluice#ord`");
	for (int i = 0; ok && i < nkey + nset; i++)
		ok = buf_puts(&c->sql, ", ") &&
		     mysql_dialect.quote_ident(&c->sql,
					       spec->columns[i < nkey ? key[i] : set[i - nkey]]);
	ok = ok && buf_puts(&c->sql, " FROM ") && sql_table_name(&mysql_dialect, &c->sql, spec) &&
	     buf_puts(&c->sql, " LIMIT 0");
	if (!ok) {
		buf_free(&shape);
		return sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
	}
	free(c->stage_key);
	c->stage_key = NULL;
	if (!run_query(c, c->sql.data, "creating the staging table", err)) {
		buf_free(&shape);
		return false;
	}
	c->stage_key = shape.data; /* the buffer's memory now belongs to c */
	return true;
}

/* Stage rows [first, first+n) (sluice_ord, keys, set values) with multi-row
 * INSERTs under the placeholder and packet limits. */
static bool stage_rows(struct conn *c, const struct batch *b, size_t first, size_t n,
		       const int *set, int nset, const int *key, int nkey, struct sl_error *err)
{
	size_t per_row = (size_t)(1 + nkey + nset);
	size_t per = 60000 / per_row;
	size_t soft = c->max_packet > 2048 ? c->max_packet - 1024 : c->max_packet;
	if (soft > SOFT_PACKET_MAX)
		soft = SOFT_PACKET_MAX;
	char(*ords)[24] = malloc((n ? n : 1) * sizeof *ords);
	if (!ords || !reserve_params(c, (per < n ? per : n) * per_row + per_row, err)) {
		free(ords);
		return ords ? false : sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
	}
	bool ok = true;
	for (size_t r = 0; ok && r < n;) {
		/* rows that fit one statement */
		size_t k = 0, bytes = 64, need = 1;
		while (r + k < n && k < per) {
			const struct cell *row = batch_row(b, first + r + k);
			size_t rb = 32;
			for (int t = 0; t < nkey + nset; t++) {
				const struct cell *v = &row[t < nkey ? key[t] : set[t - nkey]];
				rb += (v->ptr ? v->len : 0) + 12;
			}
			if (k > 0 && bytes + rb > soft)
				break;
			bytes += rb;
			need += rb + (size_t)(nkey + nset) * CONVERT_MAX_GROWTH;
			k++;
		}
		buf_reset(&c->data);
		if (!buf_reserve(&c->data, need)) {
			ok = sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
			break;
		}
		char *scratch = c->data.data;
		size_t np = 0;
		for (size_t i = 0; i < k; i++) {
			const struct cell *row = batch_row(b, first + r + i);
			snprintf(ords[r + i], sizeof ords[r + i], "%zu", r + i);
			c->vals[np++] = (struct cell){ords[r + i], strlen(ords[r + i])};
			for (int t = 0; t < nkey; t++)
				c->vals[np++] = convert_cell(c, key[t], row[key[t]], &scratch);
			for (int t = 0; t < nset; t++)
				c->vals[np++] = convert_cell(c, set[t], row[set[t]], &scratch);
		}
		buf_reset(&c->sql);
		ok = buf_puts(&c->sql, "INSERT INTO `sluice#stage` VALUES ");
		for (size_t i = 0; ok && i < k; i++) {
			ok = buf_puts(&c->sql, i ? ",(?" : "(?");
			for (size_t t = 1; ok && t < per_row; t++)
				ok = buf_puts(&c->sql, ",?");
			ok = ok && buf_putc(&c->sql, ')');
		}
		if (!ok) {
			ok = sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
			break;
		}
		ok = prepare_sql(c, &c->stage, "preparing the staging INSERT", err) &&
		     execute_stmt(c, &c->stage, c->vals, np, false, "staging the update", err);
		r += k;
	}
	free(ords);
	return ok;
}

/* sluice update in one statement per batch: the rows staged into a
 * temporary table, one UPDATE joined on the key, then one query that counts
 * the target rows each staged row matched (not found: 0). Where the session
 * may not create temporary tables, one prepared UPDATE per row instead. */
static bool update_staged(struct conn *c, const struct write_spec *spec, const struct batch *b,
			  size_t first, size_t n, unsigned *matched, const int *set, int nset,
			  const int *key, int nkey, struct sl_error *err)
{
	if (!ensure_stage(c, spec, set, nset, key, nkey, err) ||
	    !stage_rows(c, b, first, n, set, nset, key, nkey, err))
		return false;
	buf_reset(&c->sql);
	bool ok = buf_puts(&c->sql, "UPDATE ") && sql_table_name(&mysql_dialect, &c->sql, spec) &&
		  buf_puts(&c->sql, " AS t JOIN `sluice#stage` AS s ON ");
	for (int i = 0; ok && i < nkey; i++)
		ok = buf_puts(&c->sql, i ? " AND t." : "t.") &&
		     mysql_dialect.quote_ident(&c->sql, spec->columns[key[i]]) &&
		     buf_puts(&c->sql, " = s.") &&
		     mysql_dialect.quote_ident(&c->sql, spec->columns[key[i]]);
	ok = ok && buf_puts(&c->sql, " SET ");
	for (int i = 0; ok && i < nset; i++)
		ok = buf_puts(&c->sql, i ? ", t." : "t.") &&
		     mysql_dialect.quote_ident(&c->sql, spec->columns[set[i]]) &&
		     buf_puts(&c->sql, " = s.") &&
		     mysql_dialect.quote_ident(&c->sql, spec->columns[set[i]]);
	if (!ok)
		return sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
	if (!run_query(c, c->sql.data, "UPDATE failed", err) ||
	    !check_warnings(c, false, "UPDATE", err))
		return false;
	buf_reset(&c->sql);
	ok = buf_puts(&c->sql, "SELECT s.`sluice#ord`, COUNT(t.") &&
	     mysql_dialect.quote_ident(&c->sql, spec->columns[key[0]]) &&
	     buf_puts(&c->sql, ") FROM `sluice#stage` AS s LEFT JOIN ") &&
	     sql_table_name(&mysql_dialect, &c->sql, spec) && buf_puts(&c->sql, " AS t ON ");
	for (int i = 0; ok && i < nkey; i++)
		ok = buf_puts(&c->sql, i ? " AND t." : "t.") &&
		     mysql_dialect.quote_ident(&c->sql, spec->columns[key[i]]) &&
		     buf_puts(&c->sql, " = s.") &&
		     mysql_dialect.quote_ident(&c->sql, spec->columns[key[i]]);
	ok = ok && buf_puts(&c->sql, " GROUP BY s.`sluice#ord`");
	if (!ok)
		return sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
	MYSQL_RES *res = store_query(c, "counting matched rows", err);
	if (!res)
		return false;
	MYSQL_ROW row;
	while ((row = mysql_fetch_row(res)) != NULL) {
		size_t i = row[0] ? strtoull(row[0], NULL, 10) : n;
		if (i < n)
			matched[i] = row[1] ? (unsigned)strtoul(row[1], NULL, 10) : 0;
	}
	mysql_free_result(res);
	return true;
}

/* sluice update: staged (see update_staged); one prepared UPDATE per row
 * where that is refused; with CLIENT_FOUND_ROWS the affected-row count says
 * whether the key matched, changed or not. */
static bool my_update_batch(struct conn *c, const struct write_spec *spec, const struct batch *b,
			    size_t first, size_t n, unsigned *matched, struct sl_error *err)
{
	int set[b->ncols], key[b->ncols], nset, nkey;
	if (!sql_update_columns(spec, set, &nset, key, &nkey))
		return sl_error_set(err, SL_ERR_USAGE,
				    "--key or --set names a column the input lacks");
	if (!ensure_kinds(c, spec, err) || !check_exact(c, spec, b, first, n, err))
		return false;
	if (!nset || !nkey)
		return sl_error_set(err, SL_ERR_USAGE, "bad update: no columns to set or no key");
	if (!c->no_stage) {
		if (update_staged(c, spec, b, first, n, matched, set, nset, key, nkey, err))
			return true;
		/* no privilege to create temporary tables: row by row from now on */
		if (err->server_code != 1044 && err->server_code != 1142)
			return false;
		c->no_stage = true;
		sl_error_clear(err);
	}
	buf_reset(&c->sql);
	if (!sql_update_row(&mysql_dialect, &c->sql, spec))
		return sl_error_set(err, SL_ERR_USAGE, "bad update: no columns to set or no key");
	struct prepared *p = &c->update;
	if (!prepare_sql(c, p, "preparing UPDATE", err))
		return false;
	size_t np = (size_t)(nset + nkey);
	if (!reserve_params(c, np, err))
		return false;
	for (size_t i = 0; i < n; i++) {
		const struct cell *row = batch_row(b, first + i);
		size_t need = 1;
		for (int t = 0; t < b->ncols; t++)
			need += (row[t].ptr ? row[t].len : 0) + CONVERT_MAX_GROWTH;
		buf_reset(&c->data);
		if (!buf_reserve(&c->data, need))
			return sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
		char *scratch = c->data.data;
		for (int t = 0; t < nset; t++)
			c->vals[t] = convert_cell(c, set[t], row[set[t]], &scratch);
		for (int t = 0; t < nkey; t++)
			c->vals[nset + t] = convert_cell(c, key[t], row[key[t]], &scratch);
		if (!execute_stmt(c, p, c->vals, np, false, "UPDATE", err))
			return false;
		/* CLIENT_FOUND_ROWS: rows the key matched, changed or not */
		matched[i] = (unsigned)mysql_stmt_affected_rows(p->stmt);
	}
	return true;
}

/* Count the rows of the table that have the key of one of rows
 * [first, first+n): a lost plain COMMIT of an insert is settled by it. Keys
 * travel as parameters, in statements under the placeholder limit. */
static bool my_count_keys(struct conn *c, const struct write_spec *spec, const struct batch *b,
			  size_t first, size_t n, unsigned long long *count, struct sl_error *err)
{
	*count = 0;
	int key[spec->nkey > 0 ? spec->nkey : 1];
	for (int k = 0; k < spec->nkey; k++) {
		key[k] = -1;
		for (int i = 0; i < spec->ncols; i++)
			if (!strcasecmp(spec->key[k], spec->columns[i]))
				key[k] = i;
		if (key[k] < 0)
			return sl_error_set(err, SL_ERR_USAGE, "key column %s is not written",
					    spec->key[k]);
	}
	if (spec->nkey == 0 || !ensure_kinds(c, spec, err))
		return spec->nkey ? false
				  : sl_error_set(err, SL_ERR_USAGE, "no key to look rows up by");
	size_t per = (size_t)(60000 / spec->nkey);
	bool ok = true;
	for (size_t r = first; ok && r < first + n; r += per) {
		size_t k = first + n - r < per ? first + n - r : per;
		size_t np = k * (size_t)spec->nkey, need = 1;
		if (!reserve_params(c, np, err))
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
					convert_cell(c, key[q], row[key[q]], &scratch);
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
		if (!ok || !buf_putc(&c->sql, ')'))
			return sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
		struct prepared p = {0};
		if (!prepare_sql(c, &p, "looking rows up", err))
			return false;
		long long got = 0;
		MYSQL_BIND out = {0};
		out.buffer_type = MYSQL_TYPE_LONGLONG;
		out.buffer = &got;
		ok = execute_stmt(c, &p, c->vals, np, false, "looking rows up", err);
		if (ok && (mysql_stmt_bind_result(p.stmt, &out) || mysql_stmt_fetch(p.stmt)))
			ok = my_stmt_fail(c, p.stmt, "looking rows up", err);
		prepared_clear(&p);
		*count += ok ? (unsigned long long)got : 0;
	}
	return ok;
}

/* ---------------------------------------------------------------------------
 * Reading, for copy and verify
 */

static bool my_snapshot(struct conn *c, struct sl_error *err)
{
	return run_query(c, "SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ",
			 "starting a snapshot", err) &&
	       run_query(c, "START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY",
			 "starting a snapshot", err);
}

/* A plain ROLLBACK: my_snapshot's transaction is neither begin's nor XA. */
static bool my_snapshot_end(struct conn *c, struct sl_error *err)
{
	return run_query(c, "ROLLBACK", "ending a snapshot", err);
}

/* A global read lock: no commit until let_go (it waits for running
 * writes to end, and needs RELOAD). */
static bool my_hold_still(struct conn *c, struct sl_error *err)
{
	if (my_exec(c, "FLUSH TABLES WITH READ LOCK", err))
		return true;
	char why[sizeof err->msg];
	snprintf(why, sizeof why, "%s", err->msg);
	return sl_error_set(err, err->kind, "FLUSH TABLES WITH READ LOCK is not allowed here (%s)",
			    why);
}

static void my_let_go(struct conn *c)
{
	struct sl_error e;
	my_exec(c, "UNLOCK TABLES", &e);
}

/* "TABLE_SCHEMA = <db>" for schema (NULL: the connection's database). */
static bool put_schema_match(struct conn *c, const char *column, const char *schema)
{
	return buf_puts(&c->sql, column) && buf_puts(&c->sql, " = ") &&
	       (schema && *schema ? put_literal(c, schema) : buf_puts(&c->sql, "DATABASE()"));
}

static bool my_describe_schema(struct conn *c, const char *schema, struct schema_desc *out,
			       struct sl_error *err)
{
	memset(out, 0, sizeof *out);
	static const char *const heads[5] = {
		"SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_TYPE IN ('BASE "
		"TABLE', 'SYSTEM VERSIONED') AND ",
		"SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_TYPE = 'VIEW' AND ",
		"SELECT CONCAT(EVENT_OBJECT_TABLE, '.', TRIGGER_NAME) FROM "
		"information_schema.TRIGGERS WHERE ",
		"SELECT CONCAT(LOWER(ROUTINE_TYPE), ' ', ROUTINE_NAME) FROM "
		"information_schema.ROUTINES WHERE ",
		"SELECT CONCAT('event ', EVENT_NAME) FROM information_schema.EVENTS WHERE ",
	};
	static const char *const cols[5] = {"TABLE_SCHEMA", "TABLE_SCHEMA", "TRIGGER_SCHEMA",
					    "ROUTINE_SCHEMA", "EVENT_SCHEMA"};
	char ***lists[5] = {&out->tables, &out->views, &out->triggers, &out->objects,
			    &out->objects};
	int *counts[5] = {&out->ntables, &out->nviews, &out->ntriggers, &out->nobjects,
			  &out->nobjects};
	for (int q = 0; q < 5; q++) {
		buf_reset(&c->sql);
		if (!buf_puts(&c->sql, heads[q]) || !put_schema_match(c, cols[q], schema) ||
		    !buf_puts(&c->sql, " ORDER BY 1"))
			return sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
		MYSQL_RES *res = store_query(c, "listing tables", err);
		if (!res) {
			schema_desc_free(out);
			return false;
		}
		MYSQL_ROW row;
		bool ok = true;
		while (ok && (row = mysql_fetch_row(res)) != NULL)
			ok = names_add(lists[q], counts[q], row[0] ? row[0] : "");
		mysql_free_result(res);
		if (!ok) {
			schema_desc_free(out);
			return sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
		}
	}
	return true;
}

/* Defaults, auto_increment, generated expressions; MariaDB's json columns
 * (a longtext with a json_valid check) get the type "json". */
static bool describe_columns_full(struct conn *c, const struct write_spec *spec,
				  struct table_desc *out, struct sl_error *err)
{
	buf_reset(&c->sql);
	if (!buf_puts(&c->sql, "SELECT COLUMN_DEFAULT, EXTRA LIKE '%auto_increment%', "
			       "IF(EXTRA LIKE '%GENERATED%', GENERATION_EXPRESSION, NULL), "
			       "CHARACTER_SET_NAME, COLLATION_NAME, "
			       "IF(EXTRA LIKE 'on update %', SUBSTRING(EXTRA, 11), NULL), "
			       "DATA_TYPE = 'longtext' AND EXISTS (SELECT 1 FROM "
			       "information_schema.CHECK_CONSTRAINTS k WHERE k.CONSTRAINT_SCHEMA = "
			       "c.TABLE_SCHEMA AND k.TABLE_NAME = c.TABLE_NAME AND "
			       "REPLACE(k.CHECK_CLAUSE, ' ', '') = CONCAT('json_valid(`', "
			       "c.COLUMN_NAME, '`)')) FROM information_schema.COLUMNS c WHERE") ||
	    !put_table_match_as(c, spec, "c.") || !buf_puts(&c->sql, " ORDER BY ORDINAL_POSITION"))
		return sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
	MYSQL_RES *res = store_query(c, "describing columns", err);
	if (!res)
		return false;
	MYSQL_ROW row;
	bool ok = true;
	for (int i = 0; ok && i < out->ncols && (row = mysql_fetch_row(res)) != NULL; i++) {
		struct column_desc *col = &out->cols[i];
		if (row[0])
			ok = (col->default_expr = strdup(row[0])) != NULL;
		col->identity = row[1] && row[1][0] == '1';
		if (ok && row[2])
			ok = (col->generated = strdup(row[2])) != NULL;
		if (ok && row[3])
			ok = (col->charset = strdup(row[3])) != NULL;
		if (ok && row[4]) {
			free(col->collation); /* describe_table's, the same */
			ok = (col->collation = strdup(row[4])) != NULL;
		}
		if (ok && row[5])
			ok = (col->on_update = strdup(row[5])) != NULL;
		if (ok && row[6] && row[6][0] == '1') {
			free(col->type);
			ok = (col->type = strdup("json")) != NULL;
		}
	}
	mysql_free_result(res);
	return ok ? true : sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
}

/* Every index, columns in order; a prefix part cannot be carried exactly. */
static bool describe_indexes(struct conn *c, const struct write_spec *spec, struct table_desc *out,
			     struct sl_error *err)
{
	buf_reset(&c->sql);
	if (!buf_puts(&c->sql, "SELECT INDEX_NAME, NON_UNIQUE = 0, LOWER(INDEX_TYPE), "
			       "COLUMN_NAME IS NULL, COALESCE(COLUMN_NAME, ''), "
			       "IF(INDEX_TYPE IN ('BTREE', 'HASH'), COALESCE(SUB_PART, 0), 0) "
			       "FROM information_schema.STATISTICS WHERE") ||
	    !put_table_match(c, spec) || !buf_puts(&c->sql, " ORDER BY INDEX_NAME, SEQ_IN_INDEX"))
		return sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
	MYSQL_RES *res = store_query(c, "describing indexes", err);
	if (!res)
		return false;
	size_t n = (size_t)mysql_num_rows(res);
	char **name = calloc(n ? n : 1, sizeof *name), **col = calloc(n ? n : 1, sizeof *col);
	char **method = calloc(n ? n : 1, sizeof *method);
	bool *uniq = calloc(n ? n : 1, sizeof *uniq), *expr = calloc(n ? n : 1, sizeof *expr);
	int *prefix = calloc(n ? n : 1, sizeof *prefix);
	bool ok = name && col && method && uniq && expr && prefix;
	MYSQL_ROW row;
	for (size_t i = 0; ok && i < n && (row = mysql_fetch_row(res)) != NULL; i++) {
		name[i] = strdup(row[0] ? row[0] : "");
		method[i] = strdup(row[2] ? row[2] : "btree");
		col[i] = strdup(row[4] ? row[4] : "");
		uniq[i] = row[1] && row[1][0] == '1';
		expr[i] = row[3] && row[3][0] == '1';
		prefix[i] = row[5] ? atoi(row[5]) : 0;
		ok = name[i] && method[i] && col[i];
	}
	mysql_free_result(res);
	for (size_t i = 0; ok && i < n;) {
		size_t k = 1;
		bool any_expr = expr[i];
		while (i + k < n && !strcmp(name[i + k], name[i]))
			any_expr |= expr[i + k++];
		ok = table_desc_add_index(out, name[i], uniq[i], !strcmp(name[i], "PRIMARY"),
					  method[i], any_expr, col + i, (int)k);
		struct index_desc *x = &out->indexes[out->nindexes - 1];
		bool any_prefix = false;
		for (size_t j = 0; j < k; j++)
			any_prefix |= prefix[i + j] > 0;
		if (ok && any_prefix) {
			ok = (x->prefix = calloc(k, sizeof *x->prefix)) != NULL;
			for (size_t j = 0; ok && j < k; j++)
				x->prefix[j] = prefix[i + j];
		}
		i += k;
	}
	for (size_t i = 0; i < n && name && col && method; i++) {
		free(name[i]);
		free(col[i]);
		free(method[i]);
	}
	free(name);
	free(col);
	free(method);
	free(uniq);
	free(expr);
	free(prefix);
	return ok ? true : sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
}

/* The table's foreign keys, columns in order. */
static bool describe_fkeys(struct conn *c, const struct write_spec *spec, struct table_desc *out,
			   struct sl_error *err)
{
	buf_reset(&c->sql);
	if (!buf_puts(
		    &c->sql,
		    "SELECT k.CONSTRAINT_NAME, k.COLUMN_NAME, k.REFERENCED_TABLE_SCHEMA, "
		    "k.REFERENCED_TABLE_NAME, k.REFERENCED_COLUMN_NAME, r.DELETE_RULE, "
		    "r.UPDATE_RULE, k.REFERENCED_TABLE_SCHEMA = k.TABLE_SCHEMA "
		    "FROM information_schema.KEY_COLUMN_USAGE k JOIN "
		    "information_schema.REFERENTIAL_CONSTRAINTS r ON r.CONSTRAINT_SCHEMA = "
		    "k.CONSTRAINT_SCHEMA AND r.CONSTRAINT_NAME = k.CONSTRAINT_NAME AND "
		    "r.TABLE_NAME = k.TABLE_NAME WHERE k.REFERENCED_TABLE_NAME IS NOT NULL AND") ||
	    !put_table_match_as(c, spec, "k.") ||
	    !buf_puts(&c->sql, " ORDER BY k.CONSTRAINT_NAME, k.ORDINAL_POSITION"))
		return sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
	MYSQL_RES *res = store_query(c, "describing foreign keys", err);
	if (!res)
		return false;
	size_t n = (size_t)mysql_num_rows(res);
	MYSQL_ROW *rows = calloc(n ? n : 1, sizeof *rows);
	char **cols = calloc(n ? n : 1, sizeof *cols), **refs = calloc(n ? n : 1, sizeof *refs);
	bool ok = rows && cols && refs;
	for (size_t i = 0; ok && i < n; i++)
		ok = (rows[i] = mysql_fetch_row(res)) != NULL;
	for (size_t i = 0; ok && i < n;) {
		size_t k = 0;
		do {
			cols[k] = rows[i + k][1] ? rows[i + k][1] : "";
			refs[k] = rows[i + k][4] ? rows[i + k][4] : "";
			k++;
		} while (i + k < n && !strcmp(rows[i + k][0], rows[i][0]));
		bool same = rows[i][7] && rows[i][7][0] == '1';
		ok = table_desc_add_fkey(out, rows[i][0], cols, same ? NULL : rows[i][2],
					 rows[i][3], refs, (int)k, rows[i][5], rows[i][6]);
		i += k;
	}
	mysql_free_result(res);
	free(rows);
	free(cols);
	free(refs);
	return ok ? true : sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
}

/* The table's CHECK constraints (MariaDB names a column's CHECK after the
 * column); the json_valid() check of a json column is its type, not one.
 * MySQL 8 has no TABLE_NAME in CHECK_CONSTRAINTS: TABLE_CONSTRAINTS says. */
static bool describe_checks(struct conn *c, const struct write_spec *spec, struct table_desc *out,
			    struct sl_error *err)
{
	static const char *const heads[2] = {
		"SELECT CONSTRAINT_NAME, CHECK_CLAUSE FROM information_schema.CHECK_CONSTRAINTS "
		"WHERE CONSTRAINT_SCHEMA = ",
		"SELECT cc.CONSTRAINT_NAME, cc.CHECK_CLAUSE FROM "
		"information_schema.CHECK_CONSTRAINTS "
		"cc JOIN information_schema.TABLE_CONSTRAINTS tc ON tc.CONSTRAINT_SCHEMA = "
		"cc.CONSTRAINT_SCHEMA AND tc.CONSTRAINT_NAME = cc.CONSTRAINT_NAME AND "
		"tc.CONSTRAINT_TYPE = 'CHECK' WHERE tc.CONSTRAINT_SCHEMA = ",
	};
	static const char *const table_col[2] = {" AND TABLE_NAME = ", " AND tc.TABLE_NAME = "};
	MYSQL_RES *res = NULL;
	for (int q = 0; q < 2 && !res; q++) {
		buf_reset(&c->sql);
		if (!buf_puts(&c->sql, heads[q]) ||
		    !(spec->schema && *spec->schema ? put_literal(c, spec->schema)
						    : buf_puts(&c->sql, "DATABASE()")) ||
		    !buf_puts(&c->sql, table_col[q]) || !put_literal(c, spec->table) ||
		    !buf_puts(&c->sql, " ORDER BY 1"))
			return sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
		if (real_query(c, c->sql.data, c->sql.len)) {
			if (mysql_errno(c->my) == 1054 && q == 0)
				continue; /* MySQL: no TABLE_NAME there */
			return my_fail(c, "describing checks", err);
		}
		if (!(res = mysql_store_result(c->my)))
			return my_fail(c, "describing checks", err);
	}
	MYSQL_ROW row;
	bool ok = true;
	while (ok && (row = mysql_fetch_row(res)) != NULL) {
		if (!row[0] || !row[1])
			continue;
		bool json = false;
		for (int i = 0; i < out->ncols; i++) {
			char want[600];
			snprintf(want, sizeof want, "json_valid(`%s`)", out->cols[i].name);
			json |= !strcmp(out->cols[i].type, "json") && !strcmp(row[1], want);
		}
		if (!json)
			ok = table_desc_add_check(out, row[0], row[1]);
	}
	mysql_free_result(res);
	return ok ? true : sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
}

static bool my_describe_full(struct conn *c, const struct write_spec *spec, struct table_desc *out,
			     struct sl_error *err)
{
	if (!my_describe_table(c, spec, out, err))
		return false;
	if (!out->exists)
		return true;
	bool ok = describe_columns_full(c, spec, out, err) && describe_indexes(c, spec, out, err) &&
		  describe_fkeys(c, spec, out, err) && describe_checks(c, spec, out, err);
	if (ok) {
		buf_reset(&c->sql);
		MYSQL_RES *res = NULL;
		MYSQL_ROW row;
		ok = buf_puts(&c->sql, "SELECT TABLE_ROWS FROM information_schema.TABLES WHERE") &&
		     put_table_match(c, spec) && (res = store_query(c, "describing table", err));
		if (ok && (row = mysql_fetch_row(res)) && row[0]) {
			out->rows_estimate = strtoull(row[0], NULL, 10);
			out->rows_estimated = true;
		}
		if (res)
			mysql_free_result(res);
	}
	if (!ok)
		table_desc_free(out);
	return ok;
}

/* An unbuffered result: rows come from the server as they are fetched. */
struct read_stream {
	struct conn *c;
	MYSQL_RES *res;
	struct cell *cells;
	int ncols;
};

/* The fields a SELECT returns, without reading a row: sql wrapped in a
 * LIMIT 0 derived table. *res is the caller's to free. */
static bool probe_fields(struct conn *c, const char *sql, MYSQL_RES **res, struct sl_error *err)
{
	struct buf q;
	buf_init(&q, 0);
	bool ok = buf_puts(&q, "SELECT * FROM (") && buf_puts(&q, sql) &&
		  buf_puts(&q, ") AS sluice_probe LIMIT 0");
	if (!ok) {
		buf_free(&q);
		return sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
	}
	ok = !real_query(c, q.data, q.len) && (*res = mysql_store_result(c->my));
	buf_free(&q);
	return ok ? true : my_fail(c, "reading the table", err);
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
		    !put_schema_match(c, "UNIQUE_CONSTRAINT_SCHEMA", specs[i]->schema) ||
		    !buf_puts(&c->sql, " AND REFERENCED_TABLE_NAME = ") ||
		    !put_literal(c, specs[i]->table))
			return sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
		MYSQL_RES *res = store_query(c, "looking up foreign keys", err);
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
		  run_query(c, "SET SESSION FOREIGN_KEY_CHECKS = 0", "emptying the tables", err);
	for (int i = 0; ok && i < n; i++) {
		buf_reset(&c->sql);
		if (!buf_puts(&c->sql, "TRUNCATE TABLE ") ||
		    !sql_table_name(&mysql_dialect, &c->sql, specs[i]))
			ok = sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
		else
			ok = !real_query(c, c->sql.data, c->sql.len) ||
			     my_fail(c, "emptying the tables", err);
	}
	struct sl_error e;
	if (fk_inside &&
	    !run_query(c, "SET SESSION FOREIGN_KEY_CHECKS = 1", "emptying the tables", &e) && ok) {
		*err = e;
		ok = false;
	}
	return ok;
}

static bool my_query_columns(struct conn *c, const char *query, char ***names, int *n,
			     struct sl_error *err)
{
	MYSQL_RES *res = NULL;
	*names = NULL;
	*n = 0;
	if (!probe_fields(c, query, &res, err))
		return false;
	unsigned k = mysql_num_fields(res);
	MYSQL_FIELD *f = mysql_fetch_fields(res);
	bool ok = true;
	for (unsigned i = 0; ok && i < k; i++)
		ok = names_add(names, n, f[i].name);
	mysql_free_result(res);
	return ok ? true : sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
}

/* The SELECT that reads spec's table (or query) exactly: MySQL prints a
 * FLOAT with 6 digits, so a FLOAT column is read as a DOUBLE (" + 0e0"),
 * whose text keeps every bit of the float. A query is wrapped in a derived
 * table when it returns a FLOAT. Into c->sql. */
static bool exact_select(struct conn *c, const struct write_spec *spec, const char *query,
			 const struct read_range *range, struct sl_error *err)
{
	struct buf base;
	buf_init(&base, 0);
	bool ok = query ? buf_puts(&base, query)
			: sql_select(&mysql_dialect, &base, spec, NULL, NULL);
	MYSQL_RES *res = NULL;
	if (!ok) {
		buf_free(&base);
		return sl_error_set(err, SL_ERR_USAGE, "bad table or column name");
	}
	if (!probe_fields(c, base.data, &res, err)) {
		buf_free(&base);
		return false;
	}
	unsigned n = mysql_num_fields(res);
	MYSQL_FIELD *f = mysql_fetch_fields(res);
	const char **suffix = calloc(n ? n : 1, sizeof *suffix);
	bool any = false;
	for (unsigned i = 0; suffix && i < n; i++)
		if (f[i].type == MYSQL_TYPE_FLOAT)
			any = (suffix[i] = " + 0e0") != NULL;
	buf_reset(&c->sql);
	if (!suffix) {
		ok = sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
	} else if (!query) {
		ok = sql_select(&mysql_dialect, &c->sql, spec, range, suffix);
	} else if (!any) {
		ok = buf_puts(&c->sql, query);
	} else {
		/* the query's own column names, each read exactly */
		ok = buf_puts(&c->sql, "SELECT ");
		for (unsigned i = 0; ok && i < n; i++)
			ok = (!i || buf_puts(&c->sql, ", ")) &&
			     sql_quote_with(&c->sql, f[i].name, '`') &&
			     (!suffix[i] || buf_puts(&c->sql, suffix[i]));
		ok = ok && buf_puts(&c->sql, " FROM (") && buf_puts(&c->sql, query) &&
		     buf_puts(&c->sql, ") AS sluice_q");
	}
	if (suffix && !ok)
		sl_error_set(err, SL_ERR_USAGE, "bad table or column name");
	free(suffix);
	mysql_free_result(res);
	buf_free(&base);
	return ok;
}

static bool my_open_read(struct conn *c, const struct write_spec *spec, const char *query,
			 const struct read_range *range, struct read_stream **out,
			 struct sl_error *err)
{
	if (!exact_select(c, spec, query, range, err))
		return false;
	if (real_query(c, c->sql.data, c->sql.len))
		return my_fail(c, "reading the table", err);
	MYSQL_RES *res = mysql_use_result(c->my);
	if (!res)
		return my_fail(c, "reading the table", err);
	struct read_stream *s = calloc(1, sizeof *s);
	int n = (int)mysql_num_fields(res);
	if (s)
		s->cells = calloc((size_t)(n ? n : 1), sizeof *s->cells);
	if (!s || !s->cells) {
		mysql_free_result(res);
		free(s);
		return sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
	}
	s->c = c;
	s->res = res;
	s->ncols = n;
	*out = s;
	return true;
}

static int my_read_row(struct read_stream *s, struct cell **cells, int *ncols,
		       unsigned long long *bytes, struct sl_error *err)
{
	MYSQL_ROW row = mysql_fetch_row(s->res);
	if (!row) {
		if (mysql_errno(s->c->my))
			return my_fail(s->c, "reading the table", err), -1;
		return 0;
	}
	unsigned long *len = mysql_fetch_lengths(s->res);
	for (int i = 0; i < s->ncols; i++) {
		s->cells[i].ptr = row[i];
		s->cells[i].len = row[i] ? len[i] : 0;
		*bytes += (row[i] ? len[i] : 0) + 1;
	}
	*cells = s->cells;
	*ncols = s->ncols;
	return 1;
}

static void my_close_read(struct read_stream *s)
{
	if (!s)
		return;
	mysql_free_result(s->res); /* reads and drops any rows left */
	free(s->cells);
	free(s);
}

static bool my_query_row(struct conn *c, const char *sql, char **out, int n, struct sl_error *err);

static bool my_identity(struct conn *c, char *out, size_t n, struct sl_error *err)
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

static bool my_max_length(struct conn *c, const struct write_spec *spec,
			  const struct column_desc *col, long *out, struct sl_error *err)
{
	buf_reset(&c->sql);
	char *v = NULL;
	if (!buf_puts(&c->sql, "SELECT MAX(CHAR_LENGTH(") ||
	    !mysql_dialect.quote_ident(&c->sql, col->name) || !buf_puts(&c->sql, ")) FROM ") ||
	    !sql_table_name(&mysql_dialect, &c->sql, spec))
		return sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
	char *sql = strdup(c->sql.data);
	bool ok = sql && my_query_row(c, sql, &v, 1, err);
	free(sql);
	*out = v ? atol(v) : 0;
	free(v);
	return ok;
}

static bool my_exec_params(struct conn *c, const char *sql, int n, const char *const *values,
			   struct sl_error *err)
{
	buf_reset(&c->sql);
	if (!buf_puts(&c->sql, sql) || !reserve_params(c, (size_t)(n > 0 ? n : 1), err))
		return sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
	for (int i = 0; i < n; i++)
		c->vals[i] = (struct cell){values[i], values[i] ? strlen(values[i]) : 0};
	struct prepared p = {0};
	bool ok = prepare_sql(c, &p, "preparing a statement", err) &&
		  execute_stmt(c, &p, c->vals, (size_t)n, false, "statement", err);
	prepared_clear(&p);
	return ok;
}

static bool my_query_each(struct conn *c, const char *sql,
			  bool (*row)(void *ctx, char *const *values, int n), void *ctx,
			  struct sl_error *err)
{
	buf_reset(&c->sql);
	if (!buf_puts(&c->sql, sql))
		return sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
	MYSQL_RES *res = store_query(c, "query failed", err);
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

static bool my_query_row(struct conn *c, const char *sql, char **out, int n, struct sl_error *err)
{
	for (int i = 0; i < n; i++)
		out[i] = NULL;
	buf_reset(&c->sql);
	if (!buf_puts(&c->sql, sql))
		return sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
	MYSQL_RES *res = store_query(c, "query failed", err);
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

/* A job's lock is a lock of the session (GET_LOCK), which no server
 * timeout may end. */
static bool my_job_lock_hold(struct conn *c, struct sl_error *err)
{
	return my_exec(c, "SET SESSION wait_timeout = 31536000", err);
}

static bool my_job_lock_try(struct conn *c, uint64_t key, bool *held, struct sl_error *err)
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

static void my_session_name(struct conn *c, char *out, size_t n)
{
	snprintf(out, n, "thread %lu", mysql_thread_id(c->my));
}

const struct driver mysql_driver = {
	.name = "mysql",
	.dialect = &mysql_dialect,
	.default_method = METHOD_INSERT,
	.supports = my_supports,
	.connect = my_connect,
	.close = my_close,
	.server_version = my_server_version,
	.exec = my_exec,
	.begin = my_begin,
	.commit = my_commit,
	.rollback = my_rollback,
	.describe_table = my_describe_table,
	.write_batch = my_write_batch,
	.update_batch = my_update_batch,
	.commit_token = my_commit_token,
	.commit_status = my_commit_status,
	.commit_mode = my_commit_mode,
	.count_keys = my_count_keys,
	.snapshot = my_snapshot,
	.snapshot_end = my_snapshot_end,
	.hold_still = my_hold_still,
	.let_go = my_let_go,
	.describe_schema = my_describe_schema,
	.describe_full = my_describe_full,
	.open_read = my_open_read,
	.max_length = my_max_length,
	.query_columns = my_query_columns,
	.truncate_tables = my_truncate_tables,
	.identity = my_identity,
	.read_row = my_read_row,
	.close_read = my_close_read,
	.query_row = my_query_row,
	.session_name = my_session_name,
	.exec_params = my_exec_params,
	.query_each = my_query_each,
	.healthy = my_healthy,
	.unique_violation = my_unique_violation,
	.object_exists = my_object_exists,
	.job_lock_hold = my_job_lock_hold,
	.job_lock_try = my_job_lock_try,
};
