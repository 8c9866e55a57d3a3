"""The on-disk format of a thread store: a JSON Lines journal, and durable file writes.

A store file is UTF-8 text, one JSON object per line. The first line is a header::

    {"format": "chatkit_notebook.store", "schema_version": [1, 0], "generation": "..."}

Every later line records one mutation, in the order they happened::

    {"op": "thread", "id": "thr_1", "data": {<ThreadMetadata>}}
    {"op": "item", "thread_id": "thr_1", "id": "msg_1", "data": {<ThreadItem>}}
    {"op": "attachment", "id": "atc_1", "data": {<Attachment>}}
    {"op": "delete_thread" | "delete_attachment", "id": ...}
    {"op": "delete_item", "thread_id": ..., "id": ...}

Appending a line and fsyncing it makes a mutation durable at a cost that does not grow with
the file. A line is written with one ``write`` and only counts once its newline is on disk,
so a crash mid-append leaves a torn last line that readers ignore and the next writer cuts
off. When most of the file is superseded records, it is compacted: the live records are
written to a temporary file in the same folder, fsynced, and moved over the old file with
``os.replace``, then the folder is fsynced. Compaction gives the file a new ``generation``
so that other processes reading it incrementally know to start over.

This module only knows bytes and dicts; ``store.py`` turns them into ChatKit models.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import re
import tempfile
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from pydantic_core import from_json

from .._version import __version__

FORMAT = "chatkit_notebook.store"
SCHEMA_VERSION = (1, 0)
MAX_HEADER_BYTES = 64 * 1024

# op -> the keys that must hold strings besides "op" (and a "data" dict when listed)
_OPS: dict[str, tuple[tuple[str, ...], bool]] = {
    "thread": (("id",), True),
    "item": (("thread_id", "id"), True),
    "attachment": (("id",), True),
    "delete_thread": (("id",), False),
    "delete_item": (("thread_id", "id"), False),
    "delete_attachment": (("id",), False),
}
# Which data fields a record's data must carry for the store to index it.
_DATA_KEYS: dict[str, tuple[str, ...]] = {
    "thread": ("id", "created_at"),
    "item": ("id", "type", "created_at"),
    "attachment": ("id",),
}

_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_ONE_MICROSECOND = timedelta(microseconds=1)
_EPOCH_ORDINAL = _EPOCH.toordinal()


class CorruptRecord(ValueError):
    """A line that is not a record this version can read."""


@dataclass
class Header:
    """The first line of a store file."""

    schema_version: tuple[int, int]
    generation: str
    fields: dict[str, Any] = field(default_factory=dict)

    def line(self) -> bytes:
        """Encode the header as one line, keeping unknown fields from newer versions."""
        version = list(self.schema_version)
        return encode(
            {
                "format": FORMAT,
                "schema_version": version,
                "generation": self.generation,
                **self.fields,
            }
        )


def new_header(template: Header | None = None) -> Header:
    """A header with a fresh generation, keeping a newer minor version's fields."""
    if template is None:
        return Header(
            SCHEMA_VERSION, uuid.uuid4().hex, {"written_by": f"chatkit-notebook {__version__}"}
        )
    return Header(template.schema_version, uuid.uuid4().hex, dict(template.fields))


def encode(record: dict[str, Any]) -> bytes:
    """One record as one line. ``json.dumps`` escapes newlines inside strings.

    Lone surrogates (not Unicode text, but a Python ``str`` can hold them) become U+FFFD,
    so the file stays valid UTF-8 that every JSON reader accepts.
    """
    text = json.dumps(record, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    try:
        return text.encode("utf-8") + b"\n"
    except UnicodeEncodeError:
        return _LONE_SURROGATE.sub("\ufffd", text).encode("utf-8") + b"\n"


def parse_header(line: bytes) -> Header:
    """Parse and check a header line.

    Raises:
        CorruptRecord: the line is not a chatkit-notebook store header.
    """
    value = _loads(line)
    if not isinstance(value, dict) or value.get("format") != FORMAT:
        raise CorruptRecord("the first line is not a chatkit-notebook store header")
    version = value.get("schema_version")
    if (
        not isinstance(version, list)
        or len(version) != 2
        or not all(type(part) is int and part >= 0 for part in version)
    ):
        raise CorruptRecord(f"the header's schema_version {version!r} is not [major, minor]")
    generation = value.get("generation")
    if not isinstance(generation, str):
        raise CorruptRecord("the header has no generation")
    if version[0] < 1:
        raise CorruptRecord(f"schema version {version[0]}.{version[1]} was never released")
    fields = {k: v for k, v in value.items() if k not in ("format", "schema_version", "generation")}
    return Header((version[0], version[1]), generation, fields)


def parse_record(line: bytes, *, allow_unknown_ops: bool) -> dict[str, Any] | None:
    """Parse and check one record line.

    Returns:
        The record, or ``None`` for an op this version does not know when
        ``allow_unknown_ops`` (a file from a newer minor version).

    Raises:
        CorruptRecord: the line is not a well-formed record.
    """
    record = _loads(line)
    if not isinstance(record, dict):
        raise CorruptRecord("a record is not a JSON object")
    op = record.get("op")
    if not isinstance(op, str) or op not in _OPS:
        if allow_unknown_ops and isinstance(op, str):
            return None
        raise CorruptRecord(f"unknown record op {op!r}")
    spec = _OPS[op]
    keys, has_data = spec
    for key in keys:
        if not isinstance(record.get(key), str):
            raise CorruptRecord(f"a {op!r} record has no string {key!r}")
    if has_data:
        data = record.get("data")
        if not isinstance(data, dict):
            raise CorruptRecord(f"a {op!r} record has no data object")
        for key in _DATA_KEYS[op]:
            if not isinstance(data.get(key), str):
                raise CorruptRecord(f"a {op!r} record's data has no string {key!r}")
        if data["id"] != record["id"]:
            raise CorruptRecord(f"a {op!r} record's id and data id differ")
        if "created_at" in _DATA_KEYS[op]:
            record["_key"] = sort_micros(data["created_at"])
    return record


def _loads(line: bytes) -> Any:
    # pydantic-core's parser: strict UTF-8, no NaN, bounded nesting, 3x the stdlib's speed
    # (reopening a 10,000-item store is mostly this).
    try:
        return from_json(line, allow_inf_nan=False, cache_strings="keys")
    except ValueError as e:
        raise CorruptRecord(f"unreadable JSON ({e})") from e


def sort_micros(created_at: str) -> int:
    """A ``created_at`` ISO string as integer microseconds since the epoch, for sorting.

    Naive timestamps are local time, as ChatKit makes them with ``datetime.now()``.

    Raises:
        CorruptRecord: the string is not an ISO 8601 timestamp.
    """
    # Opening a store computes this for every record, and a datetime for each was a fifth
    # of the read. The form ChatKit writes (``isoformat()``: six fractional digits or none;
    # no offset, ``Z`` or ``+HH:MM``) is read here from cached pieces; any other form, and
    # any field out of range, goes to ``_sort_micros_exact``, so the result or the error is
    # the same (tests/test_store_fast_read.py checks that on generated strings).
    hour = _hour_start(created_at[:13])
    within = _minute_second(created_at[13:19])
    if hour is None or within is None:
        return _sort_micros_exact(created_at)
    micros = hour[0] + within
    zone = created_at[19:]
    if zone[:1] == ".":
        digits, zone = zone[1:7], zone[7:]
        if len(digits) != 6 or not (digits.isascii() and digits.isdigit()):
            return _sort_micros_exact(created_at)
        micros += int(digits)
    if zone:
        offset = _zone_offset(zone)
        return _sort_micros_exact(created_at) if offset is None else micros - offset
    try:
        return micros - _local_offset(*hour[1])
    except (ValueError, OverflowError, OSError):
        return _sort_micros_exact(created_at)  # raises it again, as a CorruptRecord


# The pieces of the timestamps sort_micros reads without a datetime. [0-9], not \d:
# fromisoformat takes only ASCII digits.
_HOUR = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2})")
_MINUTE_SECOND = re.compile(r":([0-5][0-9]):([0-5][0-9])")
_ZONE = re.compile(r"([+-])([0-9]{2}):([0-9]{2})")


@functools.lru_cache(maxsize=4096)
def _hour_start(text: str) -> tuple[int, tuple[int, int, int, int]] | None:
    """``YYYY-MM-DDTHH`` as (microseconds from the epoch, as if UTC; year, month, day, hour).

    ``None`` if it is not that form or not a real hour. Not local time: that depends on the
    time zone, which ``_local_offset`` alone caches.
    """
    match = _HOUR.fullmatch(text)
    if match is None:
        return None
    year, month, day, hour = (int(part) for part in match.groups())
    if hour > 23:
        return None
    try:
        days = date(year, month, day).toordinal() - _EPOCH_ORDINAL
    except ValueError:
        return None
    return (days * 24 + hour) * 3_600_000_000, (year, month, day, hour)


@functools.lru_cache(maxsize=4096)
def _minute_second(text: str) -> int | None:
    """``:MM:SS`` as microseconds, or ``None`` if it is not that form."""
    match = _MINUTE_SECOND.fullmatch(text)
    return None if match is None else (int(match[1]) * 60 + int(match[2])) * 1_000_000


@functools.lru_cache(maxsize=256)
def _zone_offset(text: str) -> int | None:
    """``Z`` or ``+HH:MM`` (under a day) as microseconds east of UTC, else ``None``."""
    if text in ("Z", "z"):
        return 0
    match = _ZONE.fullmatch(text)
    if match is None or int(match[2]) > 23 or int(match[3]) > 59:
        return None
    offset = (int(match[2]) * 60 + int(match[3])) * 60_000_000
    return offset if match[1] == "+" else -offset


def _sort_micros_exact(created_at: str) -> int:
    """``sort_micros`` through ``datetime.fromisoformat``, for every form ISO 8601 allows."""
    text = created_at[:-1] + "+00:00" if created_at.endswith(("Z", "z")) else created_at
    try:
        moment = datetime.fromisoformat(text)
        if moment.tzinfo is None:
            return (
                moment.replace(tzinfo=timezone.utc) - _EPOCH
            ) // _ONE_MICROSECOND - _local_offset(
                moment.year, moment.month, moment.day, moment.hour
            )
        return (moment - _EPOCH) // _ONE_MICROSECOND
    except (ValueError, OverflowError, OSError) as e:
        raise CorruptRecord(f"created_at {created_at!r} is not a timestamp") from e


@functools.lru_cache(maxsize=4096)
def _local_offset(year: int, month: int, day: int, hour: int) -> int:
    """The local UTC offset in microseconds at that hour (``astimezone`` is slow per call)."""
    offset = datetime(year, month, day, hour).astimezone().utcoffset()
    return 0 if offset is None else offset // _ONE_MICROSECOND


Apply = Callable[[dict[str, Any] | None, bytes], object]
"""Takes one parsed record (``None`` for an unknown op) and its line, as they are read."""


@dataclass
class Scan:
    """What reading a run of record lines found."""

    consumed: int
    """Bytes of complete, valid lines (each ending in a newline)."""
    torn: bool
    """Bytes follow the last newline: a line whose write did not finish."""
    error: str | None = None
    """Why the first bad complete line is bad; reading stopped there."""
    records: list[tuple[dict[str, Any] | None, bytes]] = field(default_factory=list)
    """The good records and their lines, when ``scan_records`` was given no ``apply``."""


def scan_records(
    buf: bytes,
    *,
    first_line: int,
    allow_unknown_ops: bool,
    lenient: bool = False,
    apply: Apply | None = None,
) -> Scan:
    """Read complete record lines from ``buf``, stopping at the first bad one.

    Args:
        buf: Bytes starting at a line boundary.
        first_line: The 1-based line number of ``buf``'s first line, for messages.
        allow_unknown_ops: Keep unknown ops as ``None`` records (newer minor version).
        lenient: Skip bad lines instead of stopping (read-only files of a newer major).
        apply: Called with each good record and its line before the next line is read,
            in place of collecting them in ``Scan.records``, so the parsed records of a
            long file are never alive together. Kept alive, 10,000 records are ~55,000
            dicts and lists that outlive the young garbage collections and set off a
            full one (~200 ms in a kernel), then take ~10 ms to free at once.
    """
    scan = Scan(0, torn=False)
    if apply is None:
        apply = lambda record, line: scan.records.append((record, line))  # noqa: E731
    start = 0
    number = first_line
    while True:
        end = buf.find(b"\n", start)
        if end < 0:
            tail = buf[start:]
            scan.consumed = start
            if tail and not lenient and _is_whole_record(tail):
                # Appends write the newline in the same write() as the record, so a whole
                # record without one was not torn by a crash: someone edited the file.
                scan.error = f"line {number} has no newline"
            else:
                scan.torn = bool(tail)
            return scan
        line = buf[start:end]
        try:
            record = parse_record(line, allow_unknown_ops=allow_unknown_ops)
        except CorruptRecord as e:
            if not lenient:
                scan.consumed = start
                scan.error = f"line {number}: {e}"
                return scan
        else:
            apply(record, line)
        start = end + 1
        number += 1


def _is_whole_record(line: bytes) -> bool:
    try:
        parse_record(line, allow_unknown_ops=True)
    except CorruptRecord:
        return False
    return True


def fsync_dir(folder: Path) -> None:
    """Make a rename or a new file in ``folder`` durable (a no-op where unsupported)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # Windows cannot open folders; renames there are journaled by NTFS
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def temp_prefix(path: Path) -> str:
    """The name prefix of ``path``'s temporary files, so leftovers can be swept."""
    return f".{path.name}.tmp-"


def write_atomic(path: Path, chunks: Iterable[bytes]) -> os.stat_result:
    """Replace ``path`` with ``chunks`` so that readers see the old or the new file, whole.

    Writes a 0600 temporary file in the same folder, fsyncs it, renames it over ``path``
    and fsyncs the folder. On any failure the temporary file is removed and the old file is
    left as it was; fsync is never retried (after a failed fsync the data may be gone).

    Returns:
        The new file's ``stat``.
    """
    fd, temp = tempfile.mkstemp(prefix=temp_prefix(path), dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            for chunk in chunks:
                f.write(chunk)
            f.flush()
            os.fsync(f.fileno())
            stat = os.fstat(f.fileno())
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise
    fsync_dir(path.parent)
    return stat


def append_durably(path: Path, offset: int, data: bytes) -> os.stat_result:
    """Write ``data`` at ``offset`` (cutting off anything after it) and fsync.

    The file is cut back to ``offset`` if anything fails, so a failed append leaves the file
    as it was.

    Returns:
        The file's ``stat`` after the append.
    """
    fd = os.open(path, os.O_WRONLY)
    try:
        try:
            os.ftruncate(fd, offset)
            os.lseek(fd, offset, os.SEEK_SET)
            view = memoryview(data)
            while view:
                written = os.write(fd, view)
                view = view[written:]
            os.fsync(fd)
            return os.fstat(fd)
        except BaseException:
            with contextlib.suppress(OSError):
                os.ftruncate(fd, offset)
            raise
    finally:
        os.close(fd)
