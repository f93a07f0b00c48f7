/* include/sluice/report.h
 * Run statistics and what the operator sees of them: the final summary on
 * stderr and, with --summary-json, the same as one JSON object.
 */
#ifndef SLUICE_REPORT_H
#define SLUICE_REPORT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "sluice/job.h"

struct table_stats {
	char table[256];
	uint64_t rows_read;
	uint64_t rows_written;
	uint64_t rows_rejected;
	uint64_t rows_not_found;
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
};

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
