"""The grammar of store targets: whether a choice names a database, and how to show one.

A leaf (it imports only ``errors``, and psycopg lazily), so ``config`` can check a choice and
``stores`` can open it without importing each other. :func:`masked` of a URL needs no
psycopg, so where threads are kept can be said even when the ``postgres`` extra is missing
(which is then the error to report).
"""

from __future__ import annotations

import contextlib
import re

from .errors import ConfigError

__all__ = ["is_database_url", "masked", "needs_psycopg"]

_CONNINFO = re.compile(r"^\s*(host|hostaddr|dbname|user|port|service|passfile)\s*=")
# `password = value` in a key=value string: a quoted value (with backslash escapes) or a word.
_PASSWORD_VALUE = re.compile(r"(?<![\w])password\s*=\s*('(?:[^'\\]|\\.)*'|[^\s']\S*)")


def is_database_url(text: str) -> bool:
    """Whether a store choice is a PostgreSQL connection string rather than a file path.

    ``postgresql://...`` and ``postgres://...`` URLs count, and libpq's ``host=... dbname=...``
    form.
    """
    stripped = text.strip()
    return stripped.startswith(("postgresql://", "postgres://")) or bool(_CONNINFO.match(stripped))


def needs_psycopg(error: ImportError) -> ConfigError:
    """The error for a database store chosen without the ``postgres`` extra installed."""
    msg = (
        "Keeping threads in PostgreSQL needs psycopg: pip install "
        f"'chatkit-notebook[postgres]' (missing: {error.name})."
    )
    return ConfigError(msg)


def masked(dsn: str) -> str:
    """``dsn`` with its password replaced by ``***``, for status lines and messages.

    Works on ``postgresql://`` URLs (password in the user part or the query) and on
    ``key=value`` strings; a string that cannot be parsed is not shown at all.
    """
    if re.match(r"postgres(ql)?://", dsn):
        scheme, _, rest = dsn.partition("://")
        rest, question, query = rest.partition("?")
        netloc, slash, path = rest.partition("/")
        userinfo, at, hosts = netloc.rpartition("@")  # a password may hold an "@"
        if ":" in userinfo:
            userinfo = userinfo.partition(":")[0] + ":***"
        query = re.sub(r"(?<![^&])password=[^&]*", "password=***", query)
        return f"{scheme}://{userinfo}{at}{hosts}{slash}{path}{question}{query}"
    import psycopg
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    try:
        params = conninfo_to_dict(dsn)
    except psycopg.Error:
        return "<a connection string that cannot be parsed>"
    if "password" not in params:
        return dsn
    shown = _PASSWORD_VALUE.sub("password=***", dsn)
    with contextlib.suppress(psycopg.Error):
        if conninfo_to_dict(shown).get("password") == "***":
            return shown  # as written, only the password replaced
    params["password"] = "***"  # noqa: S105  (the mask, not a password)
    return make_conninfo("", **params)
