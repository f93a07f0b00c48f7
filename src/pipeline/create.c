/* src/pipeline/create.c
 * --create: when the target table is missing, create it from the target
 * columns and the types inferred from the first batch of rows.
 */
#include <stdio.h>
#include <stdlib.h>

#include "sluice/create.h"
#include "sluice/driver.h"
#include "sluice/pipeline.h"
#include "sluice/log.h"
#include "sluice/typemap.h"

static const char *col_type_name(enum col_type t)
{
	switch (t) {
	case TYPE_BIGINT:
		return "bigint";
	case TYPE_NUMERIC:
		return "numeric";
	case TYPE_BOOLEAN:
		return "boolean";
	case TYPE_DATE:
		return "date";
	case TYPE_TIMESTAMP:
		return "timestamp";
	case TYPE_JSON:
		return "json";
	case TYPE_UUID:
		return "uuid";
	case TYPE_BYTES:
		return "bytes";
	case TYPE_TEXT:
		break;
	}
	return "text";
}

bool create_table_from_sample(const struct driver *drv, struct conn *c,
			      const struct write_spec *spec, const struct batch *b, bool dry_run,
			      bool *created, struct sl_error *err)
{
	return create_table_typed(drv, c, spec, b, NULL, 0, dry_run, created, err);
}

bool create_table_typed(const struct driver *drv, struct conn *c, const struct write_spec *spec,
			const struct batch *b, const enum col_type *forced, int nforced,
			bool dry_run, bool *created, struct sl_error *err)
{
	*created = false;
	if (c) {
		struct table_desc td;
		if (!drv->catalog.describe_table(c, spec, &td, err))
			return false;
		bool exists = td.exists;
		table_desc_free(&td);
		if (exists)
			return true;
	} else if (!dry_run) {
		return sl_error_set(err, SL_ERR_INTERNAL, "--create needs a connection");
	}
	if (spec->ncols <= 0 || spec->ncols != b->ncols)
		return sl_error_set(err, SL_ERR_USAGE,
				    "--create: no columns to create the table with");

	enum col_type *types = calloc((size_t)spec->ncols, sizeof *types);
	if (!types)
		return sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
	infer_types(b, types);
	for (int i = 0; i < nforced && i < spec->ncols; i++)
		types[i] = forced[i];
	/* a MySQL key of text: a NO PAD collation where the server has one,
	 * so keys that differ by trailing spaces stay two */
	const char *nopad = NULL;
	char version[128] = "";
	struct sl_error verr;
	if (c && spec->nkey && drv->dialect->text_pads_spaces && drv->conn.server_version &&
	    drv->conn.server_version(c, version, sizeof version, &verr))
		nopad = typemap_nopad_collation(version);
	struct buf ddl;
	buf_init(&ddl, 0);
	bool ok = sql_create_table_keyed(drv->dialect, &ddl, spec, types, nopad);
	if (!ok) {
		sl_error_set(err, SL_ERR_USAGE,
			     "--create: a table or column name cannot be quoted");
	} else {
		for (int i = 0; i < spec->ncols; i++)
			log_debug("--create: column %s: %s (from %zu sample rows)",
				  spec->columns[i], col_type_name(types[i]), b->nrows);
		if (dry_run) {
			fputs(buf_str(&ddl), stdout);
			fputs(";\n", stdout);
			fflush(stdout);
		} else {
			ok = drv->conn.exec(c, buf_str(&ddl), err);
			if (!ok)
				sl_error_prefix(err, "creating table %s", spec->table);
		}
	}
	*created = ok;
	buf_free(&ddl);
	free(types);
	return ok;
}
