/* src/pipeline/verify.c
 * sluice verify: the same tables on two servers compared by row count and an
 * order-independent checksum. Each server computes both in one query: every
 * value is normalized to one canonical text (canon.h), a row's texts are
 * length-prefixed and joined, and the first 60 bits of their md5 are
 * summed as an exact decimal, so row order does not matter and a duplicated
 * row cannot cancel another out. Which text a column gets is chosen here,
 * from the neutral types on both sides; the SQL that computes it is each
 * dialect's (canon_value, checksum_query).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sluice/checkpoint.h"
#include "sluice/job.h"
#include "sluice/log.h"
#include "sluice/report.h"
#include "sluice/signals.h"
#include "sluice/url.h"
#include "sluice/verify.h"

/* ---------------------------------------------------------------------------
 * Column types, as far as their canonical text goes
 */

enum kind {
	K_INT,	  /* any integer, a boolean held as a small integer */
	K_BOOL,	  /* a boolean type */
	K_DEC,	  /* numeric, decimal */
	K_FLOAT4, /* single precision */
	K_FLOAT8, /* double precision */
	K_DATE,
	K_TS,	    /* a date and time without a zone */
	K_TSTZ,	    /* an instant (driver sessions are UTC) */
	K_TIME,	    /* a time of day or a duration */
	K_INTERVAL, /* months, days and a time */
	K_BITS,	    /* bit strings, a boolean held as bit(1) */
	K_BYTES,    /* binary strings, spatial types as their bytes */
	K_TEXT,	    /* character types, enums and sets, network addresses */
	K_UUID,
	K_JSON,	 /* json kept as written */
	K_JSONB, /* json the server normalizes */
	K_OTHER, /* anything else: compared by its text */
};

struct coltype {
	enum kind kind;
	int prec; /* K_TS, K_TSTZ, K_TIME, K_INTERVAL: fractional digits of seconds */
};

/* The fraction digits of seconds a canonical text keeps for t: at most 6. */
static int prec_of(const struct sql_type *t)
{
	return t->fsp > 6 ? 6 : t->fsp;
}

/* Column type text of a server of dialect d as d classifies it (sqltype.h)
 * into t, which the caller frees; what cannot be classified (out of
 * memory) as SQL_OTHER. */
static void classify(const struct dialect *d, const char *type, struct sql_type *t)
{
	if (!d->type_classify(type ? type : "", NULL, t)) {
		sql_type_free(t);
		sql_type_init(t, d);
	}
}

/* What the values of t, a column type of dialect d, compare as. */
static struct coltype coltype_of(const struct dialect *d, const struct sql_type *t)
{
	struct coltype c = {.kind = K_OTHER};
	if (t->array)
		return c;
	switch (t->kind) {
	case SQL_BOOL:
		/* without a boolean type: a small integer, or a bit(1) */
		c.kind = t->bool_form == SQL_BOOL_NATIVE ? K_BOOL
			 : t->bool_form == SQL_BOOL_BIT	 ? K_BITS
							 : K_INT;
		break;
	case SQL_INT:
		c.kind = K_INT;
		break;
	case SQL_DECIMAL:
		c.kind = K_DEC;
		break;
	case SQL_FLOAT:
		c.kind = t->bytes == 4 ? K_FLOAT4 : K_FLOAT8;
		break;
	case SQL_DATE:
		c.kind = K_DATE;
		break;
	case SQL_DATETIME:
	case SQL_TIMESTAMPTZ:
		c = (struct coltype){.kind = t->kind == SQL_DATETIME ? K_TS : K_TSTZ,
				     .prec = prec_of(t)};
		break;
	case SQL_TIME:
		/* a time with a zone: compared by its text */
		if (!t->with_tz)
			c = (struct coltype){.kind = K_TIME, .prec = prec_of(t)};
		break;
	case SQL_INTERVAL:
		c = (struct coltype){.kind = K_INTERVAL, .prec = prec_of(t)};
		break;
	case SQL_BIT:
		c.kind = K_BITS;
		break;
	case SQL_BINARY:
		c.kind = K_BYTES;
		break;
	case SQL_SPATIAL:
		c.kind = K_BYTES;
		break;
	case SQL_TEXT:
	case SQL_ENUM:
	case SQL_SET:
	case SQL_NETADDR:
		/* how each is read as text is its dialect's (canon_value) */
		c.kind = K_TEXT;
		break;
	case SQL_UUID:
		c.kind = K_UUID;
		break;
	case SQL_JSON:
		c.kind = t->json_text ? K_JSON : K_JSONB;
		break;
	case SQL_OTHER:
		/* a server's own type whose values read as integers or text */
		switch (d->compare_as ? d->compare_as(t) : SQL_OTHER) {
		case SQL_INT:
			c.kind = K_INT;
			break;
		case SQL_TEXT:
			c.kind = K_TEXT;
			break;
		default:
			break;
		}
		break;
	case SQL_MONEY:
		break;
	}
	return c;
}

/* ---------------------------------------------------------------------------
 * Canonical forms: one per column, chosen from the types on both sides
 */

/* How one column is compared; the same whichever side asks. */
struct plan {
	struct canon_spec canon; /* the text both sides write (canon.h) */
	bool in_part;		 /* CANON_FLOAT: one side holds more than is compared */
	bool as_text;		 /* the types do not correspond: both compared as their text */
};

/* Exact numbers, and what reads as one: booleans 0/1, bits. */
static bool numeric_kind(enum kind k)
{
	return k == K_INT || k == K_BOOL || k == K_DEC || k == K_BITS;
}

/* Binary floating point. */
static bool float_kind(enum kind k)
{
	return k == K_FLOAT4 || k == K_FLOAT8;
}

/* A number that converts to a double on both servers. */
static bool to_float_kind(enum kind k)
{
	return k == K_INT || k == K_DEC || float_kind(k);
}

/* A point in time: dates and timestamps. */
static bool temporal_kind(enum kind k)
{
	return k == K_DATE || k == K_TS || k == K_TSTZ;
}

/* A time of day or a duration. */
static bool time_kind(enum kind k)
{
	return k == K_TIME || k == K_INTERVAL;
}

/* JSON in any of its types. */
static bool json_kind(enum kind k)
{
	return k == K_JSON || k == K_JSONB;
}

/* Values compared by the md5 of their bytes (text, bytes, anything else). */
static bool hashed_kind(enum kind k)
{
	return k == K_TEXT || k == K_BYTES || k == K_UUID || k == K_OTHER || json_kind(k);
}

/* The smaller of a and b. */
static int min_int(int a, int b)
{
	return a < b ? a : b;
}

/* The plan for a column of type a whose counterpart is b, both on servers
 * of one dialect when same: symmetric in (a, b), so both queries agree. */
static struct plan plan_for(struct coltype a, struct coltype b, bool same)
{
	struct plan p = {.canon.form = CANON_HASH};
	if (to_float_kind(a.kind) && to_float_kind(b.kind) &&
	    (float_kind(a.kind) || float_kind(b.kind))) {
		/* every bit, at the precision of the narrower side: a double
		 * against a float is rounded to a float */
		p.canon.form = CANON_FLOAT;
		p.canon.bits = a.kind == K_FLOAT4 || b.kind == K_FLOAT4 ? 24 : 53;
		p.in_part = a.kind != b.kind;
	} else if (numeric_kind(a.kind) && numeric_kind(b.kind)) {
		p.canon.form = CANON_NUM;
	} else if (a.kind == K_DATE && b.kind == K_DATE) {
		p.canon.form = CANON_DATE;
	} else if (temporal_kind(a.kind) && temporal_kind(b.kind)) {
		p.canon.form = CANON_TS;
		p.canon.prec =
			min_int(a.kind == K_DATE ? 0 : a.prec, b.kind == K_DATE ? 0 : b.prec);
	} else if (time_kind(a.kind) && time_kind(b.kind)) {
		p.canon.form = CANON_TIME;
		p.canon.prec = min_int(a.prec, b.prec);
	} else if ((json_kind(a.kind) || json_kind(b.kind)) && !same) {
		/* No canonical JSON text two servers produce: jsonb sorts keys its
		 * own way and rewrites numbers, MySQL 8 reformats, MariaDB keeps the
		 * text. json kept as written (PostgreSQL json) against text (a
		 * MariaDB json is a longtext) compares as text. */
		p.canon.form = (a.kind == K_JSON && b.kind == K_TEXT) ||
					       (b.kind == K_JSON && a.kind == K_TEXT)
				       ? CANON_HASH
				       : CANON_NULLNESS;
	} else if (hashed_kind(a.kind) && hashed_kind(b.kind)) {
		/* one server's json normalized the same way on both sides */
		if (same && json_kind(a.kind) && json_kind(b.kind) &&
		    (a.kind == K_JSONB || b.kind == K_JSONB))
			p.canon.form = CANON_JSON_NORM;
		p.canon.lower = a.kind == K_UUID || b.kind == K_UUID;
	} else {
		p.as_text = true;
	}
	return p;
}

/* Append ", name" (or "name" first) to the note section *sec of notes,
 * starting it with head when it is empty. */
static void note_add(struct buf *sec, const char *head, const char *name)
{
	if (sec->len == 0)
		(void)(buf_puts(sec, head) && buf_puts(sec, name));
	else
		(void)(buf_puts(sec, ", ") && buf_puts(sec, name));
}

/* The query (see verify.h): each column's canonical expression
 * (canon_value) in the dialect's checksum_query. */
bool verify_sql(const struct dialect *d, const struct write_spec *t, const struct table_desc *mine,
		const struct dialect *other_d, const struct table_desc *other, struct buf *out,
		char *note, size_t notesz)
{
	if (note && notesz)
		note[0] = '\0';
	if (mine->ncols != other->ncols)
		return false;
	int n = mine->ncols;
	/* the note, in sections: json, single precision, doubles, as text */
	struct buf name, secs[4];
	buf_init(&name, 4096);
	for (int i = 0; i < 4; i++)
		buf_init(&secs[i], 4096);
	struct buf *vals = calloc(n ? (size_t)n : 1, sizeof *vals);
	const char **texts = calloc(n ? (size_t)n : 1, sizeof *texts);
	bool ok = vals && texts;
	for (int i = 0; ok && i < n; i++)
		buf_init(&vals[i], 0);
	for (int i = 0; ok && i < n; i++) {
		const struct column_desc *mc = &mine->cols[i], *oc = &other->cols[i];
		struct sql_type ta, tb;
		classify(d, column_value_type(mc), &ta);
		classify(other_d, column_value_type(oc), &tb);
		struct coltype a = coltype_of(d, &ta), b = coltype_of(other_d, &tb);
		struct plan p = plan_for(a, b, d == other_d);
		buf_reset(&name);
		ok = d->quote_ident(&name, mc->name) &&
		     d->canon_value(&vals[i], name.data, &ta, &p.canon);
		texts[i] = buf_str(&vals[i]);
		sql_type_free(&ta);
		sql_type_free(&tb);
		if (!ok)
			break;
		if (p.canon.form == CANON_NULLNESS)
			note_add(&secs[0],
				 "json compared as NULL or not only (no common canonical form): ",
				 mc->name);
		else if (p.canon.form == CANON_FLOAT && p.in_part && p.canon.bits == 24)
			note_add(&secs[1], "compared at single precision: ", mc->name);
		else if (p.canon.form == CANON_FLOAT && p.in_part)
			note_add(&secs[2], "compared as doubles: ", mc->name);
		else if (p.as_text)
			note_add(&secs[3], "types differ, compared as text: ", mc->name);
	}
	ok = ok && d->checksum_query(out, t, texts, n);
	size_t used = 0;
	for (int i = 0; i < 4; i++) {
		if (note && notesz && secs[i].len && used < notesz) {
			int w = snprintf(note + used, notesz - used, "%s%s", used ? "; " : "",
					 buf_str(&secs[i]));
			used = w < 0 ? notesz : used + (size_t)w;
		}
		buf_free(&secs[i]);
	}
	for (int i = 0; vals && texts && i < n; i++)
		buf_free(&vals[i]);
	free(vals);
	free(texts);
	buf_free(&name);
	return ok;
}

/* ---------------------------------------------------------------------------
 * One table
 */

/* One server's query, run on its own thread so both servers work at once. */
struct side_query {
	const struct driver *drv;
	struct conn *c;
	const char *sql;
	int nvals;
	char *vals[2];
	bool ok;
	struct sl_error err;
};

/* Run q's query (a pthread start routine). */
static void *side_run(void *arg)
{
	struct side_query *q = arg;
	sl_error_clear(&q->err);
	q->ok = q->drv->conn.query_row(q->c, q->sql, q->vals, q->nvals, &q->err);
	return NULL;
}

/* Run the two queries, from's on a thread of its own (or after to's when no
 * thread can be started); false with err naming the server that failed. */
static bool run_both(struct side_query *from, struct side_query *to, struct sl_error *err)
{
	pthread_t th;
	bool threaded = pthread_create(&th, NULL, side_run, from) == 0;
	side_run(to);
	if (threaded)
		pthread_join(th, NULL);
	else
		side_run(from);
	struct side_query *bad = !from->ok ? from : !to->ok ? to : NULL;
	if (!bad)
		return true;
	*err = bad->err;
	return sl_error_prefix(err, "%s %s", bad == from ? "FROM" : "TO", bad->drv->name);
}

/* Free the values a query returned. */
static void side_free(struct side_query *q)
{
	for (int i = 0; i < 2; i++) {
		free(q->vals[i]);
		q->vals[i] = NULL;
	}
}

/* The row counts of the sides where the table exists (the other stays 0). */
static bool count_rows(struct side_query *from, const struct write_spec *t_from, bool in_from,
		       struct side_query *to, const struct write_spec *t_to, bool in_to,
		       struct verify_result *out, struct sl_error *err)
{
	struct buf qf, qt;
	buf_init(&qf, 0);
	buf_init(&qt, 0);
	bool ok = (!in_from || sql_count_rows(from->drv->dialect, &qf, t_from)) &&
		  (!in_to || sql_count_rows(to->drv->dialect, &qt, t_to));
	if (!ok) {
		sl_error_set(err, SL_ERR_USAGE, "bad table name");
	} else if (in_from && in_to) {
		from->sql = qf.data;
		to->sql = qt.data;
		ok = run_both(from, to, err);
	} else if (in_from || in_to) {
		struct side_query *q = in_from ? from : to;
		q->sql = in_from ? qf.data : qt.data;
		side_run(q);
		ok = q->ok;
		if (!ok) {
			*err = q->err;
			sl_error_prefix(err, "%s %s", in_from ? "FROM" : "TO", q->drv->name);
		}
	}
	if (ok && in_from)
		out->rows_from = strtoull(from->vals[0] ? from->vals[0] : "0", NULL, 10);
	if (ok && in_to)
		out->rows_to = strtoull(to->vals[0] ? to->vals[0] : "0", NULL, 10);
	side_free(from);
	side_free(to);
	buf_free(&qf);
	buf_free(&qt);
	return ok;
}

/* Whether two column names are the same (fold: case-insensitively). */
static bool same_name(const char *a, const char *b, bool fold)
{
	return fold ? !strcasecmp(a, b) : !strcmp(a, b);
}

/* Whether col, one of to's columns, is lined up already (in b, of n entries). */
static bool taken(const struct column_desc *b, int n, const struct column_desc *col)
{
	for (int i = 0; i < n; i++)
		if (b[i].name == col->name)
			return true;
	return false;
}

/* Line up to's columns with from's by name, in from's order, into the
 * caller's arrays (of from->ncols entries, zeroed; the names stay owned by
 * the descriptions). Each column pairs with one other at most: the same
 * name first, then, with fold (a side's server folds the case of column
 * names, as MySQL does), one that differs only in case, so "a" and "A" of
 * a PostgreSQL table cannot both pair with a MySQL "A". False with a note
 * naming the columns only on one side. */
static bool align_columns(const struct table_desc *from, const struct table_desc *to, bool fold,
			  struct column_desc *a, struct column_desc *b, char *note, size_t notesz)
{
	for (int pass = 0; pass < (fold ? 2 : 1); pass++) {
		for (int i = 0; i < from->ncols; i++) {
			for (int j = 0; !a[i].name && j < to->ncols; j++) {
				if (!same_name(from->cols[i].name, to->cols[j].name, pass == 1) ||
				    taken(b, from->ncols, &to->cols[j]))
					continue;
				a[i] = from->cols[i];
				b[i] = to->cols[j];
			}
		}
	}
	struct buf only_from, only_to;
	buf_init(&only_from, notesz);
	buf_init(&only_to, notesz);
	for (int i = 0; i < from->ncols; i++)
		if (!a[i].name)
			note_add(&only_from, "", from->cols[i].name);
	for (int j = 0; j < to->ncols; j++)
		if (!taken(b, from->ncols, &to->cols[j]))
			note_add(&only_to, "", to->cols[j].name);
	bool same = only_from.len == 0 && only_to.len == 0;
	if (!same)
		snprintf(note, notesz, "columns differ:%s%s%s%s",
			 only_from.len ? " only on FROM: " : "", buf_str(&only_from),
			 only_to.len ? (only_from.len ? "; only on TO: " : " only on TO: ") : "",
			 buf_str(&only_to));
	buf_free(&only_from);
	buf_free(&only_to);
	return same;
}

/* Checksum both sides of a table whose columns line up (a[i] on from is
 * b[i] on to) and fill out's rows, sums, match and note. */
static bool compare_sums(struct side_query *qf, const struct write_spec *t_from,
			 const struct table_desc *a, struct side_query *qt,
			 const struct write_spec *t_to, const struct table_desc *b,
			 struct verify_result *out, struct sl_error *err)
{
	struct buf sf, st;
	buf_init(&sf, 0);
	buf_init(&st, 0);
	char note_to[sizeof out->note];
	bool ok = verify_sql(qf->drv->dialect, t_from, a, qt->drv->dialect, b, &sf, out->note,
			     sizeof out->note) &&
		  verify_sql(qt->drv->dialect, t_to, b, qf->drv->dialect, a, &st, note_to,
			     sizeof note_to);
	if (!ok) {
		sl_error_set(err, SL_ERR_USAGE, "a table or column name cannot be quoted");
	} else {
		qf->sql = sf.data;
		qt->sql = st.data;
		qf->nvals = qt->nvals = 2;
		ok = run_both(qf, qt, err);
	}
	if (ok) {
		out->rows_from = strtoull(qf->vals[0] ? qf->vals[0] : "0", NULL, 10);
		out->rows_to = strtoull(qt->vals[0] ? qt->vals[0] : "0", NULL, 10);
		snprintf(out->sum_from, sizeof out->sum_from, "%s", qf->vals[1] ? qf->vals[1] : "");
		snprintf(out->sum_to, sizeof out->sum_to, "%s", qt->vals[1] ? qt->vals[1] : "");
		out->match = out->rows_from == out->rows_to && out->sum_from[0] &&
			     !strcmp(out->sum_from, out->sum_to);
	}
	if (ok && !out->match) {
		/* why first; what was compared only in part after */
		char parts[sizeof out->note];
		memcpy(parts, out->note, sizeof parts);
		snprintf(out->note, sizeof out->note, "%s%s%.*s",
			 out->rows_from != out->rows_to ? "row counts differ" : "checksums differ",
			 parts[0] ? "; " : "", (int)sizeof parts - 20, parts);
	}
	side_free(qf);
	side_free(qt);
	buf_free(&sf);
	buf_free(&st);
	return ok;
}

/* Describe the table on both sides, then count (a table missing on a side,
 * columns that differ) or checksum it (see verify.h). */
bool verify_table(const struct driver *drv_from, struct conn *c_from,
		  const struct write_spec *t_from, const struct driver *drv_to, struct conn *c_to,
		  const struct write_spec *t_to, struct verify_result *out, struct sl_error *err)
{
	memset(out, 0, sizeof *out);
	snprintf(out->table, sizeof out->table, "%s", t_from->table);
	if (!drv_from->conn.query_row || !drv_to->conn.query_row)
		return sl_error_set(err, SL_ERR_INTERNAL, "the driver cannot run verify queries");
	struct table_desc df, dt;
	if (!drv_from->catalog.describe_table(c_from, t_from, &df, err))
		return sl_error_prefix(err, "verifying %s on FROM", out->table);
	if (!drv_to->catalog.describe_table(c_to, t_to, &dt, err)) {
		table_desc_free(&df);
		return sl_error_prefix(err, "verifying %s on TO", out->table);
	}
	out->exists_from = df.exists;
	out->exists_to = dt.exists;
	out->checkpoint_shaped = (df.exists && checkpoint_table_shaped(&df)) ||
				 (dt.exists && checkpoint_table_shaped(&dt));
	/* a table others inherit from: its own rows (the children's are
	 * compared as tables of their own) */
	struct write_spec own_from = *t_from, own_to = *t_to;
	own_from.own_rows = df.has_children;
	own_to.own_rows = dt.has_children;
	t_from = &own_from;
	t_to = &own_to;
	struct side_query qf = {.drv = drv_from, .c = c_from, .nvals = 1};
	struct side_query qt = {.drv = drv_to, .c = c_to, .nvals = 1};
	size_t n = df.ncols > 0 ? (size_t)df.ncols : 1;
	struct column_desc *ca = calloc(n, sizeof *ca), *cb = calloc(n, sizeof *cb);
	bool fold = drv_from->dialect->columns_case_insensitive ||
		    drv_to->dialect->columns_case_insensitive;
	bool ok;
	if (!ca || !cb) {
		ok = sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
	} else if (!df.exists || !dt.exists) {
		snprintf(out->note, sizeof out->note, "%s",
			 !df.exists && !dt.exists ? "missing on both sides"
			 : !df.exists		  ? "missing on FROM"
						  : "missing on TO");
		ok = count_rows(&qf, t_from, df.exists, &qt, t_to, dt.exists, out, err);
	} else if (!align_columns(&df, &dt, fold, ca, cb, out->note, sizeof out->note)) {
		ok = count_rows(&qf, t_from, true, &qt, t_to, true, out, err);
	} else {
		struct table_desc va = {.exists = true, .ncols = df.ncols, .cols = ca};
		struct table_desc vb = {.exists = true, .ncols = df.ncols, .cols = cb};
		ok = compare_sums(&qf, t_from, &va, &qt, t_to, &vb, out, err);
	}
	free(ca);
	free(cb);
	table_desc_free(&df);
	table_desc_free(&dt);
	return ok || sl_error_prefix(err, "verifying %s", out->table);
}

/* ---------------------------------------------------------------------------
 * sluice verify
 */

#define VERIFY_MAX_ERRORS 16

/* One server of the run. */
struct side {
	const struct driver *drv;
	struct conn *c;
	char url[512]; /* redacted */
};

/* Connect to url; RUN_OK, or how the run ends (the error is logged). */
static enum run_status side_open(const char *url, double timeout, struct side *s)
{
	url_redact(url, s->url, sizeof s->url);
	s->drv = driver_for_url(url);
	if (!s->drv) {
		struct sl_error e;
		driver_unknown_url(url, &e);
		log_error("%s", e.msg);
		return RUN_USAGE;
	}
	struct sl_error err;
	sl_error_clear(&err);
	if (!s->drv->conn.connect(url, &(struct conn_options){.timeout = timeout}, &s->c, &err)) {
		if (err.kind == SL_ERR_INTERRUPTED)
			return RUN_INTERRUPTED; /* verify_run says so */
		log_error("%s", err.msg);
		return err.kind == SL_ERR_USAGE ? RUN_USAGE : RUN_FAILED;
	}
	return RUN_OK;
}

/* Each table is read in a read-only snapshot of its own (its description
 * and its checksum agree; no transaction stays open across a long run, and
 * a failed query cannot spoil the next table's). */
static bool side_begin(struct side *s, struct sl_error *err)
{
	return !s->drv->read.snapshot || s->drv->read.snapshot(s->c, err) ||
	       sl_error_prefix(err, "%s", s->url);
}

/* End the table's snapshot. */
static void side_end(struct side *s)
{
	struct sl_error ignored;
	sl_error_clear(&ignored);
	if (s->drv->read.snapshot && s->drv->read.snapshot_end)
		s->drv->read.snapshot_end(s->c, &ignored);
}

/* Whether s can be read at all, tried once before any table: a snapshot
 * begun and ended (a SQLite file that was not there is a usage error here,
 * said once, not once per table of the other side). */
static enum run_status side_probe(struct side *s)
{
	struct sl_error err;
	sl_error_clear(&err);
	if (!s->drv->read.snapshot || s->drv->read.snapshot(s->c, &err)) {
		side_end(s);
		return RUN_OK;
	}
	side_end(s);
	if (signals_caught())
		return RUN_INTERRUPTED;
	if (strncmp(err.msg, s->url, strlen(s->url)))
		sl_error_prefix(&err, "%s", s->url);
	log_error("%s", err.msg);
	return err.kind == SL_ERR_USAGE ? RUN_USAGE : RUN_FAILED;
}

/* Close s's connection. */
static void side_close(struct side *s)
{
	if (s->c)
		s->drv->conn.close(s->c);
	s->c = NULL;
}

/* The schema a table is looked up in on side s: --schema (or the search
 * path) on a server with schemas inside a database, else the URL's
 * database. */
static const char *default_schema(const struct job *job, const struct side *s)
{
	return s->drv->dialect->has_schemas ? job->schema : NULL;
}

/* Whether --exclude-tables names name. */
static bool excluded(const struct job *job, const char *name)
{
	for (int i = 0; i < job->nexclude; i++)
		if (!strcmp(job->exclude_tables[i], name))
			return true;
	return false;
}

/* Append s as a JSON string. */
static bool json_str(struct buf *b, const char *s)
{
	bool ok = buf_putc(b, '"');
	for (const unsigned char *p = (const unsigned char *)s; ok && *p; p++) {
		if (*p == '"' || *p == '\\')
			ok = buf_printf(b, "\\%c", *p);
		else if (*p < 0x20)
			ok = buf_printf(b, "\\u%04x", *p);
		else
			ok = buf_putc(b, (char)*p);
	}
	return ok && buf_putc(b, '"');
}

/* Write the results as one JSON object to path ("-": stdout). */
static bool write_json(const char *path, enum run_status st, const struct verify_result *res,
		       int nres, char *const *errors, int nerrors)
{
	struct buf b;
	buf_init(&b, 0);
	bool ok = buf_printf(&b, "{\"status\": \"%s\", \"tables\": [", run_status_name(st));
	for (int i = 0; ok && i < nres; i++) {
		const struct verify_result *r = &res[i];
		ok = buf_puts(&b, i ? ", {\"table\": " : "{\"table\": ") && json_str(&b, r->table);
		if (r->exists_from)
			ok = ok && buf_printf(&b, ", \"rows_from\": %llu", r->rows_from);
		else
			ok = ok && buf_puts(&b, ", \"rows_from\": null");
		if (r->exists_to)
			ok = ok && buf_printf(&b, ", \"rows_to\": %llu", r->rows_to);
		else
			ok = ok && buf_puts(&b, ", \"rows_to\": null");
		ok = ok && buf_puts(&b, ", \"checksum_from\": ") &&
		     (r->sum_from[0] ? json_str(&b, r->sum_from) : buf_puts(&b, "null")) &&
		     buf_puts(&b, ", \"checksum_to\": ") &&
		     (r->sum_to[0] ? json_str(&b, r->sum_to) : buf_puts(&b, "null")) &&
		     buf_printf(&b, ", \"match\": %s, \"note\": ", r->match ? "true" : "false") &&
		     json_str(&b, r->note) && buf_putc(&b, '}');
	}
	ok = ok && buf_puts(&b, "], \"errors\": [");
	for (int i = 0; ok && i < nerrors; i++)
		ok = (i == 0 || buf_puts(&b, ", ")) && json_str(&b, errors[i]);
	ok = ok && buf_puts(&b, "]}\n");
	FILE *f = !ok ? NULL : strcmp(path, "-") ? fopen(path, "w") : stdout;
	if (f) {
		ok = fwrite(b.data, 1, b.len, f) == b.len;
		ok = (f == stdout ? fflush(f) == 0 : fclose(f) == 0) && ok;
	}
	if (!f || !ok)
		log_error("cannot write the summary to %s", strcmp(path, "-") ? path : "stdout");
	buf_free(&b);
	return f && ok;
}

/* Whether name (from a listing, or --tables: "schema.table" allowed) is
 * sluice's checkpoint table, --checkpoint-table or sluice_checkpoints: it
 * is sluice's own, not the data's, and only ever on a target. The schemas
 * count only when both names have one. */
static bool is_checkpoint_table(const struct job *job, const char *name, bool qualified)
{
	char *cs = NULL, *cn = NULL, *ns = NULL, *nn = NULL;
	bool is = sql_split_table(
		job->checkpoint_table ? job->checkpoint_table : "sluice_checkpoints", &cs, &cn);
	if (is && qualified)
		is = sql_split_table(name, &ns, &nn) && !strcmp(cn, nn) &&
		     (!cs || !ns || !strcmp(cs, ns));
	else if (is)
		is = !strcmp(cn, name);
	free(cs);
	free(cn);
	free(ns);
	free(nn);
	return is;
}

/* Every base table of side s into *sd; false when it cannot list them
 * (logged). */
static bool side_tables(const struct job *job, struct side *s, struct schema_desc *sd)
{
	struct sl_error err;
	sl_error_clear(&err);
	if (!s->drv->catalog.describe_schema) {
		log_error("%s: the driver cannot list tables: name them with --tables", s->url);
		return false;
	}
	if (!s->drv->catalog.describe_schema(s->c, default_schema(job, s), sd, &err)) {
		log_error("%s: %s", s->url, err.msg);
		return false;
	}
	return true;
}

/* Whether name is among the n names of list. */
static bool listed(char *const *list, int n, const char *name)
{
	for (int i = 0; i < n; i++)
		if (!strcmp(list[i], name))
			return true;
	return false;
}

/* The tables to compare, into *names (malloc'd; the strings belong to job
 * or sd): --tables, or every base table of FROM (sd[0]) and then those of
 * TO (sd[1]) not on FROM, so that a table on one side only is a difference
 * whichever side it is on; minus --exclude-tables and the checkpoint
 * table. */
static bool list_tables(const struct job *job, struct side *from, struct side *to,
			struct schema_desc sd[2], const char ***names, int *n)
{
	memset(sd, 0, 2 * sizeof *sd);
	if (!job->ntables && (!side_tables(job, from, &sd[0]) || !side_tables(job, to, &sd[1])))
		return false;
	int nall = job->ntables ? job->ntables : sd[0].ntables + sd[1].ntables;
	*names = calloc(nall ? (size_t)nall : 1, sizeof **names);
	if (!*names) {
		log_error("out of memory");
		return false;
	}
	*n = 0;
	for (int i = 0; i < job->ntables; i++) {
		if (excluded(job, job->tables[i]))
			continue;
		if (is_checkpoint_table(job, job->tables[i], true))
			log_warn("%s is sluice's checkpoint table: not compared", job->tables[i]);
		else
			(*names)[(*n)++] = job->tables[i];
	}
	for (int side = 0; side < 2; side++) {
		for (int i = 0; i < sd[side].ntables; i++) {
			const char *name = sd[side].tables[i];
			if (!excluded(job, name) && !is_checkpoint_table(job, name, false) &&
			    (side == 0 || !listed(sd[0].tables, sd[0].ntables, name)))
				(*names)[(*n)++] = name;
		}
	}
	return true;
}

/* Compare the table named name (as --tables gave it, "schema.table" allowed:
 * that schema on FROM, and on TO when it is the same kind of server). */
static bool verify_one(const struct job *job, struct side *from, struct side *to, const char *name,
		       struct verify_result *r, struct sl_error *err)
{
	char *schema = NULL, *table = NULL;
	if (job->ntables) {
		if (!sql_split_table(name, &schema, &table)) {
			memset(r, 0, sizeof *r);
			snprintf(r->table, sizeof r->table, "%s", name);
			return sl_error_set(err, SL_ERR_USAGE, "%s: not a table name", name);
		}
	} else if (!(table = strdup(name))) {
		return sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
	}
	bool same_kind = from->drv->dialect == to->drv->dialect;
	struct write_spec tf = {.schema = schema ? schema : default_schema(job, from),
				.table = table};
	struct write_spec tt = {.schema = schema && same_kind ? schema : default_schema(job, to),
				.table = table};
	memset(r, 0, sizeof *r);
	bool ok = side_begin(from, err) && side_begin(to, err) &&
		  verify_table(from->drv, from->c, &tf, to->drv, to->c, &tt, r, err);
	side_end(from);
	side_end(to);
	snprintf(r->table, sizeof r->table, "%s", name);
	free(schema);
	free(table);
	return ok;
}

/* sluice verify FROM_URL TO_URL: a line per table on stdout (table, rows on
 * FROM, rows on TO, match or MISMATCH, a note), the tables that differ named
 * on stderr; RUN_OK when every table matches, RUN_FAILED when one differs or
 * cannot be compared, RUN_USAGE for a bad URL. */
enum run_status verify_run(const struct job *job)
{
	signals_install();
	struct side from = {0}, to = {0};
	enum run_status st = side_open(job->from, job->timeout, &from);
	if (st == RUN_OK && (st = side_open(job->target, job->timeout, &to)) != RUN_OK)
		side_close(&from);
	if (st == RUN_OK &&
	    ((st = side_probe(&from)) != RUN_OK || (st = side_probe(&to)) != RUN_OK)) {
		side_close(&from);
		side_close(&to);
	}
	if (st == RUN_INTERRUPTED || (st != RUN_OK && signals_caught())) {
		log_result("interrupted by %s while connecting: nothing compared", signals_name());
		return RUN_INTERRUPTED;
	}
	if (st != RUN_OK)
		return st;
	struct schema_desc sd[2];
	const char **names = NULL;
	int n = 0;
	if (!list_tables(job, &from, &to, sd, &names, &n)) {
		side_close(&from);
		side_close(&to);
		schema_desc_free(&sd[0]);
		schema_desc_free(&sd[1]);
		if (!signals_caught())
			return RUN_FAILED;
		log_result("interrupted by %s: nothing compared", signals_name());
		return RUN_INTERRUPTED;
	}
	struct verify_result *res = calloc(n ? (size_t)n : 1, sizeof *res);
	char *errors[VERIFY_MAX_ERRORS];
	int nerrors = 0, nres = 0, ndiffer = 0;
	struct buf differ;
	buf_init(&differ, 4096);
	bool json_stdout = job->summary_json && !strcmp(job->summary_json, "-");
	if (!res) {
		log_error("out of memory");
		st = RUN_FAILED;
	}
	for (int i = 0; res && i < n && !signals_caught(); i++) {
		struct verify_result *r = &res[nres];
		struct sl_error err;
		sl_error_clear(&err);
		if (!verify_one(job, &from, &to, names[i], r, &err)) {
			if (signals_caught())
				break; /* said below */
			log_error("%s", err.msg);
			if (nerrors < VERIFY_MAX_ERRORS &&
			    (errors[nerrors] = strdup(err.msg)) != NULL)
				nerrors++;
			st = RUN_FAILED;
			if (err.kind == SL_ERR_CONNECTION)
				break; /* the server is gone: every next table would say so */
			continue;
		}
		if (!job->ntables && r->checkpoint_shaped) {
			/* resume state (copy leaves it out), not data */
			log_info("%s is a checkpoint table of sluice's: not compared", r->table);
			continue;
		}
		nres++;
		if (!r->match) {
			ndiffer++;
			note_add(&differ, "", r->table);
			st = RUN_FAILED;
		}
		/* the per-table lines are the command's data, unless the JSON is */
		if (json_stdout)
			continue;
		char rf[24] = "-", rt[24] = "-";
		if (r->exists_from)
			snprintf(rf, sizeof rf, "%llu", r->rows_from);
		if (r->exists_to)
			snprintf(rt, sizeof rt, "%llu", r->rows_to);
		printf("%s\t%s\t%s\t%s%s%s\n", r->table, rf, rt, r->match ? "match" : "MISMATCH",
		       r->note[0] ? "\t" : "", r->note);
	}
	if (!json_stdout && fflush(stdout) != 0) {
		log_error("writing the results to stdout failed");
		st = RUN_FAILED;
	}
	if (ndiffer)
		log_error("%d of %d tables differ: %s", ndiffer, n, buf_str(&differ));
	if (signals_caught()) {
		st = RUN_INTERRUPTED;
		char msg[200];
		snprintf(
			msg, sizeof msg,
			"interrupted by %s: %d of %d tables compared; run it again to compare them all",
			signals_name(), nres, n);
		log_result("%s", msg); /* what the operator asked for: no error */
		if (nerrors < VERIFY_MAX_ERRORS && (errors[nerrors] = strdup(msg)) != NULL)
			nerrors++;
	} else if (res && nres < n)
		log_error("%d of %d tables could not be compared", n - nres, n);
	if (n == 0 && st == RUN_OK) {
		/* a proof of nothing is no proof: a forgotten --schema or a
		 * wrong database would pass unseen */
		log_error("no tables to compare: nothing was verified (on PostgreSQL, --schema "
			  "names a schema other than public)");
		st = RUN_FAILED;
	} else if (st == RUN_OK)
		log_info("%d table%s compared, all match", n, n == 1 ? "" : "s");
	if (job->summary_json && !write_json(job->summary_json, st, res, nres, errors, nerrors))
		st = RUN_FAILED;
	for (int i = 0; i < nerrors; i++)
		free(errors[i]);
	buf_free(&differ);
	free(res);
	free(names);
	schema_desc_free(&sd[0]);
	schema_desc_free(&sd[1]);
	side_close(&from);
	side_close(&to);
	return st;
}
