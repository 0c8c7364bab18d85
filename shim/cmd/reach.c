/* SPDX-License-Identifier: MIT */
/* Can the pidlock library enter a program? One answer, read from the file
 * alone, for `pidlock run` (which warns when the inherited descriptor must
 * guard the program instead) and `pidlock check` (which reports every
 * finding). The platform adds its own (reach_linux.c, reach_darwin.c).
 */
#include "cmd.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

int pl_reach(const char *path, struct pl_reach *r)
{
	memset(r, 0, sizeof(*r));
	if (stat(path, &r->st) != 0)
		return -1;
	/* A setuid or setgid program that changes this user's identity runs
	 * in secure-execution mode, where the loader ignores the preload
	 * list (ld.so(8); dyld likewise). */
	if ((r->st.st_mode & S_ISUID) && r->st.st_uid != geteuid())
		r->setid = 'u';
	else if ((r->st.st_mode & S_ISGID) && r->st.st_gid != getegid())
		r->setid = 'g';
	if (pl_elf_read(path, &r->elf) != 0 || pl_macho_read(path, &r->macho) != 0) {
		/* Exec needs no read permission (a 0711 program): what the
		 * mode says is known all the same. */
		r->unread = errno;
		r->verdict = r->setid ? PL_REACH_FD_ONLY : PL_REACH_LOADS;
		return 0;
	}
	r->is_static = r->elf.is_elf && !r->elf.dynamic;
	plat_reach(path, r);
	if (r->foreign || r->not_program || r->unknown_loader)
		r->verdict = PL_REACH_NEVER;
	else if (pl_reach_why(r))
		r->verdict = PL_REACH_FD_ONLY;
	return 0;
}

const char *pl_reach_why(const struct pl_reach *r)
{
	if (r->setid)
		return "is setuid or setgid, so the pidlock library cannot enter it";
	if (r->is_static)
		return "is statically linked, so the pidlock library cannot enter it";
	if (r->restricted)
		return "is protected by System Integrity Protection, so the pidlock library "
		       "cannot enter it";
	if (r->macho.hardened && !r->macho.dyld_vars)
		return "is signed with the hardened runtime, so the pidlock library cannot "
		       "enter it";
	if (r->caps > 0)
		return "has file capabilities, so the pidlock library cannot enter it";
	return NULL;
}
