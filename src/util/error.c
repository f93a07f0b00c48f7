/* src/util/error.c
 * Filling and prefixing struct sl_error (see include/sluice/error.h).
 */
#include "sluice/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void sl_error_clear(struct sl_error *err)
{
	/* each field, not the 1 KB message buffer: the load clears one for
	 * every record it reads */
	err->kind = SL_ERR_NONE;
	err->msg[0] = '\0';
	err->sqlstate[0] = '\0';
	err->server_code = 0;
	err->line = 0;
	err->row = 0;
}

bool sl_error_set(struct sl_error *err, enum sl_error_kind kind, const char *fmt, ...)
{
	va_list ap;
	err->kind = kind;
	err->row = 0;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof err->msg, fmt, ap);
	va_end(ap);
	return false;
}

bool sl_error_prefix(struct sl_error *err, const char *fmt, ...)
{
	char prefix[512], old[sizeof err->msg];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(prefix, sizeof prefix, fmt, ap);
	va_end(ap);
	memcpy(old, err->msg, sizeof old);
	size_t n = strlen(prefix);
	if (n > sizeof err->msg - 3)
		n = sizeof err->msg - 3;
	memcpy(err->msg, prefix, n);
	memcpy(err->msg + n, ": ", 2);
	size_t rest = strnlen(old, sizeof old);
	if (rest > sizeof err->msg - n - 3)
		rest = sizeof err->msg - n - 3;
	memcpy(err->msg + n + 2, old, rest);
	err->msg[n + 2 + rest] = '\0';
	return false;
}
