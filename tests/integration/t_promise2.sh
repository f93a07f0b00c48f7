#!/usr/bin/env bash
# tests/integration/t_promise2.sh - the promise under the second adversarial
# pass, each case with inputs of its own: copy onto itself refused, sluice's
# checkpoint table left home, one snapshot for every MySQL worker while the
# source is written to, a resumed source known by its canonical path and its
# bytes (stdin by its first bytes, a copy job whatever the URL's spelling),
# PostgreSQL refusing what it would round and writing in UTC, whole numbers,
# underflowing doubles, NULL key parts in upserts, the largest bigint under
# --resume, temporary tables no user table can be shadowed by, copy --query
# by name, tables linked by foreign keys, --method and LOAD DATA refused,
# --schema as verify takes it, update --single-transaction, JSON --null and
# short UUIDs, collation-equal keys, a stray quote on stdin, keys that only
# look like integers. Contents are read through the servers' clients.
. "$(dirname "$0")/lib.sh"
export PGTZ=UTC

test_case "a copy onto itself"
fresh self_db
myd self_db -e "CREATE TABLE t (id int PRIMARY KEY); INSERT INTO t VALUES (1), (2)"
pgd self_db -c "CREATE TABLE t (id int PRIMARY KEY); INSERT INTO t VALUES (1), (2)"
# the same database however the URL is spelled
run_sluice self-my 2 copy "$MY_BASE/self_db" "mysql://root@localhost/self_db?socket=$SLUICE_MY_SOCKET" --truncate
assert_contains "mysql: says why" "a copy onto itself is refused" "$OUT"
assert_eq "mysql: nothing emptied" "2" "$(myd self_db -e "SELECT count(*) FROM t")"
run_sluice self-pg 2 copy "$PG_BASE/self_db" "$PG_BASE/self_db?application_name=x" --truncate
assert_contains "pg: says why" "a copy onto itself is refused" "$OUT"
assert_eq "pg: nothing emptied" "2" "$(pgd self_db -c "SELECT count(*) FROM t")"
# --schema is the schema on both sides: the same database with it is itself
pgd self_db -c "CREATE SCHEMA other; CREATE TABLE other.u (id int PRIMARY KEY); INSERT INTO other.u VALUES (5)"
run_sluice self-schema 2 copy "$PG_BASE/self_db" "$PG_BASE/self_db" --schema other --create
assert_eq "pg: other.u untouched" "5" "$(pgd self_db -c "SELECT id FROM other.u")"

test_case "the checkpoint table stays home"
fresh ck_src
fresh ck_dst
printf 'id,v\n1,a\n2,b\n' >"$TMP/in.csv"
myd ck_src -e "CREATE TABLE items (id int PRIMARY KEY, v text)"
run_sluice ck-load 0 load "$TMP/in.csv" "$MY_BASE/ck_src" --table items --resume
assert_eq "the source has its checkpoints" "1" "$(myd ck_src -e "SELECT count(*) > 0 FROM sluice_checkpoints")"
run_sluice ck-copy 0 copy "$MY_BASE/ck_src" "$PG_BASE/ck_dst" --create
assert_eq "only the user's table is copied" "items" "$(pgd ck_dst -c "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1")"
run_sluice ck-copy-my 0 copy "$MY_BASE/ck_src" "$MY_BASE/ck_dst" --create
assert_eq "mysql: only the user's table is copied" "items" "$(myd ck_dst -e "SHOW TABLES")"
# a checkpoint table loads named with --checkpoint-table is sluice's too:
# --truncate neither copies the source's nor empties the target's
fresh ck_a
fresh ck_b
printf 'id,v\n7,x\n' >"$TMP/mine.csv"
for side in my pg; do
	if [ $side = my ]; then a=$MY_BASE/ck_a b=$MY_BASE/ck_b; q() { myd "$@"; }; else a=$PG_BASE/ck_a b=$PG_BASE/ck_b; q() { pgd "$1" -c "$3"; }; fi
	q ck_a -e "CREATE TABLE items (id int PRIMARY KEY, v text)"
	q ck_b -e "CREATE TABLE items (id int PRIMARY KEY, v text)"
	run_sluice "ck-named-a-$side" 0 load "$TMP/in.csv" "$a" --table items --resume --checkpoint-table nightly_state
	run_sluice "ck-named-b-$side" 0 load "$TMP/mine.csv" "$b" --table items --resume --checkpoint-table nightly_state
	run_sluice "ck-named-copy-$side" 0 copy "$a" "$b" --truncate -v
	assert_contains "$side: says why it is left out" "nightly_state is a checkpoint table of sluice's: not copied" "$OUT"
	assert_eq "$side: the target's own resume state kept" "$TMP/mine.csv" \
		"$(q ck_b -e "SELECT DISTINCT source FROM nightly_state")"
	assert_eq "$side: the data copied" "1 2" "$(q ck_b -e "SELECT id FROM items ORDER BY id" | tr '\n' ' ' | sed 's/ $//')"
	run_sluice "ck-named-again-$side" 0 load "$TMP/mine.csv" "$b" --table items --resume --checkpoint-table nightly_state
	assert_contains "$side: the target's file is still known as loaded" "loaded by an earlier run" "$OUT"
	# verify compares the data, not the two sides' resume states
	run_sluice "ck-named-verify-$side" 0 verify "$a" "$b" -v
	assert_contains "$side: verify leaves it out too" "nightly_state is a checkpoint table of sluice's: not compared" "$OUT"
done
run_sluice ck-named-x 0 copy "$MY_BASE/ck_a" "$PG_BASE/ck_b" --truncate
assert_eq "mysql->pg: the target's own resume state kept" "$TMP/mine.csv" \
	"$(pgd ck_b -c "SELECT DISTINCT source FROM nightly_state")"

test_case "one snapshot for every worker (MySQL)"
fresh sn_src
fresh sn_dst
myd sn_src -e "CREATE TABLE big (id int PRIMARY KEY, v int NOT NULL)"
seq 1 300000 | awk '{print $1 "\t" $1}' >"$TMP/big.tsv"
myd sn_src --local-infile=1 -e "LOAD DATA LOCAL INFILE '$TMP/big.tsv' INTO TABLE big"
# a writer moves rows from the low keys to the top, one commit each: the
# count never changes, and any two snapshots disagree on where a row is
printf '%s\n' 'DELIMITER //' 'CREATE PROCEDURE mover () BEGIN DECLARE i int DEFAULT 1;
	WHILE i <= 200000 DO UPDATE big SET id = id + 1000000 WHERE id = i; SET i = i + 1; END WHILE; END //' |
	myd sn_src
(myd sn_src -e "CALL mover()" >/dev/null 2>&1 &) 
sleep 1
moved_before=$(myd sn_src -e "SELECT count(*) FROM big WHERE id > 1000000")
run_sluice sn-copy 0 copy "$MY_BASE/sn_src" "$PG_BASE/sn_dst" --create --workers 2 --split-rows 50000 -v
moved_after=$(myd sn_src -e "SELECT count(*) FROM big WHERE id > 1000000")
my -e "KILL QUERY (SELECT ID FROM information_schema.PROCESSLIST WHERE INFO = 'CALL mover()' LIMIT 1)" 2>/dev/null ||
	for id in $(my -e "SELECT ID FROM information_schema.PROCESSLIST WHERE INFO LIKE 'CALL mover%'"); do my -e "KILL $id"; done
if [ "$moved_after" -gt "$moved_before" ]; then pass "the source was written during the copy ($moved_before -> $moved_after rows moved)"; else fail "the writer did not run during the copy"; fi
assert_contains "the copy was split" "big [" "$OUT"
assert_eq "every row once, from one instant" "300000	300000	300000" \
	"$(pgd sn_dst -c "SELECT count(*), count(DISTINCT v), count(DISTINCT id) FROM big")"

test_case "a resumed source is known by its path and its bytes"
fresh id_db
pgd id_db -c "CREATE TABLE day (id int, v text); CREATE TABLE leg (id int, v text); CREATE TABLE s (id int)"
mkdir -p "$TMP/work/in"
printf 'id,v\n1,a\n2,b\n3,c\n' >"$TMP/work/in/day.csv"
cd "$TMP/work"
run_sluice id-first 0 load in/day.csv "$PG_BASE/id_db" --table day --resume
for spelling in ./in/day.csv in//day.csv "$TMP/work/in/day.csv" in/../in/day.csv; do
	run_sluice "id-again" 0 load "$spelling" "$PG_BASE/id_db" --table day --resume
done
assert_eq "every spelling is the same file" "3" "$(pgd id_db -c "SELECT count(*) FROM day")"
cp in/day.csv in/day-renamed.csv
run_sluice id-renamed 0 load in/day-renamed.csv "$PG_BASE/id_db" --table day --resume -v
assert_contains "a renamed copy is known by its bytes" "has the same bytes as $TMP/work/in/day.csv" "$OUT"
assert_eq "and not loaded again" "3" "$(pgd id_db -c "SELECT count(*) FROM day")"
printf 'id,v\n1,a\n2,b\n3,C\n' >in/day-other.csv
run_sluice id-other 0 load in/day-other.csv "$PG_BASE/id_db" --table day --resume
assert_eq "other bytes are another file" "6" "$(pgd id_db -c "SELECT count(*) FROM day")"
# rows an earlier version wrote name the bytes by CRC-32 and Adler-32 (its
# fingerprint worked out here by python3): a renamed copy is known by them
legacy_fp=$(python3 - in/day.csv <<'PY'
import sys, zlib
d = open(sys.argv[1], "rb").read()
n, edge, h = len(d), 65536, 1469598103934665603
for off in (0, n - edge if n > edge else 0):
    for b in d[off:off + edge]:
        h = ((h ^ b) * 1099511628211) % 2**64
print(f"{n}:{h:016x}|{zlib.crc32(d):08x}:{zlib.adler32(d):08x}")
PY
)
pgd id_db -c "UPDATE sluice_checkpoints SET fingerprint = '$legacy_fp' WHERE source = '$TMP/work/in/day.csv'"
cp in/day.csv in/day-third.csv
run_sluice id-legacy-bytes 0 load in/day-third.csv "$PG_BASE/id_db" --table day --resume -v
assert_contains "a renamed copy of a file an earlier version loaded is known by its bytes" \
	"has the same bytes as $TMP/work/in/day.csv" "$OUT"
assert_eq "and not loaded again" "6" "$(pgd id_db -c "SELECT count(*) FROM day")"
# a job an earlier version began: its name and its sources as typed
pgd id_db -c "INSERT INTO sluice_checkpoints (job, source, first_rec, end_rec, fingerprint, rows_written)
	VALUES ('leg:in/', 'in/day.csv', 0, 2, '', 2)"
pgd id_db -c "INSERT INTO leg VALUES (1, 'a'), (2, 'b')"
run_sluice id-legacy 0 load in/day.csv "$PG_BASE/id_db" --table leg --resume
assert_eq "an earlier version's job goes on where it stopped" "1
2
3" "$(pgd id_db -c "SELECT id FROM leg ORDER BY id")"
cd "$ROOT"
printf 'id\n1\n2\n' | timeout 60 "$SLUICE" load - "$PG_BASE/id_db" --table s --format csv --resume --job daily -q
printf 'id\n1\n2\n' | timeout 60 "$SLUICE" load - "$PG_BASE/id_db" --table s --format csv --resume --job daily -q
assert_eq "the same stream again adds nothing" "2" "$(pgd id_db -c "SELECT count(*) FROM s")"
printf 'id\n3\n4\n5\n' | timeout 60 "$SLUICE" load - "$PG_BASE/id_db" --table s --format csv --resume --job daily >"$TMP/st.out" 2>&1
assert_status "another stream under the same job" 2 "$?"
assert_contains "says why" "stdin is another stream than the one job 'daily' was loading" "$(cat "$TMP/st.out")"
assert_eq "nothing of it is skipped or loaded" "2" "$(pgd id_db -c "SELECT count(*) FROM s")"

test_case "a copy job whatever the URL's spelling"
fresh cj_src
fresh cj_dst
myd cj_src -e "CREATE TABLE t (id int PRIMARY KEY, v int); INSERT INTO t VALUES (1, 1), (2, 2)"
run_sluice cj-first 0 copy "$MY_BASE/cj_src" "$PG_BASE/cj_dst" --create --resume
run_sluice cj-again 0 copy "mariadb://root:@127.0.0.1:${SLUICE_MY_PORT:-33069}/cj_src?ssl-mode=DISABLED" "$PG_BASE/cj_dst" --resume -v
assert_contains "the same job" "copied whole by an earlier run" "$OUT"
assert_eq "nothing doubled" "2" "$(pgd cj_dst -c "SELECT count(*) FROM t")"

test_case "PostgreSQL rounds nothing, and writes in UTC"
fresh ex_db
pgd ex_db -c "ALTER DATABASE ex_db SET timezone = 'America/New_York'"
pgd ex_db -c "CREATE TABLE m (id int, amount numeric(10,2), at timestamp(0), t time(1), z timestamptz)"
printf 'id,amount,at,t,z\n1,1.25,2024-01-01 23:59:59,10:00:00.5,2024-01-01 10:00:00\n2,1.234,2024-01-01 00:00:00,10:00:00,\n3,2.5,2024-01-01 23:59:59.6,10:00:00,\n4,3,2024-01-01 00:00:00,10:00:00.25,\n5,4.10,2024-01-02T00:00:00Z,00:00:00,2024-01-01T10:00:00+02:00\n' >"$TMP/ex.csv"
for method in copy insert; do
	pgd ex_db -c "TRUNCATE m"
	run_sluice "ex-$method" 3 load "$TMP/ex.csv" "$PG_BASE/ex_db" --table m --method "$method" --rejects "$TMP/ex-$method.rej"
	assert_eq "$method: only the exact rows" "1|1.25|2024-01-01 23:59:59|10:00:00.5|2024-01-01 10:00:00+00
5|4.10|2024-01-02 00:00:00|00:00:00|2024-01-01 08:00:00+00" \
		"$(PGOPTIONS="-c timezone=UTC" psql "$PG_BASE/ex_db" -XAtq -c "SELECT * FROM m ORDER BY id")"
	rej=$(cat "$TMP/ex-$method.rej.log")
	assert_contains "$method: the scale named" "'1.234' has 3 decimal places; the column keeps 2" "$rej"
	assert_contains "$method: the seconds named" "'2024-01-01 23:59:59.6' has 1 fractional second digits; the column keeps 0" "$rej"
	assert_contains "$method: the time named" "'10:00:00.25' has 2 fractional second digits; the column keeps 1" "$rej"
done
printf 'id,at\n1,2024-01-01T10:00:00.1234567\n2,2024-01-01T10:00:00.5\n' >"$TMP/seven.csv"
run_sluice ex-create 0 load "$TMP/seven.csv" "$PG_BASE/ex_db" --table seven --create
assert_eq "7 fraction digits: --create keeps the text" "text" \
	"$(pgd ex_db -c "SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = 'seven'::regclass AND attname = 'at'")"
assert_eq "and every digit" "2024-01-01T10:00:00.1234567" "$(pgd ex_db -c "SELECT at FROM seven WHERE id = 1")"

test_case "PostgreSQL dates keep their time of day or refuse; no value is read at load time"
pgd ex_db -c "CREATE TABLE days (id int, d date, at timestamptz, clock time)"
printf 'id,d,at,clock\n1,2023-03-01,2023-03-01T08:00:00Z,08:00\n2,2023-03-01T23:30:00-02:00,,\n3,Today,,\n4,,NOW,\n5,,2016-12-31 23:59:60+00,\n6,,,tomorrow\n7,2023-03-01 00:00:00,2023-03-01T24:00:00Z,allballs\n8,,,12:59:60.5\n' >"$TMP/days.csv"
for method in copy insert; do
	pgd ex_db -c "TRUNCATE days"
	run_sluice "days-$method" 3 load "$TMP/days.csv" "$PG_BASE/ex_db" --table days --method "$method"
	assert_eq "$method: the rows the text fixes" "1|2023-03-01|2023-03-01 08:00:00+00|08:00:00
7|2023-03-01|2023-03-02 00:00:00+00|00:00:00" \
		"$(PGOPTIONS="-c timezone=UTC" psql "$PG_BASE/ex_db" -XAtq -c "SELECT * FROM days ORDER BY id")"
	assert_contains "$method: a time a date drops" "'2023-03-01T23:30:00-02:00' has a time of day and an offset, which a date column drops" "$OUT"
	assert_contains "$method: a word for the load's day" "'Today' names the day or moment of the load" "$OUT"
	assert_contains "$method: and for its moment" "'NOW' names the day or moment of the load" "$OUT"
	assert_contains "$method: a 60th second" "'2016-12-31 23:59:60+00' has a 60th second" "$OUT"
	assert_contains "$method: in a time too" "'12:59:60.5' has a 60th second" "$OUT"
done

test_case "PostgreSQL jsonb keeps every key of an object, or the row is refused"
pgd ex_db -c "CREATE TABLE docs (id int, body jsonb, raw json)"
printf '{"id": 1, "body": {"tags": ["x"], "meta": {"v": 1}}, "raw": {"k": 1, "k": 2}}\n{"id": 2, "body": {"v": 1, "v": 1}, "raw": null}\n{"id": 3, "body": [{"n": 1, "m": {"n": 2}}, {"n": 3, "m": 4, "n": 5}], "raw": null}\n' >"$TMP/docs.ndjson"
for method in copy insert; do
	pgd ex_db -c "TRUNCATE docs"
	run_sluice "docs-$method" 3 load "$TMP/docs.ndjson" "$PG_BASE/ex_db" --table docs --method "$method"
	assert_eq "$method: the document whose keys are once each, json as written" "1|{\"meta\": {\"v\": 1}, \"tags\": [\"x\"]}|{\"k\":1,\"k\":2}" \
		"$(psql "$PG_BASE/ex_db" -XAtq -c "SELECT id, body, raw FROM docs ORDER BY id")"
	assert_contains "$method: a repeated key named" "repeats the key \"v\" in an object: jsonb keeps only the last" "$OUT"
	assert_contains "$method: deep in an array too" "repeats the key \"n\"" "$OUT"
done

test_case "PostgreSQL booleans: a word or its letter, never a prefix"
pgd ex_db -c "CREATE TABLE flags (id int, on_sale boolean)"
printf 'id,on_sale\n1,yes\n2,ye\n3,FALSE\n4,Fal\n5,off\n6,n\n' >"$TMP/flags.csv"
for method in copy insert; do
	pgd ex_db -c "TRUNCATE flags"
	run_sluice "flags-$method" 3 load "$TMP/flags.csv" "$PG_BASE/ex_db" --table flags --method "$method"
	assert_eq "$method: the words" "1|t
3|f
5|f
6|f" "$(psql "$PG_BASE/ex_db" -XAtq -c "SELECT * FROM flags ORDER BY id")"
	assert_contains "$method: a prefix named" "'Fal' is only the start of a word" "$OUT"
done

test_case "PostgreSQL arrays round nothing either: each element is held to the type"
pgd ex_db -c "CREATE TABLE arr (id int, a numeric(6,2)[], ts timestamp(0)[])"
printf 'id,a,ts\n1,"{1.25,NULL,""2.5""}","{""2024-01-01 10:00:00""}"\n2,"{1.25,1.005}",\n3,,"{""2024-01-01 10:00:00.7""}"\n4,"{{1,2},{3,4.5}}",\n' >"$TMP/arr.csv"
for method in copy insert; do
	pgd ex_db -c "TRUNCATE arr"
	run_sluice "arr-$method" 3 load "$TMP/arr.csv" "$PG_BASE/ex_db" --table arr --method "$method"
	assert_eq "$method: only the exact rows" "1	{1.25,NULL,2.50}	{\"2024-01-01 10:00:00\"}
4	{{1.00,2.00},{3.00,4.50}}	NULL" "$(pgd ex_db -c "SELECT * FROM arr ORDER BY id")"
	assert_contains "$method: the element named" "an element: '1.005' has 3 decimal places" "$OUT"
	assert_contains "$method: the seconds named" "an element: '2024-01-01 10:00:00.7' has 1 fractional second digits" "$OUT"
done

test_case "an array of a domain is held to the domain's type; written counts what is there"
pgd ex_db -c "CREATE DOMAIN cents AS numeric(7,2); CREATE DOMAIN cents2 AS cents; CREATE TABLE darr (id int PRIMARY KEY, a cents[], b cents2[], s numeric(5,1))"
printf 'id,a,b,s\n1,"{1.5,2.25}","{3}",1.5\n2,"{1.5,2.255}",,\n3,,"{0.001}",\n4,"{7}",,2.25\n5,,,\n' >"$TMP/darr.csv"
for method in copy insert; do
	pgd ex_db -c "TRUNCATE darr"
	run_sluice "darr-$method" 3 load "$TMP/darr.csv" "$PG_BASE/ex_db" --table darr --method "$method"
	assert_eq "$method: only the exact rows" "1	{1.50,2.25}	{3.00}	1.5
5	NULL	NULL	NULL" "$(pgd ex_db -c "SELECT * FROM darr ORDER BY id")"
	assert_contains "$method: the domain's element named" "column \"a\": '{1.5,2.255}': an element: '2.255' has 3 decimal places" "$OUT"
	assert_contains "$method: through a domain over a domain" "column \"b\": '{0.001}': an element: '0.001' has 3 decimal places" "$OUT"
	# the summary's written and rejected are the rows there and the rows refused
	assert_eq "$method: the summary counts 2 written, 3 rejected" "5 2 3" \
		"$(printf '%s\n' "$OUT" | awk '$3 == "darr" {print $4, $5, $6}')"
done

test_case "PostgreSQL intervals with a precision or fields change nothing"
pgd ex_db -c "CREATE DOMAIN short_span AS interval minute to second(1); CREATE TABLE ivl (id int PRIMARY KEY, p interval(3), ym interval year to month, ds short_span, arr interval second(0)[])"
printf 'id,p,ym,ds,arr\n1,2.125 seconds,3 years 1 mon,00:05:01.5,"{7 sec,1 min}"\n2,0.0005 sec,,,\n3,,2 years 3 days,,\n4,,,00:00:01.25,\n5,,,,"{1.5 sec}"\n6,P0Y1M,-1 year,,\n7,2 weeks,,,\n8,,soon,,\n' >"$TMP/ivl.csv"
for method in copy insert; do
	pgd ex_db -c "TRUNCATE ivl"
	run_sluice "ivl-$method" 3 load "$TMP/ivl.csv" "$PG_BASE/ex_db" --table ivl --method "$method"
	assert_eq "$method: only the rows kept as they are" "1|00:00:02.125|3 years 1 mon|00:05:01.5|{00:00:07,00:01:00}
6|1 mon|-1 years||
7|14 days|||" "$(pgd ex_db -c "SELECT * FROM ivl ORDER BY id" | tr '\t' '|' | sed 's/|NULL/|/g')"
	assert_contains "$method: the precision named" "'0.0005 sec' would be stored as '00:00:00.001' by interval(3)" "$OUT"
	assert_contains "$method: the fields named" "'2 years 3 days' would be stored as '2 years' by interval year to month" "$OUT"
	assert_contains "$method: a domain's" "'00:00:01.25' would be stored as '00:00:01.3' by interval minute to second(1)" "$OUT"
	assert_contains "$method: an array's" "'{1.5 sec}' would be stored as '{00:00:02}' by interval second(0)[]" "$OUT"
	assert_contains "$method: what no interval is, the server's" "invalid input syntax for type interval" "$OUT"
done

test_case "the rows after --create's sample are held to the types it gave"
# zip codes sorted from the top: the sample sees five digits, a later row
# a leading zero the bigint column would drop
printf 'zip,city,flag\n99950,a,yes\n99901,b,no\n00501,c,yes\n02134,d,tr\n10001,e,no\n+7,f,yes\n' >"$TMP/zip.csv"
for side in pg my; do
	[ $side = pg ] && to="$PG_BASE/ex_db" || to="$MY_BASE/ex_db"
	[ $side = pg ] && pgd ex_db -c "DROP TABLE IF EXISTS zips" || myd ex_db -e "DROP TABLE IF EXISTS zips"
	run_sluice "zip-$side" 3 load "$TMP/zip.csv" "$to" --table zips --create --batch-rows 2
	assert_contains "$side: a leading zero named" "column \"zip\": '00501' is not an integer as written" "$OUT"
	assert_contains "$side: a plus sign named" "'+7' is not an integer as written" "$OUT"
	assert_contains "$side: each with its line" "zip.csv:5: column \"zip\": '02134'" "$OUT"
	got=$([ $side = pg ] && pgd ex_db -c "SELECT zip, city FROM zips ORDER BY city" || myd ex_db -e "SELECT zip, city FROM zips ORDER BY city")
	assert_eq "$side: only the rows the types keep" "99950	a
99901	b
10001	e" "$got"
done

test_case "PostgreSQL varchar(n) cuts no trailing spaces"
pgd ex_db -c "CREATE TABLE vc (id int, v varchar(3), va varchar(3)[], c char(3))"
printf 'id,v,va,c\n1,"ab ","{""ab "",x}","ab   "\n2,"ab   ",,x\n3,"\xc3\xa6\xc3\xb8\xc3\xa5 ",,x\n4,abcd,,x\n5,x,"{""abc  ""}",x\n' >"$TMP/vc.csv"
for method in copy insert; do
	pgd ex_db -c "TRUNCATE vc"
	run_sluice "vc-$method" 3 load "$TMP/vc.csv" "$PG_BASE/ex_db" --table vc --method "$method"
	assert_eq "$method: only the row that fits, its spaces kept" "1|[ab ]|{\"ab \",x}|3" \
		"$(pgd ex_db -c "SELECT id, '[' || v || ']', va, octet_length(c) FROM vc ORDER BY id" | tr '\t' '|')"
	assert_contains "$method: the spaces named" "'ab   ' has 5 characters; varchar(3) would cut its trailing spaces" "$OUT"
	assert_contains "$method: in characters, not bytes" "has 4 characters; varchar(3)" "$OUT"
	assert_contains "$method: an array's element too" "an element: 'abc  ' has 5 characters" "$OUT"
	assert_contains "$method: a longer value is the server's" "value too long for type character varying(3)" "$OUT"
done

test_case "PostgreSQL update and delete round nothing; an offset moves no wall time"
fresh ur_db
pgd ur_db -c "CREATE TABLE p (id int PRIMARY KEY, amt numeric(7,3), at timestamp(1));
	INSERT INTO p VALUES (1, 1, '2025-02-03 04:05:06'), (2, 2, '2025-02-03 04:05:06'), (3, 7.125, '2025-02-03 04:05:06')"
myd ur_db -e "CREATE TABLE p (id int PRIMARY KEY, amt decimal(7,3), at datetime(1));
	INSERT INTO p VALUES (1, 1, '2025-02-03 04:05:06'), (2, 2, '2025-02-03 04:05:06'), (3, 7.125, '2025-02-03 04:05:06')"
printf 'id,amt,at\n1,0.0005,2025-02-03 04:05:06\n2,3,2025-02-03 04:05:06.25\n3,8,2025-02-03T22:15:00.5+09:30\n' >"$TMP/ur.csv"
run_sluice ur-pg 3 update "$TMP/ur.csv" "$PG_BASE/ur_db" --table p --key id --rejects "$TMP/ur.rej"
rej=$(cat "$TMP/ur.rej.log")
assert_contains "pg update: the scale named" "'0.0005' has 4 decimal places; the column keeps 3" "$rej"
assert_contains "pg update: the seconds named" "'2025-02-03 04:05:06.25' has 2 fractional second digits; the column keeps 1" "$rej"
assert_contains "pg update: the offset named" "'2025-02-03T22:15:00.5+09:30' has a UTC offset, which a timestamp without time zone would drop" "$rej"
assert_eq "pg update: no row changed" "1	1.000	2025-02-03 04:05:06
2	2.000	2025-02-03 04:05:06
3	7.125	2025-02-03 04:05:06" "$(pgd ur_db -c "SELECT * FROM p ORDER BY id")"
run_sluice ur-my 3 update "$TMP/ur.csv" "$MY_BASE/ur_db" --table p --key id --rejects "$TMP/urm.rej"
assert_eq "mysql update: the offset converted to UTC, the rest refused" "1	1.000	2025-02-03 04:05:06.0
2	2.000	2025-02-03 04:05:06.0
3	8.000	2025-02-03 12:45:00.5" "$(myd ur_db -e "SELECT * FROM p ORDER BY id")"
# a key the column would round would find another row
printf 'amt\n7.1249\n' >"$TMP/urk.csv"
run_sluice ur-pg-del 3 delete "$TMP/urk.csv" "$PG_BASE/ur_db" --table p --key amt
assert_eq "pg delete: the row of the rounded key is kept" "3" "$(pgd ur_db -c "SELECT COUNT(*) FROM p")"
pgd ur_db -c "CREATE TABLE l (id int PRIMARY KEY, at timestamp)"
printf 'id,at\n1,2025-07-01 00:30:00-02:00\n2,2025-07-01 00:30:00Z\n3,2025-07-01T00:30:00+00:00\n' >"$TMP/off.csv"
for method in copy insert; do
	pgd ur_db -c "TRUNCATE l"
	run_sluice "ur-off-$method" 3 load "$TMP/off.csv" "$PG_BASE/ur_db" --table l --method $method
	assert_eq "pg $method: UTC kept, an offset refused, never dropped" "2	2025-07-01 00:30:00
3	2025-07-01 00:30:00" "$(pgd ur_db -c "SELECT * FROM l ORDER BY id")"
done
# a time without time zone drops a date, an offset or a zone, silently
pgd ur_db -c "CREATE TABLE tl (id int PRIMARY KEY, t time, tz timetz)"
printf 'id,t,tz
1,08:15:00+05:30,08:15:00+05:30
2,08:15:00Z,08:15:00Z
3,2025-07-01 08:15:00,08:15:00
4,08:15 PM,08:15:00-01
5,08:15:00.25 EST,08:15:00
6,08:15:00 UTC,08:15:00
' >"$TMP/tl.csv"
for method in copy insert; do
	pgd ur_db -c "TRUNCATE tl"
	run_sluice "ur-tl-$method" 3 load "$TMP/tl.csv" "$PG_BASE/ur_db" --table tl --method $method \
		--rejects "$TMP/tl-$method.rej"
	assert_eq "pg $method: a time keeps its wall time or is refused" "2	08:15:00	08:15:00+00
4	20:15:00	08:15:00-01
6	08:15:00	08:15:00+00" "$(pgd ur_db -c "SELECT * FROM tl ORDER BY id")"
	assert_eq "pg $method: the lines refused" "2 4 6" "$(cut -d: -f2 "$TMP/tl-$method.rej.log" | sort -n | xargs)"
	assert_contains "pg $method: the reason" "'2025-07-01 08:15:00' has a date, which a time column would drop" "$(cat "$TMP/tl-$method.rej.log")"
done

test_case "whole numbers in other spellings (MySQL)"
fresh wn_db
myd wn_db -e "CREATE TABLE n (id int PRIMARY KEY, v int)"
printf 'id,v\n1,1.0\n2,1E2\n3,1.5\n4,15E-1\n5,-0\n' >"$TMP/wn.csv"
run_sluice wn-load 3 load "$TMP/wn.csv" "$MY_BASE/wn_db" --table n --rejects "$TMP/wn.rej"
assert_eq "1.0 and 1E2 kept, 1.5 and 15E-1 refused" "1	1
2	100
5	0" "$(myd wn_db -e "SELECT id, v FROM n ORDER BY id")"
assert_contains "the reason" "'15E-1' is not a whole number" "$(cat "$TMP/wn.rej.log")"
myd wn_db -e "CREATE TABLE d (id int PRIMARY KEY, d double, f float)"
printf 'id,d,f\n1,1e-300,1e-40\n2,1e-400,1\n3,1,1e-50\n4,0e-999,0\n' >"$TMP/dd.csv"
run_sluice dd-load 3 load "$TMP/dd.csv" "$MY_BASE/wn_db" --table d --rejects "$TMP/dd.rej"
assert_eq "nothing stored as 0 that was not 0" "1	1e-300	1e-40
4	0	0" "$(myd wn_db -e "SELECT id, d, f + 0e0 FROM d ORDER BY id" | sed 's/9.99994610111476e-41/1e-40/')"
assert_contains "the reason" "'1e-400' is too small for a DOUBLE: the column would store 0" "$(cat "$TMP/dd.rej.log")"

test_case "a NULL key part in an upsert"
fresh nk_db
myd nk_db -e "CREATE TABLE u (a int NOT NULL, b int NULL, v text, UNIQUE KEY (a, b))"
pgd nk_db -c "CREATE TABLE u (a int NOT NULL, b int NULL, v text, UNIQUE (a, b))"
printf 'a,b,v\n1,1,x\n1,,y\n' >"$TMP/nk.csv"
for url in "$MY_BASE/nk_db" "$PG_BASE/nk_db"; do
	for run in 1 2 3; do
		run_sluice "nk-$run" 3 load "$TMP/nk.csv" "$url" --table u --on-conflict update --key a,b --rejects "$TMP/nk.rej"
	done
	assert_contains "the reason" "key column \"b\" is NULL: a NULL key part never matches a row" "$(cat "$TMP/nk.rej.log")"
done
assert_eq "mysql: never inserted again" "1	1	x" "$(myd nk_db -e "SELECT * FROM u")"
assert_eq "pg: never inserted again" "1	1	x" "$(pgd nk_db -c "SELECT * FROM u")"

test_case "copy --resume with a key of the largest bigint"
fresh bk_src
fresh bk_dst
fresh bk_dst2
pgd bk_src -c "CREATE TABLE big (id bigint PRIMARY KEY, v text);
	INSERT INTO big SELECT 9223372036854775807 - i, 'v' || i FROM generate_series(0, 2999) i;
	INSERT INTO big SELECT -9223372036854775806 + i, 'low' || i FROM generate_series(0, 1999) i;
	INSERT INTO big VALUES (0, 'zero')"
run_sluice bk-first 0 copy "$PG_BASE/bk_src" "$MY_BASE/bk_dst" --create --resume --batch-rows 100
# a rerun of the same job (as after a crash) finds every range committed
myd bk_dst -e "DELETE FROM sluice_checkpoints WHERE kind = 2"
run_sluice bk-again 0 copy "$PG_BASE/bk_src" "$MY_BASE/bk_dst" --resume --batch-rows 100
assert_eq "every row once, the largest key too" "5001	5001	1" \
	"$(myd bk_dst -e "SELECT COUNT(*), COUNT(DISTINCT id), SUM(id = 9223372036854775807) FROM big")"
# split among workers across the whole bigint range
pgd bk_src -c "ANALYZE big"
fresh bk_dst2
run_sluice bk-split 0 copy "$PG_BASE/bk_src" "$MY_BASE/bk_dst2" --create --workers 2 --split-rows 1000 -v
assert_contains "split, the last range labelled by its largest key" "big [" "$OUT"
assert_not_contains "no label past the largest bigint" "-9223372036854775808)" "$OUT"
assert_eq "every row once across the ranges" "5001	5001" \
	"$(myd bk_dst2 -e "SELECT COUNT(*), COUNT(DISTINCT id) FROM big")"

test_case "copy --resume with the two lowest bigint keys"
fresh lk_src
fresh lk_dst
pgd lk_src -c "CREATE TABLE low (id bigint PRIMARY KEY, v text);
	INSERT INTO low VALUES (-9223372036854775808, 'min'), (-9223372036854775807, 'min+1');
	INSERT INTO low SELECT -9223372036854775806 + i, 'x' || i FROM generate_series(0, 997) i"
run_sluice lk-first 0 copy "$PG_BASE/lk_src" "$MY_BASE/lk_dst" --create --resume --batch-rows 100
assert_eq "every row, the two lowest keys too" "1000	1000	min	min+1" \
	"$(myd lk_dst -e "SELECT COUNT(*), COUNT(DISTINCT id), MIN(CASE WHEN id = -9223372036854775808 THEN v END), MIN(CASE WHEN id = -9223372036854775807 THEN v END) FROM low")"
assert_eq "the first range starts at the lowest key, the mark apart" "1	1" \
	"$(myd lk_dst -e "SELECT SUM(kind = 1 AND first_rec = -9223372036854775808), SUM(kind = 2) FROM sluice_checkpoints")"
# as after a crash in the middle: the first two ranges and the whole mark
# never committed, their rows are not there
myd lk_dst -e "DELETE FROM sluice_checkpoints WHERE kind = 2 OR (kind = 1 AND first_rec < -9223372036854775608);
	DELETE FROM low WHERE id < -9223372036854775608"
assert_eq "rows gone" "800" "$(myd lk_dst -e "SELECT COUNT(*) FROM low")"
run_sluice lk-again 0 copy "$PG_BASE/lk_src" "$MY_BASE/lk_dst" --resume --batch-rows 100
assert_eq "resumed: every row once, the two lowest keys too" "1000	1000	min	min+1" \
	"$(myd lk_dst -e "SELECT COUNT(*), COUNT(DISTINCT id), MIN(CASE WHEN id = -9223372036854775808 THEN v END), MIN(CASE WHEN id = -9223372036854775807 THEN v END) FROM low")"
assert_eq "200 rows copied again, 800 resumed" "1" "$(printf '%s\n' "$OUT" | grep -cE 'low +200 +200 +0 +800 ')"

test_case "a checkpoint table of an earlier version: read, then upgraded"
fresh ok_db
printf 'id,v\n1,a\n2,b\n' >"$TMP/ok.csv"
for side in my pg; do
	if [ $side = my ]; then url=$MY_BASE/ok_db; q() { myd ok_db -e "$1"; }; else url=$PG_BASE/ok_db; q() { pgd ok_db -c "$1"; }; fi
	q "CREATE TABLE t (id int PRIMARY KEY, v text)"
	run_sluice "ok-$side-1" 0 load "$TMP/ok.csv" "$url" --table t --resume --job old
	# the table as the last version left it: no kind, the marks in first_rec
	if [ $side = my ]; then
		q "UPDATE sluice_checkpoints SET first_rec = -9223372036854775808 WHERE kind = 2;
			ALTER TABLE sluice_checkpoints DROP PRIMARY KEY, DROP COLUMN kind, ADD PRIMARY KEY (job, source, first_rec)"
	else
		q "UPDATE sluice_checkpoints SET first_rec = -9223372036854775808 WHERE kind = 2;
			ALTER TABLE sluice_checkpoints DROP CONSTRAINT sluice_checkpoints_pkey, DROP COLUMN kind, ADD PRIMARY KEY (job, source, first_rec)"
	fi
	run_sluice "ok-$side-list" 0 checkpoints "$url" --job old
	assert_contains "$side: listed whole from the old marks" "whole" "$OUT"
	q "DELETE FROM t"
	run_sluice "ok-$side-2" 0 load "$TMP/ok.csv" "$url" --table t --resume --job old
	assert_eq "$side: the file loaded before is skipped" "0" "$(q "SELECT COUNT(*) FROM t")"
	if [ $side = my ]; then
		got=$(q "SELECT COUNT(*) FROM information_schema.columns WHERE table_schema = 'ok_db' AND table_name = 'sluice_checkpoints' AND column_name = 'kind'")
	else
		got=$(q "SELECT COUNT(*) FROM information_schema.columns WHERE table_name = 'sluice_checkpoints' AND column_name = 'kind'")
	fi
	assert_eq "$side: the table has its kind column now" "1" "$got"
	assert_eq "$side: the old rows kept, as kind 0" "2" "$(q "SELECT COUNT(*) FROM sluice_checkpoints WHERE kind = 0")"
	run_sluice "ok-$side-3" 0 load "$TMP/ok.csv" "$url" --table t --resume --job new
	assert_eq "$side: a new job writes kinds 1 and 2" "1	1" "$(q "SELECT SUM(CASE WHEN kind = 1 THEN 1 ELSE 0 END), SUM(CASE WHEN kind = 2 THEN 1 ELSE 0 END) FROM sluice_checkpoints WHERE job = 'new'" | tr '|' '\t')"
	q "DROP TABLE t"
	q "DROP TABLE sluice_checkpoints"
done

test_case "user tables with the names sluice once used for its own"
fresh tn_db
myd tn_db -e "CREATE TABLE sluice_stage (id int PRIMARY KEY, v int, sluice_ord int); INSERT INTO sluice_stage VALUES (1, 10, 7), (2, 20, 8)"
printf 'id,v\n1,11\n3,33\n' >"$TMP/tn.csv"
run_sluice tn-update 3 update "$TMP/tn.csv" "$MY_BASE/tn_db" --table sluice_stage --key id
assert_eq "mysql: update of a table named sluice_stage" "1	11	7
2	20	8" "$(myd tn_db -e "SELECT * FROM sluice_stage ORDER BY id")"
pgd tn_db -c "CREATE TABLE sluice_each (id int PRIMARY KEY, v int CHECK (v > 0))"
printf 'id,v\n1,5\n2,-1\n3,6\n' >"$TMP/te.csv"
run_sluice tn-each 3 load "$TMP/te.csv" "$PG_BASE/tn_db" --table sluice_each
assert_eq "pg: a load with a refused row into a table named sluice_each" "1|5
3|6" "$(PGOPTIONS="-c client_min_messages=warning" psql "$PG_BASE/tn_db" -XAtq -c "SELECT * FROM sluice_each ORDER BY id")"

test_case "copy --query maps columns by name"
fresh cq_src
fresh cq_dst
myd cq_src -e "CREATE TABLE people (id int PRIMARY KEY, first varchar(20), last varchar(20));
	INSERT INTO people VALUES (1, 'Ada', 'Lovelace'), (2, 'Alan', 'Turing')"
pgd cq_dst -c "CREATE TABLE p (id int PRIMARY KEY, first text, last text)"
run_sluice cq-names 0 copy "$MY_BASE/cq_src" "$PG_BASE/cq_dst" --query 'SELECT id, last AS last, first AS first FROM people' --table p
assert_eq "by name, not by position" "1|Ada|Lovelace
2|Alan|Turing" "$(PGOPTIONS="-c client_min_messages=warning" psql "$PG_BASE/cq_dst" -XAtq -c "SELECT * FROM p ORDER BY id")"
run_sluice cq-unknown 2 copy "$MY_BASE/cq_src" "$PG_BASE/cq_dst" --query 'SELECT id, first AS given FROM people' --table p
assert_contains "an unknown column is named" "--query returns a column given, which table p does not have (its columns: id, first, last)" "$OUT"
pgd cq_dst -c "TRUNCATE p"
run_sluice cq-r1 0 copy "$MY_BASE/cq_src" "$PG_BASE/cq_dst" --query 'SELECT id, first, last FROM people WHERE id = 1' --table p --resume
run_sluice cq-r2 0 copy "$MY_BASE/cq_src" "$PG_BASE/cq_dst" --query 'SELECT id, first, last FROM people WHERE id = 2' --table p --resume
assert_eq "another query under --resume is not skipped" "2" "$(pgd cq_dst -c "SELECT count(*) FROM p")"

test_case "copy into tables linked by foreign keys: --truncate, parents first"
fresh fk2_src
fresh fk2_dst
for side in my pg; do
	if [ $side = my ]; then q() { myd "$@"; }; else q() { pgd "$1" -c "$3"; }; fi
	q fk2_src -e "CREATE TABLE parent (id int PRIMARY KEY); CREATE TABLE child (id int PRIMARY KEY, p int NOT NULL REFERENCES parent (id));
		CREATE TABLE other (id int PRIMARY KEY, p int);
		INSERT INTO parent VALUES (1), (2), (3); INSERT INTO child VALUES (10, 1), (11, 3)"
	q fk2_dst -e "CREATE TABLE parent (id int PRIMARY KEY); CREATE TABLE child (id int PRIMARY KEY, p int NOT NULL,
		CONSTRAINT child_p FOREIGN KEY (p) REFERENCES parent (id)); CREATE TABLE other (id int PRIMARY KEY, p int REFERENCES parent (id));
		INSERT INTO parent VALUES (1), (9); INSERT INTO child VALUES (10, 9)"
done
for dir in "$MY_BASE/fk2_src $PG_BASE/fk2_dst" "$PG_BASE/fk2_src $MY_BASE/fk2_dst"; do
	set -- $dir
	# a table outside the copy references parent: refused, nothing emptied
	run_sluice fk2-refused 2 copy "$1" "$2" --tables child,parent --truncate
	assert_contains "names the key from outside" "other" "$OUT"
	run_sluice fk2-copy 0 copy "$1" "$2" --tables child,parent,other --truncate --workers 2 --verify
done
assert_eq "pg: refreshed, children after parents" "1 2 3 / 10:1 11:3" \
	"$(pgd fk2_dst -c "SELECT string_agg(id::text, ' ' ORDER BY id) FROM parent")"" / $(pgd fk2_dst -c "SELECT string_agg(id || ':' || p, ' ' ORDER BY id) FROM child")"
assert_eq "mysql: refreshed, children after parents" "1 2 3 / 10:1 11:3" \
	"$(myd fk2_dst -e "SELECT GROUP_CONCAT(id ORDER BY id SEPARATOR ' ') FROM parent") / $(myd fk2_dst -e "SELECT GROUP_CONCAT(CONCAT(id, ':', p) ORDER BY id SEPARATOR ' ') FROM child")"

test_case "copy and a server that refuses LOAD DATA LOCAL"
fresh li_src
fresh li_dst
pgd li_src -c "CREATE TABLE t (id int PRIMARY KEY, v text); INSERT INTO t VALUES (1, 'a'), (2, 'b')"
myd li_dst -e "CREATE TABLE t (id int PRIMARY KEY, v text); INSERT INTO t VALUES (7, 'kept')"
my -e "SET GLOBAL local_infile = 0"
run_sluice li-refused 2 copy "$PG_BASE/li_src" "$MY_BASE/li_dst" --method infile --truncate
assert_contains "says so before anything" "the server refuses LOAD DATA LOCAL INFILE" "$OUT"
assert_eq "nothing emptied" "7	kept" "$(myd li_dst -e "SELECT * FROM t")"
run_sluice li-insert 0 copy "$PG_BASE/li_src" "$MY_BASE/li_dst" --method insert --truncate
assert_eq "--method insert is used" "1	a
2	b" "$(myd li_dst -e "SELECT * FROM t ORDER BY id")"
run_sluice li-default 0 copy "$PG_BASE/li_src" "$MY_BASE/li_dst" --truncate -v
assert_contains "by itself it takes INSERT" "--method insert: the server refuses LOAD DATA LOCAL INFILE" "$OUT"
my -e "SET GLOBAL local_infile = 1"
assert_eq "and copies" "2" "$(myd li_dst -e "SELECT COUNT(*) FROM t")"

test_case "update --single-transaction and a key not found"
fresh us_db
for url in "$MY_BASE/us_db" "$PG_BASE/us_db"; do
	case $url in mysql*) myd us_db -e "CREATE TABLE t (id int PRIMARY KEY, v int); INSERT INTO t VALUES (1, 1), (2, 2)" ;;
	*) pgd us_db -c "CREATE TABLE t (id int PRIMARY KEY, v int); INSERT INTO t VALUES (1, 1), (2, 2)" ;; esac
	printf 'id,v\n1,10\n9,90\n2,20\n' >"$TMP/us.csv"
	run_sluice us-run 1 update "$TMP/us.csv" "$url" --table t --key id --single-transaction
	assert_contains "says why" "was not found (no row matches the key); nothing is committed" "$OUT"
done
assert_eq "mysql: nothing committed" "1	1
2	2" "$(myd us_db -e "SELECT * FROM t ORDER BY id")"
assert_eq "pg: nothing committed" "1	1
2	2" "$(pgd us_db -c "SELECT * FROM t ORDER BY id")"

test_case "--schema and schema.table mean the same to copy and verify"
fresh sc_src
fresh sc_dst
pgd sc_src -c "CREATE SCHEMA sales; CREATE TABLE sales.orders (id int PRIMARY KEY, v text); INSERT INTO sales.orders VALUES (1, 'a');
	CREATE TABLE sales.items (id int PRIMARY KEY); INSERT INTO sales.items VALUES (7);
	CREATE TABLE public.orders (id int PRIMARY KEY, v text); INSERT INTO public.orders VALUES (2, 'public')"
run_sluice sc-copy 0 copy "$PG_BASE/sc_src" "$PG_BASE/sc_dst" --schema sales --create --verify
assert_eq "pg->pg: into the same schema" "1|a
7" "$(PGOPTIONS="-c client_min_messages=warning" psql "$PG_BASE/sc_dst" -XAtq -c "SELECT * FROM sales.orders" -c "SELECT * FROM sales.items")"
run_sluice sc-verify 0 verify "$PG_BASE/sc_src" "$PG_BASE/sc_dst" --schema sales
run_sluice sc-qualified 0 copy "$PG_BASE/sc_src" "$MY_BASE/sc_dst" --tables sales.orders --create --verify
assert_eq "pg->mysql: a qualified --tables" "1	a" "$(myd sc_dst -e "SELECT * FROM orders")"
run_sluice sc-verify-q 0 verify "$PG_BASE/sc_src" "$MY_BASE/sc_dst" --tables sales.orders
fresh sc_my
myd sc_my -e "CREATE TABLE orders (id int PRIMARY KEY, v text); INSERT INTO orders VALUES (3, 'm')"
run_sluice sc-my2pg 0 copy "$MY_BASE/sc_my" "$PG_BASE/sc_dst" --schema imported --create --verify
assert_eq "mysql->pg: into --schema" "3|m" "$(PGOPTIONS="-c client_min_messages=warning" psql "$PG_BASE/sc_dst" -XAtq -c "SELECT * FROM imported.orders")"
run_sluice sc-verify-my 0 verify "$MY_BASE/sc_my" "$PG_BASE/sc_dst" --schema imported

test_case "a malformed --cast is refused"
run_sluice cast-bad 2 copy "$MY_BASE/sc_my" "$PG_BASE/sc_dst" --cast 'tinyint(1)smallint' --tables orders
assert_contains "names the entry" "--cast entry 'tinyint(1)smallint' is not SOURCE_TYPE=TARGET_TYPE" "$OUT"
run_sluice cast-twice 2 copy "$MY_BASE/sc_my" "$PG_BASE/sc_dst" --cast 'int=text,datetime=timestamptz=text' --tables orders
assert_contains "two '=' in one entry" "--cast entry 'datetime=timestamptz=text' is not SOURCE_TYPE=TARGET_TYPE" "$OUT"

test_case "JSON: --null, and a UUID of the wrong length"
fresh js_db
pgd js_db -c "CREATE TABLE j (id int, u uuid, b bytea)"
printf '{"id": 1, "u": "x"}\n' >"$TMP/n.ndjson"
run_sluice js-null 2 load "$TMP/n.ndjson" "$PG_BASE/js_db" --table j --null NA
assert_contains "--null is said to be for CSV" "--null is for CSV and TSV" "$OUT"
printf '%s\n' '{"id": 1, "u": {"$binary": {"base64": "AAECAwQFBgcICQoLDA0ODw==", "subType": "04"}}}' \
	'{"id": 2, "u": {"$binary": {"base64": "AAEC", "subType": "04"}}}' \
	'{"id": 3, "b": {"$binary": {"base64": "AAEC", "subType": "00"}}}' >"$TMP/b.ndjson"
run_sluice js-uuid 3 load "$TMP/b.ndjson" "$PG_BASE/js_db" --table j --rejects "$TMP/b.rej"
assert_eq "a 16-byte UUID and plain bytes load" "1|00010203-0405-0607-0809-0a0b0c0d0e0f|
3||\\x000102" "$(PGOPTIONS="-c client_min_messages=warning" psql "$PG_BASE/js_db" -XAtq -c "SELECT * FROM j ORDER BY id")"
assert_contains "a short one is refused" "subtype 4 is a UUID, and this one is not 16 bytes" "$(cat "$TMP/b.rej.log")"

test_case "upserts: the last record of a key wins, as the server compares keys"
fresh ce_db
myd ce_db -e "CREATE TABLE ci (k varchar(20) COLLATE utf8mb4_general_ci PRIMARY KEY, v int);
	CREATE TABLE pad (k varchar(20) COLLATE utf8mb4_bin PRIMARY KEY, v int)"
# a key three ways per group, many groups, so every batch and writer sees them
awk 'BEGIN { print "k,v"; n = 0; for (i = 1; i <= 3000; i++) { printf "key%d,%d\n", i, ++n; printf "KEY%d,%d\n", i, ++n; printf "Key%d ,%d\n", i, ++n } }' >"$TMP/ce.csv"
awk 'BEGIN { print "k,v"; n = 0; for (i = 1; i <= 3000; i++) { printf "key%d,%d\n", i, ++n; printf "\"key%d  \",%d\n", i, ++n; printf "KEY%d,%d\n", i, ++n } }' >"$TMP/pad.csv"
for workers in 1 3; do
	myd ce_db -e "DELETE FROM ci; DELETE FROM pad"
	run_sluice "ce-update-$workers" 0 load "$TMP/ce.csv" "$MY_BASE/ce_db" --table ci --on-conflict update --key k --workers $workers --batch-rows 500
	assert_eq "update, $workers workers: one row a key, the last record's" "3000	3000" \
		"$(myd ce_db -e "SELECT COUNT(*), SUM(v % 3 = 0) FROM ci")"
	run_sluice "ce-skip-$workers" 0 load "$TMP/pad.csv" "$MY_BASE/ce_db" --table pad --on-conflict skip --key k --workers $workers --batch-rows 500
	# utf8mb4_bin pads: 'key1  ' is 'key1', 'KEY1' is another
	assert_eq "skip on a PAD SPACE key, $workers workers: the first record of each" "6000	3000	3000" \
		"$(myd ce_db -e "SELECT COUNT(*), SUM(v % 3 = 1), SUM(v % 3 = 0) FROM pad")"
done

test_case "upserts on PostgreSQL keys that ignore case (citext, a nondeterministic collation)"
fresh cp_db
pgd cp_db -c "CREATE EXTENSION IF NOT EXISTS citext;
	CREATE COLLATION nocase (provider = icu, locale = 'und-u-ks-level2', deterministic = false);
	CREATE TABLE ct (k citext PRIMARY KEY, v int); CREATE TABLE nd (k text COLLATE nocase PRIMARY KEY, v int)"
awk 'BEGIN { print "k,v"; n = 0; for (i = 1; i <= 2000; i++) { printf "Sku-%d,%d\n", i, ++n; printf "SKU-%d,%d\n", i, ++n; printf "sku-%d,%d\n", i, ++n } }' >"$TMP/cp.csv"
for workers in 1 2; do
	for t in ct nd; do
		pgd cp_db -c "TRUNCATE $t"
		run_sluice "cp-update-$t-$workers" 0 load "$TMP/cp.csv" "$PG_BASE/cp_db" --table $t --on-conflict update --key k --workers $workers --batch-rows 300
		assert_eq "$t update, $workers workers: one row a key, the last record's" "2000	2000" \
			"$(pgd cp_db -c "SELECT COUNT(*), SUM(CASE WHEN v % 3 = 0 THEN 1 ELSE 0 END) FROM $t")"
		pgd cp_db -c "TRUNCATE $t"
		run_sluice "cp-skip-$t-$workers" 0 load "$TMP/cp.csv" "$PG_BASE/cp_db" --table $t --on-conflict skip --key k --workers $workers --batch-rows 300
		assert_eq "$t skip, $workers workers: one row a key, the first record's" "2000	2000" \
			"$(pgd cp_db -c "SELECT COUNT(*), SUM(CASE WHEN v % 3 = 1 THEN 1 ELSE 0 END) FROM $t")"
	done
done

test_case "keys that only look like integers by name"
fresh kt_src
fresh kt_dst
pgd kt_src -c "CREATE TABLE iv (k interval PRIMARY KEY, v int); INSERT INTO iv SELECT make_interval(secs => i), i FROM generate_series(1, 3000) i;
	CREATE TABLE rg (k int4range PRIMARY KEY, v int); INSERT INTO rg SELECT int4range(i, i + 1), i FROM generate_series(1, 3000) i;
	CREATE TABLE ar (k integer[] PRIMARY KEY, v int); INSERT INTO ar SELECT ARRAY[i, i], i FROM generate_series(1, 3000) i;
	ANALYZE"
run_sluice kt-copy 0 copy "$PG_BASE/kt_src" "$PG_BASE/kt_dst" --create --resume --workers 2 --split-rows 1000 --verify
assert_eq "every row once" "3000|4501500|3000|4501500|3000|4501500" \
	"$(PGOPTIONS="-c client_min_messages=warning" psql "$PG_BASE/kt_dst" -XAtq -c "SELECT (SELECT count(*) FROM iv), (SELECT sum(v) FROM iv), (SELECT count(*) FROM rg), (SELECT sum(v) FROM rg), (SELECT count(*) FROM ar), (SELECT sum(v) FROM ar)")"
run_sluice kt-again 0 copy "$PG_BASE/kt_src" "$PG_BASE/kt_dst" --create --resume --workers 2 --split-rows 1000 -v
assert_contains "a rerun skips them whole" "iv: copied whole by an earlier run" "$OUT"

test_case "a stray quote near the top of stdin costs its own line"
fresh sq_db
pgd sq_db -c "CREATE TABLE st (id int, v text)"
myd sq_db -e "CREATE TABLE st (id int, v text)"
# 100,000 rows (about 1.7 MB) after a quote that never closes: far past --max-record-bytes
awk 'BEGIN { print "id,v"; print "1,\"open"; for (i = 2; i <= 100000; i++) printf "%d,row %d\n", i, i }' >"$TMP/sq.csv"
for url in "$PG_BASE/sq_db" "$MY_BASE/sq_db"; do
	timeout 120 "$SLUICE" load - "$url" --table st --format csv --max-record-bytes 65536 \
		--rejects "$TMP/sq.rej" -q <"$TMP/sq.csv" >"$TMP/sq.out" 2>&1
	assert_status "stdin: exit 3, one reject" 3 "$?"
	assert_eq "the reject is line 2 alone" "1" "$(grep -c '' "$TMP/sq.rej.log")"
	assert_contains "why" "-:2: record larger than --max-record-bytes (65536 bytes): a quote ran on over several lines" "$(cat "$TMP/sq.rej.log")"
done
assert_eq "pg: every other row" "99999	5000049999" "$(pgd sq_db -c "SELECT count(*), sum(id) FROM st")"
assert_eq "mysql: every other row" "99999	5000049999" "$(myd sq_db -e "SELECT COUNT(*), SUM(id) FROM st")"

finish
