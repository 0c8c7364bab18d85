/* Linux: processes as /proc shows them; no allocation, no stdio, because the
 * constructor (replace mode, conflict messages) calls these before main.
 */
#include "pidlock.h"

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

uid_t plat_euid(void)
{
	/* From the auxiliary vector: the same value as geteuid() at this point,
	 * without a system call on the fast path. */
	return (uid_t)getauxval(AT_EUID);
}

int plat_secure(void)
{
	/* AT_SECURE is what the dynamic linker itself uses to ignore LD_PRELOAD
	 * search paths in setuid/setgid/capability processes. */
	return getauxval(AT_SECURE) != 0;
}

char **plat_environ(void)
{
	return environ;
}

long long plat_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* "/proc/PID/<rest>" into buf (at least 64 bytes). */
static void proc_path(char *buf, pid_t pid, const char *rest)
{
	size_t n = 6;
	memcpy(buf, "/proc/", 6);
	n += pl_fmt_num(buf + n, (long long)pid);
	buf[n++] = '/';
	strcpy(buf + n, rest);
}

static size_t read_small(int dirfd, const char *path, char *buf, size_t size)
{
	int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC);
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
	close(fd);
	buf[len] = '\0';
	return len;
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
		long n = syscall(SYS_getdents64, dirfd, buf, sizeof(buf));
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
	int fd_dir, info_dir;
	dev_t dev;
	ino_t ino;
};

/* An open descriptor on the inode is not enough: a waiter has one too. The
 * fdinfo file lists the flock held through that open file description
 * ("lock: ... FLOCK ADVISORY WRITE ..."); a blocked waiter's request is not
 * listed there. */
static int fd_holds(void *arg, const char *name)
{
	struct fd_probe *p = arg;
	struct stat st;
	char info[2048];
	if (fstatat(p->fd_dir, name, &st, 0) < 0 || st.st_dev != p->dev || st.st_ino != p->ino)
		return 0;
	if (!read_small(p->info_dir, name, info, sizeof(info)))
		return 0;
	for (char *l = strstr(info, "lock:"); l; l = strstr(l + 1, "lock:")) {
		char *eol = strchr(l, '\n');
		char *fl = strstr(l, "FLOCK");
		if (fl && (!eol || fl < eol) && !(strstr(l, "->") && strstr(l, "->") < fl))
			return 1;
	}
	return 0;
}

int plat_holds(pid_t pid, dev_t dev, ino_t ino)
{
	char path[64];
	struct fd_probe p = {-1, -1, dev, ino};
	int r = 0;
	/* A zombie's descriptors are closed before it becomes one, so holding a
	 * descriptor implies alive and not a zombie. */
	proc_path(path, pid, "fd");
	p.fd_dir = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	proc_path(path, pid, "fdinfo");
	p.info_dir = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (p.fd_dir >= 0 && p.info_dir >= 0)
		r = each_number(p.fd_dir, fd_holds, &p);
	if (p.fd_dir >= 0)
		close(p.fd_dir);
	if (p.info_dir >= 0)
		close(p.info_dir);
	return r;
}

struct holder_scan {
	dev_t dev;
	ino_t ino;
	pid_t self;
	pid_t *out;
	int max, n;
};

static int scan_pid(void *arg, const char *name)
{
	struct holder_scan *s = arg;
	unsigned long v;
	if (pl_parse_uint(name, 0x7fffffffUL, &v) || (pid_t)v == s->self)
		return 0;
	if (plat_holds((pid_t)v, s->dev, s->ino))
		s->out[s->n++] = (pid_t)v;
	return s->n >= s->max;
}

int plat_find_holders(dev_t dev, ino_t ino, pid_t self, pid_t *out, int max)
{
	struct holder_scan s = {dev, ino, self, out, max, 0};
	int dir = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dir < 0)
		return 0;
	each_number(dir, scan_pid, &s);
	close(dir);
	return s.n;
}

size_t plat_cmdline(pid_t pid, char *buf, size_t n)
{
	char path[64];
	proc_path(path, pid, "cmdline");
	size_t len = read_small(AT_FDCWD, path, buf, n);
	while (len && buf[len - 1] == '\0')
		len--;
	for (size_t i = 0; i < len; i++)
		if (buf[i] == '\0')
			buf[i] = ' ';
	buf[len] = '\0';
	return len;
}

long long plat_start_time_ms(pid_t pid)
{
	char path[64], buf[1024];
	proc_path(path, pid, "stat");
	if (!read_small(AT_FDCWD, path, buf, sizeof(buf)))
		return -1;
	/* The command name may contain spaces and parentheses: fields are
	 * counted from the last ')'. starttime is field 22; ')' ends field 2. */
	char *p = strrchr(buf, ')');
	if (!p)
		return -1;
	for (int field = 2; field < 22 && p; field++)
		p = strchr(p + 1, ' ');
	if (!p)
		return -1;
	long long ticks = 0;
	for (p++; *p >= '0' && *p <= '9'; p++)
		ticks = ticks * 10 + (*p - '0');
	char st[4096];
	if (!read_small(AT_FDCWD, "/proc/stat", st, sizeof(st)))
		return -1;
	char *b = strstr(st, "\nbtime ");
	if (!b)
		return -1;
	long long btime = 0;
	for (b += 7; *b >= '0' && *b <= '9'; b++)
		btime = btime * 10 + (*b - '0');
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
	int pfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (pfd >= 0) {
		int r = -1;
		if (plat_holds(pid, dev, ino))
			r = (int)syscall(SYS_pidfd_send_signal, pfd, signo, NULL, 0);
		close(pfd);
		return r < 0 ? -1 : 0;
	}
	if (errno != ENOSYS)
		return -1;
#endif
	if (!plat_holds(pid, dev, ino))
		return -1;
	return kill(pid, signo) < 0 ? -1 : 0;
}

/* Lower-case hex, at least two digits, as /proc/locks prints device numbers. */
static size_t put_hex(char *out, unsigned int v)
{
	char tmp[16];
	size_t t = 0, n = 0;
	do
		tmp[t++] = "0123456789abcdef"[v % 16];
	while (v /= 16);
	while (t < 2)
		tmp[t++] = '0';
	while (t)
		out[n++] = tmp[--t];
	return n;
}

int plat_is_locked(int fd, dev_t dev, ino_t ino)
{
	/* /proc/locks lists every lock with "MAJ:MIN:INODE" (hex device
	 * numbers); a blocked request is shown with "->" and is not a holder. */
	(void)fd;
	char buf[8192];
	int f = open("/proc/locks", O_RDONLY | O_CLOEXEC);
	if (f < 0)
		return -1;
	char want[64];
	size_t w = put_hex(want, major(dev));
	want[w++] = ':';
	w += put_hex(want + w, minor(dev));
	want[w++] = ':';
	w += pl_fmt_num(want + w, (long long)ino);
	want[w++] = ' ';
	want[w] = '\0';
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
			if (strstr(line, " FLOCK ") && !strstr(line, "->") && strstr(line, want))
				found = 1;
			line = nl + 1;
		}
		keep = len - (size_t)(line - buf);
		memmove(buf, line, keep);
	}
	close(f);
	return found;
}

size_t plat_self_exe(char *buf, size_t n)
{
	ssize_t r = readlink("/proc/self/exe", buf, n - 1);
	if (r <= 0)
		return 0;
	buf[r] = '\0';
	return (size_t)r;
}
