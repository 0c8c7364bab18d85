# SPDX-License-Identifier: MIT
"""daemonize.py: the classic Python double-fork daemon (tests/daemon.bats).

usage: python3 daemonize.py REPORT [SECS]
fork (the launcher exits at once through sys.exit), setsid, fork (the
intermediate child exits through sys.exit), chdir /, stdio on /dev/null.
The daemon writes "daemon PID" to REPORT and exits through sys.exit(0)
(so exit()) from its SIGTERM handler, or with status 4 after SECS (30).
"""
import os
import signal
import sys
import time


def main():
    report = sys.argv[1]
    secs = float(sys.argv[2]) if len(sys.argv) > 2 else 30.0
    if os.fork() > 0:
        sys.exit(0)
    os.setsid()
    if os.fork() > 0:
        sys.exit(0)
    os.chdir("/")
    os.umask(0o022)
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    os.close(null)
    signal.signal(signal.SIGTERM, lambda signo, frame: sys.exit(0))
    with open(report + ".tmp", "w") as f:
        f.write("daemon %d\n" % os.getpid())
    os.rename(report + ".tmp", report)
    deadline = time.monotonic() + secs
    while time.monotonic() < deadline:
        time.sleep(0.2)
    sys.exit(4)


main()
