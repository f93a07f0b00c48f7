#!/usr/bin/env python3
# tests/tools/ledger_gen.py - the ledger t_ledger.sh applies, and what
# it must come to, computed here apart from sluice: a CSV of transfers (two
# rows, a debit and a credit, sharing a transfer id), some of them
# "poison" (a debit larger than all the money there is, which CHECK
# (balance >= 0) refuses whatever the order); the opening balances; the
# expected balances (opening + every delta of the other transfers); and
# the poison rows, as the rejects file must hold them.
import random
import sys
from decimal import Decimal

out, accounts, transfers = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rng = random.Random(24)
opening = {a: Decimal(rng.randint(50000, 150000)) for a in range(1, accounts + 1)}
balance = dict(opening)
poison = []
with open(f"{out}/ledger.csv", "w") as f:
    f.write("transfer,id,balance\n")
    for t in range(1, transfers + 1):
        a, b = rng.sample(range(1, accounts + 1), 2)
        bad = t % 97 == 0
        amt = Decimal("99999999.99") if bad else Decimal(rng.randint(1, 5000)) / 100
        rows = [f"T{t},{a},{-amt}", f"T{t},{b},{amt}"]
        if bad:
            poison += rows
        else:
            balance[a] -= amt
            balance[b] += amt
        f.write("\n".join(rows) + "\n")
with open(f"{out}/opening.csv", "w") as f:
    for a in sorted(opening):
        f.write(f"{a},{opening[a]:.2f}\n")
with open(f"{out}/expected.txt", "w") as f:
    for a in sorted(balance):
        f.write(f"{a}|{balance[a]:.2f}\n")
with open(f"{out}/poison.txt", "w") as f:
    f.write("\n".join(sorted(poison)) + "\n")
print(f"{sum(opening.values()):.2f}")
