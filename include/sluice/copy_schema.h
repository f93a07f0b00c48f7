/* include/sluice/copy_schema.h
 * What copy --create carries of a source schema besides tables, keys and
 * indexes: the user types the tables use (before them), and the collation
 * that keeps text keys apart on a MySQL target. Inside src/pipeline/ only.
 */
#ifndef SLUICE_COPY_SCHEMA_H
#define SLUICE_COPY_SCHEMA_H

#include <stdbool.h>

#include "sluice/catalog.h"
#include "sluice/driver.h"
#include "sluice/typemap.h"

/* How copy's DDL goes: the servers, --dry-run, what is made already. */
struct copy_ddl {
	const struct driver *from, *to;
	bool dry_run; /* print the statements instead of running them */
	/* the user types made (or found the same) so far, by name */
	char **types;
	int ntypes;
	/* a MySQL target's binary collation without PAD SPACE ("" for none),
	 * once asked */
	char nopad[64];
	bool nopad_known;
};

/* Run sql on target connection conn, or print it with --dry-run. */
bool copy_ddl_run(const struct copy_ddl *d, struct conn *conn, const char *sql,
		  struct sl_error *err);

/* Before table src is created, when both servers have user types
 * (dialect has_user_types, PostgreSQL): the enum types and domains its
 * columns use, each once (enums first: a domain may be over one). A type
 * of that name already there is used when it is the same (an enum's
 * labels, a domain's base); else the copy stops with an error naming it.
 * Nothing for other servers. */
bool copy_create_types(struct copy_ddl *d, struct conn *conn, const char *table,
		       const struct table_desc *src, struct sl_error *err);

/* From a server whose keys keep trailing spaces (PostgreSQL) to one that
 * pads them (dialect text_pads_spaces, MySQL): the text columns of src's
 * primary and unique keys, and of its foreign keys (mapped, one per
 * column), compare with their trailing spaces, as on the source, so that
 * 'a' and 'a ' stay two keys:
 * the target's NO PAD binary collation; a warning for each such column
 * when it has none. */
bool copy_key_collations(struct copy_ddl *d, struct conn *conn, const char *table,
			 const struct table_desc *src, struct mapped_column *mapped,
			 struct sl_error *err);

/* Free what d holds. */
void copy_ddl_free(struct copy_ddl *d);

#endif
