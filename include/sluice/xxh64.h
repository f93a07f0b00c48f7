/* include/sluice/xxh64.h
 * XXH64 (xxHash's 64-bit hash, seed 0), for --resume's fingerprint of a
 * file's every byte: what a renamed copy is known by, read at several GB/s
 * where zlib's CRC-32 and Adler-32 took 0.1 s for 184 MB. No checksum of
 * integrity against an adversary: a name for the same bytes. Plain code
 * over bytes, no I/O.
 */
#ifndef SLUICE_XXH64_H
#define SLUICE_XXH64_H

#include <stddef.h>
#include <stdint.h>

struct xxh64 {
	uint64_t v[4];
	uint64_t len; /* bytes hashed so far */
	unsigned char stripe[32];
	size_t used; /* bytes of stripe filled */
};

void xxh64_init(struct xxh64 *s);
void xxh64_update(struct xxh64 *s, const void *p, size_t n);
uint64_t xxh64_digest(const struct xxh64 *s);

#endif
