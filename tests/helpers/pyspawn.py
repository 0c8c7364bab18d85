# SPDX-License-Identifier: MIT
"""pyspawn.py: Python subprocess starts `sleep`, then the parent exits
(tests/children.bats).

usage: python3 pyspawn.py REPORT GOFILE close_fds|keep_fds [SECS]
Starts subprocess.Popen(["sleep", SECS]) with close_fds=True or False,
writes "child PID" to REPORT, waits for GOFILE (at most SECS) and exits
through sys.exit(0) while the child runs on.
"""
import os
import subprocess
import sys
import time


def main():
    report, go, fds = sys.argv[1:4]
    secs = sys.argv[4] if len(sys.argv) > 4 else "30"
    child = subprocess.Popen(["sleep", secs], close_fds=(fds == "close_fds"))
    with open(report + ".tmp", "w") as f:
        f.write("child %d\n" % child.pid)
    os.rename(report + ".tmp", report)
    deadline = time.monotonic() + float(secs)
    while not os.path.exists(go) and time.monotonic() < deadline:
        time.sleep(0.01)
    sys.exit(0)


main()
