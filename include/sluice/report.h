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
	_Atomic uint64_t bytes;	       /* input bytes consumed */
	_Atomic uint64_t bytes_done;   /* input bytes whose rows are committed or rejected */
};

struct table_stats {
	char table[256];
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
};

#define REPORT_MAX_ERRORS 16

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
/* Format the pool statistics into out, as in the summary. */
void report_format_pool(char *out, size_t n, const struct pool_stats *s);

/* Monotonic seconds, for timing. */
double now_seconds(void);
/* Keep a copy of an error message for the summary (the first few only). */
void report_add_error(struct run_report *rep, const char *msg);
/* Print the summary to f: one line per table and the totals. */
void report_print(FILE *f, const struct run_report *rep);
/* Write the summary JSON to path ("-": stdout). */
bool report_write_json(const char *path, const struct run_report *rep, struct sl_error *err);
void report_free(struct run_report *rep);
const char *run_status_name(enum run_status s);

#endif
