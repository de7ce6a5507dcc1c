"""Version comparison by scheme, so that "9.6p1", "1.0.2k" and "2.0-beta9" order the way
their vendors mean them instead of as semver or as text.

``version_key(text, scheme)`` turns a version into something comparable within its
scheme, or ``None`` when the text is not a version at all (free text, a commit hash,
"all versions"): the matcher then says "possibly affected, needs review" instead of
guessing. Package ecosystems (Maven, npm, PyPI, Debian, RPM, ...) use ``univers``; CPE
and vendor versions use the dotted scheme below.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from univers import versions as uv

# CVE JSON 5 ``versionType`` and purl types → the univers version class.
_UNIVERS: dict[str, type[uv.Version]] = {
    "maven": uv.MavenVersion,
    "npm": uv.SemverVersion,
    "pypi": uv.PypiVersion,
    "python": uv.PypiVersion,
    "deb": uv.DebianVersion,
    "debian": uv.DebianVersion,
    "rpm": uv.RpmVersion,
    "gem": uv.RubygemsVersion,
    "nuget": uv.NugetVersion,
    "cargo": uv.SemverVersion,
    "golang": uv.GolangVersion,
    "go": uv.GolangVersion,
    "composer": uv.ComposerVersion,
    "apk": uv.AlpineLinuxVersion,
    "alpm": uv.ArchLinuxVersion,
    "conan": uv.ConanVersion,
    "hex": uv.SemverVersion,
}
DOTTED = "dotted"
SEMVER = "semver"

# Words that mark a version *before* its release ("2.0-rc1" < "2.0"), in release order.
_PRE_RELEASE = {
    "dev": 0, "snapshot": 0, "pre": 1, "preview": 1, "alpha": 2, "a": 2, "beta": 3, "b": 3,
    "m": 3, "milestone": 3, "rc": 4, "cr": 4,
}
_ALLOWED = re.compile(r"[0-9A-Za-z][0-9A-Za-z._\-+~:]*")
_TOKEN = re.compile(r"[0-9]+|[A-Za-z]+")
_UNVERSIONED = frozenset({"", "*", "-", "n/a", "unspecified", "unknown", "all"})
MAX_LENGTH = 128


def scheme_for(version_type: str | None) -> str:
    """The comparison scheme for a CVE ``versionType`` or a purl type."""
    name = (version_type or "").strip().lower()
    if name in _UNIVERS:
        return name
    if name == SEMVER:
        return SEMVER
    return DOTTED


def _dotted(text: str) -> tuple[Any, ...] | None:
    """Numbers compare as numbers; pre-release words sort before the release, other
    letters (openssl's "k", openssh's "p1", "sp2") after it; "1.0" equals "1.0.0"."""
    tokens = _TOKEN.findall(text.lower())
    if not tokens or not tokens[0].isdigit():
        return None
    key: list[tuple[int, Any]] = []
    for token in tokens:
        if token.isdigit():
            key.append((3, int(token)))
        elif token in _PRE_RELEASE:
            key.append((0, _PRE_RELEASE[token]))
        else:
            key.append((2, token))
    # Trailing zeros of a numeric run are not significant: 1.0.0-rc1 == 1.0-rc1.
    trimmed: list[tuple[int, Any]] = []
    for index, item in enumerate(key):
        trimmed.append(item)
        at_run_end = index + 1 == len(key) or key[index + 1][0] != 3
        if at_run_end:
            while len(trimmed) > 1 and trimmed[-1] == (3, 0) and trimmed[-2][0] == 3:
                trimmed.pop()
    trimmed.append((1, 0))  # the end of the version: after pre-releases, before suffixes
    return tuple(trimmed)


@lru_cache(maxsize=200_000)
def version_key(text: str | None, scheme: str = DOTTED) -> Any | None:
    """A comparable key for ``text`` in ``scheme``, or None when it is not a version."""
    if text is None:
        return None
    value = text.strip()
    if value.lower() in _UNVERSIONED or len(value) > MAX_LENGTH:
        return None
    if not _ALLOWED.fullmatch(value):
        return None
    if scheme in _UNIVERS:
        try:
            return _UNIVERS[scheme](value)
        except Exception:  # univers raises several types for text it cannot read
            return None
    if scheme == SEMVER:
        value = value.split("+", 1)[0]  # build metadata does not order (SemVer §10)
    return _dotted(value)


def compare(left: str, right: str, scheme: str = DOTTED) -> int | None:
    """-1, 0 or 1, or None when either side is not a version."""
    a, b = version_key(left, scheme), version_key(right, scheme)
    if a is None or b is None:
        return None
    return (a > b) - (a < b)
