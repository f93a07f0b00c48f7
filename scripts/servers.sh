#!/usr/bin/env bash
# scripts/servers.sh - start and stop throwaway PostgreSQL and MariaDB servers
# on loopback, in a temporary directory, on non-default ports, and a PgBouncer
# in transaction pooling mode in front of that PostgreSQL.
#
#   scripts/servers.sh start [pg|mariadb|pgbouncer|all]   start (default: all)
#   scripts/servers.sh stop  [pg|mariadb|pgbouncer|all]   stop and delete their data
#   scripts/servers.sh restart pg|mariadb                 restart one, data kept (fault tests)
#   scripts/servers.sh env                                print the URLs as shell exports
#
# SLUICE_SERVERS_DIR (default /tmp/sluice-servers), SLUICE_PG_PORT (54329),
# SLUICE_MY_PORT (33069) and SLUICE_PGB_PORT (64329) move them.
set -euo pipefail

DIR=${SLUICE_SERVERS_DIR:-/tmp/sluice-servers}
PG_PORT=${SLUICE_PG_PORT:-54329}
MY_PORT=${SLUICE_MY_PORT:-33069}
PGB_PORT=${SLUICE_PGB_PORT:-64329}
PG_BIN=${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)}

as_pg() {
	if [ "$(id -u)" -eq 0 ]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

pg_start() {
	local d="$DIR/pg"
	if [ -f "$d/data/postmaster.pid" ] && as_pg "$PG_BIN/pg_ctl" -D "$d/data" status >/dev/null 2>&1; then
		return 0
	fi
	rm -rf "$d"
	mkdir -p "$d"
	if [ "$(id -u)" -eq 0 ]; then
		chown postgres:postgres "$d"
		chmod 755 "$DIR"
	fi
	as_pg "$PG_BIN/initdb" -D "$d/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 --no-sync >"$d/initdb.log" 2>&1 ||
		{ cat "$d/initdb.log" >&2; return 1; }
	as_pg "$PG_BIN/pg_ctl" -D "$d/data" -l "$d/server.log" -w -t 60 \
		-o "-p $PG_PORT -k $d -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off -c max_connections=50" \
		start >/dev/null || { cat "$d/server.log" >&2; return 1; }
	echo "servers: PostgreSQL on 127.0.0.1:$PG_PORT" >&2
}

pg_restart() {
	as_pg "$PG_BIN/pg_ctl" -D "$DIR/pg/data" -m fast -w -t 60 restart >/dev/null
}

pg_stop() {
	local d="$DIR/pg"
	if [ -d "$d/data" ]; then
		as_pg "$PG_BIN/pg_ctl" -D "$d/data" -m fast -w stop >/dev/null 2>&1 || true
	fi
	rm -rf "$d"
}

# PgBouncer as production PostgreSQL usually runs behind it: transaction
# pooling, and a pool of two server connections per database and user, so
# that clients really take turns on them; any database name goes to the
# server's database of that name. Two more names for "postgres":
# "postgres_wide" with a pool of eight, for a copy's readers, which hold one
# server connection each (and the one exporting their snapshot) all along;
# "postgres_stmt" in statement pooling, which sluice must refuse.
pgb_start() {
	local d="$DIR/pgbouncer"
	if [ -f "$d/pgbouncer.pid" ] && kill -0 "$(cat "$d/pgbouncer.pid")" 2>/dev/null; then
		return 0
	fi
	command -v pgbouncer >/dev/null || { echo "servers: pgbouncer is not installed" >&2; return 1; }
	rm -rf "$d"
	mkdir -p "$d"
	cat >"$d/pgbouncer.ini" <<-EOF
		[databases]
		* = host=127.0.0.1 port=$PG_PORT
		postgres_wide = host=127.0.0.1 port=$PG_PORT dbname=postgres pool_size=8
		postgres_stmt = host=127.0.0.1 port=$PG_PORT dbname=postgres pool_mode=statement
		[pgbouncer]
		listen_addr = 127.0.0.1
		listen_port = $PGB_PORT
		unix_socket_dir =
		auth_type = trust
		auth_file = $d/userlist.txt
		pool_mode = transaction
		default_pool_size = 2
		max_client_conn = 200
		server_lifetime = 3600
		ignore_startup_parameters = extra_float_digits,options
		pidfile = $d/pgbouncer.pid
		logfile = $d/pgbouncer.log
	EOF
	echo '"postgres" ""' >"$d/userlist.txt"
	local user_opt=()
	if [ "$(id -u)" -eq 0 ]; then
		chown -R postgres:postgres "$d"
		user_opt=(-u postgres) # it refuses to run as root
	fi
	pgbouncer -d "${user_opt[@]}" "$d/pgbouncer.ini" >"$d/start.log" 2>&1 ||
		{ cat "$d/start.log" "$d/pgbouncer.log" >&2; return 1; }
	# up: this one (not another on the port) listens
	for _ in $(seq 1 40); do
		if [ -f "$d/pgbouncer.pid" ] && kill -0 "$(cat "$d/pgbouncer.pid")" 2>/dev/null &&
			grep -q "process up" "$d/pgbouncer.log" 2>/dev/null; then
			echo "servers: PgBouncer (transaction pooling) on 127.0.0.1:$PGB_PORT" >&2
			return 0
		fi
		sleep 0.25
	done
	cat "$d/start.log" "$d/pgbouncer.log" >&2
	return 1
}

pgb_stop() {
	local d="$DIR/pgbouncer"
	if [ -f "$d/pgbouncer.pid" ]; then
		local pid
		pid=$(cat "$d/pgbouncer.pid")
		kill "$pid" 2>/dev/null || true
		for _ in $(seq 1 40); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.25
		done
	fi
	rm -rf "$d"
}

my_start() {
	local d="$DIR/mariadb"
	if [ -f "$d/mariadbd.pid" ] && kill -0 "$(cat "$d/mariadbd.pid")" 2>/dev/null; then
		return 0
	fi
	rm -rf "$d"
	mkdir -p "$d"
	local user_opt=()
	if [ "$(id -u)" -eq 0 ]; then
		user_opt=(--user=root)
	fi
	# --no-defaults: nothing from /etc/mysql (Debian's spider.cnf loads a
	# plugin that races the bootstrap creating the mysql schema). One more
	# try on a fresh directory if the bootstrap still fails; its errors are
	# printed last, where a CI log's tail shows them. Its temporary tables go
	# in the server's own tmp directory: bootstraps of several test jobs at
	# once in a shared /tmp lost one another's (#sql-temptable-*.MAI).
	local try
	mkdir -p "$d/tmp"
	for try in 1 2; do
		rm -rf "$d/data"
		if mariadb-install-db --no-defaults "${user_opt[@]}" --datadir="$d/data" --tmpdir="$d/tmp" \
			--auth-root-authentication-method=normal --skip-test-db >"$d/install.log" 2>&1; then
			break
		fi
		if [ "$try" = 2 ]; then
			cat "$d/install.log" >&2
			echo "servers: mariadb-install-db failed; its errors:" >&2
			grep -E '\[(ERROR|Warning)\]|error|fail' "$d/install.log" | head -20 >&2 || true
			return 1
		fi
		echo "servers: mariadb-install-db failed once, trying again" >&2
	done
	mkdir -p "$d/tmp"
	my_launch || return 1
	mariadb --no-defaults --socket="$d/mariadb.sock" -uroot \
		-e "CREATE DATABASE IF NOT EXISTS sluice_test CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"
	echo "servers: MariaDB on 127.0.0.1:$MY_PORT" >&2
}

# Run mariadbd on the data directory in $DIR/mariadb and wait until it answers.
my_launch() {
	local d="$DIR/mariadb" user_opt=()
	if [ "$(id -u)" -eq 0 ]; then
		user_opt=(--user=root)
	fi
	mariadbd --no-defaults "${user_opt[@]}" --datadir="$d/data" --port="$MY_PORT" --bind-address=127.0.0.1 \
		--tmpdir="$d/tmp" \
		--socket="$d/mariadb.sock" --pid-file="$d/mariadbd.pid" --log-error="$d/server.log" \
		--local-infile=1 --innodb-flush-log-at-trx-commit=2 --skip-log-bin \
		--max-allowed-packet=256M --character-set-server=utf8mb4 --collation-server=utf8mb4_bin \
		</dev/null >/dev/null 2>&1 &
	for _ in $(seq 1 120); do
		if mariadb-admin --no-defaults --socket="$d/mariadb.sock" -uroot ping >/dev/null 2>&1; then
			return 0
		fi
		sleep 0.5
	done
	cat "$d/server.log" >&2
	return 1
}

# Stop MariaDB (its data kept) and start it again.
my_restart() {
	local d="$DIR/mariadb" pid
	pid=$(cat "$d/mariadbd.pid")
	kill "$pid"
	for _ in $(seq 1 120); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.25
	done
	my_launch
}

my_stop() {
	local d="$DIR/mariadb"
	if [ -f "$d/mariadbd.pid" ]; then
		local pid
		pid=$(cat "$d/mariadbd.pid")
		kill "$pid" 2>/dev/null || true
		for _ in $(seq 1 60); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.5
		done
	fi
	rm -rf "$d"
}

print_env() {
	echo "export SLUICE_PG_URL=postgresql://postgres@127.0.0.1:$PG_PORT/postgres"
	echo "export SLUICE_MY_URL=mysql://root@127.0.0.1:$MY_PORT/sluice_test"
	echo "export SLUICE_MY_SOCKET=$DIR/mariadb/mariadb.sock"
	echo "export SLUICE_PG_PORT=$PG_PORT"
	echo "export SLUICE_MY_PORT=$MY_PORT"
	echo "export SLUICE_PG_SOCKET_DIR=$DIR/pg"
	echo "export SLUICE_PGB_URL=postgresql://postgres@127.0.0.1:$PGB_PORT/postgres"
	echo "export SLUICE_PGB_PORT=$PGB_PORT"
	# the server's own client programs first: Debian's psql is a Perl
	# wrapper (pg_wrapper) that spends about 40 ms of CPU on each call
	# before it runs the real one, which the tests (thousands of psql
	# calls) and the benchmarks (psql is an anchor) should not pay
	if [ -x "$PG_BIN/psql" ]; then
		case ":$PATH:" in
		*":$PG_BIN:"*) ;;
		*) echo "export PATH=$PG_BIN:\$PATH" ;;
		esac
	fi
}

cmd=${1:-}
what=${2:-all}
mkdir -p "$DIR"
case "$cmd" in
start)
	case "$what" in
	pg) pg_start ;;
	mariadb) my_start ;;
	pgbouncer) pgb_start ;;
	all) pg_start && my_start && pgb_start ;;
	*) echo "usage: $0 start [pg|mariadb|pgbouncer|all]" >&2; exit 2 ;;
	esac ;;
stop)
	case "$what" in
	pg) pg_stop ;;
	mariadb) my_stop ;;
	pgbouncer) pgb_stop ;;
	all) pgb_stop; pg_stop; my_stop ;;
	*) echo "usage: $0 stop [pg|mariadb|pgbouncer|all]" >&2; exit 2 ;;
	esac ;;
restart)
	case "$what" in
	pg) pg_restart ;;
	mariadb) my_restart ;;
	*) echo "usage: $0 restart pg|mariadb" >&2; exit 2 ;;
	esac ;;
env) print_env ;;
*) echo "usage: $0 start|stop|restart|env [pg|mariadb|pgbouncer|all]" >&2; exit 2 ;;
esac
