"""``%chatkit doctor``: check what breaks first, and say how to fix each failure.

The checks run in order and stop being useful once one fails, so each later check is
skipped when an earlier one it depends on failed: an API key (for OpenAI), the endpoint
answering ``/models``, the model answering, streaming and calling a tool, and the store:
its folder being writable, or its database answering and accepting writes. While the chat
is served over HTTP (``%chatkit serve``), a last check asks the endpoint without the token
and expects it to refuse (the token is never shown).

What a store can tell is read through small protocols (:class:`FileStore`,
:class:`DescribedStore`, :class:`GuardedStore`), not by probing attribute names.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from ..config import ModelConfig
from ..context import NotebookContext
from ..errors import StoreError

if TYPE_CHECKING:
    from .serving import Serving

__all__ = ["Check", "DescribedStore", "FileStore", "GuardedStore", "run_checks"]


@runtime_checkable
class FileStore(Protocol):
    """A store kept in a file (:class:`~chatkit_notebook.stores.file.NotebookStore`)."""

    path: Path


@runtime_checkable
class DescribedStore(Protocol):
    """A store that says where it is (:class:`~chatkit_notebook.stores.postgres.PostgresStore`)."""

    def describe(self) -> str:
        """Where the store is, the password masked."""
        ...


@runtime_checkable
class GuardedStore(Protocol):
    """A store that refuses writes it cannot make safely, and says why."""

    @property
    def read_only(self) -> StoreError | None:
        """Why the store refuses writes (a newer schema, say), or ``None``."""
        ...


@dataclass
class Check:
    """One line of the doctor's report."""

    name: str
    ok: bool | None  # None: skipped
    detail: str
    fix: str = ""


async def run_checks(
    config: ModelConfig,
    store: Any,
    context: NotebookContext | None = None,
    serving: Serving | None = None,
) -> list[Check]:
    """Run every check against the given settings and store (read with ``context``), and
    the HTTP endpoint the chat is ``serving`` at, if any."""
    checks: list[Check] = []
    key_ok = _check_key(config, checks)
    reachable = await _check_endpoint(config, checks) if key_ok else _skip(checks, "endpoint")
    if reachable:
        await _check_model(config, checks)
    else:
        _skip(checks, "model answers, streams and calls tools")
    if isinstance(store, FileStore):
        _check_store(store.path, checks)
    else:
        await _check_database(store, context or NotebookContext(), checks)
    if serving is not None:
        await _check_serving(serving, checks)
    return checks


def _skip(checks: list[Check], name: str) -> bool:
    checks.append(Check(name, None, "skipped: an earlier check failed"))
    return False


def _check_key(config: ModelConfig, checks: list[Check]) -> bool:
    if config.api_key or not config.is_openai:
        source = "set" if config.api_key else "not needed for a local endpoint"
        checks.append(Check("API key", True, source))
        return True
    checks.append(
        Check(
            "API key",
            False,
            "no OpenAI API key",
            "set OPENAI_API_KEY, or use a local model: %chatkit model NAME --base-url URL",
        )
    )
    return False


async def _check_endpoint(config: ModelConfig, checks: list[Check]) -> bool:
    from openai import AsyncOpenAI, OpenAIError

    url = config.base_url or "https://api.openai.com/v1"
    client = AsyncOpenAI(
        api_key=config.api_key or "not-needed", base_url=config.base_url, max_retries=0, timeout=10
    )
    try:
        models = [m.id async for m in client.models.list()]
    except OpenAIError as e:
        checks.append(
            Check(
                "endpoint",
                False,
                f"{url} did not answer: {type(e).__name__}: {e}",
                "start the server, and give the URL of its OpenAI API (it usually ends in /v1; "
                "Ollama: http://localhost:11434/v1)",
            )
        )
        return False
    finally:
        await client.close()
    name = config.model_name
    listed = name in models
    detail = f"{url} answers; {len(models)} models" + (f", including {name}" if listed else "")
    fix = (
        ""
        if listed or not models
        else f"{name!r} is not listed: %chatkit model NAME with one of {models[:5]}"
    )
    checks.append(Check("endpoint", True, detail, fix))
    return True


async def _check_model(config: ModelConfig, checks: list[Check]) -> None:
    from agents import Agent, RunConfig, Runner, function_tool

    called: list[bool] = []

    @function_tool
    def ping() -> str:
        """Answer a health check. Call this tool once, then reply with the word OK."""
        called.append(True)
        return "pong"

    name = "model answers, streams and calls tools"
    try:
        model = config.build_model()
        agent = Agent(
            name="doctor",
            instructions="Call the ping tool exactly once, then reply with the single word OK.",
            tools=[ping],
            model=model,
        )
        result = Runner.run_streamed(
            agent, "Health check.", run_config=RunConfig(tracing_disabled=True), max_turns=3
        )
        deltas = 0
        async for event in result.stream_events():
            if (
                event.type == "raw_response_event"
                and event.data.type == "response.output_text.delta"
            ):
                deltas += 1
    except Exception as e:  # any failure (ConfigError included) is the finding
        checks.append(
            Check(
                name,
                False,
                f"{config.model_name}: {type(e).__name__}: {e}",
                "see the error; %chatkit model NAME",
            )
        )
        return
    problems = []
    if not called:
        problems.append("did not call the tool (the panel's tools need tool calling)")
    if deltas == 0:
        problems.append("did not stream text")
    if problems:
        checks.append(
            Check(
                name,
                False,
                f"{config.model_name} " + " and ".join(problems),
                "pick a model that supports tool calls",
            )
        )
    else:
        checks.append(
            Check(name, True, f"{config.model_name} called the tool and streamed {deltas} deltas")
        )


def _check_store(path: Path, checks: list[Check]) -> None:
    folder = path.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".chatkit-doctor-"):
            pass
        if path.exists() and not os.access(path, os.W_OK):
            raise PermissionError(f"{path} is read-only")
    except OSError as e:
        checks.append(
            Check(
                "store",
                False,
                f"cannot write {path}: {e}",
                "choose a writable file: %chatkit store PATH",
            )
        )
        return
    checks.append(Check("store", True, f"{path} is writable"))


async def _check_database(store: Any, context: NotebookContext, checks: list[Check]) -> None:
    """A database store: it answers, its schema is one this version writes, and whose
    threads it shows."""
    where = store.describe() if isinstance(store, DescribedStore) else type(store).__name__
    try:
        page = await store.load_threads(100, None, "desc", context)
    except StoreError as e:
        fix = "check the connection string and the server, then %chatkit store URL"
        checks.append(Check("store", False, str(e), fix))
        return
    refused = store.read_only if isinstance(store, GuardedStore) else None
    if refused is not None:
        checks.append(Check("store", False, str(refused), "pip install -U chatkit-notebook"))
        return
    count = f"{len(page.data)}{'+' if page.has_more else ''} threads"
    checks.append(Check("store", True, f"{where}: answers; {count}"))


async def _check_serving(serving: Serving, checks: list[Check]) -> None:
    import httpx

    fix = "%chatkit serve stop, then %chatkit serve again"
    try:
        async with httpx.AsyncClient(timeout=10, trust_env=False) as client:
            response = await client.post(serving.url, content=b"{}")
    except httpx.HTTPError as e:
        detail = f"{serving.url} did not answer: {type(e).__name__}: {e}"
        checks.append(Check("HTTP endpoint", False, detail, fix))
        return
    if response.status_code != 401:
        detail = f"{serving.url} answered {response.status_code} without the token, not 401"
        checks.append(Check("HTTP endpoint", False, detail, fix))
        return
    checks.append(Check("HTTP endpoint", True, serving.describe()))
