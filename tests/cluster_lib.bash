# SPDX-License-Identifier: MIT
# shellcheck shell=bash
# Variables set here (BASE, NAME, URI, BG_PID, HST...) are read by the .bats files.
# shellcheck disable=SC2034
# Set elsewhere: lines (bats' run), err (one_pidlock_line), the hooks.
# shellcheck disable=SC2154
# The cluster-mode tests that every backend must pass, shared by
# tests/cluster.bats (PostgreSQL) and tests/cluster-mysql.bats (MySQL and
# MariaDB). Each file loads test_helper and this, defines the hooks below,
# and wraps the cl_case_* bodies in @test lines of its own wording; cases
# that truly differ per backend stay in their file.
#
# Hooks (variables at the top of the file, functions anywhere in it):
#   BE_SERVER        the throw-away server's script: start|stop|restart DIR PORT
#                    (exit 69 when the server is not installed)
#   BE_PLUGIN        the plugin's name: build/pidlock-$BE_PLUGIN.so
#   BE_LIB           the client library's soname, hidden by the missing-library case
#   BE_LIB_MSG       what the 71 line says of it (a regular expression)
#   BE_FREE_BOUND    seconds within which a kill -9'd holder's lock is free
#   BE_PART_PORT     the server's port in the partition's network namespace
#   BE_PART_LIMIT    seconds the partition case waits for the observer at most
#   BE_WAITER_BOUND  seconds after the holder's end within which the server
#                    lets go of a queued waiter that a partition cut off
#   BASE             the URI without #NAME (set by the file's setup, before
#                    cluster_setup), and BAD/BAD_SHOWN: an unreachable server's
#                    URI with a password and a connect timeout, and how
#                    messages show it
#   be_kill_session SESSION   end the server session SESSION (an administrator's
#                             kill: pg_terminate_backend, KILL CONNECTION)
#   be_waiting_count          the number of sessions queued on some lock
#   be_published PID          the label the holder PID publishes on the server,
#                             as another user reads it there
#   be_partition_start DIR    in namespace $NETNS_S: start a server in DIR on
#                             192.0.2.1:$BE_PART_PORT that lets 192.0.2.0/24 in;
#                             set URI (through 192.0.2.1) and OBS (the same lock
#                             through the server's unix socket), both #part
#   be_partition_stop DIR     stop it
#   be_partition_waiting_count DIR   be_waiting_count, on that server
#
# setup_file starts the server on a random loopback port ($CL_DIR, $CL_PORT);
# each test uses its own lock name ($NAME), so tests do not see each other's.

# ---- fixture ----

cluster_setup_file() {
	CL_DIR="$(mktemp -d "${BATS_TMPDIR:-/tmp}/pidlock-cl.XXXXXX")"
	export CL_DIR
	local _ st
	for _ in 1 2 3 4 5; do
		CL_PORT=$((20000 + RANDOM % 20000))
		st=0
		sh "$BE_SERVER" start "$CL_DIR" "$CL_PORT" 2>"$CL_DIR/start.err" || st=$?
		if [ "$st" -eq 0 ]; then
			export CL_PORT
			return 0
		fi
		[ "$st" -ne 69 ] || break # not installed: no use trying other ports
		sh "$BE_SERVER" stop "$CL_DIR" "$CL_PORT" 2>/dev/null || true
	done
	cat "$CL_DIR/start.err" >&2
	return 1
}

cluster_teardown_file() {
	if [ -n "${CL_DIR:-}" ]; then
		sh "$BE_SERVER" stop "$CL_DIR" "$CL_PORT" || true
		rm -rf "$CL_DIR"
	fi
}

cluster_setup() {
	common_setup
	NAME="t${BATS_TEST_NUMBER}x$$"
	URI="$BASE#$NAME"
	NETNS_S="" NETNS_C="" PART_DIR=""
}

cluster_teardown() {
	# The partition's server first: its directory is under $T.
	[ -z "$PART_DIR" ] || be_partition_stop "$PART_DIR" || true
	common_teardown
	[ -z "$NETNS_S" ] || sh "$ROOT/scripts/netns-pair.sh" down "$NETNS_S" "$NETNS_C"
}

# The holder's session on the server, from pidlock status --json (empty if none).
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

# $1 with the characters special in an extended regular expression escaped.
re_quote() {
	printf '%s' "$1" | sed 's/[][\.*^$?+(){}|]/\\&/g'
}

# ---- the cases ----

# A second instance is refused (75) with exactly the documented line; $1 is
# a URI with a password that the server accepts, $2 the same URI as
# messages show it (no password); neither output shows the password.
# Leaves the holder running (BG_PID) and URI=$1.
cl_case_refused() {
	URI="$1"
	hold sleep 60
	PIDLOCK_FILE="$URI" pl_shim true
	assert_status 75
	assert_err "pidlock: $2: already running as PID $BG_PID on $(hostname) (sleep)"
	! grep -q s3cret "$T/out" "$T/err" || fail "the password is shown"
}

cl_case_run_status_stop() {
	"$PIDLOCK" run -f "$URI" -- sleep 60 >"$T/run.out" 2>&1 3>&- &
	BG_PID=$!
	track_pid "$BG_PID"
	wait_until "\"\$PIDLOCK\" status -q \"\$URI\"" 10 || fail "$(cat "$T/run.out")"
	run -0 "$PIDLOCK" status "$URI"
	assert_output --regexp "^$(re_quote "$URI"): running as PID $BG_PID on $(hostname) \(sleep\), since .*, backend PID [0-9]+, fencing token [0-9]+\$"
	run -75 "$PIDLOCK" run -f "$URI" -- true
	assert_output --partial "already running as PID $BG_PID"
	run -0 "$PIDLOCK" stop "$URI"
	holder_status 5
	assert_equal "$HST" 157 # SIGIO: the session ended, so the holder did
	run -3 "$PIDLOCK" status "$URI"
	assert_output "$URI: not running"
	run -0 "$PIDLOCK" stop "$URI" # nothing runs: already stopped
}

# How fast is for the benchmarks; here only that the lock comes free once
# the holder is gone (the session ends with its socket), within a generous
# bound ($BE_FREE_BOUND s), and not before: while the holder runs, a new
# instance is refused. The time it took is shown (fd 3) for the docs.
cl_case_kill9_frees() {
	hold sleep 60
	PIDLOCK_FILE="$URI" pl_shim true
	assert_status 75
	local start
	start=$(now_ns)
	kill -KILL "$BG_PID"
	holder_status 5
	assert_equal "$HST" 137
	# shellcheck disable=SC2016 # evaluated by wait_until
	wait_until 'PIDLOCK_FILE="$URI" pl_shim true; [ "$status" -eq 0 ]' "$BE_FREE_BOUND" ||
		fail "still held $BE_FREE_BOUND s after the holder was killed"
	echo "# lock free $((($(now_ns) - start) / 1000000)) ms after kill -9 of the holder" >&3
}

cl_case_exec_keeps() {
	hold bash -c 'sleep 0.5; exec sleep 60'
	backend=$(backend_of)
	wait_until "grep -qa '^sleep' /proc/$BG_PID/cmdline" 10 || fail "no exec"
	# The new image has run its constructors once it sleeps in main.
	wait_until "in_sleep $BG_PID" 10 || fail "sleep $BG_PID never reached its main"
	assert_equal "$(backend_of)" "$backend"
	PIDLOCK_FILE="$URI" pl_shim true
	assert_status 75
	grep -qF "already running as PID $BG_PID" "$T/err" || fail "stderr: $(cat "$T/err")"
	be_kill_session "$backend"
	holder_status 5
	assert_equal "$HST" 157
	PIDLOCK_FILE="$URI" pl_shim true
	assert_status 0
}

cl_case_session_killed() {
	hold sleep 60
	be_kill_session "$(backend_of)"
	holder_status 5
	assert_equal "$HST" 157
	PIDLOCK_FILE="$URI" pl_shim true
	assert_status 0
}

cl_case_sigio_ignored() {
	PIDLOCK_FILE="$URI" start_shim bash -c "trap '' IO; exec sleep 60" 2>"$T/h.err" &
	BG_PID=$!
	track_pid "$BG_PID"
	# bash took the lock with SIGIO at its default; sleep inherits SIGIO
	# ignored, adopts the session and starts a watcher.
	wait_until "grep -qa '^sleep' /proc/$BG_PID/cmdline" 10 || fail "no exec: $(cat "$T/h.err")"
	# Its watcher thread is the second thread of the process.
	wait_until "count_threads $BG_PID; [ \$threads -ge 2 ]" 10 || fail "no watcher thread in $BG_PID"
	be_kill_session "$(backend_of)"
	holder_status 5
	assert_equal "$HST" 137
	# Directly, too: the program starts with SIGIO ignored.
	bash -c "trap '' IO; PIDLOCK_FILE='$URI' LD_PRELOAD='$SHIM' exec sleep 60" 3>&- &
	BG_PID=$!
	track_pid "$BG_PID"
	wait_until "\"\$PIDLOCK\" status --json \"\$URI\" | grep -q '\"pid\":$BG_PID,'" 10 || fail "no lock"
	be_kill_session "$(backend_of)"
	holder_status 5
	assert_equal "$HST" 137
}

# The watcher thread is the only second thread the library ever starts:
# run the program under helgrind (valgrind's thread error detector) while
# the watcher starts, polls the session and kills the program.
cl_case_helgrind() {
	command -v valgrind >/dev/null || skip "valgrind is not installed"
	skip_if_instrumented any "valgrind does not run sanitizer builds"
	# SIGIO ignored, so the library starts its watcher. valgrind's launcher
	# has the library too but no PIDLOCK_FILE (inert); env gives the program
	# its PIDLOCK_FILE, and --trace-children follows env's exec. LD_BIND_NOW:
	# symbols bound at start, so that the dynamic linker's lazy binding (the
	# watcher's first poll and kill while the main thread makes its own first
	# calls) is not what helgrind looks at; what the threads share is.
	bash -c 'trap "" IO; LD_PRELOAD="$1" LD_BIND_NOW=1 exec valgrind --tool=helgrind --trace-children=yes \
		--log-file="$2/hg.%p" env PIDLOCK_FILE="$3" sleep 60' _ "$SHIM" "$T" "$URI" \
		>"$T/h.out" 2>&1 3>&- &
	BG_PID=$!
	track_pid "$BG_PID"
	wait_until "\"\$PIDLOCK\" status --json \"\$URI\" | grep -q '\"pid\":$BG_PID,'" 60 ||
		fail "the program never took the lock: $(cat "$T/h.out" "$T"/hg.*)"
	wait_until "count_threads $BG_PID; [ \$threads -ge 2 ]" 30 || fail "no watcher thread in $BG_PID"
	PIDLOCK_FILE="$URI" pl_shim true
	assert_status 75
	be_kill_session "$(backend_of)"
	holder_status 60
	assert_equal "$HST" 137
	# helgrind ran on the program (its banner) and reported nothing.
	grep -q 'Helgrind, a thread error detector' "$T"/hg.* || fail "helgrind did not run: $(cat "$T/h.out")"
	grep -Eq '^==[0-9]+== Command: (/usr/bin/|/bin/)?sleep 60$' "$T"/hg.* || fail "helgrind did not run sleep: $(cat "$T"/hg.*)"
	! grep -E 'Possible data race|lock order|Thread #[0-9]+ (unlocked|was created)|ERROR SUMMARY: [1-9]' "$T"/hg.* ||
		fail "helgrind reported errors: $(grep -h -B2 -A25 -E 'Possible data race|lock order|Thread #[0-9]+ (unlocked|was created)' "$T"/hg.* | head -60)"
}

cl_case_server_restart() {
	hold sleep 60
	sh "$BE_SERVER" restart "$CL_DIR" "$CL_PORT"
	holder_status 10
	assert_equal "$HST" 157
	# shellcheck disable=SC2016 # evaluated by wait_until
	wait_until 'PIDLOCK_FILE="$URI" pl_shim true; [ "$status" -eq 0 ]' 20 || fail "lock not free after restart"
}

cl_case_wait_mode() {
	hold sleep 60
	holder=$BG_PID
	PIDLOCK_FILE="$URI" pl_shim PIDLOCK_MODE=wait PIDLOCK_TIMEOUT=0.5 true
	assert_status 75
	assert_err "pidlock: $URI: timed out after 0.5 s; still held by PID $holder on $(hostname) (sleep)"
	# shellcheck disable=SC2016 # expanded by the inner bash
	PIDLOCK_FILE="$URI" PIDLOCK_MODE=wait PIDLOCK_TIMEOUT=30 \
		start_shim bash -c 'echo got >"$1"; exec sleep 60' _ "$T/got" 2>"$T/w.err" &
	waiter=$!
	track_pid "$waiter"
	# The waiter's session is queued behind the holder's on the server.
	# shellcheck disable=SC2016 # evaluated by wait_until
	wait_until '[ "$(be_waiting_count)" -ge 1 ]' 10 ||
		fail "the waiter is not waiting for the lock: $(cat "$T/w.err")"
	[ ! -e "$T/got" ] || fail "the waiter did not wait"
	kill -TERM "$holder"
	wait_until "[ -e \"\$T/got\" ]" 5 || fail "the waiter never took the lock: $(cat "$T/w.err")"
	run "$PIDLOCK" status --json "$URI"
	assert_output --partial "\"pid\":$waiter,"
}

cl_case_replace_mode() {
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
	assert_output --partial "ending the session of PID $old on $(hostname) (sleep)"
	assert_output --partial "replaced the holder in"
}

# Compares two tokens as the integers they are (MySQL's pass 2^63): exit 0
# when $1 < $2.
token_lt() {
	"$PYTHON" -c 'import sys; sys.exit(0 if int(sys.argv[1]) < int(sys.argv[2]) else 1)' "$1" "$2"
}

# The fencing token: in the program's PIDLOCK_FENCE (never an inherited
# one), in status (text and JSON, as a string), from the library and from
# pidlock run, each acquisition's greater than every earlier one, across
# a server restart too.
cl_case_fence() {
	local prev="" tok i
	for i in 1 2 3; do
		# shellcheck disable=SC2016 # expanded by the inner sh
		PIDLOCK_FILE="$URI" pl_shim PIDLOCK_FENCE=7 sh -c 'echo "$PIDLOCK_FENCE"'
		assert_status 0
		tok=$(cat "$T/out")
		[[ $tok =~ ^[0-9]+$ ]] || fail "PIDLOCK_FENCE is [$tok]"
		[ "$tok" != 7 ] || fail "the inherited PIDLOCK_FENCE was kept"
		[ -z "$prev" ] || token_lt "$prev" "$tok" || fail "token $tok after $prev (round $i)"
		prev=$tok
	done
	# shellcheck disable=SC2016 # expanded by the inner sh
	pl_run "$PIDLOCK" run -f "$URI" -- sh -c 'echo "$PIDLOCK_FENCE"'
	assert_status 0
	tok=$(cat "$T/out")
	token_lt "$prev" "$tok" || fail "pidlock run's token $tok after $prev"
	prev=$tok
	# shellcheck disable=SC2016 # expanded by the inner sh
	hold sh -c 'echo "$PIDLOCK_FENCE" >"$0"; exec sleep 60' "$T/held"
	wait_until "[ -s \"\$T/held\" ]" 10 || fail "the holder wrote no token"
	tok=$(cat "$T/held")
	token_lt "$prev" "$tok" || fail "token $tok after $prev"
	run -0 "$PIDLOCK" status "$URI"
	assert_output --partial ", fencing token $tok"
	run -0 "$PIDLOCK" status --json "$URI"
	assert_output --partial "\"fence\":\"$tok\",\"identified\":true,"
	# A restart: the server hands out no token it has handed out before.
	sh "$BE_SERVER" restart "$CL_DIR" "$CL_PORT"
	holder_status 10
	prev=$tok
	# shellcheck disable=SC2016 # evaluated by wait_until
	wait_until 'PIDLOCK_FILE="$URI" pl_shim sh -c "echo \"\$PIDLOCK_FENCE\""; [ "$status" -eq 0 ]' 20 ||
		fail "lock not free after the restart: $(cat "$T/err")"
	tok=$(cat "$T/out")
	token_lt "$prev" "$tok" || fail "after the restart: token $tok, before it $prev"
	# Fast restarts, each right after an acquisition: two starts of the
	# server may fall in one second (MySQL's UUID_SHORT counts from the
	# start's second).
	for i in 1 2 3; do
		prev=$tok
		sh "$BE_SERVER" restart "$CL_DIR" "$CL_PORT"
		# shellcheck disable=SC2016 # evaluated by wait_until
		wait_until 'PIDLOCK_FILE="$URI" pl_shim sh -c "echo \"\$PIDLOCK_FENCE\""; [ "$status" -eq 0 ]' 20 ||
			fail "lock not free after restart $i: $(cat "$T/err")"
		tok=$(cat "$T/out")
		token_lt "$prev" "$tok" || fail "after fast restart $i: token $tok, before it $prev"
	done
}

# Wait mode through a server restart: waiters whose sessions die with the
# server connect again and go on waiting; each runs in turn, none exits 73.
# And a waiter started while the server is down waits for it.
cl_case_wait_restart() {
	local i pids=() st
	hold sleep 60
	for i in 1 2 3; do
		# shellcheck disable=SC2016 # expanded by the inner sh
		PIDLOCK_FILE="$URI" PIDLOCK_MODE=wait PIDLOCK_TIMEOUT=60 \
			start_shim sh -c 'echo "$$" >>"$1/ran"; sleep 0.5' _ "$T" 2>"$T/w$i.err" &
		pids+=($!)
		track_pid "$!"
	done
	# shellcheck disable=SC2016 # evaluated by wait_until
	wait_until '[ "$(be_waiting_count)" -ge 3 ]' 10 || fail "the waiters are not waiting"
	sh "$BE_SERVER" restart "$CL_DIR" "$CL_PORT"
	holder_status 10
	assert_equal "$HST" 157
	for i in 0 1 2; do
		st=0
		wait_until "! proc_alive ${pids[i]}" 60 || fail "waiter $((i + 1)) still waiting"
		wait "${pids[i]}" || st=$?
		[ "$st" -eq 0 ] || fail "waiter $((i + 1)) exited $st: $(cat "$T/w$((i + 1)).err")"
		grep -q 'lost the session while waiting: .*; trying again in 0.25 s$' "$T/w$((i + 1)).err" ||
			fail "waiter $((i + 1)) said: $(cat "$T/w$((i + 1)).err")"
	done
	[ "$(wc -l <"$T/ran")" -eq 3 ] || fail "ran: $(cat "$T/ran")"
	# Started while the server is down: it waits for the server too.
	sh "$BE_SERVER" stop "$CL_DIR" "$CL_PORT"
	# shellcheck disable=SC2016 # expanded by the inner sh
	PIDLOCK_FILE="$URI" PIDLOCK_MODE=wait PIDLOCK_TIMEOUT=60 start_shim sh -c 'echo late >>"$1/ran"' _ "$T" \
		2>"$T/late.err" &
	BG_PID=$!
	track_pid "$BG_PID"
	sleep 1
	proc_alive "$BG_PID" || fail "the late waiter did not wait: $(cat "$T/late.err")"
	sh "$BE_SERVER" start "$CL_DIR" "$CL_PORT"
	holder_status 60
	assert_equal "$HST" 0
	grep -q late "$T/ran" || fail "the late waiter never ran: $(cat "$T/late.err")"
	grep -q 'cannot connect: .*; trying again in 0.25 s$' "$T/late.err" || fail "it said: $(cat "$T/late.err")"
	# Waiting cannot cure everything: an unknown user is refused at once.
	PIDLOCK_FILE="$BAD_USER#$NAME" pl_shim -t 10 PIDLOCK_MODE=wait PIDLOCK_TIMEOUT=60 true
	assert_status 73
	assert_one_pidlock_line
}

cl_case_no_name() {
	PIDLOCK_FILE="$BASE" pl_shim true
	assert_status 78
	assert_err "pidlock: $BASE: a cluster lock needs a name: add #NAME to the URI"
}

cl_case_unreachable() {
	PIDLOCK_FILE="$BAD" pl_shim true
	assert_status 73
	assert_one_pidlock_line
	[[ $err == "pidlock: $BAD_SHOWN: cannot connect: "* ]] || fail "stderr: $err"
	! grep -q ':pw@' "$T/err" || fail "the password is shown: $(cat "$T/err")"
	pl_run "$PIDLOCK" status "$BAD"
	assert_status 4
}

cl_case_unreachable_run() {
	# The warning comes before the program runs (both on stderr, in order).
	PIDLOCK_FILE="$BAD" pl_shim PIDLOCK_ON_ERROR=run sh -c 'echo ran >&2'
	assert_status 0
	[ "$(wc -l <"$T/err")" -eq 2 ] || fail "stderr: $(cat "$T/err")"
	[[ $(head -n 1 "$T/err") == *"cannot connect"* ]] || fail "stderr: $(cat "$T/err")"
	[[ $(head -n 1 "$T/err") == *"running without the lock (PIDLOCK_ON_ERROR=run)"* ]] || fail "stderr: $(cat "$T/err")"
	[ "$(sed -n 2p "$T/err")" = ran ] || fail "stderr: $(cat "$T/err")"
}

cl_case_library_missing() {
	[ "$(id -u)" -eq 0 ] || skip "needs root to hide $BE_LIB in a mount namespace"
	command -v unshare >/dev/null || skip "unshare not installed"
	lib=$(readlink -f "$(ldconfig -p | awk -v so="$BE_LIB" '$1 == so { print $NF; exit }')")
	[ -f "$lib" ] || skip "$BE_LIB not found by ldconfig"
	# shellcheck disable=SC2016 # expanded by the inner sh
	run -71 unshare -m sh -c 'mount --bind /dev/null "$1" && PIDLOCK_FILE="$2" LD_PRELOAD="$3" /bin/true' _ \
		"$lib" "$URI" "$SHIM"
	assert_output --regexp "^pidlock: $(re_quote "$URI"): cluster mode needs $BE_LIB_MSG, which cannot be loaded: "
	[ "${#lines[@]}" -eq 1 ]
}

# The two namespaces of a real partition (scripts/netns-pair.sh) and the
# server in the server's (be_partition_start: URI, OBS); skips without root
# or network namespaces. Teardown removes all of it.
part_up() {
	[ "$(id -u)" -eq 0 ] || skip "needs root to create network namespaces"
	command -v ip >/dev/null || skip "ip (iproute2) not installed"
	local st=0
	NETNS_S="pls$$" NETNS_C="plc$$" # set first: teardown removes what up made
	sh "$ROOT/scripts/netns-pair.sh" up "$NETNS_S" "$NETNS_C" || st=$?
	[ "$st" -ne 69 ] || skip "ip netns unavailable here"
	[ "$st" -eq 0 ] || fail "scripts/netns-pair.sh up: status $st"
	PART_DIR="$T/server"
	mkdir "$PART_DIR"
	be_partition_start "$PART_DIR"
}

cl_case_partition() {
	part_up
	ip netns exec "$NETNS_C" env PIDLOCK_FILE="$URI" LD_PRELOAD="$SHIM" sleep 300 >"$T/holder.out" 2>&1 3>&- &
	BG_PID=$!
	track_pid "$BG_PID"
	wait_until "\"\$PIDLOCK\" status --json \"\$OBS\" | grep -q '\"pid\":$BG_PID,'" 15 ||
		fail "the holder never took the lock: $(cat "$T/holder.out")"
	run -75 ip netns exec "$NETNS_S" env PIDLOCK_FILE="$OBS" LD_PRELOAD="$SHIM" true
	# Cut the traffic both ways: neither side gets an error, only silence.
	sh "$ROOT/scripts/netns-pair.sh" cut "$NETNS_S" "$NETNS_C"
	start=$(date +%s%N)
	dead="" taken=""
	for _ in $(seq $((BE_PART_LIMIT * 10))); do # 0.1 s steps, plus the attempts
		now=$((($(date +%s%N) - start) / 1000000))
		if [ -z "$dead" ] && ! proc_alive "$BG_PID"; then
			dead=$now
		fi
		if ip netns exec "$NETNS_S" env PIDLOCK_FILE="$OBS" LD_PRELOAD="$SHIM" true 2>"$T/obs.err"; then
			taken=$((($(date +%s%N) - start) / 1000000))
			# The holder must already be gone.
			proc_alive "$BG_PID" || [ -n "$dead" ] || dead=$taken
			break
		fi
		sleep 0.1
	done
	echo "# holder terminated after ${dead:-never} ms, lock taken by the observer after ${taken:-never} ms" >&3
	[ -n "$dead" ] || fail "the holder was never terminated"
	[ -n "$taken" ] || fail "the observer never took the lock: $(cat "$T/obs.err")"
	[ "$dead" -lt "$taken" ] || fail "the observer took the lock ($taken ms) before the holder died ($dead ms)"
	holder_status 1
	assert_equal "$HST" 157
}

# ---- fencing against a partition: replace, stop, a queued waiter ----
# The program these cases run under the lock appends "<epoch_ns> <pid>
# <PIDLOCK_FENCE>" every 10 ms to a log on the shared filesystem, which is
# what an outside resource would see: two instances writing in the same
# span of time is the overlap a lock exists to prevent.

FENCELOG="$BATS_TEST_DIRNAME/helpers/fencelog.py"

# part_writer NS URI LOG OUT [VAR=VALUE...]: fencelog under the shim with
# PIDLOCK_FILE=URI in network namespace NS, in the background (at most
# 120 s), its output in OUT. WPID is the program's PID (ip netns exec,
# unshare, sh and env exec it), tracked. In the client's namespace it runs
# as another host would: its host name is the namespace's (a UTS
# namespace), so that replace and stop cannot see it end here and must
# rely on the time a cut-off holder takes to stop, as across machines.
part_writer() {
	local ns=$1 uri=$2 log=$3 out=$4 host=()
	shift 4
	# shellcheck disable=SC2016 # expanded by the inner sh
	[ "$ns" != "$NETNS_C" ] ||
		host=(unshare --uts sh -c 'echo "$1" >/proc/sys/kernel/hostname && shift && exec "$@"' _ "$ns")
	ip netns exec "$ns" "${host[@]}" env PIDLOCK_FILE="$uri" LD_PRELOAD="$SHIM" "$@" \
		"$PYTHON" "$FENCELOG" "$log" 120 >"$out" 2>&1 3>&- &
	WPID=$!
	track_pid "$WPID"
}

# True once PID $1 has a line in log $2.
wrote() { awk -v p="$1" '$2 == p { f = 1; exit } END { exit !f }' "$2" 2>/dev/null; }
# The time of PID $1's first line in log $2 (empty if none).
first_line() { awk -v p="$1" '$2 == p { print $1; exit }' "$2"; }
# How many lines PID $1 wrote to log $2 after time $3. The times are
# compared as strings (19 digits each until 2286): awk's numbers are
# doubles, which would round nanoseconds since 1970.
lines_after() { awk -v p="$1" -v t="$3" '$2 == p && $1 "" > t "" { n++ } END { print n + 0 }' "$2"; }

# Round R of the partitioned-holder cases: the holder runs in the client's
# namespace with lock NAME-R, and is seen writing; then the link is cut.
# Sets OLD (its PID), LOG, and URI and OBS for this round.
part_holder_cut() {
	URI="${URI%#*}#$1" OBS="${OBS%#*}#$1" LOG="$T/$1.log"
	sh "$ROOT/scripts/netns-pair.sh" heal "$NETNS_S" "$NETNS_C"
	part_writer "$NETNS_C" "$URI" "$LOG" "$T/$1.old"
	OLD=$WPID
	wait_until "wrote $OLD \"\$LOG\"" 15 || fail "$1: the holder never ran: $(cat "$T/$1.old")"
	sh "$ROOT/scripts/netns-pair.sh" cut "$NETNS_S" "$NETNS_C"
	CUT=$(now_ns)
}

# Replace from next to the server while the holder is cut off: the server
# ends the holder's session at once, but the holder hears of it only from
# its own keepalive (some 5 s), so the replacer must not enter main before
# then. Two rounds: the cut lands at another point of the keepalive cycle.
cl_case_replace_partitioned() {
	part_up
	local r new t late
	for r in 1 2; do
		part_holder_cut "rp$r"
		part_writer "$NETNS_S" "$OBS" "$LOG" "$T/rp$r.new" PIDLOCK_MODE=replace PIDLOCK_TIMEOUT=30
		new=$WPID
		wait_until "wrote $new \"\$LOG\" || ! proc_alive $new" 40 || fail "round $r: the replacer never ran"
		wrote "$new" "$LOG" || fail "round $r: the replacer ended: $(cat "$T/rp$r.new")"
		wait_until "! proc_alive $OLD" 20 || fail "round $r: the old holder runs 20 s after it was replaced"
		t=$(first_line "$new" "$LOG")
		late=$(lines_after "$OLD" "$LOG" "$t")
		echo "# round $r: the replacer ran $(((t - CUT) / 1000000)) ms after the cut; the old holder wrote $late lines after that" >&3
		[ "$late" -eq 0 ] || fail "round $r: the old holder (PID $OLD) wrote $late lines after the replacer's first; replacer: $(cat "$T/rp$r.new")"
		run cat "$T/rp$r.new"
		assert_output --partial waiting
		kill -TERM "$new"
		wait_until "! proc_alive $new" 10 || fail "round $r: the replacer does not end"
	done
}

# pidlock stop from next to the server while the holder is cut off: stop
# reports the holder stopped (0) only once it is, so that whoever runs stop
# and then starts the program elsewhere never has two.
cl_case_stop_partitioned() {
	part_up
	local r st back late alive
	for r in 1 2; do
		part_holder_cut "sp$r"
		st=0
		timeout -k 5 60 ip netns exec "$NETNS_S" "$PIDLOCK" stop "$OBS" >"$T/sp$r.stop" 2>&1 3>&- || st=$?
		back=$(now_ns)
		alive=no
		! proc_alive "$OLD" || alive=yes
		echo "# round $r: stop returned $st after $(((back - CUT) / 1000000)) ms; the holder still ran: $alive" >&3
		[ "$st" -eq 0 ] || fail "round $r: pidlock stop: status $st: $(cat "$T/sp$r.stop")"
		[ "$alive" = no ] || fail "round $r: pidlock stop returned while the holder (PID $OLD) still ran"
		wait_until "! proc_alive $OLD" 20 || fail "round $r: the holder still runs"
		late=$(lines_after "$OLD" "$LOG" "$back")
		[ "$late" -eq 0 ] || fail "round $r: the holder wrote $late lines after pidlock stop returned"
	done
}

# A waiter cut off after it was queued: when the holder ends, the server
# grants the lock to the waiter's session, whose client never hears of it.
# The server must let go of that session soon (the waiter's client gave up
# on its own) so that another instance can run: within $BE_WAITER_BOUND s
# of the holder's end.
cl_case_waiter_partitioned() {
	part_up
	local holder waiter ended taken="" i
	ip netns exec "$NETNS_S" env PIDLOCK_FILE="$OBS" LD_PRELOAD="$SHIM" sleep 300 >"$T/holder.out" 2>&1 3>&- &
	holder=$!
	track_pid "$holder"
	wait_until "\"\$PIDLOCK\" status --json \"\$OBS\" | grep -q '\"pid\":$holder,'" 15 ||
		fail "the holder never took the lock: $(cat "$T/holder.out")"
	part_writer "$NETNS_C" "$URI" "$T/w.log" "$T/w.out" PIDLOCK_MODE=wait PIDLOCK_TIMEOUT=120
	waiter=$WPID
	# shellcheck disable=SC2016 # evaluated by wait_until
	wait_until '[ "$(be_partition_waiting_count "$PART_DIR")" -ge 1 ]' 15 ||
		fail "the waiter is not queued on the server: $(cat "$T/w.out")"
	sh "$ROOT/scripts/netns-pair.sh" cut "$NETNS_S" "$NETNS_C"
	sleep 1
	kill -TERM "$holder"
	wait_until "! proc_alive $holder" 10 || fail "the holder does not end"
	ended=$(now_ns)
	for i in $(seq $((BE_WAITER_BOUND * 10))); do # 0.1 s steps, plus each start
		if ip netns exec "$NETNS_S" env PIDLOCK_FILE="$OBS" LD_PRELOAD="$SHIM" true 2>"$T/obs.err"; then
			taken=$((($(now_ns) - ended) / 1000000))
			break
		fi
		[ $(($(now_ns) - ended)) -lt $((BE_WAITER_BOUND * 1000000000)) ] || break
		sleep 0.1
	done
	echo "# another instance took the lock ${taken:-never} ms after the holder ended ($i tries)" >&3
	[ -n "$taken" ] || fail "no instance next to the server had the lock within $BE_WAITER_BOUND s of the holder's end: $(cat "$T/obs.err")"
	# Cut off, it never ran its program: it gave up, or (wait mode going
	# on through server trouble) still tries to reach the server.
	! wrote "$waiter" "$T/w.log" || fail "the cut-off waiter ran its program"
}

cl_case_plugin_mapped() {
	hold sleep 60
	run -0 cat "/proc/$BG_PID/maps"
	assert_output --partial "$SHIM"
	assert_output --partial "$(dirname "$SHIM")/pidlock-$BE_PLUGIN.so"
}

# DESIGN.md, guarantee 18: what the holder publishes where other users read it.
# By default its PID, host and program name, never its arguments (they
# carry secrets: --api-token=...); the whole command line only with
# PIDLOCK_LABEL=cmdline; a label of one's own as given (PIDLOCK_LABEL,
# pidlock run --label); a control character in it is a configuration error.
cl_case_label() {
	local secret=--api-token=Xq7Zt9
	hold "$PYTHON" -c 'import time; time.sleep(60)' "$secret"
	run -0 be_published "$BG_PID"
	assert_output "pidlock $BG_PID $(hostname) python3"
	run -0 "$PIDLOCK" status "$URI"
	assert_output --partial "running as PID $BG_PID on $(hostname) (python3),"
	refute_output --partial Xq7Zt9
	PIDLOCK_FILE="$URI" pl_shim true
	assert_status 75
	assert_err "pidlock: $URI: already running as PID $BG_PID on $(hostname) (python3)"
	kill -TERM "$BG_PID"
	holder_status 10
	# The whole command line, when asked.
	PIDLOCK_LABEL=cmdline hold "$PYTHON" -c 'import time; time.sleep(60)' "$secret"
	run -0 be_published "$BG_PID"
	# All of it, or as much as the server keeps (PostgreSQL: 63 bytes, of
	# which ":TOKEN" takes up to 21, and be_published drops it).
	local whole host
	host=$(hostname)
	whole="pidlock $BG_PID $host $PYTHON -c import time; time.sleep(60) $secret"
	if [[ $whole != "$output"* ]] || [ "${#output}" -lt $((${#whole} < 42 ? ${#whole} : 42)) ]; then
		fail "published [$output], not the command line [$whole]"
	fi
	kill -TERM "$BG_PID"
	holder_status 10
	# A label of one's own, from the variable and from pidlock run.
	PIDLOCK_LABEL='nightly report' hold sleep 60
	run -0 be_published "$BG_PID"
	assert_output "pidlock $BG_PID $(hostname) nightly report"
	run -0 "$PIDLOCK" status --json "$URI"
	assert_output --partial "\"command\":\"nightly report\""
	kill -TERM "$BG_PID"
	holder_status 10
	"$PIDLOCK" run --label 'from run' -f "$URI" -- sleep 60 >"$T/run.out" 2>&1 3>&- &
	BG_PID=$!
	track_pid "$BG_PID"
	wait_until "\"\$PIDLOCK\" status --json \"\$URI\" | grep -q '\"pid\":$BG_PID,'" 10 ||
		fail "pidlock run --label never took the lock: $(cat "$T/run.out")"
	run -0 be_published "$BG_PID"
	assert_output "pidlock $BG_PID $(hostname) from run"
	kill -TERM "$BG_PID"
	holder_status 10
	# Control characters: 78, and the program does not run.
	PIDLOCK_FILE="$URI" pl_shim PIDLOCK_LABEL=$'bad\e[31m' "$PLPROG" note "$T" exit 0
	assert_status 78
	assert_one_pidlock_line "PIDLOCK_LABEL="
	assert_notes "$T" 0
	run -64 "$PIDLOCK" run --label $'bad\e[31m' -f "$URI" -- true
}
