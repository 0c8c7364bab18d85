#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# Installing pidlock like a system tool: one VERSION for the
# command, the man page and the package; `make deb` and lintian; the command
# finding its library relative to itself wherever the tree is unpacked; the
# PREFIX stamp. (CI installs the package system-wide and runs
# scripts/deb-smoke.sh; these tests never install it. The completions have
# tests/completions.bats; the tarball, tests/dist.bats.)

# shellcheck disable=SC2016 # sh -c, bash -c and fish -c scripts expand in the child, on purpose
load test_helper

bats_require_minimum_version 1.5.0

MULTIARCH=$(gcc -print-multiarch)
VERSION=$(cat "$ROOT/VERSION")

# The package, built once for the file into its own folder.
setup_file() {
	DEB_DIR="$(mktemp -d "${BATS_TMPDIR:-/tmp}/pidlock-deb.XXXXXX")"
	export DEB_DIR
	(cd "$ROOT" && sh scripts/mkdeb.sh "$DEB_DIR") >"$DEB_DIR/mkdeb.log" 2>&1 ||
		{ cat "$DEB_DIR/mkdeb.log" >&2; return 1; }
}

teardown_file() {
	[ -z "${DEB_DIR:-}" ] || rm -rf "$DEB_DIR"
}

deb() {
	local f
	for f in "$DEB_DIR"/pidlock_*.deb; do
		printf '%s\n' "$f"
	done
}

@test "package: pidlock --version, the man page header and the .deb agree with VERSION" {
	[[ $VERSION =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || fail "VERSION is '$VERSION'"
	run -0 "$PIDLOCK" --version
	assert_output "pidlock $VERSION"
	# The .TH line: the first but for comment lines (the SPDX line).
	run -0 grep -m 1 -v '^\.\\"' "$ROOT/docs/pidlock.1"
	assert_output --regexp "^\.TH PIDLOCK 1 \"[0-9-]+\" \"pidlock $VERSION\" "
	assert_equal "$(deb)" "$DEB_DIR/pidlock_${VERSION}_$(dpkg --print-architecture).deb"
	run -0 dpkg-deb -f "$(deb)" Version
	assert_output "$VERSION"
}

@test "package: lintian finds no error and no warning" {
	command -v lintian >/dev/null || fail "lintian is missing: scripts/test-deps.sh installs it"
	run -0 lintian --fail-on error,warning "$(deb)"
	refute_output --regexp '^[EW]: '
}

@test "package: the files are where Debian's tools look for them" {
	run -0 dpkg-deb -c "$(deb)"
	local p b plugins=()
	for b in $(pl_backends); do plugins+=("./usr/lib/$MULTIARCH/pidlock/pidlock-$b.so"); done
	[ "${#plugins[@]}" -ge 2 ] || fail "the Makefile lists fewer backends than it builds"
	for p in ./usr/bin/pidlock "./usr/lib/$MULTIARCH/pidlock/libpidlock.so" "${plugins[@]}" \
		./usr/share/man/man1/pidlock.1.gz ./usr/share/bash-completion/completions/pidlock \
		./usr/share/zsh/vendor-completions/_pidlock ./usr/share/fish/vendor_completions.d/pidlock.fish \
		./usr/share/doc/pidlock/copyright ./usr/share/doc/pidlock/changelog.gz; do
		assert_line --regexp " $p\$"
	done
	refute_output --partial "/usr/local"
	refute_output --partial " ./usr/lib/pidlock"
	run -0 dpkg-deb -f "$(deb)" Depends
	assert_output --regexp '^libc6 \(>= [0-9.]+\)'
	dpkg-deb -x "$(deb)" "$T/root"
	# gzip -9n: no name, no timestamp in the header (bytes 4-7 are zero).
	run -0 od -An -tx1 -j3 -N5 "$T/root/usr/share/man/man1/pidlock.1.gz"
	assert_output " 00 00 00 00 00"
	run -0 cat "$T/root/usr/share/doc/pidlock/copyright"
	assert_line --index 0 "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/"
}

@test "package: the copyright file is DEP-5 with the MIT (Expat) licence of LICENSE, word for word" {
	dpkg-deb -x "$(deb)" "$T/root"
	local c="$T/root/usr/share/doc/pidlock/copyright"
	run -0 grep -c '^License: Expat$' "$c"
	assert_output 2
	run -0 grep -F 'SPDX-License-Identifier:' "$c"
	refute_output --partial 'TBD'
	run -0 grep -m 1 '^Copyright: ' "$c"
	assert_output "Copyright: $(sed -n 's/^Copyright (c) //p' "$ROOT/LICENSE")"
	# The stand-alone licence paragraph (the last) is LICENSE's terms, from
	# "Permission" on, in DEP-5's continuation lines.
	awk '/^License: Expat$/ { text = ""; next } { text = text $0 "\n" } END { printf "%s", text }' \
		"$c" >"$T/text"
	sed -n '/^Permission/,$p' "$ROOT/LICENSE" | sed 's/^$/./; s/^/ /' >"$T/want"
	[ "$(wc -l <"$T/want")" -gt 10 ] || fail "LICENSE has no text of terms"
	run -0 cat "$T/text"
	assert_output "$(cat "$T/want")"
}

@test "package: the README and the documents it links to are installed, and every link resolves" {
	dpkg-deb -x "$(deb)" "$T/root"
	local doc="$T/root/usr/share/doc/pidlock" f target bad=""
	[ -f "$doc/README.md.gz" ] || fail "no README.md.gz in /usr/share/doc/pidlock"
	local n=0
	for f in "$doc"/*.md.gz; do
		while IFS= read -r target; do
			n=$((n + 1))
			target=${target%%#*}
			case $target in
			*://* | mailto:* | '') continue ;;
			/*) [ -e "$T/root$target" ] || bad="$bad ${f##*/}:$target" ;;
			*) [ -e "$doc/$target" ] || bad="$bad ${f##*/}:$target" ;;
			esac
		done < <(zcat "$f" | grep -o '\]([^) ]*)' | sed 's/^](//; s/)$//')
	done
	[ -z "$bad" ] || fail "links to what the package does not install:$bad"
	[ "$n" -gt 20 ] || fail "only $n links found: is the README there?"
	# Every document the README links to is one of them, none dropped.
	run -0 bash -c "zcat '$doc/README.md.gz' | grep -o '](' | wc -l"
	assert_output "$(grep -o '](' "$ROOT/README.md" | wc -l)"
	local d
	for d in recipes cluster platforms macos DESIGN; do
		[ -f "$doc/$d.md.gz" ] || fail "docs/$d.md is not installed"
	done
}

@test "package: the same commit gives the same bytes" {
	mkdir "$T/again"
	# Compiled again from scratch, not the same objects packed twice.
	rm -rf "$ROOT/build/deb" "$ROOT/build/deb-musl"
	(cd "$ROOT" && sh scripts/mkdeb.sh "$T/again") >/dev/null 2>&1
	run -0 cmp "$(deb)" "$T/again/$(basename "$(deb)")"
}

@test "package: unpacked anywhere, the command uses the library beside it" {
	dpkg-deb -x "$(deb)" "$T/root"
	local lib="$T/root/usr/lib/$MULTIARCH/pidlock/libpidlock.so"
	run -0 "$T/root/usr/bin/pidlock" check -- true
	assert_line --partial "will preload $lib,"
	# And runs a program with it and the lock, no baked path involved.
	run -0 "$T/root/usr/bin/pidlock" run -f "$PF" -- sh -c 'echo "$LD_PRELOAD"; cat "$1"' sh "$PF"
	assert_line --index 0 "$lib"
	assert_line --index 1 --regexp '^[0-9]+$'
}

@test "package: a change of PREFIX rebuilds the command with the new path" {
	local b="$T/build"
	run -0 make -C "$ROOT" --no-print-directory BUILD="$b" PREFIX=/opt/one "$b/pidlock"
	run -0 grep -c /opt/one/lib/pidlock "$b/pidlock"
	local before
	before=$(stat -c %Y.%y "$b/pidlock")
	# The same PREFIX again: nothing to do.
	run -0 make -C "$ROOT" --no-print-directory BUILD="$b" PREFIX=/opt/one "$b/pidlock"
	refute_output --partial "-o $b/pidlock"
	assert_equal "$(stat -c %Y.%y "$b/pidlock")" "$before"
	run -0 make -C "$ROOT" --no-print-directory BUILD="$b" PREFIX=/opt/two "$b/pidlock"
	assert_output --partial "-o $b/pidlock"
	run -0 grep -c /opt/two/lib/pidlock "$b/pidlock"
	run -1 grep -c /opt/one/lib/pidlock "$b/pidlock"
}

@test "package: deb-smoke.sh --gone reports what a purge left" {
	# A package nobody has, so that the machine's own pidlock package (a
	# user who tried it) does not decide the outcome.
	local none=pidlock-bats-no-such-package
	touch "$T/left-behind"
	printf '/.\n/usr\n%s\n' "$T/left-behind" >"$T/list"
	run -1 bash "$ROOT/scripts/deb-smoke.sh" --gone "$T/list" "$none"
	assert_output --partial "left after purge: $T/left-behind"
	rm "$T/left-behind"
	run -0 bash "$ROOT/scripts/deb-smoke.sh" --gone "$T/list" "$none"
	# And a package dpkg still has is reported (base-files: every Debian has it).
	run -1 bash "$ROOT/scripts/deb-smoke.sh" --gone "$T/list" base-files
	assert_output --partial "dpkg still has base-files: installed"
}
