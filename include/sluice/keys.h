/* include/sluice/keys.h
 * Rows by key: which writer a key goes to, and in which order the rows of a
 * batch reach the server when a key may repeat (upserts, sluice update).
 */
#ifndef SLUICE_KEYS_H
#define SLUICE_KEYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sluice/batch.h"

/* A hash of the key cells (columns key[0..nkey)) of a row; NULL and
 * "default" cells hash alike. The same key always hashes the same, so a key
 * can be routed to one writer and its records stay in input order. */
uint64_t key_hash(const struct cell *row, const int *key, int nkey);

/* Whether two rows have the same key (NULLs equal here). */
bool key_equal(const struct cell *a, const struct cell *b, const int *key, int nkey);

/* Order rows [first, first+n) of b in rounds: round r holds the (r+1)-th
 * record of each key, so no statement carries a key twice and running the
 * rounds one after another applies the records of a key in input order (the
 * last one wins, as the input says). Within a round rows are sorted by key,
 * so concurrent writers take row locks in one order and cannot deadlock on
 * them. order gets n row numbers (absolute, first..first+n-1); round_end[r]
 * is the end (exclusive) in order of round r; *nrounds is set. round_end
 * must hold n entries. False on out of memory. */
bool key_rounds(const struct batch *b, size_t first, size_t n, const int *key, int nkey,
		size_t *order, size_t *round_end, size_t *nrounds);

#endif
