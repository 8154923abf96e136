"""A real PostgreSQL server for the tests: initdb into a temporary folder, pg_ctl on a free port
on 127.0.0.1, trust authentication, stopped (and its folder removed) at the end. Without fsync
(a test server need not survive the machine's crash), but with synchronous commits: a commit
survives the server's own crash (`stop(mode="immediate")`), as on a real server.

Debian's server binaries are in `pg_config --bindir`, not on PATH, and initdb refuses to run as
root: as root every server command runs as the `postgres` user the package creates. .ci/run
starts one this way (`python -m tests.postgres_server start DIR` prints its URL) and the tests
start their own when no URL is given. Each test then gets a database of its own
(`fresh_database`), dropped afterwards.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

URL_VARIABLE = "MATURITY_TEST_POSTGRES_URL"


def bindir() -> Path | None:
    """Where initdb and pg_ctl are, or None when PostgreSQL's server is not installed."""
    try:
        found = subprocess.run(
            ["pg_config", "--bindir"], capture_output=True, text=True, check=True, timeout=30
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    folder = Path(found)
    return folder if (folder / "initdb").exists() and (folder / "pg_ctl").exists() else None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _as_server_user(argv: list[str]) -> list[str]:
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *argv]
    return argv


def start(folder: Path) -> str:
    """Start a server whose files live in `folder`; its URL (user postgres, no password)."""
    binaries = bindir()
    if binaries is None:
        raise RuntimeError("PostgreSQL's server binaries are not installed (pg_config --bindir)")
    folder.mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres")
    data, port = folder / "data", free_port()
    (folder / "port").write_text(str(port))
    try:
        _run(binaries, "initdb", "-D", str(data), "-A", "trust", "-U", "postgres", "-E", "UTF8",
             "--no-sync")  # fmt: skip
    except subprocess.CalledProcessError as exc:
        raise RuntimeError(f"PostgreSQL did not start: {exc.stderr.strip()[-500:]}") from None
    return start_again(folder)


def start_again(folder: Path) -> str:
    """Start the server of `folder` (made by `start`) on its port again; its URL."""
    binaries = bindir()
    assert binaries is not None
    port = int((folder / "port").read_text())
    options = (
        f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c max_connections=200 "
        "-c fsync=off -c full_page_writes=off"
    )
    try:
        _run(binaries, "pg_ctl", "-D", str(folder / "data"), "-o", options, "-l",
             str(folder / "log"), "-w", "start")  # fmt: skip
    except subprocess.CalledProcessError as exc:
        raise RuntimeError(f"PostgreSQL did not start: {exc.stderr.strip()[-500:]}") from None
    return f"postgresql://postgres@127.0.0.1:{port}/postgres"


def _run(binaries: Path, program: str, *argv: str) -> None:
    subprocess.run(
        _as_server_user([str(binaries / program), *argv]),
        capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip


def stop(folder: Path, mode: str = "fast") -> None:
    """Stop the server; `immediate` is a crash as far as its clients can tell."""
    binaries = bindir()
    if binaries is None or not (folder / "data").exists():
        return
    subprocess.run(
        _as_server_user([str(binaries / "pg_ctl"), "-D", str(folder / "data"), "-m", mode,
                         "-w", "stop"]),
        capture_output=True, timeout=120, check=False,
    )  # fmt: skip


@contextlib.contextmanager
def server() -> Iterator[str]:
    """A server for as long as the block runs."""
    folder = Path(tempfile.mkdtemp(prefix="maturity-pg-"))
    try:
        yield start(folder)
    finally:
        stop(folder)
        shutil.rmtree(folder, ignore_errors=True)


def with_database(url: str, name: str) -> str:
    base, _, _ = url.rpartition("/")
    return f"{base}/{name}"


@contextlib.contextmanager
def fresh_database(url: str) -> Iterator[str]:
    """A new, empty database on the server at `url`, dropped after the block."""
    import psycopg

    name = f"t_{uuid.uuid4().hex[:16]}"
    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute(f"create database {name}")
    try:
        yield with_database(url, name)
    finally:
        with psycopg.connect(url, autocommit=True) as admin:
            admin.execute(f"drop database if exists {name} with (force)")


@contextlib.contextmanager
def database_gone(url: str) -> Iterator[None]:
    """The PostgreSQL database refuses every connection and its open ones are cut, as when the
    server is down or unreachable; it comes back at the end of the block."""
    import psycopg

    name = url.rsplit("/", 1)[-1].split("?", 1)[0]
    admin_url = url[: -len(url.rsplit("/", 1)[-1])] + "postgres"
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f"alter database {name} allow_connections false")
        admin.execute(
            "select pg_terminate_backend(pid) from pg_stat_activity where datname = %s",
            (name,),
        )
    try:
        yield
    finally:
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(f"alter database {name} allow_connections true")


def main(argv: list[str]) -> int:
    """`start DIR` prints the URL of a server started in DIR; `stop DIR` stops it."""
    if len(argv) != 2 or argv[0] not in {"start", "stop"}:
        print("usage: python -m tests.postgres_server start|stop DIR", file=sys.stderr)
        return 2
    folder = Path(argv[1])
    if argv[0] == "stop":
        stop(folder)
        return 0
    print(start(folder))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
