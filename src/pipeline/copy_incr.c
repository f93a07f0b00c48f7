/* src/pipeline/copy_incr.c
 * copy --incremental: each table's cursor and key, its watermark read back
 * from the checkpoint table, its units (the rows past the watermark, and
 * with --null-cursor include those whose cursor is NULL), and
 * --delete-missing: a merge of the source's and the target's keys, both
 * read in key order, deleting (or with --soft marking) the target's rows
 * whose key the source no longer has. Memory is one row of each side and
 * a batch of keys.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sluice/checkpoint.h"
#include "sluice/copy_internal.h"
#include "sluice/driver.h"
#include "sluice/log.h"
#include "sluice/signals.h"
#include "sluice/soft.h"

/* The index of column name among t's source columns, or -1. */
static int column_index(const struct copy *cp, const struct copy_table *t, const char *name)
{
	for (int i = 0; i < t->src_spec.ncols; i++)
		if (cp->from->dialect->columns_case_insensitive
			    ? !strcasecmp(t->src_spec.columns[i], name)
			    : !strcmp(t->src_spec.columns[i], name))
			return i;
	return -1;
}

/* The kind of values column i of t holds, as the source classifies it. */
static enum sql_kind column_kind(const struct copy *cp, const struct copy_table *t, int i)
{
	struct sql_type ty;
	enum sql_kind k = SQL_OTHER;
	if (cp->from->dialect->type_classify(t->src.cols[i].type, &t->src.cols[i], &ty))
		k = ty.kind;
	sql_type_free(&ty);
	return k;
}

static bool numeric_kind(enum sql_kind k)
{
	return k == SQL_INT || k == SQL_DECIMAL || k == SQL_FLOAT;
}

/* --incremental's CURSOR and KEY for table t: the columns, how they
 * compare, the watermark an earlier run committed, and the rows whose
 * cursor is NULL counted (and said) when they are not copied. */
bool copy_incremental_plan(struct copy *cp, int ti, struct sl_error *err)
{
	struct copy_table *t = &cp->tables[ti];
	const char *spec = cp->job->incremental;
	const char *comma = strchr(spec, ',');
	char cursor[256], key[256] = "";
	snprintf(cursor, sizeof cursor, "%.*s", (int)(comma ? comma - spec : (long)strlen(spec)),
		 spec);
	if (comma)
		snprintf(key, sizeof key, "%s", comma + 1);
	if (!cursor[0] || (comma && (!key[0] || strchr(key, ','))))
		return sl_error_set(err, SL_ERR_USAGE,
				    "--incremental takes CURSOR or CURSOR,KEY (one column each), "
				    "not '%s'",
				    spec);
	if ((t->cursor_col = column_index(cp, t, cursor)) < 0)
		return sl_error_set(err, SL_ERR_USAGE,
				    "--incremental: table %s has no column %s on the source",
				    t->name, cursor);
	if (!key[0]) {
		const struct index_desc *pk = table_desc_primary(&t->src);
		if (!pk || pk->ncols != 1 || pk->expression)
			return sl_error_set(err, SL_ERR_USAGE,
					    "--incremental: table %s has no single-column primary "
					    "key: name the key (--incremental %s,KEY)",
					    t->name, cursor);
		snprintf(key, sizeof key, "%s", pk->cols[0]);
	}
	if ((t->ckey_col = column_index(cp, t, key)) < 0)
		return sl_error_set(err, SL_ERR_USAGE,
				    "--incremental: table %s has no column %s on the source",
				    t->name, key);
	if (t->ckey_col == t->cursor_col)
		return sl_error_set(err, SL_ERR_USAGE,
				    "--incremental: the cursor and the key of %s are one column",
				    t->name);
	t->cursor_numeric = numeric_kind(column_kind(cp, t, t->cursor_col));
	enum sql_kind kk = column_kind(cp, t, t->ckey_col);
	t->key_numeric = numeric_kind(kk);
	t->key_text = kk == SQL_TEXT;
	if (cp->job->delete_missing && kk != SQL_INT && kk != SQL_TEXT)
		return sl_error_set(err, SL_ERR_USAGE,
				    "--delete-missing: the key %s of %s is neither an integer nor "
				    "text (both servers must order the keys alike)",
				    key, t->name);
	const char *mark = cp->ckpt ? checkpoint_watermark(cp->ckpt, ti) : NULL;
	if (mark && !watermark_decode(mark, &t->after_cursor, &t->after_key))
		return sl_error_set(
			err, SL_ERR_USAGE,
			"the watermark of %s in the checkpoint table is damaged ('%.80s'): "
			"forget the job's checkpoints to start over",
			t->name, mark);
	if (t->after_cursor)
		log_info("%s: copying the rows past %s = %s, %s = %s%s", t->name, cursor,
			 t->after_cursor, key, t->after_key,
			 cp->job->lag > 0 ? " (and those within --lag behind it)" : "");
	else
		log_info("%s: no watermark yet: copying every row, in %s order", t->name, cursor);
	if (cp->job->null_cursor == NULL_CURSOR_INCLUDE)
		return true;
	/* rows whose cursor is NULL are never past a watermark: said, never
	 * silently left behind */
	struct buf sql;
	buf_init(&sql, 0);
	char *v[1] = {NULL};
	bool ok = sql_count_null(cp->from->dialect, &sql, &t->src_spec, cursor);
	if (!ok)
		sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
	else
		ok = cp->from->conn.query_row(cp->src, sql.data, v, 1, err);
	buf_free(&sql);
	if (!ok)
		return false;
	t->null_cursors = v[0] ? strtoull(v[0], NULL, 10) : 0;
	free(v[0]);
	if (t->null_cursors)
		log_warn("%s: %llu rows have a NULL %s: not copied (--null-cursor include copies "
			 "them on every run)",
			 t->name, t->null_cursors, cursor);
	return true;
}

/* --incremental: a unit per table (the rows past its watermark, in cursor
 * order, one writer: batches commit in that order), and one more for the
 * rows whose cursor is NULL with --null-cursor include. */
bool copy_incremental_units(struct copy *cp, struct sl_error *err)
{
	cp->units = calloc((size_t)cp->ntables * 2 + 1, sizeof *cp->units);
	if (!cp->units)
		return sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
	bool nulls = cp->job->null_cursor == NULL_CURSOR_INCLUDE;
	for (int i = 0; i < cp->ntables; i++) {
		struct copy_table *t = &cp->tables[i];
		for (int pass = 0; pass < (nulls ? 2 : 1); pass++) {
			struct copy_unit *u = &cp->units[cp->nunits++];
			*u = (struct copy_unit){
				.table = i, .key = -1, .weight = t->src.rows_estimate};
			u->range = (struct read_range){
				.cursor = t->src_spec.columns[t->cursor_col],
				.ckey = t->src_spec.columns[t->ckey_col],
				.after_cursor = t->after_cursor,
				.after_key = t->after_key,
				.cursor_numeric = t->cursor_numeric,
				.key_numeric = t->key_numeric,
				.lag = cp->job->lag,
				.nulls = pass == 1,
			};
			snprintf(u->label, sizeof u->label, "%s%s", t->name,
				 pass ? " (NULL cursors)" : "");
		}
		cp->units_left[i] = nulls ? 2 : 1;
	}
	cp->taken = calloc((size_t)cp->nunits + 1, sizeof *cp->taken);
	return cp->taken ? true : sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
}

/* One side of the merge: a stream of keys in ascending order, integers
 * or text (in the order of its bytes on both sides). */
struct key_side {
	const struct driver *drv;
	struct read_stream *s;
	bool text;
	long long key;
	struct buf bytes, prev; /* a text key, and the one before it */
	bool done, started;
	const char *what; /* "source" or "target", for messages */
};

/* <0, 0 or >0 as text x comes before, is or comes after y, by bytes. */
static int bytes_cmp(const struct buf *x, const struct buf *y)
{
	size_t n = x->len < y->len ? x->len : y->len;
	int c = n ? memcmp(x->data, y->data, n) : 0;
	return c ? c : (x->len > y->len) - (x->len < y->len);
}

/* <0, 0 or >0 as a's key comes before, is or comes after b's. */
static int key_cmp(const struct key_side *a, const struct key_side *b)
{
	if (!a->text)
		return a->key < b->key ? -1 : a->key > b->key;
	return bytes_cmp(&a->bytes, &b->bytes);
}

/* A text key read into k (the last one kept in k->prev): it must come
 * after the last one. */
static bool next_text_key(struct key_side *k, const struct cell *key, struct sl_error *err)
{
	if (!key->ptr)
		return sl_error_set(err, SL_ERR_DATA, "--delete-missing: a key of the %s is NULL",
				    k->what);
	struct buf t = k->prev;
	k->prev = k->bytes;
	k->bytes = t;
	buf_reset(&k->bytes);
	if (!buf_append(&k->bytes, key->ptr, key->len))
		return sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
	if (k->started && bytes_cmp(&k->prev, &k->bytes) >= 0)
		return sl_error_set(err, SL_ERR_DATA,
				    "--delete-missing: the %s's keys do not come in the order of "
				    "their bytes ('%.40s'): nothing more is deleted",
				    k->what, k->bytes.data);
	k->started = true;
	return true;
}

/* The next key of side k; false with err when it cannot be read, is not
 * of its kind, or does not come after the last (the merge would be
 * wrong). */
static bool next_key(struct key_side *k, struct sl_error *err)
{
	struct cell *cells;
	int n;
	unsigned long long bytes = 0;
	int got = k->drv->read.read_row(k->s, &cells, &n, &bytes, err);
	if (got < 0)
		return false;
	if (got == 0) {
		k->done = true;
		return true;
	}
	if (k->text && n >= 1)
		return next_text_key(k, &cells[0], err);
	char num[32], *end;
	if (n < 1 || !cells[0].ptr || cells[0].len == 0 || cells[0].len >= sizeof num)
		return sl_error_set(err, SL_ERR_DATA,
				    "--delete-missing: a key of the %s is not an integer", k->what);
	memcpy(num, cells[0].ptr, cells[0].len);
	num[cells[0].len] = '\0';
	errno = 0;
	long long v = strtoll(num, &end, 10);
	if (errno || *end)
		return sl_error_set(err, SL_ERR_DATA,
				    "--delete-missing: key %s of the %s is not an integer", num,
				    k->what);
	if (k->started && v <= k->key)
		return sl_error_set(err, SL_ERR_DATA,
				    "--delete-missing: the %s's keys do not come in order (%lld "
				    "after %lld): nothing more is deleted",
				    k->what, v, k->key);
	k->key = v;
	k->started = true;
	return true;
}

/* Delete (or mark) keys[0..n) of t's target table on c, in a transaction
 * of its own. */
static bool delete_keys(struct copy *cp, struct conn *c, const struct copy_table *t,
			const char *soft_col, const char *soft_expr, char **keys, int n,
			struct sl_error *err)
{
	struct buf sql;
	buf_init(&sql, 0);
	bool ok = sql_delete_keys(cp->to->dialect, &sql, &t->dst_spec,
				  t->dst_spec.columns[t->ckey_col], n, soft_col, soft_expr);
	if (!ok) {
		buf_free(&sql);
		return sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
	}
	ok = cp->to->tx.begin(c, err) &&
	     cp->to->conn.exec_params(c, sql.data, n, (const char *const *)keys, err) &&
	     cp->to->tx.commit(c, err);
	if (!ok) {
		struct sl_error rb;
		cp->to->tx.rollback(c, &rb);
	}
	buf_free(&sql);
	return ok;
}

#define DELETE_BATCH 500

/* --delete-missing for table t: its source keys (in the copy's snapshot,
 * on src) merged with its target keys (read on a connection of its own),
 * the target's keys the source lacks deleted, or marked with --soft, in
 * batches, on cp->ddl. *deleted counts them. */
bool copy_delete_missing(struct copy *cp, struct conn *src, struct copy_table *t,
			 unsigned long long *deleted, struct sl_error *err)
{
	*deleted = 0;
	char *soft_col = NULL, *soft_expr = NULL;
	if (cp->job->soft && !soft_parse(cp->job->soft, &soft_col, &soft_expr, err))
		return false;
	char *const src_cols[1] = {(char *)t->src_spec.columns[t->ckey_col]};
	char *const dst_cols[1] = {(char *)t->dst_spec.columns[t->ckey_col]};
	struct write_spec sspec = t->src_spec, dspec = t->dst_spec;
	sspec.columns = src_cols;
	dspec.columns = dst_cols;
	sspec.ncols = dspec.ncols = 1;
	struct read_range sr = {.key = src_cols[0], .ordered = true, .bytewise = t->key_text};
	struct read_range dr = {.key = dst_cols[0], .ordered = true, .bytewise = t->key_text};
	struct conn *tc = NULL;
	struct conn_options copts = {.timeout = cp->job->timeout};
	struct key_side a = {.drv = cp->from, .text = t->key_text, .what = "source"};
	struct key_side b = {.drv = cp->to, .text = t->key_text, .what = "target"};
	buf_init(&a.bytes, 0);
	buf_init(&a.prev, 0);
	buf_init(&b.bytes, 0);
	buf_init(&b.prev, 0);
	char *keys[DELETE_BATCH] = {0};
	int nkeys = 0;
	bool ok = cp->to->conn.connect(cp->job->target, &copts, &tc, err) &&
		  cp->from->read.open_read(src, &sspec, NULL, &sr, &a.s, err) &&
		  cp->to->read.open_read(tc, &dspec, NULL, &dr, &b.s, err) && next_key(&a, err) &&
		  next_key(&b, err);
	while (ok && !b.done) {
		if (signals_caught()) {
			ok = sl_error_set(err, SL_ERR_INTERRUPTED, "interrupted");
			break;
		}
		int cmp = a.done ? 1 : key_cmp(&a, &b);
		if (cmp < 0) {
			ok = next_key(&a, err);
			continue;
		}
		if (cmp == 0) {
			ok = next_key(&a, err) && next_key(&b, err);
			continue;
		}
		/* the target's key is not in the source */
		char num[32];
		snprintf(num, sizeof num, "%lld", b.key);
		if (!(keys[nkeys++] = b.text ? strndup(b.bytes.data, b.bytes.len) : strdup(num))) {
			ok = sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
			break;
		}
		if (nkeys == DELETE_BATCH) {
			ok = delete_keys(cp, cp->ddl, t, soft_col, soft_expr, keys, nkeys, err);
			*deleted += ok ? (unsigned long long)nkeys : 0;
			for (int i = 0; i < nkeys; i++)
				free(keys[i]);
			nkeys = 0;
		}
		ok = ok && next_key(&b, err);
	}
	if (ok && nkeys) {
		ok = delete_keys(cp, cp->ddl, t, soft_col, soft_expr, keys, nkeys, err);
		*deleted += ok ? (unsigned long long)nkeys : 0;
	}
	for (int i = 0; i < nkeys; i++)
		free(keys[i]);
	if (a.s)
		cp->from->read.close_read(a.s);
	if (b.s)
		cp->to->read.close_read(b.s);
	if (tc)
		cp->to->conn.close(tc);
	buf_free(&a.bytes);
	buf_free(&a.prev);
	buf_free(&b.bytes);
	buf_free(&b.prev);
	free(soft_col);
	free(soft_expr);
	if (!ok)
		return sl_error_prefix(err, "%s: --delete-missing", t->name);
	if (*deleted)
		log_info("%s: %llu rows %s: their key is gone from the source", t->name, *deleted,
			 cp->job->soft ? "marked (--soft)" : "deleted");
	return true;
}
