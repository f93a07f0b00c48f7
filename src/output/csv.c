/* src/output/csv.c
 * CSV (RFC 4180) and TSV output, as sluice's CSV reader reads them back: a
 * header of the column names; a value quoted when it holds the delimiter,
 * a quote, CR or LF, starts or ends with a space, is empty (so it is not
 * NULL) or equals the --null text; quotes doubled; NULL an unquoted empty
 * field (or the --null text). TSV is the same with TAB between fields.
 */
#include <string.h>

#include "sluice/output.h"

static char delimiter(const struct output *o)
{
	return o->opt.delimiter ? o->opt.delimiter : o->opt.format == FORMAT_TSV ? '\t' : ',';
}

/* Append one field. */
static bool field(struct output *o, const char *p, size_t n, bool is_null)
{
	struct buf *b = &o->pending;
	const char *null = o->opt.null_marker;
	if (is_null)
		return !null || buf_puts(b, null);
	char d = delimiter(o);
	bool quote = o->opt.quote_all || n == 0 || p[0] == ' ' || p[n - 1] == ' ' ||
		     (null && strlen(null) == n && !memcmp(null, p, n));
	for (size_t i = 0; i < n && !quote; i++)
		quote = p[i] == d || p[i] == '"' || p[i] == '\n' || p[i] == '\r';
	if (!quote)
		return buf_append(b, p, n);
	if (!buf_reserve(b, n + 2) || !buf_putc(b, '"'))
		return false;
	for (const char *q; n && (q = memchr(p, '"', n)) != NULL;) {
		size_t k = (size_t)(q - p) + 1;
		if (!buf_append(b, p, k) || !buf_putc(b, '"'))
			return false;
		p += k;
		n -= k;
	}
	return buf_append(b, p, n) && buf_putc(b, '"');
}

static bool csv_begin(struct output *o)
{
	for (int i = 0; i < o->ncols; i++)
		if ((i && !buf_putc(&o->pending, delimiter(o))) ||
		    !field(o, o->cols[i].name, strlen(o->cols[i].name), false))
			return false;
	return buf_putc(&o->pending, '\n');
}

/* One field written at o (room for 2n + 2 bytes): as it is, or quoted
 * (doubling quotes) when it must be, as field() decides; returns the end. */
static char *put_field(const struct output *o, char *out, const char *p, size_t n, char d,
		       size_t null_len)
{
	const char *null = o->opt.null_marker;
	bool quote = o->opt.quote_all || n == 0 || p[0] == ' ' || p[n - 1] == ' ' ||
		     (null && null_len == n && !memcmp(null, p, n));
	if (!quote) {
		/* copy while looking: most values need no quotes */
		for (size_t i = 0; i < n; i++) {
			char c = p[i];
			if (c == d || c == '"' || c == '\n' || c == '\r') {
				quote = true;
				break;
			}
			out[i] = c;
		}
		if (!quote)
			return out + n;
	}
	*out++ = '"';
	for (size_t i = 0; i < n; i++) {
		if (p[i] == '"')
			*out++ = '"';
		*out++ = p[i];
	}
	*out++ = '"';
	return out;
}

/* A row: the room for its worst case reserved once, then written in
 * place (this is export's inner loop). */
static bool csv_row(struct output *o, const struct cell *vals)
{
	char d = delimiter(o);
	const char *null = o->opt.null_marker;
	size_t null_len = null ? strlen(null) : 0;
	size_t need = 1;
	for (int i = 0; i < o->ncols; i++)
		need += (vals[i].ptr ? 2 * vals[i].len + 2 : null_len) + 1;
	struct buf *b = &o->pending;
	if (!buf_reserve(b, need))
		return false;
	char *out = b->data + b->len;
	for (int i = 0; i < o->ncols; i++) {
		if (i)
			*out++ = d;
		if (!vals[i].ptr) {
			memcpy(out, null ? null : "", null_len);
			out += null_len;
		} else {
			out = put_field(o, out, vals[i].ptr, vals[i].len, d, null_len);
		}
	}
	*out++ = '\n';
	b->len = (size_t)(out - b->data);
	b->data[b->len] = '\0';
	return true;
}

static bool csv_end(struct output *o)
{
	(void)o;
	return true;
}

const struct output_ops csv_output_ops = {
	.name = "csv",
	.begin = csv_begin,
	.row = csv_row,
	.end = csv_end,
};
