#!/bin/sh
# SPDX-License-Identifier: MIT
# Static checks, each of which must report nothing:
#   layout     scripts/check-layout.sh: which folder of shim/ includes what
#   cppcheck   on shim/, tests/helpers/ and fuzz/ (warning, performance,
#              portability), suppressions only in scripts/cppcheck.supp,
#              each with its reason
#   clang-tidy on shim/ and fuzz/ with the checked-in .clang-tidy
#   ShellCheck on every shell script: scripts/*.sh, bench/*.sh, .ci/run, tests/*.bash,
#              tests/*.bats, tests/helpers/*.sh
#   SPDX       every source file names the MIT licence (scripts/check-spdx.sh)
#   references no comment cites the contract's sections or an issue by number,
#              which the repository does not ship (name the DESIGN.md guarantee)
#
#   sh scripts/lint.sh
set -eu
cd "$(dirname "$0")/.."
QA_NAME=lint
# shellcheck source=scripts/qa-lib.sh
. scripts/qa-lib.sh

need cppcheck cppcheck
need clang-tidy clang-tidy
need shellcheck shellcheck

status=0

echo "lint: layout"
sh scripts/check-layout.sh || status=1

echo "lint: cppcheck"
# Every configuration of the #ifdefs is checked (Linux and macOS branches).
# shellcheck disable=SC2046 # file lists are meant to split
if ! cppcheck --enable=warning,performance,portability --error-exitcode=1 --std=c11 \
	--inline-suppr --suppressions-list=scripts/cppcheck.supp --quiet \
	$(ls shim/*/*.c tests/helpers/*.c fuzz/*.c 2>/dev/null); then
	status=1
fi

echo "lint: clang-tidy"
# macOS's platform files need macOS headers; the rest is checked as built on
# Linux.
for f in shim/*/*.c fuzz/*.c; do
	case $f in
	*_darwin.c) continue ;;
	esac
	if ! clang-tidy --quiet "$f" -- -std=c11 -D_GNU_SOURCE 2>/dev/null; then
		status=1
	fi
done

echo "lint: shellcheck"
# shellcheck disable=SC2046
if ! shellcheck -x $(ls scripts/*.sh bench/*.sh .ci/run tests/*.bash tests/*.bats tests/helpers/*.sh 2>/dev/null); then
	status=1
fi

echo "lint: SPDX licence lines"
if ! sh scripts/check-spdx.sh; then
	status=1
fi

echo "lint: references to what the repository does not ship"
refs=$(sh scripts/source-tree.sh files | grep -v '^fuzz/corpus/' | tr '\n' '\0' |
	xargs -0 grep -nE '\bSPEC (section|guarantee|[0-9])|\b[Ii]ssue [0-9]+' || true)
if [ -n "$refs" ]; then
	echo "$refs"
	status=1
fi

if [ "$status" -ne 0 ]; then
	echo "lint: FAILED" >&2
	exit 1
fi
echo "lint: cppcheck, clang-tidy, shellcheck and check-spdx report nothing"
