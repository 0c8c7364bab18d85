#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# Fail, wait and replace modes as seen by the user: the conflict message,
# PIDLOCK_QUIET, replace (TERM, then SIGKILL after PIDLOCK_TIMEOUT, the
# configured signal, never a process that does not hold the lock, every
# holder) and the verbose lines.

# shellcheck disable=SC2154 # $status, $err and $notes are set by test_helper.bash

load test_helper

bats_require_minimum_version 1.5.0

@test "modes: fail-mode conflict message names the file, the holder PID and its command line" {
	start_shim_holder "$PLPROG" sleep 30
	pl_shim "$PLPROG" note "$T" exit 0
	assert_status 75
	assert_one_pidlock_line
	[ "$err" = "pidlock: $PF: already running as PID $H ($PLPROG sleep 30)"$'\n' ] ||
		fail "message: [$err]"
	assert_notes "$T" 0
	# PIDLOCK_QUIET=1: same status, no line.
	pl_shim PIDLOCK_QUIET=1 "$PLPROG" note "$T" exit 0
	assert_status 75
	assert_no_stderr
	assert_notes "$T" 0
	proc_alive "$H"
}

@test "modes: the conflict message shows a command line with spaces for NULs, also for an argument with spaces" {
	start_shim_holder "$PLPROG" print "two words" sleep 30
	pl_shim "$PLPROG" exit 0
	assert_status 75
	assert_one_pidlock_line "PID $H ($PLPROG print two words sleep 30)"
}

@test "modes: replace sends TERM, the holder goes, the new instance runs silently" {
	start_shim_holder "$PLPROG" sleep 30
	pl_shim PIDLOCK_MODE=replace "$PLPROG" note "$T" writepid "$T/new" exit 0
	assert_status 0
	assert_no_stderr
	assert_notes "$T" 1
	wait_status "$H"
	[ "$status" -eq 143 ] || fail "old holder status $status, expected 143 (TERM)"
	[ ! -e "$PF" ]
}

@test "modes: replace escalates to SIGKILL after PIDLOCK_TIMEOUT when the holder ignores TERM" {
	start_shim_holder "$PLPROG" ignore TERM writepid "$T/ready" sleep 30
	wait_until "[ -e '$T/ready' ]"
	local t0 t1
	t0=$(now_ns)
	pl_shim PIDLOCK_MODE=replace PIDLOCK_TIMEOUT=0.5 "$PLPROG" note "$T" exit 0
	t1=$(now_ns)
	assert_status 0
	assert_notes "$T" 1
	wait_status "$H"
	[ "$status" -eq 137 ] || fail "old holder status $status, expected 137 (KILL)"
	echo "replaced after $(((t1 - t0) / 1000000)) ms"
	[ $((t1 - t0)) -ge 400000000 ] || fail "SIGKILL came before PIDLOCK_TIMEOUT"
	[ $((t1 - t0)) -lt 10000000000 ] || fail "replace took more than 10 s"
}

@test "modes: PIDLOCK_SIGNAL=INT is sent first; a C holder that catches it exits by itself" {
	start_shim_holder "$PLPROG" catch INT writepid "$T/ready" sleep 30 exit 0
	wait_until "[ -e '$T/ready' ]"
	pl_shim PIDLOCK_MODE=replace PIDLOCK_SIGNAL=INT PIDLOCK_TIMEOUT=10 "$PLPROG" note "$T" exit 0
	assert_status 0
	assert_notes "$T" 1
	wait_status "$H"
	assert_status 0
	[ "$(cat "$T/h.out")" = "caught 2" ] || fail "holder output: $(cat "$T/h.out")"
}

@test "modes: PIDLOCK_SIGNAL=INT reaches a bash holder that traps it" {
	# shellcheck disable=SC2016 # for the inner bash
	start_shim_holder bash -c 'trap "echo trapped INT; exit 0" INT; touch "$1"; while :; do sleep 0.1; done' \
		_ "$T/ready"
	wait_until "[ -e '$T/ready' ]"
	pl_shim PIDLOCK_MODE=replace PIDLOCK_SIGNAL=SIGINT PIDLOCK_TIMEOUT=10 "$PLPROG" note "$T" exit 0
	assert_status 0
	assert_notes "$T" 1
	wait_status "$H"
	assert_status 0
	grep -qx "trapped INT" "$T/h.out"
}

@test "modes: replace never signals the unrelated process named in a stale file" {
	sleep 60 >/dev/null 2>&1 3>&- &
	local s=$!
	track_pid "$s"
	printf '%s\n' "$s" >"$PF"
	pl_shim PIDLOCK_MODE=replace PIDLOCK_TIMEOUT=1 "$PLPROG" note "$T" exit 0
	assert_status 0
	assert_no_stderr
	assert_notes "$T" 1
	proc_alive "$s" || fail "replace mode killed the unrelated sleep $s named in the stale file"
}

@test "modes: replace stops the real holder, not the unrelated process written into its file" {
	sleep 60 >/dev/null 2>&1 3>&- &
	local s=$!
	track_pid "$s"
	start_shim_holder "$PLPROG" sleep 30
	# Same inode, other content: the file now lies about the holder.
	printf '%s\n' "$s" >"$PF"
	pl_shim PIDLOCK_MODE=replace PIDLOCK_TIMEOUT=2 "$PLPROG" note "$T" exit 0
	assert_status 0
	assert_notes "$T" 1
	wait_status "$H"
	[ "$status" -eq 143 ] || fail "real holder status $status"
	proc_alive "$s" || fail "replace mode killed the unrelated sleep $s"
}

@test "modes: replace spares a process that merely has the PID file open (a reader)" {
	start_shim_holder "$PLPROG" sleep 30
	# shellcheck disable=SC2217 # sleep only keeps the file open
	sleep 60 <"$PF" >/dev/null 2>&1 3>&- &
	local r=$!
	track_pid "$r"
	wait_until "[ -e /proc/$r/fd/0 ] && [ \"\$(readlink /proc/$r/fd/0)\" = '$PF' ]"
	pl_shim PIDLOCK_MODE=replace PIDLOCK_TIMEOUT=2 "$PLPROG" note "$T" exit 0
	assert_status 0
	assert_notes "$T" 1
	wait_status "$H"
	[ "$status" -eq 143 ] || fail "holder status $status"
	proc_alive "$r" || fail "replace mode signalled a process that only reads the PID file"
}

@test "modes: replace stops every process holding the lock (a holder and its fork copy)" {
	# shellcheck disable=SC2016 # python source
	start_shim_holder "$PYTHON" -c 'import os, sys, time
pid = os.fork()
if pid == 0:
    open(sys.argv[1], "w").write(str(os.getpid()))
time.sleep(30)' "$T/child"
	wait_until "[ -s '$T/child' ]"
	local child
	child="$(cat "$T/child")"
	track_pid "$child"
	proc_alive "$child"
	pl_shim PIDLOCK_MODE=replace PIDLOCK_TIMEOUT=2 "$PLPROG" note "$T" exit 0
	assert_status 0
	assert_notes "$T" 1
	wait_status "$H"
	[ "$status" -eq 143 ] || fail "parent status $status"
	wait_until "! proc_alive $child" || fail "the fork copy $child survived replace"
}

@test "modes: verbose lines for acquire and release (fail mode)" {
	pl_shim PIDLOCK_VERBOSE=1 "$PLPROG" exit 0
	assert_status 0
	all_pidlock_lines || fail "stderr: $err"
	[[ $err == *acquired* ]] || fail "no 'acquired' line: $err"
	[[ $err == *released* ]] || fail "no 'released' line: $err"
	[[ $err == *"$PF"* ]]
}

@test "modes: verbose wait mode says 'waiting for' the holder while it waits, then 'acquired'" {
	start_shim_holder "$PLPROG" waitfor "$T/go" exit 0
	PIDLOCK_MODE='wait' PIDLOCK_VERBOSE=1 start_shim "$PLPROG" exit 0 >/dev/null 2>"$T/w.err" &
	local w=$!
	track_pid "$w"
	wait_until "lock_waiter '$PF' $w"
	# Said while it waits (blocked in flock, the holder still running), and
	# naming the holder.
	wait_until "grep -q waiting '$T/w.err'" || fail "no 'waiting' line while blocked: $(cat "$T/w.err")"
	lock_waiter "$PF" "$w" || fail "$w said it waits but is not blocked"
	proc_alive "$H" || fail "the holder $H is gone"
	grep -qx "pidlock: $PF: waiting for PID $H ($PLPROG waitfor $T/go exit 0)" "$T/w.err" ||
		fail "the 'waiting' line does not name the holder $H: $(cat "$T/w.err")"
	! grep -q acquired "$T/w.err" || fail "'acquired' before the holder ended: $(cat "$T/w.err")"
	touch "$T/go"
	wait_status "$w"
	assert_status 0
	cp "$T/w.err" "$T/err"
	all_pidlock_lines || fail "stderr: $err"
	[[ $err == *waiting* ]] || fail "no 'waiting' line: $err"
	[[ $err == *acquired* ]] || fail "no 'acquired' line: $err"
}

@test "modes: verbose replace mode names the holder it signals, then says 'acquired'" {
	start_shim_holder "$PLPROG" sleep 30
	pl_shim PIDLOCK_MODE=replace PIDLOCK_VERBOSE=yes "$PLPROG" exit 0
	assert_status 0
	all_pidlock_lines || fail "stderr: $err"
	[[ $err == *replac* || $err == *sent* ]] || fail "no 'replac'/'sent' line: $err"
	[[ $err == *acquired* ]] || fail "no 'acquired' line: $err"
	[[ $err == *"$H"* ]] || fail "the replaced PID $H is not named: $err"
	# The signal line names the holder and comes first; the holder went.
	local first
	first=$(head -n 1 "$T/err")
	[ "$first" = "pidlock: $PF: sending SIGTERM to PID $H ($PLPROG sleep 30)" ] ||
		fail "first line: [$first]"
	wait_status "$H"
	[ "$status" -eq 143 ] || fail "the replaced holder exited $status, expected 143 (TERM)"
}

@test "modes: replace when nothing holds the lock just runs, silently" {
	pl_shim PIDLOCK_MODE=replace "$PLPROG" note "$T" exit 0
	assert_status 0
	assert_no_stderr
	assert_notes "$T" 1
}
