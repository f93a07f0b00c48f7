/* src/pipeline/export.c
 * sluice export: tables (or a query) of a server out to CSV, TSV, NDJSON or
 * JSON files. copy's plan chooses the tables (copy_choose_tables); every
 * table is read in one snapshot shared by the workers (snapshot_share),
 * through the table reader with each value turned into the form sluice
 * load reads back into the same type (typemap_export_column); an output
 * writer (output.h) formats the rows and puts each file in place whole.
 * A table is one file, or numbered parts of --split-rows rows or
 * --max-file-bytes bytes; --resume keeps the files a run finished (a
 * final name only ever holds a whole file); --manifest lists them.
 * --nest writes one table's rows with its children's (export_nest.c),
 * each child read on a connection of its own in the same snapshot.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "sluice/copy_internal.h"
#include "sluice/driver.h"
#include "sluice/export_nest.h"
#include "sluice/job.h"
#include "sluice/log.h"
#include "sluice/output.h"
#include "sluice/pipeline.h"
#include "sluice/report.h"
#include "sluice/sha256.h"
#include "sluice/signals.h"
#include "sluice/typemap.h"
#include "sluice/url.h"

/* One table (or the query) of the export. */
struct export_table {
	struct out_column *cols;
	char **types; /* per column: the source type, for the manifest */
	unsigned *xf;
	int *bits;
	enum sql_kind *kinds; /* per column: what its values are */
	int key;	      /* the integer key its parts are read in order of, or -1 */
	char base[4096];      /* the file's path without part number and extension */
	char suffix[32];      /* the extension after the part number: ".csv.gz", or "" */
	int nsegs;	      /* key ranges read at once into its one file (1: none) */
	int segs_left;	      /* under ex->lock: segments not finished yet */
	struct output **segs; /* finished segments, joined by the last to finish */
};

/* A piece of the work a worker takes: a table whole, or one key range (a
 * segment) of a table several workers read at once into one file. */
struct export_unit {
	int table;
	int seg;		 /* its place in the file: 0 the start */
	struct read_range range; /* the segment's keys */
};

/* The fewest rows a key range of a table split among workers has. */
#define EXPORT_SEG_MIN_ROWS 10000

/* A file the export wrote or kept, for the manifest. */
struct export_file {
	int table;
	char path[4200];
	unsigned long long rows; /* REPORT_UNKNOWN: kept whole, not read again */
	unsigned long long bytes;
	char sha256[65];
	bool kept; /* --resume: an earlier run's */
};

struct export
{
	const struct job *job;
	const struct driver *from;
	struct copy plan; /* the tables: names, catalog, columns */
	struct export_table *tables;
	struct conn **readers; /* nreaders of them, in one snapshot */
	int nworkers;
	int nreaders; /* a worker each; with --nest the parent's and a child's each */
	/* --nest: the children of the one table, the parent's key */
	struct copy_table *nest_ct;
	struct export_table *nest_t;
	struct nest_child *nest;
	char **nest_fk; /* per child: its column holding the parent's key, as typed */
	int nnest;
	int nest_key;
	enum nest_order nest_order;
	bool nest_bytewise;
	struct output_options opt;
	const char *ext;      /* "csv", "ndjson"...; with ".gz" when gzipped */
	bool to_dir;	      /* DEST is a directory: a file per table */
	bool split;	      /* --split-rows or --max-file-bytes */
	char snapshot_at[40]; /* when the snapshot was taken, UTC */

	struct export_unit *units;
	int nunits;

	pthread_mutex_t lock; /* guards what follows */
	int next_unit;
	struct table_stats *stats;
	struct export_file *files;
	int nfiles, capfiles;
	enum run_status status;
	struct run_report report;
	atomic_bool halt;
	struct live_stats live; /* what the progress display shows */
};

/* Rows a worker formats between two updates of the live counters. */
#define EXPORT_LIVE_EVERY 4096

/* Tell the progress display of rows rows and bytes bytes more. */
static void publish(struct export *ex, uint64_t rows, uint64_t bytes)
{
	atomic_fetch_add(&ex->live.rows_read, rows);
	atomic_fetch_add(&ex->live.rows_written, rows);
	atomic_fetch_add(&ex->live.bytes, bytes);
	atomic_fetch_add(&ex->live.bytes_done, bytes);
}

/* Stop the export with err (from any worker). */
static void export_fail(struct export *ex, const struct sl_error *err)
{
	pthread_mutex_lock(&ex->lock);
	if (err->kind != SL_ERR_INTERRUPTED && ex->status == RUN_OK) {
		log_error("%s", err->msg);
		report_add_error(&ex->report, err->msg);
	}
	if (ex->status == RUN_OK)
		ex->status = signals_caught()		 ? RUN_INTERRUPTED
			     : err->kind == SL_ERR_USAGE ? RUN_USAGE
							 : RUN_FAILED;
	atomic_store(&ex->halt, true);
	pthread_mutex_unlock(&ex->lock);
}

static bool add_file(struct export *ex, const struct export_file *f, struct sl_error *err)
{
	pthread_mutex_lock(&ex->lock);
	bool ok = true;
	if (ex->nfiles == ex->capfiles) {
		int cap = ex->capfiles ? 2 * ex->capfiles : 16;
		struct export_file *n = realloc(ex->files, (size_t)cap * sizeof *n);
		if (n) {
			ex->files = n;
			ex->capfiles = cap;
		} else {
			ok = sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
		}
	}
	if (ok)
		ex->files[ex->nfiles++] = *f;
	pthread_mutex_unlock(&ex->lock);
	return ok;
}

static bool file_exists(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* The size and SHA-256 of a file an earlier run wrote. */
static bool hash_file(const char *path, unsigned long long *bytes, char *hex, struct sl_error *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return sl_error_set(err, SL_ERR_INTERNAL, "reading %s: %s", path, strerror(errno));
	struct sha256 s;
	sha256_init(&s);
	char block[65536];
	ssize_t n;
	*bytes = 0;
	while ((n = read(fd, block, sizeof block)) > 0 || (n < 0 && errno == EINTR)) {
		if (n < 0)
			continue;
		sha256_update(&s, block, (size_t)n);
		*bytes += (unsigned long long)n;
	}
	int e = errno;
	close(fd);
	if (n < 0)
		return sl_error_set(err, SL_ERR_INTERNAL, "reading %s: %s", path, strerror(e));
	sha256_final_hex(&s, hex);
	return true;
}

/* The path of part `part` of table t (0: the table's one file). */
static void part_path(const struct export_table *t, int part, char *out, size_t n)
{
	if (!strcmp(t->base, "-"))
		snprintf(out, n, "-");
	else if (part)
		snprintf(out, n, "%s.%05d%s", t->base, part, t->suffix);
	else
		snprintf(out, n, "%s%s", t->base, t->suffix);
}

/* Where a part's rows end: --split-rows rows, or --max-file-bytes bytes
 * (before compression) reached. */
static bool part_full(const struct export *ex, unsigned long long rows, const struct output *o)
{
	const struct job *job = ex->job;
	return (job->split_rows && rows >= job->split_rows) ||
	       (job->max_file_bytes && o->data_bytes + o->pending.len >= job->max_file_bytes);
}

/* Close the part being written (or counted, when kept from an earlier
 * run) and note it for the manifest. */
static bool end_part(struct export *ex, int ti, struct output *o, const char *path, bool kept,
		     struct table_stats *st, struct sl_error *err)
{
	struct export_file f = {.table = ti, .rows = o->rows, .kept = kept};
	snprintf(f.path, sizeof f.path, "%s", path);
	if (!output_close(o, &f.bytes, f.sha256, err))
		return false;
	if (kept && ex->job->manifest && !hash_file(path, &f.bytes, f.sha256, err))
		return false;
	if (kept) {
		st->rows_resumed += f.rows;
		st->files_skipped++;
	} else {
		st->rows_written += f.rows;
		st->bytes += f.bytes;
		log_info("exported %s: %llu rows, %llu bytes", !strcmp(path, "-") ? "stdout" : path,
			 f.rows, f.bytes);
	}
	return !strcmp(path, "-") || add_file(ex, &f, err);
}

/* Export table ti on connection c: its file, or its parts one after
 * another. */
static bool export_table(struct export *ex, struct conn *c, int ti, struct table_stats *st,
			 struct sl_error *err)
{
	const struct job *job = ex->job;
	struct copy_table *ct = &ex->plan.tables[ti];
	struct export_table *t = &ex->tables[ti];
	char path[4200];
	snprintf(st->table, sizeof st->table, "%s", ct->name);
	if (!ex->split && job->resume && strcmp(t->base, "-")) {
		part_path(t, 0, path, sizeof path);
		if (file_exists(path)) {
			/* a final name only ever holds a whole file */
			struct export_file f = {.table = ti, .rows = REPORT_UNKNOWN, .kept = true};
			snprintf(f.path, sizeof f.path, "%s", path);
			log_info("%s: %s is whole from an earlier run, kept", ct->name, path);
			st->files_skipped = 1;
			return (!job->manifest || hash_file(path, &f.bytes, f.sha256, err)) &&
			       add_file(ex, &f, err);
		}
	}
	struct read_range range = {0};
	if (ex->split && t->key >= 0)
		range = (struct read_range){.key = ct->src_spec.columns[t->key], .ordered = true};
	if (ex->nnest)
		range = (struct read_range){.key = ct->src_spec.columns[ex->nest_key],
					    .ordered = true,
					    .bytewise = ex->nest_bytewise};
	struct reader *r = NULL;
	struct nest_merge *m = NULL;
	if (!table_reader_open(&r, ex->from, c, &ct->src_spec, job->query, &range, t->xf, t->bits,
			       -1, err))
		return false;
	table_reader_no_raw(r);
	if (ex->nnest && !nest_merge_open(&m, ex->from, ex->readers + 1, ex->nest, ex->nnest,
					  ex->nest_order, ex->nest_bytewise, err)) {
		nest_merge_close(m);
		reader_close(r);
		return false;
	}
	int part = ex->split ? 1 : 0;
	struct output *o = NULL;
	bool kept = false, ok = true;
	unsigned long long part_rows = 0;
	uint64_t live_rows = 0, live_bytes = 0;
	double t0 = now_seconds();
	for (;;) {
		if (atomic_load(&ex->halt) || signals_caught()) {
			ok = signals_caught() ? sl_error_set(err, SL_ERR_INTERRUPTED, "interrupted")
					      : sl_error_set(err, SL_ERR_INTERRUPTED, "stopped");
			break;
		}
		struct record rec;
		enum read_status rs = r->ops->next(r, &rec, err);
		if (rs == READ_FAIL || rs == READ_REJECT) {
			ok = sl_error_prefix(err, "exporting %s", ct->name);
			break;
		}
		if (!o && (rs == READ_OK || part <= 1)) {
			/* the next file: an empty table still gets its (header-only) file */
			part_path(t, part, path, sizeof path);
			kept = ex->split && job->resume && t->key >= 0 && file_exists(path);
			if (!(ok = output_open(&o, &ex->opt, t->cols, ct->src_spec.ncols,
					       kept ? NULL : path, err)))
				break;
		}
		if (rs == READ_EOF)
			break;
		st->rows_read++;
		unsigned long long before = o->data_bytes + o->pending.len;
		if (!(ok = m ? nest_merge_row(m, o, rec.fields, ex->nest_key, err)
			     : output_row(o, rec.fields, err)))
			break;
		live_bytes += o->data_bytes + o->pending.len - before;
		if (++live_rows == EXPORT_LIVE_EVERY) {
			publish(ex, live_rows, live_bytes);
			live_rows = live_bytes = 0;
		}
		if (ex->split && part_full(ex, ++part_rows, o)) {
			if (!(ok = end_part(ex, ti, o, path, kept, st, err)))
				break;
			o = NULL;
			part++;
			part_rows = 0;
		}
	}
	publish(ex, live_rows, live_bytes);
	unsigned long long nested = 0, zero_dates = 0;
	if (ok && m)
		ok = nest_merge_finish(m, &nested, &zero_dates, err);
	st->zero_dates += zero_dates;
	nest_merge_close(m);
	st->zero_dates += r->zero_dates;
	st->seconds = now_seconds() - t0;
	reader_close(r);
	if (!ok) {
		if (o) {
			output_abort(o);
			st->rows_read -= part_rows;
		}
		return false;
	}
	if (o && !end_part(ex, ti, o, path, kept, st, err))
		return false;
	if (o)
		part++;
	/* parts past the last, from an earlier run of more rows: not this
	 * export's */
	for (; ex->split; part++) {
		part_path(t, part, path, sizeof path);
		if (!file_exists(path))
			break;
		log_info("%s: removing %s, left by an earlier run", ct->name, path);
		if (unlink(path) != 0)
			return sl_error_set(err, SL_ERR_INTERNAL, "removing %s: %s", path,
					    strerror(errno));
	}
	return true;
}

/* Export one key range of a table split among workers: segment 0 is the
 * start of the file, each other one written beside it under a temporary
 * name of its own; the worker that finishes the last joins them in order
 * and puts the file in place. */
static bool export_segment(struct export *ex, struct conn *c, const struct export_unit *u,
			   struct table_stats *st, struct sl_error *err)
{
	struct copy_table *ct = &ex->plan.tables[u->table];
	struct export_table *t = &ex->tables[u->table];
	char path[4200], temp[4300];
	snprintf(st->table, sizeof st->table, "%s", ct->name);
	part_path(t, 0, path, sizeof path);
	struct reader *r = NULL;
	if (!table_reader_open(&r, ex->from, c, &ct->src_spec, NULL, &u->range, t->xf, t->bits, -1,
			       err))
		return false;
	table_reader_no_raw(r);
	struct output *o = NULL;
	bool ok;
	if (u->seg == 0) {
		ok = output_open(&o, &ex->opt, t->cols, ct->src_spec.ncols, path, err);
	} else {
		char base[4250];
		sink_temp_name(path, base, sizeof base);
		snprintf(temp, sizeof temp, "%s.%d", base, u->seg);
		ok = output_open_segment(&o, &ex->opt, t->cols, ct->src_spec.ncols, path, temp,
					 err);
	}
	uint64_t live_rows = 0, live_bytes = 0;
	double t0 = now_seconds();
	while (ok) {
		if (atomic_load(&ex->halt) || signals_caught()) {
			ok = sl_error_set(err, SL_ERR_INTERRUPTED,
					  signals_caught() ? "interrupted" : "stopped");
			break;
		}
		struct record rec;
		enum read_status rs = r->ops->next(r, &rec, err);
		if (rs == READ_FAIL || rs == READ_REJECT) {
			ok = sl_error_prefix(err, "exporting %s", ct->name);
			break;
		}
		if (rs == READ_EOF)
			break;
		st->rows_read++;
		unsigned long long before = o->data_bytes + o->pending.len;
		ok = output_row(o, rec.fields, err);
		live_bytes += o->data_bytes + o->pending.len - before;
		if (++live_rows == EXPORT_LIVE_EVERY) {
			publish(ex, live_rows, live_bytes);
			live_rows = live_bytes = 0;
		}
	}
	publish(ex, live_rows, live_bytes);
	st->zero_dates += r->zero_dates;
	st->seconds = now_seconds() - t0;
	reader_close(r);
	if (!ok) {
		output_abort(o);
		return false;
	}
	pthread_mutex_lock(&ex->lock);
	t->segs[u->seg] = o;
	bool last = --t->segs_left == 0;
	pthread_mutex_unlock(&ex->lock);
	if (!last)
		return true;
	/* every segment is here (no other worker touches them now) */
	struct output *whole = t->segs[0];
	t->segs[0] = NULL;
	for (int k = 1; k < t->nsegs; k++) {
		struct output *seg = t->segs[k];
		t->segs[k] = NULL;
		if (ok && !(ok = output_join(whole, seg, err)))
			continue;
		if (!ok)
			output_abort(seg);
	}
	if (!ok) {
		output_abort(whole);
		return false;
	}
	return end_part(ex, u->table, whole, path, false, st, err);
}

/* What a worker thread is given. */
struct worker_arg {
	struct export *ex;
	struct conn *c;
};

/* Add what a unit did to its table's statistics (a table split into key
 * ranges has several). */
static void merge_stats(struct table_stats *to, const struct table_stats *st)
{
	if (!to->table[0])
		snprintf(to->table, sizeof to->table, "%s", st->table);
	to->rows_read += st->rows_read;
	to->rows_written += st->rows_written;
	to->rows_resumed += st->rows_resumed;
	to->files_skipped += st->files_skipped;
	to->bytes += st->bytes;
	to->zero_dates += st->zero_dates;
	if (st->seconds > to->seconds)
		to->seconds = st->seconds;
}

static void *worker_main(void *arg)
{
	struct worker_arg *wa = arg;
	struct export *ex = wa->ex;
	for (;;) {
		pthread_mutex_lock(&ex->lock);
		int ui = atomic_load(&ex->halt) || signals_caught() || ex->next_unit >= ex->nunits
				 ? -1
				 : ex->next_unit++;
		pthread_mutex_unlock(&ex->lock);
		if (ui < 0)
			break;
		const struct export_unit *u = &ex->units[ui];
		struct table_stats st = {0};
		struct sl_error err;
		sl_error_clear(&err);
		bool ok = ex->tables[u->table].nsegs > 1
				  ? export_segment(ex, wa->c, u, &st, &err)
				  : export_table(ex, wa->c, u->table, &st, &err);
		pthread_mutex_lock(&ex->lock);
		merge_stats(&ex->stats[u->table], &st);
		pthread_mutex_unlock(&ex->lock);
		if (!ok)
			export_fail(ex, &err);
	}
	return NULL;
}

/* The format and compression from the options and DEST's name. */
static bool choose_format(struct export *ex, struct sl_error *err)
{
	const struct job *job = ex->job;
	const char *dest = job->dest;
	size_t n = strlen(dest);
	bool gz_name = n > 3 && !strcmp(dest + n - 3, ".gz");
	enum input_format f = job->input.format;
	if (f == FORMAT_AUTO && !ex->to_dir && strcmp(dest, "-"))
		f = reader_format_from_name(dest);
	if (f == FORMAT_AUTO)
		f = FORMAT_CSV;
	ex->opt = (struct output_options){.format = f,
					  .delimiter = job->input.delimiter,
					  .null_marker = job->input.null_marker,
					  .quote_all = job->quote_all,
					  .ejson = job->ejson,
					  .gzip_level = job->compress_level,
					  .sha256 = job->manifest != NULL,
					  .gzip = job->compress == 1 ||
						  (job->compress == 0 && gz_name)};
	if ((f == FORMAT_NDJSON || f == FORMAT_JSON) &&
	    (job->input.delimiter || job->input.null_marker || job->quote_all))
		return sl_error_set(err, SL_ERR_USAGE,
				    "--delimiter, --null and --quote-all are for csv and tsv");
	if (job->ejson && f != FORMAT_NDJSON && f != FORMAT_JSON)
		return sl_error_set(err, SL_ERR_USAGE, "--ejson is for ndjson and json");
	static const char *const exts[] = {[FORMAT_CSV] = "csv",
					   [FORMAT_TSV] = "tsv",
					   [FORMAT_NDJSON] = "ndjson",
					   [FORMAT_JSON] = "json"};
	ex->ext = exts[f];
	if (ex->opt.gzip)
		ex->ext = f == FORMAT_CSV      ? "csv.gz"
			  : f == FORMAT_TSV    ? "tsv.gz"
			  : f == FORMAT_NDJSON ? "ndjson.gz"
					       : "json.gz";
	return true;
}

/* Where the files go: DEST a directory (it exists, ends in '/', or
 * several tables go to it: made), a file, or stdout. */
static bool choose_dest(struct export *ex, struct sl_error *err)
{
	const struct job *job = ex->job;
	const char *dest = job->dest;
	struct stat st;
	bool one = job->query || (job->ntables == 1 && !job->nexclude);
	if (!strcmp(dest, "-")) {
		if (!one)
			return sl_error_set(
				err, SL_ERR_USAGE,
				"DEST - (stdout) takes one table (--tables T) or --query");
		if (ex->split || job->resume)
			return sl_error_set(err, SL_ERR_USAGE,
					    "DEST - (stdout): no --split-rows, --max-file-bytes "
					    "or --resume (they name files)");
		return true;
	}
	size_t n = strlen(dest);
	ex->to_dir = (stat(dest, &st) == 0 && S_ISDIR(st.st_mode)) || dest[n - 1] == '/' || !one;
	if (ex->to_dir && stat(dest, &st) != 0 && mkdir(dest, 0777) != 0)
		return sl_error_set(err, SL_ERR_USAGE, "cannot make directory %s: %s", dest,
				    strerror(errno));
	return true;
}

/* A file name from a table name: '/' and leading dots are no part of it. */
static void file_name(const char *table, char *out, size_t n)
{
	snprintf(out, n, "%s", table);
	for (char *p = out; *p; p++)
		if (*p == '/' || (*p == '.' && p == out))
			*p = '_';
}

/* A table's columns (ct, t: the export's table or a --nest child): names,
 * what their values are, their transforms. */
static bool plan_table(struct export *ex, struct copy_table *ct, struct export_table *t,
		       struct sl_error *err)
{
	const struct job *job = ex->job;
	t->key = -1;
	if (job->query) {
		char **names = NULL;
		int n = 0;
		if (!ex->from->catalog.query_columns(ex->plan.src, job->query, &names, &n, err))
			return false;
		ct->src_spec.columns = names;
		ct->src_spec.ncols = n;
		ct->dst_spec.columns = NULL;
	} else {
		ct->src_spec.schema = ct->schema		       ? ct->schema
				      : ex->from->dialect->has_schemas ? job->schema
								       : NULL;
		ct->src_spec.table = ct->name;
		if (!ex->from->catalog.describe_full(ex->plan.src, &ct->src_spec, &ct->src, err))
			return false;
		if (!ct->src.exists)
			return sl_error_set(err, SL_ERR_USAGE,
					    "table %s does not exist on the source", ct->name);
		ct->src_spec.own_rows = ct->src.has_children;
		char **cols = calloc((size_t)(ct->src.ncols ? ct->src.ncols : 1), sizeof *cols);
		if (!cols)
			return sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
		for (int i = 0; i < ct->src.ncols; i++)
			cols[i] = ct->src.cols[i].name;
		ct->src_spec.columns = cols;
		ct->src_spec.ncols = ct->src.ncols;
		t->key = copy_split_key(ex->from->dialect, ct);
	}
	int n = ct->src_spec.ncols;
	t->cols = calloc((size_t)(n ? n : 1), sizeof *t->cols);
	t->types = calloc((size_t)(n ? n : 1), sizeof *t->types);
	t->xf = calloc((size_t)(n ? n : 1), sizeof *t->xf);
	t->bits = calloc((size_t)(n ? n : 1), sizeof *t->bits);
	t->kinds = calloc((size_t)(n ? n : 1), sizeof *t->kinds);
	if (!t->cols || !t->types || !t->xf || !t->bits || !t->kinds)
		return sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
	for (int i = 0; i < n; i++) {
		t->cols[i].name = ct->src_spec.columns[i];
		if (job->query)
			continue; /* a query's types are not known: its values go as text */
		const struct column_desc *col = &ct->src.cols[i];
		enum sql_kind kind;
		bool as_written;
		if (!typemap_export_column(ex->from->dialect, col, &t->xf[i], &t->bits[i], &kind,
					   &as_written))
			return sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
		t->types[i] = col->type;
		t->kinds[i] = kind;
		t->cols[i].kind = kind == SQL_INT				    ? OUT_NUMBER
				  : kind == SQL_DECIMAL				    ? OUT_DECIMAL
				  : kind == SQL_FLOAT				    ? OUT_FLOAT
				  : kind == SQL_BOOL				    ? OUT_BOOL
				  : kind == SQL_JSON && as_written		    ? OUT_JSON_TEXT
				  : kind == SQL_JSON				    ? OUT_JSON
				  : kind == SQL_BINARY				    ? OUT_BINARY
				  : kind == SQL_UUID				    ? OUT_UUID
				  : kind == SQL_DATETIME || kind == SQL_TIMESTAMPTZ ? OUT_DATETIME
										    : OUT_TEXT;
	}
	char name[1024];
	if (!strcmp(job->dest, "-")) {
		snprintf(t->base, sizeof t->base, "-");
	} else if (ex->to_dir) {
		file_name(job->query ? job->out_name : ct->name, name, sizeof name);
		size_t dl = strlen(job->dest);
		snprintf(t->base, sizeof t->base, "%s%s%s", job->dest,
			 job->dest[dl - 1] == '/' ? "" : "/", name);
		snprintf(t->suffix, sizeof t->suffix, ".%s", ex->ext);
	} else {
		/* DEST names the file; parts are numbered before its extension
		 * when it has the format's */
		snprintf(t->base, sizeof t->base, "%s", job->dest);
		size_t bl = strlen(t->base), el = strlen(ex->ext);
		if (bl > el + 1 && !strcmp(t->base + bl - el, ex->ext) &&
		    t->base[bl - el - 1] == '.') {
			t->base[bl - el - 1] = '\0';
			snprintf(t->suffix, sizeof t->suffix, ".%s", ex->ext);
		}
	}
	if (ex->split && job->resume && t->key < 0)
		log_warn("%s: no single integer key to read its parts in order by: --resume "
			 "writes all its parts again",
			 ct->name);
	return true;
}

/* --nest CHILD:FK[,CHILD2:FK2...] (items[0..n)), into the children's names
 * (ex->nest_ct, in the parent's schema) and FK columns (ex->nest_fk). */
static bool parse_nest(struct export *ex, char *const *items, int n, struct sl_error *err)
{
	ex->nest_ct = calloc((size_t)n, sizeof *ex->nest_ct);
	ex->nest_t = calloc((size_t)n, sizeof *ex->nest_t);
	ex->nest = calloc((size_t)n, sizeof *ex->nest);
	ex->nest_fk = calloc((size_t)n, sizeof *ex->nest_fk);
	if (!ex->nest_ct || !ex->nest_t || !ex->nest || !ex->nest_fk)
		return sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
	while (ex->nnest < n) {
		const char *p = items[ex->nnest];
		size_t len = strlen(p);
		const char *colon = memchr(p, ':', len);
		if (!colon || colon == p || colon + 1 == p + len ||
		    memchr(colon + 1, ':', len - (size_t)(colon + 1 - p)))
			return sl_error_set(err, SL_ERR_USAGE,
					    "--nest takes CHILD:FK[,CHILD2:FK2]: a child table and "
					    "its column holding the parent's key, not '%.*s'",
					    (int)len, p);
		struct copy_table *ct = &ex->nest_ct[ex->nnest];
		ct->name = strndup(p, (size_t)(colon - p));
		ex->nest_fk[ex->nnest] = strndup(colon + 1, len - (size_t)(colon + 1 - p));
		ex->nnest++;
		if (!ct->name || !ex->nest_fk[ex->nnest - 1])
			return sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
		for (int k = 0; k + 1 < ex->nnest; k++)
			if (!strcmp(ex->nest_ct[k].name, ct->name))
				return sl_error_set(err, SL_ERR_USAGE, "--nest names %s twice",
						    ct->name);
	}
	return true;
}

/* The index of column name in t, or -1. */
static int nest_column(const struct export *ex, const struct copy_table *t, const char *name)
{
	for (int i = 0; i < t->src_spec.ncols; i++)
		if (ex->from->dialect->columns_case_insensitive
			    ? !strcasecmp(t->src_spec.columns[i], name)
			    : !strcmp(t->src_spec.columns[i], name))
			return i;
	return -1;
}

/* --nest: what it goes with, the parent's key and how it compares, each
 * child's columns, FK and order (ex->nest). */
static bool plan_nest(struct export *ex, struct sl_error *err)
{
	const struct job *job = ex->job;
	if (!output_format_nests(ex->opt.format))
		return sl_error_set(err, SL_ERR_USAGE, "--nest is for --format ndjson and json");
	if (job->query || ex->plan.ntables != 1)
		return sl_error_set(err, SL_ERR_USAGE,
				    "--nest nests children in the rows of one table (--tables T)");
	if (ex->split || job->workers > 1)
		return sl_error_set(err, SL_ERR_USAGE,
				    "--nest reads the table and its children in one pass: no "
				    "--workers, --split-rows or --max-file-bytes");
	struct copy_table *pt = &ex->plan.tables[0];
	struct export_table *ptt = &ex->tables[0];
	const struct index_desc *pk = table_desc_primary(&pt->src);
	if (!pk || pk->ncols != 1 || pk->expression ||
	    (ex->nest_key = nest_column(ex, pt, pk->cols[0])) < 0)
		return sl_error_set(err, SL_ERR_USAGE,
				    "--nest: table %s has no single-column primary key its "
				    "children can hold",
				    pt->name);
	enum sql_kind kk = ptt->kinds[ex->nest_key];
	ex->nest_order = kk == SQL_INT ? NEST_INTEGER : NEST_BYTES;
	ex->nest_bytewise = kk == SQL_TEXT;
	for (int k = 0; k < ex->nnest; k++) {
		struct copy_table *ct = &ex->nest_ct[k];
		struct export_table *t = &ex->nest_t[k];
		if (pt->schema && !(ct->schema = strdup(pt->schema)))
			return sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
		if (!plan_table(ex, ct, t, err))
			return false;
		int fk = nest_column(ex, ct, ex->nest_fk[k]);
		if (fk < 0)
			return sl_error_set(err, SL_ERR_USAGE, "--nest: table %s has no column %s",
					    ct->name, ex->nest_fk[k]);
		if (nest_column(ex, pt, ct->name) >= 0)
			return sl_error_set(err, SL_ERR_USAGE,
					    "--nest: table %s has a column %s already: its "
					    "children's array cannot take that name",
					    pt->name, ct->name);
		enum sql_kind fkk = t->kinds[fk];
		if ((kk == SQL_INT || fkk == SQL_INT || kk == SQL_TEXT || fkk == SQL_TEXT) &&
		    kk != fkk)
			return sl_error_set(err, SL_ERR_USAGE,
					    "--nest: %s.%s and the key %s.%s are not of one kind "
					    "(%s, %s): their values would not compare alike",
					    ct->name, ex->nest_fk[k], pt->name,
					    pt->src_spec.columns[ex->nest_key], t->types[fk],
					    ptt->types[ex->nest_key]);
		const struct index_desc *cpk = table_desc_primary(&ct->src);
		ex->nest[k] =
			(struct nest_child){.name = ct->name,
					    .spec = &ct->src_spec,
					    .order = cpk && !cpk->expression ? cpk->cols : NULL,
					    .norder = cpk && !cpk->expression ? cpk->ncols : 0,
					    .xf = t->xf,
					    .bits = t->bits,
					    .cols = t->cols,
					    .fk = fk};
	}
	return true;
}

/* Append s as a JSON string. */
static void json_str(struct buf *b, const char *s)
{
	buf_catc(b, '"');
	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			buf_catf(b, "\\%c", c);
		else if (c < 0x20)
			buf_catf(b, "\\u%04x", c);
		else
			buf_catc(b, (char)c);
	}
	buf_catc(b, '"');
}

/* --manifest: per file its table, rows, bytes, sha256, the snapshot's
 * time, the columns and their source types; written whole (temporary,
 * rename) like the data files. */
static bool write_manifest(struct export *ex, struct sl_error *err)
{
	struct buf b;
	buf_init(&b, 0);
	char red[512];
	url_redact(ex->job->from, red, sizeof red);
	buf_cat(&b, "{\n  \"source\": ");
	json_str(&b, red);
	buf_cat(&b, ",\n  \"snapshot_at\": ");
	json_str(&b, ex->snapshot_at);
	buf_catf(&b, ",\n  \"format\": \"%s\",\n  \"compression\": %s,\n  \"files\": [",
		 reader_format_name(ex->opt.format), ex->opt.gzip ? "\"gzip\"" : "null");
	for (int i = 0; i < ex->nfiles; i++) {
		const struct export_file *f = &ex->files[i];
		const struct copy_table *ct = &ex->plan.tables[f->table];
		const struct export_table *t = &ex->tables[f->table];
		const char *slash = strrchr(f->path, '/');
		buf_cat(&b, i ? ",\n    {\"file\": " : "\n    {\"file\": ");
		json_str(&b, slash ? slash + 1 : f->path);
		buf_cat(&b, ", \"table\": ");
		json_str(&b, ex->job->query ? ex->job->out_name : ct->name);
		if (f->rows == REPORT_UNKNOWN)
			buf_cat(&b, ", \"rows\": null");
		else
			buf_catf(&b, ", \"rows\": %llu", f->rows);
		buf_catf(
			&b,
			", \"bytes\": %llu, \"sha256\": \"%s\", \"kept\": %s,\n     \"columns\": [",
			f->bytes, f->sha256, f->kept ? "true" : "false");
		for (int c = 0; c < ct->src_spec.ncols; c++) {
			buf_cat(&b, c ? ", {\"name\": " : "{\"name\": ");
			json_str(&b, t->cols[c].name);
			buf_cat(&b, ", \"type\": ");
			if (t->types[c])
				json_str(&b, t->types[c]);
			else
				buf_cat(&b, "null");
			buf_catc(&b, '}');
		}
		buf_cat(&b, "]}");
	}
	buf_cat(&b, "\n  ]\n}\n");
	if (buf_failed(&b)) {
		buf_free(&b);
		return sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
	}
	struct sink *s;
	bool ok = sink_open(&s, ex->job->manifest, NULL, err);
	if (ok && !sink_write(s, b.data, b.len, err)) {
		sink_abort(s);
		ok = false;
	} else if (ok) {
		ok = sink_commit(s, NULL, NULL, err);
	}
	buf_free(&b);
	return ok;
}

/* --dry-run with --nest: each child's query, merged into the parent's. */
static bool print_nest_plan(struct export *ex, struct sl_error *err)
{
	for (int k = 0; k < ex->nnest; k++) {
		const struct nest_child *c = &ex->nest[k];
		struct read_range range = {.key = c->spec->columns[c->fk],
					   .ordered = true,
					   .bytewise = ex->nest_bytewise,
					   .then = c->order,
					   .nthen = c->norder};
		struct buf q;
		buf_init(&q, 0);
		if (!sql_select(ex->from->dialect, &q, c->spec, &range, NULL)) {
			buf_free(&q);
			return sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
		}
		printf("-- nested in each row as \"%s\" (%d columns)\n%s;\n", c->name,
		       c->spec->ncols, buf_str(&q));
		buf_free(&q);
	}
	return true;
}

/* --dry-run: the files and the queries that fill them. */
static bool print_plan(struct export *ex, struct sl_error *err)
{
	for (int i = 0; i < ex->plan.ntables; i++) {
		struct copy_table *ct = &ex->plan.tables[i];
		struct export_table *t = &ex->tables[i];
		char path[4200];
		part_path(t, ex->split ? 1 : 0, path, sizeof path);
		struct buf q;
		buf_init(&q, 0);
		struct read_range range = {0};
		if (ex->split && t->key >= 0)
			range = (struct read_range){.key = ct->src_spec.columns[t->key],
						    .ordered = true};
		if (ex->nnest)
			range = (struct read_range){.key = ct->src_spec.columns[ex->nest_key],
						    .ordered = true,
						    .bytewise = ex->nest_bytewise};
		bool ok = ex->job->query
				  ? buf_puts(&q, ex->job->query)
				  : sql_select(ex->from->dialect, &q, &ct->src_spec, &range, NULL);
		if (!ok) {
			buf_free(&q);
			return sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
		}
		printf("-- export %s -> %s%s (%d columns)\n%s;\n",
		       ex->job->query ? ex->job->out_name : ct->name, path,
		       ex->split ? " and further parts" : "", ct->src_spec.ncols, buf_str(&q));
		buf_free(&q);
	}
	return print_nest_plan(ex, err);
}

/* How many key ranges table ti is read in at once, into its one file:
 * with several workers, a single integer key and rows enough; one when it
 * goes to stdout, in parts, or is kept by --resume. Sets t->nsegs. */
static bool plan_segments(struct export *ex, int ti, long long *lo, long long *hi,
			  struct sl_error *err)
{
	const struct job *job = ex->job;
	struct copy_table *ct = &ex->plan.tables[ti];
	struct export_table *t = &ex->tables[ti];
	char path[4200];
	t->nsegs = 1;
	if (ex->nworkers < 2 || ex->split || job->query || t->key < 0 || !strcmp(t->base, "-"))
		return true;
	part_path(t, 0, path, sizeof path);
	if (job->resume && file_exists(path))
		return true;
	unsigned long long rows = ct->src.rows_estimate;
	bool empty = true;
	if (!driver_key_bounds(ex->plan.src, &ct->src_spec, ct->src_spec.columns[t->key],
			       copy_rows_known(&ct->src) ? NULL : &rows, &empty, lo, hi, err))
		return false;
	unsigned long long n = rows / EXPORT_SEG_MIN_ROWS;
	if (n > (unsigned long long)ex->nworkers)
		n = (unsigned long long)ex->nworkers;
	/* (the key's span in unsigned arithmetic: it may pass LLONG_MAX) */
	unsigned long long span = (unsigned long long)*hi - (unsigned long long)*lo;
	if (!empty && n >= 2 && span >= n - 1)
		t->nsegs = (int)n;
	return true;
}

/* The units of work: each table whole, or its key ranges (plan_segments);
 * the snapshot holds every range, so together they are the table's rows. */
static bool plan_units(struct export *ex, struct sl_error *err)
{
	int cap = ex->plan.ntables + 1;
	ex->units = calloc((size_t)cap, sizeof *ex->units);
	if (!ex->units)
		return sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
	for (int ti = 0; ti < ex->plan.ntables; ti++) {
		struct export_table *t = &ex->tables[ti];
		long long lo = 0, hi = 0;
		if (!plan_segments(ex, ti, &lo, &hi, err))
			return false;
		if (ex->nunits + t->nsegs > cap) {
			cap = ex->nunits + t->nsegs + ex->plan.ntables;
			struct export_unit *n = realloc(ex->units, (size_t)cap * sizeof *n);
			if (!n)
				return sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
			ex->units = n;
		}
		if (t->nsegs == 1) {
			ex->units[ex->nunits++] = (struct export_unit){.table = ti};
			continue;
		}
		t->segs = calloc((size_t)t->nsegs, sizeof *t->segs);
		if (!t->segs)
			return sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
		t->segs_left = t->nsegs;
		/* ranges of equal width over [lo, hi]; the last open above */
		unsigned long long width =
			((unsigned long long)hi - (unsigned long long)lo) / (unsigned)t->nsegs + 1;
		for (int k = 0; k < t->nsegs; k++) {
			long long a = (long long)((unsigned long long)lo + (unsigned)k * width);
			ex->units[ex->nunits++] = (struct export_unit){
				.table = ti,
				.seg = k,
				.range = {.key = ex->plan.tables[ti].src_spec.columns[t->key],
					  .bounded = true,
					  .lo = a,
					  .hi = (long long)((unsigned long long)a + width),
					  .hi_open = k + 1 == t->nsegs}};
		}
		log_info("%s: %d key ranges read at once into one file", ex->plan.tables[ti].name,
			 t->nsegs);
	}
	return true;
}

/* Every table with nworkers threads, each on its reader connection. */
static void export_all(struct export *ex)
{
	pthread_t threads[64];
	struct worker_arg args[64];
	int started = 0;
	for (int i = 0; i < ex->nworkers; i++)
		args[i] = (struct worker_arg){.ex = ex, .c = ex->readers[i]};
	if (ex->nworkers == 1) {
		worker_main(&args[0]);
		return;
	}
	for (; started < ex->nworkers; started++)
		if (pthread_create(&threads[started], NULL, worker_main, &args[started]) != 0)
			break;
	if (!started)
		worker_main(&args[0]);
	for (int i = 0; i < started; i++)
		pthread_join(threads[i], NULL);
}

enum run_status export_run(const struct job *job)
{
	struct export ex = {.job = job, .status = RUN_OK};
	struct sl_error err;
	sl_error_clear(&err);
	ex.report.started = wall_seconds();
	pthread_mutex_init(&ex.lock, NULL);
	signals_install();
	ex.from = driver_for_url(job->from);
	ex.split = job->split_rows || job->max_file_bytes;
	ex.plan = (struct copy){.job = job, .from = ex.from, .to = ex.from, .exporting = true};
	struct conn_options copts = {.timeout = job->timeout};
	if (!ex.from) {
		driver_unknown_url(job->from, &err);
		goto failed;
	}
	if (job->query && !job->out_name) {
		sl_error_set(&err, SL_ERR_USAGE, "--query needs --name, the name of its rows");
		goto failed;
	}
	if (!report_check_output("--summary-json", job->summary_json, &err) ||
	    !report_check_output("--metrics-file", job->metrics_file, &err) ||
	    !choose_dest(&ex, &err) || !choose_format(&ex, &err) ||
	    (job->nnest && !parse_nest(&ex, job->nest, job->nnest, &err)))
		goto failed;
	ex.nworkers = job->workers > 1 ? (job->workers > 64 ? 64 : job->workers) : 1;
	if (!ex.from->conn.connect(job->from, &copts, &ex.plan.src, &err))
		goto failed;
	if (job->query) {
		ex.plan.tables = calloc(1, sizeof *ex.plan.tables);
		if (!ex.plan.tables || !(ex.plan.tables[0].name = strdup(job->out_name))) {
			sl_error_set(&err, SL_ERR_INTERNAL, "out of memory");
			goto failed;
		}
		ex.plan.ntables = 1;
	} else if (!copy_choose_tables(&ex.plan, &err)) {
		goto failed;
	}
	if (ex.nworkers > ex.plan.ntables && (job->query || ex.split || !strcmp(job->dest, "-")))
		ex.nworkers = ex.plan.ntables; /* a worker per table at most */
	ex.tables = calloc((size_t)ex.plan.ntables, sizeof *ex.tables);
	ex.stats = calloc((size_t)ex.plan.ntables, sizeof *ex.stats);
	ex.nreaders = ex.nworkers + ex.nnest;
	ex.readers = calloc((size_t)ex.nreaders, sizeof *ex.readers);
	if (!ex.tables || !ex.stats || !ex.readers) {
		sl_error_set(&err, SL_ERR_INTERNAL, "out of memory");
		goto failed;
	}
	/* the snapshot before the catalog: the columns are the rows' */
	if (!snapshot_share(ex.from, job->from, job->timeout, ex.plan.src, ex.readers, ex.nreaders,
			    "exporting", &err))
		goto failed;
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	strftime(ex.snapshot_at, sizeof ex.snapshot_at, "%Y-%m-%dT%H:%M:%SZ", &tm);
	for (int i = 0; i < ex.plan.ntables; i++)
		if (!plan_table(&ex, &ex.plan.tables[i], &ex.tables[i], &err))
			goto failed;
	if (ex.nnest && !plan_nest(&ex, &err))
		goto failed;
	if (!ex.to_dir && ex.plan.ntables > 1) {
		sl_error_set(&err, SL_ERR_USAGE, "%d tables go to a directory, not the file %s",
			     ex.plan.ntables, job->dest);
		goto failed;
	}
	if (!plan_units(&ex, &err))
		goto failed;
	if (job->dry_run) {
		if (!print_plan(&ex, &err))
			goto failed;
		fflush(stdout);
		goto done;
	}
	struct progress_view view = {.table = ex.plan.ntables == 1 ? ex.plan.tables[0].name
								   : "export",
				     .live = &ex.live,
				     .total_bytes = -1,
				     .start = now_seconds(),
				     .target = job->from};
	struct progress *progress = NULL;
	progress_start(&progress, job->progress, job->stats_interval, job->quiet, &view);
	export_all(&ex);
	progress_stop(progress);
	if (ex.status == RUN_OK && signals_caught())
		ex.status = RUN_INTERRUPTED;
	if (ex.status == RUN_OK && job->manifest && !write_manifest(&ex, &err))
		goto failed;
	if (ex.status == RUN_INTERRUPTED) {
		char msg[300];
		snprintf(msg, sizeof msg,
			 "interrupted by %s: the files written whole are in place, the one being "
			 "written is not; run again with --resume to keep them",
			 signals_name());
		log_result("%s", msg); /* what the operator asked for: no error */
		report_add_error(&ex.report, msg);
	}
	goto finish;
failed:
	if (err.kind != SL_ERR_INTERRUPTED) {
		log_error("%s", err.msg);
		report_add_error(&ex.report, err.msg);
	}
	ex.status = signals_caught()	       ? RUN_INTERRUPTED
		    : err.kind == SL_ERR_USAGE ? RUN_USAGE
					       : RUN_FAILED;
finish:
	ex.report.status = ex.status;
	ex.report.tables = ex.stats;
	ex.report.ntables = ex.stats ? ex.plan.ntables : 0;
	ex.status = report_finish(&ex.report, job, ex.status);
done:;
	enum run_status status = ex.status;
	for (int i = 0; i < ex.report.nerrors; i++)
		free(ex.report.errors[i]);
	for (int i = 0; ex.readers && i < ex.nreaders; i++)
		if (ex.readers[i] && ex.readers[i] != ex.plan.src)
			ex.from->conn.close(ex.readers[i]);
	for (int i = 0; ex.tables && i < ex.plan.ntables; i++) {
		free(ex.tables[i].cols);
		free(ex.tables[i].types);
		free(ex.tables[i].xf);
		free(ex.tables[i].bits);
		free(ex.tables[i].kinds);
		for (int k = 0; ex.tables[i].segs && k < ex.tables[i].nsegs; k++)
			output_abort(ex.tables[i].segs[k]); /* a failed run's */
		free(ex.tables[i].segs);
		struct copy_table *ct = &ex.plan.tables[i];
		if (job->query) {
			for (int c = 0; c < ct->src_spec.ncols; c++)
				free(ct->src_spec.columns[c]);
			free((char **)ct->src_spec.columns);
			ct->src_spec.columns = NULL;
			ct->src_spec.ncols = 0;
		}
	}
	for (int i = 0; i < ex.plan.ntables; i++)
		copy_table_free(&ex.plan.tables[i]);
	for (int k = 0; ex.nest_ct && k < ex.nnest; k++) {
		free(ex.nest_t[k].cols);
		free(ex.nest_t[k].types);
		free(ex.nest_t[k].xf);
		free(ex.nest_t[k].bits);
		free(ex.nest_t[k].kinds);
		free(ex.nest_fk[k]);
		copy_table_free(&ex.nest_ct[k]);
	}
	free(ex.nest_ct);
	free(ex.nest_t);
	free(ex.nest);
	free(ex.nest_fk);
	free(ex.plan.tables);
	free(ex.tables);
	free(ex.stats);
	free(ex.readers);
	free(ex.files);
	free(ex.units);
	if (ex.plan.src)
		ex.from->conn.close(ex.plan.src);
	pthread_mutex_destroy(&ex.lock);
	return status;
}
