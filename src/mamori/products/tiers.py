"""Building a tier output of a product for an audience (issue 8 item 2).

Tier 1 (総合整理分析情報) holds everything the analysis holds; tier 2 (提供用) holds no
communications-derived content; tier 3 (周知等用) holds neither that nor secrets. Every
output — tier 1 included, since attribution depends on the audience — is made by the
sanitiser, framed as a STIX bundle, digested and linted; the build is recorded and
audited by digest and counts, never by content. Only the current version of a product
is ever built (one voice, R-5.3-1).
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

from sqlalchemy.orm import Session

from mamori.access.principal import Principal
from mamori.db import utcnow
from mamori.errors import InvalidInput
from mamori.products import bundle as frame
from mamori.products import criteria, guard, store, techniques
from mamori.products.audience import Audience
from mamori.products.compose import labels_of, load_row
from mamori.products.labels import lint
from mamori.products.models import TierBuild
from mamori.products.output import TierOutput, Withheld, content_digest
from mamori.products.sanitisation_report import SanitisationReport
from mamori.products.sanitiser import TEXT_FIELDS, Draft, sanitise, tokens

TIER_ARTICLES = {1: "Act No. 42 of 2025, Art 38", 2: "Act No. 42 of 2025, Arts 40, 45",
                 3: "Act No. 42 of 2025, Arts 40-42"}


def check_tier(tier: object) -> int:
    if isinstance(tier, bool) or not isinstance(tier, int) or tier not in (1, 2, 3):
        raise InvalidInput("tier: 1, 2 or 3", field="tier")
    return tier


def build_tier(
    *, session: Session, principal: Principal, product_id: str, tier: int, audience: Audience,
) -> TierOutput:
    """The current version of ``product_id`` as ``tier`` for ``audience``, sanitised,
    framed, digested and linted (check ``output.lint.passed`` before sending)."""
    tier = check_tier(tier)
    if not isinstance(audience, Audience):
        raise InvalidInput("audience: expected an Audience", field="audience")
    row = load_row(session, product_id)
    guard.authorize(session=session, principal=principal, action="product.build",
                    resource=guard.product(row.product_id, labels_of(row)))
    ids = list(row.object_ids)
    released = criteria.standing(session, ids)
    loaded = store.load(session=session, principal=principal, ids=ids, tier=tier,
                        released=released)
    released = criteria.standing(session, [*ids, *loaded.context])
    draft = Draft(product_id=row.product_id, version=row.version, title_ja=row.title_ja,
                  title_en=row.title_en, narrative_ja=row.narrative_ja,
                  narrative_en=row.narrative_en, actions_ja=row.actions_ja,
                  actions_en=row.actions_en, object_ids=tuple(ids))
    result = sanitise(draft=draft, objects=loaded.objects, context=loaded.context, tier=tier,
                      audience=audience, provision_derived=released,
                      technique=techniques.technique, publisher_id=frame.PUBLISHER_ID)
    first = load_row(session, row.product_id, 1).created_at if row.version > 1 else row.created_at
    def framed(texts: dict[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
        return frame.frame(product_id=row.product_id, version=row.version, tier=tier,
                           audience_key=audience.key(), first_created=first,
                           version_created=row.created_at, use=row.use, texts=texts,
                           objects=result.objects)

    bundle, framing = framed(result.texts)
    skeleton, _ = framed(dict.fromkeys(TEXT_FIELDS, ""))
    withheld_tokens = result.withheld_tokens - tokens(json.dumps(skeleton, ensure_ascii=False))
    criteria_version = criteria.in_force(session).version
    report = SanitisationReport(product_id=row.product_id, version=row.version, tier=tier,
                                audience_key=audience.key(), items=tuple(result.items),
                                kept=len(result.objects),
                                criteria_versions=(criteria_version,))
    output = TierOutput(
        product_id=row.product_id, version=row.version, tier=tier, audience=audience,
        use=row.use, readers=tuple(row.readers), bundle=bundle, report=report,
        digest=content_digest(product_id=row.product_id, version=row.version, tier=tier,
                              audience=audience, bundle=bundle, texts=result.texts),
        built_at=utcnow(), origins=result.origins, framing=framing,
        withheld=Withheld.of(result.withheld_names, withheld_tokens),
        title_ja=result.texts["title_ja"], title_en=result.texts["title_en"],
        narrative_ja=result.texts["narrative_ja"], narrative_en=result.texts["narrative_en"],
        actions_ja=result.texts["actions_ja"], actions_en=result.texts["actions_en"])
    output = replace(output, lint=lint(output=output, tier=tier, audience=audience))
    session.add(TierBuild(
        product_id=row.product_id, version=row.version, tier=tier,
        audience_category=audience.category, audience_organisation_id=audience.organisation_id,
        audience_key=audience.key(), digest=output.digest, lint_passed=output.lint.passed,
        lint=output.lint.as_dict(), report=report.as_dict(), built_by=principal.username,
        built_at=output.built_at))
    session.flush()
    guard.audit(session=session, principal=principal, action="product.tier_built",
                object_type="product", object_id=row.product_id,
                details={"version": row.version, "tier": tier,
                         "audience": audience.category,
                         "audience_organisation_id": audience.organisation_id,
                         "digest": output.digest, "objects": report.kept,
                         "sanitised": report.counts(), "lint_passed": output.lint.passed},
                legal_basis=TIER_ARTICLES[tier])
    return output
