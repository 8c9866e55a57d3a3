"""A team notebook on JupyterHub, in JupyterLab: threads in PostgreSQL, shared per notebook.

The Jupyter server runs as JupyterHub's spawner would set it up for Alice:
``CHATKIT_NOTEBOOK_STORE`` names a fresh PostgreSQL database (``tests/postgres.py``),
``CHATKIT_NOTEBOOK_STORE_SHARED=1`` shares a notebook's threads, ``JUPYTERHUB_USER=alice``.
Before the page opens, ``long_chat``'s 30-message thread is written to a store file and
copied, as Alice's, into the database under the notebook's key (its path from the server's
root, which the test checks the kernel computes too). Then ``team_chat.ipynb`` runs
(``%load_ext chatkit_notebook``, an offline scripted model, ``%chatkit store``, ``%chat``)
and the test, as Alice, opens the thread in the panel: all 30 messages show, the status line
names PostgreSQL and the notebook key, and the password is nowhere on the page or in the
cell outputs. Bob, another user on the same notebook key, then adds a turn to the thread
from outside the browser (this process, his own ``NotebookChatServer`` and store); Alice's
panel shows his question and answer within a few seconds, with no click.

The panel after Bob's turn is saved as ``team-lab.png`` in the artifacts directory (the
test's ``tmp_path/artifacts``, or ``$CHATKIT_BROWSER_ARTIFACTS/lab/<test>``) and copied to
``$CHATKIT_SHOTS_DIR`` if set. A failure leaves a page screenshot, the cell outputs, the
page's console and the server log there.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Awaitable, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import pytest
from postgres import pg_dsn_fixture, postgres_fixture  # noqa: F401

from chatkit_notebook import NotebookContext, NotebookStore
from chatkit_notebook.stores.copy import copy_threads
from chatkit_notebook.stores.location import notebook_key_for

from . import long_chat
from ._page import (
    KERNEL_TIMEOUT_MS,
    TIMEOUT_MS,
    VIEWPORT,
    Watch,
    run_all,
    save_artifacts,
    save_shot,
    wait_for_kernel,
)
from .conftest import Jupyter, serve
from .test_long_conversation import (
    GEOMETRY_JS,
    MEASURE_JS,
    THREAD_SHOWN_JS,
    _check_layout,
    _open_thread,
)

NOTEBOOK = "team_chat.ipynb"
EXCHANGES = len(long_chat.TOPICS)  # seeded questions, and as many answers
BOB_QUESTION = "Bob here: did the West stores reopen in time for the spring campaign?"
BOB_ANSWER = "Yes: both West stores reopened in March, two weeks before the campaign started."
BOB_SHOWN_MS = 5_000  # the panel looks at the store twice a second: "within a few seconds"
STORE_SAID = "Threads are stored in"  # how %chatkit store begins

_T = TypeVar("_T")

# The text of the cell output that says where threads are kept, once there is one.
STORE_OUTPUT_JS = """(said) => [...document.querySelectorAll('.jp-OutputArea-output')]
  .map((output) => output.innerText).find((text) => text.includes(said)) || null"""

# The panel shows Bob's turn last: his question, then a finished answer (its Copy shown).
BOB_SHOWN_JS = """([question, answer, answers]) => {
  const list = document.querySelector('.ck-panel .ck-messages');
  if (list === null) return false;
  const users = list.querySelectorAll(':scope > .ck-user');
  const done = [...list.querySelectorAll(':scope > .ck-assistant')]
    .filter((a) => a.querySelector('.ck-answer-tools:not([hidden])') !== null);
  const last = done[done.length - 1];
  return users.length > 0 && users[users.length - 1].innerText.trim() === question
    && done.length === answers && last.innerText.includes(answer);
}"""


# The status line: its text, whether all of it shows (inside the window and every box that
# clips it), and whether it stays clear of the composer above it.
STATUS_JS = f"""() => {{
  {GEOMETRY_JS}
  const line = document.querySelector('.ck-panel .ck-status-line');
  const composer = document.querySelector('.ck-panel .ck-input').getBoundingClientRect();
  const rects = [...line.getClientRects()];
  return {{
    text: line.innerText,
    shown: rects.length > 0 && rects.every((r) => shown(r, line)),
    clear: rects.every((r) => r.top >= composer.bottom - 1),
  }};
}}"""


@pytest.fixture
def team_lab(tmp_path: Path, pg_dsn: str) -> Iterator[Jupyter]:
    """JupyterLab as Alice's server on JupyterHub, keeping threads in the team's database."""
    environ = {
        "CHATKIT_NOTEBOOK_STORE": pg_dsn,
        "CHATKIT_NOTEBOOK_STORE_SHARED": "1",
        "JUPYTERHUB_USER": "alice",
    }
    with serve(tmp_path, "lab", environ) as server:
        yield server


def test_a_teammates_turn_reaches_the_open_panel_of_a_shared_notebook(
    chromium: Any, team_lab: Jupyter, pg_dsn: str, tmp_path: Path, artifacts: Path
) -> None:
    from psycopg.conninfo import conninfo_to_dict

    password = str(conninfo_to_dict(pg_dsn)["password"])
    # The key Alice's kernel files this notebook's threads under: its path from the root.
    key = notebook_key_for(team_lab.root / NOTEBOOK, [team_lab.root])
    thread_id = _seed(pg_dsn, key, tmp_path / "seed.chatkit.json")

    context = chromium.new_context(viewport=VIEWPORT, device_scale_factor=2)
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    watch = Watch()
    watch.attach(page)
    try:
        page.goto(team_lab.notebook_url(NOTEBOOK))
        wait_for_kernel(page, "lab")
        run_all(page)
        page.locator(".ck-panel").wait_for(timeout=KERNEL_TIMEOUT_MS)

        # The kernel keeps its threads in the database, shared, under the key seeded above.
        said = page.wait_for_function(STORE_OUTPUT_JS, arg=STORE_SAID).json_value()
        assert "PostgreSQL postgresql://" in said, said
        assert "everyone's (shared)" in said, said
        kernels_key = re.search(r"notebook key '([^']*)'", said)
        assert kernels_key is not None, said
        assert kernels_key[1] == key, (
            f"the kernel files this notebook's threads under {kernels_key[1]!r}, not under "
            f"its path from the server's root {key!r}: {said}"
        )

        # 1. Alice opens the seeded thread: all 30 messages, the database named, no password.
        _open_thread(page, long_chat.THREAD_TITLE)
        page.wait_for_function(THREAD_SHOWN_JS, arg=[EXCHANGES, long_chat.TOPICS[0][0]])
        box = page.locator(".ck-panel .ck-scroll")
        box.scroll_into_view_if_needed()
        _check_layout(page.evaluate(MEASURE_JS), answers=EXCHANGES)
        _check_status(page, key)
        _check_no_password(page, password)

        # 2. Bob, on the same notebook key, adds a turn from his own kernel; Alice's open
        # panel shows it with no click.
        answers = _bob_asks(pg_dsn, key, thread_id)
        assert answers == [BOB_ANSWER], answers
        asked = time.monotonic()
        page.wait_for_function(
            BOB_SHOWN_JS, arg=[BOB_QUESTION, BOB_ANSWER, EXCHANGES + 1], timeout=BOB_SHOWN_MS
        )
        took = time.monotonic() - asked
        print(f"Alice's panel showed Bob's turn {took:.2f} s after it was saved")
        _check_layout(page.evaluate(MEASURE_JS), answers=EXCHANGES + 1)
        _check_status(page, key)
        _check_no_password(page, password)
        assert watch.off_loopback == [], f"the page reached beyond 127.0.0.1: {watch.off_loopback}"

        _save_screenshot(page, artifacts)
    except BaseException:
        save_artifacts(page, artifacts, watch, team_lab)
        raise
    finally:
        context.close()


def _in_own_loop(make: Callable[[], Awaitable[_T]]) -> _T:
    """Run a coroutine on a loop of its own, in a thread: Playwright's sync API keeps one
    running in this one."""

    async def run() -> _T:
        return await make()

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, run()).result()


def _seed(dsn: str, key: str, path: Path) -> str:
    """Copy ``long_chat``'s thread, as Alice's, into the database under ``key``; its id."""
    from chatkit_notebook.stores.postgres import PostgresStore

    thread_id = long_chat.seed(path)

    async def copy() -> None:
        target = PostgresStore(dsn, notebook_key=key, shared=True)
        try:
            report = await copy_threads(NotebookStore(path), target, NotebookContext(user="alice"))
        finally:
            await target.aclose()
        assert (report.threads, report.items, report.failed) == (1, 2 * EXCHANGES, ()), report

    _in_own_loop(copy)
    return thread_id


def _bob_asks(dsn: str, key: str, thread_id: str) -> list[str]:
    """Bob adds a question and its answer to the thread, as his kernel would; the answers."""
    from agents.testing import ScriptedModel, assistant_message
    from scripted import ChatClient, answer_text  # tests/scripted.py

    from chatkit_notebook.agent.server import NotebookChatServer
    from chatkit_notebook.stores.postgres import PostgresStore

    async def ask() -> list[str]:
        store = PostgresStore(dsn, notebook_key=key, shared=True)
        model = ScriptedModel([[assistant_message(BOB_ANSWER)]])
        bob = ChatClient(NotebookChatServer(store, model=model), NotebookContext(user="bob"))
        try:
            return answer_text(await bob.send(thread_id, BOB_QUESTION))
        finally:
            await store.aclose()

    return _in_own_loop(ask)


def _check_status(page: Any, key: str) -> None:
    """The status line names the database, password masked, and the key; all of it shows."""
    page.locator(".ck-panel .ck-status-line").scroll_into_view_if_needed()
    status = page.evaluate(STATUS_JS)
    text = " ".join(status["text"].split())  # it may wrap
    assert "Threads: PostgreSQL postgresql://postgres:***@127.0.0.1:" in text, text
    assert f"notebook key {key!r}, everyone's threads (shared)" in text, text
    assert status["shown"], f"the status line is cut off: {text}"
    assert status["clear"], f"the status line overlaps the composer: {text}"


def _check_no_password(page: Any, password: str) -> None:
    """The database's password is in no text the page shows, its markup or a cell output."""
    outputs = page.locator(".jp-OutputArea-output").all_inner_texts()
    assert outputs, "no cell outputs to check"
    leaked = [text for text in outputs if password in text]
    assert leaked == [], f"a cell output shows the database password: {leaked}"
    assert password not in page.locator("body").inner_text(), "the page shows the password"
    assert password not in page.content(), "the page's markup holds the password"


def _save_screenshot(page: Any, artifacts: Path) -> None:
    """The panel as ``team-lab.png``, copied to ``$CHATKIT_SHOTS_DIR`` too."""
    save_shot(page.locator(".ck-panel"), artifacts, "team-lab.png")
