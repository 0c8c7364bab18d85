/* SPDX-License-Identifier: MIT */
/* libFuzzer harness: the /proc parsers (shim/core/procparse.c), which the
 * library calls on what it reads from /proc/PID/stat and /proc/stat (start
 * time, parent), /proc/locks ("is it locked"), /proc/PID/fdinfo/N ("does
 * this descriptor hold the flock") and /proc/PID/cmdline (messages). They
 * take text and do no I/O, so the harness calls them as they are.
 *
 * Input: byte 0 picks the parser; for the start time, the rest is
 * "STAT\0PROCSTAT" (the two files); for /proc/locks, bytes 1-6 are the
 * device and inode looked for.
 */
#include "../shim/core/core.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A NUL-terminated copy of n bytes (parsers take C strings, as read_small
 * gives them). */
static char *text(const uint8_t *d, size_t n)
{
	char *s = malloc(n + 1);
	if (!s)
		abort();
	memcpy(s, d, n);
	s[n] = '\0';
	return s;
}

/* What pl_proc_locks_line_held promises, checked independently: a line is
 * a held flock on the key when it has " FLOCK ", no "->", and the key as a
 * whole field (" 08:01:5 " never matches inside "108:01:5"). */
static int locked_reference(const char *line, const char *key)
{
	return strstr(line, " FLOCK ") && !strstr(line, "->") && strstr(line, key);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	unsigned sel = data[0] % 4;
	data++;
	size--;
	switch (sel) {
	case 0: { /* /proc/PID/stat, then /proc/stat */
		const uint8_t *nul = memchr(data, '\0', size);
		size_t a = nul ? (size_t)(nul - data) : size;
		char *stat = text(data, a), *procstat = text(nul ? nul + 1 : data, nul ? size - a - 1 : 0);
		long long t = pl_proc_stat_field(stat, 22), p = pl_proc_stat_field(stat, 4);
		long long b = pl_proc_btime(procstat);
		/* At most 15 digits: "* 1000" never overflows (regress-starttime-overflow). */
		if (t < -1 || t > 999999999999999LL || p < -1 || b < -1 || b > 999999999999999LL)
			abort();
		free(stat);
		free(procstat);
		break;
	}
	case 1: { /* /proc/locks, line by line as plat_is_locked splits it */
		if (size < 6)
			return 0;
		dev_t dev = makedev(data[0], data[1]);
		ino_t ino = (ino_t)((unsigned)data[2] | (unsigned)data[3] << 8 | (unsigned)data[4] << 16 |
				    (unsigned)data[5] << 24);
		char key[64], want[64];
		pl_proc_locks_key(key, dev, ino);
		snprintf(want, sizeof(want), " %02x:%02x:%lu ", major(dev), minor(dev), (unsigned long)ino);
		if (strcmp(key, want) != 0)
			abort();
		char *all = text(data + 6, size - 6);
		for (char *line = all, *nl; line; line = nl ? nl + 1 : NULL) {
			nl = strchr(line, '\n');
			if (nl)
				*nl = '\0';
			int r = pl_proc_locks_line_held(line, key);
			if ((r != 0) != (locked_reference(line, key) != 0))
				abort();
		}
		free(all);
		break;
	}
	case 2: { /* /proc/PID/fdinfo/N */
		char *info = text(data, size);
		int r = pl_proc_fdinfo_holds(info);
		if (r != 0 && r != 1)
			abort();
		/* A held exclusive flock needs both words on one "lock:" line. */
		if (r && (!strstr(info, "FLOCK") || !strstr(info, " WRITE ")))
			abort();
		free(info);
		break;
	}
	default: { /* /proc/PID/cmdline made one line */
		char *buf = text(data, size);
		size_t got = pl_proc_cmdline(buf, size);
		if (got > size || buf[got] != '\0' || strlen(buf) != got)
			abort();
		free(buf);
		break;
	}
	}
	return 0;
}
