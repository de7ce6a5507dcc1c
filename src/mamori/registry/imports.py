"""Bulk notification from a file (R-4.2-10): a CycloneDX SBOM (JSON or XML) or the CSV
template. The whole file is checked before anything is written, in the caller's one
transaction, so it is taken whole or not at all; an error names the row or component
and the field.
"""

from __future__ import annotations

import hashlib

from sqlalchemy.orm import Session

from mamori.access.principal import Principal
from mamori.registry import csv_template, guard, notifications, sbom
from mamori.registry.computers import context, load_computer
from mamori.registry.entries import Submission
from mamori.registry.messages import N_, RegistryInputError
from mamori.registry.models import ImportResult
from mamori.registry.operators import viewable_operator

MAX_BYTES = 50 * 1024 * 1024
FORMATS: tuple[str, ...] = ("cyclonedx-json", "cyclonedx-xml", "csv")


def parse_file(data: bytes, *, fmt: str, computer: str | None) -> Submission:
    """A file → the computers it notifies (no database access)."""
    if fmt == "csv":
        if computer:
            raise RegistryInputError(
                N_("a CSV file names its computers in its computer column"), field="computer"
            )
        return csv_template.parse_csv(data)
    bom = sbom.read_json(data) if fmt == "cyclonedx-json" else sbom.read_xml(data)
    return sbom.submission(bom, computer=computer)


def import_file(
    *,
    session: Session,
    principal: Principal,
    operator_id: int,
    data: bytes,
    computer: str | None = None,
    fmt: str | None = None,
    notify: bool = False,
) -> ImportResult:
    """Import ``data`` into an operator's register.

    ``computer`` (a name, or the id of one of the operator's computers) says which
    computer an SBOM describes; without it the SBOM's ``metadata.component`` does. New
    computers are saved as drafts unless ``notify``; changes to notified computers are
    change notifications.
    """
    operator = viewable_operator(
        session=session, principal=principal, operator_id=operator_id, action="registry.notify"
    )
    if not data:
        raise RegistryInputError(N_("the file is empty"), field="file")
    if len(data) > MAX_BYTES:
        raise RegistryInputError(
            N_("the file is larger than %(limit)s MiB"), field="file",
            limit=MAX_BYTES // (1024 * 1024),
        )
    fmt = fmt or sbom.detect(data)
    if fmt not in FORMATS:
        raise RegistryInputError(
            N_("unknown format; formats are: %(formats)s"), field="format",
            formats=", ".join(FORMATS),
        )
    name = (computer or "").strip() or None
    if name and name.isdecimal():
        row = load_computer(session, int(name))
        if row.operator_id != operator.id:
            raise RegistryInputError(
                N_("the computer belongs to another operator"), field="computer"
            )
        name = row.name
    submission = parse_file(data, fmt=fmt, computer=name)
    if not submission.computers:
        raise RegistryInputError(N_("the file names no computer"), field="file")
    ctx = context(session, principal, operator)
    planned = notifications.plan(
        ctx, [(entry, None) for entry in submission.computers], notify=notify, replace=False
    )
    created = [p.after["name"] for p in planned if p.row is None]
    digest = hashlib.sha256(data).hexdigest()
    rows = notifications.write(ctx, planned, source=fmt, digest=digest)
    created_ids = [row.id for row in rows if row.name in created]
    kinds: dict[str, int] = {}
    for item in planned:
        key = item.notification or "draft"
        kinds[key] = kinds.get(key, 0) + 1
    components = sum(len(p.after["components"]) for p in planned)
    guard.audit(
        session=session, principal=principal, action="registry.import",
        object_type="registry.operator", object_id=operator.id,
        details={
            "format": fmt, "sha256": digest, "bytes": len(data),
            "computers": len(rows), "created": len(created_ids), "components": components,
            "notifications": kinds, "computer_ids": [row.id for row in rows][:200],
        },
    )
    return ImportResult(
        operator_id=operator.id, source=fmt, digest=digest,
        computers=[row.id for row in rows], created=created_ids, components=components,
    )
