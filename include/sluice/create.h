/* include/sluice/create.h
 * --create: the CREATE TABLE for a missing table, in the target's dialect,
 * with the column types inferred from a sample of rows (infer.h).
 */
#ifndef SLUICE_CREATE_H
#define SLUICE_CREATE_H

#include <stdbool.h>

#include "sluice/infer.h"
#include "sluice/buf.h"
#include "sluice/error.h"
#include "sluice/sql.h"

/* Append CREATE TABLE for spec's table and columns with the given types. */
bool sql_create_table(const struct dialect *d, struct buf *out, const struct write_spec *spec,
		      const enum col_type *types);

#endif
