"""SQLite serves one host: a file on a network filesystem is refused, a local one opens."""

from __future__ import annotations

from pathlib import Path

import pytest

from headrace import errors
from headrace.store.database import Store
from headrace.store.dialects import sqlite_host

MOUNTS = """\
/dev/sda1 / ext4 rw,relatime 0 0
tmpfs /tmp tmpfs rw 0 0
server:/export /mnt/shared nfs4 rw,vers=4.2 0 0
//nas/share /mnt/shared/smb cifs rw 0 0
/dev/sdb1 /mnt/shared/local\\040disk ext4 rw 0 0
"""


@pytest.mark.parametrize(
    ("path", "kind"),
    [
        ("/srv/x", "ext4"),
        ("/tmp/a/b", "tmpfs"),
        ("/mnt/shared/db", "nfs4"),
        ("/mnt/shared/smb/db", "cifs"),
        ("/mnt/shared/local disk/db", "ext4"),
        ("/mnt/sharedx", "ext4"),  # a prefix of the name is not a mount point
    ],
)
def test_the_innermost_mount_names_the_filesystem(path: str, kind: str) -> None:
    assert sqlite_host.filesystem_of(path, MOUNTS) == kind


def test_a_file_on_a_network_filesystem_is_refused_naming_it_and_what_to_use() -> None:
    with pytest.raises(errors.InvalidInput) as caught:
        sqlite_host.check_local("/mnt/shared/hr/headrace.db", MOUNTS)
    assert caught.value.field == "store"
    message = str(caught.value)
    assert "/mnt/shared/hr/headrace.db" in message and "(nfs4)" in message
    assert "one host" in message and "PostgreSQL" in message
    sqlite_host.check_local("/srv/hr/headrace.db", MOUNTS)  # local: accepted


def test_a_local_file_opens_with_the_machines_own_mounts(tmp_path: Path) -> None:
    sqlite_host.check_local(str(tmp_path / "x.db"))
    Store(f"sqlite:///{tmp_path / 'x.db'}").close()
