/* include/sluice/run.h
 * A run's context, at the bottom of the load pipeline: the failure latch,
 * rejects counted against --max-errors, the connections lent to batches and
 * the live counters. The orchestrator (load.c), the planner (plan.c) and the
 * writers (writers.c) stand on it; it knows none of them.
 */
#ifndef SLUICE_RUN_H
#define SLUICE_RUN_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

#include "sluice/driver.h"
#include "sluice/error.h"
#include "sluice/job.h"
#include "sluice/pool.h"
#include "sluice/queue.h"
#include "sluice/report.h"

struct rejects;

struct run {
	const struct job *job;	 /* its --max-errors, --single-transaction */
	const atomic_bool *halt; /* a failure elsewhere to stop at, or NULL */
	struct pool *pool;
	struct conn *single_conn; /* --single-transaction: held for the whole run */
	struct rejects *rejects;
	struct live_stats live;

	/* the queues a failure wakes, once they exist (run_wake_on_fail) */
	struct queue *work;
	int nwork;
	struct queue *spare;

	pthread_mutex_t lock; /* guards err, failed and limit_hit */
	struct sl_error err;  /* the error that stopped the run */
	bool failed;
	bool limit_hit; /* --max-errors reached */
};

/* Start run for job: no failure, no connections, counters at zero; halt
 * (may be NULL) stops it as a failure once set. */
void run_init(struct run *run, const struct job *job, const atomic_bool *halt);
/* Free what run_init set up (not the pool, the rejects or the queues). */
void run_destroy(struct run *run);
/* The queues run_fail aborts, so blocked readers and writers wake. */
void run_wake_on_fail(struct run *run, struct queue *work, int nwork, struct queue *spare);

/* Stop the run with err (the first error wins) and wake everyone. */
void run_fail(struct run *run, const struct sl_error *err);
bool run_failed(struct run *run);
/* A signal arrived or the run failed (here or, through the halt flag,
 * in another part of it): stop taking work. */
bool run_stopping(struct run *run);
/* Count and report one rejected record; stops the run at --max-errors, and
 * on any reject under --single-transaction. */
void run_reject(struct run *run, const char *source, long line, const char *raw, size_t raw_len,
		const char *reason);
/* Take a connection for a batch (the run's one connection with
 * --single-transaction); give it back, closing it when broken. */
bool run_get_conn(struct run *run, struct conn **c, struct sl_error *err);
void run_put_conn(struct run *run, struct conn *c, bool broken);

#endif
