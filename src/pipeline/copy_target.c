/* src/pipeline/copy_target.c
 * The target's tables for sluice copy: checked or created before the rows,
 * emptied with --truncate, finished after them (indexes, CHECKs, ON UPDATE
 * triggers, identities) and linked by foreign keys at the end.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sluice/checkpoint.h"
#include "sluice/copy_internal.h"
#include "sluice/copy_schema.h"
#include "sluice/driver.h"
#include "sluice/log.h"
#include "sluice/signals.h"
#include "sluice/typemap.h"

/* Run sql on target connection ddl, printing it instead with --dry-run. */
static bool run_ddl(struct copy *cp, struct conn *ddl, const char *sql, struct sl_error *err)
{
	if (cp->job->dry_run) {
		printf("%s;\n", sql);
		fflush(stdout);
		return true;
	}
	log_debug("%s", sql);
	return cp->to->conn.exec(ddl, sql, err);
}

/* Create target table t when it is missing (and --create asks for it). */
/* The tables of the copy that target table t (there before the copy,
 * described in have) has foreign keys to: t's rows go in after theirs. */
static bool note_parents(struct copy *cp, struct copy_table *t, const struct table_desc *have,
			 struct sl_error *err)
{
	const struct dialect *d = cp->to->dialect;
	for (int f = 0; f < have->nfkeys; f++) {
		const struct fkey_desc *fk = &have->fkeys[f];
		for (int j = 0; j < cp->ntables; j++) {
			const char *name = cp->tables[j].dst_spec.table;
			if (&cp->tables[j] == t || fk->ref_schema ||
			    (d->columns_case_insensitive ? strcasecmp(name, fk->ref_table)
							 : strcmp(name, fk->ref_table)))
				continue;
			int *g = realloc(t->deps, (size_t)(t->ndeps + 1) * sizeof *g);
			if (!g)
				return sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
			t->deps = g;
			t->deps[t->ndeps++] = j;
		}
	}
	return true;
}

/* Whether names a and b are one column on d's server. */
static bool same_column(const struct dialect *d, const char *a, const char *b)
{
	return d->columns_case_insensitive ? !strcasecmp(a, b) : !strcmp(a, b);
}

/* A table the target has already: say what differs from the source before
 * anything moves. A source column it lacks stops the copy (usage, naming
 * it); a column only the target has gets its default, said; a column whose
 * type is not the one the mapping would make is said too, since a value
 * may then be refused or read otherwise. */
static bool same_shape(struct copy *cp, const struct copy_table *t, const struct table_desc *have,
		       struct sl_error *err)
{
	const struct dialect *d = cp->to->dialect;
	for (int i = 0; i < t->src.ncols; i++) {
		const struct column_desc *want = NULL;
		for (int j = 0; j < have->ncols && !want; j++)
			if (same_column(d, have->cols[j].name, t->dst_spec.columns[i]))
				want = &have->cols[j];
		if (!want)
			return sl_error_set(
				err, SL_ERR_USAGE,
				"table %s on the target has no column %s (%s on the "
				"source): add it, or leave the table out (--exclude-tables)",
				t->dst_spec.table, t->dst_spec.columns[i], t->src.cols[i].type);
		/* the mapped type, without what follows it (COLLATE, CHECK) */
		char mapped[256];
		snprintf(mapped, sizeof mapped, "%.*s", (int)strcspn(t->mapped[i].type, " "),
			 t->mapped[i].type);
		if (strncasecmp(want->type, mapped, strlen(mapped)))
			log_info("%s.%s: %s on the source, %s on the target (a copy would make %s)",
				 t->name, t->src.cols[i].name, t->src.cols[i].type, want->type,
				 t->mapped[i].type);
	}
	for (int j = 0; j < have->ncols; j++) {
		bool copied = false;
		for (int i = 0; i < t->dst_spec.ncols && !copied; i++)
			copied = same_column(d, have->cols[j].name, t->dst_spec.columns[i]);
		if (!copied)
			log_info("%s.%s: only on the target: it gets its default",
				 t->dst_spec.table, have->cols[j].name);
	}
	return true;
}

/* Whether default expression e calls a function whose name the target's
 * refusal why names ("function uuid_generate_v1() does not exist"). */
static bool default_refused(const char *e, const char *why)
{
	for (const char *p = strchr(e, '('); p; p = strchr(p + 1, '(')) {
		const char *s = p;
		while (s > e && (isalnum((unsigned char)s[-1]) || s[-1] == '_' || s[-1] == '.'))
			s--;
		if (s == p)
			continue;
		char name[128];
		snprintf(name, sizeof name, "%.*s(", (int)(p - s), s);
		if (strstr(why, name))
			return true;
	}
	return false;
}

/* The target refused to create t (why): the defaults that call a function
 * it names (one the target lacks: uuid_generate_v1() without its
 * extension) are dropped, each named in a warning. False when none is. */
static bool drop_call_defaults(struct copy *cp, struct copy_table *t, const char *why)
{
	bool dropped = false;
	for (int i = 0; i < t->src.ncols; i++) {
		struct mapped_column *m = &t->mapped[i];
		if (!default_refused(m->default_sql, why))
			continue;
		copy_left_out(cp, "%s.%s: default %s not carried: the target refused it (%s)",
			      t->name, t->src.cols[i].name, m->default_sql, why);
		m->default_sql[0] = '\0';
		m->lost = true;
		dropped = true;
	}
	return dropped;
}

bool copy_prepare_target(struct copy *cp, struct copy_table *t, struct sl_error *err)
{
	struct table_desc td = {0};
	bool ok = cp->to->catalog.describe_full(cp->ddl, &t->dst_spec, &td, err);
	bool exists = td.exists;
	ok = ok && (!exists || (note_parents(cp, t, &td, err) && same_shape(cp, t, &td, err)));
	if (ok && td.bulk_refused && cp->job->method == METHOD_INFILE)
		/* before anything is emptied or written */
		ok = sl_error_set(
			err, SL_ERR_USAGE,
			"the server refuses LOAD DATA LOCAL INFILE (local_infile is off): "
			"use --method insert, or enable local_infile on the server");
	table_desc_free(&td);
	if (!ok)
		return false;
	if (exists) {
		/* a rerun after a failed --create, or tables made by hand:
		 * indexes, keys and identities that are missing follow */
		t->finish = t->finish || cp->job->create;
		return true;
	}
	if (!cp->job->create)
		return sl_error_set(
			err, SL_ERR_USAGE,
			"table %s does not exist on the target (--create would create it)",
			t->name);
	/* --resume: the mark goes in first, so a rerun after a crash at any
	 * point builds the indexes of a table this job created */
	if (cp->ckpt && !checkpoint_mark_created(cp->ckpt, cp->ddl, (int)(t - cp->tables), err))
		return false;
	if (t->dst_spec.schema && strcmp(cp->schema_made, t->dst_spec.schema)) {
		struct buf q;
		buf_init(&q, 0);
		bool made = !typemap_create_schema(cp->to->dialect, &q, t->dst_spec.schema) ||
			    run_ddl(cp, cp->ddl, q.data, err);
		buf_free(&q);
		if (!made)
			return false;
		snprintf(cp->schema_made, sizeof cp->schema_made, "%s", t->dst_spec.schema);
	}
	if (!copy_create_types(&cp->schema, cp->ddl, t->name, &t->src, err))
		return false;
	struct buf ddl;
	buf_init(&ddl, 0);
	ok = typemap_create_table(cp->to->dialect, &ddl, &t->dst_spec, &t->src, t->mapped,
				  table_desc_primary(&t->src));
	if (!ok)
		sl_error_set(err, SL_ERR_USAGE, "%s: a table or column name cannot be quoted",
			     t->name);
	else
		ok = run_ddl(cp, cp->ddl, ddl.data, err);
	/* a function the target lacks (SQLSTATE class 42, naming it): once
	 * more without the defaults that call it, until none is named */
	for (int again = 0; !ok && again < t->src.ncols && err->kind != SL_ERR_CONNECTION &&
			    !strncmp(err->sqlstate, "42", 2) && drop_call_defaults(cp, t, err->msg);
	     again++) {
		sl_error_clear(err);
		buf_reset(&ddl);
		if (!typemap_create_table(cp->to->dialect, &ddl, &t->dst_spec, &t->src, t->mapped,
					  table_desc_primary(&t->src))) {
			sl_error_set(err, SL_ERR_USAGE, "%s: the table cannot be written", t->name);
			break;
		}
		ok = run_ddl(cp, cp->ddl, ddl.data, err);
	}
	buf_free(&ddl);
	t->created = ok;
	if (ok && !cp->job->dry_run)
		log_info("created table %s", t->name);
	return ok;
}

/* Whether the target's table have already holds an index on x's columns
 * (in order), unique when x is. */
static bool has_index(const struct dialect *d, const struct table_desc *have,
		      const struct index_desc *x)
{
	for (int i = 0; i < have->nindexes; i++) {
		const struct index_desc *y = &have->indexes[i];
		bool same = y->ncols == x->ncols && y->unique == x->unique && !y->expression;
		for (int k = 0; same && k < x->ncols; k++)
			same = same_column(d, y->cols[k], x->cols[k]);
		if (same)
			return true;
	}
	return false;
}

/* Whether the target's table have already holds a foreign key on fk's
 * columns to the same table. */
static bool has_fkey(const struct dialect *d, const struct table_desc *have,
		     const struct fkey_desc *fk)
{
	for (int i = 0; i < have->nfkeys; i++) {
		const struct fkey_desc *y = &have->fkeys[i];
		bool same = y->ncols == fk->ncols && same_column(d, y->ref_table, fk->ref_table);
		for (int k = 0; same && k < fk->ncols; k++)
			same = same_column(d, y->cols[k], fk->cols[k]);
		if (same)
			return true;
	}
	return false;
}

/* What the target's table t holds now (its indexes and keys), into have;
 * an empty description under --dry-run, where nothing was made. */
static bool describe_target(struct copy *cp, struct conn *ddl, const struct copy_table *t,
			    struct table_desc *have, struct sl_error *err)
{
	memset(have, 0, sizeof *have);
	if (cp->job->dry_run && t->created)
		return true;
	return cp->to->catalog.describe_full(ddl, &t->dst_spec, have, err);
}

/* Run DDL statement sql for object what of table t: a refusal is a warning
 * naming it (false only for a broken connection, with err). */
static bool ddl_or_warn(struct copy *cp, struct conn *ddl, const struct copy_table *t,
			const char *what, const char *sql, struct sl_error *err)
{
	if (run_ddl(cp, ddl, sql, err))
		return true;
	if (err->kind == SL_ERR_CONNECTION)
		return false;
	copy_left_out(cp, "%s: %s not created: %s", t->name, what, err->msg);
	sl_error_clear(err);
	return true;
}

/* t's CHECK constraints the target's table (have) lacks, written for the
 * target where their meaning is sure to be kept, else named in a warning;
 * one the target refuses is named too. */
static bool finish_checks(struct copy *cp, struct conn *ddl, const struct copy_table *t,
			  const struct table_desc *have, struct sl_error *err)
{
	bool ok = true;
	for (int i = 0; ok && i < t->src.nchecks; i++) {
		const struct check_desc *k = &t->src.checks[i];
		bool there = false;
		for (int j = 0; j < have->nchecks; j++)
			there |= !strcmp(have->checks[j].name, k->name);
		if (there)
			continue;
		struct buf sql;
		buf_init(&sql, 0);
		char what[300], why[600];
		snprintf(what, sizeof what, "CHECK %s", k->name);
		if (!typemap_add_check(cp->from->dialect, cp->to->dialect, &sql, &t->dst_spec,
				       &t->src, k, why, sizeof why))
			copy_left_out(cp, "%s: not carried over: %s", t->name, why);
		else
			ok = ddl_or_warn(cp, ddl, t, what, sql.data, err);
		buf_free(&sql);
	}
	return ok;
}

/* PostgreSQL: the trigger function that does MySQL's ON UPDATE
 * CURRENT_TIMESTAMP, once, before any table's triggers need it. */
bool copy_prepare_on_update(struct copy *cp, struct sl_error *err)
{
	bool any = false;
	for (int t = 0; t < cp->ntables; t++)
		for (int i = 0;
		     (cp->tables[t].created || cp->tables[t].finish) && i < cp->tables[t].src.ncols;
		     i++)
			any |= cp->tables[t].mapped && cp->tables[t].mapped[i].on_update_sql[0];
	struct buf sql;
	buf_init(&sql, 0);
	bool ok = !any || !typemap_on_update_function(cp->to->dialect, &sql) ||
		  run_ddl(cp, cp->ddl, sql.data, err);
	buf_free(&sql);
	return ok;
}

/* PostgreSQL: the triggers that do MySQL's ON UPDATE CURRENT_TIMESTAMP of
 * t's columns (MySQL has it in the column); one an earlier run made stays. */
static bool finish_on_update(struct copy *cp, struct conn *ddl, const struct copy_table *t,
			     struct sl_error *err)
{
	bool ok = true;
	for (int i = 0; ok && i < t->src.ncols; i++) {
		struct buf sql;
		buf_init(&sql, 0);
		if (t->mapped[i].on_update_sql[0] &&
		    typemap_on_update_trigger(cp->to->dialect, &sql, &t->dst_spec,
					      t->dst_spec.columns[i]) &&
		    !run_ddl(cp, ddl, sql.data, err)) {
			if (err->kind == SL_ERR_CONNECTION) {
				ok = false;
			} else {
				if (!cp->to->conn.object_exists(err))
					copy_left_out(cp,
						      "%s: ON UPDATE trigger of %s not created: %s",
						      t->name, t->dst_spec.columns[i], err->msg);
				sl_error_clear(err);
			}
		}
		buf_free(&sql);
	}
	return ok;
}

/* After t's data: its secondary and unique indexes that the target does not
 * have yet, and identity sequences moved past the copied maximum. What
 * cannot be carried, or what the target refuses, is warned about by name
 * and the copy goes on. */
bool copy_finish_table(struct copy *cp, struct conn *ddl, struct copy_table *t,
		       struct sl_error *err)
{
	if (!t->created && !t->finish)
		return true;
	const struct dialect *d = cp->to->dialect;
	struct table_desc have;
	if (!describe_target(cp, ddl, t, &have, err))
		return false;
	struct buf sql;
	buf_init(&sql, 0);
	bool ok = true;
	for (int i = 0; ok && i < t->src.nindexes; i++) {
		const struct index_desc *x = &t->src.indexes[i];
		if (x->primary || has_index(d, &have, x))
			continue;
		char why[256] = "";
		buf_reset(&sql);
		/* a plain index on what is an unbounded text on the target takes
		 * a prefix of it */
		int prefix[64] = {0};
		struct index_desc with = *x;
		for (int k = 0; !x->prefix && !x->unique && k < x->ncols && k < 64; k++) {
			for (int j = 0; j < t->src.ncols; j++)
				if (!strcmp(t->src.cols[j].name, x->cols[k]))
					prefix[k] = (int)typemap_index_prefix(d, t->mapped[j].type);
			if (prefix[k])
				with.prefix = prefix;
		}
		if (with.prefix && x->ncols > 64) {
			copy_left_out(cp, "%s: index %s not carried over: over 64 columns", t->name,
				      x->name);
		} else if (!typemap_create_index(cp->from->dialect, d, &sql, &t->dst_spec, &with,
						 why, sizeof why)) {
			copy_left_out(cp, "%s: index %s not carried over: %s", t->name, x->name,
				      why);
		} else {
			char what[300];
			snprintf(what, sizeof what, "index %s", x->name);
			ok = ddl_or_warn(cp, ddl, t, what, sql.data, err);
		}
	}
	ok = ok && finish_checks(cp, ddl, t, &have, err) && finish_on_update(cp, ddl, t, err);
	table_desc_free(&have);
	/* identities go on after the copied maximum, where the server does
	 * not move them by itself */
	for (int i = 0; ok && d->identity_restart && i < t->src.ncols; i++) {
		if (!t->mapped[i].identity)
			continue;
		buf_reset(&sql);
		if (!d->identity_restart(&sql, &t->dst_spec, t->dst_spec.columns[i]))
			ok = sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
		else
			ok = run_ddl(cp, ddl, sql.data, err);
	}
	buf_free(&sql);
	return ok;
}

/* Why foreign key fk of table t cannot go to the target, or NULL: its
 * table is not on the target, or MySQL would refuse a SET NULL action on a
 * NOT NULL column. */
static const char *fkey_refused(struct copy *cp, const struct copy_table *t,
				const struct fkey_desc *fk, char *why, size_t whysz)
{
	bool copied = false;
	for (int i = 0; i < cp->ntables; i++)
		copied |= !fk->ref_schema && !strcmp(cp->tables[i].name, fk->ref_table);
	if (!copied) {
		struct write_spec ref = {.schema = fk->ref_schema, .table = fk->ref_table};
		struct table_desc td = {0};
		struct sl_error e;
		bool there = cp->to->catalog.describe_table(cp->ddl, &ref, &td, &e) && td.exists;
		table_desc_free(&td);
		if (!there) {
			snprintf(why, whysz, "it references %s, which is not copied",
				 fk->ref_table);
			return why;
		}
	}
	const char *set_null = fkey_set_null_event(fk);
	for (int k = 0; set_null && cp->to->dialect->fk_set_null_needs_null && k < fk->ncols; k++) {
		const struct column_desc *col = table_desc_column(&t->src, fk->cols[k]);
		if (col && !col->nullable) {
			snprintf(why, whysz,
				 "ON %s SET NULL on NOT NULL column %s, which %s refuses", set_null,
				 fk->cols[k], cp->to->name);
			return why;
		}
	}
	return NULL;
}

/* fk as the target names it: a referenced table of the copy under its
 * target name (in *tmp, which shares fk's strings). */
static const struct fkey_desc *target_fkey(const struct copy *cp, const struct fkey_desc *fk,
					   struct fkey_desc *tmp)
{
	for (int i = 0; !fk->ref_schema && i < cp->ntables; i++) {
		if (strcmp(cp->tables[i].name, fk->ref_table))
			continue;
		*tmp = *fk;
		tmp->ref_table = (char *)cp->tables[i].dst_spec.table;
		return tmp;
	}
	return fk;
}

/* Foreign keys of the tables created (or finished), once all of them hold
 * their data. One the target cannot take or refuses is warned about by
 * name, and the others are still made. */
bool copy_add_foreign_keys(struct copy *cp, struct sl_error *err)
{
	struct buf sql;
	buf_init(&sql, 0);
	bool ok = true;
	int refused = 0;
	for (int t = 0; ok && t < cp->ntables; t++) {
		struct copy_table *ct = &cp->tables[t];
		if ((!ct->created && !ct->finish) || !ct->src.nfkeys)
			continue;
		struct table_desc have;
		if (!(ok = describe_target(cp, cp->ddl, ct, &have, err)))
			break;
		for (int f = 0; ok && f < ct->src.nfkeys; f++) {
			const struct fkey_desc *fk = &ct->src.fkeys[f];
			struct fkey_desc mapped;
			char why[512];
			if (has_fkey(cp->to->dialect, &have, fk))
				continue;
			buf_reset(&sql);
			if (fkey_refused(cp, ct, fk, why, sizeof why)) {
				copy_left_out(cp, "%s: foreign key %s not carried over: %s",
					      ct->name, fk->name, why);
				refused++;
			} else if (!typemap_add_fkey(cp->to->dialect, &sql, &ct->dst_spec,
						     target_fkey(cp, fk, &mapped))) {
				copy_left_out(cp,
					      "%s: foreign key %s not carried over: its action or "
					      "columns cannot be written",
					      ct->name, fk->name);
				refused++;
			} else if (!run_ddl(cp, cp->ddl, sql.data, err)) {
				if (err->kind == SL_ERR_CONNECTION) {
					ok = false;
				} else {
					copy_left_out(cp, "%s: foreign key %s not created: %s",
						      ct->name, fk->name, err->msg);
					refused++;
					sl_error_clear(err);
				}
			} else if (typemap_fkey_extras(fk) &&
				   strcmp(cp->to->dialect->name, "postgresql")) {
				/* made, without what the target has no words for */
				copy_left_out(
					cp,
					"%s: foreign key %s made without its %s%s%s (%s has "
					"none)",
					ct->name, fk->name,
					typemap_fkey_extras(fk) & FKEY_MATCH_FULL ? "MATCH FULL"
										  : "",
					typemap_fkey_extras(fk) & FKEY_MATCH_FULL &&
							typemap_fkey_extras(fk) & FKEY_DEFERRABLE
						? ", "
						: "",
					typemap_fkey_extras(fk) & FKEY_DEFERRABLE ? "DEFERRABLE"
										  : "",
					cp->to->name);
			}
		}
		table_desc_free(&have);
	}
	if (refused)
		log_info("%d foreign key%s not carried over (named above); the data is copied",
			 refused, refused == 1 ? "" : "s");
	buf_free(&sql);
	return ok;
}

/* Whether table a of the copy reaches table b through the target's
 * foreign keys (deps); seen: the tables looked at already. */
static bool reaches(const struct copy *cp, int a, int b, bool *seen)
{
	if (a == b)
		return true;
	if (seen[a])
		return false;
	seen[a] = true;
	const struct copy_table *t = &cp->tables[a];
	for (int d = 0; d < t->ndeps; d++)
		if (reaches(cp, t->deps[d], b, seen))
			return true;
	return false;
}

/* The table of the copy whose target table is named name (in the same
 * schema), or -1. */
static int copied_table(const struct copy *cp, const char *name)
{
	const struct dialect *d = cp->to->dialect;
	for (int j = 0; j < cp->ntables; j++) {
		const char *dst = cp->tables[j].dst_spec.table;
		if (!(d->columns_case_insensitive ? strcasecmp(dst, name) : strcmp(dst, name)))
			return j;
	}
	return -1;
}

/* The statement that makes target foreign key fk of t again: its own
 * definition where the server printed one (PostgreSQL: MATCH and
 * DEFERRABLE kept), else typemap's. */
static bool held_fkey_sql(const struct copy *cp, const struct copy_table *t,
			  const struct fkey_desc *fk, struct buf *out)
{
	const struct dialect *d = cp->to->dialect;
	if (!fk->definition)
		return typemap_add_fkey(d, out, &t->dst_spec, fk);
	return buf_puts(out, "ALTER TABLE ") && sql_table_name(d, out, &t->dst_spec) &&
	       buf_puts(out, " ADD CONSTRAINT ") && d->quote_ident(out, fk->name) &&
	       buf_putc(out, ' ') && buf_puts(out, fk->definition);
}

bool copy_hold_cyclic_fkeys(struct copy *cp, struct sl_error *err)
{
	if (cp->job->dry_run || cp->job->query)
		return true;
	bool *seen = calloc((size_t)(cp->ntables ? cp->ntables : 1), sizeof *seen);
	if (!seen)
		return sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
	struct buf drop, add;
	buf_init(&drop, 0);
	buf_init(&add, 0);
	bool ok = true;
	for (int i = 0; ok && i < cp->ntables; i++) {
		struct copy_table *t = &cp->tables[i];
		if (t->created || t->skip || t->whole)
			continue; /* no keys yet (they follow the data), or no rows */
		struct table_desc have;
		if (!(ok = describe_target(cp, cp->ddl, t, &have, err)))
			break;
		for (int f = 0; ok && f < have.nfkeys; f++) {
			const struct fkey_desc *fk = &have.fkeys[f];
			int j = fk->ref_schema ? -1 : copied_table(cp, fk->ref_table);
			if (j < 0)
				continue;
			memset(seen, 0, (size_t)cp->ntables * sizeof *seen);
			if (j != i && !reaches(cp, j, i, seen))
				continue; /* the parent's rows go in first */
			buf_reset(&drop);
			buf_reset(&add);
			if (!typemap_drop_fkey(cp->to->dialect, &drop, &t->dst_spec, fk->name) ||
			    !held_fkey_sql(cp, t, fk, &add))
				continue; /* the server cannot drop one (SQLite) */
			log_info("%s: foreign key %s %s, dropped while the rows go in and added "
				 "back after them (%s)",
				 t->name, fk->name,
				 j == i ? "points at its own table"
					: "closes a cycle of foreign keys among the copied tables",
				 add.data);
			/* --resume: a rerun after a crash here finishes the table as
			 * one the job made, adding the source's keys it lacks */
			if (cp->ckpt && !(ok = checkpoint_mark_created(cp->ckpt, cp->ddl, i, err)))
				break;
			if (!(ok = run_ddl(cp, cp->ddl, drop.data, err)))
				break;
			if (!table_desc_add_fkey(&t->held, fk->name, fk->cols, NULL, fk->ref_table,
						 fk->ref_cols, fk->ncols, fk->on_delete,
						 fk->on_update) ||
			    (fk->definition && !(t->held.fkeys[t->held.nfkeys - 1].definition =
							 strdup(fk->definition)))) {
				log_error("%s: foreign key %s dropped; to add it back: %s", t->name,
					  fk->name, add.data);
				ok = sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
			}
		}
		table_desc_free(&have);
	}
	/* a held key orders nothing: its tables no longer wait on each other */
	for (int i = 0; i < cp->ntables; i++) {
		struct copy_table *t = &cp->tables[i];
		int k = 0;
		for (int d = 0; d < t->ndeps; d++) {
			bool held = false;
			for (int f = 0; f < t->held.nfkeys && !held; f++)
				held = copied_table(cp, t->held.fkeys[f].ref_table) == t->deps[d];
			if (!held)
				t->deps[k++] = t->deps[d];
		}
		t->ndeps = k;
	}
	free(seen);
	buf_free(&drop);
	buf_free(&add);
	return ok;
}

bool copy_restore_fkeys(struct copy *cp, struct sl_error *err)
{
	struct buf sql;
	buf_init(&sql, 0);
	int failed = 0;
	bool gone = false; /* the connection broke: the rest only named */
	for (int i = 0; i < cp->ntables; i++) {
		struct copy_table *t = &cp->tables[i];
		for (int f = 0; f < t->held.nfkeys; f++) {
			const struct fkey_desc *fk = &t->held.fkeys[f];
			buf_reset(&sql);
			if (!held_fkey_sql(cp, t, fk, &sql))
				continue; /* it was written once: cannot be */
			struct sl_error e;
			sl_error_clear(&e);
			if (!gone && run_ddl(cp, cp->ddl, sql.data, &e)) {
				log_info("%s: foreign key %s added back", t->name, fk->name);
				continue;
			}
			gone = gone || e.kind == SL_ERR_CONNECTION || signals_caught();
			log_error(
				"%s: foreign key %s, dropped for the copy, could not be added back%s%s; "
				"the rows are copied; to add it: %s",
				t->name, fk->name, e.msg[0] ? ": " : "", e.msg, sql.data);
			failed++;
		}
		table_desc_free(&t->held);
	}
	buf_free(&sql);
	if (failed)
		return sl_error_set(err, SL_ERR_DATA,
				    "%d foreign key%s dropped for the copy could not be added back "
				    "(each named above)",
				    failed, failed == 1 ? "" : "s");
	return true;
}

/* Empty the target tables first (--truncate), once each. */
bool copy_truncate_targets(struct copy *cp, struct sl_error *err)
{
	if (!cp->job->truncate)
		return true;
	const struct write_spec **specs = calloc((size_t)cp->ntables, sizeof *specs);
	if (!specs)
		return sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
	int n = 0;
	for (int i = 0; i < cp->ntables; i++) {
		if (cp->ckpt && checkpoint_source_started(cp->ckpt, i)) {
			/* rows an earlier run of the job committed stay */
			log_info("--truncate: %s is partly copied by job '%s' already; going on "
				 "without emptying it",
				 cp->tables[i].name, cp->job_name);
			continue;
		}
		specs[n++] = &cp->tables[i].dst_spec;
	}
	/* all at once: tables linked by foreign keys are emptied together */
	bool ok = !n || cp->to->write.truncate_tables(cp->ddl, specs, n, err);
	free(specs);
	return ok;
}
