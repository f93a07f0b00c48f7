#!/usr/bin/env python3
"""tests/tools/pg_binary_values.py SEED OUT [dirty] [keep IDS]

A CSV file of values for the columns COPY may carry in binary (t_pg_binary):
id, a smallint, an integer, a bigint, a boolean, a double, a numeric, a
numeric(12,3), a date, a timestamp, a varchar(12) and a text. Each value is
written in a form the server reads: mostly the plain forms sluice encodes in
binary, and among them the forms it leaves to the server's text input
(exponents, signs, spaces, Infinity, time zones, more digits than a double
holds, fractions of seconds past six digits), in runs and alone, so that
batches go wholly in binary, wholly as text, and in both. With "dirty", some
values the server refuses too (out of range, not a number, too long, no such
date, a scale numeric(12,3) cannot hold), each on its own line.
With "keep IDS": the same file, but only the records whose id is in the
file IDS (one a line): psql's share of a clean file.
"""
import random
import sys

seed, out = int(sys.argv[1]), sys.argv[2]
keep = None
if "keep" in sys.argv:
    keep = set(open(sys.argv[sys.argv.index("keep") + 1]).read().split())
dirty = "dirty" in sys.argv[3:]
rng = random.Random(seed)


def digits(n, lead_ok=True):
    s = "".join(rng.choice("0123456789") for _ in range(n))
    return s if lead_ok or not s.startswith("0") else "1" + s[1:]


def plain_int(bits):
    hi = 2 ** (bits - 1)
    r = rng.random()
    if r < 0.1:
        return rng.choice([str(hi - 1), str(-hi), "0", "-0", "007", "-1"])
    v = rng.randrange(-hi, hi) if r < 0.6 else rng.randrange(-1000, 1000)
    return str(v)


def odd_int(bits):
    hi = 2 ** (bits - 1)
    return rng.choice(["+5", " 42", "42 ", "0" * 20 + "9", str(hi - 1), "-" + "0" * 19 + "1"])


def plain_bool():
    return rng.choice(["t", "f", "true", "false", "TRUE", "False", "y", "n", "yes", "NO", "on", "off", "1", "0"])


def odd_bool():
    return rng.choice([" t", "tr", "fals", "of", "Ye", "true "])


def plain_double():
    r = rng.random()
    if r < 0.15:
        return rng.choice(["0", "-0", "0.0", "-0.000", "1", "9007199254740992", "0.1",
                           "0.30000000000000004", "123456789012345.6", "1234567890123456",
                           "0.0000000000000000000001", "4503599627370496.5"])
    sign = rng.choice(["", "", "-"])
    ni = rng.randint(1, 9)
    nf = rng.randint(0, 15 - ni)
    s = sign + digits(ni)
    if nf:
        s += "." + digits(nf)
    return s


def odd_double():
    return rng.choice(["1e10", "1.5E-7", "Infinity", "-Infinity", "NaN", "+3.5", " 2.5", "12345678901234567890",
                       "9007199254740993", "4503599627370497.5",
                       "0.12345678901234567890123", "1.7976931348623157e308", "5e-324", ".5", "5."])


def plain_numeric(scale_max):
    sign = rng.choice(["", "", "-"])
    ni = rng.randint(1, 30 if scale_max is None else 9)
    nf = rng.randint(0, 40 if scale_max is None else scale_max)
    s = sign + digits(ni)
    if nf:
        s += "." + digits(nf)
    if rng.random() < 0.1:
        s = rng.choice(["0", "-0", "0.000", "-0.0", "00001.100", "10000", "0.001", "99999999.999",
                        "1" + "0" * 40, "0." + "0" * 30 + "1", "-0.0001", "12345.6789"])
        if scale_max is not None and (len(s) > 12 or "." in s and len(s.split(".")[1]) > scale_max):
            s = "1.5"
    return s


def odd_numeric():
    return rng.choice(["1e5", "1.5E+3", "NaN", "+7", " 3", "Infinity", ".25", "25."])


def plain_date():
    y = rng.choice([rng.randint(1, 9999), rng.randint(1990, 2030), 2000, 2024, 1900, 2100, 1])
    m = rng.randint(1, 12)
    mdays = [31, 29 if (y % 4 == 0 and y % 100 != 0) or y % 400 == 0 else 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
    d = rng.choice([1, mdays[m - 1], rng.randint(1, mdays[m - 1])])
    return "%04d-%02d-%02d" % (y, m, d)


def plain_timestamp():
    s = plain_date() + rng.choice(["T", " "]) + "%02d:%02d:%02d" % (rng.randint(0, 23), rng.randint(0, 59), rng.randint(0, 59))
    if rng.random() < 0.5:
        s += "." + digits(rng.randint(1, 6))
    return s


def odd_date():
    return rng.choice(["2024-02-29 BC", "20240229", "Feb 29, 2024", "2024-2-9", "epoch", "infinity", " 2024-01-01"])


def odd_timestamp():
    return rng.choice(["2024-02-29 12:00:00+02", "2024-02-29 12:00", "2024-02-29T24:00:00", "2024-02-29 12:00:00.1234567",
                       "2016-12-31 23:59:60", "2024-02-29", "2024-02-29 12:00:00 PST",
                       "2024-02-29T12:00:00Z", "infinity"])


def text(maxlen):
    pool = ["plain", "with,comma", 'with "quotes"', "line\nbreak", "back\\slash", "tab\there", "Zoë", "日本語",
            "  spaced  ", "", "NULL", "\\N", "crlf\r\nhere", "'single'"]
    s = rng.choice(pool) + (digits(rng.randint(0, 5)) if rng.random() < 0.5 else "")
    return s[:maxlen] if maxlen else s


def bad(col):
    return {
        1: "40000", 2: "2147483648", 3: "9223372036854775808", 4: "maybe", 5: "1e400", 6: "abc",
        7: "123456789.1234", 8: "2023-02-29", 9: "2024-13-01 00:00:00", 10: "this is far too long",
    }.get(col)


def quote(v):
    if v is None:
        return ""
    if v == "" or any(ch in v for ch in ',"\n\r') or v.strip() != v or v in ("NULL", "\\N"):
        return '"' + v.replace('"', '""') + '"'
    return v


cols = ["id", "i2", "i4", "i8", "b", "f8", "num", "num3", "d", "ts", "vc", "t"]
plain = [lambda: plain_int(16), lambda: plain_int(32), lambda: plain_int(64), plain_bool, plain_double,
         lambda: plain_numeric(None), lambda: plain_numeric(3), plain_date, plain_timestamp,
         lambda: text(12), lambda: text(0)]
odd = [lambda: odd_int(16), lambda: odd_int(32), lambda: odd_int(64), odd_bool, odd_double, odd_numeric,
       odd_numeric, odd_date, odd_timestamp, lambda: text(12), lambda: text(0)]

rows = rng.randint(700, 1400)
odd_run = set()
for _ in range(3):
    start = rng.randrange(rows)
    odd_run.update(range(start, start + rng.randint(1, rows // 15)))
with open(out, "w", newline="") as f:
    f.write(",".join(cols) + "\n")
    for i in range(1, rows + 1):
        vals = [str(i)]
        for c in range(1, len(cols)):
            r = rng.random()
            if r < 0.05:
                v = None
            elif i in odd_run or r < 0.0505:
                v = odd[c - 1]()
            else:
                v = plain[c - 1]()
            vals.append(v)
        if dirty and rng.random() < 0.02:
            c = rng.randint(1, 10)
            vals[c] = bad(c)
        if dirty and rng.random() < 0.01:
            vals[0] = str(rng.randint(1, i))  # a duplicate key, mostly
        if keep is None or vals[0] in keep:
            f.write(",".join(quote(v) for v in vals) + "\n")
