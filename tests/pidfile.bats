#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# Guarantee 4: the PID file holds exactly "PID\n" of the holder, readable by
# cat, pkill -F and start-stop-daemon; a reader never sees a partial number;
# a process that does not get the lock never writes the file; the file is
# removed at a clean exit only if the path still names the locked inode.

# shellcheck disable=SC2154 # $status, $err and $notes are set by test_helper.bash

load test_helper

bats_require_minimum_version 1.5.0

@test "pidfile: holds exactly PID and a newline of the holder (sleep started directly, \$!)" {
	start_shim sleep 30 >/dev/null 2>&1 &
	local h=$!
	track_pid "$h"
	wait_until "lock_is_held '$PF'"
	wait_until "[ -s '$PF' ]"
	assert_pidfile_is "$PF" "$h"
	[ "$(stat -c %s "$PF")" -eq $((${#h} + 1)) ]
	[ "$(cat "$PF")" = "$h" ]
	# Owned by us, not writable by group or others (else the next start
	# would refuse it as unsafe).
	[ "$(stat -c %u "$PF")" -eq "$(id -u)" ]
	[ $((0$(stat -c %a "$PF") & 022)) -eq 0 ] || fail "PID file mode $(stat -c %a "$PF")"
}

@test "pidfile: the C helper's own getpid() is the PID in the file" {
	start_shim "$PLPROG" writepid "$T/self" sleep 30 >/dev/null 2>&1 &
	local h=$!
	track_pid "$h"
	wait_until "[ -e '$T/self' ]"
	assert_pidfile_is "$T/self" "$h"
	assert_pidfile_is "$PF" "$h"
}

@test "pidfile: a stale file with longer content is taken over and holds exactly the new PID" {
	# Longer than any PID, and a second line as a crashed rewrite could
	# leave; still digits and newlines, so still a PID file (guarantee 9).
	printf '%s\n' 99999999999999 4242 >"$PF"
	chmod 0644 "$PF"
	start_shim "$PLPROG" sleep 30 >/dev/null 2>"$T/h.err" &
	local h=$!
	track_pid "$h"
	wait_until "lock_is_held '$PF'"
	await_pidfile "$PF" "$h"
	assert_pidfile_is "$PF" "$h"
	[ ! -s "$T/h.err" ]
}

@test "pidfile: with umask 000 the file is still private, and after a kill it is taken over" {
	local h
	umask 000
	start_shim "$PLPROG" sleep 30 >/dev/null 2>&1 &
	h=$!
	track_pid "$h"
	await_pidfile "$PF" "$h"
	[ $((0$(stat -c %a "$PF") & 022)) -eq 0 ] || fail "PID file mode $(stat -c %a "$PF") under umask 000"
	kill -KILL "$h"
	wait_status "$h"
	umask 022
	pl_shim "$PLPROG" note "$T" exit 0
	assert_status 0
	assert_no_stderr
	assert_notes "$T" 1
}

@test "pidfile: pkill -F stops the holder and nothing else" {
	sleep 30 >/dev/null 2>&1 3>&- &
	local decoy=$! h
	track_pid "$decoy"
	start_shim sleep 30 >/dev/null 2>&1 &
	h=$!
	track_pid "$h"
	await_pidfile "$PF" "$h"
	pl_run pkill -F "$PF"
	assert_status 0
	wait_status "$h"
	[ "$status" -eq 143 ] || fail "holder status $status"
	proc_alive "$decoy" || fail "pkill -F hit the decoy sleep"
	refute_lock_held "$PF"
}

@test "pidfile: start-stop-daemon --status/--stop --pidfile act on the holder only" {
	sleep 30 >/dev/null 2>&1 3>&- &
	local decoy=$! h
	track_pid "$decoy"
	start_shim sleep 30 >/dev/null 2>&1 &
	h=$!
	track_pid "$h"
	await_pidfile "$PF" "$h"
	pl_run start-stop-daemon --status --pidfile "$PF"
	assert_status 0
	pl_run start-stop-daemon --stop --pidfile "$PF" --retry TERM/5/KILL/5
	assert_status 0
	wait_status "$h"
	[ "$status" -eq 143 ] || fail "holder status $status"
	proc_alive "$decoy" || fail "start-stop-daemon hit the decoy sleep"
	pl_run start-stop-daemon --status --pidfile "$PF"
	[ "$status" -eq 1 ] || [ "$status" -eq 3 ] || fail "--status after stop: $status"
	# A stale file left by the kill is taken over by the next start.
	pl_shim "$PLPROG" exit 0
	assert_status 0
	assert_no_stderr
}

@test "pidfile: a concurrent reader (2000 reads) never sees a partial or non-numeric first line" {
	# Restarts: clean exits (file removed and created again), self-kills
	# (stale file taken over) and planted longer stale content, plus fail-mode
	# starters that hit the held lock and must not touch the file.
	cat >"$T/restarts.sh" <<-'EOF'
		inst() { PIDLOCK_FILE="$PF" LD_PRELOAD="$SHIM" "$PLPROG" "$@"; }
		i=0
		while [ ! -e "$T/stop" ] && [ "$i" -lt 600 ]; do
			i=$((i + 1))
			case $((i % 4)) in
			0) inst sleep 0.003 exit 0 ;;
			1) inst sleep 0.003 kill KILL ;;
			2) inst sleep 0.003 _exit 0 ;;
			3) inst sleep 0.003 kill KILL
			   printf '99999999\n' >"$PF.tmp" && mv -f "$PF.tmp" "$PF" ;;
			esac
		done 2>/dev/null
		echo "$i" >"$T/restarts"
	EOF
	cat >"$T/contenders.sh" <<-'EOF'
		i=0
		while [ ! -e "$T/stop" ] && [ "$i" -lt 600 ]; do
			i=$((i + 1))
			PIDLOCK_FILE="$PF" LD_PRELOAD="$SHIM" "$PLPROG" exit 0
		done 2>/dev/null
	EOF
	# The scripts run without the shim; the programs they start use it.
	export T PF PLPROG SHIM
	(exec 3>&-; exec bash "$T/restarts.sh") >/dev/null 2>&1 &
	local r=$!
	track_pid "$r"
	(exec 3>&-; exec bash "$T/contenders.sh") >/dev/null 2>&1 &
	local c=$!
	track_pid "$c"
	cat >"$T/reader.py" <<-'EOF'
		import os, re, sys, time
		path = sys.argv[1]
		ok = re.compile(rb"^[0-9]+\n")
		counts = {"absent": 0, "empty": 0, "numeric": 0}
		pids, bad = set(), []
		for _ in range(2000):
		    try:
		        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
		    except FileNotFoundError:
		        counts["absent"] += 1
		        time.sleep(0.0005)
		        continue
		    data = os.read(fd, 4096)
		    os.close(fd)
		    if data == b"":
		        counts["empty"] += 1
		    elif ok.match(data):
		        counts["numeric"] += 1
		        pids.add(data.split(b"\n")[0])
		    else:
		        bad.append(data)
		    time.sleep(0.0005)
		print(counts, "distinct PIDs:", len(pids))
		for b in bad[:10]:
		    print("BAD", repr(b))
		sys.exit(1 if bad else 0)
	EOF
	pl_run "$PYTHON" "$T/reader.py" "$PF"
	touch "$T/stop"
	wait "$r" || true
	wait "$c" || true
	cat "$T/out" "$T/err"
	echo "restarts: $(cat "$T/restarts" 2>/dev/null)"
	assert_status 0
	# The reader really overlapped many restarts.
	local out
	out=$(cat "$T/out")
	[[ $out =~ distinct\ PIDs:\ ([0-9]+) ]] || fail "no count of PIDs: $out"
	[ "${BASH_REMATCH[1]}" -ge 5 ] || fail "too few restarts were observed"
}

@test "pidfile: 50 refused starts neither truncate nor write the file (content, mtime, ctime unchanged)" {
	start_shim "$PLPROG" sleep 30 >/dev/null 2>&1 &
	local h=$! before
	track_pid "$h"
	await_pidfile "$PF" "$h"
	sleep 0.1
	before="$(file_stamp "$PF")"
	cat >"$T/refused.sh" <<-'EOF'
		bad=0
		for i in $(seq 50); do
			case $((i % 3)) in
			0) env PIDLOCK_FILE="$PF" LD_PRELOAD="$SHIM" "$PLPROG" exit 0 ;;
			1) env PIDLOCK_FILE="$PF" LD_PRELOAD="$SHIM" PIDLOCK_QUIET=1 "$PLPROG" exit 0 ;;
			2) env PIDLOCK_FILE="$PF" LD_PRELOAD="$SHIM" PIDLOCK_MODE=wait PIDLOCK_TIMEOUT=0.01 "$PLPROG" exit 0 ;;
			esac 2>/dev/null
			st=$?
			[ "$st" -eq 75 ] || { echo "start $i exited $st" >&2; bad=1; }
		done
		exit "$bad"
	EOF
	pl_run env T="$T" PF="$PF" SHIM="$SHIM" PLPROG="$PLPROG" bash "$T/refused.sh"
	assert_status 0
	[ "$(file_stamp "$PF")" = "$before" ] || fail "the file changed: $before -> $(file_stamp "$PF")"
	assert_pidfile_is "$PF" "$h"
}

@test "pidfile: not removed at exit when the path names another file by then" {
	start_shim "$PLPROG" waitfor "$T/go" exit 0 >/dev/null 2>"$T/h.err" &
	local h=$!
	track_pid "$h"
	await_pidfile "$PF" "$h"
	# Someone moves the file away and puts a new one (new inode) in its place.
	mv "$PF" "$PF.old"
	printf '999\n' >"$PF.new"
	mv "$PF.new" "$PF"
	touch "$T/go"
	wait_status "$h"
	assert_status 0
	[ ! -s "$T/h.err" ] || fail "holder stderr: $(cat "$T/h.err")"
	[ -e "$PF" ] || fail "the holder removed a file that was not its lock"
	assert_pidfile_is "$PF" 999
}

@test "pidfile: the holder exits normally when its file was deleted meanwhile" {
	start_shim "$PLPROG" waitfor "$T/go" exit 6 >/dev/null 2>"$T/h.err" &
	local h=$!
	track_pid "$h"
	await_pidfile "$PF" "$h"
	rm -f "$PF"
	touch "$T/go"
	wait_status "$h"
	assert_status 6
	[ ! -s "$T/h.err" ] || fail "holder stderr: $(cat "$T/h.err")"
	[ ! -e "$PF" ] || fail "a file was created again at exit"
}
