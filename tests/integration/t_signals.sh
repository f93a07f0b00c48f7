#!/usr/bin/env bash
# tests/integration/t_signals.sh - the operator is obeyed: SIGINT and SIGTERM
# strike a run in each state it can be in (connecting to a listener that
# never answers, backing off between reconnects, blocked on a lock,
# mid-COPY, mid-LOAD DATA, on a server gone silent mid-statement, during
# copy and verify, waiting on a SQLite file another process holds), each
# time checked to be in that state; every strike
# must end the run with 130/143 and its summary within 2 s, leave no
# statement running on the server, and only whole batches in the table; a
# --resume rerun then completes exactly. A second signal exits at once.
# The exit times are printed at the end.
. "$(dirname "$0")/lib.sh"

PROXY=${FAULTPROXY:-$ROOT/build/tests/faultproxy}
. "$ROOT/tests/tools/faultproxy.sh"
PG_PORT=${SLUICE_PG_PORT:-54329}
MY_PORT=${SLUICE_MY_PORT:-33069}
BG=""    # helper processes, killed on exit
TIMES="" # "state: seconds" lines
cleanup() {
	local p
	proxy_stop
	for p in $BG; do kill "$p" 2>/dev/null; done
	unlock
	rm -rf "$TMP"
}
trap cleanup EXIT

now() { date +%s.%N; }
# free_port: a TCP port nothing uses now (for a proxy: fixed ones can be
# taken by a connection's own end)
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }'; }
within() { if awk -v s="$2" -v l="$3" 'BEGIN { exit !(s < l) }'; then pass "$1 (${2}s)"; else fail "$1: took ${2}s, limit ${3}s"; fi; }
# wait_for CMD...: until CMD prints 1, t or a line (up to 10 s); false if never
wait_for() {
	local _ out
	for _ in $(seq 1 500); do
		out=$("$@" 2>/dev/null)
		case "$out" in 1 | t | yes) return 0 ;; esac
		sleep 0.02
	done
	return 1
}
# unlock: end the sessions that hold a table lock for a test
unlock() {
	local id
	for id in $(my -e "select id from information_schema.processlist where info like 'select sleep(3%'" 2>/dev/null); do
		my -e "kill $id" 2>/dev/null
	done
	pg -c "select pg_terminate_backend(pid) from pg_stat_activity where query like 'select pg_sleep(3%'" >/dev/null 2>&1
}
# start ARGS...: sluice ARGS in the background, stderr in $TMP/err, its pid
# in PID; a guard kills it after 30 s should it hang
start() {
	"$SLUICE" "$@" >/dev/null 2>"$TMP/err" &
	PID=$!
	(sleep 30 && kill -KILL $PID) >/dev/null 2>&1 &
	GUARD=$!
}
# strike SIG: send SIG to the run, wait for it: RC its exit code, SECS how
# long it took from the signal
strike() {
	local t0
	t0=$(now)
	kill -"$1" "$PID"
	wait "$PID"
	RC=$?
	SECS=$(elapsed "$t0")
	kill "$GUARD" 2>/dev/null
}
# obeyed WHAT SIG [NEEDLE]: the last strike ended as SIG asks: 130/143,
# within 2 s, saying so (NEEDLE, default the summary's status line)
obeyed() {
	local code=130
	[ "$2" = TERM ] && code=143
	assert_status "$1: SIG$2" $code $RC
	within "$1: SIG$2 obeyed within 2 s" "$SECS" 2
	assert_contains "$1: says so" "${3:-status interrupted}" "$(cat "$TMP/err")"
	assert_eq "$1: an interruption is no error" "" "$(grep "error:.*interrupted" "$TMP/err")"
	TIMES="$TIMES$(printf '#   %-44s SIG%-4s %5ss' "$1" "$2" "$SECS")"$'\n'
}
# state WHAT CMD...: CMD shows the run is in the state to strike
state() { if wait_for "${@:2}"; then pass "$1"; else fail "$1: not reached"; fi; }
has_err() { grep -q "$1" "$TMP/err" && echo yes; }
pg_waiting() { pg -c "select count(*) = 1 from pg_stat_activity where application_name = 'sluice' and wait_event_type = 'Lock'"; }
# pg_gone, my_gone TABLE: nothing of sluice runs on the server any more
pg_gone() { pg -c "select count(*) = 0 from pg_stat_activity where application_name = 'sluice'"; }
my_waiting() { my -e "select count(*) = 1 from information_schema.processlist where state like '%metadata lock%' and info not like 'lock tables%'"; }
my_gone() { my -e "select count(*) = 0 from information_schema.processlist where info like '%$1%' and info not like '%processlist%' and info not like 'lock tables%'"; }
rows_in() { if [ "$1" = pg ]; then pg -c "select count(*) > 0 from $2"; else my -e "select count(*) > 0 from $2"; fi; }
count() { if [ "$1" = pg ]; then pg -c "select count(*) from $2"; else my -e "select count(*) from $2"; fi; }
sum_ids() { if [ "$1" = pg ]; then pg -c "select count(*) || ' ' || sum(id) from $2"; else my -e "select concat(count(*), ' ', sum(id)) from $2"; fi; }

N=500000
awk -v n=$N 'BEGIN { print "id,v"; for (i = 1; i <= n; i++) printf "%d,value %d\n", i, i }' >"$TMP/big.csv"
EXACT="$N $((N * (N + 1) / 2))"
printf 'id,v\n1,a\n' >"$TMP/one.csv"

###########################################################################
test_case "connecting to a listener that accepts and never answers"
python3 -c '
import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(64)
print(s.getsockname()[1], flush=True)
held = []
while True:
    c, _ = s.accept()
    held.append(c)
    print("accepted", flush=True)' >"$TMP/silent" &
BG="$BG $!"
wait_for awk 'NR == 1 { print "yes" }' "$TMP/silent"
SILENT=$(head -1 "$TMP/silent")
accepted() { [ "$(grep -c accepted "$TMP/silent")" -gt "$1" ] && echo yes; }
for server in pg my; do
	for sig in INT TERM; do
		if [ $server = pg ]; then url="postgresql://postgres@127.0.0.1:$SILENT/postgres"; else url="mysql://root@127.0.0.1:$SILENT/sluice_test"; fi
		n=$(grep -c accepted "$TMP/silent")
		start load "$TMP/one.csv" "$url" --table t
		state "$server: the listener has its connection" accepted "$n"
		sleep 0.3
		strike $sig
		obeyed "$server: connecting to a silent listener" $sig
	done
done

###########################################################################
test_case "backing off between reconnects: the server went away mid-run"
pg -c "drop table if exists sg_back" -c "create table sg_back (id int primary key, v text)"
my -e "drop table if exists sg_back; create table sg_back (id int primary key, v varchar(40))"
for server in pg my; do
	if [ $server = pg ]; then
		port=$(free_port) sig=TERM
		url="postgresql://postgres@127.0.0.1:$port/postgres"
		proxy_start $port "$PG_PORT" || fail "the proxy did not start"
	else
		port=$(free_port) sig=INT
		url="mysql://root@127.0.0.1:$port/sluice_test"
		proxy_start $port "$MY_PORT" || fail "the proxy did not start"
	fi
	start load "$TMP/big.csv" "$url" --table sg_back --batch-rows 20000 --retries 30 -v
	state "$server: rows are going in" rows_in $server sg_back
	proxy_stop # the server is gone: refused from now on
	state "$server: the log says it backs off" has_err "reconnecting in"
	sleep 0.5
	strike $sig
	obeyed "$server: backing off (server gone)" $sig
	n=$(count $server sg_back)
	assert_eq "$server: only whole batches" 0 $((n % 20000))
done

###########################################################################
test_case "blocked on a lock: the statement is cancelled on the server"
pg -c "drop table if exists sg_lock" -c "create table sg_lock (id int primary key, v text)"
(pg -c "begin" -c "lock table sg_lock" -c "select pg_sleep(30)" >/dev/null 2>&1 &)
wait_for pg -c "select count(*) = 1 from pg_stat_activity where query = 'select pg_sleep(30)'"
start load "$TMP/big.csv" "$SLUICE_PG_URL" --table sg_lock --batch-rows 20000
state "pg: the COPY waits on the lock" pg_waiting
strike INT
obeyed "pg: blocked on LOCK TABLE" INT
state "pg: the COPY is gone from the server (the lock still held)" pg_gone
unlock

my -e "drop table if exists sg_lock; create table sg_lock (id int primary key, v varchar(40))"
for method in infile insert; do
	sig=TERM
	[ $method = insert ] && sig=INT
	(my -e "lock tables sg_lock write; select sleep(30)" >/dev/null 2>&1 &)
	wait_for my -e "select count(*) = 1 from information_schema.processlist where info = 'select sleep(30)'"
	start load "$TMP/big.csv" "$SLUICE_MY_URL" --table sg_lock --batch-rows 20000 --method $method
	state "my: the $method waits on the lock" my_waiting
	strike $sig
	obeyed "my: blocked on LOCK TABLES ($method)" $sig
	state "my: the $method is gone from the server (the lock still held)" my_gone sg_lock
	unlock
done
assert_eq "my: no XA transaction left" "" "$(my -e 'xa recover')"

###########################################################################
test_case "mid-COPY and mid-LOAD DATA, then --resume completes exactly"
# a run stopped before its cleanup leaves the job's checkpoints behind
pg -c "drop table if exists sg_mid" -c "create table sg_mid (id int primary key, v text)" \
	-c "delete from sluice_checkpoints where job = 'sg_mid'" 2>/dev/null
# each COPY takes 0.2 s more on the server, so that the strike surely finds
# one running: the whole load takes about a second without it
pg -c "create or replace function sg_slow() returns trigger language plpgsql as
	\$\$ begin perform pg_sleep(0.2); return null; end \$\$" \
	-c "create trigger sg_slow after insert on sg_mid for each statement execute function sg_slow()"
my -e "drop table if exists sg_mid; create table sg_mid (id int primary key, v varchar(40));
	delete from sluice_checkpoints where job = 'sg_mid'" 2>/dev/null
for server in pg my; do
	if [ $server = pg ]; then url=$SLUICE_PG_URL sig=INT what="mid-COPY"; else url=$SLUICE_MY_URL sig=TERM what="mid-LOAD DATA"; fi
	args=(load "$TMP/big.csv" "$url" --table sg_mid --batch-rows 50000 --resume --job sg_mid --method "$([ $server = pg ] && echo copy || echo infile)")
	start "${args[@]}"
	state "$server: rows are partly in" rows_in $server sg_mid
	if [ $server = pg ]; then
		state "pg: a COPY is running" pg -c "select count(*) = 1 from pg_stat_activity where application_name = 'sluice' and query like '%COPY %' and state = 'active'"
	else
		state "my: a LOAD DATA is running" my -e "select count(*) = 1 from information_schema.processlist where info like 'LOAD DATA%'"
	fi
	strike $sig
	obeyed "$server: $what" $sig "rows are committed to"
	assert_contains "$server: says how to go on" "--resume skips what is committed" "$(cat "$TMP/err")"
	n=$(count $server sg_mid)
	if [ "$n" -gt 0 ] && [ "$n" -lt $N ] && [ $((n % 50000)) = 0 ]; then pass "$server: whole batches only ($n rows)"; else fail "$server: rows after the strike: $n"; fi
	"$SLUICE" "${args[@]}" -q 2>"$TMP/err2"
	assert_status "$server: the --resume rerun" 0 $?
	assert_eq "$server: exact content after the rerun" "$EXACT" "$(sum_ids $server sg_mid | tr '\t' ' ')"
done

###########################################################################
test_case "a server gone silent mid-statement; a second signal exits at once"
if [ -x "$PROXY" ]; then
	for server in pg my; do
		if [ $server = pg ]; then
			target=$PG_PORT
			pg -c "drop table if exists sg_quiet" -c "create table sg_quiet (id int primary key, v text)"
		else
			target=$MY_PORT
			my -e "drop table if exists sg_quiet; create table sg_quiet (id int primary key, v varchar(40))"
		fi
		for twice in no yes; do
			port=$(free_port)
			if [ $server = pg ]; then url="postgresql://postgres@127.0.0.1:$port/postgres"; else url="mysql://root@127.0.0.1:$port/sluice_test"; fi
			proxy_start $port $target || fail "the proxy did not start"
			if [ $server = pg ]; then pg -c "truncate sg_quiet"; else my -e "truncate sg_quiet"; fi
			start load "$TMP/big.csv" "$url" --table sg_quiet --batch-rows 50000
			state "$server: rows are going in" rows_in $server sg_quiet
			kill -USR2 "$PROXY_PID" # stop forwarding, close nothing
			sleep 0.3
			if [ $twice = no ]; then
				strike INT
				obeyed "$server: silent server mid-statement" INT
			else
				kill -INT "$PID"
				sleep 0.1
				strike INT
				assert_status "$server: a second SIGINT" 130 $RC
				within "$server: a second SIGINT exits at once" "$SECS" 0.5
				assert_contains "$server: says so" "second signal: exiting at once" "$(cat "$TMP/err")"
				TIMES="$TIMES$(printf '#   %-44s SIG%-4s %5ss' "$server: second signal" INT "$SECS")"$'\n'
			fi
			proxy_stop
			n=$(count $server sg_quiet)
			assert_eq "$server: only whole batches" 0 $((n % 50000))
		done
	done
else
	fail "$PROXY is not built (make integration builds it)"
fi

###########################################################################
test_case "sluice copy, both ways"
pg -c "drop table if exists sg_psrc, sg_msrc" -c "create table sg_psrc (id int primary key, v text)" \
	-c "insert into sg_psrc select i, 'value ' || i from generate_series(1, 200000) i"
my -e "drop table if exists sg_psrc, sg_msrc; create table sg_msrc (id int primary key, v varchar(40));
	insert into sg_msrc select seq, concat('value ', seq) from seq_1_to_200000"
for way in pm mp; do
	if [ $way = pm ]; then
		from=$SLUICE_PG_URL to=$SLUICE_MY_URL table=sg_psrc dst=my sig=INT what="copy, PostgreSQL to MariaDB"
	else
		from=$SLUICE_MY_URL to=$SLUICE_PG_URL table=sg_msrc dst=pg sig=TERM what="copy, MariaDB to PostgreSQL"
	fi
	start copy "$from" "$to" --tables $table --create --batch-rows 20000
	state "$what: rows are partly in" rows_in $dst $table
	strike $sig
	obeyed "$what" $sig "rows are committed to the target"
	n=$(count $dst $table)
	if [ "$n" -lt 200000 ] && [ $((n % 20000)) = 0 ]; then pass "$what: whole batches only ($n rows)"; else fail "$what: rows after the strike: $n"; fi
	state "$what: nothing of sluice left on PostgreSQL" pg_gone
	state "$what: nothing of sluice left on MariaDB" my_gone $table
done

###########################################################################
test_case "sluice verify, each side blocked on a lock"
pg -c "drop table if exists sg_ver" -c "create table sg_ver (id int primary key, v text)" -c "insert into sg_ver values (1, 'a')"
my -e "drop table if exists sg_ver; create table sg_ver (id int primary key, v varchar(40)); insert into sg_ver values (1, 'a')"
(pg -c "begin" -c "lock table sg_ver" -c "select pg_sleep(30)" >/dev/null 2>&1 &)
wait_for pg -c "select count(*) = 1 from pg_stat_activity where query = 'select pg_sleep(30)'"
start verify "$SLUICE_PG_URL" "$SLUICE_MY_URL" --tables sg_ver
state "pg: verify's query waits on the lock" pg_waiting
strike INT
obeyed "verify, PostgreSQL side blocked" INT "interrupted by SIGINT: 0 of 1 tables compared"
state "pg: verify's query is gone (the lock still held)" pg_gone
unlock
(my -e "lock tables sg_ver write; select sleep(30)" >/dev/null 2>&1 &)
wait_for my -e "select count(*) = 1 from information_schema.processlist where info = 'select sleep(30)'"
start verify "$SLUICE_PG_URL" "$SLUICE_MY_URL" --tables sg_ver
state "my: verify's query waits on the lock" my_waiting
strike TERM
obeyed "verify, MariaDB side blocked" TERM "interrupted by SIGTERM: 0 of 1 tables compared"
state "my: verify's query is gone (the lock still held)" my_gone sg_ver
unlock

###########################################################################
test_case "SQLite: waiting on a file another process holds"
# The same wait for a lock, on a file: SQLite's busy wait must give way to
# a signal too, not sleep out --timeout (600 s by default).
rm -f "$TMP/held.db"
sqlite3 "$TMP/held.db" "create table sg_held (id int primary key, v text)"
python3 -c '
import sqlite3, sys, time
c = sqlite3.connect(sys.argv[1], isolation_level=None)
c.execute("begin exclusive")
c.execute("insert into sg_held values (0, null)")
print("locked", flush=True)
time.sleep(30)
' "$TMP/held.db" >"$TMP/holder.out" 2>&1 &
HOLDER=$!
BG="$BG $HOLDER"
holder_locked() { grep -q locked "$TMP/holder.out" && echo yes; }
state "lite: the other process holds the file" holder_locked
t0=$(now)
"$SLUICE" load "$TMP/big.csv" "sqlite://$TMP/held.db" --table sg_held --timeout 1 --retries 0 -q 2>"$TMP/err"
assert_status "lite: with --timeout 1 the wait fails" 1 $?
assert_contains "lite: on the lock" "locked" "$(cat "$TMP/err")"
within "lite: after about 1 s" "$(elapsed "$t0")" 3
for sig in INT TERM; do
	start load "$TMP/big.csv" "sqlite://$TMP/held.db" --table sg_held
	sleep 1.5
	if kill -0 "$PID" 2>/dev/null; then pass "lite: the load waits on the file (default --timeout)"; else fail "lite: the load did not wait"; fi
	strike $sig
	obeyed "lite: waiting on the file's lock" $sig
done
kill "$HOLDER" 2>/dev/null
wait "$HOLDER" 2>/dev/null
assert_eq "lite: nothing of sluice in the file" "0" "$(sqlite3 "$TMP/held.db" "select count(*) from sg_held")"
"$SLUICE" load "$TMP/one.csv" "sqlite://$TMP/held.db" --table sg_held -q
assert_status "lite: the file free, a load goes in" 0 $?
assert_eq "lite: its row" "1|a" "$(sqlite3 "$TMP/held.db" "select * from sg_held")"

pg -c "drop table if exists sg_back, sg_lock, sg_mid, sg_quiet, sg_psrc, sg_msrc, sg_ver" -c "delete from sluice_checkpoints where job = 'sg_mid'" >/dev/null 2>&1
my -e "drop table if exists sg_back, sg_lock, sg_mid, sg_quiet, sg_psrc, sg_msrc, sg_ver; delete from sluice_checkpoints where job = 'sg_mid'" 2>/dev/null
echo "# exit times after the signal:"
printf '%s' "$TIMES"
finish
