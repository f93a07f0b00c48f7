/* include/sluice/pool.h
 * The connection pool shared by the writers: bounded size, FIFO waiting with
 * a timeout, a health check before reuse, idle reaping above the minimum,
 * reconnect with backoff, and exact statistics.
 */
#ifndef SLUICE_POOL_H
#define SLUICE_POOL_H

#include <stdbool.h>
#include <stdint.h>

#include "sluice/driver.h"
#include "sluice/error.h"

struct pool_config {
	int min;		/* connections kept open even when idle */
	int max;		/* never more than this many open */
	double acquire_timeout; /* seconds a writer may wait; 0: no limit */
	double idle_timeout;	/* seconds an idle connection above min lives */
	double recheck_after;	/* a connection idle less long is reused without
				 * asking the server (the client's own view only);
				 * 0: always asks */
	int retries;		/* reconnect attempts when connecting fails */
	double backoff_base;	/* first reconnect delay, seconds (doubles each time) */
	double timeout;		/* --timeout: seconds a connection may make no progress
				 * before it counts as broken (conn_options); 0: for ever */
	bool plain_commits;	/* conn_options.plain_commits */
};

struct pool_stats {
	int total; /* open connections */
	int idle;
	int busy;
	int waiting; /* writers waiting for a connection now */
	uint64_t created;
	uint64_t closed;
	uint64_t acquires;
	double acquire_wait_mean; /* seconds */
	double acquire_wait_max;
	uint64_t errors;     /* connections found or reported broken, failed connects */
	uint64_t reconnects; /* connects retried after a failure */
};

struct pool;

/* A pool of connections to url through drv; opens cfg->min connections now.
 * False with err when those cannot be opened. The caller owns *out. */
bool pool_create(struct pool **out, const struct driver *drv, const char *url,
		 const struct pool_config *cfg, struct sl_error *err);
/* Take a connection, waiting in FIFO order for one to be free. False with err
 * on acquire timeout (SL_ERR_CONNECTION, "timed out") or when a new
 * connection cannot be made within the retries. */
bool pool_acquire(struct pool *p, struct conn **out, struct sl_error *err);
/* Give a connection back; broken closes it instead of keeping it. */
void pool_release(struct pool *p, struct conn *c, bool broken);
/* Close idle connections above the minimum that have idled past the timeout. */
void pool_reap(struct pool *p);
void pool_get_stats(struct pool *p, struct pool_stats *out);
/* Close every connection; no connection may be out. */
void pool_destroy(struct pool *p);

#endif
