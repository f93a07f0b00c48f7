/* include/sluice/rejects.h
 * Rejected records: written verbatim to the --rejects file (so it can be fixed
 * and loaded again), with a log beside it naming file, line and reason.
 * Without a rejects file the reasons go to stderr.
 */
#ifndef SLUICE_REJECTS_H
#define SLUICE_REJECTS_H

#include <stdbool.h>
#include <stddef.h>

#include "sluice/error.h"

struct rejects;

/* Open path (and path.log) for writing; path NULL reports on stderr only.
 * The caller owns *out. */
bool rejects_open(struct rejects **out, const char *path, struct sl_error *err);
/* Write a header line (a CSV header) before the first record, once. */
void rejects_set_header(struct rejects *rj, const char *line);
/* Record one rejected input record; thread-safe. A write that fails (a
 * full disk, a closed pipe) is remembered: see rejects_failed. */
void rejects_add(struct rejects *rj, const char *source, long line, const char *raw, size_t raw_len,
		 const char *reason);
/* The same for a key that matched no row (update, delete): in the file,
 * but without one never printed line by line (the summary counts them). */
void rejects_add_not_found(struct rejects *rj, const char *source, long line, const char *raw,
			   size_t raw_len);
unsigned long rejects_count(const struct rejects *rj);
/* Whether writing the rejects file or its log has failed; then err names
 * the file, the reason and the records lost, and the run must fail (the
 * file is short). Cheap: call it after each reject. rj may be NULL. */
bool rejects_failed(struct rejects *rj, struct sl_error *err);
/* Flush both files and report as rejects_failed: false with err when
 * anything written since the start did not reach them. Call it at the end
 * of a run, before deciding its status. rj may be NULL. */
bool rejects_flush(struct rejects *rj, struct sl_error *err);
void rejects_close(struct rejects *rj);

#endif
