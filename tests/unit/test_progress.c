/* tests/unit/test_progress.c
 * The terminal progress line: it fits every width (one column to spare),
 * drops the least useful pieces first as the terminal narrows, has a bar
 * when there is room, and keeps the stall note within the width.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sluice/report.h"

static const struct progress_fields running = {
	.table = "customers_with_a_rather_long_name",
	.fraction = 0.452,
	.rows = 1234567,
	.rejected = 3,
	.mb = 123.4,
	.rate = 45678,
	.elapsed = 72,
	.eta = 95,
	.pool_busy = 2,
	.pool_total = 4,
};

START_TEST(fits_every_width)
{
	char line[1024];
	struct progress_fields stalled = running;
	stalled.stall = "stalled 45 s, waiting on postgresql://app@db1.example.com:5432/shop";
	const struct progress_fields *cases[] = {&running, &stalled};
	for (int c = 0; c < 2; c++) {
		for (int w = 1; w <= 300; w++) {
			progress_format_line(line, sizeof line, w, cases[c]);
			ck_assert_msg((int)strlen(line) <= (w > 1 ? w - 1 : 1),
				      "width %d: %zu columns: %s", w, strlen(line), line);
			ck_assert(!strchr(line, '\n') && !strchr(line, '\r'));
		}
	}
}
END_TEST

START_TEST(narrow_keeps_what_matters)
{
	char line[1024];
	/* 80 columns: a bar, the percent, rows, rejects, rate, elapsed, ETA */
	progress_format_line(line, sizeof line, 80, &running);
	ck_assert_msg(strchr(line, '[') && strstr(line, "45%") && strstr(line, "1235k rows") &&
			      strstr(line, "3 rejected") && strstr(line, "rows/s") &&
			      strstr(line, "1:12") && strstr(line, "ETA 1:35"),
		      "%s", line);
	/* 200 columns: everything, and a wide bar */
	progress_format_line(line, sizeof line, 200, &running);
	ck_assert_msg(strstr(line, "customers_with_a_rather_long_name") &&
			      strstr(line, "pool 2/4") && strstr(line, "123.4 MB") &&
			      strstr(line, "[=========="),
		      "%s", line);
	/* 30 columns: the rows and the percent still */
	progress_format_line(line, sizeof line, 30, &running);
	ck_assert_msg(strstr(line, "1235k rows") && strstr(line, "45%"), "%s", line);
	/* the bar grows with the room */
	char wide[1024];
	progress_format_line(wide, sizeof wide, 160, &running);
	ck_assert_int_gt(strchr(wide, ']') - strchr(wide, '['),
			 strchr(line, ']') - strchr(line, '['));
}
END_TEST

START_TEST(stall_note_within_width)
{
	char line[1024];
	struct progress_fields f = running;
	f.stall = "stalled 45 s, waiting on postgresql://app@db1.example.com:5432/shop";
	progress_format_line(line, sizeof line, 80, &f);
	ck_assert_msg(strstr(line, "stalled 45 s") && strlen(line) <= 79, "%s", line);
	ck_assert(!strstr(line, "rows/s")); /* no rate while nothing moves */
	progress_format_line(line, sizeof line, 200, &f);
	ck_assert_msg(strstr(line, f.stall), "%s", line);
}
END_TEST

START_TEST(unknown_size_has_no_bar)
{
	char line[1024];
	struct progress_fields f = running;
	f.fraction = -1;
	f.eta = -1;
	progress_format_line(line, sizeof line, 200, &f);
	ck_assert_msg(!strchr(line, '[') && !strstr(line, "ETA") && !strchr(line, '%'), "%s", line);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("progress");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, fits_every_width);
	tcase_add_test(tc, narrow_keeps_what_matters);
	tcase_add_test(tc, stall_note_within_width);
	tcase_add_test(tc, unknown_size_has_no_bar);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
