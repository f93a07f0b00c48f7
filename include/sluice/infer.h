/* include/sluice/infer.h
 * --create's guess at a column's type from a sample of rows: the types the
 * values fit, weakest first. Plain data over a batch; no SQL.
 */
#ifndef SLUICE_INFER_H
#define SLUICE_INFER_H

#include "sluice/batch.h"

enum col_type {
	TYPE_TEXT = 0,
	TYPE_BIGINT,
	TYPE_NUMERIC,
	TYPE_BOOLEAN,
	TYPE_DATE,
	TYPE_TIMESTAMP,
	TYPE_JSON,
	TYPE_UUID, /* 8-4-4-4-12 lowercase hex */
	TYPE_BYTES /* "\x" and lowercase hex pairs (bytea's text form) */
};

/* Infer one type per column from the rows of b (NULLs and empty values say
 * nothing); types must hold b->ncols entries. */
void infer_types(const struct batch *b, enum col_type *types);

/* Whether value s (len bytes) is one inference lets a column of type t
 * have (an empty one says nothing: true): "007" is no integer, since the
 * column would store 7. A table --create made from a sample holds its
 * later rows to the same rules. */
bool infer_value_fits(enum col_type t, const char *s, size_t len);
/* What a value of type t is, for messages: "an integer", "a date", ... */
const char *infer_type_words(enum col_type t);

#endif
