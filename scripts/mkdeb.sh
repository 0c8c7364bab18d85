#!/bin/sh
# SPDX-License-Identifier: MIT
# Builds pidlock_VERSION_ARCH.deb from this tree (make deb): the library in
# /usr/lib/MULTIARCH/pidlock (and musl/ when musl-gcc is there), the command
# in /usr/bin, the man page, the completions, the docs and the copyright file.
#
# Why dpkg-deb and not debian/ with debhelper: the package needs no build
# dependency beyond dpkg-dev (dpkg-deb, dpkg-shlibdeps, dpkg-buildflags), and
# it is made from the tree exactly as it stands: one script, run by make, with
# the same Makefile that builds everything else, no second build description
# to keep in step, and the same bytes for the same commit (timestamps come
# from the commit, SOURCE_DATE_EPOCH, and owners are root:root).
#
# Git is never needed: the metadata (maintainer, description, relations) is
# packaging/control, the version is VERSION, the licence LICENSE, and the
# dates come from scripts/source-tree.sh (the commit's time in a checkout,
# the files' in an unpacked tarball from make dist).
#
# Usage: sh scripts/mkdeb.sh [OUTDIR]   (default: the top of the tree)
set -eu
cd "$(dirname "$0")/.."

die() {
	echo "mkdeb: $*" >&2
	exit 1
}
for tool in dpkg-deb dpkg-shlibdeps dpkg-buildflags dpkg-architecture gzip; do
	command -v "$tool" >/dev/null 2>&1 || die "$tool is missing: apt-get install dpkg-dev"
done

out=${1:-.}
version=$(cat VERSION)
arch=$(dpkg-architecture -qDEB_HOST_ARCH)
multiarch=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
# The man page must say the same version as the command and the package
# (its .TH line: the first line but for comments).
grep -m 1 '^\.TH ' docs/pidlock.1 | grep -q "\"pidlock $version\"" ||
	die "docs/pidlock.1: its .TH line does not say \"pidlock $version\" (VERSION)"
# Reproducible: every date from the source, not from the clock.
SOURCE_DATE_EPOCH=$(sh scripts/source-tree.sh date)
export SOURCE_DATE_EPOCH
# The maintainer, for the changelog, from the one metadata file. (Not from
# DEBFULLNAME or DEBEMAIL: the package is the project's, whoever builds it.)
maintainer=$(sed -n 's/^Maintainer: *//p' packaging/control)
[ -n "$maintainer" ] || die "packaging/control has no Maintainer: line"

# Debian's hardening flags (lintian checks them); the Makefile has no
# CPPFLAGS, so those go with CFLAGS.
flags="$(dpkg-buildflags --get CFLAGS) $(dpkg-buildflags --get CPPFLAGS)"
ldflags="$(dpkg-buildflags --get LDFLAGS) -Wl,-z,now"
build=build/deb
# The cluster backends: the Makefile's list, so that a new one is packaged
# without a word here.
backends=$(make -s --no-print-directory print-sources | sed -n 's/^BACKENDS=//p')
[ -n "$backends" ] || die "make print-sources gave no BACKENDS"
plugins=""
for b in $backends; do plugins="$plugins pidlock-$b.so"; done
# shellcheck disable=SC2046 # one word per plugin
make --no-print-directory BUILD="$build" PREFIX=/usr MULTIARCH="$multiarch" \
	PL_LIBDIR="/usr/lib/$multiarch/pidlock" \
	CFLAGS="$flags" LDFLAGS="$ldflags" "$build/libpidlock.so" "$build/pidlock" \
	$(for p in $plugins; do echo "$build/$p"; done)
musl=""
if command -v musl-gcc >/dev/null 2>&1; then
	make --no-print-directory BUILD=build/deb-musl CC=musl-gcc CFLAGS="-O2 -g" \
		LDFLAGS="-Wl,-z,relro -Wl,-z,now" build/deb-musl/libpidlock.so
	# No cluster plugin beside it: Debian's libpq and libmariadb are linked
	# against glibc and cannot be loaded into a musl program.
	musl=build/deb-musl/libpidlock.so
else
	echo "mkdeb: no musl-gcc: the package has no musl/ library" >&2
fi

root=build/deb-root
rm -rf "$root"
lib=$root/usr/lib/$multiarch/pidlock
doc=$root/usr/share/doc/pidlock
install -d "$root/DEBIAN" "$root/usr/bin" "$lib" "$doc" "$root/usr/share/man/man1" \
	"$root/usr/share/bash-completion/completions" "$root/usr/share/zsh/vendor-completions" \
	"$root/usr/share/fish/vendor_completions.d"
install -m 0755 "$build/pidlock" "$root/usr/bin/pidlock"
install -m 0644 "$build/libpidlock.so" "$lib/libpidlock.so"
# The cluster backends beside the library, where the library looks for them
# (shim/core/backend.c); libpq and libmariadb are opened by the plugins, so no
# Depends (Suggests, in packaging/control).
for p in $plugins; do
	install -m 0644 "$build/$p" "$lib/$p"
done
if [ -n "$musl" ]; then
	install -d "$lib/musl"
	install -m 0644 "$musl" "$lib/musl/libpidlock.so"
fi
# Debug symbols are not shipped (no -dbgsym package is made).
# shellcheck disable=SC2046 # one word per plugin
strip --strip-unneeded --remove-section=.comment --remove-section=.note "$root/usr/bin/pidlock" \
	"$lib/libpidlock.so" $(for p in $plugins; do echo "$lib/$p"; done) ${musl:+"$lib/musl/libpidlock.so"}
gzip -9n <docs/pidlock.1 >"$root/usr/share/man/man1/pidlock.1.gz"
install -m 0644 completions/pidlock.bash "$root/usr/share/bash-completion/completions/pidlock"
install -m 0644 completions/_pidlock "$root/usr/share/zsh/vendor-completions/_pidlock"
install -m 0644 completions/pidlock.fish "$root/usr/share/fish/vendor_completions.d/pidlock.fish"
# The copyright file (DEP-5): packaging/copyright with the holders and the
# text of LICENSE, the one copy of the licence in the tree.
copyright=$(sed -n 's/^Copyright (c) *//p' LICENSE)
[ -n "$copyright" ] || die "LICENSE has no 'Copyright (c)' line"
awk -v holders="$copyright" '
	FNR == NR { if (seen || /^Permission/) { seen = 1; text = text (/^$/ ? " ." : " " $0) "\n" } next }
	/^#/ { next }
	/^@LICENSE@$/ { printf "%s", text; next }
	{ sub(/@COPYRIGHT@/, holders); print }' LICENSE packaging/copyright >"$doc/copyright"
if [ -n "$musl" ]; then
	install -d "$root/usr/share/lintian/overrides"
	install -m 0644 packaging/lintian-overrides "$root/usr/share/lintian/overrides/pidlock"
fi
# The README and every document it links to (docs/*.md, the benchmark
# report), side by side and compressed as Debian ships documents. Their
# links are rewritten to what the package installs: docs/recipes.md and
# ../bench/RESULTS.md to recipes.md.gz and RESULTS.md.gz, the man page's
# source to the installed page, LICENSE to the copyright file
# (tests/package.bats checks that every link then resolves).
docs=$(grep -o '](\(docs\|bench\)/[A-Za-z0-9_.-]*\.md[)#]' README.md | sed 's/^](//; s/.$//' |
	LC_ALL=C sort -u)
rewrite="s#](docs/pidlock\.1)#](/usr/share/man/man1/pidlock.1.gz)#g; s#](LICENSE)#](copyright)#g"
for f in $docs; do
	b=$(basename "$f" .md)
	[ ! -e "$doc/$b.md.gz" ] || die "two documents named $b.md: $f and another"
	: >"$doc/$b.md.gz"
	rewrite="$rewrite; s#](\(\.\./\)*\(docs/\|bench/\)\{0,1\}$b\.md\([)\#]\)#]($b.md.gz\3#g"
done
for f in README.md $docs; do
	sed "$rewrite" "$f" | gzip -9n >"$doc/$(basename "$f").gz"
done
# A native package (the version has no Debian revision): changelog.gz, one
# entry for this version, dated by the commit.
{
	printf 'pidlock (%s) unstable; urgency=medium\n\n' "$version"
	printf '  * pidlock %s, built from the source tree with make deb.\n\n' "$version"
	printf ' -- %s  %s\n' "$maintainer" "$(date -u -R -d "@$SOURCE_DATE_EPOCH")"
} | gzip -9n >"$doc/changelog.gz"
chmod 0644 "$doc"/*

# Depends from the libraries the command and the glibc library link.
shl=build/deb-shlibs
rm -rf "$shl"
mkdir -p "$shl/debian"
printf 'Source: pidlock\n\nPackage: pidlock\nArchitecture: any\n' >"$shl/debian/control"
# shellcheck disable=SC2046 # one word per plugin
depends=$(cd "$shl" && dpkg-shlibdeps -O "../../$root/usr/bin/pidlock" "../../$lib/libpidlock.so" \
	$(for p in $plugins; do echo "../../$lib/$p"; done) |
	sed -n 's/^shlibs:Depends=//p')
[ -n "$depends" ] || die "dpkg-shlibdeps found no dependencies"
size=$(du -sk --exclude=DEBIAN "$root" | cut -f1)
sed -e '/^#/d' -e "s|@VERSION@|$version|" -e "s|@ARCH@|$arch|" \
	-e "s|@SIZE@|$size|" -e "s|@DEPENDS@|$depends|" packaging/control >"$root/DEBIAN/control"
(cd "$root" && find usr -type f | LC_ALL=C sort | xargs md5sum) >"$root/DEBIAN/md5sums"
chmod 0644 "$root/DEBIAN/control" "$root/DEBIAN/md5sums"
find "$root" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +

deb=$out/pidlock_${version}_$arch.deb
# One package in OUTDIR, so that apt-get install ./pidlock_*.deb means this one.
rm -f "$out"/pidlock_*_"$arch".deb
dpkg-deb --root-owner-group -Zxz --build "$root" "$deb" >/dev/null
echo "mkdeb: $deb"
