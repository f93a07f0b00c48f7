#!/usr/bin/env bash
# tests/integration/t_pg_load.sh - sluice load into a real PostgreSQL: both
# methods, exact contents, rejects, stdin, gzip, options and exit codes.
. "$(dirname "$0")/lib.sh"
export PGTZ=UTC

TRICKY_DDL='id int primary key, name text, note text, tags text, payload jsonb, created_at timestamptz, amount numeric, flag boolean'
TRICKY_EXPECTED='{"id":1,"name":"alice","note":"hello, world","tags":null,"payload":{"a": 1, "b": [true, null]},"created_at":"2024-01-02T03:04:05+00:00","amount":12.50,"flag":true}
{"id":2,"name":"bob \"the\" builder","note":null,"tags":"","payload":{},"created_at":"2024-01-02T01:04:05+00:00","amount":0.1,"flag":false}
{"id":3,"name":"multi\nline\ntext","note":"","tags":"x","payload":[1, 2],"created_at":"2024-02-29T23:59:59.123456+00:00","amount":12345678901234.123456,"flag":true}
{"id":4,"name":"émoji 🎉 日本語","note":"back\\slash\ttab","tags":null,"payload":null,"created_at":null,"amount":null,"flag":null}
{"id":5,"name":"  spaced  ","note":";semi;colon","tags":"a,b","payload":"json string","created_at":"1999-12-31T23:59:59+00:00","amount":-0.000001,"flag":false}'

rows_json() { pg -c "select row_to_json(t) from $1 t order by id"; }

for method in copy insert; do
	test_case "tricky file, --method $method"
	pg -c "drop table if exists tricky; create table tricky ($TRICKY_DDL)"
	out=$("$SLUICE" load "$DATA/tricky.csv" "$SLUICE_PG_URL" --method $method --summary-json "$TMP/s.json" 2>&1)
	assert_status "load" 0 $?
	assert_eq "exact contents" "$TRICKY_EXPECTED" "$(rows_json tricky)"
	assert_contains "summary table" "tricky" "$out"
	assert_contains "summary JSON: the status" '{"status": "ok", "exit_code": 0, ' "$(cat "$TMP/s.json")"
	assert_contains "summary JSON: the table" '"tables": [{"table": "tricky", "rows_read": 5, "rows_written": 5, "rows_rejected": 0, "rows_not_found": 0' "$(cat "$TMP/s.json")"
done

test_case "stdin, gzip detected by content, --table, --truncate"
gzip -c "$DATA/tricky.csv" >"$TMP/data.bin"
"$SLUICE" load - "$SLUICE_PG_URL" --table public.tricky --truncate -q <"$TMP/data.bin"
assert_status "load" 0 $?
assert_eq "exact contents" "$TRICKY_EXPECTED" "$(rows_json tricky)"
"$SLUICE" load "$TMP/data.bin" "$SLUICE_PG_URL" --table tricky --truncate -q --method insert
assert_eq "gzip file without .gz name" "$TRICKY_EXPECTED" "$(rows_json tricky)"

test_case "table named after the file; odd identifiers quoted"
pg -c 'drop table if exists "Odd ""Name"""; create table "Odd ""Name""" ("we ird" text, "Col;DROP" int)'
printf 'we ird,Col;DROP\nx,1\n"y,z",2\n' >"$TMP/odd.csv"
"$SLUICE" load "$TMP/odd.csv" "$SLUICE_PG_URL" --table '"Odd ""Name"""' -q --method insert
assert_status "insert" 0 $?
assert_eq "contents" $'x|1\ny,z|2' "$(pg -c 'select "we ird", "Col;DROP" from "Odd ""Name""" order by 2')"
pg -c "drop table if exists users; create table users (id int, name text)"
printf 'id,name\n1,ann\n' | gzip -c >"$TMP/users.csv.gz"
"$SLUICE" load "$TMP/users.csv.gz" "$SLUICE_PG_URL" -q
assert_status "users.csv.gz -> users" 0 $?
assert_eq "contents" "1|ann" "$(pg -c 'select * from users')"

test_case "--no-header --columns --delimiter --quote --null"
pg -c "drop table if exists opts; create table opts (a int, b text, c text)"
printf "1;'x;y';NA\n2;NA;''\n" >"$TMP/opts.txt"
"$SLUICE" load "$TMP/opts.txt" "$SLUICE_PG_URL" --table opts --format csv --no-header \
	--columns a,c,b --delimiter ';' --quote "'" --null NA -q
assert_status "load" 0 $?
assert_eq "contents" '{"a":1,"b":null,"c":"x;y"}
{"a":2,"b":"","c":null}' "$(pg -c 'select row_to_json(t) from opts t order by a')"

test_case "no header, no --columns: the table's columns"
pg -c "truncate opts"
printf '7\tseven\t\n' >"$TMP/opts.tsv"
"$SLUICE" load "$TMP/opts.tsv" "$SLUICE_PG_URL" --table opts --no-header -q
assert_status "load" 0 $?
assert_eq "contents" '7|seven|' "$(pg -c 'select a, b, coalesce(c, $$$$) from opts')"

test_case "--dry-run writes nothing"
pg -c "truncate tricky"
out=$("$SLUICE" load "$DATA/tricky.csv" "$SLUICE_PG_URL" --dry-run --truncate 2>/dev/null)
assert_status "dry run" 0 $?
assert_eq "the SQL" '-- method copy
TRUNCATE TABLE "tricky";
COPY "tricky" ("id", "name", "note", "tags", "payload", "created_at", "amount", "flag") FROM STDIN;' "$out"
assert_eq "nothing written" "0" "$(pg -c 'select count(*) from tricky')"

for method in copy insert; do
	test_case "bad rows among good ones, --method $method"
	pg -c "drop table if exists mixed; create table mixed (id int primary key, n int not null, ts timestamp, t text)"
	{
		echo "id,n,ts,t"
		for i in $(seq 1 3000); do
			case $i in
			100) echo "$i,notanumber,2024-01-01,bad int" ;;
			777) echo "$i,1,2024-13-45,bad date" ;;
			1500) echo "$i,1,2024-01-01" ;;               # too few fields
			2000) echo "1,1,2024-01-01,duplicate key" ;;  # id 1 again
			2500) echo "$i,,2024-01-01,null into not null" ;;
			2999) printf '%s,1,2024-01-01,"bad utf8 \xff"\n' "$i" ;;
			*) echo "$i,$((i * 2)),2024-01-01T10:00:00,row $i" ;;
			esac
		done
	} >"$TMP/mixed.csv"
	"$SLUICE" load "$TMP/mixed.csv" "$SLUICE_PG_URL" --method $method --batch-rows 500 \
		--rejects "$TMP/rejects.csv" -q
	assert_status "finished with rejects" 3 $?
	assert_eq "good rows only" "2994|8983248" "$(pg -c 'select count(*), sum(n) from mixed')"
	assert_eq "no bad row loaded" "0" "$(pg -c "select count(*) from mixed where t like 'bad%' or t like 'null%' or t like 'dup%'")"
	# writers run concurrently with the reader: compare the records in line order
	assert_eq "rejects file: header + 6 records verbatim" "id,n,ts,t
1,1,2024-01-01,duplicate key
100,notanumber,2024-01-01,bad int
777,1,2024-13-45,bad date
1500,1,2024-01-01
2500,,2024-01-01,null into not null
2999,1,2024-01-01,\"bad utf8 $(printf '\xff')\"" "$(head -1 "$TMP/rejects.csv"; tail -n +2 "$TMP/rejects.csv" | LC_ALL=C sort -t, -k1,1n)"
	assert_eq "reasons name file and line" "$TMP/mixed.csv:101
$TMP/mixed.csv:778
$TMP/mixed.csv:1501
$TMP/mixed.csv:2001
$TMP/mixed.csv:2501
$TMP/mixed.csv:3000" "$(cut -d: -f1,2 "$TMP/rejects.csv.log" | sort -t: -k2 -n)"
	assert_contains "server reason" "invalid input syntax for type integer" "$(cat "$TMP/rejects.csv.log")"
	assert_contains "parser reason" "expected 4 fields, found 3" "$(cat "$TMP/rejects.csv.log")"
	# fix the rejects and load them again: the table is complete
	sed -e 's/notanumber/200/' -e 's/2024-13-45/2024-12-25/' -e 's/^1500,1,2024-01-01$/1500,3000,2024-01-01,fixed/' \
		-e 's/^1,1,2024-01-01,duplicate key/2000,4000,2024-01-01,fixed/' -e 's/^2500,,/2500,5000,/' \
		-e "s/bad utf8 $(printf '\xff')/fixed/" "$TMP/rejects.csv" >"$TMP/fixed.csv"
	"$SLUICE" load "$TMP/fixed.csv" "$SLUICE_PG_URL" --table mixed --method $method -q
	assert_status "reload fixed rejects" 0 $?
	assert_eq "table complete" "3000|3000" "$(pg -c 'select count(*), count(distinct id) from mixed')"
done

test_case "--max-errors N tolerates N rejected rows, the next stops the run"
pg -c "truncate mixed"
# server-side rejects only, one writer: where it stops is deterministic
grep -v -e '^1500,' -e '^1,1,' -e '^2500,' -e '^2999,' "$TMP/mixed.csv" >"$TMP/mixed2.csv"
"$SLUICE" load "$TMP/mixed2.csv" "$SLUICE_PG_URL" --table mixed --batch-rows 500 --max-errors 1 -q 2>"$TMP/err"
assert_status "stopped" 1 $?
assert_contains "says why" "max-errors" "$(cat "$TMP/err")"
assert_eq "whole batches before the stop, rows up to the 2nd reject" "775|602752" "$(pg -c 'select count(*), sum(n) from mixed')"
pg -c "truncate mixed"
"$SLUICE" load "$TMP/mixed2.csv" "$SLUICE_PG_URL" --table mixed --batch-rows 500 --max-errors 0 \
	--rejects "$TMP/max1.csv" -q 2>/dev/null
assert_status "--max-errors 0: stopped" 1 $?
assert_eq "--max-errors 0: the first reject stops it, the rows before it are in" "99|9900" \
	"$(pg -c 'select count(*), sum(n) from mixed')"
assert_eq "--max-errors 0: one rejected record" "100,notanumber,2024-01-01,bad int" "$(tail -n +2 "$TMP/max1.csv")"

test_case "many refused rows: each rejected alone, the rest written, as one row at a time would"
# a generated mix: bad integers, a CHECK, NOT NULL, a duplicate of a row
# already there, a trigger's own error, a too-long value, in a table whose
# column name holds the dollar quote the server-side writer uses
pg -c "drop table if exists dense_a, dense_b" \
	-c 'create table dense_a (id int primary key, v int check (v >= 0), "w$sluice$x" varchar(6) not null)' \
	-c "create table dense_b (like dense_a including all)" \
	-c "create or replace function no13() returns trigger language plpgsql as \$\$ begin if new.v = 13 then raise exception 'thirteen refused' using errcode = 'P0013'; end if; return new; end \$\$" \
	-c "create trigger no13 before insert on dense_a for each row execute function no13()" \
	-c "create trigger no13 before insert on dense_b for each row execute function no13()" \
	-c "insert into dense_a values (5, 1, 'there')" -c "insert into dense_b values (5, 1, 'there')"
awk 'BEGIN { srand(42); print "id,v,w$sluice$x";
	for (i = 1; i <= 3000; i++) { r = int(rand() * 8); v = i % 97; w = "w" (i % 1000)
		if (r == 0) v = "x" i; else if (r == 1) v = -i; else if (r == 2) w = "";
		else if (r == 3) v = 13; else if (r == 4) w = "toolong" i;
		id = (r == 5 && i % 3 == 0) ? 5 : i; print id "," v "," w } }' >"$TMP/dense.csv"
"$SLUICE" load "$TMP/dense.csv" "$SLUICE_PG_URL" --table dense_a --batch-rows 500 --rejects "$TMP/dense_a.rej" -q 2>/dev/null
assert_status "loaded with rejects" 3 $?
"$SLUICE" load "$TMP/dense.csv" "$SLUICE_PG_URL" --table dense_b --batch-rows 1 --rejects "$TMP/dense_b.rej" -q 2>/dev/null
assert_status "one row at a time" 3 $?
nrej=$(grep -c '' "$TMP/dense_a.rej.log")
if [ "$nrej" -gt 1000 ]; then pass "not vacuous: $nrej rows refused"; else fail "only $nrej rows refused"; fi
assert_eq "the same rows written" "" "$(pg -c "select * from dense_a full join dense_b using (id) where dense_a is distinct from dense_b")"
assert_eq "the same lines rejected" "$(cut -d: -f2 "$TMP/dense_b.rej.log")" "$(cut -d: -f2 "$TMP/dense_a.rej.log")"
for why in "invalid input syntax" "violates check constraint" "violates not-null" "duplicate key" "thirteen refused" "value too long"; do
	assert_contains "the server's reason: $why" "$why" "$(cat "$TMP/dense_a.rej.log")"
done
assert_eq "the rejects file holds each refused record" "$((nrej + 1))" "$(grep -c '' "$TMP/dense_a.rej")"
pg -c "truncate dense_a" -c "insert into dense_a values (5, 1, 'there')"
"$SLUICE" load "$TMP/dense.csv" "$SLUICE_PG_URL" --table dense_a --batch-rows 500 --max-errors 39 --rejects "$TMP/dense_m.rej" -q 2>/dev/null
assert_status "--max-errors 39: stopped at the 40th" 1 $?
fortieth=$(sed -n 40p "$TMP/dense_m.rej.log" | cut -d: -f2)
assert_eq "40 rejected" "40" "$(grep -c '' "$TMP/dense_m.rej.log")"
assert_eq "nothing written after the 40th rejected line ($fortieth)" "0" "$(pg -c "select count(*) from dense_a where id > $((fortieth - 1)) and id <> 5")"
assert_eq "everything good before it" "$(pg -c "select count(*) from dense_b where id < $((fortieth - 1)) and id <> 5")" "$(pg -c "select count(*) from dense_a where id < $((fortieth - 1)) and id <> 5")"

test_case "--single-transaction is all or nothing"
pg -c "truncate mixed"
"$SLUICE" load "$TMP/mixed.csv" "$SLUICE_PG_URL" --table mixed --batch-rows 500 --single-transaction -q 2>/dev/null
assert_status "failed" 1 $?
assert_eq "nothing committed" "0" "$(pg -c 'select count(*) from mixed')"

test_case "exit codes and redaction"
"$SLUICE" load "$TMP/nonexistent.csv" "$SLUICE_PG_URL" 2>/dev/null
assert_status "missing file" 2 $?
"$SLUICE" load "$DATA/tricky.csv" "ftp://x/y" 2>/dev/null
assert_status "bad URL" 2 $?
"$SLUICE" load --bogus "$DATA/tricky.csv" "$SLUICE_PG_URL" 2>/dev/null
assert_status "bad option" 2 $?
err=$("$SLUICE" load "$DATA/tricky.csv" "postgresql://postgres:TopSecret42@127.0.0.1:1/postgres" 2>&1)
assert_status "cannot connect" 1 $?
assert_not_contains "password hidden" "TopSecret42" "$err"
assert_contains "redacted URL shown" "postgres:***@127.0.0.1:1" "$err"
out=$("$SLUICE" ping "$SLUICE_PG_URL")
assert_status "ping" 0 $?
assert_contains "version" "PostgreSQL 1" "$out"

test_case "100,000 generated rows, both methods"
awk 'BEGIN { print "id,name,amount,at"; for (i = 1; i <= 100000; i++) printf "%d,name %d \"q\",%d.%02d,2024-01-01T00:00:%02dZ\n", i, i, i, i % 100, i % 60 }' |
	sed 's/"q"/""q""/; s/name \([0-9]*\) ""q""/"name \1 ""q"""/' >"$TMP/big.csv"
pg -c "drop table if exists big; create table big (id bigint primary key, name text, amount numeric(12,2), at timestamptz)"
for method in copy insert; do
	"$SLUICE" load "$TMP/big.csv" "$SLUICE_PG_URL" --method $method --truncate -q
	assert_status "$method" 0 $?
	assert_eq "$method: counts and sums" "100000|5000050000|5000099500.00|name 77 \"q\"" \
		"$(pg -c "select count(*), sum(id), sum(amount), (select name from big where id = 77) from big")"
done

test_case "a batch's BEGIN goes with its COPY, in one round trip"
# a statement trigger that sleeps holds each batch's COPY open long enough
# to read the statement the server runs
pg -c "drop table if exists rt" -c "create table rt (id int primary key, v text)" \
	-c "create or replace function rt_slow() returns trigger language plpgsql as \$\$ begin perform pg_sleep(0.3); return null; end \$\$" \
	-c "create trigger rt_slow after insert on rt for each statement execute function rt_slow()"
awk 'BEGIN { print "id,v"; for (i = 1; i <= 2000; i++) printf "%d,v%d\n", i, i }' >"$TMP/rt.csv"
"$SLUICE" load "$TMP/rt.csv" "$SLUICE_PG_URL" --table rt --batch-rows 500 -q &
pid=$!
seen=""
while kill -0 $pid 2>/dev/null; do
	seen+=$(pg -c "select query from pg_stat_activity where application_name = 'sluice' and state = 'active' and query like '%COPY %'")$'\n'
	sleep 0.02
done
wait $pid
assert_status "loaded" 0 $?
# the first batch on a connection reads the column types inside its
# transaction first; the next ones begin with their COPY
assert_contains "BEGIN, the id of the transaction and COPY in one statement" \
	'BEGIN; SELECT txid_current(), pg_backend_pid(); COPY "rt"' "$seen"
assert_eq "rows and values" "2000|2001000|v1999" "$(pg -c "select count(*), sum(id), (select v from rt where id = 1999) from rt")"
pg -c "drop table rt" -c "drop function rt_slow()"

finish
