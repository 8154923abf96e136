"""Shared fixtures: the shipped models, an in-memory database and the service over both."""

from __future__ import annotations

import os

import pytest

from bot.service import AssessmentService
from bot.storage import Storage
from flows.model_loader import load_models, load_scan
from tests.helpers import unavailable


@pytest.fixture(scope="session")
def models():
    return load_models()


@pytest.fixture(scope="session")
def scan(models):
    return load_scan(models)


@pytest.fixture
def clean_env(tmp_path, monkeypatch):
    """No .env from the developer's tree and no settings from the developer's shell: a command
    sees only the settings a test sets (on the returned monkeypatch)."""
    monkeypatch.chdir(tmp_path)
    for name in list(os.environ):
        if name.startswith(("MATURITY_", "SLACK_", "TELEGRAM_")):
            monkeypatch.delenv(name)
    return monkeypatch


@pytest.fixture
def fresh_db():
    storage = Storage(":memory:")
    yield storage
    storage.close()


@pytest.fixture
def service(fresh_db, models, scan):
    return AssessmentService(fresh_db, models, scan=scan)


# ---- PostgreSQL (issue 13): a real server, a fresh database per test --------------------------
@pytest.fixture(scope="session")
def postgres_server():
    """A server's URL: $MATURITY_TEST_POSTGRES_URL (.ci/run starts one), or one started here
    for the session. Without one the PostgreSQL tests skip, saying why, but never in CI."""
    from tests import postgres_server as pg

    url = os.environ.get(pg.URL_VARIABLE)
    if url:
        yield url
        return
    why = None
    try:
        import psycopg  # noqa: F401
    except ImportError:
        why = "psycopg is not installed (pip install -e '.[test]')"
    if why is None and pg.bindir() is None:
        why = "PostgreSQL's server is not installed (apt-get install postgresql)"
    if why is None:
        try:
            with pg.server() as started:
                yield started
            return
        except RuntimeError as exc:
            why = str(exc)
    unavailable(f"no PostgreSQL server for these tests: {why}")


@pytest.fixture
def postgres_url(postgres_server):
    """A new, empty database on the server, dropped after the test."""
    from tests.postgres_server import fresh_database

    with fresh_database(postgres_server) as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def database_target(request, tmp_path):
    """What MATURITY_DB would say, once per backend: a new SQLite file, a new PostgreSQL
    database."""
    if request.param == "sqlite":
        return str(tmp_path / "contract.db")
    return request.getfixturevalue("postgres_url")
