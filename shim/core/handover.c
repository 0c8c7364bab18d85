/* SPDX-License-Identifier: MIT */
/* The hand-over at the end of a holder's life: who may remove the PID file,
 * when, and why nobody ever blocks.
 *
 * The instance and its copies (fork, _Fork, clone, daemon; in tree scope
 * also the programs they execute) share one lock: one open file
 * description, so the lock lasts while any of them keeps a descriptor of
 * it. The kernel's release at the last close is the real release; this
 * file only tidies, and nothing here is needed for mutual exclusion.
 *
 * Who may remove the file: only a process that holds the lock itself at
 * that moment, through a descriptor of its own (so that no copy, and no
 * new instance, holds it), and only while the path still names the locked
 * inode. A waiter that locked the removed inode sees the path changed and
 * starts over (lock.c), so removal never lets two instances run.
 *
 * Who is named: the process a user would signal (pl_top_holder: the master
 * of a prefork server, the daemon after a double fork), written through the
 * descriptor the leaving process still holds, which stays writable after a
 * privilege drop.
 *
 * Why nobody blocks: an earlier version took turns with a blocking OFD lock
 * on byte 0 of the PID file; any user who could read the file could take a
 * conflicting POSIX read lock on it and freeze every exit, and a daemon that
 * lockf()s its own PID file deadlocked itself. Nothing below waits for
 * anything another process can hold; concurrent leavers are reconciled by
 * looking again (step 4), not by taking turns.
 */
#include "core.h"
#include "sys.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void say_released(const struct pl_config *cfg, pid_t self)
{
	if (cfg->verbose) {
		struct pl_msg m;
		pl_msg_path(&m, cfg->path, "released by PID ");
		pl_msg_num(&m, (long long)self);
		pl_msg_send(&m);
	}
}

/* If the file names `self` or a process that no longer holds the lock,
 * writes the holder a user would signal (pl_top_holder) through fd. */
static int child_running(pid_t child)
{
	siginfo_t si;
	memset(&si, 0, sizeof(si));
	return child > 0 && waitid(P_PID, (id_t)child, &si, WEXITED | WNOHANG | WNOWAIT) == 0 &&
	       si.si_pid == 0;
}

static void name_successor(const struct pl_config *cfg, const struct pl_lock *lk, int fd,
			   pid_t self, pid_t child)
{
	struct pl_lock via = {fd, lk->dev, lk->ino, PL_LOCK_FILE};
	pid_t named = pl_read_pid_once(fd);
	/* A named process we may not look at (a root master seen from a worker
	 * that runs as nobody) is left named while it lives. */
	if (named > 0 && named != self && plat_may_hold(named, lk->dev, lk->ino))
		return;
	pid_t next = pl_top_holder(lk->dev, lk->ino, self);
	if (next <= 0 && child_running(child))
		next = child; /* our own copy, invisible since we dropped privileges */
	if (next <= 0 || next == named)
		return;
	pl_write_pid(&via, next, -1);
	if (cfg->verbose) {
		struct pl_msg m;
		pl_msg_path(&m, cfg->path, "handed to ");
		pl_msg_holder(&m, next);
		pl_msg_send(&m);
	}
}

/* A second open file description of the locked inode, for proving at exit
 * that no copy holds the lock any more (flock on it fails while the shared
 * one is locked). Read-write where allowed, so that the name can be
 * repaired; read-only suffices for the proof (a daemon that dropped its
 * privileges may no longer write a root-owned file). Opened in the directory
 * that holds the lock's inode, after a look at that name (walk.c,
 * pl_reopen_lock). -1 if the path no longer names the locked inode. */
static int reopen(const struct pl_config *cfg, const struct pl_lock *lk, int *writable)
{
	*writable = 1;
	int fd = pl_reopen_lock(cfg->path, lk, O_RDWR);
	if (fd < 0 && errno == EACCES) {
		*writable = 0;
		fd = pl_reopen_lock(cfg->path, lk, O_RDONLY);
	}
	return fd;
}

/* "I am leaving" where every copy can see it without memory of its own: the
 * offset of the lock's open file description, which all copies share and
 * which nothing else uses (the PID line is read and written with pread and
 * pwrite at offset 0). Each holder that shares the lock sets it to its PID
 * when its exit begins; when that is the process the file names, a detached
 * copy executing at that moment knows it is what remains of the instance
 * (shim/lib/state.c, keeps_at_exec), without waiting for anything. One lseek
 * each, on those paths only. */
void pl_mark_leaving(const struct pl_lock *lk, pid_t self)
{
	if (lk->kind == PL_LOCK_FILE)
		(void)pl_lseek(lk->fd, (off_t)self, SEEK_SET);
}

pid_t pl_leaving(const struct pl_lock *lk)
{
	if (lk->kind != PL_LOCK_FILE)
		return 0;
	off_t off = pl_lseek(lk->fd, 0, SEEK_CUR);
	return off > 0 && off <= 0x7fffffff ? (pid_t)off : 0;
}

/* ---- the lock goes while programs the instance started still run ----
 *
 * In process scope the programs an instance executes do not hold the lock:
 * a shell script that starts a daemon without exec (apache2ctl start, an
 * init script, mysqld_safe) lets the lock go when the script ends, while the
 * daemon runs on unguarded. Nobody must be left believing it is guarded: the
 * last holder to leave looks for live processes that still carry its mark
 * (PIDLOCK_HELD with this path: everything it started inherited it) and
 * says so in one line, with the remedy. Only at that last exit, and only
 * for a process that made copies (the script's commands). */
struct unguarded {
	pid_t first;
	int n;
};

static int count_unguarded(void *arg, pid_t pid)
{
	struct unguarded *u = arg;
	if (!u->n++)
		u->first = pid;
	return 0;
}

static void warn_unguarded(const struct pl_config *cfg, pid_t self)
{
	char entry[sizeof(PL_ENV(HELD)) + PATH_MAX];
	size_t n = sizeof(PL_ENV(HELD)) - 1, len = pl_len(cfg->path);
	struct unguarded u = {0, 0};
	if (cfg->scope != PL_SCOPE_PROCESS || n + 1 + len >= sizeof(entry))
		return;
	pl_copy(entry, PL_ENV(HELD) "=", n + 1);
	pl_copy(entry + n + 1, cfg->path, len + 1);
	if (plat_each_marked(entry, self, count_unguarded, &u) <= 0 || !u.n)
		return;
	struct pl_msg m;
	pl_msg_path(&m, cfg->path, "the lock ends with PID ");
	pl_msg_num(&m, (long long)self);
	pl_msg_str(&m, ", but programs it started still run unguarded: ");
	pl_msg_holder(&m, u.first);
	if (u.n > 1) {
		pl_msg_str(&m, " and ");
		pl_msg_num(&m, (long long)u.n - 1);
		pl_msg_str(&m, " more");
	}
	pl_msg_str(&m, "; to keep them guarded, start it with --scope tree (PIDLOCK_SCOPE=tree)");
	pl_msg_send(&m);
}

/* ---- the holder dropped its privileges ----
 *
 * A daemon that drops root (memcached -d -u nobody, dnsmasq) exits as a
 * user who may no longer remove a file in root's directory: a clean stop
 * would leave the file, and `pidlock status` and start-stop-daemon would
 * take it for a crash. At the drop, while still privileged, the holder
 * starts this process: it keeps no descriptor of the program's (so no
 * socket or pipe of the program lingers), starts a session of its own (no
 * terminal's signals), is named pidlock-tidy (pkill by the program's name
 * passes it by), is made with no exit signal (so the program's wait() never
 * sees it; once the program is gone its new parent reaps it), and waits on
 * a descriptor of its own for the lock to be free. Then, holding it for an
 * instant, it removes the file only if the last holder marked a clean exit
 * (pl_write_clean_exit) and the path still names the inode: after a crash
 * the file stays, as without a privilege drop. Raw system calls only: the
 * program may have threads, whose locks a copy must not touch. */
#if defined(__linux__) && defined(PL_RAW_SYSCALLS)
#include <sys/prctl.h>

static _Noreturn void tidy_after(int fd, const struct pl_config *cfg, const struct pl_lock *lk)
{
	static const char name[16] = "pidlock-tidy";
	struct pl_sigaction dfl = {(void *)SIG_DFL, 0, NULL, 0};
	unsigned long none = 0;
	pl_sc(SYS_setsid);
	pl_sc(SYS_prctl, PR_SET_NAME, name, 0, 0, 0);
	pl_sc(SYS_chdir, "/");
	for (int sig = 1; sig <= 64; sig++)
		pl_sigaction_set(sig, &dfl);
	pl_sc(SYS_rt_sigprocmask, SIG_SETMASK, &none, NULL, sizeof(none));
	if ((fd > 0 && pl_sc(SYS_close_range, 0, fd - 1, 0) < 0) ||
	    pl_sc(SYS_close_range, fd + 1, ~0U, 0) < 0) {
		for (int i = 0; i < 65536; i++) /* before Linux 5.9 */
			if (i != fd)
				pl_close(i);
	}
	while (pl_flock(fd, LOCK_EX) < 0 && errno == EINTR)
		;
	if (pl_is_clean_exit(fd)) /* in the directory that holds the inode (walk.c) */
		pl_remove_lock(cfg->path, lk);
	for (;;)
		pl_sc(SYS_exit_group, 0);
}

pid_t pl_tidy_later(const struct pl_config *cfg, const struct pl_lock *lk)
{
	int writable, fd = reopen(cfg, lk, &writable);
	if (fd < 0)
		return 0;
	/* Like fork, with no exit signal and no atfork handler of the program. */
	long pid = pl_sc(SYS_clone, 0, 0, 0, 0, 0);
	if (pid == 0)
		tidy_after(fd, cfg, lk);
	pl_close(fd);
	return pid > 0 ? (pid_t)pid : 0;
}
#else
pid_t pl_tidy_later(const struct pl_config *cfg, const struct pl_lock *lk)
{
	(void)cfg;
	(void)lk;
	return 0;
}
#endif

/* In detail. Copies of the instance share the lock (one open file description:
 * fork copies, daemons, in tree scope executed descendants). When one of them
 * leaves (exits, or executes another program in process scope), the file must
 * keep naming a live holder, and must be removed only when no copy holds the
 * lock any more: removing it while a late-forked daemon still holds the old
 * inode would let a second instance lock a new file. Nothing here waits for
 * anything another process could hold (DESIGN.md, guarantee 12: a reader's
 * POSIX or OFD lock on the file, or the program's own, stalls nobody):
 *  1. while still holding, repair the name if the file names this process
 *     or one that no longer holds: written through the lock's own
 *     descriptor, which stays writable after a privilege drop;
 *  2. open a descriptor of our own on the inode, then drop our share;
 *  3. a non-blocking lock on our own descriptor succeeds only when no copy
 *     holds the shared one: then, and only while holding it, remove the
 *     file (if the path still names the inode);
 *  4. otherwise, copies remain; two leaving at once may each have named the
 *     other in step 1, so look again (no longer holding: the name is only
 *     corrected toward a process that does hold) and write the name anew.
 * exiting: keep the lock of step 3 until the process is gone, so that no new
 * instance starts while the rest of its exit runs. */
static void leave_shared(const struct pl_config *cfg, const struct pl_lock *lk, pid_t self,
			 int exiting, pid_t child)
{
	if (lk->kind == PL_LOCK_PLUGIN) { /* the server frees the lock with the session */
		pl_close(lk->fd);
		return;
	}
	name_successor(cfg, lk, lk->fd, self, child);
	int writable, fd = reopen(cfg, lk, &writable);
	pl_close(lk->fd);
	if (fd < 0)
		return;
	if (pl_flock(fd, LOCK_EX | LOCK_NB) == 0) {
		if (pl_remove_lock(cfg->path, lk) > 0)
			say_released(cfg, self);
		if (exiting) {
			warn_unguarded(cfg, self);
			return; /* released by the kernel at the very end */
		}
	} else if (writable) {
		for (int i = 0; i < 3; i++) {
			pid_t named = pl_read_pid_once(fd);
			if (named > 0 && plat_may_hold(named, lk->dev, lk->ino))
				break;
			name_successor(cfg, lk, fd, self, child);
		}
	}
	pl_close(fd);
}

int pl_exec_turn(const struct pl_config *cfg, const struct pl_lock *lk, pid_t self, int keep,
		 pid_t child)
{
	if (keep)
		return 1;
	leave_shared(cfg, lk, self, 0, child);
	return 0;
}

void pl_tidy(const struct pl_config *cfg, const struct pl_lock *lk, pid_t self, int shared,
	     pid_t child)
{
	if (lk->kind == PL_LOCK_PLUGIN) /* the server frees it with the session, at death */
		return;
	if (shared) {
		leave_shared(cfg, lk, self, 1, child);
		return;
	}
	/* Remove only while still locked and only the inode we locked: a waiter
	 * that opened this inode re-checks the path after locking and retries. */
	pl_remove_lock(cfg->path, lk);
	say_released(cfg, self);
}
