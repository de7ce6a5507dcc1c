"""The store: versions, merges, rejections with reasons, labels, provenance, lineage,
and lossless round trips of stix2-validator-valid bundles."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import stix2
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from stix2validator import ValidationOptions, validate_instance

from mamori.errors import Forbidden, InvalidInput, NotFound
from mamori.intel import service, stix
from mamori.intel.labels import HANDLING_PROPERTY, Labels
from mamori.intel.models import ObjectRow

from .conftest import ANALYST, HANDLER, T0, bundle, indicator, relationship, sdo, sid

LATER = "2026-11-02T00:00:00.000Z"
EARLIER = "2026-10-01T00:00:00.000Z"


def _import(session: Session, *objects: dict, **kwargs) -> service.ImportResult:  # type: ignore[type-arg]
    return service.import_bundle(session=session, principal=kwargs.pop("principal", ANALYST),
                                 bundle=bundle(*objects), source=kwargs.pop("source", "test"),
                                 **kwargs)


def test_store_merge_and_versions(session: Session) -> None:
    first = {**indicator(1, "[ipv4-addr:value = '203.0.113.5']"),
             "created": "2026-09-01T00:00:00.000Z"}
    result = _import(session, first)
    assert result.counts == {"stored": 1, "merged": 0, "rejected": 0}
    again = _import(session, first, source="again")
    assert again.counts == {"stored": 0, "merged": 1, "rejected": 0}
    newer = {**first, "modified": LATER, "name": "renamed"}
    older = {**first, "modified": EARLIER, "name": "older"}
    assert _import(session, newer, older).counts["stored"] == 2
    session.commit()
    record = service.get_object(session=session, principal=ANALYST, stix_id=first["id"])
    assert record.object == newer and record.latest
    assert [p.source for p in service.get_object(
        session=session, principal=ANALYST, stix_id=first["id"], version=T0).provenance] == \
        ["test", "again"]
    timeline = service.list_versions(session=session, principal=ANALYST, stix_id=first["id"])
    assert [r.object["modified"] for r in timeline] == [EARLIER, T0, LATER]
    assert service.get_object(session=session, principal=ANALYST, stix_id=first["id"],
                              version=1).object == older
    with pytest.raises(NotFound):
        service.get_object(session=session, principal=ANALYST, stix_id=first["id"], version=9)


def test_rejections_name_the_reason_and_nothing_is_dropped(session: Session) -> None:
    good = indicator(1, "[domain-name:value = 'c2.example']")
    conflicting = {**good, "name": "same id and modified, other content"}
    objects = [
        good,
        "not an object",
        {"type": "indicator", "id": "indicator--not-a-uuid"},
        {**indicator(2, "[ipv4-addr:value = '1.2.3.4']"), "id": sid("malware", 2)},
        {**indicator(3, "[ipv4-addr:value = '1.2.3.4']"), "spec_version": "2.0"},
        {**indicator(4, "[ipv4-addr:value = '1.2.3.4']"), "modified": "yesterday"},
        {**relationship(5, good["id"], "indicates", "x"), "target_ref": "x"},
        conflicting,
    ]
    result = _import(session, *objects)
    assert result.stored == 1 and result.merged == 0
    reasons = {r.index: r.reason for r in result.rejected}
    assert sorted(reasons) == [1, 2, 3, 4, 5, 6, 7]
    assert reasons[1] == "not a JSON object"
    assert "<type>--<UUID>" in reasons[2]
    assert "type" in reasons[3]
    assert "2.1" in reasons[4]
    assert "modified" in reasons[5]
    assert "target_ref" in reasons[6]
    assert "later modified" in reasons[7]
    assert result.rejected[6].id == good["id"]


def test_observables_have_deterministic_ids_and_version_by_content(session: Session) -> None:
    made = stix.make_sco("ipv4-addr", value="198.51.100.7")
    parsed = stix2.parse({"type": "ipv4-addr", "spec_version": "2.1", "value": "198.51.100.7"})
    assert made["id"] == parsed.id  # the stix2 library computes the same UUIDv5
    file_made = stix.make_sco("file", hashes={"SHA-256": "ab" * 32}, name="x.exe")
    file_lib = stix2.File(hashes={"SHA-256": "ab" * 32}, name="x.exe")
    assert file_made["id"] == file_lib.id
    assert _import(session, made, made).counts == {"stored": 1, "merged": 1, "rejected": 0}
    changed = {**made, "x_note": "extra property"}
    assert _import(session, changed).stored == 1
    session.commit()
    assert service.get_object(session=session, principal=ANALYST,
                              stix_id=made["id"]).object == changed


def test_revoked_objects_leave_the_correlation_index(session: Session) -> None:
    first = indicator(1, "[ipv4-addr:value = '203.0.113.9']")
    _import(session, first)
    assert service.related(session=session, principal=ANALYST, value_or_id="203.0.113.9",
                           hops=1).nodes
    _import(session, {**first, "modified": LATER, "revoked": True})
    assert service.related(session=session, principal=ANALYST, value_or_id="203.0.113.9",
                           hops=1).nodes == []
    assert service.get_object(session=session, principal=ANALYST,
                              stix_id=first["id"]).revoked


def test_labels_are_checked_and_a_refused_import_changes_nothing(session: Session) -> None:
    obj = indicator(1, "[ipv4-addr:value = '203.0.113.9']")
    with pytest.raises(Forbidden):
        _import(session, obj, labels=["COMMS"])
    session.rollback()
    assert session.scalar(select(func.count()).select_from(ObjectRow)) == 0
    with pytest.raises(InvalidInput, match="PUBLIC"):
        _import(session, obj, labels=["PUBLIC", "SECRET"])
    with pytest.raises(InvalidInput, match="unknown label"):
        _import(session, obj, labels=["TOP"])
    result = _import(session, obj, labels=["SECRET"], attributed_to="operator:sakura",
                     consent=["council_member"])
    assert result.labels.attributed[0].consent == ("council_member",)
    session.commit()
    record = service.get_object(session=session, principal=ANALYST, stix_id=obj["id"])
    assert record.labels.names == {"SECRET", "ATTRIBUTED"}


def test_carried_labels_only_add_restrictions(session: Session) -> None:
    obj = {**indicator(1, "[ipv4-addr:value = '203.0.113.9']"),
           HANDLING_PROPERTY: {"labels": ["COMMS"], "attributed": []}}
    with pytest.raises(Forbidden):  # an analyst cannot re-import COMMS content
        _import(session, obj, labels=["SECRET"])
    session.rollback()
    result = _import(session, obj, labels=["SECRET"], principal=HANDLER)
    assert result.stored == 1
    session.commit()
    record = service.get_object(session=session, principal=HANDLER, stix_id=obj["id"])
    assert record.labels == Labels(comms=True, secret=True)
    assert HANDLING_PROPERTY not in record.object


def _valid(content: dict) -> None:  # type: ignore[type-arg]
    results = validate_instance(content, ValidationOptions(version="2.1"))
    assert results.is_valid


def _strip(objects: list[dict]) -> list[str]:  # type: ignore[type-arg]
    return sorted(stix.canonical({k: v for k, v in o.items() if k != HANDLING_PROPERTY})
                  for o in objects)


def test_round_trip_is_lossless(session: Session, shared_data: Path) -> None:
    """A validator-valid bundle (ATT&CK objects, observables, versions, custom
    properties, a sighting and a note) exports exactly as imported, plus our labels."""
    attack = json.loads((shared_data / "attack" / "ics-attack-18.1.json").read_text("utf-8"))
    picked = [o for o in attack["objects"] if o["type"] in (
        "attack-pattern", "malware", "intrusion-set", "relationship", "x-mitre-tactic",
        "identity", "marking-definition", "course-of-action")][:120]
    ours = [
        indicator(1, "[ipv4-addr:value = '203.0.113.5'] AND [domain-name:value = 'c.example']",
                  name="日本語の名前 ✓", x_custom={"nested": [1, 2.5, None, True]}),
        {**indicator(1, "[ipv4-addr:value = '203.0.113.5']"), "modified": LATER},
        stix.make_sco("ipv4-addr", value="203.0.113.5"),
        stix.make_sco("url", value="https://c.example/a?b=1"),
        sdo("sighting", 1, sighting_of_ref=sid("indicator", 1), count=3),
        sdo("note", 1, content="analyst note", object_refs=[sid("indicator", 1)]),
    ]
    original = {"type": "bundle", "id": "bundle--0c1ad24e-8f2f-4a3b-9b6b-6f6f6e6f6d61",
                "objects": picked + ours}
    _valid(original)
    result = service.import_bundle(session=session, principal=ANALYST, bundle=original,
                                   source="round trip")
    assert result.rejected == []
    session.commit()
    exported = service.export_bundle(session=session, principal=ANALYST)
    _valid(exported)
    assert _strip(exported["objects"]) == _strip(original["objects"])
    assert all(o[HANDLING_PROPERTY]["labels"] == ["SECRET"] for o in exported["objects"])
    again = service.import_bundle(session=session, principal=ANALYST, bundle=exported,
                                  source="re-import")
    assert again.counts == {"stored": 0, "merged": len(original["objects"]), "rejected": 0}


def test_export_to_file_streams_the_same_bundle(session: Session, tmp_path: Path) -> None:
    _import(session, indicator(1, "[ipv4-addr:value = '203.0.113.5']"))
    session.commit()
    path = tmp_path / "out.json"
    count = service.export_to_file(session=session, principal=ANALYST, path=path)
    written = json.loads(path.read_text("utf-8"))
    assert count == 1 and written["objects"][0]["id"] == sid("indicator", 1)
    with pytest.raises(InvalidInput):
        service.export_to_file(session=session, principal=ANALYST, path=tmp_path)


def test_bundle_level_errors_change_nothing(session: Session, tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{not json", "utf-8")
    with pytest.raises(InvalidInput, match="line 1"):
        service.import_file(session=session, principal=ANALYST, path=bad)
    bad.write_text(json.dumps({"type": "report"}), "utf-8")
    with pytest.raises(InvalidInput, match="not a STIX bundle"):
        service.import_file(session=session, principal=ANALYST, path=bad)
    with pytest.raises(InvalidInput, match="cannot read"):
        service.import_file(session=session, principal=ANALYST, path=tmp_path / "missing.json")
    assert session.scalar(select(func.count()).select_from(ObjectRow)) == 0


def test_lineage_and_notes(session: Session) -> None:
    target = sdo("malware", 1, name="x", is_family=False)
    _import(session, target)
    note_id = service.add_note(session=session, principal=ANALYST, stix_id=target["id"],
                               text="seen again at a second operator")
    session.commit()
    note = service.get_object(session=session, principal=ANALYST, stix_id=note_id)
    assert note.derived_from == [target["id"]]
    assert note.object["object_refs"] == [target["id"]]
    assert note.labels == Labels(secret=True)
    with pytest.raises(NotFound):
        service.add_note(session=session, principal=ANALYST, stix_id=sid("malware", 99),
                         text="x")


def test_reindex_rebuilds_the_same_index(session: Session) -> None:
    from mamori.intel.models import IndexRow, RefRow

    from .conftest import HANDLER, SYSTEM

    _import(session, indicator(1, "[ipv4-addr:value = '203.0.113.5']"),
            sdo("malware", 1, name="x", is_family=False),
            relationship(1, sid("indicator", 1), "indicates", sid("malware", 1)))
    session.commit()
    before = sorted(session.execute(select(IndexRow.kind, IndexRow.key, IndexRow.object_id)))
    refs = sorted(session.execute(select(RefRow.ref, RefRow.object_id)))
    with pytest.raises(Forbidden):  # it touches COMMS rows: not for analysts
        service.reindex(session=session, principal=ANALYST)
    session.rollback()
    result = service.reindex(session=session, principal=SYSTEM)
    assert (result.objects, result.values, result.references) == (3, 1, 2)
    assert sorted(session.execute(select(IndexRow.kind, IndexRow.key,
                                         IndexRow.object_id))) == before
    assert sorted(session.execute(select(RefRow.ref, RefRow.object_id))) == refs
    assert service.reindex(session=session, principal=HANDLER).values == 1
