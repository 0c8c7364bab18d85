#!/bin/sh
# SPDX-License-Identifier: MIT
# Installs what the test suite needs on a fresh Debian machine (as root), and
# says clearly what is missing otherwise. Idempotent: a no-op when all is there.
set -eu

need=""
for lib in bats-support bats-assert bats-file; do
	[ -d "/usr/lib/bats/$lib" ] || need="$need $lib"
done
for tool in bats:bats python3:python3 perl:perl node:nodejs dash:dash strace:strace \
	entr:entr start-stop-daemon:dpkg pkill:procps flock:util-linux gcc:gcc setpriv:util-linux; do
	command -v "${tool%%:*}" >/dev/null 2>&1 || need="$need ${tool#*:}"
done
# A program that sandboxes itself with libseccomp (tests/interpose.bats).
ldconfig -p 2>/dev/null | grep -q 'libseccomp\.so\.2 ' || need="$need libseccomp2"
[ -f /usr/lib/x86_64-linux-gnu/libc.a ] || [ -f /usr/lib/aarch64-linux-gnu/libc.a ] ||
	need="$need libc6-dev"
# Cluster mode (tests/cluster.bats): a throw-away server, psql, libpq, ip netns.
command -v pg_ctl >/dev/null 2>&1 || ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 ||
	need="$need postgresql"
command -v psql >/dev/null 2>&1 || need="$need postgresql-client"
ldconfig -p 2>/dev/null | grep -q 'libpq\.so\.5 ' || need="$need libpq5"
# The MySQL backend (tests/cluster-mysql.bats): a throw-away MariaDB server,
# the mariadb client, and libmariadb (which the plugin loads).
PATH="$PATH:/usr/sbin" command -v mariadbd >/dev/null 2>&1 || need="$need mariadb-server"
command -v mariadb >/dev/null 2>&1 || need="$need mariadb-client"
ldconfig -p 2>/dev/null | grep -q 'libmariadb\.so\.3 ' || need="$need libmariadb3"
command -v ip >/dev/null 2>&1 || need="$need iproute2"
# The other platforms (tests/platforms.bats, docs/platforms.md): musl, and arm64
# cross-built and run under qemu-user with Debian's arm64 C library.
command -v musl-gcc >/dev/null 2>&1 || need="$need musl-tools"
command -v aarch64-linux-gnu-gcc >/dev/null 2>&1 || need="$need gcc-aarch64-linux-gnu"
[ -e /usr/aarch64-linux-gnu/lib/ld-linux-aarch64.so.1 ] && [ -e /usr/aarch64-linux-gnu/include/stdio.h ] ||
	need="$need libc6-dev-arm64-cross"
command -v qemu-aarch64 >/dev/null 2>&1 || need="$need qemu-user"
# Real servers and launchers (tests/servers.bats); nginx is in /usr/sbin.
for tool in nginx:nginx-light memcached:memcached gunicorn:gunicorn supervisord:supervisor \
	npm:npm ss:iproute2 dnsmasq:dnsmasq apache2ctl:apache2; do
	PATH="$PATH:/usr/sbin" command -v "${tool%%:*}" >/dev/null 2>&1 || need="$need ${tool#*:}"
done
# The Debian package and the completions (tests/package.bats): make deb
# needs dpkg-dev (dpkg-shlibdeps, dpkg-buildflags), then lintian; the zsh
# and fish completions are checked by zsh and fish themselves.
command -v dpkg-shlibdeps >/dev/null 2>&1 || need="$need dpkg-dev"
command -v lintian >/dev/null 2>&1 || need="$need lintian"
command -v zsh >/dev/null 2>&1 || need="$need zsh"
command -v fish >/dev/null 2>&1 || need="$need fish"

[ -n "$need" ] || exit 0
if [ "$(id -u)" != 0 ]; then
	echo "test-deps: missing:$need; install them (apt-get install$need) or run as root" >&2
	exit 1
fi
echo "test-deps: installing$need"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $need >/dev/null
