/* SPDX-License-Identifier: MIT */
/* common.h: routines shared by the C test helpers (closer, forker, reexec,
 * spawner).
 *
 * The Makefile builds every tests/helpers/NAME.c on its own into
 * build/helpers/NAME, with no object shared between them, so the shared code
 * lives in this header as static functions rather than in a library.
 *
 * Before including it, a helper defines:
 *   HELPER_NAME   the prefix of its messages on stderr ("closer", ...)
 *   HELPER_USAGE  (optional) its usage line, without "usage: " and the
 *                 newline; defines usage()
 *
 * The functions are `static inline` because each helper uses only some of
 * them: a plain static function left unused would trip -Wunused-function,
 * and the helpers are built with -Werror.
 *
 * Every message and exit status below is the one the helpers printed before
 * they shared this code; the bats tests and anyone reading a failed run rely
 * on them.
 */
#ifndef PIDLOCK_TEST_HELPERS_COMMON_H
#define PIDLOCK_TEST_HELPERS_COMMON_H

#ifndef HELPER_NAME
#error "define HELPER_NAME before including common.h"
#endif

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#ifdef HELPER_USAGE
/* Exit status 2 means "usage" in every helper. */
static inline _Noreturn void usage(void)
{
	fprintf(stderr, "usage: " HELPER_USAGE "\n");
	exit(2);
}
#endif

/* A system call failed: status 3 in the helpers that use die(). */
static inline _Noreturn void die(const char *what)
{
	fprintf(stderr, "%s: %s: %s\n", HELPER_NAME, what, strerror(errno));
	exit(3);
}

/* A decimal option argument in [min, max]; anything else (trailing junk, an
 * empty string, overflow) is a usage error, exit 2, so that a typo in a test
 * fails loudly instead of running with a default. */
static inline long parse_long(const char *s, long min, long max)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < min || v > max) {
		fprintf(stderr, "%s: bad number: %s\n", HELPER_NAME, s);
		exit(2);
	}
	return v;
}

/* Sleeps ms milliseconds in full: a signal that interrupts nanosleep() must
 * not shorten the helpers' polling intervals. */
static inline void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* write() until all of buf is out: 0, or -1 with errno. A signal or a short
 * write must not leave half a report or half a line in a log. */
static inline int write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* How far write_atomic() got. The helpers report a failure each in its own
 * words, so it says which step failed rather than printing anything. */
enum write_step {
	WRITE_DONE,     /* path holds text */
	WRITE_TOO_LONG, /* "path.tmp" does not fit in PATH_MAX; nothing done */
	WRITE_OPEN,     /* open(tmp) failed; errno set */
	WRITE_WRITE,    /* write to tmp failed; errno set */
	WRITE_CLOSE,    /* close(tmp) failed; errno set */
	WRITE_RENAME,   /* rename(tmp, path) failed; errno set */
};

/* Writes text to path through path.tmp (left in tmp) and rename(), so that a
 * test polling for path sees either nothing or the whole report, never a
 * partly written one. */
static inline enum write_step write_atomic(const char *path, const char *text, char tmp[PATH_MAX])
{
	int fd, n;

	n = snprintf(tmp, PATH_MAX, "%s.tmp", path);
	if (n < 0 || n >= PATH_MAX)
		return WRITE_TOO_LONG;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return WRITE_OPEN;
	if (write_all(fd, text, strlen(text)) != 0) {
		int saved = errno; /* the caller reports write's errno, not close's */
		close(fd);
		errno = saved;
		return WRITE_WRITE;
	}
	if (close(fd) != 0)
		return WRITE_CLOSE;
	if (rename(tmp, path) != 0)
		return WRITE_RENAME;
	return WRITE_DONE;
}

/* write_atomic() for the helpers that report any failure as "NAME: cannot
 * write PATH: why" with exit status fail_code (closer, reexec). Returns -1
 * only when the path is too long, which those helpers treat as a usage error
 * in their own way; 0 when the report is written. */
static inline int write_report_or_exit(const char *path, const char *text, int fail_code)
{
	char tmp[PATH_MAX];
	enum write_step step = write_atomic(path, text, tmp);

	if (step == WRITE_TOO_LONG)
		return -1;
	if (step != WRITE_DONE) {
		fprintf(stderr, "%s: cannot write %s: %s\n", HELPER_NAME, path, strerror(errno));
		exit(fail_code);
	}
	return 0;
}

/* write_atomic() for the helpers that die() naming the failed step (forker,
 * spawner); write_what names the write step. Returns -1 only when the path is
 * too long, which those helpers treat as a usage error in their own way; 0
 * when the report is written. */
static inline int write_report_or_die(const char *path, const char *text, const char *write_what)
{
	char tmp[PATH_MAX];

	switch (write_atomic(path, text, tmp)) {
	case WRITE_DONE:
		return 0;
	case WRITE_TOO_LONG:
		return -1;
	case WRITE_OPEN:
		die(tmp);
	case WRITE_WRITE:
		die(write_what);
	case WRITE_CLOSE:
		die("close report");
	case WRITE_RENAME:
		die("rename report");
	}
	return -1;
}

/* The descriptor open on the same file (device and inode) as path, or -1.
 * The shim's lock descriptor has no fixed number, so a helper finds it the
 * way an outside observer would: fstat() every entry of /proc/self/fd. */
static inline int find_lock_fd(const char *path)
{
	struct stat want, st;
	struct dirent *e;
	DIR *d;
	int found = -1;

	if (stat(path, &want) != 0)
		return -1;
	d = opendir("/proc/self/fd");
	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL) {
		char *end;
		long fd;

		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		errno = 0;
		fd = strtol(e->d_name, &end, 10);
		if (errno != 0 || *end != '\0' || fd == dirfd(d) || fd > INT_MAX)
			continue;
		if (fstat((int)fd, &st) == 0 && st.st_dev == want.st_dev &&
		    st.st_ino == want.st_ino) {
			found = (int)fd;
			break;
		}
	}
	closedir(d);
	return found;
}

/* One past the highest descriptor a close-everything loop visits:
 * RLIMIT_NOFILE, 1024 when unknown or unlimited, and at most 2^20 so that a
 * huge limit cannot make the loop run for minutes. */
static inline long fd_loop_limit(void)
{
	struct rlimit rl;
	long limit = 1024;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
		limit = (long)rl.rlim_cur;
	if (limit > (1L << 20))
		limit = 1L << 20;
	return limit;
}

/* Blocks SIGTERM and fills set with it, for sigtimedwait(): the helpers take
 * SIGTERM synchronously so that they exit through exit(0), which runs the
 * atexit handlers a real program would run. Returns sigprocmask()'s result. */
static inline int block_sigterm(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGTERM);
	return sigprocmask(SIG_BLOCK, set, NULL);
}

/* Waits (SIGTERM blocked into set) for SIGTERM and exits through exit(0);
 * gives up with exit(4) after secs seconds so that no helper outlives a
 * test that forgot it. */
static inline _Noreturn void await_sigterm(const sigset_t *set, long secs)
{
	struct timespec start, now, tick = { 0, 200 * 1000 * 1000 };

	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		if (sigtimedwait(set, NULL, &tick) == SIGTERM)
			exit(0);
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec - start.tv_sec >= secs)
			exit(4);
	}
}

#endif
