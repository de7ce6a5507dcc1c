"""Reading and changing the register's settings (see ``configuration``)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from mamori.access.principal import Principal
from mamori.registry import configuration, guard, taxonomy


def registry_settings(*, session: Session, principal: Principal) -> dict[str, Any]:
    """Every setting in force with its version (0: the built-in default)."""
    guard.authorize_registry(session=session, principal=principal, action="registry.settings")
    values = configuration.current(session)
    return {
        key: {"value": values[key], "version": configuration.version_of(session, key)}
        for key in configuration.KEYS
    }


def configure(
    *, session: Session, principal: Principal, key: str, value: Any, reason: str | None = None
) -> int:
    """Set a new version of one setting; returns the version number."""
    guard.authorize_registry(
        session=session, principal=principal, action="registry.configure", key=key
    )
    version = configuration.store(
        session, key=key, value=value, actor=principal.username, reason=reason
    )
    guard.audit(
        session=session, principal=principal, action="registry.configured",
        object_type="registry.setting", object_id=key,
        details={"version": version, "reason": (reason or "").strip()[:500] or None},
    )
    return version


def device_categories(version: int | None = None) -> taxonomy.Taxonomy | None:
    """A shipped version of the device-category taxonomy (public reference data)."""
    return taxonomy.taxonomy(version)
