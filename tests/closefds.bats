#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# Guarantee 7: the program cannot drop the lock by accident. close() of the
# lock descriptor, close loops, closefrom(), close_range() (with and without
# CLOSE_RANGE_CLOEXEC), Python os.closerange, dup2()/dup3() onto it: the lock
# stays held and the calls return what the program expects
# (tests/helpers/closer.c). The raw syscall(SYS_close_range) is a documented
# limitation: it bypasses libc and drops the lock.

# CLOSER is set by start_closer within each test.
# shellcheck disable=SC2030,SC2031
load test_helper

# Runs closer MODE [ARGS...] under the shim until it reports; the report must
# be "ok MODE ...". Sets CLOSER (its PID) and LOCKFD.
start_closer() {
	local mode=$1
	shift
	start_shim "$HELPERS/closer" "$mode" -o "$T/report" -p "$PF" -t 30 "$@" >"$T/closer.out" 2>&1 &
	CLOSER=$!
	track_pid "$CLOSER"
	wait_report "$T/report"
	local report
	report=$(cat "$T/report")
	[[ $report =~ ^ok\ $mode\ lockfd=[0-9]+$ ]] || fail "report: [$report]"
	LOCKFD=${report##*lockfd=}
}

# The program still runs, holds the lock and is named in the PID file; after
# SIGTERM (exit(0)) the lock is free and the file removed.
check_held_then_stop() {
	proc_alive "$CLOSER" || fail "closer $CLOSER is not running"
	assert_named_holder "$CLOSER"
	assert_equal "$(cat "$PF")" "$CLOSER"
	kill -TERM "$CLOSER"
	local st=0
	wait "$CLOSER" || st=$?
	assert_equal "$st" 0
	refute_lock_held "$PF"
	assert_file_not_exists "$PF"
}

@test "close(lockfd) returns 0 and the lock stays held" {
	start_closer close
	check_held_then_stop
}

@test "close() loop over every descriptor up to RLIMIT_NOFILE: returns 0 on the lock fd, lock stays held" {
	start_closer loop
	check_held_then_stop
}

@test "closefrom(3): the lock stays held" {
	start_closer closefrom
	check_held_then_stop
}

@test "close_range(3, ~0U, 0) returns 0 and the lock stays held" {
	start_closer close_range
	check_held_then_stop
}

@test "close_range(lockfd, lockfd, 0) returns 0 and the lock stays held" {
	start_closer close_range_fd
	check_held_then_stop
}

@test "close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) returns 0 and the lock stays held" {
	start_closer close_range_cloexec
	check_held_then_stop
}

@test "Python os.closerange(3, 65536): the lock stays held" {
	cat >"$T/closerange.py" <<'EOF'
import os, signal, sys, time
report, pidfile = sys.argv[1], sys.argv[2]
want = os.stat(pidfile)
def lock_fds():
    fds = []
    for name in os.listdir("/proc/self/fd"):
        try:
            st = os.fstat(int(name))
        except OSError:
            continue
        if (st.st_dev, st.st_ino) == (want.st_dev, want.st_ino):
            fds.append(int(name))
    return fds
before = lock_fds()
if not before:
    text = "nolock\n"
else:
    os.closerange(3, 65536)
    text = "ok closerange lockfd=%d\n" % before[0]
signal.signal(signal.SIGTERM, lambda signo, frame: sys.exit(0))
with open(report + ".tmp", "w") as f:
    f.write(text)
os.rename(report + ".tmp", report)
deadline = time.monotonic() + 30
while time.monotonic() < deadline:
    time.sleep(0.2)
sys.exit(4)
EOF
	start_shim "$PYTHON" "$T/closerange.py" "$T/report" "$PF" >"$T/closer.out" 2>&1 &
	CLOSER=$!
	track_pid "$CLOSER"
	wait_report "$T/report"
	local report
	report=$(cat "$T/report")
	[[ $report =~ ^ok\ closerange\ lockfd=[0-9]+$ ]] || fail "report: [$report]"
	check_held_then_stop
}

@test "dup2(fd, lockfd) returns lockfd, the program's file gets the writes, the lock stays held" {
	start_closer dup2 -f "$T/target"
	assert_equal "$(cat "$T/target")" "written through fd $LOCKFD"
	# Nothing the program wrote reached the PID file.
	check_held_then_stop
}

@test "dup3(fd, lockfd, O_CLOEXEC) returns lockfd, the program's file gets the writes, the lock stays held" {
	start_closer dup3 -f "$T/target"
	assert_equal "$(cat "$T/target")" "written through fd $LOCKFD"
	check_held_then_stop
}

@test "dup2 onto lockfd, then close(lockfd) really closes the program's file; the lock stays held" {
	start_closer dup2close -f "$T/target"
	assert_equal "$(cat "$T/target")" "written through fd $LOCKFD"
	check_held_then_stop
}

@test "close_range made through libc's syscall() keeps the lock too" {
	# syscall() is interposed: close and close_range made through it are
	# treated as the libc calls are (only an inline system call instruction,
	# outside libc, is beyond reach: README, Limitations).
	start_closer raw_close_range
	proc_alive "$CLOSER" || fail "closer $CLOSER is not running"
	holds_file "$CLOSER" "$PF" || fail "syscall(SYS_close_range) closed the lock's descriptor"
	lock_is_held "$PF" || fail "the lock was dropped"
}
