/* src/pipeline/run.c
 * A run's context (see include/sluice/run.h): the failure latch, counting
 * rejects against --max-errors, lending connections, the live counters.
 * Thread-safe; it calls nothing above it in the pipeline.
 */
#include "sluice/run.h"

#include <stdio.h>
#include <string.h>

#include "sluice/log.h"
#include "sluice/rejects.h"
#include "sluice/signals.h"

void run_init(struct run *run, const struct job *job, const atomic_bool *halt)
{
	*run = (struct run){.job = job, .halt = halt};
	sl_error_clear(&run->err);
	pthread_mutex_init(&run->lock, NULL);
}

void run_destroy(struct run *run)
{
	pthread_mutex_destroy(&run->lock);
}

void run_wake_on_fail(struct run *run, struct queue *work, int nwork, struct queue *spare)
{
	run->work = work;
	run->nwork = nwork;
	run->spare = spare;
}

void run_fail(struct run *run, const struct sl_error *err)
{
	pthread_mutex_lock(&run->lock);
	if (!run->failed) {
		run->failed = true;
		run->err = *err;
	}
	pthread_mutex_unlock(&run->lock);
	for (int i = 0; i < run->nwork; i++)
		queue_abort(&run->work[i]);
	if (run->spare)
		queue_abort(run->spare);
}

bool run_failed(struct run *run)
{
	pthread_mutex_lock(&run->lock);
	bool f = run->failed;
	pthread_mutex_unlock(&run->lock);
	return f;
}

bool run_stopping(struct run *run)
{
	if (run->halt && atomic_load(run->halt) && !run_failed(run)) {
		struct sl_error e;
		sl_error_set(&e, SL_ERR_INTERNAL, "stopped: another part of the run failed");
		run_fail(run, &e);
	}
	return signals_caught() || run_failed(run);
}

void run_reject(struct run *run, const char *source, long line, const char *raw, size_t raw_len,
		const char *reason)
{
	pthread_mutex_lock(&run->lock);
	bool over = run->limit_hit;
	pthread_mutex_unlock(&run->lock);
	if (over)
		return; /* the run is stopping; a row past the limit is not written either */
	/* the reason without the line a reader put in it: the rejects log
	 * and the messages name the file and line already */
	char own[32];
	int k = snprintf(own, sizeof own, "line %ld: ", line);
	if (k > 0 && !strncmp(reason, own, (size_t)k))
		reason += k;
	rejects_add(run->rejects, source, line, raw, raw_len, reason);
	uint64_t n = atomic_fetch_add(&run->live.rows_rejected, 1) + 1;
	struct sl_error err;
	if (rejects_failed(run->rejects, &err)) {
		/* a rejects file that cannot be written stops the run */
		run_fail(run, &err);
		return;
	}
	if (run->job->single_transaction) {
		/* all or nothing: one rejected row, whatever refused it, fails the run */
		sl_error_set(&err, SL_ERR_DATA,
			     "--single-transaction: %s:%ld was rejected (%s); nothing is committed",
			     source, line, reason);
		run_fail(run, &err);
		return;
	}
	if (n == 1 && run->job->input.encoding != ENCODING_LATIN1 && strstr(reason, "UTF-8"))
		log_info("hint: %s:%ld is not UTF-8; if the file is latin1 (ISO-8859-1), "
			 "--encoding latin1 reads it",
			 source, line);
	/* --max-errors N tolerates N rejected rows, as other loaders count
	 * them: the one after them stops the run (0: the first) */
	long max = run->job->max_errors;
	if (max >= 0 && n > (uint64_t)max) {
		sl_error_set(&err, SL_ERR_DATA,
			     "stopped at rejected row %llu: --max-errors %ld tolerates %ld",
			     (unsigned long long)n, max, max);
		pthread_mutex_lock(&run->lock);
		run->limit_hit = true;
		pthread_mutex_unlock(&run->lock);
		run_fail(run, &err);
	}
}

bool run_get_conn(struct run *run, struct conn **c, struct sl_error *err)
{
	if (run->single_conn) {
		*c = run->single_conn;
		return true;
	}
	return pool_acquire(run->pool, c, err);
}

void run_put_conn(struct run *run, struct conn *c, bool broken)
{
	if (c && c != run->single_conn)
		pool_release(run->pool, c, broken);
}
