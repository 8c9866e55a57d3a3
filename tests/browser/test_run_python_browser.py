"""The agent's ``run_python``, approved or declined with a click, in JupyterLab and Notebook 7.

``run_python.ipynb`` loads the real extension with an offline scripted model
(``compute_chat.py``: each question gets a ``run_python`` call that draws a matplotlib bar
plot of the notebook's ``rain`` DataFrame, then a short answer), shows the panel with
``%chat`` and, in its last cell, asks ``%chat Plot the rainfall by month.``. Running code
needs approval (the default mode, "ask"), so every call stops at a card: "Run this
Python?", the code, Run and Don't run. Each test runs the notebook in a fresh server with
a fresh store and clicks as a person would:

- in the panel, a question stops at the card, which shows the code highlighted; Run runs
  it: the figure arrives as a PNG the browser decodes, the answer follows it, and the card
  says when it was approved and has no buttons left;
- in the panel, after a run, a new question's card declined with Don't run: the card says
  so, no new figure appears, and the answer says the code did not run;
- the ``%chat`` cell ends with the card (a ``CellCard``), and a click on its Run, with the
  cell long finished, runs the code and streams the figure and the answer into that cell's
  output, under the card: the claim that a card shown by a ``%chat`` cell can be clicked;
  then ``%chatkit insert``, the notebook's last cell, run again, becomes the code that ran.

Every wait is on a DOM condition; its timeout only turns a hang into a failure. The panel
after Run is saved as ``run-python-<frontend>.png`` (the card alone as
``run-python-card-<frontend>.png``, the cell's card after Run as
``run-python-cell-<frontend>.png``) in the artifacts directory (the test's
``tmp_path/artifacts``, or ``$CHATKIT_BROWSER_ARTIFACTS/<frontend>/<test>``) and copied to
``$CHATKIT_SHOTS_DIR`` if set. A failure leaves a page screenshot, the cell outputs, the
page's console and the server log there.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from . import compute_chat
from ._page import FRONTENDS, KERNEL_TIMEOUT_MS, open_notebook, save_shot
from .conftest import Jupyter

NOTEBOOK = "run_python.ipynb"
# Approved code runs on the kernel's main thread, imports matplotlib (the first time, in a
# fresh kernel, on a loaded machine) and renders a PNG: longer than one page step.
RUN_TIMEOUT_MS = KERNEL_TIMEOUT_MS

PANEL = ".ck-panel:not(.ck-cell-card)"  # the panel of the %chat cell (a CellCard is one too)
CELL_CARD = ".ck-cell-card"  # what `%chat QUESTION` leaves in its cell while a card waits
CARD = ".ck-widget.ck-w-card"
RUN = ".ck-w-card-confirm"
DONT_RUN = ".ck-w-card-cancel"
APPROVED = re.compile(r"Approved at \d\d:\d\d:\d\d: it ran \(see the step below\)")
DECLINED = re.compile(r"Not run: you declined it at \d\d:\d\d:\d\d")
RAN = re.compile(r"Ran Python \([\d.]+ s\)( · \d+ figures?)?")  # the task of a run

# The panel is ready for a question: an empty chat, its composer and Send enabled.
READY_JS = f"""() => {{
  const panel = document.querySelector('{PANEL}');
  return panel !== null && panel.querySelector('.ck-empty-state') !== null
    && panel.querySelector('.ck-input textarea:not([disabled])') !== null
    && panel.querySelector('.ck-send:not([disabled])') !== null;
}}"""

# Run All is over: every code cell has its execution count (none is waiting or running).
RAN_ALL_JS = """() => {
  const prompts = [...document.querySelectorAll('.jp-Notebook .jp-CodeCell .jp-InputPrompt')];
  return prompts.length > 0 && prompts.every((p) => /\\[\\d+\\]/.test(p.textContent));
}"""

# In `root` (a selector): the cards, the figures (decoded or not) and the finished answers,
# each answer with its text and whether it comes after the first decoded figure.
SHOWN_JS = """(root) => {
  const box = document.querySelector(root);
  const images = [...box.querySelectorAll('img.ck-image')];
  const decoded = images.filter((i) => i.complete && i.naturalWidth > 0);
  const after = (node) => decoded.length > 0
    && (decoded[0].compareDocumentPosition(node) & Node.DOCUMENT_POSITION_FOLLOWING) !== 0;
  const answers = [...box.querySelectorAll('.ck-assistant')]
    .filter((a) => a.querySelector('.ck-answer-tools:not([hidden])') !== null)
    .map((a) => ({
      text: a.querySelector('.ck-answer-html').innerText.trim(),
      afterFigure: after(a),
    }));
  return {
    cards: box.querySelectorAll('.ck-widget.ck-w-card').length,
    images: images.length,
    decoded: decoded.map((i) => [i.naturalWidth, i.naturalHeight]),
    answers,
  };
}"""

# In `root`: a decoded figure, and after it a finished answer ending with `end`.
FIGURE_THEN_ANSWER_JS = f"""([root, end]) => {{
  const shown = ({SHOWN_JS})(root);
  return shown.answers.some((a) => a.afterFigure && a.text.endsWith(end));
}}"""

# In `root`: `count` finished answers, the last ending with `end`.
ANSWERS_JS = f"""([root, count, end]) => {{
  const shown = ({SHOWN_JS})(root);
  return shown.answers.length === count && shown.answers[count - 1].text.endsWith(end);
}}"""


@contextmanager
def _notebook(chromium: Any, jupyter: Jupyter, artifacts: Path) -> Iterator[Any]:
    """The notebook run (Run All) in a new browser context: the panel ready, and the last
    cell over, its card waiting. On a failure, save what explains it."""
    with open_notebook(chromium, jupyter, NOTEBOOK, artifacts) as page:
        page.locator(f"{CELL_CARD} {RUN}").wait_for(timeout=KERNEL_TIMEOUT_MS)
        page.wait_for_function(RAN_ALL_JS, timeout=KERNEL_TIMEOUT_MS)
        page.wait_for_function(READY_JS)
        yield page


def _ask(page: Any, text: str) -> None:
    """Click into the panel's box, type ``text`` and press Enter."""
    page.locator(PANEL).locator(".ck-input textarea").click()
    page.keyboard.type(text)
    page.keyboard.press("Enter")


def _shown(page: Any, root: str) -> dict[str, Any]:
    return dict(page.evaluate(SHOWN_JS, root))


def _open_card(page: Any, root: str) -> Any:
    """Wait for the card in ``root`` that asks; check it shows the code; return it (the
    newest card of ``root``, which a decision redraws as a new element)."""
    page.locator(root).locator(f"{CARD}:has({RUN})").wait_for()
    card = page.locator(root).locator(CARD).last  # the newest; still it once redrawn
    text = card.inner_text()
    assert "Run this Python?" in text, text
    assert compute_chat.CODE_MARK in text, text
    # The code is a highlighted block: Pygments' spans inside the card's <pre>.
    code = card.locator("pre.ck-code")
    assert code.count() == 1, card.inner_html()
    assert code.locator("span.n").count() > 0, code.inner_html()  # names, coloured
    assert code.inner_text().rstrip("\n") == compute_chat.PLOT_CODE
    assert card.locator(RUN).inner_text() == "Run"
    assert card.locator(DONT_RUN).inner_text() == "Don't run"
    return card


def _decided(card_status: re.Pattern[str], card: Any) -> None:
    """``card`` is redrawn locked: it says ``card_status`` and has no buttons left."""
    status = card.locator(".ck-w-status")
    status.wait_for()
    assert card_status.fullmatch(status.inner_text().strip()), status.inner_text()
    assert card.locator("button").count() == 0, card.inner_html()


def _approve_in_panel(page: Any, question: str) -> dict[str, Any]:
    """Ask ``question``, click Run on its card, wait for the figure and the answer."""
    _ask(page, question)
    card = _open_card(page, PANEL)
    card.locator(RUN).click()
    page.wait_for_function(
        FIGURE_THEN_ANSWER_JS, arg=[PANEL, compute_chat.ANSWER_END], timeout=RUN_TIMEOUT_MS
    )
    return _shown(page, PANEL)


@pytest.mark.parametrize("frontend", FRONTENDS)
def test_panel_card_run_shows_the_figure_and_the_answer(
    chromium: Any, jupyter: Jupyter, frontend: str, artifacts: Path
) -> None:
    with _notebook(chromium, jupyter, artifacts) as page:
        shown = _approve_in_panel(page, "Plot the rainfall by month.")
        assert shown["cards"] == 1, shown
        assert shown["images"] == 1, shown
        [(width, height)] = shown["decoded"]
        assert width > 200, shown  # a real plot, not an icon
        assert height > 100, shown
        assert [a["text"] for a in shown["answers"]] == [compute_chat.ANSWER_SHOWN], shown

        # The card is locked: it says when it was approved, and Run / Don't run are gone.
        panel = page.locator(PANEL)
        card = panel.locator(CARD)
        _decided(APPROVED, card)
        assert compute_chat.CODE_MARK in card.inner_text()
        # The step that ran it: a finished task (in the collapsed "Worked for" box) naming
        # the one figure.
        tasks = panel.locator("li.ck-task-complete .ck-task-title").all_text_contents()
        # The code that ran is one click away: in the step, under its task (issue 19).
        ran_code = panel.locator("li.ck-task-complete .ck-task-code").all_text_contents()
        assert any(compute_chat.CODE_MARK in code for code in ran_code), ran_code
        assert any(RAN.fullmatch(t) and t.endswith(" · 1 figure") for t in tasks), tasks

        # The figure is shown at a sensible size: as wide as its PNG at most, and no wider
        # than the panel.
        image = panel.locator("img.ck-image")
        box = image.bounding_box()
        panel_box = panel.bounding_box()
        assert box is not None
        assert panel_box is not None
        assert 200 < box["width"] <= min(width, panel_box["width"]) + 1, (box, width, panel_box)

        save_shot(page.locator(PANEL), artifacts, f"run-python-{frontend}.png")
        save_shot(card, artifacts, f"run-python-card-{frontend}.png")


@pytest.mark.parametrize("frontend", FRONTENDS)
def test_panel_card_dont_run_runs_nothing(chromium: Any, jupyter: Jupyter, artifacts: Path) -> None:
    with _notebook(chromium, jupyter, artifacts) as page:
        before = _approve_in_panel(page, "Plot the rainfall by month.")
        assert before["images"] == 1, before

        _ask(page, "And plot it again, please.")
        card = _open_card(page, PANEL)
        card.locator(DONT_RUN).click()
        page.wait_for_function(ANSWERS_JS, arg=[PANEL, 2, compute_chat.DECLINED_END])

        cards = page.locator(PANEL).locator(CARD)
        assert cards.count() == 2
        _decided(DECLINED, cards.nth(1))
        _decided(APPROVED, cards.nth(0))  # the first card is as it was
        after = _shown(page, PANEL)
        assert after["images"] == 1, f"a figure appeared for declined code: {after}"
        answers = [a["text"] for a in after["answers"]]
        assert answers == [compute_chat.ANSWER_SHOWN, compute_chat.DECLINED_ANSWER], after
        tasks = page.locator(PANEL).locator("li.ck-task .ck-task-title").all_text_contents()
        ran = [task for task in tasks if RAN.fullmatch(task)]
        assert len(ran) == 1, f"the declined code ran: {tasks}"


# The panel is idle again: Send enabled, Stop hidden.
IDLE_JS = f"""() => {{
  const panel = document.querySelector('{PANEL}');
  const stop = panel.querySelector('.ck-stop');
  return panel.querySelector('.ck-send:not([disabled])') !== null
    && stop !== null && getComputedStyle(stop).display === 'none';
}}"""


@pytest.mark.parametrize("frontend", FRONTENDS)
def test_panel_stop_interrupts_code_the_kernel_runs(
    chromium: Any, jupyter: Jupyter, artifacts: Path
) -> None:
    # The code runs on the kernel's main thread, which then hears no widget message: Stop
    # has the browser interrupt the kernel, which stops the code (time.sleep(600) here).
    with _notebook(chromium, jupyter, artifacts) as page:
        panel = page.locator(PANEL)
        _ask(page, f"{compute_chat.SLOW_QUESTION}, then plot.")
        card = panel.locator(f"{CARD}:has({RUN})")
        card.wait_for()
        assert "time.sleep(600)" in card.inner_text()
        card.locator(RUN).click()
        # Stop says it will interrupt the kernel once the code runs there.
        stop = panel.locator(".ck-stop-button[title*='interrupt the kernel']")
        stop.wait_for(timeout=RUN_TIMEOUT_MS)
        stop.click()
        # The answer ends long before the code's 600 s: without the browser's interrupt the
        # click itself would wait for the code (the kernel is busy running it).
        page.wait_for_function(IDLE_JS, timeout=RUN_TIMEOUT_MS)
        save_shot(panel, artifacts, f"run-python-stop-{jupyter.frontend}.png")
        # The kernel is fine: the next question's code runs and plots.
        shown = _approve_in_panel(page, "Plot the rainfall by month.")
        assert len(shown["decoded"]) == 1, shown


@pytest.mark.parametrize("frontend", FRONTENDS)
def test_chat_cell_card_run_streams_the_figure_and_answer_into_the_cell(
    chromium: Any, jupyter: Jupyter, frontend: str, artifacts: Path
) -> None:
    with _notebook(chromium, jupyter, artifacts) as page:
        assert page.locator(CELL_CARD).count() == 1
        cell_card = page.locator(CELL_CARD)
        # It is the output of the `%chat Plot ...` cell, which is over.
        cell = page.locator(".jp-CodeCell", has=cell_card)
        assert "%chat Plot the rainfall by month." in cell.locator(".jp-InputArea").inner_text()
        card = _open_card(page, CELL_CARD)
        assert _shown(page, CELL_CARD)["images"] == 0

        card.locator(RUN).click()
        page.wait_for_function(
            FIGURE_THEN_ANSWER_JS, arg=[CELL_CARD, compute_chat.ANSWER_END], timeout=RUN_TIMEOUT_MS
        )
        shown = _shown(page, CELL_CARD)
        assert shown["cards"] == 1, shown
        assert shown["images"] == 1, shown
        [(width, height)] = shown["decoded"]
        assert width > 200, shown
        assert height > 100, shown
        assert [a["text"] for a in shown["answers"]] == [compute_chat.ANSWER_SHOWN], shown
        # Under the card: the card comes first in the cell's output.
        first = cell_card.locator(f"{CARD}, img.ck-image, .ck-assistant").first
        assert first.evaluate("(e) => e.matches('.ck-w-card')"), "the card is not on top"
        _decided(APPROVED, card)
        # Nothing of it leaked into the panel.
        assert _shown(page, PANEL)["images"] == 0

        save_shot(cell, artifacts, f"run-python-cell-{frontend}.png")

        # The notebook stays the record: the last cell, `%chatkit insert`, run again (Run
        # All ran it before any code had run: it said so), becomes the code that ran.
        last = page.locator(".jp-Notebook .jp-CodeCell").last
        assert "the agent has run no code" in last.locator(".jp-OutputArea").inner_text()
        last.locator(".cm-content").click()
        page.keyboard.press("Control+Enter")  # run it in place (Lab and Notebook 7)
        page.wait_for_function(
            """([cell, mark]) => {
              const text = cell.querySelector('.cm-content').innerText;
              return text.includes(mark) && !text.includes('%chatkit insert');
            }""",
            arg=[last.element_handle(), compute_chat.CODE_MARK],
        )
