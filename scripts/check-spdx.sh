#!/bin/sh
# SPDX-License-Identifier: MIT
# Every source file, script, test, helper, fuzz harness and build file names
# its licence in its first three lines, as `SPDX-License-Identifier: MIT` in
# a comment of its own language, after the line that must stay first where
# there is one (#!, zsh's #compdef). Run by scripts/lint.sh.
#   sh scripts/check-spdx.sh            each file without it; exit 1 if any
#   sh scripts/check-spdx.sh --missing  "STYLE PATH" for each (scripts/add-spdx.sh)
#
# The files are the source files (scripts/source-tree.sh files), each of a
# kind below: C-style comments, # comments, roff comments, or exempt (data
# and documents). A file of no known kind is an error too, so that a new kind
# of file is classified on purpose rather than skipped.
set -eu
cd "$(dirname "$0")/.."

# The comment style of a path: c, hash, roff, exempt, or unknown.
style() {
	case $1 in
	fuzz/corpus/*) echo exempt ;; # inputs for the fuzzers: bytes, not source
	*.md | *.png | LICENSE | VERSION | MANIFEST | .gitignore) echo exempt ;;
	scripts/imports.txt) echo exempt ;; # a list of names, matched line by line
	*.c | *.h | *.map) echo c ;;
	*.[1-8]) echo roff ;;
	*.sh | *.bash | *.bats | *.py | *.fish | *.dict | *.supp | *.mk) echo hash ;;
	Makefile | */Makefile | .ci/run | .clang-tidy | completions/* | packaging/*) echo hash ;;
	*) echo unknown ;;
	esac
}

mode=report
case ${1-} in
--missing) mode=missing ;;
"") ;;
*)
	echo "usage: check-spdx.sh [--missing]" >&2
	exit 2
	;;
esac

list=$(sh scripts/source-tree.sh files)
bad=0
total=0
unknown=0
misplaced=0
while IFS= read -r f; do
	s=$(style "$f")
	[ "$s" != exempt ] || continue
	total=$((total + 1))
	if [ "$s" = unknown ]; then
		echo "check-spdx: $f: a kind of file this script does not know: classify it in style()" >&2
		unknown=$((unknown + 1))
		continue
	fi
	if head -n 3 "$f" | grep -q 'SPDX-License-Identifier: MIT'; then
		# The lines that must stay first still are.
		if sed -n '2,3p' "$f" | grep -q '^#!\|^#compdef'; then
			echo "check-spdx: $f: the SPDX line is above its #! or #compdef line" >&2
			misplaced=$((misplaced + 1))
		fi
		continue
	fi
	bad=$((bad + 1))
	if [ "$mode" = missing ]; then
		echo "$s $f"
	else
		echo "check-spdx: $f: no 'SPDX-License-Identifier: MIT' in its first 3 lines" >&2
	fi
done <<EOF
$list
EOF

if [ "$mode" = missing ]; then
	[ "$unknown" -eq 0 ] || exit 1
	exit 0
fi
if [ "$bad" -ne 0 ] || [ "$unknown" -ne 0 ] || [ "$misplaced" -ne 0 ]; then
	echo "check-spdx: of $total files, $bad lack the line, $misplaced have it misplaced," \
		"$unknown are unclassified (sh scripts/add-spdx.sh adds the missing lines)" >&2
	exit 1
fi
echo "check-spdx: all $total source files name the MIT licence"
