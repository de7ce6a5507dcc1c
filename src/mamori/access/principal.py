"""Who is acting, and on what: the two values every ``authorize()`` call takes."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

ROLES: tuple[str, ...] = (
    "analyst",
    "comms_handler",
    "operator",
    "council_member",
    "supplier",
    "committee_inspector",
    "ministry_liaison",
    "admin",
    "recipient",
)


@dataclass(frozen=True)
class Principal:
    """An authenticated actor.

    ``purpose`` is the purpose of use declared for this session (a comms_handler must
    declare one before touching communications-derived data); ``designated_handler``
    is true only while the user is on the roster of designated communications-
    information handlers (通信情報取扱者) with current training.
    """

    username: str
    roles: frozenset[str] = frozenset()
    user_id: int | None = None
    organisation_id: int | None = None
    organisation_kind: str | None = None
    designated_handler: bool = False
    purpose: str | None = None
    mfa: bool = False
    via: str = "web"

    @classmethod
    def system(cls, job: str) -> Principal:
        """The platform itself running a scheduled job (retention purge, STH issue)."""
        return cls(username=f"system:{job}", roles=frozenset({"system"}), via="system")

    @classmethod
    def anonymous(cls) -> Principal:
        return cls(username="anonymous", via="web")

    @property
    def is_system(self) -> bool:
        return "system" in self.roles

    def with_purpose(self, purpose: str | None) -> Principal:
        return Principal(
            username=self.username,
            roles=self.roles,
            user_id=self.user_id,
            organisation_id=self.organisation_id,
            organisation_kind=self.organisation_kind,
            designated_handler=self.designated_handler,
            purpose=purpose,
            mfa=self.mfa,
            via=self.via,
        )


@dataclass(frozen=True)
class Resource:
    """What an action touches: its type, id, handling labels and owning organisation."""

    type: str
    id: str = ""
    labels: frozenset[str] = frozenset()
    organisation_id: int | None = None
    attrs: Mapping[str, Any] = field(default_factory=dict)
