/* src/row/keys.c
 * Key hashing, routing and round ordering for keyed writes (see
 * include/sluice/keys.h).
 */
#include "sluice/keys.h"

#include <stdlib.h>
#include <string.h>

uint64_t key_hash(const struct cell *row, const int *key, int nkey)
{
	uint64_t h = 1469598103934665603ULL;
	for (int k = 0; k < nkey; k++) {
		const struct cell *c = &row[key[k]];
		if (!c->ptr || cell_is_default(c)) {
			h = (h ^ 0xffu) * 1099511628211ULL;
			continue;
		}
		for (size_t i = 0; i < c->len; i++)
			h = (h ^ (unsigned char)c->ptr[i]) * 1099511628211ULL;
		/* the length separates ("ab","c") from ("a","bc") */
		h = (h ^ (uint64_t)c->len) * 1099511628211ULL;
	}
	return h;
}

static bool cell_null(const struct cell *c)
{
	return !c->ptr || cell_is_default(c);
}

bool key_equal(const struct cell *a, const struct cell *b, const int *key, int nkey)
{
	for (int k = 0; k < nkey; k++) {
		const struct cell *x = &a[key[k]], *y = &b[key[k]];
		if (cell_null(x) || cell_null(y)) {
			if (cell_null(x) != cell_null(y))
				return false;
			continue;
		}
		if (x->len != y->len || memcmp(x->ptr, y->ptr, x->len))
			return false;
	}
	return true;
}

/* Byte order of two keys, NULL first; any fixed total order will do. */
static int key_compare(const struct cell *a, const struct cell *b, const int *key, int nkey)
{
	for (int k = 0; k < nkey; k++) {
		const struct cell *x = &a[key[k]], *y = &b[key[k]];
		if (cell_null(x) || cell_null(y)) {
			if (cell_null(x) != cell_null(y))
				return cell_null(x) ? -1 : 1;
			continue;
		}
		size_t m = x->len < y->len ? x->len : y->len;
		int c = memcmp(x->ptr, y->ptr, m);
		if (c)
			return c;
		if (x->len != y->len)
			return x->len < y->len ? -1 : 1;
	}
	return 0;
}

struct sort_ctx {
	const struct batch *b;
	const int *key;
	int nkey;
	const unsigned *occ; /* occurrence number, by row - first */
	size_t first;
};

/* qsort_r has no portable signature; the context is per call and the
 * writers run this concurrently, so it lives in a thread-local. */
static _Thread_local const struct sort_ctx *sort_ctx;

static int by_round_key(const void *pa, const void *pb)
{
	const struct sort_ctx *s = sort_ctx;
	size_t a = *(const size_t *)pa, b = *(const size_t *)pb;
	unsigned oa = s->occ[a - s->first], ob = s->occ[b - s->first];
	if (oa != ob)
		return oa < ob ? -1 : 1;
	int c = key_compare(batch_row(s->b, a), batch_row(s->b, b), s->key, s->nkey);
	if (c)
		return c;
	return a < b ? -1 : a > b;
}

bool key_rounds(const struct batch *b, size_t first, size_t n, const int *key, int nkey,
		size_t *order, size_t *round_end, size_t *nrounds)
{
	*nrounds = 0;
	if (n == 0)
		return true;
	size_t nslots = 16;
	while (nslots < n * 2)
		nslots *= 2;
	/* open addressing: a slot holds 1 + the row (relative) of the key's
	 * latest record, 0 when empty */
	size_t *slots = calloc(nslots, sizeof *slots);
	unsigned *occ = malloc(n * sizeof *occ);
	if (!slots || !occ) {
		free(slots);
		free(occ);
		return false;
	}
	for (size_t i = 0; i < n; i++) {
		const struct cell *row = batch_row(b, first + i);
		size_t s = (size_t)key_hash(row, key, nkey) & (nslots - 1);
		occ[i] = 0;
		while (slots[s]) {
			size_t j = slots[s] - 1;
			if (key_equal(batch_row(b, first + j), row, key, nkey)) {
				occ[i] = occ[j] + 1;
				break;
			}
			s = (s + 1) & (nslots - 1);
		}
		slots[s] = i + 1;
		order[i] = first + i;
	}
	free(slots);
	struct sort_ctx ctx = {b, key, nkey, occ, first};
	sort_ctx = &ctx;
	qsort(order, n, sizeof *order, by_round_key);
	sort_ctx = NULL;
	for (size_t i = 0; i < n; i++)
		if (i + 1 == n || occ[order[i + 1] - first] != occ[order[i] - first])
			round_end[(*nrounds)++] = i + 1;
	free(occ);
	return true;
}
