"""The turn's model rule (``agent/plan.py``), over every combination that matters.

A request's model name by the server's model (none, a name, an object) by an agent passed to
the server (none, with or without its own model) by a broken configuration.
"""

from __future__ import annotations

from typing import Any

import pytest
from agents import Agent
from agents.testing import ScriptedModel
from chatkit.types import InferenceOptions

from chatkit_notebook import configure
from chatkit_notebook.agent.plan import choose_model, plan_turn
from chatkit_notebook.errors import ConfigError

OBJECT = ScriptedModel([])
NAMED = ScriptedModel([])  # the server's models={"fast": NAMED}
OWN = ScriptedModel([])  # the passed agent's own model


def agent_with(model: Any) -> Agent[Any]:
    return Agent(name="mine", model=model)


# request, server model, agent: None / "bare" / "own", -> source, label, the agent's model
CASES = [
    (None, None, None, "configured", "gpt-cfg", "built:gpt-cfg"),
    (None, "gpt-x", None, "configured", "gpt-x", "built:gpt-x"),
    (None, OBJECT, None, "object", "ScriptedModel", OBJECT),
    ("fast", None, None, "named", "fast", NAMED),
    ("other", None, None, "named", "other", "built:other"),
    ("fast", OBJECT, None, "named", "fast", NAMED),
    (None, OBJECT, "bare", "object", "ScriptedModel", OBJECT),
    (None, OBJECT, "own", "object", "ScriptedModel", OWN),  # the agent keeps its own
    (None, None, "own", "configured", "gpt-cfg", OWN),
    ("fast", OBJECT, "own", "named", "fast", NAMED),  # a request's name wins over it
]


@pytest.fixture
def built(monkeypatch: pytest.MonkeyPatch) -> None:
    """Models built from the configuration are marked strings: nothing reaches a provider."""
    from chatkit_notebook.config import ModelConfig

    def build(self: ModelConfig, name: str | None = None) -> Any:
        return f"built:{name or self.model_name}"

    monkeypatch.setattr(ModelConfig, "build_model", build)
    configure(model="gpt-cfg")


@pytest.mark.parametrize(
    ("request_model", "server_model", "agent", "source", "label", "runs"), CASES
)
@pytest.mark.usefixtures("built")
def test_the_plan_follows_the_model_rule(
    request_model: str | None,
    server_model: Any,
    agent: str | None,
    source: str,
    label: str,
    runs: Any,
) -> None:
    given = {None: None, "bare": agent_with(None), "own": agent_with(OWN)}[agent]
    options = InferenceOptions(model=request_model)
    plan = plan_turn(server_model, given, {"fast": NAMED}, options)
    assert (plan.source, plan.label) == (source, label)
    assert plan.agent.model is runs or plan.agent.model == runs
    if given is not None:
        assert plan.agent.name == "mine"
        assert (plan.agent is given) == (given.model is runs)  # cloned only to change its model
    assert choose_model(server_model, request_model).source == source


def test_a_broken_configuration_stops_only_turns_that_need_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from chatkit_notebook import config as C

    def broken(*args: object) -> Any:
        raise ConfigError("CHATKIT_NOTEBOOK_MODEL is broken")

    monkeypatch.setattr(C, "current_config", broken)
    monkeypatch.setattr("chatkit_notebook.agent.plan.current_config", broken)
    with pytest.raises(ConfigError, match="broken"):
        plan_turn(None, None, {})
    with pytest.raises(ConfigError, match="broken"):
        plan_turn("gpt-x", None, {})
    plan = plan_turn(OBJECT, None, {})  # a model object needs no configuration
    assert (plan.source, plan.agent.model) == ("object", OBJECT)
    plan = plan_turn(OBJECT, None, {"fast": NAMED}, InferenceOptions(model="fast"))
    assert (plan.source, plan.agent.model) == ("named", NAMED)


def test_the_server_reads_the_plan_for_its_status_line() -> None:
    from chatkit_notebook.agent.server import NotebookChatServer
    from chatkit_notebook.stores.file import NotebookStore

    server = NotebookChatServer(NotebookStore("unused.chatkit.json"), model=OBJECT)
    assert server.describe_model() == "ScriptedModel"
    assert server.model_problem() is None
    configure(model="gpt-cfg", api_key="sk-test", base_url="http://127.0.0.1:1/v1")
    named = NotebookChatServer(NotebookStore("unused.chatkit.json"), model="gpt-x")
    assert named.describe_model().startswith("gpt-x")
    assert named.config().model_name == "gpt-x"
