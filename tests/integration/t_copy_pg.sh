#!/usr/bin/env bash
# tests/integration/t_copy_pg.sh - sluice copy from PostgreSQL sources with
# real schemas: session settings the target cannot change
# (standard_conforming_strings), inheritance read ONLY, enum types and
# domains created or mapped, CHECK and EXCLUDE constraints, expression and
# partial indexes, objects that are not copied named, text keys that differ
# only by trailing spaces, and row estimates of tables never analyzed. Every
# result is read back on the target with psql or the MariaDB client.
. "$(dirname "$0")/lib.sh"
export PGTZ=UTC

MY_URL=${SLUICE_MY_URL:-mysql://root@127.0.0.1:${SLUICE_MY_PORT:-33069}/sluice_test}
MY_BASE=${MY_URL%/*}
PG_BASE=${SLUICE_PG_URL%/*}
COPY_LIMIT=${SLUICE_COPY_LIMIT:-120}

# psql on database $1: tab-separated, NULL printed as NULL, UTC
pgd() {
	local db=$1
	shift
	PGOPTIONS="-c client_min_messages=warning -c timezone=UTC" \
		psql "$PG_BASE/$db" -XAtq -v ON_ERROR_STOP=1 -F $'\t' -P null=NULL "$@"
}
# the MariaDB client on database $1, raw (no escaping of tabs, newlines, backslashes)
myd() {
	local db=$1
	shift
	my -D "$db" -r "$@"
}

# run_sluice NAME EXPECTED_CODE ARGS...: run sluice (bounded in time), its
# stdout and stderr in $TMP/NAME.out and in OUT; assert the exit code and show
# the output when it is not the expected one
OUT=""
run_sluice() {
	local name=$1 want=$2
	shift 2
	timeout -k 5 "$COPY_LIMIT" "$SLUICE" "$@" >"$TMP/$name.out" 2>&1
	local rc=$?
	OUT=$(cat "$TMP/$name.out")
	assert_status "$name" "$want" "$rc"
	[ "$rc" == "$want" ] || sed 's/^/    | /' "$TMP/$name.out" | head -40
}

# fresh_pg DB...: drop and create PostgreSQL databases
fresh_pg() {
	for db in "$@"; do
		pg -c "drop database if exists $db" -c "create database $db"
	done
}
# fresh_my DB...: drop and create MariaDB databases (utf8mb4, case-insensitive)
fresh_my() {
	for db in "$@"; do
		my -e "DROP DATABASE IF EXISTS $db;
			CREATE DATABASE $db CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci"
	done
}

# ---------------------------------------------------------------------------
test_case "standard_conforming_strings off on the target and the source"
fresh_pg cpg_scs_src cpg_scs_dst
fresh_my cpg_scs_my
pgd cpg_scs_src -c "create table paths (id int primary key, p text default 'C:\\temp\\new',
	q varchar(20) default 'it''s')" -c "insert into paths (id) values (1)"
pg -c "alter database cpg_scs_dst set standard_conforming_strings = off"
run_sluice "PostgreSQL -> PostgreSQL" 0 copy "$PG_BASE/cpg_scs_src" "$PG_BASE/cpg_scs_dst" --create --verify
pgd cpg_scs_dst -c "set standard_conforming_strings = on" -c "insert into paths (id) values (2)"
assert_eq "the default keeps its backslashes" $'1\tC:\\temp\\new\tit\'s\n2\tC:\\temp\\new\tit\'s' \
	"$(pgd cpg_scs_dst -c "set standard_conforming_strings = on" -c "select * from paths order by id")"
# a source set to off prints its defaults with doubled backslashes
pg -c "alter database cpg_scs_src set standard_conforming_strings = off"
run_sluice "PostgreSQL -> MariaDB" 0 copy "$PG_BASE/cpg_scs_src" "$MY_BASE/cpg_scs_my" --create --verify
myd cpg_scs_my -e "INSERT INTO paths (id) VALUES (2)"
assert_eq "the MariaDB default keeps its backslashes" $'1\tC:\\temp\\new\tit\'s\n2\tC:\\temp\\new\tit\'s' \
	"$(myd cpg_scs_my -e "SELECT * FROM paths ORDER BY id")"

# ---------------------------------------------------------------------------
test_case "inheritance: each table its own rows, a partitioned table through its parent"
fresh_pg cpg_inh_src cpg_inh_dst
fresh_my cpg_inh_my
pgd cpg_inh_src <<'SQL'
create table animals (id int primary key, name text, tag text unique);
create table dogs (bark text) inherits (animals);
create table cats () inherits (animals);
insert into animals select g, 'generic ' || g, 't' || g from generate_series(1, 4000) g;
insert into dogs values (101, 'rex', repeat('a dog with a long tag ', 15), 'woof');
insert into cats values (201, 'tom', 'c');
create table events (id int, at date) partition by range (at);
create table events_2024 partition of events for values from ('2024-01-01') to ('2025-01-01');
create table events_2025 partition of events for values from ('2025-01-01') to ('2026-01-01');
insert into events values (1, '2024-05-05'), (2, '2025-05-05');
analyze;
SQL
run_sluice "PostgreSQL -> PostgreSQL, ranges of 1000 rows" 0 copy "$PG_BASE/cpg_inh_src" "$PG_BASE/cpg_inh_dst" \
	--create --verify --workers 2 --split-rows 1000
assert_contains "a warning names the child and its parent" \
	"dogs inherits from animals: copied as a table of its own" "$OUT"
assert_contains "one for each child" "cats inherits from animals" "$OUT"
assert_not_contains "no warning for a partition" "events_2024 inherits" "$OUT"
assert_eq "each table holds its own rows once" "animals 4000 1..4000
cats 1 201..201
dogs 1 101..101
events 2 1..2" "$(pgd cpg_inh_dst -F ' ' -c "select 'animals', count(*), min(id) || '..' || max(id) from animals
	union all select 'cats', count(*), min(id) || '..' || max(id) from cats
	union all select 'dogs', count(*), min(id) || '..' || max(id) from dogs
	union all select 'events', count(*), min(id) || '..' || max(id) from events")"
assert_eq "no inheritance and no partitions on the target" "animals cats dogs events" \
	"$(pgd cpg_inh_dst -c "select string_agg(relname, ' ' order by relname) from pg_class
		where relnamespace = 'public'::regnamespace and relkind in ('r', 'p')
		and not exists (select 1 from pg_inherits where inhrelid = pg_class.oid)")"
run_sluice "sluice verify reads the parent ONLY" 0 verify "$PG_BASE/cpg_inh_src" "$PG_BASE/cpg_inh_dst"
assert_contains "animals matches" $'animals\t4000\t4000\tmatch' "$OUT"
run_sluice "PostgreSQL -> MariaDB" 0 copy "$PG_BASE/cpg_inh_src" "$MY_BASE/cpg_inh_my" --create --verify
assert_eq "the parent's own rows on MariaDB" "4000 1 1 2" \
	"$(myd cpg_inh_my -e "SELECT (SELECT COUNT(*) FROM animals), (SELECT COUNT(*) FROM dogs),
		(SELECT COUNT(*) FROM cats), (SELECT COUNT(*) FROM events)" | tr '\t' ' ')"
assert_eq "the parent's text key is as long as its own values need" "varchar(255)" \
	"$(myd cpg_inh_my -e "SELECT COLUMN_TYPE FROM information_schema.COLUMNS
		WHERE TABLE_SCHEMA = 'cpg_inh_my' AND TABLE_NAME = 'animals' AND COLUMN_NAME = 'tag'")"

# ---------------------------------------------------------------------------
test_case "row estimates: a table never analyzed has none"
fresh_pg cpg_est_src cpg_est_dst
pgd cpg_est_src -c "create table fresh (id int primary key, v text) with (autovacuum_enabled = false)" \
	-c "insert into fresh select g, 'v' || g from generate_series(1, 4500) g" \
	-c "create table counted (id int primary key) with (autovacuum_enabled = false)" \
	-c "insert into counted select generate_series(1, 300)" -c "analyze counted"
run_sluice "--dry-run" 0 copy "$PG_BASE/cpg_est_src" "$PG_BASE/cpg_est_dst" --create --dry-run
assert_contains "never analyzed: no number" "-- copy fresh: 2 columns, rows unknown (not analyzed)" "$OUT"
assert_contains "analyzed: the catalog's guess" "-- copy counted: 1 columns, about 300 rows" "$OUT"
run_sluice "split by a count of the rows" 0 copy "$PG_BASE/cpg_est_src" "$PG_BASE/cpg_est_dst" \
	--create --verify --workers 2 --split-rows 1000
assert_contains "five ranges of the 4500 rows counted" "copied fresh [3601, ...4501): 900 rows" "$OUT"
assert_eq "every row once" "4500 4500 300" \
	"$(pgd cpg_est_dst -F ' ' -c "select count(*), count(distinct id), (select count(*) from counted) from fresh")"

# ---------------------------------------------------------------------------
test_case "objects that are not copied are named, one warning each"
fresh_pg cpg_obj_src cpg_obj_dst cpg_obj_sel
pgd cpg_obj_src <<'SQL'
create extension citext;
create sequence shared_seq;
create table t (id serial primary key, n int default nextval('shared_seq'));
create table u (id int generated always as identity primary key);
create table log (id int);
create sequence free_seq;
create function add_one(integer) returns integer language sql as 'select $1 + 1';
create procedure reset_all() language sql as 'delete from log';
create aggregate my_sum(integer) (sfunc = int4pl, stype = integer);
create rule t_log as on insert to t do also insert into log values (new.id);
create rule u_log as on insert to u do also insert into log values (new.id);
insert into t default values;
SQL
run_sluice "the whole schema" 0 copy "$PG_BASE/cpg_obj_src" "$PG_BASE/cpg_obj_dst" --create
assert_eq "one warning per object, by kind and name" "aggregate my_sum(integer) is not copied
function add_one(integer) is not copied
procedure reset_all() is not copied
rule t_log on t is not copied
rule u_log on u is not copied
sequence free_seq is not copied" "$(grep -o '[a-z]* [a-z_]*(\?[a-z]*)\?\( on [a-z]*\)\? is not copied' <<<"$OUT" | sort)"
assert_not_contains "no extension's function" "citext" "$(grep 'is not copied' <<<"$OUT")"
assert_not_contains "no sequence of a column" "t_id_seq" "$OUT"
assert_not_contains "no sequence a default takes" "shared_seq" "$OUT"
run_sluice "--tables t" 0 copy "$PG_BASE/cpg_obj_src" "$PG_BASE/cpg_obj_sel" --create --tables t
assert_contains "the rule of a copied table" "rule t_log on t is not copied" "$OUT"
assert_not_contains "not the rule of another" "u_log" "$OUT"
assert_not_contains "no routine when tables are chosen" "add_one" "$OUT"

# ---------------------------------------------------------------------------
for db in cpg_scs_src cpg_scs_dst cpg_inh_src cpg_inh_dst cpg_est_src cpg_est_dst cpg_obj_src cpg_obj_dst \
	cpg_obj_sel; do
	pg -c "drop database if exists $db"
done
for db in cpg_scs_my cpg_inh_my; do
	my -e "DROP DATABASE IF EXISTS $db"
done
finish
