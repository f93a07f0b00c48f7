#!/usr/bin/env bash
# tests/integration/t_pg_update.sh - sluice update against PostgreSQL: rows
# updated by key, --set, not-found rows, bad values bisected, all-or-nothing.
. "$(dirname "$0")/lib.sh"
export PGTZ=UTC

setup() {
	pg -c "drop table if exists products; create table products (sku text, region int, name text not null, price numeric(10,2), stock int, updated timestamptz, primary key (sku, region))"
	pg -c "insert into products select 'sku-' || i, i % 3, 'product ' || i, i * 1.5, i, '2020-01-01Z' from generate_series(1, 5000) i"
}

test_case "update by a composite key, not-found rows reported"
setup
{
	echo "sku,region,price,stock,updated"
	for i in $(seq 1 3000); do echo "sku-$i,$((i % 3)),$i.99,$((i * 10)),2024-06-01T12:00:00Z"; done
	echo "sku-9999,1,1.00,1,2024-06-01T12:00:00Z"   # no such product
	echo "sku-10,2,1.00,1,2024-06-01T12:00:00Z"     # sku exists, region does not match
} >"$TMP/changes.csv"
"$SLUICE" update "$TMP/changes.csv" "$SLUICE_PG_URL" --table products --key sku,region --batch-rows 700 \
	--rejects "$TMP/nf.csv" --summary-json "$TMP/u.json" -q
assert_status "finished with not-found rows" 3 $?
assert_eq "updated rows" "3000|4504470.00|45015000" \
	"$(pg -c "select count(*), sum(price), sum(stock) from products where updated = '2024-06-01T12:00:00Z'")"
assert_eq "untouched rows" "2000|12001500.00|8001000" \
	"$(pg -c "select count(*), sum(price), sum(stock) from products where updated = '2020-01-01Z'")"
assert_eq "one row exactly" "sku-7|1|product 7|7.99|70" "$(pg -c "select sku, region, name, price, stock from products where sku = 'sku-7'")"
assert_eq "not-found rows in the rejects file" "sku,region,price,stock,updated
sku-9999,1,1.00,1,2024-06-01T12:00:00Z
sku-10,2,1.00,1,2024-06-01T12:00:00Z" "$(cat "$TMP/nf.csv")"
assert_contains "with the reason and line" "changes.csv:3003: not found" "$(cat "$TMP/nf.csv.log")"
assert_contains "summary counts them" '"rows_written": 3000, "rows_rejected": 0, "rows_not_found": 2' "$(cat "$TMP/u.json")"

test_case "keys that match nothing: one line, not one per key"
{
	echo "sku,region,price"
	for i in $(seq 1 500); do echo "nope-$i,1,1.00"; done
	echo "sku-3,0,3.50"
} >"$TMP/nf2.csv"
"$SLUICE" update "$TMP/nf2.csv" "$SLUICE_PG_URL" --table products --key sku,region --progress log \
	2>"$TMP/nf2.err"
assert_status "finished with not-found rows" 3 $?
assert_eq "no line per key" "0" "$(grep -c 'nope-\|not found: no row' "$TMP/nf2.err")"
assert_contains "and where they are listed" "500 keys matched no row (not found); --rejects FILE lists their lines" "$(cat "$TMP/nf2.err")"
assert_eq "the matching key still updated" "3.50" "$(pg -c "select price from products where sku = 'sku-3' and region = 0")"

test_case "--set narrows the columns; --workers 3"
setup
"$SLUICE" update "$TMP/changes.csv" "$SLUICE_PG_URL" --table products --key sku,region --set stock \
	--batch-rows 500 --workers 3 -q 2>/dev/null
assert_status "finished" 3 $?
assert_eq "only stock changed" "3000|6752250.00|45015000" \
	"$(pg -c "select count(*), sum(price), sum(stock) from products where updated = '2020-01-01Z' and stock = substr(sku, 5)::int * 10")"

test_case "bad values are bisected out; good rows commit"
setup
{
	echo "sku,region,price"
	for i in $(seq 1 1000); do
		case $i in
		250) echo "sku-$i,$((i % 3)),not-a-price" ;;
		600) echo "sku-$i,$((i % 3)),123456789012.00" ;;  # too big for numeric(10,2)
		*) echo "sku-$i,$((i % 3)),0.50" ;;
		esac
	done
} >"$TMP/bad.csv"
for method_workers in 1 2; do
	setup
	"$SLUICE" update "$TMP/bad.csv" "$SLUICE_PG_URL" --table products --key sku,region --batch-rows 300 \
		--workers $method_workers --rejects "$TMP/bad-rejects.csv" -q
	assert_status "finished with rejects ($method_workers workers)" 3 $?
	assert_eq "998 rows updated" "998" "$(pg -c "select count(*) from products where price = 0.50")"
	assert_eq "bad rows untouched" "375.00|900.00" \
		"$(pg -c "select (select price from products where sku = 'sku-250'), (select price from products where sku = 'sku-600')")"
	assert_eq "rejects" "sku,region,price
sku-250,1,not-a-price
sku-600,0,123456789012.00" "$(head -1 "$TMP/bad-rejects.csv"; tail -n +2 "$TMP/bad-rejects.csv" | sort)"
done

test_case "--single-transaction: all or nothing"
setup
"$SLUICE" update "$TMP/bad.csv" "$SLUICE_PG_URL" --table products --key sku,region --single-transaction -q 2>/dev/null
assert_status "failed" 1 $?
assert_eq "nothing changed" "0" "$(pg -c "select count(*) from products where price = 0.50")"
head -100 "$TMP/bad.csv" >"$TMP/good.csv"
"$SLUICE" update "$TMP/good.csv" "$SLUICE_PG_URL" --table products --key sku,region --single-transaction -q
assert_status "good file" 0 $?
assert_eq "all changed" "99" "$(pg -c "select count(*) from products where price = 0.50")"

test_case "an update takes a value as COPY does: too long is an error, never cut"
# the same values loaded by COPY and set by an update: each row ends the same
# way on both paths (stored alike, or rejected by both)
i=0
printf 'id,s,b,c\n' >"$TMP/vals.csv"
for s in toolong ok abcde ""; do for b in 101 10110 1 111; do for c in a abcd ab abc; do
	i=$((i + 1))
	printf '%d,%s,%s,%s\n' "$i" "$s" "$b" "$c" >>"$TMP/vals.csv"
done; done; done
pg -c "drop table if exists cut_load, cut_upd" \
	-c "create table cut_load (id int primary key, s varchar(5), b bit(3), c char(3))" \
	-c "create table cut_upd (like cut_load including all)" \
	-c "insert into cut_upd select i, 'o', '000', 'o' from generate_series(1, $i) i"
"$SLUICE" load "$TMP/vals.csv" "$SLUICE_PG_URL" --table cut_load -q 2>/dev/null
"$SLUICE" update "$TMP/vals.csv" "$SLUICE_PG_URL" --table cut_upd --key id -q 2>/dev/null
assert_status "some rejected" 3 $?
assert_eq "not vacuous: both paths stored some rows" "yes" \
	"$([ "$(pg -c 'select count(*) from cut_load')" -gt 5 ] && echo yes)"
assert_eq "every row as COPY left it" "" "$(pg -c "select l.id, l.s, u.s, l.b, u.b, l.c, u.c from cut_load l full join (select * from cut_upd where s is distinct from 'o') u using (id) where l is distinct from u or l.id is null or u.id is null")"

test_case "usage errors"
"$SLUICE" update "$TMP/good.csv" "$SLUICE_PG_URL" --table products 2>/dev/null
assert_status "no --key" 2 $?
"$SLUICE" update "$TMP/good.csv" "$SLUICE_PG_URL" --table products --key nosuch 2>/dev/null
assert_status "unknown key column" 2 $?
out=$("$SLUICE" update "$TMP/good.csv" "$SLUICE_PG_URL" --table products --key sku,region --dry-run 2>/dev/null)
assert_contains "dry run prints the UPDATE" 'UPDATE "products" SET "price" = $1 WHERE "sku" = $2 AND "region" = $3' "$out"

finish
