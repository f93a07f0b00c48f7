/* src/report/progress.c
 * The live progress display on stderr: a redrawn line on a terminal, or a
 * plain log line every --stats-interval seconds (cron mail stays short).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sluice/log.h"
#include "sluice/report.h"
#include "sluice/url.h"

/* Nothing moved for this long while batches are out: say the run is stalled. */
#define STALL_SECONDS 10

struct progress {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool stop;
	bool bar;
	double interval;
	struct progress_view *view;
	struct pool *pool;
	int width;	   /* characters drawn last time, to clear */
	char target[512];  /* the server, password hidden */
	uint64_t moved[5]; /* the counters seen last, to notice when they stop */
	double last_move;  /* when they last changed */
};

/* Note when the counters last moved (called every tick of the display). */
static void watch(struct progress *p)
{
	struct live_stats *l = p->view->live;
	uint64_t now_moved[5] = {l->rows_read, l->rows_written, l->rows_rejected, l->rows_not_found,
				 l->bytes_done};
	if (memcmp(now_moved, p->moved, sizeof now_moved) || p->last_move == 0) {
		memcpy(p->moved, now_moved, sizeof now_moved);
		p->last_move = now_seconds();
	}
}

/* "stalled 45 s, waiting on postgresql://app@db1/shop" into out when nothing
 * has moved for STALL_SECONDS while the run waits on the server (a batch
 * out, or no connection yet); "" otherwise. */
static void format_stall(struct progress *p, const struct pool_stats *ps, bool have_pool, char *out,
			 size_t n)
{
	out[0] = '\0';
	double still = p->last_move > 0 ? now_seconds() - p->last_move : 0;
	if (still >= STALL_SECONDS && (!have_pool || ps->busy > 0))
		snprintf(out, n, "stalled %.0f s, waiting on %s", still,
			 p->target[0] ? p->target : "the server");
}

static void format_eta(char *out, size_t n, double secs)
{
	if (secs < 0 || secs > 360000) {
		snprintf(out, n, "--:--");
		return;
	}
	long s = (long)(secs + 0.5);
	if (s >= 3600)
		snprintf(out, n, "%ld:%02ld:%02ld", s / 3600, s / 60 % 60, s % 60);
	else
		snprintf(out, n, "%ld:%02ld", s / 60, s % 60);
}

static void draw(struct progress *p, bool final)
{
	struct progress_view *v = p->view;
	double elapsed = now_seconds() - v->start;
	uint64_t read = v->live->rows_read, written = v->live->rows_written;
	uint64_t rejected = v->live->rows_rejected, bytes = v->live->bytes;
	/* percent and ETA count input whose rows are committed (or rejected),
	 * not input read: reading runs ahead of the writers by the queue */
	uint64_t done = v->live->bytes_done;
	double rate = elapsed > 0 ? (double)written / elapsed : 0;
	char pct[16] = "", eta[32] = "--:--";
	if (v->total_bytes > 0) {
		double frac = (double)done / (double)v->total_bytes;
		if (frac > 1)
			frac = 1;
		if (frac > 0.999 && !final)
			frac = 0.999; /* 100% only once the run has ended */
		snprintf(pct, sizeof pct, "%5.1f%% ", frac * 100);
		double bps = elapsed > 0 ? (double)done / elapsed : 0;
		if (bps > 0)
			format_eta(eta, sizeof eta, ((double)v->total_bytes - (double)done) / bps);
	}
	struct pool_stats ps = {0};
	pthread_mutex_lock(&p->lock);
	struct pool *pool = p->pool;
	pthread_mutex_unlock(&p->lock);
	if (pool)
		pool_get_stats(pool, &ps);
	char stall[600];
	format_stall(p, &ps, pool != NULL, stall, sizeof stall);
	if (p->bar) {
		char line[1024];
		int n = snprintf(line, sizeof line,
				 "%s %s%llu rows  %.1f MB  %.0f rows/s  ETA %s  pool %d/%d busy, "
				 "%d waiting%s%s%s",
				 v->table, pct, (unsigned long long)written, (double)bytes / 1e6,
				 rate, eta, ps.busy, ps.total, ps.waiting,
				 rejected ? "  (rejects)" : "", stall[0] && !final ? "  " : "",
				 final ? "" : stall);
		if (n >= (int)sizeof line)
			n = (int)sizeof line - 1;
		fprintf(stderr, "\r%s%*s", line, p->width > n ? p->width - n : 0, "");
		if (final)
			fprintf(stderr, "\r%*s\r", n > p->width ? n : p->width, "");
		fflush(stderr);
		p->width = n;
	} else if (!final) {
		char pool_line[512] = "";
		if (pool)
			report_format_pool(pool_line, sizeof pool_line, &ps);
		log_info("%s: %s%llu rows read, %llu written, %llu rejected, %.1f MB, %.0f rows/s, "
			 "ETA %s%s%s%s%s",
			 v->table, pct, (unsigned long long)read, (unsigned long long)written,
			 (unsigned long long)rejected, (double)bytes / 1e6, rate, eta,
			 pool ? "; " : "", pool_line, stall[0] ? "; " : "", stall);
	}
}

static void *progress_main(void *arg)
{
	struct progress *p = arg;
	/* the counters are watched every quarter second, so a stall is timed
	 * from when they stopped; a log line goes out every interval */
	double tick = p->bar || p->interval > 0.25 ? 0.25 : p->interval;
	double next_log = now_seconds() + p->interval;
	watch(p);
	pthread_mutex_lock(&p->lock);
	while (!p->stop) {
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		double when = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9 + tick;
		ts.tv_sec = (time_t)when;
		ts.tv_nsec = (long)((when - (double)ts.tv_sec) * 1e9);
		pthread_cond_timedwait(&p->cond, &p->lock, &ts);
		if (p->stop)
			break;
		pthread_mutex_unlock(&p->lock);
		watch(p);
		if (p->bar || now_seconds() >= next_log) {
			draw(p, false);
			next_log = now_seconds() + p->interval;
		}
		pthread_mutex_lock(&p->lock);
	}
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

bool progress_start(struct progress **out, enum progress_mode mode, double interval, bool quiet,
		    struct progress_view *view)
{
	*out = NULL;
	if (quiet || mode == PROGRESS_NONE)
		return true;
	struct progress *p = calloc(1, sizeof *p);
	if (!p)
		return false;
	p->bar = mode == PROGRESS_BAR || (mode == PROGRESS_AUTO && isatty(STDERR_FILENO));
	p->interval = interval > 0 ? interval : 10;
	p->view = view;
	if (view->target)
		url_redact(view->target, p->target, sizeof p->target);
	pthread_mutex_init(&p->lock, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&p->cond, &ca);
	pthread_condattr_destroy(&ca);
	if (pthread_create(&p->thread, NULL, progress_main, p) != 0) {
		free(p);
		return false;
	}
	*out = p;
	return true;
}

void progress_set_pool(struct progress *p, struct pool *pool)
{
	if (!p)
		return;
	pthread_mutex_lock(&p->lock);
	p->pool = pool;
	pthread_mutex_unlock(&p->lock);
}

void progress_stop(struct progress *p)
{
	if (!p)
		return;
	pthread_mutex_lock(&p->lock);
	p->stop = true;
	pthread_cond_signal(&p->cond);
	pthread_mutex_unlock(&p->lock);
	pthread_join(p->thread, NULL);
	draw(p, true);
	pthread_mutex_destroy(&p->lock);
	pthread_cond_destroy(&p->cond);
	free(p);
}
