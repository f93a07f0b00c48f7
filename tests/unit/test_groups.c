/* tests/unit/test_groups.c
 * --group-by's reader bookkeeping: same group, new group, a group that
 * comes back after others (the line it began on), NULL as a value of its own.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sluice/pipeline.h"

static struct cell text(const char *s)
{
	return (struct cell){s, strlen(s)};
}

START_TEST(adjacent_and_broken)
{
	struct group_state *g;
	ck_assert(groups_open(&g));
	long began = 0;
	struct cell t1 = text("T1"), t2 = text("T2"), null = {NULL, 0};
	ck_assert_int_eq(groups_next(g, &t1, 2, &began), GROUP_NEW);
	ck_assert_int_eq(groups_next(g, &t1, 3, &began), GROUP_SAME);
	ck_assert_int_eq(groups_rows(g), 2);
	ck_assert_int_eq(groups_next(g, &t2, 4, &began), GROUP_NEW);
	ck_assert_int_eq(groups_rows(g), 1);
	ck_assert_int_eq(groups_next(g, &null, 5, &began), GROUP_NEW);
	ck_assert_int_eq(groups_next(g, &null, 6, &began), GROUP_SAME);
	/* T1 closed at line 4: coming back is the input's error */
	ck_assert_int_eq(groups_next(g, &t1, 7, &began), GROUP_BROKEN);
	ck_assert_int_eq(began, 2);
	groups_free(g);
}
END_TEST

START_TEST(many_groups_and_rejects)
{
	struct group_state *g;
	ck_assert(groups_open(&g));
	long began = 0;
	char v[32];
	for (int i = 0; i < 5000; i++) {
		snprintf(v, sizeof v, "g%d", i);
		struct cell c = text(v);
		ck_assert_int_eq(groups_next(g, &c, i + 2, &began), GROUP_NEW);
	}
	ck_assert(!groups_rejecting(g));
	groups_reject(g, "too big");
	ck_assert(groups_rejecting(g));
	ck_assert_str_eq(groups_why(g), "too big");
	struct cell c = text("g1234");
	ck_assert_int_eq(groups_next(g, &c, 9999, &began), GROUP_BROKEN);
	ck_assert_int_eq(began, 1236);
	c = text("new");
	ck_assert_int_eq(groups_next(g, &c, 10000, &began), GROUP_NEW);
	ck_assert(!groups_rejecting(g)); /* a new group starts clean */
	groups_free(g);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("groups");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, adjacent_and_broken);
	tcase_add_test(tc, many_groups_and_rejects);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
