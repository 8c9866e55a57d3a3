"""A throwaway PostgreSQL server for tests, run as an unprivileged user.

Test modules import the fixtures they use (there is no conftest entry for them), as they do
with ``fake_openai``::

    from postgres import PostgresServer, pg_dsn_fixture, postgres_fixture  # noqa: F401

``postgres`` (session-wide) is one server for the whole test run: ``initdb`` into a fresh
temporary folder, listening on 127.0.0.1 on a free port (and a Unix socket in that folder),
password (SCRAM) authentication for TCP, ``fsync`` off (the tests kill processes, never the
machine). ``pg_dsn`` is a new, empty database for one test, dropped afterwards.

PostgreSQL refuses to run as root, and CI runs as root. Then the server runs as the
``postgres`` system user (Debian's package creates it), else ``nobody``, else a user this
module creates with ``useradd``: the data folder is handed to that user and every server
process starts with ``subprocess``'s ``user=``/``group=``. As any other user it runs as
that user. The binaries are found with ``pg_config --bindir`` or in
``/usr/lib/postgresql/*/bin``. Without them the tests are skipped, unless
``CHATKIT_REQUIRE_POSTGRES`` is set (as in CI), when they fail.

The postmaster is this process's own child (not ``pg_ctl``'s), so fault tests can stop it,
restart it, or ``kill -9`` it and all its backends (:meth:`PostgresServer.kill`), and its
exit is always reaped, whatever reaps orphans on the machine. A test run killed before it
could stop its server leaves it running; the next run stops it
(:func:`sweep_abandoned_servers`).
"""

from __future__ import annotations

import contextlib
import itertools
import os
import pwd
import re
import secrets
import select
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

__all__ = [
    "PostgresServer",
    "find_bindir",
    "free_port",
    "pg_dsn_fixture",
    "postgres_fixture",
    "sweep_abandoned_servers",
]

# Hang detectors, not pacing: a healthy server starts and stops in well under a second.
START_TIMEOUT = 60.0
STOP_TIMEOUT = 30.0
SUPERUSER = "postgres"
_READY = "database system is ready to accept connections"
_UNPRIVILEGED = ("postgres", "nobody")
_FOLDER_PREFIX = "chatkit-pg-"
_CREATED_USER = "chatkit-pg"


def find_bindir() -> Path | None:
    """The folder holding ``initdb`` and ``postgres``, or ``None``; the newest version first."""
    candidates: list[Path] = []
    pg_config = shutil.which("pg_config")
    if pg_config:
        found = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True)
        if found.returncode == 0:
            candidates.append(Path(found.stdout.strip()))

    def major(path: Path) -> int:
        version = path.parent.name
        return int(version) if version.isdigit() else 0

    candidates += sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=major, reverse=True)
    initdb = shutil.which("initdb")
    if initdb:
        candidates.append(Path(initdb).parent)
    for folder in candidates:
        if all((folder / name).is_file() for name in ("initdb", "postgres")):
            return folder
    return None


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on (bound, then closed)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _server_user() -> pwd.struct_passwd | None:
    """Who runs the server: ``None`` (this process's user) unless we are root."""
    if os.geteuid() != 0:
        return None
    for name in (*_UNPRIVILEGED, _CREATED_USER):
        with contextlib.suppress(KeyError):
            return pwd.getpwnam(name)
    subprocess.run(
        [
            shutil.which("useradd") or "/usr/sbin/useradd",
            "--system",
            "--no-create-home",
            "--shell",
            "/usr/sbin/nologin",
            _CREATED_USER,
        ],
        check=True,
        capture_output=True,
    )
    return pwd.getpwnam(_CREATED_USER)


def _children(pid: int) -> list[int]:
    """The live child processes of ``pid`` (read from /proc)."""
    children = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # pid (comm) state ppid ...: comm may hold spaces and parentheses.
        fields = stat[stat.rindex(")") + 2 :].split()
        if int(fields[1]) == pid and fields[0] != "Z":
            children.append(int(entry.name))
    return children


def _wait_exited(pids: list[int], timeout: float) -> None:
    """Wait until each process has exited (a zombie counts: it holds no memory or sockets)."""
    for pid in pids:
        try:
            fd = os.pidfd_open(pid)
        except ProcessLookupError:
            continue
        try:
            ready, _, _ = select.select([fd], [], [], timeout)
            if not ready:
                raise TimeoutError(f"process {pid} did not exit within {timeout} s")
        finally:
            os.close(fd)


class PostgresServer:
    """One PostgreSQL cluster in a temporary folder; see the module docstring.

    Attributes:
        host, port: Where it listens (TCP, SCRAM password authentication).
        password: The password of the superuser ``postgres``.
        socket_dir: The folder of its Unix socket (trust authentication).
    """

    def __init__(self, bindir: Path) -> None:
        self.bindir = bindir
        self.host = "127.0.0.1"
        self.port = free_port()
        self.password = "pw-" + secrets.token_urlsafe(12)
        self._user = _server_user()
        self._root = Path(tempfile.mkdtemp(prefix=_FOLDER_PREFIX))
        (self._root / "owner").write_text(str(os.getpid()))
        self.data_dir = self._root / "data"
        self.socket_dir = self._root / "socket"
        self.log_path = self._root / "server.log"
        self._proc: subprocess.Popen[bytes] | None = None
        self._log_copier = threading.Thread()
        self._names = itertools.count()
        self._init_cluster()

    def __repr__(self) -> str:
        return f"PostgresServer({self.host}:{self.port}, {self.data_dir})"

    # -- connection strings --------------------------------------------------------------

    def dsn(self, dbname: str = "postgres", *, password: str | None = None) -> str:
        """A ``postgresql://`` URL for the superuser over TCP (``password`` overrides)."""
        secret = self.password if password is None else password
        return f"postgresql://{SUPERUSER}:{secret}@{self.host}:{self.port}/{dbname}"

    # -- lifecycle -----------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def start(self) -> None:
        """Start the postmaster and return once it accepts connections."""
        assert not self.running, "the server is already running"
        if self._proc is not None:  # it exited by itself
            self._reaped(self._proc)
        with open(self.log_path, "ab") as log:
            self._proc = subprocess.Popen(
                [str(self.bindir / "postgres"), "-D", str(self.data_dir)],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.PIPE,
                **self._as_user(),
            )
        ready = threading.Event()
        self._log_copier = threading.Thread(
            target=self._copy_log, args=(self._proc, ready), daemon=True, name="postgres-log"
        )
        self._log_copier.start()
        if not ready.wait(START_TIMEOUT) or not self.running:
            self.kill()
            msg = f"PostgreSQL did not start; its log ({self.log_path}):\n{self.log_tail()}"
            raise RuntimeError(msg)

    def stop(self) -> None:
        """Fast shutdown: roll back open transactions, disconnect clients, checkpoint."""
        if self._proc is None:
            return
        if self._proc.poll() is None:
            self._proc.send_signal(signal.SIGINT)
            try:
                self._proc.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.kill()
                return
        self._reaped(self._proc)

    def restart(self) -> None:
        """Stop and start again: every client connection is dropped, the data kept."""
        self.stop()
        self.start()

    def kill(self) -> None:
        """``kill -9`` the postmaster and all its backends at once, as a crash would.

        Returns once every one of them has exited. Call :meth:`start` to recover (PostgreSQL
        replays its write-ahead log).
        """
        proc = self._proc
        if proc is None:
            return
        # Each backend is a session of its own, so the postmaster's process group is not
        # enough. Stopped, the postmaster forks no new backend while its children are listed.
        with contextlib.suppress(ProcessLookupError):
            os.kill(proc.pid, signal.SIGSTOP)
        backends = _children(proc.pid)
        for pid in (proc.pid, *backends):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        proc.wait(STOP_TIMEOUT)
        _wait_exited(backends, STOP_TIMEOUT)
        self._reaped(proc)

    def cleanup(self) -> None:
        """Stop the server and delete its folder."""
        self.stop()
        shutil.rmtree(self._root, ignore_errors=True)

    def log_tail(self, lines: int = 40) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])

    # -- databases -----------------------------------------------------------------------

    def execute(self, statement: str, params: Any = None, *, dsn: str | None = None) -> Any:
        """Run one statement (autocommit) on ``dsn``, by default as the superuser on the
        ``postgres`` database; return its rows, if it has any."""
        import psycopg

        with psycopg.connect(dsn or self.dsn(), autocommit=True) as conn:
            cursor = conn.execute(statement, params)  # type: ignore[call-overload]
            return cursor.fetchall() if cursor.description else None

    def create_database(self) -> str:
        """A new empty database; returns its name."""
        name = f"test_{os.getpid()}_{next(self._names)}"
        # FILE_COPY skips WAL-logging the template's pages: with fsync off it is fastest.
        self.execute(f"CREATE DATABASE {name} STRATEGY FILE_COPY")
        return name

    def drop_database(self, name: str) -> None:
        """Drop a database, disconnecting whoever is still on it."""
        if re.fullmatch(r"test_\d+_\d+", name) is None:
            raise ValueError(f"not a test database: {name!r}")
        self.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")

    # -- internals -----------------------------------------------------------------------

    def _as_user(self) -> dict[str, Any]:
        """``subprocess`` arguments that run a child as the server's user."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        env.update(HOME=str(self._root), LC_ALL="C.UTF-8")
        options: dict[str, Any] = {"env": env, "cwd": self._root}
        if self._user is not None:
            options.update(user=self._user.pw_uid, group=self._user.pw_gid, extra_groups=[])
        return options

    def _init_cluster(self) -> None:
        self.socket_dir.mkdir()
        password_file = self._root / "password"
        password_file.write_text(self.password + "\n")
        if self._user is not None:
            for path in (self._root, self.socket_dir, password_file):
                os.chown(path, self._user.pw_uid, self._user.pw_gid)
        initdb = subprocess.run(
            [
                str(self.bindir / "initdb"),
                "--pgdata",
                str(self.data_dir),
                "--username",
                SUPERUSER,
                "--pwfile",
                str(password_file),
                "--auth-local=trust",
                "--auth-host=scram-sha-256",
                "--encoding=UTF8",
                "--no-locale",
                "--no-sync",
            ],
            capture_output=True,
            text=True,
            **self._as_user(),
        )
        password_file.unlink()
        if initdb.returncode != 0:
            raise RuntimeError(f"initdb failed:\n{initdb.stdout}\n{initdb.stderr}")
        settings = {
            "listen_addresses": "'127.0.0.1'",
            "port": str(self.port),
            "unix_socket_directories": f"'{self.socket_dir}'",
            "fsync": "off",  # the tests kill processes, never the machine
            "full_page_writes": "off",
            "max_connections": "200",
            "log_min_messages": "warning",
            "log_checkpoints": "off",
        }
        with open(self.data_dir / "postgresql.conf", "a") as conf:
            conf.writelines(f"{key} = {value}\n" for key, value in settings.items())

    def _reaped(self, proc: subprocess.Popen[bytes]) -> None:
        """Forget a postmaster that has exited, once its log is copied."""
        self._log_copier.join(STOP_TIMEOUT)
        assert proc.stderr is not None
        proc.stderr.close()
        self._proc = None

    def _copy_log(self, proc: subprocess.Popen[bytes], ready: threading.Event) -> None:
        """Copy the server's output to its log file, and say when it accepts connections."""
        assert proc.stderr is not None
        with open(self.log_path, "ab") as log:
            for line in proc.stderr:
                log.write(line)
                log.flush()
                if _READY.encode() in line:
                    ready.set()
        ready.set()  # it exited: start() sees that it is not running


def sweep_abandoned_servers() -> None:
    """Stop the servers, and delete the folders, of test runs that died without cleaning up.

    A run killed outright (SIGKILL, a closed pipe) cannot stop its server. Each folder
    records the test process that made it; when that process is gone, its postmaster
    (recognised by its data folder on its command line) gets an immediate shutdown.
    """
    for folder in Path(tempfile.gettempdir()).glob(_FOLDER_PREFIX + "*"):
        try:
            owner = int((folder / "owner").read_text())
        except (OSError, ValueError):
            continue
        if Path(f"/proc/{owner}").exists():
            continue
        with contextlib.suppress(OSError, ValueError, IndexError):
            pid = int((folder / "data" / "postmaster.pid").read_text().split()[0])
            if str(folder / "data").encode() in Path(f"/proc/{pid}/cmdline").read_bytes():
                os.kill(pid, signal.SIGQUIT)
        shutil.rmtree(folder, ignore_errors=True)


_server: PostgresServer | None = None
_server_lock = threading.Lock()


def _shared_server() -> PostgresServer:
    """The one server of this test run, started on first use."""
    global _server
    with _server_lock:
        if _server is None:
            bindir = find_bindir()
            if bindir is None:
                reason = (
                    "PostgreSQL is not installed (no initdb under pg_config --bindir or "
                    "/usr/lib/postgresql/*/bin): apt-get install postgresql"
                )
                if os.environ.get("CHATKIT_REQUIRE_POSTGRES"):
                    pytest.fail(f"CHATKIT_REQUIRE_POSTGRES is set, but {reason}")
                pytest.skip(reason)
            sweep_abandoned_servers()
            server = PostgresServer(bindir)
            server.start()
            _server = server
        elif not _server.running:
            _server.start()  # a fault test left it stopped
        return _server


@pytest.fixture(name="postgres", scope="session")
def postgres_fixture() -> Iterator[PostgresServer]:
    """The test run's PostgreSQL server (shared by every module that imports this fixture)."""
    global _server
    yield _shared_server()
    with _server_lock:
        if _server is not None:
            _server.cleanup()
            _server = None


@pytest.fixture(name="pg_dsn")
def pg_dsn_fixture(postgres: PostgresServer) -> Iterator[str]:
    """The URL of a new, empty database for one test; dropped afterwards."""
    if not postgres.running:
        postgres.start()
    name = postgres.create_database()
    yield postgres.dsn(name)
    if not postgres.running:
        postgres.start()
    postgres.drop_database(name)
