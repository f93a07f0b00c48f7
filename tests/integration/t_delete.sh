#!/usr/bin/env bash
# tests/integration/t_delete.sh - sluice delete (keys that exist, keys that do
# not, composite keys, NULL keys, --soft, --resume) and the rules of deltas
# (--add on update and upsert, NULL + x, --add-null-as-zero) and of groups
# (adjacent or exit 2, --max-group-rows) on PostgreSQL, MariaDB and SQLite;
# the rest of each table untouched.
. "$(dirname "$0")/lib.sh"

LITE=$TMP/lite.db
LITE_URL="sqlite:$LITE"
q() {
	case $1 in
	pg) pg -c "$2" ;;
	my) my -e "$2" | tr '\t' '|' | sed 's/|NULL|/||/g' ;;
	lite) sqlite3 "$LITE" "$2" ;;
	esac
}
url() {
	case $1 in
	pg) echo "$SLUICE_PG_URL" ;;
	my) echo "$SLUICE_MY_URL" ;;
	lite) echo "$LITE_URL" ;;
	esac
}
# 3,000 rows keyed (a, b): a from 1 to 1000, b x0, x1 or x2
setup() {
	case $1 in
	pg) pg -c "drop table if exists sluice_checkpoints; drop table if exists d; create table d (a int, b varchar(10), v int, gone timestamp, primary key (a, b))" \
		-c "insert into d select i / 3 + 1, 'x' || (i % 3), i, null from generate_series(0, 2999) i" ;;
	my) my -e "DROP TABLE IF EXISTS sluice_checkpoints; DROP TABLE IF EXISTS d; CREATE TABLE d (a int, b varchar(10), v int, gone datetime, PRIMARY KEY (a, b));
		INSERT INTO d SELECT seq DIV 3 + 1, CONCAT('x', seq % 3), seq, NULL FROM seq_0_to_2999" ;;
	lite) rm -f "$LITE" && sqlite3 "$LITE" "create table d (a int, b text, v int, gone text, primary key (a, b));
		with recursive s(i) as (select 0 union all select i + 1 from s where i < 2999)
		insert into d select i / 3 + 1, 'x' || (i % 3), i, null from s" ;;
	esac
}

{
	echo "a,b,note"
	for a in $(seq 1 400); do echo "$a,x1,gone $a"; done # 400 that exist
	echo "5000,x1,no such a"
	echo "7,x9,no such b"
	echo ",x1,null a"
	echo "8,,null b"
} >"$TMP/del.csv"

for server in pg my lite; do
	URL=$(url $server)
	test_case "$server: delete by a composite key"
	setup $server
	run_sluice "$server-del" 3 delete "$TMP/del.csv" "$URL" --table d --key a,b --batch-rows 150 \
		--rejects "$TMP/del.rej" --summary-json "$TMP/del.json" -q
	assert_eq "the 400 keys are gone, the rest untouched" "2600|0|$((2999 * 3000 / 2 - (400 * 401 / 2 - 400) * 3 - 400))" \
		"$(q $server "select count(*), sum(case when b = 'x1' and a <= 400 then 1 else 0 end), sum(v) from d")"
	assert_eq "missing keys are not found, NULL keys rejected" ",x1,null a
5000,x1,no such a
7,x9,no such b
8,,null b" "$(tail -n +2 "$TMP/del.rej" | LC_ALL=C sort)"
	assert_contains "not found, with the line" "del.csv:402: not found" "$(cat "$TMP/del.rej.log")"
	assert_contains "a NULL key says so" "del.csv:404: key column \"a\" is NULL" "$(cat "$TMP/del.rej.log")"
	assert_contains "the summary counts them" '"rows_written": 400, "rows_rejected": 2, "rows_not_found": 2' \
		"$(cat "$TMP/del.json")"

	test_case "$server: --soft marks the rows instead"
	setup $server
	expr=$(case $server in lite) echo CURRENT_TIMESTAMP ;; *) echo "now()" ;; esac)
	run_sluice "$server-soft" 3 delete "$TMP/del.csv" "$URL" --table d --key a,b --soft "gone=$expr" -q
	assert_eq "400 rows marked, none deleted, the others unmarked" "3000|400|400" \
		"$(q $server "select count(*), count(gone), sum(case when gone is not null and b = 'x1' and a <= 400 then 1 else 0 end) from d")"

	test_case "$server: delete --resume run twice: the second deletes nothing"
	setup $server
	run_sluice "$server-r1" 3 delete "$TMP/del.csv" "$URL" --table d --key a,b --batch-rows 100 --resume -q
	run_sluice "$server-r2" 0 delete "$TMP/del.csv" "$URL" --table d --key a,b --resume \
		--summary-json "$TMP/r2.json" -q
	assert_contains "the rerun skips the file it finished" '"files_skipped": 1' "$(cat "$TMP/r2.json")"
	assert_eq "2,600 rows left" "2600" "$(q $server "select count(*) from d")"
done

test_case "deltas: update --add and load --on-conflict update --add on each server"
printf 'sku,qty,name\na,3,A\nb,4,B\na,-1,A2\nn,2,N\nz,,Z\n' >"$TMP/inv.csv"
for server in pg my lite; do
	URL=$(url $server)
	case $server in
	pg) pg -c "drop table if exists inv; create table inv (sku varchar(10) primary key, qty numeric(12,3), name text); insert into inv values ('a', 5.125, 'old'), ('n', null, 'n'), ('q', 1, 'q')" ;;
	my) my -e "DROP TABLE IF EXISTS inv; CREATE TABLE inv (sku varchar(10) primary key, qty decimal(12,3), name text); INSERT INTO inv VALUES ('a', 5.125, 'old'), ('n', NULL, 'n'), ('q', 1, 'q')" ;;
	lite) sqlite3 "$LITE" "drop table if exists inv; create table inv (sku text primary key, qty int, name text); insert into inv values ('a', 5, 'old'), ('n', null, 'n'), ('q', 1, 'q')" ;;
	esac
	run_sluice "$server-upsert" 3 load "$TMP/inv.csv" "$URL" --table inv --key sku --on-conflict update --add qty \
		--rejects "$TMP/inv.rej" -q
	if [ $server = lite ]; then want="a|7|A2 b|4|B n||n q|1|q"; else want="a|7.125|A2 b|4.000|B n||n q|1.000|q"; fi
	assert_eq "$server: new keys inserted, deltas added in input order, others set" "$want" \
		"$(q $server "select sku, qty, name from inv order by sku" | tr '\n' ' ' | sed 's/ $//')"
	assert_contains "$server: NULL + x is a reject with the reason" "inv.csv:5: an --add column is NULL in the table" \
		"$(cat "$TMP/inv.rej.log")"
	assert_contains "$server: a NULL delta is a reject" "inv.csv:6: --add column \"qty\" is NULL" "$(cat "$TMP/inv.rej.log")"
	run_sluice "$server-update" 3 update "$TMP/inv.csv" "$URL" --table inv --key sku --set name --add qty \
		--add-null-as-zero --rejects "$TMP/up.rej" -q
	if [ $server = lite ]; then want="a|9|A2 b|8|B n|2|N q|1|q"; else want="a|9.125|A2 b|8.000|B n|2.000|N q|1.000|q"; fi
	assert_eq "$server: update --add with NULL as zero" "$want" \
		"$(q $server "select sku, qty, name from inv order by sku" | tr '\n' ' ' | sed 's/ $//')"
done

test_case "upserts grouped: stock movements by order, an order refused whole"
# order 2's second row has a quantity no server takes: its first row (a new
# sku c) must not stay either. (A CHECK (qty >= 0) would refuse every
# negative delta here: the servers check the row an upsert would insert
# before they find the conflict.)
printf 'ord,sku,qty\n1,a,-2\n1,b,-1\n2,c,5\n2,b,lots\n3,a,-1\n3,d,7\n' >"$TMP/moves.csv"
for server in pg my; do
	URL=$(url $server)
	if [ $server = pg ]; then
		pg -c "drop table if exists stock; create table stock (sku varchar(5) primary key, qty int not null); insert into stock values ('a', 10), ('b', 10)"
	else
		my -e "DROP TABLE IF EXISTS stock; CREATE TABLE stock (sku varchar(5) primary key, qty int not null); INSERT INTO stock VALUES ('a', 10), ('b', 10)"
	fi
	run_sluice "$server-moves" 3 load "$TMP/moves.csv" "$URL" --table stock --key sku --on-conflict update \
		--add qty --group-by ord --rejects "$TMP/moves.rej" -q
	assert_eq "$server: orders 1 and 3 applied, order 2 not at all" "a|7 b|9 d|7" \
		"$(q $server "select sku, qty from stock order by sku" | tr '\n' ' ' | sed 's/ $//')"
	assert_eq "$server: both rows of order 2 rejected" "2,c,5 2,b,lots" \
		"$(tail -n +2 "$TMP/moves.rej" | tr '\n' ' ' | sed 's/ $//')"
done

test_case "groups: adjacent or exit 2; --max-group-rows rejects a group whole"
pg -c "drop table if exists acc; create table acc (id int primary key, balance int not null)" \
	-c "insert into acc select i, 100 from generate_series(1, 10) i"
printf 'tx,id,balance\n1,1,-5\n1,2,5\n2,3,-5\n1,4,5\n' >"$TMP/broken.csv"
run_sluice "broken" 2 update "$TMP/broken.csv" "$SLUICE_PG_URL" --table acc --key id --add balance --group-by tx
assert_contains "names the line and the group" "broken.csv:5: --group-by tx: its group '1' began at line 2" "$OUT"
printf 'tx,id,balance\n1,1,-5\n1,2,5\n2,3,-1\n2,4,-1\n2,5,2\n3,6,-1\n3,7,1\n' >"$TMP/big.csv"
run_sluice "big" 3 update "$TMP/big.csv" "$SLUICE_PG_URL" --table acc --key id --add balance --group-by tx \
	--max-group-rows 2 --batch-rows 1 --rejects "$TMP/big.rej"
assert_eq "the big group rejected whole, the others applied" "1|95 2|105 3|100 4|100 5|100 6|99 7|101" \
	"$(pg -c "select id, balance from acc where id <= 7 order by id" | tr '\n' ' ' | sed 's/ $//')"
assert_eq "its three rows in the rejects" "2,3,-1 2,4,-1 2,5,2" "$(tail -n +2 "$TMP/big.rej" | tr '\n' ' ' | sed 's/ $//')"

test_case "--sort-groups: a ledger whose transfers are scattered, sorted in memory"
# 30 transfers (debit, credit) with every debit first and the credits in
# reverse order; transfer 7 would overdraw account 8 (CHECK balance >= 0).
# The result must equal the run on the same file sorted by tx outside.
awk 'BEGIN { print "tx,id,balance"
	for (t = 1; t <= 30; t++) printf "%d,%d,-%d\n", t, t % 10 + 1, (t == 7 ? 1000 : t)
	for (t = 30; t >= 1; t--) printf "%d,%d,%d\n", t, (t + 3) % 10 + 1, (t == 7 ? 1000 : t) }' >"$TMP/scattered.csv"
{ head -1 "$TMP/scattered.csv"; tail -n +2 "$TMP/scattered.csv" | sort -t, -k1,1n -s; } >"$TMP/sorted.csv"
for server in pg my; do
	URL=$(url $server)
	for t in led led_sorted; do
		if [ $server = pg ]; then
			pg -c "drop table if exists $t; create table $t (id int primary key, balance numeric(10,2) not null check (balance >= 0))" \
				-c "insert into $t select i, 100 from generate_series(1, 10) i"
		else
			my -e "DROP TABLE IF EXISTS $t; CREATE TABLE $t (id int primary key, balance decimal(10,2) not null check (balance >= 0)); INSERT INTO $t SELECT seq, 100 FROM seq_1_to_10"
		fi
	done
	run_sluice "$server-unsorted" 2 update "$TMP/scattered.csv" "$URL" --table led --key id --add balance --group-by tx
	assert_contains "$server: without --sort-groups the broken group is named" "scattered.csv:33: --group-by tx: its group '29' began at line 30" "$OUT"
	run_sluice "$server-sorted" 3 update "$TMP/sorted.csv" "$URL" --table led_sorted --key id --add balance \
		--group-by tx --batch-rows 4 -q
	run_sluice "$server-sort-groups" 3 update "$TMP/scattered.csv" "$URL" --table led --key id --add balance \
		--group-by tx --sort-groups 64K --batch-rows 4 --rejects "$TMP/sg.rej" -q
	want=$(q $server "select id, balance from led_sorted order by id" | tr '\n' ' ')
	assert_eq "$server: balances equal the sorted input's" "$want" \
		"$(q $server "select id, balance from led order by id" | tr '\n' ' ')"
	assert_eq "$server: the sum unchanged, transfer 7 not applied" "1000.00|98.00" \
		"$(q $server "select sum(balance), (select balance from led where id = 8) from led" | tr '\t' '|')"
	assert_eq "$server: transfer 7 rejected whole, both rows" "7,8,-1000 7,1,1000" \
		"$(tail -n +2 "$TMP/sg.rej" | tr '\n' ' ' | sed 's/ $//')"
	assert_contains "$server: with their input line numbers" "scattered.csv:8:" "$(cat "$TMP/sg.rej.log")"
	assert_contains "$server: with their input line numbers (credit)" "scattered.csv:55:" "$(cat "$TMP/sg.rej.log")"
	run_sluice "$server-over" 2 update "$TMP/scattered.csv" "$URL" --table led_sorted --key id --add balance \
		--group-by tx --sort-groups 1K
	assert_contains "$server: an input over the bound fails naming it" "memory bound of 1024 bytes" "$OUT"
done
assert_eq "an input over the bound changes nothing" "$want" \
	"$(q my "select id, balance from led_sorted order by id" | tr '\n' ' ')"

test_case "usage errors"
run_sluice "soft-on-update" 2 update "$TMP/inv.csv" "$SLUICE_PG_URL" --table inv --key sku --soft "x=1"
assert_contains "--soft is for delete" "--soft is for sluice delete" "$OUT"
run_sluice "soft-bad" 2 delete "$TMP/inv.csv" "$SLUICE_PG_URL" --table inv --key sku --soft "gone"
assert_contains "--soft needs COL=EXPR" "--soft takes COL=EXPR" "$OUT"
run_sluice "soft-two" 2 delete "$TMP/inv.csv" "$SLUICE_PG_URL" --table inv --key sku --soft "gone=1; drop table inv"
assert_contains "--soft takes one expression" "EXPR is one expression" "$OUT"
run_sluice "add-plain" 2 load "$TMP/inv.csv" "$SLUICE_PG_URL" --table inv --add qty
assert_contains "--add on a plain load" "--add goes with sluice update" "$OUT"
run_sluice "add-key" 2 update "$TMP/inv.csv" "$SLUICE_PG_URL" --table inv --key sku --add sku
assert_contains "--add on the key" "a key column takes no delta" "$OUT"
run_sluice "delete-no-key" 2 delete "$TMP/inv.csv" "$SLUICE_PG_URL" --table inv
assert_contains "delete needs --key" "sluice delete needs --key" "$OUT"

finish
