/* bench/gen.c
 * Deterministic benchmark input: N rows (default 1,000,000) of nine mixed
 * columns, about 180 bytes a row, as CSV (or NDJSON / a JSON array with
 * --ndjson / --json) on stdout. Same bytes on every machine.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t state = 0x9E3779B97F4A7C15ULL;

static uint32_t next_rand(void)
{
	/* xorshift64*: fixed seed, so the file is the same every time */
	state ^= state >> 12;
	state ^= state << 25;
	state ^= state >> 27;
	return (uint32_t)((state * 0x2545F4914F6CDD1DULL) >> 32);
}

static const char *const first[] = {"Ada",    "Grace",	  "Linus",  "Ken",     "Barbara",
				    "Edsger", "Margaret", "Dennis", "Frances", "Alan",
				    "Radia",  "Niklaus",  "Élodie", "Søren"};
static const char *const last[] = {"Lovelace", "Hopper",   "Torvalds", "Thompson",
				   "Liskov",   "Dijkstra", "Hamilton", "Ritchie",
				   "Allen",    "Turing",   "Perlman",  "Wirth"};
static const char *const words[] = {"order",   "shipped", "late",     "customer",
				    "called",  "refund",  "priority", "warehouse",
				    "invoice", "paid",	  "pending",  "review"};

int main(int argc, char **argv)
{
	long n = 1000000;
	enum { CSV, NDJSON, JSON } fmt = CSV;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--ndjson"))
			fmt = NDJSON;
		else if (!strcmp(argv[i], "--json"))
			fmt = JSON;
		else
			n = atol(argv[i]);
	}
	static char out[1 << 16];
	setvbuf(stdout, out, _IOFBF, sizeof out);
	if (fmt == CSV)
		puts("id,name,email,amount,quantity,active,created_at,score,notes");
	if (fmt == JSON)
		puts("[");
	for (long id = 1; id <= n; id++) {
		unsigned fi = next_rand() % 14;
		const char *f = first[fi], *l = last[next_rand() % 12];
		char initial = "agklbemdfarnes"[fi];
		char notes[128];
		int k = 0;
		int nw = 7 + (int)(next_rand() % 7);
		for (int w = 0; w < nw; w++)
			k += snprintf(notes + k, sizeof notes - (size_t)k, "%s%s", w ? " " : "",
				      words[next_rand() % 12]);
		unsigned amount = next_rand() % 10000000;
		unsigned qty = next_rand() % 1000;
		int active = (int)(next_rand() & 1);
		unsigned day = next_rand() % 28 + 1, mon = next_rand() % 12 + 1;
		unsigned hh = next_rand() % 24, mm = next_rand() % 60, ss = next_rand() % 60;
		double score = (double)next_rand() / 4294967296.0 * 1000.0;
		bool comma = next_rand() % 4 == 0;
		if (fmt == CSV) {
			printf("%ld,%s "
			       "%s,%c.%s%ld@example.com,%u.%02u,%u,%s,2024-%02u-%02uT%02u:%02u:%"
			       "02u,%.6f,%s%s%s\n",
			       id, f, l, initial, "user", id, amount / 100, amount % 100, qty,
			       active ? "true" : "false", mon, day, hh, mm, ss, score,
			       comma ? "\"" : "", notes, comma ? ", see \"\"ticket\"\"\"" : "");
		} else {
			printf("%s{\"id\": %ld, \"name\": \"%s %s\", \"email\": "
			       "\"%c.user%ld@example.com\", "
			       "\"amount\": %u.%02u, \"quantity\": %u, \"active\": %s, "
			       "\"created_at\": \"2024-%02u-%02uT%02u:%02u:%02u\", \"score\": "
			       "%.6f, "
			       "\"notes\": \"%s%s\"}%s\n",
			       fmt == JSON ? "  " : "", id, f, l, initial, id, amount / 100,
			       amount % 100, qty, active ? "true" : "false", mon, day, hh, mm, ss,
			       score, notes, comma ? ", see \\\"ticket\\\"" : "",
			       fmt == JSON && id < n ? "," : "");
		}
	}
	if (fmt == JSON)
		puts("]");
	return 0;
}
