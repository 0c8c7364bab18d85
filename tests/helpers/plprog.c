/* SPDX-License-Identifier: MIT */
/* plprog: a small program driven by its arguments, used by the pidlock tests
 * as "the program under the shim". Actions run left to right:
 *
 *   marker DIR     create DIR/in-main with O_EXCL; if it exists another
 *                  instance is inside main at the same time: exit 99
 *   unmark         remove the marker created by `marker` (exit 98 if gone)
 *   note DIR       create DIR/ran.PID (proof that main ran)
 *   sleep SECS     sleep (decimals allowed); ends early if a `catch`ed
 *                  signal arrives
 *   waitfor PATH   wait until PATH exists (at most 60 s, else exit 97)
 *   print TEXT     print TEXT and a newline on stdout
 *   pid            print our PID
 *   writepid FILE  write "PID\n" to FILE (atomically, via rename)
 *   env            print the PIDLOCK_* variables of our environment
 *   state          print what the shim must not change: errno at main entry,
 *                  umask, cwd, threads, timers, stdio buffering, signal
 *                  dispositions, mask and pending set, open descriptors
 *   secure         print "secure N" (getauxval(AT_SECURE))
 *   mapped TEXT    print "mapped yes" if TEXT occurs in /proc/self/maps
 *   ignore SIG     set SIG to SIG_IGN
 *   catch SIG      install a handler; prints "caught N" after it fires
 *   kill SIG       send SIG to ourselves (no core file)
 *   segv           crash with a real invalid memory access (no core file)
 *   system CMD     run CMD with system(3), print "system STATUS"
 *   exec PATH ARG...   execv(PATH, [PATH, ARG...]); takes the rest
 *   execself ARG...    execv("/proc/self/exe", [argv0, ARG...]); takes the rest
 *   exit N | _exit N | return N
 *
 * With no exit action, main returns 0. A bad argument exits 2 with a message.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdio_ext.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int entry_errno;
static char marker_path[PATH_MAX];
static volatile sig_atomic_t caught;
static int caught_reported;
static const char *prog_name = "plprog";

static const struct {
	const char *name;
	int num;
} signames[] = {
    {"HUP", SIGHUP},   {"INT", SIGINT},     {"QUIT", SIGQUIT}, {"ILL", SIGILL},
    {"TRAP", SIGTRAP}, {"ABRT", SIGABRT},   {"BUS", SIGBUS},   {"FPE", SIGFPE},
    {"KILL", SIGKILL}, {"USR1", SIGUSR1},   {"SEGV", SIGSEGV}, {"USR2", SIGUSR2},
    {"PIPE", SIGPIPE}, {"ALRM", SIGALRM},   {"TERM", SIGTERM}, {"CHLD", SIGCHLD},
    {"CONT", SIGCONT}, {"STOP", SIGSTOP},   {"TSTP", SIGTSTP}, {"TTIN", SIGTTIN},
    {"TTOU", SIGTTOU}, {"WINCH", SIGWINCH},
};

static void die(int code, const char *what, const char *arg)
{
	fprintf(stderr, "%s: %s%s%s\n", prog_name, what, arg ? ": " : "", arg ? arg : "");
	exit(code);
}

static long parse_long(const char *s, long lo, long hi)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (end == s || *end != '\0' || errno == ERANGE || v < lo || v > hi)
		die(2, "bad number", s);
	return v;
}

static double parse_secs(const char *s)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (end == s || *end != '\0' || errno == ERANGE || !isfinite(v) || v < 0 || v > 86400)
		die(2, "bad duration", s);
	return v;
}

static int parse_sig(const char *s)
{
	const char *n = s;
	size_t i;

	if (s[0] >= '0' && s[0] <= '9')
		return (int)parse_long(s, 1, SIGRTMAX);
	if (strncmp(n, "SIG", 3) == 0)
		n += 3;
	for (i = 0; i < sizeof signames / sizeof signames[0]; i++)
		if (strcmp(n, signames[i].name) == 0)
			return signames[i].num;
	die(2, "bad signal", s);
	return 0;
}

static const char *need(int argc, char **argv, int i)
{
	if (i >= argc)
		die(2, "missing argument after", argv[i - 1]);
	return argv[i];
}

static void on_signal(int sig)
{
	caught = sig;
}

static void report_caught(void)
{
	if (caught && !caught_reported) {
		caught_reported = 1;
		printf("caught %d\n", (int)caught);
		fflush(stdout);
	}
}

static void do_sleep(double secs)
{
	struct timespec ts;

	ts.tv_sec = (time_t)secs;
	ts.tv_nsec = (long)((secs - (double)ts.tv_sec) * 1e9);
	if (ts.tv_nsec >= 1000000000L)
		ts.tv_nsec = 999999999L;
	while (nanosleep(&ts, &ts) != 0) {
		if (errno != EINTR)
			die(1, "nanosleep", strerror(errno));
		if (caught)
			return;
	}
}

static void no_core(void)
{
	struct rlimit rl = {0, 0};

	setrlimit(RLIMIT_CORE, &rl);
}

static void create_file(const char *path, int excl_code)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);

	if (fd < 0) {
		if (errno == EEXIST && excl_code) {
			fprintf(stderr, "%s: overlap: %s exists\n", prog_name, path);
			exit(excl_code);
		}
		die(1, "cannot create", path);
	}
	close(fd);
}

static void join(char *dst, size_t n, const char *dir, const char *name)
{
	if ((size_t)snprintf(dst, n, "%s/%s", dir, name) >= n)
		die(2, "path too long", dir);
}

static void print_env(void)
{
	extern char **environ;
	char **e;

	for (e = environ; *e; e++)
		if (strncmp(*e, "PIDLOCK_", 8) == 0)
			printf("%s\n", *e);
	fflush(stdout);
}

static int count_threads(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	int n = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof line, f)) {
		char *end;
		long v;

		if (strncmp(line, "Threads:", 8) != 0)
			continue;
		errno = 0;
		v = strtol(line + 8, &end, 10);
		if (errno == 0 && end != line + 8 && (*end == '\n' || *end == '\0') && v > 0 &&
		    v < INT_MAX)
			n = (int)v;
	}
	fclose(f);
	return n;
}

static void print_state(void)
{
	/* Measure before printing anything: stdio allocates its buffer on the
	 * first output. */
	int out_lbf = __flbf(stdout), err_lbf = __flbf(stderr);
	size_t out_bsz = __fbufsize(stdout), err_bsz = __fbufsize(stderr);
	mode_t um = umask(0);
	char cwd[PATH_MAX];
	struct itimerval it;
	sigset_t mask, pend;
	DIR *d;
	struct dirent *de;
	int sig;

	umask(um);
	printf("errno %d\n", entry_errno);
	printf("umask %04o\n", (unsigned)um);
	printf("cwd %s\n", getcwd(cwd, sizeof cwd) ? cwd : "?");
	printf("threads %d\n", count_threads());
	getitimer(ITIMER_REAL, &it);
	printf("itimer-real %ld.%06ld %ld.%06ld\n", (long)it.it_value.tv_sec,
	       (long)it.it_value.tv_usec, (long)it.it_interval.tv_sec,
	       (long)it.it_interval.tv_usec);
	printf("stdout line-buffered %d bufsize %zu\n", out_lbf, out_bsz);
	printf("stderr line-buffered %d bufsize %zu\n", err_lbf, err_bsz);
	for (sig = 1; sig <= SIGRTMAX; sig++) {
		struct sigaction sa;

		if (sigaction(sig, NULL, &sa) != 0)
			continue;
		printf("signal %d %s flags 0x%x\n", sig,
		       sa.sa_handler == SIG_DFL   ? "default"
		       : sa.sa_handler == SIG_IGN ? "ignored"
						  : "handled",
		       (unsigned)sa.sa_flags);
	}
	sigprocmask(SIG_BLOCK, NULL, &mask);
	sigpending(&pend);
	printf("blocked");
	for (sig = 1; sig <= SIGRTMAX; sig++)
		if (sigismember(&mask, sig) == 1)
			printf(" %d", sig);
	printf("\npending");
	for (sig = 1; sig <= SIGRTMAX; sig++)
		if (sigismember(&pend, sig) == 1)
			printf(" %d", sig);
	printf("\n");
	d = opendir("/proc/self/fd");
	if (!d)
		die(1, "opendir", "/proc/self/fd");
	while ((de = readdir(d))) {
		char link[64], target[PATH_MAX];
		ssize_t n;
		long fd;
		char *end;

		if (de->d_name[0] == '.')
			continue;
		fd = strtol(de->d_name, &end, 10);
		if (*end != '\0' || fd == dirfd(d))
			continue;
		snprintf(link, sizeof link, "/proc/self/fd/%ld", fd);
		n = readlink(link, target, sizeof target - 1);
		target[n < 0 ? 0 : n] = '\0';
		/* pipe:[ino] and socket:[ino] differ between runs. */
		if (strncmp(target, "pipe:", 5) == 0)
			strcpy(target, "pipe");
		else if (strncmp(target, "socket:", 7) == 0)
			strcpy(target, "socket");
		printf("fd %ld cloexec %d flags 0%o %s\n", fd,
		       (fcntl((int)fd, F_GETFD) & FD_CLOEXEC) != 0,
		       (unsigned)fcntl((int)fd, F_GETFL), target);
	}
	closedir(d);
	fflush(stdout);
}

static void print_mapped(const char *text)
{
	FILE *f = fopen("/proc/self/maps", "r");
	char line[PATH_MAX + 256];
	int found = 0;

	if (!f)
		die(1, "fopen", "/proc/self/maps");
	while (fgets(line, sizeof line, f))
		if (strstr(line, text))
			found = 1;
	fclose(f);
	printf("mapped %s\n", found ? "yes" : "no");
	fflush(stdout);
}

static void wait_for(const char *path)
{
	int i;

	for (i = 0; i < 6000; i++) {
		if (access(path, F_OK) == 0)
			return;
		do_sleep(0.01);
	}
	die(97, "timed out waiting for", path);
}

static void write_pid(const char *path)
{
	char tmp[PATH_MAX];
	FILE *f;

	if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp", path) >= sizeof tmp)
		die(2, "path too long", path);
	f = fopen(tmp, "w");
	if (!f)
		die(1, "cannot create", tmp);
	fprintf(f, "%ld\n", (long)getpid());
	if (fclose(f) != 0 || rename(tmp, path) != 0)
		die(1, "cannot write", path);
}

int main(int argc, char **argv)
{
	int i;

	entry_errno = errno;
	if (argc > 0 && argv[0])
		prog_name = argv[0];
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		report_caught();
		if (strcmp(a, "marker") == 0) {
			join(marker_path, sizeof marker_path, need(argc, argv, ++i), "in-main");
			create_file(marker_path, 99);
		} else if (strcmp(a, "unmark") == 0) {
			if (!marker_path[0] || unlink(marker_path) != 0) {
				fprintf(stderr, "%s: marker vanished\n", prog_name);
				exit(98);
			}
			marker_path[0] = '\0';
		} else if (strcmp(a, "note") == 0) {
			char path[PATH_MAX], name[64];

			snprintf(name, sizeof name, "ran.%ld", (long)getpid());
			join(path, sizeof path, need(argc, argv, ++i), name);
			create_file(path, 0);
		} else if (strcmp(a, "sleep") == 0) {
			do_sleep(parse_secs(need(argc, argv, ++i)));
		} else if (strcmp(a, "waitfor") == 0) {
			wait_for(need(argc, argv, ++i));
		} else if (strcmp(a, "print") == 0) {
			printf("%s\n", need(argc, argv, ++i));
			fflush(stdout);
		} else if (strcmp(a, "pid") == 0) {
			printf("%ld\n", (long)getpid());
			fflush(stdout);
		} else if (strcmp(a, "writepid") == 0) {
			write_pid(need(argc, argv, ++i));
		} else if (strcmp(a, "env") == 0) {
			print_env();
		} else if (strcmp(a, "state") == 0) {
			print_state();
		} else if (strcmp(a, "secure") == 0) {
			printf("secure %lu\n", getauxval(AT_SECURE));
			fflush(stdout);
		} else if (strcmp(a, "mapped") == 0) {
			print_mapped(need(argc, argv, ++i));
		} else if (strcmp(a, "ignore") == 0) {
			signal(parse_sig(need(argc, argv, ++i)), SIG_IGN);
		} else if (strcmp(a, "catch") == 0) {
			struct sigaction sa;

			memset(&sa, 0, sizeof sa);
			sa.sa_handler = on_signal;
			sigemptyset(&sa.sa_mask);
			if (sigaction(parse_sig(need(argc, argv, ++i)), &sa, NULL) != 0)
				die(2, "cannot catch", argv[i]);
		} else if (strcmp(a, "kill") == 0) {
			int sig = parse_sig(need(argc, argv, ++i));

			no_core();
			kill(getpid(), sig);
		} else if (strcmp(a, "segv") == 0) {
			volatile int *volatile p = NULL;

			no_core();
			*p = 1;
		} else if (strcmp(a, "system") == 0) {
			int st = system(need(argc, argv, ++i));

			printf("system %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
			fflush(stdout);
		} else if (strcmp(a, "exec") == 0) {
			const char *path = need(argc, argv, ++i);

			fflush(stdout);
			execv(path, argv + i);
			die(96, "exec failed", path);
		} else if (strcmp(a, "execself") == 0) {
			argv[i] = argv[0];
			fflush(stdout);
			execv("/proc/self/exe", argv + i);
			die(96, "exec failed", "/proc/self/exe");
		} else if (strcmp(a, "exit") == 0) {
			exit((int)parse_long(need(argc, argv, ++i), 0, 255));
		} else if (strcmp(a, "_exit") == 0) {
			fflush(stdout);
			_exit((int)parse_long(need(argc, argv, ++i), 0, 255));
		} else if (strcmp(a, "return") == 0) {
			return (int)parse_long(need(argc, argv, ++i), 0, 255);
		} else {
			die(2, "unknown action", a);
		}
	}
	report_caught();
	return 0;
}
