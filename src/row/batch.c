/* src/row/batch.c
 * Batches of rows and the arena their values live in (see include/sluice/batch.h).
 */
#include "sluice/batch.h"

#include "sluice/textblock.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#if defined(__GNUC__) && defined(__x86_64__)
#include <immintrin.h>
#define BATCH_AVX2 1
#endif

const char cell_default[] = "";

struct arena_block {
	struct arena_block *next;
	size_t size;
	max_align_t data[];
};

void arena_init(struct arena *a, size_t block_size)
{
	a->head = NULL;
	a->spare = NULL;
	a->next = a->end = NULL;
	a->block_size = block_size ? block_size : (size_t)1 << 20;
	a->used_total = 0;
}

void *arena_alloc(struct arena *a, size_t n)
{
	size_t align = sizeof(max_align_t);
	n = (n + align - 1) / align * align;
	if (n == 0)
		n = align;
	return arena_alloc_bytes(a, n);
}

void *arena_alloc_new(struct arena *a, size_t n)
{
	struct arena_block *blk;
	if (n <= a->block_size && a->spare) {
		blk = a->spare;
		a->spare = blk->next;
	} else {
		size_t size = n > a->block_size ? n : a->block_size;
		blk = malloc(sizeof *blk + size + ARENA_PAD);
		if (!blk)
			return NULL;
		blk->size = size;
	}
	blk->next = a->head;
	a->head = blk;
	char *p = (char *)blk->data;
	a->next = p + n;
	a->end = p + blk->size;
	a->used_total += n;
	return p;
}

void arena_reset(struct arena *a)
{
	/* standard blocks go to the spare list, up to ARENA_KEEP_BYTES in
	 * all; bigger ones (one long value) and the rest are freed */
	size_t kept = 0;
	for (struct arena_block *s = a->spare; s; s = s->next)
		kept += s->size;
	struct arena_block *blk = a->head;
	while (blk) {
		struct arena_block *next = blk->next;
		if (blk->size == a->block_size && kept + blk->size <= ARENA_KEEP_BYTES) {
			blk->next = a->spare;
			a->spare = blk;
			kept += blk->size;
		} else {
			free(blk);
		}
		blk = next;
	}
	a->head = NULL;
	a->next = a->end = NULL;
	a->used_total = 0;
}

static void free_blocks(struct arena_block *blk)
{
	while (blk) {
		struct arena_block *next = blk->next;
		free(blk);
		blk = next;
	}
}

void arena_free(struct arena *a)
{
	free_blocks(a->head);
	free_blocks(a->spare);
	a->head = a->spare = NULL;
	a->next = a->end = NULL;
	a->used_total = 0;
}

bool batch_init(struct batch *b, int ncols, size_t cap_rows)
{
	memset(b, 0, sizeof *b);
	b->ncols = ncols;
	b->cap_rows = cap_rows;
	b->values_padded = true;
	b->cells = calloc(cap_rows * (size_t)(ncols ? ncols : 1), sizeof *b->cells);
	b->meta = calloc(cap_rows, sizeof *b->meta);
	arena_init(&b->arena, 0);
	arena_init(&b->text, 0);
	if (!b->cells || !b->meta) {
		batch_free(b);
		return false;
	}
	return true;
}

bool batch_grow(struct batch *b, size_t cap_rows)
{
	if (cap_rows <= b->cap_rows)
		return true;
	struct cell *cells =
		realloc(b->cells, cap_rows * (size_t)(b->ncols ? b->ncols : 1) * sizeof *cells);
	if (!cells)
		return false;
	b->cells = cells;
	struct row_meta *meta = realloc(b->meta, cap_rows * sizeof *meta);
	if (!meta)
		return false;
	b->meta = meta;
	b->cap_rows = cap_rows;
	return true;
}

/* Give back the blocks of text the batch held. */
static void drop_held(struct batch *b)
{
	for (size_t i = 0; i < b->nheld; i++)
		text_block_drop(b->held[i]);
	b->nheld = 0;
	b->text_bytes = 0;
}

void batch_free(struct batch *b)
{
	for (int k = 0; k < b->nkids; k++)
		batch_free(&b->kids[k]);
	free(b->kids);
	b->kids = NULL;
	b->nkids = 0;
	drop_held(b);
	free(b->held);
	b->held = NULL;
	b->held_cap = 0;
	free(b->cells);
	free(b->meta);
	free(b->round_order);
	free(b->round_end);
	b->round_order = b->round_end = NULL;
	b->rounds_cap = b->nrounds = b->rounds_rows = 0;
	arena_free(&b->arena);
	arena_free(&b->text);
	b->cells = NULL;
	b->meta = NULL;
	b->nrows = 0;
}

void batch_reset(struct batch *b)
{
	b->nrows = 0;
	b->bytes = 0;
	b->has_defaults = false;
	b->exact_doubt = false;
	b->exact_from = 0;
	b->rounds_rows = 0;
	b->csv_delim = b->csv_quote = 0;
	arena_reset(&b->arena);
	arena_reset(&b->text);
	drop_held(b);
	for (int k = 0; k < b->nkids; k++)
		batch_reset(&b->kids[k]);
}

bool batch_add_cells(struct batch *b, const struct cell *cells, long line, int source,
		     long long ordinal)
{
	if (b->nrows >= b->cap_rows) {
		size_t cap = b->cap_rows ? b->cap_rows * 2 : 64;
		struct cell *c =
			realloc(b->cells, cap * (size_t)(b->ncols ? b->ncols : 1) * sizeof *c);
		if (!c)
			return false;
		b->cells = c;
		struct row_meta *m = realloc(b->meta, cap * sizeof *m);
		if (!m)
			return false;
		b->meta = m;
		b->cap_rows = cap;
	}
	size_t total = 0;
	for (int i = 0; i < b->ncols; i++)
		if (cells[i].ptr && !cell_is_default(&cells[i]))
			total += cells[i].len + 1;
	char *p = arena_alloc(&b->arena, total);
	if (!p)
		return false;
	struct cell *row = b->cells + b->nrows * (size_t)b->ncols;
	for (int i = 0; i < b->ncols; i++) {
		const struct cell *f = &cells[i];
		if (!f->ptr || cell_is_default(f)) {
			row[i] = (struct cell){f->ptr, 0};
			b->has_defaults |= f->ptr != NULL;
			continue;
		}
		memcpy(p, f->ptr, f->len);
		p[f->len] = '\0';
		row[i] = (struct cell){p, f->len};
		p += f->len + 1;
	}
	b->meta[b->nrows] = (struct row_meta){.line = line, .source = source, .ordinal = ordinal};
	b->nrows++;
	return true;
}

/* Cells f[0, n) into to[0, n), each value's pointer moved by delta (a
 * NULL stays NULL): values found in a record's text, pointing into its
 * copy. */
static void rebase_cells(struct cell *to, const struct cell *f, size_t n, uintptr_t delta)
{
	for (size_t i = 0; i < n; i++)
		to[i] = (struct cell){f[i].ptr ? (const char *)((uintptr_t)f[i].ptr + delta) : NULL,
				      f[i].len};
}

#ifdef BATCH_AVX2
_Static_assert(sizeof(struct cell) == 16, "a cell is a pointer and a length");
/* rebase_cells two cells a step: where a 64-bit lane is not 0, the pointer
 * lanes get delta (the length lanes get 0 either way) */
__attribute__((target("avx2"))) static void rebase_cells_avx2(struct cell *to, const struct cell *f,
							      size_t n, uintptr_t delta)
{
	const __m256i d = _mm256_set_epi64x(0, (long long)delta, 0, (long long)delta);
	size_t i = 0;
	for (; i + 2 <= n; i += 2) {
		__m256i v = _mm256_loadu_si256((const __m256i *)(const void *)(f + i));
		__m256i zero = _mm256_cmpeq_epi64(v, _mm256_setzero_si256());
		_mm256_storeu_si256((__m256i *)(void *)(to + i),
				    _mm256_add_epi64(v, _mm256_andnot_si256(zero, d)));
	}
	rebase_cells(to + i, f + i, n - i, delta);
}
#endif

/* Take a reference to block, one more the batch holds. False on out of
 * memory. */
static bool hold_block(struct batch *b, struct text_block *block)
{
	if (b->nheld == b->held_cap) {
		size_t cap = b->held_cap ? b->held_cap * 2 : 16;
		struct text_block **h = realloc(b->held, cap * sizeof *h);
		if (!h)
			return false;
		b->held = h;
		b->held_cap = cap;
	}
	text_block_hold(block);
	b->held[b->nheld++] = block;
	return true;
}

/* Value f copied into the arena, NUL-terminated, as *to. False on out of
 * memory. */
static bool copy_value(struct batch *b, const struct cell *f, struct cell *to)
{
	char *p = arena_alloc(&b->arena, f->len + 1);
	if (!p)
		return false;
	memcpy(p, f->ptr, f->len);
	p[f->len] = '\0';
	*to = (struct cell){p, f->len};
	return true;
}

/* Whether value f lies within rec's text. */
static bool in_raw(const struct record *rec, const struct cell *f)
{
	uintptr_t at = (uintptr_t)f->ptr - (uintptr_t)rec->raw;
	return at <= rec->raw_len && f->len <= rec->raw_len - at;
}

/* The values of rec that lie outside its text (undoubled copies), copied
 * into the arena: fields_moved's, or any outside raw when the record has
 * more fields than that mask. row holds rec's cells, pointers unchanged. */
static bool copy_moved(struct batch *b, const struct record *rec, struct cell *row)
{
	for (size_t i = 0; i < rec->nfields; i++) {
		if (rec->fields_in_raw && (i >= 64 || !(rec->fields_moved >> i & 1)))
			continue;
		const struct cell *f = &rec->fields[i];
		if (f->ptr && !in_raw(rec, f) && !copy_value(b, f, &row[i]))
			return false;
	}
	return true;
}

/* Whether the batch may hold one block more for rec: while the blocks it
 * holds stay within twice the text of its rows and two blocks more. A
 * block is large (TEXT_BLOCK_SIZE): where few of its records come to the
 * batch (the rest refused, or taken apart by the parser), their text is
 * copied instead, so that a batch's memory follows its rows. */
static bool may_hold_more(const struct batch *b, const struct record *rec)
{
	return (b->nheld + 1) * TEXT_BLOCK_SIZE <=
	       2 * (b->text_bytes + rec->raw_len + 1) + 2 * TEXT_BLOCK_SIZE;
}

static bool add_csv_row(struct batch *b, const struct record *rec, int source);

/* batch_add_row for a record that is its CSV text in a block of its
 * reader's (rec->block): the batch holds the block (already, when it is
 * the last one taken: a reader's records come block after block), and the
 * row's text and values stay in it; the values elsewhere are copied. Past
 * may_hold_more, add_csv_row copies the text instead. */
static bool add_held_row(struct batch *b, const struct record *rec, int source)
{
	if (!b->nheld || b->held[b->nheld - 1] != rec->block) {
		if (!may_hold_more(b, rec))
			return add_csv_row(b, rec, source);
		if (!hold_block(b, rec->block))
			return false;
	}
	struct cell *row = b->cells + b->nrows * (size_t)b->ncols;
	if (rec->fields != row) /* else the reader put them there (batch_next_cells) */
		memcpy(row, rec->fields, rec->nfields * sizeof *row);
	if ((!rec->fields_in_raw || rec->fields_moved) && !copy_moved(b, rec, row))
		return false;
	b->text_bytes += rec->raw_len + 1;
	b->meta[b->nrows] = (struct row_meta){.line = rec->line,
					      .source = source,
					      .raw = rec->raw,
					      .raw_len = rec->raw_len,
					      .csv = true,
					      .text_lf = true};
	b->nrows++;
	return true;
}

/* batch_add_row for a record that is its CSV text (rec->csv): the text is
 * copied once into the batch's text arena, ended by a line feed, right
 * after the row before it (batch_csv_run), and the values that lie within
 * it point into the copy; the others (undoubled quotes: few) are copied
 * one by one into the value arena. One pass over the fields. */
static bool add_csv_row(struct batch *b, const struct record *rec, int source)
{
	char *raw = arena_alloc_bytes(&b->text, rec->raw_len + 1);
	if (!raw)
		return false;
	memcpy(raw, rec->raw, rec->raw_len);
	raw[rec->raw_len] = '\n';
	uintptr_t from = (uintptr_t)rec->raw;
	struct cell *row = b->cells + b->nrows * (size_t)b->ncols;
	if (rec->fields_in_raw) {
		/* the common record: the few values that lie elsewhere
		 * (undoubled) copied, then each value at its offset, no test
		 * (rec->fields may be row itself: batch_next_cells) */
		struct cell moved[64];
		for (uint64_t m = rec->fields_moved; m; m &= m - 1) {
			int i = __builtin_ctzll(m);
			if (!copy_value(b, &rec->fields[i], &moved[i]))
				return false;
		}
#ifdef BATCH_AVX2
		if (__builtin_cpu_supports("avx2"))
			rebase_cells_avx2(row, rec->fields, rec->nfields, (uintptr_t)raw - from);
		else
#endif
			rebase_cells(row, rec->fields, rec->nfields, (uintptr_t)raw - from);
		for (uint64_t m = rec->fields_moved; m; m &= m - 1) {
			int i = __builtin_ctzll(m);
			row[i] = moved[i];
		}
	} else {
		for (size_t i = 0; i < rec->nfields; i++) {
			const struct cell *f = &rec->fields[i];
			if (!f->ptr)
				row[i] = (struct cell){NULL, 0};
			else if (in_raw(rec, f)) /* at its offset in the copy */
				row[i] = (struct cell){raw + ((uintptr_t)f->ptr - from), f->len};
			else if (!copy_value(b, f, &row[i]))
				return false;
		}
	}
	b->meta[b->nrows] = (struct row_meta){.line = rec->line,
					      .source = source,
					      .raw = raw,
					      .raw_len = rec->raw_len,
					      .csv = true,
					      .text_lf = true};
	b->nrows++;
	return true;
}

bool batch_add_row(struct batch *b, const struct record *rec, int source, bool keep_raw)
{
	if (b->nrows >= b->cap_rows || rec->nfields != (size_t)b->ncols)
		return false;
	if (rec->csv && keep_raw && rec->raw && !rec->mark)
		return rec->block ? add_held_row(b, rec, source) : add_csv_row(b, rec, source);
	size_t total = 0;
	for (size_t i = 0; i < rec->nfields; i++)
		if (rec->fields[i].ptr && !cell_is_default(&rec->fields[i]))
			total += rec->fields[i].len + 1;
	if (keep_raw)
		total += rec->raw_len + 1;
	if (rec->mark)
		total += rec->mark_len + 1;
	char *p = arena_alloc(&b->arena, total);
	if (!p)
		return false;
	struct cell *row = b->cells + b->nrows * (size_t)b->ncols;
	for (size_t i = 0; i < rec->nfields; i++) {
		const struct cell *f = &rec->fields[i];
		if (!f->ptr || cell_is_default(f)) {
			row[i].ptr = f->ptr;
			row[i].len = 0;
			b->has_defaults |= f->ptr != NULL;
			continue;
		}
		memcpy(p, f->ptr, f->len);
		p[f->len] = '\0'; /* values are C strings too, for libpq parameters */
		row[i].ptr = p;
		row[i].len = f->len;
		p += f->len + 1;
	}
	struct row_meta *m = &b->meta[b->nrows];
	m->line = rec->line;
	m->source = source;
	m->raw = NULL;
	m->raw_len = 0;
	m->csv = keep_raw && rec->raw && rec->csv;
	m->text_lf = false;
	if (keep_raw && rec->raw) {
		memcpy(p, rec->raw, rec->raw_len);
		p[rec->raw_len] = '\0';
		m->raw = p;
		m->raw_len = rec->raw_len;
		p += rec->raw_len + 1;
	}
	m->mark = NULL;
	if (rec->mark) {
		memcpy(p, rec->mark, rec->mark_len);
		p[rec->mark_len] = '\0';
		m->mark = p;
	}
	b->nrows++;
	return true;
}
