/* src/input/csv.c
 * The CSV and TSV reader, on libcsv. Input is fed to the parser one physical
 * line at a time so every record knows the line it starts on and its verbatim
 * text, and a malformed line can be rejected and skipped. A record whose text
 * passes --max-record-bytes is rejected without being kept in memory.
 */
#include <csv.h>
#include <stdio.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif
#if defined(__GNUC__) && defined(__x86_64__)
#include <immintrin.h>
#endif
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sluice/buf.h"
#include "sluice/reader.h"
#include "sluice/textblock.h"

#define CHUNK_SIZE TEXT_BLOCK_SIZE  /* a chunk is a shared block (textblock.h) */
#define RAW_PREFIX 1024		    /* bytes of a too-large record kept for the rejects file */
#define SHRINK_AT ((size_t)1 << 20) /* buffers grown past this are freed after their record */
#define FIELDS_MAX 65536	    /* no table has more columns (PostgreSQL 1600, MySQL 4096) */

/* One record being assembled or waiting to be returned. */
struct csv_slot {
	struct buf data; /* field bytes, each followed by a NUL */
	struct buf raw;	 /* verbatim text of the record (a prefix when over) */
	size_t nfields;	 /* fields seen */
	size_t nstored;	 /* fields kept in offs/lens/cells (fewer when the record is bad) */
	size_t cap;
	size_t *offs; /* offset of each field in data, or SIZE_MAX for NULL */
	size_t *lens;
	struct cell *cells;
	long line;
	long end_line;	 /* line of its last byte */
	char *bad;	 /* reason the record is rejected, or NULL */
	bool structural; /* bad in its quoting or field count, not its values */
	bool over;	 /* its text passed --max-record-bytes: no longer stored */
	bool at_eof;	 /* a quoted field still open at the end of input */
};

struct csv_state {
	struct csv_parser parser;
	struct reader_options opt;
	char delimiter, quote, escape;
	size_t expected; /* fields per record; 0 until known */

	size_t max_record; /* --max-record-bytes */
	bool in_header;	   /* the record being read is the header: no null marker */

	/* the text being read: the data of block, which the batches that
	 * hold records found by fast_record share */
	struct text_block *block;
	unsigned char *chunk;
	size_t chunk_len, chunk_off;
	bool eof;
	bool at_start;	/* nothing read yet: a BOM may follow */
	char last_byte; /* of the last segment fed: after a CR, a '\n' ends no new line */
	/* the record in progress is malformed and its segment goes on past
	 * the chunk it was found in: the rest, up to its line's '\n' or a bare
	 * CR, is its text too (skip_rest_of_line), then it is rejected */
	bool skipping;
	long line; /* line number of the next segment */

	/* a record past the limit whose lines must be read again, as
	 * split_malformed does from memory: a second opening of the same file
	 * read from the line after its first up to where r->src stands
	 * (src_off bytes), then reading goes on from r->src */
	uint64_t src_off;
	struct source *again;
	uint64_t again_off;

	struct csv_slot *slots;
	size_t nslots, head, count;

	/* --escape other than the quote: the quoted-field state across segments */
	int esc_state;
	struct buf xform;

	/* lines to read again before the input goes on: after a malformed
	 * record that spanned several lines only its first line is rejected */
	struct buf pushback;
	size_t pushback_off;

	/* records as raw CSV (csv_raw_csv): plain records are found by
	 * fast_record, their fields pointing into the chunk */
	bool fast;
	bool avx2;		 /* fast_record_plain may read 32 bytes at a time */
	struct cell *fcells;	 /* where a plain record's fields go: fcells_own or r->cells_to */
	struct cell *fcells_own; /* FIELDS_MAX of them */
	struct buf fdata;	 /* fields with doubled quotes, undoubled */
};

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
	return true;
}

/* Empty a slot for the next record; memory a large record needed is given
 * back, so a big record costs memory only while it is read. */
static void slot_clear(struct csv_slot *s)
{
	if (s->data.cap > SHRINK_AT)
		buf_free(&s->data);
	if (s->raw.cap > SHRINK_AT)
		buf_free(&s->raw);
	if (s->cap > SHRINK_AT / sizeof(struct cell)) {
		free(s->offs);
		free(s->lens);
		free(s->cells);
		s->offs = s->lens = NULL;
		s->cells = NULL;
		s->cap = 0;
	}
	buf_reset(&s->data);
	buf_reset(&s->raw);
	s->nfields = s->nstored = 0;
	s->line = s->end_line = 0;
	free(s->bad);
	s->bad = NULL;
	s->structural = s->over = s->at_eof = false;
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
			/* the limit is checked on raw by feed_segment; data holds
			 * the fields, a NUL each, and Latin-1 converted copies */
			buf_init(&s[i].data, st->max_record * 4 + 64);
			buf_init(&s[i].raw, st->max_record + RAW_PREFIX + 2);
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
	s->nfields++;
	/* past the limit, or more fields than the input has: only count them,
	 * the record is rejected */
	if (s->over || (st->expected && s->nstored > st->expected))
		return;
	if (s->nstored == FIELDS_MAX) {
		/* the field count is not known yet (the header): 32 bytes a field
		 * of bookkeeping would let a line of commas take 32 times the limit */
		char msg[64];
		snprintf(msg, sizeof msg, "more than %d fields", FIELDS_MAX);
		slot_set_bad(s, msg);
		return;
	}
	if (s->nstored == s->cap) {
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
	s->offs[s->nstored] = off;
	s->lens[s->nstored] = len;
	s->nstored++;
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
			char two[2] = {(char)(0xC0 | (c >> 6)), (char)(0x80 | (c & 0x3F))};
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
	s->end_line = st->line;
	if (st->opt.encoding == ENCODING_LATIN1 && !s->over) {
		struct buf tmp;
		buf_init(&tmp, st->max_record * 2 + 2);
		for (size_t i = 0; i < s->nstored && !s->bad; i++)
			if (s->offs[i] != SIZE_MAX && !latin1_to_utf8(s, i, &tmp))
				slot_set_bad(s, "field too large");
		buf_free(&tmp);
	}
	for (size_t i = 0; i < s->nstored; i++) {
		if (s->offs[i] == SIZE_MAX) {
			s->cells[i].ptr = NULL;
			s->cells[i].len = 0;
			continue;
		}
		s->cells[i].ptr = s->data.data + s->offs[i];
		s->cells[i].len = s->lens[i];
		/* header names are never values: the null marker is no NULL there */
		if (st->opt.null_marker && !st->in_header &&
		    !strcmp(s->cells[i].ptr, st->opt.null_marker))
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
	while (s->raw.len &&
	       (s->raw.data[s->raw.len - 1] == '\n' || s->raw.data[s->raw.len - 1] == '\r'))
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
				ok = buf_putc(&st->xform, st->quote) &&
				     buf_putc(&st->xform, st->quote);
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
			if (c == st->escape &&
			    (seg[i + 1] == st->quote || seg[i + 1] == st->escape)) {
				if (seg[i + 1] == st->quote)
					ok = buf_putc(&st->xform, st->quote) &&
					     buf_putc(&st->xform, st->quote);
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

/* Make the chunk one nobody else reads (a batch may hold records found in
 * it), with its last keep bytes at its start: the same block when it is
 * alone, else a fresh one. False when memory is exhausted. */
static bool chunk_writable(struct csv_state *st, size_t keep)
{
	const unsigned char *tail = st->chunk + st->chunk_len - keep;
	if (text_block_alone(st->block)) {
		if (keep)
			memmove(st->chunk, tail, keep);
		return true;
	}
	struct text_block *b = text_block_new();
	if (!b)
		return false;
	memcpy(text_block_data(b), tail, keep);
	text_block_drop(st->block);
	st->block = b;
	st->chunk = text_block_data(b);
	return true;
}

/* Fill the chunk buffer; false at end of input or on error (err set then).
 * Lines being read again (st->again) come first, up to where r->src stands. */
static bool fill_chunk_after(struct reader *r, struct csv_state *st, size_t keep, bool *failed,
			     struct sl_error *err);
static bool fill_chunk(struct reader *r, struct csv_state *st, bool *failed, struct sl_error *err)
{
	return fill_chunk_after(r, st, 0, failed, err);
}

/* fill_chunk, keeping the unread bytes of the chunk (keep of them) at its
 * start: a record cut by the chunk's end is then whole in it. */
static bool fill_chunk_after(struct reader *r, struct csv_state *st, size_t keep, bool *failed,
			     struct sl_error *err)
{
	if (st->eof)
		return false;
	if (!chunk_writable(st, keep)) {
		*failed = true;
		return sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
	}
	st->chunk_len = keep;
	st->chunk_off = 0;
	size_t room = CHUNK_SIZE - keep;
	ssize_t n;
	if (st->again && st->again_off < st->src_off) {
		uint64_t left = st->src_off - st->again_off;
		n = source_read(st->again, st->chunk + keep, left < room ? (size_t)left : room,
				err);
		if (n < 0) {
			*failed = true;
			return false;
		}
		st->again_off += (uint64_t)n;
		if (n > 0) {
			st->chunk_len = keep + (size_t)n;
			st->chunk_off = 0;
			return true;
		}
		/* the file got shorter since: go on with r->src */
	}
	if (st->again) {
		source_close(st->again);
		st->again = NULL;
	}
	n = source_read(r->src, st->chunk + keep, room, err);
	if (n < 0) {
		*failed = true;
		return false;
	}
	if (n == 0) {
		st->eof = true;
		return false;
	}
	st->src_off += (uint64_t)n;
	st->chunk_len = keep + (size_t)n;
	st->chunk_off = 0;
	if (st->at_start && !keep) {
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

/* Keep seg in the verbatim text of the record s. Once that text (without
 * its final line end) passes --max-record-bytes the record is rejected: its
 * fields and text are no longer stored, but for the first RAW_PREFIX bytes
 * of text, while the parser still reads it to find where it ends. False on
 * out of memory. */
static bool keep_raw(struct csv_state *st, struct csv_slot *s, const char *seg, size_t n)
{
	if (!s->over) {
		size_t body = n;
		while (body && (seg[body - 1] == '\n' || seg[body - 1] == '\r'))
			body--;
		if (s->raw.len + body <= st->max_record)
			return buf_append(&s->raw, seg, n);
		s->over = true;
		buf_reset(&s->data);
		for (size_t i = 0; i < s->nstored; i++)
			s->offs[i] = SIZE_MAX;
		if (s->raw.len > RAW_PREFIX) {
			s->raw.len = RAW_PREFIX;
			s->raw.data[RAW_PREFIX] = '\0';
		}
	}
	if (s->raw.len >= RAW_PREFIX)
		return true;
	return buf_append(&s->raw, seg, n < RAW_PREFIX - s->raw.len ? n : RAW_PREFIX - s->raw.len);
}

/* While a record is over the limit libcsv still collects its field; keep
 * only the bytes it may take back at the field's end (the closing quote and
 * spaces before it), so memory stays bounded by the limit. */
static void drop_entry(struct csv_parser *p)
{
	size_t keep = p->spaces + 1;
	if (p->entry_pos > keep) {
		memmove(p->entry_buf, p->entry_buf + p->entry_pos - keep, keep);
		p->entry_pos = keep;
	}
}

/* An empty physical line: "\n", "\r\n", or a bare CR (libcsv ends records there). */
static bool blank_line(const char *seg, size_t n)
{
	return (n == 1 && (seg[0] == '\n' || seg[0] == '\r')) ||
	       (n == 2 && seg[0] == '\r' && seg[1] == '\n');
}

/* Feed one physical line (or the tail of the input) to the parser.
 * Returns false with *failed on a fatal error. */
/* A stream that cannot be read twice (stdin, a pipe): a quote that runs on
 * past --max-record-bytes is cut there, not when it closes. A file is read
 * again from disk instead (read_again_after). */
static bool read_once(const struct reader *r)
{
	return source_size(r->src) < 0 || !strcmp(source_name(r->src), "stdin");
}

/* On a stream read once, record s is inside a quoted field that ran on over
 * several lines and seg would take it past --max-record-bytes: most likely
 * a stray or unterminated quote swallowing what follows. The record is cut
 * here and rejected with its first line only; the lines it took (at most
 * the limit, kept in its text) and seg are read again, as split_malformed
 * does for a smaller record, so the rest of the stream is not lost. False
 * (nothing done) in any other case. */
static bool cut_runaway_quote(struct reader *r, struct csv_state *st, struct csv_slot *s,
			      const char *seg, size_t n)
{
	const char *nl = s->raw.data ? memchr(s->raw.data, '\n', s->raw.len) : NULL;
	if (!read_once(r) || s->over || !st->parser.quoted || st->parser.pstate == 0 || !nl ||
	    s->raw.len + n <= st->max_record || st->count != 0)
		return false;
	/* room for the record after this one first (the slots may move) */
	size_t off = (size_t)(nl - s->raw.data);
	st->count++;
	bool room = ensure_current(st);
	st->count--;
	if (!room)
		return false;
	s = current_slot(st);
	nl = s->raw.data + off;
	size_t first = off;
	struct buf nb;
	buf_init(&nb, st->max_record * 2 + CHUNK_SIZE + 16);
	bool ok = buf_append(&nb, nl + 1, s->raw.len - first - 1) && buf_append(&nb, seg, n) &&
		  buf_append(&nb, st->pushback.data ? st->pushback.data + st->pushback_off : "",
			     st->pushback.len - st->pushback_off);
	if (!ok) {
		buf_free(&nb);
		return false;
	}
	buf_free(&st->pushback);
	st->pushback = nb;
	st->pushback_off = 0;
	while (first && s->raw.data[first - 1] == '\r')
		first--;
	s->raw.len = first;
	s->raw.data[first] = '\0';
	char msg[300];
	snprintf(msg, sizeof msg,
		 "record larger than --max-record-bytes (%zu bytes): a quote ran on over several "
		 "lines, so only this line is rejected and reading resumes on the next",
		 st->max_record);
	slot_set_bad(s, msg);
	s->structural = true;
	s->end_line = s->line;
	st->line = s->line + 1;
	st->last_byte = '\n';
	st->count++;
	restart_parser(st);
	slot_clear(current_slot(st));
	return true;
}

/* The malformed record in progress, whose line has ended (or the input):
 * rejected, its text without the line end, and the parser starts afresh. */
static bool reject_malformed(struct csv_state *st, bool *failed, struct sl_error *err)
{
	struct csv_slot *s = current_slot(st);
	while (s->raw.len &&
	       (s->raw.data[s->raw.len - 1] == '\n' || s->raw.data[s->raw.len - 1] == '\r'))
		s->raw.data[--s->raw.len] = '\0';
	st->count++;
	st->skipping = false;
	restart_parser(st);
	if (!ensure_current(st)) {
		*failed = true;
		return sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
	}
	slot_clear(current_slot(st));
	return true;
}

/* Feed segment seg (n bytes) to the parser; cut: it ends where the chunk
 * does, not at a line's end, so the line goes on in the next read. */
static bool feed_segment(struct reader *r, struct csv_state *st, const char *seg, size_t n,
			 bool cut, bool *failed, struct sl_error *err)
{
	struct csv_slot *s = current_slot(st);
	bool fresh = s->raw.len == 0 && s->nfields == 0 && st->parser.pstate == 0;
	/* the '\n' of a CR LF cut in two by the read chunk is no line of its own */
	bool lf_after_cr = st->last_byte == '\r' && n && seg[0] == '\n';
	if (n)
		st->last_byte = seg[n - 1];
	if (fresh)
		s->line = st->line;
	if (fresh && !lf_after_cr && blank_line(seg, n)) {
		/* libcsv skips blank lines; PostgreSQL's COPY reads one as a
		 * record with one empty unquoted field, a NULL, which is a row
		 * where records have one field and an error elsewhere */
		if (st->expected == 1) {
			on_field(NULL, 0, st);
			on_record('\n', st);
			if (st->head + st->count >= st->nslots) {
				*failed = true;
				return sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
			}
		} else {
			r->blank_lines++;
		}
		if (seg[n - 1] == '\n')
			st->line++;
		return true;
	}
	if (!fresh && cut_runaway_quote(r, st, s, seg, n))
		return true; /* seg is to be read again, after the record's first line */
	if (!keep_raw(st, s, seg, n)) {
		*failed = true;
		return sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
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
		s->end_line = st->line;
		slot_set_bad(s,
			     e == CSV_EPARSE
				     ? "malformed CSV (stray quote or text after a closing quote)"
			     : e == CSV_ENOMEM ? "out of memory"
					       : csv_strerror(e));
		s->structural = e == CSV_EPARSE;
		if (cut) {
			/* the rest of its line is in the next read: skipped too
			 * (skip_rest_of_line), as when the line is read whole */
			st->skipping = true;
		} else if (!reject_malformed(st, failed, err)) {
			return false;
		}
	} else {
		s = current_slot(st);
		/* the end of a CR LF: nothing started, forget its text */
		if (s->nfields == 0 && st->parser.pstate == 0)
			buf_reset(&s->raw);
		if (s->over)
			drop_entry(&st->parser);
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

/* After a malformed record whose segment went on past the chunk: the
 * bytes at p (avail of them, the chunk's) up to where that segment would
 * have ended in one read (its line's '\n', or a bare CR: segment_len) are
 * its text too, not parsed; there it is rejected. */
static bool skip_rest_of_line(struct csv_state *st, const char *p, size_t avail, bool *failed,
			      struct sl_error *err)
{
	if (st->last_byte == '\r' && p[0] != '\n')
		return reject_malformed(st, failed, err); /* a bare CR ended it */
	size_t n = segment_len(p, avail);
	st->chunk_off += n;
	st->last_byte = p[n - 1];
	if (!keep_raw(st, current_slot(st), p, n)) {
		*failed = true;
		return sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
	}
	if (p[n - 1] == '\n')
		st->line++;
	else if (n == avail)
		return true; /* on into the next read */
	return reject_malformed(st, failed, err);
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
			if (!feed_segment(r, st, p, n, false, failed, err))
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
				if (st->skipping) /* its line ended with the input */
					return reject_malformed(st, failed, err) && st->count > 0;
				/* end of input: flush a last record without a newline */
				struct csv_slot *s = current_slot(st);
				if (csv_fini(&st->parser, on_field, on_record, st) != 0) {
					s = current_slot(st);
					if (!s->line)
						s->line = st->line;
					s->end_line =
						st->last_byte == '\n' ? st->line - 1 : st->line;
					slot_set_bad(s,
						     "unterminated quoted field at end of input");
					s->structural = true;
					s->at_eof = true;
					while (s->raw.len && (s->raw.data[s->raw.len - 1] == '\n' ||
							      s->raw.data[s->raw.len - 1] == '\r'))
						s->raw.data[--s->raw.len] = '\0';
					st->count++;
					restart_parser(st);
					if (!ensure_current(st)) {
						*failed = true;
						return sl_error_set(err, SL_ERR_INTERNAL,
								    "out of memory");
					}
					slot_clear(current_slot(st));
				}
				return st->count > 0;
			}
		}
		const char *p = (const char *)st->chunk + st->chunk_off;
		size_t avail = st->chunk_len - st->chunk_off;
		if (st->skipping) {
			if (!skip_rest_of_line(st, p, avail, failed, err))
				return false;
			continue;
		}
		size_t n = segment_len(p, avail);
		st->chunk_off += n;
		if (!feed_segment(r, st, p, n, n == avail && p[n - 1] != '\n', failed, err))
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
	buf_init(&nb, st->max_record * 2 + 16);
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
	snprintf(msg, sizeof msg,
		 "%s; the record ran on over several lines, so only this line is "
		 "rejected and reading resumes on the next",
		 s->bad);
	free(s->bad);
	s->bad = strdup(msg);
}

/* Open the input a second time and stand at the start of line `line + 1`;
 * fill_chunk reads from there up to where r->src stands, then goes on with
 * r->src. Line numbers count '\n' only, as feed_segment does. False when the
 * input cannot be read twice (stdin, a pipe) or not opened again. */
static bool read_again_after(struct reader *r, struct csv_state *st, long line)
{
	const char *name = source_name(r->src);
	if (source_size(r->src) < 0 || !strcmp(name, "stdin"))
		return false;
	struct source *src;
	struct sl_error e;
	if (!source_open(&src, name, &e))
		return false;
	unsigned char *tmp = malloc(CHUNK_SIZE);
	long newlines = 0;
	uint64_t off = 0;
	while (tmp && off < st->src_off) {
		uint64_t left = st->src_off - off;
		ssize_t n =
			source_read(src, tmp, left < CHUNK_SIZE ? (size_t)left : CHUNK_SIZE, &e);
		if (n <= 0)
			break;
		off += (uint64_t)n;
		const unsigned char *p = tmp, *end = tmp + n;
		while ((p = memchr(p, '\n', (size_t)(end - p)))) {
			p++;
			if (++newlines < line)
				continue;
			/* found: what follows in this read is the next chunk */
			if (!chunk_writable(st, 0))
				break;
			st->chunk_len = (size_t)(end - p);
			st->chunk_off = 0;
			memcpy(st->chunk, p, st->chunk_len);
			free(tmp);
			if (st->again)
				source_close(st->again);
			st->again = src;
			st->again_off = off;
			st->eof = false;
			st->line = line + 1;
			st->last_byte = '\n';
			buf_reset(&st->pushback);
			st->pushback_off = 0;
			restart_parser(st);
			return true;
		}
	}
	free(tmp);
	source_close(src);
	return false;
}

/* Turn the reason a record past --max-record-bytes is rejected into its
 * message. Its text was not kept, so when it is malformed and ran on over
 * several lines (most likely a stray or unterminated quote that swallowed
 * what follows) its lines are read again from the file after its first,
 * which alone is rejected, as split_malformed does from memory for smaller
 * records. Stdin cannot be read again: there cut_runaway_quote has cut such
 * a record where it passed the limit, so it does not get here. */
static void over_limit(struct reader *r, struct csv_state *st, struct csv_slot *s)
{
	char msg[600];
	int k = snprintf(msg, sizeof msg, "record larger than --max-record-bytes (%zu bytes)",
			 st->max_record);
	const char *why = s->at_eof ? "an unterminated quoted field ran on to the end of input"
			  : s->structural ? s->bad
					  : NULL;
	struct csv_slot *cur = current_slot(st);
	bool between = st->count == 0 && !cur->nfields && !cur->raw.len && st->parser.pstate == 0;
	bool spans = s->end_line > s->line;
	if (s->structural && spans && between && read_again_after(r, st, s->line)) {
		char *nl = s->raw.data ? memchr(s->raw.data, '\n', s->raw.len) : NULL;
		if (nl) {
			s->raw.len = (size_t)(nl - s->raw.data);
			while (s->raw.len && s->raw.data[s->raw.len - 1] == '\r')
				s->raw.len--;
			s->raw.data[s->raw.len] = '\0';
		}
		snprintf(msg + k, sizeof msg - (size_t)k,
			 ": %s; the record ran on over several lines, "
			 "so only this line is rejected and reading resumes on the next",
			 why);
	} else if (s->at_eof && spans) {
		snprintf(msg + k, sizeof msg - (size_t)k,
			 ": the unterminated quote at line %ld swallowed the rest of the input",
			 s->line);
	} else if (why) {
		snprintf(msg + k, sizeof msg - (size_t)k, ": %s", why);
	}
	char *bad = strdup(msg);
	if (bad) {
		free(s->bad);
		s->bad = bad;
	}
}

/* Whether [s, s+n) has a byte >= 0x80, eight bytes at a time. */
static bool any_high(const unsigned char *s, size_t n)
{
	size_t i = 0;
	for (; i + 8 <= n; i += 8) {
		uint64_t w;
		memcpy(&w, s + i, 8);
		if (w & 0x8080808080808080ULL)
			return true;
	}
	for (; i < n; i++)
		if (s[i] & 0x80)
			return true;
	return false;
}

/* How many '\n' [s, s+n) holds. */
static long count_lf(const unsigned char *s, size_t n)
{
	long k = 0;
	const unsigned char *end = s + n;
	while ((s = memchr(s, '\n', (size_t)(end - s)))) {
		k++;
		s++;
	}
	return k;
}

/* Copy the quoted value at s, whose closing quote lies before tend, to o
 * with its doubled quotes undoubled; returns the end of the copy, or NULL
 * when no closing quote comes first. With SSE2 sixteen bytes a step: it
 * reads up to 16 bytes past tend (within the chunk's room) and writes up
 * to 16 past the copy's end (fdata is reserved that much over). */
static char *undouble(const char *s, const char *tend, char quote, char *o)
{
#ifdef __SSE2__
	const __m128i q = _mm_set1_epi8(quote);
	while (s < tend) {
		__m128i v = _mm_loadu_si128((const __m128i *)(const void *)s);
		_mm_storeu_si128((__m128i *)(void *)o, v);
		unsigned m = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, q));
		if (!m) {
			s += 16;
			o += 16;
			continue;
		}
		unsigned i = (unsigned)__builtin_ctz(m);
		if (s + i >= tend)
			return NULL;
		o += i;
		if (s[i + 1] != quote)
			return o;
		*o++ = quote;
		s += i + 2;
	}
	return NULL;
#else
	for (;;) {
		const char *qt = memchr(s, quote, (size_t)(tend - s));
		if (!qt)
			return NULL;
		memcpy(o, s, (size_t)(qt - s));
		o += qt - s;
		if (qt[1] != quote)
			return o;
		*o++ = quote;
		s = qt + 2;
	}
#endif
}

enum fast_result { FAST_OK, FAST_NO, FAST_MORE };

/* The checks and bookkeeping after a plain record's fields are found in
 * st->fcells (nf of them): it starts at p, its text ends at body_end, the
 * next record at next. lines: the line feeds inside its quoted fields, or
 * -1 to count them here. doubled: some cell has len SIZE_MAX, its quotes to
 * undouble. check_cr: look for a NUL or a CR inside the text (the caller
 * has not); high: the text has a byte >= 0x80, and is validated as UTF-8.
 * Inlined into each caller, whose constant arguments drop the checks it
 * has no need of. */
__attribute__((always_inline)) static inline enum fast_result
fast_finish(struct csv_state *st, struct record *rec, const unsigned char *p,
	    const unsigned char *body_end, const unsigned char *next, size_t nf, long lines,
	    bool doubled, bool check_cr, bool high)
{
	size_t body = (size_t)(body_end - p);
	if (nf != st->expected || body == 0 || body > st->max_record ||
	    (body == 2 && p[0] == '\\' && p[1] == '.') || (check_cr && memchr(p, '\0', body)))
		return FAST_NO;
	if (check_cr && memchr(p, '\r', body)) {
		/* a CR is data inside quotes only: an unquoted field (one not
		 * just after a quote) must have none */
		for (size_t i = 0; i < nf; i++) {
			const struct cell *c = &st->fcells[i];
			if (c->ptr && c->len != SIZE_MAX &&
			    (c->ptr == (const char *)p ||
			     (unsigned char)c->ptr[-1] != (unsigned char)st->quote) &&
			    memchr(c->ptr, '\r', c->len))
				return FAST_NO;
		}
	}
	size_t bad_at;
	if (high && !utf8_valid((const char *)p, body, &bad_at))
		return FAST_NO;
	if (lines < 0)
		lines = count_lf(p, body);
	uint64_t moved = 0;
	if (doubled) {
		/* undouble each field that needs it into fdata, sized first so
		 * the pointers taken stay put */
		buf_reset(&st->fdata);
		if (!buf_reserve(&st->fdata, body + 16))
			return FAST_NO;
		for (size_t i = 0; i < nf; i++) {
			struct cell *c = &st->fcells[i];
			if (c->len != SIZE_MAX)
				continue;
			/* up to its closing quote, which lies within the text */
			char *o0 = st->fdata.data + st->fdata.len;
			char *o = undouble(c->ptr, (const char *)body_end, st->quote, o0);
			if (!o)
				return FAST_NO; /* cannot be: it was found */
			c->ptr = o0;
			c->len = (size_t)(o - o0);
			st->fdata.len += c->len;
			if (i < 64)
				moved |= (uint64_t)1 << i;
		}
	}
	rec->nfields = nf;
	rec->fields = st->fcells;
	rec->line = st->line;
	rec->raw = (const char *)p;
	rec->raw_len = body;
	/* a line feed right after it: its text and values may stay in the
	 * block, held by the batch it goes to */
	rec->block = *body_end == '\n' ? st->block : NULL;
	rec->csv = true;
	rec->fields_in_raw = !doubled || nf <= 64;
	rec->fields_moved = moved;
	st->line += lines + 1;
	st->last_byte = '\n';
	st->chunk_off += (size_t)(next - p);
	return FAST_OK;
}

/* The record at the chunk's position, when it is plain: complete in the
 * chunk, ended by LF or CR LF, exactly the expected fields, each unquoted
 * (no quote or CR in it) or quoted from its first byte to just before a
 * delimiter or the line end (doubled quotes inside), no NUL,
 * valid UTF-8, within --max-record-bytes, not a blank line nor "\." alone.
 * For such a record libcsv gives the fields found here and PostgreSQL's
 * CSV COPY reads the same values from its text. FAST_NO for anything else
 * and FAST_MORE when the chunk ends first: nothing is consumed, and the
 * parser takes it from there, so its rejects, messages and line numbers
 * stay as they are. memchr does the scanning. */
static enum fast_result fast_record(struct csv_state *st, struct record *rec)
{
	const unsigned char *p = st->chunk + st->chunk_off, *end = st->chunk + st->chunk_len;
	const unsigned char *q = p, *body_end;
	const unsigned char dl = (unsigned char)st->delimiter, qu = (unsigned char)st->quote;
	size_t nf = 0, expected = st->expected;
	bool doubled = false, quoted = false;
	/* the next line feed and quote at or after q (end: none in the chunk) */
	const unsigned char *nl = memchr(q, '\n', (size_t)(end - q));
	if (!nl)
		return FAST_MORE;
	const unsigned char *fq = memchr(q, qu, (size_t)(nl - q));
	if (!fq)
		fq = nl; /* none before the line feed: look again only past it */
	for (;;) {
		if (nf == expected)
			return FAST_NO;
		struct cell *c = &st->fcells[nf++];
		if (*q == qu) {
			const unsigned char *start = ++q;
			bool dq = false;
			for (;;) {
				const unsigned char *x = memchr(q, qu, (size_t)(end - q));
				if (!x || x + 1 == end)
					return FAST_MORE;
				if (x[1] != qu) {
					q = x;
					break;
				}
				dq = doubled = true;
				q = x + 2;
			}
			quoted = true;
			c->ptr = (const char *)start;
			c->len =
				dq ? SIZE_MAX : (size_t)(q - start); /* SIZE_MAX: undoubled below */
			q++;					     /* the closing quote */
			if (q > nl) {
				nl = memchr(q, '\n', (size_t)(end - q));
				if (!nl)
					return FAST_MORE;
			}
			fq = memchr(q, qu, (size_t)(nl - q));
			if (!fq)
				fq = nl;
		} else {
			const unsigned char *x = memchr(q, dl, (size_t)(nl - q));
			if (!x)
				x = nl;
			if (fq < x)
				return FAST_NO; /* a quote inside an unquoted field */
			if (x > q && x[-1] == '\r' && x == nl)
				x--; /* the CR of CR LF */
			c->ptr = x == q ? NULL : (const char *)q;
			c->len = (size_t)(x - q);
			q = x;
		}
		/* q is at the delimiter or line end after the field */
		if (*q == dl) {
			q++;
			continue;
		}
		if (q == nl) {
			body_end = q;
			break;
		}
		if (*q == '\r' && q + 1 == nl) {
			body_end = q;
			q++;
			break;
		}
		return FAST_NO;
	}
	q++; /* the '\n' */
	return fast_finish(st, rec, p, body_end, q, nf, quoted ? -1 : 0, doubled, true,
			   any_high(p, (size_t)(body_end - p)));
}

#ifdef __SSE2__
/* Bit i set for each of the 16 bytes at b equal to v. */
static inline unsigned bytes_eq(__m128i b, unsigned char v)
{
	return (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(b, _mm_set1_epi8((char)v)));
}

/* fast_record, sixteen bytes at a time: one pass finds the delimiters,
 * quotes and line feeds of the record (as bits) and notes NULs, CRs and
 * bytes >= 0x80 on the way, instead of a memchr per field and more passes
 * over the text for the checks. Same results as fast_record, which it
 * leaves the rare records with a CR inside to. Reads up to 15 bytes past
 * the chunk's end (the chunk has room for 63) but uses none of them. */
static enum fast_result fast_record_wide_at(struct csv_state *st, struct record *rec,
					    const unsigned char *from, size_t nf0)
{
	const unsigned char *p = st->chunk + st->chunk_off, *end = st->chunk + st->chunk_len;
	const unsigned char dl = (unsigned char)st->delimiter, qu = (unsigned char)st->quote;
	const size_t expected = st->expected;
	const unsigned char *field = from; /* where the field being read starts */
	const unsigned char *start = from; /* a quoted field's first byte */
	bool inq = false, closed = false;  /* in a quoted field; just after one */
	bool dq = false, doubled = false, high = false;
	unsigned skip = 0; /* the second quote of a pair that fell in the next block */
	size_t nf = nf0;
	long lines = 0;
	for (const unsigned char *blk = from; blk < end; blk += 16) {
		__m128i v = _mm_loadu_si128((const __m128i *)(const void *)blk);
		unsigned valid = end - blk >= 16 ? 0xFFFFu : (1u << (end - blk)) - 1;
		unsigned m = (bytes_eq(v, dl) | bytes_eq(v, qu) | bytes_eq(v, '\n')) & valid;
		unsigned odd = (bytes_eq(v, '\r') | bytes_eq(v, 0)) & valid;
		unsigned hi = (unsigned)_mm_movemask_epi8(v) & valid;
		m &= ~skip;
		skip = 0;
		while (m) {
			unsigned i = (unsigned)__builtin_ctz(m);
			const unsigned char *x = blk + i;
			m &= m - 1;
			if (inq) {
				if (*x == '\n') {
					lines++;
				} else if (*x == qu) {
					if (x + 1 >= end)
						return FAST_MORE;
					if (x[1] == qu) {
						dq = doubled = true;
						if (i == 15)
							skip = 1;
						else
							m &= ~(1u << (i + 1));
						continue;
					}
					/* the closing quote: a delimiter or the line end follows */
					if (x[1] != dl && x[1] != '\n' && x[1] != '\r')
						return FAST_NO;
					struct cell *c = &st->fcells[nf++];
					c->ptr = (const char *)start;
					c->len = dq ? SIZE_MAX : (size_t)(x - start);
					inq = false;
					closed = true;
				}
				continue; /* a delimiter inside quotes is data */
			}
			if (*x == qu) {
				if (x != field || nf == expected)
					return FAST_NO; /* a quote inside an unquoted field */
				inq = true;
				dq = false;
				start = x + 1;
				continue;
			}
			/* a delimiter or line feed ends the field */
			const unsigned char *fe = x;
			if (*x == '\n' && fe > p && fe[-1] == '\r')
				fe--; /* the CR of CR LF */
			if (closed) {
				closed = false;
				if (fe != x && fe[-1] != qu)
					return FAST_NO; /* a CR between quote and delimiter */
			} else {
				if (nf == expected)
					return FAST_NO;
				struct cell *c = &st->fcells[nf++];
				c->ptr = fe == field ? NULL : (const char *)field;
				c->len = (size_t)(fe - field);
			}
			if (*x == dl) {
				field = x + 1;
				continue;
			}
			/* the record's end: its NULs, CRs and high bytes up to it */
			unsigned before = (1u << i) - 1;
			odd &= before;
			hi &= before;
			if (fe != x && i > 0)
				odd &= ~(1u << (i - 1)); /* the CR of CR LF is no data */
			if (odd)
				return fast_record(st, rec); /* a CR or NUL inside: rare */
			return fast_finish(st, rec, p, fe, x + 1, nf, lines, doubled, false,
					   high || hi);
		}
		if (odd)
			return fast_record(st, rec);
		high |= hi != 0;
	}
	return FAST_MORE;
}

/* fast_record_wide from the record's start. */
static enum fast_result fast_record_wide(struct csv_state *st, struct record *rec)
{
	return fast_record_wide_at(st, rec, st->chunk + st->chunk_off, 0);
}
/* The common record first: no quote before its line feed. 64 bytes a
 * step until the first line feed or quote; the delimiters before it end
 * the fields, with nothing to tell apart. A quote first: fast_record_wide
 * walks the record on from that field (from the record's start when a
 * byte before it needs a closer look). One mask notes CRs and NULs, which
 * fast_finish looks for closer, another bytes >= 0x80, whose UTF-8 it
 * checks (only then: no pass over the text for either otherwise).
 * Reads up to 63 bytes past the chunk's end (the chunk has room for them)
 * but uses none of them. FAST_PLAIN(name, attributes, CLASSIFY) is its
 * body, around CLASSIFY(blk, stop, delim, rare, high): the masks of the 64
 * bytes at blk (line feeds and quotes; delimiters; CRs and NULs; high
 * bytes), 16 bytes at a time with SSE2 or 32 with AVX2. */
#define FAST_PLAIN(name, attrs, CLASSIFY)                                                          \
	attrs static enum fast_result name(struct csv_state *st, struct record *rec)               \
	{                                                                                          \
		const unsigned char *p = st->chunk + st->chunk_off;                                \
		const unsigned char *end = st->chunk + st->chunk_len;                              \
		const size_t expected = st->expected;                                              \
		struct cell *cells = st->fcells;                                                   \
		const unsigned char *field = p;                                                    \
		size_t nf = 0;                                                                     \
		uint64_t rare = 0, high = 0;                                                       \
		for (const unsigned char *blk = p; blk < end; blk += 64) {                         \
			uint64_t all_stop, all_delim, all_rare, all_high;                          \
			CLASSIFY(blk, all_stop, all_delim, all_rare, all_high);                    \
			uint64_t valid =                                                           \
				end - blk >= 64 ? ~(uint64_t)0 : ((uint64_t)1 << (end - blk)) - 1; \
			uint64_t stop = all_stop & valid;                                          \
			/* the bytes before the first line feed or quote */                        \
			uint64_t before = stop ? (stop & -stop) - 1 : valid;                       \
			uint64_t d = all_delim & before;                                           \
			/* this block's CRs and NULs, at their own bits (rare: the                 \
			 * blocks before, where a bit says only that there is one) */              \
			uint64_t r = all_rare & before;                                            \
			high |= all_high & before;                                                 \
			/* a delimiter past the expected fields: not plain */                      \
			size_t nd = (size_t)__builtin_popcountll(d);                               \
			if (nd > expected - nf)                                                    \
				return FAST_NO;                                                    \
			struct cell *c = cells + nf;                                               \
			nf += nd;                                                                  \
			for (; d; d &= d - 1, c++) {                                               \
				const unsigned char *x = blk + (size_t)__builtin_ctzll(d);         \
				c->ptr = x == field ? NULL : (const char *)field;                  \
				c->len = (size_t)(x - field);                                      \
				field = x + 1;                                                     \
			}                                                                          \
			if (!stop) {                                                               \
				rare |= r;                                                         \
				continue;                                                          \
			}                                                                          \
			const unsigned char *x = blk + __builtin_ctzll(stop);                      \
			if (*x != '\n')                                                            \
				return rare || r || high || x != field                             \
					       ? fast_record_wide(st, rec)                         \
					       : fast_record_wide_at(st, rec, x, nf);              \
			const unsigned char *fe = x;                                               \
			if (fe > field && fe[-1] == '\r') {                                        \
				fe--; /* the CR of CR LF is no data */                             \
				if (fe >= blk)                                                     \
					r &= ~((uint64_t)1 << (fe - blk));                         \
			}                                                                          \
			if (nf == expected)                                                        \
				return FAST_NO;                                                    \
			cells[nf].ptr = fe == field ? NULL : (const char *)field;                  \
			cells[nf].len = (size_t)(fe - field);                                      \
			nf++;                                                                      \
			return fast_finish(st, rec, p, fe, x + 1, nf, 0, false, (rare | r) != 0,   \
					   high != 0);                                             \
		}                                                                                  \
		return FAST_MORE;                                                                  \
	}

/* The four masks of the 16 bytes at b, each as bits at shift sh of stop
 * (line feeds, quotes), delim, rare (CRs, NULs) and high (bytes >= 0x80:
 * the top bits as they are). No arrays: a 64-bit load of masks stored 16
 * bits at a time would wait for the stores. */
#define CLASSIFY16(b, sh, stop, delim, rare, high)                                                 \
	do {                                                                                       \
		__m128i v = _mm_loadu_si128((const __m128i *)(const void *)(b));                   \
		stop |= (uint64_t)(unsigned)_mm_movemask_epi8(                                     \
				_mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('\n')),               \
					     _mm_cmpeq_epi8(v, _mm_set1_epi8(st->quote))))         \
			<< (sh);                                                                   \
		delim |= (uint64_t)(unsigned)_mm_movemask_epi8(                                    \
				 _mm_cmpeq_epi8(v, _mm_set1_epi8(st->delimiter)))                  \
			 << (sh);                                                                  \
		rare |= (uint64_t)(unsigned)_mm_movemask_epi8(                                     \
				_mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('\r')),               \
					     _mm_cmpeq_epi8(v, _mm_setzero_si128())))              \
			<< (sh);                                                                   \
		high |= (uint64_t)(unsigned)_mm_movemask_epi8(v) << (sh);                          \
	} while (0)
#define CLASSIFY_SSE2(blk, stop, delim, rare, high)                                                \
	do {                                                                                       \
		stop = delim = rare = high = 0;                                                    \
		CLASSIFY16(blk, 0, stop, delim, rare, high);                                       \
		CLASSIFY16(blk + 16, 16, stop, delim, rare, high);                                 \
		CLASSIFY16(blk + 32, 32, stop, delim, rare, high);                                 \
		CLASSIFY16(blk + 48, 48, stop, delim, rare, high);                                 \
	} while (0)

FAST_PLAIN(fast_record_plain, , CLASSIFY_SSE2)

#if defined(__GNUC__) && defined(__x86_64__)
#define CSV_AVX2 1
#define CLASSIFY32(b, sh, stop, delim, rare, high)                                                 \
	do {                                                                                       \
		__m256i v = _mm256_loadu_si256((const __m256i *)(const void *)(b));                \
		stop |= (uint64_t)(uint32_t)_mm256_movemask_epi8(_mm256_or_si256(                  \
				_mm256_cmpeq_epi8(v, _mm256_set1_epi8('\n')),                      \
				_mm256_cmpeq_epi8(v, _mm256_set1_epi8(st->quote))))                \
			<< (sh);                                                                   \
		delim |= (uint64_t)(uint32_t)_mm256_movemask_epi8(                                 \
				 _mm256_cmpeq_epi8(v, _mm256_set1_epi8(st->delimiter)))            \
			 << (sh);                                                                  \
		rare |= (uint64_t)(uint32_t)_mm256_movemask_epi8(                                  \
				_mm256_or_si256(_mm256_cmpeq_epi8(v, _mm256_set1_epi8('\r')),      \
						_mm256_cmpeq_epi8(v, _mm256_setzero_si256())))     \
			<< (sh);                                                                   \
		high |= (uint64_t)(uint32_t)_mm256_movemask_epi8(v) << (sh);                       \
	} while (0)
#define CLASSIFY_AVX2(blk, stop, delim, rare, high)                                                \
	do {                                                                                       \
		stop = delim = rare = high = 0;                                                    \
		CLASSIFY32(blk, 0, stop, delim, rare, high);                                       \
		CLASSIFY32(blk + 32, 32, stop, delim, rare, high);                                 \
	} while (0)

FAST_PLAIN(fast_record_plain_avx2, __attribute__((target("avx2,bmi,popcnt"))), CLASSIFY_AVX2)
#endif

/* fast_record_plain, 32 bytes at a time where the processor can
 * (csv_raw_csv asked it once). */
static enum fast_result fast_record_any(struct csv_state *st, struct record *rec)
{
#ifdef CSV_AVX2
	if (st->avx2)
		return fast_record_plain_avx2(st, rec);
#endif
	return fast_record_plain(st, rec);
}
#endif

#ifdef __SSE2__
#define FAST_RECORD fast_record_any
#else
#define FAST_RECORD fast_record
#endif

#ifdef SLUICE_TEST_HOOKS
/* Test builds, SLUICE_CSV_CROSSCHECK=1: FAST_RECORD's answer for every
 * record is held to fast_record's (the same fields, byte for byte, the
 * same line and text, or both leaving the record to the parser); a
 * difference aborts, so the differential tests cannot miss one. */
static enum fast_result fast_record_checked(struct csv_state *st, struct record *rec)
{
	static int on = -1;
	if (on < 0) {
		const char *v = getenv("SLUICE_CSV_CROSSCHECK");
		on = v && !strcmp(v, "1");
	}
	if (!on)
		return FAST_RECORD(st, rec);
	size_t off = st->chunk_off;
	long line = st->line;
	char last = st->last_byte;
	struct record want = {0};
	enum fast_result wr = fast_record(st, &want);
	size_t want_off = st->chunk_off;
	long want_line = st->line;
	struct buf vals; /* fast_record's fields, each as length and bytes */
	buf_init(&vals, 0);
	for (size_t i = 0; wr == FAST_OK && i < want.nfields; i++) {
		const struct cell *c = &want.fields[i];
		size_t len = c->ptr ? c->len : SIZE_MAX;
		if (!buf_append(&vals, (const char *)&len, sizeof len) ||
		    (c->ptr && !buf_append(&vals, c->ptr, c->len)))
			abort();
	}
	/* with AVX2: the SSE2 scan first, then the AVX2 one */
	bool avx2 = st->avx2;
	enum fast_result got = FAST_NO;
	bool same = true;
	for (int pass = avx2 ? 0 : 1; same && pass < 2; pass++) {
		st->avx2 = pass == 1 && avx2;
		st->chunk_off = off;
		st->line = line;
		st->last_byte = last;
		got = FAST_RECORD(st, rec);
		same = got == wr || (got != FAST_OK && wr != FAST_OK);
		if (same && got == FAST_OK) {
			same = rec->nfields == want.nfields && rec->line == want.line &&
			       rec->raw == want.raw && rec->raw_len == want.raw_len &&
			       st->chunk_off == want_off && st->line == want_line;
			const char *v = vals.data;
			for (size_t i = 0; same && i < rec->nfields; i++) {
				const struct cell *c = &rec->fields[i];
				size_t len;
				memcpy(&len, v, sizeof len);
				v += sizeof len;
				same = c->ptr ? len == c->len && !memcmp(v, c->ptr, len)
					      : len == SIZE_MAX;
				if (c->ptr)
					v += len;
			}
		}
	}
	buf_free(&vals);
	if (!same) {
		fprintf(stderr, "csv fast paths differ at line %ld (%d against %d)\n", line,
			(int)got, (int)wr);
		abort();
	}
	return got;
}
#undef FAST_RECORD
#define FAST_RECORD fast_record_checked
#endif

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
	if (st->fast && !st->skipping && st->count == 0 && st->expected &&
	    st->pushback_off >= st->pushback.len && st->parser.pstate == 0 &&
	    st->last_byte != '\r' && !current_slot(st)->raw.len && !current_slot(st)->nfields) {
		if (st->chunk_off >= st->chunk_len && !fill_chunk(r, st, &failed, err) && failed)
			return READ_FAIL;
		/* the fields straight where the caller keeps them, when it says */
		st->fcells =
			r->cells_to && r->cells_room >= st->expected ? r->cells_to : st->fcells_own;
		enum fast_result fr = FAST_RECORD(st, rec);
		if (fr == FAST_MORE && st->chunk_off > 0) {
			/* cut by the chunk's end: move it to the front, read on */
			if (!fill_chunk_after(r, st, st->chunk_len - st->chunk_off, &failed, err) &&
			    failed)
				return READ_FAIL;
			fr = FAST_RECORD(st, rec);
		}
		if (fr == FAST_OK)
			return READ_OK;
	}
	if (st->count == 0 && !parse_more(r, st, &failed, err))
		return failed ? READ_FAIL : READ_EOF;
	struct csv_slot *s = &st->slots[st->head];
	st->head++;
	st->count--;
	if (s->over)
		over_limit(r, st, s);
	else if (s->bad)
		split_malformed(st, s);
	/* a field libcsv grew large is given back between records */
	if (st->parser.pstate == 0 && st->parser.entry_size > SHRINK_AT)
		restart_parser(st);
	rec->nfields = s->nstored;
	rec->fields = s->cells;
	rec->line = s->line;
	rec->raw = s->raw.data ? s->raw.data : "";
	rec->raw_len = s->raw.len;
	rec->csv = false;
	rec->block = NULL;
	if (!st->expected && !s->bad && !s->over)
		st->expected = s->nfields;
	if (s->bad || s->over) {
		err->line = s->line;
		sl_error_set(err, SL_ERR_INPUT, "line %ld: %s", s->line,
			     s->bad ? s->bad : "record larger than --max-record-bytes");
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
	st->max_record = opt->max_record_bytes ? opt->max_record_bytes : READER_DEFAULT_MAX_RECORD;
	/* a segment is a line of a chunk or of the pushback, which holds the
	 * lines of one record within the limit; an escape may double a byte */
	buf_init(&st->xform, (st->max_record + CHUNK_SIZE) * 2 + 16);
	buf_init(&st->pushback, st->max_record * 2 + 16);
	st->block = text_block_new(); /* fast_record_plain reads 64 bytes past the data */
	st->chunk = st->block ? text_block_data(st->block) : NULL;
	if (!st->chunk || !parser_init(st) || !ensure_current(st))
		return sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
	slot_clear(current_slot(st));
	if (opt->no_header)
		return true;

	/* the header: its names, verbatim */
	struct record rec;
	st->in_header = true;
	enum read_status rs = csv_next(r, &rec, err);
	st->in_header = false;
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
			return sl_error_set(err, SL_ERR_USAGE,
					    "header field %zu contains a NUL byte", i + 1);
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
		return sl_error_set(err, SL_ERR_USAGE,
				    "the input has %zu columns but %d were named", st->expected, n);
	st->expected = (size_t)n;
	return true;
}

/* reader_ops.raw_csv: plain records are found by fast_record from now on. */
static bool csv_raw_csv(struct reader *r, char *delim, char *quote)
{
	struct csv_state *st = r->impl;
	unsigned char d = (unsigned char)st->delimiter, q = (unsigned char)st->quote;
	/* COPY's CSV wants one-byte delimiter and quote, apart, no line ends */
	if (st->escape != st->quote || st->opt.null_marker || st->opt.encoding != ENCODING_UTF8 ||
	    !d || !q || d == q || d >= 0x80 || q >= 0x80 || d == '\n' || d == '\r' || q == '\n' ||
	    q == '\r')
		return false;
	if (!st->fcells_own) {
		st->fcells_own = st->fcells = calloc(FIELDS_MAX, sizeof *st->fcells);
		if (!st->fcells_own)
			return false;
		buf_init(&st->fdata, st->max_record + 64);
	}
	st->fast = true;
#if defined(__GNUC__) && defined(__x86_64__)
	__builtin_cpu_init();
	st->avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("bmi") &&
		   __builtin_cpu_supports("popcnt");
#ifdef SLUICE_TEST_HOOKS
	const char *v = getenv("SLUICE_CSV_SSE2"); /* tests: the other path too */
	if (v && !strcmp(v, "1"))
		st->avx2 = false;
#endif
#endif
	*delim = (char)d;
	*quote = (char)q;
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
	free(st->fcells_own);
	buf_free(&st->fdata);
	if (st->again)
		source_close(st->again);
	text_block_drop(st->block);
	free(st);
	r->impl = NULL;
}

const struct reader_ops csv_reader_ops = {
	.name = "csv",
	.open = csv_open,
	.set_columns = csv_set_columns,
	.next = csv_next,
	.close = csv_close,
	.raw_csv = csv_raw_csv,
};
