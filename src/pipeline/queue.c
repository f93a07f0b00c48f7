/* src/pipeline/queue.c
 * Bounded blocking queue (see include/sluice/queue.h).
 */
#include "sluice/queue.h"

#include <stdlib.h>

bool queue_init(struct queue *q, size_t cap)
{
	q->items = calloc(cap, sizeof *q->items);
	q->cap = cap;
	q->head = q->count = 0;
	q->closed = q->aborted = false;
	pthread_mutex_init(&q->lock, NULL);
	pthread_cond_init(&q->not_empty, NULL);
	pthread_cond_init(&q->not_full, NULL);
	return q->items != NULL;
}

void queue_destroy(struct queue *q)
{
	free(q->items);
	q->items = NULL;
	pthread_mutex_destroy(&q->lock);
	pthread_cond_destroy(&q->not_empty);
	pthread_cond_destroy(&q->not_full);
}

bool queue_push(struct queue *q, void *item)
{
	pthread_mutex_lock(&q->lock);
	while (q->count == q->cap && !q->closed && !q->aborted)
		pthread_cond_wait(&q->not_full, &q->lock);
	bool ok = !q->closed && !q->aborted;
	if (ok) {
		q->items[(q->head + q->count) % q->cap] = item;
		q->count++;
		pthread_cond_signal(&q->not_empty);
	}
	pthread_mutex_unlock(&q->lock);
	return ok;
}

static void take(struct queue *q, void **item)
{
	*item = q->items[q->head];
	q->head = (q->head + 1) % q->cap;
	q->count--;
	pthread_cond_signal(&q->not_full);
}

bool queue_pop(struct queue *q, void **item)
{
	pthread_mutex_lock(&q->lock);
	while (q->count == 0 && !q->closed && !q->aborted)
		pthread_cond_wait(&q->not_empty, &q->lock);
	bool ok = q->count > 0 && !q->aborted;
	if (ok)
		take(q, item);
	pthread_mutex_unlock(&q->lock);
	return ok;
}

bool queue_try_pop(struct queue *q, void **item)
{
	pthread_mutex_lock(&q->lock);
	bool ok = q->count > 0;
	if (ok)
		take(q, item);
	pthread_mutex_unlock(&q->lock);
	return ok;
}

void queue_close(struct queue *q)
{
	pthread_mutex_lock(&q->lock);
	q->closed = true;
	pthread_cond_broadcast(&q->not_empty);
	pthread_cond_broadcast(&q->not_full);
	pthread_mutex_unlock(&q->lock);
}

void queue_abort(struct queue *q)
{
	pthread_mutex_lock(&q->lock);
	q->aborted = true;
	pthread_cond_broadcast(&q->not_empty);
	pthread_cond_broadcast(&q->not_full);
	pthread_mutex_unlock(&q->lock);
}
