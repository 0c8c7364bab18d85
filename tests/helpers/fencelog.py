# SPDX-License-Identifier: MIT
"""fencelog: the program an instance runs under a cluster lock in the fault
tests (tests/cluster_lib.bash, scripts/fault-suite.sh).

usage: fencelog.py LOG SECS [TOKEN_VARIABLE]

Appends "<epoch_ns> <pid> <token>" to LOG every 10 ms for at most SECS
seconds, then exits 0. The token is the value of TOKEN_VARIABLE
(PIDLOCK_FENCE by default; ETCD_LOCK_REV under etcdctl lock), "-" when
unset. Every line is one write(2) to a file opened O_APPEND, so that lines
of instances in other network namespaces (which share the filesystem)
never mix; the log is what an external resource would have seen, and two
instances whose first-to-last lines overlap in time broke the promise.
"""
import os
import sys
import time


def main():
    if len(sys.argv) < 3:
        sys.stderr.write(__doc__)
        return 64
    log, secs = sys.argv[1], float(sys.argv[2])
    token = os.environ.get(sys.argv[3] if len(sys.argv) > 3 else "PIDLOCK_FENCE") or "-"
    pid = os.getpid()
    fd = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    end = time.monotonic() + secs
    # Bounded in time by SECS (the caller kills it sooner, as a rule).
    while time.monotonic() < end:
        os.write(fd, b"%d %d %s\n" % (time.time_ns(), pid, token.encode()))
        time.sleep(0.01)
    return 0


if __name__ == "__main__":
    sys.exit(main())
