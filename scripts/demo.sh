#!/bin/sh
# SPDX-License-Identifier: MIT
# The main job in a few seconds: a second instance is refused, a waiter takes
# over the moment the first ends, and the raw LD_PRELOAD form does the same.
set -u
here=$(cd "$(dirname "$0")/.." && pwd)
pidlock="$here/build/pidlock"
shim="$here/build/libpidlock.so"
dir=$(mktemp -d)
pf="$dir/bot.pid"
trap 'kill "$first" 2>/dev/null; rm -rf "$dir"' EXIT INT TERM

say() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }

say "pidlock run -f $pf -- sleep 3 &        # the first instance"
"$pidlock" run -f "$pf" -- sleep 3 &
first=$!
sleep 0.3
echo "PID file: $(cat "$pf") (the background job is PID $first: no wrapper stays behind)"

say "pidlock run -f $pf -- sleep 3          # a second instance"
"$pidlock" run -f "$pf" -- sleep 3
echo "exit status $? (75 = already running)"

say "PIDLOCK_FILE=$pf LD_PRELOAD=$shim python3 -c 'print(1)'   # same, without the command"
PIDLOCK_FILE="$pf" LD_PRELOAD="$shim" python3 -c 'print("this line is never printed")'
echo "exit status $?"

say "pidlock status $pf"
"$pidlock" status "$pf"
echo "exit status $? (0 = running)"

say "pidlock run --wait=10 -v -f $pf -- echo 'my turn'   # waits in the kernel, no polling"
"$pidlock" run --wait=10 -v -f "$pf" -- echo "my turn"
echo "exit status $?"

say "pidlock status $pf"
"$pidlock" status "$pf"
echo "exit status $? (3 = not running: the file was removed at the clean exit)"
