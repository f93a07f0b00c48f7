/* include/sluice/source.h
 * A byte source: a file or stdin, gunzipped on the fly when its first bytes
 * are the gzip magic, whatever its name.
 */
#ifndef SLUICE_SOURCE_H
#define SLUICE_SOURCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "sluice/error.h"

struct source;

/* Open path ("-" is stdin). False with err (SL_ERR_USAGE) when it cannot be
 * opened. The caller owns *out and closes it with source_close. */
bool source_open(struct source **out, const char *path, struct sl_error *err);
/* Read up to n decompressed bytes; 0 at end; -1 with err on an I/O or gzip error. */
ssize_t source_read(struct source *s, void *buf, size_t n, struct sl_error *err);
/* Look at the first bytes without consuming them (at most n, fewer at end). */
ssize_t source_peek(struct source *s, const void **data, size_t n, struct sl_error *err);
/* Right after source_open: a hash of the first bytes of the stream (up to
 * 4 KiB, waiting for them or the end), into out: what a rerun of a
 * --resume job compares to tell the same stream from another. Nothing is
 * consumed. False with err on a read error. */
bool source_identify(struct source *s, char *out, size_t n, struct sl_error *err);
/* The identity source_identify made, or "" when none was made. */
const char *source_identity(const struct source *s);
/* Bytes consumed from the underlying file (compressed), for progress. */
uint64_t source_position(const struct source *s);
/* Size of the underlying file, or -1 when unknown (a pipe). */
int64_t source_size(const struct source *s);
bool source_is_gzip(const struct source *s);
/* The name for messages: the path, or "stdin". */
const char *source_name(const struct source *s);
void source_close(struct source *s);
/* Check that the file at path is whole before any of its rows is used: for a
 * gzip file, one fast decompression pass that checks every member's CRC and
 * length; nothing to do for plain files. True for "-" (stdin cannot be read
 * twice), and for pipes and FIFOs. False with err naming the file:
 * SL_ERR_INPUT for damage, SL_ERR_USAGE when it cannot be opened (missing, a
 * directory), SL_ERR_INTERNAL on out of memory. */
bool source_verify(const char *path, struct sl_error *err);

#endif
