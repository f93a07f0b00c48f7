#!/usr/bin/env bash
# tests/integration/t_verify.sh - sluice verify against PostgreSQL and
# MariaDB: the same data, typed as copy maps it, matches in both directions
# and between two servers of one kind; any changed value, a duplicated row in
# place of a deleted one, a missing table or column is a mismatch that names
# the table and exits 1.
. "$(dirname "$0")/lib.sh"

PG2_URL=${SLUICE_PG_URL%/*}/sluice_verify2
MY2_URL=${SLUICE_MY_URL%/*}/sluice_verify2
pg2() { PGOPTIONS="-c client_min_messages=warning" psql "$PG2_URL" -XAtq -v ON_ERROR_STOP=1 "$@"; }
my2() { mariadb --no-defaults --default-character-set=utf8mb4 -h127.0.0.1 -P"${SLUICE_MY_PORT:-33069}" -uroot -D sluice_verify2 -N -B "$@"; }

# sluice's PostgreSQL sessions must not depend on the client's time zone
export PGTZ=Asia/Kolkata

# verify ARGS...: run sluice verify, stdout in $TMP/out, stderr in $TMP/err;
# the exit code in $rc
verify() {
	"$SLUICE" verify "$@" >"$TMP/out" 2>"$TMP/err"
	rc=$?
}

# Every type copy maps, on PostgreSQL: extremes, NULLs, emoji, control
# characters, backslashes, bytes with 0x00, microseconds, decimals.
pg_all() {
	cat <<'EOF'
DROP TABLE IF EXISTS vt_all;
CREATE TABLE vt_all (
	id integer PRIMARY KEY,
	i_small smallint, i_int integer, i_big bigint, u_big numeric(20),
	flag boolean, d_fix numeric(12,4), d_any numeric,
	f4 real, f8 double precision,
	dt date, ts6 timestamp(6), ts0 timestamp(0), tstz timestamptz(3),
	tm interval, yr smallint,
	bin bytea, vbin bytea, bit1 boolean, bits bit(10),
	tx text, vc varchar(20), ch character(5), en text, st text,
	js jsonb, uid uuid);
INSERT INTO vt_all VALUES
(1, -32768, -2147483648, -9223372036854775808, 0,
 false, -99999999.9999, -1.5,
 -3.40282e38, -1.7976931348623157e308,
 '1000-01-01', '1000-01-01 00:00:00', '1000-01-01 00:00:00', '1970-01-01 00:00:01+00',
 '-838:59:59.999999', 1901,
 '\x00', '\x', false, B'0000000000',
 E'tab\there\nnewline\\backslash', '', 'a', 'a', '',
 '{"b": 1, "a": [1, 2.50, "x"]}', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'),
(2, 32767, 2147483647, 9223372036854775807, 18446744073709551615,
 true, 99999999.9999, 12345678901234567890123456789012345.123456789012345678901234567891,
 3.40282e38, 1.7976931348623157e308,
 '9999-12-31', '9999-12-31 23:59:59.999999', '9999-12-31 23:59:59', '2038-01-19 03:14:07.999+00',
 '838:59:59.999999', 2155,
 '\x00ff00fe0a0d5c09', '\x000000', true, B'1111111111',
 'emoji 😀🎉 and 中文 and é', 'twenty chars exactly', 'abcde', 'b c', 'x,y',
 '[]', '00000000-0000-0000-0000-000000000000'),
(3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
 NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
(4, 0, 0, 0, 1,
 true, 1.5, 0.000000000000000000000000000001,
 0.1, 0.1,
 '2024-02-29', '2024-02-29 12:34:56.123456', '2024-02-29 12:34:56', '2024-06-01 12:00:00.123+02',
 '00:00:00.000001', 2024,
 '\x', '\xdeadbeef', true, B'1010101010',
 E'\\N', 'N', 'N', 'a', 'x',
 'null', 'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A12'),
(5, 1, -1, 1, 12345678901234567890,
 false, 0, 100,
 1.4e-45, 5e-324,
 '0001-01-01', '2000-01-01 00:00:00.000001', '1999-12-31 23:59:59', '2000-02-29 23:59:59.999+00',
 '-00:00:00.5', 2000,
 '\x5c4e', '\x2c', false, B'0000000001',
 E'a\\tb, "quoted" ''single'' \r\n', ' lead', 'x y', 'b c', 'y',
 '{"k": "v\u00e9"}', 'ffffffff-ffff-ffff-ffff-ffffffffffff');
EOF
}

# The same rows on MariaDB, in the types copy gives them (uuids in upper
# case: compared in lower case).
my_all() {
	cat <<'EOF'
SET time_zone = '+00:00';
DROP TABLE IF EXISTS vt_all;
CREATE TABLE vt_all (
	id int PRIMARY KEY,
	i_small smallint, i_int int, i_big bigint, u_big bigint unsigned,
	flag tinyint(1), d_fix decimal(12,4), d_any decimal(65,30),
	f4 float, f8 double,
	dt date, ts6 datetime(6), ts0 datetime, tstz timestamp(3) NULL,
	tm time(6), yr year,
	bin longblob, vbin varbinary(10), bit1 bit(1), bits bit(10),
	tx longtext, vc varchar(20), ch char(5), en enum('a','b c'), st set('x','y'),
	js json, uid char(36)) DEFAULT CHARSET=utf8mb4;
INSERT INTO vt_all VALUES
(1, -32768, -2147483648, -9223372036854775808, 0,
 0, -99999999.9999, -1.5,
 -3.40282e38, -1.7976931348623157e308,
 '1000-01-01', '1000-01-01 00:00:00', '1000-01-01 00:00:00', '1970-01-01 00:00:01',
 '-838:59:59.999999', 1901,
 X'00', X'', b'0', b'0000000000',
 'tab\there\nnewline\\backslash', '', 'a', 'a', '',
 '{"a":[1,2.5,"x"],"b":1}', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'),
(2, 32767, 2147483647, 9223372036854775807, 18446744073709551615,
 1, 99999999.9999, 12345678901234567890123456789012345.123456789012345678901234567891,
 3.40282e38, 1.7976931348623157e308,
 '9999-12-31', '9999-12-31 23:59:59.999999', '9999-12-31 23:59:59', '2038-01-19 03:14:07.999',
 '838:59:59.999999', 2155,
 X'00ff00fe0a0d5c09', X'000000', b'1', b'1111111111',
 'emoji 😀🎉 and 中文 and é', 'twenty chars exactly', 'abcde', 'b c', 'x,y',
 '[]', '00000000-0000-0000-0000-000000000000'),
(3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
 NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
(4, 0, 0, 0, 1,
 1, 1.5, 0.000000000000000000000000000001,
 0.1, 0.1,
 '2024-02-29', '2024-02-29 12:34:56.123456', '2024-02-29 12:34:56', '2024-06-01 10:00:00.123',
 '00:00:00.000001', 2024,
 X'', X'deadbeef', b'1', b'1010101010',
 '\\N', 'N', 'N', 'a', 'x',
 'null', 'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A12'),
(5, 1, -1, 1, 12345678901234567890,
 0, 0, 100,
 1.4e-45, 5e-324,
 '0001-01-01', '2000-01-01 00:00:00.000001', '1999-12-31 23:59:59', '2000-02-29 23:59:59.999',
 '-00:00:00.5', 2000,
 X'5c4e', X'2c', b'0', b'0000000001',
 'a\\tb, "quoted" ''single'' \r\n', ' lead', 'x y', 'b c', 'y',
 '{"k": "vé"}', 'ffffffff-ffff-ffff-ffff-ffffffffffff');
EOF
}

pg_all | pg -f - || { echo "not ok - setup: PostgreSQL table"; exit 1; }
my_all | my || { echo "not ok - setup: MariaDB table"; exit 1; }
pg -c "drop database if exists sluice_verify2" && pg -c "create database sluice_verify2" &&
	pg_all | pg2 -f - || { echo "not ok - setup: second PostgreSQL database"; exit 1; }
my -e "drop database if exists sluice_verify2; create database sluice_verify2 character set utf8mb4" &&
	my_all | my2 || { echo "not ok - setup: second MariaDB database"; exit 1; }

test_case "every mapped type: the same data matches, PostgreSQL -> MariaDB"
verify "$SLUICE_PG_URL" "$SLUICE_MY_URL" --tables vt_all
assert_status "match" 0 "$rc"
assert_eq "one line on stdout" "vt_all	5	5	match	json compared as NULL or not only (no common canonical form): js" "$(cat "$TMP/out")"
assert_not_contains "no error" "error" "$(cat "$TMP/err")"

test_case "every mapped type: MariaDB -> PostgreSQL"
verify "$SLUICE_MY_URL" "$SLUICE_PG_URL" --tables vt_all
assert_status "match" 0 "$rc"
assert_contains "line" "vt_all	5	5	match" "$(cat "$TMP/out")"

test_case "PostgreSQL -> PostgreSQL and MariaDB -> MariaDB compare json too"
verify "$SLUICE_PG_URL" "$PG2_URL" --tables vt_all
assert_status "PostgreSQL match" 0 "$rc"
assert_eq "PostgreSQL line" "vt_all	5	5	match" "$(cat "$TMP/out")"
verify "$SLUICE_MY_URL" "$MY2_URL" --tables vt_all
assert_status "MariaDB match" 0 "$rc"
pg2 -c "update vt_all set js = '{\"a\": [1, 2.50, \"x\"], \"b\": 2}' where id = 1"
verify "$SLUICE_PG_URL" "$PG2_URL" --tables vt_all
assert_status "a json value changed on PostgreSQL" 1 "$rc"
pg2 -c "update vt_all set js = '{\"b\": 1, \"a\": [1, 2.50, \"x\"]}' where id = 1"
my2 -e "update vt_all set js = '{\"a\":[1,2.5,\"x\"],\"b\":2}' where id = 1"
verify "$SLUICE_MY_URL" "$MY2_URL" --tables vt_all
assert_status "a json value changed on MariaDB" 1 "$rc"

test_case "text is compared as UTF-8 whatever the database or column character set"
PGL_URL=${SLUICE_PG_URL%/*}/sluice_verify_latin1
pg -c "drop database if exists sluice_verify_latin1" &&
	pg -c "create database sluice_verify_latin1 encoding 'LATIN1' lc_collate 'C' lc_ctype 'C' template template0"
PGCLIENTENCODING=UTF8 PGOPTIONS="-c client_min_messages=warning" psql "$PGL_URL" -XAtq -v ON_ERROR_STOP=1 \
	-c "create table vt_l (id int, t text, c char(3)); insert into vt_l values (1, 'é ß ü', 'à')"
my -e "drop table if exists vt_l; create table vt_l (id int, t varchar(20) character set latin1, c char(3) character set utf8mb4);
	insert into vt_l values (1, 'é ß ü', 'à')"
verify "$PGL_URL" "$SLUICE_MY_URL" --tables vt_l
assert_status "LATIN1 database against a latin1 column" 0 "$rc"
pg -c "drop table if exists vt_l; create table vt_l (id int, t text, c varchar(3))" -c "insert into vt_l values (1, 'é ß ü', 'à')"
verify "$PGL_URL" "$SLUICE_PG_URL" --tables vt_l
assert_status "LATIN1 database against a UTF8 one" 0 "$rc"
pg -c "update vt_l set t = 'e ß ü'"
verify "$PGL_URL" "$SLUICE_PG_URL" --tables vt_l
assert_status "one accent less" 1 "$rc"
pg -c "drop table vt_l" -c "drop database sluice_verify_latin1"
my -e "drop table vt_l"

test_case "types copy carries as text, and MariaDB's own types"
# PostgreSQL interval, timetz, bit varying, inet, arrays and json go to MySQL
# as text in their output form; MariaDB uuid, inet6 and geometry come back
# as uuid, inet and bytea; ZEROFILL pads no number
geo=$(my -e "select hex(ST_GeomFromText('POINT(1 2)'))")
pg -c "drop table if exists vt_more; create table vt_more (id int, iv interval, tz timetz, vb bit varying(5),
	ip inet, arr int[], js json, tstz timestamptz(6), tm time(3), u uuid, ip6 inet, geo bytea, zi int, zd numeric(8,2))" \
	-c "insert into vt_more values (1, '1 year 2 mons 3 days 04:05:06.7', '12:00:00+02', B'101', '10.0.0.1',
	'{1,2,NULL}', '{\"b\":1,  \"a\":2}', '2024-01-01 12:00:00.000001+01', '23:59:59.999',
	'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '::ffff:1.2.3.4', '\\x$geo', 42, 1.5), (2, null, null, null, null, null,
	null, null, null, null, null, null, null, null)"
my -e "drop table if exists vt_more; create table vt_more (id int, iv varchar(64), tz varchar(32), vb varchar(5),
	ip varchar(43), arr longtext, js json, tstz datetime(6), tm time(3), u uuid, ip6 inet6, geo geometry,
	zi int(5) zerofill, zd decimal(8,2) zerofill);
	insert into vt_more values (1, '1 year 2 mons 3 days 04:05:06.7', '12:00:00+02', '101', '10.0.0.1',
	'{1,2,NULL}', '{\"b\":1,  \"a\":2}', '2024-01-01 11:00:00.000001', '23:59:59.999',
	'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11', '::ffff:1.2.3.4', ST_GeomFromText('POINT(1 2)'), 42, 1.5),
	(2, null, null, null, null, null, null, null, null, null, null, null, null, null)"
verify "$SLUICE_PG_URL" "$SLUICE_MY_URL" --tables vt_more
assert_status "match" 0 "$rc"
assert_eq "line" "vt_more	2	2	match	types differ, compared as text: iv, vb" "$(cat "$TMP/out")"
verify "$SLUICE_MY_URL" "$SLUICE_PG_URL" --tables vt_more
assert_status "match, MariaDB -> PostgreSQL" 0 "$rc"
# each change, then its undoing
for pair in "ip = '10.0.0.2'|ip = '10.0.0.1'" "js = '{\"b\":1, \"a\":2}'|js = '{\"b\":1,  \"a\":2}'" \
	"geo = ST_GeomFromText('POINT(1 3)')|geo = ST_GeomFromText('POINT(1 2)')" "ip6 = '::1'|ip6 = '::ffff:1.2.3.4'" \
	"iv = '1 year'|iv = '1 year 2 mons 3 days 04:05:06.7'" "u = NULL|u = 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'" \
	"zi = 420|zi = 42" "zd = 1.51|zd = 1.50"; do
	my -e "update vt_more set ${pair%|*} where id = 1"
	verify "$SLUICE_PG_URL" "$SLUICE_MY_URL" --tables vt_more
	assert_status "${pair%|*}" 1 "$rc"
	my -e "update vt_more set ${pair#*|} where id = 1"
	verify "$SLUICE_PG_URL" "$SLUICE_MY_URL" --tables vt_more
	assert_status "${pair#*|}" 0 "$rc"
done
pg -c "drop table vt_more"
my -e "drop table vt_more"

test_case "any one changed value is a mismatch naming the table"
# column=new value on MariaDB (row 4; row 3 is all NULL)
changes=(
	"i_small = 1" "i_int = 1" "i_big = -1" "u_big = 2" "flag = 0" "d_fix = 1.5001"
	"d_any = 0.000000000000000000000000000002" "f4 = 0.100001" "f8 = 0.10000000000001"
	"dt = '2024-03-01'" "ts6 = '2024-02-29 12:34:56.123457'" "ts0 = '2024-02-29 12:34:57'"
	"tstz = '2024-06-01 10:00:00.124'" "tm = '00:00:00.000002'" "yr = 2025" "bin = X'00'"
	"vbin = X'deadbeee'" "bit1 = b'0'" "bits = b'1010101011'" "tx = '\\\\n'" "vc = 'n'"
	"ch = 'M'" "en = 'b c'" "st = 'x,y'" "js = NULL"
	"uid = 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a13'" "tx = NULL" "id = 6"
)
for change in "${changes[@]}"; do
	my_all | my
	my -e "SET time_zone = '+00:00'; update vt_all set $change where id = 4"
	verify "$SLUICE_PG_URL" "$SLUICE_MY_URL" --tables vt_all
	if [ "$rc" -eq 1 ] && grep -q "^vt_all	5	5	MISMATCH	checksums differ" "$TMP/out" &&
		grep -q "vt_all" "$TMP/err"; then
		pass "$change"
	else
		fail "$change: exit $rc, $(cat "$TMP/out" "$TMP/err")"
	fi
done
# a NULL made empty, and the other way round
my_all | my
my -e "update vt_all set tx = '', vbin = X'' where id = 3"
verify "$SLUICE_PG_URL" "$SLUICE_MY_URL" --tables vt_all
assert_status "NULL against empty" 1 "$rc"
my_all | my
my -e "update vt_all set vc = NULL where id = 1"
verify "$SLUICE_PG_URL" "$SLUICE_MY_URL" --tables vt_all
assert_status "empty against NULL" 1 "$rc"
my_all | my
# a value moved to the neighbouring column of the same row
my -e "update vt_all set vc = 'N', ch = '' where id = 4"
verify "$SLUICE_PG_URL" "$SLUICE_MY_URL" --tables vt_all
assert_status "values shifted between columns" 1 "$rc"
my_all | my
verify "$SLUICE_PG_URL" "$SLUICE_MY_URL" --tables vt_all
assert_status "restored: match again" 0 "$rc"

test_case "a duplicated row in place of a deleted one (same count) is a mismatch"
pg -c "drop table if exists vt_dup; create table vt_dup (id int, v text)" \
	-c "insert into vt_dup values (1, 'a'), (2, 'b'), (3, 'c'), (4, 'd')"
my -e "drop table if exists vt_dup; create table vt_dup (id int, v text);
	insert into vt_dup values (1, 'a'), (2, 'b'), (3, 'c'), (4, 'd')"
verify "$SLUICE_PG_URL" "$SLUICE_MY_URL" --tables vt_dup
assert_status "the same rows match" 0 "$rc"
my -e "delete from vt_dup where id = 2; insert into vt_dup values (1, 'a')"
verify "$SLUICE_PG_URL" "$SLUICE_MY_URL" --tables vt_dup
assert_status "one row doubled, one gone" 1 "$rc"
assert_eq "line" "vt_dup	4	4	MISMATCH	checksums differ" "$(cat "$TMP/out")"
# pairs of duplicates cancel out under XOR, not under a sum
pg -c "truncate vt_dup" -c "insert into vt_dup values (1, 'a'), (1, 'a'), (2, 'b'), (2, 'b')"
my -e "truncate vt_dup; insert into vt_dup values (3, 'c'), (3, 'c'), (4, 'd'), (4, 'd')"
verify "$SLUICE_PG_URL" "$SLUICE_MY_URL" --tables vt_dup
assert_status "two doubled rows against two others" 1 "$rc"
my -e "truncate vt_dup; insert into vt_dup values (2, 'b'), (1, 'a'), (2, 'b'), (1, 'a')"
verify "$SLUICE_PG_URL" "$SLUICE_MY_URL" --tables vt_dup
assert_status "the same rows in another order" 0 "$rc"

test_case "missing tables and columns"
pg -c "drop table if exists vt_only_pg; create table vt_only_pg (id int)" -c "insert into vt_only_pg values (1), (2)"
my -e "drop table if exists vt_only_pg"
pg -c "drop table if exists vt_cols; create table vt_cols (id int, a text, c int)" -c "insert into vt_cols values (1, 'x', 1)"
my -e "drop table if exists vt_cols; create table vt_cols (id int, b text, c int); insert into vt_cols values (1, 'x', 1)"
verify "$SLUICE_PG_URL" "$SLUICE_MY_URL" --tables vt_dup,vt_only_pg,vt_nowhere,vt_cols
assert_status "mismatch" 1 "$rc"
assert_eq "lines" "vt_dup	4	4	match
vt_only_pg	2	-	MISMATCH	missing on TO
vt_nowhere	-	-	MISMATCH	missing on both sides
vt_cols	1	1	MISMATCH	columns differ: only on FROM: a; only on TO: b" "$(cat "$TMP/out")"
assert_contains "stderr names them" "3 of 4 tables differ: vt_only_pg, vt_nowhere, vt_cols" "$(cat "$TMP/err")"
verify "$SLUICE_MY_URL" "$SLUICE_PG_URL" --tables vt_only_pg -q
assert_status "missing on FROM" 1 "$rc"
assert_eq "line" "vt_only_pg	-	2	MISMATCH	missing on FROM" "$(cat "$TMP/out")"
# columns in another order are the same columns
my -e "drop table if exists vt_cols; create table vt_cols (c int, a text, id int); insert into vt_cols values (1, 'x', 1)"
verify "$SLUICE_PG_URL" "$SLUICE_MY_URL" --tables vt_cols
assert_status "columns in another order" 0 "$rc"

test_case "no table to compare is no proof"
# the tables live in another schema and --schema is forgotten
pg -c "drop schema if exists vt_elsewhere cascade; create schema vt_elsewhere; create table vt_elsewhere.a (id int); insert into vt_elsewhere.a values (1)"
verify "$SLUICE_PG_URL" "$SLUICE_PG_URL" --schema vt_nothing_here
assert_status "nothing compared" 1 "$rc"
assert_contains "said so" "no tables to compare: nothing was verified" "$(cat "$TMP/err")"
verify "$SLUICE_PG_URL" "$SLUICE_PG_URL" --schema vt_elsewhere
assert_status "the schema named: compared" 0 "$rc"
assert_eq "its table" "a	1	1	match" "$(cat "$TMP/out")"
pg -c "drop schema vt_elsewhere cascade"

test_case "column names: exact on PostgreSQL, folded where MySQL folds them"
pg -c 'drop table if exists vt_case; create table vt_case (id int, "a" text, "A" text)' -c "insert into vt_case values (1, 'x', 'x')"
my -e "drop table if exists vt_case; create table vt_case (id int, A text); insert into vt_case values (1, 'x')"
verify "$SLUICE_PG_URL" "$SLUICE_MY_URL" --tables vt_case
assert_status "\"a\" and \"A\" against A alone" 1 "$rc"
assert_eq "line" "vt_case	1	1	MISMATCH	columns differ: only on FROM: a" "$(cat "$TMP/out")"
verify "$SLUICE_MY_URL" "$SLUICE_PG_URL" --tables vt_case
assert_eq "the other way" "vt_case	1	1	MISMATCH	columns differ: only on TO: a" "$(cat "$TMP/out")"
pg2 -c 'drop table if exists vt_case; create table vt_case (id int, "a" text)' -c "insert into vt_case values (1, 'x')"
pg -c 'alter table vt_case drop column "a"'
verify "$SLUICE_PG_URL" "$PG2_URL" --tables vt_case
assert_eq "PostgreSQL to PostgreSQL: \"A\" is not \"a\"" "vt_case	1	1	MISMATCH	columns differ: only on FROM: A; only on TO: a" "$(cat "$TMP/out")"
pg -c 'drop table vt_case; create table vt_case ("ID" int, "Name" text)' -c "insert into vt_case values (1, 'x')"
my -e "drop table vt_case; create table vt_case (id int, name text); insert into vt_case values (1, 'x')"
verify "$SLUICE_PG_URL" "$SLUICE_MY_URL" --tables vt_case
assert_status "case alone against MySQL, which folds it" 0 "$rc"
pg -c "drop table vt_case"
pg2 -c "drop table vt_case"
my -e "drop table vt_case"

test_case "a PostgreSQL table others inherit from: its own rows"
# a plain SELECT of the parent returns its children's rows too; a copy
# writes them to the children's tables alone
pg -c "drop table if exists vt_parent cascade; create table vt_parent (id int, v text)" \
	-c "create table vt_child (extra int) inherits (vt_parent)" \
	-c "insert into vt_parent values (1, 'a'), (2, 'b'); insert into vt_child values (3, 'c', 30), (4, 'd', 40)"
pg2 -c "drop table if exists vt_parent, vt_child; create table vt_parent (id int, v text); create table vt_child (id int, v text, extra int)" \
	-c "insert into vt_parent values (1, 'a'), (2, 'b'); insert into vt_child values (3, 'c', 30), (4, 'd', 40)"
my -e "drop table if exists vt_parent, vt_child; create table vt_parent (id int, v text); create table vt_child (id int, v text, extra int);
	insert into vt_parent values (1, 'a'), (2, 'b'); insert into vt_child values (3, 'c', 30), (4, 'd', 40)"
verify "$SLUICE_PG_URL" "$PG2_URL" --tables vt_parent,vt_child
assert_status "copied to tables without inheritance" 0 "$rc"
assert_eq "lines" "vt_parent	2	2	match
vt_child	2	2	match" "$(cat "$TMP/out")"
verify "$PG2_URL" "$SLUICE_PG_URL" --tables vt_parent,vt_child
assert_status "the other way" 0 "$rc"
verify "$SLUICE_PG_URL" "$SLUICE_MY_URL" --tables vt_parent,vt_child
assert_status "to MariaDB" 0 "$rc"
pg2 -c "insert into vt_parent values (1, 'a'), (2, 'b')"
verify "$SLUICE_PG_URL" "$PG2_URL" --tables vt_parent
assert_status "the parent's rows doubled" 1 "$rc"
assert_eq "line" "vt_parent	2	4	MISMATCH	row counts differ" "$(cat "$TMP/out")"
pg2 -c "truncate vt_parent" -c "insert into vt_parent values (1, 'a'), (2, 'b'), (3, 'c'), (4, 'd')"
verify "$SLUICE_PG_URL" "$PG2_URL" --tables vt_parent
assert_status "the children's rows in the parent too" 1 "$rc"
pg -c "drop table vt_parent cascade"
pg2 -c "drop table vt_parent, vt_child"
my -e "drop table vt_parent, vt_child"

test_case "every base table of either side, minus --exclude-tables and the checkpoint table"
MYS_URL=${SLUICE_MY_URL%/*}/sluice_verify_s
mys() { mariadb --no-defaults --default-character-set=utf8mb4 -h127.0.0.1 -P"${SLUICE_MY_PORT:-33069}" -uroot -D sluice_verify_s -N -B "$@"; }
pg -c "drop schema if exists verify_s cascade; create schema verify_s" \
	-c "create table verify_s.vt_s1 (id int primary key, v text); insert into verify_s.vt_s1 values (1, 'one')" \
	-c "create table verify_s.vt_s2 (id int primary key, at timestamptz(6)); insert into verify_s.vt_s2 values (1, '2024-01-01 00:00:00.5+05')" \
	-c "create table verify_s.vt_s3 (id int); create view verify_s.vt_view as select 1 as x"
my -e "drop database if exists sluice_verify_s; create database sluice_verify_s character set utf8mb4"
mys -e "SET time_zone = '+00:00';
	create table vt_s1 (id int primary key, v text); insert into vt_s1 values (1, 'one');
	create table vt_s2 (id int primary key, at timestamp(6)); insert into vt_s2 values (1, '2023-12-31 19:00:00.5')"
verify "$SLUICE_PG_URL" "$MYS_URL" --schema verify_s --exclude-tables vt_s3
assert_status "match" 0 "$rc"
assert_eq "lines" "vt_s1	1	1	match
vt_s2	1	1	match" "$(cat "$TMP/out")"
verify "$SLUICE_PG_URL" "$MYS_URL" --schema verify_s
assert_status "vt_s3 is not on MariaDB" 1 "$rc"
assert_contains "named" "vt_s3	0	-	MISMATCH	missing on TO" "$(cat "$TMP/out")"
verify "$MYS_URL" "$SLUICE_PG_URL" --schema verify_s
assert_status "MariaDB as FROM: vt_s3 is on TO only" 1 "$rc"
assert_eq "lines, FROM's tables first" "vt_s1	1	1	match
vt_s2	1	1	match
vt_s3	-	0	MISMATCH	missing on FROM" "$(cat "$TMP/out")"
mys -e "create table vt_s4 (id int); insert into vt_s4 values (1)"
verify "$SLUICE_PG_URL" "$MYS_URL" --schema verify_s --exclude-tables vt_s3
assert_status "a table on TO only" 1 "$rc"
assert_eq "named" "vt_s1	1	1	match
vt_s2	1	1	match
vt_s4	-	1	MISMATCH	missing on FROM" "$(cat "$TMP/out")"
assert_contains "stderr names it" "1 of 3 tables differ: vt_s4" "$(cat "$TMP/err")"
verify "$MYS_URL" "$SLUICE_PG_URL" --schema verify_s --exclude-tables vt_s3
assert_status "the same table the other way" 1 "$rc"
assert_contains "named" "vt_s4	1	-	MISMATCH	missing on TO" "$(cat "$TMP/out")"
mys -e "drop table vt_s4"
# sluice's own table, on a target of copy --resume only
mys -e "create table sluice_checkpoints (job varchar(200)); create table vt_ckpt (job varchar(200))"
verify "$SLUICE_PG_URL" "$MYS_URL" --schema verify_s --exclude-tables vt_s3
assert_status "sluice_checkpoints is not compared; another table is" 1 "$rc"
assert_eq "lines" "vt_s1	1	1	match
vt_s2	1	1	match
vt_ckpt	-	0	MISMATCH	missing on FROM" "$(cat "$TMP/out")"
mys -e "drop table sluice_checkpoints"
verify "$SLUICE_PG_URL" "$MYS_URL" --schema verify_s --exclude-tables vt_s3 --checkpoint-table vt_ckpt
assert_status "--checkpoint-table names it" 0 "$rc"
verify "$MYS_URL" "$SLUICE_PG_URL" --schema verify_s --exclude-tables vt_s3 --checkpoint-table sluice_verify_s.vt_ckpt
assert_status "with its schema, on FROM" 0 "$rc"
verify "$SLUICE_PG_URL" "$MYS_URL" --tables vt_s1,vt_ckpt --checkpoint-table vt_ckpt --schema verify_s
assert_status "not even when named" 0 "$rc"
assert_eq "lines" "vt_s1	1	1	match" "$(cat "$TMP/out")"
assert_contains "said" "vt_ckpt is sluice's checkpoint table: not compared" "$(cat "$TMP/err")"
verify "$SLUICE_PG_URL" "$MYS_URL" --tables verify_s.vt_s1
assert_status "a qualified name" 0 "$rc"
assert_eq "named as given" "verify_s.vt_s1	1	1	match" "$(cat "$TMP/out")"
my -e "drop database sluice_verify_s"

test_case "MySQL zero dates are NULL on PostgreSQL"
my -e "drop table if exists vt_zero; create table vt_zero (id int, d date, t datetime(3));
	set sql_mode = ''; insert into vt_zero values (1, '0000-00-00', '0000-00-00 00:00:00'), (2, '2024-00-05', '2024-05-00 10:00:00'), (3, '2024-01-02', '2024-01-02 03:04:05.678')"
pg -c "drop table if exists vt_zero; create table vt_zero (id int, d date, t timestamp(3))" \
	-c "insert into vt_zero values (1, null, null), (2, null, null), (3, '2024-01-02', '2024-01-02 03:04:05.678')"
verify "$SLUICE_MY_URL" "$SLUICE_PG_URL" --tables vt_zero
assert_status "match" 0 "$rc"
my2 -e "drop table if exists vt_zero; create table vt_zero (id int, d date, t datetime(3));
	insert into vt_zero values (1, null, null), (2, null, null), (3, '2024-01-02', '2024-01-02 03:04:05.678')"
verify "$SLUICE_MY_URL" "$MY2_URL" --tables vt_zero
assert_status "MariaDB to MariaDB: a zero date counts as the NULL copy writes for it" 0 "$rc"

test_case "fractions at the lower precision of the two columns"
# MariaDB truncates extra fraction digits as it stores them (MySQL rounds)
pg -c "drop table if exists vt_prec; create table vt_prec (id int, a timestamp(6), b interval, c timestamptz)" \
	-c "insert into vt_prec values (1, '2024-01-01 00:00:00.123456', '01:02:03.9', '2024-01-01 00:00:00.999999+00')"
my -e "SET time_zone = '+00:00'; drop table if exists vt_prec; create table vt_prec (id int, a datetime(3), b time, c timestamp NULL);
	insert into vt_prec values (1, '2024-01-01 00:00:00.123456', '01:02:03.9', '2024-01-01 00:00:00.999999')"
verify "$SLUICE_PG_URL" "$SLUICE_MY_URL" --tables vt_prec
assert_status "truncated to the lower precision" 0 "$rc"
my -e "update vt_prec set a = '2024-01-01 00:00:00.124'"
verify "$SLUICE_PG_URL" "$SLUICE_MY_URL" --tables vt_prec
assert_status "a millisecond apart" 1 "$rc"

test_case "intervals by their fields: months, days, time"
# interval equality and the epoch take a month for 30 days and a day for 24
# hours; a copy keeps each field as it is
for db in pg pg2; do
	$db -c "drop table if exists vt_iv; create table vt_iv (id int, iv interval, i3 interval(3))" \
		-c "insert into vt_iv values (1, '1 mon', '1 day'), (2, '-1 year -2 mons +3 days -04:05:06.789', '00:00:00.001'),
		(3, '838:59:59.999999', '-00:00:00.5'), (4, '00:00:00.000001', '1 year'), (5, NULL, NULL)"
done
verify "$SLUICE_PG_URL" "$PG2_URL" --tables vt_iv
assert_status "the same intervals match" 0 "$rc"
for pair in "iv = '30 days' where id = 1|iv = '1 mon' where id = 1" \
	"i3 = '24:00:00' where id = 1|i3 = '1 day' where id = 1" \
	"iv = '-14 mons +3 days -04:05:06.789' where id = 2|iv = '-1 year -2 mons +3 days -04:05:06.789' where id = 2" \
	"iv = '-1 year -2 mons +2 days +19:54:53.211' where id = 2|iv = '-1 year -2 mons +3 days -04:05:06.789' where id = 2" \
	"iv = '34 days 22:59:59.999999' where id = 3|iv = '838:59:59.999999' where id = 3" \
	"i3 = '360 days' where id = 4|i3 = '1 year' where id = 4"; do
	pg2 -c "update vt_iv set ${pair%|*}"
	verify "$SLUICE_PG_URL" "$PG2_URL" --tables vt_iv
	# '-14 mons' is '-1 year -2 mons': the same fields
	case "$pair" in *"-14 mons"*) want=0 ;; *) want=1 ;; esac
	assert_status "${pair%|*}" "$want" "$rc"
	pg2 -c "update vt_iv set ${pair#*|}"
done
verify "$SLUICE_PG_URL" "$PG2_URL" --tables vt_iv
assert_status "restored" 0 "$rc"
pg -c "drop table vt_iv"
pg2 -c "drop table vt_iv"

test_case "doubles and floats of every magnitude: the same bits on both servers"
# PostgreSQL prints floats exactly (shortest round trip); MariaDB reads them
pg -c "drop table if exists vt_float; create table vt_float (id int, d double precision, r real)" \
	-c "insert into vt_float select i, (random() - 0.5) * 10 ^ (random() * 616 - 308),
		((random() - 0.5) * 10 ^ (random() * 76 - 38))::real from generate_series(1, 5000) i" \
	-c "insert into vt_float values (5001, 1.7976931348623157e308, 3.4028235e38), (5002, 5e-324, 1.4e-45),
		(5003, -2.2250738585072014e-308, -1.17549435e-38), (5004, 0.1, 0.1), (5005, 999999.5, 999999.5),
		(5006, 0.30000000000000004, 1.0000001), (5007, -0.0, -0.0), (5008, 123456789012345678, 16777217)"
pg -c "copy vt_float to stdout" >"$TMP/float.tsv"
my -e "drop table if exists vt_float; create table vt_float (id int, d double, r float)"
my --local-infile=1 -e "load data local infile '$TMP/float.tsv' into table vt_float"
verify "$SLUICE_PG_URL" "$SLUICE_MY_URL" --tables vt_float
assert_status "match" 0 "$rc"
assert_eq "rows" "vt_float	5008	5008	match" "$(cat "$TMP/out")"
# a value of its own (0.1), not a random one: a random subnormal times
# (1 + 2^-52) is the same double, and the change would not be one
my -e "update vt_float set d = d * (1 + 1e-13) where id = 5004"
verify "$SLUICE_PG_URL" "$SLUICE_MY_URL" --tables vt_float
assert_status "a double 1e-13 apart" 1 "$rc"
my -e "update vt_float set d = 0.1 where id = 5004; update vt_float set r = r * (1 + 1e-5) where id = 5004"
verify "$SLUICE_PG_URL" "$SLUICE_MY_URL" --tables vt_float
assert_status "a float 1e-5 apart" 1 "$rc"
my -e "update vt_float set r = 0.1 where id = 5004"
verify "$SLUICE_PG_URL" "$SLUICE_MY_URL" --tables vt_float
assert_status "restored" 0 "$rc"
my -e "update vt_float set d = d * (1 + pow(2, -52)) where id = 5004"
verify "$SLUICE_PG_URL" "$SLUICE_MY_URL" --tables vt_float
assert_status "a double one bit apart" 1 "$rc"

test_case "floats and doubles are compared by every bit"
# MySQL shows a FLOAT to 6 digits (16777218 as 16777200); a copy carries
# every bit of a float and of a double, and verify sees any one of them
pg -c "drop table if exists vt_bits; create table vt_bits (id int, r real, d double precision, rd double precision)" \
	-c "insert into vt_bits values (1, 16777216, 0.3, 0.1), (2, 0.1, 1e-310, 16777216),
		(3, 1.4e-45, 5e-324, 3.4e38), (4, -3.4028234e38, -1.7976931348623157e308, -1e-46)"
for db in my my2; do
	$db -e "drop table if exists vt_bits; create table vt_bits (id int, r float, d double, rd float);
		insert into vt_bits values (1, 16777216, 0.3, 0.1), (2, 0.1, 1e-310, 16777216),
		(3, 1.4e-45, 5e-324, 3.4e38), (4, -3.4028234e38, -1.7976931348623157e308, -0.0)"
done
pg2 -c "drop table if exists vt_bits; create table vt_bits (id int, r real, d double precision, rd real)" \
	-c "insert into vt_bits values (1, 16777216, 0.3, 0.1), (2, 0.1, 1e-310, 16777216),
		(3, 1.4e-45, 5e-324, 3.4e38), (4, -3.4028234e38, -1.7976931348623157e308, 0)"
verify "$SLUICE_MY_URL" "$SLUICE_PG_URL" --tables vt_bits
assert_status "the same values match, MariaDB -> PostgreSQL" 0 "$rc"
verify "$SLUICE_PG_URL" "$PG2_URL" --tables vt_bits
assert_status "PostgreSQL -> PostgreSQL" 0 "$rc"
verify "$SLUICE_MY_URL" "$MY2_URL" --tables vt_bits
assert_status "MariaDB -> MariaDB" 0 "$rc"
verify "$SLUICE_PG_URL" "$SLUICE_MY_URL" --tables vt_bits
assert_status "PostgreSQL -> MariaDB" 0 "$rc"
assert_eq "a double against a float, at single precision" "vt_bits	4	4	match	compared at single precision: rd" "$(cat "$TMP/out")"
# on the second server of each kind, one value at a time
for change in "r = 16777218 where id = 1" "d = 0.30000000000000004 where id = 1" "r = 0.10000001 where id = 2" \
	"d = 2e-310 where id = 2" "d = 1e-323 where id = 3" "r = 2.8e-45 where id = 3" \
	"d = -1.7976931348623155e308 where id = 4"; do
	my2 -e "update vt_bits set $change"
	verify "$SLUICE_MY_URL" "$MY2_URL" --tables vt_bits
	assert_status "MariaDB -> MariaDB: $change" 1 "$rc"
	verify "$MY2_URL" "$SLUICE_PG_URL" --tables vt_bits
	assert_status "MariaDB -> PostgreSQL: $change" 1 "$rc"
	pg2 -c "update vt_bits set $change"
	verify "$SLUICE_PG_URL" "$PG2_URL" --tables vt_bits
	assert_status "PostgreSQL -> PostgreSQL: $change" 1 "$rc"
	verify "$SLUICE_MY_URL" "$PG2_URL" --tables vt_bits
	assert_status "MariaDB -> changed PostgreSQL: $change" 1 "$rc"
	verify "$MY2_URL" "$PG2_URL" --tables vt_bits
	assert_status "both changed alike: $change" 0 "$rc"
done
# PostgreSQL: a NaN is a NaN whatever its bits (inf - inf has the sign bit)
pg -c "drop table if exists vt_nan; create table vt_nan (d double precision, r real); insert into vt_nan values ('NaN', 'NaN')"
pg2 -c "drop table if exists vt_nan; create table vt_nan (d double precision, r real)" \
	-c "insert into vt_nan values ('inf'::float8 - 'inf'::float8, 'inf'::real - 'inf'::real)"
verify "$SLUICE_PG_URL" "$PG2_URL" --tables vt_nan
assert_status "NaN against NaN" 0 "$rc"
pg -c "drop table vt_nan"
pg2 -c "drop table vt_nan"
# a double against a float: the double rounded to the nearest float
pg -c "update vt_bits set rd = 0.1000000001 where id = 1"
verify "$SLUICE_PG_URL" "$SLUICE_MY_URL" --tables vt_bits
assert_status "a double that rounds to the same float" 0 "$rc"
pg -c "update vt_bits set rd = 0.10000001 where id = 1"
verify "$SLUICE_PG_URL" "$SLUICE_MY_URL" --tables vt_bits
assert_status "a double that rounds to the next float" 1 "$rc"
pg -c "drop table vt_bits"
pg2 -c "drop table vt_bits"
my -e "drop table vt_bits"
my2 -e "drop table vt_bits"

test_case "100000 rows, computed by each server"
pg -c "drop table if exists vt_big; create table vt_big (id bigint primary key, h text, amount numeric(14,2), at timestamp(6), f double precision)" \
	-c "insert into vt_big select i, md5(i::text), i * 1.25, timestamp '2024-01-01' + i * interval '1.000001 second', i / 7.0::float8 from generate_series(1, 100000) i"
my -e "drop table if exists vt_big; create table vt_big (id bigint primary key, h text, amount decimal(14,2), at datetime(6), f double);
	insert into vt_big select seq, md5(seq), seq * 1.25, timestamp '2024-01-01 00:00:00' + interval seq * 1000001 microsecond, seq / 7e0 from seq_1_to_100000"
start=$(date +%s)
verify "$SLUICE_PG_URL" "$SLUICE_MY_URL" --tables vt_big --summary-json "$TMP/sum.json"
assert_status "match" 0 "$rc"
echo "# 2 x 100000 rows verified in $(($(date +%s) - start)) s"
assert_contains "summary JSON" '{"status": "ok", "tables": [{"table": "vt_big", "rows_from": 100000, "rows_to": 100000, "checksum_from": "' "$(cat "$TMP/sum.json")"
assert_contains "summary JSON match" '"match": true, "note": ""}], "errors": []}' "$(cat "$TMP/sum.json")"
my -e "update vt_big set h = 'x' where id = 65432"
verify "$SLUICE_PG_URL" "$SLUICE_MY_URL" --tables vt_big --summary-json -
assert_status "one value in 100000" 1 "$rc"
assert_contains "JSON on stdout instead of the lines" '{"status": "failed", "tables": [{"table": "vt_big"' "$(cat "$TMP/out")"
assert_contains "JSON says why" '"match": false, "note": "checksums differ"}' "$(cat "$TMP/out")"

test_case "bad URLs and unreachable servers"
verify "$SLUICE_PG_URL" "http://example.com/x" --tables vt_all
assert_status "not a database URL" 2 "$rc"
verify "$SLUICE_PG_URL" "mysql://root@127.0.0.1:1/x" --tables vt_all
assert_status "nothing listens" 1 "$rc"

pg -c "drop table if exists vt_all, vt_dup, vt_only_pg, vt_cols, vt_zero, vt_prec, vt_big, vt_float" -c "drop schema verify_s cascade" \
	-c "drop database sluice_verify2"
my -e "drop table if exists vt_all, vt_dup, vt_cols, vt_zero, vt_prec, vt_big, vt_float; drop database sluice_verify2"
finish
