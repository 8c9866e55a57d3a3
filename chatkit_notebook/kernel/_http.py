"""The FastAPI app behind ``%chatkit serve``: one ``POST /chatkit`` endpoint.

It is the ChatKit server guide's endpoint: the request body goes to ``server.process``,
and a streaming result goes back as ``text/event-stream``, anything else as JSON. Around
it: a bearer token checked in constant time, origins refused unless named, a 1 MiB body
cap, and a one-line reason (never a traceback) for every request it turns away. A request
the server fails on (a bug) is answered 500 "the chat server failed" with a request id (also
in the ``x-request-id`` header), under which the log keeps the traceback.

A streamed answer runs as a task of its own on the package's loop, which writes each
frame to the client (:class:`_Turn`). Not in the request's task: Starlette cancels that
one when the client disconnects, in a cancel scope that re-cancels every wait inside it
(anyio's are level-triggered), so chatkit could not save the partial answer there. A
disconnect stops the turn once, as the panel's Stop does, and chatkit keeps what arrived.

Imported only by :mod:`chatkit_notebook.kernel.serving`, once the ``serve`` extra is known to be
installed (FastAPI resolves the endpoint's annotations in this module's globals).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import AsyncIterator, Callable, Collection

from chatkit.server import ChatKitServer, StreamingResult
from chatkit.store import NotFoundError
from fastapi import FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse, Response
from pydantic import ValidationError
from starlette.types import Message, Receive, Scope, Send

from ..context import NotebookContext
from ..errors import RequestError, ServerFailure

__all__ = ["MAX_BODY_BYTES", "build_app"]

logger = logging.getLogger("chatkit_notebook")

MAX_BODY_BYTES = 1024 * 1024
"""The largest request body accepted (ChatKit requests are small; files are not sent inline)."""

# A body over the cap is still read (and dropped) up to this size, so the client gets the
# 413 rather than a connection reset while it is still sending; past it the connection closes.
_DRAIN_BYTES = 16 * MAX_BODY_BYTES


def build_app(
    server: ChatKitServer[NotebookContext],
    context: Callable[[], NotebookContext],
    token: str,
    allow_origins: Collection[str],
    turns: set[_Turn],
) -> FastAPI:
    """The app: ``POST /chatkit`` answered by ``server`` with a fresh ``context()`` each time.

    Args:
        server: The ChatKit server (the session's, which the panel and ``%chat`` use).
        context: Makes the request context (the kernel's variables, minus hidden ones).
        token: The bearer token every request must carry.
        allow_origins: Browser origins allowed to call (CORS); empty refuses every origin.
        turns: Where the streamed answers are kept while they run, so stopping the
            endpoint can stop them (each keeps its partial answer).
    """
    app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)
    if allow_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(allow_origins),
            allow_methods=["POST"],
            allow_headers=["authorization", "content-type"],
            max_age=600,
        )
    expected = f"Bearer {token}".encode()

    @app.post("/chatkit")
    async def chatkit_endpoint(request: Request) -> Response:
        given = request.headers.get("authorization", "").encode()
        if not secrets.compare_digest(given, expected):
            reason = "wrong bearer token" if given else "no bearer token"
            how = "send 'Authorization: Bearer TOKEN' with the token %chatkit serve showed"
            return _refuse(401, f"{reason}: {how}", {"www-authenticate": "Bearer"})
        origin = request.headers.get("origin")
        if origin is not None and origin not in allow_origins and "*" not in allow_origins:
            return _refuse(
                403, f"origin {origin} is not allowed: %chatkit serve --allow-origin {origin}"
            )
        body = await _read_capped(request)
        if body is None:
            return _refuse(413, f"request body over {MAX_BODY_BYTES:,} bytes (1 MiB)")
        try:
            result = await server.process(body, context())
            if isinstance(result, StreamingResult):
                turn = _Turn(result, turns)
                await turn.first()
                return _EventStream(turn)
        except ValidationError as e:
            return _refuse(422, f"not a ChatKit request: {_first_error(e)}")
        except NotFoundError as e:  # an unknown thread or item, before anything streamed
            return _refuse(404, str(e) or "not found")
        except RequestError as e:  # admitted by the schema, but not doable as asked
            return _refuse(e.status, str(e))
        except Stopping:
            return _refuse(503, "the chat endpoint is stopping (%chatkit serve stop)")
        except ServerFailure as e:  # a bug: the server logged its traceback under the id
            return _refuse(500, str(e), {"x-request-id": e.request_id})
        except Exception as e:  # the person reading the reply gets one line, not a traceback
            failed = ServerFailure(e)
            logger.error(
                "%%chatkit serve: a request failed (request id %s)",
                failed.request_id,
                exc_info=True,
            )
            return _refuse(500, str(failed), {"x-request-id": failed.request_id})
        return Response(content=result.json, media_type="application/json")

    return app


def _refuse(status: int, reason: str, headers: dict[str, str] | None = None) -> JSONResponse:
    """A refusal with its reason on one line (``{"detail": ...}``, as FastAPI's own)."""
    return JSONResponse({"detail": " ".join(reason.split())}, status, headers)


async def _read_capped(request: Request) -> bytes | None:
    """The body, or ``None`` when it is over :data:`MAX_BODY_BYTES`."""
    declared = request.headers.get("content-length", "")
    if (
        declared.isdigit()
        and int(declared) > MAX_BODY_BYTES
        and request.headers.get("expect", "").lower() == "100-continue"
    ):
        return None  # the client waits to be asked for the body: it need not send it
    body = bytearray()
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size <= MAX_BODY_BYTES:
            body += chunk
        elif size > _DRAIN_BYTES:
            return None
    return bytes(body) if size <= MAX_BODY_BYTES else None


def _first_error(error: ValidationError) -> str:
    """pydantic's first complaint, on one line (``params: Field required``)."""
    first = error.errors()[0]
    where = ".".join(str(part) for part in first["loc"])
    text = f"{where}: {first['msg']}" if where else first["msg"]
    more = error.error_count() - 1
    return f"{text} (and {more} more)" if more else text


class Stopping(Exception):
    """The endpoint is stopping: a request that had not started streaming is turned away."""


class _Turn:
    """A streamed answer, run as a task of its own that writes each frame to the client.

    It runs outside the request's task because Starlette cancels that one in a
    level-triggered cancel scope, where chatkit could not save a partial answer.
    :meth:`stop` stops it as the panel's Stop does: with a cancel that lands inside the
    answer's stream, where chatkit keeps what had arrived. While the task waits anywhere
    else (for the response to start, or for a slow client to take a frame), the stop is
    noted, and the task cancels itself at the stream's next step.
    """

    def __init__(self, result: StreamingResult, turns: set[_Turn]) -> None:
        loop = asyncio.get_running_loop()
        self._first: asyncio.Future[bytes] = loop.create_future()
        self._send: Send | None = None
        self._go = asyncio.Event()  # the response started (or the turn was stopped)
        self._in_stream = False
        self._stopped = False
        self._cancelled = False
        self.task = loop.create_task(self._run(aiter(result)))
        turns.add(self)
        self.task.add_done_callback(lambda _: turns.discard(self))

    def stop(self) -> None:
        """Stop the answer; what arrived is kept. A no-op once it has ended."""
        self._stopped = True
        if self._in_stream:
            self._cancel()
        self._go.set()

    def _cancel(self) -> None:
        if not self._cancelled:  # once: a second cancel would cut chatkit's saving short
            self._cancelled = True
            self.task.cancel()

    async def first(self) -> bytes:
        """The first frame. Errors raised before the answer starts are raised here, so they
        can still be answered with a status (chatkit raises them from the stream).

        Raises:
            Stopping: the endpoint stopped the answer before it began.
        """
        try:
            await asyncio.wait([self._first])
        except BaseException:  # the request itself was cancelled: so is its answer
            self.stop()
            raise
        if self._first.cancelled():
            raise Stopping
        return self._first.result()

    def start(self, send: Send) -> None:
        """The response has started: write the frames to ``send`` from now on."""
        self._send = send
        self._go.set()

    async def _run(self, stream: AsyncIterator[bytes]) -> None:
        try:
            first = await self._step(stream)
        except asyncio.CancelledError:  # stopped before it began: the endpoint is stopping
            self._first.cancel()
            raise
        except Exception as error:  # before the answer starts: an unknown thread and the like
            self._first.set_exception(error)
            return
        self._first.set_result(first or b"")
        await self._go.wait()
        try:
            frame = first
            while frame is not None:
                if not self._stopped and self._send is not None:
                    await self._send(_body(frame, more=True))
                frame = await self._step(stream)
        except Exception:  # after the answer started: its stream just ends
            logger.warning("%chatkit serve: a streamed answer failed", exc_info=True)
        finally:
            if self._send is not None:  # a clean end, also when stopped (a no-op once gone)
                with contextlib.suppress(Exception):  # the connection broke: nothing to end
                    await self._send(_body(b"", more=False))

    async def _step(self, stream: AsyncIterator[bytes]) -> bytes | None:
        if self._stopped:
            self._cancel()  # lands at the stream's next wait, inside chatkit
        self._in_stream = True
        try:
            return await anext(stream, None)
        finally:
            self._in_stream = False


class _EventStream(Response):
    """The answer as ``text/event-stream``, written by its turn's task. When the client
    disconnects (or the request is cancelled), the turn is stopped like the panel's Stop."""

    media_type = "text/event-stream"

    def __init__(self, turn: _Turn) -> None:  # no body, so no content-length: chunked
        self.status_code = 200
        self.background = None
        self.init_headers({"cache-control": "no-cache", "x-accel-buffering": "no"})
        self._turn = turn

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        turn = self._turn
        left = asyncio.ensure_future(_disconnect(receive))
        try:
            await send({"type": "http.response.start", "status": 200, "headers": self.raw_headers})
            turn.start(send)
            await asyncio.wait([turn.task, left], return_when=asyncio.FIRST_COMPLETED)
        finally:
            turn.stop()  # ended already, the client left, or the endpoint stops
            left.cancel()
            await asyncio.wait([turn.task])  # the response is over once its writes are


def _body(data: bytes, *, more: bool) -> Message:
    return {"type": "http.response.body", "body": data, "more_body": more}


async def _disconnect(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass
