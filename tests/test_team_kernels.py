"""A team on one PostgreSQL store, as on JupyterHub: real kernels of two users.

Each kernel is an ipykernel of its own (``jupyter_client``), set up the way JupyterHub's
spawner sets up a user's server: ``CHATKIT_NOTEBOOK_STORE`` names the team's database,
``JUPYTERHUB_USER`` the user, ``JPY_SESSION_NAME`` the notebook (both users open
``team/sales.ipynb`` under their own home, so both get the notebook key
``team/sales.ipynb``). The model is a ``ScriptedModel`` assigned inside each kernel.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from postgres import pg_dsn_fixture, postgres_fixture  # noqa: F401
from test_run_python_kernel import Kernel

pytestmark = pytest.mark.slow

NOTEBOOK = "team/sales.ipynb"
StartKernel = Callable[..., Kernel]


@pytest.fixture
def start_kernel(tmp_path: Path, pg_dsn: str) -> Iterator[StartKernel]:
    """``start_kernel(user, **environment)``: a kernel of ``user`` on the team's database."""
    started: list[Kernel] = []

    def start(user: str, **environ: str) -> Kernel:
        home = tmp_path / user
        (home / "team").mkdir(parents=True, exist_ok=True)
        kernel = Kernel(
            pg_dsn,
            HOME=str(home),
            JUPYTERHUB_USER=user,
            JPY_SESSION_NAME=str(home / NOTEBOOK),
            **environ,
        )
        started.append(kernel)
        return kernel

    yield start
    for kernel in started:
        kernel.close()


def answer_with(kernel: Kernel, *answers: str) -> None:
    steps = ", ".join(f"[assistant_message({text!r})]" for text in answers)
    kernel.load(f"[{steps}]")


def thread_ids(output: str) -> list[str]:
    return re.findall(r"`(thr_[0-9a-f]+)`", output)


def test_each_user_keeps_their_own_threads_and_a_shared_notebook_shares_them(
    start_kernel: StartKernel, pg_dsn: str, tmp_path: Path
) -> None:
    secret = pg_dsn.split("://", 1)[1].split("@", 1)[0].split(":", 1)[1]
    alice = start_kernel("alice")
    answer_with(alice, "North sold most.", "Still North.")
    said = alice.run("%chatkit store")
    assert f"notebook key '{NOTEBOOK}', yours only" in said
    assert "set by CHATKIT_NOTEBOOK_STORE" in said
    assert secret not in said
    asked = alice.run("%chat Which region sold most?")
    assert "North sold most." in asked
    assert secret not in asked
    (alices,) = thread_ids(alice.run("%chatkit threads"))

    # Bob, on the same notebook: none of Alice's threads, not even by id.
    bob = start_kernel("bob")
    answer_with(bob, "Bob's answer.")
    assert "No threads yet" in bob.run("%chatkit threads")
    assert f"chatkit: no thread '{alices}'" in bob.run(f"%chatkit use {alices}")

    # Shared: Bob sees Alice's thread and adds to it; Alice sees his turn in her thread.
    bob.run("%chatkit store --shared")
    assert thread_ids(bob.run("%chatkit threads")) == [alices]
    bob.run(f"%chatkit use {alices}")
    assert "Bob's answer." in bob.run("%chat What about the west?")
    alice.run(f"%chatkit export {tmp_path / 'shared.md'}")
    exported = (tmp_path / "shared.md").read_text(encoding="utf-8")
    assert "**You:** What about the west?" in exported
    assert "Bob's answer." in exported

    # Alice's kernel restarts: the new one continues the same thread from the database.
    alice.close()
    alice = start_kernel("alice")
    answer_with(alice, "Still North.")
    alice.run("%chat And now?")
    (still,) = thread_ids(alice.run("%chatkit threads"))
    assert still == alices
