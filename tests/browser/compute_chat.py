"""The offline model of ``run_python.ipynb``: each question gets a ``run_python`` call, then
an answer.

The steps alternate: a ``run_python`` call (a new call id each time: ``call_rain_1``,
``call_rain_2``...) whose code, ``PLOT_CODE``, draws a matplotlib bar plot of the
notebook's ``rain`` DataFrame and prints ``total 640``; then, once the call is answered,
``ANSWER`` if the code ran or ``DECLINED_ANSWER`` if the user said Don't run. Which of the
two a model call gets is read from the call (does its input end with the call's output?),
not from a fixed queue: Run All leaves the ``%chat Plot...`` cell's turn paused at its card
(the first call), and a test of the panel never clicks that card, so with a fixed queue
the panel's first question would get the answer meant for that cell.

The test process imports this module as ``browser.compute_chat``; the kernel, which has
``$CHATKIT_TESTS_DIR/browser`` on its path, as ``compute_chat``.
"""

from __future__ import annotations

import itertools
from typing import Any

PLOT_CODE = """\
import matplotlib.pyplot as plt

fig, ax = plt.subplots(figsize=(6, 3))
ax.bar(rain["month"], rain["mm"], color="#4c72b0")
ax.set_ylabel("rainfall (mm)")
ax.set_title("Rainfall by month")
print("total", rain["mm"].sum())"""
CODE_MARK = 'ax.bar(rain["month"], rain["mm"]'  # a line of PLOT_CODE, as the card shows it

ANSWER = (
    "The plot above shows the rainfall by month: **July** was the wettest, "
    "and the year's total is 640 mm."
)
ANSWER_SHOWN = ANSWER.replace("**", "")  # as the page shows it: July in bold
ANSWER_END = "the year's total is 640 mm."  # the last words, as the page shows them
DECLINED_ANSWER = "Fine, I did not run it. Ask me again if you want the plot after all."
DECLINED_END = "if you want the plot after all."
TURNS = 12  # more than any test asks in one kernel: a scripted model raises when out of steps


SLOW_QUESTION = "Take your time"  # a question with these words gets SLOW_CODE instead
SLOW_CODE = "import time\n\ntime.sleep(600)  # until Stop"


def _question(call: Any) -> str:
    """The newest user message the model was sent, as text."""
    items = call.input if isinstance(call.input, list) else []
    for item in reversed(items):
        if isinstance(item, dict) and item.get("role") == "user":
            content = item.get("content")
            if isinstance(content, str):
                return content
            return " ".join(str(part.get("text", "")) for part in content or [])
    return ""


def _call_output(call: Any) -> str | None:
    """The output of the ``run_python`` call the model gets back, if its newest input is
    one (else it is a question)."""
    items = call.input if isinstance(call.input, list) else []
    last = items[-1] if items else None
    if not isinstance(last, dict) or last.get("type") != "function_call_output":
        return None
    return str(last.get("output", ""))


def scripted_model() -> Any:
    """A model that answers every question with a ``run_python`` call, then ``ANSWER``."""
    from agents.testing import ModelStep, ScriptedModel, assistant_message, function_call

    call_ids = (f"call_rain_{n}" for n in itertools.count(1))

    def step(call: Any) -> Any:
        output = _call_output(call)
        if output is not None:
            declined = "did not run" in output  # the server's words for a declined call
            return [assistant_message(DECLINED_ANSWER if declined else ANSWER)]
        code = SLOW_CODE if SLOW_QUESTION in _question(call) else PLOT_CODE
        return [function_call("run_python", {"code": code}, call_id=next(call_ids))]

    return ScriptedModel([ModelStep.respond(step) for _ in range(2 * TURNS)])
