/* SPDX-License-Identifier: MIT */
/* spawner: starts a child program, then exits (tests/children.bats,
 * guarantee 5 of docs/DESIGN.md).
 *
 * spawner MODE -o REPORT -g GOFILE [-t SECS]
 *   MODE           how `sleep SECS` (default 30) is started:
 *   posix_spawn    posix_spawn("/bin/sleep")
 *   posix_spawnp   posix_spawnp("sleep")
 *   forkexec       fork() + execv("/bin/sleep")
 *   vforkexec      vfork() + execv("/bin/sleep")
 *   system         system("echo $$ >REPORT.child...; exec sleep SECS") in a
 *                  thread (system() blocks), the shell's PID is the child's
 *   popen          popen() of the same command, never pclose()d
 * Writes "child PID" to REPORT (atomically), then waits until GOFILE exists
 * (at most SECS seconds) and exits through exit(0) while the child runs on.
 *
 * Exit status 2: usage; 3: a system call failed; 4: GOFILE never came.
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define HELPER_NAME "spawner"
#define HELPER_USAGE "spawner MODE -o REPORT -g GOFILE [-t SECS]"
#include "common.h"

extern char **environ;

static const char *report_path;
static char secs_arg[32] = "30";
static long life_secs = 30;
static char shell_cmd[PATH_MAX * 3];
static char child_file[PATH_MAX];

static void write_report(pid_t child)
{
	char text[64];

	snprintf(text, sizeof text, "child %ld\n", (long)child);
	if (write_report_or_die(report_path, text, "write report") != 0)
		usage();
}

/* Waits (bounded) for the shell child to write its PID into child_file. */
static pid_t read_child_file(void)
{
	long i;

	for (i = 0; i < life_secs * 100; i++) {
		FILE *f = fopen(child_file, "re");
		if (f != NULL) {
			long pid = 0;
			int got = fscanf(f, "%ld", &pid);
			fclose(f);
			if (got == 1 && pid > 0)
				return (pid_t)pid;
		}
		sleep_ms(10);
	}
	fprintf(stderr, "spawner: the shell child never wrote %s\n", child_file);
	exit(3);
}

static void *system_thread(void *arg)
{
	static int status;

	(void)arg;
	status = system(shell_cmd);
	return &status;
}

static pid_t start_child(const char *mode)
{
	char *args[] = { "sleep", secs_arg, NULL };
	pid_t pid;
	int err;

	if (strcmp(mode, "posix_spawn") == 0) {
		err = posix_spawn(&pid, "/bin/sleep", NULL, NULL, args, environ);
		if (err != 0) {
			errno = err;
			die("posix_spawn");
		}
		return pid;
	}
	if (strcmp(mode, "posix_spawnp") == 0) {
		err = posix_spawnp(&pid, "sleep", NULL, NULL, args, environ);
		if (err != 0) {
			errno = err;
			die("posix_spawnp");
		}
		return pid;
	}
	if (strcmp(mode, "forkexec") == 0 || strcmp(mode, "vforkexec") == 0) {
		pid = strcmp(mode, "forkexec") == 0 ? fork() : vfork();
		if (pid < 0)
			die("fork");
		if (pid == 0) {
			execv("/bin/sleep", args);
			_exit(127);
		}
		return pid;
	}
	if (strcmp(mode, "system") == 0 || strcmp(mode, "popen") == 0) {
		int n;

		if (strchr(report_path, '\'') != NULL)
			usage();
		n = snprintf(child_file, sizeof child_file, "%s.child", report_path);
		if (n < 0 || (size_t)n >= sizeof child_file)
			usage();
		n = snprintf(shell_cmd, sizeof shell_cmd,
			     "echo $$ >'%s.tmp' && mv '%s.tmp' '%s' && exec sleep %s", child_file,
			     child_file, child_file, secs_arg);
		if (n < 0 || (size_t)n >= sizeof shell_cmd)
			usage();
		if (strcmp(mode, "system") == 0) {
			pthread_t th;
			err = pthread_create(&th, NULL, system_thread, NULL);
			if (err != 0) {
				errno = err;
				die("pthread_create");
			}
		} else if (popen(shell_cmd, "r") == NULL) {
			die("popen");
		}
		return read_child_file();
	}
	usage();
	return -1;
}

int main(int argc, char **argv)
{
	const char *mode, *go = NULL;
	struct stat st;
	pid_t child;
	long i;
	int opt;

	if (argc < 2)
		usage();
	mode = argv[1];
	optind = 2;
	while ((opt = getopt(argc, argv, "o:g:t:")) != -1) {
		switch (opt) {
		case 'o':
			report_path = optarg;
			break;
		case 'g':
			go = optarg;
			break;
		case 't':
			life_secs = parse_long(optarg, 1, 3600);
			snprintf(secs_arg, sizeof secs_arg, "%ld", life_secs);
			break;
		default:
			usage();
		}
	}
	if (optind != argc || report_path == NULL || go == NULL)
		usage();
	child = start_child(mode);
	write_report(child);
	for (i = 0; i < life_secs * 100; i++) {
		if (stat(go, &st) == 0)
			exit(0);
		sleep_ms(10);
	}
	return 4;
}
