# shellcheck shell=bash
# SPDX-License-Identifier: MIT
# What the tests on real servers share (tests/servers.bats, tests/operators.bats):
# installing the Debian packages they run, the set-up and clean-up, and small
# helpers about processes, ports and nginx. Every server listens on 127.0.0.1
# on a free high port, keeps its files under the test's directory, and is
# ended by the PIDs it wrote or that hold the lock (never by name).
# Load after test_helper: load servers_lib
# Variables set here (NGINX, NGINX_ARGS, MASTER, WORKERS) are read by the .bats files.
# shellcheck disable=SC2034

# The Debian packages a file's servers need, as "command:package" words,
# installed by servers_setup_file where missing.
SERVER_TOOLS="nginx:nginx-light memcached:memcached gunicorn:gunicorn
	supervisord:supervisor supervisorctl:supervisor node:nodejs npm:npm
	start-stop-daemon:dpkg ss:iproute2 dnsmasq:dnsmasq apache2ctl:apache2"

servers_setup_file() {
	local need="" tool
	for tool in $SERVER_TOOLS; do
		PATH="$PATH:/usr/sbin:/sbin" command -v "${tool%%:*}" >/dev/null 2>&1 ||
			need="$need ${tool#*:}"
	done
	[ -n "$need" ] || return 0
	if [ "$(id -u)" != 0 ]; then
		echo "$(basename "$BATS_TEST_FILENAME"): missing:$need (apt-get install$need, or run as root)" >&3
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

servers_setup() {
	common_setup
	PATH="$PATH:/usr/sbin:/sbin"
	NGINX=$(command -v nginx)
}

# Everything that holds one of the test's PID files, and every descendant of
# a tracked process, is ended with the tracked PIDs.
servers_teardown() {
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

