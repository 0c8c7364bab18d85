#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# Guarantee 3: the lock is released on every kind of exit (return from main,
# exit(), _exit(), an uncaught signal, SIGKILL, a crash) and the next start
# needs no clean-up: it succeeds at once with nothing on stderr. A clean exit
# removes the PID file; a killed instance leaves it, and it is taken over
# silently.

# shellcheck disable=SC2154 # $status, $err and $notes are set by test_helper.bash

load test_helper

bats_require_minimum_version 1.5.0

# check_release HOW WANT_STATUS FILE_KEPT ACTION...
#   HOW: "self" (the holder ends itself with ACTION once $T/go exists) or a
#   signal name the test sends to the holder from outside.
check_release() {
	local how="$1" want="$2" kept="$3" h n
	shift 3
	mkdir -p "$T/m"
	if [ "$how" = self ]; then
		start_shim "$PLPROG" waitfor "$T/go" "$@" >/dev/null 2>"$T/h.err" &
	else
		start_shim "$PLPROG" sleep 30 >/dev/null 2>"$T/h.err" &
	fi
	h=$!
	track_pid "$h"
	await_pidfile "$PF" "$h"
	lock_is_held "$PF" || fail "the holder does not hold the lock"
	if [ "$how" = self ]; then
		touch "$T/go"
	else
		kill -s "$how" "$h"
	fi
	wait_status "$h"
	[ "$status" -eq "$want" ] || fail "holder exit status $status, expected $want"
	[ ! -s "$T/h.err" ] || fail "holder stderr: $(cat "$T/h.err")"
	if [ "$kept" = kept ]; then
		[ -e "$PF" ] || fail "the PID file of a killed instance was removed (by whom?)"
		! lock_is_held "$PF" || fail "the lock is still held after the holder ended"
	else
		[ ! -e "$PF" ] || fail "a clean exit left the PID file behind"
	fi
	# The next start succeeds at once, silently, and writes its own PID.
	start_shim "$PLPROG" note "$T/m" waitfor "$T/go2" exit 0 >/dev/null 2>"$T/n.err" &
	n=$!
	track_pid "$n"
	# The file may still name the killed holder: wait for the new PID itself.
	await_pidfile "$PF" "$n"
	touch "$T/go2"
	wait_status "$n"
	[ "$status" -eq 0 ] || fail "the next start exited $status: $(cat "$T/n.err")"
	[ ! -s "$T/n.err" ] || fail "the next start printed: $(cat "$T/n.err")"
	[ -e "$T/m/ran.$n" ] || fail "the next instance did not run"
	[ ! -e "$PF" ] || fail "the next instance's clean exit left the PID file"
	# And once more in the foreground, in fail mode: no retry, no delay.
	pl_shim "$PLPROG" note "$T/m" exit 0
	assert_status 0
	assert_no_stderr
	assert_notes "$T/m" 2
}

@test "release: return from main removes the file, keeps the status, next start is silent" {
	check_release self 3 removed return 3
}

@test "release: exit() removes the file, keeps the status, next start is silent" {
	check_release self 4 removed exit 4
}

@test "release: _exit() removes the file, keeps the status, next start is silent" {
	check_release self 5 removed _exit 5
}

@test "release: return 0 from main (no exit action) removes the file" {
	check_release self 0 removed print finished
}

@test "release: uncaught SIGTERM raised by the program frees the lock, file taken over silently" {
	check_release self 143 kept kill TERM
}

@test "release: SIGTERM from outside frees the lock, file taken over silently" {
	check_release TERM 143 kept
}

@test "release: SIGKILL frees the lock, file taken over silently" {
	check_release KILL 137 kept
}

@test "release: a SIGSEGV crash frees the lock, file taken over silently" {
	check_release self 139 kept segv
}

@test "release: abort() (SIGABRT) frees the lock, file taken over silently" {
	check_release self 134 kept kill ABRT
}

@test "release: a stale file from a killed instance is taken over silently in wait and replace modes too" {
	local h mode
	for mode in wait replace; do
		start_shim "$PLPROG" sleep 30 >/dev/null 2>&1 &
		h=$!
		track_pid "$h"
		await_pidfile "$PF" "$h"
		kill -KILL "$h"
		wait_status "$h"
		[ -e "$PF" ]
		pl_shim "PIDLOCK_MODE=$mode" PIDLOCK_TIMEOUT=5 "$PLPROG" note "$T" exit 0
		assert_status 0
		assert_no_stderr
		[ ! -e "$PF" ]
	done
	assert_notes "$T" 2
}
