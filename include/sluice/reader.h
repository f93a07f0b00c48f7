/* include/sluice/reader.h
 * The input-reader interface: a format is one file behind struct reader_ops.
 * Readers know nothing of SQL; they turn bytes into records with line numbers.
 */
#ifndef SLUICE_READER_H
#define SLUICE_READER_H

#include <stdbool.h>
#include <stddef.h>

#include "sluice/batch.h"
#include "sluice/error.h"
#include "sluice/source.h"

enum input_format { FORMAT_AUTO = 0, FORMAT_CSV, FORMAT_TSV, FORMAT_NDJSON, FORMAT_JSON };
enum input_encoding { ENCODING_UTF8 = 0, ENCODING_LATIN1 };

enum read_status {
	READ_OK,     /* *rec holds the next record */
	READ_REJECT, /* *rec (line, raw) is a bad record; err says why; reading goes on */
	READ_EOF,    /* no more records */
	READ_FAIL,   /* cannot go on (I/O error, broken document); err says why */
};

struct reader_options {
	enum input_format format;
	char delimiter; /* 0: the format's default */
	char quote;	/* 0: '"' */
	char escape;	/* 0: same as quote (RFC 4180 doubling) */
	bool no_header;
	const char *null_marker; /* an extra text that means NULL, or NULL */
	enum input_encoding encoding;
	bool ignore_unknown;	 /* JSON: drop keys that are not columns */
	bool missing_as_default; /* JSON: a missing key is cell_default, not NULL */
	/* --max-record-bytes: a record (its verbatim text) larger than this is
	 * rejected with its line and reading resumes after it; 0 means
	 * READER_DEFAULT_MAX_RECORD. Memory stays a small multiple of it. */
	size_t max_record_bytes;
	bool no_ejson; /* JSON: keep MongoDB Extended JSON wrappers as they are */
	/* --resume: a stream (stdin) is known by its first bytes, read before
	 * anything else (see source_identify) */
	bool identify_stream;
	/* --nest: paths of arrays ("posts", "posts.tags": an array inside
	 * each element of posts) whose elements become kids of the record
	 * (struct record_kid) rather than a JSON value; a path's parent path
	 * is in the list before it */
	char *const *nest;
	int nnest;
	/* --flatten: paths of objects ("profile"; "posts.meta" inside each
	 * element of nest path posts) whose members become columns
	 * <field>_<member>, recursively for the objects inside; a path without
	 * its last field is "" or a nest path */
	char *const *flatten;
	int nflatten;
	/* the pipeline's rule fitting a composed column name to the target
	 * (shortened with a stable suffix), or NULL to keep names as they are */
	void (*fit_name)(const void *ctx, const char *name, char *out, size_t outsz);
	const void *fit_ctx;
};

#define READER_DEFAULT_MAX_RECORD ((size_t)64 << 20)

struct reader;

struct reader_ops {
	const char *name;
	/* Prepare to read r->src; a CSV reader reads its header here. */
	bool (*open)(struct reader *r, const struct reader_options *opt, struct sl_error *err);
	/* Fix the target columns: records then carry exactly these, in this order. */
	bool (*set_columns)(struct reader *r, char *const *names, int n, struct sl_error *err);
	enum read_status (*next)(struct reader *r, struct record *rec, struct sl_error *err);
	/* Formats whose records name their fields (JSON), before set_columns:
	 * read ahead up to max_records records (next() still returns them, in
	 * order) and set r->header to the names in order of first appearance,
	 * for --create. NULL for formats that have a header instead. */
	bool (*sample_columns)(struct reader *r, size_t max_records, struct sl_error *err);
	void (*close)(struct reader *r);
	/* --nest (JSON): the fields of the elements of nest path t, in
	 * order, as set_columns does for the record. NULL where the format
	 * has no nesting. */
	bool (*set_kid_columns)(struct reader *r, int t, char *const *names, int n,
				struct sl_error *err);
	/* Bytes consumed so far, for readers without a byte source (a table);
	 * NULL: the source's position. */
	unsigned long long (*position)(struct reader *r);
	/* Optional (CSV). From now on, a record whose verbatim text is
	 * exactly its CSV in one dialect (one record, fields as next() gives
	 * them, valid UTF-8, no line end) says so (record.csv), and its
	 * fields may then point into the input buffer: not NUL-terminated.
	 * *delim and *quote get the dialect. False (nothing changes) when the
	 * options make the text differ from the fields (--null, --escape,
	 * Latin-1). */
	bool (*raw_csv)(struct reader *r, char *delim, char *quote);
};

struct reader {
	const struct reader_ops *ops;
	struct source *src;
	enum input_format format;
	char **header; /* column names found in the input (CSV header), or NULL */
	int nheader;
	/* blank lines skipped so far (multi-column CSV/TSV, NDJSON); a blank line
	 * of a one-column CSV/TSV is a record with one NULL field instead */
	unsigned long long blank_lines;
	/* values a table reader turned into NULL (MySQL zero dates) */
	unsigned long long zero_dates;
	/* --nest: after sample_columns, per nest path the keys of its
	 * elements in order of first appearance (NULL: not sampled) */
	char ***kid_header;
	int *nkid_header;
	/* where the caller would keep the next record's fields (room for
	 * cells_room of them), or NULL: a reader may put them there and point
	 * record.fields at it, saving the caller a copy (the CSV scan does) */
	struct cell *cells_to;
	size_t cells_room;
	void *impl;
};

/* Open path ("-" is stdin) in the given format, detected when FORMAT_AUTO: by
 * extension (.csv .tsv .ndjson .jsonl .json, each optionally .gz), then by the
 * first bytes. The caller owns *out; reader_close frees it. */
bool reader_open(struct reader **out, const char *path, const struct reader_options *opt,
		 struct sl_error *err);
/* The format the extension of path names, or FORMAT_AUTO. */
enum input_format reader_format_from_name(const char *path);
/* Parse "csv", "tsv", "ndjson", "jsonl", "json"; FORMAT_AUTO when unknown. */
enum input_format reader_format_parse(const char *name);
const char *reader_format_name(enum input_format f);
void reader_close(struct reader *r);
/* Input bytes consumed so far (compressed bytes for gzip). */
unsigned long long reader_position(struct reader *r);

extern const struct reader_ops csv_reader_ops;
extern const struct reader_ops json_reader_ops; /* NDJSON and JSON arrays */

/* json_reader_ops.sample_columns, for tests: a syntax error met while reading
 * ahead is returned by next() after the records before it. */
bool json_reader_sample_keys(struct reader *r, size_t max_records, struct sl_error *err);

/* --nest: the index of the path that path i of paths[0..n) is directly
 * inside ("posts" for "posts.tags"), or -1 when it is a field of the
 * record itself; -2 when that path is not in the list before i. */
int nest_path_parent(char *const *paths, int n, int i);
/* --nest '*': the paths of the arrays of objects down to depth (1: fields
 * of the record) in the JSON files files[0..nfiles), read in a first pass,
 * in order of first appearance (an array before those inside its
 * elements). With ejson an object whose first key starts with '$' is a
 * wrapper, not an object. At most max paths (more: SL_ERR_USAGE); stdin
 * ("-") is refused. *out (malloc'd strings) is the caller's. A syntax
 * error ends the pass over that file (the load rejects the record). */
bool json_find_nest_paths(char *const *files, int nfiles, int depth, bool ejson, int max,
			  char ***out, int *nout, struct sl_error *err);
/* The last field of a nest path ("tags" of "posts.tags"). */
const char *nest_path_field(const char *path);

/* True when [s, s+n) is valid UTF-8; otherwise *bad_at is the offset of the
 * first invalid byte. */
bool utf8_valid(const char *s, size_t n, size_t *bad_at);

#endif
