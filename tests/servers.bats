#!/usr/bin/env bats
# Real servers and launchers (README, "Which scope for which program"): the PID file names the
# process a user would signal, and the usual tools stop the whole server by it.
# nginx, memcached, gunicorn, supervisord and npm are the Debian packages,
# installed by setup_file where missing. Every server listens on 127.0.0.1 on
# a free high port, keeps its files under the test's directory, and is ended
# by the PIDs it wrote or that hold the lock (never by name).

# shellcheck disable=SC2154 # $status and $err are set by test_helper.bash

load test_helper

bats_require_minimum_version 1.5.0

setup_file() {
	local need="" tool
	for tool in nginx:nginx-light memcached:memcached gunicorn:gunicorn \
		supervisord:supervisor supervisorctl:supervisor node:nodejs npm:npm \
		start-stop-daemon:dpkg ss:iproute2; do
		PATH="$PATH:/usr/sbin:/sbin" command -v "${tool%%:*}" >/dev/null 2>&1 ||
			need="$need ${tool#*:}"
	done
	[ -n "$need" ] || return 0
	if [ "$(id -u)" != 0 ]; then
		echo "servers.bats: missing:$need (apt-get install$need, or run as root)" >&3
		return 1
	fi
	# shellcheck disable=SC2086
	DEBIAN_FRONTEND=noninteractive timeout 600 apt-get install -y -qq --no-install-recommends \
		$need >/dev/null 2>&1 || {
		DEBIAN_FRONTEND=noninteractive timeout 300 apt-get update -qq &&
			DEBIAN_FRONTEND=noninteractive timeout 600 apt-get install -y -qq \
				--no-install-recommends $need >/dev/null
	}
}

setup() {
	common_setup
	PATH="$PATH:/usr/sbin:/sbin"
	NGINX=$(command -v nginx)
}

# Everything that holds one of the test's PID files, and every descendant of
# a tracked process, is ended with the tracked PIDs.
teardown() {
	local f p
	for f in "$PF" "$T"/*.pid; do
		[ -e "$f" ] || continue
		for p in $(holders_of "$f"); do track_pid "$p"; done
	done
	for p in $(descendants "${TRACKED[@]}"); do track_pid "$p"; done
	common_teardown
}

# ---- helpers ----

# PIDs of all descendants of the given PIDs (one ps snapshot).
descendants() {
	[ "$#" -gt 0 ] || return 0
	ps -eo pid=,ppid= | awk -v roots="$*" '
		BEGIN { n = split(roots, r, " "); for (i = 1; i <= n; i++) want[r[i]] = 1 }
		{ parent[$1] = $2; pids[++m] = $1 }
		END {
			do {
				added = 0
				for (i = 1; i <= m; i++)
					if (!(pids[i] in want) && (parent[pids[i]] in want)) {
						want[pids[i]] = 1; added = 1; print pids[i]
					}
			} while (added)
		}'
}

# Children of PID $1 (one a line), from /proc/PID/status's PPid of every process.
children() {
	ps -eo pid=,ppid= | awk -v p="$1" '$2 == p { print $1 }'
}

ppid_of() { awk '$1 == "PPid:" { print $2 }' "/proc/$1/status" 2>/dev/null; }
uid_of() { awk '$1 == "Uid:" { print $2 }' "/proc/$1/status" 2>/dev/null; }
cmdline_of() { tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null; }

# A free TCP port on 127.0.0.1 (the kernel's choice, in the high range).
free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
listening() { [ -n "$(ss -Hltn "sport = :$1")" ]; }

track_all() {
	local p
	for p in "$@"; do track_pid "$p"; done
}

# Describes process $1 for a failure message.
describe() {
	printf 'PID %s (ppid %s: %s)' "$1" "$(ppid_of "$1")" "$(cmdline_of "$1")"
}

# Fails unless the PID file $PF names $1 (the process a user would signal).
assert_file_names() {
	local named
	named=$(read_pidfile "$PF") || fail "$PF holds no PID: [$(cat "$PF" 2>/dev/null)]"
	[ "$named" = "$1" ] ||
		fail "$PF names $(describe "$named"), expected the master $(describe "$1")"
}

# Waits (up to $2 s, default 10) until no PID among $1 (space-separated) runs.
assert_all_gone() {
	local p
	for p in $1; do
		wait_until "! proc_alive $p" "${2:-10}" || fail "$(describe "$p") is still running"
	done
}

# ---- nginx ----

# nginx's configuration for port $1: 2 workers, daemon on, its own PID file
# ($T/nginx.own, not pidlock's), everything under $T/nginx.
nginx_conf() {
	mkdir -p "$T/nginx"
	cat >"$T/nginx.conf" <<-EOF
		daemon on;
		worker_processes 2;
		pid $T/nginx.own;
		error_log $T/nginx/error.log notice;
		events { worker_connections 32; }
		http {
			access_log off;
			client_body_temp_path $T/nginx/body;
			proxy_temp_path $T/nginx/proxy;
			fastcgi_temp_path $T/nginx/fastcgi;
			uwsgi_temp_path $T/nginx/uwsgi;
			scgi_temp_path $T/nginx/scgi;
			server { listen 127.0.0.1:$1; location / { return 200 "ok\n"; } }
		}
	EOF
	NGINX_ARGS=(-c "$T/nginx.conf" -e "$T/nginx/error.log" -p "$T/nginx/")
}

# nginx's own PID file names the master: sets MASTER and WORKERS (its 2
# children), tracks them all.
nginx_master() {
	MASTER=$(read_pidfile "$T/nginx.own") || fail "nginx wrote no PID file: $(cat "$T/nginx/error.log")"
	track_pid "$MASTER"
	wait_until "[ \$(children $MASTER | wc -l) -eq 2 ]" 10 ||
		fail "nginx master $MASTER has no 2 workers: $(children "$MASTER" | tr '\n' ' ')"
	WORKERS=$(children "$MASTER" | tr '\n' ' ')
	# shellcheck disable=SC2086
	track_all $WORKERS
}

# The workers' parent (PPid in /proc/PID/status) is the master.
assert_workers_of() {
	local w
	for w in $2; do
		[ "$(ppid_of "$w")" = "$1" ] || fail "worker $(describe "$w") is not a child of $1"
	done
}

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

@test "nginx upgrade in tree scope (USR2, then QUIT the old master): the lock stays held and the file names the new master" {
	local port old new
	port=$(free_port)
	nginx_conf "$port"
	pl_run timeout 20 "$PIDLOCK" run --scope tree -f "$PF" -- "$NGINX" "${NGINX_ARGS[@]}" 3>&-
	assert_status 0
	nginx_master
	old=$MASTER
	assert_file_names "$old"

	start_contenders
	kill -USR2 "$old"
	wait_until "[ -e '$T/nginx.own.oldbin' ] && [ \"\$(cat '$T/nginx.own' 2>/dev/null)\" != '$old' ]" 15 ||
		fail "nginx did not start a new master: $(tail -5 "$T/nginx/error.log")"
	nginx_master
	new=$MASTER
	[ "$new" != "$old" ] || fail "the new master is the old one"
	[ "$(ppid_of "$new")" = "$old" ] || fail "the new master $(describe "$new") is not the old one's child"
	kill -QUIT "$old"
	wait_until "! proc_alive $old" 15 || fail "the old master $old did not quit"
	lock_is_held "$PF" || fail "the lock was lost during the upgrade"
	stop_contenders

	pl_run "$PIDLOCK" run -f "$PF" -- "$NGINX" "${NGINX_ARGS[@]}"
	assert_status 75
	assert_workers_of "$new" "$WORKERS"
	assert_file_names "$new"

	pl_run timeout 30 "$PIDLOCK" stop "$PF"
	assert_status 0
	assert_all_gone "$new $WORKERS"
	run -1 lock_is_held "$PF"
	wait_until "! listening $port" 10 || fail "port $port still in use after the stop"
}

@test "gunicorn upgrade in tree scope (USR2, then TERM the old master): the lock stays held and the file names the new master" {
	local port old new
	port=$(free_port)
	cat >"$T/app.py" <<-'EOF'
		def app(environ, start_response):
		    start_response("200 OK", [("Content-Type", "text/plain")])
		    return [b"ok\n"]
	EOF
	local -a args=(-D -w 2 -b "127.0.0.1:$port" -p "$T/gunicorn.own" --chdir "$T"
		--log-file "$T/gunicorn.log" app:app)
	pl_run timeout 30 "$PIDLOCK" run --scope tree -f "$PF" -- gunicorn "${args[@]}" 3>&-
	assert_status 0
	old=$(read_pidfile "$T/gunicorn.own") || fail "gunicorn wrote no PID file: $(cat "$T/gunicorn.log")"
	track_pid "$old"
	wait_until "[ \$(children $old | wc -l) -eq 2 ]" 20 || fail "gunicorn $old has no 2 workers"
	# shellcheck disable=SC2046
	track_all $(children "$old")
	assert_file_names "$old"

	start_contenders
	kill -USR2 "$old"
	# gunicorn's new master writes its own PID file with ".2" appended, and
	# renames it once the old master has gone.
	new=$(read_pidfile "$T/gunicorn.own.2") ||
		fail "gunicorn did not start a new master: $(tail -5 "$T/gunicorn.log")"
	track_pid "$new"
	[ "$new" != "$old" ] || fail "the new master is the old one"
	wait_until "[ \$(children $new | wc -l) -eq 2 ]" 20 || fail "the new gunicorn master $new has no 2 workers"
	local workers
	workers=$(children "$new" | tr '\n' ' ')
	# shellcheck disable=SC2086
	track_all $workers
	kill -TERM "$old"
	wait_until "! proc_alive $old" 30 || fail "the old master $old did not stop"
	wait_until "[ \"\$(cat '$T/gunicorn.own' 2>/dev/null)\" = $new ]" 20 ||
		fail "the new master $new did not take over: $(tail -5 "$T/gunicorn.log")"
	lock_is_held "$PF" || fail "the lock was lost during the upgrade"
	stop_contenders

	pl_run "$PIDLOCK" run -f "$PF" -- gunicorn "${args[@]}"
	assert_status 75
	assert_workers_of "$new" "$workers"
	assert_file_names "$new"

	pl_run timeout 30 "$PIDLOCK" stop "$PF"
	assert_status 0
	assert_all_gone "$new $workers"
	run -1 lock_is_held "$PF"
}

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

@test "npm run start in tree scope: node keeps the lock, pidlock stop leaves no process of the tree and frees the port" {
	skip_if_instrumented asan "node dies in ASan's start-up when the runtime is not the first library"
	local port launcher tree node p
	port=$(free_port)
	mkdir -p "$T/app" "$T/home"
	cat >"$T/app/package.json" <<-'EOF'
		{ "name": "pidlock-servers-test", "version": "1.0.0", "private": true,
		  "scripts": { "start": "node server.js" } }
	EOF
	cat >"$T/app/server.js" <<-'EOF'
		require("http").createServer((req, res) => res.end("ok\n"))
		  .listen(Number(process.env.PORT), "127.0.0.1");
	EOF
	(
		cd "$T/app" || exit 1
		exec env PORT="$port" HOME="$T/home" npm_config_cache="$T/home/npm-cache" \
			npm_config_update_notifier=false npm_config_fund=false \
			"$PIDLOCK" run --scope tree -f "$PF" -- npm run start
	) >"$T/npm.log" 2>&1 </dev/null 3>&- &
	launcher=$!
	track_pid "$launcher"
	wait_until "listening $port" 30 || fail "node is not listening on $port: $(cat "$T/npm.log")"
	tree="$launcher $(descendants "$launcher" | tr '\n' ' ')"
	# shellcheck disable=SC2086
	track_all $tree
	node=""
	for p in $tree; do
		[[ $(cmdline_of "$p") == "node server.js"* ]] && node=$p
	done
	[ -n "$node" ] || fail "no node server.js among $tree"
	assert_file_names "$launcher"
	holders_of "$PF" | grep -qx "$node" ||
		fail "node server.js ($node) does not hold the lock; holders: $(holders_of "$PF" | tr '\n' ' ')"

	pl_run timeout 30 "$PIDLOCK" stop "$PF"
	assert_status 0
	assert_all_gone "$tree"
	run -1 lock_is_held "$PF"
	wait_until "! listening $port" 10 || fail "port $port still in use after the stop"
}

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

@test "supervisord program with pidlock run: a copy started by hand is refused (75), supervisorctl stop frees the lock" {
	local sup named
	cat >"$T/supervisord.conf" <<-EOF
		[unix_http_server]
		file=$T/supervisor.sock
		chmod=0700

		[supervisord]
		user=root
		logfile=$T/supervisord.log
		pidfile=$T/supervisord.own
		childlogdir=$T

		[rpcinterface:supervisor]
		supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface

		[supervisorctl]
		serverurl=unix://$T/supervisor.sock

		[program:app]
		command=$PIDLOCK run -f $PF -- $PLPROG sleep 60
		autostart=true
		autorestart=false
		startsecs=1
		stopwaitsecs=5
	EOF
	supervisord -n -c "$T/supervisord.conf" >"$T/supervisord.out" 2>&1 </dev/null 3>&- &
	sup=$!
	track_pid "$sup"
	wait_until "timeout 5 supervisorctl -c '$T/supervisord.conf' status app 2>/dev/null | grep -q RUNNING" 20 ||
		fail "supervisord did not start app: $(cat "$T/supervisord.log" 2>/dev/null)"
	named=$(timeout 5 supervisorctl -c "$T/supervisord.conf" pid app)
	track_pid "$named"
	assert_file_names "$named"

	pl_run "$PIDLOCK" run -f "$PF" -- "$PLPROG" note "$T" exit 0
	assert_status 75
	assert_one_pidlock_line "$PF: already running as PID $named"
	assert_notes "$T" 0

	run timeout 10 supervisorctl -c "$T/supervisord.conf" stop app
	assert_success
	assert_output --partial "stopped"
	assert_all_gone "$named"
	run -1 lock_is_held "$PF"
	pl_run "$PIDLOCK" run -f "$PF" -- "$PLPROG" note "$T" exit 0
	assert_status 0
	assert_notes "$T" 1

	kill -TERM "$sup"
	wait_until "! proc_alive $sup" 15 || fail "supervisord did not stop"
}

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

@test "start-stop-daemon with the variables in its own environment: a refused start returns 75, --stop --pidfile stops it" {
	local named
	local -a ssd=(env "PIDLOCK_FILE=$PF" "LD_PRELOAD=$SHIM" start-stop-daemon --start --background
		--pidfile "$PF" --exec "$PLPROG" -- sleep 60)
	pl_run timeout 20 "${ssd[@]}" 3>&-
	assert_status 0
	wait_until names_plprog 10 ||
		fail "$PF does not name the program: $(cat "$PF" 2>/dev/null)"
	named=$(read_pidfile "$PF")
	track_pid "$named"
	lock_is_held "$PF" || fail "the program does not hold the lock"

	pl_run timeout 20 "${ssd[@]}" 3>&-
	assert_status 75
	assert_pidfile_is "$PF" "$named"

	pl_run timeout 30 start-stop-daemon --stop --pidfile "$PF" --retry 5
	assert_status 0
	assert_all_gone "$named"
	run -1 lock_is_held "$PF"
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

@test "start-stop-daemon --start --exec pidlock -- run without --background: a refused start returns 75" {
	local -a ssd=(start-stop-daemon --start --pidfile "$PF" --exec "$PIDLOCK" -- run -f "$PF" --
		"$HELPERS/master" -o "$T/report" -w 2 -d -t 60)
	pl_run timeout 20 "${ssd[@]}" 3>&-
	assert_status 0
	local master workers
	master=$(awk '$1 == "master" { print $2 }' "$T/report")
	workers=$(awk '$1 == "worker" { printf "%s ", $2 }' "$T/report")
	# shellcheck disable=SC2086
	track_all "$master" $workers
	rm -f "$T/report"
	# start-stop-daemon executes pidlock in its own process: pidlock's status is its status.
	pl_run timeout 20 "${ssd[@]}" 3>&-
	assert_status 75
	assert_one_pidlock_line "$PF: already running as PID"
	[ ! -e "$T/report" ] || fail "a second server started"
	pl_run timeout 30 "$PIDLOCK" stop "$PF"
	assert_status 0
	assert_all_gone "$master $workers"
}
