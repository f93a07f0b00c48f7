/* include/sluice/sha256.h
 * SHA-256 (FIPS 180-4), for export's manifest: what a reader of the files
 * checks them by. Plain code over bytes, no I/O.
 */
#ifndef SLUICE_SHA256_H
#define SLUICE_SHA256_H

#include <stddef.h>
#include <stdint.h>

struct sha256 {
	uint32_t h[8];
	uint64_t len; /* bytes hashed so far */
	unsigned char block[64];
	size_t used; /* bytes of block filled */
};

void sha256_init(struct sha256 *s);
void sha256_update(struct sha256 *s, const void *p, size_t n);
/* The digest as 64 lower-case hex digits and a NUL into hex; s is spent. */
void sha256_final_hex(struct sha256 *s, char hex[65]);

#endif
