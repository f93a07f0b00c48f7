/* src/pipeline/load.c
 * The load pipeline: the reader (this thread) fills batches and hands them
 * through a bounded queue to --workers writer threads; each writer takes a
 * connection from the pool for a batch, writes it in its own transaction and
 * gives the connection back. A batch the server refuses is rolled back and
 * retried in halves until the bad rows are isolated; a batch whose
 * connection broke is retried whole on a fresh one. Memory is bounded by the
 * number of batches in flight, never by the input.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "sluice/create.h"
#include "sluice/driver.h"
#include "sluice/job.h"
#include "sluice/log.h"
#include "sluice/pool.h"
#include "sluice/queue.h"
#include "sluice/rejects.h"
#include "sluice/report.h"
#include "sluice/signals.h"
#include "sluice/url.h"

struct load {
	const struct job *job;
	const struct driver *drv;
	struct pool *pool;
	struct conn *single_conn; /* --single-transaction: held for the whole run */
	struct write_spec spec;
	char *schema, *table;
	char **columns;           /* the target columns, in record order (owned) */
	int ncols;
	struct rejects *rejects;
	struct live_stats live;

	struct queue work;        /* full batches for the writers */
	struct queue spare;       /* empty batches for the reader */
	struct batch *batches;
	int nbatches;

	struct sl_error input_err; /* the input broke off (READ_FAIL) */
	bool input_failed;

	pthread_mutex_t lock;     /* guards err and failed */
	struct sl_error err;      /* the error that stopped the run */
	bool failed;
	bool limit_hit;           /* --max-errors reached */
};

/* Stop the run with err (the first error wins) and wake everyone. */
static void fail_run(struct load *ld, const struct sl_error *err)
{
	pthread_mutex_lock(&ld->lock);
	if (!ld->failed) {
		ld->failed = true;
		ld->err = *err;
	}
	pthread_mutex_unlock(&ld->lock);
	queue_abort(&ld->work);
	queue_abort(&ld->spare);
}

static bool run_failed(struct load *ld)
{
	pthread_mutex_lock(&ld->lock);
	bool f = ld->failed;
	pthread_mutex_unlock(&ld->lock);
	return f;
}

static bool stopping(struct load *ld)
{
	return signals_caught() || run_failed(ld);
}

/* The table a file loads into when --table is absent: its name without
 * directories or extensions ("data/users.csv.gz" -> "users"). */
static char *table_from_path(const char *path)
{
	const char *base = strrchr(path, '/');
	base = base ? base + 1 : path;
	size_t n = strcspn(base, ".");
	return n ? strndup(base, n) : NULL;
}

/* A CSV header line for the rejects file, quoting names where needed. */
static char *header_line(char *const *names, int n, char delim)
{
	struct buf b;
	buf_init(&b, 0);
	for (int i = 0; i < n; i++) {
		if (i)
			buf_putc(&b, delim);
		if (strpbrk(names[i], "\"\n\r") || strchr(names[i], delim)) {
			buf_putc(&b, '"');
			for (const char *p = names[i]; *p; p++) {
				if (*p == '"')
					buf_putc(&b, '"');
				buf_putc(&b, *p);
			}
			buf_putc(&b, '"');
		} else {
			buf_puts(&b, names[i]);
		}
	}
	return b.data ? b.data : strdup("");
}

/* Count one rejected record; stops the run past --max-errors. */
static void count_reject(struct load *ld, const char *source, long line, const char *raw,
			 size_t raw_len, const char *reason)
{
	rejects_add(ld->rejects, source, line, raw, raw_len, reason);
	uint64_t n = atomic_fetch_add(&ld->live.rows_rejected, 1) + 1;
	if (ld->job->max_errors >= 0 && n > (uint64_t)ld->job->max_errors) {
		struct sl_error err;
		sl_error_set(&err, SL_ERR_DATA, "stopped after %llu rejected rows (--max-errors %ld)",
			     (unsigned long long)n, ld->job->max_errors);
		pthread_mutex_lock(&ld->lock);
		ld->limit_hit = true;
		pthread_mutex_unlock(&ld->lock);
		fail_run(ld, &err);
	}
}

/* Take a connection for a batch (the run's one connection with
 * --single-transaction). */
static bool get_conn(struct load *ld, struct conn **c, struct sl_error *err)
{
	if (ld->single_conn) {
		*c = ld->single_conn;
		return true;
	}
	return pool_acquire(ld->pool, c, err);
}

static void put_conn(struct load *ld, struct conn *c, bool broken)
{
	if (c && c != ld->single_conn)
		pool_release(ld->pool, c, broken);
}

/* Write rows [first, first+n) of b on *c (acquiring one when NULL). Refused
 * values bisect; a broken connection retries on a fresh one. Returns false
 * when the run must stop (the reason is recorded by fail_run). */
static bool write_range(struct load *ld, struct conn **c, const struct batch *b, size_t first,
			size_t n);

/* Write rows [first, first+n) of b. With --defaults some cells stand for
 * "the column default": rows are grouped by which columns they have, and
 * each group is written naming only those columns, so the server fills in
 * the defaults. All groups go into the caller's one transaction. */
static bool write_rows(struct load *ld, struct conn *c, const struct batch *b, size_t first,
		       size_t n, struct sl_error *err)
{
	if (!b->has_defaults)
		return ld->drv->write_batch(c, &ld->spec, b, first, n, err);
	int ncols = b->ncols;
	bool *done = calloc(n, sizeof *done);
	struct batch view = { .cap_rows = n, .seq = b->seq };
	view.cells = malloc(n * (size_t)ncols * sizeof *view.cells);
	view.meta = malloc(n * sizeof *view.meta);
	char **names = malloc((size_t)ncols * sizeof *names);
	int *idx = malloc((size_t)ncols * sizeof *idx);
	bool ok = done && view.cells && view.meta && names && idx;
	if (!ok)
		sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
	for (size_t i = 0; ok && i < n; i++) {
		if (done[i])
			continue;
		const struct cell *ri = batch_row(b, first + i);
		int k = 0;
		for (int col = 0; col < ncols; col++)
			if (!cell_is_default(&ri[col])) {
				idx[k] = col;
				names[k++] = ld->spec.columns[col];
			}
		if (k == 0) {
			ok = false;
			sl_error_set(err, SL_ERR_DATA, "the record has none of the table's columns");
			break;
		}
		view.ncols = k;
		view.nrows = 0;
		for (size_t j = i; j < n; j++) {
			const struct cell *rj = batch_row(b, first + j);
			bool same = !done[j];
			for (int col = 0; same && col < ncols; col++)
				same = cell_is_default(&rj[col]) == cell_is_default(&ri[col]);
			if (!same)
				continue;
			for (int t = 0; t < k; t++)
				view.cells[view.nrows * (size_t)k + (size_t)t] = rj[idx[t]];
			view.meta[view.nrows++] = b->meta[first + j];
			done[j] = true;
		}
		struct write_spec sub = ld->spec;
		sub.columns = names;
		sub.ncols = k;
		ok = ld->drv->write_batch(c, &sub, &view, 0, view.nrows, err);
	}
	free(done);
	free(view.cells);
	free(view.meta);
	free(names);
	free(idx);
	return ok;
}

/* sluice update: the per-row "found" flags of one write, or NULL for a load. */
static bool *matched_flags(struct load *ld, size_t n, bool *oom)
{
	*oom = false;
	if (!ld->spec.update)
		return NULL;
	bool *m = calloc(n ? n : 1, sizeof *m);
	*oom = m == NULL;
	return m;
}

static bool write_range_flags(struct load *ld, struct conn **c, const struct batch *b,
			      size_t first, size_t n, bool *matched);

static bool write_range(struct load *ld, struct conn **c, const struct batch *b, size_t first,
			size_t n)
{
	bool oom;
	bool *matched = matched_flags(ld, n, &oom);
	if (oom) {
		struct sl_error err;
		sl_error_set(&err, SL_ERR_INTERNAL, "out of memory");
		fail_run(ld, &err);
		return false;
	}
	bool ok = write_range_flags(ld, c, b, first, n, matched);
	free(matched);
	return ok;
}

/* Count a committed write of rows [first, first+n); for sluice update, rows
 * whose key matched nothing are reported as not found. */
static void count_written(struct load *ld, const struct batch *b, size_t first, size_t n,
			  const bool *matched)
{
	size_t written = n;
	for (size_t i = 0; matched && i < n; i++) {
		if (matched[i])
			continue;
		const struct row_meta *m = &b->meta[first + i];
		rejects_add(ld->rejects, ld->job->sources[m->source], m->line, m->raw, m->raw_len,
			    "not found: no row matches the key");
		atomic_fetch_add(&ld->live.rows_not_found, 1);
		written--;
	}
	atomic_fetch_add(&ld->live.rows_written, written);
}

/* The connection broke while COMMIT was on its way: the batch may or may not
 * be in. Ask the server on a fresh connection (*c) rather than guess, so it
 * is neither lost nor written twice. Returns 1 committed, 0 not committed
 * (retry), -1 cannot tell (the run stops, err set). */
static int lost_commit_outcome(struct load *ld, struct conn **c, const struct batch *b,
			       struct sl_error *err)
{
	const struct driver *drv = ld->drv;
	char token[64];
	bool in_doubt = !drv->commit_token || drv->commit_token(*c, token, sizeof token);
	put_conn(ld, *c, true);
	*c = NULL;
	if (!in_doubt)
		return 0; /* the commit never left: rolled back with the connection */
	if (!drv->commit_token) {
		sl_error_set(err, SL_ERR_CONNECTION,
			     "batch %ld: the connection broke while committing and %s cannot tell "
			     "whether the commit happened; stopping rather than risk writing it twice",
			     b->seq, drv->name);
		return -1;
	}
	bool committed = false;
	if (!get_conn(ld, c, err) || !drv->commit_status(*c, token, &committed, err))
		return -1;
	log_warn("batch %ld: the connection broke during COMMIT; the server says it %s", b->seq,
		 committed ? "committed" : "did not commit (retrying)");
	return committed ? 1 : 0;
}

static bool write_range_flags(struct load *ld, struct conn **c, const struct batch *b,
			      size_t first, size_t n, bool *matched)
{
	const struct driver *drv = ld->drv;
	bool single = ld->single_conn != NULL;
	int conn_failures = 0, conflicts = 0;
	for (;;) {
		struct sl_error err;
		sl_error_clear(&err);
		if (!*c && !get_conn(ld, c, &err)) {
			fail_run(ld, &err);
			return false;
		}
		if (matched)
			memset(matched, 0, n * sizeof *matched);
		bool wrote = (single || drv->begin(*c, &err)) &&
			     (matched ? drv->update_batch(*c, &ld->spec, b, first, n, matched, &err)
				      : write_rows(ld, *c, b, first, n, &err));
		if (wrote && signals_caught()) {
			/* interrupted: this batch is rolled back, not committed */
			struct sl_error rb;
			if (!single && !drv->rollback(*c, &rb)) {
				put_conn(ld, *c, true);
				*c = NULL;
			}
			return false;
		}
		if (wrote && (single || drv->commit(*c, &err))) {
			count_written(ld, b, first, n, matched);
			return true;
		}
		if (wrote && !single && err.kind == SL_ERR_CONNECTION) {
			int outcome = lost_commit_outcome(ld, c, b, &err);
			if (outcome == 1) {
				count_written(ld, b, first, n, matched);
				return true;
			}
			if (outcome < 0) {
				fail_run(ld, &err);
				return false;
			}
			if (conn_failures++ < ld->job->retries && !signals_caught())
				continue; /* it was rolled back: write it again */
			fail_run(ld, &err);
			return false;
		}
		if (err.kind == SL_ERR_CONNECTION && !single) {
			/* the server rolled the batch back with the connection */
			put_conn(ld, *c, true);
			*c = NULL;
			if (conn_failures++ < ld->job->retries && !signals_caught()) {
				log_warn("batch %ld: %s; retrying on a fresh connection (%d of %d)", b->seq,
					 err.msg, conn_failures, ld->job->retries);
				continue;
			}
			fail_run(ld, &err);
			return false;
		}
		if (err.kind == SL_ERR_RETRY && !single && conflicts++ < 20 && !signals_caught()) {
			/* a deadlock between writers: the server rolled back; try again */
			struct sl_error rb;
			if (!drv->rollback(*c, &rb)) {
				put_conn(ld, *c, true);
				*c = NULL;
			}
			log_debug("batch %ld: %s; retrying", b->seq, err.msg);
			struct timespec ts = { 0, (long)(rand() % 50 + 10) * 1000 * 1000 };
			nanosleep(&ts, NULL);
			continue;
		}
		if (single || err.kind != SL_ERR_DATA) {
			fail_run(ld, &err);
			return false;
		}
		struct sl_error rb;
		if (!drv->rollback(*c, &rb)) {
			put_conn(ld, *c, true);
			*c = NULL;
		}
		if (n == 1) {
			const struct row_meta *m = &b->meta[first];
			count_reject(ld, ld->job->sources[m->source], m->line, m->raw, m->raw_len,
				     err.msg);
			return !run_failed(ld);
		}
		size_t half = n / 2;
		return write_range(ld, c, b, first, half) &&
		       write_range(ld, c, b, first + half, n - half);
	}
}

static void *writer_main(void *arg)
{
	struct load *ld = arg;
	void *item;
	while (queue_pop(&ld->work, &item)) {
		struct batch *b = item;
		if (!stopping(ld)) {
			struct conn *c = NULL;
			write_range(ld, &c, b, 0, b->nrows);
			put_conn(ld, c, false);
		}
		batch_reset(b);
		queue_push(&ld->spare, b);
	}
	return NULL;
}

/* Decide the target columns from --columns, the header, or the table. */
static bool resolve_columns(struct load *ld, struct reader *r, struct sl_error *err)
{
	const struct job *job = ld->job;
	char *const *names = job->ncolumns ? job->columns : r->header;
	int n = job->ncolumns ? job->ncolumns : r->nheader;
	struct table_desc td = { 0 };
	if (!n) {
		struct conn *c;
		if (!ld->pool && !ld->single_conn)
			return sl_error_set(err, SL_ERR_USAGE,
					    "no header and no --columns: name the columns with --columns");
		if (!get_conn(ld, &c, err))
			return false;
		bool ok = ld->drv->describe_table(c, &ld->spec, &td, err);
		put_conn(ld, c, !ok && err->kind == SL_ERR_CONNECTION);
		if (!ok)
			return false;
		if (!td.exists && job->create && r->ops->sample_columns) {
			/* --create from JSON: the keys of the first records name the
			 * columns (they are read again by next()) */
			table_desc_free(&td);
			if (!r->ops->sample_columns(r, job->batch_rows, err))
				return false;
			names = r->header;
			n = r->nheader;
			if (!n)
				return sl_error_set(err, SL_ERR_USAGE,
						    "--create: the input has no keys to name columns after");
		} else if (!td.exists) {
			table_desc_free(&td);
			return sl_error_set(err, SL_ERR_USAGE,
					    "table %s does not exist (and the input names no columns)",
					    ld->table);
		} else {
			n = td.ncols;
		}
	}
	ld->columns = calloc((size_t)n, sizeof *ld->columns);
	if (!ld->columns) {
		table_desc_free(&td);
		return sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
	}
	for (int i = 0; i < n; i++) {
		ld->columns[i] = strdup(td.exists ? td.cols[i].name : names[i]);
		if (!ld->columns[i]) {
			table_desc_free(&td);
			return sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
		}
		ld->ncols = i + 1;
	}
	table_desc_free(&td);
	ld->spec.columns = ld->columns;
	ld->spec.ncols = ld->ncols;
	return true;
}

/* Print the statements a real run would send. */
static void print_dry_run(struct load *ld)
{
	struct buf b;
	buf_init(&b, 0);
	const struct dialect *d = ld->drv->dialect;
	if (ld->job->truncate) {
		sql_truncate(d, &b, &ld->spec);
		buf_puts(&b, ";\n");
	}
	if (ld->spec.update) {
		buf_puts(&b, "-- one statement per row or per group of rows, values sent as parameters\n");
		sql_update_row(d, &b, &ld->spec);
		buf_puts(&b, ";\n");
	} else if ((ld->spec.method == METHOD_COPY || ld->spec.method == METHOD_INFILE) &&
		   ld->spec.on_conflict == CONFLICT_ERROR) {
		d->bulk_load(&b, &ld->spec);
		buf_puts(&b, ";\n");
	} else {
		size_t per = sql_rows_per_statement(d, ld->ncols, ld->spec.batch_rows);
		buf_printf(&b, "-- up to %zu rows per statement, values sent as parameters\n", per);
		sql_insert(d, &b, &ld->spec, 1);
		buf_puts(&b, ";\n");
	}
	fputs(buf_str(&b), stdout);
	fflush(stdout);
	buf_free(&b);
}

/* With --create, create the missing table from the first batch's rows. */
static bool maybe_create(struct load *ld, const struct batch *b, bool *done)
{
	if (*done || !ld->job->create)
		return true;
	*done = true;
	struct sl_error err;
	sl_error_clear(&err);
	struct conn *c = NULL;
	/* inside --single-transaction, DDL that cannot join the transaction
	 * (MySQL) runs on a connection of its own */
	bool own = ld->single_conn && !ld->drv->dialect->transactional_ddl;
	if ((ld->pool || ld->single_conn) &&
	    !(own ? pool_acquire(ld->pool, &c, &err) : get_conn(ld, &c, &err))) {
		fail_run(ld, &err);
		return false;
	}
	bool created = false;
	bool ok = create_table_from_sample(ld->drv, c, &ld->spec, b, ld->job->dry_run, &created, &err);
	if (own)
		pool_release(ld->pool, c, !ok && err.kind == SL_ERR_CONNECTION);
	else
		put_conn(ld, c, !ok && err.kind == SL_ERR_CONNECTION);
	if (!ok) {
		fail_run(ld, &err);
		return false;
	}
	if (created && !ld->job->dry_run)
		log_info("created table %s", ld->table);
	return true;
}

/* Hand a filled batch to the writers (or, in a dry run, just drop it). */
static bool dispatch(struct load *ld, struct batch *b, bool *create_done)
{
	if (!maybe_create(ld, b, create_done))
		return false;
	if (ld->job->dry_run) {
		batch_reset(b);
		return queue_push(&ld->spare, b);
	}
	return queue_push(&ld->work, b);
}

/* Read every record of one source into batches. */
static bool load_source(struct load *ld, struct reader *r, int src_index, struct batch **cur,
			long *seq, bool *create_done)
{
	const char *name = ld->job->sources[src_index];
	uint64_t last_pos = 0; /* the header was read ahead: count from the start */
	for (;;) {
		if (stopping(ld))
			return false;
		struct record rec;
		struct sl_error err;
		sl_error_clear(&err);
		enum read_status st = r->ops->next(r, &rec, &err);
		if (st == READ_EOF)
			break;
		if (st == READ_FAIL) {
			/* the input breaks off here: stop reading, but what came before
			 * it is still written; the run fails after that */
			sl_error_prefix(&err, "%s", name);
			ld->input_err = err;
			ld->input_failed = true;
			return false;
		}
		atomic_fetch_add(&ld->live.rows_read, 1);
		if (st == READ_REJECT) {
			count_reject(ld, name, rec.line, rec.raw, rec.raw_len, err.msg);
			continue;
		}
		if (!*cur) {
			void *item;
			if (!queue_pop(&ld->spare, &item))
				return false;
			*cur = item;
			(*cur)->seq = ++*seq;
		}
		if (!batch_add_row(*cur, &rec, src_index, true)) {
			sl_error_set(&err, SL_ERR_INTERNAL, "%s:%ld: out of memory", name, rec.line);
			fail_run(ld, &err);
			return false;
		}
		if (batch_full(*cur)) {
			uint64_t pos = source_position(r->src);
			(*cur)->bytes = pos - last_pos;
			atomic_fetch_add(&ld->live.bytes, pos - last_pos);
			last_pos = pos;
			struct batch *b = *cur;
			*cur = NULL;
			if (!dispatch(ld, b, create_done))
				return false;
		}
	}
	atomic_fetch_add(&ld->live.bytes, source_position(r->src) - last_pos);
	return true;
}

/* Open source i and check it against the columns fixed by the first. */
static bool open_next_source(struct load *ld, int i, struct reader **r, struct sl_error *err)
{
	const struct job *job = ld->job;
	if (!reader_open(r, job->sources[i], &job->input, err))
		return false;
	if ((*r)->nheader && !job->ncolumns) {
		bool same = (*r)->nheader == ld->ncols;
		for (int c = 0; same && c < ld->ncols; c++)
			same = !strcmp((*r)->header[c], ld->columns[c]);
		if (!same)
			return sl_error_set(err, SL_ERR_USAGE, "%s: its header differs from %s's",
					    job->sources[i], job->sources[0]);
	}
	return (*r)->ops->set_columns(*r, ld->columns, ld->ncols, err);
}

/* Work out table, method and spec from the job; false on a usage error. */
static bool plan(struct load *ld)
{
	const struct job *job = ld->job;
	ld->drv = driver_for_url(job->target);
	if (!ld->drv) {
		char red[512];
		url_redact(job->target, red, sizeof red);
		return sl_error_set(&ld->err, SL_ERR_USAGE, "%s: not a postgresql:// or mysql:// URL",
				    red);
	}
	if (job->table) {
		if (!sql_split_table(job->table, &ld->schema, &ld->table))
			return sl_error_set(&ld->err, SL_ERR_USAGE, "bad table name: %s", job->table);
	} else if (job->nsources == 1 && strcmp(job->sources[0], "-")) {
		ld->table = table_from_path(job->sources[0]);
		if (!ld->table)
			return sl_error_set(&ld->err, SL_ERR_USAGE,
					    "cannot name a table after %s: use --table", job->sources[0]);
	} else {
		return sl_error_set(&ld->err, SL_ERR_USAGE, "name the target table with --table");
	}
	ld->spec.schema = ld->schema;
	ld->spec.table = ld->table;
	ld->spec.method = job->method ? job->method : ld->drv->default_method;
	ld->spec.on_conflict = job->on_conflict;
	ld->spec.key = job->key;
	ld->spec.nkey = job->nkey;
	ld->spec.batch_rows = job->batch_rows;
	if (job->command == CMD_UPDATE) {
		ld->spec.update = true;
		ld->spec.on_conflict = CONFLICT_ERROR;
		ld->spec.set = job->set;
		ld->spec.nset = job->nset;
		ld->spec.method = ld->drv->default_method;
		if (!ld->drv->update_batch)
			return sl_error_set(&ld->err, SL_ERR_USAGE, "sluice update is not available for %s",
					    ld->drv->name);
	}
	if (!ld->drv->supports(ld->spec.method))
		return sl_error_set(&ld->err, SL_ERR_USAGE, "--method %s is not available for %s",
				    method_name(ld->spec.method), ld->drv->name);
	return true;
}

/* Connect: the pool, or the single connection of --single-transaction. */
static bool connect_target(struct load *ld, struct sl_error *err)
{
	const struct job *job = ld->job;
	int workers = job->single_transaction ? 1 : job->workers;
	struct pool_config cfg = {
		.min = job->pool_min,
		/* --single-transaction holds one connection all along; one more
		 * serves DDL that cannot join the transaction */
		.max = job->pool_max ? job->pool_max : workers + (job->single_transaction ? 1 : 0),
		.acquire_timeout = job->acquire_timeout,
		.idle_timeout = job->idle_timeout,
		.retries = job->retries,
		.backoff_base = 0.2,
	};
	if (!pool_create(&ld->pool, ld->drv, job->target, &cfg, err))
		return false;
	if (job->single_transaction) {
		if (!pool_acquire(ld->pool, &ld->single_conn, err))
			return false;
		if (!ld->drv->begin(ld->single_conn, err))
			return false;
	}
	return true;
}

enum run_status load_run(const struct job *job)
{
	struct load ld = { .job = job };
	struct run_report report = { 0 };
	struct table_stats stats = { 0 };
	struct reader *r = NULL;
	struct progress *progress = NULL;
	struct progress_view view = { 0 };
	pthread_t *threads = NULL;
	int nthreads = 0;
	bool queues = false;
	double t0 = now_seconds();
	struct sl_error err;
	sl_error_clear(&err);
	sl_error_clear(&ld.err);
	pthread_mutex_init(&ld.lock, NULL);
	signals_install();

	if (!plan(&ld)) {
		log_error("%s", ld.err.msg);
		free(ld.schema);
		free(ld.table);
		return RUN_USAGE;
	}
	snprintf(stats.table, sizeof stats.table, "%s%s%s", ld.schema ? ld.schema : "",
		 ld.schema ? "." : "", ld.table);
	report.tables = &stats;
	report.ntables = 1;

	if (!rejects_open(&ld.rejects, job->rejects_path, &err) ||
	    !reader_open(&r, job->sources[0], &job->input, &err))
		goto failed;
	view.table = stats.table;
	view.live = &ld.live;
	view.total_bytes = 0;
	for (int i = 0; i < job->nsources; i++) {
		/* the percentage needs every size; a pipe has none */
		struct stat st;
		bool known = strcmp(job->sources[i], "-") && stat(job->sources[i], &st) == 0 &&
			     S_ISREG(st.st_mode);
		if (!known || view.total_bytes < 0)
			view.total_bytes = -1;
		else
			view.total_bytes += (int64_t)st.st_size;
	}
	view.start = t0;
	progress_start(&progress, job->progress, job->stats_interval, job->quiet, &view);

	bool need_describe = !job->ncolumns && !r->nheader;
	if ((!job->dry_run || need_describe) && !connect_target(&ld, &err))
		goto failed;
	progress_set_pool(progress, ld.pool);
	if (!resolve_columns(&ld, r, &err) || !r->ops->set_columns(r, ld.columns, ld.ncols, &err))
		goto failed;
	if (ld.spec.update) {
		int set[ld.ncols], key[ld.ncols], nset, nkey;
		if (!sql_update_columns(&ld.spec, set, &nset, key, &nkey)) {
			sl_error_set(&err, SL_ERR_USAGE, "--key and --set must name columns of the input");
			goto failed;
		}
		if (!nset) {
			sl_error_set(&err, SL_ERR_USAGE, "nothing to update: every input column is a key");
			goto failed;
		}
	}
	if (r->nheader && (r->format == FORMAT_CSV || r->format == FORMAT_TSV)) {
		char delim = job->input.delimiter ? job->input.delimiter
						  : (r->format == FORMAT_TSV ? '\t' : ',');
		char *h = header_line(ld.columns, ld.ncols, delim);
		rejects_set_header(ld.rejects, h);
		free(h);
	}

	/* batches: one per writer plus a queue's worth, all allocated up front */
	int workers = job->single_transaction || job->dry_run ? 1 : job->workers;
	ld.nbatches = workers * 2 + 1;
	ld.batches = calloc((size_t)ld.nbatches, sizeof *ld.batches);
	if (!ld.batches || !queue_init(&ld.work, (size_t)ld.nbatches) ||
	    !queue_init(&ld.spare, (size_t)ld.nbatches)) {
		sl_error_set(&err, SL_ERR_INTERNAL, "out of memory");
		goto failed;
	}
	queues = true;
	for (int i = 0; i < ld.nbatches; i++) {
		if (!batch_init(&ld.batches[i], ld.ncols, job->batch_rows)) {
			sl_error_set(&err, SL_ERR_INTERNAL, "out of memory");
			goto failed;
		}
		queue_push(&ld.spare, &ld.batches[i]);
	}

	if (!job->dry_run && job->truncate) {
		struct buf sql;
		buf_init(&sql, 0);
		struct conn *c = NULL;
		/* inside --single-transaction a TRUNCATE that would commit on its own
		 * (MySQL) becomes a DELETE, so the whole run stays all or nothing */
		bool del = job->single_transaction && !ld.drv->dialect->transactional_ddl;
		bool ok = (del ? buf_puts(&sql, "DELETE FROM ") &&
					 sql_table_name(ld.drv->dialect, &sql, &ld.spec)
			       : sql_truncate(ld.drv->dialect, &sql, &ld.spec)) &&
			  get_conn(&ld, &c, &err) && ld.drv->exec(c, sql.data, &err);
		put_conn(&ld, c, !ok && err.kind == SL_ERR_CONNECTION);
		buf_free(&sql);
		if (!ok)
			goto failed;
	}

	if (!job->dry_run) {
		threads = calloc((size_t)workers, sizeof *threads);
		for (int i = 0; threads && i < workers; i++) {
			if (pthread_create(&threads[i], NULL, writer_main, &ld) != 0)
				break;
			nthreads++;
		}
		if (nthreads == 0) {
			sl_error_set(&err, SL_ERR_INTERNAL, "cannot start the writer threads");
			goto failed;
		}
	}

	/* the reader: this thread */
	struct batch *cur = NULL;
	long seq = 0;
	bool create_done = false;
	for (int i = 0; i < job->nsources && !stopping(&ld); i++) {
		if (i > 0) {
			reader_close(r);
			r = NULL;
			if (!open_next_source(&ld, i, &r, &err)) {
				fail_run(&ld, &err);
				break;
			}
		}
		if (!load_source(&ld, r, i, &cur, &seq, &create_done) || ld.input_failed)
			break;
	}
	if (!stopping(&ld)) {
		/* the last, partial batch (and --create on a small input) */
		if (cur) {
			dispatch(&ld, cur, &create_done);
		} else if (!create_done && job->create) {
			struct batch empty;
			if (batch_init(&empty, ld.ncols, 1)) {
				maybe_create(&ld, &empty, &create_done);
				batch_free(&empty);
			}
		}
		cur = NULL;
	}
	queue_close(&ld.work);
	for (int i = 0; i < nthreads; i++)
		pthread_join(threads[i], NULL);
	nthreads = 0;
	if (ld.input_failed)
		fail_run(&ld, &ld.input_err);
	if (job->dry_run && !ld.failed && !signals_caught())
		print_dry_run(&ld); /* after any CREATE TABLE that --create printed */

	if (ld.single_conn) {
		if (!ld.failed && !signals_caught()) {
			if (!ld.drv->commit(ld.single_conn, &err))
				fail_run(&ld, &err);
		}
		if (ld.failed || signals_caught()) {
			struct sl_error rb;
			ld.drv->rollback(ld.single_conn, &rb);
			atomic_store(&ld.live.rows_written, 0);
		}
		pool_release(ld.pool, ld.single_conn, false);
		ld.single_conn = NULL;
	}
	if (ld.failed) {
		err = ld.err;
		goto failed;
	}
	report.status = signals_caught() ? RUN_INTERRUPTED
		      : ld.live.rows_rejected || ld.live.rows_not_found ? RUN_PARTIAL : RUN_OK;
	if (report.status == RUN_INTERRUPTED) {
		sl_error_set(&err, SL_ERR_INTERNAL, "interrupted by signal %d; batches in flight rolled back",
			     signals_caught());
		log_error("%s", err.msg);
		report_add_error(&report, err.msg);
	}
	goto finish;

failed:
	if (ld.failed && err.kind == SL_ERR_NONE)
		err = ld.err;
	if (queues) {
		queue_abort(&ld.work);
		queue_abort(&ld.spare);
	}
	for (int i = 0; i < nthreads; i++)
		pthread_join(threads[i], NULL);
	if (ld.single_conn) {
		struct sl_error rb;
		ld.drv->rollback(ld.single_conn, &rb);
		atomic_store(&ld.live.rows_written, 0);
		pool_release(ld.pool, ld.single_conn, false);
		ld.single_conn = NULL;
	}
	report.status = signals_caught() ? RUN_INTERRUPTED
		      : err.kind == SL_ERR_USAGE ? RUN_USAGE : RUN_FAILED;
	log_error("%s", err.msg);
	report_add_error(&report, err.msg);

finish:
	progress_stop(progress);
	stats.rows_read = ld.live.rows_read;
	stats.rows_written = ld.live.rows_written;
	stats.rows_rejected = ld.live.rows_rejected;
	stats.rows_not_found = ld.live.rows_not_found;
	stats.bytes = ld.live.bytes;
	stats.seconds = now_seconds() - t0;
	if (ld.pool) {
		report.has_pool = true;
		pool_get_stats(ld.pool, &report.pool);
	}
	if (report.status != RUN_USAGE && (!job->quiet || report.status == RUN_FAILED))
		report_print(stderr, &report);
	if (job->summary_json) {
		struct sl_error jerr;
		if (!report_write_json(job->summary_json, &report, &jerr))
			log_error("%s", jerr.msg);
	}
	enum run_status status = report.status;
	free(threads);
	for (int i = 0; ld.batches && i < ld.nbatches; i++)
		batch_free(&ld.batches[i]);
	free(ld.batches);
	if (queues) {
		queue_destroy(&ld.work);
		queue_destroy(&ld.spare);
	}
	reader_close(r);
	pool_destroy(ld.pool);
	rejects_close(ld.rejects);
	for (int i = 0; i < ld.ncols; i++)
		free(ld.columns[i]);
	free(ld.columns);
	free(ld.schema);
	free(ld.table);
	for (int i = 0; i < report.nerrors; i++)
		free(report.errors[i]);
	pthread_mutex_destroy(&ld.lock);
	return status;
}
