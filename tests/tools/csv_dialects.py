#!/usr/bin/env python3
# tests/tools/csv_dialects.py - generate a CSV file in a random dialect for the
# differential test of the CSV paths (t_csv_paths.sh): delimiter, quote, line
# ends (LF, CRLF, mixed, a bare CR now and then), a BOM, quoting of every kind,
# and, unless clean, broken records (stray and unterminated quotes, wrong
# field counts, invalid UTF-8, NUL bytes, blank lines, "\." alone) and values
# the server refuses (a bad integer). Columns: id (int), a (text), b (text).
#   csv_dialects.py SEED OUT [clean] [rows]
# prints the delimiter and quote as two hex bytes: "2c 22".
import random
import sys

seed, out = int(sys.argv[1]), sys.argv[2]
clean = len(sys.argv) > 3 and sys.argv[3] == "clean"
rows = int(sys.argv[4]) if len(sys.argv) > 4 else 300
rnd = random.Random(seed)
d = rnd.choice([b",", b";", b"\t", b"|"])
q = rnd.choice([b'"', b'"', b"'"])
eol_kind = rnd.choice(["lf", "crlf"] if clean else ["lf", "crlf", "mixed"])


def eol():
    if eol_kind == "lf":
        return b"\n"
    if eol_kind == "crlf":
        return b"\r\n"
    return rnd.choice([b"\n", b"\r\n"])


def quoted(s):
    return q + s.replace(q, q + q) + q


WORDS = [b"alpha", b"b", b"  spaced  ", b"back\\slash", b"\\N", b"\\.", b"x\\",
         "h\u00e9llo \u65e5\u672c \U0001f389".encode(), b"NULL", b"0", b"-"]


def value():
    k = rnd.randrange(12)
    if k < 4:
        w = rnd.choice(WORDS)
        return quoted(w) if (d in w or q in w) else w
    if k == 4:
        return b""  # NULL
    if k == 5:
        return q + q  # the empty string
    if k == 6:
        return quoted(b"has" + d + b"delim")
    if k == 7:
        return quoted(b"line1\nline2")
    if k == 8:
        return quoted(b"say " + q + b"hi" + q)
    if k == 9:
        return quoted(b"cr\rin" + rnd.choice([b"", b"\r\n"]))
    if k == 10:
        return quoted(rnd.choice(WORDS))
    return quoted(b"x" * rnd.randrange(1, 3000))  # long: records cut by chunks


def broken():
    k = rnd.randrange(9)
    if k == 0:
        return b"1" + d + b'ab' + q + b"cd" + d + b"e"  # stray quote
    if k == 1:
        return b"2" + d + b"only two"  # too few fields
    if k == 2:
        return b"3" + d + b"a" + d + b"b" + d + b"c"  # too many
    if k == 3:
        return b"4" + d + b"bad \xff\xfe utf8" + d + b"z"
    if k == 4:
        return b"5" + d + b"nul\x00byte" + d + b"z"
    if k == 5:
        return b""  # a blank line
    if k == 6:
        return b"\\."
    if k == 7:
        return b"6" + d + quoted(b"closed") + b"junk" + d + b"z"
    return b"7" + d + q + b"runs on" + d + b"z"  # unterminated: swallows lines


with open(out, "wb") as f:
    if rnd.random() < 0.3:
        f.write(b"\xef\xbb\xbf")
    f.write(b"id" + d + b"a" + d + b"b" + eol())
    for i in range(rows):
        r = rnd.random()
        if not clean and r < 0.05:
            f.write(broken() + eol())
            continue
        ident = str(1000 + i).encode()
        if not clean and r < 0.08:
            ident = b"not-int"
        f.write(ident + d + value() + d + value())
        if i < rows - 1 or clean or rnd.random() < 0.7:
            f.write(eol() if clean or rnd.random() > 0.01 else b"\r")
    if not clean and rnd.random() < 0.2:
        f.write(b"9" + d + q + b"open at the end")
print("%02x %02x" % (d[0], q[0]))
