"""What a turn's answer rests on: the variables it read, and the numbers it saw.

The server gives each turn one :class:`TurnSources` (it rides on the turn's
:class:`~.receipt.Receipt`, so a turn paused for approval counts on after the click). Every
tool result the model sees passes through :meth:`TurnSources.saw`, which notes the
variables it read and keeps its text for the numbers' check:

- ``describe_variable`` and ``preview_rows`` read the variable their ``name`` starts with
  (``sales``, ``model.coef_`` reads ``model``); a person's ``@sales`` tag the same;
- ``run_python`` reads the names its code mentions that the notebook has;
- ``query`` reads the frames its SQL names (:func:`names_read` is the one place a new
  reading tool says what it read).

When an answer is done, :meth:`TurnSources.annotate` gives it an annotation per variable
read so far, each holding that variable's fingerprint (``previews.fingerprint``): later
views compare it with the variable as it is then and say when the answer is stale. At
the end of the turn, :meth:`TurnSources.numbers` checks the answers' numbers against
everything seen (``traced``).
"""

from __future__ import annotations

import ast
import inspect
import json
import re
import types
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from chatkit.types import AssistantMessageItem

from .._items import variable_source
from ..context import NotebookContext
from ..previews.fingerprint import fingerprint
from ..previews.foreign import is_secret_value
from ..previews.namespace import lookup
from ..previews.redact import is_secret_name, redact_text
from .traced import NumberTrace, trace

__all__ = ["TurnSources", "names_read"]

_NAME_TOOLS = frozenset({"describe_variable", "preview_rows"})
_LEADING_NAME = re.compile(r"\s*([A-Za-z_]\w*)")
_IDENTIFIER = re.compile(r"[A-Za-z_]\w*")
_TIMES = " \u00d7 "  # as the previews write shapes
_MAX_SOURCES = 20  # variables an answer keeps fingerprints of (the first read)
_SECRET_SCAN = 10_000  # characters of a text variable searched for secrets


def names_read(tool: str, arguments: Mapping[str, Any] | str) -> list[str]:
    """The notebook names a tool call may have read (not yet checked against the notebook)."""
    if isinstance(arguments, str):
        try:
            parsed = json.loads(arguments) if arguments.strip() else {}
        except ValueError:
            return []
        arguments = parsed if isinstance(parsed, dict) else {}
    if tool in _NAME_TOOLS:
        name = arguments.get("name")
        found = _LEADING_NAME.match(name) if isinstance(name, str) else None
        return [found.group(1)] if found else []
    if tool == "run_python":
        code = arguments.get("code")
        return _code_names(code) if isinstance(code, str) else []
    if tool == "query":  # the SQL names frames as tables: any identifier may be one
        sql = arguments.get("sql")
        return list(dict.fromkeys(_IDENTIFIER.findall(sql))) if isinstance(sql, str) else []
    return []


def _code_names(code: str) -> list[str]:
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return list(dict.fromkeys(_IDENTIFIER.findall(code)))
    return list(
        dict.fromkeys(
            node.id
            for node in ast.walk(tree)
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load)
        )
    )


def _described(kept: Mapping[str, Any]) -> str:
    """What the source was, in a few words: its type and shape, never its values."""
    kind = str(kept.get("type", "")).rsplit(".", 1)[-1]
    shape = kept.get("shape")
    if isinstance(shape, list) and shape:
        return f"{kind} ({_TIMES.join(f'{n:,}' for n in shape)})"
    return kind


def _secret(name: str, value: object) -> bool:
    """A secret by its name, its type, or (text) its content: never fingerprinted."""
    if is_secret_name(name) or is_secret_value(value):
        return True
    if isinstance(value, (str, bytes)):
        text = (
            value[:_SECRET_SCAN]
            if isinstance(value, str)
            else value[:_SECRET_SCAN].decode("utf-8", "replace")
        )
        return redact_text(text) != text
    return False


def _code_not_data(value: object) -> bool:
    """Modules, classes and functions: what code uses, not the data an answer is about."""
    return isinstance(value, (types.ModuleType, type)) or inspect.isroutine(value)


@dataclass
class TurnSources:
    """The variables one turn read and the texts it saw."""

    question: str = ""
    names: list[str] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)
    answers: list[str] = field(default_factory=list)

    def saw(self, tool: str, arguments: Mapping[str, Any] | str, result: str) -> None:
        """Note a tool call the model made: what it read, its result, and its arguments
        (the code it ran, the SQL: numbers the agent computed with)."""
        self.texts.append(result)
        self.texts.append(arguments if isinstance(arguments, str) else json.dumps(arguments))
        for name in names_read(tool, arguments):
            if name not in self.names:
                self.names.append(name)

    def annotate(
        self, item: AssistantMessageItem, context: NotebookContext
    ) -> AssistantMessageItem:
        """``item`` with an annotation for each variable read so far (that the agent may
        see and still exists), holding its fingerprint now. Slow for big frames: call it
        off the loop."""
        self.answers.append("".join(part.text for part in item.content))
        if not item.content:
            return item
        annotations = []
        for name in self.names:
            found, value = lookup(context, name)
            if not found or _code_not_data(value) or _secret(name, value):
                continue  # not even a hash of a secret leaves the kernel
            kept = fingerprint(value, cell=context.changed_in.get(name))
            annotations.append(variable_source(name, kept, _described(kept)))
            if len(annotations) == _MAX_SOURCES:
                break
        if not annotations:
            return item
        last = item.content[-1]
        marked = last.model_copy(update={"annotations": [*last.annotations, *annotations]})
        return item.model_copy(update={"content": [*item.content[:-1], marked]})

    def had(self, texts: list[str]) -> None:
        """Note what earlier turns read, which the model has in its input this turn."""
        self.texts.extend(texts)

    def numbers(self) -> NumberTrace:
        """The numbers' check of the turn's answers so far."""
        return trace(self.answers, self.texts, self.question)
