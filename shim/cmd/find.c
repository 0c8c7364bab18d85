/* SPDX-License-Identifier: MIT */
/* What `pidlock run` and `pidlock check` both need to know before exec:
 * where COMMAND is (as execvp finds it), and which pidlock library its
 * loader can preload. Shared by run.c and check.c, so neither calls into
 * the other.
 */
#include "cmd.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Opens a program (COMMAND, or a #! line's interpreter) to read its first
 * bytes, as exec would run it: only a regular file. A FIFO's open blocks
 * until a writer comes (forever: exec itself refuses a FIFO at once with
 * EACCES), and a device's open runs its driver. So: stat first, which
 * opens nothing; then an open that cannot block (O_NONBLOCK) and cannot
 * take a terminal (O_NOCTTY), and fstat, in case the name changed in
 * between. The descriptor, or -1 with exec's errno (EACCES: not a regular
 * file). */
int pl_open_program(const char *path)
{
	struct stat st;
	if (stat(path, &st) < 0)
		return -1;
	if (!S_ISREG(st.st_mode)) {
		errno = EACCES;
		return -1;
	}
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		errno = EACCES;
		return -1;
	}
	return fd;
}

/* Finds COMMAND as execvp would, so that it can be checked before exec. */
int pl_find_command(const char *cmd, char *out, size_t n)
{
	if (strchr(cmd, '/')) {
		if ((size_t)snprintf(out, n, "%s", cmd) >= n)
			return ENAMETOOLONG;
		return access(out, F_OK) == 0 ? 0 : errno;
	}
	const char *path = getenv("PATH");
	if (!path)
		path = "/usr/local/bin:/usr/bin:/bin";
	int err = ENOENT;
	while (*path) {
		const char *end = strchr(path, ':');
		size_t len = end ? (size_t)(end - path) : strlen(path);
		if ((size_t)snprintf(out, n, "%.*s%s%s", (int)len, path, len ? "/" : "", cmd) < n) {
			struct stat st;
			if (stat(out, &st) == 0 && S_ISREG(st.st_mode)) {
				if (access(out, X_OK) == 0)
					return 0;
				err = EACCES;
			}
		}
		path += len + (end ? 1 : 0);
	}
	return err;
}


/* The library for PROG: next to this command (build tree), or installed
 * beside it (PREFIX/bin and PREFIX/lib/pidlock, or the Debian package's
 * /usr/bin and /usr/lib/MULTIARCH/pidlock), or, last, where `make install`
 * put it: the folders relative to the command come first, so a relocated
 * installation never loads a library from an old one. A dynamically linked program whose loader or machine is not this
 * command's needs the library built for it, from a folder of its own under
 * those (docs/platforms.md): musl/ for musl's loader (glibc/ for glibc's when
 * this command is musl's), the machine's name for another machine (arm64/,
 * arm64-musl/). A loader given a library it cannot use runs the program
 * without it (glibc) or crashes (musl), so with no such library the program
 * is refused. 0, or the exit status after a one-line message (none when
 * quiet: pidlock check says it in its own words). */
int pl_find_library(const char *name, const char *prog, char *out, size_t n, int quiet)
{
	char exe[PATH_MAX] = "", sub[64] = "";
	struct pl_elf self, target, lib;
	int check = plat_self_exe(exe, sizeof(exe)) && pl_elf_read(exe, &self) == 0 && self.is_elf &&
		    pl_elf_read(prog, &target) == 0 && target.is_elf && target.dynamic;
	if (check && !pl_elf_same_machine(&self, &target)) {
		const char *arch = pl_elf_arch(&target);
		snprintf(sub, sizeof(sub), "%s%s/", arch ? arch : "unknown",
			 pl_elf_is_musl(&target) ? "-musl" : "");
	} else if (check && pl_elf_is_musl(&target) != pl_elf_is_musl(&self)) {
		snprintf(sub, sizeof(sub), "%s/", pl_elf_is_musl(&target) ? "musl" : "glibc");
	}
	char *slash = strrchr(exe, '/');
	if (slash)
		*slash = '\0';
	const char *const fmt[] = {"%s/%s" PL_LIBNAME, "%s/../lib/pidlock/%s" PL_LIBNAME,
				   "%s/../lib/" PL_MULTIARCH "/pidlock/%s" PL_LIBNAME, "%s/%s" PL_LIBNAME};
	for (int i = 0; i < 4; i++) {
		const char *dir = i == 3 ? PL_LIBDIR : exe;
		if (!*dir || (size_t)snprintf(out, n, fmt[i], dir, sub) >= n || access(out, R_OK) != 0)
			continue;
		if (check && (pl_elf_read(out, &lib) != 0 || !pl_elf_same_machine(&lib, &target)))
			continue;
		char real[PATH_MAX];
		if (i < 3 && realpath(out, real)) {
			size_t len = strlen(real);
			if (len < n)
				memcpy(out, real, len + 1);
		}
		return 0;
	}
	if (quiet)
		return *sub ? 126 : PL_EX_OSERR;
	if (!*sub) {
		fprintf(stderr, "pidlock: cannot find %s next to this command or in %s\n", PL_LIBNAME,
			PL_LIBDIR);
		return PL_EX_OSERR;
	}
	fprintf(stderr,
		"pidlock: %s: its loader %s needs the pidlock library built for it, %s%s, which is "
		"not installed (next to this command or in %s); not running it unguarded\n",
		name, target.interp, sub, PL_LIBNAME, PL_LIBDIR);
	return 126;
}
