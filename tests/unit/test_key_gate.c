/* tests/unit/test_key_gate.c
 * The key gate: a batch waits only for earlier batches that share a key
 * with it and are not done; a stop wakes a waiting writer.
 */
#include <check.h>
#include <stdint.h>

#include "sluice/key_gate.h"

static bool stop_now(void *arg)
{
	(void)arg;
	return true;
}

START_TEST(waits_only_for_shared_keys)
{
	struct key_gate *g;
	ck_assert(key_gate_open(&g, 4));
	uint64_t k1[] = {1, 2}, k2[] = {3}, k3[] = {2, 9};
	ck_assert(key_gate_enter(g, 1, k1, 2));
	ck_assert(key_gate_enter(g, 2, k2, 1));
	ck_assert(key_gate_enter(g, 3, k3, 2));
	ck_assert(key_gate_wait(g, 1, stop_now, NULL));
	/* no key in common with batch 1: starts at once */
	ck_assert(key_gate_wait(g, 2, stop_now, NULL));
	/* key 2 is batch 1's, not done: waits (until the stop) */
	ck_assert(!key_gate_wait(g, 3, stop_now, NULL));
	key_gate_done(g, 1);
	ck_assert(key_gate_wait(g, 3, stop_now, NULL));
	struct key_gate_stats st;
	key_gate_stats(g, &st);
	ck_assert_int_eq(st.batches, 3);
	ck_assert_int_eq(st.most_at_once, 2);
	key_gate_done(g, 2);
	key_gate_done(g, 3);
	/* a full gate refuses one more batch */
	for (long s = 4; s < 8; s++)
		ck_assert(key_gate_enter(g, s, k2, 1));
	ck_assert(!key_gate_enter(g, 8, k2, 1));
	key_gate_free(g);
}
END_TEST

START_TEST(many_keys_stay_bounded)
{
	struct key_gate *g;
	ck_assert(key_gate_open(&g, 2));
	static uint64_t keys[20000];
	for (long s = 1; s <= 50; s++) {
		for (size_t i = 0; i < 20000; i++)
			keys[i] = (uint64_t)s * 1000003u + i;
		ck_assert(key_gate_enter(g, s, keys, 20000));
		ck_assert(key_gate_wait(g, s, stop_now, NULL));
		key_gate_done(g, s);
	}
	key_gate_free(g);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("key_gate");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, waits_only_for_shared_keys);
	tcase_add_test(tc, many_keys_stay_bounded);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
