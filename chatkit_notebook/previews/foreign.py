"""Safe access to the user's objects: look without calling, call only under a time limit.

Previews (``_preview.py``, ``_tables.py``) read objects that users and their libraries
defined. This module is how they do it without letting those objects hang, crash or
change the kernel:

* **Looking without calling.** :func:`type_name`, :func:`isa`, :func:`instance_dict` and
  :func:`public_names` read types through the descriptors on ``type`` itself, so a
  metaclass, a ``__class__`` property or a ``__getattr__`` never runs. :func:`is_instance`
  recognises pandas, numpy and polars classes only when their library is already
  imported; this module imports none of them.
* **Calling under a time limit.** :func:`call_foreign` runs a foreign call (``__repr__``,
  ``__str__``, ``inspect.signature``) in a daemon worker thread and waits at most the
  :class:`Budget`'s share. A call that does not return in time is abandoned, with its
  thread; the next call gets a fresh worker. At most eight abandoned workers may be
  pending before foreign calls are refused. Any ``BaseException`` from the call
  (``KeyboardInterrupt`` and ``SystemExit`` included) becomes a status, never a raise.
* **Safe text.** :func:`safe_text` redacts, removes invisible and bidirectional control
  characters, and cuts a text; :func:`foreign_text` is a bounded ``repr``/``str``.
"""

from __future__ import annotations

import queue
import re
import sys
import threading
import time
import types
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from .redact import redact_head, redact_tail

__all__ = [
    "Budget",
    "call_foreign",
    "class_dict",
    "exception_name",
    "foreign_text",
    "has_own_repr",
    "has_plain_str",
    "has_plain_str_type",
    "instance_dict",
    "is_instance",
    "is_secret_value",
    "isa",
    "module_of",
    "mro",
    "public_names",
    "safe_tail",
    "safe_text",
    "type_name",
    "type_qualname",
]


class Budget:
    """Time allowed for foreign calls within one tool call, and their results so far.

    Args:
        seconds: Total time for all foreign calls of the tool call.
        per_call: Time for any one of them.
    """

    def __init__(self, seconds: float = 0.5, per_call: float = 0.2) -> None:
        self.deadline = time.monotonic() + seconds
        self.per_call = per_call
        # Keyed by id(); the object is kept so that its id cannot be reused meanwhile.
        self.memo: dict[tuple[int, str, int], tuple[object, str]] = {}

    def timeout(self) -> float:
        """Seconds the next foreign call may take (0 once the budget is spent)."""
        return max(0.0, min(self.per_call, self.deadline - time.monotonic()))


# -- timed calls ---------------------------------------------------------------------------

Status = Literal["ok", "error", "timeout", "budget", "busy"]
_MAX_STUCK_WORKERS = 8


@dataclass
class _Job:
    fn: Callable[[], object]
    done: threading.Event = field(default_factory=threading.Event)
    value: object = None
    error: str | None = None


class _Worker(threading.Thread):
    """Runs foreign calls one at a time; retired, and left to finish, when one hangs."""

    def __init__(self) -> None:
        super().__init__(name="chatkit-notebook-preview", daemon=True)
        self.jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()

    def run(self) -> None:
        global _stuck
        while True:
            job = self.jobs.get()
            if job is None:  # retired after a timeout, and the hung call has now returned
                with _lock:
                    _stuck -= 1
                return
            try:
                job.value = job.fn()
            except BaseException as e:  # foreign code raises anything, SystemExit too
                job.error = exception_name(e)
            finally:
                job.done.set()
            del job  # drop a large result as soon as the caller has it


_lock = threading.Lock()
_worker: _Worker | None = None
_stuck = 0


def call_foreign(fn: Callable[[], object], budget: Budget) -> tuple[Status, object]:
    """Run ``fn`` in the worker thread for at most the budget's per-call time.

    Args:
        fn: The call into foreign code; it should return something small or already made.
        budget: The tool call's budget.

    Returns:
        ``("ok", value)``, ``("error", exception type name)``, ``("timeout", None)``,
        ``("budget", None)`` when the budget is spent, or ``("busy", None)`` when too many
        abandoned calls are still running.
    """
    global _worker, _stuck
    timeout = budget.timeout()
    if timeout <= 0:
        return ("budget", None)
    with _lock:
        if _worker is None:
            if _stuck >= _MAX_STUCK_WORKERS:
                return ("busy", None)
            _worker = _Worker()
            _worker.start()
        worker = _worker
    job = _Job(fn)
    worker.jobs.put(job)
    if job.done.wait(timeout):
        return ("error", job.error) if job.error is not None else ("ok", job.value)
    with _lock:
        if _worker is worker:  # abandon it; it exits when the hung call returns
            _worker = None
            _stuck += 1
            worker.jobs.put(None)
    return ("timeout", None)


def foreign_text(
    obj: object, *, method: Literal["repr", "str"], max_chars: int, budget: Budget
) -> str:
    """``repr(obj)`` or ``str(obj)``, bounded in time and length, redacted and cleaned.

    Args:
        obj: Any object.
        method: Which of the two to call.
        max_chars: The most characters returned; a longer text is cut and ends in "…".
        budget: The tool call's time budget for foreign code.

    Returns:
        The text, or a placeholder such as ``<repr of Foo timed out>``.
    """
    key = (id(obj), method, max_chars)
    if key in budget.memo:
        return budget.memo[key][1]

    def run() -> str:
        text = repr(obj) if method == "repr" else str(obj)
        # A str subclass could override slicing; copy it to a plain str (or raise).
        return text if type(text) is str else str.__str__(text)

    status, value = call_foreign(run, budget)
    name = type_name(obj)
    if status == "ok" and type(value) is str:
        result = safe_text(value, max_chars)
    elif status == "error":
        result = f"<{method} of {name} raised {value}>"
    elif status == "timeout":
        result = f"<{method} of {name} timed out>"
    elif status == "busy":
        result = f"<{method} of {name} skipped: earlier calls are still running>"
    else:
        result = f"<{method} of {name} skipped: time budget spent>"
    budget.memo[key] = (obj, result)
    return result


# -- text ----------------------------------------------------------------------------------

# Zero-width, bidirectional and tag characters can hide text from the person reading.
_INVISIBLE = re.compile(
    "[\u00ad\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff\U000e0000-\U000e007f]"
)


def safe_text(text: str, max_chars: int) -> str:
    """Redact ``text``, make invisible characters visible (``<U+202E>``) and cut it.

    Args:
        text: Any text; only about ``max_chars`` plus a margin of it is scanned.
        max_chars: The most characters kept before the closing "…" of a cut text.

    Returns:
        The safe text.
    """
    shown, cut = redact_head(text, max_chars)
    return _visible(shown) + ("…" if cut else "")


def safe_tail(text: str, max_chars: int) -> str:
    """Like :func:`safe_text`, for the end of ``text``; starts with "…" if cut."""
    shown = redact_tail(text, max_chars)
    return ("…" if len(shown) < len(text) else "") + _visible(shown)


def _visible(text: str) -> str:
    return _INVISIBLE.sub(lambda m: f"<U+{ord(m.group(0)):04X}>", text)


# -- types without calling them -------------------------------------------------------------

# The descriptors on ``type`` itself bypass any metaclass attribute overrides.
_TYPE_QUALNAME: Any = type.__dict__["__qualname__"]
_TYPE_MODULE: Any = type.__dict__["__module__"]
_TYPE_MRO: Any = type.__dict__["__mro__"]
_TYPE_DICT: Any = type.__dict__["__dict__"]
_LIBRARIES = ("pandas", "numpy", "polars")
_PYDANTIC_SECRETS = frozenset({"SecretStr", "SecretBytes", "Secret"})


def _qualname(cls: type) -> str:
    name = _TYPE_QUALNAME.__get__(cls, type)
    return name if type(name) is str else "object"


def type_qualname(cls: type) -> str:
    """A class's qualified name, read without running its metaclass."""
    return _qualname(cls)


def module_of(cls: type) -> str:
    """The module a class was defined in, read without running its metaclass."""
    module = _TYPE_MODULE.__get__(cls, type)
    return module if type(module) is str else ""


def mro(cls: type) -> tuple[type, ...]:
    """A class's method resolution order, read without running its metaclass."""
    return tuple(_TYPE_MRO.__get__(cls, type))


def class_dict(cls: type) -> types.MappingProxyType[str, Any]:
    """A class's own namespace, read without running its metaclass."""
    return _TYPE_DICT.__get__(cls, type)  # type: ignore[no-any-return]


def type_name(obj: object) -> str:
    """The object's type as the model should read it: ``int``, ``pandas.DataFrame``, ``Foo``.

    Args:
        obj: Any object; nothing of it is called.

    Returns:
        A short, redacted type name of at most 120 characters.
    """
    try:
        cls = type(obj)
        qual, module = _qualname(cls), module_of(cls)
    except BaseException:  # a hostile metaclass
        return "object"
    top = module.partition(".")[0]
    if module in ("builtins", "__main__", ""):
        name = qual
    elif top in _LIBRARIES:
        name = f"{top}.{qual}"
    else:
        name = f"{module}.{qual}"
    return safe_text(name, 120)


def exception_name(error: BaseException) -> str:
    """An exception's type name, safe to show (never its message)."""
    try:
        return _qualname(type(error))
    except BaseException:  # a hostile metaclass
        return "an exception"


def isa(obj: object, cls: type | tuple[type, ...]) -> bool:
    """``isinstance`` by the object's real type, never a foreign ``__class__`` property."""
    return issubclass(type(obj), cls)


def is_instance(obj: object, module: str, name: str) -> bool:
    """Whether ``obj`` is a ``module.name`` (say ``pandas.DataFrame``), if that is imported.

    Args:
        obj: Any object.
        module: The library's top-level module, looked up in ``sys.modules`` only.
        name: The class's name in that module.
    """
    lib = sys.modules.get(module)
    cls = getattr(lib, name, None) if lib is not None else None
    try:
        return isinstance(cls, type) and issubclass(type(obj), cls)
    except BaseException:  # a hostile metaclass
        return False


def is_secret_value(obj: object) -> bool:
    """Whether a value is a secret by its type: ``os.environ``, pydantic ``SecretStr``...

    Args:
        obj: Any object; nothing of it is called.

    Returns:
        ``True`` for ``os._Environ`` and pydantic ``SecretStr``/``SecretBytes``/``Secret``
        (and their subclasses), and for objects whose type cannot even be inspected.
    """
    try:
        for klass in mro(type(obj)):
            qual, module = _qualname(klass), module_of(klass)
            if (module, qual) == ("os", "_Environ"):
                return True
            if module.partition(".")[0] == "pydantic" and qual in _PYDANTIC_SECRETS:
                return True
    except BaseException:  # a type that resists inspection is not shown
        return True
    return False


def has_own_repr(obj: object) -> bool:
    """Whether the object's class (not ``object``) defines ``__repr__``."""
    for klass in mro(type(obj)):
        if "__repr__" in class_dict(klass):
            return klass is not object
    return False


# Scalar types whose str() is cheap, bounded and runs no user code: dates, decimals, paths.
_PLAIN_STR_MODULES = ("datetime", "decimal", "fractions", "uuid", "pathlib", "ipaddress")
# pandas 3 reports its scalars as ``pandas.Timestamp`` (and ``pandas.api.typing.NaTType``),
# pandas 2 as ``pandas._libs...``: both are recognised, by the exact class, never a subclass
# a user could have given its own ``__str__``.
_PANDAS_SCALARS = frozenset({"Timestamp", "Timedelta", "Period", "Interval", "NaTType"})


def has_plain_str(obj: object) -> bool:
    """Whether ``str(obj)`` is a cheap library call: a date, time, decimal, UUID, path or a
    pandas ``Timestamp``/``Timedelta``/``Period``/``Interval``/``NaT``.

    Decided from the object's exact type, read without running its metaclass.
    """
    return has_plain_str_type(type(obj))


def has_plain_str_type(cls: type) -> bool:
    """:func:`has_plain_str` for every object of exactly this type."""
    try:
        module = module_of(cls)
        qual = _qualname(cls)
    except BaseException:  # a hostile metaclass
        return False
    if module.partition(".")[0] in _PLAIN_STR_MODULES or module.startswith("pandas._libs"):
        return True
    return module in ("pandas", "pandas.api.typing") and qual in _PANDAS_SCALARS


def instance_dict(obj: object) -> dict[str, object] | None:
    """The instance ``__dict__``, through the type's own descriptor; no ``__getattr__`` runs.

    Returns:
        The dict itself (read it, never change it), or ``None`` when the object has none
        or its class overrides ``__dict__``.
    """
    for klass in mro(type(obj)):
        descriptor = class_dict(klass).get("__dict__")
        if descriptor is not None:
            if type(descriptor) is not types.GetSetDescriptorType:
                return None  # a class that overrides __dict__ itself: do not call it
            found = descriptor.__get__(obj, type(obj))
            return found if type(found) is dict else None
    return None


def public_names(obj: object, limit: int) -> tuple[list[str], int]:
    """Public attribute names of an object and its classes, without reading any values.

    Args:
        obj: Any object.
        limit: The most names returned.

    Returns:
        ``(names, total)``: the first ``limit`` names in sorted order (redacted) and how
        many public names there are.
    """
    names: set[str] = set()
    instance = instance_dict(obj)
    if instance is not None:
        names.update(k for k in dict.keys(instance) if type(k) is str)
    for klass in mro(type(obj)):
        if klass is not object:
            names.update(k for k in class_dict(klass) if type(k) is str)
    public = sorted(n for n in names if not n.startswith("_"))
    return ([safe_text(n, 100) for n in public[:limit]], len(public))
