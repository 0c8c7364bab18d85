# Fixtures for the fork, daemon, closefds, reexec and children bats files
# (issue 4). Load after test_helper: `load lib_fork`.
# shellcheck shell=bash
# Variables set here (PY, CHILD, OBSERVED, NAMED...) are read by the bats files.
# shellcheck disable=SC2034

PY=/usr/bin/python3 # not `python3` on PATH, which may be a pyenv shim script

# Runs CMD... in the background with the shim preloaded, stdout and stderr to
# OUT, bats' fd 3 closed (so a leftover process cannot hang bats). A simple
# command put in the background, so $! is the program's own PID. Sets BG_PID
# and tracks it. PIDLOCK_* variables set before the call are passed on.
shim_bg() {
	local out=$1
	shift
	PIDLOCK_FILE="${PIDLOCK_FILE:-$PF}" LD_PRELOAD="$SHIM" "$@" >"$out" 2>&1 3>&- &
	BG_PID=$!
	track_pid "$BG_PID"
}

# True if PID runs and is not a zombie (PID 1 here may never reap orphans,
# and a zombie holds no descriptor).
pid_alive() {
	local line state
	[ -n "$1" ] || return 1
	{ read -r line <"/proc/$1/stat"; } 2>/dev/null || return 1
	state=${line##*) }
	state=${state%% *}
	[ -n "$state" ] && [ "$state" != Z ] && [ "$state" != X ]
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
	pid_alive "$NAMED" || fail "PID file names $NAMED, which is not running"
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
