/* SPDX-License-Identifier: MIT */
/* libslowfini.so: a library a program links (DT_NEEDED), whose exit work
 * takes a while (tests/interpose.bats; guarantee 13: the PID file goes only
 * after every library's exit work). With SLOWFINI_MARK=FILE in the
 * environment it creates FILE when its exit work begins, then spends
 * SLOWFINI_MS milliseconds (default 2000) in it:
 *   SLOWFINI_WHERE=dtor    in its destructor (the default)
 *   SLOWFINI_WHERE=atexit  in a handler its constructor registered with
 *                          atexit(), as C++ static objects of a library are
 *                          destroyed
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

void slowfini_linked(void);
void slowfini_linked(void)
{
}

static void slow_exit_work(void)
{
	const char *mark = getenv("SLOWFINI_MARK"), *ms = getenv("SLOWFINI_MS");
	if (!mark)
		return;
	int fd = open(mark, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd >= 0)
		close(fd);
	long n = ms ? strtol(ms, NULL, 10) : 2000;
	struct timespec ts = {n / 1000, n % 1000 * 1000000L};
	while (nanosleep(&ts, &ts) != 0)
		;
}

static int where_is(const char *w)
{
	const char *v = getenv("SLOWFINI_WHERE");
	return strcmp(v ? v : "dtor", w) == 0;
}

__attribute__((constructor)) static void slowfini_init(void)
{
	if (where_is("atexit"))
		atexit(slow_exit_work);
}

__attribute__((destructor)) static void slowfini_fini(void)
{
	if (where_is("dtor"))
		slow_exit_work();
}
