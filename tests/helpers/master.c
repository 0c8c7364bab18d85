/* SPDX-License-Identifier: MIT */
/* master: a prefork server started the way nginx and memcached start
 * (tests/servers.bats): the process the user launched exits once the
 * server is up, and the server is a master with workers.
 *
 * master -o REPORT [-w WORKERS] [-d] [-t SECS]
 *   The launcher forks the master (with -d: fork, setsid, fork, the double
 *   fork of a daemon, the intermediate child leaving through _exit). The
 *   master forks WORKERS (default 2) copies that never exec, writes REPORT
 *   atomically once every worker exists:
 *     master PID / worker PID (one line each)
 *   and only then lets the launcher go: the launcher leaves through exit(0)
 *   while master and workers run, all started within a few milliseconds (the
 *   same clock tick of /proc's start time, so that start times cannot tell
 *   them apart).
 *   On SIGTERM the master sends SIGTERM to its workers, waits for them and
 *   leaves through exit(0); a worker leaves through exit(0). A worker whose
 *   master dies gets SIGTERM too (PR_SET_PDEATHSIG). Every process gives up
 *   with exit(4) after SECS seconds (default 60), so nothing outlives a test.
 *
 * Exit status 2: usage; 3: a system call failed.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#define HELPER_NAME "master"
#define HELPER_USAGE "master -o REPORT [-w WORKERS] [-d] [-t SECS]"
#include "common.h"

#define MAX_WORKERS 64

static const char *report_path;
static long life_secs = 60;
static pid_t workers[MAX_WORKERS];
static int nworkers = 2;

static void worker(pid_t master, const sigset_t *term)
{
	if (prctl(PR_SET_PDEATHSIG, SIGTERM) != 0)
		die("prctl");
	if (getppid() != master) /* the master died before prctl */
		exit(0);
	await_sigterm(term, life_secs);
}

/* Waits for SIGTERM (or the time limit), then stops the workers. */
static _Noreturn void master_serve(const sigset_t *term)
{
	struct timespec tick = { 0, 200 * 1000 * 1000 };
	long waited_ms = 0;
	int code = 4;

	while (waited_ms < life_secs * 1000) {
		if (sigtimedwait(term, NULL, &tick) == SIGTERM) {
			code = 0;
			break;
		}
		waited_ms += 200;
	}
	for (int i = 0; i < nworkers; i++)
		kill(workers[i], SIGTERM);
	for (int i = 0; i < nworkers; i++)
		while (waitpid(workers[i], NULL, 0) < 0 && errno == EINTR)
			;
	exit(code);
}

static _Noreturn void master(int ready_fd, const sigset_t *term)
{
	char text[32 * (MAX_WORKERS + 1)];
	size_t len = 0;
	pid_t self = getpid();

	len += (size_t)snprintf(text + len, sizeof text - len, "master %ld\n", (long)self);
	for (int i = 0; i < nworkers; i++) {
		pid_t pid = fork();
		if (pid < 0)
			die("fork");
		if (pid == 0) {
			close(ready_fd);
			worker(self, term);
		}
		workers[i] = pid;
		len += (size_t)snprintf(text + len, sizeof text - len, "worker %ld\n", (long)pid);
	}
	if (write_report_or_die(report_path, text, "write report") != 0) {
		fprintf(stderr, "master: report path too long\n");
		exit(2);
	}
	if (write_all(ready_fd, "r", 1) != 0)
		die("write ready");
	close(ready_fd);
	master_serve(term);
}

int main(int argc, char **argv)
{
	int daemonise = 0, opt, fds[2];
	sigset_t term;
	char byte;
	ssize_t n;
	pid_t pid;

	while ((opt = getopt(argc, argv, "o:w:dt:")) != -1) {
		switch (opt) {
		case 'o':
			report_path = optarg;
			break;
		case 'w':
			nworkers = (int)parse_long(optarg, 1, MAX_WORKERS);
			break;
		case 'd':
			daemonise = 1;
			break;
		case 't':
			life_secs = parse_long(optarg, 1, 3600);
			break;
		default:
			usage();
		}
	}
	if (!report_path || optind != argc)
		usage();
	if (block_sigterm(&term) != 0)
		die("sigprocmask");
	if (pipe(fds) != 0)
		die("pipe");
	pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		close(fds[0]);
		if (daemonise) {
			if (setsid() < 0)
				die("setsid");
			pid = fork();
			if (pid < 0)
				die("fork");
			if (pid > 0)
				_exit(0);
		}
		master(fds[1], &term);
	}
	/* The launcher: waits for the server to be up, then leaves. */
	close(fds[1]);
	do
		n = read(fds[0], &byte, 1);
	while (n < 0 && errno == EINTR);
	if (n != 1) {
		fprintf(stderr, "master: the master did not start\n");
		exit(3);
	}
	if (daemonise)
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
	exit(0);
}
