#!/usr/bin/env bash
# scripts/clusters.sh - start and stop throwaway distributed topologies on
# loopback, in a temporary directory, on non-default ports, like servers.sh:
#
#   galera  three MariaDB nodes in one Galera cluster (rsync state transfer)
#   spider  a MariaDB Spider head sharding over two MariaDB data nodes
#   fdw     a PostgreSQL instance whose database "head" holds tables
#           partitioned by hash over postgres_fdw foreign tables in the
#           databases shard1 and shard2
#
#   scripts/clusters.sh start [galera|spider|fdw|all]   start (default: all)
#   scripts/clusters.sh stop  [galera|spider|fdw|all]   stop and delete their data
#   scripts/clusters.sh env                             print the URLs as shell exports
#   scripts/clusters.sh status                          one line per node
#   scripts/clusters.sh kill-node N                     SIGKILL Galera node N (1-3)
#   scripts/clusters.sh spider-table NAME "COLS" [KEY]  (re)create NAME on both data
#          nodes and, on the head, as a Spider table partitioned by HASH (KEY)
#          (default: the first column), p0 on dn1 and p1 on dn2
#   scripts/clusters.sh fdw-table NAME "COLS" [KEY]     (re)create NAME in shard1 and
#          shard2 and, in head, as a table partitioned by HASH (KEY) whose two
#          partitions are foreign tables over them (PRIMARY KEY/UNIQUE are kept on
#          the shards only: PostgreSQL refuses them on a parent with foreign
#          partitions)
#
# Everything lives in SLUICE_CLUSTERS_DIR; without it `start` makes a fresh
# /tmp/sluice-clusters.XXXXXX and notes it in /tmp/sluice-clusters.last, which
# the other commands then use. Ports (defaults): SLUICE_GALERA_PORT 61411
# (nodes use it, +1, +2), SLUICE_GALERA_WSREP_PORT 61471 (group communication),
# SLUICE_GALERA_IST_PORT 61481, SLUICE_GALERA_SST_PORT 61441,
# SLUICE_SPIDER_PORT 61421 (head; data nodes +1, +2), SLUICE_FDW_PORT 61434.
# They lie above Linux's ephemeral range (32768-60999): a port in it can be
# the local end of any client connection on the machine (a busy test run
# makes thousands), and a server then fails to bind it.
# SLUICE_SPIDER_DN1_HOST and SLUICE_SPIDER_DN2_HOST (default 127.0.0.1 both)
# put the Spider data nodes on other loopback addresses (127.0.0.2, ...): XA
# through the head (and spider_internal_xa) fails with error 12606 "This xid
# member already exists" when two data nodes share a host, since Spider tells
# XA members apart by host, not port.
# SLUICE_SPIDER_HEAD_OPTS adds mariadbd options to the head, e.g.
# "--loose-spider-direct-dup-insert=1 --loose-spider-bulk-size=1048576".
# SLUICE_CLUSTERS_PORT_OFFSET (default 0) is added to every port; "auto"
# takes the first multiple of 100 whose ports are free and that no other
# directory claimed (/tmp/sluice-clusters-ports.OFFSET), so that two test runs
# on one machine do not collide. The ports a directory started with are kept
# in DIR/ports.env, which every later command reads.
# Every wait is bounded by SLUICE_CLUSTERS_TIMEOUT seconds (default 90).
set -euo pipefail

OFFSET=${SLUICE_CLUSTERS_PORT_OFFSET:-0}
SPIDER_DN1_HOST=${SLUICE_SPIDER_DN1_HOST:-127.0.0.1}
SPIDER_DN2_HOST=${SLUICE_SPIDER_DN2_HOST:-127.0.0.1}
TIMEOUT=${SLUICE_CLUSTERS_TIMEOUT:-90}
GALERA_LIB=${SLUICE_GALERA_PROVIDER:-/usr/lib/galera/libgalera_smm.so}
# shellcheck disable=SC2012 # as servers.sh: the newest installed major version
PG_BIN=${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)}
LAST=/tmp/sluice-clusters.last

say() { echo "clusters: $*" >&2; }
die() { say "$*"; exit 1; }

# set_ports OFFSET: every port, from the SLUICE_*_PORT variables and OFFSET
set_ports() {
	GALERA_PORT=$((${SLUICE_GALERA_PORT:-61411} + $1))
	GALERA_WSREP_PORT=$((${SLUICE_GALERA_WSREP_PORT:-61471} + $1))
	GALERA_IST_PORT=$((${SLUICE_GALERA_IST_PORT:-61481} + $1))
	GALERA_SST_PORT=$((${SLUICE_GALERA_SST_PORT:-61441} + $1))
	SPIDER_PORT=$((${SLUICE_SPIDER_PORT:-61421} + $1))
	FDW_PORT=$((${SLUICE_FDW_PORT:-61434} + $1))
	OFFSET=$1
}

all_ports() {
	local i
	for i in 0 1 2; do
		echo $((GALERA_PORT + i)) $((GALERA_WSREP_PORT + i)) $((GALERA_IST_PORT + i)) $((GALERA_SST_PORT + i))
	done
	echo "$SPIDER_PORT $SPIDER_DN1_HOST:$((SPIDER_PORT + 1)) $SPIDER_DN2_HOST:$((SPIDER_PORT + 2)) $FDW_PORT"
}

# load_ports: the ports this directory started with; at the first start,
# choose them (SLUICE_CLUSTERS_PORT_OFFSET=auto: claim a free offset) and
# write them down
load_ports() {
	if [ -f "$DIR/ports.env" ]; then
		# shellcheck disable=SC1091
		. "$DIR/ports.env"
		return 0
	fi
	if [ "$OFFSET" != auto ]; then
		set_ports "$OFFSET"
	else
		local off claim found=""
		for off in $(seq 0 100 3900); do
			claim=/tmp/sluice-clusters-ports.$off
			if ! mkdir "$claim" 2>/dev/null; then
				# a claim whose directory is gone is stale
				[ -d "$(cat "$claim/dir" 2>/dev/null)" ] && continue
				rm -rf "$claim"
				mkdir "$claim" 2>/dev/null || continue
			fi
			echo "$DIR" >"$claim/dir"
			set_ports "$off"
			# shellcheck disable=SC2046
			if (check_ports $(all_ports)) 2>/dev/null; then
				found=$off
				break
			fi
			rm -rf "$claim"
		done
		[ -n "$found" ] || die "no free port offset (SLUICE_CLUSTERS_PORT_OFFSET=auto)"
		CLAIM=$claim
	fi
	[ "$cmd" = start ] || return 0
	{
		echo "GALERA_PORT=$GALERA_PORT GALERA_WSREP_PORT=$GALERA_WSREP_PORT"
		echo "GALERA_IST_PORT=$GALERA_IST_PORT GALERA_SST_PORT=$GALERA_SST_PORT"
		echo "SPIDER_PORT=$SPIDER_PORT FDW_PORT=$FDW_PORT OFFSET=$OFFSET"
		echo "SPIDER_DN1_HOST=$SPIDER_DN1_HOST SPIDER_DN2_HOST=$SPIDER_DN2_HOST"
		echo "CLAIM=${CLAIM:-}"
	} >"$DIR/ports.env"
}

# the directory: SLUICE_CLUSTERS_DIR, else the one the last `start` made
resolve_dir() {
	if [ -n "${SLUICE_CLUSTERS_DIR:-}" ]; then
		DIR=$SLUICE_CLUSTERS_DIR
	elif [ -f "$LAST" ] && [ -d "$(cat "$LAST")" ]; then
		DIR=$(cat "$LAST")
	elif [ "$1" = start ]; then
		DIR=$(mktemp -d /tmp/sluice-clusters.XXXXXX)
		echo "$DIR" >"$LAST"
		say "directory $DIR (export SLUICE_CLUSTERS_DIR=$DIR to use it elsewhere)"
	else
		DIR=
	fi
}

is_root() { [ "$(id -u)" -eq 0 ]; }
as_pg() { if is_root; then runuser -u postgres -- "$@"; else "$@"; fi; }
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

# port_free PORT [HOST]: nothing listens on HOST (127.0.0.1):PORT
port_free() { ! (exec 3<>"/dev/tcp/${2:-127.0.0.1}/$1") 2>/dev/null; }

# check_ports [HOST:]PORT...
check_ports() {
	local p host
	for p in "$@"; do
		host=127.0.0.1
		case "$p" in *:*) host=${p%:*} p=${p##*:} ;; esac
		port_free "$p" "$host" ||
			die "$host:$p is already in use (another cluster or server?); move it with the SLUICE_*_PORT variables"
	done
}

# log_tail NAME FILE: the end of a server's log, for a failure message
log_tail() {
	say "--- last lines of $1 ($2)"
	tail -n "${SLUICE_CLUSTERS_LOG_LINES:-40}" "$2" 2>/dev/null | sed 's/^/    /' >&2 || true
}

# ---- MariaDB instances -------------------------------------------------------

my_user_opt() { if is_root; then echo --user=root; fi; }

# sql SOCKET SQL...: run statements on an instance, batch mode, no headers
sql() {
	local sock=$1
	shift
	mariadb --no-defaults --socket="$sock" -uroot -N -B "$@"
}

# a fresh system datadir, made once per directory and copied for every instance
make_seed() {
	local seed="$DIR/seed"
	[ -f "$seed/.done" ] && return 0
	rm -rf "$seed"
	mkdir -p "$seed"
	# shellcheck disable=SC2046
	mariadb-install-db --no-defaults $(my_user_opt) --datadir="$seed/data" \
		--auth-root-authentication-method=normal --skip-test-db \
		--innodb-log-file-size=16M >"$seed/install.log" 2>&1 ||
		{ cat "$seed/install.log" >&2; die "mariadb-install-db failed"; }
	touch "$seed/.done"
}

# settings every instance shares: small, fast, not durable (data is thrown away)
MY_COMMON=(--bind-address=127.0.0.1 --skip-name-resolve --performance-schema=OFF
	--innodb-buffer-pool-size=64M --innodb-log-file-size=16M --innodb-log-buffer-size=8M
	--innodb-flush-log-at-trx-commit=2 --innodb-doublewrite=0
	--innodb-buffer-pool-load-at-startup=0 --innodb-buffer-pool-dump-at-shutdown=0
	--local-infile=1 --max-allowed-packet=256M --max-connections=200
	--character-set-server=utf8mb4 --collation-server=utf8mb4_bin
	--key-buffer-size=1M --aria-pagecache-buffer-size=8M --table-open-cache=400
	--loose-feedback=OFF)

# my_launch DIR PORT EXTRA...: start mariadbd on DIR/data, in the background
my_launch() {
	local d=$1 port=$2
	shift 2
	# a tmpdir of its own: temporary files in a shared /tmp can collide
	# with another instance's (the Spider plugin's start-up then fails)
	mkdir -p "$d/tmp"
	# shellcheck disable=SC2046
	mariadbd --no-defaults $(my_user_opt) --datadir="$d/data" --port="$port" --tmpdir="$d/tmp" \
		--socket="$d/mariadb.sock" --pid-file="$d/mariadbd.pid" --log-error="$d/server.log" \
		"${MY_COMMON[@]}" "$@" </dev/null >/dev/null 2>&1 &
	echo $! >"$d/launcher.pid"
}

# my_alive DIR: the instance's process runs
my_alive() {
	local pid
	pid=$(cat "$1/launcher.pid" 2>/dev/null) || return 1
	kill -0 "$pid" 2>/dev/null
}

# my_wait_up NAME DIR: wait until the instance answers (bounded)
my_wait_up() {
	local name=$1 d=$2 t0
	t0=$(now)
	while ! mariadb-admin --no-defaults --socket="$d/mariadb.sock" -uroot ping >/dev/null 2>&1; do
		if ! my_alive "$d"; then
			say "$name exited while starting"
			log_tail "$name" "$d/server.log"
			return 1
		fi
		if [ "$(elapsed "$t0" | cut -d. -f1)" -ge "$TIMEOUT" ]; then
			say "$name did not answer within ${TIMEOUT}s"
			log_tail "$name" "$d/server.log"
			return 1
		fi
		sleep 0.1
	done
}

# my_stop_dir DIR: ask the instance to stop (SIGTERM); my_reap_dir DIR waits
# for it, and SIGKILLs it after 20 s
my_stop_dir() {
	local d=$1 pid f
	for f in "$d/launcher.pid" "$d/mariadbd.pid"; do
		pid=$(cat "$f" 2>/dev/null) || continue
		kill "$pid" 2>/dev/null || true
	done
	# an rsync daemon a state transfer left behind
	if [ -f "$d/data/rsync_sst.pid" ]; then
		kill "$(cat "$d/data/rsync_sst.pid")" 2>/dev/null || true
	fi
}

my_reap_dir() {
	local d=$1 pid f t0
	t0=$(now)
	for f in "$d/launcher.pid" "$d/mariadbd.pid"; do
		pid=$(cat "$f" 2>/dev/null) || continue
		while kill -0 "$pid" 2>/dev/null; do
			if [ "$(elapsed "$t0" | cut -d. -f1)" -ge 20 ]; then
				kill -9 "$pid" 2>/dev/null || true
				sleep 0.2
				break
			fi
			sleep 0.1
		done
	done
}

# ---- Galera ------------------------------------------------------------------

galera_dir() { echo "$DIR/galera/node$1"; }
galera_sql_port() { echo $((GALERA_PORT + $1 - 1)); }

galera_launch() {
	local n=$1 d sql gm ist sst peers
	shift
	d=$(galera_dir "$n")
	sql=$(galera_sql_port "$n")
	gm=$((GALERA_WSREP_PORT + n - 1))
	ist=$((GALERA_IST_PORT + n - 1))
	sst=$((GALERA_SST_PORT + n - 1))
	peers="127.0.0.1:$GALERA_WSREP_PORT,127.0.0.1:$((GALERA_WSREP_PORT + 1)),127.0.0.1:$((GALERA_WSREP_PORT + 2))"
	# gcache small (it is preallocated); failure detection quicker than the
	# defaults (5 s / 15 s) so that a killed node leaves the view in seconds
	local prov="gmcast.listen_addr=tcp://127.0.0.1:$gm; ist.recv_addr=127.0.0.1:$ist"
	prov="$prov; gcache.size=64M; pc.recovery=FALSE; evs.join_retrans_period=PT0.2S"
	prov="$prov; evs.keepalive_period=PT0.5S; evs.inactive_check_period=PT0.5S"
	prov="$prov; evs.suspect_timeout=PT3S; evs.inactive_timeout=PT6S; evs.install_timeout=PT6S"
	my_launch "$d" "$sql" --wsrep-on=ON --wsrep-provider="$GALERA_LIB" \
		--wsrep-cluster-name=sluice --wsrep-cluster-address="gcomm://$peers" \
		--wsrep-node-name="node$n" --wsrep-node-address="127.0.0.1:$gm" \
		--wsrep-node-incoming-address="127.0.0.1:$sql" \
		--wsrep-provider-options="$prov" \
		--wsrep-sst-method=rsync --wsrep-sst-receive-address="127.0.0.1:$sst" \
		--wsrep-slave-threads=2 --binlog-format=ROW --innodb-autoinc-lock-mode=2 \
		--skip-log-bin "$@"
}

# galera_state N: "SIZE STATE" of node N, empty when it does not answer
galera_state() {
	sql "$(galera_dir "$1")/mariadb.sock" --connect-timeout=2 -e \
		"SELECT MAX(IF(VARIABLE_NAME = 'WSREP_CLUSTER_SIZE', VARIABLE_VALUE, NULL)),
			MAX(IF(VARIABLE_NAME = 'WSREP_LOCAL_STATE_COMMENT', VARIABLE_VALUE, NULL))
		 FROM information_schema.GLOBAL_STATUS
		 WHERE VARIABLE_NAME IN ('WSREP_CLUSTER_SIZE', 'WSREP_LOCAL_STATE_COMMENT')" \
		2>/dev/null | tr '\t' ' ' || true
}

# galera_wait N SIZE: wait until node N is Synced in a cluster of SIZE (bounded)
galera_wait() {
	local n=$1 want=$2 d t0 st=""
	d=$(galera_dir "$n")
	t0=$(now)
	while :; do
		st=$(galera_state "$n")
		[ "$st" = "$want Synced" ] && return 0
		if ! my_alive "$d"; then
			say "Galera node $n exited while joining (last state: ${st:-none})"
			log_tail "Galera node $n" "$d/server.log"
			return 1
		fi
		if [ "$(elapsed "$t0" | cut -d. -f1)" -ge "$TIMEOUT" ]; then
			say "Galera node $n not Synced in a cluster of $want within ${TIMEOUT}s (state: ${st:-no answer})"
			log_tail "Galera node $n" "$d/server.log"
			return 1
		fi
		sleep 0.1
	done
}

galera_running() {
	local n
	for n in 1 2 3; do
		[ "$(galera_state "$n")" = "3 Synced" ] || return 1
	done
}

galera_start() {
	local t0 n d
	if galera_running; then
		say "Galera already running on 127.0.0.1:$GALERA_PORT-$((GALERA_PORT + 2))"
		return 0
	fi
	galera_stop
	check_ports "$GALERA_PORT" $((GALERA_PORT + 1)) $((GALERA_PORT + 2)) \
		"$GALERA_WSREP_PORT" $((GALERA_WSREP_PORT + 1)) $((GALERA_WSREP_PORT + 2)) \
		"$GALERA_IST_PORT" $((GALERA_IST_PORT + 1)) $((GALERA_IST_PORT + 2)) \
		"$GALERA_SST_PORT" $((GALERA_SST_PORT + 1)) $((GALERA_SST_PORT + 2))
	[ -f "$GALERA_LIB" ] || die "no Galera provider at $GALERA_LIB (apt-get install galera-4)"
	command -v rsync >/dev/null || die "no rsync (apt-get install rsync): the state transfer needs it"
	t0=$(now)
	make_seed
	for n in 1 2 3; do
		d=$(galera_dir "$n")
		mkdir -p "$d"
	done
	# node 1 bootstraps the cluster from a copy of the seed; the others
	# join with an empty datadir and get it by rsync state transfer, whose
	# daemon runs as nobody when we are root: it must write there
	cp -a "$DIR/seed/data" "$(galera_dir 1)/data"
	for n in 2 3; do
		d=$(galera_dir "$n")
		mkdir -p "$d/data"
		if is_root; then
			chown nobody "$d/data"
			chmod 777 "$d" "$d/data"
		fi
	done
	chmod 755 "$DIR" "$DIR/galera"
	galera_launch 1 --wsrep-new-cluster
	galera_wait 1 1 || return 1
	sql "$(galera_dir 1)/mariadb.sock" -e \
		"CREATE DATABASE IF NOT EXISTS sluice_test CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"
	# one joiner at a time: two at once form a non-primary view first and
	# take longer
	galera_launch 2
	galera_wait 2 2 || return 1
	galera_launch 3
	for n in 3 1 2; do
		galera_wait "$n" 3 || return 1
	done
	say "Galera on 127.0.0.1:$GALERA_PORT,$((GALERA_PORT + 1)),$((GALERA_PORT + 2)) ($(elapsed "$t0") s)"
}

galera_stop() {
	local n
	[ -d "$DIR/galera" ] || return 0
	for n in 1 2 3; do my_stop_dir "$(galera_dir "$n")"; done
	for n in 1 2 3; do my_reap_dir "$(galera_dir "$n")"; done
	rm -rf "$DIR/galera"
}

galera_kill_node() {
	local n=$1 d pid
	case "$n" in 1 | 2 | 3) ;; *) die "kill-node takes 1, 2 or 3" ;; esac
	d=$(galera_dir "$n")
	pid=$(cat "$d/launcher.pid" 2>/dev/null) || die "Galera node $n was not started here"
	kill -9 "$pid" 2>/dev/null || die "Galera node $n (pid $pid) is not running"
	say "Galera node $n (pid $pid) killed"
}

# ---- Spider ------------------------------------------------------------------

spider_dir() { echo "$DIR/spider/$1"; }
spider_port() {
	case "$1" in head) echo "$SPIDER_PORT" ;; dn1) echo $((SPIDER_PORT + 1)) ;; dn2) echo $((SPIDER_PORT + 2)) ;; esac
}
spider_sock() { echo "$(spider_dir "$1")/mariadb.sock"; }
spider_host() {
	case "$1" in head) echo 127.0.0.1 ;; dn1) echo "$SPIDER_DN1_HOST" ;; dn2) echo "$SPIDER_DN2_HOST" ;; esac
}

spider_running() {
	local n
	for n in head dn1 dn2; do
		my_alive "$(spider_dir "$n")" || return 1
		mariadb-admin --no-defaults --socket="$(spider_sock "$n")" -uroot ping >/dev/null 2>&1 || return 1
	done
	[ -f "$DIR/spider/.ready" ]
}

spider_start() {
	local t0 n d
	if spider_running; then
		say "Spider already running on 127.0.0.1:$SPIDER_PORT"
		return 0
	fi
	spider_stop
	check_ports "$SPIDER_PORT" "$SPIDER_DN1_HOST:$((SPIDER_PORT + 1))" "$SPIDER_DN2_HOST:$((SPIDER_PORT + 2))"
	[ -f "$(mariadb_plugin_dir)/ha_spider.so" ] ||
		die "no Spider plugin in $(mariadb_plugin_dir) (apt-get install mariadb-plugin-spider)"
	t0=$(now)
	make_seed
	for n in head dn1 dn2; do
		d=$(spider_dir "$n")
		mkdir -p "$d"
		cp -a "$DIR/seed/data" "$d/data"
	done
	# shellcheck disable=SC2086 # SLUICE_SPIDER_HEAD_OPTS is a list of options
	my_launch "$(spider_dir head)" "$SPIDER_PORT" --skip-log-bin --plugin-load-add=ha_spider \
		${SLUICE_SPIDER_HEAD_OPTS:-}
	my_launch "$(spider_dir dn1)" $((SPIDER_PORT + 1)) --skip-log-bin --bind-address="$SPIDER_DN1_HOST"
	my_launch "$(spider_dir dn2)" $((SPIDER_PORT + 2)) --skip-log-bin --bind-address="$SPIDER_DN2_HOST"
	for n in head dn1 dn2; do
		my_wait_up "Spider $n" "$(spider_dir "$n")" || return 1
	done
	for n in dn1 dn2; do
		sql "$(spider_sock "$n")" -e \
			"CREATE DATABASE IF NOT EXISTS sluice_test CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"
	done
	sql "$(spider_sock head)" -e "
		CREATE DATABASE IF NOT EXISTS sluice_test CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;
		CREATE OR REPLACE SERVER dn1 FOREIGN DATA WRAPPER mysql
			OPTIONS (HOST '$SPIDER_DN1_HOST', PORT $((SPIDER_PORT + 1)), USER 'root', DATABASE 'sluice_test');
		CREATE OR REPLACE SERVER dn2 FOREIGN DATA WRAPPER mysql
			OPTIONS (HOST '$SPIDER_DN2_HOST', PORT $((SPIDER_PORT + 2)), USER 'root', DATABASE 'sluice_test')" ||
		{ log_tail "Spider head" "$(spider_dir head)/server.log"; return 1; }
	local engine
	engine=$(sql "$(spider_sock head)" -e \
		"SELECT SUPPORT FROM information_schema.ENGINES WHERE ENGINE = 'SPIDER'")
	if [ "$engine" != YES ] && [ "$engine" != DEFAULT ]; then
		say "the Spider engine is not available on the head (${engine:-missing})"
		log_tail "Spider head" "$(spider_dir head)/server.log"
		return 1
	fi
	touch "$DIR/spider/.ready"
	say "Spider head on 127.0.0.1:$SPIDER_PORT, data nodes on $SPIDER_DN1_HOST:$((SPIDER_PORT + 1)), $SPIDER_DN2_HOST:$((SPIDER_PORT + 2)) ($(elapsed "$t0") s)"
}

mariadb_plugin_dir() {
	local p
	for p in /usr/lib/mysql/plugin /usr/lib/x86_64-linux-gnu/mariadb19/plugin /usr/lib64/mysql/plugin; do
		[ -d "$p" ] && { echo "$p"; return; }
	done
	echo /usr/lib/mysql/plugin
}

spider_stop() {
	local n
	[ -d "$DIR/spider" ] || return 0
	for n in head dn1 dn2; do my_stop_dir "$(spider_dir "$n")"; done
	for n in head dn1 dn2; do my_reap_dir "$(spider_dir "$n")"; done
	rm -rf "$DIR/spider"
}

# spider_table NAME "COLS" [KEY]
spider_table() {
	local name=$1 cols=$2 key=${3:-}
	[ -n "$key" ] || key=$(echo "$cols" | awk '{ print $1 }')
	local n
	for n in dn1 dn2; do
		sql "$(spider_sock "$n")" -D sluice_test -e \
			"DROP TABLE IF EXISTS \`$name\`; CREATE TABLE \`$name\` ($cols) DEFAULT CHARSET utf8mb4"
	done
	sql "$(spider_sock head)" -D sluice_test -e "DROP TABLE IF EXISTS \`$name\`;
		CREATE TABLE \`$name\` ($cols) ENGINE=SPIDER DEFAULT CHARSET utf8mb4
		COMMENT='wrapper \"mysql\", table \"$name\"'
		PARTITION BY HASH ($key) (PARTITION p0 COMMENT='srv \"dn1\"', PARTITION p1 COMMENT='srv \"dn2\"')"
}

# ---- PostgreSQL with postgres_fdw ---------------------------------------------

fdw_psql() {
	local db=$1
	shift
	PGOPTIONS="-c client_min_messages=warning" psql -h 127.0.0.1 -p "$FDW_PORT" -U postgres -d "$db" \
		-XAtq -v ON_ERROR_STOP=1 "$@"
}

fdw_running() {
	[ -f "$DIR/fdw/data/postmaster.pid" ] &&
		as_pg "$PG_BIN/pg_ctl" -D "$DIR/fdw/data" status >/dev/null 2>&1 &&
		[ -f "$DIR/fdw/.ready" ]
}

fdw_start() {
	local d="$DIR/fdw" t0
	if fdw_running; then
		say "PostgreSQL (fdw) already running on 127.0.0.1:$FDW_PORT"
		return 0
	fi
	fdw_stop
	check_ports "$FDW_PORT"
	[ -x "$PG_BIN/initdb" ] || die "no PostgreSQL server binaries (apt-get install postgresql)"
	[ -f "/usr/share/postgresql/$(basename "$(dirname "$PG_BIN")")/extension/postgres_fdw.control" ] ||
		die "no postgres_fdw extension (apt-get install postgresql-contrib)"
	t0=$(now)
	mkdir -p "$d"
	if is_root; then
		chmod 755 "$DIR"
		chown postgres:postgres "$d"
	fi
	as_pg "$PG_BIN/initdb" -D "$d/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 --no-sync \
		>"$d/initdb.log" 2>&1 || { cat "$d/initdb.log" >&2; die "initdb failed"; }
	as_pg "$PG_BIN/pg_ctl" -D "$d/data" -l "$d/server.log" -w -t "$TIMEOUT" \
		-o "-p $FDW_PORT -k $d -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off -c synchronous_commit=off -c max_connections=100 -c shared_buffers=32MB" \
		start >/dev/null || { log_tail "PostgreSQL (fdw)" "$d/server.log"; return 1; }
	fdw_psql postgres -c "CREATE DATABASE shard1" -c "CREATE DATABASE shard2" -c "CREATE DATABASE head" ||
		{ log_tail "PostgreSQL (fdw)" "$d/server.log"; return 1; }
	# batch_size: INSERTs into a foreign table go 1000 rows a round trip
	# (the default is one row a round trip)
	fdw_psql head -c "CREATE EXTENSION postgres_fdw" \
		-c "CREATE SERVER s1 FOREIGN DATA WRAPPER postgres_fdw
			OPTIONS (host '127.0.0.1', port '$FDW_PORT', dbname 'shard1', batch_size '1000')" \
		-c "CREATE SERVER s2 FOREIGN DATA WRAPPER postgres_fdw
			OPTIONS (host '127.0.0.1', port '$FDW_PORT', dbname 'shard2', batch_size '1000')" \
		-c "CREATE USER MAPPING FOR PUBLIC SERVER s1 OPTIONS (user 'postgres')" \
		-c "CREATE USER MAPPING FOR PUBLIC SERVER s2 OPTIONS (user 'postgres')" ||
		{ log_tail "PostgreSQL (fdw)" "$d/server.log"; return 1; }
	touch "$d/.ready"
	say "PostgreSQL with postgres_fdw on 127.0.0.1:$FDW_PORT (head, shard1, shard2) ($(elapsed "$t0") s)"
}

fdw_stop() {
	local d="$DIR/fdw"
	[ -d "$d" ] || return 0
	if [ -f "$d/data/postmaster.pid" ]; then
		as_pg "$PG_BIN/pg_ctl" -D "$d/data" -m immediate -w -t 30 stop >/dev/null 2>&1 || true
	fi
	rm -rf "$d"
}

# fdw_table NAME "COLS" [KEY]
fdw_table() {
	local name=$1 cols=$2 key=${3:-} parent_cols
	[ -n "$key" ] || key=$(echo "$cols" | awk '{ print $1 }')
	parent_cols=$(echo "$cols" | sed -E 's/[[:space:]]+(primary[[:space:]]+key|unique)//Ig')
	local s
	for s in shard1 shard2; do
		fdw_psql "$s" -c "DROP TABLE IF EXISTS \"$name\"" -c "CREATE TABLE \"$name\" ($cols)"
	done
	fdw_psql head -c "DROP TABLE IF EXISTS \"$name\"" \
		-c "CREATE TABLE \"$name\" ($parent_cols) PARTITION BY HASH (\"$key\")" \
		-c "CREATE FOREIGN TABLE \"${name}_p0\" PARTITION OF \"$name\"
			FOR VALUES WITH (MODULUS 2, REMAINDER 0) SERVER s1 OPTIONS (table_name '$name')" \
		-c "CREATE FOREIGN TABLE \"${name}_p1\" PARTITION OF \"$name\"
			FOR VALUES WITH (MODULUS 2, REMAINDER 1) SERVER s2 OPTIONS (table_name '$name')"
}

# ---- commands ----------------------------------------------------------------

print_env() {
	local g1=$GALERA_PORT g2=$((GALERA_PORT + 1)) g3=$((GALERA_PORT + 2))
	local s0=$SPIDER_PORT s1=$((SPIDER_PORT + 1)) s2=$((SPIDER_PORT + 2))
	[ -z "$DIR" ] || echo "export SLUICE_CLUSTERS_DIR=$DIR"
	echo "export SLUICE_GALERA_URL=mysql://root@127.0.0.1:$g1/sluice_test"
	echo "export SLUICE_GALERA_URLS='mysql://root@127.0.0.1:$g1/sluice_test mysql://root@127.0.0.1:$g2/sluice_test mysql://root@127.0.0.1:$g3/sluice_test'"
	echo "export SLUICE_GALERA_MULTI_URL=mysql://root@127.0.0.1:$g1,127.0.0.1:$g2,127.0.0.1:$g3/sluice_test"
	echo "export SLUICE_GALERA_PORTS='$g1 $g2 $g3'"
	echo "export SLUICE_SPIDER_URL=mysql://root@127.0.0.1:$s0/sluice_test"
	echo "export SLUICE_SPIDER_DN1_URL=mysql://root@$SPIDER_DN1_HOST:$s1/sluice_test"
	echo "export SLUICE_SPIDER_DN2_URL=mysql://root@$SPIDER_DN2_HOST:$s2/sluice_test"
	echo "export SLUICE_SPIDER_PORTS='$s0 $s1 $s2'"
	echo "export SLUICE_SPIDER_HOSTS='127.0.0.1 $SPIDER_DN1_HOST $SPIDER_DN2_HOST'"
	echo "export SLUICE_FDW_URL=postgresql://postgres@127.0.0.1:$FDW_PORT/head"
	echo "export SLUICE_FDW_SHARD1_URL=postgresql://postgres@127.0.0.1:$FDW_PORT/shard1"
	echo "export SLUICE_FDW_SHARD2_URL=postgresql://postgres@127.0.0.1:$FDW_PORT/shard2"
	echo "export SLUICE_FDW_PORT=$FDW_PORT"
}

print_status() {
	local n st
	for n in 1 2 3; do
		st=$(galera_state "$n")
		echo "galera node$n 127.0.0.1:$(galera_sql_port "$n") ${st:-down}"
	done
	for n in head dn1 dn2; do
		if mariadb-admin --no-defaults --socket="$(spider_sock "$n")" -uroot ping >/dev/null 2>&1; then
			echo "spider $n $(spider_host "$n"):$(spider_port "$n") up"
		else
			echo "spider $n $(spider_host "$n"):$(spider_port "$n") down"
		fi
	done
	if fdw_running; then echo "fdw 127.0.0.1:$FDW_PORT up"; else echo "fdw 127.0.0.1:$FDW_PORT down"; fi
}

start_all() {
	local t0 rc=0 gpid
	t0=$(now)
	make_seed
	# Galera takes longest (two state transfers, one after the other): it
	# starts in the background while the others start here
	galera_start &
	gpid=$!
	spider_start || rc=1
	fdw_start || rc=1
	wait "$gpid" || rc=1
	[ "$rc" -eq 0 ] && say "all started in $(elapsed "$t0") s"
	return "$rc"
}

cmd=${1:-}
what=${2:-all}
usage() {
	echo "usage: $0 start|stop [galera|spider|fdw|all] | env | status | kill-node N |" \
		"spider-table NAME COLS [KEY] | fdw-table NAME COLS [KEY]" >&2
	exit 2
}
case "$cmd" in
start | stop | env | status | kill-node | spider-table | fdw-table) ;;
*) usage ;;
esac
resolve_dir "$cmd"
if [ -z "$DIR" ]; then
	case "$cmd" in
	stop) exit 0 ;;
	env) # nothing started: the default ports
		[ "$OFFSET" != auto ] || OFFSET=0
		set_ports "$OFFSET"
		print_env
		exit 0 ;;
	*) die "no cluster directory: set SLUICE_CLUSTERS_DIR or run '$0 start' first" ;;
	esac
fi
mkdir -p "$DIR"
CLAIM=
# an "auto" offset is chosen by start only; other commands read ports.env
[ "$cmd" = start ] || [ "$OFFSET" != auto ] || OFFSET=0
load_ports
case "$cmd" in
start)
	case "$what" in
	galera) galera_start ;;
	spider) spider_start ;;
	fdw) fdw_start ;;
	all) start_all ;;
	*) echo "usage: $0 start [galera|spider|fdw|all]" >&2; exit 2 ;;
	esac ;;
stop)
	case "$what" in
	galera) galera_stop ;;
	spider) spider_stop ;;
	fdw) fdw_stop ;;
	all)
		galera_stop &
		spider_stop &
		fdw_stop &
		wait
		rm -rf "$DIR/seed" "$DIR/ports.env"
		if [ -n "$CLAIM" ] && [ "$(cat "$CLAIM/dir" 2>/dev/null)" = "$DIR" ]; then rm -rf "$CLAIM"; fi
		rmdir "$DIR" 2>/dev/null || true
		if [ -f "$LAST" ] && [ "$(cat "$LAST")" = "$DIR" ]; then rm -f "$LAST"; fi ;;
	*) echo "usage: $0 stop [galera|spider|fdw|all]" >&2; exit 2 ;;
	esac ;;
env) print_env ;;
status) print_status ;;
kill-node) galera_kill_node "${2:-}" ;;
spider-table)
	[ $# -ge 3 ] || { echo "usage: $0 spider-table NAME \"COLS\" [KEY]" >&2; exit 2; }
	spider_table "$2" "$3" "${4:-}" ;;
fdw-table)
	[ $# -ge 3 ] || { echo "usage: $0 fdw-table NAME \"COLS\" [KEY]" >&2; exit 2; }
	fdw_table "$2" "$3" "${4:-}" ;;
*) usage ;;
esac
