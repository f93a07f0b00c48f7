/* include/sluice/key_gate.h
 * Keyed batches in input order across writers, as parallel replication
 * does it: each batch carries its keys; a batch may start only when every
 * earlier batch that shares a key with it is done. Batches without shared
 * keys go in parallel, batches that share keys one after another (so they
 * never wait on each other's row locks either).
 */
#ifndef SLUICE_KEY_GATE_H
#define SLUICE_KEY_GATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct key_gate;

/* A gate for up to max_pending batches entered and not yet done (the
 * batches a run allocates). *out is the caller's (key_gate_free). False on
 * out of memory. */
bool key_gate_open(struct key_gate **out, int max_pending);
void key_gate_free(struct key_gate *g);

/* Batch seq (seqs increase from one call to the next: the reader's
 * order) has rows whose keys hash to hashes[0..n): note the earlier
 * batches not yet done that share one of them. The map it keeps (key hash
 * to the last batch with that key) holds only the keys of batches not yet
 * done, so it is bounded by them. A hash collision only makes a batch wait
 * when it need not. False on out of memory, or when max_pending batches
 * are entered already (a bug: the run stops). */
bool key_gate_enter(struct key_gate *g, long seq, const uint64_t *hashes, size_t n);

/* Wait until every batch batch seq waits for is done, polling stop(arg)
 * every 100 ms (a signal, a failed run). True when seq may start; false
 * when stop said so. Logs (debug) when it had to wait. */
bool key_gate_wait(struct key_gate *g, long seq, bool (*stop)(void *), void *arg);

/* Batch seq is done: committed, rejected, skipped or abandoned. Every
 * entered batch must be marked done once, waited for or not. */
void key_gate_done(struct key_gate *g, long seq);

/* What the gate saw: batches entered, those that had to wait for an
 * earlier one, and the most that were started and not done at once. */
struct key_gate_stats {
	long batches, waited;
	int most_at_once;
};
void key_gate_stats(struct key_gate *g, struct key_gate_stats *out);

#endif
