/* SPDX-License-Identifier: MIT */
/* pidlock: the seam between the lock core and a cluster backend.
 *
 * The core library knows one lock: a descriptor it keeps alive (struct
 * pl_lock). A PID file's descriptor is PL_LOCK_FILE. A backend that keeps
 * its lock on a server holds it through a socket the core keeps alive the
 * same way (PL_LOCK_PLUGIN): the lock lives exactly as long as the session,
 * and the session as long as the socket. For such a lock the socket's owner
 * (F_SETOWN) names the instance, as the PID file's line does for a local one.
 *
 * A backend is a shared object of its own, pidlock-NAME.so (.dylib on
 * macOS), built beside the core library and opened with dlopen only when
 * PIDLOCK_FILE (or the command's FILE) is a URI of its scheme (backend.c):
 * the core links nothing of it. The object exports one symbol,
 * PL_BACKEND_ENTRY, a function that takes what the core lends it and returns
 * its table. Adding a backend means adding its source file, a line in
 * pl_backend_name (pidlock.h) and one in the Makefile.
 */
#ifndef PIDLOCK_BACKEND_H
#define PIDLOCK_BACKEND_H

#include "pidlock.h"

/* Raised when the interface changes; a plugin of another version is
 * refused (its table says which it was built for). */
#define PL_BACKEND_ABI 3 /* 2: blank, open_trusted, pl_config.label; 3: publish, fence */
#define PL_BACKEND_ENTRY "pidlock_backend_v1"

#ifdef __APPLE__
#define PL_PLUGIN_SUFFIX ".dylib"
#else
#define PL_PLUGIN_SUFFIX ".so"
#endif

/* What the core lends a backend: the parts of it that a message or a label
 * needs, so that the backend never links against the core. */
struct pl_backend_host {
	unsigned abi; /* PL_BACKEND_ABI */
	/* Sends m (with the PIDLOCK_ON_ERROR=run note when it applies); returns status. */
	int (*fail)(struct pl_msg *m, const struct pl_config *cfg, int status);
	size_t (*cmdline)(pid_t pid, char *buf, size_t n); /* plat_cmdline */
	long long (*now_ns)(void);                         /* monotonic clock */
	/* A file the client library would read (an option file, a password
	 * file), opened read-only only if it and every directory above it are
	 * the caller's or root's and nobody else can write them: the walk of
	 * the PID file (walk.c), and a regular file of a real file system,
	 * not writable by group or others (DESIGN.md, guarantee 18). The
	 * descriptor, or -1 and errno: ENOENT absent, EACCES unsafe (why says
	 * what, n bytes), others as open(2). */
	int (*open_trusted)(const char *path, char *why, size_t n);
};

/* What `pidlock status` shows of a backend's lock; the command renders it
 * as text or JSON (shim/cmd/render.c). */
struct pl_backend_status {
	int state;             /* LSB: 0 running, 3 stopped, 4 unknown */
	long long key;         /* the lock's key on the server */
	long long pid;         /* the holder's PID, as it advertised it; 0 if unknown */
	char host[64];         /* the holder's host name, when pid is known */
	char command[256];     /* its command line ("" if none) */
	long long session;     /* the server's process for the holder's session */
	long long started;     /* when that session began, Unix seconds, or -1 */
	char holder[512];      /* the holder as messages name it (describe) */
	char fence[24];        /* the holder's fencing token, as it advertised it ("" if not) */
	int identified;        /* 1: the holder said who it is (a pidlock label) */
};

struct pl_backend {
	unsigned abi;        /* PL_BACKEND_ABI */
	const char *name;    /* "postgresql": the plugin is pidlock-NAME.so */
	/* cfg->path = the URI as messages show it (no password). 0, or an exit
	 * status after one line. */
	int (*resolve)(struct pl_config *cfg);
	/* As pl_acquire (fail, wait, replace as cfg says): 0 with lk held
	 * (kind PL_LOCK_PLUGIN), PL_HELD_ELSEWHERE, or an exit status after one
	 * line. cmdline: what the holder advertises; NULL = this process's. */
	int (*acquire)(const struct pl_config *cfg, struct pl_lock *lk, pid_t self,
		       const char *cmdline);
	/* Fencing on the held socket: the instance ends when the session does
	 * (SIGIO, or a watcher thread when may_thread). 0 or -1. */
	int (*watch)(int fd, pid_t self, int may_thread);
	/* Who holds the lock: fills st, returns its state (the LSB code). */
	int (*status)(const struct pl_config *cfg, struct pl_backend_status *st);
	/* Ends the holder's session, waiting at most timeout_ns for the lock to
	 * be free: 0, or 1 after one line. */
	int (*stop)(const struct pl_config *cfg, long long timeout_ns);
	/* Overwrites every secret of the URI text in place with 'x' (its
	 * length stays): for the copies other users can read, argv in
	 * /proc/PID/cmdline, while a connection lasts (DESIGN.md, guarantee 18). */
	void (*blank)(char *uri);
	/* After acquire, once the caller has set up the environment the
	 * program will see: sets PIDLOCK_FENCE to this acquisition's fencing
	 * token, or removes an inherited one when there is none. The plugin
	 * does it (setenv), so that the core library imports nothing for it;
	 * it comes last because setenv may move the environment's array. */
	void (*publish)(void);
};

/* ---- one lock, as the mode driver sees it (modes.c) ----
 *
 * fail, wait, replace and stop are written once, in shim/core/modes.c, over
 * this interface; the PID file (lock.c) and every backend (shim/plugins/)
 * each fill one. modes.c is compiled into the library, the command and
 * every plugin, as msg.c is: no function of the core is reached across the
 * seam. The optional operations may be NULL. */
struct pl_session {
	void *conn;       /* the lock's own: a descriptor, a server connection */
	const char *noun; /* "advisory lock": "cannot take the advisory lock" */
	const char *id;   /* how verbose messages name the lock: "advisory key 42" */
	/* Sends m with the on-error note and returns status: pl_fail, or the
	 * host's in a plugin. */
	int (*fail)(struct pl_msg *m, const struct pl_config *cfg, int status);
	/* One try (ns 0), or a wait of at most ns (PL_FOREVER: no limit): 1
	 * locked, 0 not, -1 error (error() says why). */
	int (*lock)(const struct pl_session *s, long long ns);
	/* The holder: > 0 what identifies it (a PID, a session's number), 0 none
	 * (or none that can be seen), -1 cannot tell (errno). With m, adds how
	 * messages name it ("PID 4242 (cmd)", "PID 4242 on web2 (cmd)"). */
	long long (*holder)(const struct pl_session *s, struct pl_msg *m);
	/* Asks holder id (every holder of the PID file's lock) to end, with
	 * signo (the first signal, or SIGKILL): 0 asked (or gone already), -1
	 * refused, with why (one line's end: "held outside this PID namespace;
	 * not signalled", the privilege a server wants), -2 could not tell whom
	 * to ask (out of descriptors: say_error says why). */
	int (*end)(const struct pl_session *s, long long id, int signo, char *why, size_t n);
	/* Adds ": why the last call failed" to m: strerror, or a client
	 * library's first line, escaped and never quoting a secret. */
	void (*say_error)(const struct pl_session *s, struct pl_msg *m);
	void (*close)(const struct pl_session *s);
	/* Optional: whether the lock is held at all (cheaper than holder, or
	 * true also when the holder cannot be seen): 1, 0, -1. */
	int (*held)(const struct pl_session *s);
	/* Optional, replace only: this request makes itself known to newer
	 * ones (0, or -1 when it cannot: then the newest-wins rule does not
	 * apply to it), and asks whether a newer request has come (1). */
	int (*request)(const struct pl_session *s);
	int (*overtaken)(const struct pl_session *s);
	/* Optional: called once the lock is free after this session ended a
	 * holder (replace, before the new instance may enter main; stop,
	 * before it reports the holder stopped). Returns once every holder it
	 * ended is known gone: seen gone, or its fencing deadline passed (a
	 * holder on another host learns of its session's end only from its
	 * own keepalive). Says so in one line when it has to wait. */
	void (*settle)(const struct pl_session *s);
	/* Optional, wait mode: after lock failed (-1), connects the session
	 * again when the error may pass (the server restarting), trying with
	 * back-off for at most left_ns (PL_FOREVER: no limit): 0 connected,
	 * -1 not (error() says why). */
	int (*reconnect)(const struct pl_session *s, long long left_ns);
};

/* The modes (modes.c), for every kind of lock. pl_take: the first try has
 * failed (lock(0) gave 0); as cfg->mode says: 0 locked, PL_HELD_ELSEWHERE
 * (a line said so, unless quiet; also for a replace request that a newer
 * one overtook), or an exit status after one line. Closes the session
 * unless it returns 0. */
int pl_take(const struct pl_config *cfg, const struct pl_session *s);
/* The same, with the first try made here (a backend's acquire). */
int pl_take_session(const struct pl_config *cfg, const struct pl_session *s);
/* pidlock stop: asks the holder to end with signo, waits at most
 * timeout_ns for the lock to be free, then SIGKILL and 5 s more. 0 free,
 * or 1 after one line (unless quiet and about the instance). Closes the
 * session. */
int pl_stop_holders(const struct pl_config *cfg, const struct pl_session *s, int signo,
		    long long timeout_ns, int quiet);

typedef const struct pl_backend *pl_backend_entry_fn(const struct pl_backend_host *host);

/* ---- backend.c (core) ---- */
/* Opens the backend uri names by its scheme: from dir when given (the
 * command's choice), else from the core library's own folder. 0 and *be,
 * or PL_EX_OSERR after one line (through pl_fail, as cfg says). */
int pl_backend_open(const struct pl_config *cfg, const char *uri, const char *dir,
		    const struct pl_backend **be);
/* Cluster mode's start: opens the backend of cfg->file, resolves cfg->path
 * and takes the lock, as pl_acquire does for a file (same returns). Once
 * the lock is held, cfg->file's secrets are blanked in place (the backend's
 * blank): in the library it is the environment's own string, which
 * /proc/PID/environ shows for the life of the process; in the command, a
 * copy. */
int pl_backend_acquire(struct pl_config *cfg, const char *dir, struct pl_lock *lk, pid_t self,
		       const char *cmdline, const struct pl_backend **be);
/* A new image adopting a backend's lock (uri: the PIDLOCK_HELD value): marks
 * lk as PL_LOCK_PLUGIN and fences it again (a watcher thread if this image
 * inherited SIGIO ignored or blocked). */
void pl_backend_adopt(const struct pl_config *cfg, const char *uri, struct pl_lock *lk,
		      pid_t instance);

#endif
