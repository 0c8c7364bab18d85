/* SPDX-License-Identifier: MIT */
/* The pidlock command: run, status, stop and check, on the same core as the
 * library (shim/core). This file only names the subcommands.
 */
#include "cmd.h"

#include <stdio.h>
#include <string.h>

static const char usage_main[] =
    "usage: pidlock run [options] -f FILE [--] COMMAND [ARG]...\n"
    "       pidlock status [-q|--json] [--] FILE\n"
    "       pidlock stop [-s SIG] [-t SECS] [-q] [--] FILE\n"
    "       pidlock check [--] COMMAND [ARG]...\n"
    "       pidlock --help | --version\n"
    "\n"
    "Keeps a program single-instance with an exclusive lock on a PID file.\n"
    "FILE is a path, or a NAME for $XDG_RUNTIME_DIR/NAME.pid, or, for a lock\n"
    "across machines, a URI postgresql://USER@HOST/DB#NAME (PostgreSQL) or\n"
    "mysql://USER@HOST/#NAME (MySQL, MariaDB). A NAME may not end in .pid: write\n"
    "./app.pid for a file in this directory.\n"
    "'pidlock COMMAND --help' describes each command; see also pidlock(1).\n";


int main(int argc, char **argv, char **envp)
{
	static const struct {
		const char *name;
		int (*run)(int argc, char **argv);
	} cmds[] = {
	    {"run", pl_cmd_run},
	    {"status", pl_cmd_status},
	    {"stop", pl_cmd_stop},
	    {"check", pl_cmd_check},
	};
	plat_startup(envp);
	if (argc < 2)
		return pl_usage_error(NULL, "missing command", NULL);
	const char *c = argv[1];
	if (strcmp(c, "-h") == 0 || strcmp(c, "--help") == 0 || strcmp(c, "help") == 0) {
		fputs(usage_main, stdout);
		return 0;
	}
	if (strcmp(c, "-V") == 0 || strcmp(c, "--version") == 0) {
		printf("pidlock %s\n", PL_VERSION);
		return 0;
	}
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (strcmp(c, cmds[i].name) == 0)
			return cmds[i].run(argc - 1, argv + 1);
	return pl_usage_error(NULL, "unknown command", c);
}
