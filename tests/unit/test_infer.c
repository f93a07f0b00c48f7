/* tests/unit/test_infer.c
 * --create: type inference on realistic columns, and the CREATE TABLE text
 * for PostgreSQL and MySQL.
 */
#include <check.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sluice/create.h"
#include "sluice/driver.h"
#include "sluice/pipeline.h"

#define NUL NULL

/* A batch of nrows rows of ncols values given row by row (NULL is SQL NULL). */
static void fill_batch(struct batch *b, int ncols, size_t nrows, const char *const *values)
{
	ck_assert(batch_init(b, ncols, nrows ? nrows : 1));
	struct cell *cells = calloc((size_t)ncols, sizeof *cells);
	for (size_t r = 0; r < nrows; r++) {
		for (int c = 0; c < ncols; c++) {
			const char *v = values[r * (size_t)ncols + (size_t)c];
			cells[c].ptr = v;
			cells[c].len = v ? strlen(v) : 0;
		}
		struct record rec = {
			.nfields = (size_t)ncols, .fields = cells, .line = (long)r + 2};
		ck_assert(batch_add_row(b, &rec, 0, false));
	}
	free(cells);
}

/* Infer a one-column batch. */
static enum col_type infer_one(size_t n, ...)
{
	const char **vals = calloc(n ? n : 1, sizeof *vals);
	va_list ap;
	va_start(ap, n);
	for (size_t i = 0; i < n; i++)
		vals[i] = va_arg(ap, const char *);
	va_end(ap);
	struct batch b;
	fill_batch(&b, 1, n, vals);
	enum col_type t;
	infer_types(&b, &t);
	batch_free(&b);
	free(vals);
	return t;
}

START_TEST(realistic_orders_file)
{
	/* id, customer, amount, ordered, shipped_at, paid, note, code, meta, big */
	static const char *const rows[] = {
		"1",
		"Zoë Ågren",
		"12.50",
		"2024-01-15",
		"2024-01-15T10:00:00Z",
		"true",
		NUL,
		"007",
		"{\"gift\": true}",
		"18446744073709551615",
		"2",
		"Bob",
		"3.00",
		"2024-02-29",
		"2024-02-29 23:59:59.123456+02:00",
		"false",
		"",
		"012",
		"[1, 2]",
		"1",
		"3",
		"O'Brien, Pat",
		"1000",
		"2023-12-31",
		"2023-12-31T08:30:00",
		"TRUE",
		NUL,
		"100",
		NUL,
		"-9223372036854775808",
		"4",
		"",
		"-0.99",
		NUL,
		NUL,
		NUL,
		"call before delivery",
		NUL,
		"{}",
		"42",
		"-5",
		"x",
		"1e3",
		"2024-03-01",
		"2024-03-01",
		"No",
		NUL,
		"7",
		"[]",
		"0",
	};
	struct batch b;
	fill_batch(&b, 10, 5, rows);
	enum col_type t[10];
	infer_types(&b, t);
	ck_assert_int_eq(t[0], TYPE_BIGINT);
	ck_assert_int_eq(t[1], TYPE_TEXT);
	ck_assert_int_eq(t[2], TYPE_NUMERIC); /* money amounts and integers mixed */
	ck_assert_int_eq(t[3], TYPE_DATE);
	ck_assert_int_eq(t[4], TYPE_TIMESTAMP); /* date-times with zones, and one date */
	ck_assert_int_eq(t[5], TYPE_BOOLEAN);
	ck_assert_int_eq(t[6], TYPE_TEXT); /* mostly empty, one text */
	ck_assert_int_eq(t[7], TYPE_TEXT); /* leading zeros must survive */
	ck_assert_int_eq(t[8], TYPE_JSON);
	ck_assert_int_eq(t[9], TYPE_NUMERIC); /* too large for bigint */
	batch_free(&b);
}
END_TEST

START_TEST(single_columns)
{
	/* nothing but NULLs and empty strings: text */
	ck_assert_int_eq(infer_one(3, NUL, "", NUL), TYPE_TEXT);
	ck_assert_int_eq(infer_one(0), TYPE_TEXT);
	/* mostly empty, the rest say bigint */
	ck_assert_int_eq(infer_one(6, NUL, "", "", NUL, "42", ""), TYPE_BIGINT);
	ck_assert_int_eq(infer_one(2, "9223372036854775807", "-9223372036854775808"), TYPE_BIGINT);
	ck_assert_int_eq(infer_one(1, "9223372036854775808"), TYPE_NUMERIC);
	ck_assert_int_eq(infer_one(1, "-9223372036854775809"), TYPE_NUMERIC);
	ck_assert_int_eq(infer_one(3, "12.50", "0.1", "12345678901234.123456"), TYPE_NUMERIC);
	ck_assert_int_eq(infer_one(2, "1", "2.5"), TYPE_NUMERIC);
	/* 0/1 alone are integers; with words they are booleans */
	ck_assert_int_eq(infer_one(3, "0", "1", "1"), TYPE_BIGINT);
	ck_assert_int_eq(infer_one(4, "yes", "NO", "t", "F"), TYPE_BOOLEAN);
	ck_assert_int_eq(infer_one(3, "true", "0", "1"), TYPE_BOOLEAN);
	ck_assert_int_eq(infer_one(2, "true", "2"), TYPE_TEXT);
	ck_assert_int_eq(infer_one(2, "y", "n"), TYPE_TEXT);
	/* dates and date-times */
	ck_assert_int_eq(infer_one(2, "2024-01-31", "1999-12-31"), TYPE_DATE);
	ck_assert_int_eq(infer_one(1, "2023-02-29"), TYPE_TEXT); /* no such day */
	ck_assert_int_eq(infer_one(1, "2024-1-31"), TYPE_TEXT);
	ck_assert_int_eq(infer_one(3, "2024-01-31T12:00:00.5Z", "2024-01-31 12:00",
				   "2024-01-31T12:00:00-05:30"),
			 TYPE_TIMESTAMP);
	ck_assert_int_eq(infer_one(2, "2024-01-31T25:00:00", "2024-01-31"), TYPE_TEXT);
	ck_assert_int_eq(infer_one(2, "2024-01-31", "soon"), TYPE_TEXT);
	/* JSON only when valid */
	ck_assert_int_eq(infer_one(2, "{\"a\": [1, {\"b\": null}]}", "[\"x\"]"), TYPE_JSON);
	ck_assert_int_eq(infer_one(2, "{\"a\": 1}", "{oops"), TYPE_TEXT);
	ck_assert_int_eq(infer_one(1, "[1] [2]"), TYPE_TEXT);
	/* values that would change if loaded as numbers stay text */
	ck_assert_int_eq(infer_one(1, "+5"), TYPE_TEXT);
	ck_assert_int_eq(infer_one(1, " 5"), TYPE_TEXT);
	ck_assert_int_eq(infer_one(1, "05"), TYPE_TEXT);
	ck_assert_int_eq(infer_one(1, "00.5"), TYPE_TEXT);
	ck_assert_int_eq(infer_one(1, "0.5"), TYPE_NUMERIC);
	ck_assert_int_eq(infer_one(1, "-0"), TYPE_BIGINT);
	ck_assert_int_eq(infer_one(1, "1."), TYPE_TEXT);
	ck_assert_int_eq(infer_one(1, ".5"), TYPE_TEXT);
	ck_assert_int_eq(infer_one(1, "NaN"), TYPE_TEXT);
	ck_assert_int_eq(infer_one(1, "1,000"), TYPE_TEXT);
	ck_assert_int_eq(infer_one(2, "12", "abc"), TYPE_TEXT);
}
END_TEST

START_TEST(mongo_values)
{
	/* what the JSON reader makes of Extended JSON wrappers */
	ck_assert_int_eq(infer_one(3, "2024-02-29T12:34:56.789Z", "1960-01-01T00:00:00.000Z",
				   "0001-01-01T00:00:00.000Z"),
			 TYPE_TIMESTAMP); /* $date, $timestamp */
	ck_assert_int_eq(infer_one(2, "1970-01-01T00:00:00.000Z", "10000-01-01T00:00:00.000Z"),
			 TYPE_TEXT); /* past 9999 */
	ck_assert_int_eq(infer_one(2, "0001-12-31T23:59:59.999Z BC", "2024-01-01T00:00:00.000Z"),
			 TYPE_TEXT);
	ck_assert_int_eq(infer_one(3, "-9223372036854775808", "5", "2147483647"),
			 TYPE_BIGINT); /* $numberLong, $numberInt */
	ck_assert_int_eq(infer_one(3, "1.234567890123456789012345678901234", "1E-34", "-0"),
			 TYPE_NUMERIC);						/* $numberDecimal */
	ck_assert_int_eq(infer_one(3, "1.5", "1e+300", "-0.25"), TYPE_NUMERIC); /* $numberDouble */
	/* no number type holds NaN and Infinity on both servers: text */
	ck_assert_int_eq(infer_one(2, "1.5", "NaN"), TYPE_TEXT);
	ck_assert_int_eq(infer_one(2, "1.5", "-Infinity"), TYPE_TEXT);
	/* $oid text; $uuid a uuid; $binary bytes (bytea / longblob) */
	ck_assert_int_eq(infer_one(2, "65d0a1b2c3d4e5f600000001", "65d0a1b2c3d4e5f600000002"),
			 TYPE_TEXT);
	ck_assert_int_eq(infer_one(1, "0f8fad5b-d9cb-469f-a165-70867728950e"), TYPE_UUID);
	/* an uppercase uuid would come back lowercased: text */
	ck_assert_int_eq(infer_one(1, "0F8FAD5B-D9CB-469F-A165-70867728950E"), TYPE_TEXT);
	ck_assert_int_eq(infer_one(2, "\\x000102feff00", "\\x"), TYPE_BYTES);
	ck_assert_int_eq(infer_one(2, "\\x0g", "\\x00"), TYPE_TEXT);
	/* a field whose type changes from document to document */
	ck_assert_int_eq(infer_one(3, "5", "five", "{\"a\":5}"), TYPE_TEXT);
	ck_assert_int_eq(infer_one(2, "5", "{\"a\":5}"), TYPE_TEXT);
	ck_assert_int_eq(infer_one(2, "[1,2]", "{\"a\":\"2024-01-01T00:00:00.000Z\"}"), TYPE_JSON);
}
END_TEST

static const enum col_type all_types[] = {TYPE_BIGINT,	  TYPE_NUMERIC, TYPE_BOOLEAN, TYPE_DATE,
					  TYPE_TIMESTAMP, TYPE_JSON,	TYPE_TEXT};
static char *const odd_columns[] = {"id", "Amount €", "paid?", "day", "at", "meta\"x", "te`xt"};

/* A later value is held to the type its column was inferred as, by the
 * same rules: one the column would store as another value does not fit. */
START_TEST(later_values_fit_the_inferred_type)
{
	static const struct {
		enum col_type t;
		const char *v;
		bool fits;
	} cases[] = {
		{TYPE_BIGINT, "10001", true},
		{TYPE_BIGINT, "00501", false},
		{TYPE_BIGINT, "+7", false},
		{TYPE_BIGINT, "-0", true}, /* the number 0, as -0 is */
		{TYPE_BIGINT, "00", false},
		{TYPE_BIGINT, "9223372036854775808", false},
		{TYPE_BIGINT, "1.0", false},
		{TYPE_NUMERIC, "1.50", true},
		{TYPE_NUMERIC, "1e3", true},
		{TYPE_NUMERIC, "007.5", false},
		{TYPE_BOOLEAN, "yes", true},
		{TYPE_BOOLEAN, "1", true},
		{TYPE_BOOLEAN, "tr", false},
		{TYPE_DATE, "2024-02-29", true},
		{TYPE_DATE, "05/06/2024", false},
		{TYPE_DATE, "2024-01-09T10:00:00", false},
		{TYPE_TIMESTAMP, "2024-01-09T10:00:00+05:00", true},
		{TYPE_TIMESTAMP, "2024-01-09", true},
		{TYPE_TIMESTAMP, "now", false},
		{TYPE_JSON, "{\"a\": 1}", true},
		{TYPE_JSON, "plain", false},
		{TYPE_UUID, "123e4567-e89b-12d3-a456-426614174000", true},
		{TYPE_UUID, "123E4567-E89B-12D3-A456-426614174000", false},
		{TYPE_BYTES, "\\xdeadbeef", true},
		{TYPE_BYTES, "deadbeef", false},
		{TYPE_TEXT, "anything", true},
		{TYPE_BIGINT, "", true}, /* an empty value says nothing */
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		ck_assert_msg(infer_value_fits(cases[i].t, cases[i].v, strlen(cases[i].v)) ==
				      cases[i].fits,
			      "%s as %s: expected %s", cases[i].v, infer_type_words(cases[i].t),
			      cases[i].fits ? "fits" : "does not fit");
}
END_TEST

START_TEST(ddl_postgresql)
{
	struct write_spec spec = {.schema = "my schema",
				  .table = "Orders \"2024\"",
				  .columns = odd_columns,
				  .ncols = 7};
	struct buf b;
	buf_init(&b, 0);
	ck_assert(sql_create_table(&pg_dialect, &b, &spec, all_types));
	ck_assert_str_eq(buf_str(&b), "CREATE TABLE \"my schema\".\"Orders \"\"2024\"\"\" (\n"
				      "    \"id\" bigint,\n"
				      "    \"Amount €\" numeric,\n"
				      "    \"paid?\" boolean,\n"
				      "    \"day\" date,\n"
				      "    \"at\" timestamptz,\n"
				      "    \"meta\"\"x\" jsonb,\n"
				      "    \"te`xt\" text\n"
				      ")");
	buf_free(&b);
}
END_TEST

START_TEST(ddl_mysql)
{
	struct write_spec spec = {.table = "orders", .columns = odd_columns, .ncols = 7};
	struct buf b;
	buf_init(&b, 0);
	ck_assert(sql_create_table(&mysql_dialect, &b, &spec, all_types));
	ck_assert_str_eq(buf_str(&b), "CREATE TABLE `orders` (\n"
				      "    `id` bigint,\n"
				      "    `Amount €` decimal(65,30),\n"
				      "    `paid?` tinyint(1),\n"
				      "    `day` date,\n"
				      "    `at` datetime(6),\n"
				      "    `meta\"x` json,\n"
				      "    `te``xt` longtext\n"
				      ") DEFAULT CHARSET=utf8mb4");
	buf_free(&b);

	/* a name that cannot be quoted fails */
	char *const empty[] = {""};
	struct write_spec bad = {.table = "t", .columns = empty, .ncols = 1};
	enum col_type t = TYPE_TEXT;
	buf_init(&b, 0);
	ck_assert(!sql_create_table(&mysql_dialect, &b, &bad, &t));
	buf_free(&b);
}
END_TEST

START_TEST(ddl_with_key)
{
	/* --create --key: the key is the primary key; on MySQL a text key is a
	 * varchar with a binary collation (a longtext cannot be indexed, and
	 * "A" and "a" must stay two keys) */
	char *const cols[] = {"Code", "region", "n"};
	char *const key[] = {"region", "Code"};
	enum col_type types[] = {TYPE_TEXT, TYPE_BIGINT, TYPE_NUMERIC};
	struct write_spec spec = {.table = "t", .columns = cols, .ncols = 3, .key = key, .nkey = 2};
	struct buf b;
	buf_init(&b, 0);
	ck_assert(sql_create_table(&mysql_dialect, &b, &spec, types));
	ck_assert_str_eq(buf_str(&b), "CREATE TABLE `t` (\n"
				      "    `Code` varchar(255) COLLATE utf8mb4_bin,\n"
				      "    `region` bigint,\n"
				      "    `n` decimal(65,30),\n"
				      "    PRIMARY KEY (`region`, `Code`)\n"
				      ") DEFAULT CHARSET=utf8mb4");
	buf_reset(&b);
	ck_assert(sql_create_table(&pg_dialect, &b, &spec, types));
	ck_assert_str_eq(buf_str(&b), "CREATE TABLE \"t\" (\n"
				      "    \"Code\" text,\n"
				      "    \"region\" bigint,\n"
				      "    \"n\" numeric,\n"
				      "    PRIMARY KEY (\"region\", \"Code\")\n"
				      ")");
	buf_free(&b);
}
END_TEST

START_TEST(dry_run_without_connection_prints_ddl)
{
	static const char *const rows[] = {"1", "2024-05-01", "9.99", NUL,
					   "2", "2024-05-02", "10",   "x"};
	char *const cols[] = {"id", "day", "price", "note"};
	struct write_spec spec = {.table = "items", .columns = cols, .ncols = 4};
	struct batch b;
	fill_batch(&b, 4, 2, rows);

	char out[] = "/tmp/sluice-infer-XXXXXX";
	int fd = mkstemp(out);
	ck_assert_int_ge(fd, 0);
	fflush(stdout);
	int saved = dup(STDOUT_FILENO);
	dup2(fd, STDOUT_FILENO);
	bool created = false;
	struct sl_error err;
	sl_error_clear(&err);
	bool ok = create_table_from_sample(&pg_driver, NULL, &spec, &b, true, &created, &err);
	fflush(stdout);
	dup2(saved, STDOUT_FILENO);
	close(saved);
	ck_assert_msg(ok, "%s", err.msg);
	ck_assert(created);

	char text[512] = "";
	ssize_t n = pread(fd, text, sizeof text - 1, 0);
	ck_assert_int_gt(n, 0);
	text[n] = '\0';
	close(fd);
	unlink(out);
	ck_assert_str_eq(text, "CREATE TABLE \"items\" (\n"
			       "    \"id\" bigint,\n"
			       "    \"day\" date,\n"
			       "    \"price\" numeric,\n"
			       "    \"note\" text\n"
			       ");\n");

	/* without a connection and not a dry run: an error, nothing printed */
	ck_assert(!create_table_from_sample(&pg_driver, NULL, &spec, &b, false, &created, &err));
	ck_assert(!created);
	batch_free(&b);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("infer");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, realistic_orders_file);
	tcase_add_test(tc, single_columns);
	tcase_add_test(tc, mongo_values);
	tcase_add_test(tc, later_values_fit_the_inferred_type);
	tcase_add_test(tc, ddl_postgresql);
	tcase_add_test(tc, ddl_mysql);
	tcase_add_test(tc, ddl_with_key);
	tcase_add_test(tc, dry_run_without_connection_prints_ddl);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
