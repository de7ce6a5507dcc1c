"""The audit log's operations: append, sign tree heads, prove, verify, export, list.

``record`` writes into the caller's transaction so that an entry exists exactly
when the change it describes does. The Merkle and verification code lives in
``mamori.audit.verify`` — the file the oversight committee runs on its own.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import math
import os
from collections.abc import Iterator, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import Select, false, func, select, text, update
from sqlalchemy.orm import Session

from mamori.audit import keys
from mamori.audit.models import (
    ACTION_MAX,
    ACTOR_MAX,
    LEGAL_BASIS_MAX,
    OBJECT_ID_MAX,
    OBJECT_TYPE_MAX,
    PURPOSE_MAX,
    AuditEntry,
    AuditEntryOut,
    ConsistencyProof,
    EntryPage,
    InclusionProof,
    TreeHead,
    format_time,
)
from mamori.audit.verify import (
    EXPORT_FORMAT,
    LEAF_FIELDS,
    MerkleTree,
    VerifyResult,
    canonical_json,
    details_digest,
    entry_leaf,
    tree_head_message,
    verify_log_records,
)
from mamori.config import get_settings
from mamori.db import session_scope, utcnow
from mamori.errors import Conflict, InvalidInput

__all__ = [
    "AuditLogTampered",
    "VerifyResult",
    "consistency_proof",
    "export_log",
    "inclusion_proof",
    "issue_tree_head",
    "issue_tree_heads_periodically",
    "latest_tree_head",
    "list_entries",
    "list_tree_heads",
    "record",
    "verify_log",
]

log = logging.getLogger(__name__)

# pg_advisory_xact_lock key that serialises appends ("mamori" and 0xa0d1).
APPEND_LOCK_KEY = 0x6D616D6F7269A0D1
DETAILS_MAX_BYTES = 16 * 1024
PAGE_MAX = 1000


class AuditLogTampered(Conflict):
    """The stored log no longer verifies; nothing is signed over it."""

    title = "Audit log does not verify"


# --- append ---------------------------------------------------------------------------


def _text(field: str, value: Any, limit: int, *, required: bool) -> str | None:
    if value is None and not required:
        return None
    if not isinstance(value, str):
        raise InvalidInput(f"audit {field} must be text")
    if required and not value.strip():
        raise InvalidInput(f"audit {field} must not be empty")
    if len(value) > limit:
        raise InvalidInput(f"audit {field} is longer than {limit} characters")
    return value


def _plain(value: Any, where: str) -> Any:
    """``value`` as plain JSON data, or InvalidInput naming where it is not."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise InvalidInput(f"audit details {where} is not a finite number")
        return value
    if isinstance(value, Mapping):
        result: dict[str, Any] = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise InvalidInput(f"audit details {where} has a key that is not text")
            result[key] = _plain(item, f"{where}.{key}")
        return result
    if isinstance(value, list | tuple):
        return [_plain(item, f"{where}[{i}]") for i, item in enumerate(value)]
    raise InvalidInput(f"audit details {where} is of type {type(value).__name__}, not JSON data")


def _lock_appends(session: Session) -> None:
    """Hold the log's append lock until this transaction ends, so that sequence numbers
    are handed out one transaction at a time: no two share one, none is skipped."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": APPEND_LOCK_KEY})
    else:
        # SQLite has one writer at a time; a write that changes nothing takes that lock
        # now, before max(seq) is read, instead of at the insert.
        session.execute(update(AuditEntry).where(false()).values(seq=AuditEntry.seq)
                        .execution_options(synchronize_session=False))


def record(
    *,
    session: Session,
    actor: str,
    action: str,
    object_type: str,
    object_id: str = "",
    legal_basis: str | None = None,
    purpose: str | None = None,
    details: Mapping[str, Any] | None = None,
) -> AuditEntry:
    """Append one entry in the caller's transaction (flushed, never committed).

    ``details`` is metadata only (ids, counts, field names) — never communications
    content; it is stored as canonical JSON and enters the leaf as its digest.
    """
    fields = {
        "actor": _text("actor", actor, ACTOR_MAX, required=True),
        "action": _text("action", action, ACTION_MAX, required=True),
        "object_type": _text("object type", object_type, OBJECT_TYPE_MAX, required=True),
        "object_id": _text("object id", object_id, OBJECT_ID_MAX, required=False) or "",
        "legal_basis": _text("legal basis", legal_basis, LEGAL_BASIS_MAX, required=False),
        "purpose": _text("purpose", purpose, PURPOSE_MAX, required=False),
    }
    if details is not None and not isinstance(details, Mapping):
        raise InvalidInput("audit details must be a mapping")
    plain = _plain(details or {}, "details")
    details_text = canonical_json(plain).decode("utf-8")
    if len(details_text.encode("utf-8")) > DETAILS_MAX_BYTES:
        raise InvalidInput(f"audit details exceed {DETAILS_MAX_BYTES} bytes")

    _lock_appends(session)
    last = session.scalar(select(func.max(AuditEntry.seq)))
    seq = 0 if last is None else int(last) + 1
    now = utcnow()
    leaf_fields = {
        **fields,
        "seq": seq,
        "time": format_time(now),
        "details_digest": details_digest(plain),
    }
    entry = AuditEntry(
        seq=seq,
        time=now,
        details=details_text,
        leaf_hash=entry_leaf(leaf_fields).hex(),
        **{k: v for k, v in leaf_fields.items() if k not in ("seq", "time")},
    )
    session.add(entry)
    session.flush()
    return entry


class Actor(Protocol):
    """Who acts: a principal of the access domain (the log does not depend on it)."""

    @property
    def username(self) -> str: ...

    @property
    def purpose(self) -> str | None: ...


_PRINCIPALS_PURPOSE: Any = object()


def record_by(
    *,
    session: Session,
    principal: Actor,
    action: str,
    object_type: str,
    object_id: object = "",
    legal_basis: str | None = None,
    purpose: str | None = _PRINCIPALS_PURPOSE,
    details: Mapping[str, Any] | None = None,
) -> AuditEntry:
    """:func:`record` for a principal: the form every domain's service uses.

    The purpose is the principal's declared one unless given (``None`` records none);
    domains bind their legal basis with ``functools.partial``."""
    return record(
        session=session, actor=principal.username, action=action, object_type=object_type,
        object_id=str(object_id), legal_basis=legal_basis,
        purpose=principal.purpose if purpose is _PRINCIPALS_PURPOSE else purpose,
        details=details,
    )


# --- reading the log ------------------------------------------------------------------


def _entry_rows(session: Session, below: int | None = None) -> Iterator[dict[str, Any]]:
    """Every entry as the verifier reads it, in seq order, streamed."""
    columns = [getattr(AuditEntry, name) for name in LEAF_FIELDS if name != "seq"]
    query: Select[Any] = select(
        AuditEntry.seq, *columns, AuditEntry.details, AuditEntry.leaf_hash
    ).order_by(AuditEntry.seq)
    if below is not None:
        query = query.where(AuditEntry.seq < below)
    for row in session.execute(query.execution_options(yield_per=2000)):
        fields = dict(row._mapping)
        fields["time"] = format_time(fields["time"])
        try:
            fields["details"] = json.loads(fields["details"])
        except ValueError:
            fields["details"] = None
        yield fields


def _heads(session: Session) -> list[TreeHead]:
    return list(session.scalars(select(TreeHead).order_by(TreeHead.tree_size, TreeHead.id)))


def _verify(session: Session) -> tuple[VerifyResult, MerkleTree]:
    return verify_log_records(
        entries=_entry_rows(session),
        tree_heads=[head.as_record() for head in _heads(session)],
        public_key=keys.public_key_raw(settings=get_settings()),
    )


def verify_log(*, session: Session) -> VerifyResult:
    """Recompute every leaf, check sequence numbers, and check every signed tree head's
    root and signature; ``first_bad_seq`` names the earliest entry not to trust."""
    return _verify(session)[0]


def _size(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(AuditEntry)) or 0)


def _tree(session: Session, size: int) -> MerkleTree:
    """The tree of the first ``size`` entries, from their stored leaf hashes."""
    hashes = session.scalars(
        select(AuditEntry.leaf_hash).where(AuditEntry.seq < size).order_by(AuditEntry.seq)
    ).all()
    if len(hashes) != size:
        raise AuditLogTampered("the audit log has gaps: run `mamori audit verify`")
    return MerkleTree(bytes.fromhex(h) for h in hashes)


def inclusion_proof(
    *, session: Session, seq: int, tree_size: int | None = None
) -> InclusionProof:
    """Proof that entry ``seq`` is in the tree of ``tree_size`` entries (default: all)."""
    size = _size(session)
    tree_size = size if tree_size is None else tree_size
    if not 0 < tree_size <= size:
        raise InvalidInput(f"tree size must be between 1 and {size}")
    if not 0 <= seq < tree_size:
        raise InvalidInput(f"entry must be between 0 and {tree_size - 1}")
    tree = _tree(session, tree_size)
    return InclusionProof(
        seq=seq,
        tree_size=tree_size,
        leaf_hash=tree.leaf(seq).hex(),
        root_hash=tree.root().hex(),
        path=[h.hex() for h in tree.inclusion_path(seq, tree_size)],
    )


def consistency_proof(*, session: Session, first: int, second: int) -> ConsistencyProof:
    """Proof that the tree of ``first`` entries is a prefix of the tree of ``second``."""
    size = _size(session)
    if not 0 < first <= second <= size:
        raise InvalidInput(f"tree sizes must satisfy 0 < first <= second <= {size}")
    tree = _tree(session, second)
    return ConsistencyProof(
        first=first,
        second=second,
        first_root=tree.root(first).hex(),
        second_root=tree.root().hex(),
        path=[h.hex() for h in tree.consistency_path(first, second)],
    )


def list_entries(
    *,
    session: Session,
    actor: str | None = None,
    action: str | None = None,
    object_type: str | None = None,
    object_id: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    offset: int = 0,
    limit: int = 50,
    newest_first: bool = True,
) -> EntryPage:
    """A page of entries matching every given filter; ``since`` inclusive, ``until``
    exclusive. Callers authorize "audit.read" first."""
    if not 1 <= limit <= PAGE_MAX:
        raise InvalidInput(f"limit must be between 1 and {PAGE_MAX}")
    if offset < 0:
        raise InvalidInput("offset must not be negative")
    for name, moment in (("since", since), ("until", until)):
        if moment is not None and moment.tzinfo is None:
            raise InvalidInput(f"{name} needs a time zone")
    if since is not None and until is not None and since > until:
        raise InvalidInput("since is later than until")
    conditions = [
        column == value
        for column, value in (
            (AuditEntry.actor, actor),
            (AuditEntry.action, action),
            (AuditEntry.object_type, object_type),
            (AuditEntry.object_id, object_id),
        )
        if value is not None
    ]
    if since is not None:
        conditions.append(AuditEntry.time >= since)
    if until is not None:
        conditions.append(AuditEntry.time < until)
    total = session.scalar(select(func.count()).select_from(AuditEntry).where(*conditions))
    order = AuditEntry.seq.desc() if newest_first else AuditEntry.seq.asc()
    rows = session.scalars(
        select(AuditEntry).where(*conditions).order_by(order).offset(offset).limit(limit)
    )
    return EntryPage(
        total=int(total or 0),
        offset=offset,
        limit=limit,
        items=[AuditEntryOut.of(row) for row in rows],
    )


def list_tree_heads(*, session: Session) -> list[TreeHead]:
    return _heads(session)


def latest_tree_head(*, session: Session) -> TreeHead | None:
    return session.scalars(
        select(TreeHead).order_by(TreeHead.issued_at.desc(), TreeHead.id.desc()).limit(1)
    ).first()


# --- signed tree heads ----------------------------------------------------------------


def issue_tree_head(*, session: Session) -> TreeHead:
    """Sign the log's current size and root (Ed25519), after checking the whole log:
    a tree head is never signed over a log that no longer verifies."""
    settings = get_settings()
    private = keys.signing_key(settings=settings)
    result, tree = _verify(session)
    if not result.ok:
        raise AuditLogTampered(
            f"the audit log does not verify ({result.reason}); no tree head was signed"
        )
    now = utcnow()
    issued_at = now.replace(microsecond=now.microsecond // 1000 * 1000)
    head = TreeHead(
        tree_size=tree.size,
        root_hash=tree.root().hex(),
        issued_at=issued_at,
        key_id=keys.key_id(settings=settings) or "",
        signature="",
    )
    head.signature = private.sign(
        tree_head_message(timestamp_ms=head.timestamp_ms, tree_size=tree.size, root=tree.root())
    ).hex()
    session.add(head)
    session.flush()
    return head


def _issue_in_own_transaction() -> int:
    with session_scope() as session:
        return issue_tree_head(session=session).tree_size


async def issue_tree_heads_periodically(*, interval_seconds: int) -> None:
    """Issue a signed tree head now and then every ``interval_seconds``, until cancelled
    (the web app's lifespan runs it). Failures are logged and retried next time."""
    if interval_seconds <= 0:
        raise InvalidInput("the tree-head interval must be a positive number of seconds")
    while True:
        try:
            size = await asyncio.to_thread(_issue_in_own_transaction)
            log.info("audit: signed tree head issued for %d entries", size)
        except AuditLogTampered as exc:
            log.error("audit: %s", exc.detail)
        except Exception as exc:
            log.error("audit: tree head not issued: %s", type(exc).__name__)
        await asyncio.sleep(interval_seconds)


# --- export ---------------------------------------------------------------------------


def export_log(*, session: Session, path: Path) -> int:
    """Write entries, signed tree heads and the public key to ``path`` as JSON for
    ``python -m mamori.audit.verify``; returns the number of entries written."""
    settings = get_settings()
    path = Path(path)
    if not path.parent.is_dir():
        raise InvalidInput(f"cannot write the export: folder {path.parent} does not exist")
    if path.is_dir():
        raise InvalidInput(f"cannot write the export: {path} is a folder")
    keys.ensure_signing_key(settings=settings)
    raw = keys.public_key_raw(settings=settings) or b""
    header = {
        "format": EXPORT_FORMAT,
        "exported_at": format_time(utcnow()),
        "hash": "SHA-256, RFC 9162 section 2.1",
        "leaf": "SHA-256(0x00 || canonical JSON of " + ", ".join(LEAF_FIELDS) + ")",
        "signature": "Ed25519 over RFC 9162 TreeHeadDataV2",
        "public_key": {
            "algorithm": "Ed25519",
            "raw": base64.b64encode(raw).decode("ascii"),
            "key_id": keys.key_id(settings=settings),
            "pem": keys.public_key_pem(settings=settings),
        },
        "tree_heads": [head.as_record() for head in _heads(session)],
    }
    partial = path.with_name(f".{path.name}.partial")
    count = 0
    try:
        with partial.open("w", encoding="utf-8") as out:
            out.write(json.dumps(header, ensure_ascii=False, indent=1)[:-2])
            out.write(',\n "entries": [')
            for fields in _entry_rows(session):
                out.write(",\n  " if count else "\n  ")
                out.write(json.dumps(fields, ensure_ascii=False, sort_keys=True))
                count += 1
            out.write("\n ]\n}\n")
        os.replace(partial, path)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise InvalidInput(f"cannot write the export to {path}: {exc.strerror}") from exc
    return count
