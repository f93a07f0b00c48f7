/* include/sluice/queue.h
 * A bounded blocking queue of pointers: the hand-off between the reader and
 * the writers, so memory is bounded by the queue, not by the input.
 */
#ifndef SLUICE_QUEUE_H
#define SLUICE_QUEUE_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

struct queue {
	void **items;
	size_t cap, head, count;
	bool closed;  /* no more pushes; pops drain what is left */
	bool aborted; /* stop now: pops return false at once */
	pthread_mutex_t lock;
	pthread_cond_t not_empty, not_full;
};

bool queue_init(struct queue *q, size_t cap);
void queue_destroy(struct queue *q);
/* Add item, waiting while the queue is full; false when closed or aborted. */
bool queue_push(struct queue *q, void *item);
/* Take the oldest item, waiting while empty; false when closed and drained,
 * or aborted. */
bool queue_pop(struct queue *q, void **item);
/* Take an item only if one is there now (used to drain after an abort). */
bool queue_try_pop(struct queue *q, void **item);
void queue_close(struct queue *q);
void queue_abort(struct queue *q);

#endif
