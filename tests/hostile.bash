# shellcheck shell=bash
# SPDX-License-Identifier: MIT
# Variables set here (HOSTILE, HOSTILE_UID, HOSTILE_GID, RACER) are read by the .bats files.
# shellcheck disable=SC2034
# A hostile second user for every test that handles paths (docs/SECURITY.md): so
# that the next path feature is born attacked. Load after test_helper:
#
#   load test_helper
#   load hostile
#
#   hostile_user                  makes sure the user exists (once per machine:
#                                 an unprivileged account with no home and no
#                                 shell, kept for later runs); sets HOSTILE,
#                                 HOSTILE_UID, HOSTILE_GID
#   as_hostile CMD...             runs CMD as that user, from /
#   hostile_race SECS A B         that user exchanges the names A and B
#                                 (renameat2 RENAME_EXCHANGE: a directory and
#                                 a symbolic link alike) in a loop for at most
#                                 SECS seconds, in the background; returns
#                                 once the first exchange is done. RACER is
#                                 its PID, tracked (teardown ends it), and it
#                                 stops by itself after SECS anyway.
#   race_as USER SECS A B         the same as any user (root: the caller
#                                 itself), for the tests that show a rename
#                                 by someone with the right to make it
#                                 cannot steer a walk either
#   stop_race                     ends the racer now (by its PID) and waits
#
# Never by name: the racer is ended by its PID only, and only this test's.

SWAPPER="$HELPERS/swapper"
HOSTILE_NAME=plhostile

hostile_user() {
	local i
	[ "$(id -u)" -eq 0 ] || skip "needs root to make the hostile user"
	for ((i = 0; i < 25; i++)); do
		id -u "$HOSTILE_NAME" >/dev/null 2>&1 && break
		# Another test run may be making it at the same moment, or hold
		# /etc/passwd's lock: look again.
		useradd -M -U -d /nonexistent -s /usr/sbin/nologin "$HOSTILE_NAME" 2>"$T/useradd.err" && break
		sleep 0.2
	done
	id -u "$HOSTILE_NAME" >/dev/null 2>&1 || fail "cannot make the hostile user: $(cat "$T/useradd.err")"
	HOSTILE=$HOSTILE_NAME
	HOSTILE_UID=$(id -u "$HOSTILE_NAME")
	HOSTILE_GID=$(id -g "$HOSTILE_NAME")
	[ "$HOSTILE_UID" -ne 0 ] || fail "the hostile user $HOSTILE_NAME has UID 0"
}

as_hostile() {
	[ -n "${HOSTILE_UID:-}" ] || hostile_user
	(
		cd / || exit 1
		exec setpriv --reuid="$HOSTILE_UID" --regid="$HOSTILE_GID" --clear-groups "$@"
	)
}

race_as() {
	local user=$1 secs=$2 a=$3 b=$4
	local -a as=()
	[ -x "$SWAPPER" ] || fail "$SWAPPER is missing: run make helpers"
	if [ "$user" != root ]; then
		as=(setpriv --reuid="$(id -u "$user")" --regid="$(id -g "$user")" --clear-groups)
	fi
	# The racer marks its first exchange in a folder it may write.
	mkdir -p "$T/race"
	chmod 0777 "$T/race"
	rm -f "$T/race/ready"
	(
		cd / || exit 1
		exec 3>&-
		exec "${as[@]}" "$SWAPPER" "$secs" "$a" "$b" "$T/race/ready"
	) </dev/null >"$T/race.out" 2>&1 &
	RACER=$!
	track_pid "$RACER"
	wait_until "[ -e '$T/race/ready' ] || ! proc_alive $RACER" 10
	[ -e "$T/race/ready" ] || fail "the racer did not start: $(cat "$T/race.out")"
}

hostile_race() {
	[ -n "${HOSTILE_UID:-}" ] || hostile_user
	race_as "$HOSTILE_NAME" "$@"
}

stop_race() {
	[ -n "${RACER:-}" ] || return 0
	kill -TERM "$RACER" 2>/dev/null || true
	wait "$RACER" 2>/dev/null || true
	RACER=""
}
