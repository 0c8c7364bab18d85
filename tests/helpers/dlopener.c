/* SPDX-License-Identifier: MIT */
/* dlopener: a program that loads the shim with dlopen() after main has
 * changed its environment (tests/hardening.bats).
 *
 * dlopener LIB PIDFILE [close]
 *   setenv()s PIDLOCK_FILE=PIDFILE and a few other names (the first new
 *   name makes glibc move the environment into a heap array of exactly the
 *   size it needs, so anything that reads past its end is caught by
 *   valgrind), then dlopen()s LIB, whose constructor runs at that moment
 *   with that environment. Prints on stdout:
 *     pid PID
 *     file yes|no    PIDFILE holds exactly "PID\n"
 *     locked yes|no  a lock attempt of our own on PIDFILE is refused
 *                    (EWOULDBLOCK): somebody, the shim, holds it
 *   and exits 0 (the shim's exit path tidies as at any exit). With "close",
 *   it dlclose()s LIB first: the library must stay mapped for its exit
 *   path (the library is linked with -z nodelete).
 *
 * Exit status 2: usage; 3: a system call failed; 5: dlopen failed.
 */
#include <dlfcn.h>
#include <sys/file.h>

#define HELPER_NAME "dlopener"
#define HELPER_USAGE "dlopener LIB PIDFILE [close]"
#include "common.h"

int main(int argc, char **argv)
{
	char want[32], got[32];
	ssize_t n;
	int fd, file_ok = 0, locked = 0;

	if (argc != 3 && (argc != 4 || strcmp(argv[3], "close") != 0))
		usage();
	if (setenv("DLOPENER_A", "1", 1) != 0 || setenv("PIDLOCK_FILE", argv[2], 1) != 0 ||
	    setenv("DLOPENER_B", "2", 1) != 0)
		die("setenv");
	void *lib = dlopen(argv[1], RTLD_NOW | RTLD_GLOBAL);
	if (lib == NULL) {
		fprintf(stderr, "%s: dlopen: %s\n", HELPER_NAME, dlerror());
		return 5;
	}
	if (argc == 4 && dlclose(lib) != 0)
		die("dlclose");
	snprintf(want, sizeof(want), "%ld\n", (long)getpid());
	fd = open(argv[2], O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		n = read(fd, got, sizeof(got) - 1);
		if (n >= 0) {
			got[n] = '\0';
			file_ok = strcmp(got, want) == 0;
		}
		/* A descriptor of our own: its flock conflicts with the shim's. */
		locked = flock(fd, LOCK_EX | LOCK_NB) != 0 && errno == EWOULDBLOCK;
		close(fd);
	}
	printf("pid %ld\nfile %s\nlocked %s\n", (long)getpid(), file_ok ? "yes" : "no",
	       locked ? "yes" : "no");
	return 0;
}
