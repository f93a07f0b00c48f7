#!/usr/bin/env bash
# scripts/demo.sh - the main job on built-in defaults: start throwaway
# servers, load samples/ into them, show the summary and the loaded data.
# Set SLUICE_DEMO_KEEP=1 to leave the servers running afterwards.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
export SLUICE_SERVERS_DIR=${SLUICE_SERVERS_DIR:-/tmp/sluice-demo}
scripts/servers.sh start all
eval "$(scripts/servers.sh env)"
if [ "${SLUICE_DEMO_KEEP:-0}" != 1 ]; then
	trap 'scripts/servers.sh stop all' EXIT
fi
export PGTZ=UTC PGOPTIONS="-c client_min_messages=warning"
# a redrawn progress line on a terminal, log lines otherwise
PROGRESS="--progress log --stats-interval 0.1"
[ -t 2 ] && PROGRESS="--progress bar"

echo
echo "== PostgreSQL: $SLUICE_PG_URL"
psql "$SLUICE_PG_URL" -Xq -f samples/schema_pg.sql
set -x
bin/sluice load samples/customers.csv "$SLUICE_PG_URL"
bin/sluice load samples/orders.csv.gz "$SLUICE_PG_URL" --method insert --workers 2 --batch-rows 2000 $PROGRESS
{ set +x; } 2>/dev/null
psql "$SLUICE_PG_URL" -X -c "SELECT c.city, count(DISTINCT c.id) AS customers, count(o.*) AS orders, sum(o.amount) AS amount
  FROM customers c LEFT JOIN orders o ON o.customer_id = c.id GROUP BY c.city ORDER BY c.city"

if [ -f samples/schema_mysql.sql ] && bin/sluice ping "$SLUICE_MY_URL" >/dev/null 2>&1; then
	echo "== MariaDB: $SLUICE_MY_URL"
	mariadb --no-defaults --default-character-set=utf8mb4 -h127.0.0.1 -P"$SLUICE_MY_PORT" -uroot sluice_test <samples/schema_mysql.sql
	set -x
	bin/sluice load samples/customers.csv "$SLUICE_MY_URL"
	bin/sluice load samples/orders.csv.gz "$SLUICE_MY_URL" --method infile --workers 2 --batch-rows 2000 $PROGRESS
	{ set +x; } 2>/dev/null
	mariadb --no-defaults --default-character-set=utf8mb4 -h127.0.0.1 -P"$SLUICE_MY_PORT" -uroot sluice_test -t -e \
		"SELECT c.city, count(DISTINCT c.id) AS customers, count(o.order_id) AS orders, sum(o.amount) AS amount
		 FROM customers c LEFT JOIN orders o ON o.customer_id = c.id GROUP BY c.city ORDER BY c.city"
fi
