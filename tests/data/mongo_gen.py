#!/usr/bin/python3
# tests/data/mongo_gen.py - writes the MongoDB Extended JSON fixtures
# mongo_canonical.ndjson, mongo_relaxed.ndjson and mongo_array.json (the
# relaxed documents as mongoexport --jsonArray writes them) from the same
# documents, with a real Extended JSON writer: pymongo's bson.json_util
# (Debian: apt-get install python3-pymongo). Run by hand; the output is
# committed. tests/integration/t_mongo.sh runs it when pymongo is installed
# and checks that it still writes exactly the committed files.
#
#     /usr/bin/python3 tests/data/mongo_gen.py [OUTDIR]   (default: tests/data)
import datetime
import os
import sys
import uuid

from bson import json_util
from bson.binary import Binary
from bson.code import Code
from bson.decimal128 import Decimal128
from bson.int64 import Int64
from bson.max_key import MaxKey
from bson.min_key import MinKey
from bson.objectid import ObjectId
from bson.regex import Regex
from bson.son import SON
from bson.timestamp import Timestamp

UTC = datetime.timezone.utc


def oid(i):
    return ObjectId("65d0a1b2c3d4e5f6%08x" % i)


def dt(*a):
    return datetime.datetime(*a, tzinfo=UTC)


def doc(i, **fields):
    # SON keeps the keys in the order written
    d = SON([("_id", oid(i))])
    for k, v in fields.items():
        d[k] = v
    return d


def documents():
    docs = []
    # every type, and a nested document with every wrapper inside
    docs.append(doc(
        1,
        n=5,
        big=Int64(1099511627776),
        price=Decimal128("1.234567890123456789012345678901234"),
        ratio=1.5,
        when=dt(2024, 2, 29, 12, 34, 56, 789000),
        uid=Binary(uuid.UUID("0f8fad5b-d9cb-469f-a165-70867728950e").bytes, 4),
        blob=Binary(b"\x00\x01\x02\xfe\xff\x00", 0),
        ts=Timestamp(1700000000, 7),
        re=Regex("^ab.*c$", "i"),
        mk=MinKey(),
        code=Code("function () { return 1; }"),
        doc=SON([
            ("d", dt(2001, 9, 9, 1, 46, 40)),
            ("old", dt(1900, 1, 1)),
            ("l", Int64(-9223372036854775808)),
            ("i", 7),
            ("f", 2.5),
            ("inf", float("inf")),
            ("dec", Decimal128("0.1000000000000000000000000000000001")),
            ("o", oid(99)),
            ("u", Binary(uuid.UUID("9c0ef3b1-7b1f-4a5e-8c3d-2f1e0d9c8b7a").bytes, 4)),
            ("b", Binary(b"\x00\xff", 0)),
            ("arr", [1, Int64(5), dt(1969, 12, 31, 23, 59, 59, 999000), SON([("x", Decimal128("NaN"))])]),
            ("ts", Timestamp(1, 2)),
            ("re", Regex("a/b", "")),
            ("mx", MaxKey()),
            ("none", None),
            ("$notawrapper", 1),
        ]),
        tags=["x", Int64(2), dt(1970, 1, 1)],
        name="first",
        flag=True,
        mixed=5,
    ))
    # dates before 1970, the largest numbers, 34-digit decimals
    docs.append(doc(
        2,
        n=-2147483648,
        big=Int64(9223372036854775807),
        price=Decimal128("-98765.43210987654321098765432109876"),
        ratio=-0.25,
        when=dt(1960, 1, 1),
        uid=Binary(uuid.UUID("00000000-0000-0000-0000-000000000000").bytes, 4),
        blob=Binary(b"", 0),
        ts=Timestamp(0, 0),
        re=Regex("x", "imsx"),
        mk=MaxKey(),
        code=Code(""),
        doc=SON([("empty", SON()), ("list", [])]),
        tags=[],
        name="émoji 🎉 \"quoted\"",
        flag=False,
        mixed="five",
    ))
    docs.append(doc(
        3,
        n=2147483647,
        big=Int64(-9223372036854775808),
        price=Decimal128("0.0000000000000000000000000000000001"),
        ratio=1e-05,
        when=dt(1, 1, 1),
        uid=Binary(uuid.UUID("ffffffff-ffff-ffff-ffff-ffffffffffff").bytes, 4),
        blob=Binary(b"\x00" * 40, 0x80),
        ts=Timestamp(4294967295, 4294967295),
        doc=SON([("a", SON([("b", SON([("c", dt(9999, 12, 31, 23, 59, 59, 999000))]))]))]),
        name="dates at the ends",
        mixed=SON([("a", Int64(5))]),
    ))
    # doubles JSON has no number for (the rows MySQL refuses)
    docs.append(doc(4, ratio=float("inf"), name="infinity"))
    docs.append(doc(5, ratio=float("-inf"), name="minus infinity"))
    docs.append(doc(6, ratio=float("nan"), name="not a number"))
    # plain, regular documents
    for i in range(7, 31):
        docs.append(doc(
            i,
            n=i * 1000 - 15000,
            big=Int64(i ** 12),
            price=Decimal128("%d.%02d" % (i * 37, i)),
            ratio=i / 8,
            when=dt(1940 + i * 3, (i % 12) + 1, (i % 28) + 1, i % 24, i, i, i * 1000),
            uid=Binary(uuid.UUID(int=i * 0x0123456789ABCDEF0123456789ABCDEF % 2 ** 128).bytes, 4),
            blob=Binary(bytes(range(i % 7)), 0),
            ts=Timestamp(1700000000 + i * 86400, i),
            doc=SON([("i", i), ("at", dt(2020, 1, i % 28 + 1)), ("id", oid(1000 + i))]),
            tags=["t%d" % i, Int64(i)],
            name="row %d" % i,
            flag=i % 2 == 0,
        ))
    return docs


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
    docs = documents()
    canonical = [json_util.dumps(d, json_options=json_util.CANONICAL_JSON_OPTIONS) for d in docs]
    relaxed = [json_util.dumps(d, json_options=json_util.RELAXED_JSON_OPTIONS) for d in docs]
    with open(os.path.join(out, "mongo_canonical.ndjson"), "w", encoding="utf-8") as f:
        f.write("".join(line + "\n" for line in canonical))
    with open(os.path.join(out, "mongo_relaxed.ndjson"), "w", encoding="utf-8") as f:
        f.write("".join(line + "\n" for line in relaxed))
    # mongoexport --jsonArray: one document a line, so lines match the NDJSON
    with open(os.path.join(out, "mongo_array.json"), "w", encoding="utf-8") as f:
        f.write("[" + ",\n".join(relaxed) + "]\n")


if __name__ == "__main__":
    main()
