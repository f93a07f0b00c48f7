/* src/pipeline/plan.c
 * Before a run writes anything: the target table, method and columns, and
 * the checks that must pass first (outputs that are no inputs, sources that
 * open and are whole, a table that exists, an upsert key that decides).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "sluice/checkpoint.h"
#include "sluice/pool.h"
#include "sluice/create.h"
#include "sluice/keys.h"
#include "sluice/log.h"
#include "sluice/pipeline.h"
#include "sluice/rejects.h"
#include "sluice/signals.h"
#include "sluice/soft.h"
#include "sluice/url.h"

/* The table a file loads into when --table is absent: its name without
 * directories or extensions ("data/users.csv.gz" -> "users"). */
static char *table_from_path(const char *path)
{
	const char *base = strrchr(path, '/');
	base = base ? base + 1 : path;
	size_t n = strcspn(base, ".");
	return n ? strndup(base, n) : NULL;
}

/* Decide the target columns from --columns, the header, or the table (as
 * plan_check_target described it). */
bool plan_columns(struct load *ld, struct reader *r, struct sl_error *err)
{
	const struct job *job = ld->job;
	const struct table_desc *td = &ld->target;
	char *const *names = job->ncolumns ? job->columns : r->header;
	int n = job->ncolumns ? job->ncolumns : r->nheader;
	bool from_table = false;
	if (!n) {
		if (!td->exists && job->create && r->ops->sample_columns) {
			/* --create from JSON: the keys of the first records name the
			 * columns (they are read again by next()) */
			if (!r->ops->sample_columns(r, job->batch_rows, err))
				return false;
			names = r->header;
			n = r->nheader;
			if (!n)
				return sl_error_set(
					err, SL_ERR_USAGE,
					"--create: the input has no keys to name columns after");
		} else if (!td->exists) {
			return sl_error_set(
				err, SL_ERR_USAGE,
				"table %s does not exist (and the input names no columns)",
				ld->table);
		} else {
			n = td->ncols;
			from_table = true;
		}
	}
	ld->columns = calloc((size_t)n, sizeof *ld->columns);
	if (!ld->columns)
		return sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
	for (int i = 0; i < n; i++) {
		ld->columns[i] = strdup(from_table ? td->cols[i].name : names[i]);
		if (!ld->columns[i])
			return sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
		ld->ncols = i + 1;
	}
	ld->spec.columns = ld->columns;
	ld->spec.ncols = ld->ncols;
	return true;
}

/* Whether url names a database ("mysql://h/shop", not "mysql://h/"). */
static bool url_names_database(const char *url)
{
	struct url_parts u;
	struct sl_error err;
	if (!url_parse(url, &u, &err))
		return true; /* the driver says what is wrong with it */
	bool named = u.database && u.database[0];
	url_parts_free(&u);
	return named;
}

/* Work out table, method and spec from the job; false on a usage error. */
bool plan_run(struct load *ld)
{
	const struct job *job = ld->job;
	ld->drv = driver_for_url(job->target);
	if (!ld->drv)
		return driver_unknown_url(job->target, &ld->run.err);
	if (!ld->drv->dialect->columns_case_insensitive) {
		/* PostgreSQL: a URL without a database means the user's own */
	} else if (!url_names_database(job->target) && !(job->table && strchr(job->table, '.'))) {
		/* MySQL: no database, no table to find, and CREATE fails with
		 * "No database selected" */
		char red[512];
		url_redact(job->target, red, sizeof red);
		return sl_error_set(&ld->run.err, SL_ERR_USAGE,
				    "%s names no database: add it to the URL (%s%sshop) or "
				    "name the table as --table DATABASE.TABLE",
				    red, red, red[strlen(red) - 1] == '/' ? "" : "/");
	}
	if (job->table) {
		if (!sql_split_table(job->table, &ld->schema, &ld->table))
			return sl_error_set(&ld->run.err, SL_ERR_USAGE, "bad table name: %s",
					    job->table);
	} else if (job->nsources == 1 && strcmp(job->sources[0], "-")) {
		ld->table = table_from_path(job->sources[0]);
		if (!ld->table)
			return sl_error_set(&ld->run.err, SL_ERR_USAGE,
					    "cannot name a table after %s: use --table",
					    job->sources[0]);
	} else {
		return sl_error_set(&ld->run.err, SL_ERR_USAGE,
				    "name the target table with --table");
	}
	ld->spec.schema = ld->schema;
	ld->spec.table = ld->table;
	ld->spec.method = job->method ? job->method : ld->drv->default_method;
	/* a copy (rows from a table, not a file) takes the bulk path where the
	 * server has one: LOAD DATA on MySQL; plan_check_target steps back to
	 * INSERT where the bulk path is slow (a Spider head, foreign partitions) */
	if (!job->method && ld->req->open_reader && ld->drv->write.supports(METHOD_INFILE))
		ld->spec.method = METHOD_INFILE;
	ld->spec.raw_bytes = ld->req->open_reader != NULL;
	ld->spec.on_conflict = job->on_conflict;
	ld->spec.key = job->key;
	ld->spec.nkey = job->nkey;
	ld->spec.batch_rows = job->batch_rows;
	ld->input = job->input;
	/* --resume: stdin is known by its first bytes */
	ld->input.identify_stream = job->resume;
	ld->spec.add = job->add;
	ld->spec.nadd = job->nadd;
	ld->spec.add_null_as_zero = job->add_null_as_zero;
	ld->group_idx = -1;
	ld->max_group_rows = job->max_group_rows ? job->max_group_rows : 100000;
	if (job->command == CMD_DELETE) {
		ld->spec.del = true;
		if (job->soft &&
		    !soft_parse(job->soft, &ld->soft_col, &ld->soft_expr, &ld->run.err))
			return false;
		ld->spec.soft_col = ld->soft_col;
		ld->spec.soft_expr = ld->soft_expr;
	}
	if (job->command == CMD_UPDATE || job->command == CMD_DELETE) {
		/* a JSON key left out means "leave that column alone" */
		ld->input.missing_as_default = true;
		ld->spec.update = true;
		ld->spec.on_conflict = CONFLICT_ERROR;
		ld->spec.set = job->set;
		ld->spec.nset = job->nset;
		ld->spec.method = ld->drv->default_method;
		if (!ld->drv->write.update_batch)
			return sl_error_set(
				&ld->run.err, SL_ERR_USAGE, "sluice %s is not available for %s",
				job->command == CMD_DELETE ? "delete" : "update", ld->drv->name);
	}
	if (!ld->drv->write.supports(ld->spec.method))
		return sl_error_set(&ld->run.err, SL_ERR_USAGE,
				    "--method %s is not available for %s",
				    method_name(ld->spec.method), ld->drv->name);
	return nest_prepare(ld, &ld->run.err);
}

/* path with its directory resolved (the file itself may not exist yet):
 * "./x" and "x" and "/tmp/../tmp/x" come out alike. False when the
 * directory cannot be resolved. */
static bool canonical_path(const char *path, char *out, size_t n)
{
	const char *slash = strrchr(path, '/');
	char dir[4096];
	snprintf(dir, sizeof dir, "%.*s", slash ? (int)(slash - path) : 1, slash ? path : ".");
	if (slash == path)
		snprintf(dir, sizeof dir, "/");
	char *real = realpath(dir, NULL);
	if (!real)
		return false;
	snprintf(out, n, "%s/%s", strcmp(real, "/") ? real : "", slash ? slash + 1 : path);
	free(real);
	return true;
}

/* Whether two paths name the same file: the same inode (a symlink, a hard
 * link), or, for files not there yet, the same resolved path. */
static bool same_file(const char *a, const char *b)
{
	if (!strcmp(a, b))
		return true;
	struct stat sa, sb;
	bool ea = stat(a, &sa) == 0, eb = stat(b, &sb) == 0;
	if (ea && eb)
		return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
	char ca[4200], cb[4200];
	return canonical_path(a, ca, sizeof ca) && canonical_path(b, cb, sizeof cb) &&
	       !strcmp(ca, cb);
}

/* The files sluice writes (rejects, its log, the summary) must not be an
 * input: opening them truncates it before it is read. */
bool plan_check_outputs(struct load *ld, struct sl_error *err)
{
	const struct job *job = ld->job;
	/* a summary that cannot be written would fail the run only after the
	 * data is committed: find out first */
	if (!report_check_output("--summary-json", job->summary_json, err) ||
	    !report_check_output("--metrics-file", job->metrics_file, err))
		return false;
	char rejects_log[4096] = "";
	if (job->rejects_path)
		snprintf(rejects_log, sizeof rejects_log, "%s.log", job->rejects_path);
	const char *outs[4] = {
		job->rejects_path, job->rejects_path ? rejects_log : NULL,
		job->summary_json && strcmp(job->summary_json, "-") ? job->summary_json : NULL,
		job->metrics_file};
	const char *opt[4] = {"--rejects", "--rejects (its .log)", "--summary-json",
			      "--metrics-file"};
	for (int o = 0; o < 4; o++) {
		if (!outs[o])
			continue;
		for (int i = 0; i < job->nsources; i++)
			if (strcmp(job->sources[i], "-") && same_file(outs[o], job->sources[i]))
				return sl_error_set(
					err, SL_ERR_USAGE,
					"%s %s is also an input file: it would be overwritten "
					"before it is read",
					opt[o], outs[o]);
		for (int p = 0; p < o; p++)
			if (outs[p] && same_file(outs[o], outs[p]))
				return sl_error_set(err, SL_ERR_USAGE,
						    "%s and %s name the same file %s", opt[p],
						    opt[o], outs[o]);
	}
	return true;
}

/* Before anything is written (a --truncate above all): every source opens,
 * is a file and not a directory, has the first one's header, and a gzip file
 * is whole (a corrupt one would otherwise commit made-up rows before its
 * checksum fails at the end). r0 is source 0, already open. */
bool plan_check_sources(struct load *ld, const struct reader *r0, struct sl_error *err)
{
	const struct job *job = ld->job;
	if (ld->input.null_marker && r0->format != FORMAT_CSV && r0->format != FORMAT_TSV)
		return sl_error_set(
			err, SL_ERR_USAGE,
			"--null is for CSV and TSV: %s is %s, whose null is JSON's null",
			job->sources[0], reader_format_name(r0->format));
	for (int i = 0; i < job->nsources; i++) {
		const char *path = job->sources[i];
		if (!strcmp(path, "-"))
			continue; /* stdin can be read once only: checked as it is read */
		if (i > 0) {
			struct reader *r;
			if (!reader_open(&r, path, &ld->input, err))
				return false;
			bool same = true;
			if (r0->nheader && r->nheader && !job->ncolumns) {
				same = r->nheader == r0->nheader;
				for (int c = 0; same && c < r0->nheader; c++)
					same = !strcmp(r->header[c], r0->header[c]);
			}
			reader_close(r);
			if (!same)
				return sl_error_set(err, SL_ERR_USAGE,
						    "%s: its header differs from %s's", path,
						    job->sources[0]);
		}
		if (!source_verify(path, err))
			return false;
	}
	return true;
}

/* Whether column names a and b are the same for the target (MySQL compares
 * them case-insensitively). */
static bool same_column(const struct load *ld, const char *a, const char *b)
{
	return ld->drv->dialect->columns_case_insensitive ? !strcasecmp(a, b) : !strcmp(a, b);
}

/* Whether every key column is among cols. */
static bool key_within(const struct load *ld, char *const *cols, int ncols)
{
	for (int k = 0; k < ld->spec.nkey; k++) {
		bool found = false;
		for (int i = 0; !found && i < ncols; i++)
			found = same_column(ld, ld->spec.key[k], cols[i]);
		if (!found)
			return false;
	}
	return true;
}

/* Append "a, b" to out. */
static void join_names(char *out, size_t n, char *const *names, int count)
{
	size_t o = 0;
	out[0] = '\0';
	for (int i = 0; i < count && o < n; i++)
		o += (size_t)snprintf(out + o, n - o, "%s%s", i ? ", " : "", names[i]);
}

/* --on-conflict update --key K: the key must be what decides a conflict. A
 * primary key or unique index on exactly K must exist; and where the server
 * applies the update on whichever unique index a row collides with (MySQL's
 * ON DUPLICATE KEY UPDATE), no other unique index may exist that could
 * collide for another key, or a row would overwrite a different row; copy
 * --incremental upserts by the key alone there instead. */
static bool check_conflict_key(struct load *ld, const struct table_desc *td, struct sl_error *err)
{
	char key[512], cols[512];
	join_names(key, sizeof key, ld->spec.key, ld->spec.nkey);
	bool exact = false;
	for (int u = 0; u < td->nunique; u++)
		exact |= td->unique[u].ncols == ld->spec.nkey &&
			 key_within(ld, td->unique[u].cols, td->unique[u].ncols);
	if (!exact)
		return sl_error_set(err, SL_ERR_USAGE,
				    "--on-conflict update --key %s: table %s has no primary key or "
				    "unique index on (%s), so no conflict on it can be detected",
				    key, ld->table, key);
	if (!ld->drv->dialect->upsert_matches_any_unique)
		return true;
	for (int u = 0; u < td->nunique; u++) {
		const struct unique_key *uk = &td->unique[u];
		if (key_within(ld, uk->cols, uk->ncols))
			continue; /* a collision on it is a collision on the key too */
		join_names(cols, sizeof cols, uk->cols, uk->ncols);
		if (!ld->req || !ld->req->upsert_by_key)
			return sl_error_set(
				err, SL_ERR_USAGE,
				"--on-conflict update --key %s: table %s also has unique index %s "
				"(%s); %s would update the row that collides on it, another row "
				"than the key names. Drop that index, or load without "
				"--on-conflict update",
				key, ld->table, uk->name, cols, ld->drv->name);
		/* copy --incremental: the rows are updated by the key and the
		 * others inserted, where a collision on it is refused */
		log_debug("%s: unique index %s (%s) besides the key (%s): rows are updated by "
			  "the key, the others inserted",
			  ld->table, uk->name, cols, key);
		ld->spec.upsert_by_key = true;
		break;
	}
	return true;
}

/* Where the server looked for an unqualified table, from its identity:
 * "schema public of database shop" (PostgreSQL) or "database shop" (MySQL,
 * whose schemas are its databases); "" when it cannot say. */
static void where_looked(struct load *ld, struct conn *c, char *out, size_t n)
{
	char id[1024];
	struct sl_error e;
	out[0] = '\0';
	if (!ld->drv->conn.identity || !ld->drv->conn.identity(c, id, sizeof id, &e))
		return;
	/* the identity ends in ":<database>:<schema>" (PostgreSQL) or
	 * ":<database>" (MySQL) */
	char *last = strrchr(id, ':');
	if (!last)
		return;
	*last++ = '\0';
	bool schemas = !ld->drv->dialect->columns_case_insensitive;
	char *db = schemas ? strrchr(id, ':') : NULL;
	const char *schema = ld->schema ? ld->schema : last;
	if (schemas && db)
		snprintf(out, n, " in schema %s of database %s", schema, db + 1);
	else if (!schemas)
		snprintf(out, n, " in database %s", ld->schema ? ld->schema : last);
}

/* Whether a table named name exists where ld's table would be. */
static bool table_exists(struct load *ld, struct conn *c, const char *name)
{
	struct write_spec spec = ld->spec;
	struct table_desc td = {0};
	struct sl_error e;
	spec.table = name;
	bool exists = ld->drv->catalog.describe_table(c, &spec, &td, &e) && td.exists;
	table_desc_free(&td);
	return exists;
}

/* The table is not there: say where sluice looked and what to do, with the
 * name the user probably meant when one exists (PostgreSQL folds unquoted
 * names to lower case, sluice takes them as written; a file named
 * orders-2026-12-01.csv loads into orders). */
static bool missing_table(struct load *ld, struct conn *c, struct sl_error *err)
{
	char where[600];
	where_looked(ld, c, where, sizeof where);
	bool from_file = !ld->job->table;
	char lower[256], word[256];
	snprintf(lower, sizeof lower, "%s", ld->table);
	for (char *p = lower; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	/* the name up to its first character that is no letter or '_' */
	size_t k = 0;
	while (ld->table[k] && k < sizeof word - 1 &&
	       (((ld->table[k] | 0x20) >= 'a' && (ld->table[k] | 0x20) <= 'z') ||
		ld->table[k] == '_'))
		k++;
	snprintf(word, sizeof word, "%.*s", (int)k, ld->table);
	while (k > 0 && word[k - 1] == '_')
		word[--k] = '\0';
	const char *qual = ld->schema ? ld->schema : "", *dot = ld->schema ? "." : "";
	if (!ld->drv->dialect->columns_case_insensitive && strcmp(lower, ld->table) &&
	    table_exists(ld, c, lower))
		return sl_error_set(err, SL_ERR_USAGE,
				    "table \"%s\" does not exist%s, but %s does: names are taken "
				    "as written (PostgreSQL folds unquoted names to lower case); "
				    "did you mean --table %s%s%s?",
				    ld->table, where, lower, qual, dot, lower);
	if (from_file && word[0] && strcmp(word, ld->table) && table_exists(ld, c, word))
		return sl_error_set(err, SL_ERR_USAGE,
				    "table %s (named after the file %s) does not exist%s; "
				    "did you mean --table %s?",
				    ld->table, ld->job->sources[0], where, word);
	if (from_file)
		return sl_error_set(err, SL_ERR_USAGE,
				    "table %s (named after the file %s) does not exist%s: name the "
				    "table with --table%s",
				    ld->table, ld->job->sources[0], where,
				    ld->spec.update ? ""
						    : ", or --create creates it from the input");
	return sl_error_set(err, SL_ERR_USAGE, "table %s%s%s does not exist%s%s", qual, dot,
			    ld->table, where,
			    ld->spec.update ? "" : " (--create would create it from the input)");
}

#ifdef SLUICE_TEST_HOOKS
/* Test builds, SLUICE_DESCRIBE_HOLD=FILE: with its connection at hand, the
 * first look at the table creates FILE and waits until it is removed (at
 * most 30 s), so a test can break the connection right there. */
static void describe_hold(void)
{
	const char *f = getenv("SLUICE_DESCRIBE_HOLD");
	FILE *fp = f ? fopen(f, "w") : NULL;
	if (!fp)
		return;
	fclose(fp);
	for (int i = 0; i < 3000 && access(f, F_OK) == 0; i++)
		nanosleep(&(struct timespec){0, 10 * 1000 * 1000}, NULL);
}
#endif

/* Connect and check the target before reading any input: the table exists
 * (or --create will make it), and an upsert's key decides conflicts. */
bool plan_check_target(struct load *ld, struct sl_error *err)
{
	struct conn *c;
	struct table_desc td = {0};
	bool ok = false;
	/* nothing is written yet: a connection broken while the table is
	 * described is retried on a fresh one, as a batch's is (--retries) */
	for (int failures = 0;;) {
		if (!run_get_conn(&ld->run, &c, err))
			return false;
#ifdef SLUICE_TEST_HOOKS
		if (!failures)
			describe_hold();
#endif
		ok = ld->drv->catalog.describe_table(c, &ld->spec, &td, err);
		if (ok && !td.exists && (!ld->job->create || ld->spec.update))
			ok = missing_table(ld, c, err);
		bool broken = !ok && err->kind == SL_ERR_CONNECTION;
		run_put_conn(&ld->run, c, broken);
		if (ok || !broken || failures++ >= ld->job->retries || signals_caught())
			break;
		log_warn("%s; retrying on a fresh connection (%d of %d)", err->msg, failures,
			 ld->job->retries);
		table_desc_free(&td);
		td = (struct table_desc){0};
	}
	if (!ok) {
		table_desc_free(&td);
		return false;
	}
	if (td.exists && ld->spec.on_conflict == CONFLICT_UPDATE)
		ok = check_conflict_key(ld, &td, err);
	if (ok && td.bulk_refused && ld->spec.method == METHOD_INFILE && ld->job->method)
		ok = sl_error_set(
			err, SL_ERR_USAGE,
			"the server refuses LOAD DATA LOCAL INFILE (local_infile is off): "
			"use --method insert, or enable local_infile on the server");
	if (ok && td.bulk_refused && ld->spec.method == METHOD_INFILE && !ld->job->method) {
		ld->spec.method = METHOD_INSERT;
		ld->method_reason =
			"the server refuses LOAD DATA LOCAL INFILE (local_infile is off)";
		log_info("--method insert: %s", ld->method_reason);
	}
	if (ok && td.bulk_is_slow && !ld->job->method && !ld->spec.update &&
	    ld->drv->write.supports(METHOD_INSERT) && ld->spec.method != METHOD_INSERT) {
		/* the one place the bulk path gives way to INSERT by itself */
		ld->spec.method = METHOD_INSERT;
		ld->method_reason =
			"the bulk path feeds this table row by row (foreign partitions, "
			"a Spider head); multi-row INSERTs go out in batches";
		log_info("--method insert: %s", ld->method_reason);
	}
	ld->target = td; /* freed at the end of the run */
	return ok;
}

/* A header of one field with a ';', TAB or '|' in it, read with the default
 * ',': the file is most likely separated by that character. */
static char header_delimiter(const struct load *ld, const struct reader *r)
{
	if (ld->job->input.delimiter || ld->job->ncolumns || r->format != FORMAT_CSV ||
	    r->nheader != 1)
		return 0;
	const char *p = strpbrk(r->header[0], ";\t|");
	return p ? *p : 0;
}

/* Whether name is one of the --key columns. */
static bool is_key_name(const struct load *ld, const char *name)
{
	for (int k = 0; k < ld->spec.nkey; k++)
		if (!strcmp(ld->spec.key[k], name))
			return true;
	return false;
}

bool plan_check_columns(struct load *ld, const struct reader *r, struct sl_error *err)
{
	const struct table_desc *td = &ld->target;
	char d = header_delimiter(ld, r);
	char dname[8];
	snprintf(dname, sizeof dname, d == '\t' ? "tab" : "'%c'", d);
	if (d && !td->exists)
		return sl_error_set(
			err, SL_ERR_USAGE,
			"the header of %s is one field, \"%.60s\": is the file separated "
			"by %s? --delimiter %s reads it so",
			ld->job->sources[0], r->header[0], dname, dname);
	/* a column named twice would be written twice (or made twice) */
	for (int i = 0; i < ld->ncols; i++)
		for (int j = 0; j < i; j++)
			if (same_column(ld, ld->columns[i], ld->columns[j]))
				return sl_error_set(err, SL_ERR_USAGE,
						    "column \"%s\" is named twice%s%s: name the "
						    "columns with --columns",
						    ld->columns[i],
						    strcmp(ld->columns[i], ld->columns[j]) ? " (as "
											   : "",
						    strcmp(ld->columns[i], ld->columns[j])
							    ? "the server folds it)"
							    : "");
	if (!td->exists) {
		/* --create: a name the server would cut would make another
		 * column (or the same twice) than the one each record names */
		size_t max = (size_t)ld->drv->dialect->max_name_bytes;
		for (int i = 0; max && i < ld->ncols; i++)
			if (strlen(ld->columns[i]) > max)
				return sl_error_set(
					err, SL_ERR_USAGE,
					"--create: column name \"%.80s%s\" is %zu bytes; %s keeps "
					"names of %zu: name the columns with --columns, or create the "
					"table first",
					ld->columns[i], strlen(ld->columns[i]) > 80 ? "..." : "",
					strlen(ld->columns[i]), ld->drv->name, max);
		if (max && ld->table && strlen(ld->table) > max)
			return sl_error_set(
				err, SL_ERR_USAGE,
				"--create: table name \"%s\" is %zu bytes; %s keeps names "
				"of %zu: give a shorter one with --table",
				ld->table, strlen(ld->table), ld->drv->name, max);
		return true;
	}
	struct buf unknown;
	buf_init(&unknown, 0);
	int nunknown = 0;
	for (int i = 0; i < ld->ncols; i++) {
		/* the group column ties records together and is written nowhere;
		 * a delete reads only its key */
		bool found = (ld->job->group_by && !strcmp(ld->columns[i], ld->job->group_by)) ||
			     (ld->spec.del && !is_key_name(ld, ld->columns[i]));
		for (int k = 0; !found && k < td->ncols; k++)
			found = same_column(ld, ld->columns[i], td->cols[k].name);
		if (!found) {
			buf_catf(&unknown, "%s%s", nunknown ? ", " : "", ld->columns[i]);
			nunknown++;
		}
	}
	if (!nunknown) {
		buf_free(&unknown);
		return true;
	}
	struct buf cols;
	buf_init(&cols, 0);
	for (int k = 0; k < td->ncols; k++)
		buf_catf(&cols, "%s%s", k ? ", " : "", td->cols[k].name);
	char hint[200] = "";
	if (d)
		snprintf(hint, sizeof hint, "; is the file separated by %s? --delimiter %s", dname,
			 dname);
	else
		snprintf(hint, sizeof hint, "; --columns names the input's columns in order");
	sl_error_set(err, SL_ERR_USAGE, "%s %s of %s %s not in table %s (its columns: %s)%s",
		     nunknown == 1 ? "column" : "columns", buf_str(&unknown),
		     ld->job->ncolumns ? "--columns" : "the input", nunknown == 1 ? "is" : "are",
		     ld->table, buf_str(&cols), hint);
	buf_free(&unknown);
	buf_free(&cols);
	return false;
}

/* A unique key of the table whose columns are all written: a lost plain
 * COMMIT of an insert can be settled by looking the rows up by it. With
 * --create the key is --key, the primary key it creates. */
void plan_lookup_key(struct load *ld)
{
	if (!ld->target.exists && ld->job->create && ld->spec.nkey) {
		ld->lookup_key = ld->spec.key;
		ld->lookup_nkey = ld->spec.nkey;
		return;
	}
	for (int u = 0; u < ld->target.nunique; u++) {
		const struct unique_key *uk = &ld->target.unique[u];
		bool all = true;
		for (int k = 0; all && k < uk->ncols; k++) {
			bool found = false;
			for (int i = 0; !found && i < ld->ncols; i++)
				found = same_column(ld, uk->cols[k], ld->columns[i]);
			all = found;
		}
		if (all) {
			ld->lookup_key = uk->cols;
			ld->lookup_nkey = uk->ncols;
			return;
		}
	}
}

/* Keyed writes: find the key columns among the target columns and decide
 * whether batches go in rounds and keys to fixed writers. */
bool plan_keys(struct load *ld, int workers, struct sl_error *err)
{
	ld->nkey_idx = 0;
	for (int k = 0; k < ld->spec.nkey; k++) {
		int i = 0;
		while (i < ld->ncols && strcmp(ld->columns[i], ld->spec.key[k]))
			i++;
		if (i == ld->ncols)
			return sl_error_set(err, SL_ERR_USAGE,
					    "--key %s is not a column of the input",
					    ld->spec.key[k]);
		if (k >= (int)(sizeof ld->key_idx / sizeof ld->key_idx[0]))
			return sl_error_set(err, SL_ERR_USAGE, "--key names too many columns");
		/* which records are one key is the target column's collation's
		 * to say ('abc' and 'ABC ' are one on a _ci column) */
		const struct column_desc *col = NULL;
		for (int j = 0; j < ld->target.ncols && !col; j++)
			if (same_column(ld, ld->target.cols[j].name, ld->spec.key[k]))
				col = &ld->target.cols[j];
		ld->key_fold[ld->nkey_idx] =
			(unsigned char)(col && col->folds_case
						? KEY_FOLD_CASE
						: key_fold_for_collation(col ? col->collation
									     : NULL));
		ld->key_idx[ld->nkey_idx++] = i;
	}
	ld->keyed = ld->nkey_idx > 0 && (ld->spec.update || ld->spec.on_conflict != CONFLICT_ERROR);
	ld->nqueues = ld->keyed && workers > 1 ? workers : 1;
	return true;
}

/* How a load job's default name says where its sources are: the
 * directory of the first one's canonical path (a symbolic link to a file
 * is the file); how earlier versions said it: the canonical path of the
 * directory as typed (a link is where it lies), the directory as typed. */
enum job_dir { JOB_DIR_CANONICAL, JOB_DIR_TYPED_CANONICAL, JOB_DIR_TYPED };

/* The default name of a load job into ld's table from the sources of job,
 * into out: the table and where the sources are (their directory as how
 * says, or stdin), not the file names, so a nightly glob that picks up new
 * files is the same job. False when too long. */
static bool default_job_name(const struct load *ld, enum job_dir how, char *out, size_t outsz)
{
	const struct job *job = ld->job;
	const char *first = job->sources[0];
	const char *slash = strrchr(first, '/');
	char dir[4096], part[4096];
	if (!slash || slash == first)
		snprintf(part, sizeof part, "%s", slash ? "/" : ".");
	else
		snprintf(part, sizeof part, "%.*s", (int)(slash - first), first);
	char *real = how == JOB_DIR_CANONICAL && strcmp(first, "-") ? realpath(first, NULL) : NULL;
	char *end = real ? strrchr(real, '/') : NULL;
	bool typed = false;
	if (end) /* the file's canonical directory, its slash kept */
		snprintf(dir, sizeof dir, "%.*s", (int)(end - real + 1), real);
	else if (!strcmp(first, "-"))
		snprintf(dir, sizeof dir, "-");
	else if (how == JOB_DIR_TYPED)
		snprintf(dir, sizeof dir, "%.*s", slash ? (int)(slash - first + 1) : 2,
			 slash ? first : "./");
	else if (!realpath(part, dir))
		typed = true;
	else if (dir[strlen(dir) - 1] != '/')
		strncat(dir, "/", sizeof dir - strlen(dir) - 1);
	free(real);
	if (typed)
		return default_job_name(ld, JOB_DIR_TYPED, out, outsz);
	/* an update or a delete of a table is another job than its load */
	const char *verb = job->command == CMD_UPDATE	? "update:"
			   : job->command == CMD_DELETE ? "delete:"
							: "";
	int n = snprintf(out, outsz, "%s%s%s%s:%s", verb, ld->schema ? ld->schema : "",
			 ld->schema ? "." : "", ld->table, dir);
	return n < 200;
}

bool plan_resume(struct load *ld, struct sl_error *err)
{
	const struct job *job = ld->job;
	/* the names earlier versions gave the job, tried when it has no rows */
	char legacy[2][600] = {"", ""};
	if (job->job_name) {
		snprintf(ld->job_name, sizeof ld->job_name, "%s", job->job_name);
	} else if (!default_job_name(ld, JOB_DIR_CANONICAL, ld->job_name, sizeof ld->job_name)) {
		return sl_error_set(err, SL_ERR_USAGE,
				    "the job's name would be too long (over 200 bytes): "
				    "name it with --job");
	} else {
		if (!default_job_name(ld, JOB_DIR_TYPED_CANONICAL, legacy[0], sizeof legacy[0]))
			legacy[0][0] = '\0';
		if (!default_job_name(ld, JOB_DIR_TYPED, legacy[1], sizeof legacy[1]))
			legacy[1][0] = '\0';
	}
	if (strlen(ld->job_name) > 200)
		return sl_error_set(err, SL_ERR_USAGE, "--job takes a name of up to 200 bytes");
	/* a file is known by its canonical path (in/a.csv, ./in//a.csv and
	 * /abs/in/a.csv are one file) and, for a renamed copy, by its bytes */
	char **canon = calloc((size_t)job->nsources, sizeof *canon);
	if (!canon)
		return sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
	bool ok = true;
	for (int i = 0; ok && i < job->nsources; i++) {
		char *real = strcmp(job->sources[i], "-") ? realpath(job->sources[i], NULL) : NULL;
		canon[i] = real ? real : strdup(job->sources[i]);
		ok = canon[i] != NULL;
		if (ok && strlen(canon[i]) > 500)
			ok = sl_error_set(err, SL_ERR_USAGE,
					  "--resume: a source path over 500 bytes: %.60s...",
					  canon[i]);
		else if (!ok)
			sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
	}
	/* a connection of its own, never --single-transaction's: creating the
	 * checkpoint table would commit that transaction on MySQL */
	struct conn *c = NULL;
	ok = ok && pool_acquire(ld->run.pool, &c, err);
	char *one[1] = {(char *)ld->req->resume_source};
	if (ok)
		ok = checkpoint_open(&ld->ckpt, ld->drv, c, job->checkpoint_table, ld->job_name,
				     (const char *const[]){legacy[0][0] ? legacy[0] : NULL,
							   legacy[1][0] ? legacy[1] : NULL},
				     2, ld->req->resume_source ? one : canon,
				     ld->req->resume_source ? NULL : job->sources,
				     ld->req->resume_source ? 1 : job->nsources, err);
	if (c)
		pool_release(ld->run.pool, c, !ok && err->kind == SL_ERR_CONNECTION);
	for (int i = 0; i < job->nsources; i++)
		free(canon[i]);
	free(canon);
	if (!ok)
		return false;
	snprintf(ld->job_name, sizeof ld->job_name, "%s", checkpoint_job(ld->ckpt));
	ld->src_whole = calloc((size_t)job->nsources, sizeof *ld->src_whole);
	if (!ld->src_whole)
		return sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
	for (int i = 0; i < job->nsources && !ld->req->resume_source; i++) {
		char fp[100];
		if (!checkpoint_fingerprint(job->sources[i], fp, sizeof fp, err) ||
		    !checkpoint_check_source(ld->ckpt, i, fp, job->sources[i], &ld->src_whole[i],
					     err))
			return false;
	}
	return true;
}
