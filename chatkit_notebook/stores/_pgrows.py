"""How :class:`~chatkit_notebook.stores.postgres.PostgresStore` turns ChatKit models into rows and
back: JSON text a ``jsonb`` column accepts (which cannot hold U+0000), payloads a newer
version wrote skipped with a warning, and pages cut from ``limit + 1`` rows.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

from chatkit.types import Page
from psycopg.rows import TupleRow
from pydantic import TypeAdapter, ValidationError
from pydantic_core import PydanticSerializationError

from ._pgsql import Direction

__all__ = ["check_page", "dump", "instant", "load", "page"]

logger = logging.getLogger("chatkit_notebook")
_R = TypeVar("_R")

# jsonb cannot hold U+0000. Payloads that contain it are stored with NUL as U+E000 "0" and
# U+E000 itself as U+E000 "1" (a private-use character, rare in real text), so a payload
# holds U+E000 exactly when it was escaped, and reads back exactly.
_ESCAPE = "\ue000"
_ESCAPED = re.compile("\ue000([01])")
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def dump(adapter: TypeAdapter[Any], value: Any) -> str:
    """``value`` as JSON text that a jsonb column accepts (see ``_ESCAPE``).

    Lone surrogates (a Python ``str`` can hold them; Unicode text cannot) become U+FFFD,
    as in ``NotebookStore``'s file.
    """
    try:
        text = adapter.dump_json(value).decode()
    except PydanticSerializationError:  # a lone surrogate
        text = None
    if text is not None and "\\u0000" not in text and _ESCAPE not in text:
        return text
    data = _map_strings(adapter.dump_python(value, mode="json"), _escape)
    return json.dumps(data, ensure_ascii=False, allow_nan=False)


def load(adapter: TypeAdapter[_R], text: str) -> _R | None:
    """Validate a stored payload, or skip it with a warning if this version cannot read it."""
    try:
        if _ESCAPE in text:
            return adapter.validate_python(_map_strings(json.loads(text), _unescape))
        return adapter.validate_json(text)
    except ValidationError as e:
        logger.warning(
            "Skipping a row of the PostgreSQL thread store that this chatkit-notebook "
            "cannot read (from a newer version?): %s",
            e.errors(include_url=False)[:1],
        )
        return None


def _escape(text: str) -> str:
    text = text.replace(_ESCAPE, _ESCAPE + "1").replace("\x00", _ESCAPE + "0")
    return _LONE_SURROGATE.sub("\ufffd", text)


def _unescape(text: str) -> str:
    return _ESCAPED.sub(lambda match: "\x00" if match[1] == "0" else _ESCAPE, text)


def _map_strings(value: Any, convert: Callable[[str], str]) -> Any:
    """``value`` (parsed JSON) with ``convert`` applied to every string and key."""
    if isinstance(value, str):
        return convert(value)
    if isinstance(value, list):
        return [_map_strings(part, convert) for part in value]
    if isinstance(value, dict):
        return {convert(key): _map_strings(part, convert) for key, part in value.items()}
    return value


def instant(moment: datetime) -> datetime:
    """The instant a ``created_at`` sorts by: naive timestamps are local time, as ChatKit
    makes them with ``datetime.now()`` (the same rule as ``NotebookStore``)."""
    return moment if moment.tzinfo is not None else moment.astimezone()


def check_page(limit: int, order: str) -> Direction:
    if limit < 0:
        raise ValueError(f"limit must be 0 or more, not {limit!r}")
    if order == "asc":
        return "asc"
    if order == "desc":
        return "desc"
    raise ValueError(f"order must be 'asc' or 'desc', not {order!r}")


def page(adapter: TypeAdapter[_R], rows: list[TupleRow], limit: int, after: str | None) -> Page[_R]:
    """A ChatKit page from ``limit + 1`` rows of (id, payload)."""
    has_more = len(rows) > limit
    rows = rows[:limit]
    next_after = (rows[-1][0] if rows else after) if has_more else None
    loaded = (load(adapter, row[1]) for row in rows)
    return Page(
        data=[row for row in loaded if row is not None], has_more=has_more, after=next_after
    )
