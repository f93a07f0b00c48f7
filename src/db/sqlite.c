/* src/db/sqlite.c
 * The SQLite driver on libsqlite3: a database file named by sqlite:PATH,
 * written with prepared multi-row INSERTs in one transaction (SQLite has
 * no COPY, and needs none), read row by row as text cells.
 *
 * SQLite stores whatever it is given; sluice does not let it change a
 * value. Values are bound by the column's declared type (an integer as an
 * integer, a blob as a blob, a date as its text) and a value the column's
 * affinity would turn into something else (text in an INTEGER column,
 * '007' in a NUMERIC one, 1.10000000000000001 into a REAL) is refused with
 * the reason. Reading, a stored value whose storage class does not fit its
 * declared type is refused the same way, never converted; timestamps held
 * as unix epoch integers or Julian day numbers in a date or time column
 * are read as UTC text, and describe_full says which a column holds.
 *
 * SQLite has one writer per file: connections beyond the first wait their
 * turn (a busy handler: up to --timeout, a signal ends it), so --workers above 1 gains nothing.
 * Each connection gets the SQL functions verify's canonical text needs
 * (SQLite has no md5 nor float bit patterns); a --resume job's lock is a
 * byte of a lock file next to the database.
 */
#include <errno.h>
#include <fcntl.h>
#include <float.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "sluice/convert.h"
#include "sluice/driver.h"
#include "sluice/log.h"
#include "sluice/signals.h"

#define STMT_CACHE 6

/* The Julian day numbers of the years 0000 to 9999: a REAL in a date or
 * time column inside them is a Julian day, outside them unix epoch seconds
 * with a fraction (the two overlap only in the first weeks of 1970). */
#define JULIAN_LO 1721059.5
#define JULIAN_HI 5373484.5
#define JULIAN_SQL "BETWEEN 1721059.5 AND 5373484.5"

/* Unix epoch seconds of a number stored in a date or time column: an
 * INTEGER counts seconds, a REAL is a Julian day or seconds (above). */
static double stored_secs(bool integer, sqlite3_int64 i, double d)
{
	if (integer)
		return (double)i;
	if (d >= JULIAN_LO && d <= JULIAN_HI)
		return (d - 2440587.5) * 86400.0;
	return d;
}

/* A stored number as an instant: whole epoch seconds and microseconds.
 * Epoch seconds as they are, a REAL's fraction to the microsecond; a
 * Julian day's double is good to some tens of microseconds, so to the
 * millisecond, as SQLite's own datetime() reads it. False out of range. */
static bool stored_instant(bool integer, sqlite3_int64 i, double d, time_t *whole, long *us)
{
	double secs = stored_secs(integer, i, d);
	if (!isfinite(secs) || fabs(secs) > 253402300799.0)
		return false;
	double w = floor(secs);
	bool julian = !integer && d >= JULIAN_LO && d <= JULIAN_HI;
	*us = julian ? lround((secs - w) * 1e3) * 1000 : lround((secs - w) * 1e6);
	if (*us >= 1000000) {
		w += 1;
		*us -= 1000000;
	}
	*whole = (time_t)w;
	return true;
}

/* What a column of the table being written takes. */
struct col_info {
	enum sqlite_affinity aff;
	enum sql_kind kind;
	bool typeless;
	bool with_tz; /* a time with time zone */
};

struct conn {
	const struct driver *drv; /* first: see conn_driver */
	sqlite3 *db;
	char path[PATH_MAX];
	char url[512];	    /* the URL as given, for messages (no password in it) */
	bool readonly;	    /* opened (or reopened by snapshot) read-only */
	bool created;	    /* the file did not exist before connect */
	bool writer;	    /* has begun a write transaction: counts as a writer */
	double timeout;	    /* --timeout, seconds; 0 waits for ever */
	double busy_since;  /* when the current wait for the file's lock began */
	struct buf sql;	    /* statement text being built */
	struct buf scratch; /* converted values of one statement */
	/* prepared statements by their text, reused batch after batch */
	struct {
		char *text;
		sqlite3_stmt *st;
	} cache[STMT_CACHE];
	int cache_next;
	/* the declared types of the spec's columns (cols_key names them) */
	char *cols_key;
	struct col_info *cols;
	int ncols;
	int lock_fd; /* the job lock file (job_lock_try), -1 when none */
};

struct read_stream {
	struct conn *c;
	sqlite3_stmt *st;
	int ncols;
	struct col_info *cols;
	char **names;
	struct cell *cells;
	struct buf vals;
	size_t *offs;
	long rowno;
	const char *table;
};

/* Connections that have begun a write transaction, for the one-writer
 * warning. */
static pthread_mutex_t writers_mu = PTHREAD_MUTEX_INITIALIZER;
static int writers;
static bool writers_warned;

/* ---- errors ---- */

/* err from SQLite's last error on c (or code when there is no handle):
 * kind by the code, message prefixed with the file and what was done. */
static bool lite_fail(struct conn *c, int code, const char *what, struct sl_error *err)
{
	int ext = c && c->db ? sqlite3_extended_errcode(c->db) : code;
	int prim = ext & 0xff;
	const char *msg = c && c->db ? sqlite3_errmsg(c->db) : sqlite3_errstr(code);
	enum sl_error_kind kind = SL_ERR_SERVER;
	switch (prim) {
	case SQLITE_CONSTRAINT:
	case SQLITE_MISMATCH:
	case SQLITE_TOOBIG:
	case SQLITE_RANGE:
		kind = SL_ERR_DATA;
		break;
	case SQLITE_INTERRUPT:
	case SQLITE_BUSY: /* the busy handler gave up on a signal */
		kind = signals_caught() ? SL_ERR_INTERRUPTED : SL_ERR_SERVER;
		break;
	case SQLITE_NOMEM:
		kind = SL_ERR_INTERNAL;
		break;
	case SQLITE_CANTOPEN:
	case SQLITE_NOTADB:
		kind = SL_ERR_USAGE;
		break;
	default:
		break;
	}
	sl_error_set(err, kind, "%s: %s: %s", c ? c->url : "sqlite", what, msg);
	err->server_code = (unsigned)ext;
	return false;
}

static bool oom(struct sl_error *err)
{
	return sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
}

/* ---- connecting ---- */

/* Percent-decode s (n bytes) into out; false when it does not fit. */
static bool decode(const char *s, size_t n, char *out, size_t outsz)
{
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		char ch = s[i];
		unsigned v;
		if (ch == '%' && i + 2 < n && sscanf(s + i + 1, "%2x", &v) == 1) {
			ch = (char)v;
			i += 2;
		}
		if (o + 1 >= outsz)
			return false;
		out[o++] = ch;
	}
	out[o] = '\0';
	return o > 0;
}

/* The file of sqlite:///abs/path.db, sqlite://localhost/abs, sqlite:/abs
 * or sqlite:relative.db into path; ?mode=ro opens it read-only. */
static bool parse_url(const char *url, char *path, size_t n, bool *ro, struct sl_error *err)
{
	*ro = false;
	if (strncasecmp(url, "sqlite:", 7))
		return sl_error_set(err, SL_ERR_USAGE, "%s: not a sqlite: URL", url);
	const char *p = url + 7;
	if (!strncmp(p, "//", 2)) {
		p += 2;
		const char *slash = strchr(p, '/');
		size_t host = slash ? (size_t)(slash - p) : strlen(p);
		if (host && !(host == 9 && !strncasecmp(p, "localhost", 9)))
			return sl_error_set(err, SL_ERR_USAGE,
					    "%s: a SQLite database is a local file: "
					    "sqlite:///absolute/path.db or sqlite:relative.db",
					    url);
		p += host;
	}
	size_t len = strcspn(p, "?#");
	if (p[len] == '?') {
		const char *q = p + len + 1;
		while (*q && *q != '#') {
			size_t k = strcspn(q, "&#");
			if (k == 7 && !strncmp(q, "mode=ro", 7))
				*ro = true;
			else if (!(k == 7 && !strncmp(q, "mode=rw", 7)))
				return sl_error_set(err, SL_ERR_USAGE,
						    "%s: unknown parameter %.*s (sqlite: takes "
						    "mode=ro or mode=rw)",
						    url, (int)k, q);
			q += k + (q[k] == '&');
		}
	}
	if (!len || !decode(p, len, path, n))
		return sl_error_set(err, SL_ERR_USAGE, "%s: names no database file", url);
	return true;
}

/* The progress handler: a signal interrupts the statement running. */
static int on_progress(void *arg)
{
	(void)arg;
	return signals_caught() != 0;
}

static double mono_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The busy handler: while another process holds the file, wait for it in
 * short sleeps, up to --timeout, and give up at once on a signal (SQLite's
 * own busy timeout sleeps the whole --timeout through a Ctrl-C). count is
 * 0 on the first call of each wait. */
static int on_busy(void *arg, int count)
{
	struct conn *c = arg;
	if (signals_caught())
		return 0;
	double now = mono_seconds();
	if (count == 0)
		c->busy_since = now;
	if (c->timeout > 0 && now - c->busy_since >= c->timeout)
		return 0;
	struct timespec nap = {0, (count < 10 ? 2 : 20) * 1000000L};
	nanosleep(&nap, NULL);
	return 1;
}

static bool register_functions(sqlite3 *db);

/* Open c->path with flags, set its waits and handlers. */
static bool open_db(struct conn *c, int flags, struct sl_error *err)
{
	int rc = sqlite3_open_v2(c->path, &c->db, flags | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		sl_error_set(err, SL_ERR_USAGE, "%s: cannot open %s: %s", c->url, c->path,
			     c->db ? sqlite3_errmsg(c->db) : sqlite3_errstr(rc));
		sqlite3_close(c->db);
		c->db = NULL;
		return false;
	}
	sqlite3_extended_result_codes(c->db, 1);
	if (!register_functions(c->db)) {
		sl_error_set(err, SL_ERR_INTERNAL, "%s: registering functions: %s", c->url,
			     sqlite3_errmsg(c->db));
		sqlite3_close(c->db);
		c->db = NULL;
		return false;
	}
	sqlite3_busy_handler(c->db, on_busy, c);
	sqlite3_progress_handler(c->db, 1000, on_progress, c);
	c->readonly = (flags & SQLITE_OPEN_READONLY) != 0;
	return true;
}

static void cache_clear(struct conn *c)
{
	for (int i = 0; i < STMT_CACHE; i++) {
		sqlite3_finalize(c->cache[i].st);
		free(c->cache[i].text);
		c->cache[i].st = NULL;
		c->cache[i].text = NULL;
	}
}

static void lite_close(struct conn *c)
{
	if (!c)
		return;
	cache_clear(c);
	if (c->lock_fd >= 0)
		close(c->lock_fd);
	if (c->writer) {
		pthread_mutex_lock(&writers_mu);
		writers--;
		pthread_mutex_unlock(&writers_mu);
	}
	sqlite3_close_v2(c->db);
	/* a file this connection made and nothing wrote to (a dry run, a
	 * ping, a failed load) is not left behind */
	struct stat sb;
	if (c->created && c->db && !stat(c->path, &sb) && sb.st_size == 0)
		unlink(c->path);
	buf_free(&c->sql);
	buf_free(&c->scratch);
	free(c->cols_key);
	free(c->cols);
	free(c);
}

static bool lite_connect(const char *url, const struct conn_options *opts, struct conn **out,
			 struct sl_error *err)
{
	*out = NULL;
	struct conn *c = calloc(1, sizeof *c);
	if (!c)
		return oom(err);
	c->drv = &sqlite_driver;
	snprintf(c->url, sizeof c->url, "%s", url);
	c->lock_fd = -1;
	c->timeout = opts ? opts->timeout : 0;
	buf_init(&c->sql, 0);
	buf_init(&c->scratch, 0);
	bool ro;
	if (!parse_url(url, c->path, sizeof c->path, &ro, err)) {
		lite_close(c);
		return false;
	}
	struct stat sb;
	c->created = stat(c->path, &sb) != 0;
	if (c->created && ro) {
		sl_error_set(err, SL_ERR_USAGE, "%s: no such database file %s", url, c->path);
		lite_close(c);
		return false;
	}
	int flags = ro ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
	if (!open_db(c, flags, err)) {
		lite_close(c);
		return false;
	}
	/* one statement carries up to the dialect's parameters */
	int limit = sqlite3_limit(c->db, SQLITE_LIMIT_VARIABLE_NUMBER, -1);
	if (limit < sqlite_dialect.max_params) {
		sl_error_set(err, SL_ERR_USAGE,
			     "%s: this SQLite (%s) takes %d parameters a statement, sluice needs "
			     "%d: SQLite 3.32 or later",
			     url, sqlite3_libversion(), limit, sqlite_dialect.max_params);
		lite_close(c);
		return false;
	}
	/* reading a file that is not a database fails here, not later */
	int rc = sqlite3_exec(c->db, "SELECT count(*) FROM sqlite_master", NULL, NULL, NULL);
	if (rc != SQLITE_OK) {
		lite_fail(c, rc, "opening", err);
		/* not a database is the user's to fix; a file another process
		 * holds past --timeout, or a signal while waiting, is not */
		int prim = sqlite3_extended_errcode(c->db) & 0xff;
		if (prim != SQLITE_BUSY && prim != SQLITE_LOCKED && err->kind != SL_ERR_INTERRUPTED)
			err->kind = SL_ERR_USAGE;
		if ((rc & 0xff) == SQLITE_READONLY || (rc & 0xff) == SQLITE_CANTOPEN) {
			/* a WAL file's reader needs the -shm file beside it, which
			 * SQLite must create when it is missing (header bytes 18-19
			 * are 2 in WAL mode) */
			unsigned char h[20];
			FILE *f = fopen(c->path, "rb");
			bool wal = f && fread(h, 1, sizeof h, f) == sizeof h && h[18] == 2;
			if (f)
				fclose(f);
			size_t m = strlen(err->msg);
			if (wal && m < sizeof err->msg)
				snprintf(err->msg + m, sizeof err->msg - m,
					 " (a database in WAL mode: reading it needs its -wal and "
					 "-shm files, which this user cannot create in that "
					 "directory; copy the file somewhere writable)");
		}
		lite_close(c);
		return false;
	}
	*out = c;
	return true;
}

static bool lite_supports(enum write_method m)
{
	return m == METHOD_INSERT || m == METHOD_DEFAULT;
}

static bool lite_server_version(struct conn *c, char *out, size_t n, struct sl_error *err)
{
	(void)c;
	(void)err;
	snprintf(out, n, "SQLite %s", sqlite3_libversion());
	return true;
}

static bool lite_healthy(struct conn *c, bool ask_server)
{
	(void)ask_server;
	return c && c->db;
}

static void lite_session_name(struct conn *c, char *out, size_t n)
{
	snprintf(out, n, "file %s", c->path);
}

static bool lite_identity(struct conn *c, char *out, size_t n, struct sl_error *err)
{
	struct stat sb;
	char real[PATH_MAX];
	if (stat(c->path, &sb) || !realpath(c->path, real))
		return sl_error_set(err, SL_ERR_SERVER, "%s: %s: %s", c->url, c->path,
				    strerror(errno));
	snprintf(out, n, "sqlite:%llu:%llu:%s", (unsigned long long)sb.st_dev,
		 (unsigned long long)sb.st_ino, real);
	return true;
}

/* ---- statements ---- */

static bool lite_exec(struct conn *c, const char *sql, struct sl_error *err)
{
	if (signals_caught())
		return sl_error_set(err, SL_ERR_INTERRUPTED, "interrupted");
	int rc = sqlite3_exec(c->db, sql, NULL, NULL, NULL);
	return rc == SQLITE_OK || lite_fail(c, rc, "running a statement", err);
}

/* A prepared statement of text, from the cache or newly prepared into it;
 * reset, its bindings cleared. NULL with err. */
static sqlite3_stmt *prepared(struct conn *c, const char *text, struct sl_error *err)
{
	for (int i = 0; i < STMT_CACHE; i++)
		if (c->cache[i].text && !strcmp(c->cache[i].text, text)) {
			sqlite3_reset(c->cache[i].st);
			sqlite3_clear_bindings(c->cache[i].st);
			return c->cache[i].st;
		}
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(c->db, text, -1, &st, NULL);
	if (rc != SQLITE_OK) {
		lite_fail(c, rc, "preparing a statement", err);
		sqlite3_finalize(st);
		return NULL;
	}
	char *copy = strdup(text);
	if (!copy) {
		sqlite3_finalize(st);
		oom(err);
		return NULL;
	}
	int k = c->cache_next;
	c->cache_next = (k + 1) % STMT_CACHE;
	sqlite3_finalize(c->cache[k].st);
	free(c->cache[k].text);
	c->cache[k].st = st;
	c->cache[k].text = copy;
	return st;
}

/* Step st to its end; false with err. */
static bool run(struct conn *c, sqlite3_stmt *st, const char *what, struct sl_error *err)
{
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		;
	if (rc == SQLITE_DONE)
		return true;
	lite_fail(c, rc, what, err);
	sqlite3_reset(st);
	return false;
}

static bool lite_begin(struct conn *c, struct sl_error *err)
{
	if (!c->writer && !c->readonly) {
		c->writer = true;
		pthread_mutex_lock(&writers_mu);
		bool warn = ++writers > 1 && !writers_warned;
		writers_warned |= warn;
		pthread_mutex_unlock(&writers_mu);
		if (warn)
			log_warn("%s: SQLite has one writer: the connections beyond the first wait "
				 "their turn (--workers above 1 gains nothing)",
				 c->url);
	}
	return lite_exec(c, "BEGIN IMMEDIATE", err);
}

static bool lite_commit(struct conn *c, struct sl_error *err)
{
	return lite_exec(c, "COMMIT", err);
}

static bool lite_rollback(struct conn *c, struct sl_error *err)
{
	if (!c->db || sqlite3_get_autocommit(c->db))
		return true; /* SQLite rolled it back itself (or none was open, or
			      * snapshot closed a file that was not there) */
	int rc = sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
	return rc == SQLITE_OK || lite_fail(c, rc, "rolling back", err);
}

/* SQLite's COMMIT is local: when it fails the transaction did not commit
 * (it is still open, or rolled back), never "sent and unanswered". */
static int lite_commit_token(struct conn *c, char *out, size_t n)
{
	(void)c;
	if (n)
		out[0] = '\0';
	return 0;
}

static const char *lite_commit_mode(const struct conn *c)
{
	(void)c;
	return "plain";
}

/* ---- the columns' declared types ---- */

/* The declared type of each of spec's columns into c->cols (cached by
 * table and column list). */
static bool ensure_cols(struct conn *c, const struct write_spec *spec, struct sl_error *err)
{
	struct buf key;
	buf_init(&key, 0);
	bool ok = buf_puts(&key, spec->schema ? spec->schema : "") && buf_putc(&key, '\x1f') &&
		  buf_puts(&key, spec->table);
	for (int i = 0; ok && i < spec->ncols; i++)
		ok = buf_putc(&key, '\x1f') && buf_puts(&key, spec->columns[i]);
	if (!ok) {
		buf_free(&key);
		return oom(err);
	}
	if (c->cols_key && !strcmp(c->cols_key, buf_str(&key))) {
		buf_free(&key);
		return true;
	}
	free(c->cols_key);
	free(c->cols);
	c->cols_key = strdup(buf_str(&key));
	buf_free(&key);
	c->cols = calloc((size_t)(spec->ncols ? spec->ncols : 1), sizeof *c->cols);
	c->ncols = spec->ncols;
	if (!c->cols_key || !c->cols)
		return oom(err);
	for (int i = 0; i < spec->ncols; i++) {
		c->cols[i].aff = SQLITE_AFF_BLOB;
		c->cols[i].kind = SQL_TEXT;
		c->cols[i].typeless = true;
	}
	sqlite3_stmt *st = prepared(
		c, "SELECT name, type FROM pragma_table_xinfo(?1, ?2) WHERE hidden <> 1", err);
	if (!st)
		return false;
	sqlite3_bind_text(st, 1, spec->table, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, spec->schema ? spec->schema : "main", -1, SQLITE_TRANSIENT);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(st, 0);
		const char *type = (const char *)sqlite3_column_text(st, 1);
		for (int i = 0; name && i < spec->ncols; i++) {
			if (strcasecmp(name, spec->columns[i]))
				continue;
			struct sql_type t;
			sqlite_type_classify(type ? type : "", NULL, &t);
			c->cols[i].aff = sqlite_affinity(type ? type : "");
			c->cols[i].kind = t.kind;
			c->cols[i].typeless = !type || !*type;
			sql_type_free(&t);
		}
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		free(c->cols_key);
		c->cols_key = NULL;
		return lite_fail(c, rc, "describing table", err);
	}
	return true;
}

/* ---- binding values ---- */

/* s (n bytes) as a whole int64 in canonical form ("-12", not "012",
 * "+1" or "1.0"). */
static bool canonical_int(const char *s, size_t n, long long *v)
{
	char tmp[32];
	if (!n || n >= sizeof tmp)
		return false;
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	const char *d = tmp + (tmp[0] == '-');
	if (!*d || (d[0] == '0' && d[1]) || (tmp[0] == '-' && !strcmp(d, "0")))
		return false;
	for (const char *p = d; *p; p++)
		if (*p < '0' || *p > '9')
			return false;
	errno = 0;
	*v = strtoll(tmp, NULL, 10);
	return !errno;
}

/* The shortest text that reads back as v exactly, into out. */
static void shortest_double(double v, char *out, size_t n)
{
	/* a subnormal has fewer digits than 15 can tell apart: its shortest
	 * text may be shorter than %.15g's ("5e-324", not "4.94...e-324") */
	int p = v != 0 && fabs(v) < DBL_MIN ? 1 : 15;
	for (; p <= 17; p++) {
		snprintf(out, n, "%.*g", p, v);
		if (strtod(out, NULL) == v)
			return;
	}
}

/* A decimal number's text as its significant digits (no leading or
 * trailing zeros), the power of ten of the first and its sign, into out
 * as "-d.ddd e<exp>"; false when s is not a plain decimal number. Two
 * texts of one number give the same out, whatever their zeros. */
static bool decimal_key(const char *s, char *out, size_t n)
{
	bool neg = *s == '-';
	s += *s == '-' || *s == '+';
	char digits[80];
	size_t k = 0;
	long point = -1, lead = 0;
	bool any = false;
	for (; *s && *s != 'e' && *s != 'E'; s++) {
		if (*s == '.') {
			if (point >= 0)
				return false;
			point = (long)(k + (size_t)lead);
			continue;
		}
		if (*s < '0' || *s > '9')
			return false;
		any = true;
		if (!k && *s == '0') {
			lead++; /* a leading zero: only the point's place moves */
			continue;
		}
		if (k + 1 >= sizeof digits)
			return false;
		digits[k++] = *s;
	}
	if (!any)
		return false;
	long exp10 = 0;
	if (*s) {
		char *end;
		exp10 = strtol(s + 1, &end, 10);
		if (end == s + 1 || *end)
			return false;
	}
	if (point < 0)
		point = (long)k + lead;
	while (k && digits[k - 1] == '0')
		k--;
	digits[k] = '\0';
	if (!k) {
		snprintf(out, n, "0");
		return true;
	}
	/* the first significant digit's power of ten */
	long first = point - lead - 1 + exp10;
	snprintf(out, n, "%s%s e%ld", neg ? "-" : "", digits, first);
	return true;
}

/* s (n bytes) as a double that holds it exactly: strtod reads all of it,
 * and one of the double's texts of up to 17 digits is the same decimal
 * number (1.10 is 1.1, but 0.1000000000000000055511 is not the double 0.1). */
static bool exact_double(const char *s, size_t n, double *v)
{
	char tmp[64], back[40], ka[96], kb[96];
	if (!n || n >= sizeof tmp)
		return false;
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	char *end;
	errno = 0;
	*v = strtod(tmp, &end);
	/* ERANGE also comes with a subnormal (1e-320), which a double holds:
	 * the round trip below tells whether it is the number */
	if (*end || (errno && errno != ERANGE) || !isfinite(*v) || !strpbrk(tmp, "0123456789"))
		return false;
	if (!decimal_key(tmp, ka, sizeof ka))
		return false;
	/* the text names v when it is one of v's round-tripping texts of up to
	 * 17 digits: the shortest, or a longer one (a real's 17 digits,
	 * "1.4012984643248171e-45", name its double as well as "1.401298464324817e-45") */
	for (int p = *v != 0 && fabs(*v) < DBL_MIN ? 1 : 15; p <= 17; p++) {
		snprintf(back, sizeof back, "%.*g", p, *v);
		if (strtod(back, NULL) == *v && decimal_key(back, kb, sizeof kb) && !strcmp(ka, kb))
			return true;
	}
	return false;
}

/* Whether s looks like a number SQLite's NUMERIC or INTEGER affinity
 * would convert (leading spaces, sign, digits, point, exponent). */
static bool numeric_looking(const char *s, size_t n)
{
	char tmp[64];
	if (!n || n >= sizeof tmp)
		return n > 0 && n < 400 && strspn(s, "0123456789+-.eE ") == n;
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	char *end;
	strtod(tmp, &end);
	while (*end == ' ' || *end == '\t' || *end == '\n' || *end == '\r')
		end++;
	return end != tmp && !*end && strpbrk(tmp, "0123456789") && !strpbrk(tmp, "xXnNiI");
}

/* Hex digit value, or -1. */
static int hexval(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if ((ch | 0x20) >= 'a' && (ch | 0x20) <= 'f')
		return (ch | 0x20) - 'a' + 10;
	return -1;
}

/* Bind v (column col of the spec) to parameter i of st as the storage
 * class its declared type wants; false with a reason in why for a value
 * the column would change. */
static bool bind_value(struct conn *c, const struct write_spec *spec, sqlite3_stmt *st, int i,
		       int col, const struct cell *v, char *why, size_t whysz)
{
	if (!v->ptr)
		return sqlite3_bind_null(st, i) == SQLITE_OK;
	const struct col_info *ci = &c->cols[col];
	const char *s = v->ptr;
	size_t n = v->len;
	const char *name = spec->columns[col];
	long long iv;
	double dv;
	if (ci->kind == SQL_BINARY && ci->aff == SQLITE_AFF_BLOB) {
		if (!spec->raw_bytes && n >= 2 && s[0] == '\\' && s[1] == 'x' && n % 2 == 0) {
			size_t m = (n - 2) / 2;
			unsigned char *bytes = malloc(m ? m : 1);
			if (!bytes)
				return false;
			for (size_t k = 0; k < m; k++) {
				int hi = hexval(s[2 + 2 * k]), lo = hexval(s[3 + 2 * k]);
				if (hi < 0 || lo < 0) {
					free(bytes);
					snprintf(why, whysz, "column %s: bad \\x hex", name);
					return false;
				}
				bytes[k] = (unsigned char)(hi << 4 | lo);
			}
			return sqlite3_bind_blob64(st, i, bytes, m, free) == SQLITE_OK;
		}
		return sqlite3_bind_blob64(st, i, s, n, SQLITE_STATIC) == SQLITE_OK;
	}
	if (ci->kind == SQL_BOOL) {
		bool b;
		if (convert_parse_bool(s, n, &b))
			return sqlite3_bind_int(st, i, b) == SQLITE_OK;
		snprintf(why, whysz, "column %s (BOOLEAN): '%.*s' is not a boolean", name,
			 (int)(n > 40 ? 40 : n), s);
		return false;
	}
	switch (ci->aff) {
	case SQLITE_AFF_INTEGER:
		if (canonical_int(s, n, &iv))
			return sqlite3_bind_int64(st, i, iv) == SQLITE_OK;
		snprintf(why, whysz,
			 "column %s (INTEGER): '%.*s' is not a 64-bit integer, SQLite would store "
			 "it as another value or class",
			 name, (int)(n > 40 ? 40 : n), s);
		return false;
	case SQLITE_AFF_REAL:
		if (canonical_int(s, n, &iv) && llabs(iv) < (1LL << 53))
			return sqlite3_bind_double(st, i, (double)iv) == SQLITE_OK;
		if (exact_double(s, n, &dv))
			return sqlite3_bind_double(st, i, dv) == SQLITE_OK;
		snprintf(why, whysz,
			 "column %s (REAL): '%.*s' is not a double SQLite can hold exactly", name,
			 (int)(n > 40 ? 40 : n), s);
		return false;
	case SQLITE_AFF_NUMERIC:
		if (ci->kind == SQL_DATE || ci->kind == SQL_DATETIME ||
		    ci->kind == SQL_TIMESTAMPTZ) {
			char tmp[128];
			size_t tn;
			if (n + CONVERT_MAX_GROWTH <= sizeof tmp &&
			    convert_value(ci->kind == SQL_DATE ? CONVERT_DATE : CONVERT_DATETIME, s,
					  n, tmp, sizeof tmp, &tn) &&
			    !numeric_looking(tmp, tn))
				return sqlite3_bind_text(st, i, tmp, (int)tn, SQLITE_TRANSIENT) ==
				       SQLITE_OK;
			/* a date column holds dates only, as anywhere else (a
			 * number is epoch seconds or a Julian day, below) */
			if (!numeric_looking(s, n)) {
				bool timed = ci->kind == SQL_DATE &&
					     n + CONVERT_MAX_GROWTH <= sizeof tmp &&
					     convert_iso_datetime(s, n, tmp, sizeof tmp, &tn);
				snprintf(why, whysz, "column %s (%s): '%.*s' %s", name,
					 ci->kind == SQL_DATE ? "DATE" : "DATETIME",
					 (int)(n > 40 ? 40 : n), s,
					 timed ? "has a time of day, in a column declared a date"
					 : ci->kind == SQL_DATE
						 ? "is not a date (YYYY-MM-DD)"
						 : "is not a date and time (ISO 8601)");
				return false;
			}
		}
		if (ci->kind == SQL_DECIMAL && !numeric_looking(s, n)) {
			/* as a DECIMAL TEXT column, and a decimal column anywhere else */
			snprintf(why, whysz, "column %s (DECIMAL): '%.*s' is not a number", name,
				 (int)(n > 40 ? 40 : n), s);
			return false;
		}
		if (!numeric_looking(s, n))
			return sqlite3_bind_text(st, i, s, (int)n, SQLITE_TRANSIENT) == SQLITE_OK;
		if (canonical_int(s, n, &iv))
			return sqlite3_bind_int64(st, i, iv) == SQLITE_OK;
		/* not an integer: SQLite keeps a REAL (a big integer loses digits) */
		if (exact_double(s, n, &dv) &&
		    (memchr(s, '.', n) || memchr(s, 'e', n) || memchr(s, 'E', n)))
			return sqlite3_bind_double(st, i, dv) == SQLITE_OK;
		snprintf(
			why, whysz,
			"column %s (NUMERIC affinity): SQLite would store '%.*s' as another number "
			"(declare it DECIMAL TEXT to keep its digits)",
			name, (int)(n > 40 ? 40 : n), s);
		return false;
	default:
		/* TEXT affinity, or none: stored as given; a DECIMAL TEXT holds
		 * numbers only, as a decimal column anywhere else */
		if (ci->kind == SQL_DECIMAL && !numeric_looking(s, n)) {
			snprintf(why, whysz, "column %s (DECIMAL): '%.*s' is not a number", name,
				 (int)(n > 40 ? 40 : n), s);
			return false;
		}
		return sqlite3_bind_text64(st, i, s, n, SQLITE_TRANSIENT, SQLITE_UTF8) == SQLITE_OK;
	}
}

/* Bind cells vals[0..ncols) as one row of st from parameter first; false
 * with err (SL_ERR_DATA naming row). */
static bool bind_row(struct conn *c, const struct write_spec *spec, sqlite3_stmt *st, int first,
		     const struct cell *vals, const int *map, int ncols, long row,
		     struct sl_error *err)
{
	char why[300];
	for (int k = 0; k < ncols; k++) {
		int col = map ? map[k] : k;
		why[0] = '\0';
		if (!bind_value(c, spec, st, first + k, col, &vals[col], why, sizeof why)) {
			if (!why[0])
				return lite_fail(c, SQLITE_NOMEM, "binding a value", err);
			sl_error_set(err, SL_ERR_DATA, "%s", why);
			err->row = row;
			return false;
		}
	}
	return true;
}

/* ---- writing ---- */

/* Insert row r of b alone, leaving out its cell_default values. */
static bool insert_one(struct conn *c, const struct write_spec *spec, const struct batch *b,
		       size_t r, size_t *written, struct sl_error *err)
{
	const struct cell *row = batch_row(b, r);
	int map[SQL_MAX_COLUMNS], m = 0;
	if (spec->ncols > SQL_MAX_COLUMNS)
		return sl_error_set(err, SL_ERR_USAGE, "more than %d columns", SQL_MAX_COLUMNS);
	for (int k = 0; k < spec->ncols; k++)
		if (!cell_is_default(&row[k]))
			map[m++] = k;
	const struct dialect *d = &sqlite_dialect;
	buf_reset(&c->sql);
	bool ok = buf_puts(&c->sql, d->insert_verb(spec)) && buf_puts(&c->sql, " INTO ") &&
		  sql_table_name(d, &c->sql, spec);
	if (!m) {
		ok = ok && buf_puts(&c->sql, " DEFAULT VALUES");
	} else {
		ok = ok && buf_puts(&c->sql, " (");
		for (int k = 0; ok && k < m; k++)
			ok = (!k || buf_puts(&c->sql, ", ")) &&
			     d->quote_ident(&c->sql, spec->columns[map[k]]);
		ok = ok && buf_puts(&c->sql, ") VALUES (");
		for (int k = 0; ok && k < m; k++)
			ok = (!k || buf_putc(&c->sql, ',')) && d->placeholder(&c->sql, k + 1);
		ok = ok && buf_putc(&c->sql, ')');
	}
	ok = ok && d->conflict_clause(&c->sql, spec);
	if (!ok)
		return oom(err);
	sqlite3_stmt *st = prepared(c, buf_str(&c->sql), err);
	if (!st || !bind_row(c, spec, st, 1, row, map, m, 1, err) || !run(c, st, "inserting", err))
		return false;
	*written += (size_t)sqlite3_changes(c->db);
	return true;
}

/* Insert rows [first, first+n) of b with multi-row statements of k rows
 * (the last one shorter). */
static bool insert_rows(struct conn *c, const struct write_spec *spec, const struct batch *b,
			size_t first, size_t n, size_t *written, struct sl_error *err)
{
	if (b->has_defaults) {
		for (size_t i = 0; i < n; i++)
			if (!insert_one(c, spec, b, first + i, written, err)) {
				err->row = (long)i + 1;
				return false;
			}
		return true;
	}
	size_t per = sql_rows_per_statement(&sqlite_dialect, spec->ncols,
					    spec->batch_rows > n ? spec->batch_rows : n);
	for (size_t done = 0; done < n;) {
		size_t k = n - done < per ? n - done : per;
		buf_reset(&c->sql);
		if (!sql_insert(&sqlite_dialect, &c->sql, spec, k))
			return oom(err);
		sqlite3_stmt *st = prepared(c, buf_str(&c->sql), err);
		if (!st)
			return false;
		for (size_t r = 0; r < k; r++)
			if (!bind_row(c, spec, st, (int)r * spec->ncols + 1,
				      batch_row(b, first + done + r), NULL, spec->ncols,
				      (long)(done + r + 1), err))
				return false;
		if (!run(c, st, "inserting", err))
			return false;
		*written += (size_t)sqlite3_changes(c->db);
		sqlite3_clear_bindings(st);
		done += k;
	}
	return true;
}

static bool lite_count_keys(struct conn *c, const struct write_spec *spec, const struct batch *b,
			    size_t first, size_t n, unsigned long long *count,
			    struct sl_error *err);

/* With --add (NULLs not counting as 0): an SL_ERR_DATA error when a row
 * with the key of one of rows [first, first+n) has a NULL in an --add
 * column after the deltas went in (NULL + x stays NULL). */
static bool refuse_null_adds(struct conn *c, const struct write_spec *spec, const struct batch *b,
			     size_t first, size_t n, struct sl_error *err)
{
	if (!sql_checks_null_adds(spec))
		return true;
	struct write_spec q = *spec;
	q.count_null_adds = true;
	unsigned long long found = 0;
	if (!lite_count_keys(c, &q, b, first, n, &found, err))
		return false;
	if (found)
		return sl_error_set(err, SL_ERR_DATA,
				    "an --add column is NULL in the table: NULL + delta stays NULL "
				    "(--add-null-as-zero counts it as 0)");
	return true;
}

static bool lite_write_batch(struct conn *c, const struct write_spec *spec, const struct batch *b,
			     size_t first, size_t n, struct write_count *out, struct sl_error *err)
{
	memset(out, 0, sizeof *out);
	if (signals_caught())
		return sl_error_set(err, SL_ERR_INTERRUPTED, "interrupted");
	if (!ensure_cols(c, spec, err))
		return false;
	/* SQLite counts an upsert's inserts and updates together: the keys
	 * already there are counted first (no key repeats among the rows, the
	 * conflict is on the key alone, and the one writer holds the file) */
	unsigned long long there = 0;
	if (spec->on_conflict == CONFLICT_UPDATE &&
	    !lite_count_keys(c, spec, b, first, n, &there, err))
		return false;
	if (!insert_rows(c, spec, b, first, n, &out->written, err))
		return false;
	/* DO NOTHING (no column but the key's to set) writes only the new */
	out->updated = out->written >= n ? (size_t)there : 0;
	return spec->on_conflict != CONFLICT_UPDATE || refuse_null_adds(c, spec, b, first, n, err);
}

static bool lite_write_each(struct conn *c, const struct write_spec *spec, const struct batch *b,
			    size_t first, size_t n, char **refused, size_t *written,
			    struct sl_error *err)
{
	*written = 0;
	if (!ensure_cols(c, spec, err))
		return false;
	for (size_t i = 0; i < n; i++) {
		if (!lite_exec(c, "SAVEPOINT sluice_row", err))
			return false;
		struct sl_error e;
		sl_error_clear(&e);
		size_t w = 0;
		if (insert_one(c, spec, b, first + i, &w, &e)) {
			*written += w;
			if (!lite_exec(c, "RELEASE sluice_row", err))
				return false;
			continue;
		}
		if (e.kind != SL_ERR_DATA) {
			*err = e;
			return false;
		}
		if (!lite_exec(c, "ROLLBACK TO sluice_row", err) ||
		    !lite_exec(c, "RELEASE sluice_row", err))
			return false;
		refused[i] = strdup(e.msg);
		if (!refused[i])
			return oom(err);
	}
	return true;
}

static bool lite_update_batch(struct conn *c, const struct write_spec *spec, const struct batch *b,
			      size_t first, size_t n, unsigned *matched, struct sl_error *err)
{
	int set[SQL_MAX_COLUMNS], key[SQL_MAX_COLUMNS], nset, nkey;
	if (!sql_update_columns(spec, set, &nset, key, &nkey) || (!nset && !spec->del) || !nkey)
		return sl_error_set(err, SL_ERR_USAGE, "bad update: no columns to set or no key");
	if (!ensure_cols(c, spec, err))
		return false;
	buf_reset(&c->sql);
	if (!sql_update_row(&sqlite_dialect, &c->sql, spec))
		return oom(err);
	int map[2 * SQL_MAX_COLUMNS];
	for (int i = 0; i < nset; i++)
		map[i] = set[i];
	for (int i = 0; i < nkey; i++)
		map[nset + i] = key[i];
	for (size_t i = 0; i < n; i++) {
		sqlite3_stmt *st = prepared(c, buf_str(&c->sql), err);
		if (!st ||
		    !bind_row(c, spec, st, 1, batch_row(b, first + i), map, nset + nkey,
			      (long)i + 1, err) ||
		    !run(c, st, "updating", err))
			return false;
		matched[i] = (unsigned)sqlite3_changes(c->db);
	}
	return refuse_null_adds(c, spec, b, first, n, err);
}

static bool lite_count_keys(struct conn *c, const struct write_spec *spec, const struct batch *b,
			    size_t first, size_t n, unsigned long long *count, struct sl_error *err)
{
	*count = 0;
	int key[SQL_MAX_COLUMNS];
	if (spec->nkey > SQL_MAX_COLUMNS)
		return sl_error_set(err, SL_ERR_USAGE, "more than %d key columns", SQL_MAX_COLUMNS);
	for (int k = 0; k < spec->nkey; k++) {
		key[k] = -1;
		for (int i = 0; i < spec->ncols; i++)
			if (!strcasecmp(spec->columns[i], spec->key[k]))
				key[k] = i;
		if (key[k] < 0)
			return sl_error_set(err, SL_ERR_USAGE, "key column %s is not written",
					    spec->key[k]);
	}
	if (!spec->nkey || !ensure_cols(c, spec, err))
		return spec->nkey ? false : sl_error_set(err, SL_ERR_USAGE, "no key to count by");
	buf_reset(&c->sql);
	bool ok = buf_puts(&c->sql, "SELECT count(*) FROM ") &&
		  sql_table_name(&sqlite_dialect, &c->sql, spec) && buf_puts(&c->sql, " WHERE ");
	for (int k = 0; ok && k < spec->nkey; k++)
		ok = (!k || buf_puts(&c->sql, " AND ")) &&
		     sqlite_dialect.quote_ident(&c->sql, spec->key[k]) &&
		     buf_puts(&c->sql, " = ") && sqlite_dialect.placeholder(&c->sql, k + 1);
	if (ok && spec->count_null_adds)
		ok = buf_puts(&c->sql, " AND ") &&
		     sql_null_adds(&sqlite_dialect, &c->sql, spec, "");
	if (!ok)
		return oom(err);
	for (size_t i = 0; i < n; i++) {
		sqlite3_stmt *st = prepared(c, buf_str(&c->sql), err);
		if (!st || !bind_row(c, spec, st, 1, batch_row(b, first + i), key, spec->nkey,
				     (long)i + 1, err))
			return false;
		int rc = sqlite3_step(st);
		if (rc != SQLITE_ROW)
			return lite_fail(c, rc, "counting keys", err);
		*count += (unsigned long long)sqlite3_column_int64(st, 0);
		sqlite3_reset(st);
	}
	return true;
}

/* ---- describing ---- */

/* Run sql with text parameters p[0..np) and hand each row to row(ctx). */
static bool each_row(struct conn *c, const char *sql, const char *const *p, int np,
		     bool (*row)(void *ctx, sqlite3_stmt *st), void *ctx, struct sl_error *err)
{
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(c->db, sql, -1, &st, NULL);
	if (rc != SQLITE_OK) {
		sqlite3_finalize(st);
		return lite_fail(c, rc, "reading the catalog", err);
	}
	for (int i = 0; i < np; i++)
		sqlite3_bind_text(st, i + 1, p[i], -1, SQLITE_TRANSIENT);
	bool ok = true;
	while (ok && (rc = sqlite3_step(st)) == SQLITE_ROW)
		ok = row(ctx, st);
	if (ok && rc != SQLITE_DONE)
		ok = lite_fail(c, rc, "reading the catalog", err);
	else if (!ok)
		oom(err);
	sqlite3_finalize(st);
	return ok;
}

static char *col_dup(sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);
	return t ? strdup((const char *)t) : NULL;
}

struct describing {
	struct table_desc *out;
	int npk;
	char *pk[64];
	int pkpos[64];
	bool rowid_alias_possible;
	bool full;
};

static bool column_row(void *ctx, sqlite3_stmt *st)
{
	struct describing *d = ctx;
	struct table_desc *t = d->out;
	int hidden = sqlite3_column_int(st, 5);
	if (hidden == 1)
		return true;
	struct column_desc *cols = realloc(t->cols, (size_t)(t->ncols + 1) * sizeof *cols);
	if (!cols)
		return false;
	t->cols = cols;
	struct column_desc *col = &cols[t->ncols];
	memset(col, 0, sizeof *col);
	t->ncols++;
	col->name = col_dup(st, 0);
	col->type = col_dup(st, 1);
	if (!col->type)
		col->type = strdup("");
	if (!col->name || !col->type)
		return false;
	for (char *p = col->type; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	col->nullable = !sqlite3_column_int(st, 2);
	col->has_default = sqlite3_column_type(st, 3) != SQLITE_NULL || hidden >= 2;
	if (d->full && sqlite3_column_type(st, 3) != SQLITE_NULL &&
	    !(col->default_expr = col_dup(st, 3)))
		return false;
	if (d->full && hidden >= 2 && !(col->generated = strdup("(generated)")))
		return false;
	int pk = sqlite3_column_int(st, 4);
	if (pk > 0 && d->npk < 64) {
		d->pk[d->npk] = col->name;
		d->pkpos[d->npk++] = pk;
		col->nullable = false;
	}
	return true;
}

struct index_row {
	char *name;
	bool unique, partial, pk;
};

struct index_list {
	int n;
	struct index_row rows[256];
};

static bool index_list_row(void *ctx, sqlite3_stmt *st)
{
	struct index_list *l = ctx;
	if (l->n >= 256)
		return true;
	struct index_row *r = &l->rows[l->n];
	r->name = col_dup(st, 0);
	r->unique = sqlite3_column_int(st, 1);
	const unsigned char *origin = sqlite3_column_text(st, 2);
	r->pk = origin && !strcmp((const char *)origin, "pk");
	r->partial = sqlite3_column_int(st, 3);
	if (!r->name)
		return false;
	l->n++;
	return true;
}

struct index_cols {
	int n;
	char *cols[64];
	bool expression;
};

static bool index_col_row(void *ctx, sqlite3_stmt *st)
{
	struct index_cols *x = ctx;
	if (!sqlite3_column_int(st, 2))
		return true; /* index_xinfo: an auxiliary column (the rowid) */
	if (sqlite3_column_int(st, 0) < 0 || sqlite3_column_type(st, 1) == SQLITE_NULL) {
		x->expression = true;
		return true;
	}
	if (x->n >= 64)
		return true;
	x->cols[x->n] = col_dup(st, 1);
	return x->cols[x->n++] != NULL;
}

/* Whether the table's CREATE statement says AUTOINCREMENT. */
static bool autoincrement(struct conn *c, const struct write_spec *spec)
{
	sqlite3_stmt *st = NULL;
	bool yes = false;
	char sql[200];
	snprintf(sql, sizeof sql,
		 "SELECT sql FROM \"%s\".sqlite_master WHERE type = 'table' AND "
		 "name = ?1 COLLATE NOCASE",
		 spec->schema && !strchr(spec->schema, '"') ? spec->schema : "main");
	if (sqlite3_prepare_v2(c->db, sql, -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_text(st, 1, spec->table, -1, SQLITE_TRANSIENT);
		if (sqlite3_step(st) == SQLITE_ROW) {
			const char *s = (const char *)sqlite3_column_text(st, 0);
			yes = s && strcasestr(s, "autoincrement");
		}
	}
	sqlite3_finalize(st);
	return yes;
}

/* Whether the table is WITHOUT ROWID: it has no rowid column to select. */
static bool without_rowid(struct conn *c, const struct write_spec *spec)
{
	struct buf q;
	buf_init(&q, 0);
	bool ok = buf_puts(&q, "SELECT rowid FROM ") && sql_table_name(&sqlite_dialect, &q, spec) &&
		  buf_puts(&q, " LIMIT 0");
	sqlite3_stmt *st = NULL;
	bool without = ok && sqlite3_prepare_v2(c->db, buf_str(&q), -1, &st, NULL) != SQLITE_OK;
	sqlite3_finalize(st);
	buf_free(&q);
	return without;
}

static void free_index_list(struct index_list *l)
{
	for (int i = 0; i < l->n; i++)
		free(l->rows[i].name);
}

static void free_index_cols(struct index_cols *x)
{
	for (int i = 0; i < x->n; i++)
		free(x->cols[i]);
}

/* describe_table, and with full describe_full. */
static bool describe(struct conn *c, const struct write_spec *spec, struct table_desc *out,
		     bool full, struct sl_error *err)
{
	memset(out, 0, sizeof *out);
	const char *schema = spec->schema ? spec->schema : "main";
	struct describing d = {.out = out, .full = full};
	const char *p[2] = {spec->table, schema};
	if (!each_row(c,
		      "SELECT name, type, \"notnull\", dflt_value, pk, hidden FROM "
		      "pragma_table_xinfo(?1, ?2) ORDER BY cid",
		      p, 2, column_row, &d, err)) {
		table_desc_free(out);
		return false;
	}
	out->exists = out->ncols > 0;
	if (!out->exists)
		return true;
	/* a column whose collation ignores case (NOCASE) or trailing spaces
	 * (RTRIM): values one key though their bytes differ */
	for (int i = 0; i < out->ncols; i++) {
		const char *coll = NULL;
		if (sqlite3_table_column_metadata(c->db, schema, spec->table, out->cols[i].name,
						  NULL, &coll, NULL, NULL, NULL) == SQLITE_OK &&
		    coll && (!strcasecmp(coll, "NOCASE") || !strcasecmp(coll, "RTRIM")))
			out->cols[i].folds_case = true;
	}
	/* the primary key, in its order */
	char *pk[64];
	for (int i = 0; i < d.npk; i++)
		pk[d.pkpos[i] - 1 < d.npk ? d.pkpos[i] - 1 : i] = d.pk[i];
	bool ok = true;
	bool norowid = without_rowid(c, spec);
	if (d.npk) {
		ok = table_desc_add_unique(out, "PRIMARY", true, pk, d.npk);
		if (ok && full)
			ok = table_desc_add_index(out, "PRIMARY", true, true, "btree", false, pk,
						  d.npk);
		/* INTEGER PRIMARY KEY of a rowid table: the rowid, numbered
		 * by SQLite (an identity; AUTOINCREMENT never reuses one) */
		if (ok && d.npk == 1 && !norowid) {
			for (int i = 0; i < out->ncols; i++)
				if (out->cols[i].name == pk[0] &&
				    !strcmp(out->cols[i].type, "integer")) {
					out->cols[i].has_default = true;
					out->cols[i].identity = full || autoincrement(c, spec);
				}
		}
	}
	struct index_list il = {0};
	ok = ok &&
	     each_row(c, "SELECT name, \"unique\", origin, partial FROM pragma_index_list(?1, ?2)",
		      p, 2, index_list_row, &il, err);
	for (int i = 0; ok && i < il.n; i++) {
		struct index_row *r = &il.rows[i];
		if (r->pk)
			continue; /* the primary key, above */
		struct index_cols x = {0};
		const char *q[2] = {r->name, schema};
		ok = each_row(
			c,
			"SELECT cid, name, \"key\" FROM pragma_index_xinfo(?1, ?2) ORDER BY seqno",
			q, 2, index_col_row, &x, err);
		/* the index of a UNIQUE constraint is sqlite_autoindex_<table>_<n>,
		 * a name SQLite reserves: named <table>_<columns>_key instead */
		char named[256];
		snprintf(named, sizeof named, "%s", r->name);
		if (!strncmp(r->name, "sqlite_autoindex_", 17)) {
			size_t at = (size_t)snprintf(named, sizeof named, "%s", spec->table);
			for (int k = 0; k < x.n && at < sizeof named; k++)
				at += (size_t)snprintf(named + at, sizeof named - at, "_%s",
						       x.cols[k]);
			if (at < sizeof named)
				snprintf(named + at, sizeof named - at, "_key");
		}
		if (ok && r->unique && !r->partial && !x.expression && x.n)
			ok = table_desc_add_unique(out, named, false, x.cols, x.n);
		if (ok && full)
			ok = table_desc_add_index(out, named, r->unique, false, "btree",
						  x.expression || r->partial, x.cols, x.n);
		free_index_cols(&x);
	}
	free_index_list(&il);
	if (!ok) {
		if (err->kind == SL_ERR_NONE)
			oom(err);
		table_desc_free(out);
		return false;
	}
	return true;
}

static bool lite_describe_table(struct conn *c, const struct write_spec *spec,
				struct table_desc *out, struct sl_error *err)
{
	return describe(c, spec, out, false, err);
}

struct fk_rows {
	int n;
	struct {
		int id;
		char *table, *from, *to, *on_update, *on_delete;
	} r[512];
};

static bool fk_row(void *ctx, sqlite3_stmt *st)
{
	struct fk_rows *f = ctx;
	if (f->n >= 512)
		return true;
	f->r[f->n].id = sqlite3_column_int(st, 0);
	f->r[f->n].table = col_dup(st, 1);
	f->r[f->n].from = col_dup(st, 2);
	f->r[f->n].to = col_dup(st, 3);
	f->r[f->n].on_update = col_dup(st, 4);
	f->r[f->n].on_delete = col_dup(st, 5);
	f->n++;
	return f->r[f->n - 1].table && f->r[f->n - 1].from;
}

static void free_fk_rows(struct fk_rows *f)
{
	for (int i = 0; i < f->n; i++) {
		free(f->r[i].table);
		free(f->r[i].from);
		free(f->r[i].to);
		free(f->r[i].on_update);
		free(f->r[i].on_delete);
	}
}

/* How the values of a date or time column are stored, said once: text,
 * unix epoch integers, Julian day numbers (read as UTC text), or a mix. */
static void say_time_storage(struct conn *c, const struct write_spec *spec,
			     const struct column_desc *col)
{
	struct buf q;
	buf_init(&q, 0);
	bool ok = buf_puts(&q, "SELECT sum(typeof(") && sqlite_dialect.quote_ident(&q, col->name) &&
		  buf_puts(&q, ") = 'integer'), sum(typeof(") &&
		  sqlite_dialect.quote_ident(&q, col->name) && buf_puts(&q, ") = 'real' AND ") &&
		  sqlite_dialect.quote_ident(&q, col->name) &&
		  buf_puts(&q, " " JULIAN_SQL "), sum(typeof(") &&
		  sqlite_dialect.quote_ident(&q, col->name) &&
		  buf_puts(&q, ") = 'real' AND NOT ") &&
		  sqlite_dialect.quote_ident(&q, col->name) &&
		  buf_puts(&q, " " JULIAN_SQL "), sum(typeof(") &&
		  sqlite_dialect.quote_ident(&q, col->name) && buf_puts(&q, ") = 'text') FROM ") &&
		  sql_table_name(&sqlite_dialect, &q, spec);
	sqlite3_stmt *st = NULL;
	if (ok && sqlite3_prepare_v2(c->db, buf_str(&q), -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW) {
		long long ints = sqlite3_column_int64(st, 0), days = sqlite3_column_int64(st, 1),
			  secs = sqlite3_column_int64(st, 2), texts = sqlite3_column_int64(st, 3);
		if (ints || days || secs)
			log_warn("%s.%s (%s): %lld values as text, %lld as unix epoch integers, "
				 "%lld as Julian day numbers, %lld as unix epoch seconds with a "
				 "fraction: numbers are read as UTC %s",
				 spec->table, col->name, col->type, texts, ints, days, secs,
				 strstr(col->type, "date") && !strstr(col->type, "time")
					 ? "dates"
					 : "date-times");
		else if (texts)
			log_info("%s.%s (%s): stored as text", spec->table, col->name, col->type);
	}
	sqlite3_finalize(st);
	buf_free(&q);
}

/* The table's rows as ANALYZE counted them (sqlite_stat1: its first
 * number), into out; nothing when it was never analyzed. */
static void rows_estimate(struct conn *c, const struct write_spec *spec, struct table_desc *out)
{
	char sql[200];
	snprintf(sql, sizeof sql,
		 "SELECT stat FROM \"%s\".sqlite_stat1 WHERE tbl = ?1 COLLATE NOCASE LIMIT 1",
		 spec->schema && !strchr(spec->schema, '"') ? spec->schema : "main");
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(c->db, sql, -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_text(st, 1, spec->table, -1, SQLITE_TRANSIENT);
		if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0)) {
			out->rows_estimate =
				strtoull((const char *)sqlite3_column_text(st, 0), NULL, 10);
			out->rows_estimated = true;
		}
	}
	sqlite3_finalize(st); /* no sqlite_stat1: never analyzed */
}

static bool lite_describe_full(struct conn *c, const struct write_spec *spec,
			       struct table_desc *out, struct sl_error *err)
{
	if (!describe(c, spec, out, true, err))
		return false;
	if (!out->exists)
		return true;
	rows_estimate(c, spec, out);
	for (int i = 0; i < out->ncols; i++) {
		struct sql_type t;
		sqlite_type_classify(out->cols[i].type, NULL, &t);
		if (t.kind == SQL_DATE || t.kind == SQL_DATETIME || t.kind == SQL_TIMESTAMPTZ)
			say_time_storage(c, spec, &out->cols[i]);
		sql_type_free(&t);
	}
	struct fk_rows *f = calloc(1, sizeof *f);
	if (!f)
		return oom(err);
	const char *p[2] = {spec->table, spec->schema ? spec->schema : "main"};
	bool ok = each_row(c,
			   "SELECT id, \"table\", \"from\", \"to\", on_update, on_delete FROM "
			   "pragma_foreign_key_list(?1, ?2) ORDER BY id, seq",
			   p, 2, fk_row, f, err);
	for (int i = 0; ok && i < f->n;) {
		int k = 1;
		while (i + k < f->n && f->r[i + k].id == f->r[i].id)
			k++;
		char *cols[64], *refs[64];
		int m = k < 64 ? k : 64;
		/* a reference without columns is to the primary key */
		struct table_desc ref = {0};
		bool need_pk = false;
		for (int j = 0; j < m; j++)
			need_pk |= !f->r[i + j].to;
		if (need_pk) {
			struct write_spec rs = {.schema = spec->schema, .table = f->r[i].table};
			ok = describe(c, &rs, &ref, false, err);
		}
		const struct unique_key *rpk =
			ref.nunique && ref.unique[0].primary ? &ref.unique[0] : NULL;
		for (int j = 0; ok && j < m; j++) {
			cols[j] = f->r[i + j].from;
			refs[j] = f->r[i + j].to	  ? f->r[i + j].to
				  : rpk && j < rpk->ncols ? rpk->cols[j]
							  : f->r[i + j].from;
		}
		/* SQLite's foreign keys have no names: <table>_<columns>_fkey, as
		 * PostgreSQL names them (MySQL wants them apart per database) */
		char name[256];
		size_t at = (size_t)snprintf(name, sizeof name, "%s", spec->table);
		for (int j = 0; j < m && at < sizeof name; j++)
			at += (size_t)snprintf(name + at, sizeof name - at, "_%s", cols[j]);
		if (at < sizeof name)
			snprintf(name + at, sizeof name - at, "_fkey");
		ok = ok && table_desc_add_fkey(out, name, cols, NULL, f->r[i].table, refs, m,
					       f->r[i].on_delete ? f->r[i].on_delete : "NO ACTION",
					       f->r[i].on_update ? f->r[i].on_update : "NO ACTION");
		table_desc_free(&ref);
		i += k;
	}
	free_fk_rows(f);
	free(f);
	if (!ok) {
		if (err->kind == SL_ERR_NONE)
			oom(err);
		table_desc_free(out);
	}
	return ok;
}

struct schema_rows {
	struct schema_desc *out;
};

static bool schema_row(void *ctx, sqlite3_stmt *st)
{
	struct schema_desc *s = ctx;
	const char *type = (const char *)sqlite3_column_text(st, 0);
	const char *name = (const char *)sqlite3_column_text(st, 1);
	const char *tbl = (const char *)sqlite3_column_text(st, 2);
	if (!type || !name || !strncmp(name, "sqlite_", 7))
		return true;
	char what[600];
	if (!strcmp(type, "table"))
		return names_add(&s->tables, &s->ntables, name);
	if (!strcmp(type, "view"))
		return names_add(&s->views, &s->nviews, name);
	if (!strcmp(type, "trigger")) {
		snprintf(what, sizeof what, "%s.%s", tbl ? tbl : "", name);
		return names_add(&s->triggers, &s->ntriggers, what);
	}
	if (!strcmp(type, "virtual")) {
		/* an FTS or R*Tree table and its shadow tables: not copied */
		snprintf(what, sizeof what, "virtual table %s", name);
		return names_add(&s->objects, &s->nobjects, what);
	}
	return true; /* "shadow": a virtual table's own storage */
}

static bool lite_describe_schema(struct conn *c, const char *schema, struct schema_desc *out,
				 struct sl_error *err)
{
	memset(out, 0, sizeof *out);
	const char *db = schema ? schema : "main";
	const char *p[1] = {db};
	/* pragma_table_list (3.37) tells virtual and shadow tables apart */
	bool listed = sqlite3_libversion_number() >= 3037000;
	const char *sql =
		listed ? "SELECT type, name, name FROM pragma_table_list WHERE schema = ?1 "
			 "UNION ALL SELECT type, name, tbl_name FROM sqlite_master WHERE "
			 "type = 'trigger' ORDER BY 2"
		       : "SELECT type, name, tbl_name FROM sqlite_master WHERE type IN "
			 "('table', 'view', 'trigger') AND ?1 IS NOT NULL ORDER BY name";
	if (strcmp(db, "main") && !listed)
		return sl_error_set(err, SL_ERR_USAGE,
				    "%s: schema %s: SQLite 3.37 or later reads it", c->url, db);
	if (!each_row(c, sql, p, 1, schema_row, out, err)) {
		schema_desc_free(out);
		return false;
	}
	return true;
}

/* ---- reading ---- */

static bool lite_snapshot(struct conn *c, struct sl_error *err)
{
	if (c->created) {
		/* a source that was not there: not an empty database */
		sqlite3_close_v2(c->db);
		c->db = NULL;
		struct stat sb;
		if (!stat(c->path, &sb) && sb.st_size == 0)
			unlink(c->path);
		return sl_error_set(err, SL_ERR_USAGE, "%s: no such database file %s", c->url,
				    c->path);
	}
	/* a connection that reads: read-only from now on */
	if (!c->readonly && sqlite3_get_autocommit(c->db)) {
		cache_clear(c);
		sqlite3_close_v2(c->db);
		c->db = NULL;
		if (!open_db(c, SQLITE_OPEN_READONLY, err))
			return false;
	}
	/* a deferred transaction sees one snapshot from its first read on */
	return lite_exec(c, "BEGIN", err) &&
	       lite_exec(c, "SELECT count(*) FROM sqlite_master", err);
}

/* Several readers in one snapshot (copy --workers): a write transaction
 * begun on c, with nothing written, keeps every other writer of the file
 * from committing (in rollback-journal and WAL mode alike) while the
 * readers take their snapshots. A file opened read-only (?mode=ro), or
 * one sluice may not write, cannot be held: each reader then has its own
 * snapshot, and copy says so. */
static bool lite_hold_still(struct conn *c, struct sl_error *err)
{
	if (c->readonly || c->created)
		return sl_error_set(err, SL_ERR_USAGE,
				    "%s is opened read-only, so its writers "
				    "cannot be held while the readers start",
				    c->url);
	if (!lite_exec(c, "BEGIN IMMEDIATE", err))
		return sl_error_prefix(err, "holding the writers of %s", c->url);
	return true;
}

static void lite_let_go(struct conn *c)
{
	struct sl_error e;
	if (c->db && !sqlite3_get_autocommit(c->db))
		lite_exec(c, "ROLLBACK", &e);
}

static void stream_free(struct read_stream *s)
{
	if (!s)
		return;
	sqlite3_finalize(s->st);
	free(s->cols);
	free(s->cells);
	free(s->offs);
	buf_free(&s->vals);
	free(s);
}

static bool lite_open_read(struct conn *c, const struct write_spec *spec, const char *query,
			   const struct read_range *range, struct read_stream **out,
			   struct sl_error *err)
{
	*out = NULL;
	buf_reset(&c->sql);
	if (!query && !sql_select(&sqlite_dialect, &c->sql, spec, range, NULL))
		return oom(err);
	struct read_stream *s = calloc(1, sizeof *s);
	if (!s)
		return oom(err);
	s->c = c;
	s->table = spec && spec->table ? spec->table : "query";
	buf_init(&s->vals, 0);
	int rc = sqlite3_prepare_v2(c->db, query ? query : buf_str(&c->sql), -1, &s->st, NULL);
	if (rc != SQLITE_OK) {
		stream_free(s);
		return lite_fail(c, rc, "reading", err);
	}
	s->ncols = sqlite3_column_count(s->st);
	int n = s->ncols ? s->ncols : 1;
	s->cols = calloc((size_t)n, sizeof *s->cols);
	s->cells = calloc((size_t)n, sizeof *s->cells);
	s->offs = calloc((size_t)n, sizeof *s->offs);
	if (!s->cols || !s->cells || !s->offs) {
		stream_free(s);
		return oom(err);
	}
	for (int i = 0; i < s->ncols; i++) {
		const char *decl = sqlite3_column_decltype(s->st, i);
		struct sql_type t;
		sqlite_type_classify(decl ? decl : "", NULL, &t);
		s->cols[i].kind = t.kind;
		s->cols[i].aff = sqlite_affinity(decl ? decl : "");
		s->cols[i].typeless = !decl || !*decl;
		s->cols[i].with_tz = t.with_tz;
		sql_type_free(&t);
	}
	*out = s;
	return true;
}

/* A stored number (epoch seconds or a Julian day, see stored_instant) as
 * UTC text into out, a date alone when date_only: 1, or 0 when out of
 * range, -1 when date_only and it has a time of day (a date column would
 * drop it, or refuse it: neither is the value). */
static int epoch_text(bool integer, sqlite3_int64 i, double d, bool date_only, bool zoned,
		      char *out, size_t n)
{
	time_t whole;
	long us;
	struct tm tm;
	if (!stored_instant(integer, i, d, &whole, &us) || !gmtime_r(&whole, &tm))
		return 0;
	if (date_only) {
		if (tm.tm_hour || tm.tm_min || tm.tm_sec || us)
			return -1;
		strftime(out, n, "%Y-%m-%d", &tm);
		return 1;
	}
	size_t k = strftime(out, n, "%Y-%m-%d %H:%M:%S", &tm);
	if (us) {
		k += (size_t)snprintf(out + k, n - k, ".%06ld", us);
		while (out[k - 1] == '0')
			out[--k] = '\0';
	}
	if (zoned)
		snprintf(out + k, n - k, "+00");
	return 1;
}

/* Whether date text s (n bytes) names a zone after its time of day: a 'Z',
 * or a '+' or '-' past the date's own dashes (as SQLite's date functions
 * read "HH:MM[:SS[.f]] [+-]HH:MM" and "Z"). */
static bool text_zoned(const char *s, size_t n)
{
	if (n > 10 && (s[n - 1] == 'Z' || s[n - 1] == 'z'))
		return true;
	for (size_t i = 11; i < n; i++)
		if (s[i] == '+' || s[i] == '-')
			return true;
	return false;
}

/* Text stored in a date or timestamp column (not one with a zone) as the
 * target reads it: a zone converted to UTC, as SQLite's own date functions
 * and verify read it (a server's timestamp without a zone would drop the
 * zone); a date alone for a date column. 1 when out holds the text, 0 when
 * the text is to go as it is, -1 when it is refused (*why_part says why):
 * text that is no ISO 8601 date (a server reads '04/08/2007', 'now' or
 * 'epoch' as some date, or refuses it: neither is the value), a zone
 * sluice cannot read, or a time of day in a date column (a date column
 * would drop it, or refuse it). */
static int date_text(const char *s, size_t n, bool date_only, char *out, size_t outsz,
		     const char **why_part)
{
	size_t len;
	bool zoned = text_zoned(s, n);
	if (n + CONVERT_MAX_GROWTH > outsz || !convert_iso_datetime(s, n, out, outsz, &len)) {
		*why_part = zoned	? "has a time zone sluice cannot read"
			    : date_only ? "is not a date (YYYY-MM-DD)"
					: "is not a date and time (ISO 8601)";
		return -1;
	}
	if (!date_only)
		return zoned ? 1 : 0;
	for (size_t i = 11; i < len; i++)
		if (out[i] >= '1' && out[i] <= '9') {
			*why_part = "has a time of day, in a column declared a date";
			return -1;
		}
	out[10] = '\0';
	return 1;
}

/* Whether s (n bytes) is a time of day or a duration as the servers read
 * it alike: [-]H+:MM[:SS[.f]], minutes and seconds under 60 ('10:00:60'
 * would be 10:01:00 on PostgreSQL, 'allballs' or '10:00 PM' something
 * else again). */
static bool time_text_plain(const char *s, size_t n)
{
	size_t i = s[0] == '-', h = 0;
	while (i < n && s[i] >= '0' && s[i] <= '9') {
		i++;
		h++;
	}
	if (!h || h > 3 || n - i < 3 || s[i] != ':' || s[i + 1] < '0' || s[i + 1] > '5' ||
	    s[i + 2] < '0' || s[i + 2] > '9')
		return false;
	i += 3;
	if (i == n)
		return true;
	if (n - i < 3 || s[i] != ':' || s[i + 1] < '0' || s[i + 1] > '5' || s[i + 2] < '0' ||
	    s[i + 2] > '9')
		return false;
	i += 3;
	if (i == n)
		return true;
	if (s[i] != '.' || i + 1 == n)
		return false;
	for (i++; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

static const char *class_name(int type)
{
	switch (type) {
	case SQLITE_INTEGER:
		return "an INTEGER";
	case SQLITE_FLOAT:
		return "a REAL";
	case SQLITE_TEXT:
		return "TEXT";
	case SQLITE_BLOB:
		return "a BLOB";
	default:
		return "NULL";
	}
}

/* Append column i of the current row as text to s->vals; *refuse set
 * (with why) when its storage class does not fit the declared type. */
static bool read_value(struct read_stream *s, int i, bool *null, char *why, size_t whysz,
		       bool *refuse)
{
	sqlite3_stmt *st = s->st;
	const struct col_info *ci = &s->cols[i];
	int type = sqlite3_column_type(st, i);
	*null = type == SQLITE_NULL;
	if (*null)
		return true;
	enum sql_kind k = ci->kind;
	bool datelike = k == SQL_DATE || k == SQL_DATETIME || k == SQL_TIMESTAMPTZ;
	bool fits;
	switch (type) {
	case SQLITE_INTEGER:
		fits = k == SQL_INT || k == SQL_DECIMAL || k == SQL_FLOAT || k == SQL_OTHER ||
		       k == SQL_JSON || datelike || (k == SQL_TEXT && ci->aff != SQLITE_AFF_TEXT) ||
		       (k == SQL_BOOL && (unsigned long long)sqlite3_column_int64(st, i) <= 1);
		break;
	case SQLITE_FLOAT:
		fits = k == SQL_DECIMAL || k == SQL_FLOAT || k == SQL_OTHER || k == SQL_JSON ||
		       datelike || (k == SQL_TEXT && ci->aff != SQLITE_AFF_TEXT);
		break;
	case SQLITE_TEXT:
		fits = k != SQL_INT && k != SQL_FLOAT && k != SQL_BOOL && k != SQL_BINARY;
		if (fits && k == SQL_DECIMAL)
			fits = numeric_looking((const char *)sqlite3_column_text(st, i),
					       (size_t)sqlite3_column_bytes(st, i));
		break;
	default: /* BLOB */
		fits = k == SQL_BINARY || k == SQL_OTHER;
		break;
	}
	if (!fits) {
		const char *name = sqlite3_column_name(st, i);
		const char *decl = sqlite3_column_decltype(st, i);
		char shown[48] = "";
		if (type == SQLITE_TEXT)
			snprintf(shown, sizeof shown, " '%.30s'",
				 (const char *)sqlite3_column_text(st, i));
		else if (type != SQLITE_BLOB)
			snprintf(shown, sizeof shown, " %s",
				 (const char *)sqlite3_column_text(st, i));
		snprintf(
			why, whysz,
			"row %ld, column %s: %s value%s in a column declared %s (SQLite stores it, "
			"sluice does not convert it)",
			s->rowno, name ? name : "?", class_name(type), shown,
			decl && *decl ? decl : "without a type");
		*refuse = true;
	}
	char tmp[64];
	if (!*refuse && datelike && (type == SQLITE_INTEGER || type == SQLITE_FLOAT)) {
		/* unix epoch seconds, or a Julian day number */
		int got = epoch_text(type == SQLITE_INTEGER, sqlite3_column_int64(st, i),
				     sqlite3_column_double(st, i), k == SQL_DATE,
				     k == SQL_TIMESTAMPTZ, tmp, sizeof tmp);
		if (got <= 0) {
			snprintf(why, whysz, "row %ld, column %s: %s %s", s->rowno,
				 sqlite3_column_name(st, i),
				 (const char *)sqlite3_column_text(st, i),
				 got ? "has a time of day, in a column declared a date"
				     : "out of range for a date");
			*refuse = true;
			return buf_puts(&s->vals, "?");
		}
		return buf_puts(&s->vals, tmp);
	}
	if (!*refuse && (k == SQL_DATE || k == SQL_DATETIME) && type == SQLITE_TEXT) {
		char iso[96];
		const char *why_part = "";
		int got = date_text((const char *)sqlite3_column_text(st, i),
				    (size_t)sqlite3_column_bytes(st, i), k == SQL_DATE, iso,
				    sizeof iso, &why_part);
		if (got < 0) {
			snprintf(why, whysz, "row %ld, column %s: '%.40s' %s", s->rowno,
				 sqlite3_column_name(st, i),
				 (const char *)sqlite3_column_text(st, i), why_part);
			*refuse = true;
			return buf_puts(&s->vals, "?");
		}
		if (got > 0)
			return buf_puts(&s->vals, iso);
	}
	if (!*refuse && k == SQL_TIME && !ci->with_tz && type == SQLITE_TEXT &&
	    !time_text_plain((const char *)sqlite3_column_text(st, i),
			     (size_t)sqlite3_column_bytes(st, i))) {
		snprintf(why, whysz, "row %ld, column %s: '%.40s' is not a time (HH:MM[:SS])",
			 s->rowno, sqlite3_column_name(st, i),
			 (const char *)sqlite3_column_text(st, i));
		*refuse = true;
		return buf_puts(&s->vals, "?");
	}
	if (type == SQLITE_FLOAT) {
		shortest_double(sqlite3_column_double(st, i), tmp, sizeof tmp);
		return buf_puts(&s->vals, tmp);
	}
	if (type == SQLITE_BLOB) {
		const void *p = sqlite3_column_blob(st, i);
		return buf_append(&s->vals, p, (size_t)sqlite3_column_bytes(st, i));
	}
	const unsigned char *t = sqlite3_column_text(st, i);
	return buf_append(&s->vals, t, (size_t)sqlite3_column_bytes(st, i));
}

static int lite_read_row(struct read_stream *s, struct cell **cells, int *ncols,
			 unsigned long long *bytes, struct sl_error *err)
{
	if (signals_caught()) {
		sl_error_set(err, SL_ERR_INTERRUPTED, "interrupted");
		return -1;
	}
	int rc = sqlite3_step(s->st);
	if (rc == SQLITE_DONE)
		return 0;
	if (rc != SQLITE_ROW) {
		lite_fail(s->c, rc, "reading", err);
		return -1;
	}
	s->rowno++;
	buf_reset(&s->vals);
	bool refuse = false;
	char why[400] = "";
	for (int i = 0; i < s->ncols; i++) {
		bool null = false, bad = false;
		s->offs[i] = s->vals.len;
		if (!read_value(s, i, &null, why, sizeof why, &bad) || !buf_putc(&s->vals, '\0')) {
			oom(err);
			return -1;
		}
		if (bad && !refuse)
			refuse = true;
		else if (bad)
			why[sizeof why - 1] = '\0';
		s->cells[i].ptr = null ? NULL : "";
		s->cells[i].len = null ? 0 : s->vals.len - s->offs[i] - 1;
	}
	for (int i = 0; i < s->ncols; i++)
		if (s->cells[i].ptr)
			s->cells[i].ptr = s->vals.data + s->offs[i];
	*cells = s->cells;
	*ncols = s->ncols;
	*bytes += s->vals.len;
	if (refuse) {
		/* a reject: the row is given with the message, reading goes on */
		sl_error_set(err, SL_ERR_INPUT, "%s: %s", s->table, why);
		err->line = s->rowno;
		return -1;
	}
	return 1;
}

static void lite_close_read(struct read_stream *s)
{
	stream_free(s);
}

static bool lite_query_columns(struct conn *c, const char *query, char ***names, int *n,
			       struct sl_error *err)
{
	*names = NULL;
	*n = 0;
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(c->db, query, -1, &st, NULL);
	if (rc != SQLITE_OK) {
		sqlite3_finalize(st);
		return lite_fail(c, rc, "preparing the query", err);
	}
	bool ok = true;
	for (int i = 0; ok && i < sqlite3_column_count(st); i++)
		ok = names_add(names, n, sqlite3_column_name(st, i));
	sqlite3_finalize(st);
	return ok || oom(err);
}

static bool lite_max_length(struct conn *c, const struct write_spec *spec,
			    const struct column_desc *col, long *out, struct sl_error *err)
{
	*out = 0;
	buf_reset(&c->sql);
	if (!buf_puts(&c->sql, "SELECT max(length(") ||
	    !sqlite_dialect.quote_ident(&c->sql, col->name) || !buf_puts(&c->sql, ")) FROM ") ||
	    !sql_table_name(&sqlite_dialect, &c->sql, spec))
		return oom(err);
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(c->db, buf_str(&c->sql), -1, &st, NULL);
	if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW)
		*out = (long)sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return rc == SQLITE_ROW || lite_fail(c, rc, "measuring a column", err);
}

/* The tables other than specs[0..n) whose foreign keys reference one of
 * them: refused, as a TRUNCATE would be. */
static bool referenced_from_outside(struct conn *c, const struct write_spec *const *specs, int n,
				    struct sl_error *err)
{
	struct schema_desc all;
	if (!lite_describe_schema(c, specs[0]->schema, &all, err))
		return false;
	bool ok = true;
	for (int t = 0; ok && t < all.ntables; t++) {
		bool inside = false;
		for (int i = 0; i < n; i++)
			inside |= !strcasecmp(all.tables[t], specs[i]->table);
		if (inside)
			continue;
		struct fk_rows *f = calloc(1, sizeof *f);
		const char *p[2] = {all.tables[t], specs[0]->schema ? specs[0]->schema : "main"};
		ok = f && each_row(c,
				   "SELECT id, \"table\", \"from\", \"to\", on_update, on_delete "
				   "FROM pragma_foreign_key_list(?1, ?2)",
				   p, 2, fk_row, f, err);
		for (int k = 0; ok && f && k < f->n; k++)
			for (int i = 0; ok && i < n; i++)
				if (!strcasecmp(f->r[k].table, specs[i]->table))
					ok = sl_error_set(err, SL_ERR_USAGE,
							  "table %s is referenced by a foreign key "
							  "of %s, which is not emptied with it",
							  specs[i]->table, all.tables[t]);
		if (f)
			free_fk_rows(f);
		free(f);
	}
	schema_desc_free(&all);
	return ok;
}

static bool lite_truncate_tables(struct conn *c, const struct write_spec *const *specs, int n,
				 struct sl_error *err)
{
	if (n <= 0)
		return true;
	if (!referenced_from_outside(c, specs, n, err))
		return false;
	for (int i = 0; i < n; i++) {
		buf_reset(&c->sql);
		if (!buf_puts(&c->sql, "DELETE FROM ") ||
		    !sql_table_name(&sqlite_dialect, &c->sql, specs[i]))
			return oom(err);
		if (!lite_exec(c, buf_str(&c->sql), err))
			return false;
	}
	return true;
}

static bool lite_exec_params(struct conn *c, const char *sql, int n, const char *const *values,
			     struct sl_error *err)
{
	sqlite3_stmt *st = prepared(c, sql, err);
	if (!st)
		return false;
	for (int i = 0; i < n; i++)
		if (values[i])
			sqlite3_bind_text(st, i + 1, values[i], -1, SQLITE_TRANSIENT);
	return run(c, st, "running a statement", err);
}

static bool lite_query_each(struct conn *c, const char *sql,
			    bool (*row)(void *ctx, char *const *values, int n), void *ctx,
			    struct sl_error *err)
{
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(c->db, sql, -1, &st, NULL);
	if (rc != SQLITE_OK) {
		sqlite3_finalize(st);
		return lite_fail(c, rc, "running a query", err);
	}
	int n = sqlite3_column_count(st);
	char **vals = malloc((size_t)(n ? n : 1) * sizeof *vals);
	if (!vals) {
		sqlite3_finalize(st);
		return oom(err);
	}
	bool ok = true;
	while (ok && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		for (int i = 0; i < n; i++)
			vals[i] = (char *)sqlite3_column_text(st, i);
		ok = row(ctx, vals, n);
		if (!ok && err->kind == SL_ERR_NONE)
			sl_error_set(err, SL_ERR_INTERNAL, "a row was refused");
	}
	if (ok && rc != SQLITE_DONE)
		ok = lite_fail(c, rc, "running a query", err);
	sqlite3_finalize(st);
	free(vals);
	return ok;
}

static bool lite_query_row(struct conn *c, const char *sql, char **out, int n, struct sl_error *err)
{
	for (int i = 0; i < n; i++)
		out[i] = NULL;
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(c->db, sql, -1, &st, NULL);
	if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		for (int i = 0; i < n && i < sqlite3_column_count(st); i++)
			if (sqlite3_column_type(st, i) != SQLITE_NULL &&
			    !(out[i] = col_dup(st, i))) {
				sqlite3_finalize(st);
				return oom(err);
			}
		sqlite3_finalize(st);
		return true;
	}
	sqlite3_finalize(st);
	if (rc == SQLITE_DONE)
		return sl_error_set(err, SL_ERR_SERVER, "%s: the query returned no row", c->url);
	return lite_fail(c, rc, "running a query", err);
}

/* ---- verify: the functions the dialect's canonical expressions call ---- */

/* MD5 (RFC 1321) of n bytes of p as 32 lower-case hex digits into hex. */
static void md5_hex(const void *p, size_t n, char hex[33])
{
	static const uint32_t k[64] = {
		0xd76aa478, 0xe8c7b756, 0x242070db, 0xc1bdceee, 0xf57c0faf, 0x4787c62a, 0xa8304613,
		0xfd469501, 0x698098d8, 0x8b44f7af, 0xffff5bb1, 0x895cd7be, 0x6b901122, 0xfd987193,
		0xa679438e, 0x49b40821, 0xf61e2562, 0xc040b340, 0x265e5a51, 0xe9b6c7aa, 0xd62f105d,
		0x02441453, 0xd8a1e681, 0xe7d3fbc8, 0x21e1cde6, 0xc33707d6, 0xf4d50d87, 0x455a14ed,
		0xa9e3e905, 0xfcefa3f8, 0x676f02d9, 0x8d2a4c8a, 0xfffa3942, 0x8771f681, 0x6d9d6122,
		0xfde5380c, 0xa4beea44, 0x4bdecfa9, 0xf6bb4b60, 0xbebfbc70, 0x289b7ec6, 0xeaa127fa,
		0xd4ef3085, 0x04881d05, 0xd9d4d039, 0xe6db99e5, 0x1fa27cf8, 0xc4ac5665, 0xf4292244,
		0x432aff97, 0xab9423a7, 0xfc93a039, 0x655b59c3, 0x8f0ccc92, 0xffeff47d, 0x85845dd1,
		0x6fa87e4f, 0xfe2ce6e0, 0xa3014314, 0x4e0811a1, 0xf7537e82, 0xbd3af235, 0x2ad7d2bb,
		0xeb86d391};
	static const int r[64] = {7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22,
				  5, 9,	 14, 20, 5, 9,	14, 20, 5, 9,  14, 20, 5, 9,  14, 20,
				  4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23,
				  6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21};
	uint32_t h[4] = {0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476};
	const unsigned char *in = p;
	uint64_t bits = (uint64_t)n * 8;
	size_t total = ((n + 8) / 64 + 1) * 64;
	for (size_t off = 0; off < total; off += 64) {
		unsigned char blk[64];
		for (size_t i = 0; i < 64; i++) {
			size_t at = off + i;
			blk[i] = at < n	   ? in[at]
				 : at == n ? 0x80
				 : at >= total - 8
					 ? (unsigned char)(bits >> (8 * (at - (total - 8))))
					 : 0;
		}
		uint32_t w[16];
		for (int i = 0; i < 16; i++)
			w[i] = (uint32_t)blk[4 * i] | (uint32_t)blk[4 * i + 1] << 8 |
			       (uint32_t)blk[4 * i + 2] << 16 | (uint32_t)blk[4 * i + 3] << 24;
		uint32_t a = h[0], b = h[1], c = h[2], d = h[3];
		for (int i = 0; i < 64; i++) {
			uint32_t f;
			int g;
			if (i < 16) {
				f = (b & c) | (~b & d);
				g = i;
			} else if (i < 32) {
				f = (d & b) | (~d & c);
				g = (5 * i + 1) % 16;
			} else if (i < 48) {
				f = b ^ c ^ d;
				g = (3 * i + 5) % 16;
			} else {
				f = c ^ (b | ~d);
				g = (7 * i) % 16;
			}
			uint32_t t = d;
			d = c;
			c = b;
			uint32_t x = a + f + k[i] + w[g];
			b = b + (x << r[i] | x >> (32 - r[i]));
			a = t;
		}
		h[0] += a;
		h[1] += b;
		h[2] += c;
		h[3] += d;
	}
	for (int i = 0; i < 16; i++)
		snprintf(hex + 2 * i, 3, "%02x", (h[i / 4] >> (8 * (i % 4))) & 0xff);
}

/* The parts of a point in time held by v in a date or time column: ISO
 * text (a 'T', a zone converted to UTC), unix epoch seconds, a Julian
 * day number. False when it is none of them. */
static bool time_parts(sqlite3_value *v, struct tm *tm, long *us)
{
	int type = sqlite3_value_type(v);
	if (type == SQLITE_TEXT) {
		const char *s = (const char *)sqlite3_value_text(v);
		size_t n = (size_t)sqlite3_value_bytes(v);
		char iso[96];
		size_t len;
		if (n + CONVERT_MAX_GROWTH > sizeof iso ||
		    !convert_iso_datetime(s, n, iso, sizeof iso, &len))
			return false;
		memset(tm, 0, sizeof *tm);
		int frac = 0;
		if (sscanf(iso, "%d-%d-%d %d:%d:%d%n", &tm->tm_year, &tm->tm_mon, &tm->tm_mday,
			   &tm->tm_hour, &tm->tm_min, &tm->tm_sec, &frac) < 3)
			return false;
		*us = 0;
		for (int i = 1, m = 100000; frac && iso[frac] == '.' && i <= 6; i++, m /= 10) {
			if (iso[frac + i] < '0' || iso[frac + i] > '9')
				break;
			*us += (iso[frac + i] - '0') * m;
		}
		return true;
	}
	if (type != SQLITE_INTEGER && type != SQLITE_FLOAT)
		return false;
	time_t t;
	if (!stored_instant(type == SQLITE_INTEGER, sqlite3_value_int64(v), sqlite3_value_double(v),
			    &t, us))
		return false;
	if (!gmtime_r(&t, tm))
		return false;
	tm->tm_year += 1900;
	tm->tm_mon += 1;
	return true;
}

/* A decimal number's text without trailing fraction zeros nor a trailing
 * point; an exponent written out ("1e+20" is 100000000000000000000). */
static void plain_decimal(const char *in, char *out, size_t n)
{
	const char *e = strpbrk(in, "eE");
	char digits[400];
	if (e) {
		/* mantissa digits and the point's new place */
		bool neg = in[0] == '-';
		const char *m = in + (neg || in[0] == '+');
		char mant[64];
		size_t k = 0;
		long point = -1;
		for (const char *q = m; q < e && k + 1 < sizeof mant; q++) {
			if (*q == '.')
				point = (long)k;
			else
				mant[k++] = *q;
		}
		mant[k] = '\0';
		if (point < 0)
			point = (long)k;
		point += strtol(e + 1, NULL, 10);
		size_t o = 0;
		if (neg)
			digits[o++] = '-';
		if (point <= 0) {
			o += (size_t)snprintf(digits + o, sizeof digits - o, "0.");
			for (long z = 0; z < -point && o + 2 < sizeof digits; z++)
				digits[o++] = '0';
			o += (size_t)snprintf(digits + o, sizeof digits - o, "%s", mant);
		} else {
			for (long i = 0; i < point && o + 2 < sizeof digits; i++)
				digits[o++] = i < (long)k ? mant[i] : '0';
			if ((long)k > point)
				o += (size_t)snprintf(digits + o, sizeof digits - o, ".%s",
						      mant + point);
		}
		digits[o < sizeof digits ? o : sizeof digits - 1] = '\0';
		in = digits;
	}
	snprintf(out, n, "%s%s", in[0] == '+' ? "" : "", in + (in[0] == '+'));
	if (strchr(out, '.')) {
		size_t len = strlen(out);
		while (len && out[len - 1] == '0')
			out[--len] = '\0';
		if (len && out[len - 1] == '.')
			out[--len] = '\0';
	}
	if (!strcmp(out, "-0"))
		strcpy(out, "0");
}

/* The IEEE 754 pattern of d in hex: a double (bits 53) or rounded to a
 * float (24); zero without its sign; NaN "NaN". */
static void float_bits(double d, int bits, char *out, size_t n)
{
	if (isnan(d)) {
		snprintf(out, n, "NaN");
	} else if (bits == 53) {
		uint64_t u;
		memcpy(&u, &d, sizeof u);
		snprintf(out, n, "%016llx", d == 0 ? 0ULL : (unsigned long long)u);
	} else {
		uint32_t u = 0;
		if (d >= 340282356779733661637539395458142568448.0)
			u = 0x7f800000u;
		else if (d <= -340282356779733661637539395458142568448.0)
			u = 0xff800000u;
		else if (fabs(d) > ldexp(1.0, -150)) {
			float f = (float)d;
			memcpy(&u, &f, sizeof u);
		}
		snprintf(out, n, "%08x", u);
	}
}

/* sluice_canon(value, form, prec, bits, lower, kind): the canonical text
 * (canon.h) of a value of a column of that sql_kind, from its storage
 * class; NULL for NULL. */
static void canon_fn(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	(void)argc;
	sqlite3_value *v = argv[0];
	int type = sqlite3_value_type(v);
	if (type == SQLITE_NULL) {
		sqlite3_result_null(ctx);
		return;
	}
	int form = sqlite3_value_int(argv[1]), prec = sqlite3_value_int(argv[2]);
	int bits = sqlite3_value_int(argv[3]), lower = sqlite3_value_int(argv[4]);
	enum sql_kind kind = (enum sql_kind)sqlite3_value_int(argv[5]);
	char out[512], tmp[400];
	struct tm tm;
	long us;
	switch (form) {
	case CANON_NUM:
		if (type == SQLITE_INTEGER) {
			snprintf(out, sizeof out, "%lld", (long long)sqlite3_value_int64(v));
		} else if (type == SQLITE_FLOAT) {
			shortest_double(sqlite3_value_double(v), tmp, sizeof tmp);
			plain_decimal(tmp, out, sizeof out);
		} else {
			snprintf(tmp, sizeof tmp, "%s", (const char *)sqlite3_value_text(v));
			plain_decimal(tmp, out, sizeof out);
		}
		break;
	case CANON_FLOAT:
		float_bits(sqlite3_value_double(v), bits, out, sizeof out);
		break;
	case CANON_DATE:
	case CANON_TS:
		if (!time_parts(v, &tm, &us)) {
			/* no such text: the value as it is */
			snprintf(out, sizeof out, "%s", (const char *)sqlite3_value_text(v));
			break;
		}
		if (form == CANON_DATE) {
			snprintf(out, sizeof out, "%04d-%02d-%02d", tm.tm_year, tm.tm_mon,
				 tm.tm_mday);
			break;
		}
		snprintf(tmp, sizeof tmp, ".%06ld", us);
		snprintf(out, sizeof out, "%04d-%02d-%02d %02d:%02d:%02d%.*s", tm.tm_year,
			 tm.tm_mon, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
			 prec > 0 ? prec + 1 : 0, tmp);
		break;
	case CANON_TIME: {
		/* [-]H:MM[:SS[.ffffff]] as a count of units of 10^-prec seconds
		 * (SQLite's time functions take HH:MM as HH:MM:00 too) */
		const char *s = (const char *)sqlite3_value_text(v);
		bool neg = s[0] == '-';
		long h = 0, m = 0, sec = 0;
		int at = 0, at2 = 0;
		if (sscanf(s + neg, "%ld:%ld%n", &h, &m, &at) < 2 || !at) {
			snprintf(out, sizeof out, "%s", s);
			break;
		}
		if (s[neg + at] == ':' && sscanf(s + neg + at, ":%ld%n", &sec, &at2) == 1)
			at += at2;
		long long total = ((long long)h * 3600 + m * 60 + sec) * 1000000;
		const char *f = s + neg + at;
		if (*f == '.')
			for (int i = 1, mul = 100000; i <= 6 && f[i] >= '0' && f[i] <= '9';
			     i++, mul /= 10)
				total += (f[i] - '0') * mul;
		total /= canon_micros_per_unit(prec);
		snprintf(out, sizeof out, "%lld", neg ? -total : total);
		break;
	}
	default: { /* CANON_HASH: the bytes as copy reads them */
		char hex[33];
		if (type == SQLITE_BLOB) {
			md5_hex(sqlite3_value_blob(v), (size_t)sqlite3_value_bytes(v), hex);
		} else if ((kind == SQL_DATE || kind == SQL_DATETIME || kind == SQL_TIMESTAMPTZ) &&
			   type != SQLITE_TEXT &&
			   epoch_text(type == SQLITE_INTEGER, sqlite3_value_int64(v),
				      sqlite3_value_double(v), kind == SQL_DATE,
				      kind == SQL_TIMESTAMPTZ, tmp, sizeof tmp) > 0) {
			md5_hex(tmp, strlen(tmp), hex);
		} else if (type == SQLITE_FLOAT) {
			shortest_double(sqlite3_value_double(v), tmp, sizeof tmp);
			md5_hex(tmp, strlen(tmp), hex);
		} else {
			const unsigned char *t = sqlite3_value_text(v);
			size_t n = (size_t)sqlite3_value_bytes(v);
			if (lower) {
				char *low = malloc(n ? n : 1);
				if (!low) {
					sqlite3_result_error_nomem(ctx);
					return;
				}
				for (size_t i = 0; i < n; i++)
					low[i] = (char)(t[i] >= 'A' && t[i] <= 'Z' ? t[i] + 32
										   : t[i]);
				md5_hex(low, n, hex);
				free(low);
			} else {
				md5_hex(t, n, hex);
			}
		}
		snprintf(out, sizeof out, "%s", hex);
		break;
	}
	}
	sqlite3_result_text(ctx, out, -1, SQLITE_TRANSIENT);
}

/* sluice_md5(value): md5 of its bytes. */
static void md5_fn(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	(void)argc;
	if (sqlite3_value_type(argv[0]) == SQLITE_NULL) {
		sqlite3_result_null(ctx);
		return;
	}
	char hex[33];
	const void *p = sqlite3_value_type(argv[0]) == SQLITE_BLOB
				? sqlite3_value_blob(argv[0])
				: (const void *)sqlite3_value_text(argv[0]);
	md5_hex(p, (size_t)sqlite3_value_bytes(argv[0]), hex);
	sqlite3_result_text(ctx, hex, 32, SQLITE_TRANSIENT);
}

/* sluice_checksum(c0, ...): the sum of the 60-bit numbers the first 15
 * hex digits of md5 of each row's text make (each value as its length,
 * ':' and itself, N for NULL), as exact decimal text. */
static void checksum_step(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	/* SQLite's aggregate memory is 8-byte aligned: the 128-bit sum is
	 * copied in and out */
	unsigned char *sum = sqlite3_aggregate_context(ctx, sizeof(unsigned __int128));
	if (!sum) {
		sqlite3_result_error_nomem(ctx);
		return;
	}
	struct buf row;
	buf_init(&row, 0);
	bool ok = true;
	for (int i = 0; ok && i < argc; i++) {
		if (sqlite3_value_type(argv[i]) == SQLITE_NULL) {
			ok = buf_putc(&row, 'N');
			continue;
		}
		const unsigned char *t = sqlite3_value_text(argv[i]);
		int n = sqlite3_value_bytes(argv[i]);
		long chars = 0;
		for (int k = 0; k < n; k++)
			chars += (t[k] & 0xC0) != 0x80;
		ok = buf_printf(&row, "%ld:", chars) && buf_append(&row, t, (size_t)n);
	}
	if (!ok) {
		buf_free(&row);
		sqlite3_result_error_nomem(ctx);
		return;
	}
	char hex[33];
	md5_hex(row.data ? row.data : "", row.len, hex);
	buf_free(&row);
	hex[15] = '\0';
	unsigned __int128 v;
	memcpy(&v, sum, sizeof v);
	v += strtoull(hex, NULL, 16);
	memcpy(sum, &v, sizeof v);
}

static void checksum_final(sqlite3_context *ctx)
{
	unsigned char *sum = sqlite3_aggregate_context(ctx, 0);
	unsigned __int128 v = 0;
	if (sum)
		memcpy(&v, sum, sizeof v);
	char out[48], *p = out + sizeof out - 1;
	*p = '\0';
	do {
		*--p = (char)('0' + (int)(v % 10));
		v /= 10;
	} while (v);
	sqlite3_result_text(ctx, p, -1, SQLITE_TRANSIENT);
}

/* Register verify's functions on db. */
static bool register_functions(sqlite3 *db)
{
	int det = SQLITE_UTF8 | SQLITE_DETERMINISTIC;
	return sqlite3_create_function(db, "sluice_canon", 6, det, NULL, canon_fn, NULL, NULL) ==
		       SQLITE_OK &&
	       sqlite3_create_function(db, "sluice_md5", 1, det, NULL, md5_fn, NULL, NULL) ==
		       SQLITE_OK &&
	       sqlite3_create_function(db, "sluice_checksum", -1, det, NULL, NULL, checksum_step,
				       checksum_final) == SQLITE_OK;
}

static bool lite_snapshot_end(struct conn *c, struct sl_error *err)
{
	return lite_rollback(c, err);
}

/* ---- a job's lock, for --resume ---- */

/* SQLite has no named locks: a job's is a byte of a lock file next to the
 * database (<file>-sluice-lock), at the job's number, locked with an open
 * file description lock, so two connections of one process exclude each
 * other too; it is let go when the connection closes. */
static bool lite_job_lock_hold(struct conn *c, struct sl_error *err)
{
	(void)c;
	(void)err;
	return true; /* nothing times out a SQLite connection */
}

static bool lite_job_lock_try(struct conn *c, uint64_t key, bool *held, struct sl_error *err)
{
	*held = false;
	if (c->lock_fd < 0) {
		char path[PATH_MAX + 16];
		snprintf(path, sizeof path, "%s-sluice-lock", c->path);
		c->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
		if (c->lock_fd < 0)
			return sl_error_set(err, SL_ERR_SERVER, "%s: the job lock %s: %s", c->url,
					    path, strerror(errno));
	}
	struct flock fl = {.l_type = F_WRLCK,
			   .l_whence = SEEK_SET,
			   .l_start = (off_t)(key & 0x3fffffffffffffffULL),
			   .l_len = 1};
	if (fcntl(c->lock_fd, F_OFD_SETLK, &fl) == 0) {
		*held = true;
		return true;
	}
	if (errno == EAGAIN || errno == EACCES)
		return true; /* another run holds it */
	return sl_error_set(err, SL_ERR_SERVER, "%s: locking the job: %s", c->url, strerror(errno));
}

/* A row that collided with a primary key or a UNIQUE index. */
static bool lite_unique_violation(const struct sl_error *err)
{
	return err->server_code == SQLITE_CONSTRAINT_PRIMARYKEY ||
	       err->server_code == SQLITE_CONSTRAINT_UNIQUE;
}

/* A CREATE of something that is there already (SQLite says so in words). */
static bool lite_object_exists(const struct sl_error *err)
{
	return (err->server_code & 0xff) == SQLITE_ERROR && strstr(err->msg, "already exists");
}

const struct driver sqlite_driver = {
	.name = "sqlite",
	.dialect = &sqlite_dialect,
	.default_method = METHOD_INSERT,
	.conn =
		{
			.connect = lite_connect,
			.close = lite_close,
			.server_version = lite_server_version,
			.exec = lite_exec,
			.exec_params = lite_exec_params,
			.query_each = lite_query_each,
			.query_row = lite_query_row,
			.identity = lite_identity,
			.session_name = lite_session_name,
			.healthy = lite_healthy,
			.unique_violation = lite_unique_violation,
			.object_exists = lite_object_exists,
		},
	.tx =
		{
			.begin = lite_begin,
			.commit = lite_commit,
			.rollback = lite_rollback,
			.commit_token = lite_commit_token,
			.commit_mode = lite_commit_mode,
			.job_lock_hold = lite_job_lock_hold,
			.job_lock_try = lite_job_lock_try,
		},
	.write =
		{
			.supports = lite_supports,
			.write_batch = lite_write_batch,
			.write_each = lite_write_each,
			.update_batch = lite_update_batch,
			.count_keys = lite_count_keys,
			.truncate_tables = lite_truncate_tables,
		},
	.catalog =
		{
			.describe_table = lite_describe_table,
			.describe_schema = lite_describe_schema,
			.describe_full = lite_describe_full,
			.query_columns = lite_query_columns,
			.max_length = lite_max_length,
		},
	.read =
		{
			.snapshot = lite_snapshot,
			.snapshot_end = lite_snapshot_end,
			.hold_still = lite_hold_still,
			.let_go = lite_let_go,
			.open_read = lite_open_read,
			.read_row = lite_read_row,
			.close_read = lite_close_read,
		},
};
