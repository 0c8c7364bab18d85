#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# The pidlock command (pidlock(1), README "Usage" and "Replacing flock(1),
# run-one and start-stop-daemon"): `run` execs COMMAND in the same process
# with the library preloaded, every run option, static and setuid programs,
# `status` (LSB statuses, --quiet, --json, probes never disturb a start),
# `stop`, --help/--version/usage errors, interoperation with
# start-stop-daemon, pkill -F and kill, and an entr -r hot-reload loop.

# shellcheck disable=SC2154 # $status, $err and $notes are set by test_helper.bash
# shellcheck disable=SC2016 # sh -c scripts expand in the child, on purpose

load test_helper

bats_require_minimum_version 1.5.0

EMPTY="$BUILD/libempty.so"

# Number of entries of the LD_PRELOAD list $1 (':' or ' ' separated) equal to $2.
count_entries() {
	local list="$1" want="$2" e n=0
	local -a parts
	IFS=': ' read -r -a parts <<<"$list"
	for e in "${parts[@]}"; do
		[ "$e" = "$want" ] && n=$((n + 1))
	done
	echo "$n"
}

# The LD_PRELOAD that COMMAND sees under `pidlock run` when the caller's is $1
# ("-" for unset); prints it.
preload_seen() {
	local f="$T/preload.pid"
	if [ "$1" = - ]; then
		env -u LD_PRELOAD "$PIDLOCK" run -f "$f" -- sh -c 'printf "%s\n" "$LD_PRELOAD"'
	else
		LD_PRELOAD="$1" "$PIDLOCK" run -f "$f" -- sh -c 'printf "%s\n" "$LD_PRELOAD"'
	fi
}

@test "cli run: no wrapper stays behind: the PID in the file is COMMAND itself" {
	# The background job's $! is COMMAND itself: the PID in the file, comm sleep.
	"$PIDLOCK" run -f "$PF" -- sleep 30 3>&- &
	local p=$!
	track_pid "$p"
	await_pidfile "$PF" "$p"
	wait_until "[ \"\$(cat /proc/$p/comm 2>/dev/null)\" = sleep ]" 5 ||
		fail "/proc/$p/comm is $(cat "/proc/$p/comm" 2>/dev/null), expected sleep"
	[ "$(cat "/proc/$p/comm")" = sleep ]
	lock_is_held "$PF"
	# No child left behind either: sleep has no children.
	[ -z "$(cat "/proc/$p/task/$p/children" 2>/dev/null)" ] || fail "sleep $p has children"
	pkill -F "$PF"
	wait_status "$p"
	[ "$status" -eq 143 ] || fail "sleep ended with $status, expected 143 (TERM from pkill -F)"
	refute_lock_held "$PF"
}

@test "cli run: LD_PRELOAD holds the library exactly once, other entries kept" {
	# LD_PRELOAD: the absolute library path exactly once, other entries kept.
	local seen
	seen="$(preload_seen -)"
	[ "$seen" = "$SHIM" ] || fail "unset LD_PRELOAD: command saw [$seen]"
	local pre
	for pre in "$EMPTY" "$SHIM" "$EMPTY:$SHIM" "$SHIM:$EMPTY" "$EMPTY $SHIM" "$SHIM $EMPTY"; do
		seen="$(preload_seen "$pre")" || fail "run failed with LD_PRELOAD=[$pre]"
		[ "$(count_entries "$seen" "$SHIM")" -eq 1 ] ||
			fail "LD_PRELOAD=[$pre]: command saw [$seen], library not exactly once"
		[ "$(count_entries "$seen" "$EMPTY")" -eq "$(count_entries "$pre" "$EMPTY")" ] ||
			fail "LD_PRELOAD=[$pre]: command saw [$seen], existing entry lost"
	done
}

@test "cli run: exit status of COMMAND unchanged; 127 not found, 126 not executable" {
	# COMMAND's exit status comes back unchanged; 127 not found, 126 not executable.
	pl_run "$PIDLOCK" run -f "$PF" -- sh -c 'exit 42'
	assert_status 42
	assert_no_stderr
	pl_run "$PIDLOCK" run -f "$PF" -- "$PLPROG" exit 0
	assert_status 0
	pl_run "$PIDLOCK" run -f "$PF" -- "$T/no-such-command"
	assert_status 127
	assert_one_pidlock_line
	pl_run "$PIDLOCK" run -f "$PF" -- no-such-command-pidlock-test
	assert_status 127
	assert_one_pidlock_line
	: >"$T/not-executable"
	chmod 0644 "$T/not-executable"
	pl_run "$PIDLOCK" run -f "$PF" -- "$T/not-executable"
	assert_status 126
	assert_one_pidlock_line
	refute_lock_held "$PF"
}

@test "cli run: a bare NAME is \$XDG_RUNTIME_DIR/NAME.pid" {
	# A bare NAME: $XDG_RUNTIME_DIR/NAME.pid.
	mkdir -m 0700 "$T/xdg"
	XDG_RUNTIME_DIR="$T/xdg" start_run -f bare -- "$PLPROG" sleep 30
	await_pidfile "$T/xdg/bare.pid" "$H"
	XDG_RUNTIME_DIR="$T/xdg" pl_run "$PIDLOCK" run -f bare -- "$PLPROG" note "$T" exit 0
	assert_status 75
	assert_one_pidlock_line "$T/xdg/bare.pid" "PID $H"
	assert_notes "$T" 0
	XDG_RUNTIME_DIR="$T/xdg" pl_run "$PIDLOCK" status bare
	assert_status 0
	grep -q "$H" "$T/out" || fail "status bare: $(cat "$T/out")"
}

@test "cli run --wait: blocks until the holder ends, then runs" {
	# --wait: blocks until the holder ends, then runs.
	start_holder "$PLPROG" waitfor "$T/go"
	local holder=$H
	"$PIDLOCK" run --wait -f "$PF" -- "$PLPROG" note "$T" exit 0 >"$T/w.out" 2>"$T/w.err" </dev/null 3>&- &
	local w=$!
	track_pid "$w"
	wait_until "lock_waiter '$PF' $w" || fail "--wait: $w is not waiting for the lock"
	assert_notes "$T" 0
	touch "$T/go"
	wait_status "$w"
	[ "$status" -eq 0 ] || fail "--wait: status $status: $(cat "$T/w.err")"
	assert_notes "$T" 1
	wait_status "$holder"
	[ "$status" -eq 0 ]
}

@test "cli run --wait=0.5: gives up with 75 and says it timed out" {
	# --wait=0.5 gives up with 75 and says it timed out.
	start_holder "$PLPROG" sleep 30
	pl_run "$PIDLOCK" run --wait=0.5 -f "$PF" -- "$PLPROG" note "$T" exit 0
	assert_status 75
	assert_one_pidlock_line "timed out"
	assert_notes "$T" 0
	proc_alive "$H"
}

@test "cli run --replace: the holder gets TERM, the new instance runs" {
	start_holder "$PLPROG" sleep 30
	# --replace: the holder gets TERM, the new instance runs.
	pl_run "$PIDLOCK" run --replace -f "$PF" -- "$PLPROG" note "$T" exit 0
	assert_status 0
	assert_notes "$T" 1
	wait_status "$H"
	[ "$status" -eq 143 ] || fail "--replace: old holder status $status, expected 143 (TERM)"
}

@test "cli run --replace=1: a holder that ignores TERM gets SIGKILL after about 1 s" {
	# --replace=1 with a holder that ignores TERM: SIGKILL after about 1 s.
	start_holder "$PLPROG" ignore TERM writepid "$T/ready" sleep 30
	wait_until "[ -e '$T/ready' ]"
	local t0 t1 ms
	t0=$(now_ns)
	pl_run "$PIDLOCK" run --replace=1 -f "$PF" -- "$PLPROG" note "$T" exit 0
	t1=$(now_ns)
	assert_status 0
	assert_notes "$T" 1
	wait_status "$H"
	[ "$status" -eq 137 ] || fail "--replace=1: old holder status $status, expected 137 (KILL)"
	ms=$(((t1 - t0) / 1000000))
	echo "replace=1 took $ms ms"
	[ "$ms" -ge 800 ] || fail "--replace=1: SIGKILL after $ms ms, before the 1 s grace time"
	[ "$ms" -lt 8000 ] || fail "--replace=1: took $ms ms, the 1 s timeout was not used"
}

@test "cli run --signal INT: the holder catches SIGINT (not TERM) and ends by itself" {
	# --signal INT: the holder catches SIGINT (not TERM) and ends by itself.
	start_holder "$PLPROG" catch INT writepid "$T/ready2" sleep 30
	wait_until "[ -e '$T/ready2' ]"
	pl_run "$PIDLOCK" run --replace --signal INT -f "$PF" -- "$PLPROG" note "$T" exit 0
	assert_status 0
	assert_notes "$T" 1
	wait_status "$H"
	[ "$status" -eq 0 ] || fail "--signal INT: holder status $status, expected 0 (caught INT)"
	grep -qx "caught 2" "$T/h.out" || fail "--signal INT: holder output: $(cat "$T/h.out")"
}

@test "cli run --exit-code 3, -E 3, -q, --quiet: the status on conflict, no message when quiet" {
	# --exit-code 3 (and -E 3), -q: status on conflict, no message.
	start_holder "$PLPROG" sleep 30
	pl_run "$PIDLOCK" run --exit-code 3 -f "$PF" -- "$PLPROG" note "$T" exit 0
	assert_status 3
	assert_one_pidlock_line "already running as PID $H"
	pl_run "$PIDLOCK" run -E 3 -f "$PF" -- "$PLPROG" note "$T" exit 0
	assert_status 3
	pl_run "$PIDLOCK" run -q -f "$PF" -- "$PLPROG" note "$T" exit 0
	assert_status 75
	assert_no_stderr
	pl_run "$PIDLOCK" run --quiet --exit-code 3 -f "$PF" -- "$PLPROG" note "$T" exit 0
	assert_status 3
	assert_no_stderr
	assert_notes "$T" 0
	kill -KILL "$H"
	wait "$H" || true
}

@test "cli run -v: a line with \"acquired\"; without -v, silent" {
	# -v: a line with "acquired".
	pl_run "$PIDLOCK" run -v -f "$PF" -- "$PLPROG" exit 0
	assert_status 0
	all_pidlock_lines || fail "-v: stderr [$err]"
	grep -q acquired "$T/err" || fail "-v: no 'acquired' line: $(cat "$T/err")"
	# Without -v: silent.
	pl_run "$PIDLOCK" run -f "$PF" -- "$PLPROG" exit 0
	assert_status 0
	assert_no_stderr
}

@test "cli run --scope tree: a background child keeps the lock after the command exits" {
	# --scope tree: a background child keeps the lock after the command exits.
	pl_run "$PIDLOCK" run --scope tree -f "$PF" -- sh -c '"$1" sleep 30 3>&- & echo $! >"$2"' sh "$PLPROG" "$T/child"
	assert_status 0
	local c
	c=$(cat "$T/child")
	track_pid "$c"
	proc_alive "$c"
	lock_is_held "$PF" || fail "--scope tree: the lock was released while child $c runs"
	pl_run "$PIDLOCK" run -f "$PF" -- "$PLPROG" note "$T" exit 0
	assert_status 75
	assert_notes "$T" 0
	kill -KILL "$c"
	wait_until "! lock_is_held '$PF'" || fail "--scope tree: lock still held after child $c ended"
}

@test "cli run: in process scope, the same background child does not keep the lock" {
	# Contrast: process scope, the same child does not keep it.
	pl_run "$PIDLOCK" run -f "$PF" -- sh -c '"$1" sleep 30 3>&- & echo $! >"$2"' sh "$PLPROG" "$T/child"
	assert_status 0
	local c
	c=$(cat "$T/child")
	track_pid "$c"
	proc_alive "$c"
	wait_until "! lock_is_held '$PF'" || fail "process scope: child $c keeps the lock"
	# A new instance runs while the child does.
	pl_run "$PIDLOCK" run -f "$PF" -- "$PLPROG" note "$T" exit 0
	assert_status 0
	assert_notes "$T" 1
	proc_alive "$c"
}

@test "cli run --on-error run with an unsafe file (a FIFO): runs, one warning line" {
	# --on-error run with an unsafe file (a FIFO): runs, one warning line.
	mkfifo "$T/fifo"
	pl_run timeout 10 "$PIDLOCK" run -f "$T/fifo" -- "$PLPROG" note "$T" exit 0
	assert_status 73
	assert_one_pidlock_line "$T/fifo"
	assert_notes "$T" 0
	pl_run timeout 10 "$PIDLOCK" run --on-error run -f "$T/fifo" -- "$PLPROG" note "$T" exit 0
	assert_status 0
	assert_one_pidlock_line "$T/fifo"
	assert_notes "$T" 1
	[ -p "$T/fifo" ] || fail "the FIFO was replaced"
}

@test "cli run: a static binary and a setuid program are guarded by the inherited lock, one warning each" {
	# Static binary.
	local libc
	libc="$(gcc -print-file-name=libc.a)"
	[ -f "$libc" ] || skip "libc.a is missing (install libc6-dev): cannot link a static program"
	gcc -static -std=c11 -D_GNU_SOURCE -O1 -o "$T/plstatic" "$ROOT/tests/helpers/plprog.c" -lm ||
		fail "gcc -static failed"
	if readelf -l "$T/plstatic" | grep -q INTERP; then
		fail "$T/plstatic has a program interpreter: not static"
	fi
	start_holder "$T/plstatic" note "$T" waitfor "$T/go"
	wait_until "[ -e '$T/ran.$H' ]" || fail "the static program did not run"
	lock_is_held "$PF"
	pl_run "$PIDLOCK" run -f "$PF" -- "$T/plstatic" exit 0
	assert_status 75
	assert_one_pidlock_line "PID $H"
	lock_is_held "$PF" || fail "static: the lock was dropped while the program runs"
	touch "$T/go"
	wait_status "$H"
	[ "$status" -eq 0 ] || fail "static program status $status"
	refute_lock_held "$PF"
	cp "$T/h.err" "$T/err"
	assert_one_pidlock_line "statically linked"
	rm -f "$T/go" "$PF"

	# Setuid program: secure mode (euid != uid) makes the library unreachable.
	[ "$(id -u)" -eq 0 ] || skip "the setuid part needs root (chown nobody)"
	if findmnt -no OPTIONS --target "$T" | grep -qw nosuid; then
		skip "$T is on a nosuid mount: the setuid bit would have no effect"
	fi
	cp "$PLPROG" "$T/suid"
	chown nobody "$T/suid"
	chmod 4755 "$T/suid"
	start_holder "$T/suid" secure waitfor "$T/go"
	wait_until "grep -q secure '$T/h.out'" || fail "setuid copy printed nothing"
	grep -qx "secure 1" "$T/h.out" || fail "setuid copy not in secure mode: $(cat "$T/h.out")"
	lock_is_held "$PF"
	pl_run "$PIDLOCK" run -f "$PF" -- "$PLPROG" note "$T" exit 0
	assert_status 75
	assert_notes "$T" 1 # only the static program's note
	lock_is_held "$PF" || fail "setuid: the lock was dropped while the program runs"
	touch "$T/go"
	wait_status "$H"
	[ "$status" -eq 0 ] || fail "setuid program status $status"
	refute_lock_held "$PF"
	cp "$T/h.err" "$T/err"
	assert_one_pidlock_line "setuid"
}

@test "cli status: running: 0, with the PID, the command line and since" {
	start_holder "$PLPROG" sleep 30
	pl_run "$PIDLOCK" status "$PF"
	assert_status 0
	grep -q "$H" "$T/out" || fail "status: no PID: $(cat "$T/out")"
	grep -qF "$PLPROG sleep 30" "$T/out" || fail "status: no command line: $(cat "$T/out")"
	grep -q since "$T/out" || fail "status: no 'since': $(cat "$T/out")"
}

@test "cli status --quiet: running is 0 and prints nothing" {
	start_holder "$PLPROG" sleep 30
	pl_run "$PIDLOCK" status --quiet "$PF"
	assert_status 0
	[ ! -s "$T/out" ] || fail "--quiet printed: $(cat "$T/out")"
	assert_no_stderr
}

@test "cli status --json: running: pid, command, started, status" {
	start_holder "$PLPROG" sleep 30
	pl_run "$PIDLOCK" status --json "$PF"
	assert_status 0
	H="$H" PLPROG="$PLPROG" "$PYTHON" -c '
import json, os, sys
d = json.load(sys.stdin)
assert d["pid"] == int(os.environ["H"]), d
assert os.environ["PLPROG"] + " sleep 30" in d["command"], d
assert isinstance(d["started"], (int, float)) and d["started"] > 0, d
assert d["status"] == 0, d
' <"$T/out" || fail "--json: $(cat "$T/out")"
}

@test "cli status: a stale file (holder killed) is 1, also with --json" {
	start_holder "$PLPROG" sleep 30
	# Stale file: the holder was killed with SIGKILL, the file stays.
	kill -KILL "$H"
	wait "$H" || true
	[ -e "$PF" ] || fail "the PID file vanished after SIGKILL"
	pl_run "$PIDLOCK" status "$PF"
	assert_status 1
	pl_run "$PIDLOCK" status --json "$PF"
	assert_status 1
	"$PYTHON" -c 'import json,sys; d=json.load(sys.stdin); assert d["status"] == 1, d' \
		<"$T/out" || fail "--json stale: $(cat "$T/out")"
}

@test "cli status: no file is 3, also with --quiet" {
	# No file.
	pl_run "$PIDLOCK" status "$PF"
	assert_status 3
	pl_run "$PIDLOCK" status --quiet "$PF"
	assert_status 3
	[ ! -s "$T/out" ] || fail "--quiet printed: $(cat "$T/out")"
}

@test "cli status: a directory at the path is unknown (4)" {
	# Unknown: a directory at the path.
	mkdir "$T/dir.pid"
	pl_run "$PIDLOCK" status "$T/dir.pid"
	assert_status 4
}

@test "cli status: a file the caller cannot read is unknown (4)" {
	# Unknown: a file the caller cannot read.
	[ "$(id -u)" -eq 0 ] || skip "the unreadable-file part needs root (setpriv to nobody)"
	echo 12345 >"$T/locked.pid"
	chmod 000 "$T/locked.pid"
	pl_run setpriv --reuid=nobody --regid=nogroup --clear-groups "$PIDLOCK" status "$T/locked.pid"
	assert_status 4
}

@test "cli status: 1000 probes while instances start one after another make none fail (guarantee 11)" {
	cat >"$T/probe.sh" <<-'SCRIPT'
		i=0
		while [ "$i" -lt 1000 ]; do
			i=$((i + 1))
			"$PIDLOCK" status --quiet "$PF"
			echo "$?"
		done
		touch "$T/probe.done"
	SCRIPT
	(
		exec 3>&-
		export T PF PIDLOCK
		exec bash "$T/probe.sh"
	) >"$T/probe.log" 2>"$T/probe.err" </dev/null &
	local probe=$!
	track_pid "$probe"
	# Starters: at least 100, and on until the probes are done (at most 2000).
	local n=0 bad=0 rc
	while [ "$n" -lt 2000 ]; do
		if [ "$n" -ge 100 ] && [ -e "$T/probe.done" ]; then
			break
		fi
		n=$((n + 1))
		rc=0
		"$PIDLOCK" run -f "$PF" -- "$PLPROG" exit 0 2>>"$T/start.err" || rc=$?
		if [ "$rc" -ne 0 ]; then
			bad=$((bad + 1))
			echo "start $n: status $rc" >>"$T/start.bad"
		fi
	done
	wait "$probe" || true
	local probes
	probes=$(wc -l <"$T/probe.log")
	echo "starts: $n, failed: $bad; probes: $probes: $(sort "$T/probe.log" | uniq -c | tr '\n' ' ')"
	[ "$bad" -eq 0 ] || fail "$bad of $n starts failed: $(head -5 "$T/start.bad"); $(head -5 "$T/start.err")"
	[ "$n" -ge 100 ] || fail "only $n starts"
	[ "$probes" -eq 1000 ] || fail "only $probes probes ran"
	# Probes report a state, never "unknown" (4) or a usage error.
	local odd
	odd=$(grep -cvxE '0|1|3' "$T/probe.log" || true)
	[ "$odd" -eq 0 ] || fail "$odd probes gave an unexpected status: $(sort "$T/probe.log" | uniq -c | tr '\n' ' ')"
}

@test "cli stop: stops the instance (TERM) and removes the file" {
	start_holder "$PLPROG" sleep 30
	pl_run "$PIDLOCK" stop "$PF"
	assert_status 0
	refute_lock_held "$PF"
	wait_status "$H"
	[ "$status" -eq 143 ] || fail "stopped holder status $status, expected 143 (TERM)"
	pl_run "$PIDLOCK" status "$PF"
	assert_status 3 # stop removed the file (pidlock(1), stop)
}

@test "cli stop: nothing running is 0 (a stale file, then no file)" {
	# Nothing running: 0 (stale file, then no file).
	echo 1 >"$PF"
	pl_run "$PIDLOCK" stop "$PF"
	assert_status 0
	pl_run "$PIDLOCK" stop "$PF"
	assert_status 0
}

@test "cli stop: a holder that ignores TERM is killed after --timeout" {
	# A holder that ignores TERM is killed after --timeout 1.
	start_holder "$PLPROG" ignore TERM writepid "$T/ready" sleep 30
	wait_until "[ -e '$T/ready' ]"
	pl_run "$PIDLOCK" stop --timeout 1 "$PF"
	assert_status 0
	refute_lock_held "$PF"
	wait_status "$H"
	[ "$status" -eq 137 ] || fail "holder ignoring TERM: status $status, expected 137 (KILL)"
}

@test "cli stop: a reused PID in a stale file is spared" {
	# PID reuse: the stale file names an unrelated process; it is not signalled.
	sleep 30 3>&- &
	local s=$!
	track_pid "$s"
	printf '%s\n' "$s" >"$PF"
	pl_run "$PIDLOCK" stop --timeout 1 "$PF"
	assert_status 0
	# A signal sent would end it at once: give it a second to show.
	! wait_until "! proc_alive $s" 1 || fail "stop signalled the unrelated PID $s"
	kill -0 "$s" || fail "stop signalled the unrelated PID $s"
	proc_alive "$s" || fail "the unrelated sleep $s is gone"
	pl_run "$PIDLOCK" status "$PF"
	assert_status 3 # the stale file is gone, the process left alone
}

@test "cli: --help on every subcommand, --version, usage errors exit 64 with one hint line" {
	local args
	for args in "--help" "-h" "run --help" "status --help" "stop --help"; do
		# shellcheck disable=SC2086 # split on purpose
		pl_run "$PIDLOCK" $args
		[ "$status" -eq 0 ] || fail "pidlock $args: status $status"
		grep -qi usage "$T/out" || fail "pidlock $args: no usage on stdout: $(cat "$T/out")"
	done
	pl_run "$PIDLOCK" run --help
	grep -qF -- '--replace' "$T/out" || fail "run --help does not list --replace"
	pl_run "$PIDLOCK" --version
	assert_status 0
	grep -q '^pidlock ' "$T/out" || fail "--version: $(cat "$T/out")"

	local -a cases=(
		""
		"bogus"
		"--bogus"
		"run --bogus -f $PF -- true"
		"run -- true"
		"run $PLPROG"
		"run -f $PF"
		"run -f $PF --"
		"run --scope bogus -f $PF -- true"
		"status"
		"status --bogus $PF"
		"stop"
		"stop --bogus $PF"
	)
	local c
	for c in "${cases[@]}"; do
		# shellcheck disable=SC2086 # split on purpose
		pl_run "$PIDLOCK" $c
		[ "$status" -eq 64 ] || fail "pidlock $c: status $status, expected 64; stderr: $(cat "$T/err")"
		one_pidlock_line "try 'pidlock" || fail "pidlock $c: stderr [$err]"
		[ ! -s "$T/out" ] || fail "pidlock $c: stdout: $(cat "$T/out")"
	done
	refute_lock_held "$PF"
}

@test "cli interop: start-stop-daemon --status/--stop, pkill -F, kill \$(cat FILE)" {
	command -v start-stop-daemon >/dev/null || skip "start-stop-daemon is not installed (dpkg)"
	start_holder "$PLPROG" sleep 30
	pl_run start-stop-daemon --status --pidfile "$PF"
	assert_status 0
	pl_run start-stop-daemon --stop --pidfile "$PF" --retry 10
	assert_status 0
	wait_status "$H"
	[ "$status" -eq 143 ] || fail "start-stop-daemon --stop: status $status, expected 143"
	refute_lock_held "$PF"
	pl_run start-stop-daemon --status --pidfile "$PF"
	[ "$status" -eq 1 ] || [ "$status" -eq 3 ] || fail "--status after stop: $status"
	rm -f "$PF"
	pl_run start-stop-daemon --status --pidfile "$PF"
	[ "$status" -eq 3 ] || [ "$status" -eq 1 ] || fail "--status without file: $status"

	start_holder "$PLPROG" sleep 30
	kill "$(cat "$PF")"
	wait_status "$H"
	[ "$status" -eq 143 ] || fail "kill \$(cat FILE): status $status, expected 143"
	refute_lock_held "$PF"

	start_holder "$PLPROG" sleep 30
	pkill -F "$PF"
	wait_status "$H"
	[ "$status" -eq 143 ] || fail "pkill -F: status $status, expected 143"
	refute_lock_held "$PF"
}

@test "cli hot reload: entr -r with pidlock run --wait never has two instances alive, one at the end" {
	command -v entr >/dev/null || skip "entr is not installed (scripts/test-deps.sh installs it)"
	mkdir "$T/m" "$T/starts"
	cat >"$T/app.py" <<-'PY'
		import os, signal, sys, time
		d = sys.argv[1]
		marker = os.path.join(d, "in-main")
		def term(signum, frame):
		    raise SystemExit(0)
		signal.signal(signal.SIGTERM, term)
		created = False
		signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})
		try:
		    os.close(os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644))
		except FileExistsError:
		    open(os.path.join(d, "overlap.%d" % os.getpid()), "w").close()
		    sys.exit(99)
		created = True
		open(os.path.join(sys.argv[2], "start.%d" % os.getpid()), "w").close()
		try:
		    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM})
		    time.sleep(60)
		finally:
		    if created:
		        os.unlink(marker)
	PY
	touch "$T/watched"
	echo "$T/watched" | entr -n -r "$PIDLOCK" run --wait=10 -f "$PF" -- \
		"$PYTHON" "$T/app.py" "$T/m" "$T/starts" >"$T/entr.out" 2>"$T/entr.err" 3>&- &
	local e=$!
	track_pid "$e"
	wait_until "lock_is_held '$PF' && [ -e '$T/m/in-main' ]" 10 || fail "first instance did not start: $(cat "$T/entr.err")"
	local i
	for ((i = 0; i < 20; i++)); do
		touch "$T/watched"
		sleep 0.3
	done
	wait_until "lock_is_held '$PF' && [ -e '$T/m/in-main' ]" 15 || fail "no instance runs at the end"
	sleep 0.5
	pl_run "$PIDLOCK" status "$PF"
	assert_status 0
	local last
	last=$(read_pidfile "$PF")
	track_pid "$last"
	local starts=0 f
	for f in "$T/starts"/start.*; do
		[ -e "$f" ] && starts=$((starts + 1))
	done
	local overlaps=0
	for f in "$T/m"/overlap.*; do
		[ -e "$f" ] && overlaps=$((overlaps + 1))
	done
	# Exactly one running: the instance the file names, and no other app.py.
	local alive=0
	for f in "$T/starts"/start.*; do
		proc_alive "${f##*.}" && alive=$((alive + 1))
	done
	echo "starts: $starts, overlaps: $overlaps, alive: $alive"
	proc_alive "$last" || fail "the instance named by $PF is gone"
	kill -TERM "$e"
	wait "$e" || true
	[ "$overlaps" -eq 0 ] || fail "$overlaps instances found another one alive (marker existed): $(cat "$T/entr.err")"
	[ "$starts" -ge 2 ] || fail "entr restarted nothing ($starts starts): $(cat "$T/entr.err")"
	[ "$alive" -eq 1 ] || fail "$alive instances alive at the end, expected 1"
}
