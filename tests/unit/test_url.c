/* tests/unit/test_url.c
 * URL redaction and scrubbing: no reading of a URL, parsed or not, may print
 * its password, in a redacted URL or in a server message.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "sluice/url.h"

static void expect_redact(const char *url, const char *want)
{
	char out[512];
	url_redact(url, out, sizeof out);
	ck_assert_msg(!strcmp(out, want), "url_redact(%s) = %s, want %s", url, out, want);
}

static void expect_scrub(const char *url, const char *msg, const char *want)
{
	char buf[512];
	strcpy(buf, msg);
	url_scrub(buf, url);
	ck_assert_msg(!strcmp(buf, want), "url_scrub(%s, %s) = %s, want %s", url, msg, buf, want);
}

START_TEST(redact_plain)
{
	expect_redact("mysql://root:s3cret@127.0.0.1:3306/db",
		      "mysql://root:***@127.0.0.1:3306/db");
	expect_redact("mysql://root@host/db", "mysql://root@host/db");
	expect_redact("postgresql://host/db", "postgresql://host/db");
	expect_redact("postgresql://host/db?password=x", "postgresql://host/db?password=***");
	expect_redact("postgresql://u:p%40ss@h/db?password=x&sslmode=require",
		      "postgresql://u:***@h/db?password=***&sslmode=require");
	expect_redact("postgresql://h/db?sslmode=require&PASSWORD=x&a=b",
		      "postgresql://h/db?sslmode=require&PASSWORD=***&a=b");
	expect_redact("postgresql://h/db?sslpassword=keypw&sslmode=require",
		      "postgresql://h/db?sslpassword=***&sslmode=require");
	/* not a parameter named password */
	expect_redact("postgresql://h/db?xpassword=x", "postgresql://h/db?xpassword=x");
	/* an empty password is masked too: whether there is one is not shown */
	expect_redact("mysql://u:@h/db", "mysql://u:***@h/db");
	expect_redact("postgresql://h/db?password=", "postgresql://h/db?password=***");
	expect_redact("", "");
}
END_TEST

START_TEST(redact_special_password)
{
	/* raw '#', '/', '?', '@' in the password: the URL does not parse */
	expect_redact("mysql://root:ab#cdSECRET@127.0.0.1:1/db", "mysql://root:***@127.0.0.1:1/db");
	expect_redact("postgresql://u:p/q?r@h/db", "postgresql://u:***@h/db");
	expect_redact("mysql://u:a@b@h:3306/db", "mysql://u:***@h:3306/db");
	expect_redact("mysql://u:a:b@h/db", "mysql://u:***@h/db");
	/* made only of special characters */
	expect_redact("mysql://u:/?#@@h/db", "mysql://u:***@h/db");
	expect_redact("mysql://u:@@@@h", "mysql://u:***@h");
	expect_redact("mysql://u::::@h", "mysql://u:***@h");
	expect_redact("mysql://u:%/&=,;[]@h/db", "mysql://u:***@h/db");
	/* a '#' in a password parameter: libpq keeps it in the value */
	expect_redact("postgresql://h/db?password=ab#cd&x=1", "postgresql://h/db?password=***&x=1");
	/* a password parameter holding an '@' */
	expect_redact("postgresql://h/db?password=a@b&x=1", "postgresql://h/db?password=***&x=1");
	expect_redact("postgresql://h/db?password=a:b@c", "postgresql://h/db?password=***");
}
END_TEST

START_TEST(redact_at_in_query)
{
	/* no ':' before the '@': no userinfo, nothing to hide, host kept */
	expect_redact("postgresql://h/db?application_name=a@b",
		      "postgresql://h/db?application_name=a@b");
	expect_redact("mysql://root@h/db?x=a@b", "mysql://root@h/db?x=a@b");
	/* a port, then an '@': cannot be told from u:pass/...@h, so masked */
	expect_redact("postgresql://h:5432/db?application_name=a@b", "postgresql://h:***@b");
	/* a password parameter overlapping that span: masked to its end */
	expect_redact("postgresql://h:5432/db?password=x@y&z=1", "postgresql://h:***&z=1");
	expect_redact("postgresql://h:5432/db?password=x@y", "postgresql://h:***");
}
END_TEST

START_TEST(redact_no_scheme)
{
	expect_redact("root:s3cret@localhost/db", "root:***@localhost/db");
	expect_redact("mysql:/root:pw/x@h/db", "mysql:***@h/db");
	expect_redact("mysql//root:pw@h/db", "mysql//root:***@h/db");
	/* a "://" inside the password does not pass for the scheme's */
	expect_redact("u:a://b@h", "u:***@h");
	expect_redact("localhost/db", "localhost/db");
	expect_redact("h/db?password=x", "h/db?password=***");
}
END_TEST

/* Every password over printable ASCII is hidden whole, and nothing else of
 * the URL changes. */
START_TEST(redact_any_password)
{
	srand(12345);
	for (int round = 0; round < 2000; round++) {
		char pw[40], url[128];
		int n = 1 + rand() % 30;
		for (int i = 0; i < n; i++)
			pw[i] = (char)(' ' + rand() % 95);
		pw[n] = '\0';
		strcpy(url, "mysql://user:");
		strcat(url, pw);
		strcat(url, "@db.example:3306/shop?ssl-mode=REQUIRED");
		expect_redact(url, "mysql://user:***@db.example:3306/shop?ssl-mode=REQUIRED");
	}
}
END_TEST

START_TEST(redact_truncates)
{
	const char *url = "mysql://root:secret@h/db";
	char out[64];
	for (size_t sz = 1; sz < sizeof out; sz++) {
		memset(out, 'x', sizeof out);
		url_redact(url, out, sz);
		ck_assert_uint_lt(strlen(out), sz);
		ck_assert_ptr_null(strstr(out, "sec"));
	}
	url_redact(url, out, 8);
	ck_assert_str_eq(out, "mysql:/");
	out[0] = 'x';
	url_redact(url, out, 0);
	ck_assert_int_eq(out[0], 'x');
}
END_TEST

START_TEST(scrub_plain)
{
	expect_scrub("postgresql://u:p%40ss@h/db", "failed for p@ss and p%40ss",
		     "failed for *** and ***");
	expect_scrub("mysql://root:s3cret@h/db", "no s3cret here: s3cret", "no *** here: ***");
	expect_scrub("mysql://root@h/db", "Access denied for user 'root'@'h'",
		     "Access denied for user 'root'@'h'");
	expect_scrub("postgresql://h/db?password=hunter2&sslmode=require", "pw hunter2", "pw ***");
	/* a short password is masked letter for letter */
	expect_scrub("mysql://u:pw@h/db", "a pw b", "a ** b");
	/* a password that reads like the mask does not loop */
	expect_scrub("mysql://u:***@h/db", "x *** y", "x *** y");
	expect_scrub("mysql://u:**@h/db", "x ** y", "x ** y");
	expect_scrub("not a url", "message", "message");
}
END_TEST

/* What libpq says about URLs it reads differently (messages as libpq 15
 * prints them). */
START_TEST(scrub_special_password)
{
	expect_scrub("postgresql://u:secret/x@h/db",
		     "invalid integer value \"secret\" for connection option \"port\"",
		     "invalid integer value \"***\" for connection option \"port\"");
	expect_scrub("postgresql://u:p/q?r@h/db",
		     "missing key/value separator \"=\" in URI query parameter: \"r@h/db\"",
		     "missing key/value separator \"=\" in URI query parameter: \"*@h/db\"");
	expect_scrub("postgresql://u:p4ss/q?rest@h/db",
		     "missing key/value separator \"=\" in URI query parameter: \"rest@h/db\"",
		     "missing key/value separator \"=\" in URI query parameter: \"***@h/db\"");
	expect_scrub("postgresql://u:pa@ssword@nonexist.invalid/db",
		     "could not translate host name \"ssword@nonexist.invalid\" to address",
		     "could not translate host name \"***@nonexist.invalid\" to address");
	expect_scrub("postgresql://u:sec,ret/x@h/db",
		     "invalid integer value \"sec\" for connection option \"port\"",
		     "invalid integer value \"***\" for connection option \"port\"");
	/* a bad percent-escape: the URL does not parse, libpq quotes it raw */
	expect_scrub("postgresql://u:p%zzword@h/db", "invalid percent-encoded token: \"p%zzword\"",
		     "invalid percent-encoded token: \"***\"");
	/* raw and decoded forms, whole and in pieces */
	expect_scrub("mysql://u:a%2Fbcd#efg@h/db", "x a/bcd#efg y a%2Fbcd#efg z efg",
		     "x *** y *** z ***");
	expect_scrub("mysql://root:ab#cdSECRET@127.0.0.1:1/db",
		     "Unknown database 'cdSECRET@127.0.0.1:1/db'",
		     "Unknown database '***@127.0.0.1:1/db'");
	/* pieces are masked where they stand alone, not inside words */
	expect_scrub("mysql://u:ab#cd@h/db", "database \"ab\" cdrom ab",
		     "database \"**\" cdrom **");
	/* made only of special characters */
	expect_scrub("mysql://u:/?#@@h/db", "bad \"/?#@\"", "bad \"***\"");
	/* a password parameter with a '#' */
	expect_scrub("postgresql://h/db?password=ab#cdef", "x ab#cdef y cdef", "x *** y ***");
	/* no "://" */
	expect_scrub("root:hunter2@h/db", "hunter2?", "***?");
}
END_TEST

START_TEST(canonical_sqlite)
{
	/* a SQLite database is its file: every spelling of one path is one
	 * name, two files are two (copy --resume names its job by it) */
	char a[512], b[512], c[512];
	url_canonical("sqlite:///tmp/x.db", a, sizeof a);
	url_canonical("sqlite://localhost/tmp/x.db?mode=ro", b, sizeof b);
	url_canonical("sqlite:/tmp/y.db", c, sizeof c);
	ck_assert_str_eq(a, "sqlite:/tmp/x.db");
	ck_assert_str_eq(b, a);
	ck_assert_str_eq(c, "sqlite:/tmp/y.db");
	ck_assert_int_eq(url_kind("SQLite:x.db"), URL_SQLITE);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("url");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, redact_plain);
	tcase_add_test(tc, redact_special_password);
	tcase_add_test(tc, redact_at_in_query);
	tcase_add_test(tc, redact_no_scheme);
	tcase_add_test(tc, redact_any_password);
	tcase_add_test(tc, redact_truncates);
	tcase_add_test(tc, scrub_plain);
	tcase_add_test(tc, scrub_special_password);
	tcase_add_test(tc, canonical_sqlite);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
