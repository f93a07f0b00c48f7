#!/usr/bin/env python3
# tests/tools/ledger_gen.py - the ledger t_ledger.sh applies, and what
# it must come to, computed here apart from sluice: a CSV of transfers (two
# rows, a debit and a credit, sharing a transfer id) between accounts whose
# one account in POOR has a balance small next to the amounts, so CHECK
# (balance >= 0) refuses a debit of it or not depending on what came before
# it: the result depends on the order transfers apply in. Some are "poison" (a debit larger
# than all the money there is), refused in any order.
#
# The transfers come in chunks of CHUNK, chunk i between the accounts of
# region i % REGIONS, so neighbouring batches share no account (and may go
# to writers at once) while every other one does.
#
# Writes ledger.csv, opening.csv, expected.txt (each balance after applying
# the transfers one after another in input order, a refused one not at all:
# what one writer does) and refused.txt (the rows of the refused transfers,
# sorted, as a rejects file holds them). Prints the sum of the balances.
#
# usage: ledger_gen.py DIR ACCOUNTS TRANSFERS [REGIONS [CHUNK [POOR [POISON]]]]
#   one account in POOR (default 20) is poor, one transfer in POISON
#   (default 997) is poison
import random
import sys
from decimal import Decimal

out, accounts, transfers = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
regions = int(sys.argv[4]) if len(sys.argv) > 4 else 2
chunk = int(sys.argv[5]) if len(sys.argv) > 5 else 100
poor = int(sys.argv[6]) if len(sys.argv) > 6 else 20
poison = int(sys.argv[7]) if len(sys.argv) > 7 else 997
rng = random.Random(24)
# one account in POOR is poor: the CHECK refuses its debits now and then
opening = {
    a: Decimal(rng.randint(0, 5000) if a % poor == 0 else rng.randint(100000, 500000)) / 100
    for a in range(1, accounts + 1)
}
balance = dict(opening)
refused = []
per = accounts // regions
with open(f"{out}/ledger.csv", "w") as f:
    f.write("transfer,id,balance\n")
    for t in range(1, transfers + 1):
        r = ((t - 1) // chunk) % regions
        a, b = rng.sample(range(1 + r * per, 1 + (r + 1) * per), 2)
        bad = t % poison == 0
        amt = Decimal("99999999.99") if bad else Decimal(rng.randint(1, 5000)) / 100
        rows = [f"T{t},{a},{-amt}", f"T{t},{b},{amt}"]
        if balance[a] < amt:
            refused += rows
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
with open(f"{out}/refused.txt", "w") as f:
    f.write("\n".join(sorted(refused)) + "\n")
print(f"{sum(opening.values()):.2f}")
