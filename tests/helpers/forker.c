/* SPDX-License-Identifier: MIT */
/* forker: fork() without exec and daemonisation (tests/fork.bats, daemon.bats).
 *
 * forker prefork -o REPORT [-w WORKERS] [-x] [-I INDEX] [-e] [-l LOG] [-t SECS]
 *   A prefork server: the master forks WORKERS (default 4) copies that never
 *   exec. Every process then waits for SIGTERM and exits through exit(0), or
 *   exit(4) after SECS seconds (default 60) so that nothing outlives a test.
 *   REPORT (written atomically once every worker exists):
 *     master PID / worker PID (one line each) / child PID (with -e)
 *   -x        the master exits through exit(0) right after writing REPORT
 *   -I INDEX  worker INDEX (0-based) logs SIGTERM but ignores it
 *   -e        the master also fork+execs `sleep SECS`, a process that must not
 *             hold the lock (process scope); reported as "child PID"
 *   -l LOG    each process appends "term PID" (or "ignored PID") to LOG when
 *             it receives SIGTERM
 *
 * forker daemon -o REPORT [-n] [-u] [-c] [-t SECS]
 *   The classic double fork: fork, setsid, fork. The launcher waits for the
 *   intermediate child and then calls exit(0); with -n it calls exit(0) at
 *   once. The intermediate child calls exit(0) (-u: _exit(0)). The daemon
 *   chdirs to /, puts stdio on /dev/null, with -c closes every descriptor from
 *   3 up to the limit, writes "daemon PID" to REPORT and exits through exit(0)
 *   on SIGTERM.
 *
 * forker daemon3 -o REPORT [-c] [-t SECS]
 *   The same daemon, made by daemon(0, 0).
 *
 * Exit status 2: usage; 3: a system call failed.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define HELPER_NAME "forker"
#define HELPER_USAGE "forker prefork|daemon|daemon3 -o REPORT [options]"
#include "common.h"

#define MAX_WORKERS 64

static const char *report_path;
static int log_fd = -1;
static long life_secs = 60;

static void write_report(const char *path, const char *text)
{
	if (write_report_or_die(path, text, "write") != 0) {
		fprintf(stderr, "forker: report path too long\n");
		exit(2);
	}
}

static void log_line(const char *word)
{
	char buf[64];
	int n;

	if (log_fd < 0)
		return;
	n = snprintf(buf, sizeof buf, "%s %ld\n", word, (long)getpid());
	if (n > 0 && (size_t)n < sizeof buf && write_all(log_fd, buf, (size_t)n) != 0)
		die("write");
}

static void block_term(void)
{
	sigset_t set;

	if (block_sigterm(&set) != 0)
		die("sigprocmask");
}

/* Waits (SIGTERM blocked) for SIGTERM and exits cleanly through exit(0);
 * gives up after life_secs with exit(4). */
static void serve(int ignore_term)
{
	sigset_t set;
	struct timespec start, now, tick = { 0, 200 * 1000 * 1000 };

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		int s = sigtimedwait(&set, NULL, &tick);
		if (s == SIGTERM) {
			if (ignore_term) {
				log_line("ignored");
				continue;
			}
			log_line("term");
			exit(0);
		}
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec - start.tv_sec >= life_secs)
			exit(4);
	}
}

static void close_all_from(int first)
{
	long limit = fd_loop_limit(), fd;

	for (fd = first; fd < limit; fd++) {
		if (close((int)fd) != 0 && errno != EBADF) {
			fprintf(stderr, "forker: close(%ld): %s\n", fd, strerror(errno));
			exit(3);
		}
	}
}

static void become_daemon_process(int close_fds)
{
	char text[64];
	int fd;

	if (chdir("/") != 0)
		die("chdir");
	umask(022);
	fd = open("/dev/null", O_RDWR);
	if (fd < 0)
		die("/dev/null");
	if (dup2(fd, 0) < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0)
		die("dup2 stdio");
	if (fd > 2)
		close(fd);
	if (close_fds)
		close_all_from(3);
	block_term();
	snprintf(text, sizeof text, "daemon %ld\n", (long)getpid());
	write_report(report_path, text);
	serve(0);
}

static int do_prefork(int workers, int master_exits, int ignore_index, int exec_child)
{
	char text[64 * (MAX_WORKERS + 2)];
	size_t len = 0;
	int i;

	block_term();
	len += (size_t)snprintf(text + len, sizeof text - len, "master %ld\n", (long)getpid());
	for (i = 0; i < workers; i++) {
		pid_t pid = fork();
		if (pid < 0)
			die("fork");
		if (pid == 0)
			serve(i == ignore_index);
		len += (size_t)snprintf(text + len, sizeof text - len, "worker %ld\n", (long)pid);
	}
	if (exec_child) {
		char secs[32];
		pid_t pid;

		snprintf(secs, sizeof secs, "%ld", life_secs);
		pid = fork();
		if (pid < 0)
			die("fork");
		if (pid == 0) {
			sigset_t set;
			sigemptyset(&set);
			sigprocmask(SIG_SETMASK, &set, NULL);
			execl("/bin/sleep", "sleep", secs, (char *)NULL);
			_exit(127);
		}
		len += (size_t)snprintf(text + len, sizeof text - len, "child %ld\n", (long)pid);
	}
	write_report(report_path, text);
	if (master_exits)
		exit(0);
	serve(0);
	return 0;
}

static int do_daemon(int launcher_waits, int intermediate_underscore, int close_fds)
{
	pid_t pid = fork();

	if (pid < 0)
		die("fork");
	if (pid > 0) {
		if (launcher_waits) {
			int st;
			while (waitpid(pid, &st, 0) < 0) {
				if (errno != EINTR)
					die("waitpid");
			}
		}
		exit(0);
	}
	if (setsid() < 0)
		die("setsid");
	pid = fork();
	if (pid < 0)
		die("fork");
	if (pid > 0) {
		if (intermediate_underscore)
			_exit(0);
		exit(0);
	}
	become_daemon_process(close_fds);
	return 0;
}

static int do_daemon3(int close_fds)
{
	if (daemon(0, 0) != 0)
		die("daemon");
	become_daemon_process(close_fds);
	return 0;
}

int main(int argc, char **argv)
{
	const char *mode;
	int opt, workers = 4, master_exits = 0, ignore_index = -1, exec_child = 0;
	int no_wait = 0, underscore = 0, close_fds = 0;

	if (argc < 2)
		usage();
	mode = argv[1];
	optind = 2;
	while ((opt = getopt(argc, argv, "o:w:nxI:el:t:uc")) != -1) {
		switch (opt) {
		case 'o':
			report_path = optarg;
			break;
		case 'w':
			workers = (int)parse_long(optarg, 1, MAX_WORKERS);
			break;
		case 'n':
			no_wait = 1;
			break;
		case 'x':
			master_exits = 1;
			break;
		case 'I':
			ignore_index = (int)parse_long(optarg, 0, MAX_WORKERS - 1);
			break;
		case 'e':
			exec_child = 1;
			break;
		case 'l':
			log_fd = open(optarg, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
			if (log_fd < 0)
				die(optarg);
			break;
		case 't':
			life_secs = parse_long(optarg, 1, 3600);
			break;
		case 'u':
			underscore = 1;
			break;
		case 'c':
			close_fds = 1;
			break;
		default:
			usage();
		}
	}
	if (optind != argc || report_path == NULL)
		usage();
	if (strcmp(mode, "prefork") == 0)
		return do_prefork(workers, master_exits, ignore_index, exec_child);
	if (strcmp(mode, "daemon") == 0)
		return do_daemon(!no_wait, underscore, close_fds);
	if (strcmp(mode, "daemon3") == 0)
		return do_daemon3(close_fds);
	usage();
	return 2;
}
