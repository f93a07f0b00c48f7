/* src/report/summary.c
 * The final summary, as text on stderr and as JSON (see include/sluice/report.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sys/stat.h>
#include <unistd.h>

#include "sluice/buf.h"
#include "sluice/log.h"
#include "sluice/report.h"
#include "sluice/signals.h"
#include "sluice/url.h"
#include "sluice/version.h"

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

double wall_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int run_exit_code(enum run_status s)
{
	switch (s) {
	case RUN_OK:
		return 0;
	case RUN_FAILED:
		return 1;
	case RUN_USAGE:
		return 2;
	case RUN_PARTIAL:
		return 3;
	case RUN_INTERRUPTED:
		return 128 + (signals_caught() ? signals_caught() : 2);
	}
	return 1;
}

/* Whether anything moved in the run: rows read, written or found written. */
static bool report_moved(const struct run_report *rep)
{
	for (int i = 0; i < rep->ntables; i++) {
		const struct table_stats *t = &rep->tables[i];
		if (t->rows_read || t->rows_written || t->rows_rejected || t->rows_resumed ||
		    t->files_skipped)
			return true;
	}
	return false;
}

/* Whether the summary counts upserts apart (inserted, updated). */
static bool report_upserts(const struct run_report *rep)
{
	for (int i = 0; i < rep->ntables; i++)
		if (rep->tables[i].rows_updated && rep->tables[i].rows_updated != REPORT_UNKNOWN &&
		    rep->tables[i].rows_inserted && rep->tables[i].rows_inserted != REPORT_UNKNOWN)
			return true;
	return false;
}

void report_print(const struct run_report *rep)
{
	bool verbose = rep->job && rep->job->verbose;
	if (rep->status == RUN_USAGE || (rep->status == RUN_FAILED && !report_moved(rep)))
		return; /* the error said it all: no table of zeros */
	bool skipped = false, blank = false, zero = false, resumed = false, deleted = false,
	     nulls = false;
	bool not_found =
		verbose ||
		(rep->job && (rep->job->command == CMD_UPDATE || rep->job->command == CMD_DELETE));
	bool upserts = report_upserts(rep);
	for (int i = 0; i < rep->ntables; i++) {
		resumed |= rep->tables[i].rows_resumed > 0 || rep->tables[i].files_skipped > 0;
		skipped |= rep->tables[i].rows_skipped > 0;
		blank |= rep->tables[i].blank_lines > 0;
		zero |= rep->tables[i].zero_dates > 0;
		deleted |= rep->tables[i].rows_deleted > 0;
		nulls |= rep->tables[i].null_cursors > 0;
		not_found |= rep->tables[i].rows_not_found > 0;
	}
	/* the table column as wide as the longest name: the usual summary
	 * fits 80 columns */
	int w = 5;
	for (int i = 0; i < rep->ntables; i++)
		if ((int)strlen(rep->tables[i].table) > w)
			w = (int)strlen(rep->tables[i].table);
	struct buf b;
	buf_init(&b, 0);
	buf_catf(&b, "%-*s %10s %10s %9s", w, "table", "read", "written", "rejected");
	if (upserts)
		buf_catf(&b, " %9s %9s", "inserted", "updated");
	if (not_found)
		buf_catf(&b, " %9s", "not found");
	if (skipped)
		buf_catf(&b, " %9s", "skipped");
	if (blank)
		buf_catf(&b, " %9s", "blank");
	if (zero)
		buf_catf(&b, " %10s", "zero dates");
	if (resumed)
		buf_catf(&b, " %9s %7s", "resumed", "files");
	if (deleted)
		buf_catf(&b, " %9s", "deleted");
	if (nulls)
		buf_catf(&b, " %11s", "null cursor");
	buf_catf(&b, " %8s %8s %9s", "MB", "seconds", "rows/s");
	log_result("%s", buf_failed(&b) ? "(out of memory)" : buf_str(&b));
	for (int i = 0; i < rep->ntables; i++) {
		const struct table_stats *t = &rep->tables[i];
		double rate = t->seconds > 0 ? (double)t->rows_written / t->seconds : 0;
		buf_reset(&b);
		buf_catf(&b, "%-*s %10llu %10llu %9llu", w, t->table,
			 (unsigned long long)t->rows_read, (unsigned long long)t->rows_written,
			 (unsigned long long)t->rows_rejected);
		if (upserts)
			buf_catf(&b, " %9llu %9llu", (unsigned long long)t->rows_inserted,
				 (unsigned long long)t->rows_updated);
		if (not_found)
			buf_catf(&b, " %9llu", (unsigned long long)t->rows_not_found);
		if (skipped)
			buf_catf(&b, " %9llu", (unsigned long long)t->rows_skipped);
		if (blank)
			buf_catf(&b, " %9llu", (unsigned long long)t->blank_lines);
		if (zero)
			buf_catf(&b, " %10llu", (unsigned long long)t->zero_dates);
		if (resumed)
			buf_catf(&b, " %9llu %7llu", (unsigned long long)t->rows_resumed,
				 (unsigned long long)t->files_skipped);
		if (deleted)
			buf_catf(&b, " %9llu", (unsigned long long)t->rows_deleted);
		if (nulls)
			buf_catf(&b, " %11llu", (unsigned long long)t->null_cursors);
		buf_catf(&b, " %8.1f %8.2f %9.0f", (double)t->bytes / 1e6, t->seconds, rate);
		log_result("%s", buf_failed(&b) ? "(out of memory)" : buf_str(&b));
	}
	buf_free(&b);
	/* how the pool and the commits went: for -v and the JSON */
	if (verbose && rep->has_pool) {
		char line[512];
		report_format_pool(line, sizeof line, &rep->pool);
		log_result("%s", line);
	}
	if (verbose && rep->commit_mode)
		log_result("commits: %s", rep->commit_mode);
	bool dry = rep->job && rep->job->dry_run;
	log_result("status %s%s", run_status_name(rep->status),
		   dry ? " (dry run: nothing was written)" : "");
}

bool report_check_output(const char *opt, const char *path, struct sl_error *err)
{
	if (!path || !strcmp(path, "-"))
		return true;
	struct stat st;
	if (stat(path, &st) == 0) {
		if (S_ISDIR(st.st_mode))
			return sl_error_set(err, SL_ERR_USAGE, "%s %s is a directory: name a file",
					    opt, path);
		if (access(path, W_OK) != 0)
			return sl_error_set(err, SL_ERR_USAGE, "%s %s cannot be written: %s", opt,
					    path, strerror(errno));
	}
	/* a new file, or one renamed into place: its directory must take it */
	const char *slash = strrchr(path, '/');
	char dir[4096];
	snprintf(dir, sizeof dir, "%.*s", slash ? (int)(slash - path) : 1, slash ? path : ".");
	if (slash == path)
		snprintf(dir, sizeof dir, "/");
	if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
		return sl_error_set(err, SL_ERR_USAGE, "%s %s: there is no directory %s", opt, path,
				    dir);
	if (access(dir, W_OK | X_OK) != 0)
		return sl_error_set(err, SL_ERR_USAGE,
				    "%s %s: the directory %s cannot be written: %s", opt, path, dir,
				    strerror(errno));
	/* access() goes by the mode bits: a file system that takes no new
	 * file (/proc, one mounted read-only for root) tells only when one is
	 * made, so make one and take it away again */
	char probe[4200];
	snprintf(probe, sizeof probe, "%s/.sluice-probe.%ld", dir, (long)getpid());
	int fd = open(probe, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0 && errno != EEXIST)
		return sl_error_set(err, SL_ERR_USAGE,
				    "%s %s: the directory %s cannot be written: %s", opt, path, dir,
				    strerror(errno));
	if (fd >= 0) {
		close(fd);
		unlink(probe);
	}
	return true;
}

/* Append s as a JSON string. */
static void json_string(struct buf *b, const char *s)
{
	buf_catc(b, '"');
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			buf_catf(b, "\\%c", *p);
		else if (*p < 0x20)
			buf_catf(b, "\\u%04x", *p);
		else
			buf_catc(b, (char)*p);
	}
	buf_catc(b, '"');
}

/* n as text into out, "null" when REPORT_UNKNOWN; returns out. */
static const char *count_or_null(char *out, size_t size, uint64_t n)
{
	if (n == REPORT_UNKNOWN)
		snprintf(out, size, "null");
	else
		snprintf(out, size, "%llu", (unsigned long long)n);
	return out;
}

/* Append the time as a JSON string ("2026-12-01T02:15:03+01:00"), or null. */
static void json_time(struct buf *b, double t)
{
	if (t <= 0) {
		buf_cat(b, "null");
		return;
	}
	char when[48];
	log_iso_time(t, when, sizeof when);
	json_string(b, when);
}

/* Append a URL without its password as a JSON string, or null. */
static void json_url(struct buf *b, const char *url)
{
	if (!url) {
		buf_cat(b, "null");
		return;
	}
	char red[512];
	url_redact(url, red, sizeof red);
	json_string(b, red);
}

const char *report_command_name(enum command c)
{
	static const char *const names[] = {
		[CMD_NONE] = "",
		[CMD_LOAD] = "load",
		[CMD_UPDATE] = "update",
		[CMD_COPY] = "copy",
		[CMD_VERIFY] = "verify",
		[CMD_PING] = "ping",
		[CMD_CHECKPOINTS] = "checkpoints",
		[CMD_RUN] = "run",
		[CMD_EXPORT] = "export",
		[CMD_DELETE] = "delete",
	};
	return (size_t)c < sizeof names / sizeof names[0] && names[c] ? names[c] : "";
}

/* The run's head: what ran, when, and how it ended. */
static void json_head(struct buf *b, const struct run_report *rep)
{
	const struct job *job = rep->job;
	buf_catf(b, "\"status\": \"%s\", \"exit_code\": %d, \"version\": \"%s\", ",
		 run_status_name(rep->status), rep->exit_code, SLUICE_VERSION);
	buf_cat(b, "\"command\": ");
	json_string(b, job ? report_command_name(job->command) : "");
	buf_cat(b, ", \"started_at\": ");
	json_time(b, rep->started);
	buf_cat(b, ", \"ended_at\": ");
	json_time(b, rep->ended);
	buf_catf(b, ", \"duration_seconds\": %.3f, \"target\": ",
		 rep->ended > rep->started && rep->started > 0 ? rep->ended - rep->started : 0);
	json_url(b, job ? job->target : NULL);
	buf_cat(b, ", \"sources\": [");
	if (job && job->from) {
		json_url(b, job->from);
	} else {
		for (int i = 0; job && i < job->nsources; i++) {
			if (i)
				buf_cat(b, ", ");
			json_string(b, job->sources[i]);
		}
	}
	buf_catf(b, "], \"dry_run\": %s, ", job && job->dry_run ? "true" : "false");
}

/* Write b to path ("-": stdout) whole, or fail saying why. */
static bool write_whole(const char *path, const char *what, struct buf *b, struct sl_error *err)
{
	if (buf_failed(b) || !b->data) /* never a silently short summary */
		return sl_error_set(err, SL_ERR_INTERNAL, "cannot write the %s %s: out of memory",
				    what, path);
	bool to_stdout = !strcmp(path, "-");
	FILE *f = to_stdout ? stdout : fopen(path, "w");
	if (!f)
		return sl_error_set(err, SL_ERR_USAGE, "cannot write %s: %s", path,
				    strerror(errno));
	/* every step checked: a full disk or a closed pipe (EPIPE: SIGPIPE is
	 * ignored) is a failed summary, not a shorter one */
	errno = 0;
	bool ok = fwrite(b->data, 1, b->len, f) == b->len;
	ok = fflush(f) == 0 && ok;
	int e = errno;
	if (!to_stdout && fclose(f) != 0 && ok) {
		ok = false;
		e = errno;
	}
	if (!ok)
		return sl_error_set(err, SL_ERR_INTERNAL, "cannot write the %s %s: %s", what,
				    to_stdout ? "to stdout (-)" : path, strerror(e ? e : EIO));
	return true;
}

bool report_write_json(const char *path, const struct run_report *rep, struct sl_error *err)
{
	struct buf b;
	buf_init(&b, 0);
	/* usage errors are "failed" too: the run did not start */
	buf_catc(&b, '{');
	json_head(&b, rep);
	buf_cat(&b, "\"tables\": [");
	for (int i = 0; i < rep->ntables; i++) {
		const struct table_stats *t = &rep->tables[i];
		char ins[24], upd[24];
		buf_cat(&b, i ? ", {\"table\": " : "{\"table\": ");
		json_string(&b, t->table);
		if (t->parent[0]) {
			buf_cat(&b, ", \"parent\": ");
			json_string(&b, t->parent);
		}
		buf_catf(&b,
			 ", \"rows_read\": %llu, \"rows_written\": %llu, \"rows_rejected\": %llu, "
			 "\"rows_not_found\": %llu, \"rows_inserted\": %s, \"rows_updated\": %s, "
			 "\"rows_skipped\": %llu, \"blank_lines\": %llu, "
			 "\"zero_dates_nulled\": %llu, \"rows_resumed\": %llu, \"files_skipped\": "
			 "%llu, \"rows_deleted\": %llu, \"null_cursors\": %llu, \"bytes\": %llu, "
			 "\"seconds\": %.3f}",
			 (unsigned long long)t->rows_read, (unsigned long long)t->rows_written,
			 (unsigned long long)t->rows_rejected,
			 (unsigned long long)t->rows_not_found,
			 count_or_null(ins, sizeof ins, t->rows_inserted),
			 count_or_null(upd, sizeof upd, t->rows_updated),
			 (unsigned long long)t->rows_skipped, (unsigned long long)t->blank_lines,
			 (unsigned long long)t->zero_dates, (unsigned long long)t->rows_resumed,
			 (unsigned long long)t->files_skipped, (unsigned long long)t->rows_deleted,
			 (unsigned long long)t->null_cursors, (unsigned long long)t->bytes,
			 t->seconds);
	}
	buf_cat(&b, "], \"pool\": {");
	if (rep->has_pool) {
		const struct pool_stats *p = &rep->pool;
		buf_catf(&b,
			 "\"total\": %d, \"idle\": %d, \"busy\": %d, \"waiting\": %d, "
			 "\"created\": %llu, \"closed\": %llu, \"acquires\": %llu, "
			 "\"acquire_wait_mean_ms\": %.3f, \"acquire_wait_max_ms\": %.3f, "
			 "\"errors\": %llu, \"reconnects\": %llu",
			 p->total, p->idle, p->busy, p->waiting, (unsigned long long)p->created,
			 (unsigned long long)p->closed, (unsigned long long)p->acquires,
			 p->acquire_wait_mean * 1000, p->acquire_wait_max * 1000,
			 (unsigned long long)p->errors, (unsigned long long)p->reconnects);
	}
	buf_cat(&b, "}, \"commit_mode\": ");
	if (rep->commit_mode)
		json_string(&b, rep->commit_mode);
	else
		buf_cat(&b, "null");
	buf_cat(&b, ", \"errors\": [");
	for (int i = 0; i < rep->nerrors; i++) {
		if (i)
			buf_cat(&b, ", ");
		json_string(&b, rep->errors[i]);
	}
	buf_cat(&b, "]");
	if (rep->steps) {
		buf_cat(&b, ", \"steps\": [");
		for (int i = 0; i < rep->nsteps; i++) {
			const struct step_result *st = &rep->steps[i];
			buf_cat(&b, i ? ", {\"step\": " : "{\"step\": ");
			json_string(&b, st->name);
			buf_catf(&b,
				 ", \"command\": \"%s\", \"status\": \"%s\", \"exit_code\": %d, "
				 "\"seconds\": %.3f}",
				 report_command_name(st->command), run_status_name(st->status),
				 run_exit_code(st->status), st->seconds);
		}
		buf_cat(&b, "]");
	}
	buf_cat(&b, "}\n");
	bool ok = write_whole(path, "summary", &b, err);
	buf_free(&b);
	return ok;
}

/* Append s as a Prometheus label value: backslash, quote and newline escaped. */
static void prom_label(struct buf *b, const char *s)
{
	buf_catc(b, '"');
	for (; *s; s++) {
		if (*s == '\\' || *s == '"')
			buf_catf(b, "\\%c", *s);
		else if (*s == '\n')
			buf_cat(b, "\\n");
		else
			buf_catc(b, *s);
	}
	buf_catc(b, '"');
}

/* "# HELP" and "# TYPE" of a gauge: every sample of a metric follows its
 * head, as the text format wants. */
static void prom_head(struct buf *b, const char *name, const char *help)
{
	buf_catf(b, "# HELP %s %s\n# TYPE %s gauge\n", name, help, name);
}

/* The last sluice_last_success_timestamp_seconds the file at path holds
 * (the previous run's), or 0: a failed run carries it over. */
static double previous_success(const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return 0;
	char line[1024];
	double t = 0;
	const char *name = "sluice_last_success_timestamp_seconds";
	while (fgets(line, sizeof line, f)) {
		if (strncmp(line, name, strlen(name)))
			continue;
		const char *v = strrchr(line, '}');
		v = v ? v + 1 : line + strlen(name);
		t = strtod(v, NULL);
	}
	fclose(f);
	return t;
}

bool report_write_metrics(const char *path, const struct run_report *rep, struct sl_error *err)
{
	/* the file's name tells two jobs apart in one textfile directory
	 * (/var/lib/node_exporter/orders.prom: sluice_job="orders") */
	const char *base = strrchr(path, '/');
	base = base ? base + 1 : path;
	char job[256];
	snprintf(job, sizeof job, "%.*s", (int)strcspn(base, "."), base);
	struct buf jl; /* the job label, every sample has it */
	buf_init(&jl, 0);
	buf_cat(&jl, "sluice_job=");
	prom_label(&jl, job);
	const char *jlab = buf_str(&jl);

	struct buf b;
	buf_init(&b, 0);
	const struct job *jb = rep->job;
	char red[512] = "";
	if (jb && jb->target)
		url_redact(jb->target, red, sizeof red);
	prom_head(&b, "sluice_info", "The sluice run: its version, command and target.");
	buf_catf(&b, "sluice_info{%s,version=\"%s\",command=\"%s\",target=", jlab, SLUICE_VERSION,
		 jb ? report_command_name(jb->command) : "");
	prom_label(&b, red);
	buf_cat(&b, "} 1\n");
	prom_head(&b, "sluice_exit_code",
		  "The exit code of the last run (0 ok, 3 rows rejected, 1 failed, 2 usage).");
	buf_catf(&b, "sluice_exit_code{%s} %d\n", jlab, rep->exit_code);
	prom_head(&b, "sluice_status", "1 for the status the last run ended with.");
	static const enum run_status all[] = {RUN_OK, RUN_PARTIAL, RUN_FAILED, RUN_INTERRUPTED};
	for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
		bool is =
			rep->status == all[i] || (all[i] == RUN_FAILED && rep->status == RUN_USAGE);
		buf_catf(&b, "sluice_status{%s,status=\"%s\"} %d\n", jlab, run_status_name(all[i]),
			 is);
	}
	prom_head(&b, "sluice_start_timestamp_seconds", "When the last run started.");
	buf_catf(&b, "sluice_start_timestamp_seconds{%s} %.3f\n", jlab, rep->started);
	prom_head(&b, "sluice_end_timestamp_seconds", "When the last run ended.");
	buf_catf(&b, "sluice_end_timestamp_seconds{%s} %.3f\n", jlab, rep->ended);
	prom_head(&b, "sluice_duration_seconds", "How long the last run took.");
	buf_catf(&b, "sluice_duration_seconds{%s} %.3f\n", jlab,
		 rep->ended > rep->started ? rep->ended - rep->started : 0);
	double success = rep->status == RUN_OK ? rep->ended : previous_success(path);
	if (success > 0) {
		prom_head(&b, "sluice_last_success_timestamp_seconds",
			  "When a run last ended with every row written (exit 0).");
		buf_catf(&b, "sluice_last_success_timestamp_seconds{%s} %.3f\n", jlab, success);
	}
	prom_head(&b, "sluice_rows", "Rows of the last run, by table and outcome.");
	for (int i = 0; i < rep->ntables; i++) {
		const struct table_stats *t = &rep->tables[i];
		const struct {
			const char *outcome;
			uint64_t n;
		} rows[] = {
			{"read", t->rows_read},		{"written", t->rows_written},
			{"inserted", t->rows_inserted}, {"updated", t->rows_updated},
			{"rejected", t->rows_rejected}, {"not_found", t->rows_not_found},
			{"skipped", t->rows_skipped},	{"resumed", t->rows_resumed},
			{"deleted", t->rows_deleted},
		};
		for (size_t k = 0; k < sizeof rows / sizeof rows[0]; k++) {
			if (rows[k].n == REPORT_UNKNOWN)
				continue;
			buf_catf(&b, "sluice_rows{%s,table=", jlab);
			prom_label(&b, t->table);
			buf_catf(&b, ",outcome=\"%s\"} %llu\n", rows[k].outcome,
				 (unsigned long long)rows[k].n);
		}
	}
	prom_head(&b, "sluice_bytes", "Input bytes the last run read, by table.");
	for (int i = 0; i < rep->ntables; i++) {
		buf_catf(&b, "sluice_bytes{%s,table=", jlab);
		prom_label(&b, rep->tables[i].table);
		buf_catf(&b, "} %llu\n", (unsigned long long)rep->tables[i].bytes);
	}
	prom_head(&b, "sluice_table_duration_seconds", "Seconds the last run spent on a table.");
	for (int i = 0; i < rep->ntables; i++) {
		buf_catf(&b, "sluice_table_duration_seconds{%s,table=", jlab);
		prom_label(&b, rep->tables[i].table);
		buf_catf(&b, "} %.3f\n", rep->tables[i].seconds);
	}
	if (rep->has_pool) {
		const struct pool_stats *p = &rep->pool;
		const struct {
			const char *name, *help;
			double v;
		} pool[] = {
			{"sluice_pool_connections_created", "Connections the pool opened.",
			 (double)p->created},
			{"sluice_pool_connections_closed", "Connections the pool closed.",
			 (double)p->closed},
			{"sluice_pool_acquires", "Connections handed to writers.",
			 (double)p->acquires},
			{"sluice_pool_errors", "Connections found broken, and failed connects.",
			 (double)p->errors},
			{"sluice_pool_reconnects", "Connects retried after a failure.",
			 (double)p->reconnects},
			{"sluice_pool_acquire_wait_max_seconds",
			 "The longest a writer waited for a connection.", p->acquire_wait_max},
		};
		for (size_t k = 0; k < sizeof pool / sizeof pool[0]; k++) {
			prom_head(&b, pool[k].name, pool[k].help);
			buf_catf(&b, "%s{%s} %.6g\n", pool[k].name, jlab, pool[k].v);
		}
	}
	if (rep->nsteps) {
		prom_head(&b, "sluice_step_exit_code", "The exit code of each step of sluice run.");
		for (int i = 0; i < rep->nsteps; i++) {
			buf_catf(&b, "sluice_step_exit_code{%s,step=", jlab);
			prom_label(&b, rep->steps[i].name);
			buf_catf(&b, "} %d\n", run_exit_code(rep->steps[i].status));
		}
	}
	bool short_text = buf_failed(&b) || buf_failed(&jl) || !b.data;
	buf_free(&jl);
	if (short_text) {
		buf_free(&b);
		return sl_error_set(err, SL_ERR_INTERNAL,
				    "cannot write the metrics %s: out of memory", path);
	}
	/* a temporary file beside it, renamed over it: a reader sees the old
	 * file or the new one, whole; a name not ending in .prom, which the
	 * textfile collector leaves alone */
	char tmp[4200];
	snprintf(tmp, sizeof tmp, "%.*s.%s.%ld.tmp", (int)(base - path), path, base,
		 (long)getpid());
	bool ok = write_whole(tmp, "metrics", &b, err);
	buf_free(&b);
	if (ok && rename(tmp, path) != 0) {
		ok = sl_error_set(err, SL_ERR_INTERNAL, "cannot write the metrics %s: %s", path,
				  strerror(errno));
	}
	if (!ok)
		unlink(tmp);
	return ok;
}

enum run_status report_finish(struct run_report *rep, const struct job *job, enum run_status status)
{
	rep->job = job;
	rep->status = status;
	if (!rep->ended)
		rep->ended = wall_seconds();
	rep->exit_code = run_exit_code(status);
	if (job->into) {
		/* a step of sluice run: its tables go in the run's one summary */
		if (!report_merge(job->into, rep)) {
			log_error("out of memory");
			status = RUN_FAILED;
		}
	} else if (!job->quiet || status == RUN_FAILED)
		report_print(rep);
	uint64_t rejected = 0;
	for (int i = 0; i < rep->ntables; i++)
		rejected += rep->tables[i].rows_rejected;
	uint64_t not_found = 0;
	for (int i = 0; i < rep->ntables; i++)
		not_found += rep->tables[i].rows_not_found;
	if (job->quiet && rejected && !job->rejects_path)
		/* --quiet printed none of them: one line says they are gone */
		log_result("%llu row%s rejected (--rejects FILE keeps them, with the reasons)",
			   (unsigned long long)rejected, rejected == 1 ? "" : "s");
	if (!job->quiet && not_found && !job->into)
		/* keys that matched nothing are not printed one by one */
		log_info("%llu key%s matched no row (not found)%s", (unsigned long long)not_found,
			 not_found == 1 ? "" : "s",
			 job->rejects_path ? ": their lines are in the rejects file"
					   : "; --rejects FILE lists their lines");
	if (job->summary_json && !rep->no_json) {
		struct sl_error jerr;
		if (!report_write_json(job->summary_json, rep, &jerr)) {
			log_error("%s", jerr.msg);
			status = RUN_FAILED;
		}
	}
	if (job->metrics_file && !rep->no_json) {
		struct sl_error merr;
		if (!report_write_metrics(job->metrics_file, rep, &merr)) {
			log_error("%s", merr.msg);
			status = RUN_FAILED;
		}
	}
	return status;
}

bool report_merge(struct run_report *into, const struct run_report *from)
{
	if (from->ntables) {
		struct table_stats *t = realloc(
			into->tables, ((size_t)into->ntables + (size_t)from->ntables) * sizeof *t);
		if (!t)
			return false;
		memcpy(t + into->ntables, from->tables, (size_t)from->ntables * sizeof *t);
		into->tables = t;
		into->ntables += from->ntables;
	}
	for (int i = 0; i < from->nerrors; i++)
		report_add_error(into, from->errors[i]);
	return true;
}

void report_free(struct run_report *rep)
{
	free(rep->tables);
	for (int i = 0; i < rep->nerrors; i++)
		free(rep->errors[i]);
	memset(rep, 0, sizeof *rep);
}
