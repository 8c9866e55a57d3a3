"""Choosing where threads are kept, in a session: ``%chatkit store`` with a file or a
PostgreSQL database, ``configure(store=...)``, the doctor, a panel watching the database,
and ``%chatkit store --copy-to``. The database is a real PostgreSQL (``tests/postgres.py``).
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from agents.testing import ScriptedModel, assistant_message
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output
from postgres import free_port, pg_dsn_fixture, postgres_fixture  # noqa: F401
from scripted import ChatClient
from test_magics import session, shell_fixture, wait_for_options  # noqa: F401
from test_panel import html_of, wait_for_html

from chatkit_notebook import NotebookContext, configure
from chatkit_notebook.agent.receipt import is_receipt
from chatkit_notebook.agent.server import NotebookChatServer
from chatkit_notebook.stores.file import NotebookStore
from chatkit_notebook.stores.postgres import PostgresStore

KEY = "team/sales.ipynb"


@pytest.fixture(autouse=True)
def alice(monkeypatch: pytest.MonkeyPatch) -> None:
    """The hub user chatting (the store reads it at each request, as a kernel does)."""
    monkeypatch.setenv("JUPYTERHUB_USER", "alice")


def password(dsn: str) -> str:
    return dsn.split("://", 1)[1].split("@", 1)[0].split(":", 1)[1]


def magic(shell: InteractiveShell, line: str) -> str:
    """What ``%chatkit LINE`` prints, and the Markdown it shows."""
    with capture_output() as captured:
        shell.run_line_magic("chatkit", line)
    shown = [output.data.get("text/markdown", "") for output in captured.outputs]
    return captured.stdout + "".join(shown)


def ask(shell: InteractiveShell, question: str, answer: str) -> None:
    session().server().model = ScriptedModel([[assistant_message(answer)]])
    with capture_output():
        shell.run_line_magic("chat", question)


def texts(store: object, user: str = "alice") -> dict[str, list[str]]:
    """Every thread's title and message texts, read straight from a store."""

    async def read() -> dict[str, list[str]]:
        context = NotebookContext(user=user)
        found = {}
        threads = await store.load_threads(100, None, "asc", context)  # type: ignore[attr-defined]
        for thread in threads.data:
            page = await store.load_thread_items(thread.id, None, 100, "asc", context)  # type: ignore[attr-defined]
            found[thread.id] = [
                item.content[0].text
                for item in page.data
                if item.type in ("user_message", "assistant_message") and not is_receipt(item)
            ]
        close = getattr(store, "aclose", None)
        if close is not None:
            await close()
        return found

    return asyncio.run(read())


def test_chatkit_store_url_keeps_the_threads_in_postgresql(
    shell: InteractiveShell, tmp_path: Path, pg_dsn: str
) -> None:
    said = magic(shell, f"store {pg_dsn} --key {KEY}")
    assert "Threads are stored in PostgreSQL postgresql://" in said
    assert f"'{KEY}'" in said
    assert "yours only" in said
    assert password(pg_dsn) not in said
    ask(shell, "Which region sold most?", "North.")
    assert list(texts(PostgresStore(pg_dsn, notebook_key=KEY)).values()) == [
        ["Which region sold most?", "North."]
    ]
    assert not (tmp_path / "nb.chatkit.json").exists()  # nothing went to the file
    # The status line of a new panel says where, password masked.
    panel = shell.run_line_magic("chat", "")
    panel.wait()
    status = panel._status.value
    assert "PostgreSQL postgresql://" in status
    assert KEY in status
    assert password(pg_dsn) not in status
    panel.close()
    # Back to the default file, which the database's thread did not reach.
    assert "nb.chatkit.json" in magic(shell, "store --default")
    assert session().current_thread() is None


def test_a_database_that_cannot_be_reached_is_not_taken(
    shell: InteractiveShell, tmp_path: Path
) -> None:
    ask(shell, "First question", "First answer.")
    port = free_port()
    said = magic(shell, f"store postgresql://alice:hunter2@127.0.0.1:{port}/team")
    assert said.startswith("chatkit: Cannot connect to the PostgreSQL thread store")
    assert f"host 127.0.0.1, port {port}" in said
    assert "hunter2" not in said
    # The file store is still the one in use, and nothing in it was lost.
    assert session().location.path == tmp_path / "nb.chatkit.json"
    ask(shell, "Second question", "Second answer.")
    (thread,) = texts(NotebookStore(tmp_path / "nb.chatkit.json")).values()
    assert thread == ["First question", "First answer.", "Second question", "Second answer."]


def test_each_user_sees_their_own_threads_unless_the_notebook_is_shared(
    shell: InteractiveShell, monkeypatch: pytest.MonkeyPatch, pg_dsn: str
) -> None:
    magic(shell, f"store {pg_dsn} --key {KEY}")
    ask(shell, "Alice's question", "For Alice.")
    alices = session().current_thread()
    monkeypatch.setenv("JUPYTERHUB_USER", "bob")
    assert "No threads" in magic(shell, "threads")
    said = magic(shell, f"use {alices}")
    assert said.startswith("chatkit: no thread")
    assert password(pg_dsn) not in said
    magic(shell, "store --shared")
    assert alices is not None
    assert alices in magic(shell, "threads")
    # Another notebook key, shared too, shows none of them.
    magic(shell, f"store {pg_dsn} --key team/other.ipynb --shared")
    assert "No threads" in magic(shell, "threads")


def test_configure_moves_a_loaded_session_to_the_database(
    shell: InteractiveShell, pg_dsn: str
) -> None:
    ask(shell, "In the file", "Filed.")
    configure(store=pg_dsn, store_key=KEY)
    assert session().current_thread() is None  # the database's own current thread: none yet
    ask(shell, "In the database", "Stored.")
    assert list(texts(PostgresStore(pg_dsn, notebook_key=KEY)).values()) == [
        ["In the database", "Stored."]
    ]


def test_the_doctor_checks_the_database(shell: InteractiveShell, pg_dsn: str) -> None:
    magic(shell, f"store {pg_dsn} --key {KEY}")
    ask(shell, "A question", "An answer.")
    report = magic(shell, "doctor")
    (line,) = [line for line in report.splitlines() if " store: " in line]
    assert line.startswith("ok   store: PostgreSQL postgresql://")
    assert "1 threads" in line
    assert password(pg_dsn) not in report
    # A database that went away since: the doctor says so, naming it, password masked.
    configure(store=f"postgresql://alice:hunter2@127.0.0.1:{free_port()}/team")
    report = magic(shell, "doctor")
    (line,) = [line for line in report.splitlines() if " store: " in line]
    assert line.startswith("FAIL store: Cannot connect")
    assert "hunter2" not in report


def test_a_panel_shows_what_another_kernel_adds_to_the_database(
    shell: InteractiveShell, pg_dsn: str
) -> None:
    magic(shell, f"store {pg_dsn} --key {KEY}")
    panel = shell.run_line_magic("chat", "")
    panel.wait()

    async def another_kernel(thread_id: str | None, text: str) -> str:
        store = PostgresStore(pg_dsn, notebook_key=KEY)
        server = NotebookChatServer(store, model=ScriptedModel([[assistant_message(text)]]))
        client = ChatClient(server, NotebookContext(user="alice"))
        try:
            if thread_id is None:
                created, _ = await client.create("From the other kernel")
                return created
            await client.send(thread_id, "And again")
            return thread_id
        finally:
            await store.aclose()

    thread_id = asyncio.run(another_kernel(None, "Answered elsewhere."))
    assert wait_for_options(panel, thread_id)
    panel.open_thread(thread_id)
    panel.wait()
    assert "Answered elsewhere." in html_of(panel)
    asyncio.run(another_kernel(thread_id, "A second answer from elsewhere."))
    assert wait_for_html(panel, "A second answer from elsewhere.", timeout=10)
    panel.close()


def test_copy_to_moves_threads_between_a_file_and_the_database_and_back(
    shell: InteractiveShell, tmp_path: Path, pg_dsn: str
) -> None:
    ask(shell, "First", "One.")
    shell.run_line_magic("chatkit", "new")
    ask(shell, "Second", "Two.")
    in_file = texts(NotebookStore(tmp_path / "nb.chatkit.json"))
    said = magic(shell, f"store --copy-to {pg_dsn} --key {KEY}")
    assert said.startswith("Copied 2 new threads and 6 new items from ")
    assert password(pg_dsn) not in said
    again = magic(shell, f"store --copy-to {pg_dsn} --key {KEY}")
    assert again.startswith("Nothing new to copy from "), again
    assert "2 threads were there already" in again
    assert texts(PostgresStore(pg_dsn, notebook_key=KEY)) == in_file
    # And back, from the database to a new file.
    magic(shell, f"store {pg_dsn} --key {KEY}")
    assert session().current_thread() in in_file  # the current thread travelled with its threads
    said = magic(shell, f"store --copy-to {tmp_path / 'back.chatkit.json'}")
    assert said.startswith("Copied 2 new threads")
    assert texts(NotebookStore(tmp_path / "back.chatkit.json")) == in_file
    said = magic(shell, f"store --copy-to {pg_dsn} --key {KEY}")
    assert said.startswith("chatkit: ")
    assert "is the store in use" in said
