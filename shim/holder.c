/* Who holds the lock: read the PID, verify identity, signal with care.
 *
 * A PID in a file is only a hint: the process may be gone and its number
 * reused (untether#459: thousands of crash-restart cycles a day from a liveness
 * check by PID alone). Before naming or signalling a process we check that it
 * really holds the lock on this inode (platform layer).
 */
#include "pidlock.h"
#include "sys.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

pid_t pl_read_pid_once(int fd)
{
	char buf[32];
	ssize_t n;
	do
		n = pread(fd, buf, sizeof(buf) - 1, 0);
	while (n < 0 && errno == EINTR);
	if (n < 0 && errno == ESPIPE) { /* cluster mode: a socket; its owner (cluster.c) */
		int owner = pl_fcntl(fd, F_GETOWN, 0);
		return owner > 0 ? (pid_t)owner : 0;
	}
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	/* Exactly digits then a newline: anything else is a file being written
	 * or one we did not write. */
	long long v = 0;
	ssize_t i = 0;
	for (; i < n && buf[i] >= '0' && buf[i] <= '9'; i++) {
		v = v * 10 + (buf[i] - '0');
		if (v > 0x7fffffff)
			return 0;
	}
	if (i == 0 || i >= n || buf[i] != '\n')
		return 0;
	return (pid_t)v;
}

static void nap_ms(long ms)
{
	struct timespec ts = {0, ms * 1000000L};
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
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
		nap_ms(5);
	}
	pid_t any;
	if (plat_find_holders(dev, ino, self, &any, 1) == 1)
		return any;
	/* Unverifiable (another user's process without permission to look):
	 * still worth naming in a message, never worth signalling. */
	if (named > 0 && named != self && (kill(named, 0) == 0 || errno == EPERM))
		return named;
	return 0;
}

pid_t pl_newest_holder(dev_t dev, ino_t ino, pid_t self)
{
	pid_t pids[PL_MAX_HOLDERS];
	int n = plat_find_holders(dev, ino, self, pids, PL_MAX_HOLDERS);
	pid_t best = 0;
	long long best_t = -1;
	for (int i = 0; i < n; i++) {
		long long t = plat_start_time_ms(pids[i]);
		if (t > best_t || (t == best_t && pids[i] > best)) {
			best = pids[i];
			best_t = t;
		}
	}
	return best;
}

int pl_signal_holders(dev_t dev, ino_t ino, pid_t self, int signo, int verbose, const char *path)
{
	pid_t pids[PL_MAX_HOLDERS];
	int n = plat_find_holders(dev, ino, self, pids, PL_MAX_HOLDERS);
	int sent = 0;
	for (int i = 0; i < n; i++) {
		struct pl_msg m;
		if (verbose) { /* built before the signal: afterwards the command line is gone */
			const char *name = pl_signal_name(signo);
			pl_msg_init(&m);
			pl_msg_str(&m, path);
			pl_msg_str(&m, ": sending SIG");
			pl_msg_str(&m, name ? name : "?");
			pl_msg_str(&m, " to ");
			pl_msg_holder(&m, pids[i]);
		}
		if (plat_signal_verified(pids[i], dev, ino, signo) == 0) {
			sent++;
			if (verbose)
				pl_msg_send(&m);
		}
	}
	return sent;
}

void pl_msg_holder(struct pl_msg *m, pid_t pid)
{
	char cmd[256];
	pl_msg_str(m, "PID ");
	pl_msg_num(m, (long long)pid);
	size_t n = plat_cmdline(pid, cmd, sizeof(cmd));
	if (n) {
		pl_msg_str(m, " (");
		pl_msg_strn(m, cmd, n);
		pl_msg_str(m, ")");
	}
}
