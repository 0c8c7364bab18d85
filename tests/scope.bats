#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# Guarantee 5 and PIDLOCK_SCOPE: programs the instance executes (fork+exec,
# system, popen, posix_spawn, subprocess) neither hold, wait for, nor take
# the lock in process scope; in tree scope they keep it until the whole tree
# has exited. A child given another PIDLOCK_FILE takes that lock.

# shellcheck disable=SC2154 # $status, $err and $notes are set by test_helper.bash

load test_helper

bats_require_minimum_version 1.5.0

@test "scope: a bash script with sleep, subshells, \$(...) and a background child runs normally" {
	mkdir "$T/m"
	cat >"$T/script.sh" <<-'EOF'
		set -e
		sleep 0.1
		( echo "in subshell"; "$PLPROG" print "exec from subshell" )
		x=$(echo hi; "$PLPROG" print "in command substitution")
		"$PLPROG" note "$T/m" env state >"$T/child.out"
		sleep 0.2 &
		wait $!
		( sleep 0.1; "$PLPROG" note "$T/m" ) &
		wait $!
		echo "done: $x"
	EOF
	export T PLPROG
	pl_shim PIDLOCK_MODE=wait PIDLOCK_TIMEOUT=20 bash "$T/script.sh"
	assert_status 0
	assert_no_stderr
	grep -qx "in subshell" "$T/out"
	grep -qx "exec from subshell" "$T/out"
	[ "$(grep -x -A1 "done: hi" "$T/out")" = "done: hi"$'\n'"in command substitution" ] ||
		fail "the command substitution's output is not in \$x: $(cat "$T/out")"
	assert_notes "$T/m" 2
	# The executed child passes through: the lock is marked held, not asked
	# for, and its descriptor did not reach the child.
	grep -qx "PIDLOCK_HELD=$PF" "$T/child.out" || fail "child env: $(grep PIDLOCK "$T/child.out")"
	! grep -q '^PIDLOCK_FILE=' "$T/child.out" || fail "child still has PIDLOCK_FILE"
	! grep -q "^fd .* $PF\$" "$T/child.out" || fail "child holds a descriptor on the PID file"
	[ ! -e "$PF" ]
}

@test "scope: process scope: the script holds the lock, its background child does not" {
	cat >"$T/script.sh" <<-'EOF'
		sleep 30 >/dev/null 2>&1 &
		echo "$!" >"$T/child.tmp"
		mv "$T/child.tmp" "$T/child"
		i=0
		while [ ! -e "$T/go" ] && [ "$i" -lt 600 ]; do
			sleep 0.05
			i=$((i + 1))
		done
		exit 0
	EOF
	export T
	start_shim bash "$T/script.sh" >"$T/script.out" 2>"$T/script.err" &
	local script=$! child
	track_pid "$script"
	await_pidfile "$PF" "$script"
	wait_until "[ -e '$T/child' ]" || fail "the script did not start its child"
	child="$(cat "$T/child")"
	track_pid "$child"
	proc_alive "$child"
	# While the script runs it holds the lock, and only it: a new instance
	# is refused; the background child has no descriptor on the file.
	lock_is_held "$PF" || fail "the script does not hold the lock"
	[ "$(holders_of "$PF")" = "$script" ] || fail "holders of $PF: $(holders_of "$PF" | tr '\n' ' '), expected only $script"
	pl_shim "$PLPROG" note "$T" exit 0
	assert_status 75
	assert_notes "$T" 0
	touch "$T/go"
	wait_status "$script"
	assert_status 0
	# One line says the lock goes while the child runs, and the remedy.
	cp "$T/script.err" "$T/err"
	assert_one_pidlock_line "$PF" "the lock ends with PID $script" "PID $child (sleep 30)" "--scope tree"
	# After it exits, the child runs on without the lock.
	proc_alive "$child"
	refute_lock_held "$PF"
	[ -z "$(holders_of "$PF")" ]
}

@test "scope: process scope: after the script exits, a new instance starts while its background child runs" {
	cat >"$T/script.sh" <<-'EOF'
		sleep 30 >/dev/null 2>&1 &
		echo "$!" >"$T/child.tmp"
		mv "$T/child.tmp" "$T/child"
		"$PLPROG" env >"$T/script.env"
		exit 0
	EOF
	export T PLPROG
	pl_shim bash "$T/script.sh"
	assert_status 0
	# The lock ends with the script while its child runs: one line says so.
	assert_one_pidlock_line "$PF" "programs it started still run unguarded" "(sleep 30)" "--scope tree"
	# The script ran under the shim, with the lock: what it executes is
	# told the lock is held.
	grep -qx "PIDLOCK_HELD=$PF" "$T/script.env" || fail "the script did not run with the lock: $(grep PIDLOCK "$T/script.env")"
	local child
	child="$(cat "$T/child")"
	track_pid "$child"
	proc_alive "$child"
	refute_lock_held "$PF"
	[ -z "$(holders_of "$PF")" ]
	pl_shim "$PLPROG" note "$T" exit 0
	assert_status 0
	assert_no_stderr
	assert_notes "$T" 1
	proc_alive "$child"
}

# The script exits while its fork child (a subshell about to execute sleep)
# may still share the lock. Whatever the timing, once that child has executed
# sleep it is a program the instance executed: in process scope it must not
# hold the lock, and the file must not be left naming it (pkill -F and
# start-stop-daemon would signal a process that is not the instance).
bg_child_script() {
	mkfifo "$T/fifo"
	cat >"$T/script.sh" <<-'EOF'
		(read -r -t "$LINGER" _ <>"$T/fifo"; exec sleep 30) >/dev/null 2>&1 &
		echo "$!" >"$T/child"
		exit 0
	EOF
	export T
}

# One trial: run the script, wait for the child's exec; sets $child and
# prints a complaint (returns 1) if the lock or the file still points at it.
bg_child_trial() {
	pl_shim LINGER="$1" bash "$T/script.sh"
	assert_status 0
	child="$(cat "$T/child")"
	track_pid "$child"
	wait_until "[ \"\$(cat /proc/$child/comm 2>/dev/null)\" = sleep ]" || fail "child did not exec sleep"
	local bad=0
	if lock_is_held "$PF"; then
		echo "linger $1: the lock is held after the script exited (by the executed sleep $child?)"
		bad=1
	elif [ -e "$PF" ] && [ "$(cat "$PF")" = "$child" ]; then
		echo "linger $1: $PF names $child ($(tr '\0' ' ' <"/proc/$child/cmdline")), which does not hold the lock"
		bad=1
	fi
	return "$bad"
}

@test "scope: process scope: a child that executes a program after the instance exited does not keep the lock" {
	# The child is a fork copy for 0.3 s (it shares the lock, and may be
	# handed the file), then executes sleep: from then on it is a program the
	# instance executed.
	bg_child_script
	bg_child_trial 0.3 || fail "process scope: the executed program kept the lock or the file names it"
	pl_shim "$PLPROG" note "$T" exit 0
	assert_status 0
	assert_no_stderr
	assert_notes "$T" 1
	proc_alive "$child"
}

@test "scope: process scope: the file never names an executed child after a racing exit (10 trials)" {
	# The exit races with the child's exec (no delay): the outcome must not
	# depend on which comes first.
	bg_child_script
	local i bad=0
	for ((i = 0; i < 10; i++)); do
		bg_child_trial 0 || bad=$((bad + 1))
		rm -f "$PF"
		kill "$child"
	done
	[ "$bad" -eq 0 ] || fail "$bad of 10 trials left the lock or the file to the executed child"
}

@test "scope: tree scope: the lock stays held by the background child until it ends" {
	cat >"$T/script.sh" <<-'EOF'
		"$PLPROG" state >"$T/child.state"
		sleep 30 >/dev/null 2>&1 &
		echo "$!" >"$T/child.tmp"
		mv "$T/child.tmp" "$T/child"
		exit 0
	EOF
	export T PLPROG
	pl_shim PIDLOCK_SCOPE=tree bash "$T/script.sh"
	assert_status 0
	assert_no_stderr
	local child
	child="$(cat "$T/child")"
	track_pid "$child"
	proc_alive "$child"
	grep -q "^fd .* $PF\$" "$T/child.state" || fail "tree scope: the executed child has no descriptor on the lock"
	lock_is_held "$PF" || fail "the lock was released although a descendant runs"
	pl_shim "$PLPROG" note "$T" exit 0
	assert_status 75
	assert_one_pidlock_line "already running as PID $child (sleep 30)"
	assert_notes "$T" 0
	kill "$child"
	wait_until "! proc_alive $child" || fail "child $child did not end"
	wait_until "! lock_is_held '$PF'"
	pl_shim "$PLPROG" note "$T" exit 0
	assert_status 0
	assert_no_stderr
	assert_notes "$T" 1
}

@test "scope: a child given another PIDLOCK_FILE takes that lock as usual" {
	local other="$T/other.pid" parent child
	cat >"$T/script.sh" <<-'EOF'
		PIDLOCK_FILE="$T/other.pid" "$PLPROG" writepid "$T/child" waitfor "$T/go" exit 0 &
		wait $!
		echo "child status $?"
	EOF
	export T PLPROG
	start_shim bash "$T/script.sh" >"$T/h.out" 2>"$T/h.err" &
	parent=$!
	track_pid "$parent"
	wait_until "[ -e '$T/child' ]"
	child="$(cat "$T/child")"
	assert_pidfile_is "$PF" "$parent"
	await_pidfile "$other" "$child"
	lock_is_held "$other"
	lock_is_held "$PF"
	PIDLOCK_FILE="$other" pl_shim "$PLPROG" exit 0
	assert_status 75
	assert_one_pidlock_line "$other" "PID $child"
	pl_shim "$PLPROG" exit 0
	assert_status 75
	assert_one_pidlock_line "$PF" "PID $parent"
	touch "$T/go"
	wait_status "$parent"
	assert_status 0
	grep -qx "child status 0" "$T/h.out"
	[ ! -s "$T/h.err" ] || fail "stderr: $(cat "$T/h.err")"
	[ ! -e "$other" ]
	[ ! -e "$PF" ]
}

@test "scope: python subprocess, os.system, os.popen and posix_spawn children neither wait for nor take the lock" {
	mkdir "$T/m"
	cat >"$T/children.py" <<-'EOF'
		import os, subprocess, sys
		prog, m, pf = sys.argv[1], sys.argv[2], sys.argv[3]
		child = [prog, "note", m, "env", "state", "exit", "0"]
		r = subprocess.run(child, capture_output=True, timeout=15)
		print("subprocess", r.returncode)
		out = r.stdout.decode()
		assert ("PIDLOCK_HELD=" + pf) in out, out
		assert "PIDLOCK_FILE=" not in out, out
		assert (" " + pf + "\n") not in out, "child has a descriptor on the lock"
		print("system", os.waitstatus_to_exitcode(os.system(" ".join(child[:3] + ["exit", "0"]))))
		p = os.popen(" ".join(child[:3] + ["print", "popen-ok"]))
		print("popen", p.read().strip(), p.close())
		pid = os.posix_spawn(prog, [prog, "note", m, "exit", "0"], os.environ)
		print("posix_spawn", os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))
	EOF
	# Wait mode: a child that asked for the lock would block behind its parent.
	pl_shim PIDLOCK_MODE=wait timeout 60 "$PYTHON" "$T/children.py" "$PLPROG" "$T/m" "$PF"
	cat "$T/out"
	assert_status 0
	assert_no_stderr
	grep -qx "subprocess 0" "$T/out"
	grep -qx "system 0" "$T/out"
	grep -qx "popen popen-ok None" "$T/out"
	grep -qx "posix_spawn 0" "$T/out"
	assert_notes "$T/m" 4
}

@test "scope: a C program's system() child passes through, in both scopes" {
	local scope
	mkdir "$T/m"
	for scope in process tree; do
		pl_shim "PIDLOCK_SCOPE=$scope" PIDLOCK_MODE=wait PIDLOCK_TIMEOUT=20 \
			"$PLPROG" system "$PLPROG note $T/m exit 0" exit 0
		assert_status 0
		assert_no_stderr
		grep -qx "system 0" "$T/out" || fail "$scope: $(cat "$T/out")"
	done
	assert_notes "$T/m" 2
}

@test "scope: tree scope: a python subprocess child inherits the lock but does not ask for it" {
	mkdir "$T/m"
	cat >"$T/tree.py" <<-'EOF'
		import subprocess, sys
		prog, m, pf = sys.argv[1], sys.argv[2], sys.argv[3]
		r = subprocess.run([prog, "note", m, "state", "exit", "0"], capture_output=True,
		                   timeout=15, close_fds=False)
		print("subprocess", r.returncode)
		print(r.stdout.decode())
	EOF
	pl_shim PIDLOCK_SCOPE=tree PIDLOCK_MODE=wait timeout 60 "$PYTHON" "$T/tree.py" "$PLPROG" "$T/m" "$PF"
	assert_status 0
	assert_no_stderr
	grep -qx "subprocess 0" "$T/out"
	grep -q "^fd .* $PF\$" "$T/out" || fail "tree scope child has no descriptor on the lock: $(cat "$T/out")"
	assert_notes "$T/m" 1
}
