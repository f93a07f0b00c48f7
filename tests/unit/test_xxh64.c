/* tests/unit/test_xxh64.c
 * XXH64 against the values of the reference implementation (libxxhash
 * 0.8.1, seed 0), whole and fed in every split, across the lengths where
 * its stripes of 32 bytes and its tail of 8, 4 and 1 begin and end.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "sluice/xxh64.h"

static uint64_t whole(const void *p, size_t n)
{
	struct xxh64 s;
	xxh64_init(&s);
	xxh64_update(&s, p, n);
	return xxh64_digest(&s);
}

START_TEST(reference_values)
{
	ck_assert_uint_eq(whole("", 0), 0xef46db3751d8e999ULL);
	ck_assert_uint_eq(whole("a", 1), 0xd24ec4f1a98c6e5bULL);
	ck_assert_uint_eq(whole("abc", 3), 0x44bc2cf5ad770999ULL);
	const char *s = "Nobody inspects the spammish repetition";
	ck_assert_uint_eq(whole(s, strlen(s)), 0xfbcea83c8a378bf1ULL);
	unsigned char b[1000];
	for (int i = 0; i < 1000; i++)
		b[i] = (unsigned char)(i * 7 + 3);
	static const struct {
		size_t n;
		uint64_t h;
	} want[] = {{31, 0xa2aa5f33cc4a6119ULL},  {32, 0x23c3c17ef790fd97ULL},
		    {33, 0x50a7cfc7ba588784ULL},  {63, 0x5e3e54b431c7493cULL},
		    {64, 0x0eb64b3ef6eeb01fULL},  {100, 0xa61f8d4c170fe531ULL},
		    {1000, 0x5f235fa033f1a3fbULL}};
	for (size_t k = 0; k < sizeof want / sizeof *want; k++) {
		ck_assert_uint_eq(whole(b, want[k].n), want[k].h);
		/* in two pieces, split anywhere, then in pieces of 5 */
		for (size_t cut = 0; cut <= want[k].n; cut++) {
			struct xxh64 x;
			xxh64_init(&x);
			xxh64_update(&x, b, cut);
			for (size_t at = cut; at < want[k].n; at += 5)
				xxh64_update(&x, b + at, want[k].n - at < 5 ? want[k].n - at : 5);
			ck_assert_msg(xxh64_digest(&x) == want[k].h, "%zu bytes cut at %zu",
				      want[k].n, cut);
		}
	}
}
END_TEST

int main(void)
{
	Suite *s = suite_create("xxh64");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, reference_values);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
