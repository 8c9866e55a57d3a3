"""%load_ext chatkit_notebook, %chat and %%chat on a real IPython shell."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from agents.testing import ScriptedModel, assistant_message
from chatkit.types import AssistantMessageItem, UserMessageItem
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output

import chatkit_notebook
from chatkit_notebook import NotebookContext
from chatkit_notebook.store import NotebookStore


@pytest.fixture
def shell(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[InteractiveShell]:
    monkeypatch.setenv("CHATKIT_NOTEBOOK_STORE", str(tmp_path / "nb.chatkit.json"))
    ip = InteractiveShell.instance()
    ip.run_line_magic("load_ext", "chatkit_notebook")
    yield ip
    ip.run_line_magic("unload_ext", "chatkit_notebook")


def session() -> chatkit_notebook.magics.ChatSession:
    assert chatkit_notebook._session is not None
    return chatkit_notebook._session  # type: ignore[no-any-return]


def markdown_outputs(captured: object) -> list[str]:
    return [
        o.data["text/markdown"]
        for o in captured.outputs  # type: ignore[attr-defined]
        if o.data.get("text/markdown")
    ]


def stored(tmp_path: Path) -> list[object]:
    import asyncio

    async def load() -> list[object]:
        store = NotebookStore(tmp_path / "nb.chatkit.json")
        (thread,) = (await store.load_threads(5, None, "desc", NotebookContext())).data
        return list(
            (await store.load_thread_items(thread.id, None, 50, "asc", NotebookContext())).data
        )

    return asyncio.run(load())


def test_chat_question_answers_in_the_cell_and_stores_the_thread(
    shell: InteractiveShell, tmp_path: Path
) -> None:
    session().server.model = ScriptedModel([[assistant_message("**North** sold most.")]])
    with capture_output() as captured:
        shell.run_line_magic("chat", "Which region sold most? Don't guess -- read `df`.")
    assert markdown_outputs(captured) == ["**North** sold most."]  # the final, plain output
    assert "Threads are stored in" in captured.stdout  # said once, on the first turn
    items = stored(tmp_path)
    assert [type(i).__name__ for i in items] == ["UserMessageItem", "AssistantMessageItem"]
    assert isinstance(items[0], UserMessageItem)
    assert items[0].content[0].text == "Which region sold most? Don't guess -- read `df`."


def test_cell_magic_sends_the_cell_and_continues_the_thread(
    shell: InteractiveShell, tmp_path: Path
) -> None:
    session().server.model = ScriptedModel([[assistant_message("one")], [assistant_message("two")]])
    with capture_output():
        shell.run_line_magic("chat", "first")
    with capture_output() as captured:
        shell.run_cell_magic("chat", "", "Explain this code:\n\nfor x in range(3):\n    print(x)\n")
    assert markdown_outputs(captured) == ["two"]
    assert "Threads are stored in" not in captured.stdout
    users = [i for i in stored(tmp_path) if isinstance(i, UserMessageItem)]
    assert users[1].content[0].text.startswith("Explain this code:\n\nfor x in range(3):")
    assert len([i for i in stored(tmp_path) if isinstance(i, AssistantMessageItem)]) == 2


def test_chat_without_a_question_shows_the_panel(shell: InteractiveShell) -> None:
    from chatkit_notebook.panel import ChatPanel

    panel = shell.run_line_magic("chat", "")
    assert isinstance(panel, ChatPanel)
    panel.wait()


def test_errors_are_one_line_not_a_traceback(
    shell: InteractiveShell, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    with capture_output() as captured:
        shell.run_line_magic("chat", "hello")
    assert "chat: No OpenAI API key: set OPENAI_API_KEY" in captured.stdout
    assert "Traceback" not in captured.stdout + captured.stderr


def test_reload_leaves_one_loop_thread(shell: InteractiveShell) -> None:
    session().server.model = ScriptedModel([[assistant_message("a")], [assistant_message("b")]])
    with capture_output():
        shell.run_line_magic("chat", "warm up")  # starts the loop thread
    shell.run_line_magic("reload_ext", "chatkit_notebook")
    session().server.model = ScriptedModel([[assistant_message("c")]])
    with capture_output():
        shell.run_line_magic("chat", "again")
    loops = [t for t in threading.enumerate() if t.name == "chatkit-notebook-loop" and t.is_alive()]
    assert len(loops) == 1
    assert "chat" in shell.magics_manager.magics["line"]
