"""Connection strings for people to read: :func:`masked` hides the password, and the
messages of a failed connection name the host, port and database, say why in libpq's or
the server's words (the password taken out), and what to do about it.

:func:`masked` lives in ``_targets`` (configuration needs it too) and is re-exported here.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from .._targets import masked

if TYPE_CHECKING:
    import psycopg

__all__ = ["advice", "describe_target", "masked", "reason"]


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
