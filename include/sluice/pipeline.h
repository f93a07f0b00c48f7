/* include/sluice/pipeline.h
 * The load pipeline's shared state, inside src/pipeline/ only: load.c runs a
 * table (the reader thread and the orchestration), plan.c decides and checks
 * what a run writes before it starts, writers.c is the writer stage (one
 * batch: write, commit, bisect, retry, settle a lost commit). All three
 * stand on run.h (failure latch, rejects, connections, counters), which
 * knows none of them.
 */
#ifndef SLUICE_PIPELINE_H
#define SLUICE_PIPELINE_H

#include <pthread.h>
#include <stdbool.h>

#include "sluice/convert.h"
#include "sluice/driver.h"
#include "sluice/infer.h"
#include "sluice/job.h"
#include "sluice/key_gate.h"
#include "sluice/pool.h"
#include "sluice/queue.h"
#include "sluice/reader.h"
#include "sluice/report.h"
#include "sluice/run.h"

/* A reader of the pipeline's own (src/pipeline/table_reader.c), for copy:
 * the rows of a table on a server, through its driver. */
/* A reader over a table (spec's table and columns, the rows range takes:
 * may be NULL) or, with query non-NULL, a SELECT, streamed through drv on c (which stays busy until
 * the reader is closed); value i goes through typemap_value(xf[i], bits[i]) (xf and bits may be
 * NULL). Records' line is the row number, raw the row as COPY text. key >= 0: the rows come in the
 * order of that integer column, whose value is each record's ordinal (--resume). */
bool table_reader_open(struct reader **out, const struct driver *drv, struct conn *c,
		       const struct write_spec *spec, const char *query,
		       const struct read_range *range, const unsigned *xf, const int *bits, int key,
		       struct sl_error *err);
/* copy --incremental: each record of table reader r carries the watermark
 * of its row (record.mark): the source's own text of column cursor and
 * column key, before any transform; none for a NULL cursor. */
void table_reader_watermark(struct reader *r, int cursor, int key);
/* Records of r (a table reader) come without raw: export has no rejects
 * file, and the COPY text of every row is work for nothing. */
void table_reader_no_raw(struct reader *r);

/* --create (src/pipeline/create.c): with the table missing, create it from
 * the sample in b (dry_run: print the DDL on stdout instead). *created
 * tells whether it was missing. */
bool create_table_from_sample(const struct driver *drv, struct conn *c,
			      const struct write_spec *spec, const struct batch *b, bool dry_run,
			      bool *created, struct sl_error *err);

/* As create_table_from_sample, with the types of the first nforced
 * columns given (forced[i]) rather than inferred (--nest: the link
 * columns take the parent's key type and bigint positions). */
bool create_table_typed(const struct driver *drv, struct conn *c, const struct write_spec *spec,
			const struct batch *b, const enum col_type *forced, int nforced,
			bool dry_run, bool *created, struct sl_error *err);

#define NEST_MAX 16

/* --nest (src/pipeline/nest.c): a child table. Its columns are the link
 * (the parent's key, the positions of the elements it is inside, its own
 * position _pos), which is its primary key, then its elements' fields. */
struct nest_table {
	int parent; /* index of the table it is inside, -1: the load's table */
	int depth;  /* 1: a child of the load's table */
	char name[128];
	char fk_name[128];
	char **columns;
	int ncols, nlink;
	struct write_spec spec;
	bool exists;
	_Atomic unsigned long long rows;     /* committed */
	_Atomic unsigned long long read;     /* elements read */
	_Atomic unsigned long long rejected; /* elements of documents the server refused */
};

struct nest_plan {
	struct nest_table t[NEST_MAX];
	int n;
	char *paths[NEST_MAX]; /* for the reader */
	int root_key;	       /* the parent key, as an index into load.columns */
	const char *root_key_name;
	char root_link[128]; /* its column in the children: <table>_<key> */
	char **specs;	     /* the --nest list, '*' expanded: PATH[=TABLE] */
	bool generated;	     /* --parent-key generated: the server makes the key */
	int nspecs;
};

/* One run of the pipeline: one target table. */
struct load {
	const struct job *job;
	const struct load_request *req; /* what the caller asks beyond the job (never NULL) */
	const struct driver *drv;
	struct run run; /* the failure latch, rejects, connections, counters */
	struct write_spec spec;
	char *schema, *table;
	char **columns; /* the target columns, in record order (owned) */
	int ncols;
	/* --create made the table from the first batch: each column's type
	 * as inferred (ncols, owned), the rows after held to it; NULL else */
	enum col_type *inferred;
	size_t inferred_rows; /* the sample's rows */

	struct reader_options input; /* the job's; update: a missing key sets nothing */
	/* keyed writes (upsert, skip with --key, update): a key may repeat, so
	 * each batch is written in rounds (see keys.h) and, with several
	 * writers, a key always goes to the same one, so its records are
	 * applied in input order */
	bool keyed;
	int key_idx[64]; /* key columns, as indexes into columns */
	/* how each key column's values are equal on the target (enum
	 * key_fold, from its collation): which records are one key */
	unsigned char key_fold[64];
	int nkey_idx;
	/* keyed writes by several writers from one queue: a batch starts only
	 * when the earlier batches sharing a key with it are done (key_gate.h) */
	bool gated;
	struct key_gate *gate;
	int *set_idx; /* sluice update: the columns it sets, as indexes into columns */
	int nset_idx;
	char *soft_col, *soft_expr; /* delete --soft (owned) */
	/* --group-by: the group column (an index into columns, written to no
	 * table), or -1; the reader keeps a group's records in one batch, and
	 * a group refused in part is rejected whole */
	int group_idx;
	size_t max_group_rows;
	struct group_state *groups; /* the reader's: the open group, the closed ones */
	struct group_sort *sorted;  /* --sort-groups: the source being read, sorted */
	unsigned long long blank_lines;
	struct table_desc target; /* the table as check_target found it */
	char *const *lookup_key;  /* a unique key among the columns, to settle lost commits */
	int lookup_nkey;
	const char *_Atomic commit_mode; /* the driver's, once a batch committed */
	/* the last batch written row by row on the server (write_each) had
	 * many rows refused: the next batch starts that way, rather than with
	 * an attempt that would fail at its first bad row */
	_Atomic bool each_first;
	/* the dialect's exactness rule of each column (its exact_rule), for
	 * the quick tests the reader runs on each value; exact_cols lists the
	 * columns with one; NULL and 0 when there are none to run */
	int *exact_rules;
	int *exact_cols;
	int nexact_cols;
	/* by exact_cols' index: each column's quick test and its bound
	 * (convert_quick_for, convert_quick_column), picked once for the
	 * run */
	convert_quick_column_fn *exact_quick;
	size_t *exact_arg;
	const char *method_reason; /* why sluice chose the method itself, or NULL */
	struct checkpoint *ckpt;   /* --resume, or NULL */
	long long *src_records;	   /* per source: records read so far (ordinals) */
	bool *src_read_all;	   /* per source: read to its end */
	bool *src_whole;	   /* per source: an earlier run loaded all of it */
	char job_name[256];	   /* --job, or derived */

	struct queue
		*work; /* full batches for the writers: one queue, or one per writer when keyed */
	int nqueues;
	struct queue spare; /* empty batches for the reader */
	struct batch *batches;
	int nbatches;

	struct sl_error input_err; /* the input broke off (READ_FAIL) */
	bool input_failed;
	struct nest_plan *nest; /* --nest, or NULL */
};

struct writer_arg {
	struct load *ld;
	int queue; /* the queue this writer takes batches from */
};

/* The UPDATE (or DELETE) of one record as -v and --dry-run show it: the
 * --group-by column, written nowhere, left out. False on out of memory. */
BUF_MUST_USE bool load_update_shown(const struct load *ld, struct buf *b);

/* --- group_sort.c: --sort-groups --- */

struct group_sort;
/* Read every record of r (source name) into memory and sort them by field
 * col, stably; more than limit bytes (records, copies and bookkeeping) is
 * an SL_ERR_USAGE error naming the line and the bound. The caller owns *out
 * (group_sort_free). A READ_FAIL of r is kept: group_sort_next returns it
 * after the records read before it. */
bool group_sort_read(struct group_sort **out, struct reader *r, const char *name, int col,
		     size_t limit, struct sl_error *err);
/* The next record in sorted order (rejected ones first), as reader ops'
 * next returns them; valid until group_sort_free. */
enum read_status group_sort_next(struct group_sort *gs, struct record *rec, struct sl_error *err);
void group_sort_free(struct group_sort *gs);

/* --- groups.c: --group-by, the reader's bookkeeping --- */

struct group_state;
enum group_step {
	GROUP_SAME,	 /* the record is of the open group */
	GROUP_NEW,	 /* it begins a group (the open one, if any, is closed) */
	GROUP_BROKEN,	 /* its group was closed earlier: the input is not grouped */
	GROUP_NO_MEMORY, /* out of memory */
};
bool groups_open(struct group_state **out);
void groups_free(struct group_state *g);
/* The group value v of the record at line: GROUP_BROKEN sets *began to the
 * line the group began on. */
enum group_step groups_next(struct group_state *g, const struct cell *v, long line, long *began);
/* The open group's records so far; whether it is rejected whole
 * (groups_reject marks it so, with the reason groups_why gives: its later
 * records are rejects too). */
size_t groups_rows(const struct group_state *g);
bool groups_rejecting(const struct group_state *g);
void groups_reject(struct group_state *g, const char *why);
const char *groups_why(const struct group_state *g);

/* --- nest.c --- */

/* --nest: the child tables' names and the reader's paths, from the job;
 * false with err (a usage error). Before any reader opens. */
bool nest_prepare(struct load *ld, struct sl_error *err);
/* The parent key, each child table's columns (from the table, or the
 * sampled fields under --create), told to the reader r. */
bool nest_plan_tables(struct load *ld, struct reader *r, struct sl_error *err);
/* Tell reader r (a source after the first) the child tables' fields. */
bool nest_tell_reader(struct load *ld, struct reader *r, struct sl_error *err);
/* Give batch b (of the load's table) its child batches. */
bool nest_init_batch(struct load *ld, struct batch *b);
/* Add the kids of rec, row row of b, as rows of b's child batches. */
bool nest_add_kids(struct load *ld, struct batch *b, size_t row, const struct record *rec);
/* Whether b's child batches hold as many rows as a batch should. */
bool nest_batch_full(const struct load *ld, const struct batch *b);
/* --create: the missing child tables, with their keys and foreign keys,
 * typed from the sample in b (dry_run: printed). */
bool nest_create(struct load *ld, struct conn *c, const struct batch *b, bool dry_run,
		 struct sl_error *err);
/* Inside the transaction on c, after rows [first, first+n) of b went in:
 * delete the children an upsert replaces, then write theirs. written[t]
 * gets the rows written to child table t. A refused child is an
 * SL_ERR_DATA naming the child table and the element. */
/* --parent-key generated: write the parents [first, first+n) of b, their
 * keys made by the server into ids[0..n), for nest_write. */
bool nest_write_parents(struct load *ld, struct conn *c, const struct batch *b, size_t first,
			size_t n, char (*ids)[SQL_ID_BYTES], struct write_count *out,
			struct sl_error *err);
bool nest_write(struct load *ld, struct conn *c, const struct batch *b, size_t first, size_t n,
		char (*ids)[SQL_ID_BYTES], unsigned long long *written, struct sl_error *err);
/* Count committed child rows. */
void nest_count(struct load *ld, const unsigned long long *written);
/* Row row of b (a document) is rejected: count its elements as rejected. */
void nest_count_rejected(struct load *ld, const struct batch *b, size_t row);
/* The child tables' stats into out (at most cap), parent the load's
 * table's; returns how many. */
int nest_stats(const struct load *ld, const struct table_stats *parent, struct table_stats *out,
	       int cap);
/* --dry-run: the tree of tables, columns and keys, on stdout. */
void nest_print_tree(const struct load *ld);
void nest_free(struct load *ld);

/* --- writers.c --- */

/* A writer thread: takes batches from queue wa->queue until it closes. */
void *writers_main(void *arg);

/* --- plan.c --- */

/* Table, method and spec from the job; false with ld->run.err (a usage
 * error). */
bool plan_run(struct load *ld);
/* The target columns, from --columns, the header or the table that
 * plan_check_target described (not asked again). */
bool plan_columns(struct load *ld, struct reader *r, struct sl_error *err);
/* The files sluice writes (rejects, summary) are no input. */
bool plan_check_outputs(struct load *ld, struct sl_error *err);
/* Every source opens, has the first one's header, and gzip files are whole. */
bool plan_check_sources(struct load *ld, const struct reader *r0, struct sl_error *err);
/* The table exists (or --create makes it) and an upsert's key decides. */
bool plan_check_target(struct load *ld, struct sl_error *err);
/* Every input column is one of the table's (when it exists), and a CSV
 * header is not one field of ';'-separated names: exit 2 before any row. */
bool plan_check_columns(struct load *ld, const struct reader *r, struct sl_error *err);
/* Key columns, rounds and routing of keyed writes. */
bool plan_keys(struct load *ld, int workers, struct sl_error *err);
/* A unique key to settle a lost plain COMMIT by. */
void plan_lookup_key(struct load *ld);
/* --resume: the job's name and checkpoints; which sources are whole. */
bool plan_resume(struct load *ld, struct sl_error *err);

#endif
