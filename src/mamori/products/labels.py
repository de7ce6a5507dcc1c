"""The labels lint: the last check before anything leaves, run on the serialised output.

It parses the STIX text a recipient would receive and, object by object, asks again what
the sanitiser decided: is every object accounted for, do its labels belong in this tier,
is a source that did not consent to this audience named anywhere, does anything that
was removed come back (in the narrative, say), are the tier markings on every object,
and does the content still match its digest. A product is never sent without passing it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

from mamori.products import bundle as frame
from mamori.products.audience import Audience
from mamori.products.output import (
    LintFinding,
    LintResult,
    TierOutput,
    content_digest,
    token_digest,
)
from mamori.products.sanitiser import Origin, name_pattern, tokens
from mamori.products.vocabulary import COMMS, PROVISION_DERIVED, SECRET

_FENCE = re.compile(r"^\s*\[/?(COMMS|SECRET)\]\s*$", re.MULTILINE | re.IGNORECASE)
GENERALISED_KEYS = frozenset({"type", "spec_version", "id", "created", "modified",
                              "created_by_ref", "name", "external_references",
                              "kill_chain_phases", "object_marking_refs"})


def serialise(output: TierOutput) -> str:
    """The STIX bundle as a recipient receives it."""
    return json.dumps(output.bundle, ensure_ascii=False, indent=2, sort_keys=False)


def _label_findings(oid: str, origin: Origin, tier: int) -> list[LintFinding]:
    found: list[LintFinding] = []
    released = origin.provision_derived or origin.independent
    if tier >= 2:
        if COMMS in origin.labels and not released:
            found.append(LintFinding("forbidden_label", oid, COMMS))
        if PROVISION_DERIVED in origin.labels and not released:
            found.append(LintFinding("forbidden_label", oid, PROVISION_DERIVED))
        if origin.comms_lineage and not released:
            found.append(LintFinding("forbidden_label", oid, "derived from COMMS"))
    if tier == 3:
        if SECRET in origin.labels and not origin.generalised:
            found.append(LintFinding("forbidden_label", oid, SECRET))
        if PROVISION_DERIVED in origin.labels or origin.provision_derived:
            found.append(LintFinding("forbidden_label", oid, PROVISION_DERIVED))
        if origin.secret_lineage:
            found.append(LintFinding("forbidden_label", oid, "derived from SECRET"))
    return found


def _object_findings(obj: Mapping[str, Any], output: TierOutput, tier: int,
                     audience: Audience, markings: list[str],
                     allowed_markings: set[str]) -> list[LintFinding]:
    oid = str(obj.get("id", ""))
    found: list[LintFinding] = []
    origin = output.origins.get(oid)
    own = output.framing.get(oid)
    if origin is None and own is None:
        return [LintFinding("unaccounted_object", oid)]
    if origin is not None:
        found += _label_findings(oid, origin, tier)
        unnamed = [a for a in origin.attributions if not a.named_to(audience)]
        if unnamed and obj.get("type") == "identity":
            found.append(LintFinding("attribution", oid, "identity of a source not named"))
        creator = obj.get("created_by_ref")
        if unnamed and creator is not None and output.framing.get(str(creator)) != "publisher" \
                and not output.origins.get(str(creator), Origin()).neutral:
            found.append(LintFinding("attribution", oid, "created_by_ref"))
        if origin.generalised and set(obj) - GENERALISED_KEYS:
            found.append(LintFinding("generalisation", oid,
                                     ",".join(sorted(set(obj) - GENERALISED_KEYS))))
    if obj.get("type") == "marking-definition":
        if oid not in allowed_markings:
            found.append(LintFinding("foreign_marking", oid))
    elif list(obj.get("object_marking_refs", ())) != markings:
        found.append(LintFinding("marking", oid, f"tier {tier} markings missing"))
    custom = sorted(k for k in obj if k.startswith("x_"))
    if custom or "granular_markings" in obj:
        found.append(LintFinding("custom_property", oid, ",".join(custom or ["granular"])))
    return found


def _scan(subject: str, text: str, output: TierOutput,
          patterns: list[re.Pattern[str]]) -> list[LintFinding]:
    found = [LintFinding("withheld_name", subject) for p in patterns if p.search(text)]
    key = output.withheld.key
    hits = sum(1 for t in tokens(text) if token_digest(key, t) in output.withheld.token_digests)
    if hits:
        found.append(LintFinding("withheld_content", subject, f"{hits} token(s)"))
    return found


def check_text(output: TierOutput, subject: str, text: str) -> list[LintFinding]:
    """Withheld names and removed content in any serialised form (HTML, CSAF, layer)."""
    patterns = [name_pattern(n) for n in sorted(output.withheld.names) if len(n) >= 2]
    return _scan(subject, text, output, patterns)


def lint_serialised(*, output: TierOutput, tier: int, audience: Audience,
                    text: str) -> LintResult:
    """Lint ``text``, the STIX serialisation of ``output``."""
    findings: list[LintFinding] = []
    if output.tier != tier:
        findings.append(LintFinding("tier_mismatch", "", f"built for tier {output.tier}"))
    if output.audience != audience:
        findings.append(LintFinding("audience_mismatch", "", "built for another audience"))
    if tier not in (1, 2, 3):
        return LintResult(False, (*findings, LintFinding("tier", "", "unknown tier")))
    try:
        parsed = json.loads(text)
    except ValueError:
        return LintResult(False, (*findings, LintFinding("invalid_json", "bundle")))
    objects = parsed.get("objects") if isinstance(parsed, dict) else None
    if parsed.get("type") != "bundle" or not isinstance(objects, list):
        return LintResult(False, (*findings, LintFinding("invalid_bundle", "bundle")))
    markings = frame.tier_markings(tier)
    allowed = set(markings)
    patterns = [name_pattern(n) for n in sorted(output.withheld.names) if len(n) >= 2]
    seen: set[str] = set()
    for obj in objects:
        if not isinstance(obj, dict):
            findings.append(LintFinding("invalid_bundle", "bundle", "non-object entry"))
            continue
        oid = str(obj.get("id", ""))
        if oid in seen:
            findings.append(LintFinding("duplicate_object", oid))
        seen.add(oid)
        findings += _object_findings(obj, output, tier, audience, markings, allowed)
        findings += _scan(oid, json.dumps(obj, ensure_ascii=False), output, patterns)
    for name, value in output.texts.items():
        findings += _scan(name, value, output, patterns)
        if _FENCE.search(value):
            findings.append(LintFinding("narrative_mark", name))
    recomputed = content_digest(product_id=output.product_id, version=output.version,
                                tier=output.tier, audience=output.audience, bundle=parsed,
                                texts=output.texts)
    if recomputed != output.digest:
        findings.append(LintFinding("digest_mismatch", "bundle"))
    return LintResult(passed=not findings, findings=tuple(_unique(findings)),
                      checked=len(objects))


def _unique(findings: Iterable[LintFinding]) -> list[LintFinding]:
    return list(dict.fromkeys(findings))


def lint(*, output: TierOutput, tier: int, audience: Audience) -> LintResult:
    """Re-check the labels of ``output`` on its serialised form for ``tier`` and
    ``audience``; the output may be sent only when ``passed`` is true."""
    return lint_serialised(output=output, tier=tier, audience=audience, text=serialise(output))
