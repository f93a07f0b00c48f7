/* tests/unit/test_buf.c
 * The growable buffer: appends up to its ceiling, a failure that leaves the
 * text as it was and stays until a reset, and the sticky appends.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "sluice/buf.h"

START_TEST(ceiling)
{
	struct buf b;
	buf_init(&b, 8);
	ck_assert(buf_puts(&b, "abcd"));
	ck_assert(buf_printf(&b, "%d", 123));
	ck_assert(!buf_failed(&b));
	ck_assert(!buf_puts(&b, "xy")); /* 9 bytes: past the ceiling */
	ck_assert_str_eq(buf_str(&b), "abcd123");
	ck_assert(buf_failed(&b));
	/* sticky: even what would fit fails now */
	ck_assert(!buf_putc(&b, 'z'));
	ck_assert_str_eq(buf_str(&b), "abcd123");
	buf_reset(&b);
	ck_assert(!buf_failed(&b));
	ck_assert(buf_puts(&b, "12345678"));
	ck_assert_str_eq(buf_str(&b), "12345678");
	buf_free(&b);
}
END_TEST

START_TEST(sticky_appends)
{
	struct buf b;
	buf_init(&b, 10);
	buf_cat(&b, "ab");
	buf_catc(&b, 'c');
	buf_catn(&b, "de", 2);
	buf_catf(&b, "%s", "fg");
	ck_assert(!buf_failed(&b));
	ck_assert_str_eq(buf_str(&b), "abcdefg");
	buf_catf(&b, "%s", "hijk");
	buf_cat(&b, "h");
	ck_assert(buf_failed(&b));
	ck_assert_str_eq(buf_str(&b), "abcdefg");
	buf_free(&b);
	ck_assert(!buf_failed(&b));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("buf");
	TCase *tc = tcase_create("buf");
	tcase_add_test(tc, ceiling);
	tcase_add_test(tc, sticky_appends);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
