#!/usr/bin/python3
# tests/tools/canon_compare.py - compare every table of two databases row by
# row, independently of sluice: rows are read through the servers' own
# clients (psql, mariadb) or Python's own sqlite3 module, each value is put
# into one canonical text, and the two sides are compared as multisets (row
# order does not matter, duplicates count).
#
#     canon_compare.py [--tables a,b] [--ignore-columns c,d] [--quiet] FROM TO
#     FROM, TO: pg:DATABASE[/SCHEMA] (schema default public), my:DATABASE or
#               lite:PATH (a SQLite file, opened read-only)
#     --ignore-columns: columns of these names are left out of every table
#
# Connections: PostgreSQL from $SLUICE_PG_URL (its database part replaced),
# MariaDB/MySQL as root on 127.0.0.1:$SLUICE_MY_PORT (as tests/integration/lib.sh).
# Python 3 standard library only.
#
# Canonical values (both sides get the same text for the same value):
#   NULL                  None (MySQL zero dates too: sluice documents that a
#                         copy writes NULL for them)
#   integers, decimals,   the number without trailing zeros (1.50 -> 1.5,
#   booleans, bit(n)      -0.00 -> 0); booleans 0/1; bits as their integer
#   float / real,         the exact value of the stored float, as the
#   double                shortest text of that value as a double (read as
#                         bits on PostgreSQL, as a DOUBLE on MySQL, so a
#                         changed last bit of a FLOAT shows; -0 reads as 0
#                         because MariaDB cannot print a negative zero)
#   date                  YYYY-MM-DD
#   datetime, timestamp   YYYY-MM-DDTHH:MM:SS[.ffffff] in UTC, no trailing zeros
#   time, interval        seconds, as a decimal
#   bytes, geometry       lowercase hex of the bytes
#   json                  keys sorted, numbers normalised
#   text, enum, set       the exact UTF-8 text (case-sensitive)
#   anything else         the server's own text of the value (PostgreSQL
#                         arrays, tsvector, domains over them...), compared
#                         exactly with the other side's text
#
# SQLite (lite:) stores any value in any column: a column's class comes from
# its declared type by SQLite's affinity rules (datatype3.html section 3.1:
# INT -> integer; CHAR, CLOB, TEXT -> text; BLOB or no type -> blob; REAL,
# FLOA, DOUB -> float; otherwise NUMERIC), refined by the type's first word
# (DECIMAL, NUMERIC, BOOLEAN, DATE, DATETIME, TIMESTAMP, TIMESTAMPTZ, JSON,
# also sluice's TEXT-affinity `DECIMAL TEXT(p,s)`, `JSON TEXT`), and each value
# is read by its storage class as Python's sqlite3 returns it:
#   INTEGER               the integer (a float column: the double it is;
#                         a date/time column: unix epoch seconds, in UTC)
#   REAL                  in a numeric column the decimal its shortest repr
#                         gives (1.98 stored as the double 1.98 is 1.98);
#                         in a float column the double; in a date/time column
#                         a Julian day number inside the years 0000-9999
#                         (1721059.5 to 5373484.5), else epoch seconds with a
#                         fraction (sluice's README), both as UTC timestamps
#   TEXT                  a number's text as a number, a timestamp's text
#                         (' ' or 'T', a zone converted to UTC) as a timestamp,
#                         anything else exactly
#   BLOB                  lowercase hex (in a text column: "blob:" + hex, so
#                         it never equals a text)
# sqlite_* tables (sqlite_sequence, sqlite_stat1) and virtual tables are not
# tables of the database here (sluice does not copy them either).
# Tables on one side only, and columns on one side only, are differences.
# Exit 0 when every table is equal, 1 when any differs, 2 on errors.
import collections
import concurrent.futures
import datetime
import decimal
import json
import os
import re
import sqlite3
import struct
import subprocess
import sys

MAX_EXAMPLES = 5


class Side:
    def __init__(self, spec):
        kind, _, rest = spec.partition(":")
        if kind not in ("pg", "my", "lite") or not rest:
            raise SystemExit("canon_compare: bad database spec %r (pg:DB[/SCHEMA], my:DB or lite:PATH)" % spec)
        self.kind = kind
        self.spec = spec
        if kind == "pg":
            self.db, _, schema = rest.partition("/")
            self.schema = schema or "public"
        else:
            self.db, self.schema = rest, rest

    # -- running the clients ------------------------------------------------
    def query(self, sql):
        """Rows of a query as lists of strings (None for NULL)."""
        if self.kind == "pg":
            url = os.environ.get("SLUICE_PG_URL", "postgresql://postgres@127.0.0.1:54329/postgres")
            base, _, _ = url.rpartition("/")
            env = dict(os.environ, PGOPTIONS="-c client_min_messages=warning -c timezone=UTC "
                       "-c DateStyle=ISO -c IntervalStyle=postgres -c extra_float_digits=3")
            cmd = ["psql", base + "/" + self.db, "-XAtq", "-v", "ON_ERROR_STOP=1", "-F", "\t",
                   "-P", "null=\\N", "-c", sql]
            null = "\\N"
        else:
            env = dict(os.environ)
            cmd = ["mariadb", "--no-defaults", "--default-character-set=utf8mb4", "-h127.0.0.1",
                   "-P" + os.environ.get("SLUICE_MY_PORT", "33069"), "-uroot", "-D", self.db,
                   "-N", "-B", "--quick", "-e", "SET time_zone = '+00:00'; " + sql]
            null = "NULL"
        p = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        if p.returncode != 0:
            raise RuntimeError("%s: %s\n  query: %s" % (self.spec, p.stderr.decode(errors="replace").strip(), sql[:300]))
        rows = []
        for line in p.stdout.decode("utf-8").split("\n"):
            if line == "":
                continue
            rows.append([None if f == null else f for f in line.split("\t")])
        return rows

    def lite_connect(self):
        """A read-only connection to the SQLite file (one a thread: each dump opens its own)."""
        if not os.path.isfile(self.db):
            raise RuntimeError("%s: no such file" % self.spec)
        con = sqlite3.connect("file:%s?mode=ro" % self.db.replace("?", "%3f").replace("#", "%23"), uri=True)
        # the exact bytes of a TEXT value (invalid UTF-8 shows as escapes, as in dec_text)
        con.text_factory = lambda b: b.decode("utf-8", errors="backslashreplace")
        return con

    def quote(self, name):
        if self.kind in ("pg", "lite"):
            return '"' + name.replace('"', '""') + '"'
        return "`" + name.replace("`", "``") + "`"

    def qualified(self, table):
        if self.kind == "pg":
            return "ONLY " + self.quote(self.schema) + "." + self.quote(table)
        return self.quote(table)

    # -- catalog --------------------------------------------------------------
    def load_catalog(self):
        """self.tables: {table: [(column, class, type text)]}, self.pkeys: {table: [columns]}"""
        self.tables = collections.OrderedDict()
        self.pkeys = {}
        lit = "'" + self.schema.replace("'", "''") + "'"
        if self.kind == "lite":
            con = self.lite_connect()
            try:
                for (table,) in con.execute(
                        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' "
                        "AND sql NOT LIKE 'CREATE VIRTUAL%' ORDER BY name"):
                    key = []
                    # table_xinfo: cid, name, type, notnull, default, pk, hidden (1: a virtual
                    # table's hidden column; 2, 3: generated, readable like any other)
                    for _, col, decl, _, _, pk, hidden in con.execute(
                            "PRAGMA table_xinfo(%s)" % self.quote(table)):
                        if hidden == 1:
                            continue
                        self.tables.setdefault(table, []).append((col, lite_class(decl or ""), decl or ""))
                        if pk:
                            key.append((pk, col))
                    if key:
                        self.pkeys[table] = [c for _, c in sorted(key)]
            finally:
                con.close()
        elif self.kind == "pg":
            rows = self.query(
                "SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod), bt.typname, t.typtype, "
                "bt.typcategory FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                "JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped "
                "JOIN pg_type t ON t.oid = a.atttypid "
                "JOIN pg_type bt ON bt.oid = CASE WHEN t.typtype = 'd' THEN t.typbasetype ELSE t.oid END "
                "WHERE n.nspname = %s AND c.relkind IN ('r', 'p') ORDER BY c.relname, a.attnum" % lit)
            for table, col, typ, base, typtype, cat in rows:
                self.tables.setdefault(table, []).append((col, pg_class(base, typtype, cat), typ))
            for table, col in self.query(
                    "SELECT c.relname, a.attname FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid "
                    "JOIN pg_namespace n ON n.oid = c.relnamespace, unnest(i.indkey) WITH ORDINALITY k(attnum, ord) "
                    "JOIN pg_attribute a ON a.attnum = k.attnum "
                    "WHERE a.attrelid = i.indrelid AND i.indisprimary AND n.nspname = %s "
                    "ORDER BY c.relname, k.ord" % lit):
                self.pkeys.setdefault(table, []).append(col)
        else:
            rows = self.query(
                "SELECT c.TABLE_NAME, c.COLUMN_NAME, c.COLUMN_TYPE, c.DATA_TYPE FROM information_schema.COLUMNS c "
                "JOIN information_schema.TABLES t ON t.TABLE_SCHEMA = c.TABLE_SCHEMA AND t.TABLE_NAME = c.TABLE_NAME "
                "WHERE c.TABLE_SCHEMA = %s AND t.TABLE_TYPE = 'BASE TABLE' "
                "ORDER BY c.TABLE_NAME, c.ORDINAL_POSITION" % lit)
            json_cols = set()
            for table, clause in self.query(
                    "SELECT TABLE_NAME, CHECK_CLAUSE FROM information_schema.CHECK_CONSTRAINTS "
                    "WHERE CONSTRAINT_SCHEMA = %s" % lit):
                for m in re.finditer(r"json_valid\(`((?:[^`]|``)+)`\)", clause or ""):
                    json_cols.add((table, m.group(1).replace("``", "`")))
            for table, col, ctype, dtype in rows:
                cls = my_class(dtype.lower(), ctype.lower())
                if (table, col) in json_cols:
                    cls = "json"
                self.tables.setdefault(table, []).append((col, cls, ctype))
            for table, col in self.query(
                    "SELECT TABLE_NAME, COLUMN_NAME FROM information_schema.STATISTICS "
                    "WHERE TABLE_SCHEMA = %s AND INDEX_NAME = 'PRIMARY' ORDER BY TABLE_NAME, SEQ_IN_INDEX" % lit):
                self.pkeys.setdefault(table, []).append(col)

    # -- rendering a column so that the client prints a safe token ----------
    def render(self, col, cls, pair):
        """(SQL expression, decoder) for column col of class cls compared as pair class."""
        q = self.quote(col)
        pg = self.kind == "pg"

        def text_hex(expr):
            if pg:
                return "encode(convert_to((%s)::text, 'UTF8'), 'hex')" % expr
            return "HEX(CONVERT(%s USING utf8mb4))" % expr

        if pair == "num":
            if cls == "bits":
                return ((q + "::text") if pg else "CAST(%s AS UNSIGNED)" % q), dec_bits if pg else dec_num
            if pg:
                return ("(%s::int)::text" % q if cls == "bool" else q + "::text"), dec_num
            return "CAST(%s AS CHAR)" % q, dec_num
        if pair == "float":
            if pg and cls == "f32":
                return "encode(float4send(%s), 'hex')" % q, dec_f32bits
            if pg and cls == "f64":
                return "encode(float8send(%s), 'hex')" % q, dec_f64bits
            if pg:
                return q + "::text", dec_float
            return "CAST(%s AS DOUBLE)" % q, dec_float
        if pair == "ts":
            if pg:
                return ("CASE WHEN isfinite(%s) THEN to_char(%s, 'YYYY-MM-DD HH24:MI:SS.US') ELSE %s::text END"
                        % (q, q, q)), dec_ts
            return "DATE_FORMAT(%s, '%%Y-%%m-%%d %%H:%%i:%%s.%%f')" % q, dec_ts
        if pair == "date":
            return ((q + "::text") if pg else "CAST(%s AS CHAR)" % q), dec_date
        if pair == "secs":
            if pg:
                return "extract(epoch FROM %s)::text" % q, dec_num
            return "CAST(%s AS CHAR)" % q, dec_mytime
        if pair == "bytes":
            if pg:
                return "encode(%s, 'hex')" % q, dec_hex
            return "LOWER(HEX(%s))" % q, dec_hex
        if pair == "json":
            return text_hex(q), dec_json
        if pair == "text" or not pg and cls in ("text", "json"):
            return text_hex(q), dec_text
        # astext: the server's own text of the value
        if pg:
            return text_hex(q), dec_text
        if cls == "bytes":
            return "HEX(%s)" % q, dec_text_from_bytes
        return text_hex("CAST(%s AS CHAR)" % q), dec_text

    def dump(self, table, columns):
        """Canonical rows of table: columns is [(name, class, pair class)]."""
        if self.kind == "lite":
            return self.lite_dump(table, columns)
        exprs, decs = [], []
        for name, cls, pair in columns:
            e, d = self.render(name, cls, pair)
            exprs.append(e)
            decs.append(d)
        if not exprs:
            exprs = ["1"]
            decs = [lambda s: s]
        rows = self.query("SELECT %s FROM %s" % (", ".join(exprs), self.qualified(table)))
        out = []
        for r in rows:
            if len(r) != len(decs):
                raise RuntimeError("%s: %s: a row with %d fields, want %d" % (self.spec, table, len(r), len(decs)))
            out.append(tuple(None if v is None else d(v) for v, d in zip(r, decs)))
        return out

    def lite_dump(self, table, columns):
        """dump() of a SQLite table: values as Python's sqlite3 returns them
        (int, float, str, bytes: the storage class), each put into canonical text."""
        convs = [lite_conv(cls, pair) for _, cls, pair in columns]
        exprs = [self.quote(name) for name, _, _ in columns] or ["1"]
        if not columns:
            convs = [lambda v: str(v)]
        con = self.lite_connect()
        try:
            out = []
            for r in con.execute("SELECT %s FROM %s" % (", ".join(exprs), self.quote(table))):
                out.append(tuple(None if v is None else c(v) for v, c in zip(r, convs)))
            return out
        except sqlite3.Error as e:
            raise RuntimeError("%s: %s: %s" % (self.spec, table, e))
        finally:
            con.close()


# --- type classes -------------------------------------------------------------
def pg_class(base, typtype, cat):
    if typtype == "e":
        return "text"
    if cat == "A":
        return "other"
    return {
        "bool": "bool", "int2": "int", "int4": "int", "int8": "int", "oid": "int",
        "numeric": "dec", "float4": "f32", "float8": "f64",
        "date": "date", "timestamp": "ts", "timestamptz": "tstz", "time": "time", "interval": "interval",
        "bytea": "bytes", "bit": "bits", "varbit": "bits", "json": "json", "jsonb": "json",
        "text": "text", "varchar": "text", "bpchar": "text", "name": "text", "char": "text", "uuid": "text",
    }.get(base, "other")


def my_class(dtype, ctype):
    if dtype in ("tinyint", "smallint", "mediumint", "int", "integer", "bigint", "year"):
        return "bool" if ctype.startswith("tinyint(1)") else "int"
    if dtype in ("decimal", "numeric"):
        return "dec"
    if dtype == "float":
        return "f32"
    if dtype in ("double", "real", "double precision"):
        return "f64"
    if dtype == "bit":
        return "bits"
    if dtype == "date":
        return "date"
    if dtype == "datetime":
        return "ts"
    if dtype == "timestamp":
        return "tstz"
    if dtype == "time":
        return "time"
    if dtype in ("char", "varchar", "tinytext", "text", "mediumtext", "longtext", "enum", "set"):
        return "text"
    if dtype in ("binary", "varbinary", "tinyblob", "blob", "mediumblob", "longblob", "geometry", "point",
                 "linestring", "polygon", "multipoint", "multilinestring", "multipolygon",
                 "geometrycollection"):
        return "bytes"
    if dtype == "json":
        return "json"
    return "other"


def lite_class(decl):
    """The class of a SQLite column from its declared type: SQLite's affinity
    rules (https://www.sqlite.org/datatype3.html section 3.1, in their order),
    refined by the type's first word."""
    t = decl.upper()
    m = re.match(r"\s*([A-Z_]+)", t)
    word = m.group(1) if m else ""
    if "INT" in t:
        return "int"  # INTEGER affinity (BIGINT, UNSIGNED BIG INT, POINT...)
    if "CHAR" in t or "CLOB" in t or "TEXT" in t:
        # TEXT affinity: sluice writes DECIMAL TEXT(p,s), JSON TEXT, TIMESTAMPTZ TEXT
        # so that the text stays as it is; a decimal is still a number
        return {"DECIMAL": "dec", "NUMERIC": "dec", "JSON": "json", "DATE": "date", "DATETIME": "ts",
                "TIMESTAMP": "ts", "TIMESTAMPTZ": "tstz"}.get(word, "text")
    if "BLOB" in t:
        return "bytes"
    if t.strip() == "":
        return "any"  # BLOB affinity without a type: any value, compared as text
    if "REAL" in t or "FLOA" in t or "DOUB" in t:
        return "f64"
    # NUMERIC affinity
    return {"BOOLEAN": "bool", "BOOL": "bool", "DATE": "date", "DATETIME": "ts", "TIMESTAMP": "ts",
            "TIMESTAMPTZ": "tstz", "JSON": "json"}.get(word, "dec")


NUMERIC = {"bool", "int", "dec", "bits"}
FLOATS = {"f32", "f64"}


def pair_class(a, b):
    """The class two columns' values are compared as (the same on both sides)."""
    s = {a, b}
    if "json" in s:
        return "json"
    if s <= NUMERIC:
        return "num"
    if s <= NUMERIC | FLOATS:
        return "float"
    if s <= {"ts", "tstz"}:
        return "ts"
    if s <= {"time", "interval"}:
        return "secs"
    if s == {"date"} or s == {"bytes"} or s == {"text"}:
        return a
    return "astext"


# --- decoders: the client's token -> canonical text ---------------------------
def norm_decimal(d):
    if d.is_nan():
        return "NaN"
    if d.is_infinite():
        return "Infinity" if d > 0 else "-Infinity"
    if d == 0:
        return "0"
    return format(d.normalize(), "f")


def dec_num(s):
    if s.isdigit() or (s[:1] == "-" and s[1:].isdigit()):
        return str(int(s))  # the common case, quickly: no leading zeros, no -0
    try:
        return norm_decimal(decimal.Decimal(s))
    except decimal.InvalidOperation:
        return s


def dec_bits(s):
    return str(int(s, 2)) if s else "0"


def canon_float(f):
    if f == 0.0:
        return "0.0"
    return repr(f)


def dec_f32bits(s):
    return canon_float(struct.unpack(">f", bytes.fromhex(s))[0])


def dec_f64bits(s):
    return canon_float(struct.unpack(">d", bytes.fromhex(s))[0])


def dec_float(s):
    return canon_float(float(s))


def dec_ts(s):
    if s[5:7] == "00" or s[8:10] == "00":
        return None  # a MySQL zero date (a zero month or day)
    s = s.replace(" ", "T", 1)
    if "." in s:
        s = s.rstrip("0").rstrip(".")
    return s


def dec_date(s):
    if s[5:7] == "00" or s[8:10] == "00":
        return None  # a MySQL zero date (a zero month or day)
    return s


def dec_mytime(s):
    m = re.match(r"^(-?)(\d+):(\d\d):(\d\d(?:\.\d+)?)$", s)
    if not m:
        return s
    v = decimal.Decimal(m.group(2)) * 3600 + decimal.Decimal(m.group(3)) * 60 + decimal.Decimal(m.group(4))
    return norm_decimal(-v if m.group(1) else v)


def dec_hex(s):
    return s.lower()


def dec_text(s):
    return bytes.fromhex(s).decode("utf-8", errors="backslashreplace")


def dec_text_from_bytes(s):
    return dec_text(s)


def canon_json(v):
    if isinstance(v, dict):
        return "{" + ",".join(json.dumps(k) + ":" + canon_json(v[k]) for k in sorted(v)) + "}"
    if isinstance(v, list):
        return "[" + ",".join(canon_json(x) for x in v) + "]"
    if isinstance(v, decimal.Decimal):
        return norm_decimal(v)
    if isinstance(v, bool) or v is None:
        return json.dumps(v)
    if isinstance(v, int):
        return str(v)
    return json.dumps(v, ensure_ascii=False)


def dec_json(s):
    t = dec_text(s)
    try:
        return canon_json(json.loads(t, parse_float=decimal.Decimal, parse_int=decimal.Decimal))
    except ValueError:
        return "invalid json: " + t


# --- SQLite values: a Python value (its storage class) -> canonical text ------------
JULIAN_LO, JULIAN_HI = 1721059.5, 5373484.5  # the Julian days of the years 0000 to 9999
EPOCH = datetime.datetime(1970, 1, 1)


def lite_secs(v):
    """Unix epoch seconds (a Decimal) of a number in a date/time column."""
    if isinstance(v, int):
        return decimal.Decimal(v)
    if JULIAN_LO <= v <= JULIAN_HI:
        # a Julian day, to the millisecond as SQLite's own date functions take it
        ms = int(v * 86400000.0 + 0.5) - 210866760000000  # 2440587.5 days in ms
        return decimal.Decimal(ms) / 1000
    return decimal.Decimal(repr(v))


def secs_ts(secs):
    """Canonical timestamp text of unix epoch seconds (a Decimal), to the microsecond."""
    us = int((secs * 1000000).to_integral_value(rounding=decimal.ROUND_HALF_EVEN))
    t = EPOCH + datetime.timedelta(microseconds=us)
    return dec_ts(t.strftime("%Y-%m-%d %H:%M:%S.%f").rjust(26, "0"))


TS_TEXT = re.compile(r"^(\d{4}-\d\d-\d\d)(?:[ T](\d\d:\d\d(?::\d\d(?:\.\d+)?)?)"
                     r"\s*(Z|[+-]\d\d(?::?\d\d)?)?)?$")


def lite_ts_text(s):
    """Canonical timestamp of a date/time text ('YYYY-MM-DD[ |T]HH:MM[:SS[.f]][zone]'),
    a zone converted to UTC; anything else stays as it is (and then differs)."""
    m = TS_TEXT.match(s.strip())
    if not m:
        return s
    date, clock, zone = m.group(1), m.group(2) or "00:00:00", m.group(3)
    if len(clock) == 5:
        clock += ":00"
    text = date + " " + clock
    if zone and zone != "Z":
        sign = -1 if zone[0] == "-" else 1
        hh, mm = int(zone[1:3]), int(zone[-2:]) if len(zone) > 3 else 0
        whole, _, frac = clock.partition(".")
        t = datetime.datetime.strptime(date + " " + whole, "%Y-%m-%d %H:%M:%S")
        t -= sign * datetime.timedelta(hours=hh, minutes=mm)
        text = t.strftime("%Y-%m-%d %H:%M:%S").rjust(19, "0") + ("." + frac if frac else "")
    return dec_ts(text)


def lite_conv(cls, pair):
    """The function from a SQLite value (not NULL) of class cls to the canonical
    text of the pair class it is compared as."""
    datelike = cls in ("ts", "tstz", "date")

    def as_text(v):
        if isinstance(v, bytes):
            return "blob:" + v.hex()
        if isinstance(v, float):
            return repr(v)
        return str(v)

    if pair == "num":
        def conv(v):
            if isinstance(v, int):
                return str(v)
            if isinstance(v, float):
                return norm_decimal(decimal.Decimal(repr(v)))  # the decimal its shortest repr gives
            if isinstance(v, str):
                return dec_num(v.strip())
            return as_text(v)
        return conv
    if pair == "float":
        def conv(v):
            if isinstance(v, (int, float)):
                return canon_float(float(v))
            if isinstance(v, str):
                try:
                    return canon_float(float(v))
                except ValueError:
                    return v
            return as_text(v)
        return conv
    if pair in ("ts", "date"):
        def conv(v):
            if isinstance(v, (int, float)) and datelike:
                t = secs_ts(lite_secs(v))
            elif isinstance(v, str):
                t = lite_ts_text(v)
            else:
                return as_text(v)
            if pair == "date" and re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", t):
                return t[:10]  # a date: the day of a date-time (epoch seconds, Julian day)
            return t
        return conv
    if pair == "secs":
        def conv(v):
            if isinstance(v, (int, float)):
                return norm_decimal(decimal.Decimal(repr(v)) if isinstance(v, float) else decimal.Decimal(v))
            if isinstance(v, str):
                return dec_mytime(v)
            return as_text(v)
        return conv
    if pair == "bytes":
        def conv(v):
            if isinstance(v, bytes):
                return v.hex()
            return as_text(v).encode("utf-8").hex()
        return conv
    if pair == "json":
        def conv(v):
            if not isinstance(v, str):
                return as_text(v)
            try:
                return canon_json(json.loads(v, parse_float=decimal.Decimal, parse_int=decimal.Decimal))
            except ValueError:
                return "invalid json: " + v
        return conv
    # text, astext: the text exactly; another storage class as its own text
    return as_text


# --- comparison -------------------------------------------------------------------
def show(v):
    if v is None:
        return "NULL"
    return repr(v) if len(v) <= 120 else repr(v[:117]) + "..."


def compare_table(src, dst, table, quiet, ignore=()):
    """Print the result for one table; return True when equal."""
    problems = []
    scols = [c for c in src.tables[table] if c[0] not in ignore]
    dcols = {c[0]: c for c in dst.tables[table] if c[0] not in ignore}
    only_src = [c[0] for c in scols if c[0] not in dcols]
    only_dst = [c for c in dcols if c not in {s[0] for s in scols}]
    if only_src:
        problems.append("columns only in %s: %s" % (src.spec, ", ".join(only_src)))
    if only_dst:
        problems.append("columns only in %s: %s" % (dst.spec, ", ".join(only_dst)))
    cols_s, cols_d, names = [], [], []
    for name, cls, typ in scols:
        if name not in dcols:
            continue
        _, dcls, dtyp = dcols[name]
        pair = pair_class(cls, dcls)
        cols_s.append((name, cls, pair))
        cols_d.append((name, dcls, pair))
        names.append(name)
    # the two servers answer at the same time
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        later = pool.submit(dst.dump, table, cols_d)
        rows_s = src.dump(table, cols_s)
        rows_d = later.result()
    cs, cd = collections.Counter(rows_s), collections.Counter(rows_d)
    equal = cs == cd
    if not equal:
        missing = cs - cd  # in source, not in target
        extra = cd - cs  # in target, not in source
        problems.append("%d source rows not in the target, %d target rows not in the source"
                        % (sum(missing.values()), sum(extra.values())))
        key = [c for c in src.pkeys.get(table, []) if c in names]
        if key and key == src.pkeys.get(table):
            idx = [names.index(c) for c in key]
            ms = {tuple(r[i] for i in idx): r for r in missing.elements()}
            md = {tuple(r[i] for i in idx): r for r in extra.elements()}
            by_col = collections.OrderedDict()
            for k in ms:
                if k in md:
                    for i, n in enumerate(names):
                        if ms[k][i] != md[k][i]:
                            by_col.setdefault(n, []).append((k, ms[k][i], md[k][i]))
            for n, diffs in by_col.items():
                problems.append("column %s differs in %d rows (%s: %s), e.g." % (
                    n, len(diffs), "source type " + dict((c[0], c[2]) for c in scols)[n],
                    "target type " + dcols[n][2]))
                for k, a, b in diffs[:MAX_EXAMPLES]:
                    problems.append("    %s=%s: source %s, target %s" % (
                        ",".join(key), ",".join(show(x) for x in k), show(a), show(b)))
            lost = [k for k in ms if k not in md]
            new = [k for k in md if k not in ms]
            if lost:
                problems.append("%d keys only in the source, e.g. %s" % (
                    len(lost), "; ".join(",".join(show(x) for x in k) for k in lost[:MAX_EXAMPLES])))
            if new:
                problems.append("%d keys only in the target, e.g. %s" % (
                    len(new), "; ".join(",".join(show(x) for x in k) for k in new[:MAX_EXAMPLES])))
            dup = sum(missing.values()) - len(ms) + sum(extra.values()) - len(md)
            if dup:
                problems.append("%d rows repeat a key" % dup)
        else:
            for what, rows in (("only in the source", missing), ("only in the target", extra)):
                for r in list(rows.elements())[:MAX_EXAMPLES]:
                    problems.append("row %s: (%s)" % (what, ", ".join(
                        "%s=%s" % (n, show(v)) for n, v in zip(names, r))))
    ok = equal and not only_src and not only_dst
    print("%s\t%d\t%d\t%s" % (table, len(rows_s), len(rows_d), "ok" if ok else "DIFF"))
    if not ok or not quiet:
        for p in problems:
            print("    " + p)
    return ok


def main(argv):
    tables = None
    ignore = set()
    quiet = False
    args = []
    i = 0
    while i < len(argv):
        a = argv[i]
        if a == "--tables":
            i += 1
            tables = [t for t in argv[i].split(",") if t]
        elif a == "--ignore-columns":
            i += 1
            ignore = {c for c in argv[i].split(",") if c}
        elif a == "--quiet":
            quiet = True
        else:
            args.append(a)
        i += 1
    if len(args) != 2:
        print("usage: canon_compare.py [--tables a,b] [--ignore-columns c,d] [--quiet] FROM TO", file=sys.stderr)
        return 2
    src, dst = Side(args[0]), Side(args[1])
    try:
        src.load_catalog()
        dst.load_catalog()
        ok = True
        names = tables if tables is not None else list(src.tables)
        for t in names:
            if t not in src.tables:
                print("%s\t-\t-\tDIFF\n    not a table of %s" % (t, src.spec))
                ok = False
        if tables is None:
            for t in dst.tables:
                if t not in src.tables:
                    print("%s\t-\t-\tDIFF\n    a table of %s only, not of %s" % (t, dst.spec, src.spec))
                    ok = False
        for t in names:
            if t not in src.tables:
                continue
            if t not in dst.tables:
                print("%s\t-\t-\tDIFF\n    a table of %s only, not of %s" % (t, src.spec, dst.spec))
                ok = False
                continue
            ok = compare_table(src, dst, t, quiet, ignore) and ok
    except (RuntimeError, OSError, sqlite3.Error) as e:
        print("canon_compare: %s" % e, file=sys.stderr)
        return 2
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
