#!/usr/bin/env bash
# tests/integration/t_json.sh - NDJSON and JSON-array input into PostgreSQL:
# key mapping, exact numbers, nested values, missing and unknown keys, gzip
# on a file and on stdin, malformed input, and --create's inferred types.
. "$(dirname "$0")/lib.sh"
export PGTZ=UTC

DDL='id int primary key, name text, "unit price" numeric, big numeric, ratio numeric, doc jsonb, tags jsonb, flag boolean, seen_at timestamptz, "日付" date'
EXPECTED='{"id":1,"name":"alice","unit price":1.50,"big":18446744073709551615,"ratio":0.1,"doc":{"a": 1, "b": [true, null], "s": "x\"y"},"tags":["x", "y"],"flag":true,"seen_at":"2024-01-02T03:04:05+00:00","日付":"2024-01-02"}
{"id":2,"name":"bob \"the\" builder","unit price":12345678901234.123456,"big":-1,"ratio":0.001,"doc":{},"tags":[],"flag":false,"seen_at":"2024-01-02T01:04:05.5+00:00","日付":null}
{"id":3,"name":"émoji 🎉 日本語","unit price":null,"big":null,"ratio":null,"doc":[1, 2.50],"tags":null,"flag":null,"seen_at":null,"日付":null}
{"id":4,"name":"multi\nline\ttab\\back","unit price":null,"big":null,"ratio":null,"doc":null,"tags":null,"flag":null,"seen_at":null,"日付":null}'

rows_json() { pg -c "select row_to_json(t) from $1 t order by id"; }
fresh() { pg -c "drop table if exists json_rows; create table json_rows ($DDL)"; }

for method in copy insert; do
	test_case "NDJSON, --method $method"
	fresh
	out=$("$SLUICE" load "$DATA/json_rows.ndjson" "$SLUICE_PG_URL" --method $method 2>&1)
	assert_status "load" 0 $?
	assert_eq "exact contents" "$EXPECTED" "$(rows_json json_rows)"

	test_case "JSON array, --method $method"
	fresh
	out=$("$SLUICE" load "$DATA/json_rows.json" "$SLUICE_PG_URL" --method $method 2>&1)
	assert_status "load" 0 $?
	assert_eq "exact contents" "$EXPECTED" "$(rows_json json_rows)"
done

test_case "gzip file, table named after it"
fresh
gzip -c "$DATA/json_rows.json" >"$TMP/json_rows.json.gz"
"$SLUICE" load "$TMP/json_rows.json.gz" "$SLUICE_PG_URL" -q
assert_status "load" 0 $?
assert_eq "exact contents" "$EXPECTED" "$(rows_json json_rows)"

test_case "gzip on stdin, --table"
fresh
gzip -c "$DATA/json_rows.ndjson" | "$SLUICE" load - "$SLUICE_PG_URL" --table json_rows -q
assert_status "load" 0 $?
assert_eq "exact contents" "$EXPECTED" "$(rows_json json_rows)"
fresh
gzip -c "$DATA/json_rows.json" | "$SLUICE" load - "$SLUICE_PG_URL" --table public.json_rows -q
assert_status "array on stdin" 0 $?
assert_eq "exact contents" "$EXPECTED" "$(rows_json json_rows)"

test_case "--format overrides the extension"
fresh
cp "$DATA/json_rows.ndjson" "$TMP/rows.txt"
"$SLUICE" load "$TMP/rows.txt" "$SLUICE_PG_URL" --table json_rows --format ndjson -q
assert_status "load" 0 $?
assert_eq "row count" "4" "$(pg -c 'select count(*) from json_rows')"

test_case "--columns picks the keys loaded"
fresh
"$SLUICE" load "$DATA/json_rows.ndjson" "$SLUICE_PG_URL" --table json_rows --columns id,name,doc,tags,flag,seen_at,日付,big,ratio,'unit price' -q
assert_status "load" 0 $?
assert_eq "exact contents" "$EXPECTED" "$(rows_json json_rows)"

test_case "unknown key: a reject naming it; --ignore-unknown drops it"
pg -c 'drop table if exists jk; create table jk (id int, "a b" text)'
printf '{"id":1,"a b":"x"}\n{"id":2,"a b":"y","color":"red"}\n{"id":3}\n' >"$TMP/jk.ndjson"
out=$("$SLUICE" load "$TMP/jk.ndjson" "$SLUICE_PG_URL" --rejects "$TMP/jk.rej" 2>&1)
assert_status "load" 3 $?
assert_eq "contents" $'1|x\n3|' "$(pg -c 'select id, "a b" from jk order by id')"
assert_eq "rejects file" '{"id":2,"a b":"y","color":"red"}' "$(cat "$TMP/jk.rej")"
assert_contains "reason names key and line" ':2: unknown key "color"' "$(cat "$TMP/jk.rej"* "$TMP/jk.rej.log" 2>/dev/null; echo "$out")"
pg -c 'truncate jk'
"$SLUICE" load "$TMP/jk.ndjson" "$SLUICE_PG_URL" --ignore-unknown -q
assert_status "--ignore-unknown" 0 $?
assert_eq "contents" $'1|x\n2|y\n3|' "$(pg -c 'select id, "a b" from jk order by id')"

test_case "NDJSON: a bad line is one reject, the rest load"
pg -c 'drop table if exists jb; create table jb (id int, v text)'
printf '{"id":1,"v":"a"}\n{"id":2,"v":"b",}\n\n{"id":3,"v":"\xff"}\n[4]\n{"id":5,"v":"e"}\n' >"$TMP/jb.ndjson"
out=$("$SLUICE" load "$TMP/jb.ndjson" "$SLUICE_PG_URL" --rejects "$TMP/jb.rej" 2>&1)
assert_status "load" 3 $?
assert_eq "contents" $'1|a\n5|e' "$(pg -c 'select id, v from jb order by id')"
assert_eq "rejects verbatim" $'{"id":2,"v":"b",}\n{"id":3,"v":"\xff"}\n[4]' "$(cat "$TMP/jb.rej")"
all="$(cat "$TMP/jb.rej.log" 2>/dev/null; echo "$out")"
assert_contains "line 2 reason" "line 2, byte" "$all"
assert_contains "line 4 reason" "line 4, byte" "$all"
assert_contains "line 5 reason" "jb.ndjson:5: an array, not a JSON object" "$all"

test_case "array: a non-object element is one reject"
pg -c 'truncate jb'
printf '[{"id":1,"v":"a"},\n 42,\n {"id":3,"v":"c"}]' >"$TMP/jb.json"
out=$("$SLUICE" load "$TMP/jb.json" "$SLUICE_PG_URL" 2>&1)
assert_status "load" 3 $?
assert_eq "contents" $'1|a\n3|c' "$(pg -c 'select id, v from jb order by id')"
assert_contains "reason" "jb.json:2: a number, not a JSON object" "$out"

test_case "array: a syntax error fails the run after the records before it"
pg -c 'truncate jb'
printf '[{"id":1,"v":"a"},\n {"id":2,"v":"b"},\n {"id":3,"v":"c\\q"},\n {"id":4,"v":"d"}]' >"$TMP/trunc.json"
out=$("$SLUICE" load "$TMP/trunc.json" "$SLUICE_PG_URL" --table jb 2>&1)
assert_status "load" 1 $?
assert_contains "message" "line 3, byte" "$out"
assert_eq "earlier records kept" $'1|a\n2|b' "$(pg -c 'select id, v from jb order by id')"
pg -c 'truncate jb'
head -c 30 "$TMP/trunc.json" | gzip -c >"$TMP/trunc.json.gz"
out=$("$SLUICE" load "$TMP/trunc.json.gz" "$SLUICE_PG_URL" --table jb 2>&1)
assert_status "truncated gzip document" 1 $?
assert_eq "earlier records kept" '1|a' "$(pg -c 'select id, v from jb order by id')"

test_case "--create from NDJSON with --columns: inferred types"
pg -c 'drop table if exists jc'
printf '%s\n' '{"id":1,"amount":"12.50","day":"2024-01-15","at":"2024-01-15T10:00:00Z","ok":"yes","note":null,"meta":{"k":1},"code":"007"}' \
	'{"id":2,"amount":3,"day":"2024-02-29","at":"2024-02-29 23:59:59.5+02:00","ok":"No","meta":[1],"code":"012"}' \
	'{"id":3,"amount":1000.05,"day":null,"ok":true,"note":"","code":"100"}' >"$TMP/jc.ndjson"
COLS='id,amount,day,at,ok,note,meta,code'
out=$("$SLUICE" load "$TMP/jc.ndjson" "$SLUICE_PG_URL" --table jc --columns "$COLS" --create --dry-run 2>/dev/null)
assert_status "dry run" 0 $?
assert_contains "DDL printed" 'CREATE TABLE "jc" (
    "id" bigint,
    "amount" numeric,
    "day" date,
    "at" timestamptz,
    "ok" boolean,
    "note" text,
    "meta" jsonb,
    "code" text
);' "$out"
assert_eq "dry run created nothing" "" "$(pg -c "select to_regclass('jc')")"
"$SLUICE" load "$TMP/jc.ndjson" "$SLUICE_PG_URL" --table jc --columns "$COLS" --create -q
assert_status "load" 0 $?
assert_eq "column types" 'id|bigint
amount|numeric
day|date
at|timestamp with time zone
ok|boolean
note|text
meta|jsonb
code|text' "$(pg -c "select column_name, data_type from information_schema.columns where table_name = 'jc' order by ordinal_position")"
assert_eq "contents" '{"id":1,"amount":12.50,"day":"2024-01-15","at":"2024-01-15T10:00:00+00:00","ok":true,"note":null,"meta":{"k": 1},"code":"007"}
{"id":2,"amount":3,"day":"2024-02-29","at":"2024-02-29T21:59:59.5+00:00","ok":false,"note":null,"meta":[1],"code":"012"}
{"id":3,"amount":1000.05,"day":null,"at":null,"ok":true,"note":"","meta":null,"code":"100"}' "$(rows_json jc)"

test_case "--create from JSON keys (no --columns), a JSON array"
pg -c 'drop table if exists jkeys'
printf '[{"id": 1, "price": 9.99, "tags": ["a"]},\n {"id": 2, "when": "2024-05-01", "price": 10}]\n' >"$TMP/jkeys.json"
out=$("$SLUICE" load "$TMP/jkeys.json" "$SLUICE_PG_URL" --create --dry-run 2>&1)
assert_status "dry run" 0 $?
assert_contains "DDL printed" 'CREATE TABLE "jkeys" (
    "id" bigint,
    "price" numeric,
    "tags" jsonb,
    "when" date
);' "$out"
"$SLUICE" load "$TMP/jkeys.json" "$SLUICE_PG_URL" --create -q
assert_status "load" 0 $?
assert_eq "contents" '{"id":1,"price":9.99,"tags":["a"],"when":null}
{"id":2,"price":10,"tags":null,"when":"2024-05-01"}' "$(rows_json jkeys)"

test_case "--create from a CSV file: dates, money, mostly-empty columns, text"
pg -c 'drop table if exists jcsv'
printf '%s\n' 'order id,customer,amount,ordered on,shipped at,gift,coupon,comment,big' \
	'1,Zoë Ågren,12.50,2024-01-15,2024-01-15T10:00:00Z,true,,,18446744073709551615' \
	'2,"O'"'"'Brien, Pat",3.00,2024-02-29,2024-02-29 08:00:00,false,,fragile,1' \
	'3,Bob,1000,2023-12-31,,f,SAVE10,,2' \
	'4,Ann,-0.99,,,,,,3' >"$TMP/jcsv.csv"
"$SLUICE" load "$TMP/jcsv.csv" "$SLUICE_PG_URL" --create -q
assert_status "load" 0 $?
assert_eq "column types" 'order id|bigint
customer|text
amount|numeric
ordered on|date
shipped at|timestamp with time zone
gift|boolean
coupon|text
comment|text
big|numeric' "$(pg -c "select column_name, data_type from information_schema.columns where table_name = 'jcsv' order by ordinal_position")"
assert_eq "contents" '1|Zoë Ågren|12.50|2024-01-15|t|18446744073709551615
2|O'"'"'Brien, Pat|3.00|2024-02-29|f|1
3|Bob|1000|2023-12-31|f|2
4|Ann|-0.99|||3' "$(pg -c 'select "order id", customer, amount, "ordered on", gift, big from jcsv order by 1')"

test_case "--defaults: a missing key takes the column default, an explicit null stays NULL"
pg -c "drop table if exists jdef; create table jdef (id int primary key, name text default 'anon', n int default 42, at timestamptz default '2000-01-01Z')"
printf '{"id":1,"name":"x"}\n{"id":2}\n{"id":3,"name":null,"n":7}\n{"id":4,"n":5,"name":"y"}\n{"id":5,"at":"2024-01-01T00:00:00Z"}\n' >"$TMP/jdef.ndjson"
for method in copy insert; do
	"$SLUICE" load "$TMP/jdef.ndjson" "$SLUICE_PG_URL" --table jdef --defaults --truncate --method $method -q
	assert_status "load ($method)" 0 $?
	assert_eq "defaults filled in ($method)" '1|x|42|2000-01-01 00:00:00+00
2|anon|42|2000-01-01 00:00:00+00
3|NULL|7|2000-01-01 00:00:00+00
4|y|5|2000-01-01 00:00:00+00
5|anon|42|2024-01-01 00:00:00+00' "$(PGTZ=UTC pg -c "select id, coalesce(name, 'NULL'), n, at from jdef order by id")"
done
"$SLUICE" load "$TMP/jdef.ndjson" "$SLUICE_PG_URL" --table jdef --truncate -q
assert_eq "without --defaults a missing key is NULL" '1|x||
2|||' "$(pg -c "select id, name, n, at from jdef where id <= 2 order by id")"

finish
