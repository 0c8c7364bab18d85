/* SPDX-License-Identifier: MIT */
/* pidlock stop: every verified holder gets the signal, then SIGKILL after
 * the timeout; the lock is free when it returns 0.
 */
#include "cmd.h"

#include <getopt.h>
#include <signal.h>
#include <stdio.h>

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
			return pl_usage_error("stop", "expected a signal name or number for",
					      pl_opt_word(word, c, buf));
		return -1;
	default: /* 't' */
		if (pl_parse_duration(optarg, &o->timeout))
			return pl_usage_error("stop", "expected seconds (such as 5 or 0.5) for",
					      pl_opt_word(word, c, buf));
		return -1;
	}
}

int pl_cmd_stop(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"signal", required_argument, NULL, 's'}, {"timeout", required_argument, NULL, 't'},
	    {"quiet", no_argument, NULL, 'q'},        {"file", required_argument, NULL, 'f'},
	    {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0},
	};
	struct stop_opts o = {SIGTERM, 0, 10 * 1000000000LL};
	struct pl_target t;
	int r = pl_parse_look("stop", argc, argv, ":f:s:t:qh", opts, stop_opt, &o, &t, 1);
	if (r >= 0)
		return r;
	return pl_target_stop(&t, o.signo, o.timeout, o.quiet);
}
