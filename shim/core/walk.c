/* SPDX-License-Identifier: MIT */
/* The PID file's path, walked one directory at a time (DESIGN.md,
 * guarantee 9): the one walk that the start, the exit, `pidlock status` and
 * `pidlock stop` use.
 *
 * Why descriptors: a walk that looks at each directory by its path and then
 * opens the file by its path looks things up twice. Whoever can rename a
 * directory of the path between the two (the owner of a sticky drop box,
 * whom the sticky bit does not bind) swaps in a link, and root's open, its
 * write and its unlink at exit land on a file of the same name elsewhere. So
 * the checked walk opens each directory relative to the one before, without
 * following links (O_PATH|O_NOFOLLOW|O_DIRECTORY), checks the very inode it
 * holds (fstat), and continues from it; the file is then created, looked at
 * and opened relative to the last directory's descriptor. Nothing between
 * the check and the use is looked up by name again.
 *
 * At exit and for a look, the walk is one open of the directory that may
 * follow links: what is then done there is done only to the name that the
 * lock's own inode has, and a regular file with one link lives in exactly
 * one directory, so the directory reached is the one the file was created
 * in, however the path led there (pl_remove_lock, pl_reopen_lock).
 *
 * The descriptor lives only for the walk and the open: keeping it for the
 * life of the process would need the protection the lock's descriptor has
 * against the program's close-all loops, dup2 and close_range (interpose.c)
 * and a place in the exec token.
 */
#include "core.h"
#include "sys.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#ifdef __linux__
#include <sys/vfs.h>
#endif
#include <unistd.h>

/* A directory held only to resolve names in it: O_PATH opens nothing for
 * I/O and needs no read permission. macOS has no O_PATH: a directory the
 * caller may search but not read is then "cannot open". */
#ifdef O_PATH
#define PL_O_REF O_PATH
#else
#define PL_O_REF O_RDONLY
#endif

/* The calls relative to a directory, like sys.h's: raw where sys.h makes
 * raw system calls (no lazy symbol binding on the start-up path), libc
 * elsewhere. */
#ifdef PL_RAW_SYSCALLS
static inline int at_open(int dir, const char *name, int flags, mode_t mode)
{
	return (int)pl_sc(SYS_openat, dir, name, flags, mode);
}
static inline int at_lstat(int dir, const char *name, struct stat *st)
{
	return (int)pl_sc(SYS_newfstatat, dir, name, st, AT_SYMLINK_NOFOLLOW);
}
static inline int at_unlink(int dir, const char *name)
{
	return (int)pl_sc(SYS_unlinkat, dir, name, 0);
}
static inline int fs_type(int fd, unsigned long *type)
{
	struct statfs sb;
	if (pl_sc(SYS_fstatfs, fd, &sb) < 0)
		return -1;
	*type = (unsigned long)sb.f_type;
	return 0;
}
#else
#define at_open openat
#define at_lstat(dir, name, st) fstatat(dir, name, st, AT_SYMLINK_NOFOLLOW)
#define at_unlink(dir, name) unlinkat(dir, name, 0)
#ifdef __linux__
static inline int fs_type(int fd, unsigned long *type)
{
	struct statfs sb;
	if (fstatfs(fd, &sb) < 0)
		return -1;
	*type = (unsigned long)sb.f_type;
	return 0;
}
#endif
#endif

const char *pl_file_kind(mode_t mode)
{
	if (S_ISLNK(mode))
		return "is a symbolic link; not following it";
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

#ifdef __linux__
/* File systems whose "regular files" are the kernel's controls, not data:
 * /proc/sys/kernel/hostname reports size 0, passes for an empty PID file,
 * and writing a PID there renames the host; a cgroup's cgroup.procs moves
 * the process. Refused like devices, by the file system's type (statfs(2)),
 * never by size: a real PID file is empty too while its holder writes it.
 * Arrays, not pointers: no relocation per entry (see config.c's signals). */
static const struct {
	unsigned int magic;
	char name[12];
} pseudo_fs[] = {
    {0x9fa0, "proc"},           {0x62656572, "sysfs"},     {0x27e0eb, "cgroup"},
    {0x63677270, "cgroup2"},    {0x64626720, "debugfs"},   {0x74726163, "tracefs"},
    {0x73636673, "securityfs"}, {0xcafe4a11, "bpf"},       {0x62656570, "configfs"},
    {0xde5e81e4, "efivarfs"},   {0x6165676c, "pstore"},    {0xf97cff8c, "selinuxfs"},
    {0x43415d53, "smackfs"},    {0x42494e4d, "binfmt_misc"}, {0x65735543, "fusectl"},
    {0x1cd1, "devpts"},         {0x19800202, "mqueue"},    {0x6e736673, "nsfs"},
    {0x7655821, "resctrl"},
};

/* The name of the pseudo file system the file open on fd is on, or NULL. */
static const char *pseudo_fs_of(int fd)
{
	unsigned long type;
	if (fs_type(fd, &type) < 0)
		return NULL; /* the open that follows reports what is wrong */
	for (size_t i = 0; i < sizeof(pseudo_fs) / sizeof(pseudo_fs[0]); i++)
		if (pseudo_fs[i].magic == (unsigned int)type)
			return pseudo_fs[i].name;
	return NULL;
}
#endif

/* Who, besides the caller and root, could change entries of a directory:
 * its owner if that is someone else, its group, everyone. */
static int writable_by_others(const struct stat *st, uid_t euid)
{
	return (st->st_uid != euid && st->st_uid != 0) || (st->st_mode & (S_IWGRP | S_IWOTH));
}

/* What is wrong with directory st on a walk for euid; NULL if nothing.
 * must_be_ours: the directory before it is shared and sticky. */
static const char *unsafe_dir(const struct stat *st, uid_t euid, int must_be_ours)
{
	if (must_be_ours && st->st_uid != euid && st->st_uid != 0)
		return ": belongs to another user inside a shared sticky directory; refusing it";
	if (!writable_by_others(st, euid))
		return NULL;
	if (!(st->st_mode & S_ISVTX))
		return ": a directory of the path is writable by another user; refusing the unsafe path";
	/* The sticky bit keeps others from renaming what is not theirs, but
	 * not the directory's owner: a drop box owned by a service account
	 * lets that account swap root's subdirectory for a link. */
	if (st->st_uid != euid && st->st_uid != 0)
		return ": a sticky directory owned by another user, who can rename what is in it; "
		       "refusing the unsafe path";
	return NULL;
}

static void walk_init(struct pl_walk *w, const char *path, size_t last)
{
	w->dir = -1;
	w->name = path + last;
	w->shared = 0;
	w->bad = 0;
	w->why = NULL;
}

/* The checked walk: from the top, each directory opened relative to the one
 * before it without following a link, and checked on the inode held. The
 * root directory is taken as it is. */
static int walk_checked(const char *path, size_t last, uid_t euid, struct pl_walk *w)
{
	char buf[PATH_MAX];
	int fd = AT_FDCWD, must_be_ours = 0;
	size_t start = 0;
	pl_copy(buf, path, last);
	buf[last] = '\0';
	for (size_t i = 1; i < last; i++) {
		if (buf[i] != '/')
			continue;
		buf[i] = '\0';
		/* The first directory by its absolute name ("/tmp"), resolved
		 * from the root; every later one by its own name in the last. */
		const char *comp = fd == AT_FDCWD ? buf : buf + start;
		int next = at_open(fd, comp, PL_O_REF | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC, 0);
		int err = errno;
		struct stat st;
		const char *why = NULL;
		if (next < 0 && (err == ENOTDIR || err == ELOOP) && at_lstat(fd, comp, &st) == 0) {
			/* ENOTDIR (Linux's O_PATH) or ELOOP: a link, or not a
			 * directory; only a link is refused here, the rest is the
			 * open's error as usual. A directory now: it was renamed
			 * in between, by someone who may rename it (a racer that
			 * may not is refused above); the caller walks again. */
			if (S_ISLNK(st.st_mode))
				why = ": a directory of the path is a symbolic link; not following it";
			else if (S_ISDIR(st.st_mode))
				err = EAGAIN;
		} else if (next < 0) {
			/* the open's own error */
		} else if (pl_fstat(next, &st) < 0) {
			err = errno;
			pl_close(next);
			next = -1;
		} else {
			why = unsafe_dir(&st, euid, must_be_ours);
			must_be_ours = writable_by_others(&st, euid);
		}
		if (fd != AT_FDCWD)
			pl_close(fd);
		fd = next;
		if (why) {
			if (fd >= 0)
				pl_close(fd);
			w->bad = i;
			w->why = why;
			return 1;
		}
		if (fd < 0) {
			errno = err;
			return -1;
		}
		buf[i] = '/';
		start = i + 1;
	}
	if (fd == AT_FDCWD) { /* a file in the root directory */
		fd = at_open(AT_FDCWD, "/", PL_O_REF | O_DIRECTORY | O_CLOEXEC, 0);
		if (fd < 0)
			return -1;
	}
	w->dir = fd;
	w->shared = must_be_ours;
	return 0;
}

int pl_walk(const char *path, uid_t euid, int flags, struct pl_walk *w)
{
	size_t last = pl_len(path);
	while (last && path[last - 1] != '/')
		last--; /* where the file's own name starts */
	walk_init(w, path, last);
	if (last == 0 || last >= PATH_MAX) {
		errno = last ? ENAMETOOLONG : EINVAL; /* config.c made the path absolute */
		return -1;
	}
	if (flags & PL_WALK_CHECK)
		return walk_checked(path, last, euid, w);
	char dir[PATH_MAX];
	size_t n = last > 1 ? last - 1 : 1; /* "/x.pid": the root itself */
	pl_copy(dir, path, n);
	dir[n] = '\0';
	w->dir = at_open(AT_FDCWD, dir, PL_O_REF | O_DIRECTORY | O_CLOEXEC, 0);
	return w->dir < 0 ? -1 : 0;
}

void pl_walk_close(struct pl_walk *w)
{
	if (w->dir >= 0) {
		int saved = errno;
		pl_close(w->dir);
		errno = saved;
	}
	w->dir = -1;
}

int pl_walk_open(const struct pl_walk *w, int flags, mode_t mode)
{
	int fd;
	do
		fd = at_open(w->dir, w->name, flags | O_NOFOLLOW, mode);
	while (fd < 0 && errno == EINTR);
	return fd;
}

int pl_walk_look(const struct pl_walk *w, struct stat *st, const char **what)
{
	*what = NULL;
#ifdef O_PATH
	/* Looked at through O_PATH: a FIFO's blocked writer stays blocked, a
	 * device's open routine never runs, and the file system is the file's
	 * own (a file can be a mount point of its own). */
	int fd = at_open(w->dir, w->name, O_PATH | O_NOFOLLOW | O_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	int r = pl_fstat(fd, st);
	if (r == 0 && !S_ISREG(st->st_mode))
		*what = pl_file_kind(st->st_mode);
#ifdef __linux__
	else if (r == 0 && pseudo_fs_of(fd))
		*what = "is a file of a pseudo file system (the kernel's controls, not a PID file); "
			"refusing it";
#endif
	int err = errno;
	pl_close(fd);
	errno = err;
	return r;
#else
	if (at_lstat(w->dir, w->name, st) < 0)
		return -1;
	if (!S_ISREG(st->st_mode))
		*what = pl_file_kind(st->st_mode);
	return 0;
#endif
}

/* The name names lk's inode, a regular file with a single link: then this
 * directory is the only one that holds it, whatever path led here. */
static int names_lock(const struct pl_walk *w, const struct pl_lock *lk)
{
	struct stat st;
	return at_lstat(w->dir, w->name, &st) == 0 && st.st_dev == lk->dev && st.st_ino == lk->ino &&
	       S_ISREG(st.st_mode) && st.st_nlink == 1;
}

int pl_remove_lock(const char *path, const struct pl_lock *lk)
{
	struct pl_walk w;
	if (pl_walk(path, 0, 0, &w) < 0)
		return errno == ENOENT || errno == ENOTDIR ? 0 : -1;
	int r = 0;
	if (names_lock(&w, lk))
		r = at_unlink(w.dir, w.name) == 0 ? 1 : errno == ENOENT ? 0 : -1;
	pl_walk_close(&w);
	return r;
}

int pl_reopen_lock(const char *path, const struct pl_lock *lk, int flags)
{
	struct pl_walk w;
	if (pl_walk(path, 0, 0, &w) < 0)
		return -1;
	int fd = -1;
	struct stat st;
	/* Looked at first: only the lock's own regular file is ever opened. */
	if (names_lock(&w, lk)) {
		fd = pl_walk_open(&w, flags | O_NONBLOCK | O_NOCTTY | O_CLOEXEC, 0);
		if (fd >= 0 && (pl_fstat(fd, &st) < 0 || st.st_dev != lk->dev || st.st_ino != lk->ino)) {
			pl_close(fd);
			fd = -1;
			errno = ENOENT;
		}
	} else {
		errno = ENOENT;
	}
	pl_walk_close(&w);
	return fd;
}
