/* src/pipeline/copy_rows.c
 * The workers of sluice copy: each takes units one after another and copies
 * its rows through the load pipeline (load_table), then finishes a table
 * whose last unit it copied.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sluice/checkpoint.h"
#include "sluice/copy_internal.h"
#include "sluice/pipeline.h"
#include "sluice/job.h"
#include "sluice/log.h"
#include "sluice/report.h"
#include "sluice/signals.h"

/* The most bytes of values (and verbatim records) a copy batch holds. */
#define COPY_BATCH_BYTES ((size_t)4 << 20)

/* The reader load_table asks for: the worker's unit, streamed on the
 * worker's snapshot connection. */
static bool open_table_reader(void *ctx, struct reader **out, struct sl_error *err)
{
	struct copy_worker *w = ctx;
	const struct copy_table *t = &w->cp->tables[w->unit->table];
	if (!table_reader_open(out, w->cp->from, w->src, &t->src_spec, w->cp->job->query,
			       &w->unit->range, t->xf, t->bits, w->unit->key, err))
		return false;
	if (w->cp->job->incremental && !w->unit->range.nulls)
		table_reader_watermark(*out, t->cursor_col, t->ckey_col);
	return true;
}

/* The options of the load that runs worker w's unit (the run's, for one
 * table, written by one writer), and what the unit asks of it: its rows
 * from the worker's reader, the run's halt flag and rejects file, the
 * table's checkpoints. */
static void unit_job(const struct copy_worker *w, struct job *sub, struct load_request *req,
		     const char **source_name)
{
	const struct copy *cp = w->cp;
	const struct copy_table *t = &cp->tables[w->unit->table];
	*sub = *cp->job;
	sub->command = CMD_LOAD;
	sub->sources = (char **)source_name;
	sub->nsources = 1;
	sub->table = t->dst_qualified ? t->dst_qualified : t->dst_spec.table;
	sub->columns = (char **)t->dst_spec.columns;
	sub->ncolumns = t->dst_spec.ncols;
	sub->create = false;
	sub->dry_run = false;
	sub->truncate = false; /* done once per table before its units */
	sub->summary_json = NULL;
	*req = (struct load_request){.open_reader = open_table_reader,
				     .reader_ctx = (void *)w,
				     .halt = &cp->halt,
				     .rejects = cp->rejects};
	sub->on_conflict = CONFLICT_ERROR;
	sub->key = NULL;
	sub->nkey = 0;
	sub->method = cp->job->method; /* METHOD_DEFAULT: the target's best */
	/* rows from a table are regular: bigger batches, fewer commits (the
	 * transaction and XA overhead of a batch is most of the target's work
	 * beyond the rows) */
	if (!cp->job->batch_rows_given)
		sub->batch_rows = 50000;
	/* ...but no batch above COPY_BATCH_BYTES of values: a writer holds
	 * three batches (one filling, one queued, one writing), so whole
	 * 50,000-row batches of wide rows made a copy's memory (94 MB, 178 MB
	 * with two workers) three times a load's; bytes bound them as well */
	sub->batch_bytes = COPY_BATCH_BYTES;
	/* a copy should be whole: by default the first rejected row stops it */
	sub->max_errors = cp->job->max_errors < 0 ? 0 : cp->job->max_errors;
	if (cp->ckpt) {
		/* --resume: the table's checkpoints, whatever its ranges; a table
		 * not read in the order of an integer key cannot say where a rerun
		 * goes on, so it commits in one transaction: all or nothing */
		sub->job_name = cp->job_name;
		req->resume_source = cp->job->query ? cp->query_source : t->name;
		sub->checkpoint_table = cp->job->checkpoint_table;
		if (w->unit->key < 0)
			sub->single_transaction = true;
	}
	if (cp->job->incremental) {
		/* rows past the watermark, upserted on the key; one writer, so
		 * the batches commit in cursor order, each with its watermark:
		 * none passes a row not committed */
		sub->on_conflict = CONFLICT_UPDATE;
		sub->key = (char **)&t->dst_spec.columns[t->ckey_col];
		sub->nkey = 1;
		sub->resume = false;
		sub->single_transaction = false;
		sub->workers = 1;
		req->resume_source = NULL;
		req->watermark = cp->ckpt;
		req->watermark_src = w->unit->table;
		req->upsert_by_key = true;
	}
	if (cp->nworkers > 1) {
		/* several units at once: one writer each, and one line per unit
		 * rather than progress bars drawn over each other */
		sub->workers = 1;
		sub->progress = PROGRESS_NONE;
	}
}

/* The next unit to copy, or NULL when none is left or the copy stops. */
static const struct copy_unit *take_unit(struct copy *cp)
{
	pthread_mutex_lock(&cp->lock);
	const struct copy_unit *u = NULL;
	while (!cp->stop && !signals_caught() && cp->next_unit < cp->nunits) {
		/* the first unit not taken whose table's parents are all in */
		for (int i = cp->next_unit; i < cp->nunits && !u; i++) {
			const struct copy_table *t = &cp->tables[cp->units[i].table];
			bool ready = !cp->taken[i];
			for (int d = 0; ready && d < t->ndeps; d++)
				ready = cp->units_left[t->deps[d]] == 0;
			if (ready) {
				cp->taken[i] = true;
				u = &cp->units[i];
			}
		}
		while (cp->next_unit < cp->nunits && cp->taken[cp->next_unit])
			cp->next_unit++;
		if (u || cp->next_unit >= cp->nunits)
			break;
		if (!cp->running) {
			/* nothing runs that a wait could be for (keys in a cycle):
			 * the next unit goes anyway */
			cp->taken[cp->next_unit] = true;
			u = &cp->units[cp->next_unit];
			break;
		}
		pthread_cond_wait(&cp->unit_done, &cp->lock);
	}
	if (u) {
		cp->running++;
		if (!cp->started[u->table])
			cp->started[u->table] = now_seconds();
	}
	pthread_mutex_unlock(&cp->lock);
	return u;
}

/* Add one unit's result to its table's and the run's. Returns whether that
 * was the table's last unit. */
static bool merge_unit(struct copy *cp, const struct copy_unit *u, enum run_status st,
		       const struct table_stats *one, struct run_report *rep)
{
	pthread_mutex_lock(&cp->lock);
	struct table_stats *ts = &cp->stats[u->table];
	snprintf(ts->table, sizeof ts->table, "%s", cp->tables[u->table].name);
	ts->rows_read += one->rows_read;
	ts->rows_written += one->rows_written;
	/* inserted and updated (an --incremental upsert's split): unknown when
	 * one unit's is */
	if (ts->rows_inserted == REPORT_UNKNOWN || one->rows_inserted == REPORT_UNKNOWN) {
		ts->rows_inserted = ts->rows_updated = REPORT_UNKNOWN;
	} else {
		ts->rows_inserted += one->rows_inserted;
		ts->rows_updated += one->rows_updated;
	}
	ts->rows_rejected += one->rows_rejected;
	ts->rows_resumed += one->rows_resumed;
	ts->zero_dates += one->zero_dates;
	ts->bytes += one->bytes;
	ts->seconds = now_seconds() - cp->started[u->table];
	for (int e = 0; e < rep->nerrors; e++) {
		report_add_error(&cp->report, rep->errors[e]);
		free(rep->errors[e]);
	}
	if (rep->commit_mode)
		cp->report.commit_mode = rep->commit_mode;
	if (rep->has_pool) {
		/* the pools are the units': add them up */
		struct pool_stats *p = &cp->report.pool;
		p->created += rep->pool.created;
		p->closed += rep->pool.closed;
		p->acquires += rep->pool.acquires;
		p->errors += rep->pool.errors;
		p->reconnects += rep->pool.reconnects;
		if (rep->pool.acquire_wait_max > p->acquire_wait_max)
			p->acquire_wait_max = rep->pool.acquire_wait_max;
		cp->report.has_pool = true;
	}
	if (st == RUN_FAILED || st == RUN_USAGE || st == RUN_INTERRUPTED) {
		if (cp->status != RUN_USAGE && cp->status != RUN_INTERRUPTED &&
		    cp->status != RUN_FAILED)
			cp->status = st;
		cp->stop = true;
		atomic_store(&cp->halt, true);
	} else if (st == RUN_PARTIAL && cp->status == RUN_OK) {
		cp->status = RUN_PARTIAL;
	}
	bool last = --cp->units_left[u->table] == 0;
	cp->running--;
	pthread_cond_broadcast(&cp->unit_done);
	pthread_mutex_unlock(&cp->lock);
	return last;
}

/* Stop the copy with err (from a worker). */
static void copy_fail(struct copy *cp, const struct sl_error *err)
{
	bool say = err->kind != SL_ERR_INTERRUPTED; /* copy_run says that once */
	if (say)
		log_error("%s", err->msg);
	pthread_mutex_lock(&cp->lock);
	if (say)
		report_add_error(&cp->report, err->msg);
	cp->status = err->kind == SL_ERR_USAGE ? RUN_USAGE : RUN_FAILED;
	cp->stop = true;
	atomic_store(&cp->halt, true);
	pthread_mutex_unlock(&cp->lock);
}

/* --resume: table i is in, indexes and all: a rerun skips it. Its units
 * did not stop the copy (every unit's status is merged before). */
static bool mark_whole(struct copy *cp, struct conn *ddl, int i, struct sl_error *err)
{
	if (!cp->ckpt || cp->job->incremental) /* an incremental table is never whole */
		return true;
	pthread_mutex_lock(&cp->lock);
	bool ok = cp->stop || checkpoint_source_done(cp->ckpt, ddl, i, 0, err);
	pthread_mutex_unlock(&cp->lock);
	return ok;
}

/* A copy worker: units one after another, each through load_table; the
 * worker that copies a table's last unit builds its indexes. */
static void *copy_worker_main(void *arg)
{
	struct copy_worker *w = arg;
	struct copy *cp = w->cp;
	const struct copy_unit *u;
	while ((u = take_unit(cp)) != NULL) {
		w->unit = u;
		const char *source_name = u->label;
		struct job sub;
		struct load_request req;
		unit_job(w, &sub, &req, &source_name);
		struct table_stats one = {0};
		struct run_report rep = {0};
		double t0 = now_seconds();
		enum run_status st = load_table(&sub, &req, &one, &rep);
		if (cp->nworkers > 1 && st != RUN_FAILED && st != RUN_USAGE)
			log_info("copied %s: %llu rows in %.1f s", u->label,
				 (unsigned long long)one.rows_written, now_seconds() - t0);
		bool last = merge_unit(cp, u, st, &one, &rep);
		struct sl_error err;
		sl_error_clear(&err);
		if (last && (st == RUN_OK || st == RUN_PARTIAL) &&
		    (!copy_finish_table(cp, w->ddl, &cp->tables[u->table], &err) ||
		     !mark_whole(cp, w->ddl, u->table, &err)))
			copy_fail(cp, &err);
	}
	return NULL;
}

/* Copy every unit with cp->nworkers workers. */
void copy_units(struct copy *cp)
{
	pthread_t threads[64];
	int started = 0;
	if (cp->nworkers == 1) {
		copy_worker_main(&cp->workers[0]);
		return;
	}
	for (; started < cp->nworkers; started++)
		if (pthread_create(&threads[started], NULL, copy_worker_main,
				   &cp->workers[started]) != 0)
			break;
	if (started == 0)
		copy_worker_main(&cp->workers[0]);
	for (int i = 0; i < started; i++)
		pthread_join(threads[i], NULL);
}
