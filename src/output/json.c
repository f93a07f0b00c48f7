/* src/output/json.c
 * NDJSON (one object per line) and JSON (one array of objects) output, as
 * sluice's JSON reader reads them back: each row an object of the column
 * names; NULL as null, numbers bare when their text is a JSON number
 * (NaN, Infinity and zero-padded text stay strings), booleans as true and
 * false, JSON values nested as they are, everything else a string. With
 * ejson, the values JSON has no type for go as MongoDB Extended JSON
 * (relaxed) wrappers, the forms sluice's JSON reader turns back into
 * their text (src/input/json_ejson.c).
 */
#include <stdio.h>
#include <string.h>
#include <yajl/yajl_gen.h>
#include <yajl/yajl_parse.h>

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

/* The value of one hex digit, or -1. */
static int hexval(char c)
{
	return c >= '0' && c <= '9'   ? c - '0'
	       : c >= 'a' && c <= 'f' ? c - 'a' + 10
	       : c >= 'A' && c <= 'F' ? c - 'A' + 10
				      : -1;
}

/* {"$binary": {"base64": ..., "subType": sub}} of the bytes written as
 * hex digits in p (n of them, after any "\x" or the dashes of a UUID);
 * false when they are not hex (the caller writes a string then). */
static bool put_binary(struct buf *b, const char *p, size_t n, const char *sub, bool *done)
{
	static const char b64[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	*done = false;
	size_t nd = 0;
	for (size_t i = 0; i < n; i++)
		if (p[i] != '-' && hexval(p[i]) < 0)
			return true;
		else if (p[i] != '-')
			nd++;
	if (nd % 2)
		return true;
	if (!buf_puts(b, "{\"$binary\":{\"base64\":\"") || !buf_reserve(b, nd / 3 * 2 + 8))
		return false;
	unsigned acc = 0;
	int have = 0; /* bytes in acc */
	for (size_t i = 0; i < n;) {
		if (p[i] == '-') {
			i++;
			continue;
		}
		acc = acc << 8 | (unsigned)(hexval(p[i]) << 4 | hexval(p[i + 1]));
		i += 2;
		if (++have == 3) {
			char q[4] = {b64[acc >> 18 & 63], b64[acc >> 12 & 63], b64[acc >> 6 & 63],
				     b64[acc & 63]};
			if (!buf_append(b, q, 4))
				return false;
			acc = 0;
			have = 0;
		}
	}
	if (have) {
		acc <<= 8 * (3 - have);
		char q[4] = {b64[acc >> 18 & 63], b64[acc >> 12 & 63],
			     have == 2 ? b64[acc >> 6 & 63] : '=', '='};
		if (!buf_append(b, q, 4))
			return false;
	}
	*done = true;
	return buf_puts(b, "\",\"subType\":\"") && buf_puts(b, sub) && buf_puts(b, "\"}}");
}

/* {"$date": "YYYY-MM-DDTHH:MM:SS[.f]Z"} from the text of a date and time
 * in UTC or of no zone ("YYYY-MM-DD HH:MM:SS[.f]", "+00" after an
 * instant); *done false when it is not that (infinity, another offset). */
static bool put_date(struct buf *b, const char *p, size_t n, bool *done)
{
	*done = false;
	if (n > 3 && !memcmp(p + n - 3, "+00", 3))
		n -= 3;
	if (n < 19 || n > 40 || p[4] != '-' || p[10] != ' ' || p[13] != ':')
		return true;
	for (size_t i = 0; i < n; i++)
		if (!(p[i] >= '0' && p[i] <= '9') && i != 4 && i != 7 && i != 10 && i != 13 &&
		    i != 16 && !(i == 19 && p[i] == '.'))
			return true;
	*done = true;
	return buf_puts(b, "{\"$date\":\"") && buf_append(b, p, 10) && buf_putc(b, 'T') &&
	       buf_append(b, p + 11, n - 11) && buf_puts(b, "Z\"}");
}

/* Append one value of column c as Extended JSON, when its kind has a
 * wrapper; *done false when it has not (or its text does not fit one). */
static bool ejson_value(struct buf *b, const struct out_column *c, const struct cell *v, bool *done)
{
	*done = false;
	switch (c->kind) {
	case OUT_DECIMAL:
		if (!output_json_number(v->ptr, v->len))
			return true;
		*done = true;
		return buf_puts(b, "{\"$numberDecimal\":\"") && buf_append(b, v->ptr, v->len) &&
		       buf_puts(b, "\"}");
	case OUT_FLOAT:
		if (output_json_number(v->ptr, v->len))
			return true; /* a number, as relaxed writes a finite double */
		if (!((v->len == 3 && !memcmp(v->ptr, "NaN", 3)) ||
		      (v->len == 8 && !memcmp(v->ptr, "Infinity", 8)) ||
		      (v->len == 9 && !memcmp(v->ptr, "-Infinity", 9))))
			return true;
		*done = true;
		return buf_puts(b, "{\"$numberDouble\":\"") && buf_append(b, v->ptr, v->len) &&
		       buf_puts(b, "\"}");
	case OUT_BINARY:
		if (v->len < 2 || v->ptr[0] != '\\' || v->ptr[1] != 'x')
			return true;
		return put_binary(b, v->ptr + 2, v->len - 2, "00", done);
	case OUT_UUID:
		if (v->len != 36)
			return true;
		return put_binary(b, v->ptr, v->len, "04", done);
	case OUT_DATETIME:
		return put_date(b, v->ptr, v->len, done);
	default:
		return true;
	}
}

/* YAJL events passed on to a generator, as sluice's JSON reader does when
 * it stores a nested value (numbers as their text). */
static int re_null(void *g)
{
	return yajl_gen_null(g) == yajl_gen_status_ok;
}
static int re_bool(void *g, int v)
{
	return yajl_gen_bool(g, v) == yajl_gen_status_ok;
}
static int re_number(void *g, const char *s, size_t n)
{
	return yajl_gen_number(g, s, n) == yajl_gen_status_ok;
}
static int re_string(void *g, const unsigned char *s, size_t n)
{
	return yajl_gen_string(g, s, n) == yajl_gen_status_ok;
}
static int re_map_open(void *g)
{
	return yajl_gen_map_open(g) == yajl_gen_status_ok;
}
static int re_map_close(void *g)
{
	return yajl_gen_map_close(g) == yajl_gen_status_ok;
}
static int re_array_open(void *g)
{
	return yajl_gen_array_open(g) == yajl_gen_status_ok;
}
static int re_array_close(void *g)
{
	return yajl_gen_array_close(g) == yajl_gen_status_ok;
}
static const yajl_callbacks regen = {
	.yajl_null = re_null,
	.yajl_boolean = re_bool,
	.yajl_number = re_number,
	.yajl_string = re_string,
	.yajl_start_map = re_map_open,
	.yajl_map_key = re_string,
	.yajl_end_map = re_map_close,
	.yajl_start_array = re_array_open,
	.yajl_end_array = re_array_close,
};

/* Whether JSON text p (n bytes), read back by sluice load as a nested
 * value, is stored as these very bytes: an object or an array, with no
 * Extended JSON wrapper load would turn into a value (no '"$'), already in
 * the form load writes a nested value in (YAJL's, compact: what
 * JSON.stringify and most programs write). Otherwise it goes as a string,
 * whose content load stores as it is. */
static bool nests_as_written(const char *p, size_t n)
{
	if (n < 2 || (p[0] != '{' && p[0] != '[') || memmem(p, n, "\"$", 2))
		return false;
	yajl_gen g = yajl_gen_alloc(NULL);
	yajl_handle h = g ? yajl_alloc(&regen, NULL, g) : NULL;
	const unsigned char *out;
	size_t len;
	bool same = h && yajl_parse(h, (const unsigned char *)p, n) == yajl_status_ok &&
		    yajl_complete_parse(h) == yajl_status_ok &&
		    yajl_gen_get_buf(g, &out, &len) == yajl_gen_status_ok && len == n &&
		    !memcmp(out, p, n);
	if (h)
		yajl_free(h);
	if (g)
		yajl_gen_free(g);
	return same;
}

/* Append one value of column c. */
static bool value(const struct output *o, struct buf *b, const struct out_column *c,
		  const struct cell *v)
{
	if (!v->ptr)
		return buf_puts(b, "null");
	bool done = false;
	if (o->opt.ejson && c->kind >= OUT_DECIMAL) {
		if (!ejson_value(b, c, v, &done))
			return false;
		if (done)
			return true;
	}
	switch (c->kind) {
	case OUT_NUMBER:
	case OUT_DECIMAL:
	case OUT_FLOAT:
		if (output_json_number(v->ptr, v->len))
			return buf_append(b, v->ptr, v->len);
		break;
	case OUT_BOOL:
		if ((v->len == 4 && !memcmp(v->ptr, "true", 4)) ||
		    (v->len == 5 && !memcmp(v->ptr, "false", 5)))
			return buf_append(b, v->ptr, v->len);
		break;
	case OUT_JSON:
		/* the server's JSON text, valid by its type (normalized: jsonb):
		 * nested as it is, unless load would read a wrapper in it */
		if (v->len && !memmem(v->ptr, v->len, "\"$", 2))
			return buf_append(b, v->ptr, v->len);
		break;
	case OUT_JSON_TEXT:
		if (nests_as_written(v->ptr, v->len))
			return buf_append(b, v->ptr, v->len);
		break;
	case OUT_TEXT:
	case OUT_BINARY:
	case OUT_UUID:
	case OUT_DATETIME:
		break;
	}
	return string(b, v->ptr, v->len);
}

/* Append an object of the n cells vals of columns cols, left open (no
 * closing brace). */
static bool object_open(const struct output *o, struct buf *b, const struct out_column *cols, int n,
			const struct cell *vals)
{
	if (!buf_putc(b, '{'))
		return false;
	for (int i = 0; i < n; i++)
		if ((i && !buf_putc(b, ',')) || !string(b, cols[i].name, strlen(cols[i].name)) ||
		    !buf_putc(b, ':') || !value(o, b, &cols[i], &vals[i]))
			return false;
	return true;
}

static bool json_row_open(struct output *o, const struct cell *vals)
{
	struct buf *b = &o->pending;
	bool array = o->opt.format == FORMAT_JSON;
	if (array && !o->first && !buf_putc(b, ','))
		return false;
	return (!array || buf_putc(b, '\n')) && object_open(o, b, o->cols, o->ncols, vals);
}

static bool json_row_close(struct output *o)
{
	return buf_putc(&o->pending, '}') &&
	       (o->opt.format == FORMAT_JSON || buf_putc(&o->pending, '\n'));
}

static bool json_row(struct output *o, const struct cell *vals)
{
	return json_row_open(o, vals) && json_row_close(o);
}

static bool json_nest_open(struct output *o, const char *name)
{
	struct buf *b = &o->pending;
	return (!o->ncols || buf_putc(b, ',')) && string(b, name, strlen(name)) &&
	       buf_puts(b, ":[");
}

static bool json_nest_row(struct output *o, const struct out_column *cols, int ncols,
			  const struct cell *vals, bool first)
{
	struct buf *b = &o->pending;
	return (first || buf_putc(b, ',')) && object_open(o, b, cols, ncols, vals) &&
	       buf_putc(b, '}');
}

static bool json_nest_close(struct output *o)
{
	return buf_putc(&o->pending, ']');
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
	.row_open = json_row_open,
	.nest_open = json_nest_open,
	.nest_row = json_nest_row,
	.nest_close = json_nest_close,
	.row_close = json_row_close,
};
