/* src/db/mysql_update.c
 * MySQL updates: rows staged in a temporary table, one UPDATE ... JOIN from it.
 */
#include <mysql.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sluice/convert.h"
#include "sluice/mysql_internal.h"
#include "sluice/signals.h"

/* Make the connection's staging table hold spec's key and set columns, with
 * the target columns' own types (CREATE TEMPORARY TABLE ... SELECT ... LIMIT
 * 0), plus sluice_ord, each staged row's place in the batch; emptied. A
 * temporary table is the session's own and takes part in its transaction. */
static bool ensure_stage(struct conn *c, const struct write_spec *spec, const int *set, int nset,
			 const int *key, int nkey, struct sl_error *err)
{
	struct buf shape;
	buf_init(&shape, 0);
	bool ok = sql_table_name(&mysql_dialect, &shape, spec);
	for (int i = 0; ok && i < nkey + nset; i++)
		ok = buf_putc(&shape, '\x1f') &&
		     buf_puts(&shape, spec->columns[i < nkey ? key[i] : set[i - nkey]]);
	if (!ok) {
		buf_free(&shape);
		return sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
	}
	if (c->stage_key && !strcmp(c->stage_key, shape.data)) {
		buf_free(&shape);
		return my_run_query(c, "DELETE FROM `sluice#stage`", "emptying the staging table",
				    err);
	}
	buf_reset(&c->sql);
	ok = buf_puts(&c->sql, "DROP TEMPORARY TABLE IF EXISTS `sluice#stage`");
	if (ok && !my_run_query(c, c->sql.data, "dropping the staging table", err)) {
		buf_free(&shape);
		return false;
	}
	buf_reset(&c->sql);
	ok = buf_puts(&c->sql, "CREATE TEMPORARY TABLE `sluice#stage` ENGINE=InnoDB SELECT "
			       "CAST(0 AS UNSIGNED) AS `sluice#ord`");
	for (int i = 0; ok && i < nkey + nset; i++)
		ok = buf_puts(&c->sql, ", ") &&
		     mysql_dialect.quote_ident(&c->sql,
					       spec->columns[i < nkey ? key[i] : set[i - nkey]]);
	ok = ok && buf_puts(&c->sql, " FROM ") && sql_table_name(&mysql_dialect, &c->sql, spec) &&
	     buf_puts(&c->sql, " LIMIT 0");
	if (!ok) {
		buf_free(&shape);
		return sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
	}
	free(c->stage_key);
	c->stage_key = NULL;
	if (!my_run_query(c, c->sql.data, "creating the staging table", err)) {
		buf_free(&shape);
		return false;
	}
	c->stage_key = shape.data; /* the buffer's memory now belongs to c */
	return true;
}

/* Stage rows [first, first+n) (sluice_ord, keys, set values) with multi-row
 * INSERTs under the placeholder and packet limits. */
static bool stage_rows(struct conn *c, const struct batch *b, size_t first, size_t n,
		       const int *set, int nset, const int *key, int nkey, struct sl_error *err)
{
	size_t per_row = (size_t)(1 + nkey + nset);
	size_t per = 60000 / per_row;
	size_t soft = c->max_packet > 2048 ? c->max_packet - 1024 : c->max_packet;
	if (soft > SOFT_PACKET_MAX)
		soft = SOFT_PACKET_MAX;
	char(*ords)[24] = malloc((n ? n : 1) * sizeof *ords);
	if (!ords || !my_reserve_params(c, (per < n ? per : n) * per_row + per_row, err)) {
		free(ords);
		return ords ? false : sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
	}
	bool ok = true;
	for (size_t r = 0; ok && r < n;) {
		/* rows that fit one statement */
		size_t k = 0, bytes = 64, need = 1;
		while (r + k < n && k < per) {
			const struct cell *row = batch_row(b, first + r + k);
			size_t rb = 32;
			for (int t = 0; t < nkey + nset; t++) {
				const struct cell *v = &row[t < nkey ? key[t] : set[t - nkey]];
				rb += (v->ptr ? v->len : 0) + 12;
			}
			if (k > 0 && bytes + rb > soft)
				break;
			bytes += rb;
			need += rb + (size_t)(nkey + nset) * CONVERT_MAX_GROWTH;
			k++;
		}
		buf_reset(&c->data);
		if (!buf_reserve(&c->data, need)) {
			ok = sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
			break;
		}
		char *scratch = c->data.data;
		size_t np = 0;
		for (size_t i = 0; i < k; i++) {
			const struct cell *row = batch_row(b, first + r + i);
			snprintf(ords[r + i], sizeof ords[r + i], "%zu", r + i);
			c->vals[np++] = (struct cell){ords[r + i], strlen(ords[r + i])};
			for (int t = 0; t < nkey; t++)
				c->vals[np++] = my_convert_cell(c, key[t], row[key[t]], &scratch);
			for (int t = 0; t < nset; t++)
				c->vals[np++] = my_convert_cell(c, set[t], row[set[t]], &scratch);
		}
		buf_reset(&c->sql);
		ok = buf_puts(&c->sql, "INSERT INTO `sluice#stage` VALUES ");
		for (size_t i = 0; ok && i < k; i++) {
			ok = buf_puts(&c->sql, i ? ",(?" : "(?");
			for (size_t t = 1; ok && t < per_row; t++)
				ok = buf_puts(&c->sql, ",?");
			ok = ok && buf_putc(&c->sql, ')');
		}
		if (!ok) {
			ok = sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
			break;
		}
		ok = my_prepare_sql(c, &c->stage, "preparing the staging INSERT", err) &&
		     my_execute_stmt(c, &c->stage, c->vals, np, false, "staging the update", err);
		r += k;
	}
	free(ords);
	return ok;
}

/* Stage rows [first, first+n) of b with LOAD DATA LOCAL (the keys, each
 * numbered by its place): a delete's keys, faster than INSERTs. */
static bool stage_keys_infile(struct conn *c, const struct write_spec *spec, const struct batch *b,
			      size_t first, size_t n, const int *key, int nkey,
			      struct sl_error *err)
{
	buf_reset(&c->sql);
	if (!mysql_stage_load_sql(&c->sql, spec, key, nkey))
		return sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
	c->inf = (struct infile_state){
		.b = b, .next = first, .end = first + n, .first = first, .numbered = true};
	buf_reset(&c->data);
	if (my_real_query(c, c->sql.data, c->sql.len)) {
		if (c->inf.interrupted)
			return sl_error_set(err, SL_ERR_INTERRUPTED,
					    "%s: LOAD DATA failed: interrupted by %s", c->redacted,
					    signals_name());
		if (c->inf.failed)
			return sl_error_set(err, SL_ERR_DATA, "a row is too large for LOAD DATA");
		return my_fail(c, "staging the keys failed", err);
	}
	if (!my_check_warnings(c, false, "staging the keys", err))
		return false;
	if (mysql_affected_rows(c->my) != (my_ulonglong)n)
		return sl_error_set(err, SL_ERR_DATA, "staging the keys: %llu of %zu rows",
				    (unsigned long long)mysql_affected_rows(c->my), n);
	return true;
}

/* The target rows each staged row's key matches (matched[ord]); with a
 * delta that met a NULL among them, an SL_ERR_DATA error (NULL + x stays
 * NULL: refused unless --add-null-as-zero). */
static bool count_matched(struct conn *c, const struct write_spec *spec, size_t n,
			  unsigned *matched, const int *key, int nkey, struct sl_error *err)
{
	buf_reset(&c->sql);
	bool ok = buf_puts(&c->sql, "SELECT s.`sluice#ord`, COUNT(t.") &&
		  mysql_dialect.quote_ident(&c->sql, spec->columns[key[0]]) &&
		  buf_puts(&c->sql, "), MAX(t.") &&
		  mysql_dialect.quote_ident(&c->sql, spec->columns[key[0]]) &&
		  buf_puts(&c->sql, " IS NOT NULL AND ") &&
		  sql_null_adds(&mysql_dialect, &c->sql, spec, "t.") &&
		  buf_puts(&c->sql, ") FROM `sluice#stage` AS s LEFT JOIN ") &&
		  sql_table_name(&mysql_dialect, &c->sql, spec) && buf_puts(&c->sql, " AS t ON ");
	for (int i = 0; ok && i < nkey; i++)
		ok = buf_puts(&c->sql, i ? " AND t." : "t.") &&
		     mysql_dialect.quote_ident(&c->sql, spec->columns[key[i]]) &&
		     buf_puts(&c->sql, " = s.") &&
		     mysql_dialect.quote_ident(&c->sql, spec->columns[key[i]]);
	ok = ok && buf_puts(&c->sql, " GROUP BY s.`sluice#ord`");
	if (!ok)
		return sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
	MYSQL_RES *res = my_store_query(c, "counting matched rows", err);
	if (!res)
		return false;
	MYSQL_ROW row;
	bool null_add = false;
	while ((row = mysql_fetch_row(res)) != NULL) {
		size_t i = row[0] ? strtoull(row[0], NULL, 10) : n;
		if (i < n)
			matched[i] = row[1] ? (unsigned)strtoul(row[1], NULL, 10) : 0;
		null_add |= row[2] && !strcmp(row[2], "1");
	}
	mysql_free_result(res);
	if (null_add && sql_checks_null_adds(spec))
		return my_null_add_error(err);
	return true;
}

/* After DELETE t, s: the staged rows left matched nothing (0), the others
 * 1, and the target rows deleted beyond one per key (a key that is not
 * unique) counted on the first found, so the sum is the rows deleted. No
 * key is staged twice (write_rows goes in rounds). */
static bool not_found(struct conn *c, size_t n, unsigned *matched, struct sl_error *err)
{
	unsigned long long gone = mysql_affected_rows(c->my);
	for (size_t i = 0; i < n; i++)
		matched[i] = 1;
	buf_reset(&c->sql);
	if (!buf_puts(&c->sql, "SELECT `sluice#ord` FROM `sluice#stage`"))
		return sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
	MYSQL_RES *res = my_store_query(c, "reading the keys not found", err);
	if (!res)
		return false;
	MYSQL_ROW row;
	size_t left = 0;
	while ((row = mysql_fetch_row(res)) != NULL) {
		size_t i = row[0] ? strtoull(row[0], NULL, 10) : n;
		if (i < n && matched[i]) {
			matched[i] = 0;
			left++;
		}
	}
	mysql_free_result(res);
	unsigned long long found = n - left; /* staged rows deleted */
	for (size_t i = 0; i < n && gone > 2 * found; i++)
		if (matched[i]) {
			matched[i] += (unsigned)(gone - 2 * found);
			break;
		}
	return true;
}

/* sluice update in one statement per batch: the rows staged into a
 * temporary table, one UPDATE joined on the key, then one query that counts
 * the target rows each staged row matched (not found: 0). Where the session
 * may not create temporary tables, one prepared UPDATE per row instead. */
static bool update_staged(struct conn *c, const struct write_spec *spec, const struct batch *b,
			  size_t first, size_t n, unsigned *matched, const int *set, int nset,
			  const int *key, int nkey, struct sl_error *err)
{
	bool hard = spec->del && !spec->soft_col;
	if (!ensure_stage(c, spec, set, nset, key, nkey, err))
		return false;
	if (hard && !c->no_local_infile ? !stage_keys_infile(c, spec, b, first, n, key, nkey, err)
					: !stage_rows(c, b, first, n, set, nset, key, nkey, err))
		return false;
	buf_reset(&c->sql);
	/* a delete takes the staged rows that matched with it: those left
	 * over matched nothing */
	bool ok = buf_puts(&c->sql, hard ? "DELETE t, s FROM " : "UPDATE ") &&
		  sql_table_name(&mysql_dialect, &c->sql, spec) &&
		  buf_puts(&c->sql, " AS t JOIN `sluice#stage` AS s ON ");
	for (int i = 0; ok && i < nkey; i++)
		ok = buf_puts(&c->sql, i ? " AND t." : "t.") &&
		     mysql_dialect.quote_ident(&c->sql, spec->columns[key[i]]) &&
		     buf_puts(&c->sql, " = s.") &&
		     mysql_dialect.quote_ident(&c->sql, spec->columns[key[i]]);
	if (ok && !hard)
		ok = buf_puts(&c->sql, " SET ");
	if (ok && spec->del && spec->soft_col)
		ok = buf_puts(&c->sql, "t.") &&
		     mysql_dialect.quote_ident(&c->sql, spec->soft_col) &&
		     buf_puts(&c->sql, " = ") && buf_puts(&c->sql, spec->soft_expr);
	for (int i = 0; ok && !spec->del && i < nset; i++) {
		struct buf v;
		buf_init(&v, 0);
		ok = buf_puts(&v, "s.") && mysql_dialect.quote_ident(&v, spec->columns[set[i]]) &&
		     buf_puts(&c->sql, i ? ", t." : "t.") &&
		     sql_assign(&mysql_dialect, &c->sql, spec, spec->columns[set[i]], "t.", v.data);
		buf_free(&v);
	}
	if (!ok)
		return sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
	if (!my_run_query(c, c->sql.data, hard ? "DELETE failed" : "UPDATE failed", err) ||
	    !my_check_warnings(c, false, hard ? "DELETE" : "UPDATE", err))
		return false;
	return hard ? not_found(c, n, matched, err)
		    : count_matched(c, spec, n, matched, key, nkey, err);
}

/* sluice update: staged (see update_staged); one prepared UPDATE per row
 * where that is refused; with CLIENT_FOUND_ROWS the affected-row count says
 * whether the key matched, changed or not. */
bool my_update_batch(struct conn *c, const struct write_spec *spec, const struct batch *b,
		     size_t first, size_t n, unsigned *matched, struct sl_error *err)
{
	int set[SQL_MAX_COLUMNS], key[SQL_MAX_COLUMNS], nset, nkey;
	if (!sql_update_columns(spec, set, &nset, key, &nkey))
		return sl_error_set(err, SL_ERR_USAGE,
				    "--key or --set names a column the input lacks");
	if (!my_ensure_kinds(c, spec, err) || !my_check_exact(c, spec, b, first, n, err))
		return false;
	if ((!nset && !spec->del) || !nkey)
		return sl_error_set(err, SL_ERR_USAGE, "bad update: no columns to set or no key");
	if (!c->no_stage) {
		if (update_staged(c, spec, b, first, n, matched, set, nset, key, nkey, err))
			return true;
		/* no privilege to create temporary tables: row by row from now on */
		if (err->server_code != 1044 && err->server_code != 1142)
			return false;
		c->no_stage = true;
		sl_error_clear(err);
	}
	buf_reset(&c->sql);
	if (!sql_update_row(&mysql_dialect, &c->sql, spec))
		return sl_error_set(err, SL_ERR_USAGE, "bad update: no columns to set or no key");
	struct prepared *p = &c->update;
	if (!my_prepare_sql(c, p, "preparing UPDATE", err))
		return false;
	size_t np = (size_t)(nset + nkey);
	if (!my_reserve_params(c, np, err))
		return false;
	for (size_t i = 0; i < n; i++) {
		const struct cell *row = batch_row(b, first + i);
		size_t need = 1;
		for (int t = 0; t < b->ncols; t++)
			need += (row[t].ptr ? row[t].len : 0) + CONVERT_MAX_GROWTH;
		buf_reset(&c->data);
		if (!buf_reserve(&c->data, need))
			return sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
		char *scratch = c->data.data;
		for (int t = 0; t < nset; t++)
			c->vals[t] = my_convert_cell(c, set[t], row[set[t]], &scratch);
		for (int t = 0; t < nkey; t++)
			c->vals[nset + t] = my_convert_cell(c, key[t], row[key[t]], &scratch);
		if (!my_execute_stmt(c, p, c->vals, np, false, "UPDATE", err))
			return false;
		/* CLIENT_FOUND_ROWS: rows the key matched, changed or not */
		matched[i] = (unsigned)mysql_stmt_affected_rows(p->stmt);
	}
	return my_refuse_null_adds(c, spec, b, first, n, err);
}

/* my_upsert_by_key's one attempt at rows [first, first+n). */
static bool upsert_two_steps(struct conn *c, const struct write_spec *spec, const struct batch *b,
			     size_t first, size_t n, struct write_count *out, struct sl_error *err)
{
	*out = (struct write_count){0};
	int nc = b->ncols;
	unsigned *matched = calloc(n ? n : 1, sizeof *matched);
	size_t *rows = malloc((n ? n : 1) * sizeof *rows);
	struct batch view = {.ncols = nc,
			     .cap_rows = n,
			     .seq = b->seq,
			     .has_defaults = b->has_defaults,
			     .csv_delim = b->csv_delim,
			     .csv_quote = b->csv_quote};
	view.cells = malloc((n ? n : 1) * (size_t)(nc ? nc : 1) * sizeof *view.cells);
	view.meta = malloc((n ? n : 1) * sizeof *view.meta);
	bool ok = matched && rows && view.cells && view.meta;
	if (!ok)
		sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
	/* the rows the key finds, by the key alone */
	struct write_spec upd = *spec;
	upd.update = true;
	upd.on_conflict = CONFLICT_ERROR;
	upd.upsert_by_key = false;
	ok = ok && my_update_batch(c, &upd, b, first, n, matched, err);
	size_t k = 0;
	for (size_t i = 0; ok && i < n; i++) {
		if (matched[i])
			continue;
		memcpy(view.cells + k * (size_t)nc, batch_row(b, first + i),
		       (size_t)nc * sizeof *view.cells);
		view.meta[k] = b->meta[first + i];
		rows[k++] = i;
	}
	view.nrows = k;
	/* the others: inserted, a collision on any unique index refused */
	struct write_spec ins = *spec;
	ins.on_conflict = CONFLICT_ERROR;
	ins.upsert_by_key = false;
	struct write_count w = {0};
	if (ok && k && !my_write_insert(c, &ins, &view, 0, k, &w, err)) {
		ok = false;
		if (err->row > 0 && (size_t)err->row <= k)
			err->row = (long)rows[err->row - 1] + 1; /* its row in [first, first+n) */
		else
			err->row = 0;
	}
	if (ok) {
		out->written = n;
		out->updated = n - k;
	}
	free(matched);
	free(rows);
	free(view.cells);
	free(view.meta);
	return ok;
}

bool my_upsert_by_key(struct conn *c, const struct write_spec *spec, const struct batch *b,
		      size_t first, size_t n, struct write_count *out, struct sl_error *err)
{
	*out = (struct write_count){0};
	if (n < 2)
		return upsert_two_steps(c, spec, b, first, n, out, err);
	if (!my_run_query(c, "SAVEPOINT sluice_upsert", "SAVEPOINT", err))
		return false;
	if (upsert_two_steps(c, spec, b, first, n, out, err))
		return true;
	if (err->kind != SL_ERR_DATA || err->server_code != 1062)
		return false;
	/* a row may take a unique value another row of the batch gives up
	 * later in it (MySQL checks each row at once): row by row, again
	 * while a pass writes any */
	sl_error_clear(err);
	if (!my_run_query(c, "ROLLBACK TO SAVEPOINT sluice_upsert", "ROLLBACK TO SAVEPOINT", err))
		return false;
	size_t *todo = malloc(n * sizeof *todo), ntodo = n;
	if (!todo)
		return sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
	for (size_t i = 0; i < n; i++)
		todo[i] = i;
	struct sl_error why;
	sl_error_clear(&why);
	bool ok = true;
	for (bool progress = true; ok && progress && ntodo;) {
		progress = false;
		size_t left = 0;
		for (size_t t = 0; ok && t < ntodo; t++) {
			size_t i = todo[t];
			struct write_count w;
			if (!(ok = my_run_query(c, "SAVEPOINT sluice_row", "SAVEPOINT", err)))
				break;
			if (upsert_two_steps(c, spec, b, first + i, 1, &w, err)) {
				out->written += w.written;
				out->updated += w.updated;
				progress = true;
				continue;
			}
			if (err->kind != SL_ERR_DATA) {
				ok = false;
				break;
			}
			if (!left)
				why = *err; /* the first row still refused: named below */
			sl_error_clear(err);
			ok = my_run_query(c, "ROLLBACK TO SAVEPOINT sluice_row",
					  "ROLLBACK TO SAVEPOINT", err);
			todo[left++] = i;
		}
		ntodo = left;
	}
	if (ok && ntodo) {
		/* that row is refused; the caller rolls the batch back */
		why.row = (long)todo[0] + 1;
		*err = why;
		ok = false;
	}
	free(todo);
	return ok;
}

bool my_null_add_error(struct sl_error *err)
{
	return sl_error_set(err, SL_ERR_DATA,
			    "an --add column is NULL in the table: NULL + delta stays NULL "
			    "(--add-null-as-zero counts it as 0)");
}

bool my_refuse_null_adds(struct conn *c, const struct write_spec *spec, const struct batch *b,
			 size_t first, size_t n, struct sl_error *err)
{
	if (!sql_checks_null_adds(spec))
		return true;
	struct write_spec q = *spec;
	q.count_null_adds = true;
	unsigned long long found = 0;
	if (!my_count_keys(c, &q, b, first, n, &found, err))
		return false;
	return found ? my_null_add_error(err) : true;
}
