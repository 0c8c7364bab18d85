# Shared fixture for every pidlock bats file. Load with: load test_helper
# Each test gets its own directory ($T) and PID-file path ($PF); processes a
# test starts are recorded with track_pid and ended by PID in teardown.

ROOT="$(cd "$BATS_TEST_DIRNAME/.." && pwd)"
# PIDLOCK_TEST_BUILD runs the suite against another build of the same sources
# in a folder of its own (build/asan, build/cov: scripts/asan.sh,
# scripts/coverage.sh), a path relative to the root or absolute.
case "${PIDLOCK_TEST_BUILD:-build}" in
/*) BUILD="$PIDLOCK_TEST_BUILD" ;;
*) BUILD="$ROOT/${PIDLOCK_TEST_BUILD:-build}" ;;
esac
SHIM="$BUILD/libpidlock.so"
# shellcheck disable=SC2034 # used by the .bats files
PIDLOCK="$BUILD/pidlock"
# shellcheck disable=SC2034
HELPERS="$BUILD/helpers"

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
	# Nothing from the caller's environment may change what a test sees.
	unset PIDLOCK_FILE PIDLOCK_MODE PIDLOCK_TIMEOUT PIDLOCK_SIGNAL PIDLOCK_EXIT_CODE \
		PIDLOCK_SCOPE PIDLOCK_ON_ERROR PIDLOCK_QUIET PIDLOCK_VERBOSE PIDLOCK_HELD PIDLOCK_EXEC
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

# Remember a PID this test started, so teardown ends it (never by name).
track_pid() { TRACKED+=("$1"); }

# Run a command with the shim preloaded and PIDLOCK_FILE set to $PF
# (override with PIDLOCK_FILE=... before the call).
under_shim() {
	PIDLOCK_FILE="${PIDLOCK_FILE:-$PF}" LD_PRELOAD="$SHIM" "$@"
}

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

# True while some process holds the flock on file $1. Reads /proc/locks, so
# the probe never takes the lock and cannot make a starting instance fail.
lock_is_held() {
	local ino
	ino=$(stat -c %i "$1" 2>/dev/null) || return 1
	awk -v ino="$ino" '$2 == "FLOCK" { n = split($6, a, ":"); if (a[n] == ino) found = 1 }
		END { exit !found }' /proc/locks
}
