#!/bin/sh
# SPDX-License-Identifier: MIT
# Line coverage of shim/ by the bats suite: builds the library, the command
# and the helpers with gcc --coverage into build/cov, runs the whole suite
# against that build (PIDLOCK_TEST_BUILD=build/cov), and prints gcovr's
# report for shim/ with the total line coverage on the last line. An HTML
# report with every line goes to build/cov/report/index.html.
#
#   sh scripts/coverage.sh           build, test, report
#   sh scripts/coverage.sh --asan    the same build also with ASan+UBSan,
#                                    failing on any sanitizer report too: one
#                                    run of the suite for both gates (CI)
#   sh scripts/coverage.sh report    report on the counts already there
#
# The counts of a process are merged into build/cov/*.gcda when it exits,
# calls _exit or execs (one killed by a signal leaves none). Exits with the
# suite's status, after the report.
set -eu
cd "$(dirname "$0")/.."
QA_NAME=coverage
# shellcheck source=scripts/qa-lib.sh
. scripts/qa-lib.sh

need gcc gcc
need gcovr gcovr
OUT=build/cov
status=0
mode=${1:-}

if [ "$mode" != report ]; then
	# PL_COVERAGE: the library writes its counts before _exit and exec too
	# (shim/lib/interpose.c), which would otherwise lose them.
	flags="-O0 -g --coverage -DPL_COVERAGE"
	# The helpers are not measured, and one copied setuid (cli.bats) could
	# not write root's count files anyway.
	HELPER_DROP=--coverage
	[ "$mode" != --asan ] || {
		flags="$flags $SAN_FLAGS"
		HELPER_CFLAGS=$(helper_san_flags)
		LIB_CFLAGS=$(lib_san_flags)
	}
	build_variant "$OUT" gcc "$flags" "$flags"
	[ "$mode" != --asan ] || asan_setup "$OUT"
	# Every count file made now, by root, and writable by all: tests that run
	# the shim as another user (setpriv) then add their counts, instead of
	# gcov printing "profiling: ...: Cannot open" on the program's stderr.
	# (An inert start and `pidlock --version` are covered by the suite anyway.)
	LD_PRELOAD="$PWD/$OUT/libpidlock.so" /bin/true
	LD_PRELOAD="$PWD/$OUT/libempty.so" /bin/true
	"$OUT/pidlock" --version >/dev/null
	chmod -R a+rwX "$OUT"
	find "$OUT" -name '*.gcda' -exec chmod 0666 {} +
	kinds=coverage
	[ "$mode" != --asan ] || kinds=asan,coverage
	run_suite "$OUT" "$kinds" || status=$?
	[ "$mode" != --asan ] || asan_verdict "$OUT" || status=1
fi

mkdir -p "$OUT/report"
# A branch count can come out negative ("branch 1 taken -8"): processes that
# share counters (fork copies, a count dump before an exec or a seccomp
# filter, then a reset) merge into the same .gcda. gcovr skips such a line,
# says so on stderr, and reports the rest; line counts are unaffected.
gcovr --gcov-ignore-parse-errors --root . --filter 'shim/' --txt "$OUT/report/coverage.txt" \
	--html-details "$OUT/report/index.html" --print-summary "$OUT" >"$OUT/report/summary.txt"
cat "$OUT/report/coverage.txt"
lines=$(sed -n 's/^lines: *//p' "$OUT/report/summary.txt")
echo "coverage: shim/ line coverage: ${lines:-unknown}"
exit "$status"
