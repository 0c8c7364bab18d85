/* SPDX-License-Identifier: MIT */
/* platform_darwin.c: the macOS view of processes, through libproc and sysctl.
 *
 * macOS has no /proc. libproc (proc_pidinfo(2) and friends, the interface
 * behind lsof and Activity Monitor) answers the same questions: is a PID
 * alive, is it a zombie, which vnodes do its descriptors name, when did it
 * start. The command line comes from sysctl KERN_PROCARGS2, as ps(1) reads it.
 *
 * These functions run in the shim's constructor, before main, so they call
 * neither malloc nor stdio: the program's allocator may be replaced or not yet
 * ready, and stdio buffering is the program's own (DESIGN.md, guarantee 10).
 * Answers of unknown size go to static buffers; the rare answer too large for
 * them goes to an anonymous mapping, which is a system call, not an allocator.
 * The static buffers make these functions non-reentrant: they are called from
 * the constructor, the exit path and the command, which are single-threaded.
 */
#ifndef _DARWIN_C_SOURCE
/* libproc, issetugid and KERN_PROCARGS2 are outside POSIX: ask for them here
 * so that no build flag (-std=c11, _POSIX_C_SOURCE) can hide them. */
#define _DARWIN_C_SOURCE
#endif

#include "core.h"

#include <crt_externs.h>
#include <errno.h>
#include <fcntl.h>
#include <libproc.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/proc.h>
#include <sys/proc_info.h>
#include <sys/sysctl.h>
#include <time.h>
#include <unistd.h>

#ifndef SZOMB
#define SZOMB 5 /* <sys/proc.h>: "awaiting collection by parent" */
#endif

/* Sizes of the static answer buffers. They cover the common case; a larger
 * answer is fetched into a mapping (see scratch_get), never truncated,
 * because both kernel interfaces truncate in ways that lose what we look for:
 * PROC_PIDLISTFDS stops at the descriptor number that fills the buffer (so a
 * high-numbered lock descriptor would be missed), and KERN_PROCARGS2 returns
 * the tail of the argument area when the buffer is short (so argv would be
 * missed and the environment shown instead). */
#define DARWIN_FDS 4096      /* descriptor table slots: 32 KiB */
#define DARWIN_PIDS 16384    /* processes on the machine: 64 KiB */
#define DARWIN_ARGS 65536    /* argc, exec path, argv, environment */

static struct proc_fdinfo fd_buf[DARWIN_FDS];
static int pid_buf[DARWIN_PIDS];
static char arg_buf[DARWIN_ARGS];

/* Memory for an answer of `need` bytes: the static buffer when it is large
 * enough, else an anonymous mapping that scratch_put releases. NULL if the
 * mapping fails. */
static void *scratch_get(void *fixed, size_t fixed_len, size_t need, size_t *mapped)
{
	void *p;

	*mapped = 0;
	if (need <= fixed_len)
		return fixed;
	p = mmap(NULL, need, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANON, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	*mapped = need;
	return p;
}

static void scratch_put(void *p, size_t mapped)
{
	if (mapped != 0)
		munmap(p, mapped);
}

uid_t plat_euid(void)
{
	return geteuid();
}

/* issetugid(2) is true in any process that changed identity at exec (setuid,
 * setgid) or since; dyld uses the same test to ignore DYLD_* variables, so in
 * such a process the shim is normally not even loaded. */
int plat_secure(void)
{
	return issetugid() != 0;
}

/* A dynamic library on macOS cannot bind to `environ` directly (environ(7):
 * "shared libraries and bundles don't have direct access to environ"); the
 * documented way is _NSGetEnviron(). */
char **plat_environ(void)
{
	return *_NSGetEnviron();
}

/* PROC_PIDTBSDINFO: 1 and *bi filled if pid exists, else 0. With arg 0 the
 * kernel does not look up zombies (ESRCH); plat_holds still tests pbi_status
 * in case a process is caught on its way there. Like the descriptor list,
 * this flavour needs the same user or root (xnu proc_info.c: only the
 * "short" flavours skip that check). */
static int bsdinfo(pid_t pid, struct proc_bsdinfo *bi)
{
	if (pid <= 0)
		return 0;
	return proc_pidinfo(pid, PROC_PIDTBSDINFO, 0, bi, (int)sizeof *bi) == (int)sizeof *bi;
}

/* 1 if one of pid's descriptors is open on the vnode (dev, ino). nslots is
 * the size of its descriptor table: pbi_nfiles, which xnu fills from
 * fd_nfiles (the table's slots, not the count of open descriptors). */
static int has_vnode(pid_t pid, uint32_t nslots, dev_t dev, ino_t ino)
{
	struct vnode_fdinfowithpath vi;
	struct proc_fdinfo *fds;
	size_t need, mapped;
	int bytes, n, i, found = 0;

	/* The kernel lists descriptors 0 .. capacity-1 only, so the buffer must
	 * span the whole table; +20 is the slack the kernel itself adds when
	 * asked for a size, for descriptors opened meanwhile. */
	need = ((size_t)nslots + 20) * sizeof *fds;
	if (need > (size_t)INT_MAX)
		return 0;
	fds = scratch_get(fd_buf, sizeof fd_buf, need, &mapped);
	if (fds == NULL)
		return 0;
	/* With the static buffer, offer all of it: more slack at no cost. */
	if (mapped == 0)
		need = sizeof fd_buf;
	/* EPERM here for another user's process unless we are root (proc_info
	 * checks the user for this flavour); we could not signal it either. */
	bytes = proc_pidinfo(pid, PROC_PIDLISTFDS, 0, fds, (int)need);
	n = bytes > 0 ? bytes / (int)sizeof *fds : 0;
	for (i = 0; i < n && !found; i++) {
		if (fds[i].proc_fdtype != PROX_FDTYPE_VNODE)
			continue; /* sockets, pipes, kqueues: one system call saved each */
		/* PROC_PIDFDVNODEPATHINFO is the flavour lsof and psutil use; the
		 * path itself is not needed, only vi_stat. A descriptor closed since
		 * the listing just fails here. */
		if (proc_pidfdinfo(pid, fds[i].proc_fd, PROC_PIDFDVNODEPATHINFO, &vi,
				   (int)sizeof vi) != (int)sizeof vi)
			continue;
		/* vinfo_stat has fixed-width fields (uint32_t dev, uint64_t ino)
		 * while dev_t is a signed 32-bit type: compare as the kernel's
		 * widths, not by sign-converting implicitly. */
		if (vi.pvip.vip_vi.vi_stat.vst_dev == (uint32_t)dev &&
		    vi.pvip.vip_vi.vi_stat.vst_ino == (uint64_t)ino)
			found = 1;
	}
	scratch_put(fds, mapped);
	return found;
}

int plat_holds(pid_t pid, dev_t dev, ino_t ino)
{
	struct proc_bsdinfo bi;

	/* Liveness first: a zombie has closed its descriptors already, and a PID
	 * that is gone must never be reported as holding anything. */
	if (!bsdinfo(pid, &bi) || bi.pbi_status == SZOMB)
		return 0;
	return has_vnode(pid, bi.pbi_nfiles, dev, ino);
}

int plat_each_holder(dev_t dev, ino_t ino, pid_t self, int (*fn)(void *, pid_t), void *arg)
{
	int *pids;
	size_t need, mapped;
	int n, i, count = 0;

	/* proc_listallpids answers the number of PIDs it stored (not bytes).
	 * A full buffer may mean a cut list, and the cut falls on the oldest
	 * processes, which is where a long-running holder is: ask for the size
	 * (NULL buffer: process count plus the kernel's slack) and retry. */
	pids = pid_buf;
	mapped = 0;
	n = proc_listallpids(pid_buf, (int)sizeof pid_buf);
	if (n >= DARWIN_PIDS) {
		n = proc_listallpids(NULL, 0);
		if (n <= 0)
			return -1;
		need = ((size_t)n + 64) * sizeof *pids;
		if (need > (size_t)INT_MAX)
			return -1;
		pids = scratch_get(NULL, 0, need, &mapped);
		if (pids == NULL)
			return -1;
		n = proc_listallpids(pids, (int)need);
	}
	for (i = 0; i < n; i++) {
		if (pids[i] <= 0 || pids[i] == self)
			continue;
		if (plat_holds(pids[i], dev, ino)) {
			count++;
			if (fn(arg, pids[i]))
				break;
		}
	}
	scratch_put(pids, mapped);
	return count;
}

int plat_may_hold(pid_t pid, dev_t dev, ino_t ino)
{
	if (plat_holds(pid, dev, ino))
		return 1;
	/* Another user's process: proc_info will not list its descriptors. */
	return kill(pid, 0) < 0 && errno == EPERM;
}

pid_t plat_parent(pid_t pid)
{
	struct proc_bsdinfo bi;

	return bsdinfo(pid, &bi) ? (pid_t)bi.pbi_ppid : 0;
}

/* No PID namespaces on macOS. */
int plat_pidns_nested(void)
{
	return 0;
}

/* Appends s (its NUL not included) to buf, which has room for n-1 bytes and
 * holds *len; a space first unless buf is empty. */
static void join_word(char *buf, size_t n, size_t *len, const char *s, size_t slen)
{
	if (*len > 0 && *len + 1 < n)
		buf[(*len)++] = ' ';
	if (slen > n - 1 - *len)
		slen = n - 1 - *len;
	memcpy(buf + *len, s, slen);
	*len += slen;
}

size_t plat_cmdline(pid_t pid, char *buf, size_t n)
{
	int mib[3] = { CTL_KERN, KERN_PROCARGS2, (int)pid };
	size_t size = 0, mapped, len = 0;
	char *args, *p, *end, *exec_path;
	int argc;

	if (n == 0)
		return 0;
	buf[0] = '\0';
	if (pid <= 0)
		return 0;
	/* The layout (xnu kern_sysctl.c, sysctl_procargsx): int argc, the exec
	 * path, NUL padding, argv[0..argc-1], then the environment, each string
	 * NUL-terminated. The kernel copies the top of the argument area that
	 * fits the buffer, so a short buffer yields the environment's tail, not
	 * argv: ask for the size first. EINVAL for another user's process unless
	 * we are root; the caller then shows no command line. */
	if (sysctl(mib, 3, NULL, &size, NULL, 0) != 0 || size <= sizeof argc)
		return 0;
	args = scratch_get(arg_buf, sizeof arg_buf, size, &mapped);
	if (args == NULL)
		return 0;
	if (mapped == 0)
		size = sizeof arg_buf; /* more room for arguments grown meanwhile */
	if (sysctl(mib, 3, args, &size, NULL, 0) != 0 || size <= sizeof argc)
		goto out;
	memcpy(&argc, args, sizeof argc); /* no alignment assumption */
	p = args + sizeof argc;
	end = args + size;
	exec_path = p;
	while (p < end && *p != '\0')
		p++;
	if (p == end)
		goto out;
	while (p < end && *p == '\0')
		p++; /* the padding after the exec path */
	for (; argc > 0 && p < end; argc--) {
		char *word = p;

		while (p < end && *p != '\0')
			p++;
		join_word(buf, n, &len, word, (size_t)(p - word));
		if (p < end)
			p++; /* past the NUL */
	}
	/* No argv (a process may exec with none): the exec path says enough. */
	if (len == 0)
		join_word(buf, n, &len, exec_path, strnlen(exec_path, (size_t)(end - exec_path)));
	buf[len] = '\0';
out:
	scratch_put(args, mapped);
	return len;
}

/* pbi_start_tvsec/tvusec: the kernel's p_start, wall-clock time of the fork
 * (as ps -o lstart shows it). Milliseconds tell apart two holders started in
 * the same second. */
long long plat_start_time_ms(pid_t pid)
{
	struct proc_bsdinfo bi;

	if (!bsdinfo(pid, &bi))
		return -1;
	return (long long)bi.pbi_start_tvsec * 1000LL + (long long)(bi.pbi_start_tvusec / 1000);
}

/* macOS has no pidfd (no pidfd_open, no pidfd_send_signal) and no other
 * handle that pins a process for signalling, so the check and the kill are
 * two steps. The window between them is a few system calls wide, and xnu
 * hands out PIDs in increasing order up to 99999 before it wraps (PID_MAX in
 * xnu's bsd/sys/proc_internal.h): the PID would have to be freed and reused
 * after some 100,000 forks inside that window. The verification (alive, not
 * a zombie, a descriptor on the locked inode) is what keeps a stale PID file
 * from aiming us at a stranger. */
int plat_signal_verified(pid_t pid, dev_t dev, ino_t ino, int signo)
{
	if (!plat_holds(pid, dev, ino))
		return -1;
	return kill(pid, signo) == 0 ? 0 : -1;
}

/* CLOCK_MONOTONIC exists since macOS 10.12 (Zig 0.11 targets 11 and up). On
 * macOS it keeps counting while the machine sleeps, which suits timeouts
 * measured against another process's lifetime. */
long long plat_now_ns(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
		return 0;
	return (long long)ts.tv_sec * 1000000000LL + (long long)ts.tv_nsec;
}

/* No /proc/locks on macOS, but no need for it: xnu keeps flock(2) and fcntl(2)
 * locks in one list per vnode (lf_advlock on v_lockf), so F_GETLK reports a
 * conflicting flock too, with l_pid -1 ("file locks", xnu kern_lockf.c,
 * lf_getlock). F_GETLK only asks; it never takes a lock, so a starting instance
 * is never disturbed (DESIGN.md, guarantee 11). A probe for a write lock
 * conflicts with shared and exclusive locks alike; should the kernel refuse it
 * on a read-only descriptor, a read probe still finds the exclusive lock that
 * pidlock takes. A fcntl lock of some other program on the same file would also
 * count; pidlock itself never takes one. dev and ino are not needed: fd names
 * the file. */
int plat_is_locked(int fd, dev_t dev, ino_t ino)
{
	struct flock fl;

	(void)dev;
	(void)ino;
	memset(&fl, 0, sizeof fl);
	fl.l_type = F_WRLCK;
	fl.l_whence = SEEK_SET; /* l_start 0, l_len 0: the whole file */
	if (fcntl(fd, F_GETLK, &fl) != 0) {
		if (errno != EBADF && errno != EINVAL)
			return -1;
		memset(&fl, 0, sizeof fl);
		fl.l_type = F_RDLCK;
		fl.l_whence = SEEK_SET;
		if (fcntl(fd, F_GETLK, &fl) != 0)
			return -1;
	}
	return fl.l_type != F_UNLCK;
}

/* proc_pidpath asks the kernel for the path of the executable's vnode: an
 * absolute path with the links resolved, where _NSGetExecutablePath would
 * give the path as the exec named it. libproc insists on a buffer of at
 * least PROC_PIDPATHINFO_SIZE, hence the local one; a path that does not fit
 * the caller's buffer is no path at all (0), never a truncated one. */
size_t plat_self_exe(char *buf, size_t n)
{
	char path[PROC_PIDPATHINFO_MAXSIZE];
	int len;

	if (n == 0)
		return 0;
	buf[0] = '\0';
	len = proc_pidpath(getpid(), path, (uint32_t)sizeof path);
	if (len <= 0 || (size_t)len >= n || path[0] != '/')
		return 0;
	memcpy(buf, path, (size_t)len);
	buf[len] = '\0';
	return (size_t)len;
}

int plat_each_marked(const char *entry, pid_t self, int (*fn)(void *arg, pid_t pid), void *arg)
{
	/* Not looked for on macOS (README, Limitations): no warning. */
	(void)entry;
	(void)self;
	(void)fn;
	(void)arg;
	return 0;
}

void plat_startup(char **initial_envp)
{
	(void)initial_envp; /* issetugid() and geteuid() need no start-up state */
}
