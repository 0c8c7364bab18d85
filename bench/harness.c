/* SPDX-License-Identifier: MIT */
/* harness: the measuring parts of the pidlock benchmark (driven by run.sh).
 *
 *   harness startup ROUNDS -- VARIANT ::: VARIANT ...
 *       Runs every variant ROUNDS times, round-robin (the order rotates each
 *       round), one process at a time, and prints per variant:
 *       NAME<TAB>median_ns<TAB>p25_ns<TAB>p75_ns<TAB>runs
 *       Every run must exit 0. One warm-up round is not counted.
 *
 *   harness handover COUNT MODE SAMPLES -- HOLDER ::: WAITER
 *       COUNT independent handovers. Each: start HOLDER (a program that
 *       prints "ready ..." once it holds the lock, then at EOF on stdin prints
 *       CLOCK_MONOTONIC ns and _exits); start WAITER; wait until the waiter
 *       waits (MODE "block": it is asleep in flock(2), read from
 *       /proc/PID/syscall; MODE "poll:MS": it printed "waiting", then a random
 *       0..MS ms more, so the release falls at a random phase of its retry
 *       period); close the holder's stdin; the waiter prints CLOCK_MONOTONIC
 *       ns first thing once it runs. Handover = waiter's stamp - holder's.
 *       Samples (ns, one a line) are appended to SAMPLES; stdout gets one
 *       summary line for this call.
 *
 *   harness contend N REPS LOSECODE -- VARIANT
 *       REPS times: fork N starters, hold them at a barrier until all N are
 *       there, release them at once (T0), and time until every loser has
 *       exited (status LOSECODE). Asserts exactly one winner: one "ready"
 *       line and N-1 losers. LOSECODE -1: a baseline with no lock, where all
 *       N must exit 0. Prints one line per repetition and a summary line.
 *
 * A VARIANT is: NAME [VAR=VALUE]... PATH [ARG]...; the program gets exactly
 * those variables as its environment, and PATH is not searched.
 *
 * Every wait is bounded (5 s per step, 120 s for a contention round); a child
 * that overstays is killed by its PID, and only children of this process are
 * ever signalled.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define STEP_NS (5LL * 1000000000LL)

struct variant {
	const char *name;
	char **envp;
	char **argv;
};

static long long now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void nap_us(long us)
{
	struct timespec ts = {us / 1000000, (us % 1000000) * 1000};
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static void die(const char *what)
{
	fprintf(stderr, "harness: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size);
	if (!p)
		die("calloc");
	return p;
}

/* Splits args (after "--") at ":::" into variants. Modifies args in place. */
static int parse_variants(char **args, int n, struct variant *v, int max)
{
	int count = 0, i = 0;
	while (i < n) {
		if (count == max) {
			fprintf(stderr, "harness: too many variants\n");
			exit(64);
		}
		int start = i;
		while (i < n && strcmp(args[i], ":::") != 0)
			i++;
		int end = i; /* args[start..end) */
		if (i < n)
			args[i++] = NULL;
		if (end - start < 2) {
			fprintf(stderr, "harness: a variant needs NAME and PATH\n");
			exit(64);
		}
		struct variant *x = &v[count++];
		x->name = args[start];
		int e = start + 1;
		while (e < end && strchr(args[e], '=') && args[e][0] != '/')
			e++;
		x->envp = xcalloc((size_t)(e - start), sizeof(char *));
		for (int k = start + 1; k < e; k++)
			x->envp[k - start - 1] = args[k];
		if (e == end) {
			fprintf(stderr, "harness: variant %s has no program\n", x->name);
			exit(64);
		}
		x->argv = xcalloc((size_t)(end - e + 1), sizeof(char *));
		for (int k = e; k < end; k++)
			x->argv[k - e] = args[k];
	}
	return count;
}

/* posix_spawn with the given descriptors as 0, 1, 2 (-1: /dev/null). */
static pid_t spawn(const struct variant *v, int in, int out, int err)
{
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	int fds[3] = {in, out, err};
	for (int i = 0; i < 3; i++) {
		if (fds[i] >= 0)
			posix_spawn_file_actions_adddup2(&fa, fds[i], i);
		else
			posix_spawn_file_actions_addopen(&fa, i, "/dev/null", i ? O_WRONLY : O_RDONLY, 0);
	}
	pid_t pid;
	int r = posix_spawn(&pid, v->argv[0], &fa, NULL, v->argv, v->envp);
	posix_spawn_file_actions_destroy(&fa);
	if (r) {
		errno = r;
		fprintf(stderr, "harness: %s: cannot run %s: %s\n", v->name, v->argv[0], strerror(r));
		exit(1);
	}
	return pid;
}

/* Waits for pid until deadline; then kills it (our own child) and reaps it.
 * Returns the wait status, or -1 if it had to be killed. */
static int reap(pid_t pid, long long deadline)
{
	int st;
	for (;;) {
		pid_t r = waitpid(pid, &st, WNOHANG);
		if (r == pid)
			return st;
		if (r < 0 && errno != EINTR)
			return -1;
		if (now_ns() > deadline)
			break;
		nap_us(200);
	}
	kill(pid, SIGKILL);
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	return -1;
}

static int cmp_ll(const void *a, const void *b)
{
	long long x = *(const long long *)a, y = *(const long long *)b;
	return (x > y) - (x < y);
}

/* Nearest-rank percentile of a sorted array. */
static long long pct(const long long *s, int n, double p)
{
	if (n <= 0)
		return -1;
	int k = (int)(p / 100.0 * n + 0.999999);
	if (k < 1)
		k = 1;
	if (k > n)
		k = n;
	return s[k - 1];
}

static long long median(const long long *s, int n)
{
	if (n <= 0)
		return -1;
	return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

/* ---------------------------------------------------------------- startup */

static int cmd_startup(int rounds, struct variant *v, int nv)
{
	long long **t = xcalloc((size_t)nv, sizeof(long long *));
	for (int i = 0; i < nv; i++)
		t[i] = xcalloc((size_t)rounds, sizeof(long long));
	for (int r = -1; r < rounds; r++) { /* round -1: warm-up */
		for (int k = 0; k < nv; k++) {
			int i = (k + (r < 0 ? 0 : r)) % nv;
			long long t0 = now_ns();
			pid_t pid = spawn(&v[i], -1, -1, -1);
			int st;
			while (waitpid(pid, &st, 0) < 0)
				if (errno != EINTR)
					die("waitpid");
			long long t1 = now_ns();
			if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
				fprintf(stderr, "harness: %s: exited with status 0x%x\n", v[i].name, st);
				return 1;
			}
			if (r >= 0)
				t[i][r] = t1 - t0;
		}
	}
	for (int i = 0; i < nv; i++) {
		qsort(t[i], (size_t)rounds, sizeof(long long), cmp_ll);
		printf("%s\t%lld\t%lld\t%lld\t%d\n", v[i].name, median(t[i], rounds),
		       pct(t[i], rounds, 25), pct(t[i], rounds, 75), rounds);
	}
	return 0;
}

/* --------------------------------------------------------------- handover */

struct lines {
	int fd;
	size_t len;
	char buf[512];
};

/* One line (without '\n') into out. 1: a line; 0: EOF; -1: deadline. */
static int next_line(struct lines *l, char *out, size_t n, long long deadline)
{
	for (;;) {
		char *nl = memchr(l->buf, '\n', l->len);
		if (nl) {
			size_t k = (size_t)(nl - l->buf);
			size_t c = k < n - 1 ? k : n - 1;
			memcpy(out, l->buf, c);
			out[c] = '\0';
			memmove(l->buf, nl + 1, l->len - k - 1);
			l->len -= k + 1;
			return 1;
		}
		if (l->len == sizeof(l->buf))
			l->len = 0; /* a line too long to be ours */
		long long left = deadline - now_ns();
		if (left <= 0)
			return -1;
		struct pollfd p = {l->fd, POLLIN, 0};
		int r = poll(&p, 1, (int)(left / 1000000 + 1));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		ssize_t got = read(l->fd, l->buf + l->len, sizeof(l->buf) - l->len);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			return 0;
		l->len += (size_t)got;
	}
}

/* 1 once pid sleeps inside flock(2), as /proc/PID/syscall shows. */
static int in_flock(pid_t pid)
{
	char path[64], buf[128];
	snprintf(path, sizeof(path), "/proc/%d/syscall", (int)pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	char *end;
	long nr = strtol(buf, &end, 10);
	return end != buf && nr == (long)SYS_flock;
}

static unsigned long long rng = 88172645463325252ULL; /* fixed seed: repeatable */
static unsigned long long next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static int cmd_handover(int count, const char *mode, const char *samples, struct variant *v, int nv)
{
	if (nv != 2) {
		fprintf(stderr, "harness: handover needs HOLDER ::: WAITER\n");
		return 64;
	}
	long poll_ms = -1;
	if (strncmp(mode, "poll:", 5) == 0)
		poll_ms = strtol(mode + 5, NULL, 10);
	else if (strcmp(mode, "block") != 0) {
		fprintf(stderr, "harness: MODE is block or poll:MS\n");
		return 64;
	}
	FILE *out = fopen(samples, "a"); /* run.sh interleaves approaches in chunks */
	if (!out)
		die(samples);
	long long *lat = xcalloc((size_t)count, sizeof(long long));
	int ok = 0, overlaps = 0, failures = 0;
	for (int i = 0; i < count; i++) {
		int hin[2], hout[2], wout[2];
		if (pipe2(hin, O_CLOEXEC) || pipe2(hout, O_CLOEXEC) || pipe2(wout, O_CLOEXEC))
			die("pipe2");
		pid_t holder = spawn(&v[0], hin[0], hout[1], -1);
		close(hin[0]);
		close(hout[1]);
		struct lines hl = {hout[0], 0, {0}}, wl = {wout[0], 0, {0}};
		char line[128];
		const char *why = NULL;
		pid_t waiter = -1;
		long long t0 = 0, t1 = 0;
		if (next_line(&hl, line, sizeof(line), now_ns() + STEP_NS) != 1 ||
		    strncmp(line, "ready", 5) != 0) {
			why = "holder did not get ready";
			goto end;
		}
		waiter = spawn(&v[1], -1, wout[1], -1);
		close(wout[1]);
		wout[1] = -1;
		if (poll_ms < 0) {
			long long dl = now_ns() + STEP_NS;
			while (!in_flock(waiter) && now_ns() < dl)
				nap_us(100);
			if (!in_flock(waiter)) {
				why = "waiter never slept in flock()";
				goto end;
			}
		} else {
			if (next_line(&wl, line, sizeof(line), now_ns() + STEP_NS) != 1 ||
			    strcmp(line, "waiting") != 0) {
				why = "waiter did not say \"waiting\"";
				goto end;
			}
			nap_us((long)(next_rand() % (unsigned long long)(poll_ms * 1000 + 1)));
		}
		close(hin[1]); /* the holder may go now */
		hin[1] = -1;
		if (next_line(&hl, line, sizeof(line), now_ns() + STEP_NS) != 1) {
			why = "no stamp from the holder";
			goto end;
		}
		t0 = strtoll(line, NULL, 10);
		if (next_line(&wl, line, sizeof(line), now_ns() + STEP_NS) != 1) {
			why = "no stamp from the waiter";
			goto end;
		}
		t1 = strtoll(line, NULL, 10);
	end:
		if (hin[1] >= 0)
			close(hin[1]);
		if (wout[1] >= 0)
			close(wout[1]);
		long long dl = now_ns() + STEP_NS;
		int hs = reap(holder, dl);
		int ws = waiter > 0 ? reap(waiter, dl) : 0;
		close(hout[0]);
		close(wout[0]);
		if (!why && (hs == -1 || ws == -1 || !WIFEXITED(ws) || WEXITSTATUS(ws) != 0))
			why = "a process did not exit cleanly";
		if (why) {
			fprintf(stderr, "harness: %s, handover %d: %s\n", v[1].name, i, why);
			failures++;
			if (failures > 5)
				break;
			continue;
		}
		if (t1 <= t0) {
			overlaps++; /* the waiter ran before the holder let go */
			continue;
		}
		lat[ok++] = t1 - t0;
		fprintf(out, "%lld\n", t1 - t0);
	}
	fclose(out);
	qsort(lat, (size_t)ok, sizeof(long long), cmp_ll);
	printf("handovers=%d median_ns=%lld p99_ns=%lld min_ns=%lld max_ns=%lld overlaps=%d "
	       "failures=%d\n",
	       ok, median(lat, ok), pct(lat, ok, 99), ok ? lat[0] : -1, ok ? lat[ok - 1] : -1,
	       overlaps, failures);
	return overlaps || failures ? 2 : 0;
}

/* --------------------------------------------------------------- contend */

static void on_alarm(int sig)
{
	(void)sig; /* only there to interrupt waitpid() */
}

/* Reads the "ready PID" lines that have come, waiting up to wait_ns for the
 * first. Returns how many; the first one's PID goes to *winner. */
static int count_ready(struct lines *l, int *winner, const char *name, int n, long long wait_ns)
{
	char line[128];
	int got = 0;
	long long dl = now_ns() + (wait_ns > 0 ? wait_ns : 1000000LL);
	while (next_line(l, line, sizeof(line), dl) == 1) {
		if (strncmp(line, "ready ", 6) != 0)
			continue;
		if (*winner)
			fprintf(stderr, "harness: %s, N=%d: another winner: PID %s\n", name, n, line + 6);
		else
			*winner = atoi(line + 6);
		got++;
		dl = now_ns() + 1000000LL;
	}
	return got;
}

static int contend_once(int n, int losecode, const struct variant *v, double *ms, int *winner,
			int *lost_out, int *winners_out)
{
	int go[2], ready[2], in[2], out[2];
	if (pipe2(go, O_CLOEXEC) || pipe2(ready, O_CLOEXEC) || pipe2(in, O_CLOEXEC) ||
	    pipe2(out, O_CLOEXEC))
		die("pipe2");
	int devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
	if (devnull < 0)
		die("/dev/null");
	pid_t *pids = xcalloc((size_t)n, sizeof(pid_t));
	int forked = 0, bad = 0;
	for (; forked < n; forked++) {
		pid_t pid = fork();
		if (pid < 0) {
			fprintf(stderr, "harness: fork %d of %d: %s\n", forked + 1, n, strerror(errno));
			bad = 1;
			break;
		}
		if (pid == 0) {
			close(go[1]);
			close(ready[0]);
			(void)!write(ready[1], "x", 1);
			close(ready[1]);
			char c;
			while (read(go[0], &c, 1) < 0 && errno == EINTR)
				;
			if (dup2(in[0], 0) < 0 || dup2(out[1], 1) < 0 || dup2(devnull, 2) < 0)
				_exit(126);
			execve(v->argv[0], v->argv, v->envp);
			_exit(127);
		}
		pids[forked] = pid;
	}
	close(go[0]);
	close(ready[1]);
	close(in[0]);
	close(out[1]);
	close(devnull);
	/* The barrier: every starter has closed its copy of go[1] and sits in
	 * read() before we let them all go at once. */
	char buf[512];
	int arrived = 0;
	while (arrived < forked) {
		ssize_t r = read(ready[0], buf, sizeof(buf));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		arrived += (int)r;
	}
	close(ready[0]);
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm; /* no SA_RESTART: waitpid returns EINTR */
	sigaction(SIGALRM, &sa, NULL);
	/* A tick every 100 ms interrupts waitpid to look at the "ready" lines,
	 * so that a run with more than one winner ends without the time-out. */
	struct itimerval it = {{0, 100000}, {0, 100000}};
	setitimer(ITIMER_REAL, &it, NULL);

	struct lines l = {out[0], 0, {0}};
	int readies = 0;
	*winner = 0;
	long long t0 = now_ns(), last = t0, give_up = t0 + 120 * 1000000000LL;
	close(go[1]);
	int expect = losecode < 0 ? forked : forked - 1;
	int exited = 0, lost = 0, other = 0, timed_out = 0;
	while (exited < expect) {
		if (losecode >= 0)
			readies += count_ready(&l, winner, v->name, n, 0);
		if (exited + readies >= forked)
			break; /* more than one winner: no need to wait on */
		if (now_ns() > give_up) {
			timed_out = 1;
			break;
		}
		int st;
		pid_t p = waitpid(-1, &st, 0);
		if (p < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		last = now_ns();
		exited++;
		for (int k = 0; k < forked; k++)
			if (pids[k] == p)
				pids[k] = 0;
		int code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
		if (code == (losecode < 0 ? 0 : losecode))
			lost++;
		else
			other++;
	}
	memset(&it, 0, sizeof(it));
	setitimer(ITIMER_REAL, &it, NULL);
	*ms = (double)(last - t0) / 1e6;
	/* The winner's "ready" may come after the last loser has gone. */
	if (losecode >= 0 && !readies)
		readies += count_ready(&l, winner, v->name, n, STEP_NS);
	if (losecode >= 0)
		readies += count_ready(&l, winner, v->name, n, 100000000LL);
	close(in[1]); /* releases the winner(s) */
	long long dl = now_ns() + STEP_NS;
	for (int k = 0; k < forked; k++) {
		if (!pids[k])
			continue;
		int st = reap(pids[k], dl);
		if (st == -1 || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
			other++;
	}
	close(out[0]);
	free(pids);
	*lost_out = lost;
	*winners_out = readies;
	int okay = !bad && !timed_out && other == 0 &&
		   (losecode < 0 ? lost == forked : lost == forked - 1 && readies == 1);
	if (!okay)
		fprintf(stderr,
			"harness: %s, N=%d: %d losers exited as expected, %d other outcomes, %d "
			"winner(s)%s\n",
			v->name, n, lost, other, readies, timed_out ? ", timed out" : "");
	return okay ? 0 : 1;
}

static int cmd_contend(int n, int reps, int losecode, struct variant *v, int nv)
{
	if (nv != 1) {
		fprintf(stderr, "harness: contend takes one variant\n");
		return 64;
	}
	long long *t = xcalloc((size_t)reps, sizeof(long long));
	int fails = 0;
	for (int r = 0; r < reps; r++) {
		double ms;
		int winner, lost, winners;
		int failed = contend_once(n, losecode, v, &ms, &winner, &lost, &winners);
		fails += failed;
		t[r] = (long long)(ms * 1000.0); /* microseconds */
		if (losecode >= 0)
			printf("rep=%d N=%d all_losers_exited_ms=%.3f winner_pid=%d winners=%d losers=%d%s\n",
			       r, n, ms, winner, winners, lost, failed ? " FAILED" : "");
		else
			printf("rep=%d N=%d all_exited_ms=%.3f exited=%d%s\n", r, n, ms, lost,
			       failed ? " FAILED" : "");
		fflush(stdout);
	}
	qsort(t, (size_t)reps, sizeof(long long), cmp_ll);
	printf("summary N=%d reps=%d median_ms=%.3f min_ms=%.3f max_ms=%.3f failures=%d\n", n, reps,
	       (double)median(t, reps) / 1000.0, (double)t[0] / 1000.0,
	       (double)t[reps - 1] / 1000.0, fails);
	return fails ? 2 : 0;
}

/* ------------------------------------------------------------------ main */

static int usage(void)
{
	fprintf(stderr, "usage: harness startup ROUNDS -- VARIANT [::: VARIANT]...\n"
			"       harness handover COUNT block|poll:MS SAMPLES -- HOLDER ::: WAITER\n"
			"       harness contend N REPS LOSECODE -- VARIANT\n");
	return 64;
}

int main(int argc, char **argv)
{
	int dd = 0;
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "--") == 0) {
			dd = i;
			break;
		}
	if (argc < 2 || !dd)
		return usage();
	struct variant v[32];
	int nv = parse_variants(argv + dd + 1, argc - dd - 1, v, 32);
	int nargs = dd - 2; /* between the subcommand and "--" */
	char **a = argv + 2;
	signal(SIGPIPE, SIG_IGN);
	if (strcmp(argv[1], "startup") == 0 && nargs == 1 && atoi(a[0]) > 0)
		return cmd_startup(atoi(a[0]), v, nv);
	if (strcmp(argv[1], "handover") == 0 && nargs == 3 && atoi(a[0]) > 0)
		return cmd_handover(atoi(a[0]), a[1], a[2], v, nv);
	if (strcmp(argv[1], "contend") == 0 && nargs == 3 && atoi(a[0]) > 0 && atoi(a[1]) > 0)
		return cmd_contend(atoi(a[0]), atoi(a[1]), atoi(a[2]), v, nv);
	return usage();
}
