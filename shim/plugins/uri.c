/* SPDX-License-Identifier: MIT */
/* The one reader of a cluster lock's URI (uri.h), linked into every plugin:
 * the PostgreSQL plugin shows and checks with it what libpq then parses
 * itself, the MySQL plugin takes its connection arguments from it (the
 * client library has no URI parser). DESIGN.md, guarantee 18: a password
 * is never printed, exported or left readable in argv, so every one of those
 * is built from the parts this reader found, never from the raw text.
 */
#include "uri.h"

#include <string.h>

static int hexval(int c)
{
	return c >= '0' && c <= '9'   ? c - '0'
	       : c >= 'a' && c <= 'f' ? c - 'a' + 10
	       : c >= 'A' && c <= 'F' ? c - 'A' + 10
				      : -1;
}

int pl_uri_decode(const char *s, size_t n, char *out, size_t size)
{
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		int c = (unsigned char)s[i];
		if (c == '%') {
			if (n - i < 3 || hexval(s[i + 1]) < 0 || hexval(s[i + 2]) < 0)
				return -1;
			c = hexval(s[i + 1]) * 16 + hexval(s[i + 2]);
			i += 2;
		}
		if (c == 0 || k + 1 >= size)
			return -1;
		out[k++] = (char)c;
	}
	if (size == 0)
		return -1;
	out[k] = '\0';
	return 0;
}

int pl_uri_secret_key(const char *s, size_t n)
{
	static const char words[][9] = {"password", "passwd", "secret", "token"};
	char key[128];
	/* A key too long or badly escaped to decode is hidden too: hiding a
	 * parameter the client library refuses anyway costs nothing. */
	if (pl_uri_decode(s, n, key, sizeof(key)) < 0)
		return 1;
	for (char *p = key; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (strstr(key, words[i]))
			return 1;
	return 0;
}

static struct pl_uri_span span(const char *s, const char *e)
{
	struct pl_uri_span sp = {s, (size_t)(e - s)};
	return sp;
}

static int has(struct pl_uri_span sp, char c)
{
	return sp.s && memchr(sp.s, c, sp.n) != NULL;
}

int pl_uri_host_next(const struct pl_uri *u, size_t *pos, struct pl_uri_span *host,
		     struct pl_uri_span *port, int *bad)
{
	const char *s = u->hosts.s;
	*bad = 0;
	if (!s || u->hosts.n == 0 || *pos > u->hosts.n)
		return 0;
	const char *end = s + u->hosts.n;
	const char *p = s + *pos;
	const char *comma = memchr(p, ',', (size_t)(end - p));
	const char *e = comma ? comma : end;
	const char *colon = NULL;
	if (p < e && *p == '[') { /* [IPv6] */
		const char *close = memchr(p, ']', (size_t)(e - p));
		if (!close) {
			*bad = 1;
			close = e;
		}
		*host = span(p + 1, close);
		if (close < e && close + 1 < e) {
			if (close[1] == ':')
				colon = close + 1;
			else
				*bad = 2;
		}
	} else {
		colon = memchr(p, ':', (size_t)(e - p));
		*host = span(p, colon ? colon : e);
	}
	if (colon) {
		*port = span(colon + 1, e);
	} else {
		port->s = NULL;
		port->n = 0;
	}
	*pos = comma ? (size_t)(comma - s) + 1 : u->hosts.n + 1; /* past the last one */
	return 1;
}

/* Why the text cannot be split without guessing, or NULL (uri.h). */
static const char *ambiguous(const struct pl_uri *u, const char *auth, const char *auth_end)
{
	const char *at = memchr(auth, '@', (size_t)(auth_end - auth));
	if (at && memchr(at + 1, '@', (size_t)(auth_end - at - 1)))
		return "more than one '@' before the host: percent-encode '@' in a user name or "
		       "password as %40";
	if (u->user.s)
		return NULL;
	/* No user information, yet a host part "WORD:NOT-A-PORT", or an '@'
	 * in the path after "WORD:": the ':' was a password's, cut short by
	 * an unencoded '/', '?' or '#'. */
	size_t pos = 0;
	struct pl_uri_span host, port;
	int bad;
	while (pl_uri_host_next(u, &pos, &host, &port, &bad))
		for (size_t i = 0; i < port.n; i++)
			if (port.s[i] < '0' || port.s[i] > '9')
				return "the text after ':' is no port: a password with an unencoded '/', "
				       "'?' or '#' (percent-encode them as %2F, %3F, %23)?";
	if (has(u->hosts, ':') && has(u->path, '@'))
		return "an '@' after the host: a password with an unencoded '/' (percent-encode it "
		       "as %2F)?";
	return NULL;
}

int pl_uri_read(const char *uri, struct pl_uri *u)
{
	memset(u, 0, sizeof(*u));
	const char *sep = strstr(uri, "://");
	if (!sep || sep == uri)
		return -1;
	u->scheme = span(uri, sep);
	const char *p = sep + 3;
	const char *frag = strchr(p, '#');
	const char *end = frag ? frag : p + strlen(p);
	if (frag)
		u->fragment = span(frag + 1, frag + 1 + strlen(frag + 1));
	const char *auth_end = p + strcspn(p, "/?#");
	const char *at = NULL;
	for (const char *q = p; q < auth_end; q++)
		if (*q == '@')
			at = q; /* the last '@': the only split that needs no guess */
	if (at) {
		const char *colon = memchr(p, ':', (size_t)(at - p));
		u->user = span(p, colon ? colon : at);
		if (colon)
			u->password = span(colon + 1, at);
		u->hosts = span(at + 1, auth_end);
	} else {
		u->hosts = span(p, auth_end);
	}
	p = auth_end;
	if (p < end && *p == '/') {
		const char *q = p + 1 + strcspn(p + 1, "?#");
		u->path = span(p + 1, q < end ? q : end);
		p = u->path.s + u->path.n;
	}
	if (p < end && *p == '?')
		u->query = span(p + 1, end);
	u->ambiguous = ambiguous(u, sep + 3, auth_end);
	return 0;
}

int pl_uri_param_next(const struct pl_uri *u, size_t *pos, struct pl_uri_param *p)
{
	const char *s = u->query.s;
	if (!s)
		return 0;
	const char *end = s + u->query.n;
	while (*pos < u->query.n) {
		const char *q = s + *pos;
		const char *amp = memchr(q, '&', (size_t)(end - q));
		const char *e = amp ? amp : end;
		*pos = (size_t)(e - s) + (amp ? 1 : 0);
		if (!amp)
			*pos = u->query.n;
		if (e == q)
			continue;
		const char *eq = memchr(q, '=', (size_t)(e - q));
		p->key = span(q, eq ? eq : e);
		p->value = eq ? span(eq + 1, e) : span(e, e);
		p->has_eq = eq != NULL;
		p->secret = pl_uri_secret_key(p->key.s, p->key.n);
		return 1;
	}
	return 0;
}

/* ---- the display ---- */

struct out {
	char *s;
	size_t len, n;
	int full;
};

/* Appends [s, s + k), control bytes (and '%' never: it is the text's own
 * escape) as %XX, so that a display is one printable line. */
static void put(struct out *o, const char *s, size_t k)
{
	static const char hex[] = "0123456789ABCDEF";
	for (size_t i = 0; i < k; i++) {
		unsigned char c = (unsigned char)s[i];
		int esc = c < 0x20 || c == 0x7f;
		if (o->len + (esc ? 3 : 1) >= o->n) {
			o->full = 1;
			return;
		}
		if (esc) {
			o->s[o->len++] = '%';
			o->s[o->len++] = hex[c >> 4];
			o->s[o->len++] = hex[c & 15];
		} else {
			o->s[o->len++] = (char)c;
		}
	}
}

static void put_str(struct out *o, const char *s)
{
	put(o, s, strlen(s));
}

int pl_uri_display(const struct pl_uri *u, char *out, size_t n)
{
	struct out o = {out, 0, n, 0};
	if (n == 0)
		return -1;
	put(&o, u->scheme.s, u->scheme.n);
	put_str(&o, "://");
	if (u->ambiguous) {
		/* Where a password ends is a guess: nothing of it, not even the
		 * fragment, which may hold its end ("u:p#ss@host"). */
		put_str(&o, "...");
		out[o.len] = '\0';
		return o.full ? -1 : 0;
	}
	{
		if (u->user.s) { /* "@" even after an empty user: it keeps the split */
			put(&o, u->user.s, u->user.n);
			put_str(&o, "@");
		}
		put(&o, u->hosts.s, u->hosts.n);
		if (u->path.s) {
			put_str(&o, "/");
			put(&o, u->path.s, u->path.n);
		}
		size_t pos = 0;
		struct pl_uri_param p;
		const char *sep = "?";
		while (pl_uri_param_next(u, &pos, &p)) {
			if (p.secret || !p.has_eq)
				continue;
			put_str(&o, sep);
			put(&o, p.key.s, p.key.n);
			put_str(&o, "=");
			put(&o, p.value.s, p.value.n);
			sep = "&";
		}
	}
	if (u->fragment.s) {
		put_str(&o, "#");
		put(&o, u->fragment.s, u->fragment.n);
	}
	out[o.len] = '\0';
	return o.full ? -1 : 0;
}

/* ---- secrets ---- */

/* Overwrites the span sp of uri (which pl_uri_read read) with 'x'. */
static void blank(char *uri, const struct pl_uri_span *sp)
{
	if (!sp->s)
		return;
	char *s = uri + (sp->s - uri);
	for (size_t i = 0; i < sp->n; i++)
		s[i] = 'x';
}

void pl_uri_blank(char *uri)
{
	struct pl_uri u;
	if (pl_uri_read(uri, &u) < 0)
		return;
	if (u.ambiguous) {
		/* Where the password ends is a guess: all that follows "://"
		 * goes, the lock's name with it. */
		const char *p = u.scheme.s + u.scheme.n + 3;
		struct pl_uri_span all = {p, strlen(p)};
		blank(uri, &all);
		return;
	}
	blank(uri, &u.password);
	size_t pos = 0;
	struct pl_uri_param p;
	while (pl_uri_param_next(&u, &pos, &p))
		if (p.secret)
			blank(uri, &p.value);
}

/* 1 if msg holds sp as written, or percent-decoded. */
static int quotes(const char *msg, const struct pl_uri_span *sp)
{
	char raw[512], dec[512];
	if (!sp->s || sp->n == 0 || sp->n >= sizeof(raw))
		return sp->s && sp->n >= sizeof(raw); /* too long to check: assume so */
	memcpy(raw, sp->s, sp->n);
	raw[sp->n] = '\0';
	if (strstr(msg, raw))
		return 1;
	return pl_uri_decode(sp->s, sp->n, dec, sizeof(dec)) == 0 && dec[0] && strstr(msg, dec);
}

int pl_uri_quotes_secret(const struct pl_uri *u, const char *msg)
{
	if (!msg)
		return 0;
	if (u->ambiguous)
		return 1;
	if (quotes(msg, &u->password))
		return 1;
	size_t pos = 0;
	struct pl_uri_param p;
	while (pl_uri_param_next(u, &pos, &p))
		if (p.secret && quotes(msg, &p.value))
			return 1;
	return 0;
}
