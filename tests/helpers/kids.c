/* SPDX-License-Identifier: MIT */
/* kids: children made WITHOUT the interposed fork() (tests/attack.bats,
 * guarantee 14 of docs/DESIGN.md), and programs that fork while someone
 * holds a POSIX lock on the PID file (guarantee 12).
 *
 * kids KIND exit REPORT
 *   KIND is _Fork, clone (raw syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0)),
 *   clone3 (raw syscall(SYS_clone3, ...)) or vfork. The child calls exit(0)
 *   at once, which runs the exit handlers and library destructors (the shim's
 *   too) in the child. The parent reaps it, writes REPORT
 *   ("parent PID" / "child PID"), then waits for SIGTERM (exit 0; exit 4
 *   after 30 s).
 *
 * kids KIND orphan REPORT GOFILE
 *   KIND is _Fork, clone or clone3. The child waits for GOFILE to exist (at
 *   most 30 s, then exit 4) and calls exit(0); the parent writes REPORT
 *   ("parent PID" / "child PID") and calls exit(0) at once, leaving the child
 *   holding the inherited lock.
 *
 * kids vfork-dup2 REPORT PIDFILE
 *   Finds the descriptor open on PIDFILE (the shim's lock), makes a vfork()
 *   child that dup2()s /dev/null onto that number and calls _exit(0); then
 *   the parent closes every descriptor from 3 to 1023, as a daemon does,
 *   writes REPORT ("parent PID" / "lockfd N") and waits for SIGTERM.
 *
 * kids vfork-setsid REPORT [-n]
 *   A vfork() child calls setsid() and _exit(0) (with -n: no vfork child at
 *   all, the control case). The parent then fork()s a child C and calls
 *   exit(0). C waits until the parent has gone (at most 30 s), then
 *   executes "sleep 30", another program. REPORT: "parent PID" / "child PID".
 *
 * kids forkexit N
 *   fork()s N children that each call exit(0) at once, reaps them, and
 *   exits 0: every exit is a hand-over turn between fork copies.
 *
 * kids lockf PIDFILE
 *   A daemon that lockf()s its own PID file: opens PIDFILE read-write, takes
 *   a POSIX write lock on the whole file with lockf(F_LOCK), fork()s a child
 *   that calls exit(0), reaps it and exits 0.
 *
 * Exit status 2: usage; 3: a system call failed; 4: gave up waiting.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define HELPER_NAME "kids"
#define HELPER_USAGE                                                                               \
	"kids _Fork|clone|clone3|vfork exit REPORT | _Fork|clone|clone3 orphan REPORT GOFILE |"    \
	" vfork-dup2 REPORT PIDFILE | vfork-setsid REPORT [-n] | forkexit N | lockf PIDFILE"
#include "common.h"

#define LIFE_SECS 30

/* clone3's argument, version 0 (64 bytes), as in <linux/sched.h>, which not
 * every C library's headers carry (musl's do not). The system call number is
 * 435 on every architecture with the generic table, x86_64 included. */
struct kids_clone_args {
	uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls;
};
#if !defined(SYS_clone3) && (defined(__x86_64__) || defined(__aarch64__))
#define SYS_clone3 435
#endif

/* A child of the given kind: 0 in the child, its PID in the parent. Never
 * vfork here: a vfork child must not return from the function that made it. */
static pid_t make_child(const char *kind)
{
	pid_t pid;

	/* Nothing buffered that a child's exit() could flush twice. */
	fflush(NULL);
	if (strcmp(kind, "_Fork") == 0) {
		pid = _Fork();
	} else if (strcmp(kind, "clone") == 0) {
		/* x86_64 and arm64 argument order: flags, stack, parent_tid,
		 * child_tid (arm64: tls), tls (arm64: child_tid); all zero but the
		 * flags, so the order does not matter. Stack 0: the child runs on
		 * a copy of ours, as after fork(). */
		pid = (pid_t)syscall(SYS_clone, (unsigned long)SIGCHLD, 0UL, 0UL, 0UL, 0UL);
	} else if (strcmp(kind, "clone3") == 0) {
#ifdef SYS_clone3
		struct kids_clone_args args;
		memset(&args, 0, sizeof args);
		args.exit_signal = (uint64_t)SIGCHLD;
		pid = (pid_t)syscall(SYS_clone3, &args, sizeof args);
#else
		errno = ENOSYS;
		pid = -1;
#endif
	} else {
		usage();
	}
	if (pid < 0)
		die(kind);
	return pid;
}

static void reap(pid_t pid)
{
	int st;

	while (waitpid(pid, &st, 0) < 0) {
		if (errno != EINTR)
			die("waitpid");
	}
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		fprintf(stderr, "kids: child %ld ended with wait status %d\n", (long)pid, st);
		exit(3);
	}
}

static void report(const char *path, const char *text)
{
	if (write_report_or_die(path, text, "write report") != 0) {
		fprintf(stderr, "kids: report path too long\n");
		exit(2);
	}
}

static void report_pair(const char *path, const char *k1, long v1, const char *k2, long v2)
{
	char text[128];

	snprintf(text, sizeof text, "%s %ld\n%s %ld\n", k1, v1, k2, v2);
	report(path, text);
}

static void wait_for_file(const char *path)
{
	long i;

	for (i = 0; i < LIFE_SECS * 20L; i++) {
		if (access(path, F_OK) == 0)
			return;
		sleep_ms(50);
	}
	fprintf(stderr, "kids: gave up waiting for %s\n", path);
	exit(4);
}

static int do_exit(const char *kind, const char *path)
{
	sigset_t set;
	pid_t pid;

	if (block_sigterm(&set) != 0)
		die("sigprocmask");
	if (strcmp(kind, "vfork") == 0) {
		fflush(NULL);
		pid = vfork();
		if (pid < 0)
			die("vfork");
		if (pid == 0)
			exit(0); /* the case of guarantee 14: exit(), not _exit() */
	} else {
		pid = make_child(kind);
		if (pid == 0)
			exit(0);
	}
	reap(pid);
	report_pair(path, "parent", (long)getpid(), "child", (long)pid);
	await_sigterm(&set, LIFE_SECS);
}

static int do_orphan(const char *kind, const char *path, const char *go)
{
	pid_t pid = make_child(kind);

	if (pid == 0) {
		wait_for_file(go);
		exit(0);
	}
	report_pair(path, "parent", (long)getpid(), "child", (long)pid);
	exit(0);
}

/* Its own function, so that no local of the caller lives across vfork(). */
static __attribute__((noinline)) pid_t vfork_dup2(int nul, int lockfd)
{
	pid_t pid;

	fflush(NULL);
	pid = vfork();
	if (pid == 0) {
		/* The child's own descriptor table: this replaces only the
		 * child's copy of the lock descriptor. */
		if (dup2(nul, lockfd) < 0)
			_exit(3);
		_exit(0);
	}
	return pid;
}

static int do_vfork_dup2(const char *path, const char *pidfile)
{
	sigset_t set;
	pid_t pid;
	int lockfd, nul;
	long fd;

	if (block_sigterm(&set) != 0)
		die("sigprocmask");
	lockfd = find_lock_fd(pidfile);
	if (lockfd < 0) {
		fprintf(stderr, "kids: no descriptor open on %s\n", pidfile);
		exit(3);
	}
	nul = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (nul < 0)
		die("/dev/null");
	pid = vfork_dup2(nul, lockfd);
	if (pid < 0)
		die("vfork");
	reap(pid);
	/* A daemon's close-everything loop: the shim must keep the lock. */
	for (fd = 3; fd < 1024; fd++) {
		if (close((int)fd) != 0 && errno != EBADF)
			die("close");
	}
	report_pair(path, "parent", (long)getpid(), "lockfd", (long)lockfd);
	await_sigterm(&set, LIFE_SECS);
}

static int do_vfork_setsid(const char *path, int control)
{
	pid_t pid, parent = getpid();
	long i;

	if (!control) {
		fflush(NULL);
		pid = vfork();
		if (pid < 0)
			die("vfork");
		if (pid == 0) {
			if (setsid() < 0)
				_exit(3);
			_exit(0);
		}
		reap(pid);
	}
	pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		for (i = 0; i < LIFE_SECS * 100L && getppid() == parent; i++)
			sleep_ms(10);
		if (getppid() == parent)
			_exit(4);
		execl("/bin/sleep", "sleep", "30", (char *)NULL);
		_exit(127);
	}
	report_pair(path, "parent", (long)parent, "child", (long)pid);
	exit(0);
}

static int do_forkexit(long n)
{
	pid_t pids[64];
	long i;

	for (i = 0; i < n; i++) {
		fflush(NULL);
		pids[i] = fork();
		if (pids[i] < 0)
			die("fork");
		if (pids[i] == 0)
			exit(0);
	}
	for (i = 0; i < n; i++)
		reap(pids[i]);
	return 0;
}

static int do_lockf(const char *pidfile)
{
	pid_t pid;
	int fd = open(pidfile, O_RDWR | O_CLOEXEC);

	if (fd < 0)
		die(pidfile);
	if (lockf(fd, F_LOCK, 0) != 0)
		die("lockf");
	fflush(NULL);
	pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0)
		exit(0);
	reap(pid);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 4 && strcmp(argv[2], "exit") == 0)
		return do_exit(argv[1], argv[3]);
	if (argc == 5 && strcmp(argv[2], "orphan") == 0 && strcmp(argv[1], "vfork") != 0)
		return do_orphan(argv[1], argv[3], argv[4]);
	if (argc == 4 && strcmp(argv[1], "vfork-dup2") == 0)
		return do_vfork_dup2(argv[2], argv[3]);
	if ((argc == 3 || (argc == 4 && strcmp(argv[3], "-n") == 0)) &&
	    strcmp(argv[1], "vfork-setsid") == 0)
		return do_vfork_setsid(argv[2], argc == 4);
	if (argc == 3 && strcmp(argv[1], "forkexit") == 0)
		return do_forkexit(parse_long(argv[2], 1, 64));
	if (argc == 3 && strcmp(argv[1], "lockf") == 0)
		return do_lockf(argv[2]);
	usage();
}
