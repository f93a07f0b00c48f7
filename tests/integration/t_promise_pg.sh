#!/usr/bin/env bash
# tests/integration/t_promise_pg.sh - "Keep the promise" against PostgreSQL:
# update from JSON touches only the named columns, --truncate checks every
# source first, output files never overwrite an input, --on-conflict update
# needs a unique key on --key, passwords never printed, lone surrogates,
# corrupt gzip commits nothing, blank lines, refusals outside the data
# classes, --max-record-bytes, repeated keys (last wins, in parallel too),
# --single-transaction and malformed input, summary counts (rows_skipped,
# blank_lines), --max-errors, SIGINT, progress, bad URLs, --dry-run connects,
# and --null against a header. Every item runs the brief's example and an
# input of its own.
. "$(dirname "$0")/lib.sh"
export PGTZ=UTC
U=$SLUICE_PG_URL
DEAD_PG="postgresql://postgres@127.0.0.1:1/postgres" # nothing listens on port 1

# psql with NULL shown as NULL
pgn() { pg -P null=NULL "$@"; }

# sl ARGS...: run sluice with a fresh summary JSON ($TMP/s.json) and stderr in
# $TMP/err; the exit code is in RC
sl() {
	rm -f "$TMP/s.json" "$TMP/err"
	"$SLUICE" "$@" --summary-json "$TMP/s.json" 2>"$TMP/err"
	RC=$?
}
# jv KEY [FILE]: the first value of "KEY" in a summary JSON (number or string)
jv() { grep -o "\"$1\": *\(\"[^\"]*\"\|-\?[0-9.]*\)" "${2:-$TMP/s.json}" 2>/dev/null | head -1 | sed 's/^[^:]*: *//; s/"//g'; }
# counts [FILE]: rows read, written, rejected, not found
counts() { echo "$(jv rows_read "$@") $(jv rows_written "$@") $(jv rows_rejected "$@") $(jv rows_not_found "$@")"; }
# st WHAT EXPECTED: assert RC, showing stderr when it differs
st() {
	assert_status "$1" "$2" "$RC"
	[ "$2" = "$RC" ] || sed 's/^/    stderr: /' "$TMP/err" 2>/dev/null | head -4
}
# st_in WHAT CODES...: RC is one of CODES
st_in() {
	local what=$1 c
	shift
	for c in "$@"; do
		[ "$RC" = "$c" ] && { pass "$what (exit $RC)"; return; }
	done
	fail "$what: exit $RC, expected one of $*"
	sed 's/^/    stderr: /' "$TMP/err" 2>/dev/null | head -4
}
assert_counts() { assert_eq "$1: summary read/written/rejected/not-found" "$2" "$(counts)"; }
# ping_out URL: sluice ping URL; its output in $out (and $TMP/err), the exit code in RC
ping_out() {
	out=$("$SLUICE" ping "$1" 2>&1)
	RC=$?
	printf '%s\n' "$out" >"$TMP/err"
}
# rej_lines LOG: the line numbers of a rejects log, sorted, on one line
rej_lines() { awk -F: '{print $2}' "$1" 2>/dev/null | sort -n | tr '\n' ' ' | sed 's/ $//'; }
sum_of() { sha256sum <"$1" | cut -c1-64; }
# flip10 FILE: invert 10 bytes in the middle of FILE
flip10() {
	local off b out=""
	off=$(($(stat -c %s "$1") / 2))
	for b in $(od -An -tu1 -j "$off" -N 10 "$1"); do out+=$(printf '\\%03o' $((b ^ 255))); done
	printf "$out" | dd of="$1" bs=1 seek="$off" conv=notrunc status=none
}
# rss_under WHAT KB FILE: peak RSS recorded by /usr/bin/time -o FILE is below KB
# (measured only when the run finished with rejects, RC 3)
rss_under() {
	local got
	[ "$RC" = 3 ] || { fail "$1: peak RSS not measured, the run exited $RC"; return; }
	# AddressSanitizer's shadow memory and quarantine say nothing of sluice's
	[ -n "${SLUICE_ASAN:-}" ] && { pass "$1: peak RSS not judged under ASan"; return; }
	got=$(tail -1 "$3" 2>/dev/null)
	if [ -n "$got" ] && [ "$got" -lt "$2" ] 2>/dev/null; then pass "$1: peak RSS $got kB < $2 kB"; else fail "$1: peak RSS ${got:-?} kB, limit $2 kB"; fi
}

###########################################################################
test_case "1. update from NDJSON sets only the columns a record names"
pg -c "drop table if exists u1; create table u1 (id int primary key, name text, qty int); insert into u1 values (1, 'keep', 10)"
echo '{"id":1,"qty":11}' >"$TMP/u1.ndjson"
sl update "$TMP/u1.ndjson" "$U" --table u1 --key id -q
st "the example" 0
assert_eq "name kept, qty set" "1|keep|11" "$(pgn -c 'select * from u1')"
assert_counts "the example" "1 1 0 0"

pg -c "drop table if exists u1b; create table u1b (id int primary key, a text, b int, c bool); insert into u1b select i, 'a' || i, i * 10, true from generate_series(1, 5) i"
printf '%s\n' '{"id":1,"a":"x"}' '{"id":2,"b":5}' '{"b":7,"a":"no key"}' '{"id":3,"a":"y","c":false}' \
	'{"id":null,"b":1}' '{"c":false,"id":4}' >"$TMP/u1b.ndjson"
sl update "$TMP/u1b.ndjson" "$U" --table u1b --key id --rejects "$TMP/u1b.rej" -q
st "subsets, a missing and a null key" 3
assert_eq "each record set only its own columns" "1|x|10|t
2|a2|5|t
3|y|30|f
4|a4|40|f
5|a5|50|t" "$(pgn -c 'select * from u1b order by id')"
assert_counts "subsets" "6 4 2 0"
assert_eq "rejected lines" "3 5" "$(rej_lines "$TMP/u1b.rej.log")"
assert_eq "reasons mention NULL or missing" "2" "$(grep -ciE 'null|missing' "$TMP/u1b.rej.log")"
assert_not_contains "not reported as not found" "not found" "$(cat "$TMP/u1b.rej.log")"

# own: a JSON array, a composite key, numeric/date columns, an explicit null
pg -c "drop table if exists u1c; create table u1c (sku text, region int, price numeric(10,2), note text, seen date, primary key (sku, region))
	; insert into u1c values ('A', 1, 1.00, 'n1', '2020-01-01'), ('A', 2, 2.00, 'n2', '2020-01-01'), ('B', 1, 3.00, 'n3', '2020-01-01')"
cat >"$TMP/u1c.json" <<'EOF'
[
{"sku": "A", "region": 1, "price": 9.50},
{"region": 2, "sku": "A", "note": "restocked"},
{"sku": "B", "region": 1, "seen": "2024-05-06", "note": null},
{"sku": "B", "price": 1.00},
{"sku": null, "region": 1, "price": 2.00}
]
EOF
sl update "$TMP/u1c.json" "$U" --table u1c --key sku,region --rejects "$TMP/u1c.rej" -q
st "JSON array, composite key" 3
assert_eq "only the named columns changed; an explicit null sets NULL" "A|1|9.50|n1|2020-01-01
A|2|2.00|restocked|2020-01-01
B|1|3.00|NULL|2024-05-06" "$(pgn -c 'select * from u1c order by sku, region')"
assert_counts "JSON array" "5 3 2 0"
assert_eq "rejected: the record without region and the null sku" "2" "$(grep -ciE 'null|missing' "$TMP/u1c.rej.log")"

###########################################################################
test_case "3. --truncate checks every source before emptying the table"
tr_fill() { pg -c "drop table if exists tr; create table tr (id int primary key, name text); insert into tr values (1, 'old1'), (2, 'old2'), (3, 'old3')"; }
TR_OLD="1|old1
2|old2
3|old3"
printf 'id,name\n10,new10\n11,new11\n' >"$TMP/tr_a.csv"
printf 'id,title\n12,x\n' >"$TMP/tr_other.csv"
mkdir -p "$TMP/tr_dir"
awk 'BEGIN { print "id,name"; for (i = 100; i < 60100; i++) printf "%d,name %d\n", i, i }' | gzip -n >"$TMP/tr_bad.csv.gz"
flip10 "$TMP/tr_bad.csv.gz"
gzip -n -c "$TMP/tr_a.csv" >"$TMP/tr_a.csv.gz"
for second in missing dir header gzip; do
	tr_fill
	case $second in
	missing) sl load "$TMP/tr_a.csv" "$TMP/tr_missing.csv" "$U" --table tr --truncate -q; want=2 ;;
	dir) sl load "$TMP/tr_a.csv" "$TMP/tr_dir" "$U" --table tr --truncate -q; want=2 ;;
	header) sl load "$TMP/tr_a.csv" "$TMP/tr_other.csv" "$U" --table tr --truncate -q; want=2 ;;
	gzip) sl load "$TMP/tr_a.csv.gz" "$TMP/tr_bad.csv.gz" "$U" --table tr --truncate --batch-rows 1000 -q; want=1 ;;
	esac
	st "second source: $second" $want
	assert_eq "previous content intact ($second)" "$TR_OLD" "$(pg -c 'select * from tr order by id')"
done

# own: NDJSON and TSV sources, another table and types
tr2_fill() { pg -c "drop table if exists tr2; create table tr2 (code text primary key, amount numeric, at date); insert into tr2 values ('k1', 1.5, '2020-01-01'), ('k2', 2.5, '2020-01-02')"; }
TR2_OLD="k1|1.5|2020-01-01
k2|2.5|2020-01-02"
printf 'code\tamount\tat\nz1\t9\t2024-01-01\n' >"$TMP/tr2_a.tsv"
printf 'code\tamount_usd\tat\nz2\t9\t2024-01-01\n' >"$TMP/tr2_b.tsv"
printf '{"code":"z1","amount":9,"at":"2024-01-01"}\n' >"$TMP/tr2_a.ndjson"
awk 'BEGIN { for (i = 0; i < 40000; i++) printf "{\"code\":\"c%d\",\"amount\":%d.25,\"at\":\"2024-02-03\"}\n", i, i }' | gzip -n >"$TMP/tr2_bad.ndjson.gz"
flip10 "$TMP/tr2_bad.ndjson.gz"
for second in missing dir header gzip; do
	tr2_fill
	case $second in
	missing) sl load "$TMP/tr2_a.tsv" "$TMP/tr2_missing.tsv.gz" "$U" --table tr2 --truncate -q; want=2 ;;
	dir) sl load "$TMP/tr2_a.ndjson" "$TMP/tr_dir" "$U" --table tr2 --format ndjson --truncate -q; want=2 ;;
	header) sl load "$TMP/tr2_a.tsv" "$TMP/tr2_b.tsv" "$U" --table tr2 --truncate -q; want=2 ;;
	gzip) sl load "$TMP/tr2_a.ndjson" "$TMP/tr2_bad.ndjson.gz" "$U" --table tr2 --truncate --workers 2 --batch-rows 500 -q; want=1 ;;
	esac
	st "own: second source $second" $want
	assert_eq "own: previous content intact ($second)" "$TR2_OLD" "$(pg -c 'select * from tr2 order by code')"
done

###########################################################################
test_case "4. --rejects/--summary-json naming an input file are refused"
ri_fill() { pg -c "drop table if exists ri; create table ri (id int primary key, v text); insert into ri values (1, 'old')"; }
printf 'id,v\n1,dup\n2,x\nbad,y\n' >"$TMP/in4.csv"
ln -sf in4.csv "$TMP/in4.link"
sum4=$(sum_of "$TMP/in4.csv")
try4() { # try4 WHAT ARGS...: exit 2, input unchanged, table untouched
	local what=$1
	shift
	ri_fill
	(cd "$TMP" && "$SLUICE" "$@" -q 2>"$TMP/err")
	RC=$?
	st "$what" 2
	assert_eq "$what: input unchanged" "$sum4" "$(sum_of "$TMP/in4.csv")"
	assert_eq "$what: table untouched" "1|old" "$(pg -c 'select * from ri')"
	printf 'id,v\n1,dup\n2,x\nbad,y\n' >"$TMP/in4.csv" # restore for the next case
}
try4 "--rejects = the input" load "$TMP/in4.csv" "$U" --table ri --rejects "$TMP/in4.csv"
try4 "--rejects ./spelling" load in4.csv "$U" --table ri --rejects ./in4.csv
try4 "--rejects through a symlink" load "$TMP/in4.csv" "$U" --table ri --rejects "$TMP/in4.link"
try4 "--summary-json = the input" load "$TMP/in4.csv" "$U" --table ri --summary-json "$TMP/in4.csv"
try4 "--summary-json ./spelling" load "$TMP/in4.csv" "$U" --table ri --summary-json ./in4.csv
# own: the second of two sources, a dir/../ spelling, sluice update, and NDJSON
mkdir -p "$TMP/sub4"
printf 'id,v\n3,z\n' >"$TMP/first4.csv"
try4 "own: --rejects = the second source" load "$TMP/first4.csv" "$TMP/in4.csv" "$U" --table ri --rejects "$TMP/sub4/../in4.csv"
try4 "own: update --summary-json through a symlink" update "$TMP/in4.csv" "$U" --table ri --key id --summary-json "$TMP/in4.link"
printf '{"id": 7, "v": "j"}\n' >"$TMP/in4.ndjson"
sum4j=$(sum_of "$TMP/in4.ndjson")
ri_fill
(cd "$TMP/sub4" && "$SLUICE" load ../in4.ndjson "$U" --table ri --summary-json "$TMP/./in4.ndjson" -q 2>"$TMP/err")
RC=$?
st "own: NDJSON named as --summary-json" 2
assert_eq "own: NDJSON unchanged" "$sum4j" "$(sum_of "$TMP/in4.ndjson")"
assert_eq "own: table untouched" "1|old" "$(pg -c 'select * from ri')"
printf '{"id": 7, "v": "j"}\n' >"$TMP/in4.ndjson"
ri_fill
rm -f "$TMP/same4"
"$SLUICE" load "$TMP/in4.csv" "$U" --table ri --rejects "$TMP/same4" --summary-json "$TMP/same4" -q 2>"$TMP/err"
RC=$?
st "--rejects and --summary-json the same file" 2
assert_eq "table untouched" "1|old" "$(pg -c 'select * from ri')"
ri_fill
(cd "$TMP" && "$SLUICE" load "$TMP/in4.ndjson" "$U" --table ri --rejects out4 --summary-json ./out4 -q 2>"$TMP/err")
RC=$?
st "own: the same file spelled twice" 2
assert_eq "own: table untouched" "1|old" "$(pg -c 'select * from ri')"

###########################################################################
test_case "5. --on-conflict update needs a unique key on --key; --create makes it the primary key"
pg -c "drop table if exists nk; create table nk (id int, v text); insert into nk values (1, 'old')"
printf 'id,v\n1,new\n2,two\n' >"$TMP/nk.csv"
sl load "$TMP/nk.csv" "$U" --table nk --on-conflict update --key id -q
st "no unique index on the key" 2
assert_eq "nothing written" "1|old" "$(pg -c 'select * from nk')"
# own: a unique index exists, but on another column
pg -c "drop table if exists nk2; create table nk2 (id bigint, code text unique, qty int); insert into nk2 values (5, 'c5', 1)"
printf '{"id": 5, "code": "c6", "qty": 2}\n{"id": 6, "code": "c7", "qty": 3}\n' >"$TMP/nk2.ndjson"
sl load "$TMP/nk2.ndjson" "$U" --table nk2 --on-conflict update --key id -q
st "own: unique index only on another column" 2
assert_eq "own: nothing written" "5|c5|1" "$(pg -c 'select * from nk2')"

pk_of() { pg -c "select string_agg(a.attname, ',' order by k.ord) from pg_index i cross join unnest(i.indkey) with ordinality k(attnum, ord) join pg_attribute a on a.attrelid = i.indrelid and a.attnum = k.attnum where i.indrelid = '$1'::regclass and i.indisprimary"; }
pg -c "drop table if exists c5"
printf 'id,name,score\n1,ann,10\n2,bob,20\n3,cid,30\n' >"$TMP/c5.csv"
sl load "$TMP/c5.csv" "$U" --table c5 --create --on-conflict update --key id -q
st "--create with --on-conflict update" 0
assert_eq "primary key (id)" "id" "$(pk_of c5)"
printf 'id,name,score\n2,bob,25\n4,dan,40\n3,cyd,30\n' >"$TMP/c5b.csv"
sl load "$TMP/c5b.csv" "$U" --table c5 --on-conflict update --key id -q
st "second load upserts" 0
assert_eq "upserted" "1|ann|10
2|bob|25
3|cyd|30
4|dan|40" "$(pg -c 'select * from c5 order by id')"
assert_counts "second load" "3 3 0 0"
# own: a composite key from NDJSON
pg -c "drop table if exists c5j"
printf '{"sku": "a", "region": 1, "price": 1.5}\n{"sku": "a", "region": 2, "price": 2.5}\n' >"$TMP/c5j.ndjson"
sl load "$TMP/c5j.ndjson" "$U" --table c5j --create --on-conflict update --key sku,region -q
st "own: --create, composite key" 0
assert_eq "own: primary key (sku, region)" "sku,region" "$(pk_of c5j)"
printf '{"sku": "a", "region": 2, "price": 9.75}\n{"sku": "b", "region": 1, "price": 0.5}\n' >"$TMP/c5j2.ndjson"
sl load "$TMP/c5j2.ndjson" "$U" --table c5j --on-conflict update --key sku,region -q
st "own: second load upserts" 0
assert_eq "own: upserted" "a|1|1.5
a|2|9.75
b|1|0.5" "$(pg -c 'select sku, region, price from c5j order by 1, 2')"

###########################################################################
test_case "6. passwords with raw / ? # @ are never printed"
printf 'id\n1\n' >"$TMP/pw.csv"
for pw in 'ab#cdSECRET' 'ab/cdSECRET' 'ab?cdSECRET' 'ab@cdSECRET' 'a/b?c#d@cdSECRET'; do
	url="postgresql://postgres:$pw@127.0.0.1:1/postgres"
	ping_out "$url"
	st_in "ping, password $pw" 1 2
	assert_not_contains "ping output, password $pw" "SECRET" "$out"
	assert_not_contains "ping output has no 'cd', password $pw" "cd" "$out"
	rm -f "$TMP/pw.json"
	out=$("$SLUICE" load "$TMP/pw.csv" "$url" --table pw --retries 0 --summary-json "$TMP/pw.json" 2>&1)
	RC=$?
	printf '%s\n' "$out" >"$TMP/err"
	st_in "load, password $pw" 1 2
	assert_not_contains "load output, password $pw" "SECRET" "$out"
	assert_not_contains "summary JSON, password $pw" "SECRET" "$(cat "$TMP/pw.json" 2>/dev/null)"
done
ping_out "postgresql://postgres:cdSECRET@127.0.0.1:1/postgres"
st "parses, cannot connect" 1
assert_not_contains "no password" "SECRET" "$out"
ping_out "postgresql://postgres:ab%23cdSECRET@127.0.0.1:1/postgres?connect_timeout=2"
st "own: percent-encoded password, cannot connect" 1
assert_not_contains "own: no password" "SECRET" "$out"
ping_out "postgresql://postgres:cdSECRET@127.0.0.1:notaport/postgres"
st "does not parse" 2
assert_not_contains "no password" "SECRET" "$out"

###########################################################################
test_case "7. JSON lone surrogates are rejected rows"
pg -c "drop table if exists sur; create table sur (id int primary key, s text, doc jsonb)"
cat >"$TMP/sur.ndjson" <<'EOF'
{"id": 1, "s": "\ud800"}
{"id": 2, "s": "\ud800\u0041"}
{"id": 3, "s": "\udfff"}
{"id": 4, "s": "ok \ud83d\ude00"}
{"id": 5, "doc": {"k": "\ud800"}}
{"id": 6, "doc": {"\udfff": 1}}
{"id": 7, "s": "plain", "doc": {"a": "\u00e9"}}
EOF
for method in copy insert; do
	pg -c "truncate sur"
	sl load "$TMP/sur.ndjson" "$U" --table sur --method $method --rejects "$TMP/sur.rej" -q
	st "NDJSON, $method" 3
	assert_eq "valid rows, valid pair decoded ($method)" "4|ok 😀|NULL
7|plain|{\"a\": \"é\"}" "$(pgn -c 'select * from sur order by id')"
	assert_eq "rejected lines ($method)" "1 2 3 5 6" "$(rej_lines "$TMP/sur.rej.log")"
	assert_counts "NDJSON ($method)" "7 2 5 0"
done
# own: a JSON array, other columns, keys ignored with --ignore-unknown
pg -c "drop table if exists sur2; create table sur2 (code text primary key, label varchar(20), tags jsonb)"
cat >"$TMP/sur2.json" <<'EOF'
[
{"code": "a", "label": "\udbff"},
{"code": "b", "label": "\ud800\ud800"},
{"code": "c", "tags": ["x", "\udc00"]},
{"code": "d", "label": "clef \ud834\udd1e"},
{"code": "e", "\ud83d": "x"},
{"code": "f", "tags": {"g": "\ud83d\ude00"}},
{"code": "g", "label": "\u0041\ud800x"}
]
EOF
sl load "$TMP/sur2.json" "$U" --table sur2 --ignore-unknown --rejects "$TMP/sur2.rej" -q
st "own: JSON array" 3
assert_eq "own: valid rows" "d|clef 𝄞|NULL
f|NULL|{\"g\": \"😀\"}" "$(pgn -c 'select * from sur2 order by code')"
assert_eq "own: rejected lines" "2 3 4 6 8" "$(rej_lines "$TMP/sur2.rej.log")"
assert_counts "own" "7 2 5 0"

###########################################################################
test_case "8. a corrupt or truncated gzip commits no rows"
awk 'BEGIN { print "id,name,amount"; for (i = 1; i <= 100000; i++) printf "%d,name %d,%d.%02d\n", i, i, i, i % 100 }' >"$TMP/gz.csv"
gzip -n -c "$TMP/gz.csv" >"$TMP/gz.csv.gz"
flip10 "$TMP/gz.csv.gz"
pg -c "drop table if exists gz; create table gz (id int primary key, name text, amount numeric(12,2))"
sl load "$TMP/gz.csv.gz" "$U" --table gz --batch-rows 5000 -q
st "flipped bytes in the middle" 1
assert_eq "table empty" "0" "$(pg -c 'select count(*) from gz')"
assert_eq "nothing counted as written" "0" "$(jv rows_written)"
gzip -n -c "$TMP/gz.csv" | head -c $(($(gzip -n -c "$TMP/gz.csv" | wc -c) * 6 / 10)) >"$TMP/gz_trunc.csv.gz"
pg -c "truncate gz"
sl load "$TMP/gz_trunc.csv.gz" "$U" --table gz --batch-rows 5000 -q
st "truncated gzip" 1
assert_eq "table empty (truncated)" "0" "$(pg -c 'select count(*) from gz')"
# own: NDJSON .gz into a table that has rows, two writers, --method insert
awk 'BEGIN { for (i = 1; i <= 60000; i++) printf "{\"k\": \"key-%d\", \"n\": %d, \"ok\": %s}\n", i, i * 3, i % 2 ? "true" : "false" }' >"$TMP/gz.ndjson"
gzip -n -c "$TMP/gz.ndjson" >"$TMP/gzj.ndjson.gz"
flip10 "$TMP/gzj.ndjson.gz"
pg -c "drop table if exists gzj; create table gzj (k text primary key, n bigint, ok boolean); insert into gzj values ('pre', 1, true)"
sl load "$TMP/gzj.ndjson.gz" "$U" --table gzj --method insert --workers 2 --batch-rows 2000 -q
st "own: NDJSON .gz, flipped bytes" 1
assert_eq "own: table unchanged" "pre|1|t" "$(pg -c 'select * from gzj')"
gzip -n -c "$TMP/gz.ndjson" | head -c 200000 >"$TMP/gzj_trunc.ndjson.gz"
pg -c "delete from gzj where k <> 'pre'"
sl load "$TMP/gzj_trunc.ndjson.gz" "$U" --table gzj --workers 2 --batch-rows 2000 -q
st "own: NDJSON .gz, truncated" 1
assert_eq "own: table unchanged (truncated)" "pre|1|t" "$(pg -c 'select * from gzj')"

###########################################################################
test_case "9. blank lines: one column is NULL like COPY; several columns skipped and counted"
printf 'name\nalice\n\nbob\n\n' >"$TMP/blank1.csv"
pg -c "drop table if exists bl1; create table bl1 (name text); drop table if exists bl1_copy; create table bl1_copy (name text)"
pg -c "\\copy bl1_copy from '$TMP/blank1.csv' csv header"
sl load "$TMP/blank1.csv" "$U" --table bl1 -q
st "one column" 0
assert_eq "4 rows, blanks are NULL" "alice
NULL
bob
NULL" "$(pgn -c 'select name from bl1 order by ctid')"
assert_eq "same as COPY" "$(pgn -c 'select name from bl1_copy order by ctid')" "$(pgn -c 'select name from bl1 order by ctid')"
assert_eq "rows read and written" "4 4" "$(jv rows_read) $(jv rows_written)"
printf 'id,name\n1,a\n\n2,b\n\n\n3,c\n' >"$TMP/blank2.csv"
pg -c "drop table if exists bl2; create table bl2 (id int, name text)"
sl load "$TMP/blank2.csv" "$U" --table bl2 -q
st "several columns" 0
assert_eq "3 rows" "1|a
2|b
3|c" "$(pg -c 'select * from bl2 order by id')"
assert_eq "blank_lines 3, rows_read 3" "3 3 3" "$(jv blank_lines) $(jv rows_read) $(jv rows_written)"
# own: a one-column int file compared with COPY, and CRLF blank lines before a bad row
printf 'n\n5\n\n7\n' >"$TMP/blank3.csv"
pg -c "drop table if exists bl3; create table bl3 (n int); drop table if exists bl3_copy; create table bl3_copy (n int)"
pg -c "\\copy bl3_copy from '$TMP/blank3.csv' csv header"
sl load "$TMP/blank3.csv" "$U" --table bl3 --method insert -q
st "own: one int column" 0
assert_eq "own: same as COPY (5, NULL, 7)" "5
NULL
7" "$(pgn -c 'select n from bl3 order by ctid')"
assert_eq "own: COPY agrees" "$(pgn -c 'select n from bl3_copy order by ctid')" "$(pgn -c 'select n from bl3 order by ctid')"
printf 'id,v,at\r\n1,x,2024-01-01\r\n\r\n2,y,2024-01-02\r\n\r\n3,z,notadate\r\n4,w,2024-01-04\r\n' >"$TMP/blank4.csv"
pg -c "drop table if exists bl4; create table bl4 (id int, v text, at date)"
sl load "$TMP/blank4.csv" "$U" --table bl4 --rejects "$TMP/bl4.rej" -q
st "own: CRLF blank lines and a bad row" 3
assert_eq "own: rows" "1|x|2024-01-01
2|y|2024-01-02
4|w|2024-01-04" "$(pg -c 'select * from bl4 order by id')"
assert_eq "own: bad row's line counts the blank lines" "6" "$(rej_lines "$TMP/bl4.rej.log")"
assert_eq "own: blank_lines 2, read 4, written 3, rejected 1" "2 4 3 1" "$(jv blank_lines) $(jv rows_read) $(jv rows_written) $(jv rows_rejected)"

###########################################################################
test_case "10. refusals outside the data classes reject one row; every-row errors fail the run"
pg -c "drop table if exists tg; create table tg (id int primary key, v text)
	; create or replace function tg_check() returns trigger language plpgsql as \$\$
	begin
		if new.v = 'boom' then raise exception 'no boom please'; end if;
		if new.v = 'custom' then raise exception using errcode = 'U0001', message = 'custom code'; end if;
		return new;
	end \$\$
	; create trigger tg_check before insert on tg for each row execute function tg_check()"
awk 'BEGIN { print "id,v"; for (i = 1; i <= 1000; i++) printf "%d,%s\n", i, i == 300 ? "boom" : i == 700 ? "custom" : "v" i }' >"$TMP/tg.csv"
for method in copy insert; do
	pg -c "truncate tg"
	sl load "$TMP/tg.csv" "$U" --table tg --method $method --batch-rows 400 --rejects "$TMP/tg.rej" -q
	st "trigger RAISE ($method)" 3
	assert_eq "998 rows ($method)" "998|0" "$(pg -c "select count(*), count(*) filter (where v in ('boom', 'custom')) from tg")"
	assert_eq "rejected lines ($method)" "301 701" "$(rej_lines "$TMP/tg.rej.log")"
	assert_counts "trigger ($method)" "1000 998 2 0"
done
pg -c "drop table if exists ix; create table ix (id int primary key, t text unique)"
big=$(head -c 7500 /dev/urandom | base64 -w0)
{ echo "id,t"; for i in 1 2 3 4; do echo "$i,t$i"; done; echo "5,$big"; for i in 6 7 8; do echo "$i,t$i"; done; } >"$TMP/ix.csv"
sl load "$TMP/ix.csv" "$U" --table ix --rejects "$TMP/ix.rej" -q
st "index row too large" 3
assert_eq "7 rows" "7|31" "$(pg -c 'select count(*), sum(id) from ix')"
assert_eq "rejected line" "6" "$(rej_lines "$TMP/ix.rej.log")"
assert_counts "index row" "8 7 1 0"
pg -c "drop table if exists dj; create table dj (id int primary key, doc jsonb)"
{
	echo "id,doc"
	echo '1,"{""a"": 1}"'
	echo '2,[1]'
	printf '3,'; head -c 200000 /dev/zero | tr '\0' '['; head -c 200000 /dev/zero | tr '\0' ']'; echo
	echo '4,[[[[2]]]]'
} >"$TMP/dj.csv"
sl load "$TMP/dj.csv" "$U" --table dj --rejects "$TMP/dj.rej" -q
st "JSON nested past the server's depth limit" 3
assert_eq "3 rows" '1|{"a": 1}
2|[1]
4|[[[[2]]]]' "$(pg -c 'select * from dj order by id')"
assert_counts "deep JSON" "4 3 1 0"
# own: NDJSON, --method insert, a trigger with a custom code on every 250th key,
# and a row too big for a unique index on two columns
pg -c "drop table if exists tg2; create table tg2 (k bigint primary key, label text, amount numeric(8,2), unique (label, amount))
	; create or replace function tg2_check() returns trigger language plpgsql as \$\$
	begin
		if new.k % 250 = 0 then raise exception using errcode = 'P0042', message = 'k is a multiple of 250'; end if;
		return new;
	end \$\$
	; create trigger tg2_check before insert on tg2 for each row execute function tg2_check()"
{
	for i in $(seq 1 600); do
		if [ "$i" = 123 ]; then echo "{\"k\": $i, \"label\": \"$big$big\", \"amount\": 1.00}"; else echo "{\"k\": $i, \"label\": \"l$i\", \"amount\": $i.50}"; fi
	done
} >"$TMP/tg2.ndjson"
sl load "$TMP/tg2.ndjson" "$U" --table tg2 --method insert --batch-rows 100 --workers 2 --rejects "$TMP/tg2.rej" -q
st "own: custom-code trigger and a big index row" 3
assert_eq "own: 597 rows" "597|$((600 * 601 / 2 - 250 - 500 - 123))" "$(pg -c 'select count(*), sum(k) from tg2')"
assert_eq "own: rejected lines" "123 250 500" "$(rej_lines "$TMP/tg2.rej.log")"
assert_counts "own" "600 597 3 0"
# errors that hit every row fail the run
pg -c "drop table if exists ev; create table ev (id int primary key, v text); insert into ev values (0, 'pre')"
printf 'id,v\n1,a\n2,b\n' >"$TMP/ev.csv"
sl load "$TMP/ev.csv" "$U" --table ev --columns id,nosuch -q
st_in "a missing column in --columns fails the run" 1 2
assert_eq "nothing written (missing column)" "0|pre" "$(pg -c 'select * from ev')"
pg -c "drop role if exists sluice_ro; create role sluice_ro login; grant select on ev to sluice_ro"
RO_URL=${U/postgres@/sluice_ro@}
sl load "$TMP/ev.csv" "$RO_URL" --table ev -q
st_in "a user without INSERT fails the run" 1 2
assert_eq "nothing written (no INSERT privilege)" "0|pre" "$(pg -c 'select * from ev')"
# own: update through the read-only role, and an INSERT privilege on one column only
sl update "$TMP/ev.csv" "$RO_URL" --table ev --key id -q
st_in "own: update without UPDATE privilege fails the run" 1 2
pg -c "grant insert (id) on ev to sluice_ro"
sl load "$TMP/ev.csv" "$RO_URL" --table ev --method insert -q
st_in "own: INSERT on one column only fails the run" 1 2
assert_eq "own: nothing written" "0|pre" "$(pg -c 'select * from ev')"
pg -c "drop owned by sluice_ro; drop role sluice_ro"

###########################################################################
test_case "11. --max-record-bytes: a record over the limit is rejected, reading resumes"
LIM_1M=$((64 * 1024 + 8 * 1000000 / 1024))   # kB: 64 MB + 8x the limit
LIM_100K=$((64 * 1024 + 8 * 100000 / 1024))
{
	echo "id,payload,n"
	for i in 1 2 3 4; do echo "$i,p$i,$((i * 7))"; done
	printf '5,'; head -c 3000000 /dev/zero | tr '\0' x; echo ',35'
	for i in 6 7 8 9 10; do echo "$i,p$i,$((i * 7))"; done
} >"$TMP/big3m.csv"
pg -c "drop table if exists mr; create table mr (id int primary key, payload text, n int)"
rm -f "$TMP/rss"
/usr/bin/time -f %M -o "$TMP/rss" "$SLUICE" load "$TMP/big3m.csv" "$U" --table mr --max-record-bytes 1000000 \
	--rejects "$TMP/mr.rej" --summary-json "$TMP/s.json" -q 2>"$TMP/err"
RC=$?
st "3 MB field, limit 1000000" 3
assert_eq "the other rows, exact" "1|p1|7
2|p2|14
3|p3|21
4|p4|28
6|p6|42
7|p7|49
8|p8|56
9|p9|63
10|p10|70" "$(pg -c 'select * from mr order by id')"
assert_eq "rejected line" "6" "$(rej_lines "$TMP/mr.rej.log")"
assert_counts "3 MB field" "10 9 1 0"
rss_under "3 MB field" $LIM_1M "$TMP/rss"
pg -c "truncate mr"
sl load "$TMP/big3m.csv" "$U" --table mr -q
st "the default limit takes a 3 MB field" 0
assert_eq "10 rows, the big one whole" "10|3000000" "$(pg -c 'select count(*), max(length(payload)) from mr')"

# 20 MB, one column, an unterminated quote on line 3 and no other quote
awk 'BEGIN { pad = sprintf("%90s", ""); gsub(/ /, "y", pad); print "v"; for (k = 1; k <= 200000; k++) printf "%sr%06d%s\n", k == 2 ? "\"" : "", k, pad }' >"$TMP/uq.csv"
pg -c "drop table if exists uq; create table uq (v text)"
/usr/bin/time -f %M -o "$TMP/rss" "$SLUICE" load "$TMP/uq.csv" "$U" --table uq --max-record-bytes 100000 \
	--rejects "$TMP/uq.rej" --summary-json "$TMP/s.json" -q 2>"$TMP/err"
RC=$?
st "unterminated quote in 20 MB, limit 100000" 3
assert_eq "every other row loaded" "199999|$((200000 * 200001 / 2 - 2))|0" \
	"$(pg -c "select count(*), sum(substr(v, 2, 6)::int), count(*) filter (where v like '%\"%') from uq")"
assert_eq "line 3 rejected" "3" "$(rej_lines "$TMP/uq.rej.log")"
assert_counts "unterminated quote" "200000 199999 1 0"
rss_under "unterminated quote" $LIM_100K "$TMP/rss"

pg -c "drop table if exists mj; create table mj (id int primary key, s text, doc jsonb)"
big200k=$(head -c 200000 /dev/zero | tr '\0' z)
{ for i in 1 2; do echo "{\"id\": $i, \"s\": \"s$i\"}"; done; echo "{\"id\": 3, \"s\": \"$big200k\"}"; for i in 4 5 6; do echo "{\"id\": $i, \"s\": \"s$i\"}"; done; } >"$TMP/mr.ndjson"
/usr/bin/time -f %M -o "$TMP/rss" "$SLUICE" load "$TMP/mr.ndjson" "$U" --table mj --max-record-bytes 100000 \
	--rejects "$TMP/mj.rej" --summary-json "$TMP/s.json" -q 2>"$TMP/err"
RC=$?
st "NDJSON line over the limit" 3
assert_eq "the next ones loaded" "1|s1
2|s2
4|s4
5|s5
6|s6" "$(pg -c 'select id, s from mj order by id')"
assert_eq "line 3 rejected" "3" "$(rej_lines "$TMP/mj.rej.log")"
assert_counts "NDJSON" "6 5 1 0"
rss_under "NDJSON" $LIM_100K "$TMP/rss"
pg -c "truncate mj"
{ echo "["; echo '{"id": 1, "s": "a"},'; echo "{\"id\": 2, \"s\": \"$big200k\"},"; echo '{"id": 3, "s": "c"},'; echo '{"id": 4, "s": "d"}'; echo "]"; } >"$TMP/mr.json"
/usr/bin/time -f %M -o "$TMP/rss" "$SLUICE" load "$TMP/mr.json" "$U" --table mj --max-record-bytes 100000 \
	--rejects "$TMP/mj.rej" --summary-json "$TMP/s.json" -q 2>"$TMP/err"
RC=$?
st "JSON array element over the limit" 3
assert_eq "the next ones loaded" "1|a
3|c
4|d" "$(pg -c 'select id, s from mj order by id')"
assert_counts "JSON array" "4 3 1 0"
rss_under "JSON array" $LIM_100K "$TMP/rss"
# own: a TSV with two oversized records of other types, and a big nested JSON value
pg -c "drop table if exists mr2; create table mr2 (code text, qty bigint, note text, at date)"
big300k=$(head -c 300000 /dev/zero | tr '\0' q)
{
	printf 'code\tqty\tnote\tat\n'
	for i in $(seq 1 50); do
		case $i in
		17) printf 'c%d\t%d\t%s\t2024-01-%02d\n' "$i" "$i" "$big300k" $((i % 28 + 1)) ;;
		42) printf 'c%d\t%s\tnote\t2024-01-%02d\n' "$i" "$big300k" $((i % 28 + 1)) ;;
		*) printf 'c%d\t%d\tnote %d\t2024-01-%02d\n' "$i" "$((i * 1000))" "$i" $((i % 28 + 1)) ;;
		esac
	done
} >"$TMP/mr2.tsv"
/usr/bin/time -f %M -o "$TMP/rss" "$SLUICE" load "$TMP/mr2.tsv" "$U" --table mr2 --max-record-bytes 100000 \
	--rejects "$TMP/mr2.rej" --summary-json "$TMP/s.json" -q 2>"$TMP/err"
RC=$?
st "own: TSV, two records over the limit" 3
assert_eq "own: the 48 others, exact" "48|$(((50 * 51 / 2 - 17 - 42) * 1000))|c50|2024-01-23" \
	"$(pg -c "select count(*), sum(qty), max(code) filter (where qty = 50000), max(at) filter (where code = 'c50') from mr2")"
assert_eq "own: rejected lines" "18 43" "$(rej_lines "$TMP/mr2.rej.log")"
assert_counts "own TSV" "50 48 2 0"
rss_under "own TSV" $LIM_100K "$TMP/rss"
pg -c "truncate mj"
bignest=$(awk 'BEGIN { printf "["; for (i = 0; i < 30000; i++) printf "%s{\"n\": %d}", i ? "," : "", i; printf "]" }')
{ echo '[{"id": 10, "doc": {"small": true}},'; echo "{\"id\": 11, \"doc\": {\"list\": $bignest}},"; echo '{"id": 12, "doc": [1, 2]}, {"id": 13, "s": "same line"}]'; } >"$TMP/mr2.json"
sl load "$TMP/mr2.json" "$U" --table mj --max-record-bytes 100000 --rejects "$TMP/mr2j.rej" -q
st "own: JSON array, a big nested element" 3
assert_eq "own: the next ones loaded" '10|NULL|{"small": true}
12|NULL|[1, 2]
13|same line|NULL' "$(pgn -c 'select * from mj order by id')"
assert_counts "own JSON array" "4 3 1 0"

###########################################################################
test_case "12. repeated keys: the last record wins (upsert and update, in parallel too)"
pg -c "drop table if exists rk; create table rk (id int primary key, v text)"
printf 'id,v\n1,a\n2,b\n1,c\n' >"$TMP/rk.csv"
for method in copy insert; do
	pg -c "truncate rk"
	sl load "$TMP/rk.csv" "$U" --table rk --on-conflict update --key id --method $method -q
	st "a key twice in one batch ($method)" 0
	assert_eq "last wins ($method)" "1|c
2|b" "$(pg -c 'select * from rk order by id')"
	assert_eq "nothing rejected ($method)" "3 0 0" "$(jv rows_read) $(jv rows_rejected) $(jv rows_not_found)"
done
# keys repeat every M records: M = 3000 is the example; with M = 1000 batches
# that share keys are written at the same time by the workers, with M = 300
# a key also repeats inside each batch
for M in 3000 1000 300; do
	awk -v m=$M 'BEGIN { print "id,v"; for (i = 1; i <= 20000; i++) printf "%d,%d\n", i % m, i }' >"$TMP/rk$M.csv"
done
last_ok() { echo "select count(*), count(*) filter (where v::int = id + $1 * ((20000 - id) / $1)) from rk"; }
for M in 3000 1000 300; do
	for method in copy insert; do
		pg -c "truncate rk"
		sl load "$TMP/rk$M.csv" "$U" --table rk --on-conflict update --key id --method $method --workers 4 --batch-rows 500 -q
		st "20000 rows, $M keys, 4 workers ($method)" 0
		assert_eq "every key holds its last value ($M keys, $method)" "$M|$M" "$(pg -c "$(last_ok $M)")"
		assert_eq "nothing rejected ($M keys, $method)" "20000 0" "$(jv rows_read) $(jv rows_rejected)"
	done
done
for M in 3000 1000 300; do
	pg -c "truncate rk; insert into rk select i, '-1' from generate_series(0, 4999) i"
	sl load "$TMP/rk$M.csv" "$U" --table rk --on-conflict update --key id --workers 4 --batch-rows 500 -q
	st "a table that starts non-empty ($M keys)" 0
	assert_eq "keys in the file: last value; the others untouched ($M keys)" "5000|$M|$((5000 - M))" \
		"$(pg -c "select count(*), count(*) filter (where id < $M and v::int = id + $M * ((20000 - id) / $M)), count(*) filter (where id >= $M and v = '-1') from rk")"
done
for M in 3000 1000 300; do
	pg -c "truncate rk; insert into rk select i, '-1' from generate_series(0, $M - 1) i"
	sl update "$TMP/rk$M.csv" "$U" --table rk --key id --workers 3 --batch-rows 500 -q
	st "sluice update, 3 workers, $M keys" 0
	assert_eq "update: every key holds its last value ($M keys)" "$M|$M" "$(pg -c "$(last_ok $M)")"
	assert_eq "update: nothing rejected or not found ($M keys)" "20000 0 0" "$(jv rows_read) $(jv rows_rejected) $(jv rows_not_found)"
done
# batches that share keys really overlap in time: a trigger sleeps a random
# moment per row, so a later batch can overtake an earlier one
awk 'BEGIN { print "id,v"; for (i = 1; i <= 3000; i++) printf "%d,%d\n", i % 150, i }' >"$TMP/rk150.csv"
SLOW_OK="select count(*), count(*) filter (where v::int = id + 150 * ((3000 - id) / 150)) from rk"
pg -c "create or replace function rk_slow() returns trigger language plpgsql as \$\$ begin perform pg_sleep(random() * 0.0005); return new; end \$\$"
for method in copy insert; do
	pg -c "truncate rk; drop trigger if exists rk_slow on rk; create trigger rk_slow before insert on rk for each row execute function rk_slow()"
	sl load "$TMP/rk150.csv" "$U" --table rk --on-conflict update --key id --method $method --workers 4 --batch-rows 100 -q
	st "overlapping batches, upsert, 4 workers ($method)" 0
	assert_eq "overlapping batches: every key holds its last value ($method)" "150|150" "$(pg -c "$SLOW_OK")"
done
pg -c "drop trigger rk_slow on rk; truncate rk; insert into rk select i, '-1' from generate_series(0, 149) i
	; create trigger rk_slow before update on rk for each row execute function rk_slow()"
sl update "$TMP/rk150.csv" "$U" --table rk --key id --workers 3 --batch-rows 100 -q
st "overlapping batches, update, 3 workers" 0
assert_eq "overlapping batches, update: every key holds its last value" "150|150" "$(pg -c "$SLOW_OK")"
pg -c "drop trigger rk_slow on rk"
# own: NDJSON, a composite text/int key, numeric values, 700 keys over 10000 records
pg -c "drop table if exists rk2; create table rk2 (sku text, region int, price numeric(12,2), seq int, primary key (sku, region)); insert into rk2 values ('s-0', 0, 99.99, -1), ('zz', 9, 1.00, -1)"
awk 'BEGIN { for (i = 1; i <= 10000; i++) { k = (i * 13) % 700; printf "{\"sku\": \"s-%d\", \"region\": %d, \"price\": %d.%02d, \"seq\": %d}\n", k % 350, int(k / 350), i, i % 100, i } }' >"$TMP/rk2.ndjson"
RK2_OK="select count(*), count(*) filter (where seq = l.m and price = l.m + (l.m % 100) / 100.0) from rk2 join (select (i * 13) % 700 as k, max(i) as m from generate_series(1, 10000) i group by 1) l on l.k = case when sku like 's-%' then substr(sku, 3)::int + 350 * region end"
sl load "$TMP/rk2.ndjson" "$U" --table rk2 --on-conflict update --key sku,region --workers 4 --batch-rows 250 -q
st "own: NDJSON upsert, 4 workers" 0
assert_eq "own: last values win" "700|700" "$(pg -c "$RK2_OK")"
assert_eq "own: untouched row" "zz|9|1.00|-1" "$(pg -c "select * from rk2 where sku = 'zz'")"
pg -c "update rk2 set price = 0, seq = 0"
sl update "$TMP/rk2.ndjson" "$U" --table rk2 --key sku,region --workers 3 --batch-rows 250 -q
st "own: NDJSON update, 3 workers" 0
assert_eq "own: update, last values win" "700|700" "$(pg -c "$RK2_OK")"

###########################################################################
test_case "13. --single-transaction: a malformed line fails the whole run"
stx_fill() { pg -c "drop table if exists stx; create table stx (id int primary key, name text); insert into stx values (1, 'old')"; }
for bad in 'wrong count' 'stray quote' 'unterminated quote' 'server refusal'; do
	{
		echo "id,name"
		for i in $(seq 2 500); do
			if [ "$i" = 250 ]; then
				case $bad in
				'wrong count') echo "$i,x,extra" ;;
				'stray quote') echo "$i,ab\"cd" ;;
				'unterminated quote') echo "$i,\"unterminated" ;;
				'server refusal') echo "notanint,x" ;;
				esac
			else echo "$i,n$i"; fi
		done
	} >"$TMP/stx.csv"
	stx_fill
	sl load "$TMP/stx.csv" "$U" --table stx --single-transaction --batch-rows 50 -q
	st "$bad" 1
	assert_eq "table unchanged ($bad)" "1|old" "$(pg -c 'select * from stx')"
done
# own: NDJSON with invalid JSON and --truncate; invalid UTF-8; update
awk 'BEGIN { for (i = 2; i <= 300; i++) if (i == 200) print "{\"id\": 200, \"name\": "; else printf "{\"id\": %d, \"name\": \"j%d\"}\n", i, i }' >"$TMP/stx.ndjson"
stx_fill
sl load "$TMP/stx.ndjson" "$U" --table stx --single-transaction --truncate --batch-rows 40 -q
st "own: invalid JSON with --truncate" 1
assert_eq "own: table unchanged, the truncate rolled back" "1|old" "$(pg -c 'select * from stx')"
{ echo "id,name"; for i in $(seq 2 120); do if [ "$i" = 100 ]; then printf '%s,bad \xff utf8\n' "$i"; else echo "$i,u$i"; fi; done; } >"$TMP/stx8.csv"
stx_fill
sl load "$TMP/stx8.csv" "$U" --table stx --single-transaction --method insert --batch-rows 30 -q
st "own: invalid UTF-8" 1
assert_eq "own: table unchanged (UTF-8)" "1|old" "$(pg -c 'select * from stx')"
stx_fill
printf 'id,name\n1,new\n1,x,y\n' >"$TMP/stxu.csv"
sl update "$TMP/stxu.csv" "$U" --table stx --key id --single-transaction -q
st "own: update with a wrong field count" 1
assert_eq "own: not updated" "1|old" "$(pg -c 'select * from stx')"

###########################################################################
test_case "14a. --on-conflict skip counts skipped rows apart"
for method in copy insert; do
	pg -c "drop table if exists sk; create table sk (id int primary key, v text); insert into sk select i, 'old' from generate_series(1, 5) i"
	printf 'id,v\n3,new\n4,new\n5,new\n6,new\n7,new\n8,new\n9,new\n10,new\n' >"$TMP/sk.csv"
	sl load "$TMP/sk.csv" "$U" --table sk --on-conflict skip --method $method -q
	st "skip ($method)" 0
	assert_eq "old rows kept, new ones added ($method)" "5|5" "$(pg -c "select count(*) filter (where v = 'old'), count(*) filter (where v = 'new') from sk")"
	assert_eq "written 5, skipped 3 ($method)" "8 5 3 0" "$(jv rows_read) $(jv rows_written) $(jv rows_skipped) $(jv rows_rejected)"
done
# own: NDJSON, a unique email (not the primary key), a duplicate inside the file
pg -c "drop table if exists sk2; create table sk2 (id serial primary key, email text unique, n int); insert into sk2 (email, n) values ('a@x', 1), ('b@x', 2)"
printf '%s\n' '{"email": "a@x", "n": 10}' '{"email": "c@x", "n": 30}' '{"email": "b@x", "n": 20}' '{"email": "d@x", "n": 40}' \
	'{"email": "c@x", "n": 31}' '{"email": "e@x", "n": 50}' >"$TMP/sk2.ndjson"
sl load "$TMP/sk2.ndjson" "$U" --table sk2 --on-conflict skip --defaults -q
st "own: skip on a unique email" 0
assert_eq "own: contents" "a@x|1
b@x|2
c@x|30
d@x|40
e@x|50" "$(pg -c 'select email, n from sk2 order by email')"
assert_eq "own: written 3, skipped 3" "6 3 3" "$(jv rows_read) $(jv rows_written) $(jv rows_skipped)"

test_case "14b. update: a key matching two rows counts 2"
pg -c "drop table if exists m2; create table m2 (code text, v int); insert into m2 values ('a', 1), ('a', 2), ('b', 3), ('c', 4)"
printf 'code,v\na,10\nb,20\nzz,30\n' >"$TMP/m2.csv"
sl update "$TMP/m2.csv" "$U" --table m2 --key code -q
st "update" 3
assert_eq "both a rows changed" "a|10
a|10
b|20
c|4" "$(pg -c 'select * from m2 order by code, v')"
assert_counts "a matches 2, b 1, zz none" "3 3 0 1"
# own: NDJSON, a composite key matching three rows
pg -c "drop table if exists m3; create table m3 (grp int, tag text, price numeric(6,2)); insert into m3 select 1, 'x', i from generate_series(1, 3) i; insert into m3 values (1, 'y', 9), (2, 'x', 8)"
printf '{"grp": 1, "tag": "x", "price": 0.5}\n' >"$TMP/m3.ndjson"
sl update "$TMP/m3.ndjson" "$U" --table m3 --key grp,tag -q
st "own: update" 0
assert_eq "own: three rows changed" "3|1.50" "$(pg -c "select count(*), sum(price) from m3 where price = 0.5")"
assert_counts "own: 3 rows written" "1 3 0 0"

test_case "14c. update: NULL in a composite key is a reject, not not-found"
pg -c "drop table if exists nkey; create table nkey (sku text, region int, price numeric(10,2)); insert into nkey values ('A', 1, 1.00), ('A', NULL, 2.00)"
printf 'sku,region,price\nA,,9.99\nA,1,5.00\n' >"$TMP/nkey.csv"
sl update "$TMP/nkey.csv" "$U" --table nkey --key sku,region --rejects "$TMP/nkey.rej" -q
st "NULL region" 3
assert_eq "only A,1 changed" "A|1|5.00
A|NULL|2.00" "$(pgn -c 'select * from nkey order by region')"
assert_counts "NULL key" "2 1 1 0"
assert_contains "reason mentions NULL" "NULL" "$(tr '[:lower:]' '[:upper:]' <"$TMP/nkey.rej.log")"
# own: NDJSON, the other key column null, one key column missing
printf '%s\n' '{"sku": null, "region": 1, "price": 3.00}' '{"region": 1, "price": 4.00}' '{"sku": "A", "region": 1, "price": 6.00}' >"$TMP/nkey.ndjson"
sl update "$TMP/nkey.ndjson" "$U" --table nkey --key sku,region --rejects "$TMP/nkey2.rej" -q
st "own: null and missing key parts" 3
assert_eq "own: only A,1 changed" "A|1|6.00
A|NULL|2.00" "$(pgn -c 'select * from nkey order by region')"
assert_counts "own" "3 1 2 0"

test_case "14d. --max-errors N tolerates N rejected rows: the next one stops the run"
pg -c "drop table if exists me; create table me (id int primary key, n int)"
awk 'BEGIN { print "id,n"; for (i = 1; i <= 1000; i++) printf "%d,%s\n", i, i % 100 == 0 ? "x" : i }' >"$TMP/me.csv"
sl load "$TMP/me.csv" "$U" --table me --max-errors 2 --workers 1 --batch-rows 50 --rejects "$TMP/me.rej" -q
st "stopped" 1
assert_eq "exactly 3 records in the rejects file" "id,n
100,x
200,x
300,x" "$(cat "$TMP/me.rej")"
assert_eq "3 reasons" "100 200 300" "$(awk -F: '{print $2 - 1}' "$TMP/me.rej.log" | tr '\n' ' ' | sed 's/ $//')"
assert_eq "rows_rejected" "3" "$(jv rows_rejected)"
assert_eq "nothing past the stop" "t" "$(pg -c 'select count(*) >= 248 and max(id) <= 300 from me')"
# own: NDJSON parse errors, --max-errors 1
pg -c "truncate me"
awk 'BEGIN { for (i = 1; i <= 600; i++) if (i % 100 == 50) print "{\"id\": " i ", \"n\": }"; else printf "{\"id\": %d, \"n\": %d}\n", i, i }' >"$TMP/me.ndjson"
sl load "$TMP/me.ndjson" "$U" --table me --max-errors 1 --workers 1 --batch-rows 20 --rejects "$TMP/me2.rej" -q
st "own: stopped" 1
assert_eq "own: exactly 2 records" "2" "$(wc -l <"$TMP/me2.rej")"
assert_eq "own: lines 50 and 150" "50 150" "$(rej_lines "$TMP/me2.rej.log")"
assert_eq "own: nothing past the stop" "t" "$(pg -c 'select coalesce(max(id), 0) < 150 from me')"

test_case "14e. SIGINT mid-run: status interrupted, exit 130"
slow_rows() { # slow_rows FIFO HEADER FMT: rows keep coming, 2000 every 20 ms or so
	awk -v h="$2" -v f="$3\n" 'BEGIN { if (h != "") print h; for (i = 1; i <= 3000000; i++) { printf f, i, i; if (i % 2000 == 0) { fflush(); system("sleep 0.02") } } }' >"$1" 2>/dev/null
}
sigint_run() { # sigint_run TABLE FORMAT HEADER FMT COUNT_SQL
	rm -f "$TMP/fifo" "$TMP/sig.json"
	mkfifo "$TMP/fifo"
	"$SLUICE" load - "$U" --table "$1" --format "$2" --batch-rows 1000 --summary-json "$TMP/sig.json" -q <"$TMP/fifo" 2>"$TMP/sig.err" &
	local pid=$! gpid n
	slow_rows "$TMP/fifo" "$3" "$4" &
	gpid=$!
	for _ in $(seq 1 250); do
		[ "$(pg -c "select count(*) > 0 from $1")" = t ] && break
		sleep 0.02
	done
	sleep 0.2
	kill -INT $pid
	for _ in $(seq 1 150); do kill -0 $pid 2>/dev/null || break; sleep 0.1; done
	kill -0 $pid 2>/dev/null && { fail "still running 15 s after SIGINT ($2)"; kill -KILL $pid; }
	wait $pid
	RC=$?
	kill $gpid 2>/dev/null
	wait $gpid 2>/dev/null
	assert_status "SIGINT ($2)" 130 $RC
	assert_eq "status interrupted ($2)" "interrupted" "$(jv status "$TMP/sig.json")"
	n=$(pg -c "select count(*) from $1")
	if [ "$n" -gt 0 ] && [ "$n" -lt 3000000 ]; then pass "stopped part way ($n rows, $2)"; else fail "rows: $n ($2)"; fi
	assert_eq "whole batches, summary matches ($2)" "0 $n" "$((n % 1000)) $(jv rows_written "$TMP/sig.json")"
}
pg -c "drop table if exists sg; create table sg (id int primary key, v text)"
sigint_run sg csv "id,v" "%d,v%d"
# own: NDJSON on stdin into other types
pg -c "drop table if exists sg2; create table sg2 (k bigint, amount numeric)"
sigint_run sg2 ndjson "" '{"k": %d, "amount": %d.5}'

test_case "14f. progress in log mode shows 100% only once the last batch is committed"
pg -c "drop table if exists prog; create table prog (id int, v text)
	; create or replace function prog_slow() returns trigger language plpgsql as \$\$ begin perform pg_sleep(0.15); return null; end \$\$
	; create trigger prog_slow after insert on prog for each statement execute function prog_slow()"
awk 'BEGIN { print "id,v"; for (i = 1; i <= 2000; i++) printf "%d,value %d\n", i, i }' >"$TMP/prog.csv"
"$SLUICE" load "$TMP/prog.csv" "$U" --table prog --batch-rows 200 --progress log --stats-interval 0.05 2>"$TMP/prog.log"
RC=$?
st "load" 0
# each progress line: percent, rows read, rows written
awk 'match($0, /[0-9.]+%/) { p = substr($0, RSTART, RLENGTH - 1); r = w = "";
	if (match($0, /[0-9]+ rows read/)) r = substr($0, RSTART, RLENGTH) + 0;
	if (match($0, /[0-9]+ written/)) w = substr($0, RSTART, RLENGTH) + 0;
	print p, r, w }' "$TMP/prog.log" >"$TMP/prog.lines"
if awk '$2 == 2000 && $3 < 2000 { f = 1 } END { exit !f }' "$TMP/prog.lines"; then
	pass "progress lines while the last batches were written"
	early=$(awk '$1 >= 100 && $3 < 2000' "$TMP/prog.lines" | head -1)
	assert_eq "no 100.0% before all rows were committed" "" "$early"
else
	fail "no progress line between the end of reading and the last commit: $(tail -2 "$TMP/prog.lines" | tr '\n' ';')"
fi

test_case "14h. malformed PostgreSQL URLs exit 2"
printf 'id\n1\n' >"$TMP/h.csv"
for url in 'postgresql://127.0.0.1:notaport/postgres' 'postgresql://%zz@127.0.0.1/postgres' \
	'postgresql://[::1/postgres' 'postgresql://127.0.0.1/postgres?nosuchparam=1'; do
	RC=0
	ping_out "$url"
	st "ping $url" 2
	sl load "$TMP/h.csv" "$url" --table h --retries 0 -q
	st "load $url" 2
done

test_case "14i. --dry-run connects and checks the table"
printf 'id,v\n1,a\n2,b\n' >"$TMP/dry.csv"
sl load "$TMP/dry.csv" "$DEAD_PG" --table dry --dry-run --retries 0 -q
st "dead server" 1
pg -c "drop table if exists dry_missing"
sl load "$TMP/dry.csv" "$U" --table dry_missing --dry-run -q
st "missing table without --create" 2
assert_contains "points to --create" "--create" "$(cat "$TMP/err")"
out=$("$SLUICE" load "$TMP/dry.csv" "$U" --table dry_missing --dry-run --create 2>/dev/null)
RC=$?
st "--create" 0
assert_contains "prints CREATE TABLE" "CREATE TABLE" "$out"
assert_eq "creates nothing" "" "$(pg -c "select to_regclass('dry_missing')")"
pg -c "drop table if exists dry; create table dry (id int primary key, v text); insert into dry values (9, 'keep')"
for opts in "" "--truncate" "--on-conflict update --key id" "--method insert --workers 3"; do
	# shellcheck disable=SC2086
	sl load "$TMP/dry.csv" "$U" --table dry --dry-run $opts -q
	st "dry run $opts" 0
	assert_eq "nothing written ($opts)" "9|keep" "$(pg -c 'select * from dry')"
done
# own: update and NDJSON
sl update "$TMP/dry.csv" "$DEAD_PG" --table dry --key id --dry-run --retries 0 -q
st "own: update against a dead server" 1
printf '{"id": 1, "v": "a"}\n' >"$TMP/dry.ndjson"
sl load "$TMP/dry.ndjson" "$U" --table dry_missing --dry-run -q
st "own: NDJSON, missing table" 2
assert_contains "own: points to --create" "--create" "$(cat "$TMP/err")"
sl update "$TMP/dry.csv" "$U" --table dry --key id --dry-run -q
st "own: update dry run" 0
assert_eq "own: nothing updated" "9|keep" "$(pg -c 'select * from dry')"

###########################################################################
test_case "15. --null marker equal to a header name"
for marker in '-' 'NULL' '\N'; do
	pg -c "drop table if exists nm; create table nm (id int, \"$marker\" text, note text)"
	printf 'id,%s,note\n1,%s,x\n2,5,%s\n3,"%s",y\n' "$marker" "$marker" "$marker" "$marker" >"$TMP/nm.csv"
	sl load "$TMP/nm.csv" "$U" --table nm --null "$marker" -q
	st "--null '$marker'" 0
	assert_eq "markers are NULL ($marker)" "1|NULL|x
2|5|NULL
3|NULL|y" "$(pgn -c 'select * from nm order by id')"
	assert_counts "--null '$marker'" "3 3 0 0"
done
# own: TSV, --method insert, the marker names an int column; also sluice update
pg -c "drop table if exists nm2; create table nm2 (code text, \"NULL\" int, qty numeric, at date)"
printf 'code\tNULL\tqty\tat\na\tNULL\t1.5\t2024-01-01\nb\t7\tNULL\tNULL\nNULL\t8\t2\t2024-03-04\n' >"$TMP/nm2.tsv"
sl load "$TMP/nm2.tsv" "$U" --table nm2 --null NULL --method insert -q
st "own: TSV" 0
assert_eq "own: contents" "a|NULL|1.5|2024-01-01
b|7|NULL|NULL
NULL|8|2|2024-03-04" "$(pgn -c 'select * from nm2 order by code nulls last')"
printf 'code,NULL\nb,NULL\na,9\n' >"$TMP/nm2u.csv"
sl update "$TMP/nm2u.csv" "$U" --table nm2 --key code --null NULL -q
st "own: update" 0
assert_eq "own: updated" "a|9
b|NULL" "$(pgn -c "select code, \"NULL\" from nm2 where code is not null order by code")"

finish
