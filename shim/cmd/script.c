/* SPDX-License-Identifier: MIT */
/* What pidlock check reads of a script, without running it: its "#!" line,
 * whether it ends by exec'ing, and the program a "#!/usr/bin/env ..." line
 * runs. Each file is opened only if it is a regular file, without blocking
 * (find.c, pl_open_program). */
#include "cmd.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* A program's file, opened for reading only if it is a regular file and
 * without blocking (find.c, pl_open_program): a FIFO named as COMMAND or
 * on a #! line would otherwise hang check forever, where exec says 126 at
 * once. NULL and errno. */
static FILE *open_script(const char *path)
{
	int fd = pl_open_program(path);
	if (fd < 0)
		return NULL;
	FILE *f = fdopen(fd, "rb");
	if (!f)
		close(fd);
	return f;
}

/* cmd.h */
long pl_script_first_line(const char *path, char *buf, size_t n)
{
	FILE *f = open_script(path);
	if (!f)
		return -1;
	size_t got = fread(buf, 1, n - 1, f);
	fclose(f);
	buf[got] = '\0';
	char *nl = memchr(buf, '\n', got);
	if (nl) {
		*nl = '\0';
		got = (size_t)(nl - buf);
	}
	return (long)got;
}

/* cmd.h */
void pl_script_scan(const char *path, struct pl_shell *sh)
{
	sh->execs = sh->last_execs = 0;
	FILE *f = open_script(path);
	if (!f)
		return;
	char line[512];
	for (int i = 0; i < 10000 && fgets(line, sizeof(line), f); i++) {
		const char *p = line + strspn(line, " \t");
		if (!*p || *p == '\n' || *p == '#')
			continue;
		int exec = strncmp(p, "exec", 4) == 0 && (p[4] == ' ' || p[4] == '\t');
		sh->execs |= exec;
		sh->last_execs = exec;
	}
	fclose(f);
}

/* cmd.h */
int pl_env_program(const char *args, char *out, size_t n)
{
	char words[PL_SHEBANG_MAX];
	snprintf(words, sizeof(words), "%s", args);
	/* Without -S the kernel hands env everything after its name as one
	 * word, which env runs as one program name, spaces and all. */
	if (strncmp(words, "-S", 2) != 0 && strncmp(words, "--split-string", 14) != 0) {
		if (!*words || strchr(words, '='))
			return -1;
		snprintf(out, n, "%s", words);
		return 0;
	}
	char *save = NULL;
	int takes_arg = 0;
	for (char *w = strtok_r(words, " \t", &save); w; w = strtok_r(NULL, " \t", &save)) {
		if (takes_arg) {
			takes_arg = 0;
			continue;
		}
		if (strcmp(w, "-S") == 0 || strcmp(w, "--split-string") == 0 || strcmp(w, "-") == 0 ||
		    strcmp(w, "-i") == 0 || strcmp(w, "--ignore-environment") == 0 || strcmp(w, "-0") == 0)
			continue;
		if (strncmp(w, "-S", 2) == 0) /* -Spython3: the word glued on */
			w += 2;
		else if (strcmp(w, "-u") == 0 || strcmp(w, "-C") == 0 || strcmp(w, "--unset") == 0 ||
			 strcmp(w, "--chdir") == 0) {
			takes_arg = 1;
			continue;
		} else if (*w == '-' || strchr(w, '='))
			continue;
		snprintf(out, n, "%s", w);
		return 0;
	}
	return -1;
}

