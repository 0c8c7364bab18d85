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
#include "sys.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

const struct pl_backend_host *pl_host;

/* ---- the URI as messages show it ---- */

/* 1 if the query parameter q (up to e) is the password: libpq percent-decodes a
 * key before it looks it up, so pass%77ord= and %70assword= name it too
 * (docs/cluster.md, How it works). Compared without regard to case: hiding a
 * parameter libpq would refuse anyway costs nothing. */
static int is_password_param(const char *q, const char *e)
{
	static const char key[] = "password";
	size_t k = 0;
	for (; q < e && *q != '='; k++) {
		int c = (unsigned char)*q++;
		if (c == '%' && e - q >= 2) {
			int v = 0;
			for (int i = 0; i < 2; i++, q++) {
				int h = (unsigned char)*q;
				v = v * 16 + (h >= '0' && h <= '9'   ? h - '0'
					      : h >= 'a' && h <= 'f' ? h - 'a' + 10
					      : h >= 'A' && h <= 'F' ? h - 'A' + 10
								     : -256);
			}
			if (v < 0)
				return 0; /* not an escape libpq would accept */
			c = v;
		}
		if (c >= 'A' && c <= 'Z')
			c += 'a' - 'A';
		if (k >= sizeof(key) - 1 || c != key[k])
			return 0;
	}
	return q < e && k == sizeof(key) - 1;
}

/* The URI as shown in messages: user:password@ becomes user@, and any
 * password=... parameter of the query string is left out. -1 if too long. */
int pl_uri_display(const char *uri, char *out, size_t n)
{
	size_t len = 0;
	const char *p = strstr(uri, "://") + 3;
	const char *end_auth = p + strcspn(p, "/?#");
	const char *at = NULL;
	for (const char *q = p; q < end_auth; q++)
		if (*q == '@')
			at = q; /* the last '@' ends the user info */
#define PUT(s, k)                                                                                  \
	do {                                                                                       \
		if (len + (k) >= n)                                                                \
			return -1;                                                                 \
		memmove(out + len, (s), (k));                                                       \
		len += (k);                                                                        \
	} while (0)
	PUT(uri, (size_t)(p - uri));
	if (at) {
		const char *colon = memchr(p, ':', (size_t)(at - p));
		PUT(p, (size_t)((colon ? colon : at) - p));
		p = at;
	}
	const char *query = strchr(p, '?');
	const char *frag = strchr(p, '#');
	if (query && frag && frag < query)
		query = NULL;
	if (!query) {
		PUT(p, strlen(p));
	} else {
		PUT(p, (size_t)(query - p));
		const char *q = query + 1, *qend = frag ? frag : q + strlen(q);
		char sep = '?';
		while (q < qend) {
			const char *amp = memchr(q, '&', (size_t)(qend - q));
			const char *e = amp ? amp : qend;
			if (!is_password_param(q, e)) {
				PUT(&sep, 1);
				PUT(q, (size_t)(e - q));
				sep = '&';
			}
			q = amp ? amp + 1 : qend;
		}
		if (frag)
			PUT(frag, strlen(frag));
	}
	out[len] = '\0';
	return 0;
#undef PUT
}

int pl_uri_resolve(struct pl_config *cfg)
{
	struct pl_msg m;
	const char *hash = strchr(cfg->file, '#');
	if (pl_uri_display(cfg->file, cfg->path, sizeof(cfg->path)) < 0) {
		cfg->path[0] = '\0';
		pl_msg_init(&m);
		pl_msg_str(&m, "cluster lock URI too long");
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

/* A client library's messages end with a newline and may span lines: keep the first. */
void pl_say_first_line(struct pl_msg *m, const char *s)
{
	if (!s)
		return;
	while (*s == ' ')
		s++;
	size_t n = strcspn(s, "\n");
	pl_msg_str(m, ": ");
	pl_msg_strn(m, s, n);
}

/* ---- the holder's label ---- */

/* Printable ASCII only: a server would turn the rest into '?' anyway, and a
 * label is parsed back by its spaces. */
void pl_label(char *out, size_t n, pid_t pid, const char *cmdline)
{
	char host[256] = "", cmd[256] = "";
	if (n == 0)
		return;
	if (gethostname(host, sizeof(host) - 1) < 0 || !host[0])
		memcpy(host, "?", 2);
	host[strcspn(host, " ")] = '\0';
	if (cmdline)
		snprintf(cmd, sizeof(cmd), "%s", cmdline);
	else
		pl_host->cmdline(getpid(), cmd, sizeof(cmd));
	/* Cut on purpose; using the length tells gcc so (-Wformat-truncation). */
	if ((size_t)snprintf(out, n, "pidlock %ld %s %s", (long)pid, host, cmd) >= n)
		out[n - 1] = '\0';
	for (char *p = out; *p; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7e)
			*p = '?';
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

