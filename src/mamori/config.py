"""Settings: one typed object, read from the environment (prefix ``MAMORI_``).

Regulatory parameters (deadlines, retention, item sets) live in versioned
configuration records inside the database, not here; this object only says
where things are and how the process runs.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


def _default_home() -> Path:
    return Path.home() / ".local" / "share" / "mamori"


class Settings(BaseSettings):
    """Process settings. Every field can be set as ``MAMORI_<NAME>``."""

    model_config = SettingsConfigDict(env_prefix="MAMORI_", extra="ignore")

    home: Path = Field(default_factory=_default_home)
    database_url: str | None = None
    demo: bool = False
    secret_key: str | None = None
    token: str | None = None
    default_language: str = "ja"
    timezone: str = "Asia/Tokyo"
    host: str = "127.0.0.1"
    port: int = 8000
    sth_interval_seconds: int = 3600
    # Sign-in lockout: this many failures for one account name within the window lock
    # that name until the window has passed without them (0 turns it off).
    sign_in_lockout_threshold: int = 10
    sign_in_lockout_minutes: int = 15
    nats_url: str = "nats://127.0.0.1:4222"
    # Period after which the selection zone's pseudonymisation key rotates.
    selection_key_rotation: str = "monthly"

    @field_validator("home")
    @classmethod
    def _expand(cls, value: Path) -> Path:
        return value.expanduser()

    @property
    def effective_database_url(self) -> str:
        """The SQLite file under ``home`` unless a URL was given."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.home / 'mamori.db'}"

    @property
    def keys_dir(self) -> Path:
        return self.home / "keys"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()


def reset_settings_cache() -> None:
    """Forget cached settings (tests and the CLI change the environment)."""
    get_settings.cache_clear()
