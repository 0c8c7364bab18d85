#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# The seam between the lock core and the cluster backends (shim/core/backend.h):
# the core library carries no backend's code and imports only what the local
# lock needs; a backend is a plugin beside it, opened only for a URI of its
# scheme. No server is needed here: an unreachable one (127.0.0.1:1, refused
# at once) is enough to load the plugin. tests/cluster.bats checks the plugin
# is mapped while a real cluster lock is held.

bats_require_minimum_version 1.5.0
load test_helper
load lib_fork
load plprog

PLUGIN_NAME=pidlock-postgresql.so
NOWHERE="postgresql://postgres@127.0.0.1:1/postgres?connect_timeout=3#seam"

@test "seam: nm -D of the core library shows no PostgreSQL code and none of the plugin's imports" {
	skip_if_instrumented any "an instrumented build imports its runtime"
	run -0 nm -D "$SHIM"
	refute_output --regexp '(^| )(PQ[a-zA-Z]*|pthread_[a-z_]*|snprintf|malloc|poll|gethostname)(@|$)'
	refute_output --partial pidlock_backend_v1
	# Nor in the full symbol table: the backend's functions are not compiled in.
	run -0 nm "$SHIM"
	refute_output --regexp ' (load_pq|pg_acquire|pg_status|connect_uri|display_uri)$'
	# The plugin has them, and exports only its entry point.
	run -0 nm -D "$BUILD/$PLUGIN_NAME"
	assert_output --regexp ' U (pthread_create|snprintf)(@|$)'
	run -0 nm -D --defined-only "$BUILD/$PLUGIN_NAME"
	assert_output --regexp ' T pidlock_backend_v1$'
	[ "${#lines[@]}" -eq 1 ]
}

@test "seam: check-imports passes on the core and fails when an import is not listed" {
	skip_if_instrumented any "an instrumented build imports its runtime"
	run -0 sh "$ROOT/scripts/check-imports.sh" "$SHIM" "$ROOT/scripts/imports.txt"
	grep -vx flock "$ROOT/scripts/imports.txt" >"$T/imports.txt"
	run -1 sh "$ROOT/scripts/check-imports.sh" "$SHIM" "$T/imports.txt"
	assert_output --partial "does not list: flock"
}

@test "seam: the plugin is not mapped in local mode, and is mapped in cluster mode" {
	PIDLOCK_FILE="$T/app.pid" start_shim sleep 60 >"$T/local.out" 2>&1 &
	local pid=$!
	track_pid "$pid"
	await_pidfile "$T/app.pid" "$pid"
	run -0 cat "/proc/$pid/maps"
	assert_output --partial "$SHIM"
	refute_output --partial "$PLUGIN_NAME"
	# Cluster mode, unguarded after the refused connection (PIDLOCK_ON_ERROR=run):
	# the plugin was opened to try, and stays mapped.
	PIDLOCK_FILE="$NOWHERE" PIDLOCK_ON_ERROR=run start_shim sleep 60 >"$T/cluster.out" 2>&1 &
	pid=$!
	track_pid "$pid"
	wait_until "grep -q 'cannot connect' '$T/cluster.out'" 10 || fail "$(cat "$T/cluster.out")"
	wait_until "grep -q '$BUILD/$PLUGIN_NAME' /proc/$pid/maps" 10 ||
		fail "the plugin is not mapped: $(grep pidlock "/proc/$pid/maps")"
}

@test "seam: the plugin is found beside the core library; without it, one line and 71" {
	mkdir "$T/lib"
	cp "$SHIM" "$T/lib/libpidlock.so"
	run -71 env PIDLOCK_FILE="$NOWHERE" LD_PRELOAD="$T/lib/libpidlock.so" true
	assert_output --regexp "^pidlock: cluster mode \(postgresql://\) needs the pidlock plugin $T/lib/$PLUGIN_NAME, which cannot be loaded: "
	[ "${#lines[@]}" -eq 1 ]
	# With it there, the lock is tried: the server is unreachable (73).
	cp "$BUILD/$PLUGIN_NAME" "$T/lib/$PLUGIN_NAME"
	run -73 env PIDLOCK_FILE="$NOWHERE" LD_PRELOAD="$T/lib/libpidlock.so" true
	assert_output --regexp "^pidlock: postgresql://postgres@127.0.0.1:1/postgres\?connect_timeout=3#seam: cannot connect: "
}

@test "seam: a local PID file never opens a plugin, even one whose name looks like a URI's" {
	# postgresql:/x (one slash) is a relative path, not a URI: a PID file.
	mkdir -p "$T/postgresql:"
	cd "$T"
	run -0 env PIDLOCK_FILE="postgresql:/x.pid" LD_PRELOAD="$SHIM" sh -c 'grep -c pidlock-postgresql /proc/$$/maps || true'
	assert_output 0
}
