/* SPDX-License-Identifier: MIT */
/* A lock as the command sees it, whatever its kind: the one place in the
 * command that tells a PID file from a backend's lock. run, status and stop
 * go through pl_target_*, so that fail, wait, replace and stop are the mode
 * driver's (shim/core/modes.c) for both, and status renders one struct
 * pl_look (render.c) for both.
 */
#include "cmd.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* ---- the backend of a URI ---- */

/* The folder the command opens a cluster backend from (backend.h): the one
 * holding the library `pidlock run` preloads (lib), as the shim in COMMAND
 * will; else the first of the library's places relative to this command
 * (those of pl_find_library) that has the plugin; else PL_LIBDIR. */
static void plugin_dir(const char *file, const char *lib, char *out, size_t n)
{
	const char *slash = lib ? strrchr(lib, '/') : NULL;
	if (slash && (size_t)(slash - lib) < n) {
		memcpy(out, lib, (size_t)(slash - lib));
		out[slash - lib] = '\0';
		return;
	}
	char exe[PATH_MAX] = "", path[PATH_MAX];
	if (plat_self_exe(exe, sizeof(exe)) && (slash = strrchr(exe, '/')))
		exe[slash - exe] = '\0';
	const char *const fmt[] = {"%s", "%s/../lib/pidlock", "%s/../lib/" PL_MULTIARCH "/pidlock"};
	for (int i = 0; i < 3 && *exe; i++) {
		if ((size_t)snprintf(out, n, fmt[i], exe) >= n)
			continue;
		if ((size_t)snprintf(path, sizeof(path), "%s/pidlock-%s" PL_PLUGIN_SUFFIX, out,
				     pl_backend_name(file)) < sizeof(path) &&
		    access(path, R_OK) == 0)
			return;
	}
	snprintf(out, n, "%s", PL_LIBDIR);
}

/* Opens the backend of t->cfg.file from dir, with the URI given on this
 * command's own command line (arg) blanked in place once the backend can
 * tell its secrets (DESIGN.md, guarantee 18: a password in argv is every
 * local user's to read for as long as a connection lasts). cfg->file keeps
 * a copy, which lives as long as the command. 0 or PL_EX_OSERR after one
 * line. */
static int open_backend(struct pl_target *t, char *arg, const char *dir)
{
	char *copy = strdup(arg);
	if (!copy) {
		fprintf(stderr, "pidlock: out of memory\n");
		return PL_EX_OSERR;
	}
	t->cfg.file = copy;
	int r = pl_backend_open(&t->cfg, copy, dir, &t->be);
	if (r || !t->be)
		return r ? r : PL_EX_OSERR;
	if (t->be->blank)
		t->be->blank(arg);
	return 0;
}

int pl_target_open(struct pl_target *t, char *arg, const char *lib)
{
	int r = pl_resolve_file(&t->cfg, arg);
	t->be = NULL;
	if (r || !pl_is_cluster(arg))
		return r;
	char dir[PATH_MAX];
	plugin_dir(arg, lib, dir, sizeof(dir));
	r = open_backend(t, arg, dir);
	return r ? r : t->be->resolve(&t->cfg);
}

int pl_target_acquire(struct pl_target *t, struct pl_lock *lk, const char *advertised)
{
	if (!t->be)
		return pl_acquire(&t->cfg, lk, geteuid(), getpid());
	int r = t->be->acquire(&t->cfg, lk, getpid(), advertised);
	/* The copy is needed no more once the backend has connected; on
	 * failure it stays, for --on-error run leaves it to COMMAND. */
	if (!r && t->be->blank)
		t->be->blank((char *)t->cfg.file);
	return r;
}

/* ---- a PID file's state ---- */

struct probe {
	int state;   /* LSB: 0 running, 1 stale file, 3 not running, 4 unknown */
	int outside; /* running, held from outside this PID namespace */
	pid_t pid;   /* holder, or the PID in a stale file */
	dev_t dev;
	ino_t ino;
	const char *why;
	char unsafe[PATH_MAX + 128]; /* why, for a path the walk refused */
};

/* Opens the PID file for a look, through the one walk of walk.c:
 * read-only, no O_CREAT, never following a link at the file, and only once
 * a look through O_PATH has shown a regular file of a real file system, for
 * opening a FIFO releases a writer blocked on it, opening a device runs its
 * driver, and /proc files are no PID files (DESIGN.md, guarantee 9). fstat
 * must then show the inode looked at; if the name changed in between, look
 * once more. check: the walk of `stop`, which signals and removes what it
 * finds, so that a path someone other than this user and root could
 * redirect is refused (4, naming the component); `status` only looks, and
 * goes where the path leads. Returns the descriptor, or -1 with p->state
 * and p->why. */
static int open_regular(const char *path, struct probe *p, int check)
{
	for (int attempt = 0; attempt < 2; attempt++) {
		struct pl_walk w;
		struct stat lst, st;
		const char *what = NULL;
		int r = pl_walk(path, geteuid(), check ? PL_WALK_CHECK : 0, &w);
		if (r > 0) {
			snprintf(p->unsafe, sizeof(p->unsafe), "%.*s%s", (int)w.bad, path, w.why);
			p->state = 4;
			p->why = p->unsafe;
			return -1;
		}
		if (r < 0 && errno == EAGAIN)
			continue; /* renamed during the walk: walk again */
		if (r < 0 || pl_walk_look(&w, &lst, &what) < 0) {
			int err = errno;
			pl_walk_close(&w);
			p->state = err == ENOENT ? 3 : 4;
			p->why = err == EMFILE || err == ENFILE || err == ENOMEM
				     ? "cannot examine the file: out of descriptors or memory"
				     : strerror(err);
			return -1;
		}
		if (what) {
			pl_walk_close(&w);
			p->state = 4;
			p->why = what;
			return -1;
		}
		int fd = pl_walk_open(&w, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY, 0);
		int err = errno;
		pl_walk_close(&w);
		if (fd < 0) {
			if (err == ENOENT || err == ELOOP)
				continue; /* replaced since the look: look again */
			p->state = 4;
			p->why = strerror(err);
			return -1;
		}
		if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_dev == lst.st_dev &&
		    st.st_ino == lst.st_ino) {
			p->dev = st.st_dev;
			p->ino = st.st_ino;
			return fd;
		}
		close(fd);
	}
	p->state = 4;
	p->why = "the file changed while being examined";
	return -1;
}
static void probe(const struct pl_config *cfg, struct probe *p, int *fd_out, int check)
{
	memset(p, 0, sizeof(*p));
	*fd_out = -1;
	int fd = open_regular(cfg->path, p, check);
	if (fd < 0)
		return;
	int locked = plat_is_locked(fd, p->dev, p->ino);
	if (locked < 0) {
		close(fd);
		p->state = 4;
		p->why = "cannot tell whether it is locked";
		return;
	}
	if (!locked) {
		/* A file a clean exit marked but could not remove (the program
		 * had dropped its privileges, and what removes it for such a
		 * program was stopped too): not a crash. */
		p->state = pl_is_clean_exit(fd) ? 3 : 1;
		p->pid = pl_read_pid_once(fd);
		close(fd);
		return;
	}
	p->pid = pl_find_holder(fd, p->dev, p->ino, getpid());
	if (p->pid < 0) { /* "cannot tell" is never "none" (DESIGN.md, guarantee 16) */
		close(fd);
		p->state = 4;
		p->pid = 0;
		p->why = errno == EMFILE || errno == ENFILE || errno == ENOMEM
			     ? "cannot examine the processes: out of descriptors or memory"
			     : "cannot examine the processes";
		return;
	}
	/* Locked, and no process here has it open: in a container, the holder
	 * is outside this PID namespace, on a shared volume (DESIGN.md,
	 * guarantee 15). */
	if (p->pid == 0 && plat_pidns_nested() == 1)
		p->outside = 1;
	*fd_out = fd;
}
/* pidlock(1), stop: once the lock is free, stop removes the file the stopped
 * instance left, so that status says 3, not 1, also when the program died of
 * the signal or its launcher left the file stale. Safely: only the inode
 * probed, opened and removed in the directory that holds it after a look at
 * the name (walk.c: pl_reopen_lock, pl_remove_lock), only while holding its
 * lock (a starter that opened this inode re-checks the path after locking
 * and retries: DESIGN.md, guarantee 1; one that holds it keeps its file),
 * only a file that looks like a PID file with one link (DESIGN.md,
 * guarantee 9: anything else is left intact). 0 removed or left on purpose,
 * -1 (errno) could not remove. */
static int remove_pidfile(const char *path, const struct probe *p)
{
	struct pl_lock want = {-1, p->dev, p->ino, PL_LOCK_FILE};
	struct stat st;
	int fd = pl_reopen_lock(path, &want, O_RDONLY);
	if (fd < 0)
		return errno == ENOENT || errno == ENOTDIR || errno == ELOOP ? 0 : -1;
	int r = 0;
	if (fstat(fd, &st) == 0 && flock(fd, LOCK_EX | LOCK_NB) == 0 &&
	    (st.st_size == 0 || pl_read_pid_once(fd) > 0) && pl_remove_lock(path, &want) < 0)
		r = -1;
	int e = errno;
	close(fd); /* releases our lock, after the unlink */
	errno = e;
	return r;
}

static int look_file(struct pl_target *t, struct pl_look *look)
{
	struct probe p;
	int fd;
	probe(&t->cfg, &p, &fd, 0);
	if (fd >= 0)
		close(fd);
	look->state = p.state;
	look->outside = p.outside;
	look->pid = p.pid;
	snprintf(look->why, sizeof(look->why), "%s", p.why ? p.why : "");
	if (p.state == 0 && p.pid > 0) {
		plat_cmdline(p.pid, look->command, sizeof(look->command));
		long long ms = plat_start_time_ms(p.pid);
		look->started = ms < 0 ? -1 : ms / 1000;
	}
	return look->state;
}

static int look_backend(struct pl_target *t, struct pl_look *look)
{
	struct pl_backend_status st;
	look->cluster = 1;
	look->state = t->be->status(&t->cfg, &st);
	look->key = st.key;
	if (look->state != 0)
		return look->state;
	look->pid = st.pid;
	look->session = st.session;
	look->started = st.started;
	snprintf(look->host, sizeof(look->host), "%s", st.host);
	snprintf(look->command, sizeof(look->command), "%s", st.command);
	snprintf(look->holder, sizeof(look->holder), "%s", st.holder); /* escaped by the backend */
	snprintf(look->fence, sizeof(look->fence), "%s", st.fence);
	look->identified = st.identified;
	return look->state;
}

int pl_target_look(struct pl_target *t, struct pl_look *look)
{
	memset(look, 0, sizeof(*look));
	look->started = -1;
	return t->be ? look_backend(t, look) : look_file(t, look);
}

/* ---- stop ---- */

static int stop_file(struct pl_target *t, int signo, long long timeout_ns, int quiet)
{
	struct probe p;
	int fd;
	probe(&t->cfg, &p, &fd, 1);
	if (p.state == 3)
		return 0; /* nothing holds it: already stopped */
	if (p.state == 4) {
		fprintf(stderr, "pidlock: %s: %s%s\n", t->cfg.path, p.why ? p.why : "unknown state",
			p.why == p.unsafe ? "; stop acts only through a path that nobody but this user "
					    "and root can change"
					  : "");
		return 1;
	}
	if (p.state == 0) {
		/* The modes' stop (modes.c): the signal to every verified holder,
		 * the timeout, SIGKILL; never a holder outside this PID namespace
		 * (DESIGN.md, guarantee 15), never this command's own ancestor. */
		struct pl_file_session fs;
		pl_file_session_init(&fs, &t->cfg, getpid());
		pl_file_session_use(&fs, fd, p.dev, p.ino);
		if (pl_stop_holders(&t->cfg, &fs.s, signo, timeout_ns, quiet))
			return 1;
	}
	/* The lock is free: the stopped instance's file, or a stale one. */
	if (remove_pidfile(t->cfg.path, &p) < 0 && !quiet)
		fprintf(stderr, "pidlock: %s: stopped, but the PID file stays: %s\n", t->cfg.path,
			strerror(errno));
	return 0;
}

int pl_target_stop(struct pl_target *t, int signo, long long timeout_ns, int quiet)
{
	/* A backend ends the holder's session (the holder is fenced). */
	if (t->be)
		return t->be->stop(&t->cfg, timeout_ns);
	return stop_file(t, signo, timeout_ns, quiet);
}
