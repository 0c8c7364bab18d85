#!/bin/sh
# SPDX-License-Identifier: MIT
# netns-pair.sh: two network namespaces joined by a veth pair, for the
# cluster-mode partition measurements and tests (tests/cluster_lib.bash,
# scripts/cluster-measure.sh).
#
# Usage: sh scripts/netns-pair.sh up|cut|heal|down SERVER_NS CLIENT_NS
#   up     create both namespaces; SERVER_NS gets 192.0.2.1/24 and CLIENT_NS
#          192.0.2.2/24 on the pair, and loopback in each. Exit 69, creating
#          nothing, when network namespaces cannot be made here.
#   cut    blackhole routes both ways: neither side gets an error, only silence.
#   heal   remove those routes (none: nothing to do).
#   down   delete both namespaces (the pair goes with them); absent ones are
#          not an error.
# Needs root and ip (iproute2). 192.0.2.0/24 is TEST-NET-1: never routed.
set -eu

cmd=${1:-} s=${2:-} c=${3:-}
if [ -z "$cmd" ] || [ -z "$s" ] || [ -z "$c" ]; then
	echo "usage: netns-pair.sh up|cut|heal|down SERVER_NS CLIENT_NS" >&2
	exit 64
fi

case $cmd in
up)
	ip netns add "$s" 2>/dev/null || {
		echo "netns-pair.sh: cannot create network namespaces here" >&2
		exit 69
	}
	ip netns add "$c"
	# Interface names: at most 15 bytes; a namespace's name plus "v".
	ip link add "v$s" type veth peer name "v$c"
	ip link set "v$s" netns "$s"
	ip link set "v$c" netns "$c"
	ip -n "$s" addr add 192.0.2.1/24 dev "v$s"
	ip -n "$c" addr add 192.0.2.2/24 dev "v$c"
	for ns in "$s" "$c"; do
		ip -n "$ns" link set lo up
	done
	ip -n "$s" link set "v$s" up
	ip -n "$c" link set "v$c" up
	;;
cut)
	ip -n "$c" route add blackhole 192.0.2.1/32
	ip -n "$s" route add blackhole 192.0.2.2/32
	;;
heal)
	ip -n "$c" route del blackhole 192.0.2.1/32 2>/dev/null || true
	ip -n "$s" route del blackhole 192.0.2.2/32 2>/dev/null || true
	;;
down)
	ip netns delete "$c" 2>/dev/null || true
	ip netns delete "$s" 2>/dev/null || true
	;;
*)
	echo "netns-pair.sh: unknown command: $cmd" >&2
	exit 64
	;;
esac
