# SPDX-License-Identifier: MIT
"""reexec.py: os.execv of the same Python program, again and again (tests/reexec.bats).

usage: python3 -S reexec.py REPORT PIDFILE GOFILE COUNT keep|strip [STEP]
Each image checks it still has a descriptor on PIDFILE (else writes
"lost step=I" to REPORT and exits 3). The first image waits for GOFILE
(at most 30 s). Each image then calls os.execv (keep) or os.execve without
LD_PRELOAD (strip) of sys.executable -S with this file and STEP+1,
COUNT times. The last image writes "done pid=PID steps=COUNT" to REPORT and
exits through sys.exit(0) on SIGTERM (at most 30 s, then exit 4).
"""
import os
import signal
import sys
import time


def holds(path):
    want = os.stat(path)
    for name in os.listdir("/proc/self/fd"):
        try:
            st = os.fstat(int(name))
        except OSError:
            continue
        if (st.st_dev, st.st_ino) == (want.st_dev, want.st_ino):
            return True
    return False


def write_report(path, text):
    with open(path + ".tmp", "w") as f:
        f.write(text)
    os.rename(path + ".tmp", path)


def main():
    report, pidfile, go, count, strategy = sys.argv[1:6]
    count = int(count)
    step = int(sys.argv[6]) if len(sys.argv) > 6 else 0
    if not holds(pidfile):
        write_report(report, "lost step=%d\n" % step)
        sys.exit(3)
    if step == 0:
        deadline = time.monotonic() + 30
        while not os.path.exists(go) and time.monotonic() < deadline:
            time.sleep(0.001)
    if step < count:
        args = [sys.executable, "-S", __file__, report, pidfile, go, str(count), strategy,
                str(step + 1)]
        if strategy == "strip":
            env = {k: v for k, v in os.environ.items() if k != "LD_PRELOAD"}
            os.execve(sys.executable, args, env)
        os.execv(sys.executable, args)
    signal.signal(signal.SIGTERM, lambda signo, frame: sys.exit(0))
    write_report(report, "done pid=%d steps=%d\n" % (os.getpid(), step))
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        time.sleep(0.2)
    sys.exit(4)


main()
