"""What can go wrong with the database, as the two errors callers tell apart."""


class StorageError(Exception):
    """The database cannot be used; the message says which file and why, for the user."""


class StorageWriteError(StorageError):
    """A write failed because of the disk or the file, not a bug; nothing of it was stored."""
