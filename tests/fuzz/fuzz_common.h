/* tests/fuzz/fuzz_common.h
 * Shared by the libFuzzer targets: the input goes into a memfd the reader
 * opens by its /proc/self/fd path, and every record is checked against the
 * reader's promises (field count, line numbers that never go back, fields
 * NUL-terminated and valid UTF-8, progress). A broken promise aborts, which
 * libFuzzer reports as a crash.
 */
#ifndef SLUICE_FUZZ_COMMON_H
#define SLUICE_FUZZ_COMMON_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "sluice/reader.h"

#define FUZZ_CHECK(cond, ...)                                                                      \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "fuzz invariant broken: %s: ", #cond);                     \
			fprintf(stderr, __VA_ARGS__);                                              \
			fputc('\n', stderr);                                                       \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

static int fuzz_fd = -1;
static char fuzz_path[64];

/* Put data into the process's memfd; the path to open is fuzz_path. */
static void fuzz_set_input(const uint8_t *data, size_t size)
{
	if (fuzz_fd < 0) {
		fuzz_fd = memfd_create("sluice-fuzz", MFD_CLOEXEC);
		if (fuzz_fd < 0) {
			perror("memfd_create");
			abort();
		}
		snprintf(fuzz_path, sizeof fuzz_path, "/proc/self/fd/%d", fuzz_fd);
	}
	if (ftruncate(fuzz_fd, 0) != 0 ||
	    (size && pwrite(fuzz_fd, data, size, 0) != (ssize_t)size)) {
		perror("memfd write");
		abort();
	}
}

/* What a run expects of the records it reads. */
struct fuzz_expect {
	long nfields;	  /* fields per READ_OK record; -1: the first one's count */
	bool utf8;	  /* READ_OK fields must be valid UTF-8 */
	bool sticky_fail; /* next() after READ_FAIL fails again (the JSON reader) */
};

/* Read r to the end, checking every record. limit bounds the number of
 * next() calls: a reader that stops making progress is a bug. */
static void fuzz_drain(struct reader *r, struct fuzz_expect want, size_t limit)
{
	long last_line = 0;
	volatile unsigned char sink = 0;
	for (size_t calls = 0;; calls++) {
		FUZZ_CHECK(calls <= limit, "more than %zu records from a small input", limit);
		struct record rec;
		struct sl_error err;
		memset(&rec, 0, sizeof rec);
		sl_error_clear(&err);
		enum read_status rs = r->ops->next(r, &rec, &err);
		if (rs == READ_EOF)
			break;
		if (rs == READ_FAIL) {
			FUZZ_CHECK(err.msg[0] != '\0', "READ_FAIL without a message");
			if (want.sticky_fail) {
				rs = r->ops->next(r, &rec, &err);
				FUZZ_CHECK(rs == READ_FAIL, "status %d after READ_FAIL", rs);
			}
			break;
		}
		FUZZ_CHECK(rs == READ_OK || rs == READ_REJECT, "unknown status %d", rs);
		FUZZ_CHECK(rec.line >= 1, "line %ld", rec.line);
		FUZZ_CHECK(rec.line >= last_line, "line went back from %ld to %ld", last_line,
			   rec.line);
		last_line = rec.line;
		FUZZ_CHECK(rec.raw != NULL, "record without its raw text");
		for (size_t i = 0; i < rec.raw_len; i++)
			sink ^= (unsigned char)rec.raw[i];
		if (rs == READ_REJECT) {
			FUZZ_CHECK(err.msg[0] != '\0', "READ_REJECT without a message");
			continue;
		}
		if (want.nfields < 0)
			want.nfields = (long)rec.nfields;
		FUZZ_CHECK((long)rec.nfields == want.nfields, "line %ld: %zu fields, expected %ld",
			   rec.line, rec.nfields, want.nfields);
		for (size_t i = 0; i < rec.nfields; i++) {
			const struct cell *c = &rec.fields[i];
			if (!c->ptr)
				continue;
			for (size_t k = 0; k < c->len; k++)
				sink ^= (unsigned char)c->ptr[k];
			FUZZ_CHECK(c->ptr[c->len] == '\0', "field %zu not NUL-terminated", i + 1);
			size_t bad;
			FUZZ_CHECK(!want.utf8 || utf8_valid(c->ptr, c->len, &bad),
				   "line %ld field %zu: invalid UTF-8 at %zu in a READ_OK record",
				   rec.line, i + 1, bad);
		}
	}
	(void)sink;
}

#endif
