/* include/sluice/mysql_internal.h
 * The MySQL/MariaDB driver's shared state, inside src/db/mysql*.c only:
 * mysql.c is the driver table and the statements any caller runs,
 * mysql_conn.c the connection (options, connect, cancel, errors),
 * mysql_tx.c XA or plain transactions and commit, mysql_write.c INSERT and
 * LOAD DATA, mysql_update.c updates through a staging table,
 * mysql_catalog.c the catalog reads, mysql_read.c snapshots and reading rows.
 */
#ifndef SLUICE_MYSQL_INTERNAL_H
#define SLUICE_MYSQL_INTERNAL_H

#include <mysql.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sluice/buf.h"
#include "sluice/convert.h"
#include "sluice/driver.h"
#include "sluice/error.h"
#include "sluice/signals.h"

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

/* Statements of exec_params kept prepared per connection (--resume's
 * checkpoint statements, the same few each batch). */
#define MY_KEPT_STATEMENTS 6

/* The most booleans one run of rows in infile_read_csv patches. */
#define INFILE_PATCHES 256

/* The rows a LOAD DATA statement is reading, for the infile callbacks. */
struct infile_state {
	const struct batch *b;
	size_t next, end; /* rows still to send */
	size_t first;	  /* numbered: each line starts with next - first */
	bool numbered;
	size_t pos; /* bytes of conn->data already handed over */
	/* csv: the rows go as their CSV text in the batch's dialect
	 * (mysql_load_csv_sql); src, src_len: bytes still to hand over, in
	 * the batch's text or in conn->data */
	bool csv;
	const char *src;
	size_t src_len;
	bool failed;
	bool interrupted; /* a signal stopped it */
	/* a run of rows handed over at once: its booleans to write over the
	 * copy, each as its digit after zeros (same length as the text's) */
	struct infile_patch {
		uint32_t at; /* from the run's first byte */
		uint32_t len;
		char digit;
	} patch[INFILE_PATCHES];
};

struct conn {
	const struct driver *drv; /* first: see conn_driver */
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
	/* exec_params' statements, prepared once each (kept_next: the one
	 * to give up next) */
	struct prepared kept[MY_KEPT_STATEMENTS];
	int kept_next;
	char *stage_key;    /* table and columns the staging table is made for */
	int single_existed; /* a lone upsert row's key was there: 1, 0, -1 unknown */
	bool no_stage;	    /* no temporary tables allowed: one UPDATE per row */
	MYSQL_BIND *binds;
	unsigned long *lens;
	struct cell *vals; /* a statement's values after conversion */
	size_t nparams_cap;
	/* column conversions for the table last written */
	char *types_key;
	enum convert_kind *kinds;
	int *kind_cols; /* the columns that have a kind, in order (none: 0) */
	int nkind_cols;
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
	bool each_ready;      /* write_each raised max_error_count */
#ifdef SLUICE_TEST_HOOKS
	/* test builds only (SLUICE_FAULT_LOSE_COMMIT=N): the reply of this
	 * connection's N-th plain COMMIT is lost, the connection cut right
	 * after sending it */
	long fault_commit, ncommits;
	long fault_late; /* SLUICE_FAULT_LATE_COMMIT (my_commit) */
#endif
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

/* src/db/mysql.c */
bool my_query_row(struct conn *c, const char *sql, char **out, int n, struct sl_error *err);

/* src/db/mysql_conn.c */
bool my_is_connection_errno(unsigned code);
bool my_harmless_warning(unsigned code);
bool my_fail(struct conn *c, const char *what, struct sl_error *err);
bool my_stmt_fail(struct conn *c, MYSQL_STMT *st, const char *what, struct sl_error *err);
/* Fill err as my_fail does, from an error code and message in hand (one
 * SHOW WARNINGS listed, say); false. */
bool my_fail_code(struct conn *c, unsigned code, const char *msg, const char *sqlstate,
		  const char *what, struct sl_error *err);
void my_prepared_clear(struct prepared *p);
void my_close(struct conn *c);
int my_socket_of(MYSQL *my);
int my_real_query(struct conn *c, const char *sql, size_t len);
int my_text_query(struct conn *c, const char *sql);
int my_stmt_prepare(struct conn *c, MYSQL_STMT *st, const char *sql, size_t len);
int my_stmt_execute(struct conn *c, MYSQL_STMT *st);
bool my_run_query(struct conn *c, const char *sql, const char *what, struct sl_error *err);
MYSQL_RES *my_store_query(struct conn *c, const char *what, struct sl_error *err);
long my_query_number(struct conn *c, const char *sql);
bool my_connect(const char *url, const struct conn_options *opts, struct conn **out,
		struct sl_error *err);
bool my_exec(struct conn *c, const char *sql, struct sl_error *err);
bool my_server_version(struct conn *c, char *out, size_t n, struct sl_error *err);
bool my_healthy(struct conn *c, bool ask_server);
bool my_identity(struct conn *c, char *out, size_t n, struct sl_error *err);
void my_session_name(struct conn *c, char *out, size_t n);

/* src/db/mysql_tx.c */
bool my_begin(struct conn *c, struct sl_error *err);
bool my_commit(struct conn *c, struct sl_error *err);
bool my_rollback(struct conn *c, struct sl_error *err);
int my_commit_token(struct conn *c, char *out, size_t n);
const char *my_commit_mode(const struct conn *c);
bool my_commit_status(struct conn *c, const char *token, bool *committed, struct sl_error *err);
bool my_end_session(struct conn *c, const char *token, struct sl_error *err);
bool my_count_keys(struct conn *c, const struct write_spec *spec, const struct batch *b,
		   size_t first, size_t n, unsigned long long *count, struct sl_error *err);
bool my_job_lock_hold(struct conn *c, struct sl_error *err);
bool my_job_lock_try(struct conn *c, uint64_t key, bool *held, struct sl_error *err);

/* src/db/mysql_write.c */
/* The strict INSERT of rows [first, first+n) of b (write_batch's). */
bool my_write_insert(struct conn *c, const struct write_spec *spec, const struct batch *b,
		     size_t first, size_t n, struct write_count *out, struct sl_error *err);
/* LOAD DATA of rows [first, first+n) of b, its warnings refusing it. */
bool my_write_infile(struct conn *c, const struct write_spec *spec, const struct batch *b,
		     size_t first, size_t n, struct sl_error *err);
/* driver.write.takes_csv: LOAD DATA, no conflict clause, no update. */
bool my_takes_csv(const struct write_spec *spec);
/* LOAD DATA of those rows, its warnings left for the caller to read. */
bool my_load_unchecked(struct conn *c, const struct write_spec *spec, const struct batch *b,
		       size_t first, size_t n, struct sl_error *err);
/* INSERT IGNORE of those rows in statements under the packet limits; after
 * each, after(ctx, row0, k) reads its warnings (rows [row0, row0+k) of b). */
bool my_insert_probe(struct conn *c, const struct write_spec *spec, const struct batch *b,
		     size_t first, size_t n,
		     bool (*after)(void *ctx, size_t row0, size_t k, struct sl_error *err),
		     void *ctx, struct sl_error *err);
/* src/db/mysql_each.c */
bool my_write_each(struct conn *c, const struct write_spec *spec, const struct batch *b,
		   size_t first, size_t n, char **refused, size_t *written, struct sl_error *err);
int my_infile_init(void **ptr, const char *filename, void *userdata);
void my_infile_end(void *ptr);
int my_infile_error(void *ptr, char *msg, unsigned int len);
struct cell my_convert_cell(struct conn *c, int col, struct cell v, char **scratch);
int my_infile_read(void *ptr, char *dst, unsigned int len);
bool my_ensure_kinds(struct conn *c, const struct write_spec *spec, struct sl_error *err);
bool my_reserve_params(struct conn *c, size_t np, struct sl_error *err);
bool my_prepare_sql(struct conn *c, struct prepared *p, const char *what, struct sl_error *err);
bool my_check_warnings(struct conn *c, bool skip_duplicates, const char *what,
		       struct sl_error *err);
bool my_execute_stmt(struct conn *c, struct prepared *p, const struct cell *vals, size_t np,
		     bool skip_duplicates, const char *what, struct sl_error *err);
bool my_check_exact(struct conn *c, const struct write_spec *spec, const struct batch *b,
		    size_t first, size_t n, struct sl_error *err);
bool my_write_generated(struct conn *c, const struct write_spec *spec, const struct batch *b,
			size_t first, size_t n, int key, char (*ids)[SQL_ID_BYTES],
			struct write_count *out, struct sl_error *err);
bool my_write_batch(struct conn *c, const struct write_spec *spec, const struct batch *b,
		    size_t first, size_t n, struct write_count *out, struct sl_error *err);

/* src/db/mysql_update.c */
bool my_update_batch(struct conn *c, const struct write_spec *spec, const struct batch *b,
		     size_t first, size_t n, unsigned *matched, struct sl_error *err);
/* An upsert of rows [first, first+n) by spec's key alone
 * (spec->upsert_by_key): the rows the key finds updated, the others
 * inserted, a collision on another unique index refused. */
bool my_upsert_by_key(struct conn *c, const struct write_spec *spec, const struct batch *b,
		      size_t first, size_t n, struct write_count *out, struct sl_error *err);
/* The SL_ERR_DATA error of a delta that met a NULL in the table; false. */
bool my_null_add_error(struct sl_error *err);
/* With --add (and NULLs not counting as 0): an SL_ERR_DATA error when a
 * row of the table with the key of one of rows [first, first+n) has a NULL
 * in an --add column, after the deltas went in. */
bool my_refuse_null_adds(struct conn *c, const struct write_spec *spec, const struct batch *b,
			 size_t first, size_t n, struct sl_error *err);

/* src/db/mysql_catalog.c */
bool my_put_literal(struct conn *c, const char *s);
bool my_describe_table(struct conn *c, const struct write_spec *spec, struct table_desc *out,
		       struct sl_error *err);
bool my_put_schema_match(struct conn *c, const char *column, const char *schema);
bool my_describe_schema(struct conn *c, const char *schema, struct schema_desc *out,
			struct sl_error *err);
bool my_describe_full(struct conn *c, const struct write_spec *spec, struct table_desc *out,
		      struct sl_error *err);
bool my_probe_fields(struct conn *c, const char *sql, MYSQL_RES **res, struct sl_error *err);
bool my_query_columns(struct conn *c, const char *query, char ***names, int *n,
		      struct sl_error *err);
bool my_max_length(struct conn *c, const struct write_spec *spec, const struct column_desc *col,
		   long *out, struct sl_error *err);

/* src/db/mysql_read.c */
bool my_snapshot(struct conn *c, struct sl_error *err);
bool my_snapshot_end(struct conn *c, struct sl_error *err);
bool my_hold_still(struct conn *c, struct sl_error *err);
void my_let_go(struct conn *c);
bool my_open_read(struct conn *c, const struct write_spec *spec, const char *query,
		  const struct read_range *range, struct read_stream **out, struct sl_error *err);
int my_read_row(struct read_stream *s, struct cell **cells, int *ncols, unsigned long long *bytes,
		struct sl_error *err);
void my_close_read(struct read_stream *s);

#endif
