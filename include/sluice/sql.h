/* include/sluice/sql.h
 * SQL dialects: identifier quoting and statement text, one file per server
 * under src/sql/. Names are always quoted here; values never appear in SQL.
 */
#ifndef SLUICE_SQL_H
#define SLUICE_SQL_H

#include <stdbool.h>
#include <stddef.h>

#include "sluice/buf.h"
#include "sluice/canon.h"
#include "sluice/convert.h"
#include "sluice/sqltype.h"

enum write_method { METHOD_DEFAULT = 0, METHOD_COPY, METHOD_INSERT, METHOD_INFILE };
enum on_conflict { CONFLICT_ERROR = 0, CONFLICT_SKIP, CONFLICT_UPDATE };

/* What a write goes to: the table, its columns in value order, and how. */
struct write_spec {
	const char *schema; /* NULL: the connection's default */
	const char *table;
	char *const *columns;
	int ncols;
	enum write_method method;
	enum on_conflict on_conflict;
	char *const *key; /* conflict key (load) or match key (update) columns */
	int nkey;
	bool update;	  /* sluice update: set columns where the key matches */
	char *const *set; /* update: the columns to set (NULL: all but the key) */
	int nset;
	/* update, and upsert (--on-conflict update): the columns of set (or,
	 * upsert, of the non-key columns) that take col = col + value, a delta,
	 * added exactly by the server; NULL + value stays NULL there, which the
	 * drivers refuse (SL_ERR_DATA) unless add_null_as_zero (COALESCE) */
	char *const *add;
	int nadd;
	bool add_null_as_zero;
	/* upsert where the key is not the table's only unique index and the
	 * server's upsert would take a collision on another for one on the
	 * key (MySQL's ON DUPLICATE KEY UPDATE, updating that other row): the
	 * rows the key finds are updated by it, the others inserted */
	bool upsert_by_key;
	/* sluice delete (with update set): delete the rows the key matches, or
	 * with soft_col set soft_col = soft_expr in them instead (--soft: the
	 * operator's server expression, the one text that goes in as SQL) */
	bool del;
	const char *soft_col, *soft_expr;
	/* count_keys: count only the rows with a NULL in an add column */
	bool count_null_adds;
	size_t batch_rows; /* rows in a full batch (statement sizing) */
	bool raw_bytes;	   /* values of binary columns are bytes already (copy), not
			    * "\x" hex text to decode */
	bool own_rows;	   /* reading: this table's own rows only, not those of
			    * tables inheriting from it (PostgreSQL ONLY) */
};

/* Which rows of a table a read takes: all of them, or a range of an integer
 * key (copy's units), in the key's order when asked (--resume). */
struct read_range {
	const char *key; /* the integer column, NULL: no range, no order */
	bool bounded;	 /* only key >= lo, and key < hi unless hi_open */
	long long lo, hi;
	bool hi_open;
	bool ordered; /* ORDER BY key */
	/* with ordered: in the order of the key's bytes as UTF-8 text (the same
	 * on every server, whatever the collation), for a text key */
	bool bytewise;
	/* with ordered: then by these columns (export --nest: a child's rows
	 * by their parent's key, then by their own primary key) */
	char *const *then;
	int nthen;
	/* copy --incremental (key above is NULL then): the rows whose
	 * (cursor, ckey) is past (after_cursor, after_key) by a tuple
	 * comparison, in (cursor, ckey) order; after_cursor NULL: every row
	 * whose cursor is not NULL. With lag > 0, every row whose cursor is
	 * at least after_cursor less lag seconds. With nulls, only the rows
	 * whose cursor is NULL, in ckey order. The values are the source's
	 * own text, written as literals (sql_literal): a COPY cannot take
	 * parameters. */
	const char *cursor, *ckey;
	const char *after_cursor, *after_key;
	bool cursor_numeric, key_numeric; /* compared as numbers, not text */
	double lag;
	bool nulls;
};

struct dialect {
	const char *name;
	int max_params;		/* placeholders one statement may carry */
	bool transactional_ddl; /* CREATE and TRUNCATE can run inside a transaction and roll back */
	bool columns_case_insensitive; /* "Id" and "id" name the same column */
	/* an upsert updates the row a new one collides with on ANY unique index,
	 * not only on the conflict key (MySQL's ON DUPLICATE KEY UPDATE) */
	bool upsert_matches_any_unique;
	int max_name_bytes;   /* the longest identifier it keeps whole */
	bool has_schemas;     /* schemas inside a database (PostgreSQL), not MySQL */
	bool has_inheritance; /* a table's rows include its children's unless read ONLY */
	/* what goes before and after a text column's name in ORDER BY to sort
	 * it by its bytes as UTF-8 (read_range.bytewise) */
	const char *bytewise_open, *bytewise_close;
	bool fk_set_null_needs_null; /* refuses ON ... SET NULL on a NOT NULL column */
	/* a foreign key's columns must have the types of those they reference
	 * (InnoDB: an integer's size and sign too) */
	bool fk_needs_same_type;
	/* ALTER TABLE ... ADD CONSTRAINT ... FOREIGN KEY (SQLite has none: a
	 * foreign key is part of CREATE TABLE) */
	bool alter_adds_foreign_key;
	/* columns can be of user-defined types, enums and domains (CREATE
	 * TYPE ... AS ENUM, CREATE DOMAIN), which copy --create makes on a
	 * target that has them too (typemap_create_type) */
	bool has_user_types;
	/* text compares as if padded with spaces under the binary collation
	 * sluice gives keys, so that "a" and "a " are one key unless a NO PAD
	 * collation is named (MySQL's PAD SPACE utf8mb4_bin); copy --create
	 * then names one for keys from a server where they are two */
	bool text_pads_spaces;
	/* Appended to the CREATE TABLE of a table of sluice's own (the
	 * checkpoint table) so that its text columns hold any UTF-8 and
	 * compare byte for byte ("a" and "A", "a" and "a " are two keys), as
	 * " DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin"; NULL when the
	 * server's defaults do that already. */
	const char *bytewise_table_options;
	/* Append the statement that moves the identity of column (its
	 * sequence or counter) in spec's table past the largest value the
	 * column holds, so that the next generated value does not collide
	 * with rows copied in with their own keys (PostgreSQL's setval). NULL
	 * when the server moves it by itself as such rows go in (MySQL's
	 * AUTO_INCREMENT). */
	bool (*identity_restart)(struct buf *b, const struct write_spec *spec, const char *column);
	/* Append the ALTER TABLE action that drops the table's primary key,
	 * named name ("DROP CONSTRAINT name", MySQL's "DROP PRIMARY KEY");
	 * NULL when the server cannot (SQLite). */
	bool (*drop_primary_key)(struct buf *b, const char *name);
	/* Append the text s as a string literal of this dialect, every byte
	 * escaped (copy --incremental's watermark, in a read that cannot take
	 * parameters). False for a NUL-free text only when b is full. */
	bool (*quote_literal)(struct buf *b, const char *s);
	/* Append an expression: the instant the literal lit (as quote_literal
	 * wrote it) names, less seconds (copy --incremental --lag). */
	bool (*minus_seconds)(struct buf *b, const char *lit, double seconds);
	/* The rule (convert.h's CONVERT_EXACT_*) by which the driver's writes
	 * test whether a column of this type text keeps a value's text exactly;
	 * NULL when they test none ahead. The reader runs the quick tests of
	 * these rules on each value while it is at hand (batch.exact_rules). */
	int (*exact_rule)(const char *column_type);
	/* Append ident quoted for this dialect; false when it cannot be quoted. */
	bool (*quote_ident)(struct buf *b, const char *ident);
	/* Append the n-th (1-based) placeholder. */
	bool (*placeholder)(struct buf *b, int n);
	/* Append the conflict clause for spec->on_conflict (may append nothing). */
	bool (*conflict_clause)(struct buf *b, const struct write_spec *spec);
	/* The insert keyword: "INSERT" or MySQL's "INSERT IGNORE" for skip. */
	const char *(*insert_verb)(const struct write_spec *spec);
	/* Append the bulk-load statement (COPY FROM STDIN, LOAD DATA LOCAL) whose
	 * data the driver streams in the dialect's text format. */
	bool (*bulk_load)(struct buf *b, const struct write_spec *spec);
	/* Classify text, a column type as this server prints it, into out
	 * (sqltype.h), with what col adds when given (NULL: the text alone):
	 * its character set and collation, a user enum's labels. What the
	 * model does not describe is SQL_OTHER. The caller frees out
	 * (sql_type_free) whatever this returns; false on out of memory. */
	bool (*type_classify)(const char *text, const struct column_desc *col,
			      struct sql_type *out);
	/* Name t as this server's type for a column used as use says: its own
	 * types as they were, another server's as the nearest type it has,
	 * with notes in out on what that does not keep. False when the text
	 * does not fit out. */
	bool (*type_name)(const struct sql_type *t, const struct type_use *use,
			  struct type_naming *out);
	/* --- sluice verify: canonical text (canon.h) --- */
	/* Append an expression of column col (quoted) of type t (this
	 * dialect's, as its type_classify gave it) whose value is the
	 * column's value in the canonical text how asks for, NULL for NULL.
	 * It must give, for equal values, the same bytes as every other
	 * dialect's canon_value for the same form: canon.h says what each
	 * form is. verify asks for a form only where both types have it;
	 * CANON_HASH for any type. False when b is full. */
	bool (*canon_value)(struct buf *b, const char *col, const struct sql_type *t,
			    const struct canon_spec *how);
	/* Optional. What the values of t, one of this dialect's types the
	 * model leaves SQL_OTHER, compare as: SQL_INT (decimal digits, as
	 * PostgreSQL's oid) or SQL_TEXT (characters, as its name), so that
	 * canon_value must write CANON_NUM or CANON_HASH of their text for
	 * it; SQL_OTHER (or NULL) compares them by their output text. */
	enum sql_kind (*compare_as)(const struct sql_type *t);
	/* Append the query that reads spec's table (sql_read_table) and
	 * returns one row of two values: the number of rows, and their
	 * checksum: the sum over the rows, as an exact decimal (0 for no
	 * rows), of the number the first 15 hex digits (60 bits) of an md5
	 * make; md5 of the row's text, which is each of values[0..n)
	 * (canon_value expressions, ASCII) in turn as its length, ':' and
	 * itself, N when NULL, with nothing between; md5('') with n 0. For
	 * the same rows both texts are the same on every dialect.
	 * sql_select_values writes the rows it reads over. */
	bool (*checksum_query)(struct buf *b, const struct write_spec *spec,
			       const char *const *values, int n);
	/* --parent-key generated: ids taken from a column's sequence ahead of
	 * the insert (PostgreSQL), or NULL */
	const char *take_ids_sql;
	/* INSERT ... RETURNING is in the grammar (MariaDB 10.5+ of the mysql
	 * dialect: the driver checks the server) */
	bool has_returning;
};

/* Room for a generated key as text (a bigint and its NUL). */
#define SQL_ID_BYTES 24

/* Append the query that takes $3 values of the sequence behind column $2
 * (a name) of table $1 (a quoted table name, sql_table_name), one a row, in
 * one round trip: --parent-key generated. False when d has none. */
BUF_MUST_USE bool sql_take_ids(const struct dialect *d, struct buf *b);
/* Append sql_insert's statement of nrows rows followed by RETURNING the
 * column key (quoted): the generated keys, one a row, in the rows' order. */
BUF_MUST_USE bool sql_insert_returning(const struct dialect *d, struct buf *b,
				       const struct write_spec *spec, size_t nrows,
				       const char *key);

extern const struct dialect pg_dialect;
extern const struct dialect mysql_dialect;
extern const struct dialect sqlite_dialect;

/* Append "schema"."table" quoted for d. */
BUF_MUST_USE bool sql_table_name(const struct dialect *d, struct buf *b,
				 const struct write_spec *spec);
/* Append the table a SELECT reads from: sql_table_name, after ONLY when
 * spec->own_rows and the dialect has inheritance. */
BUF_MUST_USE bool sql_read_table(const struct dialect *d, struct buf *b,
				 const struct write_spec *spec);
/* Append SELECT values[0] AS c0, ..., values[n-1] AS c<n-1> FROM spec's
 * table (sql_read_table); with n 0, SELECT 1 AS c0: a row of each row,
 * for a query over it (checksum_query). */
BUF_MUST_USE bool sql_select_values(const struct dialect *d, struct buf *b,
				    const struct write_spec *spec, const char *const *values,
				    int n);
/* Append SELECT count(*) FROM spec's table (sql_read_table): one row,
 * one value, the number of rows. */
BUF_MUST_USE bool sql_count_rows(const struct dialect *d, struct buf *b,
				 const struct write_spec *spec);
/* Append SELECT of spec's columns from its table (sql_read_table), each
 * followed by suffix[i] when suffix and suffix[i] are not NULL (an
 * expression that reads the value exactly, as MySQL's " + 0e0" for a
 * FLOAT), restricted and ordered by range (may be NULL). */
BUF_MUST_USE bool sql_select(const struct dialect *d, struct buf *b, const struct write_spec *spec,
			     const struct read_range *range, const char *const *suffix);
/* Append value as a literal of d: as it is when numeric and it is a plain
 * decimal number (digits, one point, a sign), else d's quote_literal. */
BUF_MUST_USE bool sql_literal(const struct dialect *d, struct buf *b, const char *value,
			      bool numeric);
/* Append SELECT count(*) FROM spec's table WHERE column IS NULL. */
BUF_MUST_USE bool sql_count_null(const struct dialect *d, struct buf *b,
				 const struct write_spec *spec, const char *column);
/* Append DELETE FROM spec's table WHERE key IN (n placeholders), or with
 * soft_col non-NULL UPDATE spec's table SET soft_col = soft_expr WHERE ...
 * AND soft_col IS NULL (a row marked already keeps its mark):
 * soft_expr is the operator's server expression (--soft 'COL=EXPR'), the
 * one text from the command line that goes to a server as SQL. */
BUF_MUST_USE bool sql_delete_keys(const struct dialect *d, struct buf *b,
				  const struct write_spec *spec, const char *key, int n,
				  const char *soft_col, const char *soft_expr);
/* name as d's server can hold it, into out (outsz at least 80): as is when
 * it fits, else cut (on a UTF-8 boundary) and ended with "_" and 8 hex
 * digits of a hash of the whole name, so that two long names that share
 * their beginning stay two. Returns whether it was shortened. */
bool sql_fit_name(const struct dialect *d, const char *name, char *out, size_t outsz);
/* Append ("a", "b", ...) for spec's columns. */
BUF_MUST_USE bool sql_column_list(const struct dialect *d, struct buf *b,
				  const struct write_spec *spec);
/* Append a multi-row INSERT for nrows rows with placeholders for every value. */
BUF_MUST_USE bool sql_insert(const struct dialect *d, struct buf *b, const struct write_spec *spec,
			     size_t nrows);
/* Append TRUNCATE TABLE for spec's table. */
BUF_MUST_USE bool sql_truncate(const struct dialect *d, struct buf *b,
			       const struct write_spec *spec);
/* Append DELETE FROM spec's table, every row: emptying it inside a
 * transaction where TRUNCATE would commit on its own. */
BUF_MUST_USE bool sql_delete_all(const struct dialect *d, struct buf *b,
				 const struct write_spec *spec);
/* Rows one INSERT statement carries for a batch of batch_rows rows: under the
 * placeholder limit, and dividing the batch evenly so full batches reuse one
 * prepared statement. */
size_t sql_rows_per_statement(const struct dialect *d, int ncols, size_t batch_rows);
/* Whether spec's rows go in by the dialect's bulk statement (COPY, LOAD
 * DATA) rather than by INSERT: a bulk method and no conflict to handle
 * (the bulk paths cannot upsert or skip). The one place this is decided. */
bool sql_uses_bulk(const struct write_spec *spec);
/* Whether spec->columns[c] is one of spec's key columns (names compared as
 * d compares them). */
bool sql_is_key_column(const struct dialect *d, const struct write_spec *spec, int c);
/* Whether an upsert of spec sets a column (one not in the key), so that it
 * updates a row already there rather than leaving it. */
bool sql_upsert_sets(const struct dialect *d, const struct write_spec *spec);
/* Append the standard conflict clause (PostgreSQL, SQLite): " ON CONFLICT DO
 * NOTHING" for skip; for update " ON CONFLICT (key) DO UPDATE SET c =
 * <excluded>.c, ..." over the columns not in the key, or DO NOTHING when
 * there is none; nothing otherwise. */
BUF_MUST_USE bool sql_on_conflict(const struct dialect *d, struct buf *b,
				  const struct write_spec *spec, const char *excluded);
/* Split "schema.name" at the first unquoted dot; either may be quoted with
 * double quotes or backticks. Returns false on a malformed name. *schema may
 * be NULL after the call. Both are malloc'd. */
BUF_MUST_USE bool sql_split_table(const char *qualified, char **schema, char **name);
/* Append ident between two q characters, doubling any q inside: the quoting
 * of both dialects, with " or `. False for an empty name. */
BUF_MUST_USE bool sql_quote_with(struct buf *b, const char *ident, char q);

/* The most columns a statement names: MySQL's limit for a table
 * (PostgreSQL's is 1600). Arrays of column indexes are this big, on the
 * stack, rather than sized by the input. */
#define SQL_MAX_COLUMNS 4096

/* Column indexes (into spec->columns) an update sets and matches on: set
 * gets spec->set, or every non-key column; key gets spec->key. Both arrays
 * hold spec->ncols entries; false when a name is not among the columns, or
 * there are more than SQL_MAX_COLUMNS columns, or more keys or columns to
 * set than columns. */
BUF_MUST_USE bool sql_update_columns(const struct write_spec *spec, int *set, int *nset, int *key,
				     int *nkey);
/* Whether column name is one of spec's --add columns. */
bool sql_is_add_column(const struct write_spec *spec, const char *name);
/* Append the assignment of column col to the expression value: "col" =
 * value, or for an --add column "col" = <target>"col" + value
 * (COALESCE(<target>"col", 0) + value with add_null_as_zero), target being
 * a quoted qualifier with its dot ("sluice_t.") or "" for none. */
BUF_MUST_USE bool sql_assign(const struct dialect *d, struct buf *b, const struct write_spec *spec,
			     const char *col, const char *target, const char *value);
/* Append (<target>"a" IS NULL OR ...) over the --add columns among spec's
 * columns: true of a row where a delta met a NULL. Appends FALSE-free
 * "(1 = 0)" when there is none. */
BUF_MUST_USE bool sql_null_adds(const struct dialect *d, struct buf *b,
				const struct write_spec *spec, const char *target);
/* Whether an --add delta can meet a NULL the drivers must refuse: spec adds
 * and NULLs do not count as 0. */
bool sql_checks_null_adds(const struct write_spec *spec);
/* Append UPDATE t SET a = ?, ... WHERE k = ? AND ... (one row; placeholders
 * numbered set columns first, then key columns); for sluice delete DELETE
 * FROM t WHERE k = ? ..., or with --soft UPDATE t SET col = EXPR WHERE ... */
BUF_MUST_USE bool sql_update_row(const struct dialect *d, struct buf *b,
				 const struct write_spec *spec);

/* The statements of --resume's checkpoint table (src/sql/checkpoint_sql.c),
 * appended to b for the table named by table (schema, table); false on out
 * of memory. Its rows are (job, source, first_rec, end_rec, fingerprint,
 * rows_written, committed_at, kind), keyed by (job, source, kind,
 * first_rec); kind 1 is a range of records, 2 a source whole, 3 its table
 * created, and 0 a row of a table an earlier version made, where the two
 * lowest bigints of first_rec were the marks. */
/* The checkpoint table's columns in the order CREATE makes them; a table
 * an older version made has the first 7 or 8 of them. */
extern const char *const sql_checkpoint_columns[];
extern const int sql_checkpoint_ncols;
/* CREATE TABLE IF NOT EXISTS, with d's bytewise_table_options. */
BUF_MUST_USE bool sql_checkpoint_create(const struct dialect *d, struct buf *b,
					const struct write_spec *table);
/* The one ALTER TABLE that gives a table an earlier version made (keyed
 * (job, source, first_rec) by primary key primary_key) its kind column and
 * the key above; false also when d cannot drop a primary key. */
BUF_MUST_USE bool sql_checkpoint_upgrade(const struct dialect *d, struct buf *b,
					 const struct write_spec *table, const char *primary_key);
/* SELECT job, source, first_rec, end_rec, fingerprint, kind of every row. */
BUF_MUST_USE bool sql_checkpoint_rows(const struct dialect *d, struct buf *b,
				      const struct write_spec *table);
/* INSERT of nrows rows: placeholders 7r+1 to 7r+7 of row r (from 0) for
 * job, source, first_rec, end_rec, fingerprint, rows_written, kind. */
BUF_MUST_USE bool sql_checkpoint_claim(const struct dialect *d, struct buf *b,
				       const struct write_spec *table, size_t nrows);
/* SELECT job, source, first_rec of the ranges (kind 1) whose first_rec is
 * first. */
BUF_MUST_USE bool sql_checkpoint_at(const struct dialect *d, struct buf *b,
				    const struct write_spec *table, long long first);
/* SELECT job, source, first_rec, end_rec of the ranges (kind 1) that hold
 * a record of first..last (both in). */
BUF_MUST_USE bool sql_checkpoint_overlap(const struct dialect *d, struct buf *b,
					 const struct write_spec *table, long long first,
					 long long last);
/* DELETE of the rows of kind kind of the job and source given as
 * placeholders 1 and 2 whose first_rec is placeholder 3 to placeholder 4
 * (both in). */
BUF_MUST_USE bool sql_checkpoint_unlock(const struct dialect *d, struct buf *b,
					const struct write_spec *table, int kind);
/* Per job and source, ordered by both: job, source, the ranges, the rows
 * written, 1 when whole, the first and last committed_at; has_kind false
 * for a table an earlier version made (no kind column). */
BUF_MUST_USE bool sql_checkpoint_jobs(const struct dialect *d, struct buf *b,
				      const struct write_spec *table, bool has_kind);
/* DELETE of the rows of the job given as placeholder 1. */
/* copy --incremental's watermark of a job's source (kind 4, one row):
 * unmark deletes it (placeholders: job, source), mark inserts it
 * (job, source, rows_written, mark), in the transaction of the rows it
 * covers. */
BUF_MUST_USE bool sql_checkpoint_unmark(const struct dialect *d, struct buf *b,
					const struct write_spec *table);
BUF_MUST_USE bool sql_checkpoint_mark(const struct dialect *d, struct buf *b,
				      const struct write_spec *table);
/* The one ALTER TABLE that adds the column mark to a checkpoint table
 * made before it had one. */
BUF_MUST_USE bool sql_checkpoint_add_mark(const struct dialect *d, struct buf *b,
					  const struct write_spec *table);
/* SELECT job, source, mark, committed_at of every watermark row. */
BUF_MUST_USE bool sql_checkpoint_marks(const struct dialect *d, struct buf *b,
				       const struct write_spec *table);
BUF_MUST_USE bool sql_checkpoint_forget(const struct dialect *d, struct buf *b,
					const struct write_spec *table);

/* PostgreSQL: UPDATE ... FROM (VALUES ...) RETURNING the ordinal of each row
 * that matched; each VALUES row carries the set values, the key values and
 * its ordinal, cast to the column types given (types[i] for spec->columns[i]). */
bool pg_update_sql(struct buf *b, const struct write_spec *spec, char *const *types, size_t nrows);
/* MySQL: LOAD DATA LOCAL INTO the connection's `sluice#stage` of rows
 * numbered in their first field (`sluice#ord`), then spec's columns: the
 * key columns (indexes key) staged, the others read into a variable. */
BUF_MUST_USE bool mysql_stage_load_sql(struct buf *b, const struct write_spec *spec, const int *key,
				       int nkey);
/* PostgreSQL: (re)create the transaction's staging table of a delete's keys,
 * pg_temp."sluice#keys" (n int, c1 text, ... cN text), dropped at COMMIT. */
BUF_MUST_USE bool pg_keys_stage_sql(struct buf *b, int ncols);
/* PostgreSQL: sluice delete (or --soft) of the keys staged in
 * pg_temp."sluice#keys", one statement returning the staged row's n once
 * per row it deleted (a key absent from the result matched nothing). */
BUF_MUST_USE bool pg_delete_staged_sql(struct buf *b, const struct write_spec *spec,
				       char *const *types);

/* The dialects' types (src/sql/pg_types.c, mysql_types.c), reached
 * through their type_classify and type_name. */
bool pg_type_classify(const char *text, const struct column_desc *col, struct sql_type *out);
bool pg_type_name(const struct sql_type *t, const struct type_use *use, struct type_naming *out);
bool mysql_type_classify(const char *text, const struct column_desc *col, struct sql_type *out);
bool mysql_type_name(const struct sql_type *t, const struct type_use *use, struct type_naming *out);

/* SQLite's (src/sql/sqlite.c): its declared types by the affinity rules,
 * keeping the meaning of the names applications declare; the names it
 * gives keep every value as that value (a decimal as DECIMAL TEXT). */
bool sqlite_type_classify(const char *text, const struct column_desc *col, struct sql_type *out);
bool sqlite_type_name(const struct sql_type *t, const struct type_use *use,
		      struct type_naming *out);
/* SQLite's column affinity of a declared type (datatype3.html, 3.1: INT,
 * then CHAR/CLOB/TEXT, then BLOB or no type, then REAL/FLOA/DOUB, else
 * NUMERIC): how SQLite converts a value stored in the column. */
enum sqlite_affinity {
	SQLITE_AFF_BLOB = 0,
	SQLITE_AFF_TEXT,
	SQLITE_AFF_NUMERIC,
	SQLITE_AFF_INTEGER,
	SQLITE_AFF_REAL,
};
enum sqlite_affinity sqlite_affinity(const char *declared);
/* SQLite's side of verify: expressions over the functions its driver
 * registers (sluice_canon, sluice_md5, sluice_checksum). */
BUF_MUST_USE bool sqlite_canon_value(struct buf *b, const char *col, const struct sql_type *t,
				     const struct canon_spec *how);
BUF_MUST_USE bool sqlite_checksum_query(struct buf *b, const struct write_spec *spec,
					const char *const *values, int n);

/* The dialects' canonical text and checksums for verify
 * (src/sql/pg_verify.c, mysql_verify.c), reached through their ops. */
bool pg_canon_value(struct buf *b, const char *col, const struct sql_type *t,
		    const struct canon_spec *how);
bool mysql_canon_value(struct buf *b, const char *col, const struct sql_type *t,
		       const struct canon_spec *how);
enum sql_kind pg_compare_as(const struct sql_type *t);
bool pg_checksum_query(struct buf *b, const struct write_spec *spec, const char *const *values,
		       int n);
bool mysql_checksum_query(struct buf *b, const struct write_spec *spec, const char *const *values,
			  int n);

/* MySQL: read the string literal at *p (its opening quote) up to end into
 * b, undoing '' and backslash escapes (\% and \_ stay two characters);
 * *p moves past the closing quote. False when it is not one. */
bool mysql_read_string(const char **p, const char *end, struct buf *b);
/* MySQL: append s (n bytes) as a string literal, with the backslash
 * escapes sluice's sessions have on. */
bool mysql_quote_string(struct buf *b, const char *s, size_t n);

/* The value conversion (convert.h) of a MySQL column of COLUMN_TYPE text
 * column_type (any case), and what it keeps exactly; what a PostgreSQL
 * column (format_type text) keeps exactly. For the drivers, by their
 * columns' text: each classifies it and asks convert.h. */
enum convert_kind convert_kind_for_mysql(const char *column_type);
int convert_exact_rule_for_mysql(const char *column_type);
int convert_exact_rule_for_pg(const char *column_type);

/* MySQL: LOAD DATA LOCAL INFILE of rows as CSV text in this delimiter and
 * quote (ASCII): doubled quotes, no escapes, the unquoted word NULL for NULL. */
BUF_MUST_USE bool mysql_load_csv_sql(struct buf *b, const struct write_spec *spec, char delim,
				     char quote);
/* PostgreSQL: COPY "t" ("a", ...) FROM STDIN (pg_dialect.bulk_load). */
bool pg_copy_sql(struct buf *b, const struct write_spec *spec);
/* COPY ... FROM STDIN (FORMAT csv) with this delimiter and quote (ASCII). */
bool pg_copy_csv_sql(struct buf *b, const struct write_spec *spec, char delim, char quote);
/* PostgreSQL COPY text format: append one value escaped (\N for NULL). */
bool pg_copy_escape(struct buf *b, const char *s, size_t len);

#endif
