"""Selection receipts: the evidence each batch leaves, with counts and digests only.

A receipt names the acquisition basis, the selector-set version and its digest,
the digest of the input bytes, the item-set and prefix-table versions, how many
packets or flow records came in (per direction class), how many were gated out,
matched and discarded, how many records went out, how long it took and which
pseudonymisation key epoch was used. It never holds an address, a name or a byte
of content, so it can be shown to the oversight committee as it is (R-3.3-4).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from .prefixes import DIRECTIONS

RECEIPT_ACTION = "selection.receipt"
REFUSED_ACTION = "selection.refused"
FAILED_ACTION = "selection.failed"
OBJECT_TYPE = "selection.batch"


def _directions() -> dict[str, int]:
    return dict.fromkeys(DIRECTIONS, 0)


@dataclass
class UnitCounts:
    """Counts for one kind of input unit: packets or flow records."""

    received: int = 0
    not_ip: int = 0
    """Units without a decodable IPv4/IPv6 header: discarded unread."""
    by_direction: dict[str, int] = field(default_factory=_directions)
    gated_out: int = 0
    """Units of a direction class the basis does not allow, or not the party's."""
    outside_period: int = 0
    """Units captured outside the basis's period of validity (or without a time)."""
    matched: int = 0


@dataclass
class SelectionCounts:
    packets: UnitCounts = field(default_factory=UnitCounts)
    flows: UnitCounts = field(default_factory=UnitCounts)
    records_out: int = 0
    rule_matches: int = 0
    app_parse_errors: int = 0
    """Candidate payloads that were not well-formed DNS/TLS/HTTP (counted, not kept)."""

    @property
    def discarded(self) -> int:
        """Everything that came in and was not selected: dropped in memory."""
        return (
            self.packets.received - self.packets.matched + self.flows.received - self.flows.matched
        )

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["discarded"] = self.discarded
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SelectionCounts:
        return cls(
            packets=UnitCounts(**data["packets"]),
            flows=UnitCounts(**data["flows"]),
            records_out=data["records_out"],
            rule_matches=data.get("rule_matches", 0),
            app_parse_errors=data.get("app_parse_errors", 0),
        )

    def add(self, other: SelectionCounts) -> None:
        for mine, theirs in ((self.packets, other.packets), (self.flows, other.flows)):
            mine.received += theirs.received
            mine.not_ip += theirs.not_ip
            mine.gated_out += theirs.gated_out
            mine.outside_period += theirs.outside_period
            mine.matched += theirs.matched
            for key, value in theirs.by_direction.items():
                mine.by_direction[key] = mine.by_direction.get(key, 0) + value
        self.records_out += other.records_out
        self.rule_matches += other.rule_matches
        self.app_parse_errors += other.app_parse_errors


@dataclass(frozen=True)
class InputSummary:
    """One input as the receipt names it: its kind, format, size and digest."""

    name: str
    kind: str
    format: str
    bytes: int
    sha256: str


@dataclass
class SelectionReceipt:
    """The receipt of one committed batch (``existing``: returned for a repeated id)."""

    batch_id: str
    measure_id: str
    basis_kind: str
    article: int | None
    directions_allowed: list[str]
    selector_set: str
    selector_version: int
    selector_digest: str
    input_digest: str
    inputs: list[InputSummary]
    item_set_version: int
    item_set_digest: str
    prefix_version: int
    prefix_digest: str
    key_epoch: str
    pseudonymisation: str
    key_id: str
    """Non-secret id of the pseudonymisation key (HMAC of a fixed label)."""
    counts: SelectionCounts
    started_at: datetime
    finished_at: datetime
    duration_ms: int
    consume: bool = False
    audit_seq: int | None = None
    existing: bool = False

    @property
    def records_out(self) -> int:
        return self.counts.records_out

    def details(self) -> dict[str, Any]:
        """The audit entry's details (JSON data: ids, digests, counts)."""
        return {
            "batch_id": self.batch_id,
            "measure_id": self.measure_id,
            "basis_kind": self.basis_kind,
            "article": self.article,
            "directions_allowed": list(self.directions_allowed),
            "selector_set": self.selector_set,
            "selector_version": self.selector_version,
            "selector_digest": self.selector_digest,
            "input_digest": self.input_digest,
            "inputs": [asdict(i) for i in self.inputs],
            "item_set_version": self.item_set_version,
            "item_set_digest": self.item_set_digest,
            "prefix_version": self.prefix_version,
            "prefix_digest": self.prefix_digest,
            "key_epoch": self.key_epoch,
            "pseudonymisation": self.pseudonymisation,
            "key_id": self.key_id,
            "counts": self.counts.to_json(),
            "started_at": self.started_at.isoformat(),
            "finished_at": self.finished_at.isoformat(),
            "duration_ms": self.duration_ms,
            "consume": self.consume,
        }

    @classmethod
    def from_details(
        cls, details: dict[str, Any], *, audit_seq: int | None, existing: bool = False
    ) -> SelectionReceipt:
        return cls(
            batch_id=details["batch_id"],
            measure_id=details["measure_id"],
            basis_kind=details["basis_kind"],
            article=details["article"],
            directions_allowed=list(details["directions_allowed"]),
            selector_set=details["selector_set"],
            selector_version=details["selector_version"],
            selector_digest=details["selector_digest"],
            input_digest=details["input_digest"],
            inputs=[InputSummary(**i) for i in details["inputs"]],
            item_set_version=details["item_set_version"],
            item_set_digest=details["item_set_digest"],
            prefix_version=details["prefix_version"],
            prefix_digest=details["prefix_digest"],
            key_epoch=details["key_epoch"],
            pseudonymisation=details["pseudonymisation"],
            key_id=details.get("key_id", ""),
            counts=SelectionCounts.from_json(details["counts"]),
            started_at=datetime.fromisoformat(details["started_at"]),
            finished_at=datetime.fromisoformat(details["finished_at"]),
            duration_ms=details["duration_ms"],
            consume=details.get("consume", False),
            audit_seq=audit_seq,
            existing=existing,
        )
