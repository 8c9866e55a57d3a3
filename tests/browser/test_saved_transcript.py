"""A saved notebook carries its chat as a static transcript (issue 19, item 4).

In JupyterLab and in Notebook 7: a 30-message thread is seeded (``long_chat.py``) and
``saved_transcript.ipynb`` is run: its panel opens that thread, and its ``%chat`` question
ends with an approval card, which is clicked (Run). While they live, the transcripts that
follow the panel and the card are hidden. The notebook is saved from the browser, then

- ``jupyter nbconvert --to markdown`` and ``--to html`` show the questions, the answers, the
  step's code and the decided card, never widget internals (``CellCard(children=...``,
  ``<ChatPanel thread=None>``), and say "Run this cell";
- the saved file grew by the transcripts and little else, and no output holds the secret the
  agent's code contained;
- reopened with a fresh kernel (the old one shut down), the page shows the transcripts, and
  no "Error displaying widget: model not found".

Screenshots ``transcript-<frontend>.png`` (live) and ``transcript-reopened-<frontend>.png``
go to the artifacts directory (``$CHATKIT_BROWSER_ARTIFACTS/<frontend>`` or the test's
``tmp_path/artifacts``), and to ``$CHATKIT_SHOTS_DIR`` if set.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from . import long_chat
from ._page import KERNEL_TIMEOUT_MS, TIMEOUT_MS, Watch, run_all, save_artifacts, wait_for_kernel
from .conftest import Jupyter

pytestmark = pytest.mark.browser

NOTEBOOK = "saved_transcript.ipynb"
SECRET = "sk-proj-" + "transcript0123456789abcdefghij"  # as the notebook builds it
CELL_CARD = ".ck-cell-card"
RUN = ".ck-w-card-confirm"
GROWTH_SLACK = 6_000  # bytes beyond the transcripts: execution counts, widget views, ids

# The panel shows the seeded thread, the card's answer came, and both transcripts hold
# what they copy (they are hidden, so their text, not what is visible, is compared).
READY_JS = """([first, answers]) => {
  const list = document.querySelector('.ck-panel:not(.ck-cell-card) .ck-messages');
  // The seeded answers and the new one: all of them appended live, or the newest page of
  // them when the panel re-read the thread from the store (its first answer then paged out).
  const shown = list !== null
    && list.querySelectorAll(':scope > .ck-assistant').length >= answers;
  const transcripts = [...document.querySelectorAll('.ck-transcript')].map((t) => t.textContent);
  return shown && document.querySelector('.ck-cell-card')?.textContent.includes('It is 42')
    && transcripts.some((t) => t.includes(first))
    && transcripts.some((t) => t.includes('It is 42'));
}"""

# The panel shows the card the cell decided as decided: its Run is gone, and the answer
# that followed is there too.
PANEL_DECIDED_JS = """() => {
  const panel = document.querySelector('.ck-panel:not(.ck-cell-card)');
  return panel !== null && panel.querySelector('.ck-w-card') !== null
    && panel.querySelector('.ck-w-card-confirm') === null
    && panel.textContent.includes('It is 42');
}"""

# What a person sees of the transcripts and of the widget outputs.
SEEN_JS = """() => ({
  transcripts: [...document.querySelectorAll('.ck-transcript')]
    .filter((t) => t.checkVisibility()).map((t) => t.textContent),
  errors: [...document.querySelectorAll('.jp-OutputArea-output')]
    .filter((o) => o.checkVisibility() && o.textContent.includes('Error displaying widget'))
    .map((o) => o.textContent),
  live: document.querySelectorAll('.ck-live').length,
})"""


# Reopened: both transcripts drawn, and every widget output settled (no "Loading widget...").
REOPENED_JS = """() => {
  const transcripts = [...document.querySelectorAll('.ck-transcript')];
  const loading = [...document.querySelectorAll('.jp-OutputArea-output')]
    .some((o) => o.textContent.includes('Loading widget'));
  return transcripts.length === 2 && !loading
    && transcripts[1].textContent.includes('It is 42');
}"""


# How many outputs on the page say that the agent asks to run Python, as shown.
ASKS_JS = """() => [...document.querySelectorAll('.jp-OutputArea-output')]
  .filter((o) => o.offsetParent !== null && o.innerText.includes('The agent asks to run Python'))
  .length"""


@pytest.mark.parametrize("frontend", ["lab", "notebook7"])
def test_a_saved_notebook_shows_its_chat_as_a_static_transcript(
    chromium: Any, jupyter: Jupyter, frontend: str, tmp_path: Path
) -> None:
    artifacts = Path(os.environ.get("CHATKIT_BROWSER_ARTIFACTS") or tmp_path / "artifacts")
    if os.environ.get("CHATKIT_BROWSER_ARTIFACTS"):
        artifacts = artifacts / frontend
    long_chat.seed(jupyter.store)
    questions = [topic[0] for topic in long_chat.TOPICS]
    path = jupyter.root / NOTEBOOK
    before = path.stat().st_size
    page = chromium.new_page(viewport={"width": 1100, "height": 1300})
    page.set_default_timeout(TIMEOUT_MS)
    watch = Watch()
    watch.attach(page)
    try:
        page.goto(jupyter.notebook_url(NOTEBOOK))
        wait_for_kernel(page, frontend)
        run_all(page)
        card = page.locator(CELL_CARD)
        card.locator(RUN).click(timeout=KERNEL_TIMEOUT_MS)
        # The approved code runs on the kernel, the answer streams, and the panel draws the
        # 30-message thread: a whole turn, given the kernel's time (20 s ran out in a loaded run).
        page.wait_for_function(
            READY_JS, arg=[questions[0], len(questions)], timeout=KERNEL_TIMEOUT_MS
        )
        live = page.evaluate(SEEN_JS)
        assert live["transcripts"] == [], "a live view shows its transcript too"
        # The cell says once that the agent asks (its emptied preview said it again).
        asks = page.evaluate(ASKS_JS)
        assert asks == 1, f"the cell says {asks} times that the agent asks to run Python"
        # One decision, shown decided in the panel too (items 6), at once: no Run left.
        page.wait_for_function(PANEL_DECIDED_JS)
        # The code that ran is one click away: open the step (item 7).
        step = card.locator("details.ck-workflow-box").filter(has_not_text="Sent to").first
        step.locator("summary").click()
        code = step.locator(".ck-task-code")
        code.wait_for(state="visible")
        assert "print(len(" in code.inner_text()
        card.scroll_into_view_if_needed()
        card.screenshot(path=_shot_path(artifacts, f"transcript-card-{frontend}.png"))
        _shot(page, artifacts, f"transcript-{frontend}.png")

        saved = _save(page, path)
        outputs = [o for cell in saved["cells"] for o in cell.get("outputs", [])]
        texts = [json.dumps(o) for o in outputs]
        assert not any(SECRET in t for t in texts), "the secret reached a saved output"
        markdowns = [_text(o.get("data", {}).get("text/markdown", "")) for o in outputs]
        transcripts = [md for md in markdowns if "ck-transcript" in md]
        assert len(transcripts) == 2, transcripts  # the panel's and the card's
        panel_md, card_md = transcripts
        for question in questions:
            assert question in panel_md
        assert "Run this cell to continue the chat." in panel_md
        assert "print(len(" in card_md
        assert "Python: Approved" in card_md
        assert "It is **42**." in card_md
        growth = path.stat().st_size - before
        copied = sum(len(json.dumps(t)) for t in transcripts)
        assert growth <= copied + GROWTH_SLACK, (growth, copied)
        artifacts.mkdir(parents=True, exist_ok=True)
        (artifacts / f"transcript-size-{frontend}.txt").write_text(
            f"notebook {before:,} -> {path.stat().st_size:,} bytes (+{growth:,}); "
            f"transcripts {copied:,} bytes as saved JSON "
            f"({', '.join(f'{len(t):,}' for t in transcripts)} characters of Markdown)\n"
        )

        markdown = _nbconvert(path, "markdown", tmp_path)
        html = _nbconvert(path, "html", tmp_path)
        for shown in (markdown, html):
            assert questions[0] in shown
            assert questions[-1] in shown
            assert "Run this cell" in shown
            for internal in ("CellCard(", "<ChatPanel", "HTML(value=", "&lt;ChatPanel"):
                assert internal not in shown, internal

        # Reopen with a fresh kernel: the widgets' models are gone.
        for session in jupyter.api("GET", "/api/sessions") or []:
            jupyter.api("DELETE", f"/api/sessions/{session['id']}")
        page.reload()
        wait_for_kernel(page, frontend)
        page.wait_for_function(REOPENED_JS)
        seen = page.evaluate(SEEN_JS)
        assert seen["live"] == 0
        assert seen["errors"] == [], seen["errors"]
        assert len(seen["transcripts"]) == 2, seen
        assert questions[0] in seen["transcripts"][0]
        assert "It is 42" in seen["transcripts"][1]
        _shot(page, artifacts, f"transcript-reopened-{frontend}.png")
    except BaseException:
        save_artifacts(page, artifacts, watch, jupyter)
        raise


def _save(page: Any, path: Path) -> dict[str, Any]:
    """File > Save (the same command in both frontends); the notebook as written to disk."""
    written = path.stat().st_mtime_ns
    page.click(".lm-MenuBar-itemLabel:text-is('File')")
    page.click("li.lm-Menu-item[data-command='docmanager:save']")
    deadline = time.monotonic() + TIMEOUT_MS / 1000
    while path.stat().st_mtime_ns == written:  # a hang detector; the file tells when it is saved
        assert time.monotonic() < deadline, "the notebook was not saved"
        time.sleep(0.05)
    page.wait_for_function("() => !document.querySelector('.jp-mod-dirty')")
    return dict(json.loads(path.read_text()))


def _text(value: str | list[str]) -> str:
    """A saved output's text (nbformat keeps multi-line strings as lists of lines)."""
    return value if isinstance(value, str) else "".join(value)


def _nbconvert(path: Path, to: str, tmp_path: Path) -> str:
    out = tmp_path / f"converted-{to}"
    subprocess.run(
        [sys.executable, "-m", "nbconvert", "--to", to, "--output-dir", str(out), str(path)],
        check=True,
        capture_output=True,
    )
    (converted,) = out.glob(f"{path.stem}.*")
    return converted.read_text()


def _shot_path(artifacts: Path, name: str) -> Path:
    artifacts.mkdir(parents=True, exist_ok=True)
    return artifacts / name


def _shot(page: Any, artifacts: Path, name: str) -> None:
    artifacts.mkdir(parents=True, exist_ok=True)
    page.locator(".jp-Cell").nth(2).scroll_into_view_if_needed()
    page.screenshot(path=artifacts / name, full_page=False)
    shots = os.environ.get("CHATKIT_SHOTS_DIR")
    if shots:
        Path(shots).mkdir(parents=True, exist_ok=True)
        shutil.copy(artifacts / name, Path(shots) / name)
