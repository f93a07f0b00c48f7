/* src/input/json_nest.c
 * --nest for the JSON reader: the elements of the named arrays of a record
 * ("posts", "posts.tags") become its kids (struct record_kid), each parsed
 * like a record of its own by a json_state of its path, so that Extended
 * JSON, unknown and duplicate keys and nested values behave as they do for
 * the record. The reader knows nothing of the child tables: the pipeline
 * (src/pipeline/nest.c) makes rows of the kids, linked by the record's key
 * and the positions.
 *
 * A unit is parsed twice more with YAJL's event parser: once here to find
 * where the elements are (byte spans of the unit; a scalar element becomes
 * the object {"value": x}), then each element by its path's state. A record
 * whose element is refused (not an object nor a scalar, an unknown key, a
 * named field that is not an array) is rejected whole, with the element's
 * place ("posts[2].tags[0]") in the reason.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_gen.h>
#include <yajl/yajl_parse.h>

#include "sluice/buf.h"
#include "sluice/json.h"
#include "sluice/reader.h"

enum frame_kind { FRAME_OBJECT, FRAME_ARRAY, FRAME_OTHER };

/* A container open while finding the elements. */
struct frame {
	enum frame_kind kind;
	int table;   /* object: the path it is an element of (-1: the record); array: its path */
	long kid;    /* object: its span (-1: the record); array: the span it is in */
	long pos;    /* array: the next element's position */
	int pending; /* object: the path the current key names, or -1 */
};

/* An element of a nested array: its bytes in the unit, or for a scalar
 * {"value": x} in scalars. */
struct span {
	int table;
	long pos, parent;
	size_t off, len;
	bool scalar;
};

struct nest_scan {
	int n;
	int *parent;
	const char **field;
	struct frame *stack;
	size_t depth, stack_cap;
	struct span *spans;
	size_t nspans, spans_cap;
	struct buf scalars;
	yajl_gen gen;
	yajl_handle h;
	char bad[300];
	bool oom;
	/* the kids of the current unit and their values */
	struct record_kid *kids;
	size_t kids_cap;
	struct cell *cells;
	size_t *offs;
	size_t cells_cap;
	struct buf data;
};

static bool add_skip(struct json_state *st, const char *key)
{
	char **s = realloc(st->skip, (size_t)(st->nskip + 1) * sizeof *s);
	if (!s)
		return false;
	st->skip = s;
	size_t *l = realloc(st->skip_lens, (size_t)(st->nskip + 1) * sizeof *l);
	if (!l)
		return false;
	st->skip_lens = l;
	if (!(st->skip[st->nskip] = strdup(key)))
		return false;
	st->skip_lens[st->nskip++] = strlen(key);
	return true;
}

bool json_nest_init(struct json_state *st)
{
	int n = st->opt.nnest;
	if (n <= 0)
		return true;
	struct nest_scan *ns = calloc(1, sizeof *ns);
	if (!ns)
		return false;
	st->nest = ns;
	ns->n = n;
	ns->parent = calloc((size_t)n, sizeof *ns->parent);
	ns->field = calloc((size_t)n, sizeof *ns->field);
	st->kid_st = calloc((size_t)n, sizeof *st->kid_st);
	ns->gen = yajl_gen_alloc(NULL);
	buf_init(&ns->scalars, 0);
	buf_init(&ns->data, st->max_record * 3 + 4096);
	if (!ns->parent || !ns->field || !st->kid_st || !ns->gen)
		return false;
	struct reader_options kopt = st->opt;
	kopt.nest = NULL;
	kopt.nnest = 0;
	kopt.missing_as_default = false; /* a missing field of an element is NULL */
	for (int t = 0; t < n; t++) {
		ns->parent[t] = nest_path_parent(st->opt.nest, n, t);
		ns->field[t] = nest_path_field(st->opt.nest[t]);
		if (!(st->kid_st[t] = json_state_new(&kopt)) ||
		    !json_flat_init(st->kid_st[t], st->opt.nest[t]))
			return false;
		st->nkid_st = t + 1;
	}
	for (int t = 0; t < n; t++) {
		struct json_state *owner = ns->parent[t] >= 0 ? st->kid_st[ns->parent[t]] : st;
		if (ns->parent[t] >= -1 && !add_skip(owner, ns->field[t]))
			return false;
	}
	return true;
}

void json_nest_free(struct json_state *st)
{
	for (int i = 0; i < st->nskip; i++)
		free(st->skip[i]);
	free(st->skip);
	free(st->skip_lens);
	st->skip = NULL;
	st->nskip = 0;
	for (int t = 0; t < st->nkid_st; t++)
		json_state_free(st->kid_st[t]);
	free(st->kid_st);
	st->kid_st = NULL;
	st->nkid_st = 0;
	struct nest_scan *ns = st->nest;
	if (!ns)
		return;
	free(ns->parent);
	free(ns->field);
	free(ns->stack);
	free(ns->spans);
	buf_free(&ns->scalars);
	if (ns->gen)
		yajl_gen_free(ns->gen);
	free(ns->kids);
	free(ns->cells);
	free(ns->offs);
	buf_free(&ns->data);
	free(ns);
	st->nest = NULL;
}

bool json_nest_skipped(const struct json_state *st, const unsigned char *key, size_t n)
{
	for (int i = 0; i < st->nskip; i++)
		if (st->skip_lens[i] == n && !memcmp(st->skip[i], key, n))
			return true;
	return false;
}

bool json_set_kid_columns(struct reader *r, int t, char *const *names, int n, struct sl_error *err)
{
	struct json_state *st = r->impl;
	if (t < 0 || t >= st->nkid_st)
		return sl_error_set(err, SL_ERR_INTERNAL, "no nest path %d", t);
	if (n == 0) {
		json_free_columns(st->kid_st[t]);
		return true;
	}
	return json_set_columns(&(struct reader){.impl = st->kid_st[t]}, names, n, err);
}

/* ---------------------------------------------------------------------------
 * Finding the elements
 */

/* Where element span k is, as "posts[2].tags[0]", into out. */
static void describe(const struct nest_scan *ns, long k, char *out, size_t n)
{
	char tail[512] = "";
	for (; k >= 0; k = ns->spans[k].parent) {
		char part[512];
		int w = snprintf(part, sizeof part, "%.200s[%ld]%s%.280s",
				 ns->field[ns->spans[k].table], ns->spans[k].pos,
				 tail[0] ? "." : "", tail);
		if (w < 0)
			break;
		memcpy(tail, part, sizeof tail);
	}
	snprintf(out, n, "%s", tail);
}

static void set_bad(struct nest_scan *ns, const char *fmt, const char *what)
{
	if (!ns->bad[0])
		snprintf(ns->bad, sizeof ns->bad, fmt, what);
}

static struct frame *top(struct nest_scan *ns)
{
	return ns->depth ? &ns->stack[ns->depth - 1] : NULL;
}

static bool push(struct nest_scan *ns, struct frame f)
{
	if (ns->depth == ns->stack_cap) {
		size_t cap = ns->stack_cap ? ns->stack_cap * 2 : 16;
		struct frame *s = realloc(ns->stack, cap * sizeof *s);
		if (!s) {
			ns->oom = true;
			return false;
		}
		ns->stack = s;
		ns->stack_cap = cap;
	}
	ns->stack[ns->depth++] = f;
	return true;
}

static long new_span(struct nest_scan *ns, struct frame *arr)
{
	if (ns->nspans == ns->spans_cap) {
		size_t cap = ns->spans_cap ? ns->spans_cap * 2 : 64;
		struct span *s = realloc(ns->spans, cap * sizeof *s);
		if (!s) {
			ns->oom = true;
			return -1;
		}
		ns->spans = s;
		ns->spans_cap = cap;
	}
	ns->spans[ns->nspans] = (struct span){arr->table, arr->pos++, arr->kid, 0, 0, false};
	return (long)ns->nspans++;
}

/* The field named by the key of an object frame is done. */
static void value_done(struct nest_scan *ns)
{
	struct frame *f = top(ns);
	if (f && f->kind == FRAME_OBJECT)
		f->pending = -1;
}

/* A scalar: an element of a nested array ({"value": x}), a named field
 * that is no array (null: no elements), or anything else (ignored). */
static int on_scalar(struct nest_scan *ns, int kind, const void *s, size_t n)
{
	struct frame *f = top(ns);
	if (f && f->kind == FRAME_OBJECT && f->pending >= 0) {
		if (kind != 0)
			set_bad(ns, "\"%s\" is not an array", ns->field[f->pending]);
		value_done(ns);
		return 1;
	}
	if (!f || f->kind != FRAME_ARRAY)
		return 1;
	long k = new_span(ns, f);
	if (k < 0)
		return 0;
	yajl_gen g = ns->gen;
	yajl_gen_clear(g);
	yajl_gen_reset(g, NULL);
	yajl_gen_map_open(g);
	yajl_gen_string(g, (const unsigned char *)"value", 5);
	yajl_gen_status gs = kind == 0	 ? yajl_gen_null(g)
			     : kind == 1 ? yajl_gen_bool(g, *(const int *)s)
			     : kind == 2 ? yajl_gen_number(g, s, n)
					 : yajl_gen_string(g, s, n);
	const unsigned char *text;
	size_t len;
	if (gs != yajl_gen_status_ok || yajl_gen_map_close(g) != yajl_gen_status_ok ||
	    yajl_gen_get_buf(g, &text, &len) != yajl_gen_status_ok) {
		set_bad(ns, "%s: cannot be read", "an element");
		return 1;
	}
	ns->spans[k].scalar = true;
	ns->spans[k].off = ns->scalars.len;
	ns->spans[k].len = len;
	if (!buf_append(&ns->scalars, text, len)) {
		ns->oom = true;
		return 0;
	}
	return 1;
}

static int ns_null(void *ctx)
{
	return on_scalar(ctx, 0, NULL, 0);
}
static int ns_bool(void *ctx, int v)
{
	return on_scalar(ctx, 1, &v, 0);
}
static int ns_number(void *ctx, const char *s, size_t n)
{
	return on_scalar(ctx, 2, s, n);
}
static int ns_string(void *ctx, const unsigned char *s, size_t n)
{
	return on_scalar(ctx, 3, s, n);
}

static int ns_key(void *ctx, const unsigned char *key, size_t n)
{
	struct nest_scan *ns = ctx;
	struct frame *f = top(ns);
	if (!f || f->kind != FRAME_OBJECT)
		return 1;
	f->pending = -1;
	for (int t = 0; t < ns->n; t++)
		if (ns->parent[t] == f->table && strlen(ns->field[t]) == n &&
		    !memcmp(ns->field[t], key, n))
			f->pending = t;
	return 1;
}

static int ns_open(struct nest_scan *ns, bool map)
{
	struct frame *f = top(ns);
	size_t at = yajl_get_bytes_consumed(ns->h);
	if (!f)
		return push(ns, (struct frame){map ? FRAME_OBJECT : FRAME_OTHER, -1, -1, 0, -1});
	if (f->kind == FRAME_OBJECT && f->pending >= 0) {
		int t = f->pending;
		if (map) {
			set_bad(ns, "\"%s\" is an object, not an array", ns->field[t]);
			return push(ns, (struct frame){FRAME_OTHER, -1, -1, 0, -1});
		}
		return push(ns, (struct frame){FRAME_ARRAY, t, f->kid, 0, -1});
	}
	if (f->kind == FRAME_ARRAY) {
		if (!map) {
			set_bad(ns, "an element of \"%s\" is an array, not an object",
				ns->field[f->table]);
			return push(ns, (struct frame){FRAME_OTHER, -1, -1, 0, -1});
		}
		int t = f->table;
		long k = new_span(ns, f);
		if (k < 0)
			return 0;
		ns->spans[k].off = at ? at - 1 : 0;
		return push(ns, (struct frame){FRAME_OBJECT, t, k, 0, -1});
	}
	return push(ns, (struct frame){FRAME_OTHER, -1, -1, 0, -1});
}

static int ns_close(void *ctx)
{
	struct nest_scan *ns = ctx;
	struct frame f = ns->stack[--ns->depth];
	if (f.kind == FRAME_OBJECT && f.kid >= 0)
		ns->spans[f.kid].len = yajl_get_bytes_consumed(ns->h) - ns->spans[f.kid].off;
	value_done(ns);
	return 1;
}

static int ns_start_map(void *ctx)
{
	return ns_open(ctx, true);
}
static int ns_start_array(void *ctx)
{
	return ns_open(ctx, false);
}

static const yajl_callbacks scan_callbacks = {
	.yajl_null = ns_null,
	.yajl_boolean = ns_bool,
	.yajl_number = ns_number,
	.yajl_string = ns_string,
	.yajl_start_map = ns_start_map,
	.yajl_map_key = ns_key,
	.yajl_end_map = ns_close,
	.yajl_start_array = ns_start_array,
	.yajl_end_array = ns_close,
};

/* Find the elements of st's unit (parsed once already: valid JSON). */
static enum parse_result find_spans(struct json_state *st)
{
	struct nest_scan *ns = st->nest;
	ns->depth = ns->nspans = 0;
	ns->bad[0] = '\0';
	ns->oom = false;
	buf_reset(&ns->scalars);
	ns->h = yajl_alloc(&scan_callbacks, NULL, ns);
	if (!ns->h)
		return PARSE_OOM;
	yajl_status s = yajl_parse(ns->h, (const unsigned char *)buf_str(&st->unit), st->unit.len);
	if (s == yajl_status_ok)
		s = yajl_complete_parse(ns->h);
	yajl_free(ns->h);
	ns->h = NULL;
	if (ns->oom)
		return PARSE_OOM;
	if (s != yajl_status_ok && !ns->bad[0])
		snprintf(ns->bad, sizeof ns->bad, "invalid JSON");
	return ns->bad[0] ? PARSE_BAD_RECORD : PARSE_OK;
}

/* Parse element k with its path's state. */
static enum parse_result parse_span(struct json_state *st, size_t k, char *msg, size_t msgsz)
{
	struct nest_scan *ns = st->nest;
	const struct span *sp = &ns->spans[k];
	struct json_state *sub = st->kid_st[sp->table];
	const char *text = sp->scalar ? ns->scalars.data : st->unit.data;
	buf_reset(&sub->unit);
	if (!buf_append(&sub->unit, text + sp->off, sp->len))
		return PARSE_OOM;
	sub->unit_line = st->unit_line;
	sub->unit_pos = st->unit_pos;
	char why[512];
	enum parse_result r = json_parse_unit(sub, why, sizeof why);
	if (r == PARSE_OK || r == PARSE_OOM)
		return r;
	char where[400];
	describe(ns, (long)k, where, sizeof where);
	snprintf(msg, msgsz, "%s: %s", where,
		 r == PARSE_SYNTAX ? why
		 : sub->kind	   ? "not an object"
		 : sub->bad	   ? sub->bad
				   : "refused");
	return PARSE_BAD_RECORD;
}

/* ---------------------------------------------------------------------------
 * The kids of a record
 */

enum parse_result json_nest_kids(struct json_state *st, const struct record_kid **kids,
				 size_t *nkids, char *msg, size_t msgsz)
{
	struct nest_scan *ns = st->nest;
	*kids = NULL;
	*nkids = 0;
	enum parse_result r = find_spans(st);
	if (r == PARSE_BAD_RECORD)
		snprintf(msg, msgsz, "%s", ns->bad);
	if (r != PARSE_OK)
		return r;
	size_t ncells = 0;
	for (size_t k = 0; k < ns->nspans; k++)
		ncells += (size_t)st->kid_st[ns->spans[k].table]->ncols;
	if (ns->nspans > ns->kids_cap) {
		struct record_kid *kk = realloc(ns->kids, ns->nspans * sizeof *kk);
		if (!kk)
			return PARSE_OOM;
		ns->kids = kk;
		ns->kids_cap = ns->nspans;
	}
	if (ncells > ns->cells_cap) {
		struct cell *c = realloc(ns->cells, ncells * sizeof *c);
		if (c)
			ns->cells = c;
		size_t *o = realloc(ns->offs, ncells * sizeof *o);
		if (o)
			ns->offs = o;
		if (!c || !o)
			return PARSE_OOM;
		ns->cells_cap = ncells;
	}
	buf_reset(&ns->data);
	size_t at = 0;
	for (size_t k = 0; k < ns->nspans; k++) {
		r = parse_span(st, k, msg, msgsz);
		if (r != PARSE_OK)
			return r;
		const struct json_state *sub = st->kid_st[ns->spans[k].table];
		for (int c = 0; c < sub->ncols; c++, at++) {
			size_t off = sub->offs[c];
			ns->cells[at].len = 0;
			if (off == OFF_MISSING || off == SIZE_MAX) {
				ns->offs[at] = SIZE_MAX;
				continue;
			}
			ns->offs[at] = ns->data.len;
			ns->cells[at].len = sub->lens[c];
			if (!buf_append(&ns->data, sub->data.data + off, sub->lens[c]) ||
			    !buf_putc(&ns->data, '\0')) {
				snprintf(msg, msgsz, "record too large");
				return PARSE_BAD_RECORD;
			}
		}
	}
	at = 0;
	for (size_t k = 0; k < ns->nspans; k++) {
		const struct span *sp = &ns->spans[k];
		ns->kids[k] = (struct record_kid){sp->table, sp->pos, sp->parent, ns->cells + at};
		for (int c = 0; c < st->kid_st[sp->table]->ncols; c++, at++)
			ns->cells[at].ptr =
				ns->offs[at] == SIZE_MAX ? NULL : ns->data.data + ns->offs[at];
	}
	*kids = ns->kids;
	*nkids = ns->nspans;
	return PARSE_OK;
}

void json_nest_collect(struct json_state *st)
{
	struct nest_scan *ns = st->nest;
	if (find_spans(st) != PARSE_OK)
		return;
	for (size_t k = 0; k < ns->nspans; k++) {
		struct json_state *sub = st->kid_st[ns->spans[k].table];
		char msg[512];
		sub->collecting = true;
		parse_span(st, k, msg, sizeof msg);
		sub->collecting = false;
	}
}

bool json_nest_headers(struct reader *r, struct json_state *st)
{
	int n = st->nkid_st;
	if (r->kid_header)
		return true;
	r->kid_header = calloc((size_t)n, sizeof *r->kid_header);
	r->nkid_header = calloc((size_t)n, sizeof *r->nkid_header);
	if (!r->kid_header || !r->nkid_header)
		return false;
	for (int t = 0; t < n; t++) {
		struct json_state *sub = st->kid_st[t];
		r->kid_header[t] = sub->keys;
		r->nkid_header[t] = sub->nkeys;
		sub->keys = NULL;
		sub->nkeys = sub->keys_cap = 0;
	}
	return true;
}
