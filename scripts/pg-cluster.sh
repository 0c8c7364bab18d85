#!/bin/sh
# SPDX-License-Identifier: MIT
# pg-cluster.sh: a throw-away PostgreSQL cluster for the cluster-mode tests.
#
# Usage: sh scripts/pg-cluster.sh start|stop|restart DIR PORT
#   start    initdb into DIR/data (trust authentication, no fsync), then start
#            it listening on the unix socket DIR/.s.PGSQL.PORT and on
#            $PG_LISTEN:PORT (default 127.0.0.1; '' for the socket only).
#            $PG_TRUST (a CIDR, such as 192.0.2.0/24) is also let in without
#            a password (only loopback and the socket are, by default).
#            DIR must exist and be empty or hold a cluster from an earlier start.
#   stop     stop it (immediate: a test cluster has nothing to keep).
#   restart  pg_ctl restart -m immediate: every session dies at once.
# As root, the server runs as the postgres user (initdb refuses root), and DIR
# is given to that user. Binaries: initdb on PATH, else the newest
# /usr/lib/postgresql/*/bin (Debian's postgresql package).
# Connect with: postgresql://postgres@127.0.0.1:PORT/postgres
#           or: postgresql:///postgres?host=DIR&port=PORT&user=postgres
set -eu

cmd=${1:-}
dir=${2:-}
port=${3:-}
if [ -z "$cmd" ] || [ -z "$dir" ] || [ -z "$port" ]; then
	echo "usage: pg-cluster.sh start|stop|restart DIR PORT" >&2
	exit 64
fi

bindir=""
if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
	bindir=$(dirname "$(command -v pg_ctl)")
else
	for d in /usr/lib/postgresql/*/bin; do
		[ -x "$d/pg_ctl" ] && bindir=$d # the glob sorts, so the last is the newest
	done
fi
if [ -z "$bindir" ]; then
	echo "pg-cluster.sh: PostgreSQL server binaries not found (Debian: apt-get install postgresql)" >&2
	exit 69
fi

# Runs a command as the cluster's owner.
as_owner() {
	if [ "$(id -u)" -eq 0 ]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

data=$dir/data
case $cmd in
start)
	if [ "$(id -u)" -eq 0 ]; then
		chown postgres "$dir"
		chmod 0755 "$dir"
	fi
	if [ ! -f "$data/PG_VERSION" ]; then
		as_owner "$bindir/initdb" -D "$data" -U postgres -A trust -E UTF8 --locale=C \
			--no-sync >"$dir/initdb.log" 2>&1 || {
			cat "$dir/initdb.log" >&2
			exit 1
		}
	fi
	if [ -n "${PG_TRUST:-}" ] && ! grep -q "^host all all $PG_TRUST trust" "$data/pg_hba.conf"; then
		echo "host all all $PG_TRUST trust" >>"$data/pg_hba.conf"
	fi
	listen=${PG_LISTEN-127.0.0.1}
	as_owner "$bindir/pg_ctl" -D "$data" -l "$dir/server.log" -w -t 60 \
		-o "-k $dir -p $port -c listen_addresses='$listen' -c fsync=off -c max_connections=50" \
		start >/dev/null || {
		cat "$dir/server.log" >&2
		exit 1
	}
	;;
stop)
	[ -f "$data/postmaster.pid" ] || exit 0
	as_owner "$bindir/pg_ctl" -D "$data" -m immediate -w -t 60 stop >/dev/null
	;;
restart)
	as_owner "$bindir/pg_ctl" -D "$data" -l "$dir/server.log" -m immediate -w -t 60 \
		restart >/dev/null
	;;
*)
	echo "pg-cluster.sh: unknown command: $cmd" >&2
	exit 64
	;;
esac
