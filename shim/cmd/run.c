/* SPDX-License-Identifier: MIT */
/* pidlock run: takes the lock itself and then executes COMMAND in the same
 * process, so no wrapper stays behind and the PID file names the command.
 * The lock is held before exec, which also guards programs the library
 * cannot enter (static binaries, setuid programs): their inherited
 * descriptor keeps it.
 */
#include "cmd.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char usage_run[] =
    "usage: pidlock run [options] -f FILE [--] COMMAND [ARG]...\n"
    "Takes the lock on FILE, writes the PID, then executes COMMAND in this same\n"
    "process with the pidlock library preloaded.\n"
    "  -f, --file FILE      the PID file (a path, or a NAME)\n"
    "  -w, --wait[=SECS]    wait for the running instance to end (at most SECS)\n"
    "  -r, --replace[=SECS] stop the running instance first (SIGKILL after SECS, default 10)\n"
    "  -s, --signal SIG     first signal for --replace (default TERM)\n"
    "  -E, --exit-code N    exit status when another instance runs (default 75)\n"
    "      --scope process|tree   whether executed children keep the lock (default process)\n"
    "      --on-error fail|run    when the lock cannot be set up (default fail)\n"
    "      --label LABEL          cluster mode: what the holder publishes on the\n"
    "                             server after its PID and host (default: the\n"
    "                             program's name; cmdline: the whole command line)\n"
    "  -q, --quiet          no message when another instance runs, no static/setuid warning\n"
    "  -v, --verbose        one line per step on stderr\n"
    "SECS is seconds, decimals allowed. -w and -r take it as -w 5, -w5, --wait=5 or\n"
    "--wait 5; a bare -w waits forever, a bare -r gives 10 s. A word after -w or -r\n"
    "that is not SECS is refused, never run: put -- before COMMAND.\n"
    "Exit: COMMAND's own status, or 75 (or -E N) another instance runs; 64 usage\n"
    "error; 71 system error or a library path LD_PRELOAD cannot carry; 73 the PID\n"
    "file cannot be created or is unsafe; 78 invalid configuration; 126 COMMAND not\n"
    "executable; 127 COMMAND not found.\n";


/* -w and -r take an optional SECS. getopt gives the attached forms (-w5,
 * --wait=5); the separate one (-w 5, --wait 5), which flock(1) users write,
 * is taken here: the next word, when it is a duration. A next word that is
 * neither a duration nor an option is refused, for it would otherwise become
 * the command to run (pidlock(1): no form ever does that). 0 or 64. */
static int mode_secs(int argc, char **argv, const char *word, int c, long long *ns)
{
	char buf[3];
	const char *name = pl_opt_word(word, c, buf);
	if (optarg) {
		if (pl_parse_duration(optarg, ns))
			return pl_usage_error("run", "expected seconds (such as 5 or 0.5) for", name);
		return 0;
	}
	if (optind >= argc || argv[optind][0] == '-')
		return 0; /* bare: the default; "--", "-f" or another option follows */
	if (pl_parse_duration(argv[optind], ns) == 0) {
		optind++;
		return 0;
	}
	fprintf(stderr,
		"pidlock: %s %s: not a number of seconds; put -- before COMMAND; try 'pidlock "
		"run --help'\n",
		name, argv[optind]);
	return PL_EX_USAGE;
}


enum { OPT_SCOPE = 256, OPT_ON_ERROR, OPT_LABEL };

/* What run's getopt loop carries from one option to the next. */
struct run_parse {
	int argc;
	char **argv;
	struct pl_config *cfg;
	char **file;
	int mode_opt; /* 'w' or 'r' once one was given: they exclude each other */
};

/* -w and -r: the mode, its default time, and SECS if given. 0 or 64. */
static int run_mode(struct run_parse *p, const char *word, int c)
{
	char buf[3];
	if (p->mode_opt && p->mode_opt != c)
		return pl_usage_error("run", "--wait and --replace exclude each other:",
				      pl_opt_word(word, c, buf));
	p->mode_opt = c;
	p->cfg->mode = c == 'w' ? PL_MODE_WAIT : PL_MODE_REPLACE;
	p->cfg->timeout_ns = c == 'w' ? PL_FOREVER : 10 * 1000000000LL;
	return mode_secs(p->argc, p->argv, word, c, &p->cfg->timeout_ns) ? PL_EX_USAGE : 0;
}

/* One option of run (word: as spelt). -1 to go on, else the exit status. */
static int run_opt(void *arg, int c, const char *word)
{
	struct run_parse *p = arg;
	struct pl_config *cfg = p->cfg;
	char buf[3];
	unsigned long n;
	switch (c) {
	case 'h':
		fputs(usage_run, stdout);
		return 0;
	case 'q':
		cfg->quiet = 1;
		return -1;
	case 'v':
		cfg->verbose = 1;
		return -1;
	case 'f':
		return pl_set_file("run", optarg, p->file) ? PL_EX_USAGE : -1;
	case 'w':
	case 'r':
		return run_mode(p, word, c) ? PL_EX_USAGE : -1;
	case 's':
		if (pl_parse_signal(optarg, &cfg->signo))
			return pl_usage_error("run", "expected a signal name or number for",
					      pl_opt_word(word, c, buf));
		return -1;
	case 'E':
		if (pl_parse_uint(optarg, 255, &n))
			return pl_usage_error("run", "expected 0 to 255 for", pl_opt_word(word, c, buf));
		cfg->exit_code = (int)n;
		return -1;
	case OPT_SCOPE:
		return pl_parse_scope(optarg, &cfg->scope)
			   ? pl_usage_error("run", "expected process or tree for", word)
			   : -1;
	case OPT_ON_ERROR:
		return pl_parse_on_error(optarg, &cfg->on_error_run)
			   ? pl_usage_error("run", "expected fail or run for", word)
			   : -1;
	default: /* OPT_LABEL: getopt_long returns nothing else */
		if (pl_parse_label(optarg))
			return pl_usage_error("run", "expected cmdline or 1 to 64 printable ASCII "
						     "characters for",
					      word);
		cfg->label = optarg;
		return -1;
	}
}

int pl_parse_run(int argc, char **argv, struct pl_config *cfg, char **file, int *cmd)
{
	static const struct option opts[] = {
	    {"file", required_argument, NULL, 'f'},
	    {"wait", optional_argument, NULL, 'w'},
	    {"replace", optional_argument, NULL, 'r'},
	    {"signal", required_argument, NULL, 's'},
	    {"exit-code", required_argument, NULL, 'E'},
	    {"scope", required_argument, NULL, OPT_SCOPE},
	    {"on-error", required_argument, NULL, OPT_ON_ERROR},
	    {"label", required_argument, NULL, OPT_LABEL},
	    {"quiet", no_argument, NULL, 'q'},
	    {"verbose", no_argument, NULL, 'v'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct run_parse p = {argc, argv, cfg, file, 0};
	*file = NULL;
	/* "+": options end at the first word that is not one (COMMAND);
	 * ":": missing values come back as ':' for our own message. */
	int r = pl_getopt_each("run", argc, argv, "+:f:w::r::s:E:qvh", opts, run_opt, &p);
	if (r >= 0)
		return r;
	if (!*file)
		return pl_usage_error("run", "missing -f FILE", NULL);
	if (optind >= argc)
		return pl_usage_error("run", "missing COMMAND", NULL);
	*cmd = optind;
	return -1;
}

/* Prepends the library to the preload list once, keeping what was there. */
int pl_set_preload(const char *lib)
{
	const char *old = getenv(PL_PRELOAD_VAR);
	if (!old || !*old)
		return setenv(PL_PRELOAD_VAR, lib, 1);
	size_t ll = strlen(lib);
	for (const char *p = old; (p = strstr(p, lib)); p += ll) {
		int starts = p == old || p[-1] == ':' || p[-1] == ' ';
		int ends = p[ll] == '\0' || p[ll] == ':' || p[ll] == ' ';
		if (starts && ends)
			return 0;
	}
	size_t n = ll + 1 + strlen(old) + 1;
	char *v = malloc(n);
	if (!v)
		return -1;
	snprintf(v, n, "%s:%s", lib, old);
	int r = setenv(PL_PRELOAD_VAR, v, 1);
	free(v);
	return r;
}

static void unset_ours(void)
{
#define PL_NAME(NAME, field) PL_ENV(NAME),
	static const char *const names[] = {PL_VARIABLES(PL_NAME)};
#undef PL_NAME
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		unsetenv(names[i]);
}

/* The environment the shim in COMMAND adopts the lock from: the same names
 * an exec of the instance itself passes (see interpose.c). */
static int export_lock(const struct pl_config *cfg, const struct pl_lock *lk)
{
	char tok[PL_TOKEN_MAX];
	struct pl_token t = {getpid(), lk->fd, lk->dev, lk->ino, cfg->scope == PL_SCOPE_TREE,
			     cfg->scope == PL_SCOPE_TREE};
	pl_token_format(tok, &t);
	unset_ours();
	return setenv(PL_ENV(HELD), cfg->path, 1) || setenv(PL_ENV(EXEC), tok + sizeof(PL_ENV(EXEC)), 1) ||
	       setenv(PL_ENV(SCOPE), cfg->scope == PL_SCOPE_TREE ? "tree" : "process", 1) ||
	       setenv(PL_ENV(VERBOSE), cfg->verbose ? "1" : "0", 1) ||
	       setenv(PL_ENV(QUIET), cfg->quiet ? "1" : "0", 1);
}

/* COMMAND found as execvp finds it, executable, and the library that fits
 * it, into prog and lib: 0, or the exit status after one line (127 not
 * found, 126 not executable or no library for it, 71 a library path the
 * preload list cannot carry). */
static int find_program(char **cmd, char *prog, char *lib)
{
	int err = pl_find_command(cmd[0], prog, PATH_MAX);
	if (err) {
		fprintf(stderr, "pidlock: %s: %s\n", cmd[0],
			err == ENOENT ? "command not found" : strerror(err));
		return err == ENOENT ? 127 : 126;
	}
	/* Exec refuses what is not a regular file (a FIFO, a device) at once;
	 * so does run, before it takes the lock, and without opening it. */
	int pfd = pl_open_program(prog);
	if (pfd < 0) {
		struct stat st;
		err = errno;
		if (stat(prog, &st) == 0 && !S_ISREG(st.st_mode))
			fprintf(stderr, "pidlock: %s: %s: exec refuses to run it\n", cmd[0],
				pl_file_kind(st.st_mode));
		else
			fprintf(stderr, "pidlock: %s: %s\n", cmd[0], strerror(err));
		return err == ENOENT ? 127 : 126;
	}
	close(pfd);
	if ((err = pl_find_library(cmd[0], prog, lib, PATH_MAX, 0)))
		return err;
	/* The loader would split the path and preload nothing: the program
	 * would run unguarded beside loader errors. An installation problem,
	 * so 71 (EX_OSERR), before anything is locked or run. */
	if (strpbrk(lib, PL_PRELOAD_SEPARATORS)) {
		fprintf(stderr,
			"pidlock: %s: cannot be preloaded: %s splits its list at spaces and colons; "
			"install pidlock under a path without them\n",
			lib, PL_PRELOAD_VAR);
		return PL_EX_OSERR;
	}
	return 0;
}

/* The environment COMMAND's library adopts the lock from, after the
 * warning for a program it cannot enter. 0, or 71 after one line. */
static int hand_over(const struct pl_target *t, const struct pl_lock *lk, const char *lib,
		     const char *prog, const char *name)
{
	const struct pl_config *cfg = &t->cfg;
	struct pl_reach reach;
	const char *why = pl_reach(prog, &reach) == 0 ? pl_reach_why(&reach) : NULL;
	if (why && !cfg->quiet)
		fprintf(stderr,
			"pidlock: warning: %s %s; the lock is held through the inherited "
			"descriptor instead, as in tree scope\n",
			name, why);
	if (export_lock(cfg, lk) || pl_set_preload(lib)) {
		fprintf(stderr, "pidlock: cannot set the environment: %s\n", strerror(errno));
		return PL_EX_OSERR;
	}
	if (t->be && t->be->publish)
		t->be->publish(); /* PIDLOCK_FENCE, after export_lock cleared ours */
	/* The one descriptor COMMAND must inherit; its library sets
	 * close-on-exec again in process scope. */
	fcntl(lk->fd, F_SETFD, 0);
	if (cfg->verbose)
		fprintf(stderr, "pidlock: %s: acquired by PID %ld\n", cfg->path, (long)getpid());
	return 0;
}

int pl_cmd_run(int argc, char **argv)
{
	struct pl_target t;
	pl_default_config(&t.cfg);
	char *file = NULL, lib[PATH_MAX], prog[PATH_MAX];
	int i = 0;
	int r = pl_parse_run(argc, argv, &t.cfg, &file, &i);
	if (r >= 0 || !file) /* file is set whenever parsing goes on */
		return r >= 0 ? r : PL_EX_USAGE;
	if (pl_check_name(file))
		return PL_EX_USAGE;
	char **cmd = argv + i;
	if ((r = find_program(cmd, prog, lib)))
		return r;
	char what[256] = ""; /* a backend's holder advertises COMMAND, not this command line */
	for (size_t k = 0, n = 0; cmd[k] && n < sizeof(what) - 1; k++)
		n += (size_t)snprintf(what + n, sizeof(what) - n, "%s%s", k ? " " : "", cmd[k]);
	struct pl_lock lk = {-1, 0, 0, PL_LOCK_FILE};
	r = pl_target_open(&t, file, lib);
	if (!r)
		r = pl_target_acquire(&t, &lk, what);
	if (r == PL_HELD_ELSEWHERE)
		return t.cfg.exit_code;
	if (r && !t.cfg.on_error_run)
		return r;
	if (r)
		unset_ours(); /* unguarded, as asked: the warning has been printed */
	else if ((r = hand_over(&t, &lk, lib, prog, cmd[0])))
		return r;
	PL_COVERAGE_DUMP();
	execv(prog, cmd);
	PL_COVERAGE_RESET();
	int err = errno;
	fprintf(stderr, "pidlock: %s: %s\n", cmd[0], strerror(err));
	if (lk.fd >= 0)
		pl_tidy(&t.cfg, &lk, getpid(), 0, 0);
	return err == ENOENT ? 127 : 126;
}
