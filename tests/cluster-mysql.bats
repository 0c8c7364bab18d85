#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# Cluster mode on MySQL and MariaDB (docs/cluster.md): PIDLOCK_FILE=mysql://...#NAME (or mariadb://)
# takes GET_LOCK(NAME) in a session whose socket the shim keeps like a PID
# file's descriptor, fenced as the PostgreSQL backend is: when the session
# ends, the holder is terminated before the server lets anyone else take
# the lock. The cases every backend must pass are in tests/cluster_lib.bash
# (also run against PostgreSQL by tests/cluster.bats); this file gives them
# their MariaDB hooks and has the MySQL-only checks (the holder's session in
# PROCESSLIST, KILL without the privilege, long names, the password keys).
# setup_file starts a throw-away MariaDB server (scripts/mysql-server.sh) on
# a private socket and a loopback port; teardown_file stops it. Each test
# uses its own lock name, so tests do not see each other's locks.
# shellcheck disable=SC2030,SC2031 # bats runs each test in a subshell
# shellcheck disable=SC2034 # the hooks (BE_*, BAD, OBS...) are read by cluster_lib.bash

bats_require_minimum_version 1.5.0
load test_helper
load cluster_lib
load hostile

BE_SERVER="$BATS_TEST_DIRNAME/../scripts/mysql-server.sh"
BE_PLUGIN=mysql
BE_LIB=libmariadb.so.3
BE_LIB_MSG='libmariadb \(libmariadb\.so\.3, Debian package libmariadb3\)'
# The server notices a sleeping session's closed client within 5 s.
BE_FREE_BOUND=15
BE_PART_PORT=3306
# The server's keepalive (10 s, then 4 probes 5 s apart) ends the holder's
# session some 30 s after the cut; the observer's try every 5 s adds to it.
# The partition case cuts as soon as the holder is seen, as for PostgreSQL.
# Until the plugin acknowledged GET_LOCK's result at once (TCP_QUICKACK), a
# cut inside the client's delayed-ACK window (up to some 200 ms) left the
# server retransmitting its reply for tcp_retries2 (about 15 min) instead of
# probing: MariaDB cannot set TCP_USER_TIMEOUT per session as the PostgreSQL
# backend does. Half of the immediate cuts hit that window (2026-12-01).
BE_PART_LIMIT=90
# A lock granted to a waiter whose client has gone is to be let go of
# within about 10 s; left to itself, the server keeps it until its
# retransmissions of the answer give up (about 108 s with these settings).
BE_WAITER_BOUND=30

setup_file() { cluster_setup_file; }
teardown_file() { cluster_teardown_file; }

setup() {
	BASE="mysql://root@127.0.0.1:$CL_PORT/"
	BAD="mysql://root:pw@127.0.0.1:1/?connect-timeout=3#x"
	BAD_SHOWN="mysql://root@127.0.0.1:1/?connect-timeout=3#x"
	BAD_USER="mysql://nosuchuser@127.0.0.1:$CL_PORT/"
	cluster_setup
}
teardown() {
	[ -z "${SHORT_WAIT:-}" ] || sql "SET GLOBAL wait_timeout = 28800" || true
	cluster_teardown
}

# An administrator's query, as root through the server's socket.
sql() { mariadb --no-defaults -S "$CL_DIR/sock" -uroot -N -B -e "$1"; }

be_kill_session() { sql "KILL CONNECTION $1"; }
# Sessions in GET_LOCK, waiting: MariaDB's state for it is 'User lock'.
be_waiting_count() {
	sql "select count(*) from information_schema.processlist
		where state = 'User lock' or info like 'SELECT GET_LOCK%'"
}
# The label in the advertisement's text, which every user with PROCESS
# (and the holder's own user) reads in PROCESSLIST.
be_published() {
	sql "select info from information_schema.processlist where info like 'DO SLEEP(999999999), %''pidlock% $1 %'" |
		sed -n "s/.*, 'pidlock\(:[0-9]*\)\{0,1\} \($1 [^']*\)'\$/pidlock \2/p"
}
be_partition_start() {
	MYSQL_LISTEN=192.0.2.1 MYSQL_TRUST=192.0.2.0/24 ip netns exec "$NETNS_S" sh "$BE_SERVER" start "$1" "$BE_PART_PORT"
	URI="mysql://root@192.0.2.1:$BE_PART_PORT/#part"
	OBS="mysql://root@localhost/?socket=$1/sock#part"
}
be_partition_stop() { ip netns exec "$NETNS_S" sh "$BE_SERVER" stop "$1" "$BE_PART_PORT"; }
be_partition_waiting_count() {
	mariadb --no-defaults -S "$1/sock" -uroot -N -B -e "select count(*) from information_schema.processlist
		where state = 'User lock' or info like 'SELECT GET_LOCK%'"
}

# The name the server sees for a lock name longer than 64 characters: its
# first 40, '~', and FNV-1a 64 of all of it in 16 lowercase hex digits.
server_name() {
	python3 -c 'import sys
n=sys.argv[1].encode()
h=0xcbf29ce484222325
for b in n: h=((h^b)*0x100000001b3)&0xffffffffffffffff
print(sys.argv[1] if len(n)<=64 else n[:40].decode()+"~%016x"%h)' "$1"
}

# ---- the cases of every backend (tests/cluster_lib.bash) ----

@test "a second instance is refused (75) with the holder's PID, host and command line; the password is never shown" {
	cl_case_refused "mysql://weak2:s3cret@127.0.0.1:$CL_PORT/#$NAME" "mysql://weak2@127.0.0.1:$CL_PORT/#$NAME"
	# The lock's session holds GET_LOCK(NAME) and idles; a second session
	# of the same user advertises the holder in the text of its statement.
	session=$(backend_of)
	[ -n "$session" ] || fail "no backend_pid in: $("$PIDLOCK" status --json "$URI")"
	run -0 sql "select IS_USED_LOCK('$NAME')"
	assert_output "$session"
	run -0 sql "select user, command from information_schema.processlist where id = $session"
	assert_output "weak2	Sleep"
	run -0 sql "select user, state, info from information_schema.processlist
		where info like 'DO SLEEP(999999999), ''pidlock $session''%'"
	assert_output --regexp "^weak2	User sleep	DO SLEEP\(999999999\), 'pidlock $session', 'pidlock:[0-9]+ $BG_PID $(hostname) sleep'\$"
	run -0 "$PIDLOCK" status --json "$URI"
	assert_output --partial "\"pid\":$BG_PID,\"host\":\"$(hostname)\",\"command\":\"sleep\",\"backend_pid\":$session,"
	assert_output --regexp '"key":-?[0-9]+,'
	refute_output --partial s3cret
}

@test "pidlock run -f URI: the command holds the lock; status names it; stop ends it; status is then 3" {
	cl_case_run_status_stop
}

@test "kill -9 of the holder frees the lock" {
	cl_case_kill9_frees
}

@test "exec of itself keeps the lock and the session (bash exec); fencing still applies after the exec" {
	cl_case_exec_keeps
}

@test "KILL CONNECTION of the holder's session terminates the holder (SIGIO) and frees the lock" {
	cl_case_session_killed
}

@test "SIGIO ignored by the program: the watcher thread terminates it with SIGKILL" {
	cl_case_sigio_ignored
}

@test "the watcher thread under helgrind: no data race or lock-order report from start to kill" {
	cl_case_helgrind
}

@test "an immediate server restart terminates the holder; the lock is free once the server is back" {
	cl_case_server_restart
}

@test "wait mode: waits for the holder and takes the lock when it ends; with a timeout it gives up (75)" {
	cl_case_wait_mode
}

@test "replace mode: ends the holder's session, which terminates the holder, and takes the lock" {
	cl_case_replace_mode
}

@test "fencing token: PIDLOCK_FENCE (never an inherited one) and status carry it; each acquisition's is greater, across a server restart" {
	cl_case_fence
}

@test "wait mode through a server restart: waiters connect again and each runs in turn; a waiter started while the server is down waits for it; an unknown user is refused at once (73)" {
	cl_case_wait_restart
}

@test "configuration: a URI without #NAME is refused (78)" {
	cl_case_no_name
}

@test "configuration: an unreachable server refuses (73) with one line, the password not shown; status is unknown (4)" {
	cl_case_unreachable
}

@test "configuration: an unreachable server with PIDLOCK_ON_ERROR=run: one warning, then the program runs unguarded" {
	cl_case_unreachable_run
}

@test "libmariadb missing: one clear line and exit 71 (root: hidden in a private mount namespace)" {
	cl_case_library_missing
}

@test "network partition (two network namespaces): the holder is terminated before an observer can take the lock" {
	cl_case_partition
}

@test "replace of a holder behind a partition, run beside the server: the old holder is gone before the new one enters main (2 rounds)" {
	cl_case_replace_partitioned
}

@test "pidlock stop, beside the server, of a holder behind a partition: exit 0 only once that holder is gone (2 rounds)" {
	cl_case_stop_partitioned
}

@test "a queued waiter cut off by a partition lets go of the lock it is granted: the next instance runs within 30 s of the holder's exit" {
	cl_case_waiter_partitioned
}

@test "the holder of a cluster lock has the MySQL plugin mapped, beside the core library (tests/seam.bats: not in local mode)" {
	cl_case_plugin_mapped
}

@test "the label is PID, host and program name: no argument reaches PROCESSLIST unless asked (PIDLOCK_LABEL, --label)" {
	cl_case_label
}

# ---- MySQL only ----

# A client plugin whose constructor leaves $T/marker: code of the hostile
# user's, which nothing may load. Built into $1/evil.so.
evil_plugin() {
	printf '#include <stdio.h>\n__attribute__((constructor)) static void evil(void)\n{ FILE *f = fopen("%s", "w"); if (f) fclose(f); }\n' \
		"$T/marker" >"$T/evil.c"
	cc -shared -fPIC -o "$1/evil.so" "$T/evil.c" || fail "cannot build the plugin"
}

@test "option files another user could write are not read: their plugin-dir and default-auth load nothing (HOME, MYSQL_HOME)" {
	# Guarantee 18 (option files): a root program whose HOME or MYSQL_HOME is a folder
	# another user owns used to read that user's option file, and load the
	# client plugin it names when the server greeted it, before main.
	hostile_user
	local home="$T/home" var
	mkdir -p "$home/plugins"
	evil_plugin "$home/plugins"
	printf '[client]\nplugin-dir=%s\ndefault-auth=evil\n' "$home/plugins" >"$home/.my.cnf"
	cp "$home/.my.cnf" "$home/my.cnf"
	chown -R "$HOSTILE_UID:$HOSTILE_GID" "$home"
	for var in HOME MYSQL_HOME; do
		rm -f "$T/marker"
		PIDLOCK_FILE="$URI" pl_shim "$var=$home" PIDLOCK_VERBOSE=1 true
		assert_status 0
		[ ! -e "$T/marker" ] || fail "$var: the other user's plugin ran in the program"
		grep -q "ignoring an option file that someone else could have written: $home" "$T/err" ||
			fail "$var: no line about the file: $(cat "$T/err")"
		pl_run env "$var=$home" "$PIDLOCK" status "$URI"
		assert_status 3
		[ ! -e "$T/marker" ] || fail "$var: the other user's plugin ran in pidlock status"
	done
	# The same files, root's own: read, but plugin-dir and default-auth are
	# never applied (the caller did not install a plugin by writing them).
	chown -R 0:0 "$home"
	PIDLOCK_FILE="$URI" pl_shim HOME="$home" PIDLOCK_VERBOSE=1 true
	assert_status 0
	[ ! -e "$T/marker" ] || fail "a plugin named by an option file was loaded"
	grep -q "not applying plugin-dir in $home/.my.cnf" "$T/err" || fail "stderr: $(cat "$T/err")"
}

@test "an option file of the caller's gives the user and password (the URI need not hold them), through !include" {
	# Guarantee 18 (option files): what an option file is for still works, under the rule.
	local home="$T/home"
	mkdir -p "$home/conf.d"
	printf '[client]\nuser = weak2\n!includedir %s\n' "$home/conf.d" >"$home/.my.cnf"
	printf '[pidlock]\npassword = "s3cret"\n' >"$home/conf.d/50-pidlock.cnf"
	chmod 0600 "$home/.my.cnf" "$home/conf.d/50-pidlock.cnf"
	URI="mysql://127.0.0.1:$CL_PORT/#$NAME"
	HOME="$home" hold sleep 60
	run -0 sql "select user from information_schema.processlist where id = $(backend_of)"
	assert_output weak2
	# Writable by its group: no longer trusted, so no password: refused.
	chmod 0620 "$home/conf.d/50-pidlock.cnf"
	PIDLOCK_FILE="mysql://127.0.0.1:$CL_PORT/#$NAME.2" pl_shim HOME="$home" true
	assert_status 73
	grep -q "Access denied" "$T/err" || fail "stderr: $(cat "$T/err")"
}

@test "mariadb:// and the socket form (?socket=PATH) name the same lock as mysql:// over TCP" {
	hold sleep 60
	for other in "mariadb://root@127.0.0.1:$CL_PORT/#$NAME" "mysql://root@localhost/?socket=$CL_DIR/sock#$NAME" \
		"mariadb://root@localhost/?socket=$CL_DIR/sock#$NAME"; do
		PIDLOCK_FILE="$other" pl_shim true
		assert_status 75
		assert_err "pidlock: $other: already running as PID $BG_PID on $(hostname) (sleep)"
		run -0 "$PIDLOCK" status --json "$other"
		assert_output --partial "\"pid\":$BG_PID,"
	done
}

@test "a password as ?password= or ?pass%77ord= is used and never shown, nor by status" {
	# weak2 holds, so weak2 (no PROCESS privilege) may see who holds.
	URI="mysql://weak2:s3cret@127.0.0.1:$CL_PORT/#$NAME"
	hold sleep 60
	# weak2's password in the query: the connection works (refused as the
	# second instance, not for the password), and the line does not show it.
	local uri="mysql://weak2@127.0.0.1:$CL_PORT/?password=s3cret#$NAME"
	PIDLOCK_FILE="$uri" pl_shim true
	assert_status 75
	assert_err "pidlock: mysql://weak2@127.0.0.1:$CL_PORT/#$NAME: already running as PID $BG_PID on $(hostname) (sleep)"
	pl_run "$PIDLOCK" status "$uri"
	assert_status 0
	grep -q "running as PID $BG_PID" "$T/out" || fail "status: $(cat "$T/out")"
	! grep -q s3cret "$T/out" "$T/err" || fail "the password is shown: $(cat "$T/out" "$T/err")"
	# A percent-encoded key, on a server that does not answer: not shown
	# in the 73 line, the warning of PIDLOCK_ON_ERROR=run, or status.
	local bad="mysql://weak2@127.0.0.1:1/?connect-timeout=3&pass%77ord=s3cret#$NAME"
	PIDLOCK_FILE="$bad" pl_shim true
	assert_status 73
	assert_one_pidlock_line "cannot connect"
	! grep -q s3cret "$T/err" || fail "the password is shown: $(cat "$T/err")"
	PIDLOCK_FILE="$bad" pl_shim PIDLOCK_ON_ERROR=run true
	assert_status 0
	! grep -q s3cret "$T/err" || fail "the password is shown: $(cat "$T/err")"
	pl_run "$PIDLOCK" status "$bad"
	assert_status 4
	! grep -q s3cret "$T/out" "$T/err" || fail "status shows the password: $(cat "$T/out" "$T/err")"
	pl_run "$PIDLOCK" status --json "$bad"
	assert_status 4
	! grep -q s3cret "$T/out" "$T/err" || fail "status --json shows the password: $(cat "$T/out" "$T/err")"
}

@test "a password in PIDLOCK_FILE is overwritten in the holder's own environment once it holds the lock" {
	# Guarantee 18 (ps): /proc/PID/environ shows the environment as the
	# process started; the library blanks the URI's secrets in it once
	# the connection is made (the lock's session and the advertisement).
	URI="mysql://weak2:s3cret@127.0.0.1:$CL_PORT/?pass%77ord=s3cret#$NAME"
	hold sleep 60
	run -0 tr '\0' '\n' <"/proc/$BG_PID/environ"
	refute_output --partial s3cret
	assert_output --partial "PIDLOCK_FILE=mysql://weak2:xxxxxx@127.0.0.1:$CL_PORT/?pass%77ord=xxxxxx#$NAME"
	# It still holds, and still names itself.
	PIDLOCK_FILE="$URI" pl_shim true
	assert_status 75
}

@test "without PROCESS the holder is an unseen session; without CONNECTION ADMIN stop (1) and replace (75) are refused, saying why" {
	hold sleep 60
	session=$(backend_of)
	# weak has USAGE only: it sees that the lock is used, not by whom, and
	# may not end another user's session (no CONNECTION ADMIN or SUPER).
	local weak="mysql://weak@127.0.0.1:$CL_PORT/#$NAME"
	PIDLOCK_FILE="$weak" pl_shim true
	assert_status 75
	assert_err "pidlock: $weak: already running as a session this user may not see (connection ID $session; the PROCESS privilege shows it)"
	run -1 "$PIDLOCK" stop "$weak"
	[[ $output == *KILL* ]] || fail "the refusal does not name the KILL: $output"
	[[ $output == *privilege* ]] || fail "the refusal does not name the privilege: $output"
	PIDLOCK_FILE="$weak" pl_shim PIDLOCK_MODE=replace true
	assert_status 75
	assert_one_pidlock_line KILL privilege
	sleep 1
	proc_alive "$BG_PID" || fail "the holder was ended"
	run -0 "$PIDLOCK" status --json "$URI"
	assert_output --partial "\"pid\":$BG_PID,"
	assert_output --partial "\"backend_pid\":$session,"
}

@test "the advertisement: killing it costs only the label; another user's fake one is not believed" {
	hold sleep 60
	session=$(backend_of)
	adv=$(sql "select id from information_schema.processlist
		where info like 'DO SLEEP(999999999), ''pidlock $session''%'")
	[ -n "$adv" ] || fail "no advertisement for session $session"
	sql "KILL CONNECTION $adv"
	sleep 1
	proc_alive "$BG_PID" || fail "the holder was ended with its advertisement"
	run -0 "$PIDLOCK" status "$URI"
	assert_output --partial "a session that does not say who it is"
	# weak (no PROCESS, another user) claims the lock's session for PID 4242.
	mariadb --no-defaults -h 127.0.0.1 -P "$CL_PORT" -u weak \
		-e "DO SLEEP(999999999), 'pidlock $session', 'pidlock 4242 evil fake'" >/dev/null 2>&1 3>&- &
	track_pid $!
	# shellcheck disable=SC2016 # evaluated by wait_until
	wait_until '[ "$(sql "select count(*) from information_schema.processlist where info like '"'DO SLEEP%4242 evil%'"'")" = 1 ]' 10 ||
		fail "the fake advertisement never ran"
	run -0 "$PIDLOCK" status "$URI"
	assert_output --partial "a session that does not say who it is"
	refute_output --partial 4242
	PIDLOCK_FILE="$URI" pl_shim true
	assert_status 75
	! grep -q 4242 "$T/err" || fail "the fake is believed: $(cat "$T/err")"
	# The holder's own session still ends it.
	be_kill_session "$session"
	holder_status 5
	assert_equal "$HST" 157
}

@test "lock names: up to 64 characters as written; longer ones as their first 40, '~' and FNV-1a 64 in hex" {
	local n64 long1 long2 s
	n64=$(printf '%s-%s' "$NAME" "$(printf 'a%.0s' $(seq 64))")
	n64=${n64:0:64}
	long1=$(printf '%s-%s1' "$NAME" "$(printf 'b%.0s' $(seq 70))")
	long2=$(printf '%s-%s2' "$NAME" "$(printf 'b%.0s' $(seq 70))") # the same first 64 characters
	assert_equal "${#n64}" 64
	assert_equal "${long1:0:64}" "${long2:0:64}"
	URI="$BASE#$n64"
	hold sleep 60
	run -0 sql "select IS_USED_LOCK('$n64')"
	assert_output "$(backend_of)"
	URI="$BASE#$long1"
	hold sleep 60
	s=$(server_name "$long1")
	[[ $s =~ ^.{40}~[0-9a-f]{16}$ ]] || fail "computed name: $s"
	run -0 sql "select IS_USED_LOCK('$s')"
	assert_output "$(backend_of)"
	run -0 sql "select IS_USED_LOCK('${long1:0:64}')"
	assert_output NULL
	# Another long name with the same first 64 characters is another lock.
	PIDLOCK_FILE="$BASE#$long2" pl_shim true
	assert_status 0
	PIDLOCK_FILE="$URI" pl_shim true
	assert_status 75
}

@test "an idle holder outlives a short wait_timeout: the lock's session raises its own" {
	# New sessions start with the global value, 2 s here; the holder's lock
	# session raises its own. teardown restores the global value.
	SHORT_WAIT=1
	sql "SET GLOBAL wait_timeout = 2"
	hold sleep 60
	session=$(backend_of)
	# Control: a plain session, idle for 4 s, is ended by the server.
	{
		echo "select 'first';"
		sleep 4
		echo "select 'second';"
	} | mariadb --no-defaults --skip-reconnect -h 127.0.0.1 -P "$CL_PORT" -u root -N -B >"$T/control.out" 2>&1 || true
	grep -qx first "$T/control.out" || fail "control: $(cat "$T/control.out")"
	! grep -qx second "$T/control.out" || fail "wait_timeout did not end an idle session: $(cat "$T/control.out")"
	proc_alive "$BG_PID" || fail "the holder ended: $(cat "$T/holder.out")"
	run -0 "$PIDLOCK" status --json "$URI"
	assert_output --partial "\"pid\":$BG_PID,\"host\""
	assert_output --partial "\"backend_pid\":$session,"
	run -0 sql "select command from information_schema.processlist where id = $session"
	assert_output Sleep
}

# ---- the two sessions: the lock's idles, the advertisement runs ----

@test "a server-wide max_statement_time (1 s) does not end the advertisement: status names the holder after 4 s" {
	sql "SET GLOBAL max_statement_time = 1"
	hold sleep 60
	sql "SET GLOBAL max_statement_time = 0"
	sleep 4
	run -0 "$PIDLOCK" status --json "$URI"
	assert_output --partial "\"pid\":$BG_PID,"
}

@test "the holder's end frees the lock at once: ten instances one after another all run" {
	# With the label on the lock's own sleeping session the server would keep
	# the lock up to 5 s after each end, and the next start would be refused.
	for i in 1 2 3 4 5 6 7 8 9 10; do
		PIDLOCK_FILE="$URI" pl_shim true
		[ "$status" -eq 0 ] || fail "start $i: status $status: $(cat "$T/err")"
	done
}

@test "SIGPIPE keeps its action: libmariadb's mysql_init ignores it, the library puts it back" {
	# shellcheck disable=SC2016 # expanded by the inner sh
	PIDLOCK_FILE="$URI" pl_shim env --default-signal=PIPE sh -c 'grep "^SigIgn:" /proc/$$/status'
	assert_status 0
	ign=$(sed -n 's/^SigIgn:[[:space:]]*//p' "$T/out")
	[ -n "$ign" ] || fail "no SigIgn line: $(cat "$T/out" "$T/err")"
	# SIGPIPE is signal 13: bit 12 of the mask.
	[ $((0x$ign >> 12 & 1)) -eq 0 ] || fail "SIGPIPE is ignored in the program (SigIgn $ign)"
}

@test "a lock name with quotes and SQL in it is data: the server's lock has exactly that name" {
	NAME="it's'); DO SLEEP(5); -- $$"
	URI="$BASE#$NAME"
	hold sleep 60
	esc=${NAME//\'/\'\'}
	run -0 sql "select IS_USED_LOCK('$esc') = $(backend_of)"
	assert_output 1
	PIDLOCK_FILE="$URI" pl_shim true
	assert_status 75
}

@test "another session of the same name, not pidlock's: the refusal names its connection, user and client" {
	sql "select GET_LOCK('$NAME', 0), SLEEP(30)" >/dev/null 2>&1 &
	other=$!
	track_pid "$other"
	wait_until "[ \"\$(sql \"select IS_USED_LOCK('$NAME') is not null\")\" = 1 ]" 10 || fail "no lock"
	conn=$(sql "select IS_USED_LOCK('$NAME')")
	PIDLOCK_FILE="$URI" pl_shim true
	assert_status 75
	assert_err "pidlock: $URI: already running as a session that does not say who it is (connection ID $conn, user root, from localhost)"
	# Status says it is held, and that it cannot say by whom, nor why.
	run -0 "$PIDLOCK" status "$URI"
	assert_output --partial "running as a session that does not say who it is (connection ID $conn,"
	assert_output --partial "; who holds it is not known: not a pidlock instance, one still starting, or a waiter granted the lock while cut off from the server"
	run -0 "$PIDLOCK" status --json "$URI"
	assert_output --partial '"pid":null,"host":null,"command":null,'
	assert_output --partial '"fence":null,"identified":false,'
	sql "KILL CONNECTION $conn"
}

@test "URI errors: one line each and exit 78, naming what is wrong" {
	local base="mysql://root@127.0.0.1:$CL_PORT"
	for bad in "$base/?foo=1#x|unknown URI parameter foo (known: socket, connect-timeout, password, ssl-mode, ssl-ca, ssl-capath, ssl-cert, ssl-key)" \
		"mysql://root@127.0.0.1:99999/#x|bad port in the URI: it must be from 1 to 65535" \
		"mysql://root@127.0.0.1:x/#x|bad port in the URI: it must be from 1 to 65535" \
		"mysql://ro%zzt@127.0.0.1/#x|bad user name in the URI" \
		"mysql://root@[::1/#x|bad host in the URI: no ']'" \
		"$base/?connect-timeout=0#x|connect-timeout must be a whole number of seconds from 1 to 3600: 0" \
		"$base/?ssl-mode=maybe#x|ssl-mode must be DISABLED, PREFERRED, REQUIRED, VERIFY_CA or VERIFY_IDENTITY, not maybe" \
		"$base/?socket#x|bad URI parameter: each is KEY=VALUE|$base/#x"; do
		uri=${bad%%|*} why=${bad#*|} shown=$uri
		# A parameter that is no KEY=VALUE is not shown: it may be the
		# end of a password cut by an unencoded '?' (DESIGN.md, guarantee 18).
		if [[ $why == *"|"* ]]; then
			shown=${why#*|} why=${why%%|*}
		fi
		PIDLOCK_FILE="$uri" pl_shim true
		[ "$status" -eq 78 ] || fail "$uri: status $status, not 78: $(cat "$T/err")"
		assert_one_pidlock_line
		[ "$(cat "$T/err")" = "pidlock: $shown: $why" ] || fail "$uri: $(cat "$T/err")"
		pl_run "$PIDLOCK" status "$uri"
		assert_status 4
	done
}

# Races are for stress: 60 contenders in wait mode start together, and a
# third of them (holders or waiters) are killed with -9 at random moments.
# Inside the lock each writes "S pid", sleeps, writes "E pid"; two S lines in
# a row are allowed only when the first one's process was killed.
@test "stress: 60 contenders, kill -9 at 20 random moments: never two inside the lock" {
	local n=60 pids=() killed=" "
	for _ in $(seq "$n"); do
		# shellcheck disable=SC2016 # expanded by the inner sh
		PIDLOCK_FILE="$URI" PIDLOCK_MODE=wait PIDLOCK_TIMEOUT=120 \
			start_shim sh -c 'echo "S $$" >>"$1"; sleep 0.05; echo "E $$" >>"$1"' _ "$T/log" \
			>/dev/null 2>>"$T/errs" &
		pids+=("$!")
		track_pid "$!"
	done
	for _ in $(seq 20); do
		sleep "0.$((RANDOM % 3))$((RANDOM % 10))"
		p=${pids[$((RANDOM % n))]}
		kill -KILL "$p" 2>/dev/null && killed="$killed$p "
	done
	for p in "${pids[@]}"; do
		wait_until "! proc_alive $p" 120 || fail "contender $p still running after 120 s"
	done
	inside="" log=$(cat "$T/log")
	while read -r what pid; do
		if [ "$what" = S ]; then
			[ -z "$inside" ] || [[ $killed == *" $inside "* ]] ||
				fail "$pid entered while $inside was inside and alive: $log"
			inside=$pid
		else
			[ "$pid" = "$inside" ] || fail "E $pid while $inside was inside: $log"
			inside=""
		fi
	done <<<"$log"
	entered=$(grep -c '^S ' "$T/log")
	echo "# $entered of $n contenders entered; $(echo "$killed" | wc -w) killed" >&3
	[ "$entered" -ge $((n - 20)) ] || fail "only $entered entered: $(cat "$T/errs")"
}
