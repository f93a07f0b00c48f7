#!/usr/bin/env bash
# tests/integration/t_jobfile.sh - sluice run JOBFILE: a nightly job of five
# steps (two incremental copies MariaDB -> PostgreSQL, a CSV load with resume, an
# update, a verify) run twice with changes in between; errors in the file
# named by line and step before anything runs; an unset variable; --only;
# --dry-run writing nothing; on-error = continue; the worst exit code.
. "$(dirname "$0")/lib.sh"
export PGTZ=UTC

fresh jf
MY=$MY_BASE/jf
PG=$PG_BASE/jf
IN=$TMP/in
mkdir -p "$IN"
TODAY=$(date +%F)
myd jf -e "CREATE TABLE customers (id INT PRIMARY KEY, name VARCHAR(40), updated_at DATETIME(6));
	CREATE TABLE products (id INT PRIMARY KEY, title VARCHAR(40), price DECIMAL(8,2), updated_at DATETIME(6));
	INSERT INTO customers VALUES (1,'ann','2026-01-01 00:00:00'),(2,'bob','2026-01-01 00:00:00');
	INSERT INTO products VALUES (10,'pen',1.50,'2026-01-01 00:00:00'),(11,'ink',4.25,'2026-01-01 00:00:00')"
pgd jf -c "create table orders (order_id int primary key, customer int, amount numeric(8,2), status text)"

# the nightly job: every value a sluice option; the copies are
# incremental, the rows the source deleted deleted in the target too
cat >"$TMP/nightly.ini" <<EOF
[defaults]
target = $PG
progress = log

[step customers]
command = copy
from = $MY
to = $PG
tables = customers
create = true
incremental = updated_at,id
delete-missing = true

[step products]
command = copy
from = \${JF_SOURCE}
to = $PG
tables = products
create = true
incremental = updated_at,id
delete-missing = true

[step orders]
command = load
sources = $IN/orders-{date}-\${JF_BATCH}.csv
table = orders
on-conflict = update
key = order_id
resume = true

[step status]
command = update
sources = $IN/status-\${JF_BATCH}.csv
table = orders
key = order_id

[step check]
command = verify
from = $MY
to = $PG
tables = customers,products
EOF
export JF_SOURCE=$MY

test_case "a nightly job of five steps, run twice with changes in between"
printf 'order_id,customer,amount,status\n1,1,10.00,new\n2,2,20.00,new\n3,1,30.00,new\n' >"$IN/orders-$TODAY-1.csv"
printf 'order_id,status\n1,shipped\n' >"$IN/status-1.csv"
JF_BATCH=1 run_sluice nightly1 0 run "$TMP/nightly.ini" --summary-json "$TMP/n1.json"
assert_eq "customers copied" "1	ann
2	bob" "$(pgd jf -c "select id, name from customers order by id")"
assert_eq "products copied" "10	pen	1.50
11	ink	4.25" "$(pgd jf -c "select id, title, price from products order by id")"
assert_eq "orders loaded, one updated" "1	1	10.00	shipped
2	2	20.00	new
3	1	30.00	new" "$(pgd jf -c "select * from orders order by order_id")"
assert_contains "verify matched" "customers	2	2	match" "$OUT"
assert_contains "one summary: the steps" '"steps": [{"step": "customers", "command": "copy", "status": "ok"' "$(cat "$TMP/n1.json")"
assert_contains "one summary: the run" '"status": "ok", "exit_code": 0, "version"' "$(cat "$TMP/n1.json")"
assert_contains "the load's rows in it" '"table": "orders", "rows_read": 3, "rows_written": 3' "$(cat "$TMP/n1.json")"

myd jf -e "UPDATE customers SET name='anne', updated_at='2026-01-02 00:00:00' WHERE id=1;
	INSERT INTO customers VALUES (3,'cy','2026-01-02 00:00:00');
	DELETE FROM products WHERE id=11"
printf 'order_id,customer,amount,status\n3,1,33.00,new\n4,3,40.00,new\n' >"$IN/orders-$TODAY-2.csv"
printf 'order_id,status\n2,shipped\n4,paid\n' >"$IN/status-2.csv"
JF_BATCH=2 run_sluice nightly2 0 run "$TMP/nightly.ini" -q --summary-json "$TMP/n2.json"
assert_contains "the second copy read only the changed rows" '"table": "customers", "rows_read": 2, "rows_written": 2' "$(cat "$TMP/n2.json")"
assert_contains "and deleted the row the source deleted" '"rows_deleted": 1' "$(cat "$TMP/n2.json")"
assert_eq "customers follow the source" "1	anne
2	bob
3	cy" "$(pgd jf -c "select id, name from customers order by id")"
assert_eq "products follow the source" "10	pen	1.50" "$(pgd jf -c "select id, title, price from products order by id")"
assert_eq "orders upserted and updated" "1	1	10.00	shipped
2	2	20.00	shipped
3	1	33.00	new
4	3	40.00	paid" "$(pgd jf -c "select * from orders order by order_id")"
assert_eq "the load's checkpoints: both files" "2" \
	"$(pgd jf -c "select count(distinct source) from sluice_checkpoints where source like '%orders-%'")"
JF_BATCH=1 run_sluice nightly1-again 0 run "$TMP/nightly.ini" --only orders --summary-json "$TMP/n3.json" -q
assert_contains "a rerun of a loaded file is skipped (resume)" '"rows_written": 0' "$(cat "$TMP/n3.json")"
assert_eq "orders unchanged by it" "1	1	10.00	shipped" "$(pgd jf -c "select * from orders where order_id = 1")"

test_case "a mistake on line 7: FILE:LINE and the step, nothing runs"
cat >"$TMP/bad.ini" <<EOF
[defaults]
target = $PG

[step first]
command = load
sources = $IN/status-1.csv
workers = many
table = never

[step second]
command = ping
EOF
run_sluice bad 2 run "$TMP/bad.ini"
assert_contains "line 7 and the step" "bad.ini:7: [step first] --workers takes a whole number from 1 to 64, not 'many'" "$OUT"
sed -i 's/^workers = many$/wrokers = 2/' "$TMP/bad.ini"
run_sluice bad-key 2 run "$TMP/bad.ini"
assert_contains "an unknown key, with what was meant" "bad.ini:7: [step first] unknown key wrokers: did you mean workers?" "$OUT"
sed -i 's/^wrokers = 2$/set = status/' "$TMP/bad.ini"
run_sluice bad-cmd 2 run "$TMP/bad.ini"
assert_contains "an option the command does not take" "[step first] --set is for sluice update" "$OUT"
assert_eq "nothing created" "0" "$(pgd jf -c "select count(*) from pg_tables where tablename = 'never'")"

test_case "a variable that is not set: named, nothing runs"
unset JF_BATCH
pgd jf -c "delete from orders where order_id = 4"
run_sluice noenv 2 run "$TMP/nightly.ini"
assert_contains "names it, its line and step" "nightly.ini:25: [step orders] sources: the environment variable JF_BATCH is not set" "$OUT"
assert_eq "the first steps did not run" "3" "$(pgd jf -c "select count(*) from orders")"
assert_eq "no copy either" "3" "$(pgd jf -c "select count(*) from customers")"

test_case "--dry-run: every step's plan, nothing written, no password"
export JF_BATCH=2 JF_SOURCE="mysql://root:s3cret@127.0.0.1:1/jf"
myd jf -e "INSERT INTO customers VALUES (5,'dee','2026-01-03 00:00:00')"
sed -i "s|^command = verify|command = verify\nsummary-json = $TMP/v-{yesterday:%Y%m%d}.json|" "$TMP/nightly.ini"
cat >"$TMP/dry.ini" <<EOF
[step peek]
command = verify
from = \${JF_SOURCE}
to = $PG
summary-json = $TMP/v-{yesterday:%Y%m%d}.json
EOF
run_sluice dry 0 run "$TMP/dry.ini" --dry-run
assert_contains "the command line, the date put in" "v-$(date -d yesterday +%Y%m%d).json" "$OUT"
assert_contains "the password redacted" "mysql://root:***@127.0.0.1:1/jf" "$OUT"
assert_not_contains "never the password" "s3cret" "$OUT"
export JF_SOURCE=$MY
run_sluice dry-nightly 0 run "$TMP/nightly.ini" --dry-run
assert_contains "load's own plan" "INSERT INTO" "$OUT"
assert_eq "no copy ran" "3" "$(pgd jf -c "select count(*) from customers")"
assert_eq "no load ran" "3" "$(pgd jf -c "select count(*) from orders")"

test_case "--only runs the named steps"
run_sluice only 0 run "$TMP/nightly.ini" --only customers,check -q
assert_eq "customers copied" "4" "$(pgd jf -c "select count(*) from customers")"
assert_eq "orders left alone" "3" "$(pgd jf -c "select count(*) from orders")"
run_sluice only-bad 2 run "$TMP/nightly.ini" --only custmers
assert_contains "an unknown step named" "has no [step custmers]" "$OUT"

test_case "a failing step stops the run, unless on-error = continue; the worst exit code"
printf 'order_id,customer,amount,status\n7,1,x,new\n8,1,8.00,new\n' >"$IN/rej.csv"
cat >"$TMP/errs.ini" <<EOF
[defaults]
target = $PG
table = orders

[step partial]
command = load
sources = $IN/rej.csv

[step missing]
command = load
sources = $IN/no-such-file.csv

[step last]
command = update
sources = $IN/status-1.csv
key = order_id
EOF
run_sluice stop 2 run "$TMP/errs.ini" -q
assert_contains "says what did not run" "step missing failed: not run: last" "$OUT"
assert_eq "the good row of the partial step in" "8	8.00" "$(pgd jf -c "select order_id, amount from orders where order_id in (7, 8)")"
sed -i 's|^sources = .*no-such-file.csv$|&\non-error = continue|' "$TMP/errs.ini"
pgd jf -c "update orders set status = 'x' where order_id = 1; delete from orders where order_id = 8"
run_sluice continue 2 run "$TMP/errs.ini" -q --summary-json "$TMP/e.json"
assert_eq "the step after it ran" "shipped" "$(pgd jf -c "select status from orders where order_id = 1")"
assert_contains "each step's status" '{"step": "partial", "command": "load", "status": "partial", "exit_code": 3' "$(cat "$TMP/e.json")"
assert_contains "the worst is the run's" '"status": "failed", "exit_code": 2' "$(cat "$TMP/e.json")"
sed -i '/^\[step missing\]$/,/^on-error = continue$/d' "$TMP/errs.ini"
pgd jf -c "delete from orders where order_id = 8"
run_sluice partial 3 run "$TMP/errs.ini" -q
assert_eq "rows rejected and the rest ok: 3" "8	8.00" "$(pgd jf -c "select order_id, amount from orders where order_id in (7, 8)")"
finish
