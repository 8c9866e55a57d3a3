"""The panel's thread list: sorted and aged by last use (from the panel or ``%chat``)."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from agents.testing import ScriptedModel, assistant_message
from chatkit.types import ThreadMetadata
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output
from test_magics import session, shell_fixture  # noqa: F401  (the `shell` fixture)

from chatkit_notebook import NotebookContext, NotebookStore
from chatkit_notebook._client import ChatKitClient, ThreadState, message_request
from chatkit_notebook.agent.server import NotebookChatServer
from chatkit_notebook.panel.panel import ChatPanel
from chatkit_notebook.panel.threadbar import NEW, ThreadBar
from chatkit_notebook.runtime import Runtime

HANG = 60.0


def test_the_bar_sorts_and_ages_threads_by_last_use() -> None:
    now = datetime.now()
    old = ThreadMetadata(id="thr_old", title="Old", created_at=now - timedelta(days=2))
    new = ThreadMetadata(id="thr_new", title="New", created_at=now - timedelta(hours=1))
    bar = ThreadBar()
    bar.show(None, [new, old], {"thr_old": now - timedelta(seconds=5)})
    assert [label for label, _ in bar.threads.options] == [
        "New chat",
        "Old · just now",
        "New · 1 h ago",
    ]
    assert bar.threads.value == NEW


def test_a_thread_used_seconds_ago_is_first_and_says_just_now(shell: InteractiveShell) -> None:
    session().server().model = ScriptedModel(
        [[assistant_message("One.")], [assistant_message("Two.")], [assistant_message("3.")]]
    )
    with capture_output():
        shell.run_line_magic("chat", "First question")
    first = session().current_thread()
    with capture_output():
        shell.run_line_magic("chatkit", "new")
        shell.run_line_magic("chat", "Second question")
    second = session().current_thread()
    assert first
    assert second
    assert first != second
    # The first thread was made long ago; then it is used again, now.
    store, context = session().store(), session().context()
    thread = session().runtime.run(store.load_thread(first, context))
    long_ago = thread.created_at - timedelta(days=3)
    session().runtime.run(
        store.save_thread(thread.model_copy(update={"created_at": long_ago}), context)
    )
    with capture_output():
        shell.run_line_magic("chatkit", f"use {first}")
        shell.run_line_magic("chat", "Back to the first")
    panel = session().panel()
    panel.wait(HANG)
    labels = [(label, value) for label, value in panel._bar.threads.options]
    assert [value for _, value in labels] == [NEW, first, second]
    assert labels[1][0] == "First question · just now"


def test_a_note_about_another_views_card_stays_out_of_this_cell(shell: InteractiveShell) -> None:
    from agents.testing import function_call

    from chatkit_notebook._items import card_call_id, card_status

    session().server().model = ScriptedModel(
        [
            [function_call("run_python", {"code": "6 * 7"}, call_id="call_1")],
            [assistant_message("Something else.")],
        ]
    )
    panel = session().panel()
    panel.send("Compute it").result(timeout=HANG)  # the card waits in the panel
    panel.wait(HANG)
    assert [i for i in panel._state.items.values() if card_call_id(i) is not None]
    with capture_output() as captured:
        shell.run_line_magic("chat", "Never mind: something else?")
    shown = "\n".join(o.data.get("text/markdown", "") for o in captured.outputs)
    assert "Something else." in shown
    assert "newer message came first" not in shown  # about the panel's card: not here
    # The panel's card says it (its view follows the store).
    stored = session().runtime.run(
        session()
        .store()
        .load_thread_items(session().current_thread() or "", None, 50, "asc", session().context())
    )
    assert any("newer message came first" in (card_status(i) or "") for i in stored.data)


def test_a_thread_just_asked_in_says_just_now_in_a_panel_built_in_python(
    store_path: Path, runtime: Runtime
) -> None:
    """A panel built as the README shows (no kernel session, so no notes of use) on a
    thread made three hours ago: once asked in, it is first and "just now", not "3 h ago"
    (the README's dark screenshot said so of the thread it had just asked in)."""
    model = ScriptedModel([[assistant_message("Fine.")], [assistant_message("Again.")]])
    server = NotebookChatServer(NotebookStore(store_path), model=model)
    context = NotebookContext()
    client = ChatKitClient(server, context)

    async def seed() -> tuple[str, str]:
        ids = []
        for question in ("Old question", "Other question"):
            state = ThreadState()
            async for event in client.stream(message_request(None, question)):
                state.apply(event)
            assert state.thread_id is not None
            ids.append(state.thread_id)
        old = await server.store.load_thread(ids[0], context)
        made = old.created_at - timedelta(hours=3)
        await server.store.save_thread(old.model_copy(update={"created_at": made}), context)
        other = await server.store.load_thread(ids[1], context)
        made = other.created_at - timedelta(hours=1)
        await server.store.save_thread(other.model_copy(update={"created_at": made}), context)
        return ids[0], ids[1]

    old, other = runtime.run(seed())
    panel = ChatPanel(server, context, runtime=runtime, thread_id=other)
    panel.wait(HANG)
    panel._bar.threads.value = old  # the person picks the old thread in the list
    panel.wait(HANG)
    panel.send("And now?")
    panel.wait(HANG)
    labels = list(panel._bar.threads.options)
    assert [value for _, value in labels] == [NEW, old, other]
    assert labels[1][0] == "Old question · just now"
    assert labels[2][0] == "Other question · just now"  # opened seconds ago, asked in before
