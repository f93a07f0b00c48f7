/* include/sluice/job.h
 * A job: what the command line asked for, as plain data. The CLI builds it;
 * the pipeline runs it; nothing else reads argv.
 */
#ifndef SLUICE_JOB_H
#define SLUICE_JOB_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "sluice/reader.h"
#include "sluice/sql.h"

struct rejects;
struct run_report;
struct table_stats;

enum command {
	CMD_NONE = 0,
	CMD_LOAD,
	CMD_UPDATE,
	CMD_COPY,
	CMD_VERIFY,
	CMD_PING,
	CMD_CHECKPOINTS,
	CMD_RUN,
	CMD_EXPORT,
	CMD_DELETE
};
enum progress_mode { PROGRESS_AUTO = 0, PROGRESS_BAR, PROGRESS_LOG, PROGRESS_NONE };

/* How a run ended; main maps it to the exit code. */
enum run_status {
	RUN_OK = 0,	     /* every row written: exit 0 */
	RUN_FAILED = 1,	     /* could not finish: exit 1 */
	RUN_USAGE = 2,	     /* bad option, URL or file: exit 2 */
	RUN_PARTIAL = 3,     /* finished, some rows rejected or not found: exit 3 */
	RUN_INTERRUPTED = 4, /* SIGINT/SIGTERM: exit 130/143 */
};

/* copy --incremental: what becomes of rows whose cursor is NULL. */
enum null_cursor {
	NULL_CURSOR_SKIP = 0, /* counted and reported, not copied */
	NULL_CURSOR_INCLUDE,  /* copied (upserted) on every run */
};

enum parent_key {
	PARENT_KEY_NATURAL = 0, /* --key or _id, from the input */
	PARENT_KEY_GENERATED,	/* the server's identity/AUTO_INCREMENT column */
};

struct job {
	enum command command;
	char **sources; /* paths, "-" for stdin */
	int nsources;
	const char *target; /* connection URL */
	const char *table;  /* --table, or NULL to derive from the file name */
	char **columns;	    /* --columns, or NULL */
	int ncolumns;
	struct reader_options input;
	enum write_method method;
	size_t batch_rows;
	bool batch_rows_given; /* --batch-rows was on the command line */
	/* a batch is also full at this many bytes of values (0: rows only);
	 * copy bounds its batches so, load counts rows */
	size_t batch_bytes;
	bool truncate;
	bool dry_run;
	bool create;
	bool single_transaction;
	bool defaults;
	enum on_conflict on_conflict;
	char **key; /* --key */
	int nkey;
	char **set; /* update --set */
	int nset;
	char **add; /* --add: columns that take col = col + value (deltas) */
	int nadd;
	bool add_null_as_zero; /* --add-null-as-zero: a NULL in the table counts as 0 */
	const char *soft;      /* --soft 'COL=EXPR': mark rows instead of deleting them */
	/* --group-by COL: records sharing COL's value (an input column) are
	 * written in one transaction; a group refused in part is rejected whole */
	const char *group_by;
	size_t max_group_rows; /* --max-group-rows: the largest group (0: 100000) */
	/* --sort-groups SIZE: sort each source by group_by in memory, up to
	 * SIZE bytes (0: the input must be grouped already) */
	size_t sort_groups;
	const char *rejects_path;
	long max_errors; /* -1: unlimited */
	int workers;
	int pool_min, pool_max;
	double acquire_timeout; /* seconds */
	double idle_timeout;	/* seconds */
	int retries;
	enum progress_mode progress;
	double stats_interval; /* seconds */
	bool quiet;
	const char *summary_json; /* path, "-" for stdout, or NULL */
	const char *metrics_file; /* --metrics-file: Prometheus text, or NULL */

	/* copy and verify: FROM_URL -> target */
	const char *from; /* the source URL */
	char **tables;	  /* --tables, or NULL for every base table */
	int ntables;
	char **exclude_tables; /* --exclude-tables */
	int nexclude;
	const char *schema;	       /* --schema (PostgreSQL source), or NULL */
	const char *query;	       /* --query 'SELECT ...' (with --table) */
	const char *cast;	       /* --cast 'src=dst,src2=dst2', or NULL */
	bool verify;		       /* copy --verify */
	unsigned long long split_rows; /* copy --split-rows: rows per key range (0: 500000) */

	/* export: FROM_URL -> files */
	const char *dest;      /* DEST: a directory, a file or "-" (stdout) */
	const char *out_name;  /* --name: the file name of a --query's rows */
	bool quote_all;	       /* --quote-all: every CSV value quoted */
	int compress;	       /* --compress: 0 as DEST's name says, 1 gzip, 2 none */
	int compress_level;    /* --compress-level: zlib's 1..9 (0: 1) */
	bool ejson;	       /* --ejson: NDJSON/JSON values as Extended JSON */
	size_t max_file_bytes; /* --max-file-bytes: cut files there (0: never) */
	const char *manifest;  /* --manifest FILE, or NULL */

	/* --timeout: seconds a batch, connect or query may make no progress
	 * before its connection counts as broken; 0 waits for ever */
	double timeout;
	bool verbose; /* -v: the statements sent, the connection of each batch */

	/* --resume: exactly once across crashes (checkpoint rows in the target) */
	bool resume;
	const char *job_name;	      /* --job NAME, or NULL to derive one */
	const char *checkpoint_table; /* --checkpoint-table, or NULL: sluice_checkpoints */
	bool forget;		      /* sluice checkpoints --forget */

	/* sluice run JOBFILE */
	const char *jobfile;
	char **only; /* --only STEP,...: the steps to run, or NULL for all */
	int nonly;
	/* a step of sluice run: report_finish adds the step's tables and
	 * errors to this report (the run's one summary) instead of printing
	 * them; NULL on the command line */
	struct run_report *into;
	/* copy --incremental CURSOR[,KEY]: the rows past each table's
	 * watermark (kept in the checkpoint table, committed with the rows),
	 * upserted on the key */
	const char *incremental;
	double lag;		      /* --lag: seconds re-read behind the watermark */
	enum null_cursor null_cursor; /* --null-cursor skip|include */
	bool delete_missing;	      /* --delete-missing: target rows gone from the source */
	/* load --nest PATH[=TABLE],...: arrays of objects into child tables */
	char **nest;
	int nnest;
	/* load --nest '*': how deep to look for arrays of objects (default 2) */
	int nest_depth;
	/* load --nest --parent-key: the parent's key is the input's (natural)
	 * or the server's identity column (generated) */
	enum parent_key parent_key;
	/* load --flatten PATH,...: objects whose members become columns */
	char **flatten;
	int nflatten;
};

/* What a caller other than the command line (copy's workers) asks of one
 * table's load beyond the job's options: the rows from a reader it opens
 * rather than the job's files, a failure elsewhere to stop at, a rejects
 * file it shares, the one name the rows are checkpointed under. */
struct checkpoint;

struct load_request {
	/* open the rows as a reader (a table read), instead of the files */
	bool (*open_reader)(void *ctx, struct reader **out, struct sl_error *err);
	void *reader_ctx;
	/* set by another part of the run that failed (copy's other workers):
	 * stop at the next record, as a failure; NULL: never */
	const atomic_bool *halt;
	struct rejects *rejects; /* a rejects file shared by the tables, or NULL */
	/* --resume: the one source name the records are checkpointed under
	 * (the table: every key range of it shares its checkpoints), with no
	 * fingerprint and no whole-source mark (copy makes that per table) */
	const char *resume_source;
	/* copy --incremental: the checkpoint each batch's watermark (its last
	 * record's mark) goes to, as source watermark_src, in the batch's own
	 * transaction; NULL: none */
	struct checkpoint *watermark;
	int watermark_src;
	/* copy --incremental: an upsert on a table with unique indexes besides
	 * the key (the source's own, which its rows satisfy) goes by the key
	 * alone where the server's upsert would not (write_spec.upsert_by_key),
	 * instead of being refused as a load's is */
	bool upsert_by_key;
	/* load --nest: room for the child tables' stats (rows read, written,
	 * rejected), filled after the run; *nkid_stats says how many */
	struct table_stats *kid_stats;
	int kid_cap;
	int *nkid_stats;
};

/* Run a load or update job, print its summary; returns how it ended. */
enum run_status load_run(const struct job *job);
/* Run one table's load through the pipeline without printing anything, as
 * job says and req asks (NULL: the job's files): stats and report (errors,
 * pool, commit mode) are filled; the caller frees report's errors. */
enum run_status load_table(const struct job *job, const struct load_request *req,
			   struct table_stats *stats, struct run_report *report);
/* Run sluice copy / sluice verify. */
enum run_status copy_run(const struct job *job);
enum run_status verify_run(const struct job *job);
/* Run sluice export: tables or a query to files. */
enum run_status export_run(const struct job *job);
/* Run sluice checkpoints: list the target's resumable jobs, or --forget one. */
enum run_status checkpoints_run(const struct job *job);

#endif
