/* src/pipeline/nest.c
 * load --nest: documents into a parent table and child tables, linked.
 *
 * The design, end to end:
 * - The reader (src/input/json_nest.c), given the nest paths ("posts",
 *   "posts.tags"), yields for each document one record (the parent row:
 *   the named arrays left out) with its kids: each element of a named
 *   array, tagged with its path, its position and the element it is in.
 *   It knows nothing of tables; a document whose element it cannot read
 *   is rejected whole by the reader.
 * - Here the kids become rows of child batches hanging off the parent's
 *   batch (batch.kids[t]), each child row's meta.ordinal the index of its
 *   document in the batch. A document is never split across batches.
 * - The link: a child row starts with the parent's key (--key, or _id),
 *   in a column <table>_<key>, then the positions of the elements it is
 *   inside (<field>_pos), then its own position _pos (from 0): that is its
 *   primary key, and (without _pos) its foreign key to its parent table.
 * - The writer (writers.c) writes, in ONE transaction per batch with its
 *   checkpoint row: the parents (insert or upsert), then nest_write: for an
 *   upsert the old children of those parents are deleted (deepest first),
 *   then each child table's rows go in (COPY or multi-row INSERT, parents'
 *   tables before their children's). Of several documents with one key in
 *   a range, the last one's children are written (its parent row wins).
 * - A child the server refuses fails the attempt as data: the writer
 *   bisects by document, as it bisects by row, so the refused document
 *   alone is rejected (its reason names the child table and the element)
 *   and the rest of the batch commits.
 * - --create creates the child tables after the parent, typed from the
 *   first batch (the link columns as the parent's key and bigint), with
 *   their primary keys and foreign keys ON DELETE CASCADE; names too long
 *   for the server are fitted with a stable hash suffix (sql_fit_name).
 *   A server that cannot add a foreign key to a table (SQLite: the
 *   dialect's alter_adds_foreign_key) refuses --create up front.
 * - Each child table's counts (elements read, rows committed, elements of
 *   refused documents) go to the summary as tables of their own.
 * - --flatten is the reader's (json_record.c): an object's members become
 *   keys <field>_<member> of the record or element; here its paths are
 *   checked and the reader given the server's name-fitting rule.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sluice/create.h"
#include "sluice/log.h"
#include "sluice/pipeline.h"

#define DELETE_CHUNK 500 /* keys per DELETE of old children */

/* name fitted to the server's identifiers, into out (128 bytes) */
static void fit(const struct load *ld, const char *name, char *out)
{
	char fitted[200];
	if (sql_fit_name(ld->drv->dialect, name, fitted, sizeof fitted))
		log_info("--nest: the name %s is too long for %s, shortened to %s", name,
			 ld->drv->name, fitted);
	snprintf(out, 128, "%.127s", fitted);
}

static void fit_name(const void *ctx, const char *name, char *out, size_t outsz)
{
	sql_fit_name(ctx, name, out, outsz);
}

/* --flatten: each path's object is in the record or in the elements of a
 * --nest path; the reader composes and fits the column names. */
static bool flatten_prepare(struct load *ld, char *const *nest, int nnest, struct sl_error *err)
{
	const struct job *job = ld->job;
	if (!job->nflatten)
		return true;
	if (job->command != CMD_LOAD)
		return sl_error_set(err, SL_ERR_USAGE, "--flatten is for sluice load");
	for (int i = 0; i < job->nflatten; i++) {
		const char *p = job->flatten[i];
		size_t len = strlen(p);
		if (!len || p[0] == '.' || p[len - 1] == '.' || strstr(p, ".."))
			return sl_error_set(err, SL_ERR_USAGE, "--flatten: \"%s\" is not a path",
					    p);
		const char *dot = strrchr(p, '.');
		bool in_nest = !dot;
		for (int k = 0; k < nnest; k++) {
			const char *n = nest[k];
			size_t nl = strcspn(n, "=");
			if (nl == len && !memcmp(n, p, len))
				return sl_error_set(err, SL_ERR_USAGE,
						    "--flatten %s: it is a --nest path", p);
			in_nest |= dot && (size_t)(dot - p) == nl && !memcmp(n, p, nl);
		}
		if (!in_nest)
			return sl_error_set(err, SL_ERR_USAGE,
					    "--flatten %s: the objects inside %.*s flatten with it "
					    "(--flatten %.*s), or name the --nest array it is in",
					    p, (int)(strchr(p, '.') - p), p,
					    (int)(strchr(p, '.') - p), p);
		for (int k = 0; k < i; k++)
			if (!strcmp(job->flatten[k], p))
				return sl_error_set(err, SL_ERR_USAGE,
						    "--flatten: %s is named twice", p);
	}
	ld->input.flatten = job->flatten;
	ld->input.nflatten = job->nflatten;
	ld->input.fit_name = fit_name;
	ld->input.fit_ctx = ld->drv->dialect;
	return true;
}

static int path_depth(const char *spec)
{
	int d = 1;
	for (; *spec && *spec != '='; spec++)
		d += *spec == '.';
	return d;
}

/* --nest's list with '*' replaced by the arrays of objects a first pass
 * over the files finds down to --nest-depth, a path named besides keeping
 * its =TABLE; ordered by depth, so an array comes before those inside it. */
static bool expand_specs(struct load *ld, struct nest_plan *np, struct sl_error *err)
{
	const struct job *job = ld->job;
	bool star = false;
	for (int i = 0; i < job->nnest; i++)
		star |= !strcmp(job->nest[i], "*");
	char **found = NULL;
	int nfound = 0;
	if (star && !json_find_nest_paths(job->sources, job->nsources, job->nest_depth,
					  !job->input.no_ejson, NEST_MAX, &found, &nfound, err))
		return false;
	np->specs = calloc((size_t)(job->nnest + nfound) + 1, sizeof *np->specs);
	bool ok = np->specs != NULL;
	for (int i = 0; ok && i < job->nnest; i++)
		if (strcmp(job->nest[i], "*"))
			ok = (np->specs[np->nspecs++] = strdup(job->nest[i])) != NULL;
	for (int i = 0; ok && i < nfound; i++) {
		size_t len = strlen(found[i]);
		bool named = false;
		for (int k = 0; k < np->nspecs; k++)
			named |= !strncmp(np->specs[k], found[i], len) &&
				 (!np->specs[k][len] || np->specs[k][len] == '=');
		if (!named) {
			np->specs[np->nspecs++] = found[i];
			found[i] = NULL;
		}
	}
	for (int i = 0; i < nfound; i++)
		free(found[i]);
	free(found);
	if (!ok)
		return sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
	/* insertion sort by depth: stable, and short */
	for (int i = 1; i < np->nspecs; i++)
		for (int k = i; k > 0 && path_depth(np->specs[k - 1]) > path_depth(np->specs[k]);
		     k--) {
			char *t = np->specs[k];
			np->specs[k] = np->specs[k - 1];
			np->specs[k - 1] = t;
		}
	if (star)
		log_info("--nest '*': %d array%s of objects down to depth %d", nfound,
			 nfound == 1 ? "" : "s", job->nest_depth);
	return true;
}

static bool prepare(struct load *ld, struct sl_error *err)
{
	const struct job *job = ld->job;
	if (job->nnest && job->command != CMD_LOAD)
		return sl_error_set(err, SL_ERR_USAGE, "--nest is for sluice load");
	struct nest_plan *np = job->nnest ? calloc(1, sizeof *np) : NULL;
	if (job->nnest && !np)
		return sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
	ld->nest = np;
	if (np && !expand_specs(ld, np, err))
		return false;
	if (!flatten_prepare(ld, np ? np->specs : NULL, np ? np->nspecs : 0, err))
		return false;
	if (np && !np->nspecs) {
		nest_free(ld); /* '*' found nothing: a plain load */
		np = NULL;
	}
	if (job->parent_key == PARENT_KEY_GENERATED && !np)
		return sl_error_set(err, SL_ERR_USAGE,
				    "--parent-key generated is for --nest (no nested arrays%s)",
				    job->nnest ? " were found" : " named");
	if (!np)
		return true;
	np->generated = job->parent_key == PARENT_KEY_GENERATED;
	if (np->generated && job->on_conflict == CONFLICT_UPDATE)
		return sl_error_set(
			err, SL_ERR_USAGE,
			"--parent-key generated with --on-conflict update: a document has "
			"no key of its own to find its old row and children by; load "
			"with --on-conflict error, or use the natural key (--key)");
	if (np->generated && !ld->drv->write.write_generated)
		return sl_error_set(err, SL_ERR_USAGE,
				    "--parent-key generated is not supported on %s: use the "
				    "natural key (--key)",
				    ld->drv->name);
	if (np->nspecs > NEST_MAX)
		return sl_error_set(err, SL_ERR_USAGE, "--nest: at most %d paths", NEST_MAX);
	if (job->on_conflict == CONFLICT_SKIP)
		return sl_error_set(err, SL_ERR_USAGE,
				    "--nest with --on-conflict skip is not supported: use error "
				    "or update (update replaces a document's children)");
	if (job->nkey > 1)
		return sl_error_set(err, SL_ERR_USAGE,
				    "--nest links children by one key column; --key names %d",
				    job->nkey);
	if (job->defaults)
		return sl_error_set(err, SL_ERR_USAGE, "--nest with --defaults is not supported");
	if (job->create && !ld->drv->dialect->alter_adds_foreign_key)
		return sl_error_set(err, SL_ERR_USAGE,
				    "--nest --create: %s cannot add the child tables' foreign keys "
				    "(ALTER TABLE ... ADD FOREIGN KEY); create them yourself, each "
				    "with its primary key (the link columns and _pos) and its "
				    "FOREIGN KEY in CREATE TABLE, and load without --create",
				    ld->drv->name);
	np->root_key_name = job->nkey ? job->key[0] : np->generated ? "id" : "_id";
	char name[300];
	snprintf(name, sizeof name, "%s_%s", ld->table, np->root_key_name);
	fit(ld, name, np->root_link);
	for (int i = 0; i < np->nspecs; i++) {
		const char *eq = strchr(np->specs[i], '=');
		size_t plen = eq ? (size_t)(eq - np->specs[i]) : strlen(np->specs[i]);
		np->paths[i] = strndup(np->specs[i], plen);
		if (!np->paths[i])
			return sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
		np->n = i + 1;
		if (!plen || np->paths[i][0] == '.' || np->paths[i][plen - 1] == '.' ||
		    strstr(np->paths[i], ".."))
			return sl_error_set(err, SL_ERR_USAGE, "--nest: \"%s\" is not a path",
					    np->specs[i]);
		for (int k = 0; k < i; k++)
			if (!strcmp(np->paths[k], np->paths[i]))
				return sl_error_set(err, SL_ERR_USAGE, "--nest: %s is named twice",
						    np->paths[i]);
		struct nest_table *t = &np->t[i];
		t->parent = nest_path_parent(np->paths, i + 1, i);
		if (t->parent == -2)
			return sl_error_set(err, SL_ERR_USAGE,
					    "--nest %s: name the array it is inside first (--nest "
					    "%.*s,%s)",
					    np->paths[i],
					    (int)(strrchr(np->paths[i], '.') - np->paths[i]),
					    np->paths[i], np->paths[i]);
		t->depth = t->parent < 0 ? 1 : np->t[t->parent].depth + 1;
		if (eq && eq[1]) {
			snprintf(name, sizeof name, "%s", eq + 1);
		} else {
			const char *up = t->parent < 0 ? ld->table : np->t[t->parent].name;
			snprintf(name, sizeof name, "%s_%s", up, nest_path_field(np->paths[i]));
		}
		fit(ld, name, t->name);
		snprintf(name, sizeof name, "%s_parent_fk", t->name);
		fit(ld, name, t->fk_name);
	}
	ld->input.nest = np->paths;
	ld->input.nnest = np->n;
	return true;
}

bool nest_prepare(struct load *ld, struct sl_error *err)
{
	if (prepare(ld, err))
		return true;
	nest_free(ld); /* a refused plan leaves nothing behind */
	return false;
}

/* The link columns of table t, in order, into t->columns. */
static bool link_columns(struct nest_plan *np, int ti)
{
	struct nest_table *t = &np->t[ti];
	t->nlink = t->depth + 1;
	t->columns = calloc((size_t)t->nlink, sizeof *t->columns);
	if (!t->columns)
		return false;
	t->ncols = 0;
	t->columns[t->ncols++] = strdup(np->root_link);
	/* the positions of the elements it is inside, outermost first */
	int chain[NEST_MAX], nchain = 0;
	for (int a = t->parent; a >= 0; a = np->t[a].parent)
		chain[nchain++] = a;
	for (int k = nchain - 1; k >= 0; k--) {
		char name[300];
		snprintf(name, sizeof name, "%s_pos", nest_path_field(np->paths[chain[k]]));
		t->columns[t->ncols++] = strdup(name);
	}
	t->columns[t->ncols++] = strdup("_pos");
	for (int i = 0; i < t->ncols; i++)
		if (!t->columns[i])
			return false;
	return true;
}

/* Append name to t's columns; refused when it is a link column's name. */
static bool add_column(struct nest_table *t, const char *name, struct sl_error *err)
{
	for (int i = 0; i < t->nlink; i++)
		if (!strcmp(t->columns[i], name))
			return sl_error_set(
				err, SL_ERR_USAGE,
				"--nest: %s: the elements have a field \"%s\", the name "
				"of a link column",
				t->name, name);
	char **c = realloc(t->columns, (size_t)(t->ncols + 1) * sizeof *c);
	if (!c || !(c[t->ncols] = strdup(name)))
		return sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
	t->columns = c;
	t->ncols++;
	return true;
}

/* Table t's element columns: those of the table when it exists (its link
 * columns must be there), else the sampled fields (--create). */
static bool table_columns(struct load *ld, struct conn *c, struct reader *r, int ti,
			  struct sl_error *err)
{
	struct nest_plan *np = ld->nest;
	struct nest_table *t = &np->t[ti];
	if (!link_columns(np, ti))
		return sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
	t->spec = ld->spec;
	t->spec.table = t->name;
	t->spec.on_conflict = CONFLICT_ERROR;
	t->spec.update = false;
	t->spec.key = t->columns;
	t->spec.nkey = t->nlink;
	struct table_desc td = {0};
	if (!ld->drv->catalog.describe_table(c, &t->spec, &td, err))
		return false;
	t->exists = td.exists;
	bool ok = true;
	if (td.exists) {
		for (int l = 0; ok && l < t->nlink; l++) {
			bool found = false;
			for (int i = 0; i < td.ncols; i++)
				found |= !strcmp(td.cols[i].name, t->columns[l]);
			if (!found)
				ok = sl_error_set(err, SL_ERR_USAGE,
						  "--nest: table %s has no link column %s", t->name,
						  t->columns[l]);
		}
		for (int i = 0; ok && i < td.ncols; i++) {
			bool link = false;
			for (int l = 0; l < t->nlink; l++)
				link |= !strcmp(td.cols[i].name, t->columns[l]);
			if (!link)
				ok = add_column(t, td.cols[i].name, err);
		}
	} else if (!ld->job->create) {
		ok = sl_error_set(err, SL_ERR_USAGE,
				  "table %s (for --nest %s) does not exist (--create would create "
				  "it from the input)",
				  t->name, np->paths[ti]);
	} else {
		for (int i = 0; ok && r->kid_header && i < r->nkid_header[ti]; i++)
			ok = add_column(t, r->kid_header[ti][i], err);
	}
	table_desc_free(&td);
	if (!ok)
		return false;
	t->spec.columns = t->columns; /* add_column moved them */
	t->spec.ncols = t->ncols;
	t->spec.key = t->columns;
	return r->ops->set_kid_columns(r, ti, t->columns + t->nlink, t->ncols - t->nlink, err);
}

bool nest_tell_reader(struct load *ld, struct reader *r, struct sl_error *err)
{
	struct nest_plan *np = ld->nest;
	if (!np)
		return true;
	if (!r->ops->set_kid_columns)
		return sl_error_set(err, SL_ERR_USAGE, "--nest needs JSON input (NDJSON or JSON)");
	for (int t = 0; t < np->n; t++)
		if (!r->ops->set_kid_columns(r, t, np->t[t].columns + np->t[t].nlink,
					     np->t[t].ncols - np->t[t].nlink, err))
			return false;
	return true;
}

bool nest_plan_tables(struct load *ld, struct reader *r, struct sl_error *err)
{
	struct nest_plan *np = ld->nest;
	if (!np)
		return true;
	if (!r->ops->set_kid_columns)
		return sl_error_set(err, SL_ERR_USAGE, "--nest needs JSON input (NDJSON or JSON)");
	np->root_key = -1;
	for (int i = 0; i < ld->ncols; i++)
		if (!strcmp(ld->columns[i], np->root_key_name))
			np->root_key = i;
	if (np->root_key < 0 && np->generated)
		return sl_error_set(err, SL_ERR_USAGE,
				    "--parent-key generated: %s has no column %s; create %s first "
				    "with its identity (PostgreSQL: bigserial or GENERATED BY "
				    "DEFAULT AS IDENTITY; MariaDB: AUTO_INCREMENT) as %s, or name "
				    "that column with --key",
				    ld->table, np->root_key_name, ld->table, np->root_key_name);
	if (np->root_key < 0)
		return sl_error_set(err, SL_ERR_USAGE,
				    "--nest links children by the parent's key: %s is not a column "
				    "of %s (name one with --key)",
				    np->root_key_name, ld->table);
	if (!ld->spec.nkey) {
		/* the parent's key is its primary key when --create makes it */
		ld->spec.key = (char *const *)&np->root_key_name;
		ld->spec.nkey = 1;
	}
	if (ld->job->create && !r->kid_header && r->ops->sample_columns &&
	    !r->ops->sample_columns(r, ld->job->batch_rows, err))
		return false;
	struct conn *c = NULL;
	if (!run_get_conn(&ld->run, &c, err))
		return false;
	bool ok = true;
	for (int t = 0; ok && t < np->n; t++)
		ok = table_columns(ld, c, r, t, err);
	run_put_conn(&ld->run, c, !ok && err->kind == SL_ERR_CONNECTION);
	return ok;
}

bool nest_init_batch(struct load *ld, struct batch *b)
{
	struct nest_plan *np = ld->nest;
	if (!np)
		return true;
	b->kids = calloc((size_t)np->n, sizeof *b->kids);
	if (!b->kids)
		return false;
	for (int t = 0; t < np->n; t++) {
		if (!batch_init(&b->kids[t], np->t[t].ncols, 64))
			return false;
		b->nkids = t + 1;
	}
	return true;
}

bool nest_add_kids(struct load *ld, struct batch *b, size_t row, const struct record *rec)
{
	struct nest_plan *np = ld->nest;
	if (!np)
		return true;
	const struct cell *key = &batch_row(b, row)[np->root_key];
	struct cell cells[SQL_MAX_COLUMNS];
	char pos[NEST_MAX + 1][24];
	for (size_t k = 0; k < rec->nkids; k++) {
		const struct record_kid *kid = &rec->kids[k];
		struct nest_table *t = &np->t[kid->table];
		if (t->ncols > SQL_MAX_COLUMNS)
			return false;
		cells[0] = *key;
		/* positions, innermost last: walk up the elements it is in */
		int d = t->depth;
		for (long e = (long)k; e >= 0 && d > 0; e = rec->kids[e].parent, d--) {
			int w = snprintf(pos[d], sizeof pos[d], "%ld", rec->kids[e].pos);
			cells[d] = (struct cell){pos[d], (size_t)w};
		}
		for (int i = t->nlink; i < t->ncols; i++)
			cells[i] = kid->fields[i - t->nlink];
		if (!batch_add_cells(&b->kids[kid->table], cells, rec->line, b->meta[row].source,
				     (long long)row))
			return false;
		atomic_fetch_add(&t->read, 1);
	}
	return true;
}

bool nest_batch_full(const struct load *ld, const struct batch *b)
{
	if (!ld->nest)
		return false;
	size_t rows = 0;
	for (int t = 0; t < b->nkids; t++)
		rows += b->kids[t].nrows;
	return rows >= 8 * b->cap_rows;
}

bool nest_create(struct load *ld, struct conn *c, const struct batch *b, bool dry_run,
		 struct sl_error *err)
{
	struct nest_plan *np = ld->nest;
	if (!np)
		return true;
	enum col_type *ptypes = calloc((size_t)ld->ncols, sizeof *ptypes);
	if (!ptypes)
		return sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
	infer_types(b, ptypes);
	enum col_type forced[NEST_MAX + 2];
	forced[0] = np->generated ? TYPE_BIGINT : ptypes[np->root_key];
	free(ptypes);
	for (int i = 1; i < NEST_MAX + 2; i++)
		forced[i] = TYPE_BIGINT;
	bool ok = true;
	for (int ti = 0; ok && ti < np->n; ti++) {
		struct nest_table *t = &np->t[ti];
		if (t->exists)
			continue;
		bool created = false;
		ok = create_table_typed(ld->drv, c, &t->spec, &b->kids[ti], forced, t->nlink,
					dry_run, &created, err);
		if (!ok || !created)
			continue;
		/* its foreign key: the link without _pos references the parent's key */
		const struct write_spec *up = t->parent < 0 ? &ld->spec : &np->t[t->parent].spec;
		char *const *pcols = t->parent < 0 ? (char *const *)&np->root_key_name
						   : np->t[t->parent].columns;
		struct buf sql;
		buf_init(&sql, 0);
		ok = sql_add_foreign_key(ld->drv->dialect, &sql, &t->spec, t->fk_name, t->columns,
					 up, pcols, t->nlink - 1);
		if (!ok)
			sl_error_set(err, SL_ERR_USAGE, "--create: a name cannot be quoted");
		else if (dry_run)
			printf("%s;\n", buf_str(&sql));
		else if (!(ok = ld->drv->conn.exec(c, buf_str(&sql), err)))
			sl_error_prefix(err, "creating the foreign key of %s", t->name);
		buf_free(&sql);
		if (ok && !dry_run)
			log_info("created table %s", t->name);
	}
	return ok;
}

/* rows [first, first+n) of b whose key a later row of the range has too:
 * their children are not written (the later document replaces them) */
static bool superseded(const struct load *ld, const struct batch *b, size_t first, size_t n,
		       bool *out)
{
	memset(out, 0, n);
	if (ld->spec.on_conflict != CONFLICT_UPDATE)
		return true;
	int kc = ld->nest->root_key;
	size_t nh = 16;
	while (nh < 2 * n)
		nh *= 2;
	size_t *h = malloc(nh * sizeof *h);
	if (!h)
		return false;
	for (size_t i = 0; i < nh; i++)
		h[i] = SIZE_MAX;
	for (size_t i = n; i-- > 0;) {
		const struct cell *k = &batch_row(b, first + i)[kc];
		uint64_t x = 1469598103934665603ULL;
		for (size_t j = 0; k->ptr && j < k->len; j++)
			x = (x ^ (unsigned char)k->ptr[j]) * 1099511628211ULL;
		for (size_t s = (size_t)x & (nh - 1);; s = (s + 1) & (nh - 1)) {
			if (h[s] == SIZE_MAX) {
				h[s] = i;
				break;
			}
			const struct cell *o = &batch_row(b, first + h[s])[kc];
			if (o->len == k->len && o->ptr && k->ptr &&
			    !memcmp(o->ptr, k->ptr, k->len)) {
				out[i] = true;
				break;
			}
		}
	}
	free(h);
	return true;
}

/* Delete the children of the parents of rows [first, first+n) of b from
 * every child table, deepest first. */
static bool delete_children(struct load *ld, struct conn *c, const struct batch *b, size_t first,
			    size_t n, struct sl_error *err)
{
	struct nest_plan *np = ld->nest;
	const char *values[DELETE_CHUNK];
	for (int ti = np->n; ti-- > 0;) {
		struct nest_table *t = &np->t[ti];
		for (size_t at = 0; at < n; at += DELETE_CHUNK) {
			int k = (int)(n - at < DELETE_CHUNK ? n - at : DELETE_CHUNK);
			for (int i = 0; i < k; i++)
				values[i] = batch_row(b, first + at + (size_t)i)[np->root_key].ptr;
			struct buf sql;
			buf_init(&sql, 0);
			bool ok = sql_delete_keys(ld->drv->dialect, &sql, &t->spec, np->root_link,
						  k, NULL, NULL);
			ok = ok ? ld->drv->conn.exec_params(c, buf_str(&sql), k, values, err)
				: sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
			buf_free(&sql);
			if (!ok) {
				sl_error_prefix(err, "deleting the old children in %s", t->name);
				return false;
			}
		}
	}
	return true;
}

/* Where child row r of table ti is in its document: "posts[1].tags[0]". */
static void element_place(const struct load *ld, int ti, const struct cell *row, char *out,
			  size_t n)
{
	const struct nest_plan *np = ld->nest;
	const struct nest_table *t = &np->t[ti];
	int chain[NEST_MAX], nchain = 0;
	for (int a = ti; a >= 0; a = np->t[a].parent)
		chain[nchain++] = a;
	size_t o = 0;
	out[0] = '\0';
	for (int k = nchain - 1, d = 1; k >= 0 && o < n; k--, d++) {
		const struct cell *p = &row[d];
		o += (size_t)snprintf(out + o, n - o, "%s%s[%.*s]", o ? "." : "",
				      nest_path_field(np->paths[chain[k]]), (int)p->len,
				      p->ptr ? p->ptr : "");
	}
	(void)t;
}

/* Write the child rows of table ti of the documents [first, first+n) of b
 * not superseded. One document: row by row, so a refused one is named. */
static bool write_table(struct load *ld, struct conn *c, const struct batch *b, int ti,
			size_t first, size_t n, const bool *skip, char (*ids)[SQL_ID_BYTES],
			unsigned long long *written, struct sl_error *err)
{
	const struct batch *kb = &b->kids[ti];
	struct nest_table *t = &ld->nest->t[ti];
	size_t lo = 0;
	while (lo < kb->nrows && (size_t)kb->meta[lo].ordinal < first)
		lo++;
	size_t hi = lo;
	while (hi < kb->nrows && (size_t)kb->meta[hi].ordinal < first + n)
		hi++;
	if (hi == lo)
		return true;
	struct batch view = {.ncols = kb->ncols, .seq = b->seq};
	view.cells = malloc((hi - lo) * (size_t)kb->ncols * sizeof *view.cells);
	view.meta = malloc((hi - lo) * sizeof *view.meta);
	if (!view.cells || !view.meta) {
		free(view.cells);
		free(view.meta);
		return sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
	}
	for (size_t r = lo; r < hi; r++) {
		if (skip[kb->meta[r].ordinal - (long long)first])
			continue;
		memcpy(view.cells + view.nrows * (size_t)kb->ncols, batch_row(kb, r),
		       (size_t)kb->ncols * sizeof *view.cells);
		if (ids) { /* the parent's generated key */
			const char *id = ids[kb->meta[r].ordinal - (long long)first];
			view.cells[view.nrows * (size_t)kb->ncols] = (struct cell){id, strlen(id)};
		}
		view.meta[view.nrows++] = kb->meta[r];
	}
	view.cap_rows = view.nrows;
	bool ok = true;
	size_t step = n == 1 ? 1 : view.nrows;
	for (size_t at = 0; ok && at < view.nrows; at += step) {
		struct write_count wc = {0};
		size_t k = view.nrows - at < step ? view.nrows - at : step;
		ok = ld->drv->write.write_batch(c, &t->spec, &view, at, k, &wc, err);
		if (ok) {
			*written += wc.written;
			continue;
		}
		if (err->kind != SL_ERR_DATA)
			break;
		size_t bad = k == 1				     ? at
			     : err->row > 0 && (size_t)err->row <= k ? at + (size_t)err->row - 1
								     : SIZE_MAX;
		char place[300] = "";
		if (bad != SIZE_MAX)
			element_place(ld, ti, batch_row(&view, bad), place, sizeof place);
		err->row = 0; /* a row of the child table, not of the batch */
		sl_error_prefix(err, "child table %s%s%s", t->name, place[0] ? ", element " : "",
				place);
	}
	free(view.cells);
	free(view.meta);
	return ok;
}

bool nest_write_parents(struct load *ld, struct conn *c, const struct batch *b, size_t first,
			size_t n, char (*ids)[SQL_ID_BYTES], struct write_count *out,
			struct sl_error *err)
{
	return ld->drv->write.write_generated(c, &ld->spec, b, first, n, ld->nest->root_key, ids,
					      out, err);
}

bool nest_write(struct load *ld, struct conn *c, const struct batch *b, size_t first, size_t n,
		char (*ids)[SQL_ID_BYTES], unsigned long long *written, struct sl_error *err)
{
	struct nest_plan *np = ld->nest;
	if (!np)
		return true;
	for (int t = 0; t < np->n; t++)
		written[t] = 0;
	bool *skip = malloc(n ? n : 1);
	if (!skip || !superseded(ld, b, first, n, skip)) {
		free(skip);
		return sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
	}
	bool ok =
		ld->spec.on_conflict != CONFLICT_UPDATE || delete_children(ld, c, b, first, n, err);
	for (int t = 0; ok && t < np->n; t++)
		ok = write_table(ld, c, b, t, first, n, skip, ids, &written[t], err);
	free(skip);
	return ok;
}

void nest_count(struct load *ld, const unsigned long long *written)
{
	for (int t = 0; ld->nest && t < ld->nest->n; t++)
		atomic_fetch_add(&ld->nest->t[t].rows, written[t]);
}

void nest_count_rejected(struct load *ld, const struct batch *b, size_t row)
{
	for (int t = 0; ld->nest && t < b->nkids; t++) {
		unsigned long long n = 0;
		for (size_t r = 0; r < b->kids[t].nrows; r++)
			n += b->kids[t].meta[r].ordinal == (long long)row;
		atomic_fetch_add(&ld->nest->t[t].rejected, n);
	}
}

int nest_stats(const struct load *ld, const struct table_stats *parent, struct table_stats *out,
	       int cap)
{
	int n = 0;
	for (int t = 0; ld->nest && t < ld->nest->n && n < cap; t++, n++) {
		const struct nest_table *nt = &ld->nest->t[t];
		struct table_stats *s = &out[n];
		memset(s, 0, sizeof *s);
		snprintf(s->table, sizeof s->table, "%s", nt->name);
		snprintf(s->parent, sizeof s->parent, "%s",
			 nt->parent < 0 ? parent->table : ld->nest->t[nt->parent].name);
		s->rows_read = atomic_load(&nt->read);
		s->rows_written = s->rows_inserted = atomic_load(&nt->rows);
		s->rows_rejected = atomic_load(&nt->rejected);
		s->seconds = parent->seconds;
	}
	return n;
}

void nest_print_tree(const struct load *ld)
{
	const struct nest_plan *np = ld->nest;
	if (!np)
		return;
	printf("-- nested tables, written with their parents in one transaction per batch:\n");
	printf("-- %s: key %s\n", ld->table, np->root_key_name);
	for (int ti = 0; ti < np->n; ti++) {
		const struct nest_table *t = &np->t[ti];
		printf("-- %*s%s (from %s): columns", 2 * t->depth, "", t->name, np->paths[ti]);
		for (int i = 0; i < t->ncols; i++)
			printf("%s %s", i ? "," : "", t->columns[i]);
		printf("; primary key (");
		for (int i = 0; i < t->nlink; i++)
			printf("%s%s", i ? ", " : "", t->columns[i]);
		printf("); foreign key (");
		for (int i = 0; i < t->nlink - 1; i++)
			printf("%s%s", i ? ", " : "", t->columns[i]);
		printf(") references %s\n", t->parent < 0 ? ld->table : np->t[t->parent].name);
	}
	fflush(stdout);
}

void nest_free(struct load *ld)
{
	struct nest_plan *np = ld->nest;
	if (!np)
		return;
	for (int t = 0; t < np->n; t++) {
		for (int i = 0; i < np->t[t].ncols; i++)
			free(np->t[t].columns[i]);
		free(np->t[t].columns);
		free(np->paths[t]);
	}
	for (int i = 0; i < np->nspecs; i++)
		free(np->specs[i]);
	free(np->specs);
	free(np);
	ld->nest = NULL;
}
