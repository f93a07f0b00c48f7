/* include/sluice/batch.h
 * The row and batch model: a record as a reader yields it, and a batch of rows
 * whose values live in one arena that is reset after the batch is written.
 */
#ifndef SLUICE_BATCH_H
#define SLUICE_BATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One value: text of len bytes, or SQL NULL when ptr is NULL, or "use the
 * column's default" when ptr is cell_default (a JSON key missing under
 * --defaults). */
struct cell {
	const char *ptr;
	size_t len;
};

extern const char cell_default[];
static inline bool cell_is_default(const struct cell *c)
{
	return c->ptr == cell_default;
}

struct text_block;

/* A record as a reader yields it. Everything it points to is owned by the
 * reader and valid until the reader's next call. */
struct record {
	size_t nfields;
	struct cell *fields;
	long line;	 /* physical line where the record starts (1-based) */
	const char *raw; /* the record verbatim, for the rejects file */
	size_t raw_len;
	/* raw is exactly this record as CSV in the dialect the reader named
	 * (reader_ops.raw_csv): one record, no line end, fields as above */
	bool csv;
	/* each field is NULL or lies within raw, but those in fields_moved
	 * (bit i: field i, of the first 64) which lie elsewhere (undoubled
	 * copies) */
	bool fields_in_raw;
	uint64_t fields_moved;
	/* with csv: raw has a line feed after it, and raw and the values
	 * within it lie in this block of the reader's, which a batch may hold
	 * (textblock.h) instead of copying them; NULL: copy them */
	struct text_block *block;
	/* a reader that numbers its records itself (a table read in key
	 * order: the key) sets these; --resume checkpoints by them */
	long long ordinal;
	bool has_ordinal;
	/* copy --incremental: the watermark this record takes the table to
	 * (its cursor and key, watermark_encode), NUL-terminated; NULL when
	 * it takes it nowhere (a NULL cursor) */
	const char *mark;
	size_t mark_len;
	/* --nest: the elements of the record's named arrays, each a row of a
	 * child table (struct record_kid, below); none otherwise */
	const struct record_kid *kids;
	size_t nkids;
};

/* --nest: one element of a named array of a record (an object, or a scalar
 * as the one field "value"), in document order: an element always comes
 * after the element it is inside. */
struct record_kid {
	int table;	     /* index of its path in reader_options.nest */
	long pos;	     /* its position in its array, from 0 */
	long parent;	     /* index in record.kids of the element it is in; -1: the record */
	struct cell *fields; /* one per column set_kid_columns fixed for its path */
};

/* Where a row of a batch came from, for reject reports. */
struct row_meta {
	long line;
	long long ordinal; /* record number within its source, from 0 (--resume) */
	int source;	   /* index into the job's sources */
	const char *raw;   /* verbatim record, in the batch's arena or a block it holds */
	size_t raw_len;
	const char *mark; /* the record's watermark (copy --incremental), or NULL */
	bool csv;	  /* raw is the row as CSV in the batch's csv dialect */
	bool text_lf;	  /* raw is the batch's (text arena or block), a '\n' after it */
};

struct arena_block;

#define ARENA_KEEP_BYTES ((size_t)8 << 20)

/* Bump allocator: many small allocations, one reset. Every block has
 * ARENA_PAD bytes after its room: at least that many can be read past the
 * end of anything allocated (convert_quick_keeps_padded reads values 32
 * bytes at a time). */
#define ARENA_PAD 32
struct arena {
	struct arena_block *head;
	struct arena_block *spare; /* standard blocks a reset kept for reuse */
	char *next, *end;	   /* the head block's room (NULL: none yet) */
	size_t block_size;
	size_t used_total;
};

void arena_init(struct arena *a, size_t block_size);
/* n bytes aligned for any use, or NULL when memory is exhausted. */
void *arena_alloc(struct arena *a, size_t n);
/* arena_alloc_bytes when the head block has no room for n: a new block. */
void *arena_alloc_new(struct arena *a, size_t n);
/* n bytes right after the previous ones when the block has room (no
 * alignment), or NULL when memory is exhausted. Inline: a batch takes
 * one for every row. */
static inline void *arena_alloc_bytes(struct arena *a, size_t n)
{
	if (a->next && (size_t)(a->end - a->next) >= n) {
		void *p = a->next;
		a->next += n;
		a->used_total += n;
		return p;
	}
	return arena_alloc_new(a, n);
}
/* Forget everything allocated; keeps up to ARENA_KEEP_BYTES of its
 * standard blocks for reuse, so a batch refilled to the same size asks
 * malloc (and the kernel, for fresh pages) for nothing. */
void arena_reset(struct arena *a);
void arena_free(struct arena *a);

struct batch {
	int ncols;
	size_t nrows;
	size_t cap_rows;
	/* full at this many bytes of values and verbatim records in the arena
	 * too, whatever the rows (0: rows only), so wide rows cannot make a
	 * batch of cap_rows rows take more memory than planned */
	size_t cap_bytes;
	struct cell *cells;    /* nrows * ncols, row-major */
	struct row_meta *meta; /* nrows */
	uint64_t bytes;	       /* input bytes these rows came from */
	bool has_defaults;     /* some cell is cell_default */
	/* the CSV dialect of the rows whose meta.csv is set (a driver may send
	 * their raw text as they are); 0: none */
	char csv_delim, csv_quote;
	long seq; /* batch number within the run, from 1 */
	/* the exactness rules (CONVERT_EXACT_*, one per column) whose quick
	 * tests the reader ran on every value of these rows, or NULL; with
	 * exact_doubt some value failed one (a writer then looks closely at
	 * the rows; without it, no value needs a look under those rules) */
	const int *exact_rules;
	bool exact_doubt;
	size_t exact_from; /* rows before it were tested (by the reader) */
	/* every value lies in the arenas, so ARENA_PAD bytes can be read past
	 * it: set by batch_init; a view whose cells point elsewhere has not */
	bool values_padded;
	/* keyed writes: key_rounds of its first rounds_rows rows (0: none),
	 * worked out by the reader before the batch went, so that a writer
	 * need not between its statements; room for rounds_cap rows */
	size_t *round_order, *round_end, nrounds, rounds_rows, rounds_cap;
	struct arena arena;
	/* the CSV text of meta.csv rows, each ended by '\n' and, within a
	 * block, right after the row before it (batch_csv_run): copied into
	 * this arena, or where the reader read it, in the blocks held here
	 * (text_bytes of it) */
	struct arena text;
	struct text_block **held;
	size_t nheld, held_cap;
	size_t text_bytes;
	/* --nest: one batch of child rows per child table, whose meta.ordinal
	 * is the index of the row (document) of this batch they belong to, in
	 * order; NULL otherwise */
	struct batch *kids;
	int nkids;
};

/* A batch for up to cap_rows rows of ncols values; false on out of memory. */
bool batch_init(struct batch *b, int ncols, size_t cap_rows);
/* Make room for cap_rows rows (never less than it has); the rows stay.
 * False on out of memory (the batch is as it was). */
bool batch_grow(struct batch *b, size_t cap_rows);
void batch_free(struct batch *b);
/* Empty the batch; the arena memory is kept for the next rows. */
void batch_reset(struct batch *b);
static inline bool batch_full(const struct batch *b)
{
	return b->nrows >= b->cap_rows ||
	       (b->cap_bytes &&
		b->arena.used_total + b->text.used_total + b->text_bytes >= b->cap_bytes);
}
/* Copy a record (exactly ncols fields) into the batch; keep_raw also copies
 * its verbatim text. False on out of memory. Values are NUL-terminated,
 * but for a record that is its CSV text (record.csv, with keep_raw): its
 * values point into that text, copied, or where the reader read it when
 * the batch may hold that block (record.block; not when its blocks would
 * outweigh its rows' text) (meta.csv rows go only to a driver's takes_csv
 * write, which reads values by their length). */
bool batch_add_row(struct batch *b, const struct record *rec, int source, bool keep_raw);
/* Copy ncols cells as a new row, growing the batch when it is full (child
 * rows: their number is not known in advance); meta line, source and
 * ordinal as given, no raw text. False on out of memory. */
bool batch_add_cells(struct batch *b, const struct cell *cells, long line, int source,
		     long long ordinal);
/* Whether rows [first, first+n) of b all are their CSV text in the batch's
 * csv dialect (a takes_csv driver then sends that text). */
static inline bool batch_rows_csv(const struct batch *b, size_t first, size_t n)
{
	if (!b->csv_delim)
		return false;
	for (size_t r = first; r < first + n; r++)
		if (!b->meta[r].csv)
			return false;
	return true;
}
/* How many rows from first on (at most n) have their CSV text in the
 * batch's text arena or blocks one after the other, each ended by a line feed: the
 * bytes from meta[first].raw up to the last one's line feed are those
 * rows as CSV, to send in one piece. 0 when row first's text is not
 * there. Reads the rows' meta only, not their text. */
static inline size_t batch_csv_run(const struct batch *b, size_t first, size_t n)
{
	const struct row_meta *m = &b->meta[first];
	if (!m->text_lf)
		return 0;
	size_t k = 1;
	while (k < n && m[k].text_lf && m[k].raw == m[k - 1].raw + m[k - 1].raw_len + 1)
		k++;
	return k;
}
static inline const struct cell *batch_row(const struct batch *b, size_t i)
{
	return b->cells + i * (size_t)b->ncols;
}
/* Where the next row's cells go (ncols of them), for a reader to put a
 * record's fields there (reader.cells_to); NULL when the batch is full. */
static inline struct cell *batch_next_cells(struct batch *b)
{
	return b->nrows < b->cap_rows ? b->cells + b->nrows * (size_t)b->ncols : NULL;
}

#endif
