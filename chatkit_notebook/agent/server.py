"""``NotebookChatServer``: the in-kernel ChatKit server that answers about the notebook.

It is a ``chatkit.server.ChatKitServer``, so the chat panel, the magics and (later) an
HTTP endpoint all speak the ChatKit protocol to it through ``process()``. Each turn:

1. loads the thread's recent history from the store (40 items by default) and turns it
   into model input, with assistant messages as plain text so Chat Completions providers
   accept it, and each unchanged tool result sent once, older large ones trimmed
   (:mod:`.model_input`);
2. runs the agent (``Runner.run_streamed``) with tools that read the notebook's variables,
   and streams ChatKit events from it (``stream_agent_response``);
3. gives every assistant message a store-made id (Chat Completions and LiteLLM stream them
   all as ``__fake_id__``) and stores each tool result as a hidden context item, so the next
   turn's model still sees what the tools returned;
4. turns provider failures into a message a person can act on (``CustomStreamError``);
5. on cancel, stops the model run itself, not only the stream, and keeps the partial answer.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import dataclasses
import functools
import json
import logging
from collections.abc import AsyncGenerator, AsyncIterator, Mapping
from typing import TYPE_CHECKING, Any, Literal

from agents import ModelResponse, RunConfig, RunContextWrapper, RunHooks, Runner, Tool
from agents.tool_context import ToolContext
from chatkit.actions import Action
from chatkit.agents import AgentContext, ThreadItemConverter, stream_agent_response
from chatkit.errors import CustomStreamError, StreamError
from chatkit.server import ChatKitServer, NonStreamingResult, StreamingResult
from chatkit.store import AttachmentStore, NotFoundError, Store
from chatkit.types import (
    AssistantMessageItem,
    Attachment,
    ChatKitReq,
    CustomSummary,
    CustomTask,
    GeneratedImageItem,
    HiddenContextItem,
    NoticeEvent,
    StreamingReq,
    Task,
    ThreadItem,
    ThreadItemAddedEvent,
    ThreadItemDoneEvent,
    ThreadItemRemovedEvent,
    ThreadItemReplacedEvent,
    ThreadItemUpdatedEvent,
    ThreadMetadata,
    ThreadsCustomActionReq,
    ThreadsDeleteReq,
    ThreadStreamEvent,
    UserMessageItem,
    UserMessageTagContent,
    UserMessageTextContent,
    WidgetItem,
    Workflow,
    WorkflowItem,
    is_streaming_req,
)
from pydantic import TypeAdapter, ValidationError

from .._items import (
    is_approval_card,
    is_error_tag,
    is_receipt,
    is_stopped_mark,
    is_variable_tag,
    mentions,
    new_item,
    read_tool_result,
    stopped_mark,
    stopped_step,
    tagged_error,
    tagged_names,
)
from ..config import ModelConfig, notebook_tools_enabled
from ..context import NotebookContext
from ..errors import ChatkitNotebookError, ConfigError, RequestError, ServerFailure
from ..previews.namespace import visible
from ..previews.redact import redact_text
from . import mainthread
from ._coalesce import CoalescedResult
from .approvals import Close, Decided, PendingRuns, Replace, TurnContext
from .cell_tools import CELL_TOOLS
from .cell_tools import read_error as read_cell_error
from .checks import TITLE_LIMIT, check_request
from .failures import explain_failure
from .model_input import InputBudget, ResultKey, bound_history
from .plan import TurnPlan, choose_model, plan_turn
from .query import query
from .receipt import Receipt
from .run_python import (
    APPROVE,
    DECLINE,
    approval_card,
    call_code,
    decided_card,
    run_python,
)
from .sandbox import held_handles
from .tools import NOTEBOOK_TOOLS, hidden_result, read_tagged
from .usage import UsageLog, price_key

if TYPE_CHECKING:
    from agents import Agent, Model, RunResultStreaming, RunState
    from agents.items import TResponseInputItem
    from openai.types.responses import ResponseInputTextParam

__all__ = ["DEFAULT_HISTORY_ITEMS", "TITLE_LIMIT", "NotebookChatServer"]

logger = logging.getLogger("chatkit_notebook")

DEFAULT_HISTORY_ITEMS = 40
TITLE_MAX_CHARS = 60
MAX_TURNS = 12


class NotebookConverter(ThreadItemConverter):
    """ChatKit items to model input, in a shape every OpenAI-compatible provider accepts."""

    async def assistant_message_to_input(
        self, item: AssistantMessageItem
    ) -> TResponseInputItem | list[TResponseInputItem] | None:
        # ChatKit sends output_text parts, which the Chat Completions converter rejects on
        # the second turn; plain string content works for Responses and Chat Completions.
        text = "".join(part.text for part in item.content)
        return {"type": "message", "role": "assistant", "content": text}

    async def hidden_context_to_input(
        self, item: HiddenContextItem
    ) -> TResponseInputItem | list[TResponseInputItem] | None:
        kept = read_tool_result(item) if not isinstance(item.content, str) else None
        if kept is not None:  # the same text 0.1 kept: "Result of tool({...}):" and the result
            item = item.model_copy(update={"content": kept.text()})
        elif not isinstance(item.content, str):
            item = item.model_copy(update={"content": json.dumps(item.content, default=str)})
        return await super().hidden_context_to_input(item)

    async def attachment_to_message_content(self, attachment: Attachment) -> ResponseInputTextParam:
        # Files are not uploaded to the model; it learns that one was attached.
        text = f"[The user attached {attachment.name!r} ({attachment.mime_type}).]"
        return {"type": "input_text", "text": text}

    async def workflow_to_input(
        self, item: WorkflowItem
    ) -> TResponseInputItem | list[TResponseInputItem] | None:
        if is_receipt(item) or is_stopped_mark(item):
            return None  # for the person (the model learns of a stop from ChatKit's own item)
        return await super().workflow_to_input(item)

    async def widget_to_input(
        self, item: WidgetItem
    ) -> TResponseInputItem | list[TResponseInputItem] | None:
        if is_approval_card(item):
            return None  # the decision and the result are kept as hidden context
        return await super().widget_to_input(item)

    async def generated_image_to_input(
        self, item: GeneratedImageItem
    ) -> TResponseInputItem | list[TResponseInputItem] | None:
        # Stored figures are not sent to the model again (each would cost a whole image
        # on every later turn): a line says one was shown.
        text = "[A figure the code made was shown to the user here; the image is not sent.]"
        return {"type": "message", "role": "user", "content": text}

    async def tag_to_message_content(self, tag: UserMessageTagContent) -> ResponseInputTextParam:
        if is_variable_tag(tag):
            text = (
                f"[@{tag.text}: the user points at the variable {tag.text!r}; it was read for you]"
            )
            return {"type": "input_text", "text": text}
        if is_error_tag(tag):
            return {"type": "input_text", "text": redact_text(_error_context(tag))}
        return {"type": "input_text", "text": f"@{tag.text}"}


def _error_context(tag: UserMessageTagContent) -> str:
    """What the model reads of an error tag: which cell failed, that the error was read for
    it (or that reading cells is off), and how to give a fix the user can take."""
    cell = tag.data.get("cell")
    where = f"cell [{cell}]" if isinstance(cell, int) else "the last cell that ran"
    if not notebook_tools_enabled():
        return (
            f"[{tag.text}: the user asks about the error {where} raised; reading the "
            "notebook's cells and errors is turned off]"
        )
    return (
        f"[{tag.text}: the user asks about the error {where} raised; last_error was read "
        "for you (read_cell shows the whole cell). If you propose fixed code for the cell, "
        "give the whole cell in one Python code block.]"
    )


class NotebookChatServer(ChatKitServer[NotebookContext]):
    """The ChatKit server behind the panel and the magics.

    Args:
        store: Where threads live, usually a :class:`~chatkit_notebook.NotebookStore`. If it
            is also an ``AttachmentStore`` it serves attachment metadata too.
        model: A model name, an ``agents.Model`` (tests pass
            ``agents.testing.ScriptedModel``), or ``None`` for the configured default
            (:func:`chatkit_notebook.configure`, ``CHATKIT_NOTEBOOK_MODEL``).
        agent: An ``agents.Agent`` to run instead of the built-in notebook agent. Its
            context is a ``chatkit.agents.AgentContext[NotebookContext]``.
        models: Named models a request may pick through ``inference_options.model``;
            other names are built from the configuration.
        history_items: How many recent thread items (oldest first) the model sees.
        usage: Where the tokens of every turn are summed (``%chatkit usage``'s kernel
            line); the kernel's session passes one that outlives a change of store.
        bound_input: Send each unchanged tool result once and trim older large ones
            (:mod:`.model_input`); ``False`` sends the history as kept, every copy whole
            (``bench/input_bench.py`` compares the two).
    """

    def __init__(
        self,
        store: Store[NotebookContext],
        *,
        model: str | Model | None = None,
        agent: Agent[AgentContext[NotebookContext]] | None = None,
        models: Mapping[str, Model] | None = None,
        history_items: int = DEFAULT_HISTORY_ITEMS,
        usage: UsageLog | None = None,
        bound_input: bool = True,
    ) -> None:
        attachments = store if isinstance(store, AttachmentStore) else None
        super().__init__(store, attachment_store=attachments)
        if history_items < 1:
            raise ValueError(f"history_items must be at least 1, not {history_items!r}")
        self.model = model
        self.agent = agent
        self.models = dict(models or {})
        self.history_items = history_items
        self.converter = NotebookConverter()
        self.pending = PendingRuns()  # runs waiting for approval, and what code left
        self.answering: collections.Counter[str] = collections.Counter()  # streams per thread
        self.usage = usage if usage is not None else UsageLog()
        self.bound_input = bound_input

    def __repr__(self) -> str:
        return f"NotebookChatServer({self.store!r}, model={self.describe_model()!r})"

    async def process(
        self, request: str | bytes | bytearray, context: NotebookContext
    ) -> StreamingResult | NonStreamingResult:
        """Handle one ChatKit request (JSON), as ``ChatKitServer.process`` does.

        The same routing, with the request adapter built once: chatkit 1.6 builds a
        ``TypeAdapter(ChatKitReq)`` for every request, 1.6 ms each, which every panel
        action would pay.

        Before acting, the request is checked (:func:`.checks.check_request`), so one the
        schema admits but the server cannot do is refused before anything streams.

        Anything else that fails is a bug, and is raised (or, once an answer streams, shown)
        as :class:`~chatkit_notebook.errors.ServerFailure`: "the chat server failed" with a
        request id, under which the log keeps the traceback.

        Raises:
            pydantic.ValidationError: the request is not a ChatKit request.
            RequestError: the request names a bad value (its ``status`` is the HTTP one).
            chatkit.store.NotFoundError: the thread or an item it names does not exist.
            ChatkitNotebookError: the store or the configuration refused (its message says
                why and what to do).
            ServerFailure: the server failed (a bug).
        """
        parsed = _requests().validate_json(request)
        try:
            await check_request(parsed, self, context)
            if is_streaming_req(parsed):
                frames: AsyncIterator[bytes] = self._process_streaming(parsed, context)
                thread_id = getattr(parsed.params, "thread_id", None)
                if thread_id is not None:
                    self._refuse_if_answering(parsed)
                    frames = self._one_at_a_time(parsed, thread_id, frames)
                return StreamingResult(_reported(frames, parsed.type))
            result = NonStreamingResult(await self._process_non_streaming(parsed, context))
        except _EXPECTED:
            raise
        except Exception as e:
            raise failure(e, parsed.type) from e
        if isinstance(parsed, ThreadsDeleteReq):  # what the thread's code left goes too
            self.pending.forget(parsed.params.thread_id)
        return result

    def _refuse_if_answering(self, request: StreamingReq) -> None:
        """Refuse a new turn on a thread that is streaming an answer now (409).

        Two turns at once on one thread would interleave their items and could delete the
        other's (a retry removes what follows its message). An approval card's click
        (``threads.custom_action``) is let through: :class:`PendingRuns` decides it, and a
        click meant for a superseded run only gets a notice.
        """
        if isinstance(request, ThreadsCustomActionReq):
            return
        thread_id = request.params.thread_id  # type: ignore[union-attr]
        if self.answering[thread_id]:
            raise RequestError(
                f"{request.type}: params.thread_id {thread_id} is answering another request "
                "now; wait for that answer to end (or stop it), then send again",
                status=409,
            )

    async def _one_at_a_time(
        self, request: StreamingReq, thread_id: str, frames: AsyncIterator[bytes]
    ) -> AsyncIterator[bytes]:
        """``frames``, counted as a stream on ``thread_id`` while they run (checked again
        as they start: another request may have started since ``process`` returned)."""
        self._refuse_if_answering(request)
        self.answering[thread_id] += 1
        try:
            async with contextlib.aclosing(frames):  # type: ignore[type-var]
                async for frame in frames:
                    yield frame
        finally:
            self.answering[thread_id] -= 1
            if not self.answering[thread_id]:
                del self.answering[thread_id]

    def config(self) -> ModelConfig:
        """The model configuration in force now (``configure()`` applies live).

        Raises:
            ConfigError: the configuration is broken and this server's model needs it.
        """
        return choose_model(self.model).config

    def describe_model(self) -> str:
        """The model in use, for status lines."""
        try:
            choice = choose_model(self.model)
        except ConfigError as e:
            return f"not configured ({e})"
        return choice.label if choice.source == "object" else choice.config.describe()

    def model_problem(self) -> str | None:
        """What will stop the next turn from reaching the model (no API key), if known now."""
        try:
            choice = choose_model(self.model)
        except ConfigError as e:
            return str(e)
        return None if choice.source == "object" else choice.config.problem()

    def plan(self, message: UserMessageItem | None) -> TurnPlan:
        """How a turn answering ``message`` runs: agent, model and settings (see ``plan``).

        Raises:
            ConfigError: the configuration is broken and the turn needs it.
        """
        options = message.inference_options if message is not None else None
        return plan_turn(self.model, self.agent, self.models, options)

    async def handle_stream_cancelled(
        self,
        thread: ThreadMetadata,
        pending_items: list[ThreadItem],
        context: NotebookContext,
    ) -> None:
        """Keep the partial answer (ChatKit's default), the steps that were showing, and
        a mark that the answer was stopped.

        ChatKit drops a step that was running when the answer was stopped, so a reload
        would not show that the agent had read data or run code. It is kept, marked as
        stopped, unless ``run_python`` keeps it itself: it waits for the code to stop, then
        says how long it ran and what stopped it.
        """
        await super().handle_stream_cancelled(thread, pending_items, context)
        for item in pending_items:
            if not isinstance(item, WorkflowItem) or not item.workflow.tasks:
                continue
            if self.pending.keeps_itself(item.id):
                continue  # run_python keeps it once its code has stopped
            await self.store.add_thread_item(thread.id, stopped_step(item), context)
        # Kept, so a reload, a restart and the export still say the answer is not whole.
        item_id = self.store.generate_item_id("workflow", thread, context)
        mark = stopped_mark(thread_id=thread.id, item_id=item_id)
        await self.store.add_thread_item(thread.id, mark, context)

    def respond(
        self,
        thread: ThreadMetadata,
        input_user_message: UserMessageItem | None,
        context: NotebookContext,
    ) -> AsyncIterator[ThreadStreamEvent]:
        """The turn's events; a failure that is a bug ends it with "the chat server failed"
        and a request id (see :func:`failure`), not chatkit's bare error event."""
        return _shown(self._respond(thread, input_user_message, context), "respond")

    async def _respond(
        self,
        thread: ThreadMetadata,
        input_user_message: UserMessageItem | None,
        context: NotebookContext,
    ) -> AsyncIterator[ThreadStreamEvent]:
        if input_user_message is not None and not thread.title:
            thread.title = title_for(input_user_message)  # the server saves thread changes
        try:
            plan = self.plan(input_user_message)
        except ConfigError as e:
            raise CustomStreamError(str(e)) from e
        if input_user_message is not None:  # calls still waiting for approval never run
            for close in self.pending.supersede(thread.id):
                async for event in self._closed(thread, close, context):
                    yield event
        receipt = Receipt.priced(plan.label, price_key(plan))
        if input_user_message is not None:
            receipt.sources.question = _question_text(input_user_message)
            async for event in self._read_tagged(input_user_message, thread, context, receipt):
                yield event
        history = await self._history(thread, context)
        whole: set[ResultKey] = set()
        if self.bound_input:
            history, whole = bound_history(history)
        # What earlier turns read is in the model's input: numbers from it are traced.
        receipt.sources.had([kept.result for item in history if (kept := read_tool_result(item))])
        model_input = await self.converter.to_agent_input(history)
        async for event in self._run(plan, model_input, thread, context, receipt, whole=whole):
            yield event

    async def _run(
        self,
        plan: TurnPlan,
        run_input: list[TResponseInputItem] | RunState[AgentContext[NotebookContext]],
        thread: ThreadMetadata,
        context: NotebookContext,
        receipt: Receipt,
        replaces: str | None = None,
        *,
        whole: set[ResultKey] | None = None,
    ) -> AsyncIterator[ThreadStreamEvent]:
        """Run (or, from a ``RunState``, resume) the turn's agent, streaming its events;
        its receipt replaces the receipt item ``replaces`` (the pause's), if given.

        ``whole`` are the tool results the history sends whole: the run's own results
        that repeat one of them are sent as a reference (:class:`.model_input.InputBudget`).
        """
        agent_context = TurnContext(
            thread=thread, store=self.store, request_context=context, pending=self.pending
        )
        result = Runner.run_streamed(
            plan.agent,
            run_input,
            context=agent_context,
            max_turns=MAX_TURNS,
            hooks=_TurnHooks(receipt),
            run_config=self._run_config(plan, whole or set()),
        )
        async for event in self._stream_run(result, agent_context, plan, receipt, replaces):
            yield event

    async def _stream_run(
        self,
        result: RunResultStreaming,
        agent_context: AgentContext[NotebookContext],
        run: TurnPlan,
        receipt: Receipt,
        replaces: str | None = None,
    ) -> AsyncIterator[ThreadStreamEvent]:
        """Stream a run (new or resumed) as ChatKit events, then its approval cards (if it
        paused for approval) and its receipt (one per turn: a resumed run's receipt takes
        the place of the one its pause showed, ``replaces``)."""
        thread, context = agent_context.thread, agent_context.request_context
        receipt_id = self.store.generate_item_id("workflow", thread, context)
        shown = False
        try:
            events = stream_agent_response(agent_context, CoalescedResult(result))  # type: ignore[arg-type]
            unique = self._with_unique_ids(events, thread, context)
            async for event in _with_sources(unique, receipt, context):
                yield event
            if result.interruptions:
                async for event in self._pause(result, run, thread, context, receipt, receipt_id):
                    yield event
            shown = True
            if replaces is not None:  # the turn's receipt so far, shown at its pause
                yield ThreadItemRemovedEvent(item_id=replaces)
            yield ThreadItemDoneEvent(item=receipt.item(thread.id, receipt_id))
            self.usage.record(receipt_id, receipt.tokens, replaces)
        except Exception as e:
            explained = explain_failure(e, run.config, run.label)
            if explained is None:
                raise
            raise explained from e
        finally:
            # Cancelling the stream alone leaves the model run going in the background.
            if not result.is_complete:
                result.cancel()
            _cancel_orphans(agent_context)
            if not shown and receipt.calls:  # stopped or failed: still say what was sent
                keep = self._keep_receipt(receipt, receipt_id, thread, context, replaces)
                await asyncio.shield(keep)

    def _run_config(self, plan: TurnPlan, whole: set[ResultKey]) -> RunConfig:
        if not self.bound_input:
            return plan.run_config
        return dataclasses.replace(plan.run_config, call_model_input_filter=InputBudget(whole))

    # -- approvals -----------------------------------------------------------------------

    async def _pause(
        self,
        result: RunResultStreaming,
        plan: TurnPlan,
        thread: ThreadMetadata,
        context: NotebookContext,
        receipt: Receipt,
        receipt_id: str,
    ) -> AsyncIterator[ThreadStreamEvent]:
        """Keep a run that waits for approval (with its receipt, counted on after the
        click), and show a card for each call it waits on."""
        names = set(dict(context.namespace))  # the user's names, for "rebinds your `df`"
        handles = held_handles(visible(context.namespace, context.hidden))
        running = mainthread.cell_running()

        def card_for(call_id: str, arguments: str) -> WidgetItem:
            code = call_code(arguments)
            widget = approval_card(code, call_id, names, cell_running=running, handles=handles)
            shown = redact_text(code)  # as the card shows it
            return new_item(WidgetItem, self.store, thread, context, widget=widget, copy_text=shown)

        kept = self.pending.pause(thread.id, plan, result, card_for, (receipt, receipt_id))
        for card in kept:
            yield ThreadItemDoneEvent(item=card)

    async def _closed(
        self, thread: ThreadMetadata, close: Close, context: NotebookContext
    ) -> AsyncIterator[ThreadStreamEvent]:
        """The card ``close`` names, redrawn as decided (loaded if the click did not send it)."""
        card: ThreadItem | None = close.card
        if card is None:
            try:
                card = await self.store.load_item(thread.id, close.card_id, context)
            except Exception:  # deleted meanwhile: nothing to show
                return
        if not isinstance(card, WidgetItem):
            return
        widget = decided_card(card.widget, close.status, ran=close.ran)
        yield ThreadItemReplacedEvent(item=card.model_copy(update={"widget": widget}))

    def action(
        self,
        thread: ThreadMetadata,
        action: Action[str, Any],
        sender: WidgetItem | None,
        context: NotebookContext,
    ) -> AsyncIterator[ThreadStreamEvent]:
        """A click on an approval card's Run or Don't run (``threads.custom_action``).

        :meth:`PendingRuns.decide` decides; once every call the run waits on is decided,
        the run resumes where it paused: approved code runs, and a declined call tells the
        model it did not. A failure that is a bug is shown as :meth:`respond`'s are.
        """
        return _shown(self._action(thread, action, sender, context), "custom_action")

    async def _action(
        self,
        thread: ThreadMetadata,
        action: Action[str, Any],
        sender: WidgetItem | None,
        context: NotebookContext,
    ) -> AsyncIterator[ThreadStreamEvent]:
        decision = self.pending.decide(thread.id, action.type, action.payload, sender)
        if isinstance(decision, Replace):
            yield ThreadItemReplacedEvent(item=decision.card)
        elif decision.close is not None:
            async for event in self._closed(thread, decision.close, context):
                yield event
        if not isinstance(decision, Decided):
            level: Literal["info", "warning"] = (
                "info" if action.type in (APPROVE, DECLINE) else "warning"
            )
            yield NoticeEvent(level=level, message=decision.text)
            return
        note = new_item(HiddenContextItem, self.store, thread, context, content=decision.note)
        await self.store.add_thread_item(thread.id, note, context)
        if decision.resume is not None:
            resume = decision.resume
            receipt, replaces = resume.receipt or (
                Receipt.priced(resume.plan.label, price_key(resume.plan)),
                None,
            )
            run = self._run(resume.plan, resume.state, thread, context, receipt, replaces)
            async for event in run:
                yield event

    async def _keep_receipt(
        self,
        receipt: Receipt,
        item_id: str,
        thread: ThreadMetadata,
        context: NotebookContext,
        replaces: str | None = None,
    ) -> None:
        try:
            if replaces is not None:
                await self.store.delete_thread_item(thread.id, replaces, context)
            await self.store.add_thread_item(thread.id, receipt.item(thread.id, item_id), context)
            self.usage.record(item_id, receipt.tokens, replaces)
        except Exception:  # the turn's own outcome matters more than its receipt
            logger.warning("could not keep the turn's receipt", exc_info=True)

    async def _history(self, thread: ThreadMetadata, context: NotebookContext) -> list[Any]:
        """The newest ``history_items`` items the model sees, oldest first.

        Receipts are for the person and take no part of the budget.
        """
        items: list[Any] = []
        after = None
        while len(items) < self.history_items:
            page = await self.store.load_thread_items(
                thread.id, after, self.history_items, "desc", context
            )
            items += [item for item in page.data if not is_receipt(item)]
            if not page.has_more:
                break
            after = page.after
        return list(reversed(items[: self.history_items]))

    async def _read_tagged(
        self,
        message: UserMessageItem,
        thread: ThreadMetadata,
        context: NotebookContext,
        receipt: Receipt,
    ) -> AsyncIterator[ThreadStreamEvent]:
        """Give the model what the message's tags point at, before it runs.

        An ``@variable`` tag gets the same bounded, redacted preview as
        ``describe_variable``; an error tag ("Ask about this error", ``%chat`` right after
        one) gets what ``last_error`` returns, unless the notebook tools are off. Each is
        kept as hidden context (so later turns see it too) and shown as a finished step:
        the model needs no tool call to see what the person pointed at.
        """
        names = tagged_names(message)
        has_error, cell = tagged_error(message)
        read_error = has_error and notebook_tools_enabled()
        if not names and not read_error:
            return
        calls: list[tuple[str, dict[str, Any]]] = [
            ("describe_variable", {"name": name}) for name in names
        ]
        reads = await asyncio.to_thread(read_tagged, context, names)
        if read_error:
            calls.append(("last_error", {"cell": cell}))
            reads.append(await asyncio.to_thread(read_cell_error, context, cell))
        tasks: list[Task] = [
            CustomTask(title=title, status_indicator="complete") for title, _ in reads
        ]
        summary = "Read the variables you named" if names else "Read the error"
        workflow = new_item(
            WorkflowItem,
            self.store,
            thread,
            context,
            workflow=Workflow(type="custom", tasks=tasks, summary=CustomSummary(title=summary)),
        )
        yield ThreadItemDoneEvent(item=workflow)
        for (tool, arguments), (_, result) in zip(calls, reads, strict=True):
            receipt.read(tool, result)
            receipt.sources.saw(tool, arguments, result)
            item_id = self.store.generate_item_id("message", thread, context)
            hidden = hidden_result(tool, arguments, result, thread_id=thread.id, item_id=item_id)
            await self.store.add_thread_item(thread.id, hidden, context)

    async def _with_unique_ids(
        self,
        events: AsyncIterator[ThreadStreamEvent],
        thread: ThreadMetadata,
        context: NotebookContext,
    ) -> AsyncIterator[ThreadStreamEvent]:
        """Give each assistant message a store-made id, consistently across its events.

        Chat Completions and LiteLLM models stream every message as ``__fake_id__``, and
        scripted test models reuse one id, so model ids are never trusted to be unique.
        """
        current: dict[str, str] = {}
        async for event in events:
            if isinstance(event, (ThreadItemAddedEvent, ThreadItemDoneEvent)) and isinstance(
                event.item, AssistantMessageItem
            ):
                source = event.item.id
                if isinstance(event, ThreadItemAddedEvent) or source not in current:
                    current[source] = self.store.generate_item_id("message", thread, context)
                new_id = current[source]
                if isinstance(event, ThreadItemDoneEvent):
                    del current[source]
                item = event.item.model_copy(update={"id": new_id})
                event = event.model_copy(update={"item": item})
            elif isinstance(event, ThreadItemUpdatedEvent) and event.item_id in current:
                event = event.model_copy(update={"item_id": current[event.item_id]})
            yield event


async def _with_sources(
    events: AsyncIterator[ThreadStreamEvent], receipt: Receipt, context: NotebookContext
) -> AsyncIterator[ThreadStreamEvent]:
    """Each finished answer annotated with the variables the turn read so far (and their
    fingerprints, taken off the loop: hashing a big frame takes a moment), before it is
    stored: later views compare them with the variables as they are then."""
    async for event in events:
        if isinstance(event, ThreadItemDoneEvent) and isinstance(event.item, AssistantMessageItem):
            try:
                item = await asyncio.to_thread(receipt.sources.annotate, event.item, context)
            except Exception:  # the answer matters more than its stale mark
                logger.warning("could not fingerprint what the answer read", exc_info=True)
            else:
                event = event.model_copy(update={"item": item})
        yield event


def _question_text(message: UserMessageItem) -> str:
    """The question's words (its numbers are not the answer's claims)."""
    return " ".join(
        part.text for part in message.content if isinstance(part, UserMessageTextContent)
    )


@functools.cache
def _requests() -> TypeAdapter[ChatKitReq]:
    return TypeAdapter(ChatKitReq)


# What a request may fail with on purpose: each says what was wrong, and none is a bug.
_EXPECTED = (ValidationError, NotFoundError, ChatkitNotebookError, CustomStreamError, StreamError)


def failure(error: BaseException, what: str) -> ServerFailure:
    """``error``, a bug met while doing ``what``, as the one line a client is given; its
    traceback goes to the log under the request id the line names."""
    failed = ServerFailure(error)
    logger.error(
        "the chat server failed on %s (request id %s)",
        what,
        failed.request_id,
        exc_info=(type(error), error, error.__traceback__),
    )
    return failed


async def _reported(frames: AsyncIterator[bytes], what: str) -> AsyncGenerator[bytes, None]:
    """A streamed answer's frames; a bug that ends it is raised as :class:`ServerFailure`
    (before the first frame, ``%chatkit serve`` still answers it with a 500)."""
    async with contextlib.aclosing(frames):  # type: ignore[type-var]
        try:
            async for frame in frames:
                yield frame
        except _EXPECTED:
            raise
        except Exception as e:
            raise failure(e, what) from e


async def _shown(
    events: AsyncIterator[ThreadStreamEvent], what: str
) -> AsyncIterator[ThreadStreamEvent]:
    """``events``, ended by a bug as an error the client shows: "the chat server failed"
    with a request id (chatkit would send an error with no text, and log no id)."""
    async with contextlib.aclosing(events):  # type: ignore[type-var]
        try:
            async for event in events:
                yield event
        except (CustomStreamError, StreamError):
            raise
        except (ChatkitNotebookError, NotFoundError) as e:  # the store refused, or a thread
            # or item went away meanwhile: its own message says what happened
            raise CustomStreamError(str(e) or type(e).__name__, allow_retry=True) from e
        except Exception as e:
            raise CustomStreamError(str(failure(e, what)), allow_retry=True) from e


def title_for(message: UserMessageItem) -> str:
    """A short thread title from the first message: its first line, cut at a word."""
    texts = [part.text for part in message.content if isinstance(part, UserMessageTextContent)]
    named = {match.group(1) for text in texts for match in mentions(text)}
    parts = []
    for part in message.content:
        if isinstance(part, UserMessageTextContent):
            parts.append(part.text)
        elif (
            isinstance(part, UserMessageTagContent)
            and not is_error_tag(part)  # the question says which cell
            and part.text not in named
        ):
            parts.append(f"@{part.text}")  # a tag the text does not mention already
    text = " ".join(" ".join(parts).split())
    if not text:
        return "New chat"
    if len(text) <= TITLE_MAX_CHARS:
        return text
    cut = text[: TITLE_MAX_CHARS - 1]
    if " " in cut[TITLE_MAX_CHARS // 2 :]:
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip(" ,.;:-") + "…"


def _cancel_orphans(agent_context: AgentContext[NotebookContext]) -> None:
    """Cancel the task chatkit leaves waiting on the turn's event queue when it is stopped.

    ``stream_agent_response`` merges the model's stream with the context's event queue by
    keeping one ``__anext__`` task on each. Stopped mid-answer, it is closed while one of
    them still waits on the queue: that task would stay pending until garbage collection,
    then print "Task was destroyed but it is pending!" in some later cell. chatkit 1.6.5
    keeps no handle on it, so it is found by the queue it waits on.
    """
    queue = agent_context._events
    for task in asyncio.all_tasks():
        frame = getattr(task.get_coro(), "cr_frame", None)
        waiting = frame.f_locals.get("self") if frame is not None else None
        if getattr(waiting, "queue", None) is queue and not task.done():
            task.cancel()


class _TurnHooks(RunHooks[AgentContext[NotebookContext]]):
    """Run hooks for one turn: count what goes to the model, and keep tool results.

    Every model call's input, its tokens and every tool result go into the turn's
    :class:`Receipt`.
    ChatKit does not store server tool calls, so without the second part the next turn's
    model would not know what the tools returned. The notebook tools store their own
    (bounded, redacted) results; this covers the tools of an agent passed to the server.
    Results are redacted before they are stored.
    """

    def __init__(self, receipt: Receipt) -> None:
        self.receipt = receipt

    async def on_llm_start(
        self,
        context: RunContextWrapper[AgentContext[NotebookContext]],
        agent: Any,
        system_prompt: str | None,
        input_items: list[TResponseInputItem],
    ) -> None:
        self.receipt.sent(system_prompt, input_items)

    async def on_llm_end(
        self,
        context: RunContextWrapper[AgentContext[NotebookContext]],
        agent: Any,
        response: ModelResponse,
    ) -> None:
        if self.receipt.usage is not None:
            # Off the loop: the first price lookup imports genai-prices (about a second).
            await asyncio.to_thread(self.receipt.usage.add, response.usage)

    async def on_tool_end(
        self,
        context: RunContextWrapper[AgentContext[NotebookContext]],
        agent: Any,
        tool: Tool,
        result: object,
    ) -> None:
        text = result if isinstance(result, str) else json.dumps(result, default=str)
        self.receipt.read(tool.name, text)
        arguments = context.tool_arguments if isinstance(context, ToolContext) else ""
        self.receipt.sources.saw(tool.name, arguments, text)
        if id(tool) in _self_storing():
            return
        chat = context.context
        try:
            item_id = chat.store.generate_item_id("message", chat.thread, chat.request_context)
            item = hidden_result(
                tool.name, arguments, text, thread_id=chat.thread.id, item_id=item_id
            )
            await chat.store.add_thread_item(chat.thread.id, item, chat.request_context)
        except Exception:  # a failing store must not fail the answer
            logger.warning("could not keep the %s result in the thread", tool.name, exc_info=True)


@functools.cache
def _self_storing() -> frozenset[int]:
    """The notebook tools, which keep their own results."""
    return frozenset(id(tool) for tool in [*NOTEBOOK_TOOLS, *CELL_TOOLS, run_python, query])
