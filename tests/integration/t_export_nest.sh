#!/usr/bin/env bash
# tests/integration/t_export_nest.sh - sluice export --nest on both servers:
# parents with no, one and many children, an integer and a text key (read
# in byte order whatever the collation), orphans and NULL FKs counted, two
# children at once; the files checked by python3 against the tables as
# each server's own client reads them, and every nested value against the
# plain export of the child table; json, gzip, --ejson, --manifest; what
# --nest refuses.
. "$(dirname "$0")/lib.sh"

fresh nest_pg
fresh nest_my
PG_SRC=$PG_BASE/nest_pg
MY_SRC=$MY_BASE/nest_my

pgd nest_pg -q <<'SQL'
CREATE TABLE users (id int PRIMARY KEY, name text, born date);
INSERT INTO users VALUES (-5, 'minus', '1970-01-01'), (1, 'none', NULL), (2, 'one', '2000-02-29'),
	(3, 'many', '1999-12-31'), (10, 'last, none', NULL);
CREATE TABLE posts (id int PRIMARY KEY, user_id int, title text, score numeric(8,2),
	at timestamptz, tags jsonb, ok boolean, raw bytea);
INSERT INTO posts VALUES
	(40, 3, 'third of 3', 1.50, '2024-02-29 12:00:00+02', '{"a": [1, 2]}', true, '\x00ff'),
	(7, 3, E'first of 3 "q" \t tab', -0.01, NULL, NULL, false, NULL),
	(12, 3, NULL, NULL, '1970-01-01 00:00:00+00', '[]', NULL, '\x'),
	(9, 2, 'émoji 🎉', 99.99, NULL, '{"n": null}', true, NULL),
	(3, -5, 'neg', 0, NULL, NULL, NULL, NULL),
	(5, 99, 'orphan', 1, NULL, NULL, NULL, NULL),
	(6, NULL, 'null fk', 2, NULL, NULL, NULL, NULL);
-- a text key: the database's collation orders it otherwise than bytes
CREATE TABLE accounts (code text PRIMARY KEY, owner text);
INSERT INTO accounts VALUES ('B', 'b upper'), ('a', 'a lower'), ('Z', 'z upper'), ('é', 'e acute'),
	('a b', 'space'), ('ab', 'no space'), ('_x', 'underscore');
CREATE TABLE notes (id int PRIMARY KEY, code text, body text);
INSERT INTO notes VALUES (1, 'a', 'a1'), (2, 'B', 'B1'), (3, 'é', 'e1'), (4, 'a', 'a2'), (5, 'A', 'orphan A'),
	(6, 'ab', 'ab1'), (7, '_x', 'x1'), (8, 'Z', 'Z1'), (9, 'zz', 'orphan zz');
CREATE TABLE events (id bigint PRIMARY KEY, code text, n int);
INSERT INTO events VALUES (100, 'Z', 1), (50, 'Z', 2), (60, 'a b', 3), (70, NULL, 4);
SQL

myd nest_my <<'SQL'
CREATE TABLE users (id int PRIMARY KEY, name varchar(50), born date);
INSERT INTO users VALUES (-5, 'minus', '1970-01-01'), (1, 'none', NULL), (2, 'one', '2000-02-29'),
	(3, 'many', '1999-12-31'), (10, 'last, none', NULL);
CREATE TABLE posts (id int PRIMARY KEY, user_id int, title varchar(100), score decimal(8,2),
	at datetime(3), tags json, ok tinyint(1), raw varbinary(8), big bigint unsigned);
INSERT INTO posts VALUES
	(40, 3, 'third of 3', 1.50, '2024-02-29 12:00:00.250', '{"a": [1, 2]}', 1, 0x00ff, 18446744073709551615),
	(7, 3, 'first of 3 "q" \t tab', -0.01, NULL, NULL, 0, NULL, 0),
	(12, 3, NULL, NULL, '1970-01-01 00:00:00', '[]', NULL, X'', NULL),
	(9, 2, 'émoji 🎉', 99.99, NULL, '{"n": null}', 1, NULL, 1),
	(3, -5, 'neg', 0, NULL, NULL, NULL, NULL, NULL),
	(5, 99, 'orphan', 1, NULL, NULL, NULL, NULL, NULL),
	(6, NULL, 'null fk', 2, NULL, NULL, NULL, NULL, NULL);
-- utf8mb4_general_ci: 'a' and 'A' are one key to it, not to bytes
CREATE TABLE accounts (code varchar(10) PRIMARY KEY, owner varchar(20)) COLLATE utf8mb4_general_ci;
INSERT INTO accounts VALUES ('B', 'b upper'), ('a', 'a lower'), ('Z', 'z upper'), ('é', 'e acute'),
	('a b', 'space'), ('ab', 'no space'), ('_x', 'underscore');
CREATE TABLE notes (id int PRIMARY KEY, code varchar(10), body varchar(20)) COLLATE utf8mb4_general_ci;
INSERT INTO notes VALUES (1, 'a', 'a1'), (2, 'B', 'B1'), (3, 'é', 'e1'), (4, 'a', 'a2'), (5, 'A', 'orphan A'),
	(6, 'ab', 'ab1'), (7, '_x', 'x1'), (8, 'Z', 'Z1'), (9, 'zz', 'orphan zz');
CREATE TABLE events (id bigint PRIMARY KEY, code varchar(10), n int);
INSERT INTO events VALUES (100, 'Z', 1), (50, 'Z', 2), (60, 'a b', 3), (70, NULL, 4);
SQL

# check NESTED PARENT-FLAT KEY KIND PARENT-KEYS [CHILD FK CHILD-FLAT CHILD-ROWS]...:
# the nested file (ndjson, json, .gz) against the parent's keys and each
# child's (id, fk) rows as the server's client printed them (tab-separated,
# NULL as NULL), and against the plain exports of the tables: every parent
# once in key order (integers by value, text by its bytes), under each its
# children exactly, in their key order, each row's values those of the
# plain export; prints what it found
check() {
	python3 - "$@" <<'PY'
import gzip, json, sys
def rows(path):
    op = gzip.open if path.endswith(".gz") else open
    with op(path, "rt", encoding="utf-8") as f:
        text = f.read()
    if path.split(".")[-1] == "json" or path.endswith(".json.gz"):
        return json.loads(text)
    return [json.loads(l) for l in text.splitlines() if l]
def tsv(path):
    with open(path, encoding="utf-8") as f:
        return [l.rstrip("\n").split("\t") for l in f if l.strip("\n")]
nested, parent_flat, key, kind, parent_keys = sys.argv[1:6]
conv = int if kind == "int" else str
order = (lambda k: k) if kind == "int" else (lambda k: k.encode())
out = rows(nested)
pkeys = sorted((conv(r[0]) for r in tsv(parent_keys)), key=order)
flat = {r[key]: r for r in rows(parent_flat)}
msgs = []
msgs.append("parents in key order, each once" if [r[key] for r in out] == pkeys else
            "PARENTS %r != %r" % ([r[key] for r in out], pkeys))
children = sys.argv[6:]
for i in range(0, len(children), 4):
    child, fk, child_flat, child_rows = children[i:i + 4]
    cflat = {r["id"]: r for r in rows(child_flat)}
    want = {}
    orphans = 0
    for cid, cfk in tsv(child_rows):
        if cfk == "NULL" or conv(cfk) not in pkeys:
            orphans += 1
        else:
            want.setdefault(conv(cfk), []).append(int(cid))
    bad = []
    sizes = []
    for r in out:
        got = [c["id"] for c in r[child]]
        if got != sorted(want.get(r[key], [])):
            bad.append("%r: %r" % (r[key], got))
        if any(c != cflat[c["id"]] for c in r[child]):
            bad.append("%r: values differ" % r[key])
        parent = {k: v for k, v in r.items() if k not in children[0::4]}
        if parent != flat[r[key]]:
            bad.append("parent %r differs" % r[key])
        sizes.append(len(r[child]))
    msgs.append("%s: %d rows under %s, %d orphans%s" % (
        child, sum(sizes), ",".join(map(str, sizes)), orphans,
        "; " + "; ".join(bad) if bad else ", each under its parent in key order, values as exported"))
print(" | ".join(msgs))
PY
}

# ---------------------------------------------------------------------------
test_case "PostgreSQL: integer key, ndjson"
pgd nest_pg -c "SELECT id FROM users" >"$TMP/pg-users.tsv"
pgd nest_pg -c "SELECT id, user_id FROM posts" >"$TMP/pg-posts.tsv"
run_sluice "pg flat" 0 export "$PG_SRC" "$TMP/pgflat" --tables users,posts,accounts,notes,events --format ndjson -q
run_sluice "pg users" 0 export "$PG_SRC" "$TMP/pg-users.ndjson" --tables users --nest posts:user_id
assert_eq "pg: the file" \
	"parents in key order, each once | posts: 5 rows under 1,0,1,3,0, 2 orphans, each under its parent in key order, values as exported" \
	"$(check "$TMP/pg-users.ndjson" "$TMP/pgflat/users.ndjson" id int "$TMP/pg-users.tsv" \
		posts user_id "$TMP/pgflat/posts.ndjson" "$TMP/pg-posts.tsv")"
assert_contains "pg: the orphans said" "posts: 2 rows (1 of them with user_id NULL) belong to no row exported" "$OUT"
assert_eq "pg: a row as psql reads it" "3|many|[7, 12, 40]|first of 3 \"q\" 	 tab|-0.01|false|{'a': [1, 2]}|1.50|\\x00ff" \
	"$(python3 -c '
import json, sys
r = [json.loads(l, parse_float=str) for l in open(sys.argv[1])][3]
p = r["posts"]
print("|".join(map(str, [r["id"], r["name"], [c["id"] for c in p], p[0]["title"], p[0]["score"],
    str(p[0]["ok"]).lower(), p[2]["tags"], p[2]["score"], p[2]["raw"]])))' "$TMP/pg-users.ndjson")"
assert_eq "pg: ... psql says the same" "7|first of 3 \"q\" 	 tab|-0.01|f|40|{\"a\": [1, 2]}|1.50|\\x00ff" \
	"$(pgd nest_pg -F '|' -c "SELECT a.id, a.title, a.score, a.ok, b.id, b.tags, b.score, b.raw FROM posts a, posts b WHERE a.id = 7 AND b.id = 40")"

test_case "PostgreSQL: text key in byte order, two children, json.gz, manifest"
pgd nest_pg -c "SELECT code FROM accounts" >"$TMP/pg-acc.tsv"
pgd nest_pg -c "SELECT id, code FROM notes" >"$TMP/pg-notes.tsv"
pgd nest_pg -c "SELECT id, code FROM events" >"$TMP/pg-events.tsv"
run_sluice "pg accounts" 0 export "$PG_SRC" "$TMP/pg-acc.json.gz" --tables accounts \
	--nest notes:code,events:code --manifest "$TMP/pg-acc.manifest"
assert_eq "pg: text keys" \
	"parents in key order, each once | notes: 7 rows under 1,1,1,2,0,1,1, 2 orphans, each under its parent in key order, values as exported | events: 3 rows under 0,2,0,0,1,0,0, 1 orphans, each under its parent in key order, values as exported" \
	"$(check "$TMP/pg-acc.json.gz" "$TMP/pgflat/accounts.ndjson" code text "$TMP/pg-acc.tsv" \
		notes code "$TMP/pgflat/notes.ndjson" "$TMP/pg-notes.tsv" \
		events code "$TMP/pgflat/events.ndjson" "$TMP/pg-events.tsv")"
assert_eq "pg: the manifest's digest and rows are the file's" "True 7" \
	"$(python3 -c '
import hashlib, json, sys
m = json.load(open(sys.argv[1]))["files"][0]
print(hashlib.sha256(open(sys.argv[2], "rb").read()).hexdigest() == m["sha256"], m["rows"])' "$TMP/pg-acc.manifest" "$TMP/pg-acc.json.gz")"
assert_contains "pg: --dry-run reads the children by FK bytes, then their key" \
	'FROM "notes" ORDER BY "code" COLLATE "C", "id"' \
	"$("$SLUICE" export "$PG_SRC" - --tables accounts --nest notes:code --format ndjson --dry-run 2>&1)"

test_case "PostgreSQL: --ejson values in the children"
run_sluice "pg ejson" 0 export "$PG_SRC" - --tables users --nest posts:user_id --format ndjson --ejson -q
assert_eq "pg: typed wrappers nested" '{"$numberDecimal":"1.50"} {"$date":"2024-02-29T10:00:00Z"} 00/AP8=' \
	"$(python3 -c '
import json, sys
p = [json.loads(l) for l in sys.stdin][3]["posts"][2]
print(json.dumps(p["score"], separators=(",", ":")), json.dumps(p["at"], separators=(",", ":")), p["raw"]["$binary"]["subType"] + "/" + p["raw"]["$binary"]["base64"])' <"$TMP/pg ejson.out")"

# ---------------------------------------------------------------------------
test_case "MariaDB: integer key, ndjson"
myd nest_my -e "SELECT id FROM users" >"$TMP/my-users.tsv"
myd nest_my -e "SELECT id, IFNULL(user_id, 'NULL') FROM posts" >"$TMP/my-posts.tsv"
run_sluice "my flat" 0 export "$MY_SRC" "$TMP/myflat" --tables users,posts,accounts,notes,events --format ndjson -q
run_sluice "my users" 0 export "$MY_SRC" "$TMP/my-users.ndjson" --tables users --nest posts:user_id
assert_eq "my: the file" \
	"parents in key order, each once | posts: 5 rows under 1,0,1,3,0, 2 orphans, each under its parent in key order, values as exported" \
	"$(check "$TMP/my-users.ndjson" "$TMP/myflat/users.ndjson" id int "$TMP/my-users.tsv" \
		posts user_id "$TMP/myflat/posts.ndjson" "$TMP/my-posts.tsv")"
assert_contains "my: the orphans said" "posts: 2 rows (1 of them with user_id NULL) belong to no row exported" "$OUT"
assert_eq "my: a child as the client reads it" "40	third of 3	1.50	2024-02-29 12:00:00.250	18446744073709551615" \
	"$(python3 -c '
import json, sys
p = [json.loads(l, parse_float=str) for l in open(sys.argv[1])][3]["posts"][2]
print("\t".join(str(p[k]) for k in ("id", "title", "score", "at", "big")))' "$TMP/my-users.ndjson")"
assert_eq "my: ... the mariadb client says the same" "40	third of 3	1.50	2024-02-29 12:00:00.250	18446744073709551615" \
	"$(myd nest_my -e "SELECT id, title, score, at, big FROM posts WHERE id = 40")"

test_case "MariaDB: text key of a case-blind collation, in byte order"
myd nest_my -e "SELECT code FROM accounts" >"$TMP/my-acc.tsv"
myd nest_my -e "SELECT id, code FROM notes" >"$TMP/my-notes.tsv"
myd nest_my -e "SELECT id, IFNULL(code, 'NULL') FROM events" >"$TMP/my-events.tsv"
run_sluice "my accounts" 0 export "$MY_SRC" "$TMP/my-acc.json" --tables accounts --nest notes:code,events:code
assert_eq "my: text keys" \
	"parents in key order, each once | notes: 7 rows under 1,1,1,2,0,1,1, 2 orphans, each under its parent in key order, values as exported | events: 3 rows under 0,2,0,0,1,0,0, 1 orphans, each under its parent in key order, values as exported" \
	"$(check "$TMP/my-acc.json" "$TMP/myflat/accounts.ndjson" code text "$TMP/my-acc.tsv" \
		notes code "$TMP/myflat/notes.ndjson" "$TMP/my-notes.tsv" \
		events code "$TMP/myflat/events.ndjson" "$TMP/my-events.tsv")"
assert_contains "my: 'A' is no child of 'a' (bytes, not the collation)" "notes: 2 rows (0 of them with code NULL)" "$OUT"

# ---------------------------------------------------------------------------
test_case "what --nest refuses (usage, exit 2, no file)"
run_sluice "csv" 2 export "$PG_SRC" "$TMP/no.csv" --tables users --nest posts:user_id
assert_contains "csv: said" "--nest is for --format ndjson and json" "$OUT"
run_sluice "workers" 2 export "$PG_SRC" "$TMP/no.ndjson" --tables users --nest posts:user_id --workers 2
run_sluice "split" 2 export "$PG_SRC" "$TMP/no.ndjson" --tables users --nest posts:user_id --split-rows 1000
run_sluice "two parents" 2 export "$PG_SRC" "$TMP/pgflat" --tables users,accounts --format ndjson --nest posts:user_id
run_sluice "no such column" 2 export "$PG_SRC" "$TMP/no.ndjson" --tables users --nest posts:uid
assert_contains "no such column: said" "table posts has no column uid" "$OUT"
run_sluice "not CHILD:FK" 2 export "$PG_SRC" "$TMP/no.ndjson" --tables users --nest posts
run_sluice "kinds differ" 2 export "$PG_SRC" "$TMP/no.ndjson" --tables users --nest notes:code
assert_eq "no file left" "" "$(ls -A "$TMP" | grep -E '^no\.|sluice-tmp' || true)"

finish
