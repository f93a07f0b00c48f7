#!/usr/bin/env bash
# tests/integration/t_hang.sh - "Never hang, never lose": a stopped
# PostgreSQL backend, a MariaDB table locked by another session and silent
# listeners end in a retry or a clear failure within --timeout (never a
# hang); the progress log says when a run is stalled; a rejects file or a
# summary that cannot be written fails the run; a full tablespace stops it
# with only whole batches in; a MariaDB restart is survived.
#
# What a stopped backend does to a run, decided: --timeout S turns its
# silence into a broken connection; the batch is retried on a fresh one.
# Stopped for ever, the retry waits on the stopped transaction's row locks
# (or the COMMIT's outcome cannot be told while it is "in progress"), so
# the run fails with exit 1 within about timeout x (retries + 1) and names
# the server and what it was doing. Stopped for a while, the retry goes on
# once the old backend wakes up (it finds its socket closed and rolls
# back), and the run finishes with exact content.
#
# Every sluice run is bounded by timeout(1): a hang fails the test.
. "$(dirname "$0")/lib.sh"

PG_RED="postgresql://postgres@127.0.0.1:$SLUICE_PG_PORT/postgres"
MY_RED="mysql://root@127.0.0.1:${SLUICE_MY_PORT:-33069}/sluice_test"
STOPPED=""  # backends stopped with SIGSTOP, continued on exit
MOUNTS=""   # tmpfs mounted here, unmounted on exit
TS=""       # a tablespace's directory outside $TMP (the server must reach it)
BG=""       # helper processes, killed on exit
cleanup() {
	local p m
	for p in $STOPPED; do kill -CONT "$p" 2>/dev/null; done
	for p in $BG; do kill "$p" 2>/dev/null; done
	unlock 2>/dev/null
	for m in $MOUNTS; do umount "$m" 2>/dev/null; done
	rm -rf "$TMP" ${TS:+"$TS"}
}
trap cleanup EXIT

now() { date +%s.%N; }
# elapsed T0: seconds since T0, one decimal
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
# within WHAT SECS LIMIT: SECS < LIMIT
within() { if awk -v s="$2" -v l="$3" 'BEGIN { exit !(s < l) }'; then pass "$1 (${2}s)"; else fail "$1: took ${2}s, limit ${3}s"; fi; }
# rows CSV N: a header and ids 1..N
rows() { awk -v n="$2" 'BEGIN { print "id,v"; for (i = 1; i <= n; i++) printf "%d,value %d\n", i, i }' >"$1"; }
# slow_rows FIFO N: ids 1..N into FIFO, 1000 every 50 ms
# slow_rows FILE N [PAUSE]: N rows "id,v" into FILE, a pause (0.05 s) every 1000
slow_rows() { awk -v n="$2" -v p="${3:-0.05}" 'BEGIN { print "id,v"; for (i = 1; i <= n; i++) { printf "%d,value %d\n", i, i; if (i % 1000 == 0) { fflush(); system("sleep " p) } } }' >"$1" 2>/dev/null; }
# exact N: "N|N*(N+1)/2", a table's count and sum of ids when it holds 1..N once
exact() { echo "$1|$(($1 * ($1 + 1) / 2))"; }
# wait_for CMD...: until CMD prints 1 or t (up to 10 s)
wait_for() {
	local _
	for _ in $(seq 1 200); do
		case "$("$@" 2>/dev/null)" in 1 | t) return 0 ;; esac
		sleep 0.05
	done
	return 1
}
# unlock: end the sessions holding a MariaDB table lock (killing the client
# alone leaves its SLEEP running on the server)
unlock() {
	local id
	for id in $(my -e "select id from information_schema.processlist where info like 'select sleep(%'"); do
		my -e "kill $id" 2>/dev/null
	done
}
# stop_in_copy: SIGSTOP sluice's backend while it runs a COPY (the slow
# trigger keeps it there ~95% of the time); its pid in BPID
stop_in_copy() {
	local _
	BPID=""
	for _ in $(seq 1 500); do
		BPID=$(pg -c "select pid from pg_stat_activity where application_name = 'sluice' and state = 'active' and query like '%COPY %' limit 1")
		[ -n "$BPID" ] && kill -STOP "$BPID" && STOPPED="$BPID" && return 0
		sleep 0.01
	done
	return 1
}
# err_has WHAT NEEDLE: the last run's stderr ($TMP/err) holds NEEDLE
err_has() { assert_contains "$1" "$2" "$(cat "$TMP/err")"; }

###########################################################################
test_case "PostgreSQL backend stopped for ever: exit 1 within the timeout, naming the server"
# a statement trigger that sleeps keeps the backend inside each COPY, so
# the stop lands in one (it is handled anywhere, but exit codes differ)
pg -c "drop table if exists h_stop" -c "create table h_stop (id int primary key, v text)" \
	-c "create or replace function h_slow() returns trigger language plpgsql as \$\$ begin perform pg_sleep(0.2); return null; end \$\$" \
	-c "create trigger h_slow after insert on h_stop for each statement execute function h_slow()"
rows "$TMP/h.csv" 10000
timeout -s KILL 40 "$SLUICE" load "$TMP/h.csv" "$SLUICE_PG_URL" --table h_stop --batch-rows 500 \
	--timeout 3 --retries 1 -q 2>"$TMP/err" &
pid=$!
wait_for pg -c "select count(*) > 0 from h_stop"
stop_in_copy
t0=$(now)
wait $pid
RC=$?
secs=$(elapsed "$t0")
assert_status "stopped backend" 1 $RC
within "ended within timeout x (retries + 1) and change" "$secs" 15
err_has "names the server" "$PG_RED"
err_has "says it had no reply for 3 s" "no reply from the server for 3 s"
assert_contains "says what it was doing" "yes" "$(grep -qE 'COPY failed|running COMMIT|COMMIT failed|still in progress' "$TMP/err" && echo yes)"
kill -CONT "$BPID"
STOPPED=""
sleep 0.3
assert_eq "only whole batches" "0" "$(pg -c 'select count(*) % 500 from h_stop')"

test_case "PostgreSQL backend stopped longer than --timeout, then continued: exact content"
pg -c "truncate h_stop"
timeout -s KILL 40 "$SLUICE" load "$TMP/h.csv" "$SLUICE_PG_URL" --table h_stop --batch-rows 500 \
	--timeout 2 --retries 5 --summary-json "$TMP/rec.json" -q 2>"$TMP/err" &
pid=$!
wait_for pg -c "select count(*) > 0 from h_stop"
stop_in_copy
sleep 4.5
kill -CONT "$BPID"
STOPPED=""
wait $pid
RC=$?
assert_status "recovered" 0 $RC
[ $RC = 0 ] || sed 's/^/    /' "$TMP/err" | tail -3
assert_eq "exact content" "$(exact 10000)" "$(pg -c 'select count(*), sum(id) from h_stop')"
assert_contains "the timeout broke a connection, the batch was retried" "yes" \
	"$(grep -qE '"errors": [1-9]' "$TMP/rec.json" && echo yes)"
pg -c "drop table h_stop"

###########################################################################
test_case "MariaDB table locked by another session for ever: exit 1 within the timeout"
my -e "drop table if exists h_lock; create table h_lock (id int primary key, v varchar(20))"
rm -f "$TMP/fifo"
mkfifo "$TMP/fifo"
slow_rows "$TMP/fifo" 1000000 &
gen=$!
timeout -s KILL 40 "$SLUICE" load - "$SLUICE_MY_URL" --table h_lock --format csv --batch-rows 500 \
	--timeout 3 --retries 1 -q <"$TMP/fifo" 2>"$TMP/err" &
pid=$!
wait_for my -e "select count(*) > 0 from h_lock"
my -e "lock tables h_lock write; select sleep(60)" >/dev/null 2>&1 &
locker=$!
BG="$locker $gen"
t0=$(now)
wait $pid
RC=$?
secs=$(elapsed "$t0")
unlock
kill $gen $locker 2>/dev/null
wait $gen $locker 2>/dev/null
BG=""
assert_status "locked table" 1 $RC
within "ended within timeout x (retries + 1) and change" "$secs" 15
err_has "names the server" "$MY_RED"
err_has "says it had no reply for 3 s" "no reply from the server for 3 s"
err_has "says what it was doing" "INSERT failed"
assert_eq "only whole batches" "0" "$(my -e 'select count(*) % 500 from h_lock')"
assert_eq "no XA transaction left" "" "$(my -e 'xa recover')"

test_case "MariaDB stalled 14 s with --timeout 0: the progress log says so, the run finishes exactly"
my -e "truncate h_lock"
rm -f "$TMP/fifo"
mkfifo "$TMP/fifo"
# the input comes for about 9 s, so the lock strikes in the middle
slow_rows "$TMP/fifo" 30000 0.3 &
gen=$!
timeout -s KILL 50 "$SLUICE" load - "$SLUICE_MY_URL" --table h_lock --format csv --batch-rows 500 \
	--timeout 0 --progress log --stats-interval 0.5 <"$TMP/fifo" 2>"$TMP/err" &
pid=$!
BG="$gen"
wait_for my -e "select count(*) > 0 from h_lock"
n=$(my -e "select count(*) from h_lock")
if [ "$n" -gt 0 ] && [ "$n" -lt 30000 ]; then pass "locked in the middle ($n rows in)"; else fail "rows at the lock: $n"; fi
my -e "lock tables h_lock write; select sleep(14)" >/dev/null 2>&1
wait $pid
RC=$?
wait $gen 2>/dev/null
BG=""
assert_status "finished after the stall" 0 $RC
assert_eq "exact content" "$(exact 30000 | tr '|' '\t')" "$(my -e 'select count(*), sum(id) from h_lock')"
line=$(grep -m1 "stalled 1[0-9] s" "$TMP/err")
assert_contains "a log line says stalled, waiting on the server" "waiting on $MY_RED" "$line"
my -e "drop table h_lock"

###########################################################################
test_case "a connect to a server that never answers times out"
python3 -c '
import socket, sys, time
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(16)
print(s.getsockname()[1], flush=True)
time.sleep(120)' >"$TMP/port" &
BG=$!
for _ in $(seq 1 100); do [ -s "$TMP/port" ] && break; sleep 0.05; done
port=$(cat "$TMP/port")
for url in "postgresql://postgres@127.0.0.1:$port/postgres" "mysql://root@127.0.0.1:$port/sluice_test"; do
	t0=$(now)
	timeout -s KILL 20 "$SLUICE" ping --timeout 2 "$url" >/dev/null 2>"$TMP/err"
	RC=$?
	assert_status "ping ${url%%:*}" 1 $RC
	within "gave up after the timeout (${url%%:*})" "$(elapsed "$t0")" 6
	err_has "names the server (${url%%:*})" "127.0.0.1:$port"
done
kill $BG 2>/dev/null
BG=""

###########################################################################
# full disks: tmpfs mounts need root
if [ "$(id -u)" -eq 0 ]; then
	test_case "a rejects file on a full disk fails the run, naming the file"
	FULL=$TMP/full
	mkdir -p "$FULL"
	mount -t tmpfs -o size=64k tmpfs "$FULL" && MOUNTS="$FULL"
	# 20000 rows, every other one with a field too many: 10000 rejects
	awk 'BEGIN { print "id,v"; for (i = 1; i <= 20000; i++) printf (i % 2 ? "%d,v%d\n" : "%d,v%d,extra\n"), i, i }' >"$TMP/half.csv"
	pg -c "drop table if exists h_rej" -c "create table h_rej (id int primary key, v text)"
	timeout -s KILL 40 "$SLUICE" load "$TMP/half.csv" "$SLUICE_PG_URL" --table h_rej --rejects "$FULL/rej.csv" \
		--summary-json "$TMP/rej.json" -q 2>"$TMP/err"
	RC=$?
	assert_status "rejects on a full disk" 1 $RC
	err_has "names the file" "$FULL/rej.csv"
	err_has "says why" "No space left on device"
	assert_contains "summary status failed" '"status": "failed"' "$(cat "$TMP/rej.json")"
	# own: MariaDB, server-side rejects (a value too long), two workers
	rm -f "$FULL"/*
	my -e "drop table if exists h_rej; create table h_rej (id int primary key, v varchar(5))"
	awk 'BEGIN { print "id,v"; for (i = 1; i <= 4000; i++) printf "%d,%s\n", i, (i % 2 ? "ok" : "far too long for five") }' >"$TMP/half2.csv"
	timeout -s KILL 40 "$SLUICE" load "$TMP/half2.csv" "$SLUICE_MY_URL" --table h_rej --rejects "$FULL/rej2.csv" \
		--workers 2 --batch-rows 200 -q 2>"$TMP/err"
	RC=$?
	assert_status "own: MariaDB rejects on a full disk" 1 $RC
	err_has "own: names the file" "$FULL/rej2.csv"

	test_case "a summary that cannot be written fails the run"
	rm -f "$FULL"/*
	dd if=/dev/zero of="$FULL/fill" bs=1k count=64 status=none 2>/dev/null
	rows "$TMP/small.csv" 100
	timeout -s KILL 40 "$SLUICE" load "$TMP/small.csv" "$SLUICE_PG_URL" --table h_rej --truncate \
		--summary-json "$FULL/s.json" -q 2>"$TMP/err"
	assert_status "summary on a full disk" 1 $?
	err_has "names the file" "$FULL/s.json"
	timeout -s KILL 40 "$SLUICE" load "$TMP/small.csv" "$SLUICE_PG_URL" --table h_rej --truncate \
		--summary-json - -q 2>"$TMP/err" | true
	assert_status "summary to a closed pipe" 1 "${PIPESTATUS[0]}"
	err_has "says the pipe broke" "Broken pipe"
	umount "$FULL" && MOUNTS=""
	pg -c "drop table h_rej"
	my -e "drop table h_rej"

	###########################################################################
	test_case "PostgreSQL tablespace full: exit 1 with the server's message, whole batches only"
	TS=$(mktemp -d /tmp/sluice-ts.XXXXXX)
	chmod 755 "$TS"
	mkdir "$TS/ts"
	mount -t tmpfs -o size=1m,mode=700,uid="$(id -u postgres)",gid="$(id -g postgres)" tmpfs "$TS/ts" && MOUNTS="$TS/ts"
	pg -c "drop table if exists h_full" -c "drop tablespace if exists h_small" \
		-c "create tablespace h_small location '$TS/ts'"
	rows "$TMP/many.csv" 200000
	for method in copy insert; do
		pg -c "drop table if exists h_full" -c "create table h_full (id int primary key, v text) tablespace h_small"
		timeout -s KILL 40 "$SLUICE" load "$TMP/many.csv" "$SLUICE_PG_URL" --table h_full --method $method \
			--batch-rows 1000 -q 2>"$TMP/err"
		RC=$?
		assert_status "tablespace full ($method)" 1 $RC
		assert_contains "the server's message ($method)" "yes" "$(grep -qE 'No space left|could not extend' "$TMP/err" && echo yes)"
		n=$(pg -c "select count(*) from h_full")
		if [ "$n" -gt 0 ] && [ $((n % 1000)) = 0 ]; then pass "whole batches only ($method: $n rows)"; else fail "rows: $n ($method)"; fi
	done
	pg -c "drop table h_full" -c "drop tablespace h_small"
	umount "$TS/ts" && MOUNTS=""
	rm -rf "$TS"
else
	test_case "full disks"
	pass "skipped: mounting a tmpfs needs root"
fi

###########################################################################
test_case "MariaDB restarted mid-run: survived with exact content"
my -e "drop table if exists h_restart; create table h_restart (id int primary key, v varchar(20))"
rm -f "$TMP/fifo"
mkfifo "$TMP/fifo"
slow_rows "$TMP/fifo" 60000 &
gen=$!
BG="$gen"
timeout -s KILL 60 "$SLUICE" load - "$SLUICE_MY_URL" --table h_restart --format csv --batch-rows 1000 \
	--retries 10 --summary-json "$TMP/restart.json" -q <"$TMP/fifo" 2>"$TMP/err" &
pid=$!
wait_for my -e "select count(*) > 0 from h_restart"
# restart the server with the command line it runs with (scripts/servers.sh's)
mpid=$(cat "$SLUICE_SERVERS_DIR/mariadb/mariadbd.pid")
mapfile -d '' cmd <"/proc/$mpid/cmdline"
kill -TERM "$mpid"
for _ in $(seq 1 200); do kill -0 "$mpid" 2>/dev/null || break; sleep 0.05; done
setsid "${cmd[@]}" </dev/null >/dev/null 2>&1 &
for _ in $(seq 1 200); do my -e "select 1" >/dev/null 2>&1 && break; sleep 0.1; done
wait $pid
RC=$?
wait $gen 2>/dev/null
BG=""
assert_status "survived the restart" 0 $RC
[ $RC = 0 ] || sed 's/^/    /' "$TMP/err" | tail -3
assert_eq "exact content" "$(exact 60000 | tr '|' '\t')" "$(my -e 'select count(*), sum(id) from h_restart')"
assert_contains "reconnected" "yes" "$(grep -qE '"reconnects": [1-9]|"errors": [1-9]' "$TMP/restart.json" && echo yes)"
assert_eq "no XA transaction left" "" "$(my -e 'xa recover')"
my -e "drop table h_restart"

test_case "--timeout takes seconds"
rows "$TMP/small.csv" 100
"$SLUICE" load "$TMP/small.csv" "$SLUICE_PG_URL" --table x --timeout soon -q 2>"$TMP/err"
assert_status "--timeout soon" 2 $?
# (whole, then read: grep -q leaving the pipe early would cut sluice off)
"$SLUICE" load --help >"$TMP/help" 2>&1
grep -q -- "--timeout S" "$TMP/help" && pass "in load --help" || fail "--timeout not in load --help"

finish
