/* include/sluice/buf.h
 * A growable byte buffer with a ceiling, for SQL text, COPY data and record
 * assembly: hostile input makes an append fail cleanly instead of eating memory.
 */
#ifndef SLUICE_BUF_H
#define SLUICE_BUF_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

struct buf {
	char *data; /* always NUL-terminated when non-NULL */
	size_t len;
	size_t cap;
	size_t max; /* largest len allowed; appends past it fail */
};

#define BUF_DEFAULT_MAX ((size_t)1 << 30)

/* Start an empty buffer that may grow to max bytes (0: BUF_DEFAULT_MAX). */
void buf_init(struct buf *b, size_t max);
/* Release the memory; the buffer is empty and reusable afterwards. */
void buf_free(struct buf *b);
/* Forget the contents but keep the memory. */
static inline void buf_reset(struct buf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = '\0';
}
/* Make room for n more bytes; false when that would pass the ceiling. */
bool buf_reserve(struct buf *b, size_t n);
/* Append n bytes; false (buffer unchanged) when past the ceiling. */
bool buf_append(struct buf *b, const void *p, size_t n);
bool buf_puts(struct buf *b, const char *s);
bool buf_putc(struct buf *b, char c);
bool buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
bool buf_vprintf(struct buf *b, const char *fmt, va_list ap);
/* The contents as a C string ("" for a never-used buffer). */
static inline const char *buf_str(const struct buf *b)
{
	return b->data ? b->data : "";
}

#endif
