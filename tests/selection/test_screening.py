"""The compiled selection pass (gate, direction, address/CIDR/port match, aggregation)
against a straightforward reference written with ``ipaddress``, on random traffic.

Hypothesis draws addresses from small pools (so that selectors, domestic ranges and
party ranges really overlap the traffic), the selector set, the allowed direction
classes, an optional agreement party and period, and a batch size; the reference
decides every packet or flow record on its own and builds the expected records,
which must equal what :func:`select_batch` returns, field for field and in order.
"""

from __future__ import annotations

import functools
import io
import ipaddress
from dataclasses import dataclass, field
from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from mamori.selection.core import PartyRanges, SelectionPlan, select_batch
from mamori.selection.flows import FlowBatch
from mamori.selection.flows.batch import empty_columns, make_batch
from mamori.selection.mechanical import DEFAULT
from mamori.selection.prefixes import DIRECTIONS, Classifier, PrefixTable, parse_overrides
from mamori.selection.pseudonymise import CryptoPAn
from mamori.selection.readers import CaptureReader
from mamori.selection.readers.synthetic import (
    ICMP,
    TCP,
    UDP,
    Record,
    SyntheticPacket,
    build_frame,
    ip_packet,
    write_pcap,
)
from mamori.selection.receipts import UnitCounts
from mamori.selection.selectors import SelectorContent, compile_matcher, parse_plain

KEY = bytes(range(32))
GRE = 47
START_NS = 1_790_000_000_000_000_000
V4_NETS = ["198.51.100.0/24", "203.0.113.0/24", "192.0.2.0/24"]
V6_NETS = ["2001:db8:1::/64", "2001:db8:2::/64"]
PORTS = [80, 443, 4444, 8080, 9999]
PROTO_OF = {"tcp": (TCP,), "udp": (UDP, 136), "any": (TCP, UDP, 132, 136)}
DOMESTIC = (  # whole, partial (mixed /24) and absent domestic ranges
    (),
    ("198.51.100.0/24",),
    ("198.51.100.0/29", "203.0.113.4/30", "2001:db8:1::/125"),
    ("192.0.2.0/24", "203.0.113.0/28", "2001:db8:2::/64"),
    ("198.51.100.8/31", "2001:db8:1::/64", "2001:db8:2::4/126"),
)

Net = ipaddress.IPv4Network | ipaddress.IPv6Network


def _address(draw: st.DrawFn, family: int) -> int:
    pool = V4_NETS if family == 4 else V6_NETS
    net = ipaddress.ip_network(draw(st.sampled_from(pool)))
    # Often on the edge of a range in the tables (/29, /30, /31, /125, /126 ...).
    host = draw(st.one_of(st.sampled_from([0, 3, 4, 7, 8, 9, 15]),
                          st.integers(min_value=0, max_value=15)))  # fmt: skip
    return int(net.network_address) + host


@st.composite
def _networks(draw: st.DrawFn) -> str:
    family = draw(st.sampled_from([4, 4, 6]))
    value = _address(draw, family)
    bits = 32 if family == 4 else 128
    prefix = draw(st.sampled_from([bits, bits, bits - 1, bits - 2, bits - 3, bits - 8]))
    return str(ipaddress.ip_network((value, prefix), strict=False))


@dataclass(frozen=True)
class Unit:
    """One packet or flow record, as the reference sees it."""

    family: int
    src: int
    dst: int
    proto: int
    sport: int
    dport: int
    first_ns: int
    last_ns: int
    packets: int
    bytes: int
    tcp_flags: int
    ttl: int | None


@st.composite
def _packets(draw: st.DrawFn) -> list[tuple[SyntheticPacket, int]]:
    out = []
    times = draw(st.lists(st.integers(min_value=0, max_value=6), min_size=1, max_size=40))
    for step in times:
        family = draw(st.sampled_from([4, 4, 6]))
        proto = draw(st.sampled_from([TCP, TCP, UDP, ICMP if family == 4 else 58, GRE]))
        packet = SyntheticPacket(
            family=family, src=_address(draw, family), dst=_address(draw, family), proto=proto,
            sport=draw(st.sampled_from(PORTS)), dport=draw(st.sampled_from(PORTS)),
            tcp_flags=draw(st.integers(min_value=0, max_value=0x1FF)),
            ttl=draw(st.integers(min_value=1, max_value=255)),
            icmp_type=draw(st.sampled_from([0, 3, 8])), icmp_code=draw(st.sampled_from([0, 1])),
            payload=bytes(draw(st.sampled_from([0, 3, 40]))),
        )  # fmt: skip
        out.append((packet, START_NS + step * 1_000_000_000))
    return out


@dataclass(frozen=True)
class Setting:
    """Selectors, zone tables and basis of one example."""

    selectors: str
    domestic: tuple[str, ...] = ()
    party: tuple[str, ...] | None = None
    allowed: frozenset[str] = frozenset(DIRECTIONS)
    start: int | None = None
    end: int | None = None
    batch_size: int = 65_536


@st.composite
def _setting(draw: st.DrawFn) -> Setting:
    ip_selectors = draw(st.lists(_networks(), max_size=6))
    port_selectors = draw(st.lists(st.tuples(st.sampled_from(["tcp", "udp", "any"]),
                                             st.sampled_from(PORTS)), max_size=2))  # fmt: skip
    party = draw(st.one_of(st.none(), st.lists(_networks(), min_size=1, max_size=3)))
    start = draw(st.one_of(st.none(), st.integers(min_value=0, max_value=6)))
    end = draw(st.one_of(st.none(), st.integers(min_value=1, max_value=7)))
    return Setting(
        selectors="\n".join(ip_selectors + [f"port {p}/{n}" for p, n in port_selectors]),
        domestic=draw(st.sampled_from(DOMESTIC)),
        party=None if party is None else tuple(party),
        allowed=frozenset(draw(st.sets(st.sampled_from(DIRECTIONS), min_size=1))),
        start=None if start is None else START_NS + start * 1_000_000_000,
        end=None if end is None else START_NS + end * 1_000_000_000,
        batch_size=draw(st.integers(min_value=1, max_value=12)),
    )  # fmt: skip


@functools.cache
def _classifier(domestic: tuple[str, ...]) -> Classifier:
    overrides = "\n".join(f"{net} domestic" for net in domestic)
    return Classifier(PrefixTable.build("JP", [parse_overrides(overrides, source="t")]))


def _plan(setting: Setting) -> SelectionPlan:
    content = SelectorContent.build(parse_plain(setting.selectors, source="s").selectors)
    party = None
    if setting.party is not None:
        party, _ = PartyRanges.from_identifiers(setting.party)
    return SelectionPlan(
        matcher=compile_matcher(content), classifier=_classifier(setting.domestic),
        allowed_directions=setting.allowed, items=DEFAULT, party=party,
        period_start_ns=setting.start, period_end_ns=setting.end,
    )  # fmt: skip


# --- the reference ------------------------------------------------------------------------


def _inside(family: int, value: int, nets: list[Net]) -> bool:
    address = ipaddress.ip_address(value) if family == 4 else ipaddress.IPv6Address(value)
    return any(address in net for net in nets if net.version == family)


def _text(family: int, value: int) -> str:
    return str(ipaddress.IPv4Address(value) if family == 4 else ipaddress.IPv6Address(value))


def _time(ns: int) -> datetime | None:
    return None if ns <= 0 else datetime.fromtimestamp(ns / 1e9, tz=UTC)


@dataclass
class _Flow:
    order: tuple[int, ...]
    unit: Unit
    direction: str
    ids: set[str] = field(default_factory=set)
    first: int = 2**63 - 1
    last: int = 0
    packets: int = 0
    bytes: int = 0
    flags: int = 0
    ttl: list[int] = field(default_factory=list)


def _counts(received: int) -> dict[str, object]:
    return {"received": received, "not_ip": 0, "gated_out": 0, "outside_period": 0,
            "matched": 0, "by_direction": dict.fromkeys(DIRECTIONS, 0)}  # fmt: skip


def _passes_gate(u: Unit, setting: Setting, direction: str, party: list[Net]) -> bool:
    if direction not in setting.allowed:
        return False
    return setting.party is None or _inside(u.family, u.src, party) or _inside(
        u.family, u.dst, party)  # fmt: skip


def _in_period(u: Unit, setting: Setting) -> bool:
    if setting.start is None and setting.end is None:
        return True
    return (u.first_ns > 0 and (setting.start is None or u.first_ns >= setting.start)
            and (setting.end is None or u.first_ns < setting.end))  # fmt: skip


def reference(
    units: list[Unit], setting: Setting
) -> tuple[dict[str, object], list[dict[str, object]]]:
    """Counts and records as the rules say, deciding one unit at a time."""
    content = parse_plain(setting.selectors, source="s").selectors
    ip_sel = [(s.id, ipaddress.ip_network(s.value)) for s in content if s.kind == "ip"]
    port_sel = [(s.id, *s.value.split("/")) for s in content if s.kind == "port"]
    domestic: list[Net] = [ipaddress.ip_network(n) for n in setting.domestic]
    party: list[Net] = [ipaddress.ip_network(n, strict=False) for n in setting.party or ()]
    counts = _counts(len(units))
    by_direction: dict[str, int] = counts["by_direction"]  # type: ignore[assignment]
    flows: dict[tuple[int, ...], _Flow] = {}
    for number, u in enumerate(units):
        direction = DIRECTIONS[2 * _inside(u.family, u.src, domestic)
                               + _inside(u.family, u.dst, domestic)]  # fmt: skip
        by_direction[direction] += 1
        if not _passes_gate(u, setting, direction, party):
            counts["gated_out"] += 1  # type: ignore[operator]
            continue
        if not _in_period(u, setting):
            counts["outside_period"] += 1  # type: ignore[operator]
            continue
        ids = {i for i, net in ip_sel
               if _inside(u.family, u.src, [net]) or _inside(u.family, u.dst, [net])}  # fmt: skip
        if u.proto in (TCP, UDP, 132, 136):
            ids |= {i for i, proto, port in port_sel
                    if u.proto in PROTO_OF[proto] and int(port) in (u.sport, u.dport)}  # fmt: skip
        if not ids:
            continue
        counts["matched"] += 1  # type: ignore[operator]
        key = (u.family, u.src, u.dst, u.sport, u.dport, u.proto)
        # Flows are numbered by the batch that first holds them, then by key.
        flow = flows.setdefault(key, _Flow((number // setting.batch_size, *key), u, direction))
        flow.ids |= ids
        flow.first = min(flow.first, u.first_ns)
        flow.last = max(flow.last, u.last_ns)
        flow.packets += u.packets
        flow.bytes += u.bytes
        flow.flags |= u.tcp_flags if u.proto == TCP else 0
        if u.ttl is not None:
            flow.ttl.append(u.ttl)
    ordered = sorted(flows.values(), key=lambda f: f.order)
    ordered.sort(key=lambda f: (f.first, f.unit.src, f.unit.dst))
    return counts, [_record(flow, [net for _, net in ip_sel]) for flow in ordered]


def _record(flow: _Flow, selector_nets: list[Net]) -> dict[str, object]:
    u = flow.unit
    cryptopan = CryptoPAn(KEY)

    def shown(value: int) -> tuple[str, bool]:
        covered = _inside(u.family, value, selector_nets)
        text = _text(u.family, value)
        return (text, False) if covered else (cryptopan.address(text), True)

    (src, src_p), (dst, dst_p) = shown(u.src), shown(u.dst)
    icmp = u.proto in (1, 58)
    return {
        "direction": flow.direction, "family": u.family, "src_addr": src, "dst_addr": dst,
        "src_pseudonymised": src_p, "dst_pseudonymised": dst_p,
        "first_seen": _time(flow.first), "last_seen": _time(flow.last),
        "src_port": None if icmp else u.sport, "dst_port": None if icmp else u.dport,
        "protocol": u.proto, "tcp_flags": flow.flags if u.proto == TCP else None,
        "packets": flow.packets, "bytes": flow.bytes,
        "ttl_min": min(flow.ttl, default=None), "ttl_max": max(flow.ttl, default=None),
        "icmp_type": None, "icmp_code": None,  # not in the default item set
        "dns_qname": None, "dns_qtype": None, "dns_rcode": None, "tls_sni": None,
        "ja3": None, "ja4": None, "http_host": None,
        "matched_selectors": sorted(flow.ids), "matched_rules": None, "command_tokens": None,
    }  # fmt: skip


# --- the properties ----------------------------------------------------------------------


def _packet_unit(packet: SyntheticPacket, ts: int) -> Unit:
    ports = packet.proto in (TCP, UDP)
    icmp = packet.proto in (1, 58)
    return Unit(
        family=packet.family, src=packet.src, dst=packet.dst, proto=packet.proto,
        sport=packet.sport if ports else 0,
        dport=packet.dport if ports else (packet.icmp_type << 8 | packet.icmp_code) if icmp else 0,
        first_ns=ts, last_ns=ts, packets=1, bytes=len(ip_packet(packet)),
        tcp_flags=packet.tcp_flags & 0x0FFF, ttl=packet.ttl,
    )  # fmt: skip


def _flow_units(packets: list[tuple[SyntheticPacket, int]], sizes: list[int]) -> list[Unit]:
    units = []
    for (p, ts), size in zip(packets, sizes, strict=False):
        ports = p.proto in (TCP, UDP)
        units.append(Unit(p.family, p.src, p.dst, p.proto, p.sport if ports else 0,
                          p.dport if ports else 0, ts, ts + size * 1000, 1 + size % 7,
                          size * 3, p.tcp_flags & 0x0FFF, None))  # fmt: skip
    return units


def _flow_batches(units: list[Unit], size: int) -> list[FlowBatch]:
    columns = empty_columns(len(units))
    for i, u in enumerate(units):
        columns["family"][i] = u.family
        if u.family == 4:
            columns["src4"][i], columns["dst4"][i] = u.src, u.dst
        else:
            columns["src6_hi"][i], columns["src6_lo"][i] = u.src >> 64, u.src & (2**64 - 1)
            columns["dst6_hi"][i], columns["dst6_lo"][i] = u.dst >> 64, u.dst & (2**64 - 1)
        for name, value in (("sport", u.sport), ("dport", u.dport), ("proto", u.proto),
                            ("start_ns", u.first_ns), ("end_ns", u.last_ns),
                            ("packets", u.packets), ("bytes", u.bytes),
                            ("tcp_flags", u.tcp_flags)):  # fmt: skip
            columns[name][i] = value
    return [make_batch("t", {k: v[s : s + size] for k, v in columns.items()})
            for s in range(0, len(units), size)]  # fmt: skip


def _unit_counts(got: UnitCounts) -> dict[str, object]:
    return {"received": got.received, "not_ip": got.not_ip, "gated_out": got.gated_out,
            "outside_period": got.outside_period, "matched": got.matched,
            "by_direction": got.by_direction}  # fmt: skip


@given(_packets(), _setting(), st.lists(st.integers(min_value=0, max_value=10**6),
                                        min_size=40, max_size=40))  # fmt: skip
@settings(max_examples=100, deadline=None)
def test_selection_agrees_with_the_reference(packets, setting, sizes) -> None:
    plan = _plan(setting)
    size = setting.batch_size
    stream = io.BytesIO()
    write_pcap(stream, (Record(build_frame(p), ts) for p, ts in packets))
    stream.seek(0)
    result = select_batch(CaptureReader(stream, batch_size=size), plan=plan,
                          pseudonymiser=CryptoPAn(KEY))  # fmt: skip
    counts, records = reference([_packet_unit(p, ts) for p, ts in packets], setting)
    assert _unit_counts(result.counts.packets) == counts
    assert [r.columns() for r in result.records] == records
    assert result.counts.records_out == len(records)

    units = _flow_units(packets, sizes)
    result = select_batch(_flow_batches(units, size), plan=plan, pseudonymiser=CryptoPAn(KEY))
    counts, records = reference(units, setting)
    assert _unit_counts(result.counts.flows) == counts
    assert [r.columns() for r in result.records] == records


def test_non_ip_units_are_counted_and_dropped() -> None:
    columns = empty_columns(3)
    columns["family"][:] = [0, 4, 6]
    columns["dst4"][1] = int(ipaddress.IPv4Address("198.51.100.7"))
    result = select_batch([make_batch("t", columns)], plan=_plan(Setting("198.51.100.7")),
                          pseudonymiser=CryptoPAn(KEY))  # fmt: skip
    flows = result.counts.flows
    assert (flows.received, flows.not_ip, flows.matched) == (3, 1, 1)
    assert sum(flows.by_direction.values()) == 2
    assert [r.dst_addr for r in result.records] == ["198.51.100.7"]


def test_the_period_includes_its_start_and_excludes_its_end() -> None:
    packets = [(SyntheticPacket(src=int(ipaddress.IPv4Address("8.8.8.8")),
                                dst=int(ipaddress.IPv4Address("198.51.100.7")), sport=40000 + k),
                START_NS + k * 1_000_000_000) for k in range(4)]  # fmt: skip
    setting = Setting("198.51.100.7", start=START_NS + 1_000_000_000,
                      end=START_NS + 3_000_000_000)  # fmt: skip
    stream = io.BytesIO()
    write_pcap(stream, (Record(build_frame(p), ts) for p, ts in packets))
    stream.seek(0)
    result = select_batch(CaptureReader(stream), plan=_plan(setting),
                          pseudonymiser=CryptoPAn(KEY))  # fmt: skip
    assert (result.counts.packets.outside_period, result.counts.packets.matched) == (2, 2)
    assert [r.src_port for r in result.records] == [40001, 40002]
    units = [_packet_unit(p, ts) for p, ts in packets]
    result = select_batch(_flow_batches(units, 4), plan=_plan(setting),
                          pseudonymiser=CryptoPAn(KEY))  # fmt: skip
    assert (result.counts.flows.outside_period, result.counts.flows.matched) == (2, 2)


def test_kernel_constants_match_their_sources() -> None:
    """The compiled module keeps its own copies of these (numba's cache needs that)."""
    from mamori.selection import kernels, prefixes
    from mamori.selection.readers import PacketFlag
    from mamori.selection.selectors.matcher import NO_GROUP

    assert (kernels.FL_PORTS, kernels.FL_PAYLOAD) == (PacketFlag.PORTS, PacketFlag.PAYLOAD)
    assert (kernels.DOMESTIC_BUCKET, kernels.MIXED_BUCKET) == (
        prefixes.DOMESTIC_BUCKET, prefixes.MIXED_BUCKET)
    assert kernels.NO_GROUP == NO_GROUP
    assert (kernels.TCP, kernels.UDP) == (TCP, UDP)
