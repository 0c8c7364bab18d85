#!/bin/sh
# SPDX-License-Identifier: MIT
# What the source of pidlock is, for the scripts that package it (dist.sh,
# mkdeb.sh, check-spdx.sh), with or without git:
#   sh scripts/source-tree.sh files   the source files, one a line, sorted
#   sh scripts/source-tree.sh date    SOURCE_DATE_EPOCH for what is built here
#
# files: in a git checkout, the tracked files (git ls-files); in an unpacked
# release tarball, the list the tarball carries (MANIFEST, written by
# scripts/dist.sh). A copy with neither has no way to tell source from
# anything else lying in the folder, and says so.
#
# date: SOURCE_DATE_EPOCH when the caller sets it; else the time of the
# commit checked out; else the newest modification time among the source
# files (in a tarball from make dist, all of them carry the commit's time,
# so a package built from the tarball has the dates of one built from the
# checkout); else, in a plain copy, the newest file outside build/.
set -eu
cd "$(dirname "$0")/.."

die() {
	echo "source-tree: $*" >&2
	exit 1
}

# Only this tree's own git, never that of a folder it was unpacked in.
in_git() {
	[ -e .git ] && command -v git >/dev/null 2>&1 &&
		[ "$(git rev-parse --show-toplevel 2>/dev/null)" = "$(pwd -P)" ]
}

files() {
	if in_git; then
		missing=$(git ls-files --deleted)
		[ -z "$missing" ] || die "tracked but missing (commit or restore them): $missing"
		git ls-files | LC_ALL=C sort
	elif [ -f MANIFEST ]; then
		LC_ALL=C sort MANIFEST
	else
		die "neither a git checkout nor an unpacked release (no MANIFEST): which files are the source?"
	fi
}

case ${1-} in
files)
	files
	;;
date)
	if [ -n "${SOURCE_DATE_EPOCH:-}" ]; then
		echo "$SOURCE_DATE_EPOCH"
	elif in_git; then
		git log -1 --format=%ct
	elif [ -f MANIFEST ]; then
		files | tr '\n' '\0' | xargs -0 stat -c %Y | sort -n | tail -n 1
	else
		find . -path ./build -prune -o -path ./.git -prune -o -type f \
			! -name '*.deb' ! -name '*.tar.gz' -printf '%Ts\n' | sort -n | tail -n 1
	fi
	;;
*)
	die "usage: source-tree.sh files|date"
	;;
esac
