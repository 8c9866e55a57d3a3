"""What a thread keeps across a switch and a restart, and how the list names it (issue 19,
items 8 and 14), in JupyterLab and Notebook 7, Light and Dark.

``look_and_feel.ipynb`` opens a long seeded thread made three hours ago (``look_chat.py``)
with a slowed model. The test opens it (a use: the list says "just now", first), stops the
next answer midway ("Stopped"), switches to a new chat and back, restarts the kernel and
runs all: "Stopped" stays on the answer in the panel each time, and in the export.
Screenshots: ``kept-<frontend>-<theme>-{stopped,switched,restarted}.png`` in the artifacts
and ``$CHATKIT_SHOTS_DIR``; the export beside them as ``kept-<frontend>-<theme>-export.md``.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from . import long_chat, look_chat
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

pytestmark = pytest.mark.browser

NOTEBOOK = "look_and_feel.ipynb"
SHORT = {"lab": "lab", "notebook7": "nb7"}
DELAY = 0.05  # seconds per word of the streamed answer: about 30 s, to be stopped midway
STOP_AFTER = 200  # characters shown before Stop is clicked
CHAT = 1  # the panel on the seeded thread (the first is an empty chat)

# The text of the newest answer of the seeded thread's panel, as shown, if there are
# more than `after` answers.
LAST_ANSWER_JS = """(after) => {
  const panel = document.querySelectorAll('.ck-panel')[1];
  const answers = panel.querySelectorAll('.ck-messages .ck-assistant');
  return answers.length > after ? answers[answers.length - 1].innerText : '';
}"""

# Whether the newest answer says "Stopped" (the mark under it is visible).
STOPPED_JS = """() => {
  const panel = document.querySelectorAll('.ck-panel')[1];
  const answers = panel.querySelectorAll('.ck-messages .ck-assistant');
  const last = answers[answers.length - 1];
  const mark = last && last.querySelector('.ck-stopped-mark');
  return Boolean(mark && !mark.hidden && mark.offsetParent !== null);
}"""


@pytest.fixture(params=["light", "dark"])
def theme(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def slowed(tmp_path: Path, frontend: str, theme: str) -> Iterator[Jupyter]:
    """Jupyter in ``frontend`` with ``theme``, the seeded thread named, the model slowed."""
    environ = {"CHATKIT_LOOK_DELAY": str(DELAY)}
    with serve(tmp_path, frontend, environ=environ, settings=THEMES[theme]) as server:
        thread_id = look_chat.seed(server.store)
        (server.root / "seeded-thread.txt").write_text(thread_id)
        yield server


@pytest.mark.parametrize("frontend", ["lab", "notebook7"])
def test_stopped_is_kept_and_the_list_ages_threads_by_use(
    chromium: Any, slowed: Jupyter, frontend: str, theme: str, artifacts: Path
) -> None:
    name = f"kept-{SHORT[frontend]}-{theme}"
    page = chromium.new_page(viewport={"width": 1100, "height": 1000}, device_scale_factor=1)
    page.set_default_timeout(TIMEOUT_MS)
    watch = Watch()
    watch.attach(page)
    try:
        page.goto(slowed.notebook_url(NOTEBOOK))
        wait_for_kernel(page, frontend)
        run_all(page)
        chat = _chat(page)

        # 14. The seeded thread, made three hours ago, was just opened: first, "just now".
        assert _listed(chat)[0] == f"{look_chat.THREAD_TITLE} · just now", _listed(chat)

        # 8. Stop the next answer midway: it says "Stopped".
        answers = chat.locator(".ck-messages .ck-assistant").count()
        chat.locator(".ck-input textarea").fill(long_chat.NEW_QUESTION)
        chat.locator(".ck-send").click()
        growing = f"(n) => ({LAST_ANSWER_JS})(n).length > {STOP_AFTER}"
        page.wait_for_function(growing, arg=answers)
        chat.locator(".ck-stop").click()
        page.wait_for_function(STOPPED_JS)
        shown = page.evaluate(LAST_ANSWER_JS, answers)
        assert len(shown) > STOP_AFTER, shown  # what arrived stays
        assert long_chat.STREAMED_LAST_WORD not in shown[-200:], "it was not stopped midway"
        save_shot(chat, artifacts, f"{name}-stopped.png")

        # A new chat, then the thread again from the list: still "Stopped", still first.
        chat.locator(".ck-threads select").select_option(label="New chat")
        chat.locator(".ck-empty:visible").wait_for()
        chat.locator(".ck-threads select").select_option(index=1)
        page.wait_for_function(STOPPED_JS)
        assert page.evaluate(LAST_ANSWER_JS, 0).startswith(shown[:STOP_AFTER])
        assert _listed(chat)[0] == f"{look_chat.THREAD_TITLE} · just now", _listed(chat)
        save_shot(chat, artifacts, f"{name}-switched.png")

        # The export says so too (what `%chatkit export` writes, from the same store).
        export = _export(slowed)
        (artifacts / f"{name}-export.md").write_text(export)
        if shots := os.environ.get("CHATKIT_SHOTS_DIR"):
            (Path(shots) / f"{name}-export.md").write_text(export)
        assert (
            "*Stopped: the answer above is cut short.*" in export.split(long_chat.NEW_QUESTION)[-1]
        )

        # Kernel > Restart Kernel and Run All Cells: the new kernel's panel says it too.
        page.evaluate("document.querySelectorAll('.ck-panel').forEach((p) => p.__ckOld = true)")
        page.click(".lm-MenuBar-itemLabel:text-is('Kernel')")
        page.click("li.lm-Menu-item[data-command='runmenu:restart-and-run-all']")
        page.click(".jp-Dialog .jp-mod-accept")
        page.wait_for_function(
            "() => { const p = document.querySelectorAll('.ck-panel');"
            " return p.length > 1 && !p[1].__ckOld; }",
            timeout=KERNEL_TIMEOUT_MS,
        )
        chat = _chat(page)
        page.wait_for_function(STOPPED_JS)
        assert page.evaluate(LAST_ANSWER_JS, 0).startswith(shown[:STOP_AFTER])
        assert _listed(chat)[0] == f"{look_chat.THREAD_TITLE} · just now", _listed(chat)
        save_shot(chat, artifacts, f"{name}-restarted.png")
        assert watch.off_loopback == [], f"the page reached beyond 127.0.0.1: {watch.off_loopback}"
    except BaseException:
        save_artifacts(page, artifacts / name, watch, slowed)
        raise
    finally:
        page.close()


def _chat(page: Any) -> Any:
    """The seeded thread's panel, once it shows the thread."""
    chat = page.locator(".ck-panel").nth(CHAT)
    chat.wait_for(timeout=KERNEL_TIMEOUT_MS)
    chat.locator(".ck-w-card").nth(1).wait_for()
    return chat


def _listed(chat: Any) -> list[str]:
    """The thread list's labels, "New chat" left out."""
    options = chat.locator(".ck-threads select option").all_inner_texts()
    return [" ".join(t.split()) for t in options][1:]  # the widget's spaces are no-break


def _export(server: Jupyter) -> str:
    from chatkit_notebook import NotebookContext, NotebookStore
    from chatkit_notebook.panel.transcript import thread_markdown

    thread_id = (server.root / "seeded-thread.txt").read_text().strip()

    async def items() -> list[Any]:
        store = NotebookStore(server.store)
        page = await store.load_thread_items(thread_id, None, 500, "asc", NotebookContext())
        return list(page.data)

    with ThreadPoolExecutor(1) as pool:  # Playwright's own loop runs in this thread
        return thread_markdown(pool.submit(asyncio.run, items()).result())
