#!/usr/bin/env bash
# bench/resume.sh [CSV] - what --resume costs: the 1,000,000-row load with
# and without --resume (a checkpoint row in each batch's transaction, the
# checkpoint table created by the run), on PostgreSQL (COPY) and MariaDB
# (LOAD DATA LOCAL), runs alternating, which one goes first switching each
# round. Target: at most 3% more. Every run is checked (the row count;
# --resume: every record in the checkpoint table). The difference is small
# beside the noise of a shared machine, so best of BENCH_RESUME_ROUNDS (5). Needs SLUICE_PG_URL and SLUICE_MY_URL (TCP, no
# password) as `scripts/servers.sh env` prints; run by bench/run.sh.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
. bench/lib.sh
SLUICE=${SLUICE:-$ROOT/bin/sluice}
ROUNDS=${BENCH_RESUME_ROUNDS:-5}
PG_URL=${SLUICE_PG_URL:?set SLUICE_PG_URL (see scripts/servers.sh env)}
MY_URL=${SLUICE_MY_URL:?set SLUICE_MY_URL (see scripts/servers.sh env)}
bench_csv "${1:-}"
export PGOPTIONS="-c client_min_messages=warning"
pg() { psql "$PG_URL" -XAtq -v ON_ERROR_STOP=1 "$@"; }
bench_my_client "$MY_URL"
my() { "${my_client[@]}" -D "$MY_DB" "$@"; }

# check SERVER LABEL RESUMED: the rows, and with --resume their checkpoints
check() {
	local q="SELECT COUNT(*) FROM bench" n k
	if [ "$1" = pg ]; then n=$(pg -c "$q"); else n=$(my -e "$q"); fi
	if [ "$n" != "$ROWS" ]; then
		echo "bench: $2 loaded $n rows, expected $ROWS" >&2
		exit 1
	fi
	[ "$3" = yes ] || return 0
	q="SELECT SUM(end_rec - first_rec) FROM sluice_checkpoints WHERE kind = 1"
	if [ "$1" = pg ]; then k=$(pg -c "$q"); else k=$(my -e "$q"); fi
	if [ "$k" != "$ROWS" ]; then
		echo "bench: $2 checkpointed $k records, expected $ROWS" >&2
		exit 1
	fi
}

echo "== --resume: $(basename "$CSV") with and without it ($ROUNDS rounds, best kept)"
pg -f bench/table_pg.sql
my <bench/table_mysql.sql
# one_run SERVER RESUME: load the file into an empty table, timed, checked
one_run() {
	local label extra=()
	if [ "$1" = pg ]; then
		label="PostgreSQL load"
		pg -c "truncate bench" -c "drop table if exists sluice_checkpoints" -c "checkpoint"
	else
		label="MariaDB load"
		extra=(--method infile)
		my -e "TRUNCATE bench; DROP TABLE IF EXISTS sluice_checkpoints"
	fi
	local url=$PG_URL
	[ "$1" = my ] && url=$MY_URL
	if [ "$2" = yes ]; then
		label="$label --resume"
		extra+=(--resume)
	fi
	measure "$label" "$SLUICE" load "$CSV" "$url" --table bench "${extra[@]}" -q
	check "$1" "$label" "$2"
}
# one server at a time: PostgreSQL's background work after a load (autovacuum,
# checkpoints) would otherwise land on the MariaDB runs
for server in pg my; do
	for round in $(seq 1 "$ROUNDS"); do
		if [ $((round % 2)) = 1 ]; then
			one_run $server no
			one_run $server yes
		else
			one_run $server yes
			one_run $server no
		fi
	done
	[ $server = pg ] && pg -c "truncate bench" -c "drop table if exists sluice_checkpoints" -c "checkpoint"
done
echo
echo "--resume (wall time / the same load without it; target: <= 1.03x):"
echo "  PostgreSQL: $(ratio "PostgreSQL load --resume" "PostgreSQL load")"
echo "  MariaDB:    $(ratio "MariaDB load --resume" "MariaDB load")"
pg -c "drop table bench" -c "drop table if exists sluice_checkpoints"
my -e "DROP TABLE bench; DROP TABLE IF EXISTS sluice_checkpoints"
