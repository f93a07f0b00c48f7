#!/usr/bin/env python3
# tests/tools/ledger_check.py - whether the balances a run left agree with
# the transfers it rejected, computed apart from sluice: every transfer of
# the ledger is either rejected whole (both its rows in the rejects files)
# or applied (each balance is the opening one plus the deltas of the
# transfers not rejected); no balance is negative. For runs whose order is
# not one writer's (killed and resumed, several processes), where which
# transfers the CHECK refuses may differ from ledger_gen.py's expected.txt.
#
# usage: ledger_check.py DIR BALANCES REJECTS...
#   DIR holds ledger.csv and opening.csv; BALANCES is "id|balance" lines.
# Prints "ok N" (N refused transfers) or what is wrong, one line each.
import csv
import sys
from decimal import Decimal

d, balances_path, rejects = sys.argv[1], sys.argv[2], sys.argv[3:]
ledger = {}
with open(f"{d}/ledger.csv") as f:
    for row in list(csv.reader(f))[1:]:
        ledger.setdefault(row[0], []).append((row[1], Decimal(row[2])))
rejected = {}
for path in rejects:
    with open(path) as f:
        for row in list(csv.reader(f))[1:]:
            if len(row) < 3:
                continue
            rejected.setdefault(row[0], []).append((row[1], Decimal(row[2])))
want = {}
with open(f"{d}/opening.csv") as f:
    for row in csv.reader(f):
        want[row[0]] = Decimal(row[1])
bad = []
for t, rows in rejected.items():
    # several processes sharing a job may each reject a transfer
    if sorted(set(rows)) != sorted(set(ledger.get(t, []))):
        bad.append(f"transfer {t} is not rejected whole (or twice): {rows}")
for t, rows in ledger.items():
    if t not in rejected:
        for acct, delta in rows:
            want[acct] += delta
with open(balances_path) as f:
    got = {}
    for line in f:
        acct, bal = line.strip().split("|")
        got[acct] = Decimal(bal)
for acct in want:
    if got.get(acct) != want[acct]:
        bad.append(f"account {acct}: {got.get(acct)}, expected {want[acct]}")
    elif want[acct] < 0:
        bad.append(f"account {acct}: negative {want[acct]}")
print("\n".join(bad[:20]) if bad else f"ok {len(rejected)}")
