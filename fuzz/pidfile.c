/* SPDX-License-Identifier: MIT */
/* libFuzzer harness: the PID file's content (pl_read_pid_once in pidfile.c).
 * The file is written by whoever can write it, possibly mid-write, so every
 * content must give either the PID it names or 0, never a guess.
 *
 * The input is put in a memfd and read through the descriptor, as the shim
 * reads the PID file. A reference parser states the contract: exactly
 * digits then a newline in the first 31 bytes, value 1..2^31-1 (0 otherwise).
 */
#include "../shim/core/core.h"

#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int memfd = -1;

static long long reference(const uint8_t *d, size_t n)
{
	long long v = 0;
	size_t i = 0;
	if (n > 31)
		n = 31; /* the shim reads one small buffer */
	for (; i < n && d[i] >= '0' && d[i] <= '9'; i++) {
		v = v * 10 + (d[i] - '0');
		if (v > 0x7fffffff)
			return 0;
	}
	if (i == 0 || i >= n || d[i] != '\n')
		return 0;
	return v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (memfd < 0) {
		memfd = memfd_create("pidfile", MFD_CLOEXEC);
		if (memfd < 0)
			abort();
	}
	if (ftruncate(memfd, 0) < 0 || (size && pwrite(memfd, data, size, 0) != (ssize_t)size))
		abort();
	pid_t got = pl_read_pid_once(memfd);
	if ((long long)got != reference(data, size))
		abort();
	return 0;
}
