"""One visibility rule (``previews/namespace.py``) for the tools, the sandbox and the offers."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from IPython.core.interactiveshell import InteractiveShell

from chatkit_notebook import NotebookContext
from chatkit_notebook.agent import tools as T
from chatkit_notebook.agent.sandbox import sandbox_namespace
from chatkit_notebook.previews.namespace import lookup, offered_variables, visible


class Startup:
    """A value IPython's start-up put in the namespace."""


@pytest.fixture
def shell() -> Iterator[InteractiveShell]:
    ip = InteractiveShell.instance()
    startup = Startup()
    ip.user_ns_hidden["started"] = startup
    ip.user_ns["started"] = startup
    ip.user_ns_hidden["rebound"] = startup
    ip.user_ns["rebound"] = [1, 2]  # the user bound it again: theirs now
    yield ip
    for name in ("started", "rebound"):
        ip.user_ns_hidden.pop(name, None)
        ip.user_ns.pop(name, None)


def test_the_tools_the_sandbox_and_the_offers_see_the_same_names(shell: InteractiveShell) -> None:
    namespace = {
        "df": [1, 2, 3],
        "_private": 1,
        "In": [],
        "secret_name_hidden": 2,
        "started": shell.user_ns["started"],
        "rebound": shell.user_ns["rebound"],
    }
    nb = NotebookContext(namespace=namespace, hidden={"secret_name_hidden"})
    seen = set(visible(nb.namespace, nb.hidden))
    assert seen == {"df", "rebound"}
    sandbox = sandbox_namespace(nb.namespace, nb.hidden, {})
    assert {name for name in sandbox if not name.startswith("__")} == seen
    listed = T._compute_list(nb, include_callables=True).result
    assert '"df"' in listed
    assert '"rebound"' in listed
    assert '"started"' not in listed
    assert {name for name, _ in offered_variables(nb)} == seen
    assert lookup(nb, "started") == (False, None)
    assert lookup(nb, "df") == (True, namespace["df"])
    assert T.offered_variables is offered_variables  # the kernel wires the @ offers to it
