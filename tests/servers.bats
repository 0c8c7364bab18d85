#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# Real servers and launchers (README, "Which scope for which program"): the PID file names the
# process a user would signal, and the usual tools stop the whole server by it.
# nginx, memcached, gunicorn, supervisord and npm are the Debian packages,
# installed by setup_file where missing. Every server listens on 127.0.0.1 on
# a free high port, keeps its files under the test's directory, and is ended
# by the PIDs it wrote or that hold the lock (never by name).

# shellcheck disable=SC2154,SC2153 # $status and $err are set by test_helper.bash; MASTER by servers_lib.bash
# shellcheck disable=SC2034 # TRACKED is read by the teardown

load test_helper

bats_require_minimum_version 1.5.0

load servers_lib

setup_file() { servers_setup_file; }
setup() { servers_setup; }
teardown() { servers_teardown; }

@test "nginx, 20 starts through pidlock run: the file names the master, start-stop-daemon --stop stops all of it" {
	local port i
	port=$(free_port)
	nginx_conf "$port"
	for ((i = 1; i <= 20; i++)); do
		pl_run timeout 20 "$PIDLOCK" run -f "$PF" -- "$NGINX" "${NGINX_ARGS[@]}" 3>&-
		assert_status 0
		nginx_master
		wait_until "listening $port" 10 || fail "start $i: nginx is not listening on $port"
		assert_workers_of "$MASTER" "$WORKERS"
		lock_is_held "$PF" || fail "start $i: the lock is not held"
		assert_file_names "$MASTER"
		pl_run timeout 30 start-stop-daemon --stop --pidfile "$PF" --retry 5
		assert_status 0
		assert_all_gone "$MASTER $WORKERS"
		wait_until "! lock_is_held '$PF'" 10 || fail "start $i: the lock is still held after the stop"
		wait_until "! listening $port" 10 || fail "start $i: port $port still in use after the stop"
		TRACKED=()
	done
}

# ---- the master helper (a prefork server) ----

# 20 starts of tests/helpers/master with options $@: after the launcher has
# exited the file names the master; kill "$(cat FILE)" stops the whole server.
prefork_starts() {
	local i master workers
	for ((i = 1; i <= 20; i++)); do
		rm -f "$T/report"
		pl_run timeout 20 "$PIDLOCK" run -f "$PF" -- "$HELPERS/master" -o "$T/report" -t 60 "$@" 3>&-
		assert_status 0
		master=$(awk '$1 == "master" { print $2 }' "$T/report")
		workers=$(awk '$1 == "worker" { printf "%s ", $2 }' "$T/report")
		# shellcheck disable=SC2086
		track_all "$master" $workers
		assert_workers_of "$master" "$workers"
		assert_file_names "$master"
		kill -TERM "$(cat "$PF")"
		assert_all_gone "$master $workers"
		wait_until "! lock_is_held '$PF'" 10 || fail "start $i: the lock is still held"
		TRACKED=()
	done
}

@test "prefork helper, 20 starts: the file names the master, not a worker, once the launcher has exited" {
	prefork_starts -w 3
}

@test "prefork helper as a daemon (double fork), 20 starts: the file names the master" {
	prefork_starts -w 3 -d
}

# ---- in-place upgrades (tree scope) ----

# ---- a daemon that drops privileges before it forks ----

@test "memcached -d -u nobody through pidlock run: after the launcher exits the file names the daemon" {
	local port launcher named
	port=$(free_port)
	"$PIDLOCK" run -f "$PF" -- memcached -d -u nobody -l 127.0.0.1 -p "$port" -U 0 -m 8 -c 64 \
		>"$T/out" 2>"$T/err" </dev/null 3>&- &
	launcher=$!
	wait_status "$launcher"
	assert_status 0
	wait_until "listening $port" 10 || fail "memcached is not listening on $port: $(cat "$T/err")"
	# shellcheck disable=SC2046
	track_all $(holders_of "$PF")
	named=$(read_pidfile "$PF") || fail "no PID in $PF"
	[ "$named" != "$launcher" ] || fail "$PF still names the launcher $launcher, which has exited"
	proc_alive "$named" || fail "$PF names $named, which is not running"
	[[ $(cmdline_of "$named") == memcached* ]] || fail "$PF names $(describe "$named"), not memcached"
	[ "$(uid_of "$named")" = "$(id -u nobody)" ] || fail "$(describe "$named") does not run as nobody"
	holders_of "$PF" | grep -qx "$named" || fail "$(describe "$named") does not hold the lock"

	pl_run timeout 30 "$PIDLOCK" stop "$PF"
	assert_status 0
	assert_all_gone "$named"
	wait_until "! listening $port" 10 || fail "port $port still in use after the stop"
}

# ---- launchers: npm, then sh, then node ----

# A program that marks the lock's descriptor close-on-exec ($2: "ioctl",
# Python's os.set_inheritable, or "fcntl"), prints what F_GETFD then says,
# takes a POSIX lock on another file (a fcntl command with a pointer), then
# starts `sleep 30` and prints its PID.
cloexec_prog() {
	cat >"$T/cloexec.py" <<-'EOF2'
		import fcntl, os, subprocess, sys
		pf, how, other = sys.argv[1:4]
		def target(n):
		    try:
		        return os.readlink("/proc/self/fd/" + n)
		    except OSError:
		        return None
		fd = next(int(n) for n in os.listdir("/proc/self/fd") if target(n) == pf)
		if how == "ioctl":
		    os.set_inheritable(fd, False)  # ioctl(fd, FIOCLEX) in CPython
		else:
		    fcntl.fcntl(fd, fcntl.F_SETFD, fcntl.FD_CLOEXEC)
		print("cloexec", fcntl.fcntl(fd, fcntl.F_GETFD) & fcntl.FD_CLOEXEC, flush=True)
		with open(other, "w") as f:
		    fcntl.lockf(f, fcntl.LOCK_EX)
		child = subprocess.Popen(["sleep", "30"], close_fds=False)
		print("child", child.pid, flush=True)
		child.wait()
	EOF2
}

@test "tree scope: fcntl(F_SETFD, FD_CLOEXEC) and ioctl(FIOCLEX) on the lock leave it inheritable; process scope unchanged" {
	local how scope prog child want
	cloexec_prog
	for scope in tree process; do
		for how in ioctl fcntl; do
			rm -f "$T/cloexec.out"
			"$PIDLOCK" run --scope "$scope" -f "$PF" -- python3 "$T/cloexec.py" "$PF" "$how" \
				"$T/other" >"$T/cloexec.out" 2>&1 </dev/null 3>&- &
			prog=$!
			track_pid "$prog"
			wait_until "grep -qs '^child ' '$T/cloexec.out'" 20 ||
				fail "$scope/$how: no child: $(cat "$T/cloexec.out")"
			child=$(awk '$1 == "child" { print $2 }' "$T/cloexec.out")
			track_pid "$child"
			# The truth: what exec will do with the descriptor.
			want=1
			[ "$scope" = process ] || want=0
			grep -qx "cloexec $want" "$T/cloexec.out" ||
				fail "$scope/$how: F_GETFD should say $want: $(cat "$T/cloexec.out")"
			if [ "$scope" = tree ]; then
				holders_of "$PF" | grep -qx "$child" || fail "$scope/$how: the child $child does not hold the lock"
			else
				! holders_of "$PF" | grep -qx "$child" || fail "$scope/$how: the child $child holds the lock"
			fi
			pl_run timeout 30 "$PIDLOCK" stop "$PF"
			assert_status 0
			assert_all_gone "$prog"
			[ "$scope" = process ] || assert_all_gone "$child"
			kill "$child" 2>/dev/null || true
			TRACKED=()
		done
	done
}

# ---- supervisord ----

# ---- exported variables and control commands ----

@test "exported variables reach control commands: nginx -s reload is refused with 75" {
	local port
	port=$(free_port)
	nginx_conf "$port"
	# The pitfall: a shell (or systemd's Environment=) exporting the variables.
	local -a exported=(env "PIDLOCK_FILE=$PF" "LD_PRELOAD=$SHIM")
	pl_run timeout 20 "${exported[@]}" "$NGINX" "${NGINX_ARGS[@]}" 3>&-
	assert_status 0
	nginx_master
	pl_run timeout 20 "${exported[@]}" "$NGINX" "${NGINX_ARGS[@]}" -s reload
	assert_status 75
	assert_one_pidlock_line "$PF: already running as PID"
	pl_run timeout 30 "$PIDLOCK" stop "$PF"
	assert_status 0
	assert_all_gone "$MASTER $WORKERS"
}

@test "variables only on the service's own command line (pidlock run): nginx -s reload works and the lock stays held" {
	local port old
	port=$(free_port)
	nginx_conf "$port"
	pl_run timeout 20 "$PIDLOCK" run -f "$PF" -- "$NGINX" "${NGINX_ARGS[@]}" 3>&-
	assert_status 0
	nginx_master
	old=$WORKERS
	pl_run timeout 20 "$NGINX" "${NGINX_ARGS[@]}" -s reload
	assert_status 0
	# The master replaces its workers; old ones leave, new ones hold the lock.
	assert_all_gone "$old" 15
	wait_until "[ \$(children $MASTER | wc -l) -eq 2 ]" 10 || fail "no new workers after the reload"
	WORKERS=$(children "$MASTER" | tr '\n' ' ')
	# shellcheck disable=SC2086
	track_all $WORKERS
	proc_alive "$MASTER" || fail "the master $MASTER did not survive the reload"
	lock_is_held "$PF" || fail "the lock was lost at the reload"
	pl_run "$PIDLOCK" run -f "$PF" -- "$NGINX" "${NGINX_ARGS[@]}"
	assert_status 75
	pl_run timeout 30 "$PIDLOCK" stop "$PF"
	assert_status 0
	assert_all_gone "$MASTER $WORKERS"
}

# ---- start-stop-daemon ----

# True when $PF names a running plprog.
names_plprog() {
	local p
	p=$(cat "$PF" 2>/dev/null) || return 1
	[ -n "$p" ] && [ "$(readlink "/proc/$p/exe" 2>/dev/null)" = "$PLPROG" ]
}

@test "start-stop-daemon --background --exec pidlock -- run: a start that pidlock refused still returns 0 (documented)" {
	start_shim "$PLPROG" sleep 60 >/dev/null 2>&1 &
	local holder=$!
	track_pid "$holder"
	await_pidfile "$PF" "$holder"
	pl_run timeout 20 start-stop-daemon --start --background --exec "$PIDLOCK" -- \
		run -f "$PF" -- "$PLPROG" note "$T" exit 0 3>&-
	assert_status 0
	# The refusal happened in the background, where nobody sees its 75.
	sleep 0.5
	assert_notes "$T" 0
	assert_pidfile_is "$PF" "$holder"
}

