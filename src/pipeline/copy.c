/* src/pipeline/copy.c
 * sluice copy: stream tables from one server to another. The source is read
 * inside one consistent snapshot; each table goes through the load pipeline
 * (load_table) with a table reader as its source, so rejects, retries,
 * lost-COMMIT handling and the summary are those of load. With --create the
 * target tables are created from the source catalog (typemap.c): columns and
 * the primary key before the data, other indexes after it, foreign keys once
 * every table is in, identity sequences moved past the copied maximum.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

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
	char *name;                   /* source table name */
	struct table_desc src;        /* source catalog */
	struct write_spec src_spec;   /* source table and columns */
	struct write_spec dst_spec;   /* target table and columns */
	struct mapped_column *mapped; /* per column */
	unsigned *xf;
	int *bits;
	bool created;                 /* created by this copy (indexes, keys follow) */
};

struct copy {
	const struct job *job;
	const struct driver *from, *to;
	struct conn *src;             /* the snapshot connection */
	struct conn *ddl;             /* a target connection for DDL */
	struct copy_table *tables;
	int ntables;
	struct copy_table *current;   /* the table load_table is reading */
};

/* Whether name is in a comma-split list. */
static bool listed(char *const *list, int n, const char *name)
{
	for (int i = 0; i < n; i++)
		if (!strcmp(list[i], name))
			return true;
	return false;
}

/* The reader load_table asks for: the current table's streaming read on the
 * snapshot connection. */
static bool open_table_reader(void *ctx, int i, struct reader **out, struct sl_error *err)
{
	struct copy *cp = ctx;
	(void)i;
	struct copy_table *t = cp->current;
	return table_reader_open(out, cp->from, cp->src, &t->src_spec, cp->job->query, t->xf, t->bits,
				 err);
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

/* Run sql on the target's DDL connection, printing it instead with --dry-run. */
static bool run_ddl(struct copy *cp, const char *sql, struct sl_error *err)
{
	if (cp->job->dry_run) {
		printf("%s;\n", sql);
		fflush(stdout);
		return true;
	}
	log_debug("%s", sql);
	return cp->to->exec(cp->ddl, sql, err);
}

/* Whether column name is in an index that is carried to the target (MySQL
 * indexes no longtext, so such a column needs a bounded type). */
static bool in_key(const struct table_desc *d, const char *name)
{
	for (int u = 0; u < d->nindexes; u++)
		for (int k = 0; k < d->indexes[u].ncols; k++)
			if (!d->indexes[u].expression && !strcmp(d->indexes[u].cols[k], name))
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
		  buf_puts(&q, ")) FROM ") && sql_table_name(d, &q, &t->src_spec);
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
		return sl_error_set(err, SL_ERR_USAGE, "table %s does not exist on the source", t->name);
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
			log_info("%s.%s: %s -> %s: %s", t->name, col->name, col->type, t->mapped[i].type,
				 t->mapped[i].note);
		if (t->mapped[i].lost)
			log_warn("%s.%s: not carried over: %s", t->name, col->name, t->mapped[i].note);
	}
	t->dst_spec.table = t->name;
	t->dst_spec.schema = NULL;
	return true;
}

/* The primary key of d as an index, or NULL. */
static const struct index_desc *primary_key(const struct table_desc *d)
{
	for (int i = 0; i < d->nindexes; i++)
		if (d->indexes[i].primary)
			return &d->indexes[i];
	return NULL;
}

/* Create target table t when it is missing (and --create asks for it). */
static bool prepare_target(struct copy *cp, struct copy_table *t, struct sl_error *err)
{
	struct table_desc td = { 0 };
	bool ok = cp->to->describe_table(cp->ddl, &t->dst_spec, &td, err);
	bool exists = td.exists;
	table_desc_free(&td);
	if (!ok)
		return false;
	if (exists)
		return true;
	if (!cp->job->create)
		return sl_error_set(err, SL_ERR_USAGE,
				    "table %s does not exist on the target (--create would create it)",
				    t->name);
	struct buf ddl;
	buf_init(&ddl, 0);
	ok = typemap_create_table(cp->to->dialect, &ddl, &t->dst_spec, &t->src, t->mapped,
				  primary_key(&t->src));
	if (!ok)
		sl_error_set(err, SL_ERR_USAGE, "%s: a table or column name cannot be quoted", t->name);
	else
		ok = run_ddl(cp, ddl.data, err);
	buf_free(&ddl);
	t->created = ok;
	if (ok && !cp->job->dry_run)
		log_info("created table %s", t->name);
	return ok;
}

/* After t's data: its secondary and unique indexes, and identity sequences
 * moved past the copied maximum. What cannot be carried is warned about. */
static bool finish_table(struct copy *cp, struct copy_table *t, struct sl_error *err)
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
		if (typemap_create_index(cp->from->dialect, cp->to->dialect, &sql, &t->dst_spec, x, why,
					 sizeof why))
			ok = run_ddl(cp, sql.data, err);
		else
			log_warn("%s: index %s not carried over: %s", t->name, x->name, why);
	}
	/* PostgreSQL identity: the sequence goes on after the copied maximum
	 * (MySQL's AUTO_INCREMENT moves by itself) */
	const struct dialect *d = cp->to->dialect;
	for (int i = 0; ok && i < t->src.ncols && !strcmp(d->name, "postgresql"); i++) {
		if (!t->mapped[i].identity)
			continue;
		struct buf name;
		buf_init(&name, 0);
		buf_reset(&sql);
		ok = sql_table_name(d, &name, &t->dst_spec) && buf_puts(&sql, "SELECT setval(pg_get_serial_sequence(") &&
		     sql_quote_with(&sql, name.data, '\'') && buf_puts(&sql, ", ") &&
		     sql_quote_with(&sql, t->dst_spec.columns[i], '\'') &&
		     buf_puts(&sql, "), COALESCE(MAX(") && d->quote_ident(&sql, t->dst_spec.columns[i]) &&
		     buf_puts(&sql, "), 0) + 1, false) FROM ") && buf_puts(&sql, name.data);
		buf_free(&name);
		if (!ok)
			sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
		else
			ok = run_ddl(cp, sql.data, err);
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
			if (!typemap_add_fkey(cp->to->dialect, &sql, &ct->dst_spec, &ct->src.fkeys[f]))
				ok = sl_error_set(err, SL_ERR_USAGE, "%s: foreign key %s cannot be written",
						  ct->name, ct->src.fkeys[f].name);
			else
				ok = run_ddl(cp, sql.data, err);
		}
	}
	buf_free(&sql);
	return ok;
}

/* Decide the tables: --tables, else every base table of the source (minus
 * --exclude-tables); views and triggers are warned about. */
static bool choose_tables(struct copy *cp, struct sl_error *err)
{
	const struct job *job = cp->job;
	struct schema_desc sd = { 0 };
	if (job->query) {
		if (!job->table)
			return sl_error_set(err, SL_ERR_USAGE, "--query needs --table, the target table");
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
			return sl_error_set(err, SL_ERR_USAGE, "no base table %s on the source", names[i]);
		}
		if (!(cp->tables[cp->ntables].name = strdup(names[i]))) {
			schema_desc_free(&sd);
			return sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
		}
		cp->ntables++;
	}
	for (int i = 0; i < sd.nviews && !job->ntables; i++)
		log_warn("view %s is not copied (copy its definition by hand)", sd.views[i]);
	for (int i = 0; i < sd.ntriggers; i++) {
		char table[256];
		snprintf(table, sizeof table, "%.*s", (int)strcspn(sd.triggers[i], "."), sd.triggers[i]);
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
	struct table_desc td = { 0 };
	t->dst_spec.table = t->name;
	if (!cp->to->describe_table(cp->ddl, &t->dst_spec, &td, err))
		return false;
	if (!td.exists) {
		table_desc_free(&td);
		return sl_error_set(err, SL_ERR_USAGE,
				    "--query copies into an existing table: create %s first", t->name);
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

/* A sub-job that runs one table through load_table. */
static void table_job(const struct copy *cp, const struct copy_table *t, struct job *sub,
		      const char **source_name, struct rejects *rejects)
{
	*sub = *cp->job;
	sub->command = CMD_LOAD;
	sub->sources = (char **)source_name;
	sub->nsources = 1;
	sub->table = t->name;
	sub->columns = (char **)t->dst_spec.columns;
	sub->ncolumns = t->dst_spec.ncols;
	sub->create = false;
	sub->dry_run = false;
	sub->summary_json = NULL;
	sub->open_reader = open_table_reader;
	sub->reader_ctx = (void *)cp;
	sub->rejects = rejects;
	sub->on_conflict = CONFLICT_ERROR;
	sub->key = NULL;
	sub->nkey = 0;
	sub->method = METHOD_DEFAULT;
	/* a copy should be whole: by default the first rejected row stops it */
	sub->max_errors = cp->job->max_errors < 0 ? 0 : cp->job->max_errors;
}

enum run_status copy_run(const struct job *job)
{
	struct copy cp = { .job = job };
	struct sl_error err;
	sl_error_clear(&err);
	struct run_report report = { 0 };
	struct table_stats *stats = NULL;
	struct rejects *rejects = NULL;
	enum run_status status = RUN_OK;
	signals_install();
	char red_from[512], red_to[512];
	url_redact(job->from, red_from, sizeof red_from);
	url_redact(job->target, red_to, sizeof red_to);
	cp.from = driver_for_url(job->from);
	cp.to = driver_for_url(job->target);
	if (!cp.from || !cp.to) {
		log_error("%s: not a postgresql:// or mysql:// URL", cp.from ? red_to : red_from);
		return RUN_USAGE;
	}
	if (!cp.from->connect(job->from, &cp.src, &err) || !cp.to->connect(job->target, &cp.ddl, &err) ||
	    !cp.from->snapshot(cp.src, &err) || !choose_tables(&cp, &err))
		goto failed;
	stats = calloc((size_t)cp.ntables, sizeof *stats);
	if (!stats || !rejects_open(&rejects, job->rejects_path, &err)) {
		if (!stats)
			sl_error_set(&err, SL_ERR_INTERNAL, "out of memory");
		goto failed;
	}
	for (int i = 0; i < cp.ntables; i++) {
		struct copy_table *t = &cp.tables[i];
		bool ok = job->query ? plan_query(&cp, t, &err)
				     : plan_table(&cp, t, &err) && prepare_target(&cp, t, &err);
		if (!ok)
			goto failed;
	}
	if (job->dry_run) {
		for (int i = 0; i < cp.ntables; i++)
			printf("-- copy %s: %d columns, about %llu rows\n", cp.tables[i].name,
			       cp.tables[i].dst_spec.ncols, cp.tables[i].src.rows_estimate);
		for (int i = 0; i < cp.ntables; i++)
			if (!finish_table(&cp, &cp.tables[i], &err))
				goto failed;
		if (!add_foreign_keys(&cp, &err))
			goto failed;
		goto done;
	}
	for (int i = 0; i < cp.ntables && !signals_caught(); i++) {
		struct copy_table *t = &cp.tables[i];
		char display[600];
		snprintf(display, sizeof display, "%s%s%s", job->schema ? job->schema : "",
			 job->schema ? "." : "", t->name);
		const char *source_name = display;
		struct job sub;
		table_job(&cp, t, &sub, &source_name, rejects);
		cp.current = t;
		struct run_report one = { 0 };
		enum run_status st = load_table(&sub, &stats[i], &one);
		report.ntables = i + 1;
		for (int e = 0; e < one.nerrors; e++) {
			report_add_error(&report, one.errors[e]);
			free(one.errors[e]);
		}
		if (one.commit_mode)
			report.commit_mode = one.commit_mode;
		report.has_pool |= one.has_pool;
		if (one.has_pool)
			report.pool = one.pool;
		if (st == RUN_FAILED || st == RUN_USAGE || st == RUN_INTERRUPTED) {
			status = st;
			goto finish;
		}
		if (st == RUN_PARTIAL)
			status = RUN_PARTIAL;
		if (!finish_table(&cp, t, &err))
			goto failed;
	}
	if (signals_caught()) {
		status = RUN_INTERRUPTED;
		goto finish;
	}
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
				sl_error_set(&err, SL_ERR_DATA, "verify: table %s differs", vr.table);
				log_error("%s", err.msg);
				report_add_error(&report, err.msg);
				status = RUN_FAILED;
			}
		}
		fflush(stdout);
	}
	goto finish;

failed:
	log_error("%s", err.msg);
	report_add_error(&report, err.msg);
	status = err.kind == SL_ERR_USAGE ? RUN_USAGE : RUN_FAILED;
finish:
	report.status = status;
	report.tables = stats;
	if (!stats)
		report.ntables = 0;
	if (status != RUN_USAGE && (!job->quiet || status == RUN_FAILED))
		report_print(stderr, &report);
	if (job->summary_json) {
		struct sl_error jerr;
		if (!report_write_json(job->summary_json, &report, &jerr))
			log_error("%s", jerr.msg);
	}
done:
	if (rejects)
		rejects_close(rejects);
	for (int i = 0; i < cp.ntables; i++)
		copy_table_free(&cp.tables[i]);
	free(cp.tables);
	free(stats);
	for (int i = 0; i < report.nerrors; i++)
		free(report.errors[i]);
	if (cp.src)
		cp.from->close(cp.src);
	if (cp.ddl)
		cp.to->close(cp.ddl);
	return status;
}
