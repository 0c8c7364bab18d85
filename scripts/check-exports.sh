#!/bin/sh
# Fails if the library exports any symbol beyond the interposed functions,
# or a cluster plugin (the further arguments) anything but its entry point.
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
allowed="close dup2 dup3 close_range closefrom fcntl fcntl64 ioctl fork _Fork vfork clone syscall daemon setsid _exit _Exit execve execv execvp execvpe
execveat fexecve execl execlp execle"
bad=""
for sym in $(nm -D --defined-only "$lib" | awk '{print $3}' | sed 's/@.*//'); do
	case " $(echo "$allowed" | tr '\n' ' ') " in
	*" $sym "*) ;;
	*) bad="$bad $sym" ;;
	esac
done
if [ -n "$bad" ]; then
	echo "check-exports: $lib exports more than the interposed functions:$bad" >&2
	exit 1
fi
echo "check-exports: $lib exports only the interposed functions"
