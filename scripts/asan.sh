#!/bin/sh
# SPDX-License-Identifier: MIT
# Builds the library, the command and the test helpers with AddressSanitizer
# and UndefinedBehaviorSanitizer into build/asan, runs the whole bats suite
# against that build (PIDLOCK_TEST_BUILD=build/asan), and fails on any test
# failure or sanitizer report. (scripts/coverage.sh --asan does the same in
# one run with the coverage report; CI uses that.)
#
#   sh scripts/asan.sh          build and test
#   sh scripts/asan.sh build    build only
set -eu
cd "$(dirname "$0")/.."
QA_NAME=asan
# shellcheck source=scripts/qa-lib.sh
. scripts/qa-lib.sh

need gcc gcc
OUT=build/asan
HELPER_CFLAGS=$(helper_san_flags)
LIB_CFLAGS=$(lib_san_flags)
build_variant "$OUT" gcc "-O1 -g $SAN_FLAGS" "$SAN_FLAGS"
[ "${1:-}" = build ] && exit 0

asan_setup "$OUT"
status=0
run_suite "$OUT" asan || status=$?
asan_verdict "$OUT" || status=1
[ "$status" -eq 0 ] || exit "$status"
echo "asan: the suite passed on the ASan+UBSan build with zero sanitizer reports"
