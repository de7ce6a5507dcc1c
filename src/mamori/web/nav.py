"""The navigation registry: domains add their sections without touching web templates.

A domain calls :func:`register` when its ``views`` module is imported (the app
factory imports every module in ``ROUTERS``). The header menu and the home page
cards show the entries a principal may use: one of the entry's roles, and, when
the entry names an authorization action, ``mamori.access.service.permitted``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from sqlalchemy.orm import Session

from mamori.access.principal import Principal, Resource


class Visibility(Protocol):
    """A finer test than roles and one action: ``when(session=, principal=) -> bool``."""

    def __call__(self, *, session: Session, principal: Principal) -> bool: ...


@dataclass(frozen=True)
class NavEntry:
    """One section of the UI.

    ``action`` is the authorization action the section needs (checked against a
    resource of ``resource_type``); ``roles`` limits it to those roles (empty: any
    logged-in user); ``when`` is an optional further test. Labels and descriptions
    carry both languages.
    """

    url: str
    label_ja: str
    label_en: str
    roles: frozenset[str] = frozenset()
    action: str | None = None
    resource_type: str = "platform"
    description_ja: str = ""
    description_en: str = ""
    order: int = 100
    when: Visibility | None = None

    def label(self, language: str) -> str:
        return self.label_ja if language == "ja" else self.label_en

    def description(self, language: str) -> str:
        return self.description_ja if language == "ja" else self.description_en


_ENTRIES: dict[str, NavEntry] = {}


def register(
    *,
    url: str,
    label_ja: str,
    label_en: str,
    roles: frozenset[str] | set[str] | tuple[str, ...] = frozenset(),
    action: str | None = None,
    resource_type: str = "platform",
    description_ja: str = "",
    description_en: str = "",
    order: int = 100,
    when: Visibility | None = None,
) -> NavEntry:
    """Add (or replace, keyed by ``url``) a section; safe to call again on re-import."""
    if not url.startswith("/"):
        raise ValueError(f"nav url must be a local path: {url}")
    entry = NavEntry(
        url=url,
        label_ja=label_ja,
        label_en=label_en,
        roles=frozenset(roles),
        action=action,
        resource_type=resource_type,
        description_ja=description_ja,
        description_en=description_en,
        order=order,
        when=when,
    )
    _ENTRIES[url] = entry
    return entry


def unregister(url: str) -> None:
    _ENTRIES.pop(url, None)


def entries() -> list[NavEntry]:
    """Every registered section, in display order."""
    return sorted(_ENTRIES.values(), key=lambda e: (e.order, e.url))


def visible_entries(*, session: Session, principal: Principal) -> list[NavEntry]:
    """The sections ``principal`` may open."""
    from mamori.access import service as access

    shown: list[NavEntry] = []
    for entry in entries():
        if entry.roles and not (entry.roles & principal.roles):
            continue
        if entry.action and not access.permitted(
            session=session,
            principal=principal,
            action=entry.action,
            resource=Resource(type=entry.resource_type),
        ):
            continue
        if entry.when is not None and not entry.when(session=session, principal=principal):
            continue
        shown.append(entry)
    return shown
