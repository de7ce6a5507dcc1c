"""Relational storage: engine, sessions, the declarative base and migrations."""

from mamori.db.base import Base, UTCDateTime, utcnow
from mamori.db.session import get_engine, init_db, make_engine, session_scope

__all__ = ["Base", "UTCDateTime", "get_engine", "init_db", "make_engine", "session_scope", "utcnow"]
