/* src/pipeline/rejects.c
 * The rejects file and its reasons log (see include/sluice/rejects.h). A
 * write that fails (a full disk, a closed pipe) is remembered, never
 * ignored: the pipeline asks rejects_failed and fails the run.
 */
#include "sluice/rejects.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sluice/log.h"

struct rejects {
	FILE *data;
	FILE *log;
	char *path; /* the rejects file, for messages */
	char *header;
	bool header_written;
	unsigned long count;
	unsigned long lost; /* records rejected since a write failed */
	char failure[600];  /* the first write that failed ("" while none): sticky */
	pthread_mutex_t lock;
};

/* Remember the first failed write of file (path, or path.log with log);
 * errno is the reason. Called with the lock held. */
static void note_failure(struct rejects *rj, bool log)
{
	int e = errno;
	if (rj->failure[0])
		return;
	snprintf(rj->failure, sizeof rj->failure, "cannot write the rejects %s %s%s: %s",
		 log ? "log" : "file", rj->path, log ? ".log" : "", strerror(e ? e : EIO));
}

bool rejects_open(struct rejects **out, const char *path, struct sl_error *err)
{
	struct rejects *rj = calloc(1, sizeof *rj);
	if (!rj)
		return sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
	pthread_mutex_init(&rj->lock, NULL);
	if (path) {
		char logpath[4096];
		snprintf(logpath, sizeof logpath, "%s.log", path);
		rj->path = strdup(path);
		rj->data = rj->path ? fopen(path, "w") : NULL;
		rj->log = rj->data ? fopen(logpath, "w") : NULL;
		if (!rj->data || !rj->log) {
			sl_error_set(err, SL_ERR_USAGE, "cannot write %s: %s",
				     rj->data ? logpath : path, strerror(errno));
			rejects_close(rj);
			return false;
		}
	}
	*out = rj;
	return true;
}

void rejects_set_header(struct rejects *rj, const char *line)
{
	pthread_mutex_lock(&rj->lock);
	if (!rj->header && !rj->header_written)
		rj->header = line ? strdup(line) : NULL;
	pthread_mutex_unlock(&rj->lock);
}

/* A record rejected, into the file or (without one) on the log unless
 * quiet; not_found: a key that matched no row, never printed one by one
 * (the summary says how many, in one line). */
static void add(struct rejects *rj, const char *source, long line, const char *raw, size_t raw_len,
		const char *reason, bool not_found)
{
	pthread_mutex_lock(&rj->lock);
	rj->count++;
	if (rj->data && rj->failure[0]) {
		rj->lost++; /* the run is failing: the file is short, and says so */
	} else if (rj->data) {
		bool ok = true;
		if (!rj->header_written && rj->header) {
			ok = fprintf(rj->data, "%s\n", rj->header) >= 0;
			rj->header_written = true;
		}
		ok = ok && (!raw || fwrite(raw, 1, raw_len, rj->data) == raw_len) &&
		     fputc('\n', rj->data) != EOF;
		if (!ok)
			note_failure(rj, false);
		else if (fprintf(rj->log, "%s:%ld: %s\n", source, line, reason) < 0)
			note_failure(rj, true);
		if (rj->failure[0])
			rj->lost++;
	} else if (!not_found) {
		/* a reject is the row's, not the run's error: shown unless
		 * --quiet, which says how many at the end */
		log_info("rejected %s:%ld: %s", source, line, reason);
	}
	pthread_mutex_unlock(&rj->lock);
}

void rejects_add(struct rejects *rj, const char *source, long line, const char *raw, size_t raw_len,
		 const char *reason)
{
	add(rj, source, line, raw, raw_len, reason, false);
}

void rejects_add_not_found(struct rejects *rj, const char *source, long line, const char *raw,
			   size_t raw_len)
{
	add(rj, source, line, raw, raw_len, "not found: no row matches the key", true);
}

unsigned long rejects_count(const struct rejects *rj)
{
	return rj->count;
}

bool rejects_failed(struct rejects *rj, struct sl_error *err)
{
	if (!rj)
		return false;
	pthread_mutex_lock(&rj->lock);
	bool failed = rj->failure[0] != '\0';
	if (failed)
		sl_error_set(
			err, SL_ERR_INTERNAL,
			"%s; it is incomplete (%lu records rejected so far, %lu after the failure)",
			rj->failure, rj->count, rj->lost);
	pthread_mutex_unlock(&rj->lock);
	return failed;
}

bool rejects_flush(struct rejects *rj, struct sl_error *err)
{
	if (!rj)
		return true;
	pthread_mutex_lock(&rj->lock);
	if (rj->data && !rj->failure[0]) {
		if (fflush(rj->data) != 0)
			note_failure(rj, false);
		else if (fflush(rj->log) != 0)
			note_failure(rj, true);
	}
	pthread_mutex_unlock(&rj->lock);
	return !rejects_failed(rj, err);
}

void rejects_close(struct rejects *rj)
{
	if (!rj)
		return;
	if (rj->data)
		fclose(rj->data);
	if (rj->log)
		fclose(rj->log);
	free(rj->path);
	free(rj->header);
	pthread_mutex_destroy(&rj->lock);
	free(rj);
}
