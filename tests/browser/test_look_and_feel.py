"""What a new user sees in the first ten minutes (issue 19), in JupyterLab and Notebook 7, in
the Light and the Dark theme, measured on the real page.

``look_and_feel.ipynb`` shows an empty chat (suggestions, the ``@`` menu) and a long seeded
thread (``look_chat.py``: 64 items, every kind the panel draws). The test checks:

1. every kind of text the panels show (messages, steps, cards, receipt, code, notices,
   status, suggestions, the ``@`` menu, placeholders) has a contrast of 4.5:1 or more, from
   the computed styles (the dark theme's user bubble was white on light blue, 1.4:1);
2. the ``@`` menu is visible and on top (``elementFromPoint`` at its centre hits it), inside
   the window at the top of a short panel and in a 640 px window, and answers arrows,
   Enter/Tab, Escape and the mouse;
3. while an answer streams, the visible text changes at least every 100 ms (a
   MutationObserver on the answer; it moved in 0.5 s steps);
9. "Load earlier messages" keeps the reader where they were;
15. the panel keeps its height while Stop replaces Send; the collapsed step says what it
    read; suggestions are chips, of data; a decided card no longer asks "Run this Python?".

Screenshots of both panels go to the artifacts directory (``look-<frontend>-<theme>-*.png``)
and, if ``$CHATKIT_SHOTS_DIR`` is set, there too; ``CHATKIT_DOCS_SCREENSHOT=1`` writes the
Lab dark one of the thread to ``docs/panel-dark.png``.
"""

from __future__ import annotations

import itertools
import json
import os
import shutil
import statistics
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from . import long_chat, look_chat
from ._page import KERNEL_TIMEOUT_MS, TIMEOUT_MS, Watch, run_all, save_artifacts, wait_for_kernel
from .conftest import THEMES, Jupyter, serve

pytestmark = pytest.mark.browser

NOTEBOOK = "look_and_feel.ipynb"
DOCS_DARK = Path(__file__).parents[2] / "docs" / "panel-dark.png"
SHORT = {"lab": "lab", "notebook7": "nb7"}
MIN_CONTRAST = 4.5
MAX_GAP_MS = 100
STREAM_TIMEOUT_MS = 60_000


@pytest.fixture(params=["light", "dark"])
def theme(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def themed(tmp_path: Path, frontend: str, theme: str) -> Iterator[Jupyter]:
    """Jupyter in ``frontend`` with ``theme``, the seeded thread named in its root."""
    with serve(tmp_path, frontend, settings=THEMES[theme]) as server:
        thread_id = look_chat.seed(server.store)
        (server.root / "seeded-thread.txt").write_text(thread_id)
        yield server


# -- measuring the page --------------------------------------------------------------------

# `contrast()`: every visible piece of text in the panels and the @ menu, with its colour
# and the colour behind it (ancestors' backgrounds composited, opacity applied), and the
# WCAG contrast ratio of the two. Colours are parsed from computed styles: rgb()/rgba(),
# and color(srgb ...) for color-mix().
CONTRAST_JS = """() => {
  const parse = (s) => {
    let m = s.match(/^rgba?\\(([^)]+)\\)$/);
    if (m) {
      const p = m[1].split(/[\\s,\\/]+/).filter(Boolean).map(parseFloat);
      return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1];
    }
    m = s.match(/^color\\(srgb ([^)]+)\\)$/);
    if (m) {
      const p = m[1].split(/[\\s\\/]+/).filter(Boolean).map(parseFloat);
      return [p[0] * 255, p[1] * 255, p[2] * 255, p.length > 3 ? p[3] : 1];
    }
    throw new Error('a colour this test cannot read: ' + s);
  };
  const over = (top, under) => {
    const a = top[3];
    return [0, 1, 2].map((i) => top[i] * a + under[i] * (1 - a)).concat([1]);
  };
  const behind = (el) => {
    const layers = [];
    for (let at = el; at; at = at.parentElement) {
      const c = parse(getComputedStyle(at).backgroundColor);
      if (c[3] > 0) layers.push(c);
      if (c[3] >= 1) break;
    }
    let colour = [255, 255, 255, 1];
    for (const layer of layers.reverse()) colour = over(layer, colour);
    return colour;
  };
  const opacity = (el) => {
    let o = 1;
    for (let at = el; at; at = at.parentElement) o *= parseFloat(getComputedStyle(at).opacity);
    return o;
  };
  const lum = (c) => {
    const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(c[0]) + 0.7152 * f(c[1]) + 0.0722 * f(c[2]);
  };
  const ratio = (a, b) => {
    const [x, y] = [lum(a), lum(b)].sort((p, q) => q - p);
    return (x + 0.05) / (y + 0.05);
  };
  const named = (el) => el.tagName.toLowerCase()
    + [...el.classList].filter((c) => c.startsWith('ck-'))
      .map((c) => '.' + c).join('');
  // The element, and the nearest one around it that the panel names (a ck- class).
  const describe = (el) => {
    const owner = el.parentElement && el.parentElement.closest('[class*="ck-"]');
    return named(el) + (owner ? ' in ' + named(owner) : '');
  };
  const found = [];
  const measure = (el, colour, text, kind) => {
    const bg = behind(el);
    const fg = parse(colour);
    const shown = over([fg[0], fg[1], fg[2], fg[3] * opacity(el)], bg);
    found.push({kind, where: describe(el), text: text.trim().slice(0, 40),
                ratio: Math.round(ratio(shown, bg) * 100) / 100,
                fg: colour, bg: 'rgb(' + bg.slice(0, 3).map(Math.round).join(',') + ')'});
  };
  for (const root of document.querySelectorAll('.ck-panel, .ck-mentions:not([hidden])')) {
    const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      const el = node.parentElement;
      if (!node.textContent.trim() || el.closest('style') || !el.checkVisibility()) continue;
      if (el.closest(':disabled')) continue;  // WCAG: inactive controls are exempt
      measure(el, getComputedStyle(el).color, node.textContent, 'text');
    }
    for (const box of root.querySelectorAll('textarea, input[type=text], input:not([type])')) {
      if (!box.placeholder || box.value || !box.checkVisibility() || box.disabled) continue;
      measure(box, getComputedStyle(box, '::placeholder').color, box.placeholder, 'placeholder');
    }
  }
  return found;
}"""

# Show what is folded (steps, receipts) and a notice of each level in each panel, so their
# text is measured too: a notice is the panel's own markup (panel._show_notice).
UNFOLD_JS = """() => {
  for (const d of document.querySelectorAll('.ck-panel details')) d.open = true;
  for (const panel of document.querySelectorAll('.ck-panel')) {
    const notice = panel.querySelector('.ck-notice');
    const host = notice.querySelector('.widget-html-content') || notice;
    host.innerHTML = ['danger', 'warning', 'info'].map((level) =>
      `<div class="ck-notice-${level}"><strong>Heads up</strong> A ${level} notice.</div>`
    ).join('');
    const status = panel.querySelector('.ck-status .widget-html-content');
    status.insertAdjacentHTML('beforeend',
      '<br><span class="ck-status-line ck-status-problem">No OpenAI API key</span>');
  }
}"""

FOLD_JS = """() => {
  for (const d of document.querySelectorAll('.ck-panel details')) d.open = false;
  for (const panel of document.querySelectorAll('.ck-panel')) {
    const notice = panel.querySelector('.ck-notice');
    (notice.querySelector('.widget-html-content') || notice).innerHTML = '';
    panel.querySelector('.ck-status .ck-status-problem')?.previousSibling?.remove();
    panel.querySelector('.ck-status .ck-status-problem')?.remove();
  }
}"""

# The @ menu a composer box controls: where it is, whether it is on top, its rows.
MENU_JS = """(box) => {
  const menu = document.getElementById(box.getAttribute('aria-controls') || '');
  if (menu === null || menu.hidden || !menu.isConnected) return null;
  const r = menu.getBoundingClientRect();
  const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
  const rows = [...menu.querySelectorAll('.ck-mention')];
  return {
    top: r.top, bottom: r.bottom, left: r.left, right: r.right, height: r.height,
    boxTop: box.getBoundingClientRect().top, boxBottom: box.getBoundingClientRect().bottom,
    onTop: hit !== null && menu.contains(hit),
    inWindow: r.top >= 0 && r.left >= 0 && r.bottom <= innerHeight && r.right <= innerWidth,
    names: rows.map((row) => row.querySelector('code').textContent),
    chosen: rows.findIndex((row) => row.classList.contains('ck-mention-chosen')),
  };
}"""

# The first message of the chat panel fully in its box, and where it is: the reader's place.
PLACE_JS = """() => {
  const panel = document.querySelectorAll('.ck-panel')[1];
  const box = panel.querySelector('.ck-scroll');
  const b = box.getBoundingClientRect();
  const items = [...panel.querySelectorAll('.ck-messages .ck-user, .ck-messages .ck-assistant')];
  const first = items.find((el) => el.getBoundingClientRect().top >= b.top - 1);
  return {
    text: first ? first.innerText.trim().slice(0, 60) : null,
    offset: first ? first.getBoundingClientRect().top - b.top : null,
    scrollTop: box.scrollTop, count: items.length,
  };
}"""

# From now on: the chat panel's height at every change, and when the newest answer's
# visible text changed (window.__ckLook = {heights: [...], updates: [[ms, chars], ...]}).
RECORD_JS = """(answersBefore) => {
  const panel = document.querySelectorAll('.ck-panel')[1];
  const record = (window.__ckLook = {heights: [], updates: [], stop: false, frames: []});
  const t0 = performance.now();
  let seen = -1;
  // When the browser painted: a gap with no paint in it is the machine's, not the panel's.
  const painted = (now) => {
    record.frames.push(now - t0);
    if (!record.done) requestAnimationFrame(painted);
  };
  requestAnimationFrame(painted);
  new MutationObserver(() => {
    record.heights.push(Math.round(panel.getBoundingClientRect().height));
    const stop = panel.querySelector('.ck-stop');
    if (stop && stop.offsetParent !== null) record.stop = true;
    const answers = panel.querySelectorAll('.ck-messages .ck-assistant');
    if (answers.length <= answersBefore) return;
    const answer = answers[answers.length - 1];
    const chars = answer.querySelector('.ck-answer-html').textContent.length
      + answer.querySelector('.ck-live').textContent.length;
    if (chars === seen) return;
    seen = chars;
    record.updates.push([performance.now() - t0, chars]);
    if (!answer.querySelector('.ck-answer-tools').hidden) record.done = true;
  }).observe(panel, {subtree: true, childList: true, characterData: true, attributes: true});
}"""

DONE_JS = """(answers) => {
  const panel = document.querySelectorAll('.ck-panel')[1];
  const all = panel.querySelectorAll('.ck-messages .ck-assistant');
  return all.length === answers
    && !all[all.length - 1].querySelector('.ck-answer-tools').hidden
    && panel.querySelector('.ck-send:not([disabled])') !== null
    && panel.querySelector('.ck-send').offsetParent !== null;
}"""


# -- the test ------------------------------------------------------------------------------


@pytest.mark.parametrize("frontend", ["lab", "notebook7"])
def test_first_ten_minutes_look_right(
    chromium: Any, themed: Jupyter, frontend: str, theme: str, tmp_path: Path
) -> None:
    artifacts = Path(os.environ.get("CHATKIT_BROWSER_ARTIFACTS") or tmp_path / "artifacts")
    name = f"look-{SHORT[frontend]}-{theme}"
    page = chromium.new_page(viewport={"width": 1100, "height": 1000}, device_scale_factor=1)
    page.set_default_timeout(TIMEOUT_MS)
    watch = Watch()
    watch.attach(page)
    try:
        page.goto(themed.notebook_url(NOTEBOOK))
        wait_for_kernel(page, frontend)
        dark = page.evaluate("() => document.body.dataset.jpThemeLight === 'false'")
        assert dark == (theme == "dark"), "the theme did not apply"
        run_all(page)
        panels = page.locator(".ck-panel")
        panels.nth(1).wait_for(timeout=KERNEL_TIMEOUT_MS)
        chat = panels.nth(1)
        chat.locator(".ck-w-card").nth(1).wait_for()
        chat.locator(".ck-earlier:visible").wait_for()
        empty = panels.nth(0)
        empty.locator(".ck-suggestion").first.wait_for()

        _check_suggestions(empty)
        _check_step_and_cards(chat)
        _shoot(page, chat, artifacts, f"{name}-thread")
        _shoot(page, empty, artifacts, f"{name}-empty")
        if frontend == "lab" and theme == "dark" and os.environ.get("CHATKIT_DOCS_SCREENSHOT"):
            shutil.copy(artifacts / f"{name}-thread.png", DOCS_DARK)

        # 1. Contrast of every kind of text, the @ menu's included.
        page.evaluate(UNFOLD_JS)
        menu_box = _open_menu(page, empty, "Compare @")
        _shoot(page, empty, artifacts, f"{name}-menu", menu=True)
        _check_contrast(page.evaluate(CONTRAST_JS))
        page.keyboard.press("Escape")
        assert page.evaluate(MENU_JS, menu_box.element_handle()) is None
        page.evaluate(FOLD_JS)

        # 2. The @ menu: keyboard and mouse, at the top of the window, in a narrow window.
        _check_menu(page, empty, chat)

        # 9. Load earlier messages keeps the reader where they were.
        _check_load_earlier(page, chat)

        # 3 and 15. The next answer streams smoothly; the panel keeps its height.
        _check_streaming(page, chat, artifacts, name)
        assert watch.off_loopback == [], f"the page reached beyond 127.0.0.1: {watch.off_loopback}"
    except BaseException:
        save_artifacts(page, artifacts / name, watch, themed)
        raise
    finally:
        page.close()


def _shoot(page: Any, panel: Any, artifacts: Path, name: str, *, menu: bool = False) -> None:
    artifacts.mkdir(parents=True, exist_ok=True)
    path = artifacts / f"{name}.png"
    if menu:  # the menu floats over the page: the window around the panel
        page.screenshot(path=path)
    else:
        panel.screenshot(path=path)
    if shots := os.environ.get("CHATKIT_SHOTS_DIR"):
        Path(shots).mkdir(parents=True, exist_ok=True)
        shutil.copy(path, Path(shots) / path.name)


def _check_suggestions(empty: Any) -> None:
    chips = empty.locator(".ck-suggestion")
    texts = [t.strip() for t in chips.all_inner_texts()]
    # Data (a frame, an array), never the helpers `srv` (an object) or `url` (a string).
    assert texts[:2] == ["Describe sales", "Describe prices"], texts
    assert not any("srv" in t or "url" in t for t in texts), texts
    style = chips.first.evaluate(
        """(b) => { const s = getComputedStyle(b); const p = b.closest('.ck-panel');
          return {font: s.fontFamily, radius: parseFloat(s.borderTopLeftRadius),
                  width: b.getBoundingClientRect().width, panel: p.getBoundingClientRect().width,
                  top: b.getBoundingClientRect().top,
                  next: b.nextElementSibling
                    && b.nextElementSibling.getBoundingClientRect().top}; }"""
    )
    assert "monospace" not in style["font"].lower(), style
    assert style["radius"] >= 10, style  # a chip, not a bar
    assert style["width"] < style["panel"] / 2, style
    assert style["next"] is not None, style
    assert abs(style["next"] - style["top"]) < 2, style  # side by side


def _check_step_and_cards(chat: Any) -> None:
    summary = chat.locator(".ck-workflow-box > summary").filter(has_text="Read").first
    assert summary.inner_text().strip() == "Read sales (6 \u00d7 4)", summary.inner_text()
    cards = chat.locator(".ck-w-card")
    decided, open_card = cards.nth(0).inner_text(), cards.nth(1).inner_text()
    assert look_chat.DECIDED_STATUS in decided, decided
    assert "Run this Python?" not in decided, decided
    assert "Run this Python?" in open_card, open_card
    for text in (decided, open_card):
        assert "reaches beyond the sandbox" not in text, text
        assert "(in the sandbox only)" not in text, text
    assert "⚠ imports os" in open_card, open_card
    assert "changes totals in the sandbox only (yours stays)" in open_card, open_card


def _check_contrast(found: list[dict[str, Any]]) -> None:
    kinds = {item["where"] for item in found}
    for needed in ("ck-bubble-user", "ck-answer-html", "ck-notice-warning", "ck-mention-kind"):
        assert any(needed in where for where in kinds), (needed, sorted(kinds))
    assert any(item["kind"] == "placeholder" for item in found)
    low = [item for item in found if item["ratio"] < MIN_CONTRAST]
    worst = sorted(low, key=lambda item: item["ratio"])[:12]
    assert low == [], f"{len(low)} of {len(found)} texts under {MIN_CONTRAST}:1: {worst}"


def _open_menu(page: Any, panel: Any, text: str) -> Any:
    box = panel.locator(".ck-input textarea")
    box.click()
    box.fill("")
    page.keyboard.type(text)
    page.wait_for_function(MENU_JS, arg=box.element_handle())
    return box


def _menu(page: Any, box: Any) -> dict[str, Any]:
    menu = page.evaluate(MENU_JS, box.element_handle())
    assert menu is not None, "the @ menu is not shown"
    return dict(menu)


def _check_menu(page: Any, empty: Any, chat: Any) -> None:
    # A short panel at the top of the window: the menu opens below the box, in view.
    box = empty.locator(".ck-input textarea")
    box.evaluate("(b) => b.scrollIntoView({block: 'start'})")
    _open_menu(page, empty, "Compare @")
    menu = _menu(page, box)
    assert menu["onTop"], menu
    assert menu["inWindow"], menu
    assert {"sales", "prices"} <= set(menu["names"]), menu["names"]
    assert not {"openai_api_key", "_model"} & set(menu["names"]), menu["names"]
    assert menu["chosen"] == 0, menu
    page.keyboard.press("ArrowDown")
    second = _menu(page, box)
    assert second["chosen"] == 1, second
    page.keyboard.press("Enter")
    assert box.input_value() == f"Compare @{second['names'][1]} ", box.input_value()
    page.keyboard.type("with @pri")
    page.keyboard.press("Tab")
    assert box.input_value().endswith("with @prices "), box.input_value()
    # The mouse: a click on a row picks it.
    page.keyboard.type("and @sa")
    menu = _menu(page, box)
    assert menu["names"] == ["sales"], menu
    page.mouse.click((menu["left"] + menu["right"]) / 2, (menu["top"] + menu["bottom"]) / 2)
    assert box.input_value().endswith("and @sales "), box.input_value()
    assert page.evaluate(MENU_JS, box.element_handle()) is None
    box.fill("")

    # A narrow (640 px) window, the composer at the bottom of the window: above, in view.
    page.set_viewport_size({"width": 640, "height": 800})
    box = chat.locator(".ck-input textarea")
    box.evaluate("(b) => b.scrollIntoView({block: 'end'})")
    _open_menu(page, chat, "@")
    menu = _menu(page, box)
    assert menu["onTop"], menu
    assert menu["inWindow"], menu
    assert menu["bottom"] <= menu["boxTop"] + 1, menu  # above the box: no room below
    page.keyboard.press("Escape")
    assert page.evaluate(MENU_JS, box.element_handle()) is None
    box.fill("")
    page.set_viewport_size({"width": 1100, "height": 1000})


def _check_load_earlier(page: Any, chat: Any) -> None:
    scroll = chat.locator(".ck-scroll")
    scroll.evaluate("(b) => b.scrollIntoView({block: 'center'})")
    scroll.hover()
    page.mouse.wheel(0, -100_000)
    page.wait_for_function(
        "() => document.querySelectorAll('.ck-panel')[1]"
        ".querySelector('.ck-scroll').scrollTop < -100"
    )
    page.wait_for_timeout(300)  # let the wheel's smooth scroll come to rest before measuring
    before = page.evaluate(PLACE_JS)
    assert before["text"], before
    chat.locator(".ck-earlier").click()
    page.wait_for_function(
        "(n) => document.querySelectorAll('.ck-panel')[1]"
        ".querySelectorAll('.ck-messages .ck-user, .ck-messages .ck-assistant').length > n",
        arg=before["count"],
    )
    after = page.evaluate(PLACE_JS)
    assert after["text"] == before["text"], (before, after)  # the same message, first in view
    assert abs(after["offset"] - before["offset"]) <= 2, (before, after)  # at the same place


def _check_streaming(page: Any, chat: Any, artifacts: Path, name: str) -> None:
    answers = chat.locator(".ck-messages .ck-assistant").count()
    chat.locator(".ck-scroll").evaluate("(b) => { b.scrollTop = 0; }")
    chat.locator(".ck-send").scroll_into_view_if_needed()
    height = chat.evaluate("(p) => Math.round(p.getBoundingClientRect().height)")
    page.evaluate(RECORD_JS, answers)
    chat.locator(".ck-input textarea").fill(long_chat.NEW_QUESTION)
    chat.locator(".ck-send").click()
    page.wait_for_function(DONE_JS, arg=answers + 1, timeout=STREAM_TIMEOUT_MS)
    record = page.evaluate("window.__ckLook")
    _shoot(page, chat, artifacts, f"{name}-streamed")

    # 15. Stop took Send's place: the panel's height never changed.
    assert record["stop"], "Stop never showed while the answer streamed"
    heights = set(record["heights"])
    assert all(abs(h - height) <= 1 for h in heights), (height, sorted(heights))

    # 3. While text arrived, it grew at least every 100 ms: at every paint, unless the
    # browser itself could not paint for 100 ms (a machine this busy also stalls Lab).
    updates = record["updates"]
    total = updates[-1][1]
    # From the first text shown (not the empty answer's arrival) to the whole answer.
    growing = [ms for ms, chars in updates if 0 < chars < total] + [updates[-1][0]]
    gaps = [(a, b) for a, b in itertools.pairwise(growing)]
    assert len(gaps) > 50, updates
    sizes = [b - a for a, b in gaps]
    p95 = statistics.quantiles(sizes, n=20)[-1]
    frames = record["frames"]
    stalls = [b - a for a, b in itertools.pairwise(frames)]
    print(
        f"{name}: {len(gaps)} visible updates, gap p95 {p95:.0f} ms, max {max(sizes):.0f} ms;"
        f" paints {len(frames)}, longest without a paint {max(stalls):.0f} ms"
    )
    ours = [(a, b) for a, b in gaps if b - a > MAX_GAP_MS and not _stalled(frames, a, b)]
    context = [
        ([u for u in updates if a - 300 <= u[0] <= b + 100], [f for f in frames if a < f < b])
        for a, b in ours
    ]
    assert ours == [], f"no new text for over {MAX_GAP_MS} ms while the page painted: {context}"
    assert p95 <= MAX_GAP_MS, sizes


def _stalled(frames: list[float], start: float, end: float) -> bool:
    """Whether the browser went ``MAX_GAP_MS`` without painting between ``start`` and ``end``."""
    inside = [start, *(f for f in frames if start < f < end), end]
    return any(b - a > MAX_GAP_MS / 2 for a, b in itertools.pairwise(inside))


# Whether the open notebook has unsaved changes, as the page itself knows it: the question
# both front ends ask before the tab is closed ("Any unsaved changes will be lost") is put
# by their beforeunload handler, only when the application is dirty. (Lab also marks its
# tab; Notebook 7 shows nothing else.)
DIRTY_JS = """() => {
  const event = new Event('beforeunload', { cancelable: true });
  let asked = null;
  Object.defineProperty(event, 'returnValue', { set(v) { asked = v; }, get() { return asked; } });
  window.dispatchEvent(event);
  return asked !== null;
}"""

# The notebook's language_info once the page has the kernel's: awaits the very reply the
# front end copies into the notebook (its own handler, registered first, has run by then).
LANGUAGE_JS = """async () => {
  const panel = window.jupyterapp.shell.currentWidget;
  const info = await panel.sessionContext.session.kernel.info;
  return [info.language_info, panel.content.model.getMetadata('language_info')];
}"""

# Both front ends put their application on `window` when asked to (for tests like this).
EXPOSE_APP = {
    "LabApp": {"expose_app_in_browser": True},
    "JupyterNotebookApp": {"expose_app_in_browser": True},
}


@pytest.mark.parametrize("frontend", ["lab", "notebook7"])
def test_opening_the_quickstart_changes_only_the_python_version(
    chromium: Any, tmp_path: Path, frontend: str
) -> None:
    """Opening a notebook is not editing it, yet Jupyter (Lab and Notebook 7) writes the
    kernel's ``language_info`` into it as the kernel starts, and so marks it modified
    whenever that differs from the file's (jupyter/notebook#2123). The example notebooks
    carry what every ipykernel reports but the Python version, which no file can match for
    every Python: opening one changes that one field and nothing else, nothing of ours
    included, and once it is the running Python's the notebook opens unmodified.
    """
    quickstart = Path(__file__).parents[2] / "notebooks" / "01-quickstart.ipynb"
    committed = json.loads(quickstart.read_text())
    with serve(tmp_path, frontend, config=EXPOSE_APP) as jupyter:
        copy = jupyter.root / quickstart.name
        shutil.copy(quickstart, copy)
        page = chromium.new_page(viewport={"width": 1100, "height": 900})
        page.set_default_timeout(TIMEOUT_MS)
        try:
            page.goto(jupyter.notebook_url(quickstart.name))
            wait_for_kernel(page, frontend)
            reported, shown = page.evaluate(LANGUAGE_JS)
            assert shown == reported
            page.keyboard.press("Control+s")
            page.wait_for_function(f"() => !({DIRTY_JS})()")
            saved = json.loads(copy.read_text())
            # Jupyter wrote the kernel's language_info, and that is all that changed.
            assert saved["metadata"]["language_info"] == reported
            with_version = {**committed["metadata"]}
            with_version["language_info"] = {
                **committed["metadata"].get("language_info", {}),
                "version": reported["version"],
            }
            assert saved["metadata"] == with_version, (
                "the notebook differs by more than the version"
            )
            assert saved["cells"] == committed["cells"]

            # Now that the file holds this Python's version, opening it changes nothing.
            page.reload()
            wait_for_kernel(page, frontend)
            page.evaluate(LANGUAGE_JS)
            assert page.evaluate(DIRTY_JS) is False, "the notebook shows unsaved changes"
        finally:
            page.close()
