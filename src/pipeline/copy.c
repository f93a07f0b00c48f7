/* src/pipeline/copy.c
 * sluice copy: stream tables from one server to another. The source is read
 * inside one consistent snapshot; each table goes through the load pipeline
 * (load_table) with a table reader as its source, so rejects, retries,
 * lost-COMMIT handling and the summary are those of load. With --create the
 * target tables are created from the source catalog (typemap.c): columns and
 * the primary key before the data, other indexes after it, foreign keys once
 * every table is in, identity sequences moved past the copied maximum.
 * This file runs a copy: connections, snapshots, --resume, the summary;
 * copy_plan.c decides the tables and units, copy_target.c makes and
 * finishes the target tables, copy_rows.c copies the rows.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sluice/checkpoint.h"
#include "sluice/copy_internal.h"
#include "sluice/copy_schema.h"
#include "sluice/driver.h"
#include "sluice/job.h"
#include "sluice/log.h"
#include "sluice/rejects.h"
#include "sluice/report.h"
#include "sluice/signals.h"
#include "sluice/typemap.h"
#include "sluice/url.h"
#include "sluice/verify.h"

/* The source's snapshot, on cp->src and on each worker's connection: one
 * instant for all of them (snapshot_share), so the key ranges planned on
 * cp->src are the rows the workers read. One worker reads on cp->src
 * itself. Every connection is made first, the workers' target connections
 * before the snapshots too. */
static bool open_snapshots(struct copy *cp, struct sl_error *err)
{
	struct copy_worker *ws = cp->workers;
	for (int i = 0; i < cp->nworkers; i++)
		ws[i] = (struct copy_worker){.cp = cp};
	if (cp->nworkers == 1) {
		ws[0].ddl = cp->ddl;
		return snapshot_share(cp->from, cp->job->from, cp->job->timeout, cp->src,
				      &ws[0].src, 1, "copying", err);
	}
	struct conn_options copts = {.timeout = cp->job->timeout};
	struct conn **srcs = calloc((size_t)cp->nworkers, sizeof *srcs);
	if (!srcs)
		return sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
	bool ok = true;
	for (int i = 0; ok && i < cp->nworkers; i++) {
		ws[i].own = true;
		ok = cp->to->conn.connect(cp->job->target, &copts, &ws[i].ddl, err);
	}
	ok = ok && snapshot_share(cp->from, cp->job->from, cp->job->timeout, cp->src, srcs,
				  cp->nworkers, "copying", err);
	for (int i = 0; i < cp->nworkers; i++)
		ws[i].src = srcs[i];
	free(srcs);
	return ok;
}

static void close_workers(struct copy *cp)
{
	for (int i = 0; cp->workers && i < cp->nworkers; i++) {
		struct copy_worker *w = &cp->workers[i];
		if (!w->own)
			continue;
		if (w->src)
			cp->from->conn.close(w->src);
		if (w->ddl)
			cp->to->conn.close(w->ddl);
	}
	free(cp->workers);
	cp->workers = NULL;
}

/* --resume: the job's name, --job or the source's URL (canonical; an
 * earlier version named the job by the URL as given, without its password). */
static bool name_job(struct copy *cp, struct sl_error *err)
{
	const struct job *job = cp->job;
	if (job->job_name) {
		snprintf(cp->job_name, sizeof cp->job_name, "%s", job->job_name);
	} else {
		char canon[512], red[512];
		url_canonical(job->from, canon, sizeof canon);
		url_redact(job->from, red, sizeof red);
		/* an incremental job is another job than a --resume copy of
		 * the same source: its tables are never whole */
		const char *kind = job->incremental ? "copy-incremental" : "copy";
		snprintf(cp->job_name, sizeof cp->job_name, "%s:%s%s%s", kind, canon,
			 job->schema ? "#" : "", job->schema ? job->schema : "");
		if (!job->incremental)
			snprintf(cp->legacy_job, sizeof cp->legacy_job, "copy:%s%s%s", red,
				 job->schema ? "#" : "", job->schema ? job->schema : "");
	}
	if (strlen(cp->job_name) > 200)
		return sl_error_set(err, SL_ERR_USAGE,
				    "the job's name would be over 200 bytes: name it with --job");
	return true;
}

/* --resume: one run of the job at a time. Two runs at once would both
 * create, empty and finish its tables; the second waits for the first to
 * end (or die), then goes on from the checkpoints as a rerun does, on
 * fresh connections: it may have waited for hours. */
static bool lock_job(struct copy *cp, struct sl_error *err)
{
	const struct job *job = cp->job;
	struct conn_options copts = {.timeout = job->timeout};
	bool waited = false;
	if (!name_job(cp, err) || !cp->to->conn.connect(job->target, &copts, &cp->job_lock, err) ||
	    !checkpoint_lock(cp->job_lock, job->checkpoint_table, cp->job_name, &waited, err))
		return false;
	if (!waited)
		return true;
	cp->from->conn.close(cp->src);
	cp->to->conn.close(cp->ddl);
	cp->src = cp->ddl = NULL;
	return cp->from->conn.connect(job->from, &copts, &cp->src, err) &&
	       cp->to->conn.connect(job->target, &copts, &cp->ddl, err);
}

/* --resume: the job's checkpoints (after name_job), a source per table;
 * which tables an earlier run created or copied whole. */
static bool open_checkpoints(struct copy *cp, struct sl_error *err)
{
	const struct job *job = cp->job;
	const char *legacy = cp->legacy_job;
	char **names = calloc((size_t)cp->ntables, sizeof *names);
	if (!names)
		return sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
	/* a --query is its own source: another query into the same table is
	 * another source, never "copied whole" by the first */
	char *qname = cp->query_source;
	if (job->query) {
		unsigned long long h = 1469598103934665603ULL;
		for (const char *p = job->query; *p; p++)
			h = (h ^ (unsigned char)*p) * 1099511628211ULL;
		snprintf(qname, sizeof cp->query_source, "%.400s (query %016llx)",
			 cp->tables[0].name, h);
	}
	for (int i = 0; i < cp->ntables; i++)
		names[i] = job->query ? qname : cp->tables[i].name;
	const char *legacies[1] = {legacy[0] && strlen(legacy) <= 200 ? legacy : NULL};
	bool ok = checkpoint_open(&cp->ckpt, cp->to, cp->ddl, job->checkpoint_table, cp->job_name,
				  legacies, 1, names, NULL, cp->ntables, err);
	if (ok)
		snprintf(cp->job_name, sizeof cp->job_name, "%s", checkpoint_job(cp->ckpt));
	free(names);
	for (int i = 0; ok && i < cp->ntables; i++) {
		struct copy_table *t = &cp->tables[i];
		bool whole;
		ok = checkpoint_check_source(cp->ckpt, i, "", NULL, &whole, err);
		t->whole = whole;
		t->finish = checkpoint_source_created(cp->ckpt, i);
	}
	return ok;
}

/* A signal ended the copy: say so, what is committed and how to go on. */
static void note_interrupted(struct copy *cp)
{
	unsigned long long rows = 0;
	for (int i = 0; cp->stats && i < cp->ntables; i++)
		rows += cp->stats[i].rows_written;
	const char *next =
		"to start over, run it again with --truncate (it empties the tables first); with "
		"--resume a rerun goes on where a run stopped";
	if (cp->job->resume)
		next = "to go on, run the same command again: --resume goes on where it stopped";
	else if (cp->job->truncate)
		next = "run the same command again to start over (--truncate empties the tables first)";
	char msg[900];
	if (!rows)
		snprintf(
			msg, sizeof msg,
			"interrupted by %s: no rows are committed to the target; run the same command again",
			signals_name());
	else
		snprintf(msg, sizeof msg,
			 "interrupted by %s: %llu rows are committed to the target, in whole "
			 "batches (what was in flight is rolled back); %s",
			 signals_name(), rows, next);
	log_result("%s", msg); /* what the operator asked for: no error */
	report_add_error(&cp->report, msg);
}

enum run_status copy_run(const struct job *job)
{
	struct copy cp = {.job = job, .status = RUN_OK};
	struct sl_error err;
	sl_error_clear(&err);
	cp.report.started = wall_seconds();
	pthread_mutex_init(&cp.lock, NULL);
	pthread_cond_init(&cp.unit_done, NULL);
	signals_install();
	char red_from[512], red_to[512];
	url_redact(job->from, red_from, sizeof red_from);
	url_redact(job->target, red_to, sizeof red_to);
	cp.from = driver_for_url(job->from);
	cp.to = driver_for_url(job->target);
	cp.schema = (struct copy_ddl){.from = cp.from, .to = cp.to, .dry_run = job->dry_run};
	if (!cp.from || !cp.to) {
		struct sl_error e;
		driver_unknown_url(cp.from ? job->target : job->from, &e);
		log_error("%s", e.msg);
		pthread_cond_destroy(&cp.unit_done);
		pthread_mutex_destroy(&cp.lock);
		return RUN_USAGE;
	}
	char why[400];
	if (job->cast && !typemap_cast_check(job->cast, why, sizeof why)) {
		log_error("%s", why);
		pthread_cond_destroy(&cp.unit_done);
		pthread_mutex_destroy(&cp.lock);
		return RUN_USAGE;
	}
	/* the summary's files must take it: found out before any row is copied */
	if (!report_check_output("--summary-json", job->summary_json, &err) ||
	    !report_check_output("--metrics-file", job->metrics_file, &err)) {
		log_error("%s", err.msg);
		pthread_mutex_destroy(&cp.lock);
		return RUN_USAGE;
	}
	cp.nworkers = job->workers > 1 && !job->single_transaction ? job->workers : 1;
	if (cp.nworkers > 64)
		cp.nworkers = 64;
	struct conn_options copts = {.timeout = job->timeout};
	if (!(cp.workers = calloc((size_t)cp.nworkers, sizeof *cp.workers))) {
		sl_error_set(&err, SL_ERR_INTERNAL, "out of memory");
		goto failed;
	}
	if (!cp.from->conn.connect(job->from, &copts, &cp.src, &err) ||
	    !cp.to->conn.connect(job->target, &copts, &cp.ddl, &err) ||
	    !copy_not_itself(&cp, &err) ||
	    ((job->resume || job->incremental) && !job->dry_run && !lock_job(&cp, &err)) ||
	    !open_snapshots(&cp, &err) || !copy_choose_tables(&cp, &err))
		goto failed;
	cp.stats = calloc((size_t)cp.ntables, sizeof *cp.stats);
	cp.units_left = calloc((size_t)cp.ntables, sizeof *cp.units_left);
	cp.started = calloc((size_t)cp.ntables, sizeof *cp.started);
	if (!cp.stats || !cp.units_left || !cp.started) {
		sl_error_set(&err, SL_ERR_INTERNAL, "out of memory");
		goto failed;
	}
	for (int i = 0; i < cp.ntables; i++) {
		struct copy_table *t = &cp.tables[i];
		snprintf(cp.stats[i].table, sizeof cp.stats[i].table, "%s", t->name);
		if (!(job->query ? copy_plan_query(&cp, t, &err) : copy_plan_table(&cp, t, &err)))
			goto failed;
	}
	if (!job->query)
		copy_match_fkey_types(&cp);
	/* the tables left out (no columns) are not the copy's */
	int kept = 0;
	for (int i = 0; i < cp.ntables; i++) {
		if (cp.tables[i].skip) {
			copy_table_free(&cp.tables[i]);
			continue;
		}
		cp.stats[kept] = cp.stats[i];
		cp.tables[kept++] = cp.tables[i];
	}
	cp.ntables = kept;
	if ((job->resume || job->incremental) && !job->dry_run && !open_checkpoints(&cp, &err))
		goto failed;
	for (int i = 0; job->incremental && i < cp.ntables; i++) {
		if (!copy_incremental_plan(&cp, i, &err))
			goto failed;
		cp.stats[i].null_cursors = cp.tables[i].null_cursors;
	}
	for (int i = 0; i < cp.ntables && !job->query; i++)
		if (!copy_prepare_target(&cp, &cp.tables[i], &err))
			goto failed;
	if (!job->query && !copy_prepare_on_update(&cp, &err))
		goto failed;
	if (job->dry_run) {
		for (int i = 0; i < cp.ntables; i++)
			if (copy_rows_known(&cp.tables[i].src))
				printf("-- copy %s: %d columns, about %llu rows\n",
				       cp.tables[i].name, cp.tables[i].dst_spec.ncols,
				       cp.tables[i].src.rows_estimate);
			else
				printf("-- copy %s: %d columns, rows unknown (not analyzed)\n",
				       cp.tables[i].name, cp.tables[i].dst_spec.ncols);
		for (int i = 0; i < cp.ntables; i++)
			if (!copy_finish_table(&cp, cp.ddl, &cp.tables[i], &err))
				goto failed;
		if (!copy_add_foreign_keys(&cp, &err))
			goto failed;
		goto done;
	}
	if (!rejects_open(&cp.rejects, job->rejects_path, &err) ||
	    !copy_truncate_targets(&cp, &err) || !copy_hold_cyclic_fkeys(&cp, &err) ||
	    !copy_plan_units(&cp, &err))
		goto failed;
	copy_units(&cp);
	/* the keys held while the rows went in, whatever became of them */
	struct sl_error fk_err;
	sl_error_clear(&fk_err);
	bool fk_ok = copy_restore_fkeys(&cp, &fk_err);
	if (signals_caught()) {
		cp.status = RUN_INTERRUPTED;
		note_interrupted(&cp);
		goto finish;
	}
	if (cp.status != RUN_OK && cp.status != RUN_PARTIAL)
		goto finish;
	if (!fk_ok) {
		err = fk_err;
		goto failed;
	}
	if (!copy_add_foreign_keys(&cp, &err))
		goto failed;
	for (int i = 0; job->delete_missing && i < cp.ntables; i++) {
		unsigned long long n = 0;
		if (!copy_delete_missing(&cp, cp.src, &cp.tables[i], &n, &err))
			goto failed;
		cp.stats[i].rows_deleted = n;
	}
	if (job->verify) {
		for (int i = 0; i < cp.ntables; i++) {
			struct verify_result vr;
			if (!verify_table(cp.from, cp.src, &cp.tables[i].src_spec, cp.to, cp.ddl,
					  &cp.tables[i].dst_spec, &vr, &err))
				goto failed;
			/* the lines of sluice verify: table, rows on each side, result */
			printf("%s\t%llu\t%llu\t%s%s%s\n", vr.table, vr.rows_from, vr.rows_to,
			       vr.match ? "match" : "MISMATCH", vr.note[0] ? "\t" : "", vr.note);
			if (!vr.match) {
				sl_error_set(&err, SL_ERR_DATA, "verify: table %s differs",
					     vr.table);
				log_error("%s", err.msg);
				report_add_error(&cp.report, err.msg);
				cp.status = RUN_FAILED;
			}
		}
		fflush(stdout);
	}
	goto finish;

failed:
	if (!job->dry_run) {
		/* held keys go back on every way out (none left: nothing) */
		struct sl_error e;
		sl_error_clear(&e);
		copy_restore_fkeys(&cp, &e);
	}
	if (err.kind != SL_ERR_INTERRUPTED) {
		log_error("%s", err.msg);
		report_add_error(&cp.report, err.msg);
	}
	cp.status = signals_caught()	       ? RUN_INTERRUPTED
		    : err.kind == SL_ERR_USAGE ? RUN_USAGE
					       : RUN_FAILED;
	if (cp.status == RUN_INTERRUPTED)
		note_interrupted(&cp);
finish:
	if (atomic_load(&cp.nleft_out))
		log_warn("%d part%s of the source schema not carried over (each named above)",
			 atomic_load(&cp.nleft_out), atomic_load(&cp.nleft_out) == 1 ? "" : "s");
	cp.report.status = cp.status;
	cp.report.tables = cp.stats;
	cp.report.ntables = cp.stats ? cp.ntables : 0;
	cp.status = report_finish(&cp.report, job, cp.status);
done:;
	enum run_status status = cp.status;
	if (cp.rejects)
		rejects_close(cp.rejects);
	checkpoint_close(cp.ckpt);
	copy_ddl_free(&cp.schema);
	for (int i = 0; i < cp.ntables; i++)
		copy_table_free(&cp.tables[i]);
	free(cp.tables);
	free(cp.units);
	free(cp.taken);
	free(cp.stats);
	free(cp.units_left);
	free(cp.started);
	for (int i = 0; i < cp.report.nerrors; i++)
		free(cp.report.errors[i]);
	close_workers(&cp);
	if (cp.src)
		cp.from->conn.close(cp.src);
	if (cp.ddl)
		cp.to->conn.close(cp.ddl);
	if (cp.job_lock)
		cp.to->conn.close(cp.job_lock); /* the job goes with it */
	pthread_cond_destroy(&cp.unit_done);
	pthread_mutex_destroy(&cp.lock);
	return status;
}
