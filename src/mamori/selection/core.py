"""The pure, in-memory core of selection: classify, gate, match, extract, aggregate.

:func:`select_batch` takes decoded batches (packet batches from
:mod:`.readers`, flow batches from :mod:`.flows`) and a :class:`SelectionPlan`,
and returns mechanical records plus counts. It touches no database, file or log;
everything it does not select is dropped with the batch that held it.

Per batch, in one compiled pass over the NumPy columns (:func:`.kernels.screen`):

1. units without an IP header are counted and dropped;
2. each unit gets its direction class from the domestic-prefix table; units of a
   class the basis does not allow (or, under an agreement, not to or from the
   party's addresses, or captured outside the basis's period) are dropped;
3. addresses and ports are matched for every remaining unit, and the candidate
   packets for the application layer are marked: UDP/TCP port 53 for DNS, a TLS
   handshake record ``0x16 0x03`` on any port, an HTTP method at the start of a
   TCP payload, and for YARA every remaining packet that has a payload.

Then, in Python and only for the marked units: names and TLS fingerprints are
parsed and matched, YARA runs, and the selected units are aggregated into flows
(:mod:`.flowtable`).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from . import kernels
from .dpi import ParseError, parse_client_hello, parse_dns, parse_http_request
from .flows import FlowBatch
from .flowtable import KEY_DTYPE, Extras, FlowTable, MechanicalRecord, Pseudonymiser
from .mechanical import ItemSet
from .prefixes import DIRECTIONS, Classifier
from .readers import PacketBatch, PacketFlag
from .receipts import SelectionCounts, UnitCounts
from .selectors.matcher import PROTO_LUT, Matcher, Segments, build_segments, split_v6

DNS_PORT = 53
TCP, UDP = 6, 17
_METHOD_FIRST = np.zeros(256, dtype=np.uint8)
for _letter in b"GPHDOCT":  # GET POST PUT PATCH HEAD DELETE OPTIONS CONNECT TRACE
    _METHOD_FIRST[_letter] = 1
_METHOD_FIRST.flags.writeable = False
_PORTS = np.uint8(PacketFlag.PORTS)

# Whether a unit has ports: packets by their PORTS flag, flow records by protocol.
_PACKET_HAS_PORTS = ((np.arange(256) & int(PacketFlag.PORTS)) != 0).astype(np.uint8)
_FLOW_HAS_PORTS = np.zeros(256, dtype=np.uint8)
_FLOW_HAS_PORTS[[6, 17, 132, 136]] = 1
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
    tables: _Tables = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        mask = np.array([d in self.allowed_directions for d in DIRECTIONS], dtype=bool)
        object.__setattr__(self, "allowed_mask", mask)
        object.__setattr__(self, "tables", _Tables.build(self))

    @property
    def has_period(self) -> bool:
        return self.period_start_ns is not None or self.period_end_ns is not None


@dataclass
class SelectionResult:
    records: list[MechanicalRecord]
    counts: SelectionCounts


# --- compiled screening -----------------------------------------------------------------


def _frozen(array: np.ndarray, dtype: type) -> np.ndarray:
    """A read-only contiguous view (a copy only if the type differs).

    Every table reaches the compiled code with the same array types, so one
    compiled signature serves every plan and both kinds of batch.
    """
    out: np.ndarray = np.ascontiguousarray(array, dtype=dtype).view()
    out.flags.writeable = False
    return out


_ALL_V4_BUCKETS: np.ndarray | None = None


def _v4_buckets(segments: Segments) -> np.ndarray:
    """The segments' /24 bitmap, or one that screens nothing out when they have none."""
    global _ALL_V4_BUCKETS
    if segments.bitmap is not None:
        return _frozen(segments.bitmap, np.uint8)
    if _ALL_V4_BUCKETS is None:
        _ALL_V4_BUCKETS = _frozen(np.full(1 << 21, 0xFF, dtype=np.uint8), np.uint8)
    return _ALL_V4_BUCKETS


def _segments_v4(segments: Segments) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return (_v4_buckets(segments), _frozen(segments.starts, np.uint32),
            _frozen(segments.groups, np.int32))  # fmt: skip


def _segments_v6(segments: Segments) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    hi, lo = segments.halves
    return _frozen(hi, np.uint64), _frozen(lo, np.uint64), _frozen(segments.groups, np.int32)


_NO_V4 = (_frozen(np.zeros(1), np.uint8), _frozen(np.zeros(1), np.uint32),
          _frozen(np.zeros(1), np.int32))  # fmt: skip
_NO_V6 = (_frozen(np.zeros(1), np.uint64), _frozen(np.zeros(1), np.uint64),
          _frozen(np.zeros(1), np.int32))  # fmt: skip
_NO_BYTES = _frozen(np.zeros(1), np.uint8)
_NO_OFFSETS = _frozen(np.zeros(1), np.uint32)


@dataclass(frozen=True)
class _Tables:
    """A plan's tables and switches in the shapes :func:`kernels.screen` takes."""

    domestic4: tuple[np.ndarray, ...]
    domestic6: tuple[np.ndarray, ...]
    selectors4: tuple[np.ndarray, ...]
    selectors6: tuple[np.ndarray, ...]
    party4: tuple[np.ndarray, ...]
    party6: tuple[np.ndarray, ...]
    packet_ports: tuple[np.ndarray, ...]
    flow_ports: tuple[np.ndarray, ...]
    packet_params: np.ndarray
    flow_params: np.ndarray

    @classmethod
    def build(cls, plan: SelectionPlan) -> _Tables:
        matcher, classifier = plan.matcher, plan.classifier
        # The classifier's own arrays (built once per prefix table), not copies.
        start6_hi, start6_lo = split_v6(classifier._v6_start)
        end6_hi, end6_lo = split_v6(classifier._v6_end)
        params = np.zeros(kernels.P_SIZE, dtype=np.int64)
        params[kernels.P_ALLOWED] = sum(1 << k for k, ok in enumerate(plan.allowed_mask) if ok)
        params[kernels.P_PARTY] = plan.party is not None
        if plan.period_start_ns is not None:
            params[kernels.P_HAS_START], params[kernels.P_START_NS] = 1, plan.period_start_ns
        if plan.period_end_ns is not None:
            params[kernels.P_HAS_END], params[kernels.P_END_NS] = 1, plan.period_end_ns
        params[kernels.P_PORTS] = matcher.has_ports
        flow_params = params.copy()
        params[kernels.P_APP] = _app_mode(plan)
        port_table = _frozen(matcher.port_table, np.uint8)
        proto_bits = _frozen(PROTO_LUT, np.uint8)
        party = plan.party
        return cls(
            domestic4=(_frozen(classifier._v4_bucket, np.uint8),
                       _frozen(classifier._v4_start, np.uint32),
                       _frozen(classifier._v4_end, np.uint32)),
            domestic6=tuple(_frozen(a, np.uint64)
                            for a in (start6_hi, start6_lo, end6_hi, end6_lo)),
            selectors4=_segments_v4(matcher.v4),
            selectors6=_segments_v6(matcher.v6),
            party4=_segments_v4(party.v4) if party is not None else _NO_V4,
            party6=_segments_v6(party.v6) if party is not None else _NO_V6,
            packet_ports=(port_table, proto_bits, _frozen(_PACKET_HAS_PORTS, np.uint8)),
            flow_ports=(port_table, proto_bits, _frozen(_FLOW_HAS_PORTS, np.uint8)),
            packet_params=_frozen(params, np.int64),
            flow_params=_frozen(flow_params, np.int64),
        )  # fmt: skip


def _app_mode(plan: SelectionPlan) -> int:
    """Which packets the application-layer step must see (``kernels.MODE_*`` bits)."""
    matcher, items = plan.matcher, plan.items.items
    names, fingerprints = matcher.has_names, matcher.has_fingerprints
    mode = 0
    if names or items & _DNS_ITEMS:
        mode |= kernels.MODE_DNS
    if names or fingerprints or items & _TLS_ITEMS:
        mode |= kernels.MODE_TLS
    if names or "http_host" in items:
        mode |= kernels.MODE_HTTP
    if matcher.yara.rules is not None:
        mode |= kernels.MODE_YARA
    if names or fingerprints:
        mode |= kernels.MODE_ALL
    if names:
        mode |= kernels.MODE_DNS_ALL
    return mode


@dataclass
class _Screened:
    """What :func:`kernels.screen` found in one batch."""

    state: np.ndarray
    direction: np.ndarray
    src_group: np.ndarray
    dst_group: np.ndarray
    port_hit: np.ndarray
    hits: np.ndarray
    """Rows an address or port selector matched, ascending."""
    candidate_rows: np.ndarray
    candidate_kind: np.ndarray
    eligible: int


def _screen(
    batch: PacketBatch | FlowBatch, plan: SelectionPlan, unit: UnitCounts, *, times: np.ndarray,
    port_flags: np.ndarray, ports: tuple[np.ndarray, ...], params: np.ndarray,
    payload: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
) -> _Screened:  # fmt: skip
    """One compiled pass over the batch; the gate's counts go into ``unit``."""
    n = batch.count
    t = plan.tables
    state = np.empty(n, dtype=np.uint8)
    direction = np.empty(n, dtype=np.uint8)
    src_group = np.empty(n, dtype=np.int32)
    dst_group = np.empty(n, dtype=np.int32)
    port_hit = np.empty(n, dtype=np.bool_)
    hit_rows = np.empty(n, dtype=np.int64)
    candidate_rows = np.empty(n, dtype=np.int64)
    candidate_kind = np.empty(n, dtype=np.uint8)
    counts = np.zeros(kernels.C_SIZE, dtype=np.int64)
    buf, offsets, lengths, flags = payload
    hits, candidates = kernels.screen(
        batch.family, batch.src4, batch.dst4, batch.src6_hi, batch.src6_lo, batch.dst6_hi,
        batch.dst6_lo, times, batch.proto, batch.sport, batch.dport, port_flags,
        t.domestic4, t.domestic6, t.selectors4, t.selectors6, t.party4, t.party6, ports, params,
        buf, offsets, lengths, flags, _METHOD_FIRST,
        state, direction, src_group, dst_group, port_hit, hit_rows, candidate_rows,
        candidate_kind, counts,
    )  # fmt: skip
    c = counts.tolist()
    unit.not_ip += c[kernels.C_NOT_IP]
    for k, name in enumerate(DIRECTIONS):
        unit.by_direction[name] += c[kernels.C_DIRECTION + k]
    unit.gated_out += c[kernels.C_GATED_OUT]
    unit.outside_period += c[kernels.C_OUTSIDE_PERIOD]
    return _Screened(state, direction, src_group, dst_group, port_hit, hit_rows[:hits],
                     candidate_rows[:candidates], candidate_kind[:candidates],
                     c[kernels.C_ELIGIBLE])  # fmt: skip


def _key_columns(
    sel: np.ndarray, batch: PacketBatch | FlowBatch, app: dict[int, int]
) -> np.ndarray:
    """Flow keys of the selected rows (ports and ICMP fields are set by the caller)."""
    fam = batch.family[sel]
    f6 = fam == 6
    keys = np.zeros(len(sel), dtype=KEY_DTYPE)
    keys["family"] = fam
    keys["src_hi"] = np.where(f6, batch.src6_hi[sel], 0)
    keys["src_lo"] = np.where(f6, batch.src6_lo[sel], batch.src4[sel])
    keys["dst_hi"] = np.where(f6, batch.dst6_hi[sel], 0)
    keys["dst_lo"] = np.where(f6, batch.dst6_lo[sel], batch.dst4[sel])
    keys["proto"] = batch.proto[sel]
    if app:
        keys["app"] = [app.get(row, -1) for row in sel.tolist()]
    else:
        keys["app"] = -1
    return keys


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
    rows: np.ndarray,
    kinds: np.ndarray,
    extras: dict[int, Extras],
    names: _Names,
    app_key: dict[int, int],
    counts: SelectionCounts,
) -> list[int]:
    """Application-layer matching and item extraction on the candidate packets.

    ``rows``/``kinds`` come from :func:`kernels.screen`; returns the rows that names,
    fingerprints or YARA select (possibly repeated, in no particular order).
    """
    matcher = plan.matcher
    match_names = matcher.has_names
    app_hit: list[int] = []
    proto = batch.proto
    for i in rows[(kinds & kernels.KIND_DNS) != 0].tolist():
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
                app_hit.append(i)
    for i in rows[(kinds & kernels.KIND_TLS) != 0].tolist():
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
            app_hit.append(i)
    for i in rows[(kinds & kernels.KIND_HTTP) != 0].tolist():
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
                app_hit.append(i)
    for i in rows[(kinds & kernels.KIND_YARA) != 0].tolist():
        rule_ids, tokens = matcher.yara.scan(bytes(batch.payload(i)))
        if rule_ids:
            extra = extras.setdefault(i, Extras())
            extra.rule_ids += tuple(rule_ids)
            extra.tokens += tuple(tokens)
            counts.rule_matches += 1
            app_hit.append(i)
    return app_hit


def _selected(hits: np.ndarray, app_hit: list[int]) -> np.ndarray:
    """Rows selected by addresses, ports or the application layer, ascending."""
    if not app_hit:
        return hits
    return np.union1d(hits, np.array(app_hit, dtype=np.int64))


def select_packets(
    batch: PacketBatch, plan: SelectionPlan, table: FlowTable, counts: SelectionCounts
) -> None:
    """Select from one packet batch into ``table``; counts go into ``counts``."""
    n = batch.count
    unit = counts.packets
    unit.received += n
    if n == 0:
        return
    tables = plan.tables
    flags = batch.flags
    found = _screen(
        batch, plan, unit, times=batch.ts_ns, port_flags=flags, ports=tables.packet_ports,
        params=tables.packet_params,
        payload=(batch.buffer, batch.payload_offset, batch.payload_length, flags),
    )  # fmt: skip
    if found.eligible == 0:
        return
    extras: dict[int, Extras] = {}
    names = _Names()
    app_key: dict[int, int] = {}
    app_hit: list[int] = []
    if len(found.candidate_rows):
        app_hit = _inspect_packets(batch, plan, found.candidate_rows, found.candidate_kind,
                                   extras, names, app_key, counts)  # fmt: skip
    sel = _selected(found.hits, app_hit)
    unit.matched += len(sel)
    if len(sel) == 0:
        return
    keys = _key_columns(sel, batch, app_key)
    flags_sel = flags[sel]
    ports_sel = (flags_sel & _PORTS) != 0
    keys["sport"] = np.where(ports_sel, batch.sport[sel], 0)
    icmp_sel = (flags_sel & np.uint8(PacketFlag.ICMP)) != 0
    icmp_code = (batch.icmp_type[sel].astype(np.uint16) << 8) | batch.icmp_code[sel]
    keys["dport"] = np.where(ports_sel, batch.dport[sel], np.where(icmp_sel, icmp_code, 0))
    proto_sel = keys["proto"]
    ip_len = batch.ip_len[sel]
    size = np.where(ip_len > 0, ip_len, batch.wire_len[sel])
    ts = batch.ts_ns[sel]
    table.add(
        keys=keys,
        app_names=names.items,
        direction=found.direction[sel],
        src_group=found.src_group[sel],
        dst_group=found.dst_group[sel],
        port_hit=found.port_hit[sel],
        first_ns=ts,
        last_ns=ts,
        packets=np.ones(len(sel), dtype=np.uint64),
        bytes_=size,
        tcp_flags=np.where(proto_sel == TCP, batch.tcp_flags[sel], 0),
        ttl=batch.ttl[sel],
        extras=_positions(sel, extras),
        groups=plan.matcher.groups,
        port_ids=plan.matcher.port_selector_ids,
    )


def _positions(sel: np.ndarray, extras: dict[int, Extras]) -> dict[int, Extras]:
    """``extras`` of the selected rows, keyed by position in ``sel`` (insertion order kept)."""
    if not extras:
        return {}
    position = {row: k for k, row in enumerate(sel.tolist())}
    return {position[i]: e for i, e in extras.items() if i in position}


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
    tables = plan.tables
    proto = batch.proto
    found = _screen(
        batch, plan, unit, times=batch.start_ns, port_flags=proto, ports=tables.flow_ports,
        params=tables.flow_params, payload=(_NO_BYTES, _NO_OFFSETS, _NO_OFFSETS, _NO_BYTES),
    )  # fmt: skip
    if found.eligible == 0:
        return
    matcher = plan.matcher
    extras: dict[int, Extras] = {}
    names = _Names()
    app_key: dict[int, int] = {}
    app_hit: list[int] = []
    text_columns = {"qname": batch.qname, "sni": batch.sni, "ja3": batch.ja3, "ja4": batch.ja4}
    present = [col.astype(bool) for col in text_columns.values() if col is not None]
    if present:
        floor = kernels.ELIGIBLE if (matcher.has_names or matcher.has_fingerprints) else kernels.HIT
        scope = found.state >= floor
        scope &= np.logical_or.reduce(present)
        for i in np.flatnonzero(scope).tolist():
            values = {k: (col[i] if col is not None else None) for k, col in text_columns.items()}
            extra = Extras()
            found_ids: list[str] = []
            if values["qname"]:
                extra.qname = str(values["qname"]).rstrip(".").lower()
                app_key[i] = names.key(extra.qname, 0)
                found_ids += matcher.name_ids(extra.qname)
            if values["sni"]:
                extra.sni = str(values["sni"]).lower()
                found_ids += matcher.name_ids(extra.sni)
            if values["ja3"]:
                extra.ja3 = str(values["ja3"]).lower()
                found_ids += matcher.ja3.get(extra.ja3, ())
            if values["ja4"]:
                extra.ja4 = str(values["ja4"]).lower()
                found_ids += matcher.ja4.get(extra.ja4, ())
            extra.selector_ids = tuple(found_ids)
            extras[i] = extra
            if found_ids:
                app_hit.append(i)
    sel = _selected(found.hits, app_hit)
    unit.matched += len(sel)
    if len(sel) == 0:
        return
    keys = _key_columns(sel, batch, app_key)
    keys["sport"] = batch.sport[sel]
    keys["dport"] = batch.dport[sel]
    proto_sel = keys["proto"]
    start = batch.start_ns[sel]
    table.add(
        keys=keys,
        app_names=[(name, 0) for name, _ in names.items],
        direction=found.direction[sel],
        src_group=found.src_group[sel],
        dst_group=found.dst_group[sel],
        port_hit=found.port_hit[sel],
        first_ns=start,
        last_ns=np.maximum(batch.end_ns[sel], start),
        packets=batch.packets[sel],
        bytes_=batch.bytes[sel],
        tcp_flags=np.where(proto_sel == TCP, batch.tcp_flags[sel], 0),
        ttl=None,
        extras=_positions(sel, extras),
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
