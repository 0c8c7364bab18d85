#!/bin/sh
# SPDX-License-Identifier: MIT
# The walls between the products inside shim/ (docs/DESIGN.md, "Products and
# folders"), checked on every #include "..." of every source and header:
#
#   shim/core/     includes only shim/core/ headers
#   shim/lib/      shim/core/ and shim/lib/
#   shim/cmd/      shim/core/ and shim/cmd/
#   shim/plugins/  the core's public headers (pidlock.h, backend.h, sys.h)
#                  and shim/plugins/
#
# so that the library never carries the command's or a backend's code, and a
# plugin never reaches into the core beyond its interface. No file may say
# PL_COMMAND any more: which binary a file goes into is its folder.
#
#   sh scripts/check-layout.sh     exit 0 when every include is allowed
set -eu
cd "$(dirname "$0")/.."

status=0
for f in shim/*/*.c shim/*/*.h; do
	dir=${f%/*}
	folder=${dir#shim/}
	case $folder in
	core) allowed="core/*" ;;
	lib) allowed="core/* lib/*" ;;
	cmd) allowed="core/* cmd/*" ;;
	plugins) allowed="core/pidlock.h core/backend.h core/sys.h plugins/*" ;;
	*)
		echo "check-layout: $f: shim/$folder/ is not one of core, lib, cmd, plugins" >&2
		status=1
		continue
		;;
	esac
	incs=$(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$f")
	for inc in $incs; do
		# As the compiler finds it: relative to the including file.
		case $inc in
		../*) target=${inc#../} ;;
		*) target=$folder/$inc ;;
		esac
		ok=0
		for pattern in $allowed; do
			# shellcheck disable=SC2254 # the patterns are meant to match
			case $target in
			$pattern) ok=1 ;;
			esac
		done
		if [ "$ok" -eq 0 ]; then
			echo "check-layout: $f includes \"$inc\": shim/$folder/ may include only $allowed" >&2
			status=1
		elif [ ! -f "shim/$target" ]; then
			echo "check-layout: $f includes \"$inc\", which does not exist" >&2
			status=1
		fi
	done
done
if grep -n 'PL_COMMAND' shim/*/*.c shim/*/*.h >&2; then
	echo "check-layout: PL_COMMAND is gone: a file's folder says which binary it goes into" >&2
	status=1
fi
[ "$status" -eq 0 ] && echo "check-layout: every include in shim/ stays inside its walls"
exit "$status"
