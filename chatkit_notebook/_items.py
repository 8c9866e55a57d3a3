"""The package's own thread items: one maker, one test and one reader for each kind.

The server adds items of its own to a thread, and the clients (panel, ``%chat``,
``%chatkit insert``) read them back. Each kind is made here and recognised here, by a
structured field rather than by what its text happens to start with:

=================  ==================================  ====================================
kind               made by                             recognised and read by
=================  ==================================  ====================================
approval card      :func:`approval_card`,              :func:`is_approval_card`,
                   :func:`decided_card`                :func:`card_call_id`,
                                                       :func:`card_code`, :func:`card_status`
receipt            :func:`receipt_item`                :func:`is_receipt`, :func:`receipt_line`
a receipt's tokens :func:`receipt_item` (``tokens=``)  :func:`receipt_tokens`
numbers' check     :func:`numbers_task` (a receipt     :func:`untraced_numbers`
                   line of its own)
variables read     :func:`variable_source` (an         :func:`read_sources`
                   answer's annotation)
kept tool result   :func:`tool_result_item`            :func:`read_tool_result`,
                                                       :func:`ran_code`
stopped step       :func:`stopped_step`                :func:`is_stopped_step`
stopped answer     :func:`stopped_mark`                :func:`is_stopped_mark`
a step's code      :func:`code_task`                   :func:`task_code`
figure             :func:`figure_item`                 :func:`figure_png`
``@`` tag          :func:`variable_tag`                :func:`tagged_names`, :func:`mentions`
error tag          :func:`error_tag`                   :func:`tagged_error`, :func:`is_error_tag`
=================  ==================================  ====================================

Stores on disk hold what older releases wrote, so every reader also reads the old string
forms (``tests/fixtures/store-0.1.chatkit.json`` holds one of each). :func:`new_item` is the
one place an item gets its id, thread and time.

Imports only chatkit's types and the standard library.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, TypeVar

from chatkit.types import (
    Annotation,
    AssistantMessageItem,
    CustomSummary,
    CustomTask,
    EntitySource,
    GeneratedImage,
    GeneratedImageItem,
    HiddenContextItem,
    Task,
    ThreadItem,
    ThreadMetadata,
    UserMessageItem,
    UserMessageTagContent,
    WidgetItem,
    Workflow,
    WorkflowItem,
)
from chatkit.widgets import DynamicWidgetRoot
from pydantic import BaseModel

__all__ = [
    "APPROVE",
    "CARD_KEY",
    "DECLINE",
    "ERROR_TAG",
    "UNTRACED_NOTE",
    "VARIABLE_TAG",
    "TokenTotals",
    "ToolResult",
    "TurnTokens",
    "approval_card",
    "card_call_id",
    "card_code",
    "card_status",
    "code_task",
    "decided_card",
    "error_tag",
    "figure_item",
    "figure_png",
    "is_approval_card",
    "is_error_tag",
    "is_receipt",
    "is_stopped_mark",
    "is_stopped_step",
    "is_variable_tag",
    "mentions",
    "new_item",
    "numbers_task",
    "ran_code",
    "read_sources",
    "read_tool_result",
    "receipt_item",
    "receipt_line",
    "receipt_tokens",
    "stopped_mark",
    "stopped_step",
    "tagged_error",
    "tagged_names",
    "task_code",
    "thread_tokens",
    "tool_result_item",
    "untraced_numbers",
    "variable_source",
    "variable_tag",
    "widget_field",
]

ItemT = TypeVar("ItemT", bound=ThreadItem)


class _ItemIds(Protocol):
    """What makes item ids: any ``chatkit.store.Store``."""

    def generate_item_id(self, item_type: Any, thread: ThreadMetadata, context: Any) -> str: ...


def new_item(
    item_type: type[ItemT],
    ids: _ItemIds,
    thread: ThreadMetadata,
    context: Any,
    *,
    item_id: str | None = None,
    **fields: Any,
) -> ItemT:
    """A new ``item_type`` item of ``thread``, made now, with a store-made id (or ``item_id``)."""
    if item_id is None:
        kind = "workflow" if item_type is WorkflowItem else "message"
        item_id = ids.generate_item_id(kind, thread, context)
    return item_type(id=item_id, thread_id=thread.id, created_at=datetime.now(), **fields)


def widget_field(node: object, name: str) -> Any:
    """A widget component's field by name, from a pydantic model (extras too) or a mapping."""
    if isinstance(node, Mapping):
        return node.get(name)
    if isinstance(node, BaseModel):
        value = getattr(node, name, None)
        if value is None and node.model_extra:
            value = node.model_extra.get(name)
        return value
    return None


# -- the approval card -------------------------------------------------------------------

APPROVE = "run_python.approve"
"""The action type of the card's Run button."""

DECLINE = "run_python.decline"
"""The action type of the card's Don't run button."""

CARD_KEY = "chatkit-notebook/run-python"
"""The ``key`` of every approval card, decided or not."""

_CALL_FIELD = "chatkit_notebook"  # the card's hidden field: {"call_id": ..., "code": ...}


def _fenced(code: str) -> str:
    fence = "```"
    while fence in code:
        fence += "`"
    return f"{fence}python\n{code.rstrip()}\n{fence}"


CARD_TITLE = "Run this Python?"
"""The open card's question (a decided card drops it: its status says what happened)."""

_COPIES = (
    "uses copies of your DataFrames and read-only arrays; lists, dicts and other objects "
    "it changes in place are your own"
)


def approval_card(
    code: str,
    call_id: str,
    *,
    reaches: Iterable[str] = (),
    sandbox: Iterable[str] = (),
    cell_running: bool = False,
) -> DynamicWidgetRoot:
    """The card that asks before ``code`` runs: the code, one short list of what running
    it does (what it ``reaches`` beyond the sandbox, marked ⚠; the user's names it
    changes in the ``sandbox`` only; what the sandbox copies), and Run / Don't run
    actions carrying ``call_id``.

    The call id and the code are also kept in a hidden field of the card, so readers never
    re-parse them from what the card shows.
    """
    beyond = [f"- \u26a0 {line}" for line in reaches]
    if not beyond:
        beyond = ["- reaches no files, programs, network or database"]
    lines = [*beyond, *(f"- {line}" for line in sandbox), f"- {_COPIES}"]
    children: list[dict[str, Any]] = [
        {"type": "Title", "value": CARD_TITLE},
        {"type": "Markdown", "value": _fenced(code)},
        {"type": "Markdown", "key": "what", "value": "**If it runs, it:**\n\n" + "\n".join(lines)},
    ]
    if cell_running:
        children.append(
            {
                "type": "Caption",
                "key": "cell-running",
                "value": "A cell is running: the code will run once it ends.",
            }
        )
    return DynamicWidgetRoot.model_validate(
        {
            "type": "Card",
            "key": CARD_KEY,
            _CALL_FIELD: {"call_id": call_id, "code": code},
            "children": children,
            "confirm": {
                "label": "Run",
                "action": {"type": APPROVE, "payload": {"call_id": call_id}},
            },
            "cancel": {
                "label": "Don't run",
                "action": {"type": DECLINE, "payload": {"call_id": call_id}},
            },
        }
    )


def decided_card(card: Any, status: str, *, ran: bool) -> DynamicWidgetRoot:
    """``card`` with its buttons gone and ``status`` ("Ran at 10:42 · you approved it") on
    top; a card whose code ran says how to keep the code in the notebook."""
    data = card.model_dump(exclude_none=True) if hasattr(card, "model_dump") else dict(card)
    data.pop("confirm", None)
    data.pop("cancel", None)
    data["status"] = {"text": status}
    children = [
        c
        for c in data.get("children", [])
        if c.get("key") not in ("keep", "cell-running")
        and not (c.get("type") == "Title" and c.get("value") == CARD_TITLE)
    ]
    if ran:
        children.append(
            {
                "type": "Markdown",
                "key": "keep",
                "value": "To keep this code in the notebook, run `%chatkit insert` in a new cell.",
            }
        )
    data["children"] = children
    data["key"] = CARD_KEY
    return DynamicWidgetRoot.model_validate(data)


def is_approval_card(item: object) -> bool:
    """Whether ``item`` is a ``run_python`` approval card (open or decided)."""
    return isinstance(item, WidgetItem) and widget_field(item.widget, "key") == CARD_KEY


def card_call_id(item: object) -> str | None:
    """The tool call an open approval card asks about (``None`` once it is decided)."""
    if not isinstance(item, WidgetItem) or not is_approval_card(item):
        return None
    confirm = widget_field(item.widget, "confirm")
    if confirm is None:
        return None  # decided: its buttons are gone
    hidden = widget_field(item.widget, _CALL_FIELD)
    call_id = widget_field(hidden, "call_id")
    if not isinstance(call_id, str):  # a 0.1 card: the id is only in the button's payload
        payload = widget_field(widget_field(confirm, "action"), "payload")
        call_id = widget_field(payload, "call_id")
    return call_id if isinstance(call_id, str) else None


def card_status(item: object) -> str | None:
    """What became of a decided approval card ("Not run: you declined it at 10:42")."""
    if not isinstance(item, WidgetItem) or not is_approval_card(item):
        return None
    if widget_field(item.widget, "confirm") is not None:
        return None  # still open
    text = widget_field(widget_field(item.widget, "status"), "text")
    return text if isinstance(text, str) else None


def card_code(item: object) -> str | None:
    """The code an approval card (open or decided) asks to run."""
    if not isinstance(item, WidgetItem) or not is_approval_card(item):
        return None
    code = widget_field(widget_field(item.widget, _CALL_FIELD), "code")
    if isinstance(code, str):
        return code
    # A 0.1 card keeps the code only as shown: its first fenced Markdown child.
    for child in widget_field(item.widget, "children") or []:
        value = widget_field(child, "value")
        fenced = isinstance(value, str) and value.startswith("```")
        if widget_field(child, "type") == "Markdown" and fenced:
            body = value.split("\n", 1)[1] if "\n" in value else ""
            return str(body.rsplit("\n", 1)[0])
    return None


# -- the receipt -------------------------------------------------------------------------

_RECEIPT_ICON = "vendor:chatkit-notebook-receipt"  # the receipt's marker, on its summary
_OLD_RECEIPT_TITLE = "Sent to "  # how a 0.1 receipt's summary starts
_OLD_RECEIPT_LAST = re.compile(r"^[\d,]+ characters sent in \d+ model calls?$")


def receipt_item(
    *,
    thread_id: str,
    item_id: str,
    summary: str,
    lines: Iterable[str],
    tokens: TurnTokens | None = None,
    checks: Iterable[Task] = (),
) -> WorkflowItem:
    """A turn's receipt: a collapsed workflow titled ``summary``, a task per line, the
    answer's ``checks`` (the numbers' check) before the last line, and the turn's
    ``tokens`` (if counted) as a last task of their own."""
    tasks: list[Task] = [CustomTask(title=line) for line in lines]
    tasks[-1:-1] = list(checks)
    if tokens is not None:
        tasks.append(_tokens_task(tokens))
    return WorkflowItem(
        id=item_id,
        thread_id=thread_id,
        created_at=datetime.now(),
        workflow=Workflow(
            type="custom",
            tasks=tasks,
            summary=CustomSummary(title=summary, icon=_RECEIPT_ICON),
            expanded=False,
        ),
    )


def is_receipt(item: object) -> bool:
    """Whether ``item`` is a turn's receipt (for the person; the model never sees it)."""
    if not isinstance(item, WorkflowItem):
        return False
    summary = item.workflow.summary
    if not isinstance(summary, CustomSummary):
        return False
    if summary.icon == _RECEIPT_ICON:
        return True
    # A 0.1 receipt had no marker: its title and its last line say what it is.
    tasks = item.workflow.tasks
    last = getattr(tasks[-1], "title", None) if tasks else None
    return (
        summary.icon is None
        and summary.title.startswith(_OLD_RECEIPT_TITLE)
        and isinstance(last, str)
        and _OLD_RECEIPT_LAST.match(last) is not None
    )


def receipt_line(item: WorkflowItem) -> str:
    """A receipt as one line of Markdown (``%chat`` in a cell)."""
    summary = item.workflow.summary
    head = summary.title if isinstance(summary, CustomSummary) else _OLD_RECEIPT_TITLE.strip()
    tasks = [task for task in item.workflow.tasks if not _is_tokens_task(task)]
    titles = [getattr(task, "title", None) or "" for task in tasks]
    tokens = [task.title for task in item.workflow.tasks if _is_tokens_task(task)]
    return "*" + " · ".join([head, *titles[:-1], *(t for t in tokens if t)]) + "*"


# -- a receipt's tokens ------------------------------------------------------------------

_TOKENS_ICON = "vendor:chatkit-notebook-tokens"  # the tokens task's marker


@dataclass(frozen=True)
class TurnTokens:
    """The tokens one turn's model calls used, and what they cost, as its receipt keeps them.

    ``input`` counts every input token, ``cached`` among them (OpenAI's and genai-prices'
    convention). Only the ``reported`` of the turn's ``calls`` are in the counts: an
    endpoint may report no usage at all. ``cost`` is in US dollars; ``None``: price unknown.
    """

    calls: int = 0
    reported: int = 0
    input: int = 0
    cached: int = 0
    output: int = 0
    cost: float | None = None
    priced_by: str | None = None  # "genai-prices", "configure(prices=...)"

    def line(self) -> str:
        """The receipt's line: ``Tokens: 12,340 in (8,000 cached) · 410 out · $0.0061``."""
        if self.calls and not self.reported:
            return "Tokens: n/a (the endpoint reported no usage)"
        cost = "price unknown" if self.cost is None else dollars(self.cost)
        line = f"Tokens: {_in_out(self.input, self.cached, self.output)} · {cost}"
        missing = self.calls - self.reported
        if missing > 0:
            line += f" ({missing} of {self.calls} model calls reported no usage)"
        return line

    def to_json(self) -> str:
        return json.dumps(
            {
                "calls": self.calls,
                "reported": self.reported,
                "input": self.input,
                "cached": self.cached,
                "output": self.output,
                "cost": self.cost,
                "priced_by": self.priced_by,
            }
        )


@dataclass
class TokenTotals:
    """Tokens and cost summed over turns (a thread's, or this kernel's)."""

    turns: int = 0
    input: int = 0
    cached: int = 0
    output: int = 0
    cost: float = 0.0
    unpriced: int = 0  # turns with tokens but no known price
    unreported: int = 0  # turns whose endpoint reported no usage
    uncounted: int = 0  # turns kept before tokens were counted (older receipts)

    def add(self, tokens: TurnTokens | None, *, turn: bool = True) -> None:
        """Count one turn's ``tokens`` (``None``: a turn whose receipt has none); with
        ``turn=False``, more calls of a turn already counted."""
        self.turns += int(turn)
        if tokens is None:
            self.uncounted += int(turn)
            return
        self.input += tokens.input
        self.cached += tokens.cached
        self.output += tokens.output
        if tokens.calls and not tokens.reported:
            self.unreported += int(turn)
        elif tokens.cost is None:
            self.unpriced += int(turn)
        else:
            self.cost += tokens.cost

    def line(self) -> str:
        """``12 turns · 123,456 tokens in (80,000 cached) · 4,100 out · $0.061``."""
        turns = f"{self.turns:,} turn{'s' if self.turns != 1 else ''}"
        if not self.turns:
            return "no turns yet"
        counted = self.turns - self.unreported - self.uncounted
        if not counted:
            return f"{turns} · tokens n/a"
        notes = []
        if 0 < self.unpriced < counted:  # all unpriced: the cost itself says so
            notes.append(f"price unknown for {self.unpriced}")
        if self.unreported:
            notes.append(f"{self.unreported} without usage from the endpoint")
        if self.uncounted:
            notes.append(f"{self.uncounted} from before tokens were counted")
        cost = dollars(self.cost) if self.unpriced < counted else "price unknown"
        line = f"{turns} · {_in_out(self.input, self.cached, self.output, 'tokens ')} · {cost}"
        return line + (f" ({'; '.join(notes)})" if notes else "")


def dollars(amount: float) -> str:
    """A cost as people read it: two significant digits under a dollar ("$0.0061")."""
    if amount >= 1 or amount == 0:
        return f"${amount:,.2f}"
    digits = 2
    while amount < 10 ** (1 - digits) and digits < 10:
        digits += 1
    return f"${amount:.{digits}f}"


def _in_out(input: int, cached: int, output: int, noun: str = "") -> str:
    read = f"{input:,} {noun}in" + (f" ({cached:,} cached)" if cached else "")
    return f"{read} · {output:,} out"


def _tokens_task(tokens: TurnTokens) -> CustomTask:
    # The counts ride in the task's content, as JSON, so readers never parse the line.
    return CustomTask(title=tokens.line(), icon=_TOKENS_ICON, content=tokens.to_json())


def _is_tokens_task(task: object) -> bool:
    return isinstance(task, CustomTask) and task.icon == _TOKENS_ICON


def receipt_tokens(item: object) -> TurnTokens | None:
    """The tokens a receipt counted (``None``: not a receipt, or one kept before tokens
    were counted)."""
    if not isinstance(item, WorkflowItem) or not is_receipt(item):
        return None
    for task in item.workflow.tasks:
        if _is_tokens_task(task) and isinstance(task, CustomTask) and task.content:
            try:
                data = json.loads(task.content)
            except ValueError:
                return None
            return _turn_tokens(data)
    return None


def thread_tokens(items: Iterable[object]) -> TokenTotals:
    """A thread's tokens and cost, summed over its receipts (one per turn)."""
    totals = TokenTotals()
    for item in items:
        if is_receipt(item):
            totals.add(receipt_tokens(item))
    return totals


def _turn_tokens(data: object) -> TurnTokens | None:
    if not isinstance(data, dict):
        return None
    counts = {k: data.get(k, 0) for k in ("calls", "reported", "input", "cached", "output")}
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in counts.values()):
        return None
    cost, priced_by = data.get("cost"), data.get("priced_by")
    return TurnTokens(
        **counts,
        cost=float(cost) if isinstance(cost, (int, float)) else None,
        priced_by=priced_by if isinstance(priced_by, str) else None,
    )


# -- the numbers' check (a line of the receipt) ------------------------------------------

_NUMBERS_ICON = "vendor:chatkit-notebook-numbers"
UNTRACED_NOTE = "not found in anything the agent read or computed this turn"
"""What an untraced number's mark says (its tooltip)."""


def numbers_task(line: str, untraced: Iterable[str]) -> CustomTask:
    """The receipt's line for the answer's numbers ("14 numbers: 13 traced, 1 not"); the
    untraced ones, each in a code span, are its content (one click away)."""
    shown = [f"`{text.replace('`', '')}`" for text in untraced]
    content = f"Untraced, {UNTRACED_NOTE}: " + ", ".join(shown) if shown else None
    return CustomTask(title=line, icon=_NUMBERS_ICON, content=content)


_CODE_SPAN = re.compile(r"`([^`]+)`")


def untraced_numbers(item: object) -> list[str]:
    """The numbers a receipt says were not traced, as the answer wrote them."""
    if not isinstance(item, WorkflowItem) or not is_receipt(item):
        return []
    for task in item.workflow.tasks:
        if isinstance(task, CustomTask) and task.icon == _NUMBERS_ICON and task.content:
            return _CODE_SPAN.findall(task.content.partition(": ")[2])
    return []


# -- the variables an answer read (its annotations) --------------------------------------

_VARIABLE_SOURCE = "chatkit-notebook/variable"
_SOURCE_PREFIX = "variable:"


def variable_source(name: str, fingerprint: Mapping[str, Any], described: str) -> Annotation:
    """An answer's annotation saying it read the variable ``name``: an entity source (any
    ChatKit client lists it as a source) whose data keeps the variable's fingerprint."""
    source = EntitySource(
        id=f"{_SOURCE_PREFIX}{name}",
        title=name,
        description=described,
        group="Notebook variables",
        data={"kind": _VARIABLE_SOURCE, "fingerprint": dict(fingerprint)},
    )
    return Annotation(source=source)


def read_sources(item: object) -> dict[str, dict[str, Any]]:
    """The variables an answer read, with the fingerprint of each when it was read."""
    if not isinstance(item, AssistantMessageItem):
        return {}
    found: dict[str, dict[str, Any]] = {}
    for part in item.content:
        for annotation in part.annotations:
            source = annotation.source
            if isinstance(source, EntitySource) and source.data.get("kind") == _VARIABLE_SOURCE:
                fingerprint = source.data.get("fingerprint")
                if isinstance(fingerprint, dict):
                    found[source.title] = fingerprint
    return found


# -- kept tool results -------------------------------------------------------------------

_TOOL_RESULT = "tool_result"
_OLD_FORMS = (  # (prefix, form): the tools' form, then the server hooks'
    ("Result of the tool call ", "raw"),
    ("Result of ", "json"),
)


@dataclass(frozen=True)
class ToolResult:
    """A tool result kept in the thread for later turns' model."""

    tool: str
    arguments: dict[str, Any] | str  # the call's arguments; their raw text if not JSON
    result: str

    def text(self) -> str:
        """How the model reads it: ``Result of tool({...}):`` and the result."""
        arguments = (
            self.arguments
            if isinstance(self.arguments, str)
            else json.dumps(self.arguments, ensure_ascii=False)
        )
        return f"Result of {self.tool}({arguments}):\n{self.result}"


def tool_result_item(
    tool: str, arguments: Mapping[str, Any] | str, result: str, *, thread_id: str, item_id: str
) -> HiddenContextItem:
    """A tool's result as hidden context: structured, one form for every tool.

    ``arguments`` may be the call's raw JSON text (the Agents SDK's); it is kept parsed when
    it parses. The caller redacts both before they are kept.
    """
    if isinstance(arguments, str):
        try:
            parsed = json.loads(arguments) if arguments.strip() else {}
        except ValueError:
            parsed = arguments
        arguments = parsed if isinstance(parsed, dict) else arguments
    content = {
        "kind": _TOOL_RESULT,
        "tool": tool,
        "arguments": arguments if isinstance(arguments, str) else dict(arguments),
        "result": result,
    }
    return HiddenContextItem(
        id=item_id, thread_id=thread_id, created_at=datetime.now(), content=content
    )


def read_tool_result(item: object) -> ToolResult | None:
    """The kept tool result ``item`` holds, in this release's form or 0.1's two strings."""
    if not isinstance(item, HiddenContextItem):
        return None
    content = item.content
    if isinstance(content, Mapping):
        if content.get("kind") != _TOOL_RESULT:
            return None
        tool, arguments, result = (content.get(k) for k in ("tool", "arguments", "result"))
        if not isinstance(tool, str) or not isinstance(result, str):
            return None
        if not isinstance(arguments, (dict, str)):
            arguments = json.dumps(arguments, default=str)
        return ToolResult(tool, arguments, result)
    if isinstance(content, str):
        return _old_tool_result(content)
    return None


def _old_tool_result(content: str) -> ToolResult | None:
    head, newline, result = content.partition(":\n")
    if not newline:
        return None
    for prefix, form in _OLD_FORMS:
        if not head.startswith(prefix):
            continue
        call = head[len(prefix) :]
        tool, paren, rest = call.partition("(")
        if not paren or not rest.endswith(")") or not tool.isidentifier():
            return None
        raw = rest[:-1]
        arguments: dict[str, Any] | str = raw
        if form == "json" or raw.lstrip().startswith("{"):
            try:
                parsed = json.loads(raw)
            except ValueError:
                parsed = None
            if isinstance(parsed, dict):
                arguments = parsed
        return ToolResult(tool, arguments, result)
    return None


def ran_code(item: object) -> str | None:
    """The code of a kept ``run_python`` result (what ``%chatkit insert`` inserts)."""
    kept = read_tool_result(item)
    if kept is None or kept.tool != "run_python" or not isinstance(kept.arguments, dict):
        return None
    code = kept.arguments.get("code")
    return code if isinstance(code, str) else None


# -- the stopped step --------------------------------------------------------------------

_STOPPED = " (stopped)"


def stopped_step(step: WorkflowItem) -> WorkflowItem:
    """A copy of ``step`` with each task still running (``loading``) marked as stopped, and
    "Stopped" for its summary if it had none (not "Working…" forever), shown open."""
    tasks = [
        task.model_copy(
            update={"status_indicator": "complete", "title": f"{task.title or 'Step'}{_STOPPED}"}
        )
        if getattr(task, "status_indicator", None) == "loading" and isinstance(task, CustomTask)
        else task
        for task in step.workflow.tasks
    ]
    ended: dict[str, Any] = {"tasks": tasks}
    if step.workflow.summary is None:
        ended.update(summary=CustomSummary(title="Stopped"), expanded=True)
    return step.model_copy(update={"workflow": step.workflow.model_copy(update=ended)})


def is_stopped_step(item: object) -> bool:
    """Whether ``item`` is a step that was stopped while it ran."""
    return isinstance(item, WorkflowItem) and any(
        isinstance(task, CustomTask)
        and task.status_indicator == "complete"
        and (task.title or "").endswith(_STOPPED)
        for task in item.workflow.tasks
    )


_STOPPED_ICON = "vendor:chatkit-notebook-stopped"  # the stopped mark's marker, on its summary


def stopped_mark(*, thread_id: str, item_id: str) -> WorkflowItem:
    """What a stopped turn leaves after its partial answer: a step titled "Stopped", so a
    reload, another panel, a restart and the export still say the answer is not whole (any
    ChatKit client shows it as a step; the model never sees it)."""
    return WorkflowItem(
        id=item_id,
        thread_id=thread_id,
        created_at=datetime.now(),
        workflow=Workflow(
            type="custom",
            tasks=[],
            summary=CustomSummary(title="Stopped", icon=_STOPPED_ICON),
            expanded=False,
        ),
    )


def is_stopped_mark(item: object) -> bool:
    """Whether ``item`` says that its turn's answer was stopped."""
    if not isinstance(item, WorkflowItem):
        return False
    summary = item.workflow.summary
    return isinstance(summary, CustomSummary) and summary.icon == _STOPPED_ICON


# -- a step's code -----------------------------------------------------------------------


def code_task(title: str, code: str, *, done: bool) -> CustomTask:
    """A step's task that ran (or runs) ``code``: its content is the code, fenced, so the
    step shows it one click away (the caller redacts it first)."""
    return CustomTask(
        title=title, content=_fenced(code), status_indicator="complete" if done else "loading"
    )


def task_code(task: object) -> str | None:
    """The code a step's task ran (``None`` for a task without code)."""
    content = getattr(task, "content", None) if isinstance(task, CustomTask) else None
    found = _FENCED.fullmatch(content) if isinstance(content, str) else None
    return found.group(2) if found else None


_FENCED = re.compile(r"(`{3,})python\n(.*)\n\1", re.DOTALL)


# -- figures -----------------------------------------------------------------------------

_PNG_URL = "data:image/png;base64,"


def figure_item(png: bytes, number: int, *, thread_id: str, item_id: str) -> GeneratedImageItem:
    """A figure the code made, as a generated image holding its PNG (as a data URL)."""
    url = _PNG_URL + base64.b64encode(png).decode("ascii")
    return GeneratedImageItem(
        id=item_id,
        thread_id=thread_id,
        created_at=datetime.now(),
        image=GeneratedImage(id=f"figure-{number}", url=url),
    )


def figure_png(item: object) -> str | None:
    """The base64 PNG of a figure item (``None`` for anything else)."""
    if not isinstance(item, GeneratedImageItem) or item.image is None:
        return None
    url = item.image.url
    return url[len(_PNG_URL) :] if url.startswith(_PNG_URL) else None


# -- @ tags --------------------------------------------------------------------------------

VARIABLE_TAG = "variable"
"""The ``data["kind"]`` of an input tag that points at a notebook variable (``@df``)."""

_AT_NAME = re.compile(r"(?<![\w@])@([A-Za-z_]\w*)")


def mentions(text: str) -> Iterator[re.Match[str]]:
    """The ``@name`` mentions in ``text`` (group 1 is the name), as a person writes them."""
    return _AT_NAME.finditer(text)


def variable_tag(name: str) -> UserMessageTagContent:
    """The input tag that points the agent at the variable ``name``."""
    return UserMessageTagContent(
        id=f"variable:{name}", text=name, data={"kind": VARIABLE_TAG, "name": name}
    )


def is_variable_tag(part: object) -> bool:
    """Whether a message part is a variable tag."""
    return isinstance(part, UserMessageTagContent) and part.data.get("kind") == VARIABLE_TAG


def tagged_names(message: UserMessageItem) -> list[str]:
    """The variables a message's tags point at, in order."""
    return [part.text for part in message.content if is_variable_tag(part)]


ERROR_TAG = "error"
"""The ``data["kind"]`` of an input tag that attaches a cell's error to a question."""


def error_tag(cell: int | None, headline: str = "") -> UserMessageTagContent:
    """The input tag that attaches the error of cell ``cell`` (its execution count) to a
    question: "Ask about this error" under a failing cell and ``%chat`` right after one.

    The server reads the error itself (the ``last_error`` tool's result, redacted) before
    the model runs; ``headline`` ("KeyError: 'revenu'", already redacted by the caller) is
    only the tag's label for people.
    """
    where = f"cell [{cell}]" if cell is not None else "the last cell"
    label = f"Error in {where}" + (f": {headline}" if headline else "")
    return UserMessageTagContent(
        id=f"error:{cell if cell is not None else 'last'}",
        text=label[:120],
        data={"kind": ERROR_TAG, "cell": cell},
    )


def is_error_tag(part: object) -> bool:
    """Whether a message part is an error tag."""
    return isinstance(part, UserMessageTagContent) and part.data.get("kind") == ERROR_TAG


def tagged_error(message: UserMessageItem) -> tuple[bool, int | None]:
    """Whether the message carries an error tag, and the cell it names (``None``: the
    last one)."""
    for part in message.content:
        if is_error_tag(part):
            cell = part.data.get("cell")  # type: ignore[union-attr]
            return True, cell if isinstance(cell, int) and not isinstance(cell, bool) else None
    return False, None
