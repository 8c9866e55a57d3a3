"""Benchmark how smoothly a streamed answer grows in a real browser, and what it costs.

Run ``python bench/stream_browser_bench.py`` (``--json PATH`` to keep the numbers,
``--frontend notebook7`` for Notebook 7). It starts JupyterLab on 127.0.0.1 (the browser
tests' ``serve``), opens a notebook whose panel talks to a scripted, offline model, asks one
question and, in headless Chromium, records:

- every change of the answer's visible text (a MutationObserver), and every paint
  (requestAnimationFrame): the gaps between visible updates while text arrives, p50, p95
  and max, and the longest the page went without painting (a busy machine's stalls);
- every websocket frame the page receives while the answer streams: the comm messages to
  the answer's widget, their ``data`` (what the widget protocol carries) and whole frames,
  against the answer's final HTML; the most messages in any one second.

Two answers: **paced**, the issue's case (80 one-word deltas, one every 50 ms: 4 s), and
**long**, ``tests/browser/long_chat.py``'s 600-word answer (one word every 10 ms).
Run it with ``PYTHONPATH`` set to another checkout to measure that one (the kernel imports
``chatkit_notebook`` from there): BENCHMARKS.md compares today's panel with ``main``'s.
"""

from __future__ import annotations

import argparse
import itertools
import json
import statistics
import struct
import sys
import tempfile
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent
sys.path[:0] = [str(REPO_ROOT / "tests"), str(REPO_ROOT)]

from _common import machine, machine_line, markdown_table  # noqa: E402

from tests.browser._page import KERNEL_TIMEOUT_MS, run_all, wait_for_kernel  # noqa: E402
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, serve  # noqa: E402

CASES = {"paced": (80, 0.05), "long": (None, 0.01)}  # (deltas, seconds between deltas)
NOTEBOOK = "stream_bench.ipynb"
SETUP = """\
import os, sys
from pathlib import Path
tests = Path(os.environ["CHATKIT_TESTS_DIR"])
sys.path[:0] = [str(tests), str(tests / "browser")]
import asyncio, dataclasses
from agents.testing import ScriptedModel
from scripted import streamed_text
from long_chat import STREAMED_CHUNKS
from chatkit_notebook import ChatPanel, NotebookChatServer, NotebookContext, NotebookStore
chunks = STREAMED_CHUNKS[: {deltas}]
step = streamed_text(chunks)
events = step.stream_events
async def slow(call):
    async for event in events(call):
        if event.type == "response.output_text.delta":
            await asyncio.sleep({delay})
        yield event
model = ScriptedModel([dataclasses.replace(step, stream_events=slow)])
server = NotebookChatServer(NotebookStore(Path(os.environ["CHATKIT_NOTEBOOK_STORE"])), model=model)
panel = ChatPanel(server, NotebookContext(namespace=globals()), status="bench")
panel.wait()
panel
"""

RECORD_JS = """() => {
  const panel = document.querySelector('.ck-panel');
  const record = (window.__ckBench = {updates: [], frames: [], done: false});
  const t0 = performance.now();
  let seen = -1;
  const painted = (now) => {
    record.frames.push(now - t0);
    if (!record.done) requestAnimationFrame(painted);
  };
  requestAnimationFrame(painted);
  new MutationObserver(() => {
    const answer = panel.querySelector('.ck-messages .ck-assistant');
    if (!answer) return;
    const chars = answer.innerText.length;
    if (chars !== seen) { seen = chars; record.updates.push([performance.now() - t0, chars]); }
    const tools = answer.querySelector('.ck-answer-tools');
    const send = panel.querySelector('.ck-send');
    if (tools ? !tools.hidden : (send && !send.disabled && answer.innerText.trim())) {
      record.done = true;
      const html = answer.querySelector('.ck-answer-html');
      record.html = (html || answer).innerHTML.length;
    }
  }).observe(panel, {subtree: true, childList: true, characterData: true, attributes: true});
}"""


def _comm_data(payload: str | bytes) -> tuple[str, int] | None:
    """(comm id, bytes of its data) for a comm_msg frame, in either websocket protocol."""
    try:
        if isinstance(payload, str):
            message = json.loads(payload)
            content = message.get("content", {})
            kind = message.get("header", {}).get("msg_type")
        else:
            (count,) = struct.unpack_from("<Q", payload, 0)
            offsets = struct.unpack_from(f"<{count}Q", payload, 8)
            parts = [
                payload[a:b] for a, b in zip(offsets, [*offsets[1:], len(payload)], strict=False)
            ]
            header, content = json.loads(parts[1]), json.loads(parts[4])
            kind = header.get("msg_type")
    except (ValueError, struct.error, IndexError):
        return None
    if kind != "comm_msg":
        return None
    return content.get("comm_id", ""), len(json.dumps(content.get("data"), separators=(",", ":")))


def run_case(
    browser: Any, name: str, deltas: int | None, delay: float, frontend: str
) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as scratch, serve(Path(scratch), frontend) as jupyter:
        cell = {
            "cell_type": "code",
            "execution_count": None,
            "id": "bench",
            "metadata": {},
            "outputs": [],
            "source": SETUP.format(deltas=deltas, delay=delay),
        }
        notebook = {
            "cells": [cell],
            "metadata": {
                "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}
            },
            "nbformat": 4,
            "nbformat_minor": 5,
        }
        (jupyter.root / NOTEBOOK).write_text(json.dumps(notebook))
        page = browser.new_page(viewport={"width": 1100, "height": 900})
        frames: list[tuple[float, str, int, int]] = []
        started = [0.0]

        def on_socket(ws: Any) -> None:
            def received(payload: str | bytes) -> None:
                found = _comm_data(payload)
                if found is not None and started[0]:
                    size = len(payload.encode() if isinstance(payload, str) else payload)
                    frames.append((_now(), found[0], found[1], size))

            ws.on("framereceived", received)

        page.on("websocket", on_socket)
        page.goto(jupyter.notebook_url(NOTEBOOK))
        wait_for_kernel(page, frontend)
        run_all(page)
        page.locator(".ck-panel .ck-send").wait_for(timeout=KERNEL_TIMEOUT_MS)
        page.evaluate(RECORD_JS)
        page.fill(".ck-panel .ck-input textarea", "Sum it up, please.")
        started[0] = _now()
        page.click(".ck-panel .ck-send")
        page.wait_for_function("() => window.__ckBench.done", timeout=120_000)
        page.wait_for_timeout(500)  # the receipt and thread list that follow, not measured
        record = page.evaluate("window.__ckBench")
        page.close()
    updates = record["updates"]
    total = updates[-1][1]
    growing = [ms for ms, chars in updates if 0 < chars < total] + [updates[-1][0]]
    gaps = [b - a for a, b in itertools.pairwise(growing)] or [0.0]
    paints = record["frames"]
    stalls = [b - a for a, b in itertools.pairwise(paints)] or [0.0]
    # The answer's widget: the comm that received the most data.
    by_comm: dict[str, list[tuple[float, int, int]]] = {}
    for at, comm, data, size in frames:
        by_comm.setdefault(comm, []).append((at, data, size))
    answer = max(by_comm.values(), key=lambda rows: sum(r[1] for r in rows))
    per_second: dict[int, int] = {}
    for at, _, _ in answer:
        per_second[int(at - answer[0][0])] = per_second.get(int(at - answer[0][0]), 0) + 1
    html = record["html"]
    return {
        "case": name,
        "visible_updates": len(growing),
        "streamed_s": round((growing[-1] - growing[0]) / 1000, 2),
        "gap_p50_ms": round(statistics.median(gaps)),
        "gap_p95_ms": round(statistics.quantiles(gaps, n=20)[-1])
        if len(gaps) > 1
        else round(gaps[0]),
        "gap_max_ms": round(max(gaps)),
        "longest_without_paint_ms": round(max(stalls)),
        "messages": len(answer),
        "max_messages_per_s": max(per_second.values()),
        "data_bytes": sum(r[1] for r in answer),
        "frame_bytes": sum(r[2] for r in answer),
        "html_bytes": html,
        "data_per_html_byte": round(sum(r[1] for r in answer) / html, 2),
        "frames_per_html_byte": round(sum(r[2] for r in answer) / html, 2),
    }


def _now() -> float:
    import time

    return time.monotonic()


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--frontend", default="lab", choices=["lab", "notebook7"])
    parser.add_argument("--label", default="this checkout")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        rows = [run_case(browser, name, *spec, args.frontend) for name, spec in CASES.items()]
        browser.close()
    for row in rows:
        row["variant"] = args.label
    print(machine_line(machine()))
    columns = [
        "variant",
        "case",
        "visible_updates",
        "streamed_s",
        "gap_p50_ms",
        "gap_p95_ms",
        "gap_max_ms",
        "longest_without_paint_ms",
        "messages",
        "max_messages_per_s",
        "html_bytes",
        "data_per_html_byte",
        "frames_per_html_byte",
    ]
    print(markdown_table(columns, [[str(row[c]) for c in columns] for row in rows], left_columns=2))
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
