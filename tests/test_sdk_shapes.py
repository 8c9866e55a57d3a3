"""The SDK shapes our code relies on: a new chatkit or agents release that moves them fails here.

``pyproject.toml`` pins ``openai-chatkit>=1.6.5,<1.7`` and ``openai-agents>=0.24,<0.25``,
the versions these tests pass with. Raising a pin means running these first: each failure
names the place in ``chatkit_notebook`` that has to follow the SDK.

Three kinds of reliance are checked:

- private names of chatkit that ``agent/server.py`` calls or reads
  (``ChatKitServer._process_streaming`` and ``_process_non_streaming``,
  ``AgentContext._events`` and the queue iterator that waits on it), and the
  ``threading._register_atexit`` hook of ``kernel/serving.py``;
- ``NotebookChatServer.process``, which repeats ``ChatKitServer.process`` (to build the
  request adapter once): if chatkit's changes, ours must be re-read against it;
- every method the package overrides on an SDK class (the server, the item converter, the
  run hooks, the stores): it still takes what the SDK passes it.
"""

from __future__ import annotations

import asyncio
import hashlib
import importlib
import inspect
import pkgutil
import textwrap
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from agents.lifecycle import RunHooksBase
from chatkit.agents import AgentContext, ThreadItemConverter, stream_agent_response
from chatkit.server import ChatKitServer
from chatkit.store import AttachmentStore, Store

import chatkit_notebook

# A hash of ``ChatKitServer.process``'s source (chatkit 1.6.5), which
# ``NotebookChatServer.process`` repeats with a cached request adapter.
CHATKIT_PROCESS_SHA256 = "6763cb2532c03ca172ec5c01b7f829489b53ab12d732844ce8fd40d9b6bab928"

# SDK classes the package subclasses; their methods are the ones an override must fit.
SDK_BASES: tuple[type, ...] = (
    ChatKitServer,
    ThreadItemConverter,
    RunHooksBase,
    Store,
    AttachmentStore,
)


def _positional(function: Any) -> list[str]:
    """The names of ``function``'s positional parameters, ``self`` included."""
    return [
        p.name
        for p in inspect.signature(function).parameters.values()
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
    ]


def test_chatkit_server_process_methods_take_the_request_and_context() -> None:
    # agent/server.py: NotebookChatServer.process calls both with (parsed request, context).
    for name in ("_process_streaming", "_process_non_streaming"):
        method = getattr(ChatKitServer, name, None)
        assert method is not None, (
            f"chatkit's ChatKitServer has no {name} any more: NotebookChatServer.process "
            f"(chatkit_notebook/agent/server.py) calls it; route the request as chatkit's own "
            f"process now does"
        )
        assert _positional(method) == ["self", "request", "context"], (
            f"ChatKitServer.{name}{inspect.signature(method)} no longer takes "
            f"(request, context), as NotebookChatServer.process passes them"
        )
    assert inspect.isasyncgenfunction(ChatKitServer._process_streaming), (
        "ChatKitServer._process_streaming is no longer an async generator: "
        "NotebookChatServer.process wraps it in StreamingResult"
    )
    assert inspect.iscoroutinefunction(ChatKitServer._process_non_streaming), (
        "ChatKitServer._process_non_streaming is no longer a coroutine function: "
        "NotebookChatServer.process awaits it"
    )


def test_chatkit_server_process_is_the_one_ours_repeats() -> None:
    source = textwrap.dedent(inspect.getsource(ChatKitServer.process))
    digest = hashlib.sha256(source.encode()).hexdigest()
    assert digest == CHATKIT_PROCESS_SHA256, (
        "chatkit's ChatKitServer.process changed; NotebookChatServer.process "
        "(chatkit_notebook/agent/server.py) repeats it with a cached request adapter and must "
        "do what it now does. Then set CHATKIT_PROCESS_SHA256 to "
        f"{digest!r}. chatkit's process is now:\n{source}"
    )


def test_agent_context_keeps_its_events_in_a_queue_the_stream_iterates() -> None:
    # agent/server.py: _cancel_orphans finds the task waiting on agent_context._events by
    # the `queue` attribute of the iterator stream_agent_response builds over it.
    assert "_events" in AgentContext.__private_attributes__, (
        "chatkit's AgentContext has no _events any more: _cancel_orphans "
        "(chatkit_notebook/agent/server.py) reads it to cancel the task a stopped answer leaves"
    )
    from chatkit.types import ThreadMetadata

    from chatkit_notebook import NotebookContext, NotebookStore

    context = AgentContext(
        thread=ThreadMetadata(id="thr_shape", created_at="2026-01-01T00:00:00"),
        store=NotebookStore.__new__(NotebookStore),
        request_context=NotebookContext(),
    )
    assert isinstance(context._events, asyncio.Queue)

    import chatkit.agents

    iterator_class = getattr(chatkit.agents, "_AsyncQueueIterator", None)
    assert iterator_class is not None, (
        "chatkit.agents._AsyncQueueIterator is gone: _cancel_orphans "
        "(chatkit_notebook/agent/server.py) recognises the waiting task by it"
    )
    assert iterator_class(context._events).queue is context._events
    assert inspect.iscoroutinefunction(iterator_class.__anext__)
    assert "_AsyncQueueIterator(context._events)" in inspect.getsource(stream_agent_response), (
        "stream_agent_response no longer iterates AgentContext._events with "
        "_AsyncQueueIterator: _cancel_orphans (chatkit_notebook/agent/server.py) would "
        "cancel nothing"
    )


def test_threading_has_the_exit_hook_serving_uses() -> None:
    # kernel/serving.py: _at_exit stops the HTTP server before concurrent.futures' workers.
    register = getattr(threading, "_register_atexit", None)
    assert callable(register), (
        "threading._register_atexit is gone: _at_exit (chatkit_notebook/kernel/serving.py) "
        "falls back to atexit, which runs after the thread pools shut down, and a streaming "
        "answer's partial text is lost at kernel exit"
    )
    assert _positional(register)[:1] == ["func"]


def _package_modules() -> Iterator[Any]:
    for info in pkgutil.walk_packages(chatkit_notebook.__path__, "chatkit_notebook."):
        try:
            yield importlib.import_module(info.name)
        except ImportError as error:  # an optional extra (psycopg, fastapi) not installed
            if not (error.name or "").startswith("chatkit_notebook"):
                continue
            raise


def _overrides() -> list[tuple[type, str, Any, Any]]:
    """(our class, method name, our method, the SDK's) for every override of an SDK method."""
    found: dict[tuple[type, str], tuple[type, str, Any, Any]] = {}
    for module in _package_modules():
        for cls in vars(module).values():
            if not (isinstance(cls, type) and cls.__module__ == module.__name__):
                continue
            if not issubclass(cls, SDK_BASES):
                continue
            for name, ours in vars(cls).items():
                if name.startswith("__") or not callable(ours):
                    continue
                sdk = next(
                    (
                        vars(base)[name]
                        for base in cls.__mro__[1:]
                        if not base.__module__.startswith("chatkit_notebook") and name in vars(base)
                    ),
                    None,
                )
                if sdk is not None and callable(sdk):
                    found[cls, name] = (cls, name, ours, sdk)
    return list(found.values())


OVERRIDES = _overrides()


def test_the_package_overrides_sdk_methods() -> None:
    names = {f"{cls.__name__}.{name}" for cls, name, _, _ in OVERRIDES}
    # The server's routing and turn, as a sanity check that the scan finds overrides at all.
    assert {"NotebookChatServer.process", "NotebookChatServer.respond"} <= names, names


@pytest.mark.parametrize(
    ("cls", "name", "ours", "sdk"),
    OVERRIDES,
    ids=[f"{cls.__name__}.{name}" for cls, name, _, _ in OVERRIDES],
)
def test_an_override_takes_what_the_sdk_passes(cls: type, name: str, ours: Any, sdk: Any) -> None:
    theirs = inspect.signature(sdk).parameters
    mine = inspect.signature(ours).parameters
    where = f"{cls.__module__}.{cls.__qualname__}.{name}"
    assert _positional(sdk) == _positional(ours), (
        f"{where}{inspect.signature(ours)} no longer fits the SDK's "
        f"{sdk.__qualname__}{inspect.signature(sdk)}: the positional parameters differ"
    )
    for param in theirs.values():
        if param.kind is param.KEYWORD_ONLY:
            assert param.name in mine or any(p.kind is p.VAR_KEYWORD for p in mine.values()), (
                f"{where} lacks the keyword {param.name!r} the SDK's {sdk.__qualname__} takes"
            )
    for param in mine.values():
        if param.name not in theirs and param.kind not in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            assert param.default is not param.empty, (
                f"{where} requires {param.name!r}, which the SDK's {sdk.__qualname__} never passes"
            )

    # The SDK awaits what it defines as a coroutine function, and iterates what returns an
    # async iterator (an async generator, or a plain function returning one).
    awaited = inspect.iscoroutinefunction(sdk)
    assert inspect.iscoroutinefunction(ours) == awaited, (
        f"{where} must {'' if awaited else 'not '}be a coroutine function: the SDK's "
        f"{sdk.__qualname__} {'is' if awaited else 'is not'} one"
    )
