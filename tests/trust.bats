#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# Trust boundaries (docs/SECURITY.md): paths nobody can redirect, files of pseudo
# file systems, programs that are not regular files, the holder's argv on
# the starter's terminal, passwords in argv. Each test names the guarantee
# it attacks (DESIGN.md: 9 safe files, 18 secrets stay secret); the table
# of docs/SECURITY.md names each test. The attacker is the hostile
# user of tests/hostile.bash, made for the run; every racer it starts is
# tracked and stops by itself. Each test failed on the code before its fix.
# The cluster cases (items 2, 3, 5) are in tests/cluster.bats and
# tests/cluster-mysql.bats, beside their servers.

# shellcheck disable=SC2154 # $status, $err and $notes are set by test_helper.bash
# shellcheck disable=SC2030,SC2031 # some tests point $PF elsewhere

load test_helper
load hostile

bats_require_minimum_version 1.5.0

setup() {
	common_setup
	# shellcheck disable=SC2034 # read by hostile.bash's stop_race
	RACER=""
	CGROUP=""
}

teardown() {
	stop_race
	[ -z "$CGROUP" ] || rmdir "$CGROUP" 2>/dev/null || true
	common_teardown
}

# A root-owned regular file PATH holding "4242\n", mode 0644, an old mtime:
# a PID file of somebody else's, that no start may write or remove. Saved
# under KEY for assert_untouched.
victim_file() {
	mkdir -p "${1%/*}"
	printf '4242\n' >"$1"
	chmod 0644 "$1"
	touch -d '2001-02-03 04:05:06' "$1"
	cp -p "$1" "$T/saved.$2"
	file_stamp "$1" >"$T/stamp.$2"
}

assert_untouched() {
	[ -f "$1" ] || fail "$1 was removed"
	cmp -s "$1" "$T/saved.$2" || fail "$1 was rewritten: [$(head -c 200 "$1")]"
	[ "$(file_stamp "$1")" = "$(cat "$T/stamp.$2")" ] ||
		fail "$1 changed: $(file_stamp "$1"), was $(cat "$T/stamp.$2")"
}

# starts N: N starts of `plprog note $T/ran exit 0` under the shim with
# PIDLOCK_FILE=$PF, one after another, at most 60 s in all; each status on
# a line of $T/statuses, stderr appended to $T/errs.
starts() {
	local n=$1 i st
	mkdir -p "$T/ran"
	: >"$T/statuses"
	for ((i = 0; i < n && SECONDS < 60; i++)); do
		st=0
		env PIDLOCK_FILE="$PF" LD_PRELOAD="$SHIM" "$PLPROG" note "$T/ran" exit 0 \
			</dev/null >/dev/null 2>>"$T/errs" 3>&- || st=$?
		echo "$st" >>"$T/statuses"
	done
	echo "# $i starts: $(sort "$T/statuses" | uniq -c | tr -s ' \n' ' ')" >&3
	[ "$i" -ge 50 ] || fail "only $i starts in 60 s"
}

# ---- item 1: paths nobody can redirect (guarantee 9) ----

@test "trust 1: a sticky directory owned by another user is refused (73), also while that user swaps root's subdirectory for a link (500 starts)" {
	# Guarantee 9, the sticky drop box: a drop box (mode 1777) of a service
	# account, a root-owned subdirectory in it, and the account exchanging
	# that subdirectory with a link to another root folder in a loop.
	hostile_user
	victim_file "$T/victim/test.pid" victim
	mkdir "$T/drop"
	chown "$HOSTILE_UID:$HOSTILE_GID" "$T/drop"
	chmod 1777 "$T/drop"
	mkdir -m 0755 "$T/drop/sub"
	as_hostile ln -s "$T/victim" "$T/drop/sub.lnk"
	PF="$T/drop/sub/test.pid"
	pl_shim -t 30 "$PLPROG" note "$T" exit 0
	assert_status 73
	assert_one_pidlock_line "$T/drop: a sticky directory owned by another user" "(PID file $PF)"
	assert_notes "$T" 0
	hostile_race 60 "$T/drop/sub" "$T/drop/sub.lnk"
	SECONDS=0
	starts 500
	stop_race
	[ "$(grep -cvx 73 "$T/statuses")" -eq 0 ] ||
		fail "starts not refused: $(sort "$T/statuses" | uniq -c); $(sort -u "$T/errs" | head -5)"
	assert_notes "$T/ran" 0
	assert_untouched "$T/victim/test.pid" victim
}

@test "trust 1: a rename during the walk never makes it follow a link: 300 starts while a directory of the path and a link to another tree swap places" {
	# Guarantee 9 (descriptors, not repeated lookups). The rule leaves no other
	# user a directory to rename on a path it accepts, so the racer here is
	# the caller (root), whom the rule trusts: even a rename by someone
	# allowed to make it cannot steer the walk, the open or the removal at
	# exit to another file (guarantee 9: descriptors, not repeated lookups).
	victim_file "$T/other/sub/test.pid" victim
	mkdir -p "$T/box/mid/sub"
	ln -s "$T/other" "$T/box/mid.lnk"
	PF="$T/box/mid/sub/test.pid"
	race_as root 60 "$T/box/mid" "$T/box/mid.lnk"
	SECONDS=0
	starts 300
	stop_race
	# Each start ran in the real directory (0) or met the link (73); it
	# never wrote or removed the file at the end of the link.
	[ "$(grep -cvxE '0|73' "$T/statuses")" -eq 0 ] || fail "statuses: $(sort "$T/statuses" | uniq -c); $(sort -u "$T/errs" | head -5)"
	count_notes "$T/ran"
	[ "$notes" -eq "$(grep -cx 0 "$T/statuses")" ] || fail "$notes ran, $(grep -cx 0 "$T/statuses") started"
	assert_untouched "$T/other/sub/test.pid" victim
	! grep -v 'symbolic link' "$T/errs" | grep -q . || fail "other refusals: $(sort -u "$T/errs" | head -5)"
}

@test "trust 1: the same while the last directory and a link swap places: the file beyond the link is never written or removed" {
	# Guarantee 9: the last directory, whose name the open and the
	# removal at exit resolve, swapped for a link (racer: the caller).
	victim_file "$T/other/test.pid" victim
	mkdir -p "$T/box/sub"
	ln -s "$T/other" "$T/box/sub.lnk"
	PF="$T/box/sub/test.pid"
	race_as root 60 "$T/box/sub" "$T/box/sub.lnk"
	SECONDS=0
	starts 300
	stop_race
	[ "$(grep -cvxE '0|73' "$T/statuses")" -eq 0 ] || fail "statuses: $(sort "$T/statuses" | uniq -c); $(sort -u "$T/errs" | head -5)"
	assert_untouched "$T/other/test.pid" victim
}

@test "trust 1: pidlock stop does not act through a path another user can redirect: 1 naming the directory, the holder it leads to keeps running" {
	# Guarantee 9 (stop uses the same walk): the hostile user points a
	# link of its own directory at root's running instance; root's stop
	# through it must neither signal that instance nor remove its file.
	hostile_user
	mkdir -m 0755 "$T/run" "$T/home"
	chown "$HOSTILE_UID:$HOSTILE_GID" "$T/home"
	PF="$T/run/app.pid"
	start_holder sleep 60
	as_hostile ln -s "$T/run" "$T/home/state"
	pl_run "$PIDLOCK" stop --timeout 1 "$T/home/state/app.pid"
	assert_status 1
	assert_one_pidlock_line "$T/home: a directory of the path is writable by another user"
	sleep 0.5
	proc_alive "$H" || fail "root's instance was stopped through the other user's link"
	await_pidfile "$PF" "$H"
	# A look through it is no action: status goes where the path leads.
	pl_run "$PIDLOCK" status "$T/home/state/app.pid"
	assert_status 0
	# And through a path nobody else can change, stop works as before.
	pl_run "$PIDLOCK" stop "$PF"
	assert_status 0
	[ ! -e "$PF" ] || fail "stop left $PF"
}

# ---- item 4: files of pseudo file systems (guarantee 9) ----

@test "trust 4: PIDLOCK_FILE=/proc/sys/kernel/hostname is refused (73) in a private UTS namespace: the hostname stays" {
	# Guarantee 9 (pseudo file systems): size 0, regular, root's: it used to pass for an
	# empty PID file, and the PID became the hostname.
	unshare -u true 2>/dev/null || skip "needs unshare -u (a private UTS namespace)"
	mkdir -p "$T/ran"
	# shellcheck disable=SC2016 # expanded by the inner bash
	pl_run unshare -u bash -c 'hostname pl-trust-test || exit 90
		env PIDLOCK_FILE=/proc/sys/kernel/hostname LD_PRELOAD="$1" "$2" note "$3" exit 0
		echo "rc=$?"; hostname' _ "$SHIM" "$PLPROG" "$T/ran"
	echo "$(cat "$T/out") / $(cat "$T/err")"
	assert_status 0
	[ "$(cat "$T/out")" = "rc=73"$'\n'"pl-trust-test" ] || fail "out: $(cat "$T/out")"
	assert_one_pidlock_line "/proc/sys/kernel/hostname" "pseudo file system"
	assert_notes "$T/ran" 0
	# status and stop say so too, without opening it.
	pl_run "$PIDLOCK" status /proc/sys/kernel/hostname
	assert_status 4
	grep -q "pseudo file system" "$T/out" || fail "status: $(cat "$T/out")"
	pl_run "$PIDLOCK" stop /proc/sys/kernel/hostname
	assert_status 1
	assert_one_pidlock_line "pseudo file system"
}

@test "trust 4: a cgroup's cgroup.procs is refused (73): the process is not moved into the cgroup" {
	# Guarantee 9 (pseudo file systems): writing the PID there would move the process.
	local root=""
	for d in /sys/fs/cgroup/unified /sys/fs/cgroup /sys/fs/cgroup/pids; do
		if [ -f "$d/cgroup.procs" ] && mkdir "$d/pidlock-trust-$$" 2>/dev/null; then
			root=$d
			break
		fi
	done
	[ -n "$root" ] || skip "no writable cgroup hierarchy here (read-only /sys/fs/cgroup)"
	CGROUP="$root/pidlock-trust-$$"
	PF="$CGROUP/cgroup.procs"
	[ -f "$PF" ] || fail "no $PF"
	pl_shim -t 30 "$PLPROG" note "$T" exit 0
	assert_status 73
	assert_one_pidlock_line "$PF" "pseudo file system"
	assert_notes "$T" 0
	[ -z "$(cat "$PF")" ] || fail "a process was moved into $CGROUP: $(cat "$PF")"
}

@test "trust 4: an empty regular file on tmpfs is still accepted: the file system decides, not the size" {
	# Guarantee 9 (pseudo file systems): no false refusal of a real PID file that is empty
	# (as it is for an instant while its holder writes it).
	[ "$(stat -f -c %T /dev/shm 2>/dev/null)" = tmpfs ] || skip "/dev/shm is not a tmpfs here"
	PF="/dev/shm/pidlock-trust-$$.pid"
	: >"$PF"
	chmod 0644 "$PF"
	pl_shim -t 30 "$PLPROG" writepid "$T/self" exit 0
	local st=$status
	rm -f "$PF"
	status=$st
	assert_status 0
	assert_no_stderr
}

# ---- item 8: COMMAND or its interpreter is a FIFO ----

@test "trust 8: a FIFO as COMMAND: check and run answer 126 at once, never open it, take no lock" {
	# A FIFO as COMMAND: exec refuses a FIFO at once (EACCES); reading its
	# ELF header used to block in open() forever.
	mkfifo -m 0755 "$T/fifo-cmd"
	pl_run timeout 10 "$PIDLOCK" check -- "$T/fifo-cmd"
	[ "$status" -ne 124 ] || fail "pidlock check hung on the FIFO"
	assert_status 126
	grep -q "not a regular file" "$T/out" || fail "check: $(cat "$T/out" "$T/err")"
	pl_run timeout 10 "$PIDLOCK" run -f "$PF" -- "$T/fifo-cmd"
	[ "$status" -ne 124 ] || fail "pidlock run hung on the FIFO"
	assert_status 126
	assert_one_pidlock_line "$T/fifo-cmd" "not a regular file"
	[ ! -e "$PF" ] || fail "run took the lock for a program exec refuses"
	[ -p "$T/fifo-cmd" ] || fail "the FIFO changed"
}

@test "trust 8: a script whose #! interpreter is a FIFO: check answers 126 at once; run gives exec's 126" {
	# A FIFO as interpreter: check reads each #! interpreter's first line.
	mkfifo -m 0755 "$T/fifo-interp"
	printf '#!%s\necho ran\n' "$T/fifo-interp" >"$T/script"
	chmod 0755 "$T/script"
	pl_run timeout 10 "$PIDLOCK" check -- "$T/script"
	[ "$status" -ne 124 ] || fail "pidlock check hung on the FIFO"
	assert_status 126
	grep -q "$T/fifo-interp.*not a regular file" "$T/out" || fail "check: $(cat "$T/out" "$T/err")"
	pl_run timeout 10 "$PIDLOCK" run -f "$PF" -- "$T/script"
	[ "$status" -ne 124 ] || fail "pidlock run hung"
	assert_status 126
	[ ! -e "$PF" ] || fail "the PID file was left"
}

# ---- item 7: the holder's argv on the starter's terminal (guarantee 18) ----

@test "trust 7: the conflict line escapes ESC, BEL and every control byte of the holder's argv, as status does" {
	# docs/SECURITY.md, the holder's command line: a holder (here a program that rewrote nothing: its
	# argv is enough) puts an OSC title sequence and a colour on root's
	# terminal through the "already running" line.
	start_holder "$PYTHON" -c 'import time; time.sleep(30)' $'\e]0;pwned\a' $'\e[31mred' $'tab\there' 'café' $'\xc2\x9b1m' $'\xff'
	local want='\x1b]0;pwned\x07 \x1b[31mred tab\there café \xc2\x9b1m \xff'
	pl_shim -t 30 true
	assert_status 75
	assert_one_pidlock_line "already running as PID $H"
	! LC_ALL=C grep -q $'[\x01-\x08\x0b-\x1f\x7f]' "$T/err" || fail "a control byte reached the terminal: $(cat -A "$T/err")"
	grep -qF -- "$want" "$T/err" || fail "not escaped as expected [$want]: $(cat -A "$T/err")"
	# pidlock run's own line, and status: the same escaping.
	pl_run "$PIDLOCK" run -f "$PF" -- true
	assert_status 75
	grep -qF -- "$want" "$T/err" || fail "run: $(cat -A "$T/err")"
	pl_run "$PIDLOCK" status "$PF"
	assert_status 0
	grep -qF -- "$want" "$T/out" || fail "status: $(cat -A "$T/out")"
}

# ---- item 5: secrets in URIs are never printed (guarantee 18) ----

# URIs whose secret, Xq7 and Zt9 on either side of a character that cuts
# the URI, must appear nowhere; on a loopback port where no server answers.
secret_uris() {
	local port=$1
	printf '%s\n' \
		"postgresql://u@127.0.0.1:$port/db?sslpassword=Xq7Zt9&connect_timeout=3#t" \
		"postgresql://u@127.0.0.1:$port/db?connect_timeout=3&oauth_client_secret=Xq7Zt9#t" \
		"postgresql://u:Xq7/Zt9@127.0.0.1:$port/db?connect_timeout=3#t" \
		"postgresql://u:Xq7@Zt9@127.0.0.1:$port/db?connect_timeout=3#t" \
		"mysql://u:Xq7/Zt9@127.0.0.1:$port/?connect-timeout=3#t" \
		"mysql://u:Xq7?Zt9@127.0.0.1:$port/#t" \
		"mysql://u:Xq7#Zt9@127.0.0.1:$port/#t" \
		"mysql://u:Xq7@Zt9@127.0.0.1:$port/?connect-timeout=3#t" \
		"mariadb://u@127.0.0.1:$port/?connect-timeout=3&password=Xq7Zt9#t"
}

refute_secret() {
	! grep -q -e Xq7 -e Zt9 "$@" || fail "a secret is shown: $(cat "$@")"
}

@test "trust 5: a URI's secrets are never printed: sslpassword, a client secret, a password cut by an unencoded '/', '?', '#' or '@'" {
	# Guarantee 18 (URIs): messages, status and the on-error warning show the
	# URI rebuilt from its parsed parts, never its raw text.
	local uri
	while IFS= read -r uri; do
		PIDLOCK_FILE="$uri" pl_shim -t 30 true
		[ "$status" -eq 73 ] || [ "$status" -eq 78 ] || fail "$uri: status $status: $(cat "$T/err")"
		all_pidlock_lines || fail "$uri: stderr [$err]"
		refute_secret "$T/err"
		PIDLOCK_FILE="$uri" pl_shim -t 30 PIDLOCK_ON_ERROR=run true
		assert_status 0
		refute_secret "$T/err"
		local f
		for f in status "status --json" "stop --timeout 1"; do
			# shellcheck disable=SC2086 # the subcommand and its options
			pl_run timeout 30 "$PIDLOCK" $f "$uri"
			[ "$status" -ne 0 ] || fail "$uri: $f: status 0 without a server"
			refute_secret "$T/out" "$T/err"
		done
	done < <(secret_uris $((40000 + RANDOM % 20000)))
	# A password cut short is refused (78) with a hint, not guessed at.
	PIDLOCK_FILE="mysql://u:Xq7/Zt9@127.0.0.1:1/#t" pl_shim true
	assert_status 78
	assert_one_pidlock_line "mysql://...: the text after ':' is no port" "%2F"
}

# ---- item 6: passwords in pidlock's own argv (guarantee 18) ----

@test "trust 6: run, status and stop blank a URI's password in their own argv before connecting" {
	# Guarantee 18 (ps): /proc/PID/cmdline is every local user's to read
	# for the whole connection. A silent server (it accepts, never
	# speaks) keeps the command connecting long enough to look.
	"$PYTHON" -c 'import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(16)
print(s.getsockname()[1], flush=True); time.sleep(60)' >"$T/port" 2>&1 </dev/null 3>&- &
	track_pid $!
	wait_until "[ -s '$T/port' ]" 10 || fail "no listener"
	local port uri sub p
	port=$(cat "$T/port")
	for uri in "mysql://u:Xq7Zt9@127.0.0.1:$port/?connect-timeout=30#t" \
		"postgresql://u:Xq7Zt9@127.0.0.1:$port/db?connect_timeout=30&sslpassword=Xq8Zt8#t"; do
		for sub in run status stop; do
			if [ "$sub" = run ]; then
				"$PIDLOCK" run -f "$uri" -- true </dev/null >/dev/null 2>&1 3>&- &
			else
				"$PIDLOCK" "$sub" "$uri" </dev/null >/dev/null 2>&1 3>&- &
			fi
			p=$!
			track_pid "$p"
			# Connecting: the plugin is loaded once the argv is blanked.
			wait_until "grep -q pidlock- /proc/$p/maps 2>/dev/null && grep -qa xxxxxx /proc/$p/cmdline" 10 ||
				fail "$sub: no blanked argv: $(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null)"
			# What another user sees.
			setpriv --reuid=65534 --regid=65534 --clear-groups cat "/proc/$p/cmdline" >"$T/cmdline" ||
				fail "cannot read the command line as nobody"
			grep -qa "127.0.0.1:$port" "$T/cmdline" || fail "$sub: not the connecting command: $(tr '\0' ' ' <"$T/cmdline")"
			! grep -qa -e Xq7 -e Zt9 -e Xq8 -e Zt8 "$T/cmdline" || fail "$sub: the password is in argv: $(tr '\0' ' ' <"$T/cmdline")"
			kill -KILL "$p"
			wait "$p" 2>/dev/null || true
		done
	done
}
