"""The offline model of ``error_help.ipynb``: every turn streams ``ANSWER``, word by word.

``ANSWER`` says why ``sales["regoin"]`` failed and ends with the fixed cell in a Python
block, so the page offers "Use this fix" and its diff. The test process imports this module
as ``browser.error_chat``; the kernel, which has ``$CHATKIT_TESTS_DIR/browser`` on its path,
as ``error_chat``.
"""

from __future__ import annotations

import re
from typing import Any

FAILING = 'sales["regoin"].sum()'
FIXED = 'sales["region"].value_counts()'
ANSWER = (
    "The table has no column `regoin`: its columns are `region`, `units` and `revenue`, "
    "so pandas raised a **KeyError**. The name is misspelled; this counts the rows per "
    "region:\n"
    "\n"
    "```python\n"
    f"{FIXED}\n"
    "```\n"
    "\n"
    "Run it once the spelling is right."
)
ANSWER_END = "once the spelling is right."  # the last words, as the page shows them
TURNS = 4
DELTA_DELAY = 0.05  # seconds between two deltas: the answer streams for about 2.5 s


def scripted_model(delay: float = DELTA_DELAY) -> Any:
    """A model whose every answer is ``ANSWER``, one word per delta, ``delay`` s apart."""
    from agents.testing import ScriptedModel
    from scripted import slowed, streamed_text  # tests/scripted.py

    words = re.findall(r"\s*\S+", ANSWER)
    return ScriptedModel([slowed(streamed_text(words), delay) for _ in range(TURNS)])
