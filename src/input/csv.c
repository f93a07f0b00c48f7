/* src/input/csv.c
 * The CSV and TSV reader, on libcsv. Input is fed to the parser one physical
 * line at a time so every record knows the line it starts on and its verbatim
 * text, and a malformed line can be rejected and skipped.
 */
#include <csv.h>
#include <stdlib.h>
#include <string.h>

#include "sluice/buf.h"
#include "sluice/reader.h"

#define CHUNK_SIZE (256 * 1024)
#define FIELD_MAX ((size_t)256 << 20) /* one field may not pass 256 MiB */

/* One record being assembled or waiting to be returned. */
struct csv_slot {
	struct buf data;    /* field bytes, each followed by a NUL */
	struct buf raw;     /* verbatim text of the record */
	size_t nfields;
	size_t cap;
	size_t *offs;       /* offset of each field in data, or SIZE_MAX for NULL */
	size_t *lens;
	struct cell *cells;
	long line;
	char *bad;          /* reason the record is rejected, or NULL */
	bool structural;    /* bad in its quoting or field count, not its values */
};

struct csv_state {
	struct csv_parser parser;
	struct reader_options opt;
	char delimiter, quote, escape;
	size_t expected;    /* fields per record; 0 until known */

	unsigned char *chunk;
	size_t chunk_len, chunk_off;
	bool eof;
	bool at_start;      /* nothing read yet: a BOM may follow */
	long line;          /* line number of the next segment */

	struct csv_slot *slots;
	size_t nslots, head, count;

	/* --escape other than the quote: the quoted-field state across segments */
	int esc_state;
	struct buf xform;

	/* lines to read again before the input goes on: after a malformed
	 * record that spanned several lines only its first line is rejected */
	struct buf pushback;
	size_t pushback_off;
};

static void *limited_realloc(void *p, size_t n)
{
	if (n > FIELD_MAX)
		return NULL;
	return realloc(p, n);
}

static int never_space(unsigned char c)
{
	(void)c;
	return 0; /* keep spaces around unquoted fields, as PostgreSQL does */
}

static bool parser_init(struct csv_state *st)
{
	if (csv_init(&st->parser, CSV_STRICT | CSV_STRICT_FINI | CSV_EMPTY_IS_NULL) != 0)
		return false;
	csv_set_delim(&st->parser, (unsigned char)st->delimiter);
	csv_set_quote(&st->parser, (unsigned char)st->quote);
	csv_set_space_func(&st->parser, never_space);
	csv_set_realloc_func(&st->parser, limited_realloc);
	return true;
}

static void slot_clear(struct csv_slot *s)
{
	buf_reset(&s->data);
	buf_reset(&s->raw);
	s->nfields = 0;
	s->line = 0;
	free(s->bad);
	s->bad = NULL;
	s->structural = false;
}

static struct csv_slot *current_slot(struct csv_state *st)
{
	return &st->slots[st->head + st->count];
}

/* Make sure the slot after the ready ones exists and is empty. */
static bool ensure_current(struct csv_state *st)
{
	size_t idx = st->head + st->count;
	if (idx >= st->nslots) {
		size_t n = st->nslots ? st->nslots * 2 : 4;
		struct csv_slot *s = realloc(st->slots, n * sizeof *s);
		if (!s)
			return false;
		memset(s + st->nslots, 0, (n - st->nslots) * sizeof *s);
		for (size_t i = st->nslots; i < n; i++) {
			buf_init(&s[i].data, FIELD_MAX * 2);
			buf_init(&s[i].raw, FIELD_MAX * 2);
		}
		st->slots = s;
		st->nslots = n;
	}
	return true;
}

static void slot_set_bad(struct csv_slot *s, const char *msg)
{
	if (!s->bad)
		s->bad = strdup(msg);
}

/* libcsv field callback: copy the field into the current slot. */
static void on_field(void *data, size_t len, void *ctx)
{
	struct csv_state *st = ctx;
	struct csv_slot *s = current_slot(st);
	if (s->nfields == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 16;
		size_t *offs = realloc(s->offs, cap * sizeof *offs);
		size_t *lens = offs ? realloc(s->lens, cap * sizeof *lens) : NULL;
		struct cell *cells = lens ? realloc(s->cells, cap * sizeof *cells) : NULL;
		if (offs)
			s->offs = offs;
		if (lens)
			s->lens = lens;
		if (!cells) {
			slot_set_bad(s, "out of memory");
			return;
		}
		s->cells = cells;
		s->cap = cap;
	}
	size_t off = SIZE_MAX;
	if (data) {
		off = s->data.len;
		if (!buf_append(&s->data, data, len) || !buf_putc(&s->data, '\0')) {
			slot_set_bad(s, "field too large");
			off = SIZE_MAX;
			len = 0;
		}
	}
	s->offs[s->nfields] = off;
	s->lens[s->nfields] = len;
	s->nfields++;
}

/* Convert a Latin-1 field to UTF-8 in place of its copy in s->data. */
static bool latin1_to_utf8(struct csv_slot *s, size_t i, struct buf *tmp)
{
	const unsigned char *p = (const unsigned char *)s->data.data + s->offs[i];
	size_t len = s->lens[i];
	bool high = false;
	for (size_t k = 0; k < len; k++)
		if (p[k] >= 0x80)
			high = true;
	if (!high)
		return true;
	buf_reset(tmp);
	for (size_t k = 0; k < len; k++) {
		unsigned char c = p[k];
		if (c < 0x80) {
			if (!buf_putc(tmp, (char)c))
				return false;
		} else {
			char two[2] = { (char)(0xC0 | (c >> 6)), (char)(0x80 | (c & 0x3F)) };
			if (!buf_append(tmp, two, 2))
				return false;
		}
	}
	s->offs[i] = s->data.len;
	s->lens[i] = tmp->len;
	return buf_append(&s->data, tmp->data, tmp->len) && buf_putc(&s->data, '\0');
}

/* libcsv record callback: finish the current slot and start the next one. */
static void on_record(int term, void *ctx)
{
	(void)term;
	struct csv_state *st = ctx;
	struct csv_slot *s = current_slot(st);
	char msg[160];

	if (st->expected && s->nfields != st->expected && !s->bad) {
		snprintf(msg, sizeof msg, "expected %zu fields, found %zu", st->expected,
			 s->nfields);
		slot_set_bad(s, msg);
		s->structural = true;
	}
	if (st->opt.encoding == ENCODING_LATIN1) {
		struct buf tmp;
		buf_init(&tmp, FIELD_MAX * 2);
		for (size_t i = 0; i < s->nfields && !s->bad; i++)
			if (s->offs[i] != SIZE_MAX && !latin1_to_utf8(s, i, &tmp))
				slot_set_bad(s, "field too large");
		buf_free(&tmp);
	}
	for (size_t i = 0; i < s->nfields; i++) {
		if (s->offs[i] == SIZE_MAX) {
			s->cells[i].ptr = NULL;
			s->cells[i].len = 0;
			continue;
		}
		s->cells[i].ptr = s->data.data + s->offs[i];
		s->cells[i].len = s->lens[i];
		if (st->opt.null_marker && !strcmp(s->cells[i].ptr, st->opt.null_marker))
			s->cells[i].ptr = NULL;
		size_t bad_at;
		if (s->cells[i].ptr && st->opt.encoding == ENCODING_UTF8 && !s->bad &&
		    !utf8_valid(s->cells[i].ptr, s->cells[i].len, &bad_at)) {
			snprintf(msg, sizeof msg, "invalid UTF-8 in field %zu at byte %zu", i + 1,
				 bad_at + 1);
			slot_set_bad(s, msg);
		}
	}
	/* the verbatim text without its line terminator */
	while (s->raw.len && (s->raw.data[s->raw.len - 1] == '\n' || s->raw.data[s->raw.len - 1] == '\r'))
		s->raw.data[--s->raw.len] = '\0';
	st->count++;
	if (!ensure_current(st))
		return; /* reported as a failure by the caller, which checks */
	slot_clear(current_slot(st));
}

/* Rewrite one segment so a backslash-style escape inside quotes becomes RFC
 * 4180 doubling, which is what libcsv understands. */
static bool apply_escape(struct csv_state *st, const char *seg, size_t n, const char **out,
			 size_t *outn)
{
	/* ESC_PENDING: an escape ended the last segment (a line cut by the read
	 * chunk); what it escapes is the first byte of this one */
	enum { FIELD_START, UNQUOTED, IN_QUOTES, AFTER_QUOTE, ESC_PENDING };
	buf_reset(&st->xform);
	for (size_t i = 0; i < n; i++) {
		char c = seg[i];
		bool ok = true;
		switch (st->esc_state) {
		case FIELD_START:
		case UNQUOTED:
			if (st->esc_state == FIELD_START && c == st->quote)
				st->esc_state = IN_QUOTES;
			else if (c == st->delimiter || c == '\n' || c == '\r')
				st->esc_state = FIELD_START;
			else
				st->esc_state = UNQUOTED;
			ok = buf_putc(&st->xform, c);
			break;
		case ESC_PENDING:
			st->esc_state = IN_QUOTES;
			if (c == st->quote) {
				ok = buf_putc(&st->xform, st->quote) && buf_putc(&st->xform, st->quote);
			} else if (c == st->escape) {
				ok = buf_putc(&st->xform, st->escape);
			} else {
				ok = buf_putc(&st->xform, st->escape);
				i--; /* an ordinary byte after all: read it again in quotes */
			}
			break;
		case IN_QUOTES:
			if (c == st->escape && i + 1 == n) {
				st->esc_state = ESC_PENDING;
				break;
			}
			if (c == st->escape && (seg[i + 1] == st->quote || seg[i + 1] == st->escape)) {
				if (seg[i + 1] == st->quote)
					ok = buf_putc(&st->xform, st->quote) && buf_putc(&st->xform, st->quote);
				else
					ok = buf_putc(&st->xform, st->escape);
				i++;
			} else {
				if (c == st->quote)
					st->esc_state = AFTER_QUOTE;
				ok = buf_putc(&st->xform, c);
			}
			break;
		case AFTER_QUOTE:
			if (c == st->quote)
				st->esc_state = IN_QUOTES;
			else if (c == st->delimiter || c == '\n' || c == '\r')
				st->esc_state = FIELD_START;
			else
				st->esc_state = UNQUOTED;
			ok = buf_putc(&st->xform, c);
			break;
		}
		if (!ok)
			return false;
	}
	*out = st->xform.data;
	*outn = st->xform.len;
	return true;
}

/* Fill the chunk buffer; false at end of input or on error (err set then). */
static bool fill_chunk(struct reader *r, struct csv_state *st, bool *failed, struct sl_error *err)
{
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
		if (n >= 3 && st->chunk[0] == 0xEF && st->chunk[1] == 0xBB && st->chunk[2] == 0xBF)
			st->chunk_off = 3;
	}
	return true;
}

/* Throw away the record being assembled and start the parser afresh. */
static void restart_parser(struct csv_state *st)
{
	csv_free(&st->parser);
	parser_init(st);
	st->esc_state = 0;
}

/* Feed one physical line (or the tail of the input) to the parser.
 * Returns false with *failed on a fatal error. */
static bool feed_segment(struct reader *r, struct csv_state *st, const char *seg, size_t n,
			 bool *failed, struct sl_error *err)
{
	(void)r;
	struct csv_slot *s = current_slot(st);
	if (s->raw.len == 0 && s->nfields == 0 && st->parser.pstate == 0)
		s->line = st->line;
	if (!buf_append(&s->raw, seg, n)) {
		*failed = true;
		sl_error_set(err, SL_ERR_INPUT, "line %ld: record too large", s->line);
		return false;
	}
	const char *in = seg;
	size_t inn = n;
	if (st->escape != st->quote && !apply_escape(st, seg, n, &in, &inn)) {
		*failed = true;
		return sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
	}
	size_t done = csv_parse(&st->parser, in, inn, on_field, on_record, st);
	if (st->head + st->count >= st->nslots) {
		*failed = true;
		return sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
	}
	if (done < inn) {
		int e = csv_error(&st->parser);
		/* the record in progress is malformed: reject it, skip to the next line */
		s = current_slot(st);
		if (!s->line)
			s->line = st->line;
		slot_set_bad(s, e == CSV_EPARSE ? "malformed CSV (stray quote or text after a closing quote)"
			     : e == CSV_ENOMEM ? "field too large" : csv_strerror(e));
		s->structural = e == CSV_EPARSE;
		while (s->raw.len && (s->raw.data[s->raw.len - 1] == '\n' || s->raw.data[s->raw.len - 1] == '\r'))
			s->raw.data[--s->raw.len] = '\0';
		st->count++;
		restart_parser(st);
		if (!ensure_current(st)) {
			*failed = true;
			return sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
		}
		slot_clear(current_slot(st));
	} else {
		s = current_slot(st);
		/* a blank line: nothing started, forget its text */
		if (s->nfields == 0 && st->parser.pstate == 0)
			buf_reset(&s->raw);
	}
	if (n && seg[n - 1] == '\n')
		st->line++;
	return true;
}

/* The length of the segment at p: one physical line with its '\n', or up to
 * a bare CR, where libcsv also ends a record, so the next record gets its own
 * line number and verbatim text. */
static size_t segment_len(const char *p, size_t avail)
{
	const char *nl = memchr(p, '\n', avail);
	size_t n = nl ? (size_t)(nl - p) + 1 : avail;
	const char *cr = memchr(p, '\r', n);
	if (cr && (size_t)(cr - p) + 1 < n && cr[1] != '\n')
		n = (size_t)(cr - p) + 1;
	return n;
}

/* Parse until at least one record is ready. Returns false at end of input
 * (or with *failed on a fatal error). */
static bool parse_more(struct reader *r, struct csv_state *st, bool *failed, struct sl_error *err)
{
	while (st->count == 0) {
		if (st->pushback_off < st->pushback.len) {
			/* lines given back by split_malformed come first */
			const char *p = st->pushback.data + st->pushback_off;
			size_t n = segment_len(p, st->pushback.len - st->pushback_off);
			st->pushback_off += n;
			if (!feed_segment(r, st, p, n, failed, err))
				return false;
			continue;
		}
		if (st->pushback.len) {
			buf_reset(&st->pushback);
			st->pushback_off = 0;
		}
		if (st->chunk_off >= st->chunk_len) {
			if (!fill_chunk(r, st, failed, err)) {
				if (*failed)
					return false;
				/* end of input: flush a last record without a newline */
				struct csv_slot *s = current_slot(st);
				if (csv_fini(&st->parser, on_field, on_record, st) != 0) {
					s = current_slot(st);
					if (!s->line)
						s->line = st->line;
					slot_set_bad(s, "unterminated quoted field at end of input");
					s->structural = true;
					st->count++;
					restart_parser(st);
					if (!ensure_current(st)) {
						*failed = true;
						return sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
					}
					slot_clear(current_slot(st));
				}
				return st->count > 0;
			}
		}
		const char *p = (const char *)st->chunk + st->chunk_off;
		size_t n = segment_len(p, st->chunk_len - st->chunk_off);
		st->chunk_off += n;
		if (!feed_segment(r, st, p, n, failed, err))
			return false;
	}
	return true;
}

/* A record malformed in its quoting or field count that spans several lines
 * is most likely a stray or unterminated quote that swallowed the lines
 * after it. Reject only its first line and read the rest again, so one bad
 * quote costs one record, not the rest of the file. */
static void split_malformed(struct csv_state *st, struct csv_slot *s)
{
	const char *nl = s->raw.data ? memchr(s->raw.data, '\n', s->raw.len) : NULL;
	struct csv_slot *cur = current_slot(st);
	if (!s->structural || !nl || st->count != 0 || cur->nfields || cur->raw.len ||
	    st->parser.pstate != 0)
		return;
	size_t first = (size_t)(nl - s->raw.data);
	struct buf nb;
	buf_init(&nb, FIELD_MAX * 4);
	bool ok = buf_append(&nb, nl + 1, s->raw.len - first - 1) && buf_putc(&nb, '\n') &&
		  buf_append(&nb, st->pushback.data ? st->pushback.data + st->pushback_off : "",
			     st->pushback.len - st->pushback_off);
	if (!ok) {
		buf_free(&nb);
		return;
	}
	buf_free(&st->pushback);
	st->pushback = nb;
	st->pushback_off = 0;
	st->line = s->line + 1;
	while (first && s->raw.data[first - 1] == '\r')
		first--;
	s->raw.len = first;
	s->raw.data[first] = '\0';
	char msg[300];
	snprintf(msg, sizeof msg, "%s; the record ran on over several lines, so only this line is "
		 "rejected and reading resumes on the next", s->bad);
	free(s->bad);
	s->bad = strdup(msg);
}

static enum read_status csv_next(struct reader *r, struct record *rec, struct sl_error *err)
{
	struct csv_state *st = r->impl;
	bool failed = false;
	if (st->count == 0 && st->head > 0) {
		/* every ready slot was handed out: move the one in progress to the front */
		struct csv_slot tmp = st->slots[0];
		st->slots[0] = st->slots[st->head];
		st->slots[st->head] = tmp;
		st->head = 0;
	}
	if (st->count == 0 && !parse_more(r, st, &failed, err))
		return failed ? READ_FAIL : READ_EOF;
	struct csv_slot *s = &st->slots[st->head];
	st->head++;
	st->count--;
	if (s->bad)
		split_malformed(st, s);
	rec->nfields = s->nfields;
	rec->fields = s->cells;
	rec->line = s->line;
	rec->raw = s->raw.data ? s->raw.data : "";
	rec->raw_len = s->raw.len;
	if (!st->expected && !s->bad)
		st->expected = s->nfields;
	if (s->bad) {
		err->line = s->line;
		sl_error_set(err, SL_ERR_INPUT, "line %ld: %s", s->line, s->bad);
		return READ_REJECT;
	}
	return READ_OK;
}

static bool csv_open(struct reader *r, const struct reader_options *opt, struct sl_error *err)
{
	struct csv_state *st = calloc(1, sizeof *st);
	if (!st)
		return sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
	r->impl = st;
	st->opt = *opt;
	st->delimiter = opt->delimiter ? opt->delimiter : (r->format == FORMAT_TSV ? '\t' : ',');
	st->quote = opt->quote ? opt->quote : '"';
	st->escape = opt->escape ? opt->escape : st->quote;
	st->line = 1;
	st->at_start = true;
	buf_init(&st->xform, FIELD_MAX * 2);
	buf_init(&st->pushback, FIELD_MAX * 4);
	st->chunk = malloc(CHUNK_SIZE);
	if (!st->chunk || !parser_init(st) || !ensure_current(st))
		return sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
	slot_clear(current_slot(st));
	if (opt->no_header)
		return true;

	/* the header: its names, verbatim */
	struct record rec;
	enum read_status rs = csv_next(r, &rec, err);
	if (rs == READ_EOF)
		return true; /* an empty file: no header, no rows */
	if (rs != READ_OK)
		return rs == READ_REJECT ? sl_error_prefix(err, "bad header") : false;
	r->header = calloc(rec.nfields, sizeof *r->header);
	if (!r->header)
		return sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
	for (size_t i = 0; i < rec.nfields; i++) {
		if (!rec.fields[i].ptr || rec.fields[i].len == 0)
			return sl_error_set(err, SL_ERR_USAGE, "header field %zu is empty", i + 1);
		if (memchr(rec.fields[i].ptr, '\0', rec.fields[i].len))
			return sl_error_set(err, SL_ERR_USAGE, "header field %zu contains a NUL byte",
					    i + 1);
		r->header[i] = strdup(rec.fields[i].ptr);
		if (!r->header[i])
			return sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
		r->nheader = (int)i + 1;
	}
	return true;
}

static bool csv_set_columns(struct reader *r, char *const *names, int n, struct sl_error *err)
{
	struct csv_state *st = r->impl;
	(void)names;
	if (st->expected && st->expected != (size_t)n)
		return sl_error_set(err, SL_ERR_USAGE, "the input has %zu columns but %d were named",
				    st->expected, n);
	st->expected = (size_t)n;
	return true;
}

static void csv_close(struct reader *r)
{
	struct csv_state *st = r->impl;
	if (!st)
		return;
	csv_free(&st->parser);
	for (size_t i = 0; i < st->nslots; i++) {
		buf_free(&st->slots[i].data);
		buf_free(&st->slots[i].raw);
		free(st->slots[i].offs);
		free(st->slots[i].lens);
		free(st->slots[i].cells);
		free(st->slots[i].bad);
	}
	free(st->slots);
	buf_free(&st->xform);
	buf_free(&st->pushback);
	free(st->chunk);
	free(st);
	r->impl = NULL;
}

const struct reader_ops csv_reader_ops = {
	.name = "csv",
	.open = csv_open,
	.set_columns = csv_set_columns,
	.next = csv_next,
	.close = csv_close,
};
