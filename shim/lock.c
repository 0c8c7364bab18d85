/* Open safely, lock, re-check the inode, write the PID, remove while locked.
 *
 * flock(2), not fcntl(2): POSIX record locks are dropped when the process
 * closes *any* descriptor of the file and are not shared with fork() copies;
 * flock locks belong to the open file description, so the lock lives exactly
 * as long as some descriptor of ours (or a fork copy's) is open.
 */
#include "pidlock.h"
#include "sys.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

static void say_path(struct pl_msg *m, const char *path, const char *what)
{
	pl_msg_init(m);
	pl_msg_str(m, path);
	pl_msg_str(m, ": ");
	pl_msg_str(m, what);
}

static int file_error(const struct pl_config *cfg, const char *what, int err, int status)
{
	struct pl_msg m;
	say_path(&m, cfg->path, what);
	if (err) {
		pl_msg_str(&m, ": ");
		pl_msg_str(&m, strerror(err));
	}
	return pl_fail(&m, cfg, status);
}

static const char *kind_of(mode_t mode)
{
	if (S_ISDIR(mode))
		return "is a directory, not a regular file";
	if (S_ISFIFO(mode))
		return "is a FIFO, not a regular file";
	if (S_ISSOCK(mode))
		return "is a socket, not a regular file";
	if (S_ISCHR(mode) || S_ISBLK(mode))
		return "is a device, not a regular file";
	return "is not a regular file";
}

/* Opens the PID file without following a link and without hanging on a FIFO,
 * and refuses anything a careful daemon would not trust. Returns the
 * descriptor (>= 3), or -status after printing one line. */
static int open_checked(const struct pl_config *cfg, uid_t euid, struct stat *st)
{
	int flags = O_RDWR | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY;
	/* Process scope: programs we execute must not inherit the lock. An exec
	 * of the instance itself clears the flag for that one call (interpose.c). */
	if (cfg->scope == PL_SCOPE_PROCESS)
		flags |= O_CLOEXEC;
	int fd;
	do
		fd = pl_open(cfg->path, flags, 0644);
	while (fd < 0 && errno == EINTR);
	if (fd < 0) {
		int err = errno;
		struct stat lst;
		if (err == ELOOP || err == EMLINK) /* EMLINK: O_NOFOLLOW on FreeBSD */
			return -file_error(cfg, "is a symbolic link; not following it", 0,
					   PL_EX_CANTCREAT);
		if ((err == EISDIR || err == ENXIO || err == EOPNOTSUPP) &&
		    pl_lstat(cfg->path, &lst) == 0)
			return -file_error(cfg, kind_of(lst.st_mode), 0, PL_EX_CANTCREAT);
		if (err == EMFILE || err == ENFILE || err == ENOMEM)
			return -file_error(cfg, "cannot open", err, PL_EX_OSERR);
		return -file_error(cfg, "cannot open", err, PL_EX_CANTCREAT);
	}
	const char *why = NULL;
	if (pl_fstat(fd, st) < 0)
		why = "cannot stat";
	else if (!S_ISREG(st->st_mode))
		why = kind_of(st->st_mode);
	else if (st->st_mode & (S_IWGRP | S_IWOTH))
		why = "is writable by group or others; refusing it";
	else if (st->st_uid != euid && st->st_uid != 0)
		why = "is owned by another user; refusing it";
	if (why) {
		close(fd);
		return -file_error(cfg, why, 0, PL_EX_CANTCREAT);
	}
	if (fd < 3) {
		/* Started with stdin/stdout/stderr closed: do not sit on a standard
		 * descriptor the program will open for itself. */
		int hi = pl_fcntl(fd, cfg->scope == PL_SCOPE_PROCESS ? F_DUPFD_CLOEXEC : F_DUPFD, 3);
		close(fd);
		if (hi < 0)
			return -file_error(cfg, "cannot move descriptor", errno, PL_EX_OSERR);
		fd = hi;
	}
	return fd;
}

int pl_path_is_lock(const char *path, const struct pl_lock *lk)
{
	struct stat st;
	return pl_lstat(path, &st) == 0 && st.st_dev == lk->dev && st.st_ino == lk->ino;
}

int pl_write_pid(const struct pl_lock *lk, pid_t pid, off_t old_size)
{
	char buf[24];
	size_t n = pl_fmt_num(buf, (long long)pid);
	buf[n++] = '\n';
	/* One pwrite of the whole line, then cut what a longer old number left:
	 * a reader sees either the old line or the new one in the first line,
	 * never an empty file (truncating first would show one). */
	ssize_t w = pl_pwrite(lk->fd, buf, n, 0);
	if (w < 0 && errno == ESPIPE) /* cluster mode: the socket's owner names the instance */
		return pl_fcntl(lk->fd, F_SETOWN, pid) < 0 ? -1 : 0;
	if (w != (ssize_t)n)
		return -1;
	if ((old_size < 0 || old_size > (off_t)n) && ftruncate(lk->fd, (off_t)n) < 0)
		return -1;
	return 0;
}

static void on_alarm(int sig)
{
	(void)sig; /* only there to interrupt flock() */
}

/* flock(LOCK_EX) that gives up after timeout_ns: the waiter sleeps in the
 * kernel and is woken the moment the holder's descriptor goes away, with no
 * polling interval. SIGALRM only bounds the wait; it repeats every 100 ms so
 * an alarm that lands just before flock() enters the kernel cannot make us
 * block forever. The program's handler, mask and timer are restored. */
static int flock_timed(int fd, long long timeout_ns)
{
	int r;
	if (timeout_ns == PL_FOREVER) {
		do
			r = flock(fd, LOCK_EX);
		while (r < 0 && errno == EINTR);
		return r;
	}
	long long deadline = plat_now_ns() + timeout_ns;
	struct sigaction sa;
	struct pl_sigaction old_sa;
	struct itimerval it, old_it;
	int timer_saved = 0; /* old_it holds the program's timer */
	sigset_t set, old_set;
	memset(&old_it, 0, sizeof(old_it));
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm;
	sigemptyset(&sa.sa_mask);
	pl_sigaction_get(SIGALRM, &old_sa);
	sigaction(SIGALRM, &sa, NULL);
	sigemptyset(&set);
	sigaddset(&set, SIGALRM);
	sigprocmask(SIG_UNBLOCK, &set, &old_set);
	for (;;) {
		long long left = deadline - plat_now_ns();
		if (left <= 0) {
			r = flock(fd, LOCK_EX | LOCK_NB);
			break;
		}
		memset(&it, 0, sizeof(it));
		it.it_value.tv_sec = (time_t)(left / 1000000000LL);
		it.it_value.tv_usec = (suseconds_t)(left % 1000000000LL / 1000 + 1);
		it.it_interval.tv_usec = 100000;
		setitimer(ITIMER_REAL, &it, timer_saved ? NULL : &old_it);
		timer_saved = 1;
		r = flock(fd, LOCK_EX);
		int err = errno;
		memset(&it, 0, sizeof(it));
		setitimer(ITIMER_REAL, &it, NULL);
		errno = err;
		if (r == 0 || errno != EINTR)
			break;
	}
	int err = errno;
	/* A program timer inherited across exec keeps (roughly) its schedule. */
	if (old_it.it_value.tv_sec || old_it.it_value.tv_usec)
		setitimer(ITIMER_REAL, &old_it, NULL);
	sigprocmask(SIG_SETMASK, &old_set, NULL);
	pl_sigaction_set(SIGALRM, &old_sa);
	errno = err;
	return r;
}

static void append_holder(struct pl_msg *m, pid_t pid)
{
	if (pid > 0)
		pl_msg_holder(m, pid);
	else
		pl_msg_str(m, "another process (PID unknown)");
}

static void say_holder(struct pl_msg *m, const struct pl_config *cfg, const char *what, pid_t pid)
{
	say_path(m, cfg->path, what);
	append_holder(m, pid);
}

static int conflict(const struct pl_config *cfg, const char *what, pid_t pid)
{
	if (!cfg->quiet) {
		struct pl_msg m;
		say_holder(&m, cfg, what, pid);
		pl_msg_send(&m);
	}
	return PL_HELD_ELSEWHERE;
}

/* The lock is busy: wait, replace, or report. Returns 0 when locked. */
static int contend(const struct pl_config *cfg, int fd, const struct stat *st, pid_t self)
{
	/* open_checked fills st before it returns a descriptor; clang's analyzer
	 * cannot see that file_error's status is positive (so -status < 0). */
	/* NOLINTNEXTLINE(clang-analyzer-core.CallAndMessage) */
	pid_t holder = pl_find_holder(fd, st->st_dev, st->st_ino, self);
	long long t0 = plat_now_ns();
	struct pl_msg m;
	if (cfg->mode == PL_MODE_FAIL)
		return conflict(cfg, "already running as ", holder);
	if (cfg->mode == PL_MODE_WAIT) {
		if (cfg->verbose) {
			say_holder(&m, cfg, "waiting for ", holder);
			pl_msg_send(&m);
		}
		if (flock_timed(fd, cfg->timeout_ns) == 0)
			goto locked;
		if (errno != EWOULDBLOCK && errno != EINTR)
			return file_error(cfg, "cannot lock", errno, PL_EX_OSERR);
		if (!cfg->quiet) {
			say_path(&m, cfg->path, "timed out after ");
			pl_msg_secs(&m, cfg->timeout_ns);
			pl_msg_str(&m, " s; still held by ");
			append_holder(&m, pl_find_holder(fd, st->st_dev, st->st_ino, self));
			pl_msg_send(&m);
		}
		return PL_HELD_ELSEWHERE;
	}
	/* Replace: identity before force, for every holder (a prefork master and
	 * its workers all share the lock). */
	pl_signal_holders(st->st_dev, st->st_ino, self, cfg->signo, cfg->verbose, cfg->path);
	if (flock_timed(fd, cfg->timeout_ns) == 0)
		goto locked;
	pl_signal_holders(st->st_dev, st->st_ino, self, SIGKILL, cfg->verbose, cfg->path);
	/* SIGKILL cannot be ignored; a few seconds covers a process in
	 * uninterruptible sleep on a slow disk. */
	if (flock_timed(fd, 5 * 1000000000LL) == 0)
		goto locked;
	holder = pl_find_holder(fd, st->st_dev, st->st_ino, self);
	return conflict(cfg, "could not replace ", holder);
locked:
	if (cfg->verbose) {
		say_path(&m, cfg->path, cfg->mode == PL_MODE_WAIT ? "acquired after waiting "
								   : "replaced the holder in ");
		pl_msg_secs(&m, plat_now_ns() - t0);
		pl_msg_str(&m, " s");
		pl_msg_send(&m);
	}
	return 0;
}

int pl_acquire(const struct pl_config *cfg, struct pl_lock *lk, uid_t euid, pid_t self)
{
	/* Each round that finds the path no longer naming the locked inode means
	 * another holder removed or replaced the file; a thousand in a row is no
	 * longer a race but something deliberately swapping files. */
	for (int round = 0; round < 1000; round++) {
		struct stat st;
		int fd = open_checked(cfg, euid, &st);
		if (fd < 0)
			return -fd;
		int waited = 0;
		if (pl_flock(fd, LOCK_EX | LOCK_NB) < 0) {
			waited = 1;
			int r = errno == EWOULDBLOCK ? contend(cfg, fd, &st, self)
						     : file_error(cfg, "cannot lock", errno, PL_EX_OSERR);
			if (r) {
				close(fd);
				return r;
			}
		}
		lk->fd = fd;
		/* See contend() about st. NOLINTNEXTLINE(clang-analyzer-core.uninitialized.Assign) */
		lk->dev = st.st_dev;
		lk->ino = st.st_ino;
		/* The holder before us may have removed the file at its exit, or
		 * replaced it, after we opened it: the lock we hold is then on an
		 * inode nobody else will ever open. Only the inode the path names
		 * counts (FreeBSD flopen(3) does the same). */
		if (!pl_path_is_lock(cfg->path, lk)) {
			close(fd);
			lk->fd = -1;
			continue;
		}
		/* After waiting, the size seen at open is stale. */
		if (waited && pl_fstat(fd, &st) < 0)
			st.st_size = -1;
		if (pl_write_pid(lk, self, st.st_size) < 0) {
			int err = errno;
			close(fd);
			lk->fd = -1;
			return file_error(cfg, "cannot write", err, PL_EX_CANTCREAT);
		}
		return 0;
	}
	return file_error(cfg, "keeps being replaced while locking", 0, PL_EX_OSERR);
}

/* Serialises the exit paths of processes that share one lock: a byte-range
 * lock on a descriptor of our own. OFD locks where the system has them (they
 * are not dropped by closing another descriptor of the file); classic POSIX
 * record locks elsewhere, which is harmless here: the process is exiting. */
static void exit_mutex(int fd)
{
	struct flock fl;
	memset(&fl, 0, sizeof(fl));
	fl.l_type = F_WRLCK;
	fl.l_whence = SEEK_SET;
	fl.l_len = 1;
#ifdef F_OFD_SETLKW
	while (pl_fcntl_ptr(fd, F_OFD_SETLKW, &fl) < 0 && errno == EINTR)
		;
#else
	while (pl_fcntl_ptr(fd, F_SETLKW, &fl) < 0 && errno == EINTR)
		;
#endif
}

static void say_released(const struct pl_config *cfg, pid_t self)
{
	if (cfg->verbose) {
		struct pl_msg m;
		say_path(&m, cfg->path, "released by PID ");
		pl_msg_num(&m, (long long)self);
		pl_msg_send(&m);
	}
}

/* Fork copies share the lock (one open file description). When one of them
 * leaves (exits, or executes another program in process scope), the file
 * must keep naming a live holder, and must be removed only when no copy holds
 * the lock any more: removing it while a late-forked daemon still holds the
 * old inode would let a second instance lock a new file. A /proc snapshot
 * alone cannot decide that (a double fork races with the scan), so:
 *  - leaving holders take turns (exit_mutex);
 *  - in its turn, a process repairs the name if the file names itself or a
 *    process that no longer holds the lock, writing it while still holding;
 *  - it then drops its own share inside its turn, so a later scan never sees
 *    a process that has already had its turn;
 *  - and it removes the file only if a lock on a descriptor of its own
 *    succeeds, which proves no copy holds the shared one.
 * may_keep: an exec that may keep the lock if the file names this process
 * (an exec of the instance itself); returns 1 when it does. */
static int leave_shared(const struct pl_config *cfg, const struct pl_lock *lk, pid_t self,
			int may_keep)
{
	struct stat st;
	int fd = open(cfg->path, O_RDWR | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (fd >= 0 && (pl_fstat(fd, &st) < 0 || st.st_dev != lk->dev || st.st_ino != lk->ino)) {
		close(fd); /* removed or replaced: nothing of ours to tidy */
		fd = -1;
	}
	if (fd >= 0)
		exit_mutex(fd);
	pid_t named = pl_read_pid_once(lk->fd);
	if (may_keep && named == self) {
		if (fd >= 0)
			close(fd);
		return 1;
	}
	if (fd >= 0 && (named == self || named <= 0 || !plat_holds(named, lk->dev, lk->ino))) {
		pid_t next = pl_newest_holder(lk->dev, lk->ino, self);
		if (next > 0 && next != named) {
			pl_write_pid(lk, next, -1);
			if (cfg->verbose) {
				struct pl_msg m;
				say_path(&m, cfg->path, "handed to ");
				pl_msg_holder(&m, next);
				pl_msg_send(&m);
			}
		}
	}
	pl_close_lock(lk->fd);
	if (fd >= 0) {
		if (pl_flock(fd, LOCK_EX | LOCK_NB) == 0 && pl_path_is_lock(cfg->path, lk)) {
			pl_unlink(cfg->path);
			say_released(cfg, self);
		}
		close(fd);
	}
	return 0;
}

int pl_exec_turn(const struct pl_config *cfg, const struct pl_lock *lk, pid_t self, int may_keep)
{
	/* Tree scope: every executed program keeps its inherited share, so
	 * nobody leaves; only the new image's knowledge of it is at stake. */
	if (cfg->scope == PL_SCOPE_TREE)
		return pl_read_pid_once(lk->fd) == self;
	return leave_shared(cfg, lk, self, may_keep);
}

void pl_tidy(const struct pl_config *cfg, const struct pl_lock *lk, pid_t self, int shared)
{
	if (shared) {
		leave_shared(cfg, lk, self, 0);
		return;
	}
	/* Remove only while still locked and only the inode we locked: a waiter
	 * that opened this inode re-checks the path after locking and retries. */
	if (pl_path_is_lock(cfg->path, lk))
		pl_unlink(cfg->path);
	say_released(cfg, self);
}
