/* SPDX-License-Identifier: MIT */
/* Environment -> validated configuration, and every message about a bad value.
 *
 * Parsing is strict by design: every value that is not exactly one of the
 * documented forms is an error that names the variable and the value
 * (pidlock(1), ENVIRONMENT), because a typo in PIDLOCK_MODE must not silently
 * turn a service into one that runs twice. Numbers are parsed by hand with
 * overflow checks: strtod would accept "inf", "nan", "1e3" and hex, which are
 * all refused.
 */
#include "core.h"
#include "sys.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int lower(int c)
{
	return (c >= 'A' && c <= 'Z') ? c + ('a' - 'A') : c;
}

/* Case-insensitive equality, no locale (the constructor runs before setlocale). */
static int same(const char *a, const char *b)
{
	while (*a && lower((unsigned char)*a) == lower((unsigned char)*b)) {
		a++;
		b++;
	}
	return *a == '\0' && *b == '\0';
}

int pl_parse_uint(const char *s, unsigned long max, unsigned long *v)
{
	unsigned long r = 0;
	if (!*s)
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		unsigned long d = (unsigned long)(*s - '0');
		if (d > max || r > (max - d) / 10)
			return -1; /* overflow or out of range */
		r = r * 10 + d;
	}
	*v = r;
	return 0;
}

/* Seconds with an optional fraction: "5", "0.25", ".5". At most 10^9 s, which
 * is over 31 years: more is a typo, not a wish. */
int pl_parse_duration(const char *s, long long *ns)
{
	long long sec = 0, frac = 0, scale = 100000000LL;
	int digits = 0, intdigits = 0;
	for (; *s == '0'; s++)
		digits++; /* leading zeros are no part of the magnitude */
	for (; *s >= '0' && *s <= '9'; s++, digits++) {
		if (++intdigits > 10)
			return -1;
		sec = sec * 10 + (*s - '0');
	}
	if (*s == '.') {
		for (s++; *s >= '0' && *s <= '9'; s++, digits++) {
			frac += (*s - '0') * scale;
			scale /= 10; /* digits past nanoseconds are dropped */
		}
	}
	if (*s || !digits || sec > 1000000000LL)
		return -1;
	*ns = sec * 1000000000LL + frac;
	return 0;
}

/* Names in arrays, not pointers: a table of pointers costs the dynamic linker
 * one relocation per entry in every process that loads the library. */
static const struct {
	char name[7];
	unsigned char signo;
} signals[] = {
    {"HUP", SIGHUP},   {"INT", SIGINT},       {"QUIT", SIGQUIT},   {"ILL", SIGILL},
    {"TRAP", SIGTRAP}, {"ABRT", SIGABRT},     {"BUS", SIGBUS},     {"FPE", SIGFPE},
    {"KILL", SIGKILL}, {"USR1", SIGUSR1},     {"SEGV", SIGSEGV},   {"USR2", SIGUSR2},
    {"PIPE", SIGPIPE}, {"ALRM", SIGALRM},     {"TERM", SIGTERM},   {"CHLD", SIGCHLD},
    {"CONT", SIGCONT}, {"STOP", SIGSTOP},     {"TSTP", SIGTSTP},   {"TTIN", SIGTTIN},
    {"TTOU", SIGTTOU}, {"URG", SIGURG},       {"XCPU", SIGXCPU},   {"XFSZ", SIGXFSZ},
    {"VTALRM", SIGVTALRM}, {"PROF", SIGPROF}, {"WINCH", SIGWINCH}, {"IO", SIGIO},
    {"SYS", SIGSYS},
};

/* Highest signal number kill(2) takes: real-time signals on Linux. */
#ifdef __linux__
#define PL_SIG_MAX 64UL
#else
#define PL_SIG_MAX 31UL
#endif

int pl_parse_signal(const char *s, int *signo)
{
	unsigned long n;
	if (pl_parse_uint(s, PL_SIG_MAX, &n) == 0) {
		if (n == 0)
			return -1; /* signal 0 stops nothing */
#ifdef SIGRTMIN
		/* Between the classic signals and SIGRTMIN lie the C library's own
		 * (glibc keeps 32 and 33 for its threads): never a program's. */
		if (n >= 32 && n < (unsigned long)SIGRTMIN)
			return -1;
#endif
		*signo = (int)n;
		return 0;
	}
	if (lower((unsigned char)s[0]) == 's' && lower((unsigned char)s[1]) == 'i' &&
	    lower((unsigned char)s[2]) == 'g')
		s += 3;
	for (size_t i = 0; i < sizeof(signals) / sizeof(signals[0]); i++) {
		if (same(s, signals[i].name)) {
			*signo = signals[i].signo;
			return 0;
		}
	}
	return -1;
}

const char *pl_signal_name(int signo)
{
	for (size_t i = 0; i < sizeof(signals) / sizeof(signals[0]); i++)
		if (signals[i].signo == signo)
			return signals[i].name;
	return NULL;
}

/* Index of s among n words (any case), or -1. */
static int pick(const char *s, const char (*words)[8], int n)
{
	for (int i = 0; i < n; i++)
		if (same(s, words[i]))
			return i;
	return -1;
}

int pl_parse_bool(const char *s, int *v)
{
	static const char words[][8] = {"0", "false", "no", "off", "1", "true", "yes", "on"};
	int i = pick(s, words, 8);
	if (i < 0)
		return -1;
	*v = i >= 4;
	return 0;
}

/* The enums' values are the words' positions. */
int pl_parse_mode(const char *s, enum pl_mode *mode)
{
	static const char words[][8] = {"fail", "wait", "replace"};
	int i = pick(s, words, 3);
	if (i < 0)
		return -1;
	*mode = (enum pl_mode)i;
	return 0;
}

int pl_parse_scope(const char *s, enum pl_scope *scope)
{
	static const char words[][8] = {"process", "tree"};
	int i = pick(s, words, 2);
	if (i < 0)
		return -1;
	*scope = (enum pl_scope)i;
	return 0;
}

int pl_parse_label(const char *s)
{
	/* Published as written and parsed back by its spaces: printable ASCII
	 * only, never a control character a terminal or a log would act on. */
	size_t n = 0;
	for (; s[n]; n++)
		if ((unsigned char)s[n] < 0x20 || (unsigned char)s[n] > 0x7e)
			return -1;
	return n == 0 || n > PL_LABEL_MAX ? -1 : 0;
}

int pl_parse_on_error(const char *s, int *run)
{
	static const char words[][8] = {"fail", "run"};
	int i = pick(s, words, 2);
	if (i < 0)
		return -1;
	*run = i;
	return 0;
}

/* One pass over the environment. The inert path (no PIDLOCK_FILE) must stay
 * within a few hundred instructions and call nothing in libc, since even the
 * first call of strncmp costs the dynamic linker a symbol lookup: compare the
 * "PIDLOCK_" prefix by hand, and look at the rest only for those entries. */
static const struct {
	char name[12];
	unsigned char off;
} env_names[] = {
#define PL_ENV_ENTRY(NAME, field) {#NAME, offsetof(struct pl_env, field)},
    PL_VARIABLES(PL_ENV_ENTRY)
#undef PL_ENV_ENTRY
};

/* s starts with name followed by '='. */
static int is_var(const char *s, const char *name)
{
	while (*name && *s == *name) {
		s++;
		name++;
	}
	return *name == '\0' && *s == '=';
}

void pl_env_scan(char **envp, struct pl_env *e)
{
	static const char prefix[] = "PIDLOCK_";
	*e = (struct pl_env){0};
	if (!envp)
		return;
	for (char **p = envp; *p; p++) {
		const char *s = *p;
		size_t i = 0;
		while (i < sizeof(prefix) - 1 && s[i] == prefix[i])
			i++;
		if (i < sizeof(prefix) - 1) {
			if (s[0] == 'X' && !e->xdg && is_var(s, "XDG_RUNTIME_DIR"))
				e->xdg = p;
			continue;
		}
		for (size_t n = 0; n < sizeof(env_names) / sizeof(env_names[0]); n++) {
			if (is_var(s + i, env_names[n].name)) {
				char ***slot = (char ***)(void *)((char *)e + env_names[n].off);
				if (!*slot) /* the first wins, as getenv does */
					*slot = p;
				break;
			}
		}
	}
}

const char *pl_env_value(char **entry)
{
	if (!entry)
		return NULL;
	const char *s = *entry;
	while (*s != '=') /* present: pl_env_scan matched "NAME=" */
		s++;
	return s + 1;
}

/* "pidlock: PIDLOCK_X=value: why" (+ the on-error suffix) and the status. */
static int bad(const struct pl_config *cfg, char **entry, const char *why)
{
	struct pl_msg m;
	pl_msg_init(&m);
	/* Escaped (msg.c): a value refused for its control characters must
	 * not put them on the terminal in the line that refuses it. */
	pl_msg_text(&m, *entry, pl_len(*entry));
	pl_msg_str(&m, ": ");
	pl_msg_str(&m, why);
	return pl_fail(&m, cfg, PL_EX_CONFIG);
}

int pl_fail(struct pl_msg *m, const struct pl_config *cfg, int status)
{
	if (cfg->on_error_run)
		pl_msg_str(m, "; running without the lock (PIDLOCK_ON_ERROR=run)");
	pl_msg_send(m);
	return status;
}

int pl_config_load(const struct pl_env *e, struct pl_config *cfg)
{
	unsigned long n;
	memset(cfg, 0, sizeof(*cfg));
	cfg->mode = PL_MODE_FAIL;
	cfg->timeout_ns = PL_FOREVER;
	cfg->signo = SIGTERM;
	cfg->exit_code = PL_EX_TEMPFAIL;
	cfg->scope = PL_SCOPE_PROCESS;
	cfg->file = pl_env_value(e->file);

	/* First, so that every later message can say what happens next. */
	if (e->on_error && pl_parse_on_error(pl_env_value(e->on_error), &cfg->on_error_run))
		return bad(cfg, e->on_error, "expected fail or run");
	if (e->mode && pl_parse_mode(pl_env_value(e->mode), &cfg->mode))
		return bad(cfg, e->mode, "expected fail, wait or replace");
	if (e->timeout && pl_parse_duration(pl_env_value(e->timeout), &cfg->timeout_ns))
		return bad(cfg, e->timeout, "expected seconds, such as 5 or 0.5 (at most 1000000000)");
	if (!e->timeout && cfg->mode == PL_MODE_REPLACE)
		cfg->timeout_ns = 10 * 1000000000LL;
	if (e->signal && pl_parse_signal(pl_env_value(e->signal), &cfg->signo))
		return bad(cfg, e->signal, "expected a signal name such as TERM or a number from 1");
	if (e->exit_code) {
		if (pl_parse_uint(pl_env_value(e->exit_code), 255, &n))
			return bad(cfg, e->exit_code, "expected a number from 0 to 255");
		cfg->exit_code = (int)n;
	}
	if (e->scope && pl_parse_scope(pl_env_value(e->scope), &cfg->scope))
		return bad(cfg, e->scope, "expected process or tree");
	if (e->quiet && pl_parse_bool(pl_env_value(e->quiet), &cfg->quiet))
		return bad(cfg, e->quiet, "expected 1/0, true/false, yes/no or on/off");
	if (e->verbose && pl_parse_bool(pl_env_value(e->verbose), &cfg->verbose))
		return bad(cfg, e->verbose, "expected 1/0, true/false, yes/no or on/off");
	if (e->label) {
		cfg->label = pl_env_value(e->label);
		if (pl_parse_label(cfg->label))
			return bad(cfg, e->label, "expected cmdline, or a label of 1 to 64 printable ASCII "
						  "characters");
	}
	if (cfg->file && !*cfg->file)
		return bad(cfg, e->file, "empty; expected a path or a NAME");
	if (cfg->file && !pl_is_cluster(cfg->file)) {
		size_t len = pl_len(cfg->file);
		for (size_t i = 0; i < len; i++)
			if ((unsigned char)cfg->file[i] < 0x20 || cfg->file[i] == 0x7f)
				return bad(cfg, e->file, "holds a control character; expected a path or a NAME");
		if (cfg->file[len - 1] == '/')
			return bad(cfg, e->file, "ends with '/'; expected a file, not a directory");
		size_t blank = 0;
		while (cfg->file[blank] == ' ')
			blank++;
		if (blank == len)
			return bad(cfg, e->file, "blank; expected a path or a NAME");
		/* "app.pid" would become NAME.pid.pid: someone who types a file
		 * name means a file, as `pidlock run -f` says too. */
		size_t slash = 0;
		while (slash < len && cfg->file[slash] != '/')
			slash++;
		if (slash == len && len >= 4 && cfg->file[len - 4] == '.' && cfg->file[len - 3] == 'p' &&
		    cfg->file[len - 2] == 'i' && cfg->file[len - 1] == 'd')
			return bad(cfg, e->file, "a NAME without '/' gets .pid added; write ./NAME.pid "
						 "for a file in the current directory, or NAME alone");
	}
	return 0;
}

/* Appends s to path at *len; -1 when it would not fit. */
static int put(char *path, size_t *len, const char *s)
{
	size_t n = pl_len(s);
	if (*len + n >= PATH_MAX)
		return -1;
	pl_copy(path + *len, s, n + 1);
	*len += n;
	return 0;
}

static int too_long(struct pl_config *cfg)
{
	struct pl_msg m;
	pl_msg_init(&m);
	pl_msg_strn(&m, cfg->file, 200);
	pl_msg_str(&m, ": path too long");
	return pl_fail(&m, cfg, PL_EX_CANTCREAT);
}

/* cfg->path = cfg->file made absolute (a daemon's chdir("/") must not
 * move its PID file) and normalised: no "." or ".." components, no double
 * slashes. Taking ".." by name is exact here because no component may be a
 * symbolic link (lock.c refuses them). */
static int absolute(struct pl_config *cfg)
{
	char *out = cfg->path;
	size_t len = 0;
	if (cfg->file[0] != '/') {
		if (!getcwd(out, PATH_MAX)) {
			struct pl_msg m;
			pl_msg_init(&m);
			pl_msg_strn(&m, cfg->file, 200);
			pl_msg_str(&m, ": cannot make the path absolute: ");
			pl_msg_str(&m, strerror(errno));
			return pl_fail(&m, cfg, PL_EX_CANTCREAT);
		}
		len = pl_len(out);
		if (len == 1)
			len = 0; /* "/" itself: components add their own slash */
	}
	const char *p = cfg->file;
	while (*p) {
		while (*p == '/')
			p++;
		const char *e = p;
		while (*e && *e != '/')
			e++;
		size_t n = (size_t)(e - p);
		if (n == 0 || (n == 1 && p[0] == '.')) {
			/* nothing */
		} else if (n == 2 && p[0] == '.' && p[1] == '.') {
			while (len && out[len - 1] != '/')
				len--;
			if (len)
				len--;
		} else {
			if (len + 1 + n >= PATH_MAX)
				return too_long(cfg);
			out[len++] = '/';
			pl_copy(out + len, p, n);
			len += n;
		}
		p = e;
	}
	if (len == 0)
		out[len++] = '/';
	out[len] = '\0';
	return 0;
}

int pl_resolve_path(struct pl_config *cfg, const char *xdg, uid_t euid)
{
	size_t len = 0;
	cfg->path[0] = '\0';
	if (pl_is_cluster(cfg->file)) /* a URI: its backend shows it (backend.h resolve) */
		return 0;
	const char *c = cfg->file;
	while (*c && *c != '/')
		c++;
	if (*c) /* a path, not a NAME */
		return absolute(cfg);
	if (strcmp(cfg->file, ".") == 0 || strcmp(cfg->file, "..") == 0) {
		struct pl_msg m;
		pl_msg_init(&m);
		pl_msg_str(&m, PL_ENV(FILE) "=");
		pl_msg_str(&m, cfg->file);
		pl_msg_str(&m, ": not a NAME");
		return pl_fail(&m, cfg, PL_EX_CONFIG);
	}
	if (xdg && xdg[0] == '/') {
		if (put(cfg->path, &len, xdg) || put(cfg->path, &len, "/"))
			return too_long(cfg);
	} else {
		char num[24];
		pl_fmt_num(num, (long long)euid);
		if (put(cfg->path, &len, "/tmp/pidlock-") || put(cfg->path, &len, num))
			return too_long(cfg);
		/* Created and checked by the lock core when it takes the lock
		 * (lock.c): configuration never touches the file system. */
		cfg->private_dir = len;
		put(cfg->path, &len, "/");
	}
	if (put(cfg->path, &len, cfg->file) || put(cfg->path, &len, ".pid"))
		return too_long(cfg);
	return 0;
}
