"""Roles, their labels, and which of them must sign in with a second factor."""

from __future__ import annotations

from mamori.access.principal import ROLES
from mamori.errors import InvalidInput

__all__ = ["ROLES", "ROLE_LABELS", "TOTP_ROLES", "validate_roles"]

# Roles whose holders reach communications-derived data, inspect, or administer: a
# password alone is not enough for them.
TOTP_ROLES: frozenset[str] = frozenset({"comms_handler", "committee_inspector", "admin"})

ROLE_LABELS: dict[str, dict[str, str]] = {
    "analyst": {"ja": "分析担当者", "en": "Analyst"},
    "comms_handler": {"ja": "通信情報取扱者", "en": "Communications-information handler"},
    "operator": {"ja": "事業者担当者", "en": "Operator"},
    "council_member": {"ja": "協議会構成員", "en": "Council member"},
    "supplier": {"ja": "電子計算機等供給者", "en": "Supplier"},
    "committee_inspector": {"ja": "監理委員会検査官", "en": "Oversight-committee inspector"},
    "ministry_liaison": {"ja": "所管省庁連絡担当", "en": "Supervising-ministry liaison"},
    "admin": {"ja": "システム管理者", "en": "Administrator"},
    "recipient": {"ja": "情報提供先", "en": "Recipient"},
}


def validate_roles(roles: list[str] | tuple[str, ...] | frozenset[str]) -> frozenset[str]:
    """The roles as a set; unknown or missing roles are the caller's error."""
    chosen = frozenset(roles)
    if not chosen:
        raise InvalidInput("at least one role is required", field="roles")
    unknown = sorted(chosen - set(ROLES))
    if unknown:
        raise InvalidInput(
            f"unknown role {unknown[0]!r}; roles are: {', '.join(ROLES)}", field="roles"
        )
    return chosen
