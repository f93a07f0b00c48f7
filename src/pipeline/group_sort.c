/* src/pipeline/group_sort.c
 * --sort-groups SIZE: a source's records read whole into memory, up to the
 * bound the option names, and handed out sorted by their --group-by value,
 * stably: a group's records keep their input order and their line numbers.
 */
#include <stdlib.h>
#include <string.h>

#include "sluice/pipeline.h"

/* One record copied out of the reader's buffers: the cells, then the
 * fields' bytes and the raw record, in one allocation. */
struct sorted_rec {
	struct record rec;
	size_t seq;	  /* its place in the input: the tie-break */
	char *reject_msg; /* a record the reader rejected: the reason */
};

struct group_sort {
	struct sorted_rec *recs;
	size_t n, cap, next;
	int col;
	struct sl_error fail; /* the input broke off after the records read */
	bool failed;
};

/* The record's fields and raw bytes copied into one allocation owned by
 * the copy (its fields pointer). */
static bool copy_record(struct record *dst, const struct record *src, size_t *bytes)
{
	size_t need = src->nfields * sizeof(struct cell) + src->raw_len + 1;
	for (size_t i = 0; i < src->nfields; i++)
		need += src->fields[i].ptr ? src->fields[i].len + 1 : 0;
	char *blob = malloc(need ? need : 1);
	if (!blob)
		return false;
	*dst = *src;
	dst->fields_in_raw = false; /* they are copied apart from it */
	dst->block = NULL;	    /* and the text too */
	struct cell *cells = (struct cell *)(void *)blob;
	char *p = blob + src->nfields * sizeof(struct cell);
	for (size_t i = 0; i < src->nfields; i++) {
		cells[i] = src->fields[i];
		if (src->fields[i].ptr) {
			memcpy(p, src->fields[i].ptr, src->fields[i].len);
			p[src->fields[i].len] = '\0';
			cells[i].ptr = p;
			p += src->fields[i].len + 1;
		}
	}
	if (src->raw_len)
		memcpy(p, src->raw, src->raw_len);
	p[src->raw_len] = '\0';
	dst->raw = p;
	dst->fields = cells;
	*bytes += need + sizeof(struct sorted_rec);
	return true;
}

static const struct cell *group_value(const struct sorted_rec *s, int col)
{
	static const struct cell none = {0};
	return !s->reject_msg && (size_t)col < s->rec.nfields ? &s->rec.fields[col] : &none;
}

/* Rejected records first, then NULL, then the values' bytes; input order
 * among equals. ctx: the group column. */
static int compare(const void *pa, const void *pb, void *ctx)
{
	const struct sorted_rec *a = pa, *b = pb;
	int col = *(const int *)ctx;
	if (!a->reject_msg != !b->reject_msg)
		return a->reject_msg ? -1 : 1;
	const struct cell *x = group_value(a, col), *y = group_value(b, col);
	int c = 0;
	if (!x->ptr || !y->ptr)
		c = x->ptr == y->ptr ? 0 : (x->ptr ? 1 : -1);
	else {
		c = memcmp(x->ptr, y->ptr, x->len < y->len ? x->len : y->len);
		if (!c && x->len != y->len)
			c = x->len < y->len ? -1 : 1;
	}
	if (c)
		return c;
	return a->seq < b->seq ? -1 : a->seq > b->seq;
}

void group_sort_free(struct group_sort *gs)
{
	if (!gs)
		return;
	for (size_t i = 0; i < gs->n; i++) {
		free(gs->recs[i].rec.fields);
		free(gs->recs[i].reject_msg);
	}
	free(gs->recs);
	free(gs);
}

bool group_sort_read(struct group_sort **out, struct reader *r, const char *name, int col,
		     size_t limit, struct sl_error *err)
{
	struct group_sort *gs = calloc(1, sizeof *gs);
	if (!gs)
		return sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
	gs->col = col;
	size_t bytes = 0;
	for (;;) {
		struct record rec = {0};
		struct sl_error rerr;
		sl_error_clear(&rerr);
		enum read_status st = r->ops->next(r, &rec, &rerr);
		if (st == READ_EOF)
			break;
		if (st == READ_FAIL) {
			gs->fail = rerr;
			gs->failed = true;
			break;
		}
		if (gs->n == gs->cap) {
			size_t cap = gs->cap ? gs->cap * 2 : 8;
			struct sorted_rec *p = realloc(gs->recs, cap * sizeof *p);
			if (!p) {
				group_sort_free(gs);
				return sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
			}
			gs->recs = p;
			gs->cap = cap;
		}
		struct sorted_rec *s = &gs->recs[gs->n];
		*s = (struct sorted_rec){.seq = gs->n};
		if (!copy_record(&s->rec, &rec, &bytes) ||
		    (st == READ_REJECT && !(s->reject_msg = strdup(rerr.msg)))) {
			free(s->rec.fields);
			group_sort_free(gs);
			return sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
		}
		gs->n++;
		if (bytes + gs->cap * sizeof *gs->recs > limit) {
			long line = rec.line;
			group_sort_free(gs);
			return sl_error_set(err, SL_ERR_USAGE,
					    "%s:%ld: --sort-groups: the input does not fit its "
					    "memory bound of %zu bytes (sort the input by the "
					    "--group-by column, or raise the bound)",
					    name, line, limit);
		}
	}
	if (gs->n)
		qsort_r(gs->recs, gs->n, sizeof *gs->recs, compare, &gs->col);
	*out = gs;
	return true;
}

enum read_status group_sort_next(struct group_sort *gs, struct record *rec, struct sl_error *err)
{
	if (gs->next == gs->n) {
		if (!gs->failed)
			return READ_EOF;
		*err = gs->fail;
		return READ_FAIL;
	}
	struct sorted_rec *s = &gs->recs[gs->next++];
	*rec = s->rec;
	if (!s->reject_msg)
		return READ_OK;
	sl_error_set(err, SL_ERR_DATA, "%s", s->reject_msg);
	return READ_REJECT;
}
