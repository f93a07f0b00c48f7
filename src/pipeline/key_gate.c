/* src/pipeline/key_gate.c
 * Keyed batches in input order across writers (see include/sluice/key_gate.h):
 * a map from key hash to the last batch that had the key, and for each
 * batch not yet done the earlier ones it waits for. One mutex, one
 * condition variable woken when a batch is done.
 */
#include "sluice/key_gate.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "sluice/log.h"

struct gate_slot {
	long seq;
	bool used, started;
	int ndeps;
	long *deps; /* max_pending entries */
};

struct key_gate {
	pthread_mutex_t lock;
	pthread_cond_t done;
	struct gate_slot *slots;
	int nslots;
	/* open addressing, hash 0 is "empty" */
	uint64_t *keys;
	long *seqs;
	size_t cap, count;
	int running;
	struct key_gate_stats stats;
};

bool key_gate_open(struct key_gate **out, int max_pending)
{
	struct key_gate *g = calloc(1, sizeof *g);
	*out = NULL;
	if (!g)
		return false;
	g->nslots = max_pending;
	g->cap = 4096;
	g->slots = calloc((size_t)max_pending, sizeof *g->slots);
	g->keys = calloc(g->cap, sizeof *g->keys);
	g->seqs = calloc(g->cap, sizeof *g->seqs);
	bool ok = g->slots && g->keys && g->seqs;
	for (int i = 0; ok && i < max_pending; i++)
		ok = (g->slots[i].deps = calloc((size_t)max_pending, sizeof(long))) != NULL;
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&g->done, &ca);
	pthread_condattr_destroy(&ca);
	pthread_mutex_init(&g->lock, NULL);
	*out = g;
	if (!ok) {
		key_gate_free(g);
		*out = NULL;
	}
	return ok;
}

void key_gate_free(struct key_gate *g)
{
	if (!g)
		return;
	for (int i = 0; g->slots && i < g->nslots; i++)
		free(g->slots[i].deps);
	free(g->slots);
	free(g->keys);
	free(g->seqs);
	pthread_mutex_destroy(&g->lock);
	pthread_cond_destroy(&g->done);
	free(g);
}

/* The slot of batch seq entered and not done, or NULL. Locked. */
static struct gate_slot *slot_of(struct key_gate *g, long seq)
{
	for (int i = 0; i < g->nslots; i++)
		if (g->slots[i].used && g->slots[i].seq == seq)
			return &g->slots[i];
	return NULL;
}

/* Place (h, seq) in keys/seqs of capacity cap (a power of two); the old
 * batch with that key, or 0 when it is new. */
static long map_put(uint64_t *keys, long *seqs, size_t cap, size_t *count, uint64_t h, long seq)
{
	size_t i = (size_t)((h * 0x9E3779B97F4A7C15ull) >> 29) & (cap - 1);
	while (keys[i] && keys[i] != h)
		i = (i + 1) & (cap - 1);
	long old = keys[i] ? seqs[i] : 0;
	if (!keys[i])
		(*count)++;
	keys[i] = h;
	seqs[i] = seq;
	return old;
}

/* Make room for one more key: drop the keys of batches that are done and,
 * when the rest fill more than a quarter of the map, double it. Locked.
 * False on out of memory. */
static bool map_make_room(struct key_gate *g)
{
	if (g->count + 1 <= g->cap / 2)
		return true;
	size_t live = 0;
	for (size_t i = 0; i < g->cap; i++)
		if (g->keys[i] && slot_of(g, g->seqs[i]))
			live++;
	size_t cap = g->cap;
	while (live + 1 > cap / 4)
		cap *= 2;
	uint64_t *keys = calloc(cap, sizeof *keys);
	long *seqs = calloc(cap, sizeof *seqs);
	if (!keys || !seqs) {
		free(keys);
		free(seqs);
		return false;
	}
	size_t count = 0;
	for (size_t i = 0; i < g->cap; i++)
		if (g->keys[i] && slot_of(g, g->seqs[i]))
			map_put(keys, seqs, cap, &count, g->keys[i], g->seqs[i]);
	free(g->keys);
	free(g->seqs);
	g->keys = keys;
	g->seqs = seqs;
	g->cap = cap;
	g->count = count;
	return true;
}

bool key_gate_enter(struct key_gate *g, long seq, const uint64_t *hashes, size_t n)
{
	pthread_mutex_lock(&g->lock);
	struct gate_slot *s = NULL;
	for (int i = 0; i < g->nslots && !s; i++)
		if (!g->slots[i].used)
			s = &g->slots[i];
	bool ok = s != NULL;
	if (ok) {
		*s = (struct gate_slot){.seq = seq, .used = true, .deps = s->deps};
		g->stats.batches++;
	}
	long last = 0;
	for (size_t r = 0; ok && r < n; r++) {
		uint64_t h = hashes[r] ? hashes[r] : 1;
		if (!(ok = map_make_room(g)))
			break;
		long old = map_put(g->keys, g->seqs, g->cap, &g->count, h, seq);
		if (!old || old == seq || old == last)
			continue;
		last = old;
		bool known = false;
		for (int d = 0; d < s->ndeps && !known; d++)
			known = s->deps[d] == old;
		if (!known && slot_of(g, old) && s->ndeps < g->nslots)
			s->deps[s->ndeps++] = old;
	}
	pthread_mutex_unlock(&g->lock);
	return ok;
}

bool key_gate_wait(struct key_gate *g, long seq, bool (*stop)(void *), void *arg)
{
	pthread_mutex_lock(&g->lock);
	struct gate_slot *s = slot_of(g, seq);
	bool waited = false, ok = true;
	for (int d = 0; s && ok && d < s->ndeps;) {
		if (!slot_of(g, s->deps[d])) {
			d++;
			continue;
		}
		if (!waited)
			log_debug("batch %ld waits for batch %ld: they share a key", seq,
				  s->deps[d]);
		waited = true;
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_nsec += 100 * 1000 * 1000;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		int rc = pthread_cond_timedwait(&g->done, &g->lock, &ts);
		if (rc == ETIMEDOUT || rc == 0) {
			pthread_mutex_unlock(&g->lock);
			ok = !stop(arg);
			pthread_mutex_lock(&g->lock);
		}
	}
	if (s && ok) {
		s->started = true;
		g->stats.waited += waited;
		if (++g->running > g->stats.most_at_once)
			g->stats.most_at_once = g->running;
	}
	pthread_mutex_unlock(&g->lock);
	return ok;
}

void key_gate_done(struct key_gate *g, long seq)
{
	pthread_mutex_lock(&g->lock);
	struct gate_slot *s = slot_of(g, seq);
	if (s) {
		if (s->started)
			g->running--;
		s->used = s->started = false;
		pthread_cond_broadcast(&g->done);
	}
	pthread_mutex_unlock(&g->lock);
}

void key_gate_stats(struct key_gate *g, struct key_gate_stats *out)
{
	pthread_mutex_lock(&g->lock);
	*out = g->stats;
	pthread_mutex_unlock(&g->lock);
}
