/* SPDX-License-Identifier: MIT */
/* pidlock: the command's own interface (shim/cmd only): its build's
 * folders, options, the lock as a target, status's rendering, the
 * subcommands, the ELF reader, pidlock check, and finding COMMAND and the
 * library that fits it.
 */
#ifndef PIDLOCK_CMD_H
#define PIDLOCK_CMD_H

#include "../core/backend.h"
#include "../core/core.h"

#include <stdio.h>
#include <sys/stat.h>

/* The command's build: where `make install` put the library, tried last
 * (the Makefile's PL_LIBDIR), and Debian's platform name for the package's
 * folder (x86_64-linux-gnu, the Makefile's PL_MULTIARCH). */
#ifndef PL_LIBDIR
#define PL_LIBDIR "/usr/local/lib/pidlock"
#endif
#ifndef PL_MULTIARCH
#define PL_MULTIARCH ""
#endif

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
int pl_elf_is_musl(const struct pl_elf *e);  /* its loader is musl's */
int pl_elf_is_glibc(const struct pl_elf *e); /* its loader is glibc's */
/* The folder name for libraries of e's machine ("arm64", "i386"...), or NULL. */
const char *pl_elf_arch(const struct pl_elf *e);
/* Same class, byte order and machine: one can preload a library of the other. */
int pl_elf_same_machine(const struct pl_elf *a, const struct pl_elf *b);

/* ---- opts.c: options and FILE, one way for every subcommand ---- */
#include <getopt.h>
/* "pidlock: WHAT ARG; try 'pidlock CMD --help'" on stderr; returns 64. */
int pl_usage_error(const char *cmd, const char *what, const char *arg);
void pl_getopt_restart(void); /* before each getopt_long loop */
/* The option as the user spelt it ("--wait=x", or "-w" out of "-qw"). */
const char *pl_opt_word(const char *word, int c, char *buf);
/* getopt_long's '?' and ':' as one usage line; 64. */
int pl_getopt_error(const char *cmd, const char *word, int c);
const char *pl_next_word(int argc, char **argv); /* the word getopt reads next */
void pl_default_config(struct pl_config *cfg);   /* as if no PIDLOCK_* were set */
int pl_set_file(const char *cmd, char *a, char **file); /* once only: 0 or 64 */
/* A NAME ending in .pid is refused with both spellings: 0 or 64. */
int pl_check_name(const char *file);
/* FILE resolved as the library resolves PIDLOCK_FILE: 0 or an exit status. */
int pl_resolve_file(struct pl_config *cfg, const char *file);
/* One option, as getopt_long returned it (word: as the user spelt it): -1
 * to go on, else the exit status. */
typedef int pl_opt_fn(void *arg, int c, const char *word);
/* Every option of argv through fn, getopt's errors as one usage line: -1
 * once options end (optind: the first operand), else the exit status. */
int pl_getopt_each(const char *cmd, int argc, char **argv, const char *shorts,
		   const struct option *opts, pl_opt_fn *fn, void *arg);
struct pl_target;
/* status and stop: FILE (operand or -f) once, other options to opt (which
 * returns -1 to go on, else the exit status), then t opened on FILE. -1 to
 * go on, else the exit status: unknown when FILE cannot be opened. */
int pl_parse_look(const char *cmd, int argc, char **argv, const char *shorts,
		  const struct option *opts, pl_opt_fn *opt, void *arg, struct pl_target *t,
		  int unknown);

/* ---- target.c: a lock, whatever its kind (file or backend) ---- */
struct pl_target {
	struct pl_config cfg;
	const struct pl_backend *be; /* NULL: a PID file */
};
/* What status shows, for a PID file and a backend's lock alike. */
struct pl_look {
	int state;          /* LSB: 0 running, 1 stale file, 3 not running, 4 unknown */
	int cluster;        /* a backend's lock: key, host, session are meant */
	int outside;        /* a file held from outside this PID namespace */
	long long pid;      /* the holder (or the PID a stale file names); 0 unknown */
	char host[64];      /* cluster: the holder's host */
	char command[1024]; /* the holder's command line, or "" */
	long long started;  /* Unix seconds, or -1 */
	long long key;      /* cluster: the lock's key */
	long long session;  /* cluster: the server's process of the holder's session */
	char holder[512];   /* cluster: the holder as the backend names it, escaped */
	char fence[24];     /* cluster: the holder's fencing token (digits), or "" */
	int identified;     /* cluster: the holder said who it is */
	char why[PATH_MAX + 128]; /* state 4: why */
};
/* Resolves arg (a path, NAME or URI; a URI's secrets blanked in argv) and,
 * for a URI, opens its backend from beside lib (NULL: the command's own
 * places). 0, or an exit status after one line. */
int pl_target_open(struct pl_target *t, char *arg, const char *lib);
/* The lock, in cfg's mode (modes.c): 0 held, PL_HELD_ELSEWHERE, or an exit
 * status after a line. advertised: what a backend's holder publishes. */
int pl_target_acquire(struct pl_target *t, struct pl_lock *lk, const char *advertised);
int pl_target_look(struct pl_target *t, struct pl_look *look); /* fills look: its state */
/* Stops every holder (modes.c) and removes what it left: 0 free, 1 not. */
int pl_target_stop(struct pl_target *t, int signo, long long timeout_ns, int quiet);

/* ---- render.c: text from outside, and status's two forms ---- */
/* Writes text someone else controls (a holder's command line, a file's #!
 * line, a server's answer) to f, escaped as the library's lines escape it
 * (pl_escape_unit, msg.c). */
void pl_put_text(FILE *f, const char *str);
/* str as a JSON string on f, valid for any bytes. */
void pl_json_str(FILE *f, const char *str);
/* look as status shows it: a line, or one JSON object (json). */
void pl_render_look(const char *path, const struct pl_look *look, int json);

/* ---- run.c, status.c, stop.c: the subcommands ---- */
int pl_cmd_run(int argc, char **argv);
int pl_cmd_status(int argc, char **argv);
int pl_cmd_stop(int argc, char **argv);
/* run's arguments into cfg and file; *cmd is COMMAND's index. -1 to go
 * on, or the exit status (0 after --help). */
int pl_parse_run(int argc, char **argv, struct pl_config *cfg, char **file, int *cmd);
/* Prepends lib to the preload list once, keeping what was there: 0 or -1. */
int pl_set_preload(const char *lib);

/* ---- find.c, check.c ---- */
/* The library `pidlock run` preloads into prog: 0 and its path in
 * out, else the exit status (126: none built for prog's loader or machine,
 * 71: none at all), with a message on stderr unless quiet. */
int pl_find_library(const char *name, const char *prog, char *out, size_t n, int quiet);
/* pidlock check -- COMMAND [ARG]...: will the library enter COMMAND? */
int pl_cmd_check(int argc, char **argv);
/* Opens the program at path for reading its headers, only if it is a
 * regular file, never blocking: the descriptor, or -1 and errno (EACCES for
 * a FIFO, a device, a directory: what exec says). find.c. */
int pl_open_program(const char *path);
/* COMMAND as execvp would find it (a path with '/', else through PATH) into
 * out: 0, or an errno (ENOENT, EACCES, ENAMETOOLONG). find.c. */
int pl_find_command(const char *cmd, char *out, size_t n);

/* ---- macho.c: a macOS program's signature (pidlock check, run's warning) ---- */
struct pl_macho {
	int is_macho;  /* a Mach-O file (thin or universal) */
	int hardened;  /* signed with the hardened runtime (CS_RUNTIME) */
	int dyld_vars; /* entitled to DYLD_ variables all the same */
};
/* 0 (is_macho says whether it was Mach-O), or -1 and errno. */
int pl_macho_read(const char *path, struct pl_macho *m);

/* ---- reach.c, reach_*.c: can the library enter a program? ----
 * One answer for `pidlock run`'s warning and `pidlock check`'s report. */
enum { PL_REACH_LOADS, PL_REACH_FD_ONLY, PL_REACH_NEVER };
struct pl_reach {
	int verdict;          /* the worst of what follows (PL_REACH_*) */
	struct stat st;
	struct pl_elf elf;
	struct pl_macho macho;
	int setid;            /* 'u' or 'g': secure-execution mode for this user; 0 */
	int is_static;        /* an ELF program with no loader */
	int caps;             /* file capabilities (Linux): 1 secure-execution mode for
			       * this user, -1 none for the real root user; 0 */
	int restricted;       /* System Integrity Protection (macOS) */
	int foreign;          /* the other system's kind of program */
	int not_program;      /* neither kind: execve cannot run it */
	int unknown_loader;   /* an ELF loader neither glibc's nor musl's */
	int unread;           /* errno: the file could not be read, only st and setid are known */
};
/* What stands between the library and the program at path: 0, or -1 and
 * errno when stat fails. */
int pl_reach(const char *path, struct pl_reach *r);
/* Why the library cannot enter a program that the inherited descriptor
 * guards instead (PL_REACH_FD_ONLY), as the end of a sentence, or NULL. */
const char *pl_reach_why(const struct pl_reach *r);

/* ---- script.c: what check reads of a script ---- */
#define PL_SHEBANG_MAX 256 /* the kernel reads no more of a "#!" line (BINPRM_BUF_SIZE) */
/* The first line of path (at most n - 1 bytes, no newline) into buf: its
 * length, or -1 and errno (also for a file that is not regular). */
long pl_script_first_line(const char *path, char *buf, size_t n);
/* What a shell script does with exec: whether a line starts with "exec" (a
 * wrapper such as a pyenv or rbenv shim, which runs another program in its
 * place), and whether its last command does (otherwise, in process scope,
 * the programs it starts neither hold nor keep the lock, and it may end
 * while they run: apache2ctl start, an init script, mysqld_safe). */
struct pl_shell {
	int execs;      /* some line starts with exec */
	int last_execs; /* the last command does */
};
void pl_script_scan(const char *path, struct pl_shell *sh);
/* The program env runs, from the words of a "#!/usr/bin/env ..." line
 * (after env itself): options and NAME=VALUE skipped, -S splitting the
 * rest as env does. The program's name into out; 0, or -1 if none. */
int pl_env_program(const char *args, char *out, size_t n);
/* The platform's part of pl_reach (reach_linux.c, reach_darwin.c): foreign,
 * not_program, unknown_loader, caps, restricted. */
void plat_reach(const char *path, struct pl_reach *r);

#endif
