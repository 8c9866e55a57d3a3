"""Serving this kernel's chat over HTTP, for any ChatKit client: ``%chatkit serve``.

:func:`serve` (or ``%chatkit serve``) puts the session's ChatKit server behind ``POST
/chatkit``, the endpoint of the ChatKit server guide, so OpenAI's ChatKit web component, a
dashboard, a script or a test harness can chat with the notebook's live data. It is the
server the panel and ``%chat`` use (same store, same hidden variables), so a thread started
over HTTP shows in the panel and the other way round.

uvicorn runs as a task on the package's own loop thread (no second event loop, no signal
handlers), on a socket bound here first, so a port in use is a clear error. Every request
needs the bearer token made for this ``serve``; no browser origin may call unless named.
:func:`stop_serving` (also ``%unload_ext``, ``%reload_ext`` and the kernel's exit) stops
the answers still streaming, keeping what arrived, and frees the port. The app itself is
in ``_http.py``, which loads FastAPI only when serving starts.

The endpoint being served belongs to the kernel's session
(:meth:`~chatkit_notebook.kernel.session.ChatSession.start_serving`); this module keeps no
state of its own.
"""

from __future__ import annotations

import atexit
import errno
import ipaddress
import os
import re
import socket
import threading
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..errors import ConfigError

if TYPE_CHECKING:
    import asyncio

    import uvicorn
    from chatkit.server import ChatKitServer

    from ..context import NotebookContext
    from ..runtime import Runtime
    from ._http import _Turn

__all__ = [
    "DEFAULT_HOST",
    "DEFAULT_PORT",
    "Serving",
    "at_exit",
    "check",
    "current",
    "serve",
    "start",
    "stop_serving",
]

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765
STOP_SECONDS = 10.0
"""How long stopping may take (streams cancelled and saved, connections closed)."""

CURL_QUESTION = "Which variables can you see?"

_ORIGIN = re.compile(r"https?://[^/\s]+")
_WILDCARD_URL_HOSTS = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}  # noqa: S104


@dataclass(frozen=True)
class Serving:
    """Where the chat is served. The token is kept out of ``repr``, so out of logs.

    Attributes:
        host: The address listened on.
        port: The port listened on (the one chosen, for ``port=0``).
        token: The bearer token every request must carry.
        allow_origins: The browser origins allowed to call (CORS).
    """

    host: str
    port: int
    token: str = field(repr=False)
    allow_origins: tuple[str, ...] = ()

    @property
    def url(self) -> str:
        """The endpoint's URL, e.g. ``http://127.0.0.1:8765/chatkit``."""
        host = _WILDCARD_URL_HOSTS.get(self.host, self.host)
        host = f"[{host}]" if ":" in host else host
        return f"http://{host}:{self.port}/chatkit"

    def curl(self) -> str:
        """A ready-to-paste ``curl`` line that asks a question and streams the answer."""
        import shlex

        from .._client import message_request

        body = message_request(None, CURL_QUESTION).model_dump_json(exclude_none=True)
        auth = shlex.quote(f"Authorization: Bearer {self.token}")
        return (
            f"curl -N {self.url} -H {auth} -H 'Content-Type: application/json' "
            f"-d {shlex.quote(body)}"
        )

    def describe(self) -> str:
        """One line for status lines and ``%chatkit doctor`` (never the token)."""
        origins = ", ".join(self.allow_origins) or "none"
        return f"serving at {self.url} (bearer token required; browser origins: {origins})"


class _Endpoint:
    """uvicorn serving the app on the package's loop, and the answers it streams."""

    def __init__(self, serving: Serving, sock: socket.socket, runtime: Runtime) -> None:
        self.serving = serving
        self.runtime = runtime
        self._sock = sock
        self._turns: set[_Turn] = set()
        self._server: uvicorn.Server | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(
        self, server: ChatKitServer[NotebookContext], context: Callable[[], NotebookContext]
    ) -> None:
        """Start serving on the running loop (the socket already listens)."""
        import asyncio

        import uvicorn

        from ._http import build_app

        app = build_app(
            server, context, self.serving.token, self.serving.allow_origins, self._turns
        )
        config = uvicorn.Config(
            app,
            log_config=None,  # uvicorn's own would reconfigure the kernel's logging
            access_log=False,
            lifespan="off",
            server_header=False,
            timeout_graceful_shutdown=int(STOP_SECONDS / 2),
        )
        self._server = uvicorn.Server(config)
        self._task = asyncio.get_running_loop().create_task(
            self._serve(self._server), name="chatkit-notebook-serve"
        )

    async def _serve(self, server: uvicorn.Server) -> None:
        try:
            await server.serve(sockets=[self._sock])
        finally:  # stopped, failed, or cancelled with the loop: the port is free either way
            for listener in getattr(server, "servers", []):
                listener.close()
            self._sock.close()

    async def stop(self) -> None:
        """Stop the streaming answers (each keeps what arrived), then uvicorn."""
        import asyncio

        turns = list(self._turns)
        for turn in turns:
            turn.stop()
        if turns:
            await asyncio.wait([turn.task for turn in turns])
        if self._server is not None:
            self._server.should_exit = True
        if self._task is not None:
            await asyncio.wait([self._task])

    def shut_down(self) -> None:
        """:meth:`stop` from synchronous code; or, when the loop is gone (it cancelled the
        server task already), just free the port."""
        if self.runtime.is_running:
            self.runtime.run(self.stop(), timeout=STOP_SECONDS)
        else:
            self._sock.close()


def current() -> Serving | None:
    """Where the loaded session's chat is being served, or ``None``."""
    from .session import loaded

    session = loaded()
    return session.serving() if session is not None else None


def serve(
    *,
    host: str = DEFAULT_HOST,
    port: int | None = None,
    allow_origins: Iterable[str] = (),
) -> Serving:
    """Serve this kernel's chat at ``POST /chatkit`` over HTTP, until :func:`stop_serving`.

    Needs ``%load_ext chatkit_notebook`` (it serves that session's server, store and
    hidden variables) and the ``serve`` extra. A new bearer token is made each time: it is
    in the result (``.token``) and nowhere else.

    Args:
        host: The address to listen on. Anything but a loopback address lets other
            machines reach the kernel (with the token), and warns.
        port: The port; ``None`` for 8765, ``0`` for any free port.
        allow_origins: Browser origins (``https://example.org``) allowed to call, by CORS;
            none by default, so no web page can.

    Raises:
        ConfigError: the extension is not loaded, the extra is not installed, the port is
            in use, an argument is unusable, or the chat is served already.
    """
    from .session import loaded

    session = loaded()
    if session is None:
        msg = "serve() serves this kernel's chat: run %load_ext chatkit_notebook first"
        raise ConfigError(msg)
    serving, warning = session.start_serving(host, port, tuple(allow_origins))
    if warning:
        warnings.warn(warning, UserWarning, stacklevel=2)
    return serving


def stop_serving() -> bool:
    """Stop serving the chat over HTTP and free the port; whether it was being served.

    Answers still streaming stop as with the panel's Stop: what had arrived is kept.
    """
    from .session import loaded

    session = loaded()
    return session.stop_serving() if session is not None else False


def at_exit(stop: Callable[[], None]) -> None:
    """Call ``stop`` when the kernel exits, while worker threads can still be used.

    ``atexit`` is too late: concurrent.futures shuts its workers down first, and the store
    saves a streaming answer's partial text through ``asyncio.to_thread``, so that text
    would be lost. threading's exit hooks run before, newest first; concurrent.futures'
    own is registered on import, so importing it here puts ``stop`` ahead of it.
    """
    import concurrent.futures.thread  # noqa: F401

    register = getattr(threading, "_register_atexit", atexit.register)
    register(stop)


def check(port: int | None, allow_origins: tuple[str, ...]) -> int:
    """The port to serve on (``None``: the default), once the ``serve`` extra and the
    arguments are known to be usable.

    Raises:
        ConfigError: FastAPI or uvicorn is missing, or the port or an origin is unusable.
    """
    try:
        import fastapi  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError as e:
        msg = (
            "Serving the chat over HTTP needs FastAPI and uvicorn: pip install "
            f"'chatkit-notebook[serve]' (missing: {e.name})."
        )
        raise ConfigError(msg) from e
    port = DEFAULT_PORT if port is None else port
    if not 0 <= port <= 65535:
        raise ConfigError(f"port {port} is not a port: give 1 to 65535, or 0 for any free one")
    for origin in allow_origins:
        if origin != "*" and not _ORIGIN.fullmatch(origin):
            msg = (
                f"{origin!r} is not an origin: give the scheme and host of the page that "
                "calls, such as https://example.org or http://localhost:3000 (no path)"
            )
            raise ConfigError(msg)
    return port


def start(
    runtime: Runtime,
    server: ChatKitServer[NotebookContext],
    context: Callable[[], NotebookContext],
    host: str,
    port: int,
    allow_origins: tuple[str, ...],
) -> tuple[_Endpoint, str | None]:
    """Serve ``server`` on ``runtime``'s loop (arguments :func:`check`-ed); the endpoint,
    and a warning for a host that is not a loopback address.

    Raises:
        ConfigError: the port is in use, or the host cannot be served on.
    """
    import secrets

    sock, loopback = _bind(host, port)
    serving = Serving(host, sock.getsockname()[1], secrets.token_urlsafe(32), allow_origins)
    endpoint = _Endpoint(serving, sock, runtime)
    try:
        runtime.run(endpoint.start(server, context))
    except BaseException:
        sock.close()
        raise
    warning = None
    if not loopback:
        warning = (
            f"{host} is not a loopback address: anyone who can reach this machine on port "
            f"{serving.port} and has the token can chat with this kernel's data. Serve on "
            "127.0.0.1 unless you mean that."
        )
    return endpoint, warning


def _bind(host: str, port: int) -> tuple[socket.socket, bool]:
    """A listening socket on ``host:port``, and whether ``host`` is a loopback address."""
    try:
        infos = socket.getaddrinfo(
            host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )
    except socket.gaierror as e:
        msg = f"cannot serve on host {host!r} ({e.strerror}): give an address such as 127.0.0.1"
        raise ConfigError(msg) from None
    family, kind, proto, _, address = infos[0]
    sock = socket.socket(family, kind, proto)
    try:
        if os.name != "nt":  # lets a restarted kernel take the port back at once
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(128)
        sock.setblocking(False)
    except OSError as e:
        sock.close()
        if e.errno == errno.EADDRINUSE:
            msg = (
                f"port {port} on {host} is in use (another notebook serving?): "
                "%chatkit serve --port N with another port, or --port 0 for any free one"
            )
        elif e.errno == errno.EACCES:
            msg = f"port {port} needs privileges: choose a port above 1023"
        else:
            msg = f"cannot serve on {host}:{port}: {e.strerror or e}"
        raise ConfigError(msg) from None
    return sock, ipaddress.ip_address(address[0]).is_loopback
