/* src/row/keys.c
 * Key hashing, routing and round ordering for keyed writes (see
 * include/sluice/keys.h).
 */
#include "sluice/keys.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

enum key_fold key_fold_for_collation(const char *c)
{
	if (!c || !*c || !strcmp(c, "binary"))
		return KEY_FOLD_BYTES;
	if (strstr(c, "nopad") || strstr(c, "0900_bin"))
		return KEY_FOLD_BYTES;
	if (strstr(c, "_bin") || strstr(c, "_cs"))
		return KEY_FOLD_PAD;
	return KEY_FOLD_CASE;
}

/* The base letter of U+00C0..U+017F, lower case ('.' keeps the code point). */
static const char latin_base[] = "aaaaaaaceeeeiiiidnooooo.ouuuuyts"  /* C0-DF */
				 "aaaaaaaceeeeiiiidnooooo.ouuuuyty"  /* E0-FF */
				 "aaaaaaccccccccddddeeeeeeeeeegggg"  /* 100-11F */
				 "gggghhhhiiiiiiiiiiiijjkkklllllll"  /* 120-13F */
				 "lllnnnnnnnnnoooooooorrrrrrssssss"  /* 140-15F */
				 "ssttttttuuuuuuuuuuuuwwyyyzzzzzzs"; /* 160-17F */

/* The next code point of s[*i..n) folded as f (bytes: the byte itself). */
static unsigned fold_next(const char *s, size_t n, size_t *i, enum key_fold f)
{
	unsigned char c = (unsigned char)s[*i];
	if (f != KEY_FOLD_CASE || c < 0x80) {
		(*i)++;
		return f == KEY_FOLD_CASE ? (unsigned)tolower(c) : c;
	}
	/* a UTF-8 sequence; a broken one is its bytes */
	int len = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
	if (len == 1 || *i + (size_t)len > n) {
		(*i)++;
		return 0x110000u + c;
	}
	unsigned cp = c & (0x7Fu >> len);
	for (int k = 1; k < len; k++)
		cp = cp << 6 | ((unsigned char)s[*i + (size_t)k] & 0x3Fu);
	*i += (size_t)len;
	if (cp >= 0xC0 && cp <= 0x17F && latin_base[cp - 0xC0] != '.')
		return (unsigned char)latin_base[cp - 0xC0];
	if ((cp >= 0x391 && cp <= 0x3AB) || (cp >= 0x410 && cp <= 0x42F))
		return cp + 0x20; /* Greek, Cyrillic capitals */
	if (cp >= 0x400 && cp <= 0x40F)
		return cp + 0x50;
	return cp;
}

/* The length of c's value once trailing spaces a PAD SPACE collation
 * ignores are left out. */
static size_t fold_len(const struct cell *c, enum key_fold f)
{
	size_t n = c->len;
	while (f != KEY_FOLD_BYTES && n && c->ptr[n - 1] == ' ')
		n--;
	return n;
}

static bool cell_null(const struct cell *c)
{
	return !c->ptr || cell_is_default(c);
}

static enum key_fold fold_of(const unsigned char *fold, int k)
{
	return fold ? (enum key_fold)fold[k] : KEY_FOLD_BYTES;
}

uint64_t key_hash(const struct cell *row, const int *key, const unsigned char *fold, int nkey)
{
	uint64_t h = 1469598103934665603ULL;
	for (int k = 0; k < nkey; k++) {
		const struct cell *c = &row[key[k]];
		if (cell_null(c)) {
			h = (h ^ 0xffu) * 1099511628211ULL;
			continue;
		}
		enum key_fold f = fold_of(fold, k);
		size_t n = fold_len(c, f), count = 0;
		for (size_t i = 0; i < n; count++) {
			unsigned u = fold_next(c->ptr, n, &i, f);
			h = (h ^ (u & 0xffu)) * 1099511628211ULL;
			if (u > 0xff)
				h = (h ^ (u >> 8)) * 1099511628211ULL;
		}
		/* the length separates ("ab","c") from ("a","bc") */
		h = (h ^ (uint64_t)count) * 1099511628211ULL;
	}
	return h;
}

/* Order of two key cells folded as f: -1, 0, 1. */
static int cell_compare(const struct cell *x, const struct cell *y, enum key_fold f)
{
	size_t nx = fold_len(x, f), ny = fold_len(y, f), i = 0, j = 0;
	if (f == KEY_FOLD_BYTES || f == KEY_FOLD_PAD) {
		size_t m = nx < ny ? nx : ny;
		int c = memcmp(x->ptr, y->ptr, m);
		if (c)
			return c < 0 ? -1 : 1;
		return nx == ny ? 0 : nx < ny ? -1 : 1;
	}
	while (i < nx && j < ny) {
		unsigned a = fold_next(x->ptr, nx, &i, f), b = fold_next(y->ptr, ny, &j, f);
		if (a != b)
			return a < b ? -1 : 1;
	}
	return i < nx ? 1 : j < ny ? -1 : 0;
}

bool key_equal(const struct cell *a, const struct cell *b, const int *key,
	       const unsigned char *fold, int nkey)
{
	for (int k = 0; k < nkey; k++) {
		const struct cell *x = &a[key[k]], *y = &b[key[k]];
		if (cell_null(x) || cell_null(y)) {
			if (cell_null(x) != cell_null(y))
				return false;
			continue;
		}
		if (cell_compare(x, y, fold_of(fold, k)))
			return false;
	}
	return true;
}

/* Order of two keys, NULL first; any fixed total order will do. */
static int key_compare(const struct cell *a, const struct cell *b, const int *key,
		       const unsigned char *fold, int nkey)
{
	for (int k = 0; k < nkey; k++) {
		const struct cell *x = &a[key[k]], *y = &b[key[k]];
		if (cell_null(x) || cell_null(y)) {
			if (cell_null(x) != cell_null(y))
				return cell_null(x) ? -1 : 1;
			continue;
		}
		int c = cell_compare(x, y, fold_of(fold, k));
		if (c)
			return c;
	}
	return 0;
}

/* A row of key_rounds' sort: its round, whether its first key cell is
 * NULL, that cell's first 8 bytes big-endian (zero-padded), its row. Rows
 * whose fields differ there need no further look. */
struct round_item {
	uint64_t prefix;
	unsigned occ;
	bool has; /* the first key cell is a value (NULL sorts first) */
	size_t row;
};

struct sort_ctx {
	const struct batch *b;
	const int *key;
	const unsigned char *fold;
	int nkey;
};

/* qsort_r has no portable signature; the context is per call and the
 * writers run this concurrently, so it lives in a thread-local. */
static _Thread_local const struct sort_ctx *sort_ctx;

/* By round, then key_compare's order (the prefix first: where it differs
 * the first key cell decides as it does), then input order. */
static int by_round_key(const void *pa, const void *pb)
{
	const struct round_item *a = pa, *b = pb;
	if (a->occ != b->occ)
		return a->occ < b->occ ? -1 : 1;
	if (a->has != b->has)
		return a->has ? 1 : -1;
	if (a->prefix != b->prefix)
		return a->prefix < b->prefix ? -1 : 1;
	const struct sort_ctx *s = sort_ctx;
	int c = key_compare(batch_row(s->b, a->row), batch_row(s->b, b->row), s->key, s->fold,
			    s->nkey);
	if (c)
		return c;
	return a->row < b->row ? -1 : a->row > b->row;
}

/* The first 8 bytes of c as cell_compare orders them, when it compares
 * bytes (a folded cell: 0, leaving the order to key_compare). */
static uint64_t key_prefix(const struct cell *c, enum key_fold f)
{
	if (f == KEY_FOLD_CASE)
		return 0;
	size_t n = fold_len(c, f);
	unsigned char w[8] = {0};
	memcpy(w, c->ptr, n < 8 ? n : 8);
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = v << 8 | w[i];
	return v;
}

bool key_rounds(const struct batch *b, size_t first, size_t n, const int *key,
		const unsigned char *fold, int nkey, size_t *order, size_t *round_end,
		size_t *nrounds)
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
	struct round_item *items = malloc(n * sizeof *items);
	if (!slots || !items) {
		free(slots);
		free(items);
		return false;
	}
	enum key_fold f0 = fold_of(fold, 0);
	for (size_t i = 0; i < n; i++) {
		const struct cell *row = batch_row(b, first + i);
		size_t s = (size_t)key_hash(row, key, fold, nkey) & (nslots - 1);
		items[i] = (struct round_item){.has = nkey > 0 && !cell_null(&row[key[0]]),
					       .row = first + i};
		if (items[i].has)
			items[i].prefix = key_prefix(&row[key[0]], f0);
		while (slots[s]) {
			size_t j = slots[s] - 1;
			if (key_equal(batch_row(b, first + j), row, key, fold, nkey)) {
				items[i].occ = items[j].occ + 1;
				break;
			}
			s = (s + 1) & (nslots - 1);
		}
		slots[s] = i + 1;
	}
	free(slots);
	struct sort_ctx ctx = {b, key, fold, nkey};
	sort_ctx = &ctx;
	qsort(items, n, sizeof *items, by_round_key);
	sort_ctx = NULL;
	for (size_t i = 0; i < n; i++) {
		order[i] = items[i].row;
		if (i + 1 == n || items[i + 1].occ != items[i].occ)
			round_end[(*nrounds)++] = i + 1;
	}
	free(items);
	return true;
}
