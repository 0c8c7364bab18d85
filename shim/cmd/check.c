/* SPDX-License-Identifier: MIT */
/* pidlock check -- COMMAND [ARG]...: before deploying, will the pidlock
 * library enter COMMAND, and what will guard it? (DESIGN.md, Architecture)
 *
 * It follows what execve would do: COMMAND through PATH, each "#!" line to
 * its interpreter, env (and env -S) to the program env would run, up to the
 * real program. Then it says in words, one line per finding on stdout, what
 * stands between that program and the library, and exits with the worst:
 *   0  the library will load in the program and take or adopt the lock;
 *   1  `pidlock run` guards it only through the inherited descriptor, as in
 *      tree scope (static, setuid or setgid, file capabilities; on macOS
 *      System Integrity Protection or the hardened runtime);
 *   2  it cannot be guarded (another machine or loader with no library
 *      built for it, a loader neither glibc's nor musl's, a library path
 *      LD_PRELOAD cannot carry).
 * 64 usage error, 126 COMMAND not executable, 127 not found: as `run`.
 *
 * Nothing is executed: every answer comes from reading files. What a script
 * does after it starts (a pyenv-style shim that execs the real python) is
 * beyond that; check says so instead of guessing.
 *
 * Every static name here starts with ck_, so that a harness may include
 * this file beside the command's others in one translation unit.
 */
#include "cmd.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CK_LOADS PL_REACH_LOADS
#define CK_FD_ONLY PL_REACH_FD_ONLY
#define CK_NEVER PL_REACH_NEVER
#define CK_DEPTH 8     /* scripts run by scripts; Linux itself stops at 5 */

static const char ck_usage[] =
    "usage: pidlock check [--] COMMAND [ARG]...\n"
    "Says whether the pidlock library will enter COMMAND, following #! lines and\n"
    "env to the real program, one line per finding. Runs nothing.\n"
    "Exit: 0 the library will load and lock; 1 `pidlock run` guards it only through\n"
    "the inherited descriptor (static, setuid/setgid, file capabilities, macOS\n"
    "SIP or hardened runtime); 2 it cannot be guarded (another machine or loader\n"
    "with no library for it, a loader neither glibc's nor musl's, a library path\n"
    "LD_PRELOAD cannot carry); 64 usage error; 126 not executable; 127 not found.\n";

/* One finding: "WHAT: words". */
static void ck_say(const char *what, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void ck_say(const char *what, const char *fmt, ...)
{
	/* Paths and #! lines come from files someone else may have written:
	 * the line is escaped as the rest of pidlock's output is (msg.c). */
	char line[4096];
	va_list ap;
	va_start(ap, fmt);
	int n = snprintf(line, sizeof(line), "%s: ", what);
	if (n >= 0 && (size_t)n < sizeof(line))
		vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	va_end(ap);
	pl_put_text(stdout, line);
	putchar('\n');
}

static const char *ck_base(const char *path)
{
	const char *s = strrchr(path, '/');
	return s ? s + 1 : path;
}

/* Why exec refuses path when it is no regular file ("is a FIFO, not a
 * regular file"), or NULL. */
static const char *ck_not_regular(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && !S_ISREG(st.st_mode) ? pl_file_kind(st.st_mode) : NULL;
}

/* The library `pidlock run` would preload, and whether that is the one the
 * program needs: the verdict, r's (LOADS or FD_ONLY) at best. */
static int ck_library(const char *prog, const char *first, const struct pl_reach *r)
{
	int worst = r->verdict;
	/* The library `pidlock run` would preload: it chooses by the file it
	 * executes, COMMAND itself, which for a script is not this program. */
	char lib[PATH_MAX], lib_run[PATH_MAX];
	int err = pl_find_library(ck_base(prog), prog, lib, sizeof(lib), 1);
	if (err == 126) {
#ifndef __APPLE__
		/* The folder find_library looked in, named as it names it. */
		const struct pl_elf *e = &r->elf;
		const char *arch = pl_elf_arch(e);
		char exe[PATH_MAX], sub[64];
		struct pl_elf self;
		int same = plat_self_exe(exe, sizeof(exe)) && pl_elf_read(exe, &self) == 0 &&
			   pl_elf_same_machine(&self, e);
		if (same)
			snprintf(sub, sizeof(sub), "%s", pl_elf_is_musl(e) ? "musl" : "glibc");
		else
			snprintf(sub, sizeof(sub), "%s%s", arch ? arch : "unknown",
				 pl_elf_is_musl(e) ? "-musl" : "");
		ck_say(prog, "no pidlock library built for its loader %s is installed (%s/%s beside "
			     "the command's own, docs/platforms.md): `pidlock run` refuses it",
		       e->interp, sub, PL_LIBNAME);
#endif
		return CK_NEVER;
	}
	if (err) {
		ck_say(prog, "no pidlock library (%s) next to this command or where it is "
			     "installed: `pidlock run` refuses every program",
		       PL_LIBNAME);
		return CK_NEVER;
	}
	if (strpbrk(lib, PL_PRELOAD_SEPARATORS)) {
		ck_say(lib, "has a space or a colon, where %s splits its list: it cannot be "
			    "preloaded; install pidlock under a path without them",
		       PL_PRELOAD_VAR);
		return CK_NEVER;
	}
	if (first && pl_find_library(ck_base(first), first, lib_run, sizeof(lib_run), 1) == 0 &&
	    strcmp(lib, lib_run) != 0) {
		ck_say(prog, "needs %s, but `pidlock run` chooses by the script it executes and "
			     "would preload %s; run the interpreter itself: pidlock run -f FILE -- %s "
			     "SCRIPT",
		       lib, lib_run, prog);
		return CK_NEVER;
	}
	if (worst == CK_LOADS)
		ck_say(prog, "the loader will preload %s, which takes or adopts the lock", lib);
	return worst;
}

/* ---- the program itself ---- */

/* What kind of program it is, as one finding (pl_reach said which). */
static void ck_kind(const char *prog, const struct pl_reach *r)
{
	const char *arch = pl_elf_arch(&r->elf);
	if (r->foreign && r->macho.is_macho)
		ck_say(prog, "a macOS (Mach-O) program: it does not run on this system");
	else if (r->foreign)
		ck_say(prog, "a Linux (ELF) program: it does not run on this system");
	else if (r->not_program)
		ck_say(prog, "neither a program (ELF) nor a script with a #! line: "
			     "execve cannot run it");
	else if (r->is_static)
		ck_say(prog, "a statically linked %s program: no dynamic loader, so nothing can "
			     "preload the library; `pidlock run` holds the lock for it through the "
			     "inherited descriptor, as in tree scope",
		       arch ? arch : "ELF");
	else if (r->unknown_loader)
		ck_say(prog, "its loader %s is neither glibc's nor musl's: the pidlock library is "
			     "built for those two only",
		       r->elf.interp);
	else if (r->elf.is_elf)
		ck_say(prog, "a dynamically linked %s program for %s (loader %s)", arch ? arch : "ELF",
		       pl_elf_is_musl(&r->elf) ? "musl" : "glibc", r->elf.interp);
	else if (r->macho.is_macho && !r->macho.hardened)
		ck_say(prog, "a macOS program; its loader is dyld");
}

/* What keeps the loader from preloading anything, one finding each. */
static void ck_guards(const char *prog, const struct pl_reach *r)
{
	if (r->restricted)
		ck_say(prog, "is protected by System Integrity Protection: dyld drops "
			     "DYLD_INSERT_LIBRARIES for it");
	if (r->macho.hardened && !r->macho.dyld_vars)
		ck_say(prog, "is signed with the hardened runtime and not entitled to "
			     "DYLD_ environment variables: dyld ignores DYLD_INSERT_LIBRARIES");
	else if (r->macho.hardened)
		ck_say(prog, "uses the hardened runtime but is entitled to DYLD_ variables "
			     "(allow-dyld-environment-variables)");
	if (r->setid)
		ck_say(prog, "is set%cid (owner %ld, group %ld): it runs in secure-execution mode, "
			     "where the loader ignores %s; guarded through the inherited descriptor",
		       r->setid, (long)r->st.st_uid, (long)r->st.st_gid, PL_PRELOAD_VAR);
	if (r->caps > 0)
		ck_say(prog, "has file capabilities (security.capability): a user other than root "
			     "runs it in secure-execution mode, where the loader ignores %s; "
			     "guarded through the inherited descriptor",
		       PL_PRELOAD_VAR);
	else if (r->caps < 0)
		ck_say(prog, "has file capabilities (security.capability), which put the loader in "
			     "secure-execution mode for users other than root only");
}

/* The findings for the real program, PROG, reached through the script
 * FIRST (NULL when COMMAND is PROG itself); the verdict. */
static int ck_program(const char *prog, const char *first)
{
	struct pl_reach r;
	if (pl_reach(prog, &r) != 0) {
		ck_say(prog, "cannot be examined: %s", strerror(errno));
		return CK_NEVER;
	}
	if (r.unread) {
		ck_say(prog, "cannot be read: %s", strerror(r.unread));
		return CK_NEVER;
	}
	ck_kind(prog, &r);
	if (r.verdict == PL_REACH_NEVER)
		return CK_NEVER;
	ck_guards(prog, &r);
	return ck_library(prog, first, &r);
}

static int ck_opt(void *arg, int c, const char *word)
{
	(void)arg;
	(void)c; /* 'h', the only one */
	(void)word;
	fputs(ck_usage, stdout);
	return 0;
}

int pl_cmd_check(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	/* "+": options end at COMMAND, whose own options are its own. */
	int r = pl_getopt_each("check", argc, argv, "+:h", opts, ck_opt, NULL);
	if (r >= 0)
		return r;
	int i = optind;
	if (i >= argc)
		return pl_usage_error("check", "missing COMMAND", NULL);

	char first[PATH_MAX], prog[PATH_MAX], next[PATH_MAX];
	int err = pl_find_command(argv[i], first, sizeof(first));
	if (err) {
		ck_say(argv[i], "%s", err == ENOENT ? "command not found" : strerror(err));
		return err == ENOENT ? 127 : 126;
	}
	if (access(first, X_OK) != 0) {
		ck_say(first, "cannot be executed: %s", strerror(errno));
		return 126;
	}
	memcpy(prog, first, sizeof(prog));
	int via_shell_exec = 0;
	for (int depth = 0;; depth++) {
		char line[PL_SHEBANG_MAX];
		if (pl_script_first_line(prog, line, sizeof(line)) < 0) {
			const char *kind = ck_not_regular(prog);
			if (kind)
				ck_say(prog, "%s: execve refuses to run it", kind);
			else
				ck_say(prog, "cannot be read: %s", strerror(errno));
			return 126;
		}
		if (strncmp(line, "#!", 2) != 0)
			break;
		if (depth == CK_DEPTH) {
			ck_say(prog, "too many #! interpreters in a row: the kernel refuses to run it");
			return CK_NEVER;
		}
		/* "#!INTERP [ARG]": the kernel passes ARG, if any, as one word. */
		char *interp = line + 2 + strspn(line + 2, " \t");
		char *arg = interp + strcspn(interp, " \t");
		if (*arg) {
			*arg++ = '\0';
			arg += strspn(arg, " \t");
			for (size_t n = strlen(arg); n && (arg[n - 1] == ' ' || arg[n - 1] == '\t' ||
							   arg[n - 1] == '\r');
			     n--)
				arg[n - 1] = '\0';
		}
		if (!*interp) {
			ck_say(prog, "a script whose #! line names no interpreter");
			return CK_NEVER;
		}
		const char *b = ck_base(interp);
		int shell = strcmp(b, "sh") == 0 || strcmp(b, "bash") == 0 || strcmp(b, "dash") == 0 ||
			    strcmp(b, "zsh") == 0 || strcmp(b, "ksh") == 0;
		if (strcmp(b, "env") == 0) {
			char name[PL_SHEBANG_MAX];
			if (pl_env_program(arg, name, sizeof(name))) {
				ck_say(prog, "a script run by %s with no program to run", interp);
				return CK_NEVER;
			}
			err = pl_find_command(name, next, sizeof(next));
			if (err) {
				ck_say(prog, "a script for %s %s, which runs %s: %s", interp, arg, name,
				       err == ENOENT ? "not found in PATH" : strerror(err));
				return err == ENOENT ? 127 : 126;
			}
			ck_say(prog, "a script for %s %s, which runs %s", interp, arg, next);
			b = ck_base(next);
			shell = strcmp(b, "sh") == 0 || strcmp(b, "bash") == 0 ||
				strcmp(b, "dash") == 0 || strcmp(b, "zsh") == 0 || strcmp(b, "ksh") == 0;
		} else {
			if ((size_t)snprintf(next, sizeof(next), "%s", interp) >= sizeof(next) ||
			    access(next, X_OK) != 0) {
				ck_say(prog, "a script for %s, which cannot be executed: %s", interp,
				       strerror(errno));
				return 126;
			}
			ck_say(prog, "a script for %s%s%s", interp, *arg ? " " : "", arg);
		}
		struct pl_shell sh = {0, 0};
		if (shell)
			pl_script_scan(prog, &sh);
		if (sh.execs) {
			ck_say(prog, "a shell script that execs another program (a shim such as "
				     "pyenv's): check follows its #! line only; the lock passes "
				     "through that exec, but check the program it runs too");
			via_shell_exec = 1;
		}
		if (shell && !sh.last_execs)
			ck_say(prog, "a shell script whose last command is not exec: in process scope "
				     "the programs it starts do not keep the lock, which ends with the "
				     "script while they may still run (a server it starts, as "
				     "apache2ctl start does); use --scope tree to keep them guarded");
		memcpy(prog, next, sizeof(prog));
	}
	int verdict = ck_program(prog, strcmp(prog, first) != 0 ? first : NULL);
	static const char *const words[] = {
	    "the pidlock library will enter it and lock",
	    "guarded only through the descriptor `pidlock run` passes on, as in tree scope",
	    "it cannot be guarded",
	};
	printf("verdict %d: %s%s\n", verdict, words[verdict],
	       via_shell_exec && verdict == CK_LOADS ? " (as far as the #! line goes)" : "");
	return verdict;
}
