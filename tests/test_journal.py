"""The journal format's building blocks: sort keys, encoding, scanning."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

import pytest
from chatkit.types import AssistantMessageContent, AssistantMessageItem, ThreadMetadata

from chatkit_notebook import NotebookContext
from chatkit_notebook.stores import _journal
from chatkit_notebook.stores.file import NotebookStore

EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


@pytest.fixture(params=["UTC", "America/New_York", "Australia/Lord_Howe", "Asia/Kathmandu"])
def local_zone(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("TZ", request.param)
    time.tzset()
    _journal._local_offset.cache_clear()
    yield request.param
    monkeypatch.undo()
    time.tzset()
    _journal._local_offset.cache_clear()


@pytest.mark.parametrize(
    "moment",
    [
        datetime(2026, 1, 15, 9, 30, 0, 123456),
        datetime(2026, 7, 1, 23, 59, 59, 999999),
        datetime(2026, 3, 8, 1, 0, 0),  # New York, the hour before DST starts
        datetime(2026, 11, 1, 12, 0, 0),
        datetime(1999, 12, 31, 23, 0, 0),
    ],
)
def test_naive_timestamps_sort_as_local_time(local_zone: str, moment: datetime) -> None:
    expected = (moment.astimezone() - EPOCH) // timedelta(microseconds=1)
    assert _journal.sort_micros(moment.isoformat()) == expected


def test_aware_timestamps_sort_by_instant() -> None:
    utc = datetime(2026, 5, 1, 12, 0, tzinfo=timezone.utc)
    plus_two = datetime(2026, 5, 1, 14, 0, tzinfo=timezone(timedelta(hours=2)))
    assert _journal.sort_micros(utc.isoformat()) == _journal.sort_micros(plus_two.isoformat())
    assert _journal.sort_micros("2026-05-01T12:00:00Z") == _journal.sort_micros(utc.isoformat())


def test_bad_timestamp_is_a_corrupt_record() -> None:
    with pytest.raises(_journal.CorruptRecord, match="not a timestamp"):
        _journal.sort_micros("yesterday")


def test_records_are_one_line_whatever_the_text() -> None:
    line = _journal.encode({"op": "x", "text": 'a\nb\r\u2028c\u0085"}'})
    assert line.count(b"\n") == 1
    assert line.endswith(b"\n")


async def test_lone_surrogates_are_stored_as_replacement_characters(
    tmp_path, ctx: NotebookContext
) -> None:
    store = NotebookStore(tmp_path / "s.chatkit.json")
    await store.save_thread(ThreadMetadata(id="thr_a", created_at=datetime(2026, 1, 1)), ctx)
    item = AssistantMessageItem(
        id="m1",
        thread_id="thr_a",
        created_at=datetime(2026, 1, 1),
        content=[AssistantMessageContent(text="bad \ud800 surrogate, good é")],
    )
    await store.add_thread_item("thr_a", item, ctx)
    loaded = await NotebookStore(tmp_path / "s.chatkit.json").load_item("thr_a", "m1", ctx)
    assert loaded.content[0].text == "bad \ufffd surrogate, good é"


def test_scan_stops_at_the_first_bad_line_and_reports_it() -> None:
    good = _journal.encode({"op": "delete_thread", "id": "thr_a"})
    scan = _journal.scan_records(good + b"{nope}\n" + good, first_line=2, allow_unknown_ops=False)
    assert len(scan.records) == 1
    assert scan.consumed == len(good)
    assert scan.error is not None
    assert scan.error.startswith("line 3:")


def test_scan_treats_an_unfinished_last_line_as_torn() -> None:
    good = _journal.encode({"op": "delete_thread", "id": "thr_a"})
    scan = _journal.scan_records(good + good[:-5], first_line=2, allow_unknown_ops=False)
    assert (len(scan.records), scan.consumed, scan.torn, scan.error) == (1, len(good), True, None)
