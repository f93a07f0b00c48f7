/* src/sql/mysql_types.c
 * MySQL/MariaDB types in the type model (sqltype.h): COLUMN_TYPE text
 * classified into a struct sql_type, and a struct sql_type named as the
 * type MySQL gives it; MySQL's string literals, which both need.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "sluice/sql.h"

/* MySQL's limits for a key column: 3072 bytes per key in InnoDB, which is
 * 768 characters of utf8mb4. A key of unknown length gets KEY_DEFAULT_LEN. */
#define KEY_MAX_CHARS 768
#define KEY_MAX_BYTES 3072
#define KEY_DEFAULT_LEN 255

/* The largest varchar MySQL allows in utf8mb4 (65535 bytes / 4). */
#define MYSQL_VARCHAR_MAX 16383

/* ---- string literals ---- */

bool mysql_read_string(const char **p, const char *end, struct buf *b)
{
	const char *s = *p;
	if (s >= end || *s != '\'')
		return false;
	for (s++; s < end; s++) {
		char c = *s;
		if (c == '\'') {
			if (s + 1 < end && s[1] == '\'') {
				s++;
			} else {
				*p = s + 1;
				return true;
			}
		} else if (c == '\\' && s + 1 < end) {
			s++;
			switch (*s) {
			case '0':
				c = '\0';
				break;
			case 'b':
				c = '\b';
				break;
			case 'n':
				c = '\n';
				break;
			case 'r':
				c = '\r';
				break;
			case 't':
				c = '\t';
				break;
			case 'Z':
				c = '\032';
				break;
			case '%':
			case '_':
				if (!buf_putc(b, '\\'))
					return false;
				c = *s;
				break;
			default:
				c = *s;
				break;
			}
		}
		if (!buf_putc(b, c))
			return false;
	}
	return false;
}

bool mysql_quote_string(struct buf *b, const char *s, size_t n)
{
	if (!buf_putc(b, '\''))
		return false;
	for (size_t i = 0; i < n; i++) {
		bool ok;
		if (s[i] == '\0')
			ok = buf_puts(b, "\\0");
		else if (s[i] == '\'' || s[i] == '\\')
			ok = buf_putc(b, s[i]) && buf_putc(b, s[i]);
		else
			ok = buf_putc(b, s[i]);
		if (!ok)
			return false;
	}
	return buf_putc(b, '\'');
}

/* ---- classifying ---- */

/* MySQL's type names, and what each is. */
static const struct mysql_name {
	const char *name;
	enum sql_kind kind;
	int size; /* INT, FLOAT: bytes; TEXT, BINARY: the lob size (0: char/binary) */
	bool fixed;
} mysql_names[] = {
	{"bool", SQL_BOOL, 0, false},
	{"boolean", SQL_BOOL, 0, false},
	{"tinyint", SQL_INT, 1, false},
	{"smallint", SQL_INT, 2, false},
	{"mediumint", SQL_INT, 3, false},
	{"int", SQL_INT, 4, false},
	{"integer", SQL_INT, 4, false},
	{"bigint", SQL_INT, 8, false},
	{"year", SQL_INT, 1, false},
	{"decimal", SQL_DECIMAL, 0, false},
	{"numeric", SQL_DECIMAL, 0, false},
	{"dec", SQL_DECIMAL, 0, false},
	{"fixed", SQL_DECIMAL, 0, false},
	{"float", SQL_FLOAT, 4, false},
	{"double", SQL_FLOAT, 8, false},
	{"real", SQL_FLOAT, 8, false},
	{"double precision", SQL_FLOAT, 8, false},
	{"date", SQL_DATE, 0, false},
	{"datetime", SQL_DATETIME, 0, false},
	{"timestamp", SQL_TIMESTAMPTZ, 0, false},
	{"time", SQL_TIME, 0, false},
	{"char", SQL_TEXT, 0, true},
	{"varchar", SQL_TEXT, 0, false},
	{"tinytext", SQL_TEXT, 1, false},
	{"text", SQL_TEXT, 2, false},
	{"mediumtext", SQL_TEXT, 3, false},
	{"longtext", SQL_TEXT, 4, false},
	{"binary", SQL_BINARY, 0, true},
	{"varbinary", SQL_BINARY, 0, false},
	{"tinyblob", SQL_BINARY, 1, false},
	{"blob", SQL_BINARY, 2, false},
	{"mediumblob", SQL_BINARY, 3, false},
	{"longblob", SQL_BINARY, 4, false},
	{"bit", SQL_BIT, 0, true},
	{"json", SQL_JSON, 0, false},
	{"uuid", SQL_UUID, 0, false},
	{"enum", SQL_ENUM, 0, false},
	{"set", SQL_SET, 0, false},
	{"inet4", SQL_NETADDR, 0, false},
	{"inet6", SQL_NETADDR, 0, false},
	{"geometry", SQL_SPATIAL, 0, false},
	{"point", SQL_SPATIAL, 0, false},
	{"linestring", SQL_SPATIAL, 0, false},
	{"polygon", SQL_SPATIAL, 0, false},
	{"multipoint", SQL_SPATIAL, 0, false},
	{"multilinestring", SQL_SPATIAL, 0, false},
	{"multipolygon", SQL_SPATIAL, 0, false},
	{"geometrycollection", SQL_SPATIAL, 0, false},
	{"geomcollection", SQL_SPATIAL, 0, false},
};

/* The labels of an enum or set, '...' separated by commas (MySQL's
 * escapes inside), into t; nlabels -1 when they cannot be read. */
static bool read_labels(const char *p, const char *end, struct sql_type *t)
{
	struct buf v;
	buf_init(&v, 0);
	bool ok = true, readable = true;
	while (ok && readable && p < end) {
		while (p < end && isspace((unsigned char)*p))
			p++;
		buf_reset(&v);
		readable = mysql_read_string(&p, end, &v);
		ok = !readable || sql_type_add_label(t, v.data ? v.data : "", v.len);
		while (p < end && isspace((unsigned char)*p))
			p++;
		if (p < end && *p++ != ',')
			readable = false;
	}
	buf_free(&v);
	if (ok && !readable) {
		sql_type_free(t);
		t->nlabels = -1;
	}
	return ok;
}

/* What the model does not describe: the text as written. */
static void other(struct sql_type *t, const struct sql_type_text *tx)
{
	t->kind = SQL_OTHER;
	size_t n = tx->trimmed_len < sizeof t->name ? tx->trimmed_len : 0;
	memcpy(t->name, tx->trimmed, n);
	t->name[n] = '\0';
}

bool mysql_type_classify(const char *text, const struct column_desc *col, struct sql_type *t)
{
	sql_type_init(t, &mysql_dialect);
	struct sql_type_text tx;
	sql_type_text_parse(text ? text : "", &tx);
	const struct mysql_name *m = NULL;
	for (size_t i = 0; tx.name[0] && i < sizeof mysql_names / sizeof mysql_names[0]; i++)
		if (!strcmp(tx.name, mysql_names[i].name))
			m = &mysql_names[i];
	if (!m || tx.nparams < 0 || tx.array) {
		other(t, &tx);
		return true;
	}
	long p0 = tx.nparams >= 1 ? tx.p[0] : -1, p1 = tx.nparams >= 2 ? tx.p[1] : -1;
	strcpy(t->name, tx.name);
	t->kind = m->kind;
	t->is_unsigned = tx.is_unsigned;
	t->zerofill = tx.zerofill;
	if (col && col->charset)
		snprintf(t->charset, sizeof t->charset, "%s", col->charset);
	if (col && col->collation)
		snprintf(t->collation, sizeof t->collation, "%s", col->collation);
	switch (m->kind) {
	case SQL_BOOL:
		/* bool and boolean say a boolean (MySQL makes it a tinyint(1)) */
		break;
	case SQL_INT:
		/* tinyint(1) is MySQL's boolean */
		if (m->size == 1 && p0 == 1 && !tx.is_unsigned && !strcmp(m->name, "tinyint")) {
			t->kind = SQL_BOOL;
			t->bool_form = SQL_BOOL_TINYINT;
			break;
		}
		t->bytes = m->size;
		t->year = !strcmp(m->name, "year");
		t->is_unsigned |= t->year;
		t->display = p0 > 0 ? (int)p0 : 0;
		break;
	case SQL_DECIMAL:
		t->precision = p0 > 0 ? (int)p0 : 10;
		t->scale = p1 >= 0 ? (int)p1 : 0;
		break;
	case SQL_FLOAT:
		/* float(p) with p over 24 is a double */
		t->bytes = m->size == 4 && tx.nparams == 1 && p0 > 24 ? 8 : m->size;
		break;
	case SQL_DATETIME:
	case SQL_TIMESTAMPTZ:
	case SQL_TIME:
		t->fsp = p0 > 0 ? (int)p0 : 0;
		t->epoch32 = m->kind == SQL_TIMESTAMPTZ;
		t->span = m->kind == SQL_TIME;
		break;
	case SQL_TEXT:
	case SQL_BINARY:
		t->fixed = m->fixed;
		t->lob = m->size;
		t->length = m->size ? -1 : p0;
		break;
	case SQL_BIT:
		t->fixed = true;
		t->length = p0 > 0 ? p0 : 1;
		/* bit(1) is a boolean too, of 0 and 1 only */
		if (t->length == 1) {
			t->kind = SQL_BOOL;
			t->bool_form = SQL_BOOL_BIT;
		}
		break;
	case SQL_ENUM:
	case SQL_SET:
		return read_labels(tx.args, tx.args + tx.args_len, t);
	default:
		break;
	}
	return true;
}

/* ---- naming ---- */

/* A text key: varchar of the longest value (at least 255, at most 768
 * characters, at most declared when that is > 0), binary collation so
 * that "A" and "a" stay two keys. */
static bool key_varchar(struct type_naming *n, const char *what, long declared, long max_len)
{
	long len = max_len > KEY_DEFAULT_LEN ? max_len : KEY_DEFAULT_LEN;
	if (declared > 0 && len > declared)
		len = declared;
	if (len > KEY_MAX_CHARS)
		len = KEY_MAX_CHARS;
	if (!type_naming_set(n, "varchar(%ld) COLLATE utf8mb4_bin", len))
		return false;
	if (max_len > KEY_MAX_CHARS)
		type_naming_lose(
			n,
			"%s in a key as varchar(%d): its longest value has %ld characters, "
			"longer values are rejected",
			what, KEY_MAX_CHARS, max_len);
	else
		type_naming_note(n, "%s in a key as varchar(%ld)", what, len);
	return true;
}

/* A binary key: varbinary of the longest value (at least 255, at most
 * 3072 bytes). */
static bool key_varbinary(struct type_naming *n, const char *what, long max_len)
{
	long len = max_len > KEY_DEFAULT_LEN ? max_len : KEY_DEFAULT_LEN;
	if (len > KEY_MAX_BYTES)
		len = KEY_MAX_BYTES;
	if (!type_naming_set(n, "varbinary(%ld)", len))
		return false;
	if (max_len > KEY_MAX_BYTES)
		type_naming_lose(n,
				 "%s in a key as varbinary(%d): its longest value has %ld bytes, "
				 "longer values are rejected",
				 what, KEY_MAX_BYTES, max_len);
	else
		type_naming_note(n, "%s in a key as varbinary(%ld)", what, len);
	return true;
}

/* The length of UTF-8 text s in characters. */
static long utf8_chars(const char *s)
{
	long n = 0;
	for (; *s; s++)
		n += ((unsigned char)*s & 0xC0) != 0x80;
	return n;
}

/* An enum or set of t's labels. Another server's labels compare by their
 * exact bytes (and sort in their order on both): a binary collation. MySQL
 * cuts trailing spaces off ENUM labels: an enum with such a label, or too
 * many to write, becomes a varchar whose labels are not enforced. */
static bool name_labels(const struct sql_type *t, struct type_naming *n)
{
	bool own = t->origin == &mysql_dialect;
	struct buf b;
	buf_init(&b, sizeof n->text - 1);
	bool ok = t->nlabels > 0 && buf_puts(&b, t->kind == SQL_SET ? "set(" : "enum(");
	bool spaced = false;
	long longest = 1;
	for (int i = 0; i < t->nlabels; i++) {
		size_t len = strlen(t->labels[i]);
		spaced |= len && t->labels[i][len - 1] == ' ';
		if (utf8_chars(t->labels[i]) > longest)
			longest = utf8_chars(t->labels[i]);
		ok = ok && (!i || buf_putc(&b, ',')) && mysql_quote_string(&b, t->labels[i], len);
	}
	ok = ok && (own || !spaced) && buf_putc(&b, ')') &&
	     (own || buf_puts(&b, " COLLATE utf8mb4_bin")) && b.len < sizeof n->text;
	if (ok)
		memcpy(n->text, b.data, b.len + 1);
	buf_free(&b);
	if (ok)
		return true;
	type_naming_lose(n, "enum %s as varchar(%ld), its labels not enforced: %s", t->udt, longest,
			 spaced ? "a label ends in a space, which MySQL's ENUM would cut"
				: "too many labels");
	return type_naming_set(n, "varchar(%ld) COLLATE utf8mb4_bin", longest);
}

/* A decimal: MySQL's is at most decimal(65,30), and never unconstrained. */
static bool name_decimal(const struct sql_type *t, const struct type_use *use,
			 struct type_naming *n)
{
	if (t->precision < 0) {
		/* never MySQL's silent decimal(10,0) */
		type_naming_note(n,
				 "%s as decimal(65,30): values with more than 35 integer or 30 "
				 "fractional digits are rejected",
				 use->what);
		return type_naming_set(n, "decimal(65,30)");
	}
	/* a negative scale rounds to tens, hundreds...: more integer digits */
	long p = t->precision, s = t->scale > 0 ? t->scale : 0;
	if (t->scale < 0)
		p -= t->scale;
	if (s > p)
		p = s;
	if (p <= 65 && s <= 30)
		return type_naming_set(n, "decimal(%ld,%ld)%s%s", p, s,
				       t->is_unsigned ? " unsigned" : "",
				       t->zerofill ? " zerofill" : "");
	type_naming_lose(
		n, "%s is wider than MySQL's decimal(65,30): values that do not fit are rejected",
		use->what);
	return type_naming_set(n, "decimal(65,30)");
}

/* One of MySQL's own string types as it was (its character set and
 * collation are the column's); in a key, a text or blob bounded (MySQL
 * indexes it only by a prefix) and a char or varchar compared by its
 * bytes. */
static bool name_own_string(const struct sql_type *t, const struct type_use *use,
			    struct type_naming *n)
{
	static const char *const lobs[2][4] = {{"tinytext", "text", "mediumtext", "longtext"},
					       {"tinyblob", "blob", "mediumblob", "longblob"}};
	bool text = t->kind == SQL_TEXT;
	if (use->in_key && t->lob)
		return text ? key_varchar(n, t->name, 0, use->max_len)
			    : key_varbinary(n, t->name, use->max_len);
	char base[32];
	if (t->lob >= 1 && t->lob <= 4)
		snprintf(base, sizeof base, "%s", lobs[!text][t->lob - 1]);
	else
		snprintf(base, sizeof base, "%s%s", t->fixed ? "" : "var",
			 text ? "char" : "binary");
	char len[24] = "";
	if (!t->lob && t->length >= 0)
		snprintf(len, sizeof len, "(%ld)", t->length);
	return type_naming_set(n, "%s%s%s", base, len,
			       use->in_key && text ? " COLLATE utf8mb4_bin" : "");
}

/* Another server's string type (TEXT), by its length and how it is used. */
static bool name_text(const struct sql_type *t, const struct type_use *use, struct type_naming *n)
{
	if (t->length > 0) {
		long len = t->length;
		if (t->fixed && len <= 255)
			return type_naming_set(
				n, use->in_key ? "char(%ld) COLLATE utf8mb4_bin" : "char(%ld)",
				len);
		if (!t->fixed && use->in_key && len <= KEY_MAX_CHARS)
			return type_naming_set(n, "varchar(%ld) COLLATE utf8mb4_bin", len);
		if (use->in_key)
			return key_varchar(n, use->what, len, use->max_len);
		if (len <= MYSQL_VARCHAR_MAX)
			return type_naming_set(n, "varchar(%ld)", len);
		return type_naming_set(n, "longtext");
	}
	if (use->in_key)
		return key_varchar(n, use->what, 0, use->max_len);
	/* what a blank-padded or case-blind type was is not kept */
	if (t->padded || t->case_insensitive)
		type_naming_note(n, "%s as longtext", use->what);
	return type_naming_set(n, "longtext");
}

/* An integer. */
static bool name_int(const struct sql_type *t, struct type_naming *n)
{
	const char *name = t->year	   ? "year"
			   : t->bytes == 1 ? "tinyint"
			   : t->bytes == 2 ? "smallint"
			   : t->bytes == 3 ? "mediumint"
			   : t->bytes == 8 ? "bigint"
					   : "int";
	char width[16] = "";
	if (t->display > 0)
		snprintf(width, sizeof width, "(%d)", t->display);
	return type_naming_set(n, "%s%s%s%s", name, width,
			       t->is_unsigned && !t->year && !t->zerofill ? " unsigned" : "",
			       t->zerofill ? " unsigned zerofill" : "");
}

/* A date and time: MySQL's timestamp only spans 1970 to 2038, so another
 * server's instant becomes a datetime in UTC. */
static bool name_datetime(const struct sql_type *t, struct type_naming *n)
{
	const char *name = t->epoch32 ? "timestamp" : "datetime";
	bool ok = t->fsp ? type_naming_set(n, "%s(%d)", name, t->fsp)
			 : type_naming_set(n, "%s", name);
	if (ok && t->kind == SQL_TIMESTAMPTZ && !t->epoch32)
		type_naming_note(n, "timestamp with time zone as %s in UTC", n->text);
	return ok;
}

bool mysql_type_name(const struct sql_type *t, const struct type_use *use, struct type_naming *n)
{
	bool own = t->origin == &mysql_dialect;
	if (t->array) {
		if (use->in_key)
			return key_varchar(n, "an array", 0, use->max_len);
		type_naming_note(n, "%s as text ('{...}' array literal)", use->what);
		return type_naming_set(n, "longtext");
	}
	switch (t->kind) {
	case SQL_BOOL:
		return type_naming_set(n, t->bool_form == SQL_BOOL_BIT ? "bit(1)" : "tinyint(1)");
	case SQL_INT:
		return name_int(t, n);
	case SQL_DECIMAL:
		return name_decimal(t, use, n);
	case SQL_FLOAT:
		return type_naming_set(n, "%s%s", t->bytes == 4 ? "float" : "double",
				       t->zerofill	? " unsigned zerofill"
				       : t->is_unsigned ? " unsigned"
							: "");
	case SQL_DATE:
		return type_naming_set(n, "date");
	case SQL_DATETIME:
	case SQL_TIMESTAMPTZ:
		return name_datetime(t, n);
	case SQL_TIME:
		if (t->with_tz) {
			type_naming_note(n, "%s as text: MySQL has no time with a zone", use->what);
			return type_naming_set(n, "varchar(32)");
		}
		return t->fsp ? type_naming_set(n, "time(%d)", t->fsp) : type_naming_set(n, "time");
	case SQL_INTERVAL:
		/* "-178000000 years -11 mons -2147483648 days -2562047788:00:54.775808"
		 * is 67 characters */
		type_naming_note(n, "%s as text", use->what);
		return type_naming_set(n, "varchar(100)");
	case SQL_TEXT:
		return own ? name_own_string(t, use, n) : name_text(t, use, n);
	case SQL_BINARY:
		if (own)
			return name_own_string(t, use, n);
		if (use->in_key)
			return key_varbinary(n, use->what, use->max_len);
		return type_naming_set(n, "longblob");
	case SQL_BIT:
		if (t->fixed && t->length <= 64)
			return type_naming_set(n, "bit(%ld)", t->length > 0 ? t->length : 1);
		if (use->in_key)
			return key_varchar(n, use->what, t->length, use->max_len);
		type_naming_note(n, "%s as text of 0/1 digits", use->what);
		if (t->length > 0 && t->length <= MYSQL_VARCHAR_MAX)
			return type_naming_set(n, "varchar(%ld)", t->length);
		return type_naming_set(n, "longtext");
	case SQL_JSON:
		if (use->in_key)
			return key_varchar(n, use->what, 0, use->max_len);
		return type_naming_set(n, "json");
	case SQL_UUID:
		/* MariaDB's uuid type is not MySQL's: text both read */
		return type_naming_set(n,
				       use->in_key ? "char(36) COLLATE utf8mb4_bin" : "char(36)");
	case SQL_ENUM:
	case SQL_SET:
		if (own || t->kind == SQL_ENUM)
			return name_labels(t, n);
		break;
	case SQL_NETADDR:
		if (own)
			return type_naming_set(n, "%s", t->name);
		type_naming_note(n, "%s as text", use->what);
		return type_naming_set(n, use->in_key ? "varchar(43) COLLATE utf8mb4_bin"
						      : "varchar(43)");
	case SQL_MONEY:
		if (use->in_key)
			return key_varchar(n, use->what, 0, use->max_len);
		type_naming_lose(n, "money as text (formatted with its currency)");
		return type_naming_set(n, "longtext");
	case SQL_SPATIAL:
	case SQL_OTHER:
		if (own && t->name[0])
			return type_naming_set(n, "%s", t->name);
		break;
	}
	if (use->in_key)
		return key_varchar(n, use->what, 0, use->max_len);
	type_naming_note(n, "%s as text", use->what);
	return type_naming_set(n, "longtext");
}

/* ---- value conversion, by a column's text ---- */

enum convert_kind convert_kind_for_mysql(const char *column_type)
{
	struct sql_type t;
	enum convert_kind k = CONVERT_NONE;
	if (!column_type)
		return k;
	if (mysql_type_classify(column_type, NULL, &t))
		k = convert_kind_mysql(&t);
	sql_type_free(&t);
	return k;
}

int convert_exact_rule_for_mysql(const char *column_type)
{
	struct sql_type t;
	int rule = CONVERT_EXACT_ANY;
	if (!column_type)
		return rule;
	if (mysql_type_classify(column_type, NULL, &t))
		rule = convert_exact_mysql(&t);
	sql_type_free(&t);
	return rule;
}
