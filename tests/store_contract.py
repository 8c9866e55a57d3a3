"""The ChatKit ``Store`` contract, as an abstract test suite every store implementation reuses.

``StoreContract`` is not collected on its own (no ``Test`` prefix). A concrete suite
subclasses it as ``Test<Something>``, implements ``make_store`` and, for a store that keeps
its data in a file, overrides ``reopen`` to return a *new* store object on the same file.
Round-trip tests write, reopen, then read, so a persistent store is checked through its file
and not only through whatever it caches in memory.

The rules pinned here are ChatKit's (``chatkit.store.Store`` and how ``ChatKitServer`` calls
it), made exact where the SDK leaves room:

* ``load_thread`` / ``load_item`` / ``load_attachment`` raise ``NotFoundError`` for unknown ids;
  ``load_thread`` returns a ``ThreadMetadata``, never a ``Thread``.
* ``save_thread`` / ``save_item`` / ``save_attachment`` / ``add_thread_item`` are upserts; an
  upserted row keeps its original position.
* Pages are ordered by ``created_at`` (ties: insertion order), ``desc`` is the exact reverse
  of ``asc``; ``after`` is an exclusive id cursor; ``has_more`` is true iff rows remain;
  ``Page.after`` is the last row's id when ``has_more`` (the incoming cursor when a
  ``limit=0`` page has nothing in it) and ``None`` otherwise.
* What is saved is what is loaded (``==``), and loaded objects are fresh copies.
"""

from __future__ import annotations

import abc
import tempfile
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, cast

import pytest
from chatkit.actions import ActionConfig
from chatkit.store import NotFoundError, Store
from chatkit.types import (
    ActiveStatus,
    Annotation,
    AssistantMessageContent,
    AssistantMessageItem,
    Attachment,
    AttachmentUploadDescriptor,
    ClientToolCallItem,
    ClosedStatus,
    CustomSummary,
    CustomTask,
    DurationSummary,
    EndOfTurnItem,
    EntitySource,
    FileAttachment,
    FileSource,
    FileTask,
    GeneratedImage,
    GeneratedImageItem,
    HiddenContextItem,
    ImageAttachment,
    ImageTask,
    InferenceOptions,
    LockedStatus,
    Page,
    SDKHiddenContextItem,
    SearchTask,
    StructuredInputAnswer,
    StructuredInputFreeform,
    StructuredInputItem,
    StructuredInputMultipleChoice,
    StructuredInputMultipleChoiceOption,
    Task,
    TaskItem,
    ThoughtTask,
    Thread,
    ThreadItem,
    ThreadMetadata,
    ToolChoice,
    URLSource,
    UserMessageItem,
    UserMessageTagContent,
    UserMessageTextContent,
    WidgetItem,
    Workflow,
    WorkflowItem,
)
from chatkit.widgets import WidgetRoot
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import AnyUrl, TypeAdapter

from chatkit_notebook import NotebookContext

__all__ = ["StoreContract"]

AnyStore = Store[Any]

# Microseconds on purpose: a store that rounds to seconds or milliseconds must fail.
NAIVE = datetime(2025, 3, 1, 12, 30, 45, 123456)
UTC = datetime(2025, 3, 1, 12, 30, 45, 123456, tzinfo=timezone.utc)
IST = datetime(2025, 3, 1, 18, 0, 45, 654321, tzinfo=timezone(timedelta(hours=5, minutes=30)))
PST = datetime(2025, 3, 1, 4, 30, 45, 1, tzinfo=timezone(timedelta(hours=-8)))
TIMESTAMPS = {"naive": NAIVE, "utc": UTC, "plus0530": IST, "minus0800": PST}

# Characters that break line-oriented formats read with ``str.splitlines`` (U+2028, U+2029,
# NEL, VT, FF, the information separators), CRLF, NUL, quotes, backslashes and non-BMP text.
AWKWARD_TEXT = (
    "line one\nline two\r\nthree\u2028four\u2029five\x85six\x0bseven\x0c"
    '\x1c\x1d\x1e "quoted" \\back\\slash\\ \x00 nul, naïve café ✓ 🚀 𝄞 漢字'
)


def at(offset_seconds: float, base: datetime = NAIVE) -> datetime:
    """Return ``base`` shifted by ``offset_seconds``."""
    return base + timedelta(seconds=offset_seconds)


def make_thread(thread_id: str, created_at: datetime = NAIVE, **fields: Any) -> ThreadMetadata:
    """A thread with only the fields the test cares about set."""
    return ThreadMetadata(id=thread_id, created_at=created_at, **fields)


def user_message(
    item_id: str, thread_id: str, created_at: datetime = NAIVE, text: str = "hello"
) -> UserMessageItem:
    """A plain one-text user message."""
    return UserMessageItem(
        id=item_id,
        thread_id=thread_id,
        created_at=created_at,
        content=[UserMessageTextContent(text=text)],
        inference_options=InferenceOptions(),
    )


def file_attachment(attachment_id: str, thread_id: str | None = None) -> FileAttachment:
    """A file attachment carrying integration metadata."""
    return FileAttachment(
        id=attachment_id,
        name="data.csv",
        mime_type="text/csv",
        thread_id=thread_id,
        metadata={"sha256": "ab" * 32, "rows": 1200, "columns": ["a", "b"], "local": None},
    )


def image_attachment(attachment_id: str, thread_id: str | None = None) -> ImageAttachment:
    """An image attachment with a preview URL and a pending two-phase upload descriptor."""
    return ImageAttachment(
        id=attachment_id,
        name="plot.png",
        mime_type="image/png",
        preview_url=AnyUrl("https://example.com/previews/plot.png?size=small"),
        upload_descriptor=AttachmentUploadDescriptor(
            url=AnyUrl("https://uploads.example.com/put/plot"),
            method="PUT",
            headers={"x-upload-token": "t0k3n"},
        ),
        thread_id=thread_id,
        metadata={"width": 640, "height": 480, "dpi": 96.5},
    )


def sample_widget() -> WidgetRoot:
    """A nested Card > Row > (Text, Button) + Markdown tree, validated the way a store loads it.

    Built by validation rather than by calling the widget classes, which chatkit deprecates.
    """
    tree = {
        "type": "Card",
        "size": "md",
        "padding": {"x": 4, "y": 2},
        "background": {"light": "white", "dark": "gray-900"},
        "children": [
            {
                "type": "Row",
                "gap": 2,
                "align": "center",
                "children": [
                    {"type": "Text", "id": "summary", "value": "3 rows", "weight": "semibold"},
                    {
                        "type": "Button",
                        "label": "Show all",
                        "style": "primary",
                        "onClickAction": ActionConfig(
                            type="df.show", payload={"name": "df", "limit": 50}
                        ).model_dump(),
                    },
                ],
            },
            {"type": "Markdown", "id": "notes", "value": "**bold** and `code`\n\n- one"},
        ],
    }
    return TypeAdapter[WidgetRoot](WidgetRoot).validate_python(tree)


def sample_item(kind: str, thread_id: str, created_at: datetime) -> ThreadItem:
    """One richly populated item of the given kind (see ``ITEM_KINDS``)."""
    base: dict[str, Any] = {"id": f"{kind}_1", "thread_id": thread_id, "created_at": created_at}
    tasks: list[Task] = [
        CustomTask(title="Load", icon="bolt", content="Read `df`", status_indicator="complete"),
        SearchTask(
            title="Search",
            title_query="pandas groupby",
            queries=["pandas groupby", "agg"],
            sources=[URLSource(title="Docs", url="https://pandas.pydata.org", attribution="pd")],
            status_indicator="loading",
        ),
        ThoughtTask(title="Think", content="The mean is skewed by outliers."),
        FileTask(title="Files", sources=[FileSource(title="data", filename="data.csv")]),
        ImageTask(title="Plot"),
    ]
    match kind:
        case "user_message":
            return UserMessageItem(
                **base,
                content=[
                    UserMessageTextContent(text=AWKWARD_TEXT),
                    UserMessageTagContent(
                        id="var:df",
                        text="@df",
                        data={"kind": "DataFrame", "shape": [3, 2], "nested": {"ok": True}},
                        group="variables",
                        interactive=True,
                    ),
                ],
                attachments=[file_attachment("atc_f", thread_id), image_attachment("atc_i")],
                quoted_text="an earlier answer",
                inference_options=InferenceOptions(
                    tool_choice=ToolChoice(id="inspect_variable"), model="gpt-4.1-mini"
                ),
            )
        case "assistant_message":
            return AssistantMessageItem(
                **base,
                content=[
                    AssistantMessageContent(
                        text="See the docs [1] and the file [2].",
                        annotations=[
                            Annotation(
                                source=URLSource(
                                    title="pandas",
                                    url="https://pandas.pydata.org/docs/",
                                    description="Docs",
                                    timestamp="2025-01-01",
                                    group="web",
                                ),
                                index=17,
                            ),
                            Annotation(source=FileSource(title="data", filename="data.csv")),
                            Annotation(
                                source=EntitySource(
                                    title="df",
                                    id="var:df",
                                    icon="lucide:table",
                                    label="DataFrame",
                                    interactive=True,
                                    data={"columns": ["a", "b"]},
                                ),
                                index=3,
                            ),
                        ],
                    ),
                    AssistantMessageContent(text="Second part."),
                ],
            )
        case "client_tool_call_pending":
            return ClientToolCallItem(
                **base, call_id="call_1", name="get_selection", arguments={"cell": 3, "all": False}
            )
        case "client_tool_call_completed":
            return ClientToolCallItem(
                **base,
                status="completed",
                call_id="call_2",
                name="get_selection",
                arguments={},
                output={"text": "x = 1", "lines": [1, 2], "meta": None, "score": 0.5},
            )
        case "widget":
            return WidgetItem(**base, widget=sample_widget(), copy_text="3 rows")
        case "generated_image":
            return GeneratedImageItem(
                **base, image=GeneratedImage(id="img_1", url="data:image/png;base64,iVBORw0KGgo=")
            )
        case "generated_image_pending":
            return GeneratedImageItem(**base)
        case "structured_input":
            return StructuredInputItem(
                **base,
                status="answered",
                inputs=[
                    StructuredInputMultipleChoice(
                        id="q1",
                        question="Which columns?",
                        options=[
                            StructuredInputMultipleChoiceOption(value="a"),
                            StructuredInputMultipleChoiceOption(value="b"),
                        ],
                        multiple=True,
                        answer=StructuredInputAnswer(values=["a", "b"]),
                    ),
                    StructuredInputFreeform(
                        id="q2",
                        question="Anything else?",
                        description="Optional",
                        answer=StructuredInputAnswer(skipped=True),
                    ),
                ],
            )
        case "structured_input_pending":
            return StructuredInputItem(
                **base,
                inputs=[
                    StructuredInputMultipleChoice(
                        id="q1",
                        question="Plot type?",
                        options=[StructuredInputMultipleChoiceOption(value="bar")],
                    ),
                    StructuredInputFreeform(id="q2", question="Title?"),
                ],
            )
        case "workflow":
            return WorkflowItem(
                **base,
                workflow=Workflow(
                    type="custom",
                    tasks=tasks,
                    summary=CustomSummary(title="Explored df", icon="search"),
                    expanded=True,
                ),
            )
        case "workflow_reasoning":
            return WorkflowItem(
                **base,
                workflow=Workflow(
                    type="reasoning", tasks=tasks[2:3], summary=DurationSummary(duration=7)
                ),
            )
        case "task":
            return TaskItem(**base, task=tasks[1])
        case "hidden_context":
            return HiddenContextItem(
                **base,
                content={
                    "variables": [{"name": "df", "shape": [3, 2]}, {"name": "x", "value": None}],
                    "flags": {"truncated": True, "ratio": 0.25, "count": -3},
                    "text": AWKWARD_TEXT,
                },
            )
        case "sdk_hidden_context":
            return SDKHiddenContextItem(
                **base, content="The user cancelled the stream. Stop responding."
            )
        case "end_of_turn":
            return EndOfTurnItem(**base)
    msg = f"unknown sample item kind {kind!r}"
    raise ValueError(msg)


ITEM_KINDS = [
    "user_message",
    "assistant_message",
    "client_tool_call_pending",
    "client_tool_call_completed",
    "widget",
    "generated_image",
    "generated_image_pending",
    "structured_input",
    "structured_input_pending",
    "workflow",
    "workflow_reasoning",
    "task",
    "hidden_context",
    "sdk_hidden_context",
    "end_of_turn",
]

THREAD_VARIANTS: dict[str, dict[str, Any]] = {
    "bare": {},
    "active_titled": {
        "title": AWKWARD_TEXT,
        "status": ActiveStatus(),
        "allowed_image_domains": ["example.com", "cdn.example.org"],
        "metadata": {"notebook": "analysis.ipynb", "model": {"name": "m", "temp": 0.2}},
    },
    "locked": {"title": "Locked", "status": LockedStatus(reason="Read-only copy")},
    "locked_no_reason": {"status": LockedStatus()},
    "closed": {"title": "Closed", "status": ClosedStatus(reason="Archived"), "metadata": {"k": []}},
}


@dataclass(frozen=True)
class Rows:
    """How a paging test adds and pages one kind of row (thread items, or threads)."""

    name: str
    add: Callable[[AnyStore, str, datetime, Any], Awaitable[None]]
    page: Callable[[AnyStore, str | None, int, str, Any], Awaitable[Page[Any]]]


PAGED_THREAD = "thr_paged"


async def _add_item_row(store: AnyStore, row_id: str, created_at: datetime, ctx: Any) -> None:
    await store.add_thread_item(PAGED_THREAD, user_message(row_id, PAGED_THREAD, created_at), ctx)


async def _page_items(
    store: AnyStore, after: str | None, limit: int, order: str, ctx: Any
) -> Page[Any]:
    return await store.load_thread_items(PAGED_THREAD, after, limit, order, ctx)


async def _add_thread_row(store: AnyStore, row_id: str, created_at: datetime, ctx: Any) -> None:
    await store.save_thread(make_thread(row_id, created_at), ctx)


async def _page_threads(
    store: AnyStore, after: str | None, limit: int, order: str, ctx: Any
) -> Page[Any]:
    return await store.load_threads(limit, after, order, ctx)


ITEM_ROWS = Rows("thread_items", _add_item_row, _page_items)
THREAD_ROWS = Rows("threads", _add_thread_row, _page_threads)


def expected_order(rows: list[tuple[str, datetime]], order: str) -> list[str]:
    """Row ids in ChatKit order: by ``created_at``, ties by insertion; desc is the reverse."""
    ids = [row_id for row_id, _ in sorted(rows, key=lambda row: row[1])]  # sorted() is stable
    return ids[::-1] if order == "desc" else ids


async def walk(
    rows: Rows, store: AnyStore, limit: int, order: str, ctx: Any, *, max_pages: int = 200
) -> list[str]:
    """Follow ``Page.after`` from the start to the end, checking every page's invariants."""
    seen: list[str] = []
    after: str | None = None
    for _ in range(max_pages):
        page = await rows.page(store, after, limit, order, ctx)
        assert len(page.data) <= limit
        seen.extend(row.id for row in page.data)
        if not page.has_more:
            assert page.after is None
            return seen
        assert page.data, "has_more with an empty page would never end"
        assert page.after == page.data[-1].id
        after = page.after
    pytest.fail(f"paging did not finish in {max_pages} pages; saw {seen}")


@pytest.mark.filterwarnings("ignore:Direct usage of named widget classes:DeprecationWarning")
class StoreContract(abc.ABC):
    """Every test a ``chatkit.store.Store`` implementation must pass.

    Subclasses implement ``make_store`` and may override ``reopen``, ``make_context`` and
    ``close_store``.
    """

    # -- hooks -------------------------------------------------------------------------------

    @abc.abstractmethod
    def make_store(self, tmp_path: Path) -> AnyStore:
        """Return a store on ``tmp_path``; a fresh folder gives an empty store."""

    def reopen(self, store: AnyStore, tmp_path: Path) -> AnyStore:
        """Return a store that sees what ``store`` wrote.

        In-memory stores return ``store`` itself. Persistent stores return a *new* store
        object on the same file, so the test reads back what reached the file.
        """
        return store

    def make_context(self) -> Any:
        """The request context passed to every store call."""
        return NotebookContext()

    def close_store(self, store: AnyStore) -> None:
        """Release a store at the end of a test (calls ``close()`` when the store has one)."""
        close = getattr(store, "close", None)
        if callable(close):
            close()

    # -- fixtures and helpers ----------------------------------------------------------------

    @pytest.fixture
    def store(self, tmp_path: Path) -> Iterator[AnyStore]:
        self._opened: list[AnyStore] = []
        yield self.open_store(tmp_path)
        for opened in reversed(self._opened):
            self.close_store(opened)

    @pytest.fixture
    def ctx(self) -> Any:
        return self.make_context()

    @pytest.fixture(params=[ITEM_ROWS, THREAD_ROWS], ids=lambda rows: rows.name)
    def rows(self, request: pytest.FixtureRequest) -> Rows:
        return cast(Rows, request.param)

    def open_store(self, tmp_path: Path) -> AnyStore:
        """``make_store`` that remembers the store so the fixture closes it."""
        store = self.make_store(tmp_path)
        self._opened.append(store)
        return store

    def reopened(self, store: AnyStore, tmp_path: Path) -> AnyStore:
        """``reopen`` that remembers a new store so the fixture closes it."""
        new = self.reopen(store, tmp_path)
        if new is not store:
            self._opened.append(new)
        return new

    async def fill(
        self, rows: Rows, store: AnyStore, ctx: Any, spec: list[tuple[str, datetime]]
    ) -> None:
        """Add rows in the given (insertion) order; items get their thread first."""
        if rows is ITEM_ROWS:
            await store.save_thread(make_thread(PAGED_THREAD), ctx)
        for row_id, created_at in spec:
            await rows.add(store, row_id, created_at, ctx)

    # -- not found ---------------------------------------------------------------------------

    async def test_load_unknown_thread_raises_not_found(self, store: AnyStore, ctx: Any) -> None:
        with pytest.raises(NotFoundError) as raised:
            await store.load_thread("thr_missing", ctx)
        # chatkit's own stores word it so, and its server tests assert this text.
        assert str(raised.value) == "Thread thr_missing not found"

    async def test_load_unknown_item_raises_not_found(self, store: AnyStore, ctx: Any) -> None:
        with pytest.raises(NotFoundError):
            await store.load_item("thr_missing", "msg_missing", ctx)
        await store.save_thread(make_thread("thr_1"), ctx)
        await store.add_thread_item("thr_1", user_message("msg_1", "thr_1"), ctx)
        with pytest.raises(NotFoundError) as raised:
            await store.load_item("thr_1", "msg_missing", ctx)
        assert str(raised.value) == "Item msg_missing not found in thread thr_1"

    async def test_load_item_through_another_thread_raises_not_found(
        self, store: AnyStore, ctx: Any
    ) -> None:
        for thread_id in ("thr_a", "thr_b"):
            await store.save_thread(make_thread(thread_id), ctx)
        await store.add_thread_item("thr_a", user_message("msg_1", "thr_a"), ctx)
        with pytest.raises(NotFoundError):
            await store.load_item("thr_b", "msg_1", ctx)

    async def test_load_unknown_attachment_raises_not_found(
        self, store: AnyStore, ctx: Any
    ) -> None:
        with pytest.raises(NotFoundError) as raised:
            await store.load_attachment("atc_missing", ctx)
        assert str(raised.value) == "Attachment atc_missing not found"

    # -- threads -----------------------------------------------------------------------------

    @pytest.mark.parametrize("variant", list(THREAD_VARIANTS))
    async def test_thread_metadata_round_trips_exactly(
        self, store: AnyStore, ctx: Any, tmp_path: Path, variant: str
    ) -> None:
        thread = make_thread("thr_1", IST, **THREAD_VARIANTS[variant])
        await store.save_thread(thread, ctx)
        store = self.reopened(store, tmp_path)
        loaded = await store.load_thread("thr_1", ctx)
        assert type(loaded) is ThreadMetadata
        assert loaded == thread
        listed = await store.load_threads(10, None, "asc", ctx)
        assert listed.data == [thread]
        assert all(type(row) is ThreadMetadata for row in listed.data)

    async def test_save_thread_given_a_thread_keeps_metadata_only(
        self, store: AnyStore, ctx: Any, tmp_path: Path
    ) -> None:
        # ChatKitServer hands save_thread the Thread (with .items) it passes to respond().
        item = user_message("msg_1", "thr_1")
        thread = Thread(
            id="thr_1",
            created_at=NAIVE,
            title="From respond()",
            status=LockedStatus(reason="why"),
            metadata={"k": "v"},
            items=Page(data=[item], has_more=True, after="msg_1"),
        )
        await store.save_thread(thread, ctx)
        store = self.reopened(store, tmp_path)
        loaded = await store.load_thread("thr_1", ctx)
        assert type(loaded) is ThreadMetadata
        assert loaded == ThreadMetadata.model_validate(thread.model_dump(exclude={"items"}))
        listed = await store.load_threads(10, None, "asc", ctx)
        assert [type(row) for row in listed.data] == [ThreadMetadata]
        # Thread.items are not thread items: only add_thread_item/save_item add those.
        assert (await store.load_thread_items("thr_1", None, 10, "asc", ctx)).data == []

    async def test_save_thread_is_upsert(self, store: AnyStore, ctx: Any, tmp_path: Path) -> None:
        await store.save_thread(make_thread("thr_1", title="First"), ctx)
        await store.save_thread(make_thread("thr_2", at(1)), ctx)
        renamed = make_thread("thr_1", title="Renamed", status=ClosedStatus(reason="done"))
        await store.save_thread(renamed, ctx)
        store = self.reopened(store, tmp_path)
        assert await store.load_thread("thr_1", ctx) == renamed
        listed = await store.load_threads(10, None, "asc", ctx)
        assert [row.id for row in listed.data] == ["thr_1", "thr_2"]
        assert listed.data[0] == renamed

    async def test_save_thread_upsert_keeps_position_among_equal_timestamps(
        self, store: AnyStore, ctx: Any, tmp_path: Path
    ) -> None:
        for thread_id in ("thr_a", "thr_b", "thr_c"):
            await store.save_thread(make_thread(thread_id), ctx)
        await store.save_thread(make_thread("thr_a", title="Renamed"), ctx)
        store = self.reopened(store, tmp_path)
        for order, expected in (
            ("asc", ["thr_a", "thr_b", "thr_c"]),
            ("desc", ["thr_c", "thr_b", "thr_a"]),
        ):
            listed = await store.load_threads(10, None, order, ctx)
            assert [row.id for row in listed.data] == expected
        assert (await store.load_thread("thr_a", ctx)).title == "Renamed"

    # -- items: round trips ------------------------------------------------------------------

    @pytest.mark.parametrize("kind", ITEM_KINDS)
    async def test_every_item_type_round_trips_exactly(
        self, store: AnyStore, ctx: Any, tmp_path: Path, kind: str
    ) -> None:
        await store.save_thread(make_thread("thr_1"), ctx)
        item = sample_item(kind, "thr_1", IST)
        await store.add_thread_item("thr_1", item, ctx)
        store = self.reopened(store, tmp_path)
        loaded = await store.load_item("thr_1", item.id, ctx)
        assert type(loaded) is type(item)
        assert loaded == item
        page = await store.load_thread_items("thr_1", None, 10, "asc", ctx)
        assert page.data == [item]

    async def test_all_item_types_coexist_in_one_thread_in_order(
        self, store: AnyStore, ctx: Any, tmp_path: Path
    ) -> None:
        await store.save_thread(make_thread("thr_1"), ctx)
        items = [sample_item(kind, "thr_1", at(i)) for i, kind in enumerate(ITEM_KINDS)]
        for item in reversed(items):  # insertion order must not matter when timestamps differ
            await store.add_thread_item("thr_1", item, ctx)
        store = self.reopened(store, tmp_path)
        page = await store.load_thread_items("thr_1", None, len(items), "asc", ctx)
        assert page.data == items
        assert (page.has_more, page.after) == (False, None)

    @pytest.mark.parametrize("zone", list(TIMESTAMPS))
    async def test_timestamps_round_trip_with_their_utc_offset(
        self, store: AnyStore, ctx: Any, tmp_path: Path, zone: str
    ) -> None:
        created_at = TIMESTAMPS[zone]
        thread = make_thread("thr_1", created_at)
        item = user_message("msg_1", "thr_1", created_at)
        await store.save_thread(thread, ctx)
        await store.add_thread_item("thr_1", item, ctx)
        store = self.reopened(store, tmp_path)
        loaded_thread = await store.load_thread("thr_1", ctx)
        loaded_item = await store.load_item("thr_1", "msg_1", ctx)
        assert (loaded_thread, loaded_item) == (thread, item)
        for loaded in (loaded_thread.created_at, loaded_item.created_at):
            # == on aware datetimes compares instants; the offset itself must survive too.
            assert loaded.replace(tzinfo=None) == created_at.replace(tzinfo=None)
            assert loaded.utcoffset() == created_at.utcoffset()

    @pytest.mark.parametrize("kind", ["file", "image"])
    async def test_attachment_round_trips_exactly(
        self, store: AnyStore, ctx: Any, tmp_path: Path, kind: str
    ) -> None:
        attachment = (file_attachment if kind == "file" else image_attachment)("atc_1", "thr_1")
        await store.save_attachment(attachment, ctx)
        store = self.reopened(store, tmp_path)
        loaded = await store.load_attachment("atc_1", ctx)
        assert type(loaded) is type(attachment)
        assert loaded == attachment

    # -- items: upserts ----------------------------------------------------------------------

    async def test_add_item_is_upsert_by_id(
        self, store: AnyStore, ctx: Any, tmp_path: Path
    ) -> None:
        await store.save_thread(make_thread("thr_1"), ctx)
        await store.add_thread_item("thr_1", user_message("msg_a", "thr_1", at(0), "a"), ctx)
        await store.add_thread_item("thr_1", user_message("msg_b", "thr_1", at(1), "b"), ctx)
        await store.add_thread_item("thr_1", user_message("msg_c", "thr_1", at(2), "c"), ctx)
        latest = user_message("msg_b", "thr_1", at(1), "b, revised")
        await store.add_thread_item("thr_1", latest, ctx)
        store = self.reopened(store, tmp_path)
        page = await store.load_thread_items("thr_1", None, 10, "asc", ctx)
        assert [item.id for item in page.data] == ["msg_a", "msg_b", "msg_c"]
        assert page.data[1] == latest
        assert await store.load_item("thr_1", "msg_b", ctx) == latest

    async def test_add_item_upsert_keeps_position_among_equal_timestamps(
        self, store: AnyStore, ctx: Any, tmp_path: Path
    ) -> None:
        # The SDK re-adds a still-open workflow with the same id on the next turn.
        await store.save_thread(make_thread("thr_1"), ctx)
        first = sample_item("workflow", "thr_1", NAIVE)
        assert isinstance(first, WorkflowItem)
        await store.add_thread_item("thr_1", first, ctx)
        await store.add_thread_item("thr_1", user_message("msg_b", "thr_1"), ctx)
        await store.add_thread_item("thr_1", user_message("msg_c", "thr_1"), ctx)
        closed = first.model_copy(
            update={"workflow": first.workflow.model_copy(update={"expanded": False})}
        )
        await store.add_thread_item("thr_1", closed, ctx)
        store = self.reopened(store, tmp_path)
        for order, expected in (
            ("asc", ["workflow_1", "msg_b", "msg_c"]),
            ("desc", ["msg_c", "msg_b", "workflow_1"]),
        ):
            page = await store.load_thread_items("thr_1", None, 10, order, ctx)
            assert [item.id for item in page.data] == expected
        assert await store.load_item("thr_1", "workflow_1", ctx) == closed

    async def test_save_item_is_upsert_keeping_position(
        self, store: AnyStore, ctx: Any, tmp_path: Path
    ) -> None:
        # add_client_tool_output saves the completed call over the pending one.
        await store.save_thread(make_thread("thr_1"), ctx)
        pending = sample_item("client_tool_call_pending", "thr_1", NAIVE)
        await store.add_thread_item("thr_1", user_message("msg_a", "thr_1"), ctx)
        await store.add_thread_item("thr_1", pending, ctx)
        await store.add_thread_item("thr_1", user_message("msg_c", "thr_1"), ctx)
        completed = pending.model_copy(update={"status": "completed", "output": {"x": [1]}})
        await store.save_item("thr_1", completed, ctx)
        store = self.reopened(store, tmp_path)
        page = await store.load_thread_items("thr_1", None, 10, "asc", ctx)
        assert [item.id for item in page.data] == ["msg_a", pending.id, "msg_c"]
        assert page.data[1] == completed

    async def test_save_item_with_new_id_inserts_it(
        self, store: AnyStore, ctx: Any, tmp_path: Path
    ) -> None:
        await store.save_thread(make_thread("thr_1"), ctx)
        await store.add_thread_item("thr_1", user_message("msg_a", "thr_1", at(0)), ctx)
        await store.add_thread_item("thr_1", user_message("msg_c", "thr_1", at(2)), ctx)
        new = sample_item("widget", "thr_1", at(1))
        await store.save_item("thr_1", new, ctx)
        store = self.reopened(store, tmp_path)
        assert await store.load_item("thr_1", new.id, ctx) == new
        page = await store.load_thread_items("thr_1", None, 10, "asc", ctx)
        assert [item.id for item in page.data] == ["msg_a", new.id, "msg_c"]

    async def test_save_attachment_is_upsert(
        self, store: AnyStore, ctx: Any, tmp_path: Path
    ) -> None:
        await store.save_attachment(file_attachment("atc_1"), ctx)
        linked = file_attachment("atc_1", "thr_1").model_copy(update={"name": "renamed.csv"})
        await store.save_attachment(linked, ctx)
        store = self.reopened(store, tmp_path)
        assert await store.load_attachment("atc_1", ctx) == linked

    async def test_same_item_id_in_two_threads_is_independent(
        self, store: AnyStore, ctx: Any, tmp_path: Path
    ) -> None:
        # Chat Completions backends give every assistant message the id "__fake_id__".
        for thread_id in ("thr_a", "thr_b"):
            await store.save_thread(make_thread(thread_id), ctx)
        in_a = user_message("__fake_id__", "thr_a", text="in a")
        in_b = user_message("__fake_id__", "thr_b", text="in b")
        await store.add_thread_item("thr_a", in_a, ctx)
        await store.add_thread_item("thr_b", in_b, ctx)
        await store.delete_thread_item("thr_b", "__fake_id__", ctx)
        store = self.reopened(store, tmp_path)
        assert await store.load_item("thr_a", "__fake_id__", ctx) == in_a
        assert (await store.load_thread_items("thr_a", None, 10, "asc", ctx)).data == [in_a]
        assert (await store.load_thread_items("thr_b", None, 10, "asc", ctx)).data == []

    # -- copies ------------------------------------------------------------------------------

    async def test_loaded_objects_are_fresh_copies(self, store: AnyStore, ctx: Any) -> None:
        thread = make_thread("thr_1", **THREAD_VARIANTS["active_titled"])
        message = sample_item("user_message", "thr_1", NAIVE)
        hidden = sample_item("hidden_context", "thr_1", at(1))
        attachment = file_attachment("atc_1", "thr_1")
        await store.save_thread(thread, ctx)
        await store.add_thread_item("thr_1", message, ctx)
        await store.add_thread_item("thr_1", hidden, ctx)
        await store.save_attachment(attachment, ctx)

        loaded_message = await store.load_item("thr_1", message.id, ctx)
        assert isinstance(loaded_message, UserMessageItem)
        loaded_message.content.append(UserMessageTextContent(text="injected"))
        loaded_message.attachments[0].name = "changed"
        loaded_hidden = await store.load_item("thr_1", hidden.id, ctx)
        assert isinstance(loaded_hidden, HiddenContextItem)
        loaded_hidden.content["flags"]["truncated"] = False
        loaded_hidden.content["variables"].append({"name": "injected"})
        paged = await store.load_thread_items("thr_1", None, 10, "asc", ctx)
        paged_message = paged.data[0]
        assert isinstance(paged_message, UserMessageItem)
        paged_message.content.clear()
        loaded_thread = await store.load_thread("thr_1", ctx)
        loaded_thread.title = "changed"
        loaded_thread.metadata["model"]["name"] = "changed"
        assert loaded_thread.allowed_image_domains is not None
        loaded_thread.allowed_image_domains.append("evil.example")
        listed = await store.load_threads(10, None, "asc", ctx)
        listed.data[0].metadata.clear()
        loaded_attachment = await store.load_attachment("atc_1", ctx)
        assert loaded_attachment.metadata is not None
        loaded_attachment.metadata["columns"].append("z")

        assert await store.load_item("thr_1", message.id, ctx) == message
        assert await store.load_item("thr_1", hidden.id, ctx) == hidden
        assert (await store.load_thread_items("thr_1", None, 10, "asc", ctx)).data == [
            message,
            hidden,
        ]
        assert await store.load_thread("thr_1", ctx) == thread
        assert (await store.load_threads(10, None, "asc", ctx)).data == [thread]
        assert await store.load_attachment("atc_1", ctx) == attachment

    async def test_mutating_a_saved_object_does_not_change_the_store(
        self, store: AnyStore, ctx: Any
    ) -> None:
        # ChatKitServer keeps mutating objects after handing them to the store.
        thread = make_thread("thr_1", metadata={"tags": ["a"]})
        message = sample_item("user_message", "thr_1", NAIVE)
        hidden = sample_item("hidden_context", "thr_1", at(1))
        attachment = file_attachment("atc_1")
        expected = [obj.model_copy(deep=True) for obj in (thread, message, hidden, attachment)]
        await store.save_thread(thread, ctx)
        await store.add_thread_item("thr_1", message, ctx)
        await store.save_item("thr_1", hidden, ctx)
        await store.save_attachment(attachment, ctx)

        thread.title = "changed"
        thread.metadata["tags"].append("b")
        assert isinstance(message, UserMessageItem)
        message.content.append(UserMessageTextContent(text="changed"))
        assert isinstance(hidden, HiddenContextItem)
        hidden.content["flags"]["count"] = 99
        assert attachment.metadata is not None
        attachment.metadata["rows"] = 0

        assert await store.load_thread("thr_1", ctx) == expected[0]
        assert await store.load_item("thr_1", message.id, ctx) == expected[1]
        assert await store.load_item("thr_1", hidden.id, ctx) == expected[2]
        assert await store.load_attachment("atc_1", ctx) == expected[3]

    # -- deletes -----------------------------------------------------------------------------

    async def test_delete_thread_removes_thread_and_its_items(
        self, store: AnyStore, ctx: Any, tmp_path: Path
    ) -> None:
        for thread_id in ("thr_gone", "thr_kept"):
            await store.save_thread(make_thread(thread_id), ctx)
            for kind in ("user_message", "assistant_message"):
                await store.add_thread_item(thread_id, sample_item(kind, thread_id, NAIVE), ctx)
        await store.delete_thread("thr_gone", ctx)
        store = self.reopened(store, tmp_path)
        with pytest.raises(NotFoundError):
            await store.load_thread("thr_gone", ctx)
        with pytest.raises(NotFoundError):
            await store.load_item("thr_gone", "user_message_1", ctx)
        gone = await store.load_thread_items("thr_gone", None, 10, "asc", ctx)
        assert (gone.data, gone.has_more, gone.after) == ([], False, None)
        assert [row.id for row in (await store.load_threads(10, None, "asc", ctx)).data] == [
            "thr_kept"
        ]
        kept = await store.load_thread_items("thr_kept", None, 10, "asc", ctx)
        assert [item.id for item in kept.data] == ["user_message_1", "assistant_message_1"]

    async def test_delete_thread_unlinks_its_attachments(
        self, store: AnyStore, ctx: Any, tmp_path: Path
    ) -> None:
        for thread_id in ("thr_gone", "thr_kept"):
            await store.save_thread(make_thread(thread_id), ctx)
        mine: list[Attachment] = [
            file_attachment("atc_f", "thr_gone"),
            image_attachment("atc_i", "thr_gone"),
        ]
        theirs = file_attachment("atc_other", "thr_kept")
        loose = image_attachment("atc_loose")
        for attachment in [*mine, theirs, loose]:
            await store.save_attachment(attachment, ctx)
        await store.delete_thread("thr_gone", ctx)
        store = self.reopened(store, tmp_path)
        for attachment in mine:
            loaded = await store.load_attachment(attachment.id, ctx)
            assert loaded == attachment.model_copy(update={"thread_id": None})
        assert await store.load_attachment("atc_other", ctx) == theirs
        assert await store.load_attachment("atc_loose", ctx) == loose

    async def test_delete_thread_item_removes_only_that_item(
        self, store: AnyStore, ctx: Any, tmp_path: Path
    ) -> None:
        await store.save_thread(make_thread("thr_1"), ctx)
        for i, item_id in enumerate(("msg_a", "msg_b", "msg_c")):
            await store.add_thread_item("thr_1", user_message(item_id, "thr_1", at(i)), ctx)
        await store.delete_thread_item("thr_1", "msg_b", ctx)
        store = self.reopened(store, tmp_path)
        with pytest.raises(NotFoundError):
            await store.load_item("thr_1", "msg_b", ctx)
        page = await store.load_thread_items("thr_1", None, 10, "desc", ctx)
        assert [item.id for item in page.data] == ["msg_c", "msg_a"]
        assert await store.load_thread("thr_1", ctx) == make_thread("thr_1")

    async def test_delete_thread_item_through_another_thread_is_a_no_op(
        self, store: AnyStore, ctx: Any, tmp_path: Path
    ) -> None:
        for thread_id in ("thr_a", "thr_b"):
            await store.save_thread(make_thread(thread_id), ctx)
        item = user_message("msg_1", "thr_a")
        await store.add_thread_item("thr_a", item, ctx)
        await store.delete_thread_item("thr_b", "msg_1", ctx)
        store = self.reopened(store, tmp_path)
        assert await store.load_item("thr_a", "msg_1", ctx) == item

    async def test_deleting_unknown_ids_is_a_no_op(
        self, store: AnyStore, ctx: Any, tmp_path: Path
    ) -> None:
        thread = make_thread("thr_1")
        item = user_message("msg_1", "thr_1")
        attachment = file_attachment("atc_1", "thr_1")
        await store.save_thread(thread, ctx)
        await store.add_thread_item("thr_1", item, ctx)
        await store.save_attachment(attachment, ctx)
        await store.delete_thread("thr_missing", ctx)
        await store.delete_thread_item("thr_missing", "msg_1", ctx)
        await store.delete_thread_item("thr_1", "msg_missing", ctx)
        await store.delete_attachment("atc_missing", ctx)
        store = self.reopened(store, tmp_path)
        assert (await store.load_threads(10, None, "asc", ctx)).data == [thread]
        assert (await store.load_thread_items("thr_1", None, 10, "asc", ctx)).data == [item]
        assert await store.load_attachment("atc_1", ctx) == attachment

    async def test_delete_attachment_removes_it(
        self, store: AnyStore, ctx: Any, tmp_path: Path
    ) -> None:
        await store.save_attachment(file_attachment("atc_1"), ctx)
        await store.save_attachment(image_attachment("atc_2"), ctx)
        await store.delete_attachment("atc_1", ctx)
        # ChatKitServer calls it twice when the store is also the AttachmentStore.
        await store.delete_attachment("atc_1", ctx)
        store = self.reopened(store, tmp_path)
        with pytest.raises(NotFoundError):
            await store.load_attachment("atc_1", ctx)
        assert await store.load_attachment("atc_2", ctx) == image_attachment("atc_2")

    # -- paging (thread items and threads alike) ---------------------------------------------

    async def test_paging_orders_by_created_at_not_insertion(
        self, store: AnyStore, ctx: Any, rows: Rows
    ) -> None:
        spec = [("r_2", at(2)), ("r_0", at(0)), ("r_3", at(3)), ("r_1", at(1))]
        await self.fill(rows, store, ctx, spec)
        for order in ("asc", "desc"):
            page = await rows.page(store, None, 10, order, ctx)
            assert [row.id for row in page.data] == expected_order(spec, order)
            assert (page.has_more, page.after) == (False, None)

    async def test_paging_orders_aware_timestamps_by_instant(
        self, store: AnyStore, ctx: Any, rows: Rows
    ) -> None:
        # As ISO text these sort 05:00-08:00 < 12:00Z < 17:00+05:30, the reverse of their instants.
        ist = datetime(2025, 3, 1, 17, 0, tzinfo=timezone(timedelta(hours=5, minutes=30)))
        utc = datetime(2025, 3, 1, 12, 0, tzinfo=timezone.utc)
        pst = datetime(2025, 3, 1, 5, 0, tzinfo=timezone(timedelta(hours=-8)))
        spec = [("r_utc", utc), ("r_pst", pst), ("r_ist", ist)]
        await self.fill(rows, store, ctx, spec)
        for order, expected in (
            ("asc", ["r_ist", "r_utc", "r_pst"]),
            ("desc", ["r_pst", "r_utc", "r_ist"]),
        ):
            page = await rows.page(store, None, 10, order, ctx)
            assert [row.id for row in page.data] == expected

    async def test_paging_one_at_a_time_through_equal_timestamps(
        self, store: AnyStore, ctx: Any, tmp_path: Path, rows: Rows
    ) -> None:
        spec = [(f"r_{i}", NAIVE) for i in range(5)]
        await self.fill(rows, store, ctx, spec)
        store = self.reopened(store, tmp_path)
        for order in ("asc", "desc"):
            expected = expected_order(spec, order)
            after: str | None = None
            for index, row_id in enumerate(expected):
                page = await rows.page(store, after, 1, order, ctx)
                assert [row.id for row in page.data] == [row_id]
                last = index == len(expected) - 1
                assert page.has_more is not last
                assert page.after == (None if last else row_id)
                after = row_id

    async def test_walking_pages_returns_every_row_once_in_order(
        self, store: AnyStore, ctx: Any, tmp_path: Path, rows: Rows
    ) -> None:
        # Ties, including ties with the cursor row, and insertion order unlike created_at order.
        offsets = [3, 1, 3, 0, 1, 3, 2, 0, 3]
        spec = [(f"r_{i}", at(offset)) for i, offset in enumerate(offsets)]
        await self.fill(rows, store, ctx, spec)
        store = self.reopened(store, tmp_path)
        for order in ("asc", "desc"):
            for limit in range(1, len(spec) + 2):
                seen = await walk(rows, store, limit, order, ctx)
                assert seen == expected_order(spec, order), f"{order=} {limit=}"

    async def test_cursor_at_each_row_returns_exactly_the_rows_after_it(
        self, store: AnyStore, ctx: Any, rows: Rows
    ) -> None:
        spec = [("r_0", at(1)), ("r_1", at(0)), ("r_2", at(1)), ("r_3", at(2)), ("r_4", at(1))]
        await self.fill(rows, store, ctx, spec)
        for order in ("asc", "desc"):
            expected = expected_order(spec, order)
            for index, cursor in enumerate(expected):
                rest = expected[index + 1 :]
                page = await rows.page(store, cursor, len(spec), order, ctx)
                assert [row.id for row in page.data] == rest, f"{order=} after={cursor}"
                assert (page.has_more, page.after) == (False, None)
                if len(rest) > 1:
                    short = await rows.page(store, cursor, 1, order, ctx)
                    assert [row.id for row in short.data] == rest[:1]
                    assert (short.has_more, short.after) == (True, rest[0])

    async def test_cursor_at_last_row_gives_an_empty_final_page(
        self, store: AnyStore, ctx: Any, rows: Rows
    ) -> None:
        spec = [("r_0", at(0)), ("r_1", at(1))]
        await self.fill(rows, store, ctx, spec)
        for order in ("asc", "desc"):
            last = expected_order(spec, order)[-1]
            page = await rows.page(store, last, 5, order, ctx)
            assert (page.data, page.has_more, page.after) == ([], False, None)

    async def test_page_after_is_last_row_only_when_more_rows_exist(
        self, store: AnyStore, ctx: Any, rows: Rows
    ) -> None:
        spec = [(f"r_{i}", at(i)) for i in range(4)]
        await self.fill(rows, store, ctx, spec)
        exact = await rows.page(store, None, 4, "asc", ctx)
        assert ([row.id for row in exact.data], exact.has_more, exact.after) == (
            ["r_0", "r_1", "r_2", "r_3"],
            False,
            None,
        )
        short = await rows.page(store, None, 3, "desc", ctx)
        assert ([row.id for row in short.data], short.has_more, short.after) == (
            ["r_3", "r_2", "r_1"],
            True,
            "r_1",
        )
        one = await rows.page(store, None, 1, "asc", ctx)
        assert ([row.id for row in one.data], one.has_more, one.after) == (["r_0"], True, "r_0")

    async def test_limit_zero_returns_no_rows_and_keeps_the_cursor(
        self, store: AnyStore, ctx: Any, rows: Rows
    ) -> None:
        spec = [("r_0", at(0)), ("r_1", at(1)), ("r_2", at(2))]
        await self.fill(rows, store, ctx, spec)
        start = await rows.page(store, None, 0, "asc", ctx)
        assert (start.data, start.has_more, start.after) == ([], True, None)
        middle = await rows.page(store, "r_1", 0, "asc", ctx)
        assert (middle.data, middle.has_more, middle.after) == ([], True, "r_1")
        middle_desc = await rows.page(store, "r_1", 0, "desc", ctx)
        assert (middle_desc.data, middle_desc.has_more, middle_desc.after) == ([], True, "r_1")
        end = await rows.page(store, "r_2", 0, "asc", ctx)
        assert (end.data, end.has_more, end.after) == ([], False, None)

    async def test_paging_an_empty_collection(self, store: AnyStore, ctx: Any, rows: Rows) -> None:
        await self.fill(rows, store, ctx, [])
        for limit in (0, 1, 20):
            page = await rows.page(store, None, limit, "desc", ctx)
            assert (page.data, page.has_more, page.after) == ([], False, None)

    async def test_unknown_cursor_raises_not_found(
        self, store: AnyStore, ctx: Any, rows: Rows
    ) -> None:
        await self.fill(rows, store, ctx, [("r_0", at(0))])
        for order in ("asc", "desc"):
            with pytest.raises(NotFoundError) as raised:
                await rows.page(store, "r_missing", 10, order, ctx)
            # Names the id as chatkit's stores do: bare, not quoted.
            assert "r_missing" in str(raised.value)
            assert "'r_missing'" not in str(raised.value)

    async def test_deleted_row_is_an_unknown_cursor(
        self, store: AnyStore, ctx: Any, rows: Rows
    ) -> None:
        await self.fill(rows, store, ctx, [("r_0", at(0)), ("r_1", at(1))])
        if rows is ITEM_ROWS:
            await store.delete_thread_item(PAGED_THREAD, "r_0", ctx)
        else:
            await store.delete_thread("r_0", ctx)
        with pytest.raises(NotFoundError):
            await rows.page(store, "r_0", 10, "asc", ctx)

    async def test_negative_limit_raises_value_error(
        self, store: AnyStore, ctx: Any, rows: Rows
    ) -> None:
        await self.fill(rows, store, ctx, [("r_0", at(0))])
        with pytest.raises(ValueError, match=r"-1"):
            await rows.page(store, None, -1, "asc", ctx)

    async def test_unknown_order_raises_value_error(
        self, store: AnyStore, ctx: Any, rows: Rows
    ) -> None:
        await self.fill(rows, store, ctx, [("r_0", at(0))])
        for order in ("ASC", "newest", ""):
            with pytest.raises(ValueError, match="order"):
                await rows.page(store, None, 10, order, ctx)

    async def test_items_cursor_from_another_thread_raises_not_found(
        self, store: AnyStore, ctx: Any
    ) -> None:
        for thread_id in ("thr_a", "thr_b"):
            await store.save_thread(make_thread(thread_id), ctx)
            await store.add_thread_item(thread_id, user_message(f"msg_{thread_id}", thread_id), ctx)
        with pytest.raises(NotFoundError):
            await store.load_thread_items("thr_b", "msg_thr_a", 10, "asc", ctx)

    async def test_items_of_unknown_thread_is_an_empty_page(
        self, store: AnyStore, ctx: Any
    ) -> None:
        await store.save_thread(make_thread("thr_1"), ctx)
        await store.add_thread_item("thr_1", user_message("msg_1", "thr_1"), ctx)
        for order in ("asc", "desc"):
            page = await store.load_thread_items("thr_missing", None, 10, order, ctx)
            assert (page.data, page.has_more, page.after) == ([], False, None)

    @settings(
        max_examples=40,
        deadline=None,
        # Each example opens its own store in a fresh folder, so sharing tmp_path is safe; and
        # every Test* subclass runs this same method with its own `self` by design.
        suppress_health_check=[
            HealthCheck.function_scoped_fixture,
            HealthCheck.differing_executors,
        ],
    )
    @given(
        offsets=st.lists(st.integers(min_value=0, max_value=3), max_size=12),
        limit=st.integers(min_value=1, max_value=5),
        order=st.sampled_from(["asc", "desc"]),
        item_rows=st.booleans(),
    )
    async def test_walking_pages_matches_a_reference_model(
        self,
        tmp_path: Path,
        ctx: Any,
        offsets: list[int],
        limit: int,
        order: str,
        item_rows: bool,
    ) -> None:
        rows = ITEM_ROWS if item_rows else THREAD_ROWS
        spec = [(f"r_{i}", at(offset)) for i, offset in enumerate(offsets)]
        store = self.make_store(Path(tempfile.mkdtemp(dir=tmp_path)))
        try:
            await self.fill(rows, store, ctx, spec)
            assert await walk(rows, store, limit, order, ctx) == expected_order(spec, order)
        finally:
            self.close_store(store)
