/* SPDX-License-Identifier: MIT */
/* What kind of program a file is: ELF class, byte order, machine, and the
 * dynamic loader it names (PT_INTERP). Used by `pidlock run` to pick the
 * library that the program's loader can preload (docs/platforms.md).
 *
 * Platform-neutral on purpose: the offsets are written out here rather than
 * taken from <elf.h>, which macOS does not have, and every multi-byte field is
 * read in the file's own byte order, so a big-endian or 32-bit program is
 * described correctly by a command built for any host.
 *
 * Why it matters: a loader that cannot use a preloaded library either prints
 * an error and runs the program without it (glibc, for a library of another
 * class or machine), or loads it anyway and crashes (musl resolves a
 * glibc-built library's libc.so.6 to itself, and the program dies before
 * main). Neither may happen silently under `pidlock run`.
 */
#include "cmd.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#define EI_CLASS 4
#define EI_DATA 5
#define ELFCLASS32 1
#define ELFCLASS64 2
#define ELFDATA2MSB 2
#define PT_INTERP 3
#define PH_MAX 4096 /* more program headers than any real program has */

/* An unsigned field of n bytes (at most 8) at p, in the file's byte order. */
static unsigned long long field(const unsigned char *p, int n, int big)
{
	unsigned long long v = 0;
	for (int i = 0; i < n; i++)
		v = v << 8 | p[big ? i : n - 1 - i];
	return v;
}

static int read_at(int fd, void *buf, size_t n, unsigned long long off)
{
	if (off > (unsigned long long)INT64_MAX - n)
		return -1;
	ssize_t r = pread(fd, buf, n, (off_t)off);
	return r == (ssize_t)n ? 0 : -1;
}

/* PT_INTERP's path into e->interp; 0, or -1 if the headers are damaged. */
static int find_interp(int fd, const unsigned char *h, struct pl_elf *e)
{
	int wide = e->elf_class == ELFCLASS64, big = e->big_endian;
	unsigned long long phoff = wide ? field(h + 32, 8, big) : field(h + 28, 4, big);
	unsigned int phentsize = (unsigned int)field(h + (wide ? 54 : 42), 2, big);
	unsigned int phnum = (unsigned int)field(h + (wide ? 56 : 44), 2, big);
	if (phnum && phentsize < (wide ? 56U : 32U))
		return -1;
	for (unsigned int i = 0; i < phnum && i < PH_MAX; i++) {
		unsigned char ph[56];
		if (read_at(fd, ph, wide ? 56 : 32, phoff + (unsigned long long)i * phentsize))
			return -1;
		if (field(ph, 4, big) != PT_INTERP)
			continue;
		unsigned long long off = wide ? field(ph + 8, 8, big) : field(ph + 4, 4, big);
		unsigned long long size = wide ? field(ph + 32, 8, big) : field(ph + 16, 4, big);
		/* The path and its NUL; a longer one is no loader we know. */
		if (size < 2 || size > sizeof(e->interp) || read_at(fd, e->interp, (size_t)size, off))
			return -1;
		e->interp[size - 1] = '\0';
		e->dynamic = 1;
		return 0;
	}
	return 0;
}

int pl_elf_read(const char *path, struct pl_elf *e)
{
	memset(e, 0, sizeof(*e));
	int fd = pl_open_program(path); /* never a FIFO or a device */
	if (fd < 0)
		return -1;
	unsigned char h[64];
	ssize_t n = pread(fd, h, sizeof(h), 0);
	int r = 0;
	if (n >= 52 && memcmp(h, "\177ELF", 4) == 0 &&
	    (h[EI_CLASS] == ELFCLASS32 || (h[EI_CLASS] == ELFCLASS64 && n == 64))) {
		e->is_elf = 1;
		e->elf_class = h[EI_CLASS];
		e->big_endian = h[EI_DATA] == ELFDATA2MSB;
		e->machine = (unsigned int)field(h + 18, 2, e->big_endian);
		if (find_interp(fd, h, e)) {
			e->is_elf = 0; /* damaged: let exec say what is wrong */
			e->dynamic = 0;
			e->interp[0] = '\0';
		}
	} else if (n < 0) {
		r = -1;
	}
	int saved = errno;
	close(fd);
	errno = saved;
	return r;
}

int pl_elf_is_musl(const struct pl_elf *e)
{
	/* musl's loader is /lib/ld-musl-ARCH.so.1 on every architecture (a
	 * link to its libc.so); glibc's are ld-linux*.so.N, ld64.so.N, ld.so.1. */
	const char *base = strrchr(e->interp, '/');
	base = base ? base + 1 : e->interp;
	return strncmp(base, "ld-musl-", 8) == 0;
}

int pl_elf_is_glibc(const struct pl_elf *e)
{
	/* glibc's loader: ld-linux*.so (x86, arm, aarch64, i386), ld64.so.*
	 * (ppc64, s390x), ld.so.1 (32-bit ppc, mips). */
	const char *base = strrchr(e->interp, '/');
	base = base ? base + 1 : e->interp;
	return strncmp(base, "ld-linux", 8) == 0 || strncmp(base, "ld64.so.", 8) == 0 ||
	       strcmp(base, "ld.so.1") == 0;
}

const char *pl_elf_arch(const struct pl_elf *e)
{
	/* Folder names for libraries of other machines (docs/platforms.md);
	 * arm64 as Debian, Go and the build tree (build/arm64) call it. */
	static const struct {
		unsigned int machine;
		int elf_class;
		const char *name;
	} arch[] = {
	    {3, ELFCLASS32, "i386"},      {40, ELFCLASS32, "arm"},       {62, ELFCLASS64, "x86_64"},
	    {183, ELFCLASS64, "arm64"},   {243, ELFCLASS64, "riscv64"},  {21, ELFCLASS64, "ppc64"},
	    {22, ELFCLASS64, "s390x"},
	};
	for (size_t i = 0; i < sizeof(arch) / sizeof(arch[0]); i++)
		if (arch[i].machine == e->machine && arch[i].elf_class == e->elf_class)
			return arch[i].name;
	return NULL;
}

int pl_elf_same_machine(const struct pl_elf *a, const struct pl_elf *b)
{
	return a->is_elf && b->is_elf && a->elf_class == b->elf_class &&
	       a->big_endian == b->big_endian && a->machine == b->machine;
}
