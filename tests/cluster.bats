#!/usr/bin/env bats
# Issue 8, cluster mode: PIDLOCK_FILE=postgresql://...#NAME takes a PostgreSQL
# session-level advisory lock, held by the session whose socket the shim keeps
# like a PID file's descriptor, and fenced: when the session dies, the holder
# is terminated (SIGIO, or the watcher thread's SIGKILL) before the server
# lets anyone else take the lock.
# setup_file starts a throw-away cluster (scripts/pg-cluster.sh) on the unix
# socket and a loopback port; teardown_file stops it. Each test uses its own
# lock name, so tests do not see each other's locks.
# shellcheck disable=SC2030,SC2031 # bats runs each test in a subshell

bats_require_minimum_version 1.5.0
load test_helper

setup_file() {
	PGDIR="$(mktemp -d "${BATS_TMPDIR:-/tmp}/pidlock-pg.XXXXXX")"
	export PGDIR
	local _
	for _ in 1 2 3 4 5; do
		PGPORT=$((20000 + RANDOM % 20000))
		if sh "$BATS_TEST_DIRNAME/../scripts/pg-cluster.sh" start "$PGDIR" "$PGPORT" 2>"$PGDIR/start.err"; then
			export PGPORT
			return 0
		fi
		grep -q "not found" "$PGDIR/start.err" && break
		sh "$BATS_TEST_DIRNAME/../scripts/pg-cluster.sh" stop "$PGDIR" "$PGPORT" 2>/dev/null || true
	done
	cat "$PGDIR/start.err" >&2
	return 1
}

teardown_file() {
	if [ -n "${PGDIR:-}" ]; then
		sh "$BATS_TEST_DIRNAME/../scripts/pg-cluster.sh" stop "$PGDIR" "$PGPORT" || true
		rm -rf "$PGDIR"
	fi
}

setup() {
	common_setup
	BASE="postgresql://postgres@127.0.0.1:$PGPORT/postgres"
	NAME="t${BATS_TEST_NUMBER}x$$"
	URI="$BASE#$NAME"
	NETNS_S="" NETNS_C="" PART_PG=""
}

teardown() {
	common_teardown
	if [ -n "$PART_PG" ]; then
		ip netns exec "$NETNS_S" sh "$ROOT/scripts/pg-cluster.sh" stop "$PART_PG" 5432 || true
		rm -rf "$PART_PG"
	fi
	[ -z "$NETNS_C" ] || ip netns delete "$NETNS_C" 2>/dev/null || true
	[ -z "$NETNS_S" ] || ip netns delete "$NETNS_S" 2>/dev/null || true
}

sql() { psql -X -At "$BASE" -c "$1"; }

# The holder's backend PID, from pidlock status --json (empty if none).
backend_of() {
	"$PIDLOCK" status --json "$URI" | sed -n 's/.*"backend_pid":\([0-9]*\).*/\1/p'
}

# Starts CMD... under the shim with PIDLOCK_FILE=$URI in the background and
# waits until the status names it. Sets BG_PID (tracked).
hold() {
	PIDLOCK_FILE="$URI" start_shim "$@" >"$T/holder.out" 2>&1 &
	BG_PID=$!
	track_pid "$BG_PID"
	wait_until "\"\$PIDLOCK\" status --json \"\$URI\" | grep -q '\"pid\":$BG_PID,'" 10 ||
		fail "the holder never took the lock: $(cat "$T/holder.out")"
}

# Waits (at most $1 s) for the holder to end; HST = its exit status. Called
# in the test's own shell (not through run), so that wait sees the job.
holder_status() {
	wait_until "! proc_alive $BG_PID" "${1:-10}" || fail "the holder is still running"
	HST=0
	wait "$BG_PID" || HST=$?
}

@test "a second instance is refused (75) with the holder's PID, host and command line; the password is never shown" {
	URI="postgresql://postgres:s3cret@127.0.0.1:$PGPORT/postgres#$NAME"
	hold sleep 60
	PIDLOCK_FILE="$URI" pl_shim true
	assert_status 75
	assert_err "pidlock: postgresql://postgres@127.0.0.1:$PGPORT/postgres#$NAME: already running as PID $BG_PID on $(hostname) (sleep 60)"
	! grep -q s3cret "$T/out" "$T/err" || fail "the password is shown"
	# pg_locks shows the documented key: FNV-1a 64 of the name, classid/objid halves.
	key=$("$PIDLOCK" status --json "$URI" | sed -n 's/.*"key":\(-\{0,1\}[0-9]*\).*/\1/p')
	expected=$(python3 -c 'import sys
h=0xcbf29ce484222325
for b in sys.argv[1].encode(): h=((h^b)*0x100000001b3)&0xffffffffffffffff
print(h-(1<<64) if h>=1<<63 else h)' "$NAME")
	assert_equal "$key" "$expected"
	run sql "select count(*) from pg_locks where locktype='advisory' and objsubid=1 and granted
		and ((classid::bigint<<32)|objid::bigint) = ($key::bigint & x'ffffffffffffffff'::bigint)"
	assert_output 1
	run sql "select application_name from pg_stat_activity where pid = $(backend_of)"
	assert_output "pidlock $BG_PID $(hostname) sleep 60"
}

@test "pidlock run -f URI: the command holds the lock; status names it; stop ends it; status is then 3" {
	"$PIDLOCK" run -f "$URI" -- sleep 60 >"$T/run.out" 2>&1 3>&- &
	BG_PID=$!
	track_pid "$BG_PID"
	wait_until "\"\$PIDLOCK\" status -q \"\$URI\"" 10 || fail "$(cat "$T/run.out")"
	run -0 "$PIDLOCK" status "$URI"
	assert_output --regexp "^postgresql://postgres@127.0.0.1:$PGPORT/postgres#$NAME: running as PID $BG_PID on $(hostname) \(sleep 60\), since .*, backend PID [0-9]+\$"
	run -75 "$PIDLOCK" run -f "$URI" -- true
	assert_output --partial "already running as PID $BG_PID"
	run -0 "$PIDLOCK" stop "$URI"
	holder_status 5
	assert_equal "$HST" 157 # SIGIO: the session ended, so the holder did
	run -3 "$PIDLOCK" status "$URI"
	assert_output "postgresql://postgres@127.0.0.1:$PGPORT/postgres#$NAME: not running"
	run -0 "$PIDLOCK" stop "$URI" # nothing runs: already stopped
}

# How fast is for the benchmarks; here only that the lock comes free once
# the holder is gone (the session ends with its socket), within a generous
# bound, and not before: while the holder runs, a new instance is refused.
@test "kill -9 of the holder frees the lock" {
	hold sleep 60
	PIDLOCK_FILE="$URI" pl_shim true
	assert_status 75
	kill -KILL "$BG_PID"
	holder_status 5
	assert_equal "$HST" 137
	# shellcheck disable=SC2016 # evaluated by wait_until
	wait_until 'PIDLOCK_FILE="$URI" pl_shim true; [ "$status" -eq 0 ]' 10 ||
		fail "still held 10 s after the holder was killed"
}

@test "exec of itself keeps the lock and the session (bash exec); fencing still applies after the exec" {
	hold bash -c 'sleep 0.5; exec sleep 60'
	backend=$(backend_of)
	wait_until "grep -qa '^sleep' /proc/$BG_PID/cmdline" 10 || fail "no exec"
	# The new image has run its constructors once it sleeps in main.
	wait_until "in_sleep $BG_PID" 10 || fail "sleep $BG_PID never reached its main"
	assert_equal "$(backend_of)" "$backend"
	PIDLOCK_FILE="$URI" pl_shim true
	assert_status 75
	grep -qF "already running as PID $BG_PID" "$T/err" || fail "stderr: $(cat "$T/err")"
	sql "select pg_terminate_backend($backend)"
	holder_status 5
	assert_equal "$HST" 157
	PIDLOCK_FILE="$URI" pl_shim true
	assert_status 0
}

@test "pg_terminate_backend of the holder's session terminates the holder (SIGIO) and frees the lock" {
	hold sleep 60
	sql "select pg_terminate_backend($(backend_of))"
	holder_status 5
	assert_equal "$HST" 157
	PIDLOCK_FILE="$URI" pl_shim true
	assert_status 0
}

@test "SIGIO ignored by the program: the watcher thread terminates it with SIGKILL" {
	PIDLOCK_FILE="$URI" start_shim bash -c "trap '' IO; exec sleep 60" 2>"$T/h.err" &
	BG_PID=$!
	track_pid "$BG_PID"
	# bash took the lock with SIGIO at its default; sleep inherits SIGIO
	# ignored, adopts the session and starts a watcher.
	wait_until "grep -qa '^sleep' /proc/$BG_PID/cmdline" 10 || fail "no exec: $(cat "$T/h.err")"
	# Its watcher thread is the second thread of the process.
	wait_until "count_threads $BG_PID; [ \$threads -ge 2 ]" 10 || fail "no watcher thread in $BG_PID"
	sql "select pg_terminate_backend($(backend_of))"
	holder_status 5
	assert_equal "$HST" 137
	# Directly, too: the program starts with SIGIO ignored.
	bash -c "trap '' IO; PIDLOCK_FILE='$URI' LD_PRELOAD='$SHIM' exec sleep 60" 3>&- &
	BG_PID=$!
	track_pid "$BG_PID"
	wait_until "\"\$PIDLOCK\" status --json \"\$URI\" | grep -q '\"pid\":$BG_PID,'" 10 || fail "no lock"
	sql "select pg_terminate_backend($(backend_of))"
	holder_status 5
	assert_equal "$HST" 137
}

# The watcher thread is the only second thread the library ever starts:
# run the program under helgrind (valgrind's thread error detector) while
# the watcher starts, polls the session and kills the program.
@test "the watcher thread under helgrind: no data race or lock-order report from start to kill" {
	command -v valgrind >/dev/null || skip "valgrind is not installed"
	skip_if_instrumented any "valgrind does not run sanitizer builds"
	# SIGIO ignored, so the library starts its watcher. valgrind's launcher
	# has the library too but no PIDLOCK_FILE (inert); env gives the program
	# its PIDLOCK_FILE, and --trace-children follows env's exec.
	bash -c 'trap "" IO; LD_PRELOAD="$1" exec valgrind --tool=helgrind --trace-children=yes \
		--log-file="$2/hg.%p" env PIDLOCK_FILE="$3" sleep 60' _ "$SHIM" "$T" "$URI" \
		>"$T/h.out" 2>&1 3>&- &
	BG_PID=$!
	track_pid "$BG_PID"
	wait_until "\"\$PIDLOCK\" status --json \"\$URI\" | grep -q '\"pid\":$BG_PID,'" 60 ||
		fail "the program never took the lock: $(cat "$T/h.out" "$T"/hg.*)"
	wait_until "count_threads $BG_PID; [ \$threads -ge 2 ]" 30 || fail "no watcher thread in $BG_PID"
	PIDLOCK_FILE="$URI" pl_shim true
	assert_status 75
	sql "select pg_terminate_backend($(backend_of))"
	holder_status 60
	assert_equal "$HST" 137
	# helgrind ran on the program (its banner) and reported nothing.
	grep -q 'Helgrind, a thread error detector' "$T"/hg.* || fail "helgrind did not run: $(cat "$T/h.out")"
	grep -Eq '^==[0-9]+== Command: (/usr/bin/|/bin/)?sleep 60$' "$T"/hg.* || fail "helgrind did not run sleep: $(cat "$T"/hg.*)"
	! grep -E 'Possible data race|lock order|Thread #[0-9]+ (unlocked|was created)|ERROR SUMMARY: [1-9]' "$T"/hg.* ||
		fail "helgrind reported errors (above)"
}

@test "an immediate server restart terminates the holder; the lock is free once the server is back" {
	hold sleep 60
	sh "$ROOT/scripts/pg-cluster.sh" restart "$PGDIR" "$PGPORT"
	holder_status 10
	assert_equal "$HST" 157
	# shellcheck disable=SC2016 # evaluated by wait_until
	wait_until 'PIDLOCK_FILE="$URI" pl_shim true; [ "$status" -eq 0 ]' 20 || fail "lock not free after restart"
}

@test "wait mode: waits for the holder and takes the lock when it ends; with a timeout it gives up (75)" {
	hold sleep 60
	holder=$BG_PID
	PIDLOCK_FILE="$URI" pl_shim PIDLOCK_MODE=wait PIDLOCK_TIMEOUT=0.5 true
	assert_status 75
	assert_err "pidlock: $URI: timed out after 0.5 s; still held by PID $holder on $(hostname) (sleep 60)"
	# shellcheck disable=SC2016 # expanded by the inner bash
	PIDLOCK_FILE="$URI" PIDLOCK_MODE=wait PIDLOCK_TIMEOUT=30 \
		start_shim bash -c 'echo got >"$1"; exec sleep 60' _ "$T/got" 2>"$T/w.err" &
	waiter=$!
	track_pid "$waiter"
	# The waiter's session is queued behind the holder's on the server.
	# shellcheck disable=SC2016 # evaluated by wait_until
	wait_until '[ "$(sql "select count(*) from pg_locks where locktype = '"'advisory'"' and not granted")" -ge 1 ]' 10 ||
		fail "the waiter is not waiting for the advisory lock: $(cat "$T/w.err")"
	[ ! -e "$T/got" ] || fail "the waiter did not wait"
	kill -TERM "$holder"
	wait_until "[ -e \"\$T/got\" ]" 5 || fail "the waiter never took the lock: $(cat "$T/w.err")"
	run "$PIDLOCK" status --json "$URI"
	assert_output --partial "\"pid\":$waiter,"
}

@test "replace mode: ends the holder's session, which terminates the holder, and takes the lock" {
	hold sleep 60
	old=$BG_PID
	PIDLOCK_FILE="$URI" PIDLOCK_MODE=replace PIDLOCK_VERBOSE=1 start_shim sleep 60 2>"$T/r.err" &
	new=$!
	track_pid "$new"
	wait_until "\"\$PIDLOCK\" status --json \"\$URI\" | grep -q '\"pid\":$new,'" 10 || fail "$(cat "$T/r.err")"
	BG_PID=$old
	holder_status 5
	assert_equal "$HST" 157
	run cat "$T/r.err"
	assert_output --partial "ending the session of PID $old on $(hostname) (sleep 60)"
	assert_output --partial "replaced the holder in"
}

@test "configuration: a URI without #NAME is refused (78)" {
	PIDLOCK_FILE="$BASE" pl_shim true
	assert_status 78
	assert_err "pidlock: $BASE: a cluster lock needs a name: add #NAME to the URI"
}

@test "configuration: an unreachable server refuses (73) with one line, the password not shown; status is unknown (4)" {
	local bad="postgresql://postgres:pw@127.0.0.1:1/postgres?connect_timeout=3#x"
	PIDLOCK_FILE="$bad" pl_shim true
	assert_status 73
	assert_one_pidlock_line
	grep -Eq "^pidlock: postgresql://postgres@127.0.0.1:1/postgres\?connect_timeout=3#x: cannot connect: " "$T/err" ||
		fail "stderr: $(cat "$T/err")"
	! grep -q ':pw@' "$T/err" || fail "the password is shown: $(cat "$T/err")"
	pl_run "$PIDLOCK" status "$bad"
	assert_status 4
}

@test "configuration: an unreachable server with PIDLOCK_ON_ERROR=run: one warning, then the program runs unguarded" {
	local bad="postgresql://postgres:pw@127.0.0.1:1/postgres?connect_timeout=3#x"
	# The warning comes before the program runs (both on stderr, in order).
	PIDLOCK_FILE="$bad" pl_shim PIDLOCK_ON_ERROR=run sh -c 'echo ran >&2'
	assert_status 0
	[ "$(wc -l <"$T/err")" -eq 2 ] || fail "stderr: $(cat "$T/err")"
	[[ $(head -n 1 "$T/err") == *"cannot connect"* ]] || fail "stderr: $(cat "$T/err")"
	[[ $(head -n 1 "$T/err") == *"running without the lock (PIDLOCK_ON_ERROR=run)"* ]] || fail "stderr: $(cat "$T/err")"
	[ "$(sed -n 2p "$T/err")" = ran ] || fail "stderr: $(cat "$T/err")"
}

@test "libpq missing: one clear line and exit 71 (root: hidden in a private mount namespace)" {
	[ "$(id -u)" -eq 0 ] || skip "needs root to hide libpq in a mount namespace"
	command -v unshare >/dev/null || skip "unshare not installed"
	lib=$(readlink -f "$(ldconfig -p | sed -n 's/.*libpq\.so\.5 .*=> //p' | head -n 1)")
	[ -f "$lib" ] || skip "libpq.so.5 not found by ldconfig"
	# shellcheck disable=SC2016 # expanded by the inner sh
	run -71 unshare -m sh -c 'mount --bind /dev/null "$1" && PIDLOCK_FILE="$2" LD_PRELOAD="$3" /bin/true' _ \
		"$lib" "$URI" "$SHIM"
	assert_output --regexp "^pidlock: $URI: cluster mode needs libpq \(libpq.so.5, Debian package libpq5\), which cannot be loaded: "
	[ "${#lines[@]}" -eq 1 ]
}

@test "network partition (two network namespaces): the holder is terminated before an observer can take the lock" {
	[ "$(id -u)" -eq 0 ] || skip "needs root to create network namespaces"
	command -v ip >/dev/null || skip "ip (iproute2) not installed"
	NETNS_S="pls$$" NETNS_C="plc$$"
	ip netns add "$NETNS_S" 2>/dev/null || {
		NETNS_S=""
		skip "ip netns unavailable here"
	}
	ip netns add "$NETNS_C"
	ip link add "vs$$" type veth peer name "vc$$"
	ip link set "vs$$" netns "$NETNS_S"
	ip link set "vc$$" netns "$NETNS_C"
	ip -n "$NETNS_S" addr add 192.0.2.1/24 dev "vs$$"
	ip -n "$NETNS_C" addr add 192.0.2.2/24 dev "vc$$"
	for ns in "$NETNS_S" "$NETNS_C"; do
		ip -n "$ns" link set lo up
	done
	ip -n "$NETNS_S" link set "vs$$" up
	ip -n "$NETNS_C" link set "vc$$" up
	PART_PG="$T/pg"
	mkdir "$PART_PG"
	PG_LISTEN=192.0.2.1 PG_TRUST=192.0.2.0/24 ip netns exec "$NETNS_S" sh "$ROOT/scripts/pg-cluster.sh" start "$PART_PG" 5432
	URI="postgresql://postgres@192.0.2.1:5432/postgres#part"
	OBS="postgresql:///postgres?host=$PART_PG&port=5432&user=postgres#part"
	ip netns exec "$NETNS_C" env PIDLOCK_FILE="$URI" LD_PRELOAD="$SHIM" sleep 300 >"$T/holder.out" 2>&1 3>&- &
	BG_PID=$!
	track_pid "$BG_PID"
	wait_until "\"\$PIDLOCK\" status --json \"\$OBS\" | grep -q '\"pid\":$BG_PID,'" 15 ||
		fail "the holder never took the lock: $(cat "$T/holder.out")"
	run -75 ip netns exec "$NETNS_S" env PIDLOCK_FILE="$OBS" LD_PRELOAD="$SHIM" true
	# Cut the traffic both ways: neither side gets an error, only silence.
	ip -n "$NETNS_C" route add blackhole 192.0.2.1/32
	ip -n "$NETNS_S" route add blackhole 192.0.2.2/32
	start=$(date +%s%N)
	dead="" taken=""
	for _ in $(seq 600); do # 0.1 s steps: 60 s at most, plus the attempts
		now=$((($(date +%s%N) - start) / 1000000))
		if [ -z "$dead" ] && ! proc_alive "$BG_PID"; then
			dead=$now
		fi
		if ip netns exec "$NETNS_S" env PIDLOCK_FILE="$OBS" LD_PRELOAD="$SHIM" true 2>/dev/null; then
			taken=$((($(date +%s%N) - start) / 1000000))
			# The holder must already be gone.
			proc_alive "$BG_PID" || [ -n "$dead" ] || dead=$taken
			break
		fi
		sleep 0.1
	done
	echo "# holder terminated after ${dead:-never} ms, lock taken by the observer after ${taken:-never} ms" >&3
	[ -n "$dead" ] || fail "the holder was never terminated"
	[ -n "$taken" ] || fail "the observer never took the lock"
	[ "$dead" -lt "$taken" ] || fail "the observer took the lock ($taken ms) before the holder died ($dead ms)"
	holder_status 1
	assert_equal "$HST" 157
}
