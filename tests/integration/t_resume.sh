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
for i in $(seq 1 $N); do echo "{\"id\": $i, \"v\": $((i * 3)), \"t\": \"row $i\"}"; done >"$TMP/r.ndjson"

pg_table() { pg -c "drop table if exists $1; create table $1 (id int, v bigint, t text)"; }
# a pause per batch (2000 rows), so a kill lands in the middle of a run
pg_slow() {
	pg -c "create or replace function slow() returns trigger language plpgsql as \$\$ begin perform pg_sleep(0.03); return null; end \$\$" \
		-c "create trigger slow after insert on $1 for each statement execute function slow()"
}
my_slow() {
	my -e "CREATE TRIGGER slow_$1 BEFORE INSERT ON $1 FOR EACH ROW SET @slow = IF(NEW.id % 2000 = 0, SLEEP(0.03), 0)"
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

# a file with --workers 3; gzip, with the server restarted between the runs;
# NDJSON from stdin
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
				(cat "$TMP/r.ndjson"; sleep 0.3) | "$SLUICE" load - "$URL" --table res --resume --batch-rows "$1" \
					--format ndjson --summary-json "$TMP/s.json" -q 2>"$TMP/err" &
			else
				"$SLUICE" load "$src" "$URL" --table res --resume --batch-rows "$1" --workers 3 \
					--summary-json "$TMP/s.json" -q 2>"$TMP/err" &
			fi
		}
		# slow the writes so the kill lands in the middle
		run 2000
		at=$(kill_midway $! ${server}_count res)
		now=$(${server}_count res)
		if [ "$now" -gt 0 ] && [ "$now" -lt $N ]; then pass "killed in the middle ($now rows in)"; else fail "rows at the kill: $now"; fi
		if [ $((now % 2000)) -eq 0 ]; then pass "only whole batches"; else fail "$now rows: not whole batches"; fi
		if [ $input = gzip ]; then
			"$ROOT/scripts/servers.sh" restart "$([ $server = pg ] && echo pg || echo mariadb)"
			assert_status "the server restarted between the runs" 0 $?
		fi
		# again, with another batch size
		if [ $input = stdin ]; then
			"$SLUICE" load - "$URL" --table res --resume --batch-rows 7000 --format ndjson \
				--summary-json "$TMP/s.json" -q <"$TMP/r.ndjson"
		else
			"$SLUICE" load "$src" "$URL" --table res --resume --batch-rows 7000 --summary-json "$TMP/s.json" -q
		fi
		assert_status "rerun" 0 $?
		assert_eq "every record once" "$EXPECT" "$(${server}_content res)"
		assert_eq "the rerun skipped what was in" "$now" "$(jf rows_resumed "$TMP/s.json")"
		assert_eq "and wrote the rest" "$((N - now))" "$(jf rows_written "$TMP/s.json")"
		# a third run writes nothing
		if [ $input = stdin ]; then
			"$SLUICE" load - "$URL" --table res --resume --format ndjson --summary-json "$TMP/s3.json" \
				-q <"$TMP/r.ndjson"
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

# kill_after PID MIN COUNT_CMD: SIGKILL the run once more than MIN rows are committed
kill_after() {
	local pid=$1 min=$2
	shift 2
	for _ in $(seq 1 500); do
		n=$("$@" 2>/dev/null || echo 0)
		if [ "${n:-0}" -gt "$min" ]; then break; fi
		sleep 0.02
	done
	kill -9 "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
}

test_case "--resume --workers 3, killed twice, run again with --workers 3: every record once"
# writers slower than the reader (a pause per statement), so the three
# claim their checkpoint rows at the same time: the statement of one must
# not be built in memory another is writing (it came out as ""luice_checkpoints)
for server in pg my; do
	URL=$SLUICE_PG_URL
	[ $server = my ] && URL=$SLUICE_MY_URL
	${server}_table w3
	${server}_slow w3
	drop_checkpoints $server
	before=0
	for kill in 1 2; do
		"$SLUICE" load "$TMP/r.csv" "$URL" --table w3 --resume --batch-rows 1000 --workers 3 -q \
			2>"$TMP/w3.err" &
		kill_after $! "$before" ${server}_count w3
		now=$(${server}_count w3)
		if [ "$now" -gt "$before" ] && [ "$now" -lt $N ]; then pass "$server: kill $kill in the middle ($now rows in)"; else fail "$server: kill $kill: $before then $now rows"; fi
		before=$now
	done
	"$SLUICE" load "$TMP/r.csv" "$URL" --table w3 --resume --batch-rows 1000 --workers 3 \
		--summary-json "$TMP/w3.json" -q 2>"$TMP/w3.err"
	rc=$?
	[ $rc = 0 ] || sed 's/^/    /' "$TMP/w3.err" | tail -3
	assert_status "$server: the rerun" 0 $rc
	assert_eq "$server: every record once" "$EXPECT" "$(${server}_content w3)"
	assert_eq "$server: it skipped what the killed runs committed" "$before $((N - before))" \
		"$(jf rows_resumed "$TMP/w3.json") $(jf rows_written "$TMP/w3.json")"
	drop_checkpoints $server
done

test_case "--on-conflict update with --resume: killed mid-run, run again: each key once, its last value"
# the input has every key twice: a first value, and later the last one
{
	echo "id,v,t"
	for i in $(seq 1 $((N / 2))); do echo "$i,0,first"; done
	for i in $(seq 1 $((N / 2))); do echo "$i,$((i * 3)),row $i"; done
} >"$TMP/up.csv"
for server in pg my; do
	URL=$SLUICE_PG_URL
	[ $server = my ] && URL=$SLUICE_MY_URL
	if [ $server = pg ]; then
		pg -c "drop table if exists rup" -c "create table rup (id int primary key, v bigint, t text)"
		pg_slow rup
	else
		my -e "DROP TABLE IF EXISTS rup; CREATE TABLE rup (id int PRIMARY KEY, v bigint, t varchar(30))"
		my_slow rup
	fi
	drop_checkpoints $server
	"$SLUICE" load "$TMP/up.csv" "$URL" --table rup --on-conflict update --key id --resume --batch-rows 2000 \
		--workers 2 -q 2>/dev/null &
	at=$(kill_midway $! ${server}_count rup)
	now=$(${server}_count rup)
	if [ "$now" -gt 0 ] && [ "$now" -lt $((N / 2)) ]; then pass "$server: killed in the middle ($now keys in)"; else fail "$server: keys at the kill: $now"; fi
	"$SLUICE" load "$TMP/up.csv" "$URL" --table rup --on-conflict update --key id --resume --batch-rows 5000 -q
	assert_status "$server: rerun" 0 $?
	assert_eq "$server: each key once, with its last value" "$((N / 2)) $((N / 2)) $((N / 4 * (N / 2 + 1) * 3)) 0" \
		"$(${server}_content rup) $(if [ $server = pg ]; then pg -c "select count(*) from rup where t = 'first'"; else my -e "SELECT COUNT(*) FROM rup WHERE t = 'first'"; fi)"
	drop_checkpoints $server
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

test_case "three processes share the load; one killed midway; a rerun completes it"
for server in pg my; do
	URL=$SLUICE_PG_URL
	[ $server = my ] && URL=$SLUICE_MY_URL
	${server}_table shared
	${server}_slow shared
	drop_checkpoints $server
	for p in a b c; do
		"$SLUICE" load "$TMP/r.csv" "$URL" --table shared --resume --batch-rows 3000 --job shared \
			--summary-json "$TMP/$p.json" -q 2>"$TMP/$p.err" &
		eval "pid_$p=$!"
	done
	at=$(kill_midway "$pid_c" ${server}_count shared)
	if [ "$at" -lt $N ]; then pass "$server: one killed in the middle ($at rows in)"; else fail "$server: killed after the end"; fi
	wait "$pid_a"
	ra=$?
	wait "$pid_b"
	rb=$?
	assert_eq "$server: the other two finished" "0 0" "$ra $rb"
	[ "$ra $rb" = "0 0" ] || cat "$TMP/a.err" "$TMP/b.err" >&2
	"$SLUICE" load "$TMP/r.csv" "$URL" --table shared --resume --batch-rows 3000 --job shared -q
	assert_status "$server: the rerun" 0 $?
	assert_eq "$server: every record once" "$EXPECT" "$(${server}_content shared)"
	q="select count(*), count(distinct first_rec), sum(end_rec - first_rec), sum(rows_written) from sluice_checkpoints where kind = 1"
	if [ $server = pg ]; then got=$(pg -F ' ' -c "$q"); else got=$(my -e "$q" | tr '\t' ' '); fi
	assert_eq "$server: every batch in the checkpoint table once" "20 20 $N $N" "$got"
	drop_checkpoints $server
done

test_case "runs that create the checkpoint table at the same moment all start"
# PostgreSQL's CREATE TABLE IF NOT EXISTS refuses a run that raced another
# one's CREATE ("type ... already exists", a unique violation, "relation
# ... already exists"); a window of microseconds, so many rounds of 8
head -3 "$TMP/r.csv" >"$TMP/tiny.csv"
pg_table race
failed=0
for round in $(seq 1 10); do
	drop_checkpoints pg
	pids=
	for p in 1 2 3 4 5 6 7 8; do
		"$SLUICE" load "$TMP/tiny.csv" "$SLUICE_PG_URL" --table race --resume --job "race$p" -q 2>>"$TMP/race.err" &
		pids="$pids $!"
	done
	for p in $pids; do wait "$p" || failed=$((failed + 1)); done
done
assert_eq "every run started and loaded (10 rounds x 8)" "0" "$failed"
[ "$failed" = 0 ] || head -3 "$TMP/race.err" >&2
assert_eq "every run's two rows once" "160 240" "$(pg -F ' ' -c 'select count(*), sum(id) from race')"
drop_checkpoints pg

test_case "three processes x two writers, batches that fall differently; all killed, rerun"
# each process cuts its own batches (--batch-rows 3000, 2000, 1700), so a
# batch of one meets ranges another committed in part: the rest of it is
# still written, by someone, once
for server in pg my; do
	URL=$SLUICE_PG_URL
	[ $server = my ] && URL=$SLUICE_MY_URL
	${server}_table sh2
	${server}_slow sh2
	drop_checkpoints $server
	ckq="select coalesce(sum(end_rec - first_rec), 0), coalesce(sum(rows_written), 0) from sluice_checkpoints where kind = 1"
	ck() { if [ $server = pg ]; then pg -F ' ' -c "$ckq"; else my -e "$ckq" | tr '\t' ' '; fi; }
	# rows: the three's batch sizes, killed once 12,000 rows are in
	pids=()
	for rows in 3000 2000 1700; do
		"$SLUICE" load "$TMP/r.csv" "$URL" --table sh2 --resume --job sh2 --workers 2 \
			--batch-rows $rows -q 2>"$TMP/k$rows.err" &
		pids+=($!)
	done
	for _ in $(seq 1 1000); do
		n=$(${server}_count sh2 2>/dev/null || echo 0)
		[ "${n:-0}" -ge 12000 ] && break
		sleep 0.01
	done
	kill -9 "${pids[@]}" 2>/dev/null
	wait "${pids[@]}" 2>/dev/null
	at=$(${server}_count sh2)
	if [ "$at" -gt 0 ] && [ "$at" -lt $N ]; then pass "$server: killed mid-run ($at rows in)"; else fail "$server: killed with $at rows in"; fi
	pids=()
	for rows in 3000 2000 1700; do
		"$SLUICE" load "$TMP/r.csv" "$URL" --table sh2 --resume --job sh2 --workers 2 \
			--batch-rows $rows --summary-json "$TMP/s$rows.json" -q 2>"$TMP/s$rows.err" &
		pids+=($!)
	done
	codes=""
	for pid in "${pids[@]}"; do
		wait "$pid"
		codes="$codes $?"
	done
	assert_eq "$server: the three reruns finished" " 0 0 0" "$codes"
	assert_eq "$server: every record once" "$EXPECT" "$(${server}_content sh2)"
	got=$(ck)
	assert_eq "$server: the checkpoint ranges cover every record once" "$N $N" "$got"
	written=0
	for rows in 3000 2000 1700; do written=$((written + $(jf rows_written "$TMP/s$rows.json"))); done
	assert_eq "$server: between them the reruns wrote what the kill left, once" "$((N - at))" "$written"
	drop_checkpoints $server
done

test_case "a lost COMMIT is settled by the checkpoint row (no key, no XA sent)"
my_table lost
my -e "SET GLOBAL log_output = 'FILE'; SET GLOBAL general_log_file = '$TMP/general.log'; SET GLOBAL general_log = 1"
SLUICE_FAULT_LOSE_COMMIT=3 "$SLUICE" load "$TMP/r.csv" "$SLUICE_MY_URL" --table lost --resume \
	--batch-rows 5000 --progress none --summary-json "$TMP/lost.json" 2>"$TMP/lost.err"
assert_status "settled" 0 $?
my -e "SET GLOBAL general_log = 0"
assert_contains "by its checkpoint row" "checkpoint row says it" "$(cat "$TMP/lost.err")"
assert_eq "every record once" "$EXPECT" "$(my_content lost)"
assert_contains "the server saw the batches" "INSERT INTO" "$(cat "$TMP/general.log")"
assert_eq "and no XA statement" "0" "$(grep -ci 'XA START\|XA COMMIT' "$TMP/general.log")"
assert_contains "plain commits" '"commit_mode": "plain"' "$(cat "$TMP/lost.json")"
my -e "DROP TABLE sluice_checkpoints"

test_case "sluice checkpoints lists the jobs; --forget starts one over"
for server in pg my; do
	URL=$SLUICE_PG_URL
	[ $server = my ] && URL=$SLUICE_MY_URL
	drop_checkpoints $server
	"$SLUICE" checkpoints "$URL" >"$TMP/ck0.out" 2>"$TMP/ck0.err"
	assert_status "$server: no checkpoint table yet" 0 $?
	assert_contains "$server: says so" "no checkpoint table" "$(cat "$TMP/ck0.err")"
	${server}_table ckl
	head -10001 "$TMP/r.csv" >"$TMP/ck_a.csv"
	{ head -1 "$TMP/r.csv"; sed -n '10002,13001p' "$TMP/r.csv"; } >"$TMP/ck_b.csv"
	"$SLUICE" load "$TMP/ck_a.csv" "$TMP/ck_b.csv" "$URL" --table ckl --resume --job nightly --batch-rows 4000 -q
	"$SLUICE" load "$TMP/ck_a.csv" "$URL" --table ckl --resume --job other --batch-rows 4000 -q
	"$SLUICE" checkpoints "$URL" >"$TMP/ck.out"
	assert_status "$server: listed" 0 $?
	# a batch that spans two files is a checkpoint row in each
	assert_eq "$server: a line per job and file: batches, rows, whole" "job source batches rows state
nightly $TMP/ck_a.csv 3 10000 whole
nightly $TMP/ck_b.csv 2 3000 whole
other $TMP/ck_a.csv 3 10000 whole" "$(cut -f1-5 "$TMP/ck.out" | tr '\t' ' ')"
	assert_contains "$server: when" "$(date -u +%Y-%m-%d)" "$(sed -n 2p "$TMP/ck.out")"
	"$SLUICE" checkpoints "$URL" --job other | cut -f1 >"$TMP/ck1.out"
	assert_eq "$server: --job narrows it" "job
other" "$(cat "$TMP/ck1.out")"
	"$SLUICE" checkpoints "$URL" --forget 2>/dev/null
	assert_status "$server: --forget needs --job" 2 $?
	"$SLUICE" checkpoints "$URL" --job nightly --forget -q
	assert_status "$server: forgotten" 0 $?
	assert_eq "$server: only the other job is left" "other" "$("$SLUICE" checkpoints "$URL" | cut -f1 | sed 1d | sort -u)"
	"$SLUICE" load "$TMP/ck_a.csv" "$TMP/ck_b.csv" "$URL" --table ckl --resume --job nightly --truncate \
		--summary-json "$TMP/ckt.json" -q
	assert_eq "$server: a forgotten job starts over (and --truncate empties the table)" "13000" "$(${server}_count ckl)"
	drop_checkpoints $server
done

test_case "--truncate with --resume empties the table only when the job begins"
pg_table rtr
pg_slow rtr
"$SLUICE" load "$TMP/r.csv" "$SLUICE_PG_URL" --table rtr --resume --truncate --batch-rows 2000 -q 2>/dev/null &
at=$(kill_midway $! pg_count rtr)
now=$(pg_count rtr)
if [ "$now" -gt 0 ] && [ "$now" -lt $N ]; then pass "killed in the middle ($now rows in)"; else fail "rows at the kill: $now"; fi
"$SLUICE" load "$TMP/r.csv" "$SLUICE_PG_URL" --table rtr --resume --truncate --batch-rows 2000 \
	--progress none 2>"$TMP/rtr.err"
assert_status "the rerun" 0 $?
assert_eq "the committed rows kept, every record once" "$EXPECT" "$(pg_content rtr)"
assert_contains "and it says why it did not empty the table" "without emptying" "$(cat "$TMP/rtr.err")"
drop_checkpoints pg

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

test_case "copy --resume: killed mid-table, run again with other workers: every row once"
my -e "DROP TABLE IF EXISTS cr_keyed, cr_loose; CREATE TABLE cr_keyed (id int PRIMARY KEY, v bigint, t varchar(30));
	INSERT INTO cr_keyed SELECT seq * 7, seq * 3, concat('row ', seq) FROM seq_1_to_$N;
	CREATE TABLE cr_loose (a int, b varchar(20)); INSERT INTO cr_loose SELECT seq, concat('b', seq) FROM seq_1_to_20000"
pg -c "drop table if exists cr_keyed, cr_loose, sluice_checkpoints" \
	-c "create table cr_keyed (id int primary key, v bigint, t text)" \
	-c "create table cr_loose (a int, b text)"
pg_slow cr_keyed
pg_slow cr_loose
"$SLUICE" copy "$SLUICE_MY_URL" "$SLUICE_PG_URL" --tables cr_keyed,cr_loose --resume --workers 2 \
	--split-rows 20000 --batch-rows 2000 --progress none 2>/dev/null &
at=$(kill_midway $! pg_count cr_keyed)
now=$(pg_count cr_keyed)
if [ "$now" -gt 0 ] && [ "$now" -lt $N ]; then pass "killed in the middle ($now rows in)"; else fail "rows at the kill: $now"; fi
loose=$(pg_count cr_loose)
if [ "$loose" = 0 ] || [ "$loose" = 20000 ]; then pass "a table without an integer key: all or nothing ($loose)"; else fail "cr_loose has $loose rows"; fi
"$SLUICE" copy "$SLUICE_MY_URL" "$SLUICE_PG_URL" --tables cr_keyed,cr_loose --resume --batch-rows 7000 \
	--verify --summary-json "$TMP/cr.json" -q >"$TMP/cr.out"
assert_status "the rerun, one worker" 0 $?
assert_eq "every row once" "$N $N $((N * (N + 1) / 2 * 3)) $((N * (N + 1) / 2 * 7))" \
	"$(pg -F ' ' -c 'select count(*), count(distinct id), sum(v), sum(id) from cr_keyed')"
assert_eq "the table without a key" "20000 200010000" "$(pg -F ' ' -c 'select count(*), sum(a) from cr_loose')"
assert_eq "sluice verify agrees" "cr_keyed match
cr_loose match" "$(cut -f1,4 "$TMP/cr.out" | tr '\t' ' ')"
assert_eq "the rerun skipped what was in" "$now" "$(jf rows_resumed "$TMP/cr.json")"
"$SLUICE" copy "$SLUICE_MY_URL" "$SLUICE_PG_URL" --tables cr_keyed,cr_loose --resume \
	--summary-json "$TMP/cr3.json" -q
assert_status "a third run" 0 $?
assert_eq "skips both tables" "$(printf '%s\n' 1 1)" "$(grep -o '"files_skipped": [0-9]*' "$TMP/cr3.json" | sed 's/.*: //')"
assert_eq "nothing doubled" "$N" "$(pg_count cr_keyed)"
assert_contains "sluice checkpoints lists the tables" "cr_keyed" "$("$SLUICE" checkpoints "$SLUICE_PG_URL" | grep whole)"
drop_checkpoints pg

test_case "two identical copy --resume runs at once: one copies, the other waits for it, then skips"
# tables_json FIELD FILE: FIELD of each table of a summary, on one line
tables_json() { grep -o "\"$1\": [0-9]*" "$2" | sed 's/.*: //' | paste -sd' '; }
my -e "DROP TABLE IF EXISTS cc_keyed, cc_loose; CREATE TABLE cc_keyed (id int PRIMARY KEY, v bigint, t varchar(30));
	INSERT INTO cc_keyed SELECT seq * 7, seq * 3, concat('row ', seq) FROM seq_1_to_$N;
	CREATE TABLE cc_loose (a int, b varchar(20)); INSERT INTO cc_loose SELECT seq, concat('b', seq) FROM seq_1_to_20000"
cc_run() { # cc_run NAME [OPTION...]: the copy, in the background
	local name=$1
	shift
	"$SLUICE" copy "$SLUICE_MY_URL" "$SLUICE_PG_URL" --tables cc_keyed,cc_loose --resume --workers 2 \
		--split-rows 20000 --batch-rows 2000 --progress none --summary-json "$TMP/$name.json" "$@" \
		2>"$TMP/$name.err" &
}
for end in finishes killed; do
	pg -c "drop table if exists cc_keyed, cc_loose, sluice_checkpoints" \
		-c "create table cc_keyed (id int primary key, v bigint, t text)" \
		-c "create table cc_loose (a int, b text)"
	pg_slow cc_keyed
	pg_slow cc_loose
	cc_run first
	first=$!
	# the second starts once the first has committed rows, not all of them
	for _ in $(seq 1 400); do
		[ "$(pg_count cc_keyed)" -gt 0 ] && break
		sleep 0.02
	done
	cc_run second
	second=$!
	at=$(pg_count cc_keyed)
	if [ "$at" -gt 0 ] && [ "$at" -lt $N ]; then pass "$end: the second started in the middle of the first ($at rows in)"; else fail "$end: the second started at $at rows"; fi
	for _ in $(seq 1 100); do
		grep -q "being run by another process" "$TMP/second.err" && break
		sleep 0.05
	done
	assert_contains "$end: the second says it waits for the first" "is being run by another process" "$(cat "$TMP/second.err")"
	if [ $end = killed ]; then
		kill -9 $first
		wait $first 2>/dev/null
		left=$(pg_count cc_keyed)
		if [ "$left" -lt $N ]; then pass "killed the first in the middle ($left rows in)"; else fail "the first had finished ($left rows)"; fi
	else
		wait $first
		assert_status "$end: the first" 0 $?
		assert_eq "$end: the first copied every row" "$N 20000" "$(tables_json rows_written "$TMP/first.json")"
	fi
	wait $second
	rc=$?
	[ $rc = 0 ] || sed 's/^/    /' "$TMP/second.err" | tail -3
	assert_status "$end: the second" 0 $rc
	assert_eq "$end: every row once" "$N $N $((N * (N + 1) / 2 * 3)) 20000 20000" \
		"$(pg -F ' ' -c 'select count(*), count(distinct id), sum(v) from cc_keyed') $(pg -F ' ' -c 'select count(*), count(distinct a) from cc_loose')"
	if [ $end = finishes ]; then
		assert_eq "the second skipped both tables, copied whole" "1 1 0 0 0 0" \
			"$(tables_json files_skipped "$TMP/second.json") $(tables_json rows_written "$TMP/second.json") $(tables_json rows_resumed "$TMP/second.json")"
		assert_contains "and says by whom" "copied whole by an earlier run" "$(cat "$TMP/second.err")"
	else
		# what the killed run committed, the second resumed; it wrote the rest
		read -r resumed _ <<<"$(tables_json rows_resumed "$TMP/second.json")"
		read -r written _ <<<"$(tables_json rows_written "$TMP/second.json")"
		assert_eq "the second resumed what the first committed and wrote the rest" "$left $N" "$resumed $((resumed + written))"
	fi
done
pg -c "drop table cc_keyed, cc_loose, sluice_checkpoints"
my -e "DROP TABLE cc_keyed, cc_loose"

test_case "two identical copy --resume --create runs at once, into MariaDB: one creates, every row once"
pg -c "drop table if exists cm_src" \
	-c "create table cm_src (id bigint primary key, code text, t text)" \
	-c "insert into cm_src select i, 'c' || i, 'row ' || i from generate_series(1, $N) i" \
	-c "create index cm_src_code on cm_src (code)"
my -e "DROP TABLE IF EXISTS cm_src"
drop_checkpoints my
for r in a b; do
	"$SLUICE" copy "$SLUICE_PG_URL" "$SLUICE_MY_URL" --tables cm_src --create --resume --workers 2 --split-rows 20000 \
		--batch-rows 2000 --progress none --summary-json "$TMP/cm_$r.json" 2>"$TMP/cm_$r.err" &
	eval "cm_$r=\$!"
done
wait $cm_a
ra=$?
wait $cm_b
rb=$?
assert_eq "both finish" "0 0" "$ra $rb"
assert_eq "one waited for the other" "1" "$(cat "$TMP/cm_a.err" "$TMP/cm_b.err" | grep -c 'being run by another process')"
assert_eq "one copied the rows, the other none" "0 $N" "$( (jf rows_written "$TMP/cm_a.json"; jf rows_written "$TMP/cm_b.json") | sort -n | paste -sd' ')"
assert_eq "every row once" "$N $N $((N * (N + 1) / 2))" "$(my -e "SELECT COUNT(*), COUNT(DISTINCT id), SUM(id) FROM cm_src" | tr '\t' ' ')"
assert_eq "its index once" "1" "$(my -e "SELECT COUNT(DISTINCT index_name) FROM information_schema.statistics WHERE table_schema = 'sluice_test' AND table_name = 'cm_src' AND index_name = 'cm_src_code'")"
assert_not_contains "no error" "sluice: error" "$(cat "$TMP/cm_a.err" "$TMP/cm_b.err")"
pg -c "drop table cm_src"
my -e "DROP TABLE cm_src"
drop_checkpoints my

test_case "copy --resume --create: a copy stopped by a bad row goes on; the indexes follow"
pg -c "drop table if exists cr_src" \
	-c "create table cr_src (id bigint primary key, code text, t text)" \
	-c "insert into cr_src select i, 'c' || i, 'row ' || i from generate_series(1, $N) i" \
	-c "create index cr_src_code on cr_src (code)" \
	-c "update cr_src set t = repeat('x', 40) where id = 31234"
my -e "DROP TABLE IF EXISTS cr_src"
drop_checkpoints my
# t lands in a varchar(30): the long value in the middle stops the copy
"$SLUICE" copy "$SLUICE_PG_URL" "$SLUICE_MY_URL" --tables cr_src --create --resume --cast text=varchar\(30\) \
	--batch-rows 5000 --progress none 2>"$TMP/crc.err"
assert_status "stopped by the bad row" 1 $?
part=$(my_count cr_src)
if [ "$part" -ge 30000 ] && [ "$part" -lt $N ]; then pass "stopped in the middle ($part rows in)"; else fail "$part rows in"; fi
assert_eq "no index yet" "0" "$(my -e "SELECT COUNT(*) FROM information_schema.statistics WHERE table_schema = 'sluice_test' AND table_name = 'cr_src' AND index_name = 'cr_src_code'")"
pg -c "update cr_src set t = 'fixed' where id = 31234"
"$SLUICE" copy "$SLUICE_PG_URL" "$SLUICE_MY_URL" --tables cr_src --create --resume --cast text=varchar\(30\) \
	--verify -q >"$TMP/crc.out"
assert_status "the rerun" 0 $?
assert_eq "every row once, the fixed one too" "$N $N $((N * (N + 1) / 2)) fixed" \
	"$(my -e "SELECT COUNT(*), COUNT(DISTINCT id), SUM(id), (SELECT t FROM cr_src WHERE id = 31234) FROM cr_src" | tr '\t' ' ')"
assert_eq "the index of the table the job created" "1" "$(my -e "SELECT COUNT(DISTINCT index_name) FROM information_schema.statistics WHERE table_schema = 'sluice_test' AND table_name = 'cr_src' AND index_name = 'cr_src_code'")"
assert_eq "sluice verify agrees" "match" "$(cut -f4 "$TMP/crc.out")"
drop_checkpoints my

finish
