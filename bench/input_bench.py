"""Benchmark the model input per turn of a thread that re-reads one wide frame, before and after.

Run ``python bench/input_bench.py`` from anywhere (``--quick`` for 12 turns, the smoke
test's size; ``--turns N``; ``--out PATH`` for the Markdown, default
``bench/INPUT_RESULTS.md``; ``--json PATH`` keeps every turn's numbers).

The scenario: a notebook holds ``sales``, a 1,000-row frame of 61 columns; each turn asks
about another month, and the model (``agents.testing.ScriptedModel``) first calls
``describe_variable('sales')``, then answers. Two servers run it side by side in one run,
through the real ``NotebookChatServer`` and a ``NotebookStore`` file:

- **before**: ``bound_input=False``, the history sent as kept: every turn in the 40-item
  window carries its own copy of the preview;
- **after**: the default, :mod:`chatkit_notebook.agent.model_input`: an unchanged result
  sent once, older large ones trimmed.

A model call's input is counted as the receipt counts it: the instructions plus the JSON
of every input item, in characters. Each turn makes two calls (the tool call, then the
answer); the table gives the larger and the turn's sum. Target: the larger call at the
last turn at most 25,000 characters, with the latest preview still sent whole.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from _common import BENCH_DIR, machine, machine_line, markdown_table
from agents.testing import ScriptedModel, assistant_message, function_call
from scripted import ChatClient

from chatkit_notebook import NotebookContext, NotebookStore
from chatkit_notebook.agent.server import NotebookChatServer
from chatkit_notebook.agent.tools import _compute_describe

TARGET = 25_000
SHOWN_TURNS = (1, 2, 3, 5, 10, 15, 20, 30, 40, 50, 60)


def sales_frame(rows: int = 1_000) -> pd.DataFrame:
    """61 columns: 58 measures, a region, a month and units."""
    rng = np.random.default_rng(0)
    columns: dict[str, Any] = {
        f"measure_{i:02d}": rng.normal(size=rows).round(3) for i in range(58)
    }
    columns.update(
        region=rng.choice(["north", "south", "east", "west"], rows),
        month=np.arange(rows) % 12 + 1,
        units=rng.integers(0, 100, rows),
    )
    return pd.DataFrame(columns)


def call_chars(call: Any) -> int:
    """A model call's input as the receipt counts it."""
    items = json.dumps(call.input, default=str, ensure_ascii=False)
    return len(call.system_instructions or "") + len(items)


async def run_thread(
    turns: int, *, bound: bool, namespace: dict[str, Any], tmp: Path
) -> ScriptedModel:
    steps = []
    for turn in range(turns):
        steps.append([function_call("describe_variable", {"name": "sales"}, call_id=f"c{turn}")])
        steps.append([assistant_message(f"In month {turn % 12 + 1}, north sold the most units.")])
    model = ScriptedModel(steps)
    store = NotebookStore(tmp / f"{'after' if bound else 'before'}.chatkit.json")
    client = ChatClient(
        NotebookChatServer(store, model=model, bound_input=bound),
        NotebookContext(namespace=namespace),
    )
    thread_id, _ = await client.create("Which region sold the most units in month 1?")
    for turn in range(1, turns):
        await client.send(thread_id, f"And in month {turn % 12 + 1}?")
    return model


def per_turn(model: ScriptedModel) -> list[tuple[int, int]]:
    """Each turn's (larger call, sum of its calls)."""
    sizes = [call_chars(call) for call in model.calls]
    return [(max(sizes[i], sizes[i + 1]), sizes[i] + sizes[i + 1]) for i in range(0, len(sizes), 2)]


def _yes(flag: bool) -> str:
    return "yes" if flag else "NO"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="12 turns")
    parser.add_argument("--turns", type=int, default=60)
    parser.add_argument("--out", type=Path, default=BENCH_DIR / "INPUT_RESULTS.md")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    turns = 12 if args.quick else args.turns

    namespace = {"sales": sales_frame()}
    preview = _compute_describe(NotebookContext(namespace=namespace), "sales").result
    with tempfile.TemporaryDirectory() as tmp:
        before = asyncio.run(run_thread(turns, bound=False, namespace=namespace, tmp=Path(tmp)))
        after = asyncio.run(run_thread(turns, bound=True, namespace=namespace, tmp=Path(tmp)))
    old, new = per_turn(before), per_turn(after)
    quoted = json.dumps(preview, ensure_ascii=False)[1:-1]  # as it sits in the input's JSON
    whole = [
        quoted in json.dumps(m.calls[-1].input, default=str, ensure_ascii=False)
        for m in (before, after)
    ]

    rows = []
    for turn in [t for t in SHOWN_TURNS if t <= turns] + (
        [turns] if turns not in SHOWN_TURNS else []
    ):
        (old_max, old_sum), (new_max, new_sum) = old[turn - 1], new[turn - 1]
        rows.append(
            [
                str(turn),
                f"{old_max:,}",
                f"{old_sum:,}",
                f"{new_max:,}",
                f"{new_sum:,}",
                f"{new_max / old_max:.2f}",
            ]
        )
    header = [
        "turn",
        "before: larger call",
        "before: turn (2 calls)",
        "after: larger call",
        "after: turn (2 calls)",
        "after / before",
    ]
    last = new[turns - 1][0]
    verdict = "ok" if last <= TARGET else "MISSED"
    m = machine(packages=("openai-agents", "openai-chatkit", "pandas"))
    versions = ", ".join(f"{k} {v}" for k, v in m["packages"].items())
    text = "\n\n".join(
        [
            f"{machine_line(m, extras=(versions,))} {datetime.now():%Y-%m-%d}.",
            f"A 1,000 x 61 frame re-read every turn for {turns} turns; `describe_variable` "
            f"gives {len(preview):,} characters. Characters of model input (instructions + "
            "input items' JSON), as the receipt counts them.",
            markdown_table(header, rows),
            f"Turn {turns}, larger call after: {last:,} characters (target <= {TARGET:,}: "
            f"{verdict}); before: {old[turns - 1][0]:,}. The latest preview sent whole in the "
            f"last call: before {_yes(whole[0])}, after {_yes(whole[1])}.",
        ]
    )
    args.out.write_text("# Model input per turn\n\n" + text + "\n")
    print(text)
    if args.json:
        data = {
            "machine": m,
            "turns": turns,
            "preview_chars": len(preview),
            "before": old,
            "after": new,
        }
        args.json.write_text(json.dumps(data, indent=1))


if __name__ == "__main__":
    main()
