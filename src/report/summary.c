/* src/report/summary.c
 * The final summary, as text on stderr and as JSON (see include/sluice/report.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sluice/buf.h"
#include "sluice/report.h"

double now_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void report_add_error(struct run_report *rep, const char *msg)
{
	if (rep->nerrors < REPORT_MAX_ERRORS)
		rep->errors[rep->nerrors++] = strdup(msg);
}

const char *run_status_name(enum run_status s)
{
	switch (s) {
	case RUN_OK:
		return "ok";
	case RUN_PARTIAL:
		return "partial";
	case RUN_INTERRUPTED:
		return "interrupted";
	default:
		return "failed";
	}
}

void report_format_pool(char *out, size_t n, const struct pool_stats *s)
{
	snprintf(out, n,
		 "pool: total %d, idle %d, busy %d, waiting %d, created %llu, closed %llu, "
		 "acquires %llu, acquire wait mean %.1f ms max %.1f ms, errors %llu, reconnects "
		 "%llu",
		 s->total, s->idle, s->busy, s->waiting, (unsigned long long)s->created,
		 (unsigned long long)s->closed, (unsigned long long)s->acquires,
		 s->acquire_wait_mean * 1000, s->acquire_wait_max * 1000,
		 (unsigned long long)s->errors, (unsigned long long)s->reconnects);
}

void report_print(FILE *f, const struct run_report *rep)
{
	bool skipped = false, blank = false, zero = false, resumed = false;
	for (int i = 0; i < rep->ntables; i++) {
		resumed |= rep->tables[i].rows_resumed > 0 || rep->tables[i].files_skipped > 0;
		skipped |= rep->tables[i].rows_skipped > 0;
		blank |= rep->tables[i].blank_lines > 0;
		zero |= rep->tables[i].zero_dates > 0;
	}
	fprintf(f, "sluice: %-20s %10s %10s %9s %9s", "table", "read", "written", "rejected",
		"not found");
	if (skipped)
		fprintf(f, " %9s", "skipped");
	if (blank)
		fprintf(f, " %9s", "blank");
	if (zero)
		fprintf(f, " %10s", "zero dates");
	if (resumed)
		fprintf(f, " %9s %7s", "resumed", "files");
	fprintf(f, " %9s %8s %10s\n", "MB", "seconds", "rows/s");
	for (int i = 0; i < rep->ntables; i++) {
		const struct table_stats *t = &rep->tables[i];
		double rate = t->seconds > 0 ? (double)t->rows_written / t->seconds : 0;
		fprintf(f, "sluice: %-20s %10llu %10llu %9llu %9llu", t->table,
			(unsigned long long)t->rows_read, (unsigned long long)t->rows_written,
			(unsigned long long)t->rows_rejected,
			(unsigned long long)t->rows_not_found);
		if (skipped)
			fprintf(f, " %9llu", (unsigned long long)t->rows_skipped);
		if (blank)
			fprintf(f, " %9llu", (unsigned long long)t->blank_lines);
		if (zero)
			fprintf(f, " %10llu", (unsigned long long)t->zero_dates);
		if (resumed)
			fprintf(f, " %9llu %7llu", (unsigned long long)t->rows_resumed,
				(unsigned long long)t->files_skipped);
		fprintf(f, " %9.1f %8.2f %10.0f\n", (double)t->bytes / 1e6, t->seconds, rate);
	}
	if (rep->has_pool) {
		char line[512];
		report_format_pool(line, sizeof line, &rep->pool);
		fprintf(f, "sluice: %s\n", line);
	}
	if (rep->commit_mode)
		fprintf(f, "sluice: commits: %s\n", rep->commit_mode);
	fprintf(f, "sluice: status %s\n", run_status_name(rep->status));
}

/* Append s as a JSON string. */
static void json_string(struct buf *b, const char *s)
{
	buf_putc(b, '"');
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			buf_printf(b, "\\%c", *p);
		else if (*p < 0x20)
			buf_printf(b, "\\u%04x", *p);
		else
			buf_putc(b, (char)*p);
	}
	buf_putc(b, '"');
}

bool report_write_json(const char *path, const struct run_report *rep, struct sl_error *err)
{
	struct buf b;
	buf_init(&b, 0);
	/* usage errors are "failed" too: the run did not start */
	buf_printf(&b, "{\"status\": \"%s\", \"tables\": [", run_status_name(rep->status));
	for (int i = 0; i < rep->ntables; i++) {
		const struct table_stats *t = &rep->tables[i];
		buf_puts(&b, i ? ", {\"table\": " : "{\"table\": ");
		json_string(&b, t->table);
		buf_printf(
			&b,
			", \"rows_read\": %llu, \"rows_written\": %llu, \"rows_rejected\": %llu, "
			"\"rows_not_found\": %llu, \"rows_skipped\": %llu, \"blank_lines\": %llu, "
			"\"zero_dates_nulled\": %llu, \"rows_resumed\": %llu, \"files_skipped\": "
			"%llu, "
			"\"bytes\": %llu, \"seconds\": %.3f}",
			(unsigned long long)t->rows_read, (unsigned long long)t->rows_written,
			(unsigned long long)t->rows_rejected, (unsigned long long)t->rows_not_found,
			(unsigned long long)t->rows_skipped, (unsigned long long)t->blank_lines,
			(unsigned long long)t->zero_dates, (unsigned long long)t->rows_resumed,
			(unsigned long long)t->files_skipped, (unsigned long long)t->bytes,
			t->seconds);
	}
	buf_puts(&b, "], \"pool\": {");
	if (rep->has_pool) {
		const struct pool_stats *p = &rep->pool;
		buf_printf(&b,
			   "\"total\": %d, \"idle\": %d, \"busy\": %d, \"waiting\": %d, "
			   "\"created\": %llu, \"closed\": %llu, \"acquires\": %llu, "
			   "\"acquire_wait_mean_ms\": %.3f, \"acquire_wait_max_ms\": %.3f, "
			   "\"errors\": %llu, \"reconnects\": %llu",
			   p->total, p->idle, p->busy, p->waiting, (unsigned long long)p->created,
			   (unsigned long long)p->closed, (unsigned long long)p->acquires,
			   p->acquire_wait_mean * 1000, p->acquire_wait_max * 1000,
			   (unsigned long long)p->errors, (unsigned long long)p->reconnects);
	}
	buf_puts(&b, "}, \"commit_mode\": ");
	if (rep->commit_mode)
		json_string(&b, rep->commit_mode);
	else
		buf_puts(&b, "null");
	buf_puts(&b, ", \"errors\": [");
	for (int i = 0; i < rep->nerrors; i++) {
		if (i)
			buf_puts(&b, ", ");
		json_string(&b, rep->errors[i]);
	}
	buf_puts(&b, "]}\n");
	if (!b.data) /* the buffer could not grow: never a silently short summary */
		return sl_error_set(err, SL_ERR_INTERNAL,
				    "cannot write the summary %s: out of memory", path);
	bool to_stdout = !strcmp(path, "-");
	FILE *f = to_stdout ? stdout : fopen(path, "w");
	if (!f) {
		buf_free(&b);
		return sl_error_set(err, SL_ERR_USAGE, "cannot write %s: %s", path,
				    strerror(errno));
	}
	/* every step checked: a full disk or a closed pipe (EPIPE: SIGPIPE is
	 * ignored) is a failed summary, not a shorter one */
	errno = 0;
	bool ok = fwrite(b.data, 1, b.len, f) == b.len;
	ok = fflush(f) == 0 && ok;
	int e = errno;
	if (!to_stdout && fclose(f) != 0 && ok) {
		ok = false;
		e = errno;
	}
	buf_free(&b);
	if (!ok)
		return sl_error_set(err, SL_ERR_INTERNAL, "cannot write the summary %s: %s",
				    to_stdout ? "to stdout (-)" : path, strerror(e ? e : EIO));
	return true;
}

void report_free(struct run_report *rep)
{
	free(rep->tables);
	for (int i = 0; i < rep->nerrors; i++)
		free(rep->errors[i]);
	memset(rep, 0, sizeof *rep);
}
