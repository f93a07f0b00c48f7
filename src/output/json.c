/* src/output/json.c
 * NDJSON (one object per line) and JSON (one array of objects) output, as
 * sluice's JSON reader reads them back: each row an object of the column
 * names; NULL as null, numbers bare when their text is a JSON number
 * (NaN, Infinity and zero-padded text stay strings), booleans as true and
 * false, JSON values nested as they are, everything else a string.
 */
#include <stdio.h>
#include <string.h>

#include "sluice/output.h"

/* Append p (n bytes) as a JSON string: quotes, backslashes and control
 * characters escaped, every other byte as it is (UTF-8 passes through). */
static bool string(struct buf *b, const char *p, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	if (!buf_reserve(b, n + 2) || !buf_putc(b, '"'))
		return false;
	size_t run = 0; /* bytes of p[0..run) that need no escape */
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];
		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		if (!buf_append(b, p + run, i - run))
			return false;
		run = i + 1;
		const char *esc = c == '"'    ? "\\\""
				  : c == '\\' ? "\\\\"
				  : c == '\n' ? "\\n"
				  : c == '\r' ? "\\r"
				  : c == '\t' ? "\\t"
					      : NULL;
		if (esc ? !buf_puts(b, esc)
			: !buf_append(b, (char[]){'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]},
				      6))
			return false;
	}
	return buf_append(b, p + run, n - run) && buf_putc(b, '"');
}

static bool json_begin(struct output *o)
{
	return o->opt.format != FORMAT_JSON || buf_putc(&o->pending, '[');
}

/* Append one value of column c. */
static bool value(struct buf *b, const struct out_column *c, const struct cell *v)
{
	if (!v->ptr)
		return buf_puts(b, "null");
	switch (c->kind) {
	case OUT_NUMBER:
		if (output_json_number(v->ptr, v->len))
			return buf_append(b, v->ptr, v->len);
		break;
	case OUT_BOOL:
		if ((v->len == 4 && !memcmp(v->ptr, "true", 4)) ||
		    (v->len == 5 && !memcmp(v->ptr, "false", 5)))
			return buf_append(b, v->ptr, v->len);
		break;
	case OUT_JSON:
		/* the server's JSON text, valid by its type: nested as it is */
		if (v->len)
			return buf_append(b, v->ptr, v->len);
		break;
	case OUT_TEXT:
		break;
	}
	return string(b, v->ptr, v->len);
}

static bool json_row(struct output *o, const struct cell *vals)
{
	struct buf *b = &o->pending;
	bool array = o->opt.format == FORMAT_JSON;
	if (array && !o->first && !buf_putc(b, ','))
		return false;
	if ((array && !buf_putc(b, '\n')) || !buf_putc(b, '{'))
		return false;
	for (int i = 0; i < o->ncols; i++)
		if ((i && !buf_putc(b, ',')) ||
		    !string(b, o->cols[i].name, strlen(o->cols[i].name)) || !buf_putc(b, ':') ||
		    !value(b, &o->cols[i], &vals[i]))
			return false;
	return buf_putc(b, '}') && (array || buf_putc(b, '\n'));
}

static bool json_between(struct output *o)
{
	return o->opt.format != FORMAT_JSON || buf_putc(&o->pending, ',');
}

static bool json_end(struct output *o)
{
	return o->opt.format != FORMAT_JSON || buf_puts(&o->pending, "\n]\n");
}

const struct output_ops json_output_ops = {
	.name = "json",
	.begin = json_begin,
	.row = json_row,
	.between = json_between,
	.end = json_end,
};
