/* include/sluice/report.h
 * Run statistics and what the operator sees of them: the final summary on
 * stderr and, with --summary-json, the same as one JSON object.
 */
#ifndef SLUICE_REPORT_H
#define SLUICE_REPORT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "sluice/job.h"
#include "sluice/pool.h"

/* Counters updated by the reader and the writers while a run goes on. */
struct live_stats {
	_Atomic uint64_t rows_read;
	_Atomic uint64_t rows_written;
	_Atomic uint64_t rows_rejected;
	_Atomic uint64_t rows_not_found;
	_Atomic uint64_t rows_skipped; /* --on-conflict skip: a row with that key was there */
	_Atomic uint64_t rows_resumed; /* --resume: committed by an earlier run, skipped */
	/* --on-conflict update: of rows_written, those that updated a row
	 * already there; upsert_unknown when a server did not say */
	_Atomic uint64_t rows_upsert_updated;
	_Atomic bool upsert_unknown;
	_Atomic uint64_t bytes;	     /* input bytes consumed */
	_Atomic uint64_t bytes_done; /* input bytes whose rows are committed or rejected */
};

struct table_stats {
	char table[256];
	char parent[256]; /* load --nest: a child table's parent table, else "" */
	uint64_t rows_read;
	uint64_t rows_written;
	uint64_t rows_rejected;
	uint64_t rows_not_found;
	uint64_t rows_skipped;
	uint64_t blank_lines;	/* skipped blank input lines */
	uint64_t zero_dates;	/* MySQL zero dates copied as NULL */
	uint64_t rows_resumed;	/* --resume: records an earlier run committed */
	uint64_t files_skipped; /* --resume: whole files an earlier run loaded */
	uint64_t bytes;
	double seconds;
	/* of rows_written, those inserted and those that updated a row already
	 * there; REPORT_UNKNOWN when not told apart (an upsert's) */
	uint64_t rows_inserted;
	uint64_t rows_updated;
	/* copy --delete-missing: target rows deleted (or marked, --soft)
	 * because their key is gone from the source */
	uint64_t rows_deleted;
	/* copy --incremental: rows whose cursor is NULL, not copied */
	uint64_t null_cursors;
};

/* How one step of sluice run ended. */
struct step_result {
	char name[128];
	enum command command;
	enum run_status status;
	double seconds;
};

#define REPORT_MAX_ERRORS 16
/* a count sluice does not know (JSON null, no metric sample) */
#define REPORT_UNKNOWN UINT64_MAX

struct run_report {
	enum run_status status;
	struct table_stats *tables;
	int ntables;
	char *errors[REPORT_MAX_ERRORS];
	int nerrors;
	bool has_pool;
	struct pool_stats pool;
	const char
		*commit_mode; /* how commits were made sure of ("xa", "plain", "txid"), or NULL */
	bool no_json;	      /* the summary file must not be written (it is an input) */
	/* for the summary's head: what ran, when, and how it ended */
	const struct job *job; /* the command line (target, sources, -v), or NULL */
	double started, ended; /* wall clock, Unix seconds */
	int exit_code;	       /* what sluice exits with */
	/* sluice run: its steps, in the order they ran (the tables above are
	 * theirs, in the same order) */
	const struct step_result *steps;
	int nsteps;
};

/* What the progress display shows, read live while the run goes on. */
struct progress_view {
	const char *table;
	struct live_stats *live;
	struct pool *pool;   /* NULL before it exists */
	int64_t total_bytes; /* input size, -1 when unknown */
	double start;	     /* now_seconds() at the start */
	const char *target;  /* the server's URL (shown without its password when the
			      * run is stalled: nothing moved for 10 s), or NULL */
};

struct progress;

/* Start the display for mode (auto: a redrawn line on a terminal, else a log
 * line every interval seconds); nothing when quiet or PROGRESS_NONE. *out
 * may be NULL afterwards. */
bool progress_start(struct progress **out, enum progress_mode mode, double interval, bool quiet,
		    struct progress_view *view);
/* Point the display at the pool once it exists. */
void progress_set_pool(struct progress *p, struct pool *pool);
/* Stop and clear the display. */
void progress_stop(struct progress *p);
/* What one terminal progress line shows. */
struct progress_fields {
	const char *table;
	double fraction; /* of the input done, 0..1; -1 when its size is unknown */
	uint64_t rows, rejected;
	double mb;
	double rate;	   /* rows/s over the last seconds */
	double elapsed;	   /* seconds */
	double eta;	   /* seconds, -1 when unknown */
	int pool_busy;	   /* connections at work */
	int pool_total;	   /* 0: no pool yet */
	const char *stall; /* "stalled 45 s, waiting on ...", or NULL */
};
/* The progress line for a terminal width columns wide into out: at most
 * width - 1 columns, the least useful pieces left out first as it narrows
 * (the pool, the MB, the bar, then the name is cut), a bar growing into the
 * room left when the size is known. */
void progress_format_line(char *out, size_t n, int width, const struct progress_fields *f);
/* Format the pool statistics into out, as in the summary. */
void report_format_pool(char *out, size_t n, const struct pool_stats *s);

/* Monotonic seconds, for timing. */
double now_seconds(void);
/* Wall-clock seconds since the epoch, for the summary's times. */
double wall_seconds(void);
/* The exit code a run that ended so exits with (see SPEC: 0, 1, 2, 3,
 * 128 + the signal). */
int run_exit_code(enum run_status s);
/* Keep a copy of an error message for the summary (the first few only). */
void report_add_error(struct run_report *rep, const char *msg);
/* Print the summary on stderr through the log: one line per table and the
 * status; the pool statistics and how commits were made sure of with -v
 * only. A run that failed before any row moved prints nothing: its error
 * said it all. */
void report_print(const struct run_report *rep);
/* Whether path can be written as --summary-json or --metrics-file (opt),
 * checked before the run writes anything: a directory that exists and is
 * writable, a file that is none of a directory's; false with err (usage). */
bool report_check_output(const char *opt, const char *path, struct sl_error *err);
/* Write the summary JSON to path ("-": stdout). */
bool report_write_json(const char *path, const struct run_report *rep, struct sl_error *err);
/* Write the summary as Prometheus text exposition to path, through a
 * temporary file in its directory renamed over it (node_exporter's textfile
 * collector never reads half a file). */
bool report_write_metrics(const char *path, const struct run_report *rep, struct sl_error *err);
/* The summary's outputs after a run: the text (unless quiet and not
 * failed), --summary-json and --metrics-file. A summary that cannot be
 * written turns status into RUN_FAILED; returns the status. */
enum run_status report_finish(struct run_report *rep, const struct job *job,
			      enum run_status status);
void report_free(struct run_report *rep);
/* Add from's tables and errors to into (a sluice run's report). */
bool report_merge(struct run_report *into, const struct run_report *from);
/* The command's name ("load", "run"), "" for none. */
const char *report_command_name(enum command c);
const char *run_status_name(enum run_status s);

#endif
