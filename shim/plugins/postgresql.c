/* SPDX-License-Identifier: MIT */
/* Cluster mode: the lock is a PostgreSQL session-level advisory lock.
 *
 * The PostgreSQL backend (backend.h): built on its own as
 * pidlock-postgresql.so, opened by the core (backend.c) only for a
 * postgresql:// or postgres:// PIDLOCK_FILE, and reached only through the
 * table its one exported symbol returns. It links msg.c for its messages and
 * takes the rest (pl_fail, the command line, the clock) from the core's host
 * table: it calls no function of the core by name.
 *
 * PIDLOCK_FILE=postgresql://user@host:5432/db#NAME (or postgres://...). The
 * fragment names the lock and is removed before the URI goes to libpq. The
 * lock lives exactly as long as the session, and the session as long as its
 * socket: the socket is stored in the same struct pl_lock as a PID file's
 * descriptor (fd = PQsocket, dev/ino from fstat, kind PL_LOCK_PLUGIN), so
 * interpose.c keeps it
 * alive across close/dup2/close_range and exec of the instance itself without
 * knowing the difference. The shim never closes the session (never PQfinish
 * once the lock is held): the kernel closes the socket when the last process
 * holding it ends, and the server then ends the session and frees the lock.
 *
 * The advisory key is FNV-1a 64 of the NAME's bytes (as written in the URI,
 * no percent-decoding), taken as a signed bigint: pg_locks shows it as
 * locktype 'advisory', classid = high 32 bits, objid = low 32 bits,
 * objsubid = 1, in the database the URI names.
 *
 * libpq is loaded with dlopen only here, so the build has no dependency on it.
 * libpq allocates memory, so the local mode's "no allocation in the
 * constructor" (DESIGN.md, guarantee 10) does not hold in this mode; the local
 * (PID file) path is untouched.
 *
 * Fencing (plugin.c): the client side gives up on a silent peer after at
 * most 5 s (PL_KA_*, set through libpq's keepalive parameters); the server
 * side is asked, per session, to give up later (SV_* below).
 */
#include "plugin.h"
#include "../core/sys.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- timings (seconds): the client always gives up first ---- */
/* The client's side: PL_KA_* (plugin.h). */
/* Server: the backend's first probe comes at most SV_IDLE s after the last
 * packet it received, then it gives up after SV_USER_TIMEOUT s since that
 * packet; since the server's idle clock was refreshed at most SV_IDLE s
 * before a partition, it lets go at the earliest SV_USER_TIMEOUT - SV_IDLE =
 * 20 s after the partition, and at the latest about 30 s after it. */
#define SV_KA_IDLE 10
#define SV_KA_INTERVAL 5
#define SV_KA_COUNT 4
#define SV_USER_TIMEOUT_MS 30000
#define CONNECT_TIMEOUT "10" /* unless the URI sets connect_timeout */

/* ---- the part of libpq's ABI we use (no header needed to build) ---- */
typedef struct pg_conn PGconn;
typedef struct pg_result PGresult;
typedef struct {
	char *keyword, *envvar, *compiled, *val, *label, *dispchar;
	int dispsize;
} PQconninfoOption;
#define PQ_CONNECTION_OK 0
#define PQ_PGRES_COMMAND_OK 1
#define PQ_PGRES_TUPLES_OK 2
#define PQ_DIAG_SQLSTATE 'C'

static struct {
	PGconn *(*connectdbParams)(const char *const *, const char *const *, int);
	int (*status)(const PGconn *);
	char *(*errorMessage)(const PGconn *);
	void (*finish)(PGconn *);
	int (*socket)(const PGconn *);
	PGresult *(*exec)(PGconn *, const char *);
	PGresult *(*execParams)(PGconn *, const char *, int, const void *, const char *const *,
				const int *, const int *, int);
	int (*resultStatus)(const PGresult *);
	char *(*resultErrorField)(const PGresult *, int);
	char *(*resultErrorMessage)(const PGresult *);
	int (*ntuples)(const PGresult *);
	char *(*getvalue)(const PGresult *, int, int);
	void (*clear)(PGresult *);
	PQconninfoOption *(*conninfoParse)(const char *, char **);
	void (*conninfoFree)(PQconninfoOption *);
	void (*freemem)(void *);
	int (*pingParams)(const char *const *, const char *const *, int);
	void (*reset)(PGconn *);
	void *(*setNoticeProcessor)(PGconn *, void (*)(void *, const char *), void *);
} pq;
#define PQ_PING_OK 0
#define PQ_PING_NO_ATTEMPT 3

#ifdef __APPLE__
static const char *const pq_names[] = {"libpq.5.dylib", "/opt/homebrew/opt/libpq/lib/libpq.5.dylib",
				       "/usr/local/opt/libpq/lib/libpq.5.dylib"};
#define PQ_SONAME "libpq.5.dylib"
#else
static const char *const pq_names[] = {"libpq.so.5"};
#define PQ_SONAME "libpq.so.5"
#endif

/* 0, or -1 with why filled (dlerror's text). */
static int load_pq(const char **why)
{
	static void *h;
	static const struct pl_sym fns[] = {
#define FN(f, n) {#f, offsetof(__typeof__(pq), n)}
	    FN(PQconnectdbParams, connectdbParams), FN(PQstatus, status),
	    FN(PQerrorMessage, errorMessage),       FN(PQfinish, finish),
	    FN(PQsocket, socket),                   FN(PQexec, exec),
	    FN(PQexecParams, execParams),           FN(PQresultStatus, resultStatus),
	    FN(PQresultErrorField, resultErrorField), FN(PQresultErrorMessage, resultErrorMessage),
	    FN(PQntuples, ntuples),                 FN(PQgetvalue, getvalue),
	    FN(PQclear, clear),                     FN(PQconninfoParse, conninfoParse),
	    FN(PQconninfoFree, conninfoFree),       FN(PQfreemem, freemem),
	    FN(PQpingParams, pingParams),           FN(PQreset, reset),
	    FN(PQsetNoticeProcessor, setNoticeProcessor),
#undef FN
	};
	return pl_load(&h, pq_names, sizeof(pq_names) / sizeof(pq_names[0]), fns,
		       sizeof(fns) / sizeof(fns[0]), &pq,
		       "a function pidlock needs is missing (libpq older than 12?)", why);
}

/* ---- names ---- */

/* ---- connecting ---- */

static int pq_missing(const struct pl_config *cfg, const char *why)
{
	struct pl_msg m;
	pl_say(&m, cfg, "cluster mode needs libpq (" PQ_SONAME
		     ", Debian package libpq5), which cannot be loaded: ");
	pl_msg_str(&m, why ? why : "unknown error");
	return pl_host->fail(&m, cfg, PL_EX_OSERR);
}

/* ---- the files libpq reads on its own (DESIGN.md, guarantee 18) ---- */

/* libpq reads ~/.pgpass, a service file, and ~/.postgresql's certificate,
 * key and revocation list without asking who owns them: with HOME pointed
 * at another user's folder (a service's Environment=HOME=, sudo -E), that
 * user would choose the password root sends, the server a service names,
 * or the CA that verify-full trusts. Each is checked here first with the
 * host's open_trusted (the walk of the PID file: it and every folder above
 * it the caller's or root's, writable by nobody else). A file the URI or
 * the environment names must pass, or the start is refused (73): ignoring
 * it would quietly weaken what was asked for. A file found only by default
 * under HOME is ignored when it does not pass: libpq is given a path that
 * cannot exist (a child of a device) in its place, and reads nothing. */
static const char no_file[] = "/dev/null/pidlock";

static const struct {
	const char *key, *env, *home; /* the conninfo keyword, its variable, ~/ default */
} pq_files[] = {
    {"passfile", "PGPASSFILE", ".pgpass"},
    {"sslcert", "PGSSLCERT", ".postgresql/postgresql.crt"},
    {"sslkey", "PGSSLKEY", ".postgresql/postgresql.key"},
    {"sslrootcert", "PGSSLROOTCERT", ".postgresql/root.crt"},
    {"sslcrl", "PGSSLCRL", ".postgresql/root.crl"},
};
#define PQ_FILES (sizeof(pq_files) / sizeof(pq_files[0]))

/* 1 if libpq must not read path (why filled), else 0 (trusted, absent, or
 * an error libpq will report itself). */
static int untrusted(const char *path, char *why, size_t n)
{
	char abs[PATH_MAX], cwd[PATH_MAX];
	if (path[0] != '/') { /* libpq opens it relative to the working directory */
		if (!getcwd(cwd, sizeof(cwd)) ||
		    (size_t)snprintf(abs, sizeof(abs), "%s/%s", cwd, path) >= sizeof(abs))
			return 0;
		path = abs;
	}
	int fd = pl_host->open_trusted(path, why, n);
	if (fd >= 0) {
		close(fd);
		return 0;
	}
	return errno == EACCES;
}

static const char *opt_val(PQconninfoOption *opts, const char *key)
{
	for (PQconninfoOption *o = opts; o->keyword; o++)
		if (o->val && *o->val && strcmp(o->keyword, key) == 0)
			return o->val;
	return NULL;
}

/* Fills over[i] with no_file for each default file to ignore. 0, or 73
 * after one line for a named file (or a service file) that fails. */
static int check_files(const struct pl_config *cfg, PQconninfoOption *opts, const char *over[])
{
	char why[PATH_MAX + 256], path[PATH_MAX];
	struct pl_msg m;
	const char *home = getenv("HOME");
	for (size_t i = 0; i < PQ_FILES; i++) {
		over[i] = NULL;
		const char *named = opt_val(opts, pq_files[i].key);
		if (!named)
			named = getenv(pq_files[i].env);
		if (named && strcmp(named, "system") != 0 && untrusted(named, why, sizeof(why))) {
			pl_say(&m, cfg, "will not let libpq read a file someone else could have written: ");
			pl_msg_text(&m, why, strlen(why));
			return pl_host->fail(&m, cfg, PL_EX_CANTCREAT);
		}
		if (!named && home && *home &&
		    (size_t)snprintf(path, sizeof(path), "%s/%s", home, pq_files[i].home) < sizeof(path) &&
		    untrusted(path, why, sizeof(why))) {
			over[i] = no_file;
			if (cfg->verbose) {
				pl_say(&m, cfg, "ignoring a file someone else could have written: ");
				pl_msg_text(&m, why, strlen(why));
				pl_msg_send(&m);
			}
		}
	}
	/* A service names the server and the rest: never from a file of
	 * someone else's. */
	const char *service = opt_val(opts, "service");
	if (!service)
		service = getenv("PGSERVICE");
	if (!service)
		return 0;
	const char *file = getenv("PGSERVICEFILE");
	if (!file && home && *home && (size_t)snprintf(path, sizeof(path), "%s/.pg_service.conf", home) < sizeof(path))
		file = path;
	int bad = file && untrusted(file, why, sizeof(why));
	const char *sys = getenv("PGSYSCONFDIR");
	char sysfile[PATH_MAX];
	if (!bad && sys && (size_t)snprintf(sysfile, sizeof(sysfile), "%s/pg_service.conf", sys) < sizeof(sysfile))
		bad = untrusted(sysfile, why, sizeof(why));
	if (!bad)
		return 0;
	pl_say(&m, cfg, "will not let libpq read a service file someone else could have written: ");
	pl_msg_text(&m, why, strlen(why));
	return pl_host->fail(&m, cfg, PL_EX_CANTCREAT);
}

/* Copies "scheme://...?..." without the fragment. NULL if it cannot. */
static char *uri_without_fragment(const char *file)
{
	size_t n = strcspn(file, "#");
	char *s = malloc(n + 1);
	if (s) {
		strncpy(s, file, n); /* not memmove: GCC makes that memcpy, a newer symbol version */
		s[n] = '\0';
	}
	return s;
}

/* Connects as the URI says, with our application_name and, when `fence`,
 * the keepalive settings on both sides. NULL after printing one line. */
static void no_notice(void *arg, const char *text)
{
	(void)arg;
	(void)text;
}

/* Connects as the URI says. NULL after one line, with the status in
 * *status; with later (wait mode's retries), a refused or unanswered
 * connection is not said but put in *later, and *status is -1: the
 * server may come back (PQpingParams: it did not answer, or answered that
 * it does not accept connections now), unlike a refused password. */
static PGconn *connect_uri(const struct pl_config *cfg, const char *label, int fence, int *status,
			   struct pl_msg *later)
{
	const char *why = NULL;
	struct pl_msg m;
	*status = 0;
	if (load_pq(&why)) {
		*status = pq_missing(cfg, why);
		return NULL;
	}
	char *uri = uri_without_fragment(cfg->file);
	if (!uri) {
		pl_say(&m, cfg, "out of memory");
		*status = pl_host->fail(&m, cfg, PL_EX_OSERR);
		return NULL;
	}
	/* The user's own options and connect_timeout are kept. */
	char *err = NULL;
	PQconninfoOption *opts = pq.conninfoParse(uri, &err);
	if (!opts) {
		pl_say(&m, cfg, "invalid connection URI");
		pl_say_first_line(&m, cfg, err);
		if (err)
			pq.freemem(err);
		free(uri);
		*status = pl_host->fail(&m, cfg, PL_EX_CONFIG);
		return NULL;
	}
	const char *over[PQ_FILES] = {NULL};
	if ((*status = check_files(cfg, opts, over)) != 0) {
		pq.conninfoFree(opts);
		free(uri);
		return NULL;
	}
	const char *user_options = NULL, *timeout = CONNECT_TIMEOUT;
	for (PQconninfoOption *o = opts; o->keyword; o++) {
		if (!o->val || !*o->val)
			continue;
		if (strcmp(o->keyword, "options") == 0)
			user_options = o->val;
		else if (strcmp(o->keyword, "connect_timeout") == 0)
			timeout = o->val;
	}
	char options[1024];
	snprintf(options, sizeof(options),
		 "%s%s-c tcp_keepalives_idle=%d -c tcp_keepalives_interval=%d"
		 " -c tcp_keepalives_count=%d -c tcp_user_timeout=%d",
		 user_options ? user_options : "", user_options ? " " : "", SV_KA_IDLE,
		 SV_KA_INTERVAL, SV_KA_COUNT, SV_USER_TIMEOUT_MS);
	char idle[16], intvl[16], count[16], utmo[16];
	snprintf(idle, sizeof(idle), "%d", PL_KA_IDLE);
	snprintf(intvl, sizeof(intvl), "%d", PL_KA_INTERVAL);
	snprintf(count, sizeof(count), "%d", PL_KA_COUNT);
	snprintf(utmo, sizeof(utmo), "%d", PL_USER_TIMEOUT_MS);
	const char *keys[16 + PQ_FILES], *vals[16 + PQ_FILES];
	int k = 0;
	keys[k] = "dbname", vals[k++] = uri;
	keys[k] = "application_name", vals[k++] = label;
	keys[k] = "connect_timeout", vals[k++] = timeout;
	if (fence) {
		keys[k] = "options", vals[k++] = options;
		keys[k] = "keepalives", vals[k++] = "1";
		keys[k] = "keepalives_idle", vals[k++] = idle;
		keys[k] = "keepalives_interval", vals[k++] = intvl;
		keys[k] = "keepalives_count", vals[k++] = count;
		keys[k] = "tcp_user_timeout", vals[k++] = utmo;
	}
	for (size_t i = 0; i < PQ_FILES; i++) /* after dbname: these win */
		if (over[i])
			keys[k] = pq_files[i].key, vals[k++] = over[i];
	keys[k] = NULL, vals[k] = NULL;
	PGconn *c = pq.connectdbParams(keys, vals, 1);
	int ping = PQ_PING_OK;
	if (later && c && pq.status(c) != PQ_CONNECTION_OK)
		ping = pq.pingParams(keys, vals, 1);
	pq.conninfoFree(opts);
	free(uri);
	if (!c || pq.status(c) != PQ_CONNECTION_OK) {
		pl_say(&m, cfg, "cannot connect");
		pl_say_first_line(&m, cfg, c ? pq.errorMessage(c) : "out of memory");
		if (c)
			pq.finish(c);
		if (later && ping != PQ_PING_OK && ping != PQ_PING_NO_ATTEMPT) {
			*later = m;
			*status = -1;
			return NULL;
		}
		*status = pl_host->fail(&m, cfg, PL_EX_CANTCREAT);
		return NULL;
	}
	/* The server's notices ("terminating connection due to immediate
	 * shutdown") are not the program's to print: libpq's default would
	 * write them to its stderr. The reason reaches our own line. */
	pq.setNoticeProcessor(c, no_notice, NULL);
	return c;
}

/* ---- queries ---- */

/* Runs sql with up to two text parameters. NULL (and *sqlstate set, and a
 * line in m when given) on error. */
static PGresult *query(PGconn *c, const char *sql, const char *p1, const char *p2, char sqlstate[6])
{
	const char *params[2] = {p1, p2};
	int n = p2 ? 2 : p1 ? 1 : 0;
	PGresult *r = pq.execParams(c, sql, n, NULL, params, NULL, NULL, 0);
	int st = r ? pq.resultStatus(r) : -1;
	if (st == PQ_PGRES_TUPLES_OK || st == PQ_PGRES_COMMAND_OK)
		return r;
	const char *s = r ? pq.resultErrorField(r, PQ_DIAG_SQLSTATE) : NULL;
	snprintf(sqlstate, 6, "%s", s ? s : "");
	if (r)
		pq.clear(r);
	return NULL;
}

static void key_params(int64_t key, char skey[24], char hi[16], char lo[16])
{
	uint64_t u;
	memmove(&u, &key, sizeof(u));
	snprintf(skey, 24, "%lld", (long long)key);
	snprintf(hi, 16, "%lu", (unsigned long)(u >> 32));
	snprintf(lo, 16, "%lu", (unsigned long)(u & 0xffffffffUL));
}

/* Who holds it: from pg_locks joined with pg_stat_activity, in this database. */
struct holder {
	struct pl_holder base; /* session: the backend's PID; started: its start */
	char label[128];
	char client[64];
};

static const char holder_sql[] =
    "SELECT l.pid, coalesce(a.application_name, ''), coalesce(host(a.client_addr), ''),"
    " coalesce(extract(epoch from a.backend_start)::bigint, -1)"
    " FROM pg_locks l LEFT JOIN pg_stat_activity a ON a.pid = l.pid"
    " WHERE l.locktype = 'advisory' AND l.classid = $1::oid AND l.objid = $2::oid"
    " AND l.objsubid = 1 AND l.granted"
    " AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())"
    " ORDER BY a.backend_start DESC NULLS LAST LIMIT 1";

static void find_holder(PGconn *c, int64_t key, struct holder *h)
{
	char skey[24], hi[16], lo[16], st[6];
	memset(h, 0, sizeof(*h));
	h->base.started = -1;
	key_params(key, skey, hi, lo);
	PGresult *r = query(c, holder_sql, hi, lo, st);
	if (!r)
		return;
	if (pq.ntuples(r) > 0) {
		h->base.found = 1;
		h->base.session = strtoll(pq.getvalue(r, 0, 0), NULL, 10);
		snprintf(h->label, sizeof(h->label), "%s", pq.getvalue(r, 0, 1));
		snprintf(h->client, sizeof(h->client), "%s", pq.getvalue(r, 0, 2));
		h->base.started = strtoll(pq.getvalue(r, 0, 3), NULL, 10);
	}
	pq.clear(r);
	pl_label_read(h->label, &h->base.who);
}

static void msg_holder(struct pl_msg *m, const struct holder *h)
{
	const struct pl_who *w = &h->base.who;
	if (!h->base.found) {
		pl_msg_str(m, "another session (gone since)");
	} else if (w->pid) {
		pl_msg_instance(m, w->pid, w->host, w->cmd);
	} else {
		/* Any role may set its application_name to anything: escaped. */
		pl_msg_str(m, "a session that is not pidlock's (backend PID ");
		pl_msg_num(m, h->base.session);
		if (h->label[0]) {
			pl_msg_str(m, ", application_name ");
			pl_msg_text(m, h->label, sizeof(h->label));
		}
		if (h->client[0]) {
			pl_msg_str(m, ", from ");
			pl_msg_text(m, h->client, sizeof(h->client));
		}
		pl_msg_str(m, ")");
	}
}

/* Sets lock_timeout (0 = none); -1 on error. */
static int set_lock_timeout(PGconn *c, long long ns)
{
	char v[32], st[6];
	long long ms = ns == PL_FOREVER ? 0 : (ns + 999999) / 1000000;
	if (ms > 0x7fffffffLL)
		ms = 0x7fffffffLL;
	if (ns != PL_FOREVER && ms == 0)
		ms = 1;
	snprintf(v, sizeof(v), "%lld", ms);
	PGresult *r = query(c, "SELECT set_config('lock_timeout', $1, false)", v, NULL, st);
	if (!r)
		return -1;
	pq.clear(r);
	return 0;
}

/* pg_advisory_lock under lock_timeout: 1 locked, 0 timed out, -1 error. */
static int lock_blocking(PGconn *c, const char *skey, long long ns)
{
	char st[6];
	if (set_lock_timeout(c, ns))
		return -1;
	PGresult *r = query(c, "SELECT pg_advisory_lock($1::bigint)", skey, NULL, st);
	if (r) {
		pq.clear(r);
		set_lock_timeout(c, PL_FOREVER);
		return 1;
	}
	return strcmp(st, "55P03") == 0 ? 0 : -1; /* lock_not_available */
}

/* ---- fencing ---- */

/* ---- the session, as the mode driver drives it (shim/core/modes.c) ---- */

struct pg_session {
	PGconn *c;
	const struct pl_config *cfg;
	int64_t key;
	char skey[24];
	struct pl_ended ended; /* the holders this session ended */
};

static int s_lock(const struct pl_session *s, long long ns)
{
	struct pg_session *p = s->conn;
	char st[6];
	if (ns != 0)
		return lock_blocking(p->c, p->skey, ns);
	/* The first try: a server-wide statement_timeout must not end the
	 * waits that may follow either. */
	PGresult *r = query(p->c, "SELECT set_config('statement_timeout', '0', false),"
				  " pg_try_advisory_lock($1::bigint)",
			    p->skey, NULL, st);
	if (!r)
		return -1;
	int got = strcmp(pq.getvalue(r, 0, 1), "t") == 0;
	pq.clear(r);
	return got;
}

static long long s_holder(const struct pl_session *s, struct pl_msg *m)
{
	struct pg_session *p = s->conn;
	struct holder h;
	find_holder(p->c, p->key, &h);
	if (m)
		msg_holder(m, &h);
	return pl_holder_id(&h.base);
}

static int s_end(const struct pl_session *s, long long id, int signo, char *why, size_t n)
{
	(void)signo; /* a session is ended, not signalled: the first request and SIGKILL alike */
	if (id <= 0)
		return 0; /* no session to end */
	struct pg_session *p = s->conn;
	struct holder h;
	find_holder(p->c, p->key, &h);
	if (p->cfg->verbose) {
		struct pl_msg m;
		pl_say(&m, p->cfg, "ending the session of ");
		msg_holder(&m, &h);
		pl_msg_send(&m);
	}
	/* Noted before it is ended: where it runs decides how long the new
	 * instance waits (settle). */
	pl_ended_holder(&p->ended, &h.base, id);
	char b[24], st[6];
	snprintf(b, sizeof(b), "%lld", id);
	PGresult *r = query(p->c, "SELECT pg_terminate_backend($1::int)", b, NULL, st);
	if (r) { /* false: no such backend any more, which is what we want */
		pq.clear(r);
		return 0;
	}
	snprintf(why, n, "pg_terminate_backend(%lld) refused (SQLSTATE %s): ending another role's "
		 "session needs membership in pg_signal_backend", id, st);
	return -1;
}

static void s_say_error(const struct pl_session *s, struct pl_msg *m)
{
	struct pg_session *p = s->conn;
	pl_say_first_line(m, p->cfg, pq.errorMessage(p->c));
}

static void s_close(const struct pl_session *s)
{
	pq.finish(((struct pg_session *)s->conn)->c);
}

/* A session that waits and then holds: a server-wide idle_session_timeout
 * (from 14 on: an error from older servers is ignored) must not end it, nor
 * statement_timeout its wait (the first try sets that one, s_lock; a
 * session connected again sets it here: all). */
static void session_settings(PGconn *c, int all)
{
	PGresult *r = pq.exec(c, all ? "SET statement_timeout = 0; SET idle_session_timeout = 0"
				     : "SET idle_session_timeout = 0");
	if (r)
		pq.clear(r);
}

/* Wait mode: the same connection's parameters again (PQreset), while the
 * server does not answer or refuses for now. */
static int s_reconnect(const struct pl_session *s, long long left)
{
	struct pg_session *p = s->conn;
	struct pl_retry r;
	pl_retry_init(&r, left);
	for (;;) {
		struct pl_msg m;
		pl_say(&m, p->cfg, "lost the session while waiting");
		pl_say_first_line(&m, p->cfg, pq.errorMessage(p->c));
		if (!pl_retry_pause(&r, p->cfg, &m))
			return -1;
		pq.reset(p->c);
		if (pq.status(p->c) == PQ_CONNECTION_OK) {
			session_settings(p->c, 1);
			return 0;
		}
	}
}

static void s_settle(const struct pl_session *s)
{
	const struct pg_session *p = s->conn;
	pl_settle(p->cfg, &p->ended);
}

static void session_init(struct pl_session *s, struct pg_session *p, PGconn *c,
			 const struct pl_config *cfg, char *id, size_t n)
{
	memset(p, 0, sizeof(*p));
	p->c = c;
	p->cfg = cfg;
	p->key = pl_name_key(pl_uri_name(cfg));
	char hi[16], lo[16];
	key_params(p->key, p->skey, hi, lo);
	snprintf(id, n, "advisory key %s", p->skey);
	*s = (struct pl_session){.conn = p, .noun = "advisory lock", .id = id, .fail = pl_host->fail,
				 .lock = s_lock, .holder = s_holder, .end = s_end,
				 .say_error = s_say_error, .close = s_close, .settle = s_settle};
	if (cfg->mode == PL_MODE_WAIT)
		s->reconnect = s_reconnect;
}

/* The fencing token: a transaction ID, taken once the lock is held. Each
 * call assigns a new one, and the server never hands out one it has handed
 * out before (the 64-bit, epoch-extended form), so every later acquisition
 * of any lock on this server gets a greater one. No table, no privilege.
 * A transaction that only assigned an ID commits without waiting for its
 * WAL, which a crash within the next 200 ms would lose, and the ID with it:
 * the empty transactional message (pg_logical_emit_message) makes it write
 * WAL, so the commit, under synchronous_commit = on, is flushed before the
 * token is handed out and survives any restart. Where that function is
 * not granted, the ID alone. The label is then set again with the token in
 * it, for status. A standby assigns none: no token then (one verbose line). */
static const char token_sql[] =
    "SELECT t::text, set_config('application_name', 'pidlock:' || t::text || ' ' || $1, false),"
    " set_config('synchronous_commit', 'on', true), pg_logical_emit_message(true, 'pidlock', '')"
    " FROM (SELECT txid_current() AS t) x";
static const char token_sql_plain[] =
    "SELECT t::text, set_config('application_name', 'pidlock:' || t::text || ' ' || $1, false)"
    " FROM (SELECT txid_current() AS t) x";

static void take_token(PGconn *c, const struct pl_config *cfg, const char *label)
{
	char st[6];
	PGresult *r = query(c, token_sql, label + 8, NULL, st);
	if (!r)
		r = query(c, token_sql_plain, label + 8, NULL, st);
	if (!r || pq.ntuples(r) != 1) {
		pl_fence_keep("");
		if (cfg->verbose) {
			struct pl_msg m;
			pl_say(&m, cfg, "no fencing token (txid_current)");
			pl_say_first_line(&m, cfg, pq.errorMessage(c));
			pl_msg_send(&m);
		}
		if (r)
			pq.clear(r);
		return;
	}
	pl_fence_keep(pq.getvalue(r, 0, 0));
	pq.clear(r);
}

/* ---- acquiring ---- */

static int pg_acquire(const struct pl_config *cfg, struct pl_lock *lk, pid_t self,
		      const char *cmdline)
{
	char label[64], id[48];
	int status;
	struct pl_session s;
	struct pg_session p;
	pl_label(label, sizeof(label), cfg, self, cmdline); /* the server keeps 63 bytes */
	struct pl_retry retry;
	struct pl_msg later;
	pl_retry_init(&retry, cfg->mode == PL_MODE_WAIT ? cfg->timeout_ns : 0);
	PGconn *c;
	while (!(c = connect_uri(cfg, label, 1, &status, cfg->mode == PL_MODE_WAIT ? &later : NULL))) {
		if (status != -1)
			return status;
		if (!pl_retry_pause(&retry, cfg, &later))
			return pl_host->fail(&later, cfg, PL_EX_CANTCREAT);
	}
	session_settings(c, 0);
	session_init(&s, &p, c, cfg, id, sizeof(id));
	if ((status = pl_take_session(cfg, &s)) != 0)
		return status;
	take_token(c, cfg, label);
	/* From here on the session is the lock: never PQfinish it. */
	return pl_hold(cfg, pq.socket(c), self, cmdline == NULL, lk);
}

/* ---- status and stop: for the command, which renders what status finds
 * (shim/cmd/target.c, render.c) ---- */

static int pg_status(const struct pl_config *cfg, struct pl_backend_status *st)
{
	int status;
	struct holder h = {0};
	struct pl_msg m;
	m.len = 0;
	PGconn *c = connect_uri(cfg, "pidlock status", 0, &status, NULL);
	int reached = c != NULL;
	if (c) {
		find_holder(c, pl_name_key(pl_uri_name(cfg)), &h);
		pq.finish(c);
		msg_holder(&m, &h);
	}
	return pl_status_put(st, cfg, reached, &h.base, &m);
}

static int pg_stop(const struct pl_config *cfg, long long timeout_ns)
{
	int status;
	char id[48];
	struct pl_session s;
	struct pg_session p;
	PGconn *c = connect_uri(cfg, "pidlock stop", 0, &status, NULL);
	if (!c)
		return 1;
	session_init(&s, &p, c, cfg, id, sizeof(id));
	return pl_stop_holders(cfg, &s, SIGTERM, timeout_ns, 0);
}

/* ---- the table pidlock_backend_v1 (plugin.c) returns ---- */

const struct pl_backend pl_backend_table = {
    .abi = PL_BACKEND_ABI,
    .name = "postgresql",
    .resolve = pl_uri_resolve,
    .acquire = pg_acquire,
    .watch = pl_watch,
    .status = pg_status,
    .stop = pg_stop,
    .blank = pl_uri_blank,
    .publish = pl_publish,
};
