"""The protocol fuzzer (issue 23), over the file store: every request the ChatKit schema
admits, and byte-level mutations of valid ones, against a real ``NotebookChatServer`` (a
scripted model) over a real ``NotebookStore`` file, in the kernel and over real HTTP.

Properties: no 5xx and nothing that says "the chat server failed", every request answered
(its stream read to the end) within ``fuzzing.LIMIT`` seconds, and afterwards the store file
reopens from disk, keeps the store contract's invariants, and a normal turn still works.

CI runs a bounded number of examples; ``./dev test -m fuzz`` runs for minutes
(``fuzzing.py`` says how). The PostgreSQL store's run is ``test_protocol_fuzz_pg.py``.
Examples that found bugs are kept as explicit tests in ``test_bad_requests.py``.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from fuzzing import (
    FAILED,
    LIMIT,
    World,
    a_normal_turn_works,
    answer_in_time,
    check_store,
    fuzz_settings,
    make_world,
    mutated,
    resolve,
    rounds,
    schema_requests,
    seed,
)
from hypothesis import given
from hypothesis import strategies as st
from IPython.core.interactiveshell import InteractiveShell
from test_magics import session, shell_fixture  # noqa: F401  (the `shell` fixture)
from test_serve import auth, start

from chatkit_notebook.runtime import Runtime
from chatkit_notebook.stores.file import NotebookStore

pytestmark = pytest.mark.fuzz


def _fuzz(world: World, runtime: Runtime, requests: st.SearchStrategy[bytes], ci: int) -> int:
    """Send what ``requests`` draws through ``server.process``; how many were sent."""
    sent = 0

    @fuzz_settings(ci)
    @given(st.data())
    def one(data: st.DataObject) -> None:
        nonlocal sent
        request = data.draw(requests)
        runtime.run(answer_in_time(world, request)).check(request)
        sent += 1

    for _ in rounds():
        one()
    print(f"fuzz: {sent} requests sent")  # the long run's count (pytest -rP shows it)
    return sent


def _afterwards(store_path: Path, world: World, runtime: Runtime) -> None:
    """The store file reopened from disk keeps the contract; a normal turn still works."""
    reopened = NotebookStore(store_path)
    assert runtime.run(check_store(reopened)) > 0
    runtime.run(a_normal_turn_works(world.server, world))


def test_schema_requests_in_the_kernel(store_path: Path, runtime: Runtime) -> None:
    world = make_world(NotebookStore(store_path))
    runtime.run(seed(world))
    assert _fuzz(world, runtime, schema_requests(), ci=150) >= 150
    _afterwards(store_path, world, runtime)


def test_mutated_requests_in_the_kernel(store_path: Path, runtime: Runtime) -> None:
    world = make_world(NotebookStore(store_path))
    runtime.run(seed(world))
    assert _fuzz(world, runtime, mutated(), ci=250) >= 250
    _afterwards(store_path, world, runtime)


def test_over_http(shell: InteractiveShell, tmp_path: Path) -> None:
    """A subset over real HTTP to ``%chatkit serve``: the same properties, as statuses."""
    chat = session()
    world = make_world(chat.store())
    chat.server().model = world.model
    world.server = chat.server()
    chat.runtime.run(seed(world))
    serving, _ = start(shell)
    requests = st.one_of(schema_requests(), mutated())

    sent = 0

    @fuzz_settings(60)
    @given(st.data())
    def one(data: st.DataObject) -> None:
        nonlocal sent
        sent += 1
        request = data.draw(requests)
        chat.runtime.run(world.keep_seeded())
        world.top_up()
        request = resolve(request, world)
        try:
            reply = httpx.post(serving.url, content=request, headers=auth(serving), timeout=LIMIT)
        except httpx.TimeoutException:
            pytest.fail(f"no answer in {LIMIT:g} s (a hang) for {request[:300]!r}")
        assert reply.status_code < 500, f"{reply.status_code} {reply.text[:500]} {request[:300]!r}"
        assert FAILED not in reply.text, f"{reply.text[:500]} for {request[:300]!r}"
        if reply.status_code >= 400:
            assert list(reply.json()) == ["detail"]  # one line, never a traceback
            assert "\n" not in reply.json()["detail"]

    for _ in rounds():
        one()
    print(f"fuzz: {sent} requests sent over HTTP")
    assert sent >= 60
    store_path = tmp_path / "nb.chatkit.json"
    _afterwards(store_path, world, chat.runtime)
