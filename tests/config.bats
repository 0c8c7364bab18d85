#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# The variables (README, pidlock(1) ENVIRONMENT): every one is validated strictly. A bad value gives one
# line naming the variable and the value, exit 78 (73 for a file problem),
# and the program does not run; good values in every documented spelling work.

# shellcheck disable=SC2154 # $status, $err and $notes are set by test_helper.bash

load test_helper

bats_require_minimum_version 1.5.0

# Bad values, "VARIABLE|VALUE|STATUS". Each is tried with the default mode and,
# for the variables that only matter in one mode, with that mode too.
bad_rows() {
	local v
	# PIDLOCK_FILE: empty is a configuration error; paths that cannot be a
	# PID file are file problems (73). More of those in files.bats.
	echo "PIDLOCK_FILE||78"
	echo "PIDLOCK_FILE|$T/missing-dir/x.pid|73"
	echo "PIDLOCK_FILE|$T|73"
	for v in "" bogus Bogus fai failx "fail " " fail" wait2 replac 1 -1 nan; do
		echo "PIDLOCK_MODE|$v|78"
	done
	for v in "" x - . -1 -0.5 1x 5x 1.5.2 "1 " inf INF nan NaN infinity \
		99999999999999999999 1000000001 1e3 0x10 "1,5" 1..5; do
		echo "PIDLOCK_TIMEOUT|$v|78"
	done
	for v in "" FOO SIGFOO SIG TERMx TERM1 15x 1.5 0 -1 -15 65 999 \
		99999999999999999999 nan inf " TERM"; do
		echo "PIDLOCK_SIGNAL|$v|78"
	done
	for v in "" x -1 256 1000 99999999999999999999 75x 1.5 nan inf " 1" 0x4b; do
		echo "PIDLOCK_EXIT_CODE|$v|78"
	done
	for v in "" x processx "tree " 1 -1 trees; do
		echo "PIDLOCK_SCOPE|$v|78"
	done
	for v in "" x runx "run " 1 yes; do
		echo "PIDLOCK_ON_ERROR|$v|78"
	done
	for var in PIDLOCK_QUIET PIDLOCK_VERBOSE; do
		for v in "" maybe 2 -1 10 yess tru 1x on1 nan "yes " y n t f enable; do
			echo "$var|$v|78"
		done
	done
	# Published on a database server (DESIGN.md, guarantee 18): printable ASCII,
	# 1 to 64 bytes. (Control characters: the next test.)
	for v in "" "café" "$(printf 'x%.0s' $(seq 65))"; do
		echo "PIDLOCK_LABEL|$v|78"
	done
}

@test "config: every bad value of every variable is refused with one line, and the program does not run" {
	local row var val want extra n=0 failures=() m="$T/m"
	mkdir "$m"
	while IFS= read -r row; do
		var="${row%%|*}"
		row="${row#*|}"
		val="${row%|*}"
		want="${row##*|}"
		for extra in "" PIDLOCK_MODE=wait PIDLOCK_MODE=replace; do
			case "$var:$extra" in
			*:) ;;
			PIDLOCK_TIMEOUT:PIDLOCK_MODE=*) ;;
			PIDLOCK_SIGNAL:PIDLOCK_MODE=replace) ;;
			*) continue ;;
			esac
			n=$((n + 1))
			pl_shim ${extra:+"$extra"} "$var=$val" "$PLPROG" note "$m" exit 0
			load_err
			count_notes "$m"
			if [ "$status" -ne "$want" ]; then
				failures+=("$var='$val' $extra: status $status, want $want; stderr: $err")
			elif [ "$want" -eq 78 ] && ! one_pidlock_line "$var" "$val"; then
				failures+=("$var='$val' $extra: want one 'pidlock: ' line naming $var and the value; got: [$err]")
			elif [ "$want" -eq 73 ] && ! one_pidlock_line "$val"; then
				failures+=("$var='$val' $extra: want one 'pidlock: ' line naming the path; got: [$err]")
			elif [ "$notes" -ne 0 ]; then
				failures+=("$var='$val' $extra: the program ran")
			elif [ "$var" != PIDLOCK_FILE ] && [ -e "$PF" ]; then
				failures+=("$var='$val' $extra: the PID file was created although the configuration is bad")
			fi
			if [ "$notes" -ne 0 ]; then
				rm -f "$m"/ran.*
			fi
			if [ -e "$PF" ]; then
				rm -f "$PF"
			fi
		done
	done < <(bad_rows)
	echo "checked $n bad values"
	[ "$n" -gt 100 ]
	if [ "${#failures[@]}" -ne 0 ]; then
		printf '%s\n' "${failures[@]}"
		fail "${#failures[@]} of $n bad values were not handled as the README and pidlock(1) say"
	fi
}

@test "config: PIDLOCK_LABEL with a control character is 78, and the line shows it escaped" {
	# Guarantee 18: the label goes to a database server where
	# other users read it; the refusal puts nothing raw on the terminal.
	pl_shim PIDLOCK_LABEL=$'bad\e[31m\a' "$PLPROG" note "$T" exit 0
	assert_status 78
	assert_one_pidlock_line 'PIDLOCK_LABEL=bad\x1b[31m\x07' "printable ASCII"
	! grep -q $'[\e\a]' "$T/err" || fail "a control byte reached stderr: $(cat -A "$T/err")"
	assert_notes "$T" 0
}

@test "config: two bad variables still give exactly one line and 78" {
	pl_shim PIDLOCK_MODE=bogus PIDLOCK_TIMEOUT=1x PIDLOCK_QUIET=maybe "$PLPROG" note "$T" exit 0
	assert_status 78
	assert_one_pidlock_line
	assert_notes "$T" 0
}

@test "config: a bad value is reported (78) even while another instance holds the lock, which is left alone" {
	start_shim "$PLPROG" sleep 30 >/dev/null 2>&1 &
	local h=$!
	track_pid "$h"
	await_pidfile "$PF" "$h"
	local before
	before="$(file_stamp "$PF")"
	pl_shim PIDLOCK_MODE=Bogus "$PLPROG" note "$T" exit 0
	assert_status 78
	assert_one_pidlock_line PIDLOCK_MODE Bogus
	proc_alive "$h"
	[ "$(file_stamp "$PF")" = "$before" ]
	assert_notes "$T" 0
}

@test "config: good values of every variable are accepted silently" {
	local row failures=() n=0 m
	local -a rows=(
		PIDLOCK_MODE=fail PIDLOCK_MODE=wait PIDLOCK_MODE=replace
		PIDLOCK_TIMEOUT=0 PIDLOCK_TIMEOUT=0.5 PIDLOCK_TIMEOUT=3 PIDLOCK_TIMEOUT=1.25
		PIDLOCK_TIMEOUT=10 PIDLOCK_TIMEOUT=0.001
		"PIDLOCK_MODE=wait PIDLOCK_TIMEOUT=0.5" "PIDLOCK_MODE=replace PIDLOCK_TIMEOUT=0.5"
		PIDLOCK_SIGNAL=TERM PIDLOCK_SIGNAL=SIGTERM PIDLOCK_SIGNAL=sigint PIDLOCK_SIGNAL=int
		PIDLOCK_SIGNAL=15 PIDLOCK_SIGNAL=2 PIDLOCK_SIGNAL=HUP PIDLOCK_SIGNAL=KILL
		PIDLOCK_SIGNAL=USR1
		PIDLOCK_EXIT_CODE=0 PIDLOCK_EXIT_CODE=1 PIDLOCK_EXIT_CODE=75 PIDLOCK_EXIT_CODE=255
		PIDLOCK_SCOPE=process PIDLOCK_SCOPE=tree
		PIDLOCK_ON_ERROR=fail PIDLOCK_ON_ERROR=run
		PIDLOCK_QUIET=1 PIDLOCK_QUIET=0 PIDLOCK_QUIET=true PIDLOCK_QUIET=FALSE
		PIDLOCK_QUIET=Yes PIDLOCK_QUIET=no PIDLOCK_QUIET=ON PIDLOCK_QUIET=off
		PIDLOCK_VERBOSE=0 PIDLOCK_VERBOSE=false PIDLOCK_VERBOSE=NO PIDLOCK_VERBOSE=Off
		PIDLOCK_LABEL=cmdline PIDLOCK_LABEL=x "PIDLOCK_LABEL=$(printf 'y%.0s' $(seq 64))"
	)
	for row in "${rows[@]}"; do
		n=$((n + 1))
		m="$T/m.$n"
		mkdir "$m"
		# shellcheck disable=SC2086 # a row is one or two assignments
		pl_shim $row "$PLPROG" note "$m" exit 0
		count_notes "$m"
		load_err
		if [ "$status" -ne 0 ] || [ -n "$err" ] || [ "$notes" -ne 1 ]; then
			failures+=("$row: status $status, notes $notes, stderr: $err")
		elif [ -e "$PF" ]; then
			failures+=("$row: PID file left behind after a clean exit")
		fi
	done
	if [ "${#failures[@]}" -ne 0 ]; then
		printf '%s\n' "${failures[@]}"
		fail "${#failures[@]} good values were refused or not silent"
	fi
}

@test "config: booleans in every spelling and case (PIDLOCK_QUIET decides the conflict message)" {
	start_shim "$PLPROG" sleep 30 >/dev/null 2>&1 &
	local h=$! v failures=()
	track_pid "$h"
	await_pidfile "$PF" "$h"
	for v in 1 true TRUE True tRuE yes YES Yes on ON On; do
		pl_shim "PIDLOCK_QUIET=$v" "$PLPROG" note "$T" exit 0
		load_err
		if [ "$status" -ne 75 ] || [ -n "$err" ]; then
			failures+=("QUIET=$v: status $status, stderr: $err")
		fi
	done
	for v in 0 false FALSE False fAlSe no NO No off OFF Off; do
		pl_shim "PIDLOCK_QUIET=$v" "$PLPROG" note "$T" exit 0
		if [ "$status" -ne 75 ] || ! one_pidlock_line "PID $h"; then
			failures+=("QUIET=$v: status $status, stderr: $err")
		fi
	done
	count_notes "$T"
	[ "$notes" -eq 0 ] || failures+=("a refused instance ran")
	if [ "${#failures[@]}" -ne 0 ]; then
		printf '%s\n' "${failures[@]}"
		fail "booleans not honoured"
	fi
}

@test "config: PIDLOCK_VERBOSE true in every spelling reports the steps" {
	local v failures=()
	for v in 1 true TRUE True yes YES yEs on ON oN; do
		pl_shim "PIDLOCK_VERBOSE=$v" "$PLPROG" exit 0
		if [ "$status" -ne 0 ] || ! all_pidlock_lines || [[ $err != *acquired* ]]; then
			failures+=("VERBOSE=$v: status $status, stderr: $err")
		fi
	done
	if [ "${#failures[@]}" -ne 0 ]; then
		printf '%s\n' "${failures[@]}"
		fail "verbose spellings not honoured"
	fi
}

@test "config: PIDLOCK_EXIT_CODE is the status of a refused start, 0 to 255 (0: refused but status 0)" {
	start_shim "$PLPROG" sleep 30 >/dev/null 2>&1 &
	local h=$! v
	track_pid "$h"
	await_pidfile "$PF" "$h"
	for v in 0 1 42 75 200 255; do
		pl_shim "PIDLOCK_EXIT_CODE=$v" "$PLPROG" note "$T" exit 7
		assert_status "$v"
		assert_one_pidlock_line "PID $h"
	done
	assert_notes "$T" 0
}

@test "config: PIDLOCK_SIGNAL spellings send the right signal in replace mode" {
	local v want got n=0 h
	for v in TERM:15 SIGTERM:15 sigint:2 int:2 Int:2 SIGINT:2 15:15 2:2 USR1:10 sigusr1:10; do
		want="${v#*:}"
		v="${v%%:*}"
		n=$((n + 1))
		rm -f "$T/ready"
		start_shim "$PLPROG" catch INT catch TERM catch USR1 writepid "$T/ready" sleep 30 exit 0 \
			>"$T/h.$n" 2>&1 &
		h=$!
		track_pid "$h"
		wait_until "[ -e '$T/ready' ]"
		pl_shim PIDLOCK_MODE=replace PIDLOCK_TIMEOUT=5 "PIDLOCK_SIGNAL=$v" "$PLPROG" exit 0
		assert_status 0
		wait_status "$h"
		got="$(cat "$T/h.$n")"
		[ "$got" = "caught $want" ] || fail "PIDLOCK_SIGNAL=$v: holder reports [$got], want caught $want"
		[ "$status" -eq 0 ] || fail "PIDLOCK_SIGNAL=$v: holder status $status"
	done
}

@test "config: PIDLOCK_ON_ERROR=run runs the program unguarded after one warning (bad value)" {
	local v
	for v in PIDLOCK_MODE=Bogus PIDLOCK_TIMEOUT=1x PIDLOCK_SIGNAL=FOO PIDLOCK_EXIT_CODE=256 \
		PIDLOCK_SCOPE=x PIDLOCK_QUIET=maybe PIDLOCK_VERBOSE=2; do
		rm -f "$T"/ran.*
		pl_shim PIDLOCK_ON_ERROR=run "$v" "$PLPROG" note "$T" exit 0
		assert_status 0
		assert_one_pidlock_line "${v%%=*}" "${v#*=}"
		assert_notes "$T" 1
		[ ! -e "$PF" ] || fail "$v: a PID file was created by an unguarded run"
	done
	# Empty PIDLOCK_FILE too.
	rm -f "$T"/ran.*
	PIDLOCK_FILE='' pl_shim PIDLOCK_ON_ERROR=run "$PLPROG" note "$T" exit 0
	assert_status 0
	assert_one_pidlock_line PIDLOCK_FILE
	assert_notes "$T" 1
}

@test "config: PIDLOCK_ON_ERROR=run runs the program after one warning when the file cannot be set up" {
	PIDLOCK_FILE="$T/missing-dir/x.pid" pl_shim PIDLOCK_ON_ERROR=RUN "$PLPROG" note "$T" exit 0
	assert_status 0
	assert_one_pidlock_line "$T/missing-dir/x.pid"
	assert_notes "$T" 1
	[ ! -e "$T/missing-dir" ]
}

@test "config: PIDLOCK_ON_ERROR=run does not bypass exclusion (conflict is not a setup error)" {
	start_shim "$PLPROG" sleep 30 >/dev/null 2>&1 &
	local h=$!
	track_pid "$h"
	await_pidfile "$PF" "$h"
	pl_shim PIDLOCK_ON_ERROR=run "$PLPROG" note "$T" exit 0
	assert_status 75
	assert_one_pidlock_line "PID $h"
	assert_notes "$T" 0
}

@test "config: a bad PIDLOCK_ON_ERROR is itself 78, even with otherwise good values" {
	local v
	for v in "" x maybe runx; do
		pl_shim "PIDLOCK_ON_ERROR=$v" "$PLPROG" note "$T" exit 0
		assert_status 78
		assert_one_pidlock_line PIDLOCK_ON_ERROR "$v"
		assert_notes "$T" 0
	done
}
