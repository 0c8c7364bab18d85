# SPDX-License-Identifier: MIT
"""rdlock: another user's reader that takes a lock on a PID file
(tests/attack.bats, guarantee 12 of docs/DESIGN.md).

usage: rdlock.py posix|ofd PATH STOPFILE SECS

Takes a read lock on the whole file PATH: `posix` a classic POSIX record
lock (fcntl F_SETLK F_RDLCK, as lockf(LOCK_SH) does), `ofd` an open file
description lock (F_OFD_SETLK F_RDLCK). Every time PATH names a new inode
(an instance removed the file and the next one created it), it locks that
one too and keeps the old ones (and never closes a descriptor of a locked
file: that would drop its POSIX lock). Prints "locked INODE" for each lock taken,
and stops when STOPFILE exists or after SECS seconds. Never blocks: a lock
that conflicts right now (a writer holds it) is tried again 10 ms later.
"""
import errno
import fcntl
import os
import stat
import struct
import sys
import time


def lock(fd, kind):
    if kind == "posix":
        fcntl.lockf(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    else:
        # struct flock on Linux: short l_type, short l_whence, (pad),
        # off_t l_start, off_t l_len, pid_t l_pid (0 for OFD locks), (pad).
        fl = struct.pack("hhxxxxqqixxxx", fcntl.F_RDLCK, os.SEEK_SET, 0, 0, 0)
        fcntl.fcntl(fd, fcntl.F_OFD_SETLK, fl)


def main():
    if len(sys.argv) != 5 or sys.argv[1] not in ("posix", "ofd"):
        sys.stderr.write(__doc__)
        return 2
    kind, path, stop, secs = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
    deadline = time.monotonic() + secs
    held = {}
    kept = []
    while time.monotonic() < deadline and not os.path.exists(stop):
        fd = -1
        try:
            st = os.stat(path, follow_symlinks=False)
            if (st.st_dev, st.st_ino) not in held and stat.S_ISREG(st.st_mode):
                fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
        except OSError:
            pass
        if fd >= 0 and len(held) < 1000:
            st = os.fstat(fd)
            key = (st.st_dev, st.st_ino)
            try:
                if key not in held and stat.S_ISREG(st.st_mode):
                    lock(fd, kind)
                    held[key] = fd
                    print("locked %d" % st.st_ino, flush=True)
            except OSError as e:
                if e.errno not in (errno.EAGAIN, errno.EACCES):
                    raise
            if held.get(key) != fd:
                # Never closed: closing any descriptor of a file drops this
                # process's POSIX locks on it (the classic fcntl pitfall).
                kept.append(fd)
        time.sleep(0.01)
    return 0


sys.exit(main())
