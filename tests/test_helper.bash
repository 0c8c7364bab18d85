# SPDX-License-Identifier: MIT
# shellcheck shell=bash
# Variables set here (PLPROG, H, NAMED, OBSERVED...) are read by the .bats files.
# shellcheck disable=SC2034
# The one fixture of every pidlock bats file. Load with: load test_helper
# Each test gets its own directory ($T) and PID-file path ($PF); processes a
# test starts are recorded with track_pid and ended by PID in teardown.
#
# One way for each thing:
#   run under the shim:      pl_shim [VAR=VALUE...] CMD...   (foreground, $status,
#                            stdout/stderr in $T/out, $T/err)
#                            start_shim CMD... >OUT 2>ERR &  (background, $! is CMD)
#   run without the shim:    pl_run CMD...
#   check a status:          assert_status N
#   wait for a condition:    wait_until 'CONDITION' [SECONDS]
#   wait for a PID file:     await_pidfile FILE PID
#   is a process running:    proc_alive PID
#   is a lock held:          lock_is_held FILE, lock_waiter FILE PID

# Loaded once, even by a file that still loads the old names (plprog, lib_fork).
[ -z "${PL_FIXTURE_LOADED:-}" ] || return 0
PL_FIXTURE_LOADED=1

ROOT="$(cd "$BATS_TEST_DIRNAME/.." && pwd)"
# PIDLOCK_TEST_BUILD runs the suite against another build of the same sources
# in a folder of its own (build/asan, build/cov: scripts/asan.sh,
# scripts/coverage.sh), a path relative to the root or absolute.
case "${PIDLOCK_TEST_BUILD:-build}" in
/*) BUILD="$PIDLOCK_TEST_BUILD" ;;
*) BUILD="$ROOT/${PIDLOCK_TEST_BUILD:-build}" ;;
esac
SHIM="$BUILD/libpidlock.so"
PIDLOCK="$BUILD/pidlock"
HELPERS="$BUILD/helpers"

# Nothing from the caller's environment may change what a test sees: no
# PIDLOCK_* variable (but the suite's own PIDLOCK_TEST_*), whichever the
# library knows today, and no preloaded library. Here for setup_file and
# the file's own code; common_setup again for each test.
pl_clean_env() {
	local v
	for v in $(compgen -e); do
		case $v in
		PIDLOCK_TEST_*) ;;
		PIDLOCK_* | LD_PRELOAD) unset "$v" ;;
		esac
	done
}
pl_clean_env

for _lib in bats-support bats-assert bats-file; do
	if [ -f "/usr/lib/bats/$_lib/load.bash" ]; then
		load "/usr/lib/bats/$_lib/load.bash"
	elif [ -f "/usr/lib/bats/$_lib/load" ]; then
		load "/usr/lib/bats/$_lib/load"
	else
		echo "missing $_lib: run scripts/test-deps.sh" >&2
		exit 1
	fi
done

common_setup() {
	[ -f "$SHIM" ] || fail "$SHIM is missing: run make"
	T="$(mktemp -d "${BATS_TMPDIR:-/tmp}/pidlock-test.XXXXXX")"
	chmod 0755 "$T"
	PF="$T/test.pid"
	TRACKED=()
	pl_clean_env
}

common_teardown() {
	local p
	for p in "${TRACKED[@]}"; do
		kill -KILL "$p" 2>/dev/null || true
	done
	for p in "${TRACKED[@]}"; do
		wait "$p" 2>/dev/null || true
	done
	[ -n "${T:-}" ] && rm -rf "$T"
}

setup() { common_setup; }
teardown() { common_teardown; }

# pl_copy_command FILE: a copy of the command that knows no folder outside
# the test, for tests that move it elsewhere and choose which libraries lie
# beside it. The folder compiled in as its last resort (PL_LIBDIR, make
# install's /usr/local/lib/pidlock) is replaced in the copy's bytes by a
# path of the same length that does not exist, so that whatever this
# machine has installed there never answers for a library the test left
# out on purpose. (A copy, not a rebuild: the suite may run against an
# instrumented build, PIDLOCK_TEST_BUILD.)
pl_copy_command() {
	local libdir none
	libdir=$(sed -n 's/^PL_LIBDIR=\([^ ]*\) .*/\1/p' "$BUILD/config.stamp" 2>/dev/null)
	[ -n "$libdir" ] || fail "no PL_LIBDIR in $BUILD/config.stamp: run make"
	none=/nonexistent-pidlock-test/$(printf '%*s' "${#libdir}" '' | tr ' ' x)
	none=${none:0:${#libdir}}
	LC_ALL=C perl -0777 -pe 'BEGIN { ($from, $to) = splice @ARGV, 0, 2 } s/\Q$from\E/$to/g' \
		"$libdir" "$none" <"$PIDLOCK" >"$1" || fail "cannot copy $PIDLOCK to $1"
	chmod 0755 "$1"
	! grep -qF "$libdir" "$1" || fail "$1 still names $libdir"
}

# pl_backends: the cluster backends the Makefile builds (its BACKENDS), one
# word each, so that a test about every plugin needs no list of its own.
pl_backends() {
	make -s --no-print-directory -C "$ROOT" print-sources | sed -n 's/^BACKENDS=//p'
}

# Remember a PID this test started, so teardown ends it (never by name).
track_pid() { TRACKED+=("$1"); }

# Wait (up to $2 seconds, default 10) until command $1 succeeds.
wait_until() {
	local cond="$1" limit="${2:-10}" i=0
	while ! eval "$cond"; do
		i=$((i + 1))
		[ "$i" -le $((limit * 20)) ] || return 1
		sleep 0.05
	done
}

# PIDLOCK_TEST_INSTRUMENTED names the instrumentation of the build under test
# (asan, coverage, or both comma-separated; scripts/qa-lib.sh sets it), empty
# for the real build. skip_if_instrumented KIND WHY skips the test in a build
# with that instrumentation (KIND "any": in every instrumented build).
skip_if_instrumented() {
	local kinds=${PIDLOCK_TEST_INSTRUMENTED:-}
	[ -n "$kinds" ] || return 0
	if [ "$1" = any ] || [[ ",$kinds," == *",$1,"* ]]; then
		skip "$2 (instrumented build: $kinds)"
	fi
}

# In a coverage build, a process of another user writes its counts next to the
# build's objects; where that user cannot reach them (a clone under a private
# home such as /root), gcov's runtime complains on the program's stderr.
# skip_if_counts_unwritable UID skips the test in that case only.
skip_if_counts_unwritable() {
	[[ ",${PIDLOCK_TEST_INSTRUMENTED:-}," == *",coverage,"* ]] || return 0
	setpriv --reuid="$1" --regid="$1" --clear-groups test -w "$BUILD" 2>/dev/null && return 0
	skip "UID $1 cannot write the coverage counts under $BUILD (instrumented build: $PIDLOCK_TEST_INSTRUMENTED)"
}

# Sets $lock_id to file $1 as /proc/locks names it: "MAJ:MIN:INODE", major and
# minor in hex (at least two digits) as the kernel prints them, so that a lock
# on the same inode number of another device is never taken for this one.
# stat's %D is the device number in the user-space encoding of glibc/Linux:
# minor = bits 0-7 and 20-31, major = bits 8-19 and 32-43.
lock_id_of() {
	local dev ino d
	read -r dev ino < <(stat -c '%D %i' "$1" 2>/dev/null) || return 1
	[ -n "$ino" ] || return 1
	d=$((16#$dev))
	printf -v lock_id '%02x:%02x:%s' \
		$((((d >> 8) & 0xfff) | ((d >> 32) & ~0xfff))) \
		$(((d & 0xff) | ((d >> 12) & ~0xff))) "$ino"
}

# True while some process holds the flock on file $1. Reads /proc/locks, so
# the probe never takes the lock and cannot make a starting instance fail.
lock_is_held() {
	local lock_id
	lock_id_of "$1" || return 1
	awk -v id="$lock_id" '$2 == "FLOCK" && $6 == id { found = 1 } END { exit !found }' /proc/locks
}

# ---- programs, running them, their status and stderr ----

PLPROG="$HELPERS/plprog"
# Not `python3` on PATH, which may be a pyenv shim script.
PYTHON=/usr/bin/python3

# Start a program under the shim as a background job whose $! is the
# program itself: `start_shim CMD... >out 2>err &`. (A function run with `&`
# is a subshell; `exec` makes the subshell become the program. Use it only
# with `&`.) fd 3 is closed so that bats does not wait for the job.
start_shim() {
	exec 3>&-
	PIDLOCK_FILE="${PIDLOCK_FILE:-$PF}" LD_PRELOAD="$SHIM" exec "$@"
}

# Run a command, stdout to $T/out and stderr to $T/err, status in $status.
# Never fails by itself. bats' fd 3 is closed, so that a daemon it leaves
# cannot hold bats' output open.
pl_run() {
	status=0
	"$@" >"$T/out" 2>"$T/err" </dev/null 3>&- || status=$?
}

# pl_run with the shim: PIDLOCK_FILE (default $PF) and LD_PRELOAD set.
# Leading VAR=VALUE arguments are passed to env(1) too: pl_shim PIDLOCK_MODE=wait CMD...
# (never "pl_shim env ...": that would put env(1) itself under the shim).
# pl_shim -t SECS ...: bounded, the command is ended after SECS seconds
# (status 124, or 137 five seconds later), so that a start that hangs fails
# the test instead of hanging it.
pl_shim() {
	local -a bound=()
	if [ "$1" = -t ]; then
		bound=(timeout -k 5 "$2")
		shift 2
	fi
	pl_run "${bound[@]}" env "PIDLOCK_FILE=${PIDLOCK_FILE-$PF}" "LD_PRELOAD=$SHIM" "$@"
}

assert_status() {
	[ "$status" -eq "$1" ] ||
		fail "exit status $status, expected $1; stderr: $(cat "$T/err" 2>/dev/null)"
}

assert_no_stderr() {
	[ ! -s "$T/err" ] || fail "stderr should be empty, got: $(cat "$T/err")"
}

# Process creation is slow on some machines, so the checks used in loops are
# bash builtins only (no command substitution, no subshell).

# Sets $err to the whole content of $T/err.
load_err() {
	err=""
	IFS= read -r -d '' err <"$T/err" || true
}

# True if $T/err holds exactly one newline-terminated line that starts with
# "pidlock: " and contains every argument (fixed strings). Sets $err.
one_pidlock_line() {
	local s
	load_err
	[[ $err == "pidlock: "*$'\n' ]] || return 1
	[[ ${err%$'\n'} != *$'\n'* ]] || return 1
	for s in "$@"; do
		[[ $err == *"$s"* ]] || return 1
	done
}

# True if $T/err is not empty and every line of it starts with "pidlock: ".
# Sets $err.
all_pidlock_lines() {
	local l
	load_err
	[ -n "$err" ] || return 1
	while IFS= read -r l; do
		[[ $l == "pidlock: "* ]] || return 1
	done <<<"${err%$'\n'}"
}

assert_one_pidlock_line() {
	one_pidlock_line "$@" ||
		fail "expected exactly one stderr line 'pidlock: ...' containing [$*], got: [$err]"
}

# $T/err holds exactly the line $1 (and its newline).
assert_err() {
	local e
	e="$(cat "$T/err"; printf x)"
	[ "$e" = "$1"$'\n'x ] || fail "stderr should be exactly [$1], is [${e%x}]"
}

# The one stderr line matches the extended regular expression $1 (any case).
assert_err_matches() {
	grep -Eqi -- "$1" "$T/err" || fail "stderr does not match /$1/i: $(cat "$T/err")"
}

# $1 holds exactly "PID\n" for PID $2.
assert_pidfile_is() {
	local c
	c="$(cat "$1" 2>/dev/null; printf x)"
	[ "$c" = "$2"$'\n'x ] || fail "$1 should hold exactly '$2\\n', holds: [${c%x}]"
}

# Wait (up to 30 s) until file $1 holds exactly "$2\n": the PID file of a
# holder started in the background, once that holder (and no earlier one)
# has written it. Fails the test with what the file held otherwise.
await_pidfile() {
	local i c
	for ((i = 0; i < 600; i++)); do
		c="$(cat "$1" 2>/dev/null; printf x)"
		[ "$c" = "$2"$'\n'x ] && return 0
		sleep 0.05
	done
	fail "$1 should come to hold exactly '$2\\n', holds: [${c%x}]"
}

# Wait until $1 holds "PID\n" for some PID and print that PID. Only where the
# PID is not known beforehand (a program that forks or daemonises); after
# starting a holder of known PID, use await_pidfile.
read_pidfile() {
	local i c re='^([0-9]+)'$'\n''x$'
	for ((i = 0; i < 200; i++)); do
		c="$(cat "$1" 2>/dev/null; printf x)"
		if [[ $c =~ $re ]]; then
			printf '%s\n' "${BASH_REMATCH[1]}"
			return 0
		fi
		sleep 0.05
	done
	return 1
}

# True while PID $1 exists and is not a zombie (PID 1 here may never reap
# orphans, and a zombie holds no descriptor). Builtins only: used in loops.
proc_alive() {
	local line state
	[ -n "$1" ] || return 1
	{ read -r line <"/proc/$1/stat"; } 2>/dev/null || return 1
	state=${line##*) }
	state=${state%% *}
	[ -n "$state" ] && [ "$state" != Z ] && [ "$state" != X ]
}

# True while process $1 sleeps in nanosleep or clock_nanosleep (sleep(1) in
# its main): the program has finished its constructors. Builtins only.
in_sleep() {
	local w="" s=""
	{ read -r w <"/proc/$1/wchan"; } 2>/dev/null || true
	[[ $w == *nanosleep* ]] && return 0
	{ read -r s _ <"/proc/$1/syscall"; } 2>/dev/null || true
	case "$(uname -m):$s" in
	x86_64:35 | x86_64:230 | aarch64:101 | aarch64:115) return 0 ;;
	esac
	return 1
}

# True while process $1 sleeps in open() of a FIFO, waiting for a reader.
in_fifo_open() {
	local w="" s=""
	{ read -r w <"/proc/$1/wchan"; } 2>/dev/null || true
	[ "$w" = wait_for_partner ] && return 0
	{ read -r s _ <"/proc/$1/syscall"; } 2>/dev/null || true
	[ "$(uname -m)" = x86_64 ] && { [ "$s" = 257 ] || [ "$s" = 2 ]; }
}

# Number of threads of process $1, in $threads.
count_threads() {
	local t
	threads=0
	for t in "/proc/$1/task"/*; do
		[ -e "$t" ] && threads=$((threads + 1))
	done
	return 0
}

# Start a holder of $PF under the shim in the background (stdout and stderr
# to $T/h.out and $T/h.err), $H its PID; returns once its PID is in the file
# and the lock is held.
start_shim_holder() {
	start_shim "$@" >"$T/h.out" 2>"$T/h.err" &
	H=$!
	track_pid "$H"
	await_pidfile "$PF" "$H"
	wait_until "lock_is_held '$PF'" || fail "holder $H does not hold the lock"
}

# Start `pidlock run ARGS...` as a background job whose $! is the command
# itself (pidlock execs it); stdout/stderr to $T/h.out and $T/h.err, $H its PID.
start_run() {
	"$PIDLOCK" run "$@" >"$T/h.out" 2>"$T/h.err" </dev/null 3>&- &
	H=$!
	track_pid "$H"
}

# Start a holder of $PF through `pidlock run` that is ready (its own PID in
# the file, lock held). A file left by an instance stopped in an earlier step
# still names that one until the new holder writes: await_pidfile waits for $H.
start_holder() {
	start_run -f "$PF" -- "$@"
	await_pidfile "$PF" "$H"
	wait_until "lock_is_held '$PF'" || fail "holder $H does not hold the lock: $(cat "$T/h.err")"
}

# Number of files ran.* (left by `plprog note DIR`) in directory $1, in $notes.
count_notes() {
	local f
	notes=0
	for f in "$1"/ran.*; do
		[ -e "$f" ] && notes=$((notes + 1))
	done
	return 0
}

# Fails unless directory $1 holds exactly $2 notes.
assert_notes() {
	count_notes "$1"
	[ "$notes" -eq "$2" ] || fail "$notes programs ran (notes in $1), expected $2"
}

# Nanoseconds since the epoch.
now_ns() { date +%s%N; }

# "size mtime ctime inode mode" of $1, to show that a file was left alone.
file_stamp() { stat -c '%s %.9Y %.9Z %i %a %u' "$1"; }

# Wait for background job $1 and set $status to its exit status.
wait_status() {
	status=0
	wait "$1" || status=$?
}

# True while process $2 is blocked waiting for the flock on file $1
# (a "->" entry in /proc/locks).
lock_waiter() {
	local lock_id
	lock_id_of "$1" || return 1
	awk -v id="$lock_id" -v pid="$2" '$2 == "->" && $3 == "FLOCK" && $6 == pid && $7 == id { found = 1 }
		END { exit !found }' /proc/locks
}

# Number of processes blocked on the flock of file $1.
lock_waiters() {
	local lock_id
	lock_id_of "$1" || { echo 0; return; }
	awk -v id="$lock_id" '$2 == "->" && $3 == "FLOCK" && $7 == id { c++ } END { print c + 0 }' /proc/locks
}

# A barrier for many background starters: barrier_close makes every
# `barrier_pass` (run in the starters) block in flock(1) until barrier_open.
barrier_close() {
	: >"$T/barrier"
	exec {BARRIER_FD}>"$T/barrier"
	flock -x "$BARRIER_FD"
}
barrier_pass() { flock -s "$T/barrier" true; }
barrier_open() {
	flock -u "$BARRIER_FD"
	exec {BARRIER_FD}>&-
}

# contender N [VAR=VALUE...] -- PROGRAM ARGS...: one instance of PROGRAM
# under the shim, started in the background behind the barrier; $! is the
# program's PID (the subshell execs env, which execs it). Its exit status is
# collected by the caller; stderr goes to $T/err.N.
contender() {
	local n="$1"
	shift
	local -a vars=()
	while [ "$1" != -- ]; do
		vars+=("$1")
		shift
	done
	shift
	(
		exec 3>&-
		barrier_pass
		exec env "PIDLOCK_FILE=$PF" "LD_PRELOAD=$SHIM" "${vars[@]}" "$@"
	) </dev/null >/dev/null 2>"$T/err.$n" &
}

# Fails if some process holds the flock on file $1.
refute_lock_held() {
	if lock_is_held "$1"; then
		fail "the lock on $1 is still held"
	fi
}

# Fail-mode starters hammering $PF in the background (at most 300), for
# windows in which the lock must stay held: start_contenders, then
# stop_contenders fails if any of them got in (status other than 75).
start_contenders() {
	cat >"$T/contenders.sh" <<-'SCRIPT'
		i=0
		while [ ! -e "$T/contenders.stop" ] && [ "$i" -lt 300 ]; do
			i=$((i + 1))
			env PIDLOCK_FILE="$PF" LD_PRELOAD="$SHIM" PIDLOCK_QUIET=1 "$PLPROG" note "$T/contenders.ran" exit 0
			echo "$?"
		done
	SCRIPT
	mkdir -p "$T/contenders.ran"
	rm -f "$T/contenders.stop"
	(exec 3>&-; export T PF SHIM PLPROG; exec bash "$T/contenders.sh") \
		>"$T/contenders.log" 2>&1 </dev/null &
	CONTENDERS=$!
	track_pid "$CONTENDERS"
	# At least one attempt before the caller goes on.
	wait_until "[ -s '$T/contenders.log' ]"
}
stop_contenders() {
	touch "$T/contenders.stop"
	wait "$CONTENDERS" || true
	local n bad
	n=$(wc -l <"$T/contenders.log")
	bad=$(grep -cvx 75 "$T/contenders.log" || true)
	echo "contenders: $n attempts, $bad not refused"
	[ "$n" -ge 1 ] || fail "no contender ran"
	[ "$bad" -eq 0 ] || fail "$bad contenders were not refused: $(sort "$T/contenders.log" | uniq -c)"
	count_notes "$T/contenders.ran"
	[ "$notes" -eq 0 ] || fail "$notes contenders ran their main"
}

# ---- forks, daemons, exec chains ----
# Variables set here (CHILD, OBSERVED, NAMED...) are read by the bats files.

# PIDs (one a line) of the processes with a descriptor open on file $1, also
# once it is unlinked (" (deleted)"): the lock's holders. One find(1), not a
# readlink per descriptor: process creation is slow.
holders_of() {
	find /proc/[0-9]*/fd/ -maxdepth 1 \( -lname "$1" -o -lname "$1 (deleted)" \) 2>/dev/null |
		cut -d/ -f3 | sort -un
}

# True if process PID has a descriptor open on the same inode as FILE.
holds_file() {
	local f
	for f in "/proc/$1/fd"/*; do
		[ "$f" -ef "$2" ] && return 0
	done
	return 1
}

# Prints the first line of the PID file $PF ('' if missing).
pf_pid() {
	local v=
	{ read -r v <"$PF"; } 2>/dev/null || true
	printf '%s\n' "$v"
}

# Waits until report file $1 is non-empty (at most $2 seconds, default 10).
wait_report() {
	wait_until "[ -s '$1' ]" "${2:-10}" || fail "no report $1 after ${2:-10} s"
}

# Prints the value of the first "KEY VALUE" line of report $1 for KEY $2.
report_value() {
	awk -v k="$2" '$1 == k { print $2; exit }' "$1"
}

# Reads a forker prefork report: sets MASTER, WORKERS (array), CHILD, and
# tracks every PID.
read_prefork_report() {
	local key pid
	MASTER='' CHILD='' WORKERS=()
	while read -r key pid; do
		case $key in
		master) MASTER=$pid ;;
		worker) WORKERS+=("$pid") ;;
		child) CHILD=$pid ;;
		esac
		track_pid "$pid"
	done <"$1"
	[ -n "$MASTER" ] || fail "no master in $1"
}

# True if word $1 is one of the following arguments.
one_of() {
	local w=$1 x
	shift
	for x in "$@"; do
		[ "$x" = "$w" ] && return 0
	done
	return 1
}

# Asserts that the PID file names a live process among the PIDs given, which
# holds a descriptor on the lock, and that the lock is held. Sets NAMED.
assert_named_holder() {
	NAMED=$(pf_pid)
	lock_is_held "$PF" || fail "lock is free (file says '$NAMED')"
	one_of "$NAMED" "$@" || fail "PID file names '$NAMED', not one of: $*"
	proc_alive "$NAMED" || fail "PID file names $NAMED, which is not running"
	holds_file "$NAMED" "$PF" || fail "PID file names $NAMED, which has no descriptor on it"
}

# Samples the lock while a re-exec chain runs, until report $3 exists:
# every sample must find the lock held (/proc/locks) and file $1 naming PID
# $2. At most $4 seconds (default 30) and 100000 samples. Sets OBSERVED.
observe_lock() {
	local file=$1 pid=$2 done=$3 limit=${4:-30} n=0 v start=$SECONDS
	OBSERVED=0
	while [ ! -s "$done" ]; do
		if ! lock_is_held "$file"; then
			echo "lock seen free at sample $n"
			return 1
		fi
		v=
		{ read -r v <"$file"; } 2>/dev/null || true
		if [ "$v" != "$pid" ]; then
			echo "PID file said '$v' at sample $n, expected $pid"
			return 1
		fi
		n=$((n + 1))
		if [ $((SECONDS - start)) -ge "$limit" ] || [ "$n" -ge 100000 ]; then
			echo "no end of the exec chain after $n samples"
			return 1
		fi
	done
	OBSERVED=$n
}
