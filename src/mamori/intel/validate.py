"""The structural checks an object must pass to be stored (STIX 2.1 common properties).

Each failure is a reason a person can act on; it names properties, never their
content. Deeper vocabulary checks are the producer's business: the store keeps what
it receives, losslessly, as long as it can identify, version and reference it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mamori.intel import stix

OBJECT_MAX_BYTES = 1 << 20


def check(obj: Any, *, size: int) -> str | None:
    """None when ``obj`` can be stored, else the reason it cannot."""
    if not isinstance(obj, Mapping):
        return "not a JSON object"
    kind = obj.get("type")
    if not isinstance(kind, str) or not stix.TYPE_RE.match(kind):
        return "type is missing or malformed"
    if kind == "bundle":
        return "a bundle inside a bundle is not supported"
    ident = obj.get("id")
    if not isinstance(ident, str):
        return "id is missing"
    match = stix.ID_RE.match(ident)
    if match is None:
        return "id is not of the form <type>--<UUID>"
    if match.group(1) != kind:
        return "id does not start with the object's type"
    if size > OBJECT_MAX_BYTES:
        return "the object is larger than 1 MiB"
    spec = obj.get("spec_version")
    sco = stix.is_sco(obj)
    if spec is None and not sco:
        return "spec_version is missing (STIX 2.1 objects carry it)"
    if spec is not None and spec != "2.1":
        return "spec_version is not 2.1 (only STIX 2.1 is stored)"
    if not sco:
        reason = _check_versioned(obj)
        if reason:
            return reason
    if kind == "relationship":
        for name in ("source_ref", "target_ref"):
            if not isinstance(obj.get(name), str) or not stix.ID_RE.match(obj[name]):
                return f"{name} is missing or not an id"
        if not isinstance(obj.get("relationship_type"), str) or not obj["relationship_type"]:
            return "relationship_type is missing"
    if kind == "sighting" and (not isinstance(obj.get("sighting_of_ref"), str)
                               or not stix.ID_RE.match(obj["sighting_of_ref"])):
        return "sighting_of_ref is missing or not an id"
    if "revoked" in obj and not isinstance(obj["revoked"], bool):
        return "revoked is not true or false"
    return None


def _check_versioned(obj: Mapping[str, Any]) -> str | None:
    created = stix.parse_timestamp(obj.get("created"))
    if created is None:
        return "created is missing or not a STIX timestamp"
    if obj.get("type") == "marking-definition" and "modified" not in obj:
        return None
    modified = stix.parse_timestamp(obj.get("modified"))
    if modified is None:
        return "modified is missing or not a STIX timestamp"
    if modified < created:
        return "modified is earlier than created"
    return None
