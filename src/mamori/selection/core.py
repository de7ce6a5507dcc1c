"""The pure, in-memory core of selection: classify, gate, match, extract, aggregate.

:func:`select_batch` takes decoded batches (packet batches from
:mod:`.readers`, flow batches from :mod:`.flows`) and a :class:`SelectionPlan`,
and returns mechanical records plus counts. It touches no database, file or log;
everything it does not select is dropped with the batch that held it.

Per batch, vectorised over NumPy columns:

1. units without an IP header are counted and dropped;
2. each unit gets its direction class from the domestic-prefix table; units of a
   class the basis does not allow (or, under an agreement, not to or from the
   party's addresses, or captured outside the basis's period) are dropped;
3. addresses and ports are matched for every remaining unit; names and TLS
   fingerprints only for candidate packets (UDP/TCP port 53 for DNS, a TLS
   handshake record ``0x16 0x03`` on any port, an HTTP method at the start of a
   TCP payload); YARA runs on the payload of every remaining packet that has one;
4. selected units are aggregated into flows (:mod:`.flowtable`).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from .dpi import ParseError, parse_client_hello, parse_dns, parse_http_request
from .flows import FlowBatch
from .flowtable import KEY_DTYPE, Extras, FlowTable, MechanicalRecord, Pseudonymiser
from .mechanical import ItemSet
from .prefixes import DIRECTIONS, Classifier
from .readers import PacketBatch, PacketFlag
from .receipts import SelectionCounts, UnitCounts
from .selectors.matcher import NO_GROUP, Matcher, Segments, build_segments, v6_keys

DNS_PORT = 53
TCP, UDP = 6, 17
_METHOD_FIRST = np.zeros(256, dtype=bool)
for _letter in b"GPHDOCT":  # GET POST PUT PATCH HEAD DELETE OPTIONS CONNECT TRACE
    _METHOD_FIRST[_letter] = True
_PORTS = np.uint8(PacketFlag.PORTS)
_PAYLOAD = np.uint8(PacketFlag.PAYLOAD)
_DNS_ITEMS = frozenset({"dns_qname", "dns_qtype", "dns_rcode"})
_TLS_ITEMS = frozenset({"tls_sni", "ja3", "ja4"})


@dataclass(frozen=True)
class PartyRanges:
    """The agreement party's addresses (Art 13: only the party's communications)."""

    v4: Segments
    v6: Segments

    @classmethod
    def from_identifiers(cls, identifiers: Sequence[str]) -> tuple[PartyRanges, int]:
        """Ranges of the identifiers that are addresses or CIDRs, and how many were not."""
        v4: list[tuple[int, int, str]] = []
        v6: list[tuple[int, int, str]] = []
        unusable = 0
        for ident in identifiers:
            try:
                network = ipaddress.ip_network(ident.strip(), strict=False)
            except ValueError:
                unusable += 1
                continue
            span = (int(network.network_address), int(network.broadcast_address), "party")
            (v4 if network.version == 4 else v6).append(span)
        groups: list[tuple[str, ...]] = []
        interned: dict[tuple[str, ...], int] = {}
        s4, g4 = build_segments(v4, (1 << 32) - 1, groups, interned)
        s6, g6 = build_segments(v6, (1 << 128) - 1, groups, interned)
        return (
            cls(
                Segments.v4(s4, g4),
                Segments(
                    np.array([s.to_bytes(16, "big") for s in s6], dtype="S16"),
                    np.array(g6, dtype=np.int32),
                ),
            ),
            unusable,
        )


@dataclass(frozen=True)
class SelectionPlan:
    """Everything selection of one run needs, compiled: no database handle inside."""

    matcher: Matcher
    classifier: Classifier
    allowed_directions: frozenset[str]
    items: ItemSet
    party: PartyRanges | None = None
    period_start_ns: int | None = None
    period_end_ns: int | None = None
    allowed_mask: np.ndarray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        mask = np.array([d in self.allowed_directions for d in DIRECTIONS], dtype=bool)
        object.__setattr__(self, "allowed_mask", mask)

    @property
    def has_period(self) -> bool:
        return self.period_start_ns is not None or self.period_end_ns is not None


@dataclass
class SelectionResult:
    records: list[MechanicalRecord]
    counts: SelectionCounts


# --- shared steps -----------------------------------------------------------------------


@dataclass
class _Addresses:
    """Index sets and keys of the IPv4 and IPv6 units of one batch."""

    idx4: np.ndarray
    idx6: np.ndarray
    src4: np.ndarray
    dst4: np.ndarray
    src6: np.ndarray
    dst6: np.ndarray


def _addresses(batch: PacketBatch | FlowBatch) -> _Addresses:
    fam = batch.family
    idx4 = np.flatnonzero(fam == 4)
    idx6 = np.flatnonzero(fam == 6)
    return _Addresses(
        idx4, idx6, batch.src4[idx4], batch.dst4[idx4],
        v6_keys(batch.src6_hi[idx6], batch.src6_lo[idx6]),
        v6_keys(batch.dst6_hi[idx6], batch.dst6_lo[idx6]),
    )  # fmt: skip


def _classify(addrs: _Addresses, n: int, classifier: Classifier) -> np.ndarray:
    """Direction class index per unit (2 * src domestic + dst domestic)."""
    src = np.zeros(n, dtype=np.uint8)
    dst = np.zeros(n, dtype=np.uint8)
    src[addrs.idx4] = classifier.domestic_v4(addrs.src4)
    dst[addrs.idx4] = classifier.domestic_v4(addrs.dst4)
    if len(addrs.idx6):
        src[addrs.idx6] = classifier.domestic_v6_keys(addrs.src6)
        dst[addrs.idx6] = classifier.domestic_v6_keys(addrs.dst6)
    return (src << 1) | dst


def _gate(
    plan: SelectionPlan,
    addrs: _Addresses,
    n: int,
    ip: np.ndarray,
    direction: np.ndarray,
    times_ns: np.ndarray,
    counts: UnitCounts,
) -> np.ndarray:
    """The units the basis lets through; counts the rest."""
    by = np.bincount(direction[ip], minlength=4)
    for k, name in enumerate(DIRECTIONS):
        counts.by_direction[name] += int(by[k])
    eligible = ip & plan.allowed_mask[direction]
    if plan.party is not None:
        party = np.zeros(n, dtype=bool)
        party[addrs.idx4] = (plan.party.v4.lookup(addrs.src4) != NO_GROUP) | (
            plan.party.v4.lookup(addrs.dst4) != NO_GROUP
        )
        if len(addrs.idx6):
            party[addrs.idx6] = (plan.party.v6.lookup(addrs.src6) != NO_GROUP) | (
                plan.party.v6.lookup(addrs.dst6) != NO_GROUP
            )
        eligible &= party
    counts.gated_out += int(np.count_nonzero(ip)) - int(np.count_nonzero(eligible))
    if plan.has_period:
        inside = times_ns > 0
        if plan.period_start_ns is not None:
            inside &= times_ns >= plan.period_start_ns
        if plan.period_end_ns is not None:
            inside &= times_ns < plan.period_end_ns
        outside = eligible & ~inside
        counts.outside_period += int(np.count_nonzero(outside))
        eligible &= inside
    return eligible


def _address_groups(
    matcher: Matcher, addrs: _Addresses, n: int, eligible: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    src = np.full(n, NO_GROUP, dtype=np.int32)
    dst = np.full(n, NO_GROUP, dtype=np.int32)
    e4 = eligible[addrs.idx4]
    rows4 = addrs.idx4[e4]
    src[rows4] = matcher.v4.lookup(addrs.src4[e4])
    dst[rows4] = matcher.v4.lookup(addrs.dst4[e4])
    if len(addrs.idx6):
        e6 = eligible[addrs.idx6]
        rows6 = addrs.idx6[e6]
        src[rows6] = matcher.v6.lookup(addrs.src6[e6])
        dst[rows6] = matcher.v6.lookup(addrs.dst6[e6])
    return src, dst


class _Names:
    """Interned (question name, type) pairs of one batch, for the flow key."""

    def __init__(self) -> None:
        self.items: list[tuple[str, int]] = []
        self._index: dict[tuple[str, int], int] = {}

    def key(self, name: str, qtype: int) -> int:
        pair = (name, qtype)
        index = self._index.get(pair)
        if index is None:
            index = self._index[pair] = len(self.items)
            self.items.append(pair)
        return index


def _host_name(host: str) -> str | None:
    """The name part of an HTTP Host value, or None for an address literal."""
    if host.startswith("["):
        return None
    name = host.rsplit(":", 1)[0] if host.count(":") == 1 else host
    try:
        ipaddress.ip_address(name)
        return None
    except ValueError:
        return name.rstrip(".").lower() or None


# --- packets ----------------------------------------------------------------------------


def _inspect_packets(
    batch: PacketBatch,
    plan: SelectionPlan,
    eligible: np.ndarray,
    hit: np.ndarray,
    extras: dict[int, Extras],
    names: _Names,
    app_key: np.ndarray,
    counts: SelectionCounts,
) -> np.ndarray:
    """Application-layer matching and item extraction; the units names or YARA select."""
    matcher, items = plan.matcher, plan.items.items
    n = batch.count
    app_hit = np.zeros(n, dtype=bool)
    match_names = matcher.has_names
    match_fp = matcher.has_fingerprints
    want_dns = match_names or bool(items & _DNS_ITEMS)
    want_tls = match_names or match_fp or bool(items & _TLS_ITEMS)
    want_http = match_names or "http_host" in items
    payload = eligible & ((batch.flags & _PAYLOAD) != 0) & (batch.payload_length > 0)
    has_yara = matcher.yara.rules is not None
    if not (want_dns or want_tls or want_http or has_yara) or not payload.any():
        return app_hit
    buf = batch.buffer
    offsets = batch.payload_offset
    # Scope: every eligible packet when names or fingerprints can select it; otherwise
    # only packets already selected (for their items).
    scope = payload if (match_names or match_fp) else payload & hit
    proto = batch.proto
    if want_dns:
        ports = (batch.flags & _PORTS) != 0
        dns = scope & ports & ((proto == UDP) | (proto == TCP))
        dns &= (batch.sport == DNS_PORT) | (batch.dport == DNS_PORT)
        if not match_names:
            dns &= hit
        for i in np.flatnonzero(dns).tolist():
            try:
                message = parse_dns(batch.payload(i), tcp=int(proto[i]) == TCP)
            except ParseError:
                counts.app_parse_errors += 1
                continue
            extra = extras.setdefault(i, Extras())
            extra.rcode = message.rcode if message.is_response else None
            if message.questions:
                question = message.questions[0]
                extra.qname, extra.qtype = question.name.lower(), question.qtype
                app_key[i] = names.key(extra.qname, question.qtype)
            if match_names:
                found: list[str] = []
                for name in {q.name for q in message.questions} | {
                    a.name for a in message.answers
                }:
                    found.extend(matcher.name_ids(name))
                if found:
                    extra.selector_ids += tuple(found)
                    app_hit[i] = True
    tcp_payload = scope & (proto == TCP)
    if want_tls or want_http:
        rows = np.flatnonzero(tcp_payload)
        first = buf[offsets[rows]]
        lengths = batch.payload_length[rows]
    if want_tls:
        ok = (first == 0x16) & (lengths >= 6)
        tls_rows = rows[ok]
        second = buf[offsets[tls_rows] + 1]
        for i in tls_rows[second == 0x03].tolist():
            try:
                hello = parse_client_hello(batch.payload(i))
            except ParseError:
                counts.app_parse_errors += 1
                continue
            extra = extras.setdefault(i, Extras())
            extra.sni = hello.sni.lower() if hello.sni else None
            extra.ja3, extra.ja4 = hello.ja3_md5, hello.ja4
            found = list(matcher.name_ids(extra.sni)) if (match_names and extra.sni) else []
            found += matcher.ja3.get(hello.ja3_md5, ())
            found += matcher.ja4.get(hello.ja4.lower(), ())
            if found:
                extra.selector_ids += tuple(found)
                app_hit[i] = True
    if want_http:
        for i in rows[_METHOD_FIRST[first]].tolist():
            try:
                request = parse_http_request(batch.payload(i))
            except ParseError:
                counts.app_parse_errors += 1
                continue
            if request.host is None:
                continue
            host_name = _host_name(request.host)
            extra = extras.setdefault(i, Extras())
            extra.host = host_name
            if match_names and host_name:
                found_http = matcher.name_ids(host_name)
                if found_http:
                    extra.selector_ids += found_http
                    app_hit[i] = True
    if has_yara:
        for i in np.flatnonzero(payload).tolist():
            rule_ids, tokens = matcher.yara.scan(bytes(batch.payload(i)))
            if rule_ids:
                extra = extras.setdefault(i, Extras())
                extra.rule_ids += tuple(rule_ids)
                extra.tokens += tuple(tokens)
                counts.rule_matches += 1
                app_hit[i] = True
    return app_hit


def select_packets(
    batch: PacketBatch, plan: SelectionPlan, table: FlowTable, counts: SelectionCounts
) -> None:
    """Select from one packet batch into ``table``; counts go into ``counts``."""
    n = batch.count
    unit = counts.packets
    unit.received += n
    if n == 0:
        return
    fam = batch.family
    ip = (fam == 4) | (fam == 6)
    unit.not_ip += n - int(np.count_nonzero(ip))
    addrs = _addresses(batch)
    direction = _classify(addrs, n, plan.classifier)
    eligible = _gate(plan, addrs, n, ip, direction, batch.ts_ns, unit)
    if not eligible.any():
        return
    matcher = plan.matcher
    src_group, dst_group = _address_groups(matcher, addrs, n, eligible)
    port_hit = np.zeros(n, dtype=bool)
    has_ports = (batch.flags & _PORTS) != 0
    if matcher.has_ports:
        rows = np.flatnonzero(eligible & has_ports)
        port_hit[rows] = matcher.port_match(
            batch.proto[rows], batch.sport[rows], batch.dport[rows]
        )
    hit = eligible & ((src_group != NO_GROUP) | (dst_group != NO_GROUP) | port_hit)
    extras: dict[int, Extras] = {}
    names = _Names()
    app_key = np.full(n, -1, dtype=np.int32)
    app_hit = _inspect_packets(batch, plan, eligible, hit, extras, names, app_key, counts)
    selected = hit | app_hit
    sel = np.flatnonzero(selected)
    unit.matched += len(sel)
    if len(sel) == 0:
        return
    f6 = fam[sel] == 6
    keys = np.zeros(len(sel), dtype=KEY_DTYPE)
    keys["family"] = fam[sel]
    keys["src_hi"] = np.where(f6, batch.src6_hi[sel], 0)
    keys["src_lo"] = np.where(f6, batch.src6_lo[sel], batch.src4[sel])
    keys["dst_hi"] = np.where(f6, batch.dst6_hi[sel], 0)
    keys["dst_lo"] = np.where(f6, batch.dst6_lo[sel], batch.dst4[sel])
    ports_sel = has_ports[sel]
    keys["sport"] = np.where(ports_sel, batch.sport[sel], 0)
    icmp_sel = (batch.flags[sel] & np.uint8(PacketFlag.ICMP)) != 0
    icmp_code = (batch.icmp_type[sel].astype(np.uint16) << 8) | batch.icmp_code[sel]
    keys["dport"] = np.where(ports_sel, batch.dport[sel], np.where(icmp_sel, icmp_code, 0))
    keys["proto"] = batch.proto[sel]
    keys["app"] = app_key[sel]
    ip_len = batch.ip_len[sel]
    size = np.where(ip_len > 0, ip_len, batch.wire_len[sel])
    position = {int(row): k for k, row in enumerate(sel.tolist())}
    table.add(
        keys=keys,
        app_names=names.items,
        direction=direction[sel],
        src_group=src_group[sel],
        dst_group=dst_group[sel],
        port_hit=port_hit[sel],
        first_ns=batch.ts_ns[sel],
        last_ns=batch.ts_ns[sel],
        packets=np.ones(len(sel), dtype=np.uint64),
        bytes_=size,
        tcp_flags=np.where(batch.proto[sel] == TCP, batch.tcp_flags[sel], 0),
        ttl=batch.ttl[sel],
        extras={position[i]: e for i, e in extras.items() if i in position},
        groups=matcher.groups,
        port_ids=matcher.port_selector_ids,
    )


# --- flow records -----------------------------------------------------------------------


def select_flows(
    batch: FlowBatch, plan: SelectionPlan, table: FlowTable, counts: SelectionCounts
) -> None:
    """Select from one batch of flow records (NetFlow, IPFIX, Zeek) into ``table``."""
    n = batch.count
    unit = counts.flows
    unit.received += n
    if n == 0:
        return
    fam = batch.family
    ip = (fam == 4) | (fam == 6)
    unit.not_ip += n - int(np.count_nonzero(ip))
    addrs = _addresses(batch)
    direction = _classify(addrs, n, plan.classifier)
    eligible = _gate(plan, addrs, n, ip, direction, batch.start_ns, unit)
    if not eligible.any():
        return
    matcher = plan.matcher
    src_group, dst_group = _address_groups(matcher, addrs, n, eligible)
    proto = batch.proto
    has_ports = np.isin(proto, (6, 17, 132, 136))
    port_hit = np.zeros(n, dtype=bool)
    if matcher.has_ports:
        rows = np.flatnonzero(eligible & has_ports)
        port_hit[rows] = matcher.port_match(proto[rows], batch.sport[rows], batch.dport[rows])
    hit = eligible & ((src_group != NO_GROUP) | (dst_group != NO_GROUP) | port_hit)
    extras: dict[int, Extras] = {}
    names = _Names()
    app_key = np.full(n, -1, dtype=np.int32)
    app_hit = np.zeros(n, dtype=bool)
    text_columns = {"qname": batch.qname, "sni": batch.sni, "ja3": batch.ja3, "ja4": batch.ja4}
    if any(col is not None for col in text_columns.values()):
        scope = eligible if (matcher.has_names or matcher.has_fingerprints) else hit
        for i in np.flatnonzero(scope).tolist():
            values = {k: (col[i] if col is not None else None) for k, col in text_columns.items()}
            if not any(values.values()):
                continue
            extra = Extras()
            found: list[str] = []
            if values["qname"]:
                extra.qname = str(values["qname"]).rstrip(".").lower()
                app_key[i] = names.key(extra.qname, 0)
                found += matcher.name_ids(extra.qname)
            if values["sni"]:
                extra.sni = str(values["sni"]).lower()
                found += matcher.name_ids(extra.sni)
            if values["ja3"]:
                extra.ja3 = str(values["ja3"]).lower()
                found += matcher.ja3.get(extra.ja3, ())
            if values["ja4"]:
                extra.ja4 = str(values["ja4"]).lower()
                found += matcher.ja4.get(extra.ja4, ())
            extra.selector_ids = tuple(found)
            extras[i] = extra
            if found:
                app_hit[i] = True
    selected = hit | app_hit
    sel = np.flatnonzero(selected)
    unit.matched += len(sel)
    if len(sel) == 0:
        return
    f6 = fam[sel] == 6
    keys = np.zeros(len(sel), dtype=KEY_DTYPE)
    keys["family"] = fam[sel]
    keys["src_hi"] = np.where(f6, batch.src6_hi[sel], 0)
    keys["src_lo"] = np.where(f6, batch.src6_lo[sel], batch.src4[sel])
    keys["dst_hi"] = np.where(f6, batch.dst6_hi[sel], 0)
    keys["dst_lo"] = np.where(f6, batch.dst6_lo[sel], batch.dst4[sel])
    keys["sport"] = batch.sport[sel]
    keys["dport"] = batch.dport[sel]
    keys["proto"] = proto[sel]
    keys["app"] = app_key[sel]
    position = {int(row): k for k, row in enumerate(sel.tolist())}
    table.add(
        keys=keys,
        app_names=[(name, 0) for name, _ in names.items],
        direction=direction[sel],
        src_group=src_group[sel],
        dst_group=dst_group[sel],
        port_hit=port_hit[sel],
        first_ns=batch.start_ns[sel],
        last_ns=np.maximum(batch.end_ns[sel], batch.start_ns[sel]),
        packets=batch.packets[sel],
        bytes_=batch.bytes[sel],
        tcp_flags=np.where(proto[sel] == TCP, batch.tcp_flags[sel], 0),
        ttl=None,
        extras={position[i]: e for i, e in extras.items() if i in position},
        groups=matcher.groups,
        port_ids=matcher.port_selector_ids,
    )


def select_into(
    batch: PacketBatch | FlowBatch, plan: SelectionPlan, table: FlowTable, counts: SelectionCounts
) -> None:
    """Dispatch one batch by its kind."""
    if isinstance(batch, FlowBatch):
        select_flows(batch, plan, table, counts)
    else:
        select_packets(batch, plan, table, counts)


def select_batch(
    batches: Iterable[PacketBatch | FlowBatch],
    *,
    plan: SelectionPlan,
    pseudonymiser: Pseudonymiser,
    progress: Callable[[int], None] | None = None,
) -> SelectionResult:
    """Select from decoded batches in memory: records and counts, nothing stored.

    ``pseudonymiser`` (a :class:`~.pseudonymise.CryptoPAn`) replaces every output
    address that is not a selector value. ``progress`` is called with the unit
    count of each batch once it has been matched.
    """
    counts = SelectionCounts()
    table = FlowTable()
    for batch in batches:
        select_into(batch, plan, table, counts)
        if progress is not None:
            progress(batch.count)
    records = table.records(plan.items, pseudonymiser)
    counts.records_out = len(records)
    return SelectionResult(records, counts)
