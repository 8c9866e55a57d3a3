"""The IPython side: ``%chat`` and ``%%chat``, and the kernel's chat session.

``%load_ext chatkit_notebook`` creates one :class:`ChatSession` for the kernel: the store
beside this notebook, the server, the variables hidden from the agent and the current
thread. ``%chat`` shows the panel; ``%chat QUESTION`` and ``%%chat`` run one turn in the
current thread, streaming into a preview and then leaving the answer as a plain Markdown
output (nbval compares new outputs, not display updates). The kernel's interrupt stops
the turn and keeps the partial answer.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from IPython.core.magic import Magics, line_cell_magic, magics_class
from IPython.display import Markdown, display

from .context import NotebookContext
from .location import StoreLocation, locate_store

if TYPE_CHECKING:
    from IPython.core.interactiveshell import InteractiveShell

    from .panel import ChatPanel
    from .server import NotebookChatServer
    from .store import NotebookStore

__all__ = ["ChatMagics", "ChatSession"]

PREVIEW_HZ = 10


class ChatSession:
    """Everything one kernel needs to chat about its notebook."""

    def __init__(self, shell: InteractiveShell) -> None:
        from .runtime import get_runtime
        from .server import NotebookChatServer
        from .store import NotebookStore

        self.shell = shell
        self.location: StoreLocation = locate_store(shell.user_ns)
        self.store: NotebookStore = NotebookStore(self.location.path)
        self.server: NotebookChatServer = NotebookChatServer(self.store)
        self.hidden: set[str] = set()
        self.thread_id: str | None = None
        self.runtime = get_runtime()
        self._told_where = False

    def context(self) -> NotebookContext:
        """The context for a request: this kernel's variables, minus the hidden ones."""
        return NotebookContext(
            namespace=self.shell.user_ns,
            notebook_path=self.location.notebook_path,
            hidden=self.hidden,
        )

    def panel(self) -> ChatPanel:
        """A chat panel on this notebook's threads."""
        from .panel import ChatPanel

        panel = ChatPanel(self.server, self.context(), runtime=self.runtime)
        if self.thread_id is not None:
            panel.open_thread(self.thread_id)
        return panel

    def where(self) -> str | None:
        """Where threads are kept, said once per session."""
        if self._told_where:
            return None
        self._told_where = True
        return self.location.describe()

    def ask(self, text: str) -> str:
        """Run one turn in the current thread, streaming into the cell; return the answer."""
        from chatkit.types import (
            AssistantMessageContentPartTextDelta,
            InferenceOptions,
            ThreadAddUserMessageParams,
            ThreadCreateParams,
            ThreadsAddUserMessageReq,
            ThreadsCreateReq,
            UserMessageInput,
            UserMessageTextContent,
        )

        from .panel import _EVENTS

        content = UserMessageInput(
            content=[UserMessageTextContent(text=text)],
            attachments=[],
            inference_options=InferenceOptions(),
        )
        request: Any
        if self.thread_id is None:
            request = ThreadsCreateReq(params=ThreadCreateParams(input=content))
        else:
            params = ThreadAddUserMessageParams(thread_id=self.thread_id, input=content)
            request = ThreadsAddUserMessageReq(params=params)
        server, context = self.server, self.context()

        async def frames() -> Any:
            result = await server.process(request.model_dump_json(), context)
            async for chunk in result:  # type: ignore[union-attr]
                yield chunk

        note = self.where()
        if note:
            print(note)
        preview = display(Markdown(""), display_id=True)
        answers: dict[str, str] = {}
        errors: list[str] = []
        last = 0.0
        try:
            for chunk in self.runtime.iterate(frames):
                event = _EVENTS.validate_json(chunk.removeprefix(b"data: "))
                if event.type == "thread.created":
                    self.thread_id = event.thread.id
                elif event.type == "thread.item.updated" and isinstance(
                    event.update, AssistantMessageContentPartTextDelta
                ):
                    answers[event.item_id] = answers.get(event.item_id, "") + event.update.delta
                elif event.type == "thread.item.done" and event.item.type == "assistant_message":
                    answers[event.item.id] = "".join(part.text for part in event.item.content)
                elif event.type == "error":
                    errors.append(event.message or "Something went wrong while answering.")
                now = time.monotonic()
                if preview is not None and now - last >= 1 / PREVIEW_HZ:
                    preview.update(Markdown("\n\n".join(answers.values())))
                    last = now
        except KeyboardInterrupt:
            text_so_far = "\n\n".join(answers.values())
            if preview is not None:
                preview.update(Markdown(""))
            display(Markdown(text_so_far + "\n\n*(stopped; the partial answer is kept)*"))
            raise
        except Exception as error:  # unknown thread and the like, raised before streaming
            errors.append(str(error) or type(error).__name__)
        if preview is not None:
            preview.update(Markdown(""))
        answer = "\n\n".join(answers.values())
        if answer:
            display(Markdown(answer))
        for message in errors:
            print(f"chat: {message}")
        return answer


@magics_class
class ChatMagics(Magics):
    """``%chat`` and ``%%chat``."""

    def __init__(self, shell: InteractiveShell, session: ChatSession) -> None:
        super().__init__(shell)
        self.session = session

    @line_cell_magic
    def chat(self, line: str, cell: str | None = None) -> Any:
        """Chat with this notebook's data.

        Usage::

            %chat                 open the chat panel for this notebook
            %chat QUESTION        ask in the current thread; the answer stays in the cell
            %%chat                (first line of a cell) send the rest of the cell

        The question is taken as written: quotes and dashes need no escaping.
        """
        question = cell if cell is not None else line
        if not question.strip():
            return self.session.panel()
        self.session.ask(question.strip())
        return None
