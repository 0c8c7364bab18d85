#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# Guarantee 10: with PIDLOCK_FILE unset, in a child that passes through, or
# in a setuid (secure-execution) process, the shim makes no system call and
# changes nothing; when active it changes nothing but the lock descriptor.

# shellcheck disable=SC2154 # $status, $err and $notes are set by test_helper.bash

load test_helper

bats_require_minimum_version 1.5.0

EMPTY="$BUILD/libempty.so"

setup() {
	common_setup
	[ -f "$EMPTY" ] || fail "build/libempty.so is missing: run make helpers"
}

# syscall_list LIB [VAR=VALUE...]: the system calls of /bin/true with LIB
# preloaded, one per line: the name, and for calls that take a path, the
# path with LIB's own name replaced by "LIB".
syscall_list() {
	local lib="$1" e=()
	shift
	local v
	for v in "$@"; do
		e+=(-E "$v")
	done
	strace -f -qq -o "$T/trace" -E "LD_PRELOAD=$lib" "${e[@]}" /bin/true
	sed -E -e 's/^[0-9]+ +//' -e '/^(\+\+\+|---)/d' "$T/trace" |
		awk -v lib="$lib" '{
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

@test "inert: PIDLOCK_FILE unset: /bin/true makes exactly the system calls it makes with an empty library" {
	skip_if_instrumented any "sanitizer runtimes and gcov make system calls of their own"
	syscall_list "$EMPTY" >"$T/empty.list"
	syscall_list "$SHIM" >"$T/shim.list"
	grep -qx "openat LIB" "$T/shim.list" || fail "the shim was not loaded: $(cat "$T/shim.list")"
	diff -u "$T/empty.list" "$T/shim.list" || fail "the inert shim makes other system calls"
}

@test "inert: other PIDLOCK_* variables without PIDLOCK_FILE (even bad ones) change nothing" {
	skip_if_instrumented any "sanitizer runtimes and gcov make system calls of their own"
	syscall_list "$EMPTY" >"$T/empty.list"
	syscall_list "$SHIM" PIDLOCK_MODE=bogus PIDLOCK_TIMEOUT=x PIDLOCK_VERBOSE=1 >"$T/shim.list"
	diff -u "$T/empty.list" "$T/shim.list" || fail "system calls differ"
	pl_run env "LD_PRELOAD=$SHIM" PIDLOCK_MODE=bogus PIDLOCK_VERBOSE=1 "$PLPROG" note "$T" exit 0
	assert_status 0
	assert_no_stderr
	assert_notes "$T" 1
}

@test "inert: a child that passes through (PIDLOCK_HELD, process scope) makes no added system call" {
	skip_if_instrumented any "sanitizer runtimes and gcov make system calls of their own"
	syscall_list "$EMPTY" >"$T/empty.list"
	syscall_list "$SHIM" "PIDLOCK_HELD=$PF" >"$T/shim.list"
	diff -u "$T/empty.list" "$T/shim.list" || fail "system calls differ"
}

# state_of OUT [VAR=VALUE...]: plprog's report of its state at main entry,
# started with a non-default umask, an ignored and a blocked signal, another
# working directory and an extra descriptor, and the given environment.
state_of() {
	local out="$1"
	shift
	mkdir -p "$T/wd"
	: >"$T/wd/file"
	(
		umask 027
		trap '' USR1
		cd "$T/wd" || exit 1
		exec 7<"$T/wd/file" 3>&-
		# shellcheck disable=SC2016 # perl source
		perl -e 'use POSIX; sigprocmask(SIG_BLOCK, POSIX::SigSet->new(SIGUSR2)) or die;
			exec { $ARGV[0] } @ARGV or die' env "$@" "$PLPROG" state 2>&1 | cat >"$out"
	)
}

@test "inert: signal dispositions, mask, umask, errno, cwd, threads, timers, stdio and descriptors are unchanged" {
	state_of "$T/none"
	state_of "$T/empty" "LD_PRELOAD=$EMPTY"
	state_of "$T/inert" "LD_PRELOAD=$SHIM"
	state_of "$T/held" "LD_PRELOAD=$SHIM" "PIDLOCK_HELD=$PF"
	# The starting state is really not the default one.
	grep -qx "umask 0027" "$T/empty"
	grep -qx "signal 10 ignored flags 0x0" "$T/empty"
	grep -qx "blocked 12" "$T/empty"
	grep -qx "cwd $T/wd" "$T/empty"
	grep -q "^fd 7 .* $T/wd/file\$" "$T/empty"
	diff -u "$T/empty" "$T/none" || fail "an empty library already changes the state (test problem)"
	diff -u "$T/empty" "$T/inert" || fail "the inert shim changes the program's state"
	diff -u "$T/empty" "$T/held" || fail "the shim changes the state of a child that passes through"
}

@test "inert: with the lock taken, the state is the same except the lock descriptor" {
	state_of "$T/empty" "LD_PRELOAD=$EMPTY"
	state_of "$T/active" "LD_PRELOAD=$SHIM" "PIDLOCK_FILE=$PF"
	state_of "$T/wait" "LD_PRELOAD=$SHIM" "PIDLOCK_FILE=$PF" PIDLOCK_MODE=wait PIDLOCK_TIMEOUT=5
	state_of "$T/replace" "LD_PRELOAD=$SHIM" "PIDLOCK_FILE=$PF" PIDLOCK_MODE=replace
	state_of "$T/tree" "LD_PRELOAD=$SHIM" "PIDLOCK_FILE=$PF" PIDLOCK_SCOPE=tree
	grep -q "^fd [0-9]* .* $PF\$" "$T/active" || fail "no lock descriptor while active: $(cat "$T/active")"
	local f
	for f in active wait replace tree; do
		[ "$(grep -c " $PF\$" "$T/$f")" -eq 1 ] || fail "$f: not exactly one descriptor on the lock"
		diff -u "$T/empty" <(grep -v " $PF\$" "$T/$f") || fail "$f: the shim changed the program's state"
	done
}

@test "inert: the state is unchanged after a wait that blocked and after a replace" {
	state_of "$T/empty" "LD_PRELOAD=$EMPTY"
	start_shim "$PLPROG" waitfor "$T/go" exit 0 >/dev/null 2>&1 &
	local h=$! w
	track_pid "$h"
	await_pidfile "$PF" "$h"
	state_of "$T/waited" "LD_PRELOAD=$SHIM" "PIDLOCK_FILE=$PF" PIDLOCK_MODE=wait PIDLOCK_TIMEOUT=20 &
	w=$!
	wait_until "[ \"\$(lock_waiters '$PF')\" -ge 1 ]" || fail "the second instance did not wait"
	touch "$T/go"
	wait "$w"
	wait_status "$h"
	diff -u "$T/empty" <(grep -v " $PF\$" "$T/waited") || fail "state changed by a wait"

	start_shim "$PLPROG" sleep 30 >/dev/null 2>&1 &
	h=$!
	track_pid "$h"
	await_pidfile "$PF" "$h"
	state_of "$T/replaced" "LD_PRELOAD=$SHIM" "PIDLOCK_FILE=$PF" PIDLOCK_MODE=replace PIDLOCK_TIMEOUT=5
	wait_status "$h"
	[ "$status" -eq 143 ]
	diff -u "$T/empty" <(grep -v " $PF\$" "$T/replaced") || fail "state changed by a replace"
}

# In a private mount namespace, the shim copy (mode 4755, as the loader
# demands in secure mode) is bind-mounted over a library name in a trusted
# directory, so that LD_PRELOAD=NAME loads it into a setuid program. Nothing
# outside the namespace changes.
TRUSTED_NAME=libutil.so.1
TRUSTED_DIR=/usr/lib/x86_64-linux-gnu

@test "inert: in a setuid program (AT_SECURE) the loaded shim takes no lock and creates no file" {
	[ "$(id -u)" -eq 0 ] || skip "needs root to make a setuid copy and a mount namespace"
	[ -e "$TRUSTED_DIR/$TRUSTED_NAME" ] || skip "no $TRUSTED_DIR/$TRUSTED_NAME to stand in for"
	unshare -m true 2>/dev/null || skip "needs unshare -m (mount namespaces)"
	mkdir "$T/su" "$T/m"
	cp "$SHIM" "$T/su/lib.so"
	chmod 4755 "$T/su/lib.so"
	cp "$PLPROG" "$T/su/plprog"
	chmod 4755 "$T/su/plprog"
	# shellcheck disable=SC2016 # expanded by the inner shell
	local inner='
		mount --bind "$1/su/lib.so" "$2" || exit 90
		echo "== setuid, run by nobody"
		setpriv --reuid=65534 --regid=65534 --clear-groups \
			env PIDLOCK_FILE="$1/x.pid" PIDLOCK_VERBOSE=1 LD_PRELOAD="$3" \
			"$1/su/plprog" secure mapped "$3" note "$1/m" print ran
		echo "status $?"
		ls "$1/x.pid" 2>/dev/null
		echo "== control: the same, not secure"
		env PIDLOCK_FILE="$1/x.pid" LD_PRELOAD="$3" \
			"$1/su/plprog" secure mapped "$3" writepid "$1/self" exit 0
		echo "status $?"
	'
	pl_run unshare -m --propagation private bash -c "$inner" _ "$T" "$TRUSTED_DIR/$TRUSTED_NAME" "$TRUSTED_NAME"
	cat "$T/out" "$T/err"
	assert_status 0
	# The setuid run: secure, the shim is mapped, the program ran, no lock.
	sed -n '/== setuid/,/== control/p' "$T/out" >"$T/secure.out"
	grep -qx "secure 1" "$T/secure.out" || fail "the setuid copy did not run in secure mode"
	grep -qx "mapped yes" "$T/secure.out" || fail "the loader did not load the shim (test is void)"
	grep -qx "ran" "$T/secure.out"
	grep -qx "status 0" "$T/secure.out"
	! grep -q "x.pid" "$T/secure.out" || fail "a PID file was created by a secure-execution process"
	assert_no_stderr
	assert_notes "$T/m" 1
	# The control shows that the library loaded under that name is the shim.
	sed -n '/== control/,$p' "$T/out" >"$T/control.out"
	grep -qx "secure 0" "$T/control.out"
	grep -qx "status 0" "$T/control.out"
	[ -e "$T/self" ]
	[ ! -e "$T/x.pid" ]
}
