"""What left the kernel in a turn: the receipt under each answer.

Each turn the server counts what it sent to the model: the variables the tools (and the
person's ``@`` tags) read, with their shapes and sizes, how many secrets were redacted in
them, and the characters of every model call's input, split into what they are made of:
the agent's instructions, the conversation (earlier turns and the question) and what the
tools read. At the end of the turn it becomes a collapsed workflow item ("Sent to <model>
· 27,103 characters: instructions 25,400 · conversation 1,600 · what was read 103"), kept
with the thread (so ``%chatkit export`` and any ChatKit client show it) and never given
back to the model. A turn that paused for approval gets one receipt: the run after the
click counts on into the same receipt, which then replaces the one shown at the pause.

The tokens the model calls used, and their cost, are a last line of their own
("Tokens: 12,340 in (8,000 cached) · 410 out · $0.0061", see :mod:`.usage`), kept with
their counts so ``%chatkit usage`` can sum them after a restart.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from chatkit.types import CustomTask, WorkflowItem

from .._items import TurnTokens, is_receipt, numbers_task, receipt_item, receipt_line
from ..previews.redact import REDACTED_PREFIX
from .sources import TurnSources
from .usage import PriceKey, TurnUsage

__all__ = ["RECEIPT_TITLE", "Receipt", "is_receipt", "receipt_line"]

RECEIPT_TITLE = "Sent to "
"""How a receipt's summary starts: ``Sent to gpt-4.1-mini``."""

_TIMES = " \u00d7 "  # as the previews write shapes: 1,000 x 12 with a multiplication sign


@dataclass
class Read:
    """One tool result (or tagged variable) that went to the model."""

    what: str  # "`sales` (1,000 \u00d7 12)", "the list of variables"
    chars: int
    redacted: int


@dataclass
class Receipt:
    """The running count of one turn."""

    model: str
    reads: list[Read] = field(default_factory=list)
    calls: int = 0
    sent_chars: int = 0
    instructions_chars: int = 0  # the system prompt, once per model call
    read_chars: int = 0  # tool results in the calls' input (each time it is sent)
    usage: TurnUsage | None = None  # the model calls' tokens, if counted
    sources: TurnSources = field(default_factory=TurnSources)  # stale marks, traced numbers

    @classmethod
    def priced(cls, model: str, key: PriceKey) -> Receipt:
        """A receipt that also counts tokens, priced by ``key``."""
        return cls(model=model, usage=TurnUsage(key))

    @property
    def tokens(self) -> TurnTokens | None:
        """The turn's tokens so far (``None``: not counted, or no model call yet)."""
        return self.usage.tokens() if self.usage is not None and self.usage.calls else None

    def read(self, tool: str, result: str) -> None:
        """Count a tool result the model will see."""
        self.reads.append(Read(_what(tool, result), len(result), result.count(REDACTED_PREFIX)))

    def sent(self, system_prompt: str | None, input_items: list[Any]) -> None:
        """Count one model call's input: its instructions and every input item."""
        self.calls += 1
        self.instructions_chars += len(system_prompt or "")
        self.sent_chars += len(system_prompt or "")
        self.sent_chars += len(json.dumps(input_items, default=str, ensure_ascii=False))
        self.read_chars += sum(
            len(json.dumps(item, default=str, ensure_ascii=False))
            for item in input_items
            if _is_tool_output(item)
        )

    @property
    def conversation_chars(self) -> int:
        """The earlier turns and the question: what was sent that is neither."""
        return max(0, self.sent_chars - self.instructions_chars - self.read_chars)

    @property
    def redacted(self) -> int:
        return sum(read.redacted for read in self.reads)

    def item(self, thread_id: str, item_id: str) -> WorkflowItem:
        """The receipt as a collapsed workflow item."""
        lines = [f"{_verb(read.what)} · {read.chars:,} characters" for read in self.reads]
        if self.reads:  # nothing read, nothing to redact: no "0 secrets redacted"
            lines.append(f"{self.redacted} secret{'s' if self.redacted != 1 else ''} redacted")
        calls = f"{self.calls} model call{'s' if self.calls != 1 else ''}"
        lines.append(f"{self.sent_chars:,} characters sent in {calls}")
        made_of = [
            f"instructions {self.instructions_chars:,}",
            f"conversation {self.conversation_chars:,}",
        ]
        if self.read_chars:
            made_of.append(f"what was read {self.read_chars:,}")
        summary = (
            f"{RECEIPT_TITLE}{self.model} · {self.sent_chars:,} characters: {' · '.join(made_of)}"
        )
        return receipt_item(
            thread_id=thread_id,
            item_id=item_id,
            summary=summary,
            lines=lines,
            tokens=self.tokens,
            checks=self._checks(),
        )

    def _checks(self) -> list[CustomTask]:
        """The answer's numbers' check, a line of its own (none when it states no number)."""
        numbers = self.sources.numbers()
        return [numbers_task(numbers.line(), numbers.untraced)] if numbers.checked else []


def _is_tool_output(item: Any) -> bool:
    """Whether a model input item is a tool's result (Responses' ``function_call_output``,
    Chat Completions' ``tool`` message)."""
    kind = item.get("type") if isinstance(item, dict) else getattr(item, "type", None)
    role = item.get("role") if isinstance(item, dict) else getattr(item, "role", None)
    return kind == "function_call_output" or role == "tool"


_RAN = "ran Python"


def _verb(what: str) -> str:
    """A receipt line: "Read `sales` (3 x 3)", or "Ran Python (ok): its output"."""
    return what[0].upper() + what[1:] if what.startswith(_RAN) else f"Read {what}"


def _what(tool: str, result: str) -> str:
    """What a result holds, by its head: the variable's name and shape, never its values."""
    try:
        head = json.loads(result)
    except ValueError:
        return f"the result of {tool}"
    if tool == "run_python":  # the code's output went to the model, under its status
        status = head.get("status") if isinstance(head, dict) else None
        return f"{_RAN} ({status if isinstance(status, str) else 'unknown'}): its output"
    if not isinstance(head, dict):
        return f"the result of {tool}"
    cells = _cells_read(tool, head)
    if cells is not None:
        return cells
    name = head.get("name")
    if tool == "list_variables" or not isinstance(name, str):
        return "the list of variables" if tool == "list_variables" else f"the result of {tool}"
    shape = head.get("shape")
    if isinstance(shape, list) and all(isinstance(n, int) for n in shape):
        dimensions = _TIMES.join(f"{n:,}" for n in shape)
        return f"`{name[:60]}` ({dimensions})"
    return f"`{name[:60]}`"


def _cells_read(tool: str, head: dict[str, Any]) -> str | None:
    """What a notebook tool's result holds: which cells, or which error (no sources)."""
    if tool == "notebook_cells":
        pages = head.get("pages")
        page = (
            f", page {head.get('page')} of {pages}" if isinstance(pages, int) and pages > 1 else ""
        )
        return f"the notebook's cells{page}"
    if tool == "read_cell":
        cell = head.get("untrusted_notebook_data", {}).get("cell")
        return f"cell {cell}" if isinstance(cell, int) else "a cell"
    if tool == "last_error":
        cell = head.get("cell")
        if head.get("raised") is not True:
            return "whether the last cell failed"
        return f"the error in cell [{cell}]" if isinstance(cell, int) else "the last error"
    return None
