"""Shared fixtures: the shipped models, an in-memory database and the service over both."""

from __future__ import annotations

import pytest

from bot.service import AssessmentService
from bot.storage import Storage
from flows.model_loader import load_models


@pytest.fixture(scope="session")
def models():
    return load_models()


@pytest.fixture
def fresh_db():
    storage = Storage(":memory:")
    yield storage
    storage.close()


@pytest.fixture
def service(fresh_db, models):
    return AssessmentService(fresh_db, models)
