/* include/sluice/create.h
 * --create: infer column types from a sample of rows and create a missing
 * table with them, in the target's dialect.
 */
#ifndef SLUICE_CREATE_H
#define SLUICE_CREATE_H

#include <stdbool.h>

#include "sluice/batch.h"
#include "sluice/buf.h"
#include "sluice/driver.h"
#include "sluice/error.h"
#include "sluice/sql.h"

enum col_type {
	TYPE_TEXT = 0,
	TYPE_BIGINT,
	TYPE_NUMERIC,
	TYPE_BOOLEAN,
	TYPE_DATE,
	TYPE_TIMESTAMP,
	TYPE_JSON,
	TYPE_UUID, /* 8-4-4-4-12 lowercase hex */
	TYPE_BYTES /* "\x" and lowercase hex pairs (bytea's text form) */
};

/* Infer one type per column from the rows of b (NULLs and empty values say
 * nothing); types must hold b->ncols entries. */
void infer_types(const struct batch *b, enum col_type *types);

/* Append CREATE TABLE for spec's table and columns with the given types. */
bool sql_create_table(const struct dialect *d, struct buf *out, const struct write_spec *spec,
		      const enum col_type *types);

/* With the table missing, create it from the sample in b (dry_run: print the
 * DDL on stdout instead). *created tells whether it was missing. */
bool create_table_from_sample(const struct driver *drv, struct conn *c,
			      const struct write_spec *spec, const struct batch *b, bool dry_run,
			      bool *created, struct sl_error *err);

#endif
