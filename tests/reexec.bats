#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# Guarantee 5 (docs/DESIGN.md), exec of the instance itself: a program that execs itself (C execv,
# Python os.execv, bash exec) keeps the lock across 100 re-execs with no gap,
# whether or not each new image loads the shim. An observer samples
# /proc/locks (lock_is_held) and the PID file during the whole chain.

load test_helper

# Starts the chain CMD... in the background (it waits for $T/go), lets it
# run while observing, then checks the final report: "done pid=PID steps=100".
# Sets CHAIN (the PID).
run_chain_observed() {
	start_shim "$@" >"$T/chain.out" 2>&1 &
	CHAIN=$!
	track_pid "$CHAIN"
	await_pidfile "$PF" "$CHAIN"
	touch "$T/go"
	observe_lock "$PF" "$CHAIN" "$T/report" 40 || fail "observer: $(cat "$T/report" 2>/dev/null) $(cat "$T/chain.out")"
	[ "$OBSERVED" -ge 10 ] || fail "only $OBSERVED samples taken during the chain"
	local report
	report=$(cat "$T/report")
	[[ $report =~ ^done\ pid=$CHAIN\ steps=100(\ |$) ]] || fail "report: [$report]"
	# The last image still holds the lock and is named.
	assert_named_holder "$CHAIN"
}

# Stops the last image (SIGTERM, clean exit): the lock is free afterwards.
# With $1 = removed, the file must be gone too (the last image had the shim).
stop_chain() {
	kill -TERM "$CHAIN"
	local st=0
	wait "$CHAIN" || st=$?
	assert_equal "$st" 0
	refute_lock_held "$PF"
	if [ "${1:-}" = removed ]; then
		assert_file_not_exists "$PF"
	fi
}

@test "C execv of itself 100 times, shim in every image: the lock is never seen free, the file always names the PID" {
	run_chain_observed "$HELPERS/reexec" -o "$T/report" -p "$PF" -g "$T/go" -n 100 -d 10 -s keep
	stop_chain removed
}

@test "C execve of itself 100 times without LD_PRELOAD (no shim after the first image): lock kept throughout" {
	run_chain_observed "$HELPERS/reexec" -o "$T/report" -p "$PF" -g "$T/go" -n 100 -d 10 -s strip
	stop_chain
}

@test "C execve of itself 100 times, LD_PRELOAD removed and restored in turn: lock kept throughout" {
	run_chain_observed "$HELPERS/reexec" -o "$T/report" -p "$PF" -g "$T/go" -n 100 -d 10 -s alternate
	# 100 execs: image 100 was started with LD_PRELOAD (odd steps strip, even restore).
	stop_chain removed
}

@test "python3 os.execv of itself 100 times: lock kept throughout" {
	run_chain_observed "$PYTHON" -S "$BATS_TEST_DIRNAME/helpers/reexec.py" "$T/report" "$PF" "$T/go" 100 keep
	stop_chain removed
}

@test "python3 os.execve of itself 100 times without LD_PRELOAD: lock kept throughout" {
	run_chain_observed "$PYTHON" -S "$BATS_TEST_DIRNAME/helpers/reexec.py" "$T/report" "$PF" "$T/go" 100 strip
	stop_chain
}

@test "bash exec of itself 100 times: lock kept throughout" {
	run_chain_observed /bin/bash "$BATS_TEST_DIRNAME/helpers/reexec.sh" "$T/report" "$PF" "$T/go" 100 keep
	stop_chain removed
}

@test "bash exec of itself 100 times with LD_PRELOAD unset: lock kept throughout" {
	run_chain_observed /bin/bash "$BATS_TEST_DIRNAME/helpers/reexec.sh" "$T/report" "$PF" "$T/go" 100 strip
	stop_chain
}
