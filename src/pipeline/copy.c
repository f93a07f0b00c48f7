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
	struct table_desc src;	      /* source catalog */
	struct write_spec src_spec;   /* source table and columns */
	struct write_spec dst_spec;   /* target table and columns */
	struct mapped_column *mapped; /* per column */
	unsigned *xf;
	int *bits;
	bool created; /* created by this copy (indexes, keys follow) */
	/* --resume: */
	bool resumed; /* created by an earlier run of the job: what it built stays */
	bool whole;   /* copied whole by an earlier run: skipped */
};

/* A unit of work: a table, or a key range of a big one. */
struct copy_unit {
	int table;		   /* index into copy.tables */
	char *query;		   /* the range's SELECT, or NULL: the whole table */
	int key;		   /* --resume: the column the query orders by, or -1 */
	char label[300];	   /* for messages: "t" or "t [lo, hi)" */
	unsigned long long weight; /* rows expected, biggest first */
};

struct copy {
	const struct job *job;
	const struct driver *from, *to;
	struct conn *src; /* the snapshot connection: catalog, and data with one worker */
	struct conn *ddl; /* a target connection for DDL */
	struct copy_table *tables;
	int ntables;
	struct copy_unit *units;
	int nunits;
	int nworkers; /* units copied at once */
	struct rejects *rejects;
	struct checkpoint *ckpt; /* --resume: the job's, a source per table */
	struct copy_ddl schema;	 /* user types made, CHECKs (copy_schema.c) */
	char job_name[600];

	pthread_mutex_t lock; /* guards what follows */
	int next_unit;
	int *units_left;	   /* per table: units not yet copied */
	double *started;	   /* per table: when its first unit started */
	struct table_stats *stats; /* per table, summed over its units */
	struct run_report report;
	enum run_status status;
	bool stop;
};

/* A copy worker: its own source connection (in the shared snapshot) and
 * target DDL connection, and the unit it is reading. */
struct copy_worker {
	struct copy *cp;
	struct conn *src, *ddl;
	const struct copy_unit *unit;
	bool own; /* src and ddl are the worker's, closed at the end */
};

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
	const char *query = w->unit->query ? w->unit->query : w->cp->job->query;
	return table_reader_open(out, w->cp->from, w->src, &t->src_spec, query, t->xf, t->bits,
				 w->unit->key, err);
}

static void free_names(char **names, int n)
{
	for (int i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

static void copy_table_free(struct copy_table *t)
{
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

/* run_ddl for a table an earlier run of a --resume job created: an index
 * or foreign key that run made already is there, not an error. */
static bool run_ddl_again(struct copy *cp, struct conn *ddl, const struct copy_table *t,
			  const char *sql, struct sl_error *err)
{
	if (run_ddl(cp, ddl, sql, err))
		return true;
	/* PostgreSQL: relation / constraint exists; MySQL: duplicate key or
	 * foreign key name */
	bool there = !strcmp(err->sqlstate, "42P07") || !strcmp(err->sqlstate, "42710") ||
		     err->server_code == 1061 || err->server_code == 1826;
	if (!t->resumed || !there)
		return false;
	log_debug("made by an earlier run: %s", err->msg);
	sl_error_clear(err);
	return true;
}

/* Whether column name is in an index that is carried to the target (MySQL
 * indexes no longtext, so such a column needs a bounded type): not one on
 * an expression, not an EXCLUDE constraint, across servers a btree or hash
 * one only (typemap_create_index); or in a foreign key, which MySQL
 * indexes, with the type of the key it references. */
static bool in_key(const struct copy *cp, const struct table_desc *d, const char *name)
{
	bool same = cp->from->dialect == cp->to->dialect;
	for (int u = 0; u < d->nindexes; u++) {
		const struct index_desc *x = &d->indexes[u];
		if (x->expression || x->exclusion ||
		    !(same || !x->method || !strcasecmp(x->method, "btree") ||
		      !strcasecmp(x->method, "hash")))
			continue;
		for (int k = 0; k < x->ncols; k++)
			if (!strcmp(x->cols[k], name))
				return true;
	}
	for (int f = 0; f < d->nfkeys; f++)
		for (int k = 0; k < d->fkeys[f].ncols; k++)
			if (!strcmp(d->fkeys[f].cols[k], name))
				return true;
	return false;
}

/* The longest value of column col (of type type) in characters, bytes for
 * binary ones: for a key's varchar. A failed query would abort the
 * snapshot on PostgreSQL, so any type is cast to text there first. */
static long max_length(struct copy *cp, const struct copy_table *t, const char *col,
		       const char *type)
{
	struct buf q;
	buf_init(&q, 0);
	const struct dialect *d = cp->from->dialect;
	bool pg = !strcmp(d->name, "postgresql"), bytes = pg && !strcmp(type, "bytea");
	bool ok = buf_puts(&q, bytes ? "SELECT MAX(OCTET_LENGTH(" : "SELECT MAX(CHAR_LENGTH(") &&
		  d->quote_ident(&q, col) && buf_puts(&q, pg && !bytes ? "::text" : "") &&
		  buf_puts(&q, ")) FROM ") && sql_read_table(d, &q, &t->src_spec);
	char *v = NULL;
	struct sl_error err;
	long n = 0;
	if (ok && cp->from->query_row(cp->src, q.data, &v, 1, &err) && v)
		n = atol(v);
	free(v);
	buf_free(&q);
	return n;
}

/* Describe source table t and map its columns to the target. */
static bool plan_table(struct copy *cp, struct copy_table *t, struct sl_error *err)
{
	const struct job *job = cp->job;
	t->src_spec.schema = job->schema;
	t->src_spec.table = t->name;
	if (!cp->from->describe_full(cp->src, &t->src_spec, &t->src, err))
		return false;
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
		bool key = in_key(cp, &t->src, col->name);
		long len = key && cp->to->dialect != cp->from->dialect
				   ? max_length(cp, t, col->name, col->type)
				   : 0;
		if (!typemap_column(cp->from->dialect, cp->to->dialect, col, key, len, job->cast,
				    &t->mapped[i]))
			return sl_error_set(err, SL_ERR_USAGE, "%s.%s: cannot map type %s", t->name,
					    col->name, col->type);
		t->xf[i] = t->mapped[i].xf;
		t->bits[i] = t->mapped[i].bits;
		if (t->mapped[i].note[0])
			log_info("%s.%s: %s -> %s: %s", t->name, col->name, col->type,
				 t->mapped[i].type, t->mapped[i].note);
		if (t->mapped[i].lost)
			log_warn("%s.%s: not carried over: %s", t->name, col->name,
				 t->mapped[i].note);
	}
	t->dst_spec.table = t->name;
	t->dst_spec.schema = NULL;
	return copy_key_collations(&cp->schema, cp->ddl, t->name, &t->src, t->mapped, err);
}

/* Create target table t when it is missing (and --create asks for it). */
static bool prepare_target(struct copy *cp, struct copy_table *t, struct sl_error *err)
{
	struct table_desc td = {0};
	bool ok = cp->to->describe_table(cp->ddl, &t->dst_spec, &td, err);
	bool exists = td.exists;
	table_desc_free(&td);
	if (!ok)
		return false;
	if (exists)
		return true;
	if (!cp->job->create)
		return sl_error_set(
			err, SL_ERR_USAGE,
			"table %s does not exist on the target (--create would create it)",
			t->name);
	/* --resume: the mark goes in first, so a rerun after a crash at any
	 * point builds the indexes of a table this job created */
	if (cp->ckpt && !checkpoint_mark_created(cp->ckpt, cp->ddl, (int)(t - cp->tables), err))
		return false;
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

/* After t's data: its secondary and unique indexes, and identity sequences
 * moved past the copied maximum. What cannot be carried is warned about. */
static bool finish_table(struct copy *cp, struct conn *ddl, struct copy_table *t,
			 struct sl_error *err)
{
	if (!t->created)
		return true;
	struct buf sql;
	buf_init(&sql, 0);
	bool ok = true;
	for (int i = 0; ok && i < t->src.nindexes; i++) {
		const struct index_desc *x = &t->src.indexes[i];
		if (x->primary)
			continue;
		char why[256] = "";
		buf_reset(&sql);
		if (typemap_create_index(cp->from->dialect, cp->to->dialect, &sql, &t->dst_spec, x,
					 why, sizeof why)) {
			ok = run_ddl_again(cp, ddl, t, sql.data, err);
			if (!ok && x->definition && err->kind != SL_ERR_CONNECTION) {
				/* the source's definition may name what the target
				 * lacks (a function, an operator class, an extension) */
				log_warn("%s: index %s not carried over: %s", t->name, x->name,
					 err->msg);
				sl_error_clear(err);
				ok = true;
			}
		} else
			log_warn("%s: index %s not carried over: %s", t->name, x->name, why);
	}
	ok = ok && copy_add_checks(&cp->schema, ddl, t->name, &t->dst_spec, &t->src, err);
	/* PostgreSQL identity: the sequence goes on after the copied maximum
	 * (MySQL's AUTO_INCREMENT moves by itself) */
	const struct dialect *d = cp->to->dialect;
	for (int i = 0; ok && i < t->src.ncols && !strcmp(d->name, "postgresql"); i++) {
		if (!t->mapped[i].identity)
			continue;
		struct buf name;
		buf_init(&name, 0);
		buf_reset(&sql);
		ok = sql_table_name(d, &name, &t->dst_spec) &&
		     buf_puts(&sql, "SELECT setval(pg_get_serial_sequence(") &&
		     sql_quote_with(&sql, name.data, '\'') && buf_puts(&sql, ", ") &&
		     sql_quote_with(&sql, t->dst_spec.columns[i], '\'') &&
		     buf_puts(&sql, "), COALESCE(MAX(") &&
		     d->quote_ident(&sql, t->dst_spec.columns[i]) &&
		     buf_puts(&sql, "), 0) + 1, false) FROM ") && buf_puts(&sql, name.data);
		buf_free(&name);
		if (!ok)
			sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
		else
			ok = run_ddl(cp, ddl, sql.data, err);
	}
	buf_free(&sql);
	return ok;
}

/* Foreign keys of the tables created, once all of them hold their data. */
static bool add_foreign_keys(struct copy *cp, struct sl_error *err)
{
	struct buf sql;
	buf_init(&sql, 0);
	bool ok = true;
	for (int t = 0; ok && t < cp->ntables; t++) {
		struct copy_table *ct = &cp->tables[t];
		for (int f = 0; ct->created && ok && f < ct->src.nfkeys; f++) {
			buf_reset(&sql);
			if (!typemap_add_fkey(cp->to->dialect, &sql, &ct->dst_spec,
					      &ct->src.fkeys[f]))
				ok = sl_error_set(err, SL_ERR_USAGE,
						  "%s: foreign key %s cannot be written", ct->name,
						  ct->src.fkeys[f].name);
			else
				ok = run_ddl_again(cp, cp->ddl, ct, sql.data, err);
		}
	}
	buf_free(&sql);
	return ok;
}

/* Warn about each object of the source that copy leaves behind (routines,
 * sequences, rules...): a rule only when its table is copied, the others
 * only when the whole schema is. */
static void warn_objects(const struct copy *cp, const struct schema_desc *sd)
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
			log_warn("%s is not copied", o);
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
	if (!cp->from->describe_schema(cp->src, job->schema, &sd, err))
		return false;
	char **names = job->ntables ? job->tables : sd.tables;
	int n = job->ntables ? job->ntables : sd.ntables;
	cp->tables = calloc((size_t)(n ? n : 1), sizeof *cp->tables);
	if (!cp->tables) {
		schema_desc_free(&sd);
		return sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
	}
	for (int i = 0; i < n; i++) {
		if (listed(job->exclude_tables, job->nexclude, names[i]))
			continue;
		if (job->ntables && !listed(sd.tables, sd.ntables, names[i])) {
			schema_desc_free(&sd);
			return sl_error_set(err, SL_ERR_USAGE, "no base table %s on the source",
					    names[i]);
		}
		if (!(cp->tables[cp->ntables].name = strdup(names[i]))) {
			schema_desc_free(&sd);
			return sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
		}
		cp->ntables++;
	}
	for (int i = 0; i < sd.nviews && !job->ntables; i++)
		log_warn("view %s is not copied (copy its definition by hand)", sd.views[i]);
	warn_objects(cp, &sd);
	for (int i = 0; i < sd.ntriggers; i++) {
		char table[256];
		snprintf(table, sizeof table, "%.*s", (int)strcspn(sd.triggers[i], "."),
			 sd.triggers[i]);
		bool copied = false;
		for (int t = 0; t < cp->ntables; t++)
			copied |= !strcmp(cp->tables[t].name, table);
		if (copied)
			log_warn("trigger %s is not copied", sd.triggers[i]);
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
	int n = td.ncols;
	char **dst = calloc((size_t)n, sizeof *dst);
	t->xf = calloc((size_t)n, sizeof *t->xf);
	t->bits = calloc((size_t)n, sizeof *t->bits);
	t->src_spec.columns = calloc((size_t)n, sizeof(char *));
	bool ok = dst && t->xf && t->bits && t->src_spec.columns;
	for (int i = 0; ok && i < n; i++) {
		ok = (dst[i] = strdup(td.cols[i].name)) != NULL;
		t->dst_spec.ncols = t->src_spec.ncols = i + 1;
	}
	t->dst_spec.columns = dst;
	table_desc_free(&td);
	return ok ? true : sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
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
	sub->table = t->name;
	sub->columns = (char **)t->dst_spec.columns;
	sub->ncolumns = t->dst_spec.ncols;
	sub->create = false;
	sub->dry_run = false;
	sub->truncate = false; /* done once per table before its units */
	sub->summary_json = NULL;
	sub->open_reader = open_table_reader;
	sub->reader_ctx = (void *)w;
	sub->rejects = cp->rejects;
	sub->on_conflict = CONFLICT_ERROR;
	sub->key = NULL;
	sub->nkey = 0;
	sub->method = METHOD_DEFAULT;
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
		sub->resume_source = t->name;
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
	struct buf sql;
	buf_init(&sql, 0);
	bool ok = true;
	for (int i = 0; ok && cp->job->truncate && i < cp->ntables; i++) {
		if (cp->ckpt && checkpoint_source_started(cp->ckpt, i)) {
			/* rows an earlier run of the job committed stay */
			log_info("--truncate: %s is partly copied by job '%s' already; going on "
				 "without emptying it",
				 cp->tables[i].name, cp->job_name);
			continue;
		}
		buf_reset(&sql);
		ok = sql_truncate(cp->to->dialect, &sql, &cp->tables[i].dst_spec) &&
		     run_ddl(cp, cp->ddl, sql.data, err);
	}
	buf_free(&sql);
	return ok;
}

/* The column of a single-column integer primary key, or -1: a table is
 * split into ranges of it. */
static int split_key(const struct copy_table *t)
{
	const struct index_desc *pk = table_desc_primary(&t->src);
	if (!pk || pk->ncols != 1 || pk->expression)
		return -1;
	for (int i = 0; i < t->src.ncols; i++) {
		if (strcmp(t->src.cols[i].name, pk->cols[0]))
			continue;
		const char *ty = t->src.cols[i].type;
		static const char *const ints[] = {"tinyint", "smallint", "mediumint",
						   "int",     "bigint",	  "integer"};
		for (size_t k = 0; k < sizeof ints / sizeof ints[0]; k++)
			if (!strncmp(ty, ints[k], strlen(ints[k])) && !strstr(ty, "unsigned"))
				return i;
		return -1;
	}
	return -1;
}

/* The SELECT of t's columns where key lies in [lo, hi) (whole: the whole
 * table; hi_open: no upper bound), in the order of the key with ordered, in
 * the source's dialect. */
static char *range_query(const struct copy *cp, const struct copy_table *t, int key, bool whole,
			 long long lo, long long hi, bool hi_open, bool ordered)
{
	const struct dialect *d = cp->from->dialect;
	const char *k = t->src_spec.columns[key];
	struct buf q;
	buf_init(&q, 0);
	bool ok = buf_puts(&q, "SELECT ");
	for (int i = 0; ok && i < t->src_spec.ncols; i++)
		ok = (!i || buf_puts(&q, ", ")) && d->quote_ident(&q, t->src_spec.columns[i]);
	ok = ok && buf_puts(&q, " FROM ") && sql_read_table(d, &q, &t->src_spec);
	if (ok && !whole)
		ok = buf_puts(&q, " WHERE ") && d->quote_ident(&q, k) &&
		     buf_printf(&q, " >= %lld", lo);
	if (ok && !whole && !hi_open)
		ok = buf_puts(&q, " AND ") && d->quote_ident(&q, k) &&
		     buf_printf(&q, " < %lld", hi);
	if (ok && ordered)
		ok = buf_puts(&q, " ORDER BY ") && d->quote_ident(&q, k);
	if (!ok) {
		buf_free(&q);
		return NULL;
	}
	return q.data;
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
	struct buf q;
	buf_init(&q, 0);
	const struct dialect *d = cp->from->dialect;
	char *v[3] = {NULL, NULL, NULL};
	int n = rows ? 3 : 2;
	bool ok = buf_puts(&q, rows ? "SELECT count(*), MIN(" : "SELECT MIN(") &&
		  d->quote_ident(&q, t->src_spec.columns[key]) && buf_puts(&q, "), MAX(") &&
		  d->quote_ident(&q, t->src_spec.columns[key]) && buf_puts(&q, ") FROM ") &&
		  sql_read_table(d, &q, &t->src_spec);
	if (!ok) {
		buf_free(&q);
		return sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
	}
	ok = cp->from->query_row(cp->src, q.data, v, n, err);
	buf_free(&q);
	if (!ok)
		return false;
	char **mm = rows ? v + 1 : v;
	if (rows)
		*rows = v[0] ? strtoull(v[0], NULL, 10) : 0;
	*ranged = mm[0] && mm[1];
	if (*ranged) {
		*lo = atoll(mm[0]);
		*hi = atoll(mm[1]);
	}
	for (int i = 0; i < n; i++)
		free(v[i]);
	return true;
}

/* Cut the copy into units: a table each, and a big table with a single
 * integer key into key ranges of about --split-rows rows; biggest first. */
static bool plan_units(struct copy *cp, struct sl_error *err)
{
	size_t cap = (size_t)cp->ntables;
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
		if (parts > 1 && (!ranged || hi - lo + 1 < (long long)parts))
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
			if (parts == 1) {
				snprintf(u->label, sizeof u->label, "%s", t->name);
				if (ordered && key >= 0 &&
				    !(u->query = range_query(cp, t, key, true, 0, 0, true, true)))
					return sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
				continue;
			}
			/* ranges of equal width over [lo, hi]; the last one is open
			 * above, so no key past the width arithmetic is left out */
			long long width = (hi - lo) / (long long)parts + 1;
			long long a = lo + (long long)p * width, b = a + width;
			u->query = range_query(cp, t, key, false, a, b, p + 1 == parts, ordered);
			if (!u->query)
				return sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
			snprintf(u->label, sizeof u->label, "%s [%lld, %s%lld)", t->name, a,
				 p + 1 == parts ? "..." : "", p + 1 == parts ? hi + 1 : b);
		}
		cp->units_left[i] = (int)parts;
	}
	qsort(cp->units, (size_t)cp->nunits, sizeof *cp->units, by_weight);
	return true;
}

/* The next unit to copy, or NULL when none is left or the copy stops. */
static const struct copy_unit *take_unit(struct copy *cp)
{
	pthread_mutex_lock(&cp->lock);
	const struct copy_unit *u = NULL;
	if (!cp->stop && !signals_caught() && cp->next_unit < cp->nunits)
		u = &cp->units[cp->next_unit++];
	if (u && !cp->started[u->table])
		cp->started[u->table] = now_seconds();
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
		if (cp->status != RUN_USAGE && cp->status != RUN_INTERRUPTED)
			cp->status = st;
		cp->stop = true;
	} else if (st == RUN_PARTIAL && cp->status == RUN_OK) {
		cp->status = RUN_PARTIAL;
	}
	bool last = --cp->units_left[u->table] == 0;
	pthread_mutex_unlock(&cp->lock);
	return last;
}

/* Stop the copy with err (from a worker). */
static void copy_fail(struct copy *cp, const struct sl_error *err)
{
	log_error("%s", err->msg);
	pthread_mutex_lock(&cp->lock);
	report_add_error(&cp->report, err->msg);
	cp->status = err->kind == SL_ERR_USAGE ? RUN_USAGE : RUN_FAILED;
	cp->stop = true;
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

/* Connections for worker i: the snapshot connection itself when there is
 * one worker; else new ones that see the same snapshot (PostgreSQL: the
 * exported one; MySQL: snapshots started together while the lock
 * connection holds FLUSH TABLES WITH READ LOCK). */
static bool open_workers(struct copy *cp, struct copy_worker *ws, struct sl_error *err)
{
	for (int i = 0; i < cp->nworkers; i++)
		ws[i] = (struct copy_worker){.cp = cp};
	if (cp->nworkers == 1) {
		ws[0].src = cp->src;
		ws[0].ddl = cp->ddl;
		return true;
	}
	char snap[128] = "";
	struct conn *lock = NULL;
	struct conn_options copts = {.timeout = cp->job->timeout};
	bool ok = true;
	if (cp->from->export_snapshot) {
		ok = cp->from->export_snapshot(cp->src, snap, sizeof snap, err);
	} else if (cp->from->connect(cp->job->from, &copts, &lock, err)) {
		struct sl_error e;
		if (!cp->from->exec(lock, "FLUSH TABLES WITH READ LOCK", &e)) {
			log_warn("copying with %d workers, each reads its own snapshot: FLUSH "
				 "TABLES "
				 "WITH READ LOCK is not allowed here (%s)",
				 cp->nworkers, e.msg);
			cp->from->close(lock);
			lock = NULL;
		}
	} else {
		ok = false;
	}
	for (int i = 0; ok && i < cp->nworkers; i++) {
		ws[i].own = true;
		ok = cp->from->connect(cp->job->from, &copts, &ws[i].src, err) &&
		     (snap[0] ? cp->from->snapshot_at(ws[i].src, snap, err)
			      : cp->from->snapshot(ws[i].src, err)) &&
		     cp->to->connect(cp->job->target, &copts, &ws[i].ddl, err);
	}
	if (lock) {
		struct sl_error e;
		cp->from->exec(lock, "UNLOCK TABLES", &e);
		cp->from->close(lock);
	}
	return ok;
}

static void close_workers(struct copy *cp, struct copy_worker *ws)
{
	for (int i = 0; i < cp->nworkers; i++) {
		if (!ws[i].own)
			continue;
		if (ws[i].src)
			cp->from->close(ws[i].src);
		if (ws[i].ddl)
			cp->to->close(ws[i].ddl);
	}
}

/* Copy every unit with cp->nworkers workers. */
static bool copy_units(struct copy *cp, struct sl_error *err)
{
	struct copy_worker ws[64];
	pthread_t threads[64];
	if (!open_workers(cp, ws, err)) {
		close_workers(cp, ws);
		return false;
	}
	int started = 0;
	if (cp->nworkers == 1) {
		copy_worker_main(&ws[0]);
	} else {
		for (; started < cp->nworkers; started++)
			if (pthread_create(&threads[started], NULL, copy_worker_main,
					   &ws[started]) != 0)
				break;
		if (started == 0)
			copy_worker_main(&ws[0]);
		for (int i = 0; i < started; i++)
			pthread_join(threads[i], NULL);
	}
	close_workers(cp, ws);
	return true;
}

/* --resume: the job's name (--job, or the source's URL without its
 * password), its checkpoints, a source per table; which tables an earlier
 * run created or copied whole. */
static bool open_checkpoints(struct copy *cp, struct sl_error *err)
{
	const struct job *job = cp->job;
	if (job->job_name) {
		snprintf(cp->job_name, sizeof cp->job_name, "%s", job->job_name);
	} else {
		char red[512];
		url_redact(job->from, red, sizeof red);
		snprintf(cp->job_name, sizeof cp->job_name, "copy:%s%s%s", red,
			 job->schema ? "#" : "", job->schema ? job->schema : "");
	}
	if (strlen(cp->job_name) > 200)
		return sl_error_set(err, SL_ERR_USAGE,
				    "the job's name would be over 200 bytes: name it with --job");
	char **names = calloc((size_t)cp->ntables, sizeof *names);
	if (!names)
		return sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
	for (int i = 0; i < cp->ntables; i++)
		names[i] = cp->tables[i].name;
	bool ok = checkpoint_open(&cp->ckpt, cp->to, cp->ddl, job->checkpoint_table, cp->job_name,
				  names, cp->ntables, err);
	free(names);
	for (int i = 0; ok && i < cp->ntables; i++) {
		struct copy_table *t = &cp->tables[i];
		bool whole;
		ok = checkpoint_check_source(cp->ckpt, i, "", &whole, err);
		t->whole = whole;
		t->created = t->resumed = checkpoint_source_created(cp->ckpt, i);
	}
	return ok;
}

enum run_status copy_run(const struct job *job)
{
	struct copy cp = {.job = job, .status = RUN_OK};
	struct sl_error err;
	sl_error_clear(&err);
	pthread_mutex_init(&cp.lock, NULL);
	signals_install();
	char red_from[512], red_to[512];
	url_redact(job->from, red_from, sizeof red_from);
	url_redact(job->target, red_to, sizeof red_to);
	cp.from = driver_for_url(job->from);
	cp.to = driver_for_url(job->target);
	cp.schema = (struct copy_ddl){.from = cp.from, .to = cp.to, .dry_run = job->dry_run};
	if (!cp.from || !cp.to) {
		log_error("%s: not a postgresql:// or mysql:// URL", cp.from ? red_to : red_from);
		pthread_mutex_destroy(&cp.lock);
		return RUN_USAGE;
	}
	cp.nworkers = job->workers > 1 && !job->single_transaction ? job->workers : 1;
	if (cp.nworkers > 64)
		cp.nworkers = 64;
	struct conn_options copts = {.timeout = job->timeout};
	if (!cp.from->connect(job->from, &copts, &cp.src, &err) ||
	    !cp.to->connect(job->target, &copts, &cp.ddl, &err) ||
	    !cp.from->snapshot(cp.src, &err) || !choose_tables(&cp, &err))
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
	if (job->resume && !job->dry_run && !open_checkpoints(&cp, &err))
		goto failed;
	for (int i = 0; i < cp.ntables && !job->query; i++)
		if (!prepare_target(&cp, &cp.tables[i], &err))
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
	    !plan_units(&cp, &err) || !copy_units(&cp, &err))
		goto failed;
	if (signals_caught()) {
		cp.status = RUN_INTERRUPTED;
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
	log_error("%s", err.msg);
	report_add_error(&cp.report, err.msg);
	cp.status = err.kind == SL_ERR_USAGE ? RUN_USAGE : RUN_FAILED;
finish:
	cp.report.status = cp.status;
	cp.report.tables = cp.stats;
	cp.report.ntables = cp.stats ? cp.ntables : 0;
	if (cp.status != RUN_USAGE && (!job->quiet || cp.status == RUN_FAILED))
		report_print(stderr, &cp.report);
	if (job->summary_json) {
		struct sl_error jerr;
		if (!report_write_json(job->summary_json, &cp.report, &jerr)) {
			log_error("%s", jerr.msg);
			cp.status = RUN_FAILED;
		}
	}
done:;
	enum run_status status = cp.status;
	if (cp.rejects)
		rejects_close(cp.rejects);
	checkpoint_close(cp.ckpt);
	copy_ddl_free(&cp.schema);
	for (int i = 0; i < cp.ntables; i++)
		copy_table_free(&cp.tables[i]);
	free(cp.tables);
	for (int i = 0; i < cp.nunits; i++)
		free(cp.units[i].query);
	free(cp.units);
	free(cp.stats);
	free(cp.units_left);
	free(cp.started);
	for (int i = 0; i < cp.report.nerrors; i++)
		free(cp.report.errors[i]);
	if (cp.src)
		cp.from->close(cp.src);
	if (cp.ddl)
		cp.to->close(cp.ddl);
	pthread_mutex_destroy(&cp.lock);
	return status;
}
