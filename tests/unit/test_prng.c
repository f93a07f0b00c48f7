/* tests/unit/test_prng.c
 * The per-thread generator: values in range, and threads started at once
 * draw different numbers from generators of their own.
 */
#include <check.h>
#include <pthread.h>
#include <stdlib.h>

#include "sluice/prng.h"

START_TEST(ranges)
{
	unsigned seen[7] = {0};
	for (int i = 0; i < 7000; i++) {
		unsigned v = prng_below(7);
		ck_assert_uint_lt(v, 7);
		seen[v]++;
		double u = prng_unit();
		ck_assert(u >= 0 && u < 1);
	}
	for (int i = 0; i < 7; i++)
		ck_assert_msg(seen[i] > 700, "%d drawn %u times of 7000", i, seen[i]);
	ck_assert_uint_eq(prng_below(0), 0);
}
END_TEST

static void *draw(void *arg)
{
	uint64_t *out = arg;
	for (int i = 0; i < 4; i++)
		out[i] = prng_next();
	return NULL;
}

START_TEST(threads_differ)
{
	uint64_t a[4], b[4];
	pthread_t ta, tb;
	ck_assert_int_eq(pthread_create(&ta, NULL, draw, a), 0);
	ck_assert_int_eq(pthread_create(&tb, NULL, draw, b), 0);
	pthread_join(ta, NULL);
	pthread_join(tb, NULL);
	int same = 0;
	for (int i = 0; i < 4; i++)
		same += a[i] == b[i];
	ck_assert_int_eq(same, 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("prng");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, ranges);
	tcase_add_test(tc, threads_differ);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
