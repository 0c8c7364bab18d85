#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# Platforms (docs/platforms.md): the C-program tests again, on the other Linux
# platforms of the table, built here by the Makefile into folders of their own:
#   musl   build/musl   make BUILD=build/musl CC=musl-gcc: helpers linked with
#          musl (loader /lib/ld-musl-x86_64.so.1) and the musl library
#   arm64  build/arm64  make BUILD=build/arm64 CC=aarch64-linux-gnu-gcc, run
#          under qemu-user with Debian's arm64 C library as the sysroot
# One test per behaviour and platform: exclusion, release on every exit, exec
# of itself, fork copies, daemons, close-all, dup2, inert, wait, the SIGALRM
# action after a timed wait, replace; then instances of two platforms on one
# file, and `pidlock run` choosing the library that the program's loader can
# preload. docs/platforms.md says what each platform does differently.

# shellcheck disable=SC2154 # $status, $err and $notes are set by test_helper.bash

load test_helper

bats_require_minimum_version 1.5.0

SYSROOT=/usr/aarch64-linux-gnu # libc6-dev-arm64-cross: qemu-aarch64 -L
# The platform builds, always the plain ones: build/musl, build/arm64 (also
# when the suite runs against an instrumented native build).
PLAT_BUILDS="$(cd "$BATS_TEST_DIRNAME/.." && pwd)/build"

# The platform builds, made once for the file. A missing toolchain is a
# failure of every test here, never a skip: scripts/test-deps.sh installs them.
setup_file() {
	local root t
	root="$(cd "$BATS_TEST_DIRNAME/.." && pwd)"
	for t in musl-gcc aarch64-linux-gnu-gcc qemu-aarch64 strace; do
		if ! command -v "$t" >/dev/null 2>&1; then
			echo "platforms: $t is missing: run scripts/test-deps.sh as root" >&2
			return 1
		fi
	done
	[ -e "$SYSROOT/lib/ld-linux-aarch64.so.1" ] || {
		echo "platforms: no $SYSROOT/lib/ld-linux-aarch64.so.1: install libc6-dev-arm64-cross" >&2
		return 1
	}
	for t in "BUILD=build/musl CC=musl-gcc" "BUILD=build/arm64 CC=aarch64-linux-gnu-gcc"; do
		# shellcheck disable=SC2086 # two words: the variables
		if ! make -C "$root" $t all helpers >"$BATS_FILE_TMPDIR/make.log" 2>&1; then
			echo "platforms: make $t failed:" >&2
			cat "$BATS_FILE_TMPDIR/make.log" >&2
			return 1
		fi
	done
	# An x86_64 library with nothing in it, for qemu itself in the arm64
	# exec test: the plain compiler's, whatever build the suite runs against.
	mkdir -p "$BATS_FILE_TMPDIR/x86"
	cc -shared -fPIC -o "$BATS_FILE_TMPDIR/x86/libpidlock.so" -x c /dev/null || {
		echo "platforms: cannot build an empty x86_64 library with cc" >&2
		return 1
	}
}

# PLAT_FILE= (empty) leaves PIDLOCK_FILE out of the next plat_cmd.
PLAT_FILE=1

# plat_cmd PLAT LIB [VAR=VALUE...] HELPER [ARG...]: sets CMD to the command
# that runs build/PLAT/helpers/HELPER on platform PLAT (musl, arm64) with
# LIB (shim or empty: build/PLAT/libpidlock.so or libempty.so) preloaded,
# PIDLOCK_FILE=$PF and the VAR=VALUE given. Under qemu the library goes to
# the guest only (-E): in qemu's own environment the host's loader would
# refuse it with an error line.
plat_cmd() {
	local plat=$1 dir="$PLAT_BUILDS/$1" so prog
	case $2 in
	shim) so="$dir/libpidlock.so" ;;
	empty) so="$dir/libempty.so" ;;
	*) fail "plat_cmd: LIB is shim or empty, not $2" ;;
	esac
	shift 2
	CMD=(env)
	[ -z "$PLAT_FILE" ] || CMD+=("PIDLOCK_FILE=$PF")
	while [[ $1 == *=* ]]; do
		CMD+=("$1")
		shift
	done
	prog="$dir/helpers/$1"
	shift
	if [ "$plat" = arm64 ]; then
		CMD+=(qemu-aarch64 -L "$SYSROOT" -E "LD_PRELOAD=$so" "$prog" "$@")
	else
		CMD+=("LD_PRELOAD=$so" "$prog" "$@")
	fi
}

# plat_bg OUT: runs CMD in the background (stdout and stderr to OUT, bats'
# fd 3 closed); $! is the program itself (env and qemu exec, never fork).
# Sets H and tracks it.
plat_bg() {
	"${CMD[@]}" >"$1" 2>&1 3>&- &
	H=$!
	track_pid "$H"
}

# plat_holder PLAT [VAR=VALUE...] ARG...: plprog ARG... on PLAT under the shim
# in the background, holding the lock once $T/ready names it. Sets H.
plat_holder() {
	local plat=$1
	shift
	rm -f "$T/ready"
	plat_cmd "$plat" shim plprog writepid "$T/ready" "$@"
	plat_bg "$T/holder.out"
	wait_until "[ -s '$T/ready' ]" 20 || fail "the $plat holder did not start: $(cat "$T/holder.out")"
	assert_pidfile_is "$PF" "$H"
	lock_is_held "$PF" || fail "the $plat holder does not hold the lock"
}

# The lock is free and the PID file gone.
assert_released() {
	refute_lock_held "$PF"
	[ ! -e "$PF" ] || fail "$PF is left: $(cat "$PF")"
}

check_exclusion() {
	mkdir "$T/m" "$T/second"
	plat_holder "$1" marker "$T/m" sleep 30
	plat_cmd "$1" shim plprog marker "$T/m" note "$T/second" exit 0
	pl_run "${CMD[@]}"
	assert_status 75
	assert_one_pidlock_line "already running as PID $H"
	assert_notes "$T/second" 0
	kill -TERM "$H"
	wait_status "$H"
	assert_status 143
	refute_lock_held "$PF"
}

@test "musl: a second instance is refused (75) while the first runs, naming its PID" {
	check_exclusion musl
}

@test "arm64: a second instance is refused (75) while the first runs, naming its PID" {
	check_exclusion arm64
}

# Every way out releases the lock; the clean ones also remove the file. Each
# round's instance could run at all only because the previous one let go.
check_release() {
	local round want
	for round in "exit 0:0" "_exit 3:3" "return 4:4" "kill TERM:143" "segv:139"; do
		want=${round##*:}
		rm -f "$T/self"
		# shellcheck disable=SC2086 # the action and its argument
		plat_cmd "$1" shim plprog writepid "$T/self" ${round%:*}
		pl_run "${CMD[@]}"
		assert_status "$want"
		[ -s "$T/self" ] || fail "$1: main did not run before '${round%:*}': $(cat "$T/err")"
		refute_lock_held "$PF"
		case $want in
		143 | 139) [ -e "$PF" ] || fail "a signal death cannot tidy, yet $PF is gone" ;;
		*) [ ! -e "$PF" ] || fail "'${round%:*}' left $PF" ;;
		esac
	done
}

@test "musl: exit, _exit, return from main, SIGTERM and SIGSEGV all release the lock" {
	check_release musl
}

@test "arm64: exit, _exit, return from main, SIGTERM and SIGSEGV all release the lock" {
	check_release arm64
}

# check_exec PLAT CMD...: CMD writes $T/before, waits for $T/go1, executes
# itself; the new image writes $T/after, prints its environment and waits for
# $T/go2. Same PID on both sides, the lock held throughout.
check_exec() {
	local plat=$1 h
	shift
	"$@" >"$T/h.out" 2>"$T/h.err" 3>&- &
	h=$!
	track_pid "$h"
	wait_until "[ -s '$T/before' ]" 20 || fail "the first image did not start: $(cat "$T/h.err")"
	assert_pidfile_is "$T/before" "$h"
	assert_pidfile_is "$PF" "$h"
	touch "$T/go1"
	wait_until "[ -s '$T/after' ]" 20 || fail "the new image did not run: $(cat "$T/h.err")"
	assert_pidfile_is "$T/after" "$h"
	assert_pidfile_is "$PF" "$h"
	lock_is_held "$PF" || fail "the lock was lost across exec"
	plat_cmd "$plat" shim plprog exit 0
	pl_run "${CMD[@]}"
	assert_status 75
	assert_one_pidlock_line "already running as PID $h"
	grep -qx "PIDLOCK_HELD=$PF" "$T/h.out" || fail "new image environment: $(cat "$T/h.out")"
	! grep -q '^PIDLOCK_EXEC=' "$T/h.out" || fail "the token leaked to main: $(cat "$T/h.out")"
	touch "$T/go2"
	wait_status "$h"
	assert_status 0
	[ ! -s "$T/h.err" ] || fail "stderr of the instance: $(cat "$T/h.err")"
	assert_released
}

@test "musl: a program that executes itself keeps the lock, same PID before and after" {
	plat_cmd musl shim plprog writepid "$T/before" waitfor "$T/go1" \
		execself writepid "$T/after" env waitfor "$T/go2" exit 0
	check_exec musl "${CMD[@]}"
}

# Without binfmt_misc (not in a container), the kernel cannot execute an
# arm64 file, so the guest executes qemu with itself, as binfmt_misc would.
# The library reaches both loaders through one environment: LD_PRELOAD names
# it without a folder, and LD_LIBRARY_PATH lists the arm64 build first, where
# the host's loader skips the file of another machine in silence and goes on
# to an x86_64 stand-in (the empty library) for qemu itself.
@test "arm64: a program that executes itself (through qemu) keeps the lock, same PID before and after" {
	local prog="$PLAT_BUILDS/arm64/helpers/plprog"
	check_exec arm64 env "PIDLOCK_FILE=$PF" LD_PRELOAD=libpidlock.so \
		"LD_LIBRARY_PATH=$PLAT_BUILDS/arm64:$BATS_FILE_TMPDIR/x86" qemu-aarch64 -L "$SYSROOT" \
		"$prog" writepid "$T/before" waitfor "$T/go1" \
		exec "$(command -v qemu-aarch64)" -L "$SYSROOT" \
		"$prog" writepid "$T/after" env waitfor "$T/go2" exit 0
}

# A prefork server: the master and its fork copies share the lock; the file
# names the master; when all have gone the lock is free and the file gone.
check_prefork() {
	local w
	plat_cmd "$1" shim forker prefork -o "$T/report" -w 2 -t 60
	plat_bg "$T/forker.out"
	wait_report "$T/report" 30
	read_prefork_report "$T/report"
	[ "$MASTER" = "$H" ] || fail "master $MASTER is not the program $H"
	[ "${#WORKERS[@]}" -eq 2 ] || fail "${#WORKERS[@]} workers, expected 2"
	assert_pidfile_is "$PF" "$MASTER"
	for w in "$MASTER" "${WORKERS[@]}"; do
		holds_file "$w" "$PF" || fail "process $w does not hold the lock"
	done
	kill -TERM "${WORKERS[@]}"
	wait_until "! proc_alive ${WORKERS[0]} && ! proc_alive ${WORKERS[1]}" 20 ||
		fail "the workers survived SIGTERM"
	lock_is_held "$PF" || fail "the workers' exit released the master's lock"
	assert_pidfile_is "$PF" "$MASTER"
	kill -TERM "$MASTER"
	wait_status "$MASTER"
	assert_status 0
	assert_released
}

@test "musl: fork copies share the lock, the file names the master, the last one out releases it" {
	check_prefork musl
}

@test "arm64: fork copies share the lock, the file names the master, the last one out releases it" {
	check_prefork arm64
}

# The classic double fork with setsid: after the launcher has gone, the
# daemon is named and holds the lock; SIGTERM to it releases everything.
check_daemon() {
	local st=0 daemon
	plat_cmd "$1" shim forker daemon -o "$T/report" -t 60
	"${CMD[@]}" >"$T/launcher.out" 2>&1 3>&- || st=$?
	[ "$st" -eq 0 ] || fail "launcher exited $st: $(cat "$T/launcher.out")"
	wait_report "$T/report" 30
	daemon=$(report_value "$T/report" daemon)
	[ -n "$daemon" ] || fail "no daemon PID in the report"
	track_pid "$daemon"
	await_pidfile "$PF" "$daemon"
	holds_file "$daemon" "$PF" || fail "the daemon does not hold the lock"
	lock_is_held "$PF" || fail "the lock is not held"
	kill -TERM "$daemon"
	wait_until "! proc_alive $daemon" 20 || fail "the daemon survived SIGTERM"
	assert_released
}

@test "musl: a double-forked daemon is named in the file and holds the lock" {
	check_daemon musl
}

@test "arm64: a double-forked daemon is named in the file and holds the lock" {
	check_daemon arm64
}

# closer MODE: the program closes or reuses descriptors it does not know
# about; its report must be "ok MODE ...", and the lock stays held.
check_closer() {
	local plat=$1 mode=$2
	shift 2
	plat_cmd "$plat" shim closer "$mode" -o "$T/report" -p "$PF" -t 60 "$@"
	plat_bg "$T/closer.out"
	wait_report "$T/report" 30
	local report
	read -r report <"$T/report"
	[[ $report =~ ^ok\ $mode\ lockfd=([0-9]+)$ ]] || fail "closer reports: $report"
	LOCKFD=${BASH_REMATCH[1]}
	lock_is_held "$PF" || fail "the lock was dropped"
	holds_file "$H" "$PF" || fail "the program no longer holds the lock"
	assert_pidfile_is "$PF" "$H"
	kill -TERM "$H"
	wait_status "$H"
	assert_status 0
	assert_released
}

@test "musl: a close() loop over every descriptor returns 0 on the lock's and keeps the lock" {
	check_closer musl loop
}

@test "arm64: a close() loop over every descriptor returns 0 on the lock's and keeps the lock" {
	check_closer arm64 loop
}

check_dup2() {
	check_closer "$1" dup2 -f "$T/target"
	grep -qx "written through fd $LOCKFD" "$T/target" ||
		fail "the program's writes went elsewhere: $(cat "$T/target" 2>/dev/null)"
}

@test "musl: dup2 onto the lock descriptor gives the program its file and keeps the lock" {
	check_dup2 musl
}

@test "arm64: dup2 onto the lock descriptor gives the program its file and keeps the lock" {
	check_dup2 arm64
}

# state_of OUT PLAT LIB [VAR=VALUE...]: what plprog `state` prints (signals,
# mask, timers, descriptors...) run on PLAT with LIB, into OUT.
# stdout and stderr go to the same names in every run: they are listed too.
state_of() {
	local out=$1
	shift
	plat_cmd "$@" plprog state
	"${CMD[@]}" >"$T/state" 2>"$T/state.err" 3>&- </dev/null || fail "plprog state failed: $(cat "$T/state.err")"
	mv "$T/state" "$out"
}

check_inert() {
	PLAT_FILE=
	state_of "$T/empty" "$1" empty
	state_of "$T/inert" "$1" shim PIDLOCK_MODE=wait PIDLOCK_TIMEOUT=5
	PLAT_FILE=1
	diff -u "$T/empty" "$T/inert" || fail "the inert shim changed the program's state"
	[ ! -e "$PF" ] || fail "the inert shim made $PF"
}

@test "musl: inert without PIDLOCK_FILE: the program's state is what it is with an empty library" {
	check_inert musl
}

@test "arm64: inert without PIDLOCK_FILE: the program's state is what it is with an empty library" {
	check_inert arm64
}

# The system calls of a musl-linked program from its own exec on, one name
# (and path, with the library's own replaced by LIB) per line.
musl_syscalls() {
	strace -f -qq -o "$T/trace" -E "LD_PRELOAD=$PLAT_BUILDS/musl/$1" "$PLAT_BUILDS/musl/helpers/plprog" exit 0
	sed -E -e 's/^[0-9]+ +//' -e '/^(\+\+\+|---)/d' "$T/trace" |
		awk -v lib="$PLAT_BUILDS/musl/$1" '{
			name = $0; sub(/\(.*/, "", name)
			path = ""
			if (match($0, /"[^"]*"/)) path = substr($0, RSTART + 1, RLENGTH - 2)
			if (path == lib) path = "LIB"
			if (name ~ /^(open|openat|access|faccessat|newfstatat|stat|lstat|readlink|execve)$/)
				print name, path
			else
				print name
		}'
}

# AT_SECURE and AT_EUID come from getauxval on musl (no system call), so the
# inert path costs no system call there either (guarantee 10).
@test "musl: inert without PIDLOCK_FILE: exactly the system calls made with an empty library (strace)" {
	musl_syscalls libempty.so >"$T/empty.calls"
	musl_syscalls libpidlock.so >"$T/shim.calls"
	grep -q '^open LIB$' "$T/shim.calls" || fail "the library was not loaded: $(cat "$T/shim.calls")"
	diff -u "$T/empty.calls" "$T/shim.calls" || fail "the inert shim added system calls"
}

# musl's loader ignores LD_PRELOAD in a secure-execution process, so the
# shim reaches a setuid musl program only as a DT_NEEDED library. There its
# constructor (no arguments on musl) must still see AT_SECURE, through
# getauxval, and stay inert: no lock, no file, no message. The PID file's
# folder is writable by the user, so a shim that missed AT_SECURE would make it.
@test "musl: in a setuid program (AT_SECURE via getauxval) the linked-in shim takes no lock and makes no file" {
	[ "$(id -u)" -eq 0 ] || skip "needs root to make a setuid program"
	mkdir "$T/su" "$T/pf"
	chmod 1777 "$T/pf"
	cp "$PLAT_BUILDS/musl/libpidlock.so" "$T/su/"
	musl-gcc -std=c11 -D_GNU_SOURCE -O2 -o "$T/su/plprog" "$BATS_TEST_DIRNAME/helpers/plprog.c" \
		-L"$T/su" -lpidlock -Wl,-rpath,"$T/su" || fail "cannot link plprog with the musl library"
	chmod 4755 "$T/su/plprog"
	pl_run setpriv --reuid=65534 --regid=65534 --clear-groups \
		env PIDLOCK_FILE="$T/pf/x.pid" PIDLOCK_VERBOSE=1 "$T/su/plprog" secure mapped "$T/su/libpidlock.so" print ran
	assert_status 0
	assert_no_stderr
	[ "$(cat "$T/out")" = $'secure 1\nmapped yes\nran' ] || fail "setuid run printed: $(cat "$T/out")"
	[ ! -e "$T/pf/x.pid" ] || fail "the shim took the lock in a secure process"
	# The control: run by its owner the program is not secure, and the same
	# shim takes the lock.
	pl_run env PIDLOCK_FILE="$T/pf/x.pid" PIDLOCK_VERBOSE=1 "$T/su/plprog" secure exit 0
	assert_status 0
	grep -qx "secure 0" "$T/out" || fail "control printed: $(cat "$T/out")"
	assert_err_matches "x.pid: acquired by PID"
}

check_wait() {
	mkdir "$T/w"
	plat_holder "$1" waitfor "$T/go" exit 0
	local holder=$H
	plat_cmd "$1" shim PIDLOCK_MODE=wait PIDLOCK_TIMEOUT=60 plprog note "$T/w" writepid "$T/waiter" exit 0
	plat_bg "$T/waiter.out"
	wait_until "lock_waiter '$PF' $H" 20 || fail "the second instance is not waiting: $(cat "$T/waiter.out")"
	assert_notes "$T/w" 0
	touch "$T/go"
	wait_status "$holder"
	assert_status 0
	wait_status "$H"
	assert_status 0
	assert_notes "$T/w" 1
	[ ! -s "$T/waiter.out" ] || fail "the waiter printed: $(cat "$T/waiter.out")"
	assert_released
}

@test "musl: wait mode blocks until the holder exits, then runs" {
	check_wait musl
}

@test "arm64: wait mode blocks until the holder exits, then runs" {
	check_wait arm64
}

# A timed wait borrows SIGALRM and the real-time timer (lock.c flock_timed)
# through the raw rt_sigaction layout of sys.h, which differs per machine.
# After it, the program sees its SIGALRM action (inherited ignored, or the
# default), flags, mask and timer exactly as without the shim.
check_sigalrm() {
	local how
	for how in ignored default; do
		rm -f "$T/go" "$T/ready"
		# The control: the same program with the empty library, started the
		# same way (a background job: bash ignores SIGINT and SIGQUIT there).
		plat_cmd "$1" empty plprog state
		state_bg "$how"
		wait_status "$H"
		assert_status 0
		mv "$T/state" "$T/control"
		grep -qx "signal 14 $how flags 0x0" "$T/control" ||
			fail "control: SIGALRM is not $how: $(grep '^signal 14 ' "$T/control")"
		plat_holder "$1" waitfor "$T/go" exit 0
		local holder=$H
		plat_cmd "$1" shim PIDLOCK_MODE=wait PIDLOCK_TIMEOUT=60 plprog state
		state_bg "$how"
		wait_until "lock_waiter '$PF' $H" 20 || fail "the timed wait did not block: $(cat "$T/state.err")"
		touch "$T/go"
		wait_status "$holder"
		wait_status "$H"
		assert_status 0
		diff -u "$T/control" <(grep -v " $PF\$" "$T/state") ||
			fail "$how SIGALRM: the state after a timed wait differs"
		rm -f "$PF"
	done
}

# state_bg ignored|default: CMD in the background, SIGALRM ignored or left
# at its default, stdout to $T/state. Sets H.
state_bg() {
	if [ "$1" = ignored ]; then
		(trap '' ALRM && exec "${CMD[@]}" >"$T/state" 2>"$T/state.err" 3>&- </dev/null) &
	else
		(exec "${CMD[@]}" >"$T/state" 2>"$T/state.err" 3>&- </dev/null) &
	fi
	H=$!
	track_pid "$H"
}

@test "musl: after a timed wait the SIGALRM action, mask and timer are the program's (ignored and default)" {
	check_sigalrm musl
}

@test "arm64: after a timed wait the SIGALRM action, mask and timer are the program's (ignored and default)" {
	check_sigalrm arm64
}

check_replace() {
	plat_holder "$1" sleep 30
	local old=$H
	plat_cmd "$1" shim PIDLOCK_MODE=replace PIDLOCK_TIMEOUT=10 plprog note "$T" exit 0
	pl_run "${CMD[@]}"
	assert_status 0
	assert_no_stderr
	assert_notes "$T" 1
	wait_status "$old"
	assert_status 143
	assert_released
}

@test "musl: replace mode stops the holder (SIGTERM) and runs" {
	check_replace musl
}

@test "arm64: replace mode stops the holder (SIGTERM) and runs" {
	check_replace arm64
}

# plat_refused PLAT: an instance of PLAT is refused (75) naming PID $1.
plat_refused() {
	mkdir -p "$T/n"
	plat_cmd "$2" shim plprog note "$T/n" exit 0
	pl_run "${CMD[@]}"
	assert_status 75
	assert_one_pidlock_line "already running as PID $1"
	assert_notes "$T/n" 0
}

# glibc_holder: the native build's plprog holds the lock. Sets H.
glibc_holder() {
	rm -f "$T/ready"
	start_shim "$PLPROG" writepid "$T/ready" sleep 30 >"$T/holder.out" 2>&1 &
	H=$!
	track_pid "$H"
	wait_until "[ -s '$T/ready' ]" 20 || fail "the x86_64 holder did not start"
	assert_pidfile_is "$PF" "$H"
}

# glibc_refused PID: the native build's instance is refused naming PID.
glibc_refused() {
	pl_shim "$PLPROG" exit 0
	assert_status 75
	assert_one_pidlock_line "already running as PID $1"
}

stop_holder() {
	kill -TERM "$1"
	wait_status "$1"
	assert_status 143
	refute_lock_held "$PF"
}

# Transparent interposition (guarantee 17; tests/interpose.bats on glibc):
# every wrapper and scenario of tests/helpers/wraps.c gives the program the
# same results with an empty library preloaded instead of ours, with ours
# inert and holding the lock; and
# the file goes only after a linked library's exit work (guarantee 13).
check_differential() {
	local way
	for way in plain inert active; do
		case $way in
		plain) plat_cmd "$1" empty wraps all ;;
		inert) PLAT_FILE='' plat_cmd "$1" shim wraps all ;;
		active) plat_cmd "$1" shim wraps all ;;
		esac
		"${CMD[@]}" >"$T/$way" 2>&1 </dev/null 3>&- && echo 0 >>"$T/$way" || echo "$?" >>"$T/$way"
	done
	grep -q '^timer: fired once$' "$T/plain" || fail "$1: the plain run did not finish: $(cat "$T/plain")"
	diff -u "$T/plain" "$T/inert" || fail "$1: inert differs"
	diff -u "$T/plain" "$T/active" || fail "$1: active differs"
	[ ! -e "$PF" ] || fail "$1: the PID file was left"
}

@test "musl: every wrapper, every scenario: the same results without the library, inert and holding the lock" {
	check_differential musl
}

check_slow_exit() {
	plat_cmd "$1" shim SLOWFINI_MARK="$T/mark" SLOWFINI_MS=3000 SLOWFINI_WHERE="$2" slowexit "$T/report"
	plat_bg "$T/old.out"
	local old=$H
	wait_until "[ -e '$T/mark' ]" 20 || fail "$1: the library's exit work did not start: $(cat "$T/old.out")"
	plat_cmd "$1" shim plprog exit 0
	pl_run "${CMD[@]}"
	assert_status 75
	wait "$old" || fail "$1: the old instance failed: $(cat "$T/old.out")"
	assert_released
}

@test "musl: while a linked library's destructor still runs, a new start is refused" {
	check_slow_exit musl dtor
}

@test "musl: while an atexit handler a linked library registered still runs, a new start is refused" {
	check_slow_exit musl atexit
}

@test "arm64: while a linked library's destructor still runs, a new start is refused" {
	check_slow_exit arm64 dtor
}

@test "x86_64 and arm64 instances contend for one file: each refuses the other" {
	glibc_holder
	plat_refused "$H" arm64
	stop_holder "$H"
	rm -f "$PF"
	plat_holder arm64 sleep 30
	glibc_refused "$H"
	stop_holder "$H"
}

@test "glibc and musl instances contend for one file: each refuses the other" {
	glibc_holder
	plat_refused "$H" musl
	stop_holder "$H"
	rm -f "$PF"
	plat_holder musl sleep 30
	glibc_refused "$H"
	stop_holder "$H"
}

# The command with its library and the musl one in musl/ beside it, as in
# build/ (a copy: the suite may run against another build, build/cov...).
@test "pidlock run: a musl program gets the musl library (musl/ beside it), a glibc one the glibc library" {
	local musl glibc
	mkdir -p "$T/bin/musl"
	pl_copy_command "$T/bin/pidlock"
	cp "$SHIM" "$T/bin/"
	cp "$PLAT_BUILDS/musl/libpidlock.so" "$T/bin/musl/"
	musl="$T/bin/musl/libpidlock.so"
	glibc="$T/bin/libpidlock.so"
	pl_run "$T/bin/pidlock" run -f "$PF" -- "$PLAT_BUILDS/musl/helpers/plprog" mapped "$musl" env
	assert_status 0
	assert_no_stderr
	grep -qx "mapped yes" "$T/out" || fail "the musl library is not loaded: $(cat "$T/out")"
	grep -qx "PIDLOCK_HELD=$PF" "$T/out" || fail "not under the lock: $(cat "$T/out")"
	pl_run "$T/bin/pidlock" run -f "$PF" -- "$PLPROG" mapped "$glibc" env
	assert_status 0
	assert_no_stderr
	grep -qx "mapped yes" "$T/out" || fail "the glibc library is not loaded: $(cat "$T/out")"
	assert_released
}

# A copy of the command with the native library only: for a program of
# another machine or C library it refuses, in one line, before locking.
@test "pidlock run: an arm64 or musl program with no library for it is refused (126), nothing runs, no lock" {
	mkdir "$T/bin" "$T/n"
	pl_copy_command "$T/bin/pidlock"
	cp "$SHIM" "$T/bin/"
	pl_run "$T/bin/pidlock" run -f "$PF" -- "$PLAT_BUILDS/arm64/helpers/plprog" note "$T/n"
	assert_status 126
	assert_one_pidlock_line "ld-linux-aarch64.so.1" "arm64/libpidlock.so" "not running it unguarded"
	pl_run "$T/bin/pidlock" run -f "$PF" -- "$PLAT_BUILDS/musl/helpers/plprog" note "$T/n"
	assert_status 126
	assert_one_pidlock_line "ld-musl-x86_64.so.1" "musl/libpidlock.so" "not running it unguarded"
	assert_notes "$T/n" 0
	[ ! -e "$PF" ] || fail "a refused program left $PF"
	# With the arm64 library beside it the check passes: the program runs
	# where binfmt_misc hands arm64 files to qemu, and elsewhere the kernel
	# refuses it (a different line, from execv).
	mkdir "$T/bin/arm64"
	cp "$PLAT_BUILDS/arm64/libpidlock.so" "$T/bin/arm64/"
	pl_run "$T/bin/pidlock" run -f "$PF" -- "$PLAT_BUILDS/arm64/helpers/plprog" note "$T/n"
	if [ -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ]; then
		assert_status 0
		assert_notes "$T/n" 1
		rm -f "$T/n"/ran.*
	else
		assert_status 126
		assert_one_pidlock_line "Exec format error"
	fi
	# An x86_64 library put where the arm64 one belongs does not pass.
	cp "$SHIM" "$T/bin/arm64/"
	pl_run "$T/bin/pidlock" run -f "$PF" -- "$PLAT_BUILDS/arm64/helpers/plprog" note "$T/n"
	assert_status 126
	assert_one_pidlock_line "arm64/libpidlock.so" "not running it unguarded"
	assert_notes "$T/n" 0
}
