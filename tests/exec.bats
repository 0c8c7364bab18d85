#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# Guarantee 5, second half: an exec of the instance itself (same PID) keeps
# the lock with no gap: env/nice/nohup prefixes, a bash script ending with
# exec, python's os.execv, a program executing itself. The new image adopts
# the lock: it does not see itself as another instance, the file keeps naming
# the same PID, a second instance is refused, and its clean exit removes the
# file.

# shellcheck disable=SC2154 # $status, $err and $notes are set by test_helper.bash

load test_helper

bats_require_minimum_version 1.5.0

# What every chain finally executes: plprog reporting its PID and environment
# and holding until $T/go2 exists.
after_argv() {
	AFTER=("$PLPROG" writepid "$T/after" note "$T" env waitfor "$T/go2" exit 0)
}

# check_exec_chain STAGED CMD...: CMD runs under the shim and ends up (by
# exec, same PID) in AFTER. STAGED=yes: CMD first writes $T/before and waits
# for $T/go1 before its exec, so the lock is checked on both sides of the exec
# while fail-mode contenders hammer it.
check_exec_chain() {
	local staged="$1" h
	shift
	start_shim "$@" >"$T/h.out" 2>"$T/h.err" &
	h=$!
	track_pid "$h"
	if [ "$staged" = yes ]; then
		wait_until "[ -e '$T/before' ]" || fail "the first image did not start"
		assert_pidfile_is "$T/before" "$h"
		assert_pidfile_is "$PF" "$h"
		lock_is_held "$PF"
		start_contenders
		touch "$T/go1"
	fi
	wait_until "[ -e '$T/after' ]" || fail "the new image did not run: $(cat "$T/h.err")"
	assert_pidfile_is "$T/after" "$h"
	assert_pidfile_is "$PF" "$h"
	lock_is_held "$PF" || fail "the lock was lost across exec"
	if [ "$staged" = yes ]; then
		stop_contenders
	fi
	assert_notes "$T" 1
	# A second instance is refused and told the same PID.
	mkdir "$T/second"
	pl_shim "$PLPROG" note "$T/second" exit 0
	assert_status 75
	assert_one_pidlock_line "already running as PID $h"
	assert_notes "$T/second" 0
	# The new image sees the lock as its own.
	grep -qx "PIDLOCK_HELD=$PF" "$T/h.out" || fail "new image environment: $(cat "$T/h.out")"
	! grep -q '^PIDLOCK_FILE=' "$T/h.out" || fail "new image still has PIDLOCK_FILE: $(cat "$T/h.out")"
	touch "$T/go2"
	wait_status "$h"
	assert_status 0
	[ ! -s "$T/h.err" ] || fail "stderr of the instance: $(cat "$T/h.err")"
	[ ! -e "$PF" ] || fail "the new image's clean exit did not remove the PID file"
	refute_lock_held "$PF"
}

@test "exec: env PROG keeps the lock in the same process" {
	after_argv
	check_exec_chain no env "${AFTER[@]}"
}

@test "exec: env with an added variable keeps the lock" {
	after_argv
	check_exec_chain no env FOO=bar "${AFTER[@]}"
}

@test "exec: nice PROG keeps the lock" {
	after_argv
	check_exec_chain no nice -n 1 "${AFTER[@]}"
}

@test "exec: nohup PROG keeps the lock" {
	after_argv
	check_exec_chain no nohup "${AFTER[@]}"
}

@test "exec: a bash script ending with exec keeps the lock, same PID before and after" {
	after_argv
	cat >"$T/script.sh" <<-'EOF'
		#!/bin/bash
		set -e
		T="$1"
		shift
		echo "$$" >"$T/before.tmp"
		mv "$T/before.tmp" "$T/before"
		for ((i = 0; i < 600; i++)); do
			[ -e "$T/go1" ] && break
			sleep 0.05
		done
		exec "$@"
	EOF
	chmod +x "$T/script.sh"
	check_exec_chain yes "$T/script.sh" "$T" "${AFTER[@]}"
}

@test "exec: a bash script ending with exec sleep keeps the lock" {
	cat >"$T/script.sh" <<-'EOF'
		#!/bin/bash
		echo "$$" >"$1.tmp"
		mv "$1.tmp" "$1"
		exec sleep 30
	EOF
	chmod +x "$T/script.sh"
	start_shim "$T/script.sh" "$T/before" >/dev/null 2>"$T/h.err" &
	local h=$!
	track_pid "$h"
	wait_until "[ \"\$(cat /proc/$h/comm 2>/dev/null)\" = sleep ]" || fail "the script did not exec sleep"
	assert_pidfile_is "$T/before" "$h"
	assert_pidfile_is "$PF" "$h"
	lock_is_held "$PF"
	pl_shim "$PLPROG" exit 0
	assert_status 75
	assert_one_pidlock_line "already running as PID $h (sleep 30)"
	[ ! -s "$T/h.err" ]
	kill "$h"
	wait_status "$h"
	[ "$status" -eq 143 ]
	pl_shim "$PLPROG" exit 0
	assert_status 0
	assert_no_stderr
}

@test "exec: python3 os.execv keeps the lock, same PID before and after" {
	after_argv
	cat >"$T/exec.py" <<-'EOF'
		import os, sys, time
		T = sys.argv[1]
		with open(T + "/before.tmp", "w") as f:
		    f.write("%d\n" % os.getpid())
		os.rename(T + "/before.tmp", T + "/before")
		for _ in range(600):
		    if os.path.exists(T + "/go1"):
		        break
		    time.sleep(0.05)
		os.execv(sys.argv[2], sys.argv[2:])
	EOF
	check_exec_chain yes "$PYTHON" "$T/exec.py" "$T" "${AFTER[@]}"
}

@test "exec: perl exec keeps the lock, same PID before and after" {
	after_argv
	# shellcheck disable=SC2016 # perl source
	check_exec_chain yes perl -e '
		my $t = shift;
		open(my $f, ">", "$t/before.tmp") or die; print $f "$$\n"; close($f);
		rename("$t/before.tmp", "$t/before") or die;
		for (1 .. 600) { last if -e "$t/go1"; select(undef, undef, undef, 0.05); }
		exec { $ARGV[0] } @ARGV or die;' "$T" "${AFTER[@]}"
}

@test "exec: a program that executes itself keeps the lock, same PID before and after" {
	after_argv
	check_exec_chain yes "$PLPROG" writepid "$T/before" waitfor "$T/go1" execself "${AFTER[@]:1}"
}

@test "exec: two execs in a row (env, then nice) keep the lock" {
	after_argv
	check_exec_chain no env nice -n 1 env "${AFTER[@]}"
}
