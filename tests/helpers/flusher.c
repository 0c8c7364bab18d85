/* SPDX-License-Identifier: MIT */
/* flusher: a program whose exit-time stdio flush blocks (tests/attack.bats,
 * guarantee 13 of docs/DESIGN.md).
 *
 * flusher BYTES DIR
 *   Gives stdout a 4 MiB fully buffered stdio buffer, writes BYTES bytes of
 *   'x' (at most 4 MiB) into it with fwrite (nothing reaches the descriptor
 *   yet), creates DIR/main-done, and returns from main. exit() then runs the
 *   exit handlers and destructors and only then flushes the buffer: with
 *   stdout on a pipe nobody reads yet, that final flush blocks until someone
 *   reads. The reader counts the bytes: exit() cannot report a failed flush.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define HELPER_NAME "flusher"
#define HELPER_USAGE "flusher BYTES DIR"
#include "common.h"

#define BUF_SIZE (4L << 20)

static char outbuf[BUF_SIZE];

int main(int argc, char **argv)
{
	char chunk[4096], path[PATH_MAX];
	long bytes, done = 0;
	int fd, n;

	if (argc != 3)
		usage();
	bytes = parse_long(argv[1], 1, BUF_SIZE);
	if (setvbuf(stdout, outbuf, _IOFBF, sizeof outbuf) != 0)
		die("setvbuf");
	memset(chunk, 'x', sizeof chunk);
	while (done < bytes) {
		size_t want = (size_t)(bytes - done < (long)sizeof chunk ? bytes - done : (long)sizeof chunk);
		if (fwrite(chunk, 1, want, stdout) != want)
			die("fwrite");
		done += (long)want;
	}
	n = snprintf(path, sizeof path, "%s/main-done", argv[2]);
	if (n < 0 || n >= (int)sizeof path)
		usage();
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		die(path);
	close(fd);
	return 0;
}
