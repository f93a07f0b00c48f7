#!/usr/bin/env bash
# tests/integration/t_mysql_more.sh - MariaDB: parallel writers, the pool,
# killed connections, signals, JSON input and sluice update.
. "$(dirname "$0")/lib.sh"

gen() {
	awk -v n="$1" 'BEGIN { print "id,name,amount,at"; for (i = 1; i <= n; i++) printf "%d,\"name, %d\",%d.%02d,2024-01-01T00:00:%02dZ\n", i, i, i, i % 100, i % 60 }' >"$2"
}
expect_sum() {
	awk -v n="$1" 'BEGIN { s = 0; c = 0; for (i = 1; i <= n; i++) { s += i; c += i % 100 }; printf "%d\t%d\t%d.%02d\n", n, s, s + int(c / 100), c % 100 }'
}
table() { my -e "drop table if exists $1; create table $1 (id bigint primary key, name text not null, amount decimal(14,2), at datetime(6))"; }
checksum() { my -e "select count(*), coalesce(sum(id),0), coalesce(sum(amount),0) from $1"; }
json_field() { grep -o "\"$1\": [0-9.]*" "$2" | head -1 | awk '{print $2}'; }

# W rows for the writer tests, BIG for the kills; make tsan reads 5 to 15
# times slower, so fewer rows still run long enough to strike in the middle
W=200000 BIG=600000
if [ -n "${SLUICE_TSAN:-}" ]; then W=100000 BIG=200000; fi
gen $W "$TMP/w.csv"

test_case "--workers 4 loads exactly what one worker loads"
for method in insert infile; do
	table one
	table four
	"$SLUICE" load "$TMP/w.csv" "$SLUICE_MY_URL" --table one --method $method --batch-rows 5000 -q
	assert_status "1 worker, $method" 0 $?
	"$SLUICE" load "$TMP/w.csv" "$SLUICE_MY_URL" --table four --method $method --batch-rows 5000 --workers 4 \
		--summary-json "$TMP/four.json" -q
	assert_status "4 workers, $method" 0 $?
	assert_eq "checksum, $method" "$(expect_sum $W)" "$(checksum four)"
	assert_eq "row by row identical, $method" "0" \
		"$(my -e "select count(*) from one o left join four f using (id) where f.id is null or not (o.name <=> f.name and o.amount <=> f.amount and o.at <=> f.at)")"
	assert_eq "summary JSON matches the table, $method" "$W $W" \
		"$(json_field rows_written "$TMP/four.json") $(my -e 'select count(*) from four')"
	under_tsan "4 connections" || assert_eq "4 connections" "4" "$(json_field created "$TMP/four.json")"
done
assert_eq "a timestamp with Z stored as UTC" "2024-01-01 00:00:07.000000" "$(my -e 'select at from four where id = 7')"

test_case "fewer pool slots than workers"
table waits
"$SLUICE" load "$TMP/w.csv" "$SLUICE_MY_URL" --table waits --batch-rows 2000 --workers 4 --pool-max 2 \
	--progress log --stats-interval 0.2 --summary-json "$TMP/waits.json" 2>"$TMP/waits.log"
assert_status "load" 0 $?
assert_eq "content" "$(expect_sum $W)" "$(checksum waits)"
assert_eq "never more than 2 connections" "2" "$(json_field created "$TMP/waits.json")"
if under_tsan "progress log showed waiting writers"; then :; elif grep -qE "waiting [1-9]" "$TMP/waits.log"; then pass "progress log showed waiting writers"; else fail "no waiting writers in the log"; fi

test_case "connections killed mid-run (KILL) are survived with exact content"
gen $BIG "$TMP/big.csv"
for method in insert infile; do
	table killed
	"$SLUICE" load "$TMP/big.csv" "$SLUICE_MY_URL" --table killed --method $method --batch-rows 5000 --workers 2 \
		--retries 5 --summary-json "$TMP/killed.json" --rejects "$TMP/killed.rej" -q 2>"$TMP/killed.err" &
	pid=$!
	killed=0
	for _ in $(seq 1 100); do
		sleep 0.1
		for id in $(my -e "select id from information_schema.processlist where db = 'sluice_test' and id <> connection_id() and command <> 'Daemon'"); do
			my -e "kill $id" 2>/dev/null && killed=$((killed + 1))
		done
		[ "$killed" -ge 2 ] && break
	done
	wait $pid
	rc=$?
	assert_status "survived ($method, $killed connections killed)" 0 $rc
	[ $rc = 0 ] || tail -3 "$TMP/killed.err" | sed "s/^/    /"
	[ -s "$TMP/killed.rej.log" ] && echo "    rejects: $(head -3 "$TMP/killed.rej.log")"
	assert_eq "exact content ($method)" "$(expect_sum $BIG)" "$(checksum killed)"
	errors=$(json_field errors "$TMP/killed.json")
	if [ "$killed" -ge 1 ] && [ "${errors:-0}" -ge 1 ]; then pass "pool counted broken connections ($errors)"; else fail "killed $killed, pool errors ${errors:-none}"; fi
done

test_case "SIGTERM keeps only whole batches"
table sig
"$SLUICE" load "$TMP/big.csv" "$SLUICE_MY_URL" --table sig --batch-rows 1000 --summary-json "$TMP/sig.json" -q 2>"$TMP/sig.err" &
pid=$!
for _ in $(seq 1 200); do
	[ "$(my -e "select count(*) > 0 from sig")" = 1 ] && break
	sleep 0.02
done
kill -TERM $pid
wait $pid
assert_status "SIGTERM" 143 $?
n=$(my -e "select count(*) from sig")
if [ "$n" -gt 0 ] && [ "$n" -lt $BIG ]; then pass "stopped part way ($n rows)"; else fail "rows: $n"; fi
assert_eq "only whole batches" "0" "$((n % 1000))"
assert_eq "summary matches the table" "$n" "$(json_field rows_written "$TMP/sig.json")"

test_case "JSON into MariaDB: exact numbers, nested values, --defaults"
my -e "drop table if exists mj; create table mj (id bigint primary key, amount decimal(30,6), big decimal(20,0), doc json, flag boolean, note varchar(20) default 'dflt', at datetime(3))"
printf '%s\n' '{"id": 1, "amount": 12345678901234.123456, "big": 18446744073709551615, "doc": {"a": [1, 2.50, "x"]}, "flag": true, "note": "héllo 🎉", "at": "2024-02-29T23:59:59.123+02:00"}' \
	'{"id": 2, "amount": 0.1, "big": 0, "doc": [], "flag": false, "at": null}' >"$TMP/mj.ndjson"
for method in insert infile; do
	"$SLUICE" load "$TMP/mj.ndjson" "$SLUICE_MY_URL" --table mj --method $method --defaults --truncate -q
	assert_status "load ($method)" 0 $?
	assert_eq "values ($method)" "1	12345678901234.123456	18446744073709551615	{\"a\":[1,2.50,\"x\"]}	1	héllo 🎉	2024-02-29 21:59:59.123
2	0.100000	0	[]	0	dflt	NULL" "$(my -e 'select id, amount, big, doc, flag, note, at from mj order by id')"
done

test_case "sluice update on MariaDB"
my -e "drop table if exists products; create table products (sku varchar(20), region int, price decimal(10,2), stock int, primary key (sku, region))"
awk 'BEGIN { print "sku,region,price,stock"; for (i = 1; i <= 2000; i++) printf "sku-%d,%d,%.2f,%d\n", i, i % 3, i * 1.5, i }' >"$TMP/products.csv"
"$SLUICE" load "$TMP/products.csv" "$SLUICE_MY_URL" --table products -q
{
	echo "sku,region,price,stock"
	for i in $(seq 1 1000); do
		case $i in
		500) echo "sku-$i,$((i % 3)),not-a-price,1" ;;
		*) echo "sku-$i,$((i % 3)),$i.99,$((i * 10))" ;;
		esac
	done
	echo "sku-7,1,1.00,1"          # a later row for the same key wins (one writer)
	echo "nope,1,1.00,1"           # not found
	echo "sku-1,1,1.50,1"          # matches but changes nothing: still found
} >"$TMP/upd.csv"
"$SLUICE" update "$TMP/upd.csv" "$SLUICE_MY_URL" --table products --key sku,region --batch-rows 300 \
	--rejects "$TMP/upd-rej.csv" --summary-json "$TMP/upd.json" -q
assert_status "finished with a reject and a not-found" 3 $?
assert_contains "counts" '"rows_written": 1001, "rows_rejected": 1, "rows_not_found": 1' "$(cat "$TMP/upd.json")"
assert_eq "the bad row untouched, others updated" "750.00	500	997	1.00" \
	"$(my -e "select (select price from products where sku = 'sku-500'), (select stock from products where sku = 'sku-500'), (select count(*) from products where price = stock / 10 + 0.99 and stock > 10), (select price from products where sku = 'sku-7')")"
assert_eq "rejects" "sku,region,price,stock
nope,1,1.00,1
sku-500,2,not-a-price,1" "$(head -1 "$TMP/upd-rej.csv"; tail -n +2 "$TMP/upd-rej.csv" | sort)"

test_case "--create --key of text: trailing spaces make another key; --truncate on a new table"
my -e "drop table if exists tags"
printf 'tag,n\nred,1\nred ,2\nRed,3\nred  ,4\n' >"$TMP/tags.csv"
for round in 1 2; do
	# the first run creates the table (nothing to empty yet), the second empties it
	"$SLUICE" load "$TMP/tags.csv" "$SLUICE_MY_URL" --table tags --create --truncate \
		--on-conflict update --key tag -q
	assert_status "round $round" 0 $?
	assert_eq "round $round: four keys, each with its own value" "[red]	1
[red ]	2
[Red]	3
[red  ]	4" "$(my -e "select concat('[', tag, ']'), n from tags order by n")"
done

finish
