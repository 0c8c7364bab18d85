/* SPDX-License-Identifier: MIT */
/* exec, fork, close and kin: hooks that keep the descriptor alive, and out
 * of children. What a call means for the lock is decided by state.c; this
 * file only catches the calls.
 *
 * Every wrapper behaves for the program exactly as the C library's own: same
 * return value, errno and signals, for every argument (DESIGN.md, guarantee
 * 17; "What each wrapper changes" lists each wrapper, what it may change and
 * its test). When pidlock is inert, or the descriptor is not involved, a
 * wrapper goes straight to the real function after one test of
 * pl_state.active. Nothing here allocates: exec wrappers may run in a vfork()
 * child. The library never calls a C library function that may not exist
 * (musl has no close_range): what it does itself, it does with the raw
 * system call (sys.h).
 */
#include "../core/sys.h"
#include "lib.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <dlfcn.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

/* The one platform difference of this file: how the real function is reached.
 * Linux: our symbol comes first in the global scope, the real one is the next
 * definition (dlsym RTLD_NEXT), looked up once on first use.
 * macOS: dyld's __DATA,__interpose table maps each real function to our
 * wrapper for every image but ours, so calling the real name from here
 * reaches the real function. A two-level namespace is kept (never a flat one). */
#ifdef __APPLE__
#define PL_EXPORT /* reached through the __interpose table, not by name */
#define WRAP(name) pl_wrap_##name
#define REAL(name) name
#define INTERPOSE(name)                                                                            \
	__attribute__((used, section("__DATA,__interpose"))) static const struct {                 \
		const void *replacement, *original;                                                \
	} pl_interpose_##name = {(const void *)(unsigned long)&WRAP(name),                         \
				 (const void *)(unsigned long)&name};
#else
#define PL_EXPORT __attribute__((visibility("default")))
#define WRAP(name) name
#define INTERPOSE(name)
#define REAL(name) ((__typeof__(&name))next_symbol(&next_##name, #name))
#define NEXT(name) static void *next_##name

/* The real function, looked up once. Only functions the program itself
 * called are looked up (its call reached us, so its C library has them);
 * still, a missing one fails loudly rather than call through a null
 * pointer. */
static void *next_symbol(void **slot, const char *name)
{
	void *f = __atomic_load_n(slot, __ATOMIC_ACQUIRE);
	if (!f) {
		f = dlsym(RTLD_NEXT, name);
		if (!f) {
			struct pl_msg m;
			pl_msg_init(&m);
			pl_msg_str(&m, "cannot find ");
			pl_msg_str(&m, name);
			pl_msg_str(&m, " in the C library");
			pl_msg_send(&m);
			abort();
		}
		__atomic_store_n(slot, f, __ATOMIC_RELEASE);
	}
	return f;
}
NEXT(close);
NEXT(dup2);
NEXT(dup3);
NEXT(closefrom);
NEXT(fork);
#if defined(__GLIBC__) && (__GLIBC__ > 2 || __GLIBC_MINOR__ >= 34)
NEXT(_Fork);
#endif
NEXT(daemon);
NEXT(setsid);
NEXT(execve);
NEXT(execvp);
NEXT(execvpe);
NEXT(fexecve);
NEXT(execveat);
#endif

static int is_lock_fd(int fd)
{
	return pl_state.active && fd == pl_state.lk.fd;
}

/* ---- closing descriptors (DESIGN.md, guarantee 7) ---- */

/* The program believes it closed a descriptor it never opened (a close-all
 * loop, python-daemon, daemonize#34): report success and keep the lock. */
PL_EXPORT int WRAP(close)(int fd)
{
	if (is_lock_fd(fd))
		return 0;
	return REAL(close)(fd);
}
INTERPOSE(close)

/* Moves the lock to another number before the program takes its number for a
 * file of its own (dup2 onto it), so the target gets the program's file. */
static int move_lock_fd(void)
{
	int cmd = pl_state.cfg.scope == PL_SCOPE_PROCESS ? F_DUPFD_CLOEXEC : F_DUPFD;
	int fd = pl_fcntl(pl_state.lk.fd, cmd, 3);
	if (fd < 0)
		return -1;
	pl_state.lk.fd = fd;
	return 0;
}

/* dup2/dup3 of oldfd onto the lock's number: move the lock out of the way
 * first, unless the call is going to fail without touching newfd (a bad
 * oldfd, bad flags: the real call then says so). A child that shares our
 * memory has a descriptor table of its own and must not move the lock in
 * ours (pl_may_act asks the kernel who it is). */
static int make_room(int oldfd, int newfd, int flags)
{
	if (oldfd == newfd || !is_lock_fd(newfd) || (flags & ~O_CLOEXEC) || !pl_may_act())
		return 0;
	if (pl_fcntl(oldfd, F_GETFD, 0) < 0)
		return 0;
	return move_lock_fd();
}

PL_EXPORT int WRAP(dup2)(int oldfd, int newfd)
{
	if (make_room(oldfd, newfd, 0) < 0)
		return -1;
	return REAL(dup2)(oldfd, newfd);
}
INTERPOSE(dup2)

#ifdef __linux__
PL_EXPORT int dup3(int oldfd, int newfd, int flags)
{
	if (make_room(oldfd, newfd, flags) < 0)
		return -1;
	return REAL(dup3)(oldfd, newfd, flags);
}

/* close_range() and closefrom() exist on Linux (glibc >= 2.34) and FreeBSD,
 * not on macOS; musl has neither, yet its programs reach close_range through
 * syscall(), so the library makes the system call itself. */
#ifndef CLOSE_RANGE_CLOEXEC
/* The kernel's values (include/uapi/linux/close_range.h, Linux 5.9, 5.11):
 * musl 1.2.3 and glibc before 2.34 have no header that defines them. */
#define CLOSE_RANGE_UNSHARE (1U << 1)
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif
#ifndef SYS_close_range
#define SYS_close_range 436 /* the same number on every architecture */
#endif

static long close_range_raw(unsigned int first, unsigned int last, unsigned int flags)
{
	return pl_sc(SYS_close_range, first, last, flags);
}

/* Splits the range around the lock. The kernel's own checks come first: a
 * range it would refuse (first > last, unknown flags) goes to it whole, so
 * that it refuses it. With the lock alone in the range, an empty range past
 * any descriptor still does what CLOSE_RANGE_UNSHARE asks. */
static long close_range_around(unsigned int first, unsigned int last, unsigned int flags)
{
	unsigned int fd = (unsigned int)pl_state.lk.fd;
	if (!pl_state.active || fd < first || fd > last ||
	    (flags & ~(CLOSE_RANGE_UNSHARE | CLOSE_RANGE_CLOEXEC)) ||
	    ((flags & CLOSE_RANGE_CLOEXEC) && pl_state.cfg.scope == PL_SCOPE_PROCESS))
		return close_range_raw(first, last, flags);
	long r = 0;
	if (fd > first)
		r = close_range_raw(first, fd - 1, flags);
	if (r == 0 && fd < last)
		r = close_range_raw(fd + 1, last, flags);
	else if (r == 0 && fd == first && (flags & CLOSE_RANGE_UNSHARE))
		r = close_range_raw(~0U, ~0U, flags);
	return r;
}

PL_EXPORT int close_range(unsigned int first, unsigned int last, int flags)
{
	return (int)close_range_around(first, last, (unsigned int)flags);
}

PL_EXPORT void closefrom(int lowfd)
{
	int fd = pl_state.lk.fd;
	if (!pl_state.active || fd < lowfd || lowfd < 0) {
		REAL(closefrom)(lowfd);
		return;
	}
	if (fd > lowfd)
		close_range_raw((unsigned int)lowfd, (unsigned int)fd - 1, 0);
	REAL(closefrom)(fd + 1);
}
#endif

/* ---- close-on-exec in tree scope (DESIGN.md, guarantee 5) ---- */

/* In tree scope every program the instance executes must inherit the lock,
 * whatever the instance does to the descriptor. node (libuv) marks each
 * inherited descriptor close-on-exec at start-up, with fcntl(F_SETFD) or
 * ioctl(FIOCLEX), so `npm run start` would hand the lock to none of its
 * children and `pidlock stop` would leave the real server running.
 * As with close(), the program never opened this descriptor and is told its
 * call succeeded. In process scope the flag is already set: nothing to do. */
static int keep_inheritable(int fd)
{
	return is_lock_fd(fd) && pl_state.cfg.scope == PL_SCOPE_TREE;
}

#ifndef __APPLE__
NEXT(fcntl);
NEXT(ioctl);
#endif

/* F_SETFD on the lock clears FD_CLOEXEC from the flags it sets. F_GETFD
 * reports the truth (no FD_CLOEXEC) rather than what the program asked for:
 * it is what exec will do, no program we know of fails when the flag did not
 * stick (libuv reads it only to skip a redundant set), and a shadow flag
 * would be one more state to carry across fork and exec.
 *
 * fcntl is variadic and most commands pass an int or a pointer, some nothing.
 * F_SETFD's argument is an int; for every other command the third argument
 * is read as a pointer-sized integer and passed on unchanged, as glibc and
 * musl do in their own fcntl (with no argument it reads an unused register
 * or stack slot, never dereferenced). */
static int fcntl_common(int (*real)(int, int, ...), int fd, int cmd, va_list ap)
{
	if (cmd == F_SETFD) {
		int flags = va_arg(ap, int);
		if (keep_inheritable(fd))
			flags &= ~FD_CLOEXEC;
		return real(fd, cmd, flags);
	}
	return real(fd, cmd, va_arg(ap, unsigned long));
}

PL_EXPORT int WRAP(fcntl)(int fd, int cmd, ...)
{
	va_list ap;
	va_start(ap, cmd);
	int r = fcntl_common(REAL(fcntl), fd, cmd, ap);
	va_end(ap);
	return r;
}
INTERPOSE(fcntl)

/* glibc >= 2.28 has fcntl64 too, and programs built with
 * _FILE_OFFSET_BITS=64 call it under that name (64-bit systems included). */
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 28)) &&            \
	!defined(__USE_FILE_OFFSET64)
NEXT(fcntl64);
PL_EXPORT int fcntl64(int fd, int cmd, ...)
{
	va_list ap;
	va_start(ap, cmd);
	int r = fcntl_common(REAL(fcntl64), fd, cmd, ap);
	va_end(ap);
	return r;
}
#endif

/* The request's type differs: unsigned long in glibc and macOS, int in musl
 * and POSIX. FIOCLEX on the lock: success, and nothing done. The argument,
 * when there is one, is a pointer or an int, passed on as glibc does. */
#if defined(__GLIBC__) || defined(__APPLE__)
typedef unsigned long pl_ioctl_req;
#else
typedef int pl_ioctl_req;
#endif

PL_EXPORT int WRAP(ioctl)(int fd, pl_ioctl_req req, ...)
{
	if (req == FIOCLEX && keep_inheritable(fd))
		return 0;
	va_list ap;
	va_start(ap, req);
	void *arg = va_arg(ap, void *);
	va_end(ap);
	return REAL(ioctl)(fd, req, arg);
}
INTERPOSE(ioctl)

/* ---- fork and daemonising (DESIGN.md, guarantee 6) ---- */

PL_EXPORT pid_t WRAP(fork)(void)
{
	if (!pl_state.active)
		return REAL(fork)();
	int mine = pl_on_copy_begin();
	return (pid_t)pl_on_copy_end(REAL(fork)(), mine);
}
INTERPOSE(fork)

#if defined(__GLIBC__) && (__GLIBC__ > 2 || __GLIBC_MINOR__ >= 34)
/* glibc's _Fork() (2.34): fork without the atfork handlers, used by some
 * runtimes; the child is a copy like fork()'s. */
PL_EXPORT pid_t _Fork(void)
{
	if (!pl_state.active)
		return REAL(_Fork)();
	int mine = pl_on_copy_begin();
	return (pid_t)pl_on_copy_end(REAL(_Fork)(), mine);
}
#endif

/* macOS marks daemon(3) deprecated; programs still call it. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
/* daemon(3) forks inside libc, out of our sight, and its parent leaves with
 * _exit: the child that carries on tells the PID file so. */
PL_EXPORT int WRAP(daemon)(int nochdir, int noclose)
{
	if (!pl_may_act())
		return REAL(daemon)(nochdir, noclose);
	pid_t before = pl_state.pid;
	pl_on_copy_begin();
	int r = REAL(daemon)(nochdir, noclose);
	if (r == 0)
		pl_on_daemon(before);
	return r;
}
INTERPOSE(daemon)
#pragma GCC diagnostic pop

PL_EXPORT pid_t WRAP(setsid)(void)
{
	pid_t r = REAL(setsid)();
	if (r >= 0 && pl_state.active)
		pl_on_setsid();
	return r;
}
INTERPOSE(setsid)

/* ---- a holder that drops its privileges (DESIGN.md, guarantee 4) ---- */

#ifdef __linux__
NEXT(setuid);
NEXT(setreuid);
NEXT(setresuid);

/* The effective UID a call will leave (-1 keeps the current one). */
PL_EXPORT int setuid(uid_t uid)
{
	if (pl_state.active)
		pl_on_uid_change(uid);
	return REAL(setuid)(uid);
}

PL_EXPORT int setreuid(uid_t ruid, uid_t euid)
{
	if (pl_state.active)
		pl_on_uid_change(euid);
	return REAL(setreuid)(ruid, euid);
}

PL_EXPORT int setresuid(uid_t ruid, uid_t euid, uid_t suid)
{
	if (pl_state.active)
		pl_on_uid_change(euid);
	return REAL(setresuid)(ruid, euid, suid);
}
#endif

/* Exit handlers do not run on _exit; the tidy step should (a daemon's
 * parent, Python's os._exit). The kernel releases the lock either way. The
 * real call is the system call itself, which is all libc's _exit is. */
PL_EXPORT void WRAP(_exit)(int status)
{
	pl_release();
	pl_leave_now(status);
}
INTERPOSE(_exit)

PL_EXPORT void WRAP(_Exit)(int status)
{
	pl_release();
	pl_leave_now(status);
}
INTERPOSE(_Exit)

/* ---- exec: the instance keeps the lock across its own exec (DESIGN.md, guarantee 5) ---- */

/* Reading the program's environment array for an exec: the program may pass
 * a pointer it never checked (execve(path, argv, (char **)8)), which the
 * kernel answers with EFAULT and which must not make us fault instead. On
 * Linux the array and its strings are first read through
 * process_vm_readv(2) on this very process, which reports an unreadable
 * address as an error rather than a signal; that costs a system call per
 * entry, on the exec of a holder only. Where that call is refused (ENOSYS,
 * EPERM under some container filters), and on macOS, they are read as they
 * are. Returns the number of entries, or (size_t)-1 when unreadable. */
#if defined(PL_RAW_SYSCALLS)
#include <sys/uio.h>
static long peek(const void *addr, void *buf, size_t n)
{
	struct iovec local = {buf, n}, remote = {(void *)(uintptr_t)addr, n};
	return pl_sc(SYS_process_vm_readv, pl_getpid(), &local, 1, &remote, 1, 0);
}

static int string_readable(const char *s)
{
	char buf[256];
	for (;;) {
		long got = peek(s, buf, sizeof(buf));
		if (got <= 0)
			return 0;
		for (long i = 0; i < got; i++)
			if (!buf[i])
				return 1; /* (a loop, not memchr: one import fewer) */
		if ((size_t)got < sizeof(buf))
			return 0;
		s += got;
	}
}
#endif

static size_t env_count(char *const *envp)
{
	size_t n = 0;
	if (!envp)
		return 0;
#if defined(PL_RAW_SYSCALLS)
	for (;;) {
		char *chunk[32];
		long got = peek(envp + n, chunk, sizeof(chunk));
		if (got < 0 && (errno == ENOSYS || errno == EPERM))
			break; /* cannot check: read as it is */
		if (got < (long)sizeof(chunk[0]))
			return (size_t)-1;
		for (size_t i = 0; i < (size_t)got / sizeof(chunk[0]); i++, n++) {
			if (!chunk[i])
				return n;
			if (!string_readable(chunk[i]))
				return (size_t)-1;
		}
	}
	n = 0;
#endif
	while (envp[n])
		n++;
	return n;
}

/* Slots the new environment needs when this exec keeps the lock (the
 * instance executing itself, a daemon: state.c decides), 0 when it passes
 * through: a copy running another program (its descriptor closes on exec in
 * process scope), a child that shares our memory, no lock at all, or an
 * environment the kernel will refuse. */
static size_t exec_slots(char *const *envp, pid_t *self)
{
	*self = pl_on_exec();
	if (!*self)
		return 0;
	size_t n = env_count(envp);
	if (n == (size_t)-1)
		return 0; /* the kernel answers EFAULT */
	return n + 4; /* the token, PIDLOCK_HELD and the preload variable, NULL */
}

static int has_prefix(const char *s, const char *name)
{
	size_t n = strlen(name);
	return strncmp(s, name, n) == 0 && s[n] == '=';
}

/* "LD_PRELOAD=" naming this library ahead of what `old` (an entry of the
 * new environment, or NULL) lists, into buf; NULL when it cannot be done. */
static char *preload_entry(char *buf, size_t size, const char *old)
{
	Dl_info info;
	if (!dladdr((void *)&pl_state, &info) || !info.dli_fname || !*info.dli_fname)
		return NULL;
	const char *lib = info.dli_fname, *rest = old ? old + sizeof(PL_PRELOAD_VAR) : NULL;
	if (rest && strstr(rest, lib))
		return (char *)old; /* already there */
	size_t pre = sizeof(PL_PRELOAD_VAR), ll = strlen(lib), rl = rest ? strlen(rest) : 0;
	if (pre + ll + 1 + rl + 1 > size)
		return NULL;
	memmove(buf, PL_PRELOAD_VAR "=", pre);
	memmove(buf + pre, lib, ll);
	size_t n = pre + ll;
	if (rl) {
		buf[n++] = ':';
		memmove(buf + n, rest, rl);
		n += rl;
	}
	buf[n] = '\0';
	return buf;
}

/* Keeps the descriptor open across this exec and tells the new image which
 * descriptor it is. A program that stripped our variables (env -i,
 * execle(..., NULL)) gets them back, with the library in its preload list:
 * otherwise the new image would not know the descriptor, could not mark it
 * close-on-exec, and in process scope every program it starts would hold
 * the lock. Where that cannot be done, the descriptor stays close-on-exec
 * (process scope): the lock ends with this image rather than leak. */
static char *const *exec_begin(char *const *envp, char **out, size_t slots, pid_t self, char *tok,
			       char *pre, size_t pre_size)
{
	if (!slots)
		return envp;
	size_t j = 0, pre_at = (size_t)-1;
	int ours = 0, other = 0;
	for (size_t i = 0; envp && envp[i]; i++) {
		if (has_prefix(envp[i], PL_ENV(EXEC)))
			continue;
		ours |= has_prefix(envp[i], PL_ENV(HELD));
		/* A PIDLOCK_FILE is a request for a lock: ours again (its value
		 * as we were given it), or another one, which the new image
		 * takes for itself rather than adopt ours. */
		if (has_prefix(envp[i], PL_ENV(FILE))) {
			const char *v = envp[i] + sizeof(PL_ENV(FILE));
			size_t fl = pl_state.cfg.file ? strlen(pl_state.cfg.file) : 0;
			if (pl_state.cfg.file && strncmp(v, pl_state.cfg.file, fl) == 0 && !v[fl])
				ours = 1;
			else
				other = 1;
		}
		if (has_prefix(envp[i], PL_PRELOAD_VAR))
			pre_at = j;
		out[j++] = envp[i];
	}
	if (other) {
		out[j] = NULL;
		return out; /* no token; in process scope the lock ends with this image */
	}
	if (!ours) {
		char *entry = preload_entry(pre, pre_size, pre_at == (size_t)-1 ? NULL : out[pre_at]);
		if (!entry && pl_state.cfg.scope == PL_SCOPE_PROCESS) {
			out[j] = NULL;
			return out;
		}
		if (entry && pre_at != (size_t)-1)
			out[pre_at] = entry;
		else if (entry)
			out[j++] = entry;
		out[j++] = pl_state.held[0] ? pl_state.held : NULL;
		if (!out[j - 1])
			j--;
		ours = 1;
	}
	pl_fcntl(pl_state.lk.fd, F_SETFD, 0);
	if (ours) {
		struct pl_token t = {self, pl_state.lk.fd, pl_state.lk.dev, pl_state.lk.ino,
				     pl_state.shared, pl_state.cfg.scope == PL_SCOPE_TREE};
		pl_token_format(tok, &t);
		out[j++] = tok;
	}
	out[j] = NULL;
	return out;
}

/* The exec failed: back to close-on-exec, so later children do not inherit. */
static void exec_end(size_t slots)
{
	if (!slots)
		return;
	int saved = errno;
	if (pl_state.cfg.scope == PL_SCOPE_PROCESS)
		pl_fcntl(pl_state.lk.fd, F_SETFD, FD_CLOEXEC);
	errno = saved;
}

/* Binds ENV to the environment this exec should pass, runs CALL, and returns
 * its result (exec returns only on failure). */
#define WITH_EXEC_ENV(envp, ENV, CALL)                                                             \
	do {                                                                                       \
		pid_t self_;                                                                       \
		size_t slots_ = exec_slots((envp), &self_);                                        \
		char *buf_[slots_ ? slots_ : 1];                                                   \
		char tok_[PL_TOKEN_MAX];                                                           \
		char pre_[slots_ ? sizeof(PL_PRELOAD_VAR) + (size_t)2 * PATH_MAX : 1];             \
		char *const *ENV = exec_begin((envp), buf_, slots_, self_, tok_, pre_, sizeof(pre_)); \
		PL_COVERAGE_DUMP();                                                                \
		__typeof__(CALL) r_ = (CALL);                                                      \
		PL_COVERAGE_RESET();                                                               \
		exec_end(slots_);                                                                  \
		return r_;                                                                         \
	} while (0)

extern char **environ;

PL_EXPORT int WRAP(execve)(const char *path, char *const argv[], char *const envp[])
{
	WITH_EXEC_ENV(envp, env, REAL(execve)(path, argv, env));
}
INTERPOSE(execve)

/* execv and execvp use `environ`: point it at the new environment for the
 * call (exec replaces the image on success, so only failure restores it). */
static int execvp_env(const char *file, char *const argv[], char *const *env)
{
	char **saved = environ;
	environ = (char **)env;
	int r = REAL(execvp)(file, argv);
	environ = saved;
	return r;
}

PL_EXPORT int WRAP(execv)(const char *path, char *const argv[])
{
	WITH_EXEC_ENV(environ, env, REAL(execve)(path, argv, env));
}
INTERPOSE(execv)

PL_EXPORT int WRAP(execvp)(const char *file, char *const argv[])
{
	WITH_EXEC_ENV(environ, env, execvp_env(file, argv, env));
}
INTERPOSE(execvp)

#ifdef __linux__ /* macOS has none of these three */
PL_EXPORT int fexecve(int fd, char *const argv[], char *const envp[])
{
	WITH_EXEC_ENV(envp, env, REAL(fexecve)(fd, argv, env));
}

PL_EXPORT int execvpe(const char *file, char *const argv[], char *const envp[])
{
	WITH_EXEC_ENV(envp, env, REAL(execvpe)(file, argv, env));
}

PL_EXPORT int execveat(int dirfd, const char *path, char *const argv[], char *const envp[], int flags)
{
	WITH_EXEC_ENV(envp, env, REAL(execveat)(dirfd, path, argv, env, flags));
}
#endif

/* The execl family: collect the arguments, then the matching vector form. */
#define COLLECT_ARGS(arg0, ap, argv, extra)                                                        \
	size_t argc_ = 1;                                                                          \
	va_list count_;                                                                            \
	va_start(ap, arg0);                                                                        \
	va_copy(count_, ap);                                                                       \
	while (va_arg(count_, char *))                                                             \
		argc_++;                                                                           \
	va_end(count_);                                                                            \
	char *argv[argc_ + 1];                                                                     \
	argv[0] = (char *)arg0;                                                                    \
	for (size_t i_ = 1; i_ <= argc_; i_++)                                                     \
		argv[i_] = va_arg(ap, char *);                                                     \
	extra;                                                                                     \
	va_end(ap)

PL_EXPORT int WRAP(execl)(const char *path, const char *arg, ...)
{
	va_list ap;
	COLLECT_ARGS(arg, ap, argv, (void)0);
	return WRAP(execv)(path, argv);
}
INTERPOSE(execl)

PL_EXPORT int WRAP(execlp)(const char *file, const char *arg, ...)
{
	va_list ap;
	COLLECT_ARGS(arg, ap, argv, (void)0);
	return WRAP(execvp)(file, argv);
}
INTERPOSE(execlp)

PL_EXPORT int WRAP(execle)(const char *path, const char *arg, ...)
{
	va_list ap;
	char *const *envp;
	COLLECT_ARGS(arg, ap, argv, envp = va_arg(ap, char *const *));
	return WRAP(execve)(path, argv, envp);
}
INTERPOSE(execle)

/* ---- Linux only: clone, prctl, syscall() ---- */
#if defined(__linux__) && defined(PL_RAW_SYSCALLS)
#include <sched.h>
#include <stdint.h>
#include <sys/prctl.h>
NEXT(clone);
NEXT(prctl);

#ifndef SYS_clone3
#define SYS_clone3 435 /* the generic table's number, x86_64's too */
#endif
#ifndef PR_SET_SECCOMP
#define PR_SET_SECCOMP 22
#endif
/* seccomp(2)'s operations that install a filter or strict mode
 * (include/uapi/linux/seccomp.h); the others only ask. */
#define PL_SECCOMP_SET_MODE_STRICT 0
#define PL_SECCOMP_SET_MODE_FILTER 1

/* The children a program makes without fork() must be known too, or they
 * would tidy (remove the parent's file) at their exit, or the parent would
 * remove the file at its exit while they still hold the lock.
 *
 * clone() without CLONE_VM makes a copy like fork(). The child starts in our
 * function, which records its PID before the program's function runs. The
 * program's function and argument travel in this call's own frame: the
 * child's memory is a copy of ours taken at the clone, so the pointer is
 * good there, and no other thread's clone() can change it (no shared slot).
 * With CLONE_VM the child shares our memory and our state: it is passed
 * through untouched, and the exit path knows it by its PID. */
struct clone_call {
	int (*fn)(void *);
	void *arg;
};

static int clone_child(void *p)
{
	const struct clone_call *call = p;
	pl_on_copy_end(0, 1);
	return call->fn(call->arg);
}

PL_EXPORT int clone(int (*fn)(void *), void *stack, int flags, void *arg, ...)
{
	va_list ap;
	va_start(ap, arg);
	void *ptid = va_arg(ap, void *), *tls = va_arg(ap, void *), *ctid = va_arg(ap, void *);
	va_end(ap);
	int (*real)(int (*)(void *), void *, int, void *, ...) = REAL(clone);
	/* Any new process (not a thread) may hold a share, CLONE_VM or not. */
	if (!pl_state.active || !fn || (flags & CLONE_THREAD) || !pl_on_copy_begin() ||
	    (flags & CLONE_VM))
		return real(fn, stack, flags, arg, ptid, tls, ctid);
	struct clone_call call = {fn, arg};
	return (int)pl_on_copy_end(real(clone_child, stack, flags, &call, ptid, tls, ctid), 1);
}

/* A seccomp filter (or strict mode) is about to be installed. The coverage
 * build writes its counts now: its dump at exit makes system calls the
 * filter may kill, and once dumped, gcov does not write again. Nothing in
 * other builds. */
static void before_seccomp(void)
{
	PL_COVERAGE_DUMP();
}

/* A seccomp filter (or strict mode) was just installed: from now on the
 * library makes no system call of its own (state.c, pl_on_sandbox). */
static long after_seccomp(long r)
{
	if (r == 0)
		pl_on_sandbox();
	return r;
}

PL_EXPORT int prctl(int option, ...)
{
	va_list ap;
	va_start(ap, option);
	unsigned long a = va_arg(ap, unsigned long), b = va_arg(ap, unsigned long);
	unsigned long c = va_arg(ap, unsigned long), d = va_arg(ap, unsigned long);
	va_end(ap);
	if (option == PR_SET_SECCOMP && pl_state.active)
		before_seccomp();
	int r = ((int (*)(int, ...))REAL(prctl))(option, a, b, c, d);
	if (option == PR_SET_SECCOMP && pl_state.active)
		after_seccomp(r);
	return r;
}

static long raw(long n, long a, long b, long c, long d, long e, long f)
{
	return pl_sysret(pl_sys6(n, a, b, c, d, e, f));
}

static long sys_execve(long path, long argv, long envp)
{
	WITH_EXEC_ENV((char *const *)envp, env, raw(SYS_execve, path, argv, (long)env, 0, 0, 0));
}

static long sys_execveat(long dirfd, long path, long argv, long envp, long flags)
{
	WITH_EXEC_ENV((char *const *)envp, env,
		      raw(SYS_execveat, dirfd, path, argv, (long)env, flags, 0));
}

/* A copy made through syscall() (raw clone without CLONE_VM, clone3, fork).
 * clone3's flags are read only after the kernel has read them itself (the
 * call succeeded): a pointer it refuses (EFAULT) is never dereferenced here.
 * A clone3 child that shares our memory is left alone, as with clone(). */
static long sys_copy(long n, long a, long b, long c, long d, long e, long f)
{
	int mine = pl_on_copy_begin();
	long r = raw(n, a, b, c, d, e, f);
	uint64_t flags = 0;
	if (r >= 0 && n == SYS_clone)
		flags = (uint64_t)a;
	else if (r >= 0 && n == SYS_clone3)
		flags = ((const volatile uint64_t *)(uintptr_t)a)[0]; /* struct clone_args: flags first */
	if (r < 0 || (flags & CLONE_VM))
		return r;
	return pl_on_copy_end(r, mine);
}

/* syscall() itself: every number the library handles as a libc call is
 * handled the same way here (DESIGN.md, "What each wrapper changes");
 * everything else goes to the kernel unchanged. The library's own system
 * calls never come here (sys.h). */
PL_EXPORT long syscall(long n, ...)
{
	va_list ap;
	va_start(ap, n);
	long a = va_arg(ap, long), b = va_arg(ap, long), c = va_arg(ap, long);
	long d = va_arg(ap, long), e = va_arg(ap, long), f = va_arg(ap, long);
	va_end(ap);
	if (!pl_state.active)
		return raw(n, a, b, c, d, e, f);
	switch (n) {
	case SYS_close:
		if (is_lock_fd((int)a))
			return 0;
		break;
	case SYS_close_range:
		return close_range_around((unsigned int)a, (unsigned int)b, (unsigned int)c);
#ifdef SYS_dup2
	case SYS_dup2:
		if (make_room((int)a, (int)b, 0) < 0)
			return -1;
		break;
#endif
	case SYS_dup3:
		if (make_room((int)a, (int)b, (int)c) < 0)
			return -1;
		break;
	case SYS_fcntl:
		if (b == F_SETFD && keep_inheritable((int)a))
			c &= ~(long)FD_CLOEXEC;
		break;
	case SYS_ioctl:
		if ((unsigned long)b == FIOCLEX && keep_inheritable((int)a))
			return 0;
		break;
	case SYS_execve:
		return sys_execve(a, b, c);
	case SYS_execveat:
		return sys_execveat(a, b, c, d, e);
	case SYS_clone:
	case SYS_clone3:
#ifdef SYS_fork
	case SYS_fork:
#endif
		return sys_copy(n, a, b, c, d, e, f);
	case SYS_setsid: {
		long r = raw(n, a, b, c, d, e, f);
		if (r >= 0)
			pl_on_setsid();
		return r;
	}
	case SYS_exit_group:
		pl_release();
		PL_COVERAGE_DUMP();
		break;
	case SYS_prctl:
		if (a == PR_SET_SECCOMP) {
			before_seccomp();
			return after_seccomp(raw(n, a, b, c, d, e, f));
		}
		break;
	case SYS_seccomp:
		if (a == PL_SECCOMP_SET_MODE_STRICT || a == PL_SECCOMP_SET_MODE_FILTER) {
			before_seccomp();
			return after_seccomp(raw(n, a, b, c, d, e, f));
		}
		break;
	default:
		break;
	}
	return raw(n, a, b, c, d, e, f);
}
#endif
