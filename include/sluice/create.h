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
/* The same, a MySQL text key column made varchar(255) with key_collation
 * (typemap_nopad_collation: trailing spaces count), NULL: utf8mb4_bin. */
bool sql_create_table_keyed(const struct dialect *d, struct buf *out, const struct write_spec *spec,
			    const enum col_type *types, const char *key_collation);

/* Append ALTER TABLE child ADD CONSTRAINT name FOREIGN KEY (cols[0..n))
 * REFERENCES parent (pcols[0..n)) ON DELETE CASCADE (--nest: a child
 * table's link to its parent). */
BUF_MUST_USE bool sql_add_foreign_key(const struct dialect *d, struct buf *out,
				      const struct write_spec *child, const char *name,
				      char *const *cols, const struct write_spec *parent,
				      char *const *pcols, int n);

#endif
