/* SPDX-License-Identifier: MIT */
/* pidlock: what every cluster backend plugin shares (plugin.c).
 *
 * Linked into each pidlock-NAME.so, never into the core library: the URI as
 * messages show it (no password), the holder's label, the one-line message
 * shapes, and the fencing of the held socket. Each plugin has its own copy
 * (hidden symbols), so pl_host is the host table that plugin was given.
 */
#ifndef PIDLOCK_PLUGIN_H
#define PIDLOCK_PLUGIN_H

#include "../core/backend.h"
#include "uri.h"

/* ---- client-side dead-peer detection (seconds): the client always gives
 * up before the server does. Dead after at most IDLE + INTERVAL * COUNT s
 * without an answer (5 s); TCP_USER_TIMEOUT bounds unacknowledged data the
 * same way. ---- */
#define PL_KA_IDLE 2
#define PL_KA_INTERVAL 1
#define PL_KA_COUNT 3
#define PL_USER_TIMEOUT_MS 5000

/* How long after its session was ended a holder on another host may still
 * run: its client gives up on a silent server after at most
 * PL_KA_IDLE + PL_KA_INTERVAL * PL_KA_COUNT s (TCP_USER_TIMEOUT bounds
 * unacknowledged data the same way), and its kernel's timers and the
 * signal's delivery take up to PL_FENCE_MARGIN more. Replace and stop wait
 * this long before they let a new instance in or report it stopped. */
#define PL_FENCE_MARGIN 2
#define PL_FENCE_NS                                                                                \
	((long long)((PL_KA_IDLE + PL_KA_INTERVAL * PL_KA_COUNT > PL_USER_TIMEOUT_MS / 1000            \
			      ? PL_KA_IDLE + PL_KA_INTERVAL * PL_KA_COUNT                              \
			      : PL_USER_TIMEOUT_MS / 1000) +                                           \
		     PL_FENCE_MARGIN) *                                                                \
	 1000000000LL)

/* What the core lent this plugin (set by its entry point, plugin.c). */
extern const struct pl_backend_host *pl_host;

/* Each backend's table, which the one exported symbol, pidlock_backend_v1
 * (plugin.c), returns. Hidden, as everything but that symbol. */
extern const struct pl_backend pl_backend_table;

/* The lock's key: FNV-1a 64 of the name's bytes (offset basis
 * 0xcbf29ce484222325, prime 0x100000001b3), read as a signed 64-bit number.
 * PostgreSQL locks it; MySQL shows it in status and hashes long names with
 * it (docs/cluster.md). */
int64_t pl_name_key(const char *name);

/* Fills cfg->path with the URI as messages show it and PIDLOCK_HELD
 * exports it (pl_uri_display: no password, no secret parameter), and
 * checks that the URI can be read without guessing and names its lock
 * (#NAME). 0, or an exit status (78) after one line. */
int pl_uri_resolve(struct pl_config *cfg);

/* The NAME after '#' (pl_uri_resolve checked that there is one). */
const char *pl_uri_name(const struct pl_config *cfg);

/* "pidlock PID HOST WHAT" into out (n bytes, cut to fit), printable ASCII
 * only. WHAT as cfg->label says: the program's name (default), the whole
 * command line (PL_LABEL_CMDLINE), or the label itself; cmdline is the
 * command line to take them from, NULL = this process's own. Status reads
 * WHAT back as the holder's "command". */
void pl_label(char *out, size_t n, const struct pl_config *cfg, pid_t pid, const char *cmdline);

/* A holder's label read back ("pidlock[:TOKEN] PID HOST WHAT"; labels of
 * earlier versions have no token): pid 0 when it is not pidlock's. cmd
 * points into the label read. */
struct pl_who {
	long pid;
	char host[64];
	const char *cmd;
	char fence[24]; /* "" when the label has no token */
};
/* Fills w from label; 1 when it is a pidlock label, else 0 (w->pid 0). */
int pl_label_read(const char *label, struct pl_who *w);
/* "pidlock:TOKEN PID HOST WHAT" from pl_label's text and a token (n bytes,
 * cut to fit). */
void pl_label_fenced(char *out, size_t n, const char *label, const char *fence);

/* The fencing token of this process's acquisition: kept for publish
 * (backend.h), which exports it as PIDLOCK_FENCE. "" = none. */
void pl_fence_keep(const char *fence);
const char *pl_fence_kept(void);
void pl_publish(void);

/* The holders a session ended (replace, stop), for settle (backend.h). */
#define PL_ENDED_MAX 8
struct pl_ended {
	long long at_ns; /* when the last one was ended; 0: none */
	int remote;      /* one of them may run where we cannot see it */
	int n;           /* local ones, by PID, in pid[] */
	long pid[PL_ENDED_MAX];
	char who[160]; /* how the line names the last remote one */
};
/* Before ending the session of w (NULL: a holder that did not say who it
 * is): local when its label names this host and the PID exists here. */
void pl_ended_note(struct pl_ended *e, const struct pl_who *w);
/* Waits until every holder e lists is gone here, or PL_FENCE_NS after the
 * last end for one that may run elsewhere, saying so in one line (unless
 * cfg->quiet). */
void pl_settle(const struct pl_config *cfg, const struct pl_ended *e);

/* Wait mode through server trouble: a connection refused or lost (the
 * server restarting, unreachable for a while) is tried again with back-off
 * (0.25 s doubling to 2 s) while the wait's time lasts, one verbose line per
 * try; an error that waiting cannot cure (authentication, a missing
 * database) is not. Other modes never try again. */
struct pl_retry {
	long long until; /* monotonic ns; -1: no limit */
	long long pause; /* the next pause, ns */
	int said;        /* the first retry's line is said even when not verbose */
};
/* left: the wait's remaining time (PL_FOREVER: none), or 0 for no retry. */
void pl_retry_init(struct pl_retry *r, long long left);
/* After a failure that may pass (line: "URI: cannot connect: why"): says
 * so (the first time unless quiet, then when verbose), sleeps, and returns 1
 * to try again; 0 when time is up. */
int pl_retry_pause(struct pl_retry *r, const struct pl_config *cfg, const struct pl_msg *line);

/* Starts m with "URI: what". */
void pl_say(struct pl_msg *m, const struct pl_config *cfg, const char *what);
/* Adds ": " and the first line of a client library's message s, escaped;
 * nothing of it if it quotes a secret of cfg's URI. */
void pl_say_first_line(struct pl_msg *m, const struct pl_config *cfg, const char *s);

/* Fences the held socket fd (backend.h, watch): the instance is terminated
 * when the session ends. 0 or -1. */
int pl_watch(int fd, pid_t self, int may_thread);

/* ---- the modes: shim/core/modes.c (pl_take_session, pl_stop_holders over
 * struct pl_session, backend.h), compiled into every plugin ---- */

/* Makes the locked session's socket fd the lock: off 0-2, close-on-exec as
 * the scope says, fenced (pl_watch), and lk filled (kind PL_LOCK_PLUGIN).
 * 0, or an exit status after one line. */
int pl_hold(const struct pl_config *cfg, int fd, pid_t self, int may_thread, struct pl_lock *lk);

/* A lock's holder as a backend finds it on its server (each backend's own
 * struct holder starts with one). */
struct pl_holder {
	int found;         /* the lock is held */
	long long session; /* the server's number for the holder's session */
	long long started; /* since when, Unix seconds, or -1 */
	struct pl_who who; /* from a label of ours: who.pid 0 if none */
};
/* What the session op holder returns for it: its session, or 0. */
long long pl_holder_id(const struct pl_holder *h);
/* pidlock status: st from h (reached 0: the server could not be asked,
 * state 4), m naming the holder as messages do. Returns the state. */
int pl_status_put(struct pl_backend_status *st, const struct pl_config *cfg, int reached,
		  const struct pl_holder *h, const struct pl_msg *m);
/* Replace and stop, before ending session id: h is the holder found just
 * before, noted for settle when it is that session. */
void pl_ended_holder(struct pl_ended *e, const struct pl_holder *h, long long id);

/* Adds "PID 4242 on web2 (cmd)" (no parentheses for an empty cmd). */
void pl_msg_instance(struct pl_msg *m, long pid, const char *host, const char *cmd);

/* ---- the client library, opened with dlopen only in cluster mode ---- */
struct pl_sym {
	const char *name; /* the library's function */
	size_t off;       /* where its address goes in the backend's table */
};
/* Opens the first of names that loads (once: *handle keeps it) and fills
 * table from syms. 0, or -1 with *why set (dlerror's text, or missing when
 * a function is absent). */
int pl_load(void **handle, const char *const *names, size_t n, const struct pl_sym *syms,
	    size_t nsyms, void *table, const char *missing, const char **why);

#endif
