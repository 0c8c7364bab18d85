/* SPDX-License-Identifier: MIT */
/* bsd_pidfile: the pidfile(3) way, as a launcher, for comparison.
 *
 *   bsd_pidfile FILE [COMMAND [ARG]...]
 *
 * Takes FILE with libbsd's pidfile_open() (open + flock, non-blocking),
 * writes this process's PID with pidfile_write(), then EXECUTES COMMAND in
 * the same process, so the PID in the file is COMMAND's, as with pidlock.
 * pidfile_open() may open the file close-on-exec (FreeBSD's does; Debian's
 * libbsd 0.11 does not), so the flag is cleared first (two fcntl calls): the
 * lock then lives as long as COMMAND does. Without COMMAND it just exits
 * (the kernel releases the lock; the file is left, as after a crash).
 *
 * Exit status when another instance holds FILE: 75 (as pidlock's default),
 * 71 on any other error, 127 if COMMAND cannot be executed.
 */
#define _GNU_SOURCE
#include <bsd/libutil.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: bsd_pidfile FILE [COMMAND [ARG]...]\n");
		return 64;
	}
	pid_t other = -1;
	struct pidfh *pfh = pidfile_open(argv[1], 0644, &other);
	if (!pfh) {
		if (errno == EEXIST) {
			fprintf(stderr, "bsd_pidfile: %s: already running as PID %ld\n", argv[1],
				(long)other);
			return 75;
		}
		fprintf(stderr, "bsd_pidfile: %s: %s\n", argv[1], strerror(errno));
		return 71;
	}
	if (pidfile_write(pfh) < 0) {
		fprintf(stderr, "bsd_pidfile: %s: cannot write: %s\n", argv[1], strerror(errno));
		return 71;
	}
	if (argc < 3)
		return 0;
	int fd = pidfile_fileno(pfh);
	int fl = fcntl(fd, F_GETFD);
	if (fl < 0 || fcntl(fd, F_SETFD, fl & ~FD_CLOEXEC) < 0) {
		fprintf(stderr, "bsd_pidfile: %s: %s\n", argv[1], strerror(errno));
		return 71;
	}
	execvp(argv[2], argv + 2);
	fprintf(stderr, "bsd_pidfile: %s: %s\n", argv[2], strerror(errno));
	return 127;
}
