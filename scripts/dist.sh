#!/bin/sh
# SPDX-License-Identifier: MIT
# The release tarball (make dist): pidlock-VERSION.tar.gz, one folder
# pidlock-VERSION/ with exactly the source files (scripts/source-tree.sh
# files: git's tracked files, or an unpacked tarball's MANIFEST) and a
# MANIFEST listing them, so that make dist, make deb, make install and make
# test all work from the unpacked tarball, without git.
#
# Reproducible: the same source gives the same bytes, whoever makes it and
# whenever. Names sorted, owner and group 0, every time SOURCE_DATE_EPOCH
# (scripts/source-tree.sh date: the commit's), modes 0644 or 0755 (from the
# owner's x bit), no atime or ctime (GNU format), gzip without name or time.
#
# Usage: sh scripts/dist.sh [OUTDIR]   (default: the top of the tree)
set -eu
cd "$(dirname "$0")/.."

die() {
	echo "dist: $*" >&2
	exit 1
}
tar --version 2>/dev/null | grep -q 'GNU tar' || die "needs GNU tar (--sort, --mtime, --owner)"

out=${1:-.}
[ -d "$out" ] || die "no folder $out"
version=$(cat VERSION)
name=pidlock-$version
files=$(sh scripts/source-tree.sh files)
SOURCE_DATE_EPOCH=$(sh scripts/source-tree.sh date)

# A staging copy, so that the tarball holds the MANIFEST beside the files
# without one ever being written into the tree.
stage=build/dist
rm -rf "$stage"
mkdir -p "$stage/$name"
printf '%s\n' "$files" | grep -vx MANIFEST >"$stage/$name/MANIFEST" || true
tar -cf - --no-recursion -T "$stage/$name/MANIFEST" | tar -xf - -C "$stage/$name"
count=$(grep -c '' "$stage/$name/MANIFEST")

tarball=$out/$name.tar.gz
tar -C "$stage" --sort=name --format=gnu --owner=0 --group=0 --numeric-owner \
	--mtime="@$SOURCE_DATE_EPOCH" --mode='u+rw,go=rX' -cf - "$name" |
	gzip -9n >"$tarball.new"
mv -f "$tarball.new" "$tarball"
rm -rf "$stage"
echo "dist: $tarball ($count files and MANIFEST)"
