/* SPDX-License-Identifier: MIT */
/* The command's option glue: one way to read options and FILE for every
 * subcommand (getopt_long, as util-linux flock.c does), one way to say
 * what was wrong (one line and 64), FILE resolved as the library resolves
 * PIDLOCK_FILE.
 */
#include "cmd.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int pl_usage_error(const char *cmd, const char *what, const char *arg)
{
	fprintf(stderr, "pidlock: %s%s%s; try 'pidlock %s%s--help'\n", what, arg ? " " : "",
		arg ? arg : "", cmd ? cmd : "", cmd ? " " : "");
	return PL_EX_USAGE;
}

/* getopt keeps its state in globals; the command parses once, the fuzzing
 * harness many times. */
void pl_getopt_restart(void)
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
const char *pl_opt_word(const char *word, int c, char *buf)
{
	if (word && word[0] == '-' && word[1] == '-' && word[2])
		return word;
	buf[0] = '-';
	buf[1] = (char)c;
	buf[2] = '\0';
	return buf;
}

/* The '?' and ':' answers of getopt_long (":" optstrings) as one usage line. */
int pl_getopt_error(const char *cmd, const char *word, int c)
{
	char buf[3];
	if (c == ':')
		return pl_usage_error(cmd, "missing value for", pl_opt_word(word, optopt, buf));
	const char *w = pl_opt_word(word, optopt, buf);
	if (w[1] != '-')
		return pl_usage_error(cmd, "unknown option", w);
	if (optopt && strchr(w, '='))
		return pl_usage_error(cmd, "no value allowed for", w);
	return pl_usage_error(cmd, "unknown or ambiguous option", w);
}

/* The word getopt_long is about to read (for messages). */
const char *pl_next_word(int argc, char **argv)
{
	int i = optind > 0 ? optind : 1;
	return i < argc ? argv[i] : NULL;
}

/* The defaults of every PIDLOCK_* variable, as if none were set. */
void pl_default_config(struct pl_config *cfg)
{
	struct pl_env none;
	memset(&none, 0, sizeof(none));
	pl_config_load(&none, cfg);
}

/* A second FILE (operand or -f) is an error, not a silent choice. */
int pl_set_file(const char *cmd, char *a, char **file)
{
	if (*file)
		return pl_usage_error(cmd, "more than one FILE:", a);
	*file = a;
	return 0;
}

/* A bare NAME means $XDG_RUNTIME_DIR/NAME.pid, so `-f app.pid` would become
 * app.pid.pid in a directory the user did not mean (pidlock(1)). Whoever types
 * a name ending in .pid means a file: refuse with both spellings rather than
 * guess, and never double the suffix. 0, or 64 after one line. */
int pl_check_name(const char *file)
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
int pl_resolve_file(struct pl_config *cfg, const char *file)
{
	cfg->file = file;
	if (!*file) {
		fprintf(stderr, "pidlock: empty FILE\n");
		return PL_EX_USAGE;
	}
	return pl_resolve_path(cfg, getenv("XDG_RUNTIME_DIR"), geteuid());
}

int pl_getopt_each(const char *cmd, int argc, char **argv, const char *shorts,
		   const struct option *opts, pl_opt_fn *fn, void *arg)
{
	pl_getopt_restart();
	for (;;) {
		const char *word = pl_next_word(argc, argv);
		int c = getopt_long(argc, argv, shorts, opts, NULL);
		if (c == -1)
			return -1;
		if (c == '?' || c == ':')
			return pl_getopt_error(cmd, word, c);
		int r = fn(arg, c, word);
		if (r >= 0)
			return r;
	}
}

/* status and stop: -f FILE or the operand, once, beside the command's own
 * options (look->opt). */
struct look_parse {
	const char *cmd;
	pl_opt_fn *opt;
	void *arg;
	char *file;
};

static int look_opt(void *arg, int c, const char *word)
{
	struct look_parse *p = arg;
	if (c != 'f')
		return p->opt(p->arg, c, word);
	return pl_set_file(p->cmd, optarg, &p->file) ? PL_EX_USAGE : -1;
}

int pl_parse_look(const char *cmd, int argc, char **argv, const char *shorts,
		  const struct option *opts, pl_opt_fn *opt, void *arg, struct pl_target *t,
		  int unknown)
{
	/* -- before a FILE that starts with '-'; options may follow FILE
	 * (getopt permutes). */
	struct look_parse p = {cmd, opt, arg, NULL};
	int r = pl_getopt_each(cmd, argc, argv, shorts, opts, look_opt, &p);
	if (r >= 0)
		return r;
	for (; optind < argc; optind++)
		if (pl_set_file(cmd, argv[optind], &p.file))
			return PL_EX_USAGE;
	if (!p.file)
		return pl_usage_error(cmd, "missing FILE", NULL);
	if (pl_check_name(p.file))
		return PL_EX_USAGE;
	pl_default_config(&t->cfg);
	return pl_target_open(t, p.file, NULL) ? unknown : -1;
}
