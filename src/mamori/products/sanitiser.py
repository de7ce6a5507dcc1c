"""The sanitiser: the only way from what the analysis holds (tier 1) down to what a tier
and an audience may receive. Every tier output of every product passes through
:func:`sanitise`; nothing else removes, generalises or re-identifies content.

Rules, in order (ARCHITECTURE.md "Handling labels and tiers"):

* Tiers 2 and 3 carry no communications-derived content (R-4.3-8): an object labelled
  COMMS, or derived (through any chain of ``derived_from``) from such an object, is
  removed — unless it rests on a standing determination as releasable selected
  information (PROVISION_DERIVED, R-3.3-17), which cuts the chain, or it is also known
  from a source that is not communications-derived. An ancestor the store does not let
  us read counts as communications-derived. A PROVISION_DERIVED label without a
  standing determination counts as COMMS.
* Tier 3 carries no SECRET content and no releasable selected information (R-4.3-10).
  A SECRET ATT&CK technique is generalised to the public technique; other SECRET
  objects are removed. Secrecy is the object's own label: deriving from a secret does
  not make a thing secret, the analyst labels what is.
* In every tier, a reporting source that did not consent to be named to the audience is
  replaced by a neutral marker (R-5.4-3, R-6.3-4): its identity object, every reference
  to it, and its name wherever it appears in prose (an object that holds the name in a
  machine field such as a pattern is removed).
* The output is self-contained: references to anything not in it are dropped, and an
  object that cannot stand without them is removed. Objects whose content changed get
  a new id, because STIX promises that an id and a ``modified`` name one content.

Everything removed or changed is written to the sanitisation report, by id and reason.
"""

from __future__ import annotations

import copy
import re
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from mamori.products import narrative as narrative_marks
from mamori.products.audience import Audience
from mamori.products.sanitisation_report import Action, SanitisationItem
from mamori.products.source import Attribution, SourceObject
from mamori.products.vocabulary import COMMS, PROVISION_DERIVED, PUBLIC, SECRET

NAMESPACE = uuid.UUID("3b0c6f6e-52d4-5d0a-9a57-1f0a4c2d7e61")
# The moment our generalised ATT&CK objects are dated: the release of ATT&CK v18.
ATTACK_EPOCH = "2025-10-28T00:00:00.000Z"

# Fields whose text is prose: a withheld name in them is replaced by the neutral marker.
PROSE = frozenset({"name", "description", "abstract", "content", "explanation", "opinion",
                   "labels", "aliases", "goals", "roles", "objective", "context",
                   "summary", "authors", "contact_information"})
# References an object cannot stand without.
REQUIRED_REFS: dict[str, frozenset[str]] = {
    "relationship": frozenset({"source_ref", "target_ref"}),
    "sighting": frozenset({"sighting_of_ref"}),
    "language-content": frozenset({"object_ref"}),
    "report": frozenset({"object_refs"}),
    "note": frozenset({"object_refs"}),
    "opinion": frozenset({"object_refs"}),
    "grouping": frozenset({"object_refs"}),
    "observed-data": frozenset({"object_refs"}),
}
SCO_TYPES = frozenset({
    "artifact", "autonomous-system", "directory", "domain-name", "email-addr",
    "email-message", "file", "ipv4-addr", "ipv6-addr", "mac-addr", "mutex",
    "network-traffic", "process", "software", "url", "user-account",
    "windows-registry-key", "x509-certificate",
})
_TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:/@%+=~-]*[A-Za-z0-9]")
_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T[\d:.]+Z?$")
_NOT_CONTENT_KEYS = frozenset({"type", "spec_version", "created", "modified"})
TEXT_FIELDS = ("title_ja", "title_en", "narrative_ja", "narrative_en", "actions_ja",
               "actions_en")


@dataclass(frozen=True)
class Draft:
    """What the analyst wrote and chose, for one product version."""

    product_id: str
    version: int
    title_ja: str
    title_en: str
    narrative_ja: str
    narrative_en: str
    actions_ja: str
    actions_en: str
    object_ids: tuple[str, ...]

    def texts(self) -> dict[str, str]:
        return {name: getattr(self, name) for name in TEXT_FIELDS}


@dataclass(frozen=True)
class Origin:
    """Where an output object came from, for the lint: the store objects, their labels,
    and the facts that allowed it into the tier."""

    sources: tuple[str, ...] = ()
    labels: frozenset[str] = frozenset()
    provision_derived: bool = False
    independent: bool = False
    comms_lineage: bool = False
    generalised: bool = False
    neutral: bool = False
    attributions: tuple[Attribution, ...] = ()
    secret_lineage: bool = False


@dataclass
class Sanitised:
    """The sanitiser's result: output objects (without tier markings), where each came
    from, the report items, the texts, and what must never appear in the output."""

    objects: list[dict[str, Any]]
    origins: dict[str, Origin]
    items: list[SanitisationItem]
    texts: dict[str, str]
    withheld_names: frozenset[str] = field(default_factory=frozenset, repr=False)
    withheld_tokens: frozenset[str] = field(default_factory=frozenset, repr=False)


@dataclass(frozen=True)
class Technique:
    """A public ATT&CK technique, to generalise a secret one to."""

    id: str
    name: str
    url: str
    tactics: tuple[str, ...]


TechniqueLookup = Callable[[str], Technique | None]


def name_pattern(name: str) -> re.Pattern[str]:
    """How a withheld name is found: case-insensitive, whole words for ASCII names."""
    escaped = re.escape(name)
    if name[:1].isascii() and name[:1].isalnum():
        escaped = r"(?<![A-Za-z0-9])" + escaped
    if name[-1:].isascii() and name[-1:].isalnum():
        escaped += r"(?![A-Za-z0-9])"
    return re.compile(escaped, re.IGNORECASE)


def stix_id(kind: str, *parts: object) -> str:
    return f"{kind}--{uuid.uuid5(NAMESPACE, '/'.join(str(p) for p in (kind, *parts)))}"


def tokens(text: str) -> set[str]:
    """Distinctive tokens of a text: ASCII runs of six or more characters holding a digit
    or a separator (addresses, domains, hashes, ids), never timestamps."""
    found = set()
    for token in _TOKEN.findall(text):
        if len(token) < 6 or _TIMESTAMP.match(token):
            continue
        if any(c.isdigit() for c in token) or any(c in "._:/@" for c in token):
            found.add(token.lower())
    return found


def strings(value: Any, *, skip: frozenset[str] = _NOT_CONTENT_KEYS) -> Iterable[str]:
    """Every string leaf of a STIX value, except those of the keys in ``skip``."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for key, item in value.items():
            if key not in skip:
                yield from strings(item, skip=skip)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from strings(item, skip=skip)


Path = tuple[str, ...]


def references(obj: Mapping[str, Any], path: Path = ()) -> Iterable[tuple[Path, str]]:
    """(path, id) of every reference in an object, top level and nested."""
    for key, value in obj.items():
        if key.endswith("_ref") and isinstance(value, str):
            yield (*path, key), value
        elif key.endswith("_refs") and isinstance(value, list):
            for item in value:
                if isinstance(item, str):
                    yield (*path, key), item
        elif isinstance(value, Mapping):
            yield from references(value, (*path, key))
        elif isinstance(value, list):
            for item in value:
                if isinstance(item, Mapping):
                    yield from references(item, (*path, key))


def _rewrite_refs(obj: Any, mapping: Mapping[str, str], keep: Callable[[str], bool]) -> Any:
    """``obj`` with references mapped and those not kept dropped (lists filtered,
    single references deleted)."""
    if not isinstance(obj, Mapping):
        return obj
    result: dict[str, Any] = {}
    for key, value in obj.items():
        if key.endswith("_ref") and isinstance(value, str):
            target = mapping.get(value, value)
            if keep(target):
                result[key] = target
        elif key.endswith("_refs") and isinstance(value, list):
            result[key] = [mapping.get(v, v) for v in value
                           if isinstance(v, str) and keep(mapping.get(v, v))]
        elif isinstance(value, Mapping):
            result[key] = _rewrite_refs(value, mapping, keep)
        elif isinstance(value, list):
            result[key] = [_rewrite_refs(v, mapping, keep) for v in value]
        else:
            result[key] = value
    return result


def _replace_names(value: Any, names: list[tuple[re.Pattern[str], str]]) -> tuple[Any, bool]:
    if isinstance(value, str):
        new = value
        for pattern, marker in names:
            new = pattern.sub(marker, new)
        return new, new != value
    if isinstance(value, list):
        parts = [_replace_names(v, names) for v in value]
        return [p[0] for p in parts], any(p[1] for p in parts)
    if isinstance(value, Mapping):
        changed = False
        out: dict[str, Any] = {}
        for key, item in value.items():
            out[key], hit = _replace_names(item, names)
            changed = changed or hit
        return out, changed
    return value, False


class _Run:
    """One sanitisation: the state shared by the steps below."""

    def __init__(self, *, draft: Draft, objects: Mapping[str, SourceObject],
                 context: Mapping[str, SourceObject | None], tier: int, audience: Audience,
                 provision_derived: frozenset[str], technique: TechniqueLookup,
                 publisher_id: str) -> None:
        self.draft = draft
        self.objects = objects
        self.context = context
        self.tier = tier
        self.audience = audience
        self.rsi = provision_derived
        self.technique = technique
        self.publisher_id = publisher_id
        self.items: list[SanitisationItem] = []
        self.kept: dict[str, dict[str, Any]] = {}
        self.origins: dict[str, Origin] = {}
        self.removed_content: list[Any] = []
        self.withheld_names: set[str] = set()
        self.changed: set[str] = set()
        self.mapping: dict[str, str] = {}

    # -- bookkeeping -------------------------------------------------------------------

    def note(self, subject: str, kind: str, action: Action, reason: str, detail: str = "") -> None:
        self.items.append(SanitisationItem(subject, kind, action, reason, detail))

    def remove(self, oid: str, kind: str, reason: str, detail: str = "") -> None:
        obj = self.kept.pop(oid, None)
        if obj is not None:
            self.removed_content.append(obj)
        elif oid in self.objects:
            self.removed_content.append(self.objects[oid].stix)
        self.origins.pop(oid, None)
        self.note(oid, kind, "removed", reason, detail)

    # -- communications-derived content -------------------------------------------------

    def _comms(self, src: SourceObject) -> bool:
        return (COMMS in src.labels or PROVISION_DERIVED in src.labels) and not src.independent

    def lineage_tainted(self, src: SourceObject) -> bool:
        """Whether any chain of ``derived_from`` reaches communications-derived content
        that no standing determination released."""
        seen: set[str] = set()
        stack = list(src.derived_from)
        while stack:
            oid = stack.pop()
            if oid in seen:
                continue
            seen.add(oid)
            if oid in self.rsi:
                continue
            ancestor = self.context.get(oid) or self.objects.get(oid)
            if ancestor is None or self._comms(ancestor):
                return True
            stack.extend(ancestor.derived_from)
        return False

    def secret_lineage(self, src: SourceObject) -> bool:
        """For tier 3: whether ``src`` (not itself declared PUBLIC) derives, through
        objects not declared PUBLIC, from a secret or from releasable selected
        information. A PUBLIC label is the declaration that content is publishable."""
        if PUBLIC in src.labels:
            return False
        seen: set[str] = set()
        stack = list(src.derived_from)
        while stack:
            oid = stack.pop()
            if oid in seen:
                continue
            seen.add(oid)
            ancestor = self.context.get(oid) or self.objects.get(oid)
            if ancestor is None:
                return True
            if PUBLIC in ancestor.labels:
                continue
            if oid in self.rsi or SECRET in ancestor.labels \
                    or PROVISION_DERIVED in ancestor.labels:
                return True
            stack.extend(ancestor.derived_from)
        return False

    def admit(self, src: SourceObject) -> str | None:
        """The reason ``src`` may not enter this tier, or None."""
        if self.tier == 1:
            return None
        released = src.id in self.rsi
        if self.tier == 3 and (released or PROVISION_DERIVED in src.labels):
            return "provision_derived_tier3"
        if not released:
            if PROVISION_DERIVED in src.labels and not src.independent:
                return "provision_derived_undetermined"
            if COMMS in src.labels and not src.independent:
                return "comms"
            if not src.independent and self.lineage_tainted(src):
                return "comms_lineage"
        if self.tier == 3 and SECRET not in src.labels and self.secret_lineage(src):
            return "secret_lineage"
        return None

    # -- steps -------------------------------------------------------------------------

    def select(self) -> None:
        for oid in self.draft.object_ids:
            src = self.objects.get(oid)
            kind = oid.split("--", 1)[0]
            if src is None:
                self.note(oid, kind, "removed", "not_available")
                continue
            if src.type == "marking-definition":
                self.remove(oid, kind, "source_markings")
                continue
            reason = self.admit(src)
            if reason is not None:
                self.remove(oid, kind, reason)
                continue
            if self.tier == 3 and SECRET in src.labels:
                general = self.generalise(src)
                if general is None:
                    self.remove(oid, kind, "secret")
                    continue
                self.removed_content.append(src.stix)
                self.mapping[oid] = general["id"]
                self.note(oid, kind, "generalised", "secret_generalised", general["id"])
                self.kept[general["id"]] = general
                self.origins[general["id"]] = Origin(sources=(oid,), labels=src.labels,
                                                     generalised=True)
                continue
            self.keep(src)
        self.add_creators()

    def keep(self, src: SourceObject) -> None:
        obj = copy.deepcopy(dict(src.stix))
        custom = sorted(k for k in obj if k.startswith("x_"))
        for key in custom:
            self.removed_content.append(obj.pop(key))
        if custom:
            self.note(src.id, src.type, "changed", "custom_properties", ",".join(custom))
        obj.pop("granular_markings", None)
        obj.pop("object_marking_refs", None)
        self.kept[src.id] = obj
        self.origins[src.id] = Origin(
            sources=(src.id,), labels=src.labels, provision_derived=src.id in self.rsi,
            independent=src.independent, attributions=src.attributions,
            comms_lineage=self.tier > 1 and self.lineage_tainted(src),
            secret_lineage=self.tier == 3 and self.secret_lineage(src))

    def add_creators(self) -> None:
        """Bring in the identities that kept objects name as their creator, when the
        store lets us read them and the tier admits them."""
        for obj in list(self.kept.values()):
            creator = obj.get("created_by_ref")
            if not isinstance(creator, str) or creator in self.kept \
                    or creator == self.publisher_id:
                continue
            src = self.context.get(creator)
            if src is None or src.type != "identity" or self.admit(src) is not None:
                continue
            if self.tier == 3 and SECRET in src.labels:
                continue
            self.keep(src)

    def generalise(self, src: SourceObject) -> dict[str, Any] | None:
        """The public ATT&CK technique of a secret attack-pattern, or None."""
        if src.type != "attack-pattern":
            return None
        ids = [str(r.get("external_id", "")) for r in src.stix.get("external_references", ())
               if isinstance(r, Mapping) and r.get("source_name") in ("mitre-attack",
                                                                      "mitre-ics-attack")]
        found = next((t for t in map(self.technique, ids) if t is not None), None)
        if found is None:
            return None
        obj: dict[str, Any] = {
            "type": "attack-pattern", "spec_version": "2.1",
            "id": stix_id("attack-pattern", "attack", found.id),
            "created": ATTACK_EPOCH, "modified": ATTACK_EPOCH,
            "created_by_ref": self.publisher_id,
            "name": found.name,
            "external_references": [{"source_name": "mitre-attack", "external_id": found.id,
                                     "url": found.url}],
        }
        if found.tactics:
            obj["kill_chain_phases"] = [{"kill_chain_name": "mitre-attack", "phase_name": t}
                                        for t in found.tactics]
        return obj

    def attribution(self) -> dict[str, str]:
        """Neutral markers for every identity of a source not named to the audience;
        returns the neutral marker name for each withheld name."""
        hidden: dict[str, SourceObject | None] = {}
        sources: set[str] = set()
        considered = [self.objects[oid] for oid in self.draft.object_ids if oid in self.objects]
        considered += [c for o in self.kept if o not in self.objects
                       and (c := self.context.get(o)) is not None]
        for src in considered:
            unnamed = [a for a in src.attributions if not a.named_to(self.audience)]
            sources.update(a.source for a in unnamed)
            if not unnamed:
                continue
            creator = src.stix.get("created_by_ref")
            if isinstance(creator, str) and creator != self.publisher_id:
                hidden.setdefault(creator, self.objects.get(creator) or self.context.get(creator))
            if src.type == "identity":
                hidden[src.id] = src
        markers: dict[str, str] = {}
        for letter_index, original in enumerate(sorted(hidden)):
            identity = hidden[original]
            letter = _letter(letter_index)
            name = f"報告事業者{letter} / Reporting operator {letter}"
            neutral: dict[str, Any] = {
                "type": "identity", "spec_version": "2.1",
                "id": stix_id("identity", "neutral", self.draft.product_id, original),
                "created": ATTACK_EPOCH, "modified": ATTACK_EPOCH,
                "created_by_ref": self.publisher_id,
                "name": name, "identity_class": "organization",
            }
            if identity is not None:
                sectors = identity.stix.get("sectors")
                if isinstance(sectors, list) and sectors:
                    neutral["sectors"] = list(sectors)
                for key in ("name", "description", "contact_information"):
                    value = identity.stix.get(key)
                    if isinstance(value, str) and len(value.strip()) >= 2:
                        self.withheld_names.add(value.strip())
                        if key == "name":
                            markers[value.strip()] = name
                self.removed_content.append(identity.stix)
            self.withheld_names.add(original)
            self.mapping[original] = neutral["id"]
            if original in self.kept:
                self.kept.pop(original)
                self.origins.pop(original, None)
                self.note(original, "identity", "replaced", "attribution", neutral["id"])
            self.kept[neutral["id"]] = neutral
            self.origins[neutral["id"]] = Origin(neutral=True)
        for source in sources:
            self.withheld_names.add(source)
            markers.setdefault(source, "報告事業者 / Reporting operator")
        return markers

    def resolve_references(self) -> None:
        """Map references to replacements and drop those to anything not in the output;
        remove what cannot stand without them. Repeats until nothing changes."""
        while True:
            present = set(self.kept) | {self.publisher_id}
            dropped: list[tuple[str, str]] = []
            for oid, obj in list(self.kept.items()):
                kind = obj["type"]
                before = list(references(obj))
                if all(self.mapping.get(t, t) in present and self.mapping.get(t, t) == t
                       for _, t in before):
                    continue
                required = REQUIRED_REFS.get(kind, frozenset())
                missing = {path for path, t in before if self.mapping.get(t, t) not in present}
                fatal = any(len(p) > 1 or kind in SCO_TYPES
                            or (p[0] in required and not p[0].endswith("_refs"))
                            for p in missing)
                rewritten = _rewrite_refs(obj, self.mapping, present.__contains__)
                emptied = any(rewritten.get(k) == [] for k in required if k.endswith("_refs"))
                if fatal or emptied:
                    dropped.append((oid, kind))
                    continue
                self.kept[oid] = rewritten
                self.changed.add(oid)
                if missing:
                    self.note(oid, kind, "changed", "dangling_reference",
                              ",".join(sorted(".".join(p) for p in missing)))
            for oid, kind in dropped:
                self.remove(oid, kind, "dangling_reference")
            if not dropped:
                return

    def replace_names(self, markers: Mapping[str, str]) -> None:
        names = [(name_pattern(name), marker)
                 for name, marker in sorted(markers.items(), key=lambda m: -len(m[0]))
                 if len(name) >= 2]
        if not names:
            return
        for oid, obj in list(self.kept.items()):
            if self.origins.get(oid, Origin()).neutral:
                continue
            out: dict[str, Any] = {}
            hits: list[str] = []
            machine_hit = False
            for key, value in obj.items():
                new, hit = _replace_names(value, names)
                if hit and key not in PROSE:
                    machine_hit = True
                    break
                out[key] = new
                if hit:
                    hits.append(key)
            if machine_hit:
                self.remove(oid, obj["type"], "attribution")
                continue
            if hits:
                self.removed_content.append(obj)
                self.kept[oid] = out
                self.changed.add(oid)
                self.note(oid, obj["type"], "changed", "attribution_text", ",".join(hits))

    def reidentify(self) -> None:
        """New ids for objects whose content changed (and for those that refer to them);
        a changed cyber-observable is removed, since its id is defined by its content."""
        while True:
            changed = {oid for oid in self.changed if oid in self.kept}
            while True:
                more = {oid for oid, obj in self.kept.items() if oid not in changed
                        and any(t in changed for _, t in references(obj))}
                if not more:
                    break
                changed |= more
            observables = sorted(o for o in changed if self.kept[o]["type"] in SCO_TYPES)
            if not observables:
                break
            for oid in observables:
                self.remove(oid, self.kept[oid]["type"], "dangling_reference")
            self.resolve_references()
        mapping = {oid: stix_id(self.kept[oid]["type"], "sanitised", oid, self.draft.product_id,
                                self.tier, self.audience.key())
                   for oid in changed}
        renamed: dict[str, dict[str, Any]] = {}
        origins: dict[str, Origin] = {}
        for oid, obj in self.kept.items():
            new = _rewrite_refs(obj, mapping, lambda _t: True)
            new["id"] = mapping.get(oid, oid)
            renamed[new["id"]] = new
            origins[new["id"]] = self.origins[oid]
        self.kept, self.origins = renamed, origins

    def removed_names(self, markers: dict[str, str]) -> None:
        """Names of what was removed must not come back through the texts: an
        organisation's name is replaced by a neutral marker, any other name (four
        characters or more, and not also in what is kept) is left for the lint to find."""
        kept_text = "\n".join(t for obj in self.kept.values() for t in strings(obj)).casefold()
        for value in self.removed_content:
            if not isinstance(value, Mapping) or not isinstance(value.get("name"), str):
                continue
            name = value["name"].strip()
            if value.get("type") == "identity" and len(name) >= 2 \
                    and name.casefold() not in kept_text:
                markers.setdefault(name, "組織名非開示 / organisation withheld")
                self.withheld_names.add(name)
            elif len(name) >= 4 and name.casefold() not in kept_text:
                self.withheld_names.add(name)

    def texts(self, markers: Mapping[str, str]) -> dict[str, str]:
        names = [(name_pattern(name), marker)
                 for name, marker in sorted(markers.items(), key=lambda m: -len(m[0]))
                 if len(name) >= 2]
        result: dict[str, str] = {}
        for name, text in self.draft.texts().items():
            passages = narrative_marks.parse(text, field=name)
            kept, removed = narrative_marks.for_tier(passages, self.tier)
            for passage in passages:
                if passage.label in removed:
                    self.removed_content.append(passage.text)
            for label in sorted(set(removed)):
                self.note(name, "text", "removed", f"narrative_{label.lower()}",
                          str(removed.count(label)))
            replaced, hit = _replace_names(kept, names)
            if hit:
                self.note(name, "text", "changed", "attribution_text")
            result[name] = replaced
        return result

    def withheld_tokens(self) -> frozenset[str]:
        for ancestor in self.context.values():
            if ancestor is not None and ancestor.id not in self.kept and self.tier > 1 and (
                    self._comms(ancestor) or (self.tier == 3 and (
                        SECRET in ancestor.labels or ancestor.id in self.rsi))):
                self.removed_content.append(ancestor.stix)
        kept_tokens: set[str] = set()
        for obj in self.kept.values():
            for text in strings(obj):
                kept_tokens |= tokens(text)
        removed: set[str] = set()
        for value in self.removed_content:
            for text in strings(value):
                removed |= tokens(text)
        for item in self.items:
            if item.action == "removed" and "--" in item.subject:
                removed.add(item.subject.lower())
        return frozenset(removed - kept_tokens)


def _letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


def sanitise(
    *,
    draft: Draft,
    objects: Mapping[str, SourceObject],
    context: Mapping[str, SourceObject | None],
    tier: int,
    audience: Audience,
    provision_derived: frozenset[str],
    technique: TechniqueLookup,
    publisher_id: str,
) -> Sanitised:
    """Reduce a product to what ``tier`` and ``audience`` may receive.

    ``objects`` are the product's store objects by id (absent: not readable);
    ``context`` holds their ancestors and the identities they refer to (None: not
    readable); ``provision_derived`` the ids with a standing determination.
    """
    run = _Run(draft=draft, objects=objects, context=context, tier=tier, audience=audience,
               provision_derived=provision_derived, technique=technique,
               publisher_id=publisher_id)
    run.select()
    markers = run.attribution()
    run.resolve_references()
    run.replace_names(markers)
    run.resolve_references()
    run.reidentify()
    run.removed_names(markers)
    texts = run.texts(markers)
    return Sanitised(
        objects=list(run.kept.values()), origins=run.origins, items=run.items, texts=texts,
        withheld_names=frozenset(run.withheld_names), withheld_tokens=run.withheld_tokens(),
    )
