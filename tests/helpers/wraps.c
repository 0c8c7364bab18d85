/* SPDX-License-Identifier: MIT */
/* wraps: every function the library wraps, called as unusual programs call
 * it (tests/interpose.bats; DESIGN.md, "What each wrapper changes").
 *
 * wraps all
 *   The differential scenarios: each prints one line of what a program can
 *   observe (return values, errno names, a child's exit status, a caught
 *   signal), never a PID or a descriptor number, so that a run without the
 *   library, one with it inert and one holding the lock print the same
 *   bytes. Exit status 0.
 * wraps exit-order          atexit handler, then a destructor, each a line
 * wraps _exit N | _Exit N   leaves with that status at once
 *
 * Attacks on the lock (guarantee 14, 7, 5), each then waits for SIGTERM
 * (exit 0; exit 4 after 30 s) unless said otherwise:
 * wraps clonevm KIND REPORT   KIND: vfork-execfail, vm-_exit, vm-exit,
 *                             vfork-exit: a child made by libc's clone()
 *                             with CLONE_VM (and CLONE_VFORK) leaves that
 *                             way; REPORT gets "parent PID"
 * wraps clonerace N REPORT    two threads each clone() N copies (no
 *                             CLONE_VM), each copy's function returning its
 *                             own code; REPORT "mismatches K"; exits 0
 * wraps sysdup KIND PIDFILE REPORT   KIND dup2 or dup3 through syscall()
 *                             onto the descriptor open on PIDFILE
 * wraps sysexec KIND REPORT   KIND execve or execveat through syscall(): the
 *                             program executes itself (then "wraps sleep")
 * wraps sysfcntl PIDFILE REPORT  syscall(SYS_fcntl, lock, F_SETFD,
 *                             FD_CLOEXEC), then fork + exec "sleep 30", then
 *                             exits 0 at once; REPORT "child PID"
 * wraps seccomp KIND [fork]   installs an allow-list filter whose default
 *                             action kills (KIND prctl, syscall-prctl,
 *                             syscall-seccomp, libseccomp), optionally after
 *                             forking a child that exits at once, writes
 *                             "sandboxed" and returns from main (exit 0)
 * wraps detach N              N times: fork, setsid in the copy, exec
 *                             /bin/true; prints the slowest spawn in ms
 * wraps sleep                 writes nothing, waits for SIGTERM
 *
 * Exit status 2: usage; 3: a system call failed; 4: gave up waiting.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define HELPER_NAME "wraps"
#define HELPER_USAGE                                                                               \
	"wraps all | exit-order | _exit N | _Exit N | clonevm KIND REPORT | clonerace N REPORT |"  \
	" sysdup dup2|dup3 PIDFILE REPORT | sysexec execve|execveat REPORT |"                     \
	" sysfcntl PIDFILE REPORT | seccomp KIND [fork] | detach N | sleep"
#include "common.h"

#ifndef SYS_clone3
#define SYS_clone3 435 /* the generic table's number, x86_64's too; musl lacks it */
#endif
#ifndef SYS_close_range
#define SYS_close_range 436
#endif
#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

/* clone3's argument, version 0 (64 bytes), as in <linux/sched.h>. */
struct wr_clone_args {
	uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls;
};

extern char **environ;

/* ---- what a scenario prints ---- */

static const char *err_name(int e)
{
	switch (e) {
	case EBADF: return "EBADF";
	case EINVAL: return "EINVAL";
	case EFAULT: return "EFAULT";
	case ENOENT: return "ENOENT";
	case ENOSYS: return "ENOSYS";
	case EPERM: return "EPERM";
	case EACCES: return "EACCES";
	case ENOEXEC: return "ENOEXEC";
	case ENOTDIR: return "ENOTDIR";
	case 0: return "0";
	default: return "other";
	}
}

/* "name: r=R errno=E" with R as -1 or "ok" (a non-negative result). */
static void say(const char *name, long r, int e)
{
	if (r < 0)
		printf("%s: -1 %s\n", name, err_name(e));
	else
		printf("%s: ok\n", name);
	fflush(stdout);
}
#define CALL(name, expr)                                                                           \
	do {                                                                                       \
		errno = 0;                                                                         \
		long r_ = (long)(expr);                                                            \
		say(name, r_, errno);                                                              \
	} while (0)

/* How a child ended, as one word. */
static void say_child(const char *name, pid_t pid, int flags)
{
	int st;
	if (pid < 0) {
		printf("%s: -1 %s\n", name, err_name(errno));
	} else if (waitpid(pid, &st, flags) != pid) {
		printf("%s: cannot reap: %s\n", name, err_name(errno));
	} else if (WIFEXITED(st)) {
		printf("%s: exited %d\n", name, WEXITSTATUS(st));
	} else if (WIFSIGNALED(st)) {
		printf("%s: killed by %d\n", name, WTERMSIG(st));
	}
	fflush(stdout);
}

static int child_fn(void *arg)
{
	return (int)(intptr_t)arg;
}

static char *new_stack(void)
{
	char *s = malloc(256 * 1024);
	if (!s)
		die("malloc");
	return s + 256 * 1024;
}

static volatile sig_atomic_t alarms;

static void on_alarm(int sig)
{
	(void)sig;
	alarms++;
}

/* ---- the differential scenarios ---- */

static void scenario_close(void)
{
	CALL("close(-1)", close(-1));
	CALL("close(99999)", close(99999));
	int keep = errno = 1234;
	close(dup(1));
	printf("close keeps errno: %s\n", errno == keep ? "yes" : "no");
	CALL("syscall(SYS_close, -1)", syscall(SYS_close, -1));
	CALL("close_range(5, 3)", syscall(SYS_close_range, 5, 3, 0));
	CALL("close_range(bad flags)", syscall(SYS_close_range, 3, 3, 0x80));
	/* Descriptors of the program's own at high numbers, then a range
	 * closed over them (and over whatever the library keeps). */
	for (int fd = 200; fd < 203; fd++)
		if (dup2(0, fd) < 0)
			die("dup2");
	CALL("close_range(200, ~0)", syscall(SYS_close_range, 200, ~0U, 0));
	printf("range closed: %s\n", fcntl(201, F_GETFD) < 0 && errno == EBADF ? "yes" : "no");
	for (int fd = 200; fd < 203; fd++)
		if (dup2(0, fd) < 0)
			die("dup2");
	CALL("close_range(200, ~0, CLOEXEC)", syscall(SYS_close_range, 200, ~0U, CLOSE_RANGE_CLOEXEC));
	printf("range cloexec: %s\n", (fcntl(202, F_GETFD) & FD_CLOEXEC) ? "yes" : "no");
	syscall(SYS_close_range, 200, ~0U, 0);
#if defined(__GLIBC__) && (__GLIBC__ > 2 || __GLIBC_MINOR__ >= 34)
	for (int fd = 200; fd < 203; fd++)
		if (dup2(0, fd) < 0)
			die("dup2");
	closefrom(201);
	printf("closefrom: %s %s\n", fcntl(200, F_GETFD) >= 0 ? "kept" : "closed",
	       fcntl(202, F_GETFD) < 0 ? "closed" : "kept");
	close(200);
	CALL("close_range libc(5, 3)", close_range(5, 3, 0));
#endif
}

static void scenario_dup(void)
{
	CALL("dup2(-1, 5)", dup2(-1, 5));
	CALL("dup2(99999, 5)", dup2(99999, 5));
	CALL("dup2(1, 1)", dup2(1, 1));
	CALL("dup3(1, 1)", dup3(1, 1, 0));
	CALL("dup3(bad flags)", dup3(1, 210, 0x4000000));
	CALL("syscall(SYS_dup3, 1, 1)", syscall(SYS_dup3, 1, 1, 0));
	CALL("syscall(SYS_dup3, -1, 5)", syscall(SYS_dup3, -1, 5, 0));
#ifdef SYS_dup2
	CALL("syscall(SYS_dup2, -1, 5)", syscall(SYS_dup2, -1, 5));
#endif
	CALL("fcntl(-1, F_GETFD)", fcntl(-1, F_GETFD));
	CALL("fcntl(1, 99999)", fcntl(1, 99999));
	CALL("syscall(SYS_fcntl, -1)", syscall(SYS_fcntl, -1, F_GETFD));
	CALL("ioctl(-1, FIOCLEX)", ioctl(-1, FIOCLEX));
	CALL("syscall(SYS_ioctl, -1)", syscall(SYS_ioctl, -1, FIOCLEX));
}

static void scenario_children(void)
{
	pid_t p;
	fflush(NULL);
	p = fork();
	if (p == 0)
		_exit(7);
	say_child("fork", p, 0);
	p = vfork();
	if (p == 0)
		_exit(3);
	say_child("vfork", p, 0);
#if defined(__GLIBC__) && (__GLIBC__ > 2 || __GLIBC_MINOR__ >= 34)
	p = _Fork();
	if (p == 0)
		_exit(4);
	say_child("_Fork", p, 0);
#endif
	char *stack = new_stack();
	say_child("clone(SIGCHLD)", clone(child_fn, stack, SIGCHLD, (void *)5), 0);
	say_child("clone(CLONE_VM)", clone(child_fn, stack, CLONE_VM | SIGCHLD, (void *)6), 0);
	say_child("clone(CLONE_VM|CLONE_VFORK)",
		  clone(child_fn, stack, CLONE_VM | CLONE_VFORK | SIGCHLD, (void *)8), 0);
	say_child("clone(CLONE_FILES)", clone(child_fn, stack, CLONE_FILES | SIGCHLD, (void *)9), 0);
	say_child("clone(exit signal 0)", clone(child_fn, stack, 0, (void *)10), __WALL);
	CALL("clone(NULL fn)", clone(NULL, stack, SIGCHLD, NULL));
	CALL("clone(CLONE_THREAD alone)", clone(child_fn, stack, CLONE_THREAD | SIGCHLD, NULL));
	p = (pid_t)syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0);
	if (p == 0)
		_exit(9);
	say_child("syscall(SYS_clone)", p, 0);
	struct wr_clone_args ca;
	memset(&ca, 0, sizeof(ca));
	ca.exit_signal = SIGCHLD;
	p = (pid_t)syscall(SYS_clone3, &ca, sizeof(ca));
	if (p == 0)
		_exit(11);
	say_child("syscall(SYS_clone3)", p, 0);
	CALL("syscall(SYS_clone3, bad pointer)", syscall(SYS_clone3, (void *)8, sizeof(ca)));
	CALL("syscall(SYS_clone3, NULL)", syscall(SYS_clone3, NULL, sizeof(ca)));
	CALL("syscall(SYS_clone3, size 0)", syscall(SYS_clone3, &ca, 0));
#ifdef SYS_fork
	p = (pid_t)syscall(SYS_fork);
	if (p == 0)
		_exit(12);
	say_child("syscall(SYS_fork)", p, 0);
#endif
	free(stack - 256 * 1024);
}

/* A pointer no compiler can see through: the kernel is what must answer. */
static char **volatile bad_envp = (char **)8;
static char *volatile bad_string = (char *)8;

static void scenario_syscall(void)
{
	CALL("syscall(100000)", syscall(100000));
	CALL("syscall(-1)", syscall(-1));
	printf("syscall(SYS_getpid) is getpid: %s\n",
	       syscall(SYS_getpid) == (long)getpid() ? "yes" : "no");
	char *argv[] = {"true", NULL};
	CALL("syscall(SYS_execve, missing)", syscall(SYS_execve, "/nonexistent/x", argv, environ));
	CALL("syscall(SYS_execve, bad envp)", syscall(SYS_execve, "/bin/true", argv, bad_envp));
	CALL("syscall(SYS_execveat, missing)",
	     syscall(SYS_execveat, AT_FDCWD, "/nonexistent/x", argv, environ, 0));
	CALL("prctl(PR_GET_DUMPABLE)", prctl(PR_GET_DUMPABLE, 0, 0, 0, 0));
	CALL("prctl(bad option)", prctl(999999, 0, 0, 0, 0));
	CALL("syscall(SYS_prctl, bad)", syscall(SYS_prctl, 999999, 0, 0, 0, 0));
	CALL("syscall(SYS_seccomp, bad op)", syscall(SYS_seccomp, 999, 0, NULL));
}

static void scenario_exec(void)
{
	char *argv[] = {"true", NULL};
	char *bad_env[] = {bad_string, NULL};
	CALL("execve(missing)", execve("/nonexistent/x", argv, environ));
	CALL("execve(bad envp)", execve("/bin/true", argv, bad_envp));
	CALL("execve(bad env string)", execve("/bin/true", argv, bad_env));
	CALL("execv(missing)", execv("/nonexistent/x", argv));
	CALL("execvp(missing)", execvp("pidlock-no-such-command", argv));
	CALL("execvpe(missing)", execvpe("pidlock-no-such-command", argv, environ));
	CALL("execl(missing)", execl("/nonexistent/x", "x", (char *)NULL));
	CALL("execlp(missing)", execlp("pidlock-no-such-command", "x", (char *)NULL));
	CALL("execle(missing)", execle("/nonexistent/x", "x", (char *)NULL, environ));
	CALL("fexecve(-1)", fexecve(-1, argv, environ));
#ifdef __GLIBC__ /* musl has no execveat() */
	CALL("execveat(missing)", execveat(AT_FDCWD, "/nonexistent/x", argv, environ, 0));
#endif
	CALL("execve(a directory)", execve("/", argv, environ));
}

static void scenario_session(void)
{
	/* A process group leader may not start a session. */
	if (getpgrp() == getpid())
		CALL("setsid(group leader)", setsid());
	else
		printf("setsid(group leader): -1 EPERM\n");
	fflush(NULL);
	pid_t p = fork();
	if (p == 0)
		_exit(setsid() > 0 ? 0 : 1);
	say_child("setsid(fork copy)", p, 0);
}

static void scenario_timer(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm;
	sigaction(SIGALRM, &sa, NULL);
	struct itimerval it = {{0, 0}, {0, 50000}};
	setitimer(ITIMER_REAL, &it, NULL);
	for (int i = 0; i < 200 && !alarms; i++) {
		struct timespec ts = {0, 10 * 1000000L};
		nanosleep(&ts, NULL);
	}
	printf("timer: %s\n", alarms == 1 ? "fired once" : "not as set");
	signal(SIGALRM, SIG_DFL);
}

/* ---- the attacks ---- */

static char *report_path;

static void report(const char *what, long v)
{
	FILE *f = fopen(report_path, "w");
	if (!f)
		die(report_path);
	fprintf(f, "%s %ld\n", what, v);
	if (fclose(f))
		die("fclose");
}

static _Noreturn void wait_term(void)
{
	sigset_t set;
	int sig;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigprocmask(SIG_BLOCK, &set, NULL);
	struct timespec limit = {30, 0};
	sig = sigtimedwait(&set, NULL, &limit);
	exit(sig == SIGTERM ? 0 : 4);
}

static int vm_child(void *arg)
{
	const char *kind = arg;
	if (strcmp(kind, "vfork-execfail") == 0) {
		char *argv[] = {"x", NULL};
		execve("/nonexistent/pidlock-test", argv, environ);
		_exit(127);
	}
	if (strcmp(kind, "vm-_exit") == 0)
		_exit(0);
	exit(0); /* vm-exit, vfork-exit: the exit handlers run in the child */
}

static int attack_clonevm(const char *kind)
{
	int flags = SIGCHLD | CLONE_VM;
	if (strcmp(kind, "vfork-execfail") == 0 || strcmp(kind, "vfork-exit") == 0)
		flags |= CLONE_VFORK;
	else if (strcmp(kind, "vm-_exit") != 0 && strcmp(kind, "vm-exit") != 0)
		usage();
	fflush(NULL);
	pid_t p = clone(vm_child, new_stack(), flags, (void *)kind);
	if (p < 0)
		die("clone");
	int st;
	if (waitpid(p, &st, 0) != p)
		die("waitpid");
	report("parent", getpid());
	wait_term();
}

struct racer {
	int base, n, mismatches;
};

static int race_child(void *arg)
{
	return (int)(intptr_t)arg;
}

static void *race(void *arg)
{
	struct racer *r = arg;
	for (int i = 0; i < r->n; i++) {
		int code = r->base + i % 50;
		char *stack = new_stack();
		pid_t p = clone(race_child, stack, SIGCHLD, (void *)(intptr_t)code);
		int st;
		if (p < 0 || waitpid(p, &st, 0) != p || !WIFEXITED(st) || WEXITSTATUS(st) != code)
			r->mismatches++;
		free(stack - 256 * 1024);
	}
	return NULL;
}

static int attack_clonerace(long n)
{
	struct racer a = {10, (int)n, 0}, b = {100, (int)n, 0};
	pthread_t ta, tb;
	fflush(NULL);
	if (pthread_create(&ta, NULL, race, &a) || pthread_create(&tb, NULL, race, &b))
		die("pthread_create");
	pthread_join(ta, NULL);
	pthread_join(tb, NULL);
	report("mismatches", a.mismatches + b.mismatches);
	return 0;
}

/* The descriptor open on path (the library's lock), or -1. */
static int fd_on(const char *path)
{
	char link[64], target[4096];
	for (int fd = 0; fd < 1024; fd++) {
		snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
		ssize_t n = readlink(link, target, sizeof(target) - 1);
		if (n <= 0)
			continue;
		target[n] = '\0';
		if (strcmp(target, path) == 0)
			return fd;
	}
	return -1;
}

static int attack_sysdup(const char *kind, const char *pidfile)
{
	int lockfd = fd_on(pidfile), null = open("/dev/null", O_RDONLY);
	if (lockfd < 0 || null < 0)
		die("no descriptor on the PID file");
	long r;
	if (strcmp(kind, "dup3") == 0)
		r = syscall(SYS_dup3, null, lockfd, 0);
#ifdef SYS_dup2
	else if (strcmp(kind, "dup2") == 0)
		r = syscall(SYS_dup2, null, lockfd);
#endif
	else
		usage();
	if (r != lockfd)
		die("dup");
	report("parent", getpid());
	wait_term();
}

static int attack_sysexec(const char *kind, const char *self)
{
	char *argv[] = {"wraps", "sleep", NULL};
	report("parent", getpid());
	if (strcmp(kind, "execve") == 0)
		syscall(SYS_execve, self, argv, environ);
	else if (strcmp(kind, "execveat") == 0)
		syscall(SYS_execveat, AT_FDCWD, self, argv, environ, 0);
	else
		usage();
	die("exec");
}

static int attack_sysfcntl(const char *pidfile)
{
	int lockfd = fd_on(pidfile);
	if (lockfd < 0)
		die("no descriptor on the PID file");
	if (syscall(SYS_fcntl, lockfd, F_SETFD, FD_CLOEXEC) != 0)
		die("fcntl");
	fflush(NULL);
	pid_t p = fork();
	if (p < 0)
		die("fork");
	if (p == 0) {
		execlp("sleep", "sleep", "30", (char *)NULL);
		_exit(127);
	}
	report("child", p);
	return 0;
}

/* ---- seccomp: an allow-list filter whose default action kills ---- */

/* Classic BPF and seccomp's values (linux/filter.h, linux/seccomp.h), here
 * because musl-gcc's include path has no kernel headers. */
struct wr_sock_filter {
	uint16_t code;
	uint8_t jt, jf;
	uint32_t k;
};
struct wr_sock_fprog {
	unsigned short len;
	struct wr_sock_filter *filter;
};
#define WR_LD_NR {0x20, 0, 0, 0}                  /* BPF_LD|BPF_W|BPF_ABS: seccomp_data.nr */
#define WR_RET(k) {0x06, 0, 0, (k)}               /* BPF_RET|BPF_K */
#define WR_ALLOW_RET 0x7fff0000U                   /* SECCOMP_RET_ALLOW */
#define WR_KILL_PROCESS 0x80000000U                /* SECCOMP_RET_KILL_PROCESS */
#define WR_MODE_FILTER 2                           /* SECCOMP_MODE_FILTER, for prctl */
#define WR_SET_MODE_FILTER 1                       /* SECCOMP_SET_MODE_FILTER, for seccomp */
#define ALLOW(nr) {0x15, 0, 1, (uint32_t)(nr)}, WR_RET(WR_ALLOW_RET) /* BPF_JMP|BPF_JEQ|BPF_K */

static int attack_seccomp(const char *kind, int with_fork)
{
	if (with_fork) {
		fflush(NULL);
		pid_t p = fork();
		if (p == 0)
			_exit(0);
		if (p < 0 || waitpid(p, NULL, 0) != p)
			die("fork");
	}
	/* What printing a line and exiting need, nothing more: no getpid, no
	 * open, no flock, no unlink, no getdents. */
	struct wr_sock_filter prog[] = {
	    WR_LD_NR,
	    ALLOW(SYS_write), ALLOW(SYS_exit_group), ALLOW(SYS_exit), ALLOW(SYS_rt_sigreturn),
	    ALLOW(SYS_brk), ALLOW(SYS_mmap), ALLOW(SYS_munmap), ALLOW(SYS_futex),
	    ALLOW(SYS_newfstatat), ALLOW(SYS_fstat), ALLOW(SYS_lseek), ALLOW(SYS_rt_sigprocmask),
	    ALLOW(SYS_getrandom),
	    WR_RET(WR_KILL_PROCESS),
	};
	struct wr_sock_fprog fprog = {(unsigned short)(sizeof(prog) / sizeof(prog[0])), prog};
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		die("PR_SET_NO_NEW_PRIVS");
	long r;
	if (strcmp(kind, "prctl") == 0) {
		r = prctl(PR_SET_SECCOMP, WR_MODE_FILTER, &fprog, 0, 0);
	} else if (strcmp(kind, "syscall-prctl") == 0) {
		r = syscall(SYS_prctl, PR_SET_SECCOMP, WR_MODE_FILTER, &fprog, 0, 0);
	} else if (strcmp(kind, "syscall-seccomp") == 0) {
		r = syscall(SYS_seccomp, WR_SET_MODE_FILTER, 0, &fprog);
	} else if (strcmp(kind, "libseccomp") == 0) {
		/* The real library, as programs use it: its seccomp_load() goes
		 * through libc's syscall(). Opened here so that building the
		 * helpers needs no libseccomp-dev. */
		void *h = dlopen("libseccomp.so.2", RTLD_NOW);
		if (!h)
			die("dlopen libseccomp.so.2");
		void *(*init)(uint32_t) = (void *(*)(uint32_t))dlsym(h, "seccomp_init");
		int (*rule)(void *, uint32_t, int, unsigned, ...) =
		    (int (*)(void *, uint32_t, int, unsigned, ...))dlsym(h, "seccomp_rule_add");
		int (*load)(void *) = (int (*)(void *))dlsym(h, "seccomp_load");
		if (!init || !rule || !load)
			die("libseccomp symbols");
		void *ctx = init(0x80000000U); /* SCMP_ACT_KILL_PROCESS */
		const int allowed[] = {SYS_write, SYS_exit_group, SYS_exit, SYS_rt_sigreturn, SYS_brk,
				       SYS_mmap, SYS_munmap, SYS_futex, SYS_newfstatat, SYS_fstat,
				       SYS_lseek, SYS_rt_sigprocmask, SYS_getrandom};
		for (size_t i = 0; ctx && i < sizeof(allowed) / sizeof(allowed[0]); i++)
			if (rule(ctx, 0x7fff0000U /* SCMP_ACT_ALLOW */, allowed[i], 0) < 0)
				die("seccomp_rule_add");
		r = ctx ? load(ctx) : -1;
	} else {
		usage();
	}
	if (r != 0)
		die("installing the filter");
	printf("sandboxed\n");
	return 0;
}

static int attack_detach(long n)
{
	long worst = 0;
	for (long i = 0; i < n; i++) {
		struct timespec a, b;
		clock_gettime(CLOCK_MONOTONIC, &a);
		fflush(NULL);
		pid_t p = fork();
		if (p == 0) {
			if (setsid() < 0)
				_exit(5);
			execl("/bin/true", "true", (char *)NULL);
			_exit(127);
		}
		int st;
		if (p < 0 || waitpid(p, &st, 0) != p || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
			die("detached child");
		clock_gettime(CLOCK_MONOTONIC, &b);
		long ms = (b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000;
		if (ms > worst)
			worst = ms;
	}
	printf("slowest spawn %ld ms\n", worst);
	return 0;
}

static void at_exit_line(void)
{
	printf("atexit handler\n");
}

__attribute__((destructor)) static void dtor_line(void)
{
	if (getenv("WRAPS_DTOR"))
		printf("destructor\n");
}

int main(int argc, char **argv)
{
	if (argc < 2)
		usage();
	const char *m = argv[1];
	if (strcmp(m, "all") == 0 && argc == 2) {
		scenario_close();
		scenario_dup();
		scenario_children();
		scenario_syscall();
		scenario_exec();
		scenario_session();
		scenario_timer();
		return 0;
	}
	if (strcmp(m, "exit-order") == 0 && argc == 2) {
		setenv("WRAPS_DTOR", "1", 1);
		atexit(at_exit_line);
		return 0;
	}
	if (strcmp(m, "_exit") == 0 && argc == 3)
		_exit((int)parse_long(argv[2], 0, 255));
	if (strcmp(m, "_Exit") == 0 && argc == 3)
		_Exit((int)parse_long(argv[2], 0, 255));
	if (strcmp(m, "clonevm") == 0 && argc == 4) {
		report_path = argv[3];
		return attack_clonevm(argv[2]);
	}
	if (strcmp(m, "clonerace") == 0 && argc == 4) {
		report_path = argv[3];
		return attack_clonerace(parse_long(argv[2], 1, 100000));
	}
	if (strcmp(m, "sysdup") == 0 && argc == 5) {
		report_path = argv[4];
		return attack_sysdup(argv[2], argv[3]);
	}
	if (strcmp(m, "sysexec") == 0 && argc == 4) {
		report_path = argv[3];
		char self[4096];
		ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
		if (n <= 0)
			die("readlink /proc/self/exe");
		self[n] = '\0';
		return attack_sysexec(argv[2], self);
	}
	if (strcmp(m, "sysfcntl") == 0 && argc == 4) {
		report_path = argv[3];
		return attack_sysfcntl(argv[2]);
	}
	if (strcmp(m, "seccomp") == 0 && (argc == 3 || (argc == 4 && strcmp(argv[3], "fork") == 0)))
		return attack_seccomp(argv[2], argc == 4);
	if (strcmp(m, "detach") == 0 && argc == 3)
		return attack_detach(parse_long(argv[2], 1, 10000));
	if (strcmp(m, "sleep") == 0 && argc == 2)
		wait_term();
	usage();
}
