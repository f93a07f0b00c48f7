/* src/report/progress.c
 * The live progress display on stderr: on a terminal one line, redrawn
 * through the logger's status line, that fits the terminal's width now; or
 * a plain log line every --stats-interval seconds (cron mail stays short).
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
/* The rate and the ETA come from the last this many seconds, not from the
 * start: a slow start (connecting, --create, a table scan) does not weigh
 * on them for the rest of the run. */
#define RATE_WINDOW 10.0
/* a sample every tick (0.25 s), a window's worth kept */
#define NSAMPLES 64

struct sample {
	double t;
	uint64_t rows;	/* written */
	uint64_t bytes; /* done */
};

struct progress {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool stop;
	bool bar;
	double interval;
	struct progress_view *view;
	struct pool *pool;
	char target[512];  /* the server, password hidden */
	uint64_t moved[5]; /* the counters seen last, to notice when they stop */
	double last_move;  /* when they last changed */
	struct sample samples[NSAMPLES];
	int nsamples, next; /* a ring: next is where the next sample goes */
};

/* Note when the counters last moved, and take a sample for the rates
 * (called every tick of the display). */
static void watch(struct progress *p)
{
	struct live_stats *l = p->view->live;
	uint64_t now_moved[5] = {l->rows_read, l->rows_written, l->rows_rejected, l->rows_not_found,
				 l->bytes_done};
	double now = now_seconds();
	if (memcmp(now_moved, p->moved, sizeof now_moved) || p->last_move == 0) {
		memcpy(p->moved, now_moved, sizeof now_moved);
		p->last_move = now;
	}
	p->samples[p->next] = (struct sample){now, now_moved[1], now_moved[4]};
	p->next = (p->next + 1) % NSAMPLES;
	if (p->nsamples < NSAMPLES)
		p->nsamples++;
}

/* Rows and input bytes per second over the last RATE_WINDOW seconds (from
 * the oldest sample inside it to now). */
static void window_rates(const struct progress *p, uint64_t rows, uint64_t bytes, double now,
			 double *rows_s, double *bytes_s)
{
	const struct sample *old = NULL;
	for (int i = 0; i < p->nsamples; i++) {
		const struct sample *s =
			&p->samples[(p->next - p->nsamples + i + NSAMPLES) % NSAMPLES];
		if (now - s->t <= RATE_WINDOW) {
			old = s;
			break;
		}
	}
	double start = p->view->start;
	double t0 = old ? old->t : start;
	uint64_t r0 = old ? old->rows : 0, b0 = old ? old->bytes : 0;
	if (now - t0 < 1.0) { /* too short a window to say: from the start */
		t0 = start;
		r0 = b0 = 0;
	}
	double span = now - t0;
	*rows_s = span > 0 ? (double)(rows - r0) / span : 0;
	*bytes_s = span > 0 ? (double)(bytes - b0) / span : 0;
}

/* "1:05" or "2:01:05" into out; "--:--" for a time not known. */
static void format_duration(char *out, size_t n, double secs)
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

/* A piece of the terminal line: its text, and how long it stays when the
 * line must be shortened (the lowest goes first). */
struct piece {
	char text[600];
	int keep;
	int cut; /* a name or note: cut (to 12 columns at least) at this rank; 0: never */
};

static int text_width(const char *s)
{
	int w = 0;
	for (; *s; s++)
		w += ((unsigned char)*s & 0xC0) != 0x80; /* UTF-8: count the first bytes */
	return w;
}

/* Cut s to at most w columns, ending in "..." when cut. */
static void shorten(char *s, int w)
{
	if (text_width(s) <= w)
		return;
	int cols = 0;
	char *p = s;
	for (; *p; p++) {
		if (((unsigned char)*p & 0xC0) != 0x80) {
			if (cols == (w > 3 ? w - 3 : 0))
				break;
			cols++;
		}
	}
	snprintf(p, 4, "%s", w > 3 ? "..." : "");
}

/* "4567", "45.7k", "457k", "4.57M", "45.7M" into out: four digits at most. */
static void format_count(char *out, size_t n, double v)
{
	static const char units[] = " kMGT";
	int u = 0;
	while (v >= 9999.5 && u < 4) {
		v /= 1000;
		u++;
	}
	if (!u)
		snprintf(out, n, "%.0f", v);
	else
		snprintf(out, n, "%.*f%c", v < 9.995 ? 2 : v < 99.95 ? 1 : 0, v, units[u]);
}

void progress_format_line(char *out, size_t n, int width, const struct progress_fields *f)
{
	enum { TABLE, BAR, PCT, ROWS, REJECTED, MB, RATE, ELAPSED, ETA, POOL, STALL, NPIECES };
	/* the bar's smallest width: "[" 10 cells "]"; it grows into what is left */
	enum { BAR_MIN = 12, BAR_MAX = 62 };
	struct piece pc[NPIECES];
	memset(pc, 0, sizeof pc);
	char t[32];
	snprintf(pc[TABLE].text, sizeof pc[TABLE].text, "%s", f->table ? f->table : "");
	pc[TABLE].keep = 8;
	pc[TABLE].cut = 5;
	if (f->fraction >= 0) {
		memset(pc[BAR].text, '#', BAR_MIN); /* a placeholder of the smallest width */
		pc[BAR].keep = 6;
		snprintf(pc[PCT].text, sizeof pc[PCT].text, "%d%%", (int)(f->fraction * 100));
		pc[PCT].keep = 18;
	}
	format_count(t, sizeof t, (double)f->rows);
	snprintf(pc[ROWS].text, sizeof pc[ROWS].text, "%s rows", t);
	pc[ROWS].keep = 20;
	if (f->rejected) {
		format_count(t, sizeof t, (double)f->rejected);
		snprintf(pc[REJECTED].text, sizeof pc[REJECTED].text, "%s rejected", t);
		pc[REJECTED].keep = 16;
	}
	snprintf(pc[MB].text, sizeof pc[MB].text, "%.1f MB", f->mb);
	pc[MB].keep = 4;
	if (!f->stall) {
		format_count(t, sizeof t, f->rate);
		snprintf(pc[RATE].text, sizeof pc[RATE].text, "%s rows/s", t);
		pc[RATE].keep = 10;
		if (f->fraction >= 0) { /* with a size to go by */
			format_duration(t, sizeof t, f->eta);
			snprintf(pc[ETA].text, sizeof pc[ETA].text, "ETA %s", t);
			pc[ETA].keep = 14;
		}
	} else {
		/* stalled: no rate to speak of; the note says what it waits on */
		snprintf(pc[STALL].text, sizeof pc[STALL].text, "%s", f->stall);
		pc[STALL].keep = 18;
		pc[STALL].cut = 18;
	}
	format_duration(t, sizeof t, f->elapsed);
	snprintf(pc[ELAPSED].text, sizeof pc[ELAPSED].text, "%s", t);
	pc[ELAPSED].keep = 12;
	if (f->pool_total > 0) {
		snprintf(pc[POOL].text, sizeof pc[POOL].text, "pool %d/%d", f->pool_busy,
			 f->pool_total);
		pc[POOL].keep = 2;
	}
	/* the line leaves the last column free: writing into it puts some
	 * terminals at the start of the next line */
	int room = width - 1;
	if (room < 1)
		room = 1;
	int total;
	for (;;) {
		total = -1;
		int lowest = -1, lowest_rank = 0;
		for (int i = 0; i < NPIECES; i++) {
			if (!pc[i].text[0])
				continue;
			total += text_width(pc[i].text) + 1;
			/* a piece that can be cut and is not yet as short as it goes
			 * ranks as its cut, else as its keep */
			int rank =
				pc[i].cut && text_width(pc[i].text) > 12 ? pc[i].cut : pc[i].keep;
			if (lowest < 0 || rank < lowest_rank) {
				lowest = i;
				lowest_rank = rank;
			}
		}
		if (total <= room || lowest < 0)
			break;
		int over = total - room, w = text_width(pc[lowest].text);
		if (pc[lowest].cut && w > 12)
			shorten(pc[lowest].text, w - over >= 12 ? w - over : 12);
		else
			pc[lowest].text[0] = '\0';
	}
	if (pc[BAR].text[0]) {
		/* the bar takes what room is left */
		int inner = BAR_MIN - 2 + (room - total);
		if (inner > BAR_MAX - 2)
			inner = BAR_MAX - 2;
		int full = (int)(f->fraction * inner);
		char *b = pc[BAR].text;
		b[0] = '[';
		for (int i = 0; i < inner; i++)
			b[1 + i] = i < full ? '=' : i == full ? '>' : ' ';
		b[1 + inner] = ']';
		b[2 + inner] = '\0';
	}
	size_t o = 0;
	out[0] = '\0';
	for (int i = 0; i < NPIECES && o < n; i++)
		if (pc[i].text[0])
			o += (size_t)snprintf(out + o, n - o, "%s%s", o ? " " : "", pc[i].text);
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

static void draw(struct progress *p, bool final)
{
	struct progress_view *v = p->view;
	double now = now_seconds();
	double elapsed = now - v->start;
	uint64_t read = v->live->rows_read, written = v->live->rows_written;
	uint64_t rejected = v->live->rows_rejected, bytes = v->live->bytes;
	/* percent and ETA count input whose rows are committed (or rejected),
	 * not input read: reading runs ahead of the writers by the queue */
	uint64_t done = v->live->bytes_done;
	double rate, bps;
	window_rates(p, written, done, now, &rate, &bps);
	double frac = -1, eta = -1;
	if (v->total_bytes > 0) {
		frac = (double)done / (double)v->total_bytes;
		if (frac > 1)
			frac = 1;
		if (frac > 0.999 && !final)
			frac = 0.999; /* 100% only once the run has ended */
		if (bps > 0)
			eta = ((double)v->total_bytes - (double)done) / bps;
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
		if (final) {
			log_status(NULL);
			return;
		}
		struct progress_fields f = {
			.table = v->table,
			.fraction = frac,
			.rows = written,
			.rejected = rejected,
			.mb = (double)bytes / 1e6,
			.rate = rate,
			.elapsed = elapsed,
			.eta = eta,
			.pool_busy = ps.busy,
			.pool_total = pool ? ps.total : 0,
			.stall = stall[0] ? stall : NULL,
		};
		char line[1024];
		progress_format_line(line, sizeof line, log_term_width(), &f);
		log_status(line);
	} else if (!final) {
		char pool_line[512] = "", pct[16] = "", t_eta[32], t_el[32];
		if (frac >= 0)
			snprintf(pct, sizeof pct, "%.1f%% ", frac * 100);
		format_duration(t_eta, sizeof t_eta, eta);
		format_duration(t_el, sizeof t_el, elapsed);
		if (pool)
			report_format_pool(pool_line, sizeof pool_line, &ps);
		log_info("%s: %s%llu rows read, %llu written, %llu rejected, %.1f MB, %.0f rows/s, "
			 "elapsed %s, ETA %s%s%s%s%s",
			 v->table, pct, (unsigned long long)read, (unsigned long long)written,
			 (unsigned long long)rejected, (double)bytes / 1e6, rate, t_el, t_eta,
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
	/* the logger knows whether stderr is a terminal to draw on */
	p->bar = mode != PROGRESS_LOG && log_display().status_line;
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
