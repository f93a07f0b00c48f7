#!/usr/bin/env bash
# bench/json.sh - JSON input: peak resident memory while loading a JSON array
# of about 150 MB (target: under 64 MB), and JSON load speed in rows/s next
# to CSV's for the same rows, into PostgreSQL. Needs SLUICE_PG_URL (as
# `scripts/servers.sh env` prints); run by bench/run.sh.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
. bench/lib.sh
SLUICE=${SLUICE:-$ROOT/bin/sluice}
ROWS=${BENCH_JSON_ROWS:-530000}
mkdir -p bench/data
[ -x bench/data/gen ] || cc -O2 -std=gnu11 -o bench/data/gen bench/gen.c || exit 1
JSON=bench/data/bench-$ROWS.json
NDJSON=bench/data/bench-$ROWS.ndjson
CSV=bench/data/bench-$ROWS.csv
[ -s "$JSON" ] || bench/data/gen "$ROWS" --json >"$JSON"
[ -s "$NDJSON" ] || bench/data/gen "$ROWS" --ndjson >"$NDJSON"
[ -s "$CSV" ] || bench/data/gen "$ROWS" >"$CSV"
export PGOPTIONS="-c client_min_messages=warning"
pg() { psql "$SLUICE_PG_URL" -XAtq -v ON_ERROR_STOP=1 "$@"; }
pg -f bench/table_pg.sql

echo "== JSON input (${BENCH_ROUNDS:-3} rounds, best kept; $ROWS rows: array $(($(stat -c %s "$JSON") / 1000000)) MB, CSV $(($(stat -c %s "$CSV") / 1000000)) MB)"
for round in $(seq 1 "${BENCH_ROUNDS:-3}"); do
	for f in "$JSON" "$NDJSON" "$CSV"; do
		label="sluice copy $(basename "$f" | sed 's/.*\.//')"
		pg -c "truncate bench"
		measure "$label" "$SLUICE" load "$f" "$SLUICE_PG_URL" --table bench -q || exit 1
		n=$(pg -c "select count(*) from bench")
		[ "$n" = "$ROWS" ] || { echo "bench: $label loaded $n rows, expected $ROWS" >&2; exit 1; }
	done
done
# the same values either way
sum_json=$(pg -c "select sum(amount), sum(quantity), count(*) filter (where active) from bench")
pg -c "truncate bench"
"$SLUICE" load "$JSON" "$SLUICE_PG_URL" --table bench -q
[ "$(pg -c "select sum(amount), sum(quantity), count(*) filter (where active) from bench")" = "$sum_json" ] ||
	{ echo "bench: JSON and CSV loads differ" >&2; exit 1; }
rate() { awk -v r="$ROWS" -v s="${BENCH_SECS[$1]}" 'BEGIN { printf "%.0f rows/s", r / s }'; }
cpu() { echo "${BENCH_CPU[$1]} s CPU"; }
echo
echo "JSON array: $(rate "sluice copy json"), $(cpu "sluice copy json"), peak ${BENCH_RSS[sluice copy json]} MB (target: < 64 MB)"
echo "NDJSON:     $(rate "sluice copy ndjson"), $(cpu "sluice copy ndjson"), peak ${BENCH_RSS[sluice copy ndjson]} MB"
echo "CSV:        $(rate "sluice copy csv"), $(cpu "sluice copy csv"), peak ${BENCH_RSS[sluice copy csv]} MB"
# rows/s of NDJSON over CSV's is CSV's wall time over NDJSON's
echo "NDJSON rows/s / CSV rows/s: $(ratio "sluice copy csv" "sluice copy ndjson") (target: >= 0.60x)"
