/* tests/unit/test_rejects.c
 * Output files that cannot be written completely are failures, never
 * silently short ones: the rejects file (a file size limit stands in for a
 * full disk) and the summary JSON (/dev/full).
 */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "sluice/rejects.h"
#include "sluice/report.h"

static char dir[64];

static void make_dir(void)
{
	snprintf(dir, sizeof dir, "/tmp/sluice-unit.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void remove_dir(void)
{
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	ck_assert_int_eq(system(cmd), 0);
}

START_TEST(rejects_written_whole)
{
	make_dir();
	char path[128];
	snprintf(path, sizeof path, "%s/r.csv", dir);
	struct rejects *rj;
	struct sl_error err;
	ck_assert(rejects_open(&rj, path, &err));
	rejects_set_header(rj, "id,v");
	for (int i = 0; i < 1000; i++)
		rejects_add(rj, "in.csv", i + 2, "1,x,extra", 9, "wrong field count");
	ck_assert(!rejects_failed(rj, &err));
	ck_assert(rejects_flush(rj, &err));
	rejects_close(rj);
	FILE *f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	int lines = 0, c;
	while ((c = fgetc(f)) != EOF)
		lines += c == '\n';
	fclose(f);
	ck_assert_int_eq(lines, 1001);
	remove_dir();
}
END_TEST

START_TEST(rejects_on_a_full_disk_fail)
{
	make_dir();
	char path[128];
	snprintf(path, sizeof path, "%s/r.csv", dir);
	struct rejects *rj;
	struct sl_error err;
	ck_assert(rejects_open(&rj, path, &err));
	/* files may not grow past 16 KiB: writes beyond fail (EFBIG), as on a
	 * full disk (ENOSPC) */
	signal(SIGXFSZ, SIG_IGN);
	struct rlimit rl = {16384, 16384};
	ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &rl), 0);
	for (int i = 0; i < 10000; i++)
		rejects_add(rj, "in.csv", i + 2, "1,a rejected record,extra", 25,
			    "wrong field count");
	sl_error_clear(&err);
	ck_assert(rejects_failed(rj, &err));
	ck_assert_ptr_nonnull(strstr(err.msg, path));
	ck_assert_ptr_nonnull(strstr(err.msg, "incomplete"));
	ck_assert(!rejects_flush(rj, &err));
	rejects_close(rj);
	remove_dir();
}
END_TEST

START_TEST(rejects_failing_only_at_the_final_flush)
{
	make_dir();
	char path[128];
	snprintf(path, sizeof path, "%s/r.csv", dir);
	struct rejects *rj;
	struct sl_error err;
	ck_assert(rejects_open(&rj, path, &err));
	signal(SIGXFSZ, SIG_IGN);
	struct rlimit rl = {0, 0}; /* nothing may be written at all */
	ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &rl), 0);
	rejects_add(rj, "in.csv", 2, "x", 1, "bad");
	/* still in the stdio buffer: only the flush can tell */
	sl_error_clear(&err);
	ck_assert(!rejects_flush(rj, &err));
	ck_assert_ptr_nonnull(strstr(err.msg, path));
	rejects_close(rj);
	remove_dir();
}
END_TEST

START_TEST(summary_on_a_full_disk_fails)
{
	struct table_stats t = {.table = "t", .rows_read = 1, .rows_written = 1};
	struct run_report rep = {.status = RUN_OK, .tables = &t, .ntables = 1};
	struct sl_error err;
	sl_error_clear(&err);
	ck_assert(!report_write_json("/dev/full", &rep, &err));
	ck_assert_ptr_nonnull(strstr(err.msg, "/dev/full"));
	ck_assert_ptr_nonnull(strstr(err.msg, "No space left"));
	make_dir();
	char path[128];
	snprintf(path, sizeof path, "%s/s.json", dir);
	ck_assert(report_write_json(path, &rep, &err));
	remove_dir();
}
END_TEST

int main(void)
{
	Suite *s = suite_create("rejects");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, rejects_written_whole);
	tcase_add_test(tc, rejects_on_a_full_disk_fail);
	tcase_add_test(tc, rejects_failing_only_at_the_final_flush);
	tcase_add_test(tc, summary_on_a_full_disk_fails);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
