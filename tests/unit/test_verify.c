/* tests/unit/test_verify.c
 * The checksum queries of sluice verify: the canonical form each column
 * gets from the types on both sides, the row text around it, and the notes
 * on what is compared only in part. That both servers compute the same sums
 * is tested against real servers in tests/integration/t_verify.sh.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "sluice/verify.h"

#define MAXCOLS 8

/* A described table of n columns named by names with types. */
struct fake_table {
	struct column_desc cols[MAXCOLS];
	struct table_desc desc;
};

static void fake(struct fake_table *t, int n, const char *const *names, const char *const *types)
{
	memset(t, 0, sizeof *t);
	for (int i = 0; i < n; i++) {
		t->cols[i].name = (char *)names[i];
		t->cols[i].type = (char *)types[i];
	}
	t->desc.exists = true;
	t->desc.ncols = n;
	t->desc.cols = t->cols;
}

/* The query for side d (types mine) against other_d (types other) for
 * columns named names; note receives the note. Caller frees. */
static char *query(const struct dialect *d, const char *const *mine, const struct dialect *other_d,
		   const char *const *other, const char *const *names, int n, char *note,
		   size_t notesz)
{
	struct fake_table a, b;
	fake(&a, n, names, mine);
	fake(&b, n, names, other);
	struct write_spec t = {.table = "t"};
	struct buf out;
	buf_init(&out, 0);
	ck_assert(verify_sql(d, &t, &a.desc, other_d, &b.desc, &out, note, notesz));
	char *s = strdup(buf_str(&out));
	buf_free(&out);
	return s;
}

/* The select list of the inner query: what each column becomes. */
static const char *inner(const char *q)
{
	const char *p = strstr(q, "FROM (SELECT ");
	ck_assert_ptr_nonnull(p);
	return p + strlen("FROM (SELECT ");
}

#define assert_has(hay, needle)                                                                    \
	ck_assert_msg(strstr((hay), (needle)) != NULL, "no\n  %s\nin\n  %s", (needle), (hay))
#define assert_hasnt(hay, needle)                                                                  \
	ck_assert_msg(strstr((hay), (needle)) == NULL, "unexpected\n  %s\nin\n  %s", (needle),     \
		      (hay))

START_TEST(whole_query_pg_and_mysql)
{
	static const char *const names[] = {"id", "na\"me`"};
	static const char *const pg[] = {"integer", "text"};
	static const char *const my[] = {"int(11)", "longtext"};
	char note[512];
	char *q = query(&pg_dialect, pg, &mysql_dialect, my, names, 2, note, sizeof note);
	ck_assert_str_eq(
		q, "SELECT count(*)::text, COALESCE(sum(('x' || substr(md5("
		   "COALESCE(length(c0) || ':' || c0, 'N') || "
		   "COALESCE(length(c1) || ':' || c1, 'N')), 1, 15))::bit(60)::bigint), 0)::text "
		   "FROM (SELECT \"id\"::text AS c0, md5(convert_to(\"na\"\"me`\"::text, 'UTF8')) "
		   "AS c1 FROM \"t\") s");
	ck_assert_str_eq(note, "");
	free(q);
	q = query(&mysql_dialect, my, &pg_dialect, pg, names, 2, note, sizeof note);
	ck_assert_str_eq(
		q, "SELECT COUNT(*), CAST(COALESCE(SUM(CAST(CONV(SUBSTR(MD5(CONCAT("
		   "COALESCE(CONCAT(CHAR_LENGTH(c0), ':', c0), 'N'), "
		   "COALESCE(CONCAT(CHAR_LENGTH(c1), ':', c1), 'N'))), 1, 15), 16, 10) AS "
		   "UNSIGNED)), 0) AS DECIMAL(65,0)) FROM (SELECT CAST(`id` + 0 AS CHAR) AS c0, "
		   "MD5(CONVERT(`na\"me``` USING utf8mb4)) AS c1 FROM `t`) s");
	free(q);
}
END_TEST

START_TEST(numbers_booleans_bits)
{
	static const char *const names[] = {"b", "d", "u", "y", "bit1", "bits"};
	static const char *const pg[] = {"boolean",  "numeric", "numeric(20,0)",
					 "smallint", "boolean", "bit(10)"};
	static const char *const my[] = {"tinyint(1)", "decimal(65,30)", "bigint(20) unsigned",
					 "year(4)",    "bit(1)",	 "bit(10)"};
	char *q = query(&pg_dialect, pg, &mysql_dialect, my, names, 6, NULL, 0);
	const char *s = inner(q);
	assert_has(s, "\"b\"::int::text AS c0");
	assert_has(
		s,
		"CASE WHEN strpos(\"d\"::text, '.') > 0 THEN rtrim(rtrim(\"d\"::text, '0'), '.') "
		"ELSE \"d\"::text END AS c1");
	assert_has(s, "rtrim(rtrim(\"u\"::text, '0'), '.')");
	assert_has(s, "\"y\"::text AS c3");
	assert_has(s, "\"bit1\"::int::text AS c4");
	assert_has(s, "\"bits\"::text AS c5");
	free(q);
	q = query(&mysql_dialect, my, &pg_dialect, pg, names, 6, NULL, 0);
	s = inner(q);
	/* + 0: no ZEROFILL padding */
	assert_has(s, "CAST(`b` + 0 AS CHAR) AS c0");
	assert_has(s,
		   "CASE WHEN LOCATE('.', CAST(`d` + 0 AS CHAR)) > 0 THEN TRIM(TRAILING '.' FROM "
		   "TRIM(TRAILING '0' FROM CAST(`d` + 0 AS CHAR))) ELSE CAST(`d` + 0 AS CHAR) END "
		   "AS c1");
	assert_has(s, "CAST(`u` + 0 AS CHAR) AS c2");
	assert_has(s, "CAST(`y` + 0 AS CHAR) AS c3");
	assert_has(s, "LPAD(BIN(`bit1` + 0), 1, '0') AS c4");
	assert_has(s, "LPAD(BIN(`bits` + 0), 10, '0') AS c5");
	free(q);
}
END_TEST

START_TEST(floats_by_their_bits)
{
	static const char *const names[] = {"r", "d", "n", "rd"};
	static const char *const pg[] = {"real", "double precision", "numeric(10,2)", "real"};
	static const char *const my[] = {"float", "double", "double", "double"};
	char note[512], note2[512];
	char *q = query(&pg_dialect, pg, &mysql_dialect, my, names, 4, note, sizeof note);
	const char *s = inner(q);
	/* a float as a float, a double as a double: every bit, zero unsigned */
	assert_has(s, "CASE WHEN \"r\"::float8 = 0 THEN '00000000' ");
	assert_has(s, "ELSE encode(float4send(\"r\"::float8::real), 'hex') END AS c0");
	assert_has(s, "CASE WHEN \"d\"::float8 = 0 THEN '0000000000000000' WHEN \"d\"::float8 = "
		      "'NaN'::float8 THEN 'NaN' ELSE encode(float8send(\"d\"::float8), 'hex') END "
		      "AS c1");
	assert_has(s, "encode(float8send(\"n\"::float8), 'hex') END AS c2");
	/* a double against a float is rounded to a float; where the cast to
	 * real would fail, the pattern it would round to */
	assert_has(s, "WHEN \"rd\"::float8 >= 340282356779733661637539395458142568448::float8 "
		      "THEN '7f800000' ");
	assert_has(s, "WHEN abs(\"rd\"::float8) <= power(2::float8, -150) THEN '00000000' ");
	assert_has(s, "encode(float4send(\"rd\"::float8::real), 'hex') END AS c3");
	/* exact where both sides are of one type */
	ck_assert_str_eq(note, "compared at single precision: rd; compared as doubles: n");
	free(q);
	q = query(&mysql_dialect, my, &pg_dialect, pg, names, 4, note2, sizeof note2);
	s = inner(q);
	/* MySQL shows a FLOAT to 6 digits: its value as a double, then bits
	 * computed from the exponent LOG2 estimates and comparisons correct */
	assert_has(s, "CASE WHEN (`r` + 0e0) = 0 THEN '00000000' ELSE LOWER(LPAD(HEX(LEAST(CAST("
		      "GREATEST((LEAST(GREATEST(FLOOR(LOG2(ABS((`r` + 0e0)))), -1023), 1022) - "
		      "(ABS((`r` + 0e0)) < POW(2, ");
	assert_has(s, "CAST(ROUND(ABS((`r` + 0e0)) * POW(2, 23 - GREATEST(");
	assert_has(s, "2139095040) | (((`r` + 0e0) < -POW(2, -150)) << 31)), 8, '0')) END AS c0");
	assert_has(s, "CASE WHEN `d` = 0 THEN '0000000000000000' ELSE LOWER(LPAD(HEX((CAST("
		      "GREATEST((LEAST(GREATEST(FLOOR(LOG2(ABS(`d`))), -1023), 1022)");
	assert_has(s, "* 4503599627370496 + CAST(ABS(`d`) * POW(2, -48 - GREATEST(");
	assert_has(s, "-1022)) * POW(2, 100) AS SIGNED)) | ((`d` < 0) << 63)), 16, '0')) END "
		      "AS c1");
	/* the double against a real: rounded to a float */
	assert_has(s, "CASE WHEN `rd` = 0 THEN '00000000' ELSE");
	ck_assert_str_eq(note, note2);
	free(q);
	/* a decimal against a double is converted to a double first */
	static const char *const my2[] = {"float", "double", "decimal(10,2)", "float"};
	static const char *const pg2[] = {"real", "double precision", "double precision", "real"};
	q = query(&mysql_dialect, my2, &pg_dialect, pg2, names, 4, note, sizeof note);
	assert_has(inner(q), "ABS((`n` + 0e0))");
	ck_assert_str_eq(note, "compared as doubles: n");
	free(q);
}
END_TEST

START_TEST(timestamps_at_the_lower_precision)
{
	static const char *const names[] = {"a", "b", "c", "d"};
	static const char *const pg[] = {"timestamp(6) without time zone",
					 "timestamp with time zone", "date",
					 "timestamp(3) with time zone"};
	static const char *const my[] = {"datetime(3)", "timestamp", "date", "timestamp(6)"};
	char *q = query(&pg_dialect, pg, &mysql_dialect, my, names, 4, NULL, 0);
	const char *s = inner(q);
	assert_has(s, "CASE WHEN isfinite(\"a\") AND \"a\" >= '0001-01-01' THEN to_char(\"a\", "
		      "'YYYY-MM-DD HH24:MI:SS') || '.' || left(to_char(\"a\", 'US'), 3) ELSE "
		      "\"a\"::text END AS c0");
	assert_has(s, "to_char((\"b\" AT TIME ZONE 'UTC'), 'YYYY-MM-DD HH24:MI:SS') ELSE");
	assert_has(s, "to_char(\"c\", 'YYYY-MM-DD') ELSE \"c\"::text END AS c2");
	assert_has(s, "left(to_char((\"d\" AT TIME ZONE 'UTC'), 'US'), 3)");
	free(q);
	q = query(&mysql_dialect, my, &pg_dialect, pg, names, 4, NULL, 0);
	s = inner(q);
	/* zero dates are NULL, as copy writes them */
	assert_has(s, "CASE WHEN MONTH(`a`) = 0 OR DAYOFMONTH(`a`) = 0 THEN NULL ELSE "
		      "CONCAT(DATE_FORMAT(`a`, '%Y-%m-%d %H:%i:%s'), '.', LEFT(DATE_FORMAT(`a`, "
		      "'%f'), 3)) END AS c0");
	assert_has(s, "ELSE DATE_FORMAT(`b`, '%Y-%m-%d %H:%i:%s') END AS c1");
	assert_has(s, "ELSE DATE_FORMAT(`c`, '%Y-%m-%d') END AS c2");
	assert_has(s, "LEFT(DATE_FORMAT(`d`, '%f'), 3)");
	free(q);
	/* MySQL on both sides too: copy writes a zero date as NULL whatever the target */
	q = query(&mysql_dialect, my, &mysql_dialect, my, names, 4, NULL, 0);
	s = inner(q);
	assert_has(s, "CASE WHEN MONTH(`a`) = 0 OR DAYOFMONTH(`a`) = 0 THEN NULL ELSE ");
	assert_has(s,
		   "DATE_FORMAT(`a`, '%Y-%m-%d %H:%i:%s'), '.', LEFT(DATE_FORMAT(`a`, '%f'), 3)");
	assert_has(s, "LEFT(DATE_FORMAT(`d`, '%f'), 6)");
	free(q);
}
END_TEST

START_TEST(time_and_interval)
{
	static const char *const names[] = {"a", "b"};
	static const char *const pg[] = {"interval", "time(3) without time zone"};
	static const char *const my[] = {"time", "time(6)"};
	char *q = query(&pg_dialect, pg, &mysql_dialect, my, names, 2, NULL, 0);
	const char *s = inner(q);
	/* an interval by its fields: the time alone when there are no months
	 * or days, as a MySQL time reads */
	assert_has(s, "CASE WHEN EXTRACT(YEAR FROM \"a\") = 0 AND EXTRACT(MONTH FROM \"a\") = 0 "
		      "AND EXTRACT(DAY FROM \"a\") = 0 THEN (round(EXTRACT(HOUR FROM \"a\") * "
		      "3600000000 + EXTRACT(MINUTE FROM \"a\") * 60000000 + EXTRACT(MICROSECONDS "
		      "FROM \"a\"))::bigint / 1000000)::text ELSE (EXTRACT(YEAR FROM \"a\") * 12 + "
		      "EXTRACT(MONTH FROM \"a\"))::bigint::text || ' mons ' || EXTRACT(DAY FROM "
		      "\"a\")::bigint::text || ' days ' || (round(");
	assert_has(s, "(round(EXTRACT(EPOCH FROM \"b\") * 1000000)::bigint / 1000)::text AS c1");
	free(q);
	q = query(&mysql_dialect, my, &pg_dialect, pg, names, 2, NULL, 0);
	s = inner(q);
	assert_has(s, "CAST((CAST((HOUR(`a`) * 3600 + MINUTE(`a`) * 60 + SECOND(`a`)) * 1000000 + "
		      "MICROSECOND(`a`) AS SIGNED) * IF(LEFT(CAST(`a` AS CHAR), 1) = '-', -1, 1)) "
		      "DIV 1000000 AS CHAR) AS c0");
	assert_has(s, "DIV 1000 AS CHAR) AS c1");
	free(q);
	static const char *const pg6[] = {"interval(6)", "interval"};
	static const char *const my6[] = {"time(6)", "time(6)"};
	q = query(&pg_dialect, pg6, &mysql_dialect, my6, names, 2, NULL, 0);
	assert_has(inner(q), "EXTRACT(MICROSECONDS FROM \"a\"))::bigint)::text ELSE");
	free(q);
	/* PostgreSQL on both sides: '1 mon' is not '30 days' (nor by the epoch) */
	q = query(&pg_dialect, pg6, &pg_dialect, pg6, names, 2, NULL, 0);
	s = inner(q);
	assert_has(s,
		   "(EXTRACT(YEAR FROM \"b\") * 12 + EXTRACT(MONTH FROM \"b\"))::bigint::text || "
		   "' mons ' || EXTRACT(DAY FROM \"b\")::bigint::text || ' days ' || ");
	assert_hasnt(s, "EPOCH");
	free(q);
}
END_TEST

START_TEST(bytes_text_uuid_json)
{
	static const char *const names[] = {"by", "tx", "en", "u", "j", "jt"};
	static const char *const pg[] = {"bytea", "character varying(20)", "text", "uuid", "jsonb",
					 "json"};
	static const char *const my[] = {"longblob", "varchar(20)", "enum('a','b c')",
					 "char(36)", "json",	    "longtext"};
	char note[512], note2[512];
	char *q = query(&pg_dialect, pg, &mysql_dialect, my, names, 6, note, sizeof note);
	const char *s = inner(q);
	assert_has(s, "md5(\"by\") AS c0");
	assert_has(s, "md5(convert_to(\"tx\"::text, 'UTF8')) AS c1");
	assert_has(s, "md5(convert_to(\"en\"::text, 'UTF8')) AS c2");
	/* types other than character types: their output text, as copy reads it */
	assert_has(s, "CASE WHEN \"u\" IS NULL THEN NULL ELSE md5(convert_to(lower(format('%s', "
		      "\"u\")), 'UTF8')) END AS c3");
	assert_has(s, "CASE WHEN \"j\" IS NULL THEN NULL ELSE '' END AS c4");
	/* json keeps its text on PostgreSQL and MariaDB (longtext): as text */
	assert_has(s, "md5(convert_to(format('%s', \"jt\"), 'UTF8')) END AS c5");
	ck_assert_str_eq(note, "json compared as NULL or not only (no common canonical form): j");
	free(q);
	q = query(&mysql_dialect, my, &pg_dialect, pg, names, 6, note2, sizeof note2);
	s = inner(q);
	assert_has(s, "MD5(`by`) AS c0");
	assert_has(s, "MD5(CONVERT(`tx` USING utf8mb4)) AS c1");
	assert_has(s, "MD5(CONVERT(`en` USING utf8mb4)) AS c2");
	assert_has(s, "MD5(LOWER(CONVERT(`u` USING utf8mb4))) AS c3");
	assert_has(s, "CASE WHEN `j` IS NULL THEN NULL ELSE '' END AS c4");
	assert_has(s, "MD5(CONVERT(`jt` USING utf8mb4)) AS c5");
	ck_assert_str_eq(note, note2);
	free(q);
	/* PostgreSQL on both sides: json and jsonb compare as jsonb text */
	static const char *const pg2[] = {"bytea", "text", "text", "uuid", "json", "jsonb"};
	q = query(&pg_dialect, pg, &pg_dialect, pg2, names, 6, note, sizeof note);
	s = inner(q);
	assert_has(s, "md5(convert_to(\"j\"::jsonb::text, 'UTF8')) AS c4");
	assert_has(s, "md5(convert_to(\"jt\"::jsonb::text, 'UTF8')) AS c5");
	ck_assert_str_eq(note, "");
	free(q);
}
END_TEST

START_TEST(types_that_do_not_correspond)
{
	static const char *const names[] = {"a", "b"};
	static const char *const pg[] = {"integer", "date"};
	static const char *const my[] = {"varchar(10)", "datetime"};
	char note[512];
	char *q = query(&pg_dialect, pg, &mysql_dialect, my, names, 2, note, sizeof note);
	assert_has(inner(q), "CASE WHEN \"a\" IS NULL THEN NULL ELSE md5(convert_to(format('%s', "
			     "\"a\"), 'UTF8')) END AS c0");
	/* a date against a datetime: both as timestamps to the second */
	assert_has(inner(q), "to_char(\"b\"::timestamp, 'YYYY-MM-DD HH24:MI:SS') ELSE");
	ck_assert_str_eq(note, "types differ, compared as text: a");
	free(q);
	q = query(&mysql_dialect, my, &pg_dialect, pg, names, 2, note, sizeof note);
	assert_has(inner(q), "MD5(CONVERT(`a` USING utf8mb4)) AS c0");
	ck_assert_str_eq(note, "types differ, compared as text: a");
	free(q);
}
END_TEST

START_TEST(refusals_and_edges)
{
	struct fake_table a, b;
	static const char *const names[] = {"a", "b"};
	static const char *const types[] = {"integer", "integer"};
	fake(&a, 2, names, types);
	fake(&b, 1, names, types);
	struct write_spec t = {.table = "t"};
	struct buf out;
	buf_init(&out, 0);
	/* different column counts are the caller's mismatch, not a query */
	ck_assert(!verify_sql(&pg_dialect, &t, &a.desc, &pg_dialect, &b.desc, &out, NULL, 0));
	/* an unquotable name */
	static const char *const empty[] = {""};
	fake(&a, 1, empty, types);
	fake(&b, 1, empty, types);
	buf_reset(&out);
	ck_assert(!verify_sql(&pg_dialect, &t, &a.desc, &pg_dialect, &b.desc, &out, NULL, 0));
	/* a table without columns (PostgreSQL allows it) */
	fake(&a, 0, names, types);
	fake(&b, 0, names, types);
	buf_reset(&out);
	t.schema = "s";
	ck_assert(verify_sql(&pg_dialect, &t, &a.desc, &pg_dialect, &b.desc, &out, NULL, 0));
	ck_assert_str_eq(buf_str(&out),
			 "SELECT count(*)::text, COALESCE(sum(('x' || substr(md5(''), "
			 "1, 15))::bit(60)::bigint), 0)::text FROM (SELECT 1 AS c0 "
			 "FROM \"s\".\"t\") s");
	/* a note too long for its buffer is cut, not overrun */
	static const char *const fl[] = {"real", "real"};
	static const char *const long_names[] = {"a_rather_long_column_name_number_one",
						 "a_rather_long_column_name_number_two"};
	fake(&a, 2, long_names, fl);
	fake(&b, 2, long_names, fl);
	char note[40];
	memset(note, 'x', sizeof note);
	buf_reset(&out);
	ck_assert(verify_sql(&pg_dialect, &t, &a.desc, &mysql_dialect, &b.desc, &out, note,
			     sizeof note));
	ck_assert_int_eq(strlen(note), sizeof note - 1);
	/* a table others inherit from: its own rows, on PostgreSQL */
	fake(&a, 1, names, types);
	fake(&b, 1, names, types);
	t.own_rows = true;
	buf_reset(&out);
	ck_assert(verify_sql(&pg_dialect, &t, &a.desc, &mysql_dialect, &b.desc, &out, NULL, 0));
	assert_has(buf_str(&out), " FROM ONLY \"s\".\"t\") s");
	buf_reset(&out);
	ck_assert(verify_sql(&mysql_dialect, &t, &a.desc, &pg_dialect, &b.desc, &out, NULL, 0));
	assert_has(buf_str(&out), " FROM `s`.`t`) s");
	buf_free(&out);
}
END_TEST

/* What verify needs of a dialect: a new server fills these, and verify.c
 * stays as it is. Any type can at least be hashed by its text. */
START_TEST(every_dialect_has_the_verify_ops)
{
	const struct dialect *ds[] = {&pg_dialect, &mysql_dialect, &sqlite_dialect};
	for (size_t i = 0; i < sizeof ds / sizeof ds[0]; i++) {
		const struct dialect *d = ds[i];
		ck_assert_ptr_nonnull(d->canon_value);
		ck_assert_ptr_nonnull(d->checksum_query);
		struct sql_type t;
		sql_type_init(&t, d);
		struct buf b;
		buf_init(&b, 0);
		ck_assert(d->canon_value(&b, "c", &t, &(struct canon_spec){.form = CANON_HASH}));
		ck_assert_uint_gt(b.len, 0);
		const char *values[] = {buf_str(&b)};
		struct buf q;
		buf_init(&q, 0);
		ck_assert(d->checksum_query(&q, &(struct write_spec){.table = "t"}, values, 1));
		assert_has(buf_str(&q), buf_str(&b));
		buf_free(&q);
		buf_free(&b);
		sql_type_free(&t);
	}
}
END_TEST

int main(void)
{
	Suite *s = suite_create("verify");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, whole_query_pg_and_mysql);
	tcase_add_test(tc, numbers_booleans_bits);
	tcase_add_test(tc, floats_by_their_bits);
	tcase_add_test(tc, timestamps_at_the_lower_precision);
	tcase_add_test(tc, time_and_interval);
	tcase_add_test(tc, bytes_text_uuid_json);
	tcase_add_test(tc, types_that_do_not_correspond);
	tcase_add_test(tc, refusals_and_edges);
	tcase_add_test(tc, every_dialect_has_the_verify_ops);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
