/* SPDX-License-Identifier: MIT */
/* Linux: processes as /proc shows them; no allocation, no stdio, because the
 * constructor (replace mode, conflict messages) calls these before main.
 */
#include "core.h"
#include "sys.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

/* AT_SECURE and AT_EUID from the auxiliary vector, read once at start-up.
 * On glibc the constructor receives the initial environment, and the kernel
 * puts the auxiliary vector right after its terminating NULL: reading it
 * there costs no libc call (getauxval's first call costs the dynamic linker a
 * symbol lookup and its symbol version check, on every program's start).
 * Elsewhere (or before plat_startup), getauxval. */
static struct {
	int known;
	int secure;
	uid_t euid;
} aux;

void plat_startup(char **initial_envp)
{
#ifdef __GLIBC__
	if (!initial_envp)
		return;
	char **p = initial_envp;
	while (*p)
		p++;
	int seen = 0;
	for (unsigned long *a = (unsigned long *)(void *)(p + 1); a[0] != AT_NULL; a += 2) {
		if (a[0] == AT_SECURE) {
			aux.secure = a[1] != 0;
			seen |= 1;
		} else if (a[0] == AT_EUID) {
			aux.euid = (uid_t)a[1];
			seen |= 2;
		}
	}
	aux.known = seen == 3;
#else
	(void)initial_envp;
#endif
}

/* Where the vector was not read (not glibc, or no initial environment). On
 * glibc getauxval is not referenced at all: its symbol version alone would
 * cost every process that loads the library. */
static void aux_fallback(void)
{
#ifdef __GLIBC__
	aux.euid = geteuid();
	aux.secure = getuid() != geteuid() || getgid() != getegid();
#else
	/* musl: its constructors get no arguments, and getauxval reads the copy
	 * of the vector taken at start-up: no system call, so the inert path
	 * stays free of them (tests/platforms.bats compares strace runs). */
	aux.euid = (uid_t)getauxval(AT_EUID);
	aux.secure = getauxval(AT_SECURE) != 0;
#endif
	aux.known = 1;
}

uid_t plat_euid(void)
{
	/* The same value as geteuid() at start-up, without a system call. */
	if (!aux.known)
		aux_fallback();
	return aux.euid;
}

int plat_secure(void)
{
	/* AT_SECURE is what the dynamic linker itself uses to ignore LD_PRELOAD
	 * search paths in setuid/setgid/capability processes. */
	if (!aux.known)
		aux_fallback();
	return aux.secure;
}

char **plat_environ(void)
{
	return environ;
}

long long plat_now_ns(void)
{
	/* The raw system call: clock_gettime's vDSO speed does not matter on
	 * the wait and replace paths, its symbol version costs every start. */
	struct timespec ts;
	pl_sc(SYS_clock_gettime, CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* "/proc/PID/<rest>" into buf (at least 64 bytes). */
static void proc_path(char *buf, pid_t pid, const char *rest)
{
	size_t n = 6;
	memmove(buf, "/proc/", 7);
	n += pl_fmt_num(buf + n, (long long)pid);
	buf[n++] = '/';
	memmove(buf + n, rest, strlen(rest) + 1);
}

static size_t read_small(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	size_t len = 0;
	while (len < size - 1) {
		ssize_t r = read(fd, buf + len, size - 1 - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		len += (size_t)r;
	}
	pl_close(fd);
	buf[len] = '\0';
	return len;
}

static int out_of_resources(void)
{
	return errno == EMFILE || errno == ENFILE || errno == ENOMEM;
}

/* getdents64 through syscall(): opendir() would allocate. */
struct pl_dirent {
	uint64_t ino;
	int64_t off;
	unsigned short reclen;
	unsigned char type;
	char name[];
};

static int is_number(const char *s)
{
	if (!*s)
		return 0;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return 0;
	return 1;
}

/* Calls fn(arg, name) for every numeric entry of the directory; stops when fn
 * returns non-zero and returns that value. */
static int each_number(int dirfd, int (*fn)(void *, const char *), void *arg)
{
	char buf[4096] __attribute__((aligned(8)));
	for (;;) {
		long n = pl_sc(SYS_getdents64, dirfd, buf, sizeof(buf));
		if (n <= 0)
			return 0;
		for (long off = 0; off < n;) {
			struct pl_dirent *d = (struct pl_dirent *)(void *)(buf + off);
			off += d->reclen;
			if (is_number(d->name)) {
				int r = fn(arg, d->name);
				if (r)
					return r;
			}
		}
	}
}

struct fd_probe {
	int fd_dir;
	pid_t pid;
	dev_t dev;
	ino_t ino;
};

/* An open descriptor on the inode is not enough: a waiter has one too. The
 * fdinfo file lists the flock held through that open file description
 * ("lock: ... FLOCK ADVISORY WRITE ..."); a blocked waiter's request is not
 * listed there. Returns 1, 0, or -1 when out of descriptors or memory. */
static int fd_holds(void *arg, const char *name)
{
	struct fd_probe *p = arg;
	struct stat st;
	char info[2048], path[64];
	if (pl_fstatat(p->fd_dir, name, &st) < 0 || st.st_dev != p->dev || st.st_ino != p->ino)
		return 0;
	proc_path(path, p->pid, "fdinfo/");
	size_t n = pl_len(path);
	for (size_t i = 0; i < 11 && name[i]; i++) { /* name: at most 10 digits */
		path[n++] = name[i];
		__asm__("" : "+r"(n)); /* not a memcpy call: see pl_len */
	}
	path[n] = '\0';
	if (!read_small(path, info, sizeof(info)))
		return out_of_resources() ? -1 : 0;
	return pl_proc_fdinfo_holds(info);
}

/* 1 if pid holds the lock, 0 if not, -1 (errno) if we ran out of descriptors
 * or memory while looking: "cannot tell" must never read as "not held". */
static int holds(pid_t pid, dev_t dev, ino_t ino)
{
	char path[64];
	struct fd_probe p = {-1, pid, dev, ino};
	/* A zombie's descriptors are closed before it becomes one, so holding a
	 * descriptor implies alive and not a zombie. */
	proc_path(path, pid, "fd");
	p.fd_dir = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (p.fd_dir < 0)
		return out_of_resources() ? -1 : (errno == EACCES || errno == EPERM) ? -2 : 0;
	int r = each_number(p.fd_dir, fd_holds, &p);
	int err = errno;
	pl_close(p.fd_dir);
	errno = err;
	return r;
}

int plat_holds(pid_t pid, dev_t dev, ino_t ino)
{
	return holds(pid, dev, ino) > 0;
}

int plat_may_hold(pid_t pid, dev_t dev, ino_t ino)
{
	int r = holds(pid, dev, ino);
	if (r == -2) /* another user's, or not dumpable: alive is all we learn */
		return kill(pid, 0) == 0 || errno == EPERM;
	return r != 0;
}

struct holder_scan {
	dev_t dev;
	ino_t ino;
	pid_t self;
	int (*fn)(void *, pid_t);
	void *arg;
	int n, failed;
};

static int scan_pid(void *arg, const char *name)
{
	struct holder_scan *s = arg;
	unsigned long v;
	if (pl_parse_uint(name, 0x7fffffffUL, &v) || (pid_t)v == s->self)
		return 0;
	int h = holds((pid_t)v, s->dev, s->ino);
	if (h == -2)
		return 0; /* cannot look: never named, never signalled */
	if (h < 0) {
		s->failed = errno;
		return 1;
	}
	if (!h)
		return 0;
	s->n++;
	return s->fn(s->arg, (pid_t)v);
}

int plat_each_holder(dev_t dev, ino_t ino, pid_t self, int (*fn)(void *, pid_t), void *arg)
{
	struct holder_scan s = {dev, ino, self, fn, arg, 0, 0};
	int dir = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dir < 0)
		return -1;
	each_number(dir, scan_pid, &s);
	pl_close(dir);
	if (s.failed) {
		errno = s.failed;
		return -1;
	}
	return s.n;
}

/* 1 if /proc/PID/environ holds exactly `entry` as one of its NUL-separated
 * entries; read in chunks, matched as it streams by (no copy of the whole
 * environment, which may be large). */
static int environ_has(pid_t pid, const char *entry, size_t elen)
{
	char path[64], buf[4096];
	proc_path(path, pid, "environ");
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	size_t matched = 0; /* of entry, in the current item; elen + 1: no match */
	int found = 0;
	for (;;) {
		ssize_t r = read(fd, buf, sizeof(buf));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		for (ssize_t i = 0; i < r && !found; i++) {
			if (buf[i] == '\0') {
				found = matched == elen;
				matched = 0;
			} else if (matched < elen && buf[i] == entry[matched]) {
				matched++;
			} else {
				matched = elen + 1;
			}
		}
		if (found)
			break;
	}
	pl_close(fd);
	return found;
}

struct marked_scan {
	const char *entry;
	size_t elen;
	pid_t self;
	int (*fn)(void *, pid_t);
	void *arg;
	int n;
};

static int scan_marked(void *arg, const char *name)
{
	struct marked_scan *s = arg;
	unsigned long v;
	if (pl_parse_uint(name, 0x7fffffffUL, &v) || (pid_t)v == s->self ||
	    !environ_has((pid_t)v, s->entry, s->elen))
		return 0;
	s->n++;
	return s->fn(s->arg, (pid_t)v);
}

int plat_each_marked(const char *entry, pid_t self, int (*fn)(void *arg, pid_t pid), void *arg)
{
	struct marked_scan s = {entry, pl_len(entry), self, fn, arg, 0};
	int dir = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dir < 0)
		return 0;
	each_number(dir, scan_marked, &s);
	pl_close(dir);
	return s.n;
}

pid_t plat_parent(pid_t pid)
{
	char path[64], buf[1024];
	proc_path(path, pid, "stat");
	if (!read_small(path, buf, sizeof(buf)))
		return 0;
	long long v = pl_proc_stat_field(buf, 4);
	return v > 0 && v <= 0x7fffffff ? (pid_t)v : 0;
}

/* The initial PID namespace has a fixed inode number (PROC_PID_INIT_INO in
 * the kernel's include/linux/proc_ns.h). Elsewhere /proc/locks hides every
 * lock whose taker is not visible here (fs/locks.c, locks_show): a daemon
 * whose launcher has exited, or a holder in another container. */
int plat_pidns_nested(void)
{
	struct stat st;
	if (pl_fstatat(AT_FDCWD, "/proc/self/ns/pid", &st) < 0)
		return 1; /* cannot tell: assume the listing may hide locks */
	return st.st_ino != 0xEFFFFFFCU;
}

size_t plat_cmdline(pid_t pid, char *buf, size_t n)
{
	char path[64];
	proc_path(path, pid, "cmdline");
	return pl_proc_cmdline(buf, read_small(path, buf, n));
}

long long plat_start_time_ms(pid_t pid)
{
	char path[64], buf[1024], st[4096];
	proc_path(path, pid, "stat");
	if (!read_small(path, buf, sizeof(buf)))
		return -1;
	long long ticks = pl_proc_stat_field(buf, 22); /* starttime */
	if (ticks < 0 || !read_small("/proc/stat", st, sizeof(st)))
		return -1;
	long long btime = pl_proc_btime(st);
	if (btime < 0)
		return -1;
	long hz = sysconf(_SC_CLK_TCK);
	if (hz <= 0)
		hz = 100;
	return btime * 1000 + ticks * 1000 / hz;
}

int plat_signal_verified(pid_t pid, dev_t dev, ino_t ino, int signo)
{
#ifdef SYS_pidfd_open
	/* A pidfd pins the process: once verified through it, the signal cannot
	 * reach a process that reused the PID in between (Linux >= 5.3). */
	int pfd = (int)pl_sc(SYS_pidfd_open, pid, 0);
	if (pfd >= 0) {
		int r = -1;
		if (plat_holds(pid, dev, ino))
			r = (int)pl_sc(SYS_pidfd_send_signal, pfd, signo, NULL, 0);
		pl_close(pfd);
		return r < 0 ? -1 : 0;
	}
	if (errno != ENOSYS)
		return -1;
#endif
	if (!plat_holds(pid, dev, ino))
		return -1;
	return kill(pid, signo) < 0 ? -1 : 0;
}

static int any_holder(void *arg, pid_t pid)
{
	(void)arg;
	(void)pid;
	return 1;
}

/* In a nested PID namespace the listing omits a lock whose taker we cannot
 * see: the daemon that outlived its launcher, or a process in another
 * container sharing the volume. A visible holder settles it; otherwise the
 * lock itself is asked with a shared, non-blocking request, given back at
 * once. A starter that meets that instant retries (lock.c, contend). */
static int hidden_lock(int fd, dev_t dev, ino_t ino)
{
	int n = plat_each_holder(dev, ino, 0, any_holder, NULL);
	if (n != 0)
		return n > 0 ? 1 : -1;
	if (fd < 0)
		return -1;
	if (pl_flock(fd, LOCK_SH | LOCK_NB) == 0) {
		pl_flock(fd, LOCK_UN);
		return 0;
	}
	return errno == EWOULDBLOCK ? 1 : -1;
}

int plat_is_locked(int fd, dev_t dev, ino_t ino)
{
	/* /proc/locks lists every lock with "MAJ:MIN:INODE" (hex device
	 * numbers); a blocked request is shown with "->" and is not a holder. */
	char buf[8192];
	int f = open("/proc/locks", O_RDONLY | O_CLOEXEC);
	if (f < 0)
		return -1;
	char want[64];
	pl_proc_locks_key(want, dev, ino);
	int found = 0;
	size_t keep = 0;
	for (;;) {
		ssize_t r = read(f, buf + keep, sizeof(buf) - 1 - keep);
		if (r <= 0)
			break;
		size_t len = keep + (size_t)r;
		buf[len] = '\0';
		char *line = buf, *nl;
		while ((nl = strchr(line, '\n'))) {
			*nl = '\0';
			if (pl_proc_locks_line_held(line, want))
				found = 1;
			line = nl + 1;
		}
		keep = len - (size_t)(line - buf);
		memmove(buf, line, keep);
	}
	pl_close(f);
	if (found || !plat_pidns_nested())
		return found;
	return hidden_lock(fd, dev, ino);
}

size_t plat_self_exe(char *buf, size_t n)
{
	ssize_t r = readlink("/proc/self/exe", buf, n - 1);
	if (r <= 0)
		return 0;
	buf[r] = '\0';
	return (size_t)r;
}
