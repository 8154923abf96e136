"""Storage: the only place that runs SQL. `Storage` is the assessment store (one SQLite file,
one connection per process); the pulse has its own store over the same connection."""

from bot.storage.assessments import Storage
from bot.storage.connection import now_iso
from bot.storage.errors import StorageError, StorageWriteError
from bot.storage.migrations import SCHEMA_VERSION, migrations
from bot.storage.users import User

__all__ = [
    "SCHEMA_VERSION",
    "Storage",
    "StorageError",
    "StorageWriteError",
    "User",
    "migrations",
    "now_iso",
]
