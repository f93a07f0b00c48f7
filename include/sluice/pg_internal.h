/* include/sluice/pg_internal.h
 * The PostgreSQL driver's shared state, inside src/db/pg*.c only: pg.c is
 * the driver table and the statements any caller runs, pg_conn.c the
 * connection (connect, waits, cancel, errors), pg_tx.c transactions and
 * commit, pg_write.c COPY, INSERT and UPDATE, pg_catalog.c the catalog
 * reads, pg_read.c snapshots and reading rows.
 */
#ifndef SLUICE_PG_INTERNAL_H
#define SLUICE_PG_INTERNAL_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>

#include "sluice/buf.h"
#include "sluice/driver.h"
#include "sluice/error.h"

/* The column types whose values COPY may carry in binary (pg_binary.c). */
enum pg_bin_kind {
	PG_BIN_NONE,
	PG_BIN_TEXT,
	PG_BIN_BOOL,
	PG_BIN_INT2,
	PG_BIN_INT4,
	PG_BIN_INT8,
	PG_BIN_FLOAT8,
	PG_BIN_NUMERIC,
	PG_BIN_DATE,
	PG_BIN_TIMESTAMP,
};

struct conn {
	const struct driver *drv; /* first: see conn_driver */
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
	/* the same with their modifiers (varchar(5), numeric(6,2)): what a
	 * value assigned to the column is checked against */
	char **full_types;
	int ntypes;
	int *exact;	 /* per column: what it would round (convert_exact_rule_for_pg) */
	int *exact_cols; /* the columns that have one, in order */
	int nexact_cols;
	/* per column: a type with a modifier whose changes no rule here
	 * tells (interval(2), interval year to month), which the server is
	 * asked about (server_changed_rows); NULL for the others */
	char **server_types;
	int nserver_cols;
	bool key_indexed; /* the update's key has a unique index */
	/* per column: how COPY's binary format carries its values
	 * (pg_binary.c); bin_cols: every column has a way */
	enum pg_bin_kind *bin_kinds;
	bool bin_cols;
	/* the transaction id of the last COMMIT sent, the server process that
	 * ran it (pg_backend_pid(): through a pooler PQbackendPID is the
	 * pooler's own key, no process), and whether its reply was lost */
	char xid[32];
	int xid_pid;
	bool commit_in_doubt;
	/* pg_begin began a transaction the server has not heard of yet: its
	 * BEGIN goes with the first statement (begin_pending); xid_wanted: it
	 * went, and its SELECT of the transaction's id is still to be read */
	bool begin_pending;
	bool xid_wanted;
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

/* src/db/pg_binary.c: the kind of a column of type (format_type's text);
 * the format's header and trailer; row as one tuple after o's end: 1, or
 * 0 when one of its values is not one carried in binary (o unchanged), -1
 * out of memory. padded: ARENA_PAD bytes can be read past each value
 * (batch.values_padded). */
enum pg_bin_kind pg_bin_kind_of(const char *type);
bool pg_bin_header(struct buf *o);
bool pg_bin_trailer(struct buf *o);
int pg_bin_row(struct buf *o, const enum pg_bin_kind *kinds, const struct cell *row, int ncols,
	       bool padded);

/* src/db/pg.c */
bool pg_query_row(struct conn *c, const char *sql, char **out, int n, struct sl_error *err);

/* src/db/pg_conn.c */
bool pg_fail(struct conn *c, PGresult *res, const char *what, struct sl_error *err);
double pg_mono_now(void);
void pg_cancel(struct conn *c);
PGresult *pg_result(struct conn *c);
PGresult *pg_run(struct conn *c, const char *sql);
PGresult *pg_run_params(struct conn *c, const char *sql, int n, const char *const *params);
PGresult *pg_run_prepared(struct conn *c, const char *name, int n, const char *const *params);
PGresult *pg_run_prepare(struct conn *c, const char *name, const char *sql);
int pg_put_copy(struct conn *c, const char *data, size_t len);
int pg_put_copy_end(struct conn *c, const char *errmsg);
int pg_get_copy(struct conn *c, char **line);
void pg_close(struct conn *c);
bool pg_connect(const char *url, const struct conn_options *opts, struct conn **out,
		struct sl_error *err);
bool pg_exec(struct conn *c, const char *sql, struct sl_error *err);
bool pg_server_version(struct conn *c, char *out, size_t n, struct sl_error *err);
bool pg_healthy(struct conn *c, bool ask_server);
bool pg_every_row_condition(struct buf *b);
bool pg_identity(struct conn *c, char *out, size_t n, struct sl_error *err);
void pg_session_name(struct conn *c, char *out, size_t n);

/* src/db/pg_tx.c */
bool pg_begin(struct conn *c, struct sl_error *err);
bool pg_begin_now(struct conn *c);
void pg_note_xid(struct conn *c, PGresult *res);
PGresult *pg_run_first(struct conn *c, const char *sql);
bool pg_in_transaction(struct conn *c);
bool pg_commit(struct conn *c, struct sl_error *err);
int pg_commit_token(struct conn *c, char *out, size_t n);
const char *pg_commit_mode(const struct conn *c);
bool pg_commit_status(struct conn *c, const char *token, bool *committed, struct sl_error *err);
bool pg_rollback(struct conn *c, struct sl_error *err);
bool pg_job_lock_hold(struct conn *c, struct sl_error *err);
bool pg_job_lock_try(struct conn *c, uint64_t key, bool *held, struct sl_error *err);

/* src/db/pg_write.c */
bool pg_write_generated(struct conn *c, const struct write_spec *spec, const struct batch *b,
			size_t first, size_t n, int key, char (*ids)[SQL_ID_BYTES],
			struct write_count *out, struct sl_error *err);
/* driver.write.takes_csv: COPY, no conflict clause, no update. */
bool pg_takes_csv(const struct write_spec *spec);
bool pg_write_batch(struct conn *c, const struct write_spec *spec, const struct batch *b,
		    size_t first, size_t n, struct write_count *out, struct sl_error *err);
bool pg_write_each(struct conn *c, const struct write_spec *spec, const struct batch *b,
		   size_t first, size_t n, char **refused, size_t *written, struct sl_error *err);
bool pg_update_batch(struct conn *c, const struct write_spec *spec, const struct batch *b,
		     size_t first, size_t n, unsigned *matched, struct sl_error *err);

/* src/db/pg_catalog.c */
bool pg_query_rows(struct conn *c, const char *q, int nparams, const char *const *params,
		   const char *what, PGresult **res, struct sl_error *err);
bool pg_describe_table(struct conn *c, const struct write_spec *spec, struct table_desc *out,
		       struct sl_error *err);
bool pg_describe_schema(struct conn *c, const char *schema, struct schema_desc *out,
			struct sl_error *err);
bool pg_describe_full(struct conn *c, const struct write_spec *spec, struct table_desc *out,
		      struct sl_error *err);
bool pg_query_columns(struct conn *c, const char *query, char ***names, int *n,
		      struct sl_error *err);
bool pg_max_length(struct conn *c, const struct write_spec *spec, const struct column_desc *col,
		   long *out, struct sl_error *err);

/* src/db/pg_read.c */
bool pg_snapshot(struct conn *c, struct sl_error *err);
bool pg_snapshot_end(struct conn *c, struct sl_error *err);
bool pg_export_snapshot(struct conn *c, char *id, size_t n, struct sl_error *err);
bool pg_snapshot_at(struct conn *c, const char *id, struct sl_error *err);
bool pg_open_read(struct conn *c, const struct write_spec *spec, const char *query,
		  const struct read_range *range, struct read_stream **out, struct sl_error *err);
int pg_read_row(struct read_stream *s, struct cell **cells, int *ncols, unsigned long long *bytes,
		struct sl_error *err);
void pg_close_read(struct read_stream *s);

#endif
