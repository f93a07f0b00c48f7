#!/usr/bin/env bash
# tests/integration/t_mysql_plain.sh - MySQL/MariaDB writes without XA (as on
# Galera, Spider, Vitess): plain transactions, and a COMMIT whose reply is lost
# settled by looking the batch's rows up by a unique key, or the run stopped
# naming the lines whose outcome is unknown.
. "$(dirname "$0")/lib.sh"
MY_URL=$SLUICE_MY_URL

json_field() { grep -o "\"$1\": \"\\?[a-z0-9.]*" "$2" | head -1 | sed 's/.*: "\?//'; }

gen() {
	{
		echo "id,v,t"
		for i in $(seq 1 "$1"); do echo "$i,$((i * 7)),row $i"; done
	} >"$2"
}
gen 40000 "$TMP/p.csv"

test_case "?xa=off: plain transactions, exact content, the summary says so"
for method in insert infile; do
	my -e "DROP TABLE IF EXISTS plain_t; CREATE TABLE plain_t (id int primary key, v int, t varchar(20))"
	"$SLUICE" load "$TMP/p.csv" "$MY_URL?xa=off" --table plain_t --method $method --batch-rows 3000 \
		--workers 2 --summary-json "$TMP/p.json" -q
	assert_status "$method" 0 $?
	assert_eq "$method: content" "40000 5600140000" "$(my -e 'SELECT COUNT(*), SUM(v) FROM plain_t' | tr '\t' ' ')"
	assert_eq "$method: commit mode" "plain" "$(json_field commit_mode "$TMP/p.json")"
	assert_eq "$method: no XA transaction in doubt" "0" "$(my -e 'XA RECOVER' | wc -l)"
done
my -e "TRUNCATE plain_t"
"$SLUICE" load "$TMP/p.csv" "$MY_URL" --table plain_t --batch-rows 3000 --summary-json "$TMP/x.json" -q
assert_eq "by default XA where the server has it" "xa" "$(json_field commit_mode "$TMP/x.json")"

test_case "a lost COMMIT reply is settled by the primary key"
for n in 2 5; do
	my -e "DROP TABLE IF EXISTS lost_t; CREATE TABLE lost_t (id int primary key, v int, t varchar(20))"
	SLUICE_FAULT_LOSE_COMMIT=$n "$SLUICE" load "$TMP/p.csv" "$MY_URL?xa=off" --table lost_t --batch-rows 4000 \
		--summary-json "$TMP/l.json" --progress none 2>"$TMP/l.err"
	assert_status "every ${n}th commit's reply lost" 0 $?
	assert_contains "said so" "its rows are there" "$(cat "$TMP/l.err")"
	assert_eq "exact content, nothing doubled or lost" "40000 40000 5600140000" \
		"$(my -e 'SELECT COUNT(*), COUNT(DISTINCT id), SUM(v) FROM lost_t' | tr '\t' ' ')"
	assert_eq "summary counts each row once" "40000" "$(json_field rows_written "$TMP/l.json")"
done

# SLUICE_FAULT_LATE_COMMIT (a test build's hook): the COMMIT goes out
# behind a one-second statement and sluice gives its reply up at once, so
# the server would commit after sluice has looked; the old session must be
# ended first (else the look finds nothing, the retry meets the rows, and
# they are counted as refused)
test_case "a COMMIT still on its way when its reply is given up: its session ended before the look"
for resume in "" --resume; do
	my -e "DROP TABLE IF EXISTS late_t; CREATE TABLE late_t (id int primary key, v int, t varchar(20))"
	SLUICE_FAULT_LATE_COMMIT=2 "$SLUICE" load "$TMP/p.csv" "$MY_URL?xa=off" --table late_t --batch-rows 4000 \
		$resume --summary-json "$TMP/late.json" --progress none 2>"$TMP/late.err"
	rc=$?
	assert_status "${resume:-plain}: loaded, nothing refused" 0 $rc
	[ $rc = 0 ] || tail -3 "$TMP/late.err" | sed 's/^/    /'
	assert_contains "${resume:-plain}: the COMMIT was given up" "broke during COMMIT" "$(cat "$TMP/late.err")"
	assert_eq "${resume:-plain}: exact content" "40000 40000 5600140000" \
		"$(my -e 'SELECT COUNT(*), COUNT(DISTINCT id), SUM(v) FROM late_t' | tr '\t' ' ')"
	assert_eq "${resume:-plain}: summary counts each row once" "40000" "$(json_field rows_written "$TMP/late.json")"
done

test_case "a lost COMMIT with a unique key other than the primary key"
my -e "DROP TABLE IF EXISTS lost_u; CREATE TABLE lost_u (n int auto_increment primary key, id int, v int, t varchar(20), UNIQUE KEY uid (id))"
SLUICE_FAULT_LOSE_COMMIT=3 "$SLUICE" load "$TMP/p.csv" "$MY_URL?xa=off" --table lost_u --columns id,v,t --batch-rows 5000 -q 2>/dev/null
assert_status "settled by the unique key" 0 $?
assert_eq "exact content" "40000 5600140000" "$(my -e 'SELECT COUNT(*), SUM(v) FROM lost_u' | tr '\t' ' ')"

test_case "no key to look rows up by: the run stops and names the lines"
my -e "DROP TABLE IF EXISTS lost_nokey; CREATE TABLE lost_nokey (id int, v int, t varchar(20))"
SLUICE_FAULT_LOSE_COMMIT=2 "$SLUICE" load "$TMP/p.csv" "$MY_URL?xa=off" --table lost_nokey --batch-rows 4000 \
	--summary-json "$TMP/nk.json" -q 2>"$TMP/nk.err"
assert_status "stopped" 1 $?
assert_contains "names the batch's lines" "p.csv lines 4002-8001" "$(cat "$TMP/nk.err")"
assert_contains "says why" "cannot tell whether it committed" "$(cat "$TMP/nk.err")"
n=$(my -e "SELECT COUNT(*) FROM lost_nokey")
if [ "$n" = 4000 ] || [ "$n" = 8000 ]; then pass "only whole batches ($n rows), none written twice"; else fail "rows: $n"; fi
assert_eq "no row doubled" "0" "$(my -e 'SELECT COUNT(*) FROM (SELECT id FROM lost_nokey GROUP BY id HAVING COUNT(*) > 1) d')"

test_case "an upsert's lost COMMIT cannot be settled by looking: stop"
my -e "DROP TABLE IF EXISTS lost_up; CREATE TABLE lost_up (id int primary key, v int, t varchar(20))"
SLUICE_FAULT_LOSE_COMMIT=2 "$SLUICE" load "$TMP/p.csv" "$MY_URL?xa=off" --table lost_up --on-conflict update --key id \
	--batch-rows 4000 -q 2>"$TMP/up.err"
assert_status "stopped" 1 $?
assert_contains "names the lines" "p.csv lines 4002-8001" "$(cat "$TMP/up.err")"

test_case "xa takes on or off"
"$SLUICE" ping "$MY_URL?xa=maybe" 2>/dev/null
assert_status "bad value" 2 $?
"$SLUICE" ping "$MY_URL?xa=off" >/dev/null
assert_status "ping with xa=off" 0 $?

finish
