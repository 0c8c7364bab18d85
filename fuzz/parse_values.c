/* SPDX-License-Identifier: MIT */
/* libFuzzer harness: the value parsers of config.c, which read the PIDLOCK_*
 * variables and the command's options (outside input).
 *
 * The first byte picks the parser, the rest (up to a NUL) is the value. Each
 * result is checked against what the parser promises, so a wrong answer is a
 * crash too, not only a memory error.
 */
#include "../shim/core/core.h"

#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int all_digits(const char *s)
{
	if (!*s)
		return 0;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return 0;
	return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	unsigned sel = data[0];
	data++;
	size--;
	unsigned long max = ~0UL;
	if (sel % 8 == 3) { /* pl_parse_uint: the next 8 bytes are the maximum */
		if (size < 8)
			return 0;
		memcpy(&max, data, sizeof(max));
		if (sel & 0x80)
			max %= 300; /* small maxima, as the callers use */
		data += 8;
		size -= 8;
	}
	char *s = malloc(size + 1);
	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';

	switch (sel % 8) {
	case 0: {
		long long ns = -7;
		if (pl_parse_duration(s, &ns) == 0) {
			/* Seconds with an optional fraction, at most 10^9 s. */
			if (ns < 0 || ns > 1000000000LL * 1000000000LL + 999999999LL)
				abort();
			if (strspn(s, "0123456789.") != strlen(s) || strchr(s, '.') != strrchr(s, '.'))
				abort();
		}
		break;
	}
	case 1: {
		int signo = -7;
		if (pl_parse_signal(s, &signo) == 0) {
			if (signo < 1 || signo > 64)
				abort();
			/* A name that parses names the signal it stands for. */
			const char *name = pl_signal_name(signo);
			if (!all_digits(s) && !name)
				abort();
		}
		break;
	}
	case 2: {
		int v = -7;
		if (pl_parse_bool(s, &v) == 0 && v != 0 && v != 1)
			abort();
		break;
	}
	case 3: {
		unsigned long v = 0;
		if (pl_parse_uint(s, max, &v) == 0) {
			if (!all_digits(s) || v > max)
				abort();
			if (strtoul(s, NULL, 10) != v)
				abort();
		}
		break;
	}
	case 4: {
		enum pl_mode mode = (enum pl_mode)99;
		if (pl_parse_mode(s, &mode) == 0 && mode != PL_MODE_FAIL && mode != PL_MODE_WAIT &&
		    mode != PL_MODE_REPLACE)
			abort();
		break;
	}
	case 5: {
		enum pl_scope scope = (enum pl_scope)99;
		if (pl_parse_scope(s, &scope) == 0 && scope != PL_SCOPE_PROCESS &&
		    scope != PL_SCOPE_TREE)
			abort();
		break;
	}
	case 6: {
		int run = -7;
		if (pl_parse_on_error(s, &run) == 0 && run != 0 && run != 1)
			abort();
		break;
	}
	default: {
		/* A name round trip: every name pl_signal_name gives parses back. */
		int signo = (int)(size ? (unsigned char)s[0] % 70 : 0), back = -1;
		const char *name = pl_signal_name(signo);
		if (name && (pl_parse_signal(name, &back) || back != signo))
			abort();
		break;
	}
	}
	free(s);
	return 0;
}
