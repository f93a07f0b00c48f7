#!/usr/bin/env bash
# scripts/soak.sh - `make soak`: SOAK_RUNS (20) loads in a row, each into a
# random server with a random fault struck in the middle of it, and the
# table's content checked after every one (the tables have no key, so a
# batch written twice would show). The faults: every connection dropped by
# the test proxy (tests/tools/faultproxy.c); the proxy silent without
# closing for longer than --timeout; sluice killed with SIGKILL and the
# same command run again with --resume; the server restarted; on
# PostgreSQL, the backend stopped with SIGSTOP for longer than --timeout.
# Starts its own throwaway servers (on SOAK_PG_PORT and SOAK_MY_PORT:
# 54388 and 33388 unless set). Needs SLUICE and FAULTPROXY (make soak sets
# them). Exit 0 when every run ended with exactly its input in the table.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
SLUICE=${SLUICE:-$ROOT/bin/sluice}
PROXY=${FAULTPROXY:-$ROOT/build/tests/faultproxy}
RUNS=${SOAK_RUNS:-20}
# servers of its own, whatever a shell exported for others: it stops them
# and removes their directory at the end
export SLUICE_SERVERS_DIR
SLUICE_SERVERS_DIR=$(mktemp -d /tmp/sluice-soak.XXXXXX)
export SLUICE_PG_PORT=${SOAK_PG_PORT:-54388} SLUICE_MY_PORT=${SOAK_MY_PORT:-33388}
scripts/servers.sh start all || exit 1
eval "$(scripts/servers.sh env)"
TMP=$(mktemp -d)
. tests/tools/faultproxy.sh
cleanup() {
	proxy_stop
	scripts/servers.sh stop all
	rm -rf "$SLUICE_SERVERS_DIR" "$TMP"
}
trap cleanup EXIT
export PGOPTIONS="-c client_min_messages=warning"
pg() { psql "$SLUICE_PG_URL" -XAtq "$@"; }
my() { mariadb --no-defaults -h127.0.0.1 -P"$SLUICE_MY_PORT" -uroot -D sluice_test -N -B "$@"; }

N=30000
{
	echo "id,v"
	for i in $(seq 1 $N); do echo "$i,$((i * 7))"; done
} >"$TMP/soak.csv"
EXPECT="$N $N $((N * (N + 1) / 2 * 7))"

table() { # SERVER: a fresh table whose writes pause 50 ms per 1000 rows
	if [ "$1" = pg ]; then
		pg -c "drop table if exists soak, sluice_checkpoints" -c "create table soak (id int, v bigint)" \
			-c "create or replace function slow() returns trigger language plpgsql as \$\$ begin perform pg_sleep(0.05); return null; end \$\$" \
			-c "create trigger slow after insert on soak for each statement execute function slow()"
	else
		my -e "DROP TABLE IF EXISTS soak, sluice_checkpoints; CREATE TABLE soak (id int, v bigint);
			CREATE TRIGGER slow_soak BEFORE INSERT ON soak FOR EACH ROW SET @slow = IF(NEW.id % 1000 = 0, SLEEP(0.05), 0)"
	fi
}
content() {
	if [ "$1" = pg ]; then
		pg -F ' ' -c "select count(*), count(distinct id), coalesce(sum(v), 0) from soak"
	else
		my -e "SELECT COUNT(*), COUNT(DISTINCT id), COALESCE(SUM(v), 0) FROM soak" | tr '\t' ' '
	fi
}
rows_in() {
	if [ "$1" = pg ]; then pg -c "select count(*) from soak" 2>/dev/null; else my -e "SELECT COUNT(*) FROM soak" 2>/dev/null; fi
}
wait_rows() { # SERVER K: until K rows are committed (at most 20 s)
	for _ in $(seq 1 1000); do
		[ "$(rows_in "$1" || echo 0)" -ge "$2" ] 2>/dev/null && return 0
		sleep 0.02
	done
}

failed=0
for run in $(seq 1 "$RUNS"); do
	server=$([ $((RANDOM % 2)) = 0 ] && echo pg || echo my)
	faults=(drop stall kill restart)
	[ "$server" = pg ] && faults+=(sigstop)
	fault=${faults[RANDOM % ${#faults[@]}]}
	if [ "$server" = pg ]; then
		target=$SLUICE_PG_PORT port=$((SLUICE_PG_PORT + 1000))
		url="postgresql://postgres@127.0.0.1:$port/postgres"
	else
		target=$SLUICE_MY_PORT port=$((SLUICE_MY_PORT + 1000))
		url="mysql://root@127.0.0.1:$port/sluice_test"
	fi
	table "$server"
	proxy_start "$port" "$target"
	args=(load "$TMP/soak.csv" "$url" --table soak --batch-rows 1000 --retries 10 --timeout 3 -q)
	[ "$fault" = kill ] && args+=(--resume)
	[ $((RANDOM % 2)) = 0 ] && args+=(--workers 2)
	timeout -s KILL 180 "$SLUICE" "${args[@]}" 2>"$TMP/err" &
	pid=$!
	# strike once a random part of the input is in: the run is in the middle
	wait_rows "$server" $(((RANDOM % (N / 2000) + 1) * 1000))
	at=$(rows_in "$server")
	case $fault in
	drop) kill -USR1 "$PROXY_PID" ;;
	stall)
		kill -USR2 "$PROXY_PID"
		sleep 5
		kill -HUP "$PROXY_PID"
		;;
	kill) kill -9 "$pid" 2>/dev/null ;;
	restart) scripts/servers.sh restart "$([ "$server" = pg ] && echo pg || echo mariadb)" ;;
	sigstop)
		bpid=$(pg -c "select pid from pg_stat_activity where application_name = 'sluice' and state <> 'idle' limit 1")
		[ -z "$bpid" ] && bpid=$(pg -c "select pid from pg_stat_activity where application_name = 'sluice' limit 1")
		if [ -n "$bpid" ]; then
			kill -STOP "$bpid"
			sleep 5
			kill -CONT "$bpid"
		fi
		;;
	esac
	wait "$pid" 2>/dev/null
	rc=$?
	if [ "$fault" = kill ]; then
		# the same command again: it goes on where the committed data ends
		timeout -s KILL 180 "$SLUICE" "${args[@]}" 2>"$TMP/err"
		rc=$?
	fi
	proxy_stop
	got=$(content "$server")
	if [ "$at" -ge "$N" ]; then
		verdict="struck after the end"
		failed=$((failed + 1))
	elif [ "$rc" = 0 ] && [ "$got" = "$EXPECT" ]; then
		verdict=ok
	else
		verdict=FAILED
		failed=$((failed + 1))
	fi
	printf 'soak %2d/%d: %-2s %-8s struck at %5s rows: exit %s, content %s: %s\n' \
		"$run" "$RUNS" "$server" "$fault" "$at" "$rc" "$got" "$verdict"
	[ "$verdict" = ok ] || sed 's/^/    /' "$TMP/err" | tail -3
done
echo "soak: $((RUNS - failed)) of $RUNS runs exact"
[ "$failed" = 0 ]
