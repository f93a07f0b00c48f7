/* src/pipeline/jobs.c
 * sluice checkpoints: what the checkpoint table of a target holds, a line
 * per job and source (batches, rows, whole or not, when), and
 * --forget, which deletes a job's rows so its next --resume run starts over.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sluice/buf.h"
#include "sluice/checkpoint.h"
#include "sluice/driver.h"
#include "sluice/job.h"
#include "sluice/log.h"
#include "sluice/sql.h"
#include "sluice/url.h"

struct listing {
	const char *job; /* --job, or NULL for every job */
	bool print;	 /* print the lines (not when forgetting) */
	unsigned long long lines, batches, marks;
};

/* One group: job, source, batches, rows, whole, first, last. */
static bool print_line(void *ctx, char *const *v, int n)
{
	struct listing *l = ctx;
	if (n < 7 || !v[0] || !v[1] || (l->job && strcmp(v[0], l->job)))
		return true;
	l->lines++;
	l->batches += v[2] ? strtoull(v[2], NULL, 10) : 0;
	if (!l->print)
		return true;
	bool whole = v[4] && atoll(v[4]) > 0;
	printf("%s\t%s\t%s\t%s\t%s\t", v[0], v[1], v[2] ? v[2] : "0", v[3] ? v[3] : "0",
	       whole ? "whole" : "partial");
	/* the timestamps to the second, in UTC (sluice's writer sessions run
	 * in UTC on both servers), said so by the Z of ISO 8601 */
	char a[20] = "", b[20] = "";
	snprintf(a, sizeof a, "%.19s", v[5] ? v[5] : "");
	snprintf(b, sizeof b, "%.19s", v[6] ? v[6] : "");
	if (strlen(a) == 19)
		a[10] = 'T';
	if (strlen(b) == 19)
		b[10] = 'T';
	printf("%s%s\t%s%s\n", a, a[0] ? "Z" : "", b, b[0] ? "Z" : "");
	return true;
}

/* One watermark row (job, source, mark, committed_at) of copy
 * --incremental: its cursor and key, under a header of their own. */
static bool print_mark(void *ctx, char *const *v, int n)
{
	struct listing *l = ctx;
	if (n < 4 || !v[0] || !v[1] || !v[2] || (l->job && strcmp(v[0], l->job)))
		return true;
	char *cursor = NULL, *key = NULL;
	if (!watermark_decode(v[2], &cursor, &key))
		return true;
	if (!l->marks++)
		printf("\njob\tsource\twatermark_cursor\twatermark_key\tcommitted_at\n");
	char at[20] = "";
	snprintf(at, sizeof at, "%.19s", v[3] ? v[3] : "");
	if (strlen(at) == 19)
		at[10] = 'T';
	printf("%s\t%s\t%s\t%s\t%s%s\n", v[0], v[1], cursor, key, at, at[0] ? "Z" : "");
	free(cursor);
	free(key);
	return true;
}

enum run_status checkpoints_run(const struct job *job)
{
	char red[512];
	url_redact(job->target, red, sizeof red);
	const struct driver *drv = driver_for_url(job->target);
	if (!drv) {
		struct sl_error e;
		driver_unknown_url(job->target, &e);
		log_error("%s", e.msg);
		return RUN_USAGE;
	}
	char *schema = NULL, *name = NULL;
	if (!sql_split_table(job->checkpoint_table ? job->checkpoint_table : "sluice_checkpoints",
			     &schema, &name)) {
		log_error("bad --checkpoint-table name '%s'", job->checkpoint_table);
		return RUN_USAGE;
	}
	struct write_spec spec = {.schema = schema, .table = name};
	struct sl_error err;
	sl_error_clear(&err);
	struct conn *c = NULL;
	struct table_desc td = {0};
	struct buf sql;
	buf_init(&sql, 0);
	struct listing l = {.job = job->job_name, .print = !job->forget};
	enum run_status st = RUN_FAILED;
	if (!drv->conn.connect(job->target, &(struct conn_options){.timeout = job->timeout}, &c,
			       &err) ||
	    !drv->catalog.describe_table(c, &spec, &td, &err))
		goto out;
	if (!td.exists) {
		log_info("%s has no checkpoint table %s%s%s: no job has run with --resume there",
			 red, schema ? schema : "", schema ? "." : "", name);
		st = RUN_OK;
		goto out;
	}
	/* the whole table, grouped, and filtered here: a job's name never goes
	 * into SQL text; a table an earlier version made has no kind column
	 * (checkpoint.c) */
	bool has_kind = false;
	for (int i = 0; i < td.ncols; i++)
		has_kind |= !strcmp(td.cols[i].name, "kind");
	if (!sql_checkpoint_jobs(drv->dialect, &sql, &spec, has_kind)) {
		sl_error_set(&err, SL_ERR_INTERNAL, "out of memory");
		goto out;
	}
	if (l.print)
		printf("job\tsource\tbatches\trows\tstate\tfirst_commit\tlast_commit\n");
	if (!drv->conn.query_each(c, sql.data, print_line, &l, &err))
		goto out;
	/* copy --incremental's watermarks, where the table has their column */
	bool has_mark = false;
	for (int i = 0; i < td.ncols; i++)
		has_mark |= !strcmp(td.cols[i].name, "mark");
	buf_reset(&sql);
	if (l.print && has_mark && has_kind) {
		if (!sql_checkpoint_marks(drv->dialect, &sql, &spec)) {
			sl_error_set(&err, SL_ERR_INTERNAL, "out of memory");
			goto out;
		}
		if (!drv->conn.query_each(c, sql.data, print_mark, &l, &err))
			goto out;
	}
	if (fflush(stdout) != 0 || ferror(stdout)) {
		sl_error_set(&err, SL_ERR_INTERNAL, "cannot write the listing");
		goto out;
	}
	if (!job->forget) {
		if (!l.lines && job->job_name)
			log_info("no checkpoints of job '%s'", job->job_name);
		st = RUN_OK;
		goto out;
	}
	if (!l.lines) {
		log_warn("no checkpoints of job '%s': nothing to forget", job->job_name);
		st = RUN_OK;
		goto out;
	}
	buf_reset(&sql);
	const char *values[1] = {job->job_name};
	if (!sql_checkpoint_forget(drv->dialect, &sql, &spec)) {
		sl_error_set(&err, SL_ERR_INTERNAL, "out of memory");
		goto out;
	}
	if (!drv->conn.exec_params(c, sql.data, 1, values, &err))
		goto out;
	log_info("forgot job '%s': %llu sources, %llu batches; its next --resume run starts over",
		 job->job_name, l.lines, l.batches);
	st = RUN_OK;
out:
	if (st == RUN_FAILED) {
		log_error("%s", err.msg);
		if (err.kind == SL_ERR_USAGE)
			st = RUN_USAGE;
	}
	table_desc_free(&td);
	buf_free(&sql);
	if (c)
		drv->conn.close(c);
	free(schema);
	free(name);
	return st;
}
