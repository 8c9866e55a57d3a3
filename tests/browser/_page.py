"""What every browser test does with a notebook page, in JupyterLab and in Notebook 7.

Open a notebook and wait for its kernel, run all its cells, keep the page's console and any
request that leaves 127.0.0.1, save screenshots, and on a failure save what explains it
(``open_notebook`` does all of it). Every wait is on a DOM condition; its timeout only turns
a hang into a failure.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from .conftest import Jupyter

TIMEOUT_MS = 20_000  # any one step; the kernel's first start gets KERNEL_TIMEOUT_MS
KERNEL_TIMEOUT_MS = 60_000
FRONTENDS = ["lab", "notebook7"]  # parametrize `frontend` with these to run a test in both
VIEWPORT = {"width": 1100, "height": 1300}  # tall enough for a panel and the cells above it

# The kernel is ready: Lab says so in its status bar. Notebook 7 has no status bar; its
# toolbar names the kernel once there is one, and its execution indicator then says idle.
KERNEL_READY = {
    "lab": [".jp-StatusBar-TextItem:has-text('| Idle')"],
    "notebook7": [
        ".jp-KernelName:not(:has-text('No Kernel'))",
        ".jp-Notebook-ExecutionIndicator[data-status='idle']",
    ],
}


@dataclass
class Watch:
    """What a page said (console, errors) and where it tried to go beyond 127.0.0.1."""

    console: list[str] = field(default_factory=list)
    off_loopback: list[str] = field(default_factory=list)

    def attach(self, page: Any) -> None:
        page.on("console", lambda m: self.console.append(f"{m.type}: {m.text}"))
        page.on("pageerror", lambda e: self.console.append(f"pageerror: {e}"))
        page.on("request", lambda r: self._note(r.url))

    def _note(self, url: str) -> None:
        parsed = urlparse(url)
        if parsed.scheme in ("http", "https", "ws", "wss") and parsed.hostname != "127.0.0.1":
            self.off_loopback.append(url)


def wait_for_kernel(page: Any, frontend: str) -> None:
    """Wait for the notebook and an idle kernel, choosing the default kernel if asked."""
    page.locator(".jp-Notebook .jp-Cell").first.wait_for(timeout=KERNEL_TIMEOUT_MS)
    first, *rest = KERNEL_READY[frontend]
    page.locator(f"{first}, .jp-Dialog").first.wait_for(timeout=KERNEL_TIMEOUT_MS)
    if page.locator(".jp-Dialog").count():
        page.click(".jp-Dialog .jp-mod-accept")
    for ready in (first, *rest):
        page.locator(ready).wait_for(timeout=KERNEL_TIMEOUT_MS)


def run_all(page: Any) -> None:
    """Run > Run All Cells, from the menu bar (the same command in both frontends)."""
    page.click(".lm-MenuBar-itemLabel:text-is('Run')")
    page.click("li.lm-Menu-item[data-command='runmenu:run-all']")


def save_artifacts(page: Any, artifacts: Path, watch: Watch, server: Jupyter) -> None:
    """Keep what explains a failure; never mask the failure itself."""
    artifacts.mkdir(parents=True, exist_ok=True)
    try:
        page.locator(".jp-Cell").last.scroll_into_view_if_needed(timeout=2_000)
        page.screenshot(path=artifacts / "failure.png")
    except Exception as error:  # the page may be what broke
        watch.console.append(f"(no screenshot: {error})")
    try:
        outputs = page.locator(".jp-OutputArea-output").all_inner_texts()
    except Exception as error:
        outputs = [f"(no outputs: {error})"]
    (artifacts / "outputs.txt").write_text("\n----\n".join(outputs))
    (artifacts / "console.txt").write_text("\n".join(watch.console))
    shutil.copy(server.log, artifacts / server.log.name)
    print(f"browser test artifacts in {artifacts}", file=sys.stderr)


@contextmanager
def open_notebook(
    chromium: Any, server: Jupyter, notebook: str, artifacts: Path, *, clipboard: bool = False
) -> Iterator[Any]:
    """``notebook`` open in a new browser context, its kernel idle and Run All clicked.

    The body waits for what it needs (a panel, a card). At the end, the page must not have
    reached beyond 127.0.0.1; on any failure, in the body too, save what explains it.
    ``clipboard`` grants the page the clipboard.
    """
    context = chromium.new_context(viewport=VIEWPORT, device_scale_factor=2)
    if clipboard:
        context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server.url)
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    watch = Watch()
    watch.attach(page)
    try:
        page.goto(server.notebook_url(notebook))
        wait_for_kernel(page, server.frontend)
        run_all(page)
        yield page
        assert watch.off_loopback == [], f"the page reached beyond 127.0.0.1: {watch.off_loopback}"
    except BaseException:
        save_artifacts(page, artifacts, watch, server)
        raise
    finally:
        context.close()


def save_shot(element: Any, artifacts: Path, name: str) -> Path:
    """``element`` (a page or locator) as ``name`` in the artifacts, and in
    ``$CHATKIT_SHOTS_DIR`` too if set; returns the artifact's path."""
    artifacts.mkdir(parents=True, exist_ok=True)
    path = artifacts / name
    element.screenshot(path=path)
    if shots := os.environ.get("CHATKIT_SHOTS_DIR"):
        Path(shots).mkdir(parents=True, exist_ok=True)
        shutil.copy(path, Path(shots) / path.name)
    return path
