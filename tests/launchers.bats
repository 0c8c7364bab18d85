#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# A launcher (the instance) that daemonises a program and exits: fork, setsid
# in the copy, fork again, the grandchild executes the program, as
# start-stop-daemon --background and daemonize do. Whichever comes first, the
# launcher's exit or the daemon's exec, the program must keep the lock and the
# file must name it, and no exec waits (guarantee 6; tests/servers.bats has
# the real start-stop-daemon). A helper detached with one fork and setsid is
# a program the instance runs.

load test_helper

# Writes $T/launcher.py: fork, setsid in the copy, fork again, the
# grandchild executes `plprog writepid REPORT sleep 30` at once; the launcher
# then waits DELAY seconds after its child has gone and exits, or with
# "stay" prints its PID and stays 30 s more.
write_launcher() {
	cat >"$T/launcher.py" <<-'PY'
		import os, sys, time
		prog, report, delay = sys.argv[1], sys.argv[2], float(sys.argv[3])
		pid = os.fork()
		if pid == 0:
		    os.setsid()
		    if os.fork() == 0:
		        os.execv(prog, [prog, "writepid", report, "sleep", "30"])
		    os._exit(0)
		os.waitpid(pid, 0)
		time.sleep(delay)
		if sys.argv[4:] == ["stay"]:
		    print(os.getpid(), flush=True)
		    time.sleep(30)
		sys.exit(0)
	PY
}

# launcher DELAY: the daemon execs at once; the launcher exits DELAY seconds
# after its child has gone (0: racing it).
launcher() {
	write_launcher
	pl_shim "$PYTHON" "$T/launcher.py" "$PLPROG" "$T/daemon" "$1"
	assert_status 0
	wait_until "[ -s '$T/daemon' ]" 10 || fail "the daemon did not start"
	DAEMON=$(cat "$T/daemon")
	track_pid "$DAEMON"
}

# The daemon holds the lock, the file names it, a second start is refused.
assert_daemon_holds() {
	wait_until "[ \"\$(cat '$PF' 2>/dev/null)\" = '$DAEMON' ]" 10 ||
		fail "the file names [$(cat "$PF" 2>/dev/null)], not the daemon $DAEMON"
	lock_is_held "$PF" || fail "nobody holds the lock"
	pl_shim "$PLPROG" note "$T" exit 0
	assert_status 75
	assert_notes "$T" 0
}

@test "launchers: the daemon execs while the launcher is still running (it exits 0.2 s later): the daemon keeps the lock" {
	launcher 0.2
	assert_daemon_holds
}

@test "launchers: the launcher exits at once: the daemon keeps the lock" {
	launcher 0
	assert_daemon_holds
}

@test "launchers: a launcher that stays while its double-forked daemon runs: the daemon keeps the lock (it daemonised)" {
	# fork, setsid, fork is how a program daemonises (start-stop-daemon,
	# daemonize, Python's classic recipe): the daemon keeps the lock at its
	# exec whatever its launcher does next, and nothing waits.
	write_launcher
	start_shim "$PYTHON" "$T/launcher.py" "$PLPROG" "$T/child" 0 stay >"$T/launcher.out" 2>&1 &
	local l=$!
	track_pid "$l"
	wait_until "[ -s '$T/child' ] && [ -s '$T/launcher.out' ]" 10 || fail "nothing started"
	DAEMON=$(cat "$T/child")
	track_pid "$DAEMON"
	assert_pidfile_is "$PF" "$l"
	kill -TERM "$l"
	wait "$l" || true
	# The launcher died of SIGTERM (no exit path): the daemon holds the lock.
	lock_is_held "$PF" || fail "the daemon does not hold the lock"
	pl_shim "$PLPROG" exit 0
	assert_status 75
}

@test "launchers: a launcher that stays while its single fork + setsid child runs another program: the child leaves at once" {
	# One fork and a session of its own is how a program detaches a helper
	# (Python's start_new_session=True): a program the instance runs, which
	# in process scope neither holds nor waits for the lock.
	cat >"$T/helper.py" <<-'PY'
		import os, sys, time
		pid = os.fork()
		if pid == 0:
		    os.setsid()
		    os.execv(sys.argv[1], [sys.argv[1], "writepid", sys.argv[2], "sleep", "30"])
		print(os.getpid(), flush=True)
		time.sleep(30)
	PY
	start_shim "$PYTHON" "$T/helper.py" "$PLPROG" "$T/child" >"$T/launcher.out" 2>&1 &
	local l=$!
	track_pid "$l"
	wait_until "[ -s '$T/child' ] && [ -s '$T/launcher.out' ]" 10 || fail "nothing started"
	track_pid "$(cat "$T/child")"
	assert_pidfile_is "$PF" "$l"
	kill -TERM "$l"
	wait "$l" || true
	# With the launcher gone, the helper never held the lock: it is free.
	wait_until "! lock_is_held '$PF'" 10 || fail "the detached helper kept the lock"
}
