/* SPDX-License-Identifier: MIT */
/* libFuzzer harness: what the pidlock command reads from outside (shim/cmd).
 *
 *   selector 0: the ELF and Mach-O header walks that tell static and
 *               hardened programs apart (pl_reach), on a file of the
 *               fuzzer's bytes
 *   selector 1: LD_PRELOAD as found, with the library prepended once
 *               (pl_set_preload)
 *   selector 2: PATH search for COMMAND (pl_find_command): "PATH\0COMMAND"
 *   selector 3: run's arguments (pl_parse_run, getopt_long): NUL-separated words
 *   selector 4: escaping of a command line (pl_json_str, pl_put_text, and the
 *               one escaper's promise: no control character ever comes out)
 *
 * fuzz-link: CMD_SRC (the command's own files, which scripts/fuzz.sh links
 * beside the core; main.c is left out, libFuzzer has its own main)
 *
 * stdout and stderr are closed by fuzz.sh (-close_fd_mask=3).
 */
#include "../shim/cmd/cmd.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <stdint.h>
#include <sys/mman.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define LIB "/usr/local/lib/pidlock/" PL_LIBNAME

static char *dup_input(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	if (!s)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

static void fuzz_elf(const uint8_t *data, size_t size)
{
	static int fd = -1;
	static char path[64];
	if (fd < 0) {
		fd = memfd_create("elf", MFD_CLOEXEC);
		if (fd < 0)
			abort();
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	}
	if (ftruncate(fd, 0) < 0 || (size && pwrite(fd, data, size, 0) != (ssize_t)size))
		abort();
	struct pl_reach r;
	const char *why = pl_reach(path, &r) == 0 ? pl_reach_why(&r) : NULL;
	/* Anything shorter than an ELF header (52 bytes for a 32-bit one, 64
	 * for a 64-bit one: shim/cmd/elf.c reads both) is not judged static. */
	size_t header = size > 4 && data[4] == 1 ? 52 : 64;
	if (why && size < header)
		abort();
}

/* True if item is one of the ':' or ' ' separated entries of list. */
static int has_item(const char *list, const char *item)
{
	size_t n = strlen(item);
	for (const char *p = list; *p;) {
		size_t k = strcspn(p, ": ");
		if (k == n && strncmp(p, item, n) == 0)
			return 1;
		p += k;
		if (*p)
			p++;
	}
	return 0;
}

static void fuzz_preload(const uint8_t *data, size_t size)
{
	char *old = dup_input(data, size);
	setenv(PL_PRELOAD_VAR, old, 1);
	if (pl_set_preload(LIB) != 0)
		abort();
	const char *now = getenv(PL_PRELOAD_VAR);
	if (!now || !has_item(now, LIB))
		abort();
	/* Prepended once: unchanged when it was there, else "LIB:old". */
	if (has_item(old, LIB)) {
		if (strcmp(now, old) != 0)
			abort();
	} else if (*old) {
		size_t n = strlen(LIB);
		if (strncmp(now, LIB, n) != 0 || now[n] != ':' || strcmp(now + n + 1, old) != 0)
			abort();
	} else if (strcmp(now, LIB) != 0) {
		abort();
	}
	unsetenv(PL_PRELOAD_VAR);
	free(old);
}

static void fuzz_path(const uint8_t *data, size_t size)
{
	char *s = dup_input(data, size);
	size_t plen = strlen(s);
	const char *cmd = plen < size ? s + plen + 1 : "sh";
	if (!*cmd)
		cmd = "sh";
	setenv("PATH", s, 1);
	char out[PATH_MAX];
	int err = pl_find_command(cmd, out, sizeof(out));
	if (err == 0) {
		size_t o = strlen(out), c = strlen(cmd);
		if (o >= sizeof(out) || o < c || strcmp(out + o - c, cmd) != 0)
			abort();
	}
	free(s);
}

static void fuzz_opts(const uint8_t *data, size_t size)
{
	char *s = dup_input(data, size);
	char *argv[33];
	int argc = 0;
	for (char *p = s; argc < 32 && p <= s + size; p += strlen(p) + 1)
		argv[argc++] = p;
	argv[argc] = NULL;
	struct pl_config cfg;
	pl_default_config(&cfg);
	char *file = NULL;
	int cmd = 0;
	int r = pl_parse_run(argc, argv, &cfg, &file, &cmd);
	/* Going on: a FILE from the input, and COMMAND a word after the
	 * options (never a value: pidlock(1), run). Else 0 (help) or 64. */
	if (r == -1) {
		if (!file || file < s || file > s + size || cmd < 1 || cmd >= argc)
			abort();
	} else if (r != 0 && r != PL_EX_USAGE) {
		abort();
	}
	free(s);
}

/* The one escaper (msg.c), for any bytes: what it gives is valid UTF-8
 * with no control character at all (C0, DEL, C1), every unit consumes at
 * least one byte, and an escape never exceeds PL_ESCAPE_MAX. */
static void check_escape(const char *s, size_t n)
{
	char unit[PL_ESCAPE_MAX];
	size_t used;
	for (size_t i = 0; i < n; i += used) {
		size_t k = pl_escape_unit(s + i, n - i, unit, &used);
		if (used < 1 || used > n - i || k < 1 || k > sizeof(unit))
			abort();
		for (size_t j = 0; j < k;) {
			unsigned long cp;
			size_t len = pl_utf8_seq((const unsigned char *)unit + j, k - j, &cp);
			if (!len || pl_is_control(cp))
				abort();
			j += len;
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	unsigned sel = data[0] % 5;
	data++;
	size--;
	switch (sel) {
	case 0:
		fuzz_elf(data, size);
		break;
	case 1:
		fuzz_preload(data, size);
		break;
	case 2:
		fuzz_path(data, size);
		break;
	case 3:
		fuzz_opts(data, size);
		break;
	default: {
		char *s = dup_input(data, size);
		pl_json_str(stdout, s);
		pl_put_text(stdout, s);
		check_escape((const char *)data, size);
		free(s);
		break;
	}
	}
	return 0;
}
