/* include/sluice/output.h
 * The output-writer interface, for sluice export: a file format is one
 * file under src/output/ behind struct output_ops (csv.c: CSV and TSV,
 * json.c: NDJSON and a JSON array), writing rows of text cells through a
 * sink (sink.c) that puts a file in place whole or not at all, gzipped or
 * not. Writers know nothing of SQL or servers, as readers do not.
 */
#ifndef SLUICE_OUTPUT_H
#define SLUICE_OUTPUT_H

#include <stdbool.h>
#include <stddef.h>

#include "sluice/batch.h"
#include "sluice/buf.h"
#include "sluice/error.h"
#include "sluice/reader.h"

/* What a column's values are, for the formats that type them (JSON): a
 * number is written bare when its text is a JSON number (else as a
 * string), a boolean's text is "true" or "false", a JSON value is
 * written nested as it is; text is a string. CSV writes them all alike. */
enum out_kind {
	OUT_TEXT = 0,
	OUT_NUMBER,
	OUT_BOOL,
	OUT_JSON,
	/* a JSON value whose text is kept as written (PostgreSQL json,
	 * MariaDB JSON): nested when load stores a nested value as that very
	 * text (compact, as YAJL writes it), else a string */
	OUT_JSON_TEXT,
	/* for --ejson (MongoDB Extended JSON, relaxed); otherwise a number
	 * (decimal, float) or a string (the rest) */
	OUT_DECIMAL,  /* {"$numberDecimal": "text"} */
	OUT_FLOAT,    /* a number; NaN and the infinities {"$numberDouble": ...} */
	OUT_BINARY,   /* text \x hex: {"$binary": {"base64": ..., "subType": "00"}} */
	OUT_UUID,     /* text 8-4-4-4-12 hex: $binary of subType 04 */
	OUT_DATETIME, /* text "YYYY-MM-DD HH:MM:SS[.f][+00]": {"$date": ISO 8601, Z} */
};

struct out_column {
	const char *name;
	enum out_kind kind;
};

struct output_options {
	enum input_format format; /* csv, tsv, ndjson or json */
	char delimiter;		  /* 0: ',' for csv, TAB for tsv */
	const char *null_marker;  /* CSV: NULL as this text rather than an empty field */
	bool quote_all;		  /* CSV: every value quoted (NULL stays unquoted) */
	bool ejson;		  /* JSON: typed values as Extended JSON wrappers */
	bool gzip;
	int gzip_level; /* zlib's 1 (fastest) to 9 (smallest); 0: the default, 1 */
	bool sha256;	/* hash the file as written (the manifest's digest) */
};

/* A file being written: bytes go to a temporary name beside path, and
 * sink_commit renames it to path once it is whole and on disk. "-" is
 * stdout (no temporary, no rename). */
struct sink;
/* Open path for writing (its directory must exist); the temporary is
 * ".<name>.sluice-tmp" in path's directory. opt's gzip, gzip_level and
 * sha256 say how (NULL: plain bytes, hashed). False with err naming path. */
bool sink_open(struct sink **out, const char *path, const struct output_options *opt,
	       struct sl_error *err);
/* Write n bytes (compressed on the way with gzip); false with err naming
 * the file on a short write, a full disk, a closed pipe. */
bool sink_write(struct sink *s, const void *p, size_t n, struct sl_error *err);
/* Finish the file: the gzip trailer, fsync, rename to its name, fsync the
 * directory. The sink is freed either way; on failure the temporary is
 * removed. *bytes and sha256 (65 bytes, may be NULL) get the file's size
 * and digest as it is on disk (the digest "" when the sink was opened
 * without sha256). */
bool sink_commit(struct sink *s, unsigned long long *bytes, char *sha256, struct sl_error *err);
/* A segment of path's file: bytes written at temp (a temporary beside
 * path) to be joined to the sink of path's start (sink_join), never
 * committed on their own. */
bool sink_open_segment(struct sink **out, const char *path, const char *temp,
		       const struct output_options *opt, struct sl_error *err);
/* Append segment seg's bytes to s, after what s has: with gzip each ends
 * its member there (a gzip file may be members one after another). seg is
 * removed and freed either way. False with err naming the file. */
bool sink_join(struct sink *s, struct sink *seg, struct sl_error *err);
/* Give the file up: the temporary is removed, path untouched. */
void sink_abort(struct sink *s);
/* The temporary name sink_open writes path under, into out. */
void sink_temp_name(const char *path, char *out, size_t n);

struct output;
struct output_ops {
	const char *name;
	/* Start the file (CSV's header, JSON's '['). */
	BUF_MUST_USE bool (*begin)(struct output *o);
	/* Append one row of ncols cells (ptr NULL: NULL) to o->pending. */
	BUF_MUST_USE bool (*row)(struct output *o, const struct cell *vals);
	/* What goes between the rows of one segment and the next's, both
	 * not empty (JSON's ','); NULL: nothing. */
	BUF_MUST_USE bool (*between)(struct output *o);
	/* End the file (JSON's ']'). */
	BUF_MUST_USE bool (*end)(struct output *o);
	/* A row with arrays of other rows in it (export --nest), for the
	 * formats that nest (JSON; NULL: none): the row's own fields, the row
	 * left open; an array field named name opened; one row of ncols
	 * cells of cols in it (first: the array's first); the array closed;
	 * the row closed. */
	BUF_MUST_USE bool (*row_open)(struct output *o, const struct cell *vals);
	BUF_MUST_USE bool (*nest_open)(struct output *o, const char *name);
	BUF_MUST_USE bool (*nest_row)(struct output *o, const struct out_column *cols, int ncols,
				      const struct cell *vals, bool first);
	BUF_MUST_USE bool (*nest_close)(struct output *o);
	BUF_MUST_USE bool (*row_close)(struct output *o);
};

struct output {
	const struct output_ops *ops;
	struct output_options opt;
	const struct out_column *cols;
	int ncols;
	struct buf pending; /* formatted bytes not yet given to the sink */
	struct sink *sink;
	unsigned long long rows;
	unsigned long long data_bytes; /* formatted bytes so far, before any gzip */
	bool first;		       /* no row written yet */
};

extern const struct output_ops csv_output_ops;
extern const struct output_ops json_output_ops;

/* Open a file at path ("-": stdout) for rows of the columns cols[0..n),
 * which must outlive it, and write its start. With path NULL nothing is
 * written: the rows are only formatted and counted (data_bytes), as a
 * rerun does for a part of a file it keeps. False with err. */
bool output_open(struct output **out, const struct output_options *opt,
		 const struct out_column *cols, int n, const char *path, struct sl_error *err);
/* Open a segment of path's file at temp, the rows of a key range after
 * those of another output of the same columns and options: no start is
 * written, and it is never closed but joined (output_join). */
bool output_open_segment(struct output **out, const struct output_options *opt,
			 const struct out_column *cols, int n, const char *path, const char *temp,
			 struct sl_error *err);
/* Append segment seg's rows to o's file, after o's: seg is freed either
 * way. False with err. */
bool output_join(struct output *o, struct output *seg, struct sl_error *err);
/* Write one row; false with err naming the file. */
bool output_row(struct output *o, const struct cell *vals, struct sl_error *err);
/* A row with arrays of other rows in it (export --nest), in this order:
 * output_row_open once, then per array output_nest_open, output_nest_row
 * per row in it, output_nest_close, and output_row_close last, which
 * counts the row. False with err (SL_ERR_USAGE when the format does not
 * nest: CSV, TSV). */
bool output_row_open(struct output *o, const struct cell *vals, struct sl_error *err);
bool output_nest_open(struct output *o, const char *name, struct sl_error *err);
bool output_nest_row(struct output *o, const struct out_column *cols, int ncols,
		     const struct cell *vals, bool first, struct sl_error *err);
bool output_nest_close(struct output *o, struct sl_error *err);
bool output_row_close(struct output *o, struct sl_error *err);
/* Whether a format's rows can hold arrays of rows (output_row_open). */
bool output_format_nests(enum input_format f);
/* End the file and put it in place (sink_commit); o is freed either way. */
bool output_close(struct output *o, unsigned long long *bytes, char *sha256, struct sl_error *err);
/* Give the file up (sink_abort); o is freed. */
void output_abort(struct output *o);
/* Whether text (n bytes) is a JSON number as RFC 8259 writes one. */
bool output_json_number(const char *s, size_t n);

#endif
