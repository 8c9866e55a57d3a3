"""The offline model of ``panel_habits.ipynb``: every turn streams ``ANSWER``, word by word.

``ANSWER`` is Markdown with ``**bold**`` and a fenced Python block (``CODE``), so a test can
tell the answer's Markdown (what Copy must put on the clipboard) from its rendered text, and
a code block's own Copy from the answer's. The notebook sets ``scripted_model()`` as the
``%chat`` session's model in a cell that Run All re-runs, so a restarted kernel has it too.

The test process imports this module as ``browser.habits_chat``; the kernel, which has only
``$CHATKIT_TESTS_DIR/browser`` on its path, as ``habits_chat``.
"""

from __future__ import annotations

import re
from typing import Any

CODE = 'sales.groupby("region")["units"].sum().sort_values(ascending=False)'
ANSWER = (
    "**North** sold the most units, ahead of South and West.\n"
    "\n"
    "```python\n"
    f"{CODE}\n"
    "```\n"
    "\n"
    "The figures come from `sales` as it is now."
)
ANSWER_END = "as it is now."  # the last words, as the page shows them
TURNS = 12  # more than any test asks in one kernel: a scripted model raises when out of steps
DELTA_DELAY = 0.03  # seconds between two deltas: the answer streams for about half a second


def scripted_model(delay: float = DELTA_DELAY) -> Any:
    """A model whose every answer is ``ANSWER``, one word per delta, ``delay`` s apart."""
    from agents.testing import ScriptedModel
    from scripted import slowed, streamed_text  # tests/scripted.py

    words = re.findall(r"\s*\S+", ANSWER)
    return ScriptedModel([slowed(streamed_text(words), delay) for _ in range(TURNS)])
