#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# Guarantee 5 (docs/DESIGN.md), process scope (the default): programs the instance starts with
# posix_spawn, fork+exec, vfork+exec, system(), popen() or Python subprocess
# neither hold, wait for, nor take the lock. After the parent exits the lock
# is free while the child still runs (tests/helpers/spawner.c, pyspawn.py).

load test_helper

# Starts the parent CMD... in the background; it starts a `sleep` child,
# reports "child PID" in $T/report, then waits for $T/go and exits 0.
# Checks the child while the parent holds the lock, lets the parent exit,
# then checks the lock is free while the child runs on.
check_child_scope() {
	start_shim "$@" >"$T/parent.out" 2>&1 &
	local parent=$! child st=0
	track_pid "$parent"
	wait_report "$T/report"
	child=$(report_value "$T/report" child)
	[ -n "$child" ] || fail "no child PID in report"
	track_pid "$child"
	[ "$child" != "$parent" ] || fail "child and parent are one process"
	proc_alive "$child" || fail "child $child is not running: $(cat "$T/parent.out")"

	# While the parent runs: the parent holds the lock and is named; the
	# child has no descriptor on it and was not handed PIDLOCK_FILE.
	assert_named_holder "$parent"
	! holds_file "$child" "$PF" || fail "child $child has a descriptor on the lock"
	! tr '\0' '\n' <"/proc/$child/environ" | grep -q '^PIDLOCK_FILE=' ||
		fail "child $child was handed PIDLOCK_FILE"

	touch "$T/go"
	wait "$parent" || st=$?
	assert_equal "$st" 0
	proc_alive "$child" || fail "child $child did not survive its parent"
	refute_lock_held "$PF"
	assert_file_not_exists "$PF"
	! holds_file "$child" "$PF" || fail "child $child has a descriptor on the lock"
	# A new instance takes the lock at once while the child runs on.
	pl_shim /bin/true
	assert_status 0
}

@test "posix_spawn child does not hold the lock" {
	check_child_scope "$HELPERS/spawner" posix_spawn -o "$T/report" -g "$T/go" -t 30
}

@test "posix_spawnp child does not hold the lock" {
	check_child_scope "$HELPERS/spawner" posix_spawnp -o "$T/report" -g "$T/go" -t 30
}

@test "fork + exec child does not hold the lock" {
	check_child_scope "$HELPERS/spawner" forkexec -o "$T/report" -g "$T/go" -t 30
}

@test "vfork + exec child does not hold the lock" {
	check_child_scope "$HELPERS/spawner" vforkexec -o "$T/report" -g "$T/go" -t 30
}

@test "system() child does not hold the lock" {
	check_child_scope "$HELPERS/spawner" system -o "$T/report" -g "$T/go" -t 30
}

@test "popen() child does not hold the lock" {
	check_child_scope "$HELPERS/spawner" popen -o "$T/report" -g "$T/go" -t 30
}

@test "Python subprocess (close_fds=True) child does not hold the lock" {
	check_child_scope "$PYTHON" "$BATS_TEST_DIRNAME/helpers/pyspawn.py" "$T/report" "$T/go" close_fds 30
}

@test "Python subprocess (close_fds=False) child does not hold the lock" {
	check_child_scope "$PYTHON" "$BATS_TEST_DIRNAME/helpers/pyspawn.py" "$T/report" "$T/go" keep_fds 30
}
