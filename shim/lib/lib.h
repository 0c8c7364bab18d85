/* pidlock: the preloaded library's own state (shim/lib only): the
 * constructor (preload.c) fills it, the wrappers (interpose.c) keep it.
 */
#ifndef PIDLOCK_LIB_H
#define PIDLOCK_LIB_H

#include "../core/core.h"

/* ---- preload.c / interpose.c: the one state of the shim in a process ---- */
struct pl_state {
	int active;            /* this process holds (a share of) the lock */
	int shared;            /* fork copies or executed descendants may share it */
	pid_t pid;             /* this process, as of the last interposed fork */
	pid_t instance;        /* the process that took (or adopted) the lock */
	int detached;          /* a fork copy that daemonised (setsid, daemon) */
	int vforked;           /* vfork() was called: a child may share this memory */
	pid_t child;           /* the last copy this process made (fork, clone...) */
	int (*clone_fn)(void *); /* clone(): the child's function, run by ours */
	void *clone_arg;
	struct pl_lock lk;
	struct pl_config cfg;
	char held[sizeof(PL_ENV(HELD)) + PATH_MAX]; /* "PIDLOCK_HELD=path" */
};
extern struct pl_state pl_state;
/* The exit path: tidy the file if this process is the one the state
 * describes (not a vfork child or a copy made behind our back). */
void pl_release(void);


#endif
