"""The panel's everyday habits, as a person meets them, in JupyterLab and in Notebook 7.

``panel_habits.ipynb`` loads the real extension (``%load_ext chatkit_notebook``), gives its
session an offline scripted model (``habits_chat.py``: every answer is the same Markdown,
streamed word by word), defines ``sales``, a hidden ``payroll`` (``%chatkit hide``) and a
secret-looking ``openai_api_key``, and shows two panels with ``%chat``. Each test runs it in
a fresh server with a fresh store and drives the first panel with the keyboard and mouse:

- Enter sends, an answer streams back, and the box is empty and keeps the focus; the next
  question goes alone; the front end never runs or leaves the cell;
- Shift+Enter makes a new line and sends nothing, and the front end does not take it as its
  own Shift+Enter (run the cell and select the next);
- Copy puts the answer's Markdown on the clipboard, a code block's Copy only its code;
- ``@`` offers ``sales`` with its type and shape, never ``payroll`` or the key; the pick is
  sent as a tag, and the turn's receipt, opened, says ``sales`` was read;
- a thread made in the first panel shows in the second panel's list with no click there,
  and after Kernel > Restart Kernel and Run All Cells both panels open it again.

These tests found four bugs, now fixed: the question just sent came back into the box
(a ``value`` update ipywidgets held back arrived after the submit), Copy copied nothing,
JupyterLab cancelled the line break of Shift+Enter, and a tagged ``@name`` showed twice.

Every wait is on a DOM condition; its timeout only turns a hang into a failure. The panel
after the ``@`` turn, receipt open, is saved as ``habits-lab.png`` / ``habits-notebook7.png``
in the artifacts directory (the test's ``tmp_path/artifacts``, or
``$CHATKIT_BROWSER_ARTIFACTS/<frontend>/<test>``) and copied to ``$CHATKIT_SHOTS_DIR`` if
set. A failure leaves a page screenshot, the cell outputs, the page's console and the server
log there.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from . import habits_chat
from ._page import FRONTENDS, KERNEL_TIMEOUT_MS, open_notebook, save_shot
from .conftest import Jupyter

NOTEBOOK = "panel_habits.ipynb"
SECOND_PANEL_MS = 5_000  # the panels look at the store twice a second: "within a few seconds"

TIMES = " \u00d7 "  # as shapes are written: 3 x 3 with a multiplication sign
FIRST = 0  # the panels, in notebook order
SECOND = 1

# The panel of index `i`, in the notebook's order; every script below starts with it.
PANEL_JS = "const panel = document.querySelectorAll('.ck-panel')[i];"

# A panel's composer, its messages and its state, measured in one go.
COMPOSER_JS = f"""(i) => {{
  {PANEL_JS}
  const box = panel.querySelector('.ck-input textarea');
  return {{
    value: box.value,
    focused: document.activeElement === box,
    users: [...panel.querySelectorAll('.ck-messages > .ck-user')].map((u) => u.innerText.trim()),
  }};
}}"""

# The panel is ready for a question: an empty chat, its composer and Send enabled.
READY_JS = f"""(i) => {{
  {PANEL_JS}
  return panel !== undefined && panel.querySelector('.ck-empty-state') !== null
    && panel.querySelector('.ck-input textarea:not([disabled])') !== null
    && panel.querySelector('.ck-send:not([disabled])') !== null;
}}"""

# The turn is over: `answers` answers, each finished (Copy shown), each with its receipt,
# and Send enabled again.
ANSWERED_JS = f"""([i, answers]) => {{
  {PANEL_JS}
  const done = [...panel.querySelectorAll('.ck-messages > .ck-assistant')]
    .filter((a) => a.querySelector('.ck-answer-tools:not([hidden])') !== null);
  const receipts = [...panel.querySelectorAll('details.ck-workflow-box > summary')]
    .filter((s) => s.textContent.startsWith('Sent to '));
  return done.length === answers && receipts.length === answers
    && panel.querySelector('.ck-send:not([disabled])') !== null;
}}"""

# From now on, note whether an answer of the panel was seen unfinished (text, no Copy yet).
RECORD_STREAMING_JS = f"""(i) => {{
  {PANEL_JS}
  window.__ckStreamed = false;
  new MutationObserver(() => {{
    for (const answer of panel.querySelectorAll('.ck-messages > .ck-assistant')) {{
      const tools = answer.querySelector('.ck-answer-tools');
      if (tools && tools.hidden && answer.innerText.trim()) window.__ckStreamed = true;
    }}
  }}).observe(panel, {{subtree: true, childList: true, characterData: true, attributes: true}});
}}"""

# Where the notebook is: which cell is active, each cell's execution prompt, and whether
# the panel is still the element it was when marked (the cell was not run again).
NOTEBOOK_JS = """() => {
  const cells = [...document.querySelectorAll('.jp-Notebook .jp-Cell')];
  const panel = document.querySelector('.ck-panel');
  return {
    active: cells.findIndex((c) => c.classList.contains('jp-mod-active')),
    prompts: cells.map((c) => (c.querySelector('.jp-InputPrompt') || {}).textContent || ''),
    samePanel: panel !== null && panel.__ckMark === true && panel.isConnected,
  };
}"""

# Record every label a button shows, so a short-lived "Copied" is not missed.
RECORD_LABELS_JS = """(button) => {
  button.__ckLabels = [button.textContent];
  new MutationObserver(() => button.__ckLabels.push(button.textContent))
    .observe(button, {subtree: true, childList: true, characterData: true});
}"""

# The @ menu is open; its rows as [name, "type shape", chosen].
MENTIONS_JS = f"""(i) => {{
  {PANEL_JS}
  // The menu floats over the page (a child of <body>); the box names it.
  const box = panel.querySelector('.ck-input textarea');
  const menu = document.getElementById(box.getAttribute('aria-controls') || '');
  if (menu === null || menu.hidden || !menu.isConnected) return null;
  return [...menu.querySelectorAll('.ck-mention')].map((row) => [
    row.querySelector('code').textContent,
    row.querySelector('.ck-mention-kind').textContent,
    row.classList.contains('ck-mention-chosen'),
  ]);
}}"""

# The picker of panel `i` lists a thread titled `title` (ipywidgets writes option labels
# with no-break spaces); optionally, it is the one picked.
LISTED_JS = """([i, title, picked]) => {
  const select = document.querySelectorAll('.ck-panel')[i].querySelector('.ck-threads select');
  const named = (o) => o.textContent.replace(/\\u00a0/g, ' ').startsWith(title + ' · ');
  return select !== null && (picked ? named(select.selectedOptions[0])
                                    : [...select.options].some(named));
}"""

# Both panels of the notebook are drawn anew (a restart cleared the marked ones).
NEW_PANELS_JS = """() => {
  const panels = [...document.querySelectorAll('.ck-panel')];
  return panels.length === 2 && panels.every((p) => p.__ckMark !== true);
}"""


@contextmanager
def _notebook(
    chromium: Any, jupyter: Jupyter, artifacts: Path, *, clipboard: bool = False
) -> Iterator[Any]:
    """The notebook run in a new browser context, its two panels shown and the first ready.

    On a failure, save what explains it. ``clipboard`` grants the page the clipboard.
    """
    with open_notebook(chromium, jupyter, NOTEBOOK, artifacts, clipboard=clipboard) as page:
        page.locator(".ck-panel").nth(SECOND).wait_for(timeout=KERNEL_TIMEOUT_MS)
        page.wait_for_function(READY_JS, arg=FIRST)
        yield page


def _composer(page: Any, panel: int = FIRST) -> Any:
    return page.locator(".ck-panel").nth(panel).locator(".ck-input textarea")


def _ask(page: Any, text: str, panel: int = FIRST) -> None:
    """Click into the panel's box, type ``text`` and press Enter."""
    _composer(page, panel).click()
    page.keyboard.type(text)
    page.keyboard.press("Enter")


def _answered(page: Any, answers: int, panel: int = FIRST) -> None:
    page.wait_for_function(ANSWERED_JS, arg=[panel, answers])


def _last_answer(page: Any, panel: int = FIRST) -> Any:
    return page.locator(".ck-panel").nth(panel).locator(".ck-messages > .ck-assistant").last


def _answer_text(page: Any, panel: int = FIRST) -> str:
    """The newest answer's text as shown (not its buttons)."""
    return str(_last_answer(page, panel).locator(".ck-answer-html").inner_text()).strip()


@pytest.mark.parametrize("frontend", FRONTENDS)
def test_enter_sends_and_leaves_the_box_empty_and_focused(
    chromium: Any, jupyter: Jupyter, artifacts: Path
) -> None:
    first, second = "Which region sold the most?", "And the least?"
    with _notebook(chromium, jupyter, artifacts) as page:
        page.evaluate("document.querySelector('.ck-panel').__ckMark = true")
        page.evaluate(RECORD_STREAMING_JS, FIRST)
        _composer(page).click()  # makes the panel's cell the active one
        before = page.evaluate(NOTEBOOK_JS)

        # Enter: the question goes and an answer streams back; the box is empty and keeps
        # the focus, and the front end did not take Enter as its own.
        page.keyboard.type(first)
        page.keyboard.press("Enter")
        _answered(page, 1)
        assert page.evaluate("window.__ckStreamed"), "the answer was never seen unfinished"
        assert _answer_text(page).endswith(habits_chat.ANSWER_END)
        composer = page.evaluate(COMPOSER_JS, FIRST)
        assert composer == {"value": "", "focused": True, "users": [first]}, composer
        assert page.evaluate(NOTEBOOK_JS) == before, "the cell was run or left"

        # The next question is typed straight away, and goes alone.
        page.keyboard.type(second)
        page.keyboard.press("Enter")
        _answered(page, 2)
        composer = page.evaluate(COMPOSER_JS, FIRST)
        assert composer == {"value": "", "focused": True, "users": [first, second]}, composer


@pytest.mark.parametrize("frontend", FRONTENDS)
def test_shift_enter_makes_a_new_line_and_sends_nothing(
    chromium: Any, jupyter: Jupyter, artifacts: Path
) -> None:
    question = "Which region sold the most?\nAnd by how much?"
    with _notebook(chromium, jupyter, artifacts) as page:
        page.evaluate("document.querySelector('.ck-panel').__ckMark = true")
        _composer(page).click()  # makes the panel's cell the active one
        before = page.evaluate(NOTEBOOK_JS)

        # Shift+Enter: a new line in the box; nothing sent, and the front end's own
        # Shift+Enter (run the cell, select the next) never sees it.
        line, rest = question.split("\n")
        page.keyboard.type(line)
        page.keyboard.press("Shift+Enter")
        page.keyboard.type(rest)
        composer = page.evaluate(COMPOSER_JS, FIRST)
        assert composer == {"value": question, "focused": True, "users": []}, composer
        assert page.evaluate(NOTEBOOK_JS) == before, "Shift+Enter ran or left the cell"

        # Enter sends both lines as one question: Shift+Enter had sent nothing.
        page.keyboard.press("Enter")
        _answered(page, 1)
        assert page.evaluate(COMPOSER_JS, FIRST)["users"] == [question]
        assert page.evaluate(NOTEBOOK_JS) == before, "the cell was run or left during the turn"


@pytest.mark.parametrize("frontend", FRONTENDS)
def test_copy_puts_the_answer_markdown_on_the_clipboard(
    chromium: Any, jupyter: Jupyter, artifacts: Path
) -> None:
    with _notebook(chromium, jupyter, artifacts, clipboard=True) as page:
        _ask(page, "Which region sold the most?")
        _answered(page, 1)
        answer = _last_answer(page)
        # The page shows rendered Markdown: bold and a code block, no asterisks or fences.
        assert answer.locator("strong").first.inner_text() == "North"
        shown = answer.inner_text()
        assert "**" not in shown, shown
        assert "```" not in shown, shown

        page.evaluate("navigator.clipboard.writeText('nothing copied yet')")
        _copy(page, answer.locator(".ck-answer-tools .ck-copy-button"))
        assert page.evaluate("navigator.clipboard.readText()") == habits_chat.ANSWER

        _copy(page, answer.locator(".ck-code-wrap > .ck-copy-button"))
        code = page.evaluate("navigator.clipboard.readText()")
        assert code.rstrip("\n") == habits_chat.CODE, f"the code block's Copy gave {code!r}"


def _copy(page: Any, button: Any) -> None:
    """Click a Copy button and wait until it says "Copied"."""
    assert button.inner_text() == "Copy"
    button.evaluate(RECORD_LABELS_JS)
    button.click()
    page.wait_for_function("(b) => b.__ckLabels.includes('Copied')", arg=button.element_handle())


@pytest.mark.parametrize("frontend", FRONTENDS)
def test_at_names_a_variable_and_the_receipt_says_it_was_read(
    chromium: Any, jupyter: Jupyter, frontend: str, artifacts: Path
) -> None:
    with _notebook(chromium, jupyter, artifacts) as page:
        _composer(page).click()
        page.keyboard.type("Which region leads in @")
        rows = page.wait_for_function(MENTIONS_JS, arg=FIRST).json_value()
        names = [name for name, _, _ in rows]
        assert ["sales", f"DataFrame 3{TIMES}3"] in [[name, kind] for name, kind, _ in rows], rows
        assert "payroll" not in names, f"a hidden variable is offered: {rows}"
        assert "openai_api_key" not in names, f"a secret-looking name is offered: {rows}"

        # Pick sales with the keyboard: ArrowDown to it, Enter.
        chosen = next(index for index, (_, _, on) in enumerate(rows) if on)
        for _ in range((names.index("sales") - chosen) % len(names)):
            page.keyboard.press("ArrowDown")
        page.wait_for_function(
            f"(i) => ({MENTIONS_JS})(i).find((row) => row[2])[0] === 'sales'", arg=FIRST
        )
        page.keyboard.press("Enter")
        composer = page.evaluate(COMPOSER_JS, FIRST)
        assert composer["value"] == "Which region leads in @sales ", composer
        assert page.evaluate(MENTIONS_JS, FIRST) is None, "the menu stayed open after the pick"
        page.keyboard.type("by units?")
        page.keyboard.press("Enter")
        _answered(page, 1)
        panel = page.locator(".ck-panel").nth(FIRST)
        assert panel.locator(".ck-user .ck-tag").inner_text() == "@sales"
        # The tag shows in its place, once: the question reads as it was typed.
        asked = panel.locator(".ck-user").inner_text().strip()
        assert asked == "Which region leads in @sales by units?", asked

        # The receipt: collapsed, then opened by a click on its summary.
        receipt = panel.locator("details.ck-workflow-box:has(> summary:text-matches('^Sent to '))")
        assert receipt.evaluate("(d) => d.open") is False, "the receipt is not collapsed"
        summary = receipt.locator("summary")
        # What the characters are made of (issue 19): a tagged variable is part of the
        # conversation (the question carries its preview), not a tool's result.
        assert re.fullmatch(
            r"Sent to ScriptedModel · [\d,]+ characters: instructions [\d,]+ · "
            r"conversation [\d,]+( · what was read [\d,]+)?",
            summary.inner_text(),
        ), summary.inner_text()
        summary.click()
        page.wait_for_function("(d) => d.open", arg=receipt.element_handle())
        lines = receipt.locator("li")
        lines.first.wait_for()  # shown now that the receipt is open
        texts = [text.strip() for text in lines.all_inner_texts()]
        assert len(texts) == 4, texts
        read, secrets, sent, tokens = texts
        assert tokens == "Tokens: n/a (the endpoint reported no usage)", texts
        assert re.fullmatch(rf"Read sales \(3{TIMES}3\) · [\d,]+ characters", read), texts
        assert lines.first.locator("code").inner_text() == "sales"
        assert re.fullmatch(r"\d+ secrets? redacted", secrets), texts
        assert re.fullmatch(r"[\d,]+ characters sent in 1 model call", sent), texts
        everything = panel.inner_text()
        assert "payroll" not in everything, everything
        assert "sk-test" not in everything, everything

        _save_screenshot(page, artifacts, frontend)


@pytest.mark.parametrize("frontend", FRONTENDS)
def test_a_thread_reaches_the_second_panel_and_the_restarted_kernel(
    chromium: Any, jupyter: Jupyter, artifacts: Path
) -> None:
    question = "How many regions are there?"
    with _notebook(chromium, jupyter, artifacts) as page:
        # A new chat in the first panel; the second lists it without a click there.
        page.wait_for_function(READY_JS, arg=SECOND)
        page.locator(".ck-panel").nth(FIRST).locator(".ck-new").click()
        page.wait_for_function(READY_JS, arg=FIRST)
        _ask(page, question)
        sent = time.monotonic()
        page.wait_for_function(LISTED_JS, arg=[FIRST, question, True])
        page.wait_for_function(LISTED_JS, arg=[SECOND, question, False], timeout=SECOND_PANEL_MS)
        print(f"the second panel listed the new thread {time.monotonic() - sent:.2f} s after Enter")
        _answered(page, 1)

        # Kernel > Restart Kernel and Run All Cells…, confirmed: both panels are drawn anew
        # by the new kernel and open the thread used last, with its messages.
        page.evaluate("document.querySelectorAll('.ck-panel').forEach((p) => p.__ckMark = true)")
        page.click(".lm-MenuBar-itemLabel:text-is('Kernel')")
        page.click("li.lm-Menu-item[data-command='runmenu:restart-and-run-all']")
        page.click(".jp-Dialog .jp-mod-accept")
        page.wait_for_function(NEW_PANELS_JS, timeout=KERNEL_TIMEOUT_MS)
        for panel in (FIRST, SECOND):
            page.wait_for_function(LISTED_JS, arg=[panel, question, True])
            _answered(page, 1, panel)
            shown = page.locator(".ck-panel").nth(panel)
            assert shown.locator(".ck-messages > .ck-user").all_inner_texts() == [question]
            assert _answer_text(page, panel).endswith(habits_chat.ANSWER_END)


def _save_screenshot(page: Any, artifacts: Path, frontend: str) -> None:
    """The first panel as ``habits-<frontend>.png``, copied to ``$CHATKIT_SHOTS_DIR`` too."""
    save_shot(page.locator(".ck-panel").nth(FIRST), artifacts, f"habits-{frontend}.png")
