"""A scriptable OpenAI-compatible HTTP server on 127.0.0.1 for tests.

The real ``openai`` client (and openai-agents on it) talks real HTTP to this server, so tests
meet the SSE streaming, error mapping and retries of Ollama, vLLM or api.openai.com offline.
It runs on its own thread, serving clients on any thread's event loop. It answers
``POST /v1/chat/completions`` (streamed or not) from a queue of :class:`Turn`, lists
``GET /v1/models``, answers 404 to the rest (``/v1/responses`` too, as Ollama and vLLM do) and
records every request. A streamed turn can hang after ``k`` deltas until released
(``Turn.text(...).hang(2)``) or be paced by a :class:`Gate`; meanwhile the server watches for
the client leaving::

    with FakeOpenAI() as server:
        server.script(Turn.tool_call("add", {"a": 1, "b": 2}), Turn.text("It is 3."))
        client = AsyncOpenAI(base_url=server.base_url, api_key="test")
        ...
        assert server.chat_requests[1].messages[-1]["role"] == "tool"
"""

from __future__ import annotations

import asyncio
import itertools
import json
import select
import socket
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

_POLL = 0.02  # how often a waiting handler checks its socket: sets latency, never outcomes
_ids = itertools.count(1)

# status: (type, code, param, message), as api.openai.com sends them
_ERRORS: dict[int, tuple[str, str | None, str | None, str]] = {
    400: ("invalid_request_error", "context_length_exceeded", "messages",
          "This model's maximum context length is 128000 tokens. Please reduce the length."),
    401: ("invalid_request_error", "invalid_api_key", None,
          "Incorrect API key provided: test."),
    404: ("invalid_request_error", "model_not_found", None,
          "The model `test-model` does not exist or you do not have access to it."),
    429: ("requests", "rate_limit_exceeded", None,
          "Rate limit reached for test-model on requests per min (RPM). Try again in 1s."),
    500: ("server_error", None, None,
          "The server had an error while processing your request. Sorry about that!"),
}  # fmt: skip


def unreachable_url() -> str:
    """A ``/v1`` base URL on 127.0.0.1 where nothing listens (a port bound, then closed)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"


def _split(text: str, parts: int) -> list[str]:
    """Split ``text`` into ``parts`` near-equal non-empty pieces (fewer if it is short)."""
    parts = max(1, min(parts, len(text)))
    cuts = [len(text) * i // parts for i in range(parts + 1)]
    return [text[a:b] for a, b in itertools.pairwise(cuts)]


class Gate(threading.Semaphore):
    """Lets a streamed turn's deltas out one permit at a time; thread-safe.

    Args:
        permits: How many deltas may go out before the gate blocks.
    """

    def __init__(self, permits: int = 0) -> None:
        super().__init__(permits)
        self._opened = False

    def allow(self, n: int = 1) -> None:
        """Let ``n`` more deltas out."""
        self.release(n)

    def open(self) -> None:
        """Let every remaining delta out."""
        self._opened = True
        self.release()  # wake a waiting handler

    def take(self, timeout: float) -> bool:
        """Take a permit, waiting up to ``timeout`` seconds; return whether one was taken."""
        return self._opened or self.acquire(timeout=timeout)


@dataclass(frozen=True)
class ToolCall:
    """One function call in a turn.

    Args:
        name: The function name.
        arguments: A mapping (sent as JSON) or a JSON string, streamed in ``chunks`` deltas.
        call_id: The ``tool_calls[].id``; made up when omitted.
        chunks: How many argument deltas.
    """

    name: str
    arguments: Mapping[str, Any] | str = field(default_factory=dict)
    call_id: str | None = None
    chunks: int = 3

    @property
    def arguments_json(self) -> str:
        """The arguments as the JSON string the model sends."""
        args = self.arguments
        return args if isinstance(args, str) else json.dumps(args)


@dataclass
class Turn:
    """One scripted reply to a chat completions request; build it with the class methods."""

    deltas: list[str] = field(default_factory=list)
    calls: list[ToolCall] = field(default_factory=list)
    status: int = 200
    error: dict[str, Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)
    gate: Gate | None = None
    usage: dict[str, Any] | None = None
    reports_usage: bool = True

    @classmethod
    def text(
        cls, text: str | Sequence[str], *, chunks: int = 3, usage: dict[str, Any] | None = None
    ) -> Turn:
        """An assistant answer: ``text`` split into ``chunks`` deltas, or the exact deltas.

        ``usage`` is reported when the client asks for it (in the stream's last chunk, as
        OpenAI does); made up from sizes when omitted. :meth:`without_usage` reports none.
        """
        deltas = _split(text, chunks) if isinstance(text, str) else list(text)
        return cls(deltas=deltas, usage=usage)

    @classmethod
    def tool_call(
        cls,
        name: str,
        arguments: Mapping[str, Any] | str = "{}",
        *,
        call_id: str | None = None,
        chunks: int = 3,
    ) -> Turn:
        """One function call, its JSON ``arguments`` streamed in ``chunks`` deltas."""
        return cls(calls=[ToolCall(name, arguments, call_id, chunks)])

    @classmethod
    def tool_calls(cls, *calls: ToolCall, text: str | None = None) -> Turn:
        """Several function calls in one reply, optionally after one ``text`` delta."""
        return cls(deltas=[text] if text else [], calls=list(calls))

    @classmethod
    def fail(
        cls,
        status: int,
        *,
        retry_after: float | None = None,
        headers: Mapping[str, str] | None = None,
        **error: str | None,
    ) -> Turn:
        """An HTTP error whose body is ``{"error": {message, type, code, param}}``.

        Statuses 400, 401, 404, 429 and 500 default to api.openai.com's bodies (``_ERRORS``);
        ``message=``, ``type=``, ``code=`` or ``param=`` replace a field. A 429 carries
        ``retry-after: 1`` unless ``retry_after`` or ``headers`` say otherwise.
        """
        kind = "server_error" if status >= 500 else "invalid_request_error"
        default = _ERRORS.get(status, (kind, None, None, f"HTTP {status}"))
        body = dict(zip(("type", "code", "param", "message"), default, strict=True))
        body.update(error)
        extra = dict(headers or {})
        if retry_after is None and status == 429 and not extra:
            retry_after = 1
        if retry_after is not None:
            extra["retry-after"] = f"{retry_after:g}"
        return cls(status=status, error=body, headers=extra)

    @classmethod
    def stream_error(cls, text: str | Sequence[str] = "", *, message: str = "crashed") -> Turn:
        """Status 200, stream ``text``, then an ``{"error": ...}`` event (as vLLM may)."""
        deltas = [d for d in ([text] if isinstance(text, str) else text) if d]
        body = {"message": message, "type": "server_error", "code": None, "param": None}
        return cls(deltas=deltas, error=body)  # an error with status 200 goes mid-stream

    def without_usage(self) -> Turn:
        """Report no usage, even when asked (as some OpenAI-compatible servers do); returns
        self."""
        self.reports_usage = False
        return self

    def hang(self, after: int = 0) -> Turn:
        """Send ``after`` deltas, then wait for :meth:`release` or a disconnect; returns self."""
        return self.paced(Gate(after))

    def paced(self, gate: Gate) -> Turn:
        """Send each delta only on a permit from ``gate``; returns self."""
        self.gate = gate
        return self

    def release(self) -> None:
        """Let a hanging or paced turn send the rest of its deltas."""
        if self.gate is not None:
            self.gate.open()

    def pieces(self) -> list[str]:
        """Every delta the turn streams: its content, then each call's argument chunks."""
        args = [p for c in self.calls for p in _split(c.arguments_json, c.chunks)]
        return [*self.deltas, *args]


@dataclass
class RecordedRequest:
    """One request: ``headers`` with lower-cased names, ``body`` parsed JSON or ``None``.

    ``outcome`` is ``""`` while being served, then ``completed``, ``disconnected`` (the client
    left mid-response), ``timeout`` (a hang never released) or ``closed`` (the server shut
    down); ``finished`` is set with it. ``deltas_sent`` counts content and argument deltas.
    """

    method: str
    path: str
    headers: dict[str, str]
    body: Any
    outcome: str = ""
    deltas_sent: int = 0
    finished: threading.Event = field(default_factory=threading.Event, repr=False)

    @property
    def authorization(self) -> str | None:
        """The ``Authorization`` header, e.g. ``Bearer test``."""
        return self.headers.get("authorization")

    @property
    def model(self) -> str | None:
        """The ``model`` asked for."""
        return self.body.get("model") if isinstance(self.body, dict) else None

    @property
    def messages(self) -> list[dict[str, Any]]:
        """The chat ``messages`` sent, or ``[]``."""
        return self.body.get("messages", []) if isinstance(self.body, dict) else []

    @property
    def disconnected(self) -> bool:
        """Whether the client closed the connection before the response ended."""
        return self.outcome == "disconnected"


class _Server(ThreadingHTTPServer):
    daemon_threads = False  # ThreadingHTTPServer says True; server_close joins only non-daemons

    def __init__(self, fake: FakeOpenAI) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.fake = fake


class _Gone(Exception):
    """The response cannot go on (client gone, server closing or hang timed out)."""


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # for chunked streaming, like the real API
    timeout = 60  # seconds any socket read or write may block: a hang detector, not pacing
    server: _Server

    def end_headers(self) -> None:
        """Close each connection after its response: no idle keep-alive thread outlives close."""
        self.send_header("connection", "close")
        super().end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        """Keep test output quiet."""

    def do_GET(self) -> None:
        """Serve ``/v1/models``; 404 for the rest."""
        record = self._record(None)
        if self.path.rstrip("/") != "/v1/models":
            self._json(404, {"detail": "Not Found"}, record)
            return
        info = {"object": "model", "created": 1700000000, "owned_by": "fake-openai"}
        data = [{"id": m, **info} for m in self.server.fake.models]
        self._json(200, {"object": "list", "data": data}, record)

    def do_POST(self) -> None:
        """Serve ``/v1/chat/completions`` from the script; 404 for the rest."""
        fake = self.server.fake
        raw = self.rfile.read(int(self.headers.get("content-length") or 0))
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        record = self._record(body)
        if self.path.rstrip("/") != "/v1/chat/completions":
            self._json(404, {"detail": "Not Found"}, record)
            return
        turn = fake._next_turn(record)
        if turn is None:
            fake.unscripted.append(record)
            error = {"message": "fake_openai: no scripted turn left", "type": "server_error"}
            self._json(500, {"error": error}, record, {"x-should-retry": "false"})
            return
        body = body if isinstance(body, dict) else {}
        try:
            if turn.status != 200:
                self._json(turn.status, {"error": turn.error}, record, turn.headers)
            elif body.get("stream"):
                self._stream(turn, body, record)
            else:
                self._complete(turn, body, record)
        except (_Gone, OSError):  # BrokenPipe / ConnectionReset when the client has left
            self._finish(record, "closed" if fake._closing.is_set() else "disconnected")

    def _record(self, body: Any) -> RecordedRequest:
        headers = {k.lower(): v for k, v in self.headers.items()}
        record = RecordedRequest(self.command, self.path, headers, body)
        self.server.fake._append(record)
        return record

    def _finish(self, record: RecordedRequest, outcome: str) -> None:
        with self.server.fake._changed:
            if not record.outcome:
                record.outcome = outcome
                record.finished.set()
                self.server.fake._changed.notify_all()

    def _json(
        self,
        status: int,
        payload: Any,
        record: RecordedRequest,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)
        self._finish(record, "completed")

    def _peer_gone(self) -> bool:
        if not select.select([self.connection], [], [], 0)[0]:
            return False
        try:
            return self.connection.recv(1, socket.MSG_PEEK) == b""
        except OSError:
            return True

    def _take(self, gate: Gate | None, record: RecordedRequest) -> None:
        """Wait for the gate's next permit, watching for a disconnect, a close or a timeout."""
        fake = self.server.fake
        deadline = time.monotonic() + fake.hang_timeout
        while gate is not None and not gate.take(_POLL):
            if fake._closing.is_set() or self._peer_gone():
                raise _Gone
            if time.monotonic() > deadline:
                self._finish(record, "timeout")
                raise _Gone

    def _stream(self, turn: Turn, body: dict[str, Any], record: RecordedRequest) -> None:
        self.send_response(200)
        self.send_header("content-type", "text/event-stream; charset=utf-8")
        self.send_header("cache-control", "no-cache")
        self.send_header("transfer-encoding", "chunked")
        self.end_headers()
        base = _envelope("chat.completion.chunk", body)

        def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
            choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
            return {**base, "choices": [choice]}

        role = {"role": "assistant", "content": "", "refusal": None}
        if turn.deltas or not turn.calls:
            self._event(chunk(role))
        for text in turn.deltas:
            self._delta(turn, record, chunk({"content": text}))
        if turn.error is not None:
            self._event({"error": turn.error})
            self._end(record)
            return
        for index, call in enumerate(turn.calls):
            fn = {"name": call.name, "arguments": ""}
            head = {"index": index, "id": _call_id(call), "type": "function", "function": fn}
            # OpenAI puts the role on the first tool call chunk when there is no text
            opening = {**role, "content": None} if index == 0 and not turn.deltas else {}
            self._event(chunk({**opening, "tool_calls": [head]}))
            for piece in _split(call.arguments_json, call.chunks):
                args = {"index": index, "function": {"arguments": piece}}
                self._delta(turn, record, chunk({"tool_calls": [args]}))
        self._event(chunk({}, "tool_calls" if turn.calls else "stop"))
        if turn.reports_usage and (body.get("stream_options") or {}).get("include_usage"):
            self._event({**base, "choices": [], "usage": _usage(turn, body)})
        self._write(b"data: [DONE]\n\n")
        self._end(record)

    def _delta(self, turn: Turn, record: RecordedRequest, payload: dict[str, Any]) -> None:
        self._take(turn.gate, record)
        self._event(payload)
        record.deltas_sent += 1

    def _event(self, payload: dict[str, Any]) -> None:
        self._write(b"data: " + json.dumps(payload).encode() + b"\n\n")

    def _write(self, data: bytes) -> None:
        # One HTTP chunk per SSE event; wfile is unbuffered, so each write hits the socket.
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))

    def _end(self, record: RecordedRequest) -> None:
        self.wfile.write(b"0\r\n\r\n")
        self._finish(record, "completed")

    def _complete(self, turn: Turn, body: dict[str, Any], record: RecordedRequest) -> None:
        # No deltas to send, but a gate still holds the reply back by the same count.
        for _ in turn.pieces():
            self._take(turn.gate, record)
        content = "".join(turn.deltas) or None
        message: dict[str, Any] = {"role": "assistant", "content": content, "refusal": None}
        if turn.calls:
            message["tool_calls"] = [
                {"id": _call_id(c), "type": "function",
                 "function": {"name": c.name, "arguments": c.arguments_json}}
                for c in turn.calls
            ]  # fmt: skip
        finish = "tool_calls" if turn.calls else "stop"
        choice = {"index": 0, "message": message, "logprobs": None, "finish_reason": finish}
        record.deltas_sent = len(turn.pieces())
        payload = {**_envelope("chat.completion", body), "choices": [choice]}
        if turn.reports_usage:
            payload["usage"] = _usage(turn, body)
        self._json(200, payload, record)


def _envelope(kind: str, body: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": f"chatcmpl-fake{next(_ids):06d}",
        "object": kind,
        "created": int(time.time()),
        "model": body.get("model", ""),
        "system_fingerprint": "fp_fake",
    }


def _call_id(call: ToolCall) -> str:
    return call.call_id or f"call_fake{next(_ids):06d}"


def _usage(turn: Turn, body: dict[str, Any]) -> dict[str, Any]:
    if turn.usage is not None:
        return turn.usage
    prompt = max(1, len(json.dumps(body.get("messages", []))) // 4)
    completion = len(turn.pieces())
    total = prompt + completion
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": total}


class FakeOpenAI:
    """An OpenAI-compatible server on 127.0.0.1 (ephemeral port), served from its own thread.

    Args:
        models: The model ids ``GET /v1/models`` lists.
        hang_timeout: How long a hanging or gated turn waits before the server ends the
            response (outcome ``timeout``): a hang detector for a test that forgot to release.
        fallback: What to answer, given the request, once the script is empty (e.g. for
            example notebooks run offline); ``None`` answers an unscripted request with an
            error.
    """

    def __init__(
        self,
        models: Sequence[str] = ("test-model",),
        *,
        hang_timeout: float = 30,
        fallback: Callable[[RecordedRequest], Turn] | None = None,
    ) -> None:
        self.models = list(models)
        self.hang_timeout = hang_timeout
        self.fallback = fallback
        self.unscripted: list[RecordedRequest] = []
        self._turns: deque[Turn] = deque()
        self._requests: list[RecordedRequest] = []
        self._changed = threading.Condition()
        self._closing = threading.Event()
        self._httpd: _Server | None = None
        self._thread: threading.Thread | None = None

    def __enter__(self) -> FakeOpenAI:
        """Bind 127.0.0.1:0 and serve on a daemon thread."""
        self._httpd = _Server(self)
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def close(self) -> None:
        """Stop serving, end hanging turns (outcome ``closed``) and join every thread."""
        if self._httpd is None:
            return
        self._closing.set()
        self._httpd.shutdown()
        self._httpd.server_close()  # joins the handler threads
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._httpd = None

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def root_url(self) -> str:
        """``http://127.0.0.1:PORT``, without ``/v1`` (a common misconfiguration)."""
        if self._httpd is None:
            msg = "FakeOpenAI is not started: use `with FakeOpenAI() as server:`"
            raise RuntimeError(msg)
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT/v1``, what ``AsyncOpenAI(base_url=...)`` wants."""
        return f"{self.root_url}/v1"

    def script(self, *turns: Turn) -> None:
        """Queue turns; each chat completions request consumes the next one."""
        with self._changed:
            self._turns.extend(turns)

    @property
    def remaining(self) -> int:
        """How many scripted turns are still queued."""
        with self._changed:
            return len(self._turns)

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request so far, oldest first (a copy)."""
        with self._changed:
            return list(self._requests)

    @property
    def chat_requests(self) -> list[RecordedRequest]:
        """The ``POST /v1/chat/completions`` requests so far, oldest first."""
        return [r for r in self.requests if r.path.rstrip("/") == "/v1/chat/completions"]

    def wait_for(
        self, predicate: Callable[[RecordedRequest], bool], timeout: float = 5.0
    ) -> RecordedRequest:
        """Block until a recorded request satisfies ``predicate``, and return the first that does.

        Raises:
            TimeoutError: None did within ``timeout`` seconds.
        """

        def first() -> RecordedRequest | None:
            return next((r for r in self._requests if predicate(r)), None)

        with self._changed:
            found = self._changed.wait_for(first, timeout)
            if found is None:
                msg = f"no matching request within {timeout}s; got {self._requests!r}"
                raise TimeoutError(msg)
            return found

    async def await_disconnect(self, timeout: float = 5.0) -> RecordedRequest:
        """Wait, without blocking the event loop, for a request the client left mid-response."""
        return await asyncio.to_thread(self.wait_for, lambda r: r.disconnected, timeout)

    def _append(self, record: RecordedRequest) -> None:
        with self._changed:
            self._requests.append(record)
            self._changed.notify_all()

    def _next_turn(self, request: RecordedRequest) -> Turn | None:
        with self._changed:
            if self._turns:
                return self._turns.popleft()
        return self.fallback(request) if self.fallback is not None else None


@pytest.fixture(name="fake_openai")
def fake_openai_fixture() -> Iterator[FakeOpenAI]:
    """A started :class:`FakeOpenAI`; fails the test if a request found the script empty."""
    with FakeOpenAI() as server:
        yield server
    assert not server.unscripted, f"requests after the script ran out: {server.unscripted!r}"
