/* tests/unit/test_sqltype.c
 * The type model (sqltype.h): what each dialect classifies its type text
 * into, and round trips: each dialect names every kind it holds so that it
 * classifies the text back into the same type.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sluice/sql.h"

#define M &mysql_dialect
#define P &pg_dialect

/* d's classification of text (with col, may be NULL) into t. */
static void classify(const struct dialect *d, const char *text, const struct column_desc *col,
		     struct sql_type *t)
{
	ck_assert_msg(d->type_classify(text, col, t), "%s: out of memory", text);
}

/* d's name of t for a plain column, into n. */
static void name(const struct dialect *d, const struct sql_type *t, struct type_naming *n)
{
	struct type_use use = {.what = "src"};
	memset(n, 0, sizeof *n);
	ck_assert_msg(d->type_name(t, &use, n), "%s: kind %d not named", d->name, t->kind);
}

START_TEST(lexer)
{
	struct sql_type_text tx;
	sql_type_text_parse("  int(10) unsigned zerofill ", &tx);
	ck_assert_str_eq(tx.name, "int");
	ck_assert_str_eq(tx.stripped, "int unsigned zerofill");
	ck_assert_int_eq(tx.nparams, 1);
	ck_assert_int_eq(tx.p[0], 10);
	ck_assert(tx.is_unsigned && tx.zerofill);
	sql_type_text_parse("timestamp(3) with time zone", &tx);
	ck_assert_str_eq(tx.name, "timestamp");
	ck_assert_int_eq(tx.tz, 1);
	sql_type_text_parse("character varying(20)[][]", &tx);
	ck_assert_str_eq(tx.name, "character varying");
	ck_assert_int_eq(tx.array, 2);
	ck_assert_int_eq((int)tx.base_len, 21);
	sql_type_text_parse("enum('a,b','c)')", &tx);
	ck_assert_str_eq(tx.name, "enum");
	ck_assert_int_eq((int)tx.args_len, 10);
	sql_type_text_parse("numeric(a)", &tx);
	ck_assert_int_eq(tx.nparams, -1);
	sql_type_text_parse("public.mood", &tx);
	ck_assert_str_eq(tx.name, "");
	sql_type_text_parse("varchar(20) COLLATE utf8mb4_bin", &tx);
	ck_assert_str_eq(tx.name, "varchar collate utf8mb4_bin"); /* not a type text */
}
END_TEST

START_TEST(mysql_classify)
{
	struct sql_type t;
	classify(M, "tinyint(1)", NULL, &t);
	ck_assert_int_eq(t.kind, SQL_BOOL);
	ck_assert_int_eq(t.bool_form, SQL_BOOL_TINYINT);
	classify(M, "bit(1)", NULL, &t);
	ck_assert_int_eq(t.kind, SQL_BOOL);
	ck_assert_int_eq(t.bool_form, SQL_BOOL_BIT);
	classify(M, "tinyint(1) unsigned", NULL, &t);
	ck_assert_int_eq(t.kind, SQL_INT);
	ck_assert_int_eq(t.bytes, 1);
	ck_assert_int_eq(t.display, 1);
	ck_assert(t.is_unsigned);
	classify(M, "INT(10) UNSIGNED", NULL, &t);
	ck_assert_int_eq(t.kind, SQL_INT);
	ck_assert_int_eq(t.bytes, 4);
	ck_assert(t.is_unsigned);
	classify(M, "year(4)", NULL, &t);
	ck_assert(t.kind == SQL_INT && t.year);
	classify(M, "decimal", NULL, &t);
	ck_assert_int_eq(t.kind, SQL_DECIMAL);
	ck_assert_int_eq(t.precision, 10); /* MySQL's default */
	ck_assert_int_eq(t.scale, 0);
	classify(M, "float(30)", NULL, &t);
	ck_assert_int_eq(t.bytes, 8); /* float(p > 24) is a double */
	classify(M, "datetime", NULL, &t);
	ck_assert(t.kind == SQL_DATETIME && t.fsp == 0);
	classify(M, "timestamp(3)", NULL, &t);
	ck_assert(t.kind == SQL_TIMESTAMPTZ && t.fsp == 3 && t.epoch32);
	classify(M, "time(6)", NULL, &t);
	ck_assert(t.kind == SQL_TIME && t.span && t.fsp == 6);
	classify(M, "char(10)", NULL, &t);
	ck_assert(t.kind == SQL_TEXT && t.fixed && !t.padded && t.length == 10);
	classify(M, "mediumtext", NULL, &t);
	ck_assert(t.kind == SQL_TEXT && t.lob == 3);
	classify(M, "varbinary(16)", NULL, &t);
	ck_assert(t.kind == SQL_BINARY && !t.fixed && t.length == 16);
	classify(M, "geomcollection", NULL, &t);
	ck_assert_int_eq(t.kind, SQL_SPATIAL);
	ck_assert_str_eq(t.name, "geomcollection");
	classify(M, "vector(3)", NULL, &t);
	ck_assert_int_eq(t.kind, SQL_OTHER);
	ck_assert_str_eq(t.name, "vector(3)");
	struct column_desc col = {.name = "c", .charset = "utf8mb4", .collation = "utf8mb4_bin"};
	classify(M, "varchar(20)", &col, &t);
	ck_assert_str_eq(t.collation, "utf8mb4_bin");
	ck_assert_str_eq(t.charset, "utf8mb4");
	/* labels in their exact case, MySQL's escapes undone */
	classify(M, "enum('a','','b''c','D\\\\e')", NULL, &t);
	ck_assert_int_eq(t.kind, SQL_ENUM);
	ck_assert_int_eq(t.nlabels, 4);
	ck_assert_str_eq(t.labels[2], "b'c");
	ck_assert_str_eq(t.labels[3], "D\\e");
	sql_type_free(&t);
	ck_assert_int_eq(t.nlabels, 0);
	classify(M, "enum(a,b)", NULL, &t);
	ck_assert_int_eq(t.nlabels, -1);
	sql_type_free(&t);
}
END_TEST

START_TEST(pg_classify)
{
	struct sql_type t;
	classify(P, "numeric", NULL, &t);
	ck_assert(t.kind == SQL_DECIMAL && t.precision == -1);
	classify(P, "numeric(5)", NULL, &t);
	ck_assert(t.precision == 5 && t.scale == 0);
	classify(P, "numeric(5,-2)", NULL, &t);
	ck_assert_int_eq(t.scale, -2);
	classify(P, "timestamp without time zone", NULL, &t);
	ck_assert(t.kind == SQL_DATETIME && t.fsp == 6);
	classify(P, "timestamp(0) with time zone", NULL, &t);
	ck_assert(t.kind == SQL_TIMESTAMPTZ && t.fsp == 0 && !t.epoch32);
	classify(P, "time(3) with time zone", NULL, &t);
	ck_assert(t.kind == SQL_TIME && t.with_tz && !t.span && t.fsp == 3);
	classify(P, "interval day to second(3)", NULL, &t);
	ck_assert(t.kind == SQL_INTERVAL && t.fsp == 3);
	ck_assert_str_eq(t.fields, "day to second");
	classify(P, "character(3)", NULL, &t);
	ck_assert(t.kind == SQL_TEXT && t.fixed && t.padded && t.length == 3);
	classify(P, "character", NULL, &t);
	ck_assert_int_eq(t.length, 1);
	classify(P, "citext", NULL, &t);
	ck_assert(t.kind == SQL_TEXT && t.case_insensitive);
	classify(P, "bit varying", NULL, &t);
	ck_assert(t.kind == SQL_BIT && !t.fixed && t.length == -1);
	classify(P, "json", NULL, &t);
	ck_assert(t.kind == SQL_JSON && t.json_text);
	classify(P, "jsonb", NULL, &t);
	ck_assert(t.kind == SQL_JSON && !t.json_text);
	classify(P, "real", NULL, &t);
	ck_assert(t.kind == SQL_FLOAT && t.bytes == 4);
	classify(P, "cidr", NULL, &t);
	ck_assert_int_eq(t.kind, SQL_NETADDR);
	classify(P, "money", NULL, &t);
	ck_assert_int_eq(t.kind, SQL_MONEY);
	classify(P, "character varying(20)[]", NULL, &t);
	ck_assert(t.kind == SQL_TEXT && t.array == 1 && t.length == 20);
	classify(P, "\"Mood\"[]", NULL, &t);
	ck_assert(t.kind == SQL_OTHER && t.array == 1);
	ck_assert_str_eq(t.name, "\"Mood\"");
	char *labels[] = {"sad", "OK"};
	struct column_desc col = {
		.name = "m", .udt = "mood", .udt_kind = 'e', .nlabels = 2, .labels = labels};
	classify(P, "mood", &col, &t);
	ck_assert_int_eq(t.kind, SQL_ENUM);
	ck_assert_str_eq(t.udt, "mood");
	ck_assert_int_eq(t.nlabels, 2);
	ck_assert_str_eq(t.labels[1], "OK");
	sql_type_free(&t);
}
END_TEST

/* Type texts of d whose classification d names back unchanged, with the
 * column that adds what the text does not say (NULL for none). */
struct trip {
	const char *text;
	const struct column_desc *col;
};

/* classify(name(classify(text))) == classify(text) for each row; every
 * kind in kinds (SQL_OTHER-terminated after the first) seen. */
static void round_trips(const struct dialect *d, const struct trip *rows, size_t n,
			const enum sql_kind *kinds, size_t nkinds)
{
	bool seen[SQL_MONEY + 1] = {false};
	for (size_t i = 0; i < n; i++) {
		struct sql_type t, back;
		struct type_naming nm;
		classify(d, rows[i].text, rows[i].col, &t);
		name(d, &t, &nm);
		classify(d, nm.text, rows[i].col, &back);
		ck_assert_msg(sql_type_equal(&t, &back), "%s %s -> %s: not the same type", d->name,
			      rows[i].text, nm.text);
		ck_assert_msg(!nm.note[0] && !nm.lost, "%s %s: %s", d->name, rows[i].text, nm.note);
		seen[t.kind] = true;
		sql_type_free(&t);
		sql_type_free(&back);
	}
	for (size_t k = 0; k < nkinds; k++)
		ck_assert_msg(seen[kinds[k]], "%s: kind %d has no round trip", d->name, kinds[k]);
}

START_TEST(mysql_round_trips)
{
	static const struct column_desc bin = {
		.name = "c", .charset = "utf8mb4", .collation = "utf8mb4_bin"};
	static const struct trip rows[] = {
		{"tinyint(1)", NULL},
		{"bit(1)", NULL},
		{"tinyint(4)", NULL},
		{"tinyint(3) unsigned", NULL},
		{"tinyint(1) unsigned", NULL},
		{"smallint(6)", NULL},
		{"smallint(5) unsigned", NULL},
		{"mediumint(9)", NULL},
		{"int(11)", NULL},
		{"int", NULL},
		{"int(10) unsigned", NULL},
		{"int(10) unsigned zerofill", NULL},
		{"bigint(20)", NULL},
		{"bigint(20) unsigned", NULL},
		{"year(4)", NULL},
		{"year", NULL},
		{"decimal(12,4)", NULL},
		{"decimal(65,30) unsigned", NULL},
		{"float", NULL},
		{"double", NULL},
		{"double unsigned", NULL},
		{"date", NULL},
		{"datetime", NULL},
		{"datetime(6)", NULL},
		{"timestamp", NULL},
		{"timestamp(3)", NULL},
		{"time", NULL},
		{"time(6)", NULL},
		{"char(10)", NULL},
		{"varchar(255)", NULL},
		{"varchar(20)", &bin},
		{"tinytext", NULL},
		{"text", NULL},
		{"mediumtext", NULL},
		{"longtext", &bin},
		{"binary(16)", NULL},
		{"varbinary(100)", NULL},
		{"tinyblob", NULL},
		{"blob", NULL},
		{"mediumblob", NULL},
		{"longblob", NULL},
		{"bit(12)", NULL},
		{"bit(64)", NULL},
		{"json", NULL},
		{"enum('a','','b''c','A B')", NULL},
		{"set('x','Y')", NULL},
		{"inet6", NULL},
		{"inet4", NULL},
		{"geometry", NULL},
		{"point", NULL},
		{"geomcollection", NULL},
		{"vector(3)", NULL},
	};
	static const enum sql_kind kinds[] = {
		SQL_BOOL,	 SQL_INT,  SQL_DECIMAL, SQL_FLOAT,   SQL_DATE,	SQL_DATETIME,
		SQL_TIMESTAMPTZ, SQL_TIME, SQL_TEXT,	SQL_BINARY,  SQL_BIT,	SQL_JSON,
		SQL_ENUM,	 SQL_SET,  SQL_NETADDR, SQL_SPATIAL, SQL_OTHER,
	};
	round_trips(M, rows, sizeof rows / sizeof rows[0], kinds, sizeof kinds / sizeof kinds[0]);
	/* not round trips, on purpose: MariaDB's uuid is named as what MySQL
	 * has too, char(36); bool is MySQL's word for a tinyint(1) */
	struct sql_type t;
	struct type_naming nm;
	classify(M, "uuid", NULL, &t);
	ck_assert_int_eq(t.kind, SQL_UUID);
	name(M, &t, &nm);
	ck_assert_str_eq(nm.text, "char(36)");
	classify(M, "bool", NULL, &t);
	ck_assert(t.kind == SQL_BOOL && t.bool_form == SQL_BOOL_NATIVE);
	name(M, &t, &nm);
	ck_assert_str_eq(nm.text, "tinyint(1)");
}
END_TEST

START_TEST(pg_round_trips)
{
	static char *labels[] = {"sad", "OK", "it's"};
	static const struct column_desc mood = {
		.name = "m", .udt = "mood", .udt_kind = 'e', .nlabels = 3, .labels = labels};
	static const struct trip rows[] = {
		{"boolean", NULL},
		{"smallint", NULL},
		{"integer", NULL},
		{"bigint", NULL},
		{"numeric", NULL},
		{"numeric(10,2)", NULL},
		{"numeric(5)", NULL},
		{"numeric(5,-2)", NULL},
		{"real", NULL},
		{"double precision", NULL},
		{"date", NULL},
		{"timestamp without time zone", NULL},
		{"timestamp(3) without time zone", NULL},
		{"timestamp with time zone", NULL},
		{"timestamp(0) with time zone", NULL},
		{"time without time zone", NULL},
		{"time(3) with time zone", NULL},
		{"interval", NULL},
		{"interval(3)", NULL},
		{"interval year to month", NULL},
		{"interval day to second(3)", NULL},
		{"text", NULL},
		{"character varying", NULL},
		{"character varying(20)", NULL},
		{"character(3)", NULL},
		{"bpchar", NULL},
		{"citext", NULL},
		{"bytea", NULL},
		{"bit(8)", NULL},
		{"bit varying(8)", NULL},
		{"bit varying", NULL},
		{"json", NULL},
		{"jsonb", NULL},
		{"uuid", NULL},
		{"inet", NULL},
		{"cidr", NULL},
		{"macaddr8", NULL},
		{"money", NULL},
		{"xml", NULL},
		{"public.mood", NULL},
		{"integer[]", NULL},
		{"character varying(20)[][]", NULL},
		{"mood", &mood},
		{"mood[]", &mood},
	};
	static const enum sql_kind kinds[] = {
		SQL_BOOL,	 SQL_INT,  SQL_DECIMAL,	 SQL_FLOAT,   SQL_DATE,	  SQL_DATETIME,
		SQL_TIMESTAMPTZ, SQL_TIME, SQL_INTERVAL, SQL_TEXT,    SQL_BINARY, SQL_BIT,
		SQL_JSON,	 SQL_UUID, SQL_ENUM,	 SQL_NETADDR, SQL_MONEY,  SQL_OTHER,
	};
	round_trips(P, rows, sizeof rows / sizeof rows[0], kinds, sizeof kinds / sizeof kinds[0]);
}
END_TEST

/* A type made by hand (origin NULL), as another server might classify
 * one, is named by each dialect as the nearest type it has. */
START_TEST(neutral_names)
{
	static const struct {
		struct sql_type t;
		const char *pg, *mysql;
	} rows[] = {
		{{.kind = SQL_BOOL}, "boolean", "tinyint(1)"},
		{{.kind = SQL_INT, .bytes = 8}, "bigint", "bigint"},
		{{.kind = SQL_INT, .bytes = 4, .is_unsigned = true}, "bigint", "int unsigned"},
		{{.kind = SQL_DECIMAL, .precision = -1}, "numeric", "decimal(65,30)"},
		{{.kind = SQL_FLOAT, .bytes = 8}, "double precision", "double"},
		{{.kind = SQL_DATETIME, .fsp = 6}, "timestamp(6) without time zone", "datetime(6)"},
		{{.kind = SQL_TIMESTAMPTZ, .fsp = 3}, "timestamp(3) with time zone", "datetime(3)"},
		{{.kind = SQL_TEXT, .length = -1}, "text", "longtext"},
		{{.kind = SQL_TEXT, .length = 40}, "varchar(40)", "varchar(40)"},
		{{.kind = SQL_BINARY, .length = -1}, "bytea", "longblob"},
		{{.kind = SQL_JSON}, "jsonb", "json"},
		{{.kind = SQL_UUID}, "uuid", "char(36)"},
		{{.kind = SQL_OTHER, .name = "geography"}, "text", "longtext"},
	};
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		struct type_naming nm;
		name(P, &rows[i].t, &nm);
		ck_assert_msg(!strcmp(nm.text, rows[i].pg), "%zu: %s", i, nm.text);
		name(M, &rows[i].t, &nm);
		ck_assert_msg(!strcmp(nm.text, rows[i].mysql), "%zu: %s", i, nm.text);
	}
}
END_TEST

START_TEST(equality)
{
	struct sql_type a, b;
	classify(M, "enum('a','b')", NULL, &a);
	classify(M, "enum('a','B')", NULL, &b);
	ck_assert(!sql_type_equal(&a, &b)); /* labels in their exact case */
	sql_type_free(&b);
	classify(M, "ENUM('a', 'b')", NULL, &b);
	ck_assert(sql_type_equal(&a, &b));
	sql_type_free(&a);
	sql_type_free(&b);
	/* names count where they are what the type is */
	classify(P, "xml", NULL, &a);
	classify(P, "tsvector", NULL, &b);
	ck_assert(!sql_type_equal(&a, &b));
	classify(P, "int4", NULL, &a);
	classify(P, "integer", NULL, &b);
	ck_assert(sql_type_equal(&a, &b));
}
END_TEST

START_TEST(sqlite_classify)
{
	/* datatype3.html 3.1, in its order, and the names applications use */
	static const struct {
		const char *text;
		enum sqlite_affinity aff;
		enum sql_kind kind;
	} cases[] = {
		{"INTEGER", SQLITE_AFF_INTEGER, SQL_INT},
		{"UNSIGNED BIG INT", SQLITE_AFF_INTEGER, SQL_INT},
		{"POINT", SQLITE_AFF_INTEGER, SQL_INT}, /* "INT" inside */
		{"VARCHAR(20)", SQLITE_AFF_TEXT, SQL_TEXT},
		{"NATIVE CHARACTER(70)", SQLITE_AFF_TEXT, SQL_TEXT},
		{"CLOB", SQLITE_AFF_TEXT, SQL_TEXT},
		{"BLOB", SQLITE_AFF_BLOB, SQL_BINARY},
		{"", SQLITE_AFF_BLOB, SQL_TEXT}, /* no type: any value, read as text */
		{"DOUBLE PRECISION", SQLITE_AFF_REAL, SQL_FLOAT},
		{"FLOAT", SQLITE_AFF_REAL, SQL_FLOAT},
		{"DECIMAL(10,5)", SQLITE_AFF_NUMERIC, SQL_DECIMAL},
		{"decimal text(10,5)", SQLITE_AFF_TEXT, SQL_DECIMAL},
		{"BOOLEAN", SQLITE_AFF_NUMERIC, SQL_BOOL},
		{"DATE", SQLITE_AFF_NUMERIC, SQL_DATE},
		{"DATETIME", SQLITE_AFF_NUMERIC, SQL_DATETIME},
		{"TIMESTAMP", SQLITE_AFF_NUMERIC, SQL_DATETIME},
		{"TIMESTAMP WITH TIME ZONE", SQLITE_AFF_NUMERIC, SQL_TIMESTAMPTZ},
		{"STRING", SQLITE_AFF_NUMERIC, SQL_OTHER}, /* not TEXT affinity */
		{"JSON TEXT", SQLITE_AFF_TEXT, SQL_JSON},
		/* TEXT is looked for before BLOB (Sakila's SQLite port) */
		{"BLOB SUB_TYPE TEXT", SQLITE_AFF_TEXT, SQL_TEXT},
		{"REAL INT", SQLITE_AFF_INTEGER, SQL_OTHER},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct sql_type t;
		classify(&sqlite_dialect, cases[i].text, NULL, &t);
		ck_assert_msg(sqlite_affinity(cases[i].text) == cases[i].aff, "%s: affinity %d",
			      cases[i].text, sqlite_affinity(cases[i].text));
		ck_assert_msg(t.kind == cases[i].kind, "%s: kind %d", cases[i].text, t.kind);
		sql_type_free(&t);
	}
	struct sql_type t;
	classify(&sqlite_dialect, "VARCHAR(20)", NULL, &t);
	ck_assert_int_eq(t.length, 20);
	classify(&sqlite_dialect, "DECIMAL(10,5)", NULL, &t);
	ck_assert_int_eq(t.precision, 10);
	ck_assert_int_eq(t.scale, 5);
	classify(&sqlite_dialect, "unsigned big int", NULL, &t);
	ck_assert(t.is_unsigned);
	ck_assert_int_eq(t.bytes, 8);
}
END_TEST

/* What SQLite names each kind, and that the name classifies back: a
 * decimal is never NUMERIC affinity (a REAL), an unsigned 64-bit integer
 * never INTEGER. */
START_TEST(sqlite_names)
{
	static const struct {
		const char *mysql_text, *want;
	} cases[] = {
		{"decimal(30,10)", "DECIMAL TEXT(30,10)"},
		{"bigint(20) unsigned", "DECIMAL TEXT(20,0)"},
		{"bigint(20)", "INTEGER"},
		{"smallint(6)", "SMALLINT"},
		{"tinyint(1)", "BOOLEAN"},
		{"double", "REAL"},
		{"varchar(20)", "VARCHAR(20)"},
		{"longblob", "BLOB"},
		{"datetime(3)", "DATETIME"},
		{"date", "DATE"},
		{"json", "JSON TEXT"},
		{"year(4)", "INTEGER"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct sql_type s, back;
		struct type_naming n;
		classify(M, cases[i].mysql_text, NULL, &s);
		name(&sqlite_dialect, &s, &n);
		ck_assert_msg(!strcmp(n.text, cases[i].want), "%s: %s", cases[i].mysql_text,
			      n.text);
		classify(&sqlite_dialect, n.text, NULL, &back);
		ck_assert_msg(
			back.kind == s.kind || (s.kind == SQL_INT && back.kind == SQL_DECIMAL),
			"%s: %s classifies as kind %d", cases[i].mysql_text, n.text, back.kind);
		ck_assert_msg(sqlite_affinity(n.text) != SQLITE_AFF_NUMERIC ||
				      s.kind != SQL_DECIMAL,
			      "%s: a decimal with NUMERIC affinity", n.text);
		sql_type_free(&s);
		sql_type_free(&back);
	}
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("sqltype");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, lexer);
	tcase_add_test(tc, mysql_classify);
	tcase_add_test(tc, pg_classify);
	tcase_add_test(tc, mysql_round_trips);
	tcase_add_test(tc, pg_round_trips);
	tcase_add_test(tc, neutral_names);
	tcase_add_test(tc, equality);
	tcase_add_test(tc, sqlite_classify);
	tcase_add_test(tc, sqlite_names);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
