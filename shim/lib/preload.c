/* SPDX-License-Identifier: MIT */
/* The constructor: glue, no logic of its own. The exit path is state.c's.
 *
 * Correctness never depends on the exit path: _exit, signals and crashes skip
 * exit handlers, and the kernel's release of the descriptor is the real
 * release. The exit path only tidies (hands the file on, or removes it while
 * locked).
 */
#include "../core/backend.h"
#include "../core/sys.h"
#include "lib.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Removes one entry from the environment array in place (as unsetenv does,
 * without its lock or allocation). */
static void env_remove(char **envp, const char *entry)
{
	for (char **p = envp; *p; p++) {
		if (*p == entry) {
			do
				p[0] = p[1];
			while (*++p);
			return;
		}
	}
}

static int is_file_entry(const char *s)
{
	static const char name[] = PL_ENV(FILE) "=";
	for (size_t i = 0; i < sizeof(name) - 1; i++)
		if (s[i] != name[i])
			return 0;
	return 1;
}

/* PIDLOCK_FILE becomes PIDLOCK_HELD in this process's environment, so that
 * the programs it starts (system, popen, posix_spawn, subprocess, node's
 * spawn, which all copy this environment) see no FILE and pass through with no
 * system call. Swapping one pointer to our own buffer needs no memory, and
 * every later copy of the environment (Python's os.environ is made after
 * this) sees the change. */
/* "PIDLOCK_HELD=path" in our own buffer, for the environment and for an
 * exec whose environment was stripped of it (interpose.c). */
static void set_held(void)
{
	size_t n = sizeof(PL_ENV(HELD)) - 1;
	pl_copy(pl_state.held, PL_ENV(HELD) "=", n + 1);
	pl_copy(pl_state.held + n + 1, pl_state.cfg.path, pl_len(pl_state.cfg.path) + 1);
}

static void env_mark_held(char **envp, struct pl_env *e)
{
	set_held();
	char *old = e->held ? *e->held : NULL;
	if (e->file) {
		*e->file = pl_state.held;
		/* A second PIDLOCK_FILE= entry (an environment built by hand) would
		 * reach every child, which would then be refused as a second
		 * instance: only one entry, now PIDLOCK_HELD, may remain. */
		for (char **p = e->file + 1; *p;) {
			if (is_file_entry(*p))
				env_remove(envp, *p);
			else
				p++;
		}
	}
	if (old && old != pl_state.held)
		env_remove(envp, old); /* our parent's mark, from another lock */
}

/* The new image of an instance that executed itself (or env, nice, nohup,
 * bash's exec...) already holds the lock through the inherited descriptor:
 * adopt it, after checking that it is this process and that descriptor. */
static int adopt(const struct pl_env *e, const char *token)
{
	struct pl_token t;
	struct stat st;
	const char *path = pl_env_value(e->held);
	if (!path || pl_token_parse(token, &t) || strlen(path) >= PATH_MAX)
		return 0;
	if (t.pid != pl_getpid() || pl_fstat(t.fd, &st) < 0 || st.st_dev != t.dev || st.st_ino != t.ino)
		return 0;
	/* Only a descriptor that really holds the lock is adopted: a token made
	 * by hand on a read-only descriptor must not make this process "hold"
	 * and remove the real holder's file at exit. LOCK_EX|LOCK_NB on the
	 * holder's own open file description is a no-op; on any other it fails
	 * while the holder lives. The path must still name that inode. */
	if (!pl_is_cluster(path) &&
	    ((pl_fcntl(t.fd, F_GETFL, 0) & O_ACCMODE) != O_RDWR || pl_flock(t.fd, LOCK_EX | LOCK_NB) < 0 ||
	     !S_ISREG(st.st_mode) ||
	     !pl_path_is_lock(path, &(struct pl_lock){t.fd, st.st_dev, st.st_ino, PL_LOCK_FILE})))
		return 0;
	if (pl_config_load(e, &pl_state.cfg))
		return 0;
	memmove(pl_state.cfg.path, path, strlen(path) + 1);
	set_held();
	if (t.tree) /* the token says, whatever the environment lost */
		pl_state.cfg.scope = PL_SCOPE_TREE;
	if (pl_state.cfg.scope == PL_SCOPE_PROCESS)
		pl_fcntl(t.fd, F_SETFD, FD_CLOEXEC);
	pl_state.lk.fd = t.fd;
	pl_state.lk.dev = st.st_dev;
	pl_state.lk.ino = st.st_ino;
	pl_state.pid = t.pid;
	pl_state.instance = t.pid;
	pl_state.shared = t.shared;
	pl_state.active = 1;
	/* Cluster mode: SIGIO set up by the image before us still fires; start
	 * a watcher if this image inherited SIGIO ignored or blocked. */
	if (pl_is_cluster(path))
		pl_backend_adopt(&pl_state.cfg, path, &pl_state.lk, t.pid);
	pl_arm_exit();
	return 1;
}

static void start(char **envp, struct pl_env *e)
{
	struct pl_config *cfg = &pl_state.cfg;
	if (e->exec) {
		/* The token is for this image only: out of the environment that
		 * its children will copy. Removing it moves the later entries, so
		 * scan again before using any of them. */
		const char *token = pl_env_value(e->exec);
		env_remove(envp, *e->exec);
		pl_env_scan(envp, e);
		if (adopt(e, token) || !e->file)
			return;
	}
	uid_t euid = plat_euid();
	int r = pl_config_load(e, cfg);
	if (!r)
		r = pl_resolve_path(cfg, pl_env_value(e->xdg), euid);
	pid_t self = pl_getpid();
	const struct pl_backend *be = NULL;
	if (!r) /* cluster mode allocates (its plugin, libpq); the local path does not */
		r = pl_is_cluster(cfg->file) ? pl_backend_acquire(cfg, NULL, &pl_state.lk, self, NULL, &be)
					     : pl_acquire(cfg, &pl_state.lk, euid, self);
	if (r == PL_HELD_ELSEWHERE)
		pl_leave_now(cfg->exit_code);
	if (r) {
		if (cfg->on_error_run)
			return; /* the warning has been printed */
		pl_leave_now(r);
	}
	pl_state.pid = self;
	pl_state.instance = self;
	pl_state.shared = cfg->scope == PL_SCOPE_TREE;
	pl_state.active = 1;
	pl_arm_exit();
	env_mark_held(envp, e);
	/* Last: setenv may move the environment's array, which env_mark_held
	 * edits in place. */
	if (be && be->publish)
		be->publish();
	if (cfg->verbose) {
		struct pl_msg m;
		pl_msg_init(&m);
		pl_msg_str(&m, cfg->path);
		pl_msg_str(&m, ": acquired by PID ");
		pl_msg_num(&m, (long long)self);
		pl_msg_send(&m);
	}
}

/* glibc calls constructors with (argc, argv, envp); envp is the environment
 * the kernel laid out, which the platform layer reads the auxiliary vector
 * from. Other C libraries may pass nothing, so use it only on glibc. */
#ifdef __GLIBC__
__attribute__((constructor)) static void pl_init(int argc, char **argv, char **envp0)
{
	/* At start-up envp0 is the kernel's array, right after argv on the
	 * stack, with the auxiliary vector after its end. Loaded later by
	 * dlopen(), envp0 is whatever `environ` is then, possibly an array that
	 * setenv() allocated, with nothing after it: do not read past it. */
	plat_startup(argv && argc >= 0 && envp0 == argv + argc + 1 ? envp0 : NULL);
#else
__attribute__((constructor)) static void pl_init(void)
{
#endif
	/* Inert in setuid/secure-execution processes: the environment there is
	 * the caller's, not the program owner's, and must not steer file access. */
	if (plat_secure())
		return;
	char **envp = plat_environ();
	struct pl_env e;
	pl_env_scan(envp, &e);
	if (!e.file && !e.exec)
		return; /* inert: no system call */
	int saved = errno;
	start(envp, &e);
	errno = saved;
}
