#!/usr/bin/env bash
# tests/integration/run.sh - start throwaway servers, run every
# tests/integration/t_*.sh (or those named), stop the servers, print totals.
#
# SLUICE_TEST_JOBS (default 4) runs that many test files at once, each job
# on a set of servers of its own (its own directory and ports, 20 apart), so
# no two files share a table, and a file that restarts or stalls its server
# touches no other. The longest files start first; each file's output is
# printed whole, in the order the files were named, with its time.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"

JOBS=${SLUICE_TEST_JOBS:-4}
# the servers' files in memory when /dev/shm has room for them (4 GB): the
# tests measure no disk, and on a 2-core machine its writes and syncs only
# slow the others
SHM=/tmp
[ -w /dev/shm ] && [ "$(df -Pk /dev/shm 2>/dev/null | awk 'NR == 2 { print $4 }')" -ge 4194304 ] 2>/dev/null &&
	SHM=/dev/shm
BASE_DIR=${SLUICE_SERVERS_DIR:-$(mktemp -d "$SHM/sluice-servers.XXXXXX")}
PG_PORT0=${SLUICE_PG_PORT:-54329}
MY_PORT0=${SLUICE_MY_PORT:-33069}
PGB_PORT0=${SLUICE_PGB_PORT:-64329}
OUT=$(mktemp -d /tmp/sluice-results.XXXXXX)

tests=("$@")
if [ "${#tests[@]}" -eq 0 ]; then
	tests=(tests/integration/t_*.sh)
fi
[ "$JOBS" -gt "${#tests[@]}" ] && JOBS=${#tests[@]}
[ "$JOBS" -ge 1 ] || JOBS=1

# job i's servers: SLUICE_SERVERS_DIR and the ports as exports
job_env() {
	local i=$1 dir=$BASE_DIR
	[ "$JOBS" -gt 1 ] && dir=$BASE_DIR/job$i
	echo "export SLUICE_SERVERS_DIR=$dir SLUICE_PG_PORT=$((PG_PORT0 + 20 * i))" \
		"SLUICE_MY_PORT=$((MY_PORT0 + 20 * i)) SLUICE_PGB_PORT=$((PGB_PORT0 + 20 * i))"
}

stop_all() {
	for ((i = 0; i < JOBS; i++)); do
		(eval "$(job_env $i)" && scripts/servers.sh stop all) >/dev/null 2>&1
	done
	rm -rf "$BASE_DIR" "$OUT"
}
trap stop_all EXIT

mkdir -p "$BASE_DIR"
chmod 755 "$BASE_DIR"
pids=()
for ((i = 0; i < JOBS; i++)); do
	(
		eval "$(job_env $i)"
		mkdir -p "$SLUICE_SERVERS_DIR" && chmod 755 "$SLUICE_SERVERS_DIR"
		scripts/servers.sh start all
	) >"$OUT/servers$i.log" 2>&1 &
	pids+=($!)
done
for ((i = 0; i < JOBS; i++)); do
	if ! wait "${pids[$i]}"; then
		cat "$OUT/servers$i.log" >&2
		echo "integration: cannot start the servers" >&2
		exit 1
	fi
done

# the order files start in: the longest first (as measured), then the rest
# as named
LONG="t_ledger t_hang t_install t_realdb t_csv_paths t_terminal t_clusters t_faults t_resume t_incremental t_export t_sqlite t_promise2
t_verify t_signals t_promise_pg t_promise_mysql t_copy_schema t_resume_keys t_pg_binary"
order=()
for name in $LONG; do
	for i in "${!tests[@]}"; do
		[ "$(basename "${tests[$i]}" .sh)" = "$name" ] && order+=("$i")
	done
done
for i in "${!tests[@]}"; do
	case " ${order[*]} " in *" $i "*) ;; *) order+=("$i") ;; esac
done
printf '%s\n' "${order[@]}" >"$OUT/queue"
: >"$OUT/next"

# one job: take the next file from the queue until it is empty
run_job() {
	eval "$(job_env "$1")"
	eval "$(scripts/servers.sh env)"
	while :; do
		local k
		k=$(
			{
				flock 9
				n=$(wc -l <"$OUT/next")
				echo x >>"$OUT/next"
				sed -n "$((n + 1))p" "$OUT/queue"
			} 9>"$OUT/lock"
		)
		[ -n "$k" ] || break
		local t=${tests[$k]} t0=$SECONDS
		bash "$t" >"$OUT/$k.out" 2>&1
		echo "$? $((SECONDS - t0))" >"$OUT/$k.rc"
	done
}
for ((i = 0; i < JOBS; i++)); do
	run_job "$i" &
	pids[$i]=$!
done
wait

passed=0
failed=0
bad_files=()
for k in "${!tests[@]}"; do
	t=${tests[$k]}
	echo "== $t"
	cat "$OUT/$k.out" 2>/dev/null
	read -r rc took <"$OUT/$k.rc" 2>/dev/null || {
		rc=1
		took=?
	}
	echo "# $t took $took s"
	tally=$(awk '/^# tally /{p=$3; f=$4} END{print p+0, f+0}' "$OUT/$k.out" 2>/dev/null)
	p=${tally% *}
	f=${tally#* }
	passed=$((passed + p))
	failed=$((failed + f))
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		failed=$((failed + 1))
		echo "not ok - $t exited $rc"
	fi
	[ "$rc" -ne 0 ] && bad_files+=("$t")
done
echo
[ "${#bad_files[@]}" -gt 0 ] && echo "failing: ${bad_files[*]}"
echo "integration: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
