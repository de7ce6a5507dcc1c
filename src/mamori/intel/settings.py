"""Settings of the intel store (environment, prefix ``MAMORI_INTEL_``).

The fan-out cap and the exclusion list keep correlation meaningful: a value that
hundreds of objects mention (a resolver, a CDN, a cloud range) links everything to
everything and drowns the real anchors, so it is not followed from one object to the
next.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_EXCLUSIONS = Path(__file__).parent / "data" / "exclusions.txt"


class IntelSettings(BaseSettings):
    """``MAMORI_INTEL_FANOUT_CAP``, ``MAMORI_INTEL_EXCLUSIONS``, ...

    ``fanout_cap``: a value mentioned by more objects than this (that the reader may
    see) is ubiquitous and not followed in hops. ``exclusions``: a file of values never
    followed. ``related_limit``: the most objects one related query returns.
    ``pull_interval_seconds``: how often ``mamori serve`` pulls TAXII sources, ingests
    selected records and runs the analytics (0 turns it off). ``sync_as`` and
    ``sync_token``: an analyst account (and its API token) the job acts as to ingest
    reports, the register and vulnerability data, which the platform itself may not read.
    """

    model_config = SettingsConfigDict(env_prefix="MAMORI_INTEL_", extra="ignore")

    fanout_cap: int = Field(default=200, ge=1, le=100_000)
    exclusions: Path = DEFAULT_EXCLUSIONS
    related_limit: int = Field(default=500, ge=1, le=100_000)
    pull_interval_seconds: int = Field(default=900, ge=0)
    sync_as: str | None = None
    sync_token: SecretStr | None = None


@lru_cache(maxsize=1)
def intel_settings() -> IntelSettings:
    return IntelSettings()


def reset() -> None:
    intel_settings.cache_clear()
