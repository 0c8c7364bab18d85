/* SPDX-License-Identifier: MIT */
/* What a Mach-O (macOS) program's code signature says about the library:
 * whether it asks for the hardened runtime (CS_RUNTIME), under which dyld
 * ignores DYLD_INSERT_LIBRARIES unless the program is entitled to DYLD_
 * variables. Beside elf.c and read the same way: plain bytes at offsets
 * written out here, so that the command on any system recognises a Mach-O
 * file (pidlock check on Linux says it cannot run here).
 */
#include "cmd.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#define FAT_MAGIC 0xcafebabeu
#define MH_MAGIC_64 0xfeedfacfu
#define MH_MAGIC 0xfeedfaceu
#define LC_CODE_SIGNATURE 0x1du
#define CSMAGIC_EMBEDDED_SIGNATURE 0xfade0cc0u
#define CSMAGIC_CODEDIRECTORY 0xfade0c02u
#define CSMAGIC_EMBEDDED_ENTITLEMENTS 0xfade7171u
#define CS_RUNTIME 0x10000u
#define NCMDS_MAX 4096 /* more load commands than any real program has */
#define BLOBS_MAX 64

static unsigned int be32(const unsigned char *p)
{
	return (unsigned int)p[0] << 24 | (unsigned int)p[1] << 16 | (unsigned int)p[2] << 8 | p[3];
}

static unsigned int le32(const unsigned char *p)
{
	return (unsigned int)p[3] << 24 | (unsigned int)p[2] << 16 | (unsigned int)p[1] << 8 | p[0];
}

static int read_at(int fd, void *buf, size_t n, unsigned long off)
{
	return off > 0x7fffffffUL || pread(fd, buf, n, (off_t)off) != (ssize_t)n ? -1 : 0;
}

/* The signature's blobs at sig: the CodeDirectory's flags and the
 * entitlements' plist. 0, or -1 if damaged. */
static int read_signature(int fd, unsigned long sig, struct pl_macho *m)
{
	static const char key[] = "com.apple.security.cs.allow-dyld-environment-variables";
	unsigned char sb[12], idx[8], blob[16];
	if (read_at(fd, sb, sizeof(sb), sig) || be32(sb) != CSMAGIC_EMBEDDED_SIGNATURE)
		return -1;
	for (unsigned int k = 0; k < be32(sb + 8) && k < BLOBS_MAX; k++) {
		if (read_at(fd, idx, sizeof(idx), sig + 12 + 8UL * k))
			return -1;
		unsigned long at = sig + be32(idx + 4);
		if (read_at(fd, blob, sizeof(blob), at))
			return -1;
		if (be32(blob) == CSMAGIC_CODEDIRECTORY && (be32(blob + 12) & CS_RUNTIME))
			m->hardened = 1;
		if (be32(blob) == CSMAGIC_EMBEDDED_ENTITLEMENTS) {
			char xml[4096];
			size_t len = be32(blob + 4);
			len = len < sizeof(xml) ? len : sizeof(xml) - 1;
			if (len > 8 && !read_at(fd, xml, len, at)) {
				xml[len] = '\0';
				m->dyld_vars = strstr(xml + 8, key) != NULL;
			}
		}
	}
	return 0;
}

/* The load commands of the image at base: its signature, if any. */
static void read_image(int fd, unsigned long base, const unsigned char *h, struct pl_macho *m)
{
	unsigned int magic = le32(h), ncmds = le32(h + 16);
	unsigned long off = base + (magic == MH_MAGIC_64 ? 32 : 28);
	for (unsigned int i = 0; i < ncmds && i < NCMDS_MAX; i++) {
		unsigned char lc[16];
		if (read_at(fd, lc, sizeof(lc), off) || le32(lc + 4) < 8)
			return;
		if (le32(lc) == LC_CODE_SIGNATURE) {
			read_signature(fd, base + le32(lc + 8), m);
			return;
		}
		off += le32(lc + 4);
	}
}

int pl_macho_read(const char *path, struct pl_macho *m)
{
	memset(m, 0, sizeof(*m));
	int fd = pl_open_program(path); /* never a FIFO or a device */
	if (fd < 0)
		return -1;
	unsigned char h[32], idx[4];
	unsigned long base = 0;
	int ok = read_at(fd, h, sizeof(h), 0) == 0;
	if (ok && be32(h) == FAT_MAGIC && be32(h + 4) > 0 && be32(h + 4) < 32) {
		/* A universal binary: the first slice stands for all (they are
		 * signed with the same options). fat_arch: cputype, subtype,
		 * offset. */
		ok = read_at(fd, idx, sizeof(idx), 8 + 8) == 0;
		base = ok ? be32(idx) : 0;
		ok = ok && read_at(fd, h, sizeof(h), base) == 0;
	}
	if (ok && (le32(h) == MH_MAGIC_64 || le32(h) == MH_MAGIC)) {
		m->is_macho = 1;
		read_image(fd, base, h, m);
	}
	close(fd);
	return 0;
}
