#!/bin/sh
# SPDX-License-Identifier: MIT
# Builds every libFuzzer harness in fuzz/ (clang -fsanitize=fuzzer,address,
# undefined) and runs each for a bounded time, starting from its checked-in
# seed corpus in fuzz/corpus/NAME/ (which holds the regression inputs of past
# crashes). Fails on any crash, sanitizer report, broken invariant, leak or
# timeout. Unattended; about a minute in all.
#
#   sh scripts/fuzz.sh              every harness, FUZZ_SECONDS (10) each
#   sh scripts/fuzz.sh proc cli     only these
#   FUZZ_SECONDS=600 sh scripts/fuzz.sh env_config    a longer session
#
# New interesting inputs go to build/fuzz/work/NAME/ (not checked in);
# crashing inputs to build/fuzz/artifacts/. A crash becomes a regression
# test: copy the input to fuzz/corpus/NAME/regress-WHAT and add a line to
# fuzz/README.md.
set -eu
cd "$(dirname "$0")/.."
QA_NAME=fuzz
# shellcheck source=scripts/qa-lib.sh
. scripts/qa-lib.sh

SECONDS_EACH=${FUZZ_SECONDS:-10}
OUT=build/fuzz
need clang clang
CLANG_MAJOR=$(clang -dumpversion | cut -d. -f1)
probe_fuzzer() {
	printf 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n) { (void)d; (void)n; return 0; }\n' |
		clang -x c -fsanitize=fuzzer,address,undefined -o "$OUT/.probe" - >/dev/null 2>&1
}
mkdir -p "$OUT/artifacts" "$OUT/logs"
if ! probe_fuzzer; then
	need_pkgs "libclang-rt-$CLANG_MAJOR-dev"
	probe_fuzzer || {
		echo "fuzz: clang cannot link libFuzzer (libclang-rt-$CLANG_MAJOR-dev)" >&2
		exit 1
	}
fi
rm -f "$OUT/.probe"

# The library's core; a harness that includes a source file itself (to reach
# its static parsers) is linked without it.
CORE=$(mkvar CORE)
[ -n "$CORE" ] || { echo "fuzz: make gave no CORE list" >&2; exit 1; }
# The Makefile's warnings (WARN), so the harnesses are held to the same.
WARN=$(mkvar WARN)
CFLAGS="-g -O1 ${WARN:--std=c11 -Wall -Wextra -Werror} -D_GNU_SOURCE"
SAN="-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer"

if [ $# -gt 0 ]; then
	names="$*"
else
	names=$(for f in fuzz/*.c; do basename "$f" .c; done)
fi

failed=""
for name in $names; do
	src=fuzz/$name.c
	[ -f "$src" ] || {
		echo "fuzz: no harness $src" >&2
		exit 1
	}
	included=$(sed -n 's|^#include "\.\./\(shim/[a-z]*/[a-z_]*\.c\)".*|\1|p' "$src")
	# Extra flags a harness asks for in a " * fuzz-cflags: FLAGS (why)" line.
	extra=$(sed -n 's|^ \* fuzz-cflags: \([^(]*\).*|\1|p' "$src")
	objs=""
	for c in $CORE; do
		case " $included " in
		*" $c "*) ;;
		*) objs="$objs $c" ;;
		esac
	done
	# Units a harness links beside the core, named by the Makefile's
	# variable in a " * fuzz-link: VAR (why)" line; main.c is left out, as
	# libFuzzer has its own main.
	# shellcheck disable=SC2013 # each line names one variable, one word
	for var in $(sed -n 's|^ \* fuzz-link: \([A-Z_]*\).*|\1|p' "$src"); do
		units=$(mkvar "$var")
		[ -n "$units" ] || { echo "fuzz: make gave no $var list" >&2; exit 1; }
		for f in $units; do
			case $f in */main.c) continue ;; esac
			case " $objs " in
			*" $f "*) ;;
			*) objs="$objs $f" ;;
			esac
		done
	done
	# shellcheck disable=SC2086 # flag and file lists are meant to split
	clang $CFLAGS $extra $SAN -o "$OUT/$name" "$src" $objs -ldl -pthread
	case $name in
	proc) maxlen=10000 ;; # /proc/locks lines beyond the 8 KiB read buffer
	cli) maxlen=8192 ;;   # whole ELF headers
	*) maxlen=4096 ;;
	esac
	dict=""
	[ -f "fuzz/$name.dict" ] && dict="-dict=fuzz/$name.dict"
	mkdir -p "$OUT/work/$name"
	log=$OUT/logs/$name.log
	# -close_fd_mask=3: the code under test writes messages on stderr;
	# libFuzzer keeps its own and the sanitizers' reports on a copy of it.
	# shellcheck disable=SC2086
	if "$OUT/$name" -max_total_time="$SECONDS_EACH" -timeout=10 -rss_limit_mb=2048 \
		-max_len="$maxlen" -close_fd_mask=3 -print_final_stats=1 \
		-artifact_prefix="$OUT/artifacts/$name-" $dict \
		"$OUT/work/$name" "fuzz/corpus/$name" </dev/null >"$log" 2>&1; then
		runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
		cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n 1)
		echo "fuzz: $name: ok, ${runs:-?} runs in ${SECONDS_EACH} s, $cov"
	else
		echo "fuzz: $name: FAILED; the end of $log:" >&2
		grep -v '^#[0-9]' "$log" | tail -n 40 >&2
		failed="$failed $name"
	fi
done
if [ -n "$failed" ]; then
	echo "fuzz: failures in:$failed (inputs in $OUT/artifacts/)" >&2
	exit 1
fi
echo "fuzz: every harness ran clean"
