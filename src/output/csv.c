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

static bool csv_row(struct output *o, const struct cell *vals)
{
	char d = delimiter(o);
	for (int i = 0; i < o->ncols; i++)
		if ((i && !buf_putc(&o->pending, d)) ||
		    !field(o, vals[i].ptr, vals[i].len, vals[i].ptr == NULL))
			return false;
	return buf_putc(&o->pending, '\n');
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
