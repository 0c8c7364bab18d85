/* SPDX-License-Identifier: MIT */
/* Closes 100,000 descriptor numbers (most not open: EBADF), the way a
 * daemon's close-all loop does, so that callgrind can show what the
 * interposed close() adds on its fast path (bench/run.sh, README). */
#include <unistd.h>

int main(void)
{
	for (int fd = 3; fd < 100003; fd++)
		close(fd);
	return 0;
}
