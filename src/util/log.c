/* src/util/log.c
 * stderr logging with one prefix style ("sluice: error: ..."), an ISO 8601
 * time before every line in log mode, and the terminal's status line (the
 * progress display), which a message clears first and redraws after.
 */
#include "sluice/log.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

static enum log_level current_level = LOG_INFO;
static struct log_display display;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
/* the status line as last drawn ("" when none), and its width */
static char status[1024];
/* log_divert's receiver, or NULL: messages go to stderr */
static void (*divert_fn)(void *ctx, const char *text);
static void *divert_ctx;
static int status_cols;

void log_set_level(enum log_level level)
{
	current_level = level;
}

enum log_level log_get_level(void)
{
	return current_level;
}

void log_setup(enum log_mode mode)
{
	const char *term = getenv("TERM");
	const char *no_color = getenv("NO_COLOR");
	bool terminal = isatty(STDERR_FILENO) && term && *term && strcmp(term, "dumb") != 0;
	pthread_mutex_lock(&log_lock);
	display.status_line = mode == LOG_MODE_BAR || (mode == LOG_MODE_AUTO && terminal);
	display.timestamps = !display.status_line && (mode == LOG_MODE_LOG || !terminal);
	display.ansi = terminal;
	/* no-color.org: present and not empty turns color off */
	display.color = terminal && !(no_color && *no_color);
	pthread_mutex_unlock(&log_lock);
}

struct log_display log_display(void)
{
	pthread_mutex_lock(&log_lock);
	struct log_display d = display;
	pthread_mutex_unlock(&log_lock);
	return d;
}

int log_term_width(void)
{
	struct winsize ws;
	if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
		return ws.ws_col;
	const char *cols = getenv("COLUMNS");
	int n = cols ? atoi(cols) : 0;
	return n > 0 ? n : 80;
}

void log_iso_time(double unix_seconds, char *out, int n)
{
	time_t t = (time_t)unix_seconds;
	struct tm tm;
	localtime_r(&t, &tm);
	char date[40];
	strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%S", &tm);
	long off = tm.tm_gmtoff / 60;
	if (off == 0)
		snprintf(out, (size_t)n, "%sZ", date);
	else
		snprintf(out, (size_t)n, "%s%c%02ld:%02ld", date, off < 0 ? '-' : '+',
			 labs(off) / 60, labs(off) % 60);
}

/* Erase the status line, the cursor back at its start. Under log_lock. */
static void status_erase(void)
{
	if (!status[0])
		return;
	if (display.ansi)
		fputs("\r\033[K", stderr);
	else
		fprintf(stderr, "\r%*s\r", status_cols, "");
}

/* Draw the status line again after a message. Under log_lock. */
static void status_redraw(void)
{
	if (status[0])
		fprintf(stderr, "\r%s", status);
}

/* Write text as lines, each with the prefix (a time in log mode, "sluice: ",
 * the label), the status line out of the way. Under log_lock. */
static void emit(const char *label, const char *color, const char *text)
{
	char when[48] = "";
	if (display.timestamps) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		log_iso_time((double)ts.tv_sec, when, sizeof when - 1);
		strcat(when, " ");
	}
	status_erase();
	for (const char *line = text;;) {
		size_t len = strcspn(line, "\n");
		if (label[0] && color && display.color)
			fprintf(stderr, "%ssluice: %s%s\033[0m%.*s\n", when, color, label, (int)len,
				line);
		else
			fprintf(stderr, "%ssluice: %s%.*s\n", when, label, (int)len, line);
		if (!line[len] || !line[len + 1])
			break;
		line += len + 1;
	}
	status_redraw();
	fflush(stderr);
}

static void vlog(const char *label, const char *color, const char *fmt, va_list ap)
{
	char stack[2048];
	va_list copy;
	va_copy(copy, ap);
	int n = vsnprintf(stack, sizeof stack, fmt, ap);
	char *text = stack;
	if (n >= (int)sizeof stack) {
		char *heap = malloc((size_t)n + 1);
		if (heap) {
			vsnprintf(heap, (size_t)n + 1, fmt, copy);
			text = heap;
		}
	}
	va_end(copy);
	pthread_mutex_lock(&log_lock);
	if (divert_fn)
		divert_fn(divert_ctx, text);
	else
		emit(label, color, text);
	pthread_mutex_unlock(&log_lock);
	if (text != stack)
		free(text);
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	static const char *const names[] = {"error: ", "warning: ", "", "debug: "};
	/* bold red, yellow, -, dim */
	static const char *const colors[] = {"\033[1;31m", "\033[33m", NULL, "\033[2m"};
	if (level > current_level)
		return;
	va_list ap;
	va_start(ap, fmt);
	vlog(names[level], colors[level], fmt, ap);
	va_end(ap);
}

void log_result(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vlog("", NULL, fmt, ap);
	va_end(ap);
}

void log_divert(void (*fn)(void *ctx, const char *text), void *ctx)
{
	pthread_mutex_lock(&log_lock);
	divert_fn = fn;
	divert_ctx = ctx;
	pthread_mutex_unlock(&log_lock);
}

void log_status(const char *line)
{
	pthread_mutex_lock(&log_lock);
	int cols = 0;
	if (line && line[0]) {
		snprintf(status, sizeof status, "%s", line);
		cols = (int)strlen(status); /* ASCII only: one byte, one column */
		if (display.ansi)
			fprintf(stderr, "\r%s\033[K", status);
		else
			fprintf(stderr, "\r%s%*s", status,
				status_cols > cols ? status_cols - cols : 0, "");
		status_cols = cols;
	} else {
		status_erase();
		status[0] = '\0';
		status_cols = 0;
	}
	fflush(stderr);
	pthread_mutex_unlock(&log_lock);
}
