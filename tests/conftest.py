"""Shared fixtures: the shipped models, an in-memory database and the service over both."""

from __future__ import annotations

import pytest

from bot.service import AssessmentService
from bot.storage import Storage
from flows.model_loader import load_models, load_scan


@pytest.fixture(scope="session")
def models():
    return load_models()


@pytest.fixture(scope="session")
def scan(models):
    return load_scan(models)


@pytest.fixture
def fresh_db():
    storage = Storage(":memory:")
    yield storage
    storage.close()


@pytest.fixture
def service(fresh_db, models, scan):
    return AssessmentService(fresh_db, models, scan=scan)
