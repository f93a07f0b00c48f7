/* src/pipeline/copy_plan.c
 * What sluice copy copies: the tables, each source table described and its
 * columns mapped to the target, and the units (a table, or a key range of a
 * big one) the workers take.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sluice/checkpoint.h"
#include "sluice/copy_internal.h"
#include "sluice/copy_schema.h"
#include "sluice/driver.h"
#include "sluice/log.h"
#include "sluice/typemap.h"

/* Whether name is in a comma-split list. */
static bool listed(char *const *list, int n, const char *name)
{
	for (int i = 0; i < n; i++)
		if (!strcmp(list[i], name))
			return true;
	return false;
}

static void free_names(char **names, int n)
{
	for (int i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

void copy_table_free(struct copy_table *t)
{
	free(t->deps);
	table_desc_free(&t->held);
	free(t->after_cursor);
	free(t->after_key);
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

/* The rank of MySQL integer type text t ("smallint", "int unsigned"):
 * 1 tinyint to 5 bigint, 0 for any other type; *unsig its sign. */
static int int_rank(const char *t, bool *unsig)
{
	static const char *const names[] = {"tinyint", "smallint", "mediumint", "int", "bigint"};
	size_t n = strcspn(t, " (");
	*unsig = strstr(t, "unsigned") != NULL;
	for (int i = 0; i < 5; i++)
		if (strlen(names[i]) == n && !strncasecmp(t, names[i], n))
			return i + 1;
	return 0;
}

void copy_match_fkey_types(struct copy *cp)
{
	if (!cp->to->dialect->fk_needs_same_type)
		return;
	for (int i = 0; i < cp->ntables; i++) {
		struct copy_table *t = &cp->tables[i];
		for (int f = 0; t->mapped && f < t->src.nfkeys; f++) {
			const struct fkey_desc *fk = &t->src.fkeys[f];
			const struct copy_table *p = NULL;
			for (int j = 0; !fk->ref_schema && j < cp->ntables && !p; j++)
				if (!strcmp(cp->tables[j].name, fk->ref_table) &&
				    cp->tables[j].mapped)
					p = &cp->tables[j];
			for (int k = 0; p && k < fk->ncols; k++) {
				int c = -1, r = -1;
				for (int x = 0; x < t->src.ncols; x++)
					if (!strcmp(t->src.cols[x].name, fk->cols[k]))
						c = x;
				for (int x = 0; x < p->src.ncols; x++)
					if (!strcmp(p->src.cols[x].name, fk->ref_cols[k]))
						r = x;
				if (c < 0 || r < 0)
					continue;
				bool cu, ru;
				int cr = int_rank(t->mapped[c].type, &cu),
				    rr = int_rank(p->mapped[r].type, &ru);
				/* an integer of the same sign: the referenced type holds
				 * every value the key lets it have (a value past it
				 * could reference nothing, and is refused) */
				if (!cr || !rr || cr == rr || cu != ru)
					continue;
				log_warn("%s.%s: %s made %s, the type of %s.%s it references (%s's "
					 "foreign keys need the same type)",
					 t->name, t->src.cols[c].name, t->mapped[c].type,
					 p->mapped[r].type, p->name, p->src.cols[r].name,
					 cp->to->name);
				snprintf(t->mapped[c].type, sizeof t->mapped[c].type, "%s",
					 p->mapped[r].type);
			}
		}
	}
}

/* Describe source table t and map its columns to the target. */
bool copy_plan_table(struct copy *cp, struct copy_table *t, struct sl_error *err)
{
	const struct job *job = cp->job;
	t->src_spec.schema = t->schema			      ? t->schema
			     : cp->from->dialect->has_schemas ? job->schema
							      : NULL;
	t->src_spec.table = t->name;
	if (!cp->from->catalog.describe_full(cp->src, &t->src_spec, &t->src, err))
		return false;
	/* an inheritance parent's rows are its own: its children are tables
	 * of the copy too */
	t->src_spec.own_rows = t->src.has_children;
	if (!t->src.exists && !cp->job->ntables) {
		/* listed by the schema, yet no columns: nothing a target can hold */
		copy_left_out(cp, "table %s has no columns: not copied", t->name);
		t->skip = true;
		return true;
	}
	if (!t->src.exists)
		return sl_error_set(err, SL_ERR_USAGE, "table %s does not exist on the source",
				    t->name);
	if (!cp->job->ntables && checkpoint_table_shaped(&t->src)) {
		/* the source's resume state, never the target's data (nor is
		 * the target's emptied by --truncate) */
		log_info("%s is a checkpoint table of sluice's: not %s", t->name,
			 cp->exporting ? "exported" : "copied");
		t->skip = true;
		return true;
	}
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
		    !cp->from->catalog.max_length(cp->src, &t->src_spec, col, &len, err))
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
			copy_left_out(cp, "%s.%s: not carried over: %s", t->name, col->name,
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

/* Refuse a copy whose source and target are the same tables: --truncate
 * would empty the source, and every row would be doubled. With --schema
 * on PostgreSQL the source is that schema. */
bool copy_not_itself(struct copy *cp, struct sl_error *err)
{
	char a[1024] = "", b[1024] = "";
	if (cp->from != cp->to || !cp->from->conn.identity)
		return true;
	if (!cp->from->conn.identity(cp->src, a, sizeof a, err) ||
	    !cp->to->conn.identity(cp->ddl, b, sizeof b, err))
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
	return sl_error_set(
		err, SL_ERR_USAGE,
		"the source and the target are the same database: a copy onto itself is refused");
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
		if (copied && !cp->exporting)
			copy_left_out(cp, "%s is not copied", o);
	}
}

/* Decide the tables: --tables, else every base table of the source (minus
 * --exclude-tables); views and triggers are warned about. */
bool copy_choose_tables(struct copy *cp, struct sl_error *err)
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
	if (!cp->from->catalog.describe_schema(cp->src, src_schema, &sd, err))
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
			log_info("%s (sluice's checkpoint table) is not %s", names[i],
				 cp->exporting ? "exported" : "copied");
			continue;
		}
		/* --tables may name a table with its schema ("sales.orders"), as
		 * verify takes it: copy_plan_table finds whether it is there */
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
		if (cp->exporting)
			copy_left_out(cp, "view %s is not exported (export it with --query)",
				      sd.views[i]);
		else
			copy_left_out(cp, "view %s is not copied (copy its definition by hand)",
				      sd.views[i]);
	warn_objects(cp, &sd);
	for (int i = 0; i < sd.ntriggers; i++) {
		char table[256];
		snprintf(table, sizeof table, "%.*s", (int)strcspn(sd.triggers[i], "."),
			 sd.triggers[i]);
		bool copied = false;
		for (int t = 0; t < cp->ntables; t++)
			copied |= !strcmp(cp->tables[t].name, table);
		if (copied && !cp->exporting)
			copy_left_out(cp, "trigger %s is not copied", sd.triggers[i]);
	}
	schema_desc_free(&sd);
	if (cp->ntables == 0)
		return sl_error_set(err, SL_ERR_USAGE, "no tables to %s",
				    cp->exporting ? "export" : "copy");
	return true;
}

/* Plan for --query: the target table's columns name the query's. */
bool copy_plan_query(struct copy *cp, struct copy_table *t, struct sl_error *err)
{
	struct table_desc td = {0};
	t->dst_spec.table = t->name;
	if (!cp->to->catalog.describe_table(cp->ddl, &t->dst_spec, &td, err))
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
	if (!cp->from->catalog.query_columns(cp->src, cp->job->query, &names, &n, err)) {
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
				ok = sl_error_set(
					err, SL_ERR_USAGE,
					"--query returns two columns named %s: name each with AS",
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

/* The column of a single-column integer primary key, or -1: a table is
 * split into ranges of it (an unsigned key too: the bounds are checked to
 * fit when the ranges are made). The key's type as the source dialect d
 * classifies it. A key that may hold NULL (SQLite lets a PRIMARY KEY other
 * than INTEGER PRIMARY KEY hold NULLs) is not one: no range holds a NULL,
 * and its rows would be left out. */
int copy_split_key(const struct dialect *d, const struct copy_table *t)
{
	const struct index_desc *pk = table_desc_primary(&t->src);
	if (!pk || pk->ncols != 1 || pk->expression)
		return -1;
	for (int i = 0; i < t->src.ncols; i++) {
		const struct column_desc *col = &t->src.cols[i];
		if (strcmp(col->name, pk->cols[0]))
			continue;
		if (col->nullable || col->udt)
			return -1;
		struct sql_type ty;
		bool integer = d->type_classify(col->type, col, &ty) && ty.kind == SQL_INT &&
			       !ty.year && !ty.array;
		sql_type_free(&ty);
		return integer ? i : -1;
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
bool copy_rows_known(const struct table_desc *d)
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
	if (!driver_key_bounds(cp->src, &t->src_spec, t->src_spec.columns[key], rows, &empty, lo,
			       hi, err))
		return false;
	*ranged = !empty;
	return true;
}

/* Cut the copy into units: a table each, and a big table with a single
 * integer key into key ranges of about --split-rows rows; biggest first. */
bool copy_plan_units(struct copy *cp, struct sl_error *err)
{
	if (cp->job->incremental)
		return copy_incremental_units(cp, err);
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
		int key = cp->job->query ? -1 : copy_split_key(cp->from->dialect, t);
		unsigned long long rows = t->src.rows_estimate;
		long long lo = 0, hi = 0;
		bool ranged = false;
		if (key >= 0 && cp->nworkers >= 2 && !copy_rows_known(&t->src)) {
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
