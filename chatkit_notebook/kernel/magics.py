"""The IPython side: ``%chat`` and ``%%chat``, and the kernel's chat session.

``%load_ext chatkit_notebook`` creates one :class:`ChatSession` for the kernel: the store
(beside this notebook, or the one chosen: :func:`~chatkit_notebook.stores.location.locate_store`),
the server, the variables hidden from the agent and the current thread. ``%chat`` shows
the panel; ``%chat QUESTION`` and ``%%chat`` run one turn in the current thread (see
``_cellturn``); ``%chatkit`` manages threads, the model, the store and serving.
"""

from __future__ import annotations

import argparse
import re
import shlex
from collections.abc import Coroutine
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from IPython.core.magic import Magics, line_cell_magic, line_magic, magics_class
from IPython.display import display

from ..config import StoreChoice, configure, current_config, store_choice
from ..context import NotebookContext, default_user
from ..errors import ChatkitNotebookError, StoreError
from ..stores.location import StoreLocation, locate_store, location_for
from .cellturn import ChatStopped, markdown_output, prints_updates

if TYPE_CHECKING:
    from agents import Model
    from chatkit.store import Store
    from chatkit.types import Thread
    from IPython.core.interactiveshell import InteractiveShell

    from .._client import ChatKitClient
    from ..agent.server import NotebookChatServer
    from ..panel.panel import ChatPanel
    from ..runtime import Runtime

__all__ = ["ChatMagics", "ChatSession", "ChatStopped", "keep_question_marks"]

_UNKNOWN = object()  # the current thread, before it was read from the store


# `%chat QUESTION` on a line of its own; group 1 the indentation, group 2 the question.
_CHAT_LINE = re.compile(r"^([ \t]*)%chat[ \t]+(\S.*?)[ \t]*$")


def keep_question_marks(lines: list[str]) -> list[str]:
    """An IPython input transformer: ``%chat QUESTION?`` asks instead of showing help.

    IPython reads a line ending in ``?`` as a help request (``%chat Which month?`` would
    answer "Object `month` not found."). This runs before IPython's own transforms and
    turns such a line into the magic's call. ``%chat?`` (help on the magic) and the body
    of a ``%%chat`` cell are left alone.
    """
    first = next((line for line in lines if line.strip()), "")
    if first.lstrip().startswith("%%"):
        return lines
    out = []
    for line in lines:
        match = _CHAT_LINE.match(line)
        if match and match.group(2).endswith("?"):
            indent, question = match.groups()
            line = f"{indent}get_ipython().run_line_magic('chat', {question!r})\n"
        out.append(line)
    return out


class ChatSession:
    """Everything one kernel needs to chat about its notebook."""

    def __init__(self, shell: InteractiveShell) -> None:
        self.shell = shell
        self._chosen = store_choice()
        self.location: StoreLocation = locate_store(shell.user_ns)
        self._store: Store[NotebookContext] | None = None
        self._server: NotebookChatServer | None = None
        self._model: str | Model | None = None  # a model given to the server, kept across stores
        self.hidden: set[str] = set()
        self._thread_id: str | object | None = _UNKNOWN
        self.pending_title: str | None = None
        self._told_where = False

    @property
    def runtime(self) -> Runtime:
        """The package's loop, looked up at each use (``%reload_ext`` replaces it)."""
        from ..runtime import get_runtime

        return get_runtime()

    @property
    def store(self) -> Store[NotebookContext]:
        """The thread store, opened on first use.

        A new choice (``configure(store=...)``, ``%chatkit store``) is followed at the next
        use: the session then starts on that store's own current thread.
        """
        chosen = store_choice()
        if chosen != self._chosen:
            self._chosen = chosen
            self._use(locate_store(self.shell.user_ns))
        if self._store is None:
            self._store = self.location.open()
        return self._store

    @property
    def server(self) -> NotebookChatServer:
        """The ChatKit server, made on first use (the Agents SDK takes a second to import)."""
        store = self.store
        if self._server is None:
            from ..agent.server import NotebookChatServer

            self._server = NotebookChatServer(store, model=self._model)
        return self._server

    def _use(self, location: StoreLocation) -> None:
        """Keep threads at ``location`` from now on; the model and hidden names stay."""
        old = self._store
        if self._server is not None:
            self._model = self._server.model
        self.location = location
        self._store = self._server = None
        self._thread_id = _UNKNOWN  # the new store's own current thread
        self._told_where = False
        close = getattr(old, "close", None)  # a database store's connections
        if callable(close):
            close()

    @property
    def client(self) -> ChatKitClient:
        """A ChatKit client of the server, whose requests carry this session's context."""
        from .._client import ChatKitClient

        return ChatKitClient(self.server, self.context)

    @property
    def thread_id(self) -> str | None:
        """The current thread (``None``: the next question starts one).

        Kept in the store, so a new kernel continues where the last one left off.
        """
        store = self.store  # first, as it may follow a new choice of store
        if self._thread_id is _UNKNOWN:
            from ..stores.current import recall

            self._thread_id = self.runtime.run(recall(store, self.context()))
        return self._thread_id  # type: ignore[return-value]

    @thread_id.setter
    def thread_id(self, thread_id: str | None) -> None:
        if self._thread_id is _UNKNOWN:
            self._thread_id = self.thread_id  # what a new chat is left from
        self.runtime.run(self.follow(thread_id))

    def follow(self, thread_id: str | None) -> Coroutine[Any, Any, None]:
        """Make ``thread_id`` current now; the coroutine keeps the choice in the store."""
        from ..stores.current import remember

        previous = self._thread_id if isinstance(self._thread_id, str) else None
        self._thread_id = thread_id
        return remember(self.store, thread_id, previous, self.context())

    def context(self) -> NotebookContext:
        """The context for a request: this kernel's variables, minus the hidden ones."""
        return NotebookContext(
            namespace=self.shell.user_ns,
            notebook_path=self.location.notebook_path,
            hidden=self.hidden,
            user=default_user(),
        )

    def panel(self) -> ChatPanel:
        """A chat panel on this notebook's threads."""
        from ..agent import mainthread
        from ..agent.tools import offered_variables
        from ..panel.panel import ChatPanel
        from . import serving

        return ChatPanel(
            self.server,
            self.context(),
            status_note=self._serving_note,
            status_changes=serving.listen,
            code_running=mainthread.listen,
            offer=offered_variables,
            thread_id=self.thread_id,
            on_thread=self.follow,
            changes=self._changes,
        )

    def _changes(self, thread_id: str | None) -> Any:
        """The store's change token (an awaitable), for a panel watching for others' work."""
        token = getattr(self.store, "change_token", None)
        return token(self.context(), thread_id) if callable(token) else None

    def _serving_note(self) -> str:
        """Where this kernel serves the chat, for the panel's status line ("" when it does not)."""
        from . import serving

        served = serving.current()
        return f"Serving at {served.url}" if served is not None else ""

    # -- %chatkit ------------------------------------------------------------------------

    def _threads(self) -> list[Thread]:
        return list(self.runtime.run(self.client.threads(limit=100, order="desc")).data)

    def cmd_threads(self, args: argparse.Namespace) -> Any:
        threads = self._threads()
        if not threads:
            print("No threads yet: ask with %chat QUESTION, or open the panel with %chat.")
            return None
        rows = ["| | title | created | id |", "|---|---|---|---|"]
        for thread in threads:
            mark = "*" if thread.id == self.thread_id else ""
            title = (thread.title or "Untitled chat").replace("|", "\\|")
            created = thread.created_at.isoformat(sep=" ", timespec="minutes")
            rows.append(f"| {mark} | {title} | {created} | `{thread.id}` |")
        display(markdown_output("\n".join(rows)), raw=True)
        return None

    def cmd_new(self, args: argparse.Namespace) -> None:
        self.thread_id = None
        self.pending_title = " ".join(args.title) or None
        print("The next question starts a new thread.")

    def cmd_use(self, args: argparse.Namespace) -> None:
        known = {t.id: t for t in self._threads()}
        if args.id not in known:
            raise ValueError(f"no thread {args.id!r} in {self._where()}; see %chatkit threads")
        self.thread_id = args.id
        print(f"Continuing {known[args.id].title or args.id}.")

    def cmd_rename(self, args: argparse.Namespace) -> None:
        if self.thread_id is None:
            raise ValueError("no current thread: ask something first, or %chatkit use ID")
        title = " ".join(args.title)
        self.set_title(title)
        print(f"Renamed to {title!r}.")

    def set_title(self, title: str) -> None:
        assert self.thread_id is not None
        self.runtime.run(self.client.rename(self.thread_id, title))

    def cmd_delete(self, args: argparse.Namespace) -> None:
        if args.id not in {t.id for t in self._threads()}:
            raise ValueError(f"no thread {args.id!r} in {self._where()}; see %chatkit threads")
        self.runtime.run(self.client.delete(args.id))
        if self.thread_id == args.id:
            self.thread_id = None
        print(f"Deleted {args.id}.")

    def cmd_model(self, args: argparse.Namespace) -> None:
        if args.name or args.base_url is not None or args.api:
            configure(model=args.name, base_url=args.base_url, api=args.api)
        print(f"Model: {current_config().describe()}")

    def cmd_store(self, args: argparse.Namespace) -> None:
        if args.copy_to:
            self._copy_to(args)
            return
        if args.default:
            self._choose(store="")
        elif args.target:
            self._choose(store=args.target, store_shared=args.shared, store_key=args.key)
        elif args.shared or args.key:  # the database in use, shared or filed under a new key
            here = self.location
            if here.url is None:
                msg = f"--shared and --key apply to a database, not to the file {here.path}"
                raise ValueError(msg)
            key = args.key or here.notebook_key
            shared = args.shared or here.shared  # naming a key keeps the sharing as it is
            self._choose(store=here.url, store_shared=shared, store_key=key)
        self.store  # noqa: B018  (follows a choice made with configure())
        self._told_where = True
        print(self.location.describe())

    def _where(self) -> str:
        """The store in use, in a few words (the password masked)."""
        return self.location.display

    def _choose(self, **choice: Any) -> None:
        """Keep threads where ``configure(**choice)`` says; a store that cannot be read is
        not taken, so nothing is lost."""
        previous = store_choice()
        configure(**choice)
        try:
            self._check(self.store)
        except Exception:
            _restore(previous)
            self.store  # noqa: B018  (back to the store in use before)
            raise

    def _check(self, store: Store[NotebookContext]) -> None:
        """Read a page, so a store that cannot be read fails here, not in the next chat."""
        self.runtime.run(store.load_threads(1, None, "desc", self.context()))

    def _copy_to(self, args: argparse.Namespace) -> None:
        from ..stores.copy import copy_threads

        target = location_for(
            args.copy_to,
            self.location.notebook_path,
            "%chatkit store --copy-to",
            shared=args.shared,
            notebook_key=args.key,
        )
        source = self.store
        here = self.location
        if (target.path, target.url, target.notebook_key) == (
            here.path,
            here.url,
            here.notebook_key,
        ):
            raise ValueError(f"{target.display} is the store in use; name another to copy to")
        store = target.open()
        shown = None if prints_updates(self.shell) else display(display_id=True)

        def progress(done: int, total: int) -> None:
            if shown is not None and total:
                shown.update({"text/plain": f"Copying threads: {done} of {total}"}, raw=True)

        try:
            report = self.runtime.run(
                copy_threads(source, store, self.context(), progress=progress)
            )
        except StoreError as e:
            msg = f"{e} What was copied stays; run the same command again to carry on."
            raise StoreError(msg) from None
        finally:
            close = getattr(store, "close", None)
            if callable(close):
                close()
        if shown is not None:
            shown.update({"text/plain": ""}, raw=True)
        print(report.describe(self.location.display, target.display))

    def cmd_hide(self, args: argparse.Namespace) -> None:
        self.hidden.update(args.names)
        shown = ", ".join(sorted(self.hidden)) or "none"
        print(f"Hidden from the agent: {shown}.")

    def cmd_show(self, args: argparse.Namespace) -> None:
        self.hidden.difference_update(args.names)
        shown = ", ".join(sorted(self.hidden)) or "none"
        print(f"Hidden from the agent: {shown}.")

    def cmd_run(self, args: argparse.Namespace) -> None:
        from ..config import run_settings

        if args.mode:
            configure(run_python=args.mode)
        settings = run_settings()
        print(_RUN_MODES_SAID[settings.mode].format(timeout=settings.timeout))

    def cmd_insert(self, args: argparse.Namespace) -> None:
        if self.thread_id is None:
            raise ValueError("no current thread: ask something first, or %chatkit use ID")
        code = self.runtime.run(self._code_to_insert(self.thread_id, args.block))
        self.shell.set_next_input(code, replace=True)

    async def _code_to_insert(self, thread_id: str, block: int | None) -> str:
        """The code the agent last ran in the thread, or code block ``block`` (from 1) of
        the thread's last answer."""
        from chatkit.types import AssistantMessageItem, HiddenContextItem

        from ..panel.markdown import code_blocks

        # The store, not the protocol: the code is kept in hidden items, which clients never get.
        context = self.context()
        after = None
        while True:
            page = await self.store.load_thread_items(thread_id, after, 100, "desc", context)
            for item in page.data:
                if block is None and isinstance(item, HiddenContextItem):
                    code = _ran_code(item.content)
                    if code is not None:
                        return code
                if block is not None and isinstance(item, AssistantMessageItem):
                    blocks = code_blocks("".join(part.text for part in item.content))
                    if not 1 <= block <= len(blocks):
                        msg = (
                            f"the last answer has {len(blocks)} code block"
                            f"{'s' if len(blocks) != 1 else ''}, so there is no block {block}"
                        )
                        raise ValueError(msg)
                    return blocks[block - 1]
            if not page.has_more or page.after is None:
                break
            after = page.after
        if block is None:
            raise ValueError(
                "the agent has run no code in this thread; %chatkit insert N puts code "
                "block N of the last answer into the cell instead"
            )
        raise ValueError("this thread has no answer yet")

    def cmd_export(self, args: argparse.Namespace) -> Any:
        if self.thread_id is None:
            raise ValueError("no current thread to export: %chatkit use ID first")
        text = self.exportmarkdown_output(self.thread_id)
        if args.path:
            Path(args.path).expanduser().write_text(text, encoding="utf-8")
            print(f"Wrote {args.path}.")
            return None
        display(markdown_output(text), raw=True)
        return None

    def cmd_doctor(self, args: argparse.Namespace) -> None:
        from .doctor import run_checks

        checks = self.runtime.run(run_checks(current_config(), self.store, self.context()))
        for check in checks:
            mark = {True: "ok  ", False: "FAIL", None: "skip"}[check.ok]
            print(f"{mark} {check.name}: {check.detail}")
            if check.fix:
                print(f"     fix: {check.fix}")

    def cmd_serve(self, args: argparse.Namespace) -> None:
        from .serving import serve_command

        serve_command(self, args)

    def exportmarkdown_output(self, thread_id: str) -> str:
        """A thread as Markdown: the user's questions and the answers, oldest first."""

        from ..agent.receipt import is_receipt, receipt_line

        client = self.client

        async def items() -> list[Any]:
            found: list[Any] = []
            after = None
            while True:
                page = await client.items(thread_id, limit=200, order="asc", after=after)
                found.extend(page.data)
                if not page.has_more:
                    return found
                after = page.after

        parts = []
        for item in self.runtime.run(items()):
            if item.type == "user_message":
                text = " ".join(getattr(c, "text", "") for c in item.content)
                parts.append("**You:** " + text)
            elif item.type == "assistant_message":
                parts.append("".join(c.text for c in item.content))
            elif is_receipt(item):
                parts.append(receipt_line(item))
        return "\n\n".join(parts) + "\n"

    def ask(self, text: str) -> str:
        """Run one turn in the current thread, streaming into the cell; return the answer.

        Raises:
            ChatStopped: the kernel's interrupt stopped the answer (what arrived is kept).
        """
        from .cellturn import ask

        return ask(self, text)

    def where(self) -> str | None:
        """Where threads are kept, said once per session."""
        if self._told_where:
            return None
        self._told_where = True
        return self.location.describe()


_RUN_MODES_SAID = {
    "ask": (
        "The agent may run Python after you approve each call (Run / Don't run): in a "
        "sandbox of your variables, on this kernel, stopped after {timeout:g} s. "
        "`%chatkit run auto` runs calls without asking; `%chatkit run off` turns it off."
    ),
    "auto": (
        "The agent now runs Python WITHOUT asking: every call it makes runs at once on this "
        "kernel, stopped after {timeout:g} s. It runs on copies of your DataFrames and "
        "read-only arrays, but lists, dicts and other objects can be changed in place, and "
        "the code can read and write files and reach the network like any cell. "
        "`%chatkit run ask` to be asked again."
    ),
    "off": (
        "The agent cannot run Python: it only reads your variables' previews. "
        "`%chatkit run ask` lets it run code after you approve each call."
    ),
}


def _ran_code(content: object) -> str | None:
    """The code of a kept ``run_python`` result (``Result of run_python({...}):``)."""
    import json

    prefix = "Result of run_python("
    if not isinstance(content, str) or not content.startswith(prefix):
        return None
    try:
        arguments, _ = json.JSONDecoder().raw_decode(content, len(prefix))
    except ValueError:
        return None
    code = arguments.get("code") if isinstance(arguments, dict) else None
    return code if isinstance(code, str) else None


def _restore(choice: StoreChoice | None) -> None:
    """Put back a store choice made before (``None``: the default)."""
    if choice is None:
        configure(store="")
    else:
        configure(store=choice.target, store_shared=choice.shared, store_key=choice.notebook_key)


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

        The question is taken as written: quotes and dashes need no escaping, and a
        question mark at the end is part of the question (``%chat?`` alone shows this help).
        The kernel's interrupt stops the answer and keeps what had arrived.
        """
        question = cell if cell is not None else line
        if not question.strip():
            return self.session.panel()
        self.session.ask(question.strip())
        return None

    @line_magic
    def chatkit(self, line: str) -> Any:
        """Manage this notebook's chats.

        Usage::

            %chatkit threads                  this notebook's threads (* = current)
            %chatkit new [TITLE]              start a new thread with the next question
            %chatkit use ID                   continue a thread
            %chatkit rename TITLE             rename the current thread
            %chatkit delete ID                delete a thread and its messages
            %chatkit model [NAME] [--base-url URL] [--api responses|chat_completions]
            %chatkit store [PATH|URL] [--shared] [--key KEY] [--default]
                                              where threads are kept, or keep them in a
                                              file or a PostgreSQL database (URL)
            %chatkit store --copy-to PATH|URL copy this store's threads to another
            %chatkit hide [NAME ...]          hide variables from the agent (no names: list)
            %chatkit show NAME ...            let the agent read them again
            %chatkit export [PATH]            the current thread as Markdown
            %chatkit doctor                   check the key, endpoint, model and store
            %chatkit run [ask|auto|off]       whether the agent may run Python (ask first)
            %chatkit insert [N]               replace this cell with the code the agent
                                              last ran (or code block N of the last answer)
            %chatkit serve [--port N] [--host H] [--allow-origin ORIGIN ...]
                                              serve this chat over HTTP (POST /chatkit)
            %chatkit serve stop               stop serving it
        """
        try:
            args = _chatkit_parser().parse_args(shlex.split(line))
            if args.command is None:
                usage = _one_line(_chatkit_parser().format_usage())
                raise _UsageError(f"{usage} (%chatkit? for help)")
            return getattr(self.session, f"cmd_{args.command}")(args)
        except (_UsageError, ValueError) as e:
            print(str(e) if isinstance(e, _UsageError) else f"chatkit: {e}")
        except ChatkitNotebookError as e:
            print(f"chatkit: {e}")
        return None


class _UsageError(Exception):
    """A bad ``%chatkit`` command line: shown as one line of usage, never a traceback."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise _UsageError(f"{self.prog}: {message}; {_one_line(self.format_usage())}")


def _one_line(text: str) -> str:
    """argparse's usage, which it wraps to the terminal's width, as one line."""
    return " ".join(text.split())


def _chatkit_parser() -> _Parser:
    parser = _Parser(prog="%chatkit", add_help=False)
    sub = parser.add_subparsers(dest="command", parser_class=_Parser)
    sub.add_parser("threads", help="list this notebook's threads", add_help=False)
    new = sub.add_parser("new", help="start a new thread", add_help=False)
    new.add_argument("title", nargs="*")
    use = sub.add_parser("use", help="continue a thread", add_help=False)
    use.add_argument("id")
    rename = sub.add_parser("rename", help="rename the current thread", add_help=False)
    rename.add_argument("title", nargs="+")
    delete = sub.add_parser("delete", help="delete a thread", add_help=False)
    delete.add_argument("id")
    model = sub.add_parser("model", help="choose the model", add_help=False)
    model.add_argument("name", nargs="?")
    model.add_argument("--base-url")
    model.add_argument("--api", choices=["responses", "chat_completions"])
    store = sub.add_parser("store", help="show or change where threads are kept", add_help=False)
    store.add_argument("target", nargs="?")
    store.add_argument("--shared", action="store_true")
    store.add_argument("--key")
    store.add_argument("--default", action="store_true")
    store.add_argument("--copy-to")
    hide = sub.add_parser("hide", help="hide variables from the agent", add_help=False)
    hide.add_argument("names", nargs="*")
    show = sub.add_parser("show", help="let the agent read variables again", add_help=False)
    show.add_argument("names", nargs="+")
    export = sub.add_parser("export", help="the current thread as Markdown", add_help=False)
    export.add_argument("path", nargs="?")
    sub.add_parser("doctor", help="check the key, endpoint, model and store", add_help=False)
    run = sub.add_parser("run", help="whether the agent may run Python", add_help=False)
    run.add_argument("mode", nargs="?", choices=["ask", "auto", "off"])
    insert = sub.add_parser(
        "insert", help="put the code the agent ran into this cell", add_help=False
    )
    insert.add_argument("block", nargs="?", type=_block_number)
    serve = sub.add_parser("serve", help="serve this chat over HTTP", add_help=False)
    serve.add_argument("action", nargs="?", choices=["stop"])
    serve.add_argument("--port", type=int)
    serve.add_argument("--host")
    serve.add_argument("--allow-origin", action="extend", nargs="+", default=[])
    return parser


def _block_number(text: str) -> int:
    try:
        number = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"N must be a code block number, not {text!r}") from None
    if number < 1:
        raise argparse.ArgumentTypeError(f"N counts code blocks from 1, not {number}")
    return number
