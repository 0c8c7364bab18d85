/* The pidlock command: run, status and stop, on the same core as the shim.
 *
 * `run` takes the lock itself and then executes the command in the same
 * process, so no wrapper stays behind and the PID file names the command. The
 * lock is held before exec, which also guards programs the shim cannot enter
 * (static binaries, setuid programs): their inherited descriptor keeps it.
 */
#include "pidlock.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#ifndef PL_LIBDIR
#define PL_LIBDIR "/usr/local/lib/pidlock"
#endif

extern char **environ;

static const char usage_main[] =
    "usage: pidlock run [options] -f FILE -- COMMAND [ARG]...\n"
    "       pidlock status [--quiet|--json] FILE\n"
    "       pidlock stop [--signal SIG] [--timeout SECS] FILE\n"
    "       pidlock --help | --version\n"
    "\n"
    "Keeps a program single-instance with an exclusive lock on a PID file.\n"
    "FILE is a path, or a NAME for $XDG_RUNTIME_DIR/NAME.pid, or a PostgreSQL URI\n"
    "postgresql://USER@HOST/DB#NAME for a cluster-wide lock.\n"
    "'pidlock COMMAND --help' describes each command; see also pidlock(1).\n";

static const char usage_run[] =
    "usage: pidlock run [options] -f FILE -- COMMAND [ARG]...\n"
    "Takes the lock on FILE, writes the PID, then executes COMMAND in this same\n"
    "process with the pidlock library preloaded.\n"
    "  -f, --file FILE      the PID file (a path, or a NAME)\n"
    "  -w, --wait[=SECS]    wait for the running instance to end (at most SECS)\n"
    "  -r, --replace[=SECS] stop the running instance first (SIGKILL after SECS, default 10)\n"
    "  -s, --signal SIG     first signal for --replace (default TERM)\n"
    "  -E, --exit-code N    exit status when another instance runs (default 75)\n"
    "      --scope process|tree   whether executed children keep the lock (default process)\n"
    "      --on-error fail|run    when the lock cannot be set up (default fail)\n"
    "  -q, --quiet          no message when another instance runs\n"
    "  -v, --verbose        one line per step on stderr\n"
    "Exit: COMMAND's own status; 75 another instance runs; 64 usage; 71, 73, 78 setup\n"
    "errors; 126 COMMAND not executable; 127 COMMAND not found.\n";

static const char usage_status[] =
    "usage: pidlock status [--quiet|--json] FILE\n"
    "Shows who holds the lock on FILE, without ever taking it.\n"
    "Exit (LSB): 0 running, 1 not running but the PID file exists, 3 not running,\n"
    "4 unknown.\n";

static const char usage_stop[] =
    "usage: pidlock stop [--signal SIG] [--timeout SECS] FILE\n"
    "Signals every process that holds the lock on FILE (verified first), waits for\n"
    "the lock to be free, and sends SIGKILL after SECS (default 10).\n"
    "Exit: 0 the lock is free (also when nothing ran), 1 it could not be stopped.\n";

static int usage_error(const char *cmd, const char *what, const char *arg)
{
	fprintf(stderr, "pidlock: %s%s%s; try 'pidlock %s%s--help'\n", what, arg ? " " : "",
		arg ? arg : "", cmd ? cmd : "", cmd ? " " : "");
	return PL_EX_USAGE;
}

/* "--name=value", "--name value", "-n value": the option's value or NULL. */
static const char *opt_value(char **argv, int *i, const char *shrt, const char *lng,
			     int *matched)
{
	const char *a = argv[*i];
	size_t n = strlen(lng);
	*matched = 0;
	if (strncmp(a, lng, n) == 0 && a[n] == '=') {
		*matched = 1;
		return a + n + 1;
	}
	if (strcmp(a, lng) == 0 || (shrt && strcmp(a, shrt) == 0)) {
		*matched = 1;
		if (argv[*i + 1])
			return argv[++*i];
		return NULL;
	}
	return NULL;
}

/* The defaults of every PIDLOCK_* variable, as if none were set. */
static void default_config(struct pl_config *cfg)
{
	struct pl_env none;
	memset(&none, 0, sizeof(none));
	pl_config_load(&none, cfg);
}

/* An argument of status or stop that is not one of its own options: the
 * FILE operand, once. 0, or the usage status after a message. */
static int file_operand(const char *cmd, const char *a, const char **file)
{
	if (a[0] == '-' && a[1])
		return usage_error(cmd, "unknown option", a);
	if (*file)
		return usage_error(cmd, "more than one FILE:", a);
	*file = a;
	return 0;
}

/* Resolves FILE for status/stop the way the shim does for PIDLOCK_FILE. */
static int resolve(struct pl_config *cfg, const char *file, int create)
{
	cfg->file = file;
	if (!*file) {
		fprintf(stderr, "pidlock: empty FILE\n");
		return PL_EX_USAGE;
	}
	return pl_resolve_path(cfg, getenv("XDG_RUNTIME_DIR"), geteuid(), create);
}

/* ---- run ---- */

/* Finds COMMAND as execvp would, so that it can be checked before exec. */
static int find_command(const char *cmd, char *out, size_t n)
{
	if (strchr(cmd, '/')) {
		if ((size_t)snprintf(out, n, "%s", cmd) >= n)
			return ENAMETOOLONG;
		return access(out, F_OK) == 0 ? 0 : errno;
	}
	const char *path = getenv("PATH");
	if (!path)
		path = "/usr/local/bin:/usr/bin:/bin";
	int err = ENOENT;
	while (*path) {
		const char *end = strchr(path, ':');
		size_t len = end ? (size_t)(end - path) : strlen(path);
		if ((size_t)snprintf(out, n, "%.*s%s%s", (int)len, path, len ? "/" : "", cmd) < n) {
			struct stat st;
			if (stat(out, &st) == 0 && S_ISREG(st.st_mode)) {
				if (access(out, X_OK) == 0)
					return 0;
				err = EACCES;
			}
		}
		path += len + (end ? 1 : 0);
	}
	return err;
}

/* Why the shim cannot enter this program, or NULL. Static ELF binaries have
 * no PT_INTERP (no dynamic linker to preload anything); setuid/setgid ones
 * run in secure-execution mode, where LD_PRELOAD is ignored. */
static const char *unreachable_reason(const char *path)
{
	struct stat st;
	if (stat(path, &st) == 0 && (((st.st_mode & S_ISUID) && st.st_uid != geteuid()) ||
				     ((st.st_mode & S_ISGID) && st.st_gid != getegid())))
		return "is setuid or setgid, so the pidlock library cannot enter it";
#ifdef __linux__
	struct pl_elf e;
	if (pl_elf_read(path, &e) == 0 && e.is_elf && !e.dynamic)
		return "is statically linked, so the pidlock library cannot enter it";
	return NULL;
#elif defined(__APPLE__)
	/* System Integrity Protection strips DYLD_* when a restricted binary
	 * starts (/bin/sh, /usr/bin/python3), and for all its descendants. */
	if (stat(path, &st) == 0 && (st.st_flags & SF_RESTRICTED))
		return "is protected by System Integrity Protection, so the pidlock library "
		       "cannot enter it";
	return NULL;
#else
	return NULL;
#endif
}

/* The library for PROG: next to this command (build tree), or installed
 * beside it (PREFIX/bin and PREFIX/lib/pidlock), or where `make install` put
 * it. A dynamically linked program whose loader or machine is not this
 * command's needs the library built for it, from a folder of its own under
 * those (docs/platforms.md): musl/ for musl's loader (glibc/ for glibc's when
 * this command is musl's), the machine's name for another machine (arm64/,
 * arm64-musl/). A loader given a library it cannot use runs the program
 * without it (glibc) or crashes (musl), so with no such library the program
 * is refused. 0, or the exit status after a one-line message. */
static int find_library(const char *name, const char *prog, char *out, size_t n)
{
	char exe[PATH_MAX] = "", sub[64] = "";
	struct pl_elf self, target, lib;
	int check = plat_self_exe(exe, sizeof(exe)) && pl_elf_read(exe, &self) == 0 && self.is_elf &&
		    pl_elf_read(prog, &target) == 0 && target.is_elf && target.dynamic;
	if (check && !pl_elf_same_machine(&self, &target)) {
		const char *arch = pl_elf_arch(&target);
		snprintf(sub, sizeof(sub), "%s%s/", arch ? arch : "unknown",
			 pl_elf_is_musl(&target) ? "-musl" : "");
	} else if (check && pl_elf_is_musl(&target) != pl_elf_is_musl(&self)) {
		snprintf(sub, sizeof(sub), "%s/", pl_elf_is_musl(&target) ? "musl" : "glibc");
	}
	char *slash = strrchr(exe, '/');
	if (slash)
		*slash = '\0';
	const char *const fmt[] = {"%s/%s" PL_LIBNAME, "%s/../lib/pidlock/%s" PL_LIBNAME, "%s/%s" PL_LIBNAME};
	for (int i = 0; i < 3; i++) {
		const char *dir = i == 2 ? PL_LIBDIR : exe;
		if (!*dir || (size_t)snprintf(out, n, fmt[i], dir, sub) >= n || access(out, R_OK) != 0)
			continue;
		if (check && (pl_elf_read(out, &lib) != 0 || !pl_elf_same_machine(&lib, &target)))
			continue;
		char real[PATH_MAX];
		if (i < 2 && realpath(out, real)) {
			size_t len = strlen(real);
			if (len < n)
				memcpy(out, real, len + 1);
		}
		return 0;
	}
	if (!*sub) {
		fprintf(stderr, "pidlock: cannot find %s next to this command or in %s\n", PL_LIBNAME,
			PL_LIBDIR);
		return PL_EX_OSERR;
	}
	fprintf(stderr,
		"pidlock: %s: its loader %s needs the pidlock library built for it, %s%s, which is "
		"not installed (next to this command or in %s); not running it unguarded\n",
		name, target.interp, sub, PL_LIBNAME, PL_LIBDIR);
	return 126;
}

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
	static const char *const names[] = {PL_ENV_FILE, PL_ENV_MODE, PL_ENV_TIMEOUT, PL_ENV_SIGNAL,
					    PL_ENV_EXIT_CODE, PL_ENV_SCOPE, PL_ENV_ON_ERROR, PL_ENV_QUIET,
					    PL_ENV_VERBOSE, PL_ENV_HELD, PL_ENV_EXEC};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		unsetenv(names[i]);
}

/* The environment the shim in COMMAND adopts the lock from: the same names
 * an exec of the instance itself passes (see interpose.c). */
static int export_lock(const struct pl_config *cfg, const struct pl_lock *lk)
{
	char tok[128];
	snprintf(tok, sizeof(tok), "%ld:%d:%llu:%llu:%d", (long)getpid(), lk->fd,
		 (unsigned long long)lk->dev, (unsigned long long)lk->ino,
		 cfg->scope == PL_SCOPE_TREE);
	unset_ours();
	return setenv(PL_ENV_HELD, cfg->path, 1) || setenv(PL_ENV_EXEC, tok, 1) ||
	       setenv(PL_ENV_SCOPE, cfg->scope == PL_SCOPE_TREE ? "tree" : "process", 1) ||
	       setenv(PL_ENV_VERBOSE, cfg->verbose ? "1" : "0", 1) ||
	       setenv(PL_ENV_QUIET, cfg->quiet ? "1" : "0", 1);
}

static int cmd_run(int argc, char **argv)
{
	struct pl_config cfg;
	default_config(&cfg);
	const char *file = NULL, *v;
	int i, m;
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (strcmp(a, "--") == 0) {
			i++;
			break;
		}
		if (a[0] != '-')
			break;
		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			fputs(usage_run, stdout);
			return 0;
		}
		if (strcmp(a, "-q") == 0 || strcmp(a, "--quiet") == 0) {
			cfg.quiet = 1;
		} else if (strcmp(a, "-v") == 0 || strcmp(a, "--verbose") == 0) {
			cfg.verbose = 1;
		} else if (strcmp(a, "-w") == 0 || strcmp(a, "--wait") == 0 ||
			   strncmp(a, "--wait=", 7) == 0 || strcmp(a, "-r") == 0 ||
			   strcmp(a, "--replace") == 0 || strncmp(a, "--replace=", 10) == 0) {
			int wait = a[1] == 'w' || a[2] == 'w';
			cfg.mode = wait ? PL_MODE_WAIT : PL_MODE_REPLACE;
			cfg.timeout_ns = wait ? PL_FOREVER : 10 * 1000000000LL;
			const char *eq = strchr(a, '=');
			if (eq && pl_parse_duration(eq + 1, &cfg.timeout_ns))
				return usage_error("run", "invalid duration in", a);
		} else if ((v = opt_value(argv, &i, "-f", "--file", &m)) || m) {
			if (!v)
				return usage_error("run", "missing FILE after", a);
			file = v;
		} else if ((v = opt_value(argv, &i, "-s", "--signal", &m)) || m) {
			if (!v || pl_parse_signal(v, &cfg.signo))
				return usage_error("run", "invalid signal for", a);
		} else if ((v = opt_value(argv, &i, "-E", "--exit-code", &m)) || m) {
			unsigned long n;
			if (!v || pl_parse_uint(v, 255, &n))
				return usage_error("run", "expected 0 to 255 for", a);
			cfg.exit_code = (int)n;
		} else if ((v = opt_value(argv, &i, NULL, "--scope", &m)) || m) {
			if (!v || pl_parse_scope(v, &cfg.scope))
				return usage_error("run", "expected process or tree for", a);
		} else if ((v = opt_value(argv, &i, NULL, "--on-error", &m)) || m) {
			if (!v || pl_parse_on_error(v, &cfg.on_error_run))
				return usage_error("run", "expected fail or run for", a);
		} else {
			return usage_error("run", "unknown option", a);
		}
	}
	if (!file)
		return usage_error("run", "missing -f FILE", NULL);
	if (i >= argc)
		return usage_error("run", "missing COMMAND", NULL);
	char **cmd = argv + i;

	char lib[PATH_MAX], prog[PATH_MAX];
	int err = find_command(cmd[0], prog, sizeof(prog));
	if (err) {
		fprintf(stderr, "pidlock: %s: %s\n", cmd[0],
			err == ENOENT ? "command not found" : strerror(err));
		return err == ENOENT ? 127 : 126;
	}
	if ((err = find_library(cmd[0], prog, lib, sizeof(lib))))
		return err;
	int r = resolve(&cfg, file, 1);
	struct pl_lock lk = {-1, 0, 0};
	if (!r && pl_is_cluster(file)) {
		char what[256] = ""; /* the holder advertises COMMAND, not this command line */
		for (size_t k = 0, n = 0; cmd[k] && n < sizeof(what) - 1; k++)
			n += (size_t)snprintf(what + n, sizeof(what) - n, "%s%s", k ? " " : "", cmd[k]);
		r = pl_cluster_acquire(&cfg, &lk, getpid(), what);
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
		const char *why = unreachable_reason(prog);
		if (why)
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
		pl_tidy(&cfg, &lk, getpid(), 0);
	return err == ENOENT ? 127 : 126;
}

/* ---- status ---- */

struct probe {
	int state; /* LSB: 0 running, 1 stale file, 3 not running, 4 unknown */
	pid_t pid; /* holder, or the PID in a stale file */
	const char *why;
};

static void probe(const struct pl_config *cfg, struct probe *p, int *fd_out)
{
	struct stat st;
	memset(p, 0, sizeof(*p));
	*fd_out = -1;
	/* Read-only, no O_CREAT, not following links: looking never changes
	 * anything, and never locks. */
	int fd = open(cfg->path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		p->state = errno == ENOENT ? 3 : 4;
		p->why = strerror(errno);
		return;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		p->state = 4;
		p->why = "not a regular file";
		return;
	}
	int locked = plat_is_locked(fd, st.st_dev, st.st_ino);
	if (locked < 0) {
		close(fd);
		p->state = 4;
		p->why = "cannot tell whether it is locked";
		return;
	}
	if (!locked) {
		p->state = 1;
		p->pid = pl_read_pid_once(fd);
		close(fd);
		return;
	}
	p->state = 0;
	p->pid = pl_find_holder(fd, st.st_dev, st.st_ino, getpid());
	*fd_out = fd;
}

void pl_json_str(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c < 0x20)
			printf("\\u%04x", c);
		else
			putchar(c);
	}
	putchar('"');
}

static int cmd_status(int argc, char **argv)
{
	int quiet = 0, json = 0;
	const char *file = NULL;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			fputs(usage_status, stdout);
			return 0;
		} else if (strcmp(a, "-q") == 0 || strcmp(a, "--quiet") == 0) {
			quiet = 1;
		} else if (strcmp(a, "--json") == 0) {
			json = 1;
		} else if (strcmp(a, "-f") == 0 || strcmp(a, "--file") == 0) {
			if (!argv[i + 1])
				return usage_error("status", "missing FILE after", a);
			file = argv[++i];
		} else if (file_operand("status", a, &file)) {
			return PL_EX_USAGE;
		}
	}
	if (!file)
		return usage_error("status", "missing FILE", NULL);
	struct pl_config cfg;
	default_config(&cfg);
	if (resolve(&cfg, file, 0))
		return 4;
	if (pl_is_cluster(file))
		return pl_cluster_status(&cfg, quiet, json);
	struct probe p;
	int fd;
	probe(&cfg, &p, &fd);
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
	switch (p.state) {
	case 0:
		if (p.pid <= 0) {
			printf("%s: running (PID unknown)\n", cfg.path);
			break;
		}
		printf("%s: running as PID %ld", cfg.path, (long)p.pid);
		if (*cmd)
			printf(" (%s)", cmd);
		if (started >= 0) {
			char when[64];
			time_t t = (time_t)started;
			struct tm tm;
			strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S %z", localtime_r(&t, &tm));
			long long up = now - started;
			printf(", since %s (%lldd %02lld:%02lld:%02lld)", when, up / 86400, up / 3600 % 24,
			       up / 60 % 60, up % 60);
		}
		putchar('\n');
		break;
	case 1:
		if (p.pid > 0)
			printf("%s: not running (stale PID file names PID %ld)\n", cfg.path, (long)p.pid);
		else
			printf("%s: not running (stale PID file)\n", cfg.path);
		break;
	case 3:
		printf("%s: not running\n", cfg.path);
		break;
	default:
		printf("%s: unknown: %s\n", cfg.path, p.why ? p.why : "");
	}
	return p.state;
}

/* ---- stop ---- */

static void nap(long ms)
{
	struct timespec ts = {0, ms * 1000000L};
	nanosleep(&ts, NULL);
}

/* Polls until nothing holds (dev, ino) or the deadline passes. Polling is
 * fine here: stop is not on anyone's start-up path, and looking must never
 * take the lock a restarting instance is about to take. */
static int wait_free(int fd, const struct stat *st, long long timeout_ns)
{
	long long deadline = plat_now_ns() + timeout_ns;
	for (;;) {
		if (plat_is_locked(fd, st->st_dev, st->st_ino) == 0)
			return 0;
		if (plat_now_ns() >= deadline)
			return -1;
		nap(10);
	}
}

static int cmd_stop(int argc, char **argv)
{
	int signo = SIGTERM, m;
	long long timeout = 10 * 1000000000LL;
	const char *file = NULL, *v;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			fputs(usage_stop, stdout);
			return 0;
		} else if ((v = opt_value(argv, &i, "-s", "--signal", &m)) || m) {
			if (!v || pl_parse_signal(v, &signo))
				return usage_error("stop", "invalid signal for", a);
		} else if ((v = opt_value(argv, &i, "-t", "--timeout", &m)) || m) {
			if (!v || pl_parse_duration(v, &timeout))
				return usage_error("stop", "invalid duration for", a);
		} else if ((v = opt_value(argv, &i, "-f", "--file", &m)) || m) {
			if (!v)
				return usage_error("stop", "missing FILE after", a);
			file = v;
		} else if (file_operand("stop", a, &file)) {
			return PL_EX_USAGE;
		}
	}
	if (!file)
		return usage_error("stop", "missing FILE", NULL);
	struct pl_config cfg;
	default_config(&cfg);
	if (resolve(&cfg, file, 0))
		return 1;
	if (pl_is_cluster(file)) /* ends the holder's session; the holder is fenced */
		return pl_cluster_stop(&cfg, timeout);
	struct probe p;
	int fd;
	probe(&cfg, &p, &fd);
	if (p.state == 1 || p.state == 3)
		return 0; /* nothing holds it: already stopped */
	if (p.state == 4) {
		fprintf(stderr, "pidlock: %s: %s\n", cfg.path, p.why ? p.why : "unknown state");
		return 1;
	}
	struct stat st;
	if (fstat(fd, &st) < 0) {
		close(fd);
		return 1;
	}
	pid_t self = getpid();
	int sent = pl_signal_holders(st.st_dev, st.st_ino, self, signo, 0, cfg.path);
	if (wait_free(fd, &st, sent ? timeout : 0) == 0) {
		close(fd);
		return 0;
	}
	sent += pl_signal_holders(st.st_dev, st.st_ino, self, SIGKILL, 0, cfg.path);
	int r = wait_free(fd, &st, sent ? 5 * 1000000000LL : 0);
	close(fd);
	if (r == 0)
		return 0;
	fprintf(stderr, "pidlock: %s: could not stop %s\n", cfg.path,
		sent ? "the holder" : "the holder: no verified process to signal (permissions?)");
	return 1;
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
	return usage_error(NULL, "unknown command", c);
}
