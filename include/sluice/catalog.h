/* include/sluice/catalog.h
 * The catalog model: what a server says about its tables, columns, types,
 * indexes, keys and constraints, in one description that each driver fills
 * from its own catalog and that copy, verify and --create read. Plain data
 * and the helpers that build and free it; no I/O, no SQL.
 */
#ifndef SLUICE_CATALOG_H
#define SLUICE_CATALOG_H

#include <stdbool.h>

struct column_desc {
	char *name;
	/* the server's type text, lower case except what names a value: enum
	 * and set labels keep their exact case ("enum('G','PG')",
	 * "int(10) unsigned", "character varying(20)", "double precision") */
	char *type;
	/* PostgreSQL: the type without its modifier ("character varying"),
	 * what a value is cast to so that assigning it to the column checks
	 * the modifier (too long is an error) instead of cutting it; NULL on
	 * MySQL */
	char *base_type;
	/* PostgreSQL, a column of a domain (not an array of one): the built-in
	 * type its values are, with the modifier the domain gives it, through
	 * domains over domains ("numeric(6,2)"); what is stored exactly is
	 * that type's business. NULL otherwise: column_value_type() */
	char *value_type;
	/* PostgreSQL, a column of an array of a domain: the built-in array
	 * type its values are ("numeric(6,2)[]"), else NULL */
	char *array_value_type;
	bool nullable;
	bool has_default;
	/* filled by describe_full for copy (NULL / false where not known): */
	char *default_expr; /* the default as the server shows it: 'abc', 0,
			     * CURRENT_TIMESTAMP, now(), nextval('s'::regclass) */
	char *on_update;    /* MySQL ON UPDATE expression (current_timestamp()) */
	bool identity;	    /* AUTO_INCREMENT, or a PostgreSQL identity or serial */
	char *generated;    /* a generated column's expression, or NULL */
	char *charset;	    /* MySQL: the column's character set, NULL when none */
	char *collation;    /* the column's collation when it is not the default */
	bool folds_case;    /* describe_table: its values compare ignoring case
			     * (PostgreSQL citext, a nondeterministic collation;
			     * SQLite NOCASE, and RTRIM's trailing spaces) */
	/* A user-defined type (PostgreSQL enum or domain): its name, NULL for a
	 * built-in type. An enum has its labels (exact case, in order); a
	 * domain its base type (format_type text), whether it forbids NULL, and
	 * its CHECK expressions joined by AND, written with VALUE. MySQL enum
	 * and set columns have their labels too (udt NULL). */
	char *udt;
	char udt_kind; /* 'e' enum, 'd' domain, 0 none */
	int nlabels;
	char **labels;
	char *domain_base;
	bool domain_not_null;
	char *domain_check;
	char *domain_default; /* the domain's DEFAULT expression, NULL for none */
};

/* The type c's values are: a domain's built-in type (or an array of
 * it), else c's own. */
static inline const char *column_value_type(const struct column_desc *c)
{
	return c->value_type ? c->value_type : c->array_value_type ? c->array_value_type : c->type;
}

/* Any index of a table (for copy --create). */
struct index_desc {
	char *name;
	bool unique;
	bool primary;
	char *method;	 /* "btree", "hash", "gin", "fulltext", "spatial", ... */
	bool expression; /* on an expression, or partial: cannot be carried */
	bool exclusion;	 /* PostgreSQL EXCLUDE constraint: not an index to copy */
	/* PostgreSQL, for the same server: the index as pg_get_indexdef() prints
	 * it after its table ("USING btree (lower(a)) WHERE ..."); an EXCLUDE
	 * constraint's pg_get_constraintdef() ("EXCLUDE USING gist (...)") */
	char *definition;
	int ncols;
	char **cols;
	int *prefix; /* MySQL prefix length of each column, 0 for the whole value */
};

/* A foreign key. */
struct fkey_desc {
	char *name;
	int ncols;
	char **cols;
	char *ref_schema; /* NULL: the same schema/database */
	char *ref_table;
	char **ref_cols;
	char *on_delete; /* "CASCADE", "SET NULL", ... or "NO ACTION" */
	char *on_update;
	/* PostgreSQL: the whole definition as pg_get_constraintdef prints it
	 * (MATCH, DEFERRABLE too), for the same server to make again; NULL
	 * elsewhere */
	char *definition;
};

/* A CHECK constraint of a table, as the server prints its expression. */
struct check_desc {
	char *name;
	char *expr;
};

/* A primary key or unique index: what decides a conflict. Expression and
 * partial indexes are left out (no conflict can be inferred from them). */
struct unique_key {
	char *name;
	bool primary;
	int ncols;
	char **cols;
};

struct table_desc {
	bool exists;
	int ncols;
	struct column_desc *cols;
	int nunique;
	struct unique_key *unique;
	/* the bulk path is slow into this table (PostgreSQL: a foreign table, or
	 * foreign partitions, which COPY feeds row by row): prefer INSERT */
	bool bulk_is_slow;
	/* the server refuses the bulk path (MySQL with local_infile off) */
	bool bulk_refused;
	/* PostgreSQL: other tables inherit from this one (not partitions): its
	 * own rows are read with ONLY, the children's are theirs */
	bool has_children;
	char *parent; /* PostgreSQL: the table it inherits from, NULL when none */
	/* indexes (all, primary and unique too), foreign keys and CHECKs: filled
	 * only by describe_full */
	int nindexes;
	struct index_desc *indexes;
	int nfkeys;
	struct fkey_desc *fkeys;
	int nchecks;
	struct check_desc *checks;
	unsigned long long rows_estimate; /* the catalog's guess, 0 when none */
	bool rows_estimated;		  /* the catalog has a guess at all (analyzed) */
};

/* What a source database holds, for copy: its base tables, and what copy
 * cannot carry (views, triggers, routines, rules...), listed in a warning. */
struct schema_desc {
	int ntables;
	char **tables;
	int nviews;
	char **views;
	int ntriggers;
	char **triggers; /* "table.trigger" */
	int nobjects;
	char **objects; /* anything else not copied: "function f(integer)",
			 * "procedure p", "rule r on t", "aggregate a(text)" */
};

void table_desc_free(struct table_desc *t);
void schema_desc_free(struct schema_desc *s);
/* Append a copy of name to a malloc'd list; false on out of memory. */
bool names_add(char ***names, int *n, const char *name);
/* Append an index / a foreign key / a CHECK to t (copies everything); false
 * on out of memory, with t still valid for table_desc_free. An index's
 * prefix and definition are set by the caller afterwards (malloc'd, freed
 * with t). */
bool table_desc_add_index(struct table_desc *t, const char *name, bool unique, bool primary,
			  const char *method, bool expression, char *const *cols, int ncols);
bool table_desc_add_fkey(struct table_desc *t, const char *name, char *const *cols,
			 const char *ref_schema, const char *ref_table, char *const *ref_cols,
			 int ncols, const char *on_delete, const char *on_update);
bool table_desc_add_check(struct table_desc *t, const char *name, const char *expr);
/* Which event of fk sets its columns to NULL: "DELETE" (ON DELETE SET
 * NULL, asked first), "UPDATE", or NULL when neither does. */
const char *fkey_set_null_event(const struct fkey_desc *fk);
/* Append a unique key to t (copies name and cols); false on out of memory,
 * with t still valid for table_desc_free. */
bool table_desc_add_unique(struct table_desc *t, const char *name, bool primary, char *const *cols,
			   int ncols);
/* The primary key of t as an index, or NULL. */
const struct index_desc *table_desc_primary(const struct table_desc *t);
/* The column named name, or NULL. */
const struct column_desc *table_desc_column(const struct table_desc *t, const char *name);

#endif
