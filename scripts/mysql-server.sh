#!/bin/sh
# SPDX-License-Identifier: MIT
# mysql-server.sh: a throw-away MariaDB server for the cluster-mode tests
# (tests/cluster-mysql.bats), the counterpart of scripts/pg-cluster.sh.
#
# Usage: sh scripts/mysql-server.sh start|stop|restart DIR PORT
#   start    mariadb-install-db into DIR/data (first start only), then start
#            mariadbd on the unix socket DIR/sock and on $MYSQL_LISTEN:PORT
#            (default 127.0.0.1; '' for the socket only), and wait until it
#            answers (at most 60 s). root has no password, from the socket
#            and from 127.0.0.1; $MYSQL_TRUST (a CIDR, such as 192.0.2.0/24)
#            is also let in as root without a password. Two more users, for
#            the privilege and password tests: weak (no password, no
#            privilege: USAGE only) and weak2 (password s3cret, USAGE only).
#            The server always runs with the client keepalive the
#            documentation recommends (time 10 s, interval 5 s, 4 probes).
#            DIR must exist and be empty or hold a server from an earlier start.
#   stop     SIGKILL the server (immediate: a test server has nothing to keep)
#            and wait until it is gone (at most 30 s).
#   restart  stop, then start again at once on the same DIR and PORT: every
#            session dies with the server.
# As root, the server runs as the mysql user, and DIR is given to that user;
# otherwise as the current user. Binaries: mariadbd, mariadb-install-db,
# mariadb-admin and mariadb (Debian's mariadb-server and mariadb-client).
# Connect with: mysql://root@127.0.0.1:PORT/
#           or: mysql://root@localhost/?socket=DIR/sock
set -eu

cmd=${1:-}
dir=${2:-}
port=${3:-}
if [ -z "$cmd" ] || [ -z "$dir" ] || [ -z "$port" ]; then
	echo "usage: mysql-server.sh start|stop|restart DIR PORT" >&2
	exit 64
fi

PATH=$PATH:/usr/sbin:/usr/local/sbin
for tool in mariadbd mariadb-install-db mariadb-admin mariadb; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		echo "mysql-server.sh: $tool not found (Debian: apt-get install mariadb-server mariadb-client)" >&2
		exit 69
	fi
done

# Runs a command as the server's owner; setpriv execs it, so that $! of a
# background as_owner is the server itself.
as_owner() {
	if [ "$(id -u)" -eq 0 ]; then
		setpriv --reuid=mysql --regid=mysql --init-groups -- "$@"
	else
		"$@"
	fi
}

data=$dir/data
sock=$dir/sock
pidfile=$dir/pid

# True while process $1 runs (not a zombie: PID 1 here may never reap).
alive() {
	state=$(sed -n 's/.*) \([A-Za-z]\).*/\1/p' "/proc/$1/stat" 2>/dev/null) || return 1
	[ -n "$state" ] && [ "$state" != Z ] && [ "$state" != X ]
}

# The PID of the running server of DIR, empty if none: the pid file (the
# server's own) or the one written at start, and only if that process is a
# mariadbd (a PID may have been reused since).
server_pid() {
	for f in "$pidfile" "$dir/started.pid"; do
		p=$(cat "$f" 2>/dev/null) || continue
		case $p in '' | *[!0-9]*) continue ;; esac
		if alive "$p" && [ "$(cat "/proc/$p/comm" 2>/dev/null)" = mariadbd ]; then
			echo "$p"
			return 0
		fi
	done
}

sql() {
	mariadb --no-defaults -S "$sock" -uroot -e "$1"
}

# A CIDR (192.0.2.0/24) as the host part of a MariaDB account: address/netmask.
cidr_host() {
	addr=${1%/*}
	bits=${1#*/}
	[ "$bits" != "$1" ] || bits=32
	mask="" n=$bits
	for _ in 1 2 3 4; do
		if [ "$n" -ge 8 ]; then
			octet=255
			n=$((n - 8))
		else
			octet=$((256 - (1 << (8 - n))))
			[ "$n" -gt 0 ] || octet=0
			n=0
		fi
		mask=${mask:+$mask.}$octet
	done
	echo "$addr/$mask"
}

start() {
	if [ "$(id -u)" -eq 0 ]; then
		chown mysql "$dir"
		chmod 0755 "$dir"
	fi
	if [ ! -d "$data/mysql" ]; then
		as_owner mariadb-install-db --no-defaults --datadir="$data" \
			--auth-root-authentication-method=normal --skip-test-db \
			>"$dir/install.log" 2>&1 || {
			cat "$dir/install.log" >&2
			exit 1
		}
	fi
	listen=${MYSQL_LISTEN-127.0.0.1}
	if [ -n "$listen" ]; then
		net="--bind-address=$listen"
	else
		net=--skip-networking
	fi
	rm -f "$pidfile"
	# With no descriptor of the caller's above 2: bats waits until every copy
	# of its output pipe (fd 3, and more above 9) is closed. bash closes
	# them, then becomes the server.
	# shellcheck disable=SC2016 # expanded by that bash
	as_owner bash -c 'for f in /proc/$$/fd/*; do
		n=${f##*/}; [ "$n" -le 2 ] || eval "exec $n>&-"; done; exec "$@"' closefds \
		mariadbd --no-defaults --datadir="$data" --socket="$sock" --port="$port" \
		"$net" --pid-file="$pidfile" --log-error="$dir/err.log" --skip-name-resolve \
		--innodb-buffer-pool-size=16M --skip-log-bin \
		--tcp-keepalive-time=10 --tcp-keepalive-interval=5 --tcp-keepalive-probes=4 \
		</dev/null >>"$dir/server.out" 2>&1 &
	echo $! >"$dir/started.pid"
	i=0
	until mariadb-admin --no-defaults -S "$sock" -uroot ping >/dev/null 2>&1; do
		i=$((i + 1))
		if ! alive "$(cat "$dir/started.pid")" || [ "$i" -gt 600 ]; then
			echo "mysql-server.sh: the server did not start (port $port):" >&2
			tail -n 20 "$dir/err.log" >&2 2>/dev/null || true
			stop
			exit 1
		fi
		sleep 0.1
	done
	trust=""
	if [ -n "${MYSQL_TRUST:-}" ]; then
		h=$(cidr_host "$MYSQL_TRUST")
		trust="CREATE USER IF NOT EXISTS 'root'@'$h';
			GRANT ALL PRIVILEGES ON *.* TO 'root'@'$h' WITH GRANT OPTION;"
	fi
	sql "CREATE USER IF NOT EXISTS 'weak'@'%';
		CREATE USER IF NOT EXISTS 'weak'@'localhost';
		CREATE USER IF NOT EXISTS 'weak2'@'%' IDENTIFIED BY 's3cret';
		CREATE USER IF NOT EXISTS 'weak2'@'localhost' IDENTIFIED BY 's3cret';
		$trust" || {
		stop
		exit 1
	}
}

stop() {
	p=$(server_pid)
	[ -n "$p" ] || return 0
	kill -KILL "$p" 2>/dev/null || true
	i=0
	while alive "$p"; do
		i=$((i + 1))
		if [ "$i" -gt 300 ]; then
			echo "mysql-server.sh: server PID $p still running 30 s after SIGKILL" >&2
			exit 1
		fi
		sleep 0.1
	done
	rm -f "$pidfile" "$dir/started.pid"
}

case $cmd in
start) start ;;
stop) stop ;;
restart)
	stop
	start
	;;
*)
	echo "mysql-server.sh: unknown command: $cmd" >&2
	exit 64
	;;
esac
