"""``%chatkit serve`` in this process: a real uvicorn on 127.0.0.1, real HTTP from httpx.

The shell is a real IPython shell with the extension loaded (``test_magics``' fixture, which
unloads it after each test, and so stops serving), its server given a ``ScriptedModel``.
The kernel-level tests (a real ipykernel, a loopback model server) are in
``test_serve_kernel.py``.
"""

from __future__ import annotations

import json
import logging
import socket
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from agents.testing import ScriptedModel, assistant_message
from chatkit.types import ThreadStreamEvent
from fake_openai import FakeOpenAI, Gate, Turn
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output
from test_magics import session, shell_fixture  # noqa: F401  (the `shell` fixture)

from chatkit_notebook import ConfigError, serve, stop_serving
from chatkit_notebook._client import decode_event, message_request
from chatkit_notebook.kernel._http import MAX_BODY_BYTES
from chatkit_notebook.kernel.serving import Serving, current

HANG = 60.0  # a hang detector for HTTP calls, never a pacing


def chatkit(shell: InteractiveShell, line: str) -> str:
    with capture_output() as captured:
        shell.run_line_magic("chatkit", line)
    return captured.stdout


def start(shell: InteractiveShell, line: str = "--port 0") -> tuple[Serving, str]:
    """``%chatkit serve LINE``: what is served, and what the magic printed."""
    out = chatkit(shell, f"serve {line}")
    serving = current()
    assert serving is not None, out
    return serving, out


def auth(serving: Serving) -> dict[str, str]:
    return {"authorization": f"Bearer {serving.token}"}


def ask(text: str) -> bytes:
    return message_request(None, text).model_dump_json().encode()


def stream(serving: Serving, body: bytes) -> list[ThreadStreamEvent]:
    """POST a streaming request; its events, each SSE frame parsed as chatkit's type."""
    with httpx.stream("POST", serving.url, content=body, headers=auth(serving), timeout=HANG) as r:
        assert r.status_code == 200, r.read()
        assert r.headers["content-type"].startswith("text/event-stream")
        return [decode_event(line.encode()) for line in r.iter_lines() if line]


def post(
    serving: Serving, payload: object, headers: dict[str, str] | None = None
) -> httpx.Response:
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return httpx.post(serving.url, content=body, headers=headers or auth(serving), timeout=HANG)


def answer_of(events: list[ThreadStreamEvent]) -> str:
    return "".join(
        part.text
        for e in events
        if e.type == "thread.item.done" and e.item.type == "assistant_message"
        for part in e.item.content
    )


def read_until(lines: Iterator[str], text: str) -> str:
    """Read a stream's SSE lines until its answer so far is ``text``; the thread's id.

    ``lines`` is left where it stopped, so the rest can still be read.
    """
    so_far = thread_id = ""
    for line in filter(None, lines):
        event = decode_event(line.encode())
        if event.type == "thread.created":
            thread_id = event.thread.id
        elif event.type == "thread.item.updated" and event.update.type.endswith("text_delta"):
            so_far += event.update.delta
            if so_far == text:
                return thread_id
    raise AssertionError(f"the stream ended at {so_far!r}, before {text!r}")


def port_is_free(port: int) -> bool:
    """Whether a new listener can bind the port, as ``serve`` does (closed connections
    may linger in TIME_WAIT: SO_REUSEADDR, which does not let two listeners share it)."""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def test_a_thread_made_over_http_is_the_panels_and_the_other_way_round(
    shell: InteractiveShell,
) -> None:
    session().server().model = ScriptedModel(
        [[assistant_message("Over **HTTP**.")], [assistant_message("In the cell.")]]
    )
    serving, _ = start(shell)
    events = stream(serving, ask("Hello over HTTP"))
    assert events[0].type == "thread.created"
    thread_id = events[0].thread.id
    assert answer_of(events) == "Over **HTTP**."

    panel = session().panel()  # the panel of this session: the same server object
    panel.wait()
    assert thread_id in [value for _, value in panel._bar.threads.options]
    panel.open_thread(thread_id).result(timeout=HANG)
    shown = [i for i in panel._state.items.values() if i.type.endswith("_message")]
    assert [c.text for i in shown for c in i.content] == ["Hello over HTTP", "Over **HTTP**."]
    assert f"Serving at {serving.url}" in panel._status.value
    assert serving.token not in panel._status.value

    session().use_thread(None)
    with capture_output():
        shell.run_line_magic("chat", "Hello from the cell")
    listed = post(serving, {"type": "threads.list", "params": {"limit": 10}})
    assert listed.headers["content-type"] == "application/json"
    titles = [t["title"] for t in listed.json()["data"]]
    assert titles == ["Hello from the cell", "Hello over HTTP"]
    params = {"thread_id": thread_id, "order": "asc"}
    items = post(serving, {"type": "items.list", "params": params}).json()["data"]
    assert [i["type"] for i in items][:2] == ["user_message", "assistant_message"]


def test_the_magic_shows_the_url_the_token_once_and_a_curl_line(shell: InteractiveShell) -> None:
    serving, out = start(shell)
    assert f"Serving this notebook's chat at {serving.url}" in out
    assert out.count(serving.token) == 2  # the token line, and the curl line
    (curl,) = [line for line in out.splitlines() if line.startswith("curl ")]
    assert f"curl -N {serving.url} -H 'Authorization: Bearer {serving.token}'" in curl
    body = json.loads(curl.split(" -d ", 1)[1].strip("'"))
    assert body["type"] == "threads.create"  # a real request: its answer streams
    assert "Warning" not in out
    again = chatkit(shell, "serve --port 0")
    assert again.strip() == f"chatkit: already serving at {serving.url}; %chatkit serve stop first"
    assert chatkit(shell, "serve stop").startswith(f"Stopped serving at {serving.url}")
    assert chatkit(shell, "serve stop").startswith("Not serving")
    other, _ = start(shell)
    assert other.token != serving.token  # a new token for each serve


def test_refusals_carry_a_one_line_reason_never_a_traceback(shell: InteractiveShell) -> None:
    session().server().model = ScriptedModel([])
    serving, _ = start(shell)
    listing = {"type": "threads.list", "params": {}}
    refused = {
        "no token": post(serving, listing, {"content-type": "application/json"}),
        "wrong token": post(serving, listing, {"authorization": "Bearer " + "x" * 43}),
        "not JSON": post(serving, b"{not json"),
        "not ChatKit": post(serving, {"type": "threads.explode", "params": {}}),
        "too big": post(serving, b"x" * (MAX_BODY_BYTES + 1)),
        "too big, asked first": httpx.post(
            serving.url,
            content=b"x" * (MAX_BODY_BYTES + 1),
            headers={**auth(serving), "expect": "100-continue"},
        ),
        "unknown thread": post(
            serving, {"type": "threads.get_by_id", "params": {"thread_id": "thr_nope"}}
        ),
        "foreign origin": post(serving, listing, {**auth(serving), "origin": "https://a.example"}),
    }
    statuses = {name: response.status_code for name, response in refused.items()}
    assert statuses == {
        "no token": 401,
        "wrong token": 401,
        "not JSON": 422,
        "not ChatKit": 422,
        "too big": 413,
        "too big, asked first": 413,
        "unknown thread": 404,
        "foreign origin": 403,
    }
    for response in refused.values():
        assert response.headers["content-type"] == "application/json"
        (reason,) = response.json().values()
        assert "\n" not in reason
        assert "Traceback" not in reason
    assert refused["no token"].headers["www-authenticate"] == "Bearer"
    assert refused["no token"].json()["detail"].startswith("no bearer token: send ")
    assert refused["not JSON"].json()["detail"].startswith("not a ChatKit request: Invalid JSON")
    assert "1,048,576 bytes" in refused["too big"].json()["detail"]
    assert "--allow-origin https://a.example" in refused["foreign origin"].json()["detail"]
    # A body of exactly the cap is read and judged as a request.
    assert post(serving, b" " * (MAX_BODY_BYTES - 2) + b"{}").status_code == 422
    assert post(serving, listing).status_code == 200  # and still serving


def test_only_named_origins_get_cors(shell: InteractiveShell) -> None:
    preflight = {
        "origin": "http://localhost:3000",
        "access-control-request-method": "POST",
        "access-control-request-headers": "authorization, content-type",
    }
    serving, _ = start(shell)
    closed = httpx.options(serving.url, headers=preflight)
    assert "access-control-allow-origin" not in closed.headers
    chatkit(shell, "serve stop")
    serving, out = start(shell, "--port 0 --allow-origin http://localhost:3000")
    assert "Web pages from http://localhost:3000 may call it." in out
    opened = httpx.options(serving.url, headers=preflight)
    assert opened.status_code == 200
    assert opened.headers["access-control-allow-origin"] == "http://localhost:3000"
    assert "authorization" in opened.headers["access-control-allow-headers"].lower()
    listing = {"type": "threads.list", "params": {}}
    called = post(serving, listing, {**auth(serving), "origin": "http://localhost:3000"})
    assert called.status_code == 200
    assert called.headers["access-control-allow-origin"] == "http://localhost:3000"
    other = post(serving, listing, {**auth(serving), "origin": "http://localhost:4000"})
    assert other.status_code == 403


def test_bad_arguments_and_a_busy_port_are_one_line_errors(shell: InteractiveShell) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        out = chatkit(shell, f"serve --port {port}")
    assert out.strip() == (
        f"chatkit: port {port} on 127.0.0.1 is in use (another notebook serving?): "
        "%chatkit serve --port N with another port, or --port 0 for any free one"
    )
    assert "is not a port" in chatkit(shell, "serve --port 70000")
    assert "'example.org/' is not an origin" in chatkit(shell, "serve --allow-origin example.org/")
    assert "cannot serve on host 'no such host.invalid'" in chatkit(
        shell, "serve --host 'no such host.invalid'"
    )
    out = chatkit(shell, "serve --port eighty")
    assert out.startswith("%chatkit serve: argument --port: invalid int value: 'eighty'")
    assert current() is None  # nothing was left half-started


def test_serve_needs_the_extension_and_the_extra(
    shell: InteractiveShell, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "fastapi", None)  # as if the extra were not installed
    with pytest.raises(ConfigError, match=r"pip install 'chatkit-notebook\[serve\]'"):
        serve(port=0)
    monkeypatch.undo()
    shell.run_line_magic("unload_ext", "chatkit_notebook")
    try:
        with pytest.raises(ConfigError, match="run %load_ext chatkit_notebook first"):
            serve(port=0)
    finally:
        shell.run_line_magic("load_ext", "chatkit_notebook")


def test_a_host_off_loopback_warns(shell: InteractiveShell) -> None:
    serving, out = start(shell, "--host 0.0.0.0 --port 0")
    assert out.startswith("Warning: 0.0.0.0 is not a loopback address: anyone who can reach")
    assert serving.url == f"http://127.0.0.1:{serving.port}/chatkit"
    assert post(serving, {"type": "threads.list", "params": {}}).status_code == 200
    assert stop_serving() is True
    with pytest.warns(UserWarning, match="0.0.0.0 is not a loopback address"):
        serve(host="0.0.0.0", port=0)  # noqa: S104


def test_stop_unload_and_reload_free_the_port(shell: InteractiveShell) -> None:
    serving = serve(port=0)
    port = serving.port
    assert not port_is_free(port)
    assert stop_serving() is True
    assert stop_serving() is False
    assert port_is_free(port)
    serve(port=port)
    shell.run_line_magic("reload_ext", "chatkit_notebook")
    assert current() is None
    assert port_is_free(port)
    serve(port=port)
    shell.run_line_magic("unload_ext", "chatkit_notebook")
    shell.run_line_magic("load_ext", "chatkit_notebook")
    assert port_is_free(port)
    again = serve(port=port)
    assert post(again, {"type": "threads.list", "params": {}}).status_code == 200


def test_the_token_stays_out_of_the_store_logs_and_doctor(
    shell: InteractiveShell, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    session().server().model = ScriptedModel([[assistant_message("Kept.")]])
    serving, _ = start(shell)
    stream(serving, ask("Where does the token go?"))
    post(serving, b"{broken")
    post(serving, {"type": "threads.list", "params": {}}, {"authorization": "Bearer nope"})
    doctor = chatkit(shell, "doctor")
    assert f"ok   HTTP endpoint: serving at {serving.url}" in doctor
    assert serving.token not in doctor
    assert serving.token not in repr(serving)
    assert serving.token not in caplog.text
    assert serving.token.encode() not in (tmp_path / "nb.chatkit.json").read_bytes()


def test_the_panels_status_line_follows_serve_and_stop(shell: InteractiveShell) -> None:
    panel = session().panel()
    panel.wait()
    assert "Serving" not in panel._status.value
    serving, _ = start(shell)
    panel.wait()
    assert f"Serving at {serving.url}" in panel._status.value
    chatkit(shell, "serve stop")
    panel.wait()
    assert "Serving" not in panel._status.value


def test_stopping_ends_a_streaming_answer_and_keeps_what_arrived(
    shell: InteractiveShell, fake_openai: FakeOpenAI
) -> None:
    from chatkit_notebook.config import configure

    gate = Gate(2)
    fake_openai.script(Turn.text(["It ", "was ", "a ", "dark ", "night"]).paced(gate))
    configure(model="test-model", base_url=fake_openai.base_url, max_retries=0)
    serving, _ = start(shell)
    with httpx.stream(
        "POST", serving.url, content=ask("A story?"), headers=auth(serving), timeout=HANG
    ) as response:
        lines = response.iter_lines()
        thread_id = read_until(lines, "It was ")
        assert stop_serving() is True  # while the model waits for its third delta
        rest = [decode_event(line.encode()).type for line in lines if line]
    assert "thread.item.done" not in rest  # the stream just ended
    recorded = fake_openai.wait_for(lambda r: r.outcome != "", timeout=HANG)
    assert recorded.disconnected
    assert recorded.deltas_sent == 2
    client = session().client()
    items = session().runtime.run(client.items(thread_id, order="asc")).data
    kept = ["".join(c.text for c in i.content) for i in items if i.type == "assistant_message"]
    assert kept == ["It was "]


def test_a_thread_made_over_http_never_becomes_this_persons_current_thread(
    shell: InteractiveShell,
) -> None:
    session().server().model = ScriptedModel(
        [
            [assistant_message("In the panel.")],
            [assistant_message("Over HTTP.")],
            [assistant_message("Back in the cell.")],
        ]
    )
    panel = session().panel()
    panel.send("Hello from the panel").result(timeout=HANG)
    panel.wait()
    mine = panel.thread_id
    assert mine is not None
    serving, _ = start(shell)
    events = stream(serving, ask("Hello over HTTP"))  # the printed curl line's request
    assert events[0].type == "thread.created"
    assert events[0].thread.id != mine

    # Restart: a new session reads the current thread from the store.
    model = session().server().model
    shell.run_line_magic("unload_ext", "chatkit_notebook")
    shell.run_line_magic("load_ext", "chatkit_notebook")
    assert session().current_thread() == mine
    session().server().model = model
    reopened = session().panel()
    reopened.wait()
    assert reopened.thread_id == mine
    with capture_output():
        shell.run_line_magic("chat", "Hello from the cell")
    assert session().current_thread() == mine
    params = {"thread_id": mine, "order": "asc"}
    store = session().store()
    page = session().runtime.run(
        store.load_thread_items(mine, None, 50, "asc", session().context())
    )
    questions = [c.text for i in page.data if i.type == "user_message" for c in i.content]
    assert questions == ["Hello from the panel", "Hello from the cell"], params
