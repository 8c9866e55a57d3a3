"""What each model call is sent: a kept tool result once, older large ones trimmed.

Every tool result is kept in the thread (hidden context), so a later turn's model still
knows what the tools returned. Sent back whole each turn, a thread that re-reads one wide
frame would carry a copy of the same preview for every turn in its history window (ten
copies of a 6,000-character preview: 80,000 characters a call). Two rules bound it:

* **Repeated, unchanged results are sent once.** A result of the same tool, with the same
  arguments and the same content (by hash) as one the model already has whole earlier in
  this input becomes one line: "[Unchanged: the same as the describe_variable('sales')
  result above, not repeated.]". A variable that changed gives another hash, so its new
  preview is sent whole.
* **Older large results are trimmed.** Results kept before the last :data:`RECENT_TURNS`
  questions (this one and the one before) longer than :data:`TRIM_ABOVE` characters keep
  their first :data:`PREVIEW_CHARS`, and a note saying the tool can be called again. The
  current turn's results and the previous turn's are never trimmed, and a repeated result
  refers only to a copy that is whole, so what the latest answer rests on is unchanged.

The history's kept results are bounded once per turn (:func:`bound_history`, on the thread's
items, by their structure); the results the current run gets are bounded before each model
call (:class:`InputBudget`, the run's ``call_model_input_filter``). The Agents SDK's own
``ToolOutputTrimmer`` trims only ``function_call_output`` items of older turns, which this
server's input never has (earlier turns' results come back as hidden context, and the
current run's are all recent), so it would trim nothing here.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from agents.run_config import CallModelData, ModelInputData
from chatkit.types import HiddenContextItem, ThreadItem, UserMessageItem

from .._items import read_tool_result

__all__ = [
    "PREVIEW_CHARS",
    "RECENT_TURNS",
    "TRIM_ABOVE",
    "InputBudget",
    "ResultKey",
    "bound_history",
    "reference",
]

RECENT_TURNS = 2
"""Results kept since this many questions back (the current one counts) are never trimmed."""

TRIM_ABOVE = 2_000
"""An older result longer than this many characters is trimmed."""

PREVIEW_CHARS = 400
"""How much of a trimmed result is kept."""


@dataclass(frozen=True)
class ResultKey:
    """What makes two tool results the same: tool, arguments and content."""

    tool: str
    arguments: str  # canonical JSON, or the raw text when it is not JSON
    digest: str

    @classmethod
    def of(cls, tool: str, arguments: object, result: str) -> ResultKey:
        digest = hashlib.sha256(result.encode("utf-8", "surrogatepass")).hexdigest()
        return cls(tool, _canonical(arguments), digest)

    def call(self) -> str:
        """The call as people write it: ``describe_variable('sales')``."""
        try:
            parsed = json.loads(self.arguments)
        except ValueError:
            return f"{self.tool}({self.arguments[:80]})"
        if not isinstance(parsed, dict):
            return f"{self.tool}({self.arguments[:80]})"
        shown = ", ".join(repr(value)[:80] for value in parsed.values())
        return f"{self.tool}({shown})"


def reference(key: ResultKey) -> str:
    """The line that stands for a result the model already has above."""
    return f"[Unchanged: the same as the {key.call()} result above, not repeated.]"


def _trimmed(key: ResultKey, result: str) -> str:
    return (
        f"{result[:PREVIEW_CHARS]}…\n[Trimmed: an older {key.call()} result of "
        f"{len(result):,} characters; call the tool again for the whole of it.]"
    )


def _canonical(arguments: object) -> str:
    parsed = arguments
    if isinstance(arguments, str):
        try:
            parsed = json.loads(arguments) if arguments.strip() else {}
        except ValueError:
            return arguments
    return json.dumps(parsed, sort_keys=True, ensure_ascii=False, default=str)


def bound_history(items: Sequence[ThreadItem]) -> tuple[list[ThreadItem], set[ResultKey]]:
    """``items`` (oldest first) with repeated kept results made references and older
    large ones trimmed; and the results left whole, which the run's own may refer to."""
    boundary = _recent_start(items)
    whole: set[ResultKey] = set()
    seen: set[ResultKey] = set()
    bounded: list[ThreadItem] = []
    for index, item in enumerate(items):
        kept = read_tool_result(item) if isinstance(item, HiddenContextItem) else None
        if kept is None or not isinstance(item, HiddenContextItem):
            bounded.append(item)
            continue
        key = ResultKey.of(kept.tool, kept.arguments, kept.result)
        old = index < boundary
        result = kept.result
        if key in whole or (old and key in seen):
            result = reference(key)
        elif old and len(result) > TRIM_ABOVE:
            result = _trimmed(key, result)
        else:
            whole.add(key)
        seen.add(key)
        bounded.append(item if result is kept.result else _with_result(item, result))
    return bounded, whole


def _recent_start(items: Sequence[ThreadItem]) -> int:
    """Where the last :data:`RECENT_TURNS` questions start (0: the thread is that short)."""
    questions = [i for i, item in enumerate(items) if isinstance(item, UserMessageItem)]
    return questions[-RECENT_TURNS] if len(questions) >= RECENT_TURNS else 0


def _with_result(item: HiddenContextItem, result: str) -> HiddenContextItem:
    content = item.content
    if isinstance(content, dict):
        return item.model_copy(update={"content": {**content, "result": result}})
    # A 0.1 item keeps the call and the result in one string: keep its head.
    head, _, _ = str(content).partition(":\n")
    return item.model_copy(update={"content": f"{head}:\n{result}"})


@dataclass
class InputBudget:
    """The run's ``call_model_input_filter``: the current run's tool results, each sent
    once: one the model already has whole above (in the history, or earlier in this run)
    becomes a reference. They are this turn's, so none is trimmed.

    Args:
        whole: The history's results that were left whole (from :func:`bound_history`).
    """

    whole: Iterable[ResultKey] = ()
    _whole: set[ResultKey] = field(init=False)

    def __post_init__(self) -> None:
        self._whole = set(self.whole)

    def __call__(self, data: CallModelData[Any]) -> ModelInputData:
        items: list[Any] = list(data.model_data.input)  # dicts, or SDK models from custom code
        calls: dict[str, tuple[str, object]] = {}
        whole = set(self._whole)
        bounded: list[Any] = []
        for entry in items:
            if not isinstance(entry, dict):
                bounded.append(entry)
                continue
            item = cast("dict[str, Any]", entry)
            kind = item.get("type")
            if kind == "function_call" and isinstance(item.get("call_id"), str):
                calls[item["call_id"]] = (str(item.get("name")), item.get("arguments", ""))
            output = item.get("output")
            call = calls.get(str(item.get("call_id")))
            if kind != "function_call_output" or call is None or not isinstance(output, str):
                bounded.append(item)
                continue
            key = ResultKey.of(call[0], call[1], output)
            if key in whole:
                bounded.append({**item, "output": reference(key)})
            else:
                whole.add(key)
                bounded.append(item)
        return ModelInputData(input=bounded, instructions=data.model_data.instructions)
