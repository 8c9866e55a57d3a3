"""Benchmark ``%chatkit serve``: a ChatKit answer over HTTP against the same answer in-process.

Run ``python bench/serve_bench.py`` from anywhere (``--quick`` for a few-second smoke run,
``--json PATH`` to also write the numbers). It loads the extension into an IPython shell, as
a notebook does, gives the session's ``NotebookChatServer`` an ``agents.testing``
``ScriptedModel`` and a tool-less agent (as ``bench/server_bench.py`` does), and serves it
with ``chatkit_notebook.serve()``: uvicorn on the package's loop thread, on 127.0.0.1. The
model is paced (one event-loop turn before each model event, as a model read from the
network), so the answer streams as deltas rather than arriving merged. In one run:

- **One answer of 5,000 text deltas**, ``threads.create`` to the last frame, each SSE frame
  parsed with chatkit's ``TypeAdapter(ThreadStreamEvent)`` (``_client.decode_event``):
  (a) ``server.process`` in-process, on the loop thread, as the panel's requests run;
  (b) over HTTP from a client in another process (httpx), as a browser or a script is;
  (c) over HTTP from a client in this process's main thread, sharing the kernel's GIL.
  The three take turns, after one warm-up each; medians. Target: (b)/(a) <= 1.5.
- **20 concurrent clients** (asyncio + httpx in the client process), each a new thread with
  an answer of 1,000 deltas: time to first byte (request sent -> first SSE frame) p50 and
  p95, and model deltas delivered per second over the whole batch; beside it, the same 20
  turns run concurrently in-process through ``server.process``.

Every answer's text is checked against the scripted one.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from _common import machine, machine_line, markdown_table
from server_bench import Answer, _ChatKitTally, make_answer

from chatkit_notebook._client import decode_event, message_request

TARGETS = {"http_ratio_max": 1.5}
PACKAGES = ("openai-chatkit", "openai-agents", "fastapi", "uvicorn", "starlette", "h11", "httpx")
# The client process gets the token in this variable, not on its command line.
TOKEN_ENV = "CHATKIT_SERVE_BENCH_TOKEN"  # noqa: S105 - a variable name, not a secret


@dataclass(frozen=True)
class Config:
    """Sizes for one run.

    Attributes:
        deltas: Text deltas in the single streamed answer.
        repeats: Timed runs of each single-answer path (after one warm-up each).
        clients: Concurrent clients in the concurrency measure.
        client_deltas: Text deltas in each concurrent client's answer.
        rounds: Timed rounds of the concurrency measure (after one warm-up round).
    """

    deltas: int
    repeats: int
    clients: int
    client_deltas: int
    rounds: int


FULL = Config(deltas=5_000, repeats=7, clients=20, client_deltas=1_000, rounds=3)
QUICK = Config(deltas=200, repeats=2, clients=4, client_deltas=50, rounds=1)


# -- the client (also run as a child process: --client URL) ------------------------------------


def _body(n: int = 0) -> bytes:
    return message_request(None, f"Question {n}").model_dump_json().encode()


def _result(tally: _ChatKitTally, **timing: float) -> dict[str, Any]:
    return {**timing, "frames": tally.frames, "deltas": tally.deltas, "text": tally.text}


def one_answer(client: Any, url: str, token: str) -> dict[str, Any]:
    """One ``threads.create`` over HTTP (httpx, synchronous), every frame parsed."""
    tally = _ChatKitTally()
    t0 = time.perf_counter()
    with client.stream(
        "POST", url, content=_body(), headers={"authorization": f"Bearer {token}"}
    ) as response:
        for line in response.iter_lines():
            if line:
                tally.see(decode_event(line.encode()))
    return _result(tally, seconds=time.perf_counter() - t0)


async def many_answers(url: str, token: str, clients: int) -> dict[str, Any]:
    """``clients`` concurrent ``threads.create`` streams; time to first frame for each."""
    import httpx

    limits = httpx.Limits(max_connections=clients)
    async with httpx.AsyncClient(timeout=300, limits=limits) as http:

        async def one(n: int) -> dict[str, Any]:
            tally = _ChatKitTally()
            first: float | None = None
            t0 = time.perf_counter()
            async with http.stream(
                "POST", url, content=_body(n), headers={"authorization": f"Bearer {token}"}
            ) as response:
                async for line in response.aiter_lines():
                    if not line:
                        continue
                    if first is None:
                        first = time.perf_counter()
                    tally.see(decode_event(line.encode()))
            ttfb = (first if first is not None else time.perf_counter()) - t0
            return _result(tally, ttfb=ttfb)

        t0 = time.perf_counter()
        results = await asyncio.gather(*(one(n) for n in range(clients)))
        wall = time.perf_counter() - t0
    return {"wall": wall, "clients": results}


def client_main(url: str) -> int:
    """The client process: one JSON line per command read from stdin (``one``, ``many N``)."""
    import httpx

    token = os.environ[TOKEN_ENV]
    with httpx.Client(timeout=300) as client:
        for command in sys.stdin:
            words = command.split()
            if words[0] == "one":
                result = one_answer(client, url, token)
            else:
                result = asyncio.run(many_answers(url, token, int(words[1])))
            print(json.dumps(result), flush=True)
    return 0


class _Child:
    """The client process, driven a command at a time."""

    def __init__(self, url: str, token: str) -> None:
        self._proc = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), "--client", url],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env={**os.environ, TOKEN_ENV: token},
        )

    def ask(self, command: str) -> dict[str, Any]:
        assert self._proc.stdin is not None
        assert self._proc.stdout is not None
        self._proc.stdin.write(command + "\n")
        self._proc.stdin.flush()
        line = self._proc.stdout.readline()
        if not line:
            raise RuntimeError(f"the client process ended (exit {self._proc.wait()})")
        result: dict[str, Any] = json.loads(line)
        return result

    def close(self) -> None:
        assert self._proc.stdin is not None
        self._proc.stdin.close()
        self._proc.wait(timeout=60)


# -- the server side ---------------------------------------------------------------------------


class _Bench:
    """The extension loaded in an IPython shell, its server scripted and served over HTTP."""

    def __init__(self, tmp: Path) -> None:
        os.environ["CHATKIT_NOTEBOOK_STORE"] = str(tmp / "serve.chatkit.json")
        from agents import Agent
        from agents.testing import ScriptedModel
        from IPython.core.interactiveshell import InteractiveShell

        import chatkit_notebook

        self.shell = InteractiveShell.instance()
        self.shell.run_line_magic("load_ext", "chatkit_notebook")
        session = chatkit_notebook.kernel.session.loaded()
        assert session is not None
        self.session = session
        self.model = ScriptedModel()
        session.server().model = self.model
        session.server().agent = Agent(name="bench")
        self.serving = chatkit_notebook.serve(port=0)

    def script(self, answer: Answer, times: int = 1) -> None:
        for _ in range(times):
            self.model.enqueue(answer.step())

    def in_process(self, answer: Answer, clients: int = 1) -> dict[str, Any]:
        """``clients`` concurrent ``threads.create`` turns through ``server.process``."""
        from chatkit.server import StreamingResult

        server, context = self.session.server(), self.session.context

        async def one(n: int) -> dict[str, Any]:
            tally = _ChatKitTally()
            t0 = time.perf_counter()
            result = await server.process(_body(n), context())
            assert isinstance(result, StreamingResult)
            async for frame in result:
                tally.see(decode_event(frame))
            return _result(tally, seconds=time.perf_counter() - t0)

        async def all_of() -> dict[str, Any]:
            t0 = time.perf_counter()
            results = await asyncio.gather(*(one(n) for n in range(clients)))
            return {"wall": time.perf_counter() - t0, "clients": results}

        self.script(answer, clients)
        return self.session.runtime.run(all_of())

    def close(self) -> None:
        self.shell.run_line_magic("unload_ext", "chatkit_notebook")


def _check(result: dict[str, Any], answer: Answer, path: str) -> None:
    if result["text"] != answer.text:
        msg = f"{path}: the answer had {len(result['text'])} characters, not {len(answer.text)}"
        raise RuntimeError(msg)


def _single(bench: _Bench, child: _Child, cfg: Config) -> dict[str, Any]:
    import httpx

    answer = replace(make_answer(cfg.deltas), paced=True)
    url, token = bench.serving.url, bench.serving.token
    with httpx.Client(timeout=300) as client:

        def run(path: str) -> dict[str, Any]:
            if path == "in_process":
                return bench.in_process(answer)["clients"][0]  # type: ignore[no-any-return]
            bench.script(answer)
            if path == "http_other_process":
                return child.ask("one")
            return one_answer(client, url, token)

        paths = ("in_process", "http_other_process", "http_same_process")
        for path in paths:  # warm-up
            run(path)
        runs: dict[str, list[dict[str, Any]]] = {path: [] for path in paths}
        for _ in range(cfg.repeats):  # take turns: noise hits every path alike
            for path in paths:
                result = run(path)
                _check(result, answer, path)
                runs[path].append(result)
    out: dict[str, Any] = {"deltas": cfg.deltas, "answer_chars": len(answer.text)}
    for path, results in runs.items():
        seconds = [r["seconds"] for r in results]
        out[path] = {
            "median_ms": statistics.median(seconds) * 1000.0,
            "min_ms": min(seconds) * 1000.0,
            "runs_ms": [s * 1000.0 for s in seconds],
            "frames_median": statistics.median(r["frames"] for r in results),
            "delta_events_median": statistics.median(r["deltas"] for r in results),
        }
    base = out["in_process"]["median_ms"]
    out["ratio_http_other_process"] = out["http_other_process"]["median_ms"] / base
    out["ratio_http_same_process"] = out["http_same_process"]["median_ms"] / base
    return out


def _percentile(values: list[float], p: float) -> float:
    """The ``p``-th percentile (nearest rank) of ``values``."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(p / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def _concurrent(bench: _Bench, child: _Child, cfg: Config) -> dict[str, Any]:
    answer = replace(make_answer(cfg.client_deltas), paced=True)
    total = cfg.clients * cfg.client_deltas

    def http_round() -> dict[str, Any]:
        bench.script(answer, cfg.clients)
        return child.ask(f"many {cfg.clients}")

    http_round()  # warm-up
    bench.in_process(answer, cfg.clients)
    http_rounds, local_rounds = [], []
    for _ in range(cfg.rounds):
        for results, run in (
            (http_rounds, http_round),
            (local_rounds, lambda: bench.in_process(answer, cfg.clients)),
        ):
            result = run()
            for one in result["clients"]:
                _check(one, answer, "concurrent")
            results.append(result)
    ttfb = [c["ttfb"] * 1000.0 for r in http_rounds for c in r["clients"]]
    http_wall = statistics.median(r["wall"] for r in http_rounds)
    local_wall = statistics.median(r["wall"] for r in local_rounds)
    return {
        "clients": cfg.clients,
        "deltas_each": cfg.client_deltas,
        "rounds": cfg.rounds,
        "ttfb_p50_ms": _percentile(ttfb, 50),
        "ttfb_p95_ms": _percentile(ttfb, 95),
        "ttfb_max_ms": max(ttfb),
        "http_wall_median_s": http_wall,
        "http_deltas_per_s": total / http_wall,
        "http_delta_events": statistics.median(
            sum(c["deltas"] for c in r["clients"]) for r in http_rounds
        ),
        "in_process_wall_median_s": local_wall,
        "in_process_deltas_per_s": total / local_wall,
    }


def run(cfg: Config, *, quick: bool) -> dict[str, Any]:
    """Run the benchmark in a temp dir; a JSON-able report."""
    with tempfile.TemporaryDirectory(prefix="chatkit-serve-bench-") as name:
        bench = _Bench(Path(name))
        child = _Child(bench.serving.url, bench.serving.token)
        try:
            single = _single(bench, child, cfg)
            concurrent = _concurrent(bench, child, cfg)
        finally:
            child.close()
            bench.close()
    return {
        "quick": quick,
        "machine": machine(packages=PACKAGES),
        "config": vars(cfg),
        "single": single,
        "concurrent": concurrent,
        "targets": TARGETS,
        "checks": {"http_ratio": single["ratio_http_other_process"] <= TARGETS["http_ratio_max"]},
    }


def render(report: dict[str, Any]) -> str:
    """The report as Markdown tables plus the machine, also fit for a terminal."""
    cfg, single, many = report["config"], report["single"], report["concurrent"]
    n = f"{cfg['deltas']:,}"
    labels = {
        "in_process": "(a) server.process in-process (loop thread) + SSE parse",
        "http_other_process": "(b) HTTP, client in another process + SSE parse",
        "http_same_process": "(c) HTTP, client in the kernel's process + SSE parse",
    }
    base = single["in_process"]["median_ms"]
    rows = [
        (
            label,
            f"{single[path]['median_ms']:.1f}",
            f"{single[path]['min_ms']:.1f}",
            f"{single[path]['median_ms'] / base:.2f}",
            f"{single[path]['frames_median']:,.0f}",
        )
        for path, label in labels.items()
    ]
    ok = "ok" if report["checks"]["http_ratio"] else "MISSED"
    many_rows = [
        ("time to first byte: p50 ms", f"{many['ttfb_p50_ms']:.1f}", ""),
        ("time to first byte: p95 ms", f"{many['ttfb_p95_ms']:.1f}", ""),
        (
            "all answers: median s",
            f"{many['http_wall_median_s']:.2f}",
            f"{many['in_process_wall_median_s']:.2f}",
        ),
        (
            "model deltas delivered per s",
            f"{many['http_deltas_per_s']:,.0f}",
            f"{many['in_process_deltas_per_s']:,.0f}",
        ),
    ]
    pk = report["machine"]["packages"]
    return "\n".join(
        [
            machine_line(report["machine"]),
            "Packages: " + ", ".join(f"{name} {version}" for name, version in pk.items()) + ".",
            f"Run: {'--quick' if report['quick'] else 'full size'}.",
            "",
            f"One answer of {n} paced text deltas ({single['answer_chars']:,} characters), "
            "threads.create to the last frame:",
            "",
            markdown_table(
                (
                    "path",
                    f"median ms of {cfg['repeats']}",
                    "min ms",
                    "ratio to (a)",
                    "SSE frames",
                ),
                rows,
            ),
            "",
            f"(b)/(a) = {single['ratio_http_other_process']:.2f}, target <= "
            f"{TARGETS['http_ratio_max']} ({ok}); (c)/(a) = "
            f"{single['ratio_http_same_process']:.2f}.",
            "",
            f"{many['clients']} concurrent clients, each a new thread with an answer of "
            f"{many['deltas_each']:,} paced deltas ({many['rounds']} rounds):",
            "",
            markdown_table(("measure", "HTTP", "in-process"), many_rows),
        ]
    )


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, run, print the tables, and write JSON if asked."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="tiny sizes, for a smoke test")
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write results here")
    parser.add_argument("--client", metavar="URL", help=argparse.SUPPRESS)  # the child process
    args = parser.parse_args(argv)
    if args.client:
        return client_main(args.client)
    report = run(QUICK if args.quick else FULL, quick=args.quick)
    print(render(report))
    if args.json is not None:
        args.json.write_text(json.dumps(report, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
