/* SPDX-License-Identifier: MIT */
/* What every cluster backend plugin shares (plugin.h): linked into each
 * pidlock-NAME.so, never into the core library.
 *
 * Fencing (pl_watch): if the session dies while the instance runs, the
 * instance is terminated before the server can give the lock to anyone else.
 * Each backend makes its client side detect a dead peer (TCP keepalive,
 * TCP_USER_TIMEOUT: PL_KA_*) strictly sooner than its server side lets go.
 * On Linux the kernel delivers it without a thread: F_SETOWN(pid) + O_ASYNC
 * makes the socket raise SIGIO (default action: terminate) on any event --
 * data (the server's goodbye before it closes), end of file, reset, or a
 * timeout error. Where SIGIO is not at its default (handled, ignored or
 * blocked at start), and on macOS (where SIGIO's default is to be
 * discarded), a small watcher thread poll()s the socket and sends SIGKILL to
 * the process instead.
 *
 * F_GETOWN doubles as "the process the PID file names" for the code shared
 * with the local mode (pl_read_pid / pl_write_pid use it for a lock of kind
 * PL_LOCK_PLUGIN): after a fork it still names the parent; daemon() moves it.
 */
#include "plugin.h"
#include "../core/sys.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

const struct pl_backend_host *pl_host;

__attribute__((visibility("default"))) const struct pl_backend *
pidlock_backend_v1(const struct pl_backend_host *host);

/* The one exported symbol (backend.h): the core's table in, ours out. */
const struct pl_backend *pidlock_backend_v1(const struct pl_backend_host *host)
{
	if (!host || host->abi != PL_BACKEND_ABI)
		return NULL;
	pl_host = host;
	return &pl_backend_table;
}

int64_t pl_name_key(const char *name)
{
	uint64_t h = 0xcbf29ce484222325ULL; /* FNV-1a 64 offset basis */
	for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
		h ^= *p;
		h *= 0x100000001b3ULL; /* FNV-1a 64 prime */
	}
	int64_t k;
	memmove(&k, &h, sizeof(k)); /* two's complement reinterpretation */
	return k;
}

/* ---- the URI as messages show it (uri.c reads it) ---- */

int pl_uri_resolve(struct pl_config *cfg)
{
	struct pl_msg m;
	struct pl_uri u;
	const char *hash = strchr(cfg->file, '#');
	if (pl_uri_read(cfg->file, &u) < 0 || pl_uri_display(&u, cfg->path, sizeof(cfg->path)) < 0) {
		cfg->path[0] = '\0';
		pl_msg_init(&m);
		pl_msg_str(&m, "cluster lock URI too long");
		return pl_host->fail(&m, cfg, PL_EX_CONFIG);
	}
	if (u.ambiguous) {
		/* Any guess could print part of a password: refused, and the
		 * line shows the scheme only (pl_uri_display). */
		pl_say(&m, cfg, u.ambiguous);
		return pl_host->fail(&m, cfg, PL_EX_CONFIG);
	}
	if (!hash || !hash[1]) {
		pl_msg_init(&m);
		pl_msg_str(&m, cfg->path);
		pl_msg_str(&m, ": a cluster lock needs a name: add #NAME to the URI");
		return pl_host->fail(&m, cfg, PL_EX_CONFIG);
	}
	return 0;
}

const char *pl_uri_name(const struct pl_config *cfg)
{
	return strchr(cfg->file, '#') + 1;
}

/* ---- messages ---- */

void pl_say(struct pl_msg *m, const struct pl_config *cfg, const char *what)
{
	pl_msg_init(m);
	pl_msg_str(m, cfg->path);
	pl_msg_str(m, ": ");
	pl_msg_str(m, what);
}

/* A client library's messages end with a newline and may span lines: keep
 * the first. One that quotes a secret of the URI (libpq quotes a parameter
 * it cannot parse, value and all) is not shown at all. */
void pl_say_first_line(struct pl_msg *m, const struct pl_config *cfg, const char *s)
{
	struct pl_uri u;
	if (!s)
		return;
	if (pl_uri_read(cfg->file, &u) == 0 && pl_uri_quotes_secret(&u, s)) {
		pl_msg_str(m, ": (the client library's message is not shown: it quotes a secret of the "
			      "URI)");
		return;
	}
	while (*s == ' ')
		s++;
	size_t n = strcspn(s, "\n");
	pl_msg_str(m, ": ");
	pl_msg_text(m, s, n); /* the server's words among them: escaped (msg.c) */
}

/* ---- the holder's label ---- */

/* "pidlock PID HOST WHAT", printable ASCII only: a server would turn the
 * rest into '?' anyway, and a label is parsed back by its spaces. WHAT is
 * what cfg->label asks for (PIDLOCK_LABEL, pidlock run --label): by
 * default the program's name alone, for the label is public (every role
 * reads pg_stat_activity.application_name; every MySQL user with PROCESS
 * reads the advertisement) and command lines carry secrets
 * (--api-token=...); the whole command line only when asked
 * (PIDLOCK_LABEL=cmdline); else the label as given. */
void pl_label(char *out, size_t n, const struct pl_config *cfg, pid_t pid, const char *cmdline)
{
	char host[256] = "", cmd[256] = "";
	const char *what = cmd;
	if (n == 0)
		return;
	if (gethostname(host, sizeof(host) - 1) < 0 || !host[0])
		memcpy(host, "?", 2);
	host[strcspn(host, " ")] = '\0';
	if (cfg->label && strcmp(cfg->label, PL_LABEL_CMDLINE) != 0) {
		what = cfg->label;
	} else {
		if (cmdline)
			snprintf(cmd, sizeof(cmd), "%s", cmdline);
		else
			pl_host->cmdline(getpid(), cmd, sizeof(cmd));
		if (!cfg->label) { /* the program: argv[0] without its folder */
			cmd[strcspn(cmd, " ")] = '\0';
			const char *slash = strrchr(cmd, '/');
			what = slash && slash[1] ? slash + 1 : cmd;
		}
	}
	/* Cut on purpose; using the length tells gcc so (-Wformat-truncation). */
	if ((size_t)snprintf(out, n, "pidlock %ld %s %s", (long)pid, host, what) >= n)
		out[n - 1] = '\0';
	for (char *p = out; *p; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7e)
			*p = '?';
}

/* "pidlock[:TOKEN] PID HOST WHAT": the token is digits only; HOST has no
 * space (pl_label cut it there); WHAT is the rest, possibly empty. */
int pl_label_read(const char *label, struct pl_who *w)
{
	memset(w, 0, sizeof(*w));
	w->cmd = "";
	if (strncmp(label, "pidlock", 7) != 0)
		return 0;
	const char *p = label + 7;
	if (*p == ':') {
		size_t d = strspn(++p, "0123456789");
		if (d == 0 || d >= sizeof(w->fence) || p[d] != ' ')
			return 0;
		memcpy(w->fence, p, d);
		w->fence[d] = '\0';
		p += d;
	}
	if (*p++ != ' ')
		return 0;
	char *e;
	long pid = strtol(p, &e, 10);
	if (e == p || *e != ' ' || pid <= 0)
		return 0;
	p = e + 1;
	size_t n = strcspn(p, " ");
	if (!n || n >= sizeof(w->host)) {
		w->fence[0] = '\0';
		return 0;
	}
	memcpy(w->host, p, n);
	w->host[n] = '\0';
	w->pid = pid;
	w->cmd = p[n] ? p + n + 1 : "";
	return 1;
}

void pl_label_fenced(char *out, size_t n, const char *label, const char *fence)
{
	if (n == 0)
		return;
	/* label starts "pidlock " (pl_label). Cut on purpose, as there. */
	if ((size_t)snprintf(out, n, "pidlock%s%s %s", *fence ? ":" : "", fence, label + 8) >= n)
		out[n - 1] = '\0';
}

/* ---- the fencing token, for the program ---- */

static char fence_kept[24];

void pl_fence_keep(const char *fence)
{
	snprintf(fence_kept, sizeof(fence_kept), "%s", fence);
}

const char *pl_fence_kept(void)
{
	return fence_kept;
}

void pl_publish(void)
{
	/* An inherited PIDLOCK_FENCE is an outer instance's token: never
	 * this acquisition's. */
	if (fence_kept[0])
		setenv(PL_ENV(FENCE), fence_kept, 1);
	else
		unsetenv(PL_ENV(FENCE));
}

/* ---- wait mode through server trouble ---- */

void pl_retry_init(struct pl_retry *r, long long left)
{
	r->until = left == PL_FOREVER ? -1 : pl_host->now_ns() + left;
	r->pause = 250 * 1000000LL;
	r->said = 0;
}

int pl_retry_pause(struct pl_retry *r, const struct pl_config *cfg, const struct pl_msg *line)
{
	long long now = pl_host->now_ns(), pause = r->pause;
	if (r->until >= 0 && now >= r->until)
		return 0;
	if (r->until >= 0 && now + pause > r->until)
		pause = r->until - now;
	if (cfg->verbose || (!r->said && !cfg->quiet)) {
		struct pl_msg m = *line;
		r->said = 1;
		pl_msg_str(&m, "; trying again in ");
		pl_msg_secs(&m, pause);
		pl_msg_str(&m, " s");
		pl_msg_send(&m);
	}
	struct timespec ts = {(time_t)(pause / 1000000000LL), (long)(pause % 1000000000LL)};
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
	if (r->pause < 2000 * 1000000LL)
		r->pause *= 2;
	return 1;
}

/* ---- holders ended by replace and stop ---- */

static long long now_ns(void)
{
	return pl_host->now_ns();
}

void pl_ended_note(struct pl_ended *e, const struct pl_who *w)
{
	char host[256] = "";
	e->at_ns = now_ns();
	if (w && w->pid > 0 && gethostname(host, sizeof(host) - 1) == 0 &&
	    strcmp(host, w->host) == 0 && (kill((pid_t)w->pid, 0) == 0 || errno == EPERM)) {
		/* Here, and a process of that PID exists: its exit is seen. */
		for (int i = 0; i < e->n; i++)
			if (e->pid[i] == w->pid)
				return;
		if (e->n < PL_ENDED_MAX) {
			e->pid[e->n++] = w->pid;
			return;
		}
	}
	e->remote = 1;
	struct pl_msg m;
	m.len = 0; /* a fragment, for the line settle prints */
	if (w && w->pid > 0)
		pl_msg_instance(&m, w->pid, w->host, "");
	else
		pl_msg_str(&m, "the holder");
	size_t k = m.len < sizeof(e->who) - 1 ? m.len : sizeof(e->who) - 1;
	memcpy(e->who, m.buf, k);
	e->who[k] = '\0';
}

static int any_alive(const struct pl_ended *e)
{
	for (int i = 0; i < e->n; i++)
		if (kill((pid_t)e->pid[i], 0) == 0 || errno == EPERM)
			return 1;
	return 0;
}

void pl_settle(const struct pl_config *cfg, const struct pl_ended *e)
{
	if (!e->at_ns)
		return;
	long long until = e->at_ns + PL_FENCE_NS;
	if (e->remote && !cfg->quiet && until > now_ns()) {
		struct pl_msg m;
		pl_say(&m, cfg, "waiting up to ");
		pl_msg_num(&m, (until - now_ns() + 999999999LL) / 1000000000LL);
		pl_msg_str(&m, " s for ");
		pl_msg_str(&m, e->who);
		pl_msg_str(&m, " to notice that its session ended (it may be cut off from the server)");
		pl_msg_send(&m);
	}
	/* A local holder: until its PID is gone (SIGIO or the watcher ends it
	 * as soon as its socket closes), at most the same deadline. */
	while (now_ns() < until && (e->remote || any_alive(e))) {
		struct timespec ts = {0, 10 * 1000000L};
		nanosleep(&ts, NULL);
	}
}

/* ---- fencing ---- */

static void *watcher(void *arg)
{
	int fd = (int)(long)arg;
	struct pollfd p = {.fd = fd, .events = POLLIN | POLLPRI};
	for (;;) {
		int n = poll(&p, 1, -1);
		if (n > 0 || (n < 0 && errno != EINTR && errno != EAGAIN))
			break;
	}
	/* Anything on the socket means the session is ending: the server only
	 * speaks to an idle session to say goodbye. */
	kill(getpid(), SIGKILL);
	return NULL;
}

static int start_watcher(int fd)
{
	sigset_t all, old;
	pthread_t t;
	pthread_attr_t a;
	sigfillset(&all);
	/* The thread takes none of the program's signals. */
	sigprocmask(SIG_SETMASK, &all, &old);
	pthread_attr_init(&a);
	pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&a, (size_t)64 * 1024);
	int r = pthread_create(&t, &a, watcher, (void *)(long)fd);
	pthread_attr_destroy(&a);
	sigprocmask(SIG_SETMASK, &old, NULL);
	return r ? -1 : 0;
}

/* 1 when SIGIO would terminate this process: default action, not blocked. */
static int sigio_kills(void)
{
#ifdef __linux__
	struct sigaction sa;
	sigset_t cur;
	if (sigaction(SIGIO, NULL, &sa) < 0 || sa.sa_handler != SIG_DFL)
		return 0;
	if (sigprocmask(SIG_BLOCK, NULL, &cur) != 0 || sigismember(&cur, SIGIO))
		return 0;
	return 1;
#else
	return 0; /* macOS, BSD: SIGIO is discarded by default */
#endif
}

int pl_watch(int fd, pid_t self, int may_thread)
{
	/* The owner names the instance (see the top of this file), and is where
	 * SIGIO goes. */
	if (pl_fcntl(fd, F_SETOWN, self) < 0)
		return -1;
	if (sigio_kills()) {
		int fl = pl_fcntl(fd, F_GETFL, 0);
		if (fl < 0 || pl_fcntl(fd, F_SETFL, fl | O_ASYNC) < 0)
			return -1;
	} else if (may_thread && start_watcher(fd) < 0) {
		return -1;
	}
	/* The session may have died before O_ASYNC was set: no SIGIO then. */
	struct pollfd p = {.fd = fd, .events = POLLIN | POLLPRI};
	if (poll(&p, 1, 0) != 0)
		return -1;
	return 0;
}


int pl_hold(const struct pl_config *cfg, int fd, pid_t self, int may_thread, struct pl_lock *lk)
{
	struct pl_msg m;
	if (fd < 3) {
		/* Started with a standard descriptor closed: keep off 0-2. The
		 * client library keeps the old number, but the session is never
		 * used again. */
		int hi_fd = pl_fcntl(fd, F_DUPFD, 3);
		if (hi_fd < 0) {
			pl_say(&m, cfg, "cannot move the session's descriptor off 0-2");
			return pl_host->fail(&m, cfg, PL_EX_CANTCREAT);
		}
		close(fd);
		fd = hi_fd;
	}
	/* Client libraries set close-on-exec; tree scope lets executed
	 * programs keep it. */
	pl_fcntl(fd, F_SETFD, cfg->scope == PL_SCOPE_PROCESS ? FD_CLOEXEC : 0);
	struct stat sb;
	if (pl_fstat(fd, &sb) < 0 || pl_watch(fd, self, may_thread) < 0) {
		pl_say(&m, cfg, "the session ended while taking the lock");
		return pl_host->fail(&m, cfg, PL_EX_CANTCREAT);
	}
	lk->fd = fd;
	lk->dev = sb.st_dev;
	lk->ino = sb.st_ino;
	lk->kind = PL_LOCK_PLUGIN;
	return 0;
}

long long pl_holder_id(const struct pl_holder *h)
{
	return h->found ? h->session : 0;
}

void pl_ended_holder(struct pl_ended *e, const struct pl_holder *h, long long id)
{
	pl_ended_note(e, h->found && h->session == id && h->who.pid ? &h->who : NULL);
}

int pl_status_put(struct pl_backend_status *st, const struct pl_config *cfg, int reached,
		  const struct pl_holder *h, const struct pl_msg *m)
{
	memset(st, 0, sizeof(*st));
	st->key = pl_name_key(pl_uri_name(cfg));
	st->started = -1;
	st->state = !reached ? 4 : h->found ? 0 : 3;
	if (st->state != 0)
		return st->state;
	st->session = h->session;
	st->started = h->started;
	const struct pl_who *w = &h->who;
	if (w->pid) {
		st->identified = 1;
		st->pid = w->pid;
		snprintf(st->host, sizeof(st->host), "%s", w->host);
		snprintf(st->command, sizeof(st->command), "%s", w->cmd);
		snprintf(st->fence, sizeof(st->fence), "%s", w->fence);
	}
	size_t n = m->len < sizeof(st->holder) ? m->len : sizeof(st->holder) - 1;
	memcpy(st->holder, m->buf, n);
	st->holder[n] = '\0';
	return st->state;
}

void pl_msg_instance(struct pl_msg *m, long pid, const char *host, const char *cmd)
{
	/* Read back from the server, where any session may have written it:
	 * escaped as every foreign text is (msg.c). */
	pl_msg_str(m, "PID ");
	pl_msg_num(m, pid);
	pl_msg_str(m, " on ");
	pl_msg_text(m, host, strlen(host));
	if (*cmd) {
		pl_msg_str(m, " (");
		pl_msg_text(m, cmd, strlen(cmd));
		pl_msg_str(m, ")");
	}
}

/* ---- the client library ---- */

int pl_load(void **handle, const char *const *names, size_t n, const struct pl_sym *syms,
	    size_t nsyms, void *table, const char *missing, const char **why)
{
	if (*handle)
		return 0;
	void *lib = NULL;
	for (size_t i = 0; i < n && !lib; i++)
		lib = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
	if (!lib) {
		*why = dlerror();
		return -1;
	}
	for (size_t i = 0; i < nsyms; i++) {
		void *f = dlsym(lib, syms[i].name);
		if (!f) {
			*why = missing;
			return -1;
		}
		memmove((char *)table + syms[i].off, &f, sizeof(f));
	}
	*handle = lib;
	return 0;
}
