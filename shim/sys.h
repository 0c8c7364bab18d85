/* The system calls of the start-up fast path, and the stat family, in one place.
 *
 * Why not call libc: the first call of each distinct libc function costs the
 * dynamic linker a lazy symbol resolution (600 to 800 instructions here), and
 * the fast path makes seven different calls in every program it starts. On
 * 64-bit Linux they all go through syscall(), which is resolved once; the
 * kernel's struct stat is glibc's there. Elsewhere, the libc functions.
 * Each returns like libc: -1 and errno on failure.
 */
#ifndef PIDLOCK_SYS_H
#define PIDLOCK_SYS_H

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#if defined(__linux__) && (defined(__x86_64__) || defined(__aarch64__))
#include <sys/syscall.h>

/* glibc >= 2.34 keeps, at the base symbol version, the dl* and pthread
 * functions that used to live in libdl and libpthread. Binding to those
 * spares every process the check of the newer version node (the stat family
 * above does the same for 2.33). Same functions, older names. */
#if defined(__GLIBC__) && defined(__x86_64__)
__asm__(".symver dlsym,dlsym@GLIBC_2.2.5");
__asm__(".symver dlopen,dlopen@GLIBC_2.2.5");
__asm__(".symver dlerror,dlerror@GLIBC_2.2.5");
__asm__(".symver pthread_create,pthread_create@GLIBC_2.2.5");
__asm__(".symver pthread_attr_setstacksize,pthread_attr_setstacksize@GLIBC_2.2.5");
#elif defined(__GLIBC__) && defined(__aarch64__)
__asm__(".symver dlsym,dlsym@GLIBC_2.17");
__asm__(".symver dlopen,dlopen@GLIBC_2.17");
__asm__(".symver dlerror,dlerror@GLIBC_2.17");
__asm__(".symver pthread_create,pthread_create@GLIBC_2.17");
__asm__(".symver pthread_attr_setstacksize,pthread_attr_setstacksize@GLIBC_2.17");
#endif

static inline pid_t pl_getpid(void)
{
	return (pid_t)syscall(SYS_getpid);
}
static inline int pl_open(const char *path, int flags, mode_t mode)
{
	return (int)syscall(SYS_openat, AT_FDCWD, path, flags, mode);
}
static inline int pl_fstat(int fd, struct stat *st)
{
	return (int)syscall(SYS_fstat, fd, st);
}
static inline int pl_lstat(const char *path, struct stat *st)
{
	return (int)syscall(SYS_newfstatat, AT_FDCWD, path, st, AT_SYMLINK_NOFOLLOW);
}
static inline int pl_fstatat(int dirfd, const char *path, struct stat *st)
{
	return (int)syscall(SYS_newfstatat, dirfd, path, st, 0);
}
static inline int pl_flock(int fd, int op)
{
	return (int)syscall(SYS_flock, fd, op);
}
static inline ssize_t pl_pwrite(int fd, const void *buf, size_t n, off_t off)
{
	return (ssize_t)syscall(SYS_pwrite64, fd, buf, n, off);
}
static inline int pl_unlink(const char *path)
{
	return (int)syscall(SYS_unlinkat, AT_FDCWD, path, 0);
}
/* The library's own close of the lock descriptor: a call to close() from
 * inside the library binds to the exported wrapper, which keeps the lock
 * from the program's close() and would swallow ours too. */
static inline int pl_close_lock(int fd)
{
	return (int)syscall(SYS_close, fd);
}
/* The library's own fcntl(), for the same reason: a call to fcntl() from
 * inside the library binds to the exported wrapper (interpose.c), which
 * keeps the lock inheritable in tree scope, and which would cost a dlsym on
 * its first use. pl_fcntl for the commands that take an int (or nothing),
 * pl_fcntl_ptr for those that take a pointer. */
static inline int pl_fcntl(int fd, int cmd, long arg)
{
	return (int)syscall(SYS_fcntl, fd, cmd, arg);
}
static inline int pl_fcntl_ptr(int fd, int cmd, void *arg)
{
	return (int)syscall(SYS_fcntl, fd, cmd, arg);
}
/* The signal action exactly as the kernel keeps it. glibc's sigaction()
 * always adds SA_RESTORER when it sets an action, so restoring a saved
 * default through it would leave the flags changed (guarantee 10). */
struct pl_sigaction {
	void *handler;
	unsigned long flags;
	void *restorer;
	unsigned long mask;
};
static inline int pl_sigaction_get(int sig, struct pl_sigaction *old)
{
	return (int)syscall(SYS_rt_sigaction, sig, NULL, old, sizeof(old->mask));
}
static inline int pl_sigaction_set(int sig, const struct pl_sigaction *act)
{
	return (int)syscall(SYS_rt_sigaction, sig, act, NULL, sizeof(act->mask));
}
#else
#include <signal.h>
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
#define pl_getpid getpid
#define pl_open open
#define pl_fstat fstat
#define pl_lstat lstat
#define pl_fstatat(dirfd, path, st) fstatat(dirfd, path, st, 0)
#define pl_flock flock
#define pl_pwrite pwrite
#define pl_unlink unlink
#define pl_close_lock close /* dyld never interposes an image's own calls */
/* Same on macOS. On other Linux targets the library's calls reach the
 * wrapper, which passes them through unchanged: the library never sets
 * close-on-exec on the lock in tree scope. */
#define pl_fcntl fcntl
#define pl_fcntl_ptr fcntl
#endif

#endif
