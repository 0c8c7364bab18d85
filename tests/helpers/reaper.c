/* SPDX-License-Identifier: MIT */
/* reaper: a child subreaper for the tests (tests/operators.bats).
 *
 * reaper CMD [ARG]...
 *   Becomes a child subreaper (PR_SET_CHILD_SUBREAPER), runs CMD, and reaps
 *   every process that ends below it (CMD, and the daemons CMD leaves, which
 *   are reparented to it rather than to PID 1) until none is left, then
 *   exits with CMD's status. Where PID 1 does not reap orphans (some
 *   sandboxes), a daemon killed by a test would otherwise stay a zombie,
 *   which kill(pid, 0), and so start-stop-daemon --status, counts as
 *   running. The reaper holds nothing of the lock: it is not under the
 *   library.
 *
 * Exit status: CMD's (128 + signal if killed); 2: usage; 3: a system call
 * failed; 127: CMD could not be executed.
 */
#include <sys/prctl.h>
#include <sys/wait.h>

#define HELPER_NAME "reaper"
#define HELPER_USAGE "reaper CMD [ARG]..."
#include "common.h"

int main(int argc, char **argv)
{
	if (argc < 2)
		usage();
	if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0)
		die("PR_SET_CHILD_SUBREAPER");
	pid_t cmd = fork();
	if (cmd < 0)
		die("fork");
	if (cmd == 0) {
		execvp(argv[1], argv + 1);
		_exit(127);
	}
	int result = 0, st;
	pid_t p;
	while ((p = wait(&st)) > 0 || errno == EINTR) {
		if (p == cmd)
			result = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	}
	return result;
}
