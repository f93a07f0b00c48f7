#!/usr/bin/env bash
# tests/integration/t_clusters.sh - "Past one server": sluice loads into three
# distributed topologies that scripts/clusters.sh starts here (and stops on
# exit): a three-node MariaDB Galera cluster (multi-host URL, both methods,
# certification conflicts between concurrent upserts, a node killed in the
# middle of a load), a Spider head sharding over two data nodes, and a
# PostgreSQL table partitioned by hash over two postgres_fdw foreign tables.
# Every content check runs on every node or shard. Each topology is also
# checked with the servers' own clients first, so that a failure there is
# the topology's, not sluice's. A topology that cannot start fails the file.
#
# SLUICE_CLUSTERS_DIR=/some/dir SLUICE_CLUSTERS_KEEP=1 keeps the topologies
# running after the file (a second run then reuses them). Ports: the first
# free SLUICE_CLUSTERS_PORT_OFFSET, unless it is set.
. "$(dirname "$0")/lib.sh"

CLUSTERS=$ROOT/scripts/clusters.sh
OWN_DIR=
if [ -z "${SLUICE_CLUSTERS_DIR:-}" ]; then
	SLUICE_CLUSTERS_DIR=$(mktemp -d /tmp/sluice-clusters.XXXXXX)
	OWN_DIR=$SLUICE_CLUSTERS_DIR
fi
export SLUICE_CLUSTERS_DIR
# ports no other run on this machine holds (see scripts/clusters.sh)
export SLUICE_CLUSTERS_PORT_OFFSET=${SLUICE_CLUSTERS_PORT_OFFSET:-auto}
if [ -n "${SLUICE_CLUSTERS_KEEP:-}" ]; then
	trap 'rm -rf "$TMP"' EXIT
else
	trap '"$CLUSTERS" stop all >/dev/null 2>&1; rm -rf $OWN_DIR "$TMP"' EXIT
fi
# every sluice run is bounded, so that a hang fails the file instead of CI
LIMIT=${SLUICE_CLUSTERS_TEST_LIMIT:-120}

test_case "start galera, spider and fdw"
t0=$(date +%s.%N)
if "$CLUSTERS" start all 2>"$TMP/start.log"; then
	pass "started in $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }') s"
else
	fail "scripts/clusters.sh start all failed:"
	sed 's/^/    /' "$TMP/start.log"
	finish
	exit 1
fi
eval "$("$CLUSTERS" env)"
read -r -a GALERA_PORTS <<<"$SLUICE_GALERA_PORTS"
read -r -a GALERA_URLS <<<"$SLUICE_GALERA_URLS"
read -r -a SPIDER_PORTS <<<"$SLUICE_SPIDER_PORTS"
read -r -a SPIDER_HOSTS <<<"$SLUICE_SPIDER_HOSTS"

# gal N SQL...: the client on Galera node N; reads wait until the node has
# applied everything the cluster committed before them (wsrep_sync_wait)
gal() {
	local n=$1
	shift
	mariadb --no-defaults --default-character-set=utf8mb4 -h127.0.0.1 -P"${GALERA_PORTS[$((n - 1))]}" \
		-uroot -D sluice_test -N -B --connect-timeout=5 --init-command="SET SESSION wsrep_sync_wait = 1" "$@"
}
# spd head|dn1|dn2 SQL...: the client on a Spider instance
spd() {
	local i
	case "$1" in head) i=0 ;; dn1) i=1 ;; dn2) i=2 ;; esac
	shift
	mariadb --no-defaults --default-character-set=utf8mb4 -h"${SPIDER_HOSTS[$i]}" -P"${SPIDER_PORTS[$i]}" \
		-uroot -D sluice_test -N -B --connect-timeout=5 --local-infile=1 "$@"
}
# fq head|shard1|shard2 ARGS...: psql on a database of the fdw instance
fq() {
	local db=$1
	shift
	PGOPTIONS="-c client_min_messages=warning" psql -h 127.0.0.1 -p "$SLUICE_FDW_PORT" -U postgres \
		-d "$db" -XAtq -v ON_ERROR_STOP=1 "$@"
}
spider_table() { "$CLUSTERS" spider-table "$@"; }
fdw_table() { "$CLUSTERS" fdw-table "$@"; }

# gen N FILE [FIRST] [PREFIX] [QTY]: rows id,name,qty for ids FIRST..FIRST+N-1,
# name "PREFIX id", qty id % 97 (or QTY)
gen() {
	awk -v n="$1" -v f="${3:-1}" -v p="${4:-name}" -v q="${5:-}" 'BEGIN { print "id,name,qty"
		for (i = f; i < f + n; i++) printf "%d,%s %d,%d\n", i, p, i, (q == "" ? i % 97 : q) }' >"$2"
}
# expect FIRST LAST [FILTER]: "count sum(id) sum(qty) 0" of gen's rows whose id
# passes FILTER (all, even, odd)
expect() {
	awk -v f="$1" -v l="$2" -v w="${3:-all}" 'BEGIN { c = 0; s = 0; q = 0
		for (i = f; i <= l; i++) { if ((w == "even" && i % 2) || (w == "odd" && !(i % 2))) continue
			c++; s += i; q += i % 97 }
		printf "%d %d %d 0\n", c, s, q }'
}
# the same four numbers from a MariaDB table, and from a PostgreSQL one
MY_CONTENT="SELECT COUNT(*), COALESCE(SUM(id), 0), COALESCE(SUM(qty), 0),
	COALESCE(SUM(name <> CONCAT('name ', id) OR qty <> id % 97), 0)"
my_content() { "$@" -e "$MY_CONTENT FROM ${TABLE:?}" | tr '\t' ' '; }
PG_CONTENT="SELECT count(*), coalesce(sum(id), 0), coalesce(sum(qty), 0),
	count(*) FILTER (WHERE name <> 'name ' || id OR qty <> id % 97)"
pg_content() { fq "$1" -F ' ' -c "$PG_CONTENT FROM ${TABLE:?}"; }
# a fingerprint of every row, to compare nodes with each other
my_fingerprint() {
	"$@" -e "SELECT COUNT(*), COALESCE(SUM(CRC32(CONCAT_WS('|', id, name, qty))), 0) FROM ${TABLE:?}" | tr '\t' ' '
}

# sl NAME ARGS...: run sluice (bounded by LIMIT) with the summary JSON in
# $TMP/NAME.json and stderr in $TMP/NAME.err; the exit code is in RC
sl() {
	local name=$1
	shift
	rm -f "$TMP/$name.json" "$TMP/$name.err"
	timeout -k 5 "$LIMIT" "$SLUICE" "$@" --summary-json "$TMP/$name.json" 2>"$TMP/$name.err"
	RC=$?
}
# st WHAT EXPECTED NAME: assert RC, showing sluice's stderr when it differs
st() {
	assert_status "$1" "$2" "$RC"
	[ "$2" = "$RC" ] || sed 's/^/    stderr: /' "$TMP/$3.err" 2>/dev/null | tail -5
}
commit_mode() { grep -o '"commit_mode": *[^,}]*' "$TMP/$1.json" 2>/dev/null | head -1; }

gen 30000 "$TMP/g30k.csv"
G30K=$(expect 1 30000)

# lap WHAT: how long the part before took, for the log
LAP=$SECONDS
lap() { echo "# $1 took $((SECONDS - LAP)) s"; LAP=$SECONDS; }

# ---- Galera ----------------------------------------------------------------

test_case "galera: three Synced nodes replicate the client's LOAD DATA LOCAL"
for n in 1 2 3; do
	assert_eq "node $n: cluster size, state, ready" "3 Synced ON" \
		"$(gal "$n" -e "SELECT MAX(IF(VARIABLE_NAME = 'WSREP_CLUSTER_SIZE', VARIABLE_VALUE, NULL)),
			MAX(IF(VARIABLE_NAME = 'WSREP_LOCAL_STATE_COMMENT', VARIABLE_VALUE, NULL)),
			MAX(IF(VARIABLE_NAME = 'WSREP_READY', VARIABLE_VALUE, NULL))
			FROM information_schema.GLOBAL_STATUS" | tr '\t' ' ')"
done
gal 1 -e "DROP TABLE IF EXISTS g; CREATE TABLE g (id int PRIMARY KEY, name varchar(50), qty int)"
gal 2 --local-infile=1 -e "LOAD DATA LOCAL INFILE '$TMP/g30k.csv' INTO TABLE g
	FIELDS TERMINATED BY ',' LINES TERMINATED BY '\n' IGNORE 1 LINES (id, name, qty)"
assert_status "LOAD DATA LOCAL through node 2" 0 $?
TABLE=g
for n in 1 2 3; do
	assert_eq "node $n: content" "$G30K" "$(my_content gal "$n")"
done

test_case "galera: the cluster refuses XA transactions (why sluice commits plainly there)"
out=$(gal 1 -e "XA START 'sluice-probe'; XA END 'sluice-probe'; XA ROLLBACK 'sluice-probe'" 2>&1)
assert_contains "XA START fails with error 1235" "ERROR 1235" "$out"

for method in insert infile; do
	test_case "galera: sluice load --method $method --workers 3, multi-host URL"
	gal 1 -e "DROP TABLE IF EXISTS g; CREATE TABLE g (id int PRIMARY KEY, name varchar(50), qty int)"
	sl load load "$TMP/g30k.csv" "$SLUICE_GALERA_MULTI_URL" --table g --method $method --workers 3 \
		--batch-rows 2000
	st "load" 0 load
	assert_eq "summary: commit mode" '"commit_mode": "plain"' "$(commit_mode load)"
	for n in 1 2 3; do
		assert_eq "node $n: content" "$G30K" "$(my_content gal "$n")"
	done
	assert_eq "nodes 2 and 3 hold node 1's rows" "$(my_fingerprint gal 1)
$(my_fingerprint gal 1)" "$(my_fingerprint gal 2)
$(my_fingerprint gal 3)"
done

# both sides of the conflict first upsert the shared keys 10001..20000, in
# the same order at the same time, through different nodes
gen 10000 "$TMP/a.csv" 10001 a 1
gen 10000 "$TMP/a2.csv" 1 a 1
tail -n +2 "$TMP/a2.csv" >>"$TMP/a.csv"
gen 10000 "$TMP/b.csv" 10001 b 2
gen 10000 "$TMP/b2.csv" 20001 b 2
tail -n +2 "$TMP/b2.csv" >>"$TMP/b.csv"
# counts, and rows that are neither side's whole version
CONFLICT_CHECK="SELECT COUNT(*), SUM(id),
	SUM(id <= 10000 AND (name <> CONCAT('a ', id) OR qty <> 1)),
	SUM(id > 20000 AND (name <> CONCAT('b ', id) OR qty <> 2)),
	SUM(id BETWEEN 10001 AND 20000 AND NOT ((name = CONCAT('a ', id) AND qty = 1)
		OR (name = CONCAT('b ', id) AND qty = 2)))
	FROM c"
conflicts() { # certification failures and brute-force aborts, all nodes
	local n t=0 v
	for n in 1 2 3; do
		v=$(gal "$n" -e "SELECT SUM(VARIABLE_VALUE) FROM information_schema.GLOBAL_STATUS
			WHERE VARIABLE_NAME IN ('WSREP_LOCAL_CERT_FAILURES', 'WSREP_LOCAL_BF_ABORTS')")
		t=$((t + ${v:-0}))
	done
	echo "$t"
}

test_case "galera: conflicting writes through two nodes abort one (client)"
gal 1 -e "DROP TABLE IF EXISTS c; CREATE TABLE c (id int PRIMARY KEY, name varchar(50), qty int);
	INSERT INTO c VALUES (1, 'x', 0)"
# node 1 holds a row lock in an open transaction while node 2 commits the
# same row: node 1's transaction is aborted, its COMMIT fails with 1213
gal 1 -e "START TRANSACTION; UPDATE c SET qty = 1 WHERE id = 1; DO SLEEP(2); COMMIT" \
	>"$TMP/bf.out" 2>&1 &
bf=$!
sleep 0.5
gal 2 -e "UPDATE c SET qty = 2 WHERE id = 1"
assert_status "node 2's autocommit update" 0 $?
wait "$bf"
assert_status "node 1's transaction fails" 1 $?
assert_contains "with a deadlock error" "1213" "$(cat "$TMP/bf.out")"
for n in 1 2 3; do
	assert_eq "node $n has node 2's value" "2" "$(gal "$n" -e "SELECT qty FROM c WHERE id = 1")"
done

test_case "galera: concurrent sluice upserts on overlapping keys through two nodes"
gal 1 -e "DROP TABLE IF EXISTS c; CREATE TABLE c (id int PRIMARY KEY, name varchar(50), qty int)"
before=$(conflicts)
rm -f "$TMP/ua.json" "$TMP/ua.err"
timeout -k 5 "$LIMIT" "$SLUICE" load "$TMP/a.csv" "${GALERA_URLS[0]}" --table c --on-conflict update --key id \
	--workers 2 --batch-rows 500 --summary-json "$TMP/ua.json" 2>"$TMP/ua.err" &
pa=$!
sl ub load "$TMP/b.csv" "${GALERA_URLS[1]}" --table c --on-conflict update --key id --workers 2 --batch-rows 500
st "upsert through node 2" 0 ub
wait "$pa"
RC=$?
st "upsert through node 1" 0 ua
assert_eq "summaries: commit mode" '"commit_mode": "plain" "commit_mode": "plain"' "$(commit_mode ua) $(commit_mode ub)"
TABLE=c
for n in 1 2 3; do
	assert_eq "node $n: every key once, each row one side's whole version" "30000 450015000 0 0 0" \
		"$(gal "$n" -e "$CONFLICT_CHECK" | tr '\t' ' ')"
done
assert_eq "nodes 2 and 3 agree with node 1" "$(my_fingerprint gal 1)
$(my_fingerprint gal 1)" "$(my_fingerprint gal 2)
$(my_fingerprint gal 3)"
echo "# certification conflicts during the upserts: $(($(conflicts) - before))"

test_case "galera: a node killed in the middle of a load through the multi-host URL"
gal 1 -e "DROP TABLE IF EXISTS k; CREATE TABLE k (id int PRIMARY KEY, name varchar(50), qty int, pad varchar(100))"
PAD=$(printf '%080d' 0)
awk -v pad="$PAD" 'BEGIN { print "id,name,qty,pad"
	for (i = 1; i <= 30000; i++) printf "%d,name %d,%d,%s\n", i, i, i % 97, pad }' >"$TMP/k.csv"
rm -f "$TMP/go"
# the first 20000 rows (2 MB: sluice reads ahead about 1 MB before its first
# batch goes out) at once, the rest once node 2 is dead: rows are committed,
# the input is not finished
feed() {
	head -n 20001 "$TMP/k.csv"
	for _ in $(seq 1 600); do
		[ -f "$TMP/go" ] && break
		sleep 0.1
	done
	tail -n +20002 "$TMP/k.csv"
}
feed | timeout -k 5 "$LIMIT" "$SLUICE" load - "$SLUICE_GALERA_MULTI_URL" --table k --workers 3 \
	--batch-rows 500 --summary-json "$TMP/k.json" 2>"$TMP/k.err" &
pk=$!
TABLE=k
committed=0
for _ in $(seq 1 300); do
	committed=$(gal 1 -e "SELECT COUNT(*) FROM k" 2>/dev/null || echo 0)
	[ "${committed:-0}" -ge 5000 ] && break
	kill -0 "$pk" 2>/dev/null || break
	sleep 0.1
done
if [ "${committed:-0}" -ge 5000 ]; then
	pass "$committed rows committed before the kill"
else
	fail "only ${committed:-0} rows committed before the kill (does sluice wait for more input?)"
fi
echo "# sluice's connections on node 2 when it was killed: $(gal 2 -e "SELECT COUNT(*) FROM information_schema.PROCESSLIST
	WHERE ID <> CONNECTION_ID() AND USER = 'root' AND DB = 'sluice_test'" 2>/dev/null)"
"$CLUSTERS" kill-node 2 2>/dev/null
assert_status "kill-node 2" 0 $?
touch "$TMP/go"
wait "$pk"
RC=$?
st "load" 0 k
assert_eq "summary: commit mode" '"commit_mode": "plain"' "$(commit_mode k)"
for n in 1 3; do
	assert_eq "node $n: content" "$(expect 1 30000)" "$(my_content gal "$n")"
	assert_eq "node $n: pad" "$((30000 * 80))" "$(gal "$n" -e "SELECT SUM(LENGTH(pad) * (pad = '$PAD')) FROM k")"
done
assert_eq "node 3 agrees with node 1" "$(my_fingerprint gal 1)" "$(my_fingerprint gal 3)"
size=""
for _ in $(seq 1 300); do
	size="$(gal 1 -e "SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS WHERE VARIABLE_NAME = 'WSREP_CLUSTER_SIZE'") $(gal 3 -e "SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS WHERE VARIABLE_NAME = 'WSREP_CLUSTER_SIZE'")"
	[ "$size" = "2 2" ] && break
	sleep 0.1
done
assert_eq "nodes 1 and 3 form a cluster of two" "2 2" "$size"

lap "galera"

# ---- Spider ----------------------------------------------------------------

SPIDER_COLS="id int PRIMARY KEY, name varchar(50), qty int"
test_case "spider: the head shards the client's LOAD DATA LOCAL over both data nodes"
assert_eq "the head has the Spider engine" "YES" \
	"$(spd head -e "SELECT SUPPORT FROM information_schema.ENGINES WHERE ENGINE = 'SPIDER'")"
assert_eq "the head names both data nodes" "dn1 ${SPIDER_HOSTS[1]} ${SPIDER_PORTS[1]}
dn2 ${SPIDER_HOSTS[2]} ${SPIDER_PORTS[2]}" \
	"$(spd head -e "SELECT Server_name, Host, Port FROM mysql.servers ORDER BY Server_name" | tr '\t' ' ')"
spider_table s "$SPIDER_COLS"
assert_status "spider_table s" 0 $?
spd head -e "LOAD DATA LOCAL INFILE '$TMP/g30k.csv' INTO TABLE s
	FIELDS TERMINATED BY ',' LINES TERMINATED BY '\n' IGNORE 1 LINES (id, name, qty)"
assert_status "LOAD DATA LOCAL into the head" 0 $?
TABLE=s
assert_eq "head: content" "$G30K" "$(my_content spd head)"
assert_eq "dn1: the even ids (partition p0)" "$(expect 1 30000 even)" "$(my_content spd dn1)"
assert_eq "dn2: the odd ids (partition p1)" "$(expect 1 30000 odd)" "$(my_content spd dn2)"

test_case "spider: XA through the head, one transaction on both shards"
spider_table x "$SPIDER_COLS"
# a fresh xid each time: the head keeps a failed one in mysql.spider_xa, and
# reusing it fails with 12605 "This xid already exists"
xid="sluice-probe-$$-$RANDOM"
out=$(spd head -e "XA START '$xid'; INSERT INTO x VALUES (1, 'a', 1), (2, 'b', 2);
	XA END '$xid'; XA PREPARE '$xid'; XA COMMIT '$xid'" 2>&1)
if [ "${SPIDER_HOSTS[1]}" = "${SPIDER_HOSTS[2]}" ]; then
	# Spider tells XA members apart by host, not port
	assert_contains "data nodes on one host: XA PREPARE fails with error 12606" "ERROR 12606" "$out"
	assert_eq "nothing committed" "0" "$(spd head -e "SELECT COUNT(*) FROM x")"
else
	assert_eq "data nodes on two hosts: XA works" "" "$out"
	assert_eq "both rows committed" "2" "$(spd head -e "SELECT COUNT(*) FROM x")"
fi
assert_eq "no transaction left prepared on a data node" "" "$(spd dn1 -e "XA RECOVER"; spd dn2 -e "XA RECOVER")"

for method in insert infile; do
	test_case "spider: sluice load --method $method into the head"
	spider_table s "$SPIDER_COLS"
	sl load load "$TMP/g30k.csv" "$SLUICE_SPIDER_URL" --table s --method $method --workers 2 --batch-rows 5000
	st "load" 0 load
	assert_eq "summary: commit mode" '"commit_mode": "plain"' "$(commit_mode load)"
	assert_eq "head: content" "$G30K" "$(my_content spd head)"
	assert_eq "dn1: the even ids" "$(expect 1 30000 even)" "$(my_content spd dn1)"
	assert_eq "dn2: the odd ids" "$(expect 1 30000 odd)" "$(my_content spd dn2)"
done

lap "spider"

# ---- PostgreSQL, postgres_fdw partitions ----------------------------------

FDW_COLS="id int PRIMARY KEY, name text, qty int"
gen 20000 "$TMP/f20k.csv"
# expect_shard R: the content of rows 1..20000 that hash to remainder R
expect_shard() {
	fq head -F ' ' -c "SELECT count(*), sum(g), sum(g % 97), 0 FROM generate_series(1, 20000) g
		WHERE satisfies_hash_partition('f'::regclass, 2, $1, g)"
}

test_case "fdw: psql \\copy into the partitioned parent lands on the shards"
fdw_table f "$FDW_COLS"
assert_status "fdw_table f" 0 $?
assert_eq "the parent's partitions are foreign tables on s1 and s2" $'f_p0|s1\nf_p1|s2' \
	"$(fq head -c "SELECT c.relname, s.srvname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
		JOIN pg_foreign_table ft ON ft.ftrelid = c.oid JOIN pg_foreign_server s ON s.oid = ft.ftserver
		WHERE i.inhparent = 'f'::regclass ORDER BY 1")"
fq head -c "\\copy f (id, name, qty) FROM '$TMP/f20k.csv' WITH (FORMAT csv, HEADER true)"
assert_status "\\copy" 0 $?
TABLE=f
E1=$(expect_shard 0)
E2=$(expect_shard 1)
assert_eq "head: content" "$(expect 1 20000)" "$(pg_content head)"
assert_eq "shard1: remainder 0" "$E1" "$(pg_content shard1)"
assert_eq "shard2: remainder 1" "$E2" "$(pg_content shard2)"
if [ "${E1%% *}" -gt 0 ] && [ "${E2%% *}" -gt 0 ]; then pass "both shards hold rows"; else fail "a shard is empty: $E1 / $E2"; fi

for method in default copy; do
	test_case "fdw: sluice load into the partitioned parent, method $method"
	fdw_table f "$FDW_COLS"
	margs=()
	[ "$method" = default ] || margs=(--method "$method")
	sl load load "$TMP/f20k.csv" "$SLUICE_FDW_URL" --table f "${margs[@]}" --workers 2 --batch-rows 5000
	st "load" 0 load
	assert_eq "head: content" "$(expect 1 20000)" "$(pg_content head)"
	assert_eq "shard1: remainder 0" "$E1" "$(pg_content shard1)"
	assert_eq "shard2: remainder 1" "$E2" "$(pg_content shard2)"
done

test_case "fdw: --dry-run chooses insert for foreign partitions, copy for a local table"
out=$(timeout -k 5 "$LIMIT" "$SLUICE" load "$TMP/f20k.csv" "$SLUICE_FDW_URL" --table f --dry-run 2>&1)
assert_status "dry run, partitioned parent" 0 $?
method_line=$(printf '%s\n' "$out" | grep -i 'method' | head -3 | paste -sd '|')
assert_contains "the method line says insert (got: ${method_line:-no method line})" "insert" "$method_line"
fq head -c "DROP TABLE IF EXISTS l" -c "CREATE TABLE l ($FDW_COLS)"
out=$(timeout -k 5 "$LIMIT" "$SLUICE" load "$TMP/f20k.csv" "$SLUICE_FDW_URL" --table l --dry-run 2>&1)
assert_status "dry run, local table" 0 $?
method_line=$(printf '%s\n' "$out" | grep -i 'method' | head -3 | paste -sd '|')
assert_contains "the method line says copy (got: ${method_line:-no method line})" "copy" "$method_line"
assert_not_contains "and not insert" "insert" "$method_line"
sl load load "$TMP/f20k.csv" "$SLUICE_FDW_URL" --table l
st "load into the local table" 0 load
TABLE=l
assert_eq "local table: content" "$(expect 1 20000)" "$(pg_content head)"
lap "fdw"

# ---- sluice copy into each topology ------------------------------------------
# the source: a table on the suite's own MariaDB server
my -e "DROP TABLE IF EXISTS csrc; CREATE TABLE csrc (id int PRIMARY KEY, name varchar(50), qty int)"
mariadb --no-defaults -h127.0.0.1 -P"${SLUICE_MY_PORT:-33069}" -uroot -D sluice_test --local-infile=1 \
	-e "LOAD DATA LOCAL INFILE '$TMP/g30k.csv' INTO TABLE csrc FIELDS TERMINATED BY ',' IGNORE 1 LINES"
TABLE=csrc

test_case "galera: sluice copy --create from MariaDB through the multi-host URL"
gal 1 -e "DROP TABLE IF EXISTS csrc"
sl copy copy "$SLUICE_MY_URL" "$SLUICE_GALERA_MULTI_URL" --tables csrc --create --workers 2 --split-rows 5000
st "copy" 0 copy
assert_eq "summary: commit mode" '"commit_mode": "plain"' "$(commit_mode copy)"
for n in 1 3; do # node 2 was killed above
	assert_eq "node $n: content" "$G30K" "$(my_content gal "$n")"
done
assert_eq "node 3: the primary key came along" "PRIMARY" \
	"$(gal 3 -e "SELECT INDEX_NAME FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = 'sluice_test' AND TABLE_NAME = 'csrc'")"

test_case "spider: sluice copy from MariaDB into the sharded head"
spider_table csrc "$SPIDER_COLS"
sl copy copy "$SLUICE_MY_URL" "$SLUICE_SPIDER_URL" --tables csrc --workers 2 --split-rows 5000
st "copy" 0 copy
assert_eq "head: content" "$G30K" "$(my_content spd head)"
assert_eq "dn1: the even ids" "$(expect 1 30000 even)" "$(my_content spd dn1)"
assert_eq "dn2: the odd ids" "$(expect 1 30000 odd)" "$(my_content spd dn2)"

test_case "fdw: sluice copy from MariaDB into the partitioned parent"
fdw_table csrc "$FDW_COLS"
sl copy copy "$SLUICE_MY_URL" "$SLUICE_FDW_URL" --tables csrc
st "copy" 0 copy
assert_eq "head: content" "$G30K" "$(pg_content head)"
S1=$(pg_content shard1)
S2=$(pg_content shard2)
assert_eq "the shards add up to the whole" "30000" "$((${S1%% *} + ${S2%% *}))"
if [ "${S1%% *}" -gt 0 ] && [ "${S2%% *}" -gt 0 ]; then pass "both shards hold rows"; else fail "a shard is empty: $S1 / $S2"; fi
my -e "DROP TABLE csrc"
lap "copy"
finish
