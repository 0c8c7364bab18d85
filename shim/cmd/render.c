/* SPDX-License-Identifier: MIT */
/* What the command prints of text it does not control (a holder's command
 * line, a server's answer, a file name), and pidlock status's two forms: one
 * renderer for a PID file and a backend's lock alike, so that the line and
 * the JSON object cannot drift apart between them.
 */
#include "cmd.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

/* Text that another user controls, on a terminal, through the one escaper
 * of msg.c: readable UTF-8 as it is; control characters and bytes that are
 * not UTF-8 as C escapes (\n, \t, \r, \\, else \xNN per byte), exactly as
 * the library's own lines show it, so that a newline cannot forge a second
 * line and no escape sequence reaches the terminal. */
void pl_put_text(FILE *f, const char *str)
{
	char unit[PL_ESCAPE_MAX];
	size_t n = strlen(str), used;
	for (size_t i = 0; i < n; i += used) {
		size_t k = pl_escape_unit(str + i, n - i, unit, &used);
		fwrite(unit, 1, k, f);
	}
}

/* A JSON string that is valid for any bytes: '"', '\\' and control
 * characters escaped (\u00XX, DEL and C1 included, which JSON allows raw but
 * a terminal does not), valid UTF-8 as it is, and each byte that is not
 * UTF-8 as U+FFFD, as a decoder with errors=replace would show it. */
void pl_json_str(FILE *f, const char *str)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t left = strlen(str);
	putc('"', f);
	while (*s) {
		unsigned long cp;
		size_t n = pl_utf8_seq(s, left, &cp);
		if (!n) {
			fputs("\\ufffd", f);
			n = 1;
		} else if (cp == '"' || cp == '\\') {
			fprintf(f, "\\%c", (int)cp);
		} else if (pl_is_control(cp)) {
			fprintf(f, "\\u%04lx", cp);
		} else {
			fwrite(s, 1, n, f);
		}
		s += n;
		left -= n;
	}
	putc('"', f);
}

/* ",\"name\":" then the string, or null when absent. */
static void json_field(const char *name, const char *value)
{
	printf(",\"%s\":", name);
	if (value)
		pl_json_str(stdout, value);
	else
		fputs("null", stdout);
}

static void json_num(const char *name, int present, long long value)
{
	if (present)
		printf(",\"%s\":%lld", name, value);
	else
		printf(",\"%s\":null", name);
}

/* One JSON object on one line. Both kinds share file, status, state, pid,
 * command, started and uptime_seconds; a file adds outside_namespace, a
 * backend's lock key, host, backend_pid, fence and identified
 * (docs/pidlock.1.md). */
static void render_json(const char *path, const struct pl_look *l, long long now)
{
	static const char *const names[] = {"running", "stale", "", "stopped", "unknown"};
	int running = l->state == 0;
	/* A stale file names the PID it holds; a backend's lock says nothing
	 * of a holder that is gone. */
	int pid_known = l->pid > 0 && (running || !l->cluster);
	fputs("{\"file\":", stdout);
	pl_json_str(stdout, path);
	printf(",\"status\":%d,\"state\":\"%s\"", l->state, names[l->state]);
	if (l->cluster)
		printf(",\"key\":%lld", l->key);
	json_num("pid", pid_known, l->pid);
	if (l->cluster)
		json_field("host", running && l->pid > 0 ? l->host : NULL);
	else
		printf(",\"outside_namespace\":%s", l->outside ? "true" : "false");
	json_field("command", running && *l->command ? l->command : NULL);
	if (l->cluster) {
		json_num("backend_pid", running, l->session);
		/* A string: MySQL's tokens pass 2^53, where JSON numbers stop
		 * being exact for many readers. */
		json_field("fence", running && *l->fence ? l->fence : NULL);
		printf(",\"identified\":%s", running && l->identified ? "true" : "false");
	}
	json_num("started", running && l->started >= 0, l->started);
	json_num("uptime_seconds", running && l->started >= 0, now - l->started);
	fputs("}\n", stdout);
}

/* ", since 2026-01-02 03:04:05 +0000 (0d 01:02:03)" for a start time. */
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

/* The running line's middle: who, as each kind can tell it. */
static void put_running(const struct pl_look *l, long long now)
{
	if (l->outside) {
		fputs(": running outside this PID namespace (holder not visible here)", stdout);
		return;
	}
	if (!l->cluster && l->pid <= 0) {
		fputs(": running (PID unknown)", stdout);
		return;
	}
	if (l->cluster) {
		printf(": running as %s", l->holder); /* escaped by the backend */
	} else {
		printf(": running as PID %lld", l->pid);
		if (*l->command) {
			fputs(" (", stdout);
			pl_put_text(stdout, l->command);
			putchar(')');
		}
	}
	if (l->started >= 0)
		put_since(l->started, now);
	if (l->cluster)
		printf(", backend PID %lld", l->session);
	if (l->cluster && *l->fence)
		printf(", fencing token %s", l->fence); /* digits only (plugin.c) */
	if (l->cluster && !l->identified)
		/* A MySQL waiter names itself only once it holds the lock; one
		 * granted it while cut off from the server never does. */
		fputs("; who holds it is not known: not a pidlock instance, one still starting, or "
		      "a waiter granted the lock while cut off from the server, which lets go of it "
		      "soon (docs/cluster.md)",
		      stdout);
}

void pl_render_look(const char *path, const struct pl_look *l, int json)
{
	long long now = (long long)time(NULL);
	if (json) {
		render_json(path, l, now);
		return;
	}
	if (l->state == 4 && l->cluster)
		return; /* the backend has said why, on stderr */
	pl_put_text(stdout, path);
	switch (l->state) {
	case 0:
		put_running(l, now);
		putchar('\n');
		break;
	case 1:
		if (l->pid > 0)
			printf(": not running (stale PID file names PID %lld)\n", l->pid);
		else
			fputs(": not running (stale PID file)\n", stdout);
		break;
	case 3:
		fputs(": not running\n", stdout);
		break;
	default:
		printf(": unknown: %s\n", l->why);
	}
}
