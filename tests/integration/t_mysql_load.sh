#!/usr/bin/env bash
# tests/integration/t_mysql_load.sh - sluice load into a real MariaDB: both
# methods (prepared INSERT, LOAD DATA LOCAL), exact contents, value
# conversion, rejects, packet limits, ping, and passwords kept out of output.
. "$(dirname "$0")/lib.sh"

MY_URL=${SLUICE_MY_URL:-mysql://root@127.0.0.1:${SLUICE_MY_PORT:-33069}/sluice_test}
# the client in utf8mb4, so emoji come back as they went in
myu() { my --default-character-set=utf8mb4 "$@"; }

TRICKY_DDL='id int primary key, name text, note varchar(100), created_at datetime(6),
	ts timestamp(3) NULL, d date, amount decimal(20,6), flag tinyint(1), bits bit(1)'
# QUOTE() tells NULL from 'NULL' and '' apart; --raw keeps newlines and tabs as they are
tricky_rows() {
	myu -r -e "SET time_zone = '+00:00'; SELECT id, QUOTE(name), QUOTE(note), created_at, ts, d,
		amount, flag, bits + 0 FROM mysql_tricky ORDER BY id"
}
TAB=$'\t'
TRICKY_EXPECTED="1	'alice'	'hello, world'	2024-01-02 03:04:05.000000	2024-01-02 03:04:05.500	2024-01-02	12.500000	1	1
2	'bob \"the\" builder'	NULL	2024-01-02 01:04:05.000000	2024-07-01 01:00:00.000	2024-02-29	0.100000	0	0
3	'multi
line
text'	''	2024-02-29 23:59:59.123456	2024-02-29 18:29:59.123	2024-03-01	12345678901234.123456	1	1
4	'émoji 🎉 日本語'	'back\\\\slash${TAB}tab'	NULL	NULL	NULL	NULL	NULL	NULL
5	'  spaced  '	';semi;colon'	1999-12-31 23:59:59.000000	1999-12-31 23:00:00.000	1999-12-31	-0.000001	0	0
6	'\\\\N'	'NULL'	2024-01-02 03:04:00.000000	NULL	2024-01-02	1.000000	1	0
7	'tab${TAB}inside \"quotes\", comma'	'\\'single\\''	2023-12-31 11:00:00.000000	2025-01-01 01:00:00.000	2024-12-31	0.000000	1	0"

for method in insert infile; do
	test_case "tricky file, --method $method"
	my -e "DROP TABLE IF EXISTS mysql_tricky; CREATE TABLE mysql_tricky ($TRICKY_DDL) DEFAULT CHARSET utf8mb4"
	out=$("$SLUICE" load "$DATA/mysql_tricky.csv" "$MY_URL" --method $method --summary-json - 2>/dev/null)
	assert_status "load" 0 $?
	assert_eq "exact contents" "$TRICKY_EXPECTED" "$(tricky_rows)"
	assert_contains "summary counts" '"rows_read": 7, "rows_written": 7, "rows_rejected": 0' "$out"
	# one row per batch: every statement shape, and the converted values again
	my -e "TRUNCATE mysql_tricky"
	"$SLUICE" load "$DATA/mysql_tricky.csv" "$MY_URL" --method $method --batch-rows 1 -q
	assert_status "load, --batch-rows 1" 0 $?
	assert_eq "exact contents, --batch-rows 1" "$TRICKY_EXPECTED" "$(tricky_rows)"
done

test_case "stdin, --table, --truncate, mariadb:// scheme"
"$SLUICE" load - "${MY_URL/mysql:/mariadb:}" --table sluice_test.mysql_tricky --truncate -q \
	<"$DATA/mysql_tricky.csv"
assert_status "load" 0 $?
assert_eq "exact contents" "$TRICKY_EXPECTED" "$(tricky_rows)"

test_case "no header, no --columns: the table's columns from information_schema"
my -e "DROP TABLE IF EXISTS opts; CREATE TABLE opts (a int, b varchar(10), c tinyint(1))"
printf '7\tseven\tyes\n8\t\toff\n' >"$TMP/opts.tsv"
"$SLUICE" load "$TMP/opts.tsv" "$MY_URL" --table opts --no-header -q
assert_status "load" 0 $?
assert_eq "contents" $'7\tseven\t1\n8\tNULL\t0' "$(my -e 'SELECT a, b, c FROM opts ORDER BY a')"

# 300 rows; line 51 has an out-of-range integer, line 121 a non-number
bad_file() {
	echo "id,n,t"
	for i in $(seq 1 300); do
		case $i in
		50) echo "$i,99999999999,out of range" ;;
		120) echo "$i,abc,not a number" ;;
		*) echo "$i,$((i * 2)),row $i" ;;
		esac
	done
}
bad_file >"$TMP/mixed.csv"
for variant in "insert" "infile" "insert --batch-rows 7" "infile --batch-rows 64"; do
	test_case "out-of-range and non-number rows rejected, --method $variant"
	my -e "DROP TABLE IF EXISTS mixed; CREATE TABLE mixed (id int primary key, n int NOT NULL, t varchar(40))"
	# shellcheck disable=SC2086
	"$SLUICE" load "$TMP/mixed.csv" "$MY_URL" --method $variant --rejects "$TMP/rej.csv" -q 2>"$TMP/err"
	assert_status "load" 3 $?
	assert_eq "every other row in" "298" "$(my -e 'SELECT COUNT(*) FROM mixed')"
	assert_eq "the rows' values" "$(( 300 * 301 / 2 - 170 )) $(( (300 * 301 - 340) )) 0" \
		"$(my -e "SELECT SUM(id), SUM(n), SUM(t <> CONCAT('row ', id)) FROM mixed" | tr '\t' ' ')"
	assert_eq "the two bad rows are out" "0" "$(my -e 'SELECT COUNT(*) FROM mixed WHERE id IN (50, 120)')"
	assert_eq "rejects file" $'id,n,t\n50,99999999999,out of range\n120,abc,not a number' "$(cat "$TMP/rej.csv")"
	log=$(cat "$TMP/rej.csv.log")
	assert_eq "two reasons" "2" "$(wc -l <"$TMP/rej.csv.log" | tr -d ' ')"
	assert_contains "line 51 named" "mixed.csv:51: " "$log"
	assert_contains "line 121 named" "mixed.csv:121: " "$log"
	assert_contains "the server's reason for line 51" "Out of range value" "$log"
	assert_contains "the server's reason for line 121" "ncorrect integer value" "$log"
done

for method in insert infile; do
	test_case "values that cannot convert are refused, not changed, --method $method"
	my -e "DROP TABLE IF EXISTS conv; CREATE TABLE conv (id int primary key, flag tinyint(1), ts datetime, d date)"
	printf 'id,flag,ts,d\n1,maybe,2024-01-01T00:00:00Z,2024-01-01\n2,true,yesterday,2024-01-01\n3,off,2024-02-30T00:00:00,2024-01-01\n4,ON,2024-01-01T10:00:00+01:00,2024-05-06T00:00:00Z\n' >"$TMP/conv.csv"
	"$SLUICE" load "$TMP/conv.csv" "$MY_URL" --method $method --rejects "$TMP/conv.rej" -q 2>/dev/null
	assert_status "load" 3 $?
	assert_eq "only the good row" $'4\t1\t2024-01-01 09:00:00\t2024-05-06' "$(my -e 'SELECT * FROM conv ORDER BY id')"
	assert_eq "three rejects" $'id,flag,ts,d\n1,maybe,2024-01-01T00:00:00Z,2024-01-01\n2,true,yesterday,2024-01-01\n3,off,2024-02-30T00:00:00,2024-01-01' "$(cat "$TMP/conv.rej")"
done

test_case "--on-conflict skip and update"
my -e "DROP TABLE IF EXISTS kv; CREATE TABLE kv (k int primary key, v varchar(10)); INSERT INTO kv VALUES (1, 'old'), (2, 'old')"
printf 'k,v\n1,new\n3,new\n' >"$TMP/kv.csv"
"$SLUICE" load "$TMP/kv.csv" "$MY_URL" --on-conflict skip -q
assert_status "skip" 0 $?
assert_eq "duplicates skipped" $'1\told\n2\told\n3\tnew' "$(my -e 'SELECT * FROM kv ORDER BY k')"
printf 'k,v\n1,newer\n4,new\n' >"$TMP/kv.csv"
"$SLUICE" load "$TMP/kv.csv" "$MY_URL" --on-conflict update --key k -q
assert_status "update" 0 $?
assert_eq "duplicates updated" $'1\tnewer\n2\told\n3\tnew\n4\tnew' "$(my -e 'SELECT * FROM kv ORDER BY k')"
printf 'k,v\n5,x\n6,0123456789ABC\n' >"$TMP/kv.csv"
"$SLUICE" load "$TMP/kv.csv" "$MY_URL" --on-conflict skip --rejects "$TMP/kv.rej" -q 2>/dev/null
assert_status "a too-long value under INSERT IGNORE is still refused" 3 $?
assert_eq "not truncated" "0" "$(my -e "SELECT COUNT(*) FROM kv WHERE k = 6")"
assert_eq "the good row in" "x" "$(my -e "SELECT v FROM kv WHERE k = 5")"

test_case "statements split under max_allowed_packet"
my -e "SET GLOBAL max_allowed_packet = 1048576"
my -e "DROP TABLE IF EXISTS big; CREATE TABLE big (id int primary key, body mediumtext)"
{
	echo "id,body"
	for i in $(seq 1 40); do printf '%d,%s\n' "$i" "$(head -c 150000 /dev/zero | tr '\0' "$((i % 10))")"; done
} >"$TMP/big.csv"
for method in insert infile; do
	my -e "TRUNCATE big"
	"$SLUICE" load "$TMP/big.csv" "$MY_URL" --method $method -q
	assert_status "$method: 6 MB of rows through a 1 MB packet limit" 0 $?
	assert_eq "$method: every row whole" "40 6000000 40" \
		"$(my -e "SELECT COUNT(*), SUM(LENGTH(body)), SUM(body = REPEAT(id % 10, 150000)) FROM big" | tr '\t' ' ')"
done
printf 'id,body\n99,%s\n' "$(head -c 1200000 /dev/zero | tr '\0' x)" >"$TMP/huge.csv"
"$SLUICE" load "$TMP/huge.csv" "$MY_URL" --table big --method insert --rejects "$TMP/huge.rej" -q 2>/dev/null
assert_status "a row larger than the packet limit is a reject" 3 $?
assert_contains "the reason" "max_allowed_packet" "$(cat "$TMP/huge.rej.log")"
my -e "SET GLOBAL max_allowed_packet = 268435456"

test_case "many batches, both methods, same contents"
my -e "DROP TABLE IF EXISTS many; CREATE TABLE many (id bigint primary key, s varchar(40), f double, ok tinyint(1), at datetime)"
awk 'BEGIN { print "id,s,f,ok,at"; for (i = 1; i <= 20000; i++)
	printf "%d,\"name %d \\ \"\"q\"\"\",%d.25,%s,2024-01-%02dT%02d:00:00Z\n", i, i, i, (i % 2 ? "true" : "f"), i % 28 + 1, i % 24 }' >"$TMP/many.csv"
for method in insert infile; do
	my -e "TRUNCATE many"
	"$SLUICE" load "$TMP/many.csv" "$MY_URL" --method $method --batch-rows 3000 -q
	assert_status "$method" 0 $?
	assert_eq "$method: contents" "20000 200010000 10000 0 0" \
		"$(my -e "SELECT COUNT(*), SUM(id), SUM(ok), SUM(s <> CONCAT('name ', id, ' \\\\ \"q\"')),
			SUM(at <> CAST(CONCAT('2024-01-', LPAD(id % 28 + 1, 2, '0'), ' ', LPAD(id % 24, 2, '0'), ':00:00') AS DATETIME))
			+ SUM(f <> id + 0.25) FROM many" | tr '\t' ' ')"
done

test_case "booleans in every spelling: infile writes what insert writes"
# LOAD DATA gets true as 0001 written over the text (same length), a row
# too long for the room left goes on its own: both must store what the
# parameterized INSERT stores, and refuse the same lines
my -e "DROP TABLE IF EXISTS bools; CREATE TABLE bools (id int primary key, ok boolean, n int, s mediumtext)"
awk 'BEGIN { srand(7); nw = split("1 0 true false t f yes no y n on off TRUE False T F YES No Y N ON Off", w, " ")
	print "id,ok,n,s"
	for (i = 1; i <= 30000; i++) {
		v = w[int(rand() * nw) + 1]
		if (i % 5 == 0) v = "\"" v "\""
		if (i > 29990 && i % 3 == 0) v = "maybe" # the other batches go whole
		len = i % 613 == 0 ? 70000 + i % 5000 : int(rand() * 60)
		s = sprintf("%*s", len, ""); gsub(/ /, "x", s)
		printf "%d,%s,%d,%s\n", i, v, i * 3, s
	} }' >"$TMP/bools.csv"
for method in insert infile; do
	my -e "TRUNCATE bools"
	"$SLUICE" load "$TMP/bools.csv" "$MY_URL" --table bools --method $method --batch-rows 2500 \
		--rejects "$TMP/bools.$method.rej" -q 2>/dev/null
	assert_status "$method: the maybes refused" 3 $?
	my -e "SELECT id, ok, n, LENGTH(s) FROM bools ORDER BY id" >"$TMP/bools.$method.out"
done
assert_eq "rows written" "29996" "$(wc -l <"$TMP/bools.insert.out")"
assert_eq "same rows and values" "" "$(diff "$TMP/bools.insert.out" "$TMP/bools.infile.out" | head -3)"
assert_eq "same lines refused" "" "$(diff "$TMP/bools.insert.rej" "$TMP/bools.infile.rej")"
# against the file itself, not sluice: each row's boolean as awk reads it
awk -F, 'NR > 1 && $2 != "maybe" { v = tolower($2); gsub(/"/, "", v)
	print $1 "\t" (v ~ /^(1|true|t|yes|y|on)$/ ? 1 : 0) "\t" $3 "\t" ($4 == "" ? "NULL" : length($4)) }' \
	"$TMP/bools.csv" >"$TMP/bools.want"
assert_eq "the values the file has" "" "$(diff "$TMP/bools.infile.out" "$TMP/bools.want" | head -3)"

test_case "the server refuses LOCAL INFILE"
my -e "SET GLOBAL local_infile = 0"
err=$("$SLUICE" load "$TMP/opts.tsv" "$MY_URL" --table opts --no-header --method infile -q 2>&1)
assert_status "load (refused before anything is written)" 2 $?
assert_contains "says so plainly" "refuses LOAD DATA LOCAL INFILE" "$err"
assert_contains "names the way out" "--method insert" "$err"
my -e "SET GLOBAL local_infile = 1"

test_case "ping"
out=$("$SLUICE" ping "$MY_URL" 2>&1)
assert_status "ping" 0 $?
assert_contains "server version" "MariaDB 1" "$out"
if [ -n "${SLUICE_MY_SOCKET:-}" ]; then
	out=$("$SLUICE" ping "mysql://root@localhost/sluice_test?socket=$SLUICE_MY_SOCKET" 2>&1)
	assert_status "ping through ?socket=" 0 $?
fi

test_case "wrong password"
PORT=${SLUICE_MY_PORT:-33069}
err=$("$SLUICE" ping "mysql://root:Sup3rSecretPw@127.0.0.1:$PORT/sluice_test" 2>&1)
assert_status "ping" 1 $?
assert_not_contains "password not printed" "Sup3rSecretPw" "$err"
assert_contains "redacted URL printed" "mysql://root:***@127.0.0.1:$PORT/sluice_test" "$err"
err=$("$SLUICE" load "$DATA/mysql_tricky.csv" "mysql://root:Sup3rSecretPw@127.0.0.1:$PORT/sluice_test" 2>&1)
assert_status "load" 1 $?
assert_not_contains "password not printed by load" "Sup3rSecretPw" "$err"
assert_contains "redacted URL printed by load" "mysql://root:***@127.0.0.1:$PORT/sluice_test" "$err"

test_case "a password from MYSQL_PWD or the URL"
my -e "DROP USER IF EXISTS 'sluice_pw'@'%'; CREATE USER 'sluice_pw'@'%' IDENTIFIED BY 'p@ss:w/rd';
	GRANT ALL ON sluice_test.* TO 'sluice_pw'@'%'"
MYSQL_PWD='p@ss:w/rd' "$SLUICE" ping "mysql://sluice_pw@127.0.0.1:$PORT/sluice_test" >/dev/null 2>&1
assert_status "MYSQL_PWD" 0 $?
"$SLUICE" ping "mysql://sluice_pw:p%40ss%3Aw%2Frd@127.0.0.1:$PORT/sluice_test" >/dev/null 2>&1
assert_status "percent-encoded password in the URL" 0 $?
MYSQL_PWD=wrong "$SLUICE" ping "mysql://sluice_pw@127.0.0.1:$PORT/sluice_test" >/dev/null 2>&1
assert_status "wrong MYSQL_PWD" 1 $?
my -e "DROP USER 'sluice_pw'@'%'"

my -e "DROP TABLE IF EXISTS mysql_tricky, opts, mixed, conv, kv, big, many"
finish
