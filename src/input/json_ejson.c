/* src/input/json_ejson.c
 * MongoDB Extended JSON in the JSON reader: a nested value holding wrappers
 * becomes their values, or relaxed JSON, before it is stored.
 *
 * MongoDB Extended JSON (v2, canonical and relaxed, and the legacy
 * {"$binary": "...", "$type": "hh"}). A nested value in which a key starting
 * with '$' appeared is parsed again, by YAJL, into a flat tree (struct
 * ejson). A value that is one wrapper becomes its value as text
 * ({"$oid": "..."} its 24 hex digits, a date "YYYY-MM-DDTHH:MM:SS.mmmZ", ...);
 * wrappers inside other objects and arrays become the relaxed JSON a user
 * can query (a date the ISO string, a $numberLong the number, ...). An
 * object is a wrapper only when its keys are exactly a wrapper's; one whose
 * keys are but whose value is not valid rejects the record.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_gen.h>
#include <yajl/yajl_parse.h>

#include "sluice/buf.h"
#include "sluice/convert.h"
#include "sluice/json.h"

enum ej_wrapper {
	EJW_NONE,
	EJW_OID,
	EJW_DATE,
	EJW_LONG,
	EJW_INT,
	EJW_DOUBLE,
	EJW_DECIMAL,
	EJW_BINARY,
	EJW_UUID,
	EJW_TIMESTAMP,
	EJW_REGEX,
	EJW_MINKEY,
	EJW_MAXKEY,
	EJW_SYMBOL,
	EJW_CODE,
	EJW_UNDEFINED,
};

/* The one-key wrappers, by their key. */
static const struct {
	const char *key;
	enum ej_wrapper w;
} ej_wrappers[] = {
	{"$oid", EJW_OID},
	{"$date", EJW_DATE},
	{"$numberLong", EJW_LONG},
	{"$numberInt", EJW_INT},
	{"$numberDouble", EJW_DOUBLE},
	{"$numberDecimal", EJW_DECIMAL},
	{"$binary", EJW_BINARY},
	{"$uuid", EJW_UUID},
	{"$timestamp", EJW_TIMESTAMP},
	{"$regularExpression", EJW_REGEX},
	{"$minKey", EJW_MINKEY},
	{"$maxKey", EJW_MAXKEY},
	{"$symbol", EJW_SYMBOL},
	{"$code", EJW_CODE},
	{"$undefined", EJW_UNDEFINED},
};

/* What a wrapper's value is written as. */
enum ej_out { EJO_NULL, EJO_TEXT, EJO_NUMBER };

/* Append a value to the tree; 0 (YAJL stops) when out of memory or past
 * max_nodes values. */
static int ej_add(struct ejson *e, enum ej_kind kind, const void *s, size_t n)
{
	if (e->n == e->cap) {
		if (e->cap >= e->max_nodes) {
			e->too_many = true;
			return 0;
		}
		size_t cap = e->cap ? e->cap * 2 : 256;
		if (cap > e->max_nodes)
			cap = e->max_nodes;
		struct ej_node *p = realloc(e->nodes, cap * sizeof *p);
		if (!p) {
			e->oom = true;
			return 0;
		}
		e->nodes = p;
		e->cap = cap;
	}
	struct ej_node *x = &e->nodes[e->n];
	x->kind = kind;
	x->off = e->text.len;
	x->len = n;
	x->end = e->n + 1;
	if (n && !buf_append(&e->text, s, n)) {
		e->too_many = true; /* past the ceiling: the value is larger than a record */
		return 0;
	}
	e->n++;
	return 1;
}

static int ej_open(struct ejson *e, enum ej_kind kind)
{
	if (e->depth == e->stack_cap) {
		size_t cap = e->stack_cap ? e->stack_cap * 2 : 64;
		size_t *p = realloc(e->stack, cap * sizeof *p);
		if (!p) {
			e->oom = true;
			return 0;
		}
		e->stack = p;
		e->stack_cap = cap;
	}
	e->stack[e->depth++] = e->n;
	return ej_add(e, kind, NULL, 0);
}

static int ej_close(void *ctx)
{
	struct ejson *e = ctx;
	if (e->depth)
		e->nodes[e->stack[--e->depth]].end = e->n;
	return 1;
}

static int ej_null(void *ctx)
{
	return ej_add(ctx, EJ_NULL, NULL, 0);
}
static int ej_boolean(void *ctx, int v)
{
	return ej_add(ctx, v ? EJ_TRUE : EJ_FALSE, NULL, 0);
}
static int ej_number(void *ctx, const char *s, size_t n)
{
	return ej_add(ctx, EJ_NUMBER, s, n);
}
static int ej_string(void *ctx, const unsigned char *s, size_t n)
{
	return ej_add(ctx, EJ_STRING, s, n);
}
static int ej_key(void *ctx, const unsigned char *s, size_t n)
{
	return ej_add(ctx, EJ_KEY, s, n);
}
static int ej_start_map(void *ctx)
{
	return ej_open(ctx, EJ_MAP);
}
static int ej_start_array(void *ctx)
{
	return ej_open(ctx, EJ_ARRAY);
}

static const yajl_callbacks ej_callbacks = {
	.yajl_null = ej_null,
	.yajl_boolean = ej_boolean,
	.yajl_number = ej_number,
	.yajl_string = ej_string,
	.yajl_start_map = ej_start_map,
	.yajl_map_key = ej_key,
	.yajl_end_map = ej_close,
	.yajl_start_array = ej_start_array,
	.yajl_end_array = ej_close,
};

/* The bytes of value i (a number, string or key). */
static const char *ej_text(const struct ejson *e, size_t i)
{
	return buf_str(&e->text) + e->nodes[i].off;
}

/* Whether node i is a string (or key) equal to w. */
static bool ej_is(const struct ejson *e, size_t i, const char *w)
{
	size_t n = strlen(w);
	return (e->nodes[i].kind == EJ_KEY || e->nodes[i].kind == EJ_STRING) &&
	       e->nodes[i].len == n && !memcmp(ej_text(e, i), w, n);
}

/* Whether map i has exactly the two keys a and b (in either order); their
 * values' nodes into *va, *vb. */
static bool ej_pair(const struct ejson *e, size_t i, const char *a, const char *b, size_t *va,
		    size_t *vb)
{
	if (e->nodes[i].kind != EJ_MAP || i + 1 >= e->nodes[i].end)
		return false;
	size_t k1 = i + 1, k2 = e->nodes[k1 + 1].end;
	if (k2 >= e->nodes[i].end || e->nodes[k2 + 1].end != e->nodes[i].end)
		return false;
	if (ej_is(e, k1, a) && ej_is(e, k2, b)) {
		*va = k1 + 1;
		*vb = k2 + 1;
		return true;
	}
	if (ej_is(e, k1, b) && ej_is(e, k2, a)) {
		*va = k2 + 1;
		*vb = k1 + 1;
		return true;
	}
	return false;
}

/* The wrapper node i is by its keys, or EJW_NONE. */
static enum ej_wrapper ej_wrapper_of(const struct ejson *e, size_t i)
{
	if (e->nodes[i].kind != EJ_MAP || i + 1 >= e->nodes[i].end)
		return EJW_NONE;
	size_t k1 = i + 1;
	if (e->nodes[k1].len < 2 || ej_text(e, k1)[0] != '$')
		return EJW_NONE;
	size_t va, vb;
	if (e->nodes[k1 + 1].end != e->nodes[i].end)
		return ej_pair(e, i, "$binary", "$type", &va, &vb) ? EJW_BINARY : EJW_NONE;
	for (size_t w = 0; w < sizeof ej_wrappers / sizeof *ej_wrappers; w++)
		if (ej_is(e, k1, ej_wrappers[w].key))
			return ej_wrappers[w].w;
	return EJW_NONE;
}

/* An integer as text, -?digits, within [lo, hi], into *v. */
static bool ej_int(const char *s, size_t n, int64_t lo, int64_t hi, int64_t *v)
{
	size_t i = n && s[0] == '-' ? 1 : 0;
	if (i == n)
		return false;
	uint64_t x = 0;
	for (; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		unsigned d = (unsigned)(s[i] - '0');
		if (x > (UINT64_MAX - d) / 10)
			return false;
		x = x * 10 + d;
	}
	if (s[0] == '-') {
		if (x > (uint64_t)INT64_MAX + 1)
			return false;
		*v = x == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)x;
	} else {
		if (x > (uint64_t)INT64_MAX)
			return false;
		*v = (int64_t)x;
	}
	return *v >= lo && *v <= hi;
}

/* Node i as an integer (a string or a number) within [lo, hi]. */
static bool ej_int_node(const struct ejson *e, size_t i, int64_t lo, int64_t hi, int64_t *v)
{
	return (e->nodes[i].kind == EJ_STRING || e->nodes[i].kind == EJ_NUMBER) &&
	       ej_int(ej_text(e, i), e->nodes[i].len, lo, hi, v);
}

static bool ej_digits(const char *s, size_t n, size_t *i)
{
	size_t from = *i;
	while (*i < n && s[*i] >= '0' && s[*i] <= '9')
		(*i)++;
	return *i > from;
}

/* Whether s is a number as JSON writes it: -?(0|[1-9]d*)(.d+)?([eE][+-]?d+)? */
static bool ej_json_number(const char *s, size_t n)
{
	size_t i = n && s[0] == '-' ? 1 : 0;
	if (i < n && s[i] == '0')
		i++;
	else if (!ej_digits(s, n, &i))
		return false;
	if (i < n && s[i] == '.' && (++i, !ej_digits(s, n, &i)))
		return false;
	if (i < n && (s[i] == 'e' || s[i] == 'E')) {
		i++;
		if (i < n && (s[i] == '+' || s[i] == '-'))
			i++;
		if (!ej_digits(s, n, &i))
			return false;
	}
	return i == n;
}

static int ej_hex(char c)
{
	return c >= '0' && c <= '9'   ? c - '0'
	       : c >= 'a' && c <= 'f' ? c - 'a' + 10
	       : c >= 'A' && c <= 'F' ? c - 'A' + 10
				      : -1;
}

static int ej_base64(unsigned char c)
{
	return c >= 'A' && c <= 'Z'   ? c - 'A'
	       : c >= 'a' && c <= 'z' ? c - 'a' + 26
	       : c >= '0' && c <= '9' ? c - '0' + 52
	       : c == '+'	      ? 62
	       : c == '/'	      ? 63
				      : -1;
}

/* Decode base64 (padded or not) into out. */
static bool ej_base64_decode(const char *s, size_t n, struct buf *out)
{
	buf_reset(out);
	size_t pad = 0;
	while (n && s[n - 1] == '=' && pad < 2) {
		n--;
		pad++;
	}
	if (n % 4 == 1 || (pad && (n + pad) % 4))
		return false;
	uint32_t acc = 0;
	int bits = 0;
	for (size_t i = 0; i < n; i++) {
		int v = ej_base64((unsigned char)s[i]);
		if (v < 0)
			return false;
		acc = (acc << 6 | (uint32_t)v) & 0xffffff;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (!buf_putc(out, (char)(acc >> bits & 0xff)))
				return false;
		}
	}
	return true;
}

/* 16 bytes as a UUID's text, 8-4-4-4-12 lowercase hex digits. */
static bool ej_put_uuid(struct buf *out, const unsigned char *b)
{
	static const char hex[] = "0123456789abcdef";
	char t[37];
	size_t o = 0;
	for (int i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			t[o++] = '-';
		t[o++] = hex[b[i] >> 4];
		t[o++] = hex[b[i] & 15];
	}
	return buf_append(out, t, 36);
}

/* A date as "YYYY-MM-DDTHH:MM:SS.mmmZ" in UTC: from an ISO 8601 string
 * (a zone or Z, none is UTC), or milliseconds since 1970. */
static bool ej_put_iso(struct buf *out, const char *s, size_t n)
{
	char t[64 + CONVERT_MAX_GROWTH];
	size_t k;
	if (n <= 10 || n > 64 || !convert_iso_datetime(s, n, t, sizeof t, &k))
		return false;
	t[10] = 'T';
	size_t frac = k > 20 ? k - 20 : 0; /* "YYYY-MM-DD HH:MM:SS" then ".digits" */
	return buf_append(out, t, k) && (k > 19 || buf_putc(out, '.')) &&
	       buf_append(out, "000", frac < 3 ? 3 - frac : 0) && buf_putc(out, 'Z');
}

static bool ej_put_epoch(struct buf *out, int64_t ms)
{
	char t[CONVERT_EPOCH_MAX];
	size_t k;
	return convert_epoch_ms_iso(ms, t, sizeof t, &k) && buf_append(out, t, k);
}

/* The value of wrapper w at node i into e->out with what it is written as:
 * as a column's text, or nested (its relaxed JSON value: a string, a number
 * or null). Returns NULL, or why the wrapper is not valid. */
static const char *ej_value(struct ejson *e, size_t i, enum ej_wrapper w, bool nested,
			    enum ej_out *kind)
{
	struct buf *out = &e->out;
	size_t v = i + 2; /* a one-key wrapper's value */
	const char *t = ej_text(e, v);
	size_t n = e->nodes[v].len;
	bool str = e->nodes[v].kind == EJ_STRING;
	int64_t x, y;
	size_t a, b;
	buf_reset(out);
	*kind = EJO_TEXT;
	switch (w) {
	case EJW_NONE:
		break;
	case EJW_OID:
		if (!str || n != 24)
			return "$oid is not 24 hex digits";
		for (size_t k = 0; k < n; k++) {
			int h = ej_hex(t[k]);
			if (h < 0)
				return "$oid is not 24 hex digits";
			if (!buf_putc(out, "0123456789abcdef"[h]))
				return "value too large";
		}
		return NULL;
	case EJW_DATE:
		if (str && ej_put_iso(out, t, n))
			return NULL;
		/* canonical {"$numberLong": "ms"}, or (legacy) a number of ms */
		if (e->nodes[v].kind == EJ_MAP && ej_wrapper_of(e, v) == EJW_LONG)
			v += 2;
		if (!str && ej_int_node(e, v, INT64_MIN, INT64_MAX, &x) && ej_put_epoch(out, x))
			return NULL;
		return "$date is not an ISO 8601 date-time nor {\"$numberLong\": milliseconds}";
	case EJW_LONG:
	case EJW_INT:
		if (w == EJW_LONG ? !ej_int_node(e, v, INT64_MIN, INT64_MAX, &x)
				  : !ej_int_node(e, v, INT32_MIN, INT32_MAX, &x))
			return w == EJW_LONG ? "$numberLong is not a 64-bit integer"
					     : "$numberInt is not a 32-bit integer";
		*kind = EJO_NUMBER;
		return buf_printf(out, "%lld", (long long)x) ? NULL : "value too large";
	case EJW_DOUBLE:
	case EJW_DECIMAL:
		if (!str && e->nodes[v].kind != EJ_NUMBER)
			break;
		if ((n == 3 && !memcmp(t, "NaN", 3)) || (n == 8 && !memcmp(t, "Infinity", 8)) ||
		    (n == 9 && !memcmp(t, "-Infinity", 9))) {
			*kind = EJO_TEXT; /* JSON has no such number: a string */
		} else if (ej_json_number(t, n)) {
			*kind = EJO_NUMBER;
		} else {
			break;
		}
		return buf_append(out, t, n) ? NULL : "value too large";
	case EJW_BINARY:
		if (ej_pair(e, i, "$binary", "$type", &a, &b)) {
			; /* legacy: {"$binary": "base64", "$type": "hh"} */
		} else if (!ej_pair(e, v, "base64", "subType", &a, &b)) {
			return "$binary is not {\"base64\": ..., \"subType\": ...}";
		}
		if (e->nodes[a].kind != EJ_STRING || e->nodes[b].kind != EJ_STRING ||
		    e->nodes[b].len < 1 || e->nodes[b].len > 2 || ej_hex(ej_text(e, b)[0]) < 0 ||
		    (e->nodes[b].len == 2 && ej_hex(ej_text(e, b)[1]) < 0))
			return "$binary has no base64 string or no hex subType";
		if (!ej_base64_decode(ej_text(e, a), e->nodes[a].len, &e->bytes))
			return "$binary is not base64";
		x = ej_hex(ej_text(e, b)[0]);
		if (e->nodes[b].len == 2)
			x = x * 16 + ej_hex(ej_text(e, b)[1]);
		if (x == 4 && e->bytes.len != 16)
			return "$binary subtype 4 is a UUID, and this one is not 16 bytes";
		if (x == 4)
			return ej_put_uuid(out, (const unsigned char *)e->bytes.data)
				       ? NULL
				       : "value too large";
		if (nested) /* its base64 text, as written */
			return buf_append(out, ej_text(e, a), e->nodes[a].len) ? NULL
									       : "value too large";
		if (!buf_reserve(out, 2 + 2 * e->bytes.len) || !buf_append(out, "\\x", 2))
			return "value too large";
		for (size_t k = 0; k < e->bytes.len; k++) {
			unsigned char c = (unsigned char)e->bytes.data[k];
			if (!buf_putc(out, "0123456789abcdef"[c >> 4]) ||
			    !buf_putc(out, "0123456789abcdef"[c & 15]))
				return "value too large";
		}
		return NULL;
	case EJW_UUID: {
		unsigned char u[16];
		size_t k = 0, d = 0;
		for (; str && k < n && d < 32; k++) {
			if (t[k] == '-' && (k == 8 || k == 13 || k == 18 || k == 23) && n == 36)
				continue;
			int h = ej_hex(t[k]);
			if (h < 0)
				break;
			u[d / 2] = (unsigned char)(d % 2 ? u[d / 2] << 4 | h : h);
			d++;
		}
		if (!str || k != n || d != 32 || (n != 32 && n != 36))
			return "$uuid is not a UUID";
		return ej_put_uuid(out, u) ? NULL : "value too large";
	}
	case EJW_TIMESTAMP:
		if (!ej_pair(e, v, "t", "i", &a, &b) || e->nodes[a].kind != EJ_NUMBER ||
		    e->nodes[b].kind != EJ_NUMBER || !ej_int_node(e, a, 0, UINT32_MAX, &x) ||
		    !ej_int_node(e, b, 0, UINT32_MAX, &y))
			return "$timestamp is not {\"t\": seconds, \"i\": increment}";
		return ej_put_epoch(out, x * 1000) ? NULL : "value too large";
	case EJW_REGEX:
		if (!ej_pair(e, v, "pattern", "options", &a, &b) || e->nodes[a].kind != EJ_STRING ||
		    e->nodes[b].kind != EJ_STRING)
			return "$regularExpression is not {\"pattern\": ..., \"options\": ...}";
		return buf_putc(out, '/') && buf_append(out, ej_text(e, a), e->nodes[a].len) &&
				       buf_putc(out, '/') &&
				       buf_append(out, ej_text(e, b), e->nodes[b].len)
			       ? NULL
			       : "value too large";
	case EJW_MINKEY:
	case EJW_MAXKEY:
		if (e->nodes[v].kind != EJ_NUMBER || n != 1 || t[0] != '1')
			return w == EJW_MINKEY ? "$minKey is not 1" : "$maxKey is not 1";
		return buf_puts(out, w == EJW_MINKEY ? "MinKey" : "MaxKey") ? NULL
									    : "value too large";
	case EJW_SYMBOL:
	case EJW_CODE:
		if (!str)
			return w == EJW_SYMBOL ? "$symbol is not a string"
					       : "$code is not a string";
		return buf_append(out, t, n) ? NULL : "value too large";
	case EJW_UNDEFINED:
		if (e->nodes[v].kind != EJ_TRUE)
			return "$undefined is not true";
		*kind = EJO_NULL;
		return NULL;
	}
	return w == EJW_DOUBLE ? "$numberDouble is not a number, Infinity, -Infinity or NaN"
			       : "$numberDecimal is not a number, Infinity, -Infinity or NaN";
}

/* Write the tree as JSON through st->gen, each wrapper in it as its relaxed
 * value. Returns NULL, or why it cannot. */
static const char *ej_write_relaxed(struct json_state *st)
{
	struct ejson *e = &st->ej;
	yajl_gen g = st->gen;
	yajl_gen_clear(g);
	yajl_gen_reset(g, NULL);
	yajl_gen_status s = yajl_gen_status_ok;
	size_t depth = 0, i = 0;
	while (s == yajl_gen_status_ok && (i < e->n || depth)) {
		if (depth && i == e->nodes[e->stack[depth - 1]].end) {
			bool map = e->nodes[e->stack[--depth]].kind == EJ_MAP;
			s = map ? yajl_gen_map_close(g) : yajl_gen_array_close(g);
			continue;
		}
		const struct ej_node *x = &e->nodes[i];
		const unsigned char *t = (const unsigned char *)ej_text(e, i);
		enum ej_wrapper w;
		switch (x->kind) {
		case EJ_NULL:
			s = yajl_gen_null(g);
			break;
		case EJ_FALSE:
		case EJ_TRUE:
			s = yajl_gen_bool(g, x->kind == EJ_TRUE);
			break;
		case EJ_NUMBER:
			s = yajl_gen_number(g, (const char *)t, x->len);
			break;
		case EJ_STRING:
		case EJ_KEY:
			s = yajl_gen_string(g, t, x->len);
			break;
		case EJ_MAP:
		case EJ_ARRAY:
			w = ej_wrapper_of(e, i);
			if (w != EJW_NONE) {
				enum ej_out k;
				const char *why = ej_value(e, i, w, true, &k);
				if (why)
					return why;
				const struct buf *o = &e->out;
				s = k == EJO_NULL ? yajl_gen_null(g)
				    : k == EJO_NUMBER
					    ? yajl_gen_number(g, buf_str(o), o->len)
					    : yajl_gen_string(g, (const unsigned char *)buf_str(o),
							      o->len);
				i = x->end;
				continue;
			}
			s = x->kind == EJ_MAP ? yajl_gen_map_open(g) : yajl_gen_array_open(g);
			e->stack[depth++] = i;
			break;
		}
		i++;
	}
	if (s != yajl_gen_status_ok)
		return "nested too deep to rewrite its wrappers";
	return NULL;
}

/* Store for column c the nested value [s, s+n) of the unit, in which a key
 * starting with '$' appeared, with its Extended JSON converted; a wrapper
 * that is not valid rejects the record. False when it holds no wrapper: the
 * caller stores it as it is. */
bool ejson_store(struct json_state *st, int c, const char *s, size_t n)
{
	struct ejson *e = &st->ej;
	e->n = e->depth = 0;
	e->oom = e->too_many = false;
	buf_reset(&e->text);
	yajl_handle h = yajl_alloc(&ej_callbacks, NULL, e);
	if (!h) {
		st->oom = true;
		return true;
	}
	yajl_status ps = yajl_parse(h, (const unsigned char *)s, n);
	if (ps == yajl_status_ok)
		ps = yajl_complete_parse(h);
	yajl_free(h);
	const char *why = NULL;
	if (e->oom) {
		st->oom = true;
		return true;
	}
	if (e->too_many) {
		why = "too many values to rewrite its wrappers";
	} else {
		if (ps != yajl_status_ok || !e->n)
			return false; /* YAJL took it once: cannot happen */
		bool any = false;
		for (size_t i = 0; i < e->n && !any; i++)
			any = ej_wrapper_of(e, i) != EJW_NONE;
		if (!any)
			return false;
		enum ej_wrapper w = ej_wrapper_of(e, 0);
		enum ej_out k;
		const unsigned char *text;
		size_t len;
		if (w != EJW_NONE) {
			why = ej_value(e, 0, w, false, &k);
			if (!why) {
				json_store(st, c, k == EJO_NULL ? NULL : buf_str(&e->out),
					   e->out.len);
				return true;
			}
		} else {
			why = ej_write_relaxed(st);
			if (!why && yajl_gen_get_buf(st->gen, &text, &len) == yajl_gen_status_ok) {
				json_store(st, c, text, len);
				return true;
			}
		}
	}
	char fmt[256];
	snprintf(fmt, sizeof fmt,
		 "\"%%s\": not valid MongoDB Extended JSON: %s (--no-ejson loads it as written)",
		 why ? why : "cannot rewrite it");
	json_set_bad(st, fmt, st->cols[c], st->col_lens[c]);
	return true;
}
