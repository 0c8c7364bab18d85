#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# pidlock benchmark (the performance targets of docs/DESIGN.md): start-up cost, wait-mode handover
# latency, contention. Prints a markdown report and writes it, with the
# handover plot, under build/bench/; a full run also refreshes
# bench/RESULTS.md and docs/handover.png.
#
#   sh bench/run.sh            full run (under 5 minutes on 2 cores)
#   sh bench/run.sh --quick    every part with tiny counts; a smoke test for
#                              CI: nothing is asserted about timing
#   sh bench/run.sh --strict   as the full run, but exit 3 if a target is missed
#
# Run from `make bench` / `make bench-quick` (which build the library, the
# command and build/libempty.so first). As root it installs what it needs
# from Debian (valgrind strace libbsd-dev python3-psutil gnuplot-nox
# util-linux). Every loop is bounded; the only processes it signals are the
# harness's own children, by PID.
if [ -z "${BASH_VERSION:-}" ]; then exec bash "$0" "$@"; fi
set -euo pipefail
cd "$(dirname "$0")/.."

QUICK=0
STRICT=0
for arg in "$@"; do
	case $arg in
	--quick) QUICK=1 ;;
	--strict) STRICT=1 ;;
	*)
		echo "usage: sh bench/run.sh [--quick] [--strict]" >&2
		exit 64
		;;
	esac
done

if ((QUICK)); then
	ROUNDS_TRUE=5 ROUNDS_PY=3 HANDOVERS=5 CHUNKS=1 REPS_10=1 REPS_100=1 REPS_1000=1
else
	ROUNDS_TRUE=300 ROUNDS_PY=60 HANDOVERS=200 CHUNKS=10 REPS_10=11 REPS_100=5 REPS_1000=3
fi
POLL_MS=100 # the sleep-retry loop's period (psutil_lock.py's POLL)

# ------------------------------------------------------------ dependencies
deps() {
	local need=() tool
	for tool in valgrind:valgrind strace:strace flock:util-linux gnuplot:gnuplot-nox \
		cc:gcc make:make; do
		command -v "${tool%%:*}" >/dev/null 2>&1 || need+=("${tool#*:}")
	done
	[ -f /usr/include/bsd/libutil.h ] || need+=(libbsd-dev)
	[ -x /usr/bin/python3 ] && /usr/bin/python3 -c 'import psutil' 2>/dev/null ||
		need+=(python3-psutil)
	((${#need[@]})) || return 0
	if [ "$(id -u)" != 0 ]; then
		echo "bench: missing: ${need[*]}; install them (apt-get install ${need[*]}) or run as root" >&2
		exit 1
	fi
	echo "bench: installing ${need[*]}" >&2
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
}
deps
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
progress() { echo "bench: [${SECONDS}s] $*" >&2; }

# ------------------------------------------------------------------- build
OUT=build/bench
mkdir -p "$OUT"
if [ ! -f build/libpidlock.so ] || [ ! -f build/libempty.so ]; then make -s all build/libempty.so >&2; fi
CC=${CC:-cc}
BFLAGS=(-std=c11 -O2 -Wall -Wextra -Werror -Wshadow)
"$CC" "${BFLAGS[@]}" -o "$OUT/stamp" bench/stamp.c
"$CC" "${BFLAGS[@]}" -o "$OUT/harness" bench/harness.c
"$CC" "${BFLAGS[@]}" -o "$OUT/bsd_pidfile" bench/bsd_pidfile.c -lbsd

ROOT=$PWD
# A snapshot of the libraries: a rebuild of build/ while the benchmark runs
# (make test in another shell) cannot change what is measured half-way.
cp build/libpidlock.so "$OUT/libpidlock.so"
cp build/libempty.so "$OUT/libempty.so"
LIB=$ROOT/$OUT/libpidlock.so
EMPTY=$ROOT/$OUT/libempty.so
STAMP=$ROOT/$OUT/stamp
HARNESS=$ROOT/$OUT/harness
BSD=$ROOT/$OUT/bsd_pidfile
PSUTIL=$ROOT/bench/psutil_lock.py
PSUTIL_SRC=$(cat "$PSUTIL")
PY=/usr/bin/python3
FLOCK=$(command -v flock)

TMP=$(mktemp -d /tmp/pidlock-bench.XXXXXX)
trap 'rm -rf "$TMP"' EXIT

# Every measured program gets exactly this environment plus its variant's
# variables: small and fixed, so instruction counts repeat (the shim scans the
# environment, and Python's start-up reads it). PYTHONHASHSEED=0 makes
# Python's own instruction count repeatable to the instruction.
BASE=(PATH=/usr/bin:/bin "HOME=$TMP" LANG=C.UTF-8 PYTHONHASHSEED=0)

VARIANTS=(none empty inert active flock bsd psutil)
declare -A LABEL=(
	[none]="no preload"
	[empty]="empty preloaded library"
	[inert]="pidlock inert (PIDLOCK_FILE unset)"
	[active]="pidlock active (lock free)"
	[flock]="flock -n FILE CMD"
	[bsd]="libbsd pidfile_open + exec (bench/bsd_pidfile.c)"
	[psutil]="psutil + fcntl.flock in-process (bench/psutil_lock.py)"
)

# Sets CMD to the variant's [VAR=VALUE]... PROGRAM [ARG]... for a target
# (true: /bin/true; python: python3 -c pass); CMD=() where it does not apply.
variant_cmd() {
	local v=$1 t=$2 prog
	if [ "$t" = true ]; then prog=(/bin/true); else prog=("$PY" -c pass); fi
	case $v in
	none) CMD=("${prog[@]}") ;;
	empty) CMD=("LD_PRELOAD=$EMPTY" "${prog[@]}") ;;
	inert) CMD=("LD_PRELOAD=$LIB" "${prog[@]}") ;;
	active) CMD=("PIDLOCK_FILE=$TMP/active-$t.pid" "LD_PRELOAD=$LIB" "${prog[@]}") ;;
	flock) CMD=("$FLOCK" -n "$TMP/flock-$t.lock" "${prog[@]}") ;;
	bsd) CMD=("$BSD" "$TMP/bsd-$t.pid" "${prog[@]}") ;;
	psutil)
		# The guard's source as -c code, so that the only difference from
		# `python3 -c pass` is the guard itself (no script file to read).
		if [ "$t" = python ]; then CMD=("$PY" -c "$PSUTIL_SRC" "$TMP/psutil.pid"); else CMD=(); fi
		;;
	esac
}

# Splits CMD into ENVS (leading VAR=VALUE words) and ARGV.
split_cmd() {
	ENVS=() ARGV=()
	local i=0
	while [ $i -lt ${#CMD[@]} ] && [[ ${CMD[$i]} == [A-Z]*=* ]]; do
		ENVS+=("${CMD[$i]}")
		i=$((i + 1))
	done
	ARGV=("${CMD[@]:$i}")
}

# ------------------------------------------------- user-space instructions
# valgrind's static tool binary is run directly (with the variables its
# launcher would set), so that LD_PRELOAD and PIDLOCK_FILE reach only the
# measured program, never a dynamically linked launcher. Children are traced
# and a profile is dumped before every exec, so instructions of every process
# and of every image before an exec are all counted: the total is the sum.
VG_ARCH=$(uname -m)
case $VG_ARCH in x86_64) VG_ARCH=amd64 ;; aarch64) VG_ARCH=arm64 ;; esac
VG_TOOL=""
for d in /usr/libexec/valgrind /usr/lib/valgrind /usr/lib/x86_64-linux-gnu/valgrind /usr/local/libexec/valgrind; do
	[ -x "$d/callgrind-$VG_ARCH-linux" ] && VG_TOOL=$d/callgrind-$VG_ARCH-linux && break
done
[ -n "$VG_TOOL" ] || {
	echo "bench: callgrind tool binary not found" >&2
	exit 1
}
VG_LAUNCHER=$(command -v valgrind.bin || command -v valgrind)

ir_of() { # NAME: runs CMD under callgrind, prints total Ir
	local dir=$OUT/callgrind/$1
	rm -rf "$dir"
	mkdir -p "$dir"
	split_cmd
	env -i "${BASE[@]}" "VALGRIND_LAUNCHER=$VG_LAUNCHER" "${ENVS[@]}" "$VG_TOOL" --tool=callgrind \
		--trace-children=yes --dump-before='execv*' --callgrind-out-file="$dir/cg.%p" \
		"${ARGV[@]}" >/dev/null 2>"$dir/log" || {
		echo "bench: callgrind run of $1 failed (see $dir/log)" >&2
		exit 1
	}
	cat "$dir"/cg.* | awk '/^summary:/ { s += $2 } END { print s + 0 }'
}

# ----------------------------------------------------------- system calls
# strace gets the variant's variables with -E, so only the traced program
# (and its children) sees them. Counted: one line per system call, "resumed"
# halves and exit/signal notes left out.
sc_of() { # NAME: runs CMD under strace -f, prints the number of system calls
	local f=$OUT/strace/$1.txt eargs=() e
	mkdir -p "$OUT/strace"
	split_cmd
	for e in "${ENVS[@]}"; do eargs+=(-E "$e"); done
	env -i "${BASE[@]}" strace -f -o "$f" "${eargs[@]}" "${ARGV[@]}" >/dev/null 2>&1 || {
		echo "bench: strace run of $1 failed" >&2
		exit 1
	}
	grep -cvE '^[0-9]+ +(\+\+\+|---)|resumed>' "$f"
}

# Each variant runs once first and must exit 0 with nothing on stderr (a
# library the dynamic linker cannot preload is only warned about there), and
# "pidlock active" must really take the lock.
for t in true python; do
	for v in "${VARIANTS[@]}"; do
		variant_cmd "$v" "$t"
		((${#CMD[@]})) || continue
		split_cmd
		if ! err=$(env -i "${BASE[@]}" "${ENVS[@]}" "${ARGV[@]}" 2>&1 >/dev/null) || [ -n "$err" ]; then
			echo "bench: $v on $t does not run cleanly: $err" >&2
			exit 1
		fi
	done
done
said=$(env -i "${BASE[@]}" PIDLOCK_VERBOSE=1 "PIDLOCK_FILE=$TMP/check.pid" "LD_PRELOAD=$LIB" /bin/true 2>&1) || true
if [[ $said != *acquired* ]]; then
	echo "bench: $LIB does not take the lock when active" >&2
	exit 1
fi

declare -A IR SC WALL
TARGETS=(true python)
for t in "${TARGETS[@]}"; do
	for v in "${VARIANTS[@]}"; do
		variant_cmd "$v" "$t"
		((${#CMD[@]})) || continue
		progress "callgrind and strace: $v on $t"
		# Quick mode spares Python under callgrind (half a minute): the
		# same code path as /bin/true, which it does measure.
		if ((QUICK)) && [ "$t" = python ]; then IR[$v:$t]=-; else IR[$v:$t]=$(ir_of "$v-$t"); fi
		SC[$v:$t]=$(sc_of "$v-$t")
	done
done

# ------------------------------------------------------- wall-clock medians
for t in "${TARGETS[@]}"; do
	args=()
	for v in "${VARIANTS[@]}"; do
		variant_cmd "$v" "$t"
		((${#CMD[@]})) || continue
		((${#args[@]})) && args+=(":::")
		args+=("$v" "${BASE[@]}" "${CMD[@]}")
	done
	if [ "$t" = true ]; then rounds=$ROUNDS_TRUE; else rounds=$ROUNDS_PY; fi
	progress "wall clock, $t: $rounds interleaved rounds"
	res=$("$HARNESS" startup "$rounds" -- "${args[@]}") || {
		echo "bench: wall-clock runs on $t failed" >&2
		exit 1
	}
	while IFS=$'\t' read -r name med _p25 _p75 _n; do
		WALL[$name:$t]=$med
	done <<<"$res"
done

# ------------------------------------------------------------- handovers
# The approaches take turns in chunks (HANDOVERS/CHUNKS handovers each), so
# that a change in the machine's load over the minutes falls on all alike.
declare -A HO_MED HO_P99 HO_N
APPROACHES=(pidlock flock sleep-retry floor)
handover() { # NAME MODE COUNT HOLDER... ::: WAITER...
	local name=$1 mode=$2 count=$3 line
	shift 3
	line=$("$HARNESS" handover "$count" "$mode" "$OUT/handover-$name.ns" -- "$@") || {
		echo "bench: handover $name failed: $line" >&2
		exit 1
	}
}
handover_chunk() { # NAME COUNT
	case $1 in
	pidlock)
		handover pidlock block "$2" \
			holder "${BASE[@]}" "PIDLOCK_FILE=$TMP/h-pidlock.pid" "LD_PRELOAD=$LIB" "$STAMP" hold ::: \
			waiter "${BASE[@]}" "PIDLOCK_FILE=$TMP/h-pidlock.pid" PIDLOCK_MODE=wait PIDLOCK_TIMEOUT=10 \
			"LD_PRELOAD=$LIB" "$STAMP"
		;;
	flock)
		handover flock block "$2" \
			holder "${BASE[@]}" "$FLOCK" "$TMP/h-flock.lock" "$STAMP" hold ::: \
			waiter "${BASE[@]}" "$FLOCK" -w 10 "$TMP/h-flock.lock" "$STAMP"
		;;
	sleep-retry)
		# The waiter is psutil_lock.py; its holder a lean C one (the
		# holder's kind changes nothing for a waiter that polls, and a
		# Python holder would double the time this part takes).
		handover sleep-retry "poll:$POLL_MS" "$2" \
			holder "${BASE[@]}" "$STAMP" --lock "$TMP/h-psutil.pid" hold ::: \
			waiter "${BASE[@]}" "$PY" "$PSUTIL" --wait --stamp "$TMP/h-psutil.pid"
		;;
	floor)
		# Holder and waiter take flock(2) themselves, in C, in main; no
		# exec, no library: what is left is the kernel (exit, release,
		# wake-up).
		handover floor block "$2" \
			holder "${BASE[@]}" "$STAMP" --lock "$TMP/h-floor.lock" hold ::: \
			waiter "${BASE[@]}" "$STAMP" --lock "$TMP/h-floor.lock"
		;;
	esac
}
for name in "${APPROACHES[@]}"; do : >"$OUT/handover-$name.ns"; done
progress "handovers: ${APPROACHES[*]}, $HANDOVERS each, in $CHUNKS interleaved chunks"
for ((c = 0; c < CHUNKS; c++)); do
	for name in "${APPROACHES[@]}"; do
		handover_chunk "$name" $((HANDOVERS / CHUNKS))
	done
done
for name in "${APPROACHES[@]}"; do
	read -r n med p99 < <(sort -n "$OUT/handover-$name.ns" | awk '
		{ v[NR] = $1 }
		END {
			n = NR; m = n % 2 ? v[(n + 1) / 2] : int((v[n / 2] + v[n / 2 + 1]) / 2)
			k = int(0.99 * n); if (k < 0.99 * n) k++; if (k < 1) k = 1
			print n, m, v[k]
		}')
	HO_N[$name]=$n HO_MED[$name]=$med HO_P99[$name]=$p99
done

# ------------------------------------------------------------- contention
declare -A CT
contend() { # NAME N REPS LOSECODE VARIANT...
	local name=$1 n=$2 reps=$3 code=$4 log=$OUT/contend-$1-$2.txt
	shift 4
	progress "contention, $name, N=$n: $reps runs"
	"$HARNESS" contend "$n" "$reps" "$code" -- "$name" "${BASE[@]}" "$@" >"$log" || {
		echo "bench: contention $name N=$n failed:" >&2
		cat "$log" >&2
		exit 1
	}
	CT[$name:$n]=$(sed -n 's/^summary.*median_ms=\([0-9.]*\).*/\1/p' "$log")
	CT_WINNERS[$name:$n]=$(sed -n 's/.*winner_pid=\([0-9]*\).*/\1/p' "$log" | paste -sd, -)
}
declare -A CT_WINNERS
NS=(10 100 1000)
for n in "${NS[@]}"; do
	case $n in 10) reps=$REPS_10 ;; 100) reps=$REPS_100 ;; *) reps=$REPS_1000 ;; esac
	contend pidlock "$n" "$reps" 75 "PIDLOCK_FILE=$TMP/c-pidlock.pid" "LD_PRELOAD=$LIB" "$STAMP" hold
	contend flock "$n" "$reps" 1 "$FLOCK" -n "$TMP/c-flock.lock" "$STAMP" hold
	contend nolock "$n" "$(((reps + 2) / 3))" -1 "$STAMP"
done

# ------------------------------------------------------------------ plot
PLOT=$OUT/handover.png
for name in "${APPROACHES[@]}"; do
	sort -n "$OUT/handover-$name.ns" |
		awk -v n="${HO_N[$name]}" '{ printf "%.6f %.6f\n", $1 / 1e6, NR / n }' >"$OUT/handover-$name.cdf"
done
ms() { awk -v x="$1" 'BEGIN { if (x >= 10e6) printf "%.0f", x / 1e6; else if (x >= 1e6) printf "%.2f", x / 1e6; else printf "%.3f", x / 1e6 }'; }
gnuplot <<EOF
set terminal pngcairo size 760,460 font "sans,9"
set output "$PLOT"
set title "Wait-mode handover: holder's exit to waiter's main (${HO_N[pidlock]} handovers each)"
set logscale x 10
set format x "%g"
set xlabel "latency, ms (log scale)"
set ylabel "fraction of handovers"
set yrange [0:1]
set grid
set key below horizontal maxcols 2 width -6 samplen 3
set arrow from 1, graph 0 to 1, graph 1 nohead dt 3 lc rgb "red"
set label "target:\nmedian < 1 ms" at 1, graph 0.12 offset 0.5, 0 textcolor rgb "red"
plot "$OUT/handover-pidlock.cdf" using 1:2 with steps lw 2 title "pidlock wait (median $(ms "${HO_MED[pidlock]}") ms)", \
     "$OUT/handover-flock.cdf" using 1:2 with steps lw 2 title "flock -w (median $(ms "${HO_MED[flock]}") ms)", \
     "$OUT/handover-sleep-retry.cdf" using 1:2 with steps lw 2 title "sleep-retry 0.1 s (median $(ms "${HO_MED[sleep-retry]}") ms)", \
     "$OUT/handover-floor.cdf" using 1:2 with steps lw 1.5 dt 2 lc rgb "gray30" title "floor: raw flock(2) in C (median $(ms "${HO_MED[floor]}") ms)"
EOF

# ---------------------------------------------------------------- report
REPORT=$OUT/RESULTS.md
num() { awk -v x="$1" 'BEGIN { s = sprintf("%d", x < 0 ? -x : x); o = ""; while (length(s) > 3) { o = "," substr(s, length(s) - 2) o; s = substr(s, 1, length(s) - 3) } printf "%s%s%s", (x < 0 ? "-" : ""), s, o }'; }
signed() { if [ "$1" -ge 0 ]; then printf '+%s' "$(num "$1")"; else num "$1"; fi; }
PASSES=0 MISSES=0
declare -A VERDICT
judge() { # KEY OK(0/1): records PASS or MISS
	if ((QUICK)); then
		VERDICT[$1]="not asserted (--quick)"
	elif [ "$2" = 1 ]; then
		PASSES=$((PASSES + 1))
		VERDICT[$1]=PASS
	else
		MISSES=$((MISSES + 1))
		VERDICT[$1]=MISS
	fi
}
d_sc_a=$((${SC[active:true]} - ${SC[empty:true]}))
d_ir_a=$((${IR[active:true]} - ${IR[empty:true]}))
d_sc_i=$((${SC[inert:true]} - ${SC[empty:true]}))
d_ir_i=$((${IR[inert:true]} - ${IR[empty:true]}))
hm=${HO_MED[pidlock]} hf=${HO_MED[flock]}
# The target (docs/DESIGN.md): 8, plus at most one per directory of the PID file's path
# (the safety checks of guarantee 9): $TMP/active-true.pid has as many
# directories as $TMP has components, the root included.
SC_DIRS=$(($(printf '%s' "$TMP" | tr -cd / | wc -c) + 1))
SC_LIMIT=$((8 + SC_DIRS))
judge sc_a $((d_sc_a <= SC_LIMIT))
judge ir_a $((d_ir_a <= 12000))
judge sc_i $((d_sc_i <= 0))
judge ir_i $((d_ir_i <= 2500))
judge ho_1ms $((hm < 1000000))
judge ho_flock $((hm <= hf))

FENCE=$(printf '\140\140\140')
# The system calls pidlock adds to /bin/true, listed: the two traces are
# aligned by system call name (diff), and the active trace's extra lines shown
# with PIDs and addresses blanked.
calls() { sed -E 's/^[0-9]+ +//' "$1" | grep -vE '^(\+\+\+|---)|resumed>' | sed -E 's/0x[0-9a-f]+/0x_/g'; }
calls "$OUT/strace/empty-true.txt" | sed -E 's/\(.*//' >"$OUT/strace/empty-true.names"
calls "$OUT/strace/active-true.txt" >"$OUT/strace/active-true.calls"
sed -E 's/\(.*//' "$OUT/strace/active-true.calls" >"$OUT/strace/active-true.names"
ADDED_CALLS=$(diff --old-line-format= --unchanged-line-format= --new-line-format='%dn
' "$OUT/strace/empty-true.names" "$OUT/strace/active-true.names" |
	while read -r ln; do sed -n "${ln}p" "$OUT/strace/active-true.calls"; done || true)

{
	echo "# pidlock benchmark results"
	echo
	if ((QUICK)); then how="sh bench/run.sh --quick\` (\`make bench-quick"; else how="sh bench/run.sh\` (\`make bench"; fi
	echo "Produced by \`$how\`) on $(date -u '+%Y-%m-%d %H:%M UTC'),"
	echo "commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD -- shim 2>/dev/null || echo ' (shim/ modified)'),"
	echo "$(nproc) CPUs ($(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)), Linux $(uname -r),"
	echo "$(ldd --version 2>/dev/null | head -1 | sed 's/^ldd //'), load average at the start: $LOAD0."
	echo "Library measured: build/libpidlock.so, $(stat -c %s "$LIB") bytes, sha256 $(sha256sum "$LIB" | cut -c1-16)."
	((QUICK)) && echo && echo "**Quick mode: tiny counts, a smoke test; the timings mean nothing.**"
	echo
	for t in "${TARGETS[@]}"; do
		if [ "$t" = true ]; then
			echo "## Start-up cost: \`/bin/true\`"
		else
			echo "## Start-up cost: \`/usr/bin/python3 -c pass\`"
		fi
		echo
		echo "| variant | user-space instructions | added | system calls | added | wall median | × no preload |"
		echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"
		for v in "${VARIANTS[@]}"; do
			if [ -z "${IR[$v:$t]:-}" ]; then
				echo "| ${LABEL[$v]} | n/a | | | | | |"
				continue
			fi
			ir=${IR[$v:$t]} sc=${SC[$v:$t]} w=${WALL[$v:$t]}
			ratio=$(awk -v a="$w" -v b="${WALL[none:$t]}" 'BEGIN { printf "%.2f", a / b }')
			if [ "$ir" = - ]; then
				irs="skipped (--quick)" dirs=""
			else
				irs=$(num "$ir") dirs=$(signed "$((ir - ${IR[none:$t]}))")
			fi
			printf '| %s | %s | %s | %s | %s | %s ms | %s |\n' "${LABEL[$v]}" "$irs" "$dirs" \
				"$sc" "$(signed "$((sc - ${SC[none:$t]}))")" "$(ms "$w")" "$ratio"
		done
		echo
	done
	echo "\"added\" is over no preload. Instructions: valgrind --tool=callgrind, total Ir of every"
	echo "process and image involved (flock forks; bsd_pidfile executes the command), repeatable to"
	echo "the instruction; valgrind's static tool binary is started directly so that LD_PRELOAD"
	echo "reaches only the measured program, and the environment is fixed: ${BASE[*]/#HOME=*/HOME=DIR}."
	echo "System calls: lines of \`strace -f\`. Wall: medians of ${ROUNDS_TRUE} (true) and ${ROUNDS_PY}"
	echo "(python) runs per variant, variants interleaved round-robin, spawn to reap."
	echo "\`psutil\` applies to Python programs only: it is their own start-up code."
	echo
	echo "## Wait-mode handover (holder's exit to waiter's main)"
	echo
	echo "| approach | handovers | median | p99 |"
	echo "| --- | ---: | ---: | ---: |"
	for name in "${APPROACHES[@]}"; do
		case $name in
		pidlock) label="pidlock, PIDLOCK_MODE=wait" ;;
		flock) label="flock -w 10 FILE CMD" ;;
		sleep-retry) label="sleep-retry every 0.1 s (psutil_lock.py --wait)" ;;
		*) label="floor: flock(2) called in C by holder and waiter (bench/stamp.c --lock)" ;;
		esac
		printf '| %s | %s | %s ms | %s ms |\n' "$label" "${HO_N[$name]}" "$(ms "${HO_MED[$name]}")" \
			"$(ms "${HO_P99[$name]}")"
	done
	echo
	echo "Each handover is independent: a fresh holder and a fresh waiter; the holder is let go"
	echo "only once the waiter sleeps in flock(2) (/proc/PID/syscall), or, for sleep-retry, at a"
	echo "random point of its 0.1 s period. The holder stamps CLOCK_MONOTONIC just before _exit,"
	echo "the waiter (bench/stamp.c) first thing in main. The approaches take turns in $CHUNKS chunks."
	echo "Plot: docs/handover.png. The floor is"
	echo "what this machine's kernel needs to end a process and wake a flock(2) sleeper; pidlock's"
	echo "own part is its distance from the floor (its exit tidy, and the waiter's retry on the new"
	echo "file, since the holder removes the one it locked)."
	echo
	echo "## Contention: N simultaneous starters, fail mode"
	echo
	echo "| N | pidlock: all losers exited | per starter | flock -n: all losers exited | per starter | no lock (baseline: all exited) |"
	echo "| ---: | ---: | ---: | ---: | ---: | ---: |"
	for n in "${NS[@]}"; do
		printf '| %s | %s ms | %s µs | %s ms | %s µs | %s ms |\n' "$n" "$(ms "${CT[pidlock:$n]}e6")" \
			"$(awk -v t="${CT[pidlock:$n]}" -v n="$n" 'BEGIN { printf "%.0f", t * 1000 / n }')" \
			"$(ms "${CT[flock:$n]}e6")" "$(awk -v t="${CT[flock:$n]}" -v n="$n" 'BEGIN { printf "%.0f", t * 1000 / n }')" \
			"$(ms "${CT[nolock:$n]}e6")"
	done
	echo
	echo "Medians of ${REPS_10}/${REPS_100}/${REPS_1000} runs for N = 10/100/1000 (no lock: a third as many). Starters wait at a barrier, are"
	echo "released at once; time runs until the last loser has been reaped. Asserted in every run:"
	echo "exactly one starter won (printed \"ready\") and N-1 lost (pidlock exit 75, flock exit 1)."
	echo "Winners' PIDs, pidlock N=1000: ${CT_WINNERS[pidlock:1000]}; flock N=1000: ${CT_WINNERS[flock:1000]}."
	g() { awk -v a="${CT[$1:$3]}" -v b="${CT[$1:$2]}" 'BEGIN { printf "%.1f", a / b }'; }
	echo "Growth from N=100 to N=1000 (10× the starters): pidlock ×$(g pidlock 100 1000), flock -n ×$(g flock 100 1000),"
	echo "no lock ×$(g nolock 100 1000); from N=10 to N=100: pidlock ×$(g pidlock 10 100), flock -n ×$(g flock 10 100),"
	echo "no lock ×$(g nolock 10 100). ×10 means linear: a constant cost per starter, no extra cost from contention."
	echo
	echo "## Targets (docs/DESIGN.md, Performance targets)"
	echo
	echo "| target | measured | limit | verdict |"
	echo "| --- | ---: | ---: | --- |"
	echo "| active, added system calls over an empty library (/bin/true) | $(signed "$d_sc_a") | $SC_LIMIT (8 + $SC_DIRS directories) | ${VERDICT[sc_a]} |"
	echo "| active, added instructions over an empty library (/bin/true) | $(signed "$d_ir_a") | 12,000 | ${VERDICT[ir_a]} |"
	echo "| inert, added system calls over an empty library (/bin/true) | $(signed "$d_sc_i") | 0 | ${VERDICT[sc_i]} |"
	echo "| inert, added instructions over an empty library (/bin/true) | $(signed "$d_ir_i") | 2,500 | ${VERDICT[ir_i]} |"
	echo "| handover median, pidlock wait | $(ms "$hm") ms | < 1 ms | ${VERDICT[ho_1ms]} |"
	echo "| handover median, pidlock wait vs flock -w | $(ms "$hm") ms | ≤ $(ms "$hf") ms | ${VERDICT[ho_flock]} |"
	echo
	echo "System calls pidlock adds to \`/bin/true\` (active, lock free; \`strace -f\`, against the"
	echo "empty library):"
	echo
	echo "$FENCE"
	printf '%s\n' "$ADDED_CALLS"
	echo "$FENCE"
} >"$REPORT"

cat "$REPORT"
echo
if ((QUICK)); then
	echo "bench: quick mode: report in $REPORT, plot in $PLOT (bench/RESULTS.md and docs/handover.png untouched; ${SECONDS}s)"
else
	cp "$REPORT" bench/RESULTS.md
	mkdir -p docs
	cp "$PLOT" docs/handover.png
	echo "bench: targets: $PASSES PASS, $MISSES MISS; wrote bench/RESULTS.md and docs/handover.png (${SECONDS}s)"
	if ((STRICT && MISSES)); then exit 3; fi
fi
