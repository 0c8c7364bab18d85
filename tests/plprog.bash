# shellcheck shell=bash
# Fixture for the core test files (config, exclusion, release, pidfile, modes,
# exec, scope, files, inert, langs). Load after test_helper:
#   load test_helper
#   load plprog
# It adds the plprog helper and a few assertions on exit status and stderr.

# shellcheck disable=SC2034 # used by the .bats files that load this one
PLPROG="$HELPERS/plprog"
# shellcheck disable=SC2034
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
# Never fails by itself.
pl_run() {
	status=0
	"$@" >"$T/out" 2>"$T/err" </dev/null || status=$?
}

# pl_run with the shim: PIDLOCK_FILE (default $PF) and LD_PRELOAD set.
# Leading VAR=VALUE arguments are passed to env(1) too: pl_shim PIDLOCK_MODE=wait CMD...
# (never "pl_shim env ...": that would put env(1) itself under the shim).
pl_shim() {
	pl_run env "PIDLOCK_FILE=${PIDLOCK_FILE-$PF}" "LD_PRELOAD=$SHIM" "$@"
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

# Wait until $1 holds "PID\n" for some PID and print that PID.
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

# True while PID $1 exists and is not a zombie.
proc_alive() {
	local st
	st="$(awk '{ sub(/^.*\) /, ""); print $1 }' "/proc/$1/stat" 2>/dev/null)" || return 1
	[ -n "$st" ] && [ "$st" != Z ] && [ "$st" != X ]
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
	local ino
	ino=$(stat -c %i "$1" 2>/dev/null) || return 1
	awk -v ino="$ino" -v pid="$2" '$2 == "->" && $3 == "FLOCK" && $6 == pid {
		n = split($7, a, ":"); if (a[n] == ino) found = 1 }
		END { exit !found }' /proc/locks
}

# Number of processes blocked on the flock of file $1.
lock_waiters() {
	local ino
	ino=$(stat -c %i "$1" 2>/dev/null) || { echo 0; return; }
	awk -v ino="$ino" '$2 == "->" && $3 == "FLOCK" { n = split($7, a, ":"); if (a[n] == ino) c++ }
		END { print c + 0 }' /proc/locks
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
