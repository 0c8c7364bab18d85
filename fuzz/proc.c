/* libFuzzer harness: the /proc parsers of platform_linux.c (/proc/PID/stat
 * and /proc/stat for a start time, /proc/locks for "is it locked", fdinfo
 * for "does this descriptor hold the flock", /proc/PID/cmdline for messages).
 *
 * Those parsers are static or read fixed paths, so this file includes
 * platform_linux.c itself and redirects open/openat/fstatat to a fake /proc:
 * every file the code opens gets the fuzzer's bytes (from a memfd), and every
 * directory is a real one holding a single descriptor entry "3". No
 * refactoring of the shim is needed for this; a shim/parse.c with pure
 * buffer parsers would let the harness drop the redirection.
 *
 * Input: byte 0 picks the parser; for the start time, the rest is
 * "STAT\0PROCSTAT" (the two files); for /proc/locks, bytes 1-6 are the
 * device and inode looked for.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

/* The shim's own system call wrappers (sys.h), if any, with their real
 * names: the redirections below apply to platform_linux.c only. */
#if __has_include("sys.h")
#include "sys.h"
#endif

#define FZ_UNUSED __attribute__((unused))
static int fz_open(const char *path, int flags, ...) FZ_UNUSED;
static int fz_openat(int dirfd, const char *path, int flags, ...) FZ_UNUSED;
static int fz_fstatat(int dirfd, const char *path, struct stat *st, int flags) FZ_UNUSED;
static int fz_pl_open(const char *path, int flags, mode_t mode) FZ_UNUSED;
static int fz_pl_fstatat(int dirfd, const char *path, struct stat *st) FZ_UNUSED;

#define open fz_open
#define openat fz_openat
#define fstatat fz_fstatat
#define pl_open fz_pl_open
#define pl_fstatat fz_pl_fstatat
#include "../shim/platform_linux.c" /* NOLINT(bugprone-suspicious-include) */
#undef open
#undef openat
#undef fstatat
#undef pl_open
#undef pl_fstatat

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FZ_DEV makedev(8, 1)
#define FZ_INO 1234

static const uint8_t *file_a, *file_b; /* what the next opens read */
static size_t len_a, len_b;
static char dir_path[64];

static int file_with(const uint8_t *d, size_t n)
{
	int fd = memfd_create("proc", MFD_CLOEXEC);
	if (fd < 0)
		abort();
	if (n && write(fd, d, n) != (ssize_t)n)
		abort();
	lseek(fd, 0, SEEK_SET);
	return fd;
}

static int fake(const char *path, int flags)
{
	if (flags & O_DIRECTORY)
		return open(dir_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (strcmp(path, "/proc/stat") == 0)
		return file_with(file_b, len_b);
	return file_with(file_a, len_a);
}

static int fz_open(const char *path, int flags, ...)
{
	return fake(path, flags);
}

static int fz_openat(int dirfd, const char *path, int flags, ...)
{
	(void)dirfd;
	return fake(path, flags);
}

static int fz_fstatat(int dirfd, const char *path, struct stat *st, int flags)
{
	(void)dirfd;
	(void)flags;
	memset(st, 0, sizeof(*st));
	/* The harness plays the initial PID namespace, where /proc/locks is the
	 * whole answer (plat_pidns_nested). */
	if (strcmp(path, "/proc/self/ns/pid") == 0) {
		st->st_ino = 0xEFFFFFFCU;
		return 0;
	}
	st->st_mode = S_IFREG | 0644;
	st->st_dev = FZ_DEV;
	st->st_ino = FZ_INO;
	return 0;
}

static int fz_pl_open(const char *path, int flags, mode_t mode)
{
	(void)mode;
	return fake(path, flags);
}

static int fz_pl_fstatat(int dirfd, const char *path, struct stat *st)
{
	return fz_fstatat(dirfd, path, st, 0);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	snprintf(dir_path, sizeof(dir_path), "/tmp/pidlock-fuzz-proc.%ld", (long)getpid());
	mkdir(dir_path, 0700);
	char entry[96];
	snprintf(entry, sizeof(entry), "%s/3", dir_path);
	int fd = open(entry, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	if (fd >= 0)
		close(fd);
	return 0;
}

/* What plat_is_locked promises, for input without NUL bytes that fits its
 * buffer: some complete line is an FLOCK that is held (no "->") on the
 * wanted " MAJ:MIN:INODE " (a whole field: 08:01 is not 108:01). */
static int locked_reference(const char *s, size_t n, const char *want)
{
	int found = 0;
	const char *line = s, *end = s + n;
	while (line < end) {
		const char *nl = memchr(line, '\n', (size_t)(end - line));
		if (!nl)
			break;
		char buf[8192];
		size_t ll = (size_t)(nl - line);
		memcpy(buf, line, ll);
		buf[ll] = '\0';
		if (strstr(buf, " FLOCK ") && !strstr(buf, "->") && strstr(buf, want))
			found = 1;
		line = nl + 1;
	}
	return found;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	unsigned sel = data[0] % 4;
	data++;
	size--;
	file_a = data;
	len_a = size;
	file_b = NULL;
	len_b = 0;
	switch (sel) {
	case 0: { /* /proc/PID/stat, then /proc/stat */
		const uint8_t *nul = memchr(data, '\0', size);
		if (nul) {
			len_a = (size_t)(nul - data);
			file_b = nul + 1;
			len_b = size - len_a - 1;
		}
		long long ms = plat_start_time_ms(1);
		(void)ms;
		break;
	}
	case 1: { /* /proc/locks */
		if (size < 6)
			return 0;
		dev_t dev = makedev(data[0], data[1]);
		ino_t ino = (ino_t)((unsigned)data[2] | (unsigned)data[3] << 8 | (unsigned)data[4] << 16 |
				    (unsigned)data[5] << 24);
		file_a = data + 6;
		len_a = size - 6;
		int r = plat_is_locked(-1, dev, ino);
		if (r != 0 && r != 1)
			abort();
		if (len_a < 8000 && !memchr(file_a, '\0', len_a)) {
			char want[64];
			snprintf(want, sizeof(want), " %02x:%02x:%lu ", major(dev), minor(dev),
				 (unsigned long)ino);
			if (r != locked_reference((const char *)file_a, len_a, want))
				abort();
		}
		break;
	}
	case 2: { /* /proc/PID/fdinfo/N of a descriptor on the inode */
		int r = plat_holds(1, FZ_DEV, FZ_INO);
		if (r != 0 && r != 1)
			abort();
		break;
	}
	default: { /* /proc/PID/cmdline into a buffer of any size */
		char buf[300];
		size_t n = 1 + (size ? data[0] : 0);
		file_a = data + (size ? 1 : 0);
		len_a = size ? size - 1 : 0;
		size_t got = plat_cmdline(1, buf, n);
		if (got >= n || buf[got] != '\0' || strlen(buf) != got)
			abort();
		break;
	}
	}
	return 0;
}
