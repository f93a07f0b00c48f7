/* include/sluice/checkpoint.h
 * --resume: exactly once across crashes. Every committed piece of input is
 * a row of a checkpoint table in the target, inserted in the same
 * transaction as the rows it covers: the job, the source, the range of
 * record numbers [first, end) it covers, the source's fingerprint. A rerun
 * skips the records those rows cover, whatever the batch size; a range
 * another process holds is claimed first, so each is written once. Record
 * numbers are a source's own when it has them (copy: a table's integer key).
 */
#ifndef SLUICE_CHECKPOINT_H
#define SLUICE_CHECKPOINT_H

#include <stdbool.h>
#include <stddef.h>

#include "sluice/driver.h"
#include "sluice/error.h"

struct checkpoint;

/* Make sure the checkpoint table (table, "schema.name" allowed, NULL for
 * sluice_checkpoints) exists on c, outside any transaction, and read what
 * job has committed of sources[0..nsources) (their canonical names; typed:
 * the names as given, which an earlier version keyed rows by; may be
 * NULL). When job has no rows and one of legacy[0..nlegacy) (names an
 * earlier version gave the job, NULLs skipped, up to CK_MAX_LEGACY) has,
 * the job goes on under the first such. The caller owns *out. */
#define CK_MAX_LEGACY 2
bool checkpoint_open(struct checkpoint **out, const struct driver *drv, struct conn *c,
		     const char *table, const char *job, const char *const *legacy, int nlegacy,
		     char *const *sources, char *const *typed, int nsources, struct sl_error *err);
/* Whether d has the columns of a checkpoint table of sluice's, of any
 * version, in their order: whatever its name (loads may name theirs with
 * --checkpoint-table), it is sluice's resume state, not data; copy leaves
 * it out and verify does not compare it, unless --tables names it. */
bool checkpoint_table_shaped(const struct table_desc *d);
/* The job's name after checkpoint_open (an earlier name when it went on
 * so). */
const char *checkpoint_job(const struct checkpoint *ck);
void checkpoint_close(struct checkpoint *ck);

/* The fingerprint of the file at path: its size and a hash of its first
 * and last 64 KiB (what tells a changed file), then the XXH64 of all its
 * bytes (what a renamed copy is known by); "" for stdin and pipes. Into
 * out (at least 80 bytes). */
bool checkpoint_fingerprint(const char *path, char *out, size_t n, struct sl_error *err);

/* Source src's state before the run: whole (every record committed, and
 * the fingerprint agrees), or false with err (SL_ERR_USAGE) when the file
 * (or stream) changed since a run of this job loaded (part of) it. A
 * source the job has no rows of takes those of a source with the same
 * bytes (a renamed copy); path, the file's (NULL for others), is read
 * again when only an earlier version's rows can tell. */
bool checkpoint_check_source(struct checkpoint *ck, int src, const char *fingerprint,
			     const char *path, bool *whole, struct sl_error *err);

/* Whether the job had committed anything, of any source, when opened. */
bool checkpoint_started(const struct checkpoint *ck);

/* Whether source src has committed records (or is whole); whether a
 * checkpoint_mark_created row says the job created its table. */
bool checkpoint_source_started(const struct checkpoint *ck, int src);
bool checkpoint_source_created(const struct checkpoint *ck, int src);

/* Whether record number ordinal of source src is committed already;
 * ordinals must come in increasing order per source. */
bool checkpoint_covered(struct checkpoint *ck, int src, long long ordinal);

enum claim_result { CLAIM_OK, CLAIM_TAKEN, CLAIM_FAILED };

/* Inside the caller's transaction on c: claim records first..last (both
 * in, any long long: a key of LLONG_MAX too) of source src (rows of them
 * written). CLAIM_TAKEN: another run committed that range (the caller
 * rolls back and counts it as done); CLAIM_FAILED with err. */
enum claim_result checkpoint_claim(struct checkpoint *ck, struct conn *c, int src, long long first,
				   long long last, size_t rows, struct sl_error *err);

/* Inside the caller's transaction on c, before checkpoint_taken looks at
 * records first..last of source src: wait for any other run writing
 * records of the same stretches to end (a lock row of each stretch,
 * inserted and deleted at once, held until this transaction ends). *held
 * is the last stretch of src this transaction holds (LLONG_MIN at its
 * start), moved on here: a stretch is locked once per transaction, in
 * ascending order, so two runs cannot wait on each other in a circle. A
 * transaction locks every stretch it will write before its first
 * checkpoint_taken: a server whose transaction reads one snapshot
 * (MariaDB's REPEATABLE READ) takes it at that first read, and it must
 * see what was committed before the last lock was had. */
bool checkpoint_lock_stretches(struct checkpoint *ck, struct conn *c, int src, long long first,
			       long long last, long long *held, struct sl_error *err);

/* Inside the caller's transaction on c, the stretches of records
 * first..last of source src locked (checkpoint_lock_stretches): which of
 * them another run committed. taken[k] is set for record first + k (taken
 * holds last - first + 1 flags; the others are left as they are) and
 * *ntaken says how many were set. Until the transaction ends no other run
 * can commit any of the rest: those are the caller's to write and claim.
 * Claims alone conflict only when they start at the same record; with
 * this, runs whose batches fall differently (one started after the other
 * committed some records, or rejected a group the other did not read)
 * write each record once, and none is left out. False with err. */
bool checkpoint_taken(struct checkpoint *ck, struct conn *c, int src, long long first,
		      long long last, bool *taken, size_t *ntaken, struct sl_error *err);

/* On a fresh connection: whether the range starting at first of source src
 * is committed (settles a COMMIT whose reply was lost). */
bool checkpoint_committed(struct checkpoint *ck, struct conn *c, int src, long long first,
			  bool *committed, struct sl_error *err);

/* One run of a job at a time (copy --resume, whose runs create, empty and
 * finish its tables): the job's lock (its name in the checkpoint table
 * table, NULL for sluice_checkpoints) taken on c, a connection of the
 * caller's own that holds it until closed, or until its process dies. When
 * another run holds it, says so and waits for that run to end (*waited);
 * false with err when c fails or a signal stops the wait. */
bool checkpoint_lock(struct conn *c, const char *table, const char *job, bool *waited,
		     struct sl_error *err);

/* Mark source src whole (records [0, count) done), in its own transaction. */
bool checkpoint_source_done(struct checkpoint *ck, struct conn *c, int src, long long count,
			    struct sl_error *err);
/* Record that the job created source src's target table (copy --create),
 * so a rerun still builds its indexes and keys. */
bool checkpoint_mark_created(struct checkpoint *ck, struct conn *c, int src, struct sl_error *err);

/* A watermark as one text: "<bytes of cursor>:<cursor><key>" (a NULL key
 * as nothing), appended to b; decoded back into malloc'd *cursor and *key
 * (false when mark is not one, or memory runs out). */
BUF_MUST_USE bool watermark_encode(struct buf *b, const char *cursor, size_t clen, const char *key,
				   size_t klen);
bool watermark_decode(const char *mark, char **cursor, char **key);

/* copy --incremental: source src's watermark as the job committed it
 * (the text a table reader makes of the last row's cursor and key,
 * watermark_encode), or NULL when none is. */
const char *checkpoint_watermark(const struct checkpoint *ck, int src);
/* Inside the caller's transaction on c, with the rows it covers: source
 * src's watermark is now mark (rows: how many the transaction wrote). */
bool checkpoint_set_watermark(struct checkpoint *ck, struct conn *c, int src, const char *mark,
			      size_t rows, struct sl_error *err);

#endif
