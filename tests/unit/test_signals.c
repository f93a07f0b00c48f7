/* tests/unit/test_signals.c
 * The signal flag and what it wakes: sleeps end at once, a watched
 * connection is cancelled at the signal and cut at the deadline, the
 * pool's reconnect backoff stops, and a second signal exits at once. Each
 * test runs in a process of its own (check forks), so each sees its first
 * signal.
 */
#include <check.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "sluice/log.h"
#include "sluice/pool.h"
#include "sluice/signals.h"

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A thread that sends the process SIGINT after a delay. */
static void *strike_main(void *arg)
{
	struct timespec ts = {0, (long)(*(double *)arg * 1e9)};
	nanosleep(&ts, NULL);
	kill(getpid(), SIGINT);
	return NULL;
}

static double strike_delay;

static pthread_t strike_after(double seconds)
{
	pthread_t th;
	strike_delay = seconds;
	pthread_create(&th, NULL, strike_main, &strike_delay);
	return th;
}

START_TEST(no_signal_no_wake)
{
	signals_install();
	ck_assert_int_eq(signals_caught(), 0);
	ck_assert(signals_deadline(now()) == 0);
	double t0 = now();
	ck_assert(signals_sleep(0.1));
	ck_assert(now() - t0 >= 0.1);
	struct pollfd p = {.fd = signals_fd(), .events = POLLIN};
	ck_assert_int_eq(poll(&p, 1, 0), 0);
}
END_TEST

START_TEST(sleep_wakes_at_the_signal)
{
	signals_install();
	pthread_t th = strike_after(0.05);
	double t0 = now();
	ck_assert(!signals_sleep(30));
	ck_assert(now() - t0 < 1);
	pthread_join(th, NULL);
	ck_assert_int_eq(signals_caught(), SIGINT);
	ck_assert_str_eq(signals_name(), "SIGINT");
	/* the descriptor stays readable, a later sleep ends at once */
	struct pollfd p = {.fd = signals_fd(), .events = POLLIN};
	ck_assert_int_eq(poll(&p, 1, 0), 1);
	ck_assert(!signals_sleep(30));
	/* waits begun later still get SIGNALS_LAST */
	double later = now() + 10;
	ck_assert(signals_deadline(later) == later + SIGNALS_LAST);
}
END_TEST

static atomic_int cancels, cuts;
static _Atomic double cancelled_at, cut_at;

static void on_cancel(void *arg)
{
	(void)arg;
	atomic_fetch_add(&cancels, 1);
	atomic_store(&cancelled_at, now());
}

static void on_cut(void *arg)
{
	(void)arg;
	atomic_fetch_add(&cuts, 1);
	atomic_store(&cut_at, now());
}

START_TEST(watch_cancelled_then_cut)
{
	signals_install();
	struct signal_watch w = {.cancel = on_cancel, .cut = on_cut};
	struct signal_watch gone = {.cancel = on_cancel, .cut = on_cut};
	signals_watch(&w);
	signals_watch(&gone);
	signals_unwatch(&gone); /* never called back */
	double t0 = now();
	kill(getpid(), SIGINT);
	while (atomic_load(&cuts) == 0 && now() - t0 < 5)
		signals_sleep(0.01);
	signals_unwatch(&w);
	ck_assert_int_eq(atomic_load(&cancels), 1);
	ck_assert_int_eq(atomic_load(&cuts), 1);
	ck_assert(atomic_load(&cancelled_at) - t0 < 0.2);
	double cut = atomic_load(&cut_at) - t0;
	ck_assert(cut > SIGNALS_GRACE - 0.1 && cut < SIGNALS_GRACE + 0.3);
	/* a watch begun after the signal is cancelled too */
	struct signal_watch late = {.cancel = on_cancel};
	signals_watch(&late);
	double t1 = now();
	while (atomic_load(&cancels) < 2 && now() - t1 < 2) {
		struct timespec ts = {0, 10 * 1000 * 1000};
		nanosleep(&ts, NULL);
	}
	signals_unwatch(&late);
	ck_assert_int_eq(atomic_load(&cancels), 2);
}
END_TEST

/* A driver whose connects always fail as a server that is down. */
static bool down_connect(const char *url, const struct conn_options *opts, struct conn **out,
			 struct sl_error *err)
{
	(void)url;
	(void)opts;
	(void)out;
	return sl_error_set(err, SL_ERR_CONNECTION, "connection refused");
}

static const struct driver down = {.name = "down", .conn = {.connect = down_connect}};

START_TEST(backoff_ends_at_the_signal)
{
	signals_install();
	struct pool_config cfg = {.min = 1, .max = 1, .retries = 100, .backoff_base = 2};
	struct pool *p = NULL;
	struct sl_error err;
	sl_error_clear(&err);
	pthread_t th = strike_after(0.3);
	double t0 = now();
	ck_assert(!pool_create(&p, &down, "fake://", &cfg, &err));
	ck_assert(now() - t0 < 0.8);
	ck_assert_int_eq(err.kind, SL_ERR_INTERRUPTED);
	pthread_join(th, NULL);
	/* and no connect is tried after it */
	ck_assert(!pool_create(&p, &down, "fake://", &cfg, &err));
	ck_assert_int_eq(err.kind, SL_ERR_INTERRUPTED);
}
END_TEST

START_TEST(second_signal_exits_at_once)
{
	signals_install();
	kill(getpid(), SIGTERM);
	ck_assert_int_eq(signals_caught(), SIGTERM);
	kill(getpid(), SIGINT); /* _exit(130) */
	ck_abort_msg("still running after the second signal");
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("signals");
	TCase *tc = tcase_create("core");
	tcase_set_timeout(tc, 20);
	tcase_add_test(tc, no_signal_no_wake);
	tcase_add_test(tc, sleep_wakes_at_the_signal);
	tcase_add_test(tc, watch_cancelled_then_cut);
	tcase_add_test(tc, backoff_ends_at_the_signal);
	tcase_add_exit_test(tc, second_signal_exits_at_once, 130);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	/* the failed connects these tests provoke warn: expected, not noise
	 * (make deb runs the unit tests and wants no warnings) */
	log_set_level(LOG_ERROR);
	SRunner *sr = srunner_create(suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
