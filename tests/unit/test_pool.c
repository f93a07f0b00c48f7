/* tests/unit/test_pool.c
 * The connection pool with a fake driver: limits under many threads, FIFO
 * waiting, acquire timeout, idle reaping, broken connections replaced,
 * reconnect with backoff, and every counter exact.
 */
#include <check.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "sluice/log.h"
#include "sluice/pool.h"

struct conn {
	int id;
	bool healthy;
};

static atomic_int next_id;
static atomic_int fail_connects; /* connects still to fail */
static atomic_int open_now;

static _Atomic double last_timeout; /* the --timeout the last connect was given */

static bool fake_connect(const char *url, const struct conn_options *opts, struct conn **out,
			 struct sl_error *err)
{
	(void)url;
	atomic_store(&last_timeout, opts ? opts->timeout : -1);
	if (atomic_load(&fail_connects) > 0) {
		atomic_fetch_sub(&fail_connects, 1);
		return sl_error_set(err, SL_ERR_CONNECTION, "connection refused");
	}
	struct conn *c = malloc(sizeof *c);
	c->id = atomic_fetch_add(&next_id, 1) + 1;
	c->healthy = true;
	atomic_fetch_add(&open_now, 1);
	*out = c;
	return true;
}

static void fake_close(struct conn *c)
{
	atomic_fetch_sub(&open_now, 1);
	free(c);
}

static bool fake_healthy(struct conn *c, bool ask_server)
{
	return !ask_server || c->healthy;
}

static const struct driver fake = {
	.name = "fake",
	.conn =
		{
			.connect = fake_connect,
			.close = fake_close,
			.healthy = fake_healthy,
		},
};

static void reset(void)
{
	atomic_store(&next_id, 0);
	atomic_store(&fail_connects, 0);
	atomic_store(&open_now, 0);
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static struct pool *make(int min, int max, double acquire_timeout, double idle_timeout, int retries)
{
	struct pool_config cfg = {.min = min,
				  .max = max,
				  .acquire_timeout = acquire_timeout,
				  .idle_timeout = idle_timeout,
				  .retries = retries,
				  .backoff_base = 0.01};
	struct pool *p;
	struct sl_error err;
	ck_assert_msg(pool_create(&p, &fake, "fake://", &cfg, &err), "%s", err.msg);
	return p;
}

/* --- many threads, limits respected --- */
static struct pool *shared;
static atomic_int in_use, max_in_use;

static void *hammer(void *arg)
{
	(void)arg;
	for (int i = 0; i < 200; i++) {
		struct conn *c;
		struct sl_error err;
		ck_assert(pool_acquire(shared, &c, &err));
		int n = atomic_fetch_add(&in_use, 1) + 1;
		int m = atomic_load(&max_in_use);
		while (n > m && !atomic_compare_exchange_weak(&max_in_use, &m, n))
			;
		if (i % 50 == 0)
			usleep(100);
		atomic_fetch_sub(&in_use, 1);
		pool_release(shared, c, false);
	}
	return NULL;
}

START_TEST(limits_under_threads)
{
	reset();
	shared = make(0, 4, 0, 60, 0);
	pthread_t t[16];
	for (int i = 0; i < 16; i++)
		pthread_create(&t[i], NULL, hammer, NULL);
	for (int i = 0; i < 16; i++)
		pthread_join(t[i], NULL);
	struct pool_stats s;
	pool_get_stats(shared, &s);
	ck_assert_int_le(atomic_load(&max_in_use), 4);
	ck_assert_int_eq(s.acquires, 16 * 200);
	ck_assert_int_le(s.created, 4);
	ck_assert_int_eq(s.total, (int)s.created);
	ck_assert_int_eq(s.busy, 0);
	ck_assert_int_eq(s.waiting, 0);
	ck_assert_int_eq(s.idle, s.total);
	ck_assert_int_eq(s.errors, 0);
	ck_assert_int_eq(s.closed, 0);
	ck_assert(s.acquire_wait_max >= s.acquire_wait_mean);
	pool_destroy(shared);
	ck_assert_int_eq(atomic_load(&open_now), 0);
}
END_TEST

/* --- FIFO --- */
static int order[3];
static atomic_int order_n;

static void *waiter(void *arg)
{
	struct conn *c;
	struct sl_error err;
	ck_assert(pool_acquire(shared, &c, &err));
	order[atomic_fetch_add(&order_n, 1)] = (int)(long)arg;
	usleep(1000);
	pool_release(shared, c, false);
	return NULL;
}

START_TEST(fifo_waiting)
{
	reset();
	atomic_store(&order_n, 0);
	shared = make(1, 1, 0, 60, 0);
	struct conn *held;
	struct sl_error err;
	ck_assert(pool_acquire(shared, &held, &err));
	pthread_t t[3];
	for (long i = 0; i < 3; i++) {
		pthread_create(&t[i], NULL, waiter, (void *)i);
		/* let each one queue up before the next */
		for (int k = 0; k < 200; k++) {
			struct pool_stats s;
			pool_get_stats(shared, &s);
			if (s.waiting == i + 1)
				break;
			usleep(1000);
		}
	}
	struct pool_stats s;
	pool_get_stats(shared, &s);
	ck_assert_int_eq(s.waiting, 3);
	ck_assert_int_eq(s.busy, 1);
	pool_release(shared, held, false);
	for (int i = 0; i < 3; i++)
		pthread_join(t[i], NULL);
	ck_assert_int_eq(order[0], 0);
	ck_assert_int_eq(order[1], 1);
	ck_assert_int_eq(order[2], 2);
	pool_get_stats(shared, &s);
	ck_assert_int_eq(s.acquires, 4);
	ck_assert_int_eq(s.created, 1);
	ck_assert(s.acquire_wait_max > 0);
	pool_destroy(shared);
}
END_TEST

START_TEST(acquire_timeout)
{
	reset();
	struct pool *p = make(0, 1, 0.15, 60, 0);
	struct conn *held, *c;
	struct sl_error err;
	ck_assert(pool_acquire(p, &held, &err));
	double t0 = now();
	ck_assert(!pool_acquire(p, &c, &err));
	double waited = now() - t0;
	ck_assert(waited >= 0.14 && waited < 2);
	ck_assert_int_eq(err.kind, SL_ERR_CONNECTION);
	ck_assert_ptr_nonnull(strstr(err.msg, "timed out"));
	struct pool_stats s;
	pool_get_stats(p, &s);
	ck_assert_int_eq(s.waiting, 0);
	ck_assert_int_eq(s.acquires, 1);
	ck_assert_int_eq(s.errors, 1);
	pool_release(p, held, false);
	ck_assert(pool_acquire(p, &c, &err)); /* the pool still works */
	pool_release(p, c, false);
	pool_destroy(p);
}
END_TEST

START_TEST(idle_reaping)
{
	reset();
	struct pool *p = make(1, 3, 0, 0.05, 0);
	struct conn *c[3];
	struct sl_error err;
	for (int i = 0; i < 3; i++)
		ck_assert(pool_acquire(p, &c[i], &err));
	for (int i = 0; i < 3; i++)
		pool_release(p, c[i], false);
	struct pool_stats s;
	pool_get_stats(p, &s);
	ck_assert_int_eq(s.total, 3);
	usleep(80000);
	pool_reap(p);
	pool_get_stats(p, &s);
	ck_assert_int_eq(s.total, 1); /* the minimum stays */
	ck_assert_int_eq(s.idle, 1);
	ck_assert_int_eq(s.closed, 2);
	ck_assert_int_eq(s.created, 3);
	ck_assert_int_eq(atomic_load(&open_now), 1);
	pool_destroy(p);
	ck_assert_int_eq(atomic_load(&open_now), 0);
}
END_TEST

START_TEST(broken_connection_replaced)
{
	reset();
	struct pool *p = make(0, 2, 0, 60, 3);
	struct conn *c;
	struct sl_error err;
	ck_assert(pool_acquire(p, &c, &err));
	int first = c->id;
	c->healthy = false; /* the server went away while it was idle */
	pool_release(p, c, false);
	ck_assert(pool_acquire(p, &c, &err));
	ck_assert_int_ne(c->id, first);
	struct pool_stats s;
	pool_get_stats(p, &s);
	ck_assert_int_eq(s.created, 2);
	ck_assert_int_eq(s.closed, 1);
	ck_assert_int_eq(s.errors, 1);
	ck_assert_int_eq(s.reconnects, 1);
	ck_assert_int_eq(s.total, 1);
	/* a writer that saw it break gives it back as broken */
	pool_release(p, c, true);
	pool_get_stats(p, &s);
	ck_assert_int_eq(s.total, 0);
	ck_assert_int_eq(s.closed, 2);
	ck_assert_int_eq(s.errors, 2);
	pool_destroy(p);
	ck_assert_int_eq(atomic_load(&open_now), 0);
}
END_TEST

/* A connection given back a moment ago is taken again without a round
 * trip; one idle longer than recheck_after is asked, and replaced when the
 * server went away. */
START_TEST(recent_connection_not_asked)
{
	reset();
	struct pool_config cfg = {.max = 1,
				  .idle_timeout = 60,
				  .recheck_after = 0.2,
				  .retries = 3,
				  .backoff_base = 0.01};
	struct pool *p;
	struct sl_error err;
	ck_assert(pool_create(&p, &fake, "fake://", &cfg, &err));
	struct conn *c;
	ck_assert(pool_acquire(p, &c, &err));
	int first = c->id;
	c->healthy = false; /* only a round trip would see it */
	pool_release(p, c, false);
	ck_assert(pool_acquire(p, &c, &err));
	ck_assert_int_eq(c->id, first);
	pool_release(p, c, false);
	usleep(300000);
	ck_assert(pool_acquire(p, &c, &err));
	ck_assert_int_ne(c->id, first);
	struct pool_stats s;
	pool_get_stats(p, &s);
	ck_assert_int_eq(s.created, 2);
	ck_assert_int_eq(s.errors, 1);
	pool_release(p, c, false);
	pool_destroy(p);
	ck_assert_int_eq(atomic_load(&open_now), 0);
}
END_TEST

START_TEST(timeout_reaches_the_driver)
{
	reset();
	struct pool_config cfg = {.max = 1, .idle_timeout = 60, .timeout = 7.5};
	struct pool *p;
	struct conn *c;
	struct sl_error err;
	ck_assert(pool_create(&p, &fake, "fake://", &cfg, &err));
	ck_assert(pool_acquire(p, &c, &err));
	ck_assert(atomic_load(&last_timeout) == 7.5);
	pool_release(p, c, false);
	pool_destroy(p);
}
END_TEST

START_TEST(reconnect_with_backoff)
{
	reset();
	struct pool *p = make(0, 1, 0, 60, 3);
	struct conn *c;
	struct sl_error err;
	atomic_store(&fail_connects, 2);
	ck_assert(pool_acquire(p, &c, &err));
	struct pool_stats s;
	pool_get_stats(p, &s);
	ck_assert_int_eq(s.reconnects, 2);
	ck_assert_int_eq(s.errors, 2);
	ck_assert_int_eq(s.created, 1);
	pool_release(p, c, true);
	atomic_store(&fail_connects, 10); /* more failures than retries */
	ck_assert(!pool_acquire(p, &c, &err));
	ck_assert_int_eq(err.kind, SL_ERR_CONNECTION);
	pool_get_stats(p, &s);
	ck_assert_int_eq(s.total, 0);
	ck_assert_int_eq(s.busy, 0);
	ck_assert_int_eq(s.reconnects, 5);
	pool_destroy(p);
}
END_TEST

int main(void)
{
	/* the failed connects these tests provoke warn: expected, not noise */
	log_set_level(LOG_ERROR);
	Suite *s = suite_create("pool");
	TCase *tc = tcase_create("core");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, limits_under_threads);
	tcase_add_test(tc, fifo_waiting);
	tcase_add_test(tc, acquire_timeout);
	tcase_add_test(tc, idle_reaping);
	tcase_add_test(tc, broken_connection_replaced);
	tcase_add_test(tc, recent_connection_not_asked);
	tcase_add_test(tc, reconnect_with_backoff);
	tcase_add_test(tc, timeout_reaches_the_driver);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
