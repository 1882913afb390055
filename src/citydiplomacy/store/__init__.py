"""The store: an SQLite file by default, through SQLAlchemy 2 and Alembic migrations."""

from .db import Store, SCHEMA_HEAD

__all__ = ["Store", "SCHEMA_HEAD"]
