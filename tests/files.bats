#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# Guarantee 9 and PIDLOCK_FILE resolution: unsafe files are refused at once
# with 73 and one line naming the path and the problem, and left untouched;
# a bare NAME goes to $XDG_RUNTIME_DIR/NAME.pid or to a private directory
# /tmp/pidlock-UID that must be the user's own real directory.

# shellcheck disable=SC2154 # $status, $err and $notes are set by test_helper.bash
# shellcheck disable=SC2030,SC2031 # each test may point $PF elsewhere

load test_helper

bats_require_minimum_version 1.5.0

# refused PATTERN: the last run exited 73 with one line naming $PF and
# matching the extended regular expression PATTERN (any case), and the
# program did not run.
refused() {
	assert_status 73
	assert_one_pidlock_line "$PF"
	assert_err_matches "$1"
	assert_notes "$T" 0
}

@test "files: a symlink is refused and its target is left untouched" {
	printf 'precious\n' >"$T/target"
	touch -d '2001-02-03 04:05:06' "$T/target"
	ln -s target "$PF"
	local before
	before="$(file_stamp "$T/target")"
	pl_shim "$PLPROG" note "$T" exit 0
	refused 'link'
	[ -L "$PF" ]
	[ "$(file_stamp "$T/target")" = "$before" ] || fail "target changed"
	[ "$(cat "$T/target")" = precious ]
}

@test "files: a dangling symlink is refused and its target is not created" {
	ln -s "$T/nonexistent" "$PF"
	pl_shim "$PLPROG" note "$T" exit 0
	refused 'link'
	[ ! -e "$T/nonexistent" ] || fail "the shim created the symlink's target"
}

@test "files: a FIFO is refused at once, without hanging" {
	mkfifo "$PF"
	pl_shim timeout 10 "$PLPROG" note "$T" exit 0
	[ "$status" -ne 124 ] || fail "hung on a FIFO"
	# timeout(1) is under the shim here; run the program directly too.
	pl_shim -t 10 "$PLPROG" note "$T" exit 0
	[ "$status" -ne 124 ] || fail "hung on a FIFO"
	refused 'fifo|pipe|regular'
	[ -p "$PF" ]
}

@test "files: a directory is refused" {
	mkdir "$PF"
	pl_shim "$PLPROG" note "$T" exit 0
	refused 'director|regular'
	[ -d "$PF" ]
}

@test "files: a unix socket is refused" {
	"$PYTHON" -c 'import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$PF"
	[ -S "$PF" ]
	pl_shim -t 10 "$PLPROG" note "$T" exit 0
	refused 'socket|regular'
	[ -S "$PF" ]
}

@test "files: a device is refused (a private copy of /dev/null, then /dev/null itself)" {
	mknod "$PF" c 1 3 || skip "mknod is not permitted here"
	pl_shim -t 10 "$PLPROG" note "$T" exit 0
	refused 'device|regular'
	[ -c "$PF" ]
	# Only now /dev/null itself: the copy was refused, so it is not opened
	# for writing or removed.
	PF=/dev/null
	pl_shim -t 10 "$PLPROG" note "$T" exit 0
	refused 'device|regular'
	[ -c /dev/null ]
	[ "$(stat -c '%t:%T' /dev/null)" = 1:3 ]
}

@test "files: group-writable and world-writable files are refused and left untouched" {
	local mode before
	for mode in 0664 0646 0666 0660 0602 0777; do
		printf '12345\n' >"$PF"
		chmod "$mode" "$PF"
		touch -d '2001-02-03 04:05:06' "$PF"
		before="$(file_stamp "$PF")"
		pl_shim "$PLPROG" note "$T" exit 0
		refused 'writ'
		[ "$(file_stamp "$PF")" = "$before" ] || fail "mode $mode: file changed"
		assert_pidfile_is "$PF" 12345
		rm -f "$PF"
	done
}

@test "files: a file owned by another user is refused and left untouched" {
	printf '12345\n' >"$PF"
	chmod 0644 "$PF"
	chown nobody "$PF" || skip "chown is not permitted here"
	touch -d '2001-02-03 04:05:06' "$PF"
	local before
	before="$(file_stamp "$PF")"
	pl_shim "$PLPROG" note "$T" exit 0
	refused 'own|user|uid'
	[ "$(file_stamp "$PF")" = "$before" ] || fail "file changed"
	assert_pidfile_is "$PF" 12345
}

@test "files: a missing directory is refused and not created" {
	PF="$T/no/such/dir/x.pid"
	pl_shim "$PLPROG" note "$T" exit 0
	refused 'no such|exist|director'
	[ ! -e "$T/no" ]
}

@test "files: a path longer than PATH_MAX is refused with one line" {
	local long
	long="$(printf 'a%.0s' {1..4200})"
	PIDLOCK_FILE="$T/$long" pl_shim "$PLPROG" note "$T" exit 0
	assert_status 73
	assert_one_pidlock_line
	assert_err_matches 'long'
	assert_notes "$T" 0
	# Components each shorter than NAME_MAX, together longer than PATH_MAX.
	long="$T"
	while [ "${#long}" -le 4200 ]; do
		long="$long/$(printf 'b%.0s' {1..200})"
	done
	PIDLOCK_FILE="$long/x.pid" pl_shim "$PLPROG" note "$T" exit 0
	assert_status 73
	assert_one_pidlock_line
	assert_notes "$T" 0
}

@test "files: bare NAME resolves to \$XDG_RUNTIME_DIR/NAME.pid" {
	mkdir -m 0700 "$T/xdg"
	local f="$T/xdg/myapp.pid" h
	PIDLOCK_FILE=myapp XDG_RUNTIME_DIR="$T/xdg" start_shim "$PLPROG" sleep 30 >/dev/null 2>&1 &
	h=$!
	track_pid "$h"
	await_pidfile "$f" "$h"
	lock_is_held "$f"
	PIDLOCK_FILE=myapp pl_shim XDG_RUNTIME_DIR="$T/xdg" "$PLPROG" note "$T" exit 0
	assert_status 75
	assert_one_pidlock_line "$f" "PID $h"
	assert_notes "$T" 0
	kill "$h"
	wait_status "$h"
	PIDLOCK_FILE=myapp pl_shim XDG_RUNTIME_DIR="$T/xdg" "$PLPROG" note "$T" exit 0
	assert_status 0
	assert_no_stderr
	[ ! -e "$f" ]
}

# private_tmp SETUP [UID]: in a new mount namespace with an empty tmpfs on
# /tmp (so the real /tmp/pidlock-UID of this machine is never touched), runs
# the shell commands SETUP, then plprog under the shim with
# PIDLOCK_FILE=myapp and no XDG_RUNTIME_DIR, as UID (default 0). The
# program holds the lock briefly; the output is
#   status N / pid P / file CONTENT / dir MODE OWNER TYPE
# on $T/out, and the shim's stderr on $T/err.
private_tmp() {
	local setup="$1" uid="${2:-0}"
	unshare -m true 2>/dev/null || skip "needs unshare -m (mount namespaces) to use a private /tmp"
	local inner
	# shellcheck disable=SC2016 # expanded by the inner shell
	inner='
		set -u
		mount --bind "$SHIMDIR" /srv || exit 90
		mount -t tmpfs -o mode=1777 pidlock-test /tmp || exit 90
		eval "$SETUP"
		as=()
		if [ "$AS" != 0 ]; then as=(setpriv --reuid="$AS" --regid="$AS" --clear-groups); fi
		uid=$AS
		"${as[@]}" env -u XDG_RUNTIME_DIR PIDLOCK_FILE=myapp LD_PRELOAD="$SHIM" \
			"$PLPROG" writepid /tmp/self sleep 1 exit 0 &
		p=$!
		for ((i = 0; i < 100; i++)); do
			[ -s /tmp/self ] && break
			kill -0 "$p" 2>/dev/null || break
			sleep 0.02
		done
		echo "pid $p"
		echo "file $(cat "/tmp/pidlock-$uid/myapp.pid" 2>/dev/null)"
		echo "dir $(stat -c "%a %U %F" "/tmp/pidlock-$uid" 2>/dev/null)"
		wait "$p"
		echo "status $?"
		echo "after $(ls -A "/tmp/pidlock-$uid" 2>/dev/null)"
	'
	mkdir -p "$T/shim"
	# nobody must be able to read the library and the helper.
	cp "$SHIM" "$T/shim/libpidlock.so"
	cp "$PLPROG" "$T/shim/plprog"
	chmod 0755 "$T/shim" "$T/shim/libpidlock.so" "$T/shim/plprog"
	# Inside, /tmp (and so $T) is hidden: the library and the helper are
	# reached through a bind mount on /srv (an empty directory), made in the
	# new namespace only.
	pl_run env SETUP="$setup" AS="$uid" SHIMDIR="$T/shim" SHIM=/srv/libpidlock.so PLPROG=/srv/plprog \
		unshare -m --propagation private bash -c "$inner"
	# $T/out and $T/err were opened outside the namespace.
	cat "$T/out"
}

@test "files: bare NAME without XDG_RUNTIME_DIR: /tmp/pidlock-UID is created 0700 and used" {
	private_tmp ':'
	assert_status 0
	assert_no_stderr
	local pid
	pid="$(sed -n 's/^pid //p' "$T/out")"
	grep -qx "file $pid" "$T/out" || fail "the PID file does not name $pid"
	grep -qx "dir 700 root directory" "$T/out"
	grep -qx "status 0" "$T/out"
	grep -qx "after " "$T/out" || fail "the PID file was not removed at exit"
}

@test "files: an existing private /tmp/pidlock-UID (0700, own) is used" {
	private_tmp 'mkdir -m 0700 /tmp/pidlock-0'
	assert_status 0
	assert_no_stderr
	grep -qx "status 0" "$T/out"
	grep -q "^file [0-9]" "$T/out"
}

@test "files: a planted /tmp/pidlock-UID is refused (other owner, link, writable by others, not a directory)" {
	local setup
	for setup in \
		'mkdir -m 0700 /tmp/pidlock-0 && chown nobody /tmp/pidlock-0' \
		'mkdir -m 0700 /tmp/real && ln -s real /tmp/pidlock-0' \
		'mkdir -m 0777 /tmp/pidlock-0' \
		'mkdir -m 1777 /tmp/pidlock-0' \
		'mkdir -m 0770 /tmp/pidlock-0' \
		': >/tmp/pidlock-0'; do
		private_tmp "$setup"
		grep -qx "status 73" "$T/out" || fail "[$setup]: $(cat "$T/out") $(cat "$T/err")"
		assert_one_pidlock_line "/tmp/pidlock-0"
		grep -qx "file " "$T/out" || fail "[$setup]: a PID file was written"
	done
}

@test "files: as another user (nobody): /tmp/pidlock-65534 is created for it; one planted by root is refused" {
	skip_if_counts_unwritable 65534
	private_tmp ':' 65534
	assert_status 0
	assert_no_stderr
	grep -qx "dir 700 nobody directory" "$T/out"
	grep -qx "status 0" "$T/out"
	private_tmp 'mkdir -m 0755 /tmp/pidlock-65534' 65534
	grep -qx "status 73" "$T/out" || fail "$(cat "$T/out") $(cat "$T/err")"
	assert_one_pidlock_line "/tmp/pidlock-65534"
}
