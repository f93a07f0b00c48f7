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

/* How a key column's values are equal on the server, which decides which
 * records are "the same key": byte for byte; ignoring trailing spaces (a
 * PAD SPACE binary collation); or also ignoring case and accents (a
 * case-insensitive collation: ASCII and Latin letters folded, Greek and
 * Cyrillic lowercased). Folding may join keys the server keeps apart
 * (they then go in turn, each still its own row), never the reverse for
 * the letters it knows. */
enum key_fold { KEY_FOLD_BYTES = 0, KEY_FOLD_PAD, KEY_FOLD_CASE };

/* The fold of a key column from its collation's name (NULL: bytes). */
enum key_fold key_fold_for_collation(const char *collation);

/* A hash of the key cells (columns key[0..nkey)) of a row, each folded as
 * fold[k] says (fold may be NULL: bytes); NULL and "default" cells hash
 * alike. Keys the server takes for one hash alike, so a key can be routed
 * to one writer and its records stay in input order. */
uint64_t key_hash(const struct cell *row, const int *key, const unsigned char *fold, int nkey);

/* Whether two rows have the same key (NULLs equal here), folded so. */
bool key_equal(const struct cell *a, const struct cell *b, const int *key,
	       const unsigned char *fold, int nkey);

/* Order rows [first, first+n) of b in rounds: round r holds the (r+1)-th
 * record of each key, so no statement carries a key twice and running the
 * rounds one after another applies the records of a key in input order (the
 * last one wins, as the input says). Within a round rows are sorted by key,
 * so concurrent writers take row locks in one order and cannot deadlock on
 * them. order gets n row numbers (absolute, first..first+n-1); round_end[r]
 * is the end (exclusive) in order of round r; *nrounds is set. round_end
 * must hold n entries. False on out of memory. */
bool key_rounds(const struct batch *b, size_t first, size_t n, const int *key,
		const unsigned char *fold, int nkey, size_t *order, size_t *round_end,
		size_t *nrounds);

#endif
