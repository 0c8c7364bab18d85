/* SPDX-License-Identifier: MIT */
/* pidlock status: who holds the lock, without ever taking it; the LSB
 * init-script codes as its exit status.
 */
#include "cmd.h"

#include <getopt.h>
#include <stdio.h>

static const char usage_status[] =
    "usage: pidlock status [-q|--quiet] [--json] [--] FILE\n"
    "Shows who holds the lock on FILE, without ever taking it.\n"
    "  -q, --quiet          print nothing: the exit status says it\n"
    "      --json           one JSON object on stdout\n"
    "Exit (LSB): 0 running (also outside this PID namespace), 1 not running but the\n"
    "PID file exists, 3 not running, 4 unknown; 64 usage error.\n";

enum { OPT_JSON = 256 };

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

int pl_cmd_status(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"quiet", no_argument, NULL, 'q'}, {"json", no_argument, NULL, OPT_JSON},
	    {"file", required_argument, NULL, 'f'}, {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct status_opts o = {0, 0};
	struct pl_target t;
	int r = pl_parse_look("status", argc, argv, ":f:qh", opts, status_opt, &o, &t, 4);
	if (r >= 0)
		return r;
	static struct pl_look look; /* large: not on the stack */
	int state = pl_target_look(&t, &look);
	if (!o.quiet || o.json)
		pl_render_look(t.cfg.path, &look, o.json);
	return state;
}
