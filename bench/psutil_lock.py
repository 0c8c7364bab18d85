# SPDX-License-Identifier: MIT
"""The in-process way Python programs guard themselves today, for comparison.

    python3 psutil_lock.py [--wait] [--hold | --stamp] FILE

At start-up, before the program's real work: open FILE, flock it without
blocking; on conflict read the PID in it and ask psutil whether that process
exists (to name it, or to call the file stale); write the PID and fsync.

  (default)  fail mode: exit 75 when another live instance holds FILE.
  --wait     sleep-retry: try again every 0.1 s (POLL) until the lock is free,
             giving up after 30 s (exit 75). Prints "waiting" once, after the
             first failed try, when --stamp or --hold is given.
  --stamp    once locked, print CLOCK_MONOTONIC in ns (the moment the
             program's own work could start: its "main") and exit.
  --hold     once locked, print "ready PID", block until stdin reaches EOF,
             print CLOCK_MONOTONIC in ns and os._exit(0) at once.
"""

import fcntl
import os
import sys
import time

import psutil

POLL = 0.1
WAIT_LIMIT = 30.0
EX_TEMPFAIL = 75


def say(line):
    os.write(1, (line + "\n").encode())


def acquire(path, wait, announce):
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    deadline = time.monotonic() + WAIT_LIMIT
    announced = False
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            break
        except BlockingIOError:
            pass
        try:
            pid = int(os.pread(fd, 32, 0).split()[0])
        except (ValueError, IndexError):
            pid = 0
        alive = pid > 0 and psutil.pid_exists(pid)
        if not wait:
            who = "PID %d" % pid if alive else "another process"
            sys.stderr.write("psutil_lock: %s: already running as %s\n" % (path, who))
            sys.exit(EX_TEMPFAIL)
        if announce and not announced:
            say("waiting")
            announced = True
        if time.monotonic() >= deadline:
            sys.stderr.write("psutil_lock: %s: timed out\n" % path)
            sys.exit(EX_TEMPFAIL)
        time.sleep(POLL)
    os.ftruncate(fd, 0)
    os.pwrite(fd, b"%d\n" % os.getpid(), 0)
    os.fsync(fd)
    return fd


def main(argv):
    args = argv[1:]
    wait = "--wait" in args
    hold = "--hold" in args
    stamp = "--stamp" in args
    files = [a for a in args if not a.startswith("--")]
    if len(files) != 1:
        sys.stderr.write(__doc__)
        return 64
    acquire(files[0], wait, hold or stamp)
    if stamp:
        say("%d" % time.clock_gettime_ns(time.CLOCK_MONOTONIC))
    if hold:
        say("ready %d" % os.getpid())
        while os.read(0, 4096):
            pass
        say("%d" % time.clock_gettime_ns(time.CLOCK_MONOTONIC))
        os._exit(0)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
