#!/bin/sh
# SPDX-License-Identifier: MIT
# Fails if the library exports any symbol beyond the interposed functions,
# which are listed once: the global names of shim/lib/exports.map (the version
# script the library is linked with); or a cluster plugin (the further
# arguments) anything but its entry point.
#   sh scripts/check-exports.sh LIBRARY [PLUGIN]...
set -eu
lib="$1"
shift
for plugin in "$@"; do
	extra=$(nm -D --defined-only "$plugin" | awk '{print $3}' | sed 's/@.*//' | grep -vx pidlock_backend_v1 || true)
	if [ -n "$extra" ]; then
		echo "check-exports: $plugin exports more than pidlock_backend_v1: $(echo "$extra" | tr "\n" " ")" >&2
		exit 1
	fi
	echo "check-exports: $plugin exports only pidlock_backend_v1"
done
map="$(dirname "$0")/../shim/lib/exports.map"
allowed=$(sed -e 's,/\*.*\*/,,g' "$map" | awk '/global:/ { on = 1; next } /local:/ { on = 0 } on' |
	tr ';' '\n' | tr -d ' \t' | grep -v '^$' | tr '\n' ' ')
[ -n "$allowed" ] || { echo "check-exports: no global names found in $map" >&2; exit 1; }
bad=""
for sym in $(nm -D --defined-only "$lib" | awk '{print $3}' | sed 's/@.*//'); do
	case " $allowed " in
	*" $sym "*) ;;
	*) bad="$bad $sym" ;;
	esac
done
if [ -n "$bad" ]; then
	echo "check-exports: $lib exports more than the interposed functions:$bad" >&2
	exit 1
fi
echo "check-exports: $lib exports only the interposed functions (shim/lib/exports.map)"
