#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Smoke test of the installed Debian package, against the installed paths
# only (never the build tree): .ci/run calls it after
# `apt-get install ./pidlock_*.deb`, and with --gone after `apt-get purge`.
#   bash scripts/deb-smoke.sh              the package works where it lies
#   bash scripts/deb-smoke.sh --gone LIST [PACKAGE]
#                                          nothing of LIST (dpkg -L pidlock,
#                                          taken before the purge) is left,
#                                          and dpkg knows no PACKAGE (pidlock)
set -euo pipefail

fail() {
	echo "deb-smoke: FAIL: $*" >&2
	exit 1
}

if [ "${1-}" = --gone ]; then
	[ -f "${2-}" ] || fail "usage: deb-smoke.sh --gone FILE-LIST [PACKAGE]"
	pkg=${3:-pidlock}
	status=$(dpkg-query -W -f '${db:Status-Status}' "$pkg" 2>/dev/null) || status=not-installed
	[ "$status" = not-installed ] || fail "dpkg still has $pkg: $status"
	left=0
	while IFS= read -r path; do
		[ "$path" != /. ] || continue
		[ -e "$path" ] || [ -L "$path" ] || continue
		# A folder other packages own too (/usr/share/man/man1) stays.
		if [ -d "$path" ] && [ ! -L "$path" ] && dpkg -S "$path" >/dev/null 2>&1; then
			continue
		fi
		echo "deb-smoke: left after purge: $path" >&2
		left=$((left + 1))
	done <"$2"
	[ "$left" = 0 ] || fail "$left paths of the package are left after the purge"
	echo "deb-smoke: purge left nothing of the package's $(wc -l <"$2") paths"
	exit 0
fi

multiarch=$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || gcc -print-multiarch)
PATH=/usr/sbin:/usr/bin:/sbin:/bin # the installed command, not one in /usr/local
export PATH
[ "$(command -v pidlock)" = /usr/bin/pidlock ] || fail "pidlock is not /usr/bin/pidlock"
version=$(dpkg-query -W -f '${Version}' pidlock)
[ "$(pidlock --version)" = "pidlock $version" ] ||
	fail "pidlock --version says '$(pidlock --version)', the package $version"
lib=/usr/lib/$multiarch/pidlock/libpidlock.so
[ -f "$lib" ] || fail "$lib is missing"
# The cluster backends beside it, where the library and the command look:
# every one of the Makefile's list (the tree this script is in).
backends=$(make -s --no-print-directory -C "$(dirname "$0")/.." print-sources | sed -n 's/^BACKENDS=//p')
[ -n "$backends" ] || fail "make print-sources gave no BACKENDS"
for b in $backends; do
	[ -f "${lib%/*}/pidlock-$b.so" ] || fail "${lib%/*}/pidlock-$b.so is missing"
done

# The library the command picks is the installed one.
out=$(pidlock check -- sleep) || fail "pidlock check -- sleep: status $?: $out"
case $out in
*"will preload $lib,"*) ;;
*) fail "pidlock check does not name $lib: $out" ;;
esac

# A second instance is refused with 75, status sees the first, stop ends it.
XDG_RUNTIME_DIR=$(mktemp -d /tmp/deb-smoke.XXXXXX)
export XDG_RUNTIME_DIR
first=""
cleanup() {
	[ -z "$first" ] || kill -KILL "$first" 2>/dev/null || true
	rm -rf "$XDG_RUNTIME_DIR"
}
trap cleanup EXIT
pidlock run -f smoke -- sleep 60 &
first=$!
for _ in $(seq 1 100); do # at most 10 s
	[ -s "$XDG_RUNTIME_DIR/smoke.pid" ] && break
	sleep 0.1
done
[ "$(cat "$XDG_RUNTIME_DIR/smoke.pid" 2>/dev/null)" = "$first" ] ||
	fail "the PID file does not name the first instance ($first)"
rc=0
pidlock run -q -f smoke -- sleep 1 || rc=$?
[ "$rc" = 75 ] || fail "a second instance exited $rc, not 75"
pidlock status smoke || fail "status of the running instance: $?"
pidlock stop -t 5 smoke || fail "stop: $?"
wait "$first" 2>/dev/null || true
first=""
rc=0
pidlock status -q smoke || rc=$?
[ "$rc" = 3 ] || fail "status after stop: $rc, not 3"

# The man page and the completions where their tools look.
page=$(man -w pidlock) || fail "man -w pidlock: no page"
[ "$page" = /usr/share/man/man1/pidlock.1.gz ] || fail "man -w pidlock: $page"
man pidlock 2>/dev/null | grep -q "pidlock check" || fail "man pidlock does not show the page"
[ -f /usr/share/bash-completion/completions/pidlock ] || fail "no bash completion"
# shellcheck source=/dev/null
. /usr/share/bash-completion/completions/pidlock
complete -p pidlock | grep -q _pidlock || fail "the bash completion does not register _pidlock"
# zsh's compinit and fish find theirs where they look, where those shells are.
if command -v zsh >/dev/null 2>&1; then
	comp=$(HOME=$XDG_RUNTIME_DIR zsh -fc 'autoload -Uz compinit; compinit -u -d "$HOME/zcompdump"
		print -r -- ${_comps[pidlock]-}') || fail "zsh compinit failed"
	[ "$comp" = _pidlock ] || fail "zsh's compinit does not find _pidlock ('$comp')"
else
	echo "deb-smoke: no zsh here: its completion is not tried" >&2
fi
if command -v fish >/dev/null 2>&1; then
	HOME=$XDG_RUNTIME_DIR fish -c 'complete -C "pidlock sta"' | grep -q '^status' ||
		fail "fish does not complete pidlock from its vendor completions"
else
	echo "deb-smoke: no fish here: its completion is not tried" >&2
fi
# The README and the documents it links to.
for d in README recipes cluster platforms DESIGN; do
	[ -f "/usr/share/doc/pidlock/$d.md.gz" ] || fail "/usr/share/doc/pidlock/$d.md.gz is missing"
done
echo "deb-smoke: pidlock $version works from /usr/bin and $lib: refusal, status, stop, check, man page, completions, documents"
