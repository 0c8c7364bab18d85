/* reexec: a program that execv()s itself again and again in the same process
 * (tests/reexec.bats, SPEC 5: an exec of the instance itself keeps the lock).
 *
 * reexec -o REPORT -p PIDFILE [-n COUNT] [-d MS] [-s keep|strip|alternate]
 *        [-g GOFILE] [-t SECS]
 *   Every image first checks that it still has a descriptor open on PIDFILE
 *   (fstat of each /proc/self/fd entry against stat(PIDFILE)); if not it
 *   writes "lost step=I" to REPORT and exits 3. The first image waits until
 *   GOFILE exists (at most SECS seconds). Each image sleeps MS milliseconds
 *   (default 10) and execs /proc/self/exe's target with the step count in
 *   argv, COUNT times (default 100) in all. The environment of each exec:
 *     keep       unchanged (every image loads the shim)
 *     strip      without LD_PRELOAD (no image after the first loads the shim)
 *     alternate  without LD_PRELOAD, then with it again, in turn
 *   The last image writes "done pid=PID steps=COUNT lockfd=N" to REPORT
 *   (atomically) and waits for SIGTERM (exit(0)), at most SECS (default 30)
 *   seconds (exit(4)).
 *   Internal options added on re-exec: -i STEP, -L SHIM, -P FIRSTPID.
 *
 * Exit status 2: usage; 3: lock lost; 5: exec or another call failed.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static const char *report_path;

static void usage(void)
{
	fprintf(stderr, "usage: reexec -o REPORT -p PIDFILE [-n COUNT] [-d MS] "
			"[-s keep|strip|alternate] [-g GOFILE] [-t SECS]\n");
	exit(2);
}

static long parse_long(const char *s, long min, long max)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < min || v > max) {
		fprintf(stderr, "reexec: bad number: %s\n", s);
		exit(2);
	}
	return v;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static void write_report(const char *text)
{
	char tmp[PATH_MAX];
	size_t len = strlen(text);
	int fd, n;

	n = snprintf(tmp, sizeof tmp, "%s.tmp", report_path);
	if (n < 0 || (size_t)n >= sizeof tmp)
		usage();
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || write(fd, text, len) != (ssize_t)len || close(fd) != 0 ||
	    rename(tmp, report_path) != 0) {
		fprintf(stderr, "reexec: cannot write %s: %s\n", report_path, strerror(errno));
		exit(5);
	}
}

static int find_lock_fd(const char *path)
{
	struct stat want, st;
	struct dirent *e;
	DIR *d;
	int found = -1;

	if (stat(path, &want) != 0)
		return -1;
	d = opendir("/proc/self/fd");
	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL) {
		char *end;
		long fd;

		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		errno = 0;
		fd = strtol(e->d_name, &end, 10);
		if (errno != 0 || *end != '\0' || fd == dirfd(d) || fd > INT_MAX)
			continue;
		if (fstat((int)fd, &st) == 0 && st.st_dev == want.st_dev &&
		    st.st_ino == want.st_ino) {
			found = (int)fd;
			break;
		}
	}
	closedir(d);
	return found;
}

/* environ without LD_PRELOAD, plus LD_PRELOAD=shim when shim is given. */
static char **make_env(const char *shim)
{
	static char preload[PATH_MAX + 16];
	size_t n = 0, i, j = 0;
	char **env;

	while (environ[n] != NULL)
		n++;
	env = calloc(n + 2, sizeof *env);
	if (env == NULL)
		exit(5);
	for (i = 0; i < n; i++) {
		if (strncmp(environ[i], "LD_PRELOAD=", 11) != 0)
			env[j++] = environ[i];
	}
	if (shim != NULL) {
		snprintf(preload, sizeof preload, "LD_PRELOAD=%s", shim);
		env[j++] = preload;
	}
	env[j] = NULL;
	return env;
}

int main(int argc, char **argv)
{
	const char *pidfile = NULL, *go = NULL, *strategy = "keep", *shim = NULL;
	long count = 100, delay = 10, secs = 30, step = 0, first_pid = 0;
	char self[PATH_MAX], text[128];
	int opt, lockfd;

	while ((opt = getopt(argc, argv, "o:p:n:d:s:g:t:i:L:P:")) != -1) {
		switch (opt) {
		case 'o':
			report_path = optarg;
			break;
		case 'p':
			pidfile = optarg;
			break;
		case 'n':
			count = parse_long(optarg, 0, 100000);
			break;
		case 'd':
			delay = parse_long(optarg, 0, 10000);
			break;
		case 's':
			strategy = optarg;
			break;
		case 'g':
			go = optarg;
			break;
		case 't':
			secs = parse_long(optarg, 1, 3600);
			break;
		case 'i':
			step = parse_long(optarg, 0, 100000);
			break;
		case 'L':
			shim = optarg;
			break;
		case 'P':
			first_pid = parse_long(optarg, 1, INT_MAX);
			break;
		default:
			usage();
		}
	}
	if (optind != argc || report_path == NULL || pidfile == NULL)
		usage();
	if (strcmp(strategy, "keep") != 0 && strcmp(strategy, "strip") != 0 &&
	    strcmp(strategy, "alternate") != 0)
		usage();
	if (shim == NULL)
		shim = getenv("LD_PRELOAD");
	if (first_pid == 0)
		first_pid = (long)getpid();

	lockfd = find_lock_fd(pidfile);
	if (lockfd < 0 || first_pid != (long)getpid()) {
		snprintf(text, sizeof text, "lost step=%ld pid=%ld first=%ld\n", step,
			 (long)getpid(), first_pid);
		write_report(text);
		return 3;
	}
	if (step == 0 && go != NULL) {
		struct stat st;
		long i;
		for (i = 0; i < secs * 1000 && stat(go, &st) != 0; i++)
			sleep_ms(1);
	}
	if (step < count) {
		char a_n[32], a_d[32], a_t[32], a_i[32], a_p[32];
		char *args[32];
		char **env = environ;
		int k = 0;
		ssize_t len;

		if (delay > 0)
			sleep_ms(delay);
		len = readlink("/proc/self/exe", self, sizeof self - 1);
		if (len <= 0)
			exit(5);
		self[len] = '\0';
		snprintf(a_n, sizeof a_n, "%ld", count);
		snprintf(a_d, sizeof a_d, "%ld", delay);
		snprintf(a_t, sizeof a_t, "%ld", secs);
		snprintf(a_i, sizeof a_i, "%ld", step + 1);
		snprintf(a_p, sizeof a_p, "%ld", first_pid);
		args[k++] = argv[0];
		args[k++] = "-o";
		args[k++] = (char *)report_path;
		args[k++] = "-p";
		args[k++] = (char *)pidfile;
		args[k++] = "-n";
		args[k++] = a_n;
		args[k++] = "-d";
		args[k++] = a_d;
		args[k++] = "-s";
		args[k++] = (char *)strategy;
		args[k++] = "-t";
		args[k++] = a_t;
		args[k++] = "-i";
		args[k++] = a_i;
		args[k++] = "-P";
		args[k++] = a_p;
		if (shim != NULL) {
			args[k++] = "-L";
			args[k++] = (char *)shim;
		}
		args[k] = NULL;
		if (strcmp(strategy, "strip") == 0)
			env = make_env(NULL);
		else if (strcmp(strategy, "alternate") == 0)
			env = make_env(step % 2 == 0 ? NULL : shim);
		if (env == environ)
			execv(self, args);
		else
			execve(self, args, env);
		snprintf(text, sizeof text, "exec failed step=%ld: %s\n", step, strerror(errno));
		write_report(text);
		return 5;
	}

	snprintf(text, sizeof text, "done pid=%ld steps=%ld lockfd=%d\n", (long)getpid(), step,
		 lockfd);
	{
		sigset_t set;
		struct timespec start, now, tick = { 0, 200 * 1000 * 1000 };

		sigemptyset(&set);
		sigaddset(&set, SIGTERM);
		sigprocmask(SIG_BLOCK, &set, NULL);
		write_report(text);
		clock_gettime(CLOCK_MONOTONIC, &start);
		for (;;) {
			if (sigtimedwait(&set, NULL, &tick) == SIGTERM)
				exit(0);
			clock_gettime(CLOCK_MONOTONIC, &now);
			if (now.tv_sec - start.tv_sec >= secs)
				exit(4);
		}
	}
}
