#!/usr/bin/env bats
# A launcher (the instance) that daemonises a program and exits: fork, setsid
# in the copy, fork again, the grandchild executes the program, as
# start-stop-daemon --background and daemonize do. Whichever comes first, the
# launcher's exit or the daemon's exec, the program must keep the lock and the
# file must name it (guarantee 6; tests/servers.bats has the real
# start-stop-daemon).

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

@test "launchers: a launcher that stays (1.5 s) while its detached child runs another program: the child does not take the lock" {
	# The child has waited the bounded moment and left: it is a program the
	# instance runs, as in process scope. The launcher keeps the lock.
	write_launcher
	start_shim "$PYTHON" "$T/launcher.py" "$PLPROG" "$T/child" 1.5 stay >"$T/launcher.out" 2>&1 &
	local l=$!
	track_pid "$l"
	wait_until "[ -s '$T/child' ] && [ -s '$T/launcher.out' ]" 10 || fail "nothing started"
	track_pid "$(cat "$T/child")"
	assert_pidfile_is "$PF" "$l"
	kill -TERM "$l"
	wait "$l" || true
	# With the launcher gone, the child never held the lock: it is free.
	wait_until "! lock_is_held '$PF'" 10 || fail "the detached child kept the lock"
}
