#!/bin/sh
# SPDX-License-Identifier: MIT
# Fails if the core library imports a dynamic symbol that LIST does not name.
# Every import is a lookup the loader may make in every process the library
# enters, and a part of the C library the core depends on; backends keep
# theirs in their plugin (shim/core/backend.h). Adding one is a decision: list it
# in scripts/imports.txt (one name a line, no version) in the same change.
#   sh scripts/check-imports.sh build/libpidlock.so scripts/imports.txt
set -eu
lib="$1"
list="$2"
# Undefined dynamic symbols, without their version (close@GLIBC_2.2.5).
have=$(nm -D --undefined-only "$lib" | awk '{print $NF}' | sed 's/@.*//' | sort -u)
bad=""
for sym in $have; do
	case "$sym" in
	_ITM_* | __gmon_start__ | __cxa_finalize) continue ;; # the toolchain's, weak
	esac
	grep -qx "$sym" "$list" || bad="$bad $sym"
done
if [ -n "$bad" ]; then
	echo "check-imports: $lib imports what $list does not list:$bad" >&2
	echo "check-imports: list each on purpose (the core imports only what the local lock needs)" >&2
	exit 1
fi
echo "check-imports: $lib imports only what $list lists"
