/* Can the pidlock library enter a program (Linux)? The command's one
 * platform question: `pidlock run` asks it before its warning, `pidlock
 * check` for its report.
 */
#include "cmd.h"

#include <sys/stat.h>
#include <unistd.h>

/* Why the library cannot enter the program at path, or NULL (pidlock run
 * then warns that the inherited descriptor guards it instead). setuid and
 * setgid programs run in secure-execution mode, where the dynamic linker
 * ignores LD_PRELOAD; static ELF programs have no dynamic linker at all
 * (no PT_INTERP). */
const char *plat_unreachable(const char *path)
{
	struct stat st;
	if (stat(path, &st) == 0 && (((st.st_mode & S_ISUID) && st.st_uid != geteuid()) ||
				     ((st.st_mode & S_ISGID) && st.st_gid != getegid())))
		return "is setuid or setgid, so the pidlock library cannot enter it";
	struct pl_elf e;
	if (pl_elf_read(path, &e) == 0 && e.is_elf && !e.dynamic)
		return "is statically linked, so the pidlock library cannot enter it";
	return NULL;
}
