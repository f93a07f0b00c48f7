/* src/util/xxh64.c
 * XXH64 as its specification gives it (xxhash.com, "xxHash fast digest
 * algorithm", version 0.1.1), seed 0, fed in pieces.
 */
#include <string.h>

#include "sluice/xxh64.h"

#define P1 0x9E3779B185EBCA87ULL
#define P2 0xC2B2AE3D27D4EB4FULL
#define P3 0x165667B19E3779F9ULL
#define P4 0x85EBCA77C2B2AE63ULL
#define P5 0x27D4EB2F165667C5ULL

static inline uint64_t rotl(uint64_t x, int r)
{
	return (x << r) | (x >> (64 - r));
}

/* little-endian loads, whatever the host */
static inline uint64_t load64(const unsigned char *p)
{
	uint64_t v;
	memcpy(&v, p, 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	v = __builtin_bswap64(v);
#endif
	return v;
}

static inline uint32_t load32(const unsigned char *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	v = __builtin_bswap32(v);
#endif
	return v;
}

static inline uint64_t round64(uint64_t acc, uint64_t lane)
{
	return rotl(acc + lane * P2, 31) * P1;
}

static inline uint64_t merge(uint64_t acc, uint64_t v)
{
	return (acc ^ round64(0, v)) * P1 + P4;
}

void xxh64_init(struct xxh64 *s)
{
	s->v[0] = P1 + P2;
	s->v[1] = P2;
	s->v[2] = 0;
	s->v[3] = 0 - P1;
	s->len = 0;
	s->used = 0;
}

/* Whole stripes of 32 bytes from p (n a multiple of 32). */
static void stripes(struct xxh64 *s, const unsigned char *p, size_t n)
{
	uint64_t v0 = s->v[0], v1 = s->v[1], v2 = s->v[2], v3 = s->v[3];
	for (const unsigned char *end = p + n; p < end; p += 32) {
		v0 = round64(v0, load64(p));
		v1 = round64(v1, load64(p + 8));
		v2 = round64(v2, load64(p + 16));
		v3 = round64(v3, load64(p + 24));
	}
	s->v[0] = v0;
	s->v[1] = v1;
	s->v[2] = v2;
	s->v[3] = v3;
}

void xxh64_update(struct xxh64 *s, const void *data, size_t n)
{
	const unsigned char *p = data;
	s->len += n;
	if (s->used) {
		size_t k = 32 - s->used < n ? 32 - s->used : n;
		memcpy(s->stripe + s->used, p, k);
		s->used += k;
		p += k;
		n -= k;
		if (s->used < 32)
			return;
		stripes(s, s->stripe, 32);
		s->used = 0;
	}
	size_t whole = n & ~(size_t)31;
	stripes(s, p, whole);
	memcpy(s->stripe, p + whole, n - whole);
	s->used = n - whole;
}

uint64_t xxh64_digest(const struct xxh64 *s)
{
	uint64_t h;
	if (s->len >= 32) {
		h = rotl(s->v[0], 1) + rotl(s->v[1], 7) + rotl(s->v[2], 12) + rotl(s->v[3], 18);
		for (int i = 0; i < 4; i++)
			h = merge(h, s->v[i]);
	} else {
		h = s->v[2] + P5; /* the seed, 0, plus P5 */
	}
	h += s->len;
	const unsigned char *p = s->stripe, *end = s->stripe + s->used;
	for (; p + 8 <= end; p += 8)
		h = rotl(h ^ round64(0, load64(p)), 27) * P1 + P4;
	if (p + 4 <= end) {
		h = rotl(h ^ (uint64_t)load32(p) * P1, 23) * P2 + P3;
		p += 4;
	}
	for (; p < end; p++)
		h = rotl(h ^ (uint64_t)*p * P5, 11) * P1;
	h ^= h >> 33;
	h *= P2;
	h ^= h >> 29;
	h *= P3;
	h ^= h >> 32;
	return h;
}
