/* include/sluice/json.h
 * The JSON reader's shared state, inside src/input/json*.c only: json.c is
 * the reader (open/next/close, sample keys), json_scan.c cuts the input into
 * units, json_record.c parses a unit into a record's cells with YAJL's
 * events, json_ejson.c decodes MongoDB Extended JSON in nested values.
 */
#ifndef SLUICE_JSON_H
#define SLUICE_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <yajl/yajl_gen.h>
#include <yajl/yajl_parse.h>

#include "sluice/buf.h"
#include "sluice/error.h"
#include "sluice/reader.h"

#define OFF_MISSING (SIZE_MAX - 1) /* the key did not appear in the record */
#define CHUNK_SIZE (256 * 1024)
#define RAW_PREFIX 1024 /* bytes of a too-large record kept for rejects */
#define FLAT_MAX 16	/* objects flattened inside one another */

/* Where the array scanner is between elements. */
enum scan_state {
	SCAN_START,   /* before the top-level value */
	SCAN_OPEN,    /* after '[': an element or ']' */
	SCAN_ELEMENT, /* inside an element */
	SCAN_AFTER,   /* after an element: ',' or ']' (or another object in a stream) */
	SCAN_COMMA,   /* after ',': an element */
	SCAN_END,     /* after the closing ']': only white space */
};

/* A nested value parsed again for its Extended JSON wrappers: its values in
 * document order, each container followed by its members (a map's as a key,
 * then its value) up to its end. */
enum ej_kind { EJ_NULL, EJ_FALSE, EJ_TRUE, EJ_NUMBER, EJ_STRING, EJ_KEY, EJ_MAP, EJ_ARRAY };

struct ej_node {
	enum ej_kind kind;
	size_t off, len; /* number, string, key: its bytes in ejson.text */
	size_t end;	 /* the index after this value and its members */
};

struct ejson {
	struct ej_node *nodes;
	size_t n, cap, max_nodes;
	size_t *stack; /* containers open while building, then while writing */
	size_t depth, stack_cap;
	struct buf text;  /* the bytes of numbers, strings and keys */
	struct buf out;	  /* a wrapper's value as text */
	struct buf bytes; /* a $binary's decoded bytes */
	bool oom, too_many;
};

/* A unit waiting in the look-ahead queue (json_reader_sample_keys). */
struct pending {
	size_t off, len; /* in json_state.ahead */
	long line;
	uint64_t pos;
	bool too_long;
};

struct json_state {
	struct reader_options opt;
	bool ndjson;
	bool stream; /* FORMAT_JSON whose top level is objects, not an array */

	/* input */
	unsigned char *chunk;
	size_t chunk_len, chunk_off;
	bool eof, at_start;
	long line;    /* line of chunk[chunk_off] */
	uint64_t pos; /* offset of chunk[chunk_off] in the (decompressed) input */

	/* the current unit: its bytes, the line and offset it starts at */
	struct buf unit;
	long unit_line;
	uint64_t unit_pos;
	bool unit_too_long; /* past --max-record-bytes: only a prefix is kept */
	size_t max_record;
	unsigned long nelem;

	/* array scanner */
	enum scan_state sstate;
	size_t sdepth;
	bool s_in_str, s_esc, s_scalar;
	bool failed;
	struct sl_error fail_err;
	bool deferred; /* a scan failure met while sampling, due after the queue */
	struct sl_error deferred_err;

	/* look-ahead queue */
	struct buf ahead;
	struct pending *queue;
	size_t nqueue, qhead, qcap;

	/* the target columns and a hash from name to index */
	char **cols;
	size_t *col_lens;
	int ncols;
	int *hash;
	size_t nhash;

	/* the record being built */
	struct buf data; /* values, each followed by a NUL */
	size_t *offs;	 /* per column: offset in data, SIZE_MAX for NULL, or OFF_MISSING */
	size_t *lens;
	unsigned *seen; /* per column: == stamp when the key appeared */
	unsigned stamp;
	struct cell *cells;

	/* parse state, for the callbacks */
	yajl_handle parser;
	yajl_gen gen;
	int depth;	  /* containers open in the unit */
	const char *kind; /* what the top-level value is when not an object */
	int cur;	  /* column of the current key, or COL_NONE/COL_SKIP */
	int capture_col;  /* column a nested value is captured for, or COL_NONE */
	size_t capture_start;
	bool capture_dollar; /* a key starting with '$' appeared in the captured value */
	struct ejson ej;
	bool gen_failed;
	size_t str_from; /* unit offset after the last string token parsed */
	char *bad;	 /* why the record is rejected, or NULL */
	bool oom;
	/* key collection (json_reader_sample_keys) */
	bool collecting;
	char **keys;
	int nkeys, keys_cap;

	/* --nest (json_nest.c): keys passed over in silence (the arrays whose
	 * elements are kids), a state per nest path parsing its elements, and
	 * the current record's kids */
	char **skip;
	size_t *skip_lens;
	int nskip;
	struct json_state **kid_st;
	int nkid_st;
	struct nest_scan *nest;

	/* --flatten (json_record.c): the keys of this state's objects that
	 * flatten, the flattened objects open (each the length of the name
	 * prefix before it), the prefix ("profile_address_") and the current
	 * key's composed name */
	char **flat;
	size_t *flat_lens;
	int nflat;
	size_t flat_pre[FLAT_MAX];
	int nfl;
	struct buf flat_name, flat_key;
	bool flat_next;	      /* the current key's value flattens if an object */
	bool flat_top;	      /* the current key is a --flatten path's own */
	bool collect_pending; /* sampling: flat_key is collected unless an object */
	bool unknown_pending; /* flat_key is no column: refused unless an object */
};

/* --- json_record.c --- */

enum parse_result { PARSE_OK, PARSE_BAD_RECORD, PARSE_SYNTAX, PARSE_OOM };

/* reader_ops.set_columns: the target columns and the hash keys are looked
 * up in. */
bool json_set_columns(struct reader *r, char *const *names, int n, struct sl_error *err);
/* Free the target columns and the per-column arrays of the record. */
void json_free_columns(struct json_state *st);
/* Parse the current unit with YAJL. On PARSE_SYNTAX, msg says where and why. */
enum parse_result json_parse_unit(struct json_state *st, char *msg, size_t msgsz);
/* --flatten: take the paths of opt.flatten directly inside prefix ("" for
 * the record, a nest path for its elements). False on out of memory. */
bool json_flat_init(struct json_state *st, const char *prefix);
void json_flat_free(struct json_state *st);
/* Store a value for column c; ptr NULL is SQL NULL. Returns 1 (YAJL goes on). */
int json_store(struct json_state *st, int c, const void *ptr, size_t n);
/* Reject the record with fmt, whose %s is key (n bytes, cut short to be shown);
 * the first reason wins. */
void json_set_bad(struct json_state *st, const char *fmt, const void *key, size_t n);

/* --- json_nest.c --- */

/* A state for one nest path's elements (or the record's), as json_open
 * makes it; NULL on out of memory. */
struct json_state *json_state_new(const struct reader_options *opt);
void json_state_free(struct json_state *st);
/* Ready st's nest paths (opt.nest): the sub-states and the keys each
 * passes over. False on out of memory. */
bool json_nest_init(struct json_state *st);
void json_nest_free(struct json_state *st);
/* Whether key [key, key+n) is one st passes over (a nested array's). */
bool json_nest_skipped(const struct json_state *st, const unsigned char *key, size_t n);
/* The kids of the unit just parsed into st (PARSE_OK): *kids and *nkids
 * valid until the next unit. PARSE_BAD_RECORD with msg (an element that
 * is not an object, an unknown key in one), PARSE_OOM. */
enum parse_result json_nest_kids(struct json_state *st, const struct record_kid **kids,
				 size_t *nkids, char *msg, size_t msgsz);
/* While sampling: collect the keys of the kids of the unit just parsed. */
void json_nest_collect(struct json_state *st);
/* After sampling: each path's keys into r->kid_header. */
bool json_nest_headers(struct reader *r, struct json_state *st);
/* reader_ops.set_kid_columns */
bool json_set_kid_columns(struct reader *r, int t, char *const *names, int n, struct sl_error *err);

/* --- json_scan.c --- */

/* The next non-blank NDJSON line into st->unit. 1: a line, 0: end, -1: failure. */
int json_scan_line(struct reader *r, struct json_state *st, struct sl_error *err);
/* The next element of the top-level array (or object stream) into st->unit.
 * 1: an element, 0: end, -1: failure (err set). */
int json_scan_element(struct reader *r, struct json_state *st, struct sl_error *err);

/* --- json_ejson.c --- */

/* Store for column c the nested value [s, s+n) of the unit, in which a key
 * starting with '$' appeared, with its Extended JSON converted; a wrapper
 * that is not valid rejects the record. False when it holds no wrapper: the
 * caller stores it as it is. */
bool ejson_store(struct json_state *st, int c, const char *s, size_t n);

#endif
