/* include/sluice/driver.h
 * The database driver interface. A server is one file under src/db/ that
 * fills a struct driver; drivers know nothing of input formats.
 */
#ifndef SLUICE_DRIVER_H
#define SLUICE_DRIVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sluice/batch.h"
#include "sluice/catalog.h"
#include "sluice/error.h"
#include "sluice/sql.h"

/* A driver's connection; each driver defines the struct, whose first
 * member is the driver it belongs to (const struct driver *drv), so that a
 * connection knows its driver: conn_driver. */
struct conn;
struct driver;
/* The driver c was opened by. */
const struct driver *conn_driver(const struct conn *c);

/* A streaming read of a table or query (see driver.open_read): rows come
 * as text cells, one at a time, memory bounded by one row. */
struct read_stream;

/* How a connection waits on its server (sluice's --timeout). */
struct conn_options {
	/* Seconds a connect, a statement or a read may go without one byte
	 * moving to or from the server before the connection counts as broken
	 * (SL_ERR_CONNECTION, naming the server and what it was doing); 0
	 * waits for ever. A statement the server works on silently for longer
	 * (a long index build) needs a larger value. */
	double timeout;
	/* The caller settles a COMMIT whose reply is lost by itself (--resume:
	 * a checkpoint row goes in with every batch): plain transactions, no
	 * two-phase commit (MySQL's XA) to settle it by. */
	bool plain_commits;
};

/* What a write_batch did: the rows the server inserted or updated, and of
 * those, the ones that updated a row already there (--on-conflict update);
 * updated_unknown when the server did not say which were which. */
struct write_count {
	size_t written;
	size_t updated;
	bool updated_unknown;
};

struct driver {
	const char *name;
	const struct dialect *dialect;
	enum write_method default_method;
	/* --- the connection: open, close, run statements, tell what it is --- */
	struct {
		/* Connect to url, waiting as opts says (NULL: for ever); the caller
		 * owns *out and releases it with close. On failure err says why, with
		 * any password scrubbed. */
		bool (*connect)(const char *url, const struct conn_options *opts, struct conn **out,
				struct sl_error *err);
		void (*close)(struct conn *c);
		/* "PostgreSQL 15.18" or the like, into out. */
		bool (*server_version)(struct conn *c, char *out, size_t n, struct sl_error *err);
		/* What names this server, database and schema apart from any other,
		 * into out ("<start time>:<port>:<database>:<schema>"): two
		 * connections with the same identity reach the same tables. */
		bool (*identity)(struct conn *c, char *out, size_t n, struct sl_error *err);
		/* The server's name for this session ("backend 1234", "thread 56"),
		 * for -v. */
		void (*session_name)(struct conn *c, char *out, size_t n);
		/* Cheap check that the connection still works, before reuse: what
		 * the client knows of it, and with ask_server a round trip too. */
		bool (*healthy)(struct conn *c, bool ask_server);
		/* Run one statement that returns no rows. */
		bool (*exec)(struct conn *c, const char *sql, struct sl_error *err);
		/* Run one statement with text parameters (values[i] NULL for SQL NULL;
		 * placeholders as the dialect writes them), inside the caller's
		 * transaction if one is open. */
		bool (*exec_params)(struct conn *c, const char *sql, int n,
				    const char *const *values, struct sl_error *err);
		/* Run a query and hand each row's text values (NULL for SQL NULL) to
		 * row(ctx, values, n); row returning false stops with that failure. */
		bool (*query_each)(struct conn *c, const char *sql,
				   bool (*row)(void *ctx, char *const *values, int n), void *ctx,
				   struct sl_error *err);
		/* Run a query returning one row; out[0..n) get malloc'd text values
		 * (NULL for SQL NULL); false with err. */
		bool (*query_row)(struct conn *c, const char *sql, char **out, int n,
				  struct sl_error *err);
		/* What an error this driver filled in says, by its server's code: a
		 * row collided with a unique key (PostgreSQL 23505, MySQL 1062)... */
		bool (*unique_violation)(const struct sl_error *err);
		/* ...or a CREATE named an object that is there already: a trigger
		 * (PostgreSQL 42710, MySQL 1359), or on PostgreSQL a table that a
		 * concurrent CREATE TABLE IF NOT EXISTS made meanwhile (42P07). */
		bool (*object_exists)(const struct sl_error *err);
	} conn;
	/* --- transactions: begin, commit, settle a lost commit, the job's lock --- */
	struct {
		bool (*begin)(struct conn *c, struct sl_error *err);
		bool (*commit)(struct conn *c, struct sl_error *err);
		bool (*rollback)(struct conn *c, struct sl_error *err);
		/* When commit failed with SL_ERR_CONNECTION its outcome may be unknown.
		 * commit_token returns 0 when the commit was never sent (the
		 * transaction died with the connection); 1 after copying an identifier
		 * of the transaction into out, which commit_status then looks up on a
		 * fresh connection (false with err when it cannot tell); -1 when the
		 * commit was sent and the server offers no way to ask (the caller may
		 * still look the rows up, see count_keys); out then names the
		 * session that sent it, for end_session (empty: none). */
		int (*commit_token)(struct conn *c, char *out, size_t n);
		bool (*commit_status)(struct conn *fresh, const char *token, bool *committed,
				      struct sl_error *err);
		/* After -1 from commit_token, before the rows are looked up on the
		 * fresh connection: end the session token names and wait until it
		 * is gone, so that a COMMIT still on its way cannot land after the
		 * look (false with err when it is not gone within the bound).
		 * NULL: a broken connection's session ends with it. */
		bool (*end_session)(struct conn *fresh, const char *token, struct sl_error *err);
		/* How commits are made sure of, for the summary: "txid" (PostgreSQL's
		 * txid_status), "xa" (MySQL XA, settled by XA RECOVER) or "plain". */
		const char *(*commit_mode)(const struct conn *c);
		/* --- a job's lock, for --resume (checkpoint_lock) --- */
		/* Ready c, a connection of its own, to hold a job lock for as long as
		 * the run lasts, however long it idles: no server timeout may end the
		 * session and so free the lock (PostgreSQL: a transaction left open
		 * with no idle timeout, which also pins the session through a pooler;
		 * MySQL: a year's wait_timeout). Called once, before job_lock_try. */
		bool (*job_lock_hold)(struct conn *c, struct sl_error *err);
		/* Try once, without waiting, to take the lock named key on c's
		 * database (two databases of a server are two names): *held says
		 * whether c has it now. It lasts until c closes, and meanwhile every
		 * other connection that tries key is refused. No name goes into SQL
		 * text, only the number. */
		bool (*job_lock_try)(struct conn *c, uint64_t key, bool *held,
				     struct sl_error *err);
	} tx;
	/* --- writing rows inside the caller's transaction --- */
	struct {
		/* Whether this driver can write with method m. */
		bool (*supports)(enum write_method m);
		/* Write rows [first, first+n) of b inside the caller's transaction;
		 * out->written is the number of rows the server inserted or updated
		 * (fewer than n when --on-conflict skip skipped some), out->updated
		 * those of them that updated a row already there. An error that belongs to
		 * the rows (a refused value, a trigger's exception, a row too big) has
		 * err->kind SL_ERR_DATA; one that would hit every row (privileges, a
		 * missing table) SL_ERR_SERVER; a broken connection SL_ERR_CONNECTION.
		 * Any value the server would change on the way in (MySQL notes and
		 * warnings) is an SL_ERR_DATA error, never a silent change. */
		bool (*write_batch)(struct conn *c, const struct write_spec *spec,
				    const struct batch *b, size_t first, size_t n,
				    struct write_count *out, struct sl_error *err);
		/* Optional. Whether write_batch with spec sends rows whose
		 * meta.csv is set (in the batch's csv dialect) as their CSV text,
		 * letting the server parse it (PostgreSQL's COPY csv); a reader
		 * then need not take such records apart for it. NULL: never. */
		bool (*takes_csv)(const struct write_spec *spec);
		/* Optional. Rows [first, first+n) of b that failed together, written
		 * one by one inside the caller's transaction, each in its own
		 * subtransaction on the server, in a round trip or two: a row the
		 * server refuses is left out and refused[i] (row first+i, NULL on
		 * entry) gets its message, malloc'd; *written counts the others. A
		 * plain insert (no keys, no --defaults groups). False with err when
		 * the failure is not a row's (a deadlock, a broken connection). */
		bool (*write_each)(struct conn *c, const struct write_spec *spec,
				   const struct batch *b, size_t first, size_t n, char **refused,
				   size_t *written, struct sl_error *err);
		/* Optional (--nest --parent-key generated). Write rows [first,
		 * first+n) of b inside the caller's transaction, the server giving
		 * column key (an index into spec->columns: the table's identity or
		 * AUTO_INCREMENT column; b's values there are ignored) its generated
		 * value, which ids[i] gets as text for row first+i. Errors as for
		 * write_batch; SL_ERR_USAGE when this server cannot hand the keys
		 * back (MySQL: no RETURNING). NULL when the driver cannot at all. */
		bool (*write_generated)(struct conn *c, const struct write_spec *spec,
					const struct batch *b, size_t first, size_t n, int key,
					char (*ids)[SQL_ID_BYTES], struct write_count *out,
					struct sl_error *err);
		/* sluice update: for rows [first, first+n) of b, set the spec's set
		 * columns where its key columns match, inside the caller's transaction.
		 * matched[i] is the number of target rows whose key matched row first+i
		 * (0: not found). Errors as for write_batch. NULL when the server has no
		 * update support. */
		bool (*update_batch)(struct conn *c, const struct write_spec *spec,
				     const struct batch *b, size_t first, size_t n,
				     unsigned *matched, struct sl_error *err);
		/* How many rows of table spec->table have the key (spec->key, columns
		 * among spec->columns) of one of rows [first, first+n) of b: settles a
		 * lost plain COMMIT of an insert. NULL when the driver cannot. */
		bool (*count_keys)(struct conn *c, const struct write_spec *spec,
				   const struct batch *b, size_t first, size_t n,
				   unsigned long long *count, struct sl_error *err);
		/* Empty tables specs[0..n) at once, foreign keys among them or not; a
		 * table a foreign key of a table outside them references is refused
		 * (SL_ERR_USAGE naming both), so no row is left pointing nowhere. */
		bool (*truncate_tables)(struct conn *c, const struct write_spec *const *specs,
					int n, struct sl_error *err);
	} write;
	/* --- the catalog: tables, columns, keys, indexes --- */
	struct {
		/* Look up the table's columns and unique keys; out->exists is false when
		 * there is none. The caller frees out with table_desc_free. */
		bool (*describe_table)(struct conn *c, const struct write_spec *spec,
				       struct table_desc *out, struct sl_error *err);
		/* describe_table plus defaults, identity, generated expressions, every
		 * index and the foreign keys. */
		bool (*describe_full)(struct conn *c, const struct write_spec *spec,
				      struct table_desc *out, struct sl_error *err);
		/* The base tables of schema (NULL: the connection's database/"public"),
		 * plus views and triggers; free with schema_desc_free. */
		bool (*describe_schema)(struct conn *c, const char *schema, struct schema_desc *out,
					struct sl_error *err);
		/* The names of the columns SELECT query returns, in order, without
		 * reading a row: a malloc'd list of *n malloc'd names. */
		bool (*query_columns)(struct conn *c, const char *query, char ***names, int *n,
				      struct sl_error *err);
		/* The longest value of column col in spec's table, in characters (bytes
		 * for binary types); 0 for none. */
		bool (*max_length)(struct conn *c, const struct write_spec *spec,
				   const struct column_desc *col, long *out, struct sl_error *err);
	} catalog;
	/* --- reading, for copy and verify: snapshots and streaming reads --- */
	struct {
		/* Start a read-only transaction that sees one consistent snapshot (PG
		 * REPEATABLE READ, MySQL WITH CONSISTENT SNAPSHOT); UTC session time. */
		bool (*snapshot)(struct conn *c, struct sl_error *err);
		/* Several readers in one snapshot (a parallel copy): export_snapshot
		 * names the snapshot of c (after snapshot()), and snapshot_at starts a
		 * read-only transaction on another connection that sees exactly it.
		 * NULL where the server cannot share a snapshot (MySQL). */
		bool (*export_snapshot)(struct conn *c, char *id, size_t n, struct sl_error *err);
		bool (*snapshot_at)(struct conn *c, const char *id, struct sl_error *err);
		/* End the read-only transaction snapshot or snapshot_at started (a
		 * rollback: only reads happened). Unlike rollback, it ends it though
		 * begin did not start it. */
		bool (*snapshot_end)(struct conn *c, struct sl_error *err);
		/* Where a snapshot cannot be shared: hold_still, on a connection of
		 * its own, stops every commit on the server until let_go, so that
		 * snapshots started meanwhile on other connections all see one
		 * instant (MySQL's FLUSH TABLES WITH READ LOCK, as mydumper does).
		 * False with err when the server refuses it (privileges, a read-only
		 * replica), err->msg then saying what was not allowed and why; the
		 * caller goes on with a snapshot per reader. let_go ends the hold and
		 * may be called on a connection that is broken. Both NULL where
		 * export_snapshot serves, or where the server has no such lock. */
		bool (*hold_still)(struct conn *c, struct sl_error *err);
		void (*let_go)(struct conn *c);
		/* Stream spec's columns of spec's table (the rows range takes; range
		 * may be NULL), or with query non-NULL the rows of that SELECT, as
		 * text: PostgreSQL COPY ... TO STDOUT, MySQL an unbuffered result.
		 * Values are the server's text output (bytea as \x hex, MySQL binary
		 * as raw bytes) in a form that reads back as the same value: every bit
		 * of a float. The connection is busy until close_read. */
		bool (*open_read)(struct conn *c, const struct write_spec *spec, const char *query,
				  const struct read_range *range, struct read_stream **out,
				  struct sl_error *err);
		/* The next row: 1 with cells[0..ncols) valid until the next call, 0 at
		 * the end, -1 with err. *bytes grows by the bytes the row took. A row
		 * with a value the driver will not hand on as it is (SQLite: a stored
		 * value whose class does not fit its declared type) is -1 with
		 * err->kind SL_ERR_INPUT and cells set: a reject, and reading goes on. */
		int (*read_row)(struct read_stream *s, struct cell **cells, int *ncols,
				unsigned long long *bytes, struct sl_error *err);
		void (*close_read)(struct read_stream *s);
	} read;
};

extern const struct driver pg_driver;
extern const struct driver mysql_driver;
extern const struct driver sqlite_driver;

/* The driver for a URL's scheme (any case: postgresql://, postgres://,
 * mysql://, mariadb://, sqlite:), or NULL. The registry in src/db/driver.c
 * is the one list of servers; the URL check and --help read it too. */
const struct driver *driver_for_url(const char *url);
/* Every scheme sluice knows (without ':'), primary ones first of their
 * server; *out points at a static list. Returns how many (at most max). */
int driver_schemes(const char *const **out, size_t max);
/* "postgresql://, mysql:// or sqlite:" into out (always NUL-terminated):
 * what a URL must start with, for messages. */
void driver_url_forms(char *out, size_t n);
/* Set err (SL_ERR_USAGE) to "<url, redacted>: not a postgresql://, mysql://
 * or sqlite: URL", for a URL driver_for_url knows no driver of; false. */
bool driver_unknown_url(const char *url, struct sl_error *err);
/* One line per server, "  <its URL form>\n", for --help, into out. */
void driver_url_help(char *out, size_t n);
const char *method_name(enum write_method m);
/* The smallest and largest value of integer column key in spec's table
 * (own rows only with spec->own_rows), read on c, and with rows non-NULL
 * the number of rows; *empty when there are no bounds to cut ranges by:
 * no rows, a NULL key (SQLite allows one in a PRIMARY KEY), or a bound
 * that is not a long long (SQLite keeps text, a REAL or a blob in an
 * INTEGER column; a MySQL bigint unsigned passes 2^63), the last two said
 * in the log: the table is then read whole. False with err. */
bool driver_key_bounds(struct conn *c, const struct write_spec *spec, const char *key,
		       unsigned long long *rows, bool *empty, long long *lo, long long *hi,
		       struct sl_error *err);

#endif
