"""%load_ext chatkit_notebook, %chat and %%chat on a real IPython shell."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from agents.testing import ScriptedModel, assistant_message, function_call
from chatkit.types import AssistantMessageItem, UserMessageItem
from fake_openai import FakeOpenAI, Gate, Turn, unreachable_url
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output
from stored import stored_items

import chatkit_notebook
from chatkit_notebook import NotebookContext
from chatkit_notebook.kernel.session import ChatSession
from chatkit_notebook.stores.file import NotebookStore


@pytest.fixture(name="shell")
def shell_fixture(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[InteractiveShell]:
    monkeypatch.setenv("CHATKIT_NOTEBOOK_STORE", str(tmp_path / "nb.chatkit.json"))
    ip = InteractiveShell.instance()
    ip.run_line_magic("load_ext", "chatkit_notebook")
    yield ip
    ip.run_line_magic("unload_ext", "chatkit_notebook")


def session() -> ChatSession:
    loaded = chatkit_notebook.kernel.session.loaded()
    assert loaded is not None
    return loaded


def markdown_outputs(captured: object) -> list[str]:
    """The Markdown outputs that stay in the cell (display updates, the preview, do not),
    without the receipt line that ends each answer (its own test checks it)."""
    return [
        o.data["text/markdown"].split("\n\n*Sent to ")[0]
        for o in captured.outputs  # type: ignore[attr-defined]
        if o.data.get("text/markdown") and not o.update
    ]


def stored(tmp_path: Path) -> list[object]:
    """The items of the one thread in the session's store file, but for the receipts."""
    return list(stored_items(tmp_path / "nb.chatkit.json", receipts=False))


def test_chat_question_answers_in_the_cell_and_stores_the_thread(
    shell: InteractiveShell, tmp_path: Path
) -> None:
    session().server().model = ScriptedModel([[assistant_message("**North** sold most.")]])
    with capture_output() as captured:
        shell.run_line_magic("chat", "Which region sold most? Don't guess -- read `df`.")
    assert markdown_outputs(captured) == ["**North** sold most."]  # the final, plain output
    final = [o for o in captured.outputs if o.data.get("text/markdown")][-1]
    answer, receipt = final.data["text/plain"].split("\n\n")  # what a terminal IPython shows
    assert answer == "**North** sold most."
    # What left the kernel, in one line: the model, the characters and what they are made
    # of; nothing was read, so nothing about secrets redacted in it.
    assert re.fullmatch(
        r"\*Sent to ScriptedModel · [\d,]+ characters: instructions [\d,]+ · "
        r"conversation [\d,]+ · Tokens: n/a \(the endpoint reported no usage\)\*",
        receipt,
    )
    assert "Threads are stored in" in captured.stdout  # said once, on the first turn
    items = stored(tmp_path)
    assert [type(i).__name__ for i in items] == ["UserMessageItem", "AssistantMessageItem"]
    assert isinstance(items[0], UserMessageItem)
    assert items[0].content[0].text == "Which region sold most? Don't guess -- read `df`."


def test_the_emptied_preview_is_replaced_not_rendered_empty(shell: InteractiveShell) -> None:
    """The preview is emptied as a new kind of output: JupyterLab renders Markdown into the
    element it had, asynchronously, so an empty Markdown update could land before the
    preview's last text and leave it on screen above the answer (seen twice in a cell)."""
    session().server().model = ScriptedModel([[assistant_message("Done.")]])
    with capture_output() as captured:
        shell.run_line_magic("chat", "Go")
    updates = [o.data for o in captured.outputs if o.update]
    assert updates, "the preview was never shown"
    assert "text/markdown" in updates[0]  # the preview itself is Markdown
    emptied = updates[-1]
    assert "text/markdown" not in emptied, emptied
    assert not any(emptied.values()), emptied  # and shows nothing, in nbconvert too


def test_the_answer_says_what_the_agent_read(shell: InteractiveShell) -> None:
    shell.user_ns["sales"] = [120, 80, 95]
    session().server().model = ScriptedModel(
        [
            [function_call("describe_variable", {"name": "sales"}, call_id="c1")],
            [assistant_message("Three numbers.")],
        ]
    )
    with capture_output() as captured:
        shell.run_line_magic("chat", "What is in sales")
    (output,) = markdown_outputs(captured)
    read, answer = output.split("\n\n")
    assert read.startswith("*Read `sales`")
    assert "120" not in read  # what was read is named, never shown
    assert answer == "Three numbers."


def test_cell_magic_sends_the_cell_and_continues_the_thread(
    shell: InteractiveShell, tmp_path: Path
) -> None:
    session().server().model = ScriptedModel(
        [[assistant_message("one")], [assistant_message("two")]]
    )
    with capture_output():
        shell.run_line_magic("chat", "first")
    with capture_output() as captured:
        shell.run_cell_magic("chat", "", "Explain this code:\n\nfor x in range(3):\n    print(x)\n")
    assert markdown_outputs(captured) == ["two"]
    assert "Threads are stored in" not in captured.stdout
    users = [i for i in stored(tmp_path) if isinstance(i, UserMessageItem)]
    assert users[1].content[0].text.startswith("Explain this code:\n\nfor x in range(3):")
    assert len([i for i in stored(tmp_path) if isinstance(i, AssistantMessageItem)]) == 2


def test_the_preview_shows_the_text_so_far_while_the_model_pauses(
    shell: InteractiveShell, fake_openai: FakeOpenAI
) -> None:
    # The preview is throttled; text held back by the throttle must still show when the
    # model goes quiet (thinking, or calling a tool), not only when the next piece comes.
    from chatkit_notebook.config import configure

    gate = Gate()
    fake_openai.script(Turn.text(["It ", "was ", "a ", "dark ", "night."]).paced(gate))
    configure(model="test-model", base_url=fake_openai.root_url, max_retries=0)
    shown: list[bool] = []

    def pace(captured: object) -> None:
        def wait_for_preview(text: str) -> bool:
            poll = threading.Event()  # never set: its wait is the polling interval
            for _ in range(3000):  # up to 30 s, a hang detector
                outputs = captured.outputs  # type: ignore[attr-defined]
                if any(o.data.get("text/markdown") == text for o in outputs):
                    return True
                poll.wait(0.01)
            return False

        gate.allow()
        shown.append(wait_for_preview("It "))
        gate.allow()  # lands within the throttle's interval of the last update: held back
        shown.append(wait_for_preview("It was "))  # the model is quiet now
        gate.open()

    with capture_output() as captured:
        pacer = threading.Thread(target=pace, args=(captured,))
        pacer.start()
        shell.run_line_magic("chat", "Tell me a story")
        pacer.join()
    assert shown == [True, True]
    assert markdown_outputs(captured)[-1] == "It was a dark night."


def test_a_question_mark_at_the_end_asks_instead_of_asking_for_help(
    shell: InteractiveShell, tmp_path: Path
) -> None:
    # Through run_cell, so IPython's input transformers run as in a notebook cell.
    session().server().model = ScriptedModel([[assistant_message("August.")]])
    with capture_output() as captured:
        shell.run_cell("%chat Which month is the driest?")
    assert markdown_outputs(captured) == ["August."]
    assert "not found" not in captured.stdout
    users = [i for i in stored(tmp_path) if isinstance(i, UserMessageItem)]
    assert users[0].content[0].text == "Which month is the driest?"


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("%chat Why?", "get_ipython().run_line_magic('chat', 'Why?')\n"),
        (
            'for _ in range(2):\n    %chat Is it "ok"? \n',
            "for _ in range(2):\n    get_ipython().run_line_magic('chat', 'Is it \"ok\"?')\n",
        ),
        ("%chat?", "%chat?"),  # help on the magic itself
        ("%chat??", "%chat??"),
        ("%chatkit threads?", "%chatkit threads?"),
        ("%chat No question here.", "%chat No question here."),
        ("x = 1  # %chat what?", "x = 1  # %chat what?"),
        ("%%chat\n%chat in the message body?\n", "%%chat\n%chat in the message body?\n"),
    ],
)
def test_the_question_mark_transform_touches_only_chat_questions(cell: str, expected: str) -> None:
    from chatkit_notebook.kernel.magics import keep_question_marks

    assert "".join(keep_question_marks(cell.splitlines(keepends=True))) == expected


def test_in_a_terminal_the_answer_is_written_once_as_it_streams(
    shell: InteractiveShell, capsys: pytest.CaptureFixture[str]
) -> None:
    # A terminal IPython prints every display update anew, so %chat writes the text itself.
    session().server().model = ScriptedModel([[assistant_message("The **answer** is 42.")]])
    shell.run_line_magic("chat", "What is it")
    out = capsys.readouterr().out
    assert out.count("The **answer** is 42.") == 1
    answer, receipt = out.rsplit("\n\n", 1)
    assert answer.endswith("The **answer** is 42.")
    assert receipt.startswith("*Sent to ScriptedModel · ")
    assert receipt.endswith("*\n")
    assert "secrets redacted" not in receipt  # it read nothing


def test_chat_without_a_question_shows_the_panel(shell: InteractiveShell) -> None:
    from chatkit_notebook.panel.panel import ChatPanel

    panel = shell.run_line_magic("chat", "")
    assert isinstance(panel, ChatPanel)
    panel.wait()


def test_errors_are_one_line_not_a_traceback(shell: InteractiveShell) -> None:
    with capture_output() as captured:
        shell.run_line_magic("chat", "hello")
    assert "chat: No OpenAI API key: set OPENAI_API_KEY" in captured.stdout
    assert "Traceback" not in captured.stdout + captured.stderr


def test_reload_leaves_one_loop_thread(shell: InteractiveShell) -> None:
    session().server().model = ScriptedModel([[assistant_message("a")], [assistant_message("b")]])
    with capture_output():
        shell.run_line_magic("chat", "warm up")  # starts the loop thread
    shell.run_line_magic("reload_ext", "chatkit_notebook")
    session().server().model = ScriptedModel([[assistant_message("c")]])
    with capture_output():
        shell.run_line_magic("chat", "again")
    loops = [t for t in threading.enumerate() if t.name == "chatkit-notebook-loop" and t.is_alive()]
    assert len(loops) == 1
    magics = shell.magics_manager.magics
    for handler in (magics["line"]["chat"], magics["line"]["chatkit"], magics["cell"]["chat"]):
        assert handler.__self__.session is session()  # no handler left on the old session
    names = [getattr(t, "__name__", "") for t in shell.input_transformers_cleanup]
    assert names.count("keep_question_marks") == 1


def test_a_panel_from_before_a_reload_runs_on_the_new_loop(shell: InteractiveShell) -> None:
    old_panel = shell.run_line_magic("chat", "")
    old_panel.wait()
    shell.run_line_magic("reload_ext", "chatkit_notebook")
    shell.run_line_magic("chat", "").wait()
    old_panel.refresh().result(timeout=60)  # a click on the panel left in the notebook
    loops = [t for t in threading.enumerate() if t.name == "chatkit-notebook-loop" and t.is_alive()]
    assert len(loops) == 1  # the old panel did not restart the stopped loop


def test_unload_removes_every_magic_and_the_loop_thread(shell: InteractiveShell) -> None:
    session().server().model = ScriptedModel([[assistant_message("a")]])
    with capture_output():
        shell.run_line_magic("chat", "warm up")
    shell.run_line_magic("unload_ext", "chatkit_notebook")
    try:
        magics = shell.magics_manager.magics
        assert "chat" not in magics["line"]
        assert "chatkit" not in magics["line"]
        assert "chat" not in magics["cell"]
        assert "ChatMagics" not in shell.magics_manager.registry
        names = [getattr(t, "__name__", "") for t in shell.input_transformers_cleanup]
        assert "keep_question_marks" not in names
        assert not [t for t in threading.enumerate() if t.name == "chatkit-notebook-loop"]
    finally:
        shell.run_line_magic("load_ext", "chatkit_notebook")  # the fixture unloads it again


def test_unload_leaves_no_session_main_thread_hook_or_cell_listeners(
    shell: InteractiveShell,
) -> None:
    from chatkit_notebook import runtime
    from chatkit_notebook.kernel import session as sessions

    assert runtime._main_thread is not None  # a %chat cell's wait runs the agent's code
    callbacks = {event: list(shell.events.callbacks[event]) for event in ("pre_execute",)}
    shell.run_line_magic("unload_ext", "chatkit_notebook")
    try:
        assert sessions.loaded() is None
        assert runtime._main_thread is None
        left = [
            c for c in shell.events.callbacks["pre_execute"] if c not in callbacks["pre_execute"]
        ]
        assert left == []
        assert len(shell.events.callbacks["pre_execute"]) < len(callbacks["pre_execute"])
    finally:
        shell.run_line_magic("load_ext", "chatkit_notebook")


def run(shell: InteractiveShell, line: str) -> tuple[str, list[str]]:
    with capture_output() as captured:
        shell.run_line_magic("chatkit", line)
    return captured.stdout, markdown_outputs(captured)


def test_chatkit_threads_new_use_rename_delete(shell: InteractiveShell) -> None:
    session().server().model = ScriptedModel([[assistant_message(t)] for t in ("a", "b", "c")])
    out, _ = run(shell, "threads")
    assert "No threads yet" in out
    with capture_output():
        shell.run_line_magic("chat", "first question")
    first = session().current_thread()
    out, _ = run(shell, "new Sales deep dive")
    assert "next question starts a new thread" in out
    with capture_output():
        shell.run_line_magic("chat", "second question")
    second = session().current_thread()
    assert second != first
    _, tables = run(shell, "threads")
    assert "Sales deep dive" in tables[0]  # the title given to `new`
    assert "| * | Sales deep dive" in tables[0]  # marks the current thread
    run(shell, f"use {first}")
    assert session().current_thread() == first
    out, _ = run(shell, "rename Regions 'Q3'")
    assert 'Renamed to "Regions Q3"' in out or "Renamed to 'Regions Q3'" in out
    out, _ = run(shell, f"delete {second}")
    assert f"Deleted {second}" in out
    _, tables = run(shell, "threads")
    assert "Sales deep dive" not in tables[0]
    assert "Regions Q3" in tables[0]


def test_chatkit_hide_and_show(shell: InteractiveShell) -> None:
    out, _ = run(shell, "hide customers api_config")
    assert "api_config, customers" in out
    assert session().context().hidden == {"customers", "api_config"}
    out, _ = run(shell, "show customers")
    assert session().context().hidden == {"api_config"}


def test_chatkit_export_writes_markdown(shell: InteractiveShell, tmp_path: Path) -> None:
    session().server().model = ScriptedModel([[assistant_message("North, by far.")]])
    with capture_output():
        shell.run_line_magic("chat", "Which region?")
    target = tmp_path / "chat.md"
    run(shell, f"export {target}")
    question, answer, receipt, usage = target.read_text().split("\n\n")
    assert (question, answer) == ("**You:** Which region?", "North, by far.")
    assert receipt.startswith("*Sent to ScriptedModel · ")  # the receipt travels with it
    assert usage == "*Usage of this thread: 1 turn · tokens n/a*\n"  # and the thread's total


def test_chatkit_model_and_store(shell: InteractiveShell, tmp_path: Path) -> None:
    out, _ = run(shell, "model llama3.1 --base-url http://localhost:11434")
    assert "llama3.1 via http://localhost:11434/v1" in out
    out, _ = run(shell, "model x --base-url localhost")
    assert "chatkit: Base URL 'localhost' is not an http(s) URL" in out
    other = tmp_path / "elsewhere.chatkit.json"
    out, _ = run(shell, f"store {other}")
    assert f"Threads are stored in {other}" in out
    assert session().store().path == other


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("", "usage: %chatkit"),
        ("frobnicate", "invalid choice: 'frobnicate'"),
        ("use", "the following arguments are required: id"),
        ("use thr_missing", "chatkit: no thread 'thr_missing'"),
        ("rename", "the following arguments are required: title"),
        ("model --api soap", "invalid choice: 'soap'"),
        ("export", "chatkit: no current thread to export"),
        ("new 'unclosed", "chatkit: No closing quotation"),
    ],
)
def test_bad_arguments_give_one_line_of_usage(
    shell: InteractiveShell, line: str, expected: str
) -> None:
    out, _ = run(shell, line)
    assert expected in out
    assert "Traceback" not in out
    assert len(out.strip().splitlines()) == 1


def test_doctor_passes_against_a_working_endpoint(
    shell: InteractiveShell, fake_openai: FakeOpenAI
) -> None:
    from chatkit_notebook.config import configure

    fake_openai.script(Turn.tool_call("ping", {}), Turn.text("OK", chunks=2))
    configure(model="test-model", base_url=fake_openai.root_url, max_retries=0)
    out, _ = run(shell, "doctor")
    assert "FAIL" not in out
    assert "ok   endpoint:" in out
    assert "including test-model" in out
    assert "called the tool and streamed" in out
    assert "ok   store:" in out


def test_doctor_names_each_failure_and_its_fix(shell: InteractiveShell) -> None:
    from chatkit_notebook.config import configure, reset_configuration

    configure(model="llama3.1", base_url=unreachable_url(), max_retries=0)
    out, _ = run(shell, "doctor")
    assert "FAIL endpoint:" in out
    assert "fix: start the server" in out
    assert "skip model answers" in out
    reset_configuration()  # back to an environment with no key and no endpoint
    out, _ = run(shell, "doctor")
    assert "FAIL API key: no OpenAI API key" in out
    assert "fix: set OPENAI_API_KEY" in out


def restart(shell: InteractiveShell, *answers: str) -> None:
    """A new session on the same store, as after a kernel restart: nothing kept in memory."""
    shell.run_line_magic("reload_ext", "chatkit_notebook")
    session().server().model = ScriptedModel([[assistant_message(a)] for a in answers])


def thread_ids(tmp_path: Path) -> list[str]:
    import asyncio

    async def load() -> list[str]:
        store = NotebookStore(tmp_path / "nb.chatkit.json")
        return [t.id for t in (await store.load_threads(50, None, "desc", NotebookContext())).data]

    return asyncio.run(load())


def test_chat_after_a_restart_continues_the_last_thread(
    shell: InteractiveShell, tmp_path: Path
) -> None:
    session().server().model = ScriptedModel([[assistant_message("one")]])
    with capture_output():
        shell.run_line_magic("chat", "first question")
    (first,) = thread_ids(tmp_path)
    restart(shell, "two")
    with capture_output():
        shell.run_line_magic("chat", "second question")  # Run All again: no duplicate thread
    assert thread_ids(tmp_path) == [first]
    assert len(stored(tmp_path)) == 4
    restart(shell, "three")
    run(shell, "new")  # a fresh thread, and that choice survives a restart too
    restart(shell, "three")
    assert session().current_thread() is None
    with capture_output():
        shell.run_line_magic("chat", "third question")
    assert len(thread_ids(tmp_path)) == 2
    restart(shell)
    assert session().current_thread() == thread_ids(tmp_path)[0]  # the newest, last used


def test_a_new_panel_opens_the_thread_used_last(shell: InteractiveShell, tmp_path: Path) -> None:
    session().server().model = ScriptedModel([[assistant_message("first answer")]])
    with capture_output():
        shell.run_line_magic("chat", "first question")
    restart(shell, "second answer")
    panel = shell.run_line_magic("chat", "")
    panel.wait()
    assert panel.thread_id == thread_ids(tmp_path)[0]
    panel._bar.new_button.click()  # the panel's New is remembered as well
    panel.wait()
    restart(shell)
    assert session().current_thread() is None
    fresh = shell.run_line_magic("chat", "")
    fresh.wait()
    assert fresh.thread_id is None
    fresh._bar.threads.value = thread_ids(tmp_path)[0]  # picking a thread makes it current
    fresh.wait()
    restart(shell)
    assert session().current_thread() == thread_ids(tmp_path)[0]


def test_a_panel_shows_what_chat_and_another_panel_add(
    shell: InteractiveShell, tmp_path: Path
) -> None:
    from test_panel import html_of, wait_for_html

    session().server().model = ScriptedModel(
        [[assistant_message("from the cell")], [assistant_message("from panel one")]]
    )
    one = shell.run_line_magic("chat", "")
    two = shell.run_line_magic("chat", "")
    one.wait()
    two.wait()
    with capture_output():
        shell.run_line_magic("chat", "asked in a cell")
    # Both panels pick up the new thread and its messages without a refresh.
    for panel in (one, two):
        assert wait_for_options(panel, session().current_thread())
    one.open_thread(session().current_thread() or "")
    one.wait()
    two.open_thread(session().current_thread() or "")
    two.wait()
    assert "from the cell" in html_of(two)
    one.send("asked in panel one")
    one.wait()
    assert wait_for_html(two, "from panel one", timeout=10)  # within a second or two
    assert "asked in panel one" in html_of(two)


def wait_for_options(panel: object, thread_id: str | None, timeout: float = 10) -> bool:
    seen = threading.Event()

    def check(_: object = None) -> None:
        if thread_id in {v for _, v in panel._bar.threads.options}:  # type: ignore[attr-defined]
            seen.set()

    panel._bar.threads.observe(check, names="options")  # type: ignore[attr-defined]
    check()
    return seen.wait(timeout)


def test_the_warm_up_imports_run_between_cells_never_beside_the_users_code(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Two threads importing the Agents SDK at once can fail half-way (KeyError: 'agents'),
    # so the warm-up starts when the loading cell ends and the next cell waits for it.
    monkeypatch.setenv("CHATKIT_NOTEBOOK_STORE", str(tmp_path / "nb.chatkit.json"))
    started, finished = threading.Event(), threading.Event()

    def warm_up() -> None:
        started.set()
        finished.set()

    monkeypatch.setattr(chatkit_notebook, "_warm_up", warm_up)
    ip = InteractiveShell.instance()
    ip.user_ns.update(started=started, finished=finished)
    try:
        ip.run_cell("%load_ext chatkit_notebook\nduring_the_loading_cell = started.is_set()")
        ip.run_cell("in_the_next_cell = finished.is_set()")
        assert ip.user_ns["during_the_loading_cell"] is False
        assert ip.user_ns["in_the_next_cell"] is True
        # Done with: the next cells do not wait on anything.
        assert not [c for c in ip.events.callbacks["pre_execute"] if c.__name__ == "finish"]
        assert not [c for c in ip.events.callbacks["post_execute"] if c.__name__ == "start"]
    finally:
        ip.run_line_magic("unload_ext", "chatkit_notebook")


def test_chat_asks_at_a_terminal_before_running_code(
    shell: InteractiveShell, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # A terminal IPython: plain stdout, no kernel (capsys, not capture_output, which
    # would make it a cell with no one to ask).
    ran: list[int] = []
    shell.user_ns["note"] = ran.append
    session().server().model = ScriptedModel(
        [
            [function_call("run_python", {"code": "note(1)\n6 * 7"}, call_id="c1")],
            [assistant_message("It is 42.")],
            [function_call("run_python", {"code": "import os\nnote(2)"}, call_id="c2")],
            [assistant_message("Then I will not.")],
        ]
    )
    replies = iter(["y", "n"])
    asked: list[str] = []

    def answer(prompt: str) -> str:
        asked.append(prompt)
        return next(replies)

    monkeypatch.setattr("builtins.input", answer)
    shell.run_line_magic("chat", "What is six times seven?")
    out = capsys.readouterr().out
    assert ran == [1]
    assert asked == ["Run this code? [y/N] "]
    assert "note(1)" in out  # the code is shown before the question
    assert "It is 42." in out
    shell.run_line_magic("chat", "Now look at the files")
    out = capsys.readouterr().out
    assert ran == [1]  # declined
    assert "imports os: the operating system" in out  # what it reaches, said
    assert "Then I will not." in out


def test_nobody_to_ask_declines_and_says_how_to_allow_it(shell: InteractiveShell) -> None:
    # Output captured as a cell's, and no kernel front end to click: as under nbclient.
    ran: list[int] = []
    shell.user_ns["note"] = ran.append
    model = ScriptedModel(
        [
            [function_call("run_python", {"code": "note(1)"}, call_id="c1")],
            [assistant_message("I could not run it.")],
        ]
    )
    session().server().model = model
    with capture_output() as captured:
        shell.run_line_magic("chat", "Count them")
    assert ran == []
    (shown,) = [
        o.data["text/markdown"]
        for o in captured.outputs
        if o.data.get("text/markdown") and not o.update  # the answer, not the preview
    ]
    assert "I could not run it." in shown
    # The saved cell says what became of the code, and how to allow it, in its own words.
    assert "*Python: Not run at " in shown
    assert "nobody could approve it here" in shown
    assert "`%chatkit run auto`" in shown
    told = str(model.calls[1].input)
    assert "nobody could give it here" in told
    assert "%chatkit run auto" in told


def test_chatkit_run_switches_the_mode_and_says_what_auto_means(shell: InteractiveShell) -> None:
    from chatkit_notebook.config import run_settings

    with capture_output() as captured:
        shell.run_line_magic("chatkit", "run")
    assert "after you approve each call" in captured.stdout
    with capture_output() as captured:
        shell.run_line_magic("chatkit", "run auto")
    assert run_settings().mode == "auto"
    assert "WITHOUT asking" in captured.stdout
    assert "can read and write files" in captured.stdout
    with capture_output() as captured:
        shell.run_line_magic("chatkit", "run sometimes")
    assert "invalid choice: 'sometimes'" in captured.stdout
    assert run_settings().mode == "auto"


def test_chatkit_insert_puts_the_code_the_agent_ran_into_the_cell(
    shell: InteractiveShell, monkeypatch: pytest.MonkeyPatch
) -> None:
    chatkit_notebook.configure(run_python="auto")
    session().server().model = ScriptedModel(
        [
            [function_call("run_python", {"code": "total = 6 * 7\ntotal"}, call_id="c1")],
            [assistant_message("42. Or by hand:\n\n```python\nprint(6 * 7)\n```")],
        ]
    )
    inserted: list[tuple[str, bool]] = []
    monkeypatch.setattr(
        shell, "set_next_input", lambda text, replace=False: inserted.append((text, replace))
    )
    with capture_output():
        shell.run_line_magic("chat", "Six times seven?")
        shell.run_line_magic("chatkit", "insert")
        shell.run_line_magic("chatkit", "insert 1")
    assert inserted == [("total = 6 * 7\ntotal", True), ("print(6 * 7)\n", True)]
    with capture_output() as captured:
        shell.run_line_magic("chatkit", "insert 3")
    assert "the last answer has 1 code block, so there is no block 3" in captured.stdout


def test_chat_leaves_the_figure_in_the_cell_as_png(shell: InteractiveShell) -> None:
    import base64

    import matplotlib

    matplotlib.use("Agg")
    chatkit_notebook.configure(run_python="auto")
    plot = "import matplotlib.pyplot as plt\nplt.bar(['Jan', 'Feb'], [3.7, 3.7])"
    session().server().model = ScriptedModel(
        [
            [function_call("run_python", {"code": plot}, call_id="c1")],
            [assistant_message("Here it is.")],
        ]
    )
    with capture_output() as captured:
        shell.run_line_magic("chat", "Plot the rain")
    pngs = [o.data["image/png"] for o in captured.outputs if "image/png" in o.data]
    assert len(pngs) == 1
    assert base64.b64decode(pngs[0]).startswith(b"\x89PNG")  # a saved notebook keeps it
    assert markdown_outputs(captured)[0].endswith("Here it is.")


def test_the_readme_documents_every_chatkit_command_and_no_other() -> None:
    from chatkit_notebook.kernel.magics import COMMANDS

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    documented = set()
    for row in re.findall(r"^\| (`%chatkit [^|]*(?:\\\|[^|]*)*)\|", readme, re.MULTILINE):
        for usage in row.split(" / "):
            documented.add(usage.strip("` ").removeprefix("%chatkit ").split()[0])
    assert documented == set(COMMANDS)


def test_chatkit_help_shows_every_command(shell: InteractiveShell) -> None:
    from chatkit_notebook.kernel.magics import COMMANDS

    help_text = " ".join(shell.magics_manager.magics["line"]["chatkit"].__doc__.split())
    for name, command in COMMANDS.items():
        assert f"%chatkit {name}" in help_text
        assert command.help in help_text  # wrapped to the help's column
