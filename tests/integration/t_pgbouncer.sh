#!/usr/bin/env bash
# tests/integration/t_pgbouncer.sh - every command through PgBouncer in
# transaction pooling mode (scripts/servers.sh starts it in front of the test
# PostgreSQL, two server connections per pool), where each transaction may
# run on another server session: loads by COPY and INSERT, upserts run again
# and again, update, refused rows written one by one, --resume killed and run
# again, a lost COMMIT settled, copy in a shared snapshot, verify. Nothing
# sluice sets may stay on a server session for the next client; statement
# pooling, and a pool too small for a copy's readers, are refused before
# anything is written. Contents are read on the real server.
. "$(dirname "$0")/lib.sh"

PGB=${SLUICE_PGB_URL:-postgresql://postgres@127.0.0.1:${SLUICE_PGB_PORT:-64329}/postgres}
PGB_BASE=${PGB%/*}
WIDE=$PGB_BASE/postgres_wide # the same database, a pool of eight
STMT=$PGB_BASE/postgres_stmt # the same database, statement pooling
PROXY=${FAULTPROXY:-$ROOT/build/tests/faultproxy}
. "$ROOT/tests/tools/faultproxy.sh"
trap 'proxy_stop; rm -rf "$TMP"' EXIT

if ! pg_isready -q -d "$PGB"; then
	test_case "PgBouncer"
	fail "no PgBouncer at $PGB (scripts/servers.sh start pgbouncer)"
	finish
fi

N=20000
{
	echo "id,v,t"
	for i in $(seq 1 $N); do echo "$i,$((i * 3)),row $i"; done
} >"$TMP/in.csv"
content() { pg -F ' ' -c "select count(*), count(distinct id), coalesce(sum(v), 0) from $1"; }
EXPECT="$N $N $((N * (N + 1) / 2 * 3))"
# run NAME EXPECTED_CODE ARGS...: sluice, bounded in time; its stderr in
# $TMP/NAME.err, shown when the exit code is not the expected one
run() {
	local name=$1 want=$2
	shift 2
	timeout -k 5 60 "$SLUICE" "$@" >"$TMP/$name.out" 2>"$TMP/$name.err"
	local rc=$?
	assert_status "$name" "$want" $rc
	[ $rc == "$want" ] || sed 's/^/    | /' "$TMP/$name.err" | head -8
}
# pool_settings [URL]: what each server session of the pool (of $PGB) has
# set, as a new client sees it: two held at once, so each answers from its own
pool_settings() {
	for _ in 1 2; do
		psql "${1:-$PGB}" -XAtq -c "begin" -c "select current_setting('extra_float_digits') || ' ' ||
			current_setting('bytea_output') || ' ' || current_setting('IntervalStyle') || ' ' ||
			current_setting('TimeZone'), pg_sleep(0.4)" -c "commit" | cut -d'|' -f1 &
	done | sort -u | tr '\n' ';'
}
DEFAULTS="1 hex postgres $(pg -c "show timezone");"
# psql on the real server's database $1
pgd() { PGOPTIONS="-c client_min_messages=warning" psql "${SLUICE_PG_URL%/*}/$1" -XAtq -v ON_ERROR_STOP=1 -c "$2"; }

test_case "load through PgBouncer, COPY and INSERT, --workers 2"
for method in copy insert; do
	pg -c "drop table if exists pgb_load" -c "create table pgb_load (id int, v bigint, t text)"
	run "$method" 0 load "$TMP/in.csv" "$PGB" --table pgb_load --method $method --workers 2 --batch-rows 700 -q
	assert_eq "$method: every row once" "$EXPECT" "$(content pgb_load)"
done

test_case "writes in UTC through PgBouncer; the database's own time zone stays for the others"
pg -c "drop database if exists pgb_tz with (force)" -c "create database pgb_tz" \
	-c "alter database pgb_tz set timezone = 'America/New_York'"
pgd pgb_tz "create table tz (id int, ts timestamptz)"
printf 'id,ts\n1,2024-01-01 12:00:00\n2,2024-07-01T08:30:00\n' >"$TMP/tz.csv"
for method in copy insert; do
	pgd pgb_tz "truncate tz"
	run "$method" 0 load "$TMP/tz.csv" "$PGB_BASE/pgb_tz" --table tz --method $method --workers 2 -q
	assert_eq "$method: the instants in UTC" "1|2024-01-01 12:00:00
2|2024-07-01 08:30:00" "$(pgd pgb_tz "select id, to_char(ts at time zone 'UTC', 'YYYY-MM-DD HH24:MI:SS') from tz order by id")"
done
assert_eq "the pool's sessions keep the database's zone" "1 hex postgres America/New_York;" \
	"$(pool_settings "$PGB_BASE/pgb_tz")"

test_case "--on-conflict update through PgBouncer, --workers 2, five runs in a row"
pg -c "drop table if exists pgb_up" -c "create table pgb_up (id int primary key, v bigint, t text)"
for k in 1 2 3 4 5; do
	awk -F, -v k=$k 'NR == 1 { print; next } { print $1 "," $2 * k "," $3 }' "$TMP/in.csv" >"$TMP/up.csv"
	run "run $k" 0 load "$TMP/up.csv" "$PGB" --table pgb_up --on-conflict update --key id --workers 2 \
		--batch-rows 600 -q
	assert_eq "run $k: each key once, this run's values" "$N $N $((N * (N + 1) / 2 * 3 * k))" "$(content pgb_up)"
done
run "--on-conflict skip" 0 load "$TMP/in.csv" "$PGB" --table pgb_up --on-conflict skip --key id --workers 2 -q
assert_eq "skip: nothing changed" "$N $N $((N * (N + 1) / 2 * 15))" "$(content pgb_up)"

test_case "sluice update through PgBouncer, --workers 2"
awk -F, 'NR == 1 { print "id,v"; next } $1 % 2 == 0 { print $1 "," 1 }' "$TMP/in.csv" >"$TMP/upd.csv"
run "update" 0 update "$TMP/upd.csv" "$PGB" --table pgb_up --key id --workers 2 --batch-rows 900 -q
assert_eq "even keys set to 1, odd ones kept" "$N $((N / 2)) $((N / 2 + (N / 2) * (N / 2) * 15))" \
	"$(pg -F ' ' -c "select count(*), count(*) filter (where v = 1), sum(v) from pgb_up")"

test_case "refused rows through PgBouncer: written one by one on the server, the others in"
pg -c "drop table if exists pgb_ref" -c "create table pgb_ref (id int, v bigint check (v >= 0), t text)"
awk -F, 'NR > 1 && $1 % 97 == 0 { print $1 ",-1," $3; next } { print }' "$TMP/in.csv" >"$TMP/ref.csv"
bad=$((N / 97))
run "refused rows" 3 load "$TMP/ref.csv" "$PGB" --table pgb_ref --workers 2 --batch-rows 1000 \
	--max-errors 1000 --rejects "$TMP/ref.rej" -q
assert_eq "the good rows once" "$((N - bad)) $((N - bad)) $(((N * (N + 1) / 2 - 97 * bad * (bad + 1) / 2) * 3))" \
	"$(content pgb_ref)"
assert_eq "the refused ones in the rejects file" "$bad" "$(tail -n +2 "$TMP/ref.rej" | wc -l)"
assert_contains "with the server's reason" "pgb_ref_v_check" "$(cat "$TMP/ref.rej.log")"
assert_eq "no temporary table left on a server session" "0" \
	"$(pg -c "select count(*) from pg_class where relname like 'sluice%' and relpersistence = 't'")"

test_case "--resume through PgBouncer: killed mid-run, run again: every record once"
pg -c "drop table if exists pgb_res" -c "drop table if exists sluice_checkpoints" \
	-c "create table pgb_res (id int, v bigint, t text)" \
	-c "create or replace function pgb_slow() returns trigger language plpgsql as \$\$ begin perform pg_sleep(0.05); return null; end \$\$" \
	-c "create trigger slow after insert on pgb_res for each statement execute function pgb_slow()"
"$SLUICE" load "$TMP/in.csv" "$PGB" --table pgb_res --resume --method insert --workers 2 --batch-rows 500 -q \
	2>"$TMP/res1.err" &
pid=$!
for _ in $(seq 1 400); do
	[ "$(pg -c 'select count(*) from pgb_res')" -gt 0 ] && break
	sleep 0.02
done
{ kill -9 $pid; wait $pid; } 2>/dev/null
at=$(pg -c "select count(*) from pgb_res")
if [ "$at" -gt 0 ] && [ "$at" -lt $N ]; then pass "killed in the middle ($at rows in)"; else fail "rows at the kill: $at"; fi
pg -c "drop trigger slow on pgb_res"
run "the rerun" 0 load "$TMP/in.csv" "$PGB" --table pgb_res --resume --method insert --workers 2 --batch-rows 500 -q
assert_eq "every record once" "$EXPECT" "$(content pgb_res)"
run "a third run" 0 load "$TMP/in.csv" "$PGB" --table pgb_res --resume --workers 2 -q
assert_eq "loads nothing again" "$EXPECT" "$(content pgb_res)"

test_case "a COMMIT whose reply is lost between sluice and PgBouncer is settled"
# batch 5's COMMIT (row 2500's deferred trigger) sleeps 10 s the first time;
# the connection to PgBouncer drops meanwhile. The backend behind it still
# runs the COMMIT: sluice ends it by its server process (not PgBouncer's
# key) and writes the batch again
PORT=$((${SLUICE_PGB_PORT:-64329} + 1))
pg -c "drop table if exists pgb_lost" -c "drop sequence if exists pgb_once" \
	-c "create table pgb_lost (id int, v bigint, t text)" -c "create sequence pgb_once" \
	-c "create or replace function pgb_hold() returns trigger language plpgsql as \$\$ begin
		if nextval('pgb_once') = 1 then perform pg_sleep(10); end if; return null; end \$\$" \
	-c "create constraint trigger hold after insert on pgb_lost deferrable initially deferred
		for each row when (new.id = 2500) execute function pgb_hold()"
if proxy_start "$PORT" "${SLUICE_PGB_PORT:-64329}"; then
	t0=$SECONDS
	timeout -k 5 60 "$SLUICE" load "$TMP/in.csv" "postgresql://postgres@127.0.0.1:$PORT/postgres" --table pgb_lost \
		--batch-rows 500 --workers 1 2>"$TMP/lost.err" &
	pid=$!
	for _ in $(seq 1 300); do
		[ "$(pg -c "select count(*) from pg_stat_activity where wait_event = 'PgSleep' and query = 'COMMIT'")" = 1 ] && break
		sleep 0.02
	done
	kill -USR1 "$PROXY_PID"
	wait $pid
	rc=$?
	assert_status "finished" 0 $rc
	[ $rc = 0 ] || tail -4 "$TMP/lost.err" | sed 's/^/    | /'
	assert_contains "the COMMIT was in doubt" "connection broke during COMMIT" "$(cat "$TMP/lost.err")"
	assert_eq "every row once" "$EXPECT" "$(content pgb_lost)"
	if [ $((SECONDS - t0)) -lt 9 ]; then pass "without waiting for the stuck COMMIT"; else fail "took $((SECONDS - t0)) s"; fi
	proxy_stop
else
	fail "the fault proxy did not start"
fi

test_case "copy and verify through PgBouncer"
pg -c "drop table if exists pgb_c1, pgb_c2" \
	-c "create table pgb_c1 (id bigint primary key, f double precision, b bytea, iv interval, ts timestamptz)" \
	-c "insert into pgb_c1 select i, i / 7.0, decode(md5(i::text), 'hex'), i * interval '1 minute',
		'2024-01-01 00:00+00'::timestamptz + i * interval '1 second' from generate_series(1, 9000) i" \
	-c "create table pgb_c2 (id int, t text)" -c "insert into pgb_c2 select i, 'x' || i from generate_series(1, 500) i"
for db in pgb_dst pgb_dst2; do pg -c "drop database if exists $db with (force)" -c "create database $db"; done
SUMS="select count(*), md5(string_agg(f::text || b::text || iv::text || extract(epoch from ts)::text, ',' order by id)) from pgb_c1"
want=$(pg -c "$SUMS")
run "copy --workers 2, the snapshot shared" 0 copy "$WIDE" "$PGB_BASE/pgb_dst" --tables pgb_c1,pgb_c2 \
	--create --workers 2 --split-rows 2000 --verify -q
assert_eq "every value" "$want" "$(pgd pgb_dst "$SUMS")"
assert_eq "the small table" "500" "$(pgd pgb_dst "select count(*) from pgb_c2")"
run "copy from the pool of two" 0 copy "$PGB" "$PGB_BASE/pgb_dst2" --tables pgb_c1 --create -q
assert_eq "every value" "$want" "$(pgd pgb_dst2 "$SUMS")"
assert_eq "the pool's sessions keep their settings" "$DEFAULTS" "$(pool_settings)"
run "verify" 0 verify "$PGB" "$PGB_BASE/pgb_dst" --tables pgb_c1,pgb_c2 -q
pgd pgb_dst "update pgb_c1 set f = f + 1e-9 where id = 4321" >/dev/null
run "verify, a changed value" 1 verify "$PGB" "$PGB_BASE/pgb_dst" --tables pgb_c1,pgb_c2 -q
assert_eq "the pool's sessions keep their settings" "$DEFAULTS" "$(pool_settings)"

test_case "refused before anything is written"
pgd pgb_dst2 "insert into pgb_c1 (id) values (0)" >/dev/null
n0=$(pgd pgb_dst2 "select count(*) from pgb_c1")
run "copy --workers 2 from a pool of two" 1 copy "$PGB" "$PGB_BASE/pgb_dst2" --tables pgb_c1 --truncate \
	--workers 2 --timeout 2
assert_contains "says why" "no server connection of the pool came free" "$(cat "$TMP/copy --workers 2 from a pool of two.err")"
assert_eq "the target untouched" "$n0" "$(pgd pgb_dst2 "select count(*) from pgb_c1")"
run "statement pooling" 1 load "$TMP/in.csv" "$STMT" --table pgb_load --truncate -q
assert_contains "says why" "statement pooling" "$(cat "$TMP/statement pooling.err")"
assert_eq "the table untouched" "$EXPECT" "$(content pgb_load)"

pg -c "drop table pgb_load, pgb_up, pgb_ref, pgb_res, pgb_lost, pgb_c1, pgb_c2, sluice_checkpoints" \
	-c "drop function pgb_slow, pgb_hold" -c "drop sequence pgb_once"
for db in pgb_dst pgb_dst2 pgb_tz; do pg -c "drop database $db with (force)"; done
finish
