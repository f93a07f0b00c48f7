#!/usr/bin/env bash
# tests/integration/t_resume.sh - --resume: a run killed at any moment and run
# again loads every record exactly once, whatever the batch size, for files,
# gzip and stdin; file sets load only what is new; a changed file is an
# error; two processes running the same command share the load; a lost
# COMMIT is settled by the checkpoint row. Tables have no unique key, so a
# doubled row would show.
. "$(dirname "$0")/lib.sh"

N=60000
{
	echo "id,v,t"
	for i in $(seq 1 $N); do echo "$i,$((i * 3)),row $i"; done
} >"$TMP/r.csv"
EXPECT="$N $N $((N * (N + 1) / 2 * 3))"
gzip -c "$TMP/r.csv" >"$TMP/r.csv.gz"

pg_table() { pg -c "drop table if exists $1; create table $1 (id int, v bigint, t text)"; }
# a pause per batch (2000 rows), so a kill lands in the middle of a run
pg_slow() {
	pg -c "create or replace function slow() returns trigger language plpgsql as \$\$ begin perform pg_sleep(0.03); return null; end \$\$" \
		-c "create trigger slow after insert on $1 for each statement execute function slow()"
}
my_slow() {
	my -e "CREATE TRIGGER slow_$1 BEFORE INSERT ON $1 FOR EACH ROW BEGIN IF NEW.id % 2000 = 0 THEN DO SLEEP(0.03); END IF; END"
}
drop_checkpoints() {
	if [ "$1" = pg ]; then pg -c "drop table if exists sluice_checkpoints"; else my -e "DROP TABLE IF EXISTS sluice_checkpoints"; fi
}
pg_content() { pg -F ' ' -c "select count(*), count(distinct id), coalesce(sum(v), 0) from $1"; }
my_table() { my -e "DROP TABLE IF EXISTS $1; CREATE TABLE $1 (id int, v bigint, t varchar(30))"; }
my_content() { my -e "SELECT COUNT(*), COUNT(DISTINCT id), COALESCE(SUM(v), 0) FROM $1" | tr '\t' ' '; }
jf() { grep -o "\"$1\": [0-9]*" "$2" | head -1 | sed 's/.*: //'; }

# kill_midway PID COUNT_CMD: SIGKILL the run once some rows are committed
kill_midway() {
	local pid=$1
	shift
	for _ in $(seq 1 400); do
		n=$("$@" 2>/dev/null || echo 0)
		if [ "${n:-0}" -gt 0 ]; then break; fi
		sleep 0.02
	done
	kill -9 "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	echo "$n"
}
pg_count() { pg -c "select count(*) from $1"; }
my_count() { my -e "SELECT COUNT(*) FROM $1"; }

for server in pg my; do
	URL=$SLUICE_PG_URL
	[ $server = my ] && URL=$SLUICE_MY_URL
	for input in file gzip stdin; do
		test_case "$server: killed mid-run ($input), run again: every record once"
		${server}_table res
		${server}_slow res
		drop_checkpoints $server
		src="$TMP/r.csv"
		[ $input = gzip ] && src="$TMP/r.csv.gz"
		run() {
			if [ $input = stdin ]; then
				(cat "$TMP/r.csv"; sleep 0.3) | "$SLUICE" load - "$URL" --table res --resume --batch-rows "$1" \
					--summary-json "$TMP/s.json" -q 2>"$TMP/err" &
			else
				"$SLUICE" load "$src" "$URL" --table res --resume --batch-rows "$1" --workers 2 \
					--summary-json "$TMP/s.json" -q 2>"$TMP/err" &
			fi
		}
		# slow the writes so the kill lands in the middle
		run 2000
		at=$(kill_midway $! ${server}_count res)
		now=$(${server}_count res)
		if [ "$now" -gt 0 ] && [ "$now" -lt $N ]; then pass "killed in the middle ($now rows in)"; else fail "rows at the kill: $now"; fi
		if [ $((now % 2000)) -eq 0 ]; then pass "only whole batches"; else fail "$now rows: not whole batches"; fi
		# again, with another batch size
		if [ $input = stdin ]; then
			"$SLUICE" load - "$URL" --table res --resume --batch-rows 7000 --summary-json "$TMP/s.json" -q <"$TMP/r.csv"
		else
			"$SLUICE" load "$src" "$URL" --table res --resume --batch-rows 7000 --summary-json "$TMP/s.json" -q
		fi
		assert_status "rerun" 0 $?
		assert_eq "every record once" "$EXPECT" "$(${server}_content res)"
		assert_eq "the rerun skipped what was in" "$now" "$(jf rows_resumed "$TMP/s.json")"
		assert_eq "and wrote the rest" "$((N - now))" "$(jf rows_written "$TMP/s.json")"
		# a third run writes nothing
		if [ $input = stdin ]; then
			"$SLUICE" load - "$URL" --table res --resume --summary-json "$TMP/s3.json" -q <"$TMP/r.csv"
		else
			"$SLUICE" load "$src" "$URL" --table res --resume --summary-json "$TMP/s3.json" -q
		fi
		assert_status "third run" 0 $?
		assert_eq "nothing more" "$EXPECT" "$(${server}_content res)"
		assert_eq "nothing written" "0" "$(jf rows_written "$TMP/s3.json")"
		if [ $input != stdin ]; then
			assert_eq "the file is skipped whole" "1" "$(jf files_skipped "$TMP/s3.json")"
		fi
		drop_checkpoints $server
	done
done

test_case "an incremental file set: only new files load; a changed file is an error"
mkdir -p "$TMP/in"
for f in a b; do
	{ echo "id,v,t"; for i in $(seq 1 100); do echo "$i,1,$f"; done; } >"$TMP/in/$f.csv"
done
pg_table inc
"$SLUICE" load "$TMP"/in/*.csv "$SLUICE_PG_URL" --table inc --resume -q
assert_status "first night" 0 $?
{ echo "id,v,t"; for i in $(seq 1 100); do echo "$i,1,c"; done; } >"$TMP/in/c.csv"
"$SLUICE" load "$TMP"/in/*.csv "$SLUICE_PG_URL" --table inc --resume --summary-json "$TMP/inc.json" -q
assert_status "second night" 0 $?
assert_eq "a and b once, c new" "a|100
b|100
c|100" "$(pg -c 'select t, count(*) from inc group by t order by t')"
assert_eq "two files skipped" "2" "$(jf files_skipped "$TMP/inc.json")"
echo "101,1,a" >>"$TMP/in/a.csv"
"$SLUICE" load "$TMP"/in/*.csv "$SLUICE_PG_URL" --table inc --resume -q 2>"$TMP/chg.err"
assert_status "a changed file" 2 $?
assert_contains "names it" "a.csv changed" "$(cat "$TMP/chg.err")"
assert_eq "nothing loaded twice" "300" "$(pg -c 'select count(*) from inc')"
pg -c "drop table sluice_checkpoints"

test_case "two processes running the same command share the load"
for server in pg my; do
	URL=$SLUICE_PG_URL
	[ $server = my ] && URL=$SLUICE_MY_URL
	${server}_table shared
	${server}_slow shared
	drop_checkpoints $server
	"$SLUICE" load "$TMP/r.csv" "$URL" --table shared --resume --batch-rows 3000 --job shared \
		--summary-json "$TMP/a.json" -q &
	a=$!
	"$SLUICE" load "$TMP/r.csv" "$URL" --table shared --resume --batch-rows 3000 --job shared \
		--summary-json "$TMP/b.json" -q &
	b=$!
	wait $a
	ra=$?
	wait $b
	rb=$?
	assert_eq "$server: both finished" "0 0" "$ra $rb"
	assert_eq "$server: every record once" "$EXPECT" "$(${server}_content shared)"
	assert_eq "$server: written once between them" "$N" \
		"$(($(jf rows_written "$TMP/a.json") + $(jf rows_written "$TMP/b.json")))"
	drop_checkpoints $server
done

test_case "a lost COMMIT is settled by the checkpoint row (no key, no XA)"
my_table lost
SLUICE_FAULT_LOSE_COMMIT=3 "$SLUICE" load "$TMP/r.csv" "$SLUICE_MY_URL?xa=off" --table lost --resume \
	--batch-rows 5000 --progress none 2>"$TMP/lost.err"
assert_status "settled" 0 $?
assert_contains "by its checkpoint row" "checkpoint row says it" "$(cat "$TMP/lost.err")"
assert_eq "every record once" "$EXPECT" "$(my_content lost)"
my -e "DROP TABLE sluice_checkpoints"

test_case "--checkpoint-table and --job"
pg_table named
"$SLUICE" load "$TMP/r.csv" "$SLUICE_PG_URL" --table named --resume --job nightly --checkpoint-table ops.ckpt -q 2>"$TMP/ns.err"
assert_status "a schema that does not exist" 1 $?
pg -c "create schema if not exists ops"
"$SLUICE" load "$TMP/r.csv" "$SLUICE_PG_URL" --table named --resume --job nightly --checkpoint-table ops.ckpt -q
assert_status "load" 0 $?
assert_eq "the job's rows in ops.ckpt" "nightly" "$(pg -c 'select distinct job from ops.ckpt')"
"$SLUICE" load "$TMP/r.csv" "$SLUICE_PG_URL" --table named --job x -q 2>/dev/null
assert_status "--job without --resume" 2 $?
pg -c "drop schema ops cascade"

finish
