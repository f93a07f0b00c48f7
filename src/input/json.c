/* src/input/json.c
 * The NDJSON and JSON-array reader, on YAJL. A small scanner (json_scan.c) cuts
 * the input into units (one line of NDJSON, one element of the top-level array)
 * read in chunks, so memory holds only the current record (a unit past
 * --max-record-bytes is scanned to its end but not kept); each unit is parsed
 * by YAJL's event parser into the target columns (json_record.c). Numbers come
 * through YAJL's number callback as their exact text; nested objects and arrays
 * become JSON text again through yajl_gen. MongoDB Extended JSON wrappers are
 * unwrapped (json_ejson.c) unless --no-ejson.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_gen.h>

#include "sluice/buf.h"
#include "sluice/json.h"
#include "sluice/reader.h"

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
	return st->ndjson ? json_scan_line(r, st, err) : json_scan_element(r, st, err);
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
	enum parse_result pr = json_parse_unit(st, msg, sizeof msg);
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
	if (st->nkid_st) {
		switch (json_nest_kids(st, &rec->kids, &rec->nkids, msg, sizeof msg)) {
		case PARSE_OK:
			break;
		case PARSE_OOM:
			sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
			st->failed = true;
			st->fail_err = *err;
			return READ_FAIL;
		default:
			sl_error_set(err, SL_ERR_INPUT, "line %ld: %s", st->unit_line, msg);
			return READ_REJECT;
		}
	}
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
		int u = st->ndjson ? json_scan_line(r, st, &uerr) : json_scan_element(r, st, &uerr);
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
			enum parse_result pr = json_parse_unit(st, msg, sizeof msg);
			if (pr == PARSE_OOM) {
				ok = sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
				break;
			}
			if (pr == PARSE_OK && st->nkid_st)
				json_nest_collect(st);
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
	if (st->nkid_st && !json_nest_headers(r, st))
		return sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
	return true;
}

struct json_state *json_state_new(const struct reader_options *opt)
{
	struct json_state *st = calloc(1, sizeof *st);
	if (!st)
		return NULL;
	st->opt = *opt;
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
	st->gen = yajl_gen_alloc(NULL);
	if (!st->gen) {
		json_state_free(st);
		return NULL;
	}
	return st;
}

void json_state_free(struct json_state *st)
{
	if (!st)
		return;
	json_nest_free(st);
	json_flat_free(st);
	json_free_columns(st);
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
}

static bool json_open(struct reader *r, const struct reader_options *opt, struct sl_error *err)
{
	struct json_state *st = json_state_new(opt);
	if (!st)
		return sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
	r->impl = st;
	st->ndjson = r->format == FORMAT_NDJSON;
	st->chunk = malloc(CHUNK_SIZE);
	if (!st->chunk || !json_flat_init(st, "") || !json_nest_init(st))
		return sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
	return true;
}

static void json_close(struct reader *r)
{
	struct json_state *st = r->impl;
	if (!st)
		return;
	for (int t = 0; r->kid_header && t < st->nkid_st; t++) {
		for (int i = 0; i < r->nkid_header[t]; i++)
			free(r->kid_header[t][i]);
		free(r->kid_header[t]);
	}
	free(r->kid_header);
	free(r->nkid_header);
	r->kid_header = NULL;
	r->nkid_header = NULL;
	json_state_free(st);
	r->impl = NULL;
}

const struct reader_ops json_reader_ops = {
	.name = "json",
	.open = json_open,
	.set_columns = json_set_columns,
	.next = json_next,
	.sample_columns = json_reader_sample_keys,
	.set_kid_columns = json_set_kid_columns,
	.close = json_close,
};
