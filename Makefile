# SPDX-License-Identifier: MIT
# pidlock: build, test, install. Honours CC, CFLAGS, LDFLAGS, PREFIX, DESTDIR.
CC ?= cc
PREFIX ?= /usr/local
DESTDIR ?=
CFLAGS ?= -O2 -g
# Where the objects go: build/ for the native build; other C libraries and
# architectures get their own folder (make BUILD=build/musl CC=musl-gcc,
# docs/platforms.md), so no build ever clobbers another.
BUILD ?= build
# The version, from one place: the VERSION file. The command prints it, the
# package carries it, the man page header must say it (tests/package.bats).
VERSION := $(shell cat VERSION)
# Debian's name for the platform (x86_64-linux-gnu): the package puts the
# library in /usr/lib/$(MULTIARCH)/pidlock, where the command looks for it
# relative to itself (../lib/$(MULTIARCH)/pidlock).
MULTIARCH ?= $(shell $(CC) -print-multiarch 2>/dev/null)
# The folder the command names in its messages and tries last, after those
# relative to itself: make install's; the package sets its own.
PL_LIBDIR ?= $(PREFIX)/lib/pidlock
WARN := -std=c11 -Wall -Wextra -Werror -Wshadow -Wconversion
# _GNU_SOURCE for RTLD_NEXT, close_range and getauxval; hidden visibility so
# only the interposed functions are exported (checked by check-exports).
PL_CFLAGS := $(WARN) -D_GNU_SOURCE -fPIC -fvisibility=hidden -fno-strict-aliasing
UNAME_S := $(shell uname -s)

ifeq ($(UNAME_S),Darwin)
PLATFORM := darwin
LIBNAME := libpidlock.dylib
# Universal: x86_64 programs under Rosetta need their own slice.
ARCHS ?= -arch arm64 -arch x86_64
PL_CFLAGS += -D_DARWIN_C_SOURCE $(ARCHS)
SHLIB_FLAGS := -dynamiclib
PLUGIN_SUFFIX := .dylib
PLUGIN_FLAGS := -dynamiclib
LIBDL :=
PLUGIN_LIBS :=
else
PLATFORM := linux
LIBNAME := libpidlock.so
# -z nodelete: a program that dlopen()s the library and dlclose()s it must
# not unmap the exit path it registered (shim/lib/state.c, pl_arm_exit).
SHLIB_FLAGS := -shared -Wl,-z,defs -Wl,-z,nodelete -Wl,--version-script=shim/lib/exports.map
PLUGIN_SUFFIX := .so
# A plugin exports its one entry symbol (hidden visibility does the rest).
PLUGIN_FLAGS := -shared -Wl,-z,defs
# dlopen of a cluster plugin (backend.c); in libc since glibc 2.34.
LIBDL := -ldl
# A plugin's own: dlopen of its client library and the fencing watcher thread.
PLUGIN_LIBS := -ldl -pthread
endif

# The sources, by product (docs/DESIGN.md, "Products and folders"):
#   shim/core/    the lock core, linked into the library and the command
#   shim/lib/     the preloaded library only: constructor and wrappers
#   shim/cmd/     the pidlock command only
#   shim/plugins/ the cluster backends, one shared object each
# scripts/check-layout.sh checks that no folder includes what it must not.
# Linux's /proc parsers are a file of their own, shared with the fuzzers.
PLATFORM_SRC = shim/core/platform_$(PLATFORM).c $(if $(filter linux,$(PLATFORM)),shim/core/procparse.c)
CORE := shim/core/msg.c shim/core/token.c shim/core/pidfile.c shim/core/config.c shim/core/walk.c shim/core/lock.c \
	shim/core/filesession.c shim/core/modes.c shim/core/handover.c shim/core/holder.c shim/core/backend.c $(PLATFORM_SRC)
SHIM_SRC := $(CORE) shim/lib/state.c shim/lib/preload.c shim/lib/interpose.c
# Cluster backends (shim/core/backend.h): one shared object each, beside the
# library, opened with dlopen only for a PIDLOCK_FILE of their scheme. Each
# links what all plugins share (plugin.c) and msg.c for its messages, and
# nothing else of the core.
BACKENDS := postgresql mysql
PLUGINS := $(patsubst %,$(BUILD)/pidlock-%$(PLUGIN_SUFFIX),$(BACKENDS))
PLUGIN_COMMON := shim/plugins/plugin.c shim/plugins/uri.c shim/core/msg.c shim/core/modes.c
# Every plugin source (print-sources): pidlock-B is shim/plugins/B.c + PLUGIN_COMMON.
PLUGIN_SRC := $(patsubst %,shim/plugins/%.c,$(BACKENDS)) $(PLUGIN_COMMON)
# The command: the core, then its own files: the subcommands' names
# (main), options, a lock of either kind (target), run, status, stop and
# their rendering, the ELF reader (which library fits the program), pidlock
# check, finding COMMAND and its library, and whether the library can enter
# a program at all.
CMD_SRC := shim/cmd/main.c shim/cmd/opts.c shim/cmd/target.c shim/cmd/run.c shim/cmd/status.c \
	shim/cmd/stop.c shim/cmd/render.c shim/cmd/elf.c shim/cmd/macho.c shim/cmd/check.c \
	shim/cmd/script.c shim/cmd/find.c shim/cmd/reach.c shim/cmd/reach_$(PLATFORM).c
CLI_SRC := $(CORE) $(CMD_SRC)
HDR := $(wildcard shim/*/*.h)
HELPER_SRC := $(wildcard tests/helpers/*.c)
HELPERS := $(patsubst tests/helpers/%.c,$(BUILD)/helpers/%,$(HELPER_SRC))

all: $(BUILD)/$(LIBNAME) $(BUILD)/pidlock $(PLUGINS)

$(BUILD)/$(LIBNAME): $(SHIM_SRC) $(HDR) shim/lib/exports.map | $(BUILD)
	$(CC) $(PL_CFLAGS) $(CFLAGS) $(SHLIB_FLAGS) $(LDFLAGS) -o $@ $(SHIM_SRC) $(LIBDL)

$(BUILD)/pidlock-%$(PLUGIN_SUFFIX): shim/plugins/%.c $(PLUGIN_COMMON) $(HDR) | $(BUILD)
	$(CC) $(PL_CFLAGS) $(CFLAGS) $(PLUGIN_FLAGS) $(LDFLAGS) -o $@ shim/plugins/$*.c $(PLUGIN_COMMON) $(PLUGIN_LIBS)

# The command bakes in the version, the multiarch name and, as its last
# resort, PREFIX's library folder: a change of any of them must rebuild it,
# so they are written to a stamp file that changes only when they do.
$(BUILD)/config.stamp: FORCE | $(BUILD)
	@echo 'PL_LIBDIR=$(PL_LIBDIR) VERSION=$(VERSION) MULTIARCH=$(MULTIARCH)' | cmp -s - $@ || \
		echo 'PL_LIBDIR=$(PL_LIBDIR) VERSION=$(VERSION) MULTIARCH=$(MULTIARCH)' > $@

$(BUILD)/pidlock: $(CLI_SRC) $(HDR) $(BUILD)/config.stamp | $(BUILD)
	$(CC) $(WARN) -D_GNU_SOURCE $(CFLAGS) $(LDFLAGS) -DPL_VERSION='"$(VERSION)"' \
		-DPL_MULTIARCH='"$(MULTIARCH)"' -DPL_LIBDIR='"$(PL_LIBDIR)"' -o $@ $(CLI_SRC) $(LIBDL)

$(BUILD)/libempty.so: tests/empty.c | $(BUILD)
	$(CC) $(WARN) -fPIC -shared $(CFLAGS) $(LDFLAGS) -o $@ $<

$(BUILD)/helpers/%: tests/helpers/%.c tests/helpers/common.h | $(BUILD)
	@mkdir -p $(BUILD)/helpers
	$(CC) $(WARN) -D_GNU_SOURCE $(CFLAGS) $(LDFLAGS) -o $@ $< -lpthread

# A library a test program links (DT_NEEDED), and that program: the exit
# order of linked libraries (tests/interpose.bats). tests/helpers/lib/ is
# outside the one-file-one-program rule above. One line per command: the
# sanitizer builds (scripts/qa-lib.sh) append their flags to it.
$(BUILD)/helpers/libslowfini.so: tests/helpers/lib/slowfini.c | $(BUILD)
	@mkdir -p $(BUILD)/helpers
	$(CC) $(WARN) -D_GNU_SOURCE -fPIC -shared $(CFLAGS) $(LDFLAGS) -o $@ $<

$(BUILD)/helpers/slowexit: tests/helpers/lib/slowexit.c $(BUILD)/helpers/libslowfini.so
	$(CC) $(WARN) -D_GNU_SOURCE $(CFLAGS) $(LDFLAGS) -Wl,-rpath,'$$ORIGIN' -L$(BUILD)/helpers -o $@ $< -lslowfini

helpers: $(HELPERS) $(BUILD)/libempty.so $(BUILD)/helpers/slowexit

$(BUILD):
	mkdir -p $(BUILD)

# The source lists, for scripts that build by other means (macos-check.sh:
# make -s print-sources PLATFORM=darwin). They live here only.
print-sources:
	@echo 'LIB_SRC=$(SHIM_SRC)'
	@echo 'CLI_SRC=$(CLI_SRC)'
	@echo 'PLUGIN_SRC=$(PLUGIN_SRC)'
	@echo 'BACKENDS=$(BACKENDS)'
	@echo 'PLUGIN_COMMON=$(PLUGIN_COMMON)'

test: all helpers
	sh scripts/test-deps.sh
	bats --print-output-on-failure tests/

demo: all
	sh scripts/demo.sh

check-exports: $(BUILD)/$(LIBNAME) $(PLUGINS)
	sh scripts/check-exports.sh $(BUILD)/$(LIBNAME) $(PLUGINS)

# The core library's dynamic imports, against scripts/imports.txt: a new one
# must be listed there on purpose (each costs every process a lookup).
check-imports: $(BUILD)/$(LIBNAME)
	sh scripts/check-imports.sh $(BUILD)/$(LIBNAME) scripts/imports.txt

# Quality gates (docs/HACKING.md). Each script installs its own Debian packages when
# run as root, builds what it needs under build/, and runs unattended.
asan:           # the whole suite on an ASan+UBSan build, zero reports
	sh scripts/asan.sh

coverage:       # the whole suite on a gcc --coverage build; shim/ line coverage
	sh scripts/coverage.sh

coverage-asan:  # both of the above in one run of the suite (what CI runs)
	sh scripts/coverage.sh --asan

memcheck:       # valgrind: acquire, conflict, wait, replace, fork, exec, the command
	bash scripts/memcheck.sh

lint:           # cppcheck, clang-tidy (.clang-tidy), shellcheck
	sh scripts/lint.sh

fuzz:           # every libFuzzer harness in fuzz/, FUZZ_SECONDS (10) each
	sh scripts/fuzz.sh

# Benchmarks (docs/HACKING.md): the table in bench/RESULTS.md and the README.
bench: all helpers
	sh bench/run.sh

bench-quick: all helpers  # every part with tiny counts: checks the script works
	sh bench/run.sh --quick

install: all
	install -d $(DESTDIR)$(PREFIX)/lib/pidlock $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1
	# Copy, then rename: a program started during an upgrade must never load
	# a half-written library (the dynamic linker would skip it: no lock).
	install -m 0644 $(BUILD)/$(LIBNAME) $(DESTDIR)$(PREFIX)/lib/pidlock/.$(LIBNAME).new
	mv -f $(DESTDIR)$(PREFIX)/lib/pidlock/.$(LIBNAME).new $(DESTDIR)$(PREFIX)/lib/pidlock/$(LIBNAME)
	# The cluster backends beside it, where the library looks for them.
	for p in $(PLUGINS); do \
		b=$$(basename $$p); \
		install -m 0644 $$p $(DESTDIR)$(PREFIX)/lib/pidlock/.$$b.new && \
		mv -f $(DESTDIR)$(PREFIX)/lib/pidlock/.$$b.new $(DESTDIR)$(PREFIX)/lib/pidlock/$$b || exit 1; \
	done
	install -m 0755 $(BUILD)/pidlock $(DESTDIR)$(PREFIX)/bin/pidlock
	install -m 0644 docs/pidlock.1 $(DESTDIR)$(PREFIX)/share/man/man1/pidlock.1
	# Tab completion where bash-completion, zsh and fish look under PREFIX.
	install -d $(DESTDIR)$(PREFIX)/share/bash-completion/completions $(DESTDIR)$(PREFIX)/share/zsh/site-functions $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d
	install -m 0644 completions/pidlock.bash $(DESTDIR)$(PREFIX)/share/bash-completion/completions/pidlock
	install -m 0644 completions/_pidlock $(DESTDIR)$(PREFIX)/share/zsh/site-functions/_pidlock
	install -m 0644 completions/pidlock.fish $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d/pidlock.fish

# The Debian package pidlock_VERSION_ARCH.deb, with dpkg-deb (the script
# says why not debhelper): apt-get install ./pidlock_*.deb.
deb:
	sh scripts/mkdeb.sh

# The release tarball pidlock-VERSION.tar.gz: exactly the tracked files and
# a MANIFEST of them, the same bytes every time (scripts/dist.sh says how).
# make deb, make install and make test work from it unpacked, without git.
dist:
	sh scripts/dist.sh

clean:
	rm -rf build

FORCE:

.PHONY: FORCE deb dist all helpers test demo print-sources check-exports check-imports install clean asan coverage coverage-asan memcheck lint fuzz bench bench-quick

# Cross-compiles the library and the command for macOS (arm64, x86_64) with Zig.
macos-check:
	sh scripts/macos-check.sh --strict

.PHONY: macos-check

# Other platforms (docs/platforms.md), each built in a
# folder of its own so that none clobbers the native build/.
musl:
	$(MAKE) BUILD=build/musl CC=musl-gcc all helpers

arm64:
	$(MAKE) BUILD=build/arm64 CC=aarch64-linux-gnu-gcc all helpers

# Installs the library of the build in BUILD beside the native one, in the
# folder where `pidlock run` looks for it for programs of that platform:
#   make musl && make install-platform-lib BUILD=build/musl LIBSUB=musl
# LIBSUB: musl, glibc, arm64, arm64-musl... (docs/platforms.md). No rule
# builds the library here: that needs the platform's CC, not this one.
install-platform-lib:
	@test -n "$(LIBSUB)" || { echo "install-platform-lib: set LIBSUB (musl, arm64...)" >&2; exit 1; }
	@test -f $(BUILD)/$(LIBNAME) || { echo "install-platform-lib: no $(BUILD)/$(LIBNAME): build it first" >&2; exit 1; }
	install -d $(DESTDIR)$(PREFIX)/lib/pidlock/$(LIBSUB)
	install -m 0644 $(BUILD)/$(LIBNAME) $(DESTDIR)$(PREFIX)/lib/pidlock/$(LIBSUB)/.$(LIBNAME).new
	mv -f $(DESTDIR)$(PREFIX)/lib/pidlock/$(LIBSUB)/.$(LIBNAME).new $(DESTDIR)$(PREFIX)/lib/pidlock/$(LIBSUB)/$(LIBNAME)

.PHONY: musl arm64 install-platform-lib
