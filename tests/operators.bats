#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# What operators do, with the real programs (the contract's "A clean stop
# leaves nothing behind", and the scripts case): daemons that drop their
# privileges, stopped every usual way; an in-place upgrade, then a clean quit;
# a shell script that starts a daemon without exec. tests/recipes.bats runs
# the documents' own recipes.

# shellcheck disable=SC2154,SC2153 # $status and $err are set by test_helper.bash; MASTER by servers_lib.bash

load test_helper
load servers_lib

bats_require_minimum_version 1.5.0

setup_file() { servers_setup_file; }
setup() { servers_setup; }
teardown() { servers_teardown; }

# Both tools agree on the state: `pidlock status` and start-stop-daemon
# --status exit with the LSB code $1 (0 running, 1 dead with a file, 3 not
# running).
assert_both_say() {
	pl_run "$PIDLOCK" status "$PF"
	[ "$status" -eq "$1" ] || fail "pidlock status says $status, expected $1: $(cat "$T/out" "$T/err")"
	pl_run start-stop-daemon --status --pidfile "$PF"
	[ "$status" -eq "$1" ] || fail "start-stop-daemon --status says $status, expected $1"
}

# ---- a daemon that drops its privileges ----

# memcached -d -u nobody through pidlock run, as the recipes start it, below
# a subreaper (tests/helpers/reaper.c: this sandbox's PID 1 may not reap the
# daemon once it is killed, and start-stop-daemon counts a zombie as
# running). Sets MC (the daemon, which the file names, running as nobody)
# and PORT.
start_memcached() {
	PORT=$(free_port)
	"$HELPERS/reaper" "$PIDLOCK" run -f "$PF" -- memcached -d -u nobody -l 127.0.0.1 -p "$PORT" \
		-U 0 -m 8 -c 64 >"$T/mc.out" 2>"$T/mc.err" </dev/null 3>&- &
	track_pid $!
	wait_until "listening $PORT" 10 || fail "memcached is not listening: $(cat "$T/mc.err")"
	await_dropped_daemon memcached
	assert_both_say 0
}

# Waits until the file names a live process running program $1 as nobody
# (the launcher has handed it on) and sets MC to it.
await_dropped_daemon() {
	# shellcheck disable=SC2034 # named is set and read inside wait_until's condition
	local named
	wait_until "named=\$(cat '$PF' 2>/dev/null); [ -n \"\$named\" ] &&
		[[ \$(cmdline_of \"\$named\") == $1* ]] && [ \"\$(uid_of \"\$named\")\" = $(id -u nobody) ]" 15 ||
		fail "$PF does not come to name $1 running as nobody: [$(cat "$PF" 2>/dev/null)]"
	MC=$(cat "$PF")
	MC=${MC%$'\n'}
	track_pid "$MC"
}

# After the daemon has gone: the port is free, no file is left, both say 3.
assert_clean_stop() {
	assert_all_gone "$MC"
	wait_until "! listening $PORT" 10 || fail "port $PORT still in use"
	wait_until "[ ! -e '$PF' ]" 10 || fail "a clean stop left $PF: [$(cat "$PF" 2>/dev/null)]"
	assert_both_say 3
}

@test "memcached -u nobody stopped by start-stop-daemon --stop --retry TERM/10/KILL/5: no file left, both say 3" {
	start_memcached
	pl_run start-stop-daemon --stop --pidfile "$PF" --retry TERM/10/KILL/5
	assert_status 0
	assert_clean_stop
}

@test "memcached -u nobody stopped by kill -TERM: no file left, both say 3" {
	start_memcached
	kill -TERM "$MC"
	assert_clean_stop
}

@test "memcached -u nobody stopped by pidlock stop: no file left, both say 3" {
	start_memcached
	pl_run timeout 30 "$PIDLOCK" stop "$PF"
	assert_status 0
	assert_clean_stop
}

@test "memcached -u nobody that crashes (SIGKILL): the file stays, both say 1; the next start takes over" {
	start_memcached
	kill -KILL "$MC"
	assert_all_gone "$MC"
	sleep 1 # what would remove the file has had its chance
	[ -e "$PF" ] || fail "the file of a crashed daemon was removed: a crash must be told apart"
	assert_both_say 1
	start_memcached
	kill -TERM "$MC"
	assert_clean_stop
}

@test "memcached -u nobody: what removes the file holds none of the daemon's descriptors and is not a holder" {
	start_memcached
	local p tidy=""
	for p in $(ps -eo pid=); do
		[ "$(cat "/proc/$p/comm" 2>/dev/null)" = pidlock-tidy ] || continue
		holds_file "$p" "$PF" && tidy="$p"
	done
	[ -n "$tidy" ] || fail "no pidlock-tidy process has the PID file open"
	track_pid "$tidy"
	[ "$(uid_of "$tidy")" = 0 ] || fail "the tidy process does not run as root"
	# Only its own descriptor on the file: no socket, no pipe of memcached's.
	[ "$(find "/proc/$tidy/fd" -mindepth 1 | wc -l)" -eq 1 ] ||
		fail "the tidy process keeps descriptors: $(ls -l "/proc/$tidy/fd")"
	# It waits for the lock (a blocked request), it does not hold it.
	lock_waiter "$PF" "$tidy" || fail "the tidy process is not waiting for the lock"
	kill -TERM "$MC"
	assert_clean_stop
	wait_until "! proc_alive $tidy" 10 || fail "the tidy process stayed after its work"
}

@test "memcached -u nobody with pidlock-tidy killed too (a unit's stop): the marked file says 3 to pidlock status" {
	start_memcached
	local p
	for p in $(ps -eo pid=); do
		[ "$(cat "/proc/$p/comm" 2>/dev/null)" = pidlock-tidy ] && holds_file "$p" "$PF" && kill -TERM "$p"
	done
	kill -TERM "$MC"
	assert_all_gone "$MC"
	[ -e "$PF" ] || fail "nothing should have removed $PF"
	pl_run "$PIDLOCK" status "$PF"
	assert_status 3
	# The next start takes the file over silently.
	start_memcached
	kill -TERM "$MC"
	assert_clean_stop
}

@test "dnsmasq -u nobody (daemonises, drops privileges) stopped by kill -TERM: no file left, both say 3" {
	skip_if_instrumented asan "under the ASan runtime dnsmasq does not come to run as nobody (no sanitizer report; cause not yet known)"
	PORT=$(free_port)
	"$HELPERS/reaper" "$PIDLOCK" run -f "$PF" -- dnsmasq --conf-file=/dev/null --no-resolv \
		--no-hosts --bind-interfaces --listen-address=127.0.0.1 --port="$PORT" --pid-file= \
		-u nobody >"$T/dns.out" 2>"$T/dns.err" </dev/null 3>&- &
	track_pid $!
	await_dropped_daemon dnsmasq
	assert_both_say 0
	kill -TERM "$MC"
	assert_all_gone "$MC"
	wait_until "[ ! -e '$PF' ]" 10 || fail "a clean stop left $PF"
	assert_both_say 3
}

# A daemon whose workers drop privileges and run programs, as Apache's and
# nginx's do: fork (the launcher exits), setsid, then the master, once
# named, forks workers that setuid(nobody) and each fork a child that
# executes sleep (a CGI program).
write_worker_daemon() {
	cat >"$T/wd.py" <<-'PY'
		import os, signal, sys, time
		report = sys.argv[1]
		if os.fork():
		    os._exit(0)
		os.setsid()
		time.sleep(0.5)  # named by now: the launcher has handed the file on
		kids = []
		for i in range(2):
		    pid = os.fork()
		    if pid == 0:
		        os.setuid(65534)
		        c = os.fork()
		        if c == 0:
		            os.execv("/bin/sleep", ["sleep", "30"])
		        with open("%s.d/cgi%d" % (report, i), "w") as f:
		            f.write(str(c))
		        signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
		        time.sleep(60)
		        sys.exit(0)
		    kids.append(pid)
		def stop(*a):
		    for k in kids:
		        os.kill(k, signal.SIGTERM)
		    for k in kids:
		        os.waitpid(k, 0)
		    sys.exit(0)
		signal.signal(signal.SIGTERM, stop)
		with open(report, "w") as f:
		    f.write(str(os.getpid()))
		time.sleep(60)
	PY
}

@test "a daemon's workers that drop privileges are workers: no tidy process of theirs, their programs do not keep the lock, a clean stop leaves nothing" {
	local master cgi p
	write_worker_daemon
	mkdir -m 0777 "$T/master.d" # the workers, as nobody, report there
	"$HELPERS/reaper" "$PIDLOCK" run -f "$PF" -- "$PYTHON" "$T/wd.py" "$T/master" \
		>"$T/wd.out" 2>&1 </dev/null 3>&- &
	track_pid $!
	wait_until "[ -s '$T/master' ] && [ -s '$T/master.d/cgi0' ] && [ -s '$T/master.d/cgi1' ]" 15 ||
		fail "the daemon did not start: $(cat "$T/wd.out")"
	master=$(cat "$T/master")
	track_pid "$master"
	# shellcheck disable=SC2046
	track_all $(descendants "$master")
	wait_until "[ \"\$(cat '$PF' 2>/dev/null)\" = '$master' ]" 10 || fail "$PF does not name the master"
	for cgi in "$(cat "$T/master.d/cgi0")" "$(cat "$T/master.d/cgi1")"; do
		! holds_file "$cgi" "$PF" || fail "the worker's program $(describe "$cgi") keeps the lock"
	done
	for p in $(ps -eo pid=); do
		if [ "$(cat "/proc/$p/comm" 2>/dev/null)" = pidlock-tidy ] && holds_file "$p" "$PF"; then
			fail "a worker started a tidy process ($p): workers are not the daemon"
		fi
	done
	kill -TERM "$master"
	assert_all_gone "$master" 15
	wait_until "[ ! -e '$PF' ]" 10 || fail "a clean stop left $PF"
	assert_both_say 3
}

# ---- an in-place upgrade, then a clean quit ----

@test "nginx upgraded in place as the recipe says, then nginx -s quit: no file left, both say 3" {
	skip_if_instrumented asan "under the ASan runtime the file is empty once the old master has quit (no sanitizer report; cause not yet known)"
	local port old new
	port=$(free_port)
	nginx_conf "$port"
	pl_run timeout 20 "$PIDLOCK" run --scope tree -f "$PF" -- "$NGINX" "${NGINX_ARGS[@]}" 3>&-
	assert_status 0
	nginx_master
	old=$MASTER
	kill -USR2 "$old"
	wait_until "[ -e '$T/nginx.own.oldbin' ] && [ \"\$(cat '$T/nginx.own' 2>/dev/null)\" != '$old' ]" 15 ||
		fail "nginx did not start a new master: $(tail -5 "$T/nginx/error.log")"
	nginx_master
	new=$MASTER
	kill -QUIT "$old"
	wait_until "! proc_alive $old" 15 || fail "the old master did not quit"
	assert_file_names "$new"
	assert_both_say 0
	# The new master runs with the environment nginx gave it, and tidies
	# at its exit all the same: the library was put back into it.
	pl_run "$NGINX" "${NGINX_ARGS[@]}" -s quit
	assert_status 0
	assert_all_gone "$new $WORKERS" 15
	wait_until "[ ! -e '$PF' ]" 10 || fail "the upgraded server's clean quit left $PF"
	assert_both_say 3
}

# ---- a shell script that starts a daemon without exec ----

# Apache under its own configuration in $T/apache (apache2ctl reads
# APACHE_CONFDIR's envvars and apache2.conf): prefork, 2 servers, port $1.
apache_conf() {
	mkdir -p "$T/apache/run" "$T/apache/lock" "$T/apache/log"
	cat >"$T/apache/envvars" <<-EOF
		export APACHE_RUN_USER=www-data APACHE_RUN_GROUP=www-data
		export APACHE_PID_FILE=$T/apache/run/apache2.pid APACHE_RUN_DIR=$T/apache/run
		export APACHE_LOCK_DIR=$T/apache/lock APACHE_LOG_DIR=$T/apache/log LANG=C
	EOF
	cat >"$T/apache/apache2.conf" <<-EOF
		ServerRoot "$T/apache"
		ServerName localhost
		PidFile \${APACHE_PID_FILE}
		Mutex file:\${APACHE_LOCK_DIR} default
		ErrorLog $T/apache/log/error.log
		LoadModule mpm_prefork_module /usr/lib/apache2/modules/mod_mpm_prefork.so
		StartServers 2
		User \${APACHE_RUN_USER}
		Group \${APACHE_RUN_GROUP}
		Listen 127.0.0.1:$1
		DocumentRoot "$T/apache"
	EOF
	export APACHE_CONFDIR="$T/apache"
}

@test "pidlock run -- apache2ctl start (process scope): one warning that Apache runs unguarded, naming --scope tree" {
	local port apache
	port=$(free_port)
	apache_conf "$port"
	pl_run timeout 30 "$PIDLOCK" run -f "$PF" -- apache2ctl start
	assert_status 0
	apache=$(read_pidfile "$T/apache/run/apache2.pid") || fail "Apache did not start: $(cat "$T/apache/log/error.log")"
	track_pid "$apache"
	# shellcheck disable=SC2046
	track_all $(descendants "$apache")
	assert_one_pidlock_line "$PF" "programs it started still run unguarded" "apache2" "--scope tree"
	# What the warning says is true: the lock is free, a second start runs.
	refute_lock_held "$PF"
	pl_run apache2ctl stop
	assert_all_gone "$apache" 15
}

@test "pidlock check -- apache2ctl start: says the script starts programs without exec, and the remedy" {
	pl_run "$PIDLOCK" check -- apache2ctl start
	grep -q 'shell script' "$T/out" "$T/err" || fail "check says nothing of the script: $(cat "$T/out" "$T/err")"
	grep -q -- '--scope tree' "$T/out" "$T/err" || fail "check names no remedy: $(cat "$T/out" "$T/err")"
}

@test "pidlock run --scope tree -- apache2ctl start: Apache holds the lock, is named, apache2ctl stop leaves nothing" {
	local port apache
	port=$(free_port)
	apache_conf "$port"
	pl_run timeout 30 "$PIDLOCK" run --scope tree -f "$PF" -- apache2ctl start
	assert_status 0
	[ ! -s "$T/err" ] || fail "tree scope: a warning: $(cat "$T/err")"
	apache=$(read_pidfile "$T/apache/run/apache2.pid") || fail "Apache did not start: $(cat "$T/apache/log/error.log")"
	track_pid "$apache"
	# shellcheck disable=SC2046
	track_all $(descendants "$apache")
	wait_until "[ \"\$(cat '$PF' 2>/dev/null)\" = '$apache' ]" 10 ||
		fail "$PF names [$(cat "$PF" 2>/dev/null)], not the Apache master $apache"
	lock_is_held "$PF" || fail "nobody holds the lock"
	pl_run "$PIDLOCK" run --scope tree -f "$PF" -- apache2ctl start
	assert_status 75
	pl_run apache2ctl stop
	assert_all_gone "$apache" 15
	wait_until "[ ! -e '$PF' ]" 10 || fail "apache2ctl stop left $PF"
	assert_both_say 3
}
