"""The job archive as a file: a sealed ZIP of named entries, written and read within limits.

An archive is a ZIP whose comment is its seal, ``headrace-jobs/1 sha256:<hex>``: the
SHA-256 of every byte before the hex digest. A truncated or changed archive, or a ZIP
another tool made, fails the seal before any entry is read; so corruption anywhere (a
header, a name, a date) is refused whole, not only corruption the ZIP CRCs would catch.

Reading is bounded (a zip bomb stops at the limits in ``headrace.defaults``): the archive's
size, the number of entries, each entry's unpacked size and all of them together; entry
names must be the ones an archive has, and every JSON text must pass ``model.text``.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import zipfile
import zlib
from collections.abc import Callable, Sequence
from typing import Any

from headrace import defaults, errors
from headrace.model import text

#: What the seal's text starts with (the archive format's name and version).
SEAL = b"headrace-jobs/1 sha256:"
#: Hex digits of the seal's SHA-256.
DIGEST_CHARS = 64
#: The entries an archive may hold, and nothing else.
ENTRY = re.compile(r"manifest\.json|(jobs|commits)/\d{4,6}\.json|(commits|offsets)/\d{4,6}\.pickle")
#: Most entries: the manifest, and per job its JSON, its commit (two entries) and offsets.
MAX_ENTRIES = 1 + 4 * defaults.MAX_ARCHIVE_JOBS
#: A fixed entry time, so the same jobs export to the same bytes.
_EPOCH = (1980, 1, 1, 0, 0, 0)

#: Reports progress: (what is being done, done so far, total).
Progress = Callable[[str, int, int], None]


def write(entries: Sequence[tuple[str, bytes]]) -> bytes:
    """A sealed ZIP of ``(name, data)`` entries, in order."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries:
            info = zipfile.ZipInfo(name, date_time=_EPOCH)
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data)
        archive.comment = SEAL + b"0" * DIGEST_CHARS
    return seal(buffer.getvalue())


def seal(raw: bytes) -> bytes:
    """``raw`` (a ZIP whose comment ends in the seal's placeholder) with its digest filled in.

    Also what a test uses to re-seal an archive it changed on purpose.
    """
    body = raw[:-DIGEST_CHARS]
    return body + hashlib.sha256(body).hexdigest().encode("ascii")


def _refuse(entry: str, message: str) -> errors.InvalidArchive:
    return errors.InvalidArchive(entry, message)


def check_seal(data: bytes) -> None:
    """Refuse what is not a whole, unchanged Headrace archive.

    Raises:
        InvalidArchive: naming ``archive``: too large, not a ZIP, not Headrace's, damaged.
    """
    if not isinstance(data, bytes | bytearray | memoryview):
        raise _refuse("archive", f"expected the archive's bytes, got {type(data).__name__}")
    data = bytes(data)
    if len(data) > defaults.MAX_ARCHIVE_BYTES:
        raise _refuse("archive", f"is over {defaults.MAX_ARCHIVE_BYTES} bytes")
    if not data.startswith(b"PK"):
        raise _refuse("archive", "is not a ZIP file")
    trailer = data[-(len(SEAL) + DIGEST_CHARS) :]
    if not trailer.startswith(SEAL):
        msg = "is not a Headrace job archive (no seal: truncated, or made by another tool)"
        raise _refuse("archive", msg)
    digest = trailer[len(SEAL) :]
    if hashlib.sha256(data[:-DIGEST_CHARS]).hexdigest().encode("ascii") != digest:
        raise _refuse("archive", "is damaged: its seal does not match its bytes")


def read(data: bytes, progress: Progress | None = None) -> dict[str, bytes]:
    """The entries of a sealed archive, by name, each read within the limits.

    Raises:
        InvalidArchive: naming the archive or the entry that is wrong.
    """
    check_seal(data)
    try:
        archive = zipfile.ZipFile(io.BytesIO(bytes(data)))
        infos = archive.infolist()
    except (zipfile.BadZipFile, zlib.error, ValueError, EOFError, OSError) as exc:
        raise _refuse("archive", f"is not a readable ZIP: {exc}") from None
    if len(infos) > MAX_ENTRIES:
        raise _refuse("archive", f"has {len(infos)} entries, more than {MAX_ENTRIES}")
    _check_infos(infos)
    found: dict[str, bytes] = {}
    for done, info in enumerate(infos, 1):
        found[info.filename] = _read_entry(archive, info)
        if progress is not None:
            progress("reading", done, len(infos))
    return found


def _check_infos(infos: Sequence[zipfile.ZipInfo]) -> None:
    total = 0
    seen: set[str] = set()
    for info in infos:
        name = info.filename
        shown = ascii(name[:80])[1:-1]
        if not ENTRY.fullmatch(name):
            raise _refuse(shown, "is not an entry a Headrace job archive has")
        if name in seen:
            raise _refuse(name, "appears twice")
        seen.add(name)
        if info.flag_bits & 0x1:
            raise _refuse(name, "is encrypted")
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise _refuse(name, f"uses compression method {info.compress_type}")
        if info.file_size > defaults.MAX_ARCHIVE_ENTRY_BYTES:
            limit = defaults.MAX_ARCHIVE_ENTRY_BYTES
            raise _refuse(name, f"unpacks to {info.file_size} bytes, over {limit}")
        total += info.file_size
        if total > defaults.MAX_ARCHIVE_UNPACKED_BYTES:
            limit = defaults.MAX_ARCHIVE_UNPACKED_BYTES
            raise _refuse(name, f"the entries unpack to over {limit} bytes")
    if "manifest.json" not in seen:
        raise _refuse("manifest.json", "is missing")


def _read_entry(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
    # Read one byte past the declared size: an entry that unpacks to more is refused.
    try:
        with archive.open(info) as entry:
            data = entry.read(info.file_size + 1)
    except (zipfile.BadZipFile, zlib.error, ValueError, EOFError, OSError) as exc:
        raise _refuse(info.filename, f"cannot be unpacked: {exc}") from None
    except NotImplementedError as exc:
        raise _refuse(info.filename, f"cannot be unpacked: {exc}") from None
    if len(data) != info.file_size:
        raise _refuse(info.filename, "unpacks to another size than its header says")
    return data


def dump_json(value: Any) -> bytes:
    """An entry's JSON text (sorted keys, so the same jobs give the same bytes)."""
    return json.dumps(value, sort_keys=True, indent=1, ensure_ascii=False).encode("utf-8")


def _no_constant(name: str) -> Any:
    msg = f"{name} is not JSON"
    raise ValueError(msg)


def load_json(entry: str, data: bytes) -> dict[str, Any]:
    """The JSON object an entry holds, checked as every stored value is (``model.text``).

    Raises:
        InvalidArchive: naming the entry (not UTF-8, not JSON, not an object, bad text).
    """
    try:
        value = json.loads(data.decode("utf-8"), parse_constant=_no_constant)
    except UnicodeDecodeError:
        raise _refuse(entry, "is not UTF-8 text") from None
    except RecursionError:
        raise _refuse(entry, "nests too deep") from None
    except ValueError as exc:
        raise _refuse(entry, f"is not JSON: {exc}") from None
    if not isinstance(value, dict):
        raise _refuse(entry, f"must hold a JSON object, got {type(value).__name__}")
    try:
        text.check_value(entry, value)
    except errors.InvalidInput as exc:
        raise _refuse(entry, str(exc)) from None
    return value
