#!/usr/bin/env bash
# tests/integration/t_copy_schema.sh - copy --create on schemas with the
# quirks of real databases, each in a small schema of its own: enum and set
# labels in their exact case, every bit of a FLOAT, keys that are UNSIGNED
# split among workers, foreign keys the target refuses or whose table is not
# copied, a rerun after a failed --create, per-column character sets and
# collations, ON UPDATE, CHECKs, text columns in plain indexes. Values are
# read back through the servers' own clients, never through sluice.
. "$(dirname "$0")/lib.sh"
export PGTZ=UTC

MY_BASE=mysql://root@127.0.0.1:${SLUICE_MY_PORT:-33069}
PG_BASE=${SLUICE_PG_URL%/*}
LIMIT=${SLUICE_COPY_LIMIT:-120}

pgd() {
	local db=$1
	shift
	PGOPTIONS="-c client_min_messages=warning" psql "$PG_BASE/$db" -XAtq -v ON_ERROR_STOP=1 -F $'\t' -P null=NULL "$@"
}
myd() {
	local db=$1
	shift
	my -D "$db" -r "$@"
}
# fresh DB on both servers
fresh() {
	my -e "DROP DATABASE IF EXISTS $1; CREATE DATABASE $1 CHARACTER SET utf8mb4"
	pg -c "DROP DATABASE IF EXISTS $1" -c "CREATE DATABASE $1" >/dev/null
}
OUT=""
run_sluice() {
	local name=$1 want=$2
	shift 2
	timeout -k 5 "$LIMIT" "$SLUICE" "$@" >"$TMP/$name.out" 2>&1
	local rc=$?
	OUT=$(cat "$TMP/$name.out")
	assert_status "$name" "$want" "$rc"
	[ "$rc" == "$want" ] || sed 's/^/    | /' "$TMP/$name.out" | head -40
}

# --- enum and set labels keep their case ---------------------------------
test_case "enum labels"
fresh cs_src
fresh cs_my
fresh cs_pg
myd cs_src -e "CREATE TABLE film (id int PRIMARY KEY,
	rating enum('G','PG','pg-13','NC-17','it''s') DEFAULT 'G',
	features set('Trailers','Deleted Scenes','x'));
	INSERT INTO film VALUES (1,'PG','Trailers,Deleted Scenes'),(2,'NC-17','x'),(3,'pg-13',NULL),(4,'it''s','');"
run_sluice enum-my 0 copy "$MY_BASE/cs_src" "$MY_BASE/cs_my" --create --verify
assert_eq "mysql->mysql labels" "1	PG	Trailers,Deleted Scenes
2	NC-17	x
3	pg-13	NULL
4	it's	" "$(myd cs_my -e "SELECT id, rating, features FROM film ORDER BY id")"
assert_contains "mysql->mysql column type" "enum('G','PG','pg-13','NC-17','it''s')" \
	"$(myd cs_my -e "SHOW CREATE TABLE film")"
run_sluice enum-pg 0 copy "$MY_BASE/cs_src" "$PG_BASE/cs_pg" --create --verify
assert_eq "mysql->pg labels" "1	PG	Trailers,Deleted Scenes
2	NC-17	x
3	pg-13	NULL
4	it's	" "$(pgd cs_pg -c "SELECT id, rating, features FROM film ORDER BY id")"
# the CHECK built from the labels holds their case: a lowercased label is refused
assert_contains "mysql->pg check refuses 'pg'" "violates check constraint" \
	"$(pgd cs_pg -c "INSERT INTO film (id, rating) VALUES (9, 'pg')" 2>&1)"

# --- every bit of a FLOAT ---------------------------------------------------
test_case "float bits"
myd cs_src -e "CREATE TABLE f (id int PRIMARY KEY, a float, b float(7,3), c double);
	INSERT INTO f VALUES (1, 16777216, 3.142, 0.1), (2, 3.4028234e38, -2.5, 1e-300),
	(3, 0.1, 1.25, -1.7976931348623157e308), (4, 1.4e-45, NULL, 5e-324), (5, -0.333333343, 0, 2.5);"
# the values as doubles, every digit: what each stored float is exactly
want=$(myd cs_src -e "SELECT id, a + 0e0, b + 0e0, c FROM f ORDER BY id")
run_sluice float-my 0 copy "$MY_BASE/cs_src" "$MY_BASE/cs_my" --create --tables f
assert_eq "mysql->mysql every bit" "$want" "$(myd cs_my -e "SELECT id, a + 0e0, b + 0e0, c FROM f ORDER BY id")"
run_sluice float-pg 0 copy "$MY_BASE/cs_src" "$PG_BASE/cs_pg" --create --tables f
got=$(pgd cs_pg -c "SELECT id, a::float8, b::float8, c FROM f ORDER BY id" |
	sed -e 's/e+/e/g' -e 's/\tNULL/\tNULL/g')
assert_eq "mysql->pg every bit" "$(echo "$want" | sed 's/e+/e/g')" "$got"
# and back: PostgreSQL real into a MySQL FLOAT
fresh cs_back
run_sluice float-back 0 copy "$PG_BASE/cs_pg" "$MY_BASE/cs_back" --create --tables f
assert_eq "pg->mysql every bit" "$want" "$(myd cs_back -e "SELECT id, a + 0e0, b + 0e0, c FROM f ORDER BY id")"

finish
