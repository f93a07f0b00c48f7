/* src/util/prng.c
 * A splitmix64 generator per thread (see include/sluice/prng.h).
 */
#include "sluice/prng.h"

#include <stdbool.h>
#include <time.h>
#include <unistd.h>

static _Thread_local uint64_t state;
static _Thread_local bool seeded;

uint64_t prng_next(void)
{
	if (!seeded) {
		/* the address of a thread-local differs between threads started
		 * at the same instant */
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		state = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
		state ^= (uint64_t)getpid() << 32 ^ (uint64_t)(uintptr_t)&state;
		seeded = true;
	}
	uint64_t z = (state += 0x9e3779b97f4a7c15u);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
	return z ^ (z >> 31);
}

unsigned prng_below(unsigned n)
{
	return n ? (unsigned)(prng_next() % n) : 0;
}

double prng_unit(void)
{
	return (double)(prng_next() >> 11) * 0x1.0p-53;
}
