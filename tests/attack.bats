#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# Attacks and unusual programs (guarantees 9 and 12 to 16 of docs/DESIGN.md).
# Each test names the guarantee it covers, as docs/DESIGN.md numbers them.
# The tests run as root; the attacker is a throw-away unprivileged
# user made by the test (make_attacker) and removed in teardown. Every wait is
# bounded; every process a test starts is tracked and ended by PID, together
# with its descendants (kill_trees), so a stalled instance cannot outlive it.
# Helpers: tests/helpers/kids.c (children not made by the interposed fork,
# programs that fork under someone's POSIX lock), flusher.c (a blocking
# exit-time flush), prefork.c (many workers that record SIGTERM), rdlock.py
# (another user's read lock).

# shellcheck disable=SC2154 # $status, $err and $notes are set by test_helper.bash
# shellcheck disable=SC2030,SC2031 # some tests point $PF elsewhere
# shellcheck disable=SC2016 # single-quoted scripts expand in the child, on purpose

load test_helper

bats_require_minimum_version 1.5.0

KIDS="$HELPERS/kids"
FLUSHER="$HELPERS/flusher"
PREFORK="$HELPERS/prefork"
RDLOCK="$ROOT/tests/helpers/rdlock.py"

setup() {
	common_setup
	ATTACKER=""
	ATT_UID=""
	ATT_GID=""
}

teardown() {
	kill_trees "${TRACKED[@]}"
	drop_attacker
	common_teardown
}

# ---- processes ----

# SIGKILLs every PID given and all their descendants. The whole tree is
# collected first (from one snapshot of parent links), then killed level by
# level from the deepest up, so that a parent still alive reaps its killed
# children instead of leaving them to an init that may never reap. Only
# processes a test started (and what they started) are given.
kill_trees() {
	local -A kids=()
	local -a level=("$@") next levels=()
	local pid ppid p c depth=0 i
	[ "$#" -gt 0 ] || return 0
	while read -r pid ppid; do
		kids[$ppid]+=" $pid"
	done < <(ps -e -o pid=,ppid=)
	while [ "${#level[@]}" -gt 0 ] && [ "$depth" -lt 50 ]; do
		levels[depth]="${level[*]}"
		next=()
		for p in "${level[@]}"; do
			for c in ${kids[$p]:-}; do
				next+=("$c")
			done
		done
		level=("${next[@]}")
		depth=$((depth + 1))
	done
	for ((i = depth - 1; i >= 0; i--)); do
		# shellcheck disable=SC2086 # a list of PIDs
		kill -KILL ${levels[i]} 2>/dev/null || true
		[ "$i" -eq 0 ] || sleep 0.1
	done
}

# Starts a watchdog that kills the trees of the PIDs given after $1 seconds,
# so that a wait for a stalled process ends (with status 137). Sets WATCHDOG;
# disarm with `disarm_watchdog`.
arm_watchdog() {
	local secs=$1
	shift
	(
		exec 3>&- </dev/null >/dev/null 2>&1
		sleep "$secs"
		kill_trees "$@"
	) &
	WATCHDOG=$!
	track_pid "$WATCHDOG"
}
disarm_watchdog() {
	kill_trees "$WATCHDOG"
	wait "$WATCHDOG" 2>/dev/null || true
}

# Waits for background job $1 (at most $2 seconds); sets $status. A job still
# running after that is killed with its descendants and the test fails with
# the message $3.
bounded_wait() {
	local pid=$1 secs=$2 what=$3
	if ! wait_until "! proc_alive $pid" "$secs"; then
		kill_trees "$pid"
		wait "$pid" 2>/dev/null || true
		fail "$what: still running after $secs s (stalled)"
	fi
	wait_status "$pid"
}

# True while process $1 sleeps in a write to a full pipe.
in_pipe_write() {
	local w="" s=""
	{ read -r w <"/proc/$1/wchan"; } 2>/dev/null || true
	[[ $w == *pipe_write* ]] && return 0
	{ read -r s _ <"/proc/$1/syscall"; } 2>/dev/null || true
	[ "$(uname -m)" = x86_64 ] && [ "$s" = 1 ]
}

# ---- the attacker ----

# Makes a throw-away unprivileged user (and its group): ATTACKER, ATT_UID,
# ATT_GID. Retries while another agent's useradd holds /etc/passwd.
make_attacker() {
	local name i
	name="plat$$r$RANDOM"
	for ((i = 0; i < 25; i++)); do
		useradd -M -U -d /nonexistent -s /usr/sbin/nologin "$name" 2>"$T/useradd.err" && break
		sleep 0.2
	done
	id -u "$name" >/dev/null 2>&1 || fail "cannot make a user: $(cat "$T/useradd.err")"
	ATTACKER=$name
	ATT_UID=$(id -u "$name")
	ATT_GID=$(id -g "$name")
	[ "$ATT_UID" -ne 0 ] || fail "the throw-away user $name has UID 0"
}

# Ends every process of the throw-away user (only this test's: the user was
# made for it) and removes the user and its group.
drop_attacker() {
	[ -n "$ATTACKER" ] || return 0
	local p i
	for ((i = 0; i < 50; i++)); do
		p=$(ps -o pid= -u "$ATT_UID" 2>/dev/null || true)
		[ -n "$p" ] || break
		# shellcheck disable=SC2086 # a list of PIDs
		kill -KILL $p 2>/dev/null || true
		sleep 0.1
	done
	for ((i = 0; i < 25; i++)); do
		userdel "$ATTACKER" 2>/dev/null && break
		id -u "$ATTACKER" >/dev/null 2>&1 || break
		sleep 0.2
	done
	if getent group "$ATTACKER" >/dev/null; then
		groupdel "$ATTACKER" 2>/dev/null || true
	fi
	ATTACKER=""
}

# Runs CMD... as the attacker, from / (its own cwd may be unreadable to it).
as_attacker() {
	(as_attacker_exec "$@")
}

# The same, replacing the calling shell: for `as_attacker_exec CMD... &`,
# whose $! is then CMD itself.
as_attacker_exec() {
	cd / || exit 1
	exec setpriv --reuid="$ATT_UID" --regid="$ATT_GID" --clear-groups "$@"
}

# The attacker takes a read lock of KIND (posix: fcntl F_RDLCK as lockf
# does; ofd: an OFD read lock) on the whole of FILE, and on every later inode
# at that path, until $T/STOP.KIND exists (at most 120 s). Waits for the first
# lock; sets READER.
start_reader_lock() {
	local kind=$1 file=$2
	[ -n "$ATTACKER" ] || make_attacker
	as_attacker_exec "$PYTHON" -I "$RDLOCK" "$kind" "$file" "$T/stop.$kind" 120 \
		>"$T/rdlock.$kind.out" 2>"$T/rdlock.$kind.err" </dev/null 3>&- &
	READER=$!
	track_pid "$READER"
	wait_until "grep -q '^locked' '$T/rdlock.$kind.out'" 10 ||
		fail "the other user could not lock $file ($kind): $(cat "$T/rdlock.$kind.err")"
	# The lock is there for everyone to see.
	local ino
	ino=$(stat -c %i "$file")
	awk -v ino="$ino" '($2 == "POSIX" || $2 == "OFDLCK") && $4 == "READ" {
		n = split($6, a, ":"); if (a[n] == ino) found = 1 } END { exit !found }' /proc/locks ||
		fail "no $kind read lock on $file in /proc/locks"
}

stop_reader_lock() {
	touch "$T/stop.$1"
	wait "$READER" 2>/dev/null || true
}

# ---- files ----

# A root-owned regular file PATH holding TEXT, mode 0644, with an old mtime.
precious_file() {
	printf '%s' "$2" >"$1"
	chmod 0644 "$1"
	touch -d '2001-02-03 04:05:06' "$1"
}

# Saves what "untouched" means for FILE: a copy of its bytes and its stamp
# (size, mtime, ctime, inode, mode, owner).
save_file() {
	cp -p "$1" "$T/saved.$2"
	file_stamp "$1" >"$T/stamp.$2"
}

# FILE still has the bytes, the mtime/ctime and the inode saved under KEY.
assert_untouched() {
	[ -f "$1" ] || fail "$1 was removed"
	cmp -s "$1" "$T/saved.$2" || fail "$1 was rewritten: [$(head -c 200 "$1")]"
	[ "$(file_stamp "$1")" = "$(cat "$T/stamp.$2")" ] ||
		fail "$1 changed: $(file_stamp "$1"), was $(cat "$T/stamp.$2")"
}

# The last run printed exactly one "pidlock: " line that still names the
# component COMPONENT once every copy of the PID file's path is taken out of
# it: the line names the offending directory itself, not only the whole path.
assert_names_component() {
	local rest
	assert_one_pidlock_line
	rest=${err//"$PF"/}
	[[ $rest == *"$1"* ]] || fail "the line does not name the component '$1' itself: [$err]"
}

# ---- 1. symlinks and unsafe directories on the path (guarantee 9) ----

@test "attack 1: a symlink in any directory component is not followed: 73 naming it, target untouched" {
	# Guarantee 9 (symbolic links in any component).
	mkdir -p "$T/victim" "$T/a/b" "$T/up/real"
	precious_file "$T/victim/test.pid" $'4242\n'
	save_file "$T/victim/test.pid" victim
	precious_file "$T/up/real/test.pid" $'4343\n'
	save_file "$T/up/real/test.pid" up
	ln -s victim "$T/hop-dir"
	ln -s "$T/victim" "$T/a/b/deep-hop"
	ln -s up "$T/top-hop"
	local pf comp
	for pf in "$T/hop-dir/test.pid:hop-dir" "$T/a/b/deep-hop/test.pid:deep-hop" \
		"$T/top-hop/real/test.pid:top-hop"; do
		comp=${pf##*:}
		PF=${pf%:*}
		pl_shim -t 30 "$PLPROG" note "$T" exit 0
		echo "$PF: status $status: $(cat "$T/err")"
		assert_status 73
		assert_names_component "$comp"
		assert_err_matches 'link'
		assert_notes "$T" 0
		assert_untouched "$T/victim/test.pid" victim
		assert_untouched "$T/up/real/test.pid" up
	done
}

@test "attack 1: another user's symlink in a sticky world-writable directory: 73 naming it, root's file untouched" {
	# Guarantee 9, with fs.protected_symlinks=0 (as on this machine).
	make_attacker
	mkdir -m 1777 "$T/pub"
	mkdir "$T/victim"
	precious_file "$T/victim/test.pid" $'4242\n'
	save_file "$T/victim/test.pid" victim
	as_attacker ln -s "$T/victim" "$T/pub/state-dir"
	[ "$(stat -c %u "$T/pub/state-dir")" = "$ATT_UID" ]
	PF="$T/pub/state-dir/test.pid"
	pl_shim -t 30 "$PLPROG" note "$T" exit 0
	assert_status 73
	assert_names_component state-dir
	assert_notes "$T" 0
	assert_untouched "$T/victim/test.pid" victim
}

@test "attack 1: a directory on the path owned by another user: 73 naming it, nothing created or changed" {
	# Guarantee 9, unsafe path transition: a service's state directory owned
	# by the service account.
	make_attacker
	mkdir -m 0755 "$T/svc-dir" "$T/own-dir"
	chown "$ATT_UID:$ATT_GID" "$T/svc-dir" "$T/own-dir"
	# The other user's directory is the parent of the file.
	PF="$T/svc-dir/test.pid"
	pl_shim -t 30 "$PLPROG" note "$T" exit 0
	assert_status 73
	assert_names_component svc-dir
	assert_notes "$T" 0
	[ ! -e "$PF" ] || fail "the shim created $PF in the other user's directory"
	# A root-owned PID file already there is left alone too.
	precious_file "$PF" $'4242\n'
	save_file "$PF" pf
	pl_shim -t 30 "$PLPROG" note "$T" exit 0
	assert_status 73
	assert_names_component svc-dir
	assert_untouched "$PF" pf
	# Higher up: the other user's directory holds a root-owned one, which
	# that user can rename away and replace.
	mkdir -m 0755 "$T/own-dir/sub"
	PF="$T/own-dir/sub/test.pid"
	pl_shim -t 30 "$PLPROG" note "$T" exit 0
	assert_status 73
	assert_names_component own-dir
	assert_notes "$T" 0
	[ ! -e "$PF" ] || fail "the shim created $PF under the other user's directory"
}

@test "attack 1: a group- or world-writable directory that is not sticky: 73 naming it" {
	# Guarantee 9 (writable by someone other than the
	# caller or root, and not sticky).
	make_attacker
	mkdir "$T/open-dir" "$T/grp-dir"
	chmod 0777 "$T/open-dir"
	chgrp "$ATT_GID" "$T/grp-dir"
	chmod 0770 "$T/grp-dir"
	local d
	for d in open-dir grp-dir; do
		PF="$T/$d/test.pid"
		pl_shim -t 30 "$PLPROG" note "$T" exit 0
		echo "$d: status $status: $(cat "$T/err")"
		assert_status 73
		assert_names_component "$d"
		assert_notes "$T" 0
		[ ! -e "$PF" ] || fail "the shim created $PF in $d ($(stat -c %a "$T/$d"))"
	done
}

@test "attack 1: a sticky world-writable directory (like /tmp) with the caller's own file is accepted" {
	# The allowed case of guarantee 9: sticky, and the
	# file is the caller's; another user's file there is still refused.
	make_attacker
	mkdir -m 1777 "$T/tmp-dir"
	PF="$T/tmp-dir/test.pid"
	pl_shim -t 30 "$PLPROG" note "$T" exit 0
	assert_status 0
	assert_no_stderr
	assert_notes "$T" 1
	[ ! -e "$PF" ] || fail "the PID file was left after a clean exit"
	# The caller's own file left by a crash: taken over.
	precious_file "$PF" $'4242\n'
	pl_shim -t 30 "$PLPROG" writepid "$T/self" exit 0
	assert_status 0
	assert_no_stderr
	[ ! -e "$PF" ]
	# The other user's file in the same directory: refused, untouched.
	as_attacker sh -c 'printf "4242\n" >"$1" && chmod 0644 "$1"' _ "$PF"
	save_file "$PF" att
	pl_shim -t 30 "$PLPROG" note "$T" exit 0
	assert_status 73
	assert_one_pidlock_line "$PF"
	assert_untouched "$PF" att
}

# ---- 2. nobody else can stall the instance (guarantee 12) ----

@test "attack 2: another user's POSIX or OFD read lock does not stall a bash script under the shim" {
	# Guarantee 12. bash forks for each external command;
	# the fork copies' exec and exit turns must not block on a lock that a
	# reader of the PID file can take.
	local kind h
	cat >"$T/inst.sh" <<-'EOF'
		for i in 1 2 3 4 5; do /bin/echo "run $i"; done
		/bin/true | /bin/cat
		x=$(/bin/echo sub)
		/bin/echo "$x"
		exit 7
	EOF
	for kind in posix ofd; do
		PF="$T/$kind.pid"
		: >"$PF"
		chmod 0644 "$PF"
		start_reader_lock "$kind" "$PF"
		start_shim bash "$T/inst.sh" >"$T/inst.out" 2>"$T/inst.err" </dev/null &
		h=$!
		track_pid "$h"
		bounded_wait "$h" 20 "bash under the shim, with a $kind read lock held by another user"
		[ "$status" -eq 7 ] || fail "$kind: the script exited $status: $(cat "$T/inst.err")"
		[ "$(grep -c '^run ' "$T/inst.out")" -eq 5 ] || fail "$kind: output: $(cat "$T/inst.out")"
		grep -qx sub "$T/inst.out" || fail "$kind: no output from the command substitution"
		[ ! -s "$T/inst.err" ] || fail "$kind: stderr: $(cat "$T/inst.err")"
		refute_lock_held "$PF"
		stop_reader_lock "$kind"
	done
}

@test "attack 2: another user's POSIX or OFD read lock does not stall a C program whose fork() children exit" {
	# Guarantee 12: every exit of a fork copy is a
	# hand-over turn that must never wait for someone else's lock.
	local kind h
	for kind in posix ofd; do
		PF="$T/$kind.pid"
		: >"$PF"
		chmod 0644 "$PF"
		start_reader_lock "$kind" "$PF"
		start_shim "$KIDS" forkexit 8 >"$T/kids.out" 2>"$T/kids.err" </dev/null &
		h=$!
		track_pid "$h"
		bounded_wait "$h" 20 "kids forkexit 8, with a $kind read lock held by another user"
		[ "$status" -eq 0 ] || fail "$kind: exited $status: $(cat "$T/kids.err")"
		refute_lock_held "$PF"
		stop_reader_lock "$kind"
	done
}

@test "attack 2: a daemon that lockf()s its own PID file and forks does not deadlock" {
	# Guarantee 12: "a program that takes POSIX
	# (fcntl/lockf) locks on its own PID file works as without the shim".
	local h
	start_shim "$KIDS" lockf "$PF" >"$T/kids.out" 2>"$T/kids.err" </dev/null &
	h=$!
	track_pid "$h"
	bounded_wait "$h" 20 "a program holding lockf() on its PID file, after its child's exit"
	[ "$status" -eq 0 ] || fail "exited $status: $(cat "$T/kids.err")"
	refute_lock_held "$PF"
	# Without the shim it works the same (the test's own check).
	: >"$T/plain"
	pl_run timeout 20 "$KIDS" lockf "$T/plain"
	assert_status 0
}

# ---- 3. exit order (guarantee 13) ----

@test "attack 3: while the old instance's exit-time stdio flush blocks, a new start is refused (75)" {
	# Guarantee 13: the file is removed, and a new instance
	# can start, only after the old one's final flush.
	local r h
	mkfifo "$T/fifo"
	# A reader that opens the FIFO but reads nothing until $T/go exists.
	(
		exec 3>&-
		i=0
		while [ ! -e "$T/go" ] && [ "$i" -lt 600 ]; do
			sleep 0.05
			i=$((i + 1))
		done
		exec cat >"$T/drained"
	) <"$T/fifo" &
	r=$!
	track_pid "$r"
	start_shim "$FLUSHER" 1048576 "$T" >"$T/fifo" 2>"$T/h.err" </dev/null &
	h=$!
	track_pid "$h"
	wait_until "[ -e '$T/main-done' ]" 10 || fail "flusher did not get to the end of main"
	# main has returned; exit() is now blocked in the final flush.
	wait_until "in_pipe_write $h" 10 || fail "flusher $h is not blocked writing to the pipe"
	proc_alive "$h"
	pl_shim -t 30 "$PLPROG" note "$T" exit 0
	assert_status 75
	assert_one_pidlock_line "$PF" "PID $h"
	assert_notes "$T" 0
	assert_pidfile_is "$PF" "$h"
	in_pipe_write "$h" || fail "flusher $h is no longer in its final flush"
	touch "$T/go"
	bounded_wait "$h" 20 "flusher after the reader drained the pipe"
	assert_status 0
	wait "$r" || true
	[ "$(stat -c %s "$T/drained")" -eq 1048576 ] || fail "the reader got $(stat -c %s "$T/drained") bytes"
	refute_lock_held "$PF"
	pl_shim -t 30 "$PLPROG" note "$T" exit 0
	assert_status 0
	assert_notes "$T" 1
}

# ---- 4. children not made by the interposed fork() (guarantee 14) ----

# A child of KIND (kids.c) exits through exit() while the parent runs: the
# PID file still exists and names the parent, a second instance is refused;
# once the parent has gone, the lock is free.
child_exits_parent_runs() {
	local kind=$1 h parent
	start_shim "$KIDS" "$kind" exit "$T/report" >"$T/kids.out" 2>"$T/kids.err" </dev/null &
	h=$!
	track_pid "$h"
	wait_until "[ -s '$T/report' ]" 10 || fail "no report from kids $kind: $(cat "$T/kids.err")"
	parent=$(report_value "$T/report" parent)
	[ "$parent" = "$h" ] || fail "report names parent $parent, started $h"
	# The child has exited and been reaped by the parent.
	[ -e "$PF" ] || fail "the $kind child's exit removed the running parent's PID file"
	assert_pidfile_is "$PF" "$h"
	lock_is_held "$PF" || fail "the lock is free while the parent runs"
	pl_shim -t 30 "$PLPROG" note "$T" exit 0
	assert_status 75
	assert_one_pidlock_line "$PF" "PID $h"
	assert_notes "$T" 0
	kill -TERM "$h"
	bounded_wait "$h" 10 "kids $kind parent after SIGTERM"
	assert_status 0
	refute_lock_held "$PF"
	pl_shim -t 30 "$PLPROG" note "$T" exit 0
	assert_status 0
}

@test "attack 4: a _Fork() child's exit() leaves the running parent's PID file alone" {
	# Guarantee 14.
	child_exits_parent_runs _Fork
}

@test "attack 4: a raw clone() child's exit() leaves the running parent's PID file alone" {
	# Guarantee 14.
	child_exits_parent_runs clone
}

@test "attack 4: a raw clone3() child's exit() leaves the running parent's PID file alone" {
	# Guarantee 14.
	child_exits_parent_runs clone3
}

@test "attack 4: a vfork() child that calls exit() leaves the parent's PID file and state alone" {
	# Guarantee 14.
	child_exits_parent_runs vfork
}

# The parent exits first while a child of KIND (never made by the
# interposed fork) still holds the inherited lock: no second instance while
# the child lives; the lock is free once it has gone.
parent_exits_child_holds() {
	local kind=$1 h child
	start_shim "$KIDS" "$kind" orphan "$T/report" "$T/go" >"$T/kids.out" 2>"$T/kids.err" </dev/null &
	h=$!
	track_pid "$h"
	bounded_wait "$h" 10 "kids $kind orphan (parent)"
	assert_status 0
	wait_until "[ -s '$T/report' ]" 10 || fail "no report from kids $kind"
	child=$(report_value "$T/report" child)
	track_pid "$child"
	proc_alive "$child" || fail "the $kind child $child is not running"
	lock_is_held "$PF" || fail "the parent's exit removed the PID file (or dropped the lock) while its $kind child holds the lock"
	pl_shim -t 30 "$PLPROG" note "$T" exit 0
	assert_status 75
	assert_one_pidlock_line "$PF"
	assert_notes "$T" 0
	touch "$T/go"
	wait_until "! proc_alive $child" 10 || fail "the $kind child did not exit"
	refute_lock_held "$PF"
	pl_shim -t 30 "$PLPROG" note "$T" exit 0
	assert_status 0
	assert_notes "$T" 1
}

@test "attack 4: the parent exits while its _Fork() child holds the lock: no second instance" {
	# Guarantee 14 ("never leaves two instances running").
	parent_exits_child_holds _Fork
}

@test "attack 4: the parent exits while its raw clone() child holds the lock: no second instance" {
	# Guarantee 14.
	parent_exits_child_holds clone
}

@test "attack 4: the parent exits while its raw clone3() child holds the lock: no second instance" {
	# Guarantee 14.
	parent_exits_child_holds clone3
}

@test "attack 4: a vfork() child's dup2() onto the lock descriptor does not let the parent's close-all loop drop the lock" {
	# Guarantees 14 and 7: the vfork child shares the
	# parent's memory but has its own descriptor table.
	local h
	start_shim "$KIDS" vfork-dup2 "$T/report" "$PF" >"$T/kids.out" 2>"$T/kids.err" </dev/null &
	h=$!
	track_pid "$h"
	wait_until "[ -s '$T/report' ]" 10 || fail "no report from kids vfork-dup2: $(cat "$T/kids.err")"
	echo "lock descriptor: $(report_value "$T/report" lockfd)"
	lock_is_held "$PF" || fail "the parent's close-all loop dropped the lock after the vfork child's dup2"
	assert_pidfile_is "$PF" "$h"
	pl_shim -t 30 "$PLPROG" note "$T" exit 0
	assert_status 75
	assert_one_pidlock_line "$PF" "PID $h"
	assert_notes "$T" 0
	kill -TERM "$h"
	bounded_wait "$h" 10 "kids vfork-dup2 after SIGTERM"
	assert_status 0
	refute_lock_held "$PF"
}

# kids vfork-setsid [-n]: the parent (after a vfork child's setsid(), or
# none with -n) forks a copy C and exits; C then executes another program,
# which in process scope must not hold the lock. Sets CHILD.
setsid_case() {
	local h
	rm -f "$T/report"
	start_shim "$KIDS" vfork-setsid "$T/report" "$@" >"$T/kids.out" 2>"$T/kids.err" </dev/null &
	h=$!
	track_pid "$h"
	bounded_wait "$h" 10 "kids vfork-setsid $* (parent)"
	assert_status 0
	wait_until "[ -s '$T/report' ]" 10 || fail "no report from kids vfork-setsid: $(cat "$T/kids.err")"
	CHILD=$(report_value "$T/report" child)
	track_pid "$CHILD"
	wait_until "[ \"\$(cat /proc/$CHILD/comm 2>/dev/null)\" = sleep ]" 40 ||
		fail "the fork copy $CHILD did not execute sleep"
}

@test "attack 4: a vfork() child's setsid() does not make a later fork copy keep the lock across exec" {
	# Guarantees 14 and 5: the vfork child's setsid()
	# marked the parent itself as "detached" (shared memory), so a later
	# fork copy kept the lock into a program it executed.
	# Control, no vfork child: the executed program does not hold the lock.
	setsid_case -n
	refute_lock_held "$PF"
	pl_shim -t 30 "$PLPROG" note "$T" exit 0
	assert_status 0
	kill -KILL "$CHILD"
	# The same after a vfork child's setsid().
	setsid_case
	if lock_is_held "$PF"; then
		fail "sleep, executed by a fork copy, holds the lock (comm: $(cat "/proc/$CHILD/comm"))"
	fi
	pl_shim -t 30 "$PLPROG" note "$T" exit 0
	assert_status 0
	assert_notes "$T" 2
}

# ---- 5. containers (guarantee 15) ----

# Runs the bash script $1 as PID 1 of a new PID namespace with its own /proc
# (at most 60 s; everything in the namespace dies with it). The variables
# T PF SHIM PIDLOCK HELPERS PLPROG are exported to it. Its stdout goes to
# $T/ns.out.
in_pid_namespace() {
	unshare --pid --fork --mount-proc --kill-child true 2>/dev/null ||
		fail "unshare --pid --fork --mount-proc does not work here"
	T="$T" PF="$PF" SHIM="$SHIM" PIDLOCK="$PIDLOCK" HELPERS="$HELPERS" PLPROG="$PLPROG" \
		timeout -k 5 60 unshare --pid --fork --mount-proc --kill-child bash -c "$1" \
		>"$T/ns.out" 2>"$T/ns.err" </dev/null 3>&- || true
	echo "namespace: $(cat "$T/ns.out") / stderr: $(cat "$T/ns.err")"
}

@test "attack 5: in a PID namespace, status and stop find a daemon whose launcher has exited" {
	# Guarantee 15: the kernel hides from /proc/locks a
	# lock whose taker has exited; status must still say running, stop must
	# stop the daemon.
	in_pid_namespace '
		set -u
		env PIDLOCK_FILE="$PF" LD_PRELOAD="$SHIM" "$HELPERS/forker" daemon -o "$T/report" -t 30 \
			>/dev/null 2>&1
		echo "launcher $?"
		i=0
		while [ ! -s "$T/report" ] && [ "$i" -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
		d=$(awk "\$1 == \"daemon\" { print \$2 }" "$T/report")
		echo "daemon $d"
		"$PIDLOCK" status "$PF" >"$T/status.out" 2>&1
		echo "status $?"
		"$PIDLOCK" stop --timeout 5 "$PF" >"$T/stop.out" 2>&1
		echo "stop $?"
		for ((i = 0; i < 100; i++)); do
			s=$(sed "s/^.*) //" "/proc/$d/stat" 2>/dev/null | cut -d" " -f1)
			[ -z "$s" ] || [ "$s" = Z ] && break
			sleep 0.05
		done
		echo "after ${s:-gone}"
	'
	local d
	d=$(report_value "$T/ns.out" daemon)
	[ "$(report_value "$T/ns.out" launcher)" = 0 ] || fail "the launcher failed"
	[ -n "$d" ] || fail "no daemon"
	echo "status: $(cat "$T/status.out")"
	echo "stop: $(cat "$T/stop.out")"
	[ "$(report_value "$T/ns.out" status)" = 0 ] ||
		fail "status exited $(report_value "$T/ns.out" status), not 0: $(cat "$T/status.out")"
	grep -q "PID $d\b" "$T/status.out" || fail "status does not name the daemon $d: $(cat "$T/status.out")"
	[ "$(report_value "$T/ns.out" stop)" = 0 ] || fail "stop exited $(report_value "$T/ns.out" stop)"
	case "$(report_value "$T/ns.out" after)" in
	gone | Z) ;;
	*) fail "the daemon $d still runs after stop" ;;
	esac
}

@test "attack 5: in a PID namespace, a holder outside it is reported as outside, never signalled" {
	# Guarantee 15: a volume shared between containers.
	local h
	start_shim "$PLPROG" sleep 60 >/dev/null 2>&1 </dev/null &
	h=$!
	track_pid "$h"
	await_pidfile "$PF" "$h"
	in_pid_namespace '
		"$PIDLOCK" status "$PF" >"$T/status.out" 2>&1
		echo "status $?"
		"$PIDLOCK" stop --timeout 2 "$PF" >"$T/stop.out" 2>&1
		echo "stop $?"
		env PIDLOCK_FILE="$PF" LD_PRELOAD="$SHIM" "$PLPROG" note "$T" exit 0 \
			>/dev/null 2>"$T/fail.err"
		echo "fail $?"
		env PIDLOCK_FILE="$PF" LD_PRELOAD="$SHIM" PIDLOCK_MODE=replace PIDLOCK_TIMEOUT=1 \
			"$PLPROG" note "$T" exit 0 >/dev/null 2>"$T/replace.err"
		echo "replace $?"
	'
	local f
	for f in status stop fail replace; do
		echo "$f: $(cat "$T/$f".* 2>/dev/null)"
	done
	[ "$(report_value "$T/ns.out" status)" = 0 ] ||
		fail "status exited $(report_value "$T/ns.out" status), not 0 (running)"
	grep -qi outside "$T/status.out" || fail "status does not say the holder is outside"
	! grep -qi 'not running' "$T/status.out" || fail "status says not running"
	[ "$(report_value "$T/ns.out" stop)" = 1 ] || fail "stop exited $(report_value "$T/ns.out" stop), not 1"
	grep -qi outside "$T/stop.out" || fail "stop does not say the holder is outside"
	proc_alive "$h" || fail "the holder outside the namespace was signalled"
	[ "$(report_value "$T/ns.out" fail)" = 75 ] || fail "a fail-mode start exited $(report_value "$T/ns.out" fail)"
	grep -qi outside "$T/fail.err" || fail "the refusal does not say the holder is outside"
	[ "$(report_value "$T/ns.out" replace)" = 75 ] ||
		fail "a replace-mode start exited $(report_value "$T/ns.out" replace)"
	proc_alive "$h" || fail "replace mode signalled the holder outside the namespace"
	assert_notes "$T" 0
	assert_pidfile_is "$PF" "$h"
}

# ---- 6. files that are not ours to rewrite (guarantee 9) ----

@test "attack 6: a root-owned file with two hard links is refused (73) and left intact" {
	# Guarantee 9 (more than one hard link).
	precious_file "$PF" $'4242\n'
	ln "$PF" "$T/other-name"
	save_file "$PF" pf
	pl_shim -t 30 "$PLPROG" note "$T" exit 0
	assert_status 73
	assert_one_pidlock_line "$PF"
	assert_notes "$T" 0
	assert_untouched "$PF" pf
	[ "$T/other-name" -ef "$PF" ] || fail "the second link no longer names the same file"
}

@test "attack 6: a root-owned file whose content is not a PID file (a copy of /etc/passwd) is refused (73) and left intact" {
	# Guarantee 9, content not digits and a newline: PIDLOCK_FILE=/etc/passwd
	# as root once destroyed it (a copy here).
	cp /etc/passwd "$PF"
	chmod 0644 "$PF"
	touch -d '2001-02-03 04:05:06' "$PF"
	save_file "$PF" pf
	pl_shim -t 30 "$PLPROG" note "$T" exit 0
	assert_status 73
	assert_one_pidlock_line "$PF"
	assert_notes "$T" 0
	assert_untouched "$PF" pf
	# Nor in wait or replace mode (the file is not locked: nothing to wait for).
	pl_shim -t 30 PIDLOCK_MODE=replace PIDLOCK_TIMEOUT=1 "$PLPROG" note "$T" exit 0
	assert_status 73
	assert_untouched "$PF" pf
}

# ---- 7. every holder gets the first signal (guarantee 16) ----

# Starts a prefork server of 300 workers under the shim (tests/helpers/
# prefork.c): sets MASTER and WORKERS, tracks every PID.
start_prefork300() {
	local key pid
	mkdir "$T/terms"
	start_shim "$PREFORK" 300 "$T/terms" "$T/report" >"$T/pf.out" 2>"$T/pf.err" </dev/null &
	MASTER=$!
	track_pid "$MASTER"
	wait_until "[ -s '$T/report' ]" 60 || fail "the prefork server did not start: $(cat "$T/pf.err")"
	WORKERS=()
	while read -r key pid; do
		[ "$key" = worker ] && WORKERS+=("$pid")
		track_pid "$pid"
	done <"$T/report"
	[ "${#WORKERS[@]}" -eq 300 ] || fail "${#WORKERS[@]} workers"
	await_pidfile "$PF" "$MASTER"
}

# Every one of the 301 processes recorded SIGTERM.
assert_all_got_sigterm() {
	local p missing=0
	for p in "$MASTER" "${WORKERS[@]}"; do
		[ -e "$T/terms/term.$p" ] || missing=$((missing + 1))
	done
	echo "$(find "$T/terms" -name 'term.*' | wc -l) of 301 processes received SIGTERM"
	[ "$missing" -eq 0 ] || fail "$missing of the 301 holders never received SIGTERM"
}

@test "attack 7: replace mode sends SIGTERM to all 301 holders of a prefork server, none needs SIGKILL" {
	# Guarantees 16 and 8 (PL_MAX_HOLDERS was once 256).
	start_prefork300
	local t0 t1
	t0=$(now_ns)
	pl_run timeout 120 env "PIDLOCK_FILE=$PF" "LD_PRELOAD=$SHIM" PIDLOCK_MODE=replace \
		PIDLOCK_TIMEOUT=30 "$PLPROG" note "$T" exit 0
	t1=$(now_ns)
	echo "replaced in $(((t1 - t0) / 1000000)) ms"
	assert_all_got_sigterm
	assert_status 0
	assert_notes "$T" 1
	# SIGKILL comes only after PIDLOCK_TIMEOUT.
	[ $((t1 - t0)) -lt 30000000000 ] || fail "the replacement took the whole timeout: SIGKILL was needed"
	bounded_wait "$MASTER" 20 "the prefork master"
	assert_status 0
}

@test "attack 7: pidlock stop sends SIGTERM to all 301 holders of a prefork server, none needs SIGKILL" {
	# Guarantee 16.
	start_prefork300
	local t0 t1
	t0=$(now_ns)
	pl_run timeout 120 "$PIDLOCK" stop --timeout 30 "$PF"
	t1=$(now_ns)
	echo "stopped in $(((t1 - t0) / 1000000)) ms: $(cat "$T/err")"
	assert_all_got_sigterm
	assert_status 0
	[ $((t1 - t0)) -lt 30000000000 ] || fail "stop took the whole timeout: SIGKILL was needed"
	bounded_wait "$MASTER" 20 "the prefork master"
	assert_status 0
	refute_lock_held "$PF"
}

# ---- 8. FIFOs and devices are never opened (guarantee 9) ----

# A writer blocked in open(O_WRONLY) on the FIFO $PF until some reader opens
# it; it then creates $T/released. Sets WRITER.
start_fifo_writer() {
	bash -c 'exec 7>"$1"; : >"$2"; exec sleep 30' _ "$PF" "$T/released" \
		</dev/null >/dev/null 2>&1 3>&- &
	WRITER=$!
	track_pid "$WRITER"
	wait_until "in_fifo_open $WRITER" 10 || fail "the writer $WRITER is not blocked opening the FIFO"
}

# The writer is still blocked: nobody opened the FIFO.
assert_writer_blocked() {
	sleep 0.3 # a released writer needs a moment to create its mark
	[ ! -e "$T/released" ] || fail "$1 opened the FIFO: the blocked writer was released"
	in_fifo_open "$WRITER" || fail "the writer is no longer blocked opening the FIFO"
}

@test "attack 8: a FIFO at the path: the shim refuses it (73) without releasing a writer blocked on it" {
	# Guarantee 9 (never opened, left exactly as it was).
	mkfifo -m 0644 "$PF"
	local before
	before=$(file_stamp "$PF")
	start_fifo_writer
	pl_shim -t 10 "$PLPROG" note "$T" exit 0
	[ "$status" -ne 124 ] || fail "hung on the FIFO"
	assert_status 73
	assert_one_pidlock_line "$PF"
	assert_notes "$T" 0
	assert_writer_blocked "the shim"
	[ -p "$PF" ]
	[ "$(file_stamp "$PF")" = "$before" ] || fail "the FIFO changed"
}

@test "attack 8: a FIFO at the path: pidlock status does not release a writer blocked on it" {
	# Guarantees 9 and 11 (a look changes nothing).
	mkfifo -m 0644 "$PF"
	local before
	before=$(file_stamp "$PF")
	start_fifo_writer
	pl_run timeout 10 "$PIDLOCK" status "$PF"
	echo "status $status: $(cat "$T/out" "$T/err")"
	[ "$status" -ne 124 ] || fail "status hung on the FIFO"
	assert_status 4
	assert_writer_blocked "pidlock status"
	[ -p "$PF" ]
	[ "$(file_stamp "$PF")" = "$before" ] || fail "the FIFO changed"
}

# Fails if the strace output $1 shows an open of $PF (by its path, or by its
# last component relative to a directory descriptor) other than O_PATH. An
# O_CREAT|O_EXCL call that failed with EEXIST opened nothing (the kernel
# refuses it before any open routine runs), so it does not count.
refute_opened() {
	local base=${PF##*/} hits
	hits=$(grep -E 'open(at2?)?\(' "$1" | grep -F -e "\"$PF\"" -e "\"$base\"" -e "\"./$base\"" |
		grep -v 'O_PATH' | grep -v -E 'O_EXCL.*= -1 EEXIST' || true)
	[ -z "$hits" ] || fail "$2 opened $PF: $hits"
}

@test "attack 8: a character device at the path is refused without being opened (strace), by the shim and by status" {
	# Guarantee 9: a device's open routine must not run.
	mknod "$PF" c 1 3 || fail "mknod failed (a private copy of /dev/null)"
	chmod 0644 "$PF"
	local before
	before=$(file_stamp "$PF")
	pl_run timeout 30 strace -f -qq -e trace=open,openat,openat2 -o "$T/shim.trace" \
		env "PIDLOCK_FILE=$PF" "LD_PRELOAD=$SHIM" "$PLPROG" note "$T" exit 0
	assert_status 73
	assert_one_pidlock_line "$PF"
	assert_notes "$T" 0
	grep -q 'open' "$T/shim.trace" || fail "strace recorded no open at all"
	refute_opened "$T/shim.trace" "the shim"
	pl_run timeout 30 strace -f -qq -e trace=open,openat,openat2 -o "$T/status.trace" \
		"$PIDLOCK" status "$PF"
	echo "status $status: $(cat "$T/out")"
	assert_status 4
	refute_opened "$T/status.trace" "pidlock status"
	[ -c "$PF" ]
	[ "$(file_stamp "$PF")" = "$before" ] || fail "the device node changed"
}

# ---- 9. out of descriptors (guarantee 16) ----

@test "attack 9: out of descriptors in replace mode: 71 with a line that says so, never 75" {
	# Guarantee 16. With RLIMIT_NOFILE 4 the shim opens
	# the PID file (descriptor 3) and has none left to look at /proc for the
	# holders; with 5 or 6 it may or may not manage (then it replaces).
	local n h
	start_shim "$PLPROG" sleep 60 >/dev/null 2>&1 </dev/null &
	h=$!
	track_pid "$h"
	await_pidfile "$PF" "$h"
	for n in 4 5 6; do
		pl_run timeout 60 bash -c '
			for f in /proc/$$/fd/*; do
				fd=${f##*/}
				if [ "$fd" -gt 2 ]; then eval "exec $fd>&-"; fi
			done
			ulimit -n "$1" || exit 90
			exec env PIDLOCK_FILE="$2" LD_PRELOAD="$3" PIDLOCK_MODE=replace PIDLOCK_TIMEOUT=1 \
				"$4" note "$5" exit 0' _ "$n" "$PF" "$SHIM" "$PLPROG" "$T"
		echo "ulimit -n $n: status $status: $(cat "$T/err")"
		[ "$status" -ne 75 ] || fail "ulimit -n $n: 75, blaming a holder: $(cat "$T/err")"
		if [ "$n" -eq 4 ] || [ "$status" -ne 0 ]; then
			assert_status 71
			assert_one_pidlock_line "$PF"
			assert_err_matches 'descriptor|too many open files'
			proc_alive "$h" || fail "ulimit -n $n: the holder was signalled without being verified"
			assert_notes "$T" 0
		else
			# It managed: the holder was replaced. Start a new one.
			wait_status "$h"
			rm -f "$T"/ran.*
			start_shim "$PLPROG" sleep 60 >/dev/null 2>&1 </dev/null &
			h=$!
			track_pid "$h"
			await_pidfile "$PF" "$h"
		fi
	done
	# Control: with descriptors to spare, the same start replaces the holder.
	pl_shim -t 30 PIDLOCK_MODE=replace PIDLOCK_TIMEOUT=5 "$PLPROG" note "$T" exit 0
	assert_status 0
	assert_notes "$T" 1
}

# Sets $alive to how many of the PIDs given still run (a zombie, not yet
# reaped, has ended).
alive_count() {
	local p
	alive=0
	for p in "$@"; do
		[ -d "/proc/$p" ] && [ "$(awk '{print $3}' "/proc/$p/stat" 2>/dev/null)" != Z ] && alive=$((alive + 1))
	done
	return 0
}

# ---- stress with other users' locks (guarantees 1 and 12) ----

# The instance for the stress tests: bash under the shim, which runs
# external commands (fork + exec turns) while it is in main. Uses the marker
# protocol of plprog: 99 if another instance is in main, 98 if the marker
# vanished. $1: marker directory, $2: file to wait for (or "-": no wait).
write_stress_instance() {
	cat >"$T/inst.sh" <<-'EOF'
		set -C
		: >"$1/in-main" 2>/dev/null || exit 99
		: >"$1/ran.$$"
		/bin/true
		i=0
		if [ "$2" != - ]; then
			while [ ! -e "$2" ] && [ "$i" -lt 600 ]; do
				/bin/sleep 0.05
				i=$((i + 1))
			done
		fi
		/bin/rm "$1/in-main" || exit 98
		exit 0
	EOF
}

@test "attack stress: 200 simultaneous starters while another user holds a POSIX read lock: exactly one runs, nothing stalls" {
	# Guarantees 1 and 12: the stress, with an unprivileged user's POSIX
	# lock on the file.
	local i id st ok=0 refused=0 other=() pids=()
	local -A status_of=()
	mkdir "$T/m"
	: >"$PF"
	chmod 0644 "$PF"
	start_reader_lock posix "$PF"
	write_stress_instance
	barrier_close
	for ((i = 0; i < 200; i++)); do
		contender "$i" -- bash "$T/inst.sh" "$T/m" "$T/release"
		status_of[$!]=pending
		pids+=("$!")
		track_pid "$!"
	done
	wait_until '[ "$(lock_waiters "$T/barrier")" -ge 200 ]' 120 ||
		fail "only $(lock_waiters "$T/barrier") of 200 starters reached the barrier"
	arm_watchdog 60 "${pids[@]}"
	barrier_open
	# The winner runs external commands (fork + exec turns) until released.
	wait_until 'count_notes "$T/m"; [ "$notes" -ge 1 ]' 30 || fail "no instance ran"
	# The winner holds until every other starter has had its answer: a
	# starter slowed down by the machine must still meet the held lock
	# (releasing on a timer let a late one run, legitimately, after it).
	wait_until 'alive_count "${pids[@]}"; [ "$alive" -le 1 ]' 120 ||
		fail "$alive starters still running after 120 s"
	touch "$T/release"
	for id in "${pids[@]}"; do
		st=0
		wait "$id" 2>/dev/null || st=$?
		status_of[$id]=$st
	done
	disarm_watchdog
	for id in "${pids[@]}"; do
		case "${status_of[$id]}" in
		0) ok=$((ok + 1)) ;;
		75) refused=$((refused + 1)) ;;
		*) other+=("$id:${status_of[$id]}") ;;
		esac
	done
	echo "ran: $ok, refused: $refused, other: ${other[*]}"
	[ "${#other[@]}" -eq 0 ] || fail "unexpected statuses (137: stalled and killed after 60 s; 99: overlap): ${other[*]}"
	assert_notes "$T/m" 1
	[ "$ok" -eq 1 ] || fail "$ok instances ran"
	[ "$refused" -eq 199 ] || fail "$refused refused"
	refute_lock_held "$PF"
	stop_reader_lock posix
}

@test "attack stress: wait-mode handovers while another user keeps POSIX read locks on every PID file: never overlap, nothing stalls" {
	# Guarantees 1 and 12: wait handovers with removal, with an unprivileged
	# user's POSIX locks. The reader follows the path:
	# every new file an instance creates is read-locked as well.
	local i id st other=() pids=() ran_wait
	mkdir "$T/m"
	: >"$PF"
	chmod 0644 "$PF"
	start_reader_lock posix "$PF"
	write_stress_instance
	barrier_close
	for ((i = 0; i < 30; i++)); do
		contender "w$i" PIDLOCK_MODE=wait -- bash "$T/inst.sh" "$T/m" -
		pids+=("$!")
		track_pid "$!"
	done
	for ((i = 0; i < 30; i++)); do
		contender "f$i" -- bash "$T/inst.sh" "$T/m" -
		pids+=("$!")
		track_pid "$!"
	done
	wait_until '[ "$(lock_waiters "$T/barrier")" -ge 60 ]' 60 ||
		fail "only $(lock_waiters "$T/barrier") of 60 starters reached the barrier"
	arm_watchdog 60 "${pids[@]}"
	barrier_open
	for id in "${pids[@]}"; do
		st=0
		wait "$id" 2>/dev/null || st=$?
		case "$st" in
		0 | 75) ;;
		*) other+=("$id:$st") ;;
		esac
	done
	disarm_watchdog
	echo "the reader took $(grep -c '^locked' "$T/rdlock.posix.out") locks"
	[ "${#other[@]}" -eq 0 ] || fail "unexpected statuses (137: stalled and killed after 60 s; 99: overlap): ${other[*]}"
	for ((i = 0; i < 30; i++)); do
		[ ! -s "$T/err.w$i" ] || fail "wait-mode starter $i: $(cat "$T/err.w$i")"
	done
	count_notes "$T/m"
	ran_wait=$notes
	[ "$ran_wait" -ge 30 ] || fail "only $ran_wait instances ran; every wait-mode starter must"
	[ ! -e "$T/m/in-main" ]
	refute_lock_held "$PF"
	stop_reader_lock posix
}

@test "attack stress: another user's flock -s on the PID file refuses new starts with 75 (documented), and nothing hangs" {
	# Guarantee 12's documented exception: a reader's
	# flock -s keeps new instances from starting, as with flock(1).
	local i id st r pids=() bad=()
	: >"$PF"
	chmod 0644 "$PF"
	make_attacker
	as_attacker_exec flock -o -s "$PF" sleep 60 </dev/null >/dev/null 2>&1 3>&- &
	r=$!
	track_pid "$r"
	wait_until "lock_is_held '$PF'" 10 || fail "the other user's flock -s did not take the lock"
	pl_run timeout 20 env "PIDLOCK_FILE=$PF" "LD_PRELOAD=$SHIM" "$PLPROG" note "$T" exit 0
	assert_status 75
	assert_one_pidlock_line "$PF"
	pl_run timeout 20 env "PIDLOCK_FILE=$PF" "LD_PRELOAD=$SHIM" PIDLOCK_MODE=wait PIDLOCK_TIMEOUT=1 \
		"$PLPROG" note "$T" exit 0
	assert_status 75
	assert_one_pidlock_line "$PF" "timed out"
	# 50 at once: all refused, none stalls.
	for ((i = 0; i < 50; i++)); do
		(exec 3>&-; exec env "PIDLOCK_FILE=$PF" "LD_PRELOAD=$SHIM" "$PLPROG" note "$T" exit 0) \
			</dev/null >/dev/null 2>&1 &
		pids+=("$!")
		track_pid "$!"
	done
	arm_watchdog 60 "${pids[@]}"
	for id in "${pids[@]}"; do
		st=0
		wait "$id" 2>/dev/null || st=$?
		[ "$st" -eq 75 ] || bad+=("$id:$st")
	done
	disarm_watchdog
	[ "${#bad[@]}" -eq 0 ] || fail "not refused with 75: ${bad[*]}"
	assert_notes "$T" 0
	[ "$(stat -c %s "$PF")" -eq 0 ] || fail "the PID file was written while not locked: $(cat "$PF")"
	# Once the reader lets go, a start succeeds.
	kill -TERM "$r"
	wait "$r" 2>/dev/null || true
	wait_until "! lock_is_held '$PF'" 10
	pl_shim -t 30 "$PLPROG" note "$T" exit 0
	assert_status 0
	assert_notes "$T" 1
}
