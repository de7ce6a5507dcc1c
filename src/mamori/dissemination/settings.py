"""How provision reaches people: the SMTP server for e-mail notices and the webhook
retry schedule, and how long a receiving body has to attest its use of selected
communications information. Read from the environment (``MAMORI_SMTP_HOST`` …), like
the rest of the process settings."""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class DeliverySettings(BaseSettings):
    """``MAMORI_SMTP_*``, ``MAMORI_MAIL_FROM``, ``MAMORI_PORTAL_URL``, ``MAMORI_WEBHOOK_*``,
    ``MAMORI_DELIVERY_*``, ``MAMORI_DISSEMINATION_ATTESTATION_DAYS``."""

    model_config = SettingsConfigDict(env_prefix="MAMORI_", extra="ignore")

    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_starttls: bool = False
    smtp_username: str | None = None
    smtp_password: str | None = None
    mail_from: str = "mamori@localhost"
    portal_url: str = "http://127.0.0.1:8000"
    webhook_timeout_seconds: float = 10.0
    delivery_max_attempts: int = 5
    delivery_backoff_seconds: int = 60
    # Days after a provision carrying selected information that its usage attestation
    # falls due (R-2.3-12).
    dissemination_attestation_days: int = Field(default=90, ge=1, le=3650)


@lru_cache(maxsize=1)
def delivery_settings() -> DeliverySettings:
    return DeliverySettings()


def reset_delivery_settings() -> None:
    delivery_settings.cache_clear()
