"""What reporting needs from the registry, through ``mamori.registry.service`` only.

Operators, their organisation and supervising ministry, and the computers a report
names (R-4.2-2: reports link to notified computers).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from mamori.access.principal import Principal
from mamori.errors import InvalidInput


@dataclass(frozen=True)
class OperatorInfo:
    id: int
    name: str
    name_en: str | None
    organisation_id: int
    ministry_code: str
    ministry_name_ja: str
    ministry_name_en: str
    ministry_organisation_id: int | None

    def display_name(self, language: str) -> str:
        return self.name_en if language == "en" and self.name_en else self.name


@dataclass(frozen=True)
class ComputerInfo:
    id: int
    operator_id: int
    name: str
    zone: str | None
    category: str | None
    directly_managed: bool


def operator_info(*, session: Session, principal: Principal, operator_id: int) -> OperatorInfo:
    from mamori.registry import service as registry

    operator = registry.get_operator(session=session, principal=principal, operator_id=operator_id)
    if operator.organisation_id is None:
        raise InvalidInput(
            f"operator {operator_id} has no organisation in the portal yet; an administrator "
            "links it first", field="operator_id",
        )
    ministry = registry.operator_supervising_ministry(
        session=session, principal=principal, operator_id=operator_id
    )
    return OperatorInfo(
        id=operator.id, name=operator.name, name_en=operator.name_en,
        organisation_id=operator.organisation_id, ministry_code=ministry.code,
        ministry_name_ja=ministry.name_ja, ministry_name_en=ministry.name_en,
        ministry_organisation_id=ministry.organisation_id,
    )


def computers(
    *, session: Session, principal: Principal, operator_id: int, ids: Sequence[int]
) -> dict[int, ComputerInfo]:
    """The operator's computers with these ids (missing ids are simply absent)."""
    if not ids:
        return {}
    from mamori.registry import service as registry

    found = registry.find_computers(
        session=session, principal=principal, operator_id=operator_id, ids=list(ids)
    )
    return {
        c.id: ComputerInfo(
            id=c.id, operator_id=c.operator_id, name=c.name, zone=c.zone,
            category=c.device_category, directly_managed=c.directly_managed,
        )
        for c in found
        if c.operator_id == operator_id
    }


def operator_computers(
    *, session: Session, principal: Principal, operator_id: int
) -> list[ComputerInfo]:
    """Every computer of the operator, for the portal's pick lists."""
    from mamori.registry import service as registry

    return [
        ComputerInfo(id=c.id, operator_id=c.operator_id, name=c.name, zone=c.zone,
                     category=c.device_category, directly_managed=c.directly_managed)
        for c in registry.find_computers(session=session, principal=principal,
                                         operator_id=operator_id)
    ]


def visible_operators(*, session: Session, principal: Principal) -> list[tuple[int, str, str]]:
    """(id, Japanese name, English name) of the operators the principal may report for."""
    from mamori.registry import service as registry

    return [(o.id, o.name, o.name_en or o.name)
            for o in registry.list_operators(session=session, principal=principal)]
