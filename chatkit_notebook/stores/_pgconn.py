"""Connection strings for people to read: :func:`masked` hides the password, and the
messages of a failed connection name the host, port and database, say why in libpq's or
the server's words (the password taken out), and what to do about it.

:func:`masked` of a URL needs no psycopg, so where threads are kept can be said even when
the ``postgres`` extra is missing (which is then the error to report).
"""

from __future__ import annotations

import contextlib
import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import psycopg

__all__ = ["advice", "describe_target", "masked", "reason"]

# `password = value` in a key=value string: a quoted value (with backslash escapes) or a word.
_PASSWORD_VALUE = re.compile(r"(?<![\w])password\s*=\s*('(?:[^'\\]|\\.)*'|[^\s']\S*)")


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


# What to do, by what libpq or the server said (checked in order).
_ADVICE = (
    (
        re.compile(r'database ".*" does not exist'),
        "Create the database (createdb NAME) or name an existing one in the connection string.",
    ),
    (
        re.compile(r'role ".*" does not exist'),
        "Use an existing PostgreSQL user, or ask the database administrator to create it.",
    ),
    (
        re.compile(r"pg_hba\.conf"),
        "Ask the database administrator to allow this host and user in pg_hba.conf.",
    ),
    (
        re.compile(r"password|SCRAM|authentication", re.IGNORECASE),
        "Check the user name and password (in the connection string, PGPASSWORD or ~/.pgpass).",
    ),
    (
        re.compile(r"refused|No such file|timeout|translate host|unreachable|No route", re.I),
        "Is PostgreSQL running there and accepting connections? Start it, or correct the "
        "host and port in the connection string.",
    ),
)
_DEFAULT_ADVICE = "Check that the server is running and that the connection string is right."


def advice(reason: str) -> str:
    return next((advice for pattern, advice in _ADVICE if pattern.search(reason)), _DEFAULT_ADVICE)


def describe_target(conninfo: str) -> str:
    """Host, port and database, as libpq resolves them (the environment included)."""
    from psycopg import pq
    from psycopg.conninfo import conninfo_to_dict

    given = conninfo_to_dict(conninfo)
    defaults = {
        option.keyword.decode(): option.val.decode()
        for option in pq.Conninfo.get_defaults()
        if option.val is not None
    }

    def value(key: str) -> str:
        return str(given.get(key) or defaults.get(key) or "")

    host = value("host") or "the local socket"
    port = value("port") or "5432"
    database = value("dbname") or value("user")
    return f"host {host}, port {port}, database {database}"


def reason(error: psycopg.Error, conninfo: str) -> str:
    """libpq's or the server's message, on one line and without the password."""
    from psycopg.conninfo import conninfo_to_dict

    text = str(error).strip()
    for prefix in ("connection failed: ", "connection is bad: "):
        text = text.removeprefix(prefix)
    text = " ".join(text.splitlines()[0].split()).rstrip(".") if text else type(error).__name__
    password = conninfo_to_dict(conninfo).get("password")
    if password:
        text = text.replace(str(password), "***")
    return text
