"""What a SQLite store supports: the processes of one host, never a file shared over a network.

SQLite in WAL mode coordinates its readers and its one writer through file locks and a
shared-memory index (``-shm``) mapped by every process; both hold only among processes
of one kernel. So a SQLite store serves any number of processes on one host (workers,
a server, scripts; their writes take turns on one lock, so more worker processes add
no throughput past what one lock allows: ``bench/scale.py --stores sqlite``), and a file
on a network filesystem, which processes of other hosts could open too, is refused.
Workers on several hosts share PostgreSQL.
"""

from __future__ import annotations

import os
from pathlib import Path

from headrace import errors

#: Filesystem types whose files other hosts may open: SQLite's locks do not hold there.
NETWORK_FILESYSTEMS = frozenset(
    {
        "nfs", "nfs4", "cifs", "smb3", "smbfs", "9p", "fuse.sshfs", "sshfs", "ceph",
        "fuse.ceph", "glusterfs", "fuse.glusterfs", "lustre", "afs", "gpfs", "beegfs",
        "fuse.s3fs", "fuse.gcsfuse", "fuse.rclone", "davfs", "fuse.davfs2",
    }
)  # fmt: skip
MOUNTS = Path("/proc/self/mounts")


def filesystem_of(path: str, mounts: str) -> str | None:
    """The type of the filesystem holding ``path``, from the text of ``/proc/self/mounts``.

    The mount point that is the longest prefix of the path wins (a mount inside a mount).
    """
    real = os.path.realpath(path)
    found: tuple[int, str] | None = None
    for line in mounts.splitlines():
        parts = line.split()
        if len(parts) < 3:
            continue
        point = parts[1].replace("\\040", " ")
        inside = real == point or real.startswith(point.rstrip("/") + "/")
        if inside and (found is None or len(point) > found[0]):
            found = (len(point), parts[2])
    return None if found is None else found[1]


def check_local(database: str, mounts: str | None = None) -> None:
    """Refuse a SQLite file on a network filesystem (see the module's docstring).

    Raises:
        InvalidInput: field ``store``, naming the file, its filesystem and what to use.
    """
    if mounts is None:
        try:
            mounts = MOUNTS.read_text()
        except OSError:
            return  # not Linux: nothing to tell from
    folder = os.path.dirname(os.path.abspath(database))
    kind = filesystem_of(folder, mounts)
    if kind in NETWORK_FILESYSTEMS:
        msg = (
            f"the SQLite file {database!r} is on a network filesystem ({kind}): SQLite "
            "serves the processes of one host only, its locks do not hold across hosts; "
            "put the file on a local disk, or use PostgreSQL (postgresql://...) for "
            "workers on several hosts"
        )
        raise errors.InvalidInput("store", msg)
