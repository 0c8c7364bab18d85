#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# Hardening: what other processes, unusual
# programs and unusual settings can do to the shim. One behaviour per test;
# each was written to fail on the code before the fix, unless its comment
# says it pins something that already holds.

load test_helper

EXECENV="$HELPERS/execenv"
DLOPENER="$HELPERS/dlopener"
FORKER="$HELPERS/forker"
# An unprivileged UID with no account: setpriv needs none, and nothing is
# left to delete afterwards. Its files live only in a private /tmp.
AS_UID=64123

setup() {
	common_setup
	local h
	for h in "$EXECENV" "$DLOPENER" "$FORKER" "$PLPROG"; do
		[ -x "$h" ] || fail "$h is missing: run make helpers"
	done
}

# ---- unprivileged user, private /tmp ----

# as_user_tmp SCRIPT: runs the bash SCRIPT in a new mount namespace whose
# /tmp is an empty tmpfs (the real /tmp/pidlock-UID is never touched), with
# the library and plprog reachable as /srv/libpidlock.so and /srv/plprog
# (the test directory is hidden by the tmpfs). In SCRIPT, `as_u CMD...` runs
# CMD as $AS_UID under the shim with no XDG_RUNTIME_DIR and the caller's
# umask; U is the UID. stdout to $T/out, stderr to $T/err, status in $status.
as_user_tmp() {
	[ "$(id -u)" -eq 0 ] || skip "needs root (a private /tmp, setpriv to UID $AS_UID)"
	unshare -m true 2>/dev/null || skip "needs unshare -m (mount namespaces) for a private /tmp"
	skip_if_counts_unwritable "$AS_UID"
	mkdir -p "$T/shim"
	cp "$SHIM" "$T/shim/libpidlock.so"
	cp "$PLPROG" "$T/shim/plprog"
	chmod 0755 "$T/shim" "$T/shim/libpidlock.so" "$T/shim/plprog"
	local prelude
	# shellcheck disable=SC2016 # expanded by the inner shell
	prelude='
		set -u
		mount --bind "$SHIMDIR" /srv || exit 90
		mount -t tmpfs -o mode=1777 pidlock-test /tmp || exit 90
		as_u() {
			setpriv --reuid="$U" --regid="$U" --clear-groups \
				env -u XDG_RUNTIME_DIR LD_PRELOAD=/srv/libpidlock.so "$@"
		}
	'
	pl_run env SHIMDIR="$T/shim" U="$AS_UID" \
		unshare -m --propagation private bash -c "$prelude$1"
	cat "$T/out" "$T/err"
}

# ---- the PID file's content ----

# Pins what already holds: a waiter reads the file's size again after its
# wait, so a longer number written by the holder before it ended is cut.
@test "hardening: a waiter that got the lock leaves exactly its PID after a longer one" {
	: >"$PF"
	# shellcheck disable=SC2016 # expanded by sh
	flock -x "$PF" sh -c 'sleep 1; printf "12345678\n" >"$1"' sh "$PF" &
	track_pid $!
	wait_until "lock_is_held '$PF'" 5 || fail "the flock(1) holder did not lock $PF"
	PIDLOCK_MODE="wait" start_shim "$PLPROG" pid sleep 3 >"$T/out" 2>"$T/err" &
	local p=$!
	track_pid "$p"
	wait_until "[ -s '$T/out' ]" 10 || fail "the waiter never reached main: $(cat "$T/err")"
	assert_pidfile_is "$PF" "$p"
}

# The size must be read after locking: here the starter's flock() is held
# back (strace) between its open and its lock, while another process locks
# the file, writes a longer PID and exits, as a starter that crashed there
# would. The old code truncated by the size it saw at open (0).
@test "hardening: a longer PID written between open and lock leaves no trailing digits" {
	command -v strace >/dev/null || skip "strace is not installed (scripts/test-deps.sh installs it)"
	rm -f "$PF"
	(
		exec 3>&-
		exec strace -qq -o /dev/null -e trace=flock -e inject=flock:delay_enter=3000000:when=1 \
			-E PIDLOCK_FILE="$PF" -E LD_PRELOAD="$SHIM" "$PLPROG" pid sleep 6
	) >"$T/out" 2>"$T/err" &
	track_pid $!
	# The shim creates the file with the open that comes just before its
	# (delayed) first flock.
	wait_until "[ -e '$PF' ]" 10 || fail "the starter never opened $PF: $(cat "$T/err")"
	# shellcheck disable=SC2016 # expanded by sh
	flock -n -x "$PF" sh -c 'printf "12345678\n" >"$1"' sh "$PF" ||
		fail "the starter locked $PF before its delayed flock()"
	wait_until "[ -s '$T/out' ]" 15 || fail "the starter never reached main: $(cat "$T/err")"
	local p
	p="$(cat "$T/out")"
	assert_pidfile_is "$PF" "$p"
}

# ---- the exec token ----

@test "hardening: a forged PIDLOCK_EXEC on a read-only descriptor does not make a holder" {
	start_shim "$PLPROG" sleep 30 >/dev/null 2>"$T/holder.err" &
	local holder=$!
	track_pid "$holder"
	await_pidfile "$PF" "$holder"
	local dev ino
	dev="$(stat -c %d "$PF")"
	ino="$(stat -c %i "$PF")"
	# The token names this very process ($BASHPID survives the exec), a
	# descriptor on the right inode, but one opened read-only that holds
	# no lock.
	# shellcheck disable=SC2016 # expanded by the inner shell
	pl_run bash -c 'exec 5<"$1"
		PIDLOCK_HELD="$1" PIDLOCK_EXEC="$BASHPID:5:$2:$3:0" LD_PRELOAD="$4" exec "$5" exit 0' \
		bash "$PF" "$dev" "$ino" "$SHIM" "$PLPROG"
	[ -e "$PF" ] || fail "the forger removed the real holder's PID file (status $status: $(cat "$T/err"))"
	assert_pidfile_is "$PF" "$holder"
	lock_is_held "$PF" || fail "the lock on $PF is no longer held"
	proc_alive "$holder" || fail "the holder is gone"
}

# ---- the environment ----

@test "hardening: duplicate PIDLOCK_FILE entries: the instance's children are not refused" {
	skip_if_instrumented asan "the environment is built by hand, without the ASan runtime that must be preloaded first"
	pl_run "$EXECENV" "PIDLOCK_FILE=$PF" "PIDLOCK_FILE=$PF" "LD_PRELOAD=$SHIM" "PATH=/usr/bin:/bin" \
		-- "$PLPROG" system 'echo child-ran' exit 0
	assert_status 0
	grep -qx "child-ran" "$T/out" || fail "the child did not run: $(cat "$T/out") $(cat "$T/err")"
	grep -qx "system 0" "$T/out" || fail "the child failed: $(cat "$T/out") $(cat "$T/err")"
	assert_no_stderr
}

@test "hardening: dlopen() after setenv(PIDLOCK_FILE): no invalid read (valgrind), the lock is taken" {
	command -v valgrind >/dev/null || skip "valgrind is not installed (make memcheck installs it)"
	skip_if_instrumented asan "valgrind does not run ASan programs"
	pl_run valgrind --error-exitcode=99 -q "$DLOPENER" "$SHIM" "$PF"
	[ "$status" -ne 99 ] || fail "valgrind found errors: $(cat "$T/err")"
	assert_status 0
	grep -qx "file yes" "$T/out" || fail "the PID file did not name the program: $(cat "$T/out")"
	grep -qx "locked yes" "$T/out" || fail "the lock was not held: $(cat "$T/out")"
}

# ---- SIGALRM and the timed wait ----

# A program that inherits an alarm across exec and waits for the lock must
# get its SIGALRM on the schedule it was set for, not late by the wait.
@test "hardening: an inherited alarm fires on time after a timed wait (not late by the wait)" {
	# The holder keeps the lock about 3 s; the alarm is set for 5 s. On
	# time it fires at 5 s, late by the wait at 8 s.
	start_shim "$PLPROG" sleep 3 >/dev/null 2>"$T/holder.err" &
	local holder=$!
	track_pid "$holder"
	await_pidfile "$PF" "$holder"
	local t0 t1 ms
	t0="$(now_ns)"
	# perl sets the alarm and executes the waiter, which keeps it.
	# shellcheck disable=SC2016 # perl's own variables
	pl_run env PIDLOCK_FILE="$PF" PIDLOCK_MODE=wait PIDLOCK_TIMEOUT=10 \
		perl -e '$ENV{LD_PRELOAD} = shift; alarm 5; exec @ARGV or exit 96' \
		"$SHIM" "$PLPROG" note "$T" sleep 20 exit 0
	t1="$(now_ns)"
	ms=$(((t1 - t0) / 1000000))
	echo "SIGALRM after $ms ms, status $status"
	assert_notes "$T" 1
	assert_status 142
	[ "$ms" -ge 4500 ] || fail "ended after $ms ms, before the 5 s alarm"
	[ "$ms" -lt 6500 ] || fail "SIGALRM came after $ms ms, set for 5000: late by the wait"
}

@test "hardening: an external SIGALRM during a timed wait is not swallowed" {
	start_shim "$PLPROG" sleep 30 >/dev/null 2>"$T/holder.err" &
	local holder=$!
	track_pid "$holder"
	await_pidfile "$PF" "$holder"
	PIDLOCK_MODE=wait PIDLOCK_TIMEOUT=10 start_shim "$PLPROG" exit 0 >/dev/null 2>"$T/err" &
	local w=$!
	track_pid "$w"
	wait_until "lock_waiter '$PF' $w" 5 || fail "the waiter is not waiting: $(cat "$T/err")"
	local t0 t1 ms
	t0="$(now_ns)"
	kill -ALRM "$w"
	wait_status "$w"
	t1="$(now_ns)"
	ms=$(((t1 - t0) / 1000000))
	echo "status $status after $ms ms"
	assert_status 142
	[ "$ms" -lt 4000 ] || fail "the waiter ended $ms ms after SIGALRM"
}

# ---- umask ----

@test "hardening: umask 0277: a bare NAME works for an unprivileged user, and again under 022" {
	# shellcheck disable=SC2016 # expanded by the inner shell
	as_user_tmp '
		(umask 0277; as_u PIDLOCK_FILE=app /srv/plprog exit 0)
		echo "first $?"
		(umask 022; as_u PIDLOCK_FILE=app /srv/plprog exit 0)
		echo "second $?"
	'
	assert_status 0
	grep -qx "first 0" "$T/out" || fail "the start under umask 0277 failed"
	grep -qx "second 0" "$T/out" || fail "the later start under umask 022 failed"
}

@test "hardening: umask 0277: /tmp/pidlock-UID is created mode 0700" {
	# shellcheck disable=SC2016 # expanded by the inner shell
	as_user_tmp '
		[ ! -e "/tmp/pidlock-$U" ] || exit 91
		(umask 0277; as_u PIDLOCK_FILE=app /srv/plprog exit 0)
		echo "status $?"
		echo "dir $(stat -c "%a %u %F" "/tmp/pidlock-$U")"
	'
	assert_status 0
	grep -qx "dir 700 $AS_UID directory" "$T/out" || fail "not a 0700 directory of UID $AS_UID"
}

# The directory is made beforehand, so that only the file's mode is at stake.
@test "hardening: umask 0277: a holder that forked leaves no file that locks out a later start" {
	# shellcheck disable=SC2016 # expanded by the inner shell
	as_user_tmp '
		mkdir -m 0700 "/tmp/pidlock-$U" && chown "$U:$U" "/tmp/pidlock-$U" || exit 91
		(umask 0277; as_u PIDLOCK_FILE=app bash -c "sleep 0.2 & wait")
		echo "first $?"
		echo "left $(stat -c %a "/tmp/pidlock-$U/app.pid" 2>/dev/null)"
		(umask 022; as_u PIDLOCK_FILE=app /srv/plprog exit 0)
		echo "second $?"
	'
	assert_status 0
	grep -qx "first 0" "$T/out" || fail "the forking holder failed"
	grep -qx "second 0" "$T/out" || fail "the later start under umask 022 failed"
}

# ---- exec with a stripped environment ----

@test "hardening: the instance's exec with env -i: the new image's children do not hold the lock" {
	skip_if_instrumented asan "env -i drops the ASan runtime that must be preloaded first"
	# The instance executes env(1) (itself, same PID), which clears the
	# environment and executes a shell that leaves a background child.
	# shellcheck disable=SC2016 # expanded by the inner shell
	pl_shim "$PLPROG" exec /usr/bin/env -i /bin/sh -c 'sleep 30 & echo $! >"$1"; exit 0' \
		sh "$T/sleeper" 3>&-
	assert_status 0
	[ -s "$T/sleeper" ] || fail "the shell did not start its child: $(cat "$T/err")"
	local s
	s="$(cat "$T/sleeper")"
	track_pid "$s"
	proc_alive "$s" || fail "the shell's child is already gone"
	refute_lock_held "$PF"
	pl_shim "$PLPROG" exit 0
	assert_status 0
}

# ---- resource limits ----

@test "hardening: ulimit -f 0: status 73 and one line, not death by SIGXFSZ" {
	skip_if_instrumented coverage "gcov cannot write its count files under ulimit -f 0 (SIGXFSZ at exit)"
	# stderr through a pipe: under the limit a write to a file fails too.
	status=0
	(
		ulimit -f 0
		exec env PIDLOCK_FILE="$PF" LD_PRELOAD="$SHIM" "$PLPROG" note "$T" exit 0
	) 2>&1 >/dev/null </dev/null | cat >"$T/err"
	status=${PIPESTATUS[0]}
	assert_status 73
	assert_one_pidlock_line "$PF"
	assert_notes "$T" 0
}

# ---- constructor order (pins glibc's behaviour, which the README states) ----

# Builds the probe library into $T/libctorprobe.so.
build_probe() {
	"${CC:-cc}" -std=c11 -Wall -Wextra -Werror -Wshadow -Wconversion -D_GNU_SOURCE -shared -fPIC \
		-o "$T/libctorprobe.so" "$ROOT/tests/helpers/ctorprobe/ctorprobe.c" ||
		fail "cannot build the probe library"
}

# On glibc, the constructors of preloaded libraries run in the reverse order
# of LD_PRELOAD: a library listed after pidlock runs before the lock is taken.
@test "hardening: constructor order: a library listed after pidlock in LD_PRELOAD runs first" {
	build_probe
	pl_run env CTORPROBE_OUT="$T/probe" PIDLOCK_FILE="$PF" LD_PRELOAD="$SHIM:$T/libctorprobe.so" \
		"$PLPROG" exit 0
	assert_status 0
	cat "$T/probe"
	[ "$(cat "$T/probe")" = "file 1 held 0 exec 0 pidfile 0 locked 0" ] ||
		fail "the probe did not run before the shim's constructor: $(cat "$T/probe")"
}

@test "hardening: constructor order: a library listed before pidlock in LD_PRELOAD runs after the lock" {
	build_probe
	pl_run env CTORPROBE_OUT="$T/probe" PIDLOCK_FILE="$PF" LD_PRELOAD="$T/libctorprobe.so:$SHIM" \
		"$PLPROG" exit 0
	assert_status 0
	cat "$T/probe"
	[ "$(cat "$T/probe")" = "file 0 held 1 exec 0 pidfile 1 locked 1" ] ||
		fail "the probe ran before the lock was taken: $(cat "$T/probe")"
}

# pidlock run puts its library first, so a preload of the caller's runs its
# constructor before the shim's; the lock is already held by then, taken by
# the command before exec.
@test "hardening: constructor order: under pidlock run, another preload's constructor sees the lock held" {
	build_probe
	pl_run env CTORPROBE_OUT="$T/probe" LD_PRELOAD="$T/libctorprobe.so" \
		"$PIDLOCK" run -f "$PF" -- "$PLPROG" exit 0
	assert_status 0
	cat "$T/probe"
	# The first line is pidlock's own process (it is preloaded there too).
	[ "$(wc -l <"$T/probe")" -eq 2 ] || fail "expected two probe lines"
	[ "$(tail -n 1 "$T/probe")" = "file 0 held 1 exec 1 pidfile 1 locked 1" ] ||
		fail "under pidlock run: $(tail -n 1 "$T/probe")"
}

# ---- a relative path and chdir ----

@test "hardening: a relative PIDLOCK_FILE survives the daemon's chdir(\"/\"): named, then removed" {
	(
		exec 3>&-
		cd "$T" || exit 90
		PIDLOCK_FILE=./rel.pid LD_PRELOAD="$SHIM" exec "$FORKER" daemon3 -o "$T/report" -t 30
	) >/dev/null 2>"$T/err"
	wait_until "[ -s '$T/report' ]" 10 || fail "the daemon did not report: $(cat "$T/err")"
	local d
	d="$(sed -n 's/^daemon //p' "$T/report")"
	track_pid "$d"
	wait_until "[ \"\$(cat '$T/rel.pid' 2>/dev/null)\" = '$d' ]" 5 ||
		fail "$T/rel.pid does not name the daemon $d: $(cat "$T/rel.pid" 2>&1)"
	kill -TERM "$d"
	wait_until "! proc_alive $d" 10 || fail "the daemon did not exit on SIGTERM"
	[ ! -e "$T/rel.pid" ] || fail "the daemon's clean exit left $T/rel.pid behind"
	[ ! -e /rel.pid ] || fail "/rel.pid exists"
}

# ---- strict values ----

@test "hardening: PIDLOCK_TIMEOUT with leading zeros (00000000001) is accepted" {
	pl_shim PIDLOCK_MODE=wait PIDLOCK_TIMEOUT=00000000001 "$PLPROG" exit 0
	assert_status 0
	assert_no_stderr
}

@test "hardening: PIDLOCK_FILE=\" \" (blank) is refused with 78" {
	PIDLOCK_FILE=" " pl_shim XDG_RUNTIME_DIR="$T" "$PLPROG" note "$T" exit 0
	assert_status 78
	assert_one_pidlock_line "PIDLOCK_FILE"
	assert_notes "$T" 0
	[ ! -e "$T/ .pid" ] || fail "a PID file named ' .pid' was created"
}

@test "hardening: PIDLOCK_SIGNAL 32 and 33 (glibc's own) are refused, 34 is accepted" {
	local n
	for n in 32 33; do
		pl_shim PIDLOCK_SIGNAL="$n" "$PLPROG" exit 0
		assert_status 78
		assert_one_pidlock_line "PIDLOCK_SIGNAL=$n"
	done
	pl_shim PIDLOCK_SIGNAL=34 "$PLPROG" exit 0
	assert_status 0
	assert_no_stderr
}

@test "hardening: a trailing slash on a regular file is refused without 'Is a directory'" {
	printf 'keep\n' >"$T/regular"
	local before
	before="$(file_stamp "$T/regular")"
	PIDLOCK_FILE="$T/regular/" pl_shim "$PLPROG" note "$T" exit 0
	[ "$status" -eq 73 ] || [ "$status" -eq 78 ] || fail "status $status, expected 73 or 78: $(cat "$T/err")"
	assert_one_pidlock_line "$T/regular"
	if grep -qi "is a directory" "$T/err"; then
		fail "the message calls a regular file a directory: $(cat "$T/err")"
	fi
	assert_err_matches "trailing slash|not a directory"
	assert_notes "$T" 0
	[ "$(file_stamp "$T/regular")" = "$before" ] || fail "$T/regular was changed"
}

@test "hardening: PIDLOCK_FILE=app.pid (a NAME ending in .pid) is refused with 78 and a hint, nothing created" {
	# The command refuses `-f app.pid` the same way (tests/command.bats).
	pl_run env -u XDG_RUNTIME_DIR "PIDLOCK_FILE=app.pid" "LD_PRELOAD=$SHIM" "$PLPROG" note "$T" exit 0
	assert_status 78
	assert_one_pidlock_line "PIDLOCK_FILE=app.pid" "./NAME.pid"
	assert_notes "$T" 0
	[ ! -e "/tmp/pidlock-$(id -u)/app.pid.pid" ] || fail "the suffix was doubled"
}
