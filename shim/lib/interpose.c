/* exec, fork, close and kin: keep the descriptor alive, and out of children.
 *
 * Every wrapper starts with one test of pl_state.active; when pidlock is inert
 * or the descriptor is not involved, it goes straight to the real function.
 * Nothing here allocates: exec wrappers may run in a vfork() child.
 */
#include "../core/sys.h"
#include "lib.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
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
#include <dlfcn.h>
#define PL_EXPORT __attribute__((visibility("default")))
#define WRAP(name) name
#define INTERPOSE(name)
#define REAL(name) ((__typeof__(&name))next_symbol(&next_##name, #name))
#define NEXT(name) static void *next_##name

/* Fails loudly rather than calling through a null pointer: a missing libc
 * function here means the program cannot work as it expects. */
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
NEXT(close_range);
NEXT(closefrom);
NEXT(fork);
#if defined(__GLIBC__) && (__GLIBC__ > 2 || __GLIBC_MINOR__ >= 34)
NEXT(_Fork);
#endif
NEXT(daemon);
NEXT(setsid);
NEXT(_exit);
NEXT(_Exit);
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

/* A vfork() child shares our memory but has its own descriptor table: it
 * must neither move the lock in the parent's state nor change anything else
 * of it. Asked only on the rare paths that write the state. */
static int in_foreign_child(void)
{
	return pl_getpid() != pl_state.pid;
}

/* dup2/dup3 onto the lock's number: move the lock out of the way first. */
static int make_room(int oldfd, int newfd)
{
	if (oldfd == newfd || !is_lock_fd(newfd) || in_foreign_child())
		return 0;
	return move_lock_fd();
}

PL_EXPORT int WRAP(dup2)(int oldfd, int newfd)
{
	if (make_room(oldfd, newfd) < 0)
		return -1;
	return REAL(dup2)(oldfd, newfd);
}
INTERPOSE(dup2)

#ifdef __linux__
PL_EXPORT int dup3(int oldfd, int newfd, int flags)
{
	if (make_room(oldfd, newfd) < 0)
		return -1;
	return REAL(dup3)(oldfd, newfd, flags);
}

/* close_range() and closefrom() exist on Linux (glibc >= 2.34) and FreeBSD,
 * not on macOS. The raw system call, made without libc, cannot be seen here:
 * that is a documented limit. */
#ifndef CLOSE_RANGE_CLOEXEC
/* The kernel's value (include/uapi/linux/close_range.h, Linux 5.11): musl
 * 1.2.3 and glibc before 2.34 have no header that defines it, and a program
 * built against them may still pass it through a newer libc's close_range. */
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif
PL_EXPORT int close_range(unsigned int first, unsigned int last, int flags)
{
	unsigned int fd = (unsigned int)pl_state.lk.fd;
	if (!pl_state.active || fd < first || fd > last ||
	    (((unsigned int)flags & CLOSE_RANGE_CLOEXEC) && pl_state.cfg.scope == PL_SCOPE_PROCESS))
		return REAL(close_range)(first, last, flags);
	/* Split around the lock. CLOSE_RANGE_UNSHARE on both halves is harmless:
	 * the second call finds the table already private. */
	if (fd > first && REAL(close_range)(first, fd - 1, flags) < 0)
		return -1;
	if (fd < last)
		return REAL(close_range)(fd + 1, last, flags);
	return 0;
}

PL_EXPORT void closefrom(int lowfd)
{
	int fd = pl_state.lk.fd;
	if (!pl_state.active || fd < lowfd || lowfd < 0) {
		REAL(closefrom)(lowfd);
		return;
	}
	if (fd > lowfd)
		close_range((unsigned int)lowfd, (unsigned int)fd - 1, 0);
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

/* After anything that made a copy of this process (fork, _Fork, clone,
 * clone/clone3/fork through syscall()): the copy records its own PID, the
 * parent the copy's, for naming it later if nothing else can be seen. */
static long after_copy(long r)
{
	if (r == 0) {
		pl_state.pid = pl_getpid();
		pl_state.child = 0;
	} else if (r > 0) {
		pl_state.child = (pid_t)r;
	}
	return r;
}

PL_EXPORT pid_t WRAP(fork)(void)
{
	if (!pl_state.active || in_foreign_child())
		return REAL(fork)();
	/* From now on copies may share the lock: the exit path must look before
	 * removing the file. */
	pl_state.shared = 1;
	return (pid_t)after_copy(REAL(fork)());
}
INTERPOSE(fork)

#if defined(__GLIBC__) && (__GLIBC__ > 2 || __GLIBC_MINOR__ >= 34)
/* glibc's _Fork() (2.34): fork without the atfork handlers, used by some
 * runtimes; the child is a copy like fork()'s. */
PL_EXPORT pid_t _Fork(void)
{
	if (!pl_state.active || in_foreign_child())
		return REAL(_Fork)();
	pl_state.shared = 1;
	return (pid_t)after_copy(REAL(_Fork)());
}
#endif

#if defined(__linux__) && defined(PL_RAW_SYSCALLS)
#include <sched.h>
#include <stdint.h>
NEXT(clone);
NEXT(vfork);

/* The children a program makes without fork() must be known too, or they
 * would tidy (remove the parent's file) at their exit, or the parent would
 * remove the file at its exit while they still hold the lock. */

/* clone() without CLONE_VM makes a copy like fork(). The child starts in
 * our function, which records its PID before the program's function runs:
 * the copy of pl_state the child has already names that function. */
static int clone_child(void *arg)
{
	(void)arg;
	after_copy(0);
	return pl_state.clone_fn(pl_state.clone_arg);
}

PL_EXPORT int clone(int (*fn)(void *), void *stack, int flags, void *arg, ...)
{
	va_list ap;
	va_start(ap, arg);
	void *ptid = va_arg(ap, void *), *tls = va_arg(ap, void *), *ctid = va_arg(ap, void *);
	va_end(ap);
	int (*real)(int (*)(void *), void *, int, void *, ...) = REAL(clone);
	if (!pl_state.active || (flags & CLONE_VM) || in_foreign_child())
		return real(fn, stack, flags, arg, ptid, tls, ctid);
	pl_state.shared = 1;
	pl_state.clone_fn = fn;
	pl_state.clone_arg = arg;
	return (int)after_copy(real(clone_child, stack, flags, NULL, ptid, tls, ctid));
}

/* syscall() itself: raw clone, clone3 and fork through libc's syscall()
 * make copies (without CLONE_VM) the same way, and close or close_range
 * made that way must not drop the lock. Everything else goes to the kernel
 * unchanged. The library's own system calls never come here (sys.h). */
static long fork_like(long n, long a)
{
	uint64_t flags;
	if (n == SYS_clone)
		flags = (uint64_t)a;
	else if (n == SYS_clone3)
		flags = a ? *(const uint64_t *)(uintptr_t)a : 0; /* struct clone_args: flags first */
#ifdef SYS_fork
	else if (n == SYS_fork)
		flags = 0;
#endif
	else
		return 0;
	return !(flags & (CLONE_VM | CLONE_VFORK));
}

PL_EXPORT long syscall(long n, ...)
{
	va_list ap;
	va_start(ap, n);
	long a = va_arg(ap, long), b = va_arg(ap, long), c = va_arg(ap, long);
	long d = va_arg(ap, long), e = va_arg(ap, long), f = va_arg(ap, long);
	va_end(ap);
	if (pl_state.active) {
		if (n == SYS_close && is_lock_fd((int)a))
			return 0;
		if (n == SYS_close_range)
			return close_range((unsigned int)a, (unsigned int)b, (int)c);
		if (fork_like(n, a) && !in_foreign_child()) {
			pl_state.shared = 1;
			return after_copy(pl_sysret(pl_sys6(n, a, b, c, d, e, f)));
		}
	}
	return pl_sysret(pl_sys6(n, a, b, c, d, e, f));
}

/* vfork(): the child shares our memory until it executes or exits, so its
 * exit handlers (a child that calls exit(), which POSIX leaves undefined but
 * programs do) would run our exit path on the parent's state. The exit path
 * asks getpid() only once vfork() has been seen. The wrapper cannot be C: a
 * vfork child must not return through a frame the parent will return
 * through, so the real vfork is reached by a jump, from the program's own
 * frame. */
void *pl_vfork_prepare(void);
__attribute__((used, visibility("hidden"))) void *pl_vfork_prepare(void)
{
	if (pl_state.active)
		pl_state.vforked = 1;
	return next_symbol(&next_vfork, "vfork");
}

#if defined(__x86_64__)
__asm__(".text\n"
	".globl vfork\n"
	".type vfork, @function\n"
	"vfork:\n"
	"	sub $8, %rsp\n"
	"	call pl_vfork_prepare\n"
	"	add $8, %rsp\n"
	"	jmp *%rax\n"
	".size vfork, .-vfork\n");
#else
__asm__(".text\n"
	".globl vfork\n"
	".type vfork, %function\n"
	"vfork:\n"
	"	stp x29, x30, [sp, #-16]!\n"
	"	mov x29, sp\n"
	"	bl pl_vfork_prepare\n"
	"	ldp x29, x30, [sp], #16\n"
	"	br x0\n"
	".size vfork, .-vfork\n");
#endif
#endif

/* macOS marks daemon(3) deprecated; programs still call it. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
/* daemon(3) forks inside libc, out of our sight, and its parent leaves with
 * _exit: the child that carries on tells the PID file so. */
PL_EXPORT int WRAP(daemon)(int nochdir, int noclose)
{
	if (!pl_state.active || in_foreign_child())
		return REAL(daemon)(nochdir, noclose);
	pid_t before = pl_state.pid;
	pl_state.shared = 1;
	int r = REAL(daemon)(nochdir, noclose);
	if (r == 0) {
		pl_state.pid = pl_getpid();
		pl_state.detached = 1;
		if (pl_read_pid(&pl_state.lk) == before)
			pl_write_pid(&pl_state.lk, pl_state.pid, -1);
	}
	return r;
}
INTERPOSE(daemon)
#pragma GCC diagnostic pop

/* A fork copy that starts its own session is daemonising: it will speak
 * for the instance, and may re-execute itself keeping the lock. */
PL_EXPORT pid_t WRAP(setsid)(void)
{
	pid_t r = REAL(setsid)();
	if (r >= 0 && pl_state.active && !in_foreign_child() && pl_state.pid != pl_state.instance)
		pl_state.detached = 1;
	return r;
}
INTERPOSE(setsid)

/* Destructors do not run on _exit; the tidy step should (a daemon's parent,
 * Python's os._exit). The kernel releases the lock either way. */
PL_EXPORT void WRAP(_exit)(int status)
{
	pl_release();
	PL_COVERAGE_DUMP();
	REAL(_exit)(status);
	__builtin_unreachable();
}
INTERPOSE(_exit)

PL_EXPORT void WRAP(_Exit)(int status)
{
	pl_release();
	PL_COVERAGE_DUMP();
	REAL(_Exit)(status);
	__builtin_unreachable();
}
INTERPOSE(_Exit)

/* ---- exec: the instance keeps the lock across its own exec (DESIGN.md, guarantee 5) ---- */


/* Slots the new environment needs when this exec is one of the instance
 * itself (the process the PID file names), 0 when it passes through: a forked
 * child running another program (its descriptor closes on exec in process
 * scope), a vfork child (getpid differs), or no lock at all. */
static size_t exec_slots(char *const *envp)
{
	if (!pl_state.active)
		return 0;
	pid_t self = getpid();
	if (self != pl_state.pid)
		return 0; /* a vfork child: shares our memory, must not write it */
	/* In process scope a fork copy's exec is a program the instance
	 * executes (bash's `cmd &` forks, then executes cmd), unless the copy
	 * daemonised and now speaks for the instance (a daemon re-executing
	 * itself). */
	int may_keep = self == pl_state.instance || pl_state.detached;
	pid_t launcher = pl_state.detached && self != pl_state.instance ? pl_state.instance : 0;
	if (pl_state.shared &&
	    !pl_exec_turn(&pl_state.cfg, &pl_state.lk, self, may_keep, pl_state.child, launcher)) {
		if (pl_state.cfg.scope == PL_SCOPE_PROCESS)
			pl_state.active = 0; /* our share was closed */
		return 0;
	}
	size_t n = 0;
	if (envp)
		while (envp[n])
			n++;
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
static char *const *exec_begin(char *const *envp, char **out, size_t slots, char *tok, char *pre,
			       size_t pre_size)
{
	if (!slots)
		return envp;
	size_t j = 0, pre_at = (size_t)-1;
	int ours = 0;
	for (size_t i = 0; envp && envp[i]; i++) {
		if (has_prefix(envp[i], PL_ENV(EXEC)))
			continue;
		ours |= has_prefix(envp[i], PL_ENV(HELD)) || has_prefix(envp[i], PL_ENV(FILE));
		if (has_prefix(envp[i], PL_PRELOAD_VAR))
			pre_at = j;
		out[j++] = envp[i];
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
		struct pl_token t = {pl_state.pid, pl_state.lk.fd, pl_state.lk.dev, pl_state.lk.ino,
				     pl_state.shared};
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
		size_t slots_ = exec_slots(envp);                                                  \
		char *buf_[slots_ ? slots_ : 1];                                                   \
		char tok_[PL_TOKEN_MAX];                                                              \
		char pre_[slots_ ? sizeof(PL_PRELOAD_VAR) + (size_t)2 * PATH_MAX : 1];                     \
		char *const *ENV = exec_begin((envp), buf_, slots_, tok_, pre_, sizeof(pre_));     \
		PL_COVERAGE_DUMP();                                                                \
		int r_ = (CALL);                                                                   \
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
