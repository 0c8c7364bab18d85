/* SPDX-License-Identifier: MIT */
/* pidlock: the core's interface for the library (shim/lib) and the command
 * (shim/cmd): the exec token, the parsers, the lock, the PID file, the
 * hand-over, the holders and the platform. Plugins never include it: they see
 * pidlock.h, backend.h and sys.h only (scripts/check-layout.sh).
 */
#ifndef PIDLOCK_CORE_H
#define PIDLOCK_CORE_H

#include "pidlock.h"

#include <sys/stat.h>

/* ---- token.c: the exec token, PIDLOCK_EXEC=PID:FD:DEV:INO:FLAGS ---- */
/* FLAGS: 1 copies may share the lock, 2 tree scope (carried here, not only
 * in PIDLOCK_SCOPE, because a program may rebuild its children's
 * environment: nginx's new master after an in-place upgrade). */
struct pl_token {
	pid_t pid;
	int fd;
	dev_t dev;
	ino_t ino;
	int shared;
	int tree;
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
/* A PIDLOCK_LABEL: cmdline, or 1 to PL_LABEL_MAX printable ASCII bytes. */
int pl_parse_label(const char *s);
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
int pl_acquire(const struct pl_config *cfg, struct pl_lock *lk, uid_t euid, pid_t self);
/* ---- filesession.c: the PID file's lock as a session of the mode driver ---- */
#include "backend.h"
struct pl_file_session {
	struct pl_session s;        /* what modes.c drives */
	const struct pl_config *cfg;
	int fd;                     /* the descriptor being locked */
	dev_t dev;
	ino_t ino;
	pid_t self;
	int err;                    /* errno of the last failure, for messages */
	unsigned long long ticket;  /* replace: this request's place, 0 before it asks */
	int reg[8], nreg;           /* the descriptors it registered on, oldest first */
};
void pl_file_session_init(struct pl_file_session *fs, const struct pl_config *cfg, pid_t self);
/* The descriptor of the next try (after a holder removed the file, a new one). */
void pl_file_session_use(struct pl_file_session *fs, int fd, dev_t dev, ino_t ino);
/* The modes (modes.c, pl_take) once the first try failed; as pl_take. */
int pl_file_take(struct pl_file_session *fs);
/* 1 if a newer replace request has come. */
int pl_file_overtaken(const struct pl_file_session *fs);
/* 1 if fd is one of the request's registered descriptors (kept across tries). */
int pl_file_session_registered(const struct pl_file_session *fs, int fd);
/* The lock is ours: the registrations go, every other descriptor with them. */
void pl_file_session_done(struct pl_file_session *fs, int keep);

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
/* An exec in a process that shares the lock with fork copies. In process
 * scope, keep (decided by the library: an exec of the instance itself, a
 * daemon's) keeps the share (returns 1); otherwise the process leaves the
 * holders as an exiting one does (hands the name on, or removes the file if
 * it was the last) and its share is closed (returns 0). In tree scope
 * nobody leaves; 1 if the file names this process. */
int pl_exec_turn(const struct pl_config *cfg, const struct pl_lock *lk, pid_t self, int keep,
		 pid_t child);
/* After a privilege drop the holder may no longer remove the file (its
 * directory is not its own any more): starts a small process, still
 * privileged, that waits for the lock to be free and then removes the file
 * if the last holder left it marked as a clean exit (pl_write_clean_exit).
 * Its PID, or 0 (Linux only). handover.c. */
pid_t pl_tidy_later(const struct pl_config *cfg, const struct pl_lock *lk);
/* The process the file names announces that its exit has begun, in the
 * lock's shared file offset (handover.c says why); pl_leaving reads who
 * last did, or 0. */
void pl_mark_leaving(const struct pl_lock *lk, pid_t self);
pid_t pl_leaving(const struct pl_lock *lk);
/* 1 if the path still names the locked inode. */
int pl_path_is_lock(const char *path, const struct pl_lock *lk);

/* The mark of a clean exit that could not remove the file ("PID\n\n"), and
 * whether fd's file holds it. pidfile.c. */
int pl_write_clean_exit(const struct pl_lock *lk, pid_t pid);
int pl_is_clean_exit(int fd);

/* ---- walk.c: the path, walked one directory at a time (guarantee 9) ---- */
struct pl_walk {
	int dir;          /* the file's directory, held open (O_PATH), or -1 */
	const char *name; /* the file's own name in it: the path's last component */
	int shared;       /* that directory is sticky and shared: the file must be the caller's */
	size_t bad;       /* refused: the path's first `bad` bytes name the component */
	const char *why;  /* refused: ": what is wrong with it" */
};
#define PL_WALK_CHECK 1
/* Reaches the directory of path (absolute, normalised). With PL_WALK_CHECK,
 * from the top, each directory opened relative to the one before without
 * following a link and checked on the inode held: refused if it is a link,
 * or if someone other than euid and root can change its entries (writable
 * by group or others and not sticky; sticky but owned by another user;
 * inside a shared sticky directory and not euid's or root's). Without it,
 * one open that may follow links, for a look, or for a name then checked
 * against a lock's inode. 0 (w->dir open; close with pl_walk_close), 1
 * refused (w->bad, w->why), or -1 and errno (a directory missing, not
 * searchable, out of descriptors; EAGAIN: a directory was renamed during
 * the walk, walk again). */
int pl_walk(const char *path, uid_t euid, int flags, struct pl_walk *w);
void pl_walk_close(struct pl_walk *w);
/* openat of the file in the walked directory, never following a link. */
int pl_walk_open(const struct pl_walk *w, int flags, mode_t mode);
/* Looks at the file without opening it for I/O (O_PATH): 0 with st, and
 * *what saying why it is no PID file to open (a link, not a regular file,
 * a file of a pseudo file system), else NULL; -1 and errno. */
int pl_walk_look(const struct pl_walk *w, struct stat *st, const char **what);
/* Removes the file at path if it is lk's: the name, in the directory
 * reached, is lk's inode with a single link, and is removed in that same
 * directory (unlinkat). 1 removed, 0 left (not lk's, or gone), -1 errno. */
int pl_remove_lock(const char *path, const struct pl_lock *lk);
/* A descriptor of our own on lk's file (openat with flags, after a look
 * that shows lk's inode), or -1 and errno (ENOENT: the path no longer
 * names it). */
int pl_reopen_lock(const char *path, const struct pl_lock *lk, int flags);
/* "is a FIFO, not a regular file", ... for a refusal line. */
const char *pl_file_kind(mode_t mode);

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
/* Signals every verified holder of (dev, ino) except `self` and those skip
 * (when given) says to pass by, however many.
 * Returns how many, or -1 (errno) if the processes could not be examined. */
int pl_signal_holders(dev_t dev, ino_t ino, pid_t self, int signo, int verbose, const char *path,
		      int (*skip)(void *arg, pid_t pid), void *skip_arg);
/* "PID N (cmdline)" appended to m. */
void pl_msg_holder(struct pl_msg *m, pid_t pid);

/* ---- platform_*.c: the operating system's view of processes ---- */
/* Called first with the environment the kernel laid out (or NULL). */
void plat_startup(char **initial_envp);
uid_t plat_euid(void);
int plat_secure(void); /* setuid or otherwise secure-execution process */
char **plat_environ(void);
/* Calls fn(arg, pid) for each live process other than self whose
 * environment holds exactly the entry given ("PIDLOCK_HELD=/run/x.pid"):
 * programs an instance started. Returns how many, 0 where the platform
 * cannot tell. */
int plat_each_marked(const char *entry, pid_t self, int (*fn)(void *arg, pid_t pid), void *arg);
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


#endif
