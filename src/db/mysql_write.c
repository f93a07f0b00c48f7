/* src/db/mysql_write.c
 * MySQL writes: prepared multi-row INSERT, LOAD DATA LOCAL fed from memory.
 */
#include <mysql.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sluice/convert.h"
#include "sluice/mysql_internal.h"
#include "sluice/signals.h"
#include "sluice/url.h"

/* The infile callbacks: the "file" is the rows of c->inf, escaped for
 * FIELDS TERMINATED BY '\t' ESCAPED BY '\\' LINES TERMINATED BY '\n'. */
int my_infile_init(void **ptr, const char *filename, void *userdata)
{
	(void)filename;
	*ptr = userdata;
	return 0;
}

void my_infile_end(void *ptr)
{
	(void)ptr;
}

int my_infile_error(void *ptr, char *msg, unsigned int len)
{
	struct conn *c = ptr;
	snprintf(msg, len, "%s",
		 c->inf.interrupted ? "sluice: interrupted"
				    : "sluice: a row is too large for the LOAD DATA buffer");
	return 2000; /* CR_UNKNOWN_ERROR */
}

/* The byte after the backslash that stands for each byte LOAD DATA's
 * ESCAPED BY '\\' would misread; 0: the byte goes as it is. */
static const char infile_escape[256] = {
	['\\'] = '\\', ['\t'] = 't', ['\n'] = 'n', ['\r'] = 'r', ['\0'] = '0', ['\x1a'] = 'Z',
};

#define ONES 0x0101010101010101ULL
#define HIGHS 0x8080808080808080ULL

/* Whether the eight bytes in w may hold one that LOAD DATA's escaping
 * needs: a byte below 0x20 (NUL, TAB, LF, CR and ^Z are) or a backslash.
 * A word of plain text answers false in a few instructions. */
static inline bool word_may_escape(uint64_t w)
{
	uint64_t bs = w ^ (ONES * '\\');
	return (((w - ONES * 0x20) & ~w) | ((bs - ONES) & ~bs)) & HIGHS;
}

/* Write s[0, len) escaped for LOAD DATA at o, which has room for 2 * len
 * bytes: runs of plain bytes, found eight at a time, are copied whole.
 * Returns the end. */
static char *put_escaped(char *o, const char *s, size_t len)
{
	const char *end = s + len;
	for (;;) {
		const char *run = s;
		for (uint64_t w; end - s >= 8; s += 8) {
			memcpy(&w, s, 8);
			if (word_may_escape(w))
				break;
		}
		while (s < end && !infile_escape[(unsigned char)*s])
			s++;
		memcpy(o, run, (size_t)(s - run));
		o += s - run;
		if (s == end)
			return o;
		*o++ = '\\';
		*o++ = infile_escape[(unsigned char)*s++];
	}
}

/* Convert cell v of column col for c->kinds into dst (bytes at *scratch,
 * advanced); cells that do not convert are copied as they are. */
struct cell my_convert_cell(struct conn *c, int col, struct cell v, char **scratch)
{
	if (!c->nkind_cols || !v.ptr || c->kinds[col] == CONVERT_NONE)
		return v;
	size_t n;
	if (!convert_value(c->kinds[col], v.ptr, v.len, *scratch, v.len + CONVERT_MAX_GROWTH, &n))
		return v;
	struct cell out = {*scratch, n};
	*scratch += n + 1;
	return out;
}

/* Append s[0, len) enclosed in quote, each quote in it doubled. */
static bool put_enclosed(struct buf *o, const char *s, size_t len, char quote)
{
	if (!buf_putc(o, quote))
		return false;
	for (const char *q; (q = memchr(s, quote, len)) != NULL;) {
		size_t k = (size_t)(q - s) + 1;
		if (!buf_append(o, s, k) || !buf_putc(o, quote))
			return false;
		s += k;
		len -= k;
	}
	return buf_append(o, s, len) && buf_putc(o, quote);
}

/* Row r of b written whole into o from its values, for the CSV framing:
 * each value converted and enclosed, the unquoted word NULL for NULL. */
static bool csv_row_whole(struct conn *c, const struct batch *b, size_t r, struct buf *o)
{
	const struct cell *row = batch_row(b, r);
	for (int col = 0; col < b->ncols; col++) {
		if (col && !buf_putc(o, b->csv_delim))
			return false;
		struct cell v = row[col];
		if (!v.ptr) {
			if (!buf_puts(o, "NULL"))
				return false;
			continue;
		}
		if (c->nkind_cols && c->kinds[col] != CONVERT_NONE) {
			buf_reset(&c->scratch);
			if (!buf_reserve(&c->scratch, v.len + CONVERT_MAX_GROWTH))
				return false;
			char *p = c->scratch.data;
			v = my_convert_cell(c, col, v, &p);
		}
		if (!put_enclosed(o, v.ptr, v.len, b->csv_quote))
			return false;
	}
	return buf_putc(o, '\n');
}

/* Whether converted value out (n bytes) stands for the same as v to the
 * server: equal, or an ISO date-time whose 'T' became a space (MariaDB
 * reads both alike). */
static bool same_to_server(const char *out, size_t n, struct cell v)
{
	if (n != v.len)
		return false;
	if (n > 10 && v.ptr[10] == 'T' && out[10] == ' ')
		return !memcmp(out, v.ptr, 10) && !memcmp(out + 11, v.ptr + 11, n - 11);
	return !memcmp(out, v.ptr, n);
}

/* What convert_value(kind, s) gives, told without it for the common
 * values: 1 surely the same to the server (same_to_server: a plain ISO
 * date-time, which it copies with its 'T' a space; a date; 0 or 1 for a
 * boolean), 2 the boolean *out (true, false), 0 not told. */
static inline int quick_convert(enum convert_kind kind, const char *s, size_t len, const char **out)
{
	switch (kind) {
	case CONVERT_DATETIME:
		if (len < 19 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != ' ') ||
		    s[13] != ':' || s[16] != ':' || (len > 19 && (s[19] != '.' || len == 20)))
			return 0;
		for (size_t i = 20; i < len; i++)
			if ((unsigned char)(s[i] - '0') >= 10)
				return 0;
		return 1;
	case CONVERT_DATE:
		return len == 10 && s[4] == '-' && s[7] == '-';
	case CONVERT_BOOL:
		if (len == 1 && (s[0] == '0' || s[0] == '1'))
			return 1;
		if ((len == 4 && !memcmp(s, "true", 4)) || (len == 5 && !memcmp(s, "false", 5))) {
			*out = len == 4 ? "1" : "0";
			return 2;
		}
		return 0;
	default:
		return 0;
	}
}

enum csv_row { CSV_ROW_AS_IS, CSV_ROW_IN_PLACE, CSV_ROW_PATCHED, CSV_ROW_WHOLE };

/* Whether some value of row (ncols) is NULL or the word NULL, which LOAD
 * DATA reads as NULL unless enclosed: such a row is written whole. */
static inline bool row_has_null(const struct cell *row, int ncols)
{
	for (int col = 0; col < ncols; col++)
		if (!row[col].ptr || (row[col].len == 4 && !memcmp(row[col].ptr, "NULL", 4)))
			return true;
	return false;
}

/* The most bytes csv_row writes for row r of b. */
static size_t patch_room(const struct batch *b, size_t r)
{
	return b->meta[r].raw_len + 1 + (size_t)b->ncols * (2 * (64 + CONVERT_MAX_GROWTH) + 2);
}

/* Row r of b (its CSV text in the batch) for the CSV framing: as it is
 * (nothing written); patched: its text with the values its columns' kinds
 * convert put in place of their fields, written at o (patch_room bytes)
 * and its length into *n; or to be written whole
 * (csv_row_whole), when a value is NULL or the word NULL (which LOAD DATA
 * reads as NULL unless enclosed) or a converted one lies outside the text. */
static enum csv_row csv_row(struct conn *c, const struct batch *b, size_t r, char *o, size_t *n)
{
	const struct cell *row = batch_row(b, r);
	const struct row_meta *m = &b->meta[r];
	const char *from = m->raw, *end = m->raw + m->raw_len;
	char *o0 = o;
	bool changed = false;
	char conv[64 + CONVERT_MAX_GROWTH];
	if (row_has_null(row, b->ncols))
		return CSV_ROW_WHOLE;
	/* then only the columns whose kind may convert a value */
	for (int kc = 0; kc < c->nkind_cols; kc++) {
		int col = c->kind_cols[kc];
		struct cell v = row[col];
		size_t k;
		const char *to = conv;
		int quick = quick_convert(c->kinds[col], v.ptr, v.len, &to);
		if (quick == 1)
			continue;
		if (v.len > 64 || v.ptr < m->raw || v.ptr + v.len > end)
			return CSV_ROW_WHOLE; /* long (bytes), or not as the text has it */
		if (quick == 2)
			k = 1;
		else if (!convert_value(c->kinds[col], v.ptr, v.len, conv, sizeof conv, &k) ||
			 same_to_server(conv, k, v))
			continue;
		changed = true;
		/* the field in the text: the value, and its quotes if enclosed */
		const char *f0 = v.ptr, *f1 = v.ptr + v.len;
		if (f0 > m->raw && f0[-1] == b->csv_quote) {
			f0--;
			f1++;
		}
		memcpy(o, from, (size_t)(f0 - from));
		o += f0 - from;
		*o++ = b->csv_quote;
		for (size_t i = 0; i < k; i++) {
			if (to[i] == b->csv_quote)
				*o++ = b->csv_quote;
			*o++ = to[i];
		}
		*o++ = b->csv_quote;
		from = f1;
	}
	if (!changed)
		return CSV_ROW_AS_IS;
	memcpy(o, from, (size_t)(end - from));
	o += end - from;
	*o++ = '\n';
	*n = (size_t)(o - o0);
	return CSV_ROW_PATCHED;
}

/* Row r of b as a run of rows hands it over (infile_read_csv), its text
 * at offset at of the run: CSV_ROW_AS_IS; CSV_ROW_IN_PLACE when its only
 * changes are booleans, each to be written over its field's bytes as its
 * digit after zeros (0001 for true: the same integer to the server, and the
 * same length), added to pt (*npt entries, room for c->nkind_cols more);
 * else what csv_row would answer. */
static enum csv_row csv_row_run(struct conn *c, const struct batch *b, size_t r, size_t at,
				struct infile_patch *pt, size_t *npt)
{
	const struct cell *row = batch_row(b, r);
	const struct row_meta *m = &b->meta[r];
	const char *end = m->raw + m->raw_len;
	size_t np = *npt;
	if (row_has_null(row, b->ncols))
		return CSV_ROW_WHOLE;
	for (int kc = 0; kc < c->nkind_cols; kc++) {
		int col = c->kind_cols[kc];
		struct cell v = row[col];
		char conv[64 + CONVERT_MAX_GROWTH];
		const char *to = conv;
		size_t k;
		int quick = quick_convert(c->kinds[col], v.ptr, v.len, &to);
		if (quick == 1)
			continue;
		if (v.len > 64 || v.ptr < m->raw || v.ptr + v.len > end)
			return CSV_ROW_WHOLE; /* long (bytes), or not as the text has it */
		if (quick == 0) {
			if (!convert_value(c->kinds[col], v.ptr, v.len, conv, sizeof conv, &k) ||
			    same_to_server(conv, k, v))
				continue;
			if (c->kinds[col] != CONVERT_BOOL)
				return CSV_ROW_PATCHED;
		}
		pt[np++] = (struct infile_patch){(uint32_t)(at + (size_t)(v.ptr - m->raw)),
						 (uint32_t)v.len, to[0]};
	}
	bool patched = np > *npt;
	*npt = np;
	return patched ? CSV_ROW_IN_PLACE : CSV_ROW_AS_IS;
}

/* my_infile_read under the CSV framing: runs of rows that go as they are,
 * or with their booleans written over in place, are copied straight from
 * the batch's text into dst, as many as fit; a row that does not fit goes
 * from the batch's text (as it is) or conn->data; a patched row is written
 * into dst when it has room, else into conn->data; a row written whole goes
 * through conn->data. */
static int infile_read_csv(struct conn *c, char *dst, unsigned int len)
{
	struct infile_state *s = &c->inf;
	const struct batch *b = s->b;
	size_t out = 0;
	while (out < len) {
		if (s->src_len) {
			size_t k = s->src_len < len - out ? s->src_len : len - out;
			memcpy(dst + out, s->src, k);
			s->src += k;
			s->src_len -= k;
			out += k;
			continue;
		}
		if (s->next >= s->end)
			break;
		size_t r = s->next;
		const struct row_meta *m = &b->meta[r];
		/* the rows from r whose texts follow each other, fit and need
		 * no more than booleans patched */
		size_t k = 0, used = 0, np = 0;
		while (r + k < s->end && m[k].text_lf && used + m[k].raw_len + 1 <= len - out &&
		       (!k || m[k].raw == m[k - 1].raw + m[k - 1].raw_len + 1) &&
		       np + (size_t)c->nkind_cols <= INFILE_PATCHES) {
			if (r + k + 8 < s->end) {
				/* the values it looks at, a few rows ahead: their text
				 * and cells were written by the reader, on another core */
				__builtin_prefetch(m[k + 8].raw);
				__builtin_prefetch(m[k + 8].raw + 64);
				__builtin_prefetch(m[k + 8].raw + 128);
				__builtin_prefetch(batch_row(b, r + k + 8));
				__builtin_prefetch(batch_row(b, r + k + 8) + 4);
				__builtin_prefetch(batch_row(b, r + k + 8) + 8);
			}
			enum csv_row how = csv_row_run(c, b, r + k, used, s->patch, &np);
			if (how != CSV_ROW_AS_IS && how != CSV_ROW_IN_PLACE)
				break;
			used += m[k].raw_len + 1;
			k++;
		}
		if (k) {
			char *o = dst + out;
			memcpy(o, m->raw, used);
			for (size_t i = 0; i < np; i++) {
				const struct infile_patch *p = &s->patch[i];
				char *f = o + p->at;
				if (p->len >= 4 && p->len <= 8) {
					/* two stores, for true and false */
					memcpy(f, "0000", 4);
					memcpy(f + p->len - 4, "0000", 4);
				} else {
					memset(f, '0', p->len);
				}
				f[p->len - 1] = p->digit;
			}
			out += used;
			s->next += k;
			continue;
		}
		enum csv_row how = CSV_ROW_WHOLE;
		size_t room = patch_room(b, r), n = 0;
		char *o = dst + out;
		if (len - out < room) {
			buf_reset(&c->data);
			o = buf_reserve(&c->data, room) ? c->data.data : NULL;
		}
		if (m->text_lf && o)
			how = csv_row(c, b, r, o, &n);
		if (how == CSV_ROW_AS_IS) {
			/* too long for the room left: from the batch's text */
			s->src = m->raw;
			s->src_len = m->raw_len + 1;
		} else if (how == CSV_ROW_PATCHED && o == dst + out) {
			out += n;
		} else if (how == CSV_ROW_PATCHED) {
			s->src = c->data.data;
			s->src_len = n;
		} else {
			buf_reset(&c->data);
			if (!csv_row_whole(c, b, r, &c->data)) {
				s->failed = true;
				return -1;
			}
			s->src = c->data.data;
			s->src_len = c->data.len;
		}
		s->next++;
	}
	return (int)out;
}

int my_infile_read(void *ptr, char *dst, unsigned int len)
{
	struct conn *c = ptr;
	struct infile_state *s = &c->inf;
	if (signals_caught()) {
		/* the statement ends here, not at the batch's end */
		s->interrupted = true;
		return -1;
	}
	if (s->csv)
		return infile_read_csv(c, dst, len);
	if (s->pos == c->data.len) {
		buf_reset(&c->data);
		s->pos = 0;
	}
	char conv[64 + CONVERT_MAX_GROWTH];
	int ncols = s->b->ncols;
	while (c->data.len - s->pos < len && c->data.len < INFILE_CHUNK && s->next < s->end) {
		const struct cell *row = batch_row(s->b, s->next);
		if (s->numbered && !buf_printf(&c->data, "%zu\t", s->next - s->first)) {
			s->failed = true;
			return -1;
		}
		/* room for the row at its worst: every byte escaped, a converted
		 * value grown, a separator after each value */
		size_t room = 1;
		for (int col = 0; col < ncols; col++)
			room += (row[col].ptr ? 2 * row[col].len : 2) + 2 * CONVERT_MAX_GROWTH + 1;
		if (!buf_reserve(&c->data, room)) {
			s->failed = true;
			return -1;
		}
		char *o = c->data.data + c->data.len;
		for (int col = 0; col < ncols; col++) {
			struct cell v = row[col];
			/* converted values are short: convert in a stack buffer;
			 * hex into bytes can be long, and halves: in a buffer of
			 * the connection's */
			if (c->nkind_cols && v.ptr && v.len <= 64) {
				char *p = conv;
				v = my_convert_cell(c, col, v, &p);
			} else if (c->nkind_cols && v.ptr && c->kinds[col] == CONVERT_BYTES) {
				buf_reset(&c->scratch);
				if (!buf_reserve(&c->scratch, v.len + CONVERT_MAX_GROWTH)) {
					s->failed = true;
					return -1;
				}
				char *p = c->scratch.data;
				v = my_convert_cell(c, col, v, &p);
			}
			if (!v.ptr) {
				*o++ = '\\';
				*o++ = 'N';
			} else {
				o = put_escaped(o, v.ptr, v.len);
			}
			*o++ = col + 1 < ncols ? '\t' : '\n';
		}
		if (!ncols)
			*o++ = '\n';
		c->data.len = (size_t)(o - c->data.data);
		c->data.data[c->data.len] = '\0';
		s->next++;
	}
	size_t avail = c->data.len - s->pos;
	size_t n = avail < len ? avail : len;
	memcpy(dst, c->data.data + s->pos, n);
	s->pos += n;
	return (int)n;
}

/* Look up, once per table and column list, how each column's values convert. */
bool my_ensure_kinds(struct conn *c, const struct write_spec *spec, struct sl_error *err)
{
	struct buf key;
	buf_init(&key, 0);
	bool ok = buf_puts(&key, spec->raw_bytes ? "raw\x1f" : "hex\x1f") &&
		  buf_puts(&key, spec->schema ? spec->schema : "") && buf_putc(&key, '\x1f') &&
		  buf_puts(&key, spec->table);
	for (int i = 0; ok && i < spec->ncols; i++)
		ok = buf_putc(&key, '\x1f') && buf_puts(&key, spec->columns[i]);
	if (!ok) {
		buf_free(&key);
		return sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
	}
	if (c->types_key && !strcmp(c->types_key, key.data)) {
		buf_free(&key);
		return true;
	}
	free(c->types_key);
	free(c->kinds);
	free(c->kind_cols);
	free(c->exact);
	c->types_key = NULL;
	c->any_exact = false;
	c->nkind_cols = 0;
	c->kinds = calloc((size_t)(spec->ncols > 0 ? spec->ncols : 1), sizeof *c->kinds);
	c->kind_cols = calloc((size_t)(spec->ncols > 0 ? spec->ncols : 1), sizeof *c->kind_cols);
	c->exact = calloc((size_t)(spec->ncols > 0 ? spec->ncols : 1), sizeof *c->exact);
	if (!c->kinds || !c->kind_cols || !c->exact) {
		buf_free(&key);
		return sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
	}
	struct table_desc td;
	if (!my_describe_table(c, spec, &td, err)) {
		buf_free(&key);
		return false;
	}
	for (int i = 0; i < spec->ncols; i++) {
		c->exact[i] = CONVERT_EXACT_ANY;
		for (int j = 0; j < td.ncols; j++) {
			/* MySQL column names compare case-insensitively */
			if (!strcasecmp(spec->columns[i], td.cols[j].name)) {
				c->kinds[i] = convert_kind_for_mysql(td.cols[j].type);
				if (spec->raw_bytes && c->kinds[i] == CONVERT_BYTES)
					c->kinds[i] = CONVERT_NONE; /* copy's bytes are bytes */
				c->exact[i] = convert_exact_rule_for_mysql(td.cols[j].type);
				break;
			}
		}
		if (c->kinds[i] != CONVERT_NONE)
			c->kind_cols[c->nkind_cols++] = i;
		if (c->exact[i] != CONVERT_EXACT_ANY)
			c->any_exact = true;
	}
	table_desc_free(&td);
	c->types_key = key.data; /* the buffer's memory now belongs to c */
	return true;
}

/* Grow the per-statement parameter arrays to np entries. */
bool my_reserve_params(struct conn *c, size_t np, struct sl_error *err)
{
	if (np <= c->nparams_cap)
		return true;
	MYSQL_BIND *bn = realloc(c->binds, np * sizeof *bn);
	if (bn)
		c->binds = bn;
	unsigned long *ln = realloc(c->lens, np * sizeof *ln);
	if (ln)
		c->lens = ln;
	struct cell *vn = realloc(c->vals, np * sizeof *vn);
	if (vn)
		c->vals = vn;
	if (!bn || !ln || !vn)
		return sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
	c->nparams_cap = np;
	return true;
}

/* Convert rows [r, r+k) into c->vals; converted bytes live in c->data. */
static bool convert_rows(struct conn *c, const struct batch *b, size_t r, size_t k,
			 struct sl_error *err)
{
	size_t np = k * (size_t)b->ncols;
	const struct cell *cells = batch_row(b, r);
	if (!c->nkind_cols) {
		memcpy(c->vals, cells, np * sizeof *cells);
		return true;
	}
	size_t need = 0;
	for (size_t i = 0; i < np; i++)
		if (cells[i].ptr && c->kinds[i % (size_t)b->ncols] != CONVERT_NONE)
			need += cells[i].len + CONVERT_MAX_GROWTH;
	buf_reset(&c->data);
	if (!buf_reserve(&c->data, need + 1))
		return sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
	char *scratch = c->data.data; /* no appends follow, so this stays valid */
	for (size_t i = 0; i < np; i++)
		c->vals[i] = my_convert_cell(c, (int)(i % (size_t)b->ncols), cells[i], &scratch);
	return true;
}

/* Bytes the values of rows [r, r+k) take in an execute packet (an upper bound). */
static size_t row_packet_bytes(const struct cell *vals, int ncols)
{
	size_t n = 0;
	for (int i = 0; i < ncols; i++)
		n += (vals[i].ptr ? vals[i].len : 0) + 9 + 2 + 1;
	return n;
}

/* Make p hold the INSERT of nrows rows, preparing it when its text changed. */
/* Make p hold the statement now in c->sql, preparing it when its text changed. */
bool my_prepare_sql(struct conn *c, struct prepared *p, const char *what, struct sl_error *err)
{
	if (p->stmt && p->text && !strcmp(p->text, c->sql.data))
		return true;
	my_prepared_clear(p);
	p->stmt = mysql_stmt_init(c->my);
	if (!p->stmt)
		return my_fail(c, what, err);
	if (my_stmt_prepare(c, p->stmt, c->sql.data, c->sql.len)) {
		my_stmt_fail(c, p->stmt, what, err);
		my_prepared_clear(p);
		return false;
	}
	p->text = strdup(c->sql.data);
	if (!p->text) {
		my_prepared_clear(p);
		return sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
	}
	return true;
}

/* Make p hold the INSERT of nrows rows. */
static bool ensure_prepared(struct conn *c, struct prepared *p, const struct write_spec *spec,
			    size_t nrows, struct sl_error *err)
{
	buf_reset(&c->sql);
	if (!sql_insert(&mysql_dialect, &c->sql, spec, nrows))
		return sl_error_set(err, SL_ERR_USAGE, "bad table or column name");
	return my_prepare_sql(c, p, "preparing INSERT", err);
}

/* After a statement: any note or warning about the values (MariaDB reports
 * rounding, truncated fractions and dropped digits as notes even in strict
 * mode) means a value was changed on the way in, so the statement is a data
 * error and the batch is bisected down to the rows it names. Only a
 * duplicate key under INSERT IGNORE (--on-conflict skip) is expected. */
bool my_check_warnings(struct conn *c, bool skip_duplicates, const char *what, struct sl_error *err)
{
	if (mysql_warning_count(c->my) == 0)
		return true;
	MYSQL_RES *res = NULL;
	if (my_text_query(c, "SHOW WARNINGS") || !(res = mysql_store_result(c->my)))
		return my_fail(c, what, err);
	MYSQL_ROW row;
	bool ok = true;
	while ((row = mysql_fetch_row(res)) != NULL) {
		const char *level = row[0] ? row[0] : "", *code = row[1] ? row[1] : "0";
		const char *msg = row[2] ? row[2] : "";
		unsigned n = (unsigned)strtoul(code, NULL, 10);
		if (my_harmless_warning(n) || (skip_duplicates && n == 1062))
			continue;
		sl_error_set(err, SL_ERR_DATA, "%s: %s (MySQL %s %u)", what, msg, level, n);
		err->server_code = n;
		url_scrub(err->msg, c->url);
		ok = false;
		break;
	}
	mysql_free_result(res);
	return ok;
}

/* Of the nrows rows an upsert (INSERT ... ON DUPLICATE KEY UPDATE) just
 * wrote, those that updated a row already there, into *updated; false when
 * the server did not say. A statement of several rows has an info line
 * "Records: R  Duplicates: D" in which, under CLIENT_FOUND_ROWS, D counts
 * every row that met an existing key, changed or not; the affected-row
 * count (1 per insert, 2 per changed row, 1 per unchanged one) must agree.
 * A one-row statement has no info line: 2 affected rows are a changed row,
 * and 1 an insert or an unchanged row, told apart by c->single_existed,
 * looked up before the statement (-1: not looked up). */
static bool upsert_updated(struct conn *c, my_ulonglong affected, size_t nrows, size_t *updated)
{
	const char *info = mysql_info(c->my);
	unsigned long long records, dups;
	if (!info && nrows == 1 && (affected == 2 || (affected == 1 && c->single_existed >= 0))) {
		*updated = affected == 2 ? 1 : (size_t)c->single_existed;
		return true;
	}
	if (!info || sscanf(info, "Records: %llu Duplicates: %llu", &records, &dups) != 2 ||
	    records != nrows || dups > records || affected < records || affected - records > dups)
		return false;
	*updated = (size_t)dups;
	return true;
}

/* Execute the INSERT p with the values vals[0 .. nrows*ncols); adds the rows
 * it wrote to out (under INSERT IGNORE, those not skipped). */
static bool execute_rows(struct conn *c, struct prepared *p, const struct write_spec *spec,
			 const struct cell *vals, size_t nrows, int ncols, struct write_count *out,
			 struct sl_error *err)
{
	bool skip = spec->on_conflict == CONFLICT_SKIP;
	if (!my_execute_stmt(c, p, vals, nrows * (size_t)ncols, skip, "INSERT", err))
		return false;
	my_ulonglong affected = mysql_stmt_affected_rows(p->stmt);
	/* ON DUPLICATE KEY UPDATE counts an update as 2: every row was written */
	out->written += skip ? (size_t)affected : nrows;
	if (spec->on_conflict == CONFLICT_UPDATE) {
		size_t upd = 0;
		if (upsert_updated(c, affected, nrows, &upd))
			out->updated += upd;
		else
			out->updated_unknown = true;
		c->single_existed = -1;
	}
	return true;
}

/* Bind np values to p and execute it, leaving its warnings unread. */
static bool execute_bound(struct conn *c, struct prepared *p, const struct cell *vals, size_t np,
			  const char *failed, struct sl_error *err)
{
	memset(c->binds, 0, np * sizeof *c->binds);
	for (size_t i = 0; i < np; i++) {
		MYSQL_BIND *bd = &c->binds[i];
		if (!vals[i].ptr) {
			bd->buffer_type = MYSQL_TYPE_NULL;
			continue;
		}
		c->lens[i] = (unsigned long)vals[i].len;
		bd->buffer_type = MYSQL_TYPE_STRING;
		bd->buffer = (void *)vals[i].ptr;
		bd->buffer_length = c->lens[i];
		bd->length = &c->lens[i];
	}
	if (mysql_stmt_bind_param(p->stmt, c->binds))
		return my_stmt_fail(c, p->stmt, failed, err);
	if (my_stmt_execute(c, p->stmt)) {
		my_stmt_fail(c, p->stmt, failed, err);
		if (err->kind == SL_ERR_CONNECTION)
			my_prepared_clear(p);
		return false;
	}
	return true;
}

/* Execute p with np values; what names the statement in messages. */
bool my_execute_stmt(struct conn *c, struct prepared *p, const struct cell *vals, size_t np,
		     bool skip_duplicates, const char *what, struct sl_error *err)
{
	char failed[64];
	snprintf(failed, sizeof failed, "%s failed", what);
	return execute_bound(c, p, vals, np, failed, err) &&
	       my_check_warnings(c, skip_duplicates, what, err);
}

bool my_insert_probe(struct conn *c, const struct write_spec *spec, const struct batch *b,
		     size_t first, size_t n,
		     bool (*after)(void *ctx, size_t row0, size_t k, struct sl_error *err),
		     void *ctx, struct sl_error *err)
{
	struct write_spec ign = *spec;
	ign.on_conflict = CONFLICT_SKIP; /* INSERT IGNORE */
	size_t per = sql_rows_per_statement(&mysql_dialect, b->ncols, spec->batch_rows);
	if (!my_reserve_params(c, per * (size_t)b->ncols, err))
		return false;
	size_t hard = c->max_packet > 1024 ? c->max_packet - 1024 : c->max_packet;
	size_t soft = hard < SOFT_PACKET_MAX ? hard : SOFT_PACKET_MAX;
	int ncols = b->ncols;
	for (size_t r = first; r < first + n;) {
		size_t k = first + n - r < per ? first + n - r : per;
		if (!convert_rows(c, b, r, k, err))
			return false;
		for (size_t start = 0; start < k;) {
			size_t bytes = 64, end = start;
			while (end < k) {
				size_t rb = row_packet_bytes(c->vals + end * (size_t)ncols, ncols);
				if (end > start && bytes + rb > soft)
					break;
				bytes += rb;
				end++;
			}
			if (!ensure_prepared(c, &c->other, &ign, end - start, err) ||
			    !execute_bound(c, &c->other, c->vals + start * (size_t)ncols,
					   (end - start) * (size_t)ncols, "INSERT failed", err) ||
			    !after(ctx, r + start, end - start, err))
				return false;
			start = end;
		}
		r += k;
	}
	return true;
}

/* Insert k rows, already converted into c->vals, in statements that stay
 * under the packet limits: one when they fit (the reused full-size statement
 * when k is a full chunk), else runs of rows that fit. */
static bool insert_chunk(struct conn *c, const struct write_spec *spec, int ncols, size_t k,
			 size_t per, struct write_count *out, struct sl_error *err)
{
	size_t hard = c->max_packet > 1024 ? c->max_packet - 1024 : c->max_packet;
	size_t soft = hard < SOFT_PACKET_MAX ? hard : SOFT_PACKET_MAX;
	size_t total = 64;
	for (size_t i = 0; i < k; i++)
		total += row_packet_bytes(c->vals + i * (size_t)ncols, ncols);
	if (total <= soft) {
		struct prepared *p = k == per ? &c->full : &c->other;
		return ensure_prepared(c, p, spec, k, err) &&
		       execute_rows(c, p, spec, c->vals, k, ncols, out, err);
	}
	size_t start = 0;
	while (start < k) {
		size_t bytes = 64, end = start;
		while (end < k) {
			size_t rb = row_packet_bytes(c->vals + end * (size_t)ncols, ncols);
			if (end > start && bytes + rb > soft)
				break;
			bytes += rb;
			end++;
		}
		if (bytes > hard)
			return sl_error_set(err, SL_ERR_DATA,
					    "a row of %zu bytes does not fit the server's "
					    "max_allowed_packet (%lu)",
					    bytes, c->max_packet);
		if (!ensure_prepared(c, &c->other, spec, end - start, err) ||
		    !execute_rows(c, &c->other, spec, c->vals + start * (size_t)ncols, end - start,
				  ncols, out, err))
			return false;
		start = end;
	}
	return true;
}

bool my_write_insert(struct conn *c, const struct write_spec *spec, const struct batch *b,
		     size_t first, size_t n, struct write_count *out, struct sl_error *err)
{
	size_t per = sql_rows_per_statement(&mysql_dialect, b->ncols, spec->batch_rows);
	if (!my_reserve_params(c, per * (size_t)b->ncols, err))
		return false;
	size_t r = first, end = first + n;
	while (r < end) {
		size_t k = end - r < per ? end - r : per;
		c->single_existed = -1;
		if (k == 1 && spec->on_conflict == CONFLICT_UPDATE) {
			/* a one-row upsert does not say whether it inserted (see
			 * upsert_updated): ask first */
			unsigned long long there = 0;
			if (!my_count_keys(c, spec, b, r, 1, &there, err))
				return false;
			c->single_existed = there > 0;
		}
		if (!convert_rows(c, b, r, k, err) ||
		    !insert_chunk(c, spec, b->ncols, k, per, out, err))
			return false;
		r += k;
	}
	return true;
}

/* LOAD DATA of rows [first, first+n) of b, escaped, or (csv) as their CSV
 * text in the batch's dialect; its warnings left for the caller. */
static bool load_data(struct conn *c, const struct write_spec *spec, const struct batch *b,
		      size_t first, size_t n, bool csv, struct sl_error *err)
{
	buf_reset(&c->sql);
	if (!(csv ? mysql_load_csv_sql(&c->sql, spec, b->csv_delim, b->csv_quote)
		  : mysql_dialect.bulk_load(&c->sql, spec)))
		return sl_error_set(err, SL_ERR_USAGE, "bad table or column name");
	c->inf = (struct infile_state){.b = b, .next = first, .end = first + n, .csv = csv};
	buf_reset(&c->data);
	if (my_real_query(c, c->sql.data, c->sql.len)) {
		if (c->inf.interrupted)
			return sl_error_set(err, SL_ERR_INTERRUPTED,
					    "%s: LOAD DATA failed: interrupted by %s", c->redacted,
					    signals_name());
		if (c->inf.failed)
			return sl_error_set(err, SL_ERR_DATA, "a row is too large for LOAD DATA");
		return my_fail(c, "LOAD DATA failed", err);
	}
	return true;
}

bool my_load_unchecked(struct conn *c, const struct write_spec *spec, const struct batch *b,
		       size_t first, size_t n, struct sl_error *err)
{
	return load_data(c, spec, b, first, n, false, err);
}

static bool write_infile(struct conn *c, const struct write_spec *spec, const struct batch *b,
			 size_t first, size_t n, bool csv, struct sl_error *err)
{
	if (!load_data(c, spec, b, first, n, csv, err) ||
	    !my_check_warnings(c, false, "LOAD DATA", err))
		return false;
	my_ulonglong done = mysql_affected_rows(c->my);
	if (done != (my_ulonglong)n)
		return sl_error_set(err, SL_ERR_DATA, "LOAD DATA wrote %llu of %zu rows",
				    (unsigned long long)done, n);
	return true;
}

bool my_write_infile(struct conn *c, const struct write_spec *spec, const struct batch *b,
		     size_t first, size_t n, struct sl_error *err)
{
	return write_infile(c, spec, b, first, n, false, err);
}

bool my_takes_csv(const struct write_spec *spec)
{
	return sql_uses_bulk(spec);
}

/* Refuse rows [first, first+n) when a value would not be kept exactly by
 * its column and the server would not say so (convert_is_exact): a data
 * error, so the batch is bisected down to the row. */
bool my_check_exact(struct conn *c, const struct write_spec *spec, const struct batch *b,
		    size_t first, size_t n, struct sl_error *err)
{
	if (!c->any_exact)
		return true;
	/* the reader ran the quick tests of the same rules on every value and
	 * none failed: no value needs a look */
	if (b->exact_rules && !b->exact_doubt && b->ncols == spec->ncols &&
	    !memcmp(b->exact_rules, c->exact, (size_t)b->ncols * sizeof *c->exact))
		return true;
	char why[300];
	for (size_t r = first; r < first + n; r++) {
		const struct cell *row = batch_row(b, r);
		for (int col = 0; col < b->ncols; col++) {
			if (row[col].ptr && c->exact[col] != CONVERT_EXACT_ANY &&
			    !convert_is_exact(c->exact[col], row[col].ptr, row[col].len, why,
					      sizeof why))
				return sl_error_set(err, SL_ERR_DATA, "column `%s`: %s",
						    spec->columns[col], why);
		}
	}
	return true;
}

bool my_write_batch(struct conn *c, const struct write_spec *spec, const struct batch *b,
		    size_t first, size_t n, struct write_count *out, struct sl_error *err)
{
	*out = (struct write_count){0};
	if (n == 0)
		return true;
	if (!my_ensure_kinds(c, spec, err) || !my_check_exact(c, spec, b, first, n, err))
		return false;
	if (spec->on_conflict == CONFLICT_UPDATE && spec->upsert_by_key)
		return my_upsert_by_key(c, spec, b, first, n, out, err) &&
		       my_refuse_null_adds(c, spec, b, first, n, err);
	if (sql_uses_bulk(spec)) {
		/* rows that are their CSV text go as it is (LOAD DATA reads
		 * the reader's dialect), with few values rewritten */
		bool csv = batch_rows_csv(b, first, n) && !b->has_defaults;
		if (!write_infile(c, spec, b, first, n, csv, err))
			return false;
		out->written = n;
		return true;
	}
	return my_write_insert(c, spec, b, first, n, out, err) &&
	       (spec->on_conflict != CONFLICT_UPDATE ||
		my_refuse_null_adds(c, spec, b, first, n, err));
}

/* Execute the INSERT ... RETURNING in c->other with k rows of c->vals
 * (ncols each) and read the k keys it returns into ids. */
static bool insert_returning(struct conn *c, int ncols, size_t k, char (*ids)[SQL_ID_BYTES],
			     struct sl_error *err)
{
	size_t np = k * (size_t)ncols;
	MYSQL_STMT *st = c->other.stmt;
	memset(c->binds, 0, np * sizeof *c->binds);
	for (size_t i = 0; i < np; i++) {
		MYSQL_BIND *bd = &c->binds[i];
		if (!c->vals[i].ptr) {
			bd->buffer_type = MYSQL_TYPE_NULL;
			continue;
		}
		c->lens[i] = (unsigned long)c->vals[i].len;
		bd->buffer_type = MYSQL_TYPE_STRING;
		bd->buffer = (void *)c->vals[i].ptr;
		bd->buffer_length = c->lens[i];
		bd->length = &c->lens[i];
	}
	if (mysql_stmt_bind_param(st, c->binds))
		return my_stmt_fail(c, st, "INSERT failed", err);
	if (my_stmt_execute(c, st)) {
		my_stmt_fail(c, st, "INSERT failed", err);
		if (err->kind == SL_ERR_CONNECTION)
			my_prepared_clear(&c->other);
		return false;
	}
	long long id = 0;
	my_bool is_null = 0;
	MYSQL_BIND rb = {.buffer_type = MYSQL_TYPE_LONGLONG, .buffer = &id, .is_null = &is_null};
	if (mysql_stmt_store_result(st) || mysql_stmt_bind_result(st, &rb))
		return my_stmt_fail(c, st, "reading the generated keys", err);
	size_t got = 0;
	while (mysql_stmt_fetch(st) == 0 && got < k) {
		if (is_null)
			break;
		snprintf(ids[got++], SQL_ID_BYTES, "%lld", id);
	}
	mysql_stmt_free_result(st);
	if (got != k)
		return sl_error_set(err, SL_ERR_SERVER,
				    "INSERT ... RETURNING gave %zu keys for %zu rows", got, k);
	return my_check_warnings(c, false, "INSERT", err);
}

/* --parent-key generated: MariaDB 10.5+ inserts the rows without their key
 * column and RETURNING gives the AUTO_INCREMENT keys, in the rows' order.
 * MySQL has no RETURNING (LAST_INSERT_ID() gives consecutive keys only
 * under some lock modes): refused. */
bool my_write_generated(struct conn *c, const struct write_spec *spec, const struct batch *b,
			size_t first, size_t n, int key, char (*ids)[SQL_ID_BYTES],
			struct write_count *out, struct sl_error *err)
{
	*out = (struct write_count){0};
	const char *info = mysql_get_server_info(c->my);
	if (!strstr(info, "MariaDB") || mysql_get_server_version(c->my) < 100500)
		return sl_error_set(
			err, SL_ERR_USAGE,
			"--parent-key generated needs INSERT ... RETURNING (MariaDB "
			"10.5 or later); this server is %s: use the natural key (--key)",
			info);
	if (n == 0)
		return true;
	if (spec->ncols > SQL_MAX_COLUMNS)
		return sl_error_set(err, SL_ERR_USAGE, "too many columns");
	/* the spec and rows without the key column */
	char *cols[SQL_MAX_COLUMNS];
	int nc = 0;
	for (int i = 0; i < spec->ncols; i++)
		if (i != key)
			cols[nc++] = spec->columns[i];
	struct write_spec sub = *spec;
	sub.columns = cols;
	sub.ncols = nc;
	sub.key = NULL;
	sub.nkey = 0;
	struct batch view = {.ncols = nc, .seq = b->seq, .cap_rows = n, .nrows = n};
	view.cells = malloc(n * (size_t)(nc ? nc : 1) * sizeof *view.cells);
	view.meta = malloc(n * sizeof *view.meta);
	bool ok = view.cells && view.meta;
	if (!ok)
		sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
	for (size_t r = 0; ok && r < n; r++) {
		const struct cell *row = batch_row(b, first + r);
		for (int i = 0, o = 0; i < b->ncols; i++)
			if (i != key)
				view.cells[r * (size_t)nc + (size_t)o++] = row[i];
		view.meta[r] = b->meta[first + r];
	}
	ok = ok && my_ensure_kinds(c, &sub, err) && my_check_exact(c, &sub, &view, 0, n, err);
	size_t per = sql_rows_per_statement(&mysql_dialect, nc ? nc : 1, spec->batch_rows);
	ok = ok && my_reserve_params(c, per * (size_t)nc, err);
	for (size_t r = 0; ok && r < n;) {
		size_t k = n - r < per ? n - r : per;
		buf_reset(&c->sql);
		ok = sql_insert_returning(&mysql_dialect, &c->sql, &sub, k, spec->columns[key])
			     ? my_prepare_sql(c, &c->other, "preparing INSERT", err)
			     : sl_error_set(err, SL_ERR_USAGE, "bad table or column name");
		ok = ok && convert_rows(c, &view, r, k, err) &&
		     insert_returning(c, nc, k, ids + r, err);
		r += k;
	}
	free(view.cells);
	free(view.meta);
	if (ok)
		out->written = n;
	return ok;
}
