/* tests/unit/test_keys.c
 * Keyed writes: key hashing and the round order that keeps a repeated key
 * out of one statement, applies its records in input order and sorts each
 * round by key.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sluice/keys.h"

/* A batch of rows "key,value" from pairs; NULL key for "-". */
static void fill(struct batch *b, const char *const *pairs, size_t n)
{
	ck_assert(batch_init(b, 2, n));
	for (size_t i = 0; i < n; i++) {
		struct cell f[2] = {{NULL, 0}, {pairs[2 * i + 1], strlen(pairs[2 * i + 1])}};
		if (strcmp(pairs[2 * i], "-")) {
			f[0].ptr = pairs[2 * i];
			f[0].len = strlen(pairs[2 * i]);
		}
		struct record rec = {.nfields = 2, .fields = f, .line = (long)i + 2};
		ck_assert(batch_add_row(b, &rec, 0, false));
	}
}

/* The rounds of rows [first, first+n), as "k=v k=v | k=v". */
static void rounds_text(const struct batch *b, size_t first, size_t n, char *out, size_t outsz)
{
	size_t order[64], end[64], nrounds;
	int key[] = {0};
	ck_assert(key_rounds(b, first, n, key, NULL, 1, order, end, &nrounds));
	out[0] = '\0';
	size_t start = 0;
	for (size_t r = 0; r < nrounds; start = end[r++]) {
		if (r)
			strncat(out, " |", outsz - strlen(out) - 1);
		for (size_t i = start; i < end[r]; i++) {
			const struct cell *row = batch_row(b, order[i]);
			char item[64];
			snprintf(item, sizeof item, " %s=%s", row[0].ptr ? row[0].ptr : "NULL",
				 row[1].ptr);
			strncat(out, item, outsz - strlen(out) - 1);
		}
	}
}

START_TEST(rounds_keep_input_order_per_key)
{
	static const char *const rows[] = {"b", "1", "a", "2", "b", "3", "c", "4",
					   "b", "5", "a", "6", "-", "7", "-", "8"};
	struct batch b;
	fill(&b, rows, 8);
	char text[512];
	rounds_text(&b, 0, 8, text, sizeof text);
	/* round 1: first records, sorted by key (NULL first); then the second
	 * records; then b's third: b's records apply 1, 3, 5 as in the input */
	ck_assert_str_eq(text, " NULL=7 a=2 b=1 c=4 | NULL=8 a=6 b=3 | b=5");
	/* a range of the batch, as bisection asks for */
	rounds_text(&b, 2, 3, text, sizeof text);
	ck_assert_str_eq(text, " b=3 c=4 | b=5");
	batch_free(&b);
}
END_TEST

START_TEST(distinct_keys_are_one_sorted_round)
{
	static const char *const rows[] = {"10", "x", "9", "y", "100", "z", "ab", "w"};
	struct batch b;
	fill(&b, rows, 4);
	char text[256];
	rounds_text(&b, 0, 4, text, sizeof text);
	ck_assert_str_eq(text, " 10=x 100=z 9=y ab=w");
	batch_free(&b);
}
END_TEST

START_TEST(hash_and_equality)
{
	struct cell r1[2] = {{"ab", 2}, {"c", 1}}, r2[2] = {{"a", 1}, {"bc", 2}};
	struct cell r3[2] = {{"ab", 2}, {"c", 1}}, r4[2] = {{NULL, 0}, {"c", 1}};
	int key[] = {0, 1};
	ck_assert(key_equal(r1, r3, key, NULL, 2));
	ck_assert(!key_equal(r1, r2, key, NULL, 2));
	ck_assert(!key_equal(r1, r4, key, NULL, 2));
	ck_assert_uint_eq(key_hash(r1, key, NULL, 2), key_hash(r3, key, NULL, 2));
	ck_assert_uint_ne(key_hash(r1, key, NULL, 2), key_hash(r2, key, NULL, 2));
	struct cell d[2] = {{cell_default, 0}, {"c", 1}};
	ck_assert(key_equal(r4, d, key, NULL, 2)); /* NULL and a missing key alike */
}
END_TEST

START_TEST(folded_keys)
{
	/* a case-insensitive collation: one key for all of these */
	const char *same[] = {"abc", "ABC", "abc  ", "Äbc",
			      "\xc3\xa1"
			      "bc" /* ábc */};
	unsigned char fold[1] = {KEY_FOLD_CASE};
	int key[1] = {0};
	struct cell a = {same[0], strlen(same[0])};
	for (size_t i = 1; i < sizeof same / sizeof *same; i++) {
		struct cell b = {same[i], strlen(same[i])};
		ck_assert_msg(key_equal(&a, &b, key, fold, 1), "%s", same[i]);
		ck_assert_uint_eq(key_hash(&a, key, fold, 1), key_hash(&b, key, fold, 1));
	}
	struct cell other = {"abd", 3}, greek1 = {"\xce\xa9", 2}, greek2 = {"\xcf\x89", 2};
	ck_assert(!key_equal(&a, &other, key, fold, 1));
	ck_assert(key_equal(&greek1, &greek2, key, fold, 1)); /* Ω and ω */
	/* PAD SPACE binary: trailing spaces only */
	fold[0] = KEY_FOLD_PAD;
	struct cell pad = {"abc ", 4}, upper = {"ABC", 3};
	ck_assert(key_equal(&a, &pad, key, fold, 1));
	ck_assert_uint_eq(key_hash(&a, key, fold, 1), key_hash(&pad, key, fold, 1));
	ck_assert(!key_equal(&a, &upper, key, fold, 1));
	/* bytes */
	ck_assert(!key_equal(&a, &pad, key, NULL, 1));
	ck_assert_int_eq(key_fold_for_collation("utf8mb4_general_ci"), KEY_FOLD_CASE);
	ck_assert_int_eq(key_fold_for_collation("utf8mb4_bin"), KEY_FOLD_PAD);
	ck_assert_int_eq(key_fold_for_collation("utf8mb4_nopad_bin"), KEY_FOLD_BYTES);
	ck_assert_int_eq(key_fold_for_collation("utf8mb4_0900_bin"), KEY_FOLD_BYTES);
	ck_assert_int_eq(key_fold_for_collation(NULL), KEY_FOLD_BYTES);
}
END_TEST

/* Byte order as cell_compare has it: memcmp, then the shorter first. */
static int bytes_order(const struct cell *x, const struct cell *y)
{
	size_t m = x->len < y->len ? x->len : y->len;
	int c = memcmp(x->ptr, y->ptr, m);
	return c ? c : (x->len > y->len) - (x->len < y->len);
}

/* Keys that share their first 8 bytes, or are a prefix of one another,
 * with bytes >= 0x80, below a space and repeats, by two folds: the rounds are the
 * k-th record of each key, and each round in key order (the sort looks at
 * an 8-byte prefix first: it must not decide where the prefix ties). */
START_TEST(rounds_sorted_past_the_prefix)
{
	static const char alpha[] = {'a', 'b', ' ', '\t', (char)0x80, (char)0xff};
	enum { N = 600 };
	static char text[N][16];
	struct batch b;
	ck_assert(batch_init(&b, 1, N));
	unsigned seed = 7;
	for (size_t i = 0; i < N; i++) {
		seed = seed * 1103515245u + 12345u;
		/* short keys (repeats, trailing spaces) and long ones */
		size_t len = (seed >> 16) % 2 ? (seed >> 8) % 4 : 8 + (seed >> 8) % 5;
		for (size_t k = 0; k < len; k++) {
			seed = seed * 1103515245u + 12345u;
			/* mostly one 8-byte stem, so that prefixes tie */
			text[i][k] = k < 8 && (seed >> 20) % 4 ? 'a' : alpha[(seed >> 16) % 6];
		}
		struct cell f = {text[i], len};
		if (i % 97 == 5)
			f.ptr = NULL;
		struct record rec = {.nfields = 1, .fields = &f, .line = (long)i + 2};
		ck_assert(batch_add_row(&b, &rec, 0, false));
	}
	static size_t order[N], end[N];
	size_t nrounds;
	int key[] = {0};
	for (int fi = 0; fi < 2; fi++) {
		unsigned char fold[1] = {fi ? KEY_FOLD_PAD : KEY_FOLD_BYTES};
		ck_assert(key_rounds(&b, 0, N, key, fold, 1, order, end, &nrounds));
		ck_assert_uint_gt(nrounds, 1);
		ck_assert_uint_eq(end[nrounds - 1], N);
		size_t start = 0;
		for (size_t r = 0; r < nrounds; start = end[r++]) {
			for (size_t i = start; i < end[r]; i++) {
				const struct cell *x = batch_row(&b, order[i]);
				/* the (r+1)-th record of its key */
				size_t before = 0;
				for (size_t j = 0; j < order[i]; j++)
					before += key_equal(batch_row(&b, j), x, key, fold, 1);
				ck_assert_uint_eq(before, r);
				if (i == start)
					continue;
				const struct cell *w = batch_row(&b, order[i - 1]);
				ck_assert(!key_equal(w, x, key, fold, 1));
				if (!w->ptr || !x->ptr) {
					ck_assert(!x->ptr ? !w->ptr : 1); /* NULL first */
					continue;
				}
				struct cell tw = *w, tx = *x;
				while (fi && tw.len && tw.ptr[tw.len - 1] == ' ')
					tw.len--;
				while (fi && tx.len && tx.ptr[tx.len - 1] == ' ')
					tx.len--;
				ck_assert_int_lt(bytes_order(&tw, &tx), 0);
			}
		}
	}
	batch_free(&b);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("keys");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, rounds_keep_input_order_per_key);
	tcase_add_test(tc, folded_keys);
	tcase_add_test(tc, distinct_keys_are_one_sorted_round);
	tcase_add_test(tc, hash_and_equality);
	tcase_add_test(tc, rounds_sorted_past_the_prefix);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
