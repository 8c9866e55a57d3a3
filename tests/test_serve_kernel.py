"""``%chatkit serve`` in a real kernel: ChatKit over HTTP beside the notebook's own chat.

One ipykernel (``jupyter_client``) serves the module's tests; its model is the loopback
OpenAI-compatible server (``fake_openai``), which answers each question with
``Answer to: <question>`` unless a test scripted a turn first. The tests talk to the
kernel's endpoint with httpx and parse the SSE stream with chatkit's own event type.
Timeouts only detect hangs; nothing waits for time to pass.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fake_openai import FakeOpenAI, Gate, RecordedRequest, Turn
from test_run_python_kernel import HANG, Kernel
from test_serve import answer_of, ask, port_is_free, read_until

from chatkit_notebook import NotebookContext
from chatkit_notebook._client import decode_event
from chatkit_notebook.stores.file import NotebookStore

pytestmark = pytest.mark.slow

_SERVED = re.compile(
    r"Serving this notebook's chat at (\S+)\nBearer token \(shown only now\): (\S+)"
)


def _question(request: RecordedRequest) -> str:
    """The text of the last user message a model request carries."""
    users = [m for m in request.messages if m.get("role") == "user"]
    content = users[-1]["content"] if users else ""
    if isinstance(content, list):
        content = " ".join(part.get("text", "") for part in content)
    return str(content)


@pytest.fixture(scope="module")
def model() -> Iterator[FakeOpenAI]:
    with FakeOpenAI(fallback=lambda r: Turn.text(f"Answer to: {_question(r)}", chunks=8)) as fake:
        yield fake
    assert not fake.unscripted


@pytest.fixture(scope="module")
def kernel(tmp_path_factory: pytest.TempPathFactory, model: FakeOpenAI) -> Iterator[Kernel]:
    store = tmp_path_factory.mktemp("serve") / "kernel.chatkit.json"
    started = Kernel(store, OPENAI_BASE_URL=model.base_url, CHATKIT_NOTEBOOK_MODEL="test-model")
    try:
        started.run("%load_ext chatkit_notebook\nimport chatkit_notebook")
        yield started
    finally:
        started.close()


class Endpoint:
    """The kernel's endpoint, as the magic's output names it."""

    def __init__(self, output: str) -> None:
        match = _SERVED.search(output)
        assert match is not None, output
        self.url, self.token = match.groups()
        self.port = int(self.url.rsplit(":", 1)[1].split("/")[0])

    @property
    def auth(self) -> dict[str, str]:
        return {"authorization": f"Bearer {self.token}"}

    def post(self, payload: object, headers: dict[str, str] | None = None) -> httpx.Response:
        body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        return httpx.post(self.url, content=body, headers=headers or self.auth, timeout=HANG)

    def threads(self) -> list[dict[str, Any]]:
        listed = self.post({"type": "threads.list", "params": {"limit": 100}})
        assert listed.status_code == 200, listed.text
        return list(listed.json()["data"])

    def items(self, thread_id: str) -> list[dict[str, Any]]:
        params = {"thread_id": thread_id, "order": "asc", "limit": 100}
        listed = self.post({"type": "items.list", "params": params})
        assert listed.status_code == 200, listed.text
        return list(listed.json()["data"])


def serve(kernel: Kernel, line: str = "--port 0") -> Endpoint:
    """Serve afresh (a new port and token) and return the endpoint."""
    kernel.run("%chatkit serve stop")
    return Endpoint(kernel.run(f"%chatkit serve {line}"))


def text_of(item: dict[str, Any]) -> str:
    return "".join(part.get("text", "") for part in item.get("content", []))


def until(check: Callable[[], Any]) -> Any:
    """Call ``check`` until it returns something truthy (a hang detector bounds it)."""
    deadline = time.monotonic() + HANG
    while not (found := check()):
        if time.monotonic() > deadline:
            raise AssertionError(f"still not there after {HANG:g} s")
    return found


def test_a_thread_started_over_http_shows_in_the_kernels_panel(kernel: Kernel) -> None:
    endpoint = serve(kernel)
    with httpx.stream(
        "POST", endpoint.url, content=ask("Hello kernel"), headers=endpoint.auth, timeout=HANG
    ) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        events = [decode_event(line.encode()) for line in response.iter_lines() if line]
    assert events[0].type == "thread.created"
    thread_id = events[0].thread.id
    done = [e.item for e in events if e.type == "thread.item.done"]
    assert [text_of(i.model_dump()) for i in done if i.type == "assistant_message"] == [
        "Answer to: Hello kernel"
    ]
    assert thread_id in [t["id"] for t in endpoint.threads()]
    items = endpoint.items(thread_id)
    assert [(i["type"], text_of(i)) for i in items if i["type"].endswith("_message")] == [
        ("user_message", "Hello kernel"),
        ("assistant_message", "Answer to: Hello kernel"),
    ]
    shown = kernel.run(
        "panel = chatkit_notebook.kernel.session.loaded().panel()\n"
        "panel.wait()\n"
        "print([value for _, value in panel._bar.threads.options])\n"
        f"panel.open_thread({thread_id!r}).result(timeout=60)\n"
        "print([c.text for i in panel._state.items.values() if i.type.endswith('_message')"
        " for c in i.content])\n"
        "print(panel._status.value)"
    )
    assert thread_id in shown.splitlines()[0]
    assert "['Hello kernel', 'Answer to: Hello kernel']" in shown
    assert f"Serving at {endpoint.url}" in shown
    assert endpoint.token not in shown
    # The other way round: a thread started in a cell is listed over HTTP.
    kernel.run("%chatkit new")
    assert "Answer to: Hello from a cell" in kernel.run("%chat Hello from a cell")
    assert endpoint.threads()[0]["title"] == "Hello from a cell"


def test_bad_requests_are_refused_and_the_kernel_keeps_serving(kernel: Kernel) -> None:
    endpoint = serve(kernel)
    listing = {"type": "threads.list", "params": {}}
    assert endpoint.post(listing, {"content-type": "application/json"}).status_code == 401
    wrong = endpoint.post(listing, {"authorization": "Bearer " + endpoint.token[::-1]})
    assert wrong.status_code == 401
    assert wrong.json() == {
        "detail": "wrong bearer token: send 'Authorization: Bearer TOKEN' "
        "with the token %chatkit serve showed"
    }
    assert endpoint.post(b"[" * (2 * 1024 * 1024)).status_code == 413
    malformed = endpoint.post(b'{"type": "threads.list", "params": ')
    assert malformed.status_code == 422
    assert malformed.json()["detail"].startswith("not a ChatKit request: Invalid JSON: EOF")
    assert endpoint.post(listing).status_code == 200
    assert "HTTP endpoint: serving at" in kernel.run("%chatkit doctor")


def test_a_client_that_disconnects_stops_the_model_and_keeps_the_partial_answer(
    kernel: Kernel, model: FakeOpenAI
) -> None:
    endpoint = serve(kernel)
    model.script(Turn.text(["It ", "was ", "a ", "dark ", "night"]).paced(Gate(2)))
    with httpx.stream(
        "POST", endpoint.url, content=ask("Tell me a story"), headers=endpoint.auth, timeout=HANG
    ) as response:
        thread_id = read_until(response.iter_lines(), "It was ")
    # two deltas in, the client left (closing the connection)
    recorded = model.wait_for(
        lambda r: _question(r) == "Tell me a story" and r.outcome != "", timeout=HANG
    )
    assert recorded.disconnected
    assert recorded.deltas_sent == 2  # the model sent nothing more once the client left

    def kept() -> list[str]:
        items = endpoint.items(thread_id)
        return [text_of(i) for i in items if i["type"] == "assistant_message"]

    assert until(kept) == ["It was "]


async def test_twenty_streaming_clients_beside_a_chat_in_the_kernel(
    kernel: Kernel, model: FakeOpenAI
) -> None:
    endpoint = serve(kernel)
    held = Turn.text(["Held ", "answer"]).hang(1)
    model.script(held)
    kernel.run("%chatkit new")
    cell = kernel.client.execute("%chat Hold on")
    model.wait_for(lambda r: _question(r) == "Hold on", timeout=HANG)  # %chat is streaming

    async def client(n: int) -> tuple[str, str, set[str]]:
        async with (
            httpx.AsyncClient(timeout=HANG) as http,
            http.stream(
                "POST", endpoint.url, content=ask(f"Question {n}"), headers=endpoint.auth
            ) as response,
        ):
            assert response.status_code == 200
            events = [decode_event(line.encode()) async for line in response.aiter_lines() if line]
        assert events[0].type == "thread.created"
        threads = {e.item.thread_id for e in events if hasattr(e, "item")}
        return events[0].thread.id, answer_of(events), threads

    results = await asyncio.gather(*(client(n) for n in range(20)))
    assert [answer for _, answer, _ in results] == [f"Answer to: Question {n}" for n in range(20)]
    assert len({thread_id for thread_id, _, _ in results}) == 20
    for thread_id, _, threads in results:
        assert threads == {thread_id}  # every event of a stream is about its own thread
    assert not kernel.client.shell_channel.msg_ready()  # the %chat answer still waits
    held.release()
    reply = kernel.client.get_shell_msg(timeout=HANG)
    assert reply["parent_header"]["msg_id"] == cell
    assert reply["content"]["status"] == "ok"
    titles = [t["title"] for t in endpoint.threads()]
    assert "Hold on" in titles
    assert {f"Question {n}" for n in range(20)} <= set(titles)


def test_reload_and_unload_free_the_port(kernel: Kernel) -> None:
    port = serve(kernel).port
    assert not port_is_free(port)
    kernel.run("%reload_ext chatkit_notebook")
    assert port_is_free(port)
    served = Endpoint(kernel.run(f"%chatkit serve --port {port}"))
    assert served.port == port
    kernel.run("%unload_ext chatkit_notebook")
    assert port_is_free(port)
    kernel.run("%load_ext chatkit_notebook")
    again = Endpoint(kernel.run(f"%chatkit serve --port {port}"))
    assert again.post({"type": "threads.list", "params": {}}).status_code == 200


def test_kernel_shutdown_stops_serving_and_keeps_a_streaming_answer(
    tmp_path: Path, model: FakeOpenAI
) -> None:
    store_path = tmp_path / "shutdown.chatkit.json"
    kernel = Kernel(store_path, OPENAI_BASE_URL=model.base_url, CHATKIT_NOTEBOOK_MODEL="test-model")
    try:
        kernel.run("%load_ext chatkit_notebook")
        endpoint = Endpoint(kernel.run("%chatkit serve --port 0"))
        model.script(Turn.text(["Half ", "an ", "answer"]).hang(2))
        with httpx.stream(
            "POST", endpoint.url, content=ask("Until shutdown"), headers=endpoint.auth, timeout=HANG
        ) as response:
            lines = response.iter_lines()
            read_until(lines, "Half an ")
            kernel.client.stop_channels()
            kernel.manager.shutdown_kernel(now=False)  # a shutdown request, as Jupyter sends
            rest = [line for line in lines if line]  # the stream ends with the kernel
    finally:
        kernel.close()
    assert "thread.item.done" not in "".join(rest)
    assert port_is_free(endpoint.port)
    recorded = model.wait_for(lambda r: _question(r) == "Until shutdown" and r.outcome != "")
    assert recorded.deltas_sent == 2

    async def stored() -> list[str]:
        store = NotebookStore(store_path)
        (thread,) = (await store.load_threads(5, None, "desc", NotebookContext())).data
        page = await store.load_thread_items(thread.id, None, 50, "asc", NotebookContext())
        return [text_of(i.model_dump()) for i in page.data if i.type == "assistant_message"]

    assert asyncio.run(stored()) == ["Half an "]  # saved by the exit hook, not lost with it


def test_a_client_over_http_reads_the_served_kernels_last_error(
    kernel: Kernel, model: FakeOpenAI
) -> None:
    endpoint = serve(kernel)
    kernel.run("import pandas as pd\nsales = pd.DataFrame({'revenue': [120, 80]})")
    status, _ = kernel.try_run("sales['revenu'].sum()")
    assert status == "error"
    model.script(
        Turn.tool_call("last_error", {}, call_id="c1"), Turn.text("The column is 'revenue'.")
    )
    before = len(model.requests)
    with httpx.stream(
        "POST", endpoint.url, content=ask("why did it fail?"), headers=endpoint.auth, timeout=HANG
    ) as response:
        assert response.status_code == 200
        events = [decode_event(line.encode()) for line in response.iter_lines() if line]
    assert answer_of(events) == "The column is 'revenue'."
    tool_messages = [m for m in model.requests[before + 1].messages if m.get("role") == "tool"]
    result = json.loads(tool_messages[-1]["content"])
    assert result["raised"] is True
    assert result["untrusted_notebook_data"]["failing_line"] == "sales['revenu'].sum()"
    assert "revenue" in json.dumps(result["untrusted_notebook_data"]["variables"]["sales"])
