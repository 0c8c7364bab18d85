/* SPDX-License-Identifier: MIT */
/* reexec: a program that execv()s itself again and again in the same process
 * (tests/reexec.bats, guarantee 5: an exec of the instance itself keeps the lock).
 *
 * reexec -o REPORT -p PIDFILE [-n COUNT] [-d MS] [-s keep|strip|alternate]
 *        [-g GOFILE] [-t SECS]
 *   Every image first checks that it still has a descriptor open on PIDFILE
 *   (fstat of each /proc/self/fd entry against stat(PIDFILE)); if not it
 *   writes "lost step=I" to REPORT and exits 3. The first image waits until
 *   GOFILE exists (at most SECS seconds). Each image sleeps MS milliseconds
 *   (default 10) and execs /proc/self/exe's target with the step count in
 *   argv, COUNT times (default 100) in all. The environment of each exec:
 *     keep       unchanged (every image loads the shim)
 *     strip      without LD_PRELOAD (no image after the first loads the shim)
 *     alternate  without LD_PRELOAD, then with it again, in turn
 *   The last image writes "done pid=PID steps=COUNT lockfd=N" to REPORT
 *   (atomically) and waits for SIGTERM (exit(0)), at most SECS (default 30)
 *   seconds (exit(4)).
 *   Internal options added on re-exec: -i STEP, -L SHIM, -P FIRSTPID.
 *
 * Exit status 2: usage; 3: lock lost; 5: exec or another call failed.
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define HELPER_NAME "reexec"
#define HELPER_USAGE "reexec -o REPORT -p PIDFILE [-n COUNT] [-d MS] " \
		     "[-s keep|strip|alternate] [-g GOFILE] [-t SECS]"
#include "common.h"

extern char **environ;

static const char *report_path;

static void write_report(const char *text)
{
	if (write_report_or_exit(report_path, text, 5) != 0)
		usage();
}

/* environ without LD_PRELOAD, plus LD_PRELOAD=shim when shim is given. */
static char **make_env(const char *shim)
{
	static char preload[PATH_MAX + 16];
	size_t n = 0, i, j = 0;
	char **env;

	while (environ[n] != NULL)
		n++;
	env = calloc(n + 2, sizeof *env);
	if (env == NULL)
		exit(5);
	for (i = 0; i < n; i++) {
		if (strncmp(environ[i], "LD_PRELOAD=", 11) != 0)
			env[j++] = environ[i];
	}
	if (shim != NULL) {
		snprintf(preload, sizeof preload, "LD_PRELOAD=%s", shim);
		env[j++] = preload;
	}
	env[j] = NULL;
	return env;
}

int main(int argc, char **argv)
{
	const char *pidfile = NULL, *go = NULL, *strategy = "keep", *shim = NULL;
	long count = 100, delay = 10, secs = 30, step = 0, first_pid = 0;
	char self[PATH_MAX], text[128];
	int opt, lockfd;

	while ((opt = getopt(argc, argv, "o:p:n:d:s:g:t:i:L:P:")) != -1) {
		switch (opt) {
		case 'o':
			report_path = optarg;
			break;
		case 'p':
			pidfile = optarg;
			break;
		case 'n':
			count = parse_long(optarg, 0, 100000);
			break;
		case 'd':
			delay = parse_long(optarg, 0, 10000);
			break;
		case 's':
			strategy = optarg;
			break;
		case 'g':
			go = optarg;
			break;
		case 't':
			secs = parse_long(optarg, 1, 3600);
			break;
		case 'i':
			step = parse_long(optarg, 0, 100000);
			break;
		case 'L':
			shim = optarg;
			break;
		case 'P':
			first_pid = parse_long(optarg, 1, INT_MAX);
			break;
		default:
			usage();
		}
	}
	if (optind != argc || report_path == NULL || pidfile == NULL)
		usage();
	if (strcmp(strategy, "keep") != 0 && strcmp(strategy, "strip") != 0 &&
	    strcmp(strategy, "alternate") != 0)
		usage();
	if (shim == NULL)
		shim = getenv("LD_PRELOAD");
	if (first_pid == 0)
		first_pid = (long)getpid();

	lockfd = find_lock_fd(pidfile);
	if (lockfd < 0 || first_pid != (long)getpid()) {
		snprintf(text, sizeof text, "lost step=%ld pid=%ld first=%ld\n", step,
			 (long)getpid(), first_pid);
		write_report(text);
		return 3;
	}
	if (step == 0 && go != NULL) {
		struct stat st;
		long i;
		for (i = 0; i < secs * 1000 && stat(go, &st) != 0; i++)
			sleep_ms(1);
	}
	if (step < count) {
		char a_n[32], a_d[32], a_t[32], a_i[32], a_p[32];
		char *args[32];
		char **env = environ;
		int k = 0;
		ssize_t len;

		if (delay > 0)
			sleep_ms(delay);
		len = readlink("/proc/self/exe", self, sizeof self - 1);
		if (len <= 0)
			exit(5);
		self[len] = '\0';
		snprintf(a_n, sizeof a_n, "%ld", count);
		snprintf(a_d, sizeof a_d, "%ld", delay);
		snprintf(a_t, sizeof a_t, "%ld", secs);
		snprintf(a_i, sizeof a_i, "%ld", step + 1);
		snprintf(a_p, sizeof a_p, "%ld", first_pid);
		args[k++] = argv[0];
		args[k++] = "-o";
		args[k++] = (char *)report_path;
		args[k++] = "-p";
		args[k++] = (char *)pidfile;
		args[k++] = "-n";
		args[k++] = a_n;
		args[k++] = "-d";
		args[k++] = a_d;
		args[k++] = "-s";
		args[k++] = (char *)strategy;
		args[k++] = "-t";
		args[k++] = a_t;
		args[k++] = "-i";
		args[k++] = a_i;
		args[k++] = "-P";
		args[k++] = a_p;
		if (shim != NULL) {
			args[k++] = "-L";
			args[k++] = (char *)shim;
		}
		args[k] = NULL;
		if (strcmp(strategy, "strip") == 0)
			env = make_env(NULL);
		else if (strcmp(strategy, "alternate") == 0)
			env = make_env(step % 2 == 0 ? NULL : shim);
		if (env == environ)
			execv(self, args);
		else
			execve(self, args, env);
		snprintf(text, sizeof text, "exec failed step=%ld: %s\n", step, strerror(errno));
		write_report(text);
		return 5;
	}

	snprintf(text, sizeof text, "done pid=%ld steps=%ld lockfd=%d\n", (long)getpid(), step,
		 lockfd);
	{
		sigset_t set;

		block_sigterm(&set);
		write_report(text);
		await_sigterm(&set, secs);
	}
}
