"""Package URLs as index keys: ``(type, namespace, name)`` normalised exactly as the purl
specification says for each type (PyPI lower-cases and turns ``_`` into ``-``; npm,
Debian, GitHub ... lower-case), never by similarity, so that ``pkg:npm/log4j`` and
``pkg:maven/org.apache.logging.log4j/log4j-core`` stay different products.

CVE JSON 5 names packages by ``collectionURL`` + ``packageName``; the well-known
collections map to purl types here. An unknown collection gives no purl key.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from packageurl import PackageURL

PurlKey = tuple[str, str, str]

_LOWER_NAME = frozenset({
    "npm", "pypi", "deb", "github", "bitbucket", "composer", "hex", "apk", "alpm", "golang",
    "cargo", "gem",
})
_LOWER_NAMESPACE = frozenset({"github", "bitbucket", "composer", "deb", "apk", "alpm", "golang"})

# collectionURL host (+ path prefix) → purl type.
COLLECTIONS: dict[str, str] = {
    "repo.maven.apache.org/maven2": "maven",
    "repo1.maven.org/maven2": "maven",
    "central.sonatype.com": "maven",
    "www.npmjs.com": "npm",
    "registry.npmjs.org": "npm",
    "npmjs.com": "npm",
    "pypi.org": "pypi",
    "pypi.python.org": "pypi",
    "crates.io": "cargo",
    "rubygems.org": "gem",
    "pkg.go.dev": "golang",
    "proxy.golang.org": "golang",
    "www.nuget.org": "nuget",
    "nuget.org": "nuget",
    "packagist.org": "composer",
    "hex.pm": "hex",
}


def normalise(purl_type: str, namespace: str | None, name: str) -> PurlKey:
    kind = purl_type.strip().lower()
    ns = (namespace or "").strip().strip("/")
    nm = name.strip()
    if kind in _LOWER_NAME:
        nm = nm.lower()
    if kind == "pypi":
        nm = nm.replace("_", "-")
    if kind in _LOWER_NAMESPACE:
        ns = ns.lower()
    return (kind, ns, nm)


def parse(text: str) -> tuple[PurlKey, str | None]:
    """A purl → (key, version), or ``ValueError`` (the message names no value)."""
    try:
        purl = PackageURL.from_string(text.strip())
    except ValueError as exc:
        raise ValueError("not a package URL (pkg:type/namespace/name@version)") from exc
    return normalise(purl.type, purl.namespace, purl.name), purl.version


def from_collection(collection_url: str | None, package_name: str | None) -> PurlKey | None:
    """The purl key of a CVE JSON 5 ``collectionURL`` + ``packageName``, if the
    collection is a known package registry."""
    if not collection_url or not package_name:
        return None
    parts = urlsplit(collection_url.strip())
    where = (parts.netloc + parts.path).rstrip("/").lower()
    kind = COLLECTIONS.get(where) or COLLECTIONS.get(parts.netloc.lower())
    if kind is None:
        return None
    name = package_name.strip()
    if kind == "maven":
        if ":" not in name:
            return None
        group, artifact = name.split(":", 1)
        return normalise(kind, group, artifact)
    if kind in ("npm", "composer", "golang") and "/" in name:
        namespace, _, last = name.rpartition("/")
        return normalise(kind, namespace, last)
    return normalise(kind, None, name)
