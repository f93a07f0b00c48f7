/* src/util/signals.c
 * The signal flag: the only global state in sluice besides the log level.
 * The handler notes the first signal and its time and writes a byte into a
 * pipe that is never read, so it stays readable and every poll() on it
 * wakes; a second signal exits at once. A watcher thread stops the calls
 * that block inside a client library (signals_watch).
 */
#include "sluice/signals.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Set by the handler, read by every thread: a volatile sig_atomic_t is safe
 * in a handler but orders nothing between threads (a data race under
 * ThreadSanitizer); a lock-free atomic is both. */
_Static_assert(ATOMIC_INT_LOCK_FREE == 2, "the signal flag must be lock-free");
static atomic_flag entered = ATOMIC_FLAG_INIT;
static atomic_int caught;
static atomic_llong caught_ns; /* CLOCK_MONOTONIC, set before caught */
static int wake[2] = {-1, -1}; /* the pipe: readable from the first signal on */

static pthread_once_t once = PTHREAD_ONCE_INIT;
static pthread_mutex_t watch_lock = PTHREAD_MUTEX_INITIALIZER;
static struct signal_watch *watches;

static double mono_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Async-signal-safe only: atomics, clock_gettime, write, _exit. */
static void on_signal(int signo)
{
	int saved = errno;
	if (atomic_flag_test_and_set(&entered)) {
		/* a second signal: the operator will not wait */
		static const char msg[] = "\nsluice: second signal: exiting at once\n";
		ssize_t w = write(STDERR_FILENO, msg, sizeof msg - 1);
		(void)w;
		_exit(128 + signo);
	}
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	atomic_store(&caught_ns, (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec);
	atomic_store(&caught, signo);
	if (wake[1] >= 0) {
		ssize_t w = write(wake[1], "!", 1);
		(void)w;
	}
	errno = saved;
}

/* The watcher thread: asleep until the signal; then, every 20 ms, cancels
 * each watched connection once and cuts those still open at their
 * deadline. */
static void *watcher_main(void *arg)
{
	(void)arg;
	struct pollfd p = {.fd = wake[0], .events = POLLIN};
	while (!signals_caught())
		poll(&p, 1, -1);
	for (;;) {
		double now = mono_now();
		pthread_mutex_lock(&watch_lock);
		for (struct signal_watch *w = watches; w; w = w->next) {
			if (!w->cancelled) {
				w->cancelled = true;
				if (w->cancel)
					w->cancel(w->arg);
			}
			if (!w->was_cut && now >= signals_deadline(w->since)) {
				w->was_cut = true;
				if (w->cut)
					w->cut(w->arg);
			}
		}
		pthread_mutex_unlock(&watch_lock);
		struct timespec ts = {0, 20 * 1000 * 1000};
		nanosleep(&ts, NULL);
	}
	return NULL;
}

static void install_once(void)
{
	if (pipe2(wake, O_CLOEXEC | O_NONBLOCK) != 0)
		wake[0] = wake[1] = -1;
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	pthread_t th;
	pthread_attr_t attr;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	if (wake[0] >= 0)
		pthread_create(&th, &attr, watcher_main, NULL);
	pthread_attr_destroy(&attr);
}

void signals_install(void)
{
	pthread_once(&once, install_once);
}

int signals_caught(void)
{
	return atomic_load(&caught);
}

const char *signals_name(void)
{
	return signals_caught() == SIGTERM ? "SIGTERM" : "SIGINT";
}

int signals_fd(void)
{
	return wake[0];
}

double signals_deadline(double started)
{
	if (!signals_caught())
		return 0;
	double at = (double)atomic_load(&caught_ns) / 1e9 + SIGNALS_GRACE;
	return at > started + SIGNALS_LAST ? at : started + SIGNALS_LAST;
}

bool signals_sleep(double seconds)
{
	double end = mono_now() + seconds;
	for (;;) {
		if (signals_caught())
			return false;
		double left = end - mono_now();
		if (left <= 0)
			return true;
		if (wake[0] >= 0) {
			struct pollfd p = {.fd = wake[0], .events = POLLIN};
			poll(&p, 1, (int)(left * 1000) + 1);
		} else {
			struct timespec ts = {(time_t)left,
					      (long)((left - (double)(time_t)left) * 1e9)};
			nanosleep(&ts, NULL);
		}
	}
}

void signals_watch(struct signal_watch *w)
{
	pthread_mutex_lock(&watch_lock);
	w->since = mono_now();
	w->cancelled = w->was_cut = false;
	w->prev = NULL;
	w->next = watches;
	if (watches)
		watches->prev = w;
	watches = w;
	pthread_mutex_unlock(&watch_lock);
}

void signals_unwatch(struct signal_watch *w)
{
	pthread_mutex_lock(&watch_lock);
	if (w->prev)
		w->prev->next = w->next;
	else if (watches == w)
		watches = w->next;
	if (w->next)
		w->next->prev = w->prev;
	w->prev = w->next = NULL;
	pthread_mutex_unlock(&watch_lock);
}
