/* src/db/pg_catalog.c
 * PostgreSQL catalog reads: tables, schemas, keys, indexes, a query's columns.
 */
#include <libpq-fe.h>
#include <stdlib.h>
#include <string.h>

#include "sluice/pg_internal.h"

/* Run q with params; false with err unless it returns rows. *res is the
 * caller's to PQclear. */
bool pg_query_rows(struct conn *c, const char *q, int nparams, const char *const *params,
		   const char *what, PGresult **res, struct sl_error *err)
{
	*res = pg_run_params(c, q, nparams, params);
	if (PQresultStatus(*res) == PGRES_TUPLES_OK)
		return true;
	pg_fail(c, *res, what, err);
	PQclear(*res);
	*res = NULL;
	return false;
}

/* Add the table's primary key and unique indexes (not partial, not on
 * expressions) to out, columns in index order. */
static bool describe_unique(struct conn *c, const char *table, struct table_desc *out,
			    struct sl_error *err)
{
	const char *q =
		"SELECT ic.relname, i.indisprimary, a.attname, k.ord = 1 "
		"FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid "
		"CROSS JOIN LATERAL unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord) "
		"JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum "
		"WHERE i.indrelid = to_regclass($1) AND i.indisunique AND i.indpred IS NULL "
		"AND i.indexprs IS NULL ORDER BY ic.relname, k.ord";
	const char *params[1] = {table};
	PGresult *res;
	if (!pg_query_rows(c, q, 1, params, "describing table", &res, err))
		return false;
	int n = PQntuples(res);
	char **cols = calloc((size_t)(n ? n : 1), sizeof *cols);
	bool ok = cols != NULL;
	for (int i = 0; ok && i < n;) {
		int k = 0;
		do {
			cols[k] = PQgetvalue(res, i + k, 2);
			k++;
		} while (i + k < n && PQgetvalue(res, i + k, 3)[0] != 't');
		ok = table_desc_add_unique(out, PQgetvalue(res, i, 0),
					   PQgetvalue(res, i, 1)[0] == 't', cols, k);
		i += k;
	}
	free(cols);
	PQclear(res);
	if (!ok) {
		table_desc_free(out);
		return sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
	}
	return true;
}

/* The table among its relatives: whether it or any partition under it is
 * a foreign table (COPY into postgres_fdw sends one row per remote INSERT,
 * while a multi-row INSERT goes out in the foreign server's batch_size);
 * whether other tables inherit from it (not as partitions: those are read
 * through their parent); the table it inherits from itself. */
static bool describe_relatives(struct conn *c, const char *table, struct table_desc *out,
			       struct sl_error *err)
{
	const char *q =
		"WITH RECURSIVE parts(oid) AS (SELECT to_regclass($1)::oid UNION ALL "
		"SELECT i.inhrelid FROM pg_inherits i JOIN parts p ON i.inhparent = p.oid) "
		"SELECT EXISTS (SELECT 1 FROM parts JOIN pg_class r ON r.oid = parts.oid "
		"WHERE r.relkind = 'f'), "
		"EXISTS (SELECT 1 FROM pg_inherits i JOIN pg_class ch ON ch.oid = i.inhrelid "
		"WHERE i.inhparent = to_regclass($1) AND NOT ch.relispartition), "
		"(SELECT p.relname FROM pg_inherits i JOIN pg_class p ON p.oid = i.inhparent "
		"JOIN pg_class me ON me.oid = i.inhrelid WHERE i.inhrelid = to_regclass($1) "
		"AND NOT me.relispartition ORDER BY i.inhseqno LIMIT 1)";
	const char *params[1] = {table};
	PGresult *res;
	if (!pg_query_rows(c, q, 1, params, "describing table", &res, err)) {
		table_desc_free(out);
		return false;
	}
	out->bulk_is_slow = PQgetvalue(res, 0, 0)[0] == 't';
	out->has_children = PQgetvalue(res, 0, 1)[0] == 't';
	bool ok = PQgetisnull(res, 0, 2) || (out->parent = strdup(PQgetvalue(res, 0, 2)));
	PQclear(res);
	if (!ok) {
		table_desc_free(out);
		return sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
	}
	return true;
}

bool pg_describe_table(struct conn *c, const struct write_spec *spec, struct table_desc *out,
		       struct sl_error *err)
{
	memset(out, 0, sizeof *out);
	buf_reset(&c->sql);
	if (!sql_table_name(&pg_dialect, &c->sql, spec))
		return sl_error_set(err, SL_ERR_USAGE, "bad table name");
	const char *q = "SELECT a.attname, format_type(a.atttypid, a.atttypmod), NOT a.attnotnull, "
			/* the bare "bit" and "character" read as bit(1) and
			 * character(1): bit varying and bpchar keep the whole
			 * value for the column to check */
			"a.atthasdef, CASE a.atttypid WHEN 'bit'::regtype THEN 'bit varying' "
			"WHEN 'bit[]'::regtype THEN 'bit varying[]' WHEN 'bpchar'::regtype THEN "
			"'bpchar' WHEN 'bpchar[]'::regtype THEN 'bpchar[]' "
			"ELSE format_type(a.atttypid, NULL) END, "
			/* values one key though their bytes differ: citext, and
			 * a nondeterministic collation (PostgreSQL 12 and later) */
			"EXISTS (SELECT 1 FROM pg_type t WHERE t.oid = a.atttypid AND "
			"t.typname = 'citext')%s, "
			/* a domain's built-in type with the modifier the
			 * innermost domain gives it; for an array of a domain,
			 * an array of that type */
			"(WITH RECURSIVE b(oid, mod, depth, arr) AS (SELECT t.typbasetype, "
			"t.typtypmod, 1, false FROM pg_type t WHERE t.oid = a.atttypid AND "
			"t.typtype = 'd' UNION ALL SELECT e.typbasetype, e.typtypmod, 1, true "
			"FROM pg_type t JOIN pg_type e ON e.oid = t.typelem WHERE t.oid = "
			"a.atttypid AND t.typcategory = 'A' AND e.typtype = 'd' UNION ALL "
			"SELECT bt.typbasetype, bt.typtypmod, b.depth + 1, b.arr FROM b "
			"JOIN pg_type bt ON bt.oid = b.oid WHERE bt.typtype = 'd' AND "
			"b.depth < 32) SELECT format_type(oid, mod) || CASE WHEN arr THEN "
			"'[]' ELSE '' END FROM b ORDER BY depth DESC LIMIT 1) "
			"FROM pg_attribute a WHERE a.attrelid = to_regclass($1) AND a.attnum > 0 "
			"AND NOT a.attisdropped ORDER BY a.attnum";
	const char *nondet = " OR EXISTS (SELECT 1 FROM pg_collation co WHERE co.oid = "
			     "a.attcollation AND NOT co.collisdeterministic)";
	char query[3000];
	snprintf(query, sizeof query, q, PQserverVersion(c->pg) >= 120000 ? nondet : "");
	q = query;
	const char *params[1] = {c->sql.data};
	PGresult *res;
	if (!pg_query_rows(c, q, 1, params, "describing table", &res, err))
		return false;
	int n = PQntuples(res);
	out->exists = n > 0;
	out->cols = n ? calloc((size_t)n, sizeof *out->cols) : NULL;
	for (int i = 0; i < n && out->cols; i++) {
		out->cols[i].name = strdup(PQgetvalue(res, i, 0));
		out->cols[i].type = strdup(PQgetvalue(res, i, 1));
		out->cols[i].nullable = PQgetvalue(res, i, 2)[0] == 't';
		out->cols[i].has_default = PQgetvalue(res, i, 3)[0] == 't';
		out->cols[i].base_type = strdup(PQgetvalue(res, i, 4));
		out->cols[i].folds_case = PQgetvalue(res, i, 5)[0] == 't';
		if (!PQgetisnull(res, i, 6)) {
			/* an array of a domain is no domain column: apart */
			const char *v = PQgetvalue(res, i, 6);
			size_t n = strlen(v), tn = strlen(out->cols[i].type);
			bool domains_array = n > 2 && !strcmp(v + n - 2, "[]") && tn > 2 &&
					     !strcmp(out->cols[i].type + tn - 2, "[]");
			if (domains_array)
				out->cols[i].array_value_type = strdup(v);
			else
				out->cols[i].value_type = strdup(v);
		}
		out->ncols = i + 1;
	}
	PQclear(res);
	if (n && !out->cols)
		return sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
	return !out->exists || (describe_unique(c, params[0], out, err) &&
				describe_relatives(c, params[0], out, err));
}

bool pg_describe_schema(struct conn *c, const char *schema, struct schema_desc *out,
			struct sl_error *err)
{
	memset(out, 0, sizeof *out);
	const char *params[1] = {schema && *schema ? schema : "public"};
	static const char *const queries[4] = {
		/* base tables; a partition is copied through its parent */
		"SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
		"WHERE n.nspname = $1 AND c.relkind IN ('r', 'p') AND NOT c.relispartition ORDER "
		"BY 1",
		"SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
		"WHERE n.nspname = $1 AND c.relkind IN ('v', 'm') ORDER BY 1",
		"SELECT c.relname || '.' || t.tgname FROM pg_trigger t JOIN pg_class c ON c.oid = "
		"t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND "
		"NOT t.tgisinternal ORDER BY 1",
		/* what else copy leaves behind: routines (not an extension's),
		 * rules, sequences that no column owns or takes its default from
		 * (those become the target's identity) */
		"SELECT CASE p.prokind WHEN 'a' THEN 'aggregate ' WHEN 'p' THEN 'procedure ' "
		"WHEN 'w' THEN 'window function ' ELSE 'function ' END || p.proname || '(' || "
		"pg_get_function_identity_arguments(p.oid) || ')' FROM pg_proc p JOIN pg_namespace n "
		"ON n.oid = p.pronamespace WHERE n.nspname = $1 AND NOT EXISTS (SELECT 1 FROM "
		"pg_depend d WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND "
		"d.deptype = 'e') "
		"UNION ALL SELECT 'rule ' || r.rulename || ' on ' || r.tablename FROM pg_rules r "
		"WHERE r.schemaname = $1 "
		"UNION ALL SELECT 'sequence ' || c.relname FROM pg_class c JOIN pg_namespace n ON "
		"n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relkind = 'S' AND NOT EXISTS "
		"(SELECT 1 FROM pg_depend d WHERE (d.classid = 'pg_attrdef'::regclass AND "
		"d.refclassid = 'pg_class'::regclass AND d.refobjid = c.oid) OR (d.classid = "
		"'pg_class'::regclass AND d.objid = c.oid AND d.deptype IN ('a', 'i', 'e'))) ORDER BY 1",
	};
	char ***lists[4] = {&out->tables, &out->views, &out->triggers, &out->objects};
	int *counts[4] = {&out->ntables, &out->nviews, &out->ntriggers, &out->nobjects};
	for (int q = 0; q < 4; q++) {
		PGresult *res;
		if (!pg_query_rows(c, queries[q], 1, params, "listing tables", &res, err)) {
			schema_desc_free(out);
			return false;
		}
		bool ok = true;
		for (int i = 0; ok && i < PQntuples(res); i++)
			ok = names_add(lists[q], counts[q], PQgetvalue(res, i, 0));
		PQclear(res);
		if (!ok) {
			schema_desc_free(out);
			return sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
		}
	}
	return true;
}

/* Defaults, identity and generated expressions of out's columns. */
static bool describe_columns_full(struct conn *c, const char *table, struct table_desc *out,
				  struct sl_error *err)
{
	const char *q =
		"SELECT a.attname, CASE WHEN a.attgenerated = '' THEN pg_get_expr(d.adbin, "
		"d.adrelid) END, "
		"a.attidentity <> '' OR coalesce(pg_get_expr(d.adbin, d.adrelid) LIKE "
		"'nextval(%', false), "
		"CASE WHEN a.attgenerated <> '' THEN pg_get_expr(d.adbin, d.adrelid) END "
		"FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND "
		"d.adnum = a.attnum WHERE a.attrelid = to_regclass($1) AND a.attnum > 0 AND NOT "
		"a.attisdropped "
		"ORDER BY a.attnum";
	const char *params[1] = {table};
	PGresult *res;
	if (!pg_query_rows(c, q, 1, params, "describing columns", &res, err))
		return false;
	bool ok = true;
	for (int i = 0; ok && i < PQntuples(res) && i < out->ncols; i++) {
		struct column_desc *col = &out->cols[i];
		if (!PQgetisnull(res, i, 1))
			ok = (col->default_expr = strdup(PQgetvalue(res, i, 1))) != NULL;
		col->identity = PQgetvalue(res, i, 2)[0] == 't';
		if (ok && !PQgetisnull(res, i, 3))
			ok = (col->generated = strdup(PQgetvalue(res, i, 3))) != NULL;
	}
	PQclear(res);
	return ok ? true : sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
}

/* The column named name in out, or NULL. */
static struct column_desc *column_named(struct table_desc *out, const char *name)
{
	for (int i = 0; i < out->ncols; i++)
		if (!strcmp(out->cols[i].name, name))
			return &out->cols[i];
	return NULL;
}

/* The enum types and domains of out's columns (of an array's elements
 * too): the type's name; an enum's labels in their order; a domain's base
 * type with its modifier, NOT NULL, its CHECKs joined by AND (written with
 * VALUE) and its default. */
static bool describe_user_types(struct conn *c, const char *table, struct table_desc *out,
				struct sl_error *err)
{
	const char *q =
		"SELECT a.attname, t.typname, t.typtype, CASE WHEN t.typtype = 'd' THEN "
		"format_type(t.typbasetype, t.typtypmod) END, t.typnotnull, "
		"(SELECT CASE WHEN count(*) > 1 THEN string_agg('(' || x.e || ')', ' AND ' ORDER BY "
		"x.n) ELSE min(x.e) END FROM (SELECT k.oid AS n, substring(pg_get_constraintdef("
		"k.oid) from '^CHECK \\((.*)\\)') AS e FROM pg_constraint k WHERE k.contypid = t.oid "
		"AND k.contype = 'c') x), CASE WHEN t.typdefaultbin IS NOT NULL THEN "
		"pg_get_expr(t.typdefaultbin, 0) END, e.enumlabel "
		"FROM pg_attribute a JOIN pg_type at ON at.oid = a.atttypid "
		"JOIN pg_type t ON t.oid = CASE WHEN at.typtype = 'b' AND at.typcategory = 'A' AND "
		"at.typelem <> 0 THEN at.typelem ELSE at.oid END "
		"LEFT JOIN pg_enum e ON e.enumtypid = t.oid "
		"WHERE a.attrelid = to_regclass($1) AND a.attnum > 0 AND NOT a.attisdropped "
		"AND t.typtype IN ('e', 'd') ORDER BY a.attnum, e.enumsortorder";
	const char *params[1] = {table};
	PGresult *res;
	if (!pg_query_rows(c, q, 1, params, "describing column types", &res, err))
		return false;
	bool ok = true;
	for (int i = 0; ok && i < PQntuples(res); i++) {
		struct column_desc *col = column_named(out, PQgetvalue(res, i, 0));
		if (!col)
			continue;
		if (!col->udt) {
			col->udt_kind = PQgetvalue(res, i, 2)[0];
			col->domain_not_null = PQgetvalue(res, i, 4)[0] == 't';
			ok = (col->udt = strdup(PQgetvalue(res, i, 1))) != NULL;
			char **fields[] = {&col->domain_base, &col->domain_check,
					   &col->domain_default};
			int at[] = {3, 5, 6};
			for (int f = 0; ok && f < 3; f++)
				if (!PQgetisnull(res, i, at[f]))
					ok = (*fields[f] = strdup(PQgetvalue(res, i, at[f]))) !=
					     NULL;
		}
		if (ok && !PQgetisnull(res, i, 7))
			ok = names_add(&col->labels, &col->nlabels, PQgetvalue(res, i, 7));
	}
	PQclear(res);
	return ok ? true : sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
}

/* The table's CHECK constraints, by name: the expression inside CHECK (...)
 * as pg_get_constraintdef prints it (NOT VALID and NO INHERIT left out). */
static bool describe_checks(struct conn *c, const char *table, struct table_desc *out,
			    struct sl_error *err)
{
	const char *q = "SELECT conname, substring(pg_get_constraintdef(oid) from "
			"'^CHECK \\((.*)\\)') FROM pg_constraint WHERE conrelid = to_regclass($1) "
			"AND contype = 'c' ORDER BY conname";
	const char *params[1] = {table};
	PGresult *res;
	if (!pg_query_rows(c, q, 1, params, "describing CHECK constraints", &res, err))
		return false;
	bool ok = true;
	for (int i = 0; ok && i < PQntuples(res); i++)
		if (!PQgetisnull(res, i, 1))
			ok = table_desc_add_check(out, PQgetvalue(res, i, 0),
						  PQgetvalue(res, i, 1));
	PQclear(res);
	return ok ? true : sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
}

/* Every index of the table, columns in order; an expression part makes the
 * index one that cannot be carried across servers. Its definition, for a
 * PostgreSQL target: pg_get_indexdef() after the table's name ("USING
 * btree (lower(a)) WHERE ..."), or an EXCLUDE constraint's
 * pg_get_constraintdef(). */
static bool describe_indexes(struct conn *c, const char *table, struct table_desc *out,
			     struct sl_error *err)
{
	const char *q =
		"SELECT ic.relname, i.indisunique, i.indisprimary, am.amname, "
		"i.indexprs IS NOT NULL OR i.indpred IS NOT NULL OR k.attnum = 0, "
		"coalesce(a.attname, ''), k.ord = 1, i.indisexclusion, "
		"CASE WHEN i.indisexclusion THEN (SELECT pg_get_constraintdef(x.oid) FROM "
		"pg_constraint x WHERE x.conindid = i.indexrelid AND x.contype = 'x' LIMIT 1) "
		"WHEN left(d.def, length(d.pre)) = d.pre THEN substr(d.def, length(d.pre) + 1) "
		"WHEN left(d.def, length(d.pre_only)) = d.pre_only THEN "
		"substr(d.def, length(d.pre_only) + 1) END "
		"FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid "
		"JOIN pg_am am ON am.oid = ic.relam JOIN pg_class tc ON tc.oid = i.indrelid "
		"JOIN pg_namespace n ON n.oid = tc.relnamespace "
		"CROSS JOIN LATERAL (SELECT pg_get_indexdef(i.indexrelid) AS def, 'CREATE ' || "
		"CASE WHEN i.indisunique THEN 'UNIQUE ' ELSE '' END || 'INDEX ' || "
		"quote_ident(ic.relname) || ' ON ' AS head, quote_ident(n.nspname) || '.' || "
		"quote_ident(tc.relname) || ' ' AS tail) h "
		"CROSS JOIN LATERAL (SELECT h.def, h.head || h.tail AS pre, h.head || 'ONLY ' || "
		"h.tail AS pre_only) d "
		"CROSS JOIN LATERAL unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord) "
		"LEFT JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum "
		"WHERE i.indrelid = to_regclass($1) AND k.ord <= i.indnkeyatts "
		"ORDER BY ic.relname, k.ord";
	const char *params[1] = {table};
	PGresult *res;
	if (!pg_query_rows(c, q, 1, params, "describing indexes", &res, err))
		return false;
	int n = PQntuples(res);
	char **cols = calloc((size_t)(n ? n : 1), sizeof *cols);
	bool ok = cols != NULL;
	for (int i = 0; ok && i < n;) {
		int k = 0;
		bool expr = false;
		do {
			cols[k] = PQgetvalue(res, i + k, 5);
			expr |= PQgetvalue(res, i + k, 4)[0] == 't';
			k++;
		} while (i + k < n && PQgetvalue(res, i + k, 6)[0] != 't');
		ok = table_desc_add_index(
			out, PQgetvalue(res, i, 0), PQgetvalue(res, i, 1)[0] == 't',
			PQgetvalue(res, i, 2)[0] == 't', PQgetvalue(res, i, 3), expr, cols, k);
		if (ok) {
			struct index_desc *x = &out->indexes[out->nindexes - 1];
			x->exclusion = PQgetvalue(res, i, 7)[0] == 't';
			if (!PQgetisnull(res, i, 8))
				ok = (x->definition = strdup(PQgetvalue(res, i, 8))) != NULL;
		}
		i += k;
	}
	free(cols);
	PQclear(res);
	return ok ? true : sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
}

/* The table's foreign keys, columns in order. */
static bool describe_fkeys(struct conn *c, const char *table, struct table_desc *out,
			   struct sl_error *err)
{
	const char *q =
		"SELECT con.conname, a.attname, rn.nspname, rc.relname, ra.attname, "
		"CASE con.confdeltype WHEN 'c' THEN 'CASCADE' WHEN 'n' THEN 'SET NULL' WHEN 'd' "
		"THEN 'SET DEFAULT' WHEN 'r' THEN 'RESTRICT' ELSE 'NO ACTION' END, "
		"CASE con.confupdtype WHEN 'c' THEN 'CASCADE' WHEN 'n' THEN 'SET NULL' WHEN 'd' "
		"THEN 'SET DEFAULT' WHEN 'r' THEN 'RESTRICT' ELSE 'NO ACTION' END, k.ord = 1, "
		"rn.nspname = n.nspname, pg_get_constraintdef(con.oid) "
		"FROM pg_constraint con JOIN pg_class t ON t.oid = con.conrelid "
		"JOIN pg_namespace n ON n.oid = t.relnamespace "
		"JOIN pg_class rc ON rc.oid = con.confrelid JOIN pg_namespace rn ON rn.oid = "
		"rc.relnamespace "
		"CROSS JOIN LATERAL unnest(con.conkey, con.confkey) WITH ORDINALITY AS k(att, fatt, ord) "
		"JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.att "
		"JOIN pg_attribute ra ON ra.attrelid = con.confrelid AND ra.attnum = k.fatt "
		"WHERE con.contype = 'f' AND con.conrelid = to_regclass($1) ORDER BY con.conname, "
		"k.ord";
	const char *params[1] = {table};
	PGresult *res;
	if (!pg_query_rows(c, q, 1, params, "describing foreign keys", &res, err))
		return false;
	int n = PQntuples(res);
	char **cols = calloc((size_t)(n ? n : 1), sizeof *cols);
	char **refs = calloc((size_t)(n ? n : 1), sizeof *refs);
	bool ok = cols && refs;
	for (int i = 0; ok && i < n;) {
		int k = 0;
		do {
			cols[k] = PQgetvalue(res, i + k, 1);
			refs[k] = PQgetvalue(res, i + k, 4);
			k++;
		} while (i + k < n && PQgetvalue(res, i + k, 7)[0] != 't');
		bool same_schema = PQgetvalue(res, i, 8)[0] == 't';
		ok = table_desc_add_fkey(out, PQgetvalue(res, i, 0), cols,
					 same_schema ? NULL : PQgetvalue(res, i, 2),
					 PQgetvalue(res, i, 3), refs, k, PQgetvalue(res, i, 5),
					 PQgetvalue(res, i, 6));
		if (ok)
			ok = (out->fkeys[out->nfkeys - 1].definition =
				      strdup(PQgetvalue(res, i, 9))) != NULL;
		i += k;
	}
	free(cols);
	free(refs);
	PQclear(res);
	return ok ? true : sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
}

/* The catalog's row count guess (reltuples; a partitioned table's is the
 * sum of its leaf partitions'). A table never analyzed has none: reltuples
 * is -1 from PostgreSQL 14 on, 0 with no pages before it. */
static bool describe_estimate(struct conn *c, const char *table, struct table_desc *out,
			      struct sl_error *err)
{
	const char *q =
		"WITH RECURSIVE parts(oid) AS (SELECT to_regclass($1)::oid UNION ALL "
		"SELECT i.inhrelid FROM pg_inherits i JOIN parts p ON i.inhparent = p.oid "
		"JOIN pg_class ch ON ch.oid = i.inhrelid WHERE ch.relispartition) "
		"SELECT coalesce(sum(greatest(r.reltuples, 0)), 0)::bigint, "
		"coalesce(bool_and(r.reltuples > 0 OR (r.reltuples = 0 AND "
		"(current_setting('server_version_num')::int >= 140000 OR r.relpages > 0))), "
		"false) FROM parts JOIN pg_class r ON r.oid = parts.oid WHERE r.relkind <> 'p'";
	const char *params[1] = {table};
	PGresult *res;
	if (!pg_query_rows(c, q, 1, params, "describing table", &res, err))
		return false;
	out->rows_estimated = PQntuples(res) == 1 && PQgetvalue(res, 0, 1)[0] == 't';
	out->rows_estimate = out->rows_estimated ? strtoull(PQgetvalue(res, 0, 0), NULL, 10) : 0;
	PQclear(res);
	return true;
}

bool pg_describe_full(struct conn *c, const struct write_spec *spec, struct table_desc *out,
		      struct sl_error *err)
{
	if (!pg_describe_table(c, spec, out, err))
		return false;
	if (!out->exists)
		return true;
	struct buf name;
	buf_init(&name, 0);
	if (!sql_table_name(&pg_dialect, &name, spec)) {
		table_desc_free(out);
		buf_free(&name);
		return sl_error_set(err, SL_ERR_USAGE, "bad table name");
	}
	bool ok = describe_columns_full(c, name.data, out, err) &&
		  describe_indexes(c, name.data, out, err) &&
		  describe_fkeys(c, name.data, out, err) &&
		  describe_user_types(c, name.data, out, err) &&
		  describe_checks(c, name.data, out, err) &&
		  describe_estimate(c, name.data, out, err);
	buf_free(&name);
	if (!ok)
		table_desc_free(out);
	return ok;
}

bool pg_query_columns(struct conn *c, const char *query, char ***names, int *n,
		      struct sl_error *err)
{
	*names = NULL;
	*n = 0;
	struct buf q;
	buf_init(&q, 0);
	PGresult *res = NULL;
	bool ok = buf_puts(&q, "SELECT * FROM (") && buf_puts(&q, query) &&
		  buf_puts(&q, ") AS sluice_probe LIMIT 0");
	if (!ok)
		sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
	else
		ok = pg_query_rows(c, q.data, 0, NULL, "reading the query's columns", &res, err);
	buf_free(&q);
	for (int i = 0; ok && i < PQnfields(res); i++)
		if (!names_add(names, n, PQfname(res, i)))
			ok = sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
	if (res)
		PQclear(res);
	return ok;
}

/* Any type is cast to text first, so that no type makes the query fail (a
 * failed query would end the snapshot's transaction). */
bool pg_max_length(struct conn *c, const struct write_spec *spec, const struct column_desc *col,
		   long *out, struct sl_error *err)
{
	bool bytes = !strcmp(col->type, "bytea");
	struct buf q;
	buf_init(&q, 0);
	char *v = NULL;
	bool ok = buf_puts(&q, bytes ? "SELECT MAX(octet_length(" : "SELECT MAX(char_length(") &&
		  pg_dialect.quote_ident(&q, col->name) &&
		  buf_puts(&q, bytes ? ")) FROM " : "::text)) FROM ") &&
		  sql_read_table(&pg_dialect, &q, spec);
	if (!ok)
		sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
	else
		ok = pg_query_row(c, q.data, &v, 1, err);
	buf_free(&q);
	*out = v ? atol(v) : 0;
	free(v);
	return ok;
}
