/* SPDX-License-Identifier: MIT */
/* ctorprobe: a preloadable library whose constructor records what it saw of
 * pidlock, to find out in which order glibc runs the constructors of
 * preloaded libraries (tests/hardening.bats). Not a helper program: the test
 * builds it with -shared -fPIC into its own directory (the Makefile builds
 * every tests/helpers/NAME.c as a program, hence this folder).
 *
 * At load, it appends one line to the file named by CTORPROBE_OUT:
 *   "file F held H exec X pidfile P locked L"
 * F, H, X: 1 if PIDLOCK_FILE, PIDLOCK_HELD, PIDLOCK_EXEC are set at that
 * moment (the shim's constructor turns PIDLOCK_FILE into PIDLOCK_HELD and
 * consumes PIDLOCK_EXEC, so they tell whether it has run yet); P: 1 if the
 * PID file named by either already holds this process's PID; L: 1 if
 * /proc/locks shows a flock on that file's inode. It never takes the lock
 * itself: a probe that locks would make the shim see a second instance.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int names_us(const char *path)
{
	char want[32], got[32];
	ssize_t n;
	int fd;

	if (path == NULL)
		return 0;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return 0;
	n = read(fd, got, sizeof(got) - 1);
	close(fd);
	if (n < 0)
		return 0;
	got[n] = '\0';
	snprintf(want, sizeof(want), "%ld\n", (long)getpid());
	return strcmp(got, want) == 0;
}

/* A FLOCK line of /proc/locks whose "MAJ:MIN:INODE" field ends in the
 * file's inode (the device is written in hex there; the inode is enough for
 * a file the test made). */
static int flocked(const char *path)
{
	char line[256], tail[32];
	struct stat st;
	FILE *f;
	int found = 0;

	if (path == NULL || stat(path, &st) != 0)
		return 0;
	snprintf(tail, sizeof(tail), ":%llu ", (unsigned long long)st.st_ino);
	f = fopen("/proc/locks", "re");
	if (f == NULL)
		return 0;
	while (!found && fgets(line, sizeof(line), f) != NULL)
		found = strstr(line, " FLOCK ") != NULL && strstr(line, " -> ") == NULL &&
			strstr(line, tail) != NULL;
	fclose(f);
	return found;
}

__attribute__((constructor)) static void ctorprobe_init(void)
{
	const char *out = getenv("CTORPROBE_OUT");
	const char *file = getenv("PIDLOCK_FILE");
	const char *held = getenv("PIDLOCK_HELD");
	const char *path = held != NULL ? held : file;
	char line[128];
	int fd, len;

	if (out == NULL)
		return;
	len = snprintf(line, sizeof(line), "file %d held %d exec %d pidfile %d locked %d\n",
		       file != NULL, held != NULL, getenv("PIDLOCK_EXEC") != NULL, names_us(path),
		       flocked(path));
	fd = open(out, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (fd < 0)
		return;
	/* A failed or short write needs no report: the test compares the
	 * whole line and fails on a missing one. */
	ssize_t w = len > 0 ? write(fd, line, (size_t)len) : -1;
	(void)w;
	close(fd);
}
