#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# cluster-measure.sh: measures a cluster backend's times on this machine.
#   1. start: an instance of /bin/true that takes the free lock and ends
#      (20 runs, loopback TCP): what cluster mode adds to a start.
#   2. release after kill -9: from SIGKILL of the holder to another instance
#      taking the lock (5 runs, loopback TCP).
#   3. fencing after a network partition (root only): the holder and the
#      server in two network namespaces, traffic cut with blackhole routes;
#      prints when the holder was terminated and when an observer next to the
#      server could take the lock (3 runs).
# Usage: make && bash scripts/cluster-measure.sh postgresql|mysql
# Needs the server: PostgreSQL (Debian: postgresql, scripts/pg-cluster.sh) or
# MariaDB (mariadb-server mariadb-client, scripts/mysql-server.sh); the
# MariaDB server runs with the keepalive settings docs/cluster.md recommends.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SHIM=$ROOT/build/libpidlock.so
PIDLOCK=$ROOT/build/pidlock
[ -f "$SHIM" ] || { echo "cluster-measure: run make first" >&2; exit 1; }

backend=${1:-}
case $backend in
postgresql)
	SERVER=$ROOT/scripts/pg-cluster.sh LISTEN=PG_LISTEN TRUST=PG_TRUST PART_PORT=5432
	uri() { echo "postgresql://postgres@$1:$2/postgres#$3"; }       # HOST PORT NAME
	obs() { echo "postgresql:///postgres?host=$1&port=$2&user=postgres#$3"; } # DIR PORT NAME
	;;
mysql)
	SERVER=$ROOT/scripts/mysql-server.sh LISTEN=MYSQL_LISTEN TRUST=MYSQL_TRUST PART_PORT=3306
	uri() { echo "mysql://root@$1:$2/#$3"; }
	obs() { echo "mysql://root@localhost/?socket=$1/sock#$3"; }
	;;
*)
	echo "usage: cluster-measure.sh postgresql|mysql" >&2
	exit 64
	;;
esac

ms_since() { echo $((($(date +%s%N) - $1) / 1000000)); }
alive() { # running and not a zombie
	local s
	s=$(sed -n 's/^State:[[:space:]]*\(.\).*/\1/p' "/proc/$1/status" 2>/dev/null) || return 1
	[ -n "$s" ] && [ "$s" != Z ] && [ "$s" != X ]
}
# One instance of /bin/true under the lock (not the shell's builtin true).
try_lock() { env PIDLOCK_FILE="$1" LD_PRELOAD="$SHIM" /bin/true 2>/dev/null; }

TMP=$(mktemp -d /tmp/pidlock-measure.XXXXXX)
chmod 0755 "$TMP"
PORT=$((20000 + RANDOM % 20000))
NS_S="" NS_C="" PART=""
cleanup() {
	[ -z "${HOLDER:-}" ] || kill -KILL "$HOLDER" 2>/dev/null || true
	sh "$SERVER" stop "$TMP/srv" "$PORT" 2>/dev/null || true
	[ -z "$PART" ] || ip netns exec "$NS_S" sh "$SERVER" stop "$PART" "$PART_PORT" 2>/dev/null || true
	[ -z "$NS_S" ] || sh "$ROOT/scripts/netns-pair.sh" down "$NS_S" "$NS_C"
	rm -rf "$TMP"
}
trap cleanup EXIT

mkdir "$TMP/srv"
sh "$SERVER" start "$TMP/srv" "$PORT"
URI=$(uri 127.0.0.1 "$PORT" measure)

echo "$backend: start of /bin/true taking the free lock (loopback TCP, 20 runs):"
try_lock "$URI" # warm the page cache
t0=$(date +%s%N)
for _ in $(seq 20); do try_lock "$URI" || { echo "  a start failed" >&2; exit 1; }; done
echo "  mean $(($(ms_since "$t0") / 20)) ms per start; without the lock:"
t0=$(date +%s%N)
for _ in $(seq 20); do /bin/true; done
echo "  mean $(($(ms_since "$t0") / 20)) ms per start"

echo "$backend: release after kill -9 (loopback TCP):"
for run in 1 2 3 4 5; do
	PIDLOCK_FILE=$URI LD_PRELOAD=$SHIM sleep 60 &
	HOLDER=$!
	for _ in $(seq 200); do
		"$PIDLOCK" status --json "$URI" | grep -q "\"pid\":$HOLDER," && break
		sleep 0.05
	done
	try_lock "$URI" && { echo "  run $run: the holder did not hold the lock" >&2; exit 1; }
	kill -KILL "$HOLDER"
	t0=$(date +%s%N)
	got=never
	for _ in $(seq 1000); do
		if try_lock "$URI"; then
			got="$(ms_since "$t0") ms"
			break
		fi
	done
	wait "$HOLDER" 2>/dev/null || true
	HOLDER=""
	echo "  run $run: lock taken again after $got"
done

if [ "$(id -u)" -ne 0 ] || ! command -v ip >/dev/null; then
	echo "partition: skipped (needs root and ip netns)"
	exit 0
fi
NS_S="plms$$" NS_C="plmc$$" # set first: cleanup removes what up made
sh "$ROOT/scripts/netns-pair.sh" up "$NS_S" "$NS_C" || { echo "partition: skipped (ip netns unavailable)"; exit 0; }
PART=$TMP/part
mkdir "$PART"
ip netns exec "$NS_S" env "$LISTEN=192.0.2.1" "$TRUST=192.0.2.0/24" sh "$SERVER" start "$PART" "$PART_PORT"
echo "$backend: partition (holder and server in two network namespaces, blackhole routes both ways):"
for run in 1 2 3; do
	URI=$(uri 192.0.2.1 "$PART_PORT" "part$run")
	OBS=$(obs "$PART" "$PART_PORT" "part$run")
	sh "$ROOT/scripts/netns-pair.sh" heal "$NS_S" "$NS_C"
	ip netns exec "$NS_C" env PIDLOCK_FILE="$URI" LD_PRELOAD="$SHIM" sleep 300 &
	HOLDER=$!
	for _ in $(seq 200); do
		ip netns exec "$NS_S" "$PIDLOCK" status --json "$OBS" | grep -q "\"pid\":$HOLDER," && break
		sleep 0.05
	done
	sleep $((run * 3)) # the cut lands at different points of the keepalive cycles
	sh "$ROOT/scripts/netns-pair.sh" cut "$NS_S" "$NS_C"
	t0=$(date +%s%N)
	dead=never taken=never
	for _ in $(seq 900); do
		[ "$dead" != never ] || alive "$HOLDER" || dead="$(ms_since "$t0") ms"
		if ip netns exec "$NS_S" env PIDLOCK_FILE="$OBS" LD_PRELOAD="$SHIM" /bin/true 2>/dev/null; then
			taken="$(ms_since "$t0") ms"
			break
		fi
		sleep 0.1
	done
	wait "$HOLDER" 2>/dev/null || true
	HOLDER=""
	echo "  run $run: holder terminated after $dead; observer took the lock after $taken"
done
