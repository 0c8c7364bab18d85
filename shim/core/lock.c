/* Open safely, lock, re-check the inode, write the PID, remove while locked.
 *
 * flock(2), not fcntl(2): POSIX record locks are dropped when the process
 * closes *any* descriptor of the file and are not shared with fork() copies;
 * flock locks belong to the open file description, so the lock lives exactly
 * as long as some descriptor of ours (or a fork copy's) is open.
 */
#include "core.h"
#include "sys.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int file_error(const struct pl_config *cfg, const char *what, int err, int status)
{
	struct pl_msg m;
	pl_msg_path(&m, cfg->path, what);
	if (err) {
		pl_msg_str(&m, ": ");
		pl_msg_str(&m, strerror(err));
	}
	return pl_fail(&m, cfg, status);
}

/* The per-user directory under /tmp must be the user's own real directory that
 * nobody else can write: otherwise another user could plant it and swap the
 * PID file under us (the classic /tmp attack). */
static int private_dir(const struct pl_config *cfg, uid_t euid)
{
	char dir[PATH_MAX];
	pl_copy(dir, cfg->path, cfg->private_dir);
	dir[cfg->private_dir] = '\0';
	struct stat st;
	struct pl_msg m;
	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		int err = errno;
		pl_msg_init(&m);
		pl_msg_str(&m, dir);
		pl_msg_str(&m, ": cannot create directory: ");
		pl_msg_str(&m, strerror(err));
		return pl_fail(&m, cfg, PL_EX_CANTCREAT);
	}
	/* Made under a umask such as 0277 it would be 0500, unusable: it is
	 * ours (checked below), so give it the mode it is meant to have. */
	int found = pl_lstat(dir, &st) == 0;
	if (found && S_ISDIR(st.st_mode) && st.st_uid == euid && (st.st_mode & 0700) != 0700 &&
	    chmod(dir, 0700) == 0)
		st.st_mode = (st.st_mode & ~(mode_t)0777) | 0700;
	if (!found || !S_ISDIR(st.st_mode) || st.st_uid != euid || (st.st_mode & (S_IWGRP | S_IWOTH))) {
		pl_msg_init(&m);
		pl_msg_str(&m, dir);
		pl_msg_str(&m, ": not a private directory of UID ");
		pl_msg_num(&m, (long long)euid);
		pl_msg_str(&m, " (a link, another owner, or writable by others); refusing it");
		return pl_fail(&m, cfg, PL_EX_CANTCREAT);
	}
	return 0;
}

/* A refused directory of the path: one line naming the component itself. */
static int unsafe_path(const struct pl_config *cfg, const struct pl_walk *w)
{
	struct pl_msg m;
	pl_msg_init(&m);
	pl_msg_strn(&m, cfg->path, w->bad);
	pl_msg_str(&m, w->why);
	pl_msg_str(&m, " (PID file ");
	pl_msg_str(&m, cfg->path);
	pl_msg_str(&m, ")");
	return pl_fail(&m, cfg, PL_EX_CANTCREAT);
}

static int open_error(const struct pl_config *cfg, int err)
{
	if (err == ELOOP || err == EMLINK) /* EMLINK: O_NOFOLLOW on FreeBSD */
		return file_error(cfg, "is a symbolic link; not following it", 0, PL_EX_CANTCREAT);
	if (err == EMFILE || err == ENFILE || err == ENOMEM)
		return file_error(cfg, "cannot open", err, PL_EX_OSERR);
	return file_error(cfg, "cannot open", err, PL_EX_CANTCREAT);
}

/* Opens the PID file in the directory the walk holds (DESIGN.md, guarantee
 * 9: the walk, the look and the open reach the same inodes): never follows
 * a link, never opens anything but a regular file of a real file system (a
 * FIFO's blocked writer stays blocked, a device's open routine never runs,
 * /proc/sys/kernel/hostname is not written), and refuses anything a careful
 * daemon would not trust. The common case is a file that the last holder
 * removed: one O_CREAT|O_EXCL call. An existing one is looked at first
 * (O_PATH), opened only if regular, and must be the inode looked at.
 * Returns the descriptor, 0 to try again (the file changed under us), or
 * -status. */
static int open_in(const struct pl_config *cfg, const struct pl_walk *w, uid_t euid,
		   struct stat *st)
{
	int flags = O_RDWR | O_NONBLOCK | O_NOCTTY;
	/* Process scope: programs we execute must not inherit the lock. An exec
	 * of the instance itself clears the flag for that one call (interpose.c). */
	if (cfg->scope == PL_SCOPE_PROCESS)
		flags |= O_CLOEXEC;
	struct stat lst;
	const char *what;
	int created = 1;
	int fd = pl_walk_open(w, flags | O_CREAT | O_EXCL, 0644);
	if (fd < 0 && errno == EEXIST) {
		created = 0;
		if (pl_walk_look(w, &lst, &what) < 0)
			return errno == ENOENT ? 0 : -file_error(cfg, "cannot stat", errno, PL_EX_CANTCREAT);
		if (what)
			return -file_error(cfg, what, 0, PL_EX_CANTCREAT);
		fd = pl_walk_open(w, flags, 0);
		if (fd < 0 && errno == ENOENT)
			return 0; /* removed meanwhile */
	}
	if (fd < 0)
		return -open_error(cfg, errno);
	const char *why = NULL;
	if (pl_fstat(fd, st) < 0)
		why = "cannot stat";
	else if (!created && (st->st_dev != lst.st_dev || st->st_ino != lst.st_ino))
		why = ""; /* replaced between the look and the open: again */
	else if (!S_ISREG(st->st_mode))
		why = pl_file_kind(st->st_mode);
	else if (st->st_mode & (S_IWGRP | S_IWOTH))
		why = "is writable by group or others; refusing it";
	else if (st->st_uid != euid && (st->st_uid != 0 || w->shared))
		why = "is owned by another user; refusing it";
	else if (st->st_nlink > 1)
		why = "has more than one hard link; refusing it";
	else if (!created && !pl_looks_like_pid_file(fd, st->st_size))
		why = "is not a PID file (it holds something other than a process ID); "
		      "refusing to overwrite it";
	if (why) {
		pl_close(fd);
		return *why ? -file_error(cfg, why, 0, PL_EX_CANTCREAT) : 0;
	}
	/* Created under a umask such as 0277, the file would be 0400: a holder
	 * could not reopen it at exit and it would lock its owner out. */
	if (created && (st->st_mode & 0600) != 0600)
		fchmod(fd, (st->st_mode & 0777) | 0600);
	if (fd < 3) {
		/* Started with stdin/stdout/stderr closed: do not sit on a standard
		 * descriptor the program will open for itself. */
		int hi = pl_fcntl(fd, cfg->scope == PL_SCOPE_PROCESS ? F_DUPFD_CLOEXEC : F_DUPFD, 3);
		pl_close(fd);
		if (hi < 0)
			return -file_error(cfg, "cannot move descriptor", errno, PL_EX_OSERR);
		fd = hi;
	}
	return fd;
}

/* The walk (walk.c, checked: DESIGN.md, guarantee 9), then the open in the
 * directory it holds; the directory's descriptor is closed before the lock
 * is even tried, so nothing but the lock's descriptor outlives the start.
 * Returns as open_in. */
static int open_checked(const struct pl_config *cfg, uid_t euid, struct stat *st)
{
	struct pl_walk w;
	int r = pl_walk(cfg->path, euid, PL_WALK_CHECK, &w);
	if (r > 0)
		return -unsafe_path(cfg, &w);
	if (r < 0)
		return errno == EAGAIN ? 0 : -open_error(cfg, errno);
	int fd = open_in(cfg, &w, euid, st);
	pl_walk_close(&w);
	return fd;
}

int pl_path_is_lock(const char *path, const struct pl_lock *lk)
{
	struct stat st;
	return pl_lstat(path, &st) == 0 && st.st_dev == lk->dev && st.st_ino == lk->ino;
}

/* Set by the handler when a SIGALRM that is not our own timer's arrives
 * during a timed wait (kill -ALRM from outside): it is delivered again, to
 * the program's own disposition, at once. */
static volatile sig_atomic_t foreign_alarm;

static void on_alarm(int sig, siginfo_t *si, void *ctx)
{
	(void)sig;
	(void)ctx;
	/* setitimer's expiry comes from the kernel (SI_KERNEL); kill, sigqueue
	 * and tgkill from a process. Either way flock() returns EINTR. */
#ifdef SI_KERNEL
	if (si && si->si_code != SI_KERNEL)
		foreign_alarm = 1;
#else /* macOS: the timer's signal says neither SI_USER nor SI_QUEUE */
	if (si && (si->si_code == SI_USER || si->si_code == SI_QUEUE))
		foreign_alarm = 1;
#endif
}

/* What the program had before a timed wait: SIGALRM's action, the signal
 * mask, and its ITIMER_REAL (alarm(), setitimer()), which it may have
 * inherited across exec (`alarm 2; exec prog`). */
struct alarm_saved {
	struct pl_sigaction action;
	sigset_t mask;
	long long due;      /* when its timer falls due (monotonic ns), or 0: none */
	long long interval; /* and then every this often (ns), or 0 */
};

/* SIGALRM is blocked while this runs: delivers one SIGALRM exactly as the
 * program would have had it (its action, its mask: the default action ends
 * the process, an ignored one is dropped, a blocked one stays pending), then
 * puts ours back. */
static void deliver_to_program(const struct alarm_saved *p, const struct sigaction *ours)
{
	sigset_t blocked;
	pl_sigaction_set(SIGALRM, &p->action);
	pl_raise(SIGALRM); /* pending: SIGALRM is blocked here */
	sigprocmask(SIG_SETMASK, &p->mask, &blocked);
	sigprocmask(SIG_SETMASK, &blocked, NULL);
	sigaction(SIGALRM, ours, NULL);
}

static void set_timer(long long ns, long long interval_ns)
{
	struct itimerval it;
	memset(&it, 0, sizeof(it));
	it.it_value.tv_sec = (time_t)(ns / 1000000000LL);
	it.it_value.tv_usec = (suseconds_t)(ns % 1000000000LL / 1000);
	if (ns > 0 && !it.it_value.tv_sec && !it.it_value.tv_usec)
		it.it_value.tv_usec = 1; /* due now: as soon as possible, not never */
	it.it_interval.tv_sec = (time_t)(interval_ns / 1000000000LL);
	it.it_interval.tv_usec = (suseconds_t)(interval_ns % 1000000000LL / 1000);
	setitimer(ITIMER_REAL, &it, NULL);
}

/* flock(LOCK_EX) that gives up after timeout_ns: the waiter sleeps in the
 * kernel and is woken the moment the holder's descriptor goes away, with no
 * polling interval. SIGALRM only bounds the wait; ours repeats every 100 ms
 * so that one landing just before flock() enters the kernel cannot make us
 * block forever. The program keeps what it had (DESIGN.md, guarantee 17):
 * SIGALRM stays blocked except inside flock(); the program's own timer is
 * taken over and, when it falls due during the wait, delivered then with the
 * program's action and mask (`alarm 2; exec prog` still dies at 2 s, status
 * 142), as is a SIGALRM sent from outside; afterwards its action is put back
 * *before* its timer is re-armed on its own schedule, and the mask last. */
static int flock_timed(int fd, long long timeout_ns)
{
	int r;
	if (timeout_ns == PL_FOREVER) {
		do
			r = flock(fd, LOCK_EX);
		while (r < 0 && errno == EINTR);
		return r;
	}
	long long start = plat_now_ns(), deadline = start + timeout_ns;
	struct alarm_saved prog;
	struct sigaction ours;
	struct itimerval old_it, none;
	sigset_t alrm;
	memset(&ours, 0, sizeof(ours));
	ours.sa_sigaction = on_alarm;
	ours.sa_flags = SA_SIGINFO;
	sigemptyset(&ours.sa_mask);
	sigemptyset(&alrm);
	sigaddset(&alrm, SIGALRM);
	foreign_alarm = 0;
	sigprocmask(SIG_BLOCK, &alrm, &prog.mask);
	pl_sigaction_get(SIGALRM, &prog.action);
	sigaction(SIGALRM, &ours, NULL);
	memset(&none, 0, sizeof(none));
	setitimer(ITIMER_REAL, &none, &old_it);
	prog.due = 0;
	prog.interval = (long long)old_it.it_interval.tv_sec * 1000000000LL +
			(long long)old_it.it_interval.tv_usec * 1000LL;
	if (old_it.it_value.tv_sec || old_it.it_value.tv_usec)
		prog.due = start + (long long)old_it.it_value.tv_sec * 1000000000LL +
			   (long long)old_it.it_value.tv_usec * 1000LL;
	for (;;) {
		long long now = plat_now_ns();
		if (foreign_alarm) {
			foreign_alarm = 0;
			deliver_to_program(&prog, &ours);
			continue;
		}
		if (prog.due && now >= prog.due) {
			prog.due = prog.interval ? prog.due + prog.interval : 0;
			deliver_to_program(&prog, &ours);
			continue;
		}
		if (now >= deadline) {
			r = flock(fd, LOCK_EX | LOCK_NB);
			break;
		}
		long long wake = prog.due && prog.due < deadline ? prog.due : deadline;
		set_timer(wake - now, 100000000LL);
		sigprocmask(SIG_UNBLOCK, &alrm, NULL);
		r = flock(fd, LOCK_EX);
		int err = errno;
		sigprocmask(SIG_BLOCK, &alrm, NULL);
		set_timer(0, 0);
		errno = err;
		if (r == 0 || errno != EINTR)
			break;
	}
	int err = errno;
	/* Blocked still: the program's action first, then its timer (due now:
	 * at once), then its mask, which lets a pending one through. */
	pl_sigaction_set(SIGALRM, &prog.action);
	if (prog.due)
		set_timer(prog.due - plat_now_ns() > 0 ? prog.due - plat_now_ns() : 1, prog.interval);
	if (foreign_alarm)
		pl_raise(SIGALRM);
	sigprocmask(SIG_SETMASK, &prog.mask, NULL);
	errno = err;
	return r;
}

static void append_unseen(struct pl_msg *m);

static void append_holder(struct pl_msg *m, pid_t pid)
{
	if (pid > 0)
		pl_msg_holder(m, pid);
	else
		append_unseen(m);
}

static void say_holder(struct pl_msg *m, const struct pl_config *cfg, const char *what, pid_t pid)
{
	pl_msg_path(m, cfg->path, what);
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

static int scan_error(const struct pl_config *cfg, int err)
{
	struct pl_msg m;
	pl_msg_path(&m, cfg->path, "cannot examine the processes that hold the lock: ");
	pl_msg_str(&m, strerror(err));
	return pl_fail(&m, cfg, PL_EX_OSERR);
}

/* A busy lock with no holder to be seen: inside a PID namespace, a holder
 * outside it (a volume shared between containers); anywhere, a prober such
 * as `pidlock status` in a container, which holds a shared lock for an
 * instant (platform_linux.c, hidden_lock). Tries again for ~200 ms before
 * believing the lock is held. 0 when the lock was taken meanwhile. */
static int unseen_holder(int fd)
{
	for (int i = 0; i < 20; i++) {
		if (pl_flock(fd, LOCK_EX | LOCK_NB) == 0)
			return 0;
		pl_nap_ms(10);
	}
	return -1;
}

static void append_unseen(struct pl_msg *m)
{
	pl_msg_str(m, plat_pidns_nested() ? "a process outside this PID namespace (not visible here)"
					  : "another process (PID unknown)");
}

/* The lock is busy: wait, replace, or report. Returns 0 when locked. */
static int contend(const struct pl_config *cfg, int fd, const struct stat *st, pid_t self)
{
	/* open_checked fills st before it returns a descriptor; clang's analyzer
	 * cannot see that file_error's status is positive (so -status < 0). */
	/* NOLINTNEXTLINE(clang-analyzer-core.CallAndMessage) */
	pid_t holder = pl_find_holder(fd, st->st_dev, st->st_ino, self);
	if (holder < 0)
		return scan_error(cfg, errno);
	if (holder == 0 && unseen_holder(fd) == 0)
		return 0;
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
			pl_msg_path(&m, cfg->path, "timed out after ");
			pl_msg_secs(&m, cfg->timeout_ns);
			pl_msg_str(&m, " s; still held by ");
			append_holder(&m, pl_find_holder(fd, st->st_dev, st->st_ino, self));
			pl_msg_send(&m);
		}
		return PL_HELD_ELSEWHERE;
	}
	/* Replace: identity before force, for every holder (a prefork master and
	 * its workers all share the lock). A holder we cannot see is never
	 * signalled, and neither is one of our own ancestors (a tree-scope
	 * descendant asking to replace its own tree). */
	if (holder == 0)
		return conflict(cfg, "cannot replace: held by ", 0);
	if (pl_is_ancestor(holder))
		return conflict(cfg, "cannot replace an ancestor of this process: ", holder);
	if (pl_signal_holders(st->st_dev, st->st_ino, self, cfg->signo, cfg->verbose, cfg->path) < 0)
		return scan_error(cfg, errno);
	if (flock_timed(fd, cfg->timeout_ns) == 0)
		goto locked;
	if (pl_signal_holders(st->st_dev, st->st_ino, self, SIGKILL, cfg->verbose, cfg->path) < 0)
		return scan_error(cfg, errno);
	/* SIGKILL cannot be ignored; a few seconds covers a process in
	 * uninterruptible sleep on a slow disk. */
	if (flock_timed(fd, 5 * 1000000000LL) == 0)
		goto locked;
	holder = pl_find_holder(fd, st->st_dev, st->st_ino, self);
	if (holder < 0)
		return scan_error(cfg, errno);
	return conflict(cfg, "could not replace ", holder);
locked:
	if (cfg->verbose) {
		pl_msg_path(&m, cfg->path, cfg->mode == PL_MODE_WAIT ? "acquired after waiting "
								   : "replaced the holder in ");
		pl_msg_secs(&m, plat_now_ns() - t0);
		pl_msg_str(&m, " s");
		pl_msg_send(&m);
	}
	return 0;
}

/* RLIMIT_FSIZE below the PID line's length (ulimit -f 0) would make the
 * write raise SIGXFSZ and kill the program before main with 153. Ask first:
 * one system call, and the refusal gets its own status and line. */
static int write_would_exceed_limit(size_t n)
{
	unsigned long long lim[2];
	return pl_prlimit_fsize(lim) == 0 && lim[0] < (unsigned long long)n;
}

int pl_acquire(const struct pl_config *cfg, struct pl_lock *lk, uid_t euid, pid_t self)
{
	/* Each round that finds the path no longer naming the locked inode means
	 * another holder removed or replaced the file; a thousand in a row is no
	 * longer a race but something deliberately swapping files. */
	if (cfg->private_dir) {
		int r = private_dir(cfg, euid);
		if (r)
			return r;
	}
	for (int round = 0; round < 1000; round++) {
		struct stat st;
		int fd = open_checked(cfg, euid, &st);
		if (fd < 0)
			return -fd;
		if (fd == 0)
			continue;
		if (pl_flock(fd, LOCK_EX | LOCK_NB) < 0) {
			int r = errno == EWOULDBLOCK ? contend(cfg, fd, &st, self)
						     : file_error(cfg, "cannot lock", errno, PL_EX_OSERR);
			if (r) {
				pl_close(fd);
				return r;
			}
		}
		lk->fd = fd;
		/* See contend() about st. NOLINTNEXTLINE(clang-analyzer-core.uninitialized.Assign) */
		lk->dev = st.st_dev;
		lk->ino = st.st_ino;
		lk->kind = PL_LOCK_FILE;
		/* The holder before us may have removed the file at its exit, or
		 * replaced it, after we opened it: the lock we hold is then on an
		 * inode nobody else will ever open. Only the inode the path names
		 * counts (FreeBSD flopen(3) does the same): the next starter finds
		 * the file by the path, not through the directory we walked, so
		 * this one look is by the path on purpose; it only compares, and
		 * nothing is done to what it names. The same look gives the
		 * size as it is now that we hold the lock: a starter that crashed
		 * between our open and our lock may have left a longer number. */
		struct stat now;
		if (pl_lstat(cfg->path, &now) < 0 || now.st_dev != lk->dev || now.st_ino != lk->ino) {
			pl_close(fd);
			lk->fd = -1;
			continue;
		}
		char line[24];
		size_t n = pl_fmt_num(line, (long long)self) + 1;
		if (write_would_exceed_limit(n)) {
			pl_close(fd);
			lk->fd = -1;
			/* The line itself would raise SIGXFSZ if stderr is a file. */
			struct pl_sigaction old;
			pl_sigaction_ignore(SIGXFSZ, &old);
			int r = file_error(cfg, "cannot write the PID: the file size limit (ulimit -f) is too small",
					   0, PL_EX_CANTCREAT);
			pl_sigaction_set(SIGXFSZ, &old);
			return r;
		}
		if (pl_write_pid(lk, self, now.st_size) < 0) {
			int err = errno;
			pl_close(fd);
			lk->fd = -1;
			return file_error(cfg, "cannot write", err, PL_EX_CANTCREAT);
		}
		return 0;
	}
	return file_error(cfg, "keeps being replaced while locking", 0, PL_EX_OSERR);
}
