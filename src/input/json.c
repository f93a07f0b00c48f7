/* src/input/json.c
 * The NDJSON and JSON-array reader, on YAJL. A small scanner cuts the input
 * into units (one line of NDJSON, one element of the top-level array) read in
 * chunks, so memory holds only the current record (a unit past
 * --max-record-bytes is scanned to its end but not kept); each unit is parsed by
 * YAJL's event parser into the target columns. Numbers come through YAJL's
 * number callback as their exact text; nested objects and arrays become JSON
 * text again through yajl_gen. MongoDB Extended JSON wrappers are unwrapped
 * (see "MongoDB Extended JSON" below) unless --no-ejson.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_gen.h>
#include <yajl/yajl_parse.h>

#include "sluice/buf.h"
#include "sluice/convert.h"
#include "sluice/reader.h"

#define OFF_MISSING (SIZE_MAX - 1) /* the key did not appear in the record */
#define CHUNK_SIZE (256 * 1024)
#define RAW_PREFIX 1024 /* bytes of a too-large record kept for rejects */
#define KEY_SHOWN 120	/* bytes of a key quoted in a message */

enum col_state { COL_NONE = -1, COL_SKIP = -2 };

/* Where the array scanner is between elements. */
enum scan_state {
	SCAN_START,   /* before the top-level value */
	SCAN_OPEN,    /* after '[': an element or ']' */
	SCAN_ELEMENT, /* inside an element */
	SCAN_AFTER,   /* after an element: ',' or ']' (or another object in a stream) */
	SCAN_COMMA,   /* after ',': an element */
	SCAN_END,     /* after the closing ']': only white space */
};

/* A nested value parsed again for its Extended JSON wrappers: its values in
 * document order, each container followed by its members (a map's as a key,
 * then its value) up to its end. */
enum ej_kind { EJ_NULL, EJ_FALSE, EJ_TRUE, EJ_NUMBER, EJ_STRING, EJ_KEY, EJ_MAP, EJ_ARRAY };

struct ej_node {
	enum ej_kind kind;
	size_t off, len; /* number, string, key: its bytes in ejson.text */
	size_t end;	 /* the index after this value and its members */
};

struct ejson {
	struct ej_node *nodes;
	size_t n, cap, max_nodes;
	size_t *stack; /* containers open while building, then while writing */
	size_t depth, stack_cap;
	struct buf text;  /* the bytes of numbers, strings and keys */
	struct buf out;	  /* a wrapper's value as text */
	struct buf bytes; /* a $binary's decoded bytes */
	bool oom, too_many;
};

/* A unit waiting in the look-ahead queue (json_reader_sample_keys). */
struct pending {
	size_t off, len; /* in json_state.ahead */
	long line;
	uint64_t pos;
	bool too_long;
};

struct json_state {
	struct reader_options opt;
	bool ndjson;
	bool stream; /* FORMAT_JSON whose top level is objects, not an array */

	/* input */
	unsigned char *chunk;
	size_t chunk_len, chunk_off;
	bool eof, at_start;
	long line;    /* line of chunk[chunk_off] */
	uint64_t pos; /* offset of chunk[chunk_off] in the (decompressed) input */

	/* the current unit: its bytes, the line and offset it starts at */
	struct buf unit;
	long unit_line;
	uint64_t unit_pos;
	bool unit_too_long; /* past --max-record-bytes: only a prefix is kept */
	size_t max_record;
	unsigned long nelem;

	/* array scanner */
	enum scan_state sstate;
	size_t sdepth;
	bool s_in_str, s_esc, s_scalar;
	bool failed;
	struct sl_error fail_err;
	bool deferred; /* a scan failure met while sampling, due after the queue */
	struct sl_error deferred_err;

	/* look-ahead queue */
	struct buf ahead;
	struct pending *queue;
	size_t nqueue, qhead, qcap;

	/* the target columns and a hash from name to index */
	char **cols;
	size_t *col_lens;
	int ncols;
	int *hash;
	size_t nhash;

	/* the record being built */
	struct buf data; /* values, each followed by a NUL */
	size_t *offs;	 /* per column: offset in data, SIZE_MAX for NULL, or OFF_MISSING */
	size_t *lens;
	unsigned *seen; /* per column: == stamp when the key appeared */
	unsigned stamp;
	struct cell *cells;

	/* parse state, for the callbacks */
	yajl_handle parser;
	yajl_gen gen;
	int depth;	  /* containers open in the unit */
	const char *kind; /* what the top-level value is when not an object */
	int cur;	  /* column of the current key, or COL_NONE/COL_SKIP */
	int capture_col;  /* column a nested value is captured for, or COL_NONE */
	size_t capture_start;
	bool capture_dollar; /* a key starting with '$' appeared in the captured value */
	struct ejson ej;
	bool gen_failed;
	size_t str_from; /* unit offset after the last string token parsed */
	char *bad;	 /* why the record is rejected, or NULL */
	bool oom;
	/* key collection (json_reader_sample_keys) */
	bool collecting;
	char **keys;
	int nkeys, keys_cap;
};

/* ---------------------------------------------------------------------------
 * Column names
 */

static uint64_t hash_bytes(const unsigned char *s, size_t n)
{
	uint64_t h = 1469598103934665603ULL;
	for (size_t i = 0; i < n; i++) {
		h ^= s[i];
		h *= 1099511628211ULL;
	}
	return h;
}

/* The column named key, or -1. */
static int column_lookup(const struct json_state *st, const unsigned char *key, size_t n)
{
	if (!st->nhash)
		return -1;
	size_t mask = st->nhash - 1;
	for (size_t i = (size_t)hash_bytes(key, n) & mask;; i = (i + 1) & mask) {
		int c = st->hash[i];
		if (c < 0)
			return -1;
		if (st->col_lens[c] == n && !memcmp(st->cols[c], key, n))
			return c;
	}
}

static void free_columns(struct json_state *st)
{
	for (int i = 0; i < st->ncols; i++)
		free(st->cols[i]);
	free(st->cols);
	free(st->col_lens);
	free(st->hash);
	free(st->offs);
	free(st->lens);
	free(st->seen);
	free(st->cells);
	st->cols = NULL;
	st->col_lens = NULL;
	st->hash = NULL;
	st->offs = st->lens = NULL;
	st->seen = NULL;
	st->cells = NULL;
	st->ncols = 0;
	st->nhash = 0;
}

static bool json_set_columns(struct reader *r, char *const *names, int n, struct sl_error *err)
{
	struct json_state *st = r->impl;
	free_columns(st);
	if (n <= 0)
		return sl_error_set(err, SL_ERR_USAGE, "no target columns for JSON input");
	size_t nhash = 8;
	while (nhash < (size_t)n * 2)
		nhash *= 2;
	st->cols = calloc((size_t)n, sizeof *st->cols);
	st->col_lens = calloc((size_t)n, sizeof *st->col_lens);
	st->hash = malloc(nhash * sizeof *st->hash);
	st->offs = calloc((size_t)n, sizeof *st->offs);
	st->lens = calloc((size_t)n, sizeof *st->lens);
	st->seen = calloc((size_t)n, sizeof *st->seen);
	st->cells = calloc((size_t)n, sizeof *st->cells);
	if (!st->cols || !st->col_lens || !st->hash || !st->offs || !st->lens || !st->seen ||
	    !st->cells) {
		free_columns(st);
		return sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
	}
	st->nhash = nhash;
	for (size_t i = 0; i < nhash; i++)
		st->hash[i] = -1;
	for (int c = 0; c < n; c++) {
		st->cols[c] = strdup(names[c]);
		st->ncols = c + 1;
		if (!st->cols[c]) {
			free_columns(st);
			return sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
		}
		st->col_lens[c] = strlen(names[c]);
		if (column_lookup(st, (const unsigned char *)names[c], st->col_lens[c]) >= 0) {
			sl_error_set(err, SL_ERR_USAGE, "column \"%s\" is named twice", names[c]);
			free_columns(st);
			return false;
		}
		size_t mask = nhash - 1;
		size_t i =
			(size_t)hash_bytes((const unsigned char *)names[c], st->col_lens[c]) & mask;
		while (st->hash[i] >= 0)
			i = (i + 1) & mask;
		st->hash[i] = c;
	}
	return true;
}

/* ---------------------------------------------------------------------------
 * Parse callbacks: the unit's top-level object becomes one record.
 */

static void set_bad(struct json_state *st, const char *fmt, const void *key, size_t n)
{
	if (st->bad)
		return;
	char shown[KEY_SHOWN + 4];
	size_t k = n > KEY_SHOWN ? KEY_SHOWN : n;
	memcpy(shown, key, k);
	strcpy(shown + k, n > KEY_SHOWN ? "..." : "");
	char msg[KEY_SHOWN + 256];
	snprintf(msg, sizeof msg, fmt, shown);
	st->bad = strdup(msg);
	if (!st->bad)
		st->oom = true;
}

/* Store a value for column c; ptr NULL is SQL NULL. */
static int store(struct json_state *st, int c, const void *ptr, size_t n)
{
	if (c < 0)
		return 1;
	if (!ptr) {
		st->offs[c] = SIZE_MAX;
		return 1;
	}
	size_t off = st->data.len;
	if (!buf_append(&st->data, ptr, n) || !buf_putc(&st->data, '\0')) {
		if (!st->bad)
			st->bad = strdup("record too large");
		st->offs[c] = SIZE_MAX;
		return 1;
	}
	st->offs[c] = off;
	st->lens[c] = n;
	return 1;
}

/* Whether an event belongs to a nested value being captured (and forward it). */
static bool capturing(const struct json_state *st)
{
	return st->depth >= 2 && st->capture_col != COL_NONE;
}

/* A scalar at the top level: the unit is not an object. */
static int top_scalar(struct json_state *st, const char *kind)
{
	if (!st->kind)
		st->kind = kind;
	return 1;
}

/* Whether events are to be ignored: inside a non-object unit, or inside a
 * nested value nobody wants. */
static bool ignoring(const struct json_state *st)
{
	return st->kind != NULL || (st->depth >= 2 && st->capture_col == COL_NONE);
}

static void gen_check(struct json_state *st, yajl_gen_status s)
{
	if (s != yajl_gen_status_ok)
		st->gen_failed = true;
}

static int on_null(void *ctx)
{
	struct json_state *st = ctx;
	if (st->depth == 0)
		return top_scalar(st, "null");
	if (ignoring(st))
		return 1;
	if (capturing(st)) {
		if (!st->gen_failed)
			gen_check(st, yajl_gen_null(st->gen));
		return 1;
	}
	return store(st, st->cur, NULL, 0);
}

static int on_boolean(void *ctx, int v)
{
	struct json_state *st = ctx;
	if (st->depth == 0)
		return top_scalar(st, "a boolean");
	if (ignoring(st))
		return 1;
	if (capturing(st)) {
		if (!st->gen_failed)
			gen_check(st, yajl_gen_bool(st->gen, v));
		return 1;
	}
	return store(st, st->cur, v ? "true" : "false", v ? 4 : 5);
}

static int on_number(void *ctx, const char *s, size_t n)
{
	struct json_state *st = ctx;
	if (st->depth == 0)
		return top_scalar(st, "a number");
	if (ignoring(st))
		return 1;
	if (capturing(st)) {
		if (!st->gen_failed)
			gen_check(st, yajl_gen_number(st->gen, s, n));
		return 1;
	}
	return store(st, st->cur, s, n);
}

/* The value of the four hex digits at p (n bytes available), or -1. */
static long hex4(const unsigned char *p, size_t n)
{
	if (n < 4)
		return -1;
	long v = 0;
	for (int k = 0; k < 4; k++) {
		unsigned char c = p[k];
		int d = c >= '0' && c <= '9'   ? c - '0'
			: c >= 'a' && c <= 'f' ? c - 'a' + 10
			: c >= 'A' && c <= 'F' ? c - 'A' + 10
					       : -1;
		if (d < 0)
			return -1;
		v = v * 16 + d;
	}
	return v;
}

/* Whether the JSON text [p, p+n), which starts outside any string, has a \u
 * escape that is half of a surrogate pair without its other half. This is a
 * check of escapes, not a parser: YAJL has accepted the text. An escaped
 * backslash ("\\u") is skipped as a pair, so its 'u' is no escape. */
static bool lone_surrogate(const unsigned char *p, size_t n)
{
	size_t i = 0;
	while (i + 1 < n) {
		const unsigned char *bs = memchr(p + i, '\\', n - i - 1);
		if (!bs)
			return false;
		i = (size_t)(bs - p);
		if (p[i + 1] != 'u') {
			i += 2; /* \" \\ \n ...: one escaped byte */
			continue;
		}
		long u = hex4(p + i + 2, n - i - 2);
		if (u < 0) {
			i += 2;
			continue;
		}
		i += 6;
		if (u >= 0xDC00 && u <= 0xDFFF)
			return true; /* a low surrogate first */
		if (u < 0xD800 || u > 0xDBFF)
			continue;
		long lo = i + 1 < n && p[i] == '\\' && p[i + 1] == 'u' ? hex4(p + i + 2, n - i - 2)
								       : -1;
		if (lo < 0xDC00 || lo > 0xDFFF)
			return true; /* a high surrogate not followed by a low one */
		i += 6;
	}
	return false;
}

/* Whether the string token the parser has just read holds an unpaired
 * surrogate: its text lies between the last string token and here (what is
 * between two strings holds no backslash: comments are not allowed). YAJL turns a lone high
 * surrogate into "?" or glues it to the next escape, and a lone low one into bytes that are not
 * UTF-8; none of them is the character written. */
static bool string_has_lone_surrogate(struct json_state *st)
{
	size_t end = yajl_get_bytes_consumed(st->parser);
	size_t from = st->str_from;
	if (end > st->unit.len || end < from)
		return false; /* not a position in the unit: YAJL finishing the parse */
	st->str_from = end;
	return lone_surrogate((const unsigned char *)st->unit.data + from, end - from);
}

/* A \u escape that is no character: an unpaired surrogate, either found in
 * the text or seen as invalid UTF-8 in what YAJL decoded. */
static int bad_escape(struct json_state *st)
{
	if (!st->bad) {
		st->bad = strdup("a \\u escape is not a character (an unpaired surrogate)");
		if (!st->bad)
			st->oom = true;
	}
	return 1;
}

static int on_string(void *ctx, const unsigned char *s, size_t n)
{
	struct json_state *st = ctx;
	bool lone = string_has_lone_surrogate(st);
	if (st->depth == 0)
		return top_scalar(st, "a string");
	if (ignoring(st))
		return 1;
	if (lone || !utf8_valid((const char *)s, n, NULL))
		return bad_escape(st);
	if (capturing(st)) {
		if (!st->gen_failed)
			gen_check(st, yajl_gen_string(st->gen, s, n));
		return 1;
	}
	return store(st, st->cur, s, n);
}

/* Remember a key found while sampling, once, in order of first appearance. */
static int collect_key(struct json_state *st, const unsigned char *key, size_t n)
{
	if (memchr(key, '\0', n))
		return 1; /* cannot be a column name */
	for (int i = 0; i < st->nkeys; i++)
		if (strlen(st->keys[i]) == n && !memcmp(st->keys[i], key, n))
			return 1;
	if (st->nkeys == st->keys_cap) {
		int cap = st->keys_cap ? st->keys_cap * 2 : 16;
		char **k = realloc(st->keys, (size_t)cap * sizeof *k);
		if (!k) {
			st->oom = true;
			return 0;
		}
		st->keys = k;
		st->keys_cap = cap;
	}
	st->keys[st->nkeys] = strndup((const char *)key, n);
	if (!st->keys[st->nkeys]) {
		st->oom = true;
		return 0;
	}
	st->nkeys++;
	return 1;
}

static int on_map_key(void *ctx, const unsigned char *key, size_t n)
{
	struct json_state *st = ctx;
	bool lone = string_has_lone_surrogate(st);
	if (ignoring(st))
		return 1;
	if (lone || !utf8_valid((const char *)key, n, NULL)) {
		if (!capturing(st))
			st->cur = COL_SKIP; /* and not a name for --create */
		return bad_escape(st);
	}
	if (capturing(st)) {
		if (n && key[0] == '$')
			st->capture_dollar = true;
		if (!st->gen_failed)
			gen_check(st, yajl_gen_string(st->gen, key, n));
		return 1;
	}
	if (st->collecting) {
		st->cur = COL_SKIP;
		return collect_key(st, key, n);
	}
	int c = column_lookup(st, key, n);
	if (c < 0) {
		st->cur = COL_SKIP;
		if (!st->opt.ignore_unknown)
			set_bad(st, "unknown key \"%s\" (not a column of the target)", key, n);
		return 1;
	}
	if (st->seen[c] == st->stamp) {
		st->cur = COL_SKIP;
		set_bad(st, "duplicate key \"%s\"", key, n);
		return 1;
	}
	st->seen[c] = st->stamp;
	st->cur = c;
	return 1;
}

/* ---------------------------------------------------------------------------
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
static bool ejson_store(struct json_state *st, int c, const char *s, size_t n)
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
				store(st, c, k == EJO_NULL ? NULL : buf_str(&e->out), e->out.len);
				return true;
			}
		} else {
			why = ej_write_relaxed(st);
			if (!why && yajl_gen_get_buf(st->gen, &text, &len) == yajl_gen_status_ok) {
				store(st, c, text, len);
				return true;
			}
		}
	}
	char fmt[256];
	snprintf(fmt, sizeof fmt,
		 "\"%%s\": not valid MongoDB Extended JSON: %s (--no-ejson loads it as written)",
		 why ? why : "cannot rewrite it");
	set_bad(st, fmt, st->cols[c], st->col_lens[c]);
	return true;
}

/* A container opens: the record itself, a nested value, or a non-object unit. */
static int open_container(struct json_state *st, bool is_map)
{
	if (st->depth == 0 && !is_map) {
		st->kind = "an array";
		return 1;
	}
	if (st->kind)
		return 1;
	st->depth++;
	if (st->depth == 2) {
		/* a nested value for the current key */
		st->capture_col = st->cur >= 0 ? st->cur : COL_NONE;
		if (st->capture_col == COL_NONE)
			return 1;
		size_t consumed = yajl_get_bytes_consumed(st->parser);
		st->capture_start = consumed ? consumed - 1 : 0;
		st->capture_dollar = false;
		st->gen_failed = false;
		yajl_gen_clear(st->gen);
		yajl_gen_reset(st->gen, NULL);
	}
	if (capturing(st) && !st->gen_failed)
		gen_check(st, is_map ? yajl_gen_map_open(st->gen) : yajl_gen_array_open(st->gen));
	return 1;
}

static int close_container(struct json_state *st, bool is_map)
{
	if (st->kind)
		return 1;
	if (capturing(st) && !st->gen_failed)
		gen_check(st, is_map ? yajl_gen_map_close(st->gen) : yajl_gen_array_close(st->gen));
	if (st->depth == 2 && st->capture_col != COL_NONE) {
		int c = st->capture_col;
		st->capture_col = COL_NONE;
		const unsigned char *text;
		size_t n;
		size_t at = yajl_get_bytes_consumed(st->parser);
		if (st->capture_dollar && !st->opt.no_ejson && !st->bad && at > st->capture_start &&
		    at <= st->unit.len &&
		    ejson_store(st, c, st->unit.data + st->capture_start, at - st->capture_start)) {
			/* stored converted, or the record is rejected */
		} else if (!st->gen_failed &&
			   yajl_gen_get_buf(st->gen, &text, &n) == yajl_gen_status_ok) {
			store(st, c, text, n);
		} else {
			/* nested deeper than yajl_gen goes: keep the bytes as written */
			size_t end = yajl_get_bytes_consumed(st->parser);
			store(st, c, st->unit.data + st->capture_start, end - st->capture_start);
		}
		yajl_gen_clear(st->gen);
		yajl_gen_reset(st->gen, NULL);
	}
	st->depth--;
	return 1;
}

static int on_start_map(void *ctx)
{
	return open_container(ctx, true);
}
static int on_end_map(void *ctx)
{
	return close_container(ctx, true);
}
static int on_start_array(void *ctx)
{
	return open_container(ctx, false);
}
static int on_end_array(void *ctx)
{
	return close_container(ctx, false);
}

static const yajl_callbacks callbacks = {
	.yajl_null = on_null,
	.yajl_boolean = on_boolean,
	.yajl_number = on_number,
	.yajl_string = on_string,
	.yajl_start_map = on_start_map,
	.yajl_map_key = on_map_key,
	.yajl_end_map = on_end_map,
	.yajl_start_array = on_start_array,
	.yajl_end_array = on_end_array,
};

/* YAJL's message for the parse error of h, without its trailing newline. */
static void parse_error_text(yajl_handle h, char *out, size_t n)
{
	unsigned char *e = yajl_get_error(h, 0, NULL, 0);
	snprintf(out, n, "%s", e ? (const char *)e : "invalid JSON");
	if (e)
		yajl_free_error(h, e);
	size_t k = strlen(out);
	while (k && (out[k - 1] == '\n' || out[k - 1] == ' ' || out[k - 1] == '.'))
		out[--k] = '\0';
	if (!strncmp(out, "parse error: ", 13) || !strncmp(out, "lexical error: ", 15))
		memmove(out, strchr(out, ':') + 2, strlen(strchr(out, ':') + 2) + 1);
}

enum parse_result { PARSE_OK, PARSE_BAD_RECORD, PARSE_SYNTAX, PARSE_OOM };

/* Parse the current unit with YAJL. On PARSE_SYNTAX, msg says where and why. */
static enum parse_result parse_unit(struct json_state *st, char *msg, size_t msgsz)
{
	buf_reset(&st->data);
	free(st->bad);
	st->bad = NULL;
	st->oom = false;
	st->depth = 0;
	st->kind = NULL;
	st->cur = COL_NONE;
	st->capture_col = COL_NONE;
	st->str_from = 0;
	if (++st->stamp == 0) {
		if (st->seen)
			memset(st->seen, 0, (size_t)st->ncols * sizeof *st->seen);
		st->stamp = 1;
	}
	for (int c = 0; c < st->ncols; c++)
		st->offs[c] = OFF_MISSING;

	st->parser = yajl_alloc(&callbacks, NULL, st);
	if (!st->parser)
		return PARSE_OOM;
	const unsigned char *text = (const unsigned char *)buf_str(&st->unit);
	yajl_status s = yajl_parse(st->parser, text, st->unit.len);
	if (s == yajl_status_ok)
		s = yajl_complete_parse(st->parser);
	enum parse_result res = PARSE_OK;
	if (st->oom) {
		res = PARSE_OOM;
	} else if (s != yajl_status_ok) {
		size_t at = yajl_get_bytes_consumed(st->parser);
		if (at > st->unit.len)
			at = st->unit.len;
		long line = st->unit_line;
		for (size_t i = 0; i < at; i++)
			if (text[i] == '\n')
				line++;
		char why[256];
		parse_error_text(st->parser, why, sizeof why);
		snprintf(msg, msgsz, "line %ld, byte %llu: invalid JSON: %s", line,
			 (unsigned long long)(st->unit_pos + at + (at < st->unit.len ? 1 : 0)),
			 why);
		res = PARSE_SYNTAX;
	} else if (st->kind || st->bad) {
		res = PARSE_BAD_RECORD;
	}
	yajl_free(st->parser);
	st->parser = NULL;
	return res;
}

/* ---------------------------------------------------------------------------
 * Input: chunks, NDJSON lines and array elements
 */

/* Make sure chunk has unread bytes; false at end of input or on error. */
static bool fill(struct reader *r, struct json_state *st, bool *failed, struct sl_error *err)
{
	if (st->chunk_off < st->chunk_len)
		return true;
	if (st->eof)
		return false;
	ssize_t n = source_read(r->src, st->chunk, CHUNK_SIZE, err);
	if (n < 0) {
		*failed = true;
		return false;
	}
	if (n == 0) {
		st->eof = true;
		return false;
	}
	st->chunk_len = (size_t)n;
	st->chunk_off = 0;
	if (st->at_start) {
		st->at_start = false;
		if (n >= 3 && st->chunk[0] == 0xEF && st->chunk[1] == 0xBB &&
		    st->chunk[2] == 0xBF) {
			st->chunk_off = 3;
			st->pos = 3;
		}
	}
	return true;
}

/* Mark the current unit as larger than --max-record-bytes: from here on only
 * its first RAW_PREFIX bytes are kept, for the rejects file. */
static void unit_over_limit(struct json_state *st)
{
	st->unit_too_long = true;
	if (st->unit.len > RAW_PREFIX) {
		st->unit.len = RAW_PREFIX;
		st->unit.data[RAW_PREFIX] = '\0';
	}
}

/* Append to the current unit, or note that it is too large and keep scanning
 * it without storing it. An NDJSON line may be one byte longer: its CR goes. */
static void unit_append(struct json_state *st, const void *p, size_t n)
{
	size_t limit = st->max_record + (st->ndjson ? 1 : 0);
	if (!st->unit_too_long && n > limit - st->unit.len)
		unit_over_limit(st);
	if (st->unit_too_long) {
		/* out of memory, the prefix stays shorter: the record goes anyway */
		size_t room = RAW_PREFIX - (st->unit.len < RAW_PREFIX ? st->unit.len : RAW_PREFIX);
		if (room)
			buf_catn(&st->unit, p, n < room ? n : room);
		return;
	}
	/* out of memory below the limit: rejected as too large all the same */
	if (!buf_append(&st->unit, p, n))
		unit_over_limit(st);
}

static bool blank(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\n')
			return false;
	return true;
}

/* The next non-blank NDJSON line into st->unit. 1: a line, 0: end, -1: failure. */
static int scan_line(struct reader *r, struct json_state *st, struct sl_error *err)
{
	bool failed = false;
	for (;;) {
		buf_reset(&st->unit);
		st->unit_too_long = false;
		st->unit_line = st->line;
		st->unit_pos = st->pos;
		bool got = false, nl = false;
		while (!nl && fill(r, st, &failed, err)) {
			const unsigned char *p = st->chunk + st->chunk_off;
			size_t avail = st->chunk_len - st->chunk_off;
			const unsigned char *e = memchr(p, '\n', avail);
			size_t n = e ? (size_t)(e - p) : avail;
			unit_append(st, p, n);
			got = true;
			nl = e != NULL;
			st->chunk_off += n + (nl ? 1 : 0);
			st->pos += n + (nl ? 1 : 0);
		}
		if (failed)
			return -1;
		if (nl)
			st->line++;
		if (!got && !nl)
			return 0;
		if (st->unit.len && st->unit.data[st->unit.len - 1] == '\r')
			st->unit.data[--st->unit.len] = '\0';
		if (!st->unit_too_long && st->unit.len > st->max_record)
			unit_over_limit(st);
		if (st->unit_too_long || !blank(buf_str(&st->unit), st->unit.len))
			return 1;
		r->blank_lines++;
	}
}

static int scan_fail(struct json_state *st, struct sl_error *err, const char *what)
{
	return sl_error_set(err, SL_ERR_INPUT, "line %ld, byte %llu: %s", st->line,
			    (unsigned long long)st->pos + 1, what),
	       -1;
}

static bool is_space(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Start a unit at the current byte (not consumed yet). */
static void element_begin(struct json_state *st)
{
	buf_reset(&st->unit);
	st->unit_too_long = false;
	st->unit_line = st->line;
	st->unit_pos = st->pos;
	st->sstate = SCAN_ELEMENT;
	st->sdepth = 0;
	st->s_in_str = st->s_esc = false;
	unsigned char c = st->chunk[st->chunk_off];
	st->s_scalar = c != '{' && c != '[' && c != '"';
}

/* Consume bytes of the element in progress; true when it ended. */
static bool element_bytes(struct json_state *st)
{
	const unsigned char *p = st->chunk + st->chunk_off;
	size_t avail = st->chunk_len - st->chunk_off;
	size_t i = 0;
	bool done = false;
	long lines = 0;
	if (st->s_scalar) {
		/* a number or literal: it ends before a delimiter (the first byte
		 * always belongs to it, so a stray ',' or '}' still gets parsed) */
		if (st->unit.len == 0 && !st->unit_too_long)
			i = 1;
		while (i < avail && !is_space(p[i]) && p[i] != ',' && p[i] != ']' && p[i] != '}' &&
		       p[i] != '[' && p[i] != '{' && p[i] != '"')
			i++;
		done = i < avail;
	} else {
		for (; i < avail; i++) {
			unsigned char c = p[i];
			if (c == '\n')
				lines++;
			if (st->s_in_str) {
				if (st->s_esc)
					st->s_esc = false;
				else if (c == '\\')
					st->s_esc = true;
				else if (c == '"') {
					st->s_in_str = false;
					if (st->sdepth == 0) {
						i++;
						done = true;
						break;
					}
				}
				continue;
			}
			if (c == '"') {
				st->s_in_str = true;
			} else if (c == '{' || c == '[') {
				st->sdepth++;
			} else if (c == '}' || c == ']') {
				if (st->sdepth > 0)
					st->sdepth--;
				if (st->sdepth == 0) {
					i++;
					done = true;
					break;
				}
			}
		}
	}
	unit_append(st, p, i);
	st->chunk_off += i;
	st->pos += i;
	st->line += lines;
	return done;
}

/* The next element of the top-level array (or object stream) into st->unit.
 * 1: an element, 0: end, -1: failure (err set). */
static int scan_element(struct reader *r, struct json_state *st, struct sl_error *err)
{
	bool failed = false;
	for (;;) {
		if (!fill(r, st, &failed, err)) {
			if (failed)
				return -1;
			switch (st->sstate) {
			case SCAN_START:
			case SCAN_END:
				return 0;
			case SCAN_ELEMENT:
				st->sstate = st->stream ? SCAN_START : SCAN_AFTER;
				/* a scalar ends at the end, a truncated element fails
				 * parsing, which tells what is wrong */
				return 1;
			case SCAN_OPEN:
			case SCAN_COMMA:
				return scan_fail(
					st, err,
					"invalid JSON: the document ends inside the array");
			case SCAN_AFTER:
				if (st->stream)
					return 0;
				return scan_fail(
					st, err,
					"invalid JSON: the array is not closed (missing ']')");
			}
		}
		if (st->sstate == SCAN_ELEMENT) {
			if (element_bytes(st)) {
				st->sstate = SCAN_AFTER;
				return 1;
			}
			continue;
		}
		unsigned char c = st->chunk[st->chunk_off];
		if (is_space(c)) {
			if (c == '\n')
				st->line++;
			st->chunk_off++;
			st->pos++;
			continue;
		}
		switch (st->sstate) {
		case SCAN_START:
			if (c == '[') {
				st->sstate = SCAN_OPEN;
				st->chunk_off++;
				st->pos++;
			} else if (c == '{') {
				st->stream = true; /* objects one after another */
				element_begin(st);
			} else {
				return scan_fail(st, err,
						 "invalid JSON: expected an array of objects");
			}
			break;
		case SCAN_OPEN:
			if (c == ']') {
				st->sstate = SCAN_END;
				st->chunk_off++;
				st->pos++;
			} else {
				element_begin(st);
			}
			break;
		case SCAN_COMMA:
			if (c == ']')
				return scan_fail(st, err, "invalid JSON: a ',' before ']'");
			element_begin(st);
			break;
		case SCAN_AFTER:
			if (st->stream) {
				element_begin(st);
			} else if (c == ',') {
				st->sstate = SCAN_COMMA;
				st->chunk_off++;
				st->pos++;
			} else if (c == ']') {
				st->sstate = SCAN_END;
				st->chunk_off++;
				st->pos++;
			} else {
				return scan_fail(
					st, err,
					"invalid JSON: expected ',' or ']' after an element");
			}
			break;
		case SCAN_END:
			return scan_fail(st, err, "invalid JSON: text after the end of the array");
		case SCAN_ELEMENT:
			break;
		}
	}
}

/* The next unit, from the look-ahead queue or the input. */
static int next_unit(struct reader *r, struct json_state *st, struct sl_error *err)
{
	if (st->qhead < st->nqueue) {
		struct pending *p = &st->queue[st->qhead++];
		buf_reset(&st->unit);
		if (!buf_append(&st->unit, st->ahead.data + p->off, p->len))
			return sl_error_set(err, SL_ERR_INTERNAL, "out of memory"), -1;
		st->unit_line = p->line;
		st->unit_pos = p->pos;
		st->unit_too_long = p->too_long;
		if (st->qhead == st->nqueue) {
			st->qhead = st->nqueue = 0;
			buf_free(&st->ahead);
			buf_init(&st->ahead, 0);
		}
		return 1;
	}
	if (st->deferred) {
		*err = st->deferred_err;
		return -1;
	}
	return st->ndjson ? scan_line(r, st, err) : scan_element(r, st, err);
}

static enum read_status json_next(struct reader *r, struct record *rec, struct sl_error *err)
{
	struct json_state *st = r->impl;
	char msg[512];
	memset(rec, 0, sizeof *rec);
	if (st->failed) {
		*err = st->fail_err;
		return READ_FAIL;
	}
	if (!st->ncols)
		return sl_error_set(err, SL_ERR_INTERNAL, "JSON reader: no columns set"), READ_FAIL;
	int u = next_unit(r, st, err);
	if (u <= 0) {
		if (u < 0) {
			st->failed = true;
			st->fail_err = *err;
			return READ_FAIL;
		}
		return READ_EOF;
	}
	st->nelem++;
	rec->line = st->unit_line;
	rec->raw = buf_str(&st->unit);
	rec->raw_len = st->unit.len;
	err->line = st->unit_line;
	if (st->unit_too_long) {
		/* the scanner found where it ends: reading goes on after it */
		sl_error_set(err, SL_ERR_INPUT,
			     "line %ld: record larger than --max-record-bytes (%zu bytes)",
			     st->unit_line, st->max_record);
		return READ_REJECT;
	}
	enum parse_result pr = parse_unit(st, msg, sizeof msg);
	switch (pr) {
	case PARSE_OOM:
		sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
		st->failed = true;
		st->fail_err = *err;
		return READ_FAIL;
	case PARSE_SYNTAX:
		sl_error_set(err, SL_ERR_INPUT, "%s", msg);
		if (st->ndjson)
			return READ_REJECT;
		st->failed = true;
		st->fail_err = *err;
		return READ_FAIL;
	case PARSE_BAD_RECORD:
		if (st->kind)
			sl_error_set(err, SL_ERR_INPUT, "line %ld: %s, not a JSON object",
				     st->unit_line, st->kind);
		else
			sl_error_set(err, SL_ERR_INPUT, "line %ld: %s", st->unit_line, st->bad);
		return READ_REJECT;
	case PARSE_OK:
		break;
	}
	for (int c = 0; c < st->ncols; c++) {
		if (st->offs[c] == OFF_MISSING) {
			/* a missing key: NULL, or the column default with --defaults */
			st->cells[c].ptr = st->opt.missing_as_default ? cell_default : NULL;
			st->cells[c].len = 0;
		} else if (st->offs[c] == SIZE_MAX) {
			st->cells[c].ptr = NULL;
			st->cells[c].len = 0;
		} else {
			st->cells[c].ptr = st->data.data + st->offs[c];
			st->cells[c].len = st->lens[c];
		}
	}
	rec->nfields = (size_t)st->ncols;
	rec->fields = st->cells;
	return READ_OK;
}

/* Read ahead up to max_records units (they are returned by next() later, in
 * order) and set r->header to the keys of their top-level objects, in order
 * of first appearance: the columns --create makes for JSON input. The caller
 * still calls set_columns. Bounded by max_records records of memory. */
bool json_reader_sample_keys(struct reader *r, size_t max_records, struct sl_error *err);

bool json_reader_sample_keys(struct reader *r, size_t max_records, struct sl_error *err)
{
	struct json_state *st = r->impl;
	if (r->ops != &json_reader_ops || !st)
		return sl_error_set(err, SL_ERR_INTERNAL, "not a JSON reader");
	if (st->nqueue)
		return sl_error_set(err, SL_ERR_INTERNAL, "keys sampled twice");
	bool ok = true;
	st->collecting = true;
	for (size_t k = 0; k < max_records; k++) {
		struct sl_error uerr;
		sl_error_clear(&uerr);
		int u = st->ndjson ? scan_line(r, st, &uerr) : scan_element(r, st, &uerr);
		if (u < 0) {
			/* next() reports it after the records before it */
			st->deferred = true;
			st->deferred_err = uerr;
			break;
		}
		if (u == 0)
			break;
		if (st->nqueue == st->qcap) {
			size_t cap = st->qcap ? st->qcap * 2 : 64;
			struct pending *q = realloc(st->queue, cap * sizeof *q);
			if (!q) {
				ok = sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
				break;
			}
			st->queue = q;
			st->qcap = cap;
		}
		struct pending *p = &st->queue[st->nqueue];
		p->off = st->ahead.len;
		p->len = st->unit.len;
		p->line = st->unit_line;
		p->pos = st->unit_pos;
		p->too_long = st->unit_too_long;
		if (!buf_append(&st->ahead, buf_str(&st->unit), st->unit.len)) {
			ok = sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
			break;
		}
		st->nqueue++;
		if (!st->unit_too_long) {
			char msg[512];
			if (parse_unit(st, msg, sizeof msg) == PARSE_OOM) {
				ok = sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
				break;
			}
		}
	}
	st->collecting = false;
	if (!ok)
		return false;
	for (int i = 0; i < r->nheader; i++)
		free(r->header[i]);
	free(r->header);
	r->header = st->keys;
	r->nheader = st->nkeys;
	st->keys = NULL;
	st->nkeys = st->keys_cap = 0;
	return true;
}

static bool json_open(struct reader *r, const struct reader_options *opt, struct sl_error *err)
{
	struct json_state *st = calloc(1, sizeof *st);
	if (!st)
		return sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
	r->impl = st;
	st->opt = *opt;
	st->ndjson = r->format == FORMAT_NDJSON;
	st->line = 1;
	st->at_start = true;
	st->sstate = SCAN_START;
	st->max_record = opt->max_record_bytes ? opt->max_record_bytes : READER_DEFAULT_MAX_RECORD;
	/* the limits are checked by unit_append; these ceilings are a safety net */
	buf_init(&st->unit, st->max_record + RAW_PREFIX + 2);
	buf_init(&st->data, st->max_record * 3 + 4096);
	buf_init(&st->ahead, 0);
	/* Extended JSON: a value is at most a record; its bytes as hex twice that */
	st->ej.max_nodes = st->max_record / 8 > 65536 ? st->max_record / 8 : 65536;
	buf_init(&st->ej.text, st->max_record + 64);
	buf_init(&st->ej.out, st->max_record * 2 + 64);
	buf_init(&st->ej.bytes, st->max_record + 64);
	st->chunk = malloc(CHUNK_SIZE);
	st->gen = yajl_gen_alloc(NULL);
	if (!st->chunk || !st->gen)
		return sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
	return true;
}

static void json_close(struct reader *r)
{
	struct json_state *st = r->impl;
	if (!st)
		return;
	free_columns(st);
	buf_free(&st->unit);
	buf_free(&st->data);
	buf_free(&st->ahead);
	free(st->queue);
	for (int i = 0; i < st->nkeys; i++)
		free(st->keys[i]);
	free(st->keys);
	free(st->bad);
	free(st->chunk);
	free(st->ej.nodes);
	free(st->ej.stack);
	buf_free(&st->ej.text);
	buf_free(&st->ej.out);
	buf_free(&st->ej.bytes);
	if (st->gen)
		yajl_gen_free(st->gen);
	free(st);
	r->impl = NULL;
}

const struct reader_ops json_reader_ops = {
	.name = "json",
	.open = json_open,
	.set_columns = json_set_columns,
	.next = json_next,
	.sample_columns = json_reader_sample_keys,
	.close = json_close,
};
