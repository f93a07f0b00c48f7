/* src/input/json_scan.c
 * The JSON reader's scanner: cuts the input, read in chunks, into units (one
 * NDJSON line, one element of the top-level array or one object of a stream)
 * without parsing them; a unit past --max-record-bytes is scanned to its end
 * but only its first bytes are kept.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "sluice/buf.h"
#include "sluice/json.h"
#include "sluice/source.h"

/* Make sure chunk has unread bytes; false at end of input or on error. */
static bool fill(struct reader *r, struct json_state *st, bool *failed, struct sl_error *err)
{
	if (st->chunk_off < st->chunk_len)
		return true;
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
		if (n >= 3 && st->chunk[0] == 0xEF && st->chunk[1] == 0xBB &&
		    st->chunk[2] == 0xBF) {
			st->chunk_off = 3;
			st->pos = 3;
		}
	}
	return true;
}

/* Mark the current unit as larger than --max-record-bytes: from here on only
 * its first RAW_PREFIX bytes are kept, for the rejects file. */
static void unit_over_limit(struct json_state *st)
{
	st->unit_too_long = true;
	if (st->unit.len > RAW_PREFIX) {
		st->unit.len = RAW_PREFIX;
		st->unit.data[RAW_PREFIX] = '\0';
	}
}

/* Append to the current unit, or note that it is too large and keep scanning
 * it without storing it. An NDJSON line may be one byte longer: its CR goes. */
static void unit_append(struct json_state *st, const void *p, size_t n)
{
	size_t limit = st->max_record + (st->ndjson ? 1 : 0);
	if (!st->unit_too_long && n > limit - st->unit.len)
		unit_over_limit(st);
	if (st->unit_too_long) {
		/* out of memory, the prefix stays shorter: the record goes anyway */
		size_t room = RAW_PREFIX - (st->unit.len < RAW_PREFIX ? st->unit.len : RAW_PREFIX);
		if (room)
			buf_catn(&st->unit, p, n < room ? n : room);
		return;
	}
	/* out of memory below the limit: rejected as too large all the same */
	if (!buf_append(&st->unit, p, n))
		unit_over_limit(st);
}

static bool blank(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\n')
			return false;
	return true;
}

/* The next non-blank NDJSON line into st->unit. 1: a line, 0: end, -1: failure. */
int json_scan_line(struct reader *r, struct json_state *st, struct sl_error *err)
{
	bool failed = false;
	for (;;) {
		buf_reset(&st->unit);
		st->unit_too_long = false;
		st->unit_line = st->line;
		st->unit_pos = st->pos;
		bool got = false, nl = false;
		while (!nl && fill(r, st, &failed, err)) {
			const unsigned char *p = st->chunk + st->chunk_off;
			size_t avail = st->chunk_len - st->chunk_off;
			const unsigned char *e = memchr(p, '\n', avail);
			size_t n = e ? (size_t)(e - p) : avail;
			unit_append(st, p, n);
			got = true;
			nl = e != NULL;
			st->chunk_off += n + (nl ? 1 : 0);
			st->pos += n + (nl ? 1 : 0);
		}
		if (failed)
			return -1;
		if (nl)
			st->line++;
		if (!got && !nl)
			return 0;
		if (st->unit.len && st->unit.data[st->unit.len - 1] == '\r')
			st->unit.data[--st->unit.len] = '\0';
		if (!st->unit_too_long && st->unit.len > st->max_record)
			unit_over_limit(st);
		if (st->unit_too_long || !blank(buf_str(&st->unit), st->unit.len))
			return 1;
		r->blank_lines++;
	}
}

static int scan_fail(struct json_state *st, struct sl_error *err, const char *what)
{
	return sl_error_set(err, SL_ERR_INPUT, "line %ld, byte %llu: %s", st->line,
			    (unsigned long long)st->pos + 1, what),
	       -1;
}

static bool is_space(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Start a unit at the current byte (not consumed yet). */
static void element_begin(struct json_state *st)
{
	buf_reset(&st->unit);
	st->unit_too_long = false;
	st->unit_line = st->line;
	st->unit_pos = st->pos;
	st->sstate = SCAN_ELEMENT;
	st->sdepth = 0;
	st->s_in_str = st->s_esc = false;
	unsigned char c = st->chunk[st->chunk_off];
	st->s_scalar = c != '{' && c != '[' && c != '"';
}

/* Consume bytes of the element in progress; true when it ended. */
static bool element_bytes(struct json_state *st)
{
	const unsigned char *p = st->chunk + st->chunk_off;
	size_t avail = st->chunk_len - st->chunk_off;
	size_t i = 0;
	bool done = false;
	long lines = 0;
	if (st->s_scalar) {
		/* a number or literal: it ends before a delimiter (the first byte
		 * always belongs to it, so a stray ',' or '}' still gets parsed) */
		if (st->unit.len == 0 && !st->unit_too_long)
			i = 1;
		while (i < avail && !is_space(p[i]) && p[i] != ',' && p[i] != ']' && p[i] != '}' &&
		       p[i] != '[' && p[i] != '{' && p[i] != '"')
			i++;
		done = i < avail;
	} else {
		for (; i < avail; i++) {
			unsigned char c = p[i];
			if (c == '\n')
				lines++;
			if (st->s_in_str) {
				if (st->s_esc)
					st->s_esc = false;
				else if (c == '\\')
					st->s_esc = true;
				else if (c == '"') {
					st->s_in_str = false;
					if (st->sdepth == 0) {
						i++;
						done = true;
						break;
					}
				}
				continue;
			}
			if (c == '"') {
				st->s_in_str = true;
			} else if (c == '{' || c == '[') {
				st->sdepth++;
			} else if (c == '}' || c == ']') {
				if (st->sdepth > 0)
					st->sdepth--;
				if (st->sdepth == 0) {
					i++;
					done = true;
					break;
				}
			}
		}
	}
	unit_append(st, p, i);
	st->chunk_off += i;
	st->pos += i;
	st->line += lines;
	return done;
}

/* The next element of the top-level array (or object stream) into st->unit.
 * 1: an element, 0: end, -1: failure (err set). */
int json_scan_element(struct reader *r, struct json_state *st, struct sl_error *err)
{
	bool failed = false;
	for (;;) {
		if (!fill(r, st, &failed, err)) {
			if (failed)
				return -1;
			switch (st->sstate) {
			case SCAN_START:
			case SCAN_END:
				return 0;
			case SCAN_ELEMENT:
				st->sstate = st->stream ? SCAN_START : SCAN_AFTER;
				/* a scalar ends at the end, a truncated element fails
				 * parsing, which tells what is wrong */
				return 1;
			case SCAN_OPEN:
			case SCAN_COMMA:
				return scan_fail(
					st, err,
					"invalid JSON: the document ends inside the array");
			case SCAN_AFTER:
				if (st->stream)
					return 0;
				return scan_fail(
					st, err,
					"invalid JSON: the array is not closed (missing ']')");
			}
		}
		if (st->sstate == SCAN_ELEMENT) {
			if (element_bytes(st)) {
				st->sstate = SCAN_AFTER;
				return 1;
			}
			continue;
		}
		unsigned char c = st->chunk[st->chunk_off];
		if (is_space(c)) {
			if (c == '\n')
				st->line++;
			st->chunk_off++;
			st->pos++;
			continue;
		}
		switch (st->sstate) {
		case SCAN_START:
			if (c == '[') {
				st->sstate = SCAN_OPEN;
				st->chunk_off++;
				st->pos++;
			} else if (c == '{') {
				st->stream = true; /* objects one after another */
				element_begin(st);
			} else {
				return scan_fail(st, err,
						 "invalid JSON: expected an array of objects");
			}
			break;
		case SCAN_OPEN:
			if (c == ']') {
				st->sstate = SCAN_END;
				st->chunk_off++;
				st->pos++;
			} else {
				element_begin(st);
			}
			break;
		case SCAN_COMMA:
			if (c == ']')
				return scan_fail(st, err, "invalid JSON: a ',' before ']'");
			element_begin(st);
			break;
		case SCAN_AFTER:
			if (st->stream) {
				element_begin(st);
			} else if (c == ',') {
				st->sstate = SCAN_COMMA;
				st->chunk_off++;
				st->pos++;
			} else if (c == ']') {
				st->sstate = SCAN_END;
				st->chunk_off++;
				st->pos++;
			} else {
				return scan_fail(
					st, err,
					"invalid JSON: expected ',' or ']' after an element");
			}
			break;
		case SCAN_END:
			return scan_fail(st, err, "invalid JSON: text after the end of the array");
		case SCAN_ELEMENT:
			break;
		}
	}
}
