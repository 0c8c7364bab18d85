/* SPDX-License-Identifier: MIT */
/* slowexit: a program linked against libslowfini.so (tests/interpose.bats).
 * It writes "PID\n" to REPORT and returns from main at once, so that all of
 * its exit work is the library's (see slowfini.c).
 *
 *   slowexit REPORT
 */
#include <stdio.h>
#include <unistd.h>

void slowfini_linked(void);

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: slowexit REPORT\n");
		return 2;
	}
	slowfini_linked();
	FILE *f = fopen(argv[1], "w");
	if (!f || fprintf(f, "%ld\n", (long)getpid()) < 0 || fclose(f) != 0)
		return 3;
	return 0;
}
