#!/usr/bin/env bash
# tests/integration/t_mysql_rejects.sh - MariaDB: bad records of every kind
# among thousands of good ones (both methods, CSV and NDJSON), the rejects
# file reloaded, and JSON input: arrays, gzip on stdin, keys, --create.
. "$(dirname "$0")/lib.sh"

for method in insert infile; do
	test_case "bad rows among good ones, --method $method"
	my -e "drop table if exists mixed; create table mixed (id int primary key, n int not null, ts datetime, t varchar(40))"
	{
		echo "id,n,ts,t"
		for i in $(seq 1 3000); do
			case $i in
			100) echo "$i,notanumber,2024-01-01,bad int" ;;
			400) echo "$i,99999999999,2024-01-01,out of range" ;;
			777) echo "$i,1,2024-13-45,bad date" ;;
			1200) echo "$i,1,2024-01-01,this text is far too long for forty characters" ;;
			1500) echo "$i,1,2024-01-01" ;;
			1800) printf '%s,1,2024-01-01,"unterminated\n' "$i" ;;
			300) echo "1,1,2024-01-01,duplicate key" ;; # in id 1's batch: the later one is refused
			2500) echo "$i,,2024-01-01,null into not null" ;;
			2999) printf '%s,1,2024-01-01,"bad utf8 \xff"\n' "$i" ;;
			*) echo "$i,$((i * 2)),2024-01-01T10:00:00,row $i" ;;
			esac
		done
	} >"$TMP/mixed.csv"
	"$SLUICE" load "$TMP/mixed.csv" "$SLUICE_MY_URL" --method $method --batch-rows 500 --workers 2 \
		--rejects "$TMP/rejects.csv" -q
	assert_status "finished with rejects" 3 $?
	# the unterminated quote costs its own line only: the lines after it are read again
	assert_eq "good rows only" "2991" "$(my -e 'select count(*) from mixed')"
	assert_eq "no bad row loaded" "0" "$(my -e "select count(*) from mixed where t not like 'row %'")"
	assert_eq "rejected lines" "$TMP/mixed.csv:101
$TMP/mixed.csv:301
$TMP/mixed.csv:401
$TMP/mixed.csv:778
$TMP/mixed.csv:1201
$TMP/mixed.csv:1501
$TMP/mixed.csv:1801
$TMP/mixed.csv:2501
$TMP/mixed.csv:3000" "$(cut -d: -f1,2 "$TMP/rejects.csv.log" | sort -t: -k2 -n)"
	assert_eq "10 records in the rejects file (a header and 9)" "10" "$(grep -c '^[0-9i]' "$TMP/rejects.csv")"
	# fix them and load again: the table is complete
	sed -e 's/notanumber/200/' -e 's/99999999999/800/' -e 's/2024-13-45/2024-12-25/' \
		-e 's/this text is far too long for forty characters/fixed/' -e 's/^1500,1,2024-01-01$/1500,3000,2024-01-01,fixed/' \
		-e 's/^1,1,2024-01-01,duplicate key/300,600,2024-01-01,fixed/' -e 's/^2500,,/2500,5000,/' \
		-e "s/bad utf8 $(printf '\xff')/fixed/" -e 's/^1800,1,2024-01-01,"unterminated$/1800,3600,2024-01-01,fixed/' \
		"$TMP/rejects.csv" >"$TMP/fixed.csv"
	"$SLUICE" load "$TMP/fixed.csv" "$SLUICE_MY_URL" --table mixed --method $method -q
	assert_status "reload fixed rejects" 0 $?
	assert_eq "table complete" "3000|3000" "$(my -e 'select count(*), count(distinct id) from mixed' | tr '\t' '|')"
done

test_case "NDJSON with bad lines into MariaDB"
my -e "drop table if exists jm; create table jm (id int primary key, v decimal(10,2), name varchar(10))"
{
	for i in $(seq 1 2000); do
		case $i in
		10) echo '{"id": 10, "v": "x"}' ;;
		20) echo '{"id": 20, "v": 1.5,' ;;
		30) echo '[1, 2]' ;;
		40) echo '{"id": 40, "nosuch": 1}' ;;
		50) echo '{"id": 50, "name": "much too long a name"}' ;;
		*) echo "{\"id\": $i, \"v\": $i.25, \"name\": \"n$i\"}" ;;
		esac
	done
} >"$TMP/jm.ndjson"
for method in insert infile; do
	my -e "truncate jm"
	"$SLUICE" load "$TMP/jm.ndjson" "$SLUICE_MY_URL" --table jm --method $method --batch-rows 300 --rejects "$TMP/jm.rej" -q
	assert_status "finished with rejects ($method)" 3 $?
	assert_eq "good rows ($method)" "1995	2001348.75" "$(my -e 'select count(*), sum(v) from jm')"
	assert_eq "rejected lines ($method)" "10 20 30 40 50" "$(cut -d: -f2 "$TMP/jm.rej.log" | sort -n | tr '\n' ' ' | sed 's/ $//')"
	assert_contains "unknown key named" "nosuch" "$(cat "$TMP/jm.rej.log")"
	assert_eq "rejected records verbatim" '{"id": 10, "v": "x"}' "$(grep '"x"' "$TMP/jm.rej")"
done

test_case "JSON array, gzip on stdin, --ignore-unknown, exact numbers"
my -e "drop table if exists ja; create table ja (id bigint primary key, price decimal(20,6), big decimal(20,0), tags json, name text)"
printf '[\n {"id": 1, "price": 0.1, "big": 18446744073709551615, "tags": ["a", {"b": null}], "name": "Zoë", "extra": 1},\n {"id": 2, "price": 1.50, "big": 0, "tags": null, "name": "x\\ty\\u00e9"}\n]\n' | gzip -c >"$TMP/ja.bin"
"$SLUICE" load - "$SLUICE_MY_URL" --table ja --ignore-unknown -q <"$TMP/ja.bin"
assert_status "load" 0 $?
assert_eq "values" '1	0.100000	18446744073709551615	["a",{"b":null}]	Zoë
2	1.500000	0	NULL	x\tyé' "$(my -e 'select id, price, big, tags, name from ja order by id')"
# (not -q: --quiet leaves the rejects out, and says how many)
"$SLUICE" load - "$SLUICE_MY_URL" --table ja --format json <"$TMP/ja.bin" 2>"$TMP/ja.err"
assert_status "unknown key without --ignore-unknown" 3 $?
assert_contains "names the key" "extra" "$(cat "$TMP/ja.err")"

test_case "--create on MariaDB from a realistic CSV"
my -e "drop table if exists orders_new"
printf '%s\n' 'order id,customer,amount,ordered on,shipped at,gift,notes' \
	'1,Zoë Ågren,12.50,2024-01-15,2024-01-16T10:00:00Z,true,' \
	'2,"O'"'"'Brien, Pat",3.00,2024-02-29,,false,' \
	'3,Bob,1000,2023-12-31,2024-01-02 08:00:00,f,fragile' >"$TMP/orders_new.csv"
"$SLUICE" load "$TMP/orders_new.csv" "$SLUICE_MY_URL" --create -q
assert_status "load" 0 $?
assert_eq "types" 'order id	bigint
customer	longtext
amount	decimal
ordered on	date
shipped at	datetime
gift	tinyint
notes	longtext' "$(my -e "select column_name, data_type from information_schema.columns where table_schema = 'sluice_test' and table_name = 'orders_new' order by ordinal_position")"
assert_eq "values" "1	Zoë Ågren	1250	2024-01-15	2024-01-16 10:00:00	1
2	O'Brien, Pat	300	2024-02-29	NULL	0
3	Bob	100000	2023-12-31	2024-01-02 08:00:00	0" "$(my -e 'select `order id`, customer, cast(amount * 100 as signed), `ordered on`, cast(`shipped at` as datetime), gift from orders_new order by 1')"

test_case "--single-transaction on MariaDB: all or nothing, with --create and --truncate"
my -e "drop table if exists st"
printf 'id,v\n1,10\n2,20\n3,30\n' >"$TMP/st.csv"
"$SLUICE" load "$TMP/st.csv" "$SLUICE_MY_URL" --table st --create --single-transaction -q
assert_status "create and load in one transaction" 0 $?
assert_eq "loaded" "3	60" "$(my -e 'select count(*), sum(v) from st')"
printf 'id,v\n4,40\n5,oops\n6,60\n' >"$TMP/st-bad.csv"
"$SLUICE" load "$TMP/st-bad.csv" "$SLUICE_MY_URL" --table st --truncate --single-transaction -q 2>/dev/null
assert_status "a bad value fails the run" 1 $?
assert_eq "nothing changed: the truncate rolled back too" "3	60" "$(my -e 'select count(*), sum(v) from st')"
assert_eq "no XA transaction left behind" "0" "$(my -e 'xa recover' | wc -l)"
printf 'id,v\n4,40\n' >"$TMP/st-good.csv"
"$SLUICE" load "$TMP/st-good.csv" "$SLUICE_MY_URL" --table st --truncate --single-transaction -q
assert_status "truncate and load" 0 $?
assert_eq "replaced" "1	40" "$(my -e 'select count(*), sum(v) from st')"

finish
