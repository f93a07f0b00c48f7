/* include/sluice/error.h
 * Errors as values: every fallible step fills a struct sl_error and returns
 * false; only main turns the final status into an exit code.
 */
#ifndef SLUICE_ERROR_H
#define SLUICE_ERROR_H

#include <stdbool.h>

enum sl_error_kind {
	SL_ERR_NONE = 0,
	SL_ERR_USAGE,	    /* bad option, bad URL, missing file: exit 2 */
	SL_ERR_INPUT,	    /* one bad input record: a reject */
	SL_ERR_DATA,	    /* the server refused a value: a reject */
	SL_ERR_CONNECTION,  /* the connection broke or cannot be made */
	SL_ERR_RETRY,	    /* deadlock or serialization failure: rolled back, try again */
	SL_ERR_SERVER,	    /* any other server error */
	SL_ERR_INTERNAL,    /* out of memory, I/O error */
	SL_ERR_INTERRUPTED, /* SIGINT/SIGTERM: cancelled, not retried; exit 130/143 */
};

struct sl_error {
	enum sl_error_kind kind;
	char msg[1024];
	char sqlstate[6];     /* PostgreSQL SQLSTATE, "" when none */
	unsigned server_code; /* MySQL errno, 0 when none */
	long line;	      /* input line, 0 when unknown */
	/* the row of the statement's data the server names as failing, from
	 * 1 (PostgreSQL COPY's "line N"); 0 when it does not say */
	long row;
};

/* Clear an error to "no error". */
void sl_error_clear(struct sl_error *err);
/* Set kind and a printf-style message; returns false so callers can
 * `return sl_error_set(...)`. */
bool sl_error_set(struct sl_error *err, enum sl_error_kind kind, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Prefix the current message with context ("reading x.csv: ..."); returns false. */
bool sl_error_prefix(struct sl_error *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif
