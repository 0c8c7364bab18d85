#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# Guarantee 6, daemonisation: the classic double fork with setsid (C and
# Python) and daemon(3). After the launcher has exited, the daemon holds the
# lock and the PID file names it; `kill "$(cat FILE)"` stops it (SIGTERM ->
# exit()), after which the lock is free and the file gone.

load test_helper

# Runs launcher CMD... in the foreground under the shim (stdout/stderr to a
# file, fd 3 closed: the daemon must not keep bats' pipes open), expects
# status 0, then reads the daemon's PID from $T/report into DAEMON.
launch_daemon() {
	pl_shim "$@"
	assert_status 0
	wait_report "$T/report"
	DAEMON=$(report_value "$T/report" daemon)
	[ -n "$DAEMON" ] || fail "no daemon PID in report"
	track_pid "$DAEMON"
	proc_alive "$DAEMON" || fail "daemon $DAEMON is not running"
}

# The launcher has exited: the daemon is named (waiting up to $1 seconds for
# launchers that exit before their intermediate child) and holds the lock.
check_daemon_named() {
	if [ "${1:-0}" -gt 0 ]; then
		await_pidfile "$PF" "$DAEMON"
	fi
	assert_named_holder "$DAEMON"
	assert_equal "$(cat "$PF")" "$DAEMON"
}

# kill "$(cat FILE)" stops the daemon; then the lock is free, the file gone.
stop_by_pidfile() {
	kill "$(cat "$PF")"
	wait_until "! proc_alive $DAEMON" 10 || fail "daemon $DAEMON survived SIGTERM"
	refute_lock_held "$PF"
	assert_file_not_exists "$PF"
}

@test "C double fork + setsid (launcher waits for the intermediate child): the daemon is named and holds the lock" {
	launch_daemon "$HELPERS/forker" daemon -o "$T/report" -t 30
	# The launcher exited after the intermediate child: the file must already
	# have been handed to the daemon, the one holder left.
	check_daemon_named 0
	stop_by_pidfile
}

@test "C double fork + setsid, launcher exits at once (10 rounds): the daemon ends up named" {
	# `if (fork() > 0) exit(0);` then setsid, fork, exit: the launcher, the
	# intermediate child and the daemon's birth race; every round must end
	# with the daemon named.
	for round in 1 2 3 4 5 6 7 8 9 10; do
		echo "round $round"
		rm -f "$T/report"
		launch_daemon "$HELPERS/forker" daemon -n -o "$T/report" -t 30
		check_daemon_named 5
		stop_by_pidfile
	done
}

@test "C double fork + setsid, launcher exits at once, intermediate _exit() (10 rounds): the daemon ends up named" {
	for round in 1 2 3 4 5 6 7 8 9 10; do
		echo "round $round"
		rm -f "$T/report"
		launch_daemon "$HELPERS/forker" daemon -n -u -o "$T/report" -t 30
		check_daemon_named 5
		stop_by_pidfile
	done
}

@test "C double fork + setsid, daemon closes every descriptor from 3 up: still holds the lock" {
	launch_daemon "$HELPERS/forker" daemon -c -o "$T/report" -t 30
	check_daemon_named 0
	stop_by_pidfile
}

@test "daemon(3) (5 rounds): after the launcher has exited the daemon is named and holds the lock" {
	for round in 1 2 3 4 5; do
		echo "round $round"
		rm -f "$T/report"
		launch_daemon "$HELPERS/forker" daemon3 -o "$T/report" -t 30
		check_daemon_named 5
		stop_by_pidfile
	done
}

@test "daemon(3), then close every descriptor from 3 up: still holds the lock" {
	launch_daemon "$HELPERS/forker" daemon3 -c -o "$T/report" -t 30
	check_daemon_named 5
	stop_by_pidfile
}

@test "Python classic double fork (os.fork, os.setsid, sys.exit; 5 rounds): the daemon is named and holds the lock" {
	for round in 1 2 3 4 5; do
		echo "round $round"
		rm -f "$T/report"
		launch_daemon "$PYTHON" "$BATS_TEST_DIRNAME/helpers/daemonize.py" "$T/report" 30
		check_daemon_named 5
		stop_by_pidfile
	done
}
