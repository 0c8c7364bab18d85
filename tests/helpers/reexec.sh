#!/bin/bash
# SPDX-License-Identifier: MIT
# reexec.sh: a bash script that execs itself (bash `exec`), again and again
# (tests/reexec.bats).
# usage: bash reexec.sh REPORT PIDFILE GOFILE COUNT keep|strip [STEP]
# Each image checks it still has a descriptor on PIDFILE (else writes
# "lost step=I" to REPORT and exits 3); the first waits for GOFILE (at most
# 30 s); then `exec bash "$0" ... STEP+1`, COUNT times (strip: with LD_PRELOAD
# unset). The last image writes "done pid=PID steps=COUNT" and exits 0 on
# SIGTERM (at most 30 s).
report=$1 pidfile=$2 go=$3 count=$4 strategy=$5 step=${6:-0}

write_report() {
	printf '%s\n' "$1" >"$report.tmp" && mv "$report.tmp" "$report"
}

held=0
for f in "/proc/$$/fd"/*; do
	if [ "$f" -ef "$pidfile" ]; then
		held=1
		break
	fi
done
if [ "$held" != 1 ]; then
	write_report "lost step=$step"
	exit 3
fi
if [ "$step" = 0 ]; then
	i=0
	while [ ! -e "$go" ] && [ "$i" -lt 3000 ]; do
		sleep 0.01
		i=$((i + 1))
	done
fi
if [ "$step" -lt "$count" ]; then
	# A short pause per step, so that the observer gets its samples even
	# when the machine is busy: 100 steps then last at least a second.
	sleep 0.01
	if [ "$strategy" = strip ]; then
		unset LD_PRELOAD
	fi
	exec /bin/bash "$0" "$report" "$pidfile" "$go" "$count" "$strategy" $((step + 1))
fi
sleep 30 &
child=$!
trap 'kill "$child"; exit 0' TERM
write_report "done pid=$$ steps=$step"
wait "$child"
exit 4
