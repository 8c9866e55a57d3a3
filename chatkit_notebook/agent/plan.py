"""The turn's model rule, decided once: which agent runs, on which model, named how.

A server is given a model name, a model object or nothing (the configured default), and
maybe an agent of its own; a request may name a model (``inference_options.model``).
:func:`choose_model` decides, without building anything, where the turn's model comes from
(:data:`Source`) and the configuration it reads; :func:`plan_turn` then builds the agent and
its run settings. The server's status line (``describe_model``), its warning
(``model_problem``) and every turn read these two, so the rule is written once:

* a request's model name wins, looked up in the server's ``models``, else built from the
  configuration (``named``);
* else a model object given to the server (``object``): the configuration does not matter,
  so a broken one is no error;
* else the configured model, or the server's model name over it (``configured``).

An agent passed to the server keeps its own model unless a request names one; without
one, it gets the turn's model.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Literal

from agents import Agent, Model, ModelSettings, RunConfig, Tool
from chatkit.agents import AgentContext
from chatkit.types import InferenceOptions

from ..config import ModelConfig, current_config, notebook_tools_enabled, run_settings
from ..context import NotebookContext
from ..errors import ConfigError
from .cell_tools import CELL_INSTRUCTIONS, CELL_TOOLS
from .run_python import RUN_INSTRUCTIONS, run_python
from .tools import NOTEBOOK_TOOLS, TOOL_INSTRUCTIONS

__all__ = ["INSTRUCTIONS", "ModelChoice", "Source", "TurnPlan", "choose_model", "plan_turn"]

Source = Literal["configured", "named", "object"]
"""Where a turn's model comes from: the configuration, a request's name, a model object."""

NotebookAgent = Agent[AgentContext[NotebookContext]]

INSTRUCTIONS = """\
You are a data assistant inside a Jupyter notebook. You help the user understand and analyse \
the data in their notebook's live Python variables.

- Use the tools to look at variables before answering questions about them; never guess \
their contents, shapes or values. Start with list_variables when you do not know the names.
- The tools are read-only and show bounded previews. Say when an answer rests on a preview \
or a sample rather than the whole data.
- Answer in concise GitHub-flavoured Markdown. When code helps, give a short Python snippet \
the user can run in a cell; use the variable names you saw.
"""


@dataclass(frozen=True)
class ModelChoice:
    """Where the turn's model comes from, and the configuration in force."""

    source: Source
    config: ModelConfig
    label: str  # the model's name for people: "gpt-4.1-mini", "ScriptedModel"


@dataclass(frozen=True)
class TurnPlan:
    """How one turn runs (and, paused for approval, resumes)."""

    agent: NotebookAgent
    run_config: RunConfig
    config: ModelConfig
    label: str
    source: Source


def choose_model(server_model: str | Model | None, requested: str | None = None) -> ModelChoice:
    """Decide where the turn's model comes from; builds nothing.

    Raises:
        ConfigError: the configuration is broken and the turn needs it.
    """
    is_object = server_model is not None and not isinstance(server_model, str)
    source: Source = "named" if requested else "object" if is_object else "configured"
    try:
        config = current_config()
    except ConfigError:
        if not is_object:
            raise
        config = ModelConfig()  # a model object was given: the settings don't matter
    if isinstance(server_model, str):
        config = replace(config, model=server_model)
    if requested:
        label = requested
    elif is_object:
        label = type(server_model).__name__
    else:
        label = config.model_name
    return ModelChoice(source, config, label)


def plan_turn(
    server_model: str | Model | None,
    agent: NotebookAgent | None,
    models: Mapping[str, Model],
    options: InferenceOptions | None = None,
) -> TurnPlan:
    """The agent, run settings and model name for a turn with these request ``options``.

    Raises:
        ConfigError: the configuration is broken and the turn needs it.
    """
    requested = options.model if options is not None else None
    choice = choose_model(server_model, requested)
    config = choice.config
    model: str | Model
    if requested:  # choice.source == "named"
        model = models.get(requested) or config.build_model(requested)
    elif server_model is not None and not isinstance(server_model, str):  # "object"
        model = server_model
    else:
        model = config.build_model()
    if agent is not None:
        if choice.source == "named" or agent.model is None:
            agent = agent.clone(model=model)
    else:
        agent = _notebook_agent(model)
    # Ask every endpoint for usage (the SDK asks only api.openai.com unprompted): the
    # receipt's tokens. Servers that ignore it leave the receipt saying "n/a".
    settings = ModelSettings(include_usage=True)
    if options is not None and options.tool_choice is not None:
        settings = ModelSettings(include_usage=True, tool_choice=options.tool_choice.id)
    run_config = RunConfig(
        model_settings=settings,
        tracing_disabled=not config.tracing,
        trace_include_sensitive_data=False,
        workflow_name="chatkit-notebook turn",
    )
    return TurnPlan(agent, run_config, config, choice.label, choice.source)


def _notebook_agent(model: str | Model) -> NotebookAgent:
    """The built-in agent: the read tools, the notebook's cells unless they are turned
    off, and ``run_python`` unless it is turned off."""
    tools: list[Tool] = list(NOTEBOOK_TOOLS)
    instructions = INSTRUCTIONS + "\n" + TOOL_INSTRUCTIONS
    if notebook_tools_enabled():
        tools += CELL_TOOLS
        instructions += "\n\n" + CELL_INSTRUCTIONS
    if run_settings().mode != "off":
        tools.append(run_python)
        instructions += "\n\n" + RUN_INSTRUCTIONS
    return NotebookAgent(
        name="Notebook assistant", instructions=instructions, tools=tools, model=model
    )
