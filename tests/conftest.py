"""Shared fixtures. No test reaches the network: any connection off loopback fails."""

from __future__ import annotations

import ipaddress
import socket
from pathlib import Path
from typing import Any

import pytest
from fake_openai import fake_openai_fixture  # noqa: F401  (registers the `fake_openai` fixture)

from chatkit_notebook import NotebookContext


def _is_loopback(address: Any) -> bool:
    if isinstance(address, tuple) and address:
        host = address[0]
        if host == "localhost":
            return True
        try:
            return ipaddress.ip_address(host).is_loopback
        except ValueError:
            return False
    return True  # Unix sockets and the like stay on this machine


@pytest.fixture(autouse=True)
def _no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail any connection off 127.0.0.0/8 or ::1: tests never call a real model."""
    real_connect = socket.socket.connect

    def guarded_connect(self: socket.socket, address: Any) -> Any:
        if not _is_loopback(address):
            raise AssertionError(f"a test tried to reach the network at {address!r}")
        return real_connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", guarded_connect)


@pytest.fixture
def ctx() -> NotebookContext:
    """A context with an empty namespace and no notebook."""
    return NotebookContext()


@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    """Where a test's store file goes (not yet created)."""
    return tmp_path / "analysis.chatkit.json"
