"""A turn about a failing cell, kept in PostgreSQL: saved, and read back by a new store.

The notebook tools never touch the store; what they return is kept as hidden context like
every tool's result, so a turn that used them must survive a new kernel (a new
``PostgresStore`` on the same database) as a file store's does (``test_cell_tools.py``).
"""

from __future__ import annotations

import json

import pandas as pd
from agents.testing import ScriptedModel, assistant_message, function_call
from postgres import PostgresServer, pg_dsn_fixture, postgres_fixture  # noqa: F401
from scripted import ChatClient
from test_cell_tools import FRAME, run_cell

from chatkit_notebook import NotebookContext
from chatkit_notebook._client import ThreadState, message_request
from chatkit_notebook._items import error_tag, read_tool_result
from chatkit_notebook.agent.server import NotebookChatServer
from chatkit_notebook.previews.cells import CellRecord
from chatkit_notebook.stores.postgres import PostgresStore


async def test_a_turn_about_an_error_saves_and_reloads_in_postgres(pg_dsn: str) -> None:
    record, namespace = CellRecord(), {"pd": pd}
    run_cell(record, namespace, 1, FRAME)
    run_cell(record, namespace, 2, "total = df['revenu'].sum()")
    model = ScriptedModel(
        [
            [function_call("last_error", {}, call_id="c1")],
            [assistant_message("The column is 'revenue'.")],
        ]
    )
    context = NotebookContext(namespace=namespace, cells=record, user="alice")
    store = PostgresStore(pg_dsn, notebook_key="sales.ipynb")
    try:
        client = ChatClient(NotebookChatServer(store, model=model), context)
        state = ThreadState()
        request = message_request(None, "why did this fail?", tags=[error_tag(2, "KeyError")])
        async for event in client.stream(request):
            state.apply(event)
    finally:
        await store.aclose()
    assert state.thread_id is not None
    assert "failing_line" in json.dumps(model.calls[1].input, default=str)

    reopened = PostgresStore(pg_dsn, notebook_key="sales.ipynb")  # a new kernel
    try:
        reader = NotebookContext(user="alice")
        page = await reopened.load_thread_items(state.thread_id, None, 100, "asc", reader)
    finally:
        await reopened.aclose()
    kept = [read_tool_result(item) for item in page.data]
    assert [k.tool for k in kept if k is not None] == ["last_error", "last_error"]
    results = [json.loads(k.result) for k in kept if k is not None]
    assert all(r["untrusted_notebook_data"]["exception"] == "KeyError" for r in results)
    texts = json.dumps([item.model_dump(mode="json") for item in page.data])
    assert "Error in cell [2]" in texts  # the question's tag
    assert "The column is 'revenue'." in texts
