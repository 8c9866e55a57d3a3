"""A conversation taller than the panel scrolls in its box; nothing in it is squeezed.

The message box (``.ck-scroll``, a column-reverse flex box at most 480 px tall) once let a
long conversation shrink its messages to fit: earlier answers became thin grey bars, the
feedback rows vanished, and a long streamed answer stopped showing part way, in JupyterLab
and in Notebook 7 alike. This test seeds a 30-message thread (``long_chat.py``) into the store
file before the page opens, runs ``long_conversation.ipynb`` in each frontend, opens that
thread in the panel and measures the real page: every message keeps its natural height,
every answer has its feedback row, the box scrolls, the newest message shows at the bottom
and the first one can be scrolled back to. Then it asks one more question, whose answer
streams about 600 one-word deltas, and checks that the newest text stays in view while it
streams and that the whole answer, last word included, shows when it is done.

The panel is saved as ``long-lab.png`` / ``long-nb7.png`` at the end, and as
``long-lab-top.png`` / ``long-nb7-top.png`` scrolled back to the first question, in the
artifacts directory (the test's ``tmp_path/artifacts``, or
``$CHATKIT_BROWSER_ARTIFACTS/<frontend>``) and, if ``$CHATKIT_SHOTS_DIR`` is set, copied
there too; ``CHATKIT_DOCS_SCREENSHOT=1`` writes the JupyterLab one of the loaded thread to
``docs/panel.png``. A failure leaves a page screenshot, the cell outputs, the page's console
and the server log in the artifacts directory.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from . import long_chat
from ._page import (
    FRONTENDS,
    KERNEL_TIMEOUT_MS,
    TIMEOUT_MS,
    VIEWPORT,
    Watch,
    run_all,
    save_artifacts,
    save_shot,
    wait_for_kernel,
)
from .conftest import Jupyter

NOTEBOOK = "long_conversation.ipynb"
DOCS_SCREENSHOT = Path(__file__).parents[2] / "docs" / "panel.png"
SHOT_NAMES = {"lab": "long-lab", "notebook7": "long-nb7"}
EXCHANGES = len(long_chat.TOPICS)  # seeded questions, and as many answers
BOX_MAX_HEIGHT = 480  # .ck-scroll's max-height
MIN_ANSWER_HEIGHT = 20  # a squeezed answer was a grey bar thinner than one line of text
STREAM_TIMEOUT_MS = 60_000

# `shown(rectOrElement, from)`: whether a rect lies inside every box that clips `from`
# (each ancestor whose overflow is not visible) and inside the window, to within 1 px.
# `words(el)`: the words of text a person sees in `el` (not in hidden parts, not on buttons
# such as Copy); `lastWordRect(el)`: where the last of them is, or null.
GEOMETRY_JS = """
const shown = (target, from) => {
  const r = target instanceof Element ? target.getBoundingClientRect() : target;
  if (!r || r.height === 0) return false;
  const inside = (c) => r.top >= c.top - 1 && r.bottom <= c.bottom + 1
    && r.left >= c.left - 1 && r.right <= c.right + 1;
  // The body's overflow applies to the window (checked last), not to the body's own box.
  for (let el = from.parentElement; el && el !== document.body; el = el.parentElement) {
    const style = getComputedStyle(el);
    if (style.overflowX !== 'visible' || style.overflowY !== 'visible') {
      if (!inside(el.getBoundingClientRect())) return false;
    }
  }
  return inside({top: 0, left: 0, bottom: innerHeight, right: innerWidth});
};
const textNodes = (el) => {
  const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
  const nodes = [];
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const parent = node.parentElement;
    if (node.textContent.trim() && !parent.closest('button') && parent.checkVisibility()) {
      nodes.push(node);
    }
  }
  return nodes;
};
const words = (el) => textNodes(el).flatMap((n) => n.textContent.split(/\\s+/).filter(Boolean));
const lastWordRect = (el) => {
  const nodes = textNodes(el);
  if (nodes.length === 0) return null;
  const last = nodes[nodes.length - 1];
  const text = last.textContent.replace(/\\s+$/, '');
  const range = document.createRange();
  range.setStart(last, text.search(/\\S+$/));
  range.setEnd(last, text.length);
  return range.getBoundingClientRect();
};
"""

# Everything the assertions need about the message list, measured in one go.
MEASURE_JS = f"""() => {{
  {GEOMETRY_JS}
  const box = document.querySelector('.ck-panel .ck-scroll');
  const list = box.querySelector('.ck-messages');
  const kind = (el) => el.classList.contains('ck-user') ? 'Q'
    : el.classList.contains('ck-assistant') ? 'A'
    : el.classList.contains('ck-workflow') ? 'W' : '?';
  const measure = (el) => {{
    const r = el.getBoundingClientRect();
    return {{kind: el === list ? 'list' : kind(el), top: r.top, bottom: r.bottom, height: r.height,
             scrollHeight: el.scrollHeight, text: el.innerText.trim().slice(0, 50)}};
  }};
  const items = [...list.children];
  const answers = items.filter((el) => kind(el) === 'A');
  const boxRect = box.getBoundingClientRect();
  return {{
    order: items.map(kind).join(''),
    box: {{top: boxRect.top, bottom: boxRect.bottom, height: boxRect.height,
           clientHeight: box.clientHeight, scrollHeight: box.scrollHeight,
           scrollTop: box.scrollTop}},
    list: measure(list),
    items: items.map(measure),
    parts: answers.flatMap((a) => [...a.children].map(measure)),
    feedback: answers.map((answer) => answer.querySelector('.ck-answer-tools'))
      .filter((row) => row !== null && !row.hidden).map((row) => ({{
        ...measure(row),
        buttons: [...row.querySelectorAll('button')].filter((b) => b.offsetParent !== null)
          .map((b) => b.getBoundingClientRect().height),
      }})),
    newestShown: shown(items[items.length - 1], items[items.length - 1]),
    lastWordShown: shown(lastWordRect(answers[answers.length - 1]), answers[answers.length - 1]),
    lastAnswerWords: words(answers[answers.length - 1]),
  }};
}}"""

FIRST_QUESTION_SHOWN_JS = f"""() => {{
  {GEOMETRY_JS}
  const first = document.querySelector('.ck-panel .ck-messages > .ck-user');
  return first !== null && shown(first, first);
}}"""

NEWEST_SHOWN_JS = f"""() => {{
  {GEOMETRY_JS}
  const newest = document.querySelector('.ck-panel .ck-messages').lastElementChild;
  return newest !== null && shown(newest, newest);
}}"""

# From now on, each time the newest answer's text changes, note how it sits in the box:
# window.__ckStream = [{{ms, words, bottom, boxTop, boxBottom, height, scrollHeight, ...}}].
RECORD_STREAM_JS = f"""(answersBefore) => {{
  {GEOMETRY_JS}
  const box = document.querySelector('.ck-panel .ck-scroll');
  const list = box.querySelector('.ck-messages');
  const record = (window.__ckStream = []);
  const t0 = performance.now();
  let seen = -1;
  new MutationObserver(() => {{
    const answers = list.querySelectorAll(':scope > .ck-assistant');
    if (answers.length <= answersBefore) return;
    const answer = answers[answers.length - 1];
    const count = words(answer).length;
    if (count === seen) return;
    seen = count;
    const a = answer.getBoundingClientRect();
    const b = box.getBoundingClientRect();
    record.push({{
      ms: Math.round(performance.now() - t0), words: count, bottom: a.bottom, height: a.height,
      scrollHeight: answer.scrollHeight, boxTop: b.top, boxBottom: b.bottom,
      scrollTop: box.scrollTop, lastWordShown: shown(lastWordRect(answer), answer),
    }});
  }}).observe(list, {{subtree: true, childList: true, characterData: true}});
}}"""

# The picker is enabled (no answer streaming) and lists a thread titled `title`; ipywidgets
# writes option labels with no-break spaces.
THREAD_LISTED_JS = """(title) => {
  const select = document.querySelector('.ck-panel .ck-threads select');
  return select !== null && !select.disabled
    && [...select.options].some((o) => o.textContent.replace(/\\u00a0/g, ' ').startsWith(title));
}"""

# The panel shows the whole thread: `answers` answers, each finished (with its thumbs and Copy).
THREAD_SHOWN_JS = """([answers, first]) => {
  const list = document.querySelector('.ck-panel .ck-messages');
  const user = list && list.querySelector(':scope > .ck-user');
  return user !== null && user.innerText.trim() === first
    && list.querySelectorAll(':scope > .ck-assistant').length === answers
    && list.querySelectorAll(':scope > .ck-assistant .ck-answer-tools:not([hidden])').length
      === answers
    && document.querySelector('.ck-panel .ck-send:not([disabled])') !== null;
}"""


@pytest.mark.parametrize("frontend", FRONTENDS)
def test_long_conversation_scrolls_instead_of_squeezing(
    chromium: Any, jupyter: Jupyter, frontend: str, tmp_path: Path
) -> None:
    artifacts = Path(os.environ.get("CHATKIT_BROWSER_ARTIFACTS") or tmp_path / "artifacts")
    if os.environ.get("CHATKIT_BROWSER_ARTIFACTS"):
        artifacts = artifacts / frontend  # one run writes both frontends' artifacts
    long_chat.seed(jupyter.store)
    first_question = long_chat.TOPICS[0][0]
    page = chromium.new_page(viewport=VIEWPORT, device_scale_factor=2)
    page.set_default_timeout(TIMEOUT_MS)
    watch = Watch()
    watch.attach(page)
    try:
        page.goto(jupyter.notebook_url(NOTEBOOK))
        wait_for_kernel(page, frontend)
        run_all(page)
        page.locator(".ck-panel").wait_for(timeout=KERNEL_TIMEOUT_MS)

        # 1. The seeded thread, opened on start or picked from the thread list.
        _open_thread(page, long_chat.THREAD_TITLE)
        page.wait_for_function(THREAD_SHOWN_JS, arg=[EXCHANGES, first_question])
        box = page.locator(".ck-panel .ck-scroll")
        box.scroll_into_view_if_needed()
        _check_layout(page.evaluate(MEASURE_JS), answers=EXCHANGES)
        _save_screenshot(page, artifacts, frontend, "-loaded")

        # 2. A person scrolls the box back to the first question, then down again.
        box.hover()
        page.mouse.wheel(0, -100_000)
        page.wait_for_function(FIRST_QUESTION_SHOWN_JS)
        _save_screenshot(page, artifacts, frontend, "-top")
        page.mouse.wheel(0, 100_000)
        page.wait_for_function(NEWEST_SHOWN_JS)

        # 3. One more question; its answer streams ~600 words and stays in view meanwhile.
        page.evaluate(RECORD_STREAM_JS, EXCHANGES)
        page.fill(".ck-panel .ck-input textarea", long_chat.NEW_QUESTION)
        page.click(".ck-panel .ck-send")
        page.wait_for_function(
            THREAD_SHOWN_JS, arg=[EXCHANGES + 1, first_question], timeout=STREAM_TIMEOUT_MS
        )
        _check_streaming(page.evaluate("window.__ckStream"))
        final = page.evaluate(MEASURE_JS)
        _check_layout(final, answers=EXCHANGES + 1)
        _check_words(final["lastAnswerWords"], long_chat.streamed_words())
        assert final["lastAnswerWords"][-1] == long_chat.STREAMED_LAST_WORD
        assert final["lastWordShown"], f"the answer's last word is clipped: {final['box']}"
        assert watch.off_loopback == [], f"the page reached beyond 127.0.0.1: {watch.off_loopback}"

        _save_screenshot(page, artifacts, frontend, "")
    except BaseException:
        save_artifacts(page, artifacts, watch, jupyter)
        raise


def _open_thread(page: Any, title: str) -> None:
    """Show the thread titled ``title``: pick it, unless the panel opened it on start."""
    page.wait_for_function(THREAD_LISTED_JS, arg=title)
    picker = page.locator(".ck-panel .ck-threads select")
    labels = picker.evaluate("(s) => [...s.options].map((o) => o.textContent)")
    label = next(label for label in labels if label.replace("\u00a0", " ").startswith(title))
    if picker.evaluate("(s) => s.selectedOptions[0].textContent") != label:
        picker.select_option(label=label)


def _check_layout(layout: dict[str, Any], *, answers: int) -> None:
    """Nothing squeezed, every answer with its feedback, a box that scrolls, newest shown."""
    # Q question, A answer (its thumbs and Copy inside), W a workflow (a turn's receipt, say).
    order = layout["order"]
    assert order.count("A") == answers, order
    assert len(layout["feedback"]) == answers, f"an answer without its thumbs: {order}"
    squeezed = [
        _describe(item)
        for item in [layout["list"], *layout["items"], *layout["parts"]]
        if item["height"] < item["scrollHeight"] - 1
    ]
    assert squeezed == [], f"{len(squeezed)} parts shorter than their content: {squeezed}"
    thin = [
        _describe(item)
        for item in layout["items"]
        if item["kind"] == "A" and item["height"] < MIN_ANSWER_HEIGHT
    ]
    assert thin == [], f"{len(thin)} answers squeezed to bars: {thin}"
    hidden = [
        _describe(row)
        for row in layout["feedback"]
        if row["height"] <= 0 or len(row["buttons"]) < 3 or min(row["buttons"]) <= 0
    ]
    assert hidden == [], f"{len(hidden)} feedback rows not shown: {hidden}"

    box = layout["box"]
    assert box["clientHeight"] <= BOX_MAX_HEIGHT, box
    assert box["height"] <= BOX_MAX_HEIGHT + 2, box  # + its border, if it has one
    assert box["scrollHeight"] > box["clientHeight"], f"the box does not scroll: {box}"
    # column-reverse: scrollTop is 0 at the bottom and negative above it.
    assert box["scrollTop"] >= -1, f"not at the bottom: {box}"
    newest = _describe(layout["items"][-1])
    assert layout["newestShown"], f"the newest message is out of view: {newest}, box {box}"


def _describe(part: dict[str, Any]) -> str:
    """One measured part, for a failure message: kind, height of natural height, text."""
    size = f"{part['height']:.0f} of {part['scrollHeight']} px"
    return f"{part['kind']} {size} at y={part['top']:.0f}: {part['text'][:30]!r}"


def _check_streaming(record: list[dict[str, Any]]) -> None:
    """While the answer grew, its bottom stayed in the box and its newest word showed."""
    total = len(long_chat.streamed_words())
    partial = [sample for sample in record if 0 < sample["words"] < total]
    assert len(partial) >= 5, f"the answer was not seen growing: {record}"
    out = [s for s in record if not s["boxTop"] - 1 <= s["bottom"] <= s["boxBottom"] + 1]
    assert out == [], f"the answer's end left the box while it streamed: {out}"
    hidden = [s for s in record if s["words"] > 0 and not s["lastWordShown"]]
    assert hidden == [], f"the newest word was hidden while it streamed: {hidden}"
    squeezed = [s for s in record if s["height"] < s["scrollHeight"] - 1]
    assert squeezed == [], f"the answer was squeezed while it streamed: {squeezed}"


def _check_words(shown: list[str], expected: list[str]) -> None:
    """The page shows exactly the expected words; else say where they first differ."""
    if shown == expected:
        return
    at = next((i for i, (a, b) in enumerate(zip(shown, expected, strict=False)) if a != b), None)
    at = min(len(shown), len(expected)) if at is None else at
    pytest.fail(
        f"the answer shows {len(shown)} words, not {len(expected)}; from word {at} it shows "
        f"{' '.join(shown[at : at + 12])!r}, not {' '.join(expected[at : at + 12])!r}"
    )


def _save_screenshot(page: Any, artifacts: Path, frontend: str, suffix: str) -> None:
    """The panel as ``long-<frontend><suffix>.png``; the final Lab one may go to the docs."""
    path = save_shot(page.locator(".ck-panel"), artifacts, f"{SHOT_NAMES[frontend]}{suffix}.png")
    if frontend == "lab" and suffix == "-loaded" and os.environ.get("CHATKIT_DOCS_SCREENSHOT"):
        DOCS_SCREENSHOT.parent.mkdir(exist_ok=True)
        shutil.copy(path, DOCS_SCREENSHOT)
