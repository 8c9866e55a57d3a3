"""Merge text deltas that are already waiting, so a fast model costs fewer events.

chatkit turns each model event into ChatKit events at a cost of tens of microseconds (a
task per event, pydantic comparisons, JSON), and every delta is one more widget update
for the panel. When the model produces faster than the chat consumes, the deltas waiting
in line are merged into one; when they arrive one at a time, as over a network, each goes
through at once. So a slow consumer never falls behind, and a fast one sees no delay.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from agents import RunResultStreaming
    from agents.stream_events import StreamEvent

__all__ = ["CoalescedResult"]

_END = object()


class CoalescedResult:
    """A ``RunResultStreaming`` whose ``stream_events()`` merges waiting text deltas.

    Everything else is the wrapped result's (``cancel()``, ``is_complete``, ...).
    """

    def __init__(self, result: RunResultStreaming) -> None:
        self._result = result

    def __getattr__(self, name: str) -> Any:
        return getattr(self._result, name)

    async def stream_events(self) -> AsyncIterator[StreamEvent]:
        """The run's events, with runs of ready text deltas merged."""
        ready: deque[Any] = deque()
        wake = asyncio.Event()

        async def pump() -> None:
            try:
                async for event in self._result.stream_events():
                    ready.append(event)
                    wake.set()
            except BaseException as error:  # handed to the consumer, which re-raises it
                ready.append(error)
            finally:
                ready.append(_END)
                wake.set()

        task = asyncio.ensure_future(pump())
        try:
            while True:
                if not ready:
                    wake.clear()
                    await wake.wait()
                event = ready.popleft()
                if event is _END:
                    return
                if isinstance(event, BaseException):
                    raise event
                if ready and _is_text_delta(event):
                    event = _merge_ready(event, ready)
                yield event
        finally:
            if not task.done():
                task.cancel()


def _is_text_delta(event: Any) -> bool:
    return bool(
        event.type == "raw_response_event" and event.data.type == "response.output_text.delta"
    )


def _merge_ready(first: Any, ready: deque[Any]) -> Any:
    """Merge ``first`` with the text deltas of the same part waiting right behind it."""
    data = first.data
    parts = [data.delta]
    while ready and _is_text_delta(ready[0]):
        following = ready[0].data
        same_part = (following.item_id, following.output_index, following.content_index) == (
            data.item_id,
            data.output_index,
            data.content_index,
        )
        if not same_part:
            break
        parts.append(following.delta)
        ready.popleft()
    if len(parts) == 1:
        return first
    merged = data.model_copy(update={"delta": "".join(parts)})
    return type(first)(data=merged)
