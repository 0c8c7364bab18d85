#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# Transparent interposition (guarantees 13, 14, 17): every wrapper behaves as
# the C library's own for the program, and no way of making a child, no
# thread, no exit order and no syscall() breaks the lock. The differential
# tests run tests/helpers/wraps.c without the library, with it inert and with
# it holding the lock, and compare what the program observed; the rest attack
# one mechanism each. docs/DESIGN.md, "What each wrapper changes", names the
# test of every wrapper. tests/platforms.bats runs the differential on musl.

# shellcheck disable=SC2154 # $status and $err are set by test_helper.bash
# shellcheck disable=SC2030,SC2031 # $status is set by pl_run in each test, a subshell of its own

load test_helper

WRAPS="$HELPERS/wraps"

# differential ARGS...: runs wraps ARGS three ways; every output and status
# must be the one of the plain run.
differential() {
	local way
	"$WRAPS" "$@" >"$T/plain" 2>&1 </dev/null 3>&- && echo 0 >>"$T/plain" || echo "$?" >>"$T/plain"
	for way in inert active; do
		if [ "$way" = inert ]; then
			env -u PIDLOCK_FILE LD_PRELOAD="$SHIM" "$WRAPS" "$@" >"$T/$way" 2>&1 </dev/null 3>&- &&
				echo 0 >>"$T/$way" || echo "$?" >>"$T/$way"
		else
			env PIDLOCK_FILE="$PF" LD_PRELOAD="$SHIM" "$WRAPS" "$@" >"$T/$way" 2>&1 </dev/null 3>&- &&
				echo 0 >>"$T/$way" || echo "$?" >>"$T/$way"
		fi
		diff -u "$T/plain" "$T/$way" >"$T/diff" ||
			fail "wraps $* with the library $way differs from the plain run: $(cat "$T/diff")"
	done
}

@test "interpose: every wrapper, every scenario: the same results without the library, inert and holding the lock" {
	differential all
	# The scenarios ran to the end, and the lock was taken and released.
	grep -q '^timer: fired once$' "$T/active" || fail "scenarios incomplete: $(cat "$T/active")"
	[ ! -e "$PF" ] || fail "the PID file was left after a clean exit"
}

@test "interpose: exit order (atexit, then destructors) and _exit/_Exit statuses are the program's own" {
	differential exit-order
	grep -qx 'atexit handler' "$T/active" || fail "no atexit line: $(cat "$T/active")"
	differential _exit 5
	differential _Exit 6
}

# ---- guarantee 14: children that share our memory (CLONE_VM) ----

clonevm_case() {
	start_shim "$WRAPS" clonevm "$1" "$T/report" >"$T/holder.out" 2>&1 &
	local h=$!
	track_pid "$h"
	wait_until "[ -s '$T/report' ]" 10 || fail "the parent did not report: $(cat "$T/holder.out")"
	[ "$(cat "$T/report")" = "parent $h" ] || fail "report: $(cat "$T/report")"
	# The child's exit left the parent's file and lock alone.
	assert_pidfile_is "$PF" "$h"
	lock_is_held "$PF" || fail "the lock is not held"
	pl_shim "$PLPROG" exit 0
	assert_status 75
	assert_one_pidlock_line "already running as PID $h"
}

@test "interpose: a CLONE_VM|CLONE_VFORK child whose exec fails and that _exit(127)s leaves the parent's file" {
	clonevm_case vfork-execfail
}

@test "interpose: a CLONE_VM child that _exit()s leaves the parent's file" {
	clonevm_case vm-_exit
}

@test "interpose: a CLONE_VM child that exit()s leaves the parent's file" {
	clonevm_case vm-exit
}

@test "interpose: a CLONE_VM|CLONE_VFORK child that exit()s leaves the parent's file" {
	clonevm_case vfork-exit
}

@test "interpose: two threads clone() 400 copies each at once: every copy runs its own function" {
	pl_shim -t 120 "$WRAPS" clonerace 400 "$T/report"
	assert_status 0
	[ "$(cat "$T/report")" = "mismatches 0" ] || fail "$(cat "$T/report")"
}

# ---- guarantee 13: the file goes only after every library's exit work ----

slow_exit_case() {
	start_shim env SLOWFINI_WHERE="$1" SLOWFINI_MARK="$T/mark" SLOWFINI_MS=3000 \
		"$HELPERS/slowexit" "$T/report" >"$T/old.out" 2>&1 &
	local old=$!
	track_pid "$old"
	wait_until "[ -e '$T/mark' ]" 10 || fail "the library's exit work did not start: $(cat "$T/old.out")"
	# The old instance is inside its library's exit work: still running.
	pl_shim "$PLPROG" exit 0
	assert_status 75
	wait "$old" || fail "the old instance failed: $(cat "$T/old.out")"
	[ ! -e "$PF" ] || fail "the PID file was left"
	pl_shim "$PLPROG" exit 0
	assert_status 0
}

@test "interpose: while a linked library's destructor still runs, a new start is refused" {
	slow_exit_case dtor
}

@test "interpose: while an atexit handler a linked library registered still runs, a new start is refused" {
	slow_exit_case atexit
}

@test "interpose: a program that dlopen()s the library and dlclose()s it exits cleanly, file removed" {
	pl_run env LD_PRELOAD= "$HELPERS/dlopener" "$SHIM" "$PF" close
	assert_status 0
	grep -qx 'locked yes' "$T/out" || fail "the dlopen()ed library took no lock: $(cat "$T/out")"
	[ ! -e "$PF" ] || fail "the PID file was left"
}

# ---- guarantee 17: syscall() numbers are handled as the libc calls ----

sysdup_case() {
	start_shim "$WRAPS" sysdup "$1" "$PF" "$T/report" >"$T/holder.out" 2>&1 &
	local h=$!
	track_pid "$h"
	wait_until "[ -s '$T/report' ]" 10 || fail "no report: $(cat "$T/holder.out")"
	lock_is_held "$PF" || fail "syscall($1) onto the lock dropped it"
	pl_shim "$PLPROG" exit 0
	assert_status 75
}

@test "interpose: syscall(SYS_dup2) onto the lock's descriptor keeps the lock" {
	[[ $(uname -m) == x86_64 ]] || skip "SYS_dup2 exists on x86_64 only (aarch64 has dup3 alone)"
	sysdup_case dup2
}

@test "interpose: syscall(SYS_dup3) onto the lock's descriptor keeps the lock" {
	sysdup_case dup3
}

sysexec_case() {
	start_shim "$WRAPS" sysexec "$1" "$T/report" >"$T/holder.out" 2>&1 &
	local h=$!
	track_pid "$h"
	wait_until "[ -s '$T/report' ]" 10 || fail "no report: $(cat "$T/holder.out")"
	# The new image of the same process (wraps sleep) holds the lock.
	wait_until "tr '\\0' ' ' </proc/$h/cmdline 2>/dev/null | grep -q 'wraps sleep'" 10 || fail "no exec"
	assert_pidfile_is "$PF" "$h"
	lock_is_held "$PF" || fail "the exec through syscall() lost the lock"
	pl_shim "$PLPROG" exit 0
	assert_status 75
	kill -TERM "$h"
	wait "$h" || true
	[ ! -e "$PF" ] || fail "the new image did not tidy at exit: it did not know it held the lock"
}

@test "interpose: syscall(SYS_execve) of itself keeps the lock, and the new image knows it" {
	sysexec_case execve
}

@test "interpose: syscall(SYS_execveat) of itself keeps the lock, and the new image knows it" {
	sysexec_case execveat
}

@test "interpose: tree scope: syscall(SYS_fcntl, F_SETFD, FD_CLOEXEC) on the lock keeps it for executed children" {
	pl_shim PIDLOCK_SCOPE=tree "$WRAPS" sysfcntl "$PF" "$T/report"
	assert_status 0
	local child
	child=$(awk '{print $2}' "$T/report")
	track_pid "$child"
	lock_is_held "$PF" || fail "the executed child does not hold the lock"
	pl_shim "$PLPROG" exit 0
	assert_status 75
}

# ---- guarantee 17: a program that sandboxes itself ----

seccomp_case() {
	# The control: the program itself lives with its filter.
	pl_run timeout -k 5 30 "$WRAPS" seccomp "$@"
	assert_status 0
	pl_shim -t 30 "$WRAPS" seccomp "$@"
	[ "$status" -eq 0 ] || fail "status $status (159: killed by SIGSYS) after a seccomp filter ($*): $(cat "$T/err")"
	grep -qx sandboxed "$T/out" || fail "no output: $(cat "$T/out")"
	# The library made no system call at exit, so the file may stay, but its
	# lock is free: the next start takes it over silently.
	pl_shim "$PLPROG" exit 0
	assert_status 0
	assert_no_stderr
}

@test "interpose: seccomp filter through prctl(PR_SET_SECCOMP): exits as without the library" {
	seccomp_case prctl
}

@test "interpose: seccomp filter through syscall(SYS_prctl): exits as without the library" {
	seccomp_case syscall-prctl
}

@test "interpose: seccomp filter through syscall(SYS_seccomp): exits as without the library" {
	seccomp_case syscall-seccomp
}

@test "interpose: seccomp filter loaded by libseccomp: exits as without the library" {
	ldconfig -p | grep -q 'libseccomp\.so\.2 ' || fail "libseccomp2 is missing: scripts/test-deps.sh installs it"
	seccomp_case libseccomp
}

@test "interpose: seccomp filter after a fork (the exit path would scan /proc): exits as without the library" {
	seccomp_case syscall-seccomp fork
}

# ---- no wrapper waits ----

@test "interpose: fork, setsid, exec of a helper from a running instance never waits in the exec" {
	command -v strace >/dev/null || fail "strace is missing"
	# Every sleep the detached children make is the library's: /bin/true
	# and the helper sleep nowhere.
	# strace outside the library; the program it traces under it.
	pl_run timeout -k 5 60 strace -f -qq -e trace=nanosleep,clock_nanosleep -o "$T/trace" \
		env PIDLOCK_FILE="$PF" LD_PRELOAD="$SHIM" "$WRAPS" detach 20
	assert_status 0
	grep -q 'slowest spawn' "$T/out" || fail "no spawns: $(cat "$T/out" "$T/err")"
	! grep -q 'nanosleep' "$T/trace" || fail "a detached child slept before its exec: $(head -5 "$T/trace")"
}

@test "interpose: Python subprocess with start_new_session and preexec_fn never waits in the exec" {
	cat >"$T/spawn.py" <<-'PY'
		import subprocess
		for _ in range(10):
		    subprocess.run(["/bin/true"], start_new_session=True, preexec_fn=lambda: None, check=True)
	PY
	pl_run timeout -k 5 60 strace -f -qq -e trace=nanosleep,clock_nanosleep -o "$T/trace" \
		env PIDLOCK_FILE="$PF" LD_PRELOAD="$SHIM" "$PYTHON" "$T/spawn.py"
	assert_status 0
	! grep -q 'nanosleep' "$T/trace" || fail "a detached child slept before its exec: $(head -5 "$T/trace")"
}

# ---- a timer the program inherited ----

# alarm_start ALARM HOLD [PERL] [TIMEOUT]: a holder keeps the lock HOLD
# seconds; a starter that inherits an alarm due in ALARM seconds (after the
# perl statements PERL) waits for it, at most TIMEOUT seconds (PIDLOCK_TIMEOUT;
# "forever" for none, the untimed wait).
alarm_start() {
	local limit=()
	[ "${4:-20}" = forever ] || limit=(PIDLOCK_TIMEOUT="${4:-20}")
	start_shim "$PLPROG" sleep "$2" >"$T/holder.out" 2>&1 &
	track_pid $!
	await_pidfile "$PF" $!
	local t0=$SECONDS
	pl_run timeout -k 5 30 perl -e "${3:-}"'alarm '"$1"'; exec @ARGV or exit 99' \
		env PIDLOCK_FILE="$PF" PIDLOCK_MODE=wait "${limit[@]}" LD_PRELOAD="$SHIM" "${ALARM_PROG[@]}"
	ELAPSED=$((SECONDS - t0))
}

ALARM_PROG=("$WRAPS" sleep)

@test "interpose: an inherited alarm that falls due during a timed wait fires then (SIGALRM, 142)" {
	alarm_start 2 4
	assert_status 142
	[ "$ELAPSED" -le 6 ] || fail "SIGALRM came after ${ELAPSED} s"
}

@test "interpose: an inherited alarm that falls due during an untimed wait fires then (SIGALRM, 142)" {
	alarm_start 2 4 "" forever
	assert_status 142
	[ "$ELAPSED" -le 6 ] || fail "SIGALRM came after ${ELAPSED} s"
}

@test "interpose: an inherited alarm that falls due after the timed wait fires on its schedule" {
	alarm_start 4 1
	assert_status 142
	[ "$ELAPSED" -ge 3 ] && [ "$ELAPSED" -le 9 ] || fail "SIGALRM came after ${ELAPSED} s, expected about 4"
}

@test "interpose: an inherited alarm the program ignores does not end the timed wait" {
	ALARM_PROG=("$PLPROG" exit 0)
	# shellcheck disable=SC2016 # perl's variable, not the shell's
	alarm_start 1 3 '$SIG{ALRM} = "IGNORE"; '
	assert_status 0
}

# ---- a refused start leaves at once ----

@test "interpose: a refused start resolves no symbol to leave (no dlsym, no _exit wrapper)" {
	skip_if_instrumented asan "the ASan runtime, loaded as the library's dependency, resolves dlsym for its own interceptors"
	start_shim "$PLPROG" sleep 30 >"$T/holder.out" 2>&1 &
	track_pid $!
	await_pidfile "$PF" $!
	pl_shim LD_DEBUG=bindings "$PLPROG" exit 0
	assert_status 75
	! grep -E "binding file [^ ]*libpidlock\.so .*symbol \`(_exit|dlsym)'" "$T/err" ||
		fail "the refused start resolved a symbol to leave"
}
