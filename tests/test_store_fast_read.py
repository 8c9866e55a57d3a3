"""The store's first read: sort keys without datetimes, records replayed one at a time.

``sort_micros`` reads the timestamps ChatKit writes from cached pieces and hands anything
else to ``_sort_micros_exact`` (``datetime.fromisoformat``); Hypothesis checks the two agree
on every string, well-formed or not, in several local time zones. ``scan_records`` hands
each record to the store as it parses it, so a long file's parsed records are never all
alive at once.
"""

from __future__ import annotations

import contextlib
import os
import time
import weakref
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from chatkit.types import AssistantMessageContent, AssistantMessageItem, ThreadMetadata
from hypothesis import given, settings
from hypothesis import strategies as st

from chatkit_notebook import NotebookContext
from chatkit_notebook.stores import _journal
from chatkit_notebook.stores.file import NotebookStore

# Whole-hour, half-hour, 45-minute and 13-hour offsets, both hemispheres, and DST.
ZONES = st.sampled_from(
    [
        "UTC",
        "America/New_York",
        "Australia/Lord_Howe",
        "Asia/Kathmandu",
        "Pacific/Chatham",
        "America/St_Johns",
        "Pacific/Kiritimati",
        "Etc/GMT+12",
    ]
)


@contextlib.contextmanager
def local_zone(name: str) -> Iterator[None]:
    """Run with ``name`` as the process's local time zone (``_local_offset`` forgotten)."""
    before = os.environ.get("TZ")
    os.environ["TZ"] = name
    time.tzset()
    _journal._local_offset.cache_clear()
    try:
        yield
    finally:
        if before is None:
            del os.environ["TZ"]
        else:
            os.environ["TZ"] = before
        time.tzset()
        _journal._local_offset.cache_clear()


def outcome(sort: Callable[[str], int], text: str) -> tuple[Any, ...]:
    """What ``sort`` does with ``text``: its value, or the type and message it raises."""
    try:
        return ("value", sort(text))
    except Exception as e:  # any difference in what is raised is the failure
        return ("raises", type(e), str(e))


def assert_same(text: str, zone: str) -> None:
    with local_zone(zone):
        fast = outcome(_journal.sort_micros, text)
        exact = outcome(_journal._sort_micros_exact, text)
    assert fast == exact, f"{text!r} in {zone}"
    assert fast[0] == "value" or fast[1] is _journal.CorruptRecord


# -- timestamps ---------------------------------------------------------------------------

OFFSETS = st.one_of(
    st.just(timezone.utc),
    st.integers(-(24 * 60 - 1), 24 * 60 - 1).map(lambda m: timezone(timedelta(minutes=m))),
    st.integers(-86_399, 86_399).map(lambda s: timezone(timedelta(seconds=s))),
)
MOMENTS = st.datetimes(
    min_value=datetime(1, 1, 1),
    max_value=datetime(9999, 12, 31, 23, 59, 59, 999_999),
    timezones=st.none() | OFFSETS,
)
TIMESPECS = st.sampled_from(
    ["auto", "auto", "microseconds", "seconds", "milliseconds", "minutes", "hours"]
)


@st.composite
def isoformats(draw: st.DrawFn) -> str:
    """A moment as ``isoformat`` writes it, UTC sometimes as ``Z`` or ``z``."""
    moment = draw(MOMENTS)
    text = moment.isoformat(sep=draw(st.sampled_from("TT t")), timespec=draw(TIMESPECS))
    if text.endswith("+00:00"):
        text = text[:-6] + draw(st.sampled_from(["+00:00", "Z", "z"]))
    return text


def _two(low: int, high: int) -> st.SearchStrategy[str]:
    return st.integers(low, high).map(lambda n: f"{n:02d}")


DIGITS = "0123456789"
FRACTIONS = st.one_of(
    st.just(""),
    st.integers(0, 999_999).map(lambda n: f".{n:06d}"),
    st.text(DIGITS, max_size=8).map(lambda t: "." + t),
    st.text(DIGITS, min_size=1, max_size=7).map(lambda t: "," + t),
)
ZONE_SUFFIXES = st.one_of(
    st.sampled_from(["", "", "Z", "z", "+00:00", "-00:00", "+05:30:15", "+0530", "Zz", "+5:30"]),
    st.builds(lambda s, h, m: f"{s}{h}:{m}", st.sampled_from("+-"), _two(0, 25), _two(0, 61)),
)
YEARS = st.one_of(
    st.integers(0, 9999).map(lambda y: f"{y:04d}"),
    st.sampled_from(["0000", "0001", "1600", "1900", "1970", "2000", "2024", "2100", "9999"]),
)


@st.composite
def fields(draw: st.DrawFn) -> str:
    """The shape ChatKit writes, each field drawn in and just out of range."""
    day = f"{draw(YEARS)}-{draw(_two(0, 13))}-{draw(_two(0, 32))}"
    clock = f"{draw(_two(0, 25))}:{draw(_two(0, 61))}:{draw(_two(0, 61))}"
    return f"{day}T{clock}{draw(FRACTIONS)}{draw(ZONE_SUFFIXES)}"


LEAP_DAYS = st.builds(
    lambda year, fraction, zone: f"{year}-02-29T12:34:56{fraction}{zone}",
    st.sampled_from(["1600", "1700", "1900", "2000", "2023", "2024", "2100", "2400"]),
    FRACTIONS,
    ZONE_SUFFIXES,
)
# Characters that make a timestamp almost right: other digits (Arabic-Indic, superscript,
# full-width), separators, signs, whitespace, int()'s underscore.
EDITS = st.sampled_from(list("0123456789:-.,+TZz tW_\n\u0663\u00b2\uff12"))


@st.composite
def near_misses(draw: st.DrawFn) -> str:
    """A well-formed timestamp with one character replaced, inserted or deleted."""
    text = draw(isoformats() | fields())
    index = draw(st.integers(0, len(text)))
    edit = draw(st.sampled_from(["replace", "insert", "delete"]))
    if edit == "insert":
        return text[:index] + draw(EDITS) + text[index:]
    if edit == "delete" or index == len(text):
        return text[:index] + text[index + 1 :]
    return text[:index] + draw(EDITS) + text[index + 1 :]


@settings(max_examples=1500, deadline=None)
@given(text=isoformats(), zone=ZONES)
def test_sort_micros_matches_fromisoformat_on_isoformat_output(text: str, zone: str) -> None:
    assert_same(text, zone)


@settings(max_examples=1500, deadline=None)
@given(text=fields() | LEAP_DAYS, zone=ZONES)
def test_sort_micros_matches_fromisoformat_field_by_field(text: str, zone: str) -> None:
    assert_same(text, zone)


@settings(max_examples=1500, deadline=None)
@given(text=near_misses() | st.text(max_size=40), zone=ZONES)
def test_sort_micros_matches_fromisoformat_on_malformed_strings(text: str, zone: str) -> None:
    assert_same(text, zone)


@pytest.mark.parametrize(
    "text",
    [
        "2024-02-29T00:00:00",  # a leap day
        "2100-02-29T00:00:00",  # not one
        "2000-02-29T23:59:59.999999+23:59",
        "0001-01-01T00:00:00",  # naive: local time may fall before year 1
        "0001-01-01T00:00:00+01:00",
        "9999-12-31T23:59:59.999999-23:59",  # after year 9999 in UTC
        "9999-12-31T23:59:59.999999",
        "2026-01-01T24:00:00",
        "2026-01-01T23:60:00",
        "2026-01-01T23:59:60",
        "2026-01-01T12:00:00+24:00",
        "2026-01-01T12:00:00-00:60",
        "2026-01-01T12:00:00.12345",
        "2026-01-01T12:00:00.1234567",
        "2026-01-01T12:00:00,123456",
        "2026-01-01T12:00:00.123456\n",
        "2026-01-01T12:00:00 ",
        "2026-01-01 12:00:00",
        "2026-\u0661\u0662-01T12:00:00",
        "2026-01-01T1\u00b2:00:00",
        "2026-01-01T12:00:0_",
        "2026-01-01T12:+0:00",
        "2026-01-01T12:00:00.+12345",
        "2026-01-01T12:00:00.123456ZZ",
        "2026-01-01T12:00:00+05:30Z",
        "",
    ],
)
def test_sort_micros_matches_fromisoformat_at_the_edges(text: str) -> None:
    for zone in ("UTC", "Pacific/Kiritimati", "Etc/GMT+12", "Australia/Lord_Howe"):
        assert_same(text, zone)


@pytest.mark.parametrize("digit", ["\u0663", "\u00b2", "\uff13", "\u09e9"])
def test_sort_micros_matches_fromisoformat_with_a_digit_that_is_not_ascii(digit: str) -> None:
    # int() reads Arabic-Indic, superscript, full-width and Bengali digits; fromisoformat
    # does not. Put one at every digit of each form the fast path reads.
    for form in ("2026-11-23T20:34:13.103525", "2026-11-23T20:34:13Z", "2026-11-23T20:34:13-05:30"):
        for index, char in enumerate(form):
            if char.isdigit():
                assert_same(form[:index] + digit + form[index + 1 :], "UTC")


@pytest.mark.parametrize(
    "text",
    [
        "2026-11-23T20:34:13.103525",
        "2026-11-23T20:34:13",
        "2026-11-23T20:34:13.103525Z",
        "2026-11-23T20:34:13Z",
        "2026-11-23T20:34:13.103525+05:30",
        "2026-11-23T20:34:13-08:00",
    ],
)
def test_the_forms_chatkit_writes_need_no_datetime(
    text: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    expected = _journal._sort_micros_exact(text)

    def exact(created_at: str) -> int:
        raise AssertionError(f"{created_at!r} took the slow path")

    monkeypatch.setattr(_journal, "_sort_micros_exact", exact)
    assert _journal.sort_micros(text) == expected


# -- replay -------------------------------------------------------------------------------


def _line(n: int) -> bytes:
    return _journal.encode(
        {
            "op": "item",
            "thread_id": "thr_a",
            "id": f"m{n}",
            "data": {
                "id": f"m{n}",
                "type": "assistant_message",
                "created_at": f"2026-01-02T03:04:{n:02d}",
            },
        }
    )


GOOD = b"".join(_line(n) for n in range(5))


@pytest.mark.parametrize(
    "buf",
    [
        GOOD,
        GOOD + _line(5)[:-7],  # torn
        GOOD + _line(5)[:-1],  # a whole record without its newline
        GOOD[: len(_line(0)) * 2] + b"{nope}\n" + GOOD,
        b"",
    ],
    ids=["good", "torn", "no-newline", "bad-line", "empty"],
)
def test_scan_with_apply_hands_over_what_it_would_collect(buf: bytes) -> None:
    collected = _journal.scan_records(buf, first_line=2, allow_unknown_ops=False)
    applied: list[tuple[dict[str, Any] | None, bytes]] = []
    scan = _journal.scan_records(
        buf,
        first_line=2,
        allow_unknown_ops=False,
        apply=lambda record, line: applied.append((record, line)),
    )
    assert applied == collected.records
    assert scan.records == []
    assert (scan.consumed, scan.torn, scan.error) == (
        collected.consumed,
        collected.torn,
        collected.error,
    )


def test_scan_applies_each_record_before_parsing_the_next(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    events: list[str] = []
    parse = _journal.parse_record

    def logged(line: bytes, *, allow_unknown_ops: bool) -> dict[str, Any] | None:
        events.append("parse")
        return parse(line, allow_unknown_ops=allow_unknown_ops)

    monkeypatch.setattr(_journal, "parse_record", logged)
    _journal.scan_records(
        GOOD,
        first_line=2,
        allow_unknown_ops=False,
        apply=lambda record, line: events.append("apply"),
    )
    assert events == ["parse", "apply"] * 5


class _Tracked(dict[str, Any]):
    """A parsed record that can be watched with a weak reference."""


async def test_first_read_keeps_no_parsed_record_alive(
    store_path: Path, ctx: NotebookContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    writer = NotebookStore(store_path)
    base = datetime(2026, 1, 2, 3, 4, 5)
    for t in range(3):
        thread_id = f"thr_{t}"
        await writer.save_thread(ThreadMetadata(id=thread_id, created_at=base), ctx)
        for i in range(20):
            item = AssistantMessageItem(
                id=f"m{t}_{i}",
                thread_id=thread_id,
                created_at=base + timedelta(seconds=i),
                content=[AssistantMessageContent(text="text " * 50)],
            )
            await writer.add_thread_item(thread_id, item, ctx)
    await writer.delete_thread_item("thr_1", "m1_3", ctx)

    alive: list[weakref.ref[_Tracked]] = []
    most_alive = 0
    parse = _journal.parse_record

    def watched(line: bytes, *, allow_unknown_ops: bool) -> dict[str, Any] | None:
        nonlocal most_alive
        most_alive = max(most_alive, sum(ref() is not None for ref in alive))
        record = parse(line, allow_unknown_ops=allow_unknown_ops)
        if record is None:
            return None
        tracked = _Tracked(record)
        alive.append(weakref.ref(tracked))
        return tracked

    monkeypatch.setattr(_journal, "parse_record", watched)
    reader = NotebookStore(store_path)
    page = await reader.load_thread_items("thr_1", None, 100, "asc", ctx)
    assert len(page.data) == 19
    assert len(alive) == 64  # 3 threads, 60 items, 1 deletion
    assert most_alive <= 1  # only the record the scan loop has just applied
    assert all(ref() is None for ref in alive)  # and the store's index keeps none
