/* SPDX-License-Identifier: MIT */
/* What Linux's /proc files say, from their text alone: no I/O, no
 * allocation, so that the fuzzers (fuzz/proc.c) call exactly the code the
 * library runs, and platform_linux.c only reads files and asks here.
 */
#include "core.h"

#include <string.h>
#include <sys/sysmacros.h>

/* A decimal field of 1 to 15 digits, or -1: ample for clock ticks since boot
 * and for the boot time in seconds, and "* 1000" cannot overflow. */
static long long dec_field(const char *p)
{
	long long v = 0;
	int n = 0;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (++n > 15)
			return -1;
		v = v * 10 + (*p - '0');
	}
	return n ? v : -1;
}

long long pl_proc_stat_field(const char *stat, int field)
{
	/* "pid (comm) S ppid ...": the command name may contain spaces and
	 * parentheses, so fields are counted from the last ')', which ends
	 * field 2. */
	const char *p = strrchr(stat, ')');
	if (!p || field < 3)
		return -1;
	for (int f = 2; f < field && p; f++)
		p = strchr(p + 1, ' ');
	return p ? dec_field(p + 1) : -1;
}

long long pl_proc_btime(const char *procstat)
{
	const char *b = strstr(procstat, "\nbtime ");
	return b ? dec_field(b + 7) : -1;
}

/* Lower-case hex, at least two digits, as /proc/locks prints device numbers. */
static size_t put_hex(char *out, unsigned int v)
{
	char tmp[16];
	size_t t = 0, n = 0;
	do
		tmp[t++] = "0123456789abcdef"[v % 16];
	while (v /= 16);
	while (t < 2)
		tmp[t++] = '0';
	while (t)
		out[n++] = tmp[--t];
	return n;
}

size_t pl_proc_locks_key(char *want, dev_t dev, ino_t ino)
{
	size_t w = 0;
	want[w++] = ' '; /* a whole field: "08:01:5 " must not match in "108:01:5 " */
	w += put_hex(want + w, major(dev));
	want[w++] = ':';
	w += put_hex(want + w, minor(dev));
	want[w++] = ':';
	w += pl_fmt_num(want + w, (long long)ino);
	want[w++] = ' ';
	want[w] = '\0';
	return w;
}

int pl_proc_locks_line_held(const char *line, const char *key)
{
	/* A blocked request is shown with "->" and is not a holder. */
	return strstr(line, " FLOCK ") && !strstr(line, "->") && strstr(line, key);
}

int pl_proc_fdinfo_holds(const char *info)
{
	/* The fdinfo file lists the flock held through that open file
	 * description ("lock: 1: FLOCK ADVISORY WRITE ..."); a blocked waiter's
	 * request is not listed there as held. Exclusive only: pidlock's
	 * holders take LOCK_EX; a reader's `flock -s` is not an instance. */
	for (const char *l = strstr(info, "lock:"); l; l = strstr(l + 1, "lock:")) {
		const char *eol = strchr(l, '\n');
		const char *fl = strstr(l, "FLOCK");
		const char *wr = strstr(l, " WRITE ");
		const char *arrow = strstr(l, "->");
		if (fl && (!eol || fl < eol) && !(arrow && arrow < fl) && wr && (!eol || wr < eol))
			return 1;
	}
	return 0;
}

size_t pl_proc_cmdline(char *buf, size_t len)
{
	while (len && buf[len - 1] == '\0')
		len--;
	for (size_t i = 0; i < len; i++)
		if (buf[i] == '\0')
			buf[i] = ' ';
	buf[len] = '\0';
	return len;
}
