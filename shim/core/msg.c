/* SPDX-License-Identifier: MIT */
/* One-line messages on stderr without stdio or allocation.
 *
 * The constructor runs before the program's main and possibly before its
 * allocator is ready, so messages are built in a fixed buffer and sent with
 * one write(2): a line from pidlock is never interleaved with the program's.
 *
 * Text that someone else controls (a holder's command line, which a holder
 * that dropped to an unprivileged user can rewrite; what a database server
 * answers) goes through the one escaper below, here and in the command's
 * output alike: readable UTF-8 as it is, control characters (C0, DEL, C1)
 * and bytes that are not UTF-8 as C escapes, so that no escape sequence
 * reaches a terminal and no newline forges a second line.
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

/* ---- foreign text: the one escaper ---- */

size_t pl_utf8_seq(const unsigned char *s, size_t n, unsigned long *cp)
{
	unsigned long c = s[0], min;
	size_t len;
	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xc2 && c <= 0xdf) {
		len = 2;
		c &= 0x1f;
		min = 0x80;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		c &= 0x0f;
		min = 0x800;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		c &= 0x07;
		min = 0x10000;
	} else {
		return 0;
	}
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (s[i] & 0x3fUL);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return len;
}

int pl_is_control(unsigned long cp)
{
	return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f);
}

size_t pl_escape_unit(const char *str, size_t n, char *out, size_t *used)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *s = (const unsigned char *)str;
	unsigned long cp;
	size_t len = pl_utf8_seq(s, n, &cp), k = 0;
	if (len && !pl_is_control(cp) && cp != '\\') {
		pl_copy(out, str, len); /* not memcpy: no new import for the library */
		*used = len;
		return len;
	}
	if (!len)
		len = 1; /* not UTF-8: this one byte */
	for (size_t i = 0; i < len; i++) {
		unsigned char c = s[i];
		out[k++] = '\\';
		if (c == '\n' || c == '\t' || c == '\r' || c == '\\') {
			out[k++] = (char)(c == '\n' ? 'n' : c == '\t' ? 't' : c == '\r' ? 'r' : '\\');
		} else {
			out[k++] = 'x';
			out[k++] = hex[c >> 4];
			out[k++] = hex[c & 15];
		}
	}
	*used = len;
	return k;
}

void pl_msg_text(struct pl_msg *m, const char *s, size_t n)
{
	char unit[PL_ESCAPE_MAX];
	size_t i = 0, used;
	while (i < n && s[i]) {
		size_t k = pl_escape_unit(s + i, n - i, unit, &used);
		if (k > sizeof(m->buf) - 1 - m->len)
			break; /* cut whole units, never half an escape */
		pl_copy(m->buf + m->len, unit, k);
		m->len += k;
		i += used;
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
