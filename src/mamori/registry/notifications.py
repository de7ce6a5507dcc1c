"""Notifying computers: plan every change first, then write it all.

A submission (a form, an API call, a CSV file or an SBOM) is turned into a plan: for
each computer, its state before and after, checked against the configuration. Only
when every computer of the submission passes is anything written, so a file is taken
whole or not at all. Each written change is a new version with what changed, when
and by whom; once a computer is notified, every change is a change notification
(R-4.2-6).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from mamori.access.principal import Principal
from mamori.db import utcnow
from mamori.errors import Conflict
from mamori.registry import configuration, guard, taxonomy, transition
from mamori.registry.cpe import parse_cpe
from mamori.registry.entries import ComputerEntry, purl_parts
from mamori.registry.messages import N_, RegistryInputError
from mamori.registry.models import (
    ComponentRecord,
    ComputerRecord,
    ComputerVersionRecord,
    OperatorRecord,
    SiteRecord,
)
from mamori.registry.operators import site_for

DRAFT = "draft"
NOTIFIED = transition.NOTIFIED
EXEMPT = transition.EXEMPT
WITHDRAWN = transition.WITHDRAWN
SUBMITTED = (NOTIFIED, EXEMPT)

# The computer's fields as a state: JSON-ready (dates as ISO text, site and link by name).
STATE_FIELDS: tuple[str, ...] = (
    "name", "device_category", "taxonomy_version", "site", "facility", "zone",
    "directly_managed", "manager_name", "manager_contact", "cloud_form", "cloud_provider",
    "product_vendor", "product_name", "product_version", "custom_designed",
    "exemption_reason", "existing", "in_service_since", "linked_to", "notes", "status",
)
ENTRY_FIELDS: tuple[str, ...] = tuple(
    f for f in STATE_FIELDS if f not in ("name", "taxonomy_version", "status")
)
BOOL_DEFAULTS: dict[str, bool] = {
    "directly_managed": True, "custom_designed": False, "existing": False,
}
COMPONENT_FIELDS: tuple[str, ...] = (
    "name", "version", "supplier", "component_type", "bom_ref", "cpe", "purl",
)
DIFF_LIST_MAX = 100


@dataclass
class Planned:
    """One computer's change: the row (None when new) and its state before and after."""

    row: ComputerRecord | None
    before: dict[str, Any] | None
    after: dict[str, Any]
    notification: str | None = None
    origin: dict[str, int] = field(default_factory=dict)


def state_of(session: Session, row: ComputerRecord) -> dict[str, Any]:
    """A computer's current state (what a version snapshot records)."""
    site = session.get(SiteRecord, row.site_id) if row.site_id else None
    linked = session.get(ComputerRecord, row.linked_to_id) if row.linked_to_id else None
    state: dict[str, Any] = {
        name: getattr(row, name) for name in STATE_FIELDS if name not in ("site", "linked_to")
    }
    state["site"] = site.name if site else None
    state["linked_to"] = linked.name if linked else None
    state["in_service_since"] = row.in_service_since.isoformat() if row.in_service_since else None
    state["components"] = [
        {name: getattr(part, name) for name in COMPONENT_FIELDS} for part in row.components
    ]
    return state


def _new_state(name: str, taxonomy_version: int) -> dict[str, Any]:
    state: dict[str, Any] = dict.fromkeys(STATE_FIELDS)
    state.update(BOOL_DEFAULTS)
    state.update(name=name, taxonomy_version=taxonomy_version, status=DRAFT, components=[])
    return state


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


def merged(
    before: dict[str, Any], entry: ComputerEntry, *, replace: bool, taxonomy_version: int
) -> dict[str, Any]:
    """The state after applying ``entry``: only what it says, or everything (``replace``)."""
    after = dict(before)
    after["name"] = entry.name
    for name in ENTRY_FIELDS:
        value = getattr(entry, name)
        if value is None and replace:
            value = BOOL_DEFAULTS.get(name)
            after[name] = value
        elif value is not None:
            after[name] = _plain(value)
    if after.get("device_category") != before.get("device_category"):
        after["taxonomy_version"] = taxonomy_version
    if entry.components is not None:
        after["components"] = [
            {name: getattr(part, name) for name in COMPONENT_FIELDS} for part in entry.components
        ]
    return after


@dataclass
class Context:
    """What checking a submission needs: the operator, settings in force and today."""

    session: Session
    principal: Principal
    operator: OperatorRecord
    values: dict[str, Any]
    today: date

    @property
    def taxonomy_version(self) -> int:
        configured = self.values.get("taxonomy_version")
        return int(configured) if configured else taxonomy.newest().version


Lookup = Callable[[str], "dict[str, Any] | None"]


def _check_consistent(ctx: Context, state: dict[str, Any], lookup: Lookup) -> None:
    """What must hold even for a draft."""
    category = state.get("device_category")
    if category:
        version = taxonomy.taxonomy(state["taxonomy_version"]) or taxonomy.newest()
        if version.get(category) is None:
            raise RegistryInputError(
                N_("unknown device category; see the list of categories"),
                field="device_category",
            )
    zone = state.get("zone")
    if zone and zone not in configuration.ZONES:
        raise RegistryInputError(
            N_("the zone is one of: %(zones)s"), field="zone",
            zones=", ".join(configuration.ZONES),
        )
    cloud_form = state.get("cloud_form")
    if cloud_form and cloud_form not in ctx.values["cloud_forms"]:
        raise RegistryInputError(
            N_("the cloud form is one of: %(forms)s"), field="cloud_form",
            forms=", ".join(ctx.values["cloud_forms"]),
        )
    if state.get("custom_designed"):
        rule = ctx.values["custom_design_exemption"]
        if not rule["allowed"]:
            raise RegistryInputError(
                N_("the exemption for products designed for one operator is not available"),
                field="custom_designed",
            )
        allowed = rule["categories"]
        if category and "*" not in allowed and category not in allowed:
            raise RegistryInputError(
                N_("this device category cannot claim the exemption for custom-designed "
                   "products"),
                field="custom_designed",
            )
    _check_link(ctx, state, lookup)


def _check_link(ctx: Context, state: dict[str, Any], lookup: Lookup) -> None:
    """A computer introduced within the transition may join existing ones (R-4.2-9)."""
    target_name = state.get("linked_to")
    if not target_name:
        return
    if target_name == state["name"]:
        raise RegistryInputError(N_("a computer cannot be linked to itself"), field="linked_to")
    if state.get("existing"):
        raise RegistryInputError(
            N_("a computer in place at commencement is not linked to another; only one "
               "introduced during the transition is"),
            field="linked_to",
        )
    target = lookup(target_name)
    if target is None:
        raise RegistryInputError(
            N_("the linked computer is not in this operator's register"), field="linked_to"
        )
    if not target.get("existing"):
        raise RegistryInputError(
            N_("the linked computer must be one that was in place at commencement"),
            field="linked_to",
        )
    start = configuration.commencement(ctx.values)
    since = state.get("in_service_since")
    if start is not None and since is not None and not transition.in_window(
        date.fromisoformat(since), start, int(ctx.values["transition_months"])
    ):
        raise RegistryInputError(
            N_("only a computer introduced during the transition period can be linked"),
            field="in_service_since",
        )


def _filled(state: dict[str, Any], name: str) -> bool:
    if name == "components":
        return bool(state.get("components"))
    value = state.get(name)
    return value is not None and value != ""


def check_complete(values: dict[str, Any], state: dict[str, Any]) -> None:
    """What a notification must say (R-4.2-5, R-4.2-7, R-4.2-4)."""
    if not state.get("device_category"):
        raise RegistryInputError(
            N_("a notification needs a device category"), field="device_category"
        )
    needed = configuration.required_fields(
        values, state["device_category"], state.get("taxonomy_version")
    )
    missing = [name for name in needed if not _filled(state, name)]
    if missing:
        raise RegistryInputError(
            N_("this kind of computer is notified with these fields, still empty: %(fields)s"),
            field=missing[0], fields=", ".join(missing),
        )
    if not state.get("directly_managed"):
        rule = values["indirect_management"]
        if rule["manager_required"] and not _filled(state, "manager_name"):
            raise RegistryInputError(
                N_("a computer the operator does not manage itself needs the name of who "
                   "manages it"),
                field="manager_name",
            )
        if rule["contact_required"] and not _filled(state, "manager_contact"):
            raise RegistryInputError(
                N_("a computer the operator does not manage itself needs its manager's "
                   "contact"),
                field="manager_contact",
            )
    if (
        state.get("custom_designed")
        and values["custom_design_exemption"]["reason_required"]
        and not _filled(state, "exemption_reason")
    ):
        raise RegistryInputError(
            N_("claiming the exemption for custom-designed products needs a reason"),
            field="exemption_reason",
        )


def decide(before: dict[str, Any] | None, after: dict[str, Any], *, notify: bool) -> str | None:
    """Set the new status; return the kind of notification this change is, if any."""
    previous = before["status"] if before else DRAFT
    if previous == WITHDRAWN:
        raise Conflict("this computer was withdrawn; notify a new one instead", field="status")
    submitted = EXEMPT if after.get("custom_designed") else NOTIFIED
    if previous in SUBMITTED:
        after["status"] = submitted
        return "change"
    if notify:
        after["status"] = submitted
        return "exemption" if submitted == EXEMPT else "new"
    after["status"] = DRAFT
    return None


def changed(before: dict[str, Any] | None, after: dict[str, Any]) -> dict[str, Any]:
    """What changed: fields (old, new) and components added and removed."""
    old = before or {}
    fields_changed = {
        name: [old.get(name), after.get(name)]
        for name in STATE_FIELDS
        if before is None or old.get(name) != after.get(name)
    }
    if before is None:
        fields_changed = {k: v for k, v in fields_changed.items() if v[1] not in (None, False)}

    def key(part: dict[str, Any]) -> str:
        label = part["name"] + (f"@{part['version']}" if part.get("version") else "")
        return label + "".join(f" {part[k]}" for k in ("cpe", "purl") if part.get(k))

    before_parts = {key(p) for p in old.get("components", [])}
    after_parts = {key(p) for p in after.get("components", [])}
    added = sorted(after_parts - before_parts)
    removed = sorted(before_parts - after_parts)
    return {
        "fields": fields_changed,
        "components": {
            "count": len(after.get("components", [])),
            "added": added[:DIFF_LIST_MAX],
            "removed": removed[:DIFF_LIST_MAX],
            "added_count": len(added),
            "removed_count": len(removed),
        },
    }


def is_noop(change: dict[str, Any]) -> bool:
    parts = change["components"]
    return not change["fields"] and not parts["added_count"] and not parts["removed_count"]


def computers_by_name(session: Session, operator_id: int) -> dict[str, ComputerRecord]:
    rows = session.scalars(select(ComputerRecord).where(ComputerRecord.operator_id == operator_id))
    return {row.name: row for row in rows}


def plan(
    ctx: Context,
    items: list[tuple[ComputerEntry, ComputerRecord | None]],
    *,
    notify: bool,
    replace: bool,
) -> list[Planned]:
    """Check every computer of a submission; raise on the first problem, write nothing."""
    existing = computers_by_name(ctx.session, ctx.operator.id)
    planned: list[Planned] = []
    seen: set[str] = set()
    for entry, given in items:
        origin = {k: v for k, v in (("row", entry.row), ("item", entry.item)) if v is not None}
        try:
            if entry.name in seen:
                raise RegistryInputError(
                    N_("this computer appears twice in the submission"), field="computer"
                )
            seen.add(entry.name)
            clash = existing.get(entry.name)
            if given is not None and clash is not None and clash.id != given.id:
                raise Conflict("another computer of this operator has this name", field="name")
            row = given if given is not None else clash
            before = state_of(ctx.session, row) if row is not None else None
            start = before or _new_state(entry.name, ctx.taxonomy_version)
            after = merged(start, entry, replace=replace, taxonomy_version=ctx.taxonomy_version)
            notification = decide(before, after, notify=notify)
        except RegistryInputError as error:
            raise error.located(**origin) from None
        planned.append(Planned(row=row, before=before, after=after,
                               notification=notification, origin=origin))
    in_plan = {p.after["name"]: p.after for p in planned}

    def lookup(name: str) -> dict[str, Any] | None:
        if name in in_plan:
            return in_plan[name]
        row = existing.get(name)
        return state_of(ctx.session, row) if row is not None else None

    for item in planned:
        try:
            _check_consistent(ctx, item.after, lookup)
            if item.notification is not None:
                check_complete(ctx.values, item.after)
        except RegistryInputError as error:
            raise error.located(**item.origin) from None
    return planned


def _write_components(row: ComputerRecord, parts: list[dict[str, Any]]) -> None:
    row.components.clear()
    for position, part in enumerate(parts):
        record = ComponentRecord(position=position, **{k: part.get(k) for k in COMPONENT_FIELDS})
        if part.get("cpe"):
            cpe = parse_cpe(part["cpe"])
            record.cpe_part = cpe.part
            record.cpe_vendor = cpe.vendor.lower()
            record.cpe_product = cpe.product.lower()
            record.cpe_version = cpe.version.lower()
        if part.get("purl"):
            purl = purl_parts(part["purl"])
            record.purl_type = purl.type
            record.purl_namespace = purl.namespace
            record.purl_name = purl.name
            record.purl_version = purl.version
        row.components.append(record)


def write(
    ctx: Context, planned: list[Planned], *, source: str, digest: str | None = None
) -> list[ComputerRecord]:
    """Store a checked plan: rows, components and one version per changed computer."""
    now = utcnow()
    actor = ctx.principal.username
    rows: list[ComputerRecord] = []
    for item in planned:
        if item.row is None:
            item.row = ComputerRecord(
                operator_id=ctx.operator.id, name=item.after["name"], status=DRAFT, version=0,
                taxonomy_version=item.after["taxonomy_version"], created_by=actor,
                created_at=now, changed_by=actor, changed_at=now,
            )
            ctx.session.add(item.row)
        rows.append(item.row)
    ctx.session.flush()
    by_name = computers_by_name(ctx.session, ctx.operator.id)
    for item in planned:
        row = item.row
        assert row is not None
        change = changed(item.before, item.after)
        if item.before is not None and is_noop(change):
            continue
        after = item.after
        for name in STATE_FIELDS:
            if name in ("site", "linked_to", "in_service_since"):
                continue
            setattr(row, name, after[name])
        row.in_service_since = (
            date.fromisoformat(after["in_service_since"]) if after["in_service_since"] else None
        )
        row.site_id = site_for(ctx.session, ctx.principal, ctx.operator, after["site"]).id \
            if after["site"] else None
        row.linked_to_id = by_name[after["linked_to"]].id if after["linked_to"] else None
        if item.before is None or change["components"]["added_count"] \
                or change["components"]["removed_count"]:
            _write_components(row, after["components"])
        if item.notification in ("new", "exemption") and row.notified_at is None:
            row.notified_at = now
        row.version += 1
        row.changed_at = now
        row.changed_by = actor
        ctx.session.add(ComputerVersionRecord(
            computer_id=row.id, version=row.version, status=after["status"],
            notification=item.notification, source=source, source_digest=digest,
            changes=change, snapshot=after, changed_by=actor, changed_at=now,
        ))
    ctx.session.flush()
    return rows


def withdraw(ctx: Context, row: ComputerRecord, *, reason: str | None) -> None:
    """Notify that a computer is no longer in service (a change notification)."""
    before = state_of(ctx.session, row)
    if before["status"] == WITHDRAWN:
        raise Conflict("this computer is withdrawn already", field="status")
    after = dict(before, status=WITHDRAWN)
    if reason:
        after["notes"] = reason
    notification = "withdrawal" if before["status"] in SUBMITTED else None
    now = utcnow()
    row.status = WITHDRAWN
    row.notes = after["notes"]
    row.version += 1
    row.changed_at = now
    row.changed_by = ctx.principal.username
    ctx.session.add(ComputerVersionRecord(
        computer_id=row.id, version=row.version, status=WITHDRAWN, notification=notification,
        source="withdrawal", changes=changed(before, after), snapshot=after,
        changed_by=ctx.principal.username, changed_at=now,
    ))
    ctx.session.flush()
    guard.audit(
        session=ctx.session, principal=ctx.principal, action="registry.computer.withdrawn",
        object_type="registry.computer", object_id=row.id,
        details={"operator_id": row.operator_id, "version": row.version,
                 "notification": notification},
    )
