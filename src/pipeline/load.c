/* src/pipeline/load.c
 * The load pipeline: readers fill batches; each batch is written in its own
 * transaction (or all in one with --single-transaction). A batch the server
 * refuses is rolled back and retried in halves until the bad rows are
 * isolated, so the good rows commit and each bad one becomes a reject.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sluice/driver.h"
#include "sluice/job.h"
#include "sluice/log.h"
#include "sluice/rejects.h"
#include "sluice/report.h"
#include "sluice/url.h"

struct load {
	const struct job *job;
	const struct driver *drv;
	struct conn *conn;
	struct write_spec spec;
	char *schema, *table;
	char **columns;       /* the target columns, in record order */
	int ncols;
	bool own_columns;     /* columns were allocated here */
	struct rejects *rejects;
	struct table_stats *stats;
	struct run_report *report;
	struct sl_error err;  /* the error that stopped the run */
	bool failed;
	bool limit_hit;       /* --max-errors reached */
};

/* The table a file loads into when --table is absent: its name without
 * directories or extensions ("data/users.csv.gz" -> "users"). */
static char *table_from_path(const char *path)
{
	const char *base = strrchr(path, '/');
	base = base ? base + 1 : path;
	size_t n = strcspn(base, ".");
	if (n == 0)
		return NULL;
	char *t = malloc(n + 1);
	if (t) {
		memcpy(t, base, n);
		t[n] = '\0';
	}
	return t;
}

/* A CSV header line for the rejects file, quoting names where needed. */
static char *header_line(char *const *names, int n, char delim)
{
	struct buf b;
	buf_init(&b, 0);
	for (int i = 0; i < n; i++) {
		if (i)
			buf_putc(&b, delim);
		if (strpbrk(names[i], "\",\n\r") || strchr(names[i], delim)) {
			buf_putc(&b, '"');
			for (const char *p = names[i]; *p; p++) {
				if (*p == '"')
					buf_putc(&b, '"');
				buf_putc(&b, *p);
			}
			buf_putc(&b, '"');
		} else {
			buf_puts(&b, names[i]);
		}
	}
	char *s = b.data ? b.data : strdup("");
	return s;
}

static void count_reject(struct load *ld, const char *source, long line, const char *raw,
			 size_t raw_len, const char *reason)
{
	rejects_add(ld->rejects, source, line, raw, raw_len, reason);
	ld->stats->rows_rejected++;
	if (ld->job->max_errors >= 0 && (long)ld->stats->rows_rejected > ld->job->max_errors &&
	    !ld->limit_hit) {
		ld->limit_hit = true;
		ld->failed = true;
		sl_error_set(&ld->err, SL_ERR_DATA, "stopped after %llu rejected rows (--max-errors %ld)",
			     (unsigned long long)ld->stats->rows_rejected, ld->job->max_errors);
	}
}

/* Write rows [first, first+n) of b; on a refused value, bisect. Returns false
 * when the run cannot go on (ld->err set). */
static bool write_range(struct load *ld, const struct batch *b, size_t first, size_t n)
{
	struct sl_error err;
	sl_error_clear(&err);
	bool single = ld->job->single_transaction;
	bool ok = (single || ld->drv->begin(ld->conn, &err)) &&
		  ld->drv->write_batch(ld->conn, &ld->spec, b, first, n, &err) &&
		  (single || ld->drv->commit(ld->conn, &err));
	if (ok) {
		ld->stats->rows_written += n;
		return true;
	}
	if (single || err.kind != SL_ERR_DATA) {
		ld->err = err;
		ld->failed = true;
		return false;
	}
	struct sl_error rb;
	if (!ld->drv->rollback(ld->conn, &rb)) {
		ld->err = rb;
		ld->failed = true;
		return false;
	}
	if (n == 1) {
		const struct row_meta *m = &b->meta[first];
		count_reject(ld, ld->job->sources[m->source], m->line, m->raw, m->raw_len, err.msg);
		return !ld->limit_hit;
	}
	size_t half = n / 2;
	return write_range(ld, b, first, half) && write_range(ld, b, first + half, n - half);
}

static bool flush_batch(struct load *ld, struct batch *b)
{
	bool ok = true;
	if (b->nrows && !ld->job->dry_run)
		ok = write_range(ld, b, 0, b->nrows);
	else if (b->nrows)
		ld->stats->rows_written += 0; /* a dry run writes nothing */
	batch_reset(b);
	return ok;
}

/* Decide the target columns from --columns, the header, or the table. */
static bool resolve_columns(struct load *ld, struct reader *r)
{
	const struct job *job = ld->job;
	char *const *names = job->ncolumns ? job->columns : r->header;
	int n = job->ncolumns ? job->ncolumns : r->nheader;
	if (n) {
		/* a copy: the reader that owns the header closes before the run ends */
		ld->columns = calloc((size_t)n, sizeof *ld->columns);
		if (!ld->columns)
			return sl_error_set(&ld->err, SL_ERR_INTERNAL, "out of memory");
		ld->own_columns = true;
		for (int i = 0; i < n; i++) {
			ld->columns[i] = strdup(names[i]);
			if (!ld->columns[i])
				return sl_error_set(&ld->err, SL_ERR_INTERNAL, "out of memory");
			ld->ncols = i + 1;
		}
	} else {
		struct table_desc td;
		if (!ld->conn)
			return sl_error_set(&ld->err, SL_ERR_USAGE,
					    "no header and no --columns: name the columns with --columns");
		if (!ld->drv->describe_table(ld->conn, &ld->spec, &td, &ld->err))
			return false;
		if (!td.exists) {
			table_desc_free(&td);
			return sl_error_set(&ld->err, SL_ERR_USAGE, "table %s does not exist",
					    ld->table);
		}
		ld->columns = calloc((size_t)td.ncols, sizeof *ld->columns);
		if (!ld->columns) {
			table_desc_free(&td);
			return sl_error_set(&ld->err, SL_ERR_INTERNAL, "out of memory");
		}
		for (int i = 0; i < td.ncols; i++) {
			ld->columns[i] = td.cols[i].name;
			td.cols[i].name = NULL;
		}
		ld->ncols = td.ncols;
		ld->own_columns = true;
		table_desc_free(&td);
	}
	ld->spec.columns = ld->columns;
	ld->spec.ncols = ld->ncols;
	return true;
}

/* Print the statements a real run would send. */
static void print_dry_run(struct load *ld)
{
	struct buf b;
	buf_init(&b, 0);
	const struct dialect *d = ld->drv->dialect;
	if (ld->job->truncate) {
		sql_truncate(d, &b, &ld->spec);
		buf_puts(&b, ";\n");
	}
	if (ld->spec.method == METHOD_COPY) {
		pg_copy_sql(&b, &ld->spec);
		buf_puts(&b, ";\n");
	} else if (ld->spec.method == METHOD_INFILE) {
		buf_puts(&b, "LOAD DATA LOCAL INFILE ... INTO TABLE ");
		sql_table_name(d, &b, &ld->spec);
		buf_putc(&b, ' ');
		sql_column_list(d, &b, &ld->spec);
		buf_puts(&b, ";\n");
	} else {
		size_t per = sql_rows_per_statement(d, ld->ncols, ld->spec.batch_rows);
		buf_printf(&b, "-- one statement per %zu rows, values sent as parameters\n", per);
		sql_insert(d, &b, &ld->spec, 1);
		buf_puts(&b, ";\n");
	}
	fputs(buf_str(&b), stdout);
	fflush(stdout);
	buf_free(&b);
}

/* Read every record of one source into batches. */
static bool load_source(struct load *ld, struct reader *r, int src_index, struct batch *b)
{
	const char *name = ld->job->sources[src_index];
	uint64_t last_pos = 0; /* the header was read ahead: count from the start */
	for (;;) {
		struct record rec;
		struct sl_error err;
		sl_error_clear(&err);
		enum read_status st = r->ops->next(r, &rec, &err);
		if (st == READ_EOF)
			break;
		if (st == READ_FAIL) {
			ld->err = err;
			sl_error_prefix(&ld->err, "%s", name);
			ld->failed = true;
			return false;
		}
		ld->stats->rows_read++;
		if (st == READ_REJECT) {
			count_reject(ld, name, rec.line, rec.raw, rec.raw_len, err.msg);
			if (ld->limit_hit)
				return false;
			continue;
		}
		if (!batch_add_row(b, &rec, src_index, true)) {
			ld->failed = true;
			sl_error_set(&ld->err, SL_ERR_INTERNAL, "%s:%ld: out of memory", name, rec.line);
			return false;
		}
		if (batch_full(b)) {
			uint64_t pos = source_position(r->src);
			b->bytes = pos - last_pos;
			ld->stats->bytes += b->bytes;
			last_pos = pos;
			if (!flush_batch(ld, b))
				return false;
		}
	}
	ld->stats->bytes += source_position(r->src) - last_pos;
	return true;
}

static bool connect_target(struct load *ld)
{
	if (!ld->drv->connect(ld->job->target, &ld->conn, &ld->err))
		return false;
	return true;
}

enum run_status load_run(const struct job *job)
{
	struct load ld = { .job = job };
	struct run_report report = { 0 };
	struct table_stats stats = { 0 };
	struct reader *r = NULL;
	struct batch b = { 0 };
	bool batch_ready = false;
	double t0 = now_seconds();
	enum run_status status = RUN_OK;

	ld.stats = &stats;
	ld.report = &report;
	report.tables = &stats;
	report.ntables = 1;
	sl_error_clear(&ld.err);

	ld.drv = driver_for_url(job->target);
	if (!ld.drv) {
		char red[512];
		url_redact(job->target, red, sizeof red);
		log_error("%s: not a postgresql:// or mysql:// URL", red);
		return RUN_USAGE;
	}
	/* the table */
	if (job->table) {
		if (!sql_split_table(job->table, &ld.schema, &ld.table)) {
			log_error("bad table name: %s", job->table);
			return RUN_USAGE;
		}
	} else if (job->nsources == 1 && strcmp(job->sources[0], "-")) {
		ld.table = table_from_path(job->sources[0]);
		if (!ld.table) {
			log_error("cannot name a table after %s: use --table", job->sources[0]);
			return RUN_USAGE;
		}
	} else {
		log_error("name the target table with --table");
		return RUN_USAGE;
	}
	snprintf(stats.table, sizeof stats.table, "%s%s%s", ld.schema ? ld.schema : "",
		 ld.schema ? "." : "", ld.table);
	ld.spec.schema = ld.schema;
	ld.spec.table = ld.table;
	ld.spec.method = job->method ? job->method : ld.drv->default_method;
	ld.spec.on_conflict = job->on_conflict;
	ld.spec.key = job->key;
	ld.spec.nkey = job->nkey;
	ld.spec.batch_rows = job->batch_rows;
	if (!ld.drv->supports(ld.spec.method)) {
		log_error("--method %s is not available for %s", method_name(ld.spec.method),
			  ld.drv->name);
		status = RUN_USAGE;
		goto out;
	}

	if (!rejects_open(&ld.rejects, job->rejects_path, &ld.err)) {
		status = RUN_USAGE;
		goto report_error;
	}
	if (!reader_open(&r, job->sources[0], &job->input, &ld.err)) {
		status = ld.err.kind == SL_ERR_USAGE ? RUN_USAGE : RUN_FAILED;
		goto report_error;
	}
	bool need_describe = !job->ncolumns && !r->nheader;
	if (!job->dry_run || need_describe) {
		if (!connect_target(&ld)) {
			status = RUN_FAILED;
			goto report_error;
		}
	}
	if (!resolve_columns(&ld, r) || !r->ops->set_columns(r, ld.columns, ld.ncols, &ld.err)) {
		status = ld.err.kind == SL_ERR_USAGE ? RUN_USAGE : RUN_FAILED;
		goto report_error;
	}
	if (r->format == FORMAT_CSV || r->format == FORMAT_TSV) {
		char *h = header_line(ld.columns, ld.ncols,
				      job->input.delimiter ? job->input.delimiter
							   : (r->format == FORMAT_TSV ? '\t' : ','));
		if (r->nheader)
			rejects_set_header(ld.rejects, h);
		free(h);
	}
	if (!batch_init(&b, ld.ncols, job->batch_rows)) {
		sl_error_set(&ld.err, SL_ERR_INTERNAL, "out of memory");
		status = RUN_FAILED;
		goto report_error;
	}
	batch_ready = true;

	if (job->dry_run) {
		print_dry_run(&ld);
	} else {
		struct buf sql;
		buf_init(&sql, 0);
		bool ok = true;
		if (job->single_transaction)
			ok = ld.drv->begin(ld.conn, &ld.err);
		if (ok && job->truncate) {
			sql_truncate(ld.drv->dialect, &sql, &ld.spec);
			ok = ld.drv->exec(ld.conn, sql.data, &ld.err);
		}
		buf_free(&sql);
		if (!ok) {
			status = RUN_FAILED;
			goto report_error;
		}
	}

	for (int i = 0; i < job->nsources && !ld.failed; i++) {
		if (i > 0) {
			reader_close(r);
			r = NULL;
			if (!reader_open(&r, job->sources[i], &job->input, &ld.err)) {
				ld.failed = true;
				break;
			}
			if (r->nheader && !job->ncolumns) {
				bool same = r->nheader == ld.ncols;
				for (int c = 0; same && c < ld.ncols; c++)
					same = !strcmp(r->header[c], ld.columns[c]);
				if (!same) {
					sl_error_set(&ld.err, SL_ERR_USAGE,
						     "%s: its header differs from %s's", job->sources[i],
						     job->sources[0]);
					ld.failed = true;
					break;
				}
			}
			if (!r->ops->set_columns(r, ld.columns, ld.ncols, &ld.err)) {
				ld.failed = true;
				break;
			}
		}
		if (!load_source(&ld, r, i, &b))
			break;
	}
	if (!ld.failed)
		flush_batch(&ld, &b);
	if (!ld.failed && job->single_transaction && !job->dry_run) {
		if (!ld.drv->commit(ld.conn, &ld.err))
			ld.failed = true;
	}
	if (ld.failed && job->single_transaction && ld.conn) {
		struct sl_error rb;
		ld.drv->rollback(ld.conn, &rb);
		stats.rows_written = 0;
	}
	stats.seconds = now_seconds() - t0;
	if (ld.failed) {
		status = ld.err.kind == SL_ERR_USAGE ? RUN_USAGE : RUN_FAILED;
		goto report_error;
	}
	status = stats.rows_rejected ? RUN_PARTIAL : RUN_OK;
	goto out;

report_error:
	stats.seconds = now_seconds() - t0;
	log_error("%s", ld.err.msg);
	report_add_error(&report, ld.err.msg);
out:
	report.status = status;
	if (status != RUN_USAGE && !job->quiet)
		report_print(stderr, &report);
	else if (status == RUN_FAILED)
		report_print(stderr, &report);
	if (job->summary_json) {
		struct sl_error jerr;
		if (!report_write_json(job->summary_json, &report, &jerr))
			log_error("%s", jerr.msg);
	}
	if (batch_ready)
		batch_free(&b);
	reader_close(r);
	if (ld.conn)
		ld.drv->close(ld.conn);
	rejects_close(ld.rejects);
	if (ld.own_columns) {
		for (int i = 0; i < ld.ncols; i++)
			free(ld.columns[i]);
		free(ld.columns);
	}
	free(ld.schema);
	free(ld.table);
	for (int i = 0; i < report.nerrors; i++)
		free(report.errors[i]);
	return status;
}
