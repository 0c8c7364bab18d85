#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# The same acquire / conflict / release behaviour for real programs in many
# languages: a C helper, sleep, python3, perl, bash, dash and node.

# shellcheck disable=SC2154 # $status, $err and $notes are set by test_helper.bash

load test_helper

bats_require_minimum_version 1.5.0

# lang_check HOLD... -- QUICK...
#   HOLD runs until killed; QUICK prints "ran" and exits with status 3.
lang_check() {
	local -a hold=() quick=()
	while [ "$1" != -- ]; do
		hold+=("$1")
		shift
	done
	shift
	quick=("$@")
	command -v "${hold[0]}" >/dev/null || skip "${hold[0]} is not installed"

	# Acquire: the file names the program itself.
	start_shim "${hold[@]}" >/dev/null 2>"$T/h.err" &
	local h=$!
	track_pid "$h"
	await_pidfile "$PF" "$h"
	assert_pidfile_is "$PF" "$h"
	lock_is_held "$PF"

	# Conflict: the same language is refused, told the holder and its command.
	pl_shim "${quick[@]}"
	assert_status 75
	assert_one_pidlock_line "$PF: already running as PID $h (${hold[*]})"
	[ ! -s "$T/out" ] || fail "the refused program ran: $(cat "$T/out")"
	# Wait mode with a short timeout gives up the same way.
	pl_shim PIDLOCK_MODE=wait PIDLOCK_TIMEOUT=0.2 "${quick[@]}"
	assert_status 75
	assert_one_pidlock_line "timed out"

	# Release on a signal: the next start is silent, and its clean exit
	# (status 3 kept) removes the file.
	kill -TERM "$h"
	wait_status "$h"
	[ "$status" -eq 143 ] || fail "holder status $status after TERM"
	[ ! -s "$T/h.err" ] || fail "holder stderr: $(cat "$T/h.err")"
	pl_shim "${quick[@]}"
	assert_status 3
	assert_no_stderr
	grep -qx ran "$T/out" || fail "the program did not run"
	[ ! -e "$PF" ] || fail "a clean exit left the PID file"

	# Replace mode ends a holder of the same language.
	start_shim "${hold[@]}" >/dev/null 2>&1 &
	h=$!
	track_pid "$h"
	await_pidfile "$PF" "$h"
	pl_shim PIDLOCK_MODE=replace PIDLOCK_TIMEOUT=5 "${quick[@]}"
	assert_status 3
	assert_no_stderr
	grep -qx ran "$T/out"
	wait_status "$h"
	[ "$status" -eq 143 ] || fail "replaced holder status $status"
}

@test "langs: C helper" {
	lang_check "$PLPROG" sleep 30 -- "$PLPROG" print ran exit 3
}

@test "langs: sleep (coreutils)" {
	# sleep is the holder; it cannot print, so the short-lived instance is a
	# bash one-liner on the same PID file.
	lang_check sleep 30 -- bash -c 'echo ran; exit 3'
}

@test "langs: python3" {
	lang_check "$PYTHON" -c 'import time; time.sleep(30)' -- \
		"$PYTHON" -c 'import sys; print("ran"); sys.exit(3)'
}

@test "langs: perl" {
	lang_check perl -e 'sleep 30' -- perl -e 'print "ran\n"; exit 3'
}

@test "langs: bash" {
	mkfifo "$T/fifo"
	# shellcheck disable=SC2016 # for the inner shell
	lang_check bash -c 'read -r -t 30 x <>"$0"' "$T/fifo" -- bash -c 'echo ran; exit 3'
}

@test "langs: dash" {
	mkfifo "$T/fifo"
	# shellcheck disable=SC2016 # for the inner shell
	lang_check dash -c 'read x <>"$0"' "$T/fifo" -- dash -c 'echo ran; exit 3'
}

@test "langs: node" {
	skip_if_instrumented asan "node dies in ASan's start-up when the runtime is not the first library"
	lang_check node -e 'setTimeout(() => {}, 30000)' -- node -e 'console.log("ran"); process.exit(3)'
}
