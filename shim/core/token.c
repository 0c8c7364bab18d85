/* SPDX-License-Identifier: MIT */
/* The exec token: how an image that executes itself tells the next image
 * which descriptor already holds the lock. One encoder and one decoder, for
 * the library (interpose.c writes it at exec, preload.c reads it at start)
 * and the command (pidlock run hands its lock to COMMAND the same way).
 *
 *   PIDLOCK_EXEC=PID:FD:DEV:INO:SHARED
 *
 * five unsigned decimal numbers: the process the token is for (the new
 * image has the same PID, or the token is ignored), the descriptor, the
 * device and inode it must be open on, and 1 when fork copies or executed
 * descendants may share the lock. The token is only a claim: preload.c
 * adopts the descriptor only after checking it against the process, the
 * file and the lock itself.
 */
#include "core.h"

static size_t put_unsigned(char *dst, unsigned long long v)
{
	char tmp[24];
	size_t n = 0, len = 0;
	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (n)
		dst[len++] = tmp[--n];
	return len;
}

size_t pl_token_format(char *buf, const struct pl_token *t)
{
	const unsigned long long v[5] = {(unsigned long long)t->pid, (unsigned long long)t->fd,
					 (unsigned long long)t->dev, (unsigned long long)t->ino,
					 (unsigned long long)((t->shared != 0) | (t->tree != 0) << 1)};
	size_t n = sizeof(PL_ENV(EXEC));
	pl_copy(buf, PL_ENV(EXEC) "=", n);
	for (int i = 0; i < 5; i++) {
		n += put_unsigned(buf + n, v[i]);
		buf[n++] = i == 4 ? '\0' : ':';
	}
	return n - 1;
}

int pl_token_parse(const char *s, struct pl_token *t)
{
	unsigned long long v[5];
	for (int i = 0; i < 5; i++) {
		if (*s < '0' || *s > '9')
			return -1;
		v[i] = 0;
		for (; *s >= '0' && *s <= '9'; s++) {
			if (v[i] > (~0ULL - 9) / 10)
				return -1;
			v[i] = v[i] * 10 + (unsigned long long)(*s - '0');
		}
		if (*s != (i == 4 ? '\0' : ':'))
			return -1;
		s++;
	}
	/* What does not fit the types is no token of ours. */
	if (v[0] == 0 || v[0] > 0x7fffffff || v[1] > 0x7fffffff || v[4] > 3)
		return -1;
	t->pid = (pid_t)v[0];
	t->fd = (int)v[1];
	t->dev = (dev_t)v[2];
	t->ino = (ino_t)v[3];
	if ((unsigned long long)t->dev != v[2] || (unsigned long long)t->ino != v[3])
		return -1;
	t->shared = (int)(v[4] & 1);
	t->tree = (int)(v[4] >> 1);
	return 0;
}
