/* SPDX-License-Identifier: MIT */
/* Who holds the lock: read the PID, verify identity, signal with care.
 *
 * A PID in a file is only a hint: the process may be gone and its number
 * reused (untether#459: thousands of crash-restart cycles a day from a liveness
 * check by PID alone). Before naming or signalling a process we check that it
 * really holds the lock on this inode (platform layer).
 */
#include "core.h"
#include "sys.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

static int first_holder(void *arg, pid_t pid)
{
	*(pid_t *)arg = pid;
	return 1;
}

pid_t pl_find_holder(int fd, dev_t dev, ino_t ino, pid_t self)
{
	/* The holder writes its PID right after locking; a reader that arrives
	 * in between sees an empty file or a crashed predecessor's PID, so retry
	 * for up to ~100 ms, as pidfile(3) does, before looking at every process. */
	pid_t named = 0;
	for (int i = 0; i < 20; i++) {
		named = pl_read_pid_once(fd);
		if (named > 0 && named != self && plat_holds(named, dev, ino))
			return named;
		pl_nap_ms(5);
	}
	pid_t any = 0;
	if (plat_each_holder(dev, ino, self, first_holder, &any) < 0)
		return -1;
	if (any > 0)
		return any;
	/* Unverifiable (another user's process without permission to look):
	 * still worth naming in a message, never worth signalling. */
	if (named > 0 && named != self && (kill(named, 0) == 0 || errno == EPERM))
		return named;
	return 0;
}

/* The holders and their parents, for choosing the one to name. Naming is a
 * courtesy (signalling is not bounded: pl_signal_holders), so a fixed table
 * is enough: past it, the first holders seen are the candidates. */
#define PL_NAMING_MAX 1024
struct family {
	pid_t pid[PL_NAMING_MAX], parent[PL_NAMING_MAX];
	int n;
};

static int add_member(void *arg, pid_t pid)
{
	struct family *f = arg;
	f->pid[f->n] = pid;
	f->parent[f->n] = plat_parent(pid);
	return ++f->n == PL_NAMING_MAX;
}

/* The PID file names the process a user would signal: among the holders
 * other than `self`, one whose parent is not among them (the master of a
 * prefork server, never one of its workers; the daemon after a double
 * fork). Where the leaving process had several such children (an in-place
 * upgrade: the new master beside the old workers), the one with the most
 * holders below it; then the lowest PID, so that every copy that looks
 * chooses alike. Start times are no help: they tick in 10 ms and a master
 * and its first worker often share one. */
pid_t pl_top_holder(dev_t dev, ino_t ino, pid_t self)
{
	struct family f; /* 8 KiB of stack: a .bss table would cost every process an mmap */
	f.n = 0;
	if (plat_each_holder(dev, ino, self, add_member, &f) <= 0)
		return 0;
	pid_t best = 0;
	int best_kids = -1;
	for (int i = 0; i < f.n; i++) {
		int top = 1, kids = 0;
		for (int j = 0; j < f.n; j++) {
			if (f.pid[j] == f.parent[i])
				top = 0;
			if (f.parent[j] == f.pid[i])
				kids++;
		}
		if (top && (kids > best_kids || (kids == best_kids && f.pid[i] < best))) {
			best = f.pid[i];
			best_kids = kids;
		}
	}
	return best;
}

struct signaller {
	dev_t dev;
	ino_t ino;
	int signo, verbose, sent;
	const char *path;
	int (*skip)(void *arg, pid_t pid);
	void *skip_arg;
};

/* Signals each holder as the scan finds it, so that there is no limit on how
 * many get the first signal (a prefork server with hundreds of workers). */
static int signal_one(void *arg, pid_t pid)
{
	struct signaller *s = arg;
	struct pl_msg m;
	if (s->skip && s->skip(s->skip_arg, pid))
		return 0;
	if (s->verbose) { /* built before the signal: afterwards the command line is gone */
		const char *name = pl_signal_name(s->signo);
		pl_msg_init(&m);
		pl_msg_str(&m, s->path);
		pl_msg_str(&m, ": sending SIG");
		pl_msg_str(&m, name ? name : "?");
		pl_msg_str(&m, " to ");
		pl_msg_holder(&m, pid);
	}
	if (plat_signal_verified(pid, s->dev, s->ino, s->signo) == 0) {
		s->sent++;
		if (s->verbose)
			pl_msg_send(&m);
	}
	return 0;
}

int pl_signal_holders(dev_t dev, ino_t ino, pid_t self, int signo, int verbose, const char *path,
		      int (*skip)(void *arg, pid_t pid), void *skip_arg)
{
	struct signaller s = {dev, ino, signo, verbose, 0, path, skip, skip_arg};
	if (plat_each_holder(dev, ino, self, signal_one, &s) < 0)
		return -1;
	return s.sent;
}

void pl_msg_holder(struct pl_msg *m, pid_t pid)
{
	char cmd[256];
	pl_msg_str(m, "PID ");
	pl_msg_num(m, (long long)pid);
	size_t n = plat_cmdline(pid, cmd, sizeof(cmd));
	if (n) {
		/* The holder's argv is its own to write (it may have dropped to
		 * another user): escaped, so that nothing in it reaches the
		 * starter's terminal as a control sequence (msg.c). */
		pl_msg_str(m, " (");
		pl_msg_text(m, cmd, n);
		pl_msg_str(m, ")");
	}
}

/* Walks up from the calling process. Bounded: /proc read while processes
 * are reparented cannot make a cycle, but the bound costs nothing. */
int pl_is_ancestor(pid_t pid)
{
	pid_t p = getpid();
	for (int i = 0; i < 4096 && p > 0; i++) {
		if (p == pid)
			return 1;
		if (p == 1)
			break;
		p = plat_parent(p);
	}
	return 0;
}
