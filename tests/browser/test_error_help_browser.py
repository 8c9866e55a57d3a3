""" "Ask about this error" as a person meets it, in JupyterLab and Notebook 7, Light and Dark.

``error_help.ipynb`` loads the real extension with an offline scripted model
(``error_chat.py``: every answer explains the misspelled column, word by word, and ends
with the fixed cell), runs a cell that works, then a cell that fails on ``sales["regoin"]``.
The test, on the real page:

- the failing cell, and only it, shows one "Ask about this error" line, under its traceback;
- a click opens a chat panel under the line, on the notebook's current thread, and the
  question "Why did cell [N] fail?" arrives in it with the error attached as a tag
  ("Error in cell [N]: KeyError: 'regoin'");
- the answer streams in (seen unfinished before it is done) and ends as the model said;
- "Use this fix" appears beside the answer, and its click shows the diff of the failing
  cell: the misspelled line taken out, the fixed one put in, and how to take it.

Screenshots (``error-<frontend>-<theme>-line.png`` and ``-answer.png``) go to the artifacts
directory and, if ``$CHATKIT_SHOTS_DIR`` is set, there too. Every wait is on a DOM
condition; its timeout only turns a hang into a failure.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from . import error_chat
from ._page import FRONTENDS, KERNEL_TIMEOUT_MS, open_notebook, save_shot
from .conftest import THEMES, Jupyter, serve

pytestmark = pytest.mark.browser

NOTEBOOK = "error_help.ipynb"
ANSWER_TIMEOUT_MS = 60_000

# Each code cell: whether it shows a traceback, its error lines, and its execution count.
CELLS_JS = """() => [...document.querySelectorAll('.jp-Notebook .jp-CodeCell')].map((cell) => ({
  traceback: cell.querySelector("[data-mime-type='application/vnd.jupyter.stderr']") !== null,
  lines: cell.querySelectorAll('.ck-error-line').length,
  prompt: (cell.querySelector('.jp-InputPrompt') || {}).textContent || '',
  lineAfterTraceback: (() => {
    const tb = cell.querySelector("[data-mime-type='application/vnd.jupyter.stderr']");
    const line = cell.querySelector('.ck-error-line');
    return tb !== null && line !== null
      && (tb.compareDocumentPosition(line) & Node.DOCUMENT_POSITION_FOLLOWING) !== 0;
  })(),
}))"""

# From now on, note whether the line's answer was seen unfinished (text, no Copy yet).
RECORD_STREAMING_JS = """() => {
  window.__ckStreamed = false;
  const line = document.querySelector('.ck-error-line');
  new MutationObserver(() => {
    for (const answer of line.querySelectorAll('.ck-messages > .ck-assistant')) {
      const tools = answer.querySelector('.ck-answer-tools');
      if (tools && tools.hidden && answer.innerText.trim()) window.__ckStreamed = true;
    }
  }).observe(line, {subtree: true, childList: true, characterData: true, attributes: true});
}"""

# The line's panel holds a finished answer (its Copy shown) and Send is enabled again.
ANSWERED_JS = """() => {
  const panel = document.querySelector('.ck-error-line .ck-panel');
  return panel !== null
    && [...panel.querySelectorAll('.ck-messages > .ck-assistant')]
      .some((a) => a.querySelector('.ck-answer-tools:not([hidden])') !== null)
    && panel.querySelector('.ck-send:not([disabled])') !== null;
}"""


@pytest.fixture(params=["light", "dark"])
def theme(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def themed(tmp_path: Path, frontend: str, theme: str) -> Iterator[Jupyter]:
    with serve(tmp_path, frontend, settings=THEMES[theme]) as server:
        yield server


@pytest.mark.parametrize("frontend", FRONTENDS)
def test_a_failing_cell_asks_about_its_error_and_the_answer_offers_the_fix(
    chromium: Any, themed: Jupyter, theme: str, artifacts: Path
) -> None:
    shot = f"error-{themed.frontend}-{theme}"
    with open_notebook(chromium, themed, NOTEBOOK, artifacts) as page:
        ask = page.locator(".ck-error-line .ck-error-ask")
        ask.wait_for(timeout=KERNEL_TIMEOUT_MS)

        cells = page.evaluate(CELLS_JS)
        failing = [cell for cell in cells if cell["traceback"]]
        assert len(failing) == 1, cells
        assert [cell["lines"] for cell in cells] == [0, 0, 0, 1]
        assert failing[0]["lineAfterTraceback"]
        count = failing[0]["prompt"].strip().strip("[]:")
        assert count.isdigit(), failing[0]["prompt"]
        assert ask.inner_text().strip() == "Ask about this error"
        failing_cell = page.locator(".jp-Notebook .jp-CodeCell").last
        failing_cell.scroll_into_view_if_needed()
        save_shot(failing_cell, artifacts, f"{shot}-line.png")

        page.evaluate(RECORD_STREAMING_JS)
        ask.click()

        panel = page.locator(".ck-error-line .ck-panel")
        panel.wait_for()
        question = panel.locator(".ck-messages > .ck-user").last
        question.wait_for()
        assert question.inner_text().startswith(f"Why did cell [{count}] fail?")
        tag = question.locator(".ck-error-tag")
        assert tag.inner_text().strip() == f"Error in cell [{count}]: KeyError: 'regoin'"
        page.wait_for_function(ANSWERED_JS, timeout=ANSWER_TIMEOUT_MS)
        assert page.evaluate("window.__ckStreamed") is True, "the answer did not stream"
        answer = panel.locator(".ck-messages > .ck-assistant .ck-answer-html").last
        assert answer.inner_text().strip().endswith(error_chat.ANSWER_END)
        assert page.locator(".ck-error-ask").inner_text().strip() == "Asked below"

        use = page.locator(".ck-error-line .ck-fix-use")
        use.wait_for()
        use.click()
        diff = page.locator(".ck-error-line .ck-fix-diff .ck-diff")
        diff.wait_for()
        assert diff.locator(".ck-diff-del").inner_text().strip() == f"-{error_chat.FAILING}"
        assert diff.locator(".ck-diff-add").inner_text().strip() == f"+{error_chat.FIXED}"
        assert "%chatkit insert" in page.locator(".ck-error-line .ck-fix-how").inner_text()
        page.locator(".ck-error-line .ck-fix").scroll_into_view_if_needed()
        save_shot(page.locator(".ck-error-line"), artifacts, f"{shot}-answer.png")
