/* SPDX-License-Identifier: MIT */
/* libFuzzer harness: the environment as the constructor reads it.
 *
 *   selector 0: pl_env_scan + pl_config_load + pl_resolve_path (including
 *               the cluster URI display of the PostgreSQL backend's resolve,
 *               shim/plugins/postgresql.c) on a whole environment
 *   selector 1: the PIDLOCK_EXEC token: pl_token_parse, and pl_token_format
 *   read back (token.c)
 *   selector 2: removing PIDLOCK_EXEC from the environment and scanning again
 *
 * Input after the selector byte: environment entries separated by '\n' (or
 * the token). preload.c is included to reach its static parsers; its
 * constructor stays inert because the fuzzer runs without PIDLOCK_FILE.
 * Messages go to stderr, which fuzz.sh closes (-close_fd_mask=3).
 */
#include "../shim/lib/preload.c" /* NOLINT(bugprone-suspicious-include): its static parsers */
#include "../shim/lib/state.c" /* NOLINT(bugprone-suspicious-include): the state preload.c fills (pl_state) */
#include "../shim/plugins/postgresql.c" /* NOLINT(bugprone-suspicious-include): its resolve */
#include "../shim/plugins/plugin.c" /* NOLINT(bugprone-suspicious-include): what the plugin links */
#include "../shim/plugins/uri.c" /* NOLINT(bugprone-suspicious-include): the URI reader it links */

#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_ENTRIES 64

/* Splits the input into at most MAX_ENTRIES strings in one allocation. */
static char *split_env(const uint8_t *data, size_t size, char **envp)
{
	char *buf = malloc(size + 1);
	if (!buf)
		abort();
	memcpy(buf, data, size);
	buf[size] = '\0';
	size_t n = 0;
	char *s = buf;
	while (n < MAX_ENTRIES) {
		envp[n++] = s;
		char *nl = strchr(s, '\n');
		if (!nl)
			break;
		*nl = '\0';
		s = nl + 1;
	}
	envp[n] = NULL;
	return buf;
}

static int has_name(const char *entry, const char *name)
{
	size_t n = strlen(name);
	return strncmp(entry, name, n) == 0 && entry[n] == '=';
}

/* Every slot pl_env_scan filled points into envp at an entry of that name,
 * and it is the first such entry (as getenv would find). */
static void check_slot(char **envp, char **slot, const char *name)
{
	char **first = NULL;
	for (char **p = envp; *p; p++)
		if (has_name(*p, name)) {
			first = p;
			break;
		}
	if (slot != first)
		abort();
}

static void check_scan(char **envp, const struct pl_env *e)
{
	check_slot(envp, e->file, PL_ENV(FILE));
	check_slot(envp, e->mode, PL_ENV(MODE));
	check_slot(envp, e->timeout, PL_ENV(TIMEOUT));
	check_slot(envp, e->signal, PL_ENV(SIGNAL));
	check_slot(envp, e->exit_code, PL_ENV(EXIT_CODE));
	check_slot(envp, e->scope, PL_ENV(SCOPE));
	check_slot(envp, e->on_error, PL_ENV(ON_ERROR));
	check_slot(envp, e->quiet, PL_ENV(QUIET));
	check_slot(envp, e->verbose, PL_ENV(VERBOSE));
	check_slot(envp, e->held, PL_ENV(HELD));
	check_slot(envp, e->exec, PL_ENV(EXEC));
	check_slot(envp, e->xdg, "XDG_RUNTIME_DIR");
}

static void fuzz_config(char **envp)
{
	struct pl_env e;
	struct pl_config cfg;
	pl_env_scan(envp, &e);
	check_scan(envp, &e);
	if (pl_config_load(&e, &cfg) != 0)
		return;
	if (cfg.exit_code < 0 || cfg.exit_code > 255 || cfg.signo < 1 || cfg.signo > 64)
		abort();
	if (cfg.timeout_ns != PL_FOREVER && cfg.timeout_ns < 0)
		abort();
	/* Only values that stay off the file system: a NAME without '/' would
	 * create /tmp/pidlock-UID when XDG_RUNTIME_DIR is unset. */
	if (!cfg.file || (!strchr(cfg.file, '/') && !(e.xdg && pl_env_value(e.xdg)[0] == '/')))
		return;
	int r = pl_resolve_path(&cfg, pl_env_value(e.xdg), geteuid());
	if (r == 0 && pl_is_cluster(cfg.file)) {
		/* A URI is its backend's to show (what the plugin's resolve does
		 * once the core has opened it). */
		static const struct pl_backend_host fuzz_host = {PL_BACKEND_ABI, pl_fail, plat_cmdline,
								 plat_now_ns, NULL};
		const struct pl_backend *be = pidlock_backend_v1(&fuzz_host);
		if (!be)
			abort();
		r = be->resolve(&cfg);
	}
	if (r == 0) {
		if (strnlen(cfg.path, sizeof(cfg.path)) >= sizeof(cfg.path) || !cfg.path[0])
			abort();
	}
}

static void fuzz_token(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	if (!s)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';
	struct pl_token t;
	if (pl_token_parse(s, &t) == 0) {
		/* Exactly five decimal numbers joined by ':', none overflowing. */
		const char *p = s;
		for (int i = 0; i < 5; i++) {
			char *end;
			errno = 0;
			(void)strtoull(p, &end, 10);
			if (errno || end == p || *p < '0' || *p > '9')
				abort();
			if (*end != (i == 4 ? '\0' : ':'))
				abort();
			p = end + 1;
		}
		/* The one encoder gives back what the decoder read, and the
		 * decoder reads that again to the same token. */
		char buf[PL_TOKEN_MAX];
		struct pl_token u;
		size_t n = pl_token_format(buf, &t);
		if (n >= sizeof(buf) || pl_token_parse(buf + sizeof(PL_ENV(EXEC)), &u) != 0 ||
		    u.pid != t.pid || u.fd != t.fd || u.dev != t.dev || u.ino != t.ino ||
		    u.shared != t.shared)
			abort();
	}
	free(s);
}

static void fuzz_remove(char **envp)
{
	struct pl_env e;
	size_t before = 0, after = 0;
	while (envp[before])
		before++;
	pl_env_scan(envp, &e);
	if (!e.exec)
		return;
	const char *gone = *e.exec;
	env_remove(envp, gone);
	while (envp[after])
		after++;
	if (after + 1 != before)
		abort();
	pl_env_scan(envp, &e);
	check_scan(envp, &e);
	for (char **p = envp; *p; p++)
		if (*p == gone)
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	unsigned sel = data[0] % 3;
	data++;
	size--;
	if (sel == 1) {
		fuzz_token(data, size);
		return 0;
	}
	char *envp[MAX_ENTRIES + 1];
	char *buf = split_env(data, size, envp);
	if (sel == 0)
		fuzz_config(envp);
	else
		fuzz_remove(envp);
	free(buf);
	return 0;
}
