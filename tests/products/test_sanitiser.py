"""The sanitiser and the lint on hand-made store objects (no database): the rules one by
one, each with the case that must pass and the case that must not."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime

from mamori.products import bundle as frame
from mamori.products import techniques
from mamori.products.audience import Audience
from mamori.products.labels import lint
from mamori.products.output import TierOutput, Withheld, content_digest
from mamori.products.sanitisation_report import SanitisationReport
from mamori.products.sanitiser import Draft, sanitise
from mamori.products.source import Attribution, SourceObject

from .conftest import identity, indicator, relationship

NOW = datetime(2026, 5, 1, tzinfo=UTC)
OP = identity("op", "Kaede Gas OPERATORNAME")
A = indicator("a", "192.0.2.1", created_by_ref=OP["id"])
B = indicator("b", "192.0.2.2")
C = indicator("c", "192.0.2.3")
PLAIN = indicator("plain", "192.0.2.4")
REL = relationship("ab", PLAIN["id"], B["id"], "related-to")
NOTE = {"type": "note", "spec_version": "2.1", "id": "note--8c5f5b3e-0d7a-4f5c-9d1e-2a3b4c5d6e7f",
        "created": "2026-04-01T00:00:00.000Z", "modified": "2026-04-01T00:00:00.000Z",
        "content": "About both", "object_refs": [PLAIN["id"], C["id"]]}


def obj(stix: dict, *labels: str, attributed: tuple[Attribution, ...] = (),
        derived: tuple[str, ...] = (), independent: bool = False) -> SourceObject:
    return SourceObject(stix=stix, labels=frozenset(labels), attributions=attributed,
                        derived_from=derived, independent=independent)


def build(objects: list[SourceObject], tier: int, audience: Audience, *,
          context: dict | None = None, released: frozenset[str] = frozenset(),
          narrative: str = "") -> TierOutput:
    draft = Draft("PRD-2026-0100", 1, "題", "Title", "", narrative, "", "",
                  tuple(o.id for o in objects))
    result = sanitise(draft=draft, objects={o.id: o for o in objects}, context=context or {},
                      tier=tier, audience=audience, provision_derived=released,
                      technique=techniques.technique, publisher_id=frame.PUBLISHER_ID)
    bundle, framing = frame.frame(product_id="PRD-2026-0100", version=1, tier=tier,
                                  audience_key=audience.key(), first_created=NOW,
                                  version_created=NOW, use="tactical", texts=result.texts,
                                  objects=result.objects)
    output = TierOutput(
        product_id="PRD-2026-0100", version=1, tier=tier, audience=audience, use="tactical",
        readers=("security_team",), bundle=bundle,
        report=SanitisationReport("PRD-2026-0100", 1, tier, audience.key(),
                                  tuple(result.items)),
        digest=content_digest(product_id="PRD-2026-0100", version=1, tier=tier,
                              audience=audience, bundle=bundle, texts=result.texts),
        built_at=NOW, origins=result.origins, framing=framing,
        withheld=Withheld.of(result.withheld_names, result.withheld_tokens), **result.texts)
    return replace(output, lint=lint(output=output, tier=tier, audience=audience))


def text(output: TierOutput) -> str:
    return json.dumps(output.bundle, ensure_ascii=False) + json.dumps(output.texts)


def test_consent_covers_category_organisation_everyone_or_a_known_consent() -> None:
    for consent, audience, named in [
        ({"council_member"}, Audience("council_member"), True),
        ({"council_member"}, Audience("supplier"), False),
        ({"organisation:4"}, Audience("supplier", organisation_id=4), True),
        ({"organisation:4"}, Audience("supplier", organisation_id=5), False),
        ({"*"}, Audience("foreign_government"), True),
        (set(), Audience("supplier", attribution_consents=frozenset({"operator:kaede"})), True),
        (set(), Audience("supplier"), False),
    ]:
        who = (Attribution("operator:kaede", frozenset(consent)),)
        output = build([obj(OP, "PUBLIC", attributed=who), obj(A, "PUBLIC", attributed=who)],
                       2, audience, narrative="Reported by Kaede Gas OPERATORNAME.")
        assert output.lint.passed, output.lint.findings
        assert ("OPERATORNAME" in text(output)) is named, (consent, audience)
        assert ("Reporting operator A" in output.narrative_en) is not named


def test_a_name_in_a_machine_field_removes_the_object() -> None:
    who = (Attribution("operator:kaede", frozenset()),)
    leaky = indicator("leak", "192.0.2.9", external_references=[
        {"source_name": "ticket", "description": "filed by Kaede Gas OPERATORNAME"}])
    output = build([obj(OP, "PUBLIC", attributed=who), obj(leaky, "PUBLIC")], 2,
                   Audience("supplier"))
    assert "OPERATORNAME" not in text(output) and output.lint.passed
    assert ("attribution", "removed") in {(i.reason, i.action) for i in output.report.items}


def test_references_to_removed_objects() -> None:
    objects = [obj(PLAIN, "PUBLIC"), obj(B, "COMMS"), obj(C, "PUBLIC"), obj(REL, "PUBLIC"),
               obj(NOTE, "PUBLIC")]
    output = build(objects, 2, Audience("council_member"))
    kinds = {o["type"] for o in output.objects if o["id"] not in output.framing}
    assert "relationship" not in kinds  # its target was communications-derived
    note = next(o for o in output.objects if o["type"] == "note")
    assert note["object_refs"] == [PLAIN["id"], C["id"]] and note["id"] == NOTE["id"]
    without_c = build([obj(PLAIN, "PUBLIC"), obj(C, "SECRET"), obj(NOTE, "PUBLIC")], 3,
                      Audience("computer_user_public"))
    note3 = next(o for o in without_c.objects if o["type"] == "note")
    assert note3["object_refs"] == [PLAIN["id"]] and note3["id"] != NOTE["id"]  # a new id
    assert without_c.lint.passed
    again = build([obj(PLAIN, "PUBLIC"), obj(C, "SECRET"), obj(NOTE, "PUBLIC")], 3,
                  Audience("computer_user_public"))
    assert again.digest == without_c.digest


def test_lineage() -> None:
    derived = indicator("d", "192.0.2.50")
    comms = obj(B, "COMMS")
    for context, kept in [({B["id"]: comms}, False),
                          ({B["id"]: replace(comms, independent=True)}, True),
                          ({B["id"]: None}, False), ({}, False)]:
        output = build([obj(derived, "PUBLIC", derived=(B["id"],))], 2,
                       Audience("council_member"), context=context)
        assert any(o["id"] == derived["id"] for o in output.objects) is kept, context
    released = build([obj(derived, "SECRET", derived=(B["id"],))], 2,
                     Audience("council_member"), context={B["id"]: obj(B, "PROVISION_DERIVED")},
                     released=frozenset({B["id"]}))
    assert any(o["id"] == derived["id"] for o in released.objects)
    public_tier3 = build([obj(derived, derived=(C["id"],))], 3, Audience("supplier"),
                         context={C["id"]: obj(C, "SECRET")})
    assert not any(o["id"] == derived["id"] for o in public_tier3.objects)
    declared = build([obj(derived, "PUBLIC", derived=(C["id"],))], 3, Audience("supplier"),
                     context={C["id"]: obj(C, "SECRET")})
    assert any(o["id"] == derived["id"] for o in declared.objects)


def test_lint_reads_the_serialised_output() -> None:
    output = build([obj(PLAIN, "PUBLIC"), obj(C, "SECRET")], 2, Audience("council_member"))
    assert output.lint.passed
    assert not lint(output=output, tier=3, audience=output.audience).passed
    objects = [dict(o) for o in output.bundle["objects"]]
    target = next(o for o in objects if o["id"] == PLAIN["id"])
    target.pop("object_marking_refs")
    target["x_source"] = "internal"
    tampered = replace(output, bundle={**output.bundle, "objects": objects})
    codes = {f.code for f in lint(output=tampered, tier=2, audience=output.audience).findings}
    assert {"marking", "custom_property", "digest_mismatch"} <= codes
    fenced = replace(output, narrative_en="[SECRET]\nleft behind\n[/SECRET]")
    assert "narrative_mark" in {f.code for f in lint(output=fenced, tier=2,
                                                     audience=output.audience).findings}
    tier3 = build([obj(PLAIN, "PUBLIC"), obj(C, "SECRET")], 3, Audience("council_member"),
                  narrative="As seen at 192.0.2.3.")
    assert "withheld_content" in {f.code for f in tier3.lint.findings}
