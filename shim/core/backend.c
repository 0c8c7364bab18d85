/* SPDX-License-Identifier: MIT */
/* Opening a cluster backend (backend.h): pidlock-NAME.so, beside the core.
 *
 * Only a PIDLOCK_FILE (or FILE) that is a URI of a backend's scheme comes
 * here; a local lock never opens anything. The plugin is looked for in the
 * folder the core library itself was loaded from (dladdr), so wherever the
 * library is (the build tree, make install's PREFIX/lib/pidlock, the Debian
 * package's folder, a copy made by hand) its backends are found beside it,
 * and `pidlock run` needs to set nothing new. The command names its own
 * folder (shim/cmd/target.c), since it is not the library.
 *
 * No snprintf or malloc here: the core library imports only what the local
 * lock needs (scripts/imports.txt), and dlopen/dlsym/dladdr are in the C
 * library (glibc 2.34 and later, musl, macOS).
 */
#include "backend.h"
#include "core.h"
#include "sys.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>

/* Appends s to why (n bytes) after *len; cut to fit. */
static void why_put(char *why, size_t n, size_t *len, const char *s, size_t k)
{
	if (*len + k >= n)
		k = n - 1 - *len;
	pl_copy(why + *len, s, k);
	*len += k;
	why[*len] = '\0';
}

/* backend.h, open_trusted: the rule of the PID file's path (walk.c) for a
 * file the client library would otherwise read on its own, wherever HOME,
 * MYSQL_HOME or PGPASSFILE point: a folder another user owns must not
 * decide what root's program connects to, or which code it loads. */
static int open_trusted(const char *path, char *why, size_t n)
{
	struct pl_walk w;
	struct stat lst, st;
	const char *what = NULL;
	size_t len = 0;
	uid_t euid = plat_euid();
	if (n)
		why[0] = '\0';
	int r = path[0] == '/' ? pl_walk(path, euid, PL_WALK_CHECK, &w) : (errno = ENOENT, -1);
	if (r > 0) {
		why_put(why, n, &len, path, w.bad);
		why_put(why, n, &len, w.why, pl_len(w.why));
		errno = EACCES;
		return -1;
	}
	if (r < 0)
		return -1;
	int fd = -1;
	if (pl_walk_look(&w, &lst, &what) < 0) {
		pl_walk_close(&w);
		return -1;
	}
	if (!what && lst.st_uid != euid && (lst.st_uid != 0 || w.shared))
		what = "is owned by another user";
	else if (!what && (lst.st_mode & (S_IWGRP | S_IWOTH)))
		what = "is writable by group or others";
	if (!what) {
		fd = pl_walk_open(&w, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC, 0);
		if (fd >= 0 && (pl_fstat(fd, &st) < 0 || st.st_dev != lst.st_dev || st.st_ino != lst.st_ino)) {
			pl_close(fd);
			fd = -1;
			what = "changed while it was looked at";
		}
	}
	pl_walk_close(&w);
	if (what) {
		why_put(why, n, &len, path, pl_len(path));
		why_put(why, n, &len, ": ", 2);
		why_put(why, n, &len, what, pl_len(what));
		errno = EACCES;
	}
	return fd;
}

static const struct pl_backend_host host = {
    .abi = PL_BACKEND_ABI,
    .fail = pl_fail,
    .cmdline = plat_cmdline,
    .now_ns = plat_now_ns,
    .open_trusted = open_trusted,
};

static int put(char *out, size_t *len, size_t n, const char *s)
{
	size_t k = pl_len(s);
	if (*len + k >= n)
		return -1;
	pl_copy(out + *len, s, k);
	*len += k;
	out[*len] = '\0';
	return 0;
}

static int missing(const struct pl_config *cfg, const char *name, const char *path, const char *why)
{
	struct pl_msg m;
	pl_msg_init(&m);
	pl_msg_str(&m, "cluster mode (");
	pl_msg_str(&m, name);
	pl_msg_str(&m, "://) needs the pidlock plugin ");
	pl_msg_str(&m, path);
	pl_msg_str(&m, ", which cannot be loaded: ");
	pl_msg_str(&m, why ? why : "unknown error");
	pl_fail(&m, cfg, PL_EX_OSERR);
	return PL_EX_OSERR; /* never 0: *be stays NULL */
}

int pl_backend_open(const struct pl_config *cfg, const char *uri, const char *dir,
		    const struct pl_backend **be)
{
	const char *name = pl_backend_name(uri);
	char path[PATH_MAX] = "";
	size_t len = 0;
	Dl_info info;
	*be = NULL;
	if (!name)
		return missing(cfg, "?", "(none)", "not a cluster URI");
	if (!dir && dladdr((void *)pl_backend_open, &info) && info.dli_fname) {
		/* The core's folder: the part of its path up to the last '/'. A
		 * bare name (found through the loader's search path) leaves the
		 * plugin to the same search. */
		const char *f = info.dli_fname, *slash = NULL;
		for (const char *p = f; *p; p++)
			if (*p == '/')
				slash = p;
		if (slash && (size_t)(slash - f) + 1 < sizeof(path)) {
			len = (size_t)(slash - f) + 1;
			pl_copy(path, f, len);
			path[len] = '\0';
		}
	} else if (dir && (put(path, &len, sizeof(path), dir) || put(path, &len, sizeof(path), "/"))) {
		return missing(cfg, name, dir, "path too long");
	}
	if (put(path, &len, sizeof(path), "pidlock-") || put(path, &len, sizeof(path), name) ||
	    put(path, &len, sizeof(path), PL_PLUGIN_SUFFIX))
		return missing(cfg, name, "pidlock-*" PL_PLUGIN_SUFFIX, "path too long");
	void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (!h)
		return missing(cfg, name, path, dlerror());
	pl_backend_entry_fn *entry;
	void *sym = dlsym(h, PL_BACKEND_ENTRY);
	pl_copy((char *)&entry, (const char *)&sym, sizeof(entry)); /* object to function pointer */
	const struct pl_backend *b = sym ? entry(&host) : NULL;
	if (!b || b->abi != PL_BACKEND_ABI) {
		return missing(cfg, name, path,
			       "not a pidlock plugin of this version (" PL_BACKEND_ENTRY " is missing or "
			       "of another interface version)");
	}
	*be = b;
	return 0;
}

int pl_backend_acquire(struct pl_config *cfg, const char *dir, struct pl_lock *lk, pid_t self,
		       const char *cmdline, const struct pl_backend **be)
{
	int r = pl_backend_open(cfg, cfg->file, dir, be);
	if (!r)
		r = (*be)->resolve(cfg);
	if (!r)
		r = (*be)->acquire(cfg, lk, self, cmdline);
	/* Needed no more: the plugin has connected (and advertised). On
	 * failure the text stays, for PIDLOCK_ON_ERROR=run leaves it to the
	 * program's children. cfg->file is writable text: the environment's
	 * string, or the command's copy. */
	if (!r && (*be)->blank)
		(*be)->blank((char *)cfg->file);
	return r;
}

void pl_backend_adopt(const struct pl_config *cfg, const char *uri, struct pl_lock *lk,
		      pid_t instance)
{
	const struct pl_backend *be;
	lk->kind = PL_LOCK_PLUGIN;
	if (pl_backend_open(cfg, uri, NULL, &be) == 0)
		be->watch(lk->fd, instance, 1);
}
