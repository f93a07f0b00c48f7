/* include/sluice/signals.h
 * SIGINT and SIGTERM: noted in the one global flag, then the pipeline stops
 * reading, rolls back the batches in flight and reports.
 */
#ifndef SLUICE_SIGNALS_H
#define SLUICE_SIGNALS_H

/* Install the handlers (SA_RESTART, so blocking calls carry on). */
void signals_install(void);
/* The signal number caught, or 0. */
int signals_caught(void);

#endif
