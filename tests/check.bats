#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# `pidlock check -- COMMAND` (pidlock(1)): one line per finding and the verdict
# as the exit status: 0 the library will load and lock, 1 guarded only through
# the inherited descriptor, 2 cannot be guarded. Every case with a real
# program: scripts through env and env -S, a static program, setuid copies,
# file capabilities, an arm64 program, a foreign loader, a pyenv-style shim,
# a library path LD_PRELOAD cannot carry.

# shellcheck disable=SC2153 # ROOT comes from test_helper.bash
load test_helper

bats_require_minimum_version 1.5.0

MULTIARCH=$(gcc -print-multiarch)

setup() {
	common_setup
	# python3 as Debian installs it, not a version manager's shim.
	export PATH=/usr/sbin:/usr/bin:/sbin:/bin
	printf 'int main(void) { return 0; }\n' >"$T/main.c"
}

# A copy of the command installed as the package installs it, under $T/inst
# (bin/pidlock, lib/MULTIARCH/pidlock/libpidlock.so): which libraries it can
# find is then up to the test.
install_copy() {
	local root=${1:-$T/inst}
	mkdir -p "$root/bin" "$root/lib/$MULTIARCH/pidlock"
	pl_copy_command "$root/bin/pidlock"
	cp "$SHIM" "$root/lib/$MULTIARCH/pidlock/libpidlock.so"
}

@test "check: a dynamically linked program: the library loads, exit 0" {
	run -0 "$PIDLOCK" check -- true
	assert_line --partial "/usr/bin/true: a dynamically linked"
	assert_line --partial "for glibc (loader /lib"
	assert_line --partial "will preload $(realpath "$SHIM")"
	assert_line --index 2 "verdict 0: the pidlock library will enter it and lock"
	assert_equal "${#lines[@]}" 3
}

@test "check: #!/usr/bin/env python3 names python3, found in PATH" {
	printf '#!/usr/bin/env python3\nprint("hi")\n' >"$T/job.py"
	chmod +x "$T/job.py"
	run -0 "$PIDLOCK" check -- "$T/job.py" --some-arg
	assert_line --index 0 "$T/job.py: a script for /usr/bin/env python3, which runs /usr/bin/python3"
	assert_line --partial "/usr/bin/python3: a dynamically linked"
	assert_line "verdict 0: the pidlock library will enter it and lock"
}

@test "check: env -S with options and assignments skips to the program" {
	printf '#!/usr/bin/env -S -u HOME LC_ALL=C python3 -u\nprint(1)\n' >"$T/job"
	chmod +x "$T/job"
	run -0 "$PIDLOCK" check "$T/job"
	assert_line --partial "which runs /usr/bin/python3"
}

@test "check: a script for a program that does not exist: 127, as run" {
	printf '#!/usr/bin/env no-such-interpreter-here\n' >"$T/job"
	chmod +x "$T/job"
	run -127 "$PIDLOCK" check -- "$T/job"
	assert_output --partial "which runs no-such-interpreter-here: not found in PATH"
}

@test "check: a statically linked program is guarded through the descriptor: 1" {
	gcc -static -o "$T/static" "$T/main.c"
	run -1 "$PIDLOCK" check -- "$T/static"
	assert_line --partial "$T/static: a statically linked x86_64 program: no dynamic loader"
	assert_line --partial "verdict 1: guarded only through the descriptor"
	# As `pidlock run` says when it runs it.
	run -0 "$PIDLOCK" run -f "$PF" -- "$T/static"
	assert_output --partial "statically linked"
}

@test "check: a setuid copy owned by another user: 1; owned by the caller: 0" {
	cp /usr/bin/true "$T/suid"
	chown nobody "$T/suid"
	chmod 4755 "$T/suid"
	run -1 "$PIDLOCK" check -- "$T/suid"
	assert_line --partial "$T/suid: is setuid (owner $(id -u nobody)"
	assert_line --partial "secure-execution mode"
	# setuid to the user who runs it: no secure execution, the library loads.
	chown "$(id -u)" "$T/suid"
	chmod 4755 "$T/suid"
	run -0 "$PIDLOCK" check -- "$T/suid"
	refute_output --partial "setuid"
}

@test "check: a setgid copy of another group: 1" {
	cp /usr/bin/true "$T/sgid"
	chgrp nogroup "$T/sgid"
	chmod 2755 "$T/sgid"
	run -1 "$PIDLOCK" check -- "$T/sgid"
	assert_line --partial "$T/sgid: is setgid"
}

@test "check: a program with file capabilities: 1" {
	cp /usr/bin/true "$T/capd"
	# vfs_cap_data revision 2, effective, cap_net_bind_service permitted:
	# what setcap cap_net_bind_service=ep writes.
	python3 -c 'import os, struct, sys; os.setxattr(sys.argv[1], "security.capability", struct.pack("<IIIII", 0x02000001, 1 << 10, 0, 0, 0))' "$T/capd"
	[ "$(id -u)" -eq 0 ] || skip "the capabilities need root to set (and setpriv to compare)"
	# Root gains no capability it lacks: its loader still preloads.
	run -0 "$PIDLOCK" check -- "$T/capd"
	assert_line --partial "$T/capd: has file capabilities (security.capability), which put the loader in secure-execution mode for users other than root only"
	# Any other user gains them, so the kernel sets AT_SECURE: the loader
	# ignores LD_PRELOAD, and run warns as for setuid.
	chmod 755 "$T"
	run -1 setpriv --reuid=nobody --regid=nogroup --clear-groups "$PIDLOCK" check -- "$T/capd"
	assert_line --partial "$T/capd: has file capabilities (security.capability): a user other than root runs it in secure-execution mode"
	mkdir -m 1777 "$T/nobody"
	run -0 setpriv --reuid=nobody --regid=nogroup --clear-groups "$PIDLOCK" run -f "$T/nobody/capd.pid" -- "$T/capd"
	assert_output --partial "has file capabilities, so the pidlock library cannot enter it"
}

@test "check: an arm64 program: 2 without an arm64 library, 0 with one" {
	aarch64-linux-gnu-gcc -o "$T/a64" "$T/main.c"
	install_copy
	run -2 "$T/inst/bin/pidlock" check -- "$T/a64"
	assert_line --partial "$T/a64: a dynamically linked arm64 program for glibc (loader /lib/ld-linux-aarch64.so.1)"
	assert_line --partial "no pidlock library built for its loader /lib/ld-linux-aarch64.so.1 is installed (arm64/libpidlock.so"
	assert_line "verdict 2: it cannot be guarded"
	# An arm64 library in arm64/ beside the installed one: that is the one.
	mkdir "$T/inst/lib/$MULTIARCH/pidlock/arm64"
	aarch64-linux-gnu-gcc -shared -fPIC -o "$T/inst/lib/$MULTIARCH/pidlock/arm64/libpidlock.so" "$ROOT/tests/empty.c"
	run -0 "$T/inst/bin/pidlock" check -- "$T/a64"
	assert_line --partial "will preload $T/inst/lib/$MULTIARCH/pidlock/arm64/libpidlock.so"
}

@test "check: a loader that is neither glibc's nor musl's: 2" {
	gcc -Wl,--dynamic-linker=/opt/other-libc/ld.so -o "$T/foreign" "$T/main.c"
	run -2 "$PIDLOCK" check -- "$T/foreign"
	assert_line --partial "its loader /opt/other-libc/ld.so is neither glibc's nor musl's"
}

@test "check: a musl program with no musl library: 2; its library comes from musl/" {
	musl-gcc -o "$T/muslprog" "$T/main.c"
	install_copy
	run -2 "$T/inst/bin/pidlock" check -- "$T/muslprog"
	assert_line --partial "for musl (loader /lib/ld-musl-x86_64.so.1)"
	assert_line --partial "(musl/libpidlock.so beside"
	mkdir "$T/inst/lib/$MULTIARCH/pidlock/musl"
	musl-gcc -shared -fPIC -o "$T/inst/lib/$MULTIARCH/pidlock/musl/libpidlock.so" "$ROOT/tests/empty.c"
	run -0 "$T/inst/bin/pidlock" check -- "$T/muslprog"
	assert_line --partial "will preload $T/inst/lib/$MULTIARCH/pidlock/musl/libpidlock.so"
	# A script for that musl program: `pidlock run` picks the library by
	# the file it executes (the script), so check says it would be wrong.
	printf '#!%s\n' "$T/muslprog" >"$T/muslscript"
	chmod +x "$T/muslscript"
	run -2 "$T/inst/bin/pidlock" check -- "$T/muslscript"
	assert_line --index 0 "$T/muslscript: a script for $T/muslprog"
	assert_line --partial "chooses by the script it executes"
}

@test "check: a pyenv-style shim is followed as far as its #! line, and says so" {
	mkdir "$T/shims"
	cat >"$T/shims/python3" <<-'EOF'
		#!/usr/bin/env bash
		# A version manager's shim: picks a python, then becomes it.
		set -e
		exec /usr/bin/python3 "$@"
	EOF
	chmod +x "$T/shims/python3"
	printf '#!/usr/bin/env python3\nprint(1)\n' >"$T/job.py"
	chmod +x "$T/job.py"
	PATH="$T/shims:$PATH" run -0 "$PIDLOCK" check -- "$T/job.py"
	assert_line --index 0 "$T/job.py: a script for /usr/bin/env python3, which runs $T/shims/python3"
	assert_line --index 1 --regexp "^$T/shims/python3: a script for /usr/bin/env bash, which runs /(usr/)?bin/bash$"
	assert_line --partial "a shell script that execs another program (a shim such as pyenv's)"
	assert_line "verdict 0: the pidlock library will enter it and lock (as far as the #! line goes)"
}

@test "check: a library path with a space cannot be preloaded: 2" {
	install_copy "$T/with space"
	run -2 "$T/with space/bin/pidlock" check -- true
	assert_line --partial "$T/with space/lib/$MULTIARCH/pidlock/libpidlock.so: has a space or a colon"
}

@test "check: usage errors, not found, help" {
	run -64 "$PIDLOCK" check
	assert_output --partial "missing COMMAND"
	run -64 "$PIDLOCK" check --bogus true
	assert_output --partial "unknown or ambiguous option --bogus"
	run -127 "$PIDLOCK" check -- no-such-command-anywhere
	assert_output "no-such-command-anywhere: command not found"
	printf 'echo hi\n' >"$T/noexec"
	run -126 "$PIDLOCK" check -- "$T/noexec"
	run -0 "$PIDLOCK" check --help
	assert_output --partial "usage: pidlock check [--] COMMAND [ARG]..."
	run -0 "$PIDLOCK" --help
	assert_output --partial "pidlock check [--] COMMAND [ARG]..."
}
