/* src/input/json_record.c
 * The JSON reader's record: a unit parsed by YAJL's event parser, the keys
 * of its top-level object looked up among the target columns and their
 * values kept for the record's cells (nested values as JSON text).
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
#include "sluice/reader.h"

#define KEY_SHOWN 120 /* bytes of a key quoted in a message */

enum col_state { COL_NONE = -1, COL_SKIP = -2 };

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

void json_free_columns(struct json_state *st)
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

bool json_set_columns(struct reader *r, char *const *names, int n, struct sl_error *err)
{
	struct json_state *st = r->impl;
	json_free_columns(st);
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
		json_free_columns(st);
		return sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
	}
	st->nhash = nhash;
	for (size_t i = 0; i < nhash; i++)
		st->hash[i] = -1;
	for (int c = 0; c < n; c++) {
		st->cols[c] = strdup(names[c]);
		st->ncols = c + 1;
		if (!st->cols[c]) {
			json_free_columns(st);
			return sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
		}
		st->col_lens[c] = strlen(names[c]);
		if (column_lookup(st, (const unsigned char *)names[c], st->col_lens[c]) >= 0) {
			sl_error_set(err, SL_ERR_USAGE, "column \"%s\" is named twice", names[c]);
			json_free_columns(st);
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

void json_set_bad(struct json_state *st, const char *fmt, const void *key, size_t n)
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

/* ---------------------------------------------------------------------------
 * --flatten: the members of a named object, and of the objects inside it,
 * are keys of the record named <field>_<member>. A flattened object does not
 * count as a level (st->depth): its members are read as the record's own.
 */

bool json_flat_init(struct json_state *st, const char *prefix)
{
	size_t pl = strlen(prefix);
	buf_init(&st->flat_name, 0);
	buf_init(&st->flat_key, 0);
	for (int i = 0; i < st->opt.nflatten; i++) {
		const char *p = st->opt.flatten[i];
		const char *dot = strrchr(p, '.');
		size_t up = dot ? (size_t)(dot - p) : 0;
		if (up != pl || memcmp(p, prefix, pl))
			continue;
		const char *field = dot ? dot + 1 : p;
		char **f = realloc(st->flat, (size_t)(st->nflat + 1) * sizeof *f);
		if (!f)
			return false;
		st->flat = f;
		size_t *l = realloc(st->flat_lens, (size_t)(st->nflat + 1) * sizeof *l);
		if (!l)
			return false;
		st->flat_lens = l;
		if (!(st->flat[st->nflat] = strdup(field)))
			return false;
		st->flat_lens[st->nflat++] = strlen(field);
	}
	return true;
}

void json_flat_free(struct json_state *st)
{
	for (int i = 0; i < st->nflat; i++)
		free(st->flat[i]);
	free(st->flat);
	free(st->flat_lens);
	st->flat = NULL;
	st->flat_lens = NULL;
	st->nflat = 0;
	buf_free(&st->flat_name);
	buf_free(&st->flat_key);
}

static bool flat_named(const struct json_state *st, const unsigned char *key, size_t n)
{
	for (int i = 0; i < st->nflat; i++)
		if (st->flat_lens[i] == n && !memcmp(st->flat[i], key, n))
			return true;
	return false;
}

/* The current key's composed name into st->flat_key: the prefix, the key,
 * fitted by the pipeline's rule. False when it cannot be built. */
static bool flat_compose(struct json_state *st, const unsigned char *key, size_t n)
{
	buf_reset(&st->flat_key);
	buf_catn(&st->flat_key, st->flat_name.data, st->flat_name.len);
	buf_catn(&st->flat_key, key, n);
	if (buf_failed(&st->flat_key) || memchr(key, '\0', n))
		return false;
	if (st->opt.fit_name) {
		char fitted[256];
		st->opt.fit_name(st->opt.fit_ctx, buf_str(&st->flat_key), fitted, sizeof fitted);
		buf_reset(&st->flat_key);
		buf_cat(&st->flat_key, fitted);
	}
	return !buf_failed(&st->flat_key);
}

/* A flattened object opens: its members' names start with the key's (past
 * FLAT_MAX levels an object stays a JSON value). */
static int flat_push(struct json_state *st)
{
	st->flat_next = st->collect_pending = st->unknown_pending = false;
	st->cur = COL_NONE;
	st->flat_pre[st->nfl++] = st->flat_name.len;
	buf_reset(&st->flat_name);
	buf_catn(&st->flat_name, st->flat_key.data, st->flat_key.len);
	buf_catc(&st->flat_name, '_');
	if (buf_failed(&st->flat_name))
		st->oom = true;
	return 1;
}

static void collect_now(struct json_state *st);

/* A value that is not an object, for the current key at the record's level:
 * a --flatten path's own takes only an object (or null); a member of a
 * flattened object found while sampling is a column. */
static void flat_value(struct json_state *st, bool is_null)
{
	if (st->depth != 1)
		return;
	if (st->flat_top && !is_null && st->flat_key.len)
		json_set_bad(st, "--flatten: \"%s\" is not an object", st->flat_key.data,
			     st->flat_key.len);
	if (st->collect_pending)
		collect_now(st);
	if (st->unknown_pending && !st->opt.ignore_unknown)
		json_set_bad(st, "unknown key \"%s\" (not a column of the target)",
			     st->flat_key.data, st->flat_key.len);
	st->flat_next = st->flat_top = st->collect_pending = st->unknown_pending = false;
}

/* Store a value for column c; ptr NULL is SQL NULL. */
int json_store(struct json_state *st, int c, const void *ptr, size_t n)
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
	flat_value(st, true);
	return json_store(st, st->cur, NULL, 0);
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
	flat_value(st, false);
	return json_store(st, st->cur, v ? "true" : "false", v ? 4 : 5);
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
	flat_value(st, false);
	return json_store(st, st->cur, s, n);
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
	flat_value(st, false);
	return json_store(st, st->cur, s, n);
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

static void collect_now(struct json_state *st)
{
	st->collect_pending = false;
	collect_key(st, (const unsigned char *)st->flat_key.data, st->flat_key.len);
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
	st->flat_next = st->flat_top = st->collect_pending = st->unknown_pending = false;
	if (st->nfl || (st->nflat && flat_named(st, key, n))) {
		if (!flat_compose(st, key, n)) {
			st->cur = COL_SKIP;
			json_set_bad(st, "--flatten: the name of key \"%s\" cannot be built", key,
				     n);
			return 1;
		}
		st->flat_next = true;
		st->flat_top = !st->nfl;
		if (st->flat_top) {
			st->cur = COL_SKIP; /* not a column: its members are */
			return 1;
		}
		key = (const unsigned char *)st->flat_key.data;
		n = st->flat_key.len;
		if (st->collecting) {
			st->cur = COL_SKIP;
			st->collect_pending = true; /* unless its value is an object */
			return 1;
		}
	} else if (st->nskip && st->depth == 1 && json_nest_skipped(st, key, n)) {
		st->cur = COL_SKIP; /* a nested array: its elements are kids */
		return 1;
	}
	if (st->collecting) {
		st->cur = COL_SKIP;
		return collect_key(st, key, n);
	}
	int c = column_lookup(st, key, n);
	if (c < 0 && st->flat_next) {
		st->cur = COL_SKIP;
		st->unknown_pending = true; /* unless its value is an object */
		return 1;
	}
	if (c < 0) {
		st->cur = COL_SKIP;
		if (!st->opt.ignore_unknown)
			json_set_bad(st, "unknown key \"%s\" (not a column of the target)", key, n);
		return 1;
	}
	if (st->seen[c] == st->stamp) {
		st->cur = COL_SKIP;
		json_set_bad(st, "duplicate key \"%s\"", key, n);
		return 1;
	}
	st->seen[c] = st->stamp;
	st->cur = c;
	return 1;
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
	if (st->depth == 1 && st->flat_next && is_map && st->nfl < FLAT_MAX)
		return flat_push(st);
	if (st->depth == 1 && (st->flat_top || st->collect_pending || st->unknown_pending))
		flat_value(st, false); /* an array, or an object nested too deep: JSON */
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
	if (st->depth == 1 && st->nfl && is_map) {
		/* a flattened object: the record's own close comes after */
		st->flat_name.len = st->flat_pre[--st->nfl];
		st->flat_next = st->flat_top = false;
		return 1;
	}
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
			json_store(st, c, text, n);
		} else {
			/* nested deeper than yajl_gen goes: keep the bytes as written */
			size_t end = yajl_get_bytes_consumed(st->parser);
			json_store(st, c, st->unit.data + st->capture_start,
				   end - st->capture_start);
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

/* Parse the current unit with YAJL. On PARSE_SYNTAX, msg says where and why. */
enum parse_result json_parse_unit(struct json_state *st, char *msg, size_t msgsz)
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
	st->nfl = 0;
	st->flat_name.len = 0;
	st->flat_next = st->flat_top = st->collect_pending = st->unknown_pending = false;
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
