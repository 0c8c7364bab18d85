/* SPDX-License-Identifier: MIT */
/* libFuzzer harness: the one URI reader of the cluster plugins
 * (shim/plugins/uri.c), which decides what messages show, what
 * PIDLOCK_HELD exports and what `pidlock run` blanks in its argv
 * (DESIGN.md, guarantee 18).
 *
 * The input is a whole URI (the reader needs "SCHEME://"; one is put in
 * front when the input has none). Checked, beyond no crash or undefined
 * behaviour:
 *  - every span lies inside the text, in order;
 *  - the display of a URI, read again, has no password and no secret
 *    parameter, is not ambiguous, and displays as itself (one fixed point);
 *  - blanking keeps the length and the structure: the same spans, the
 *    password and every secret value all 'x', the rest byte for byte; an
 *    ambiguous URI keeps only its "SCHEME://";
 *  - a blanked URI quotes none of the original's secrets in its display;
 *  - the host list and the parameters are walked to their end.
 */
#include "../shim/plugins/uri.c" /* NOLINT(bugprone-suspicious-include): static helpers too */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void inside(const char *text, size_t len, struct pl_uri_span sp)
{
	if (sp.s && (sp.s < text || sp.s + sp.n > text + len))
		abort();
}

static void check_spans(const char *text, const struct pl_uri *u)
{
	size_t len = strlen(text);
	inside(text, len, u->scheme);
	inside(text, len, u->user);
	inside(text, len, u->password);
	inside(text, len, u->hosts);
	inside(text, len, u->path);
	inside(text, len, u->query);
	inside(text, len, u->fragment);
	size_t pos = 0, n = 0;
	struct pl_uri_span host, port;
	int bad;
	while (pl_uri_host_next(u, &pos, &host, &port, &bad)) {
		inside(text, len, host);
		inside(text, len, port);
		if (++n > len + 1)
			abort(); /* never loops */
	}
	struct pl_uri_param p;
	pos = 0;
	n = 0;
	while (pl_uri_param_next(u, &pos, &p)) {
		inside(text, len, p.key);
		inside(text, len, p.value);
		if (p.secret != pl_uri_secret_key(p.key.s, p.key.n) || ++n > len + 1)
			abort();
	}
}

/* The display of a URI is a URI without secrets, and its own display. */
static void check_display(const struct pl_uri *u)
{
	char shown[8192], again[8192];
	struct pl_uri d;
	if (pl_uri_display(u, shown, sizeof(shown)) < 0)
		return;
	if (pl_uri_read(shown, &d) < 0 || d.ambiguous || d.password.s)
		abort();
	struct pl_uri_param p;
	size_t pos = 0;
	while (pl_uri_param_next(&d, &pos, &p))
		if (p.secret || !p.has_eq)
			abort();
	check_spans(shown, &d);
	if (pl_uri_display(&d, again, sizeof(again)) < 0 || strcmp(shown, again) != 0)
		abort();
}

static void check_blank(const char *text, const struct pl_uri *u)
{
	size_t len = strlen(text);
	char *b = strdup(text);
	if (!b)
		abort();
	pl_uri_blank(b);
	if (strlen(b) != len)
		abort();
	size_t keep = u->scheme.n + 3;
	if (u->ambiguous) {
		if (memcmp(b, text, keep) != 0)
			abort();
		for (size_t i = keep; i < len; i++)
			if (b[i] != 'x')
				abort();
		free(b);
		return;
	}
	/* Every byte either the same or a secret's, now 'x'. */
	char *secret = calloc(len + 1, 1);
	if (!secret)
		abort();
	if (u->password.s)
		memset(secret + (u->password.s - text), 1, u->password.n);
	struct pl_uri_param p;
	size_t pos = 0;
	while (pl_uri_param_next(u, &pos, &p))
		if (p.secret)
			memset(secret + (p.value.s - text), 1, p.value.n);
	for (size_t i = 0; i < len; i++)
		if (secret[i] ? b[i] != 'x' : b[i] != text[i])
			abort();
	/* The blanked text reads the same way, so no secret moved. */
	struct pl_uri v;
	if (pl_uri_read(b, &v) < 0 || v.user.n != u->user.n || v.hosts.n != u->hosts.n ||
	    (v.password.s != NULL) != (u->password.s != NULL) || v.query.n != u->query.n)
		abort();
	free(secret);
	free(b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 4000)
		return 0;
	char *text = malloc(size + 16);
	if (!text)
		abort();
	memcpy(text, data, size);
	text[size] = '\0';
	if (strlen(text) != size || !strstr(text, "://")) {
		/* No NUL inside, and a scheme: what a PIDLOCK_FILE that reached a
		 * plugin always has. */
		size_t n = strnlen((const char *)data, size);
		memcpy(text, "pg://", 5);
		memcpy(text + 5, data, n);
		text[5 + n] = '\0';
	}
	struct pl_uri u;
	if (pl_uri_read(text, &u) == 0) {
		check_spans(text, &u);
		check_display(&u);
		check_blank(text, &u);
		pl_uri_quotes_secret(&u, "a message");
		char dec[256];
		pl_uri_decode(u.hosts.s ? u.hosts.s : "", u.hosts.n, dec, sizeof(dec));
	}
	free(text);
	return 0;
}
