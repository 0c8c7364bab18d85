/* One-line messages on stderr without stdio or allocation.
 *
 * The constructor runs before the program's main and possibly before its
 * allocator is ready, so messages are built in a fixed buffer and sent with
 * one write(2): a line from pidlock is never interleaved with the program's.
 */
#include "pidlock.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

void pl_msg_init(struct pl_msg *m)
{
	m->len = 0;
	pl_msg_str(m, "pidlock: ");
}

void pl_msg_path(struct pl_msg *m, const char *path, const char *what)
{
	pl_msg_init(m);
	pl_msg_str(m, path);
	pl_msg_str(m, ": ");
	pl_msg_str(m, what);
}

void pl_msg_strn(struct pl_msg *m, const char *s, size_t n)
{
	/* Keep one byte for the newline; a long command line is cut, not the
	 * newline that makes the message one line. */
	size_t room = sizeof(m->buf) - 1 - m->len;
	if (n > room)
		n = room;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		/* A value from the environment could hold a newline; keep one line. */
		if (c == '\n' || c == '\r')
			c = ' ';
		m->buf[m->len++] = c;
	}
}

void pl_msg_str(struct pl_msg *m, const char *s)
{
	pl_msg_strn(m, s, strlen(s));
}

size_t pl_fmt_num(char *dst, long long v)
{
	char tmp[24];
	size_t n = 0, len = 0;
	unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
	do {
		tmp[n++] = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	if (v < 0)
		dst[len++] = '-';
	while (n)
		dst[len++] = tmp[--n];
	dst[len] = '\0';
	return len;
}

void pl_msg_num(struct pl_msg *m, long long v)
{
	char b[24];
	size_t n = pl_fmt_num(b, v);
	pl_msg_strn(m, b, n);
}

void pl_msg_secs(struct pl_msg *m, long long ns)
{
	pl_msg_num(m, ns / 1000000000LL);
	long long ms = (ns % 1000000000LL) / 1000000LL;
	if (ms) {
		char b[5] = {'.', (char)('0' + ms / 100), (char)('0' + ms / 10 % 10),
			     (char)('0' + ms % 10), 0};
		size_t n = 4;
		while (b[n - 1] == '0')
			n--;
		pl_msg_strn(m, b, n);
	}
}

void pl_msg_send(struct pl_msg *m)
{
	int saved = errno;
	m->buf[m->len++] = '\n';
	const char *p = m->buf;
	size_t left = m->len;
	while (left) {
		ssize_t w = write(STDERR_FILENO, p, left);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			break; /* stderr closed: nothing better to do */
		p += w;
		left -= (size_t)w;
	}
	m->len--;
	errno = saved;
}
