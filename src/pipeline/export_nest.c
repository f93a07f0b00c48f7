/* src/pipeline/export_nest.c
 * export --nest: a parent's rows written with their children's as arrays.
 * The parent is read in key order, each child ordered by (FK, its own
 * key), and the reads merged in one pass as a sorted merge join: memory
 * holds one child row ahead, never a parent's children all at once.
 * Children whose FK is NULL or matches no parent are counted and said.
 */
#include <stdlib.h>
#include <string.h>

#include "sluice/export_nest.h"
#include "sluice/log.h"
#include "sluice/pipeline.h"
#include "sluice/signals.h"

/* A child table being read. */
struct nest_read {
	const struct nest_child *c;
	struct reader *r;
	struct record rec; /* the row read ahead, when have */
	bool have, done;
	struct buf prev; /* the last FK read, for the order check */
	bool had_prev;
	unsigned long long rows, orphans, nulls;
};

struct nest_merge {
	enum nest_order order;
	struct nest_read *reads;
	int n;
	struct buf prev_key; /* the last parent's key */
	bool had_parent;
};

/* Whether p (n bytes) is an integer as servers write one: digits, a
 * leading '-' at most, no leading zero. */
static bool integer_text(const char *p, size_t n)
{
	size_t i = n && p[0] == '-';
	if (i == n || (p[i] == '0' && n - i > 1))
		return false;
	for (; i < n; i++)
		if (p[i] < '0' || p[i] > '9')
			return false;
	return true;
}

/* a against b: integers by their value (any size: sign, then length, then
 * digits), anything else by its bytes. */
static int key_cmp(enum nest_order order, const char *a, size_t an, const char *b, size_t bn)
{
	if (order == NEST_INTEGER) {
		bool na = a[0] == '-', nb = b[0] == '-';
		if (na != nb)
			return na ? -1 : 1;
		int sign = na ? -1 : 1;
		if (an != bn)
			return an < bn ? -sign : sign;
		int c = memcmp(a, b, an);
		return c < 0 ? -sign : c > 0 ? sign : 0;
	}
	int c = memcmp(a, b, an < bn ? an : bn);
	if (c)
		return c < 0 ? -1 : 1;
	return an < bn ? -1 : an > bn ? 1 : 0;
}

/* Check key k (n bytes) of what (a parent, or a child's FK) as it comes:
 * an integer when compared so, and past the last one (or not before it,
 * when equal is allowed). */
static bool in_order(const struct nest_merge *m, const char *what, const char *k, size_t n,
		     struct buf *prev, bool *had, bool equal_ok, struct sl_error *err)
{
	if (m->order == NEST_INTEGER && !integer_text(k, n))
		return sl_error_set(err, SL_ERR_INPUT, "%s: key value '%.*s' is not an integer",
				    what, (int)(n > 40 ? 40 : n), k);
	if (*had) {
		int c = key_cmp(m->order, prev->data, prev->len, k, n);
		if (c > 0 || (c == 0 && !equal_ok))
			return sl_error_set(err, SL_ERR_INTERNAL,
					    "%s: key '%.*s' came after '%.*s': the server's "
					    "order is not the one the rows are merged in",
					    what, (int)(n > 40 ? 40 : n), k,
					    (int)(prev->len > 40 ? 40 : prev->len), prev->data);
	}
	buf_reset(prev);
	if (!buf_append(prev, k, n))
		return sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
	*had = true;
	return true;
}

/* Read child rd's next row ahead (rd->have), or find its end (rd->done). */
static bool read_ahead(struct nest_merge *m, struct nest_read *rd, struct sl_error *err)
{
	if (rd->have || rd->done)
		return true;
	if (signals_caught())
		return sl_error_set(err, SL_ERR_INTERRUPTED, "interrupted");
	enum read_status rs = rd->r->ops->next(rd->r, &rd->rec, err);
	if (rs == READ_FAIL || rs == READ_REJECT)
		return sl_error_prefix(err, "exporting %s", rd->c->name);
	if (rs == READ_EOF) {
		rd->done = true;
		return true;
	}
	rd->have = true;
	const struct cell *fk = &rd->rec.fields[rd->c->fk];
	return !fk->ptr ||
	       in_order(m, rd->c->name, fk->ptr, fk->len, &rd->prev, &rd->had_prev, true, err);
}

bool nest_merge_open(struct nest_merge **out, const struct driver *drv, struct conn *const *conns,
		     const struct nest_child *children, int n, enum nest_order order, bool bytewise,
		     struct sl_error *err)
{
	struct nest_merge *m = calloc(1, sizeof *m);
	if (m)
		m->reads = calloc((size_t)(n ? n : 1), sizeof *m->reads);
	if (!m || !m->reads) {
		free(m);
		return sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
	}
	m->order = order;
	m->n = n;
	buf_init(&m->prev_key, 0);
	for (int k = 0; k < n; k++)
		buf_init(&m->reads[k].prev, 0);
	*out = m;
	for (int k = 0; k < n; k++) {
		const struct nest_child *c = &children[k];
		struct nest_read *rd = &m->reads[k];
		rd->c = c;
		struct read_range range = {.key = c->spec->columns[c->fk],
					   .ordered = true,
					   .bytewise = bytewise,
					   .then = c->order,
					   .nthen = c->norder};
		if (!table_reader_open(&rd->r, drv, conns[k], c->spec, NULL, &range, c->xf, c->bits,
				       -1, err))
			return false;
		table_reader_no_raw(rd->r);
	}
	return true;
}

/* The rows of child rd under the parent of key k: written as its array,
 * those before it counted as orphans. */
static bool child_rows(struct nest_merge *m, struct nest_read *rd, struct output *o,
		       const struct cell *k, struct sl_error *err)
{
	if (!output_nest_open(o, rd->c->name, err))
		return false;
	bool first = true;
	for (;;) {
		if (!read_ahead(m, rd, err))
			return false;
		if (rd->done)
			break;
		const struct cell *fk = &rd->rec.fields[rd->c->fk];
		int c = fk->ptr ? key_cmp(m->order, fk->ptr, fk->len, k->ptr, k->len) : -1;
		if (c > 0)
			break; /* a later parent's */
		if (c < 0) {
			rd->orphans++;
			rd->nulls += !fk->ptr;
		} else {
			if (!output_nest_row(o, rd->c->cols, rd->c->spec->ncols, rd->rec.fields,
					     first, err))
				return false;
			first = false;
			rd->rows++;
		}
		rd->have = false;
	}
	return output_nest_close(o, err);
}

bool nest_merge_row(struct nest_merge *m, struct output *o, const struct cell *vals, int key,
		    struct sl_error *err)
{
	const struct cell *k = &vals[key];
	if (!k->ptr)
		return sl_error_set(err, SL_ERR_INPUT, "a parent row's key is NULL");
	if (!in_order(m, "the parent", k->ptr, k->len, &m->prev_key, &m->had_parent, false, err) ||
	    !output_row_open(o, vals, err))
		return false;
	for (int i = 0; i < m->n; i++)
		if (!child_rows(m, &m->reads[i], o, k, err))
			return false;
	return output_row_close(o, err);
}

bool nest_merge_finish(struct nest_merge *m, unsigned long long *rows,
		       unsigned long long *zero_dates, struct sl_error *err)
{
	*rows = 0;
	for (int i = 0; i < m->n; i++) {
		struct nest_read *rd = &m->reads[i];
		for (;;) {
			if (!read_ahead(m, rd, err))
				return false;
			if (rd->done)
				break;
			rd->orphans++;
			rd->nulls += !rd->rec.fields[rd->c->fk].ptr;
			rd->have = false;
		}
		*rows += rd->rows;
		*zero_dates += rd->r->zero_dates;
		log_info("nested %llu rows of %s", rd->rows, rd->c->name);
		if (rd->orphans)
			log_warn("%s: %llu rows (%llu of them with %s NULL) belong to no row "
				 "exported: they are not in the file",
				 rd->c->name, rd->orphans, rd->nulls,
				 rd->c->spec->columns[rd->c->fk]);
	}
	return true;
}

void nest_merge_close(struct nest_merge *m)
{
	if (!m)
		return;
	for (int i = 0; i < m->n; i++) {
		if (m->reads[i].r)
			reader_close(m->reads[i].r);
		buf_free(&m->reads[i].prev);
	}
	buf_free(&m->prev_key);
	free(m->reads);
	free(m);
}
