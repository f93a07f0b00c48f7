/* include/sluice/signals.h
 * SIGINT and SIGTERM. The first is noted in the one global flag and wakes
 * whatever waits: the pipeline stops taking work, what runs on a server is
 * cancelled there, batches in flight roll back, the run reports and exits
 * 130/143 within about two seconds in every state. A second exits at once.
 */
#ifndef SLUICE_SIGNALS_H
#define SLUICE_SIGNALS_H

#include <stdbool.h>

/* Seconds a statement running at the signal has, once cancelled, to end
 * before its connection is cut. */
#define SIGNALS_GRACE 1.0
/* Seconds a rollback (or anything) begun after that still gets. */
#define SIGNALS_LAST 0.2

/* Install the handlers (once; SA_RESTART, so blocking calls carry on: they
 * wake by polling signals_fd or through signals_watch). */
void signals_install(void);
/* The signal number caught, or 0. */
int signals_caught(void);
/* "SIGINT" or "SIGTERM" for the signal caught. */
const char *signals_name(void);
/* A descriptor that turns readable at the first signal and stays so, for
 * poll() next to a socket; -1 before signals_install. Never read it. */
int signals_fd(void);
/* After a signal, when (monotonic seconds) a wait on a server that began at
 * started must give up: the signal's time plus SIGNALS_GRACE, and not
 * before started plus SIGNALS_LAST. 0 when no signal came. */
double signals_deadline(double started);
/* Sleep for seconds; false, at once, when a signal comes (or came). */
bool signals_sleep(double seconds);

/* A connection whose calls block inside a client library that cannot poll
 * signals_fd (MySQL's): watched while it is open, so that at a signal the
 * watcher thread asks its server to stop what it runs, and cuts it at the
 * deadline if it is still open then. Both callbacks run on the watcher
 * thread with the watch list locked: they must not block, nor (un)watch. */
struct signal_watch {
	void (*cancel)(void *arg); /* at the signal: ask the server to stop */
	void (*cut)(void *arg);	   /* at the deadline: cut the connection */
	void *arg;
	/* the watcher's */
	double since;
	bool cancelled, was_cut;
	struct signal_watch *prev, *next;
};
/* Watch w (filled by the caller) until signals_unwatch; a watch begun after
 * a signal is cancelled and cut too. */
void signals_watch(struct signal_watch *w);
/* Stop watching w; on return neither callback runs or will run. */
void signals_unwatch(struct signal_watch *w);

#endif
