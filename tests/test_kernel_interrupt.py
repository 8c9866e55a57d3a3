"""A real kernel: the interrupt button stops `%chat QUESTION` and keeps the partial answer."""

from __future__ import annotations

import asyncio
import os
import queue
from pathlib import Path
from typing import Any

import pytest
from fake_openai import FakeOpenAI, Turn
from jupyter_client.manager import start_new_kernel

from chatkit_notebook import NotebookContext
from chatkit_notebook.stores.file import NotebookStore


def _iopub_until(client: Any, predicate: Any, timeout: float = 60) -> list[dict[str, Any]]:
    """Read iopub messages until one satisfies ``predicate`` (a hang detector, not pacing)."""
    seen = []
    while True:
        try:
            message = client.get_iopub_msg(timeout=timeout)
        except queue.Empty as e:
            raise AssertionError(
                f"no matching iopub message; saw {[m['msg_type'] for m in seen]}"
            ) from e
        seen.append(message)
        if predicate(message):
            return seen


def _markdown(message: dict[str, Any]) -> str:
    data = message["content"].get("data", {})
    return str(data.get("text/markdown", ""))


@pytest.mark.slow
def test_interrupt_stops_the_turn_and_keeps_the_partial_answer(
    fake_openai: FakeOpenAI, tmp_path: Path, monkeypatch: Any
) -> None:
    store_path = tmp_path / "kernel.chatkit.json"
    fake_openai.script(Turn.text(["It ", "was ", "a ", "dark ", "night"]).hang(2))
    monkeypatch.setenv("CHATKIT_NOTEBOOK_STORE", str(store_path))
    monkeypatch.setenv("OPENAI_BASE_URL", fake_openai.base_url)
    monkeypatch.setenv("CHATKIT_NOTEBOOK_MODEL", "test-model")
    manager, client = start_new_kernel(
        kernel_name="python3", startup_timeout=60, env=dict(os.environ)
    )
    try:
        client.execute_interactive("%load_ext chatkit_notebook", timeout=60)
        request = client.execute("%chat Tell me a story")
        # Both deltas, shown while the model hangs: the preview catches up in a pause.
        _iopub_until(
            client,
            lambda m: (
                m["parent_header"].get("msg_id") == request
                and m["msg_type"] in ("display_data", "update_display_data")
                and "It was" in _markdown(m)
            ),
        )
        manager.interrupt_kernel()
        reply = client.get_shell_msg(timeout=60)
        assert reply["parent_header"]["msg_id"] == request
        assert reply["content"]["status"] == "error"
        assert reply["content"]["ename"] == "ChatStopped"  # a KeyboardInterrupt: Run All stops
        after = _iopub_until(
            client,
            lambda m: (
                m["parent_header"].get("msg_id") == request
                and m["msg_type"] == "status"
                and m["content"]["execution_state"] == "idle"
            ),
        )
        kept = [_markdown(m) for m in after if m["msg_type"] == "display_data"]
        assert "It was" in [k.strip() for k in kept]  # the partial answer stays in the cell
        (error,) = [m["content"] for m in after if m["msg_type"] == "error"]
        assert error["traceback"] == [  # one line, not a 40-line traceback
            "Stopped: the answer was stopped; what had arrived is kept in the thread."
        ]
        recorded = fake_openai.wait_for(lambda r: r.disconnected, timeout=10)
        assert recorded.deltas_sent == 2  # the model stopped when the cell was interrupted
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)

    async def partial() -> list[str]:
        store = NotebookStore(store_path)
        (thread,) = (await store.load_threads(5, None, "desc", NotebookContext())).data
        items = (await store.load_thread_items(thread.id, None, 50, "asc", NotebookContext())).data
        return ["".join(c.text for c in i.content) for i in items if i.type == "assistant_message"]

    assert asyncio.run(partial()) == ["It was "]
