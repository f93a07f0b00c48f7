/* include/sluice/prng.h
 * Pseudo-random numbers for jitter (retry backoff, the first of several
 * hosts): a generator per thread, so threads share no state, where rand()
 * shares one (a lock in glibc, none promised by POSIX). Never for secrets.
 */
#ifndef SLUICE_PRNG_H
#define SLUICE_PRNG_H

#include <stdint.h>

/* 64 random bits from the calling thread's generator, seeded on first use
 * from the clock, the process and the thread. */
uint64_t prng_next(void);
/* A number in [0, n) (0 when n is 0). */
unsigned prng_below(unsigned n);
/* A number in [0, 1). */
double prng_unit(void);

#endif
