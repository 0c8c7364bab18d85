/* SPDX-License-Identifier: MIT */
/* The PID file's format, in one place: "PID\n", written by the holder and
 * read by everyone else (pidfile(3) keeps its whole format in one function
 * too). A lock held through a cluster plugin names its holder with the
 * socket's owner instead (backend.h); these functions dispatch on the
 * lock's kind.
 */
#include "core.h"
#include "sys.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

int pl_write_pid(const struct pl_lock *lk, pid_t pid, off_t old_size)
{
	if (lk->kind == PL_LOCK_PLUGIN) /* the socket's owner names the instance (backend.h) */
		return pl_fcntl(lk->fd, F_SETOWN, pid) < 0 ? -1 : 0;
	char buf[24];
	size_t n = pl_fmt_num(buf, (long long)pid);
	buf[n++] = '\n';
	/* One pwrite of the whole line, then cut what a longer old number left:
	 * a reader sees either the old line or the new one in the first line,
	 * never an empty file (truncating first would show one). */
	ssize_t w = pl_pwrite(lk->fd, buf, n, 0);
	if (w != (ssize_t)n)
		return -1;
	if ((old_size < 0 || old_size > (off_t)n) && ftruncate(lk->fd, (off_t)n) < 0)
		return -1;
	return 0;
}

/* A clean exit that cannot remove the file (the program dropped its
 * privileges: the directory is no longer its to change) leaves "PID\n\n":
 * still "PID\n" to every reader that takes the first line (cat, pkill -F,
 * start-stop-daemon, systemd), and a mark for the one that can remove it
 * (handover.c, the tidy process) and for `pidlock status`: not a crash. */
int pl_write_clean_exit(const struct pl_lock *lk, pid_t pid)
{
	if (lk->kind != PL_LOCK_FILE)
		return 0;
	char buf[24];
	size_t n = pl_fmt_num(buf, (long long)pid);
	buf[n++] = '\n';
	buf[n++] = '\n';
	return pl_pwrite(lk->fd, buf, n, 0) == (ssize_t)n ? 0 : -1;
}

int pl_is_clean_exit(int fd)
{
	char buf[32];
	ssize_t n;
	do
		n = pread(fd, buf, sizeof(buf), 0);
	while (n < 0 && errno == EINTR);
	ssize_t i = 0;
	while (i < n && buf[i] >= '0' && buf[i] <= '9')
		i++;
	return i > 0 && n == i + 2 && buf[i] == '\n' && buf[i + 1] == '\n';
}

pid_t pl_read_pid_once(int fd)
{
	char buf[32];
	ssize_t n;
	do
		n = pread(fd, buf, sizeof(buf) - 1, 0);
	while (n < 0 && errno == EINTR);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	/* Exactly digits then a newline: anything else is a file being written
	 * or one we did not write. */
	long long v = 0;
	ssize_t i = 0;
	for (; i < n && buf[i] >= '0' && buf[i] <= '9'; i++) {
		v = v * 10 + (buf[i] - '0');
		if (v > 0x7fffffff)
			return 0;
	}
	if (i == 0 || i >= n || buf[i] != '\n')
		return 0;
	return (pid_t)v;
}

pid_t pl_read_pid(const struct pl_lock *lk)
{
	if (lk->kind == PL_LOCK_PLUGIN) { /* a session socket: its owner (backend.h) */
		int owner = pl_fcntl(lk->fd, F_GETOWN, 0);
		return owner > 0 ? (pid_t)owner : 0;
	}
	return pl_read_pid_once(lk->fd);
}

/* A PID file holds digits and newlines, and little of them ("PID\n"; while
 * a holder rewrites a longer number, briefly "45\n78\n"). Anything else at
 * the path is somebody's data, never to be rewritten or deleted. */
int pl_looks_like_pid_file(int fd, off_t size)
{
	char buf[64];
	if (size == 0)
		return 1;
	if (size > (off_t)sizeof(buf))
		return 0;
	ssize_t n = pread(fd, buf, sizeof(buf), 0);
	if (n < 0)
		return 0;
	for (ssize_t i = 0; i < n; i++)
		if ((buf[i] < '0' || buf[i] > '9') && buf[i] != '\n')
			return 0;
	return 1;
}
