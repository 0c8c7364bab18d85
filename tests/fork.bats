#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# Guarantee 6 (fork without exec) and 8 (replace mode stops every holder, each
# verified): a prefork program, a master plus four workers that never exec
# (tests/helpers/forker.c).

load test_helper

# Starts forker prefork under the shim with extra options; sets MASTER,
# WORKERS, CHILD (read_prefork_report).
start_prefork() {
	start_shim "$HELPERS/forker" prefork -o "$T/report" -t 30 "$@" >"$T/prefork.out" 2>&1 &
	BG_PID=$!
	track_pid "$BG_PID"
	wait_report "$T/report"
	read_prefork_report "$T/report"
	[ "$MASTER" = "$BG_PID" ] || fail "master $MASTER is not the started PID $BG_PID"
}

@test "prefork: master and 4 workers share the lock; workers exiting leave it held and named by the master" {
	start_prefork -w 4
	assert_equal "${#WORKERS[@]}" 4
	assert_named_holder "$MASTER"
	for w in "${WORKERS[@]}"; do
		proc_alive "$w" || fail "worker $w is not running"
		holds_file "$w" "$PF" || fail "worker $w has no descriptor on the lock"
	done
	for w in "${WORKERS[@]}"; do
		kill -TERM "$w"
		wait_until "! proc_alive $w" 10 || fail "worker $w did not exit on SIGTERM"
		assert_named_holder "$MASTER"
		assert_equal "$(cat "$PF")" "$MASTER"
	done
	kill -TERM "$MASTER"
	status=0
	wait "$MASTER" || status=$?
	assert_equal "$status" 0
	refute_lock_held "$PF"
	assert_file_not_exists "$PF"
}

@test "prefork: the master exits first via exit(); the file is rewritten to a live holder each time, removed by the last" {
	start_prefork -w 4 -x
	status=0
	wait "$MASTER" || status=$?
	assert_equal "$status" 0
	! proc_alive "$MASTER" || fail "master still running"
	# Right after the master's clean exit: a worker holds the lock and is named.
	assert_named_holder "${WORKERS[@]}"
	[ "$(cat "$PF")" = "$NAMED" ] || fail "PID file is not exactly 'PID\\n'"
	# Stop whoever the file names, four times: each clean exit hands the file on.
	left=4
	while [ "$left" -gt 0 ]; do
		victim=$NAMED
		kill -TERM "$victim"
		wait_until "! proc_alive $victim" 10 || fail "worker $victim did not exit on SIGTERM"
		left=$((left - 1))
		if [ "$left" -gt 0 ]; then
			assert_named_holder "${WORKERS[@]}"
			[ "$NAMED" != "$victim" ] || fail "file still names exited worker $victim"
		fi
	done
	for w in "${WORKERS[@]}"; do
		! proc_alive "$w" || fail "worker $w still running"
	done
	refute_lock_held "$PF"
	assert_file_not_exists "$PF"
}

@test "prefork: master and five workers exit at the same moment (10 rounds); the file ends up naming the survivor" {
	for round in 1 2 3 4 5 6 7 8 9 10; do
		echo "round $round"
		rm -f "$T/report"
		start_prefork -w 6
		survivor=${WORKERS[0]}
		others=("$MASTER" "${WORKERS[@]:1}")
		kill -TERM "${others[@]}"
		for p in "${others[@]}"; do
			wait_until "! proc_alive $p" 10 || fail "$p did not exit on SIGTERM"
		done
		wait "$MASTER" || true
		await_pidfile "$PF" "$survivor"
		assert_named_holder "$survivor"
		kill -TERM "$survivor"
		wait_until "! proc_alive $survivor" 10 || fail "survivor did not exit"
		refute_lock_held "$PF"
		assert_file_not_exists "$PF"
	done
}

@test "prefork: no copy ever calls flock(LOCK_UN) on the shared lock (strace -f)" {
	command -v strace >/dev/null || skip "strace is not installed"
	strace -f -qq -e trace=flock -o "$T/trace" -E LD_PRELOAD="$SHIM" -E PIDLOCK_FILE="$PF" \
		"$HELPERS/forker" prefork -w 4 -x -o "$T/report" -t 30 >"$T/out" 2>&1 3>&- &
	tracer=$!
	track_pid "$tracer"
	wait_report "$T/report"
	read_prefork_report "$T/report"
	wait_until "! proc_alive $MASTER" 10 || fail "master did not exit"
	assert_named_holder "${WORKERS[@]}"
	# Every worker exits cleanly, the named one first each time.
	left=4
	while [ "$left" -gt 0 ]; do
		victim=$(pf_pid)
		one_of "$victim" "${WORKERS[@]}" || fail "file names '$victim', not a worker"
		kill -TERM "$victim"
		wait_until "! proc_alive $victim" 10 || fail "worker $victim did not exit"
		left=$((left - 1))
	done
	status=0
	wait "$tracer" || status=$?
	assert_equal "$status" 0
	refute_lock_held "$PF"
	assert_file_not_exists "$PF"
	# The trace really saw the lock being taken ...
	grep -Eq 'flock\([0-9]+, LOCK_EX' "$T/trace" || fail "no flock(LOCK_EX) in the trace"
	# ... and no process ever unlocked it.
	! grep -n 'LOCK_UN' "$T/trace" || fail "a process called flock(LOCK_UN)"
}

@test "replace mode stops the master and every worker (SIGTERM each), not a non-holder child, and takes the lock" {
	start_prefork -w 4 -e -l "$T/log"
	[ -n "$CHILD" ] || fail "no exec'd child reported"
	assert_named_holder "$MASTER"
	! holds_file "$CHILD" "$PF" || fail "exec'd child $CHILD holds the lock (process scope)"
	old=("$MASTER" "${WORKERS[@]}")
	PIDLOCK_MODE=replace PIDLOCK_TIMEOUT=5 start_shim sleep 30 >"$T/new.out" 2>&1 &
	new=$!
	track_pid "$new"
	await_pidfile "$PF" "$new"
	for p in "${old[@]}"; do
		! proc_alive "$p" || fail "old holder $p still running"
		grep -qx "term $p" "$T/log" || fail "old holder $p did not exit through its SIGTERM path: $(cat "$T/log")"
	done
	assert_named_holder "$new"
	proc_alive "$CHILD" || fail "the non-holder child $CHILD was signalled"
}

@test "replace mode: a worker that ignores SIGTERM is killed after PIDLOCK_TIMEOUT" {
	start_prefork -w 4 -I 2 -l "$T/log"
	stubborn=${WORKERS[2]}
	old=("$MASTER" "${WORKERS[@]}")
	PIDLOCK_MODE=replace PIDLOCK_TIMEOUT=1 start_shim sleep 30 >"$T/new.out" 2>&1 &
	new=$!
	track_pid "$new"
	await_pidfile "$PF" "$new"
	for p in "${old[@]}"; do
		! proc_alive "$p" || fail "old holder $p still running"
	done
	# It was asked first (it logged and ignored SIGTERM), then killed.
	grep -qx "ignored $stubborn" "$T/log" || fail "worker $stubborn never got SIGTERM: $(cat "$T/log")"
	! grep -qx "term $stubborn" "$T/log" || fail "worker $stubborn exited by itself"
	for p in "$MASTER" "${WORKERS[0]}" "${WORKERS[1]}" "${WORKERS[3]}"; do
		grep -qx "term $p" "$T/log" || fail "holder $p got no SIGTERM: $(cat "$T/log")"
	done
	assert_named_holder "$new"
}
