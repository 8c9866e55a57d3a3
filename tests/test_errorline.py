"""The error tag, what the model and the panel make of it, and the fix's diff (no kernel).

The kernel side (the line under a failing cell, its click, ``%chatkit insert``) is in
``test_error_help_kernel.py``; the page, in ``browser/test_error_help_browser.py``.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from chatkit.types import InferenceOptions, UserMessageItem, UserMessageTextContent

from chatkit_notebook._items import error_tag
from chatkit_notebook.agent.server import NotebookConverter, title_for
from chatkit_notebook.panel.errorline import ErrorLine, diff_html, fix_diff
from chatkit_notebook.panel.views import UserMessageView


def _question(*content: object) -> UserMessageItem:
    return UserMessageItem(
        id="m",
        thread_id="t",
        created_at="2026-01-01T00:00:00",
        content=list(content),  # type: ignore[arg-type]
        inference_options=InferenceOptions(),
    )


def test_the_model_reads_the_error_and_where_to_look_and_the_title_is_the_question() -> None:
    tag = error_tag(7, "KeyError: 'regoin'")
    said = asyncio.run(NotebookConverter().tag_to_message_content(tag))
    question = _question(UserMessageTextContent(text="Why did cell [7] fail?"), tag)

    assert said["type"] == "input_text"
    assert said["text"].startswith("[Error in cell [7]: KeyError: 'regoin': the user asks")
    assert "the error cell [7] raised; last_error was read for you" in said["text"]
    assert "give the whole cell in one Python code block" in said["text"]  # what Use this fix takes
    assert title_for(question) == "Why did cell [7] fail?"


def test_the_panel_shows_the_attached_error_after_the_question_escaped() -> None:
    tag = error_tag(3, "<b>Bad</b>: m")
    shown = UserMessageView(_question(UserMessageTextContent(text="Why?"), tag)).widget.value

    assert 'Why?<span class="ck-tag ck-error-tag"' in shown
    assert "Error in cell [3]: &lt;b&gt;Bad&lt;/b&gt;: m</span>" in shown
    assert "@" not in shown
    assert "<b>" not in shown


def test_the_diff_shows_what_the_fix_takes_out_and_puts_in() -> None:
    source = "import pandas as pd\ntotal = df['regoin'].sum()\nprint(total)\n"
    fixed = "import pandas as pd\ntotal = df['region'].sum()\nprint(total)"

    lines = fix_diff(source, fixed, cell=7)

    assert lines[:2] == ["--- cell [7]", "+++ the fix"]
    assert "-total = df['regoin'].sum()" in lines
    assert "+total = df['region'].sum()" in lines
    assert " print(total)" in lines  # context, unchanged
    assert fix_diff(fixed, fixed) == []


def test_the_diff_html_escapes_every_line_and_classes_it() -> None:
    lines = fix_diff("x = '<script>alert(1)</script>'", "x = '<img src=x onerror=alert(1)>'")

    page = diff_html(lines)

    assert "<script" not in page
    assert "<img" not in page
    assert '<div class="ck-diff-del">-x = &#x27;&lt;script&gt;' in page
    assert '<div class="ck-diff-add">+x = &#x27;&lt;img' in page
    assert page.count('class="ck-diff-head"') == 2
    assert page.count('class="ck-diff-hunk"') == 1


def test_the_line_hosts_the_panel_then_offers_the_fix_and_shows_it_on_click() -> None:
    asked: list[ErrorLine] = []
    line = ErrorLine(asked.append)
    start = len(line.children)

    line.ask_button.click()
    line.host(ErrorLine(lambda _: None))  # any widget stands for the panel
    line.offer_fix(fix_diff("a = 1", "a = 2"))
    assert line.fix_button is not None
    before = line._fix_shown.value if line._fix_shown is not None else None
    line.fix_button.click()

    assert asked == [line]
    assert line.ask_button.disabled
    assert line.ask_button.description == "Asked below"
    assert len(line.children) == start + 2
    assert before == ""
    assert line._fix_shown is not None
    assert "+a = 2" in line._fix_shown.value
    assert "%chatkit insert" in line._fix_shown.value


def test_a_click_that_fails_says_so_on_the_line_and_can_be_tried_again() -> None:
    def broken(line: ErrorLine) -> None:
        raise RuntimeError("no store")

    line = ErrorLine(broken)
    line.ask_button.click()

    assert not line.ask_button.disabled
    assert "Could not ask: no store" in line._note.value


def test_insert_diffs_against_the_cell_asked_about_and_not_a_later_one_of_its_number() -> None:
    from types import SimpleNamespace

    from chatkit_notebook.kernel.errorhelp import AskedError, fix_for_insert, source_digest
    from chatkit_notebook.previews.cells import CellRecord

    failing, other = "df['regoin']", "print('another cell')"
    record = CellRecord()
    record.finished(7, failing)
    session: Any = SimpleNamespace(cells=record, shell=SimpleNamespace(history_manager=None))
    asked = AskedError(cell=7, digest=source_digest(failing))

    lines = fix_for_insert(session, asked, "df['region']")
    record.finished(7, other)  # a restart: cell [7] is another cell now
    after_restart = fix_for_insert(session, asked, "df['region']")

    assert "-df['regoin']" in lines
    assert after_restart == []
    assert fix_for_insert(session, None, "x") == []
    assert fix_for_insert(session, AskedError(cell=99, digest=None), "x") == []


async def test_the_fix_is_the_newest_answers_last_block_else_the_code_the_turn_ran(
    tmp_path: Path,
) -> None:
    from datetime import datetime, timedelta

    from chatkit.types import AssistantMessageContent, AssistantMessageItem, ThreadMetadata

    from chatkit_notebook import NotebookContext, NotebookStore
    from chatkit_notebook._items import tool_result_item
    from chatkit_notebook.kernel.errorhelp import Fix, proposed_fix

    store, context = NotebookStore(tmp_path / "t.chatkit.json"), NotebookContext()
    start = datetime(2026, 1, 1)
    await store.save_thread(ThreadMetadata(id="t", created_at=start), context)
    made = iter(range(1, 100))

    async def add(item: Any) -> None:
        item = item.model_copy(update={"created_at": start + timedelta(seconds=next(made))})
        await store.add_thread_item("t", item, context)

    def said(text: str, item_id: str) -> AssistantMessageItem:
        content = [AssistantMessageContent(text=text)]
        return AssistantMessageItem(id=item_id, thread_id="t", created_at=start, content=content)

    await add(_question(UserMessageTextContent(text="Why?")).model_copy(update={"id": "q1"}))
    await add(said("Try:\n\n```python\nold()\n```", "a0"))
    await add(tool_result_item("run_python", {"code": "ran()"}, "ok", thread_id="t", item_id="h"))
    await add(said("It ran cleanly on copies.", "a1"))
    ran = await proposed_fix(store, "t", context)
    await add(_question(UserMessageTextContent(text="Again?")).model_copy(update={"id": "q2"}))
    await add(said("```python\nfirst()\n```\n\n```python\nsecond()\n```", "a2"))
    blocks = await proposed_fix(store, "t", context)
    await add(_question(UserMessageTextContent(text="Thanks")).model_copy(update={"id": "q3"}))
    await add(said("You are welcome.", "a3"))
    nothing = await proposed_fix(store, "t", context)

    assert ran == Fix("ran()", "%chatkit insert")  # not the older answer's block
    assert blocks == Fix("second()\n", "%chatkit insert 2")  # as `%chatkit insert 2` puts it
    assert nothing is None


def test_a_terminal_gets_the_insert_diff_as_text(capsys: Any) -> None:
    from types import SimpleNamespace

    from IPython.core.displaypub import DisplayPublisher

    from chatkit_notebook.kernel.magics import _show_diff

    terminal: Any = SimpleNamespace(display_pub=DisplayPublisher())
    _show_diff(terminal, fix_diff("df['regoin']", "df['region']", cell=4))
    _show_diff(terminal, [])  # nothing asked about: nothing said

    printed = capsys.readouterr().out.splitlines()
    assert printed[0] == "The fix changes cell [4] (now in this cell; run it to take it):"
    assert "-df['regoin']" in printed
    assert "+df['region']" in printed
    assert "<div" not in "".join(printed)
