"""Registry settings as versioned configuration: what the cabinet orders (政令) and
ordinances (内閣府令) will fix and the Basic Policy leaves open.

- ``commencement_date`` and ``transition_months``: the transition for computers in
  place when the law took effect (R-4.2-8, six months by the supplementary provisions).
- ``sectors`` and ``ministries``: each sector's supervising ministry (R-5.2-2).
- ``category_fields``: which notification fields each device category requires
  (R-4.2-5), keyed by category code, ``group:<group>`` or ``*``.
- ``custom_design_exemption``: whether and for which categories the exemption for
  products designed for one operator (専用設計品) may be claimed (R-4.2-4).
- ``indirect_management``: what a notification of a computer the operator does not
  manage itself must say about who does (R-4.2-7).
- ``cloud_forms``: the cloud usage forms and whether the operator manages the computer
  in each by default (R-4.2-16).
- ``taxonomy_version``: the device-category taxonomy new notifications use (R-1.5-6).

Each change is a new version row made by an administrator and audited; reading takes
the newest version or the built-in default.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from mamori.registry import taxonomy
from mamori.registry.messages import N_, RegistryInputError
from mamori.registry.models import ConfigVersion

ZONES: dict[str, dict[str, str]] = {
    "critical_equipment": {"ja": "重要設備ゾーン", "en": "Critical-equipment zone"},
    "internal": {"ja": "内部ネットワーク", "en": "Internal network"},
    "internet_boundary": {"ja": "インターネット境界", "en": "Internet boundary"},
}

# Fields a device category can be configured to require, besides the ones every
# notification has (name, category, whether managed directly).
CONFIGURABLE_FIELDS: tuple[str, ...] = (
    "site", "facility", "zone", "product_vendor", "product_name", "product_version",
    "in_service_since", "cloud_form", "cloud_provider", "components",
)

MINISTRIES: dict[str, dict[str, str]] = {
    "meti": {"ja": "経済産業省", "en": "Ministry of Economy, Trade and Industry"},
    "mlit": {"ja": "国土交通省", "en": "Ministry of Land, Infrastructure, Transport and Tourism"},
    "mic": {"ja": "総務省", "en": "Ministry of Internal Affairs and Communications"},
    "fsa": {"ja": "金融庁", "en": "Financial Services Agency"},
}

# The fifteen infrastructure sectors of the Economic Security Promotion Act's core
# infrastructure regime, which the Act's special operators are drawn from.
SECTORS: dict[str, dict[str, str]] = {
    "electricity": {"ja": "電気", "en": "Electricity", "ministry": "meti"},
    "gas": {"ja": "ガス", "en": "Gas", "ministry": "meti"},
    "petroleum": {"ja": "石油", "en": "Petroleum", "ministry": "meti"},
    "water": {"ja": "水道", "en": "Water supply", "ministry": "mlit"},
    "railway": {"ja": "鉄道", "en": "Railway", "ministry": "mlit"},
    "trucking": {"ja": "貨物自動車運送", "en": "Freight trucking", "ministry": "mlit"},
    "maritime": {"ja": "外航貨物", "en": "Ocean freight", "ministry": "mlit"},
    "port": {"ja": "港湾運送", "en": "Port logistics", "ministry": "mlit"},
    "aviation": {"ja": "航空", "en": "Air transport", "ministry": "mlit"},
    "airport": {"ja": "空港", "en": "Airports", "ministry": "mlit"},
    "telecommunications": {"ja": "電気通信", "en": "Telecommunications", "ministry": "mic"},
    "broadcasting": {"ja": "放送", "en": "Broadcasting", "ministry": "mic"},
    "postal": {"ja": "郵便", "en": "Postal service", "ministry": "mic"},
    "finance": {"ja": "金融", "en": "Finance", "ministry": "fsa"},
    "credit_card": {"ja": "クレジットカード", "en": "Credit cards", "ministry": "meti"},
}

DEFAULTS: dict[str, Any] = {
    "commencement_date": None,
    "transition_months": 6,
    "sectors": SECTORS,
    "ministries": MINISTRIES,
    "category_fields": {
        "*": ["zone"],
        "group:ics": ["site", "facility", "zone", "product_vendor", "product_name"],
        "group:it": ["zone", "product_vendor", "product_name"],
        "group:cloud": ["cloud_form", "cloud_provider"],
    },
    "custom_design_exemption": {"allowed": True, "reason_required": True, "categories": ["*"]},
    "indirect_management": {"manager_required": True, "contact_required": False},
    "cloud_forms": {
        "iaas": {"ja": "IaaS", "en": "IaaS", "operator_manages": True},
        "paas": {"ja": "PaaS", "en": "PaaS", "operator_manages": True},
        "saas": {"ja": "SaaS", "en": "SaaS", "operator_manages": False},
    },
    "taxonomy_version": None,
}
KEYS: tuple[str, ...] = tuple(DEFAULTS)
_CODE = re.compile(r"^[a-z0-9][a-z0-9_-]{1,63}$")


def _bad(key: str, message: str, **params: Any) -> RegistryInputError:
    return RegistryInputError(message, field=key, **params)


def _labels(key: str, value: Any, extra: tuple[str, ...] = ()) -> dict[str, dict[str, Any]]:
    if not isinstance(value, dict) or not value:
        raise _bad(key, N_("expected a mapping of codes to their Japanese and English names"))
    for code, entry in value.items():
        if not _CODE.match(str(code)) or not isinstance(entry, dict):
            raise _bad(key, N_("expected a mapping of codes to their Japanese and English names"))
        for name in ("ja", "en", *extra):
            if not isinstance(entry.get(name), str) or not entry[name].strip():
                raise _bad(key, N_("every entry needs the field %(name)s"), name=name)
    return value


def validate(key: str, value: Any, current: dict[str, Any]) -> Any:
    """The cleaned value of a setting, or a :class:`RegistryInputError`."""
    if key == "commencement_date":
        if value is None:
            return None
        try:
            return date.fromisoformat(str(value)).isoformat()
        except ValueError:
            raise _bad(key, N_("expected a date such as 2026-04-01")) from None
    if key == "transition_months":
        if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 60:
            raise _bad(key, N_("expected a whole number of months from 1 to 60"))
        return value
    if key == "ministries":
        return _labels(key, value)
    if key == "sectors":
        sectors = _labels(key, value, ("ministry",))
        for entry in sectors.values():
            if entry["ministry"] not in current["ministries"]:
                raise _bad(key, N_("a sector names a ministry that is not configured"))
        return sectors
    if key == "category_fields":
        if not isinstance(value, dict):
            raise _bad(key, N_("expected a mapping of categories to lists of fields"))
        for selector, names in value.items():
            if not isinstance(names, list) or not all(n in CONFIGURABLE_FIELDS for n in names):
                raise _bad(
                    key, N_("fields must be among: %(fields)s"),
                    fields=", ".join(CONFIGURABLE_FIELDS),
                )
            if not (selector == "*" or str(selector).startswith("group:")
                    or taxonomy.newest().get(str(selector))):
                raise _bad(key, N_("a selector is a category code, group:<group> or *"))
        return value
    if key == "custom_design_exemption":
        if not (isinstance(value, dict) and isinstance(value.get("allowed"), bool)
                and isinstance(value.get("reason_required"), bool)
                and isinstance(value.get("categories"), list)):
            raise _bad(key, N_("expected allowed, reason_required and a list of categories"))
        return value
    if key == "indirect_management":
        if not (isinstance(value, dict) and isinstance(value.get("manager_required"), bool)
                and isinstance(value.get("contact_required"), bool)):
            raise _bad(key, N_("expected manager_required and contact_required (true or false)"))
        return value
    if key == "cloud_forms":
        forms = _labels(key, value)
        if not all(isinstance(f.get("operator_manages"), bool) for f in forms.values()):
            raise _bad(key, N_("every entry needs the field %(name)s"), name="operator_manages")
        return forms
    if key == "taxonomy_version":
        if value is None:
            return None
        if not isinstance(value, int) or taxonomy.taxonomy(value) is None:
            raise _bad(key, N_("no such taxonomy version is shipped"))
        return value
    raise RegistryInputError(
        N_("unknown setting; settings are: %(keys)s"), field="key", keys=", ".join(KEYS)
    )


def _latest(session: Session, key: str) -> ConfigVersion | None:
    return session.scalars(
        select(ConfigVersion).where(ConfigVersion.key == key)
        .order_by(ConfigVersion.version.desc()).limit(1)
    ).first()


def current(session: Session) -> dict[str, Any]:
    """Every setting's value in force (newest version, else the default)."""
    values: dict[str, Any] = {}
    for key, default in DEFAULTS.items():
        row = _latest(session, key)
        values[key] = row.value if row is not None else default
    return values


def version_of(session: Session, key: str) -> int:
    row = _latest(session, key)
    return row.version if row is not None else 0


def store(session: Session, *, key: str, value: Any, actor: str, reason: str | None) -> int:
    """Validate and add a new version; returns its number."""
    clean = validate(key, value, current(session))
    number = version_of(session, key) + 1
    session.add(ConfigVersion(
        key=key, version=number, value=clean, reason=(reason or "").strip() or None,
        created_by=actor,
    ))
    session.flush()
    return number


def commencement(values: dict[str, Any]) -> date | None:
    raw = values.get("commencement_date")
    return date.fromisoformat(raw) if raw else None


def required_fields(
    values: dict[str, Any], category: str | None, taxonomy_version: int | None = None
) -> list[str]:
    """The configured fields a notification of ``category`` must fill (R-4.2-5)."""
    config: dict[str, list[str]] = values["category_fields"]
    if category and category in config:
        return list(config[category])
    version = taxonomy.taxonomy(taxonomy_version) or taxonomy.newest()
    found = version.get(category) if category else None
    if found and f"group:{found.group}" in config:
        return list(config[f"group:{found.group}"])
    return list(config.get("*", []))
