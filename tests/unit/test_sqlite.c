/* tests/unit/test_sqlite.c
 * The SQLite driver's verify functions (sluice_canon, sluice_md5,
 * sluice_checksum) on a real in-memory database: each canonical form gives
 * the text canon.h defines, the same bytes PostgreSQL and MySQL give for
 * the same value, whatever class the value is stored as.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sluice/driver.h"

static struct conn *open_memory(void)
{
	struct conn *c;
	struct sl_error err;
	sl_error_clear(&err);
	ck_assert_msg(sqlite_driver.conn.connect("sqlite::memory:", NULL, &c, &err), "%s", err.msg);
	ck_assert_ptr_eq(conn_driver(c), &sqlite_driver); /* a connection knows its driver */
	return c;
}

/* The one value sql returns, as text ("NULL" for NULL). */
static char *value(struct conn *c, const char *sql)
{
	char *v = NULL;
	struct sl_error err;
	sl_error_clear(&err);
	ck_assert_msg(sqlite_driver.conn.query_row(c, sql, &v, 1, &err), "%s: %s", sql, err.msg);
	return v ? v : strdup("NULL");
}

static void is(struct conn *c, const char *sql, const char *want)
{
	char *v = value(c, sql);
	ck_assert_msg(!strcmp(v, want), "%s: %s, not %s", sql, v, want);
	free(v);
}

/* sluice_canon(x, form, prec, bits, lower, kind) for x given as SQL. */
static void canon(struct conn *c, const char *x, enum canon_form form, int prec, int bits,
		  enum sql_kind kind, const char *want)
{
	char sql[512];
	snprintf(sql, sizeof sql, "SELECT sluice_canon(%s, %d, %d, %d, 0, %d)", x, (int)form, prec,
		 bits, (int)kind);
	is(c, sql, want);
}

START_TEST(md5_vectors)
{
	struct conn *c = open_memory();
	/* RFC 1321, appendix A.5 */
	is(c, "SELECT sluice_md5('')", "d41d8cd98f00b204e9800998ecf8427e");
	is(c, "SELECT sluice_md5('abc')", "900150983cd24fb0d6963f7d28e17f72");
	is(c,
	   "SELECT sluice_md5('12345678901234567890123456789012345678901234567890123456789012345678"
	   "901234567890')",
	   "57edf4a22be3c955ac49da2e2107b67a");
	is(c, "SELECT sluice_md5(x'00ff')", "d07d34efac6328007ad67c7e0a985e00");
	sqlite_driver.conn.close(c);
}
END_TEST

START_TEST(numbers_and_floats)
{
	struct conn *c = open_memory();
	canon(c, "9223372036854775807", CANON_NUM, 0, 0, SQL_INT, "9223372036854775807");
	canon(c, "'1.500'", CANON_NUM, 0, 0, SQL_DECIMAL, "1.5");
	canon(c, "'2.00'", CANON_NUM, 0, 0, SQL_DECIMAL, "2");
	canon(c, "1e20", CANON_NUM, 0, 0, SQL_DECIMAL, "100000000000000000000");
	canon(c, "0.1", CANON_NUM, 0, 0, SQL_DECIMAL, "0.1");
	canon(c, "-1.25e-3", CANON_NUM, 0, 0, SQL_DECIMAL, "-0.00125");
	canon(c, "'00101'", CANON_NUM, 0, 0, SQL_BIT, "00101");
	canon(c, "0.1", CANON_FLOAT, 0, 53, SQL_FLOAT, "3fb999999999999a");
	canon(c, "0.1", CANON_FLOAT, 0, 24, SQL_FLOAT, "3dcccccd");
	canon(c, "-0.0", CANON_FLOAT, 0, 53, SQL_FLOAT, "0000000000000000");
	canon(c, "1", CANON_FLOAT, 0, 53, SQL_INT, "3ff0000000000000");
	canon(c, "1e300", CANON_FLOAT, 0, 24, SQL_FLOAT, "7f800000");
	canon(c, "NULL", CANON_NUM, 0, 0, SQL_INT, "NULL");
	sqlite_driver.conn.close(c);
}
END_TEST

START_TEST(times_by_storage_class)
{
	struct conn *c = open_memory();
	/* text, unix epoch seconds, a Julian day: one instant */
	canon(c, "'2023-11-14 22:13:20'", CANON_TS, 3, 0, SQL_DATETIME, "2023-11-14 22:13:20.000");
	canon(c, "1700000000", CANON_TS, 3, 0, SQL_DATETIME, "2023-11-14 22:13:20.000");
	canon(c, "2460263.425925926", CANON_TS, 0, 0, SQL_DATETIME, "2023-11-14 22:13:20");
	/* a REAL outside the Julian days of years 0 to 9999: epoch seconds */
	canon(c, "1700000000.25", CANON_TS, 2, 0, SQL_DATETIME, "2023-11-14 22:13:20.25");
	canon(c, "'2024-01-02T03:04:05.123456Z'", CANON_TS, 6, 0, SQL_DATETIME,
	      "2024-01-02 03:04:05.123456");
	canon(c, "'2024-01-02 03:04:05.987'", CANON_TS, 2, 0, SQL_DATETIME,
	      "2024-01-02 03:04:05.98");
	canon(c, "'2024-02-29'", CANON_TS, 0, 0, SQL_DATE, "2024-02-29 00:00:00");
	canon(c, "'2024-02-29'", CANON_DATE, 0, 0, SQL_DATE, "2024-02-29");
	canon(c, "'-838:59:59'", CANON_TIME, 0, 0, SQL_TEXT, "-3020399");
	canon(c, "'12:34:56.5'", CANON_TIME, 1, 0, SQL_TIME, "452965");
	/* hashed as copy reads it: the epoch as its UTC text */
	char want[64], *v = value(c, "SELECT sluice_md5('2023-11-14 22:13:20')");
	snprintf(want, sizeof want, "%s", v);
	free(v);
	canon(c, "1700000000", CANON_HASH, 0, 0, SQL_DATETIME, want);
	sqlite_driver.conn.close(c);
}
END_TEST

START_TEST(checksums)
{
	struct conn *c = open_memory();
	struct sl_error err;
	sl_error_clear(&err);
	ck_assert(sqlite_driver.conn.exec(c, "CREATE TABLE t (a TEXT); INSERT INTO t VALUES ('x')",
					  &err));
	is(c, "SELECT sluice_checksum(a) FROM t WHERE 0", "0");
	/* md5('1:x') = 9f4c6e15..., its first 15 hex digits as a number */
	char *h = value(c, "SELECT sluice_md5('1:x')");
	char first[16];
	snprintf(first, sizeof first, "%.15s", h);
	char want[32];
	snprintf(want, sizeof want, "%llu", strtoull(first, NULL, 16));
	free(h);
	is(c, "SELECT sluice_checksum(a) FROM t", want);
	/* NULL is N; a row of no values hashes '' */
	h = value(c, "SELECT sluice_md5('N')");
	snprintf(first, sizeof first, "%.15s", h);
	snprintf(want, sizeof want, "%llu", strtoull(first, NULL, 16));
	free(h);
	is(c, "SELECT sluice_checksum(NULL) FROM t", want);
	snprintf(want, sizeof want, "%llu", strtoull("d41d8cd98f00b20", NULL, 16));
	is(c, "SELECT sluice_checksum() FROM t", want);
	sqlite_driver.conn.close(c);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("sqlite");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, md5_vectors);
	tcase_add_test(tc, numbers_and_floats);
	tcase_add_test(tc, times_by_storage_class);
	tcase_add_test(tc, checksums);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
