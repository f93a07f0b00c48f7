/* src/output/output.c
 * An output file: a format's writer (struct output_ops) over a sink, the
 * formatted bytes gathered in a buffer and handed on in large writes.
 */
#include <stdlib.h>
#include <string.h>

#include "sluice/output.h"

#define OUTPUT_FLUSH (256 * 1024)

static bool flush(struct output *o, struct sl_error *err)
{
	if (!o->pending.len)
		return true;
	bool ok = !o->sink || sink_write(o->sink, o->pending.data, o->pending.len, err);
	o->data_bytes += o->pending.len;
	buf_reset(&o->pending);
	return ok;
}

bool output_open(struct output **out, const struct output_options *opt,
		 const struct out_column *cols, int n, const char *path, struct sl_error *err)
{
	struct output *o = calloc(1, sizeof *o);
	if (!o)
		return sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
	o->opt = *opt;
	o->ops = opt->format == FORMAT_NDJSON || opt->format == FORMAT_JSON ? &json_output_ops
									    : &csv_output_ops;
	o->cols = cols;
	o->ncols = n;
	o->first = true;
	buf_init(&o->pending, 0);
	if (path && !sink_open(&o->sink, path, opt, err)) {
		buf_free(&o->pending);
		free(o);
		return false;
	}
	if (!o->ops->begin(o)) {
		output_abort(o);
		return sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
	}
	*out = o;
	return true;
}

bool output_open_segment(struct output **out, const struct output_options *opt,
			 const struct out_column *cols, int n, const char *path, const char *temp,
			 struct sl_error *err)
{
	struct output *o = calloc(1, sizeof *o);
	if (!o)
		return sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
	struct output_options sopt = *opt;
	sopt.sha256 = false; /* hashed as it is joined */
	o->opt = *opt;
	o->ops = opt->format == FORMAT_NDJSON || opt->format == FORMAT_JSON ? &json_output_ops
									    : &csv_output_ops;
	o->cols = cols;
	o->ncols = n;
	o->first = true;
	buf_init(&o->pending, 0);
	if (!sink_open_segment(&o->sink, path, temp, &sopt, err)) {
		buf_free(&o->pending);
		free(o);
		return false;
	}
	*out = o;
	return true;
}

bool output_join(struct output *o, struct output *seg, struct sl_error *err)
{
	bool ok = true;
	if (o->rows && seg->rows && o->ops->between && !o->ops->between(o))
		ok = sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
	ok = ok && flush(o, err) && flush(seg, err);
	if (ok)
		ok = sink_join(o->sink, seg->sink, err); /* frees seg's sink */
	else
		sink_abort(seg->sink);
	o->rows += seg->rows;
	o->data_bytes += seg->data_bytes;
	o->first = o->first && seg->first;
	buf_free(&seg->pending);
	free(seg);
	return ok;
}

bool output_row(struct output *o, const struct cell *vals, struct sl_error *err)
{
	if (!o->ops->row(o, vals))
		return sl_error_set(err, SL_ERR_INTERNAL, "out of memory (a row of %zu bytes)",
				    o->pending.len);
	o->rows++;
	o->first = false;
	return o->pending.len < OUTPUT_FLUSH || flush(o, err);
}

bool output_format_nests(enum input_format f)
{
	return f == FORMAT_NDJSON || f == FORMAT_JSON;
}

/* A step of a nested row: ok, or err (out of memory), then the bytes
 * gathered handed on when there are many (the row's children may be). */
static bool nest_step(struct output *o, bool ok, struct sl_error *err)
{
	if (!ok)
		return sl_error_set(err, SL_ERR_INTERNAL, "out of memory (a row of %zu bytes)",
				    o->pending.len);
	return o->pending.len < OUTPUT_FLUSH || flush(o, err);
}

bool output_row_open(struct output *o, const struct cell *vals, struct sl_error *err)
{
	if (!o->ops->row_open)
		return sl_error_set(err, SL_ERR_USAGE, "%s rows hold no arrays of rows",
				    reader_format_name(o->opt.format));
	return nest_step(o, o->ops->row_open(o, vals), err);
}

bool output_nest_open(struct output *o, const char *name, struct sl_error *err)
{
	return nest_step(o, o->ops->nest_open(o, name), err);
}

bool output_nest_row(struct output *o, const struct out_column *cols, int ncols,
		     const struct cell *vals, bool first, struct sl_error *err)
{
	return nest_step(o, o->ops->nest_row(o, cols, ncols, vals, first), err);
}

bool output_nest_close(struct output *o, struct sl_error *err)
{
	return nest_step(o, o->ops->nest_close(o), err);
}

bool output_row_close(struct output *o, struct sl_error *err)
{
	if (!o->ops->row_close(o))
		return nest_step(o, false, err);
	o->rows++;
	o->first = false;
	return nest_step(o, true, err);
}

bool output_close(struct output *o, unsigned long long *bytes, char *sha256, struct sl_error *err)
{
	if (!o->ops->end(o)) {
		output_abort(o);
		return sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
	}
	if (!flush(o, err)) {
		output_abort(o);
		return false;
	}
	bool ok = !o->sink || sink_commit(o->sink, bytes, sha256, err);
	buf_free(&o->pending);
	free(o);
	return ok;
}

void output_abort(struct output *o)
{
	if (!o)
		return;
	if (o->sink)
		sink_abort(o->sink);
	buf_free(&o->pending);
	free(o);
}

bool output_json_number(const char *s, size_t n)
{
	size_t i = 0;
	if (i < n && s[i] == '-')
		i++;
	if (i >= n || s[i] < '0' || s[i] > '9')
		return false;
	if (s[i] == '0')
		i++;
	else
		while (i < n && s[i] >= '0' && s[i] <= '9')
			i++;
	if (i < n && s[i] == '.') {
		i++;
		size_t d = i;
		while (i < n && s[i] >= '0' && s[i] <= '9')
			i++;
		if (i == d)
			return false;
	}
	if (i < n && (s[i] == 'e' || s[i] == 'E')) {
		i++;
		if (i < n && (s[i] == '+' || s[i] == '-'))
			i++;
		size_t d = i;
		while (i < n && s[i] >= '0' && s[i] <= '9')
			i++;
		if (i == d)
			return false;
	}
	return i == n;
}
