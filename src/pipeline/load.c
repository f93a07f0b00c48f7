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
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#include <time.h>

#include "sluice/create.h"
#include "sluice/driver.h"
#include "sluice/job.h"
#include "sluice/keys.h"
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

	struct reader_options input; /* the job's; update: a missing key sets nothing */
	/* keyed writes (upsert, skip with --key, update): a key may repeat, so
	 * each batch is written in rounds (see keys.h) and, with several
	 * writers, a key always goes to the same one, so its records are
	 * applied in input order */
	bool keyed;
	int key_idx[64];          /* key columns, as indexes into columns */
	int nkey_idx;
	unsigned long long blank_lines;
	struct table_desc target;  /* the table as check_target found it */
	char *const *lookup_key;   /* a unique key among the columns, to settle lost commits */
	int lookup_nkey;
	const char *_Atomic commit_mode; /* the driver's, once a batch committed */
	const char *method_reason; /* why sluice chose the method itself, or NULL */

	struct queue *work;       /* full batches for the writers: one queue, or one per writer when keyed */
	int nqueues;
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
	for (int i = 0; i < ld->nqueues; i++)
		queue_abort(&ld->work[i]);
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
	pthread_mutex_lock(&ld->lock);
	bool over = ld->limit_hit;
	pthread_mutex_unlock(&ld->lock);
	if (over)
		return; /* the run is stopping; a row past the limit is not written either */
	rejects_add(ld->rejects, source, line, raw, raw_len, reason);
	uint64_t n = atomic_fetch_add(&ld->live.rows_rejected, 1) + 1;
	struct sl_error err;
	if (ld->job->single_transaction) {
		/* all or nothing: one rejected row, whatever refused it, fails the run */
		sl_error_set(&err, SL_ERR_DATA,
			     "--single-transaction: %s:%ld was rejected (%s); nothing is committed",
			     source, line, reason);
		fail_run(ld, &err);
		return;
	}
	/* --max-errors N: the N-th rejected row stops the run (0: the first) */
	long max = ld->job->max_errors;
	if (max >= 0 && n >= (uint64_t)(max > 0 ? max : 1)) {
		sl_error_set(&err, SL_ERR_DATA, "stopped after %llu rejected rows (--max-errors %ld)",
			     (unsigned long long)n, max);
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

/* Write rows [first, first+n) of b inside the caller's transaction; for
 * sluice update matched[i] gets the target rows row first+i matched, for a
 * load *written the rows the server wrote.
 *
 * Two things can stop a batch from going out as one statement. Keyed writes
 * (upserts, update) go in rounds so no statement carries a key twice and a
 * key's records apply in input order (keys.h). And with --defaults (or a
 * JSON update, where a missing key means "leave the column alone") some
 * cells stand for "not given": rows are grouped by the columns they have and
 * each group names only those, so the server keeps or defaults the rest. */
static bool write_rows(struct load *ld, struct conn *c, const struct batch *b, size_t first,
		       size_t n, unsigned *matched, size_t *written, struct sl_error *err)
{
	const struct driver *drv = ld->drv;
	*written = 0;
	if (!ld->keyed && !b->has_defaults)
		return matched ? drv->update_batch(c, &ld->spec, b, first, n, matched, err)
			       : drv->write_batch(c, &ld->spec, b, first, n, written, err);
	int ncols = b->ncols;
	size_t *order = malloc(n * sizeof *order), *round_end = malloc(n * sizeof *round_end);
	size_t *vrow = malloc(n * sizeof *vrow);
	bool *done = calloc(n, sizeof *done);
	unsigned *vmatched = matched ? malloc(n * sizeof *vmatched) : NULL;
	struct batch view = { .cap_rows = n, .seq = b->seq };
	view.cells = malloc(n * (size_t)ncols * sizeof *view.cells);
	view.meta = malloc(n * sizeof *view.meta);
	char **names = malloc((size_t)ncols * sizeof *names);
	char **set = malloc((size_t)ncols * sizeof *set);
	int *idx = malloc((size_t)ncols * sizeof *idx);
	bool ok = order && round_end && vrow && done && (vmatched || !matched) && view.cells &&
		  view.meta && names && set && idx;
	size_t nrounds = 1;
	if (ok && ld->keyed) {
		ok = key_rounds(b, first, n, ld->key_idx, ld->nkey_idx, order, round_end, &nrounds);
	} else if (ok) {
		for (size_t i = 0; i < n; i++)
			order[i] = first + i;
		round_end[0] = n;
	}
	if (!ok)
		sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
	size_t start = 0;
	for (size_t r = 0; ok && r < nrounds; start = round_end[r++]) {
		for (size_t i = start; ok && i < round_end[r]; i++) {
			if (done[i])
				continue;
			const struct cell *ri = batch_row(b, order[i]);
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
			for (size_t j = i; j < round_end[r]; j++) {
				const struct cell *rj = batch_row(b, order[j]);
				bool same = !done[j];
				for (int col = 0; same && col < ncols; col++)
					same = cell_is_default(&rj[col]) == cell_is_default(&ri[col]);
				if (!same)
					continue;
				for (int t = 0; t < k; t++)
					view.cells[view.nrows * (size_t)k + (size_t)t] = rj[idx[t]];
				view.meta[view.nrows] = b->meta[order[j]];
				vrow[view.nrows++] = order[j];
				done[j] = true;
			}
			struct write_spec sub = ld->spec;
			sub.columns = names;
			sub.ncols = k;
			if (matched) {
				/* --set narrowed to the columns these records name */
				int ns = 0;
				for (int t = 0; t < ld->spec.nset; t++)
					for (int q = 0; q < k; q++)
						if (!strcmp(ld->spec.set[t], names[q]))
							set[ns++] = names[q];
				if (ld->spec.nset) {
					sub.set = set;
					sub.nset = ns;
				}
				memset(vmatched, 0, view.nrows * sizeof *vmatched);
				ok = drv->update_batch(c, &sub, &view, 0, view.nrows, vmatched, err);
				for (size_t t = 0; ok && t < view.nrows; t++)
					matched[vrow[t] - first] = vmatched[t];
			} else {
				size_t w = 0;
				ok = drv->write_batch(c, &sub, &view, 0, view.nrows, &w, err);
				*written += w;
			}
		}
	}
	free(order);
	free(round_end);
	free(vrow);
	free(done);
	free(vmatched);
	free(view.cells);
	free(view.meta);
	free(names);
	free(set);
	free(idx);
	return ok;
}

static bool write_range_counts(struct load *ld, struct conn **c, const struct batch *b,
			       size_t first, size_t n, unsigned *matched);

static bool write_range(struct load *ld, struct conn **c, const struct batch *b, size_t first,
			size_t n)
{
	unsigned *matched = NULL;
	if (ld->spec.update && !(matched = calloc(n ? n : 1, sizeof *matched))) {
		struct sl_error err;
		sl_error_set(&err, SL_ERR_INTERNAL, "out of memory");
		fail_run(ld, &err);
		return false;
	}
	bool ok = write_range_counts(ld, c, b, first, n, matched);
	free(matched);
	return ok;
}

/* Count a committed write of rows [first, first+n): for a load, written
 * rows and (--on-conflict skip) skipped ones; for sluice update, the target
 * rows each record matched, and records whose key matched nothing are
 * reported as not found. */
static void count_written(struct load *ld, const struct batch *b, size_t first, size_t n,
			  const unsigned *matched, size_t written)
{
	if (!matched) {
		atomic_fetch_add(&ld->live.rows_written, written);
		if (ld->spec.on_conflict == CONFLICT_SKIP && written < n)
			atomic_fetch_add(&ld->live.rows_skipped, n - written);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		if (matched[i]) {
			atomic_fetch_add(&ld->live.rows_written, matched[i]);
			continue;
		}
		const struct row_meta *m = &b->meta[first + i];
		rejects_add(ld->rejects, ld->job->sources[m->source], m->line, m->raw, m->raw_len,
			    "not found: no row matches the key");
		atomic_fetch_add(&ld->live.rows_not_found, 1);
	}
}

/* "file lines 12-40" for rows [first, first+n) of b, for a message. */
static void describe_lines(struct load *ld, const struct batch *b, size_t first, size_t n,
			   char *out, size_t outsz)
{
	const struct row_meta *a = &b->meta[first], *z = &b->meta[first + n - 1];
	if (a->source == z->source)
		snprintf(out, outsz, "%s lines %ld-%ld", ld->job->sources[a->source], a->line, z->line);
	else
		snprintf(out, outsz, "%s line %ld to %s line %ld", ld->job->sources[a->source], a->line,
			 ld->job->sources[z->source], z->line);
}

/* A plain COMMIT of an insert whose reply was lost: look the batch's rows
 * up by a unique key on a fresh connection. All there: it committed; none:
 * it did not; anything else, or no way to look: -1 (err set). */
static int settle_by_keys(struct load *ld, struct conn **c, const struct batch *b, size_t first,
			  size_t n, struct sl_error *err)
{
	const struct driver *drv = ld->drv;
	char lines[600];
	describe_lines(ld, b, first, n, lines, sizeof lines);
	if (!ld->lookup_nkey || !drv->count_keys || ld->spec.update ||
	    ld->spec.on_conflict != CONFLICT_ERROR || b->has_defaults) {
		sl_error_set(err, SL_ERR_CONNECTION,
			     "batch %ld (%s): the connection broke during COMMIT and %s cannot tell "
			     "whether it committed (plain transactions, and no unique key to look the "
			     "rows up by); stopping rather than risk losing or doubling them",
			     b->seq, lines, drv->name);
		return -1;
	}
	struct write_spec ks = ld->spec;
	ks.key = ld->lookup_key;
	ks.nkey = ld->lookup_nkey;
	unsigned long long found = 0;
	if (!get_conn(ld, c, err) || !drv->count_keys(*c, &ks, b, first, n, &found, err)) {
		sl_error_prefix(err, "batch %ld (%s): the connection broke during COMMIT and looking "
				"its rows up failed", b->seq, lines);
		return -1;
	}
	if (found == n || found == 0) {
		log_warn("batch %ld: the connection broke during COMMIT; its rows are %s", b->seq,
			 found ? "there: it committed" : "not there: it did not commit (retrying)");
		return found ? 1 : 0;
	}
	sl_error_set(err, SL_ERR_CONNECTION,
		     "batch %ld (%s): the connection broke during COMMIT and %llu of its %zu rows are "
		     "in the table; stopping rather than guess",
		     b->seq, lines, found, n);
	return -1;
}

/* The connection broke while COMMIT was on its way: the batch may or may not
 * be in. Ask the server on a fresh connection (*c) rather than guess, so it
 * is neither lost nor written twice. Returns 1 committed, 0 not committed
 * (retry), -1 cannot tell (the run stops, err set). */
static int lost_commit_outcome(struct load *ld, struct conn **c, const struct batch *b,
			       size_t first, size_t n, struct sl_error *err)
{
	const struct driver *drv = ld->drv;
	char token[64];
	int doubt = drv->commit_token ? drv->commit_token(*c, token, sizeof token) : -1;
	put_conn(ld, *c, true);
	*c = NULL;
	if (doubt == 0)
		return 0; /* the commit never left: rolled back with the connection */
	if (doubt < 0)
		return settle_by_keys(ld, c, b, first, n, err);
	bool committed = false;
	if (!get_conn(ld, c, err) || !drv->commit_status(*c, token, &committed, err))
		return -1;
	log_warn("batch %ld: the connection broke during COMMIT; the server says it %s", b->seq,
		 committed ? "committed" : "did not commit (retrying)");
	return committed ? 1 : 0;
}

static bool write_range_counts(struct load *ld, struct conn **c, const struct batch *b,
			       size_t first, size_t n, unsigned *matched)
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
		size_t written = 0;
		bool wrote = (single || drv->begin(*c, &err)) &&
			     write_rows(ld, *c, b, first, n, matched, &written, &err);
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
			if (drv->commit_mode && !atomic_load(&ld->commit_mode))
				atomic_store(&ld->commit_mode, drv->commit_mode(*c));
			count_written(ld, b, first, n, matched, written);
			return true;
		}
		if (wrote && !single && err.kind == SL_ERR_CONNECTION) {
			int outcome = lost_commit_outcome(ld, c, b, first, n, &err);
			if (outcome == 1) {
				count_written(ld, b, first, n, matched, written);
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
			/* --single-transaction cannot bisect: rolling back undoes every batch */
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

struct writer_arg {
	struct load *ld;
	int queue; /* the queue this writer takes batches from */
};

static void *writer_main(void *arg)
{
	struct writer_arg *wa = arg;
	struct load *ld = wa->ld;
	void *item;
	while (queue_pop(&ld->work[wa->queue], &item)) {
		struct batch *b = item;
		if (!stopping(ld)) {
			struct conn *c = NULL;
			write_range(ld, &c, b, 0, b->nrows);
			put_conn(ld, c, false);
		}
		atomic_fetch_add(&ld->live.bytes_done, b->bytes);
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
	if (!ld->spec.update)
		buf_printf(&b, "-- method %s%s%s\n", method_name(ld->spec.method),
			   ld->method_reason ? ": " : "", ld->method_reason ? ld->method_reason : "");
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

/* Hand a filled batch to writer queue q (or, in a dry run, just drop it). It
 * carries the input bytes read since the last batch went. */
static bool dispatch(struct load *ld, struct batch *b, int q, uint64_t *pending_bytes,
		     bool *create_done)
{
	b->bytes += *pending_bytes;
	*pending_bytes = 0;
	if (!maybe_create(ld, b, create_done))
		return false;
	if (ld->job->dry_run) {
		atomic_fetch_add(&ld->live.bytes_done, b->bytes);
		batch_reset(b);
		return queue_push(&ld->spare, b);
	}
	return queue_push(&ld->work[q], b);
}

/* sluice update: why a record cannot be an update (a key part NULL or
 * missing, nothing to set), or NULL when it can. */
static const char *update_problem(struct load *ld, const struct record *rec, char *msg, size_t n)
{
	for (int k = 0; k < ld->nkey_idx; k++) {
		const struct cell *c = &rec->fields[ld->key_idx[k]];
		if (!c->ptr || cell_is_default(c)) {
			snprintf(msg, n, "key column \"%s\" is %s: a NULL key matches no row",
				 ld->columns[ld->key_idx[k]], c->ptr ? "missing" : "NULL");
			return msg;
		}
	}
	int set[ld->ncols], key[ld->ncols], nset, nkey;
	if (!sql_update_columns(&ld->spec, set, &nset, key, &nkey))
		return NULL; /* refused before the run starts */
	for (int i = 0; i < nset; i++)
		if (!cell_is_default(&rec->fields[set[i]]))
			return NULL;
	snprintf(msg, n, "the record names no column to set, only its key");
	return msg;
}

/* Read every record of one source into batches: cur[q] is the batch being
 * filled for writer queue q. */
static bool load_source(struct load *ld, struct reader *r, int src_index, struct batch **cur,
			long *seq, uint64_t *pending_bytes, bool *create_done)
{
	const char *name = ld->job->sources[src_index];
	uint64_t last_pos = 0; /* the header was read ahead: count from the start */
	char why[300];
	bool ok = true;
	for (;;) {
		if (stopping(ld)) {
			ok = false;
			break;
		}
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
			ok = false;
			break;
		}
		atomic_fetch_add(&ld->live.rows_read, 1);
		if (st == READ_REJECT) {
			count_reject(ld, name, rec.line, rec.raw, rec.raw_len, err.msg);
			continue;
		}
		if (ld->spec.update && update_problem(ld, &rec, why, sizeof why)) {
			count_reject(ld, name, rec.line, rec.raw, rec.raw_len, why);
			continue;
		}
		int q = ld->nqueues > 1
				? (int)(key_hash(rec.fields, ld->key_idx, ld->nkey_idx) % (uint64_t)ld->nqueues)
				: 0;
		if (!cur[q]) {
			void *item;
			if (!queue_pop(&ld->spare, &item)) {
				ok = false;
				break;
			}
			cur[q] = item;
			cur[q]->seq = ++*seq;
		}
		if (!batch_add_row(cur[q], &rec, src_index, true)) {
			sl_error_set(&err, SL_ERR_INTERNAL, "%s:%ld: out of memory", name, rec.line);
			fail_run(ld, &err);
			ok = false;
			break;
		}
		if (batch_full(cur[q])) {
			uint64_t pos = reader_position(r);
			atomic_fetch_add(&ld->live.bytes, pos - last_pos);
			*pending_bytes += pos - last_pos;
			last_pos = pos;
			struct batch *b = cur[q];
			cur[q] = NULL;
			if (!dispatch(ld, b, q, pending_bytes, create_done)) {
				ok = false;
				break;
			}
		}
	}
	uint64_t pos = reader_position(r);
	atomic_fetch_add(&ld->live.bytes, pos - last_pos);
	*pending_bytes += pos - last_pos;
	return ok;
}

/* Open source i and check it against the columns fixed by the first. */
static bool open_next_source(struct load *ld, int i, struct reader **r, struct sl_error *err)
{
	const struct job *job = ld->job;
	if (job->open_reader ? !job->open_reader(job->reader_ctx, i, r, err)
			     : !reader_open(r, job->sources[i], &ld->input, err))
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
	ld->input = job->input;
	if (job->command == CMD_UPDATE) {
		/* a JSON key left out means "leave that column alone" */
		ld->input.missing_as_default = true;
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
	if (job->single_transaction && !job->dry_run) {
		if (!pool_acquire(ld->pool, &ld->single_conn, err))
			return false;
		if (!ld->drv->begin(ld->single_conn, err))
			return false;
	}
	return true;
}

/* path with its directory resolved (the file itself may not exist yet):
 * "./x" and "x" and "/tmp/../tmp/x" come out alike. False when the
 * directory cannot be resolved. */
static bool canonical_path(const char *path, char *out, size_t n)
{
	const char *slash = strrchr(path, '/');
	char dir[4096];
	snprintf(dir, sizeof dir, "%.*s", slash ? (int)(slash - path) : 1, slash ? path : ".");
	if (slash == path)
		snprintf(dir, sizeof dir, "/");
	char *real = realpath(dir, NULL);
	if (!real)
		return false;
	snprintf(out, n, "%s/%s", strcmp(real, "/") ? real : "", slash ? slash + 1 : path);
	free(real);
	return true;
}

/* Whether two paths name the same file: the same inode (a symlink, a hard
 * link), or, for files not there yet, the same resolved path. */
static bool same_file(const char *a, const char *b)
{
	if (!strcmp(a, b))
		return true;
	struct stat sa, sb;
	bool ea = stat(a, &sa) == 0, eb = stat(b, &sb) == 0;
	if (ea && eb)
		return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
	char ca[4200], cb[4200];
	return canonical_path(a, ca, sizeof ca) && canonical_path(b, cb, sizeof cb) && !strcmp(ca, cb);
}

/* The files sluice writes (rejects, its log, the summary) must not be an
 * input: opening them truncates it before it is read. */
static bool check_outputs(struct load *ld, struct sl_error *err)
{
	const struct job *job = ld->job;
	char rejects_log[4096] = "";
	if (job->rejects_path)
		snprintf(rejects_log, sizeof rejects_log, "%s.log", job->rejects_path);
	const char *outs[3] = { job->rejects_path, job->rejects_path ? rejects_log : NULL,
				job->summary_json && strcmp(job->summary_json, "-") ? job->summary_json
										     : NULL };
	const char *opt[3] = { "--rejects", "--rejects (its .log)", "--summary-json" };
	for (int o = 0; o < 3; o++) {
		if (!outs[o])
			continue;
		for (int i = 0; i < job->nsources; i++)
			if (strcmp(job->sources[i], "-") && same_file(outs[o], job->sources[i]))
				return sl_error_set(err, SL_ERR_USAGE,
						    "%s %s is also an input file: it would be overwritten "
						    "before it is read",
						    opt[o], outs[o]);
		for (int p = 0; p < o; p++)
			if (outs[p] && same_file(outs[o], outs[p]))
				return sl_error_set(err, SL_ERR_USAGE, "%s and %s name the same file %s",
						    opt[p], opt[o], outs[o]);
	}
	return true;
}

/* Before anything is written (a --truncate above all): every source opens,
 * is a file and not a directory, has the first one's header, and a gzip file
 * is whole (a corrupt one would otherwise commit made-up rows before its
 * checksum fails at the end). r0 is source 0, already open. */
static bool check_sources(struct load *ld, const struct reader *r0, struct sl_error *err)
{
	const struct job *job = ld->job;
	for (int i = 0; i < job->nsources; i++) {
		const char *path = job->sources[i];
		if (!strcmp(path, "-"))
			continue; /* stdin can be read once only: checked as it is read */
		if (i > 0) {
			struct reader *r;
			if (!reader_open(&r, path, &ld->input, err))
				return false;
			bool same = true;
			if (r0->nheader && r->nheader && !job->ncolumns) {
				same = r->nheader == r0->nheader;
				for (int c = 0; same && c < r0->nheader; c++)
					same = !strcmp(r->header[c], r0->header[c]);
			}
			reader_close(r);
			if (!same)
				return sl_error_set(err, SL_ERR_USAGE, "%s: its header differs from %s's",
						    path, job->sources[0]);
		}
		if (!source_verify(path, err))
			return false;
	}
	return true;
}

/* Whether column names a and b are the same for the target (MySQL compares
 * them case-insensitively). */
static bool same_column(const struct load *ld, const char *a, const char *b)
{
	return ld->drv->dialect->columns_case_insensitive ? !strcasecmp(a, b) : !strcmp(a, b);
}

/* Whether every key column is among cols. */
static bool key_within(const struct load *ld, char *const *cols, int ncols)
{
	for (int k = 0; k < ld->spec.nkey; k++) {
		bool found = false;
		for (int i = 0; !found && i < ncols; i++)
			found = same_column(ld, ld->spec.key[k], cols[i]);
		if (!found)
			return false;
	}
	return true;
}

/* Append "a, b" to out. */
static void join_names(char *out, size_t n, char *const *names, int count)
{
	size_t o = 0;
	out[0] = '\0';
	for (int i = 0; i < count && o < n; i++)
		o += (size_t)snprintf(out + o, n - o, "%s%s", i ? ", " : "", names[i]);
}

/* --on-conflict update --key K: the key must be what decides a conflict. A
 * primary key or unique index on exactly K must exist; and where the server
 * applies the update on whichever unique index a row collides with (MySQL's
 * ON DUPLICATE KEY UPDATE), no other unique index may exist that could
 * collide for another key, or a row would overwrite a different row. */
static bool check_conflict_key(struct load *ld, const struct table_desc *td, struct sl_error *err)
{
	char key[512], cols[512];
	join_names(key, sizeof key, ld->spec.key, ld->spec.nkey);
	bool exact = false;
	for (int u = 0; u < td->nunique; u++)
		exact |= td->unique[u].ncols == ld->spec.nkey &&
			 key_within(ld, td->unique[u].cols, td->unique[u].ncols);
	if (!exact)
		return sl_error_set(err, SL_ERR_USAGE,
				    "--on-conflict update --key %s: table %s has no primary key or "
				    "unique index on (%s), so no conflict on it can be detected",
				    key, ld->table, key);
	if (!ld->drv->dialect->upsert_matches_any_unique)
		return true;
	for (int u = 0; u < td->nunique; u++) {
		const struct unique_key *uk = &td->unique[u];
		if (key_within(ld, uk->cols, uk->ncols))
			continue; /* a collision on it is a collision on the key too */
		join_names(cols, sizeof cols, uk->cols, uk->ncols);
		return sl_error_set(err, SL_ERR_USAGE,
				    "--on-conflict update --key %s: table %s also has unique index %s "
				    "(%s); %s would update the row that collides on it, another row "
				    "than the key names. Drop that index, or load without --on-conflict "
				    "update",
				    key, ld->table, uk->name, cols, ld->drv->name);
	}
	return true;
}

/* Connect and check the target before reading any input: the table exists
 * (or --create will make it), and an upsert's key decides conflicts. */
static bool check_target(struct load *ld, struct sl_error *err)
{
	struct conn *c;
	struct table_desc td = { 0 };
	if (!get_conn(ld, &c, err))
		return false;
	bool ok = ld->drv->describe_table(c, &ld->spec, &td, err);
	put_conn(ld, c, !ok && err->kind == SL_ERR_CONNECTION);
	if (!ok)
		return false;
	if (!td.exists && (!ld->job->create || ld->spec.update))
		ok = sl_error_set(err, SL_ERR_USAGE, "table %s does not exist%s", ld->table,
				  ld->spec.update ? ""
						  : " (--create would create it from the input)");
	else if (td.exists && ld->spec.on_conflict == CONFLICT_UPDATE)
		ok = check_conflict_key(ld, &td, err);
	if (ok && td.bulk_is_slow && !ld->job->method && !ld->spec.update &&
	    ld->drv->supports(METHOD_INSERT) && ld->spec.method != METHOD_INSERT) {
		/* the one place the bulk path gives way to INSERT by itself */
		ld->spec.method = METHOD_INSERT;
		ld->method_reason = "the table has foreign partitions, which the bulk path feeds "
				    "row by row; multi-row INSERTs go out in the foreign servers' "
				    "batch_size";
		log_info("--method insert: %s", ld->method_reason);
	}
	ld->target = td; /* freed at the end of the run */
	return ok;
}

/* A unique key of the table whose columns are all written: a lost plain
 * COMMIT of an insert can be settled by looking the rows up by it. With
 * --create the key is --key, the primary key it creates. */
static void plan_lookup_key(struct load *ld)
{
	if (!ld->target.exists && ld->job->create && ld->spec.nkey) {
		ld->lookup_key = ld->spec.key;
		ld->lookup_nkey = ld->spec.nkey;
		return;
	}
	for (int u = 0; u < ld->target.nunique; u++) {
		const struct unique_key *uk = &ld->target.unique[u];
		bool all = true;
		for (int k = 0; all && k < uk->ncols; k++) {
			bool found = false;
			for (int i = 0; !found && i < ld->ncols; i++)
				found = same_column(ld, uk->cols[k], ld->columns[i]);
			all = found;
		}
		if (all) {
			ld->lookup_key = uk->cols;
			ld->lookup_nkey = uk->ncols;
			return;
		}
	}
}

/* Keyed writes: find the key columns among the target columns and decide
 * whether batches go in rounds and keys to fixed writers. */
static bool plan_keys(struct load *ld, int workers, struct sl_error *err)
{
	ld->nkey_idx = 0;
	for (int k = 0; k < ld->spec.nkey; k++) {
		int i = 0;
		while (i < ld->ncols && strcmp(ld->columns[i], ld->spec.key[k]))
			i++;
		if (i == ld->ncols)
			return sl_error_set(err, SL_ERR_USAGE, "--key %s is not a column of the input",
					    ld->spec.key[k]);
		if (k >= (int)(sizeof ld->key_idx / sizeof ld->key_idx[0]))
			return sl_error_set(err, SL_ERR_USAGE, "--key names too many columns");
		ld->key_idx[ld->nkey_idx++] = i;
	}
	ld->keyed = ld->nkey_idx > 0 && (ld->spec.update || ld->spec.on_conflict != CONFLICT_ERROR);
	ld->nqueues = ld->keyed && workers > 1 ? workers : 1;
	return true;
}

enum run_status load_table(const struct job *job, struct table_stats *out_stats,
			   struct run_report *out_report)
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
		report_add_error(out_report, ld.err.msg);
		snprintf(out_stats->table, sizeof out_stats->table, "%s", job->table ? job->table : "");
		free(ld.schema);
		free(ld.table);
		out_report->status = RUN_USAGE;
		return RUN_USAGE;
	}
	snprintf(stats.table, sizeof stats.table, "%s%s%s", ld.schema ? ld.schema : "",
		 ld.schema ? "." : "", ld.table);
	report.tables = &stats;
	report.ntables = 1;

	if (job->open_reader) {
		/* a table read (copy): nothing to check on disk */
		if (!job->open_reader(job->reader_ctx, 0, &r, &err))
			goto failed;
	} else if (!check_outputs(&ld, &err)) {
		report.no_json = true; /* writing it would destroy an input */
		goto failed;
	} else if (!reader_open(&r, job->sources[0], &ld.input, &err) ||
		   !check_sources(&ld, r, &err)) {
		goto failed;
	}
	if (job->rejects)
		ld.rejects = job->rejects;
	else if (!rejects_open(&ld.rejects, job->rejects_path, &err))
		goto failed;
	view.table = stats.table;
	view.live = &ld.live;
	view.total_bytes = 0;
	for (int i = 0; i < job->nsources; i++) {
		/* the percentage needs every size; a pipe has none */
		struct stat st;
		bool known = !job->open_reader && strcmp(job->sources[i], "-") &&
			     stat(job->sources[i], &st) == 0 && S_ISREG(st.st_mode);
		if (!known || view.total_bytes < 0)
			view.total_bytes = -1;
		else
			view.total_bytes += (int64_t)st.st_size;
	}
	view.start = t0;
	progress_start(&progress, job->progress, job->stats_interval, job->quiet, &view);

	/* connect and check the table before reading any row, dry run or not */
	if (!connect_target(&ld, &err) || !check_target(&ld, &err))
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

	int workers = job->single_transaction || job->dry_run ? 1 : job->workers;
	if (!plan_keys(&ld, workers, &err))
		goto failed;
	plan_lookup_key(&ld);
	/* batches: one being filled per queue, one per writer, and a queue's
	 * worth, all allocated up front */
	ld.nbatches = workers * 2 + ld.nqueues;
	ld.batches = calloc((size_t)ld.nbatches, sizeof *ld.batches);
	ld.work = calloc((size_t)ld.nqueues, sizeof *ld.work);
	bool qok = ld.batches && ld.work && queue_init(&ld.spare, (size_t)ld.nbatches);
	int nq = 0;
	while (qok && nq < ld.nqueues && queue_init(&ld.work[nq], (size_t)ld.nbatches))
		nq++;
	if (!qok || nq < ld.nqueues) {
		if (qok)
			queue_destroy(&ld.spare);
		while (nq > 0)
			queue_destroy(&ld.work[--nq]);
		ld.nqueues = 0;
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

	struct writer_arg wargs[64];
	if (!job->dry_run) {
		threads = calloc((size_t)workers, sizeof *threads);
		for (int i = 0; threads && i < workers && i < 64; i++) {
			wargs[i] = (struct writer_arg){ &ld, i % ld.nqueues };
			if (pthread_create(&threads[i], NULL, writer_main, &wargs[i]) != 0)
				break;
			nthreads++;
		}
		if (nthreads < workers) {
			/* a queue without its writer would never drain */
			sl_error_set(&err, SL_ERR_INTERNAL, "cannot start the writer threads");
			goto failed;
		}
	}

	/* the reader: this thread */
	struct batch *cur[64] = { 0 };
	uint64_t pending_bytes = 0;
	long seq = 0;
	bool create_done = false;
	for (int i = 0; i < job->nsources && !stopping(&ld); i++) {
		if (i > 0) {
			ld.blank_lines += r->blank_lines;
			reader_close(r);
			r = NULL;
			if (!open_next_source(&ld, i, &r, &err)) {
				fail_run(&ld, &err);
				break;
			}
		}
		if (!load_source(&ld, r, i, cur, &seq, &pending_bytes, &create_done) ||
		    ld.input_failed)
			break;
	}
	if (!stopping(&ld)) {
		/* the last, partial batches (and --create on a small input) */
		bool any = false;
		for (int q = 0; q < ld.nqueues; q++) {
			if (cur[q]) {
				any = true;
				dispatch(&ld, cur[q], q, &pending_bytes, &create_done);
				cur[q] = NULL;
			}
		}
		if (!any && !create_done && job->create) {
			struct batch empty;
			if (batch_init(&empty, ld.ncols, 1)) {
				maybe_create(&ld, &empty, &create_done);
				batch_free(&empty);
			}
		}
	}
	atomic_fetch_add(&ld.live.bytes_done, pending_bytes);
	for (int q = 0; q < ld.nqueues; q++)
		queue_close(&ld.work[q]);
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
		for (int q = 0; q < ld.nqueues; q++)
			queue_abort(&ld.work[q]);
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
	stats.rows_skipped = ld.live.rows_skipped;
	if (r)
		ld.blank_lines += r->blank_lines; /* the source being read when the run ended */
	stats.blank_lines = ld.blank_lines;
	if (stats.blank_lines && report.status != RUN_USAGE)
		log_warn("%llu blank input lines skipped", (unsigned long long)stats.blank_lines);
	stats.bytes = ld.live.bytes;
	stats.seconds = now_seconds() - t0;
	report.commit_mode = atomic_load(&ld.commit_mode);
	if (ld.pool) {
		report.has_pool = true;
		pool_get_stats(ld.pool, &report.pool);
	}
	if (r)
		stats.zero_dates = r->zero_dates;
	enum run_status status = report.status;
	*out_stats = stats;
	report.tables = NULL;
	report.ntables = 0;
	*out_report = report; /* the caller owns the error texts now */
	free(threads);
	for (int i = 0; ld.batches && i < ld.nbatches; i++)
		batch_free(&ld.batches[i]);
	free(ld.batches);
	if (queues) {
		for (int q = 0; q < ld.nqueues; q++)
			queue_destroy(&ld.work[q]);
		queue_destroy(&ld.spare);
	}
	free(ld.work);
	reader_close(r);
	pool_destroy(ld.pool);
	if (ld.rejects != job->rejects)
		rejects_close(ld.rejects);
	for (int i = 0; i < ld.ncols; i++)
		free(ld.columns[i]);
	free(ld.columns);
	free(ld.schema);
	free(ld.table);
	table_desc_free(&ld.target);
	pthread_mutex_destroy(&ld.lock);
	return status;
}

enum run_status load_run(const struct job *job)
{
	struct table_stats stats = { 0 };
	struct run_report report = { 0 };
	enum run_status status = load_table(job, &stats, &report);
	report.tables = &stats;
	report.ntables = 1;
	if (status != RUN_USAGE && (!job->quiet || status == RUN_FAILED))
		report_print(stderr, &report);
	if (job->summary_json && !report.no_json) {
		struct sl_error jerr;
		if (!report_write_json(job->summary_json, &report, &jerr))
			log_error("%s", jerr.msg);
	}
	for (int i = 0; i < report.nerrors; i++)
		free(report.errors[i]);
	return status;
}
