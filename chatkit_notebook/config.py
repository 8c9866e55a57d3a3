"""Which model answers, and how to reach it.

Settings come from :func:`configure` (or ``%chatkit model``), falling back to the
environment: ``CHATKIT_NOTEBOOK_MODEL``, ``OPENAI_BASE_URL``, ``OPENAI_API_KEY``.

* With no base URL: OpenAI's Responses API, with the SDK's default model unless one is set.
* With a base URL (Ollama, vLLM, llama.cpp server, any OpenAI-compatible endpoint): the
  Chat Completions API. ``http://localhost:11434`` and ``http://localhost:11434/v1`` both
  work; so does a pasted ``.../v1/chat/completions``.
* ``litellm/<provider>/<model>`` names go through LiteLLM (``pip install
  'chatkit-notebook[litellm]'``).

Tracing is off unless turned on with ``configure(tracing=True)``, and even then never
carries tool inputs or outputs, so no notebook data leaves the machine through traces.

Whether the agent may run Python (:class:`RunSettings`) is chosen the same way:
``configure(run_python="ask"|"auto"|"off", run_timeout=60)``, ``%chatkit run``, or
``CHATKIT_NOTEBOOK_RUN_PYTHON``; the default is ``ask``. So is where threads are kept
(:func:`store_choice`): ``configure(store=PATH_OR_URL)``, ``%chatkit store``, or
``CHATKIT_NOTEBOOK_STORE``; see :mod:`chatkit_notebook.stores.location`. Whether the agent
may read the notebook's cells, outputs and errors besides its variables
(:func:`notebook_tools_enabled`): ``configure(notebook_tools=False)``, ``%chatkit cells
off`` or ``CHATKIT_NOTEBOOK_CELLS=off``; the default is on.

What a turn cost is looked up in ``genai-prices`` by model and endpoint; a private endpoint's
prices are given with ``configure(prices={"my-model": {"input": 0.5, "output": 1.5}})``
(dollars per million tokens), read back with :func:`price_overrides`.
"""

from __future__ import annotations

import math
import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Literal
from urllib.parse import urlsplit, urlunsplit

from ._targets import is_database_url, masked, needs_psycopg
from .errors import ConfigError

if TYPE_CHECKING:
    from agents import Model

__all__ = [
    "ModelConfig",
    "ModelPrice",
    "RunSettings",
    "StoreChoice",
    "configure",
    "current_config",
    "error_help_enabled",
    "normalize_base_url",
    "notebook_tools_enabled",
    "price_overrides",
    "reset_configuration",
    "run_settings",
    "store_choice",
]

Api = Literal["responses", "chat_completions"]
_APIS: tuple[Api, ...] = ("responses", "chat_completions")
MODEL_ENV_VAR = "CHATKIT_NOTEBOOK_MODEL"
RUN_MODE_ENV_VAR = "CHATKIT_NOTEBOOK_RUN_PYTHON"
CELLS_ENV_VAR = "CHATKIT_NOTEBOOK_CELLS"
RunMode = Literal["ask", "auto", "off"]
RUN_MODES: tuple[RunMode, ...] = ("ask", "auto", "off")
DEFAULT_RUN_TIMEOUT = 60.0
_PASTED_SUFFIXES = ("/chat/completions", "/completions", "/responses", "/models")
# The openai client insists on a key; local servers ignore it.
_LOCAL_PLACEHOLDER_KEY = "not-needed"


@dataclass(frozen=True)
class ModelConfig:
    """The model settings in force.

    Attributes:
        model: The model name; ``None`` means the Agents SDK's default (OpenAI only).
        base_url: An OpenAI-compatible endpoint, normalised to end in ``/v1``; ``None``
            for OpenAI itself.
        api_key: The key sent to the endpoint. Never shown in ``repr``.
        api: ``"responses"`` or ``"chat_completions"``; ``None`` picks Responses for
            OpenAI and Chat Completions for a base URL.
        tracing: Send Agents SDK traces (without notebook data) to OpenAI.
        max_retries: How often the client retries rate limits, server errors and
            dropped connections (the openai client's default is 2).
    """

    model: str | None = None
    base_url: str | None = None
    api_key: str | None = field(default=None, repr=False)
    api: Api | None = None
    tracing: bool = False
    max_retries: int = 2

    @property
    def is_openai(self) -> bool:
        """Whether requests go to OpenAI itself."""
        return not self.base_url or urlsplit(self.base_url).hostname == "api.openai.com"

    @property
    def effective_api(self) -> Api:
        """The API actually used."""
        if self.api is not None:
            return self.api
        return "responses" if self.is_openai else "chat_completions"

    @property
    def is_litellm(self) -> bool:
        """Whether the model name routes through LiteLLM."""
        return bool(self.model and self.model.startswith("litellm/"))

    @property
    def endpoint(self) -> str:
        """Where requests go, for messages."""
        if self.is_litellm:
            return f"LiteLLM ({self.model})"
        return self.base_url or "OpenAI (api.openai.com)"

    @property
    def model_name(self) -> str:
        """The model name used, resolving the SDK default."""
        if self.model:
            return self.model
        from agents.models.default_models import get_default_model

        return get_default_model()

    def describe(self) -> str:
        """One line for status bars: model and endpoint."""
        return f"{self.model_name} via {self.endpoint}"

    def problem(self) -> str | None:
        """Why these settings cannot reach a model, found without a request; else ``None``."""
        if not self.is_litellm and not self.base_url and not self.api_key:
            return (
                "No OpenAI API key: set OPENAI_API_KEY, call "
                "chatkit_notebook.configure(api_key=...), or use a local model with "
                "%chatkit model NAME --base-url URL."
            )
        return None

    def build_model(self, name: str | None = None) -> Model:
        """An Agents SDK model for these settings.

        Args:
            name: A model name overriding ``self.model`` (from a request's inference
                options).

        Raises:
            ConfigError: no API key for OpenAI, or LiteLLM is not installed.
        """
        config = self if name is None else replace(self, model=name)
        model_name = config.model_name
        if config.is_litellm:
            return _litellm_model(model_name.removeprefix("litellm/"), config)
        from agents import OpenAIChatCompletionsModel, OpenAIResponsesModel
        from openai import AsyncOpenAI

        problem = config.problem()
        if problem:
            raise ConfigError(problem)
        api_key = config.api_key or _LOCAL_PLACEHOLDER_KEY
        client = AsyncOpenAI(
            api_key=api_key, base_url=config.base_url, max_retries=config.max_retries
        )
        if config.effective_api == "responses":
            return OpenAIResponsesModel(model=model_name, openai_client=client)
        return OpenAIChatCompletionsModel(model=model_name, openai_client=client)


def _litellm_model(name: str, config: ModelConfig) -> Model:
    try:
        from agents.extensions.models.litellm_model import LitellmModel
    except ImportError as e:
        msg = f"The model {config.model!r} needs LiteLLM: pip install 'chatkit-notebook[litellm]'."
        raise ConfigError(msg) from e
    return LitellmModel(model=name, base_url=config.base_url, api_key=config.api_key)


def normalize_base_url(url: str) -> str:
    """Make an OpenAI-compatible endpoint URL end in ``/v1``.

    ``http://localhost:11434`` becomes ``http://localhost:11434/v1``; a pasted
    ``.../v1/chat/completions`` loses its last part.

    Raises:
        ConfigError: the URL is not an http(s) URL with a host.
    """
    text = url.strip()
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        msg = (
            f"Base URL {url!r} is not an http(s) URL; use one like http://localhost:11434/v1 "
            "(Ollama) or http://localhost:8000/v1 (vLLM)."
        )
        raise ConfigError(msg)
    path = parts.path.rstrip("/")
    for suffix in _PASTED_SUFFIXES:
        if path.endswith(suffix):
            path = path[: -len(suffix)]
            break
    if not path.endswith("/v1"):
        path += "/v1"
    return urlunsplit((parts.scheme, parts.netloc, path, "", ""))


@dataclass(frozen=True)
class RunSettings:
    """Whether and how the agent may run Python (the ``run_python`` tool).

    Attributes:
        mode: ``"ask"``: each call waits for a person's approval (the default);
            ``"auto"``: calls run without asking; ``"off"``: the agent has no such tool.
        timeout: Seconds a call may run before it is stopped.
    """

    mode: RunMode = "ask"
    timeout: float = DEFAULT_RUN_TIMEOUT


@dataclass(frozen=True)
class StoreChoice:
    """Where :func:`configure` put the threads (see :func:`store_choice`).

    Attributes:
        target: A file path or a PostgreSQL connection string.
        shared: Everyone on the notebook key sees a database's threads.
        notebook_key: The database's key for this notebook; ``None``: the notebook's path
            relative to the Jupyter root.
    """

    target: str
    shared: bool = False
    notebook_key: str | None = field(default=None)


@dataclass(frozen=True)
class ModelPrice:
    """A model's price in US dollars per million tokens, given with ``configure(prices=...)``.

    Attributes:
        input: Per million input tokens (not cached).
        output: Per million output tokens.
        cached: Per million cached input tokens; ``None``: the same as ``input``.
    """

    input: float
    output: float
    cached: float | None = None


_PRICE_KEYS = ("input", "output", "cached")


def _prices(prices: Mapping[str, Mapping[str, float]]) -> dict[str, ModelPrice]:
    """``configure(prices=...)``'s mapping checked and made :class:`ModelPrice` values."""
    example = '{"my-model": {"input": 0.5, "output": 1.5, "cached": 0.1}}'
    if not isinstance(prices, Mapping):
        raise ConfigError(f"prices must be a mapping such as {example}, not {prices!r}.")
    checked = {}
    for name, price in prices.items():
        if not isinstance(name, str) or not name.strip():
            raise ConfigError(f"prices: {name!r} is not a model name; use {example}.")
        if not isinstance(price, Mapping) or not {"input", "output"} <= set(price):
            msg = (
                f"prices[{name!r}] must give 'input' and 'output' dollars per million "
                f"tokens (and optionally 'cached'), not {price!r}."
            )
            raise ConfigError(msg)
        unknown = set(price) - set(_PRICE_KEYS)
        if unknown:
            msg = f"prices[{name!r}] has {sorted(unknown)!r}; the keys are input, output, cached."
            raise ConfigError(msg)
        for key, value in price.items():
            if (
                isinstance(value, bool)
                or not isinstance(value, (int, float))
                or not math.isfinite(value)
                or value < 0
            ):
                msg = f"prices[{name!r}][{key!r}] must be dollars per million tokens, not {value!r}"
                msg += "."
                raise ConfigError(msg)
        cached = price.get("cached")
        checked[name.strip()] = ModelPrice(
            float(price["input"]), float(price["output"]), None if cached is None else float(cached)
        )
    return checked


_lock = threading.Lock()
_configured: dict[str, object] = {}


def configure(
    model: str | None = None,
    base_url: str | None = None,
    api_key: str | None = None,
    api: Api | None = None,
    *,
    tracing: bool | None = None,
    max_retries: int | None = None,
    run_python: RunMode | None = None,
    run_timeout: float | None = None,
    store: str | os.PathLike[str] | None = None,
    store_shared: bool | None = None,
    store_key: str | None = None,
    error_help: bool | None = None,
    notebook_tools: bool | None = None,
    prices: Mapping[str, Mapping[str, float]] | None = None,
) -> ModelConfig:
    """Choose the model for this kernel; arguments left ``None`` keep their setting.

    Args:
        model: A model name, e.g. ``"gpt-4.1-mini"``, ``"llama3.1"`` or
            ``"litellm/anthropic/claude-3-5-sonnet"``.
        base_url: An OpenAI-compatible endpoint (Ollama, vLLM, llama.cpp server); pass
            ``""`` to go back to OpenAI.
        api_key: The key for the endpoint (defaults to ``OPENAI_API_KEY``).
        api: ``"responses"`` or ``"chat_completions"`` to override the choice made from
            ``base_url``.
        tracing: Send Agents SDK traces to OpenAI (never with notebook data).
        max_retries: Retries for rate limits, server errors and dropped connections.
        run_python: Whether the agent may run Python in a sandbox of your variables:
            ``"ask"`` (each time, the default), ``"auto"`` (without asking) or ``"off"``.
        run_timeout: Seconds one ``run_python`` call may take before it is stopped.
        store: Where threads are kept: a file path, or a PostgreSQL connection string
            (``postgresql://user:password@host:5432/db``) for a team's database; ``""``
            goes back to the default (``CHATKIT_NOTEBOOK_STORE``, else beside the notebook).
            A loaded ``%chat`` switches to it at its next use.
        store_shared: With a database, everyone on the notebook sees its threads, not only
            their own.
        store_key: With a database, the key that files this notebook's threads (default:
            its path relative to the Jupyter root); pass the same key in two notebooks to
            share their threads.
        error_help: Show "Ask about this error" under a failing cell (the default, where a
            person can click it); ``False`` turns it off.
        notebook_tools: Whether the agent may read the notebook's cells, their outputs
            and the last error (``notebook_cells``, ``read_cell``, ``last_error``), besides
            its variables; ``False`` for variables only.
        prices: Prices for models ``genai-prices`` does not know (a private endpoint's),
            or to override its price: ``{"my-model": {"input": 0.5, "output": 1.5,
            "cached": 0.1}}`` in US dollars per million tokens (``cached`` defaults to
            ``input``). Replaces the prices given before; ``{}`` forgets them.

    Returns:
        The settings now in force.

    Raises:
        ConfigError: a value cannot be used; nothing is changed then.
    """
    updates: dict[str, object] = {}
    if model is not None:
        if not model.strip():
            raise ConfigError("Model name is empty; pass a name such as 'gpt-4.1-mini'.")
        updates["model"] = model.strip()
    if base_url is not None:
        updates["base_url"] = normalize_base_url(base_url) if base_url.strip() else ""
    if api_key is not None:
        updates["api_key"] = api_key
    if api is not None:
        if api not in _APIS:
            raise ConfigError(f"api must be 'responses' or 'chat_completions', not {api!r}.")
        updates["api"] = api
    if tracing is not None:
        updates["tracing"] = bool(tracing)
    if max_retries is not None:
        if isinstance(max_retries, bool) or not isinstance(max_retries, int) or max_retries < 0:
            raise ConfigError(f"max_retries must be a whole number 0 or more, not {max_retries!r}.")
        updates["max_retries"] = max_retries
    if run_python is not None:
        updates["run_python"] = _run_mode(run_python, "run_python")
    if run_timeout is not None:
        if (
            isinstance(run_timeout, bool)
            or not isinstance(run_timeout, (int, float))
            or not 0 < run_timeout <= 86_400
        ):
            msg = f"run_timeout must be a number of seconds above 0, not {run_timeout!r}."
            raise ConfigError(msg)
        updates["run_timeout"] = float(run_timeout)
    if error_help is not None:
        if not isinstance(error_help, bool):
            raise ConfigError(f"error_help must be True or False, not {error_help!r}.")
        updates["error_help"] = error_help
    if notebook_tools is not None:
        if not isinstance(notebook_tools, bool):  # a caller's mistake, typed or not
            msg = f"notebook_tools must be True or False, not {notebook_tools!r}."  # type: ignore[unreachable]
            raise ConfigError(msg)
        updates["notebook_tools"] = notebook_tools
    if store is not None or store_shared is not None or store_key is not None:
        updates["store"] = _store_choice(store, store_shared, store_key)
    if prices is not None:
        updates["prices"] = _prices(prices)
    with _lock:
        _configured.update(updates)
    return current_config()


def _store_choice(
    store: str | os.PathLike[str] | None, shared: bool | None, key: str | None
) -> StoreChoice | None:
    """The new store choice; ``store=None`` keeps the current target."""
    if store is None:
        current = store_choice()
        if current is None:
            msg = "store_shared and store_key need a database: pass store='postgresql://...' too."
            raise ConfigError(msg)
        target = current.target
        shared = current.shared if shared is None else shared
        key = current.notebook_key if key is None else key
    else:
        target = os.fspath(store).strip()
        if not target:
            return None
    if key is not None and not key.strip():
        raise ConfigError("store_key is empty: pass a key such as 'team/sales.ipynb', or None.")
    if not is_database_url(target):
        if shared or key is not None:
            msg = f"store_shared and store_key apply to a database, not to the file {target!r}."
            raise ConfigError(msg)
        return StoreChoice(target)
    try:
        from psycopg.conninfo import conninfo_to_dict
    except ImportError as e:
        raise needs_psycopg(e) from None
    try:
        conninfo_to_dict(target)
    except Exception:
        msg = (
            f"Not a PostgreSQL connection string: {masked(target)}. Use "
            "postgresql://USER:PASSWORD@HOST:PORT/DATABASE or 'host=... dbname=...'."
        )
        raise ConfigError(msg) from None
    return StoreChoice(target, shared=bool(shared), notebook_key=key)


def store_choice() -> StoreChoice | None:
    """Where :func:`configure` (or ``%chatkit store``) put the threads, or ``None``: the
    environment and the notebook decide (:func:`~chatkit_notebook.stores.location.locate_store`).
    """
    with _lock:
        chosen = _configured.get("store")
    return chosen if isinstance(chosen, StoreChoice) else None


def price_overrides() -> dict[str, ModelPrice]:
    """The prices given with ``configure(prices=...)``, by model name."""
    with _lock:
        chosen = _configured.get("prices")
    return dict(chosen) if isinstance(chosen, dict) else {}


def reset_configuration() -> None:
    """Forget :func:`configure`'s settings (the environment applies again)."""
    with _lock:
        _configured.clear()


def current_config(environ: dict[str, str] | None = None) -> ModelConfig:
    """The settings in force: :func:`configure`'s, else the environment's.

    Raises:
        ConfigError: ``OPENAI_BASE_URL`` is not a usable URL.
    """
    env = os.environ if environ is None else environ
    with _lock:
        chosen = dict(_configured)
    base_url = chosen.get("base_url")
    url_from_env = base_url is None
    if base_url is None:
        raw = env.get("OPENAI_BASE_URL", "").strip()
        base_url = normalize_base_url(raw) if raw else ""
    model = chosen.get("model") or env.get(MODEL_ENV_VAR, "").strip() or None
    api_key = chosen.get("api_key")
    if not api_key:
        # OPENAI_API_KEY goes where the environment points (OpenAI, or OPENAI_BASE_URL),
        # never to an endpoint chosen later with configure(): that could be anyone's.
        third_party = bool(base_url) and urlsplit(str(base_url)).hostname != "api.openai.com"
        if url_from_env or not third_party:
            api_key = env.get("OPENAI_API_KEY") or None
    return ModelConfig(
        model=model if isinstance(model, str) else None,
        base_url=base_url if isinstance(base_url, str) and base_url else None,
        api_key=api_key if isinstance(api_key, str) else None,
        api=chosen.get("api"),  # type: ignore[arg-type]
        tracing=bool(chosen.get("tracing", False)),
        max_retries=int(chosen.get("max_retries", 2)),  # type: ignore[call-overload]
    )


def _run_mode(value: object, source: str) -> RunMode:
    text = value.strip().lower() if isinstance(value, str) else value
    if text not in RUN_MODES:
        raise ConfigError(f"{source} must be 'ask', 'auto' or 'off', not {value!r}.")
    return text


def run_settings(environ: dict[str, str] | None = None) -> RunSettings:
    """Whether the agent may run Python now: :func:`configure`'s choice, else
    ``CHATKIT_NOTEBOOK_RUN_PYTHON``, else ``ask``.

    Raises:
        ConfigError: ``CHATKIT_NOTEBOOK_RUN_PYTHON`` is not ``ask``, ``auto`` or ``off``.
    """
    env = os.environ if environ is None else environ
    with _lock:
        mode = _configured.get("run_python")
        timeout = _configured.get("run_timeout", DEFAULT_RUN_TIMEOUT)
    if mode is None:
        raw = env.get(RUN_MODE_ENV_VAR, "").strip()
        mode = _run_mode(raw, RUN_MODE_ENV_VAR) if raw else "ask"
    return RunSettings(mode=mode, timeout=float(timeout))  # type: ignore[arg-type]


def error_help_enabled() -> bool:
    """Whether a failing cell gets "Ask about this error" (``configure(error_help=...)``,
    ``%chatkit errors on|off``; on by default)."""
    with _lock:
        return bool(_configured.get("error_help", True))


_ON = frozenset({"on", "1", "true", "yes"})
_OFF = frozenset({"off", "0", "false", "no"})


def notebook_tools_enabled(environ: Mapping[str, str] | None = None) -> bool:
    """Whether the agent may read the notebook's cells, outputs and errors:
    :func:`configure`'s choice, else ``CHATKIT_NOTEBOOK_CELLS`` (``on``/``off``), else on.

    Raises:
        ConfigError: ``CHATKIT_NOTEBOOK_CELLS`` is neither on nor off.
    """
    with _lock:
        chosen = _configured.get("notebook_tools")
    if isinstance(chosen, bool):
        return chosen
    raw = (os.environ if environ is None else environ).get(CELLS_ENV_VAR, "").strip().lower()
    if not raw or raw in _ON:
        return True
    if raw in _OFF:
        return False
    msg = f"{CELLS_ENV_VAR} must be 'on' or 'off', not {raw!r}."
    raise ConfigError(msg)
