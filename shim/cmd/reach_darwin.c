/* Can the pidlock library enter a program (macOS)? The command's one
 * platform question: `pidlock run` asks it before its warning, `pidlock
 * check` for its report.
 */
#include "cmd.h"

#include <sys/stat.h>
#include <unistd.h>

/* Why the library cannot enter the program at path, or NULL. setuid and
 * setgid programs ignore DYLD_INSERT_LIBRARIES; System Integrity
 * Protection strips DYLD_* when a restricted binary starts (/bin/sh,
 * /usr/bin/python3), and for all its descendants. */
const char *plat_unreachable(const char *path)
{
	struct stat st;
	if (stat(path, &st) != 0)
		return NULL;
	if (((st.st_mode & S_ISUID) && st.st_uid != geteuid()) ||
	    ((st.st_mode & S_ISGID) && st.st_gid != getegid()))
		return "is setuid or setgid, so the pidlock library cannot enter it";
	if (st.st_flags & SF_RESTRICTED)
		return "is protected by System Integrity Protection, so the pidlock library "
		       "cannot enter it";
	return NULL;
}
