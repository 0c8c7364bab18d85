/* SPDX-License-Identifier: MIT */
/* What only macOS adds to pl_reach (reach.c): an ELF program does not run
 * here, and System Integrity Protection strips DYLD_* when a restricted
 * program starts (/bin/sh, /usr/bin/python3), and for its descendants.
 */
#include "cmd.h"

#include <sys/stat.h>

void plat_reach(const char *path, struct pl_reach *r)
{
	(void)path;
	r->foreign = r->elf.is_elf;
	r->restricted = (r->st.st_flags & SF_RESTRICTED) != 0;
}
