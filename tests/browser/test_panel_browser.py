"""The chat panel end to end: real JupyterLab, real kernel, real Chromium.

The notebook ``panel_under_test.ipynb`` builds a NotebookChatServer over a NotebookStore in a
scratch file, with a scripted model that streams slowly, and shows a ChatPanel. The test
drives the page as a person would: it runs the notebook, types, clicks, switches threads,
reloads the page, and reads what the page shows. Every wait is on a DOM condition; its
timeout only turns a hang into a failure.

The final panel is saved as ``panel.png`` in an artifacts directory (the test's
``tmp_path/artifacts``, or ``$CHATKIT_BROWSER_ARTIFACTS``). A failure leaves a screenshot,
the cell outputs, the page's console and the server log there. (``docs/panel.png`` comes
from ``test_long_conversation.py``.)
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from ._page import (
    KERNEL_TIMEOUT_MS,
    TIMEOUT_MS,
    VIEWPORT,
    Watch,
    run_all,
    save_artifacts,
    wait_for_kernel,
)
from .conftest import Jupyter

NOTEBOOK = "panel_under_test.ipynb"

FIRST_QUESTION = "Which region sold the most?"
FIRST_ANSWER_END = "in units."  # the last words of BEST_REGION in the notebook
SECOND_QUESTION = "How many regions are there?"
SECOND_ANSWER = "has 3 regions: North, South and West."

# Records, for the last assistant message under `.ck-messages`, each change of its text
# length with the time it happened: [[ms, length], ...].
RECORD_ANSWER_JS = """() => {
  const messages = document.querySelector('.ck-panel .ck-messages');
  const t0 = performance.now();
  const record = (window.__ckRecord = []);
  let last = -1;
  new MutationObserver(() => {
    const answers = messages.querySelectorAll('.ck-assistant');
    const answer = answers[answers.length - 1];
    const length = answer ? answer.textContent.length : 0;
    if (length !== last) {
      last = length;
      record.push([Math.round(performance.now() - t0), length]);
    }
  }).observe(messages, {subtree: true, childList: true, characterData: true});
}"""

LAST_ANSWER_JS = """(text) => {
  const answers = document.querySelectorAll('.ck-panel .ck-assistant');
  return answers.length > 0 && answers[answers.length - 1].textContent.includes(text);
}"""

# The thread picker is enabled (no answer streaming) and lists a thread titled `title`.
# ipywidgets writes option labels with no-break spaces.
THREAD_LISTED_JS = """(title) => {
  const select = document.querySelector('.ck-panel .ck-threads select');
  return select !== null && !select.disabled
    && [...select.options].some((o) => o.textContent.replace(/\\u00a0/g, ' ').startsWith(title));
}"""


def test_panel_streams_switches_threads_and_survives_a_reload(
    chromium: Any, jupyter_lab: Jupyter, tmp_path: Path
) -> None:
    artifacts = Path(os.environ.get("CHATKIT_BROWSER_ARTIFACTS") or tmp_path / "artifacts")
    page = chromium.new_page(viewport=VIEWPORT, device_scale_factor=2)
    page.set_default_timeout(TIMEOUT_MS)
    watch = Watch()
    watch.attach(page)
    page.on("dialog", lambda d: d.accept())  # "leave the page?" when reloading
    try:
        page.goto(jupyter_lab.notebook_url(NOTEBOOK))
        wait_for_kernel(page, "lab")
        run_all(page)
        page.locator(".ck-panel").wait_for(timeout=KERNEL_TIMEOUT_MS)

        # 1. A question streams its answer: the page shows it growing, piece by piece.
        page.evaluate(RECORD_ANSWER_JS)
        _send(page, FIRST_QUESTION)
        page.wait_for_function(LAST_ANSWER_JS, arg=FIRST_ANSWER_END)
        assert page.locator(".ck-panel .ck-assistant table tbody tr").count() == 3
        record = page.evaluate("window.__ckRecord")
        # The text grows as it arrives; a finished Markdown block is then redrawn as HTML,
        # which can be shorter (a table loses its pipes): the growth is checked up to the
        # longest text.
        longest = max(range(len(record)), key=lambda i: record[i][1])
        partial = [(ms, length) for ms, length in record[:longest] if length > 0]
        print(f"assistant text length over time (ms, chars): {record}", file=sys.stderr)
        assert len(partial) >= 3, f"the answer did not stream: {record}"
        assert [length for _, length in partial] == sorted({n for _, n in partial})
        assert partial[-1][0] - partial[0][0] >= 200, f"increments were not spread: {record}"

        # 2. A new thread, a second question; then back to the first thread.
        page.wait_for_function(THREAD_LISTED_JS, arg=FIRST_QUESTION)
        page.click(".ck-panel .ck-new")
        page.locator(".ck-panel .ck-empty .ck-empty-state").wait_for()
        # No message (the box for pages of earlier messages is there, empty).
        assert page.locator(".ck-panel .ck-messages > :not(.ck-earlier-pages)").count() == 0
        assert page.locator(".ck-panel .ck-earlier-pages > *").count() == 0
        _send(page, SECOND_QUESTION)
        page.wait_for_function(LAST_ANSWER_JS, arg=SECOND_ANSWER)
        _pick_thread(page, FIRST_QUESTION, shows=FIRST_ANSWER_END)
        assert SECOND_ANSWER not in page.locator(".ck-panel .ck-messages").inner_text()

        # 3. Reload: the notebook comes back without outputs (nothing was saved); the panel
        # cell, run again, builds a new store object and finds both threads in the file.
        page.reload()
        wait_for_kernel(page, "lab")
        assert page.locator(".ck-panel").count() == 0
        editor = page.locator(".jp-CodeCell .cm-content:has-text('ChatPanel(')")
        editor.click()
        page.keyboard.press("Control+Enter")
        page.locator(".ck-panel").wait_for()
        _pick_thread(page, SECOND_QUESTION, shows=SECOND_ANSWER)
        _pick_thread(page, FIRST_QUESTION, shows=FIRST_ANSWER_END)
        assert page.locator(".ck-panel .ck-user").inner_text() == FIRST_QUESTION
        assert page.locator(".ck-panel .ck-notice").inner_text() == ""
        assert watch.off_loopback == [], f"the page reached beyond 127.0.0.1: {watch.off_loopback}"

        artifacts.mkdir(parents=True, exist_ok=True)
        page.locator(".ck-panel").screenshot(path=artifacts / "panel.png")
    except BaseException:
        save_artifacts(page, artifacts, watch, jupyter_lab)
        raise


def _send(page: Any, text: str) -> None:
    page.locator(".ck-panel .ck-send:not([disabled])").wait_for()
    page.fill(".ck-panel .ck-input textarea", text)
    page.click(".ck-panel .ck-send")


def _pick_thread(page: Any, title: str, *, shows: str) -> None:
    """Choose the thread titled ``title`` in the picker; wait until its answer shows."""
    page.wait_for_function(THREAD_LISTED_JS, arg=title)
    picker = page.locator(".ck-panel .ck-threads select")
    labels = picker.evaluate("(s) => [...s.options].map((o) => o.textContent)")
    label = next(label for label in labels if label.replace("\u00a0", " ").startswith(title))
    picker.select_option(label=label)
    page.wait_for_function(LAST_ANSWER_JS, arg=shows)
    page.locator(f".ck-panel .ck-user:has-text('{title}')").wait_for()
