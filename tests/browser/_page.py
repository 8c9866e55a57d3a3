"""What every browser test does with a notebook page, in JupyterLab and in Notebook 7.

Open a notebook and wait for its kernel, run all its cells, keep the page's console and any
request that leaves 127.0.0.1, and on a failure save what explains it. Every wait is on a DOM
condition; its timeout only turns a hang into a failure.
"""

from __future__ import annotations

import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from .conftest import Jupyter

TIMEOUT_MS = 20_000  # any one step; the kernel's first start gets KERNEL_TIMEOUT_MS
KERNEL_TIMEOUT_MS = 60_000

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
