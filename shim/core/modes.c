/* SPDX-License-Identifier: MIT */
/* fail, wait, replace and stop: the modes, written once for every kind of
 * lock (DESIGN.md, "The mode driver").
 *
 * The PID file (lock.c) and each cluster backend (shim/plugins/) describe
 * their lock as a struct pl_session (backend.h); this file decides what to
 * do with it and says so, in the same words whatever the lock: "already
 * running as", "waiting for", "timed out after", "could not replace",
 * "overtaken by a newer replace request", and the TERM-to-KILL escalation
 * of replace and stop. It is compiled into the library, the command and
 * every plugin (as msg.c is), so it uses only the core's public headers and
 * the C library: no function of the core is reached across the seam.
 *
 * Replace is a restart, as file watchers mean it (DESIGN.md, guarantee 8
 * and "Replace storms"): the first signal to every holder, its full grace
 * period before any SIGKILL, and when several replace requests overlap the
 * newest wins: each waits in slices of at most 100 ms, and between them
 * steps aside as soon as a newer request has made itself known
 * (request, overtaken), and signals any new holder it had not signalled (an
 * instance an older request managed to start before it stepped aside).
 */
#include "backend.h"
#include "sys.h"

#include <errno.h>
#include <signal.h>
#include <time.h>

void pl_nap_ms(long ms)
{
	struct timespec ts = {ms / 1000, ms % 1000 * 1000000L};
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* The monotonic clock, without the core's platform layer (see the top). */
static long long now_ns(void)
{
	struct timespec ts;
#ifdef PL_RAW_SYSCALLS
	pl_sc(SYS_clock_gettime, CLOCK_MONOTONIC, &ts);
#else
	clock_gettime(CLOCK_MONOTONIC, &ts);
#endif
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

#define SLICE_NS (100 * 1000000LL)
#define KILL_GRACE_NS (5 * 1000000000LL) /* after SIGKILL: a process in uninterruptible sleep */

/* "PATH: WHAT HOLDER[: WHY]", unless quiet; then the session is closed.
 * who: the holder as it was described when it was found (a refusal names
 * the instance it met, even if a hand-over has begun since), or NULL to
 * look now. */
static int conflict(const struct pl_config *cfg, const struct pl_session *s, const char *what,
		    const struct pl_msg *who, const char *why)
{
	if (!cfg->quiet) {
		struct pl_msg m;
		pl_msg_path(&m, cfg->path, what);
		if (who)
			pl_msg_strn(&m, who->buf, who->len);
		else
			s->holder(s, &m);
		if (why && *why) {
			pl_msg_str(&m, ": ");
			pl_msg_str(&m, why);
		}
		pl_msg_send(&m);
	}
	s->close(s);
	return PL_HELD_ELSEWHERE;
}

/* The lock cannot be taken or waited for at all: 73, after one line. */
static int lost(const struct pl_config *cfg, const struct pl_session *s, const char *what)
{
	struct pl_msg m;
	pl_msg_path(&m, cfg->path, what);
	pl_msg_str(&m, s->noun);
	s->say_error(s, &m);
	s->close(s);
	return s->fail(&m, cfg, PL_EX_CANTCREAT);
}

/* Could not tell who holds it (out of descriptors while scanning): 71. */
static int unknown(const struct pl_config *cfg, const struct pl_session *s)
{
	struct pl_msg m;
	pl_msg_path(&m, cfg->path, "cannot examine the processes that hold the lock");
	s->say_error(s, &m);
	s->close(s);
	return s->fail(&m, cfg, PL_EX_OSERR);
}

static void say_done(const struct pl_config *cfg, const struct pl_session *s, const char *what,
		     long long t0)
{
	if (!cfg->verbose)
		return;
	struct pl_msg m;
	pl_msg_path(&m, cfg->path, what);
	pl_msg_secs(&m, now_ns() - t0);
	pl_msg_str(&m, " s (");
	pl_msg_str(&m, s->id);
	pl_msg_str(&m, ")");
	pl_msg_send(&m);
}

/* A lock held by nobody we can see may be a holder outside this PID
 * namespace, or a prober's shared request that lasts an instant (pidlock
 * status in a container): try again for about 200 ms before believing it is
 * held. 1 locked meanwhile, 0 not, -1 error. */
static int holder_unseen(const struct pl_session *s)
{
	for (int i = 0; i < 20; i++) {
		int got = s->lock(s, 0);
		if (got)
			return got;
		pl_nap_ms(10);
	}
	return 0;
}

static int wait_for(const struct pl_config *cfg, const struct pl_session *s, long long t0)
{
	struct pl_msg m;
	if (cfg->verbose) {
		pl_msg_path(&m, cfg->path, "waiting for ");
		s->holder(s, &m);
		pl_msg_send(&m);
	}
	long long until = cfg->timeout_ns == PL_FOREVER ? 0 : now_ns() + cfg->timeout_ns;
	int w;
	for (;;) {
		long long left = cfg->timeout_ns == PL_FOREVER ? PL_FOREVER : until - now_ns();
		if (left != PL_FOREVER && left < 0)
			left = 0;
		w = s->lock(s, left);
		/* A server's session lost while waiting (a restart) is connected
		 * again, and the wait goes on within its time. */
		if (w >= 0 || !s->reconnect || s->reconnect(s, left) < 0)
			break;
	}
	if (w < 0)
		return lost(cfg, s, "cannot wait for the ");
	if (w == 0) {
		if (!cfg->quiet) {
			pl_msg_path(&m, cfg->path, "timed out after ");
			pl_msg_secs(&m, cfg->timeout_ns);
			pl_msg_str(&m, " s; still held by ");
			s->holder(s, &m);
			pl_msg_send(&m);
		}
		s->close(s);
		return PL_HELD_ELSEWHERE;
	}
	say_done(cfg, s, "acquired after waiting ", t0);
	return 0;
}

static int overtaken(const struct pl_config *cfg, const struct pl_session *s)
{
	if (!cfg->quiet) {
		struct pl_msg m;
		pl_msg_path(&m, cfg->path, "overtaken by a newer replace request; stepping aside");
		pl_msg_send(&m);
	}
	s->close(s);
	return PL_HELD_ELSEWHERE; /* the conflict status: another request runs */
}

/* Replace: the configured signal to every holder, its grace period, then
 * SIGKILL and a few seconds more; newest request wins (see the top). */
static int replace(const struct pl_config *cfg, const struct pl_session *s, long long t0)
{
	char why[320] = "";
	int storm = s->request && s->overtaken && s->request(s) == 0;
	long long id = s->holder(s, NULL);
	if (id < 0)
		return unknown(cfg, s);
	if (storm && s->overtaken(s))
		return overtaken(cfg, s);
	int e = s->end(s, id, cfg->signo, why, sizeof(why));
	if (e == -2)
		return unknown(cfg, s);
	if (e < 0)
		return conflict(cfg, s, "could not replace ", NULL, why); /* waiting cannot help */
	long long signalled = id, deadline = now_ns() + cfg->timeout_ns;
	int killed = 0;
	for (;;) {
		long long left = deadline - now_ns();
		int w = s->lock(s, storm ? (left < SLICE_NS ? left : SLICE_NS) : left);
		if (w < 0)
			return lost(cfg, s, "cannot wait for the ");
		if (w > 0)
			break;
		if (storm && s->overtaken(s))
			return overtaken(cfg, s);
		if (storm) {
			/* A new instance (one an older request started before it
			 * stepped aside) gets the first signal and a grace period of
			 * its own too. */
			id = s->holder(s, NULL);
			if (id > 0 && id != signalled && !killed) {
				e = s->end(s, id, cfg->signo, why, sizeof(why));
				if (e == -2)
					return unknown(cfg, s);
				if (e < 0)
					return conflict(cfg, s, "could not replace ", NULL, why);
				signalled = id;
				deadline = now_ns() + cfg->timeout_ns;
				continue;
			}
		}
		if (now_ns() < deadline)
			continue;
		if (killed)
			return conflict(cfg, s, "could not replace ", NULL, NULL);
		id = s->holder(s, NULL);
		if (id < 0)
			return unknown(cfg, s);
		e = s->end(s, id, SIGKILL, why, sizeof(why));
		if (e == -2)
			return unknown(cfg, s);
		if (e < 0)
			return conflict(cfg, s, "could not replace ", NULL, why);
		killed = 1;
		deadline = now_ns() + KILL_GRACE_NS;
	}
	if (storm && s->overtaken(s)) {
		/* Locked, but a newer request has come meanwhile: ours is not to
		 * run. Closing the session lets the newer one have it. */
		return overtaken(cfg, s);
	}
	/* Locked, but a holder on another host may not know yet that its
	 * session is gone: main waits until it must have stopped. */
	if (s->settle)
		s->settle(s);
	say_done(cfg, s, "replaced the holder in ", t0);
	return 0;
}

int pl_take_session(const struct pl_config *cfg, const struct pl_session *s)
{
	int got = s->lock(s, 0);
	if (got < 0)
		return lost(cfg, s, "cannot take the ");
	return got ? 0 : pl_take(cfg, s);
}

int pl_take(const struct pl_config *cfg, const struct pl_session *s)
{
	long long t0 = now_ns();
	struct pl_msg who;
	who.len = 0;
	long long id = s->holder(s, &who);
	if (id < 0)
		return unknown(cfg, s);
	if (id == 0) {
		int got = holder_unseen(s);
		if (got < 0)
			return lost(cfg, s, "cannot take the ");
		if (got)
			return 0;
	}
	switch (cfg->mode) {
	case PL_MODE_WAIT:
		return wait_for(cfg, s, t0);
	case PL_MODE_REPLACE:
		return replace(cfg, s, t0);
	default:
		return conflict(cfg, s, "already running as ", &who, NULL);
	}
}

static int stop_failed(const struct pl_config *cfg, const struct pl_session *s, const char *why,
		       int quiet)
{
	if (!quiet) {
		struct pl_msg m;
		pl_msg_path(&m, cfg->path, "could not stop the holder");
		if (why && *why) {
			pl_msg_str(&m, ": ");
			pl_msg_str(&m, why);
		}
		pl_msg_send(&m);
	}
	s->close(s);
	return 1;
}

int pl_stop_holders(const struct pl_config *cfg, const struct pl_session *s, int signo,
		    long long timeout_ns, int quiet)
{
	char why[320] = "";
	long long last = -1, deadline = now_ns() + timeout_ns;
	int killed = 0;
	/* A server's session is polled by who holds it, so that one that
	 * takes the lock after the first is ended too; the PID file's lock by
	 * whether it is held at all (its end reaches every holder at once). */
	int by_id = !s->held;
	for (;;) {
		long long id = by_id || last < 0 ? s->holder(s, NULL) : last;
		int held = id < 0 ? -1 : by_id ? id > 0 : s->held(s);
		if (held < 0) {
			struct pl_msg m;
			pl_msg_path(&m, cfg->path, "cannot tell who holds the lock");
			s->say_error(s, &m);
			pl_msg_send(&m); /* not about the instance: never quiet */
			s->close(s);
			return 1;
		}
		if (!held)
			break;
		int time_up = now_ns() >= deadline;
		if (id != last || (time_up && !killed)) {
			/* The first signal to each holder as it comes (the first,
			 * or a session that took the lock after it), SIGKILL once
			 * the time is up. */
			int sig = time_up ? SIGKILL : signo;
			int e = s->end(s, id, sig, why, sizeof(why));
			if (e == -2) {
				struct pl_msg m;
				pl_msg_path(&m, cfg->path, "could not stop the holder: cannot examine the processes");
				s->say_error(s, &m);
				pl_msg_send(&m); /* not about the instance: never quiet */
				s->close(s);
				return 1;
			}
			if (e < 0)
				return stop_failed(cfg, s, why, quiet);
			last = id;
			if (sig == SIGKILL) {
				killed = 1;
				deadline = now_ns() + KILL_GRACE_NS;
			}
			continue;
		}
		if (killed && time_up)
			return stop_failed(cfg, s, NULL, quiet);
		pl_nap_ms(10);
	}
	/* Free, but stopped only once every holder ended is known gone. */
	if (s->settle)
		s->settle(s);
	s->close(s);
	return 0;
}
