/* SPDX-License-Identifier: MIT */
/* Cluster mode on MySQL or MariaDB: the lock is a GET_LOCK user lock.
 *
 * The MySQL backend (backend.h): built on its own as pidlock-mysql.so,
 * opened by the core only for a mysql:// or mariadb:// PIDLOCK_FILE, and
 * reached only through the table its one exported symbol returns. What it
 * shares with the other backends (the URI as messages show it, the label,
 * the fencing) is plugin.c.
 *
 * PIDLOCK_FILE=mysql://user[:password]@host[:port][/db][?param=...]#NAME. The
 * client library is MariaDB Connector/C (libmariadb.so.3), which speaks to
 * MySQL and MariaDB servers alike; it is loaded with dlopen only here, so the
 * build depends on nothing of it. It has no URI parser: this file parses the
 * URI (parse_uri) into mysql_real_connect's arguments and a few options.
 *
 * GET_LOCK(name, timeout) is held by the session and freed by the server when
 * the session ends, however it ends. The session's socket is kept as the lock
 * descriptor (struct pl_lock, kind PL_LOCK_PLUGIN), so interpose.c keeps it
 * alive across close/dup2/close_range and exec of the instance itself; the
 * shim never closes the session.
 *
 * Once the lock is held the session sends one last statement and never reads
 * its answer: DO SLEEP(999999999), 'pidlock PID HOST CMDLINE'. That statement
 * is what `status` and a refused instance read back (PROCESSLIST.INFO: the
 * holder advertises itself on any server, performance_schema or not), and a
 * session running a statement is not idle, so wait_timeout (often minutes on
 * tuned servers) cannot end it. The price: the server looks at a sleeping
 * session's client only every 5 s, so a holder killed with -9 frees the lock
 * within 5 s, not at once (docs/cluster.md, Measured).
 *
 * Lock names are server-wide (not per database) and MySQL refuses names of
 * more than 64 characters: a longer NAME becomes its first 40 characters,
 * '~', and the 16 hex digits of its FNV-1a 64 hash (server_name).
 *
 * Fencing (plugin.c): this side gives up on a silent server after at most
 * 5 s (PL_KA_*, set on the socket). The server side cannot be asked per
 * session: MariaDB's tcp_keepalive_* are global, MySQL follows the kernel's
 * defaults, so docs/cluster.md says what to set on the server.
 */
#include "plugin.h"
#include "../core/sys.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define CONNECT_TIMEOUT 10 /* seconds, unless the URI sets connect-timeout */
/* The holder's last statement: about 31 years, the longest a session can be
 * asked to sleep that MySQL and MariaDB both accept. */
#define SLEEP_SECONDS "999999999"
/* GET_LOCK's wait, in seconds per call; "forever" is a loop of these. */
#define WAIT_CHUNK_S 31536000LL
/* wait_timeout of a session that does not hold the lock yet (seconds): a
 * waiter granted the lock while cut off from its client never sends its
 * next statement, and the server, whose write of GET_LOCK's answer to a
 * silent peer no keepalive bounds, ends it after this long. Raised to a
 * year (HELD_IDLE) as soon as the lock is ours. */
#define WAITER_IDLE "10"
#define HELD_IDLE "31536000" /* a year: the largest both servers accept */
#define NAME_MAX_CHARS 64 /* MySQL's limit for a lock name */
#define NAME_KEEP_CHARS 40
/* A server name in bytes: 64 characters of up to 4 bytes, and a NUL. */
#define NAME_BYTES (NAME_MAX_CHARS * 4 + 1)
/* That name as an SQL literal: every byte escaped, quotes, NUL. */
#define LITERAL_BYTES (2 * NAME_BYTES + 3)

/* ---- the part of libmariadb's ABI we use (no header needed to build) ---- */
typedef struct st_mysql MYSQL;
typedef struct st_mysql_res MYSQL_RES;
typedef char **MYSQL_ROW;
/* enum mysql_option, MariaDB Connector/C 3.x (mysql.h) */
#define OPT_CONNECT_TIMEOUT 0
#define OPT_SET_CHARSET_NAME 7
#define OPT_SSL_VERIFY_SERVER_CERT 21
#define OPT_SSL_KEY 25
#define OPT_SSL_CERT 26
#define OPT_SSL_CA 27
#define OPT_SSL_CAPATH 28
#define OPT_SSL_ENFORCE 38
#define ER_NO_SUCH_THREAD 1094

static struct {
	MYSQL *(*init)(MYSQL *);
	int (*options)(MYSQL *, int, const void *);
	MYSQL *(*real_connect)(MYSQL *, const char *, const char *, const char *, const char *,
			       unsigned int, const char *, unsigned long);
	int (*real_query)(MYSQL *, const char *, unsigned long);
	int (*send_query)(MYSQL *, const char *, unsigned long);
	MYSQL_RES *(*store_result)(MYSQL *);
	MYSQL_ROW (*fetch_row)(MYSQL_RES *);
	void (*free_result)(MYSQL_RES *);
	const char *(*error)(MYSQL *);
	unsigned int (*err_no)(MYSQL *);
	void (*close)(MYSQL *);
	int (*get_socket)(MYSQL *);
	unsigned long (*escape)(MYSQL *, char *, const char *, unsigned long);
	unsigned long (*thread_id)(MYSQL *);
} my;

#ifdef __APPLE__
static const char *const my_names[] = {
    "libmariadb.3.dylib", "/opt/homebrew/lib/mariadb/libmariadb.3.dylib",
    "/opt/homebrew/opt/mariadb-connector-c/lib/mariadb/libmariadb.3.dylib",
    "/usr/local/lib/mariadb/libmariadb.3.dylib"};
#define MY_SONAME "libmariadb.3.dylib"
#define MY_PACKAGE "Homebrew: mariadb-connector-c"
#else
static const char *const my_names[] = {"libmariadb.so.3"};
#define MY_SONAME "libmariadb.so.3"
#define MY_PACKAGE "Debian package libmariadb3"
#endif

/* 0, or -1 with why filled (dlerror's text). */
static int load_my(const char **why)
{
	static void *h;
	static const struct pl_sym fns[] = {
#define FN(f, n) {#f, offsetof(__typeof__(my), n)}
	    FN(mysql_init, init),
	    FN(mysql_options, options),
	    FN(mysql_real_connect, real_connect),
	    FN(mysql_real_query, real_query),
	    FN(mysql_send_query, send_query),
	    FN(mysql_store_result, store_result),
	    FN(mysql_fetch_row, fetch_row),
	    FN(mysql_free_result, free_result),
	    FN(mysql_error, error),
	    FN(mysql_errno, err_no),
	    FN(mysql_close, close),
	    FN(mysql_get_socket, get_socket),
	    FN(mysql_real_escape_string, escape),
	    FN(mysql_thread_id, thread_id),
#undef FN
	};
	return pl_load(&h, my_names, sizeof(my_names) / sizeof(my_names[0]), fns,
		       sizeof(fns) / sizeof(fns[0]), &my,
		       "a function pidlock needs is missing (not MariaDB Connector/C 3?)", why);
}

/* ---- the URI ---- */

#define FIELD 256
struct target {
	char host[FIELD], user[FIELD], pass[FIELD], db[FIELD];
	char sock[PATH_MAX];
	char ssl_ca[PATH_MAX], ssl_capath[PATH_MAX], ssl_cert[PATH_MAX], ssl_key[PATH_MAX];
	unsigned port, timeout;
	int has_user, has_pass, ssl; /* ssl: 0 as the library does, 1 required, 2 verified */
	int ssl_set;                 /* the URI said ssl-mode */
};

/* Decodes a query key, lower case, '_' read as '-'. */
static int decode_key(const char *s, size_t len, char *out, size_t n)
{
	if (pl_uri_decode(s, len, out, n))
		return -1;
	for (char *p = out; *p; p++) {
		if (*p == '_')
			*p = '-';
		else if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	}
	return 0;
}

static int bad_uri(const struct pl_config *cfg, const char *what, const char *detail)
{
	struct pl_msg m;
	pl_say(&m, cfg, what);
	if (detail)
		pl_msg_str(&m, detail);
	return pl_host->fail(&m, cfg, PL_EX_CONFIG);
}

static int set_param(const struct pl_config *cfg, struct target *t, const char *key,
		     const char *val)
{
	static const struct {
		const char *key;
		size_t off;
	} paths[] = {
	    {"socket", offsetof(struct target, sock)},
	    {"ssl-ca", offsetof(struct target, ssl_ca)},
	    {"ssl-capath", offsetof(struct target, ssl_capath)},
	    {"ssl-cert", offsetof(struct target, ssl_cert)},
	    {"ssl-key", offsetof(struct target, ssl_key)},
	};
	/* A value longer than its field is refused, never cut: a cut path
	 * names another file, a cut password fails to log in for no visible
	 * reason. */
	size_t vlen = strlen(val);
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
		if (strcmp(key, paths[i].key) == 0) {
			if (vlen >= PATH_MAX)
				return bad_uri(cfg, "path too long for ", key);
			memcpy((char *)t + paths[i].off, val, vlen + 1);
			return 0;
		}
	if (strcmp(key, "password") == 0) {
		if (vlen >= sizeof(t->pass))
			return bad_uri(cfg, "password too long (its length is not shown)", NULL);
		memcpy(t->pass, val, vlen + 1);
		t->has_pass = 1;
		return 0;
	}
	if (strcmp(key, "connect-timeout") == 0) {
		char *e;
		unsigned long v = strtoul(val, &e, 10);
		if (*val < '0' || *val > '9' || *e || v == 0 || v > 3600)
			return bad_uri(cfg, "connect-timeout must be a whole number of seconds from 1 to 3600: ",
				       val);
		t->timeout = (unsigned)v;
		return 0;
	}
	if (strcmp(key, "ssl-mode") == 0) {
		static const char *const modes[] = {"disabled", "preferred", "required", "verify-ca",
						    "verify-identity"};
		static const int level[] = {0, 0, 1, 2, 2};
		char v[32];
		if (decode_key(val, strlen(val), v, sizeof(v)) == 0)
			for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++)
				if (strcmp(v, modes[i]) == 0) {
					t->ssl = level[i];
					t->ssl_set = 1;
					return 0;
				}
		return bad_uri(cfg, "ssl-mode must be DISABLED, PREFERRED, REQUIRED, VERIFY_CA or "
				    "VERIFY_IDENTITY, not ",
			       val);
	}
	struct pl_msg m;
	pl_say(&m, cfg, "unknown URI parameter ");
	pl_msg_str(&m, *key ? key : "(empty)");
	pl_msg_str(&m, " (known: socket, connect-timeout, password, ssl-mode, ssl-ca, ssl-capath, "
		       "ssl-cert, ssl-key)");
	return pl_host->fail(&m, cfg, PL_EX_CONFIG);
}

/* mysql://[user[:password]@][host][:port][/db][?k=v&...]#NAME into t,
 * through the one URI reader (uri.c), which resolve has already run. 0, or
 * 78 after one line naming what is wrong (never a password: the line starts
 * with the URI as pl_uri_display shows it). */
static int parse_uri(const struct pl_config *cfg, struct target *t)
{
	struct pl_uri u;
	struct pl_uri_span host, port;
	struct pl_uri_param prm;
	size_t pos = 0;
	int bad, hosts = 0;
	memset(t, 0, sizeof(*t));
	if (pl_uri_read(cfg->file, &u) < 0 || u.ambiguous)
		return bad_uri(cfg, u.ambiguous ? u.ambiguous : "not a URI", NULL);
	if (u.user.s) {
		if (pl_uri_decode(u.user.s, u.user.n, t->user, sizeof(t->user)))
			return bad_uri(cfg, "bad user name in the URI", NULL);
		t->has_user = t->user[0] != '\0';
	}
	if (u.password.s) {
		if (pl_uri_decode(u.password.s, u.password.n, t->pass, sizeof(t->pass)))
			return bad_uri(cfg, "bad password in the URI", NULL);
		t->has_pass = 1;
	}
	while (pl_uri_host_next(&u, &pos, &host, &port, &bad)) {
		if (++hosts > 1)
			return bad_uri(cfg, "one host only: a MySQL URI has no list of hosts", NULL);
		if (bad)
			return bad_uri(cfg, bad == 1 ? "bad host in the URI: no ']'"
						     : "bad host in the URI: text after ']'",
				       NULL);
		if (pl_uri_decode(host.s, host.n, t->host, sizeof(t->host)))
			return bad_uri(cfg, "bad host in the URI", NULL);
		if (port.s) {
			unsigned long v = 0;
			size_t i = 0;
			for (; i < port.n && port.s[i] >= '0' && port.s[i] <= '9' && v <= 65535; i++)
				v = v * 10 + (unsigned long)(port.s[i] - '0');
			if (i == 0 || i != port.n || v == 0 || v > 65535)
				return bad_uri(cfg, "bad port in the URI: it must be from 1 to 65535", NULL);
			t->port = (unsigned)v;
		}
	}
	if (u.path.s && pl_uri_decode(u.path.s, u.path.n, t->db, sizeof(t->db)))
		return bad_uri(cfg, "bad database name in the URI", NULL);
	pos = 0;
	while (pl_uri_param_next(&u, &pos, &prm)) {
		char key[32], val[PATH_MAX];
		if (!prm.has_eq || decode_key(prm.key.s, prm.key.n, key, sizeof(key)))
			return bad_uri(cfg, "bad URI parameter: each is KEY=VALUE", NULL);
		if (pl_uri_decode(prm.value.s, prm.value.n, val, sizeof(val)))
			return bad_uri(cfg, "bad value of URI parameter ", key);
		int r = set_param(cfg, t, key, val);
		memset(val, 0, sizeof(val)); /* it may have been a password */
		if (r)
			return r;
	}
	if (!t->timeout)
		t->timeout = CONNECT_TIMEOUT;
	return 0;
}

static int my_resolve(struct pl_config *cfg)
{
	struct target t;
	int r = pl_uri_resolve(cfg);
	return r ? r : parse_uri(cfg, &t);
}

/* ---- option files ---- */

/* What an option file may set: the connection's own values, and nothing
 * else (DESIGN.md, guarantee 18). libmariadb, asked to read the files
 * itself (MYSQL_READ_DEFAULT_GROUP), reads $HOME/.my.cnf, $MYSQL_HOME/my.cnf
 * and the rest without looking at who owns them, and an option file may set
 * plugin-dir and default-auth: the client then loads the shared object
 * they name when the server greets it. A root program whose HOME or
 * MYSQL_HOME is a folder another user owns (a service's Environment=HOME=,
 * sudo -E) ran that user's code before main. So the plugin reads the same
 * files itself, each only if it and every folder above it belong to the
 * caller or root and nobody else can write them (the host's open_trusted:
 * the walk of the PID file), follows !include and !includedir under the
 * same rule, and passes on only user, password, host, port, socket,
 * database and the ssl files; plugin-dir, default-auth and every other
 * option are never applied. Unsafe files are skipped, with a line under
 * PIDLOCK_VERBOSE. */
#define OPT_DEPTH 8           /* !include in !include ... */
#define OPT_FILES 64          /* files read in all */
#define OPT_BYTES (256L * 1024) /* of one file */

struct optfile {
	char user[FIELD], pass[FIELD], host[FIELD], db[FIELD];
	char sock[PATH_MAX];
	char ssl_ca[PATH_MAX], ssl_capath[PATH_MAX], ssl_cert[PATH_MAX], ssl_key[PATH_MAX];
	unsigned port;
	int has_user, has_pass, ssl, files;
};

static void opt_say(const struct pl_config *cfg, const char *what, const char *detail)
{
	if (!cfg->verbose)
		return;
	struct pl_msg m;
	pl_say(&m, cfg, what);
	pl_msg_text(&m, detail, strlen(detail)); /* a path of someone else's */
	pl_msg_send(&m);
}

/* A value as the client library reads it: surrounding quotes dropped,
 * \n \t \r \b \s \" \' \\ unescaped, in place. */
static void opt_unquote(char *v)
{
	size_t n = strlen(v);
	if (n >= 2 && (v[0] == '\'' || v[0] == '"') && v[n - 1] == v[0]) {
		memmove(v, v + 1, n - 2);
		v[n - 2] = '\0';
	}
	char *out = v;
	for (const char *p = v; *p; p++) {
		if (*p != '\\' || !p[1]) {
			*out++ = *p;
			continue;
		}
		p++;
		switch (*p) {
		case 'n': *out++ = '\n'; break;
		case 't': *out++ = '\t'; break;
		case 'r': *out++ = '\r'; break;
		case 'b': *out++ = '\b'; break;
		case 's': *out++ = ' '; break;
		case '"': case '\'': case '\\': *out++ = *p; break;
		default: *out++ = '\\'; *out++ = *p; break;
		}
	}
	*out = '\0';
}

static void opt_set(const struct pl_config *cfg, struct optfile *o, const char *path, char *key,
		    const char *val)
{
	static const struct {
		const char *key;
		size_t off, size;
	} strs[] = {
	    {"user", offsetof(struct optfile, user), FIELD},
	    {"password", offsetof(struct optfile, pass), FIELD},
	    {"host", offsetof(struct optfile, host), FIELD},
	    {"database", offsetof(struct optfile, db), FIELD},
	    {"socket", offsetof(struct optfile, sock), PATH_MAX},
	    {"ssl-ca", offsetof(struct optfile, ssl_ca), PATH_MAX},
	    {"ssl-capath", offsetof(struct optfile, ssl_capath), PATH_MAX},
	    {"ssl-cert", offsetof(struct optfile, ssl_cert), PATH_MAX},
	    {"ssl-key", offsetof(struct optfile, ssl_key), PATH_MAX},
	};
	for (char *k = key; *k; k++) { /* as the library reads keys: '_' is '-' */
		if (*k == '_')
			*k = '-';
		else if (*k >= 'A' && *k <= 'Z')
			*k = (char)(*k - 'A' + 'a');
	}
	if (strcmp(key, "plugin-dir") == 0 || strcmp(key, "default-auth") == 0 ||
	    strncmp(key, "plugin-load", 11) == 0) {
		char what[PATH_MAX + 64];
		snprintf(what, sizeof(what), "%s in %s", key, path);
		opt_say(cfg, "not applying ", what);
		return;
	}
	if (strcmp(key, "ssl") == 0 || strcmp(key, "ssl-verify-server-cert") == 0) {
		int on = !val || strcmp(val, "0") != 0;
		int level = key[3] ? 2 : 1;
		if (on && o->ssl < level)
			o->ssl = level;
		return;
	}
	if (!val)
		return; /* "password" alone asks the mysql client to prompt: nothing here */
	if (strcmp(key, "port") == 0) {
		char *e;
		unsigned long v = strtoul(val, &e, 10);
		if (*val >= '0' && *val <= '9' && !*e && v >= 1 && v <= 65535)
			o->port = (unsigned)v;
		return;
	}
	for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++)
		if (strcmp(key, strs[i].key) == 0) {
			snprintf((char *)o + strs[i].off, strs[i].size, "%s", val);
			if (i == 0)
				o->has_user = 1;
			if (i == 1)
				o->has_pass = 1;
			return;
		}
}

static void opt_file(const struct pl_config *cfg, struct optfile *o, const char *path, int depth);

static int opt_name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* !includedir DIR: its *.cnf files, in name order (the server's order;
 * libmariadb takes readdir's, which is none in particular). */
static void opt_dir(const struct pl_config *cfg, struct optfile *o, const char *dir, int depth)
{
	char *names[OPT_FILES];
	size_t n = 0;
	DIR *d = opendir(dir);
	if (!d)
		return;
	for (struct dirent *e; n < OPT_FILES && (e = readdir(d));) {
		size_t len = strlen(e->d_name);
		if (e->d_name[0] != '.' && len > 4 && strcmp(e->d_name + len - 4, ".cnf") == 0 &&
		    (names[n] = strdup(e->d_name)))
			n++;
	}
	closedir(d);
	qsort(names, n, sizeof(names[0]), opt_name_cmp);
	for (size_t i = 0; i < n; i++) {
		char path[PATH_MAX];
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, names[i]) < sizeof(path))
			opt_file(cfg, o, path, depth);
		free(names[i]);
	}
}

/* The groups pidlock reads: the client library's own three, and its own. */
static int opt_group(const char *g)
{
	return strcmp(g, "client") == 0 || strcmp(g, "client-server") == 0 ||
	       strcmp(g, "client-mariadb") == 0 || strcmp(g, "pidlock") == 0;
}

static char *opt_trim(char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	size_t n = strlen(s);
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
		s[--n] = '\0';
	return s;
}

static void opt_file(const struct pl_config *cfg, struct optfile *o, const char *path, int depth)
{
	char why[PATH_MAX + 256];
	if (depth > OPT_DEPTH || o->files >= OPT_FILES)
		return;
	int fd = pl_host->open_trusted(path, why, sizeof(why));
	if (fd < 0) {
		if (errno == EACCES && why[0])
			opt_say(cfg, "ignoring an option file that someone else could have written: ", why);
		return;
	}
	o->files++;
	char *buf = malloc(OPT_BYTES + 1);
	ssize_t got = 0, r = 0;
	while (buf && got < OPT_BYTES && (r = read(fd, buf + got, (size_t)(OPT_BYTES - got))) != 0) {
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			break;
		got += r;
	}
	close(fd);
	if (!buf)
		return;
	buf[got] = '\0';
	int active = 0;
	for (char *line = buf, *next; line && *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		char *p = opt_trim(line);
		if (*p == '!') {
			char *arg = p + strcspn(p, " \t");
			if (*arg)
				*arg++ = '\0';
			arg = opt_trim(arg);
			if (strcmp(p, "!include") == 0)
				opt_file(cfg, o, arg, depth + 1);
			else if (strcmp(p, "!includedir") == 0)
				opt_dir(cfg, o, arg, depth + 1);
		} else if (*p == '[') {
			char *end = strchr(p, ']');
			if (end) {
				*end = '\0';
				active = opt_group(opt_trim(p + 1));
			}
		} else if (active && *p && *p != '#' && *p != ';') {
			char *eq = strchr(p, '=');
			if (eq) {
				*eq = '\0';
				char *val = opt_trim(eq + 1);
				opt_unquote(val);
				opt_set(cfg, o, path, opt_trim(p), val);
			} else {
				opt_set(cfg, o, path, p, NULL);
			}
		}
	}
	memset(buf, 0, (size_t)got); /* it may have held a password */
	free(buf);
}

/* The option files the client library would read, in its order (a later
 * value wins): /etc/my.cnf, /etc/mysql/my.cnf, $MARIADB_HOME/my.cnf (or
 * $MYSQL_HOME/my.cnf), ~/.my.cnf. Read once per process: the lock's
 * session and the advertisement use the same. */
static const struct optfile *options(const struct pl_config *cfg)
{
	static struct optfile o;
	static int done;
	char path[PATH_MAX];
	if (done)
		return &o;
	done = 1;
	opt_file(cfg, &o, "/etc/my.cnf", 0);
	opt_file(cfg, &o, "/etc/mysql/my.cnf", 0);
	const char *home = getenv("MARIADB_HOME");
	if (!home)
		home = getenv("MYSQL_HOME");
	if (home && (size_t)snprintf(path, sizeof(path), "%s/my.cnf", home) < sizeof(path))
		opt_file(cfg, &o, path, 0);
	home = getenv("HOME");
	if (home && (size_t)snprintf(path, sizeof(path), "%s/.my.cnf", home) < sizeof(path))
		opt_file(cfg, &o, path, 0);
	return &o;
}

/* What the URI leaves unsaid, from the option files. */
static void apply_options(const struct pl_config *cfg, struct target *t)
{
	const struct optfile *o = options(cfg);
	if (!t->has_user && o->has_user) {
		memcpy(t->user, o->user, sizeof(t->user));
		t->has_user = o->user[0] != '\0';
	}
	if (!t->has_pass && o->has_pass) {
		memcpy(t->pass, o->pass, sizeof(t->pass));
		t->has_pass = 1;
	}
	if (!t->host[0])
		memcpy(t->host, o->host, sizeof(t->host));
	if (!t->port)
		t->port = o->port;
	if (!t->db[0])
		memcpy(t->db, o->db, sizeof(t->db));
	if (!t->sock[0])
		memcpy(t->sock, o->sock, sizeof(t->sock));
	if (!t->ssl_ca[0])
		memcpy(t->ssl_ca, o->ssl_ca, sizeof(t->ssl_ca));
	if (!t->ssl_capath[0])
		memcpy(t->ssl_capath, o->ssl_capath, sizeof(t->ssl_capath));
	if (!t->ssl_cert[0])
		memcpy(t->ssl_cert, o->ssl_cert, sizeof(t->ssl_cert));
	if (!t->ssl_key[0])
		memcpy(t->ssl_key, o->ssl_key, sizeof(t->ssl_key));
	if (!t->ssl_set)
		t->ssl = o->ssl;
}

/* ---- lock names ---- */

/* The name the server knows: NAME as written when it has at most 64
 * characters (UTF-8: every byte that is not a continuation starts one), else
 * its first 40 characters, '~' and its FNV-1a 64 hash in hex. */
static void server_name(const char *name, char *out, size_t n)
{
	size_t chars = 0, cut = 0, len = strlen(name);
	for (size_t i = 0; i < len; i++)
		if (((unsigned char)name[i] & 0xc0) != 0x80 && chars++ == NAME_KEEP_CHARS)
			cut = i; /* where character 41 starts */
	if (chars <= NAME_MAX_CHARS && len < n) {
		memcpy(out, name, len + 1);
		return;
	}
	snprintf(out, n, "%.*s~%016llx", (int)cut, name, (unsigned long long)(uint64_t)pl_name_key(name));
}

/* ---- connecting ---- */

static int lib_missing(const struct pl_config *cfg, const char *why)
{
	struct pl_msg m;
	pl_say(&m, cfg, "cluster mode needs libmariadb (" MY_SONAME ", " MY_PACKAGE
			"), which cannot be loaded: ");
	pl_msg_str(&m, why ? why : "unknown error");
	return pl_host->fail(&m, cfg, PL_EX_OSERR);
}

/* The client's side of fencing: a TCP session is dead for us after at most
 * PL_KA_IDLE + PL_KA_INTERVAL * PL_KA_COUNT s of silence. A unix socket has
 * no network to lose. */
static void client_keepalive(int fd)
{
	struct sockaddr_storage ss = {0};
	socklen_t len = sizeof(ss);
	if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0 ||
	    (ss.ss_family != AF_INET && ss.ss_family != AF_INET6))
		return;
	int on = 1, idle = PL_KA_IDLE, intvl = PL_KA_INTERVAL, cnt = PL_KA_COUNT;
	setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof(on));
#ifdef TCP_KEEPIDLE
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle));
#elif defined(TCP_KEEPALIVE) /* macOS */
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPALIVE, &idle, sizeof(idle));
#endif
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof(intvl));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof(cnt));
#ifdef TCP_USER_TIMEOUT
	unsigned utmo = PL_USER_TIMEOUT_MS;
	setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &utmo, sizeof(utmo));
#else
	(void)idle;
#endif
}

/* Acknowledges at once what the server sent last (GET_LOCK's answer).
 * Linux delays an ACK by up to 200 ms; a partition inside that window left
 * the server with unacknowledged data, which it retransmits for some 15
 * minutes (tcp_retries2) before its keepalive may even start, so the lock
 * stayed taken that long after the holder was fenced. */
static void ack_now(int fd)
{
#ifdef TCP_QUICKACK
	int on = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_QUICKACK, &on, sizeof(on));
#else
	(void)fd;
#endif
}

/* Errors after which the server may answer again: it is not listening, not
 * reachable, went away or is shutting down, or has no connection to spare
 * (CR_CONNECTION_ERROR, CR_CONN_HOST_ERROR, CR_SERVER_GONE_ERROR,
 * CR_SERVER_LOST, ER_CON_COUNT_ERROR, ER_SERVER_SHUTDOWN). Not a refused
 * password or an unknown database. */
static int may_pass(unsigned e)
{
	return e == 2002 || e == 2003 || e == 2006 || e == 2013 || e == 1040 || e == 1053;
}

/* Connects as the URI says. NULL after one line (none when quiet; status
 * in *status). With later (wait mode's retries), an error that may pass is
 * not said but put in *later, and *status is -1. */
static MYSQL *connect_uri(const struct pl_config *cfg, int quiet, int *status, struct pl_msg *later)
{
	const char *why = NULL;
	struct pl_msg m;
	struct target *t = malloc(sizeof(*t));
	*status = 0;
	if (!t) {
		pl_say(&m, cfg, "out of memory");
		*status = pl_host->fail(&m, cfg, PL_EX_OSERR);
		return NULL;
	}
	if ((*status = parse_uri(cfg, t)) != 0) {
		free(t);
		return NULL;
	}
	if (load_my(&why)) {
		free(t);
		*status = lib_missing(cfg, why);
		return NULL;
	}
	apply_options(cfg, t);
	/* The client library may change SIGPIPE's action; the program's stays. */
	struct sigaction pipe_sa;
	sigaction(SIGPIPE, NULL, &pipe_sa);
	MYSQL *c = my.init(NULL);
	if (c) {
		char yes = 1;
		my.options(c, OPT_CONNECT_TIMEOUT, &t->timeout);
		/* Never OPT_READ_DEFAULT_GROUP or _FILE: the option files were
		 * read above, safely, and only their connection values taken. */
		my.options(c, OPT_SET_CHARSET_NAME, "utf8mb4");
		if (t->ssl)
			my.options(c, OPT_SSL_ENFORCE, &yes);
		if (t->ssl > 1)
			my.options(c, OPT_SSL_VERIFY_SERVER_CERT, &yes);
		if (t->ssl_ca[0])
			my.options(c, OPT_SSL_CA, t->ssl_ca);
		if (t->ssl_capath[0])
			my.options(c, OPT_SSL_CAPATH, t->ssl_capath);
		if (t->ssl_cert[0])
			my.options(c, OPT_SSL_CERT, t->ssl_cert);
		if (t->ssl_key[0])
			my.options(c, OPT_SSL_KEY, t->ssl_key);
	}
	MYSQL *ok = c ? my.real_connect(c, t->host[0] ? t->host : NULL, t->has_user ? t->user : NULL,
					t->has_pass ? t->pass : NULL, t->db[0] ? t->db : NULL, t->port,
					t->sock[0] ? t->sock : NULL, 0)
		      : NULL;
	sigaction(SIGPIPE, &pipe_sa, NULL);
	memset(t->pass, 0, sizeof(t->pass));
	free(t);
	if (!ok) {
		pl_say(&m, cfg, "cannot connect");
		pl_say_first_line(&m, cfg, c ? my.error(c) : "out of memory");
		int again = c && later && may_pass(my.err_no(c));
		if (c)
			my.close(c);
		if (again) {
			*later = m;
			*status = -1;
			return NULL;
		}
		*status = quiet ? PL_EX_CANTCREAT : pl_host->fail(&m, cfg, PL_EX_CANTCREAT);
		return NULL;
	}
	client_keepalive(my.get_socket(c));
	return c;
}

/* ---- queries ---- */

/* Runs sql; the first column of the first row into v (n bytes; "" for NULL).
 * 1 a row, 0 no row (or a statement without rows), -1 error. */
static int query1(MYSQL *c, const char *sql, char *v, size_t n)
{
	if (v && n)
		v[0] = '\0';
	if (my.real_query(c, sql, (unsigned long)strlen(sql)))
		return -1;
	MYSQL_RES *r = my.store_result(c);
	if (!r)
		return my.err_no(c) ? -1 : 0;
	MYSQL_ROW row = my.fetch_row(r);
	if (row && row[0] && v)
		snprintf(v, n, "%s", row[0]);
	my.free_result(r);
	return row ? 1 : 0;
}

/* 'NAME' as an SQL string literal of this connection (its sql_mode decides
 * how quotes are escaped). */
static void name_literal(MYSQL *c, const struct pl_config *cfg, char *out, size_t n)
{
	char name[NAME_BYTES];
	char esc[2 * sizeof(name) + 1];
	server_name(pl_uri_name(cfg), name, sizeof(name));
	my.escape(c, esc, name, (unsigned long)strlen(name));
	snprintf(out, n, "'%s'", esc);
}

/* GET_LOCK for at most ns (PL_FOREVER: no limit): 1 locked, 0 timed out, -1 error. */
static int get_lock(MYSQL *c, const char *lit, long long ns)
{
	long long deadline = ns == PL_FOREVER ? 0 : pl_host->now_ns() + ns;
	char sql[LITERAL_BYTES + 64], v[8];
	for (;;) {
		long long left = ns == PL_FOREVER ? WAIT_CHUNK_S * 1000000000LL
						  : deadline - pl_host->now_ns();
		if (left < 0)
			left = 0;
		if (left > WAIT_CHUNK_S * 1000000000LL)
			left = WAIT_CHUNK_S * 1000000000LL;
		long long ms = (left + 999999) / 1000000;
		snprintf(sql, sizeof(sql), "SELECT GET_LOCK(%s, %lld.%03lld)", lit, ms / 1000, ms % 1000);
		if (query1(c, sql, v, sizeof(v)) != 1 || !v[0])
			return -1; /* NULL: an error on the server */
		if (strcmp(v, "1") == 0)
			return 1;
		if (ns != PL_FOREVER && pl_host->now_ns() >= deadline)
			return 0;
		if (ns != PL_FOREVER && ms == 0)
			return 0;
	}
}

/* Who holds it: IS_USED_LOCK, and the session's row in PROCESSLIST (which a
 * user without the PROCESS privilege sees only for its own sessions). */
struct holder {
	struct pl_holder base; /* session: the connection ID; started: when it took the lock */
	int visible;
	char info[512]; /* the holder's label */
	char user[64], client[80];
};

static void parse_label(struct holder *h, const char *info)
{
	/* DO SLEEP(...), 'pidlock CONN', 'pidlock[:TOKEN] PID HOST CMDLINE':
	 * the label has no quote. */
	const char *l = strstr(info, "', 'pidlock");
	if (!l)
		return;
	l += 4;
	size_t n = strcspn(l, "'");
	if (n >= sizeof(h->info))
		n = sizeof(h->info) - 1;
	memmove(h->info, l, n);
	h->info[n] = '\0';
	pl_label_read(h->info, &h->base.who);
}

/* lit: the lock's name as an SQL literal of c (name_literal). */
static void find_holder(MYSQL *c, const char *lit, struct holder *h)
{
	char sql[LITERAL_BYTES + 512];
	memset(h, 0, sizeof(*h));
	h->base.started = -1;
	/* The lock's session idles since it took the lock: TIME is how long.
	 * Its advertisement is the first one naming it that the same user
	 * opened after it: another user cannot speak for the holder. */
	snprintf(sql, sizeof(sql),
		 "SELECT l.id, p.ID, p.USER, p.HOST, UNIX_TIMESTAMP() - p.TIME,"
		 " (SELECT a.INFO FROM information_schema.PROCESSLIST a WHERE a.INFO LIKE"
		 " CONCAT('DO SLEEP(" SLEEP_SECONDS "), ''pidlock ', l.id, ''', ''pidlock%%')"
		 " AND a.USER = p.USER AND a.ID > p.ID ORDER BY a.ID LIMIT 1)"
		 " FROM (SELECT IS_USED_LOCK(%s) AS id) l"
		 " LEFT JOIN information_schema.PROCESSLIST p ON p.ID = l.id",
		 lit);
	if (my.real_query(c, sql, (unsigned long)strlen(sql)))
		return;
	MYSQL_RES *r = my.store_result(c);
	MYSQL_ROW row = r ? my.fetch_row(r) : NULL;
	if (row && row[0]) {
		h->base.found = 1;
		h->base.session = strtoll(row[0], NULL, 10);
		h->visible = row[1] != NULL;
		snprintf(h->user, sizeof(h->user), "%s", row[2] ? row[2] : "");
		snprintf(h->client, sizeof(h->client), "%s", row[3] ? row[3] : "");
		if (row[4])
			h->base.started = strtoll(row[4], NULL, 10);
		if (row[5])
			parse_label(h, row[5]);
	}
	if (r)
		my.free_result(r);
}

static void msg_holder(struct pl_msg *m, const struct holder *h)
{
	const struct pl_who *w = &h->base.who;
	if (!h->base.found) {
		pl_msg_str(m, "another session (gone since)");
	} else if (w->pid) {
		pl_msg_instance(m, w->pid, w->host, w->cmd);
	} else if (!h->visible) {
		pl_msg_str(m, "a session this user may not see (connection ID ");
		pl_msg_num(m, h->base.session);
		pl_msg_str(m, "; the PROCESS privilege shows it)");
	} else {
		pl_msg_str(m, "a session that does not say who it is (connection ID ");
		pl_msg_num(m, h->base.session);
		if (h->user[0]) { /* the server's answers: escaped (msg.c) */
			pl_msg_str(m, ", user ");
			pl_msg_text(m, h->user, sizeof(h->user));
		}
		if (h->client[0]) {
			pl_msg_str(m, ", from ");
			pl_msg_text(m, h->client, sizeof(h->client));
		}
		pl_msg_str(m, ")");
	}
}

/* ---- the session, as the mode driver drives it (shim/core/modes.c) ---- */

struct my_session {
	MYSQL *c;
	const struct pl_config *cfg;
	char lit[LITERAL_BYTES]; /* the lock's name as an SQL literal */
	int holds_idle;          /* wait_timeout raised for a holder's session */
	struct pl_ended ended;   /* the holders this session ended */
};

static int s_lock(const struct pl_session *s, long long ns)
{
	struct my_session *p = s->conn;
	int got = get_lock(p->c, p->lit, ns);
	/* The lock's session idles for as long as the instance runs: the
	 * server's wait_timeout (8 hours by default, often minutes; ours while
	 * waiting: WAITER_IDLE) must not end it. */
	if (got > 0 && p->holds_idle &&
	    query1(p->c, "SET SESSION wait_timeout = " HELD_IDLE, NULL, 0) < 0)
		return -1;
	return got;
}

static long long s_holder(const struct pl_session *s, struct pl_msg *m)
{
	struct my_session *p = s->conn;
	struct holder h;
	find_holder(p->c, p->lit, &h);
	if (m)
		msg_holder(m, &h);
	return pl_holder_id(&h.base);
}

/* KILL CONNECTION id: 0 done (or already gone), -1 refused (why filled). */
static int s_end(const struct pl_session *s, long long id, int signo, char *why, size_t n)
{
	(void)signo; /* a session is ended, not signalled: the first request and SIGKILL alike */
	if (id <= 0)
		return 0; /* no session to end */
	struct my_session *p = s->conn;
	struct holder h;
	find_holder(p->c, p->lit, &h);
	if (p->cfg->verbose) {
		struct pl_msg m;
		pl_say(&m, p->cfg, "ending the session of ");
		msg_holder(&m, &h);
		pl_msg_send(&m);
	}
	/* Noted before it is ended: where it runs decides how long the new
	 * instance waits (settle). */
	pl_ended_holder(&p->ended, &h.base, id);
	char sql[48];
	snprintf(sql, sizeof(sql), "KILL CONNECTION %lld", id);
	if (query1(p->c, sql, NULL, 0) >= 0 || my.err_no(p->c) == ER_NO_SUCH_THREAD)
		return 0;
	snprintf(why, n, "KILL CONNECTION %lld refused (%s): ending another user's session needs the "
		 "CONNECTION ADMIN or SUPER privilege", id, my.error(p->c));
	return -1;
}

static void s_say_error(const struct pl_session *s, struct pl_msg *m)
{
	struct my_session *p = s->conn;
	pl_say_first_line(m, p->cfg, my.error(p->c));
}

static void s_close(const struct pl_session *s)
{
	my.close(((struct my_session *)s->conn)->c);
}

/* Wait mode: a new session when the server went away while we waited, as
 * long as it does not answer or refuses for now. */
static int s_reconnect(const struct pl_session *s, long long left)
{
	struct my_session *p = s->conn;
	if (!may_pass(my.err_no(p->c)))
		return -1;
	struct pl_retry r;
	struct pl_msg m;
	pl_retry_init(&r, left);
	pl_say(&m, p->cfg, "lost the session while waiting");
	pl_say_first_line(&m, p->cfg, my.error(p->c));
	for (;;) {
		int status;
		if (!pl_retry_pause(&r, p->cfg, &m))
			return -1;
		MYSQL *c = connect_uri(p->cfg, 1, &status, &m);
		if (c) {
			query1(c, "SET SESSION wait_timeout = " WAITER_IDLE, NULL, 0);
			my.close(p->c);
			p->c = c;
			return 0;
		}
		if (status != -1)
			return -1;
	}
}

static void s_settle(const struct pl_session *s)
{
	const struct my_session *p = s->conn;
	pl_settle(p->cfg, &p->ended);
}

static void session_init(struct pl_session *s, struct my_session *p, MYSQL *c,
			 const struct pl_config *cfg, char *id, size_t n)
{
	memset(p, 0, sizeof(*p));
	p->c = c;
	p->cfg = cfg;
	name_literal(c, cfg, p->lit, sizeof(p->lit));
	snprintf(id, n, "lock %s", p->lit);
	*s = (struct pl_session){.conn = p, .noun = "lock", .id = id, .fail = pl_host->fail,
				 .lock = s_lock, .holder = s_holder, .end = s_end,
				 .say_error = s_say_error, .close = s_close, .settle = s_settle};
	if (cfg->mode == PL_MODE_WAIT)
		s->reconnect = s_reconnect;
}

/* The fencing token: UUID_SHORT(), taken once the lock is held. The server
 * makes it from its server_id, the time it started and a counter of calls
 * since, so each call gets a greater one than every earlier call, across
 * restarts too, as long as the server's clock does not go back between
 * them. No table, no privilege. 0 or -1 (no token: one verbose line). */
static void take_token(MYSQL *c, const struct pl_config *cfg)
{
	char v[24];
	if (query1(c, "SELECT UUID_SHORT()", v, sizeof(v)) == 1 && v[0] &&
	    strspn(v, "0123456789") == strlen(v)) {
		pl_fence_keep(v);
		return;
	}
	pl_fence_keep("");
	if (cfg->verbose) {
		struct pl_msg m;
		pl_say(&m, cfg, "no fencing token (UUID_SHORT)");
		pl_say_first_line(&m, cfg, my.error(c));
		pl_msg_send(&m);
	}
}

/* The advertisement: a second session whose one statement, never answered,
 * names the instance and the lock's session (conn). PROCESSLIST shows a
 * running statement's text to anyone who may see the session, on any server;
 * an idle session shows nothing, so the lock's own session cannot carry it.
 * Best effort: without it the lock holds, and status names the session only.
 * The server ends it within 5 s of the instance's end (it looks at a
 * sleeping session's client every 5 s); the lock's session ends at once. Its
 * socket is left inheritable so that it survives an exec of the instance
 * itself, as the lock's socket does (docs/cluster.md). */
static void advertise(const struct pl_config *cfg, unsigned long conn, char *label)
{
	char sql[512];
	int status;
	for (char *p = label; *p; p++)
		if (*p == '\'' || *p == '\\')
			*p = '?'; /* a literal with nothing to escape, read back as is */
	MYSQL *a = connect_uri(cfg, 1, &status, NULL);
	if (!a)
		return;
	/* MariaDB's max_statement_time would end the statement (MySQL's
	 * max_execution_time applies to SELECT only, not DO); MySQL does not
	 * know the variable: the error is ignored. */
	query1(a, "SET SESSION max_statement_time = 0", NULL, 0);
	snprintf(sql, sizeof(sql), "DO SLEEP(" SLEEP_SECONDS "), 'pidlock %lu', '%s'", conn, label);
	if (my.send_query(a, sql, (unsigned long)strlen(sql))) {
		my.close(a);
		return;
	}
	int fd = my.get_socket(a);
	if (fd < 3) { /* keep off 0-2, as the lock's socket */
		int hi_fd = pl_fcntl(fd, F_DUPFD, 3);
		if (hi_fd >= 0) {
			close(fd);
			fd = hi_fd;
		}
	}
	pl_fcntl(fd, F_SETFD, 0);
}

/* ---- acquiring ---- */

static int my_acquire(const struct pl_config *cfg, struct pl_lock *lk, pid_t self,
		      const char *cmdline)
{
	char label[320], id[LITERAL_BYTES + 8];
	int status;
	struct pl_session s;
	struct my_session p;
	pl_label(label, sizeof(label), cfg, self, cmdline);
	struct pl_retry retry;
	struct pl_msg later;
	pl_retry_init(&retry, cfg->mode == PL_MODE_WAIT ? cfg->timeout_ns : 0);
	MYSQL *c;
	while (!(c = connect_uri(cfg, 0, &status, cfg->mode == PL_MODE_WAIT ? &later : NULL))) {
		if (status != -1)
			return status;
		if (!pl_retry_pause(&retry, cfg, &later))
			return pl_host->fail(&later, cfg, PL_EX_CANTCREAT);
	}
	/* Short while it waits (WAITER_IDLE), a year once it holds (s_lock). */
	query1(c, "SET SESSION wait_timeout = " WAITER_IDLE, NULL, 0);
	session_init(&s, &p, c, cfg, id, sizeof(id));
	p.holds_idle = 1;
	if ((status = pl_take_session(cfg, &s)) != 0)
		return status;
	c = p.c; /* a new one, if the server went away while we waited */
	take_token(c, cfg);
	/* From here on the session is the lock: never mysql_close it. */
	int fd = my.get_socket(c);
	ack_now(fd);
	if ((status = pl_hold(cfg, fd, self, cmdline == NULL, lk)) != 0)
		return status;
	char fenced[sizeof(label) + 32];
	pl_label_fenced(fenced, sizeof(fenced), label, pl_fence_kept());
	advertise(cfg, my.thread_id(c), fenced);
	return 0;
}

/* ---- status and stop: for the command, which renders what status finds
 * (shim/cmd/target.c, render.c) ---- */

static int my_status(const struct pl_config *cfg, struct pl_backend_status *st)
{
	int status;
	struct holder h = {0};
	struct pl_msg m;
	m.len = 0;
	MYSQL *c = connect_uri(cfg, 0, &status, NULL);
	int reached = c != NULL;
	if (c) {
		char lit[LITERAL_BYTES];
		name_literal(c, cfg, lit, sizeof(lit));
		find_holder(c, lit, &h);
		my.close(c);
		msg_holder(&m, &h);
	}
	return pl_status_put(st, cfg, reached, &h.base, &m);
}

static int my_stop(const struct pl_config *cfg, long long timeout_ns)
{
	int status;
	char id[LITERAL_BYTES + 8];
	struct pl_session s;
	struct my_session p;
	MYSQL *c = connect_uri(cfg, 0, &status, NULL);
	if (!c)
		return 1;
	session_init(&s, &p, c, cfg, id, sizeof(id));
	return pl_stop_holders(cfg, &s, SIGTERM, timeout_ns, 0);
}

/* ---- the table pidlock_backend_v1 (plugin.c) returns ---- */

const struct pl_backend pl_backend_table = {
    .abi = PL_BACKEND_ABI,
    .name = "mysql",
    .resolve = my_resolve,
    .acquire = my_acquire,
    .watch = pl_watch,
    .status = my_status,
    .stop = my_stop,
    .blank = pl_uri_blank,
    .publish = pl_publish,
};
