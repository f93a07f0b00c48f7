/* src/pipeline/load.c
 * The load pipeline: the reader (this thread) fills batches and hands them
 * through a bounded queue to --workers writer threads (writers.c), after
 * plan.c has checked the target and the sources. Memory is bounded by the
 * number of batches in flight, never by the input. load_table runs one
 * table; load_run adds the summary.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "sluice/checkpoint.h"
#include "sluice/create.h"
#include "sluice/keys.h"
#include "sluice/log.h"
#include "sluice/pipeline.h"
#include "sluice/rejects.h"
#include "sluice/signals.h"
#include "sluice/url.h"

/* Stop the run with err (the first error wins) and wake everyone. */
void load_fail(struct load *ld, const struct sl_error *err)
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

bool load_failed(struct load *ld)
{
	pthread_mutex_lock(&ld->lock);
	bool f = ld->failed;
	pthread_mutex_unlock(&ld->lock);
	return f;
}

bool load_stopping(struct load *ld)
{
	if (ld->job->halt && atomic_load(ld->job->halt) && !load_failed(ld)) {
		struct sl_error e;
		sl_error_set(&e, SL_ERR_INTERNAL, "stopped: another part of the run failed");
		load_fail(ld, &e);
	}
	return signals_caught() || load_failed(ld);
}

/* A CSV header line for the rejects file, quoting names where needed. */
static char *header_line(char *const *names, int n, char delim)
{
	struct buf b;
	buf_init(&b, 0);
	for (int i = 0; i < n; i++) {
		if (i)
			buf_catc(&b, delim);
		if (strpbrk(names[i], "\"\n\r") || strchr(names[i], delim)) {
			buf_catc(&b, '"');
			for (const char *p = names[i]; *p; p++) {
				if (*p == '"')
					buf_catc(&b, '"');
				buf_catc(&b, *p);
			}
			buf_catc(&b, '"');
		} else {
			buf_cat(&b, names[i]);
		}
	}
	if (buf_failed(&b)) {
		buf_free(&b);
		return NULL;
	}
	return b.data ? b.data : strdup("");
}

/* Count one rejected record; stops the run past --max-errors. */
void load_reject(struct load *ld, const char *source, long line, const char *raw, size_t raw_len,
		 const char *reason)
{
	pthread_mutex_lock(&ld->lock);
	bool over = ld->limit_hit;
	pthread_mutex_unlock(&ld->lock);
	if (over)
		return; /* the run is load_stopping; a row past the limit is not written either */
	/* the reason without the line a reader put in it: the rejects log
	 * and the messages name the file and line already */
	char own[32];
	int k = snprintf(own, sizeof own, "line %ld: ", line);
	if (k > 0 && !strncmp(reason, own, (size_t)k))
		reason += k;
	rejects_add(ld->rejects, source, line, raw, raw_len, reason);
	uint64_t n = atomic_fetch_add(&ld->live.rows_rejected, 1) + 1;
	struct sl_error err;
	if (rejects_failed(ld->rejects, &err)) {
		/* a rejects file that cannot be written stops the run */
		load_fail(ld, &err);
		return;
	}
	if (ld->job->single_transaction) {
		/* all or nothing: one rejected row, whatever refused it, fails the run */
		sl_error_set(&err, SL_ERR_DATA,
			     "--single-transaction: %s:%ld was rejected (%s); nothing is committed",
			     source, line, reason);
		load_fail(ld, &err);
		return;
	}
	if (n == 1 && ld->job->input.encoding != ENCODING_LATIN1 && strstr(reason, "UTF-8"))
		log_info("hint: %s:%ld is not UTF-8; if the file is latin1 (ISO-8859-1), "
			 "--encoding latin1 reads it",
			 source, line);
	/* --max-errors N tolerates N rejected rows, as other loaders count
	 * them: the one after them stops the run (0: the first) */
	long max = ld->job->max_errors;
	if (max >= 0 && n > (uint64_t)max) {
		sl_error_set(&err, SL_ERR_DATA,
			     "stopped at rejected row %llu: --max-errors %ld tolerates %ld",
			     (unsigned long long)n, max, max);
		pthread_mutex_lock(&ld->lock);
		ld->limit_hit = true;
		pthread_mutex_unlock(&ld->lock);
		load_fail(ld, &err);
	}
}

/* Take a connection for a batch (the run's one connection with
 * --single-transaction). */
bool load_get_conn(struct load *ld, struct conn **c, struct sl_error *err)
{
	if (ld->single_conn) {
		*c = ld->single_conn;
		return true;
	}
	return pool_acquire(ld->pool, c, err);
}

void load_put_conn(struct load *ld, struct conn *c, bool broken)
{
	if (c && c != ld->single_conn)
		pool_release(ld->pool, c, broken);
}

/* Print the statements a real run would send. */
static void print_dry_run(struct load *ld)
{
	struct buf b;
	buf_init(&b, 0);
	const struct dialect *d = ld->drv->dialect;
	if (!ld->spec.update)
		buf_catf(&b, "-- method %s%s%s\n", method_name(ld->spec.method),
			 ld->method_reason ? ": " : "", ld->method_reason ? ld->method_reason : "");
	if (ld->job->truncate) {
		if (!sql_truncate(d, &b, &ld->spec))
			b.failed = true;
		buf_cat(&b, ";\n");
	}
	if (ld->spec.update) {
		buf_cat(&b, "-- one statement per row or per group of rows, values sent as "
			    "parameters\n");
		if (!sql_update_row(d, &b, &ld->spec))
			b.failed = true;
		buf_cat(&b, ";\n");
	} else if ((ld->spec.method == METHOD_COPY || ld->spec.method == METHOD_INFILE) &&
		   ld->spec.on_conflict == CONFLICT_ERROR) {
		if (!d->bulk_load(&b, &ld->spec))
			b.failed = true;
		buf_cat(&b, ";\n");
	} else {
		size_t per = sql_rows_per_statement(d, ld->ncols, ld->spec.batch_rows);
		buf_catf(&b, "-- up to %zu rows per statement, values sent as parameters\n", per);
		if (!sql_insert(d, &b, &ld->spec, 1))
			b.failed = true;
		buf_cat(&b, ";\n");
	}
	if (buf_failed(&b))
		log_error("the statements cannot be shown: out of memory or a name that "
			  "cannot be quoted");
	else
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
	    !(own ? pool_acquire(ld->pool, &c, &err) : load_get_conn(ld, &c, &err))) {
		load_fail(ld, &err);
		return false;
	}
	bool created = false;
	bool ok = create_table_from_sample(ld->drv, c, &ld->spec, b, ld->job->dry_run, &created,
					   &err);
	if (own)
		pool_release(ld->pool, c, !ok && err.kind == SL_ERR_CONNECTION);
	else
		load_put_conn(ld, c, !ok && err.kind == SL_ERR_CONNECTION);
	if (!ok) {
		load_fail(ld, &err);
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
	for (int i = 0; i < ld->nset_idx; i++)
		if (!cell_is_default(&rec->fields[ld->set_idx[i]]))
			return NULL;
	snprintf(msg, n, "the record names no column to set, only its key");
	return msg;
}

/* --on-conflict skip|update: why a record cannot be an upsert (a key part
 * NULL: NULL equals nothing, so the record would be inserted again on every
 * run instead of meeting its row), or NULL when it can. */
static const char *upsert_problem(struct load *ld, const struct record *rec, char *msg, size_t n)
{
	for (int k = 0; k < ld->nkey_idx; k++) {
		const struct cell *c = &rec->fields[ld->key_idx[k]];
		if (!c->ptr && !cell_is_default(c)) {
			snprintf(msg, n,
				 "key column \"%s\" is NULL: a NULL key part never matches a row, "
				 "so the record would be inserted again on every run",
				 ld->columns[ld->key_idx[k]]);
			return msg;
		}
	}
	return NULL;
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
		if (load_stopping(ld)) {
			ok = false;
			break;
		}
		struct record rec = {0};
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
		long long ordinal = ld->src_records[src_index]++;
		if (rec.has_ordinal) {
			ordinal = rec.ordinal; /* the reader's own (a key) */
		}
		if (ld->ckpt && checkpoint_covered(ld->ckpt, src_index, ordinal)) {
			/* committed by an earlier run of this job */
			atomic_fetch_add(&ld->live.rows_resumed, 1);
			continue;
		}
		atomic_fetch_add(&ld->live.rows_read, 1);
		if (st == READ_REJECT) {
			load_reject(ld, name, rec.line, rec.raw, rec.raw_len, err.msg);
			continue;
		}
		if (ld->spec.update && update_problem(ld, &rec, why, sizeof why)) {
			load_reject(ld, name, rec.line, rec.raw, rec.raw_len, why);
			continue;
		}
		if (!ld->spec.update && ld->spec.on_conflict != CONFLICT_ERROR &&
		    upsert_problem(ld, &rec, why, sizeof why)) {
			load_reject(ld, name, rec.line, rec.raw, rec.raw_len, why);
			continue;
		}
		int q = ld->nqueues > 1 ? (int)(key_hash(rec.fields, ld->key_idx, ld->key_fold,
							 ld->nkey_idx) %
						(uint64_t)ld->nqueues)
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
		if (batch_add_row(cur[q], &rec, src_index, true))
			cur[q]->meta[cur[q]->nrows - 1].ordinal = ordinal;
		else {
			sl_error_set(&err, SL_ERR_INTERNAL, "%s:%ld: out of memory", name,
				     rec.line);
			load_fail(ld, &err);
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
	if (ok)
		ld->src_read_all[src_index] = true;
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

/* How to go on after an interrupted run that committed rows. */
static const char *how_to_go_on(const struct load *ld)
{
	const struct job *job = ld->job;
	if (job->resume)
		return "to go on, run the same command again: --resume skips what is committed";
	if (ld->spec.update)
		return "to go on, run the same command again: it sets the same values";
	if (ld->spec.on_conflict != CONFLICT_ERROR)
		return "to go on, run the same command again: the rows already in are written by "
		       "key once more";
	if (job->truncate)
		return "run the same command again to start over (--truncate empties the table "
		       "first)";
	return "to start over, run it again with --truncate (it empties the table first); with "
	       "--resume a rerun goes on where a run stopped";
}

/* A signal ended the run: say so, what is committed to table and how to go
 * on. A unit of sluice copy leaves that to copy. */
static void note_interrupted(struct load *ld, const char *table, struct run_report *report)
{
	if (ld->job->open_reader)
		return;
	unsigned long long rows = atomic_load(&ld->live.rows_written);
	char msg[900];
	if (!rows)
		snprintf(
			msg, sizeof msg,
			"interrupted by %s: nothing is committed to %s; run the same command again",
			signals_name(), table);
	else
		snprintf(msg, sizeof msg,
			 "interrupted by %s: %llu rows are committed to %s, in whole batches (what "
			 "was in flight is rolled back); %s",
			 signals_name(), rows, table, how_to_go_on(ld));
	log_result("%s", msg); /* what the operator asked for: no error */
	report_add_error(report, msg);
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
		.timeout = job->timeout,
		/* --resume: the checkpoint row settles a lost COMMIT */
		.plain_commits = job->resume,
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

enum run_status load_table(const struct job *job, struct table_stats *out_stats,
			   struct run_report *out_report)
{
	struct load ld = {.job = job};
	struct run_report report = {0};
	struct table_stats stats = {0};
	struct reader *r = NULL;
	struct progress *progress = NULL;
	struct progress_view view = {0};
	pthread_t *threads = NULL;
	int nthreads = 0;
	bool queues = false;
	double t0 = now_seconds();
	struct sl_error err;
	sl_error_clear(&err);
	sl_error_clear(&ld.err);
	pthread_mutex_init(&ld.lock, NULL);
	signals_install();

	if (!plan_run(&ld)) {
		log_error("%s", ld.err.msg);
		report_add_error(out_report, ld.err.msg);
		snprintf(out_stats->table, sizeof out_stats->table, "%s",
			 job->table ? job->table : "");
		free(ld.schema);
		free(ld.table);
		out_report->status = RUN_USAGE;
		return RUN_USAGE;
	}
	snprintf(stats.table, sizeof stats.table, "%s%s%s", ld.schema ? ld.schema : "",
		 ld.schema ? "." : "", ld.table);
	ld.src_records = calloc((size_t)job->nsources, sizeof *ld.src_records);
	ld.src_read_all = calloc((size_t)job->nsources, sizeof *ld.src_read_all);
	if (!ld.src_records || !ld.src_read_all) {
		sl_error_set(&err, SL_ERR_INTERNAL, "out of memory");
		goto failed;
	}
	report.tables = &stats;
	report.ntables = 1;

	if (job->open_reader) {
		/* a table read (copy): nothing to check on disk */
		if (!job->open_reader(job->reader_ctx, 0, &r, &err))
			goto failed;
	} else if (!plan_check_outputs(&ld, &err)) {
		report.no_json = true; /* writing it would destroy an input */
		goto failed;
	} else if (!reader_open(&r, job->sources[0], &ld.input, &err) ||
		   !plan_check_sources(&ld, r, &err)) {
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
	view.target = job->target;
	progress_start(&progress, job->progress, job->stats_interval, job->quiet, &view);

	/* connect and check the table before reading any row, dry run or not */
	if (!connect_target(&ld, &err) || !plan_check_target(&ld, &err))
		goto failed;
	progress_set_pool(progress, ld.pool);
	if (!plan_columns(&ld, r, &err) ||
	    (!job->open_reader && !plan_check_columns(&ld, r, &err)) ||
	    !r->ops->set_columns(r, ld.columns, ld.ncols, &err))
		goto failed;
	if (ld.spec.update) {
		int key[ld.ncols], nkey;
		ld.set_idx = calloc((size_t)ld.ncols, sizeof *ld.set_idx);
		if (!ld.set_idx) {
			sl_error_set(&err, SL_ERR_INTERNAL, "out of memory");
			goto failed;
		}
		if (!sql_update_columns(&ld.spec, ld.set_idx, &ld.nset_idx, key, &nkey)) {
			sl_error_set(&err, SL_ERR_USAGE,
				     "--key and --set must name columns of the input");
			goto failed;
		}
		if (!ld.nset_idx) {
			sl_error_set(&err, SL_ERR_USAGE,
				     "nothing to update: every input column is a key");
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
	if (job->resume && !job->dry_run) {
		if (!plan_resume(&ld, &err))
			goto failed;
		/* a checkpoint row covers a run of records, so a batch must hold
		 * consecutive ones: no routing by key; and a keyed write keeps
		 * its input order with one writer only */
		ld.nqueues = 1;
		if (ld.keyed && workers > 1) {
			log_info("--resume with a key: one writer, so the last record of a key "
				 "wins");
			workers = 1;
		}
	}
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

	bool truncate = job->truncate;
	if (truncate && ld.ckpt && checkpoint_started(ld.ckpt)) {
		/* the rows an earlier run of the job committed stay: emptying
		 * the table would lose them while their checkpoints skip them */
		log_info("--truncate: job '%s' has committed rows already; continuing it "
			 "without emptying %s",
			 ld.job_name, ld.table);
		truncate = false;
	}
	if (!job->dry_run && truncate) {
		struct buf sql;
		buf_init(&sql, 0);
		struct conn *c = NULL;
		/* inside --single-transaction a TRUNCATE that would commit on its own
		 * (MySQL) becomes a DELETE, so the whole run stays all or nothing */
		bool del = job->single_transaction && !ld.drv->dialect->transactional_ddl;
		bool ok = (del ? sql_delete_all(ld.drv->dialect, &sql, &ld.spec)
			       : sql_truncate(ld.drv->dialect, &sql, &ld.spec)) &&
			  load_get_conn(&ld, &c, &err) && ld.drv->exec(c, sql.data, &err);
		load_put_conn(&ld, c, !ok && err.kind == SL_ERR_CONNECTION);
		buf_free(&sql);
		if (!ok)
			goto failed;
	}

	struct writer_arg wargs[64];
	if (!job->dry_run) {
		threads = calloc((size_t)workers, sizeof *threads);
		for (int i = 0; threads && i < workers && i < 64; i++) {
			wargs[i] = (struct writer_arg){&ld, i % ld.nqueues};
			if (pthread_create(&threads[i], NULL, writers_main, &wargs[i]) != 0)
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
	struct batch *cur[64] = {0};
	uint64_t pending_bytes = 0;
	long seq = 0;
	bool create_done = false;
	for (int i = 0; i < job->nsources && !load_stopping(&ld); i++) {
		if (ld.src_whole && ld.src_whole[i]) {
			/* --resume: an earlier run loaded all of it */
			log_info("%s: loaded by an earlier run of job '%s', skipped",
				 job->sources[i], ld.job_name);
			stats.files_skipped++;
			continue;
		}
		if (i > 0 && r && r->ops) {
			ld.blank_lines += r->blank_lines;
			reader_close(r);
			r = NULL;
		}
		if (i > 0 || !r) {
			if (!open_next_source(&ld, i, &r, &err)) {
				load_fail(&ld, &err);
				break;
			}
		}
		if (ld.ckpt && !job->resume_source && r && r->src &&
		    !strcmp(job->sources[i], "-")) {
			/* --resume: the stream must be the one the job was loading */
			bool whole;
			if (!checkpoint_check_source(ld.ckpt, i, source_identity(r->src), &whole,
						     &err)) {
				load_fail(&ld, &err);
				break;
			}
		}
		if (!load_source(&ld, r, i, cur, &seq, &pending_bytes, &create_done) ||
		    ld.input_failed)
			break;
	}
	if (!load_stopping(&ld)) {
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
		load_fail(&ld, &ld.input_err);
	if (job->dry_run && !ld.failed && !signals_caught()) {
		/* the display goes first: on a terminal stdout shares its line */
		progress_stop(progress);
		progress = NULL;
		print_dry_run(&ld); /* after any CREATE TABLE that --create printed */
	}

	if (ld.single_conn) {
		if (!ld.failed && !signals_caught()) {
			if (!ld.drv->commit(ld.single_conn, &err))
				load_fail(&ld, &err);
		}
		if (ld.failed || signals_caught()) {
			struct sl_error rb;
			ld.drv->rollback(ld.single_conn, &rb);
			atomic_store(&ld.live.rows_written, 0);
			atomic_store(&ld.live.rows_upsert_updated, 0);
		}
		pool_release(ld.pool, ld.single_conn, false);
		ld.single_conn = NULL;
	}
	if (!ld.failed && !rejects_flush(ld.rejects, &err))
		load_fail(&ld, &err); /* the rejects file is short: the run failed */
	if (ld.failed) {
		err = ld.err;
		goto failed;
	}
	report.status = signals_caught()				  ? RUN_INTERRUPTED
			: ld.live.rows_rejected || ld.live.rows_not_found ? RUN_PARTIAL
									  : RUN_OK;
	if (ld.ckpt && report.status != RUN_INTERRUPTED) {
		/* every record of these sources is in or rejected: a rerun skips
		 * them without reading */
		struct conn *c = NULL;
		bool ok = load_get_conn(&ld, &c, &err);
		for (int i = 0; ok && i < job->nsources; i++)
			if (ld.src_read_all[i] && strcmp(job->sources[i], "-") &&
			    !job->resume_source)
				ok = checkpoint_source_done(ld.ckpt, c, i, ld.src_records[i], &err);
		load_put_conn(&ld, c, !ok && err.kind == SL_ERR_CONNECTION);
		if (!ok)
			goto failed;
	}
	if (report.status == RUN_INTERRUPTED)
		note_interrupted(&ld, stats.table, &report);
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
		atomic_store(&ld.live.rows_upsert_updated, 0);
		pool_release(ld.pool, ld.single_conn, false);
		ld.single_conn = NULL;
	}
	report.status = signals_caught()	   ? RUN_INTERRUPTED
			: err.kind == SL_ERR_USAGE ? RUN_USAGE
						   : RUN_FAILED;
	if (err.kind != SL_ERR_INTERRUPTED) {
		log_error("%s", err.msg);
		report_add_error(&report, err.msg);
	}
	if (report.status == RUN_INTERRUPTED)
		note_interrupted(&ld, stats.table, &report);

finish:
	progress_stop(progress);
	stats.rows_read = ld.live.rows_read;
	stats.rows_written = ld.live.rows_written;
	stats.rows_rejected = ld.live.rows_rejected;
	stats.rows_not_found = ld.live.rows_not_found;
	stats.rows_skipped = ld.live.rows_skipped;
	/* inserted or updated: what a plain load and an update write is plain;
	 * an upsert's split is what the servers said (REPORT_UNKNOWN when one
	 * did not) */
	if (ld.spec.update) {
		stats.rows_updated = stats.rows_written;
	} else if (job->on_conflict != CONFLICT_UPDATE) {
		stats.rows_inserted = stats.rows_written;
	} else if (ld.live.upsert_unknown) {
		stats.rows_inserted = stats.rows_updated = REPORT_UNKNOWN;
	} else {
		stats.rows_updated = ld.live.rows_upsert_updated;
		stats.rows_inserted = stats.rows_written - stats.rows_updated;
	}
	stats.rows_resumed = ld.live.rows_resumed;
	if (r)
		ld.blank_lines += r->blank_lines; /* the source being read when the run ended */
	stats.blank_lines = ld.blank_lines;
	if (stats.blank_lines && report.status != RUN_USAGE)
		log_warn("%llu blank input lines skipped", (unsigned long long)stats.blank_lines);
	if (report.status == RUN_OK && !stats.rows_read && !stats.rows_resumed &&
	    !stats.files_skipped && !job->open_reader) {
		/* an empty input is no silent success */
		struct buf names;
		buf_init(&names, 0);
		for (int i = 0; i < job->nsources; i++)
			buf_catf(&names, "%s%s", i ? ", " : "",
				 strcmp(job->sources[i], "-") ? job->sources[i] : "stdin");
		log_warn("no rows in %s", buf_str(&names));
		buf_free(&names);
	}
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
	checkpoint_close(ld.ckpt);
	free(ld.src_records);
	free(ld.src_read_all);
	free(ld.src_whole);
	free(ld.set_idx);
	pthread_mutex_destroy(&ld.lock);
	return status;
}

enum run_status load_run(const struct job *job)
{
	struct table_stats stats = {0};
	struct run_report report = {0};
	double started = wall_seconds();
	enum run_status status = load_table(job, &stats, &report);
	report.tables = &stats;
	report.ntables = 1;
	report.started = started;
	status = report_finish(&report, job, status);
	for (int i = 0; i < report.nerrors; i++)
		free(report.errors[i]);
	return status;
}
