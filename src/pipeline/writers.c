/* src/pipeline/writers.c
 * The writer stage: each writer thread takes a batch, writes it in its own
 * transaction on a pooled connection and commits it. A batch the server
 * refuses is rolled back and written again around the row the server named,
 * or row by row on the server (write_each), or in halves until the bad rows
 * stand alone; a broken connection is replaced and the batch written again; a
 * COMMIT whose reply was lost is settled by asking the server (or looking
 * the rows up), never guessed. Keyed writes go in rounds (keys.h).
 */
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "sluice/checkpoint.h"
#include "sluice/create.h"
#include "sluice/keys.h"
#include "sluice/log.h"
#include "sluice/pipeline.h"
#include "sluice/prng.h"
#include "sluice/rejects.h"
#include "sluice/signals.h"
#include "sluice/url.h"

/* Write rows [first, first+n) of b on *c (acquiring one when NULL), as
 * write_range_counts decides: refused rows are rejected and the rest
 * written, a broken connection retries on a fresh one. Returns false when
 * the run must stop (the reason is recorded by run_fail). */
static bool write_range(struct load *ld, struct conn **c, const struct batch *b, size_t first,
			size_t n);

/* Whether input column col goes to the server: not the --group-by column
 * (it ties records, it is no column of the table), and for a delete only
 * the key. */
static bool written_column(const struct load *ld, int col)
{
	if (col == ld->group_idx)
		return false;
	if (!ld->spec.del)
		return true;
	for (int k = 0; k < ld->nkey_idx; k++)
		if (ld->key_idx[k] == col)
			return true;
	return false;
}

/* Rows of a batch compared by their key values' bytes (NULL first): one
 * order every writer agrees on. */
struct key_order {
	const struct batch *b;
	const int *key_idx;
	int nkey;
};

static int compare_keys(const void *pa, const void *pb, void *ctx)
{
	const struct key_order *ko = ctx;
	const struct cell *x = batch_row(ko->b, *(const size_t *)pa),
			  *y = batch_row(ko->b, *(const size_t *)pb);
	for (int k = 0; k < ko->nkey; k++) {
		const struct cell *u = &x[ko->key_idx[k]], *v = &y[ko->key_idx[k]];
		if (!u->ptr || !v->ptr) {
			if (u->ptr != v->ptr)
				return u->ptr ? 1 : -1;
			continue;
		}
		int c = memcmp(u->ptr, v->ptr, u->len < v->len ? u->len : v->len);
		if (!c && u->len != v->len)
			c = u->len < v->len ? -1 : 1;
		if (c)
			return c;
	}
	return 0;
}

/* Write rows [first, first+n) of b inside the caller's transaction; for
 * sluice update matched[i] gets the target rows row first+i matched, for a
 * load *out what the server wrote.
 *
 * Two things can stop a batch from going out as one statement. Keyed writes
 * (upserts, update) go in rounds so no statement carries a key twice and a
 * key's records apply in input order (keys.h). And with --defaults (or a
 * JSON update, where a missing key means "leave the column alone") some
 * cells stand for "not given": rows are grouped by the columns they have and
 * each group names only those, so the server keeps or defaults the rest. */
static bool write_rows(struct load *ld, struct conn *c, const struct batch *b, size_t first,
		       size_t n, unsigned *matched, struct write_count *out, struct sl_error *err)
{
	const struct driver *drv = ld->drv;
	*out = (struct write_count){0};
	if (!ld->keyed && !b->has_defaults && ld->group_idx < 0)
		return matched ? drv->write.update_batch(c, &ld->spec, b, first, n, matched, err)
			       : drv->write.write_batch(c, &ld->spec, b, first, n, out, err);
	int ncols = b->ncols;
	size_t *order = malloc(n * sizeof *order), *round_end = malloc(n * sizeof *round_end);
	size_t *vrow = malloc(n * sizeof *vrow);
	bool *done = calloc(n, sizeof *done);
	unsigned *vmatched = matched ? malloc(n * sizeof *vmatched) : NULL;
	struct batch view = {.cap_rows = n, .seq = b->seq};
	view.cells = malloc(n * (size_t)ncols * sizeof *view.cells);
	view.meta = malloc(n * sizeof *view.meta);
	char **names = malloc((size_t)ncols * sizeof *names);
	char **set = malloc((size_t)ncols * sizeof *set);
	int *idx = malloc((size_t)ncols * sizeof *idx);
	bool ok = order && round_end && vrow && done && (vmatched || !matched) && view.cells &&
		  view.meta && names && set && idx;
	size_t nrounds = 1;
	if (ok && ld->keyed && first == 0 && n == b->rounds_rows) {
		/* the reader worked them out */
		memcpy(order, b->round_order, n * sizeof *order);
		memcpy(round_end, b->round_end, b->nrounds * sizeof *round_end);
		nrounds = b->nrounds;
	} else if (ok && ld->keyed) {
		ok = key_rounds(b, first, n, ld->key_idx, ld->key_fold, ld->nkey_idx, order,
				round_end, &nrounds);
	} else if (ok) {
		for (size_t i = 0; i < n; i++)
			order[i] = first + i;
		round_end[0] = n;
	}
	if (!ok)
		sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
	if (ok && ld->keyed && ld->group_idx >= 0) {
		/* writers applying groups in parallel lock rows in key order:
		 * two transfers in opposite directions do not deadlock */
		struct key_order ko = {b, ld->key_idx, ld->nkey_idx};
		for (size_t r = 0, s = 0; r < nrounds; s = round_end[r++])
			qsort_r(order + s, round_end[r] - s, sizeof *order, compare_keys, &ko);
	}
	size_t start = 0;
	for (size_t r = 0; ok && r < nrounds; start = round_end[r++]) {
		for (size_t i = start; ok && i < round_end[r]; i++) {
			if (done[i])
				continue;
			const struct cell *ri = batch_row(b, order[i]);
			int k = 0;
			for (int col = 0; col < ncols; col++)
				if (!cell_is_default(&ri[col]) && written_column(ld, col)) {
					idx[k] = col;
					names[k++] = ld->spec.columns[col];
				}
			if (k == 0) {
				ok = false;
				sl_error_set(err, SL_ERR_DATA,
					     "the record has none of the table's columns");
				break;
			}
			view.ncols = k;
			view.nrows = 0;
			for (size_t j = i; j < round_end[r]; j++) {
				const struct cell *rj = batch_row(b, order[j]);
				bool same = !done[j];
				for (int col = 0; same && col < ncols; col++)
					same = cell_is_default(&rj[col]) ==
					       cell_is_default(&ri[col]);
				if (!same)
					continue;
				for (int t = 0; t < k; t++)
					view.cells[view.nrows * (size_t)k + (size_t)t] = rj[idx[t]];
				view.meta[view.nrows] = b->meta[order[j]];
				vrow[view.nrows++] = order[j];
				done[j] = true;
			}
			struct write_spec sub = ld->spec;
			sub.columns = names;
			sub.ncols = k;
			if (matched) {
				/* --set narrowed to the columns these records name */
				int ns = 0;
				for (int t = 0; t < ld->spec.nset; t++)
					for (int q = 0; q < k; q++)
						if (!strcmp(ld->spec.set[t], names[q]))
							set[ns++] = names[q];
				if (ld->spec.nset) {
					sub.set = set;
					sub.nset = ns;
				}
				memset(vmatched, 0, view.nrows * sizeof *vmatched);
				ok = drv->write.update_batch(c, &sub, &view, 0, view.nrows,
							     vmatched, err);
				for (size_t t = 0; ok && t < view.nrows; t++)
					matched[vrow[t] - first] = vmatched[t];
			} else {
				struct write_count w = {0};
				ok = drv->write.write_batch(c, &sub, &view, 0, view.nrows, &w, err);
				out->written += w.written;
				out->updated += w.updated;
				out->updated_unknown |= w.updated_unknown;
			}
		}
	}
	free(order);
	free(round_end);
	free(vrow);
	free(done);
	free(vmatched);
	free(view.cells);
	free(view.meta);
	free(names);
	free(set);
	free(idx);
	return ok;
}

static bool write_range_counts(struct load *ld, struct conn **c, const struct batch *b,
			       size_t first, size_t n, unsigned *matched, char **refused,
			       bool *taken, bool dense);

#ifdef SLUICE_TEST_HOOKS
/* test builds only: SLUICE_BISECT=1 bisects every refused batch, as sluice
 * did before write_each, for make bench's comparison */
static bool bisect_only;
static void read_bisect_env(void)
{
	const char *v = getenv("SLUICE_BISECT");
	bisect_only = v && !strcmp(v, "1");
}
#endif

/* Whether rows [first, first+n) of b, failing together, may be written one
 * by one on the server (the driver's write_each) rather than bisected: a
 * plain insert, not inside --single-transaction. */
static bool each_allowed(const struct load *ld, const struct batch *b, size_t n)
{
#ifdef SLUICE_TEST_HOOKS
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	pthread_once(&once, read_bisect_env);
	if (bisect_only)
		return false;
#endif
	return ld->drv->write.write_each && n > 1 && !ld->spec.update && !ld->keyed && !ld->nest &&
	       !b->has_defaults && ld->spec.on_conflict == CONFLICT_ERROR && !ld->run.single_conn;
}

/* Write rows [first, first+n) of b; dense: rows after a refused one,
 * which go one by one on the server as soon as they fail too. */
static bool write_range_in(struct load *ld, struct conn **c, const struct batch *b, size_t first,
			   size_t n, bool dense)
{
	unsigned *matched = NULL;
	char **refused = NULL;
	bool *taken = NULL;
	if ((ld->spec.update && !(matched = calloc(n ? n : 1, sizeof *matched))) ||
	    (ld->ckpt && !(taken = calloc(n ? n : 1, sizeof *taken))) ||
	    (each_allowed(ld, b, n) && !(refused = calloc(n, sizeof *refused)))) {
		free(matched);
		free(taken);
		struct sl_error err;
		sl_error_set(&err, SL_ERR_INTERNAL, "out of memory");
		run_fail(&ld->run, &err);
		return false;
	}
	bool ok = write_range_counts(ld, c, b, first, n, matched, refused, taken, dense);
	for (size_t i = 0; refused && i < n; i++)
		if (refused[i]) /* few: no call for the rest */
			free(refused[i]);
	free(refused);
	free(matched);
	free(taken);
	return ok;
}

static bool write_range(struct load *ld, struct conn **c, const struct batch *b, size_t first,
			size_t n)
{
	return write_range_in(ld, c, b, first, n, false);
}

/* --group-by: whether rows i and j of b are of one group (its records are
 * adjacent, so the rows between them are too). */
static bool same_group(const struct load *ld, const struct batch *b, size_t i, size_t j)
{
	const struct cell *x = &batch_row(b, i)[ld->group_idx],
			  *y = &batch_row(b, j)[ld->group_idx];
	if (!x->ptr || !y->ptr)
		return !x->ptr && !y->ptr;
	return x->len == y->len && !memcmp(x->ptr, y->ptr, x->len);
}

/* The rows write_each left out, in the rejects file with their messages;
 * with reject false, only how many there are. */
static size_t refused_rows(struct load *ld, const struct batch *b, size_t first, size_t n,
			   char **refused, bool reject)
{
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		if (!refused[i])
			continue;
		k++;
		if (reject) {
			const struct row_meta *m = &b->meta[first + i];
			run_reject(&ld->run, ld->job->sources[m->source], m->line, m->raw,
				   m->raw_len, refused[i]);
		}
	}
	return k;
}

/* Whether rejecting k more rows reaches --max-errors. */
static bool reaches_limit(struct load *ld, size_t k)
{
	long max = ld->job->max_errors;
	uint64_t now = atomic_load(&ld->run.live.rows_rejected);
	return max >= 0 && k > 0 && now + k >= (uint64_t)(max > 0 ? max : 1);
}

/* Count a committed write of rows [first, first+n): for a load, written
 * rows and (--on-conflict skip) skipped ones; for sluice update, the target
 * rows each record matched, and records whose key matched nothing are
 * reported as not found. */
static void count_written(struct load *ld, const struct batch *b, size_t first, size_t n,
			  const unsigned *matched, const struct write_count *wc)
{
	if (!matched) {
		atomic_fetch_add(&ld->run.live.rows_written, wc->written);
		atomic_fetch_add(&ld->run.live.rows_upsert_updated, wc->updated);
		if (wc->updated_unknown)
			atomic_store(&ld->run.live.upsert_unknown, true);
		if (ld->spec.on_conflict == CONFLICT_SKIP && wc->written < n)
			atomic_fetch_add(&ld->run.live.rows_skipped, n - wc->written);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		if (matched[i]) {
			atomic_fetch_add(&ld->run.live.rows_written, matched[i]);
			continue;
		}
		const struct row_meta *m = &b->meta[first + i];
		rejects_add_not_found(ld->run.rejects, ld->job->sources[m->source], m->line, m->raw,
				      m->raw_len);
		atomic_fetch_add(&ld->run.live.rows_not_found, 1);
		if (ld->run.single_conn) {
			/* all or nothing: a key that matches nothing is a reject too */
			struct sl_error err;
			sl_error_set(&err, SL_ERR_DATA,
				     "--single-transaction: %s:%ld was not found (no row matches "
				     "the key); nothing is committed",
				     ld->job->sources[m->source], m->line);
			run_fail(&ld->run, &err);
		}
	}
}

/* "file lines 12-40" for rows [first, first+n) of b, for a message. */
static void describe_lines(struct load *ld, const struct batch *b, size_t first, size_t n,
			   char *out, size_t outsz)
{
	const struct row_meta *a = &b->meta[first], *z = &b->meta[first + n - 1];
	if (a->source == z->source)
		snprintf(out, outsz, "%s lines %ld-%ld", ld->job->sources[a->source], a->line,
			 z->line);
	else
		snprintf(out, outsz, "%s line %ld to %s line %ld", ld->job->sources[a->source],
			 a->line, ld->job->sources[z->source], z->line);
}

/* Before asking a lost COMMIT's outcome again on another connection: 0.2,
 * 0.4, 0.8, 1.6 s, then 2 s. False at a signal. */
static bool ask_again_pause(int attempt)
{
	return signals_sleep(attempt < 4 ? 0.2 * (1 << attempt) : 2);
}

/* A plain COMMIT of an insert whose reply was lost: look the batch's rows
 * up by a unique key on a fresh connection. All there: it committed; none:
 * it did not; anything else, or no way to look: -1 (err set). */
static int settle_by_keys(struct load *ld, struct conn **c, const struct batch *b, size_t first,
			  size_t n, const char *token, struct sl_error *err)
{
	const struct driver *drv = ld->drv;
	char lines[600];
	describe_lines(ld, b, first, n, lines, sizeof lines);
	if (!ld->lookup_nkey || !drv->write.count_keys || ld->spec.update ||
	    ld->spec.on_conflict != CONFLICT_ERROR || b->has_defaults) {
		sl_error_set(
			err, SL_ERR_CONNECTION,
			"batch %ld (%s): the connection broke during COMMIT and %s cannot tell "
			"whether it committed (plain transactions, and no unique key to look the "
			"rows up by); stopping rather than risk losing or doubling them",
			b->seq, lines, drv->name);
		return -1;
	}
	struct write_spec ks = ld->spec;
	ks.key = ld->lookup_key;
	ks.nkey = ld->lookup_nkey;
	unsigned long long found = 0;
	/* on a fresh connection, and on another when that one breaks too (a
	 * pooled one to the server that went away, say) */
	for (int attempt = 0;; attempt++) {
		if (run_get_conn(&ld->run, c, err) &&
		    (!drv->tx.end_session || drv->tx.end_session(*c, token, err)) &&
		    drv->write.count_keys(*c, &ks, b, first, n, &found, err))
			break;
		if (err->kind != SL_ERR_CONNECTION || attempt >= ld->job->retries ||
		    signals_caught() || !ask_again_pause(attempt)) {
			sl_error_prefix(err,
					"batch %ld (%s): the connection broke during COMMIT and "
					"looking its rows up failed",
					b->seq, lines);
			return -1;
		}
		log_warn("batch %ld: looking up the rows of a COMMIT that got no reply: %s; "
			 "trying again",
			 b->seq, err->msg);
		if (*c) {
			run_put_conn(&ld->run, *c, true);
			*c = NULL;
		}
	}
	if (found == n || found == 0) {
		log_warn("batch %ld: the connection broke during COMMIT; its rows are %s", b->seq,
			 found ? "there: it committed" : "not there: it did not commit (retrying)");
		return found ? 1 : 0;
	}
	sl_error_set(
		err, SL_ERR_CONNECTION,
		"batch %ld (%s): the connection broke during COMMIT and %llu of its %zu rows are "
		"in the table; stopping rather than guess",
		b->seq, lines, found, n);
	return -1;
}

/* -v: the statement a batch goes out as (its shape: values are parameters
 * or COPY / LOAD DATA data, never shown) and the session it goes to. */
static void log_batch(struct load *ld, struct conn *c, const struct batch *b, size_t first,
		      size_t n)
{
	struct buf sql;
	buf_init(&sql, 0);
	const struct dialect *d = ld->drv->dialect;
	bool ok;
	if (ld->spec.update)
		ok = load_update_shown(ld, &sql);
	else if (sql_uses_bulk(&ld->spec))
		ok = d->bulk_load(&sql, &ld->spec);
	else
		ok = sql_insert(d, &sql, &ld->spec, 1) && buf_puts(&sql, " (one VALUES row shown)");
	char session[64] = "";
	if (ld->drv->conn.session_name)
		ld->drv->conn.session_name(c, session, sizeof session);
	const struct row_meta *a = &b->meta[first], *z = &b->meta[first + n - 1];
	bool csv = !ld->spec.update && sql_uses_bulk(&ld->spec) && ld->drv->write.takes_csv &&
		   ld->drv->write.takes_csv(&ld->spec) && batch_rows_csv(b, first, n);
	log_debug("batch %ld, %zu rows (%s lines %ld-%ld), %s: %s%s", b->seq, n,
		  ld->job->sources[a->source], a->line, z->line, session, ok ? buf_str(&sql) : "?",
		  csv ? ", the rows as their CSV text" : "");
	buf_free(&sql);
}

/* The end of the run of rows that starts at row i of b, before end: the
 * rows of one source whose checkpoint row can be one (a file's records
 * consecutive; a table read's consecutive in its key, gaps and all). */
static size_t run_end(const struct batch *b, size_t i, size_t end, bool files)
{
	size_t j = i;
	while (j + 1 < end && b->meta[j + 1].source == b->meta[i].source &&
	       (!files || b->meta[j + 1].ordinal == b->meta[j].ordinal + 1))
		j++;
	return j;
}

/* --resume: claim the checkpoint rows of rows [first, first+n) of b inside
 * the transaction on c, one per run of consecutive records of one source
 * (a rerun skips committed records, so a batch may hold several runs).
 * Records of files are guarded first, so that processes sharing the job,
 * whose batches need not fall alike, write each record once: the
 * stretches of every run are locked, then what is committed of them is
 * read (checkpoint.h says why in that order). CLAIM_TAKEN when another run
 * committed some of them: taken[k] (n flags, all false on the way in) is
 * set for each such row first + k, and the caller writes the others in
 * transactions of their own. */
static enum claim_result claim_rows(struct load *ld, struct conn *c, const struct batch *b,
				    size_t first, size_t n, bool *taken, struct sl_error *err)
{
	bool files = !ld->req->open_reader;
	size_t end = first + n, ntaken = 0;
	long long held = LLONG_MIN; /* the last stretch of the run's source locked */
	for (size_t i = first, j; files && i < end; i = j + 1) {
		j = run_end(b, i, end, files);
		if (i > first && b->meta[i].source != b->meta[i - 1].source)
			held = LLONG_MIN;
		if (!checkpoint_lock_stretches(ld->ckpt, c, b->meta[i].source, b->meta[i].ordinal,
					       b->meta[j].ordinal, &held, err))
			return CLAIM_FAILED;
	}
	for (size_t i = first, j; files && i < end; i = j + 1) {
		j = run_end(b, i, end, files);
		size_t k = 0;
		if (!checkpoint_taken(ld->ckpt, c, b->meta[i].source, b->meta[i].ordinal,
				      b->meta[j].ordinal, taken + (i - first), &k, err))
			return CLAIM_FAILED;
		ntaken += k;
	}
	if (ntaken)
		return CLAIM_TAKEN;
	for (size_t i = first, j; i < end; i = j + 1) {
		j = run_end(b, i, end, files);
		enum claim_result r =
			checkpoint_claim(ld->ckpt, c, b->meta[i].source, b->meta[i].ordinal,
					 b->meta[j].ordinal, j - i + 1, err);
		if (r == CLAIM_TAKEN && files) {
			/* cannot be, with the stretches locked and nothing of them
			 * committed: try again, and let the guard see what is */
			sl_error_set(err, SL_ERR_RETRY, "%s: records %lld-%lld are claimed already",
				     ld->job->sources[b->meta[i].source], b->meta[i].ordinal,
				     b->meta[j].ordinal);
			return CLAIM_FAILED;
		}
		if (r != CLAIM_OK)
			return r; /* TAKEN: a table read's range, whole */
	}
	return CLAIM_OK;
}

/* --group-by: a record whose key matches nothing leaves its group changed
 * in part (a transfer's debit without its credit), so the group is refused
 * like one the server refused: false with err naming the line. */
static bool group_all_found(struct load *ld, const struct batch *b, size_t first, size_t n,
			    const unsigned *matched, struct sl_error *err)
{
	for (size_t i = 0; i < n; i++)
		if (!matched[i]) {
			const struct row_meta *m = &b->meta[first + i];
			return sl_error_set(
				err, SL_ERR_DATA,
				"not found: the key of %s line %ld matches no row, so its "
				"--group-by group is rejected whole",
				ld->job->sources[m->source], m->line);
		}
	return true;
}

/* The connection broke while COMMIT was on its way: the batch may or may not
 * be in. Ask the server on a fresh connection (*c) rather than guess, so it
 * is neither lost nor written twice. Returns 1 committed, 0 not committed
 * (retry), -1 cannot tell (the run stops, err set). */
static int lost_commit_outcome(struct load *ld, struct conn **c, const struct batch *b,
			       size_t first, size_t n, struct sl_error *err)
{
	const struct driver *drv = ld->drv;
	char token[64] = "";
	int doubt = drv->tx.commit_token ? drv->tx.commit_token(*c, token, sizeof token) : -1;
	run_put_conn(&ld->run, *c, true);
	*c = NULL;
	if (doubt == 0)
		return 0; /* the commit never left: rolled back with the connection */
	if (!ld->ckpt && doubt < 0)
		return settle_by_keys(ld, c, b, first, n, token, err);
	/* ask on a fresh connection, and on another when that one breaks too:
	 * the answer is on the server as long as the server is */
	for (int attempt = 0;; attempt++) {
		bool committed = false;
		bool ok = run_get_conn(&ld->run, c, err) &&
			  (doubt > 0 || !drv->tx.end_session ||
			   drv->tx.end_session(*c, token, err)) &&
			  (ld->ckpt ? checkpoint_committed(ld->ckpt, *c, b->meta[first].source,
							   b->meta[first].ordinal, &committed, err)
				    : drv->tx.commit_status(*c, token, &committed, err));
		if (ok) {
			/* the checkpoint row went in with the rows, or neither did */
			log_warn("batch %ld: the connection broke during COMMIT; %s it %s", b->seq,
				 ld->ckpt ? "its checkpoint row says" : "the server says",
				 committed ? "committed" : "did not commit (retrying)");
			return committed ? 1 : 0;
		}
		if (err->kind != SL_ERR_CONNECTION || attempt >= ld->job->retries ||
		    signals_caught())
			return -1;
		log_warn("batch %ld: asking whether its COMMIT went in: %s; asking again", b->seq,
			 err->msg);
		if (*c) {
			run_put_conn(&ld->run, *c, true);
			*c = NULL;
		}
		if (!ask_again_pause(attempt))
			return -1;
	}
}

/* What one attempt at writing a range of a batch came to; the decision
 * switch in write_range_counts says what follows from each. */
enum attempt_outcome {
	ATTEMPT_COMMITTED,   /* written and committed */
	ATTEMPT_TAKEN,	     /* --resume: another run committed these records */
	ATTEMPT_NO_CONN,     /* no connection to write on (the pool gave up) */
	ATTEMPT_OVER_LIMIT,  /* write_each left out rows enough to reach --max-errors */
	ATTEMPT_INTERRUPTED, /* a signal, before or during the statements */
	ATTEMPT_LOST_COMMIT, /* the connection broke while COMMIT was on its way */
	ATTEMPT_CONN_BROKEN, /* the connection broke before COMMIT */
	ATTEMPT_CONFLICT,    /* a deadlock or serialization failure (SL_ERR_RETRY) */
	ATTEMPT_REFUSED,     /* the server refused data (SL_ERR_DATA) */
	ATTEMPT_FAILED,	     /* anything else, and any error under --single-transaction */
};

/* One attempt: rows [first, first+n) of b in one transaction on *c (taking
 * one when NULL), with write_each when each, then COMMIT. Only logs; what
 * follows (rollback, retry, reject, counting) is the caller's. err and
 * *written describe the attempt; ATTEMPT_TAKEN sets taken[k] (--resume: n
 * flags) for each row first + k another run committed, or none when all
 * were. The order of the tests matters: a signal
 * wins over any error it caused, and --single-transaction never retries. */
static enum attempt_outcome attempt_write(struct load *ld, struct conn **c, const struct batch *b,
					  size_t first, size_t n, unsigned *matched, char **refused,
					  bool *taken, bool each, struct write_count *written,
					  unsigned long long *kid_rows, struct sl_error *err)
{
	const struct driver *drv = ld->drv;
	bool single = ld->run.single_conn != NULL;
	sl_error_clear(err);
	*written = (struct write_count){0};
	if (!*c && !run_get_conn(&ld->run, c, err))
		return ATTEMPT_NO_CONN;
	if (matched)
		memset(matched, 0, n * sizeof *matched);
	if (log_get_level() >= LOG_DEBUG)
		log_batch(ld, *c, b, first, n);
	bool begun = single || drv->tx.begin(*c, err);
	if (begun && ld->ckpt) {
		memset(taken, 0, n * sizeof *taken);
		enum claim_result cr = claim_rows(ld, *c, b, first, n, taken, err);
		if (cr == CLAIM_TAKEN)
			return ATTEMPT_TAKEN;
		begun = cr == CLAIM_OK;
	}
	if (begun && ld->req->watermark) {
		/* copy --incremental: the watermark goes in with the rows it
		 * covers, or neither does; rows come in (cursor, key) order, so
		 * the last one with a cursor is the furthest */
		const char *mark = NULL;
		for (size_t i = first + n; i-- > first && !mark;)
			mark = b->meta[i].mark;
		begun = !mark || checkpoint_set_watermark(ld->req->watermark, *c,
							  ld->req->watermark_src, mark, 0, err);
	}
	for (size_t i = 0; each && i < n; i++) {
		free(refused[i]);
		refused[i] = NULL;
	}
	/* --parent-key generated: the parents' keys, made inside this
	 * transaction, for their children */
	char(*ids)[SQL_ID_BYTES] = ld->nest && ld->nest->generated ? malloc(n * sizeof *ids) : NULL;
	if (begun && ld->nest && ld->nest->generated && !ids)
		begun = sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
	bool wrote = begun &&
		     (each  ? drv->write.write_each(*c, &ld->spec, b, first, n, refused,
						    &written->written, err)
		      : ids ? nest_write_parents(ld, *c, b, first, n, ids, written, err)
			    : write_rows(ld, *c, b, first, n, matched, written, err)) &&
		     nest_write(ld, *c, b, first, n, ids, kid_rows, err);
	free(ids);
	if (wrote && each && reaches_limit(ld, refused_rows(ld, b, first, n, refused, false)))
		return ATTEMPT_OVER_LIMIT;
	if (wrote && matched && ld->group_idx >= 0 &&
	    !group_all_found(ld, b, first, n, matched, err))
		/* a group changed in part: rejected whole (all or nothing under
		 * --single-transaction: the run fails) */
		return single ? ATTEMPT_FAILED : ATTEMPT_REFUSED;
	if (wrote && signals_caught())
		return ATTEMPT_INTERRUPTED; /* before COMMIT: nothing of it is in */
	if (wrote && (single || drv->tx.commit(*c, err)))
		return ATTEMPT_COMMITTED;
	if (err->kind == SL_ERR_INTERRUPTED || signals_caught()) {
		/* the statement was cancelled (or not started) */
		char token[64];
		if (wrote && !single && drv->tx.commit_token &&
		    drv->tx.commit_token(*c, token, sizeof token) != 0)
			log_warn(
				"batch %ld: interrupted during its COMMIT, which may or may not have gone in",
				b->seq);
		return ATTEMPT_INTERRUPTED;
	}
	if (single)
		return ATTEMPT_FAILED; /* rolling back undoes every batch: no retry, no bisection */
	if (wrote && err->kind == SL_ERR_CONNECTION)
		return ATTEMPT_LOST_COMMIT; /* wrote, so it was the COMMIT that broke */
	switch (err->kind) {
	case SL_ERR_CONNECTION:
		return ATTEMPT_CONN_BROKEN;
	case SL_ERR_RETRY:
		return ATTEMPT_CONFLICT;
	case SL_ERR_DATA:
		return ATTEMPT_REFUSED;
	default:
		return ATTEMPT_FAILED;
	}
}

/* Roll back the transaction on *c (not the run's one under
 * --single-transaction); a connection that cannot roll back is dropped. */
static void end_attempt(struct load *ld, struct conn **c)
{
	struct sl_error rb;
	if (!ld->run.single_conn && !ld->drv->tx.rollback(*c, &rb)) {
		run_put_conn(&ld->run, *c, true);
		*c = NULL;
	}
}

/* A committed write: the driver's commit mode, the counters, and the rows
 * write_each left out into the rejects. */
static void settle_committed(struct load *ld, const struct batch *b, size_t first, size_t n,
			     const unsigned *matched, char **refused, bool each,
			     const struct write_count *written, const unsigned long long *kid_rows)
{
	count_written(ld, b, first, n, matched, written);
	nest_count(ld, kid_rows);
	if (each) {
		/* one row in 64 or more refused: the next rows are likely
		 * refused too, and the next batch starts row by row (it saves
		 * the attempt that would fail at its first bad row; a clean
		 * batch written so clears this again) */
		size_t k = refused_rows(ld, b, first, n, refused, true);
		atomic_store(&ld->each_first, k > 0 && k * 64 >= n);
	}
}

/* The server refused data in rows [first, first+n) and named none (or
 * write_each was tried): one row is rejected, more are bisected until the
 * bad rows stand alone. False when the run must stop. */
static bool bisect_refused(struct load *ld, struct conn **c, const struct batch *b, size_t first,
			   size_t n, const struct sl_error *err)
{
	if (ld->group_idx >= 0) {
		/* --group-by: a group stands or falls whole; split between groups */
		if (same_group(ld, b, first, first + n - 1)) {
			for (size_t i = first; i < first + n; i++) {
				const struct row_meta *m = &b->meta[i];
				run_reject(&ld->run, ld->job->sources[m->source], m->line, m->raw,
					   m->raw_len, err->msg);
			}
			return !run_failed(&ld->run);
		}
		size_t mid = first + n / 2;
		while (mid > first && same_group(ld, b, mid - 1, mid))
			mid--;
		if (mid == first)
			while (mid < first + n && same_group(ld, b, first, mid))
				mid++;
		return write_range(ld, c, b, first, mid - first) &&
		       write_range(ld, c, b, mid, first + n - mid);
	}
	if (n == 1) {
		const struct row_meta *m = &b->meta[first];
		run_reject(&ld->run, ld->job->sources[m->source], m->line, m->raw, m->raw_len,
			   err->msg);
		nest_count_rejected(ld, b, first);
		return !run_failed(&ld->run);
	}
	size_t half = n / 2;
	return write_range(ld, c, b, first, half) && write_range(ld, c, b, first + half, n - half);
}

/* The server named row k (0-based) of [first, first+n) as refused: the rows
 * before it are good, it is tried alone (rejected when it fails alone), and
 * the rest go on after it, densely (one by one as soon as they fail too). */
static bool write_around_row(struct load *ld, struct conn **c, const struct batch *b, size_t first,
			     size_t n, size_t k)
{
	return (k == 0 || write_range_in(ld, c, b, first, k, false)) && !run_stopping(&ld->run) &&
	       write_range_in(ld, c, b, first + k, 1, false) && !run_stopping(&ld->run) &&
	       (k + 1 == n || write_range_in(ld, c, b, first + k + 1, n - k - 1, true));
}

/* --resume: another run committed the rows of [first, first+n) of b that
 * taken flags (all of them when none is flagged: a table read's range
 * claimed whole): they count as resumed, and each stretch of the others
 * is written in a transaction of its own, guarded afresh. A --group-by
 * group is committed whole or not at all, so no stretch splits one. False
 * when the run must stop. */
static bool write_untaken(struct load *ld, struct conn **c, const struct batch *b, size_t first,
			  size_t n, const bool *taken)
{
	size_t ntaken = 0;
	for (size_t k = 0; k < n; k++)
		ntaken += taken[k];
	atomic_fetch_add(&ld->run.live.rows_resumed, ntaken ? ntaken : n);
	if (!ntaken || ntaken == n)
		return true;
	log_debug("batch %ld: another run committed %zu of its %zu rows (%s lines %ld-%ld); "
		  "writing the others",
		  b->seq, ntaken, n, ld->job->sources[b->meta[first].source], b->meta[first].line,
		  b->meta[first + n - 1].line);
	for (size_t k = 0; k < n;) {
		size_t z = k;
		while (z < n && taken[z] == taken[k])
			z++;
		if (!taken[k] && !write_range(ld, c, b, first + k, z - k))
			return false;
		if (run_stopping(&ld->run))
			return false;
		k = z;
	}
	return true;
}

/* Write rows [first, first+n) of b until they are committed, rejected or the
 * run stops: attempt_write tries once, and the switch below decides what
 * follows each outcome. It alone retries (a broken connection up to
 * --retries times, a conflict between writers up to 20 times after a
 * random pause), counts, rejects and stops the run. False when the run must
 * stop (run_fail has the reason, or a signal came). */
static bool write_range_counts(struct load *ld, struct conn **c, const struct batch *b,
			       size_t first, size_t n, unsigned *matched, char **refused,
			       bool *taken, bool dense)
{
	const struct driver *drv = ld->drv;
	int conn_failures = 0, conflicts = 0;
	/* each: the rows failed together and go one by one on the server;
	 * at once when the batch before had many refused */
	bool each = refused && !dense && atomic_load(&ld->each_first);
	bool each_tried = each;
	for (;;) {
		struct sl_error err;
		struct write_count written;
		unsigned long long kid_rows[NEST_MAX] = {0};
		switch (attempt_write(ld, c, b, first, n, matched, refused, taken, each, &written,
				      kid_rows, &err)) {
		case ATTEMPT_COMMITTED:
			if (drv->tx.commit_mode && !atomic_load(&ld->commit_mode))
				atomic_store(&ld->commit_mode, drv->tx.commit_mode(*c));
			settle_committed(ld, b, first, n, matched, refused, each, &written,
					 kid_rows);
			return true;
		case ATTEMPT_TAKEN:
			/* another run committed these records, or some of them: not
			 * ours to write; the others are */
			end_attempt(ld, c);
			return write_untaken(ld, c, b, first, n, taken);
		case ATTEMPT_OVER_LIMIT:
			/* --max-errors stops at a row: bisect, so what follows that
			 * row is not written */
			end_attempt(ld, c);
			each = false;
			continue;
		case ATTEMPT_INTERRUPTED:
			/* this batch is rolled back, never committed nor retried */
			end_attempt(ld, c);
			return false;
		case ATTEMPT_LOST_COMMIT:
			/* ask the server rather than guess, so the batch is neither
			 * lost nor written twice */
			switch (lost_commit_outcome(ld, c, b, first, n, &err)) {
			case 1:
				settle_committed(ld, b, first, n, matched, refused, each, &written,
						 kid_rows);
				return true;
			case 0: /* it was rolled back: write it again */
				if (conn_failures++ < ld->job->retries && !signals_caught())
					continue;
				break;
			default:
				break;
			}
			run_fail(&ld->run, &err);
			return false;
		case ATTEMPT_CONN_BROKEN:
			/* the server rolled the batch back with the connection */
			run_put_conn(&ld->run, *c, true);
			*c = NULL;
			if (conn_failures++ < ld->job->retries && !signals_caught()) {
				log_warn("batch %ld: %s; retrying on a fresh connection (%d of %d)",
					 b->seq, err.msg, conn_failures, ld->job->retries);
				continue;
			}
			run_fail(&ld->run, &err);
			return false;
		case ATTEMPT_CONFLICT:
			/* a deadlock between writers: the server rolled back; try
			 * again after a random pause, so the two do not meet again */
			if (conflicts++ < 20 && !signals_caught()) {
				end_attempt(ld, c);
				log_debug("batch %ld: %s; retrying", b->seq, err.msg);
				struct timespec ts = {0, (long)(prng_below(50) + 10) * 1000 * 1000};
				nanosleep(&ts, NULL);
				continue;
			}
			run_fail(&ld->run, &err);
			return false;
		case ATTEMPT_REFUSED:
			end_attempt(ld, c);
			if (refused && !each_tried && !dense && err.row > 0 &&
			    (size_t)err.row <= n) {
				log_debug("batch %ld: %s; row %ld of %zu named", b->seq, err.msg,
					  err.row, n);
				return write_around_row(ld, c, b, first, n, (size_t)err.row - 1);
			}
			if (refused && !each_tried) {
				/* more than one refused row: write the rows one by one on
				 * the server, which leaves out each refused one, in one
				 * round trip instead of a bisection per bad row */
				log_debug("batch %ld: %s; writing its rows one by one", b->seq,
					  err.msg);
				each = each_tried = true;
				continue;
			}
			return bisect_refused(ld, c, b, first, n, &err); /* not a row's failure */
		case ATTEMPT_NO_CONN:
		case ATTEMPT_FAILED:
			run_fail(&ld->run, &err);
			return false;
		}
	}
}

/* The key gate's reason to stop waiting: a signal or a failed run. */
static bool gate_stop(void *arg)
{
	return run_stopping(arg);
}

void *writers_main(void *arg)
{
	struct writer_arg *wa = arg;
	struct load *ld = wa->ld;
	void *item;
	while (queue_pop(&ld->work[wa->queue], &item)) {
		struct batch *b = item;
		/* keyed batches from a shared queue: after the earlier ones that
		 * share a key with this one (key_gate.h) */
		if (!run_stopping(&ld->run) &&
		    (!ld->gate || key_gate_wait(ld->gate, b->seq, gate_stop, &ld->run))) {
			struct conn *c = NULL;
			write_range(ld, &c, b, 0, b->nrows);
			run_put_conn(&ld->run, c, false);
		}
		if (ld->gate)
			key_gate_done(ld->gate, b->seq);
		atomic_fetch_add(&ld->run.live.bytes_done, b->bytes);
		batch_reset(b);
		queue_push(&ld->spare, b);
	}
	return NULL;
}
