#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# Cluster mode (docs/cluster.md): PIDLOCK_FILE=postgresql://...#NAME takes a PostgreSQL
# session-level advisory lock, held by the session whose socket the shim keeps
# like a PID file's descriptor, and fenced: when the session dies, the holder
# is terminated (SIGIO, or the watcher thread's SIGKILL) before the server
# lets anyone else take the lock.
# The cases every backend must pass are in tests/cluster_lib.bash (also run
# against MariaDB by tests/cluster-mysql.bats); this file gives them their
# PostgreSQL hooks and has the PostgreSQL-only checks. setup_file starts a
# throw-away cluster (scripts/pg-cluster.sh) on the unix socket and a
# loopback port; teardown_file stops it. Each test uses its own lock name, so
# tests do not see each other's locks.
# shellcheck disable=SC2030,SC2031 # bats runs each test in a subshell
# shellcheck disable=SC2034 # the hooks (BE_*, BAD, OBS...) are read by cluster_lib.bash

bats_require_minimum_version 1.5.0
load test_helper
load cluster_lib
load hostile
load docs_lib

BE_SERVER="$BATS_TEST_DIRNAME/../scripts/pg-cluster.sh"
BE_PLUGIN=postgresql
BE_LIB=libpq.so.5
BE_LIB_MSG='libpq \(libpq\.so\.5, Debian package libpq5\)'
BE_FREE_BOUND=10
BE_PART_PORT=5432
BE_PART_LIMIT=60
# The server sends the cut-off waiter its lock and gives up on it when that
# answer has gone unacknowledged for its tcp_user_timeout (30 s, asked for
# per session), so about 31 s after the holder's end; 40 s leaves margin.
BE_WAITER_BOUND=40

setup_file() { cluster_setup_file; }
teardown_file() { cluster_teardown_file; }

setup() {
	BASE="postgresql://postgres@127.0.0.1:$CL_PORT/postgres"
	BAD="postgresql://postgres:pw@127.0.0.1:1/postgres?connect_timeout=3#x"
	BAD_SHOWN="postgresql://postgres@127.0.0.1:1/postgres?connect_timeout=3#x"
	BAD_USER="postgresql://nosuchrole@127.0.0.1:$CL_PORT/postgres"
	cluster_setup
}
teardown() { cluster_teardown; }

sql() { psql -X -At "$BASE" -c "$1"; }

be_kill_session() { sql "select pg_terminate_backend($1)" >/dev/null; }
be_waiting_count() { sql "select count(*) from pg_locks where locktype = 'advisory' and not granted"; }
# application_name, which every role reads in pg_stat_activity.
# The label without its fencing token (cl_case_fence checks the token).
be_published() {
	sql "select application_name from pg_stat_activity where application_name ~ '^pidlock(:[0-9]+)? $1 '" |
		sed -E 's/^pidlock:[0-9]+ /pidlock /'
}
be_partition_start() {
	PG_LISTEN=192.0.2.1 PG_TRUST=192.0.2.0/24 ip netns exec "$NETNS_S" sh "$BE_SERVER" start "$1" "$BE_PART_PORT"
	URI="postgresql://postgres@192.0.2.1:$BE_PART_PORT/postgres#part"
	OBS="postgresql:///postgres?host=$1&port=$BE_PART_PORT&user=postgres#part"
}
be_partition_stop() { ip netns exec "$NETNS_S" sh "$BE_SERVER" stop "$1" "$BE_PART_PORT"; }
be_partition_waiting_count() {
	psql -X -At "postgresql:///postgres?host=$1&port=$BE_PART_PORT&user=postgres" \
		-c "select count(*) from pg_locks where locktype = 'advisory' and not granted"
}

@test "a second instance is refused (75) with the holder's PID, host and command line; the password is never shown" {
	cl_case_refused "postgresql://postgres:s3cret@127.0.0.1:$CL_PORT/postgres#$NAME" \
		"postgresql://postgres@127.0.0.1:$CL_PORT/postgres#$NAME"
	# pg_locks shows the documented key: FNV-1a 64 of the name, classid/objid halves.
	key=$("$PIDLOCK" status --json "$URI" | sed -n 's/.*"key":\(-\{0,1\}[0-9]*\).*/\1/p')
	expected=$(python3 -c 'import sys
h=0xcbf29ce484222325
for b in sys.argv[1].encode(): h=((h^b)*0x100000001b3)&0xffffffffffffffff
print(h-(1<<64) if h>=1<<63 else h)' "$NAME")
	assert_equal "$key" "$expected"
	run sql "select count(*) from pg_locks where locktype='advisory' and objsubid=1 and granted
		and ((classid::bigint<<32)|objid::bigint) = ($key::bigint & x'ffffffffffffffff'::bigint)"
	assert_output 1
	run sql "select application_name from pg_stat_activity where pid = $(backend_of)"
	assert_output --regexp "^pidlock:[0-9]+ $BG_PID $(hostname) sleep\$"
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

@test "pg_terminate_backend of the holder's session terminates the holder (SIGIO) and frees the lock" {
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

@test "fencing token, docs/cluster.md's example: the work of a holder frozen while its session ended and a new holder wrote is refused when it thaws" {
	doc_block docs/cluster.md fence-table >"$T/table.sql"
	doc_block docs/cluster.md fence-write >"$T/write.sh"
	sql "$(cat "$T/table.sql")" >/dev/null
	export DB="$BASE"
	# The old holder's work: a child that freezes at once and writes when
	# thawed. Fencing ends the instance (its SIGIO), not such a child: it
	# stands for a frozen host, which nothing can end.
	# shellcheck disable=SC2016 # expanded by the inner bash
	hold bash -c 'echo "$PIDLOCK_FENCE" >"$1/a.fence"
		(kill -STOP "$BASHPID"; REPORT="from A" sh "$1/write.sh" >"$1/a.out" 2>&1; echo $? >"$1/a.st") &
		echo $! >"$1/a.child"; exec sleep 60' _ "$T"
	wait_until "[ -s \"\$T/a.child\" ]" 10 || fail "no child"
	child=$(cat "$T/a.child")
	track_pid "$child"
	wait_until "[ \"\$(awk '{ print \$3 }' /proc/$child/stat)\" = T ]" 10 || fail "the child did not freeze"
	# The server lets the old holder go (as after its keepalive gave up).
	be_kill_session "$(backend_of)"
	holder_status 10
	# shellcheck disable=SC2016 # expanded by the inner sh
	PIDLOCK_FILE="$URI" pl_shim env REPORT="from B" sh -c 'echo "$PIDLOCK_FENCE" >"$1"; exec sh "$2"' _ \
		"$T/b.fence" "$T/write.sh"
	assert_status 0
	run -0 sql "select body from report where id = 1"
	assert_output "from B"
	token_lt "$(cat "$T/a.fence")" "$(cat "$T/b.fence")" || fail "tokens: A $(cat "$T/a.fence"), B $(cat "$T/b.fence")"
	kill -CONT "$child"
	wait_until "[ -s \"\$T/a.st\" ]" 10 || fail "the thawed work never finished"
	assert_equal "$(cat "$T/a.st")" 1
	run cat "$T/a.out"
	assert_output "refused: a newer holder has written"
	run -0 sql "select body, fence from report where id = 1"
	assert_output "from B|$(cat "$T/b.fence")"
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

@test "libpq missing: one clear line and exit 71 (root: hidden in a private mount namespace)" {
	cl_case_library_missing
}

@test "network partition (two network namespaces): the holder is terminated before an observer can take the lock" {
	cl_case_partition
}

@test "replace from next to the server of a holder cut off by a partition: the holder has stopped before the new instance runs (2 rounds)" {
	cl_case_replace_partitioned
}

@test "pidlock stop from next to the server of a holder cut off by a partition returns only once the holder has stopped (2 rounds)" {
	cl_case_stop_partitioned
}

@test "a waiter cut off by a partition once queued does not keep the lock: another instance has it within 40 s of the holder's end" {
	cl_case_waiter_partitioned
}

@test "the holder of a cluster lock has the PostgreSQL plugin mapped, beside the core library (tests/seam.bats: not in local mode)" {
	cl_case_plugin_mapped
}

@test "the label is PID, host and program name: no argument reaches pg_stat_activity unless asked (PIDLOCK_LABEL, --label)" {
	cl_case_label
}

@test "status reads an older holder's label, which carried the whole command line" {
	# Guarantee 18 (the label): holders started by an earlier version published
	# "pidlock PID HOST COMMAND-LINE"; status and a refusal still name them.
	local key
	key=$("$PIDLOCK" status --json "$URI" | sed -n 's/.*"key":\(-\{0,1\}[0-9]*\).*/\1/p')
	[ -n "$key" ] || fail "no key"
	psql -X -At "$BASE" -c "set application_name = 'pidlock 4242 oldhost python3 bot.py --old'" \
		-c "select pg_advisory_lock($key)" -c "select pg_sleep(60)" >/dev/null 2>&1 3>&- &
	track_pid $!
	wait_until "\"\$PIDLOCK\" status -q \"\$URI\"" 10 || fail "the old holder never took the lock"
	run -0 "$PIDLOCK" status "$URI"
	assert_output --partial "running as PID 4242 on oldhost (python3 bot.py --old),"
	PIDLOCK_FILE="$URI" pl_shim true
	assert_status 75
	assert_err "pidlock: $URI: already running as PID 4242 on oldhost (python3 bot.py --old)"
}

@test "what the server answers is escaped: an ESC in the database's name does not reach the terminal in its error" {
	# docs/SECURITY.md, the server's answers: its message quotes what it was sent, and
	# any session's text; control bytes are shown as \xNN, as everywhere.
	PIDLOCK_FILE="postgresql://postgres@127.0.0.1:$CL_PORT/no%1b%5b31mdb#$NAME" pl_shim true
	assert_status 73
	assert_one_pidlock_line 'cannot connect' 'no\x1b[31mdb'
	! grep -q $'\e' "$T/err" || fail "an ESC reached stderr: $(cat -A "$T/err")"
}

@test "libpq reads no .pgpass, certificate or service file another user could write" {
	# Guarantee 18, for libpq: with HOME in a folder another user owns,
	# that user chose the password root sends, the CA verify-full trusts,
	# or (a service file) the server itself.
	hostile_user
	local home="$T/home"
	mkdir -p "$home/.postgresql"
	printf '*:*:*:*:chosen-by-them\n' >"$home/.pgpass"
	printf 'not a certificate\n' >"$home/.postgresql/root.crt"
	printf '[svc]\nport=1\n' >"$home/.pg_service.conf"
	chmod 0600 "$home/.pgpass"
	chown -R "$HOSTILE_UID:$HOSTILE_GID" "$home"
	# Found by default: ignored, and libpq never opens them.
	pl_run strace -f -qq -e trace=%file -o "$T/trace" env HOME="$home" PIDLOCK_FILE="$URI" \
		PIDLOCK_VERBOSE=1 LD_PRELOAD="$SHIM" true
	assert_status 0
	grep -q "ignoring a file someone else could have written: $home" "$T/err" || fail "stderr: $(cat "$T/err")"
	! grep -E "\"$home/(\.pgpass|\.postgresql/root\.crt)\"" "$T/trace" ||
		fail "libpq looked at the other user's files (above)"
	# Named: refused (73), not quietly ignored.
	PIDLOCK_FILE="$URI" pl_shim PGPASSFILE="$home/.pgpass" true
	assert_status 73
	assert_one_pidlock_line "will not let libpq read" "$home"
	PIDLOCK_FILE="$BASE?service=svc#$NAME" pl_shim HOME="$home" true
	assert_status 73
	assert_one_pidlock_line "service file" "$home"
	# The caller's own files are read as before.
	chown -R 0:0 "$home"
	pl_run strace -f -qq -e trace=%file -o "$T/trace" env HOME="$home" PIDLOCK_FILE="$URI" \
		LD_PRELOAD="$SHIM" true
	assert_status 0
	grep -q "\"$home/.pgpass\"" "$T/trace" || fail "libpq did not read the caller's own .pgpass"
}
