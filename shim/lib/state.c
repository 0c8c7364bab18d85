/* SPDX-License-Identifier: MIT */
/* The library's one state in a process, and every change to it.
 *
 * The wrappers (interpose.c) only hook the program's calls; what a call
 * means for the lock is decided here, by named transitions:
 *
 *   transition        when                             changes
 *   ---------------   ------------------------------   ---------------------------------
 *   (start)           the constructor took the lock    active, pid, instance, shared
 *   (adopt)           a new image of an instance       same, from the exec token
 *   on_copy_begin     fork, _Fork, clone, syscall()    shared = 1
 *   on_copy_end(>0)   ... in the parent                child
 *   on_copy_end(0)    ... in a copy with its own memory pid, child = 0, daemonised
 *   on_setsid         a fork copy starts a session     detached
 *   on_daemon         daemon(3) returned in the child  pid, detached (and names it)
 *   on_sandbox        a seccomp filter was installed   sandboxed
 *   on_exec           an exec leaves or keeps          active (leaves, process scope)
 *   on_uid_change     root drops to another user       tidier (a process that tidies later)
 *   release           exit, _exit, _Exit, exit_group   active = 0 (then tidies)
 *
 * Who is asking is always asked of the kernel (getpid): a child that shares
 * our memory (vfork, clone with CLONE_VM, posix_spawn) runs these same
 * wrappers on this same state, and must change none of it (DESIGN.md,
 * guarantee 14). No flag decides that, because some ways of making a child
 * set none.
 *
 * Once a seccomp filter is installed (most are allow-lists whose default
 * action kills), the library makes no system call of its own any more: the
 * exit path leaves the PID file for the next start to take over (its lock
 * is free), and the wrappers pass the calls through (README, Limitations).
 */
#include "../core/sys.h"
#include "lib.h"

#include <errno.h>
#include <stdio.h>
#include <unistd.h>

/* Initialised (fd -1), so the state lives in .data, which the dynamic linker
 * maps from the file with the rest of the library: as zero-filled .bss its
 * 8 KiB of path buffers would cost an extra anonymous mmap in every process,
 * inert ones included (DESIGN.md, guarantee 10: no added system call). */
struct pl_state pl_state = {.lk = {.fd = -1}};

int pl_foreign(void)
{
	return pl_state.pid == 0 || pl_getpid() != pl_state.pid;
}

int pl_may_act(void)
{
	return pl_state.active && !pl_state.sandboxed && !pl_foreign();
}

int pl_on_copy_begin(void)
{
	/* Copies may share the lock from now on: the exit path must look
	 * before it removes the file. Harmless if the call then fails. */
	if (!pl_may_act())
		return 0;
	pl_state.shared = 1;
	/* A detached copy that the file does not name yet is in the middle of
	 * daemonising (fork, setsid, fork): its copy is the daemon. Once named
	 * (its launcher left), what it forks are its workers (Apache's,
	 * nginx's), which neither keep the lock at exec nor speak for it. */
	pl_state.forks_daemon = pl_state.detached && pl_read_pid(&pl_state.lk) != pl_state.pid;
	return 1;
}

long pl_on_copy_end(long r, int mine)
{
	if (!mine || r < 0)
		return r;
	if (r > 0) {
		pl_state.child = (pid_t)r; /* named later if nothing else can be seen */
		return r;
	}
	/* A copy with memory of its own records who it is, so that its own
	 * exit and exec know. It has not started a session of its own (its
	 * parent may have); it is a daemon's second fork if its parent said so
	 * before forking. */
	pl_state.pid = pl_getpid();
	pl_state.child = 0;
	pl_state.daemonised = pl_state.forks_daemon;
	pl_state.detached = 0;
	pl_state.forks_daemon = 0;
	return r;
}

void pl_on_setsid(void)
{
	/* A fork copy that starts its own session is daemonising: it speaks
	 * for the instance from now on (an exec of it may keep the lock). */
	if (pl_may_act() && pl_state.pid != pl_state.instance)
		pl_state.detached = 1;
}

void pl_on_daemon(pid_t before)
{
	/* daemon(3) forked inside libc, out of our sight, and its parent left
	 * with _exit: the child carries on and tells the PID file so. */
	if (!pl_state.active || pl_state.sandboxed)
		return;
	pl_state.pid = pl_getpid();
	pl_state.detached = 1;
	if (pl_read_pid(&pl_state.lk) == before)
		pl_write_pid(&pl_state.lk, pl_state.pid, -1);
}

void pl_on_sandbox(void)
{
	pl_state.sandboxed = 1;
}

/* Whether an exec in a process that shares the lock with copies keeps it
 * (process scope; DESIGN.md, "The exit hand-over"). Never waits:
 *  - the instance itself, while the file names it: an exec of itself;
 *  - the second fork of a daemon (fork, setsid, fork: start-stop-daemon
 *    --background, daemonize): it is the daemon, whatever its launcher is
 *    doing, and the launcher's exit names it;
 *  - a single detached copy (fork, setsid) when the file names it (daemon(3)
 *    named it), or when the process the file names is leaving at this very
 *    moment (it announced it: pl_leaving), so that the copy is what remains
 *    of the instance;
 *  - any other copy is a program the instance runs, and leaves. */
static int keeps_at_exec(pid_t self)
{
	pid_t named = pl_read_pid(&pl_state.lk);
	if (self == pl_state.instance)
		return named == self;
	if (pl_state.daemonised)
		return 1;
	if (pl_state.detached)
		return named == self || (named > 0 && pl_leaving(&pl_state.lk) == named);
	return 0;
}

pid_t pl_on_exec(void)
{
	if (!pl_state.active || pl_state.sandboxed)
		return 0;
	/* Tree scope: every program a holder executes keeps its inherited
	 * share, so the new image is told which descriptor it is, and tidies
	 * at its exit like any holder (the new master of an upgraded server,
	 * which the file comes to name). A child that shares our memory
	 * executes under its own PID. */
	if (pl_state.cfg.scope == PL_SCOPE_TREE)
		return pl_getpid();
	if (pl_foreign())
		return 0;
	pid_t self = pl_state.pid;
	if (!pl_state.shared)
		return self; /* alone: only the instance itself can be executing */
	if (pl_exec_turn(&pl_state.cfg, &pl_state.lk, self, keeps_at_exec(self), pl_state.child))
		return self;
	pl_state.active = 0; /* our share was closed */
	return 0;
}

void pl_on_uid_change(uid_t euid)
{
	/* Root handing the process to another user: the user may not be able
	 * to remove the file at exit (handover.c, pl_tidy_later). Once, for
	 * the process a user would signal: the one the file names, or a
	 * daemonising copy that it will name once its launcher has left
	 * (dnsmasq drops its privileges before that). A worker of a prefork
	 * server that drops them (nginx's) is neither. */
	if (euid == 0 || euid == (uid_t)-1 || pl_state.tidier || !pl_may_act() ||
	    pl_state.lk.kind != PL_LOCK_FILE || geteuid() != 0)
		return;
	if (!pl_state.detached && !pl_state.daemonised && pl_read_pid(&pl_state.lk) != pl_state.pid)
		return;
	pl_state.tidier = pl_tidy_later(&pl_state.cfg, &pl_state.lk);
}

void pl_release(void)
{
	if (!pl_state.active || pl_state.sandboxed)
		return;
	/* Only the process the state describes tidies: a child that shares our
	 * memory (vfork, CLONE_VM) finds our state here, and asks the kernel
	 * who it is (DESIGN.md, guarantee 14). */
	pid_t self = pl_getpid();
	if (self != pl_state.pid)
		return;
	/* Once: two threads may leave at once (exit and _exit). */
	if (!__atomic_exchange_n(&pl_state.active, 0, __ATOMIC_ACQ_REL))
		return;
	int saved = errno;
	if (pl_state.shared)
		pl_mark_leaving(&pl_state.lk, self);
	/* The process the file names marks its clean exit when something else
	 * may have to remove the file: after a privilege drop the file may not
	 * be ours to remove any more, and with copies, a tidy process one of
	 * them started (pl_tidy_later) may take the freed lock before this
	 * process can prove it was the last holder. */
	if ((pl_state.tidier || pl_state.shared) && pl_read_pid(&pl_state.lk) == self)
		pl_write_clean_exit(&pl_state.lk, self);
	pl_tidy(&pl_state.cfg, &pl_state.lk, self, pl_state.shared, pl_state.child);
	errno = saved;
}

_Noreturn void pl_leave_now(int status)
{
	PL_COVERAGE_DUMP();
#ifdef PL_RAW_SYSCALLS
	/* Not _exit: from inside the library that binds to our own wrapper,
	 * which would resolve libc's with dlsym first. */
	for (;;)
		pl_sc(SYS_exit_group, status);
#else
	_exit(status);
#endif
}

/* ---- the exit path: the very last exit work of the process ----
 *
 * The file may go, and a new instance start, only once the old one has
 * finished all of its exit work (DESIGN.md, guarantee 13): the program's
 * atexit handlers, the destructors of the program and of every library it
 * links, and the final flush of its stdio buffers (which may block on a slow
 * pipe). glibc finalises a preloaded library *before* the libraries the
 * program links (it initialised it after them), so a destructor of ours runs
 * too early there. A handler registered with __cxa_atexit and no DSO handle
 * from the constructor, which runs before __libc_start_main registers the
 * dynamic linker's finaliser (_dl_fini), runs after it: after every
 * destructor and every handler a library registered (those run inside
 * _dl_fini, with their library's DSO handle), and just before libc's own
 * stdio clean-up, which flushing here makes a no-op. musl runs atexit
 * handlers before any destructor, but finalises in the reverse order of
 * initialisation and initialises preloaded libraries first, so there our
 * destructor is the last exit work. tests/interpose.bats checks both. */
static void exit_tidy(void)
{
	if (!pl_state.active || pl_state.sandboxed)
		return;
	fflush(NULL);
	pl_release();
}

#ifdef __GLIBC__
/* The C++ ABI's registration, exported by glibc (and musl) for every
 * program: atexit() would tie the handler to this library, and it would run
 * with our destructors, too early. */
int __cxa_atexit(void (*fn)(void *), void *arg, void *dso); /* NOLINT(bugprone-reserved-identifier,cert-dcl37-c,cert-dcl51-cpp) */
static int fini_fallback; /* the handler could not be registered */

static void exit_last(void *arg)
{
	(void)arg;
	exit_tidy();
}

void pl_arm_exit(void)
{
	if (__cxa_atexit(exit_last, NULL, NULL) != 0)
		fini_fallback = 1;
}

__attribute__((destructor)) static void pl_fini(void)
{
	if (fini_fallback)
		exit_tidy();
}
#else
void pl_arm_exit(void)
{
}

__attribute__((destructor)) static void pl_fini(void)
{
	exit_tidy();
}
#endif
