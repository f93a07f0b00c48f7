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
	size_t max;  /* largest len allowed; appends past it fail */
	bool failed; /* an append failed since the last init or reset */
};

#define BUF_DEFAULT_MAX ((size_t)1 << 30)

/* Start an empty buffer that may grow to max bytes (0: BUF_DEFAULT_MAX). */
void buf_init(struct buf *b, size_t max);
/* Release the memory; the buffer is empty and reusable afterwards. */
void buf_free(struct buf *b);
/* Forget the contents (and a failed append) but keep the memory. */
static inline void buf_reset(struct buf *b)
{
	b->len = 0;
	b->failed = false;
	if (b->data)
		b->data[0] = '\0';
}

/* The appends return false (buffer unchanged) when the text would pass the
 * ceiling or memory runs out, and the result must be used: a statement or
 * a file built from a short buffer is never sent or written. A failure is
 * also sticky: every later append fails until buf_reset. */
#define BUF_MUST_USE __attribute__((warn_unused_result))
/* Make room for n more bytes; false when that would pass the ceiling. */
BUF_MUST_USE bool buf_reserve(struct buf *b, size_t n);
/* Append n bytes. */
BUF_MUST_USE bool buf_append(struct buf *b, const void *p, size_t n);
BUF_MUST_USE bool buf_puts(struct buf *b, const char *s);
BUF_MUST_USE bool buf_putc(struct buf *b, char c);
BUF_MUST_USE bool buf_printf(struct buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
BUF_MUST_USE bool buf_vprintf(struct buf *b, const char *fmt, va_list ap);

/* For text built in many steps and checked once (a report): the same
 * appends with the failure kept in the buffer, for buf_failed to tell. */
void buf_cat(struct buf *b, const char *s);
void buf_catn(struct buf *b, const void *p, size_t n);
void buf_catc(struct buf *b, char c);
void buf_catf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Whether an append failed since the last init or reset. */
static inline bool buf_failed(const struct buf *b)
{
	return b->failed;
}
/* The contents as a C string ("" for a never-used buffer). */
static inline const char *buf_str(const struct buf *b)
{
	return b->data ? b->data : "";
}

#endif
