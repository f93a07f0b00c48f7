/* src/util/buf.c
 * Growable buffer with a ceiling (see include/sluice/buf.h).
 */
#include "sluice/buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void buf_init(struct buf *b, size_t max)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	b->max = max ? max : BUF_DEFAULT_MAX;
	b->failed = false;
}

void buf_free(struct buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	b->failed = false;
}

bool buf_reserve(struct buf *b, size_t n)
{
	if (b->failed || n > b->max || b->len > b->max - n)
		return !(b->failed = true);
	size_t need = b->len + n + 1; /* room for the terminating NUL */
	if (need <= b->cap)
		return true;
	size_t cap = b->cap ? b->cap : 256;
	while (cap < need)
		cap *= 2;
	if (cap > b->max + 1)
		cap = b->max + 1;
	char *p = realloc(b->data, cap);
	if (!p)
		return !(b->failed = true);
	b->data = p;
	b->cap = cap;
	return true;
}

bool buf_append(struct buf *b, const void *p, size_t n)
{
	if (!buf_reserve(b, n))
		return false;
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return true;
}

bool buf_puts(struct buf *b, const char *s)
{
	return buf_append(b, s, strlen(s));
}

bool buf_putc(struct buf *b, char c)
{
	return buf_append(b, &c, 1);
}

bool buf_vprintf(struct buf *b, const char *fmt, va_list ap)
{
	va_list ap2;
	va_copy(ap2, ap);
	int n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0)
		return !(b->failed = true);
	if (!buf_reserve(b, (size_t)n))
		return false;
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
	return true;
}

bool buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	bool ok = buf_vprintf(b, fmt, ap);
	va_end(ap);
	return ok;
}

void buf_cat(struct buf *b, const char *s)
{
	(void)!buf_puts(b, s); /* kept in b->failed */
}

void buf_catn(struct buf *b, const void *p, size_t n)
{
	(void)!buf_append(b, p, n);
}

void buf_catc(struct buf *b, char c)
{
	(void)!buf_putc(b, c);
}

void buf_catf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	(void)!buf_vprintf(b, fmt, ap);
	va_end(ap);
}
