/* src/pipeline/table_reader.c
 * A table (or a query) as a record source, for copy: the rows of a driver's
 * streaming read behind the reader interface, each value transformed on its
 * way to the target (typemap_value: hex, bits, zero dates, time zones).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sluice/checkpoint.h"
#include "sluice/driver.h"
#include "sluice/pipeline.h"
#include "sluice/reader.h"
#include "sluice/typemap.h"

struct table_state {
	const struct driver *drv;
	struct read_stream *stream;
	int ncols;
	unsigned *xf;
	int *bits;
	char *const *names; /* the columns read, for messages (the caller's) */
	struct buf *vals;   /* per column: the transformed value */
	struct cell *cells;
	struct buf raw; /* the row as COPY text, for the rejects file */
	long rowno;
	unsigned long long bytes;
	int key;		   /* the column whose integer value numbers the rows, or -1 */
	int mark_cursor, mark_key; /* copy --incremental: the watermark's columns, or -1 */
	struct buf mark;
	bool no_raw; /* records without raw (table_reader_no_raw) */
};

static void table_close(struct reader *r)
{
	struct table_state *st = r->impl;
	if (!st)
		return;
	if (st->stream)
		st->drv->read.close_read(st->stream);
	for (int i = 0; st->vals && i < st->ncols; i++)
		buf_free(&st->vals[i]);
	free(st->vals);
	free(st->cells);
	free(st->xf);
	free(st->bits);
	buf_free(&st->raw);
	buf_free(&st->mark);
	free(st);
	r->impl = NULL;
}

static bool table_set_columns(struct reader *r, char *const *names, int n, struct sl_error *err)
{
	struct table_state *st = r->impl;
	(void)names;
	if (n != st->ncols)
		return sl_error_set(err, SL_ERR_USAGE, "the source has %d columns, the target %d",
				    st->ncols, n);
	return true;
}

/* The row as one line of PostgreSQL COPY text (tabs, \N), for a reject. */
static bool raw_row(struct table_state *st, const struct cell *cells, int n)
{
	buf_reset(&st->raw);
	for (int i = 0; i < n; i++)
		if ((i && !buf_putc(&st->raw, '\t')) ||
		    !pg_copy_escape(&st->raw, cells[i].ptr, cells[i].len))
			return false;
	return true;
}

static enum read_status table_next(struct reader *r, struct record *rec, struct sl_error *err)
{
	struct table_state *st = r->impl;
	memset(rec, 0, sizeof *rec);
	struct cell *cells = NULL;
	int n = 0;
	int got = st->drv->read.read_row(st->stream, &cells, &n, &st->bytes, err);
	if (got < 0 && err->kind == SL_ERR_INPUT && cells) {
		/* a value the driver refuses (driver.h: read_row): a reject */
		st->rowno++;
		rec->line = st->rowno;
		if (!raw_row(st, cells, n)) {
			sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
			return READ_FAIL;
		}
		rec->raw = buf_str(&st->raw);
		rec->raw_len = st->raw.len;
		return READ_REJECT;
	}
	if (got < 0)
		return READ_FAIL;
	if (got == 0)
		return READ_EOF;
	st->rowno++;
	rec->line = st->rowno;
	err->line = st->rowno;
	if (n != st->ncols) {
		sl_error_set(err, SL_ERR_INTERNAL, "row %ld has %d values, expected %d", st->rowno,
			     n, st->ncols);
		return READ_FAIL;
	}
	if (!st->no_raw) {
		if (!raw_row(st, cells, n)) {
			sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
			return READ_FAIL;
		}
		rec->raw = buf_str(&st->raw);
		rec->raw_len = st->raw.len;
	}
	if (st->key >= 0) {
		/* the rows come in key order: the key numbers them (as read,
		 * before any transform) */
		const struct cell *k = &cells[st->key];
		char num[32], *end;
		errno = 0;
		long long v = 0;
		bool ok = k->ptr && k->len > 0 && k->len < sizeof num;
		if (ok) {
			memcpy(num, k->ptr, k->len);
			num[k->len] = '\0';
			v = strtoll(num, &end, 10);
			ok = !errno && !*end;
		}
		if (!ok) {
			sl_error_set(err, SL_ERR_INPUT, "row %ld: key value %.*s is not an integer",
				     st->rowno, k->ptr ? (int)(k->len > 40 ? 40 : k->len) : 4,
				     k->ptr ? k->ptr : "NULL");
			return READ_FAIL;
		}
		rec->ordinal = v;
		rec->has_ordinal = true;
	}
	if (st->mark_cursor >= 0 && cells[st->mark_cursor].ptr) {
		/* the source's own text, before any transform: what the next
		 * run compares the column with */
		const struct cell *c = &cells[st->mark_cursor], *k = &cells[st->mark_key];
		buf_reset(&st->mark);
		if (!watermark_encode(&st->mark, c->ptr, c->len, k->ptr, k->len)) {
			sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
			return READ_FAIL;
		}
		rec->mark = buf_str(&st->mark);
		rec->mark_len = st->mark.len;
	}
	for (int i = 0; i < n; i++) {
		st->cells[i] = cells[i];
		if (!st->xf[i] || !cells[i].ptr)
			continue;
		bool is_null = false;
		char why[256];
		if (!typemap_value(st->xf[i], st->bits[i], cells[i].ptr, cells[i].len, &st->vals[i],
				   &is_null, why, sizeof why)) {
			if (st->names && st->names[i])
				sl_error_set(err, SL_ERR_INPUT, "row %ld, column %s: %s", st->rowno,
					     st->names[i], why);
			else
				sl_error_set(err, SL_ERR_INPUT, "row %ld, column %d: %s", st->rowno,
					     i + 1, why);
			return READ_REJECT;
		}
		if (is_null) {
			st->cells[i].ptr = NULL;
			st->cells[i].len = 0;
			r->zero_dates++;
		} else {
			st->cells[i].ptr = buf_str(&st->vals[i]);
			st->cells[i].len = st->vals[i].len;
		}
	}
	rec->nfields = (size_t)n;
	rec->fields = st->cells;
	return READ_OK;
}

static unsigned long long table_position(struct reader *r)
{
	struct table_state *st = r->impl;
	return st ? st->bytes : 0;
}

static bool table_open_unused(struct reader *r, const struct reader_options *opt,
			      struct sl_error *err)
{
	(void)r;
	(void)opt;
	return sl_error_set(err, SL_ERR_INTERNAL, "a table reader is opened by table_reader_open");
}

void table_reader_no_raw(struct reader *r)
{
	struct table_state *st = r->impl;
	st->no_raw = true;
}

const struct reader_ops table_reader_ops = {
	.name = "table",
	.open = table_open_unused,
	.set_columns = table_set_columns,
	.next = table_next,
	.close = table_close,
	.position = table_position,
};

bool table_reader_open(struct reader **out, const struct driver *drv, struct conn *c,
		       const struct write_spec *spec, const char *query,
		       const struct read_range *range, const unsigned *xf, const int *bits, int key,
		       struct sl_error *err)
{
	struct reader *r = calloc(1, sizeof *r);
	struct table_state *st = calloc(1, sizeof *st);
	int n = spec->ncols;
	if (st)
		st->names = spec->columns;
	if (r && st) {
		st->xf = calloc((size_t)n, sizeof *st->xf);
		st->bits = calloc((size_t)n, sizeof *st->bits);
		st->vals = calloc((size_t)n, sizeof *st->vals);
		st->cells = calloc((size_t)n, sizeof *st->cells);
	}
	if (!r || !st || !st->xf || !st->bits || !st->vals || !st->cells) {
		if (st) {
			free(st->xf);
			free(st->bits);
			free(st->vals);
			free(st->cells);
		}
		free(st);
		free(r);
		return sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
	}
	st->drv = drv;
	st->ncols = n;
	st->key = key;
	st->mark_cursor = st->mark_key = -1;
	buf_init(&st->mark, 0);
	for (int i = 0; i < n; i++) {
		st->xf[i] = xf ? xf[i] : 0;
		st->bits[i] = bits ? bits[i] : 0;
		buf_init(&st->vals[i], 0);
	}
	buf_init(&st->raw, 0);
	r->ops = &table_reader_ops;
	r->impl = st;
	r->format = FORMAT_AUTO;
	if (!drv->read.open_read(c, spec, query, range, &st->stream, err)) {
		st->stream = NULL;
		reader_close(r);
		return false;
	}
	*out = r;
	return true;
}

void table_reader_watermark(struct reader *r, int cursor, int key)
{
	struct table_state *st = r->impl;
	st->mark_cursor = cursor;
	st->mark_key = key;
}
