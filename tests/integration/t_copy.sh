#!/usr/bin/env bash
# tests/integration/t_copy.sh - sluice copy and sluice verify between real
# servers, all four directions: every type of the mapping with its extremes,
# zero dates, keys, indexes, foreign keys and identities carried over, values
# compared exactly on both sides, verify passing on each copy and failing on
# one changed value, table selection, --truncate, --dry-run, --query, --cast,
# rejected rows, and the peak memory of a 2,000,000-row copy.
. "$(dirname "$0")/lib.sh"
export PGTZ=UTC

MY_URL=${SLUICE_MY_URL:-mysql://root@127.0.0.1:${SLUICE_MY_PORT:-33069}/sluice_test}
MY_BASE=${MY_URL%/*}
PG_BASE=${SLUICE_PG_URL%/*}


# jnum FILE TABLE FIELD: FIELD of TABLE's entry in a summary JSON file
# (the table name may carry a schema or database prefix)
jnum() {
	grep -o "{\"table\": \"\([^\"]*\.\)\?$2\"[^}]*}" "$1" | head -1 | grep -o "\"$3\": [0-9]*" | sed 's/.*: //'
}
# jtable FILE TABLE: read written rejected zero_dates_nulled of TABLE
jtable() {
	echo "$(jnum "$1" "$2" rows_read) $(jnum "$1" "$2" rows_written) $(jnum "$1" "$2" rows_rejected)" \
		"$(jnum "$1" "$2" zero_dates_nulled)"
}

# the PostgreSQL columns of table $2 in database $1: name, type, not null, identity
pg_columns() {
	pgd "$1" -c "select attname || ' ' || format_type(atttypid, atttypmod)
		|| case when attnotnull then ' not null' else '' end
		|| case attidentity when 'd' then ' identity' when 'a' then ' identity always' else '' end
		from pg_attribute where attrelid = '$2'::regclass and attnum > 0 and not attisdropped order by attnum"
}
# every index of the public schema of database $1: table, kind, columns
pg_index_list() {
	pgd "$1" -c "select x from (select c.relname || ' ' || case when i.indisprimary then 'primary'
			when i.indisunique then 'unique' else 'index' end || ' (' || (select string_agg(a.attname, ','
			order by k.ord) from unnest(i.indkey) with ordinality k(attnum, ord) join pg_attribute a
			on a.attrelid = i.indrelid and a.attnum = k.attnum) || ')' as x
		from pg_index i join pg_class c on c.oid = i.indrelid
		where c.relnamespace = 'public'::regnamespace) s order by x collate \"C\""
}
# the MariaDB columns of table $2 in database $1
my_columns() {
	my -e "SELECT COLUMN_NAME, COLUMN_TYPE, IS_NULLABLE, EXTRA FROM information_schema.COLUMNS
		WHERE TABLE_SCHEMA = '$1' AND TABLE_NAME = '$2' ORDER BY ORDINAL_POSITION"
}
# the indexes of database $1: table, kind, columns (with NAMES=1 the index name too)
my_index_list() {
	my -e "SELECT TABLE_NAME, IF(INDEX_NAME = 'PRIMARY', 'primary', IF(NON_UNIQUE = 0, 'unique', 'index')),
		GROUP_CONCAT(COLUMN_NAME ORDER BY SEQ_IN_INDEX)${NAMES:+, INDEX_NAME}
		FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = '$1'
		GROUP BY TABLE_NAME, INDEX_NAME, NON_UNIQUE ORDER BY 1, 2, 3"
}
# the foreign keys of database $1: table, columns, referenced table, columns, ON DELETE, ON UPDATE
my_fkey_list() {
	my -e "SELECT k.TABLE_NAME, GROUP_CONCAT(k.COLUMN_NAME ORDER BY k.ORDINAL_POSITION), k.REFERENCED_TABLE_NAME,
		GROUP_CONCAT(k.REFERENCED_COLUMN_NAME ORDER BY k.ORDINAL_POSITION), r.DELETE_RULE, r.UPDATE_RULE
		FROM information_schema.KEY_COLUMN_USAGE k JOIN information_schema.REFERENTIAL_CONSTRAINTS r
		ON r.CONSTRAINT_SCHEMA = k.CONSTRAINT_SCHEMA AND r.CONSTRAINT_NAME = k.CONSTRAINT_NAME
		WHERE k.TABLE_SCHEMA = '$1' AND k.REFERENCED_TABLE_NAME IS NOT NULL
		GROUP BY k.CONSTRAINT_NAME, k.TABLE_NAME, k.REFERENCED_TABLE_NAME, r.DELETE_RULE, r.UPDATE_RULE"
}

# ---------------------------------------------------------------------------
# fresh databases, so reruns work
my -e "DROP DATABASE IF EXISTS copy_src; DROP DATABASE IF EXISTS copy_back; DROP DATABASE IF EXISTS copy_my2;
	DROP DATABASE IF EXISTS copy_pgback; DROP DATABASE IF EXISTS copy_sel_src; DROP DATABASE IF EXISTS copy_big_src;
	CREATE DATABASE copy_back CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci;
	CREATE DATABASE copy_my2 CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci;
	CREATE DATABASE copy_pgback CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci;
	CREATE DATABASE copy_sel_src CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;
	CREATE DATABASE copy_big_src"
for db in copy_pg copy_pgsrc copy_dst copy_sel; do
	pg -c "drop database if exists $db" -c "create database $db"
done
MY_SRC=$MY_BASE/copy_src
MY_BACK=$MY_BASE/copy_back
MY_MY2=$MY_BASE/copy_my2
MY_PGBACK=$MY_BASE/copy_pgback
MY_SEL=$MY_BASE/copy_sel_src
MY_BIG=$MY_BASE/copy_big_src
PG1=$PG_BASE/copy_pg
PG_SRC=$PG_BASE/copy_pgsrc
PG_DST=$PG_BASE/copy_dst
PG_SEL=$PG_BASE/copy_sel

# The MariaDB source: every type of the mapping, extremes, NULLs, zero dates
# (sql_mode '' lets them in), a composite key with case-differing text, a
# unique and two secondary indexes (one name used in two tables), a foreign
# key, AUTO_INCREMENT, a view and a trigger. The source database has a binary
# collation; the MariaDB targets a case-insensitive one, so a text key keeps
# 'x' and 'X' apart only if copy gives it a binary collation.
my <<'EOF'
CREATE DATABASE copy_src CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;
USE copy_src;
SET SESSION sql_mode = '';
SET time_zone = '+00:00';
CREATE TABLE nums (
	id int NOT NULL AUTO_INCREMENT PRIMARY KEY,
	b tinyint(1), ti tinyint, tiu tinyint unsigned, si smallint, siu smallint unsigned,
	mi mediumint, miu mediumint unsigned, i int, iu int unsigned, bi bigint, biu bigint unsigned,
	d65 decimal(65,30), d10 decimal(10,2), f float, dbl double, b1 bit(1), b12 bit(12));
INSERT INTO nums VALUES
	(1, 0, -128, 0, -32768, 0, -8388608, 0, -2147483648, 0, -9223372036854775808, 0,
	 -99999999999999999999999999999999999.999999999999999999999999999999, -99999999.99,
	 -0.25, -1.7976931348623157e308, b'0', b'000000000000'),
	(2, 1, 127, 255, 32767, 65535, 8388607, 16777215, 2147483647, 4294967295,
	 9223372036854775807, 18446744073709551615,
	 99999999999999999999999999999999999.999999999999999999999999999999, 99999999.99,
	 0.1, 1.7976931348623157e308, b'1', b'111111111111'),
	(3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
	(4, 1, 0, 1, -1, 1, 0, 1, 0, 1, -1, 1, 0.000000000000000000000000000001, 0.01, 1.5, 0.1, b'1', b'101000000101');
CREATE TABLE times (id int PRIMARY KEY, d date, dt datetime(6), ts timestamp(3) NULL DEFAULT NULL, t time(6), y year);
INSERT INTO times VALUES
	(1, '1000-01-01', '1000-01-01 00:00:00.000000', '1970-01-01 00:00:01.000', '-838:59:59.000000', 1901),
	(2, '9999-12-31', '9999-12-31 23:59:59.999999', '2038-01-19 03:14:07.999', '838:59:59', 2155),
	(3, '2024-02-29', '2024-02-29 12:34:56.000001', '2024-02-29 23:59:59.123', '-00:00:01.500000', 2024),
	(4, NULL, NULL, NULL, NULL, NULL);
CREATE TABLE strs (id int PRIMARY KEY, c char(10), vc varchar(100), tx text, bn binary(4), vb varbinary(16),
	bl blob, j json, e enum('', 'small', 'large'), s set('a', 'b', 'c'));
INSERT INTO strs VALUES
	(1, 'ab', 'émoji 🎉\tTAB\nNL', 'back\\slash \\N "q" ''s''\r\nend', 0x00010200, 0x00FF00, 0x0000FF0A5C09,
	 '{"a": {"b": [1, 2.5, {"c": null}]}, "s": "x\\ny", "u": "🎉"}', '', 'a,c'),
	(2, '', '\\N', '', 0x00000000, X'', 0x00, '[]', 'large', ''),
	(3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
CREATE TABLE zd (id int PRIMARY KEY, d date NULL, dt datetime NULL);
INSERT INTO zd VALUES
	(1, '0000-00-00', '2020-01-01 00:00:00'),
	(2, '2024-00-10', '0009-12-04 01:02:03'),
	(3, '0009-12-04', '0000-00-00 00:00:00'),
	(4, NULL, NULL);
CREATE TABLE parent (a int NOT NULL, b varchar(20) NOT NULL, name varchar(50) NOT NULL, email varchar(100),
	code int, PRIMARY KEY (a, b), UNIQUE KEY uq_email (email), KEY idx_code (code));
INSERT INTO parent VALUES (1, 'x', 'one', 'one@example.com', 10), (1, 'X', 'One', 'ONE@example.com', 10),
	(2, 'y', 'two', NULL, NULL);
CREATE TABLE child (id int NOT NULL AUTO_INCREMENT PRIMARY KEY, pa int NOT NULL, pb varchar(20) NOT NULL,
	note varchar(20) NOT NULL DEFAULT 'none', created datetime NOT NULL DEFAULT CURRENT_TIMESTAMP, code int,
	KEY idx_code (code), KEY idx_child_parent (pa, pb),
	CONSTRAINT fk_child_parent FOREIGN KEY (pa, pb) REFERENCES parent (a, b) ON DELETE CASCADE);
INSERT INTO child VALUES (1, 1, 'x', 'n1', '2024-01-01 00:00:00', 10), (2, 1, 'X', 'n2', '2024-01-02 00:00:00', NULL),
	(5, 2, 'y', 'none', '2024-01-03 00:00:00', 7);
CREATE VIEW v_parent AS SELECT a, b, name FROM parent;
CREATE TRIGGER trg_child BEFORE INSERT ON child FOR EACH ROW SET NEW.note = UPPER(NEW.note);
EOF

# The values of the MariaDB source tables in one canonical text, by a query
# valid whatever types a round trip gave them (text columns as hex, times
# cast, timestamps in UTC, JSON normalized). zd is left out (its zero dates
# become NULL on the way).
my_canon() {
	myd "$1" -e "SET time_zone = '+00:00';
	SELECT id, b, ti, tiu, si, siu, mi, miu, i, iu, bi, biu, d65, d10, f, dbl, b1 + 0, BIN(b12 + 0) FROM nums ORDER BY id;
	SELECT id, d, CAST(dt AS DATETIME(6)), CAST(ts AS DATETIME(6)), CAST(t AS TIME(6)), CAST(y AS CHAR) FROM times ORDER BY id;
	SELECT id, HEX(c), HEX(vc), HEX(tx), HEX(bn), HEX(vb), HEX(bl), JSON_NORMALIZE(j), HEX(e), HEX(s) FROM strs ORDER BY id;
	SELECT a, HEX(b), HEX(name), HEX(email), code FROM parent ORDER BY a, HEX(b);
	SELECT id, pa, HEX(pb), HEX(note), CAST(created AS DATETIME(6)), code FROM child ORDER BY id"
}
SRC_CANON=$(my_canon copy_src)
ZD_NULLED=$'1\tNULL\t2020-01-01 00:00:00\n2\tNULL\t0009-12-04 01:02:03\n3\t0009-12-04\tNULL\n4\tNULL\tNULL'

# ---------------------------------------------------------------------------
test_case "MariaDB -> PostgreSQL, every type, --create"
run_sluice "copy" 0 copy "$MY_SRC" "$PG1" --create --summary-json "$TMP/c1.json"
assert_contains "a warning names the view" "v_parent" "$OUT"
assert_contains "a warning names the trigger" "trg_child" "$OUT"
assert_eq "the base tables, and no view" "child,nums,parent,strs,times,zd" \
	"$(pgd copy_pg -c "select string_agg(relname, ',' order by relname) from pg_class
		where relnamespace = 'public'::regnamespace and relkind in ('r', 'v', 'm', 'p')")"

assert_eq "nums: mapped types" "id integer not null identity
b boolean
ti smallint
tiu smallint
si smallint
siu integer
mi integer
miu integer
i integer
iu bigint
bi bigint
biu numeric(20,0)
d65 numeric(65,30)
d10 numeric(10,2)
f real
dbl double precision
b1 boolean
b12 bit(12)" "$(pg_columns copy_pg nums)"
assert_eq "times: mapped types (time -> interval, for its -838..838 hours)" "id integer not null
d date
dt timestamp(6) without time zone
ts timestamp(3) with time zone
t interval(6)
y smallint" "$(pg_columns copy_pg times)"
assert_eq "strs: mapped types" "id integer not null
c character varying(10)
vc character varying(100)
tx text
bn bytea
vb bytea
bl bytea
j jsonb
e text
s text" "$(pg_columns copy_pg strs)"
assert_eq "zd: mapped types" $'id integer not null\nd date\ndt timestamp(0) without time zone' "$(pg_columns copy_pg zd)"
assert_eq "child: mapped types, NOT NULL" "id integer not null identity
pa integer not null
pb character varying(20) not null
note character varying(20) not null
created timestamp(0) without time zone not null
code integer" "$(pg_columns copy_pg child)"

assert_eq "nums: extremes, decimals to the last digit, floats, bits, NULLs" "1	f	-128	0	-32768	0	-8388608	0	-2147483648	0	-9223372036854775808	0	-99999999999999999999999999999999999.999999999999999999999999999999	-99999999.99	-0.25	-1.7976931348623157e+308	f	000000000000
2	t	127	255	32767	65535	8388607	16777215	2147483647	4294967295	9223372036854775807	18446744073709551615	99999999999999999999999999999999999.999999999999999999999999999999	99999999.99	0.1	1.7976931348623157e+308	t	111111111111
3	NULL	NULL	NULL	NULL	NULL	NULL	NULL	NULL	NULL	NULL	NULL	NULL	NULL	NULL	NULL	NULL	NULL
4	t	0	1	-1	1	0	1	0	1	-1	1	0.000000000000000000000000000001	0.01	1.5	0.1	t	101000000101" \
	"$(pgd copy_pg -c 'select * from nums order by id')"
assert_eq "times: microseconds, UTC timestamps, -838..838 hours, years" "1	1000-01-01	1000-01-01 00:00:00	1970-01-01 00:00:01+00	-838:59:59	1901
2	9999-12-31	9999-12-31 23:59:59.999999	2038-01-19 03:14:07.999+00	838:59:59	2155
3	2024-02-29	2024-02-29 12:34:56.000001	2024-02-29 23:59:59.123+00	-00:00:01.5	2024
4	NULL	NULL	NULL	NULL	NULL" "$(pgd copy_pg -c 'select * from times order by id')"
assert_eq "strs: text, bytes with 0x00, enum '' and set, byte for byte" \
	"$(myd copy_src -e "SELECT id, HEX(c), HEX(vc), HEX(tx), HEX(bn), HEX(vb), HEX(bl), HEX(e), HEX(s) FROM strs ORDER BY id")" \
	"$(pgd copy_pg -c "select id, upper(encode(convert_to(c, 'UTF8'), 'hex')), upper(encode(convert_to(vc, 'UTF8'), 'hex')),
		upper(encode(convert_to(tx, 'UTF8'), 'hex')), upper(encode(bn, 'hex')), upper(encode(vb, 'hex')),
		upper(encode(bl, 'hex')), upper(encode(convert_to(e, 'UTF8'), 'hex')), upper(encode(convert_to(s, 'UTF8'), 'hex'))
		from strs order by id")"
assert_eq "strs: the readable values" "1	ab	'émoji 🎉	TAB
NL'	E'back\\\\slash \\\\N \"q\" ''s''
end'	a,c
2		E'\\\\N'	''	
3	NULL	NULL	NULL	NULL" "$(pgd copy_pg -c "select id, c::text, quote_nullable(vc), replace(quote_nullable(tx), E'\\r', ''), s from strs order by id")"
assert_eq "strs: nested JSON" '1	{"a": {"b": [1, 2.5, {"c": null}]}, "s": "x\ny", "u": "🎉"}
2	[]
3	NULL' "$(pgd copy_pg -c 'select id, j::text from strs order by id')"
assert_eq "zd: zero dates NULL, 0009-12-04 intact" "$ZD_NULLED" "$(pgd copy_pg -c 'select * from zd order by id')"
assert_eq "parent: case-differing key values" "1	X	One	ONE@example.com	10
1	x	one	one@example.com	10
2	y	two	NULL	NULL" "$(pgd copy_pg -c 'select * from parent order by a, b collate "C"')"
assert_eq "child" "1	1	x	n1	2024-01-01 00:00:00	10
2	1	X	n2	2024-01-02 00:00:00	NULL
5	2	y	none	2024-01-03 00:00:00	7" "$(pgd copy_pg -c 'select * from child order by id')"
assert_eq "summary: zd read written rejected zero_dates_nulled" "4 4 0 3" "$(jtable "$TMP/c1.json" zd)"
assert_eq "summary: nums" "4 4 0 0" "$(jtable "$TMP/c1.json" nums)"
assert_eq "summary: strs" "3 3 0 0" "$(jtable "$TMP/c1.json" strs)"
assert_contains "summary: status" '"status": "ok"' "$(cat "$TMP/c1.json")"

assert_eq "primary keys, unique and secondary indexes" "child index (code)
child index (pa,pb)
child primary (id)
nums primary (id)
parent index (code)
parent primary (a,b)
parent unique (email)
strs primary (id)
times primary (id)
zd primary (id)" "$(pg_index_list copy_pg)"
assert_eq "idx_code of parent and of child: two distinct index names" "2" \
	"$(pgd copy_pg -c "select count(distinct indexname) from pg_indexes where schemaname = 'public' and indexname like '%idx_code%'")"
# MySQL shows an unspecified ON UPDATE as RESTRICT (what InnoDB does)
assert_eq "the foreign key" "child	FOREIGN KEY (pa, pb) REFERENCES parent(a, b) ON UPDATE RESTRICT ON DELETE CASCADE" \
	"$(pgd copy_pg -c "select conrelid::regclass, pg_get_constraintdef(oid) from pg_constraint
		where contype = 'f' and connamespace = 'public'::regnamespace")"
assert_eq "identity after the copied maximum; defaults carried (rolled back)" $'6\tnone\tt' \
	"$(pgd copy_pg -c 'begin' -c "insert into child (pa, pb) values (2, 'y') returning id, note, created > now() - interval '1 day'" -c 'rollback')"
assert_eq "nums: identity after the copied maximum" "5" \
	"$(pgd copy_pg -c 'begin' -c 'insert into nums (b) values (null) returning id' -c 'rollback')"
err=$(pgd copy_pg -c "insert into strs (id, e) values (99, 'medium')" 2>&1)
assert_status "the enum's CHECK refuses a value that is not a label" 1 $?
assert_contains "the enum's CHECK" "violates check constraint" "$err"
pgd copy_pg -c "begin" -c "insert into strs (id, e) values (98, ''), (99, 'small')" -c "rollback" >/dev/null 2>&1
assert_status "the enum's CHECK takes the labels, '' included" 0 $?

test_case "verify MariaDB against its PostgreSQL copy"
run_sluice "verify" 0 verify "$MY_SRC" "$PG1"
for t in nums times strs zd parent child; do
	assert_contains "a line for $t" "$t" "$OUT"
done
assert_not_contains "no mismatch" "MISMATCH" "$OUT"
pgd copy_pg -c "update nums set d10 = 0.02 where id = 4"
run_sluice "verify after changing a decimal" 1 verify "$MY_SRC" "$PG1"
assert_eq "one mismatch, naming nums" "1 1" \
	"$(grep -c MISMATCH "$TMP/verify after changing a decimal.out") $(grep MISMATCH "$TMP/verify after changing a decimal.out" | grep -c nums)"
pgd copy_pg -c "update nums set d10 = 0.01 where id = 4"
pgd copy_pg -c "update times set dt = dt + interval '1 microsecond' where id = 3"
run_sluice "verify after changing a microsecond" 1 verify "$MY_SRC" "$PG1"
assert_contains "names times" "times" "$(grep MISMATCH "$TMP/verify after changing a microsecond.out")"
pgd copy_pg -c "update times set dt = dt - interval '1 microsecond' where id = 3"
pgd copy_pg -c "update strs set bl = '\\x0000ff0a5c08' where id = 1"
run_sluice "verify after changing a byte" 1 verify "$MY_SRC" "$PG1" --tables strs,nums
assert_eq "one mismatch, naming strs" "1 1" \
	"$(grep -c MISMATCH "$TMP/verify after changing a byte.out") $(grep MISMATCH "$TMP/verify after changing a byte.out" | grep -c strs)"
pgd copy_pg -c "update strs set bl = '\\x0000ff0a5c09' where id = 1"
# json across servers is compared as NULL or not only (no canonical text
# both servers produce; verify says so in its note): no value check here
pgd copy_pg -c "update strs set j = '{\"a\": {\"b\": [1, 2.5, {\"c\": null}]}, \"s\": \"x\\ny\", \"u\": \"🎉\"}' where id = 1"
run_sluice "verify after undoing the changes" 0 verify "$MY_SRC" "$PG1"

# ---------------------------------------------------------------------------
test_case "PostgreSQL -> MariaDB: the copy back"
run_sluice "copy back" 0 copy "$PG1" "$MY_BACK" --create --summary-json "$TMP/c2.json"
assert_eq "the tables" $'child\nnums\nparent\nstrs\ntimes\nzd' \
	"$(my -e "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'copy_back' ORDER BY 1")"
assert_eq "values equal to the original" "$SRC_CANON" "$(my_canon copy_back)"
assert_eq "zd: NULL where the zero dates were" "$ZD_NULLED" \
	"$(myd copy_back -e 'SELECT id, d, CAST(dt AS DATETIME) FROM zd ORDER BY id')"
assert_eq "nums: the types back" "id	int(11)	NO	auto_increment
b	tinyint(1)	YES	
ti	smallint(6)	YES	
tiu	smallint(6)	YES	
si	smallint(6)	YES	
siu	int(11)	YES	
mi	int(11)	YES	
miu	int(11)	YES	
i	int(11)	YES	
iu	bigint(20)	YES	
bi	bigint(20)	YES	
biu	decimal(20,0)	YES	
d65	decimal(65,30)	YES	
d10	decimal(10,2)	YES	
f	float	YES	
dbl	double	YES	
b1	tinyint(1)	YES	
b12	bit(12)	YES	" "$(my_columns copy_back nums)"
# (binary and NO PAD from PostgreSQL, where 'a' and 'a ' are two keys)
assert_eq "text keys in a binary collation" \
	$'b\tutf8mb4_nopad_bin\nemail\tutf8mb4_nopad_bin\npb\tutf8mb4_nopad_bin' \
	"$(my -e "SELECT COLUMN_NAME, COLLATION_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = 'copy_back'
		AND TABLE_NAME IN ('parent', 'child') AND COLUMN_NAME IN ('b', 'email', 'pb') ORDER BY 1")"
assert_eq "keys and indexes as in the original" "$(my_index_list copy_src)" "$(my_index_list copy_back)"
assert_eq "the foreign key as in the original" $'child\tpa,pb\tparent\ta,b\tCASCADE\tRESTRICT' \
	"$(my_fkey_list copy_back)"
assert_eq "AUTO_INCREMENT after the copied maximum" "6" \
	"$(myd copy_back -e "INSERT INTO child (pa, pb) VALUES (2, 'y'); SELECT LAST_INSERT_ID(); DELETE FROM child WHERE id = 6")"
run_sluice "verify original against the copy back" 0 verify "$MY_SRC" "$MY_BACK"
assert_not_contains "no mismatch" "MISMATCH" "$OUT"

# ---------------------------------------------------------------------------
# The PostgreSQL source: its own types, an identity, a text key with keys
# differing only in case, rows no MariaDB type can hold, another schema.
pgd copy_pgsrc -v ON_ERROR_STOP=1 >/dev/null <<'EOF'
CREATE TABLE pgtypes (
	id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
	u uuid, tz timestamptz, jb jsonb, ia integer[], ta text[], n numeric, b boolean NOT NULL DEFAULT false,
	by bytea, iv interval, ip inet);
INSERT INTO pgtypes (u, tz, jb, ia, ta, n, b, by, iv, ip) VALUES
	('a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '2024-02-29 23:59:59.123456+05:30',
	 '{"s": "x\ny", "a": {"b": [1, 2.50, null]}, "u": "🎉"}', '{1,NULL,-3}',
	 ARRAY['a b', 'c,d', '"q"', NULL, E'back\\slash', E'tab\there'], 1e-20, true, '\x00ff000a5c',
	 '1 year 2 mons 3 days 04:05:06.789', '192.168.0.1/24'),
	('00000000-0000-0000-0000-000000000000', '1970-01-01 00:00:00+00', '[]', '{}', '{}',
	 123456789012345678901234567890.123456789, false, '\x', '-00:00:01.5', '::1'),
	(NULL, NULL, NULL, NULL, NULL, NULL, true, NULL, NULL, NULL);
CREATE TABLE pgkeys (k text PRIMARY KEY, v integer NOT NULL);
INSERT INTO pgkeys VALUES ('A', 1), ('a', 2), ('Straße', 3), ('Strase', 4), (E'tab\tin key', 5);
CREATE TABLE pgbad (id int PRIMARY KEY, ts timestamptz);
INSERT INTO pgbad VALUES (1, '2024-01-01 00:00:00+00'), (2, 'infinity');
CREATE TABLE pgnan (id int PRIMARY KEY, n numeric);
INSERT INTO pgnan VALUES (1, 2.5), (2, 'NaN');
CREATE TABLE pgfrac (id int PRIMARY KEY, n numeric);
INSERT INTO pgfrac VALUES (1, 0.5), (2, 1e-40);
CREATE SCHEMA other;
CREATE TABLE other.o1 (id int PRIMARY KEY, t text);
INSERT INTO other.o1 VALUES (1, 'in other');
EOF

test_case "PostgreSQL -> MariaDB, PostgreSQL's own types"
run_sluice "copy" 0 copy "$PG_SRC" "$MY_PGBACK" --create --exclude-tables pgbad,pgnan,pgfrac \
	--summary-json "$TMP/c3.json"
assert_eq "the tables" $'pgkeys\npgtypes' \
	"$(my -e "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'copy_pgback' ORDER BY 1")"
assert_eq "pgtypes: mapped types" "id	bigint(20)	NO	auto_increment
u	char(36)	YES	
tz	datetime(6)	YES	
jb	longtext	YES	
ia	longtext	YES	
ta	longtext	YES	
n	decimal(65,30)	YES	
b	tinyint(1)	NO	
by	longblob	YES	
iv	varchar(100)	YES	
ip	varchar(43)	YES	" "$(my_columns copy_pgback pgtypes)"
assert_eq "pgtypes: values" '1	a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11	2024-02-29 18:29:59.123456	{"a": {"b": [1, 2.50, null]}, "s": "x\ny", "u": "🎉"}	{1,NULL,-3}	{"a b","c,d","\"q\"",NULL,"back\\slash","tab	here"}	0.000000000000000000010000000000	1	00FF000A5C	1 year 2 mons 3 days 04:05:06.789	192.168.0.1/24
2	00000000-0000-0000-0000-000000000000	1970-01-01 00:00:00.000000	[]	{}	{}	123456789012345678901234567890.123456789000000000000000000000	0		-00:00:01.5	::1
3	NULL	NULL	NULL	NULL	NULL	NULL	1	NULL	NULL	NULL' \
	"$(myd copy_pgback -e "SET time_zone = '+00:00'; SELECT id, u, tz, jb, ia, ta, n, b, HEX(\`by\`), iv, ip FROM pgtypes ORDER BY id")"
err=$(myd copy_pgback -e "INSERT INTO pgtypes (jb) VALUES ('not json')" 2>&1)
assert_status "jsonb became json: invalid JSON refused" 1 $?
assert_contains "the json column's check" "jb" "$err"
assert_eq "pgkeys: 'A' and 'a' both there" "A	1
Strase	4
Straße	3
a	2
tab	in key	5" "$(myd copy_pgback -e 'SELECT k, v FROM pgkeys ORDER BY BINARY k')"
assert_eq "pgkeys: text key -> varchar sized from the data, binary collation" "varchar utf8mb4_nopad_bin NO 1" \
	"$(my -e "SELECT DATA_TYPE, COLLATION_NAME, IS_NULLABLE, CHARACTER_MAXIMUM_LENGTH >= 10 FROM information_schema.COLUMNS
		WHERE TABLE_SCHEMA = 'copy_pgback' AND TABLE_NAME = 'pgkeys' AND COLUMN_NAME = 'k'" | tr '\t' ' ')"
assert_eq "keys" $'pgkeys\tprimary\tk\npgtypes\tprimary\tid' "$(my_index_list copy_pgback)"
assert_eq "identity -> AUTO_INCREMENT after the copied maximum" "4" \
	"$(myd copy_pgback -e "INSERT INTO pgtypes (b) VALUES (1); SELECT LAST_INSERT_ID(); DELETE FROM pgtypes WHERE id = 4")"
run_sluice "verify" 0 verify "$PG_SRC" "$MY_PGBACK" --tables pgtypes,pgkeys
assert_not_contains "no mismatch" "MISMATCH" "$OUT"
myd copy_pgback -e "UPDATE pgkeys SET v = 7 WHERE k = 'a'"
run_sluice "verify after changing a value on the MariaDB side" 1 verify "$PG_SRC" "$MY_PGBACK" --tables pgtypes,pgkeys
assert_contains "names pgkeys" "pgkeys" "$(grep MISMATCH "$TMP/verify after changing a value on the MariaDB side.out")"
assert_not_contains "only pgkeys" "pgtypes" "$(grep MISMATCH "$TMP/verify after changing a value on the MariaDB side.out")"
myd copy_pgback -e "UPDATE pgkeys SET v = 2 WHERE k = 'a'"

test_case "PostgreSQL -> MariaDB, --schema"
run_sluice "copy" 0 copy "$PG_SRC" "$MY_PGBACK" --schema other --create -q
assert_eq "other.o1 copied" $'1\tin other' "$(myd copy_pgback -e 'SELECT * FROM o1')"

test_case "PostgreSQL -> MariaDB: Infinity, NaN and a fraction MariaDB would round are rejected"
run_sluice "copy" 3 copy "$PG_SRC" "$MY_PGBACK" --tables pgbad,pgnan,pgfrac --create --max-errors 100 \
	--rejects "$TMP/r3.csv" --summary-json "$TMP/r3.json"
assert_eq "pgbad: read written rejected" "2 1 1" "$(jtable "$TMP/r3.json" pgbad | cut -d' ' -f1-3)"
assert_eq "pgnan: read written rejected" "2 1 1" "$(jtable "$TMP/r3.json" pgnan | cut -d' ' -f1-3)"
assert_eq "pgfrac: read written rejected" "2 1 1" "$(jtable "$TMP/r3.json" pgfrac | cut -d' ' -f1-3)"
assert_eq "the good rows in" "1 2024-01-01 00:00:00.000000 | 1 2.500000000000000000000000000000 | 1 0.500000000000000000000000000000" \
	"$(myd copy_pgback -e "SET time_zone = '+00:00'; SELECT CONCAT_WS(' | ', (SELECT GROUP_CONCAT(id, ' ', ts) FROM pgbad),
		(SELECT GROUP_CONCAT(id, ' ', n) FROM pgnan), (SELECT GROUP_CONCAT(id, ' ', n) FROM pgfrac))")"
log=$(cat "$TMP/r3.csv.log" 2>/dev/null)
assert_eq "three reasons" "3" "$(printf '%s\n' "$log" | grep -c .)"
assert_contains "the reason for infinity" "infinity" "$(printf '%s' "$log" | tr '[:upper:]' '[:lower:]')"
assert_contains "the reason for NaN" "nan" "$(printf '%s' "$log" | tr '[:upper:]' '[:lower:]')"

test_case "PostgreSQL -> PostgreSQL, --create --verify"
run_sluice "copy" 0 copy "$PG_SRC" "$PG_DST" --create --verify --summary-json "$TMP/c4.json"
assert_not_contains "verify: no mismatch" "MISMATCH" "$OUT"
assert_contains "verify: a line that matches" "match" "$OUT"
pg_canon() {
	pgd "$1" -c "select 'pgtypes', md5(string_agg(t::text, E'\\n' order by id)) from pgtypes t" \
		-c "select 'pgkeys', md5(string_agg(t::text, E'\\n' order by k collate \"C\")) from pgkeys t" \
		-c "select 'pgbad', md5(string_agg(t::text, E'\\n' order by id)) from pgbad t" \
		-c "select 'pgnan', md5(string_agg(t::text, E'\\n' order by id)) from pgnan t" \
		-c "select 'pgfrac', md5(string_agg(t::text, E'\\n' order by id)) from pgfrac t"
	for t in pgtypes pgkeys pgbad pgnan pgfrac; do pg_columns "$1" $t; done
	pg_index_list "$1"
}
assert_eq "values, types, identities and keys exactly as the source" "$(pg_canon copy_pgsrc)" "$(pg_canon copy_dst)"
assert_eq "only the public schema" "0" "$(pgd copy_dst -c "select count(*) from pg_class where relname = 'o1'")"
assert_eq "identity after the copied maximum" "4" \
	"$(pgd copy_dst -c 'begin' -c 'insert into pgtypes (b) values (true) returning id' -c 'rollback')"
run_sluice "verify" 0 verify "$PG_SRC" "$PG_DST"
assert_not_contains "no mismatch" "MISMATCH" "$OUT"

# ---------------------------------------------------------------------------
test_case "MariaDB -> MariaDB, --create --workers 3 --verify"
run_sluice "copy" 0 copy "$MY_SRC" "$MY_MY2" --create --workers 3 --verify --summary-json "$TMP/c5.json"
assert_not_contains "verify: no mismatch" "MISMATCH" "$OUT"
# the columns of the base tables of database $1
my_table_columns() {
	my -e "SELECT c.TABLE_NAME, c.COLUMN_NAME, c.COLUMN_TYPE, c.IS_NULLABLE, c.COLUMN_DEFAULT, c.EXTRA
		FROM information_schema.COLUMNS c JOIN information_schema.TABLES t
		ON t.TABLE_SCHEMA = c.TABLE_SCHEMA AND t.TABLE_NAME = c.TABLE_NAME AND t.TABLE_TYPE = 'BASE TABLE'
		WHERE c.TABLE_SCHEMA = '$1' ORDER BY c.TABLE_NAME, c.ORDINAL_POSITION"
}
assert_eq "the same columns, types, defaults" "$(my_table_columns copy_src)" "$(my_table_columns copy_my2)"
assert_eq "the same values" "$SRC_CANON" "$(my_canon copy_my2)"
assert_eq "zd: zero dates NULL" "$ZD_NULLED" "$(myd copy_my2 -e 'SELECT * FROM zd ORDER BY id')"
myd copy_my2 -e "INSERT INTO strs (id, j) VALUES (99, 'not json')" >/dev/null 2>&1
assert_status "json stays json: invalid JSON refused" 1 $?
assert_eq "summary: zd zero dates counted" "4 4 0 3" "$(jtable "$TMP/c5.json" zd)"
assert_eq "the same indexes, by name" "$(NAMES=1 my_index_list copy_src)" "$(NAMES=1 my_index_list copy_my2)"
assert_eq "the same foreign key" "$(my_fkey_list copy_src)" "$(my_fkey_list copy_my2)"
assert_eq "text keys in a binary collation" $'b\tutf8mb4_bin\nemail\tutf8mb4_bin\npb\tutf8mb4_bin' \
	"$(my -e "SELECT COLUMN_NAME, COLLATION_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = 'copy_my2'
		AND TABLE_NAME IN ('parent', 'child') AND COLUMN_NAME IN ('b', 'email', 'pb') ORDER BY 1")"
assert_eq "AUTO_INCREMENT after the copied maximum" "6" \
	"$(myd copy_my2 -e "INSERT INTO child (pa, pb) VALUES (2, 'y'); SELECT LAST_INSERT_ID(); DELETE FROM child WHERE id = 6")"
run_sluice "verify" 0 verify "$MY_SRC" "$MY_MY2"
myd copy_my2 -e "UPDATE parent SET name = 'onE' WHERE a = 1 AND b = 'x'"
run_sluice "verify after changing the case of one letter" 1 verify "$MY_SRC" "$MY_MY2" --tables parent,child
assert_eq "one mismatch, naming parent" "1 1" \
	"$(grep -c MISMATCH "$TMP/verify after changing the case of one letter.out") $(grep MISMATCH "$TMP/verify after changing the case of one letter.out" | grep -c parent)"

# ---------------------------------------------------------------------------
my <<'EOF'
USE copy_sel_src;
CREATE TABLE sel_a (id int PRIMARY KEY, v varchar(10));
INSERT INTO sel_a VALUES (1, 'a1'), (2, 'a2'), (3, 'a3');
CREATE TABLE sel_b (id int PRIMARY KEY, v varchar(10));
INSERT INTO sel_b VALUES (1, 'b1'), (2, 'b2');
CREATE TABLE sel_c (id int PRIMARY KEY, name varchar(20), amount decimal(8,2));
INSERT INTO sel_c VALUES (1, 'c1', 5.00), (2, 'c2', 10.50), (3, 'c3', 99.99), (4, 'c4', NULL), (5, 'c5', 12.25);
CREATE TABLE sel_e (id int PRIMARY KEY, v varchar(10), w varchar(10));
INSERT INTO sel_e VALUES (1, 'v1', 'w1'), (2, NULL, 'w2');
CREATE TABLE sel_f (id int PRIMARY KEY, v varchar(10));
INSERT INTO sel_f VALUES (1, 'f1');
CREATE TABLE nn (id int PRIMARY KEY, dt datetime NOT NULL);
SET SESSION sql_mode = '';
INSERT INTO nn VALUES (1, '2024-01-01 00:00:00'), (2, '0000-00-00 00:00:00'), (3, '2024-01-03 00:00:00');
EOF
pg_tables() { pgd copy_sel -c "select string_agg(relname, ',' order by relname) from pg_class
	where relnamespace = 'public'::regnamespace and relkind = 'r'"; }

test_case "--tables and --exclude-tables"
run_sluice "copy --tables" 0 copy "$MY_SEL" "$PG_SEL" --tables sel_a,sel_b --create -q
assert_eq "only those" "sel_a,sel_b" "$(pg_tables)"
assert_eq "their rows" $'1\ta1\n2\ta2\n3\ta3\n--\n1\tb1\n2\tb2' \
	"$(pgd copy_sel -c 'select * from sel_a order by id' -c "select '--'" -c 'select * from sel_b order by id')"
run_sluice "copy --exclude-tables" 0 copy "$MY_SEL" "$PG_SEL" --exclude-tables sel_a,sel_b,sel_e,sel_f,nn --create -q
assert_eq "all but those" "sel_a,sel_b,sel_c" "$(pg_tables)"
assert_eq "sel_c rows" "5 1 127.74" "$(pgd copy_sel -c 'select count(*), count(*) - count(amount), sum(amount) from sel_c' | tr '\t' ' ')"

test_case "--truncate"
pgd copy_sel -c "insert into sel_a values (99, 'extra')"
run_sluice "copy --truncate" 0 copy "$MY_SEL" "$PG_SEL" --tables sel_a --truncate -q
assert_eq "exactly the source rows" $'1\ta1\n2\ta2\n3\ta3' "$(pgd copy_sel -c 'select * from sel_a order by id')"

test_case "into an existing table, without --create"
pgd copy_sel -c "create table sel_e (w text, extra int default 42, id int primary key, v text)"
run_sluice "copy" 0 copy "$MY_SEL" "$PG_SEL" --tables sel_e -q
assert_eq "columns matched by name, the others take their default" $'1\tv1\tw1\t42\n2\tNULL\tw2\t42' \
	"$(pgd copy_sel -c 'select id, v, w, extra from sel_e order by id')"

test_case "a missing target table without --create"
run_sluice "copy" 2 copy "$MY_SEL" "$PG_SEL" --tables sel_f
assert_contains "names the table" "sel_f" "$OUT"
assert_contains "mentions --create" "--create" "$OUT"
assert_eq "nothing created" "0" "$(pgd copy_sel -c "select count(*) from pg_class where relname = 'sel_f'")"

test_case "--dry-run"
run_sluice "copy --create --dry-run" 0 copy "$MY_SEL" "$PG_SEL" --tables sel_f --create --dry-run
assert_contains "prints the CREATE TABLE" "CREATE TABLE" "$OUT"
assert_contains "of sel_f" "sel_f" "$OUT"
assert_eq "nothing created" "0" "$(pgd copy_sel -c "select count(*) from pg_class where relname = 'sel_f'")"
pgd copy_sel -c "insert into sel_a values (99, 'extra')"
run_sluice "copy --truncate --dry-run" 0 copy "$MY_SEL" "$PG_SEL" --tables sel_a --truncate --dry-run
assert_contains "a plan line for sel_a" "sel_a" "$OUT"
assert_eq "nothing written, nothing truncated" "4 99" "$(pgd copy_sel -c 'select count(*), max(id) from sel_a' | tr '\t' ' ')"
pgd copy_sel -c "delete from sel_a where id = 99"

test_case "--query into an existing table"
pgd copy_sel -c "create table sel_q (id int primary key, name text, amount numeric(8,2))"
run_sluice "copy --query" 0 copy "$MY_SEL" "$PG_SEL" --query 'SELECT id, name, amount FROM sel_c WHERE amount > 10' \
	--table sel_q --summary-json "$TMP/q.json"
assert_eq "only those rows" $'2\tc2\t10.50\n3\tc3\t99.99\n5\tc5\t12.25' "$(pgd copy_sel -c 'select * from sel_q order by id')"
assert_eq "summary: rows written" "3" "$(jnum "$TMP/q.json" sel_q rows_written)"

test_case "--cast"
pgd copy_sel -c "drop table sel_c"
run_sluice "copy --cast" 0 copy "$MY_SEL" "$PG_SEL" --tables sel_c --create --cast 'int=bigint,decimal=text' -q
assert_eq "the types cast" $'id bigint not null\nname character varying(20)\namount text' "$(pg_columns copy_sel sel_c)"
assert_eq "the values" $'1\t5.00\n2\t10.50\n3\t99.99\n4\tNULL\n5\t12.25' "$(pgd copy_sel -c 'select id, amount from sel_c order by id')"

# ---------------------------------------------------------------------------
test_case "a zero date in a NOT NULL column: that row rejected, the rest copied"
run_sluice "copy" 3 copy "$MY_SEL" "$PG_SEL" --tables nn --create --max-errors 10 --rejects "$TMP/nn.csv" \
	--summary-json "$TMP/nn.json"
assert_eq "the NOT NULL column" $'id integer not null\ndt timestamp(0) without time zone not null' "$(pg_columns copy_sel nn)"
assert_eq "the other rows" $'1\t2024-01-01 00:00:00\n3\t2024-01-03 00:00:00' "$(pgd copy_sel -c 'select * from nn order by id')"
assert_eq "summary: read written rejected" "3 2 1" "$(jtable "$TMP/nn.json" nn | cut -d' ' -f1-3)"
assert_eq "one reason" "1" "$(grep -c . "$TMP/nn.csv.log" 2>/dev/null)"
assert_contains "the reason names the column" "dt" "$(cat "$TMP/nn.csv.log" 2>/dev/null)"
# the contract: --max-errors defaults to 0 for copy, so by default the first
# rejected row stops the run
run_sluice "copy without --max-errors stops at the rejected row" 1 copy "$MY_SEL" "$PG_SEL" --tables nn --truncate -q

# ---------------------------------------------------------------------------
test_case "2,000,000 rows MariaDB -> PostgreSQL in bounded memory"
BIG_ROWS=${SLUICE_COPY_BIG_ROWS:-2000000}
my -e "CREATE TABLE copy_big_src.big (id int PRIMARY KEY, s varchar(40) NOT NULL, n decimal(12,2), d datetime(6));
	INSERT INTO copy_big_src.big SELECT seq, CONCAT('row ', seq), seq / 4, '2024-01-01' + INTERVAL seq SECOND
	FROM seq_1_to_$BIG_ROWS"
start=$SECONDS
/usr/bin/time -f %M -o "$TMP/rss" timeout -k 5 "${SLUICE_COPY_LIMIT:-120}" "$SLUICE" copy "$MY_BIG" "$PG_SEL" --tables big --create -q \
	>"$TMP/big.out" 2>&1
rc=$?
assert_status "copy" 0 $rc
[ $rc -eq 0 ] || sed 's/^/    | /' "$TMP/big.out" | head -20
rss=$(tail -1 "$TMP/rss")
echo "# $BIG_ROWS rows copied in $((SECONDS - start)) s, peak RSS ${rss} kB"
expected_sum="$BIG_ROWS $((BIG_ROWS * (BIG_ROWS + 1) / 2)) $(awk -v n="$BIG_ROWS" 'BEGIN { printf "%.2f", n * (n + 1) / 8 }') 0 0"
assert_eq "exact count and sums" "$expected_sum" \
	"$(pgd copy_sel -c "select count(*), sum(id), sum(n), count(*) filter (where s <> 'row ' || id),
		count(*) filter (where d <> timestamp '2024-01-01' + id * interval '1 second') from big" | tr '\t' ' ')"
if [ -n "${SLUICE_ASAN:-}" ]; then pass "peak RSS not judged under ASan (${rss} kB)"; elif [[ "$rss" =~ ^[0-9]+$ ]] && [ "$rss" -lt 204800 ]; then pass "peak RSS ${rss} kB under 200 MB"; else fail "peak RSS '${rss}' kB, not under 200 MB"; fi
pgd copy_sel -c "drop table big"

# ---------------------------------------------------------------------------
my -e "DROP DATABASE copy_src; DROP DATABASE copy_back; DROP DATABASE copy_my2; DROP DATABASE copy_pgback;
	DROP DATABASE copy_sel_src; DROP DATABASE copy_big_src"
# ---------------------------------------------------------------------------
test_case "--workers: tables and key ranges copied at once, in one snapshot"
myd sluice_test -e "DROP DATABASE IF EXISTS copy_split_src; CREATE DATABASE copy_split_src;
	USE copy_split_src;
	CREATE TABLE gaps (id bigint PRIMARY KEY, v varchar(20) NOT NULL, n int);
	INSERT INTO gaps SELECT seq * 3 - (seq % 5), CONCAT('v', seq), seq % 1000 FROM seq_1_to_20000 WHERE seq % 7 <> 0;
	INSERT INTO gaps VALUES (-5, 'negative', 1), (900000, 'far away', 2);
	CREATE TABLE textkey (k varchar(10) PRIMARY KEY, n int);
	INSERT INTO textkey SELECT CONCAT('k', seq), seq FROM seq_1_to_3000;
	CREATE TABLE nokey (n int, t text);
	INSERT INTO nokey SELECT seq, REPEAT('x', seq % 50) FROM seq_1_to_5000;
	ANALYZE TABLE gaps, textkey, nokey" >/dev/null
pg -c "drop database if exists copy_split"
pg -c "create database copy_split"
run_sluice "split copy MariaDB -> PostgreSQL" 0 copy "$MY_BASE/copy_split_src" "$PG_BASE/copy_split" \
	--create --workers 3 --split-rows 2000 --verify
assert_contains "gaps was cut into ranges" "copied gaps [" "$OUT"
assert_not_contains "a table without a single integer key is one unit" "copied textkey [" "$OUT"
assert_eq "every row, once (17145 of them)" "$(myd copy_split_src -N -e 'SELECT COUNT(*), COUNT(DISTINCT id), SUM(n) FROM gaps' | tr '\t' ' ')" \
	"$(pgd copy_split -c 'select count(*), count(distinct id), sum(n) from gaps' | tr '\t' ' ')"
assert_eq "the far and the negative keys" "-5	negative
900000	far away" "$(pgd copy_split -c "select id, v from gaps where id < 0 or id > 100000 order by id")"
assert_eq "the other tables whole" "3000 5000" \
	"$(pgd copy_split -c 'select (select count(*) from textkey), (select count(*) from nokey)' | tr '\t' ' ')"
assert_not_contains "verify agrees" "MISMATCH" "$OUT"
pg -c "drop database if exists copy_split2"
pg -c "create database copy_split2"
run_sluice "split copy PostgreSQL -> PostgreSQL (exported snapshot)" 0 copy "$PG_BASE/copy_split" \
	"$PG_BASE/copy_split2" --create --workers 2 --split-rows 3000 --verify
assert_not_contains "verify agrees" "MISMATCH" "$OUT"
myd sluice_test -e "DROP DATABASE IF EXISTS copy_split_back; CREATE DATABASE copy_split_back"
run_sluice "split copy PostgreSQL -> MariaDB" 0 copy "$PG_BASE/copy_split2" "$MY_BASE/copy_split_back" \
	--create --workers 3 --split-rows 1500
run_sluice "the round trip matches the original" 0 verify "$MY_BASE/copy_split_src" "$MY_BASE/copy_split_back"
myd sluice_test -e "DROP DATABASE copy_split_src; DROP DATABASE copy_split_back"

for db in copy_pg copy_pgsrc copy_dst copy_sel copy_split copy_split2; do
	pg -c "drop database if exists $db"
done
finish
