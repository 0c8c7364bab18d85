/* pidlock: the command's own interface (shim/cmd only): its build's
 * folders, the ELF reader, pidlock check, and finding COMMAND and the library
 * that fits it.
 */
#ifndef PIDLOCK_CMD_H
#define PIDLOCK_CMD_H

#include "../core/core.h"

#include <stdio.h>

/* The command's build: where `make install` put the library, tried last
 * (the Makefile's PL_LIBDIR), and Debian's platform name for the package's
 * folder (x86_64-linux-gnu, the Makefile's PL_MULTIARCH). */
#ifndef PL_LIBDIR
#define PL_LIBDIR "/usr/local/lib/pidlock"
#endif
#ifndef PL_MULTIARCH
#define PL_MULTIARCH ""
#endif

/* ---- elf.c: what kind of program a file is (pidlock run; docs/platforms.md) ---- */
struct pl_elf {
	int is_elf;           /* 0: not ELF (a script, Mach-O) or damaged headers */
	int elf_class;        /* 1: 32-bit, 2: 64-bit */
	int big_endian;
	unsigned int machine; /* e_machine: 62 x86_64, 183 aarch64... */
	int dynamic;          /* names a loader (PT_INTERP); 0: static */
	char interp[256];     /* that loader's path, or "" */
};
/* Reads path's ELF header and PT_INTERP: 0 (is_elf says whether it was ELF),
 * or -1 and errno when the file cannot be read. */
int pl_elf_read(const char *path, struct pl_elf *e);
int pl_elf_is_musl(const struct pl_elf *e); /* its loader is musl's */
/* The folder name for libraries of e's machine ("arm64", "i386"...), or NULL. */
const char *pl_elf_arch(const struct pl_elf *e);
/* Same class, byte order and machine: one can preload a library of the other. */
int pl_elf_same_machine(const struct pl_elf *a, const struct pl_elf *b);

/* ---- cli.c and check.c: the command (DESIGN.md, Architecture) ---- */
/* Writes text someone else controls (a holder's command line, a file's #!
 * line, a server's answer) to f, escaped as the library's lines escape it
 * (pl_escape_unit, msg.c). cli.c. */
void pl_put_text(FILE *f, const char *str);
/* The library `pidlock run` preloads into prog (cli.c): 0 and its path in
 * out, else the exit status (126: none built for prog's loader or machine,
 * 71: none at all), with a message on stderr unless quiet. */
int pl_find_library(const char *name, const char *prog, char *out, size_t n, int quiet);
/* pidlock check -- COMMAND [ARG]...: will the library enter COMMAND? */
int pl_cmd_check(int argc, char **argv);
/* Opens the program at path for reading its headers, only if it is a
 * regular file, never blocking: the descriptor, or -1 and errno (EACCES for
 * a FIFO, a device, a directory: what exec says). find.c. */
int pl_open_program(const char *path);
/* COMMAND as execvp would find it (a path with '/', else through PATH) into
 * out: 0, or an errno (ENOENT, EACCES, ENAMETOOLONG). find.c. */
int pl_find_command(const char *cmd, char *out, size_t n);

/* Why the library cannot enter the program at path (setuid, static, SIP...),
 * as the end of a sentence, or NULL (reach_*.c). */
const char *plat_unreachable(const char *path);

#endif
