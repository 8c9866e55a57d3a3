"""Answers you can trust (issue 22), in JupyterLab, in the Light and the Dark theme.

``trust_marks.ipynb`` asks, with ``%chat``, a question whose answer reads ``sales`` and
states one number found in nothing it read (40%); a later cell adds a row to ``sales``;
then ``%chat`` opens the panel. The test checks, on the real page:

- under the answer, the stale mark says "`sales` changed since this answer (3 → 4 rows)",
  with "Ask again on the current data", whose click asks the same question in a new turn
  (whose answer, having read the current data, has no stale mark; its untraced number is
  marked as soon as its receipt arrives);
- "40%" has the dotted mark and its tooltip, the traced numbers (120.5, 80.25) do not;
- both marks, the button included, have a contrast of 4.5:1 or more.

Screenshots: ``trust-lab-<theme>.png`` in the artifacts and ``$CHATKIT_SHOTS_DIR``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ._page import (
    KERNEL_TIMEOUT_MS,
    TIMEOUT_MS,
    Watch,
    run_all,
    save_artifacts,
    save_shot,
    wait_for_kernel,
)
from .conftest import THEMES, Jupyter, serve
from .test_look_and_feel import CONTRAST_JS, MIN_CONTRAST

pytestmark = pytest.mark.browser

NOTEBOOK = "trust_marks.ipynb"
STALE = "sales changed since this answer (3 \u2192 4 rows)"
TOOLTIP = "not found in anything the agent read or computed this turn"


@pytest.fixture(params=["light", "dark"])
def theme(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def themed(tmp_path: Path, theme: str) -> Iterator[Jupyter]:
    with serve(tmp_path, "lab", settings=THEMES[theme]) as server:
        yield server


def test_stale_and_untraced_marks_show_and_read_well(
    chromium: Any, themed: Jupyter, theme: str, tmp_path: Path
) -> None:
    artifacts = Path(os.environ.get("CHATKIT_BROWSER_ARTIFACTS") or tmp_path / "artifacts")
    name = f"trust-lab-{theme}"
    page = chromium.new_page(viewport={"width": 1000, "height": 900}, device_scale_factor=1)
    page.set_default_timeout(TIMEOUT_MS)
    watch = Watch()
    watch.attach(page)
    try:
        page.goto(themed.notebook_url(NOTEBOOK))
        wait_for_kernel(page, "lab")
        run_all(page)
        panel = page.locator(".ck-panel").first
        mark = panel.locator(".ck-stale-mark:not([hidden])")
        mark.wait_for(timeout=KERNEL_TIMEOUT_MS)
        assert " ".join(mark.locator(".ck-stale-line").inner_text().split()) == STALE
        untraced = panel.locator(".ck-answer-html .ck-untraced")
        untraced.first.wait_for()
        assert untraced.all_inner_texts() == ["40%"]
        assert untraced.first.get_attribute("title") == TOOLTIP
        style = untraced.first.evaluate(
            "(e) => getComputedStyle(e).textDecorationStyle + ' ' + getComputedStyle(e).cursor"
        )
        assert style == "dotted help", style
        answer = panel.locator(".ck-answer-html").first.inner_text()
        assert "120.5" in answer
        assert "80.25" in answer
        save_shot(panel, artifacts, f"{name}.png")

        found = page.evaluate(CONTRAST_JS)
        ours = [
            item
            for item in found
            if any(k in item["where"] for k in ("ck-stale", "ck-ask-again", "ck-untraced"))
        ]
        assert {
            w for item in ours for w in ("stale", "again", "untraced") if w in item["where"]
        } == {
            "stale",
            "again",
            "untraced",
        }, ours
        low = [item for item in ours if item["ratio"] < MIN_CONTRAST]
        assert low == [], low

        # Ask again: the same question, in a new turn; its answer read the current data.
        mark.locator(".ck-ask-again").click()
        panel.locator(".ck-bubble-user").nth(1).wait_for(timeout=KERNEL_TIMEOUT_MS)
        questions = [
            " ".join(t.split()) for t in panel.locator(".ck-bubble-user").all_inner_texts()
        ]
        assert questions == ["Which region sold most?"] * 2, questions
        again = panel.locator(".ck-answer-html", has_text="still leads")
        again.wait_for()
        assert panel.locator(".ck-stale-mark:not([hidden])").count() == 1  # the old answer only
        # Its receipt came after it streamed: the untraced number is marked as it arrives.
        again.locator(".ck-untraced").wait_for()
        assert again.locator(".ck-untraced").all_inner_texts() == ["45%"]
        save_shot(panel, artifacts, f"{name}-asked-again.png")
        assert watch.off_loopback == [], watch.off_loopback
    except BaseException:
        save_artifacts(page, artifacts / name, watch, themed)
        raise
    finally:
        page.close()
