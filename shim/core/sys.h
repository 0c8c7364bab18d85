/* SPDX-License-Identifier: MIT */
/* The system calls of the start-up fast path, and the stat family, in one place.
 *
 * Why not call libc: the first call of each distinct libc function costs the
 * dynamic linker a lazy symbol resolution (600 to 800 instructions here), and
 * the fast path makes some ten system calls in every program it starts. On
 * 64-bit Linux (x86_64, aarch64) they are made directly, with the kernel's
 * calling convention (pl_sc below): no libc symbol at all, and the
 * program's own syscall() can be interposed (interpose.c) without the
 * library calling itself. The kernel's struct stat is glibc's there.
 * Elsewhere, the libc functions. Each returns like libc: -1 and errno.
 */
#ifndef PIDLOCK_SYS_H
#define PIDLOCK_SYS_H

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#if defined(__linux__) && (defined(__x86_64__) || defined(__aarch64__))
#include <errno.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#define PL_RAW_SYSCALLS 1

/* One system call with up to six arguments, as the kernel takes them. */
static inline long pl_sys6(long n, long a, long b, long c, long d, long e, long f)
{
#if defined(__x86_64__)
	register long r10 __asm__("r10") = d;
	register long r8 __asm__("r8") = e;
	register long r9 __asm__("r9") = f;
	long ret;
	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
			 : "rcx", "r11", "memory");
	return ret;
#else
	register long x8 __asm__("x8") = n;
	register long x0 __asm__("x0") = a;
	register long x1 __asm__("x1") = b;
	register long x2 __asm__("x2") = c;
	register long x3 __asm__("x3") = d;
	register long x4 __asm__("x4") = e;
	register long x5 __asm__("x5") = f;
	__asm__ volatile("svc 0"
			 : "+r"(x0)
			 : "r"(x8), "r"(x1), "r"(x2), "r"(x3), "r"(x4), "r"(x5)
			 : "memory");
	return x0;
#endif
}

/* The kernel's -errno into libc's -1 and errno. */
static inline long pl_sysret(long r)
{
	if ((unsigned long)r > -4096UL) {
		errno = (int)-r;
		return -1;
	}
	return r;
}

/* pl_sc(SYS_x, args...): like syscall(), missing arguments passed as 0. */
#define PL_SC_(n, a, b, c, d, e, f, ...)                                                           \
	pl_sysret(pl_sys6((long)(n), (long)(a), (long)(b), (long)(c), (long)(d), (long)(e), (long)(f)))
#ifdef __clang_analyzer__
/* The analyzer cannot see a system call instruction fill a buffer; libc's
 * syscall() has no body it can see either, which it takes as "may write". */
#define pl_sc syscall
#else
#define pl_sc(...) PL_SC_(__VA_ARGS__, 0, 0, 0, 0, 0, 0, 0)
#endif

/* glibc >= 2.34 keeps, at the base symbol version, the dl* and pthread
 * functions that used to live in libdl and libpthread. Binding to those
 * spares every process the check of the newer version node (the stat family
 * above does the same for 2.33). Same functions, older names. */
#if defined(__GLIBC__) && defined(__x86_64__)
__asm__(".symver dlsym,dlsym@GLIBC_2.2.5");
__asm__(".symver dlopen,dlopen@GLIBC_2.2.5");
__asm__(".symver dlerror,dlerror@GLIBC_2.2.5");
__asm__(".symver dladdr,dladdr@GLIBC_2.2.5");
__asm__(".symver pthread_create,pthread_create@GLIBC_2.2.5");
__asm__(".symver pthread_attr_setstacksize,pthread_attr_setstacksize@GLIBC_2.2.5");
#elif defined(__GLIBC__) && defined(__aarch64__)
__asm__(".symver dlsym,dlsym@GLIBC_2.17");
__asm__(".symver dlopen,dlopen@GLIBC_2.17");
__asm__(".symver dlerror,dlerror@GLIBC_2.17");
__asm__(".symver dladdr,dladdr@GLIBC_2.17");
__asm__(".symver pthread_create,pthread_create@GLIBC_2.17");
__asm__(".symver pthread_attr_setstacksize,pthread_attr_setstacksize@GLIBC_2.17");
#endif

static inline pid_t pl_getpid(void)
{
	return (pid_t)pl_sc(SYS_getpid);
}
static inline int pl_open(const char *path, int flags, mode_t mode)
{
	return (int)pl_sc(SYS_openat, AT_FDCWD, path, flags, mode);
}
static inline int pl_fstat(int fd, struct stat *st)
{
	return (int)pl_sc(SYS_fstat, fd, st);
}
static inline int pl_lstat(const char *path, struct stat *st)
{
	return (int)pl_sc(SYS_newfstatat, AT_FDCWD, path, st, AT_SYMLINK_NOFOLLOW);
}
static inline int pl_fstatat(int dirfd, const char *path, struct stat *st)
{
	return (int)pl_sc(SYS_newfstatat, dirfd, path, st, 0);
}
static inline int pl_flock(int fd, int op)
{
	return (int)pl_sc(SYS_flock, fd, op);
}
static inline ssize_t pl_pwrite(int fd, const void *buf, size_t n, off_t off)
{
	return (ssize_t)pl_sc(SYS_pwrite64, fd, buf, n, off);
}
static inline int pl_unlink(const char *path)
{
	return (int)pl_sc(SYS_unlinkat, AT_FDCWD, path, 0);
}
static inline off_t pl_lseek(int fd, off_t off, int whence)
{
	return (off_t)pl_sc(SYS_lseek, fd, off, whence);
}
/* The library's one way to close a descriptor of its own: a call to
 * close() from inside the library binds to the exported wrapper
 * (interpose.c), which keeps the lock from the program's close(), would
 * swallow ours too, and costs a dlsym on its first use. */
static inline int pl_close(int fd)
{
	return (int)pl_sc(SYS_close, fd);
}
static inline int pl_raise(int sig)
{
	return (int)pl_sc(SYS_kill, pl_sc(SYS_getpid), sig);
}
/* The soft and hard RLIMIT_FSIZE of this process. */
static inline int pl_prlimit_fsize(unsigned long long lim[2])
{
	return (int)pl_sc(SYS_prlimit64, 0, RLIMIT_FSIZE, NULL, lim);
}
/* The library's own fcntl(), for the same reason: a call to fcntl() from
 * inside the library binds to the exported wrapper (interpose.c), which
 * keeps the lock inheritable in tree scope, and which would cost a dlsym on
 * its first use. pl_fcntl for the commands that take an int (or nothing),
 * pl_fcntl_ptr for those that take a pointer. */
static inline int pl_fcntl(int fd, int cmd, long arg)
{
	return (int)pl_sc(SYS_fcntl, fd, cmd, arg);
}
static inline int pl_fcntl_ptr(int fd, int cmd, void *arg)
{
	return (int)pl_sc(SYS_fcntl, fd, cmd, arg);
}
/* The signal action exactly as the kernel keeps it. glibc's sigaction() always
 * adds SA_RESTORER when it sets an action, so restoring a saved default through
 * it would leave the flags changed (DESIGN.md, guarantee 10). */
struct pl_sigaction {
	void *handler;
	unsigned long flags;
	void *restorer;
	unsigned long mask;
};
static inline int pl_sigaction_get(int sig, struct pl_sigaction *old)
{
	return (int)pl_sc(SYS_rt_sigaction, sig, NULL, old, sizeof(old->mask));
}
static inline int pl_sigaction_set(int sig, const struct pl_sigaction *act)
{
	return (int)pl_sc(SYS_rt_sigaction, sig, act, NULL, sizeof(act->mask));
}
/* Ignores sig, keeping the old action in *old for pl_sigaction_set. */
static inline int pl_sigaction_ignore(int sig, struct pl_sigaction *old)
{
	struct pl_sigaction ign = {(void *)SIG_IGN, 0, NULL, 0};
	return (int)pl_sc(SYS_rt_sigaction, sig, &ign, old, sizeof(ign.mask));
}
#else
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
static inline int pl_raise(int sig)
{
	return kill(getpid(), sig);
}
static inline int pl_prlimit_fsize(unsigned long long lim[2])
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_FSIZE, &rl) < 0)
		return -1;
	lim[0] = rl.rlim_cur == RLIM_INFINITY ? ~0ULL : (unsigned long long)rl.rlim_cur;
	lim[1] = rl.rlim_max == RLIM_INFINITY ? ~0ULL : (unsigned long long)rl.rlim_max;
	return 0;
}
struct pl_sigaction {
	struct sigaction sa;
};
static inline int pl_sigaction_get(int sig, struct pl_sigaction *old)
{
	return sigaction(sig, NULL, &old->sa);
}
static inline int pl_sigaction_set(int sig, const struct pl_sigaction *act)
{
	return sigaction(sig, &act->sa, NULL);
}
static inline int pl_sigaction_ignore(int sig, struct pl_sigaction *old)
{
	struct sigaction ign;
	memset(&ign, 0, sizeof(ign));
	ign.sa_handler = SIG_IGN;
	return sigaction(sig, &ign, &old->sa);
}
#define pl_getpid getpid
#define pl_open open
#define pl_fstat fstat
#define pl_lstat lstat
#define pl_fstatat(dirfd, path, st) fstatat(dirfd, path, st, 0)
#define pl_flock flock
#define pl_pwrite pwrite
#define pl_unlink unlink
#define pl_lseek lseek
#define pl_close close /* dyld never interposes an image's own calls */
#ifdef __linux__
#define pl_sc syscall
#endif
/* Same on macOS. On other Linux targets the library's calls reach the
 * wrapper, which passes them through unchanged: the library never sets
 * close-on-exec on the lock in tree scope. */
#define pl_fcntl fcntl
#define pl_fcntl_ptr fcntl
#endif

#endif
