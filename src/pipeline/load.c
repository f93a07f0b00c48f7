/* src/pipeline/load.c
 * The load pipeline: the reader (this thread) fills batches and hands them
 * through a bounded queue to --workers writer threads (writers.c), after
 * plan.c has checked the target and the sources. Memory is bounded by the
 * number of batches in flight, never by the input. load_table runs one
 * table; load_run adds the summary.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "sluice/checkpoint.h"
#include "sluice/convert.h"
#include "sluice/create.h"
#include "sluice/key_gate.h"
#include "sluice/keys.h"
#include "sluice/log.h"
#include "sluice/pipeline.h"
#include "sluice/rejects.h"
#include "sluice/signals.h"
#include "sluice/url.h"

/* A CSV header line for the rejects file, quoting names where needed. */
static char *header_line(char *const *names, int n, char delim)
{
	struct buf b;
	buf_init(&b, 0);
	for (int i = 0; i < n; i++) {
		if (i)
			buf_catc(&b, delim);
		if (strpbrk(names[i], "\"\n\r") || strchr(names[i], delim)) {
			buf_catc(&b, '"');
			for (const char *p = names[i]; *p; p++) {
				if (*p == '"')
					buf_catc(&b, '"');
				buf_catc(&b, *p);
			}
			buf_catc(&b, '"');
		} else {
			buf_cat(&b, names[i]);
		}
	}
	if (buf_failed(&b)) {
		buf_free(&b);
		return NULL;
	}
	return b.data ? b.data : strdup("");
}

bool load_update_shown(const struct load *ld, struct buf *b)
{
	/* the --group-by column goes to no table */
	struct write_spec shown = ld->spec;
	char **cols = malloc((size_t)(ld->ncols ? ld->ncols : 1) * sizeof *cols);
	shown.columns = cols;
	shown.ncols = 0;
	for (int i = 0; cols && i < ld->ncols; i++)
		if (i != ld->group_idx)
			cols[shown.ncols++] = ld->columns[i];
	bool ok = cols && sql_update_row(ld->drv->dialect, b, &shown);
	free(cols);
	return ok;
}

/* Print the statements a real run would send. */
static void print_dry_run(struct load *ld)
{
	struct buf b;
	buf_init(&b, 0);
	const struct dialect *d = ld->drv->dialect;
	if (!ld->spec.update)
		buf_catf(&b, "-- method %s%s%s\n", method_name(ld->spec.method),
			 ld->method_reason ? ": " : "", ld->method_reason ? ld->method_reason : "");
	if (ld->job->truncate) {
		if (!sql_truncate(d, &b, &ld->spec))
			b.failed = true;
		buf_cat(&b, ";\n");
	}
	if (ld->spec.update) {
		buf_cat(&b,
			"-- one statement per row or per group of rows, values sent as parameters\n");
		if (!load_update_shown(ld, &b))
			b.failed = true;
		buf_cat(&b, ";\n");
	} else if (sql_uses_bulk(&ld->spec)) {
		if (!d->bulk_load(&b, &ld->spec))
			b.failed = true;
		buf_cat(&b, ";\n");
	} else {
		size_t per = sql_rows_per_statement(d, ld->ncols, ld->spec.batch_rows);
		buf_catf(&b, "-- up to %zu rows per statement, values sent as parameters\n", per);
		if (!sql_insert(d, &b, &ld->spec, 1))
			b.failed = true;
		buf_cat(&b, ";\n");
	}
	nest_print_tree(ld);
	if (buf_failed(&b))
		log_error("the statements cannot be shown: out of memory or a name that "
			  "cannot be quoted");
	else
		fputs(buf_str(&b), stdout);
	fflush(stdout);
	buf_free(&b);
}

/* With --create, create the missing table from the first batch's rows. */
static bool maybe_create(struct load *ld, const struct batch *b, bool *done)
{
	if (*done || !ld->job->create)
		return true;
	*done = true;
	struct sl_error err;
	sl_error_clear(&err);
	struct conn *c = NULL;
	/* inside --single-transaction, DDL that cannot join the transaction
	 * (MySQL) runs on a connection of its own */
	bool own = ld->run.single_conn && !ld->drv->dialect->transactional_ddl;
	if ((ld->run.pool || ld->run.single_conn) &&
	    !(own ? pool_acquire(ld->run.pool, &c, &err) : run_get_conn(&ld->run, &c, &err))) {
		run_fail(&ld->run, &err);
		return false;
	}
	bool created = false;
	bool ok = create_table_from_sample(ld->drv, c, &ld->spec, b, ld->job->dry_run, &created,
					   &err) &&
		  nest_create(ld, c, b, ld->job->dry_run, &err);
	if (own)
		pool_release(ld->run.pool, c, !ok && err.kind == SL_ERR_CONNECTION);
	else
		run_put_conn(&ld->run, c, !ok && err.kind == SL_ERR_CONNECTION);
	if (!ok) {
		run_fail(&ld->run, &err);
		return false;
	}
	if (created && !ld->job->dry_run) {
		log_info("created table %s", ld->table);
		/* the rows after the sample are held to the types it gave */
		if (b->nrows && b->ncols == ld->ncols &&
		    (ld->inferred = malloc((size_t)ld->ncols * sizeof *ld->inferred))) {
			infer_types(b, ld->inferred);
			ld->inferred_rows = b->nrows;
		}
	}
	return true;
}

/* --create made the table from the sample: why a later record's value
 * cannot go into the type inferred for its column (the column would store
 * another value: '00501' as 501, or refuse it), or NULL. */
static const char *inferred_problem(struct load *ld, const struct record *rec, char *msg, size_t n)
{
	for (int i = 0; i < ld->ncols && i < (int)rec->nfields; i++) {
		const struct cell *c = &rec->fields[i];
		if (!c->ptr || cell_is_default(c) ||
		    infer_value_fits(ld->inferred[i], c->ptr, c->len))
			continue;
		snprintf(msg, n,
			 "column \"%s\": '%.*s' is not %s, which --create made the column from "
			 "the first %zu rows (it would be stored as another value, or refused); "
			 "create the table first, or sample more rows with --batch-rows",
			 ld->columns[i], (int)(c->len < 60 ? c->len : 60), c->ptr,
			 infer_type_words(ld->inferred[i]), ld->inferred_rows);
		return msg;
	}
	return NULL;
}

/* Enter batch b in the key gate with the keys of its rows, before a writer
 * can take it. False (the run failed) on out of memory. */
static bool gate_enter(struct load *ld, const struct batch *b)
{
	uint64_t *h = malloc((b->nrows ? b->nrows : 1) * sizeof *h);
	for (size_t i = 0; h && i < b->nrows; i++)
		h[i] = key_hash(batch_row(b, i), ld->key_idx, ld->key_fold, ld->nkey_idx);
	bool ok = h && key_gate_enter(ld->gate, b->seq, h, b->nrows);
	free(h);
	if (!ok) {
		struct sl_error err;
		sl_error_set(&err, SL_ERR_INTERNAL, "out of memory");
		run_fail(&ld->run, &err);
	}
	return ok;
}

/* Rows the quick exactness tests take at a time (test_exact_rows). */
#define EXACT_BLOCK 64

static void test_exact_rows(const struct load *ld, struct batch *b);

/* Keyed writes: the rounds of b's rows (key_rounds), worked out here
 * while the writers wait on the server, not by a writer between its
 * statements. Out of memory: none, and the writer works them out. */
static void plan_rounds(const struct load *ld, struct batch *b)
{
	b->rounds_rows = 0;
	if (b->rounds_cap < b->nrows) {
		free(b->round_order);
		free(b->round_end);
		b->round_order = malloc(b->nrows * sizeof *b->round_order);
		b->round_end = malloc(b->nrows * sizeof *b->round_end);
		b->rounds_cap = b->round_order && b->round_end ? b->nrows : 0;
		if (!b->rounds_cap)
			return;
	}
	if (b->nrows && key_rounds(b, 0, b->nrows, ld->key_idx, ld->key_fold, ld->nkey_idx,
				   b->round_order, b->round_end, &b->nrounds))
		b->rounds_rows = b->nrows;
}

/* Hand a filled batch to writer queue q (in a dry run, back to the reader
 * empty, its bytes counted as done). It carries the input bytes read since
 * the last batch went. */
static bool dispatch(struct load *ld, struct batch *b, int q, uint64_t *pending_bytes,
		     bool *create_done)
{
	if (ld->nexact_cols)
		test_exact_rows(ld, b); /* the rows since the last block */
	b->bytes += *pending_bytes;
	*pending_bytes = 0;
	if (!maybe_create(ld, b, create_done))
		return false;
	if (ld->keyed && !ld->job->dry_run)
		plan_rounds(ld, b);
	if (ld->job->dry_run) {
		atomic_fetch_add(&ld->run.live.bytes_done, b->bytes);
		batch_reset(b);
		return queue_push(&ld->spare, b);
	}
	if (ld->gate && !gate_enter(ld, b))
		return false;
	return queue_push(&ld->work[q], b);
}

/* sluice update: why a record cannot be an update (a key part NULL or
 * missing, nothing to set), or NULL when it can. */
static const char *update_problem(struct load *ld, const struct record *rec, char *msg, size_t n)
{
	for (int k = 0; k < ld->nkey_idx; k++) {
		const struct cell *c = &rec->fields[ld->key_idx[k]];
		if (!c->ptr || cell_is_default(c)) {
			snprintf(msg, n, "key column \"%s\" is %s: a NULL key matches no row",
				 ld->columns[ld->key_idx[k]], c->ptr ? "missing" : "NULL");
			return msg;
		}
	}
	if (ld->spec.del)
		return NULL;
	for (int i = 0; i < ld->nset_idx; i++)
		if (!cell_is_default(&rec->fields[ld->set_idx[i]]))
			return NULL;
	snprintf(msg, n, "the record names no column to set, only its key");
	return msg;
}

/* --add: why a record's delta cannot be added (it is NULL: "add nothing"
 * would hide a hole in the input), or NULL when it can. */
static const char *delta_problem(struct load *ld, const struct record *rec, char *msg, size_t n)
{
	for (int i = 0; i < ld->ncols; i++) {
		const struct cell *c = &rec->fields[i];
		if (!c->ptr && !cell_is_default(c) &&
		    sql_is_add_column(&ld->spec, ld->columns[i])) {
			snprintf(msg, n, "--add column \"%s\" is NULL: a delta must be a number",
				 ld->columns[i]);
			return msg;
		}
	}
	return NULL;
}

/* --on-conflict skip|update: why a record cannot be an upsert (a key part
 * NULL: NULL equals nothing, so the record would be inserted again on every
 * run instead of meeting its row), or NULL when it can. */
static const char *upsert_problem(struct load *ld, const struct record *rec, char *msg, size_t n)
{
	for (int k = 0; k < ld->nkey_idx; k++) {
		const struct cell *c = &rec->fields[ld->key_idx[k]];
		if (!c->ptr && !cell_is_default(c)) {
			snprintf(msg, n,
				 "key column \"%s\" is NULL: a NULL key part never matches a row, "
				 "so the record would be inserted again on every run",
				 ld->columns[ld->key_idx[k]]);
			return msg;
		}
	}
	return NULL;
}

/* Hand batch cur[0] to the writers, with the input bytes read since the
 * last one went. */
static bool send_batch(struct load *ld, struct reader *r, struct batch **cur, uint64_t *last_pos,
		       uint64_t *pending_bytes, bool *create_done)
{
	uint64_t pos = reader_position(r);
	atomic_fetch_add(&ld->run.live.bytes, pos - *last_pos);
	*pending_bytes += pos - *last_pos;
	*last_pos = pos;
	struct batch *b = cur[0];
	cur[0] = NULL;
	return dispatch(ld, b, 0, pending_bytes, create_done);
}

/* --group-by (one queue): place record rec in its group. A new group
 * sends the batch when it holds --batch-rows records already; a group
 * that comes back after others is the end of the run (exit 2); a group
 * that outgrows --max-group-rows is rejected whole, its records in the
 * batch and every later one. 1: add the record to cur[0]; 0: it was
 * rejected; -1: the run stops. */
static int group_step(struct load *ld, struct reader *r, const struct record *rec, const char *name,
		      const char *bad, struct batch **cur, uint64_t *last_pos,
		      uint64_t *pending_bytes, bool *create_done)
{
	struct sl_error err;
	const struct cell *v = &rec->fields[ld->group_idx];
	long began = 0;
	switch (groups_next(ld->groups, v, rec->line, &began)) {
	case GROUP_NO_MEMORY:
		sl_error_set(&err, SL_ERR_INTERNAL, "out of memory");
		run_fail(&ld->run, &err);
		return -1;
	case GROUP_BROKEN:
		sl_error_set(
			&err, SL_ERR_USAGE,
			"%s:%ld: --group-by %s: its group %s%.*s%s began at line %ld and other "
			"records came between: a group's records must be adjacent (sort the "
			"input by %s)",
			name, rec->line, ld->job->group_by, v->ptr ? "'" : "",
			v->ptr ? (int)(v->len > 60 ? 60 : v->len) : 4, v->ptr ? v->ptr : "NULL",
			v->ptr ? "'" : "", began, ld->job->group_by);
		run_fail(&ld->run, &err);
		return -1;
	case GROUP_NEW:
		if (cur[0] && cur[0]->nrows >= ld->job->batch_rows &&
		    !send_batch(ld, r, cur, last_pos, pending_bytes, create_done))
			return -1;
		break;
	case GROUP_SAME:
		break;
	}
	size_t rows = groups_rows(ld->groups);
	if (groups_rejecting(ld->groups)) {
		run_reject(&ld->run, name, rec->line, rec->raw, rec->raw_len,
			   groups_why(ld->groups));
		return 0;
	}
	if (bad || rows > ld->max_group_rows) {
		/* the record cannot go in, so its group does not: its records
		 * so far (the batch's last ones) and every later one are rejects */
		char why[700];
		if (bad)
			snprintf(why, sizeof why,
				 "its --group-by group is rejected whole: line %ld: %s", rec->line,
				 bad);
		else
			snprintf(
				why, sizeof why,
				"its --group-by group has more than %zu records (--max-group-rows): "
				"rejected whole",
				ld->max_group_rows);
		groups_reject(ld->groups, why);
		size_t k = rows - 1;
		for (size_t i = cur[0] ? cur[0]->nrows - k : 0; cur[0] && i < cur[0]->nrows; i++) {
			const struct row_meta *m = &cur[0]->meta[i];
			run_reject(&ld->run, ld->job->sources[m->source], m->line, m->raw,
				   m->raw_len, why);
		}
		if (cur[0])
			cur[0]->nrows -= k;
		run_reject(&ld->run, name, rec->line, rec->raw, rec->raw_len, why);
		return 0;
	}
	if (cur[0] && batch_full(cur[0]) && !batch_grow(cur[0], cur[0]->cap_rows * 2)) {
		sl_error_set(&err, SL_ERR_INTERNAL, "out of memory");
		run_fail(&ld->run, &err);
		return -1;
	}
	return 1;
}

/* Whether the reader may find the records of a plain load with its
 * quote-aware scan (reader_ops.raw_csv), which gives the fields libcsv
 * would: nothing here looks at their fields before batch_add_row copies
 * them. Test builds: SLUICE_SLOW_CSV=1 says no, so the same tests run
 * through the parser alone. */
static bool fast_read_wanted(const struct load *ld)
{
#ifdef SLUICE_TEST_HOOKS
	const char *v = getenv("SLUICE_SLOW_CSV");
	if (v && !strcmp(v, "1"))
		return false;
#endif
	return !ld->spec.update && ld->spec.on_conflict == CONFLICT_ERROR && !ld->spec.nadd &&
	       ld->group_idx < 0 && ld->nqueues <= 1 && !ld->keyed && !ld->nest;
}

/* Whether records so found may reach the driver as their CSV text
 * (driver.write.takes_csv); otherwise their fields are copied as values. */
static bool csv_wanted(const struct load *ld)
{
	return ld->drv->write.takes_csv && ld->drv->write.takes_csv(&ld->spec);
}

/* Read every record of one source into batches: cur[q] is the batch being
 * filled for writer queue q. */
static bool load_source(struct load *ld, struct reader *r, int src_index, struct batch **cur,
			long *seq, uint64_t *pending_bytes, bool *create_done)
{
	const char *name = ld->job->sources[src_index];
	uint64_t last_pos = 0; /* the header was read ahead: count from the start */
	char why[600];
	bool ok = true;
	if (ld->group_idx >= 0 && ld->job->sort_groups) {
		struct sl_error err;
		if (!group_sort_read(&ld->sorted, r, name, ld->group_idx, ld->job->sort_groups,
				     &err)) {
			run_fail(&ld->run, &err);
			return false;
		}
	}
	char csv_delim = 0, csv_quote = 0; /* records as CSV text: their dialect */
	if (fast_read_wanted(ld) && r->ops->raw_csv && r->ops->raw_csv(r, &csv_delim, &csv_quote)) {
		log_debug("%s: plain records found by the quote-aware scan%s", name,
			  csv_wanted(ld) ? ", sent as their CSV text" : "");
		if (!csv_wanted(ld))
			csv_delim = csv_quote = 0;
	} else {
		csv_delim = csv_quote = 0;
	}
	/* records read but not yet counted in the run's live rows_read: one
	 * atomic add per 64 records and before each batch goes, not per record */
	uint64_t uncounted = 0;
	static const struct record no_record;
	for (unsigned long nread = 0;; nread++) {
		/* every 64 records: run_stopping takes the run's lock */
		if (nread % 64 == 0) {
			atomic_fetch_add(&ld->run.live.rows_read, uncounted);
			uncounted = 0;
			if (run_stopping(&ld->run)) {
				ok = false;
				break;
			}
		}
		struct record rec = no_record;
		struct sl_error err;
		sl_error_clear(&err);
		/* plain CSV records' fields straight into the batch's next row */
		r->cells_to = csv_delim && cur[0] ? batch_next_cells(cur[0]) : NULL;
		r->cells_room = r->cells_to ? (size_t)cur[0]->ncols : 0;
		enum read_status st = ld->sorted ? group_sort_next(ld->sorted, &rec, &err)
						 : r->ops->next(r, &rec, &err);
		if (st == READ_EOF)
			break;
		if (st == READ_FAIL) {
			/* the input breaks off here: stop reading, but what came before
			 * it is still written; the run fails after that */
			sl_error_prefix(&err, "%s", name);
			ld->input_err = err;
			ld->input_failed = true;
			ok = false;
			break;
		}
		long long ordinal = ld->src_records[src_index]++;
		if (rec.has_ordinal) {
			ordinal = rec.ordinal; /* the reader's own (a key) */
		}
		if (ld->ckpt && checkpoint_covered(ld->ckpt, src_index, ordinal)) {
			/* committed by an earlier run of this job */
			atomic_fetch_add(&ld->run.live.rows_resumed, 1);
			continue;
		}
		uncounted++;
		if (st == READ_REJECT) {
			run_reject(&ld->run, name, rec.line, rec.raw, rec.raw_len, err.msg);
			continue;
		}
		const char *bad = NULL;
		if (ld->spec.update)
			bad = update_problem(ld, &rec, why, sizeof why);
		else if (ld->spec.on_conflict != CONFLICT_ERROR)
			bad = upsert_problem(ld, &rec, why, sizeof why);
		if (!bad && ld->spec.nadd)
			bad = delta_problem(ld, &rec, why, sizeof why);
		if (!bad && ld->inferred)
			bad = inferred_problem(ld, &rec, why, sizeof why);
		if (ld->group_idx >= 0) {
			/* a group's records go in one batch: a new group may start
			 * the next batch, a group never straddles two */
			atomic_fetch_add(&ld->run.live.rows_read, uncounted); /* it may dispatch */
			uncounted = 0;
			int gs = group_step(ld, r, &rec, name, bad, cur, &last_pos, pending_bytes,
					    create_done);
			if (gs < 0) {
				ok = false;
				break;
			}
			if (gs == 0)
				continue; /* rejected with its group */
		} else if (bad) {
			run_reject(&ld->run, name, rec.line, rec.raw, rec.raw_len, bad);
			continue;
		}
		int q = ld->nqueues > 1 ? (int)(key_hash(rec.fields, ld->key_idx, ld->key_fold,
							 ld->nkey_idx) %
						(uint64_t)ld->nqueues)
					: 0;
		if (!cur[q]) {
			void *item;
			if (!queue_pop(&ld->spare, &item)) {
				ok = false;
				break;
			}
			cur[q] = item;
			cur[q]->seq = ++*seq;
			cur[q]->exact_rules = ld->exact_rules;
			cur[q]->csv_delim = csv_delim;
			cur[q]->csv_quote = csv_quote;
		}
		if (!csv_delim)
			rec.csv = false; /* its values are copied, NUL-terminated */
		if (batch_add_row(cur[q], &rec, src_index, true) &&
		    (!ld->nest || nest_add_kids(ld, cur[q], cur[q]->nrows - 1, &rec))) {
			struct row_meta *m = &cur[q]->meta[cur[q]->nrows - 1];
			m->ordinal = ordinal;
			if (cur[q]->nrows - cur[q]->exact_from >= EXACT_BLOCK)
				test_exact_rows(ld, cur[q]);
			/* a batch begun by a source of another dialect */
			if (!csv_delim || cur[q]->csv_delim != csv_delim ||
			    cur[q]->csv_quote != csv_quote)
				m->csv = false;
		} else {
			sl_error_set(&err, SL_ERR_INTERNAL, "%s:%ld: out of memory", name,
				     rec.line);
			run_fail(&ld->run, &err);
			ok = false;
			break;
		}
		if (ld->group_idx < 0 &&
		    (batch_full(cur[q]) || (ld->nest && nest_batch_full(ld, cur[q])))) {
			atomic_fetch_add(&ld->run.live.rows_read, uncounted);
			uncounted = 0;
			uint64_t pos = reader_position(r);
			atomic_fetch_add(&ld->run.live.bytes, pos - last_pos);
			*pending_bytes += pos - last_pos;
			last_pos = pos;
			struct batch *b = cur[q];
			cur[q] = NULL;
			if (!dispatch(ld, b, q, pending_bytes, create_done)) {
				ok = false;
				break;
			}
		}
	}
	r->cells_to = NULL;
	atomic_fetch_add(&ld->run.live.rows_read, uncounted);
	uint64_t pos = reader_position(r);
	atomic_fetch_add(&ld->run.live.bytes, pos - last_pos);
	*pending_bytes += pos - last_pos;
	if (ok)
		ld->src_read_all[src_index] = true;
	/* the batches hold copies of what they took */
	group_sort_free(ld->sorted);
	ld->sorted = NULL;
	return ok;
}

/* Open source i and check it against the columns fixed by the first. */
static bool open_next_source(struct load *ld, int i, struct reader **r, struct sl_error *err)
{
	const struct job *job = ld->job;
	if (ld->req->open_reader ? !ld->req->open_reader(ld->req->reader_ctx, r, err)
				 : !reader_open(r, job->sources[i], &ld->input, err))
		return false;
	if ((*r)->nheader && !job->ncolumns) {
		bool same = (*r)->nheader == ld->ncols;
		for (int c = 0; same && c < ld->ncols; c++)
			same = !strcmp((*r)->header[c], ld->columns[c]);
		if (!same)
			return sl_error_set(err, SL_ERR_USAGE, "%s: its header differs from %s's",
					    job->sources[i], job->sources[0]);
	}
	return (*r)->ops->set_columns(*r, ld->columns, ld->ncols, err) &&
	       nest_tell_reader(ld, *r, err);
}

/* How to go on after an interrupted run that committed rows. */
static const char *how_to_go_on(const struct load *ld)
{
	const struct job *job = ld->job;
	if (job->resume)
		return "to go on, run the same command again: --resume skips what is committed";
	if (ld->spec.nadd)
		return "the committed batches' deltas are in, so running the same command again "
		       "would add them twice: leave out the committed lines first (with --resume "
		       "a rerun goes on exactly once)";
	if (ld->spec.del)
		return "to go on, run the same command again: the rows deleted already count as "
		       "not found";
	if (ld->spec.update)
		return "to go on, run the same command again: it sets the same values";
	if (ld->spec.on_conflict != CONFLICT_ERROR)
		return "to go on, run the same command again: the rows already in are written by key once more";
	if (job->truncate)
		return "run the same command again to start over (--truncate empties the table first)";
	return "to start over, run it again with --truncate (it empties the table first); with "
	       "--resume a rerun goes on where a run stopped";
}

/* A signal ended the run: say so, what is committed to table and how to go
 * on. A unit of sluice copy leaves that to copy. */
static void note_interrupted(struct load *ld, const char *table, struct run_report *report)
{
	if (ld->req->open_reader)
		return;
	unsigned long long rows = atomic_load(&ld->run.live.rows_written);
	char msg[900];
	if (!rows)
		snprintf(
			msg, sizeof msg,
			"interrupted by %s: nothing is committed to %s; run the same command again",
			signals_name(), table);
	else
		snprintf(msg, sizeof msg,
			 "interrupted by %s: %llu rows are committed to %s, in whole batches (what "
			 "was in flight is rolled back); %s",
			 signals_name(), rows, table, how_to_go_on(ld));
	log_result("%s", msg); /* what the operator asked for: no error */
	report_add_error(report, msg);
}

/* Connect: the pool, or the single connection of --single-transaction. */
static bool connect_target(struct load *ld, struct sl_error *err)
{
	const struct job *job = ld->job;
	int workers = job->single_transaction ? 1 : job->workers;
	struct pool_config cfg = {
		.min = job->pool_min,
		/* --single-transaction holds one connection all along; one more
		 * serves DDL that cannot join the transaction */
		.max = job->pool_max ? job->pool_max : workers + (job->single_transaction ? 1 : 0),
		.acquire_timeout = job->acquire_timeout,
		.idle_timeout = job->idle_timeout,
		.recheck_after = 1.0,
		.retries = job->retries,
		.backoff_base = 0.2,
		.timeout = job->timeout,
		/* --resume: the checkpoint row settles a lost COMMIT */
		.plain_commits = job->resume,
	};
	if (!pool_create(&ld->run.pool, ld->drv, job->target, &cfg, err))
		return false;
	if (job->single_transaction && !job->dry_run) {
		if (!pool_acquire(ld->run.pool, &ld->run.single_conn, err))
			return false;
		if (!ld->drv->tx.begin(ld->run.single_conn, err))
			return false;
	}
	return true;
}

/* What load_table holds while it runs one table, beyond the state it
 * shares with the planner and the writers (struct load): its phases below
 * take it and fill it in turn. */
struct table_load {
	struct load ld;
	struct run_report report;
	struct table_stats *stats; /* load_table's */
	struct reader *r;	   /* the source being read */
	struct progress *progress;
	struct progress_view view;
	double t0;
	int workers;
	pthread_t *threads;
	int nthreads;
	struct writer_arg wargs[64];
	bool queues; /* the work and spare queues exist */
	/* the reader's: the batch being filled for each queue, the input bytes
	 * read since the last batch went, the last batch's number, and whether
	 * --create has run */
	struct batch *cur[64];
	uint64_t pending_bytes;
	long seq;
	bool create_done;
};

/* plan_run refused the job: report the usage error, with no summary of a
 * table that never started. */
static enum run_status refuse_job(struct table_load *t, struct table_stats *out_stats,
				  struct run_report *out_report)
{
	struct load *ld = &t->ld;
	log_error("%s", ld->run.err.msg);
	report_add_error(out_report, ld->run.err.msg);
	snprintf(out_stats->table, sizeof out_stats->table, "%s",
		 ld->job->table ? ld->job->table : "");
	free(ld->schema);
	free(ld->table);
	run_destroy(&ld->run);
	out_report->status = RUN_USAGE;
	return RUN_USAGE;
}

/* Open the first source (after checking that no output overwrites an
 * input) and the rejects file. */
static bool open_inputs(struct table_load *t, struct sl_error *err)
{
	struct load *ld = &t->ld;
	const struct job *job = ld->job;
	ld->src_records = calloc((size_t)job->nsources, sizeof *ld->src_records);
	ld->src_read_all = calloc((size_t)job->nsources, sizeof *ld->src_read_all);
	if (!ld->src_records || !ld->src_read_all)
		return sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
	t->report.tables = t->stats;
	t->report.ntables = 1;

	if (ld->req->open_reader) {
		/* a table read (copy): nothing to check on disk */
		if (!ld->req->open_reader(ld->req->reader_ctx, &t->r, err))
			return false;
	} else if (!plan_check_outputs(ld, err)) {
		t->report.no_json = true; /* writing it would destroy an input */
		return false;
	} else if (!reader_open(&t->r, job->sources[0], &ld->input, err) ||
		   !plan_check_sources(ld, t->r, err)) {
		return false;
	}
	if (ld->req->rejects)
		ld->run.rejects = ld->req->rejects;
	else if (!rejects_open(&ld->run.rejects, job->rejects_path, err))
		return false;
	return true;
}

/* Start the progress display, with the input's size when every source has
 * one. */
static void start_progress(struct table_load *t)
{
	const struct job *job = t->ld.job;
	struct progress_view *view = &t->view;
	view->table = t->stats->table;
	view->live = &t->ld.run.live;
	view->total_bytes = 0;
	for (int i = 0; i < job->nsources; i++) {
		/* the percentage needs every size; a pipe has none */
		struct stat st;
		bool known = !t->ld.req->open_reader && strcmp(job->sources[i], "-") &&
			     stat(job->sources[i], &st) == 0 && S_ISREG(st.st_mode);
		if (!known || view->total_bytes < 0)
			view->total_bytes = -1;
		else
			view->total_bytes += (int64_t)st.st_size;
	}
	view->start = t->t0;
	view->target = job->target;
	progress_start(&t->progress, job->progress, job->stats_interval, job->quiet, view);
}

/* Connect and check the table and the columns before reading any row, dry
 * run or not; the rejects file gets the input's header. */
static bool check_target(struct table_load *t, struct sl_error *err)
{
	struct load *ld = &t->ld;
	const struct job *job = ld->job;
	struct reader *r = t->r;
	if (!connect_target(ld, err) || !plan_check_target(ld, err))
		return false;
	progress_set_pool(t->progress, ld->run.pool);
	if (!plan_columns(ld, r, err) ||
	    (!ld->req->open_reader && !plan_check_columns(ld, r, err)) ||
	    !r->ops->set_columns(r, ld->columns, ld->ncols, err) || !nest_plan_tables(ld, r, err))
		return false;
	if (job->group_by) {
		for (int i = 0; i < ld->ncols && ld->group_idx < 0; i++)
			if (!strcmp(ld->columns[i], job->group_by))
				ld->group_idx = i;
		if (ld->group_idx < 0)
			return sl_error_set(err, SL_ERR_USAGE,
					    "--group-by %s is not a column of the input",
					    job->group_by);
		if (!groups_open(&ld->groups))
			return sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
	}
	for (int a = 0; a < ld->spec.nadd; a++) {
		int i = 0;
		while (i < ld->ncols && strcmp(ld->columns[i], ld->spec.add[a]))
			i++;
		bool key = false;
		for (int k = 0; k < ld->spec.nkey; k++)
			key |= !strcmp(ld->spec.key[k], ld->spec.add[a]);
		if (i == ld->ncols || key || i == ld->group_idx)
			return sl_error_set(err, SL_ERR_USAGE, "--add %s: %s", ld->spec.add[a],
					    i == ld->ncols ? "not a column of the input"
					    : key	   ? "a key column takes no delta"
						  : "the --group-by column is written nowhere");
	}
	if (ld->spec.update) {
		int key[SQL_MAX_COLUMNS], nkey;
		ld->set_idx = calloc((size_t)ld->ncols, sizeof *ld->set_idx);
		if (!ld->set_idx)
			return sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
		if (!sql_update_columns(&ld->spec, ld->set_idx, &ld->nset_idx, key, &nkey))
			return sl_error_set(err, SL_ERR_USAGE,
					    "--key and --set must name columns of the input");
		/* the group column is set nowhere */
		int kept = 0;
		for (int i = 0; i < ld->nset_idx; i++)
			if (ld->set_idx[i] != ld->group_idx)
				ld->set_idx[kept++] = ld->set_idx[i];
		ld->nset_idx = kept;
		if (!ld->nset_idx && !ld->spec.del)
			return sl_error_set(err, SL_ERR_USAGE,
					    "nothing to update: every input column is a key");
	}
	if (r->nheader && (r->format == FORMAT_CSV || r->format == FORMAT_TSV)) {
		char delim = job->input.delimiter ? job->input.delimiter
						  : (r->format == FORMAT_TSV ? '\t' : ',');
		char *h = header_line(ld->columns, ld->ncols, delim);
		rejects_set_header(ld->run.rejects, h);
		free(h);
	}
	return true;
}

/* How many writers, how keys route to them, and (--resume) what an earlier
 * run of the job committed. Keyed writes that share one queue between
 * several writers (--group-by: a group holds records of several keys;
 * --resume: a checkpoint row covers consecutive records) go through the key
 * gate, so a key's records still apply in input order. */
static bool plan_writers(struct table_load *t, struct sl_error *err)
{
	struct load *ld = &t->ld;
	const struct job *job = ld->job;
	t->workers = job->single_transaction || job->dry_run ? 1 : job->workers;
	if (!plan_keys(ld, t->workers, err))
		return false;
	if (job->group_by)
		ld->nqueues = 1; /* the writers share one queue of whole groups */
	plan_lookup_key(ld);
	if (job->resume && !job->dry_run) {
		if (!plan_resume(ld, err))
			return false;
		/* a checkpoint row covers a run of records, so a batch must hold
		 * consecutive ones: no routing by key */
		ld->nqueues = 1;
	}
	ld->gated = ld->keyed && t->workers > 1 && ld->nqueues == 1;
	return true;
}

/* The exactness rule of each column as the target's dialect gives it
 * (ld->exact_rules, ld->exact_cols), when it has rules and the table is
 * known; none otherwise. False on out of memory. */
static bool plan_exact_rules(struct load *ld)
{
	int (*rule_of)(const char *) = ld->drv->dialect->exact_rule;
	if (!rule_of || !ld->target.exists || ld->ncols <= 0)
		return true;
	ld->exact_rules = calloc((size_t)ld->ncols, sizeof *ld->exact_rules);
	ld->exact_cols = calloc((size_t)ld->ncols, sizeof *ld->exact_cols);
	ld->exact_quick = calloc((size_t)ld->ncols, sizeof *ld->exact_quick);
	ld->exact_arg = calloc((size_t)ld->ncols, sizeof *ld->exact_arg);
	if (!ld->exact_rules || !ld->exact_cols || !ld->exact_quick || !ld->exact_arg)
		return false;
	for (int i = 0; i < ld->ncols; i++) {
		const struct column_desc *col = NULL;
		for (int j = 0; !col && j < ld->target.ncols; j++)
			if (!(ld->drv->dialect->columns_case_insensitive ? strcasecmp : strcmp)(
				    ld->target.cols[j].name, ld->columns[i]))
				col = &ld->target.cols[j];
		/* a column written to no table (--group-by) or not found: the
		 * writer's own look decides */
		ld->exact_rules[i] =
			col && col->type ? rule_of(column_value_type(col)) : CONVERT_EXACT_ANY;
		if (ld->exact_rules[i] == CONVERT_EXACT_ANY)
			continue;
		int k = ld->nexact_cols++;
		ld->exact_cols[k] = i;
		ld->exact_quick[k] = convert_quick_column(
			convert_quick_for(ld->exact_rules[i], &ld->exact_arg[k]));
	}
	return true;
}

/* The quick tests of ld's rules on the rows of b not tested yet (just
 * added, their text still at hand; their values lie in the batch's arenas,
 * so ARENA_PAD bytes can be read past each): exact_doubt when some value
 * fails one. A column at a time down a block of EXACT_BLOCK rows, whose
 * cells stay in the cache: one call per column and block, not per value. */
_Static_assert(ARENA_PAD >= CONVERT_QUICK_PAD, "the arenas leave room for the quick tests");
static void test_exact_rows(const struct load *ld, struct batch *b)
{
	size_t from = b->exact_from, n = b->nrows - from;
	b->exact_from = b->nrows;
	if (!n || b->exact_doubt)
		return;
	const struct cell *rows = batch_row(b, from);
	for (int k = 0; k < ld->nexact_cols; k++) {
		if (!ld->exact_quick[k](ld->exact_arg[k], rows + ld->exact_cols[k],
					(size_t)b->ncols, n)) {
			b->exact_doubt = true;
			return;
		}
	}
}

/* The batches and the queues between the reader and the writers: one batch
 * being filled per queue, one per writer, and a queue's worth, all
 * allocated up front so memory is bounded by them. */
static bool make_batches(struct table_load *t, struct sl_error *err)
{
	struct load *ld = &t->ld;
	if (!plan_exact_rules(ld))
		return sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
	ld->nbatches = t->workers * 2 + ld->nqueues;
	ld->batches = calloc((size_t)ld->nbatches, sizeof *ld->batches);
	ld->work = calloc((size_t)ld->nqueues, sizeof *ld->work);
	bool qok = ld->batches && ld->work && queue_init(&ld->spare, (size_t)ld->nbatches);
	int nq = 0;
	while (qok && nq < ld->nqueues && queue_init(&ld->work[nq], (size_t)ld->nbatches))
		nq++;
	if (!qok || nq < ld->nqueues) {
		if (qok)
			queue_destroy(&ld->spare);
		while (nq > 0)
			queue_destroy(&ld->work[--nq]);
		ld->nqueues = 0;
		return sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
	}
	t->queues = true;
	run_wake_on_fail(&ld->run, ld->work, ld->nqueues, &ld->spare);
	if (ld->gated && !key_gate_open(&ld->gate, ld->nbatches))
		return sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
	for (int i = 0; i < ld->nbatches; i++) {
		if (!batch_init(&ld->batches[i], ld->ncols, ld->job->batch_rows) ||
		    !nest_init_batch(ld, &ld->batches[i]))
			return sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
		ld->batches[i].cap_bytes = ld->job->batch_bytes;
		queue_push(&ld->spare, &ld->batches[i]);
	}
	return true;
}

/* --truncate: empty the table before the first row, unless an earlier run
 * of the job committed rows to it. */
static bool empty_target(struct table_load *t, struct sl_error *err)
{
	struct load *ld = &t->ld;
	const struct job *job = ld->job;
	/* a table --create makes for this run starts empty: nothing to empty
	 * (and no table yet to name) */
	bool truncate = job->truncate && ld->target.exists;
	if (truncate && ld->ckpt && checkpoint_started(ld->ckpt)) {
		/* the rows an earlier run of the job committed stay: emptying
		 * the table would lose them while their checkpoints skip them */
		log_info("--truncate: job '%s' has committed rows already; continuing it "
			 "without emptying %s",
			 ld->job_name, ld->table);
		truncate = false;
	}
	if (!job->dry_run && truncate) {
		struct buf sql;
		buf_init(&sql, 0);
		struct conn *c = NULL;
		/* inside --single-transaction a TRUNCATE that would commit on its own
		 * (MySQL) becomes a DELETE, so the whole run stays all or nothing */
		bool del = job->single_transaction && !ld->drv->dialect->transactional_ddl;
		bool ok = (del ? sql_delete_all(ld->drv->dialect, &sql, &ld->spec)
			       : sql_truncate(ld->drv->dialect, &sql, &ld->spec)) &&
			  run_get_conn(&ld->run, &c, err) && ld->drv->conn.exec(c, sql.data, err);
		run_put_conn(&ld->run, c, !ok && err->kind == SL_ERR_CONNECTION);
		buf_free(&sql);
		if (!ok)
			return false;
	}
	return true;
}

/* Start the writer threads (none in a dry run): every queue needs one. */
static bool start_writers(struct table_load *t, struct sl_error *err)
{
	struct load *ld = &t->ld;
	if (ld->job->dry_run)
		return true;
	t->threads = calloc((size_t)t->workers, sizeof *t->threads);
	for (int i = 0; t->threads && i < t->workers && i < 64; i++) {
		t->wargs[i] = (struct writer_arg){ld, i % ld->nqueues};
		if (pthread_create(&t->threads[i], NULL, writers_main, &t->wargs[i]) != 0)
			break;
		t->nthreads++;
	}
	if (t->nthreads < t->workers) {
		/* a queue without its writer would never drain */
		return sl_error_set(err, SL_ERR_INTERNAL, "cannot start the writer threads");
	}
	return true;
}

/* The reader, on this thread: every source in turn into batches for the
 * writers, then the last, partial batches (and --create on a small
 * input). Stops early when the run does; the reason is in the run. */
static void read_sources(struct table_load *t)
{
	struct load *ld = &t->ld;
	const struct job *job = ld->job;
	struct sl_error err;
	sl_error_clear(&err);
	for (int i = 0; i < job->nsources && !run_stopping(&ld->run); i++) {
		if (ld->src_whole && ld->src_whole[i]) {
			/* --resume: an earlier run loaded all of it */
			log_info("%s: loaded by an earlier run of job '%s', skipped",
				 job->sources[i], ld->job_name);
			t->stats->files_skipped++;
			continue;
		}
		if (i > 0 && t->r && t->r->ops) {
			ld->blank_lines += t->r->blank_lines;
			reader_close(t->r);
			t->r = NULL;
		}
		if (i > 0 || !t->r) {
			if (!open_next_source(ld, i, &t->r, &err)) {
				run_fail(&ld->run, &err);
				break;
			}
		}
		if (ld->ckpt && !ld->req->resume_source && t->r && t->r->src &&
		    !strcmp(job->sources[i], "-")) {
			/* --resume: the stream must be the one the job was loading */
			bool whole;
			if (!checkpoint_check_source(ld->ckpt, i, source_identity(t->r->src), NULL,
						     &whole, &err)) {
				run_fail(&ld->run, &err);
				break;
			}
		}
		if (!load_source(ld, t->r, i, t->cur, &t->seq, &t->pending_bytes,
				 &t->create_done) ||
		    ld->input_failed)
			break;
	}
	if (!run_stopping(&ld->run)) {
		/* the last, partial batches (and --create on a small input) */
		bool any = false;
		for (int q = 0; q < ld->nqueues; q++) {
			if (t->cur[q]) {
				any = true;
				dispatch(ld, t->cur[q], q, &t->pending_bytes, &t->create_done);
				t->cur[q] = NULL;
			}
		}
		if (!any && !t->create_done && job->create) {
			struct batch empty;
			if (batch_init(&empty, ld->ncols, 1)) {
				maybe_create(ld, &empty, &t->create_done);
				batch_free(&empty);
			}
		}
	}
	atomic_fetch_add(&ld->run.live.bytes_done, t->pending_bytes);
}

/* Let the writers drain the queues and wait for them; a broken input fails
 * the run now, after what came before it is written. A dry run prints its
 * statements. */
static void drain_writers(struct table_load *t)
{
	struct load *ld = &t->ld;
	for (int q = 0; q < ld->nqueues; q++)
		queue_close(&ld->work[q]);
	for (int i = 0; i < t->nthreads; i++)
		pthread_join(t->threads[i], NULL);
	t->nthreads = 0;
	if (ld->gate) {
		struct key_gate_stats gs;
		key_gate_stats(ld->gate, &gs);
		log_debug("key order: %ld batches, %ld waited for an earlier one sharing a key; "
			  "at most %d written at once",
			  gs.batches, gs.waited, gs.most_at_once);
	}
	if (ld->input_failed)
		run_fail(&ld->run, &ld->input_err);
	if (ld->job->dry_run && !ld->run.failed && !signals_caught()) {
		/* the display goes first: on a terminal stdout shares its line */
		progress_stop(t->progress);
		t->progress = NULL;
		print_dry_run(ld); /* after any CREATE TABLE that --create printed */
	}
}

/* End --single-transaction (commit, or roll back after a failure or a
 * signal) and flush the rejects file; false with err when the run failed. */
static bool settle_run(struct table_load *t, struct sl_error *err)
{
	struct load *ld = &t->ld;
	if (ld->run.single_conn) {
		if (!ld->run.failed && !signals_caught()) {
			if (!ld->drv->tx.commit(ld->run.single_conn, err))
				run_fail(&ld->run, err);
		}
		if (ld->run.failed || signals_caught()) {
			struct sl_error rb;
			ld->drv->tx.rollback(ld->run.single_conn, &rb);
			atomic_store(&ld->run.live.rows_written, 0);
			atomic_store(&ld->run.live.rows_upsert_updated, 0);
		}
		pool_release(ld->run.pool, ld->run.single_conn, false);
		ld->run.single_conn = NULL;
	}
	if (!ld->run.failed && !rejects_flush(ld->run.rejects, err))
		run_fail(&ld->run, err); /* the rejects file is short: the run failed */
	if (ld->run.failed) {
		*err = ld->run.err;
		return false;
	}
	t->report.status = signals_caught() ? RUN_INTERRUPTED
			   : ld->run.live.rows_rejected || ld->run.live.rows_not_found ? RUN_PARTIAL
										       : RUN_OK;
	return true;
}

/* --resume: every record of the sources read to their end is in or
 * rejected, so a rerun skips them without reading. */
static bool mark_sources_done(struct table_load *t, struct sl_error *err)
{
	struct load *ld = &t->ld;
	const struct job *job = ld->job;
	if (!ld->ckpt || t->report.status == RUN_INTERRUPTED)
		return true;
	struct conn *c = NULL;
	bool ok = run_get_conn(&ld->run, &c, err);
	for (int i = 0; ok && i < job->nsources; i++)
		if (ld->src_read_all[i] && strcmp(job->sources[i], "-") && !ld->req->resume_source)
			ok = checkpoint_source_done(ld->ckpt, c, i, ld->src_records[i], err);
	run_put_conn(&ld->run, c, !ok && err->kind == SL_ERR_CONNECTION);
	return ok;
}

/* The run failed (err, or the run's own error): stop the writers, roll back
 * --single-transaction, and report why. */
static void abandon_run(struct table_load *t, struct sl_error *err)
{
	struct load *ld = &t->ld;
	if (ld->run.failed && err->kind == SL_ERR_NONE)
		*err = ld->run.err;
	if (t->queues) {
		for (int q = 0; q < ld->nqueues; q++)
			queue_abort(&ld->work[q]);
		queue_abort(&ld->spare);
	}
	for (int i = 0; i < t->nthreads; i++)
		pthread_join(t->threads[i], NULL);
	if (ld->run.single_conn) {
		struct sl_error rb;
		ld->drv->tx.rollback(ld->run.single_conn, &rb);
		atomic_store(&ld->run.live.rows_written, 0);
		atomic_store(&ld->run.live.rows_upsert_updated, 0);
		pool_release(ld->run.pool, ld->run.single_conn, false);
		ld->run.single_conn = NULL;
	}
	t->report.status = signals_caught()	       ? RUN_INTERRUPTED
			   : err->kind == SL_ERR_USAGE ? RUN_USAGE
						       : RUN_FAILED;
	if (err->kind != SL_ERR_INTERRUPTED) {
		log_error("%s", err->msg);
		report_add_error(&t->report, err->msg);
	}
}

/* The table's statistics from the live counters, and the warnings they
 * call for (blank lines, an empty input). */
static void collect_stats(struct table_load *t)
{
	struct load *ld = &t->ld;
	const struct job *job = ld->job;
	struct table_stats *stats = t->stats;
	stats->rows_read = ld->run.live.rows_read;
	stats->rows_written = ld->run.live.rows_written;
	stats->rows_rejected = ld->run.live.rows_rejected;
	stats->rows_not_found = ld->run.live.rows_not_found;
	stats->rows_skipped = ld->run.live.rows_skipped;
	/* inserted, updated or deleted: what a plain load, an update and a
	 * delete write is plain;
	 * an upsert's split is what the servers said (REPORT_UNKNOWN when one
	 * did not) */
	if (job->command == CMD_DELETE) {
		stats->rows_deleted = stats->rows_written; /* or marked, --soft */
	} else if (ld->spec.update) {
		stats->rows_updated = stats->rows_written;
	} else if (job->on_conflict != CONFLICT_UPDATE) {
		stats->rows_inserted = stats->rows_written;
	} else if (ld->run.live.upsert_unknown) {
		stats->rows_inserted = stats->rows_updated = REPORT_UNKNOWN;
	} else {
		stats->rows_updated = ld->run.live.rows_upsert_updated;
		stats->rows_inserted = stats->rows_written - stats->rows_updated;
	}
	stats->rows_resumed = ld->run.live.rows_resumed;
	if (t->r)
		ld->blank_lines += t->r->blank_lines; /* the source being read when the run ended */
	stats->blank_lines = ld->blank_lines;
	if (stats->blank_lines && t->report.status != RUN_USAGE)
		log_warn("%llu blank input lines skipped", (unsigned long long)stats->blank_lines);
	if (t->report.status == RUN_OK && !stats->rows_read && !stats->rows_resumed &&
	    !stats->files_skipped && !ld->req->open_reader) {
		/* an empty input is no silent success */
		struct buf names;
		buf_init(&names, 0);
		for (int i = 0; i < job->nsources; i++)
			buf_catf(&names, "%s%s", i ? ", " : "",
				 strcmp(job->sources[i], "-") ? job->sources[i] : "stdin");
		log_warn("no rows in %s", buf_str(&names));
		buf_free(&names);
	}
	stats->bytes = ld->run.live.bytes;
	stats->seconds = now_seconds() - t->t0;
	t->report.commit_mode = atomic_load(&ld->commit_mode);
	if (ld->run.pool) {
		t->report.has_pool = true;
		pool_get_stats(ld->run.pool, &t->report.pool);
	}
	if (t->r)
		stats->zero_dates = t->r->zero_dates;
	if (ld->req->nkid_stats)
		*ld->req->nkid_stats = nest_stats(ld, stats, ld->req->kid_stats, ld->req->kid_cap);
}

/* Free everything the run allocated. */
static void free_table_load(struct table_load *t)
{
	struct load *ld = &t->ld;
	free(t->threads);
	for (int i = 0; ld->batches && i < ld->nbatches; i++)
		batch_free(&ld->batches[i]);
	free(ld->batches);
	if (t->queues) {
		for (int q = 0; q < ld->nqueues; q++)
			queue_destroy(&ld->work[q]);
		queue_destroy(&ld->spare);
	}
	free(ld->work);
	key_gate_free(ld->gate);
	reader_close(t->r);
	pool_destroy(ld->run.pool);
	if (ld->run.rejects != ld->req->rejects)
		rejects_close(ld->run.rejects);
	for (int i = 0; i < ld->ncols; i++)
		free(ld->columns[i]);
	free(ld->columns);
	free(ld->schema);
	free(ld->table);
	table_desc_free(&ld->target);
	free(ld->exact_rules);
	free(ld->exact_cols);
	free(ld->inferred);
	free(ld->exact_quick);
	free(ld->exact_arg);
	ld->exact_rules = ld->exact_cols = NULL;
	ld->exact_quick = NULL;
	ld->exact_arg = NULL;
	ld->nexact_cols = 0;
	checkpoint_close(ld->ckpt);
	free(ld->src_records);
	free(ld->src_read_all);
	free(ld->src_whole);
	free(ld->set_idx);
	free(ld->soft_col);
	free(ld->soft_expr);
	groups_free(ld->groups);
	nest_free(ld);
	run_destroy(&ld->run);
}

/* Load one table: plan, open, check, start the writers, read, drain, settle;
 * on failure, abandon. *out_stats and *out_report (whose error texts the
 * caller then owns) describe the run; returns its status. */
enum run_status load_table(const struct job *job, const struct load_request *req,
			   struct table_stats *out_stats, struct run_report *out_report)
{
	static const struct load_request files = {0};
	struct table_stats stats = {0};
	struct table_load tl = {.stats = &stats}, *t = &tl;
	struct load *ld = &t->ld;
	ld->job = job;
	ld->req = req ? req : &files;
	t->t0 = now_seconds();
	struct sl_error err;
	sl_error_clear(&err);
	run_init(&ld->run, job, ld->req->halt);
	signals_install();

	if (!plan_run(ld))
		return refuse_job(t, out_stats, out_report);
	snprintf(stats.table, sizeof stats.table, "%s%s%s", ld->schema ? ld->schema : "",
		 ld->schema ? "." : "", ld->table);
	bool ok = open_inputs(t, &err);
	if (ok) {
		start_progress(t);
		ok = check_target(t, &err) && plan_writers(t, &err) && make_batches(t, &err) &&
		     empty_target(t, &err) && start_writers(t, &err);
	}
	if (ok) {
		read_sources(t);
		drain_writers(t);
		ok = settle_run(t, &err) && mark_sources_done(t, &err);
	}
	if (!ok)
		abandon_run(t, &err);
	if (t->report.status == RUN_INTERRUPTED)
		note_interrupted(ld, stats.table, &t->report);
	progress_stop(t->progress);
	collect_stats(t);

	enum run_status status = t->report.status;
	*out_stats = stats;
	t->report.tables = NULL;
	t->report.ntables = 0;
	*out_report = t->report; /* the caller owns the error texts now */
	free_table_load(t);
	return status;
}

enum run_status load_run(const struct job *job)
{
	/* the load's table, then its --nest child tables */
	struct table_stats stats[1 + NEST_MAX] = {0};
	struct run_report report = {0};
	int nkids = 0;
	struct load_request req = {
		.kid_stats = stats + 1, .kid_cap = NEST_MAX, .nkid_stats = &nkids};
	double started = wall_seconds();
	enum run_status status = load_table(job, &req, &stats[0], &report);
	report.tables = stats;
	report.ntables = 1 + nkids;
	report.started = started;
	status = report_finish(&report, job, status);
	for (int i = 0; i < report.nerrors; i++)
		free(report.errors[i]);
	return status;
}
