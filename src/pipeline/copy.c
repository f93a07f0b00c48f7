/* src/pipeline/copy.c
 * sluice copy: stream tables from one server to another. The source is read
 * inside one consistent snapshot; each table goes through the load pipeline
 * (load_table) with a table reader as its source, so rejects, retries,
 * lost-COMMIT handling and the summary are those of load. With --create the
 * target tables are created from the source catalog (typemap.c): columns and
 * the primary key before the data, other indexes after it, foreign keys once
 * every table is in, identity sequences moved past the copied maximum.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sluice/checkpoint.h"
#include "sluice/copy_schema.h"
#include "sluice/driver.h"
#include "sluice/job.h"
#include "sluice/log.h"
#include "sluice/rejects.h"
#include "sluice/report.h"
#include "sluice/signals.h"
#include "sluice/typemap.h"
#include "sluice/url.h"
#include "sluice/verify.h"

/* One table of the copy. */
struct copy_table {
	char *name;		      /* source table name */
	char *schema;		      /* its schema when --tables named it so, else NULL */
	char dst_name[80];	      /* the target's: name, or shortened to fit */
	char *dst_qualified;	      /* "schema"."name" (quoted) for the load of its rows */
	struct table_desc src;	      /* source catalog */
	struct write_spec src_spec;   /* source table and columns */
	struct write_spec dst_spec;   /* target table and columns */
	struct mapped_column *mapped; /* per column */
	unsigned *xf;
	int *bits;
	bool created; /* created by this copy (indexes, keys follow) */
	/* --create on a table the target has, or one an earlier run of a
	 * --resume job created: the indexes, keys and identities it misses
	 * follow the data */
	bool finish;
	bool skip; /* nothing to copy (a table without columns) */
	/* tables of the copy the target's table has foreign keys to (it was
	 * there before the copy): their rows go in first */
	int *deps;
	int ndeps;
	/* --resume: */
	bool whole; /* copied whole by an earlier run: skipped */
};

/* A unit of work: a table, or a key range of a big one. */
struct copy_unit {
	int table;		   /* index into copy.tables */
	struct read_range range;   /* the rows it reads (range.key NULL: all) */
	int key;		   /* --resume: the column the rows are ordered by, or -1 */
	char label[300];	   /* for messages: "t" or "t [lo, hi)" */
	unsigned long long weight; /* rows expected, biggest first */
};

struct copy {
	const struct job *job;
	const struct driver *from, *to;
	struct conn *src; /* the snapshot connection: catalog, and data with one worker */
	struct conn *ddl; /* a target connection for DDL */
	struct copy_worker *workers; /* nworkers of them, their snapshots opened at once */
	struct copy_table *tables;
	int ntables;
	struct copy_unit *units;
	int nunits;
	int nworkers; /* units copied at once */
	struct rejects *rejects;
	struct checkpoint *ckpt; /* --resume: the job's, a source per table */
	struct conn *job_lock;	 /* --resume: holds the job (checkpoint_lock) */
	struct copy_ddl schema;	 /* user types made, CHECKs (copy_schema.c) */
	char job_name[600];
	char legacy_job[600];	/* the job's name as an earlier version made it, or "" */
	char query_source[600]; /* --resume --query: the checkpoints' source name */
	char schema_made[256];	/* --create: the target schema made last */

	pthread_mutex_t lock;	   /* guards what follows */
	pthread_cond_t unit_done;  /* a unit is finished: waiting units may go */
	int next_unit;		   /* units before it are all taken */
	bool *taken;		   /* per unit */
	int running;		   /* units being copied */
	int *units_left;	   /* per table: units not yet copied */
	double *started;	   /* per table: when its first unit started */
	struct table_stats *stats; /* per table, summed over its units */
	struct run_report report;
	enum run_status status;
	bool stop;
	atomic_bool halt;     /* stop set: the units being copied stop too */
	atomic_int nleft_out; /* warnings of what the copy does not carry */
};

/* A copy worker: its own source connection (in the shared snapshot) and
 * target DDL connection, and the unit it is reading. */
struct copy_worker {
	struct copy *cp;
	struct conn *src, *ddl;
	const struct copy_unit *unit;
	bool own; /* src and ddl are the worker's, closed at the end */
};

/* Warn that something of the source is left out (or not made on the
 * target), naming it; counted for the line at the end of the run. */
#define left_out(cp, ...)                                                                          \
	do {                                                                                       \
		atomic_fetch_add(&(cp)->nleft_out, 1);                                             \
		log_warn(__VA_ARGS__);                                                             \
	} while (0)

/* Whether name is in a comma-split list. */
static bool listed(char *const *list, int n, const char *name)
{
	for (int i = 0; i < n; i++)
		if (!strcmp(list[i], name))
			return true;
	return false;
}

/* The reader load_table asks for: the worker's unit, streamed on the
 * worker's snapshot connection. */
static bool open_table_reader(void *ctx, int i, struct reader **out, struct sl_error *err)
{
	struct copy_worker *w = ctx;
	(void)i;
	const struct copy_table *t = &w->cp->tables[w->unit->table];
	return table_reader_open(out, w->cp->from, w->src, &t->src_spec, w->cp->job->query,
				 &w->unit->range, t->xf, t->bits, w->unit->key, err);
}

static void free_names(char **names, int n)
{
	for (int i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

static void copy_table_free(struct copy_table *t)
{
	free(t->deps);
	free(t->schema);
	free(t->dst_qualified);
	free(t->name);
	table_desc_free(&t->src);
	free_names((char **)t->dst_spec.columns, t->dst_spec.ncols);
	free((char **)t->src_spec.columns);
	free(t->mapped);
	free(t->xf);
	free(t->bits);
}

/* Run sql on target connection ddl, printing it instead with --dry-run. */
static bool run_ddl(struct copy *cp, struct conn *ddl, const char *sql, struct sl_error *err)
{
	if (cp->job->dry_run) {
		printf("%s;\n", sql);
		fflush(stdout);
		return true;
	}
	log_debug("%s", sql);
	return cp->to->exec(ddl, sql, err);
}

/* Whether column name is a whole part of a unique key that is carried to
 * the target, or of a foreign key (which wants the type and collation of
 * the key it references): MySQL keys no longtext whole, so such a column
 * needs a bounded type; a plain index takes a prefix of it instead. */
static bool in_key(const struct table_desc *d, const char *name)
{
	for (int f = 0; f < d->nfkeys; f++)
		for (int k = 0; k < d->fkeys[f].ncols; k++)
			if (!strcmp(d->fkeys[f].cols[k], name))
				return true;
	for (int u = 0; u < d->nindexes; u++) {
		const struct index_desc *x = &d->indexes[u];
		if (!x->unique || x->expression || x->exclusion ||
		    (strcasecmp(x->method, "btree") && strcasecmp(x->method, "hash")))
			continue;
		for (int k = 0; k < x->ncols; k++)
			if (!strcmp(x->cols[k], name) && !(x->prefix && x->prefix[k]))
				return true;
	}
	return false;
}

/* Describe source table t and map its columns to the target. */
static bool plan_table(struct copy *cp, struct copy_table *t, struct sl_error *err)
{
	const struct job *job = cp->job;
	t->src_spec.schema = t->schema			      ? t->schema
			     : cp->from->dialect->has_schemas ? job->schema
							      : NULL;
	t->src_spec.table = t->name;
	if (!cp->from->describe_full(cp->src, &t->src_spec, &t->src, err))
		return false;
	/* an inheritance parent's rows are its own: its children are tables
	 * of the copy too */
	t->src_spec.own_rows = t->src.has_children;
	if (!t->src.exists && !cp->job->ntables) {
		/* listed by the schema, yet no columns: nothing a target can hold */
		left_out(cp, "table %s has no columns: not copied", t->name);
		t->skip = true;
		return true;
	}
	if (!t->src.exists)
		return sl_error_set(err, SL_ERR_USAGE, "table %s does not exist on the source",
				    t->name);
	/* inheritance is not carried: each table of the family is copied with
	 * its own rows (a parent read ONLY), as a table of its own */
	t->src_spec.own_rows = t->src.has_children;
	if (t->src.parent)
		log_warn("%s inherits from %s: copied as a table of its own", t->name,
			 t->src.parent);
	int n = t->src.ncols;
	char **src_cols = calloc((size_t)n, sizeof *src_cols);
	char **dst_cols = calloc((size_t)n, sizeof *dst_cols);
	t->mapped = calloc((size_t)n, sizeof *t->mapped);
	t->xf = calloc((size_t)n, sizeof *t->xf);
	t->bits = calloc((size_t)n, sizeof *t->bits);
	t->src_spec.columns = src_cols;
	t->dst_spec.columns = dst_cols;
	if (!src_cols || !dst_cols || !t->mapped || !t->xf || !t->bits)
		return sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
	for (int i = 0; i < n; i++) {
		const struct column_desc *col = &t->src.cols[i];
		src_cols[i] = col->name;
		if (!(dst_cols[i] = strdup(col->name)))
			return sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
		t->src_spec.ncols = t->dst_spec.ncols = i + 1;
		bool key = in_key(&t->src, col->name);
		long len = 0;
		if (key && cp->to->dialect != cp->from->dialect &&
		    !cp->from->max_length(cp->src, &t->src_spec, col, &len, err))
			return false;
		if (!typemap_column(cp->from->dialect, cp->to->dialect, col, key, len, job->cast,
				    &t->mapped[i]))
			return sl_error_set(err, SL_ERR_USAGE, "%s.%s: cannot map type %s", t->name,
					    col->name, col->type);
		t->xf[i] = t->mapped[i].xf;
		t->bits[i] = t->mapped[i].bits;
		if (job->dry_run)
			printf("-- %s.%s: %s -> %s%s%s%s%s\n", t->name, col->name, col->type,
			       t->mapped[i].type, t->mapped[i].check_sql[0] ? " CHECK " : "",
			       t->mapped[i].check_sql, t->mapped[i].note[0] ? ": " : "",
			       t->mapped[i].note);
		if (t->mapped[i].note[0])
			log_info("%s.%s: %s -> %s: %s", t->name, col->name, col->type,
				 t->mapped[i].type, t->mapped[i].note);
		if (t->mapped[i].lost)
			left_out(cp, "%s.%s: not carried over: %s", t->name, col->name,
				 t->mapped[i].note);
	}
	if (sql_fit_name(cp->to->dialect, t->name, t->dst_name, sizeof t->dst_name))
		log_warn("table %s is named %s on the target (%s keeps names of %d bytes)", t->name,
			 t->dst_name, cp->to->name, cp->to->dialect->max_name_bytes);
	t->dst_spec.table = t->dst_name;
	/* --schema is the PostgreSQL schema on either side (as for verify): a
	 * PostgreSQL target's tables go into it, or into the schema --tables
	 * named for a PostgreSQL source */
	t->dst_spec.schema = !cp->to->dialect->has_schemas			 ? NULL
			     : t->schema && cp->from->dialect == cp->to->dialect ? t->schema
										 : job->schema;
	/* the load of its rows takes the name quoted: a dot in it is no schema */
	struct buf q;
	buf_init(&q, 0);
	if (!((!t->dst_spec.schema ||
	       (sql_quote_with(&q, t->dst_spec.schema, '"') && buf_putc(&q, '.'))) &&
	      sql_quote_with(&q, t->dst_spec.table, '"'))) {
		buf_free(&q);
		return sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
	}
	t->dst_qualified = q.data;
	return copy_key_collations(&cp->schema, cp->ddl, t->name, &t->src, t->mapped, err);
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

static bool prepare_target(struct copy *cp, struct copy_table *t, struct sl_error *err)
{
	struct table_desc td = {0};
	bool ok = cp->to->describe_full(cp->ddl, &t->dst_spec, &td, err);
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
	return cp->to->describe_full(ddl, &t->dst_spec, have, err);
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
	left_out(cp, "%s: %s not created: %s", t->name, what, err->msg);
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
			left_out(cp, "%s: not carried over: %s", t->name, why);
		else
			ok = ddl_or_warn(cp, ddl, t, what, sql.data, err);
		buf_free(&sql);
	}
	return ok;
}

/* PostgreSQL: the trigger function that does MySQL's ON UPDATE
 * CURRENT_TIMESTAMP, once, before any table's triggers need it. */
static bool prepare_on_update(struct copy *cp, struct sl_error *err)
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
				if (!cp->to->object_exists(err))
					left_out(cp, "%s: ON UPDATE trigger of %s not created: %s",
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
static bool finish_table(struct copy *cp, struct conn *ddl, struct copy_table *t,
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
			left_out(cp, "%s: index %s not carried over: over 64 columns", t->name,
				 x->name);
		} else if (!typemap_create_index(cp->from->dialect, d, &sql, &t->dst_spec, &with,
						 why, sizeof why)) {
			left_out(cp, "%s: index %s not carried over: %s", t->name, x->name, why);
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
		bool there = cp->to->describe_table(cp->ddl, &ref, &td, &e) && td.exists;
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
static bool add_foreign_keys(struct copy *cp, struct sl_error *err)
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
				left_out(cp, "%s: foreign key %s not carried over: %s", ct->name,
					 fk->name, why);
				refused++;
			} else if (!typemap_add_fkey(cp->to->dialect, &sql, &ct->dst_spec,
						     target_fkey(cp, fk, &mapped))) {
				left_out(cp,
					 "%s: foreign key %s not carried over: its action or "
					 "columns cannot be written",
					 ct->name, fk->name);
				refused++;
			} else if (!run_ddl(cp, cp->ddl, sql.data, err)) {
				if (err->kind == SL_ERR_CONNECTION) {
					ok = false;
				} else {
					left_out(cp, "%s: foreign key %s not created: %s", ct->name,
						 fk->name, err->msg);
					refused++;
					sl_error_clear(err);
				}
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

/* Refuse a copy whose source and target are the same tables: --truncate
 * would empty the source, and every row would be doubled. With --schema
 * on PostgreSQL the source is that schema. */
static bool not_itself(struct copy *cp, struct sl_error *err)
{
	char a[1024] = "", b[1024] = "";
	if (cp->from != cp->to || !cp->from->identity)
		return true;
	if (!cp->from->identity(cp->src, a, sizeof a, err) ||
	    !cp->to->identity(cp->ddl, b, sizeof b, err))
		return false;
	if (cp->job->schema && cp->from->dialect->has_schemas) {
		/* PostgreSQL: both sides are --schema's */
		char *colon = strrchr(a, ':'), *colon_b = strrchr(b, ':');
		if (colon)
			snprintf(colon + 1, sizeof a - (size_t)(colon + 1 - a), "%s",
				 cp->job->schema);
		if (colon_b)
			snprintf(colon_b + 1, sizeof b - (size_t)(colon_b + 1 - b), "%s",
				 cp->job->schema);
	}
	if (strcmp(a, b))
		return true;
	return sl_error_set(err, SL_ERR_USAGE,
			    "the source and the target are the same database: a copy onto itself "
			    "is refused");
}

/* Warn about each object of the source that copy leaves behind (routines,
 * sequences, rules...): a rule only when its table is copied, the others
 * only when the whole schema is. */
static void warn_objects(struct copy *cp, const struct schema_desc *sd)
{
	for (int i = 0; i < sd->nobjects; i++) {
		const char *o = sd->objects[i], *on = NULL;
		if (!strncmp(o, "rule ", 5))
			for (const char *p = strstr(o, " on "); p; p = strstr(p + 1, " on "))
				on = p + 4;
		bool copied = !on && !cp->job->ntables;
		for (int t = 0; on && t < cp->ntables; t++)
			copied |= !strcmp(cp->tables[t].name, on);
		if (copied)
			left_out(cp, "%s is not copied", o);
	}
}

/* Decide the tables: --tables, else every base table of the source (minus
 * --exclude-tables); views and triggers are warned about. */
static bool choose_tables(struct copy *cp, struct sl_error *err)
{
	const struct job *job = cp->job;
	struct schema_desc sd = {0};
	if (job->query) {
		if (!job->table)
			return sl_error_set(err, SL_ERR_USAGE,
					    "--query needs --table, the target table");
		cp->tables = calloc(1, sizeof *cp->tables);
		if (!cp->tables || !(cp->tables[0].name = strdup(job->table)))
			return sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
		cp->ntables = 1;
		return true;
	}
	/* --schema is PostgreSQL's: a MySQL source is the URL's database */
	const char *src_schema = cp->from->dialect->has_schemas ? job->schema : NULL;
	if (!cp->from->describe_schema(cp->src, src_schema, &sd, err))
		return false;
	char **names = job->ntables ? job->tables : sd.tables;
	int n = job->ntables ? job->ntables : sd.ntables;
	cp->tables = calloc((size_t)(n ? n : 1), sizeof *cp->tables);
	if (!cp->tables) {
		schema_desc_free(&sd);
		return sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
	}
	const char *ckpt = job->checkpoint_table ? job->checkpoint_table : "sluice_checkpoints";
	if (strrchr(ckpt, '.'))
		ckpt = strrchr(ckpt, '.') + 1;
	for (int i = 0; i < n; i++) {
		if (listed(job->exclude_tables, job->nexclude, names[i]))
			continue;
		if (!job->ntables && !strcmp(names[i], ckpt)) {
			/* sluice's own resume state belongs to the source, not the copy */
			log_info("%s (sluice's checkpoint table) is not copied", names[i]);
			continue;
		}
		/* --tables may name a table with its schema ("sales.orders"), as
		 * verify takes it: plan_table finds whether it is there */
		char *schema = NULL, *table = NULL;
		if (job->ntables && !sql_split_table(names[i], &schema, &table)) {
			schema_desc_free(&sd);
			return sl_error_set(err, SL_ERR_USAGE, "--tables: %s is not a table name",
					    names[i]);
		}
		if (job->ntables && !schema && !listed(sd.tables, sd.ntables, table)) {
			free(table);
			schema_desc_free(&sd);
			return sl_error_set(err, SL_ERR_USAGE, "no base table %s on the source",
					    names[i]);
		}
		struct copy_table *t = &cp->tables[cp->ntables];
		t->schema = schema;
		t->name = job->ntables ? table : strdup(names[i]);
		if (!t->name) {
			schema_desc_free(&sd);
			return sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
		}
		cp->ntables++;
	}
	for (int i = 0; i < sd.nviews && !job->ntables; i++)
		left_out(cp, "view %s is not copied (copy its definition by hand)", sd.views[i]);
	warn_objects(cp, &sd);
	for (int i = 0; i < sd.ntriggers; i++) {
		char table[256];
		snprintf(table, sizeof table, "%.*s", (int)strcspn(sd.triggers[i], "."),
			 sd.triggers[i]);
		bool copied = false;
		for (int t = 0; t < cp->ntables; t++)
			copied |= !strcmp(cp->tables[t].name, table);
		if (copied)
			left_out(cp, "trigger %s is not copied", sd.triggers[i]);
	}
	schema_desc_free(&sd);
	if (cp->ntables == 0)
		return sl_error_set(err, SL_ERR_USAGE, "no tables to copy");
	return true;
}

/* Plan for --query: the target table's columns name the query's. */
static bool plan_query(struct copy *cp, struct copy_table *t, struct sl_error *err)
{
	struct table_desc td = {0};
	t->dst_spec.table = t->name;
	if (!cp->to->describe_table(cp->ddl, &t->dst_spec, &td, err))
		return false;
	if (!td.exists) {
		table_desc_free(&td);
		return sl_error_set(err, SL_ERR_USAGE,
				    "--query copies into an existing table: create %s first",
				    t->name);
	}
	/* the query's columns go to the target's columns of the same names,
	 * whatever their order */
	char **names = NULL;
	int n = 0;
	if (!cp->from->query_columns(cp->src, cp->job->query, &names, &n, err)) {
		table_desc_free(&td);
		return false;
	}
	bool ok = true;
	for (int i = 0; ok && i < n; i++) {
		const char *found = NULL;
		for (int j = 0; j < td.ncols && !found; j++)
			if (cp->to->dialect->columns_case_insensitive
				    ? !strcasecmp(td.cols[j].name, names[i])
				    : !strcmp(td.cols[j].name, names[i]))
				found = td.cols[j].name;
		for (int k = 0; ok && k < i; k++)
			if (!strcmp(names[k], names[i]))
				ok = sl_error_set(err, SL_ERR_USAGE,
						  "--query returns two columns named %s: name "
						  "each with AS",
						  names[i]);
		if (ok && !found) {
			struct buf cols;
			buf_init(&cols, 0);
			for (int j = 0; j < td.ncols; j++)
				buf_catf(&cols, "%s%s", j ? ", " : "", td.cols[j].name);
			ok = sl_error_set(err, SL_ERR_USAGE,
					  "--query returns a column %s, which table %s does not "
					  "have (its columns: %s); name it with AS",
					  names[i], t->name, buf_str(&cols));
			buf_free(&cols);
		}
		if (ok) {
			free(names[i]);
			ok = (names[i] = strdup(found)) != NULL;
		}
	}
	table_desc_free(&td);
	t->xf = calloc((size_t)(n ? n : 1), sizeof *t->xf);
	t->bits = calloc((size_t)(n ? n : 1), sizeof *t->bits);
	t->src_spec.columns = calloc((size_t)(n ? n : 1), sizeof(char *));
	t->dst_spec.columns = names;
	t->dst_spec.ncols = t->src_spec.ncols = n;
	if (ok && (!t->xf || !t->bits || !t->src_spec.columns))
		return sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
	return ok;
}

/* A sub-job that runs worker w's unit through load_table. */
static void unit_job(const struct copy_worker *w, struct job *sub, const char **source_name)
{
	const struct copy *cp = w->cp;
	const struct copy_table *t = &cp->tables[w->unit->table];
	*sub = *cp->job;
	sub->command = CMD_LOAD;
	sub->sources = (char **)source_name;
	sub->nsources = 1;
	sub->table = t->dst_qualified ? t->dst_qualified : t->dst_spec.table;
	sub->columns = (char **)t->dst_spec.columns;
	sub->ncolumns = t->dst_spec.ncols;
	sub->create = false;
	sub->dry_run = false;
	sub->truncate = false; /* done once per table before its units */
	sub->summary_json = NULL;
	sub->open_reader = open_table_reader;
	sub->reader_ctx = (void *)w;
	sub->halt = &cp->halt;
	sub->rejects = cp->rejects;
	sub->on_conflict = CONFLICT_ERROR;
	sub->key = NULL;
	sub->nkey = 0;
	sub->method = cp->job->method; /* METHOD_DEFAULT: the target's best */
	/* rows from a table are regular: bigger batches, fewer commits (the
	 * transaction and XA overhead of a batch is most of the target's work
	 * beyond the rows) */
	if (!cp->job->batch_rows_given)
		sub->batch_rows = 50000;
	/* a copy should be whole: by default the first rejected row stops it */
	sub->max_errors = cp->job->max_errors < 0 ? 0 : cp->job->max_errors;
	if (cp->ckpt) {
		/* --resume: the table's checkpoints, whatever its ranges; a table
		 * not read in the order of an integer key cannot say where a rerun
		 * goes on, so it commits in one transaction: all or nothing */
		sub->job_name = cp->job_name;
		sub->resume_source = cp->job->query ? cp->query_source : t->name;
		sub->checkpoint_table = cp->job->checkpoint_table;
		if (w->unit->key < 0)
			sub->single_transaction = true;
	}
	if (cp->nworkers > 1) {
		/* several units at once: one writer each, and one line per unit
		 * rather than progress bars drawn over each other */
		sub->workers = 1;
		sub->progress = PROGRESS_NONE;
	}
}

/* Empty the target tables first (--truncate), once each. */
static bool truncate_targets(struct copy *cp, struct sl_error *err)
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
	bool ok = !n || cp->to->truncate_tables(cp->ddl, specs, n, err);
	free(specs);
	return ok;
}

/* The column of a single-column integer primary key, or -1: a table is
 * split into ranges of it (an unsigned key too: the bounds are checked to
 * fit when the ranges are made). */
static int split_key(const struct copy_table *t)
{
	const struct index_desc *pk = table_desc_primary(&t->src);
	if (!pk || pk->ncols != 1 || pk->expression)
		return -1;
	for (int i = 0; i < t->src.ncols; i++) {
		if (strcmp(t->src.cols[i].name, pk->cols[0]))
			continue;
		const char *ty = t->src.cols[i].type;
		size_t n = strcspn(ty, "( ");
		static const char *const ints[] = {"tinyint", "smallint", "mediumint",
						   "int",     "bigint",	  "integer",
						   "int2",    "int4",	  "int8"};
		for (size_t k = 0; k < sizeof ints / sizeof ints[0]; k++)
			if (strlen(ints[k]) == n && !strncmp(ty, ints[k], n) && !t->src.cols[i].udt)
				return i;
		return -1;
	}
	return -1;
}

static int by_weight(const void *a, const void *b)
{
	const struct copy_unit *x = a, *y = b;
	return x->weight < y->weight ? 1 : x->weight > y->weight ? -1 : 0;
}

/* Whether the source catalog has a row count guess for d: a driver that
 * gives a number without saying so is taken at its word. */
static bool rows_known(const struct table_desc *d)
{
	return d->rows_estimated || d->rows_estimate > 0;
}

/* The range [*lo, *hi] of t's integer key column key in the snapshot, and
 * with rows its row count; *ranged false when the table is empty. */
static bool key_range(struct copy *cp, const struct copy_table *t, int key,
		      unsigned long long *rows, long long *lo, long long *hi, bool *ranged,
		      struct sl_error *err)
{
	bool empty;
	if (!driver_key_bounds(cp->from, cp->src, &t->src_spec, t->src_spec.columns[key], rows,
			       &empty, lo, hi, err))
		return false;
	*ranged = !empty;
	return true;
}

/* Cut the copy into units: a table each, and a big table with a single
 * integer key into key ranges of about --split-rows rows; biggest first. */
static bool plan_units(struct copy *cp, struct sl_error *err)
{
	size_t cap = (size_t)(cp->ntables ? cp->ntables : 1);
	cp->units = calloc(cap, sizeof *cp->units);
	if (!cp->units)
		return sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
	unsigned long long split = cp->job->split_rows ? cp->job->split_rows : 500000;
	bool ordered = cp->ckpt != NULL; /* --resume: rows come in key order */
	for (int i = 0; i < cp->ntables; i++) {
		struct copy_table *t = &cp->tables[i];
		if (t->whole) {
			log_info("%s: copied whole by an earlier run of job '%s', skipped", t->name,
				 cp->job_name);
			cp->stats[i].files_skipped = 1;
			continue;
		}
		int key = cp->job->query ? -1 : split_key(t);
		unsigned long long rows = t->src.rows_estimate;
		long long lo = 0, hi = 0;
		bool ranged = false;
		if (key >= 0 && cp->nworkers >= 2 && !rows_known(&t->src)) {
			/* never analyzed: count the rows rather than guess */
			if (!key_range(cp, t, key, &rows, &lo, &hi, &ranged, err))
				return false;
		}
		unsigned long long parts =
			key >= 0 && cp->nworkers >= 2 ? (rows + split - 1) / split : 1;
		if (parts < 1)
			parts = 1; /* an empty table is one unit */
		if (parts > 1 && !ranged && !key_range(cp, t, key, NULL, &lo, &hi, &ranged, err))
			return false;
		/* (the key's span in unsigned arithmetic: it may pass LLONG_MAX) */
		unsigned long long span = (unsigned long long)hi - (unsigned long long)lo;
		if (parts > 1 && (!ranged || span < (unsigned long long)parts - 1))
			parts = 1; /* empty, or fewer keys than parts */
		if (cp->nunits + (int)parts > (int)cap) {
			cap = (size_t)cp->nunits + parts + (size_t)cp->ntables;
			struct copy_unit *u = realloc(cp->units, cap * sizeof *u);
			if (!u)
				return sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
			cp->units = u;
		}
		for (unsigned long long p = 0; p < parts; p++) {
			struct copy_unit *u = &cp->units[cp->nunits++];
			memset(u, 0, sizeof *u);
			u->table = i;
			u->weight = rows / parts;
			u->key = ordered ? key : -1;
			if (key >= 0)
				u->range = (struct read_range){.key = t->src_spec.columns[key],
							       .ordered = ordered};
			if (parts == 1) {
				snprintf(u->label, sizeof u->label, "%s", t->name);
				continue;
			}
			/* ranges of equal width over [lo, hi]; the last one is open
			 * above, so no key past the width arithmetic is left out */
			unsigned long long width = span / parts + 1;
			long long a = (long long)((unsigned long long)lo + p * width);
			long long b = (long long)((unsigned long long)a + width);
			u->range.bounded = true;
			u->range.lo = a;
			u->range.hi = b;
			u->range.hi_open = p + 1 == parts;
			/* the last range is open above: its label ends at the
			 * largest key in, never one past it (LLONG_MAX + 1) */
			if (p + 1 == parts)
				snprintf(u->label, sizeof u->label, "%s [%lld, %lld...]", t->name,
					 a, hi);
			else
				snprintf(u->label, sizeof u->label, "%s [%lld, %lld)", t->name, a,
					 b);
		}
		cp->units_left[i] = (int)parts;
	}
	qsort(cp->units, (size_t)cp->nunits, sizeof *cp->units, by_weight);
	cp->taken = calloc((size_t)(cp->nunits ? cp->nunits : 1), sizeof *cp->taken);
	return cp->taken ? true : sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
}

/* The next unit to copy, or NULL when none is left or the copy stops. */
static const struct copy_unit *take_unit(struct copy *cp)
{
	pthread_mutex_lock(&cp->lock);
	const struct copy_unit *u = NULL;
	while (!cp->stop && !signals_caught() && cp->next_unit < cp->nunits) {
		/* the first unit not taken whose table's parents are all in */
		for (int i = cp->next_unit; i < cp->nunits && !u; i++) {
			const struct copy_table *t = &cp->tables[cp->units[i].table];
			bool ready = !cp->taken[i];
			for (int d = 0; ready && d < t->ndeps; d++)
				ready = cp->units_left[t->deps[d]] == 0;
			if (ready) {
				cp->taken[i] = true;
				u = &cp->units[i];
			}
		}
		while (cp->next_unit < cp->nunits && cp->taken[cp->next_unit])
			cp->next_unit++;
		if (u || cp->next_unit >= cp->nunits)
			break;
		if (!cp->running) {
			/* nothing runs that a wait could be for (keys in a cycle):
			 * the next unit goes anyway */
			cp->taken[cp->next_unit] = true;
			u = &cp->units[cp->next_unit];
			break;
		}
		pthread_cond_wait(&cp->unit_done, &cp->lock);
	}
	if (u) {
		cp->running++;
		if (!cp->started[u->table])
			cp->started[u->table] = now_seconds();
	}
	pthread_mutex_unlock(&cp->lock);
	return u;
}

/* Add one unit's result to its table's and the run's. Returns whether that
 * was the table's last unit. */
static bool merge_unit(struct copy *cp, const struct copy_unit *u, enum run_status st,
		       const struct table_stats *one, struct run_report *rep)
{
	pthread_mutex_lock(&cp->lock);
	struct table_stats *ts = &cp->stats[u->table];
	snprintf(ts->table, sizeof ts->table, "%s", cp->tables[u->table].name);
	ts->rows_read += one->rows_read;
	ts->rows_written += one->rows_written;
	ts->rows_rejected += one->rows_rejected;
	ts->rows_resumed += one->rows_resumed;
	ts->zero_dates += one->zero_dates;
	ts->bytes += one->bytes;
	ts->seconds = now_seconds() - cp->started[u->table];
	for (int e = 0; e < rep->nerrors; e++) {
		report_add_error(&cp->report, rep->errors[e]);
		free(rep->errors[e]);
	}
	if (rep->commit_mode)
		cp->report.commit_mode = rep->commit_mode;
	if (rep->has_pool) {
		/* the pools are the units': add them up */
		struct pool_stats *p = &cp->report.pool;
		p->created += rep->pool.created;
		p->closed += rep->pool.closed;
		p->acquires += rep->pool.acquires;
		p->errors += rep->pool.errors;
		p->reconnects += rep->pool.reconnects;
		if (rep->pool.acquire_wait_max > p->acquire_wait_max)
			p->acquire_wait_max = rep->pool.acquire_wait_max;
		cp->report.has_pool = true;
	}
	if (st == RUN_FAILED || st == RUN_USAGE || st == RUN_INTERRUPTED) {
		if (cp->status != RUN_USAGE && cp->status != RUN_INTERRUPTED &&
		    cp->status != RUN_FAILED)
			cp->status = st;
		cp->stop = true;
		atomic_store(&cp->halt, true);
	} else if (st == RUN_PARTIAL && cp->status == RUN_OK) {
		cp->status = RUN_PARTIAL;
	}
	bool last = --cp->units_left[u->table] == 0;
	cp->running--;
	pthread_cond_broadcast(&cp->unit_done);
	pthread_mutex_unlock(&cp->lock);
	return last;
}

/* Stop the copy with err (from a worker). */
static void copy_fail(struct copy *cp, const struct sl_error *err)
{
	bool say = err->kind != SL_ERR_INTERRUPTED; /* copy_run says that once */
	if (say)
		log_error("%s", err->msg);
	pthread_mutex_lock(&cp->lock);
	if (say)
		report_add_error(&cp->report, err->msg);
	cp->status = err->kind == SL_ERR_USAGE ? RUN_USAGE : RUN_FAILED;
	cp->stop = true;
	atomic_store(&cp->halt, true);
	pthread_mutex_unlock(&cp->lock);
}

/* --resume: table i is in, indexes and all: a rerun skips it. Its units
 * did not stop the copy (every unit's status is merged before). */
static bool mark_whole(struct copy *cp, struct conn *ddl, int i, struct sl_error *err)
{
	if (!cp->ckpt)
		return true;
	pthread_mutex_lock(&cp->lock);
	bool ok = cp->stop || checkpoint_source_done(cp->ckpt, ddl, i, 0, err);
	pthread_mutex_unlock(&cp->lock);
	return ok;
}

/* A copy worker: units one after another, each through load_table; the
 * worker that copies a table's last unit builds its indexes. */
static void *copy_worker_main(void *arg)
{
	struct copy_worker *w = arg;
	struct copy *cp = w->cp;
	const struct copy_unit *u;
	while ((u = take_unit(cp)) != NULL) {
		w->unit = u;
		const char *source_name = u->label;
		struct job sub;
		unit_job(w, &sub, &source_name);
		struct table_stats one = {0};
		struct run_report rep = {0};
		double t0 = now_seconds();
		enum run_status st = load_table(&sub, &one, &rep);
		if (cp->nworkers > 1 && st != RUN_FAILED && st != RUN_USAGE)
			log_info("copied %s: %llu rows in %.1f s", u->label,
				 (unsigned long long)one.rows_written, now_seconds() - t0);
		bool last = merge_unit(cp, u, st, &one, &rep);
		struct sl_error err;
		sl_error_clear(&err);
		if (last && (st == RUN_OK || st == RUN_PARTIAL) &&
		    (!finish_table(cp, w->ddl, &cp->tables[u->table], &err) ||
		     !mark_whole(cp, w->ddl, u->table, &err)))
			copy_fail(cp, &err);
	}
	return NULL;
}

/* The source's snapshot, on cp->src and on each worker's connection: one
 * instant for all of them, so the key ranges planned on cp->src are the
 * rows the workers read: cp->src's snapshot exported and imported by the
 * others (PostgreSQL), or every snapshot started while a lock connection
 * holds the source still (MySQL, hold_still), so no commit falls between
 * them. One worker reads on cp->src itself.
 * Every connection is made first: behind a transaction pooler a connect
 * asks the server something, on a server session of the pool, which the
 * snapshots then hold until the end (the driver says so when the pool has
 * too few for them). */
static bool open_snapshots(struct copy *cp, struct sl_error *err)
{
	struct copy_worker *ws = cp->workers;
	for (int i = 0; i < cp->nworkers; i++)
		ws[i] = (struct copy_worker){.cp = cp};
	if (cp->nworkers == 1) {
		ws[0].src = cp->src;
		ws[0].ddl = cp->ddl;
		return cp->from->snapshot(cp->src, err);
	}
	char snap[128] = "";
	struct conn *lock = NULL;
	struct conn_options copts = {.timeout = cp->job->timeout};
	bool ok = true;
	for (int i = 0; ok && i < cp->nworkers; i++) {
		ws[i].own = true;
		ok = cp->from->connect(cp->job->from, &copts, &ws[i].src, err) &&
		     cp->to->connect(cp->job->target, &copts, &ws[i].ddl, err);
	}
	if (ok && cp->from->export_snapshot) {
		ok = cp->from->snapshot(cp->src, err) &&
		     cp->from->export_snapshot(cp->src, snap, sizeof snap, err);
	} else if (ok && cp->from->hold_still) {
		ok = cp->from->connect(cp->job->from, &copts, &lock, err);
		struct sl_error e;
		if (ok && !cp->from->hold_still(lock, &e)) {
			log_warn("copying with %d workers, each reads its own snapshot: %s",
				 cp->nworkers, e.msg);
			cp->from->close(lock);
			lock = NULL;
		}
		ok = ok && cp->from->snapshot(cp->src, err);
	} else if (ok) {
		log_warn("copying with %d workers, each reads its own snapshot: %s has no "
			 "shared one",
			 cp->nworkers, cp->from->name);
		ok = cp->from->snapshot(cp->src, err);
	}
	for (int i = 0; ok && i < cp->nworkers; i++)
		ok = snap[0] ? cp->from->snapshot_at(ws[i].src, snap, err)
			     : cp->from->snapshot(ws[i].src, err);
	if (lock) {
		cp->from->let_go(lock);
		cp->from->close(lock);
	}
	return ok;
}

static void close_workers(struct copy *cp)
{
	for (int i = 0; cp->workers && i < cp->nworkers; i++) {
		struct copy_worker *w = &cp->workers[i];
		if (!w->own)
			continue;
		if (w->src)
			cp->from->close(w->src);
		if (w->ddl)
			cp->to->close(w->ddl);
	}
	free(cp->workers);
	cp->workers = NULL;
}

/* Copy every unit with cp->nworkers workers. */
static void copy_units(struct copy *cp)
{
	pthread_t threads[64];
	int started = 0;
	if (cp->nworkers == 1) {
		copy_worker_main(&cp->workers[0]);
		return;
	}
	for (; started < cp->nworkers; started++)
		if (pthread_create(&threads[started], NULL, copy_worker_main,
				   &cp->workers[started]) != 0)
			break;
	if (started == 0)
		copy_worker_main(&cp->workers[0]);
	for (int i = 0; i < started; i++)
		pthread_join(threads[i], NULL);
}

/* --resume: the job's name, --job or the source's URL (canonical; an
 * earlier version named the job by the URL as given, without its password). */
static bool name_job(struct copy *cp, struct sl_error *err)
{
	const struct job *job = cp->job;
	if (job->job_name) {
		snprintf(cp->job_name, sizeof cp->job_name, "%s", job->job_name);
	} else {
		char canon[512], red[512];
		url_canonical(job->from, canon, sizeof canon);
		url_redact(job->from, red, sizeof red);
		snprintf(cp->job_name, sizeof cp->job_name, "copy:%s%s%s", canon,
			 job->schema ? "#" : "", job->schema ? job->schema : "");
		snprintf(cp->legacy_job, sizeof cp->legacy_job, "copy:%s%s%s", red,
			 job->schema ? "#" : "", job->schema ? job->schema : "");
	}
	if (strlen(cp->job_name) > 200)
		return sl_error_set(err, SL_ERR_USAGE,
				    "the job's name would be over 200 bytes: name it with --job");
	return true;
}

/* --resume: one run of the job at a time. Two runs at once would both
 * create, empty and finish its tables; the second waits for the first to
 * end (or die), then goes on from the checkpoints as a rerun does, on
 * fresh connections: it may have waited for hours. */
static bool lock_job(struct copy *cp, struct sl_error *err)
{
	const struct job *job = cp->job;
	struct conn_options copts = {.timeout = job->timeout};
	bool waited = false;
	if (!name_job(cp, err) || !cp->to->connect(job->target, &copts, &cp->job_lock, err) ||
	    !checkpoint_lock(cp->to, cp->job_lock, job->checkpoint_table, cp->job_name, &waited,
			     err))
		return false;
	if (!waited)
		return true;
	cp->from->close(cp->src);
	cp->to->close(cp->ddl);
	cp->src = cp->ddl = NULL;
	return cp->from->connect(job->from, &copts, &cp->src, err) &&
	       cp->to->connect(job->target, &copts, &cp->ddl, err);
}

/* --resume: the job's checkpoints (after name_job), a source per table;
 * which tables an earlier run created or copied whole. */
static bool open_checkpoints(struct copy *cp, struct sl_error *err)
{
	const struct job *job = cp->job;
	const char *legacy = cp->legacy_job;
	char **names = calloc((size_t)cp->ntables, sizeof *names);
	if (!names)
		return sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
	/* a --query is its own source: another query into the same table is
	 * another source, never "copied whole" by the first */
	char *qname = cp->query_source;
	if (job->query) {
		unsigned long long h = 1469598103934665603ULL;
		for (const char *p = job->query; *p; p++)
			h = (h ^ (unsigned char)*p) * 1099511628211ULL;
		snprintf(qname, sizeof cp->query_source, "%.400s (query %016llx)",
			 cp->tables[0].name, h);
	}
	for (int i = 0; i < cp->ntables; i++)
		names[i] = job->query ? qname : cp->tables[i].name;
	bool ok = checkpoint_open(&cp->ckpt, cp->to, cp->ddl, job->checkpoint_table, cp->job_name,
				  legacy[0] && strlen(legacy) <= 200 ? legacy : NULL, names, NULL,
				  cp->ntables, err);
	if (ok)
		snprintf(cp->job_name, sizeof cp->job_name, "%s", checkpoint_job(cp->ckpt));
	free(names);
	for (int i = 0; ok && i < cp->ntables; i++) {
		struct copy_table *t = &cp->tables[i];
		bool whole;
		ok = checkpoint_check_source(cp->ckpt, i, "", &whole, err);
		t->whole = whole;
		t->finish = checkpoint_source_created(cp->ckpt, i);
	}
	return ok;
}

/* A signal ended the copy: say so, what is committed and how to go on. */
static void note_interrupted(struct copy *cp)
{
	unsigned long long rows = 0;
	for (int i = 0; cp->stats && i < cp->ntables; i++)
		rows += cp->stats[i].rows_written;
	const char *next =
		"to start over, run it again with --truncate (it empties the tables first); with "
		"--resume a rerun goes on where a run stopped";
	if (cp->job->resume)
		next = "to go on, run the same command again: --resume goes on where it stopped";
	else if (cp->job->truncate)
		next = "run the same command again to start over (--truncate empties the tables "
		       "first)";
	char msg[900];
	if (!rows)
		snprintf(msg, sizeof msg,
			 "interrupted by %s: no rows are committed to the target; run the same "
			 "command again",
			 signals_name());
	else
		snprintf(msg, sizeof msg,
			 "interrupted by %s: %llu rows are committed to the target, in whole "
			 "batches (what was in flight is rolled back); %s",
			 signals_name(), rows, next);
	log_error("%s", msg);
	report_add_error(&cp->report, msg);
}

enum run_status copy_run(const struct job *job)
{
	struct copy cp = {.job = job, .status = RUN_OK};
	struct sl_error err;
	sl_error_clear(&err);
	cp.report.started = wall_seconds();
	pthread_mutex_init(&cp.lock, NULL);
	pthread_cond_init(&cp.unit_done, NULL);
	signals_install();
	char red_from[512], red_to[512];
	url_redact(job->from, red_from, sizeof red_from);
	url_redact(job->target, red_to, sizeof red_to);
	cp.from = driver_for_url(job->from);
	cp.to = driver_for_url(job->target);
	cp.schema = (struct copy_ddl){.from = cp.from, .to = cp.to, .dry_run = job->dry_run};
	if (!cp.from || !cp.to) {
		log_error("%s: not a postgresql:// or mysql:// URL", cp.from ? red_to : red_from);
		pthread_cond_destroy(&cp.unit_done);
		pthread_mutex_destroy(&cp.lock);
		return RUN_USAGE;
	}
	char why[400];
	if (job->cast && !typemap_cast_check(job->cast, why, sizeof why)) {
		log_error("%s", why);
		pthread_cond_destroy(&cp.unit_done);
		pthread_mutex_destroy(&cp.lock);
		return RUN_USAGE;
	}
	/* the summary's files must take it: found out before any row is copied */
	if (!report_check_output("--summary-json", job->summary_json, &err) ||
	    !report_check_output("--metrics-file", job->metrics_file, &err)) {
		log_error("%s", err.msg);
		pthread_mutex_destroy(&cp.lock);
		return RUN_USAGE;
	}
	cp.nworkers = job->workers > 1 && !job->single_transaction ? job->workers : 1;
	if (cp.nworkers > 64)
		cp.nworkers = 64;
	struct conn_options copts = {.timeout = job->timeout};
	if (!(cp.workers = calloc((size_t)cp.nworkers, sizeof *cp.workers))) {
		sl_error_set(&err, SL_ERR_INTERNAL, "out of memory");
		goto failed;
	}
	if (!cp.from->connect(job->from, &copts, &cp.src, &err) ||
	    !cp.to->connect(job->target, &copts, &cp.ddl, &err) || !not_itself(&cp, &err) ||
	    (job->resume && !job->dry_run && !lock_job(&cp, &err)) || !open_snapshots(&cp, &err) ||
	    !choose_tables(&cp, &err))
		goto failed;
	cp.stats = calloc((size_t)cp.ntables, sizeof *cp.stats);
	cp.units_left = calloc((size_t)cp.ntables, sizeof *cp.units_left);
	cp.started = calloc((size_t)cp.ntables, sizeof *cp.started);
	if (!cp.stats || !cp.units_left || !cp.started) {
		sl_error_set(&err, SL_ERR_INTERNAL, "out of memory");
		goto failed;
	}
	for (int i = 0; i < cp.ntables; i++) {
		struct copy_table *t = &cp.tables[i];
		snprintf(cp.stats[i].table, sizeof cp.stats[i].table, "%s", t->name);
		if (!(job->query ? plan_query(&cp, t, &err) : plan_table(&cp, t, &err)))
			goto failed;
	}
	/* the tables left out (no columns) are not the copy's */
	int kept = 0;
	for (int i = 0; i < cp.ntables; i++) {
		if (cp.tables[i].skip) {
			copy_table_free(&cp.tables[i]);
			continue;
		}
		cp.stats[kept] = cp.stats[i];
		cp.tables[kept++] = cp.tables[i];
	}
	cp.ntables = kept;
	if (job->resume && !job->dry_run && !open_checkpoints(&cp, &err))
		goto failed;
	for (int i = 0; i < cp.ntables && !job->query; i++)
		if (!prepare_target(&cp, &cp.tables[i], &err))
			goto failed;
	if (!job->query && !prepare_on_update(&cp, &err))
		goto failed;
	if (job->dry_run) {
		for (int i = 0; i < cp.ntables; i++)
			if (rows_known(&cp.tables[i].src))
				printf("-- copy %s: %d columns, about %llu rows\n",
				       cp.tables[i].name, cp.tables[i].dst_spec.ncols,
				       cp.tables[i].src.rows_estimate);
			else
				printf("-- copy %s: %d columns, rows unknown (not analyzed)\n",
				       cp.tables[i].name, cp.tables[i].dst_spec.ncols);
		for (int i = 0; i < cp.ntables; i++)
			if (!finish_table(&cp, cp.ddl, &cp.tables[i], &err))
				goto failed;
		if (!add_foreign_keys(&cp, &err))
			goto failed;
		goto done;
	}
	if (!rejects_open(&cp.rejects, job->rejects_path, &err) || !truncate_targets(&cp, &err) ||
	    !plan_units(&cp, &err))
		goto failed;
	copy_units(&cp);
	if (signals_caught()) {
		cp.status = RUN_INTERRUPTED;
		note_interrupted(&cp);
		goto finish;
	}
	if (cp.status != RUN_OK && cp.status != RUN_PARTIAL)
		goto finish;
	if (!add_foreign_keys(&cp, &err))
		goto failed;
	if (job->verify) {
		for (int i = 0; i < cp.ntables; i++) {
			struct verify_result vr;
			if (!verify_table(cp.from, cp.src, &cp.tables[i].src_spec, cp.to, cp.ddl,
					  &cp.tables[i].dst_spec, &vr, &err))
				goto failed;
			/* the lines of sluice verify: table, rows on each side, result */
			printf("%s\t%llu\t%llu\t%s%s%s\n", vr.table, vr.rows_from, vr.rows_to,
			       vr.match ? "match" : "MISMATCH", vr.note[0] ? "\t" : "", vr.note);
			if (!vr.match) {
				sl_error_set(&err, SL_ERR_DATA, "verify: table %s differs",
					     vr.table);
				log_error("%s", err.msg);
				report_add_error(&cp.report, err.msg);
				cp.status = RUN_FAILED;
			}
		}
		fflush(stdout);
	}
	goto finish;

failed:
	if (err.kind != SL_ERR_INTERRUPTED) {
		log_error("%s", err.msg);
		report_add_error(&cp.report, err.msg);
	}
	cp.status = signals_caught()	       ? RUN_INTERRUPTED
		    : err.kind == SL_ERR_USAGE ? RUN_USAGE
					       : RUN_FAILED;
	if (cp.status == RUN_INTERRUPTED)
		note_interrupted(&cp);
finish:
	if (atomic_load(&cp.nleft_out))
		log_warn("%d part%s of the source schema not carried over (each named above)",
			 atomic_load(&cp.nleft_out), atomic_load(&cp.nleft_out) == 1 ? "" : "s");
	cp.report.status = cp.status;
	cp.report.tables = cp.stats;
	cp.report.ntables = cp.stats ? cp.ntables : 0;
	cp.status = report_finish(&cp.report, job, cp.status);
done:;
	enum run_status status = cp.status;
	if (cp.rejects)
		rejects_close(cp.rejects);
	checkpoint_close(cp.ckpt);
	copy_ddl_free(&cp.schema);
	for (int i = 0; i < cp.ntables; i++)
		copy_table_free(&cp.tables[i]);
	free(cp.tables);
	free(cp.units);
	free(cp.taken);
	free(cp.stats);
	free(cp.units_left);
	free(cp.started);
	for (int i = 0; i < cp.report.nerrors; i++)
		free(cp.report.errors[i]);
	close_workers(&cp);
	if (cp.src)
		cp.from->close(cp.src);
	if (cp.ddl)
		cp.to->close(cp.ddl);
	if (cp.job_lock)
		cp.to->close(cp.job_lock); /* the job goes with it */
	pthread_cond_destroy(&cp.unit_done);
	pthread_mutex_destroy(&cp.lock);
	return status;
}
