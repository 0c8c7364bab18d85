/* SPDX-License-Identifier: MIT */
/* prefork: a prefork server with many workers that all hold the lock
 * (tests/attack.bats, guarantee 16 of docs/DESIGN.md).
 *
 * prefork WORKERS DIR REPORT
 *   The master fork()s WORKERS copies (at most 1000) that never exec. Every
 *   process (master and workers) takes SIGTERM synchronously and, on
 *   receipt, creates DIR/term.PID before it exits through exit(0); so the
 *   test sees which processes received SIGTERM (a process ended by SIGKILL
 *   alone leaves no file). The master does not pass SIGTERM on: each worker
 *   must get it from whoever stops the server. After its own SIGTERM the
 *   master reaps its workers (at most 60 s) and exits 0.
 *   REPORT, written once every worker exists: "master PID" then one
 *   "worker PID" line each.
 *   Every process gives up with exit(4) after 60 s without SIGTERM.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define HELPER_NAME "prefork"
#define HELPER_USAGE "prefork WORKERS DIR REPORT"
#include "common.h"

#define MAX_WORKERS 1000
#define LIFE_SECS 60

static const char *dir;

/* Blocks (SIGTERM blocked) until SIGTERM, in one-second naps so that 1000
 * idle processes cost nothing; exit(4) after LIFE_SECS. */
static void await_term(const sigset_t *set)
{
	struct timespec tick = { 1, 0 };
	int i;

	for (i = 0; i < LIFE_SECS; i++) {
		if (sigtimedwait(set, NULL, &tick) == SIGTERM)
			return;
	}
	exit(4);
}

static void record_term(void)
{
	char path[PATH_MAX];
	int n, fd;

	n = snprintf(path, sizeof path, "%s/term.%ld", dir, (long)getpid());
	if (n < 0 || n >= (int)sizeof path)
		exit(2);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		die(path);
	close(fd);
}

int main(int argc, char **argv)
{
	static char text[32 * (MAX_WORKERS + 1)];
	size_t len = 0;
	sigset_t set;
	long workers, i;
	time_t start;

	if (argc != 4)
		usage();
	workers = parse_long(argv[1], 1, MAX_WORKERS);
	dir = argv[2];
	if (block_sigterm(&set) != 0)
		die("sigprocmask");
	len += (size_t)snprintf(text + len, sizeof text - len, "master %ld\n", (long)getpid());
	for (i = 0; i < workers; i++) {
		pid_t pid;

		fflush(NULL);
		pid = fork();
		if (pid < 0)
			die("fork");
		if (pid == 0) {
			await_term(&set);
			record_term();
			exit(0);
		}
		len += (size_t)snprintf(text + len, sizeof text - len, "worker %ld\n", (long)pid);
	}
	if (write_report_or_die(argv[3], text, "write report") != 0)
		usage();
	await_term(&set);
	record_term();
	start = time(NULL);
	while (time(NULL) - start < LIFE_SECS) {
		if (waitpid(-1, NULL, 0) < 0 && errno == ECHILD)
			break;
	}
	return 0;
}
