/* SPDX-License-Identifier: MIT */
/* libFuzzer harness: the MySQL backend's URI (shim/plugins/mysql.c).
 *
 * The input, after "mysql://", is a whole PIDLOCK_FILE value: resolve runs
 * the URI reader (uri.c) and parse_uri, which turns the URI into
 * mysql_real_connect's arguments (the client library has no URI parser). Checked: no crash or undefined behaviour; a resolved URI has a
 * non-empty display; the display's user part carries no password; parse_uri accepts only ports 1-65535 and timeouts 1-3600;
 * server_name never gives more than 64 characters. No connection is made.
 */
#include "../shim/plugins/mysql.c" /* NOLINT(bugprone-suspicious-include): its static parser */
#include "../shim/plugins/plugin.c" /* NOLINT(bugprone-suspicious-include): what the plugin links */
#include "../shim/plugins/uri.c" /* NOLINT(bugprone-suspicious-include): the URI reader it links */
#include "../shim/core/core.h" /* the host table the core lends a plugin */

#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static size_t utf8_chars(const char *s)
{
	size_t n = 0;
	for (; *s; s++)
		n += ((unsigned char)*s & 0xc0) != 0x80;
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char scheme[] = "mysql://";
	static const struct pl_backend_host fuzz_host = {PL_BACKEND_ABI, pl_fail, plat_cmdline,
							 plat_now_ns, NULL};
	if (size > 4000)
		return 0;
	char *file = malloc(sizeof(scheme) + size);
	if (!file)
		abort();
	memcpy(file, scheme, sizeof(scheme) - 1);
	memcpy(file + sizeof(scheme) - 1, data, size);
	file[sizeof(scheme) - 1 + size] = '\0';
	const struct pl_backend *be = pidlock_backend_v1(&fuzz_host);
	if (!be)
		abort();
	struct pl_config cfg;
	memset(&cfg, 0, sizeof(cfg));
	cfg.file = file;
	cfg.quiet = 1;
	int r = be->resolve(&cfg);
	if (r == 0) {
		if (!cfg.path[0] || strnlen(cfg.path, sizeof(cfg.path)) >= sizeof(cfg.path))
			abort();
		/* The user part as shown has no ":PASSWORD": between "://" and
		 * the last '@' of the authority there is no ':'. */
		const char *p = strstr(cfg.path, "://") + 3;
		const char *auth_end = p + strcspn(p, "/?#");
		const char *at = NULL;
		for (const char *q = p; q < auth_end; q++)
			if (*q == '@')
				at = q;
		if (at && memchr(p, ':', (size_t)(at - p)))
			abort();
		struct target t;
		if (parse_uri(&cfg, &t) != 0)
			abort(); /* resolve accepted it */
		if (t.port > 65535 || t.timeout < 1 || t.timeout > 3600)
			abort();
		char name[NAME_BYTES];
		server_name(pl_uri_name(&cfg), name, sizeof(name));
		if (utf8_chars(name) > NAME_MAX_CHARS)
			abort();
	}
	free(file);
	return 0;
}
