#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# The release tarball (make dist, scripts/dist.sh): the same bytes every
# time, exactly the source files, and enough on its own. Unpacked, with no
# git (a git that fails and leaves a mark is first on PATH) and without
# DEBFULLNAME or DEBEMAIL, make deb gives the very package the checkout
# gives, which lintian passes and which installs, works (scripts/deb-smoke.sh)
# and purges without a trace; make install puts everything in place; make
# dist there gives the same tarball again. (make test from the tarball is
# what CI runs: .ci/run.)

load test_helper

bats_require_minimum_version 1.5.0

VERSION=$(cat "$ROOT/VERSION")

setup_file() {
	DIST=$BATS_FILE_TMPDIR
	TARBALL=$DIST/pidlock-$VERSION.tar.gz
	SRC=$DIST/src/pidlock-$VERSION
	NOGIT=$DIST/nogit
	export DIST TARBALL SRC NOGIT
	sh "$ROOT/scripts/dist.sh" "$DIST" >/dev/null
	mkdir "$DIST/src" "$NOGIT"
	tar -xzf "$TARBALL" -C "$DIST/src"
	printf '#!/bin/sh\necho "git $*" >>"%s/git-called"\nexit 1\n' "$DIST" >"$NOGIT/git"
	chmod 0755 "$NOGIT/git"
}

teardown() {
	# A test that installed the package and failed before its purge.
	if [ -e "$DIST/installed-by-test" ]; then
		dpkg --purge pidlock >/dev/null 2>&1 || true
		rm -f "$DIST/installed-by-test"
	fi
	common_teardown
}

# Runs make in the unpacked tarball as a distribution's builder would: no
# git, no DEBFULLNAME or DEBEMAIL, no SOURCE_DATE_EPOCH from the caller.
make_in_tarball() {
	env -u DEBFULLNAME -u DEBEMAIL -u SOURCE_DATE_EPOCH PATH="$NOGIT:$PATH" \
		make -C "$SRC" --no-print-directory "$@"
}

no_git_called() {
	[ ! -e "$DIST/git-called" ] || fail "git was called: $(cat "$DIST/git-called")"
}

@test "dist: the same bytes twice, and again from the unpacked tarball without git" {
	mkdir "$T/a" "$T/b" "$T/c"
	sh "$ROOT/scripts/dist.sh" "$T/a" >/dev/null
	sh "$ROOT/scripts/dist.sh" "$T/b" >/dev/null
	run -0 cmp "$T/a/pidlock-$VERSION.tar.gz" "$T/b/pidlock-$VERSION.tar.gz"
	run -0 cmp "$T/a/pidlock-$VERSION.tar.gz" "$TARBALL"
	[ ! -e "$SRC/.git" ] || fail "the tarball has a .git"
	env PATH="$NOGIT:$PATH" sh "$SRC/scripts/dist.sh" "$T/c" >/dev/null
	no_git_called
	run -0 cmp "$T/c/pidlock-$VERSION.tar.gz" "$TARBALL"
	# Not a file of the tree: no tarball is left behind in either.
	[ ! -e "$SRC/build/dist" ] || fail "dist.sh left its staging folder"
}

@test "dist: exactly the source files and a MANIFEST of them, owner 0, one time, modes 0644 and 0755" {
	run -0 sh "$ROOT/scripts/source-tree.sh" files
	local want=$output
	run -0 bash -c "tar -tzf '$TARBALL' | grep -v '/\$' | sed 's|^pidlock-$VERSION/||' | LC_ALL=C sort"
	assert_output "$(printf '%s\nMANIFEST\n' "$want" | grep -v '^$' | LC_ALL=C sort -u)"
	run -0 cat "$SRC/MANIFEST"
	assert_output "$want"
	# Every entry under pidlock-VERSION/, owned by 0:0, dated alike, with
	# the tree's executable bit and no other mode.
	run -0 tar --numeric-owner --full-time -tvzf "$TARBALL"
	local perm owner day time name dates=""
	while read -r perm owner _ day time name; do
		[[ $name == "pidlock-$VERSION/"* ]] || fail "outside pidlock-$VERSION/: $name"
		[ "$owner" = 0/0 ] || fail "$name: owner $owner"
		dates="$dates$day $time"$'\n'
		case $perm in
		drwxr-xr-x) ;;
		-rwxr-xr-x) [ -x "$ROOT/${name#*/}" ] || fail "$name is executable in the tarball only" ;;
		-rw-r--r--) [ ! -x "$ROOT/${name#*/}" ] || fail "$name is executable in the tree only" ;;
		*) fail "$name: mode $perm" ;;
		esac
	done <<<"$output"
	run -0 bash -c "sort -u <<<'$dates' | grep -c ."
	assert_output 1
	# gzip -n: no name (FLG bit 3) and no time (bytes 4-7) in the header.
	run -0 od -An -tx1 -j3 -N5 "$TARBALL"
	assert_output " 00 00 00 00 00"
}

@test "dist: unpacked, without git or DEBFULLNAME/DEBEMAIL, make deb gives the checkout's package; lintian passes it" {
	command -v lintian >/dev/null || fail "lintian is missing: scripts/test-deps.sh installs it"
	[ ! -e "$SRC/.git" ] || fail "the tarball has a .git"
	run -0 make_in_tarball deb
	no_git_called
	local deb
	deb="$SRC/pidlock_${VERSION}_$(dpkg --print-architecture).deb"
	[ -f "$deb" ] || fail "no $deb: $output"
	run -0 lintian --fail-on error,warning "$deb"
	refute_output --regexp '^[EW]: '
	# The same package, byte for byte, as make deb in the checkout.
	mkdir "$T/co"
	(cd "$ROOT" && env -u SOURCE_DATE_EPOCH sh scripts/mkdeb.sh "$T/co") >/dev/null 2>&1
	run -0 cmp "$deb" "$T/co/${deb##*/}"
	run -0 dpkg-deb -f "$deb" Maintainer
	assert_output "$(sed -n 's/^Maintainer: //p' "$ROOT/packaging/control")"
}

@test "dist: make install from the unpacked tarball, with its own BUILD: command, library, plugins, man page, completions" {
	run -0 make_in_tarball BUILD="$T/b" PREFIX=/usr DESTDIR="$T/root" install
	no_git_called
	local f b plugins=()
	for b in $(pl_backends); do plugins+=("lib/pidlock/pidlock-$b.so"); done
	[ "${#plugins[@]}" -ge 2 ] || fail "the Makefile lists fewer backends than it builds"
	for f in bin/pidlock lib/pidlock/libpidlock.so "${plugins[@]}" share/man/man1/pidlock.1 \
		share/bash-completion/completions/pidlock share/zsh/site-functions/_pidlock \
		share/fish/vendor_completions.d/pidlock.fish; do
		[ -f "$T/root/usr/$f" ] || fail "make install did not install usr/$f"
	done
	# What BUILD built, not a build/ of the tree (make install honours BUILD).
	run -0 cmp "$T/root/usr/bin/pidlock" "$T/b/pidlock"
	run -0 cmp "$T/root/usr/lib/pidlock/libpidlock.so" "$T/b/libpidlock.so"
	[ ! -e "$SRC/build/pidlock" ] || fail "make install built in the tree's build/, not BUILD"
	run -0 "$T/root/usr/bin/pidlock" check -- true
	assert_line --partial "will preload $T/root/usr/lib/pidlock/libpidlock.so,"
}

@test "dist: the package from the tarball installs, works and purges without a trace" {
	[ "$(id -u)" = 0 ] || skip "installing a package needs root"
	if dpkg-query -W -f '${db:Status-Status}' pidlock 2>/dev/null | grep -qv '^not-installed$'; then
		skip "a pidlock package is installed on this machine: not replacing it (CI installs the package in .ci/run)"
	fi
	local deb
	deb="$SRC/pidlock_${VERSION}_$(dpkg --print-architecture).deb"
	[ -f "$deb" ] || run -0 make_in_tarball deb
	touch "$DIST/installed-by-test"
	run -0 dpkg -i "$deb"
	run -0 bash "$SRC/scripts/deb-smoke.sh"
	assert_output --partial "works from /usr/bin"
	dpkg -L pidlock >"$T/files"
	run -0 dpkg --purge pidlock
	rm -f "$DIST/installed-by-test"
	run -0 bash "$SRC/scripts/deb-smoke.sh" --gone "$T/files"
}
