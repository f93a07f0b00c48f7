/* src/input/json_paths.c
 * --nest '*': a first pass over JSON files that finds the arrays of objects
 * down to a depth, as nest paths ("posts", "posts.tags"), in order of first
 * appearance (so a path comes after the array it is inside). Streamed with
 * YAJL's event parser: memory is the container depth of a document plus the
 * paths found (at most max of them), never the input.
 *
 * An array is one of objects when an element is an object that is not a
 * MongoDB Extended JSON wrapper ({"$oid": ...}); arrays of scalars, of
 * arrays, and arrays inside objects that are not elements of a nest path
 * (profile.links) are not nest paths. A key that cannot be part of a path
 * (it has '.', ',' or '=') is passed over.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_parse.h>

#include "sluice/reader.h"
#include "sluice/source.h"

#define PATH_BYTES 512

enum pkind { P_TOP, P_OBJECT, P_ARRAY, P_OTHER };

/* An open container: a tracked object (a record or an element of a path)
 * or array (a candidate path) knows its path, cur[0..len), and its depth. */
struct pframe {
	enum pkind kind;
	bool tracked;
	bool keyed; /* object: a key was seen */
	int depth;  /* arrays: 1 for a field of the record */
	size_t len;
};

struct pscan {
	int max_depth, max;
	bool ejson;
	struct pframe *stack;
	size_t depth, cap;
	char cur[PATH_BYTES];
	char key[PATH_BYTES];
	size_t key_len; /* SIZE_MAX: the last key cannot be in a path */
	char **found;
	int nfound;
	bool full, oom;
};

static struct pframe *ptop(struct pscan *ps)
{
	return ps->depth ? &ps->stack[ps->depth - 1] : NULL;
}

static int ppush(struct pscan *ps, struct pframe f)
{
	if (ps->depth == ps->cap) {
		size_t cap = ps->cap ? ps->cap * 2 : 32;
		struct pframe *s = realloc(ps->stack, cap * sizeof *s);
		if (!s) {
			ps->oom = true;
			return 0;
		}
		ps->stack = s;
		ps->cap = cap;
	}
	ps->stack[ps->depth++] = f;
	return 1;
}

/* The element object f of the array at cur[0..f->len) is one of objects. */
static int found(struct pscan *ps, const struct pframe *f)
{
	for (int i = 0; i < ps->nfound; i++)
		if (strlen(ps->found[i]) == f->len && !memcmp(ps->found[i], ps->cur, f->len))
			return 1;
	if (ps->nfound == ps->max) {
		ps->full = true;
		return 0;
	}
	if (!(ps->found[ps->nfound] = strndup(ps->cur, f->len))) {
		ps->oom = true;
		return 0;
	}
	ps->nfound++;
	return 1;
}

/* A scalar or key in an element object decides whether it is a wrapper. */
static int element_keyed(struct pscan *ps, bool wrapper)
{
	struct pframe *f = ptop(ps);
	if (!f || f->kind != P_OBJECT || f->keyed)
		return 1;
	f->keyed = true;
	if (!f->tracked || f->depth == 0)
		return 1;
	if (wrapper) {
		f->tracked = false;
		return 1;
	}
	return found(ps, f);
}

static int p_scalar(void *ctx)
{
	(void)ctx;
	return 1;
}
static int p_bool(void *ctx, int v)
{
	(void)v;
	return p_scalar(ctx);
}
static int p_number(void *ctx, const char *s, size_t n)
{
	(void)s, (void)n;
	return p_scalar(ctx);
}
static int p_string(void *ctx, const unsigned char *s, size_t n)
{
	(void)s, (void)n;
	return p_scalar(ctx);
}

static int p_key(void *ctx, const unsigned char *key, size_t n)
{
	struct pscan *ps = ctx;
	if (!element_keyed(ps, ps->ejson && n && key[0] == '$'))
		return 0;
	ps->key_len = SIZE_MAX;
	if (n && n < sizeof ps->key && !memchr(key, '.', n) && !memchr(key, ',', n) &&
	    !memchr(key, '=', n) && !memchr(key, '\0', n)) {
		memcpy(ps->key, key, n);
		ps->key_len = n;
	}
	return 1;
}

static int p_start_map(void *ctx)
{
	struct pscan *ps = ctx;
	struct pframe *f = ptop(ps);
	struct pframe o = {P_OBJECT, false, false, 0, 0};
	if (!f || f->kind == P_TOP) {
		o.tracked = true; /* a record */
	} else if (f->kind == P_ARRAY && f->tracked) {
		o.tracked = true; /* an element of the array's path */
		o.depth = f->depth;
		o.len = f->len;
	}
	return ppush(ps, o);
}

static int p_end_map(void *ctx)
{
	struct pscan *ps = ctx;
	struct pframe *f = ptop(ps);
	if (f && !f->keyed && f->tracked && f->depth > 0 && !found(ps, f)) /* {} */
		return 0;
	ps->depth--;
	return 1;
}

static int p_start_array(void *ctx)
{
	struct pscan *ps = ctx;
	struct pframe *f = ptop(ps);
	if (!f)
		return ppush(ps, (struct pframe){P_TOP, false, false, 0, 0});
	struct pframe a = {P_ARRAY, false, false, 0, 0};
	if (f->kind == P_OBJECT && f->tracked && f->depth < ps->max_depth &&
	    ps->key_len != SIZE_MAX && f->len + 1 + ps->key_len < sizeof ps->cur) {
		size_t at = f->len;
		if (at)
			ps->cur[at++] = '.';
		memcpy(ps->cur + at, ps->key, ps->key_len);
		a.tracked = true;
		a.depth = f->depth + 1;
		a.len = at + ps->key_len;
	}
	ps->key_len = SIZE_MAX;
	return ppush(ps, a);
}

static int p_end_array(void *ctx)
{
	struct pscan *ps = ctx;
	ps->depth--;
	return 1;
}

static const yajl_callbacks path_callbacks = {
	.yajl_null = p_scalar,
	.yajl_boolean = p_bool,
	.yajl_number = p_number,
	.yajl_string = p_string,
	.yajl_start_map = p_start_map,
	.yajl_map_key = p_key,
	.yajl_end_map = p_end_map,
	.yajl_start_array = p_start_array,
	.yajl_end_array = p_end_array,
};

/* Scan one file into ps. */
static bool scan_file(struct pscan *ps, const char *path, struct sl_error *err)
{
	struct source *src = NULL;
	if (!source_open(&src, path, err))
		return false;
	yajl_handle h = yajl_alloc(&path_callbacks, NULL, ps);
	if (!h) {
		source_close(src);
		return sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
	}
	yajl_config(h, yajl_allow_multiple_values, 1);
	ps->depth = 0;
	bool ok = true;
	char chunk[65536];
	for (;;) {
		ssize_t n = source_read(src, chunk, sizeof chunk, err);
		if (n < 0) {
			ok = false;
			break;
		}
		yajl_status s = n ? yajl_parse(h, (const unsigned char *)chunk, (size_t)n)
				  : yajl_complete_parse(h);
		if (s != yajl_status_ok) {
			if (ps->oom)
				ok = sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
			else if (ps->full)
				ok = sl_error_set(err, SL_ERR_USAGE,
						  "--nest '*': %s has more than %d arrays of "
						  "objects down to depth %d; name the ones to "
						  "nest (--nest PATH,...) or lower --nest-depth",
						  source_name(src), ps->max, ps->max_depth);
			else
				/* the load itself rejects the bad records; the paths
				 * found before the damage stand */
				ok = true;
			break;
		}
		if (!n)
			break;
	}
	yajl_free(h);
	source_close(src);
	return ok;
}

bool json_find_nest_paths(char *const *files, int nfiles, int depth, bool ejson, int max,
			  char ***out, int *nout, struct sl_error *err)
{
	struct pscan ps = {.max_depth = depth, .max = max, .ejson = ejson, .key_len = SIZE_MAX};
	*out = NULL;
	*nout = 0;
	ps.found = calloc((size_t)(max > 0 ? max : 1), sizeof *ps.found);
	if (!ps.found)
		return sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
	bool ok = true;
	for (int i = 0; ok && i < nfiles; i++) {
		if (!strcmp(files[i], "-"))
			ok = sl_error_set(err, SL_ERR_USAGE,
					  "--nest '*' reads the input twice (a first pass finds "
					  "the arrays), and stdin cannot be read twice: name the "
					  "paths instead (--nest posts,posts.tags)");
		else
			ok = scan_file(&ps, files[i], err);
	}
	free(ps.stack);
	if (!ok) {
		for (int i = 0; i < ps.nfound; i++)
			free(ps.found[i]);
		free(ps.found);
		return false;
	}
	*out = ps.found;
	*nout = ps.nfound;
	return true;
}
