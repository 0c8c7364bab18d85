#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# Replace is a restart, as file watchers mean it (docs/DESIGN.md, "Replace storms"): when
# replace requests overlap, the newest wins, within a second or two of the
# old instance's own shutdown; an overtaken request steps aside with the
# conflict status (75) and one line; every instance receives the configured
# signal and its full grace period before any SIGKILL.

# shellcheck disable=SC2154 # $status and $err are set by test_helper.bash

load test_helper

bats_require_minimum_version 1.5.0

# The program each request starts: logs "NAME started PID", and on SIGTERM
# takes SHUTDOWN seconds over its shutdown, logs "NAME stopped", and then
# dies of the signal (as programs whose handler re-raises it do).
write_app() {
	cat >"$T/app.sh" <<-'EOF'
		name=$1 shutdown=$2 log=$3
		trap 'sleep "$shutdown"; echo "$name stopped" >>"$log"; trap - TERM; kill -TERM $$' TERM
		echo "$name started $$" >>"$log"
		i=0
		while [ "$i" -lt 600 ]; do sleep 0.1; i=$((i + 1)); done
	EOF
}

# replacer NAME: `pidlock run --replace` of the app in the background; its
# PID (the replacer, which becomes the app if it wins) goes to REPLACERS.
replacer() {
	"$PIDLOCK" run --replace -f "$PF" -- bash "$T/app.sh" "$1" "$SHUTDOWN" "$T/log" \
		>"$T/$1.out" 2>"$T/$1.err" </dev/null 3>&- &
	REPLACERS+=("$!")
	NAMES+=("$1")
	track_pid "$!"
}

# The request NAME's status once it has ended.
ended_status() {
	local i
	for i in "${!NAMES[@]}"; do
		if [ "${NAMES[i]}" = "$1" ]; then
			wait_status "${REPLACERS[i]}"
			return 0
		fi
	done
	fail "no request $1"
}

# Every request but the last either stepped aside (75, one line saying it
# was overtaken) or ran and then ended by the signal after its shutdown
# (143); none was killed (137), and each that ran logged its shutdown.
check_the_others() {
	local i last=$((${#NAMES[@]} - 1)) name
	for ((i = 0; i < last; i++)); do
		name=${NAMES[i]}
		wait_status "${REPLACERS[i]}"
		case $status in
		75)
			cp "$T/$name.err" "$T/err"
			assert_one_pidlock_line "$PF" "overtaken"
			! grep -q "^$name started" "$T/log" || fail "$name stepped aside after it had started"
			;;
		143)
			grep -q "^$name stopped" "$T/log" || fail "$name ended by SIGTERM without its shutdown"
			;;
		*) fail "request $name ended with $status (137: killed without its grace period): $(cat "$T/$name.err")" ;;
		esac
	done
}

@test "storm: two replace requests 0.2 s apart against a holder that takes 1 s to shut down: the newer runs, the older steps aside" {
	SHUTDOWN=1
	REPLACERS=() NAMES=()
	write_app
	start_shim bash "$T/app.sh" v0 "$SHUTDOWN" "$T/log" >/dev/null 2>&1 &
	local h0=$!
	track_pid "$h0"
	await_pidfile "$PF" "$h0"
	replacer vA
	sleep 0.2
	replacer vB
	local b=${REPLACERS[1]} t0=$SECONDS
	wait_until "grep -q '^vB started' '$T/log'" 30 || fail "vB never started: $(cat "$T/log")"
	[ $((SECONDS - t0)) -le 6 ] || fail "vB started $((SECONDS - t0)) s after the request (the old one takes 1 s)"
	wait_status "$h0"
	assert_status 143
	grep -q '^v0 stopped' "$T/log" || fail "v0 did not get its shutdown"
	assert_pidfile_is "$PF" "$b"
	check_the_others
	lock_is_held "$PF" || fail "the newest does not hold the lock"
}

@test "storm: ten replace requests 20 ms apart (three rounds): the tenth runs each time, the others step aside or are replaced in turn" {
	local round i last
	SHUTDOWN=1
	write_app
	for round in 1 2 3; do
		REPLACERS=() NAMES=()
		rm -f "$PF" "$T/log"
		start_shim bash "$T/app.sh" v0 "$SHUTDOWN" "$T/log" >/dev/null 2>&1 &
		track_pid $!
		await_pidfile "$PF" $!
		for i in 1 2 3 4 5 6 7 8 9 10; do
			replacer "v$i"
			sleep 0.02
		done
		last=${REPLACERS[9]}
		wait_until "grep -q '^v10 started' '$T/log'" 40 || fail "round $round: v10 never started: $(cat "$T/log")"
		# Everybody else is done soon after; v10 alone runs.
		check_the_others
		assert_pidfile_is "$PF" "$last"
		[ "$(holders_of "$PF")" = "$last" ] || fail "round $round: holders: $(holders_of "$PF" | tr '\n' ' ')"
		kill -TERM "$last"
		wait "$last" || true
	done
}

@test "storm: a request overtaken while the lock is free for an instant still steps aside: the newest wins" {
	# The holder dies at once (no shutdown); the requests arrive around it.
	SHUTDOWN=0
	REPLACERS=() NAMES=()
	write_app
	start_shim bash "$T/app.sh" v0 0 "$T/log" >/dev/null 2>&1 &
	track_pid $!
	await_pidfile "$PF" $!
	local i
	for i in 1 2 3 4 5; do
		replacer "v$i"
		sleep 0.05
	done
	wait_until "grep -q '^v5 started' '$T/log'" 30 || fail "v5 never started: $(cat "$T/log")"
	check_the_others
	assert_pidfile_is "$PF" "${REPLACERS[4]}"
}
