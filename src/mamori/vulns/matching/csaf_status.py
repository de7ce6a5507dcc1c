"""CSAF 2.0 product status → the matcher's statuses, and ``vers:`` ranges → ranges.

A vendor's CSAF advisory lists products by status (§3.2.3.9): known affected, fixed,
known not affected, under investigation. For the versions it names, a vendor's
"known not affected" outranks a database's range (see ``applicability.combine``).
"""

from __future__ import annotations

from mamori.vulns.matching.applicability import AFFECTED, NOT_AFFECTED, UNAFFECTED, UNKNOWN, Range
from mamori.vulns.matching.versions import scheme_for

STATUS: dict[str, str] = {
    "first_affected": AFFECTED,
    "known_affected": AFFECTED,
    "last_affected": AFFECTED,
    "fixed": UNAFFECTED,
    "first_fixed": UNAFFECTED,
    "recommended": UNAFFECTED,
    "known_not_affected": NOT_AFFECTED,
    "under_investigation": UNKNOWN,
}
# Vendors speak with the most authority about their own products (§3.2.1.8.1).
VENDOR_CATEGORIES = frozenset({"vendor"})
_COMPARATORS = (">=", "<=", "!=", ">", "<", "=")


class VersSyntaxError(ValueError):
    """Not a ``vers:`` range the matcher can read."""


def vers_ranges(text: str, status: str) -> tuple[str, tuple[Range, ...]]:
    """``vers:<scheme>/<c1>|<c2>...`` (purl-spec VERS) → (scheme, ranges with ``status``).

    Constraints are paired in ascending order: a lower bound closes with the next upper
    bound; an ``=`` or bare version is an exact version; ``*`` is every version.
    """
    value = text.strip()
    if not value.startswith("vers:") or "/" not in value:
        raise VersSyntaxError("a version range starts with vers:<scheme>/")
    scheme_name, _, body = value[len("vers:"):].partition("/")
    scheme = scheme_for(scheme_name)
    if body.strip() == "*":
        return scheme, (Range(status=status),)
    ranges: list[Range] = []
    lower: tuple[str, bool] | None = None
    for raw in body.split("|"):
        item = raw.strip()
        if not item:
            raise VersSyntaxError("a version range has an empty constraint")
        op = next((c for c in _COMPARATORS if item.startswith(c)), "=")
        version = item[len(op):].strip() if item.startswith(op) else item
        if not version:
            raise VersSyntaxError("a version range constraint has no version")
        if op == "!=":
            continue  # exclusions narrow a range; the matcher stays conservative
        if op == "=":
            ranges.append(Range(status=status, exact=version))
        elif op in (">=", ">"):
            if lower is not None:
                ranges.append(Range(status=status, start=lower[0], start_inclusive=lower[1]))
            lower = (version, op == ">=")
        else:
            start, inclusive = lower if lower is not None else (None, True)
            ranges.append(Range(status=status, start=start, start_inclusive=inclusive,
                                end=version, end_inclusive=op == "<="))
            lower = None
    if lower is not None:
        ranges.append(Range(status=status, start=lower[0], start_inclusive=lower[1]))
    return scheme, tuple(ranges)
