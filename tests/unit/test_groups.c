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

/* A reader handing out the records of a fixed list: "value,line" text,
 * one field; a NULL value is a record the reader rejects. */
struct fake {
	const char *const *vals;
	size_t n, next;
	char buf[32];
	struct cell cell;
};

static enum read_status fake_next(struct reader *r, struct record *rec, struct sl_error *err)
{
	struct fake *f = r->impl;
	if (f->next == f->n)
		return READ_EOF;
	const char *v = f->vals[f->next++];
	snprintf(f->buf, sizeof f->buf, "%s", v ? v : "bad");
	f->cell = (struct cell){f->buf, strlen(f->buf)};
	*rec = (struct record){.nfields = 1,
			       .fields = &f->cell,
			       .line = (long)f->next + 1,
			       .raw = f->buf,
			       .raw_len = strlen(f->buf)};
	if (!v) {
		sl_error_set(err, SL_ERR_DATA, "a bad quote");
		return READ_REJECT;
	}
	return READ_OK;
}

START_TEST(sorted_stably_within_a_bound)
{
	static const struct reader_ops ops = {.name = "fake", .next = fake_next};
	const char *vals[] = {"T2", "T1", NULL, "T2", "T10", "T1"};
	struct fake f = {.vals = vals, .n = 6};
	struct reader r = {.ops = &ops, .impl = &f};
	struct group_sort *gs;
	struct sl_error err;
	ck_assert(group_sort_read(&gs, &r, "in.csv", 0, 1 << 20, &err));
	/* the rejected record first; then by value, input order among equals */
	const char *want[] = {"bad", "T1", "T1", "T10", "T2", "T2"};
	const long lines[] = {4, 3, 7, 6, 2, 5};
	struct record rec;
	for (int i = 0; i < 6; i++) {
		enum read_status st = group_sort_next(gs, &rec, &err);
		ck_assert_int_eq(st, i ? READ_OK : READ_REJECT);
		if (!i)
			ck_assert_str_eq(err.msg, "a bad quote");
		ck_assert_int_eq(rec.line, lines[i]);
		ck_assert_str_eq(rec.raw, want[i]);
	}
	ck_assert_int_eq(group_sort_next(gs, &rec, &err), READ_EOF);
	group_sort_free(gs);
	/* over the bound: fails naming the line and the bound */
	f.next = 0;
	ck_assert(!group_sort_read(&gs, &r, "in.csv", 0, 1024, &err));
	ck_assert_int_eq(err.kind, SL_ERR_USAGE);
	ck_assert(strstr(err.msg, "memory bound of 1024 bytes") != NULL);
	ck_assert(strncmp(err.msg, "in.csv:", 7) == 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("groups");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, adjacent_and_broken);
	tcase_add_test(tc, many_groups_and_rejects);
	tcase_add_test(tc, sorted_stably_within_a_bound);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
