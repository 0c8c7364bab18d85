/* pidlock: the types and functions the parts share, and every PIDLOCK_* name.
 *
 * Data flows one way: the environment becomes a configuration (config.c), the
 * configuration drives the lock core (lock.c), the lock core asks about other
 * processes (holder.c, on top of platform_*.c), and the interposition layer
 * (interpose.c) only keeps the lock alive across what the program does next.
 * preload.c is the constructor that glues them; cli.c is the command.
 */
#ifndef PIDLOCK_H
#define PIDLOCK_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#ifndef PL_VERSION /* the Makefile passes the VERSION file's */
#define PL_VERSION "unknown"
#endif

/* Every PIDLOCK_* variable, once: X(NAME, field of struct pl_env). The code
 * reaches a name as PL_ENV(NAME); config.c's scanner, the command's clean-up
 * and the fuzzers iterate the table; tests/docs.bats checks that the README and
 * pidlock(1) list exactly these. The user sets the first nine (pidlock(1),
 * ENVIRONMENT). pidlock sets the last two: HELD replaces FILE in the instance's
 * environment once the lock is held, so that programs the instance starts see
 * no FILE and pass through with no system call (process scope) or keep the
 * inherited descriptor (tree scope); it has the same length as FILE so the swap
 * never needs memory. EXEC is added only to the environment of an exec in the
 * same process: it tells the new image which descriptor already holds the lock
 * (token.c). */
#define PL_USER_VARIABLES(X)                                                                       \
	X(FILE, file) X(MODE, mode) X(TIMEOUT, timeout) X(SIGNAL, signal) X(EXIT_CODE, exit_code)  \
	X(SCOPE, scope) X(ON_ERROR, on_error) X(QUIET, quiet) X(VERBOSE, verbose)
#define PL_OWN_VARIABLES(X) X(HELD, held) X(EXEC, exec)
#define PL_VARIABLES(X) PL_USER_VARIABLES(X) PL_OWN_VARIABLES(X)
#define PL_ENV(NAME) "PIDLOCK_" #NAME

/* Exit statuses (pidlock(1), EXIT STATUS; sysexits.h values). */
#define PL_EX_USAGE 64
#define PL_EX_TEMPFAIL 75 /* default PIDLOCK_EXIT_CODE */
#define PL_EX_OSERR 71
#define PL_EX_CANTCREAT 73
#define PL_EX_CONFIG 78

#define PL_FOREVER (-1LL) /* timeout: no limit */

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
};

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
size_t pl_fmt_num(char *dst, long long v);          /* decimal, returns length */

/* ---- token.c: the exec token, PIDLOCK_EXEC=PID:FD:DEV:INO:SHARED ---- */
struct pl_token {
	pid_t pid;
	int fd;
	dev_t dev;
	ino_t ino;
	int shared;
};
#define PL_TOKEN_MAX (sizeof(PL_ENV(EXEC)) + (size_t)5 * 21)
/* "PIDLOCK_EXEC=..." into buf (PL_TOKEN_MAX bytes); returns its length. The
 * value alone starts at buf + sizeof(PL_ENV(EXEC)). */
size_t pl_token_format(char *buf, const struct pl_token *t);
/* The value of a token into t: 0, or -1 if it is not exactly one. */
int pl_token_parse(const char *value, struct pl_token *t);

/* ---- config.c: environment -> validated configuration ---- */
/* Parsers shared with the command. Each returns 0 on success, -1 if invalid. */
int pl_parse_duration(const char *s, long long *ns);
int pl_parse_signal(const char *s, int *signo);
int pl_parse_bool(const char *s, int *v);
int pl_parse_uint(const char *s, unsigned long max, unsigned long *v);
int pl_parse_mode(const char *s, enum pl_mode *mode);
int pl_parse_scope(const char *s, enum pl_scope *scope);
int pl_parse_on_error(const char *s, int *run);
const char *pl_signal_name(int signo); /* "TERM", or NULL */

/* The PIDLOCK_* entries of an environment, found in one pass. */
struct pl_env {
#define PL_ENV_FIELD(NAME, field) char **field;
	PL_VARIABLES(PL_ENV_FIELD)
#undef PL_ENV_FIELD
	char **xdg;
};
void pl_env_scan(char **envp, struct pl_env *e);
const char *pl_env_value(char **entry); /* the part after '=', or NULL */
/* Fills cfg from e. Returns 0, or the exit status after printing one line. */
int pl_config_load(const struct pl_env *e, struct pl_config *cfg);
/* Resolves cfg->file (path or bare NAME) into cfg->path, without touching
 * the file system: a NAME's private directory is made by pl_acquire, so a
 * look such as `pidlock status` creates nothing. 0 or exit status. A
 * cluster URI is left to its backend's resolve (backend.h): path "". */
int pl_resolve_path(struct pl_config *cfg, const char *xdg, uid_t euid);
/* Sends m (with the PIDLOCK_ON_ERROR=run note when it applies); returns status. */
int pl_fail(struct pl_msg *m, const struct pl_config *cfg, int status);

/* ---- lock.c: open safely, lock, re-check the inode, write, remove ---- */
/* Takes the lock as cfg says (fail, wait, replace). Returns 0 when held,
 * PL_HELD_ELSEWHERE when another instance keeps it (exit with cfg->exit_code),
 * or a setup-error exit status; a line has been printed unless quiet. */
#define PL_HELD_ELSEWHERE (-1)
int pl_acquire(const struct pl_config *cfg, struct pl_lock *lk, uid_t euid, pid_t self);
/* ---- pidfile.c: the PID file's format, "PID\n", in one place ---- */
/* Writes "PID\n" (or, for a plugin's lock, the socket's owner); old_size is
 * the file's size if known, else -1. */
int pl_write_pid(const struct pl_lock *lk, pid_t pid, off_t old_size);
/* 1 if the file's content could be a PID file (digits and newlines, short):
 * anything else at the path is somebody's data, never rewritten. */
int pl_looks_like_pid_file(int fd, off_t size);
/* At the end of a holder's life: if the file names this process, hand it to
 * another process sharing the lock, or remove it while still locked.
 * child: the last copy this process made, named when no holder can be seen
 * (a process that dropped its privileges may no longer look at its own
 * daemon), or 0. */
void pl_tidy(const struct pl_config *cfg, const struct pl_lock *lk, pid_t self, int shared,
	     pid_t child);
/* An exec in a process that shares the lock with fork copies. If may_keep
 * and the file names this process, it is an exec of the instance itself and
 * keeps the lock (returns 1). Otherwise, in process scope, the process
 * leaves the holders as an exiting one does (hands the name on, or removes
 * the file if it was the last) and its share is closed (returns 0).
 * launcher: for a daemonised copy, the original instance, whose exit the
 * exec waits for a moment while the file still names it; else 0. */
int pl_exec_turn(const struct pl_config *cfg, const struct pl_lock *lk, pid_t self, int may_keep,
		 pid_t child, pid_t launcher);
/* 1 if the path still names the locked inode. */
int pl_path_is_lock(const char *path, const struct pl_lock *lk);

/* The PID the file holds ("digits\n"), or 0. pidfile.c. */
pid_t pl_read_pid_once(int fd);
/* The instance a held lock names, by its kind: the PID file's line, or the
 * owner of a backend's socket. 0 if none. pidfile.c. */
pid_t pl_read_pid(const struct pl_lock *lk);

/* ---- holder.c: who holds it; identity before force ---- */
/* Sleeps ms milliseconds in full (a signal does not cut it short): the
 * bounded retry loops of the library and the command. */
void pl_nap_ms(long ms);
/* The PID of a live, verified holder of the lock on (dev, ino), other than
 * `self`: the one named in the file if it holds it (retrying briefly while a
 * new holder has locked but not yet written), else any. 0 if none, -1
 * (errno) if the processes could not be examined (out of descriptors). */
pid_t pl_find_holder(int fd, dev_t dev, ino_t ino, pid_t self);
/* The holder other than self that the PID file should name (the top of the
 * holders' process tree: a master, not a worker), or 0. */
pid_t pl_top_holder(dev_t dev, ino_t ino, pid_t self);
/* Signals every verified holder of (dev, ino) except `self`, however many.
 * Returns how many, or -1 (errno) if the processes could not be examined. */
int pl_signal_holders(dev_t dev, ino_t ino, pid_t self, int signo, int verbose,
		      const char *path);
/* "PID N (cmdline)" appended to m. */
void pl_msg_holder(struct pl_msg *m, pid_t pid);

/* ---- platform_*.c: the operating system's view of processes ---- */
/* Called first with the environment the kernel laid out (or NULL). */
void plat_startup(char **initial_envp);
uid_t plat_euid(void);
int plat_secure(void); /* setuid or otherwise secure-execution process */
char **plat_environ(void);
/* 1 if pid is alive, not a zombie, and has a descriptor open on (dev, ino). */
int plat_holds(pid_t pid, dev_t dev, ino_t ino);
/* As plat_holds, but also 1 when pid is alive and we may not look at its
 * descriptors (another user's process): for leaving a name alone, never
 * for signalling. */
int plat_may_hold(pid_t pid, dev_t dev, ino_t ino);
/* Calls fn(arg, pid) for each process other than `self` that holds (dev,
 * ino), until fn returns non-zero. Returns how many it found, or -1 (errno)
 * when out of descriptors or memory: "cannot tell" is never "none". */
int plat_each_holder(dev_t dev, ino_t ino, pid_t self, int (*fn)(void *arg, pid_t pid), void *arg);
/* The parent of pid, or 0 if unknown. */
pid_t plat_parent(pid_t pid);
/* 1 inside a PID namespace other than the initial one (a container), where
 * the kernel's lock listing omits locks whose taker is not visible. */
int plat_pidns_nested(void);
/* Command line with spaces for NULs, at most n-1 bytes. Length, 0 if unknown. */
size_t plat_cmdline(pid_t pid, char *buf, size_t n);
/* Start time of pid in milliseconds since the Unix epoch, or -1. */
long long plat_start_time_ms(pid_t pid);
/* Verifies pid holds (dev, ino) and signals it without a window for PID
 * reuse where the platform allows (pidfd). 0 sent, -1 not verified/failed. */
int plat_signal_verified(pid_t pid, dev_t dev, ino_t ino, int signo);
long long plat_now_ns(void); /* monotonic clock */
/* 1 if some process holds an flock on (dev, ino), 0 if not, -1 if unknown.
 * Never takes the lock, except in a nested PID namespace where nothing else
 * can tell (then a shared request for an instant, which starters tolerate). */
int plat_is_locked(int fd, dev_t dev, ino_t ino);
/* Absolute path of the running executable into buf; length or 0. */
size_t plat_self_exe(char *buf, size_t n);
/* The command only: why the library cannot enter the program at path
 * (setuid, static, SIP...), as the end of a sentence, or NULL. */
const char *plat_unreachable(const char *path);

/* ---- procparse.c (Linux): /proc files' text, parsed without I/O ---- */
/* Field N (3 and up) of /proc/PID/stat as a decimal, or -1. */
long long pl_proc_stat_field(const char *stat, int field);
/* The boot time in seconds from /proc/stat, or -1. */
long long pl_proc_btime(const char *procstat);
/* " MAJ:MIN:INODE " as /proc/locks prints it, into want (64 bytes). */
size_t pl_proc_locks_key(char *want, dev_t dev, ino_t ino);
/* 1 if one /proc/locks line (no newline) is a held flock on key's inode. */
int pl_proc_locks_line_held(const char *line, const char *key);
/* 1 if a /proc/PID/fdinfo/N text lists a held exclusive flock. */
int pl_proc_fdinfo_holds(const char *info);
/* /proc/PID/cmdline's len bytes in buf made one line (NULs to spaces,
 * trailing NULs dropped, terminated); returns the new length. */
size_t pl_proc_cmdline(char *buf, size_t len);

/* The command's build: where `make install` put the library, tried last
 * (the Makefile's PL_LIBDIR), and Debian's platform name for the package's
 * folder (x86_64-linux-gnu, the Makefile's PL_MULTIARCH). */
#ifndef PL_LIBDIR
#define PL_LIBDIR "/usr/local/lib/pidlock"
#endif
#ifndef PL_MULTIARCH
#define PL_MULTIARCH ""
#endif
/* Where the dynamic linker splits the preload list: a library path with one
 * of these cannot be preloaded at all (ld.so(8): "separated by spaces or
 * colons"; dyld splits DYLD_INSERT_LIBRARIES on colons only). */
#ifdef __APPLE__
#define PL_PRELOAD_SEPARATORS ":"
#else
#define PL_PRELOAD_SEPARATORS ": "
#endif

#ifdef __APPLE__
#define PL_PRELOAD_VAR "DYLD_INSERT_LIBRARIES"
#define PL_LIBNAME "libpidlock.dylib"
#else
#define PL_PRELOAD_VAR "LD_PRELOAD"
#define PL_LIBNAME "libpidlock.so"
#endif

/* ---- preload.c / interpose.c: the one state of the shim in a process ---- */
struct pl_state {
	int active;            /* this process holds (a share of) the lock */
	int shared;            /* fork copies or executed descendants may share it */
	pid_t pid;             /* this process, as of the last interposed fork */
	pid_t instance;        /* the process that took (or adopted) the lock */
	int detached;          /* a fork copy that daemonised (setsid, daemon) */
	int vforked;           /* vfork() was called: a child may share this memory */
	pid_t child;           /* the last copy this process made (fork, clone...) */
	int (*clone_fn)(void *); /* clone(): the child's function, run by ours */
	void *clone_arg;
	struct pl_lock lk;
	struct pl_config cfg;
	char held[sizeof(PL_ENV(HELD)) + PATH_MAX]; /* "PIDLOCK_HELD=path" */
};
extern struct pl_state pl_state;
/* The exit path: tidy the file if this process is the one the state
 * describes (not a vfork child or a copy made behind our back). */
void pl_release(void);

/* The coverage build (scripts/coverage.sh, -DPL_COVERAGE) writes its counts
 * when a process exits; _exit and a successful exec skip that, so the paths
 * that take them write the counts first, and reset them if exec fails.
 * Nothing in any other build. */
#ifdef PL_COVERAGE
void __gcov_dump(void);
void __gcov_reset(void);
#define PL_COVERAGE_DUMP() __gcov_dump()
#define PL_COVERAGE_RESET() __gcov_reset()
#else
#define PL_COVERAGE_DUMP() ((void)0)
#define PL_COVERAGE_RESET() ((void)0)
#endif

/* ---- holder.c, added for the command and replace mode ---- */
/* 1 if pid is the calling process or one of its ancestors (walking the
 * parents up to init), else 0: a tree-scope descendant must never signal the
 * holder it descends from (DESIGN.md, guarantee 8). */
int pl_is_ancestor(pid_t pid);

/* ---- elf.c: what kind of program a file is (pidlock run; docs/platforms.md) ---- */
struct pl_elf {
	int is_elf;           /* 0: not ELF (a script, Mach-O) or damaged headers */
	int elf_class;        /* 1: 32-bit, 2: 64-bit */
	int big_endian;
	unsigned int machine; /* e_machine: 62 x86_64, 183 aarch64... */
	int dynamic;          /* names a loader (PT_INTERP); 0: static */
	char interp[256];     /* that loader's path, or "" */
};
/* Reads path's ELF header and PT_INTERP: 0 (is_elf says whether it was ELF),
 * or -1 and errno when the file cannot be read. */
int pl_elf_read(const char *path, struct pl_elf *e);
int pl_elf_is_musl(const struct pl_elf *e); /* its loader is musl's */
/* The folder name for libraries of e's machine ("arm64", "i386"...), or NULL. */
const char *pl_elf_arch(const struct pl_elf *e);
/* Same class, byte order and machine: one can preload a library of the other. */
int pl_elf_same_machine(const struct pl_elf *a, const struct pl_elf *b);

/* ---- cli.c and check.c: the command (DESIGN.md, Architecture) ---- */
/* The library `pidlock run` preloads into prog (cli.c): 0 and its path in
 * out, else the exit status (126: none built for prog's loader or machine,
 * 71: none at all), with a message on stderr unless quiet. */
int pl_find_library(const char *name, const char *prog, char *out, size_t n, int quiet);
/* pidlock check -- COMMAND [ARG]...: will the library enter COMMAND? */
int pl_cmd_check(int argc, char **argv);
/* COMMAND as execvp would find it (a path with '/', else through PATH) into
 * out: 0, or an errno (ENOENT, EACCES, ENAMETOOLONG). find.c. */
int pl_find_command(const char *cmd, char *out, size_t n);

#endif
