/* src/util/signals.c
 * The signal flag: the only global state in sluice besides the log level.
 */
#include "sluice/signals.h"

#include <signal.h>
#include <stdatomic.h>
#include <string.h>

/* Set by the handler, read by every thread: a volatile sig_atomic_t is safe
 * in a handler but orders nothing between threads (a data race under
 * ThreadSanitizer); a lock-free atomic is both. */
_Static_assert(ATOMIC_INT_LOCK_FREE == 2, "the signal flag must be lock-free");
static atomic_int caught;

static void on_signal(int signo)
{
	int none = 0;
	atomic_compare_exchange_strong(&caught, &none, signo); /* the first signal wins */
}

void signals_install(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

int signals_caught(void)
{
	return atomic_load(&caught);
}
