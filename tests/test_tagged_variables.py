"""@variables: a person names a variable; the model gets its preview with the message."""

from __future__ import annotations

import json
from pathlib import Path

from agents.testing import ScriptedModel, assistant_message
from chatkit.types import UserMessageItem, UserMessageTagContent, WorkflowItem
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output
from scripted import ChatClient

from chatkit_notebook import NotebookContext, NotebookStore
from chatkit_notebook._client import ThreadState, message_request, variable_tags
from chatkit_notebook.agent.receipt import is_receipt
from chatkit_notebook.agent.server import NotebookChatServer


def test_only_known_names_become_tags_once_each() -> None:
    tags = variable_tags(
        "Compare @sales with @regions, then @sales again; mail a@b.c @nope",
        {"sales", "regions", "b"},
    )
    assert [t.text for t in tags] == ["sales", "regions"]
    assert all(t.data == {"kind": "variable", "name": t.text} for t in tags)
    assert variable_tags("@@sales and x@sales", {"sales"}) == []


async def test_a_tagged_variable_reaches_the_model_without_a_tool_call(store_path: Path) -> None:
    import pandas as pd

    sales = pd.DataFrame({"region": ["north", "south"], "units": [120, 80]})
    key = "sk-proj-abcdefghijklmnop1234567890"
    namespace = {"sales": sales, "openai_api_key": key, "payroll": [1]}
    model = ScriptedModel([[assistant_message("North sold 120.")]])
    context = NotebookContext(namespace=namespace, hidden={"payroll"})
    client = ChatClient(NotebookChatServer(NotebookStore(store_path), model=model), context)
    tags = variable_tags("Which region in @sales sold most?", {"sales"})
    tags += [
        UserMessageTagContent(id="v:k", text="openai_api_key", data={"kind": "variable"}),
        UserMessageTagContent(id="v:p", text="payroll", data={"kind": "variable"}),
    ]
    state = ThreadState()
    async for event in client.stream(
        message_request(None, "Which region in @sales sold most?", tags=tags)
    ):
        state.apply(event)

    (call,) = model.calls  # one model call: no tool was needed to see `sales`
    sent = json.dumps(call.input, default=str)
    assert "untrusted_notebook_data" in sent  # the same envelope as describe_variable
    assert "north" in sent
    assert "units" in sent
    assert key not in sent  # a tagged secret stays redacted
    assert "[REDACTED" in sent
    assert "not available" in sent or "not found" in sent  # a hidden name reads as missing
    (workflow, receipt) = [i for i in state.items.values() if isinstance(i, WorkflowItem)]
    assert is_receipt(receipt)
    read = getattr(receipt.workflow.tasks[0], "title", "")
    assert read.startswith("Read `sales` (2 \N{MULTIPLICATION SIGN} 2) · ")  # named and sized
    redacted = getattr(receipt.workflow.tasks[3], "title", "")
    assert redacted == "1 secret redacted"  # the tagged key, counted
    titles = [t.title for t in workflow.workflow.tasks]  # type: ignore[union-attr]
    assert titles[0] == "Read `sales` (2 \N{MULTIPLICATION SIGN} 2)"
    assert "north" not in json.dumps(titles)  # steps name what was read, never values
    stored = await NotebookStore(store_path).load_thread_items(
        state.thread_id or "", None, 50, "asc", NotebookContext()
    )
    kinds = [i.type for i in stored.data]
    assert kinds[:2] == ["user_message", "workflow"]
    assert kinds[-1] == "workflow"  # the receipt, kept with the thread
    assert kinds.count("hidden_context_item") == 3  # kept: the next turn still sees them
    user = stored.data[0]
    assert isinstance(user, UserMessageItem)
    assert [c.type for c in user.content] == ["input_text", "input_tag", "input_tag", "input_tag"]


def test_chat_accepts_at_names_in_the_question(tmp_path: Path, monkeypatch: object) -> None:
    monkeypatch.setenv("CHATKIT_NOTEBOOK_STORE", str(tmp_path / "nb.chatkit.json"))  # type: ignore[attr-defined]
    import chatkit_notebook

    shell = InteractiveShell.instance()
    shell.run_line_magic("load_ext", "chatkit_notebook")
    try:
        shell.user_ns["sales"] = [120, 80, 95]
        model = ScriptedModel([[assistant_message("Three numbers.")]])
        chatkit_notebook.kernel.session.loaded().server().model = model
        with capture_output() as captured:
            shell.run_line_magic("chat", "What is in @sales")
        shown = [
            o.data["text/markdown"]
            for o in captured.outputs
            if o.data.get("text/markdown") and not o.update
        ]
        assert shown == ["*Read `sales` (3 items)*\n\nThree numbers."] or shown[0].startswith(
            "*Read `sales`"
        )
        assert "120" in json.dumps(model.calls[0].input, default=str)
    finally:
        shell.run_line_magic("unload_ext", "chatkit_notebook")


def _message(*content: object) -> UserMessageItem:
    from chatkit.types import InferenceOptions

    return UserMessageItem(
        id="m",
        thread_id="t",
        created_at="2026-01-01T00:00:00",
        content=list(content),  # type: ignore[arg-type]
        inference_options=InferenceOptions(),
    )


def test_a_mentioned_tag_shows_once_in_its_place_in_the_message_and_the_title() -> None:
    from chatkit.types import UserMessageTextContent

    from chatkit_notebook.agent.server import title_for
    from chatkit_notebook.panel.views import UserMessageView

    text = "Which region in @sales beat @plan? Ask @nobody"
    request = message_request(None, text, tags=variable_tags(text, {"sales", "plan"}))
    item = _message(*request.params.input.content)  # type: ignore[union-attr]
    shown = UserMessageView(item).widget.value
    assert shown.count("@sales") == shown.count("@plan") == 1
    assert (
        'Which region in <span class="ck-tag">@sales</span> beat '
        '<span class="ck-tag">@plan</span>? Ask @nobody</div>'
    ) in shown
    assert title_for(item) == text
    # A tag the text does not mention (as other ChatKit clients send them) still shows.
    other = _message(
        UserMessageTextContent(text="Describe "),
        UserMessageTagContent(id="v:df", text="df", data={"kind": "variable"}),
    )
    assert UserMessageView(other).widget.value.endswith(
        'Describe <span class="ck-tag">@df</span></div>'
    )
    assert title_for(other) == "Describe @df"
