/* SPDX-License-Identifier: MIT */
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
	struct pl_file_session fs;
	pl_file_session_init(&fs, cfg, self);
	for (int round = 0; round < 1000; round++) {
		/* Zeroed for the analyser: open_checked fills it whenever it
		 * returns a descriptor. */
		struct stat st = {0};
		int fd = open_checked(cfg, euid, &st);
		if (fd < 0) {
			pl_file_session_done(&fs, -1);
			return -fd;
		}
		if (fd == 0)
			continue;
		pl_file_session_use(&fs, fd, st.st_dev, st.st_ino);
		if (pl_flock(fd, LOCK_EX | LOCK_NB) < 0) {
			if (errno != EWOULDBLOCK) {
				int r = file_error(cfg, "cannot lock", errno, PL_EX_OSERR);
				fs.s.close(&fs.s);
				return r;
			}
			int r = pl_file_take(&fs); /* the modes; closes the session on failure */
			if (r)
				return r;
		}
		lk->fd = fd;
		/* open_checked fills st before it returns a descriptor.
		 * NOLINTNEXTLINE(clang-analyzer-core.uninitialized.Assign) */
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
			/* A replace request keeps the inode it registered on: an
			 * older request may still look there for newer ones. */
			if (!pl_file_session_registered(&fs, fd))
				pl_close(fd);
			lk->fd = -1;
			continue;
		}
		/* Replace: the lock came free, but a newer request may have come
		 * meanwhile; it is the one to run (modes.c, "newest wins"). */
		if (fs.ticket && pl_file_overtaken(&fs)) {
			lk->fd = -1;
			if (!cfg->quiet) {
				struct pl_msg m;
				pl_msg_path(&m, cfg->path, "overtaken by a newer replace request; stepping aside");
				pl_msg_send(&m);
			}
			fs.s.close(&fs.s);
			return PL_HELD_ELSEWHERE;
		}
		pl_file_session_done(&fs, fd);
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
	pl_file_session_done(&fs, -1);
	return file_error(cfg, "keeps being replaced while locking", 0, PL_EX_OSERR);
}
