"""The protocol fuzzer (issue 23) over the PostgreSQL store: requests drawn from chatkit's
schema and byte-level mutations of valid ones, against a real ``NotebookChatServer`` over a
real ``PostgresStore`` on the test run's PostgreSQL server (group ``pg``).

The same properties as ``test_protocol_fuzz.py``: no 5xx and nothing that says "the chat
server failed", each request answered within ``fuzzing.LIMIT`` seconds, and afterwards a new
``PostgresStore`` on the database keeps the store contract's invariants and a normal turn
works. PostgreSQL refuses what a JSON file takes (a NUL in text, for one), which is why this
store is fuzzed on its own.
"""

from __future__ import annotations

import json

import pytest
from fuzzing import (
    a_normal_turn_works,
    answer_in_time,
    check_store,
    fuzz_settings,
    make_world,
    mutated,
    rounds,
    schema_requests,
    seed,
)
from hypothesis import given
from hypothesis import strategies as st
from postgres import pg_dsn_fixture, postgres_fixture  # noqa: F401  (the fixtures)

from chatkit_notebook.runtime import Runtime
from chatkit_notebook.stores.postgres import PostgresStore

pytestmark = pytest.mark.fuzz


def test_requests_over_postgresql(pg_dsn: str, runtime: Runtime) -> None:
    store = PostgresStore(pg_dsn, notebook_key="fuzz.ipynb")
    world = make_world(store)
    runtime.run(seed(world))
    requests = st.one_of(schema_requests(), mutated())
    sent = 0

    @fuzz_settings(200)
    @given(st.data())
    def one(data: st.DataObject) -> None:
        nonlocal sent
        request = data.draw(requests)
        runtime.run(answer_in_time(world, request)).check(request)
        sent += 1

    try:
        for _ in rounds():
            one()
        print(f"fuzz: {sent} requests sent")
        assert sent >= 200
        reopened = PostgresStore(pg_dsn, notebook_key="fuzz.ipynb")
        try:
            assert runtime.run(check_store(reopened)) > 0
        finally:
            runtime.run(reopened.aclose())
        runtime.run(a_normal_turn_works(world.server, world))
    finally:
        runtime.run(store.aclose())


def test_the_fuzzers_find_a_nul_is_a_422_over_postgresql(pg_dsn: str, runtime: Runtime) -> None:
    """What the fuzzer found first: a NUL in an id or a message failed PostgreSQL with a
    500 (StoreError). Now it is refused before the store sees it (as test_bad_requests.py
    checks for the file store)."""
    store = PostgresStore(pg_dsn, notebook_key="fuzz.ipynb")
    world = make_world(store)
    try:
        runtime.run(seed(world))
        message = {"content": [{"type": "input_text", "text": "a\u0000b"}], "attachments": []}
        for params in (
            {"thread_id": "thr\u0000x", "input": {**message, "inference_options": {}}},
            {"thread_id": world.threads[0], "input": {**message, "inference_options": {}}},
        ):
            body = json.dumps({"type": "threads.add_user_message", "params": params}).encode()
            answered = runtime.run(answer_in_time(world, body))
            assert answered.status == 422, answered.text
            assert "NUL character" in answered.text
        assert runtime.run(check_store(store)) > 0
    finally:
        runtime.run(store.aclose())
