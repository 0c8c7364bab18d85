/* SPDX-License-Identifier: MIT */
/* pidlock: the core's public header: every PIDLOCK_* name, the exit
 * statuses, the configuration, the lock, and one-line messages. It is what a
 * cluster plugin may see of the core (with backend.h and sys.h); the rest of
 * the core's interface, for the library and the command, is core.h.
 *
 * Data flows one way: the environment becomes a configuration (config.c), the
 * configuration drives the lock core (lock.c), the lock core asks about other
 * processes (holder.c, on top of platform_*.c), and the interposition layer
 * (shim/lib/interpose.c) only keeps the lock alive across what the program
 * does next. shim/lib/preload.c is the constructor that glues them;
 * shim/cmd/ is the command; shim/plugins/ the cluster backends.
 */
#ifndef PIDLOCK_H
#define PIDLOCK_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <sys/types.h>

#ifndef PL_VERSION /* the Makefile passes the VERSION file's */
#define PL_VERSION "unknown"
#endif

/* Every PIDLOCK_* variable, once: X(NAME, field of struct pl_env). The code
 * reaches a name as PL_ENV(NAME); config.c's scanner, the command's clean-up
 * and the fuzzers iterate the table; tests/docs.bats checks that the README and
 * pidlock(1) list exactly these. The user sets the first ten (pidlock(1),
 * ENVIRONMENT). pidlock sets the last three: HELD replaces FILE in the instance's
 * environment once the lock is held, so that programs the instance starts see
 * no FILE and pass through with no system call (process scope) or keep the
 * inherited descriptor (tree scope); it has the same length as FILE so the swap
 * never needs memory. EXEC is added only to the environment of an exec in the
 * same process: it tells the new image which descriptor already holds the lock
 * (token.c). FENCE is a cluster lock's fencing token, set by the backend's
 * plugin (backend.h, publish). */
#define PL_USER_VARIABLES(X)                                                                       \
	X(FILE, file) X(MODE, mode) X(TIMEOUT, timeout) X(SIGNAL, signal) X(EXIT_CODE, exit_code)  \
	X(SCOPE, scope) X(ON_ERROR, on_error) X(QUIET, quiet) X(VERBOSE, verbose)              \
	X(LABEL, label)
#define PL_OWN_VARIABLES(X) X(HELD, held) X(EXEC, exec) X(FENCE, fence)
#define PL_VARIABLES(X) PL_USER_VARIABLES(X) PL_OWN_VARIABLES(X)
#define PL_ENV(NAME) "PIDLOCK_" #NAME

/* Exit statuses (pidlock(1), EXIT STATUS; sysexits.h values). */
#define PL_EX_USAGE 64
#define PL_EX_TEMPFAIL 75 /* default PIDLOCK_EXIT_CODE */
#define PL_EX_OSERR 71
#define PL_EX_CANTCREAT 73
#define PL_EX_CONFIG 78

#define PL_FOREVER (-1LL) /* timeout: no limit */
/* What taking a lock returns when another instance holds it (the lock core,
 * a backend's acquire): the caller exits with cfg->exit_code. */
#define PL_HELD_ELSEWHERE (-1)

/* In the order config.c's words list them. */
enum pl_mode { PL_MODE_FAIL, PL_MODE_WAIT, PL_MODE_REPLACE };
enum pl_scope { PL_SCOPE_PROCESS, PL_SCOPE_TREE };

struct pl_config {
	const char *file;       /* value of PIDLOCK_FILE as given */
	char path[PATH_MAX];    /* resolved path of the PID file */
	size_t private_dir;     /* >0: path's first that many bytes are /tmp/pidlock-UID,
				 * created (0700) and checked when the lock is taken */
	enum pl_mode mode;
	long long timeout_ns;   /* PL_FOREVER, or nanoseconds */
	int signo;
	int exit_code;
	enum pl_scope scope;
	int on_error_run;
	int quiet;
	int verbose;
	/* Cluster mode: what the holder publishes to the database server,
	 * where other users read it (PIDLOCK_LABEL): NULL for the program's
	 * name, PL_LABEL_CMDLINE for the whole command line, or a label of
	 * the user's own (printable ASCII, at most PL_LABEL_MAX bytes). */
	const char *label;
};
#define PL_LABEL_CMDLINE "cmdline"
#define PL_LABEL_MAX 64

/* What kind of lock a struct pl_lock holds, set when it is taken (or
 * adopted); every place that treats the kinds differently looks here. */
enum pl_lock_kind {
	PL_LOCK_FILE,  /* an flock on a PID file: the file's line names the instance */
	PL_LOCK_PLUGIN /* a backend's session socket (backend.h): its owner names it */
};

/* The one lock this process holds (or -1). */
struct pl_lock {
	int fd;
	dev_t dev;
	ino_t ino;
	enum pl_lock_kind kind;
};

/* The backend a PIDLOCK_FILE value names by its URI scheme ("postgresql",
 * whose plugin is pidlock-postgresql.so, or "mysql"; see backend.h), or NULL for a
 * local file. Inline and without libc: it runs on every start. */
static inline const char *pl_backend_name(const char *file)
{
	/* Arrays, not pointers: a table of pointers costs a relocation per
	 * entry in every file that includes this, at every load, even inert
	 * (measured: with 4 entries, 24 more relocations and 326 more
	 * instructions on the inert path than this). */
	static const struct {
		char scheme[14], name[11];
	} schemes[] = {
	    {"postgresql://", "postgresql"},
	    {"postgres://", "postgresql"},
	    {"mysql://", "mysql"},
	    {"mariadb://", "mysql"},
	};
	if (!file)
		return NULL;
	for (size_t i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++) {
		const char *s = file, *p = schemes[i].scheme;
		while (*p && *s == *p) {
			s++;
			p++;
		}
		if (!*p)
			return schemes[i].name;
	}
	return NULL;
}

/* 1 if file names a cluster (plugin) lock rather than a PID file. */
static inline int pl_is_cluster(const char *file)
{
	return pl_backend_name(file) != NULL;
}

/* strlen without a libc call: on the start-up path each distinct libc
 * function costs a lazy symbol resolution (see sys.h). */
static inline size_t pl_len(const char *s)
{
	size_t n = 0;
	/* The empty asm keeps GCC from turning the loop back into strlen. */
	while (s[n]) {
		n++;
		__asm__("" : "+r"(n));
	}
	return n;
}

/* memmove without a libc call, for the short strings of the start-up path
 * (the same reason as pl_len). Overlap only with dst < src. */
static inline void pl_copy(char *dst, const char *src, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		dst[i] = src[i];
		__asm__("" : "+r"(i));
	}
}

/* ---- msg.c: one-line messages on stderr, no stdio, no allocation ---- */
struct pl_msg {
	char buf[1024];
	size_t len;
};
void pl_msg_init(struct pl_msg *m); /* starts with "pidlock: " */
void pl_msg_path(struct pl_msg *m, const char *path, const char *what); /* "pidlock: PATH: WHAT" */
void pl_msg_str(struct pl_msg *m, const char *s);
void pl_msg_strn(struct pl_msg *m, const char *s, size_t n);
void pl_msg_num(struct pl_msg *m, long long v);
void pl_msg_secs(struct pl_msg *m, long long ns); /* "1.5" */
void pl_msg_send(struct pl_msg *m);                 /* adds '\n', writes, keeps errno */
/* Foreign text (a holder's command line, a server's answer), at most n
 * bytes of s (up to a NUL), escaped: valid UTF-8 that is not a control
 * character as it is; C0, DEL and C1 controls, '\\' and bytes that are not
 * UTF-8 as \n, \t, \r, \\ or \xNN per byte. Every place that shows
 * foreign text escapes it this way (msg.c). */
void pl_msg_text(struct pl_msg *m, const char *s, size_t n);
#define PL_ESCAPE_MAX 16 /* the longest escape of one unit (4 bytes as \xNN) */
/* One unit of s (n bytes): its escape into out (PL_ESCAPE_MAX bytes), the
 * output's length returned and the bytes consumed in *used (at least 1). */
size_t pl_escape_unit(const char *s, size_t n, char *out, size_t *used);
/* The length of the valid UTF-8 sequence at s (1 to 4, within n) with its
 * code point, or 0 (overlong forms, surrogates, past U+10FFFF). */
size_t pl_utf8_seq(const unsigned char *s, size_t n, unsigned long *cp);
/* C0, DEL, or C1 (U+0080 to U+009F, which some terminals take as ESC [). */
int pl_is_control(unsigned long cp);
size_t pl_fmt_num(char *dst, long long v);          /* decimal, returns length */


#endif
