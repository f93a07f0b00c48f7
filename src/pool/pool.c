/* src/pool/pool.c
 * The connection pool (see include/sluice/pool.h). One mutex guards the
 * lists and counters; waiters queue so they are served in order.
 * Connecting and health checks run outside the lock.
 */
#include "sluice/pool.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sluice/log.h"
#include "sluice/prng.h"
#include "sluice/signals.h"
#include "sluice/url.h"

struct idle_conn {
	struct conn *c;
	double since; /* when it became idle, monotonic seconds */
};

struct waiter {
	struct waiter *next;
};

struct pool {
	const struct driver *drv;
	char *url;
	struct pool_config cfg;
	struct conn_options opts; /* how each connection waits on the server */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct idle_conn *idle; /* stack: the most recently used on top */
	int nidle;
	int total; /* open plus being opened */
	int busy;
	struct waiter *head; /* writers waiting, first come first served */
	struct waiter *tail;
	int waiting;
	uint64_t created, closed, acquires, errors, reconnects;
	double wait_total, wait_max;
};

static double mono_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Open one connection, retrying with exponential backoff and jitter.
 * Called without the lock. A signal ends the retries and the backoff at
 * once (SL_ERR_INTERRUPTED). */
static bool open_conn(struct pool *p, struct conn **out, struct sl_error *err)
{
	double delay = p->cfg.backoff_base > 0 ? p->cfg.backoff_base : 0.1;
	for (int attempt = 0;; attempt++) {
		if (signals_caught())
			return sl_error_set(err, SL_ERR_INTERRUPTED,
					    "interrupted while connecting");
		if (p->drv->conn.connect(p->url, &p->opts, out, err)) {
			pthread_mutex_lock(&p->lock);
			p->created++;
			pthread_mutex_unlock(&p->lock);
			return true;
		}
		if (err->kind == SL_ERR_INTERRUPTED)
			return false;
		pthread_mutex_lock(&p->lock);
		p->errors++;
		bool again = err->kind == SL_ERR_CONNECTION && attempt < p->cfg.retries;
		if (again)
			p->reconnects++;
		pthread_mutex_unlock(&p->lock);
		if (!again)
			return false;
		/* one warning that it retries; each attempt's reason with -v (a
		 * refused port repeated every attempt was the same line 4 times),
		 * and the last one in the caller's error */
		if (attempt == 0) {
			char red[512];
			url_redact(p->url, red, sizeof red);
			log_warn("%s: cannot connect; retrying (%d time%s at most)", red,
				 p->cfg.retries, p->cfg.retries == 1 ? "" : "s");
		}
		log_debug("%s; reconnecting in %.1f s (attempt %d of %d)", err->msg, delay,
			  attempt + 1, p->cfg.retries);
		if (!signals_sleep(delay * (0.75 + 0.5 * prng_unit())))
			return sl_error_set(err, SL_ERR_INTERRUPTED,
					    "interrupted while waiting to reconnect");
		delay = delay * 2 > 5 ? 5 : delay * 2;
	}
}

bool pool_create(struct pool **out, const struct driver *drv, const char *url,
		 const struct pool_config *cfg, struct sl_error *err)
{
	struct pool *p = calloc(1, sizeof *p);
	if (!p)
		return sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
	p->drv = drv;
	p->url = strdup(url);
	p->cfg = *cfg;
	p->opts.timeout = cfg->timeout;
	p->opts.plain_commits = cfg->plain_commits;
	if (p->cfg.max < 1)
		p->cfg.max = 1;
	if (p->cfg.min > p->cfg.max)
		p->cfg.min = p->cfg.max;
	p->idle = calloc((size_t)p->cfg.max, sizeof *p->idle);
	pthread_mutex_init(&p->lock, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&p->cond, &ca);
	pthread_condattr_destroy(&ca);
	if (!p->url || !p->idle) {
		pool_destroy(p);
		return sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
	}
	for (int i = 0; i < p->cfg.min; i++) {
		struct conn *c;
		if (!open_conn(p, &c, err)) {
			pool_destroy(p);
			return false;
		}
		p->idle[p->nidle++] = (struct idle_conn){c, mono_now()};
		p->total++;
	}
	*out = p;
	return true;
}

/* Close a connection and count it; called without the lock. */
static void close_conn(struct pool *p, struct conn *c)
{
	p->drv->conn.close(c);
	pthread_mutex_lock(&p->lock);
	p->closed++;
	pthread_mutex_unlock(&p->lock);
}

/* Remove w from the waiters' queue. */
static void unlink_waiter(struct pool *p, struct waiter *w)
{
	struct waiter **pp = &p->head;
	while (*pp && *pp != w)
		pp = &(*pp)->next;
	if (*pp)
		*pp = w->next;
	if (p->tail == w) {
		p->tail = NULL;
		for (struct waiter *q = p->head; q; q = q->next)
			p->tail = q;
	}
	p->waiting--;
}

bool pool_acquire(struct pool *p, struct conn **out, struct sl_error *err)
{
	double start = mono_now();
	double deadline = p->cfg.acquire_timeout > 0 ? start + p->cfg.acquire_timeout : 0;
	struct waiter self = {NULL};
	pthread_mutex_lock(&p->lock);
	/* join the queue; only its head may take a connection */
	if (p->tail)
		p->tail->next = &self;
	else
		p->head = &self;
	p->tail = &self;
	p->waiting++;
	while (!(p->head == &self && (p->nidle > 0 || p->total < p->cfg.max))) {
		int rc;
		if (deadline) {
			struct timespec ts;
			ts.tv_sec = (time_t)deadline;
			ts.tv_nsec = (long)((deadline - (double)ts.tv_sec) * 1e9);
			rc = pthread_cond_timedwait(&p->cond, &p->lock, &ts);
		} else {
			rc = pthread_cond_wait(&p->cond, &p->lock);
		}
		if (rc == ETIMEDOUT &&
		    !(p->head == &self && (p->nidle > 0 || p->total < p->cfg.max))) {
			unlink_waiter(p, &self);
			p->errors++;
			pthread_cond_broadcast(&p->cond);
			pthread_mutex_unlock(&p->lock);
			return sl_error_set(err, SL_ERR_CONNECTION,
					    "timed out after %.1f s waiting for a connection "
					    "(--acquire-timeout)",
					    p->cfg.acquire_timeout);
		}
	}
	unlink_waiter(p, &self);
	/* our turn */
	p->acquires++;
	double waited = mono_now() - start;
	p->wait_total += waited;
	if (waited > p->wait_max)
		p->wait_max = waited;
	struct conn *c = NULL;
	bool fresh = false;
	if (p->nidle > 0) {
		c = p->idle[--p->nidle].c;
		fresh = mono_now() - p->idle[p->nidle].since < p->cfg.recheck_after;
	}
	p->total += c ? 0 : 1; /* reserve the slot for a new connection */
	p->busy++;
	pthread_cond_broadcast(&p->cond);
	pthread_mutex_unlock(&p->lock);

	/* health check a reused connection; replace it when broken. One given
	 * back a moment ago (the writer's own, between its batches) is not
	 * asked again: a round trip per batch, and a server gone since then
	 * fails the batch's first statement, which the writer retries */
	if (c && !p->drv->conn.healthy(c, !fresh)) {
		pthread_mutex_lock(&p->lock);
		p->errors++;
		pthread_mutex_unlock(&p->lock);
		close_conn(p, c);
		c = NULL;
		pthread_mutex_lock(&p->lock);
		p->reconnects++;
		pthread_mutex_unlock(&p->lock);
	}
	if (!c && !open_conn(p, &c, err)) {
		pthread_mutex_lock(&p->lock);
		p->total--;
		p->busy--;
		pthread_cond_broadcast(&p->cond);
		pthread_mutex_unlock(&p->lock);
		return false;
	}
	*out = c;
	return true;
}

void pool_release(struct pool *p, struct conn *c, bool broken)
{
	if (broken) {
		p->drv->conn.close(c);
		pthread_mutex_lock(&p->lock);
		p->closed++;
		p->errors++;
		p->total--;
		p->busy--;
	} else {
		pthread_mutex_lock(&p->lock);
		p->idle[p->nidle++] = (struct idle_conn){c, mono_now()};
		p->busy--;
	}
	pthread_cond_broadcast(&p->cond);
	pthread_mutex_unlock(&p->lock);
	pool_reap(p);
}

void pool_reap(struct pool *p)
{
	double now = mono_now();
	for (;;) {
		struct conn *victim = NULL;
		pthread_mutex_lock(&p->lock);
		/* the oldest idle connection is at the bottom of the stack */
		if (p->nidle > 0 && p->total > p->cfg.min && p->waiting == 0 &&
		    now - p->idle[0].since >= p->cfg.idle_timeout) {
			victim = p->idle[0].c;
			memmove(p->idle, p->idle + 1, (size_t)(p->nidle - 1) * sizeof *p->idle);
			p->nidle--;
			p->total--;
		}
		pthread_mutex_unlock(&p->lock);
		if (!victim)
			return;
		close_conn(p, victim);
	}
}

void pool_get_stats(struct pool *p, struct pool_stats *out)
{
	pthread_mutex_lock(&p->lock);
	out->total = p->total;
	out->idle = p->nidle;
	out->busy = p->busy;
	out->waiting = p->waiting;
	out->created = p->created;
	out->closed = p->closed;
	out->acquires = p->acquires;
	out->acquire_wait_mean = p->acquires ? p->wait_total / (double)p->acquires : 0;
	out->acquire_wait_max = p->wait_max;
	out->errors = p->errors;
	out->reconnects = p->reconnects;
	pthread_mutex_unlock(&p->lock);
}

void pool_destroy(struct pool *p)
{
	if (!p)
		return;
	for (int i = 0; i < p->nidle; i++) {
		p->drv->conn.close(p->idle[i].c);
		p->closed++;
	}
	free(p->idle);
	free(p->url);
	pthread_mutex_destroy(&p->lock);
	pthread_cond_destroy(&p->cond);
	free(p);
}
