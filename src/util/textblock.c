/* src/util/textblock.c
 * Shared blocks of input text (see include/sluice/textblock.h). A dropped
 * block goes to a list of spares, so that a long load takes no fresh pages
 * from the kernel for every block it reads.
 */
#include "sluice/textblock.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#define SPARES_MAX 64 /* 16 MB of blocks kept at most */

struct text_block {
	atomic_int refs;
	struct text_block *next_spare;
	_Alignas(64) unsigned char data[TEXT_BLOCK_SIZE + TEXT_BLOCK_PAD];
};

static pthread_mutex_t spares_lock = PTHREAD_MUTEX_INITIALIZER;
static struct text_block *spares;
static int nspares;

struct text_block *text_block_new(void)
{
	pthread_mutex_lock(&spares_lock);
	struct text_block *b = spares;
	if (b) {
		spares = b->next_spare;
		nspares--;
	}
	pthread_mutex_unlock(&spares_lock);
	if (!b && !(b = aligned_alloc(64, sizeof *b)))
		return NULL;
	atomic_init(&b->refs, 1);
	b->next_spare = NULL;
	return b;
}

unsigned char *text_block_data(struct text_block *b)
{
	return b->data;
}

void text_block_hold(struct text_block *b)
{
	atomic_fetch_add_explicit(&b->refs, 1, memory_order_relaxed);
}

void text_block_drop(struct text_block *b)
{
	/* release: what this holder read of it happens before a reuse */
	if (!b || atomic_fetch_sub_explicit(&b->refs, 1, memory_order_acq_rel) != 1)
		return;
	pthread_mutex_lock(&spares_lock);
	bool keep = nspares < SPARES_MAX;
	if (keep) {
		b->next_spare = spares;
		spares = b;
		nspares++;
	}
	pthread_mutex_unlock(&spares_lock);
	if (!keep)
		free(b);
}

bool text_block_alone(const struct text_block *b)
{
	/* acquire: the other holders' reads are over before the caller writes */
	return atomic_load_explicit(&((struct text_block *)b)->refs, memory_order_acquire) == 1;
}
