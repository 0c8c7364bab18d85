/* SPDX-License-Identifier: MIT */
/* The PID file's lock as the mode driver sees it (backend.h, struct
 * pl_session; modes.c decides fail, wait, replace and stop): who holds it,
 * how to wait for it, how to end its holders, and how replace requests
 * make themselves known to each other.
 *
 * Replace requests (modes.c, "newest wins"): each request registers itself
 * on every PID file inode it opens with two POSIX read locks far past the
 * PID line (the file's data never reaches them): one byte at
 * PL_REQ_TICKET + its ticket (its start time, so that a later request has
 * a greater one) and one at PL_REQ_PID + its PID. A request asks whether it
 * was overtaken with F_GETLK for a write lock over the range past its own
 * ticket: any request there is newer. POSIX locks, because F_GETLK shows
 * another process's and none of our own; they cannot be mistaken for the
 * instance's flock (a different kind of lock), conflict with nobody's
 * reading, and go with the process. A request keeps every inode it opened
 * (an exiting holder may remove the file, and the requests then race to
 * create the next one) until it is done, so that an older request can still
 * see a newer one on the inode they both waited on. Its PID marks it as a
 * request in progress: it may hold the flock for an instant between taking
 * it and stepping aside, and must never be signalled as an instance.
 * Where these locks cannot be taken (a program holds a conflicting POSIX
 * lock over the whole file), the request goes on without the rule.
 */
#include "backend.h"
#include "core.h"
#include "sys.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define PL_REQ_PID ((off_t)1 << 61)    /* + a PID: a replace request in progress */
#define PL_REQ_TICKET ((off_t)1 << 62) /* + a ticket: a replace request's place */

/* ---- waiting in the kernel ---- */

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


/* ---- the session ---- */

static struct pl_file_session *fs_of(const struct pl_session *s)
{
	return s->conn;
}

static int fs_fail(struct pl_msg *m, const struct pl_config *cfg, int status)
{
	return pl_fail(m, cfg, status);
}

static int fs_lock(const struct pl_session *s, long long ns)
{
	struct pl_file_session *fs = fs_of(s);
	int r = ns == 0 ? pl_flock(fs->fd, LOCK_EX | LOCK_NB) : flock_timed(fs->fd, ns);
	if (r == 0)
		return 1;
	if (errno == EWOULDBLOCK || errno == EINTR)
		return 0;
	fs->err = errno;
	return -1;
}

/* Who holds it: the process the file names if it holds it, else any
 * verified holder; named in m ("PID 4242 (cmd)"), or, when none can be
 * seen, what that means here. */
static long long fs_holder(const struct pl_session *s, struct pl_msg *m)
{
	struct pl_file_session *fs = fs_of(s);
	pid_t pid = pl_find_holder(fs->fd, fs->dev, fs->ino, fs->self);
	if (pid < 0) {
		fs->err = errno;
		return -1;
	}
	if (m && pid > 0)
		pl_msg_holder(m, pid);
	else if (m)
		pl_msg_str(m, plat_pidns_nested() ? "a process outside this PID namespace (not visible here)"
						  : "another process (PID unknown)");
	return pid;
}

static int fs_held(const struct pl_session *s)
{
	struct pl_file_session *fs = fs_of(s);
	int r = plat_is_locked(fs->fd, fs->dev, fs->ino);
	if (r < 0)
		fs->err = errno;
	return r;
}

/* 1 if pid is a replace request in progress (its PID mark is there). */
static int is_request(void *arg, pid_t pid)
{
	struct pl_file_session *fs = arg;
	struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = PL_REQ_PID + pid, .l_len = 1};
	return pl_fcntl_ptr(fs->fd, F_GETLK, &fl) == 0 && fl.l_type != F_UNLCK && fl.l_pid == pid;
}

struct ancestry {
	pid_t found;
};

static int ancestor_holder(void *arg, pid_t pid)
{
	struct ancestry *a = arg;
	if (pl_is_ancestor(pid)) {
		a->found = pid;
		return 1;
	}
	return 0;
}

/* Ends every verified holder with signo (a prefork master and its workers
 * all share the lock), identity first (DESIGN.md, guarantee 8). Never a
 * holder we cannot see, never one of our own ancestors (a tree-scope
 * descendant asking to replace or stop its own tree), never another replace
 * request in progress. */
/* m's text into why (n bytes), cut if it must be: no snprintf in the
 * library (stdio, and an import the core does not have). */
static void put_why(char *why, size_t n, const struct pl_msg *m)
{
	size_t k = m->len < n ? m->len : n - 1;
	pl_copy(why, m->buf, k);
	why[k] = '\0';
}

static int fs_end(const struct pl_session *s, long long id, int signo, char *why, size_t n)
{
	struct pl_file_session *fs = fs_of(s);
	const struct pl_config *cfg = fs->cfg;
	struct pl_msg m;
	m.len = 0;
	if (id <= 0) {
		pl_msg_str(&m, plat_pidns_nested() ? "held outside this PID namespace; not signalled"
						   : "its holder cannot be seen; not signalled");
		put_why(why, n, &m);
		return -1;
	}
	struct ancestry a = {0};
	if (plat_each_holder(fs->dev, fs->ino, fs->self, ancestor_holder, &a) < 0) {
		fs->err = errno;
		return -2;
	}
	if (a.found) {
		pl_msg_str(&m, "this command descends from the holder PID ");
		pl_msg_num(&m, a.found);
		pl_msg_str(&m, " (tree scope); not signalled");
		put_why(why, n, &m);
		return -1;
	}
	if (pl_signal_holders(fs->dev, fs->ino, fs->self, signo, cfg->verbose, cfg->path, is_request,
			      fs) < 0) {
		fs->err = errno;
		return -2;
	}
	return 0;
}

static void fs_say_error(const struct pl_session *s, struct pl_msg *m)
{
	struct pl_file_session *fs = fs_of(s);
	if (fs->err) {
		pl_msg_str(m, ": ");
		pl_msg_str(m, strerror(fs->err));
	}
}

/* ---- replace requests ---- */

static int request_lock(int fd, short type, off_t at)
{
	struct flock fl = {.l_type = type, .l_whence = SEEK_SET, .l_start = at, .l_len = 1};
	return pl_fcntl_ptr(fd, F_SETLK, &fl);
}

/* Registers this request on fd: 0, or -1 when a program's own POSIX lock
 * over the file leaves no room (the request goes on without the rule). */
static int register_on(struct pl_file_session *fs, int fd)
{
	if (request_lock(fd, F_RDLCK, PL_REQ_TICKET + (off_t)fs->ticket) < 0 ||
	    request_lock(fd, F_RDLCK, PL_REQ_PID + fs->self) < 0)
		return -1;
	if (fs->nreg == (int)(sizeof(fs->reg) / sizeof(fs->reg[0]))) {
		/* Keep the newest; the oldest inode no request will wait on. */
		pl_close(fs->reg[0]);
		memmove(fs->reg, fs->reg + 1, sizeof(fs->reg) - sizeof(fs->reg[0]));
		fs->nreg--;
	}
	fs->reg[fs->nreg++] = fd;
	return 0;
}

/* This request's place: when it was made (its process's start time, the
 * moment the watcher or the operator asked), and, within the same tick,
 * the monotonic clock. Below 2^61: past the ticket base, it stays in off_t. */
static unsigned long long request_ticket(pid_t self)
{
	long long ms = plat_start_time_ms(self);
	unsigned long long mono = (unsigned long long)plat_now_ns() / 1000ULL & 0xfffffULL;
	if (ms < 0)
		return (unsigned long long)plat_now_ns() >> 4; /* ordered, if coarser */
	return (unsigned long long)ms << 20 | mono;
}

static int fs_request(const struct pl_session *s)
{
	struct pl_file_session *fs = fs_of(s);
	if (!fs->ticket)
		fs->ticket = request_ticket(fs->self);
	for (int i = 0; i < fs->nreg; i++)
		if (fs->reg[i] == fs->fd)
			return 0;
	if (register_on(fs, fs->fd) < 0) {
		fs->ticket = 0;
		return -1;
	}
	return 0;
}

int pl_file_overtaken(const struct pl_file_session *fs)
{
	for (int i = 0; fs->ticket && i < fs->nreg; i++) {
		struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET,
				   .l_start = PL_REQ_TICKET + (off_t)fs->ticket + 1, .l_len = 0};
		/* A request's mark is one byte; anything else there (a program's
		 * own lock over the whole file) says nothing of requests. */
		if (pl_fcntl_ptr(fs->reg[i], F_GETLK, &fl) == 0 && fl.l_type != F_UNLCK && fl.l_len == 1 &&
		    fl.l_start > PL_REQ_TICKET + (off_t)fs->ticket)
			return 1;
	}
	return 0;
}

static int fs_overtaken(const struct pl_session *s)
{
	return pl_file_overtaken(fs_of(s));
}

/* The session is given up (pl_take closes it on every failure): every
 * descriptor goes, the locks of the registrations with them. */
static void fs_close(const struct pl_session *s)
{
	struct pl_file_session *fs = fs_of(s);
	int fd_registered = 0;
	for (int i = 0; i < fs->nreg; i++) {
		fd_registered |= fs->reg[i] == fs->fd;
		pl_close(fs->reg[i]);
	}
	if (!fd_registered && fs->fd >= 0)
		pl_close(fs->fd);
	fs->nreg = 0;
	fs->fd = -1;
}

void pl_file_session_init(struct pl_file_session *fs, const struct pl_config *cfg, pid_t self)
{
	memset(fs, 0, sizeof(*fs));
	fs->cfg = cfg;
	fs->self = self;
	fs->fd = -1;
	fs->s.conn = fs;
	fs->s.noun = "lock";
	fs->s.id = "PID file";
	fs->s.fail = fs_fail;
	fs->s.lock = fs_lock;
	fs->s.holder = fs_holder;
	fs->s.end = fs_end;
	fs->s.say_error = fs_say_error;
	fs->s.close = fs_close;
	fs->s.held = fs_held;
	fs->s.request = fs_request;
	fs->s.overtaken = fs_overtaken;
}

void pl_file_session_use(struct pl_file_session *fs, int fd, dev_t dev, ino_t ino)
{
	fs->fd = fd;
	fs->dev = dev;
	fs->ino = ino;
	fs->err = 0;
	if (fs->ticket)
		(void)fs_request(&fs->s); /* a new inode of the same request */
}

int pl_file_session_registered(const struct pl_file_session *fs, int fd)
{
	for (int i = 0; i < fs->nreg; i++)
		if (fs->reg[i] == fd)
			return 1;
	return 0;
}

void pl_file_session_done(struct pl_file_session *fs, int keep)
{
	for (int i = 0; i < fs->nreg; i++) {
		if (fs->reg[i] == keep) {
			request_lock(keep, F_UNLCK, PL_REQ_TICKET + (off_t)fs->ticket);
			request_lock(keep, F_UNLCK, PL_REQ_PID + fs->self);
		} else {
			pl_close(fs->reg[i]);
		}
	}
	fs->nreg = 0;
}

int pl_file_take(struct pl_file_session *fs)
{
	return pl_take(fs->cfg, &fs->s);
}
