/* include/sluice/verify.h
 * sluice verify: compare a table on two servers by row count and an
 * order-independent checksum that each server computes over its values
 * normalized to one canonical text, summed so duplicate rows cannot cancel.
 */
#ifndef SLUICE_VERIFY_H
#define SLUICE_VERIFY_H

#include <stdbool.h>

#include "sluice/buf.h"
#include "sluice/driver.h"
#include "sluice/error.h"

struct verify_result {
	char table[256];
	bool exists_from, exists_to; /* the table is there on each side */
	unsigned long long rows_from, rows_to;
	char sum_from[80], sum_to[80]; /* the checksums as the servers computed them ("" if none) */
	bool match;
	bool checkpoint_shaped; /* a checkpoint table of sluice's, on a side it is on */
	char note[512];		/* why they differ; columns compared only in part, and why */
};

/* Append to out the checksum query for table t on dialect d: one row of two
 * text values, count(*) and the sum over rows of a 60-bit number taken from
 * md5 of the row's canonical text. mine are this side's columns and other
 * the other side's (on dialect other_d), matched by position (verify_table
 * aligns them by name): each value is normalized as the types on BOTH sides
 * allow, so both queries produce the same text for the same data. note (may
 * be NULL) gets the columns compared only in part and why, "" when none.
 * With t->own_rows, the table's own rows only (PostgreSQL ONLY). False
 * when the column counts differ, a name cannot be quoted or out is full. */
bool verify_sql(const struct dialect *d, const struct write_spec *t, const struct table_desc *mine,
		const struct dialect *other_d, const struct table_desc *other, struct buf *out,
		char *note, size_t notesz);

/* Compare one table: from (drv_from, c_from, t_from) against to. The two
 * checksum queries run at the same time, one per server. A table other
 * tables inherit from is read ONLY: its children are tables of their own
 * to compare (a copy writes their rows to them alone). A table missing
 * on a side, different column names or different results are a mismatch
 * (out->match false, out->note says why), not an error; false with err only
 * when a server fails. */
bool verify_table(const struct driver *drv_from, struct conn *c_from,
		  const struct write_spec *t_from, const struct driver *drv_to, struct conn *c_to,
		  const struct write_spec *t_to, struct verify_result *out, struct sl_error *err);

#endif
