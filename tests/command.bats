#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# The pidlock command, continued from cli.bats (pidlock(1)): option forms and values (getopt_long; -w/-r take SECS attached
# or as the next word, and no value ever becomes COMMAND), NAMEs ending in
# .pid, -q, `--` for status and stop, stop's removal of the PID file, holders
# outside the PID namespace, FIFOs never opened, escaped command lines, a
# tree-scope descendant that must not stop its ancestors, install paths that
# LD_PRELOAD cannot carry, and passwords hidden in cluster URIs.
# One behaviour per test.

# shellcheck disable=SC2154 # $status, $err and $notes are set by test_helper.bash
# shellcheck disable=SC2016 # sh -c scripts expand in the child, on purpose

load test_helper

bats_require_minimum_version 1.5.0

# A PID that is certainly not running: a child that has been reaped.
dead_pid() {
	sh -c 'exit 0' &
	local p=$!
	wait "$p" || true
	echo "$p"
}

# A holder that is not what the file names: flock(1) holds $PF while the file
# names a process that has exited (as a static program's launcher leaves it).
# Sets $H to flock's PID.
start_stale_holder() {
	flock -x "$PF" sleep 30 </dev/null >/dev/null 2>&1 3>&- &
	H=$!
	track_pid "$H"
	wait_until "lock_is_held '$PF'" || fail "flock(1) does not hold $PF"
	dead_pid >"$PF"
}

# ---- option forms ----

@test "run: -w 5, -w5, --wait=5, --wait 5, before or after -f, all set the wait limit" {
	start_holder "$PLPROG" sleep 30
	local form t0 ms
	local -a forms=(
		"-w 0.3 -f $PF --"
		"-w0.3 -f $PF --"
		"--wait=0.3 -f $PF --"
		"--wait 0.3 -f $PF --"
		"-f $PF -w 0.3 --"
		"-f $PF -w 0.3"
		"-f $PF --wait 0.3"
	)
	for form in "${forms[@]}"; do
		t0=$(now_ns)
		# shellcheck disable=SC2086 # split on purpose
		pl_run "$PIDLOCK" run $form "$PLPROG" note "$T" exit 0
		ms=$((($(now_ns) - t0) / 1000000))
		[ "$status" -eq 75 ] || fail "run $form: status $status, expected 75; stderr: $(cat "$T/err")"
		assert_one_pidlock_line "timed out"
		[ "$ms" -ge 250 ] || fail "run $form: gave up after $ms ms, before the 0.3 s limit"
		assert_notes "$T" 0
	done
	proc_alive "$H" || fail "the holder was disturbed"
}

@test "run: -r 1, -r1, --replace 1, --replace=1 all set the grace time before SIGKILL" {
	local form t0 ms
	local -a forms=("-r 1 -f $PF --" "-r1 -f $PF --" "--replace 1 -f $PF --" "-f $PF --replace=1")
	for form in "${forms[@]}"; do
		start_holder "$PLPROG" ignore TERM writepid "$T/ready" sleep 30
		wait_until "[ -e '$T/ready' ]" || fail "holder not ready"
		rm -f "$T/ready"
		t0=$(now_ns)
		# shellcheck disable=SC2086 # split on purpose
		pl_run "$PIDLOCK" run $form "$PLPROG" exit 0
		ms=$((($(now_ns) - t0) / 1000000))
		[ "$status" -eq 0 ] || fail "run $form: status $status; stderr: $(cat "$T/err")"
		wait_status "$H"
		[ "$status" -eq 137 ] || fail "run $form: old holder status $status, expected 137 (KILL)"
		[ "$ms" -lt 8000 ] || fail "run $form: took $ms ms, the 1 s grace time was not used"
	done
}

@test "run: a bare -w before another option waits forever, a bare -r gives the default" {
	start_holder "$PLPROG" waitfor "$T/go"
	"$PIDLOCK" run -w -f "$PF" -- "$PLPROG" note "$T" exit 0 >"$T/w.out" 2>"$T/w.err" </dev/null 3>&- &
	local w=$!
	track_pid "$w"
	wait_until "lock_waiter '$PF' $w" || fail "-w -f: $w is not waiting for the lock: $(cat "$T/w.err")"
	touch "$T/go"
	wait_status "$w"
	[ "$status" -eq 0 ] || fail "-w -f: status $status: $(cat "$T/w.err")"
	assert_notes "$T" 1
	start_holder "$PLPROG" sleep 30
	pl_run "$PIDLOCK" run -f "$PF" -r -- "$PLPROG" exit 0
	assert_status 0
	wait_status "$H"
	[ "$status" -eq 143 ] || fail "-r --: old holder status $status, expected 143 (TERM)"
}

@test "run: a word after -w or -r that is not SECS is refused with 64, never run as COMMAND" {
	local form
	local -a forms=(
		"-f $PF -w $PLPROG note $T exit 0"
		"-f $PF -r $PLPROG note $T exit 0"
		"-f $PF --wait $PLPROG note $T exit 0"
		"-w 5x -f $PF -- $PLPROG note $T exit 0"
		"-f $PF -w 5"
	)
	for form in "${forms[@]}"; do
		# shellcheck disable=SC2086 # split on purpose
		pl_run "$PIDLOCK" run $form
		[ "$status" -eq 64 ] || fail "run $form: status $status, expected 64; stderr: $(cat "$T/err")"
		one_pidlock_line || fail "run $form: stderr [$err]"
		assert_notes "$T" 0
	done
	[ ! -e "$PF" ] || fail "a refused run created $PF"
}

@test "run: a bad or missing value for any option is one line naming it, status 64" {
	local c word
	local -a cases=(
		"5x|-w 5x -f $PF -- true"
		"--wait=x|--wait=x -f $PF -- true"
		"-r|-r abc -f $PF -- true"
		"-s|-f $PF -s NOSIG -- true"
		"--signal|-f $PF --signal -- true"
		"-E|-f $PF -E 256 -- true"
		"-E|-f $PF -E"
		"--exit-code|-f $PF --exit-code=x -- true"
		"--scope|-f $PF --scope -- true"
		"--on-error|-f $PF --on-error=maybe -- true"
		"--quiet=1|-f $PF --quiet=1 -- true"
		"-f|run -f"
		"--bogus|-f $PF --bogus -- true"
		"-Z|-qZ -f $PF -- true"
		"-r|-w -r -f $PF -- true"
	)
	for c in "${cases[@]}"; do
		word=${c%%|*}
		# shellcheck disable=SC2086 # split on purpose
		pl_run "$PIDLOCK" run ${c#*|}
		[ "$status" -eq 64 ] || fail "run ${c#*|}: status $status, expected 64; stderr: $(cat "$T/err")"
		one_pidlock_line "$word" || fail "run ${c#*|}: expected one line naming [$word], got [$err]"
		[ ! -s "$T/out" ] || fail "run ${c#*|}: stdout: $(cat "$T/out")"
	done
	[ ! -e "$PF" ] || fail "a refused run created $PF"
}

@test "run --help shows every form of -w and -r and every exit status" {
	pl_run "$PIDLOCK" run --help
	assert_status 0
	local s
	for s in "-w 5" "-w5" "--wait=5" "--wait 5" "-r" "--" 75 64 71 73 78 126 127; do
		grep -qF -- "$s" "$T/out" || fail "run --help does not mention [$s]: $(cat "$T/out")"
	done
	pl_run "$PIDLOCK" stop --help
	grep -qF -- "--quiet" "$T/out" || fail "stop --help does not list --quiet"
}

# ---- NAMEs ending in .pid ----

@test "run, status, stop: a NAME ending in .pid is refused with a hint, no NAME.pid.pid" {
	mkdir -m 0700 "$T/xdg"
	local cmd
	for cmd in "run -f app.pid -- $PLPROG note $T exit 0" "status app.pid" "stop app.pid"; do
		# shellcheck disable=SC2086 # split on purpose
		pl_run env -C "$T" XDG_RUNTIME_DIR="$T/xdg" "$PIDLOCK" $cmd
		[ "$status" -eq 64 ] || fail "pidlock $cmd: status $status, expected 64; stderr: $(cat "$T/err")"
		assert_one_pidlock_line "./app.pid"
	done
	assert_notes "$T" 0
	[ -z "$(ls -A "$T/xdg")" ] || fail "files were created: $(ls -A "$T/xdg")"
	[ ! -e "$T/app.pid" ] || fail "$T/app.pid was created"
	# ./app.pid is a file here.
	pl_run env -C "$T" "$PIDLOCK" run -f ./app.pid -- "$PLPROG" note "$T" exit 0
	assert_status 0
	assert_notes "$T" 1
}

# ---- -q and -- ----

@test "run -q: no warning for a static program" {
	local libc
	libc="$(gcc -print-file-name=libc.a)"
	[ -f "$libc" ] || skip "libc.a is missing (install libc6-dev): cannot link a static program"
	gcc -static -std=c11 -D_GNU_SOURCE -O1 -o "$T/plstatic" "$ROOT/tests/helpers/plprog.c" -lm ||
		fail "gcc -static failed"
	pl_run "$PIDLOCK" run -f "$PF" -- "$T/plstatic" exit 0
	assert_status 0
	assert_one_pidlock_line "statically linked" # the warning exists without -q
	pl_run "$PIDLOCK" run -q -f "$PF" -- "$T/plstatic" exit 0
	assert_status 0
	assert_no_stderr
}

@test "stop -q and --quiet are accepted and stop the instance" {
	local q
	for q in -q --quiet; do
		start_holder "$PLPROG" sleep 30
		pl_run "$PIDLOCK" stop "$q" "$PF"
		[ "$status" -eq 0 ] || fail "stop $q: status $status: $(cat "$T/err")"
		assert_no_stderr
		wait_status "$H"
		[ "$status" -eq 143 ] || fail "stop $q: holder status $status, expected 143"
	done
}

@test "status and stop accept -- before FILE" {
	start_holder "$PLPROG" sleep 30
	pl_run "$PIDLOCK" status -- "$PF"
	assert_status 0
	grep -q "PID $H" "$T/out" || fail "status --: $(cat "$T/out")"
	pl_run "$PIDLOCK" stop -- "$PF"
	assert_status 0
	wait_status "$H"
	[ "$status" -eq 143 ] || fail "stop --: holder status $status, expected 143"
}

# ---- stop leaves no file (pidlock(1), stop) ----

@test "stop removes the PID file of a program that died of the signal: status then says 3" {
	start_holder "$PLPROG" sleep 30
	pl_run "$PIDLOCK" stop "$PF"
	assert_status 0
	wait_status "$H"
	[ "$status" -eq 143 ] || fail "holder status $status, expected 143 (died of TERM)"
	[ ! -e "$PF" ] || fail "the PID file stays after stop: $(cat "$PF")"
	pl_run "$PIDLOCK" status "$PF"
	assert_status 3
}

@test "stop acts on the real holders when the file is stale, then removes it" {
	start_stale_holder
	local named
	named=$(cat "$PF")
	pl_run "$PIDLOCK" status "$PF"
	assert_status 0
	grep -q "PID $H" "$T/out" || fail "status should name flock(1) $H, not $named: $(cat "$T/out")"
	pl_run "$PIDLOCK" stop "$PF"
	assert_status 0
	wait_status "$H"
	[ "$status" -ne 0 ] || fail "flock(1) was not stopped"
	[ ! -e "$PF" ] || fail "the stale PID file stays after stop"
	pl_run "$PIDLOCK" status "$PF"
	assert_status 3
}

@test "stop removes only a PID file of its own: other content and hard links are left intact" {
	printf 'not a pid file\n' >"$PF"
	local before
	before=$(file_stamp "$PF")
	pl_run "$PIDLOCK" stop "$PF"
	assert_status 0
	[ -e "$PF" ] || fail "stop removed a file that is not a PID file"
	[ "$(file_stamp "$PF")" = "$before" ] || fail "the file was changed"
	# A PID with a second name elsewhere (guarantee 9: several links).
	dead_pid >"$T/other.pid"
	ln "$T/other.pid" "$T/link.pid"
	pl_run "$PIDLOCK" stop "$T/link.pid"
	assert_status 0
	[ -e "$T/link.pid" ] || fail "stop removed a name of a file with two links"
}

# ---- processes that cannot be examined (guarantee 16) ----

@test "status says unknown (4), stop 1, when the processes cannot be examined" {
	start_stale_holder
	# Out of descriptors for the scan: the file names no holder, so status
	# must look at every process; "cannot tell" is never "running, PID
	# unknown" nor "not running". The lowest limits do not even let the
	# dynamic linker load libc (127); high ones leave enough (0).
	local n found=0
	for n in 5 6 7 8 9 10; do
		pl_run sh -c 'ulimit -n "$1"; exec "$2" status "$3"' sh "$n" "$PIDLOCK" "$PF"
		case $status in
		4)
			# Lower still, /proc/locks cannot be read, or the walk to
			# the file runs out (a descriptor per directory): unknown too.
			grep -q -e "cannot tell whether it is locked" -e "cannot examine the file" "$T/out" && continue
			grep -q "cannot examine the processes: out of descriptors" "$T/out" ||
				fail "ulimit -n $n: $(cat "$T/out")"
			found=1
			break
			;;
		127) ;;
		0) grep -q "PID $H" "$T/out" || fail "ulimit -n $n: status 0 without naming $H: $(cat "$T/out")" ;;
		*) fail "ulimit -n $n: status $status: $(cat "$T/out") $(cat "$T/err")" ;;
		esac
	done
	[ "$found" -eq 1 ] || fail "no descriptor limit made the scan fail"
	pl_run sh -c 'ulimit -n "$1"; exec "$2" stop --timeout 1 "$3"' sh "$n" "$PIDLOCK" "$PF"
	assert_status 1
	# grep, not one line: a coverage build's runtime complains too when it
	# cannot open its count files with so few descriptors.
	grep -q "^pidlock: .*out of descriptors" "$T/err" || fail "stop: stderr [$(cat "$T/err")]"
	proc_alive "$H" || fail "stop signalled although it could not examine the processes"
}

# ---- containers (guarantee 15) ----

# Run pidlock ARGS... in a new PID namespace with its own /proc.
in_pidns() {
	pl_run unshare --pid --fork --mount-proc "$PIDLOCK" "$@"
}

@test "status in a PID namespace: a holder outside it is running elsewhere, status 0" {
	unshare --pid --fork --mount-proc true 2>/dev/null || skip "unshare --pid --mount-proc is not permitted here"
	start_holder "$PLPROG" sleep 30
	in_pidns status "$PF"
	assert_status 0
	grep -qF "$PF: running outside this PID namespace (holder not visible here)" "$T/out" ||
		fail "status: $(cat "$T/out") $(cat "$T/err")"
}

@test "stop in a PID namespace: a holder outside it is not signalled, status 1" {
	unshare --pid --fork --mount-proc true 2>/dev/null || skip "unshare --pid --mount-proc is not permitted here"
	start_holder "$PLPROG" sleep 30
	in_pidns stop --timeout 1 "$PF"
	assert_status 1
	assert_one_pidlock_line "outside this PID namespace; not signalled"
	sleep 0.3
	proc_alive "$H" || fail "the holder outside the namespace was signalled"
	lock_is_held "$PF" || fail "the lock is gone"
	[ -e "$PF" ] || fail "the holder's PID file was removed"
	# -q: the same, silently.
	in_pidns stop -q --timeout 1 "$PF"
	assert_status 1
	assert_no_stderr
	proc_alive "$H"
}

# ---- FIFOs and devices are never opened (guarantee 9) ----

# A writer blocked in open(2) on the FIFO $1; sets $WRITER.
start_fifo_writer() {
	mkfifo "$1"
	sh -c 'echo hello >"$1"; echo "rc=$?" >"$2"' sh "$1" "$T/writer.rc" </dev/null >/dev/null 2>&1 3>&- &
	WRITER=$!
	track_pid "$WRITER"
	wait_until "in_fifo_open $WRITER" 10 || fail "the FIFO writer did not block in open"
}

@test "status on a FIFO: unknown (4) without opening it, a blocked writer stays blocked" {
	start_fifo_writer "$T/fifo.pid"
	pl_run timeout 10 "$PIDLOCK" status "$T/fifo.pid"
	assert_status 4
	grep -q "not a regular file" "$T/out" || fail "status: $(cat "$T/out")"
	sleep 0.5
	[ ! -e "$T/writer.rc" ] || fail "the writer was released: $(cat "$T/writer.rc")"
	proc_alive "$WRITER" || fail "the writer is gone"
	[ -p "$T/fifo.pid" ] || fail "the FIFO was replaced"
}

@test "stop on a FIFO: 1 without opening it, a blocked writer stays blocked" {
	start_fifo_writer "$T/fifo.pid"
	pl_run timeout 10 "$PIDLOCK" stop "$T/fifo.pid"
	assert_status 1
	assert_one_pidlock_line "not a regular file"
	sleep 0.5
	[ ! -e "$T/writer.rc" ] || fail "the writer was released: $(cat "$T/writer.rc")"
	proc_alive "$WRITER" || fail "the writer is gone"
	[ -p "$T/fifo.pid" ] || fail "the FIFO was removed"
}

# ---- escaped command lines ----

# A holder whose command line holds a newline, an escape sequence, "café"
# and a byte that is not UTF-8.
start_odd_holder() {
	start_holder "$PYTHON" -c 'import time; time.sleep(30)' $'forged\nline' $'\e[31mred' 'café' $'\xff\xfe'
}

@test "status escapes the holder's command line: one line, no escape sequence, UTF-8 kept" {
	start_odd_holder
	pl_run "$PIDLOCK" status "$PF"
	assert_status 0
	[ "$(wc -l <"$T/out")" -eq 1 ] || fail "status printed more than one line: $(cat -A "$T/out")"
	! grep -q $'\e' "$T/out" || fail "an ESC byte reached the output: $(cat -A "$T/out")"
	grep -qF 'forged\nline' "$T/out" || fail "newline not shown as \\n: $(cat -A "$T/out")"
	grep -qF '\x1b[31mred' "$T/out" || fail "ESC not shown as \\x1b: $(cat -A "$T/out")"
	grep -qF 'café' "$T/out" || fail "UTF-8 text not kept: $(cat -A "$T/out")"
	grep -qF '\xff\xfe' "$T/out" || fail "invalid bytes not shown as \\xNN: $(cat -A "$T/out")"
}

@test "status --json is valid JSON for any bytes in the command line" {
	start_odd_holder
	pl_run "$PIDLOCK" status --json "$PF"
	assert_status 0
	"$PYTHON" -c '
import json, sys
d = json.loads(open(sys.argv[1], "rb").read().decode("utf-8"))
c = d["command"]
assert "forged\nline" in c, c
assert "\x1b[31mred" in c, c
assert "café" in c, c
assert "\ufffd\ufffd" in c, c
' "$T/out" || fail "--json: $(cat -A "$T/out")"
}

# ---- a tree-scope descendant and its ancestors ----

@test "stop from a tree-scope descendant refuses to signal its own ancestor" {
	"$PIDLOCK" run --scope tree -f "$PF" -- sh -c \
		'"$1" stop --timeout 1 "$2" 2>"$3/stop.err"; echo "$?" >"$3/stop.rc"' \
		sh "$PIDLOCK" "$PF" "$T" </dev/null >/dev/null 2>&1 3>&- &
	local h=$!
	track_pid "$h"
	wait_status "$h"
	[ "$status" -eq 0 ] || fail "the holder sh ended with $status (signalled by its own descendant?)"
	[ -e "$T/stop.rc" ] || fail "the holder did not survive the stop"
	[ "$(cat "$T/stop.rc")" -eq 1 ] || fail "stop: status $(cat "$T/stop.rc"), expected 1"
	cp "$T/stop.err" "$T/err"
	assert_one_pidlock_line "descends from the holder" "PID $h"
}

# ---- install path ----

@test "run refuses a library path with a space or a colon (LD_PRELOAD cannot carry it): 71" {
	local d
	for d in "$T/with space" "$T/with:colon"; do
		mkdir -p "$d"
		cp "$PIDLOCK" "$SHIM" "$d/"
		pl_run "$d/pidlock" run -f "$PF" -- "$PLPROG" note "$T" exit 0
		[ "$status" -eq 71 ] || fail "$d: status $status, expected 71; stderr: $(cat "$T/err")"
		assert_one_pidlock_line "$d/libpidlock.so" "LD_PRELOAD"
		assert_notes "$T" 0
		[ ! -e "$PF" ] || fail "$d: the PID file was created"
	done
}

# ---- cluster URIs ----

# URIs whose password parameter has a percent-encoded key, on a loopback
# port where no server is expected (refused, or an authentication error:
# either way the message must not show the password).
secret_uris() {
	local port=$((40000 + RANDOM % 20000))
	printf '%s\n' \
		"postgresql://u@127.0.0.1:$port/db?pass%77ord=SECRET&connect_timeout=3#cmdtest" \
		"postgresql://u@127.0.0.1:$port/db?%70assword=SECRET&connect_timeout=3#cmdtest" \
		"postgresql://u@127.0.0.1:$port/db?connect_timeout=3&%70%61%73%73%77%6F%72%64=SECRET#cmdtest"
}

@test "cluster: the shim's message hides a password whose key is percent-encoded" {
	local uri
	while IFS= read -r uri; do
		PIDLOCK_FILE="$uri" pl_shim timeout 20 "$PLPROG" note "$T" exit 0
		[ "$status" -ne 0 ] || fail "$uri: the program ran without a server"
		all_pidlock_lines || fail "$uri: stderr [$err]"
		! grep -q SECRET "$T/err" || fail "the password is shown: $(cat "$T/err")"
		grep -q "127.0.0.1" "$T/err" || fail "the message does not name the server: $(cat "$T/err")"
	done < <(secret_uris)
	assert_notes "$T" 0
}

@test "cluster: status hides a password whose key is percent-encoded" {
	local uri
	while IFS= read -r uri; do
		pl_run timeout 20 "$PIDLOCK" status "$uri"
		[ "$status" -eq 4 ] || fail "$uri: status $status, expected 4 without a server"
		! grep -q SECRET "$T/out" "$T/err" || fail "the password is shown: $(cat "$T/out" "$T/err")"
		grep -q "127.0.0.1" "$T/out" "$T/err" || fail "status does not name the server: $(cat "$T/out" "$T/err")"
	done < <(secret_uris)
}
