/* tests/unit/test_typemap.c
 * Column types across servers for copy --create: every mapping row both
 * ways, defaults, identity, enums, keys, --cast, the DDL text of whole
 * tables, indexes, foreign keys and every value transform.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sluice/typemap.h"

#define M &mysql_dialect
#define P &pg_dialect

/* Map one nullable column named "c" of type with default def. */
static void map_col(const struct dialect *from, const struct dialect *to, const char *type,
		    const char *def, bool in_key, long max_len, const char *cast,
		    struct mapped_column *out)
{
	struct column_desc c = {
		.name = "c", .type = (char *)type, .nullable = true, .default_expr = (char *)def};
	ck_assert_msg(typemap_column(from, to, &c, in_key, max_len, cast, out), "%s: %s", type,
		      out->note);
}

struct type_row {
	const char *src;
	const char *want;
	unsigned xf;
	int bits;
};

static void check_types(const struct dialect *from, const struct dialect *to,
			const struct type_row *rows, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct mapped_column m;
		map_col(from, to, rows[i].src, NULL, false, 0, NULL, &m);
		ck_assert_msg(!strcmp(m.type, rows[i].want), "%s -> '%s', want '%s'", rows[i].src,
			      m.type, rows[i].want);
		ck_assert_msg(m.xf == rows[i].xf, "%s: xf %u, want %u", rows[i].src, m.xf,
			      rows[i].xf);
		ck_assert_msg(m.bits == rows[i].bits, "%s: bits %d", rows[i].src, m.bits);
		ck_assert_msg(!m.identity && !m.default_sql[0], "%s", rows[i].src);
	}
}

START_TEST(mysql_to_pg_types)
{
	static const struct type_row rows[] = {
		{"tinyint(1)", "boolean", 0, 0},
		{"bool", "boolean", 0, 0},
		{"boolean", "boolean", 0, 0},
		{"tinyint(4)", "smallint", 0, 0},
		{"tinyint", "smallint", 0, 0},
		{"tinyint(3) unsigned", "smallint", 0, 0},
		{"tinyint(1) unsigned", "smallint", 0, 0},
		{"smallint(6)", "smallint", 0, 0},
		{"smallint(5) unsigned", "integer", 0, 0},
		{"mediumint(9)", "integer", 0, 0},
		{"mediumint(8) unsigned", "integer", 0, 0},
		{"int(11)", "integer", 0, 0},
		{"int", "integer", 0, 0},
		{"int(10) unsigned", "bigint", 0, 0},
		{"int unsigned", "bigint", 0, 0},
		{"int(10) unsigned zerofill", "bigint", 0, 0},
		{"bigint(20)", "bigint", 0, 0},
		{"bigint(20) unsigned", "numeric(20)", 0, 0},
		{"bigint unsigned", "numeric(20)", 0, 0},
		{"decimal(12,4)", "numeric(12,4)", 0, 0},
		{"decimal(10,0)", "numeric(10,0)", 0, 0},
		{"decimal(65,30) unsigned", "numeric(65,30)", 0, 0},
		{"float", "real", 0, 0},
		{"float(7,3)", "real", 0, 0},
		{"double", "double precision", 0, 0},
		{"double(10,2)", "double precision", 0, 0},
		{"bit(1)", "boolean", XF_BIT_TO_BOOL, 0},
		{"bit(12)", "bit(12)", XF_BITS_TO_TEXT, 12},
		{"bit(64)", "bit(64)", XF_BITS_TO_TEXT, 64},
		{"date", "date", XF_ZERO_DATE_NULL, 0},
		{"datetime", "timestamp(0) without time zone", XF_ZERO_DATE_NULL, 0},
		{"datetime(6)", "timestamp(6) without time zone", XF_ZERO_DATE_NULL, 0},
		{"timestamp", "timestamp(0) with time zone", XF_ZERO_DATE_NULL | XF_APPEND_UTC, 0},
		{"timestamp(3)", "timestamp(3) with time zone", XF_ZERO_DATE_NULL | XF_APPEND_UTC,
		 0},
		{"time", "interval(0)", 0, 0},
		{"time(6)", "interval(6)", 0, 0},
		{"year(4)", "smallint", 0, 0},
		{"year", "smallint", 0, 0},
		{"char(10)", "varchar(10)", 0, 0},
		{"char(0)", "text", 0, 0},
		{"varchar(255)", "varchar(255)", 0, 0},
		{"tinytext", "text", 0, 0},
		{"text", "text", 0, 0},
		{"mediumtext", "text", 0, 0},
		{"longtext", "text", 0, 0},
		{"binary(16)", "bytea", XF_BYTES_TO_PGHEX, 0},
		{"varbinary(100)", "bytea", XF_BYTES_TO_PGHEX, 0},
		{"tinyblob", "bytea", XF_BYTES_TO_PGHEX, 0},
		{"blob", "bytea", XF_BYTES_TO_PGHEX, 0},
		{"mediumblob", "bytea", XF_BYTES_TO_PGHEX, 0},
		{"longblob", "bytea", XF_BYTES_TO_PGHEX, 0},
		{"json", "jsonb", 0, 0},
		{"enum('a','b')", "text", 0, 0},
		{"set('x','y')", "text", 0, 0},
		{"geometry", "bytea", XF_BYTES_TO_PGHEX, 0},
		{"point", "bytea", XF_BYTES_TO_PGHEX, 0},
		{"uuid", "uuid", 0, 0},
		{"inet6", "inet", 0, 0},
		{"inet4", "inet", 0, 0},
		{"vector(3)", "text", 0, 0},
		{"TINYINT(1)", "boolean", 0, 0},
		{"  varchar(20)  ", "varchar(20)", 0, 0},
	};
	check_types(M, P, rows, sizeof rows / sizeof rows[0]);
}
END_TEST

START_TEST(pg_to_mysql_types)
{
	static const struct type_row rows[] = {
		{"boolean", "tinyint(1)", XF_BOOL_TO_01, 0},
		{"smallint", "smallint", 0, 0},
		{"integer", "int", 0, 0},
		{"bigint", "bigint", 0, 0},
		{"numeric(10,2)", "decimal(10,2)", 0, 0},
		{"numeric(65,30)", "decimal(65,30)", 0, 0},
		{"numeric(5,-2)", "decimal(7,0)", 0, 0},
		{"numeric(3,5)", "decimal(5,5)", 0, 0},
		{"numeric(70,10)", "decimal(65,30)", 0, 0},
		{"numeric(40,31)", "decimal(65,30)", 0, 0},
		{"numeric", "decimal(65,30)", 0, 0},
		{"real", "float", XF_FLOAT4_DIGITS, 0},
		{"double precision", "double", 0, 0},
		{"text", "longtext", 0, 0},
		{"character varying(20)", "varchar(20)", 0, 0},
		{"character varying(16383)", "varchar(16383)", 0, 0},
		{"character varying(16384)", "longtext", 0, 0},
		{"character varying", "longtext", 0, 0},
		{"character(3)", "char(3)", 0, 0},
		{"character(300)", "varchar(300)", 0, 0},
		{"bpchar", "longtext", 0, 0},
		{"bytea", "longblob", XF_PGHEX_TO_BYTES, 0},
		{"date", "date", 0, 0},
		{"timestamp without time zone", "datetime(6)", 0, 0},
		{"timestamp(3) without time zone", "datetime(3)", 0, 0},
		{"timestamp(0) without time zone", "datetime", 0, 0},
		{"timestamp with time zone", "datetime(6)", 0, 0},
		{"timestamp(3) with time zone", "datetime(3)", 0, 0},
		{"time without time zone", "time(6)", 0, 0},
		{"time(0) without time zone", "time", 0, 0},
		{"time with time zone", "varchar(32)", 0, 0},
		{"interval", "varchar(100)", 0, 0},
		{"interval(3)", "varchar(100)", 0, 0},
		{"interval year to month", "varchar(100)", 0, 0},
		{"uuid", "char(36)", 0, 0},
		{"json", "json", 0, 0},
		{"jsonb", "json", 0, 0},
		{"inet", "varchar(43)", 0, 0},
		{"cidr", "varchar(43)", 0, 0},
		{"macaddr", "varchar(43)", 0, 0},
		{"integer[]", "longtext", 0, 0},
		{"text[]", "longtext", 0, 0},
		{"character varying(20)[]", "longtext", 0, 0},
		{"bit(8)", "bit(8)", XF_PG_TEXTBITS_TO_BYTES, 8},
		{"bit(1)", "bit(1)", XF_PG_TEXTBITS_TO_BYTES, 1},
		{"bit(64)", "bit(64)", XF_PG_TEXTBITS_TO_BYTES, 64},
		{"bit(65)", "varchar(65)", 0, 0},
		{"bit varying(8)", "varchar(8)", 0, 0},
		{"bit varying", "longtext", 0, 0},
		{"money", "longtext", 0, 0},
		{"xml", "longtext", 0, 0},
		{"tsvector", "longtext", 0, 0},
		{"mood", "longtext", 0, 0},
		{"public.mood", "longtext", 0, 0},
		{"\"Mood\"", "longtext", 0, 0},
	};
	check_types(P, M, rows, sizeof rows / sizeof rows[0]);
}
END_TEST

/* What a user is told, and whether it counts as a loss. */
START_TEST(notes_and_losses)
{
	static const struct {
		const struct dialect *from, *to;
		const char *type;
		const char *note;
		bool lost;
	} rows[] = {
		{M, P, "tinyint(1)",
		 "tinyint(1) as boolean: values other than 0 and 1 are rejected", false},
		{M, P, "int(11)", "", false},
		{M, P, "char(10)", "char(10) as varchar(10): values keep no padding", false},
		{M, P, "time",
		 "time as interval: MySQL times span -838..838 hours, beyond "
		 "PostgreSQL's time",
		 false},
		{M, P, "set('x','y')", "set('x','y') as text: its members are not enforced", false},
		{M, P, "geometry",
		 "geometry as bytea (MySQL's SRID and WKB bytes): no spatial type", true},
		{M, P, "vector(3)", "vector(3): unknown type, copied as text", false},
		{M, P, "int(10) unsigned zerofill", "zerofill padding not kept", false},
		{M, P, "enum('a','b')", "", false},
		{P, M, "timestamp with time zone", "timestamp with time zone as datetime(6) in UTC",
		 false},
		{P, M, "numeric",
		 "numeric as decimal(65,30): values with more than 35 integer or 30 "
		 "fractional digits are rejected",
		 false},
		{P, M, "numeric(70,10)",
		 "numeric(70,10) is wider than MySQL's decimal(65,30): values "
		 "that do not fit are rejected",
		 true},
		{P, M, "money", "money as text (formatted with its currency)", true},
		{P, M, "interval", "interval as text", false},
		{P, M, "inet", "inet as text", false},
		{P, M, "integer[]", "integer[] as text ('{...}' array literal)", false},
		{P, M, "mood", "mood as text", false},
		{P, M, "bit varying(8)", "bit varying(8) as text of 0/1 digits", false},
		{P, M, "time with time zone",
		 "time with time zone as text: MySQL has no time with a "
		 "zone",
		 false},
		{P, M, "text", "", false},
		{P, M, "uuid", "", false},
	};
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		struct mapped_column m;
		map_col(rows[i].from, rows[i].to, rows[i].type, NULL, false, 0, NULL, &m);
		ck_assert_msg(!strcmp(m.note, rows[i].note), "%s: note '%s'", rows[i].type, m.note);
		ck_assert_msg(m.lost == rows[i].lost, "%s: lost %d", rows[i].type, m.lost);
	}
}
END_TEST

START_TEST(enum_checks)
{
	struct mapped_column m;
	map_col(M, P, "enum('a','','b''c')", NULL, false, 0, NULL, &m);
	ck_assert_str_eq(m.type, "text");
	ck_assert_str_eq(m.check_sql, "\"c\" IN ('a', '', 'b''c')");
	ck_assert(!m.lost);
	/* commas, parentheses and backslash escapes inside labels */
	map_col(M, P, "enum('a,b','c)','d\\\\e','f\\'g')", NULL, false, 0, NULL, &m);
	ck_assert_str_eq(m.check_sql, "\"c\" IN ('a,b', 'c)', 'd\\e', 'f''g')");
	/* the column's name is quoted */
	struct column_desc c = {.name = "we\"ird", .type = "enum('x')", .nullable = true};
	ck_assert(typemap_column(M, P, &c, false, 0, NULL, &m));
	ck_assert_str_eq(m.check_sql, "\"we\"\"ird\" IN ('x')");
	/* more labels than a CHECK can hold: not enforced, and said so */
	char big[8000] = "enum(";
	for (int i = 0; i < 600; i++)
		strcat(big, i ? ",'label'" : "'label'");
	strcat(big, ")");
	map_col(M, P, big, NULL, false, 0, NULL, &m);
	ck_assert_str_eq(m.type, "text");
	ck_assert_str_eq(m.check_sql, "");
	ck_assert(m.lost);
	ck_assert_str_eq(m.note, "enum labels not enforced: they do not fit a CHECK");
	/* kept as is between MySQL servers */
	map_col(M, M, "enum('a','','b''c')", NULL, false, 0, NULL, &m);
	ck_assert_str_eq(m.type, "enum('a','','b''c')");
	ck_assert_str_eq(m.check_sql, "");
}
END_TEST

START_TEST(mysql_keys)
{
	static const struct {
		const struct dialect *from;
		const char *type;
		long max_len;
		const char *want;
		bool lost;
	} rows[] = {
		{P, "text", 0, "varchar(255) COLLATE utf8mb4_bin", false},
		{P, "text", 1, "varchar(255) COLLATE utf8mb4_bin", false},
		{P, "text", 300, "varchar(300) COLLATE utf8mb4_bin", false},
		{P, "text", 768, "varchar(768) COLLATE utf8mb4_bin", false},
		{P, "text", 1000, "varchar(768) COLLATE utf8mb4_bin", true},
		{P, "character varying(20)", 5, "varchar(20) COLLATE utf8mb4_bin", false},
		{P, "character varying(768)", 5, "varchar(768) COLLATE utf8mb4_bin", false},
		{P, "character varying(1000)", 50, "varchar(255) COLLATE utf8mb4_bin", false},
		{P, "character varying(1000)", 900, "varchar(768) COLLATE utf8mb4_bin", true},
		{P, "character varying", 10, "varchar(255) COLLATE utf8mb4_bin", false},
		{P, "character(3)", 3, "char(3) COLLATE utf8mb4_bin", false},
		{P, "uuid", 36, "char(36) COLLATE utf8mb4_bin", false},
		{P, "inet", 10, "varchar(43) COLLATE utf8mb4_bin", false},
		{P, "integer[]", 10, "varchar(255) COLLATE utf8mb4_bin", false},
		{P, "jsonb", 10, "varchar(255) COLLATE utf8mb4_bin", false},
		{P, "mood", 10, "varchar(255) COLLATE utf8mb4_bin", false},
		{P, "bytea", 16, "varbinary(255)", false},
		{P, "bytea", 3000, "varbinary(3000)", false},
		{P, "bytea", 5000, "varbinary(3072)", true},
		{P, "integer", 0, "int", false},
		{M, "varchar(20)", 5, "varchar(20) COLLATE utf8mb4_bin", false},
		{M, "char(8)", 5, "char(8) COLLATE utf8mb4_bin", false},
		{M, "text", 40, "varchar(255) COLLATE utf8mb4_bin", false},
		{M, "longtext", 500, "varchar(500) COLLATE utf8mb4_bin", false},
		{M, "blob", 20, "varbinary(255)", false},
		{M, "varbinary(16)", 16, "varbinary(16)", false},
		{M, "int(11)", 0, "int(11)", false},
		{M, "enum('a','b')", 0, "enum('a','b')", false},
	};
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		struct mapped_column m;
		map_col(rows[i].from, M, rows[i].type, NULL, true, rows[i].max_len, NULL, &m);
		ck_assert_msg(!strcmp(m.type, rows[i].want), "%s (%ld) -> '%s', want '%s'",
			      rows[i].type, rows[i].max_len, m.type, rows[i].want);
		ck_assert_msg(m.lost == rows[i].lost, "%s (%ld): lost %d", rows[i].type,
			      rows[i].max_len, m.lost);
	}
	struct mapped_column m;
	map_col(P, M, "text", NULL, true, 40, NULL, &m);
	ck_assert_str_eq(m.note, "text in a key as varchar(255)");
	map_col(P, M, "text", NULL, true, 1000, NULL, &m);
	ck_assert_str_eq(m.note, "text in a key as varchar(768): its longest value has 1000 "
				 "characters, longer values are rejected");
	map_col(P, M, "bytea", NULL, true, 20, NULL, &m);
	ck_assert_uint_eq(m.xf, XF_PGHEX_TO_BYTES);
	/* PostgreSQL indexes any text: nothing changes there */
	map_col(M, P, "text", NULL, true, 5000, NULL, &m);
	ck_assert_str_eq(m.type, "text");
	ck_assert_str_eq(m.note, "");
}
END_TEST

START_TEST(same_server_types)
{
	static const struct type_row pg_rows[] = {
		{"character varying(20)", "character varying(20)", 0, 0},
		{"timestamp(3) with time zone", "timestamp(3) with time zone", 0, 0},
		{"numeric", "numeric", 0, 0},
		{"integer[]", "integer[]", 0, 0},
		{"bytea", "bytea", 0, 0},
		{"bit(8)", "bit(8)", 0, 0},
		{"boolean", "boolean", 0, 0},
		{"mood", "mood", 0, 0},
		{"public.mood", "public.mood", 0, 0},
		{"money", "money", 0, 0},
	};
	check_types(P, P, pg_rows, sizeof pg_rows / sizeof pg_rows[0]);
	static const struct type_row my_rows[] = {
		{"int(10) unsigned", "int(10) unsigned", 0, 0},
		{"tinyint(1)", "tinyint(1)", 0, 0},
		{"bit(12)", "bit(12)", 0, 0},
		{"date", "date", XF_ZERO_DATE_NULL, 0},
		{"datetime(6)", "datetime(6)", XF_ZERO_DATE_NULL, 0},
		{"timestamp", "timestamp", XF_ZERO_DATE_NULL, 0},
		{"time(6)", "time(6)", 0, 0},
		{"year(4)", "year(4)", 0, 0},
		{"longblob", "longblob", 0, 0},
		{"json", "json", 0, 0},
		{"set('x','y')", "set('x','y')", 0, 0},
		{"geometry", "geometry", 0, 0},
		{"longtext", "longtext", 0, 0},
	};
	check_types(M, M, my_rows, sizeof my_rows / sizeof my_rows[0]);
	struct mapped_column m;
	map_col(P, P, "text", NULL, true, 5000, NULL, &m);
	ck_assert_str_eq(m.type, "text");
	ck_assert_str_eq(m.note, "");
}
END_TEST

struct default_row {
	const char *type;
	const char *def;
	const char *want; /* "" for no default */
	bool lost;
};

static void check_defaults(const struct dialect *from, const struct dialect *to,
			   const struct default_row *rows, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct mapped_column m;
		map_col(from, to, rows[i].type, rows[i].def, false, 0, NULL, &m);
		ck_assert_msg(!strcmp(m.default_sql, rows[i].want),
			      "%s DEFAULT %s -> '%s', want '%s'", rows[i].type, rows[i].def,
			      m.default_sql, rows[i].want);
		ck_assert_msg(m.lost == rows[i].lost, "%s DEFAULT %s: lost %d (%s)", rows[i].type,
			      rows[i].def, m.lost, m.note);
		if (m.lost)
			ck_assert_msg(strstr(m.note, "not carried"), "%s", m.note);
	}
}

START_TEST(mysql_to_pg_defaults)
{
	static const struct default_row rows[] = {
		{"varchar(10)", "NULL", "", false},
		{"varchar(10)", "'abc'", "'abc'", false},
		{"varchar(10)", "'it''s'", "'it''s'", false},
		{"varchar(10)", "'a\\\\b'", "'a\\b'", false},
		{"varchar(10)", "'a\\'b'", "'a''b'", false},
		{"varchar(10)", "''", "''", false},
		{"varchar(10)", "'a\\0b'", "", true},
		{"varchar(10)", "0", "'0'", false},
		{"enum('a','b')", "'a'", "'a'", false},
		{"int(11)", "0", "0", false},
		{"int(11)", "-42", "-42", false},
		{"int(11)", "'7'", "'7'", false},
		{"decimal(12,2)", "0.00", "0.00", false},
		{"double", "1e10", "1e10", false},
		{"tinyint(1)", "0", "false", false},
		{"tinyint(1)", "1", "true", false},
		{"tinyint(1)", "'1'", "true", false},
		{"tinyint(1)", "2", "", true},
		{"bit(1)", "b'1'", "true", false},
		{"bit(1)", "b'0'", "false", false},
		{"bit(8)", "b'101'", "B'00000101'", false},
		{"timestamp", "current_timestamp()", "CURRENT_TIMESTAMP", false},
		{"timestamp(6)", "current_timestamp(6)", "CURRENT_TIMESTAMP", false},
		{"datetime", "CURRENT_TIMESTAMP", "CURRENT_TIMESTAMP", false},
		{"datetime(3)", "now(3)", "CURRENT_TIMESTAMP", false},
		{"date", "curdate()", "CURRENT_DATE", false},
		{"date", "current_date()", "CURRENT_DATE", false},
		{"int(11)", "current_timestamp()", "", true},
		{"date", "'2024-01-31'", "'2024-01-31'", false},
		{"datetime", "'2024-01-31 10:00:00'", "'2024-01-31 10:00:00'", false},
		{"timestamp", "'2024-01-31 10:00:00'", "'2024-01-31 10:00:00+00'", false},
		{"date", "'0000-00-00'", "", false},
		{"datetime", "'0000-00-00 00:00:00'", "", false},
		{"timestamp", "'2024-00-00 00:00:00'", "", false},
		{"char(36)", "uuid()", "gen_random_uuid()", false},
		{"uuid", "uuid()", "gen_random_uuid()", false},
		{"varbinary(4)", "'ab'", "'\\x6162'", false},
		{"varbinary(4)", "0", "'\\x30'", false},
		{"bit(8)", "0", "", true},
		{"time", "'12:30:00'", "'12:30:00'", false},
		{"year(4)", "2024", "2024", false},
		{"json", "'{}'", "'{}'", false},
		{"int(11)", "(`a` + 1)", "", true},
		{"varchar(10)", "concat('a','b')", "", true},
		{"varchar(10)", "", "", false},
	};
	check_defaults(M, P, rows, sizeof rows / sizeof rows[0]);
	struct mapped_column m;
	map_col(M, P, "datetime", "'0000-00-00 00:00:00'", false, 0, NULL, &m);
	ck_assert_str_eq(m.note, "zero-date default '0000-00-00 00:00:00' dropped (zero dates "
				 "become NULL)");
	map_col(M, P, "int(11)", "(`a` + 1)", false, 0, NULL, &m);
	ck_assert_str_eq(m.note, "default (`a` + 1) not carried");
}
END_TEST

START_TEST(pg_to_mysql_defaults)
{
	static const struct default_row rows[] = {
		{"text", "NULL::text", "", false},
		{"character varying(20)", "'abc'::character varying", "'abc'", false},
		{"character varying(20)", "'it''s'::character varying", "'it''s'", false},
		{"character varying(20)", "'a\\b'::character varying", "'a\\\\b'", false},
		{"character varying(20)", "E'a\\\\b'", "'a\\\\b'", false},
		{"text", "'abc'::text", "('abc')", false},
		{"text", "''::text", "('')", false},
		{"character(3)", "'ab'::bpchar", "'ab'", false},
		{"integer", "0", "0", false},
		{"integer", "'-1'::integer", "-1", false},
		{"numeric(12,2)", "0.00", "0.00", false},
		{"numeric(12,2)", "'-1.5'::numeric", "-1.5", false},
		{"boolean", "true", "1", false},
		{"boolean", "false", "0", false},
		{"timestamp without time zone", "now()", "CURRENT_TIMESTAMP(6)", false},
		{"timestamp(0) without time zone", "now()", "CURRENT_TIMESTAMP", false},
		{"timestamp(3) with time zone", "CURRENT_TIMESTAMP", "CURRENT_TIMESTAMP(3)", false},
		{"timestamp with time zone", "transaction_timestamp()", "CURRENT_TIMESTAMP(6)",
		 false},
		{"timestamp with time zone", "LOCALTIMESTAMP", "CURRENT_TIMESTAMP(6)", false},
		{"date", "CURRENT_DATE", "(curdate())", false},
		{"text", "now()", "", true},
		{"date", "'2024-01-31'::date", "'2024-01-31'", false},
		{"date", "'infinity'::date", "", true},
		{"timestamp without time zone", "'2024-01-31 10:00:00-05'::timestamp", "", true},
		{"timestamp with time zone", "'2024-01-31 10:00:00+00'::timestamp with time zone",
		 "'2024-01-31 10:00:00'", false},
		{"timestamp without time zone",
		 "'2024-01-31 10:00:00'::timestamp without time zone", "'2024-01-31 10:00:00'",
		 false},
		{"uuid", "gen_random_uuid()", "(uuid())", false},
		{"uuid", "uuid_generate_v4()", "(uuid())", false},
		{"jsonb", "'{}'::jsonb", "('{}')", false},
		{"integer[]", "'{}'::integer[]", "('{}')", false},
		{"bytea", "'\\x0a1b'::bytea", "(X'0a1b')", false},
		{"bit(4)", "B'0101'", "b'0101'", false},
		{"interval", "'1 day'::interval", "'1 day'", false},
		{"integer", "nextval('seq'::regclass)", "", true},
		{"text", "upper('a'::text)", "", true},
		{"text", "'a'::text || 'b'::text", "", true},
		{"integer", "my_func()", "", true},
	};
	check_defaults(P, M, rows, sizeof rows / sizeof rows[0]);
}
END_TEST

START_TEST(same_server_defaults)
{
	static const struct default_row pg_rows[] = {
		{"text", "'abc'::text", "'abc'::text", false},
		{"timestamp with time zone", "now()", "now()", false},
		{"uuid", "gen_random_uuid()", "gen_random_uuid()", false},
		{"integer", "nextval('shared_seq'::regclass)", "", true},
	};
	check_defaults(P, P, pg_rows, sizeof pg_rows / sizeof pg_rows[0]);
	static const struct default_row my_rows[] = {
		{"varchar(10)", "'abc'", "'abc'", false},
		{"varchar(10)", "NULL", "", false},
		{"int(11)", "0", "0", false},
		{"timestamp", "current_timestamp()", "current_timestamp()", false},
		{"date", "curdate()", "curdate()", false},
		{"char(36)", "uuid()", "uuid()", false},
		{"datetime", "'0000-00-00 00:00:00'", "", false},
		{"date", "'0000-00-00'", "", false},
		{"varchar(10)", "'0000-00-00'", "'0000-00-00'", false},
	};
	check_defaults(M, M, my_rows, sizeof my_rows / sizeof my_rows[0]);
}
END_TEST

START_TEST(identity)
{
	struct mapped_column m;
	struct column_desc c = {.name = "id", .type = "int(11)", .identity = true};
	ck_assert(typemap_column(M, P, &c, true, 0, NULL, &m));
	ck_assert_str_eq(m.type, "integer");
	ck_assert(m.identity && m.not_null && !m.default_sql[0] && !m.lost);
	/* the usual MySQL id: bigint unsigned keeps its identity as bigint */
	c.type = "bigint(20) unsigned";
	ck_assert(typemap_column(M, P, &c, true, 0, NULL, &m));
	ck_assert_str_eq(m.type, "bigint");
	ck_assert(m.identity);
	ck_assert_str_eq(m.note, "bigint unsigned AUTO_INCREMENT as bigint: ids above "
				 "9223372036854775807 are rejected");
	ck_assert(typemap_column(M, M, &c, true, 0, NULL, &m));
	ck_assert_str_eq(m.type, "bigint(20) unsigned");
	ck_assert(m.identity);
	/* a serial: nextval default dropped for the identity */
	struct column_desc s = {.name = "id",
				.type = "integer",
				.identity = true,
				.default_expr = "nextval('t_id_seq'::regclass)"};
	ck_assert(typemap_column(P, M, &s, true, 0, NULL, &m));
	ck_assert_str_eq(m.type, "int");
	ck_assert(m.identity && !m.default_sql[0] && !m.lost);
	ck_assert(typemap_column(P, P, &s, true, 0, NULL, &m));
	ck_assert_str_eq(m.type, "integer");
	ck_assert(m.identity && !m.default_sql[0] && !m.lost);
	/* an identity column has no default in pg_get_expr */
	s.default_expr = NULL;
	s.type = "bigint";
	ck_assert(typemap_column(P, P, &s, true, 0, NULL, &m));
	ck_assert(m.identity);
	/* only integer types can be identities */
	struct column_desc f = {.name = "x", .type = "double", .identity = true};
	ck_assert(typemap_column(M, P, &f, false, 0, NULL, &m));
	ck_assert(!m.identity && m.lost);
	ck_assert_str_eq(m.note, "AUTO_INCREMENT on double precision not carried");
	f.type = "numeric(10,0)";
	ck_assert(typemap_column(P, M, &f, false, 0, NULL, &m));
	ck_assert(!m.identity && m.lost);
	ck_assert_str_eq(m.note, "identity on decimal(10,0) not carried");
}
END_TEST

START_TEST(generated)
{
	struct mapped_column m;
	struct column_desc c = {.name = "total",
				.type = "decimal(12,2)",
				.nullable = true,
				.generated = "`price` * `qty`"};
	ck_assert(typemap_column(M, P, &c, false, 0, NULL, &m));
	ck_assert_str_eq(m.type, "numeric(12,2)");
	ck_assert(m.lost && !m.default_sql[0] && !m.identity);
	ck_assert_str_eq(m.note, "generated column: its values are copied, its expression "
				 "(`price` * `qty`) is not");
	c.type = "numeric(12,2)";
	c.generated = "(price * qty)";
	ck_assert(typemap_column(P, P, &c, false, 0, NULL, &m));
	ck_assert_str_eq(m.type, "numeric(12,2)");
	ck_assert(m.lost);
	/* MySQL 8 reports DEFAULT_GENERATED columns with an empty expression */
	c.type = "datetime";
	c.generated = "";
	c.default_expr = "CURRENT_TIMESTAMP";
	ck_assert(typemap_column(M, P, &c, false, 0, NULL, &m));
	ck_assert(!m.lost);
	ck_assert_str_eq(m.default_sql, "CURRENT_TIMESTAMP");
	/* a note too long for the field ends in "..." */
	char expr[1000];
	memset(expr, 'x', sizeof expr - 1);
	expr[sizeof expr - 1] = '\0';
	c.generated = expr;
	ck_assert(typemap_column(M, P, &c, false, 0, NULL, &m));
	ck_assert_uint_eq(strlen(m.note), sizeof m.note - 1);
	ck_assert_str_eq(m.note + sizeof m.note - 4, "...");
}
END_TEST

START_TEST(casts)
{
	struct mapped_column m;
	const char *cast =
		"tinyint(1)=smallint, json = text,decimal(12, 4)=numeric,"
		"int unsigned=numeric(10),datetime=text,bit(1)=smallint,timestamp="
		"timestamp with time zone,BIT=bit varying(64),enum=varchar(10),set=integer";
	map_col(M, P, "tinyint(1)", "1", false, 0, cast, &m);
	ck_assert_str_eq(m.type, "smallint");
	ck_assert_uint_eq(m.xf, 0);
	ck_assert_str_eq(m.note, "");
	ck_assert_str_eq(m.default_sql, "1");
	map_col(M, P, "TINYINT(1)", NULL, false, 0, cast, &m);
	ck_assert_str_eq(m.type, "smallint");
	map_col(M, P, "json", NULL, false, 0, cast, &m);
	ck_assert_str_eq(m.type, "text");
	/* the whole type, with the comma inside its parentheses */
	map_col(M, P, "decimal(12,4)", NULL, false, 0, cast, &m);
	ck_assert_str_eq(m.type, "numeric");
	map_col(M, P, "decimal(10,2)", NULL, false, 0, cast, &m);
	ck_assert_str_eq(m.type, "numeric(10,2)");
	/* the type without its (...) */
	map_col(M, P, "int(10) unsigned", NULL, false, 0, cast, &m);
	ck_assert_str_eq(m.type, "numeric(10)");
	map_col(M, P, "int(11)", NULL, false, 0, cast, &m);
	ck_assert_str_eq(m.type, "integer");
	/* the name before '(' */
	map_col(M, P, "datetime(6)", "'0000-00-00 00:00:00'", false, 0, cast, &m);
	ck_assert_str_eq(m.type, "text");
	ck_assert_uint_eq(m.xf, 0); /* zero dates go as text */
	ck_assert_str_eq(m.default_sql, "'0000-00-00 00:00:00'");
	map_col(M, P, "timestamp(3)", NULL, false, 0, cast, &m);
	ck_assert_str_eq(m.type, "timestamp with time zone");
	ck_assert_uint_eq(m.xf, XF_ZERO_DATE_NULL | XF_APPEND_UTC);
	/* bit(1) as a number: t/f then 1/0 */
	map_col(M, P, "bit(1)", NULL, false, 0, cast, &m);
	ck_assert_str_eq(m.type, "smallint");
	ck_assert_uint_eq(m.xf, XF_BIT_TO_BOOL | XF_BOOL_TO_01);
	map_col(M, P, "bit(12)", NULL, false, 0, cast, &m);
	ck_assert_str_eq(m.type, "bit varying(64)");
	ck_assert_uint_eq(m.xf, XF_BITS_TO_TEXT);
	ck_assert_int_eq(m.bits, 12);
	/* an enum's labels still hold for a text type, not for a number */
	map_col(M, P, "enum('a','b')", NULL, false, 0, cast, &m);
	ck_assert_str_eq(m.type, "varchar(10)");
	ck_assert_str_eq(m.check_sql, "\"c\" IN ('a', 'b')");
	map_col(M, P, "set('a','b')", NULL, false, 0, cast, &m);
	ck_assert_str_eq(m.type, "integer");
	ck_assert_str_eq(m.check_sql, "");
	/* PostgreSQL to MySQL */
	const char *pcast = "bytea=longtext,boolean=smallint,timestamp with time zone=timestamp(6),"
			    "character varying=text,bit=varchar(8),double precision=decimal(30,10)";
	map_col(P, M, "bytea", NULL, false, 0, pcast, &m);
	ck_assert_str_eq(m.type, "longtext");
	ck_assert_uint_eq(m.xf, 0); /* "\x..." text as is */
	map_col(P, M, "boolean", "true", false, 0, pcast, &m);
	ck_assert_str_eq(m.type, "smallint");
	ck_assert_uint_eq(m.xf, XF_BOOL_TO_01);
	ck_assert_str_eq(m.default_sql, "1");
	map_col(P, M, "timestamp(3) with time zone", "now()", false, 0, pcast, &m);
	ck_assert_str_eq(m.type, "timestamp(6)");
	ck_assert_str_eq(m.default_sql, "CURRENT_TIMESTAMP(6)");
	ck_assert_str_eq(m.note, "");
	map_col(P, M, "character varying(20)", NULL, false, 0, pcast, &m);
	ck_assert_str_eq(m.type, "text");
	map_col(P, M, "bit(8)", NULL, false, 0, pcast, &m);
	ck_assert_str_eq(m.type, "varchar(8)");
	ck_assert_uint_eq(m.xf, 0);
	ck_assert_int_eq(m.bits, 0);
	map_col(P, M, "double precision", NULL, false, 0, pcast, &m);
	ck_assert_str_eq(m.type, "decimal(30,10)");
	/* a cast wins over the mapping's losses too */
	map_col(M, P, "geometry", NULL, false, 0, "geometry=bytea", &m);
	ck_assert_str_eq(m.type, "bytea");
	ck_assert_uint_eq(m.xf, XF_BYTES_TO_PGHEX);
	ck_assert(!m.lost);
	/* entries without '=' or with no target are ignored */
	map_col(M, P, "int(11)", NULL, false, 0, "int,int=,=bigint", &m);
	ck_assert_str_eq(m.type, "integer");
	/* same server */
	map_col(M, M, "tinyint(1)", NULL, false, 0, "tinyint(1)=bit(1)", &m);
	ck_assert_str_eq(m.type, "bit(1)");
	map_col(M, M, "datetime", NULL, false, 0, "datetime=datetime(6)", &m);
	ck_assert_uint_eq(m.xf, XF_ZERO_DATE_NULL);
	/* an identity needs an integer target */
	struct column_desc c = {.name = "id", .type = "int(11)", .identity = true};
	ck_assert(typemap_column(M, P, &c, true, 0, "int=bigint", &m));
	ck_assert_str_eq(m.type, "bigint");
	ck_assert(m.identity);
	ck_assert(typemap_column(M, P, &c, true, 0, "int=text", &m));
	ck_assert(!m.identity && m.lost);
}
END_TEST

START_TEST(column_failures)
{
	struct mapped_column m;
	struct column_desc c = {.name = "", .type = "enum('a')"};
	ck_assert(!typemap_column(M, P, &c, false, 0, NULL, &m));
	ck_assert_str_eq(m.note, "a column without a name or type");
	c.name = "c";
	c.type = NULL;
	ck_assert(!typemap_column(M, P, &c, false, 0, NULL, &m));
	/* a MySQL enum kept as is that does not fit the type field */
	char big[5000] = "enum(";
	for (int i = 0; i < 300; i++)
		strcat(big, i ? ",'label'" : "'label'");
	strcat(big, ")");
	c.type = big;
	ck_assert(!typemap_column(M, M, &c, false, 0, NULL, &m));
	ck_assert(strstr(m.note, "does not fit"));
	struct dialect other = pg_dialect;
	other.name = "oracle";
	c.type = "int";
	ck_assert(!typemap_column(&other, P, &c, false, 0, NULL, &m));
	ck_assert_str_eq(m.note, "unknown server kind");
}
END_TEST

/* A MySQL shop table, as describe_full would give it. */
static struct column_desc mysql_cols[] = {
	{.name = "id", .type = "bigint(20) unsigned", .identity = true},
	{.name = "customer_id", .type = "int(11)"},
	{.name = "status", .type = "enum('new','paid','it''s')", .default_expr = "'new'"},
	{.name = "total", .type = "decimal(12,2)", .default_expr = "0.00"},
	{.name = "paid", .type = "tinyint(1)", .default_expr = "0"},
	{.name = "note", .type = "varchar(255)", .nullable = true, .default_expr = "NULL"},
	{.name = "created_at", .type = "timestamp", .default_expr = "current_timestamp()"},
	{.name = "shipped", .type = "datetime(6)", .nullable = true},
	{.name = "payload", .type = "json", .nullable = true},
	{.name = "photo", .type = "longblob", .nullable = true},
};

static char *pk_id[] = {"id"};

START_TEST(create_table_mysql_to_pg)
{
	struct table_desc t = {.exists = true, .ncols = 10, .cols = mysql_cols};
	struct mapped_column m[10];
	for (int i = 0; i < 10; i++)
		ck_assert(typemap_column(M, P, &mysql_cols[i], i == 0, 0, NULL, &m[i]));
	struct index_desc pk = {
		.name = "PRIMARY", .primary = true, .unique = true, .ncols = 1, .cols = pk_id};
	struct write_spec spec = {.schema = "public", .table = "orders"};
	struct buf b;
	buf_init(&b, 0);
	ck_assert(typemap_create_table(P, &b, &spec, &t, m, &pk));
	ck_assert_str_eq(b.data,
			 "CREATE TABLE \"public\".\"orders\" (\n"
			 "    \"id\" bigint GENERATED BY DEFAULT AS IDENTITY,\n"
			 "    \"customer_id\" integer NOT NULL,\n"
			 "    \"status\" text NOT NULL DEFAULT 'new' CHECK (\"status\" IN ('new', "
			 "'paid', 'it''s')),\n"
			 "    \"total\" numeric(12,2) NOT NULL DEFAULT 0.00,\n"
			 "    \"paid\" boolean NOT NULL DEFAULT false,\n"
			 "    \"note\" varchar(255),\n"
			 "    \"created_at\" timestamp(0) with time zone NOT NULL DEFAULT "
			 "CURRENT_TIMESTAMP,\n"
			 "    \"shipped\" timestamp(6) without time zone,\n"
			 "    \"payload\" jsonb,\n"
			 "    \"photo\" bytea,\n"
			 "    PRIMARY KEY (\"id\")\n"
			 ")");
	/* MySQL to MySQL: kept, and the AUTO_INCREMENT column leads the key */
	for (int i = 0; i < 10; i++)
		ck_assert(typemap_column(M, M, &mysql_cols[i], i == 0, 0, NULL, &m[i]));
	buf_reset(&b);
	spec.schema = NULL;
	ck_assert(typemap_create_table(M, &b, &spec, &t, m, &pk));
	ck_assert_str_eq(b.data,
			 "CREATE TABLE `orders` (\n"
			 "    `id` bigint(20) unsigned NOT NULL AUTO_INCREMENT,\n"
			 "    `customer_id` int(11) NOT NULL,\n"
			 "    `status` enum('new','paid','it''s') NOT NULL DEFAULT 'new',\n"
			 "    `total` decimal(12,2) NOT NULL DEFAULT 0.00,\n"
			 "    `paid` tinyint(1) NOT NULL DEFAULT 0,\n"
			 "    `note` varchar(255),\n"
			 "    `created_at` timestamp NOT NULL DEFAULT current_timestamp(),\n"
			 "    `shipped` datetime(6),\n"
			 "    `payload` json,\n"
			 "    `photo` longblob,\n"
			 "    PRIMARY KEY (`id`)\n"
			 ") DEFAULT CHARSET=utf8mb4");
	buf_free(&b);
}
END_TEST

/* A PostgreSQL shop table. */
static struct column_desc pg_cols[] = {
	{.name = "id",
	 .type = "integer",
	 .identity = true,
	 .default_expr = "nextval('orders_id_seq'::regclass)"},
	{.name = "customer_email", .type = "text"},
	{.name = "status",
	 .type = "character varying(20)",
	 .default_expr = "'new'::character varying"},
	{.name = "total", .type = "numeric(12,2)", .default_expr = "0"},
	{.name = "paid", .type = "boolean", .default_expr = "false"},
	{.name = "created_at", .type = "timestamp with time zone", .default_expr = "now()"},
	{.name = "tags", .type = "text[]", .nullable = true, .default_expr = "'{}'::text[]"},
	{.name = "body", .type = "bytea", .nullable = true},
	{.name = "ref", .type = "uuid", .nullable = true, .default_expr = "gen_random_uuid()"},
};

START_TEST(create_table_pg_to_mysql)
{
	struct table_desc t = {.exists = true, .ncols = 9, .cols = pg_cols};
	struct mapped_column m[9];
	for (int i = 0; i < 9; i++)
		ck_assert(typemap_column(P, M, &pg_cols[i], i < 2, i == 1 ? 40 : 0, NULL, &m[i]));
	struct index_desc pk = {
		.name = "orders_pkey", .primary = true, .unique = true, .ncols = 1, .cols = pk_id};
	struct write_spec spec = {.schema = "shop", .table = "orders"};
	struct buf b;
	buf_init(&b, 0);
	ck_assert(typemap_create_table(M, &b, &spec, &t, m, &pk));
	ck_assert_str_eq(b.data,
			 "CREATE TABLE `shop`.`orders` (\n"
			 "    `id` int NOT NULL AUTO_INCREMENT,\n"
			 "    `customer_email` varchar(255) COLLATE utf8mb4_bin NOT NULL,\n"
			 "    `status` varchar(20) NOT NULL DEFAULT 'new',\n"
			 "    `total` decimal(12,2) NOT NULL DEFAULT 0,\n"
			 "    `paid` tinyint(1) NOT NULL DEFAULT 0,\n"
			 "    `created_at` datetime(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),\n"
			 "    `tags` longtext DEFAULT ('{}'),\n"
			 "    `body` longblob,\n"
			 "    `ref` char(36) DEFAULT (uuid()),\n"
			 "    PRIMARY KEY (`id`)\n"
			 ") DEFAULT CHARSET=utf8mb4");
	/* an AUTO_INCREMENT column outside the primary key gets a key of its own;
	 * a second identity is a plain column (MySQL allows one) */
	struct column_desc cols[] = {
		{.name = "code", .type = "text"},
		{.name = "n", .type = "bigint", .identity = true},
		{.name = "k", .type = "integer", .identity = true},
	};
	struct table_desc t2 = {.ncols = 3, .cols = cols};
	for (int i = 0; i < 3; i++)
		ck_assert(typemap_column(P, M, &cols[i], i == 0, 8, NULL, &m[i]));
	char *pk_code[] = {"code"};
	pk.cols = pk_code;
	buf_reset(&b);
	spec.schema = NULL;
	ck_assert(typemap_create_table(M, &b, &spec, &t2, m, &pk));
	ck_assert_str_eq(b.data, "CREATE TABLE `orders` (\n"
				 "    `code` varchar(255) COLLATE utf8mb4_bin NOT NULL,\n"
				 "    `n` bigint NOT NULL AUTO_INCREMENT,\n"
				 "    `k` int NOT NULL,\n"
				 "    PRIMARY KEY (`code`),\n"
				 "    KEY (`n`)\n"
				 ") DEFAULT CHARSET=utf8mb4");
	/* the same on PostgreSQL: both identities, no primary key */
	for (int i = 0; i < 3; i++)
		ck_assert(typemap_column(P, P, &cols[i], i == 0, 8, NULL, &m[i]));
	buf_reset(&b);
	ck_assert(typemap_create_table(P, &b, &spec, &t2, m, NULL));
	ck_assert_str_eq(b.data, "CREATE TABLE \"orders\" (\n"
				 "    \"code\" text NOT NULL,\n"
				 "    \"n\" bigint GENERATED BY DEFAULT AS IDENTITY,\n"
				 "    \"k\" integer GENERATED BY DEFAULT AS IDENTITY\n"
				 ")");
	buf_free(&b);
}
END_TEST

START_TEST(create_table_failures)
{
	struct column_desc cols[] = {{.name = "a", .type = "integer"},
				     {.name = "", .type = "integer"}};
	struct table_desc t = {.ncols = 2, .cols = cols};
	struct mapped_column m[2];
	ck_assert(typemap_column(P, P, &cols[0], false, 0, NULL, &m[0]));
	m[1] = m[0];
	struct write_spec spec = {.table = "t"};
	struct buf b;
	buf_init(&b, 0);
	ck_assert(buf_puts(&b, "before;"));
	/* a name that cannot be quoted: nothing appended */
	ck_assert(!typemap_create_table(P, &b, &spec, &t, m, NULL));
	ck_assert_str_eq(b.data, "before;");
	/* the buffer's ceiling: nothing appended */
	struct buf small;
	buf_init(&small, 20);
	t.ncols = 1;
	ck_assert(!typemap_create_table(P, &small, &spec, &t, m, NULL));
	ck_assert_uint_eq(small.len, 0);
	t.ncols = 0;
	ck_assert(!typemap_create_table(P, &b, &spec, &t, m, NULL));
	buf_free(&small);
	buf_free(&b);
}
END_TEST

START_TEST(indexes)
{
	char *ab[] = {"a", "b"};
	struct write_spec spec = {.schema = "public", .table = "orders"};
	struct index_desc idx = {.name = "idx_a", .method = "BTREE", .ncols = 2, .cols = ab};
	struct buf b;
	char why[256];
	buf_init(&b, 0);
	/* MySQL names indexes per table, PostgreSQL per schema */
	ck_assert(typemap_create_index(M, P, &b, &spec, &idx, why, sizeof why));
	ck_assert_str_eq(b.data,
			 "CREATE INDEX \"orders_idx_a\" ON \"public\".\"orders\" (\"a\", \"b\")");
	buf_reset(&b);
	idx.unique = true;
	ck_assert(typemap_create_index(M, P, &b, &spec, &idx, why, sizeof why));
	ck_assert_str_eq(
		b.data,
		"CREATE UNIQUE INDEX \"orders_idx_a\" ON \"public\".\"orders\" (\"a\", \"b\")");
	buf_reset(&b);
	ck_assert(typemap_create_index(P, P, &b, &spec, &idx, why, sizeof why));
	ck_assert_str_eq(b.data,
			 "CREATE UNIQUE INDEX \"idx_a\" ON \"public\".\"orders\" (\"a\", \"b\")");
	buf_reset(&b);
	spec.schema = "shop";
	ck_assert(typemap_create_index(P, M, &b, &spec, &idx, why, sizeof why));
	ck_assert_str_eq(b.data, "CREATE UNIQUE INDEX `idx_a` ON `shop`.`orders` (`a`, `b`)");
	buf_reset(&b);
	ck_assert(typemap_create_index(M, M, &b, &spec, &idx, why, sizeof why));
	ck_assert_str_eq(b.data, "CREATE UNIQUE INDEX `idx_a` ON `shop`.`orders` (`a`, `b`)");
	/* hash: the target's default method across servers, kept on PostgreSQL */
	idx.unique = false;
	idx.method = "hash";
	buf_reset(&b);
	ck_assert(typemap_create_index(P, M, &b, &spec, &idx, why, sizeof why));
	ck_assert_str_eq(b.data, "CREATE INDEX `idx_a` ON `shop`.`orders` (`a`, `b`)");
	buf_reset(&b);
	spec.schema = NULL;
	ck_assert(typemap_create_index(P, P, &b, &spec, &idx, why, sizeof why));
	ck_assert_str_eq(b.data, "CREATE INDEX \"idx_a\" ON \"orders\" USING hash (\"a\", \"b\")");
	buf_reset(&b);
	ck_assert(typemap_create_index(M, P, &b, &spec, &idx, why, sizeof why));
	ck_assert_str_eq(b.data, "CREATE INDEX \"orders_idx_a\" ON \"orders\" (\"a\", \"b\")");
	/* other methods on the same server only */
	idx.method = "gin";
	buf_reset(&b);
	ck_assert(typemap_create_index(P, P, &b, &spec, &idx, why, sizeof why));
	ck_assert_str_eq(b.data, "CREATE INDEX \"idx_a\" ON \"orders\" USING gin (\"a\", \"b\")");
	buf_reset(&b);
	ck_assert(!typemap_create_index(P, M, &b, &spec, &idx, why, sizeof why));
	ck_assert_str_eq(why, "index idx_a is a gin index, which mysql does not have");
	ck_assert_uint_eq(b.len, 0);
	idx.method = "FULLTEXT";
	ck_assert(typemap_create_index(M, M, &b, &spec, &idx, why, sizeof why));
	ck_assert_str_eq(b.data, "CREATE FULLTEXT INDEX `idx_a` ON `orders` (`a`, `b`)");
	buf_reset(&b);
	ck_assert(!typemap_create_index(M, P, &b, &spec, &idx, why, sizeof why));
	ck_assert_str_eq(why, "index idx_a is a FULLTEXT index, which postgresql does not have");
	idx.method = "SPATIAL";
	ck_assert(typemap_create_index(M, M, &b, &spec, &idx, why, sizeof why));
	ck_assert_str_eq(b.data, "CREATE SPATIAL INDEX `idx_a` ON `orders` (`a`, `b`)");
	buf_reset(&b);
	ck_assert(!typemap_create_index(M, P, &b, &spec, &idx, why, sizeof why));
	idx.method = "gist";
	ck_assert(!typemap_create_index(P, M, &b, &spec, &idx, why, sizeof why));
	idx.method = "brin";
	ck_assert(!typemap_create_index(P, M, &b, &spec, &idx, why, sizeof why));
	idx.method = "bad method";
	ck_assert(!typemap_create_index(P, P, &b, &spec, &idx, why, sizeof why));
	ck_assert_uint_eq(b.len, 0);
	/* no method: btree */
	idx.method = NULL;
	ck_assert(typemap_create_index(P, P, &b, &spec, &idx, why, sizeof why));
	ck_assert_str_eq(b.data, "CREATE INDEX \"idx_a\" ON \"orders\" (\"a\", \"b\")");
	buf_reset(&b);
	/* refusals */
	idx.expression = true;
	ck_assert(!typemap_create_index(P, P, &b, &spec, &idx, why, sizeof why));
	ck_assert_str_eq(why, "index idx_a is on an expression or partial: not carried");
	idx.expression = false;
	idx.primary = true;
	ck_assert(!typemap_create_index(M, P, &b, &spec, &idx, why, sizeof why));
	ck_assert_str_eq(why, "index idx_a is the primary key, made with the table");
	idx.primary = false;
	idx.ncols = 0;
	ck_assert(!typemap_create_index(M, P, &b, &spec, &idx, why, sizeof why));
	ck_assert_str_eq(why, "index idx_a has no columns");
	ck_assert_uint_eq(b.len, 0);
	/* a quoted name */
	idx.ncols = 1;
	idx.name = "i\"x";
	spec.table = "t`q";
	ck_assert(typemap_create_index(M, P, &b, &spec, &idx, why, sizeof why));
	ck_assert_str_eq(b.data, "CREATE INDEX \"t`q_i\"\"x\" ON \"t`q\" (\"a\")");
	buf_reset(&b);
	ck_assert(typemap_create_index(M, M, &b, &spec, &idx, why, sizeof why));
	ck_assert_str_eq(b.data, "CREATE INDEX `i\"x` ON `t``q` (`a`)");
	buf_free(&b);
}
END_TEST

START_TEST(foreign_keys)
{
	char *cols[] = {"customer_id", "region"};
	char *ref_cols[] = {"id", "region"};
	struct fkey_desc fk = {.name = "fk_customer",
			       .ncols = 2,
			       .cols = cols,
			       .ref_table = "customers",
			       .ref_cols = ref_cols,
			       .on_delete = "CASCADE",
			       .on_update = "NO ACTION"};
	struct write_spec spec = {.schema = "shop", .table = "orders"};
	struct buf b;
	buf_init(&b, 0);
	ck_assert(typemap_add_fkey(P, &b, &spec, &fk));
	ck_assert_str_eq(b.data, "ALTER TABLE \"shop\".\"orders\" ADD CONSTRAINT \"fk_customer\" "
				 "FOREIGN KEY (\"customer_id\", \"region\") REFERENCES "
				 "\"shop\".\"customers\" (\"id\", \"region\") ON DELETE CASCADE");
	buf_reset(&b);
	fk.on_delete = "set null";
	fk.on_update = "RESTRICT";
	fk.ref_schema = "crm";
	ck_assert(typemap_add_fkey(M, &b, &spec, &fk));
	ck_assert_str_eq(b.data,
			 "ALTER TABLE `shop`.`orders` ADD CONSTRAINT `fk_customer` "
			 "FOREIGN KEY (`customer_id`, `region`) REFERENCES `crm`.`customers` "
			 "(`id`, `region`) ON DELETE SET NULL ON UPDATE RESTRICT");
	buf_reset(&b);
	fk.on_delete = NULL;
	fk.on_update = NULL;
	fk.ref_schema = NULL;
	spec.schema = NULL;
	ck_assert(typemap_add_fkey(M, &b, &spec, &fk));
	ck_assert_str_eq(b.data,
			 "ALTER TABLE `orders` ADD CONSTRAINT `fk_customer` FOREIGN KEY "
			 "(`customer_id`, `region`) REFERENCES `customers` (`id`, `region`)");
	buf_reset(&b);
	fk.on_delete = "SET DEFAULT";
	ck_assert(typemap_add_fkey(P, &b, &spec, &fk));
	ck_assert(strstr(b.data, " ON DELETE SET DEFAULT"));
	buf_reset(&b);
	fk.on_delete = "CASCADE; DROP TABLE x";
	ck_assert(!typemap_add_fkey(P, &b, &spec, &fk));
	ck_assert_uint_eq(b.len, 0);
	fk.on_delete = NULL;
	fk.ncols = 0;
	ck_assert(!typemap_add_fkey(P, &b, &spec, &fk));
	fk.ncols = 2;
	fk.name = "";
	ck_assert(!typemap_add_fkey(P, &b, &spec, &fk));
	ck_assert_uint_eq(b.len, 0);
	buf_free(&b);
}
END_TEST

/* Apply xf to in (n bytes); expect want (wn bytes), or NULL for a NULL. */
static void expect_value(unsigned xf, int bits, const char *in, size_t n, const char *want,
			 size_t wn)
{
	struct buf out;
	buf_init(&out, 0);
	bool is_null = true;
	char why[128] = "x";
	ck_assert_msg(typemap_value(xf, bits, in, n, &out, &is_null, why, sizeof why), "xf %u: %s",
		      xf, why);
	if (!want) {
		ck_assert_msg(is_null, "xf %u: '%.*s' should be NULL", xf, (int)n, in);
	} else {
		ck_assert_msg(!is_null, "xf %u: '%.*s' is NULL", xf, (int)n, in);
		ck_assert_uint_eq(out.len, wn);
		ck_assert_mem_eq(out.data ? out.data : "", want, wn);
		if (out.data)
			ck_assert_int_eq(out.data[wn], '\0');
	}
	ck_assert_str_eq(why, "");
	buf_free(&out);
}

#define EXPECT(xf, bits, in, want)                                                                 \
	expect_value((xf), (bits), (in), sizeof(in) - 1, (want), sizeof(want) - 1)
#define EXPECT_NULL(xf, in) expect_value((xf), 0, (in), sizeof(in) - 1, NULL, 0)

/* Expect xf to refuse in, with why containing what. */
static void expect_refused(unsigned xf, int bits, const char *in, size_t n, const char *what)
{
	struct buf out;
	buf_init(&out, 0);
	bool is_null = true;
	char why[128] = "";
	ck_assert_msg(!typemap_value(xf, bits, in, n, &out, &is_null, why, sizeof why),
		      "xf %u: '%.*s' should be refused", xf, (int)n, in);
	ck_assert_msg(strstr(why, what), "why '%s', want '%s'", why, what);
	ck_assert(!is_null);
	buf_free(&out);
}

#define REFUSED(xf, bits, in, what) expect_refused((xf), (bits), (in), sizeof(in) - 1, (what))

START_TEST(value_zero_dates)
{
	EXPECT_NULL(XF_ZERO_DATE_NULL, "0000-00-00");
	EXPECT_NULL(XF_ZERO_DATE_NULL, "0000-00-00 00:00:00");
	EXPECT_NULL(XF_ZERO_DATE_NULL, "0000-00-00 00:00:00.000000");
	EXPECT_NULL(XF_ZERO_DATE_NULL, "2024-00-10");
	EXPECT_NULL(XF_ZERO_DATE_NULL, "2024-05-00");
	EXPECT_NULL(XF_ZERO_DATE_NULL, "2024-05-00 10:11:12");
	EXPECT_NULL(XF_ZERO_DATE_NULL, "2024-00-00 00:00:00.5");
	EXPECT(XF_ZERO_DATE_NULL, 0, "0009-12-04", "0009-12-04");
	EXPECT(XF_ZERO_DATE_NULL, 0, "0000-01-01", "0000-01-01");
	EXPECT(XF_ZERO_DATE_NULL, 0, "2024-10-10", "2024-10-10");
	EXPECT(XF_ZERO_DATE_NULL, 0, "2000-10-20 00:00:00", "2000-10-20 00:00:00");
	EXPECT(XF_ZERO_DATE_NULL, 0, "1000-01-01 00:00:00.000000", "1000-01-01 00:00:00.000000");
	EXPECT(XF_ZERO_DATE_NULL, 0, "", "");
	EXPECT(XF_ZERO_DATE_NULL, 0, "0000-00", "0000-00");
	EXPECT(XF_ZERO_DATE_NULL, 0, "0000-00-00x", "0000-00-00x");
	/* a timestamp: NULL first, or "+00" */
	EXPECT_NULL(XF_ZERO_DATE_NULL | XF_APPEND_UTC, "0000-00-00 00:00:00");
	EXPECT(XF_ZERO_DATE_NULL | XF_APPEND_UTC, 0, "2024-01-02 03:04:05",
	       "2024-01-02 03:04:05+00");
	EXPECT(XF_APPEND_UTC, 0, "2024-01-02 03:04:05.123456", "2024-01-02 03:04:05.123456+00");
	/* NULL stays NULL */
	struct buf out;
	buf_init(&out, 0);
	bool is_null = false;
	ck_assert(typemap_value(XF_APPEND_UTC, 0, NULL, 0, &out, &is_null, NULL, 0));
	ck_assert(is_null);
	buf_free(&out);
}
END_TEST

START_TEST(value_bytes)
{
	EXPECT(XF_BYTES_TO_PGHEX, 0, "\x00\x01\xff\x0a\x00", "\\x0001ff0a00");
	EXPECT(XF_BYTES_TO_PGHEX, 0, "", "\\x");
	EXPECT(XF_BYTES_TO_PGHEX, 0, "AB", "\\x4142");
	EXPECT(XF_PGHEX_TO_BYTES, 0, "\\x0001ff0A00", "\x00\x01\xff\x0a\x00");
	EXPECT(XF_PGHEX_TO_BYTES, 0, "\\x", "");
	EXPECT(XF_PGHEX_TO_BYTES, 0, "\\x4142", "AB");
	REFUSED(XF_PGHEX_TO_BYTES, 0, "0001", "not \\x hex");
	REFUSED(XF_PGHEX_TO_BYTES, 0, "\\x0", "not \\x hex");
	REFUSED(XF_PGHEX_TO_BYTES, 0, "\\xzz", "not \\x hex");
	REFUSED(XF_PGHEX_TO_BYTES, 0, "\\X00", "not \\x hex");
	REFUSED(XF_PGHEX_TO_BYTES, 0, "\\\\000", "not \\x hex");
	REFUSED(XF_PGHEX_TO_BYTES, 0, "", "not \\x hex");
	/* chained, so that a step reads the previous step's output in place */
	EXPECT(XF_BYTES_TO_PGHEX | XF_PGHEX_TO_BYTES, 0, "\x00\xfe", "\x00\xfe");
	EXPECT(XF_BYTES_TO_PGHEX | XF_APPEND_UTC, 0, "\x01", "\\x01+00");
	/* a large value, several buffer growths */
	static char big[100000];
	for (size_t i = 0; i < sizeof big; i++)
		big[i] = (char)i;
	struct buf hex, back;
	buf_init(&hex, 0);
	buf_init(&back, 0);
	bool is_null;
	char why[64];
	ck_assert(typemap_value(XF_BYTES_TO_PGHEX, 0, big, sizeof big, &hex, &is_null, why,
				sizeof why));
	ck_assert_uint_eq(hex.len, 2 + 2 * sizeof big);
	ck_assert(typemap_value(XF_PGHEX_TO_BYTES, 0, hex.data, hex.len, &back, &is_null, why,
				sizeof why));
	ck_assert_uint_eq(back.len, sizeof big);
	ck_assert_mem_eq(back.data, big, sizeof big);
	/* the out buffer's ceiling */
	struct buf small;
	buf_init(&small, 5);
	ck_assert(
		!typemap_value(XF_BYTES_TO_PGHEX, 0, "abc", 3, &small, &is_null, why, sizeof why));
	ck_assert_str_eq(why, "value too large");
	buf_free(&small);
	buf_free(&hex);
	buf_free(&back);
}
END_TEST

START_TEST(value_bits)
{
	EXPECT(XF_BIT_TO_BOOL, 0, "\x00", "f");
	EXPECT(XF_BIT_TO_BOOL, 0, "\x01", "t");
	EXPECT(XF_BIT_TO_BOOL, 0, "\x00\x01", "t");
	REFUSED(XF_BIT_TO_BOOL, 0, "\x02", "not a bit(1) value");
	REFUSED(XF_BIT_TO_BOOL, 0, "1", "not a bit(1) value");
	REFUSED(XF_BIT_TO_BOOL, 0, "", "not a bit(1) value");
	REFUSED(XF_BIT_TO_BOOL, 0, "\x01\x00", "wider than one bit");
	EXPECT(XF_BIT_TO_BOOL | XF_BOOL_TO_01, 0, "\x01", "1");
	EXPECT(XF_BIT_TO_BOOL | XF_BOOL_TO_01, 0, "\x00", "0");
	EXPECT(XF_BITS_TO_TEXT, 12, "\x01\x23", "000100100011");
	EXPECT(XF_BITS_TO_TEXT, 12, "\x0f\xff", "111111111111");
	EXPECT(XF_BITS_TO_TEXT, 12, "\x00\x00", "000000000000");
	EXPECT(XF_BITS_TO_TEXT, 8, "\xff", "11111111");
	EXPECT(XF_BITS_TO_TEXT, 8, "\x80", "10000000");
	EXPECT(XF_BITS_TO_TEXT, 3, "\x05", "101");
	EXPECT(XF_BITS_TO_TEXT, 10, "\x05", "0000000101");	/* fewer bytes: zeros ahead */
	EXPECT(XF_BITS_TO_TEXT, 8, "\x00\x00\x81", "10000001"); /* more: zero bytes ahead */
	EXPECT(XF_BITS_TO_TEXT, 64, "\x80\x00\x00\x00\x00\x00\x00\x01",
	       "1000000000000000000000000000000000000000000000000000000000000001");
	REFUSED(XF_BITS_TO_TEXT, 12, "\x10\x00", "wider than bit(12)");
	REFUSED(XF_BITS_TO_TEXT, 3, "\x08", "wider than bit(3)");
	REFUSED(XF_BITS_TO_TEXT, 8, "\x01\x00", "wider than bit(8)");
	REFUSED(XF_BITS_TO_TEXT, 8, "", "not a bit(8) value");
	REFUSED(XF_BITS_TO_TEXT, 0, "\x01", "not a bit(0) value");
	EXPECT(XF_PG_TEXTBITS_TO_BYTES, 12, "000100100011", "\x01\x23");
	EXPECT(XF_PG_TEXTBITS_TO_BYTES, 12, "111111111111", "\x0f\xff");
	EXPECT(XF_PG_TEXTBITS_TO_BYTES, 8, "10000000", "\x80");
	EXPECT(XF_PG_TEXTBITS_TO_BYTES, 8, "00000000", "\x00");
	EXPECT(XF_PG_TEXTBITS_TO_BYTES, 1, "1", "\x01");
	EXPECT(XF_PG_TEXTBITS_TO_BYTES, 1, "0", "\x00");
	EXPECT(XF_PG_TEXTBITS_TO_BYTES, 16, "101", "\x00\x05");
	EXPECT(XF_PG_TEXTBITS_TO_BYTES, 64,
	       "1000000000000000000000000000000000000000000000000000000000000001",
	       "\x80\x00\x00\x00\x00\x00\x00\x01");
	REFUSED(XF_PG_TEXTBITS_TO_BYTES, 12, "1111111111111", "wider than bit(12)");
	REFUSED(XF_PG_TEXTBITS_TO_BYTES, 8, "0102", "0/1 digits");
	REFUSED(XF_PG_TEXTBITS_TO_BYTES, 8, "", "0/1 digits");
	/* the input need not be NUL-terminated */
	expect_value(XF_PG_TEXTBITS_TO_BYTES, 4, "1012", 3, "\x05", 1);
	/* round trips */
	for (int v = 0; v < 4096; v += 37) {
		char raw[2] = {(char)(v >> 8), (char)(v & 255)};
		struct buf text, bytes;
		buf_init(&text, 0);
		buf_init(&bytes, 0);
		bool is_null;
		char why[64];
		ck_assert(typemap_value(XF_BITS_TO_TEXT, 12, raw, 2, &text, &is_null, why,
					sizeof why));
		ck_assert(typemap_value(XF_PG_TEXTBITS_TO_BYTES, 12, text.data, text.len, &bytes,
					&is_null, why, sizeof why));
		ck_assert_uint_eq(bytes.len, 2);
		ck_assert_mem_eq(bytes.data, raw, 2);
		buf_free(&text);
		buf_free(&bytes);
	}
}
END_TEST

START_TEST(value_booleans_and_none)
{
	EXPECT(XF_BOOL_TO_01, 0, "t", "1");
	EXPECT(XF_BOOL_TO_01, 0, "f", "0");
	REFUSED(XF_BOOL_TO_01, 0, "true", "not a boolean");
	REFUSED(XF_BOOL_TO_01, 0, "x", "not a boolean");
	REFUSED(XF_BOOL_TO_01, 0, "", "not a boolean");
	EXPECT(XF_NONE, 0, "a\000b", "a\000b");
	EXPECT(XF_NONE, 0, "", "");
	/* the out buffer is reset first */
	struct buf out;
	buf_init(&out, 0);
	ck_assert(buf_puts(&out, "stale"));
	bool is_null;
	char why[64];
	ck_assert(typemap_value(XF_BOOL_TO_01, 0, "t", 1, &out, &is_null, why, sizeof why));
	ck_assert_str_eq(out.data, "1");
	ck_assert(typemap_value(XF_ZERO_DATE_NULL, 0, "0000-00-00", 10, &out, &is_null, why,
				sizeof why));
	ck_assert(is_null);
	ck_assert_uint_eq(out.len, 0);
	buf_free(&out);
}
END_TEST

START_TEST(value_float_digits)
{
	/* a real's shortest text becomes the digits of its exact value */
	EXPECT(XF_FLOAT4_DIGITS, 0, "3.4028235e+38", "3.4028234663852886e+38");
	EXPECT(XF_FLOAT4_DIGITS, 0, "0.1", "0.10000000149011612");
	EXPECT(XF_FLOAT4_DIGITS, 0, "16777216", "16777216");
	EXPECT(XF_FLOAT4_DIGITS, 0, "1e-45", "1.4012984643248171e-45");
	EXPECT(XF_FLOAT4_DIGITS, 0, "-0", "-0");
	REFUSED(XF_FLOAT4_DIGITS, 0, "Infinity", "not a finite real");
	REFUSED(XF_FLOAT4_DIGITS, 0, "NaN", "not a finite real");
	REFUSED(XF_FLOAT4_DIGITS, 0, "1x", "not a finite real");
}
END_TEST

/* typemap_check of expr from one dialect to another: want, or NULL when it
 * must not be translated. */
static void expect_check(const struct dialect *from, const struct dialect *to, const char *expr,
			 const char *want)
{
	struct buf out;
	buf_init(&out, 0);
	bool ok = typemap_check(from, to, expr, &out);
	if (want) {
		ck_assert_msg(ok, "%s not translated", expr);
		ck_assert_str_eq(buf_str(&out), want);
	} else {
		ck_assert_msg(!ok && out.len == 0, "%s translated as %s", expr, buf_str(&out));
	}
	buf_free(&out);
}

START_TEST(check_expressions)
{
	expect_check(&mysql_dialect, &pg_dialect, "`qty` >= 0 and `a``b` <> 'it''s'",
		     "\"qty\" >= 0 and \"a`b\" <> 'it''s'");
	expect_check(&mysql_dialect, &pg_dialect, "`Year` between 1901 and 2155",
		     "\"Year\" between 1901 and 2155");
	expect_check(&pg_dialect, &mysql_dialect, "(price >= 0.5) AND (\"Mixed\" IS NOT NULL)",
		     "(`price` >= 0.5) AND (`Mixed` IS NOT NULL)");
	/* functions, casts and backslashes may mean other things there */
	expect_check(&mysql_dialect, &pg_dialect, "char_length(`a`) > 2", NULL);
	expect_check(&pg_dialect, &mysql_dialect, "(a)::text <> 'x'::text", NULL);
	expect_check(&mysql_dialect, &pg_dialect, "`a` <> 'x\\n'", NULL);
	expect_check(&mysql_dialect, &pg_dialect, "`a` <> 'open", NULL);
}
END_TEST

/* typemap_check_to_mysql of expr over tbl (VALUE as column "c" of type
 * vtype when vtype is not NULL): the MySQL text, or NULL when refused. */
static char *check_mysql(const char *expr, const struct table_desc *tbl, const char *vtype)
{
	static char text[1024];
	struct buf b;
	buf_init(&b, 0);
	char why[200] = "x";
	bool ok = typemap_check_to_mysql(expr, tbl, vtype ? "c" : NULL, vtype, &b, why, sizeof why);
	ck_assert_msg(ok || why[0], "%s: refused without a reason", expr);
	ck_assert_msg(!ok || !why[0], "%s: a reason (%s) for a success", expr, why);
	ck_assert_msg(ok || b.len == 0, "%s: refused, yet appended %s", expr, buf_str(&b));
	snprintf(text, sizeof text, "%s", buf_str(&b));
	buf_free(&b);
	return ok ? text : NULL;
}

START_TEST(checks_to_mysql)
{
	struct column_desc cols[] = {
		{.name = "payment_date", .type = "timestamp without time zone"},
		{.name = "ts", .type = "timestamp with time zone"},
		{.name = "price", .type = "numeric(5,2)"},
		{.name = "qty", .type = "integer"},
		{.name = "code", .type = "character varying(10)"},
		{.name = "rating", .type = "mpaa_rating", .udt = "mpaa_rating", .udt_kind = 'e'},
		{.name = "flag", .type = "boolean"},
		{.name = "Odd Name", .type = "date"},
		{.name = "yr",
		 .type = "year",
		 .udt = "year",
		 .udt_kind = 'd',
		 .domain_base = "integer"},
	};
	struct table_desc t = {.exists = true, .ncols = 9, .cols = cols};
	static const struct {
		const char *pg, *vtype, *mysql;
	} ok[] = {
		{"((VALUE >= 1901) AND (VALUE <= 2155))", "integer",
		 "((`c` >= 1901) AND (`c` <= 2155))"},
		{"((payment_date >= '2007-01-01 00:00:00'::timestamp without time zone) AND "
		 "(payment_date < '2007-02-01 00:00:00'::timestamp without time zone))",
		 NULL,
		 "((`payment_date` >= '2007-01-01 00:00:00') AND (`payment_date` < '2007-02-01 "
		 "00:00:00'))"},
		{"((VALUE)::text = ANY ((ARRAY['a'::character varying, 'b''c'::character "
		 "varying])::text[]))",
		 "character varying(10)", "((`c`) IN ('a', 'b''c'))"},
		{"(VALUE = ANY (ARRAY['x\\y'::text, 'z'::text]))", "text",
		 "(`c` IN ('x\\\\y', 'z'))"},
		{"(price > (0)::numeric)", NULL, "(`price` > (0))"},
		{"((qty >= '-1'::integer) OR (qty IS NULL))", NULL,
		 "((`qty` >= -1) OR (`qty` IS NULL))"},
		{"(rating <> 'NC-17'::mpaa_rating)", NULL, "(`rating` <> 'NC-17')"},
		{"(ts > '2020-01-01 00:00:00+00'::timestamp with time zone)", NULL,
		 "(`ts` > '2020-01-01 00:00:00')"},
		{"(\"Odd Name\" <= '2030-12-31'::date)", NULL, "(`Odd Name` <= '2030-12-31')"},
		{"((code)::text = 'A'::text)", NULL, "((`code`) = 'A')"},
		{"(flag IS NOT NULL)", NULL, "(`flag` IS NOT NULL)"},
		{"((yr > 1900) AND (NOT (qty = 0)))", NULL,
		 "((`yr` > 1900) AND (NOT (`qty` = 0)))"},
		{"(price < (qty)::numeric)", NULL, "(`price` < (`qty`))"},
	};
	for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
		const char *got = check_mysql(ok[i].pg, &t, ok[i].vtype);
		ck_assert_msg(got && !strcmp(got, ok[i].mysql), "%s -> %s, want %s", ok[i].pg,
			      got ? got : "(refused)", ok[i].mysql);
	}
	static const struct {
		const char *pg, *vtype;
	} refused[] = {
		{"(VALUE ~ '^[0-9]+$'::text)", "text"},	    /* an operator */
		{"(length((VALUE)::text) > 3)", "text"},    /* a function */
		{"((VALUE)::text <> ''::text)", "text"},    /* collations differ on <> */
		{"(NOT ((code)::text = 'a'::text))", NULL}, /* ... and under NOT */
		{"((code)::text > 'a'::text)", NULL},	    /* ... and on order */
		{"(rating > 'G'::mpaa_rating)", NULL},	    /* enum order is not text order */
		{"((qty)::text = '1'::text)", NULL},	    /* a cast that changes the value */
		{"(ts > '2020-01-01 00:00:00+02'::timestamp with time zone)", NULL},
		{"(payment_date > 'infinity'::timestamp without time zone)", NULL},
		{"(nosuch > 1)", NULL},				 /* not a column */
		{"(flag = true)", NULL},			 /* booleans */
		{"(qty + 1 > 2)", NULL},			 /* arithmetic */
		{"(VALUE > 0)", NULL},				 /* VALUE outside a domain */
		{"qty", NULL},					 /* a value, not a condition */
		{"(qty > 1", NULL},				 /* unbalanced */
		{"(code = ANY (ARRAY[code, 'x'::text]))", NULL}, /* a column in the list */
		{"(VALUE <> ALL (ARRAY[1, 2]))", "integer"},	 /* NOT IN */
	};
	for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
		const char *got = check_mysql(refused[i].pg, &t, refused[i].vtype);
		ck_assert_msg(!got, "%s carried as %s", refused[i].pg, got);
	}
}
END_TEST

START_TEST(pg_user_types)
{
	/* an enum on MySQL: its exact labels, quoted, compared by their bytes */
	char *labels[] = {"G", "PG-13", "it's", "back\\slash", ""};
	struct column_desc e = {.name = "rating",
				.type = "mpaa_rating",
				.nullable = true,
				.default_expr = "'G'::mpaa_rating",
				.udt = "mpaa_rating",
				.udt_kind = 'e',
				.nlabels = 5,
				.labels = labels};
	struct mapped_column m;
	ck_assert(typemap_column(P, M, &e, false, 0, NULL, &m));
	ck_assert_str_eq(m.type,
			 "enum('G','PG-13','it''s','back\\\\slash','') COLLATE utf8mb4_bin");
	ck_assert_str_eq(m.default_sql, "'G'");
	ck_assert(!m.lost);
	/* a label ending in a space: MySQL's ENUM would cut it */
	char *spaced[] = {"a", "a "};
	struct column_desc s = e;
	s.labels = spaced;
	s.nlabels = 2;
	s.default_expr = NULL;
	ck_assert(typemap_column(P, M, &s, false, 0, NULL, &m));
	ck_assert_str_eq(m.type, "varchar(2) COLLATE utf8mb4_bin");
	ck_assert(m.lost && strstr(m.note, "enum mpaa_rating") &&
		  strstr(m.note, "ends in a space"));
	/* on PostgreSQL: the type by its name, made there first; arrays too */
	ck_assert(typemap_column(P, P, &e, false, 0, NULL, &m));
	ck_assert_str_eq(m.type, "\"mpaa_rating\"");
	ck_assert_str_eq(m.default_sql, "'G'::mpaa_rating");
	struct column_desc ea = e;
	ea.type = "public.mpaa_rating[]";
	ea.default_expr = NULL;
	ck_assert(typemap_column(P, P, &ea, false, 0, NULL, &m));
	ck_assert_str_eq(m.type, "\"mpaa_rating\"[]");
	ck_assert(typemap_column(P, M, &ea, false, 0, NULL, &m));
	ck_assert_str_eq(m.type, "longtext");

	/* a domain on MySQL: its base type, NOT NULL, default, CHECK */
	struct column_desc d = {.name = "release_year",
				.type = "year",
				.nullable = true,
				.udt = "year",
				.udt_kind = 'd',
				.domain_base = "integer",
				.domain_not_null = true,
				.domain_check = "((VALUE >= 1901) AND (VALUE <= 2155))",
				.domain_default = "2000"};
	ck_assert(typemap_column(P, M, &d, false, 0, NULL, &m));
	ck_assert_str_eq(m.type, "int");
	ck_assert(m.not_null && !m.lost);
	ck_assert_str_eq(m.default_sql, "2000");
	ck_assert_str_eq(m.check_sql, "((`release_year` >= 1901) AND (`release_year` <= 2155))");
	/* the column's own default wins over the domain's */
	d.default_expr = "1999";
	ck_assert(typemap_column(P, M, &d, false, 0, NULL, &m));
	ck_assert_str_eq(m.default_sql, "1999");
	/* a CHECK MySQL would decide otherwise: named, the column still made */
	d.domain_check = "(VALUE <> 1950)";
	d.domain_base = "character varying(4)";
	d.default_expr = NULL;
	d.domain_default = NULL;
	ck_assert(typemap_column(P, M, &d, false, 0, NULL, &m));
	ck_assert_str_eq(m.type, "varchar(4)");
	ck_assert_str_eq(m.check_sql, "");
	ck_assert(m.lost && strstr(m.note, "domain year") && strstr(m.note, "(VALUE <> 1950)"));
	/* on PostgreSQL: the domain by its name */
	ck_assert(typemap_column(P, P, &d, false, 0, NULL, &m));
	ck_assert_str_eq(m.type, "\"year\"");
	ck_assert_str_eq(m.check_sql, "");

	/* the statements that make them on a PostgreSQL target */
	struct buf b;
	buf_init(&b, 0);
	ck_assert(typemap_create_type(P, &b, &e));
	ck_assert_str_eq(b.data, "CREATE TYPE \"mpaa_rating\" AS ENUM ('G', 'PG-13', 'it''s', "
				 "'back\\slash', '')");
	buf_reset(&b);
	d.domain_base = "numeric(4,0)";
	d.domain_check = "(VALUE > (0)::numeric)";
	d.domain_default = "1";
	ck_assert(typemap_create_type(P, &b, &d));
	ck_assert_str_eq(b.data, "CREATE DOMAIN \"year\" AS numeric(4,0) NOT NULL DEFAULT 1 "
				 "CHECK ((VALUE > (0)::numeric))");
	buf_reset(&b);
	ck_assert(!typemap_create_type(M, &b, &e));
	struct column_desc plain = {.name = "c", .type = "integer"};
	ck_assert(!typemap_create_type(P, &b, &plain));
	ck_assert_uint_eq(b.len, 0);
	ck_assert(typemap_type_lookup(P, &b, &e));
	ck_assert(strstr(b.data, "ARRAY['G', 'PG-13', 'it''s', 'back\\slash', '']::text[]"));
	ck_assert(strstr(b.data, "to_regtype('\"mpaa_rating\"')"));
	buf_reset(&b);
	ck_assert(typemap_type_lookup(P, &b, &d));
	ck_assert(strstr(b.data, "format_type(t.typbasetype, t.typtypmod) = 'numeric(4,0)'"));
	buf_free(&b);
}
END_TEST

START_TEST(pg_constraints_and_definitions)
{
	struct column_desc cols[] = {{.name = "qty", .type = "integer"},
				     {.name = "name", .type = "text"}};
	struct table_desc t = {.exists = true, .ncols = 2, .cols = cols};
	struct write_spec spec = {.table = "things"};
	struct check_desc ok = {.name = "qty_pos", .expr = "(qty > 0)"};
	struct check_desc re = {.name = "name_re", .expr = "(name ~ '^a'::text)"};
	struct buf b;
	char why[300];
	buf_init(&b, 0);
	ck_assert(typemap_add_check(P, P, &b, &spec, &t, &re, why, sizeof why));
	ck_assert_str_eq(b.data, "ALTER TABLE \"things\" ADD CONSTRAINT \"name_re\" CHECK ((name ~ "
				 "'^a'::text))");
	buf_reset(&b);
	ck_assert(typemap_add_check(P, M, &b, &spec, &t, &ok, why, sizeof why));
	ck_assert_str_eq(b.data,
			 "ALTER TABLE `things` ADD CONSTRAINT `qty_pos` CHECK ((`qty` > 0))");
	buf_reset(&b);
	ck_assert(!typemap_add_check(P, M, &b, &spec, &t, &re, why, sizeof why));
	ck_assert_uint_eq(b.len, 0);
	ck_assert_msg(strstr(why, "name_re") && strstr(why, "the operator ~"), "%s", why);
	/* SQLite adds no constraint to a table once made: said so, not tried */
	ck_assert(!typemap_add_check(P, &sqlite_dialect, &b, &spec, &t, &ok, why, sizeof why));
	ck_assert_uint_eq(b.len, 0);
	ck_assert_msg(strstr(why, "qty_pos") && strstr(why, "cannot add a constraint"), "%s", why);
	/* a name MySQL cannot hold is left for it to choose */
	struct check_desc longname = {.name = "a_check_constraint_whose_name_is_longer_than_"
					      "sixty_four_characters",
				      .expr = "(qty > 0)"};
	ck_assert(typemap_add_check(P, M, &b, &spec, &t, &longname, why, sizeof why));
	ck_assert_str_eq(b.data, "ALTER TABLE `things` ADD CHECK ((`qty` > 0))");
	/* MySQL to PostgreSQL: names, literals and operators only */
	buf_reset(&b);
	struct check_desc my_ok = {.name = "qty_positive", .expr = "`qty` > 0"};
	ck_assert(typemap_add_check(M, P, &b, &spec, &t, &my_ok, why, sizeof why));
	ck_assert_str_eq(
		b.data,
		"ALTER TABLE \"things\" ADD CONSTRAINT \"qty_positive\" CHECK (\"qty\" > 0)");
	buf_reset(&b);
	struct check_desc my_fn = {.name = "len", .expr = "char_length(`code`) > 2"};
	ck_assert(!typemap_add_check(M, P, &b, &spec, &t, &my_fn, why, sizeof why));
	ck_assert_msg(strstr(why, "len") && strstr(why, "a function"), "%s", why);

	/* PostgreSQL to PostgreSQL: an index as the source defines it */
	char *q[] = {"qty"};
	struct index_desc x = {.name = "things_lower",
			       .method = "btree",
			       .expression = true,
			       .definition = "USING btree (lower(name)) WHERE (qty > 10)",
			       .ncols = 1,
			       .cols = q};
	ck_assert(typemap_create_index(P, P, &b, &spec, &x, why, sizeof why));
	ck_assert_str_eq(b.data, "CREATE INDEX \"things_lower\" ON \"things\" USING btree "
				 "(lower(name)) WHERE (qty > 10)");
	buf_reset(&b);
	ck_assert(!typemap_create_index(P, M, &b, &spec, &x, why, sizeof why));
	ck_assert(strstr(why, "expression"));
	struct index_desc ex = {.name = "no_overlap",
				.method = "gist",
				.exclusion = true,
				.definition = "EXCLUDE USING gist (during WITH &&)",
				.ncols = 1,
				.cols = q};
	ck_assert(typemap_create_index(P, P, &b, &spec, &ex, why, sizeof why));
	ck_assert_str_eq(b.data, "ALTER TABLE \"things\" ADD CONSTRAINT \"no_overlap\" EXCLUDE "
				 "USING gist (during WITH &&)");
	buf_reset(&b);
	ex.method = "btree";
	ck_assert(!typemap_create_index(P, M, &b, &spec, &ex, why, sizeof why));
	ck_assert_msg(strstr(why, "no_overlap is an EXCLUDE constraint"), "%s", why);
	ck_assert_uint_eq(b.len, 0);
	buf_free(&b);
}
END_TEST

START_TEST(nopad_keys)
{
	ck_assert_str_eq(typemap_nopad_collation("MariaDB 10.11.6"), "utf8mb4_nopad_bin");
	ck_assert_str_eq(typemap_nopad_collation("MariaDB 11.4.2"), "utf8mb4_nopad_bin");
	ck_assert_ptr_null(typemap_nopad_collation("MariaDB 10.1.48"));
	ck_assert_str_eq(typemap_nopad_collation("MySQL 8.0.36"), "utf8mb4_0900_bin");
	ck_assert_str_eq(typemap_nopad_collation("MySQL 8.4.0"), "utf8mb4_0900_bin");
	ck_assert_ptr_null(typemap_nopad_collation("MySQL 8.0.16"));
	ck_assert_ptr_null(typemap_nopad_collation("MySQL 5.7.44"));
	ck_assert_ptr_null(typemap_nopad_collation("PostgreSQL 16.1"));
	struct mapped_column m;
	map_col(P, M, "character varying(20)", NULL, true, 0, NULL, &m);
	ck_assert(typemap_key_nopad(&m, "utf8mb4_nopad_bin"));
	ck_assert_str_eq(m.type, "varchar(20) COLLATE utf8mb4_nopad_bin");
	map_col(P, M, "text", NULL, true, 10, NULL, &m);
	ck_assert(typemap_key_nopad(&m, "utf8mb4_0900_bin"));
	ck_assert_str_eq(m.type, "varchar(255) COLLATE utf8mb4_0900_bin");
	/* character(n) ignores trailing spaces on PostgreSQL too */
	map_col(P, M, "character(5)", NULL, true, 0, NULL, &m);
	ck_assert(!typemap_key_nopad(&m, "utf8mb4_nopad_bin"));
	ck_assert_str_eq(m.type, "char(5) COLLATE utf8mb4_bin");
	map_col(P, M, "integer", NULL, true, 0, NULL, &m);
	ck_assert(!typemap_key_nopad(&m, "utf8mb4_nopad_bin"));
	ck_assert_str_eq(m.type, "int");
}
END_TEST

START_TEST(pg_now_text_defaults)
{
	struct mapped_column m;
	map_col(P, M, "date", "('now'::text)::date", false, 0, NULL, &m);
	ck_assert_str_eq(m.default_sql, "(curdate())");
	ck_assert(!m.lost);
	map_col(P, M, "timestamp(3) without time zone",
		"('now'::text)::timestamp without time zone", false, 0, NULL, &m);
	ck_assert_str_eq(m.default_sql, "CURRENT_TIMESTAMP(3)");
	map_col(P, M, "integer", "('now'::text)::date", false, 0, NULL, &m);
	ck_assert(m.lost);
}
END_TEST

START_TEST(cast_lists)
{
	char why[400];
	ck_assert(typemap_cast_check("tinyint(1)=smallint,json=text", why, sizeof why));
	ck_assert(typemap_cast_check("decimal(10,2) = numeric(12,4)", why, sizeof why));
	ck_assert(typemap_cast_check("enum('a','b')=text", why, sizeof why));
	ck_assert(!typemap_cast_check("tinyint(1)smallint", why, sizeof why));
	ck_assert_msg(strstr(why, "tinyint(1)smallint"), "%s", why);
	ck_assert(!typemap_cast_check("int=", why, sizeof why));
	ck_assert(!typemap_cast_check("=text", why, sizeof why));
	ck_assert(!typemap_cast_check("decimal(10,2=text", why, sizeof why));
	ck_assert(!typemap_cast_check("int=text; drop table x", why, sizeof why));
	ck_assert(!typemap_cast_check("", why, sizeof why));
	ck_assert(!typemap_cast_check("int=bigint=text", why, sizeof why));
	ck_assert(typemap_cast_check("enum('a=b')=text", why, sizeof why));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("typemap");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, mysql_to_pg_types);
	tcase_add_test(tc, pg_to_mysql_types);
	tcase_add_test(tc, notes_and_losses);
	tcase_add_test(tc, enum_checks);
	tcase_add_test(tc, mysql_keys);
	tcase_add_test(tc, same_server_types);
	tcase_add_test(tc, mysql_to_pg_defaults);
	tcase_add_test(tc, pg_to_mysql_defaults);
	tcase_add_test(tc, same_server_defaults);
	tcase_add_test(tc, identity);
	tcase_add_test(tc, generated);
	tcase_add_test(tc, casts);
	tcase_add_test(tc, column_failures);
	tcase_add_test(tc, create_table_mysql_to_pg);
	tcase_add_test(tc, create_table_pg_to_mysql);
	tcase_add_test(tc, create_table_failures);
	tcase_add_test(tc, indexes);
	tcase_add_test(tc, foreign_keys);
	tcase_add_test(tc, value_zero_dates);
	tcase_add_test(tc, value_bytes);
	tcase_add_test(tc, value_bits);
	tcase_add_test(tc, value_booleans_and_none);
	tcase_add_test(tc, value_float_digits);
	tcase_add_test(tc, check_expressions);
	tcase_add_test(tc, cast_lists);
	tcase_add_test(tc, checks_to_mysql);
	tcase_add_test(tc, pg_user_types);
	tcase_add_test(tc, pg_constraints_and_definitions);
	tcase_add_test(tc, nopad_keys);
	tcase_add_test(tc, pg_now_text_defaults);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
