#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# The variable names live once, in the PL_VARIABLES table of shim/core/pidlock.h
# (an X-macro the code iterates). The README and the man page must list
# exactly those: every variable a user sets, and no PIDLOCK_* name the
# library does not know (PIDLOCK_TEST_* are the test suite's own).

load test_helper

# The names in the X(NAME, field) entries of one table macro of pidlock.h.
table_names() {
	awk -v m="#define $1(X)" 'index($0, m) == 1 { on = 1 } on { print } on && !/\\$/ { exit }' \
		"$ROOT/shim/core/pidlock.h" | grep -o 'X([A-Z_]*,' | sed 's/^X(/PIDLOCK_/; s/,$//' | sort -u
}

# The PIDLOCK_* names a document mentions (man page escapes '-' and '_' alike).
doc_names() {
	sed 's/\\_/_/g; s/\\-/-/g' "$1" | grep -o 'PIDLOCK_[A-Z_]*[A-Z]' | grep -v '^PIDLOCK_TEST_' | sort -u
}

@test "docs: the variable table has the ten user variables and pidlock's own three" {
	run table_names PL_USER_VARIABLES
	assert_success
	[ "${#lines[@]}" -eq 10 ] || fail "user variables: ${lines[*]}"
	run table_names PL_OWN_VARIABLES
	[ "${lines[*]}" = "PIDLOCK_EXEC PIDLOCK_FENCE PIDLOCK_HELD" ] || fail "own variables: ${lines[*]}"
}

@test "docs: the README lists every user variable and names no unknown PIDLOCK_* variable" {
	local all missing unknown
	all=$( (table_names PL_USER_VARIABLES; table_names PL_OWN_VARIABLES) | sort -u)
	missing=$(comm -23 <(table_names PL_USER_VARIABLES) <(doc_names "$ROOT/README.md"))
	unknown=$(comm -13 <(printf '%s\n' "$all") <(doc_names "$ROOT/README.md"))
	[ -z "$missing" ] || fail "README does not list: $missing"
	[ -z "$unknown" ] || fail "README names variables the library does not know: $unknown"
}

@test "docs: the man page lists every variable, pidlock's own included, and no unknown one" {
	local all missing unknown
	all=$( (table_names PL_USER_VARIABLES; table_names PL_OWN_VARIABLES) | sort -u)
	missing=$(comm -23 <(printf '%s\n' "$all") <(doc_names "$ROOT/docs/pidlock.1"))
	unknown=$(comm -13 <(printf '%s\n' "$all") <(doc_names "$ROOT/docs/pidlock.1"))
	[ -z "$missing" ] || fail "pidlock(1) does not list: $missing"
	[ -z "$unknown" ] || fail "pidlock(1) names variables the library does not know: $unknown"
}

@test "docs: every file, identifier and test that the documents cite exists (DESIGN.md is a true map)" {
	run python3 "$ROOT/tests/helpers/doccheck.py" "$ROOT" docs/DESIGN.md docs/HACKING.md README.md \
		CONTRIBUTING.md docs/recipes.md docs/cluster.md docs/platforms.md docs/macos.md fuzz/README.md docs/SECURITY.md
	[ "$status" -eq 0 ] || fail "dangling citations: $output"
}

@test "docs: every row of docs/SECURITY.md's trust table names a test, and every test it names exists" {
	run "$PYTHON" - "$ROOT" <<'PY'
import os, re, sys
root = sys.argv[1]
text = open(os.path.join(root, "docs/SECURITY.md"), encoding="utf-8").read()
rows = [l for l in text.splitlines()
        if l.startswith("| ") and not l.startswith("| input") and not l.startswith("| ---")]
bad = [] if len(rows) >= 10 else ["only %d rows" % len(rows)]
for row in rows:
    cells = row.strip().strip("|").split(" | ")
    if len(cells) != 4:
        bad.append("not 4 cells: " + row[:60])
        continue
    refs = re.findall(r'`([a-z_-]+\.bats)`: ((?:"[^"]+"(?:, )?)+)', cells[3])
    if not refs:
        bad.append("no test named: " + row[:60])
    for name, parts in refs:
        body = open(os.path.join(root, "tests", name), encoding="utf-8").read()
        for part in re.findall(r'"([^"]+)"', parts):
            if part not in body:
                bad.append("%s: no test %r" % (name, part))
print("\n".join(bad))
sys.exit(1 if bad else 0)
PY
	assert_success
}
