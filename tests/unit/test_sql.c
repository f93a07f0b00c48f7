/* tests/unit/test_sql.c
 * SQL builders, identifier quoting, COPY escaping, URL redaction and the
 * batch model.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "sluice/batch.h"
#include "sluice/soft.h"
#include "sluice/sql.h"
#include "sluice/url.h"

static char *cols3[] = {"id", "na\"me", "note"};

START_TEST(pg_quoting)
{
	struct buf b;
	buf_init(&b, 0);
	ck_assert(pg_dialect.quote_ident(&b, "we\"ird; DROP TABLE x"));
	ck_assert_str_eq(b.data, "\"we\"\"ird; DROP TABLE x\"");
	buf_reset(&b);
	ck_assert(!pg_dialect.quote_ident(&b, ""));
	buf_free(&b);
}
END_TEST

START_TEST(mysql_quoting)
{
	struct buf b;
	buf_init(&b, 0);
	ck_assert(mysql_dialect.quote_ident(&b, "a`b"));
	ck_assert_str_eq(b.data, "`a``b`");
	buf_free(&b);
}
END_TEST

START_TEST(pg_insert_sql)
{
	struct write_spec spec = {.schema = "s", .table = "t", .columns = cols3, .ncols = 3};
	struct buf b;
	buf_init(&b, 0);
	ck_assert(sql_insert(&pg_dialect, &b, &spec, 2));
	ck_assert_str_eq(b.data, "INSERT INTO \"s\".\"t\" (\"id\", \"na\"\"me\", \"note\") VALUES "
				 "($1,$2,$3),($4,$5,$6)");
	buf_reset(&b);
	char *key[] = {"id"};
	spec.on_conflict = CONFLICT_UPDATE;
	spec.key = key;
	spec.nkey = 1;
	spec.schema = NULL;
	ck_assert(sql_insert(&pg_dialect, &b, &spec, 1));
	ck_assert_str_eq(b.data,
			 "INSERT INTO \"t\" (\"id\", \"na\"\"me\", \"note\") VALUES ($1,$2,$3) "
			 "ON CONFLICT (\"id\") DO UPDATE SET \"na\"\"me\" = EXCLUDED.\"na\"\"me\", "
			 "\"note\" = EXCLUDED.\"note\"");
	buf_reset(&b);
	spec.on_conflict = CONFLICT_SKIP;
	ck_assert(sql_insert(&pg_dialect, &b, &spec, 1));
	ck_assert_str_eq(b.data,
			 "INSERT INTO \"t\" (\"id\", \"na\"\"me\", \"note\") VALUES ($1,$2,$3) "
			 "ON CONFLICT DO NOTHING");
	buf_free(&b);
}
END_TEST

START_TEST(mysql_insert_sql)
{
	struct write_spec spec = {.table = "t", .columns = cols3, .ncols = 3};
	struct buf b;
	buf_init(&b, 0);
	ck_assert(sql_insert(&mysql_dialect, &b, &spec, 2));
	ck_assert_str_eq(b.data, "INSERT INTO `t` (`id`, `na\"me`, `note`) VALUES (?,?,?),(?,?,?)");
	buf_reset(&b);
	spec.on_conflict = CONFLICT_SKIP;
	ck_assert(sql_insert(&mysql_dialect, &b, &spec, 1));
	ck_assert_str_eq(b.data, "INSERT IGNORE INTO `t` (`id`, `na\"me`, `note`) VALUES (?,?,?)");
	buf_reset(&b);
	char *key[] = {"id"};
	spec.on_conflict = CONFLICT_UPDATE;
	spec.key = key;
	spec.nkey = 1;
	ck_assert(sql_insert(&mysql_dialect, &b, &spec, 1));
	ck_assert_str_eq(b.data,
			 "INSERT INTO `t` (`id`, `na\"me`, `note`) VALUES (?,?,?) ON DUPLICATE "
			 "KEY UPDATE `na\"me` = VALUES(`na\"me`), `note` = VALUES(`note`)");
	buf_free(&b);
}
END_TEST

START_TEST(copy_sql_and_escape)
{
	struct write_spec spec = {.table = "my table", .columns = cols3, .ncols = 3};
	struct buf b;
	buf_init(&b, 0);
	ck_assert(pg_copy_sql(&b, &spec));
	ck_assert_str_eq(b.data, "COPY \"my table\" (\"id\", \"na\"\"me\", \"note\") FROM STDIN");
	buf_reset(&b);
	const char *v = "a\\b\tc\nd\re";
	ck_assert(pg_copy_escape(&b, v, strlen(v)));
	ck_assert_str_eq(b.data, "a\\\\b\\tc\\nd\\re");
	buf_reset(&b);
	ck_assert(pg_copy_escape(&b, NULL, 0));
	ck_assert_str_eq(b.data, "\\N");
	buf_reset(&b);
	ck_assert(pg_copy_escape(&b, "\\N", 2)); /* the text \N is not NULL */
	ck_assert_str_eq(b.data, "\\\\N");
	buf_free(&b);
}
END_TEST

START_TEST(rows_per_statement)
{
	/* under 65535 parameters, full batches split evenly */
	ck_assert_int_eq(sql_rows_per_statement(&pg_dialect, 9, 10000), 5000);
	ck_assert_int_eq(sql_rows_per_statement(&pg_dialect, 9, 1000), 1000);
	ck_assert_int_eq(sql_rows_per_statement(&pg_dialect, 1, 100000), 50000);
	size_t r = sql_rows_per_statement(&pg_dialect, 70000, 10);
	ck_assert_int_eq(r, 1);
	for (int cols = 1; cols < 300; cols += 7)
		ck_assert_int_le(sql_rows_per_statement(&pg_dialect, cols, 123456) * (size_t)cols,
				 65535);
}
END_TEST

START_TEST(count_and_select_values)
{
	struct write_spec spec = {.schema = "s", .table = "t", .own_rows = true};
	struct buf b;
	buf_init(&b, 0);
	ck_assert(sql_count_rows(&pg_dialect, &b, &spec));
	ck_assert_str_eq(b.data, "SELECT count(*) FROM ONLY \"s\".\"t\"");
	buf_reset(&b);
	ck_assert(sql_count_rows(&mysql_dialect, &b, &spec));
	ck_assert_str_eq(b.data, "SELECT count(*) FROM `s`.`t`");
	static const char *const values[] = {"x + 1", "y"};
	buf_reset(&b);
	ck_assert(sql_select_values(&mysql_dialect, &b, &spec, values, 2));
	ck_assert_str_eq(b.data, "SELECT x + 1 AS c0, y AS c1 FROM `s`.`t`");
	/* no columns: still a row of each row */
	buf_reset(&b);
	ck_assert(sql_select_values(&pg_dialect, &b, &spec, values, 0));
	ck_assert_str_eq(b.data, "SELECT 1 AS c0 FROM ONLY \"s\".\"t\"");
	buf_free(&b);
}
END_TEST

START_TEST(split_table)
{
	char *s, *n;
	ck_assert(sql_split_table("public.users", &s, &n));
	ck_assert_str_eq(s, "public");
	ck_assert_str_eq(n, "users");
	free(s);
	free(n);
	ck_assert(sql_split_table("\"my.schema\".\"Tab\"\"le\"", &s, &n));
	ck_assert_str_eq(s, "my.schema");
	ck_assert_str_eq(n, "Tab\"le");
	free(s);
	free(n);
	ck_assert(sql_split_table("users", &s, &n));
	ck_assert_ptr_null(s);
	ck_assert_str_eq(n, "users");
	free(n);
	ck_assert(!sql_split_table("", &s, &n));
	ck_assert(!sql_split_table("a.", &s, &n));
}
END_TEST

START_TEST(url_redaction)
{
	char out[256];
	url_redact("mysql://root:s3cret@127.0.0.1:3306/db", out, sizeof out);
	ck_assert_str_eq(out, "mysql://root:***@127.0.0.1:3306/db");
	url_redact("postgresql://u:p%40ss@h/db?password=x&sslmode=require", out, sizeof out);
	ck_assert_str_eq(out, "postgresql://u:***@h/db?password=***&sslmode=require");
	url_redact("postgresql://u@h/db", out, sizeof out);
	ck_assert_str_eq(out, "postgresql://u@h/db");
	char msg[128] = "failed for p@ss and p%40ss";
	url_scrub(msg, "postgresql://u:p%40ss@h/db");
	ck_assert_str_eq(msg, "failed for *** and ***");
}
END_TEST

START_TEST(url_parsing)
{
	struct url_parts u;
	struct sl_error err;
	ck_assert(url_parse(
		"mysql://us%3Aer:p%40ss@127.0.0.1:3307/shop?socket=%2Ftmp%2Fs&ssl-mode=REQUIRED",
		&u, &err));
	ck_assert_str_eq(u.user, "us:er");
	ck_assert_str_eq(u.password, "p@ss");
	ck_assert_str_eq(u.host, "127.0.0.1");
	ck_assert_int_eq(u.port, 3307);
	ck_assert_str_eq(u.database, "shop");
	ck_assert_str_eq(url_param(&u, "socket"), "/tmp/s");
	ck_assert_str_eq(url_param(&u, "ssl-mode"), "REQUIRED");
	url_parts_free(&u);
	ck_assert(url_parse("mysql://localhost/db", &u, &err));
	ck_assert_ptr_null(u.user);
	ck_assert_int_eq(u.port, 0);
	url_parts_free(&u);
	ck_assert(!url_parse("mysql://h:99999/db", &u, &err));
	ck_assert_int_eq(url_kind("postgres://x"), URL_POSTGRES);
	ck_assert_int_eq(url_kind("mariadb://x"), URL_MYSQL);
	ck_assert_int_eq(url_kind("http://x"), URL_UNKNOWN);
}
END_TEST

START_TEST(batch_model)
{
	struct batch b;
	ck_assert(batch_init(&b, 2, 3));
	struct cell f[2] = {{"abc", 3}, {NULL, 0}};
	struct record rec = {.nfields = 2, .fields = f, .line = 7, .raw = "abc,", .raw_len = 4};
	ck_assert(batch_add_row(&b, &rec, 0, true));
	f[0].ptr = "x";
	f[0].len = 1;
	ck_assert(batch_add_row(&b, &rec, 1, false));
	ck_assert_int_eq(b.nrows, 2);
	ck_assert_str_eq(batch_row(&b, 0)[0].ptr, "abc");
	ck_assert_ptr_null(batch_row(&b, 0)[1].ptr);
	ck_assert_str_eq(batch_row(&b, 1)[0].ptr, "x");
	ck_assert_int_eq(b.meta[0].line, 7);
	ck_assert_str_eq(b.meta[0].raw, "abc,");
	ck_assert_ptr_null(b.meta[1].raw);
	rec.nfields = 1; /* a wrong width is refused */
	ck_assert(!batch_add_row(&b, &rec, 0, false));
	rec.nfields = 2;
	ck_assert(batch_add_row(&b, &rec, 0, false));
	ck_assert(batch_full(&b));
	ck_assert(!batch_add_row(&b, &rec, 0, false));
	batch_reset(&b);
	ck_assert_int_eq(b.nrows, 0);
	batch_free(&b);
}
END_TEST

START_TEST(buf_ceiling)
{
	struct buf b;
	buf_init(&b, 10);
	ck_assert(buf_puts(&b, "0123456789"));
	ck_assert(!buf_putc(&b, 'x'));
	ck_assert_int_eq(b.len, 10);
	ck_assert(!buf_printf(&b, "%d", 1));
	buf_free(&b);
}
END_TEST

START_TEST(incremental_select)
{
	char *cols[] = {"id", "t"};
	struct write_spec spec = {.table = "x", .columns = cols, .ncols = 2};
	struct read_range r = {.cursor = "t",
			       .ckey = "id",
			       .after_cursor = "a'b\\c",
			       .after_key = "7",
			       .key_numeric = true};
	struct buf b;
	buf_init(&b, 0);
	ck_assert(sql_select(&pg_dialect, &b, &spec, &r, NULL));
	ck_assert_str_eq(b.data, "SELECT \"id\", \"t\" FROM \"x\" WHERE \"t\" > E'a''b\\\\c' OR "
				 "(\"t\" = E'a''b\\\\c' AND \"id\" > 7) ORDER BY \"t\", \"id\"");
	buf_reset(&b);
	ck_assert(sql_select(&mysql_dialect, &b, &spec, &r, NULL));
	ck_assert_str_eq(b.data, "SELECT `id`, `t` FROM `x` WHERE `t` > 'a\\'b\\\\c' OR "
				 "(`t` = 'a\\'b\\\\c' AND `id` > 7) ORDER BY `t`, `id`");
	/* a number is written bare only where the column is numeric */
	buf_reset(&b);
	ck_assert(sql_literal(&pg_dialect, &b, "12.5", true));
	ck_assert(sql_literal(&pg_dialect, &b, "12.5", false));
	ck_assert(sql_literal(&pg_dialect, &b, "1e9; DROP", true));
	ck_assert_str_eq(b.data, "12.5E'12.5'E'1e9; DROP'");
	buf_reset(&b);
	r.nulls = true;
	ck_assert(sql_select(&pg_dialect, &b, &spec, &r, NULL));
	ck_assert_str_eq(b.data,
			 "SELECT \"id\", \"t\" FROM \"x\" WHERE \"t\" IS NULL ORDER BY \"id\"");
	buf_free(&b);
}
END_TEST

START_TEST(checkpoint_statements)
{
	struct write_spec t = {.schema = "s", .table = "ck"};
	struct buf b;
	buf_init(&b, 0);
	ck_assert(sql_checkpoint_create(&mysql_dialect, &b, &t));
	ck_assert_str_eq(
		b.data,
		"CREATE TABLE IF NOT EXISTS `s`.`ck` (job varchar(200) NOT NULL, source "
		"varchar(500) NOT NULL, first_rec bigint NOT NULL, end_rec bigint NOT NULL, "
		"fingerprint varchar(100) NOT NULL, rows_written bigint NOT NULL, "
		"committed_at timestamp NULL DEFAULT CURRENT_TIMESTAMP, kind smallint NOT NULL "
		"DEFAULT 0, mark text NULL, PRIMARY KEY (job, source, kind, first_rec)) DEFAULT "
		"CHARSET=utf8mb4 COLLATE=utf8mb4_bin");
	buf_reset(&b);
	ck_assert(sql_checkpoint_upgrade(&pg_dialect, &b, &t, "ck_pkey"));
	ck_assert_str_eq(b.data, "ALTER TABLE \"s\".\"ck\" ADD COLUMN kind smallint NOT NULL "
				 "DEFAULT 0, DROP CONSTRAINT \"ck_pkey\", ADD PRIMARY KEY (job, "
				 "source, kind, first_rec)");
	buf_reset(&b);
	ck_assert(sql_checkpoint_upgrade(&mysql_dialect, &b, &t, "PRIMARY"));
	ck_assert(strstr(b.data, ", DROP PRIMARY KEY, ADD PRIMARY KEY (job, source, kind, "));
	buf_reset(&b);
	ck_assert(sql_checkpoint_create(&pg_dialect, &b, &t));
	ck_assert(!strstr(b.data, "CHARSET"));
	buf_reset(&b);
	ck_assert(sql_checkpoint_rows(&pg_dialect, &b, &t));
	ck_assert_str_eq(b.data, "SELECT job, source, first_rec, end_rec, fingerprint, kind FROM "
				 "\"s\".\"ck\"");
	buf_reset(&b);
	ck_assert(sql_checkpoint_claim(&pg_dialect, &b, &t, 1));
	ck_assert_str_eq(b.data, "INSERT INTO \"s\".\"ck\" (job, source, first_rec, end_rec, "
				 "fingerprint, rows_written, kind) VALUES ($1, $2, $3, $4, $5, $6, "
				 "$7)");
	buf_reset(&b);
	ck_assert(sql_checkpoint_claim(&pg_dialect, &b, &t, 2));
	ck_assert(strstr(b.data, "VALUES ($1, $2, $3, $4, $5, $6, $7), ($8, $9, $10, $11, $12, "
				 "$13, $14)"));
	buf_reset(&b);
	ck_assert(sql_checkpoint_claim(&mysql_dialect, &b, &t, 1));
	ck_assert(strstr(b.data, "VALUES (?, ?, ?, ?, ?, ?, ?)"));
	buf_reset(&b);
	ck_assert(sql_checkpoint_unlock(&pg_dialect, &b, &t, 5));
	ck_assert_str_eq(b.data,
			 "DELETE FROM \"s\".\"ck\" WHERE kind = 5 AND job = $1 AND source = "
			 "$2 AND first_rec >= $3 AND first_rec <= $4");
	buf_reset(&b);
	ck_assert(sql_checkpoint_at(&pg_dialect, &b, &t, -9223372036854775807LL - 1));
	ck_assert_str_eq(b.data, "SELECT job, source, first_rec FROM \"s\".\"ck\" WHERE "
				 "first_rec = -9223372036854775808 AND kind = 1");
	buf_reset(&b);
	ck_assert(sql_checkpoint_forget(&mysql_dialect, &b, &t));
	ck_assert_str_eq(b.data, "DELETE FROM `s`.`ck` WHERE job = ?");
	buf_free(&b);
}
END_TEST

START_TEST(identity_restart)
{
	struct write_spec t = {.schema = "s", .table = "o'k"};
	struct buf b;
	buf_init(&b, 0);
	ck_assert(pg_dialect.identity_restart(&b, &t, "id"));
	ck_assert_str_eq(b.data, "SELECT setval(pg_get_serial_sequence('\"s\".\"o''k\"', 'id'), "
				 "COALESCE(MAX(\"id\"), 0) + 1, false) FROM \"s\".\"o'k\"");
	ck_assert(!mysql_dialect.identity_restart);
	buf_free(&b);
}
END_TEST

START_TEST(delta_and_delete_sql)
{
	char *cols[] = {"id", "balance", "note"}, *key[] = {"id"}, *add[] = {"balance"};
	struct write_spec spec = {.table = "acc",
				  .columns = cols,
				  .ncols = 3,
				  .key = key,
				  .nkey = 1,
				  .update = true,
				  .add = add,
				  .nadd = 1};
	struct buf b;
	buf_init(&b, 0);
	ck_assert(sql_update_row(&mysql_dialect, &b, &spec));
	ck_assert_str_eq(b.data,
			 "UPDATE `acc` SET `balance` = `balance` + ?, `note` = ? WHERE `id` = ?");
	buf_reset(&b);
	spec.add_null_as_zero = true;
	ck_assert(sql_update_row(&pg_dialect, &b, &spec));
	ck_assert_str_eq(b.data, "UPDATE \"acc\" SET \"balance\" = COALESCE(\"balance\", 0) + $1, "
				 "\"note\" = $2 WHERE \"id\" = $3");
	buf_reset(&b);
	ck_assert(sql_null_adds(&pg_dialect, &b, &spec, "t."));
	ck_assert_str_eq(b.data, "(t.\"balance\" IS NULL)");
	ck_assert(!sql_checks_null_adds(&spec));
	/* an upsert adds to the row there, named by the table */
	struct write_spec up = {.table = "acc",
				.columns = cols,
				.ncols = 2,
				.key = key,
				.nkey = 1,
				.on_conflict = CONFLICT_UPDATE,
				.add = add,
				.nadd = 1};
	buf_reset(&b);
	ck_assert(sql_on_conflict(&pg_dialect, &b, &up, "EXCLUDED"));
	ck_assert_str_eq(b.data, " ON CONFLICT (\"id\") DO UPDATE SET \"balance\" = "
				 "\"acc\".\"balance\" + EXCLUDED.\"balance\"");
	/* a delete; --soft sets its expression */
	struct write_spec del = {.table = "acc",
				 .columns = cols,
				 .ncols = 3,
				 .key = key,
				 .nkey = 1,
				 .update = true,
				 .del = true};
	buf_reset(&b);
	ck_assert(sql_update_row(&pg_dialect, &b, &del));
	ck_assert_str_eq(b.data, "DELETE FROM \"acc\" WHERE \"id\" = $1");
	del.soft_col = "gone";
	del.soft_expr = "now()";
	buf_reset(&b);
	ck_assert(sql_update_row(&mysql_dialect, &b, &del));
	ck_assert_str_eq(b.data, "UPDATE `acc` SET `gone` = now() WHERE `id` = ?");
	/* PostgreSQL's staged delete: the keys in key order, each deleted row
	 * returning its staged row */
	char *types[] = {"integer", "numeric", "text"};
	buf_reset(&b);
	ck_assert(pg_delete_staged_sql(&b, &del, types));
	ck_assert_str_eq(b.data,
			 "UPDATE \"acc\" AS sluice_t SET \"gone\" = now() FROM (SELECT * "
			 "FROM pg_temp.\"sluice#keys\" ORDER BY c1::integer) AS sluice_s "
			 "WHERE sluice_t.\"id\" = sluice_s.c1::integer RETURNING sluice_s.n");
	del.soft_col = NULL;
	buf_reset(&b);
	ck_assert(pg_delete_staged_sql(&b, &del, types));
	ck_assert_str_eq(b.data, "DELETE FROM \"acc\" AS sluice_t USING (SELECT * FROM "
				 "pg_temp.\"sluice#keys\" ORDER BY c1::integer) AS sluice_s WHERE "
				 "sluice_t.\"id\" = sluice_s.c1::integer RETURNING sluice_s.n");
	buf_reset(&b);
	ck_assert(pg_keys_stage_sql(&b, 2));
	ck_assert_str_eq(b.data, "DROP TABLE IF EXISTS pg_temp.\"sluice#keys\"; CREATE TEMP TABLE "
				 "\"sluice#keys\" (n int, c1 text, c2 text) ON COMMIT DROP");
	buf_free(&b);
}
END_TEST

START_TEST(soft_spec)
{
	char *col, *expr;
	struct sl_error err;
	ck_assert(soft_parse(" deleted_at = now() ", &col, &expr, &err));
	ck_assert_str_eq(col, "deleted_at");
	ck_assert_str_eq(expr, "now()");
	free(col);
	free(expr);
	ck_assert(soft_parse("note='a;b'", &col, &expr, &err)); /* ; inside quotes */
	ck_assert_str_eq(expr, "'a;b'");
	free(col);
	free(expr);
	ck_assert(!soft_parse("deleted_at", &col, &expr, &err));
	ck_assert_int_eq(err.kind, SL_ERR_USAGE);
	ck_assert(!soft_parse("=now()", &col, &expr, &err));
	ck_assert(!soft_parse("x=", &col, &expr, &err));
	ck_assert(!soft_parse("x=1; DROP TABLE t", &col, &expr, &err));
	ck_assert(col == NULL && expr == NULL);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("sql");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, pg_quoting);
	tcase_add_test(tc, mysql_quoting);
	tcase_add_test(tc, pg_insert_sql);
	tcase_add_test(tc, mysql_insert_sql);
	tcase_add_test(tc, copy_sql_and_escape);
	tcase_add_test(tc, rows_per_statement);
	tcase_add_test(tc, count_and_select_values);
	tcase_add_test(tc, split_table);
	tcase_add_test(tc, url_redaction);
	tcase_add_test(tc, url_parsing);
	tcase_add_test(tc, batch_model);
	tcase_add_test(tc, buf_ceiling);
	tcase_add_test(tc, checkpoint_statements);
	tcase_add_test(tc, incremental_select);
	tcase_add_test(tc, identity_restart);
	tcase_add_test(tc, delta_and_delete_sql);
	tcase_add_test(tc, soft_spec);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
