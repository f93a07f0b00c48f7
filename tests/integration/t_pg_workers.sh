#!/usr/bin/env bash
# tests/integration/t_pg_workers.sh - parallel writers, the pool, progress,
# the summary JSON, signals and broken connections, against PostgreSQL.
. "$(dirname "$0")/lib.sh"
export PGTZ=UTC

gen() { # gen N FILE: N rows id,name,amount,at
	awk -v n="$1" 'BEGIN { print "id,name,amount,at"; for (i = 1; i <= n; i++) printf "%d,\"name, %d\",%d.%02d,2024-01-01T00:00:%02dZ\n", i, i, i, i % 100, i % 60 }' >"$2"
}
expect_sum() { # the checksum of rows 1..N
	awk -v n="$1" 'BEGIN { s = 0; c = 0; for (i = 1; i <= n; i++) { s += i; c += i % 100 }; printf "%d|%d|%d.%02d\n", n, s, s + int(c / 100), c % 100 }'
}
table() { pg -c "drop table if exists $1; create table $1 (id bigint primary key, name text not null, amount numeric(14,2), at timestamptz)"; }
checksum() { pg -c "select count(*), coalesce(sum(id),0), coalesce(sum(amount),0) from $1"; }
json_field() { grep -o "\"$1\": [0-9.]*" "$2" | head -1 | awk '{print $2}'; }

# W rows for the writer tests, BIG for the kills; make tsan reads 5 to 15
# times slower, so fewer rows still run long enough to strike in the middle
W=200000 BIG=600000
if [ -n "${SLUICE_TSAN:-}" ]; then W=100000 BIG=200000; fi
gen $W "$TMP/w.csv"

test_case "--workers 4 loads exactly what one worker loads"
for method in copy insert; do
	table one
	table four
	"$SLUICE" load "$TMP/w.csv" "$SLUICE_PG_URL" --table one --method $method --batch-rows 5000 -q
	assert_status "1 worker, $method" 0 $?
	"$SLUICE" load "$TMP/w.csv" "$SLUICE_PG_URL" --table four --method $method --batch-rows 5000 --workers 4 \
		--summary-json "$TMP/four.json" -q
	assert_status "4 workers, $method" 0 $?
	assert_eq "same checksum as expected, $method" "$(expect_sum $W)" "$(checksum four)"
	assert_eq "row by row identical, $method" "0" \
		"$(pg -c "select count(*) from (select * from one except select * from four union all select * from four except select * from one) d")"
	assert_eq "summary JSON matches the table, $method" "$W $W" \
		"$(json_field rows_written "$TMP/four.json") $(pg -c 'select count(*) from four')"
	under_tsan "pool used 4 connections" ||
		assert_eq "pool used 4 connections" "4" "$(json_field created "$TMP/four.json")"
done

test_case "fewer pool slots than workers: writers wait, limit holds"
table waits
"$SLUICE" load "$TMP/w.csv" "$SLUICE_PG_URL" --table waits --method insert --batch-rows 2000 --workers 4 \
	--pool-max 2 --progress log --stats-interval 0.2 --summary-json "$TMP/waits.json" 2>"$TMP/waits.log"
assert_status "load" 0 $?
assert_eq "content" "$(expect_sum $W)" "$(checksum waits)"
assert_eq "never more than 2 connections" "2" "$(json_field created "$TMP/waits.json")"
if under_tsan "progress log showed waiting writers"; then :; elif grep -qE "waiting [1-9]" "$TMP/waits.log"; then pass "progress log showed waiting writers"; else fail "no waiting writers in: $(head -3 "$TMP/waits.log")"; fi
wait_max=$(json_field acquire_wait_max_ms "$TMP/waits.json")
if awk -v w="$wait_max" 'BEGIN { exit !(w > 0) }'; then pass "acquire wait recorded ($wait_max ms)"; else fail "acquire wait max is $wait_max"; fi
assert_eq "acquires = batches + the table check before reading" "$((W / 2000 + 1))" "$(json_field acquires "$TMP/waits.json")"

test_case "--acquire-timeout: a writer that waits too long fails the run"
table tmo
# one slot, two writers, batches slow enough to outlast a tiny timeout: a
# pause of a second per statement keeps the slot longer than the reader
# takes to fill the next batch, however slow the reader (make tsan)
pg -c "create or replace function slow_tmo() returns trigger language plpgsql as \$\$ begin perform pg_sleep(1); return null; end \$\$" \
	-c "create trigger slow after insert on tmo for each statement execute function slow_tmo()"
"$SLUICE" load "$TMP/w.csv" "$SLUICE_PG_URL" --table tmo --method insert --batch-rows 50000 --workers 2 \
	--pool-max 1 --acquire-timeout 0.01 -q 2>"$TMP/tmo.err"
assert_status "timed out" 1 $?
assert_contains "says so" "acquire-timeout" "$(cat "$TMP/tmo.err")"
n=$(pg -c "select count(*) from tmo")
assert_eq "only whole batches" "0" "$((n % 50000))"

test_case "connections killed mid-run are survived with exact content"
gen $BIG "$TMP/big.csv"
for method in copy insert; do
	table killed
	"$SLUICE" load "$TMP/big.csv" "$SLUICE_PG_URL" --table killed --method $method --batch-rows 5000 --workers 2 \
		--retries 5 --summary-json "$TMP/killed.json" -q 2>"$TMP/killed.err" &
	pid=$!
	# mid-run: once the first batches are in (a connection killed
	# before them, while the table is described, is t_faults' case)
	for _ in $(seq 1 400); do
		[ "$(pg -c "select count(*) > 0 from killed")" = t ] && break
		sleep 0.025
	done
	n=$(pg -c "select count(*) from killed")
	if [ "$n" -gt 0 ] && [ "$n" -lt $BIG ]; then pass "killing in the middle ($n rows in, $method)"; else fail "rows before the kills: $n ($method)"; fi
	killed=0
	for _ in $(seq 1 100); do
		k=$(pg -c "select count(pg_terminate_backend(pid)) from pg_stat_activity where application_name = 'sluice' and pid <> pg_backend_pid()")
		killed=$((killed + k))
		[ "$killed" -ge 2 ] && break
		sleep 0.1
	done
	wait $pid
	rc=$?
	[ $rc -ne 0 ] && sed 's/^/    /' "$TMP/killed.err" | tail -5
	assert_status "survived ($method, $killed backends killed)" 0 $rc
	assert_eq "exact content ($method)" "$(expect_sum $BIG)" "$(checksum killed)"
	reconnects=$(json_field errors "$TMP/killed.json")
	if [ "$killed" -ge 1 ] && [ "${reconnects:-0}" -ge 1 ]; then pass "pool counted the broken connections ($reconnects)"; else fail "killed $killed, pool errors ${reconnects:-none}"; fi
done

test_case "a PostgreSQL restart mid-run is survived with exact content"
table restarted
# a pause per statement, so the restart strikes while rows are committed and
# the input is not read to the end
pg -c "create or replace function slow_stmt() returns trigger language plpgsql as \$\$ begin perform pg_sleep(0.02); return null; end \$\$" \
	-c "create trigger slow after insert on restarted for each statement execute function slow_stmt()"
"$SLUICE" load "$TMP/big.csv" "$SLUICE_PG_URL" --table restarted --method insert --batch-rows 5000 --workers 2 \
	--retries 8 --summary-json "$TMP/restart.json" -q 2>"$TMP/restart.err" &
pid=$!
for _ in $(seq 1 300); do
	[ "$(pg -c "select count(*) >= 20000 from restarted" 2>/dev/null)" = t ] && break
	sleep 0.02
done
n=$(pg -c "select count(*) from restarted")
if [ "$n" -gt 0 ] && [ "$n" -lt $BIG ]; then pass "restarting in the middle ($n rows in)"; else fail "rows before the restart: $n"; fi
"$ROOT/scripts/servers.sh" restart pg
wait $pid
rc=$?
[ $rc -ne 0 ] && sed 's/^/    /' "$TMP/restart.err" | tail -5
assert_status "survived the restart" 0 $rc
assert_eq "exact content" "$(expect_sum $BIG)" "$(checksum restarted)"
reconnects=$(json_field reconnects "$TMP/restart.json")
if [ "${reconnects:-0}" -ge 1 ]; then pass "reconnected ($reconnects)"; else fail "no reconnect counted: $(cat "$TMP/restart.json")"; fi

test_case "SIGTERM rolls back batches in flight, keeps whole batches, reports"
for sig in TERM INT; do
	table sig
	"$SLUICE" load "$TMP/big.csv" "$SLUICE_PG_URL" --table sig --method insert --batch-rows 1000 --workers 1 \
		--summary-json "$TMP/sig.json" -q 2>"$TMP/sig.err" &
	pid=$!
	# signal it once the first batches are in, well before the end
	for _ in $(seq 1 200); do
		[ "$(pg -c "select count(*) > 0 from sig")" = t ] && break
		sleep 0.02
	done
	kill -$sig $pid
	wait $pid
	rc=$?
	[ $sig = TERM ] && want=143 || want=130
	assert_status "SIG$sig" $want $rc
	n=$(pg -c "select count(*) from sig")
	if [ "$n" -gt 0 ] && [ "$n" -lt $BIG ]; then pass "stopped part way ($n rows)"; else fail "rows: $n"; fi
	assert_eq "only whole batches (SIG$sig)" "0" "$((n % 1000))"
	assert_eq "summary written and matches the table" "$n" "$(json_field rows_written "$TMP/sig.json")"
	assert_contains "says it was interrupted" "interrupted" "$(cat "$TMP/sig.err")"
done

test_case "SIGKILL at several points leaves only whole committed batches"
for delay in 0.2 0.5 0.9; do
	table k9
	"$SLUICE" load "$TMP/big.csv" "$SLUICE_PG_URL" --table k9 --method copy --batch-rows 7000 --workers 2 -q &
	pid=$!
	sleep $delay
	kill -9 $pid 2>/dev/null
	wait $pid 2>/dev/null
	n=$(pg -c "select count(*) from k9")
	[ "$n" -eq $BIG ] && n=0 # finished before the kill: complete is fine too
	assert_eq "after ${delay}s: $n rows, a multiple of 7000" "0" "$((n % 7000))"
	# the rows present are exactly whole batches of consecutive ids
	assert_eq "after ${delay}s: batches are whole" "0" \
		"$(pg -c "select count(*) from (select (id - 1) / 7000 b, count(*) c from k9 group by 1) x where c <> 7000 and b < $BIG / 7000")"
done

test_case "progress bar on a terminal (forced), nothing on stdout"
table bar
out=$("$SLUICE" load "$TMP/w.csv" "$SLUICE_PG_URL" --table bar --progress bar --batch-rows 5000 2>"$TMP/bar.err")
assert_status "load" 0 $?
assert_eq "stdout stays empty" "" "$out"
assert_contains "redrawn line with percent and pool" "pool " "$(tr '\r' '\n' <"$TMP/bar.err")"
assert_contains "summary table" "status ok" "$(cat "$TMP/bar.err")"
# the pool's counters are for -v (and the JSON): the usual summary is short
assert_not_contains "no pool statistics in the summary" "pool: total" "$(cat "$TMP/bar.err")"
table bar
"$SLUICE" load "$TMP/w.csv" "$SLUICE_PG_URL" --table bar --progress none --batch-rows 5000 -v 2>"$TMP/bar.err"
assert_contains "pool statistics in the summary with -v" "pool: total" "$(cat "$TMP/bar.err")"

finish
