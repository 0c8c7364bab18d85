/* SPDX-License-Identifier: MIT */
/* pidlock: the preloaded library's own state (shim/lib only). The
 * constructor (preload.c) fills it; the wrappers (interpose.c) only hook the
 * program's calls and report what happened to state.c, whose named
 * transitions are the only code that changes it.
 */
#ifndef PIDLOCK_LIB_H
#define PIDLOCK_LIB_H

#include "../core/core.h"

/* ---- state.c: the one state of the library in a process ---- */
struct pl_state {
	int active;      /* this process holds (a share of) the lock */
	int shared;      /* fork copies or executed descendants may share it */
	int sandboxed;   /* a seccomp filter was installed: no system call of ours any more */
	pid_t pid;       /* this process, as of the last copy we saw made (0: unknown) */
	pid_t instance;  /* the process that took (or adopted) the lock */
	int detached;    /* this fork copy started its own session (setsid, daemon) */
	int daemonised;  /* a daemon's second fork: made by a detached copy that the
			  * file did not name yet (its launcher had not left) */
	int forks_daemon; /* set before a fork: the copy it makes is such a second fork */
	pid_t child;     /* the last copy this process made (fork, clone...) */
	pid_t tidier;    /* the process that removes the file after a privilege drop, or 0 */
	struct pl_lock lk;
	struct pl_config cfg;
	char held[sizeof(PL_ENV(HELD)) + PATH_MAX]; /* "PIDLOCK_HELD=path" */
};
extern struct pl_state pl_state;

/* The transitions (state.c has their table). Each is called by a wrapper
 * around the program's own call, and each is a no-op unless the lock is
 * held in the process the state describes. */

/* 1 when this process is not the one pl_state describes: a child that
 * shares our memory (vfork, CLONE_VM) or a copy made where we could not
 * see it. Asks the kernel (getpid); never trusts a flag. */
int pl_foreign(void);
/* 1 when a wrapper may make system calls of its own: the lock is held,
 * this is the process the state describes, and no seccomp filter forbids
 * them. */
int pl_may_act(void);
/* Before a call that may make a copy of this process (fork, _Fork, clone,
 * clone/clone3/fork through syscall()): copies will share the lock. Returns
 * 1 ("mine") when the caller is the process the state describes. */
int pl_on_copy_begin(void);
/* After it, with begin's answer: in the parent (r > 0: the copy's PID) or in
 * a copy that has memory of its own (r == 0). Returns r. Nothing changes
 * when the copy was not made by the process the state describes (a vfork
 * child's fork) or the call failed. */
long pl_on_copy_end(long r, int mine);
/* setsid() succeeded: a fork copy that starts a session is daemonising. */
void pl_on_setsid(void);
/* daemon(3) succeeded in the process that was named `before`. */
void pl_on_daemon(pid_t before);
/* A seccomp filter is in place from now on (prctl, seccomp, through
 * syscall() or not): the library makes no system call of its own. */
void pl_on_sandbox(void);
/* An exec is about to replace this image: the PID the new image will have
 * if it keeps the lock (it must be told which descriptor holds it), 0 if it
 * leaves or passes through. */
pid_t pl_on_exec(void);
/* The process is about to set its effective UID to euid (setuid and kin). */
void pl_on_uid_change(uid_t euid);
/* The exit path: tidy if this process is the one the state describes. */
void pl_release(void);
/* Arranges for the exit path to run as the very last exit work of the
 * process (after every library's destructors); called once the lock is
 * held (state.c says why and how). */
void pl_arm_exit(void);
/* Leaves the process now, with the raw system call (no exit handler, no
 * symbol to resolve): a refused start, before main. */
_Noreturn void pl_leave_now(int status);

#endif
