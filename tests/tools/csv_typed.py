#!/usr/bin/env python3
# tests/tools/csv_typed.py - generate a CSV file of typed values for the
# differential test of the ways sluice sends rows to MariaDB's LOAD DATA
# (t_csv_paths.sh): the rows as their CSV text with a few values rewritten,
# against every value escaped, against INSERT. Each value is in one of the
# spellings a user writes (booleans in words, ISO date-times with T, zones,
# fractions, hex bytes, the word NULL quoted and not, empty and missing),
# some of them refused (a fraction into an integer, a day that does not
# exist, more fractional digits than the column keeps). Columns:
#   id int, flag tinyint(1), at datetime, at3 datetime(3), day date,
#   amount decimal(10,2), score double, bin blob, note text
#   csv_typed.py SEED OUT [rows]
import random
import sys

seed, out = int(sys.argv[1]), sys.argv[2]
rows = int(sys.argv[3]) if len(sys.argv) > 3 else 400
rnd = random.Random(seed)
d = rnd.choice([b",", b";", b"\t", b"|", b" "])
q = rnd.choice([b'"', b"'"])


def quoted(s):
    return q + s.replace(q, q + q) + q


def maybe_quoted(s):
    if d in s or q in s or b"\n" in s or b"\r" in s or s == b"" or rnd.random() < 0.2:
        return quoted(s)
    return s


def pick(*xs):
    return rnd.choice(xs)


def good_or_bad(good, bad):
    return rnd.choice(bad) if rnd.random() < 0.03 else rnd.choice(good)


def flag():
    return good_or_bad([b"true", b"false", b"TRUE", b"t", b"yes", b"no", b"1", b"0", b"on", b""], [b"2", b"NULL"])


def stamp(frac):
    y, mo, da = rnd.randrange(1970, 2038), rnd.randrange(1, 13), rnd.randrange(1, 29)
    h, mi, se = rnd.randrange(24), rnd.randrange(60), rnd.randrange(60)
    sep = pick(b"T", b" ")
    s = b"%04d-%02d-%02d%s%02d:%02d:%02d" % (y, mo, da, sep, h, mi, se)
    k = rnd.randrange(10)
    if k == 0:
        s += b"." + str(rnd.randrange(1000)).zfill(3).encode()[:frac or 1]
    elif k == 1:
        s += pick(b"Z", b"+02:00", b"-0530", b"+00:00")
    elif k == 2:
        s = s[:16]  # HH:MM
    elif k == 3:
        s = s[:10]  # a date alone
    elif k == 4 and rnd.random() < 0.2:
        s = pick(b"2024-02-30T10:00:00", b"2023-02-29 00:00:00", b"2024-01-01T10:00:00.1234")
    elif k == 5:
        s = b""
    return s


def day():
    return good_or_bad([b"2024-01-31", b"2024-02-29", b"1999-12-31T00:00:00", b"", b"2024-06-15"], [b"2024-13-01"])


def amount():
    return good_or_bad([b"12.34", b"-0.5", b"100", b"1e2", b"", b"99999999.99"], [b"7.125", b" 3.10"])


def score():
    return good_or_bad([b"854.692401", b"-1.5e10", b"0", b"3.14159265358979", b""], [b"1e-400", b"NaN-ish"])


def blob():
    k = rnd.randrange(6)
    if k == 0:
        return b"\\x" + bytes(rnd.randrange(256) for _ in range(rnd.randrange(1, 9))).hex().encode()
    if k == 1:
        return b"\\x00" + q.hex().encode() + d.hex().encode() + b"0a0d"  # quote, delimiter, newline
    if k == 2:
        return b"plain bytes"
    if k == 3 and rnd.random() < 0.2:
        return b"\\xZZ"
    return b""


def note():
    return pick(b"NULL", b"null", b"\\N", b"say " + q + b"hi" + q, b"two\nlines", b"cr\r\nlf",
                b"back\\slash", b"h\xc3\xa9llo", b"  spaced  ", b"a" + d + b"b", b"")


def value(gen, *args):
    v = gen(*args)
    k = rnd.randrange(20)
    if k == 0:
        return b""  # NULL: unquoted and empty
    if k == 1:
        return q + q  # the empty string
    if k == 2 and gen in (blob, note):
        return b"NULL"  # the word, unquoted: a string to sluice
    return maybe_quoted(v) if v else v


with open(out, "wb") as f:
    f.write(d.join([b"id", b"flag", b"at", b"at3", b"day", b"amount", b"score", b"bin", b"note"]) + b"\n")
    for i in range(rows):
        ident = str(1000 + i).encode()
        if rnd.random() < 0.02:
            ident = pick(b"1.5", b"x")
        f.write(d.join([ident, value(flag), value(stamp, 0), value(stamp, 3), value(day),
                        value(amount), value(score), value(blob), value(note)]) + pick(b"\n", b"\r\n"))
print("%02x %02x" % (d[0], q[0]))
