#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# Guarantee 1: for one path, at most one instance holds the lock at any
# moment: under hundreds of simultaneous starts, during wait-mode handovers
# and while the PID file is being removed at exit. Wait mode blocks in flock,
# honours PIDLOCK_TIMEOUT and hands over when the holder ends.

# shellcheck disable=SC2154 # $status, $err and $notes are set by test_helper.bash

load test_helper

bats_require_minimum_version 1.5.0

@test "exclusion: 200 simultaneous starters in fail mode: exactly one runs, the others exit 75 naming it" {
	local i id st winner=0 ok=0 refused=0 other=() bad_msg=0
	local -A status_of=()
	mkdir "$T/m"
	barrier_close
	for ((i = 0; i < 200; i++)); do
		contender "$i" -- "$PLPROG" marker "$T/m" note "$T/m" waitfor "$T/release" unmark exit 0
		status_of[$!]=pending
		track_pid "$!"
	done
	# Every starter is blocked at the barrier before it is opened.
	# shellcheck disable=SC2016 # evaluated by wait_until
	wait_until '[ "$(lock_waiters "$T/barrier")" -ge 200 ]' 120 ||
		fail "only $(lock_waiters "$T/barrier") of 200 starters reached the barrier"
	barrier_open
	# 199 refusals come back while the winner waits for $T/release.
	for ((i = 0; i < 199; i++)); do
		st=0
		wait -n -p id || st=$?
		status_of[$id]=$st
	done
	touch "$T/release"
	for id in "${!status_of[@]}"; do
		if [ "${status_of[$id]}" = pending ]; then
			st=0
			wait "$id" || st=$?
			status_of[$id]=$st
		fi
	done
	for id in "${!status_of[@]}"; do
		case "${status_of[$id]}" in
		0) ok=$((ok + 1)) winner="$id" ;;
		75) refused=$((refused + 1)) ;;
		*) other+=("$id:${status_of[$id]}") ;;
		esac
	done
	assert_notes "$T/m" 1
	[ "$ok" -eq 1 ] || fail "$ok instances ran"
	[ "$refused" -eq 199 ] || fail "$refused refused (75); other statuses: ${other[*]}"
	[ -e "$T/m/ran.$winner" ] || fail "the instance that exited 0 is not the one that ran"
	# Every refusal is one line that names the instance that ran.
	for ((i = 0; i < 200; i++)); do
		[ -s "$T/err.$i" ] || continue
		err=""
		IFS= read -r -d '' err <"$T/err.$i" || true
		if [[ $err != "pidlock: $PF: already running as PID $winner ("*$')\n' ]] ||
			[[ ${err%$'\n'} == *$'\n'* ]]; then
			bad_msg=$((bad_msg + 1))
			echo "bad refusal message: [$err]"
		fi
	done
	[ "$bad_msg" -eq 0 ] || fail "$bad_msg refusals did not name the holder PID $winner in one line"
	[ ! -e "$PF" ] || fail "the PID file was not removed at the winner's clean exit"
}

@test "exclusion: 50 wait-mode handovers among 150 simultaneous starters never overlap" {
	local i id st p ran_fail=0 refused=0 other=() bad=()
	local -A kind=() status_of=()
	mkdir "$T/m"
	barrier_close
	for ((i = 0; i < 50; i++)); do
		contender "w$i" PIDLOCK_MODE=wait -- "$PLPROG" marker "$T/m" note "$T/m" sleep 0.01 unmark exit 0
		track_pid "$!"
		kind[$!]="w$i"
	done
	for ((i = 0; i < 100; i++)); do
		contender "f$i" -- "$PLPROG" marker "$T/m" note "$T/m" sleep 0.002 unmark exit 0
		track_pid "$!"
		kind[$!]="f$i"
	done
	# shellcheck disable=SC2016 # evaluated by wait_until
	wait_until '[ "$(lock_waiters "$T/barrier")" -ge 150 ]' 120 ||
		fail "only $(lock_waiters "$T/barrier") of 150 starters reached the barrier"
	barrier_open
	for ((i = 0; i < 150; i++)); do
		st=0
		wait -n -p id || st=$?
		status_of[$id]=$st
		case "$st" in
		0) ;;
		75) ;;
		*) other+=("${kind[$id]}:$id:$st") ;;
		esac
	done
	# 99: the marker existed (two instances in main at once); 98: it vanished.
	[ "${#other[@]}" -eq 0 ] || {
		grep -h . "$T"/err.* | sort | uniq -c | head -20
		fail "unexpected exit statuses (99 = overlap): ${other[*]}"
	}
	# Every wait-mode starter ran (status 0, its note, nothing on stderr);
	# a fail-mode starter either ran (0 and its note) or was refused (75, no
	# note, one line naming the holder).
	for p in "${!kind[@]}"; do
		i=${kind[$p]}
		st=${status_of[$p]}
		case "$i:$st" in
		w*:0 | f*:0)
			[ -e "$T/m/ran.$p" ] || bad+=("$i ($p) exited 0 without running main")
			[ "${i:0:1}" = w ] || ran_fail=$((ran_fail + 1))
			;;
		f*:75)
			[ ! -e "$T/m/ran.$p" ] || bad+=("$i ($p) exited 75 after running main")
			# The command line is gone when the named holder is already
			# exiting (seen under ASan on a loaded machine): the PID alone.
			grep -Eq "^pidlock: $PF: already running as PID [0-9]+( \(.*\))?\$" "$T/err.$i" ||
				bad+=("$i ($p) exited 75 without naming the holder: $(cat "$T/err.$i")")
			refused=$((refused + 1))
			;;
		*) bad+=("$i ($p) exited $st") ;;
		esac
		[ "${i:0:1}" = f ] || [ ! -s "$T/err.$i" ] || bad+=("wait-mode starter $i: $(cat "$T/err.$i")")
	done
	[ "${#bad[@]}" -eq 0 ] || fail "$(printf '%s\n' "${bad[@]}" | head -20)"
	echo "wait-mode instances: 50, fail-mode instances that also ran: $ran_fail, refused: $refused"
	[ $((ran_fail + refused)) -eq 100 ] || fail "fail-mode: $ran_fail ran, $refused refused, not 100 in all"
	assert_notes "$T/m" $((50 + ran_fail))
	[ ! -e "$T/m/in-main" ] || fail "an instance left its marker: one was in main at the end"
	[ ! -e "$PF" ] || fail "the PID file was left after the last clean exit"
}

@test "exclusion: 50 rounds of wait-mode handover, each instance alone in main" {
	local r id st prev=""
	mkdir "$T/m"
	# Two instances alive at any time: the holder and a waiter behind it.
	start_shim "$PLPROG" marker "$T/m" note "$T/m" waitfor "$T/go.0" unmark exit 0 \
		>/dev/null 2>"$T/err.0" &
	prev=$!
	track_pid "$prev"
	await_pidfile "$PF" "$prev"
	for ((r = 1; r <= 50; r++)); do
		PIDLOCK_MODE='wait' start_shim "$PLPROG" marker "$T/m" note "$T/m" \
			waitfor "$T/go.$r" unmark exit 0 >/dev/null 2>"$T/err.$r" &
		id=$!
		track_pid "$id"
		# The waiter blocks in flock (no polling) behind the holder.
		wait_until "lock_waiter '$PF' $id" 30 ||
			fail "round $r: instance $id is not blocked in flock on $PF"
		touch "$T/go.$((r - 1))"
		wait_status "$prev"
		[ "$status" -eq 0 ] || fail "round $r: holder $prev exited $status: $(cat "$T/err.$((r - 1))")"
		await_pidfile "$PF" "$id"
		prev=$id
	done
	touch "$T/go.50"
	wait_status "$prev"
	assert_status 0
	assert_notes "$T/m" 51
	[ ! -e "$PF" ]
}

@test "exclusion: wait mode gives up after PIDLOCK_TIMEOUT with 75 and a 'timed out' line" {
	start_shim "$PLPROG" sleep 30 >/dev/null 2>&1 &
	local h=$! t0 t1 before
	track_pid "$h"
	await_pidfile "$PF" "$h"
	before="$(file_stamp "$PF")"
	t0=$(now_ns)
	pl_shim PIDLOCK_MODE=wait PIDLOCK_TIMEOUT=0.5 "$PLPROG" note "$T" exit 0
	t1=$(now_ns)
	assert_status 75
	assert_one_pidlock_line "$PF" "timed out"
	assert_notes "$T" 0
	echo "gave up after $(((t1 - t0) / 1000000)) ms"
	[ $((t1 - t0)) -ge 400000000 ] || fail "gave up before the timeout"
	[ $((t1 - t0)) -lt 10000000000 ] || fail "did not give up within 10 s"
	proc_alive "$h"
	[ "$(file_stamp "$PF")" = "$before" ]
	# PIDLOCK_EXIT_CODE applies to a wait that gave up; timeout 0 is "do not wait".
	pl_shim PIDLOCK_MODE=wait PIDLOCK_TIMEOUT=0.2 PIDLOCK_EXIT_CODE=42 "$PLPROG" note "$T" exit 0
	assert_status 42
	assert_one_pidlock_line "timed out"
	t0=$(now_ns)
	pl_shim PIDLOCK_MODE=wait PIDLOCK_TIMEOUT=0 "$PLPROG" note "$T" exit 0
	t1=$(now_ns)
	assert_status 75
	assert_one_pidlock_line "$PF"
	[ $((t1 - t0)) -lt 10000000000 ]
	assert_notes "$T" 0
}

@test "exclusion: wait mode without timeout waits, then runs as soon as the holder exits" {
	start_shim "$PLPROG" waitfor "$T/release" exit 0 >/dev/null 2>"$T/h.err" &
	local h=$! w
	track_pid "$h"
	await_pidfile "$PF" "$h"
	PIDLOCK_MODE='wait' start_shim "$PLPROG" note "$T" waitfor "$T/release2" exit 0 \
		>/dev/null 2>"$T/w.err" &
	w=$!
	track_pid "$w"
	wait_until "lock_is_held '$PF' && lock_waiter '$PF' $w" || fail "waiter is not blocked in flock"
	sleep 1
	assert_notes "$T" 0
	proc_alive "$w"
	touch "$T/release"
	wait_status "$h"
	assert_status 0
	wait_until "[ -e '$T/ran.$w' ]" || fail "the waiter did not run after the holder exited"
	await_pidfile "$PF" "$w"
	lock_is_held "$PF"
	touch "$T/release2"
	wait_status "$w"
	assert_status 0
	[ ! -s "$T/w.err" ] || fail "waiter stderr: $(cat "$T/w.err")"
	[ ! -e "$PF" ]
}

@test "exclusion: a waiter takes over at once when the holder is killed (file left behind)" {
	start_shim "$PLPROG" sleep 30 >/dev/null 2>&1 &
	local h=$! w
	track_pid "$h"
	await_pidfile "$PF" "$h"
	PIDLOCK_MODE=wait PIDLOCK_TIMEOUT=20 start_shim "$PLPROG" note "$T" sleep 30 \
		>/dev/null 2>"$T/w.err" &
	w=$!
	track_pid "$w"
	wait_until "lock_waiter '$PF' $w"
	kill -KILL "$h"
	wait_until "[ -e '$T/ran.$w' ]" || fail "the waiter did not run after the holder was killed"
	await_pidfile "$PF" "$w"
	[ ! -s "$T/w.err" ] || fail "waiter stderr: $(cat "$T/w.err")"
}
