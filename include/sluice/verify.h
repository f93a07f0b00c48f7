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
	unsigned long long rows_from, rows_to;
	char sum_from[80], sum_to[80]; /* the checksums as the servers computed them */
	bool match;
	char note[512];                /* columns left out of the checksum, and why */
};

/* Append the checksum query for table t on dialect d: SELECT count(*), and
 * the sum over rows of a 60-bit number taken from md5 of the row's
 * canonical text (columns in order, each normalized as the column types on
 * BOTH sides allow: mine for this side, other for the other side's same
 * columns, matched by position). note gets columns left out and why. */
bool verify_sql(const struct dialect *d, const struct write_spec *t, const struct table_desc *mine,
		const struct table_desc *other, struct buf *out, char *note, size_t notesz);

/* Compare one table: from (drv_from, c_from, t_from) against to. */
bool verify_table(const struct driver *drv_from, struct conn *c_from, const struct write_spec *t_from,
		  const struct driver *drv_to, struct conn *c_to, const struct write_spec *t_to,
		  struct verify_result *out, struct sl_error *err);

#endif
