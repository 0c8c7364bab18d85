/* SPDX-License-Identifier: MIT */
/* What only Linux adds to pl_reach (reach.c): a Mach-O program does not
 * run here, an ELF loader must be glibc's or musl's, and file capabilities
 * put the loader in secure-execution mode.
 */
#include "cmd.h"

#include <sys/xattr.h>
#include <unistd.h>

void plat_reach(const char *path, struct pl_reach *r)
{
	r->foreign = r->macho.is_macho;
	r->not_program = !r->elf.is_elf && !r->macho.is_macho;
	r->unknown_loader = r->elf.dynamic && !pl_elf_is_musl(&r->elf) && !pl_elf_is_glibc(&r->elf);
	/* Capabilities a user gains from the file set AT_SECURE (the kernel's
	 * cap_bprm_creds_from_file); the real root user is exempt. */
	if (getxattr(path, "security.capability", NULL, 0) > 0)
		r->caps = getuid() != 0 ? 1 : -1;
}
