"""The mechanical-information item set (機械的情報, mechanical_info): the allow-list.

Art 2(8) of the Act defines mechanical information as (i) communication-history
information such as addresses, (ii) command information and (iii) items that a
Cabinet Office Order fixes. The Order is not yet issued, so the set of items that
selection may output is versioned configuration (R-1.5-7): version 0 is the
built-in default below, later versions are rows recorded by an administrator with
the references of the public comment and of the oversight committee's consultation
(R-1.5-8). A selected record carries a value only for items in the active set;
everything else is NULL, and no item can hold a payload, a URI, a header value or
free text.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from mamori.errors import InvalidInput

ITEMS: dict[str, str] = {
    "first_seen": "time of the first packet of the flow",
    "last_seen": "time of the last packet of the flow",
    "src_addr": "source address (pseudonymised unless it is a selector value)",
    "dst_addr": "destination address (pseudonymised unless it is a selector value)",
    "src_port": "source port",
    "dst_port": "destination port",
    "protocol": "IP protocol number",
    "tcp_flags": "TCP flags seen in the flow (OR of all packets)",
    "packets": "packet count",
    "bytes": "byte count (IP length)",
    "ttl": "lowest and highest IPv4 TTL / IPv6 hop limit",
    "icmp": "ICMP type and code",
    "dns_qname": "DNS question name",
    "dns_qtype": "DNS question type",
    "dns_rcode": "DNS response code",
    "tls_sni": "TLS server name indication",
    "ja3": "TLS client fingerprint JA3",
    "ja4": "TLS client fingerprint JA4",
    "http_host": "HTTP Host header name",
    "matched_selectors": "ids of the selectors that matched",
    "matched_rules": "ids of the YARA rules that matched",
    "command_tokens": "command information: declared tokens of matching YARA rules",
}
"""Every item selection can produce, with what it means."""

DEFAULT_ITEMS: tuple[str, ...] = (
    "first_seen", "last_seen", "src_addr", "dst_addr", "src_port", "dst_port", "protocol",
    "tcp_flags", "packets", "bytes", "ttl", "dns_qname", "dns_qtype", "dns_rcode",
    "tls_sni", "ja3", "ja4", "matched_selectors", "matched_rules", "command_tokens",
)  # fmt: skip
"""Version 0: the default until a Cabinet Office Order is reflected in a new version."""

ITEM_COLUMNS: dict[str, tuple[str, ...]] = {
    "first_seen": ("first_seen",),
    "last_seen": ("last_seen",),
    "src_addr": ("src_addr",),
    "dst_addr": ("dst_addr",),
    "src_port": ("src_port",),
    "dst_port": ("dst_port",),
    "protocol": ("protocol",),
    "tcp_flags": ("tcp_flags",),
    "packets": ("packets",),
    "bytes": ("bytes",),
    "ttl": ("ttl_min", "ttl_max"),
    "icmp": ("icmp_type", "icmp_code"),
    "dns_qname": ("dns_qname",),
    "dns_qtype": ("dns_qtype",),
    "dns_rcode": ("dns_rcode",),
    "tls_sni": ("tls_sni",),
    "ja3": ("ja3",),
    "ja4": ("ja4",),
    "http_host": ("http_host",),
    "matched_selectors": ("matched_selectors",),
    "matched_rules": ("matched_rules",),
    "command_tokens": ("command_tokens",),
}
"""Record columns each item fills."""


@dataclass(frozen=True)
class ItemSet:
    """One version of the allow-list."""

    version: int
    items: frozenset[str]

    @property
    def columns(self) -> frozenset[str]:
        return frozenset(col for item in self.items for col in ITEM_COLUMNS[item])

    @property
    def digest(self) -> str:
        return item_digest(self.items)

    def allows(self, item: str) -> bool:
        return item in self.items


DEFAULT = ItemSet(0, frozenset(DEFAULT_ITEMS))


def item_digest(items: frozenset[str] | set[str] | list[str]) -> str:
    return hashlib.sha256(json.dumps(sorted(items)).encode()).hexdigest()


def validate_items(items: list[str]) -> list[str]:
    """Sorted, known item names; InvalidInput names any unknown one."""
    cleaned = sorted({item.strip() for item in items if item.strip()})
    unknown = [item for item in cleaned if item not in ITEMS]
    if unknown:
        raise InvalidInput(
            f"unknown mechanical-information item(s): {', '.join(unknown)} "
            f"(known: {', '.join(ITEMS)})"
        )
    if not cleaned:
        raise InvalidInput("the item set must name at least one item")
    return cleaned
