/* src/pipeline/checkpoint.c
 * --resume's checkpoint table (see include/sluice/checkpoint.h): created on
 * first use, one row per committed range of records, read back at the start
 * of a run to skip what is already in.
 */
#include "sluice/checkpoint.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <limits.h>
#include <zlib.h>

#include "sluice/log.h"
#include "sluice/signals.h"
#include "sluice/xxh64.h"

/* What a checkpoint row says (its kind column): a range of records, a
 * source whole (every record in), its target table created by the job
 * (copy). A table an earlier version made has kind 0 in its old rows,
 * whose marks are the two lowest bigints of first_rec: read as they were,
 * never written. */
/* kind 4 is a table's watermark (copy --incremental: its mark column).
 * Kind 5, a stretch's lock, is inserted and deleted inside one transaction:
 * never committed, it makes another run that writes records of the same
 * stretch wait for that transaction to end (checkpoint_lock_stretches) */
enum ck_kind {
	CK_OLD = 0,
	CK_RANGE = 1,
	CK_WHOLE = 2,
	CK_CREATED = 3,
	CK_WATERMARK = 4,
	CK_LOCK = 5
};
/* records per stretch a lock covers */
#define CK_STRETCH 4096
/* stretch locks taken in one statement at most (7 parameters each) */
#define CK_LOCK_ROWS 256
#define OLD_WHOLE LLONG_MIN
#define OLD_CREATED (LLONG_MIN + 1)

/* Records first..last, both in: a range's end_rec is last + 1, which for a
 * key of LLONG_MAX wraps to LLONG_MIN (read back as LLONG_MAX again). */
struct range {
	long long first, last;
};

/* end_rec for a range whose last record is last, and back. */
static long long end_of(long long last)
{
	return (long long)((unsigned long long)last + 1u);
}
static long long last_of(long long end)
{
	return (long long)((unsigned long long)end - 1u);
}

struct ck_source {
	char *name;	   /* the key its rows go under: the canonical path, or what
			    * an earlier run named it (as typed, or a file of the same
			    * content) */
	char *alt;	   /* the name as typed, NULL when the same */
	char *fingerprint; /* as committed, or NULL when nothing is */
	char now[100];	   /* the file's fingerprint in this run */
	bool whole;
	bool created; /* copy --create made its table */
	char *mark;   /* copy --incremental: the watermark committed, or NULL */
	struct range *ranges;
	int n, cap;
	int cursor; /* checkpoint_covered walks the sorted ranges */
};

/* A checkpoint row of the job read back (of any source). */
struct ck_row {
	char *job, *source, *fingerprint;
	long long first, end;
	enum ck_kind kind;
};

/* A run's checkpoint. Writer threads share it read-only: the reader
 * changes a source (checkpoint_check_source, checkpoint_covered's cursor)
 * before any batch of it goes out, and each statement is built in a buffer
 * of its own call, never in here (writers claim ranges at once). */
struct checkpoint {
	const struct driver *drv;
	char *job;
	char *legacy[CK_MAX_LEGACY]; /* the job's names as earlier versions made them */
	int nlegacy;
	struct ck_row *rows; /* the job's rows whose source this run does not read */
	int nrows, caprows;
	struct write_spec table; /* the checkpoint table's name */
	char *schema, *name;
	struct ck_source *src;
	int nsrc;
	bool started; /* the job has checkpoint rows, of any source */
};

void checkpoint_close(struct checkpoint *ck)
{
	if (!ck)
		return;
	for (int i = 0; i < ck->nrows; i++) {
		free(ck->rows[i].job);
		free(ck->rows[i].source);
		free(ck->rows[i].fingerprint);
	}
	free(ck->rows);
	for (int i = 0; i < ck->nlegacy; i++)
		free(ck->legacy[i]);
	for (int i = 0; i < ck->nsrc; i++) {
		free(ck->src[i].alt);
		free(ck->src[i].name);
		free(ck->src[i].fingerprint);
		free(ck->src[i].ranges);
		free(ck->src[i].mark);
	}
	free(ck->src);
	free(ck->job);
	free(ck->schema);
	free(ck->name);
	free(ck);
}

/* The size and a hash of the first and last 64 KiB of the file open as fd
 * (what a changed file is told by), "size:hash", into out; false with
 * errno when it cannot be read. */
static bool fingerprint_head(int fd, off_t size, unsigned char *buf, char *out, size_t n)
{
	static const size_t edge = 65536;
	unsigned long long h = 1469598103934665603ULL;
	off_t offs[2] = {0, size > (off_t)edge ? size - (off_t)edge : 0};
	for (int k = 0; k < 2; k++) {
		ssize_t got = pread(fd, buf, edge, offs[k]);
		if (got < 0)
			return false;
		for (ssize_t i = 0; i < got; i++)
			h = (h ^ buf[i]) * 1099511628211ULL;
	}
	snprintf(out, n, "%lld:%016llx", (long long)size, h);
	return true;
}

/* The content part of a fingerprint, after its '|', of the file open as
 * fd: "xxh64:" and the XXH64 of every byte (what a renamed copy is known
 * by), or, legacy, the CRC-32 and Adler-32 that versions before it wrote
 * (checked only against their rows, see adopt_same_content). */
static bool fingerprint_content(int fd, unsigned char *buf, bool legacy, char *out, size_t n)
{
	struct xxh64 x;
	xxh64_init(&x);
	uLong crc = crc32(0L, Z_NULL, 0), adler = adler32(0L, Z_NULL, 0);
	off_t at = 0;
	ssize_t got;
	while ((got = pread(fd, buf, 1 << 20, at)) > 0) {
		if (legacy) {
			crc = crc32(crc, buf, (uInt)got);
			adler = adler32(adler, buf, (uInt)got);
		} else {
			xxh64_update(&x, buf, (size_t)got);
		}
		at += got;
	}
	if (got < 0)
		return false;
	if (legacy)
		snprintf(out, n, "%08lx:%08lx", (unsigned long)crc, (unsigned long)adler);
	else
		snprintf(out, n, "xxh64:%016llx", (unsigned long long)xxh64_digest(&x));
	return true;
}

/* The fingerprint of path, in the legacy form too; "" for stdin and
 * pipes. */
static bool fingerprint_of(const char *path, bool legacy, char *out, size_t n, struct sl_error *err)
{
	out[0] = '\0';
	struct stat st;
	if (!strcmp(path, "-") || stat(path, &st) != 0 || !S_ISREG(st.st_mode))
		return true; /* stdin or a pipe: see checkpoint_stream_fingerprint */
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return sl_error_set(err, SL_ERR_USAGE, "cannot open %s: %s", path, strerror(errno));
	unsigned char *buf = malloc(1 << 20);
	if (!buf) {
		close(fd);
		return sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
	}
	char head[48], content[48];
	bool ok = fingerprint_head(fd, st.st_size, buf, head, sizeof head) &&
		  fingerprint_content(fd, buf, legacy, content, sizeof content);
	int e = errno;
	free(buf);
	close(fd);
	if (!ok)
		return sl_error_set(err, SL_ERR_USAGE, "cannot read %s: %s", path, strerror(e));
	snprintf(out, n, "%s|%s", head, content);
	return true;
}

bool checkpoint_fingerprint(const char *path, char *out, size_t n, struct sl_error *err)
{
	return fingerprint_of(path, false, out, n, err);
}

/* Whether fingerprints a and b name the same file: the part before '|'
 * (an earlier version wrote only that); "" is not known. */
static bool same_file(const char *a, const char *b)
{
	size_t na = strcspn(a, "|"), nb = strcspn(b, "|");
	return !*a || !*b || (na == nb && !strncmp(a, b, na));
}

static int source_index(const struct checkpoint *ck, const char *name)
{
	for (int i = 0; i < ck->nsrc; i++)
		if (!strcmp(ck->src[i].name, name) ||
		    (ck->src[i].alt && !strcmp(ck->src[i].alt, name)))
			return i;
	return -1;
}

static int by_first(const void *a, const void *b)
{
	const struct range *x = a, *y = b;
	return x->first < y->first ? -1 : x->first > y->first;
}

/* Whether d has the columns of a checkpoint table of sluice, of any
 * version, in their order: one that loads named with --checkpoint-table
 * is sluice's own resume state too, whatever its name. */
bool checkpoint_table_shaped(const struct table_desc *d)
{
	if (d->ncols < 7 || d->ncols > sql_checkpoint_ncols)
		return false;
	for (int i = 0; i < d->ncols; i++)
		if (strcmp(d->cols[i].name, sql_checkpoint_columns[i]))
			return false;
	return true;
}

/* Whether name is one of the job's earlier names. */
static bool is_legacy(const struct checkpoint *ck, const char *name)
{
	for (int i = 0; i < ck->nlegacy; i++)
		if (!strcmp(ck->legacy[i], name))
			return true;
	return false;
}

/* One checkpoint row read back (job, source, first, end, fingerprint): the
 * job's, or an earlier name's, kept for place_rows. */
static bool take_row(void *ctx, char *const *v, int n)
{
	struct checkpoint *ck = ctx;
	if (n < 6 || !v[0] || !v[1] || !v[2] || !v[3] || !v[5] ||
	    (strcmp(v[0], ck->job) && !is_legacy(ck, v[0])))
		return true;
	if (ck->nrows == ck->caprows) {
		int cap = ck->caprows ? ck->caprows * 2 : 64;
		struct ck_row *r = realloc(ck->rows, (size_t)cap * sizeof *r);
		if (!r)
			return false;
		ck->rows = r;
		ck->caprows = cap;
	}
	struct ck_row *r = &ck->rows[ck->nrows];
	*r = (struct ck_row){.job = strdup(v[0]),
			     .source = strdup(v[1]),
			     .fingerprint = strdup(v[4] ? v[4] : ""),
			     .first = atoll(v[2]),
			     .end = atoll(v[3]),
			     .kind = (enum ck_kind)atoi(v[5])};
	if (!r->job || !r->source || !r->fingerprint) {
		free(r->job);
		free(r->source);
		free(r->fingerprint);
		return false;
	}
	ck->nrows++;
	return true;
}

/* Add row r to source s. */
static bool source_take(struct ck_source *s, const struct ck_row *r)
{
	if (!s->fingerprint && !(s->fingerprint = strdup(r->fingerprint)))
		return false;
	bool whole = r->kind == CK_WHOLE || (r->kind == CK_OLD && r->first == OLD_WHOLE);
	bool created = r->kind == CK_CREATED || (r->kind == CK_OLD && r->first == OLD_CREATED);
	if (whole || created) {
		*(whole ? &s->whole : &s->created) = true;
		return true;
	}
	if (r->kind != CK_RANGE && r->kind != CK_OLD)
		return true; /* a kind of a later version: not this one's to read */
	if (s->n == s->cap) {
		int cap = s->cap ? s->cap * 2 : 16;
		struct range *g = realloc(s->ranges, (size_t)cap * sizeof *g);
		if (!g)
			return false;
		s->ranges = g;
		s->cap = cap;
	}
	s->ranges[s->n++] = (struct range){r->first, last_of(r->end)};
	return true;
}

/* After reading the table: the job is its name's, or, when that has no
 * rows, the legacy name's; each row goes to the source of this run it
 * names (under its canonical path or as typed, which then stays its key),
 * and the others stay in ck->rows for a source of the same content. */
static bool place_rows(struct checkpoint *ck)
{
	bool mine = false;
	for (int i = 0; i < ck->nrows; i++)
		mine |= !strcmp(ck->rows[i].job, ck->job);
	/* the first earlier name with rows, in the order given */
	for (int l = 0; !mine && l < ck->nlegacy; l++)
		for (int i = 0; !mine && i < ck->nrows; i++)
			if (!strcmp(ck->rows[i].job, ck->legacy[l])) {
				log_info("going on with job '%s', as an earlier version named it",
					 ck->legacy[l]);
				free(ck->job);
				if (!(ck->job = strdup(ck->legacy[l])))
					return false;
				mine = true;
			}
	int kept = 0;
	for (int i = 0; i < ck->nrows; i++) {
		struct ck_row *r = &ck->rows[i];
		int k = strcmp(r->job, ck->job) ? -2 : source_index(ck, r->source);
		if (k >= 0 && strcmp(ck->src[k].name, r->source)) {
			/* its rows are under the name as typed: that stays the key */
			char *name = strdup(r->source);
			if (!name)
				return false;
			free(ck->src[k].name);
			ck->src[k].name = name;
		}
		if (k >= 0 && !source_take(&ck->src[k], r))
			return false;
		if (k == -1) {
			ck->rows[kept++] = *r;
			continue;
		}
		free(r->job);
		free(r->source);
		free(r->fingerprint);
	}
	ck->nrows = kept;
	ck->started = kept > 0;
	for (int i = 0; i < ck->nsrc; i++)
		ck->started |= ck->src[i].fingerprint != NULL;
	return true;
}

/* Whether table has column name; its primary key's name into *pk. */
static bool table_has(const struct table_desc *td, const char *name, const char **pk)
{
	*pk = NULL;
	for (int i = 0; i < td->nunique; i++)
		if (td->unique[i].primary)
			*pk = td->unique[i].name;
	for (int i = 0; i < td->ncols; i++)
		if (!strcmp(td->cols[i].name, name))
			return true;
	return false;
}

/* A checkpoint table made before copy --incremental has no column for
 * its watermarks: one ALTER TABLE adds it (NULL in every row there). Two
 * runs at once: the second finds the column there. */
static bool add_mark(const struct driver *drv, struct conn *c, const struct write_spec *table,
		     struct sl_error *err)
{
	struct buf sql;
	buf_init(&sql, 0);
	bool ok = sql_checkpoint_add_mark(drv->dialect, &sql, table);
	bool done = ok && drv->conn.exec(c, sql.data, err);
	buf_free(&sql);
	if (!ok)
		return sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
	if (!done) {
		struct table_desc td = {0};
		const char *pk;
		struct sl_error e;
		bool there = drv->catalog.describe_table(c, table, &td, &e) &&
			     table_has(&td, "mark", &pk);
		table_desc_free(&td);
		return there ||
		       sl_error_prefix(err, "adding the column mark to the checkpoint table");
	}
	log_info("the checkpoint table now has the column mark, for copy --incremental's "
		 "watermarks");
	return true;
}

/* A checkpoint table an earlier version made has no kind column, and its
 * marks took the two lowest bigints from the keys a copy may read: give it
 * the column (its rows keep kind 0) and the key with it, in one ALTER
 * TABLE. Two runs at once: the second finds the column there. */
static bool upgrade_table(const struct driver *drv, struct conn *c, const struct write_spec *table,
			  struct sl_error *err)
{
	for (int attempt = 0;; attempt++) {
		struct table_desc td = {0};
		const char *pk = NULL;
		if (!drv->catalog.describe_table(c, table, &td, err))
			return sl_error_prefix(err, "reading the checkpoint table's columns");
		if (table_has(&td, "kind", &pk)) {
			bool marked = table_has(&td, "mark", &pk);
			table_desc_free(&td);
			return marked || add_mark(drv, c, table, err);
		}
		struct buf sql;
		buf_init(&sql, 0);
		bool ok = pk && sql_checkpoint_upgrade(drv->dialect, &sql, table, pk);
		table_desc_free(&td);
		if (!ok) {
			buf_free(&sql);
			return sl_error_set(
				err, SL_ERR_USAGE,
				"the checkpoint table was made by an earlier version of "
				"sluice and cannot be upgraded here: forget its jobs "
				"and drop it, or name another with --checkpoint-table");
		}
		bool done = drv->conn.exec(c, sql.data, err);
		buf_free(&sql);
		if (done) {
			log_info("the checkpoint table now has the column kind: its marks no "
				 "longer take the two lowest keys");
			return add_mark(drv, c, table, err);
		}
		if (attempt > 0)
			return sl_error_prefix(err, "upgrading the checkpoint table");
	}
}

/* Create the checkpoint table (named by table) on c when it is missing,
 * or upgrade one an earlier version made. */
static bool create_table(const struct driver *drv, struct conn *c, const struct write_spec *table,
			 struct sl_error *err)
{
	struct buf sql;
	buf_init(&sql, 0);
	bool ok = sql_checkpoint_create(drv->dialect, &sql, table);
	/* runs creating it at once: PostgreSQL's IF NOT EXISTS may still refuse
	 * the later ones, with a unique violation on its catalog or "relation
	 * already exists"; the table is there then, and IF NOT EXISTS passes */
	bool made = ok && drv->conn.exec(c, sql.data, err);
	for (int again = 0; ok && !made && again < 3 &&
			    (drv->conn.unique_violation(err) || drv->conn.object_exists(err));
	     again++) {
		sl_error_clear(err);
		made = drv->conn.exec(c, sql.data, err);
	}
	buf_free(&sql);
	if (!ok)
		return sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
	if (!made)
		return sl_error_prefix(err, "creating the checkpoint table");
	return upgrade_table(drv, c, table, err);
}

/* A watermark row read back (job, source, mark, committed_at): the job's
 * (after place_rows: its name is settled) go to their sources. */
static bool take_mark(void *ctx, char *const *v, int n)
{
	struct checkpoint *ck = ctx;
	if (n < 3 || !v[0] || !v[1] || !v[2] || strcmp(v[0], ck->job))
		return true;
	int k = source_index(ck, v[1]);
	if (k < 0)
		return true;
	free(ck->src[k].mark);
	return (ck->src[k].mark = strdup(v[2])) != NULL;
}

bool checkpoint_open(struct checkpoint **out, const struct driver *drv, struct conn *c,
		     const char *table, const char *job, const char *const *legacy, int nlegacy,
		     char *const *sources, char *const *typed, int nsources, struct sl_error *err)
{
	struct checkpoint *ck = calloc(1, sizeof *ck);
	if (!ck)
		return sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
	*out = NULL;
	ck->drv = drv;
	ck->job = strdup(job);
	ck->src = calloc((size_t)(nsources > 0 ? nsources : 1), sizeof *ck->src);
	bool ok = ck->job && ck->src &&
		  sql_split_table(table ? table : "sluice_checkpoints", &ck->schema, &ck->name);
	for (int i = 0; ok && i < nlegacy && ck->nlegacy < CK_MAX_LEGACY; i++)
		if (legacy[i] && strcmp(legacy[i], job) && !is_legacy(ck, legacy[i]))
			ok = (ck->legacy[ck->nlegacy++] = strdup(legacy[i])) != NULL;
	for (int i = 0; ok && i < nsources; i++) {
		ok = (ck->src[i].name = strdup(sources[i])) != NULL;
		if (ok && typed && strcmp(typed[i], sources[i]))
			ok = (ck->src[i].alt = strdup(typed[i])) != NULL;
		ck->nsrc = i + 1;
	}
	if (!ok) {
		checkpoint_close(ck);
		return sl_error_set(err, SL_ERR_USAGE,
				    "bad --checkpoint-table name, or out of memory");
	}
	ck->table.schema = ck->schema;
	ck->table.table = ck->name;
	if (!create_table(drv, c, &ck->table, err)) {
		checkpoint_close(ck);
		return false;
	}
	/* every row of the table, filtered here: the job's name never goes
	 * into SQL text */
	struct buf sql;
	buf_init(&sql, 0);
	ok = sql_checkpoint_rows(drv->dialect, &sql, &ck->table);
	if (!ok || !drv->conn.query_each(c, sql.data, take_row, ck, err)) {
		buf_free(&sql);
		if (ok)
			sl_error_prefix(err, "reading the checkpoint table");
		checkpoint_close(ck);
		return ok ? false : sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
	}
	buf_free(&sql);
	if (!place_rows(ck)) {
		checkpoint_close(ck);
		return sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
	}
	buf_init(&sql, 0);
	ok = sql_checkpoint_marks(drv->dialect, &sql, &ck->table);
	if (!ok || !drv->conn.query_each(c, sql.data, take_mark, ck, err)) {
		buf_free(&sql);
		if (ok)
			sl_error_prefix(err, "reading the checkpoint table's watermarks");
		checkpoint_close(ck);
		return ok ? false : sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
	}
	buf_free(&sql);
	for (int i = 0; i < ck->nsrc; i++)
		if (ck->src[i].n > 1)
			qsort(ck->src[i].ranges, (size_t)ck->src[i].n, sizeof(struct range),
			      by_first);
	*out = ck;
	return true;
}

/* The source of a row of the job whose fingerprint is fp, or NULL. */
static const char *source_with(const struct checkpoint *ck, const char *fp)
{
	for (int i = 0; i < ck->nrows; i++)
		if (!strcmp(ck->rows[i].fingerprint, fp))
			return ck->rows[i].source;
	return NULL;
}

/* Whether a row of the job has the head of fingerprint fp (size and
 * edges) and its content in the legacy form (no "xxh64:"). */
static bool legacy_alike(const struct checkpoint *ck, const char *fp)
{
	size_t head = strcspn(fp, "|");
	for (int i = 0; i < ck->nrows; i++) {
		const char *r = ck->rows[i].fingerprint;
		if (strlen(r) > head && r[head] == '|' && !strncmp(r, fp, head) &&
		    strncmp(r + head + 1, "xxh64:", 6))
			return true;
	}
	return false;
}

/* Source s has no rows yet, and fingerprint names all its bytes: the
 * rows of a source of the job with the same bytes (a renamed copy, or the
 * same file under another path) become s's, under that source's name.
 * Rows an earlier version wrote name the bytes by CRC-32 and Adler-32:
 * for a file of their size and edges (path), those are worked out too. */
static bool adopt_same_content(struct checkpoint *ck, struct ck_source *s, const char *fingerprint,
			       const char *path, struct sl_error *err)
{
	if (s->fingerprint || !strchr(fingerprint, '|'))
		return true;
	const char *other = source_with(ck, fingerprint);
	if (!other && path && legacy_alike(ck, fingerprint)) {
		char old[100];
		if (!fingerprint_of(path, true, old, sizeof old, err))
			return false;
		other = source_with(ck, old);
	}
	if (!other)
		return true;
	for (int i = 0; i < ck->nsrc; i++)
		if (!strcmp(ck->src[i].name, other))
			return true; /* that file is read in this run too */
	log_info("%s has the same bytes as %s, which job '%s' loaded: going on from there",
		 s->alt ? s->alt : s->name, other, ck->job);
	char *name = strdup(other);
	if (!name)
		return sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
	free(s->name);
	s->name = name;
	for (int i = 0; i < ck->nrows; i++)
		if (!strcmp(ck->rows[i].source, name) && !source_take(s, &ck->rows[i]))
			return sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
	if (s->n > 1)
		qsort(s->ranges, (size_t)s->n, sizeof(struct range), by_first);
	return true;
}

const char *checkpoint_job(const struct checkpoint *ck)
{
	return ck->job;
}

bool checkpoint_check_source(struct checkpoint *ck, int src, const char *fingerprint,
			     const char *path, bool *whole, struct sl_error *err)
{
	struct ck_source *s = &ck->src[src];
	*whole = false;
	snprintf(s->now, sizeof s->now, "%s", fingerprint);
	if (!adopt_same_content(ck, s, fingerprint, path, err))
		return false;
	if (s->fingerprint && !same_file(s->fingerprint, fingerprint)) {
		if (!strcmp(s->name, "-"))
			return sl_error_set(
				err, SL_ERR_USAGE,
				"stdin is another stream than the one job '%s' was loading (its "
				"first bytes differ): a new stream needs another --job, or forget "
				"the job's checkpoints (sluice checkpoints --job '%s' --forget)",
				ck->job, ck->job);
		return sl_error_set(
			err, SL_ERR_USAGE,
			"%s changed since job '%s' loaded %s of it (fingerprint %s, now %s): "
			"give it another name, or forget the job's checkpoints",
			s->alt ? s->alt : s->name, ck->job, s->whole ? "all" : "part",
			s->fingerprint, fingerprint);
	}
	*whole = s->whole;
	return true;
}

bool checkpoint_started(const struct checkpoint *ck)
{
	return ck->started;
}

bool checkpoint_source_started(const struct checkpoint *ck, int src)
{
	return ck->src[src].n > 0 || ck->src[src].whole;
}

bool checkpoint_source_created(const struct checkpoint *ck, int src)
{
	return ck->src[src].created;
}

bool checkpoint_covered(struct checkpoint *ck, int src, long long ordinal)
{
	struct ck_source *s = &ck->src[src];
	while (s->cursor < s->n && s->ranges[s->cursor].last < ordinal)
		s->cursor++;
	return s->cursor < s->n && s->ranges[s->cursor].first <= ordinal;
}

/* Insert rows of kind kind for source src in one statement: nrows of
 * them, row i from first + i to last (one row: first..last as a range's),
 * or to first + i itself when there are more (stretch locks). */
static enum claim_result claim_rows(struct checkpoint *ck, struct conn *c, int src,
				    enum ck_kind kind, long long first, long long last, size_t rows,
				    size_t nrows, struct sl_error *err)
{
	char r[32], k[8];
	snprintf(r, sizeof r, "%zu", rows);
	snprintf(k, sizeof k, "%d", (int)kind);
	const char **values = malloc(nrows * 7 * sizeof *values);
	char(*nums)[2][32] = malloc(nrows * sizeof *nums);
	/* the statement in a buffer of this call's own: writer threads claim
	 * at once */
	struct buf sql;
	buf_init(&sql, 0);
	bool ok = values && nums && sql_checkpoint_claim(ck->drv->dialect, &sql, &ck->table, nrows);
	for (size_t i = 0; ok && i < nrows; i++) {
		long long f = first + (long long)i;
		snprintf(nums[i][0], sizeof nums[i][0], "%lld", f);
		snprintf(nums[i][1], sizeof nums[i][1], "%lld", end_of(nrows == 1 ? last : f));
		const char *row[7] = {
			ck->job, ck->src[src].name, nums[i][0], nums[i][1], ck->src[src].now, r, k};
		memcpy(values + 7 * i, row, sizeof row);
	}
	bool done = ok && ck->drv->conn.exec_params(c, sql.data, (int)(7 * nrows), values, err);
	buf_free(&sql);
	free(values);
	free(nums);
	if (!ok)
		return sl_error_set(err, SL_ERR_INTERNAL, "out of memory"), CLAIM_FAILED;
	if (done)
		return CLAIM_OK;
	if (ck->drv->conn.unique_violation(err))
		return CLAIM_TAKEN; /* the range is someone else's */
	if (err->kind == SL_ERR_DATA)
		err->kind = SL_ERR_SERVER; /* the checkpoint row is no row of the input */
	sl_error_prefix(err, "writing the checkpoint row");
	return CLAIM_FAILED;
}

/* Insert the row of kind kind (first, last as a range's) for source src. */
static enum claim_result claim_row(struct checkpoint *ck, struct conn *c, int src,
				   enum ck_kind kind, long long first, long long last, size_t rows,
				   struct sl_error *err)
{
	return claim_rows(ck, c, src, kind, first, last, rows, 1, err);
}

enum claim_result checkpoint_claim(struct checkpoint *ck, struct conn *c, int src, long long first,
				   long long last, size_t rows, struct sl_error *err)
{
	return claim_row(ck, c, src, CK_RANGE, first, last, rows, err);
}

bool checkpoint_lock_stretches(struct checkpoint *ck, struct conn *c, int src, long long first,
			       long long last, long long *held, struct sl_error *err)
{
	const struct driver *drv = ck->drv;
	long long lo = first / CK_STRETCH, hi = last / CK_STRETCH;
	if (lo <= *held)
		lo = *held + 1; /* locked already in this transaction */
	if (hi > *held)
		*held = hi;
	/* ascending, so two runs that need the same stretches cannot wait on
	 * each other in a circle; up to CK_LOCK_ROWS of them in one INSERT (in
	 * the order of its rows) and one DELETE, two round trips, not two a
	 * stretch */
	for (long long s0 = lo; s0 <= hi; s0 += CK_LOCK_ROWS) {
		long long s1 = hi - s0 < CK_LOCK_ROWS ? hi : s0 + CK_LOCK_ROWS - 1;
		enum claim_result r =
			claim_rows(ck, c, src, CK_LOCK, s0, s1, 0, (size_t)(s1 - s0 + 1), err);
		if (r != CLAIM_OK) {
			if (r == CLAIM_TAKEN)
				sl_error_set(err, SL_ERR_SERVER,
					     "a stretch lock of job '%s' is committed in the "
					     "checkpoint table: delete its kind 5 rows",
					     ck->job);
			return false;
		}
		struct buf sql;
		buf_init(&sql, 0);
		char lo_s[32], hi_s[32];
		snprintf(lo_s, sizeof lo_s, "%lld", s0);
		snprintf(hi_s, sizeof hi_s, "%lld", s1);
		const char *values[4] = {ck->job, ck->src[src].name, lo_s, hi_s};
		bool ok = sql_checkpoint_unlock(drv->dialect, &sql, &ck->table, CK_LOCK) &&
			  drv->conn.exec_params(c, sql.data, 4, values, err);
		buf_free(&sql);
		if (!ok)
			return false; /* the rows stay locked until this transaction ends */
	}
	return true;
}

/* What checkpoint_taken asks for and finds: the committed ranges of this
 * job and source that meet records first..last, marked in taken. */
struct taken_query {
	const char *job, *src;
	long long first, last;
	bool *taken;
	size_t n;
};

/* One row read back by checkpoint_taken: job, source, first_rec, end_rec. */
static bool taken_row(void *ctx, char *const *v, int n)
{
	struct taken_query *q = ctx;
	if (n < 4 || !v[0] || !v[1] || !v[2] || !v[3] || strcmp(v[0], q->job) ||
	    strcmp(v[1], q->src))
		return true;
	long long a = atoll(v[2]), z = last_of(atoll(v[3]));
	if (a < q->first)
		a = q->first;
	if (z > q->last)
		z = q->last;
	for (long long k = a; k <= z; k++)
		if (!q->taken[k - q->first]) {
			q->taken[k - q->first] = true;
			q->n++;
		}
	return true;
}

bool checkpoint_taken(struct checkpoint *ck, struct conn *c, int src, long long first,
		      long long last, bool *taken, size_t *ntaken, struct sl_error *err)
{
	struct taken_query q = {ck->job, ck->src[src].name, first, last, taken, 0};
	struct buf sql; /* its own: writer threads ask at once */
	buf_init(&sql, 0);
	bool ok = sql_checkpoint_overlap(ck->drv->dialect, &sql, &ck->table, first, last);
	bool asked = ok && ck->drv->conn.query_each(c, sql.data, taken_row, &q, err);
	buf_free(&sql);
	if (!ok)
		return sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
	*ntaken = q.n;
	return asked;
}

/* One row read back by checkpoint_committed. */
static bool found_row(void *ctx, char *const *v, int n)
{
	struct {
		const char *job, *src;
		long long first;
		bool found;
	} *q = ctx;
	if (n >= 3 && v[0] && v[1] && v[2] && !strcmp(v[0], q->job) && !strcmp(v[1], q->src) &&
	    atoll(v[2]) == q->first)
		q->found = true;
	return true;
}

bool checkpoint_committed(struct checkpoint *ck, struct conn *c, int src, long long first,
			  bool *committed, struct sl_error *err)
{
	struct {
		const char *job, *src;
		long long first;
		bool found;
	} q = {ck->job, ck->src[src].name, first, false};
	struct buf sql; /* its own: writer threads settle lost commits at once */
	buf_init(&sql, 0);
	bool ok = sql_checkpoint_at(ck->drv->dialect, &sql, &ck->table, first);
	bool asked = ok && ck->drv->conn.query_each(c, sql.data, found_row, &q, err);
	buf_free(&sql);
	if (!ok)
		return sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
	if (!asked)
		return false;
	*committed = q.found;
	return true;
}

bool checkpoint_source_done(struct checkpoint *ck, struct conn *c, int src, long long count,
			    struct sl_error *err)
{
	if (ck->src[src].whole)
		return true;
	/* (end_rec holds the count) */
	enum claim_result r = claim_row(ck, c, src, CK_WHOLE, 0, last_of(count), 0, err);
	return r != CLAIM_FAILED;
}

bool checkpoint_mark_created(struct checkpoint *ck, struct conn *c, int src, struct sl_error *err)
{
	if (ck->src[src].created)
		return true;
	if (claim_row(ck, c, src, CK_CREATED, 0, last_of(0), 0, err) == CLAIM_FAILED)
		return false;
	ck->src[src].created = true;
	return true;
}

/* FNV-1a of the n bytes at p, going on from h. */
static uint64_t fnv1a(uint64_t h, const void *p, size_t n)
{
	for (const unsigned char *b = p; n--; b++)
		h = (h ^ *b) * 1099511628211ULL;
	return h;
}

bool checkpoint_lock(struct conn *c, const char *table, const char *job, bool *waited,
		     struct sl_error *err)
{
	const struct driver *drv = conn_driver(c);
	*waited = false;
	/* a job is its name in a checkpoint table: the lock is named by a
	 * hash of both (a number, so no name goes into SQL text) */
	const char *t = table ? table : "sluice_checkpoints";
	uint64_t h = fnv1a(fnv1a(1469598103934665603ULL, t, strlen(t) + 1), job, strlen(job));
	/* the lock lasts as long as the run, however long it idles: no
	 * server timeout may end the session (the job would be free) */
	if (!drv->tx.job_lock_hold(c, err))
		return sl_error_prefix(err, "taking the lock of job '%s'", job);
	for (;;) {
		bool held = false;
		if (!drv->tx.job_lock_try(c, h, &held, err))
			return sl_error_prefix(err, "taking the lock of job '%s'", job);
		if (held)
			break;
		if (!*waited)
			log_warn("job '%s' is being run by another process (it holds the job's "
				 "lock on the target): waiting for that run to end, then this one "
				 "goes on from its checkpoints",
				 job);
		*waited = true;
		struct timespec ts = {1, 0};
		nanosleep(&ts, NULL);
		if (signals_caught())
			return sl_error_set(err, SL_ERR_INTERNAL,
					    "interrupted by signal %d while waiting for the other "
					    "run of job '%s' to end",
					    signals_caught(), job);
	}
	if (*waited)
		log_info("the other run of job '%s' has ended: going on from its checkpoints", job);
	return true;
}

const char *checkpoint_watermark(const struct checkpoint *ck, int src)
{
	return ck->src[src].mark;
}

bool checkpoint_set_watermark(struct checkpoint *ck, struct conn *c, int src, const char *mark,
			      size_t rows, struct sl_error *err)
{
	char r[32];
	snprintf(r, sizeof r, "%zu", rows);
	const char *values[4] = {ck->job, ck->src[src].name, r, mark};
	/* statements in buffers of this call's own, as claim_row's */
	struct buf del, ins;
	buf_init(&del, 0);
	buf_init(&ins, 0);
	bool ok = sql_checkpoint_unmark(ck->drv->dialect, &del, &ck->table) &&
		  sql_checkpoint_mark(ck->drv->dialect, &ins, &ck->table);
	bool done = ok && ck->drv->conn.exec_params(c, del.data, 2, values, err) &&
		    ck->drv->conn.exec_params(c, ins.data, 4, values, err);
	buf_free(&del);
	buf_free(&ins);
	if (!ok)
		return sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
	if (done)
		return true;
	if (err->kind == SL_ERR_DATA)
		err->kind = SL_ERR_SERVER; /* the watermark is no row of the input */
	return sl_error_prefix(err, "writing the watermark");
}

bool watermark_encode(struct buf *b, const char *cursor, size_t clen, const char *key, size_t klen)
{
	return buf_printf(b, "%zu:", clen) && buf_append(b, cursor, clen) &&
	       (!key || buf_append(b, key, klen));
}

bool watermark_decode(const char *mark, char **cursor, char **key)
{
	*cursor = *key = NULL;
	char *end;
	errno = 0;
	unsigned long long n = strtoull(mark, &end, 10);
	if (errno || end == mark || *end != ':' || strlen(end + 1) < n)
		return false;
	*cursor = strndup(end + 1, (size_t)n);
	*key = strdup(end + 1 + n);
	if (*cursor && *key)
		return true;
	free(*cursor);
	free(*key);
	*cursor = *key = NULL;
	return false;
}
