/* include/sluice/log.h
 * Messages for the operator, always on stderr: stdout carries data only.
 * One lock orders every line sluice writes there, and the progress line on
 * a terminal (the status line) is cleared before a message and redrawn
 * after it, so a message is always a line of its own.
 */
#ifndef SLUICE_LOG_H
#define SLUICE_LOG_H

#include <stdbool.h>

enum log_level { LOG_ERROR = 0, LOG_WARN = 1, LOG_INFO = 2, LOG_DEBUG = 3 };

/* Messages above this level are dropped (--quiet sets LOG_ERROR). */
void log_set_level(enum log_level level);
enum log_level log_get_level(void);
/* "sluice: error: ..." (the level's label, none for info), one line. */
void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* "sluice: ...", one line, shown whatever the level: what a run came to
 * (the summary, an interruption), which --quiet keeps for failures only. */
void log_result(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Hand every message (its text, without prefix or label) to fn instead of
 * writing it, until log_divert(NULL, NULL): how sluice run checks a job
 * file's steps with the command line's own parser and says where in the
 * file each error is. fn runs under the log's lock: it must not log. */
void log_divert(void (*fn)(void *ctx, const char *text), void *ctx);

#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)

/* How --progress asked for the display (the CLI maps its option). */
enum log_mode { LOG_MODE_AUTO = 0, LOG_MODE_BAR, LOG_MODE_LOG, LOG_MODE_NONE };

/* What stderr is, decided once by log_setup from the mode, the terminal
 * (isatty, $TERM: "dumb" or unset is no terminal to draw on) and
 * $NO_COLOR. */
struct log_display {
	bool status_line; /* a redrawn progress line (a real terminal, or --progress bar) */
	bool timestamps;  /* log mode: every line starts with an ISO 8601 time */
	bool color;	  /* labels in color: a real terminal, NO_COLOR unset */
	bool ansi;	  /* the terminal understands ESC [ K (erase to end of line) */
};
void log_setup(enum log_mode mode);
struct log_display log_display(void);
/* The terminal's width in columns now (it may have been resized), or 80. */
int log_term_width(void);

/* Show line as the status line (the progress display), replacing the last
 * one; NULL or "" clears it. Only with log_display().status_line. */
void log_status(const char *line);

/* "2026-12-01T02:15:03+01:00" (local time with its offset) into out. */
void log_iso_time(double unix_seconds, char *out, int n);

#endif
