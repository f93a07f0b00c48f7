#!/usr/bin/env bash
# tests/integration/t_nest.sh - load --nest: mongoexport-style users with a
# profile, posts and the tags of each post into users, users_posts and
# users_posts_tags on both servers: contents table by table, the links
# (no orphan, each parent's child count equal to its array's length, as
# python3 computes them from the input), --create's keys and foreign keys,
# duplicate _ids (the last wins, children replaced), a refused child
# rejecting its whole document, and a SIGKILL mid-run with --resume.
. "$(dirname "$0")/lib.sh"

# gen FILE N SEED: N users; every 7th has no posts key, every 11th an empty
# array, every 13th posts null; ids 0-9 come again at the end with other
# posts (the last one wins); canonical and relaxed Extended JSON mixed
gen() {
	python3 - "$1" "$2" "$3" <<'EOF'
import json, random, sys
path, n, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rnd = random.Random(seed)
def user(i, gen):
    d = {"_id": {"$oid": "%024x" % i}, "name": "user%d-%d" % (i, gen)}
    d["joined"] = {"$date": {"$numberLong": str(1700000000000 + i * 1000)}} if i % 2 else {"$date": "2024-01-02T03:04:05Z"}
    d["profile"] = {"bio": "bio of %d" % i, "age": 20 + i % 50}
    if i % 7 == 0:
        return d
    if i % 11 == 0:
        d["posts"] = []
        return d
    if i % 13 == 0:
        d["posts"] = None
        return d
    posts = []
    for p in range(rnd.randint(1, 4)):
        tags = ["t%d" % rnd.randint(0, 9) for _ in range(rnd.randint(0, 3))]
        likes = {"$numberLong": str(rnd.randint(0, 10**12))} if p % 2 else rnd.randint(0, 100)
        posts.append({"title": "post %d of %d (gen %d)" % (p, i, gen), "likes": likes, "tags": tags})
    d["posts"] = posts
    return d
with open(path, "w") as f:
    for i in range(n):
        f.write(json.dumps(user(i, 0)) + "\n")
    for i in range(10):
        f.write(json.dumps(user(i, 1)) + "\n")
EOF
}

# expect FILE: what the tables must hold, from the input alone (the last
# document of an _id wins): "users posts tags", then per user
# "id nposts ntags" sorted, then the likes of every post summed
expect() {
	python3 - "$1" <<'EOF'
import json, sys
last = {}
for line in open(sys.argv[1]):
    d = json.loads(line)
    last[d["_id"]["$oid"]] = d
posts = tags = likes = 0
per = []
for k in sorted(last):
    ps = last[k].get("posts") or []
    nt = sum(len(p["tags"]) for p in ps)
    posts += len(ps); tags += nt
    for p in ps:
        l = p["likes"]
        likes += int(l["$numberLong"]) if isinstance(l, dict) else l
    per.append("%s %d %d" % (k, len(ps), nt))
print(len(last), posts, tags)
print("\n".join(per))
print(likes)
EOF
}

pg_got() {
	pg -F ' ' -c "select (select count(*) from users), (select count(*) from users_posts), (select count(*) from users_posts_tags)"
	pg -F ' ' -c "select u._id, (select count(*) from users_posts p where p.users__id = u._id), (select count(*) from users_posts_tags t where t.users__id = u._id) from users u order by u._id collate \"C\""
	pg -c "select coalesce(sum(likes), 0) from users_posts"
}
my_got() {
	my -e "SELECT (SELECT COUNT(*) FROM users), (SELECT COUNT(*) FROM users_posts), (SELECT COUNT(*) FROM users_posts_tags)" | tr '\t' ' '
	my -e "SELECT u._id, (SELECT COUNT(*) FROM users_posts p WHERE p.users__id = u._id), (SELECT COUNT(*) FROM users_posts_tags t WHERE t.users__id = u._id) FROM users u ORDER BY u._id" | tr '\t' ' '
	my -e "SELECT COALESCE(SUM(likes), 0) FROM users_posts"
}
# orphans: children whose parent row is missing, at both levels
pg_orphans() {
	pg -c "select (select count(*) from users_posts p where not exists (select 1 from users u where u._id = p.users__id)) + (select count(*) from users_posts_tags t where not exists (select 1 from users_posts p where p.users__id = t.users__id and p._pos = t.posts_pos))"
}
my_orphans() {
	my -e "SELECT (SELECT COUNT(*) FROM users_posts p WHERE NOT EXISTS (SELECT 1 FROM users u WHERE u._id = p.users__id)) + (SELECT COUNT(*) FROM users_posts_tags t WHERE NOT EXISTS (SELECT 1 FROM users_posts p WHERE p.users__id = t.users__id AND p._pos = t.posts_pos))"
}
pg_fks() { pg -c "select count(*) from information_schema.table_constraints where constraint_type = 'FOREIGN KEY' and table_name in ('users_posts', 'users_posts_tags')"; }
my_fks() { my -e "SELECT COUNT(*) FROM information_schema.table_constraints WHERE constraint_type = 'FOREIGN KEY' AND table_schema = DATABASE() AND table_name IN ('users_posts', 'users_posts_tags')"; }
pg_drop() { pg -c "drop table if exists users_posts_tags, users_posts, users, sluice_checkpoints cascade"; }
my_drop() { my -e "DROP TABLE IF EXISTS users_posts_tags, users_posts, users, sluice_checkpoints"; }
pg_q() { pg -F ' ' -c "$1"; }
my_q() { my -e "$1" | tr '\t' ' '; }

NEST=(--table users --nest posts,posts.tags --key _id --on-conflict update --progress none)

gen "$TMP/users.ndjson" 400 1
expect "$TMP/users.ndjson" >"$TMP/users.want"

for server in pg my; do
	URL=$SLUICE_PG_URL
	[ $server = my ] && URL=$SLUICE_MY_URL

	test_case "$server: --nest --create, two levels, duplicate _ids"
	${server}_drop
	run_sluice nest_$server 0 load "$TMP/users.ndjson" "$URL" "${NEST[@]}" --create --batch-rows 50
	assert_eq "every table, each parent's children, the likes" "$(cat "$TMP/users.want")" "$(${server}_got)"
	assert_eq "no orphan child" "0" "$(${server}_orphans)"
	assert_eq "foreign keys created" "2" "$(${server}_fks)"
	assert_eq "a reloaded _id: the last document's values" "user3-1" \
		"$(${server}_q "SELECT name FROM users WHERE _id = '000000000000000000000003'")"
	assert_contains "its profile, a JSON column" '"bio of 3"' \
		"$(${server}_q "SELECT profile FROM users WHERE _id = '000000000000000000000003'")"
	# the tags of post 0 of user 1 (gen 1), in order, from the input
	want=$(python3 -c "
import json
docs=[json.loads(l) for l in open('$TMP/users.ndjson')]
d=[x for x in docs if x['_id']['\$oid']=='%024x' % 1][-1]
print(' '.join(d['posts'][0]['tags']) or '-')")
	got=$(${server}_q "SELECT value FROM users_posts_tags WHERE users__id = '000000000000000000000001' AND posts_pos = 0 ORDER BY _pos" | tr '\n' ' ' | sed 's/ $//')
	assert_eq "tags of a post, in order" "$want" "${got:--}"
	assert_eq "a reloaded document's post: title and position" "post 0 of 5 (gen 1) 0" \
		"$(${server}_q "SELECT title, _pos FROM users_posts WHERE users__id = '000000000000000000000005' AND _pos = 0")"

	test_case "$server: a refused child rejects its document, the rest commits"
	cat >"$TMP/more.ndjson" <<'EOF'
{"_id":{"$oid":"ff00000000000000000000aa"},"name":"good","posts":[{"title":"g","likes":1,"tags":["x"]}]}
{"_id":{"$oid":"ff00000000000000000000bb"},"name":"bad","posts":[{"title":"b0","likes":1,"tags":[]},{"title":"b1","likes":"lots","tags":[]}]}
{"_id":{"$oid":"000000000000000000000001"},"name":"one again","posts":[{"title":"only","likes":7,"tags":["y","z"]}]}
EOF
	rm -f "$TMP/rej.txt"
	run_sluice more_$server 3 load "$TMP/more.ndjson" "$URL" "${NEST[@]}" --rejects "$TMP/rej.txt" --summary-json "$TMP/sum.json"
	assert_eq "the summary's child tables: parent, elements read, written, rejected" \
		"users_posts users 4 2 2|users_posts_tags users_posts 3 3 0" \
		"$(python3 -c "
import json
t = json.load(open('$TMP/sum.json'))['tables']
print('|'.join('%s %s %d %d %d' % (x['table'], x['parent'], x['rows_read'], x['rows_written'], x['rows_rejected']) for x in t[1:]))")"
	assert_contains "the summary table's line of a child table" "users_posts_tags" "$OUT"
	assert_eq "one reject" "1" "$(grep -c . "$TMP/rej.txt")"
	assert_contains "the refused document, verbatim" '"name":"bad"' "$(cat "$TMP/rej.txt")"
	assert_contains "its reason names the child table and the element" "more.ndjson:2: child table users_posts, element posts[1]:" "$(cat "$TMP/rej.txt.log")"
	assert_eq "the refused document is not there at all" "0 0" \
		"$(${server}_q "SELECT (SELECT COUNT(*) FROM users WHERE _id = 'ff00000000000000000000bb'), (SELECT COUNT(*) FROM users_posts WHERE users__id = 'ff00000000000000000000bb')")"
	assert_eq "the good one is, with its children" "good 1 1" \
		"$(${server}_q "SELECT name, (SELECT COUNT(*) FROM users_posts WHERE users__id = _id), (SELECT COUNT(*) FROM users_posts_tags WHERE users__id = _id) FROM users WHERE _id = 'ff00000000000000000000aa'")"
	assert_eq "a reloaded document's children replaced, not added" "one again 1 2 only 7" \
		"$(${server}_q "SELECT name, (SELECT COUNT(*) FROM users_posts WHERE users__id = _id), (SELECT COUNT(*) FROM users_posts_tags WHERE users__id = _id), (SELECT title FROM users_posts WHERE users__id = _id), (SELECT likes FROM users_posts WHERE users__id = _id) FROM users WHERE _id = '000000000000000000000001'")"
	assert_eq "no orphan child" "0" "$(${server}_orphans)"
done

# flat FILE: users with a profile (an address object inside it), posts with
# a meta object (a geo object inside); nulls, missing objects, one profile
# that is not an object (rejected)
flat() {
	python3 - "$1" <<'EOF'
import json, sys
with open(sys.argv[1], "w") as f:
    for i in range(30):
        d = {"_id": "f%02d" % i}
        if i % 5 == 1:
            d["profile"] = None
        elif i % 5 != 2:
            d["profile"] = {"bio": "bio %d" % i, "age": i, "address": {"city": "city%d" % (i % 4), "zip": "%05d" % i}}
            if i % 3 == 0:
                d["profile"]["address"] = None
        d["posts"] = [{"title": "t%d.%d" % (i, p), "meta": ({"source": "s%d" % p, "geo": {"lat": i + p / 4}} if p % 2 == 0 else None)} for p in range(i % 4)]
        f.write(json.dumps(d) + "\n")
    f.write(json.dumps({"_id": "f99", "profile": "not an object"}) + "\n")
EOF
}
# the parents "id bio age city zip", then the children "id pos title source lat"
flat_want() {
	python3 - "$1" <<'EOF'
import json, sys
docs = [json.loads(l) for l in open(sys.argv[1])][:-1]
for d in docs:
    p = d.get("profile") or {}
    a = p.get("address") or {}
    print(d["_id"], p.get("bio", "-"), p.get("age", "-"), a.get("city", "-"), a.get("zip", "-"))
for d in docs:
    for k, x in enumerate(d["posts"]):
        m = x["meta"] or {}
        lat = m.get("geo", {}).get("lat")
        print(d["_id"], k, x["title"], m.get("source", "-"), "-" if lat is None else "%.2f" % lat)
EOF
}
FLAT_PARENTS="SELECT _id, COALESCE(profile_bio, '-'), COALESCE(CAST(profile_age AS CHAR(20)), '-'), COALESCE(profile_address_city, '-'), COALESCE(profile_address_zip, '-') FROM fl ORDER BY _id"
FLAT_KIDS="SELECT fl__id, _pos, title, COALESCE(meta_source, '-'), COALESCE(CAST(CAST(meta_geo_lat AS DECIMAL(10,2)) AS CHAR(20)), '-') FROM fl_posts ORDER BY fl__id, _pos"
flat "$TMP/flat.ndjson"
flat_want "$TMP/flat.ndjson" >"$TMP/flat.want"
for server in pg my; do
	URL=$SLUICE_PG_URL
	[ $server = my ] && URL=$SLUICE_MY_URL
	TXT=TEXT
	[ $server = my ] && TXT=CHAR
	test_case "$server: --flatten objects of the parent and of the children, recursively"
	${server}_q "DROP TABLE IF EXISTS fl_posts, fl" >/dev/null
	rm -f "$TMP/flrej.txt"
	run_sluice flat_$server 3 load "$TMP/flat.ndjson" "$URL" --table fl --nest posts --flatten profile,posts.meta --key _id --create --progress none --rejects "$TMP/flrej.txt"
	assert_eq "parents and children, the flattened columns' values" "$(cat "$TMP/flat.want")" \
		"$(${server}_q "${FLAT_PARENTS//CHAR(20)/$TXT}"; ${server}_q "${FLAT_KIDS//CHAR(20)/$TXT}")"
	assert_contains "an object that is not one: rejected with why" 'flat.ndjson:31: --flatten: "profile" is not an object' "$(cat "$TMP/flrej.txt.log")"
	${server}_q "DROP TABLE IF EXISTS fl_posts, fl" >/dev/null
done

test_case "pg: --flatten names too long are shortened, the same in every run"
M=a_member_whose_name_is_long_enough_to_overflow_the_limit
printf '{"_id":"a","profile":{"%s":{"x":1}}}\n{"_id":"b","profile":{"%s":{"x":2}}}\n' $M $M >"$TMP/flong.ndjson"
pg -c "drop table if exists flong"
for run in 1 2; do
	run_sluice flong$run 0 load "$TMP/flong.ndjson" "$SLUICE_PG_URL" --table flong --flatten profile --key _id --on-conflict update --create --progress none
done
col=$(pg -c "select column_name from information_schema.columns where table_name = 'flong' and column_name like 'profile_a_member%'")
assert_eq "the column fitted to 63 bytes with a hash" "63 1" "$(echo "$col" | awk '{ print length($0), ($0 ~ /_[0-9a-f]{8}$/) }')"
assert_eq "its values, once after two runs" "a 1|b 2" "$(pg -c "select _id || ' ' || \"$col\" from flong order by _id" | paste -sd '|')"
pg -c "drop table flong"

test_case "sqlite: --nest --create refused with why; into tables made by hand"
DB=$TMP/nest.db
run_sluice sq_create 2 load "$TMP/users.ndjson" "sqlite://$DB" "${NEST[@]}" --create
assert_contains "the reason" "--nest --create: sqlite cannot add the child tables' foreign keys" "$OUT"
sqlite3 "$DB" "CREATE TABLE users (_id TEXT PRIMARY KEY, name TEXT, joined TEXT, profile TEXT);
CREATE TABLE users_posts (users__id TEXT REFERENCES users (_id) ON DELETE CASCADE, _pos INTEGER, title TEXT, likes INTEGER, PRIMARY KEY (users__id, _pos));
CREATE TABLE users_posts_tags (users__id TEXT, posts_pos INTEGER, _pos INTEGER, value TEXT, PRIMARY KEY (users__id, posts_pos, _pos), FOREIGN KEY (users__id, posts_pos) REFERENCES users_posts (users__id, _pos) ON DELETE CASCADE);"
for run in 1 2; do
	run_sluice sq_load$run 0 load "$TMP/users.ndjson" "sqlite://$DB" "${NEST[@]}" --batch-rows 50
done
assert_eq "every table, each parent's children, the likes (twice loaded, once there)" "$(cat "$TMP/users.want")" \
	"$(sqlite3 -separator ' ' "$DB" "SELECT (SELECT COUNT(*) FROM users), (SELECT COUNT(*) FROM users_posts), (SELECT COUNT(*) FROM users_posts_tags);
SELECT u._id, (SELECT COUNT(*) FROM users_posts p WHERE p.users__id = u._id), (SELECT COUNT(*) FROM users_posts_tags t WHERE t.users__id = u._id) FROM users u ORDER BY u._id;
SELECT COALESCE(SUM(likes), 0) FROM users_posts;")"

test_case "pg: --dry-run prints the tree of tables and keys"
pg_drop
run_sluice dry 0 load "$TMP/users.ndjson" "$SLUICE_PG_URL" "${NEST[@]}" --create --dry-run
assert_contains "child table" "users_posts_tags (from posts.tags): columns users__id, posts_pos, _pos, value; primary key (users__id, posts_pos, _pos); foreign key (users__id, posts_pos) references users_posts" "$OUT"
assert_contains "the foreign key's DDL" 'FOREIGN KEY ("users__id") REFERENCES "users" ("_id") ON DELETE CASCADE' "$OUT"
assert_eq "nothing created" "0" "$(pg -c "select count(*) from pg_tables where tablename like 'users%'")"

test_case "pg: names too long are shortened, the same in every run"
LONG=a_table_name_that_is_rather_long_for_postgresql_identifiers_xx
pg -c "drop table if exists ${LONG} cascade" >/dev/null 2>&1
head -20 "$TMP/users.ndjson" >"$TMP/long.ndjson"
for run in 1 2; do
	run_sluice long$run 0 load "$TMP/long.ndjson" "$SLUICE_PG_URL" --table $LONG --nest posts --key _id --on-conflict update --create --progress none
done
n=$(pg -c "select count(*) from pg_tables where tablename like 'a_table_name_that_is_rather_long%' and length(tablename) = 63 and tablename ~ '_[0-9a-f]{8}$'")
assert_eq "the child table's name fitted to 63 bytes with a hash" "1" "$n"
want=$(python3 -c "
import json
print(sum(len(json.loads(l).get('posts') or []) for l in open('$TMP/long.ndjson')))")
child=$(pg -c "select tablename from pg_tables where tablename like 'a_table_name_that_is_rather_long%' and tablename ~ '_[0-9a-f]{8}$'")
assert_eq "its rows, once after two runs" "$want" "$(pg -c "select count(*) from \"$child\"")"
pg -c "drop table if exists \"$child\", $LONG"

# star FILE: orders with lines (each with discounts, each of those with
# steps: depth 3), notes, an array of scalars, one of Extended JSON
# wrappers and one inside an object (none of those three nested)
star() {
	python3 - "$1" <<'EOF'
import json, random, sys
rnd = random.Random(5)
with open(sys.argv[1], "w") as f:
    for i in range(60):
        d = {"_id": "o%02d" % i, "tags": ["a", "b"][: i % 3], "refs": [{"$oid": "%024x" % i}],
             "meta": {"links": [{"u": "x%d" % i}]}}
        if i % 9:
            d["lines"] = [{"sku": "s%d.%d" % (i, k), "qty": rnd.randint(1, 9),
                           "discounts": [{"pct": rnd.randint(1, 50), "steps": [{"n": 1}]} for _ in range(rnd.randint(0, 2))]}
                          for k in range(rnd.randint(0, 3))]
        if i % 4 == 0:
            d["notes"] = [{"text": "note %d" % i}]
        f.write(json.dumps(d) + "\n")
EOF
}
# star_want FILE DEPTH: the nest paths python finds, then per order
# "id lines discounts notes" and the quantities summed
star_want() {
	python3 - "$1" "$2" <<'EOF'
import json, sys
docs = [json.loads(l) for l in open(sys.argv[1])]
depth = int(sys.argv[2])
paths = []
def walk(obj, prefix, d):
    for k, v in obj.items():
        if isinstance(v, list) and d < depth:
            p = prefix + k
            elems = [e for e in v if isinstance(e, dict) and not (e and next(iter(e)).startswith("$"))]
            if elems and p not in paths:
                paths.append(p)
            for e in elems:
                walk(e, p + ".", d + 1)
for d in docs:
    walk(d, "", 0)
print(" ".join(sorted(paths)))
for d in docs:
    ls = d.get("lines") or []
    print(d["_id"], len(ls), sum(len(l["discounts"]) for l in ls), len(d.get("notes") or []))
print(sum(l["qty"] for d in docs for l in d.get("lines") or []))
EOF
}
star "$TMP/star.ndjson"
star_want "$TMP/star.ndjson" 2 >"$TMP/star.want"
for server in pg my; do
	URL=$SLUICE_PG_URL
	[ $server = my ] && URL=$SLUICE_MY_URL
	SCHEMA="'public'"
	[ $server = my ] && SCHEMA="DATABASE()"
	test_case "$server: --nest '*' finds the arrays of objects down to --nest-depth"
	${server}_q "DROP TABLE IF EXISTS nstar_lines_discounts, nstar_lines, nstar_notes, nstar" >/dev/null
	run_sluice star_$server 0 load "$TMP/star.ndjson" "$URL" --table nstar --nest '*' --key _id --create --progress none
	assert_contains "the paths found, logged" "--nest '*': 3 arrays of objects down to depth 2" "$OUT"
	tables=$(${server}_q "SELECT table_name FROM information_schema.tables WHERE table_name LIKE 'nstar%' AND table_schema = $SCHEMA ORDER BY 1" | paste -sd ' ')
	assert_eq "the child tables, as python finds the paths" \
		"nstar $(head -1 "$TMP/star.want" | tr '.' '_' | sed 's/\([a-z_]*\)/nstar_\1/g')" "$tables"
	assert_eq "each order's lines, discounts and notes; the quantities" "$(tail -n +2 "$TMP/star.want")" \
		"$(${server}_q "SELECT o._id, (SELECT COUNT(*) FROM nstar_lines l WHERE l.nstar__id = o._id), (SELECT COUNT(*) FROM nstar_lines_discounts x WHERE x.nstar__id = o._id), (SELECT COUNT(*) FROM nstar_notes n WHERE n.nstar__id = o._id) FROM nstar o ORDER BY o._id"; ${server}_q "SELECT SUM(qty) FROM nstar_lines")"
	assert_contains "deeper than --nest-depth: JSON" '"n"' \
		"$(${server}_q "SELECT steps FROM nstar_lines_discounts ORDER BY nstar__id, lines_pos, _pos LIMIT 1")"
	got=$(for c in tags refs meta; do ${server}_q "SELECT $c FROM nstar WHERE _id = 'o02'"; done | python3 -c "
import json, sys
t, r, m = [json.loads(l) for l in sys.stdin]
print(' '.join(t), '%024x' % 2 in json.dumps(r), m['links'][0]['u'])")
	assert_eq "arrays of scalars, of wrappers, inside an object: JSON" "a b True x2" "$got"
	${server}_q "DROP TABLE IF EXISTS nstar_lines_discounts, nstar_lines, nstar_notes, nstar" >/dev/null
done
test_case "--nest '*' --nest-depth 1 --dry-run; '*' with a name; stdin refused"
pg -c "drop table if exists nstar_lines_discounts, nstar_lines, nstar_notes, nstar, nstar_items"
run_sluice star_dry 0 load "$TMP/star.ndjson" "$SLUICE_PG_URL" --table nstar --nest '*,lines=nstar_items' --nest-depth 1 --key _id --create --dry-run
assert_contains "the tree: a named one" "nstar_items (from lines): columns nstar__id, _pos, sku, qty, discounts" "$OUT"
assert_contains "the tree: one found" "nstar_notes (from notes): columns nstar__id, _pos, text" "$OUT"
assert_not_contains "depth 1: no discounts table" "(from lines.discounts)" "$OUT"
assert_eq "nothing created" "0" "$(pg -c "select count(*) from pg_tables where tablename like 'nstar%'")"
run_sluice star_stdin 2 load - "$SLUICE_PG_URL" --table nstar --nest '*' --key _id --create <"$TMP/star.ndjson"
assert_contains "stdin: why and the alternative" "stdin cannot be read twice: name the paths instead (--nest posts,posts.tags)" "$OUT"

# generated keys: 90 users (no _id) with posts and their tags, loaded in
# batches of 20 into a parent made by hand with its identity column
python3 - "$TMP/gen.ndjson" <<'EOF'
import json, random, sys
rnd = random.Random(9)
with open(sys.argv[1], "w") as f:
    for i in range(90):
        posts = [{"title": "g%d.%d" % (i, p), "tags": ["t%d" % k for k in range(rnd.randint(0, 2))]} for p in range(rnd.randint(0, 3))]
        f.write(json.dumps({"name": "u%02d" % i, "posts": posts}) + "\n")
EOF
GEN_WANT=$(python3 -c "
import json
for l in open('$TMP/gen.ndjson'):
    d = json.loads(l)
    print(d['name'], len(d['posts']), sum(len(p['tags']) for p in d['posts']), ','.join(p['title'] for p in d['posts']) or '-')")
GEN_GOT="SELECT g.name, (SELECT COUNT(*) FROM gu_posts p WHERE p.gu_id = g.id), (SELECT COUNT(*) FROM gu_posts_tags t WHERE t.gu_id = g.id), COALESCE((SELECT GROUP_CONCAT(title ORDER BY _pos SEPARATOR ',') FROM gu_posts p WHERE p.gu_id = g.id), '-') FROM gu g ORDER BY g.id"
for server in pg my; do
	URL=$SLUICE_PG_URL
	[ $server = my ] && URL=$SLUICE_MY_URL
	test_case "$server: --parent-key generated: the server's ids, in each child"
	${server}_q "DROP TABLE IF EXISTS gu_posts_tags, gu_posts, gu" >/dev/null
	if [ $server = pg ]; then
		pg -c "create table gu (id bigint generated by default as identity primary key, name text)"
		q=${GEN_GOT//GROUP_CONCAT(title ORDER BY _pos SEPARATOR \',\')/string_agg(title, \',\' ORDER BY _pos)}
	else
		my -e "CREATE TABLE gu (id BIGINT AUTO_INCREMENT PRIMARY KEY, name TEXT)"
		q=$GEN_GOT
	fi
	run_sluice gen_$server 0 load "$TMP/gen.ndjson" "$URL" --table gu --nest posts,posts.tags --parent-key generated --create --batch-rows 20 --progress none
	assert_eq "in input order by id: each parent's posts, tags and titles" "$GEN_WANT" "$(${server}_q "$q")"
	assert_eq "ids increasing from 1 with the input, no gaps on a clean run" "90 1 90" \
		"$(${server}_q "SELECT COUNT(*), MIN(id), MAX(id) FROM gu")"
	assert_eq "every child's link is its parent's id" "0" \
		"$(${server}_q "SELECT (SELECT COUNT(*) FROM gu_posts p WHERE NOT EXISTS (SELECT 1 FROM gu g WHERE g.id = p.gu_id)) + (SELECT COUNT(*) FROM gu_posts_tags t WHERE NOT EXISTS (SELECT 1 FROM gu_posts p WHERE p.gu_id = t.gu_id AND p._pos = t.posts_pos))")"
	run_sluice gen_upd_$server 2 load "$TMP/gen.ndjson" "$URL" --table gu --nest posts --parent-key generated --key id --on-conflict update
	assert_contains "with --on-conflict update: refused, why" "--parent-key generated with --on-conflict update: a document has no key of its own" "$OUT"
	${server}_q "DROP TABLE IF EXISTS gu_posts_tags, gu_posts, gu" >/dev/null
done
test_case "sqlite: --parent-key generated refused with the alternative"
run_sluice gen_sq 2 load "$TMP/gen.ndjson" "sqlite://$TMP/gen.db" --table gu --nest posts --parent-key generated
assert_contains "why" "--parent-key generated is not supported on sqlite: use the natural key (--key)" "$OUT"

for server in pg my; do
	URL=$SLUICE_PG_URL
	[ $server = my ] && URL=$SLUICE_MY_URL
	test_case "$server: SIGKILL mid-run, --resume: every document once, with its children"
	${server}_drop
	gen "$TMP/big.ndjson" 3000 2
	expect "$TMP/big.ndjson" >"$TMP/big.want"
	# the tables first (from a few documents), then slowed so the kill lands mid-run
	head -50 "$TMP/big.ndjson" >"$TMP/few.ndjson"
	"$SLUICE" load "$TMP/few.ndjson" "$URL" "${NEST[@]}" --create -q
	if [ $server = pg ]; then
		pg -c "truncate users_posts_tags, users_posts, users" \
			-c "create or replace function slow() returns trigger language plpgsql as \$\$ begin perform pg_sleep(0.05); return null; end \$\$" \
			-c "create trigger slow after insert on users for each statement execute function slow()"
	else
		my -e "DELETE FROM users_posts_tags; DELETE FROM users_posts; DELETE FROM users; CREATE TRIGGER slow_users BEFORE INSERT ON users FOR EACH ROW SET @slow = IF(RIGHT(NEW._id, 2) = '00', SLEEP(0.05), 0)"
	fi
	"$SLUICE" load "$TMP/big.ndjson" "$URL" "${NEST[@]}" --resume --batch-rows 40 -q &
	pid=$!
	for _ in $(seq 1 500); do
		n=$(${server}_q "SELECT COUNT(*) FROM users" 2>/dev/null || echo 0)
		[ "${n:-0}" -gt 0 ] && break
		sleep 0.02
	done
	kill -9 $pid 2>/dev/null
	wait $pid 2>/dev/null
	mid=$(${server}_q "SELECT COUNT(*) FROM users")
	if [ "$mid" -gt 0 ] && [ "$mid" -lt 3000 ]; then pass "killed mid-run ($mid documents in)"; else fail "the kill did not land mid-run ($mid documents in)"; fi
	assert_eq "no orphan child after the kill" "0" "$(${server}_orphans)"
	run_sluice resume_$server 0 load "$TMP/big.ndjson" "$URL" "${NEST[@]}" --resume --batch-rows 40
	assert_eq "every table, each parent's children, the likes" "$(cat "$TMP/big.want")" "$(${server}_got)"
	assert_eq "no orphan child" "0" "$(${server}_orphans)"
	${server}_drop
done

finish
