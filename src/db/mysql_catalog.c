/* src/db/mysql_catalog.c
 * MySQL catalog reads: tables, schemas, keys, indexes, a query's columns.
 */
#include <mysql.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sluice/mysql_internal.h"

/* Append s to the SQL text as a quoted string literal. */
bool my_put_literal(struct conn *c, const char *s)
{
	size_t n = strlen(s);
	if (!buf_reserve(&c->sql, 2 * n + 3))
		return false;
	c->sql.data[c->sql.len++] = '\'';
	c->sql.len +=
		mysql_real_escape_string(c->my, c->sql.data + c->sql.len, s, (unsigned long)n);
	c->sql.data[c->sql.len++] = '\'';
	c->sql.data[c->sql.len] = '\0';
	return true;
}

/* Append "<alias>TABLE_SCHEMA = ... AND <alias>TABLE_NAME = ..." for spec's
 * table to c->sql. */
static bool put_table_match_as(struct conn *c, const struct write_spec *spec, const char *alias)
{
	bool ok = buf_printf(&c->sql, " %sTABLE_SCHEMA = ", alias);
	if (spec->schema && *spec->schema)
		ok = ok && my_put_literal(c, spec->schema);
	else
		ok = ok && buf_puts(&c->sql, "DATABASE()");
	return ok && buf_printf(&c->sql, " AND %sTABLE_NAME = ", alias) &&
	       my_put_literal(c, spec->table);
}

static bool put_table_match(struct conn *c, const struct write_spec *spec)
{
	return put_table_match_as(c, spec, "");
}

/* Add the table's primary key and unique indexes to out, columns in index
 * order; a prefix or expression part gets a name no column has, so it never
 * passes for the column itself. */
static bool describe_unique(struct conn *c, const struct write_spec *spec, struct table_desc *out,
			    struct sl_error *err)
{
	buf_reset(&c->sql);
	bool ok = buf_puts(&c->sql,
			   "SELECT INDEX_NAME, CASE WHEN COLUMN_NAME IS NULL THEN '(expression)' "
			   "WHEN SUB_PART IS NOT NULL THEN CONCAT(COLUMN_NAME, '(', SUB_PART, ')') "
			   "ELSE COLUMN_NAME END FROM information_schema.STATISTICS WHERE "
			   "NON_UNIQUE = 0 "
			   "AND") &&
		  put_table_match(c, spec) &&
		  buf_puts(&c->sql, " ORDER BY INDEX_NAME <> 'PRIMARY', INDEX_NAME, SEQ_IN_INDEX");
	if (!ok)
		return sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
	if (my_real_query(c, c->sql.data, c->sql.len))
		return my_fail(c, "describing table", err);
	MYSQL_RES *res = mysql_store_result(c->my);
	if (!res)
		return my_fail(c, "describing table", err);
	size_t n = (size_t)mysql_num_rows(res);
	char **names = calloc(n ? n : 1, sizeof *names), **cols = calloc(n ? n : 1, sizeof *cols);
	ok = names && cols;
	MYSQL_ROW row;
	for (size_t i = 0; ok && i < n && (row = mysql_fetch_row(res)) != NULL; i++) {
		names[i] = strdup(row[0] ? row[0] : "");
		cols[i] = strdup(row[1] ? row[1] : "");
		ok = names[i] && cols[i];
	}
	mysql_free_result(res);
	for (size_t i = 0; ok && i < n;) {
		size_t k = 1;
		while (i + k < n && !strcmp(names[i + k], names[i]))
			k++;
		ok = table_desc_add_unique(out, names[i], !strcmp(names[i], "PRIMARY"), cols + i,
					   (int)k);
		i += k;
	}
	for (size_t i = 0; i < n; i++) {
		if (names)
			free(names[i]);
		if (cols)
			free(cols[i]);
	}
	free(names);
	free(cols);
	if (!ok) {
		table_desc_free(out);
		return sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
	}
	return true;
}

/* Lower-case type text t in place outside its quotes: the type's words
 * compare as lower case, while enum and set labels keep their exact case
 * (a lowercased label is another value). */
static void lower_type_words(char *t)
{
	char quote = 0;
	for (; *t; t++) {
		if (quote) {
			if (*t == '\\' && t[1])
				t++;
			else if (*t == quote)
				quote = 0;
		} else if (*t == '\'' || *t == '"') {
			quote = *t;
		} else {
			*t = (char)tolower((unsigned char)*t);
		}
	}
}

bool my_describe_table(struct conn *c, const struct write_spec *spec, struct table_desc *out,
		       struct sl_error *err)
{
	memset(out, 0, sizeof *out);
	buf_reset(&c->sql);
	bool ok = buf_puts(&c->sql, "SELECT COLUMN_NAME, COLUMN_TYPE, IS_NULLABLE = 'YES', "
				    "COLUMN_DEFAULT IS NOT NULL OR EXTRA LIKE '%auto_increment%' "
				    "OR EXTRA LIKE '%GENERATED%', COLLATION_NAME "
				    "FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ");
	if (spec->schema && *spec->schema)
		ok = ok && my_put_literal(c, spec->schema);
	else
		ok = ok && buf_puts(&c->sql, "DATABASE()");
	ok = ok && buf_puts(&c->sql, " AND TABLE_NAME = ") && my_put_literal(c, spec->table) &&
	     buf_puts(&c->sql, " ORDER BY ORDINAL_POSITION");
	if (!ok)
		return sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
	if (my_real_query(c, c->sql.data, c->sql.len))
		return my_fail(c, "describing table", err);
	MYSQL_RES *res = mysql_store_result(c->my);
	if (!res)
		return my_fail(c, "describing table", err);
	size_t n = (size_t)mysql_num_rows(res);
	out->exists = n > 0;
	out->cols = n ? calloc(n, sizeof *out->cols) : NULL;
	MYSQL_ROW row;
	for (size_t i = 0; out->cols && i < n && (row = mysql_fetch_row(res)) != NULL; i++) {
		out->cols[i].name = strdup(row[0] ? row[0] : "");
		out->cols[i].type = strdup(row[1] ? row[1] : "");
		if (out->cols[i].type)
			lower_type_words(out->cols[i].type);
		out->cols[i].nullable = row[2] && row[2][0] == '1';
		out->cols[i].has_default = row[3] && row[3][0] == '1';
		out->cols[i].collation = row[4] ? strdup(row[4]) : NULL;
		out->ncols = (int)i + 1;
		if (!out->cols[i].name || !out->cols[i].type)
			break;
	}
	mysql_free_result(res);
	if (n && (!out->cols || (size_t)out->ncols < n || !out->cols[n - 1].type)) {
		table_desc_free(out);
		return sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
	}
	if (!out->exists || !describe_unique(c, spec, out, err))
		return !out->exists;
	out->bulk_refused = c->no_local_infile;
	/* a Spider head sends LOAD DATA to its data nodes one row at a time,
	 * multi-row INSERTs as they are */
	buf_reset(&c->sql);
	MYSQL_RES *eng = NULL;
	MYSQL_ROW erow;
	if (buf_puts(&c->sql, "SELECT ENGINE FROM information_schema.TABLES WHERE") &&
	    put_table_match(c, spec) && (eng = my_store_query(c, "describing table", err)) &&
	    (erow = mysql_fetch_row(eng)) && erow[0] && !strcasecmp(erow[0], "SPIDER"))
		out->bulk_is_slow = true;
	if (eng)
		mysql_free_result(eng);
	return true;
}

/* "TABLE_SCHEMA = <db>" for schema (NULL: the connection's database). */
bool my_put_schema_match(struct conn *c, const char *column, const char *schema)
{
	return buf_puts(&c->sql, column) && buf_puts(&c->sql, " = ") &&
	       (schema && *schema ? my_put_literal(c, schema) : buf_puts(&c->sql, "DATABASE()"));
}

bool my_describe_schema(struct conn *c, const char *schema, struct schema_desc *out,
			struct sl_error *err)
{
	memset(out, 0, sizeof *out);
	static const char *const heads[5] = {
		"SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_TYPE IN ('BASE "
		"TABLE', 'SYSTEM VERSIONED') AND ",
		"SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_TYPE = 'VIEW' AND ",
		"SELECT CONCAT(EVENT_OBJECT_TABLE, '.', TRIGGER_NAME) FROM "
		"information_schema.TRIGGERS WHERE ",
		"SELECT CONCAT(LOWER(ROUTINE_TYPE), ' ', ROUTINE_NAME) FROM "
		"information_schema.ROUTINES WHERE ",
		"SELECT CONCAT('event ', EVENT_NAME) FROM information_schema.EVENTS WHERE ",
	};
	static const char *const cols[5] = {"TABLE_SCHEMA", "TABLE_SCHEMA", "TRIGGER_SCHEMA",
					    "ROUTINE_SCHEMA", "EVENT_SCHEMA"};
	char ***lists[5] = {&out->tables, &out->views, &out->triggers, &out->objects,
			    &out->objects};
	int *counts[5] = {&out->ntables, &out->nviews, &out->ntriggers, &out->nobjects,
			  &out->nobjects};
	for (int q = 0; q < 5; q++) {
		buf_reset(&c->sql);
		if (!buf_puts(&c->sql, heads[q]) || !my_put_schema_match(c, cols[q], schema) ||
		    !buf_puts(&c->sql, " ORDER BY 1"))
			return sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
		MYSQL_RES *res = my_store_query(c, "listing tables", err);
		if (!res) {
			schema_desc_free(out);
			return false;
		}
		MYSQL_ROW row;
		bool ok = true;
		while (ok && (row = mysql_fetch_row(res)) != NULL)
			ok = names_add(lists[q], counts[q], row[0] ? row[0] : "");
		mysql_free_result(res);
		if (!ok) {
			schema_desc_free(out);
			return sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
		}
	}
	return true;
}

/* Defaults, auto_increment, generated expressions; MariaDB's json columns
 * (a longtext with a json_valid check) get the type "json". */
static bool describe_columns_full(struct conn *c, const struct write_spec *spec,
				  struct table_desc *out, struct sl_error *err)
{
	buf_reset(&c->sql);
	if (!buf_puts(&c->sql, "SELECT COLUMN_DEFAULT, EXTRA LIKE '%auto_increment%', "
			       "IF(EXTRA LIKE '%GENERATED%', GENERATION_EXPRESSION, NULL), "
			       "CHARACTER_SET_NAME, COLLATION_NAME, "
			       "IF(EXTRA LIKE 'on update %', SUBSTRING(EXTRA, 11), NULL), "
			       "DATA_TYPE = 'longtext' AND EXISTS (SELECT 1 FROM "
			       "information_schema.CHECK_CONSTRAINTS k WHERE k.CONSTRAINT_SCHEMA = "
			       "c.TABLE_SCHEMA AND k.TABLE_NAME = c.TABLE_NAME AND "
			       "REPLACE(k.CHECK_CLAUSE, ' ', '') = CONCAT('json_valid(`', "
			       "c.COLUMN_NAME, '`)')) FROM information_schema.COLUMNS c WHERE") ||
	    !put_table_match_as(c, spec, "c.") || !buf_puts(&c->sql, " ORDER BY ORDINAL_POSITION"))
		return sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
	MYSQL_RES *res = my_store_query(c, "describing columns", err);
	if (!res)
		return false;
	MYSQL_ROW row;
	bool ok = true;
	for (int i = 0; ok && i < out->ncols && (row = mysql_fetch_row(res)) != NULL; i++) {
		struct column_desc *col = &out->cols[i];
		if (row[0])
			ok = (col->default_expr = strdup(row[0])) != NULL;
		col->identity = row[1] && row[1][0] == '1';
		if (ok && row[2])
			ok = (col->generated = strdup(row[2])) != NULL;
		if (ok && row[3])
			ok = (col->charset = strdup(row[3])) != NULL;
		if (ok && row[4]) {
			free(col->collation); /* describe_table's, the same */
			ok = (col->collation = strdup(row[4])) != NULL;
		}
		if (ok && row[5])
			ok = (col->on_update = strdup(row[5])) != NULL;
		if (ok && row[6] && row[6][0] == '1') {
			free(col->type);
			ok = (col->type = strdup("json")) != NULL;
		}
	}
	mysql_free_result(res);
	return ok ? true : sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
}

/* Every index, columns in order; a prefix part cannot be carried exactly. */
static bool describe_indexes(struct conn *c, const struct write_spec *spec, struct table_desc *out,
			     struct sl_error *err)
{
	buf_reset(&c->sql);
	if (!buf_puts(&c->sql, "SELECT INDEX_NAME, NON_UNIQUE = 0, LOWER(INDEX_TYPE), "
			       "COLUMN_NAME IS NULL, COALESCE(COLUMN_NAME, ''), "
			       "IF(INDEX_TYPE IN ('BTREE', 'HASH'), COALESCE(SUB_PART, 0), 0) "
			       "FROM information_schema.STATISTICS WHERE") ||
	    !put_table_match(c, spec) || !buf_puts(&c->sql, " ORDER BY INDEX_NAME, SEQ_IN_INDEX"))
		return sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
	MYSQL_RES *res = my_store_query(c, "describing indexes", err);
	if (!res)
		return false;
	size_t n = (size_t)mysql_num_rows(res);
	char **name = calloc(n ? n : 1, sizeof *name), **col = calloc(n ? n : 1, sizeof *col);
	char **method = calloc(n ? n : 1, sizeof *method);
	bool *uniq = calloc(n ? n : 1, sizeof *uniq), *expr = calloc(n ? n : 1, sizeof *expr);
	int *prefix = calloc(n ? n : 1, sizeof *prefix);
	bool ok = name && col && method && uniq && expr && prefix;
	MYSQL_ROW row;
	for (size_t i = 0; ok && i < n && (row = mysql_fetch_row(res)) != NULL; i++) {
		name[i] = strdup(row[0] ? row[0] : "");
		method[i] = strdup(row[2] ? row[2] : "btree");
		col[i] = strdup(row[4] ? row[4] : "");
		uniq[i] = row[1] && row[1][0] == '1';
		expr[i] = row[3] && row[3][0] == '1';
		prefix[i] = row[5] ? atoi(row[5]) : 0;
		ok = name[i] && method[i] && col[i];
	}
	mysql_free_result(res);
	for (size_t i = 0; ok && i < n;) {
		size_t k = 1;
		bool any_expr = expr[i];
		while (i + k < n && !strcmp(name[i + k], name[i]))
			any_expr |= expr[i + k++];
		ok = table_desc_add_index(out, name[i], uniq[i], !strcmp(name[i], "PRIMARY"),
					  method[i], any_expr, col + i, (int)k);
		struct index_desc *x = &out->indexes[out->nindexes - 1];
		bool any_prefix = false;
		for (size_t j = 0; j < k; j++)
			any_prefix |= prefix[i + j] > 0;
		if (ok && any_prefix) {
			ok = (x->prefix = calloc(k, sizeof *x->prefix)) != NULL;
			for (size_t j = 0; ok && j < k; j++)
				x->prefix[j] = prefix[i + j];
		}
		i += k;
	}
	for (size_t i = 0; i < n && name && col && method; i++) {
		free(name[i]);
		free(col[i]);
		free(method[i]);
	}
	free(name);
	free(col);
	free(method);
	free(uniq);
	free(expr);
	free(prefix);
	return ok ? true : sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
}

/* The table's foreign keys, columns in order. */
static bool describe_fkeys(struct conn *c, const struct write_spec *spec, struct table_desc *out,
			   struct sl_error *err)
{
	buf_reset(&c->sql);
	if (!buf_puts(
		    &c->sql,
		    "SELECT k.CONSTRAINT_NAME, k.COLUMN_NAME, k.REFERENCED_TABLE_SCHEMA, "
		    "k.REFERENCED_TABLE_NAME, k.REFERENCED_COLUMN_NAME, r.DELETE_RULE, "
		    "r.UPDATE_RULE, k.REFERENCED_TABLE_SCHEMA = k.TABLE_SCHEMA "
		    "FROM information_schema.KEY_COLUMN_USAGE k JOIN "
		    "information_schema.REFERENTIAL_CONSTRAINTS r ON r.CONSTRAINT_SCHEMA = "
		    "k.CONSTRAINT_SCHEMA AND r.CONSTRAINT_NAME = k.CONSTRAINT_NAME AND "
		    "r.TABLE_NAME = k.TABLE_NAME WHERE k.REFERENCED_TABLE_NAME IS NOT NULL AND") ||
	    !put_table_match_as(c, spec, "k.") ||
	    !buf_puts(&c->sql, " ORDER BY k.CONSTRAINT_NAME, k.ORDINAL_POSITION"))
		return sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
	MYSQL_RES *res = my_store_query(c, "describing foreign keys", err);
	if (!res)
		return false;
	size_t n = (size_t)mysql_num_rows(res);
	MYSQL_ROW *rows = calloc(n ? n : 1, sizeof *rows);
	char **cols = calloc(n ? n : 1, sizeof *cols), **refs = calloc(n ? n : 1, sizeof *refs);
	bool ok = rows && cols && refs;
	for (size_t i = 0; ok && i < n; i++)
		ok = (rows[i] = mysql_fetch_row(res)) != NULL;
	for (size_t i = 0; ok && i < n;) {
		size_t k = 0;
		do {
			cols[k] = rows[i + k][1] ? rows[i + k][1] : "";
			refs[k] = rows[i + k][4] ? rows[i + k][4] : "";
			k++;
		} while (i + k < n && !strcmp(rows[i + k][0], rows[i][0]));
		bool same = rows[i][7] && rows[i][7][0] == '1';
		ok = table_desc_add_fkey(out, rows[i][0], cols, same ? NULL : rows[i][2],
					 rows[i][3], refs, (int)k, rows[i][5], rows[i][6]);
		i += k;
	}
	mysql_free_result(res);
	free(rows);
	free(cols);
	free(refs);
	return ok ? true : sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
}

/* The table's CHECK constraints (MariaDB names a column's CHECK after the
 * column); the json_valid() check of a json column is its type, not one.
 * MySQL 8 has no TABLE_NAME in CHECK_CONSTRAINTS: TABLE_CONSTRAINTS says. */
static bool describe_checks(struct conn *c, const struct write_spec *spec, struct table_desc *out,
			    struct sl_error *err)
{
	static const char *const heads[2] = {
		"SELECT CONSTRAINT_NAME, CHECK_CLAUSE FROM information_schema.CHECK_CONSTRAINTS "
		"WHERE CONSTRAINT_SCHEMA = ",
		"SELECT cc.CONSTRAINT_NAME, cc.CHECK_CLAUSE FROM "
		"information_schema.CHECK_CONSTRAINTS "
		"cc JOIN information_schema.TABLE_CONSTRAINTS tc ON tc.CONSTRAINT_SCHEMA = "
		"cc.CONSTRAINT_SCHEMA AND tc.CONSTRAINT_NAME = cc.CONSTRAINT_NAME AND "
		"tc.CONSTRAINT_TYPE = 'CHECK' WHERE tc.CONSTRAINT_SCHEMA = ",
	};
	static const char *const table_col[2] = {" AND TABLE_NAME = ", " AND tc.TABLE_NAME = "};
	MYSQL_RES *res = NULL;
	for (int q = 0; q < 2 && !res; q++) {
		buf_reset(&c->sql);
		if (!buf_puts(&c->sql, heads[q]) ||
		    !(spec->schema && *spec->schema ? my_put_literal(c, spec->schema)
						    : buf_puts(&c->sql, "DATABASE()")) ||
		    !buf_puts(&c->sql, table_col[q]) || !my_put_literal(c, spec->table) ||
		    !buf_puts(&c->sql, " ORDER BY 1"))
			return sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
		if (my_real_query(c, c->sql.data, c->sql.len)) {
			if (mysql_errno(c->my) == 1054 && q == 0)
				continue; /* MySQL: no TABLE_NAME there */
			return my_fail(c, "describing checks", err);
		}
		if (!(res = mysql_store_result(c->my)))
			return my_fail(c, "describing checks", err);
	}
	MYSQL_ROW row;
	bool ok = true;
	while (ok && (row = mysql_fetch_row(res)) != NULL) {
		if (!row[0] || !row[1])
			continue;
		bool json = false;
		for (int i = 0; i < out->ncols; i++) {
			char want[600];
			snprintf(want, sizeof want, "json_valid(`%s`)", out->cols[i].name);
			json |= !strcmp(out->cols[i].type, "json") && !strcmp(row[1], want);
		}
		if (!json)
			ok = table_desc_add_check(out, row[0], row[1]);
	}
	mysql_free_result(res);
	return ok ? true : sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
}

bool my_describe_full(struct conn *c, const struct write_spec *spec, struct table_desc *out,
		      struct sl_error *err)
{
	if (!my_describe_table(c, spec, out, err))
		return false;
	if (!out->exists)
		return true;
	bool ok = describe_columns_full(c, spec, out, err) && describe_indexes(c, spec, out, err) &&
		  describe_fkeys(c, spec, out, err) && describe_checks(c, spec, out, err);
	if (ok) {
		buf_reset(&c->sql);
		MYSQL_RES *res = NULL;
		MYSQL_ROW row;
		ok = buf_puts(&c->sql, "SELECT TABLE_ROWS FROM information_schema.TABLES WHERE") &&
		     put_table_match(c, spec) && (res = my_store_query(c, "describing table", err));
		if (ok && (row = mysql_fetch_row(res)) && row[0]) {
			out->rows_estimate = strtoull(row[0], NULL, 10);
			out->rows_estimated = true;
		}
		if (res)
			mysql_free_result(res);
	}
	if (!ok)
		table_desc_free(out);
	return ok;
}

/* The fields a SELECT returns, without reading a row: sql wrapped in a
 * LIMIT 0 derived table. *res is the caller's to free. */
bool my_probe_fields(struct conn *c, const char *sql, MYSQL_RES **res, struct sl_error *err)
{
	struct buf q;
	buf_init(&q, 0);
	bool ok = buf_puts(&q, "SELECT * FROM (") && buf_puts(&q, sql) &&
		  buf_puts(&q, ") AS sluice_probe LIMIT 0");
	if (!ok) {
		buf_free(&q);
		return sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
	}
	ok = !my_real_query(c, q.data, q.len) && (*res = mysql_store_result(c->my));
	buf_free(&q);
	return ok ? true : my_fail(c, "reading the table", err);
}

bool my_query_columns(struct conn *c, const char *query, char ***names, int *n,
		      struct sl_error *err)
{
	MYSQL_RES *res = NULL;
	*names = NULL;
	*n = 0;
	if (!my_probe_fields(c, query, &res, err))
		return false;
	unsigned k = mysql_num_fields(res);
	MYSQL_FIELD *f = mysql_fetch_fields(res);
	bool ok = true;
	for (unsigned i = 0; ok && i < k; i++)
		ok = names_add(names, n, f[i].name);
	mysql_free_result(res);
	return ok ? true : sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
}

bool my_max_length(struct conn *c, const struct write_spec *spec, const struct column_desc *col,
		   long *out, struct sl_error *err)
{
	buf_reset(&c->sql);
	char *v = NULL;
	if (!buf_puts(&c->sql, "SELECT MAX(CHAR_LENGTH(") ||
	    !mysql_dialect.quote_ident(&c->sql, col->name) || !buf_puts(&c->sql, ")) FROM ") ||
	    !sql_table_name(&mysql_dialect, &c->sql, spec))
		return sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
	char *sql = strdup(c->sql.data);
	bool ok = sql && my_query_row(c, sql, &v, 1, err);
	free(sql);
	*out = v ? atol(v) : 0;
	free(v);
	return ok;
}
