/* include/sluice/copy_internal.h
 * sluice copy's shared state, inside src/pipeline/ only: copy.c runs a copy
 * (connections, snapshots, --resume, the summary), copy_plan.c decides what
 * it copies (tables, their columns mapped, the units), copy_target.c makes
 * and finishes the target's tables, copy_rows.c is the workers that copy
 * the units' rows through load_table.
 */
#ifndef SLUICE_COPY_INTERNAL_H
#define SLUICE_COPY_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>

#include "sluice/checkpoint.h"
#include "sluice/copy_schema.h"
#include "sluice/driver.h"
#include "sluice/job.h"
#include "sluice/log.h"
#include "sluice/rejects.h"
#include "sluice/report.h"
#include "sluice/typemap.h"

/* One table of the copy. */
struct copy_table {
	char *name;		      /* source table name */
	char *schema;		      /* its schema when --tables named it so, else NULL */
	char dst_name[80];	      /* the target's: name, or shortened to fit */
	char *dst_qualified;	      /* "schema"."name" (quoted) for the load of its rows */
	struct table_desc src;	      /* source catalog */
	struct write_spec src_spec;   /* source table and columns */
	struct write_spec dst_spec;   /* target table and columns */
	struct mapped_column *mapped; /* per column */
	unsigned *xf;
	int *bits;
	bool created; /* created by this copy (indexes, keys follow) */
	/* --create on a table the target has, or one an earlier run of a
	 * --resume job created: the indexes, keys and identities it misses
	 * follow the data */
	bool finish;
	bool skip; /* nothing to copy (a table without columns) */
	/* tables of the copy the target's table has foreign keys to (it was
	 * there before the copy): their rows go in first */
	int *deps;
	int ndeps;
	/* foreign keys of the target's table that close a cycle among the
	 * tables of the copy (or point at the table itself): dropped while
	 * the rows go in, added back after them (held.fkeys) */
	struct table_desc held;
	/* --resume: */
	bool whole; /* copied whole by an earlier run: skipped */
	/* --incremental: the cursor and key (indexes into src_spec.columns),
	 * whether they compare as numbers, the watermark committed (malloc'd,
	 * NULL on a first run), the rows whose cursor is NULL (not copied) */
	int cursor_col, ckey_col;
	bool cursor_numeric, key_numeric;
	bool key_text; /* the key is text: --delete-missing merges its bytes */
	char *after_cursor, *after_key;
	unsigned long long null_cursors;
};

/* A unit of work: a table, or a key range of a big one. */
struct copy_unit {
	int table;		   /* index into copy.tables */
	struct read_range range;   /* the rows it reads (range.key NULL: all) */
	int key;		   /* --resume: the column the rows are ordered by, or -1 */
	char label[300];	   /* for messages: "t" or "t [lo, hi)" */
	unsigned long long weight; /* rows expected, biggest first */
};

struct copy {
	const struct job *job;
	const struct driver *from, *to;
	struct conn *src; /* the snapshot connection: catalog, and data with one worker */
	struct conn *ddl; /* a target connection for DDL */
	struct copy_worker *workers; /* nworkers of them, their snapshots opened at once */
	struct copy_table *tables;
	int ntables;
	struct copy_unit *units;
	int nunits;
	int nworkers; /* units copied at once */
	struct rejects *rejects;
	struct checkpoint *ckpt; /* --resume: the job's, a source per table */
	struct conn *job_lock;	 /* --resume: holds the job (checkpoint_lock) */
	struct copy_ddl schema;	 /* user types made, CHECKs (copy_schema.c) */
	char job_name[600];
	char legacy_job[600];	/* the job's name as an earlier version made it, or "" */
	char query_source[600]; /* --resume --query: the checkpoints' source name */
	char schema_made[256];	/* --create: the target schema made last */

	pthread_mutex_t lock;	   /* guards what follows */
	pthread_cond_t unit_done;  /* a unit is finished: waiting units may go */
	int next_unit;		   /* units before it are all taken */
	bool *taken;		   /* per unit */
	int running;		   /* units being copied */
	int *units_left;	   /* per table: units not yet copied */
	double *started;	   /* per table: when its first unit started */
	struct table_stats *stats; /* per table, summed over its units */
	struct run_report report;
	enum run_status status;
	bool stop;
	atomic_bool halt;     /* stop set: the units being copied stop too */
	atomic_int nleft_out; /* warnings of what the copy does not carry */
	bool exporting;	      /* the plan is sluice export's: messages say so */
};

/* A copy worker: its own source connection (in the shared snapshot) and
 * target DDL connection, and the unit it is reading. */
struct copy_worker {
	struct copy *cp;
	struct conn *src, *ddl;
	const struct copy_unit *unit;
	bool own; /* src and ddl are the worker's, closed at the end */
};

/* Warn that something of the source is left out (or not made on the
 * target), naming it; counted for the line at the end of the run. */
#define copy_left_out(cp, ...)                                                                     \
	do {                                                                                       \
		atomic_fetch_add(&(cp)->nleft_out, 1);                                             \
		log_warn(__VA_ARGS__);                                                             \
	} while (0)

/* --- snapshot.c --- */

/* n readers of url (a from server) in first's snapshot, started here on
 * first too: with n 1, readers[0] is first; else n connections of their
 * own in readers[0..n) (the caller closes those that are not NULL, also
 * on failure) sharing it as the server allows. doing names the command in
 * warnings ("copying", "exporting"). */
bool snapshot_share(const struct driver *from, const char *url, double timeout, struct conn *first,
		    struct conn **readers, int n, const char *doing, struct sl_error *err);

/* --- copy_plan.c --- */

/* Refuse a copy whose source and target are the same tables. */
bool copy_not_itself(struct copy *cp, struct sl_error *err);
/* Decide the tables: --tables, else every base table of the source (minus
 * --exclude-tables and sluice's checkpoint table). */
bool copy_choose_tables(struct copy *cp, struct sl_error *err);
/* Describe source table t and map its columns to the target. */
bool copy_plan_table(struct copy *cp, struct copy_table *t, struct sl_error *err);
/* Where the target's foreign keys need the types of the columns they
 * reference (MySQL), a column mapped to another integer type (of the same
 * sign) than the one it references is made that type, with a warning. */
void copy_match_fkey_types(struct copy *cp);
/* Plan for --query: the target table's columns name the query's. */
bool copy_plan_query(struct copy *cp, struct copy_table *t, struct sl_error *err);
/* The column of t's single-column integer primary key, or -1. */
int copy_split_key(const struct dialect *d, const struct copy_table *t);
/* Whether the source catalog has a row count guess for d. */
bool copy_rows_known(const struct table_desc *d);
/* Cut the copy into units, biggest first. */
bool copy_plan_units(struct copy *cp, struct sl_error *err);
/* Free what t holds. */
void copy_table_free(struct copy_table *t);

/* --- copy_target.c --- */

/* Check target table t against the source, or create it (--create). */
bool copy_prepare_target(struct copy *cp, struct copy_table *t, struct sl_error *err);
/* The trigger function ON UPDATE columns need, once, before any table. */
bool copy_prepare_on_update(struct copy *cp, struct sl_error *err);
/* Empty the target tables first (--truncate), once each. */
bool copy_truncate_targets(struct copy *cp, struct sl_error *err);
/* After t's data: the indexes, CHECKs, ON UPDATE triggers and identities
 * the target's table misses; what it cannot take is warned about. */
bool copy_finish_table(struct copy *cp, struct conn *ddl, struct copy_table *t,
		       struct sl_error *err);
/* Foreign keys of the tables created (or finished), once all hold their
 * data; what the target cannot take is warned about. */
bool copy_add_foreign_keys(struct copy *cp, struct sl_error *err);
/* Drop the target's foreign keys that close a cycle among the tables of
 * the copy (rows whose parent comes later would be refused), so their
 * tables no longer wait on each other; copy_restore_fkeys adds them back
 * (false: one could not be added back, each named). */
bool copy_hold_cyclic_fkeys(struct copy *cp, struct sl_error *err);
bool copy_restore_fkeys(struct copy *cp, struct sl_error *err);

/* --- copy_incr.c --- */

/* --incremental: table ti's cursor and key, its watermark (after
 * cp->ckpt is open), its NULL cursors counted. */
bool copy_incremental_plan(struct copy *cp, int ti, struct sl_error *err);
/* --incremental: the units, a table each (and its NULL cursors). */
bool copy_incremental_units(struct copy *cp, struct sl_error *err);
/* --delete-missing: delete (or --soft mark) t's target rows whose key the
 * source (read on src, in the copy's snapshot) lacks; *deleted counts them. */
bool copy_delete_missing(struct copy *cp, struct conn *src, struct copy_table *t,
			 unsigned long long *deleted, struct sl_error *err);

/* --- copy_rows.c --- */

/* Copy every unit with cp->nworkers workers. */
void copy_units(struct copy *cp);

#endif
