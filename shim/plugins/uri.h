/* SPDX-License-Identifier: MIT */
/* pidlock: the one reader of a cluster lock's URI (uri.c), for every plugin.
 *
 * SCHEME://[USER[:PASSWORD]@]HOST[:PORT][,HOST[:PORT]...][/PATH][?K=V&...][#NAME]
 *
 * The reader splits the text into its parts without copying (each part is a
 * span of the original), so that what a message shows, what PIDLOCK_HELD
 * exports and what `pidlock run` blanks in its own argv are all decided by
 * the parse, never by searching the raw text again. What is secret: the
 * password of the user information, and the value of every query parameter
 * whose key, percent-decoded and in any case, contains "password",
 * "passwd", "secret" or "token" (libpq's password and sslpassword, OAuth's
 * client secret...).
 */
#ifndef PIDLOCK_URI_H
#define PIDLOCK_URI_H

#include <stddef.h>

struct pl_uri_span {
	const char *s; /* into the URI; NULL when absent */
	size_t n;
};

struct pl_uri {
	struct pl_uri_span scheme;   /* "mysql" */
	struct pl_uri_span user;     /* raw (percent-encoded) */
	struct pl_uri_span password; /* raw; s != NULL when a ':' gave one */
	struct pl_uri_span hosts;    /* raw: host[:port][,host[:port]...] */
	struct pl_uri_span path;     /* raw, after '/' (s != NULL when a '/' came) */
	struct pl_uri_span query;    /* raw, after '?' */
	struct pl_uri_span fragment; /* raw, after the first '#': the lock's NAME */
	/* Set when the text cannot be split without guessing where a password
	 * ends: an '@' inside the user information ("u:p@ss@host": libpq takes
	 * the first '@', RFC 3986 forbids both), or a ':' in the host part
	 * followed by no port ("u:pa/ss@host": a password cut by an unencoded
	 * '/', '?' or '#'), or an '@' in the path after such a host part. The
	 * display then shows nothing of it. */
	const char *ambiguous; /* why, for a message; NULL if not */
};

/* One query parameter: key and value raw, "=" present or not. */
struct pl_uri_param {
	struct pl_uri_span key, value;
	int has_eq;
	int secret; /* its key names a secret (above) */
};

/* Reads uri. 0, or -1 when it has no "SCHEME://". */
int pl_uri_read(const char *uri, struct pl_uri *u);

/* The next query parameter from *pos (start at 0): 1 and *p, or 0 at the
 * end. Empty parameters ("a=1&&b=2") are skipped. */
int pl_uri_param_next(const struct pl_uri *u, size_t *pos, struct pl_uri_param *p);

/* The next host of the host list from *pos (start at 0): 1 with its name
 * (brackets of an IPv6 address removed) and its port (s NULL when no ':'),
 * or 0 after the last. *bad: 1 a '[' without ']', 2 text after the ']'. */
int pl_uri_host_next(const struct pl_uri *u, size_t *pos, struct pl_uri_span *host,
		     struct pl_uri_span *port, int *bad);

/* Percent-decodes [s, s + n) into out (size bytes, terminated). -1: a bad
 * escape, a NUL, or too long. */
int pl_uri_decode(const char *s, size_t n, char *out, size_t size);

/* 1 if the raw key (percent-decoded, any case) names a secret. */
int pl_uri_secret_key(const char *s, size_t n);

/* The URI rebuilt from its parts, as messages show it and PIDLOCK_HELD
 * exports it: scheme, user (never a password), hosts, path, the query
 * parameters that hold no secret (and are KEY=VALUE), the fragment; control
 * bytes as %XX. Of an ambiguous URI only "SCHEME://...". -1 if it does not
 * fit in n bytes. */
int pl_uri_display(const struct pl_uri *u, char *out, size_t n);

/* Overwrites, in place, every secret byte of the URI text (the password,
 * the value of every secret parameter; for an ambiguous URI all that
 * follows "://"), with 'x', as the mysql client does with -pPASSWORD: for
 * the copy of it in argv that every local user can read in
 * /proc/PID/cmdline. The length stays. */
void pl_uri_blank(char *uri);

/* 1 if the NUL-terminated msg holds one of the URI's secrets, raw or
 * percent-decoded: a client library's message that must not be shown. */
int pl_uri_quotes_secret(const struct pl_uri *u, const char *msg);

#endif
