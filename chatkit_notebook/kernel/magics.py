"""The IPython side: ``%chat``, ``%%chat`` and ``%chatkit``.

``%chat`` shows the panel of the kernel's :class:`~.session.ChatSession`; ``%chat
QUESTION`` and ``%%chat`` run one turn in the current thread (:mod:`.cellturn`);
``%chatkit`` manages threads, the model, the store and serving. Its commands are one table,
:data:`COMMANDS`, from which its parser, its help and its usage errors are built.
"""

from __future__ import annotations

import argparse
import asyncio
import html
import re
import shlex
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from IPython.core.error import UsageError
from IPython.core.magic import Magics, line_cell_magic, line_magic, magics_class
from IPython.display import display

from ..config import StoreChoice, configure, current_config, error_help_enabled, store_choice
from ..errors import ChatkitNotebookError, StoreError
from ..stores.location import location_for
from . import cellturn
from .cellturn import ChatStopped, markdown_output, prints_updates
from .session import TRANSFORMER, ChatSession

if TYPE_CHECKING:
    from chatkit.types import Thread, UserMessageTagContent
    from IPython.core.interactiveshell import InteractiveShell

__all__ = ["COMMANDS", "ChatMagics", "ChatStopped", "Command", "keep_question_marks", "register"]


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


assert keep_question_marks.__name__ == TRANSFORMER  # the name the session removes it by


def register(shell: InteractiveShell, session: ChatSession) -> None:
    """Add ``%chat``, ``%%chat`` and ``%chatkit`` for ``session`` to ``shell``
    (:meth:`ChatSession.close` removes them)."""
    shell.register_magics(ChatMagics(shell, session))
    shell.input_transformers_cleanup.append(keep_question_marks)


def ask(session: ChatSession, text: str) -> str:
    """``%chat QUESTION``: one turn in the current thread, streamed into the cell; the answer.

    Raises:
        ChatStopped: the kernel's interrupt stopped the answer (what arrived is kept).
    """
    from ..agent.tools import offered_variables

    offered = {name for name, _ in offered_variables(session.context())}
    tags = _error_before(session)
    thread_id = session.current_thread()
    client = session.client()
    note = session.store_note_once()
    if note:
        print(note)
    answer = cellturn.ask(
        text,
        client=client,
        runtime=session.runtime,
        thread_id=thread_id,
        offered=offered,
        on_created=session.follow,
        output=cellturn.output_for(session.shell),
        changes=session.changes,
        stale=session.stale.notes,
        stale_changes=session.stale.listen,
        tags=tags,
    )
    thread_id = session.current_thread()  # the thread the turn started, if it did
    if thread_id is not None:
        session.use_thread(thread_id)  # used now: the current thread after a restart too
    if thread_id is not None and (title := session.take_pending_title()):
        _rename(session, thread_id, title)
    return answer


def _error_before(session: ChatSession) -> list[UserMessageTagContent]:
    """The error tag for the cell just before this one, if it failed: ``%chat why did
    this fail?`` right after an error is about that error (the server reads it for the
    model). Nothing when that cell succeeded or the notebook tools are off."""
    from .._items import error_tag
    from ..config import notebook_tools_enabled
    from ..previews.redact import redact_text

    error = session.cells.last_error()
    if error is None or not notebook_tools_enabled():
        return []
    return [error_tag(error.cell, redact_text(error.headline)[:80])]


def export_markdown(session: ChatSession, thread_id: str) -> str:
    """A thread as Markdown, oldest first: the questions and answers, each step with the
    code it ran, the approval cards and what became of them, "Stopped", the receipts; then
    the thread's tokens and cost."""
    from .._items import thread_tokens
    from ..panel.transcript import thread_items, thread_markdown

    items = session.runtime.run(thread_items(session.client(), thread_id))
    usage = f"*Usage of this thread: {thread_tokens(items).line()}*"
    text = thread_markdown(items, code="fence", figures=0, stale=session.stale.notes)
    return text + "\n\n" + usage + "\n"


# -- %chatkit's commands, each (session, parsed arguments) -------------------------------


def _threads(session: ChatSession) -> list[Thread]:
    return list(session.runtime.run(session.client().threads(limit=100, order="desc")).data)


def _known(session: ChatSession, thread_id: str) -> Thread:
    for thread in _threads(session):
        if thread.id == thread_id:
            return thread
    raise UsageError(f"no thread {thread_id!r} in {session.store_label()}; see %chatkit threads")


def _current(session: ChatSession, what: str = "ask something first, or %chatkit use ID") -> str:
    thread_id = session.current_thread()
    if thread_id is None:
        raise UsageError(f"no current thread: {what}")
    return thread_id


def _rename(session: ChatSession, thread_id: str, title: str) -> None:
    session.runtime.run(session.client().rename(thread_id, title))


def _list_threads(session: ChatSession, args: argparse.Namespace) -> None:
    threads = _threads(session)
    if not threads:
        print("No threads yet: ask with %chat QUESTION, or open the panel with %chat.")
        return
    current = session.current_thread()
    stale = session.runtime.run(_stale_counts(session, [thread.id for thread in threads]))
    rows = ["| | title | created | id | stale answers |", "|---|---|---|---|---|"]
    for thread in threads:
        mark = "*" if thread.id == current else ""
        title = (thread.title or "Untitled chat").replace("|", "\\|")
        created = thread.created_at.isoformat(sep=" ", timespec="minutes")
        count = stale.get(thread.id, 0)
        said = f"{count} stale answer{'s' if count != 1 else ''}" if count else ""
        rows.append(f"| {mark} | {title} | {created} | `{thread.id}` | {said} |")
    display(markdown_output("\n".join(rows)), raw=True)


async def _stale_counts(session: ChatSession, thread_ids: list[str]) -> dict[str, int]:
    """How many answers of each thread read a variable that has changed since."""
    from .._items import read_sources
    from ..panel.transcript import thread_items

    await asyncio.to_thread(session.stale.recheck)  # changes no cell's code showed
    counts = {}
    for thread_id in thread_ids:
        items = await thread_items(session.client(), thread_id)
        sources = [found for item in items if (found := read_sources(item))]
        counts[thread_id] = await asyncio.to_thread(session.stale.stale_count, sources)
    return counts


def _new(session: ChatSession, args: argparse.Namespace) -> None:
    session.start_new_thread(" ".join(args.title) or None)
    print("The next question starts a new thread.")


def _use(session: ChatSession, args: argparse.Namespace) -> None:
    thread = _known(session, args.id)
    session.use_thread(args.id)
    print(f"Continuing {thread.title or args.id}.")


def _rename_current(session: ChatSession, args: argparse.Namespace) -> None:
    thread_id = _current(session)
    title = " ".join(args.title)
    _rename(session, thread_id, title)
    print(f"Renamed to {title!r}.")


def _delete(session: ChatSession, args: argparse.Namespace) -> None:
    _known(session, args.id)
    session.runtime.run(session.client().delete(args.id))
    if session.current_thread() == args.id:
        session.use_thread(None)
    print(f"Deleted {args.id}.")


def _model(session: ChatSession, args: argparse.Namespace) -> None:
    if args.name or args.base_url is not None or args.api:
        configure(model=args.name, base_url=args.base_url, api=args.api)
    print(f"Model: {current_config().describe()}")


def _store(session: ChatSession, args: argparse.Namespace) -> None:
    if args.copy_to:
        _copy_to(session, args)
        return
    if args.default:
        _choose(session, store="")
    elif args.target:
        _choose(session, store=args.target, store_shared=args.shared, store_key=args.key)
    elif args.shared or args.key:  # the database in use, shared or filed under a new key
        here = session.location
        if here.url is None:
            msg = f"--shared and --key apply to a database, not to the file {here.path}"
            raise UsageError(msg)
        key = args.key or here.notebook_key
        shared = args.shared or here.shared  # naming a key keeps the sharing as it is
        _choose(session, store=here.url, store_shared=shared, store_key=key)
    session.store()  # follows a choice made with configure(), and opens it
    print(session.describe_store())


def _choose(session: ChatSession, **choice: Any) -> None:
    """Keep threads where ``configure(**choice)`` says; a store that cannot be read is not
    taken, so nothing is lost."""
    previous = store_choice()
    configure(**choice)
    try:
        # Read a page, so a store that cannot be read fails here, not in the next chat.
        session.runtime.run(session.store().load_threads(1, None, "desc", session.context()))
    except Exception:
        _restore(previous)
        session.follow_store_choice()  # back to the store in use before
        raise


def _copy_to(session: ChatSession, args: argparse.Namespace) -> None:
    from ..stores.copy import copy_threads

    target = location_for(
        args.copy_to,
        session.location.notebook_path,
        "%chatkit store --copy-to",
        shared=args.shared,
        notebook_key=args.key,
    )
    source = session.store()
    here = session.location
    if (target.path, target.url, target.notebook_key) == (here.path, here.url, here.notebook_key):
        raise UsageError(f"{target.display} is the store in use; name another to copy to")
    store = target.open()
    shown = None if prints_updates(session.shell) else display(display_id=True)

    def progress(done: int, total: int) -> None:
        if shown is not None and total:
            shown.update({"text/plain": f"Copying threads: {done} of {total}"}, raw=True)

    try:
        report = session.runtime.run(
            copy_threads(source, store, session.context(), progress=progress)
        )
    except StoreError as e:
        msg = f"{e} What was copied stays; run the same command again to carry on."
        raise StoreError(msg) from None
    except ValueError as e:  # the same store under another name
        raise UsageError(str(e)) from None
    finally:
        close = getattr(store, "close", None)
        if callable(close):
            close()
    if shown is not None:
        shown.update({"text/plain": ""}, raw=True)
    print(report.describe(session.location.display, target.display))


def _hide(session: ChatSession, args: argparse.Namespace) -> None:
    session.hidden.update(args.names)
    shown = ", ".join(sorted(session.hidden)) or "none"
    print(f"Hidden from the agent: {shown}.")


def _show(session: ChatSession, args: argparse.Namespace) -> None:
    session.hidden.difference_update(args.names)
    shown = ", ".join(sorted(session.hidden)) or "none"
    print(f"Hidden from the agent: {shown}.")


def _run(session: ChatSession, args: argparse.Namespace) -> None:
    from ..config import run_settings

    if args.mode:
        configure(run_python=args.mode)
    settings = run_settings()
    print(_RUN_MODES_SAID[settings.mode].format(timeout=settings.timeout))


_CELLS_SAID = {
    True: "The agent may read this notebook's cells, their outputs and the last error "
    "(%chatkit cells off: variables only).",
    False: "The agent reads variables only, not the notebook's cells, outputs or errors "
    "(%chatkit cells on to let it).",
}


def _cells(session: ChatSession, args: argparse.Namespace) -> None:
    from ..config import notebook_tools_enabled

    if args.state:
        configure(notebook_tools=args.state == "on")
    print(_CELLS_SAID[notebook_tools_enabled()])


def _insert(session: ChatSession, args: argparse.Namespace) -> None:
    from .errorhelp import asked_error, fix_for_insert

    thread_id = _current(session)
    code = session.runtime.run(_code_to_insert(session, thread_id, args.block))
    asked = session.runtime.run(asked_error(session.store(), thread_id, session.context()))
    _show_diff(session.shell, fix_for_insert(session, asked, code))
    session.shell.set_next_input(code, replace=True)


def _show_diff(shell: InteractiveShell, lines: list[str]) -> None:
    """What ``%chatkit insert`` changes in the cell the thread asked about: a diff above
    the code it puts in this cell (nothing runs until the cell does)."""
    if not lines:
        return
    said = f"The fix changes {lines[0][4:]} (now in this cell; run it to take it):"
    if prints_updates(shell):
        print("\n".join([said, *lines]))
        return
    from ..panel.errorline import DIFF_CSS, diff_html

    page = f"<style>{DIFF_CSS}</style><p>{html.escape(said)}</p>{diff_html(lines)}"
    display({"text/html": page, "text/plain": "\n".join([said, *lines])}, raw=True)


def _errors(session: ChatSession, args: argparse.Namespace) -> None:
    if args.state:
        configure(error_help=args.state == "on")
    if not error_help_enabled():
        print("A failing cell gets no line: %chatkit errors on brings it back.")
    elif session.error_help.shows_line():
        print(
            'A failing cell gets a line "Ask about this error"; a click asks in the current '
            "thread with the error attached. %chatkit errors off turns it off."
        )
    else:
        print(
            'On, but no line is shown here: "Ask about this error" needs a notebook that '
            "someone can click (JupyterLab, Notebook 7, VS Code, Colab), not nbclient, "
            "nbval, papermill or a terminal."
        )


async def _code_to_insert(session: ChatSession, thread_id: str, block: int | None) -> str:
    """The code the agent last ran in the thread, or code block ``block`` (from 1) of the
    thread's last answer."""
    from chatkit.types import AssistantMessageItem, HiddenContextItem

    from .._items import ran_code
    from ..panel.markdown import code_blocks

    # The store, not the protocol: the code is kept in hidden items, which clients never get.
    store, context = session.store(), session.context()
    after = None
    while True:
        page = await store.load_thread_items(thread_id, after, 100, "desc", context)
        for item in page.data:
            if block is None and isinstance(item, HiddenContextItem):
                code = ran_code(item)
                if code is not None:
                    return code
            if block is not None and isinstance(item, AssistantMessageItem):
                blocks = code_blocks("".join(part.text for part in item.content))
                if not 1 <= block <= len(blocks):
                    msg = (
                        f"the last answer has {len(blocks)} code block"
                        f"{'s' if len(blocks) != 1 else ''}, so there is no block {block}"
                    )
                    raise UsageError(msg)
                return blocks[block - 1]
        if not page.has_more or page.after is None:
            break
        after = page.after
    if block is None:
        raise UsageError(
            "the agent has run no code in this thread; %chatkit insert N puts code "
            "block N of the last answer into the cell instead"
        )
    raise UsageError("this thread has no answer yet")


def _export(session: ChatSession, args: argparse.Namespace) -> None:
    thread_id = session.current_thread()
    if thread_id is None:
        raise UsageError("no current thread to export: %chatkit use ID first")
    text = export_markdown(session, thread_id)
    if args.path:
        Path(args.path).expanduser().write_text(text, encoding="utf-8")
        print(f"Wrote {args.path}.")
        return
    display(markdown_output(text), raw=True)


def _usage(session: ChatSession, args: argparse.Namespace) -> None:
    from .._items import thread_tokens
    from ..panel.transcript import thread_items

    thread_id = session.current_thread()
    thread = "no current thread: ask something first, or %chatkit use ID"
    if thread_id is not None:
        items = session.runtime.run(thread_items(session.client(), thread_id))
        thread = thread_tokens(items).line()
    print(f"This thread: {thread}")
    print(f"This kernel: {session.server().usage.totals().line()} (since it started)")


def _doctor(session: ChatSession, args: argparse.Namespace) -> None:
    from .doctor import run_checks

    checks = session.runtime.run(
        run_checks(current_config(), session.store(), session.context(), session.serving())
    )
    for check in checks:
        mark = {True: "ok  ", False: "FAIL", None: "skip"}[check.ok]
        print(f"{mark} {check.name}: {check.detail}")
        if check.fix:
            print(f"     fix: {check.fix}")


def _serve(session: ChatSession, args: argparse.Namespace) -> None:
    from .serving import DEFAULT_HOST

    if args.action == "stop":
        serving = session.serving()
        if session.stop_serving() and serving is not None:
            print(f"Stopped serving at {serving.url}; port {serving.port} is free.")
        else:
            print("Not serving; %chatkit serve starts it.")
        return
    serving, warning = session.start_serving(
        args.host or DEFAULT_HOST, args.port, tuple(args.allow_origin)
    )
    if warning:
        print(f"Warning: {warning}")
    print(f"Serving this notebook's chat at {serving.url}")
    print(f"Bearer token (shown only now): {serving.token}")
    if serving.allow_origins:
        print(f"Web pages from {', '.join(serving.allow_origins)} may call it.")
    print("Try it (the answer streams as server-sent events):")
    print(serving.curl())
    print("%chatkit serve stop ends it.")


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


def _restore(choice: StoreChoice | None) -> None:
    """Put back a store choice made before (``None``: the default)."""
    if choice is None:
        configure(store="")
    else:
        configure(store=choice.target, store_shared=choice.shared, store_key=choice.notebook_key)


def _block_number(text: str) -> int:
    try:
        number = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"N must be a code block number, not {text!r}") from None
    if number < 1:
        raise argparse.ArgumentTypeError(f"N counts code blocks from 1, not {number}")
    return number


def _title(parser: argparse.ArgumentParser, *, required: bool) -> None:
    parser.add_argument("title", nargs="+" if required else "*")


def _thread_id(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("id")


def _model_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", nargs="?")
    parser.add_argument("--base-url")
    parser.add_argument("--api", choices=["responses", "chat_completions"])


def _store_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("target", nargs="?")
    parser.add_argument("--shared", action="store_true")
    parser.add_argument("--key")
    parser.add_argument("--default", action="store_true")
    parser.add_argument("--copy-to")


def _serve_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("action", nargs="?", choices=["stop"])
    parser.add_argument("--port", type=int)
    parser.add_argument("--host")
    parser.add_argument("--allow-origin", action="extend", nargs="+", default=[])


@dataclass(frozen=True)
class Command:
    """One ``%chatkit`` command: its name, its arguments' forms as the help shows them, a
    line of help, how it parses its arguments, and what runs it."""

    name: str
    forms: tuple[str, ...]
    help: str
    run: Callable[[ChatSession, argparse.Namespace], None]
    arguments: Callable[[argparse.ArgumentParser], object] = lambda parser: None

    def usage(self) -> list[str]:
        """The command's usage lines (``%chatkit store [PATH|URL] ...``)."""
        return [f"%chatkit {self.name} {form}".rstrip() for form in self.forms]


COMMANDS: dict[str, Command] = {
    command.name: command
    for command in (
        Command("threads", ("",), "this notebook's threads (* = current)", _list_threads),
        Command(
            "new",
            ("[TITLE]",),
            "start a new thread with the next question",
            _new,
            lambda p: _title(p, required=False),
        ),
        Command("use", ("ID",), "continue a thread", _use, _thread_id),
        Command(
            "rename",
            ("TITLE",),
            "rename the current thread",
            _rename_current,
            lambda p: _title(p, required=True),
        ),
        Command("delete", ("ID",), "delete a thread and its messages", _delete, _thread_id),
        Command(
            "model",
            ("[NAME] [--base-url URL] [--api responses|chat_completions]",),
            "show or choose the model",
            _model,
            _model_arguments,
        ),
        Command(
            "store",
            ("[PATH|URL] [--shared] [--key KEY] [--default]", "--copy-to PATH|URL"),
            "where threads are kept: a file or a PostgreSQL database (URL); "
            "--copy-to copies this store's threads to another",
            _store,
            _store_arguments,
        ),
        Command(
            "hide",
            ("[NAME ...]",),
            "hide variables from the agent (no names: list them)",
            _hide,
            lambda p: p.add_argument("names", nargs="*"),
        ),
        Command(
            "show",
            ("NAME ...",),
            "let the agent read them again",
            _show,
            lambda p: p.add_argument("names", nargs="+"),
        ),
        Command(
            "export",
            ("[PATH]",),
            "the current thread as Markdown",
            _export,
            lambda p: p.add_argument("path", nargs="?"),
        ),
        Command(
            "usage",
            ("",),
            "tokens and cost of the current thread and of this kernel",
            _usage,
        ),
        Command("doctor", ("",), "check the key, endpoint, model and store", _doctor),
        Command(
            "run",
            ("[ask|auto|off]",),
            "whether the agent may run Python (ask first)",
            _run,
            lambda p: p.add_argument("mode", nargs="?", choices=["ask", "auto", "off"]),
        ),
        Command(
            "cells",
            ("[on|off]",),
            "whether the agent may read the notebook's cells, outputs and errors (on)",
            _cells,
            lambda p: p.add_argument("state", nargs="?", choices=["on", "off"]),
        ),
        Command(
            "insert",
            ("[N]",),
            "replace this cell with the code the agent last ran (or code block N of the "
            "last answer), after a diff against the cell the thread asked about",
            _insert,
            lambda p: p.add_argument("block", nargs="?", type=_block_number),
        ),
        Command(
            "errors",
            ("[on|off]",),
            'whether a failing cell offers "Ask about this error"',
            _errors,
            lambda p: p.add_argument("state", nargs="?", choices=["on", "off"]),
        ),
        Command(
            "serve",
            ("[--port N] [--host H] [--allow-origin ORIGIN ...]", "stop"),
            "serve this chat over HTTP (POST /chatkit), or stop serving it",
            _serve,
            _serve_arguments,
        ),
    )
}
"""``%chatkit``'s commands by name: the one place its grammar and help are written."""


def _help() -> str:
    """``%chatkit``'s help, from :data:`COMMANDS`: each command's usage, then its help in a
    column of its own."""
    import textwrap

    width = 34
    lines = []
    for command in COMMANDS.values():
        usage = command.usage()
        said = textwrap.wrap(command.help, 88 - width)
        if len(usage) == 1 and len(usage[0]) < width:  # the help beside the usage
            usage[0] = f"{usage[0]:<{width}}{said.pop(0)}"
        lines += [*usage, *(f"{'':<{width}}{line}" for line in said)]
    body = "\n".join(f"    {line}" for line in lines)
    return f"Manage this notebook's chats.\n\nUsage::\n\n{body}\n"


class _ParseError(UsageError):
    """A ``%chatkit`` line that does not parse: shown as one line of usage."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise _ParseError(f"{self.prog}: {message}; {_one_line(self.format_usage())}")


def _one_line(text: str) -> str:
    """argparse's usage, which it wraps to the terminal's width, as one line."""
    return " ".join(text.split())


def _chatkit_parser() -> _Parser:
    parser = _Parser(prog="%chatkit", add_help=False)
    sub = parser.add_subparsers(dest="command", parser_class=_Parser)
    for command in COMMANDS.values():
        command.arguments(sub.add_parser(command.name, help=command.help, add_help=False))
    return parser


def _parse(line: str) -> argparse.Namespace:
    """``%chatkit LINE``'s command and arguments.

    Raises:
        UsageError: the line does not parse (a :class:`_ParseError`, with the usage), or
            its quotes are not closed.
    """
    try:
        words = shlex.split(line)
    except ValueError as e:  # "No closing quotation"
        raise UsageError(str(e)) from None
    parser = _chatkit_parser()
    args = parser.parse_args(words)
    if args.command is None:
        raise _ParseError(f"{_one_line(parser.format_usage())} (%chatkit? for help)")
    return args


@magics_class
class ChatMagics(Magics):
    """``%chat``, ``%%chat`` and ``%chatkit``, on the kernel's session."""

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
        ask(self.session, question.strip())
        return None

    @line_magic
    def chatkit(self, line: str) -> None:
        try:
            args = _parse(line)
            COMMANDS[args.command].run(self.session, args)
        except _ParseError as e:
            print(e)
        except (UsageError, ChatkitNotebookError) as e:
            print(f"chatkit: {e}")

    chatkit.__doc__ = _help()
