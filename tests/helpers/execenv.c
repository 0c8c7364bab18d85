/* SPDX-License-Identifier: MIT */
/* execenv: execve() a program with an environment given entry by entry
 * (tests/hardening.bats).
 *
 * execenv [ENTRY]... -- PATH [ARG]...
 *   Runs PATH (no search) with argv [PATH, ARG...] and exactly the entries
 *   given as its environment, in that order, duplicates included: env(1)
 *   and the shells merge a repeated name into one entry, so only a direct
 *   execve() shows a program what some launchers really pass.
 *
 * Exit status 2: usage; 3: execve failed.
 */
#define HELPER_NAME "execenv"
#define HELPER_USAGE "execenv [ENTRY]... -- PATH [ARG]..."
#include "common.h"

int main(int argc, char **argv)
{
	int sep = 1;

	while (sep < argc && strcmp(argv[sep], "--") != 0)
		sep++;
	if (sep + 1 >= argc)
		usage();
	/* The entries sit in argv[1..sep-1]: end them with the NULL that
	 * replaces "--", and they are the environment as they stand. */
	argv[sep] = NULL;
	execve(argv[sep + 1], argv + sep + 1, argv + 1);
	die(argv[sep + 1]);
}
