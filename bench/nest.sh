#!/usr/bin/env bash
# bench/nest.sh - load --nest: 1,000,000 NDJSON documents with on average 5
# children each (an array of 0 to 10 objects) into a parent and a child
# table, created by the run, on PostgreSQL (COPY) and MariaDB (multi-row
# INSERT): documents/s, rows/s (parents and children) and peak RSS, which
# the batches in flight bound, not the input. Every run is checked: the
# row counts and the sum of a child column against python3's reading of
# the input. BENCH_NEST_DOCS (1000000) changes the size. Needs
# SLUICE_PG_URL and SLUICE_MY_URL (TCP, no password) as
# `scripts/servers.sh env` prints; run by bench/run.sh.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
. bench/lib.sh
SLUICE=${SLUICE:-$ROOT/bin/sluice}
DOCS=${BENCH_NEST_DOCS:-1000000}
PG_URL=${SLUICE_PG_URL:?set SLUICE_PG_URL (see scripts/servers.sh env)}
MY_URL=${SLUICE_MY_URL:?set SLUICE_MY_URL (see scripts/servers.sh env)}
export PGOPTIONS="-c client_min_messages=warning"
pg() { psql "$PG_URL" -XAtq -v ON_ERROR_STOP=1 "$@"; }
bench_my_client "$MY_URL"
my() { "${my_client[@]}" -D "$MY_DB" "$@"; }

mkdir -p bench/data
IN=bench/data/nest-$DOCS.ndjson
# the input, and beside it what it holds: "documents children sum(qty)"
if [ ! -s "$IN" ] || [ ! -s "$IN.want" ]; then
	python3 - "$IN" "$DOCS" <<'EOF' || exit 1
import json, random, sys
path, n = sys.argv[1], int(sys.argv[2])
rnd = random.Random(25)
kids = qty = 0
with open(path, "w") as f:
    for i in range(n):
        k = rnd.randint(0, 10)
        items = []
        for p in range(k):
            q = rnd.randint(1, 99)
            qty += q
            items.append({"sku": "sku-%06d" % rnd.randint(0, 999999), "qty": q, "price": round(rnd.random() * 100, 2)})
        kids += k
        f.write(json.dumps({"_id": i, "name": "customer %d" % i, "score": rnd.randint(0, 1000), "items": items}) + "\n")
with open(path + ".want", "w") as w:
    w.write("%d %d %d\n" % (n, kids, qty))
EOF
fi
read -r _ KIDS _ <"$IN.want"
echo "== load --nest ($DOCS documents, $KIDS children, $(($(stat -c %s "$IN") / 1000000)) MB NDJSON)"

Q="SELECT (SELECT COUNT(*) FROM nb), (SELECT COUNT(*) FROM nb_items), (SELECT SUM(qty) FROM nb_items)"
for server in pg my; do
	if [ $server = pg ]; then
		URL=$PG_URL
		pg -c "drop table if exists nb_items, nb"
	else
		URL=$MY_URL
		my -e "DROP TABLE IF EXISTS nb_items, nb"
	fi
	measure "sluice --nest $server" "$SLUICE" load "$IN" "$URL" --table nb --key _id --nest items \
		--create -q || exit 1
	if [ $server = pg ]; then got=$(pg -F ' ' -c "$Q"); else got=$(my -e "$Q" | tr '\t' ' '); fi
	if [ "$got" != "$(cat "$IN.want")" ]; then
		echo "bench: --nest into $server holds \"$got\", expected \"$(cat "$IN.want")\"" >&2
		exit 1
	fi
	if [ $server = pg ]; then pg -c "drop table nb_items, nb"; else my -e "DROP TABLE nb_items, nb"; fi
done
rate() { awk -v d="$DOCS" -v k="$KIDS" -v s="${BENCH_SECS[$1]}" 'BEGIN { printf "%.0f documents/s, %.0f rows/s", d / s, (d + k) / s }'; }
echo
echo "PostgreSQL: $(rate "sluice --nest pg"), peak ${BENCH_RSS[sluice --nest pg]} MB"
echo "MariaDB:    $(rate "sluice --nest my"), peak ${BENCH_RSS[sluice --nest my]} MB"
