/* SPDX-License-Identifier: MIT */
/* stamp: the benchmark's stand-in program.
 *
 *   stamp        prints CLOCK_MONOTONIC in nanoseconds, first thing in main,
 *                and exits 0. As a waiter, that number is the moment its main
 *                began, i.e. the end of a handover.
 *   stamp hold   prints "ready PID", then blocks reading stdin; at EOF it
 *                prints CLOCK_MONOTONIC in nanoseconds and calls _exit(0) at
 *                once. As a holder, that number is the start of a handover.
 *   stamp --lock FILE [hold]
 *                the same, but first takes flock(LOCK_EX) on FILE itself,
 *                waiting for it: the floor of any flock-based handover (no
 *                exec, no library, nothing but the kernel's wake-up), and a
 *                lean holder for the others.
 *
 * No stdio: one write() of a line built by hand, so nothing is buffered and
 * nothing but the clock read sits between the stamp and main (or _exit).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

static size_t fmt_u(char *out, unsigned long long v)
{
	char tmp[24];
	size_t n = 0, len = 0;
	do
		tmp[n++] = (char)('0' + v % 10);
	while (v /= 10);
	while (n)
		out[len++] = tmp[--n];
	return len;
}

static unsigned long long now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (unsigned long long)ts.tv_sec * 1000000000ULL + (unsigned long long)ts.tv_nsec;
}

static void put_line(const char *prefix, unsigned long long v)
{
	char buf[64];
	size_t len = strlen(prefix);
	memcpy(buf, prefix, len);
	len += fmt_u(buf + len, v);
	buf[len++] = '\n';
	/* A pipe write of under PIPE_BUF bytes is atomic: one line, whole. */
	(void)!write(1, buf, len);
}

int main(int argc, char **argv)
{
	unsigned long long t = now_ns();
	int hold = 0;
	if (argc >= 3 && strcmp(argv[1], "--lock") == 0) {
		int fd = open(argv[2], O_RDWR | O_CREAT | O_CLOEXEC, 0644);
		int r;
		while ((r = flock(fd, LOCK_EX)) < 0 && errno == EINTR)
			;
		if (fd < 0 || r < 0)
			return 71;
		t = now_ns();
		argv += 2;
		argc -= 2;
	}
	if (argc == 2 && strcmp(argv[1], "hold") == 0) {
		hold = 1;
	} else if (argc != 1) {
		static const char usage[] = "usage: stamp [--lock FILE] [hold]\n";
		(void)!write(2, usage, sizeof(usage) - 1);
		return 64;
	}
	if (!hold) {
		put_line("", t);
		return 0;
	}
	put_line("ready ", (unsigned long long)getpid());
	char c;
	ssize_t r;
	/* Bounded by the driver: it closes our stdin, or kills us by PID. */
	while ((r = read(0, &c, 1)) != 0) {
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			break;
	}
	put_line("", now_ns());
	_exit(0);
}
