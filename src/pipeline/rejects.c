/* src/pipeline/rejects.c
 * The rejects file and its reasons log (see include/sluice/rejects.h).
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
	char *header;
	bool header_written;
	unsigned long count;
	pthread_mutex_t lock;
};

bool rejects_open(struct rejects **out, const char *path, struct sl_error *err)
{
	struct rejects *rj = calloc(1, sizeof *rj);
	if (!rj)
		return sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
	pthread_mutex_init(&rj->lock, NULL);
	if (path) {
		char logpath[4096];
		snprintf(logpath, sizeof logpath, "%s.log", path);
		rj->data = fopen(path, "w");
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

void rejects_add(struct rejects *rj, const char *source, long line, const char *raw,
		 size_t raw_len, const char *reason)
{
	pthread_mutex_lock(&rj->lock);
	rj->count++;
	if (rj->data) {
		if (!rj->header_written && rj->header) {
			fprintf(rj->data, "%s\n", rj->header);
			rj->header_written = true;
		}
		if (raw)
			fwrite(raw, 1, raw_len, rj->data);
		fputc('\n', rj->data);
		fprintf(rj->log, "%s:%ld: %s\n", source, line, reason);
	} else {
		log_error("rejected %s:%ld: %s", source, line, reason);
	}
	pthread_mutex_unlock(&rj->lock);
}

unsigned long rejects_count(const struct rejects *rj)
{
	return rj->count;
}

void rejects_close(struct rejects *rj)
{
	if (!rj)
		return;
	if (rj->data)
		fclose(rj->data);
	if (rj->log)
		fclose(rj->log);
	free(rj->header);
	pthread_mutex_destroy(&rj->lock);
	free(rj);
}
