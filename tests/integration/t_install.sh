#!/usr/bin/env bash
# tests/integration/t_install.sh - sluice as an installed tool: the manual page
# names every option --help prints, bash and zsh completion offer them,
# `make install` / `make uninstall` put and remove every file under DESTDIR and
# PREFIX, and the Debian package (`make deb`) installs with dpkg, loads into the
# test PostgreSQL server and removes cleanly.
. "$(dirname "$0")/lib.sh"

SLUICE=$(realpath "$SLUICE")
COMMANDS=(load update delete copy verify export ping checkpoints run)
VERSION=$("$SLUICE" --version | awk '{print $2}')

# help_options [CMD]: every --option the --help of CMD (or of sluice) prints
help_options() { "$SLUICE" "$@" --help 2>&1 | grep -o -- '--[a-z][a-z-]*' | sort -u; }

# listed_options CMD: the options CMD's --help lists as options (the first
# column of its option lines), short ones included
listed_options() {
	"$SLUICE" "$1" --help 2>&1 | grep -E '^ +-' | sed -E 's/^ +//; s/   *[^ ].*$//' |
		grep -oE -- '(^|[ ,])--?[a-zA-Z][a-z-]*' | sed -E 's/^[ ,]//' | sort -u
}

# man_options: the options the manual page documents, as the tags of its
# option lists (rendered, so roff escapes do not matter)
man_text() { groff -man -Tascii -P-cbou -rLL=200n "$ROOT/man/sluice.1" 2>/dev/null; }
man_options() {
	man_text | sed -n '/^OPTIONS/,/^EXIT STATUS/p' | grep -E '^ {7}-' |
		grep -oE -- '(^|[ ,])--?[a-zA-Z][a-z-]*' | sed -E 's/^[ ,]//' | sort -u
}

# missing WANT HAVE: the lines of WANT not in HAVE, on one line
missing() {
	comm -23 <(printf '%s\n' "$1" | sort -u) <(printf '%s\n' "$2" | sort -u) | tr '\n' ' ' | sed 's/ $//'
}

test_case "manual page"
documented=$(man_options)
# not vacuous: both lists are there
assert_contains "sluice load --help lists options" "--max-record-bytes" "$(listed_options load)"
assert_contains "the page lists options" "--max-record-bytes" "$documented"
assert_eq "names every option of sluice --help" "" "$(missing "$(help_options)" "$documented")"
rendered=$(man_text)
for cmd in "${COMMANDS[@]}"; do
	assert_eq "names every option of sluice $cmd --help" "" \
		"$(missing "$(help_options "$cmd")" "$documented")"
	assert_eq "names every short option of sluice $cmd --help" "" \
		"$(missing "$(listed_options "$cmd" | grep -v -- '^--')" "$documented")"
	assert_eq "describes sluice $cmd" "1" \
		"$(printf '%s\n' "$rendered" | sed -n '/^COMMANDS/,/^[A-Z]/p' | grep -cE "^ {7}$cmd( |\$)")"
done
# every --help fits an 80-column terminal
wide=$(for cmd in "" "${COMMANDS[@]}"; do
	# shellcheck disable=SC2086 # "" is sluice's own --help
	"$SLUICE" $cmd --help 2>&1 | awk -v c="${cmd:-sluice}" 'length > 80 { print c ": " $0 }'
done)
assert_eq "every --help line fits 80 columns" "" "$wide"
assert_contains "the URL help names the aliases" "also postgres://" "$("$SLUICE" --help)"
# the exit codes sluice --help lists, each a tag of EXIT STATUS
codes=$("$SLUICE" --help | sed -n '/^Exit codes/,/^$/p' | grep -oE '\b[0-9]+\b' | sort -u)
exit_tags=$(printf '%s\n' "$rendered" | sed -n '/^EXIT STATUS/,/^[A-Z]/p' | grep -E '^ {7}[0-9]' |
	sed -E 's/^ +//; s/  .*//' | grep -oE '[0-9]+' | sort -u)
assert_eq "every exit code of sluice --help" "" "$(missing "$codes" "$exit_tags")"
# shellcheck disable=SC2088 # the page says ~/, literally
for word in PGPASSWORD PGPASSFILE MYSQL_PWD "~/.pgpass" "~/.my.cnf" "FILE.log" "cron import" \
	"Migrating a MariaDB database" "test database in CI"; do
	assert_contains "mentions $word" "$word" "$rendered"
done
assert_contains "the version of the binary" "\"sluice $VERSION\"" "$(grep '^\.TH' "$ROOT/man/sluice.1")"
assert_eq "groff finds nothing to warn about" "" "$(groff -man -ww -z "$ROOT/man/sluice.1" 2>&1)"

test_case "bash completion"
# comp LINE: what bash completion offers for LINE (the cursor at its end)
comp() {
	(cd "$TMP" && bash -c '. "$1"; COMP_LINE=$2; COMP_POINT=${#2}; _sluice; printf "%s\n" "${COMPREPLY[@]}"' \
		_ "$ROOT/completion/sluice.bash" "$1" 2>&1)
}
assert_eq "commands" "$(printf '%s\n' load update delete copy verify export ping checkpoints run --help --version)" "$(comp "sluice ")"
for cmd in "${COMMANDS[@]}"; do
	assert_eq "sluice $cmd: every option its --help lists" "" \
		"$(missing "$(listed_options "$cmd")" "$(comp "sluice $cmd -")")"
done
assert_eq "--format" "$(printf '%s\n' csv tsv ndjson json jsonl)" "$(comp "sluice load --format ")"
assert_eq "--format=" "ndjson" "$(comp "sluice load x.csv --format=n")"
assert_eq "--method" "$(printf '%s\n' copy insert infile)" "$(comp "sluice load --method ")"
assert_eq "--on-conflict" "$(printf '%s\n' error skip update)" "$(comp "sluice load --on-conflict ")"
assert_eq "--progress" "$(printf '%s\n' auto bar log none)" "$(comp "sluice update --progress ")"
assert_eq "--encoding" "$(printf '%s\n' utf8 latin1)" "$(comp "sluice load --encoding ")"
mkdir -p "$TMP/exports"
touch "$TMP/exports/orders.csv" "$TMP/exports/order_lines.ndjson.gz"
assert_eq "source files" "$(printf '%s\n' exports/order_lines.ndjson.gz exports/orders.csv)" \
	"$(comp "sluice load --table t exports/ord" | sort)"
assert_eq "the rejects file" "exports/orders.csv" "$(comp "sluice load x.csv --rejects exports/orders")"
assert_eq "a target URL after the sources" "$(printf '%s\n' postgresql:// postgres://)" \
	"$(comp "sluice load exports/orders.csv po")"
assert_eq "URLs for copy" "$(printf '%s\n' mysql:// mariadb://)" "$(comp "sluice copy postgresql:///a m")"

test_case "zsh completion"
zfile=$ROOT/completion/_sluice
for cmd in "${COMMANDS[@]}"; do
	absent=""
	for opt in $(listed_options "$cmd"); do
		grep -qE -- "(^|[^a-z-])$opt([^a-z-]|\$)" "$zfile" || absent="$absent $opt"
	done
	assert_eq "sluice $cmd: every option its --help lists" "" "${absent# }"
done
if command -v zsh >/dev/null; then
	zsh -n "$zfile"
	assert_status "zsh reads it" 0 $?
	# zcomp LINE: what zsh completion offers for LINE, through a pseudo-terminal
	cat >"$TMP/zcomp.zsh" <<'EOF'
zmodload zsh/zpty
zpty z zsh -f -i
zpty -w z "fpath=($1 \$fpath); autoload -U compinit; compinit -u -D; PROMPT='' RPROMPT=''; LISTMAX=100000"
zpty -w z 'compadd () {
	if [[ ${@[1,(i)(-|--)]} == *-(O|A|D)\ * ]]; then builtin compadd "$@"; return; fi
	local -a hits; builtin compadd -A hits "$@"; local h
	for h in $hits; do print -r -- "<C>$h</C>"; done
	builtin compadd "$@"
}'
zpty -w z "print '<REA''DY>'"
zpty -r z out '*<READY>*' >/dev/null
zpty -w -n z "$2"$'\t'$'\x15'
zpty -w z "print '<DO''NE>'"
zpty -r z out '*<DONE>*'
print -r -- "$out" | tr -d '\r' | grep -o '<C>[^<]*</C>' | sed 's/<C>//; s/<\/C>//' | sort -u
zpty -d z
EOF
	zcomp() {
		local out
		for _ in 1 2 3; do
			out=$(cd "$TMP" && timeout 20 zsh -f "$TMP/zcomp.zsh" "$ROOT/completion" "$1" 2>/dev/null)
			[ -n "$out" ] && break
		done
		printf '%s\n' "$out"
	}
	assert_eq "commands" "$(printf '%s\n' checkpoints copy delete export load ping run update verify)" "$(zcomp "sluice ")"
	assert_eq "sluice copy: every option its --help lists" "" \
		"$(missing "$(listed_options copy | grep -- '^--')" "$(zcomp "sluice copy --")")"
	assert_eq "--format" "$(printf '%s\n' csv json jsonl ndjson tsv)" "$(zcomp "sluice load --format ")"
	assert_eq "--on-conflict" "$(printf '%s\n' error skip update)" "$(zcomp "sluice load --on-conflict ")"
	assert_eq "source files" "exports" "$(zcomp "sluice load exp")"
else
	echo "# zsh is not installed: its completion is checked as text only"
fi

test_case "make install and make uninstall, DESTDIR and PREFIX"
# -o: install the binary under test, never rebuild it; BUILD: not the tree's
MAKE_VARS=(BIN="$SLUICE" BUILD="$TMP/build" -o "$SLUICE")
STAGE=$TMP/stage
make -C "$ROOT" install DESTDIR="$STAGE" PREFIX=/usr "${MAKE_VARS[@]}" >"$TMP/install.log" 2>&1
assert_status "make install" 0 $?
staged() { (cd "$1" && find . -type f -printf '%P %m\n' | sort); }
assert_eq "every file where it belongs" "usr/bin/sluice 755
usr/share/bash-completion/completions/sluice 644
usr/share/man/man1/sluice.1.gz 644
usr/share/zsh/site-functions/_sluice 644" "$(staged "$STAGE")"
assert_eq "the binary runs" "sluice $VERSION" "$("$STAGE/usr/bin/sluice" --version)"
assert_eq "the manual page, gzipped" "" \
	"$(zcat "$STAGE/usr/share/man/man1/sluice.1.gz" | cmp - "$ROOT/man/sluice.1" 2>&1)"
assert_contains "man reads it" "sluice load" \
	"$(MANWIDTH=100 man -l "$STAGE/usr/share/man/man1/sluice.1.gz" 2>&1 | col -b)"
make -C "$ROOT" uninstall DESTDIR="$STAGE" PREFIX=/usr "${MAKE_VARS[@]}" >>"$TMP/install.log" 2>&1
assert_status "make uninstall" 0 $?
assert_eq "every file removed" "" "$(staged "$STAGE")"
make -C "$ROOT" install DESTDIR="$TMP/stage2" "${MAKE_VARS[@]}" >>"$TMP/install.log" 2>&1
assert_eq "PREFIX is /usr/local by default" "usr/local/bin/sluice 755" "$(staged "$TMP/stage2" | grep bin/)"
make -C "$ROOT" uninstall DESTDIR="$TMP/stage2" "${MAKE_VARS[@]}" >>"$TMP/install.log" 2>&1
assert_eq "uninstalled from /usr/local" "" "$(staged "$TMP/stage2")"

test_case "make deb"
if [ -n "${SLUICE_ASAN:-}" ]; then
	# make asan: the package holds a build of its own, tested by make check
	echo "# skip: the Debian package under make asan"
	finish
	exit
fi
# one build, with the unit tests the package build runs: it must also be
# without noise (no install(1) warning per file, no failed connections)
# noopt: the package's contents are what is tested here; make check builds
# and tests the optimized binary itself (an -O0 build takes half the time)
DEB_BUILD_OPTIONS=noopt make -C "$ROOT" deb DEB_DIR="$TMP/deb" BUILD="$TMP/build" >"$TMP/deb.log" 2>&1
rc=$?
assert_status "make deb with the unit tests" 0 $rc
[ "$rc" -eq 0 ] || tail -30 "$TMP/deb.log" | sed 's/^/    /'
assert_eq "no warnings in make deb" "" "$(grep -E 'WARNING|warning:|cannot connect' "$TMP/deb.log" || true)"
deb=$(ls "$TMP"/deb/sluice_*.deb 2>/dev/null | head -1)
depends=$(dpkg-deb -f "$deb" Depends 2>&1)
for lib in libpq5 libmariadb3 libcsv3 zlib1g libyajl2 libsqlite3-0; do
	assert_contains "Depends on $lib" "$lib " "$depends"
done
assert_eq "Depends names runtime libraries only" "" \
	"$(printf '%s\n' "$depends" | tr ',' '\n' | grep -E -- '-dev|debhelper|check|pkg-?conf')"
version=$(dpkg-deb -f "$deb" Version 2>&1)
assert_eq "the package version is the binary's" "$VERSION" "${version%-*}"
contents=$(dpkg-deb -c "$deb" 2>&1 | awk '{print $6}')
for f in ./usr/bin/sluice ./usr/share/man/man1/sluice.1.gz \
	./usr/share/bash-completion/completions/sluice ./usr/share/zsh/site-functions/_sluice \
	./usr/share/doc/sluice/copyright ./usr/share/doc/sluice/NEWS; do
	assert_contains "holds $f" "$f" "$contents"
done
# the package grants rights: the PostgreSQL License, as the tree's LICENSE
mkdir -p "$TMP/debx"
dpkg-deb -x "$deb" "$TMP/debx"
# the test hooks (getenv of SLUICE_BISECT, SLUICE_FAULT_*, ...) exist in a
# HOOKS=1 test build only: the test binary has their names, the package's none
hooks() { grep -aoE 'SLUICE_(BISECT|FAULT_[A-Z_]+|SLOW_CSV|CSV_CROSSCHECK|CSV_SSE2)' "$1" | sort -u | tr '\n' ' '; }
assert_contains "the test build reads the hooks" "SLUICE_BISECT" "$(hooks "$SLUICE")"
assert_eq "the packaged binary reads no test hook" "" "$(hooks "$TMP/debx/usr/bin/sluice")"
assert_contains "debian/copyright: the PostgreSQL License" "License: PostgreSQL" \
	"$(cat "$TMP/debx/usr/share/doc/sluice/copyright")"
assert_contains "LICENSE: the PostgreSQL License" "Permission to use, copy, modify, and distribute" \
	"$(cat "$ROOT/LICENSE")"

test_case "the package installed with dpkg"
SUDO=
[ "$(id -u)" -eq 0 ] || SUDO="sudo -n"
if [ -z "$deb" ]; then
	fail "no package to install"
elif [ -n "$SUDO" ] && ! sudo -n true 2>/dev/null; then
	echo "# skip: installing a package needs root or sudo"
elif dpkg-query -W -f='${Status}' sluice 2>/dev/null | grep -q "ok installed" || [ -e /usr/bin/sluice ]; then
	echo "# skip: sluice is installed on this machine already; not touching it"
else
	trap '$SUDO dpkg -r sluice >/dev/null 2>&1; rm -rf "$TMP"' EXIT
	$SUDO dpkg -i "$deb" >"$TMP/dpkg.log" 2>&1
	rc=$?
	assert_status "dpkg -i" 0 $rc
	[ "$rc" -eq 0 ] || sed 's/^/    /' "$TMP/dpkg.log"
	assert_eq "sluice --version" "sluice $VERSION" "$(/usr/bin/sluice --version 2>&1)"
	assert_eq "dpkg knows its files" "" "$(missing "/usr/bin/sluice
/usr/share/bash-completion/completions/sluice
/usr/share/man/man1/sluice.1.gz
/usr/share/zsh/site-functions/_sluice" "$(dpkg -L sluice)")"
	pg -c "drop table if exists installed_load; create table installed_load (id int primary key, name text)"
	printf 'id,name\n1,ann\n2,"bob, jr"\n' >"$TMP/installed_load.csv"
	/usr/bin/sluice load "$TMP/installed_load.csv" "$SLUICE_PG_URL" -q
	assert_status "a load into PostgreSQL" 0 $?
	assert_eq "the rows" $'1|ann\n2|bob, jr' "$(pg -c 'select id, name from installed_load order by id')"
	pg -c "drop table installed_load"
	out=$(/usr/bin/sluice ping "$SLUICE_MY_URL" 2>&1)
	assert_status "sluice ping, MariaDB" 0 $?
	assert_contains "the server version" "MariaDB" "$out"
	$SUDO dpkg -r sluice >>"$TMP/dpkg.log" 2>&1
	assert_status "dpkg -r" 0 $?
	trap 'rm -rf "$TMP"' EXIT
	[ ! -e /usr/bin/sluice ]
	assert_status "the binary is gone" 0 $?
	[ ! -e /usr/share/bash-completion/completions/sluice ] && [ ! -e /usr/share/man/man1/sluice.1.gz ]
	assert_status "the manual page and completion are gone" 0 $?
	assert_eq "dpkg has forgotten it" "" \
		"$(dpkg-query -W -f='${Status}' sluice 2>/dev/null | grep 'ok installed')"
fi

finish
