#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# fault-suite.sh: cluster mode against faults, with a real network between
# the instances and the server, for each backend; prints what happened and a
# Markdown table (docs/cluster.md takes its figures from it).
#
# Usage: sh scripts/fault-suite.sh [--short] [--rounds N] [--backend NAME]...
#   NAME: postgresql, mysql, etcd (etcd only for comparison: etcdctl lock
#   runs a command under an etcd lease and never stops it, so its overlaps
#   are shown and do not count). Default: all three, etcd when installed.
#   --short   one round per scenario and fewer starters, bounded waits (CI)
#   --rounds  rounds per scenario (default 3; --short: 1)
# Exit: 0 when no instance ran beside another where that must never happen
# and every fencing token was larger than the one before; 1 otherwise;
# 77 (skipped, with the reason) without root or network namespaces;
# 64 bad usage.
#
# The server runs in one network namespace (192.0.2.1), the instances in
# another (scripts/netns-pair.sh) with a host name of their own, as on
# another machine, or next to the server (its unix socket) where a
# scenario says so. Each instance runs tests/helpers/fencelog.py,
# which appends "<epoch_ns> <pid> <token>" to a log every 10 ms: what an
# outside resource would see. Two instances overlap when the spans from
# their first to their last line intersect; that must never happen, except
# for a frozen holder, which nothing can stop while it is frozen: its late
# lines must carry an older token than the newer holder's (the resource can
# refuse them), reported as "0 (n older-token writes)".
#
# Scenarios, each against the same server, with its own lock name per round:
#   kill      the holder SIGKILLed
#   frozen    the holder SIGSTOPped and its link cut (a paused host: silent,
#             and its kernel does nothing), SIGCONT once another instance
#             has the lock; it starts with SIGIO ignored, so that only the
#             library's own watcher thread, frozen with it, can act on thaw
#   cut       the link cut both ways (blackhole routes)
#   lossy     30 % of the packets dropped each way (nft) for a while, plus
#             a delay where the kernel has netem (said in the output)
#   restart   the server restarted
#   replace   the holder's link cut, then a replace-mode instance started
#             next to the server
#   many      N starters at once, wait mode, each holding briefly
#   waiter    a holder next to the server, two waiters queued behind it (the
#             first one in the client's namespace), the first waiter's link
#             cut, the holder ends 3 s later: when does the second run?
# Times: "dead" from the fault to the old holder's end (for waiter: the cut
# to the cut-off waiter's end), "next" from the fault (waiter: the holder's
# end) to the next holder's first line.
#
# The build: build/ of the checkout this script is in, or $PIDLOCK_BUILD.
# Needs root, ip (iproute2), python3, and the servers (scripts/pg-cluster.sh,
# scripts/mysql-server.sh); nft for the lossy scenario; etcd and etcdctl
# for the etcd column.
# The scenarios are called by name (sc_$sc), cleanup by trap.
# shellcheck disable=SC2317
# Run as "sh scripts/fault-suite.sh" too: bash from here on.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${PIDLOCK_BUILD:-$ROOT/build}
SHIM=$BUILD/libpidlock.so
WRITER=$ROOT/tests/helpers/fencelog.py
PY=/usr/bin/python3
PATH=$PATH:/usr/sbin:/sbin

short=0 rounds="" backends=()
while [ $# -gt 0 ]; do
	case $1 in
	--short) short=1 ;;
	--rounds)
		rounds=${2:-}
		shift
		;;
	--backend)
		backends+=("${2:-}")
		shift
		;;
	*)
		echo "usage: fault-suite.sh [--short] [--rounds N] [--backend postgresql|mysql|etcd]..." >&2
		exit 64
		;;
	esac
	shift
done
case $rounds in
'') rounds=$((short ? 1 : 3)) ;;
*[!0-9]* | 0)
	echo "fault-suite: --rounds needs a positive number" >&2
	exit 64
	;;
esac
explicit=${#backends[@]}
[ "$explicit" -gt 0 ] || backends=(postgresql mysql etcd)
for b in "${backends[@]}"; do
	case $b in
	postgresql | mysql | etcd) ;;
	*)
		echo "fault-suite: unknown backend: $b" >&2
		exit 64
		;;
	esac
done
# Starters of "many", and how long a scenario waits for the next holder
# (MariaDB let go of a cut-off waiter only after some 108 s, once).
if [ "$short" -eq 1 ]; then
	MANY=10 LIMIT=60 LOSSY_SECS=12
else
	MANY=30 LIMIT=150 LOSSY_SECS=20
fi

skip() {
	echo "fault-suite: skipped: $*" >&2
	exit 77
}
[ "$(id -u)" -eq 0 ] || skip "needs root (network namespaces)"
command -v ip >/dev/null 2>&1 || skip "ip (iproute2) is not installed"
[ -x "$PY" ] || skip "$PY is not installed"
[ -f "$SHIM" ] || {
	echo "fault-suite: $SHIM is missing: run make all (or set PIDLOCK_BUILD)" >&2
	exit 1
}

TMP=$(mktemp -d /tmp/pidlock-fault.XXXXXX)
chmod 0755 "$TMP"
NS_S="plfs$$" NS_C="plfc$$"
NETNS_UP=0 SRV_DIR="" BE="" ETCD_PID="" INST=()

# Every instance is its own process group (setsid), so that a signal
# reaches etcdctl and the command it runs alike; only groups we started.
kill_instances() {
	local p
	for p in "${INST[@]}"; do
		kill -KILL -- "-$p" 2>/dev/null || true
		kill -CONT -- "-$p" 2>/dev/null || true
	done
	for p in "${INST[@]}"; do
		until_true 10 eval "! alive $p" || echo "fault-suite: PID $p does not end" >&2
	done
	INST=()
}
be_stop_quiet() { [ -z "$BE" ] || be_stop >/dev/null 2>&1 || true; }
cleanup() {
	kill_instances
	be_stop_quiet
	[ "$NETNS_UP" -eq 0 ] || sh "$ROOT/scripts/netns-pair.sh" down "$NS_S" "$NS_C"
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

now_ns() { date +%s%N; }
# True while process $1 runs (a zombie has ended).
alive() {
	local s
	s=$(sed -n 's/^State:[[:space:]]*\(.\).*/\1/p' "/proc/$1/status" 2>/dev/null) || return 1
	[ -n "$s" ] && [ "$s" != Z ] && [ "$s" != X ]
}
# until_true SECS CMD...: polls CMD every 0.05 s, at most SECS seconds.
until_true() {
	local end=$(($(now_ns) + $1 * 1000000000))
	shift
	while ! "$@"; do
		[ "$(now_ns)" -lt "$end" ] || return 1
		sleep 0.05
	done
}
# Whether PID $1 wrote to log $2.
wrote() { awk -v p="$1" '$2 == p { f = 1; exit } END { exit !f }' "$2" 2>/dev/null; }
# The first line after time $2 of a PID other than $3 in log $1: "time pid".
# Times compare as strings (19 digits until 2286): awk's doubles would round.
first_other() { awk -v t="$2" -v o="$3" '$1 "" > t "" && $2 != o { print $1, $2; exit }' "$1" 2>/dev/null; }

# ---- the network ----

net_up() {
	local st=0
	NETNS_UP=1 # down is harmless if up made nothing
	sh "$ROOT/scripts/netns-pair.sh" up "$NS_S" "$NS_C" || st=$?
	[ "$st" -ne 69 ] || skip "network namespaces cannot be created here"
	[ "$st" -eq 0 ] || exit 1
}
cut() { sh "$ROOT/scripts/netns-pair.sh" cut "$NS_S" "$NS_C"; }
heal() { sh "$ROOT/scripts/netns-pair.sh" heal "$NS_S" "$NS_C"; }

# The lossy link: in the client's namespace only, so that instances next
# to the server are not touched. netem (delay) is a kernel module that is
# not everywhere; nft's random drop is.
LOSS_HOW=""
lossy_on() {
	ip netns exec "$NS_C" nft -f - <<-'EOF'
		table inet plfault {
			chain out { type filter hook output priority 0; ip daddr 192.0.2.1 numgen random mod 100 < 30 drop; }
			chain in { type filter hook input priority 0; ip saddr 192.0.2.1 numgen random mod 100 < 30 drop; }
		}
	EOF
	LOSS_HOW="30 % dropped each way (nft numgen)"
	if ip netns exec "$NS_C" tc qdisc add dev "v$NS_C" root netem delay 100ms 50ms 2>/dev/null; then
		LOSS_HOW="$LOSS_HOW, 100 ± 50 ms delay (netem)"
	else
		LOSS_HOW="$LOSS_HOW, no delay (no netem in this kernel)"
	fi
}
lossy_off() {
	ip netns exec "$NS_C" nft delete table inet plfault 2>/dev/null || true
	ip netns exec "$NS_C" tc qdisc del dev "v$NS_C" root 2>/dev/null || true
}

# ---- the backends: be_start, be_stop, be_restart, be_waiting NAME, inst ----

PG_PORT=5432 MY_PORT=3306 ETCD_EP=192.0.2.1:2379
be_start() {
	SRV_DIR=$TMP/$BE
	mkdir -p "$SRV_DIR"
	case $BE in
	postgresql)
		ip netns exec "$NS_S" env PG_LISTEN=192.0.2.1 PG_TRUST=192.0.2.0/24 \
			sh "$ROOT/scripts/pg-cluster.sh" start "$SRV_DIR" "$PG_PORT"
		;;
	mysql)
		ip netns exec "$NS_S" env MYSQL_LISTEN=192.0.2.1 MYSQL_TRUST=192.0.2.0/24 \
			sh "$ROOT/scripts/mysql-server.sh" start "$SRV_DIR" "$MY_PORT"
		;;
	etcd)
		ip netns exec "$NS_S" setsid etcd --name plf --data-dir "$SRV_DIR/data" \
			--listen-client-urls "http://$ETCD_EP,http://127.0.0.1:2379" \
			--advertise-client-urls "http://$ETCD_EP" \
			--listen-peer-urls http://127.0.0.1:2380 \
			--initial-advertise-peer-urls http://127.0.0.1:2380 \
			--initial-cluster plf=http://127.0.0.1:2380 >"$SRV_DIR/etcd.log" 2>&1 </dev/null &
		ETCD_PID=$!
		until_true 30 ip netns exec "$NS_S" etcdctl --endpoints=127.0.0.1:2379 \
			endpoint health >/dev/null 2>&1 || {
			tail -n 20 "$SRV_DIR/etcd.log" >&2
			return 1
		}
		;;
	esac
}
be_stop() {
	case $BE in
	postgresql) ip netns exec "$NS_S" sh "$ROOT/scripts/pg-cluster.sh" stop "$SRV_DIR" "$PG_PORT" ;;
	mysql) ip netns exec "$NS_S" sh "$ROOT/scripts/mysql-server.sh" stop "$SRV_DIR" "$MY_PORT" ;;
	etcd)
		[ -n "$ETCD_PID" ] || return 0
		kill -KILL "$ETCD_PID" 2>/dev/null || true
		wait "$ETCD_PID" 2>/dev/null || true
		ETCD_PID=""
		;;
	esac
}
be_restart() {
	case $BE in
	postgresql) ip netns exec "$NS_S" sh "$ROOT/scripts/pg-cluster.sh" restart "$SRV_DIR" "$PG_PORT" ;;
	mysql)
		ip netns exec "$NS_S" env MYSQL_LISTEN=192.0.2.1 MYSQL_TRUST=192.0.2.0/24 \
			sh "$ROOT/scripts/mysql-server.sh" restart "$SRV_DIR" "$MY_PORT"
		;;
	etcd)
		be_stop
		be_start
		;;
	esac
}
# How many instances wait for lock $1 on the server.
be_waiting() {
	case $BE in
	postgresql)
		psql -X -At "postgresql:///postgres?host=$SRV_DIR&port=$PG_PORT&user=postgres" \
			-c "select count(*) from pg_locks where locktype = 'advisory' and not granted"
		;;
	mysql)
		mariadb --no-defaults -S "$SRV_DIR/sock" -uroot -N -B -e "select count(*)
			from information_schema.processlist where state = 'User lock'"
		;;
	etcd) # one key per holder or waiter under the lock's prefix
		ip netns exec "$NS_S" etcdctl --endpoints=127.0.0.1:2379 get --prefix --keys-only "$1/" |
			grep -c . | awk '{ print ($1 > 0 ? $1 - 1 : 0) }'
		;;
	esac
}
waiting_at_least() { [ "$(be_waiting "$1" 2>/dev/null || echo 0)" -ge "$2" ]; }

# inst far|near NAME MODE LOG SECS [sigio-ignored]: an instance in the
# background, in the client's namespace (far, over the link) or the
# server's (near); IPID is its process (group). MODE: fail, wait, replace.
inst() {
	local side=$1 name=$2 mode=$3 log=$4 secs=$5 ns uri host=()
	ns=$NS_C
	[ "$side" = far ] || ns=$NS_S
	# Far is another machine: a host name of its own (a UTS namespace),
	# so that replace and stop cannot watch its PID here and rely on the
	# time a cut-off holder takes to stop, as across machines.
	# shellcheck disable=SC2016 # expanded by the inner sh
	[ "$side" != far ] ||
		host=(unshare --uts sh -c 'echo "$1" >/proc/sys/kernel/hostname && shift && exec "$@"' _ "$NS_C")
	case $BE in
	postgresql)
		uri="postgresql://postgres@192.0.2.1:$PG_PORT/postgres#$name"
		[ "$side" = far ] || uri="postgresql:///postgres?host=$SRV_DIR&port=$PG_PORT&user=postgres#$name"
		;;
	mysql)
		uri="mysql://root@192.0.2.1:$MY_PORT/#$name"
		[ "$side" = far ] || uri="mysql://root@localhost/?socket=$SRV_DIR/sock#$name"
		;;
	esac
	(
		[ "${6:-}" != sigio-ignored ] || trap '' IO
		if [ "$BE" = etcd ]; then
			exec ip netns exec "$ns" "${host[@]}" setsid etcdctl --endpoints="$ETCD_EP" lock --ttl=10 "$name" \
				"$PY" "$WRITER" "$log" "$secs" ETCD_LOCK_REV
		fi
		exec ip netns exec "$ns" "${host[@]}" setsid env PIDLOCK_FILE="$uri" LD_PRELOAD="$SHIM" \
			PIDLOCK_MODE="$mode" PIDLOCK_TIMEOUT=300 "$PY" "$WRITER" "$log" "$secs"
	) >>"$TMP/inst.out" 2>&1 </dev/null &
	IPID=$!
	INST+=("$IPID")
	# Killed on purpose: no "Killed" line from the shell; it still reaps
	# them, and alive() counts a zombie as ended.
	disown "$IPID"
}
# The writer's PID of instance $1: itself, or etcdctl's child.
writer_of() {
	if [ "$BE" = etcd ]; then
		pgrep -P "$1" | head -n 1
	else
		echo "$1"
	fi
}
# Waits until instance $1 writes to log $2; W is its writer's PID.
until_writes() {
	local end=$(($(now_ns) + ${3:-20} * 1000000000))
	W=""
	while [ "$(now_ns)" -lt "$end" ]; do
		[ -n "$W" ] || W=$(writer_of "$1")
		if [ -n "$W" ] && wrote "$W" "$2"; then
			return 0
		fi
		alive "$1" || return 1
		sleep 0.05
	done
	return 1
}

# observe OLD LOG LIMIT [OTHER]: after the fault at $FAULT, until the old
# holder's writer OLD has ended and another PID has written to LOG, at most
# LIMIT s; sets DEAD and NEXT (ms after FAULT; "" for never). NEXT comes
# from the log's own times. OTHER: a process whose end is noted too (XDEAD,
# in ns since the epoch).
observe() {
	local old=$1 log=$2 end=$(($(now_ns) + $3 * 1000000000)) other=${4:-} line
	DEAD="" NEXT="" XDEAD=""
	while [ "$(now_ns)" -lt "$end" ]; do
		[ -n "$DEAD" ] || alive "$old" || DEAD=$((($(now_ns) - FAULT) / 1000000))
		[ -z "$other" ] || [ -n "$XDEAD" ] || alive "$other" || XDEAD=$(now_ns)
		if [ -z "$NEXT" ]; then
			line=$(first_other "$log" "$FAULT" "$old")
			if [ -n "$line" ]; then
				NEXT=$(((${line%% *} - FAULT) / 1000000))
				# A holder that outlives the next one's start by 10 s
				# (etcdctl's command) will not end by itself.
				[ "$end" -lt $(($(now_ns) + 10000000000)) ] || end=$(($(now_ns) + 10000000000))
			fi
		fi
		[ -z "$DEAD" ] || [ -z "$NEXT" ] || return 0
		sleep 0.03
	done
}

# ---- the analysis ----

# analyse LOG KIND: one line "VIOLATIONS CELL" for the log of one round;
# KIND frozen allows overlaps whose late lines carry an older token.
analyse() {
	"$PY" - "$1" "$2" <<-'EOF'
		import sys
		log, kind = sys.argv[1], sys.argv[2]
		inst = {}  # pid -> [first, last, token, lines]
		for line in open(log):
		    f = line.split()
		    if len(f) != 3 or not f[0].isdigit():
		        continue
		    t, pid, tok = int(f[0]), f[1], f[2]
		    i = inst.setdefault(pid, [t, t, tok, []])
		    i[1] = t
		    i[3].append(t)
		order = sorted(inst.values(), key=lambda i: i[0])
		pairs = bad = older = 0
		for a in range(len(order)):
		    for b in range(a + 1, len(order)):
		        x, y = order[a], order[b]  # x started first
		        if y[0] > x[1]:
		            continue
		        pairs += 1
		        late = sum(1 for t in x[3] if t >= y[0])
		        ok = x[2].isdigit() and y[2].isdigit() and int(x[2]) < int(y[2])
		        if kind == "frozen" and ok:
		            older += late
		        else:
		            bad += 1
		toks = [i[2] for i in order]
		if all(t.isdigit() for t in toks):
		    mono = all(int(a) < int(b) for a, b in zip(toks, toks[1:]))
		else:
		    mono = None
		viol = bad + (1 if mono is False else 0)
		cell = str(bad if kind != "frozen" else 0) if bad == 0 else "%d pair(s)" % bad
		if kind == "frozen" and bad == 0:
		    cell = "0 (%d older-token writes)" % older
		if bad and kind == "frozen":
		    cell += " (tokens absent or not older)"
		if mono is False:
		    cell += ", tokens NOT increasing"
		print(viol, cell, "|", len(order))
	EOF
}

# The tokens of every acquisition on this backend's server, in the order
# of their first line, across every round: "increasing", "absent", or the
# first pair that is not.
tokens_check() {
	cat "$TMP/$BE".*.log 2>/dev/null | "$PY" -c '
import sys
first = {}
for line in sys.stdin:
    f = line.split()
    if len(f) == 3 and f[0].isdigit():
        t = int(f[0])
        if f[1] not in first or t < first[f[1]][0]:
            first[f[1]] = (t, f[2])
toks = [tok for _, tok in sorted(first.values())]
if not toks or not all(t.isdigit() for t in toks):
    print("absent" if all(t == "-" for t in toks) else "partly absent")
    sys.exit()
for a, b in zip(toks, toks[1:]):
    if int(a) >= int(b):
        print("NOT increasing: %s then %s" % (a, b))
        sys.exit()
print("increasing (%d, up to %s)" % (len(toks), toks[-1]))'
}

FAIL=0
RESULTS=$TMP/results
: >"$RESULTS"
# record SCENARIO ROUND LOG KIND: analyses the round's log and prints it.
record() {
	local sc=$1 r=$2 log=$3 kind=${4:-plain} a viol cell n counts=1
	a=$(analyse "$log" "$kind")
	viol=${a%% *}
	cell=${a#* }
	n=${cell##*| }
	cell=${cell% |*}
	[ "$BE" != etcd ] || counts=0 # comparison only
	if [ "$viol" -gt 0 ] && [ "$counts" -eq 1 ]; then
		FAIL=1
		cell="$cell FAIL"
	fi
	printf '%-10s %-8s round %d: overlaps %s; dead %s; next %s; %s instances\n' "$BE" "$sc" "$r" \
		"$cell" "$(ms "$DEAD")" "$(ms "$NEXT")" "$n"
	printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$BE" "$sc" "$cell" "${DEAD:--}" "${NEXT:--}" "$r" >>"$RESULTS"
}
ms() {
	case $1 in
	'') echo never ;;
	*[!0-9]*) echo "$1" ;;
	*) echo "$1 ms" ;;
	esac
}
# Ends the round: every instance killed, the link healed and clean.
end_round() {
	kill_instances
	lossy_off
	heal
}

# ---- the scenarios: one round each, lock name $BE-SCENARIO-ROUND ----

# The holder, far away, once it writes: HOLDER its writer, HGROUP its
# process group. $3...: inst's extra argument (sigio-ignored).
holder_far() {
	local n=$1 log=$2
	shift 2
	inst far "$n" fail "$log" 600 "$@"
	until_writes "$IPID" "$log" || return 1
	HOLDER=$W HGROUP=$IPID
}

# The holder, and a waiter next to the server queued behind it; FAULT is
# now, the moment the scenario strikes.
holder_and_waiter() {
	local n=$1 log=$2
	shift 2
	holder_far "$n" "$log" "$@" || return 1
	inst near "$n" wait "$log" 600
	until_true 10 waiting_at_least "$n" 1 || true
	FAULT=$(now_ns)
}

sc_kill() {
	local n=$1 log=$2 w
	holder_and_waiter "$n" "$log" || return 1
	w=$HOLDER
	kill -KILL -- "-$(pgid_of "$w")"
	observe "$w" "$log" "$LIMIT"
}
pgid_of() { ps -o pgid= -p "$1" | tr -d ' '; }

sc_frozen() {
	local n=$1 log=$2 w g
	holder_and_waiter "$n" "$log" sigio-ignored || return 1
	w=$HOLDER g=$HGROUP
	kill -STOP -- "-$g"
	cut
	# Thawed once another instance has the lock (or the limit passed).
	local end=$(($(now_ns) + LIMIT * 1000000000))
	until [ -n "$(first_other "$log" "$FAULT" "$w")" ] || [ "$(now_ns)" -ge "$end" ]; do
		sleep 0.1
	done
	heal
	kill -CONT -- "-$g"
	observe "$w" "$log" 10
}

sc_cut() {
	local n=$1 log=$2 w
	holder_and_waiter "$n" "$log" || return 1
	w=$HOLDER
	cut
	observe "$w" "$log" "$LIMIT"
}

# Lossy for LOSSY_SECS; then the link is clean again and the holder, if it
# lasted, is ended with TERM: "next" then counts from the fault still.
sc_lossy() {
	local n=$1 log=$2 w
	if ! command -v nft >/dev/null 2>&1; then
		echo "$BE lossy: skipped: nft (nftables) is not installed"
		return 2
	fi
	holder_and_waiter "$n" "$log" || return 1
	w=$HOLDER
	lossy_on
	observe "$w" "$log" "$LOSSY_SECS"
	lossy_off
	if alive "$w"; then
		# Survived: ended with TERM, "next" from then.
		FAULT=$(now_ns)
		kill -TERM -- "-$(pgid_of "$w")" 2>/dev/null || true
		observe "$w" "$log" "$LIMIT"
		DEAD=""
		LOSSY_NOTE="$LOSSY_NOTE $BE:survived"
	else
		local dead=$DEAD
		[ -n "$NEXT" ] || observe "$w" "$log" "$LIMIT"
		DEAD=$dead
		LOSSY_NOTE="$LOSSY_NOTE $BE:died"
	fi
}

sc_restart() {
	local n=$1 log=$2 w
	holder_far "$n" "$log" || return 1
	w=$HOLDER
	FAULT=$(now_ns)
	be_restart >/dev/null 2>&1
	inst near "$n" wait "$log" 600
	observe "$w" "$log" 30
}

sc_replace() {
	local n=$1 log=$2 w
	[ "$BE" != etcd ] || {
		DEAD="" NEXT=""
		return 2
	}
	holder_far "$n" "$log" || return 1
	w=$HOLDER
	cut
	FAULT=$(now_ns)
	inst near "$n" replace "$log" 600
	observe "$w" "$log" 40
}

# MANY starters at once, each holding 0.2 s; "next" is the longest
# handover (one's last line to the next one's first), "dead" empty.
sc_many() {
	local n=$1 log=$2 _
	FAULT=$(now_ns)
	for _ in $(seq "$MANY"); do
		inst far "$n" wait "$log" 0.2
	done
	local end=$(($(now_ns) + LIMIT * 1000000000)) p left=1
	while [ "$left" -eq 1 ] && [ "$(now_ns)" -lt "$end" ]; do
		left=0
		for p in "${INST[@]}"; do
			! alive "$p" || left=1
		done
		sleep 0.2
	done
	DEAD=n/a
	NEXT=$("$PY" -c '
import sys
span = {}
for line in open(sys.argv[1]):
    t, p, _ = line.split()
    s = span.setdefault(p, [int(t), int(t)])
    s[1] = int(t)
v = sorted(span.values())
print(max((b[0] - a[1]) // 1000000 for a, b in zip(v, v[1:])) if len(v) > 1 else "")' "$log")
	MANY_RAN="$MANY_RAN $BE:$(awk '{ print $2 }' "$log" | sort -u | wc -l)/$MANY"
}

sc_waiter() {
	local n=$1 log=$2 h w1 w2 cutat
	inst near "$n" fail "$log" 600
	until_writes "$IPID" "$log" || return 1
	h=$W
	inst far "$n" wait "$log" 600
	w1=$IPID
	until_true 15 waiting_at_least "$n" 1 || return 1
	inst near "$n" wait "$log" 600
	w2=$IPID
	until_true 15 waiting_at_least "$n" 2 || return 1
	cut
	cutat=$(now_ns)
	sleep 3
	kill -TERM -- "-$(pgid_of "$h")"
	until_true 10 eval "! alive $h" || return 1
	FAULT=$(now_ns)
	observe "$h" "$log" "$LIMIT" "$w1"
	# dead: when the cut-off waiter ended, from the cut.
	DEAD=""
	[ -z "$XDEAD" ] || DEAD=$(((XDEAD - cutat) / 1000000))
	wrote "$(writer_of "$w2")" "$log" || echo "$BE waiter: the second waiter did not run"
}

SCENARIOS=(kill frozen cut lossy restart replace many waiter)
LOSSY_NOTE=""
MANY_RAN=""

run_backend() {
	BE=$1
	case $BE in
	etcd)
		if ! command -v etcd >/dev/null 2>&1 || ! command -v etcdctl >/dev/null 2>&1; then
			echo "$BE: not installed (etcd, etcdctl)"
			echo "$BE	*	not installed	-	-	0" >>"$RESULTS"
			[ "$explicit" -eq 0 ] || FAIL=1
			return 0
		fi
		;;
	esac
	local st=0 sc r log
	be_start 2>"$TMP/start.err" || st=$?
	if [ "$st" -ne 0 ]; then
		echo "$BE: the server did not start (status $st): $(tail -n 3 "$TMP/start.err")"
		echo "$BE	*	server did not start	-	-	0" >>"$RESULTS"
		[ "$st" -eq 69 ] && [ "$explicit" -eq 0 ] || FAIL=1
		be_stop_quiet
		BE=""
		return 0
	fi
	for sc in "${SCENARIOS[@]}"; do
		for r in $(seq "$rounds"); do
			log=$TMP/$BE.$sc.$r.log
			: >"$log"
			DEAD="" NEXT="" st=0
			"sc_$sc" "$BE-$sc-$r" "$log" || st=$?
			if [ "$st" -eq 2 ]; then
				echo "$BE	$sc	n/a	-	-	$r" >>"$RESULTS" # etcd's replace, lossy without nft
				end_round
				continue
			fi
			if [ "$st" -ne 0 ]; then
				echo "$BE $sc round $r: the scenario could not be set up; instances: $(tail -n 5 "$TMP/inst.out")"
				echo "$BE	$sc	setup failed	-	-	$r" >>"$RESULTS"
				[ "$BE" = etcd ] || FAIL=1
				end_round
				continue
			fi
			end_round
			if [ "$sc" = frozen ]; then
				record "$sc" "$r" "$log" frozen
			else
				record "$sc" "$r" "$log"
			fi
		done
	done
	local tk
	tk=$(tokens_check)
	echo "$BE: fencing tokens: $tk"
	echo "$BE	tokens	$tk	-	-	0" >>"$RESULTS"
	case $tk in "NOT "*) [ "$BE" = etcd ] || FAIL=1 ;; esac
	be_stop
	BE=""
}

started=$(now_ns)
echo "fault-suite: build $BUILD, $rounds round(s) per scenario, $MANY starters in many"
net_up
for b in "${backends[@]}"; do
	run_backend "$b"
done
took=$((($(now_ns) - started) / 1000000000))

# ---- the table ----
echo
echo "## Cluster faults, measured ($(date -u +%Y-%m-%d), $(uname -sr), $(nproc) cores, $rounds round(s))"
echo
"$PY" - "$RESULTS" "${backends[*]}" "$LOSS_HOW" "$MANY" "$LIMIT" <<-'EOF'
	import re
	import sys
	res, bes, loss, many, limit = sys.argv[1], sys.argv[2].split(), sys.argv[3], sys.argv[4], sys.argv[5]
	rows = {}
	for line in open(res):
	    be, sc, cell, dead, nxt, r = line.rstrip("\n").split("\t")
	    rows.setdefault((be, sc), []).append((cell, dead, nxt))
	def rng(v):
	    v = [int(x) for x in v if x.lstrip("-").isdigit()]
	    if not v:
	        return None
	    f = lambda x: "%d ms" % x if x < 1000 else "%.1f s" % (x / 1000)
	    a, b = f(min(v)), f(max(v))
	    return a if a == b else "%s – %s" % (a, b)
	label = {
	    "kill": "holder SIGKILLed",
	    "frozen": "holder frozen (SIGSTOP + link cut, SIGCONT after another took the lock)",
	    "cut": "link cut both ways",
	    "lossy": "lossy link (1)",
	    "restart": "server restarted",
	    "replace": "replace of a partitioned holder, from next to the server",
	    "many": "%s starters at once, wait mode (2)" % many,
	    "waiter": "partitioned first waiter (3)",
	    "tokens": "fencing tokens over all acquisitions",
	}
	print("| scenario | " + " | ".join(bes) + " |")
	print("| --- |" + " --- |" * len(bes))
	for sc in ["kill", "frozen", "cut", "lossy", "restart", "replace", "many", "waiter", "tokens"]:
	    cells = []
	    for be in bes:
	        got = rows.get((be, sc)) or rows.get((be, "*"))
	        if not got:
	            cells.append("—")
	            continue
	        if sc == "tokens" or got[0][0] in ("n/a", "not installed", "server did not start"):
	            cells.append(got[0][0])
	            continue
	        ovs = sorted(set(c for c, _, _ in got))
	        ks = [re.fullmatch(r"0 \((\d+) older-token writes\)", c) for c, _, _ in got]
	        if all(ks):
	            k = sorted(int(m.group(1)) for m in ks)
	            ovs = ["0 (%s older-token writes%s)" % (k[0] if k[0] == k[-1] else "%d–%d" % (k[0], k[-1]), " per round" if len(k) > 1 else "")]
	        n = len(got)
	        deads = [d for _, d, _ in got]
	        nexts = [x for _, _, x in got]
	        cell = "overlaps " + "; ".join(ovs)
	        d = rng(deads)
	        if sc != "many":
	            deads = [x for x in deads if x != "n/a"]
	            nd = sum(1 for x in deads if not x.lstrip("-").isdigit())
	            cell += ", dead " + (d or "never") + (" (%d of %d never)" % (nd, n) if d and nd else "")
	        x = rng(nexts)
	        nx = sum(1 for v in nexts if not v.lstrip("-").isdigit())
	        cell += ", next " + (x or "never") + (" (%d of %d never)" % (nx, n) if x and nx else "")
	        cells.append(cell)
	    print("| %s | %s |" % (label[sc], " | ".join(cells)))
	print()
	print("dead: from the fault to the old holder's end; next: from the fault to the next holder's first line; never: not within the scenario's wait (%s s for the next holder). dead is polled (about 30 ms apart), next read from the log: a next a few ms before dead is the polling's delay; overlaps are what the log shows." % limit)
	print("(1) %s, for a while; dead never: it survived, and was then ended with TERM, next counting from that." % (loss or "30 % of the packets dropped each way"))
	print("(2) next: the longest handover, from one holder's last line to the next one's first.")
	print("(3) a holder next to the server, two waiters queued behind it, the first across the link; the link cut, the holder ended 3 s later. dead: from the cut to the cut-off waiter's end; next: from the holder's end to the second waiter's first line.")
EOF
echo
[ -z "$LOSSY_NOTE" ] || echo "lossy: the holder, per round:$LOSSY_NOTE"
[ -z "$MANY_RAN" ] || echo "many: instances that ran, per round:$MANY_RAN"
echo "etcd: etcdctl lock --ttl=10 NAME CMD, for comparison: it never stops CMD, so its overlaps are expected and do not count."
echo "fault-suite: took ${took} s; $([ "$FAIL" -eq 0 ] && echo "no must-be-zero overlap" || echo "FAILED: see FAIL above")"
exit "$FAIL"
