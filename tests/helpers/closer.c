/* SPDX-License-Identifier: MIT */
/* closer: a program that closes descriptors it does not know about
 * (tests/closefds.bats, guarantee 7).
 *
 * closer MODE -o REPORT [-p PIDFILE] [-f TARGET] [-t SECS]
 *
 * First finds the lock descriptor: the fd whose fstat matches stat(PIDFILE)
 * (PIDFILE defaults to $PIDLOCK_HELD, then $PIDLOCK_FILE). Then MODE:
 *   close          close(lockfd), which must return 0
 *   loop           close(fd) for every fd from 3 up to RLIMIT_NOFILE (at most
 *                  2^20); each must return 0 or fail with EBADF, the lock fd 0
 *   closefrom      closefrom(3)
 *   close_range    close_range(3, ~0U, 0), which must return 0
 *   close_range_fd close_range(lockfd, lockfd, 0), which must return 0
 *   close_range_cloexec  close_range(3, ~0U, CLOSE_RANGE_CLOEXEC), 0
 *   raw_close_range      syscall(SYS_close_range, 3, ~0U, 0): through libc's syscall()
 *   dup2           t = open(TARGET); dup2(t, lockfd) must return lockfd; lockfd
 *                  must then name TARGET; writes "written through fd N\n" to
 *                  lockfd and closes t
 *   dup3           the same with dup3(t, lockfd, O_CLOEXEC)
 *   dup2close      dup2 as above, then close(lockfd) must return 0 and really
 *                  close the program's file (fcntl(lockfd, F_GETFD) -> EBADF)
 * REPORT (atomic): "ok MODE lockfd=N" or "fail MODE lockfd=N: why", or
 * "nolock" when no descriptor on PIDFILE was found at start. Then the program
 * waits for SIGTERM (exit(0)), at most SECS seconds (default 30, exit(4)).
 *
 * Exit status 2: usage; 3: no lock descriptor at start; 5: a check failed.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define HELPER_NAME "closer"
#define HELPER_USAGE "closer MODE -o REPORT [-p PIDFILE] [-f TARGET] [-t SECS]"
#include "common.h"

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

static const char *report_path;
static long life_secs = 30;

/* A report path too long for its .tmp twin is a usage error, but closer
 * never printed the usage line for it: plain exit(2). */
static void write_report(const char *text)
{
	if (write_report_or_exit(report_path, text, 3) != 0)
		exit(2);
}

static char why[512];

static int failf(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof why, fmt, ap);
	va_end(ap);
	return -1;
}

static int do_loop(int lockfd)
{
	long limit = fd_loop_limit(), fd;

	if (lockfd >= limit)
		return failf("lock fd %d is beyond the limit %ld", lockfd, limit);
	for (fd = 3; fd < limit; fd++) {
		int r = close((int)fd);
		if (fd == lockfd && r != 0)
			return failf("close(lockfd) returned %d (%s)", r, strerror(errno));
		if (r != 0 && errno != EBADF)
			return failf("close(%ld): %s", fd, strerror(errno));
	}
	return 0;
}

static int do_dup(const char *mode, int lockfd, const char *target)
{
	struct stat a, b;
	char text[64];
	int t, r, n;

	if (target == NULL)
		usage();
	t = open(target, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (t < 0)
		return failf("open %s: %s", target, strerror(errno));
	if (t == lockfd)
		return failf("open returned the lock fd %d", t);
	if (strcmp(mode, "dup3") == 0)
		r = dup3(t, lockfd, O_CLOEXEC);
	else
		r = dup2(t, lockfd);
	if (r != lockfd)
		return failf("%s(%d, %d) returned %d (%s)", mode, t, lockfd, r, strerror(errno));
	if (fstat(lockfd, &a) != 0 || fstat(t, &b) != 0)
		return failf("fstat after %s: %s", mode, strerror(errno));
	if (a.st_dev != b.st_dev || a.st_ino != b.st_ino)
		return failf("fd %d does not name %s after %s", lockfd, target, mode);
	if (strcmp(mode, "dup3") == 0 && !(fcntl(lockfd, F_GETFD) & FD_CLOEXEC))
		return failf("dup3 O_CLOEXEC did not set FD_CLOEXEC on %d", lockfd);
	n = snprintf(text, sizeof text, "written through fd %d\n", lockfd);
	if (write_all(lockfd, text, (size_t)n) != 0)
		return failf("write to fd %d: %s", lockfd, strerror(errno));
	if (close(t) != 0)
		return failf("close(%d): %s", t, strerror(errno));
	if (strcmp(mode, "dup2close") == 0) {
		r = close(lockfd);
		if (r != 0)
			return failf("close(%d) of the dup2 target returned %d (%s)", lockfd, r,
				     strerror(errno));
		errno = 0;
		if (fcntl(lockfd, F_GETFD) != -1 || errno != EBADF)
			return failf("fd %d still open after the program closed it", lockfd);
	}
	return 0;
}

static int run_mode(const char *mode, int lockfd, const char *target)
{
	int r;

	if (strcmp(mode, "close") == 0) {
		r = close(lockfd);
		if (r != 0)
			return failf("close(%d) returned %d (%s)", lockfd, r, strerror(errno));
		return 0;
	}
	if (strcmp(mode, "loop") == 0)
		return do_loop(lockfd);
#ifdef __GLIBC__ /* musl (1.2.3) has neither closefrom nor close_range */
	if (strcmp(mode, "closefrom") == 0) {
		closefrom(3);
		return 0;
	}
	if (strcmp(mode, "close_range") == 0) {
		r = close_range(3, ~0U, 0);
		if (r != 0)
			return failf("close_range returned %d (%s)", r, strerror(errno));
		return 0;
	}
	if (strcmp(mode, "close_range_fd") == 0) {
		r = close_range((unsigned)lockfd, (unsigned)lockfd, 0);
		if (r != 0)
			return failf("close_range returned %d (%s)", r, strerror(errno));
		return 0;
	}
	if (strcmp(mode, "close_range_cloexec") == 0) {
		r = close_range(3, ~0U, CLOSE_RANGE_CLOEXEC);
		if (r != 0)
			return failf("close_range returned %d (%s)", r, strerror(errno));
		return 0;
	}
#endif
	if (strcmp(mode, "raw_close_range") == 0) {
		long lr = syscall(SYS_close_range, 3U, ~0U, 0U);
		if (lr != 0)
			return failf("syscall(SYS_close_range) returned %ld (%s)", lr,
				     strerror(errno));
		return 0;
	}
	if (strcmp(mode, "dup2") == 0 || strcmp(mode, "dup3") == 0 ||
	    strcmp(mode, "dup2close") == 0)
		return do_dup(mode, lockfd, target);
	usage();
	return -1;
}

int main(int argc, char **argv)
{
	const char *mode, *pidfile = NULL, *target = NULL;
	char text[700];
	sigset_t set;
	int opt, lockfd, ok;

	if (argc < 2)
		usage();
	mode = argv[1];
	optind = 2;
	while ((opt = getopt(argc, argv, "o:p:f:t:")) != -1) {
		switch (opt) {
		case 'o':
			report_path = optarg;
			break;
		case 'p':
			pidfile = optarg;
			break;
		case 'f':
			target = optarg;
			break;
		case 't':
			life_secs = parse_long(optarg, 1, 3600);
			break;
		default:
			usage();
		}
	}
	if (optind != argc || report_path == NULL)
		usage();
	if (pidfile == NULL)
		pidfile = getenv("PIDLOCK_HELD");
	if (pidfile == NULL)
		pidfile = getenv("PIDLOCK_FILE");
	if (pidfile == NULL)
		usage();

	block_sigterm(&set);

	lockfd = find_lock_fd(pidfile);
	if (lockfd < 0) {
		write_report("nolock\n");
		return 3;
	}
	ok = run_mode(mode, lockfd, target) == 0;
	if (ok)
		snprintf(text, sizeof text, "ok %s lockfd=%d\n", mode, lockfd);
	else
		snprintf(text, sizeof text, "fail %s lockfd=%d: %s\n", mode, lockfd, why);
	write_report(text);
	if (!ok)
		return 5;

	await_sigterm(&set, life_secs);
}
