/* SPDX-License-Identifier: MIT */
/* swapper: a hostile renamer for the path tests (tests/hostile.bash).
 *
 * swapper SECS A B [READY]
 *
 * Exchanges the names A and B (renameat2 RENAME_EXCHANGE: both always
 * exist, one atomic step, a directory and a symbolic link alike) as fast as
 * it can, for SECS seconds or 50 million exchanges, whichever comes first,
 * then exits by itself: a test that forgets it cannot leave it running.
 * SIGTERM ends it early. Creates READY (if given) after the first
 * exchange. A and B are left as they were found when it ends (an even
 * number of exchanges).
 *
 * Exit status: 0 done; 2 usage; 3 the first exchange failed (message on
 * stderr).
 */
#define HELPER_NAME "swapper"
#define HELPER_USAGE "swapper SECS A B [READY]"
#include "common.h"

#include <sys/syscall.h>

static volatile sig_atomic_t stop;

static void on_term(int sig)
{
	(void)sig;
	stop = 1;
}

static int exchange(const char *a, const char *b)
{
	/* renameat2 through syscall(): glibc has a wrapper since 2.28, musl
	 * only recently; RENAME_EXCHANGE is (1 << 1) in linux/fs.h. */
	return (int)syscall(SYS_renameat2, AT_FDCWD, a, AT_FDCWD, b, 1 << 1);
}

int main(int argc, char **argv)
{
	if (argc < 4 || argc > 5)
		usage();
	char *end;
	long secs = strtol(argv[1], &end, 10);
	if (*end || secs < 1 || secs > 600)
		usage();
	signal(SIGTERM, on_term);
	if (exchange(argv[2], argv[3]) < 0) {
		fprintf(stderr, "swapper: exchange %s %s: %s\n", argv[2], argv[3], strerror(errno));
		return 3;
	}
	if (argc == 5) {
		int fd = open(argv[4], O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
		if (fd >= 0)
			close(fd);
	}
	struct timespec t0, now;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	long n = 1;
	for (; n < 50000000L; n++) {
		if ((n & 1) == 0 && stop)
			break;
		if ((n & 1023) == 0) {
			clock_gettime(CLOCK_MONOTONIC, &now);
			if (now.tv_sec - t0.tv_sec >= secs && (n & 1) == 0)
				break;
		}
		exchange(argv[2], argv[3]);
	}
	if (n & 1)
		exchange(argv[2], argv[3]);
	return 0;
}
