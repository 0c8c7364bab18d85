/* pidlock: what every cluster backend plugin shares (plugin.c).
 *
 * Linked into each pidlock-NAME.so, never into the core library: the URI as
 * messages show it (no password), the holder's label, the one-line message
 * shapes, and the fencing of the held socket. Each plugin has its own copy
 * (hidden symbols), so pl_host is the host table that plugin was given.
 */
#ifndef PIDLOCK_PLUGIN_H
#define PIDLOCK_PLUGIN_H

#include "backend.h"

/* ---- client-side dead-peer detection (seconds): the client always gives
 * up before the server does. Dead after at most IDLE + INTERVAL * COUNT s
 * without an answer (5 s); TCP_USER_TIMEOUT bounds unacknowledged data the
 * same way. ---- */
#define PL_KA_IDLE 2
#define PL_KA_INTERVAL 1
#define PL_KA_COUNT 3
#define PL_USER_TIMEOUT_MS 5000

/* What the core lent this plugin (set by its entry point). */
extern const struct pl_backend_host *pl_host;

/* The URI as shown in messages into out: user:password@ becomes user@, and
 * every query parameter whose key is "password" (compared without case,
 * after percent-decoding the key: ?pass%77ord=) is left out. -1 if too long. */
int pl_uri_display(const char *uri, char *out, size_t n);

/* Fills cfg->path (pl_uri_display) and checks that the URI names its lock
 * (#NAME). 0, or an exit status after one line. */
int pl_uri_resolve(struct pl_config *cfg);

/* The NAME after '#' (pl_uri_resolve checked that there is one). */
const char *pl_uri_name(const struct pl_config *cfg);

/* "pidlock PID HOST CMDLINE" into out (n bytes, cut to fit), printable ASCII
 * only; cmdline NULL = this process's own. */
void pl_label(char *out, size_t n, pid_t pid, const char *cmdline);

/* Starts m with "URI: what". */
void pl_say(struct pl_msg *m, const struct pl_config *cfg, const char *what);
/* Adds ": " and the first line of a client library's message s. */
void pl_say_first_line(struct pl_msg *m, const char *s);

/* Fences the held socket fd (backend.h, watch): the instance is terminated
 * when the session ends. 0 or -1. */
int pl_watch(int fd, pid_t self, int may_thread);

#endif
