#!/bin/sh
# SPDX-License-Identifier: MIT
# Adds `SPDX-License-Identifier: MIT` to every source file that lacks it (the
# files scripts/check-spdx.sh lists), in the comment syntax of the file's
# kind: /* ... */ for C, headers and the linker's version script; # for
# shell, bats, Python, fish, Makefiles and configuration; .\" for the man
# page. The line goes first, or second after a line that must stay first:
# #! (and, in Python, an encoding declaration after it), zsh's #compdef.
# Idempotent: a file that has the line is not touched; mode and inode stay.
#   sh scripts/add-spdx.sh
set -eu
cd "$(dirname "$0")/.."

missing=$(sh scripts/check-spdx.sh --missing) || {
	echo "add-spdx: classify the files above in scripts/check-spdx.sh first" >&2
	exit 1
}
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
n=0
while read -r style f; do
	[ -n "$f" ] || continue
	case $style in
	c) line='/* SPDX-License-Identifier: MIT */' ;;
	hash) line='# SPDX-License-Identifier: MIT' ;;
	roff) line='.\" SPDX-License-Identifier: MIT' ;;
	*)
		echo "add-spdx: $f: unknown style $style" >&2
		exit 1
		;;
	esac
	# After the lines that must stay where they are: #! or #compdef on line
	# 1, and a Python encoding declaration on line 1 or 2 (PEP 263).
	py=0
	case $f in *.py) py=1 ;; esac
	# (ENVIRON, not -v: awk would read the backslash of .\" as an escape.)
	SPDX_LINE=$line awk -v py="$py" '
		function put() { if (!done) { print ENVIRON["SPDX_LINE"]; done = 1 } }
		NR == 1 && (/^#!/ || /^#compdef/) { print; next }
		NR <= 2 && py && /^#.*coding[:=]/ { print; next }
		{ put(); print }
		END { put() }' "$f" >"$tmp"
	cat "$tmp" >"$f"
	echo "add-spdx: $f"
	n=$((n + 1))
done <<EOF
$missing
EOF
echo "add-spdx: added the line to $n files"
sh scripts/check-spdx.sh
