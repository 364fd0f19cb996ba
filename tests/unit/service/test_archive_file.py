"""The archive file: sealed, bounded reading; zip bombs, foreign ZIPs and hostile text refused."""

from __future__ import annotations

import io
import json
import warnings
import zipfile

import pytest

from headrace import defaults, errors
from headrace.service import archive_file


def sealed(entries: dict[str, bytes], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    """A sealed ZIP of exactly these entries (names unchecked)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", method) as out:
        for name, body in entries.items():
            out.writestr(name, body)
        out.comment = archive_file.SEAL + b"0" * archive_file.DIGEST_CHARS
    return archive_file.seal(buffer.getvalue())


def refused(data: bytes) -> errors.InvalidArchive:
    with pytest.raises(errors.InvalidArchive) as caught:
        archive_file.read(data)
    return caught.value


def test_a_written_archive_reads_back_the_same_entries() -> None:
    entries = [("manifest.json", b"{}"), ("jobs/0001.json", b'{"a": 1}')]
    data = archive_file.write(entries)
    assert archive_file.read(data) == dict(entries)
    assert archive_file.write(entries) == data  # the same entries, the same bytes


def test_what_is_not_a_whole_headrace_archive_is_refused_as_a_whole() -> None:
    data = archive_file.write([("manifest.json", b"{}")])
    assert str(refused(b"")) == "archive: is not a ZIP file"
    assert refused(data[:-1]).entry == "archive"
    assert "no seal" in str(refused(data[:-1]))
    assert "seal does not match" in str(refused(data[:10] + b"X" + data[11:]))
    foreign = io.BytesIO()
    with zipfile.ZipFile(foreign, "w") as out:
        out.writestr("manifest.json", "{}")
    assert "made by another tool" in str(refused(foreign.getvalue()))
    with pytest.raises(errors.InvalidArchive, match="expected the archive's bytes"):
        archive_file.check_seal("PK..")  # type: ignore[arg-type]


def test_entries_an_archive_does_not_have_are_named() -> None:
    assert refused(sealed({"manifest.json": b"{}", "../etc/passwd": b""})).entry == "../etc/passwd"
    assert refused(sealed({"jobs/0001.json": b"{}"})).entry == "manifest.json"
    buffer = io.BytesIO()
    with warnings.catch_warnings(), zipfile.ZipFile(buffer, "w") as out:
        warnings.simplefilter("ignore")  # zipfile warns of the duplicate it is told to write
        out.writestr("manifest.json", "{}")
        out.writestr("manifest.json", '{"second": true}')
        out.comment = archive_file.SEAL + b"0" * archive_file.DIGEST_CHARS
    caught = refused(archive_file.seal(buffer.getvalue()))
    assert caught.entry == "manifest.json" and "appears twice" in str(caught)


def test_a_zip_bomb_stops_at_the_entry_limit_without_unpacking() -> None:
    size = defaults.MAX_ARCHIVE_ENTRY_BYTES + 1
    bomb = sealed({"manifest.json": b"{}", "commits/0001.pickle": bytes(size)})
    assert len(bomb) < size // 500  # zeros pack a thousandfold
    caught = refused(bomb)
    assert caught.entry == "commits/0001.pickle" and "unpacks to" in str(caught)


def test_entries_that_unpack_past_the_total_limit_are_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(defaults, "MAX_ARCHIVE_UNPACKED_BYTES", 1000)
    data = sealed(
        {"manifest.json": b"{}", "jobs/0001.json": b" " * 600, "jobs/0002.json": b" " * 600}
    )
    assert refused(data).entry == "jobs/0002.json"
    monkeypatch.setattr(defaults, "MAX_ARCHIVE_BYTES", len(data) - 1)
    assert "is over" in str(refused(data))


def test_an_entry_whose_header_lies_about_its_size_is_refused() -> None:
    data = bytearray(sealed({"manifest.json": b"{}"}, zipfile.ZIP_STORED))
    # The central directory's uncompressed size of the one entry, 2 -> 1 (then re-sealed).
    at = data.rindex(b"PK\x01\x02") + 24
    data[at : at + 4] = (1).to_bytes(4, "little")
    caught = refused(archive_file.seal(bytes(data)))
    assert caught.entry == "manifest.json"


@pytest.mark.parametrize(
    ("body", "why"),
    [
        (b"\xff\xfe", "not UTF-8"),
        (b"{", "not JSON"),
        (b"[1]", "JSON object"),
        (b'{"a": NaN}', "not JSON"),
        (b'{"a": "x\\u0000y"}', "NUL"),
        (b'{"a": "\\ud800"}', "surrogate"),
        (b"[" * 100_000 + b"]" * 100_000, "nests too deep"),
    ],
)
def test_hostile_json_is_refused_naming_the_entry(body: bytes, why: str) -> None:
    with pytest.raises(errors.InvalidArchive, match=why) as caught:
        archive_file.load_json("jobs/0001.json", body)
    assert caught.value.entry == "jobs/0001.json" and caught.value.field == "archive"
    assert json.loads(b'{"a": 1}') == archive_file.load_json("x", b'{"a": 1}')
