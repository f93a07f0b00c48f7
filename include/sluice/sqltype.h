/* include/sluice/sqltype.h
 * The type model: a column's type as one neutral description. Each dialect
 * classifies its own type text into a struct sql_type and names one back
 * as its own text (sql.h: type_classify, type_name), so a type moves
 * between servers as to->type_name(from->type_classify(column)). Plain
 * data, its helpers, and the lexer the classifiers share; no SQL, no I/O.
 */
#ifndef SLUICE_SQLTYPE_H
#define SLUICE_SQLTYPE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#include "sluice/catalog.h"

struct dialect; /* sql.h */

/* What a type's values are. */
enum sql_kind {
	SQL_OTHER = 0, /* what the model does not describe: name holds its text */
	SQL_BOOL,
	SQL_INT,
	SQL_DECIMAL,
	SQL_FLOAT,
	SQL_DATE,
	SQL_DATETIME,	 /* a date and time of day, no zone */
	SQL_TIMESTAMPTZ, /* an instant: PostgreSQL timestamptz, MySQL timestamp */
	SQL_TIME,
	SQL_INTERVAL, /* months, days and a time (PostgreSQL interval) */
	SQL_TEXT,
	SQL_BINARY,
	SQL_BIT,
	SQL_JSON,
	SQL_UUID,
	SQL_ENUM,
	SQL_SET,
	SQL_NETADDR, /* an IP or MAC address: PostgreSQL inet, cidr, macaddr; MariaDB inet4/6 */
	SQL_SPATIAL, /* MySQL geometry and its subtypes: SRID and WKB bytes */
	SQL_MONEY,   /* PostgreSQL money: formatted with its locale's currency */
};

/* How a boolean is held on a server without a boolean type. */
enum sql_bool_form {
	SQL_BOOL_NATIVE = 0,
	SQL_BOOL_TINYINT, /* MySQL tinyint(1): any small integer can be stored */
	SQL_BOOL_BIT,	  /* MySQL bit(1): only 0 and 1 */
};

/* One column type. Numbers that are not given are the server's default,
 * resolved by the classifier (MySQL datetime keeps 0 fraction digits,
 * PostgreSQL timestamp 6); -1 means unbounded or unconstrained. */
struct sql_type {
	enum sql_kind kind;
	/* the dialect whose text this was classified from, NULL when made by
	 * hand; name, charset and collation are in its terms, and its namer
	 * writes what the model does not describe as it was */
	const struct dialect *origin;
	/* origin's name of the base type, lower case, without parameters or
	 * modifiers ("int", "character varying", "longblob", "point"); for
	 * SQL_OTHER the whole text as written ("vector(3)", "public.mood") */
	char name[256];
	int array; /* dimensions: an array of this type (PostgreSQL) */

	enum sql_bool_form bool_form; /* BOOL */
	int bytes;		      /* INT: storage, 1 2 3 4 or 8; FLOAT: 4 or 8 */
	bool is_unsigned;	      /* INT, DECIMAL, FLOAT */
	bool zerofill;		      /* MySQL: printed with leading zeros */
	int display;		      /* INT: MySQL's display width, int(11); 0 none */
	bool year;		      /* INT: a year (MySQL year) */
	int precision;		      /* DECIMAL: digits, -1 unconstrained (PostgreSQL numeric) */
	int scale;		      /* DECIMAL: digits after the point; negative rounds to tens */

	/* TEXT, BINARY, BIT: the most characters, bytes or bits; -1 none */
	long length;
	bool fixed;	       /* char(n), binary(n), bit(n): not varying */
	bool padded;	       /* TEXT: values read back padded with spaces to length
				* (PostgreSQL character); MySQL's char returns them without */
	int lob;	       /* MySQL text and blob types by size: 1 tiny, 2 plain, 3
				* medium, 4 long; 0 none */
	bool case_insensitive; /* TEXT: the type itself ignores case (citext) */
	char charset[64];      /* the column's character set, "" for the default */
	char collation[64];    /* the column's collation, "" for the default; both
				* are the column's (catalog.h), never in type text */

	int fsp;	 /* DATETIME, TIMESTAMPTZ, TIME, INTERVAL: fraction digits of seconds */
	bool epoch32;	 /* TIMESTAMPTZ: 1970 to 2038 only (MySQL timestamp) */
	bool with_tz;	 /* TIME: with a time zone */
	bool span;	 /* TIME: a signed duration of up to 838 hours (MySQL), not a
			  * time of day */
	char fields[64]; /* INTERVAL: "year to month", "day to second"...; "" all */

	bool json_text; /* JSON: kept as written (PostgreSQL json), not normalized */

	/* ENUM, SET: the labels in order, exact case (owned: sql_type_free);
	 * nlabels -1 when the text's labels could not be read */
	int nlabels;
	char **labels;
	char udt[128]; /* a user-defined type's name (a PostgreSQL enum), "" */
};

/* An empty type of origin (SQL_OTHER, nothing bounded). */
void sql_type_init(struct sql_type *t, const struct dialect *origin);
/* Free what t owns (its labels); t is then empty. */
void sql_type_free(struct sql_type *t);
/* Append a copy of label (n bytes) to t's labels; false on out of memory. */
bool sql_type_add_label(struct sql_type *t, const char *label, size_t n);
/* Whether a and b describe the same type: every field but origin, and but
 * name unless the name is what the type is (OTHER, NETADDR, SPATIAL). */
bool sql_type_equal(const struct sql_type *a, const struct sql_type *b);

/* A type's text taken apart, for the classifiers: "int(10) unsigned" is
 * name "int", one parameter 10, unsigned; "timestamp(3) with time zone"
 * name "timestamp", parameter 3, tz +1; "enum('a','b')" keeps its labels'
 * text in args. A character set or collation is the column's (catalog.h),
 * not the type's: text that carries one is not read. */
struct sql_type_text {
	char name[64];	    /* lower case; "" when the text could not be read */
	char stripped[160]; /* the words outside (...), lower case: "int unsigned" */
	bool has_parens;
	int nparams; /* numbers inside the parentheses (0..2); -1: not numbers */
	long p[2];
	const char *args; /* the text inside the parentheses, original case */
	size_t args_len;
	bool is_unsigned;
	bool zerofill;
	int tz;		     /* +1 with time zone, -1 without, 0 not said */
	int array;	     /* dimensions: ends in [] */
	const char *trimmed; /* the text without surrounding spaces ... */
	size_t trimmed_len;  /* ... its length, */
	size_t base_len;     /* ... and its length without the []s */
};

/* Take type text apart (see struct sql_type_text). A quoted or
 * schema-qualified user type leaves name empty. text must outlive out. */
void sql_type_text_parse(const char *text, struct sql_type_text *out);

/* What a namer is told about the column it names a type for. */
struct type_use {
	bool in_key;	  /* in an index carried to the target */
	long max_len;	  /* its longest value (characters, bytes for binary), 0 unknown */
	bool identity;	  /* an AUTO_INCREMENT or identity column */
	const char *what; /* the source type's text, for notes */
};

/* A type named by a dialect: its text, and what the target does not keep
 * of the source (notes joined by "; ", a long one ends in "..."; lost when
 * something a user relied on is gone). */
struct type_naming {
	char text[2048];
	char note[512];
	bool lost;
};

/* Set n's text to the printf result; false when it does not fit. */
bool type_naming_set(struct type_naming *n, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Add a note to n; type_naming_lose also marks it lost. */
void type_naming_note(struct type_naming *n, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void type_naming_lose(struct type_naming *n, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Add a note to a field of sz bytes as type_naming_note does. */
void type_note_add(char *note, size_t sz, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));

#endif
