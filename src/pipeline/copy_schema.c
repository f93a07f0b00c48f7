/* src/pipeline/copy_schema.c
 * copy --create beyond tables: the enum types and domains a table uses,
 * created on a target that has them too before it (or checked when there
 * already), and the collation of text keys on a target that pads them.
 * The statements come from typemap.c; this file decides when they run and
 * what a refusal means.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sluice/copy_schema.h"
#include "sluice/log.h"
#include "sluice/typemap.h"

bool copy_ddl_run(const struct copy_ddl *d, struct conn *conn, const char *sql,
		  struct sl_error *err)
{
	if (d->dry_run) {
		printf("%s;\n", sql);
		fflush(stdout);
		return true;
	}
	log_debug("%s", sql);
	return d->to->conn.exec(conn, sql, err);
}

void copy_ddl_free(struct copy_ddl *d)
{
	for (int i = 0; i < d->ntypes; i++)
		free(d->types[i]);
	free(d->types);
	d->types = NULL;
	d->ntypes = 0;
}

/* Make col's user type on the target unless made already: look it up,
 * create it when missing, refuse one of that name that differs. */
static bool ensure_type(struct copy_ddl *d, struct conn *conn, const char *table,
			const struct column_desc *col, struct sl_error *err)
{
	for (int i = 0; i < d->ntypes; i++)
		if (!strcmp(d->types[i], col->udt))
			return true;
	struct buf q;
	buf_init(&q, 0);
	char *found[2] = {NULL, NULL};
	bool ok = typemap_type_lookup(d->to->dialect, &q, col);
	if (!ok)
		sl_error_set(err, SL_ERR_USAGE, "%s.%s: type %s cannot be looked up", table,
			     col->name, col->udt);
	else
		ok = d->to->conn.query_row(conn, q.data, found, 2, err);
	bool there = ok && found[0];
	if (there && (strcmp(found[0], col->udt_kind == 'e' ? "e" : "d") || !found[1] ||
		      strcmp(found[1], "t"))) {
		ok = sl_error_set(err, SL_ERR_USAGE,
				  "%s.%s: the target has a type %s that is not the source's %s %s",
				  table, col->name, col->udt,
				  col->udt_kind == 'e' ? "enum of the same labels" : "domain over",
				  col->udt_kind == 'e' ? "(in the same order)" : col->domain_base);
	} else if (there) {
		log_info("type %s: already on the target, the same as on the source", col->udt);
	} else if (ok) {
		buf_reset(&q);
		if (!typemap_create_type(d->to->dialect, &q, col))
			ok = sl_error_set(err, SL_ERR_USAGE, "%s.%s: type %s cannot be written",
					  table, col->name, col->udt);
		else
			ok = copy_ddl_run(d, conn, q.data, err);
		if (ok && !d->dry_run)
			log_info("created type %s", col->udt);
		if (ok && col->udt_kind == 'd' && col->value_type && col->domain_base &&
		    strcmp(col->value_type, col->domain_base))
			log_warn(
				"type %s: a domain over the domain %s, made over %s: the NOT NULL, "
				"CHECK and default of %s are not carried",
				col->udt, col->domain_base, col->value_type, col->domain_base);
	}
	free(found[0]);
	free(found[1]);
	buf_free(&q);
	return ok && (names_add(&d->types, &d->ntypes, col->udt) ||
		      sl_error_set(err, SL_ERR_INTERNAL, "out of memory"));
}

bool copy_create_types(struct copy_ddl *d, struct conn *conn, const char *table,
		       const struct table_desc *src, struct sl_error *err)
{
	if (!d->from->dialect->has_user_types || !d->to->dialect->has_user_types)
		return true;
	for (int pass = 0; pass < 2; pass++)
		for (int i = 0; i < src->ncols; i++) {
			const struct column_desc *col = &src->cols[i];
			if (col->udt && col->udt_kind == (pass ? 'd' : 'e') &&
			    !ensure_type(d, conn, table, col, err))
				return false;
		}
	return true;
}

/* Whether column name of t must compare with its trailing spaces: it is in
 * a primary key or unique index that is carried across servers (not on an
 * expression, not partial), or in a foreign key (whose columns must have
 * the collation of the key they reference). */
static bool keeps_spaces(const struct table_desc *t, const char *name)
{
	for (int i = 0; i < t->nindexes; i++) {
		const struct index_desc *x = &t->indexes[i];
		if (!(x->unique || x->primary) || x->expression || x->exclusion)
			continue;
		for (int k = 0; k < x->ncols; k++)
			if (!strcmp(x->cols[k], name))
				return true;
	}
	for (int i = 0; i < t->nfkeys; i++)
		for (int k = 0; k < t->fkeys[i].ncols; k++)
			if (!strcmp(t->fkeys[i].cols[k], name))
				return true;
	return false;
}

bool copy_key_collations(struct copy_ddl *d, struct conn *conn, const char *table,
			 const struct table_desc *src, struct mapped_column *mapped,
			 struct sl_error *err)
{
	if (d->from->dialect->text_pads_spaces || !d->to->dialect->text_pads_spaces)
		return true;
	if (!d->nopad_known) {
		char version[128] = "";
		if (!d->to->conn.server_version(conn, version, sizeof version, err))
			return false;
		const char *c = typemap_nopad_collation(version);
		snprintf(d->nopad, sizeof d->nopad, "%s", c ? c : "");
		d->nopad_known = true;
	}
	for (int i = 0; i < src->ncols; i++) {
		struct mapped_column *m = &mapped[i];
		if (!keeps_spaces(src, src->cols[i].name) || !typemap_key_pads(m))
			continue;
		if (d->nopad[0] && typemap_key_nopad(m, d->nopad))
			log_info("%s.%s: a key compared with its trailing spaces: %s", table,
				 src->cols[i].name, m->type);
		else if (!d->nopad[0])
			log_warn("%s.%s: keys that differ only by trailing spaces collide on this "
				 "target (no binary collation without PAD SPACE)",
				 table, src->cols[i].name);
	}
	return true;
}
