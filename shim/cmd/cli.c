/* The pidlock command: run, status and stop, on the same core as the shim.
 *
 * `run` takes the lock itself and then executes the command in the same
 * process, so no wrapper stays behind and the PID file names the command. The
 * lock is held before exec, which also guards programs the shim cannot enter
 * (static binaries, setuid programs): their inherited descriptor keeps it.
 */
#include "../core/backend.h"
#include "cmd.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>


extern char **environ;

static const char usage_main[] =
    "usage: pidlock run [options] -f FILE [--] COMMAND [ARG]...\n"
    "       pidlock status [-q|--json] [--] FILE\n"
    "       pidlock stop [-s SIG] [-t SECS] [-q] [--] FILE\n"
    "       pidlock check [--] COMMAND [ARG]...\n"
    "       pidlock --help | --version\n"
    "\n"
    "Keeps a program single-instance with an exclusive lock on a PID file.\n"
    "FILE is a path, or a NAME for $XDG_RUNTIME_DIR/NAME.pid, or, for a lock\n"
    "across machines, a URI postgresql://USER@HOST/DB#NAME (PostgreSQL) or\n"
    "mysql://USER@HOST/#NAME (MySQL, MariaDB). A NAME may not end in .pid: write\n"
    "./app.pid for a file in this directory.\n"
    "'pidlock COMMAND --help' describes each command; see also pidlock(1).\n";

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

static const char usage_status[] =
    "usage: pidlock status [-q|--quiet] [--json] [--] FILE\n"
    "Shows who holds the lock on FILE, without ever taking it.\n"
    "  -q, --quiet          print nothing: the exit status says it\n"
    "      --json           one JSON object on stdout\n"
    "Exit (LSB): 0 running (also outside this PID namespace), 1 not running but the\n"
    "PID file exists, 3 not running, 4 unknown; 64 usage error.\n";

static const char usage_stop[] =
    "usage: pidlock stop [-s SIG] [-t SECS] [-q] [--] FILE\n"
    "Signals every process that holds the lock on FILE (verified first), waits for\n"
    "the lock to be free, sends SIGKILL after SECS, then removes the PID file.\n"
    "  -s, --signal SIG     the first signal (default TERM)\n"
    "  -t, --timeout SECS   time before SIGKILL (default 10)\n"
    "  -q, --quiet          no message about the instance (the exit status says it)\n"
    "Exit: 0 the lock is free (also when nothing ran), 1 it could not be stopped\n"
    "(or runs outside this PID namespace, or is an ancestor of this command);\n"
    "64 usage error.\n";

static int usage_error(const char *cmd, const char *what, const char *arg)
{
	fprintf(stderr, "pidlock: %s%s%s; try 'pidlock %s%s--help'\n", what, arg ? " " : "",
		arg ? arg : "", cmd ? cmd : "", cmd ? " " : "");
	return PL_EX_USAGE;
}

/* getopt keeps its state in globals; the command parses once, the fuzzing
 * harness many times. */
static void getopt_restart(void)
{
#ifdef __APPLE__
	extern int optreset;
	optreset = 1;
	optind = 1;
#else
	optind = 0; /* glibc and musl: start over, forgetting a half-read word */
#endif
	opterr = 0;
}

/* The option getopt_long just returned c for, as the user spelt it: word is
 * argv[optind] from before the call, the long option ("--wait=x") or a
 * group of short ones ("-qw"), of which c is the one meant. */
static const char *opt_word(const char *word, int c, char *buf)
{
	if (word && word[0] == '-' && word[1] == '-' && word[2])
		return word;
	buf[0] = '-';
	buf[1] = (char)c;
	buf[2] = '\0';
	return buf;
}

/* The '?' and ':' answers of getopt_long (":" optstrings) as one usage line. */
static int getopt_error(const char *cmd, const char *word, int c)
{
	char buf[3];
	if (c == ':')
		return usage_error(cmd, "missing value for", opt_word(word, optopt, buf));
	const char *w = opt_word(word, optopt, buf);
	if (w[1] != '-')
		return usage_error(cmd, "unknown option", w);
	if (optopt && strchr(w, '='))
		return usage_error(cmd, "no value allowed for", w);
	return usage_error(cmd, "unknown or ambiguous option", w);
}

/* The word getopt_long is about to read (for messages). */
static const char *next_word(int argc, char **argv)
{
	int i = optind > 0 ? optind : 1;
	return i < argc ? argv[i] : NULL;
}

/* The defaults of every PIDLOCK_* variable, as if none were set. */
static void default_config(struct pl_config *cfg)
{
	struct pl_env none;
	memset(&none, 0, sizeof(none));
	pl_config_load(&none, cfg);
}

/* A second FILE (operand or -f) is an error, not a silent choice. */
static int set_file(const char *cmd, char *a, char **file)
{
	if (*file)
		return usage_error(cmd, "more than one FILE:", a);
	*file = a;
	return 0;
}

/* A bare NAME means $XDG_RUNTIME_DIR/NAME.pid, so `-f app.pid` would become
 * app.pid.pid in a directory the user did not mean (pidlock(1)). Whoever types
 * a name ending in .pid means a file: refuse with both spellings rather than
 * guess, and never double the suffix. 0, or 64 after one line. */
static int check_name(const char *file)
{
	size_t n = strlen(file);
	if (strchr(file, '/') || n < 4 || strcmp(file + n - 4, ".pid") != 0)
		return 0;
	if (n > 4)
		fprintf(stderr,
			"pidlock: %s: a NAME without '/' gets .pid added; write ./%s for a file in "
			"this directory, or %.*s for $XDG_RUNTIME_DIR/%s\n",
			file, file, (int)(n - 4), file, file);
	else
		fprintf(stderr, "pidlock: %s: a NAME without '/' gets .pid added; write ./%s for a "
				"file in this directory\n",
			file, file);
	return PL_EX_USAGE;
}

/* Resolves FILE for status/stop the way the shim does for PIDLOCK_FILE. */
static int resolve(struct pl_config *cfg, const char *file)
{
	cfg->file = file;
	if (!*file) {
		fprintf(stderr, "pidlock: empty FILE\n");
		return PL_EX_USAGE;
	}
	return pl_resolve_path(cfg, getenv("XDG_RUNTIME_DIR"), geteuid());
}

/* The folder the command opens a cluster backend from (backend.h): the one
 * holding the library `pidlock run` preloads (lib), as the shim in COMMAND
 * will; else the first of the library's places relative to this command
 * (those of pl_find_library) that has the plugin; else PL_LIBDIR. */
static void plugin_dir(const char *file, const char *lib, char *out, size_t n)
{
	const char *slash = lib ? strrchr(lib, '/') : NULL;
	if (slash && (size_t)(slash - lib) < n) {
		memcpy(out, lib, (size_t)(slash - lib));
		out[slash - lib] = '\0';
		return;
	}
	char exe[PATH_MAX] = "", path[PATH_MAX];
	if (plat_self_exe(exe, sizeof(exe)) && (slash = strrchr(exe, '/')))
		exe[slash - exe] = '\0';
	const char *const fmt[] = {"%s", "%s/../lib/pidlock", "%s/../lib/" PL_MULTIARCH "/pidlock"};
	for (int i = 0; i < 3 && *exe; i++) {
		if ((size_t)snprintf(out, n, fmt[i], exe) >= n)
			continue;
		if ((size_t)snprintf(path, sizeof(path), "%s/pidlock-%s" PL_PLUGIN_SUFFIX, out,
				     pl_backend_name(file)) < sizeof(path) &&
		    access(path, R_OK) == 0)
			return;
	}
	snprintf(out, n, "%s", PL_LIBDIR);
}

/* A cluster URI from our own argv: every local user can read
 * /proc/PID/cmdline for as long as the connection takes. Hands cfg a copy
 * of the URI, opens its backend from dir, and blanks the secrets of the
 * argv text in place (its length stays), as the mysql client does with
 * -pPASSWORD (DESIGN.md, guarantee 18). 0, or an exit status after a line. */
static int hide_uri(struct pl_config *cfg, char *arg, const char *dir, const struct pl_backend **be)
{
	static char *copy; /* lives as long as the command: cfg->file, and the held lock's URI */
	copy = strdup(arg);
	if (!copy) {
		fprintf(stderr, "pidlock: out of memory\n");
		return PL_EX_OSERR;
	}
	cfg->file = copy;
	int r = pl_backend_open(cfg, copy, dir, be);
	if (!r && (*be)->blank)
		(*be)->blank(arg);
	return r;
}

/* status and stop of a cluster URI (arg, from argv): its backend, with
 * cfg->path resolved. NULL after a line. */
static const struct pl_backend *look_backend(struct pl_config *cfg, char *arg)
{
	const struct pl_backend *be;
	char dir[PATH_MAX];
	plugin_dir(arg, NULL, dir, sizeof(dir));
	if (hide_uri(cfg, arg, dir, &be) || be->resolve(cfg))
		return NULL;
	return be;
}

/* ---- run: options ---- */

enum { OPT_SCOPE = 256, OPT_ON_ERROR, OPT_JSON, OPT_LABEL };

/* -w and -r take an optional SECS. getopt gives the attached forms (-w5,
 * --wait=5); the separate one (-w 5, --wait 5), which flock(1) users write,
 * is taken here: the next word, when it is a duration. A next word that is
 * neither a duration nor an option is refused, for it would otherwise become
 * the command to run (pidlock(1): no form ever does that). 0 or 64. */
static int mode_secs(int argc, char **argv, const char *word, int c, long long *ns)
{
	char buf[3];
	const char *name = opt_word(word, c, buf);
	if (optarg) {
		if (pl_parse_duration(optarg, ns))
			return usage_error("run", "expected seconds (such as 5 or 0.5) for", name);
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

/* Parses run's arguments into cfg and file; *cmd is the index of COMMAND.
 * -1 to go on, or the exit status (0 after --help). */
static int parse_run(int argc, char **argv, struct pl_config *cfg, char **file, int *cmd)
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
	char buf[3];
	int mode_opt = 0, c;
	unsigned long n;
	*file = NULL;
	getopt_restart();
	/* "+": options end at the first word that is not one (COMMAND);
	 * ":": missing values come back as ':' for our own message. */
	for (;;) {
		const char *word = next_word(argc, argv);
		c = getopt_long(argc, argv, "+:f:w::r::s:E:qvh", opts, NULL);
		if (c == -1)
			break;
		switch (c) {
		case 'h':
			fputs(usage_run, stdout);
			return 0;
		case 'q':
			cfg->quiet = 1;
			break;
		case 'v':
			cfg->verbose = 1;
			break;
		case 'f':
			if (set_file("run", optarg, file))
				return PL_EX_USAGE;
			break;
		case 'w':
		case 'r':
			if (mode_opt && mode_opt != c)
				return usage_error("run", "--wait and --replace exclude each other:",
						   opt_word(word, c, buf));
			mode_opt = c;
			cfg->mode = c == 'w' ? PL_MODE_WAIT : PL_MODE_REPLACE;
			cfg->timeout_ns = c == 'w' ? PL_FOREVER : 10 * 1000000000LL;
			if (mode_secs(argc, argv, word, c, &cfg->timeout_ns))
				return PL_EX_USAGE;
			break;
		case 's':
			if (pl_parse_signal(optarg, &cfg->signo))
				return usage_error("run", "expected a signal name or number for",
						   opt_word(word, c, buf));
			break;
		case 'E':
			if (pl_parse_uint(optarg, 255, &n))
				return usage_error("run", "expected 0 to 255 for", opt_word(word, c, buf));
			cfg->exit_code = (int)n;
			break;
		case OPT_SCOPE:
			if (pl_parse_scope(optarg, &cfg->scope))
				return usage_error("run", "expected process or tree for", word);
			break;
		case OPT_ON_ERROR:
			if (pl_parse_on_error(optarg, &cfg->on_error_run))
				return usage_error("run", "expected fail or run for", word);
			break;
		case OPT_LABEL:
			if (pl_parse_label(optarg))
				return usage_error("run", "expected cmdline or 1 to 64 printable ASCII "
							  "characters for",
						   word);
			cfg->label = optarg;
			break;
		default:
			return getopt_error("run", word, c);
		}
	}
	if (!*file)
		return usage_error("run", "missing -f FILE", NULL);
	if (optind >= argc)
		return usage_error("run", "missing COMMAND", NULL);
	*cmd = optind;
	return -1;
}

/* ---- run ---- */

/* Prepends the library to the preload list once, keeping what was there. */
static int set_preload(const char *lib)
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

static int cmd_run(int argc, char **argv)
{
	struct pl_config cfg;
	default_config(&cfg);
	char *file = NULL;
	int i = 0;
	int r = parse_run(argc, argv, &cfg, &file, &i);
	if (r >= 0 || !file) /* file is set whenever parsing goes on */
		return r >= 0 ? r : PL_EX_USAGE;
	if (check_name(file))
		return PL_EX_USAGE;
	char **cmd = argv + i;

	char lib[PATH_MAX], prog[PATH_MAX];
	int err = pl_find_command(cmd[0], prog, sizeof(prog));
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
	if ((err = pl_find_library(cmd[0], prog, lib, sizeof(lib), 0)))
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
	r = resolve(&cfg, file);
	struct pl_lock lk = {-1, 0, 0, PL_LOCK_FILE};
	if (!r && pl_is_cluster(file)) {
		char what[256] = ""; /* the holder advertises COMMAND, not this command line */
		for (size_t k = 0, n = 0; cmd[k] && n < sizeof(what) - 1; k++)
			n += (size_t)snprintf(what + n, sizeof(what) - n, "%s%s", k ? " " : "", cmd[k]);
		char dir[PATH_MAX];
		const struct pl_backend *be;
		plugin_dir(file, lib, dir, sizeof(dir));
		r = hide_uri(&cfg, file, dir, &be);
		if (!r)
			r = pl_backend_acquire(&cfg, dir, &lk, getpid(), what, &be);
	} else if (!r) {
		r = pl_acquire(&cfg, &lk, geteuid(), getpid());
	}
	if (r == PL_HELD_ELSEWHERE)
		return cfg.exit_code;
	if (r && !cfg.on_error_run)
		return r;
	if (r)
		unset_ours(); /* unguarded, as asked: the warning has been printed */
	else {
		const char *why = plat_unreachable(prog);
		if (why && !cfg.quiet)
			fprintf(stderr,
				"pidlock: warning: %s %s; the lock is held through the inherited "
				"descriptor instead, as in tree scope\n",
				cmd[0], why);
		if (export_lock(&cfg, &lk) || set_preload(lib)) {
			fprintf(stderr, "pidlock: cannot set the environment: %s\n", strerror(errno));
			return PL_EX_OSERR;
		}
		/* The one descriptor COMMAND must inherit; its shim sets
		 * close-on-exec again in process scope. */
		fcntl(lk.fd, F_SETFD, 0);
		if (cfg.verbose)
			fprintf(stderr, "pidlock: %s: acquired by PID %ld\n", cfg.path, (long)getpid());
	}
	PL_COVERAGE_DUMP();
	execv(prog, cmd);
	PL_COVERAGE_RESET();
	err = errno;
	fprintf(stderr, "pidlock: %s: %s\n", cmd[0], strerror(err));
	if (lk.fd >= 0)
		pl_tidy(&cfg, &lk, getpid(), 0, 0);
	return err == ENOENT ? 127 : 126;
}

/* ---- status ---- */

struct probe {
	int state;   /* LSB: 0 running, 1 stale file, 3 not running, 4 unknown */
	int outside; /* running, held from outside this PID namespace */
	pid_t pid;   /* holder, or the PID in a stale file */
	dev_t dev;
	ino_t ino;
	const char *why;
	char unsafe[PATH_MAX + 128]; /* why, for a path the walk refused */
};

/* Opens the PID file for a look, through the one walk of walk.c:
 * read-only, no O_CREAT, never following a link at the file, and only once
 * a look through O_PATH has shown a regular file of a real file system, for
 * opening a FIFO releases a writer blocked on it, opening a device runs its
 * driver, and /proc files are no PID files (DESIGN.md, guarantee 9). fstat
 * must then show the inode looked at; if the name changed in between, look
 * once more. check: the walk of `stop`, which signals and removes what it
 * finds, so that a path someone other than this user and root could
 * redirect is refused (4, naming the component); `status` only looks, and
 * goes where the path leads. Returns the descriptor, or -1 with p->state
 * and p->why. */
static int open_regular(const char *path, struct probe *p, int check)
{
	for (int attempt = 0; attempt < 2; attempt++) {
		struct pl_walk w;
		struct stat lst, st;
		const char *what = NULL;
		int r = pl_walk(path, geteuid(), check ? PL_WALK_CHECK : 0, &w);
		if (r > 0) {
			snprintf(p->unsafe, sizeof(p->unsafe), "%.*s%s", (int)w.bad, path, w.why);
			p->state = 4;
			p->why = p->unsafe;
			return -1;
		}
		if (r < 0 && errno == EAGAIN)
			continue; /* renamed during the walk: walk again */
		if (r < 0 || pl_walk_look(&w, &lst, &what) < 0) {
			int err = errno;
			pl_walk_close(&w);
			p->state = err == ENOENT ? 3 : 4;
			p->why = err == EMFILE || err == ENFILE || err == ENOMEM
				     ? "cannot examine the file: out of descriptors or memory"
				     : strerror(err);
			return -1;
		}
		if (what) {
			pl_walk_close(&w);
			p->state = 4;
			p->why = what;
			return -1;
		}
		int fd = pl_walk_open(&w, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY, 0);
		int err = errno;
		pl_walk_close(&w);
		if (fd < 0) {
			if (err == ENOENT || err == ELOOP)
				continue; /* replaced since the look: look again */
			p->state = 4;
			p->why = strerror(err);
			return -1;
		}
		if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_dev == lst.st_dev &&
		    st.st_ino == lst.st_ino) {
			p->dev = st.st_dev;
			p->ino = st.st_ino;
			return fd;
		}
		close(fd);
	}
	p->state = 4;
	p->why = "the file changed while being examined";
	return -1;
}

static void probe(const struct pl_config *cfg, struct probe *p, int *fd_out, int check)
{
	memset(p, 0, sizeof(*p));
	*fd_out = -1;
	int fd = open_regular(cfg->path, p, check);
	if (fd < 0)
		return;
	int locked = plat_is_locked(fd, p->dev, p->ino);
	if (locked < 0) {
		close(fd);
		p->state = 4;
		p->why = "cannot tell whether it is locked";
		return;
	}
	if (!locked) {
		/* A file a clean exit marked but could not remove (the program
		 * had dropped its privileges, and what removes it for such a
		 * program was stopped too): not a crash. */
		p->state = pl_is_clean_exit(fd) ? 3 : 1;
		p->pid = pl_read_pid_once(fd);
		close(fd);
		return;
	}
	p->pid = pl_find_holder(fd, p->dev, p->ino, getpid());
	if (p->pid < 0) { /* "cannot tell" is never "none" (DESIGN.md, guarantee 16) */
		close(fd);
		p->state = 4;
		p->pid = 0;
		p->why = errno == EMFILE || errno == ENFILE || errno == ENOMEM
			     ? "cannot examine the processes: out of descriptors or memory"
			     : "cannot examine the processes";
		return;
	}
	/* Locked, and no process here has it open: in a container, the holder
	 * is outside this PID namespace, on a shared volume (DESIGN.md,
	 * guarantee 15). */
	if (p->pid == 0 && plat_pidns_nested() == 1)
		p->outside = 1;
	*fd_out = fd;
}

/* Text that another user controls (a holder's command line, what a server
 * answered) on a terminal, through the one escaper of msg.c: readable UTF-8
 * as it is; control characters and bytes that are not UTF-8 as C escapes
 * (\n, \t, \r, \\, else \xNN per byte), exactly as the library's own lines
 * show it, so that a newline cannot forge a second line and no escape
 * sequence reaches the terminal. */
void pl_put_text(FILE *f, const char *str)
{
	char unit[PL_ESCAPE_MAX];
	size_t n = strlen(str), used;
	for (size_t i = 0; i < n; i += used) {
		size_t k = pl_escape_unit(str + i, n - i, unit, &used);
		fwrite(unit, 1, k, f);
	}
}

static void put_text(const char *str)
{
	pl_put_text(stdout, str);
}

/* A JSON string that is valid for any bytes: '"', '\\' and control
 * characters escaped (\u00XX, DEL and C1 included, which JSON allows raw but
 * a terminal does not), valid UTF-8 as it is, and each byte that is not
 * UTF-8 as U+FFFD, as a decoder with errors=replace would show it. */
static void pl_json_str(const char *str)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t left = strlen(str);
	putchar('"');
	while (*s) {
		unsigned long cp;
		size_t n = pl_utf8_seq(s, left, &cp);
		if (!n) {
			fputs("\\ufffd", stdout);
			n = 1;
		} else if (cp == '"' || cp == '\\') {
			printf("\\%c", (int)cp);
		} else if (pl_is_control(cp)) {
			printf("\\u%04lx", cp);
		} else {
			fwrite(s, 1, n, stdout);
		}
		s += n;
		left -= n;
	}
	putchar('"');
}

/* status and stop: -f FILE or the operand, once; -- before a FILE that
 * starts with '-'. Options may follow FILE (getopt permutes). */
static int parse_look(const char *cmd, int argc, char **argv, const char *shorts,
		      const struct option *opts, int (*opt)(void *arg, int c, const char *word),
		      void *arg, char **file)
{
	*file = NULL;
	getopt_restart();
	for (;;) {
		const char *word = next_word(argc, argv);
		int c = getopt_long(argc, argv, shorts, opts, NULL);
		if (c == -1)
			break;
		if (c == 'f') {
			if (set_file(cmd, optarg, file))
				return PL_EX_USAGE;
			continue;
		}
		if (c == '?' || c == ':')
			return getopt_error(cmd, word, c);
		int r = opt(arg, c, word);
		if (r >= 0)
			return r;
	}
	for (; optind < argc; optind++)
		if (set_file(cmd, argv[optind], file))
			return PL_EX_USAGE;
	if (!*file)
		return usage_error(cmd, "missing FILE", NULL);
	return check_name(*file) ? PL_EX_USAGE : -1;
}

struct status_opts {
	int quiet, json;
};

static int status_opt(void *arg, int c, const char *word)
{
	struct status_opts *o = arg;
	(void)word;
	if (c == 'h') {
		fputs(usage_status, stdout);
		return 0;
	}
	if (c == 'q')
		o->quiet = 1;
	else
		o->json = 1;
	return -1;
}

/* "since 2026-01-02 03:04:05 +0000 (0d 01:02:03)" for a start time. */
static void put_since(long long started, long long now)
{
	char when[64];
	time_t t = (time_t)started;
	struct tm tm;
	strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S %z", localtime_r(&t, &tm));
	long long up = now - started;
	printf(", since %s (%lldd %02lld:%02lld:%02lld)", when, up / 86400, up / 3600 % 24,
	       up / 60 % 60, up % 60);
}

/* pidlock status of a cluster URI: the backend finds, the command renders. */
static int cluster_status(struct pl_config *cfg, char *arg, int quiet, int json)
{
	struct pl_backend_status st;
	const struct pl_backend *be = look_backend(cfg, arg);
	if (!be)
		return 4;
	int state = be->status(cfg, &st);
	int running = state == 0;
	long long now = (long long)time(NULL);
	if (json) {
		static const char *const names[] = {"running", "stale", "", "stopped", "unknown"};
		printf("{\"file\":");
		pl_json_str(cfg->path);
		printf(",\"status\":%d,\"state\":\"%s\",\"key\":%lld,\"pid\":", state, names[state],
		       st.key);
		if (running && st.pid)
			printf("%lld", st.pid);
		else
			printf("null");
		printf(",\"host\":");
		if (running && st.pid)
			pl_json_str(st.host);
		else
			printf("null");
		printf(",\"command\":");
		if (running && st.pid && *st.command)
			pl_json_str(st.command);
		else
			printf("null");
		if (running)
			printf(",\"backend_pid\":%lld", st.session);
		else
			printf(",\"backend_pid\":null");
		if (running && st.started >= 0)
			printf(",\"started\":%lld,\"uptime_seconds\":%lld}\n", st.started, now - st.started);
		else
			printf(",\"started\":null,\"uptime_seconds\":null}\n");
		return state;
	}
	if (quiet || state == 4)
		return state;
	put_text(cfg->path);
	if (state == 3) {
		printf(": not running\n");
		return state;
	}
	/* st.holder is escaped already (pl_msg_text in the plugin) */
	printf(": running as %s", st.holder);
	if (st.started >= 0)
		put_since(st.started, now);
	printf(", backend PID %lld\n", st.session);
	return state;
}

static int cmd_status(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"quiet", no_argument, NULL, 'q'}, {"json", no_argument, NULL, OPT_JSON},
	    {"file", required_argument, NULL, 'f'}, {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct status_opts o = {0, 0};
	char *file = NULL;
	int r = parse_look("status", argc, argv, ":f:qh", opts, status_opt, &o, &file);
	if (r >= 0 || !file) /* file is set whenever parsing goes on */
		return r >= 0 ? r : PL_EX_USAGE;
	int quiet = o.quiet, json = o.json;
	struct pl_config cfg;
	default_config(&cfg);
	if (resolve(&cfg, file))
		return 4;
	if (pl_is_cluster(file))
		return cluster_status(&cfg, file, quiet, json);
	struct probe p;
	int fd;
	probe(&cfg, &p, &fd, 0);
	if (fd >= 0)
		close(fd);
	char cmd[1024] = "";
	long long started = -1, now = (long long)time(NULL);
	if (p.state == 0 && p.pid > 0) {
		plat_cmdline(p.pid, cmd, sizeof(cmd));
		long long ms = plat_start_time_ms(p.pid);
		started = ms < 0 ? -1 : ms / 1000;
	}
	if (json) {
		static const char *const names[] = {"running", "stale", "", "stopped", "unknown"};
		printf("{\"file\":");
		pl_json_str(cfg.path);
		printf(",\"status\":%d,\"state\":\"%s\",\"pid\":", p.state, names[p.state]);
		if (p.pid > 0)
			printf("%ld", (long)p.pid);
		else
			printf("null");
		printf(",\"outside_namespace\":%s", p.outside ? "true" : "false");
		printf(",\"command\":");
		if (p.state == 0 && *cmd)
			pl_json_str(cmd);
		else
			printf("null");
		if (started >= 0)
			printf(",\"started\":%lld,\"uptime_seconds\":%lld}\n", started, now - started);
		else
			printf(",\"started\":null,\"uptime_seconds\":null}\n");
		return p.state;
	}
	if (quiet)
		return p.state;
	put_text(cfg.path);
	switch (p.state) {
	case 0:
		if (p.outside) {
			printf(": running outside this PID namespace (holder not visible here)\n");
			break;
		}
		if (p.pid <= 0) {
			printf(": running (PID unknown)\n");
			break;
		}
		printf(": running as PID %ld", (long)p.pid);
		if (*cmd) {
			printf(" (");
			put_text(cmd);
			printf(")");
		}
		if (started >= 0)
			put_since(started, now);
		putchar('\n');
		break;
	case 1:
		if (p.pid > 0)
			printf(": not running (stale PID file names PID %ld)\n", (long)p.pid);
		else
			printf(": not running (stale PID file)\n");
		break;
	case 3:
		printf(": not running\n");
		break;
	default:
		printf(": unknown: %s\n", p.why ? p.why : "");
	}
	return p.state;
}

/* ---- stop ---- */


/* pidlock(1), stop: once the lock is free, stop removes the file the stopped
 * instance left, so that status says 3, not 1, also when the program died of
 * the signal or its launcher left the file stale. Safely: only the inode
 * probed, opened and removed in the directory that holds it after a look at
 * the name (walk.c: pl_reopen_lock, pl_remove_lock), only while holding its
 * lock (a starter that opened this inode re-checks the path after locking
 * and retries: DESIGN.md, guarantee 1; one that holds it keeps its file),
 * only a file that looks like a PID file with one link (DESIGN.md,
 * guarantee 9: anything else is left intact). 0 removed or left on purpose,
 * -1 (errno) could not remove. */
static int remove_pidfile(const char *path, const struct probe *p)
{
	struct pl_lock want = {-1, p->dev, p->ino, PL_LOCK_FILE};
	struct stat st;
	int fd = pl_reopen_lock(path, &want, O_RDONLY);
	if (fd < 0)
		return errno == ENOENT || errno == ENOTDIR || errno == ELOOP ? 0 : -1;
	int r = 0;
	if (fstat(fd, &st) == 0 && flock(fd, LOCK_EX | LOCK_NB) == 0 &&
	    (st.st_size == 0 || pl_read_pid_once(fd) > 0) && pl_remove_lock(path, &want) < 0)
		r = -1;
	int e = errno;
	close(fd); /* releases our lock, after the unlink */
	errno = e;
	return r;
}

struct stop_opts {
	int signo, quiet;
	long long timeout;
};

static int stop_opt(void *arg, int c, const char *word)
{
	struct stop_opts *o = arg;
	char buf[3];
	switch (c) {
	case 'h':
		fputs(usage_stop, stdout);
		return 0;
	case 'q':
		o->quiet = 1;
		return -1;
	case 's':
		if (pl_parse_signal(optarg, &o->signo))
			return usage_error("stop", "expected a signal name or number for",
					   opt_word(word, c, buf));
		return -1;
	default: /* 't' */
		if (pl_parse_duration(optarg, &o->timeout))
			return usage_error("stop", "expected seconds (such as 5 or 0.5) for",
					   opt_word(word, c, buf));
		return -1;
	}
}

static int cmd_stop(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"signal", required_argument, NULL, 's'}, {"timeout", required_argument, NULL, 't'},
	    {"quiet", no_argument, NULL, 'q'},        {"file", required_argument, NULL, 'f'},
	    {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0},
	};
	struct stop_opts o = {SIGTERM, 0, 10 * 1000000000LL};
	char *file = NULL;
	int r = parse_look("stop", argc, argv, ":f:s:t:qh", opts, stop_opt, &o, &file);
	if (r >= 0 || !file) /* file is set whenever parsing goes on */
		return r >= 0 ? r : PL_EX_USAGE;
	struct pl_config cfg;
	default_config(&cfg);
	if (resolve(&cfg, file))
		return 1;
	if (pl_is_cluster(file)) { /* ends the holder's session; the holder is fenced */
		const struct pl_backend *be = look_backend(&cfg, file);
		return be ? be->stop(&cfg, o.timeout) : 1;
	}
	struct probe p;
	int fd;
	probe(&cfg, &p, &fd, 1);
	if (p.state == 3)
		return 0; /* nothing holds it: already stopped */
	if (p.state == 4) {
		fprintf(stderr, "pidlock: %s: %s%s\n", cfg.path, p.why ? p.why : "unknown state",
			p.why == p.unsafe ? "; stop acts only through a path that nobody but this user "
					    "and root can change"
					  : "");
		return 1;
	}
	if (p.state == 0) {
		/* The modes' stop (modes.c): the signal to every verified holder,
		 * the timeout, SIGKILL; never a holder outside this PID namespace
		 * (DESIGN.md, guarantee 15), never this command's own ancestor. */
		struct pl_file_session fs;
		pl_file_session_init(&fs, &cfg, getpid());
		pl_file_session_use(&fs, fd, p.dev, p.ino);
		if (pl_stop_holders(&cfg, &fs.s, o.signo, o.timeout, o.quiet))
			return 1;
	}
	/* The lock is free: the stopped instance's file, or a stale one. */
	if (remove_pidfile(cfg.path, &p) < 0 && !o.quiet)
		fprintf(stderr, "pidlock: %s: stopped, but the PID file stays: %s\n", cfg.path,
			strerror(errno));
	return 0;
}

int main(int argc, char **argv, char **envp)
{
	plat_startup(envp);
	if (argc < 2)
		return usage_error(NULL, "missing command", NULL);
	const char *c = argv[1];
	if (strcmp(c, "-h") == 0 || strcmp(c, "--help") == 0 || strcmp(c, "help") == 0) {
		fputs(usage_main, stdout);
		return 0;
	}
	if (strcmp(c, "-V") == 0 || strcmp(c, "--version") == 0) {
		printf("pidlock %s\n", PL_VERSION);
		return 0;
	}
	if (strcmp(c, "run") == 0)
		return cmd_run(argc - 1, argv + 1);
	if (strcmp(c, "status") == 0)
		return cmd_status(argc - 1, argv + 1);
	if (strcmp(c, "stop") == 0)
		return cmd_stop(argc - 1, argv + 1);
	if (strcmp(c, "check") == 0)
		return pl_cmd_check(argc - 1, argv + 1);
	return usage_error(NULL, "unknown command", c);
}
