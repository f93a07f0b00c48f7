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
pg -c "drop database if exists cpg_scs_src" -c "drop database if exists cpg_scs_dst"
my -e "DROP DATABASE IF EXISTS cpg_scs_my"
finish
