"""Storage: the only place that runs SQL. `Storage` is the assessment store; the pulse has its
own store over the same connection. The database is a SQLite file or a PostgreSQL URL
(connection.py chooses); nothing outside this package knows which."""

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
