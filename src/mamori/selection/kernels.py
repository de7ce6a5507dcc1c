"""Compiled hot paths of selection: one pass per batch instead of a chain of NumPy steps.

:func:`screen` walks the columns of a packet or flow batch once and, for each unit,
finds its direction class, applies the gate (allowed classes, the agreement
party's addresses, the basis's period), looks its addresses up in the selector
segments, tests its ports, and — for packets — marks the few units whose payload
the application-layer parsers must see. Python then touches only the units that
matched or are candidates (typically about one in a hundred).

:func:`accumulate` folds selected units into the numeric state of their flows.

Everything the compiled code uses lives in this one module on purpose: numba's
on-disk cache (``cache=True``) is invalidated only when the cached function's own
source file changes. The functions never allocate, so reference counting is off.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic

compiled = njit(cache=True, nogil=True, _nrt=False)  # type: ignore[call-overload]

AHEAD = 32
"""Rows between a prefetch and the use of what it fetched."""

NO_GROUP = -1

# Per-/24 states of the domestic-prefix table (prefixes.FOREIGN_BUCKET ...).
DOMESTIC_BUCKET = 1
MIXED_BUCKET = 2

# Packet flag bits (readers.PacketFlag).
FL_PORTS = 1
FL_PAYLOAD = 32
TCP = 6
UDP = 17
DNS_PORT = 53
TLS_HANDSHAKE = 0x16
TLS_MAJOR = 0x03

# params: scalars of one plan, packed so that the signature stays short.
P_ALLOWED = 0  # bit k set: direction class k passes the gate
P_PARTY = 1  # 1: only the agreement party's communications pass
P_HAS_START = 2
P_START_NS = 3
P_HAS_END = 4
P_END_NS = 5
P_PORTS = 6  # 1: the matcher has port selectors
P_APP = 7  # MODE_* bits: which candidates to mark (packets only)
P_SIZE = 8

MODE_DNS = 1  # mark DNS candidates (UDP/TCP port 53)
MODE_TLS = 2  # mark TLS handshake candidates (0x16 0x03 at the start of a TCP payload)
MODE_HTTP = 4  # mark HTTP request candidates (a method's first letter)
MODE_YARA = 8  # mark every eligible packet with a payload
MODE_ALL = 16  # names or fingerprints can select: candidates among all eligible units
MODE_DNS_ALL = 32  # names can select: DNS candidates among all eligible units

# Candidate kinds (bits of the kind column).
KIND_DNS = 1
KIND_TLS = 2
KIND_HTTP = 4
KIND_YARA = 8

# Unit states.
DROPPED = 0  # not IP, gated out or outside the period
ELIGIBLE = 1
HIT = 2  # an address or port selector matched

# counts: what the gate saw.
C_NOT_IP = 0
C_DIRECTION = 1  # four slots, by direction class
C_GATED_OUT = 5
C_OUTSIDE_PERIOD = 6
C_ELIGIBLE = 7
C_SIZE = 8


@intrinsic
def _prefetch(typingctx: Any, array: Any, index: Any) -> Any:
    """Ask the CPU to bring ``array[index]`` into cache (a hint: no fault, no effect on results).

    Table lookups keyed by random addresses and first payload bytes miss the cache;
    fetching them a few rows ahead overlaps those misses instead of waiting on each.
    """

    def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
        array_type = signature.args[0]
        view = context.make_array(array_type)(context, builder, args[0])
        pointer = cgutils.get_item_pointer(context, builder, array_type, view, [args[1]],
                                           wraparound=False, boundscheck=False)  # fmt: skip
        byte_pointer = ir.IntType(8).as_pointer()
        i32 = ir.IntType(32)
        function = cgutils.get_or_insert_function(
            builder.module,
            ir.FunctionType(ir.VoidType(), [byte_pointer, i32, i32, i32]),
            "llvm.prefetch.p0i8",
        )
        # read, high temporal locality, data cache
        builder.call(function, [builder.bitcast(pointer, byte_pointer), i32(0), i32(3), i32(1)])
        return context.get_dummy_value()

    return types.void(array, index), codegen


prefetch = cast(Callable[[np.ndarray, int], None], _prefetch)


@compiled
def last_at_or_below(starts: np.ndarray, key: np.uint32) -> int:
    """Index of the last start <= key, -1 if none (``searchsorted(side="right") - 1``)."""
    lo = 0
    hi = starts.shape[0]
    while lo < hi:
        mid = (lo + hi) >> 1
        if starts[mid] <= key:
            lo = mid + 1
        else:
            hi = mid
    return lo - 1


@compiled
def last_at_or_below_128(
    start_hi: np.ndarray, start_lo: np.ndarray, key_hi: np.uint64, key_lo: np.uint64
) -> int:
    """The same for 128-bit keys held as (high, low) uint64 halves."""
    lo = 0
    hi = start_hi.shape[0]
    while lo < hi:
        mid = (lo + hi) >> 1
        top = start_hi[mid]
        if top < key_hi or (top == key_hi and start_lo[mid] <= key_lo):
            lo = mid + 1
        else:
            hi = mid
    return lo - 1


@compiled
def group_v4(buckets: np.ndarray, starts: np.ndarray, groups: np.ndarray, key: np.uint32) -> int:
    """Selector group of an IPv4 key; the /24 bitmap answers most keys without a search."""
    slash24 = key >> 8
    if (buckets[slash24 >> 3] >> (slash24 & 7)) & 1 == 0:
        return NO_GROUP
    index = last_at_or_below(starts, key)
    if index < 0:
        return NO_GROUP
    return groups[index]


@compiled
def group_v6(
    start_hi: np.ndarray, start_lo: np.ndarray, groups: np.ndarray, key_hi: np.uint64,
    key_lo: np.uint64,
) -> int:  # fmt: skip
    index = last_at_or_below_128(start_hi, start_lo, key_hi, key_lo)
    if index < 0:
        return NO_GROUP
    return groups[index]


@compiled
def domestic_v4(state: np.ndarray, start: np.ndarray, end: np.ndarray, key: np.uint32) -> bool:
    """Whether an IPv4 key is domestic; only keys of a mixed /24 are searched."""
    bucket = state[key >> 8]
    if bucket == DOMESTIC_BUCKET:
        return True
    if bucket != MIXED_BUCKET:
        return False
    index = last_at_or_below(start, key)
    return index >= 0 and key <= end[index]


@compiled
def domestic_v6(
    start_hi: np.ndarray, start_lo: np.ndarray, end_hi: np.ndarray, end_lo: np.ndarray,
    key_hi: np.uint64, key_lo: np.uint64,
) -> bool:  # fmt: skip
    index = last_at_or_below_128(start_hi, start_lo, key_hi, key_lo)
    if index < 0:
        return False
    top = end_hi[index]
    return key_hi < top or (key_hi == top and key_lo <= end_lo[index])


@compiled
def screen(
    family, src4, dst4, src6_hi, src6_lo, dst6_hi, dst6_lo, times,
    proto, sport, dport, port_flags,
    domestic4, domestic6, selectors4, selectors6, party4, party6, ports, params,
    buf, payload_offset, payload_length, flags, method_first,
    state, direction, src_group, dst_group, port_hit, hit_rows, candidate_rows, candidate_kind,
    counts,
):  # fmt: skip
    """Classify, gate and match every unit of one batch; returns (hits, candidates).

    ``state`` (``DROPPED``, ``ELIGIBLE`` or ``HIT``), ``direction``, ``src_group``,
    ``dst_group`` and ``port_hit`` are written for every unit (-1 / False where the
    unit is not eligible). ``hit_rows`` receives the units an address or port
    selector matched, ``candidate_rows``/``candidate_kind`` the packets whose payload
    a parser (or YARA) must see, both in row order; ``counts`` the gate's counts.
    ``port_flags`` is looked up in ``ports[2]`` to tell whether a unit has ports.

    Tables: ``domestic4`` is (per-/24 states, range starts, range ends);
    ``selectors4``/``party4`` are (per-/24 bitmap, segment starts, segment groups);
    the IPv6 tuples hold the (high, low) halves of starts (and ends).
    """
    state4, start4, end4 = domestic4
    start6_hi, start6_lo, end6_hi, end6_lo = domestic6
    bucket4, seg4, grp4 = selectors4
    seg6_hi, seg6_lo, grp6 = selectors6
    party_bucket4, party_seg4, party_grp4 = party4
    party_seg6_hi, party_seg6_lo, party_grp6 = party6
    port_table, proto_bits, has_ports = ports
    allowed = params[P_ALLOWED]
    party = params[P_PARTY] != 0
    has_start = params[P_HAS_START] != 0
    start_ns = params[P_START_NS]
    has_end = params[P_HAS_END] != 0
    end_ns = params[P_END_NS]
    match_ports = params[P_PORTS] != 0
    mode = params[P_APP]
    hits = 0
    candidates = 0
    n = family.shape[0]
    for i in range(n):
        ahead = i + AHEAD
        if ahead < n:
            if family[ahead] == 4:
                prefetch(state4, src4[ahead] >> 8)
                prefetch(state4, dst4[ahead] >> 8)
                prefetch(bucket4, src4[ahead] >> 11)
                prefetch(bucket4, dst4[ahead] >> 11)
            if mode != 0 and flags[ahead] & FL_PAYLOAD and payload_length[ahead] > 0:
                prefetch(buf, payload_offset[ahead])
        state[i] = DROPPED
        direction[i] = 0
        src_group[i] = NO_GROUP
        dst_group[i] = NO_GROUP
        port_hit[i] = False
        fam = family[i]
        a4 = b4 = np.uint32(0)
        a_hi = a_lo = b_hi = b_lo = np.uint64(0)
        if fam == 4:
            a4 = src4[i]
            b4 = dst4[i]
            src_home = domestic_v4(state4, start4, end4, a4)
            dst_home = domestic_v4(state4, start4, end4, b4)
        elif fam == 6:
            a_hi = src6_hi[i]
            a_lo = src6_lo[i]
            b_hi = dst6_hi[i]
            b_lo = dst6_lo[i]
            src_home = domestic_v6(start6_hi, start6_lo, end6_hi, end6_lo, a_hi, a_lo)
            dst_home = domestic_v6(start6_hi, start6_lo, end6_hi, end6_lo, b_hi, b_lo)
        else:
            counts[C_NOT_IP] += 1
            continue
        cls = (2 if src_home else 0) + (1 if dst_home else 0)
        direction[i] = cls
        counts[C_DIRECTION + cls] += 1
        if not (allowed >> cls) & 1:
            counts[C_GATED_OUT] += 1
            continue
        if party:
            if fam == 4:
                inside = (
                    group_v4(party_bucket4, party_seg4, party_grp4, a4) != NO_GROUP
                    or group_v4(party_bucket4, party_seg4, party_grp4, b4) != NO_GROUP
                )
            else:
                inside = (
                    group_v6(party_seg6_hi, party_seg6_lo, party_grp6, a_hi, a_lo) != NO_GROUP
                    or group_v6(party_seg6_hi, party_seg6_lo, party_grp6, b_hi, b_lo) != NO_GROUP
                )
            if not inside:
                counts[C_GATED_OUT] += 1
                continue
        if has_start or has_end:
            t = times[i]
            if t <= 0 or (has_start and t < start_ns) or (has_end and t >= end_ns):
                counts[C_OUTSIDE_PERIOD] += 1
                continue
        counts[C_ELIGIBLE] += 1
        state[i] = ELIGIBLE
        if fam == 4:
            sg = group_v4(bucket4, seg4, grp4, a4)
            dg = group_v4(bucket4, seg4, grp4, b4)
        else:
            sg = group_v6(seg6_hi, seg6_lo, grp6, a_hi, a_lo)
            dg = group_v6(seg6_hi, seg6_lo, grp6, b_hi, b_lo)
        src_group[i] = sg
        dst_group[i] = dg
        ph = False
        if match_ports and has_ports[port_flags[i]] != 0:
            ph = ((port_table[sport[i]] | port_table[dport[i]]) & proto_bits[proto[i]]) != 0
        port_hit[i] = ph
        hit = sg != NO_GROUP or dg != NO_GROUP or ph
        if hit:
            state[i] = HIT
            hit_rows[hits] = i
            hits += 1
        if mode == 0:
            continue
        length = payload_length[i]
        if (flags[i] & FL_PAYLOAD) == 0 or length == 0:
            continue
        kind = KIND_YARA if mode & MODE_YARA else 0
        if hit or mode & MODE_ALL:
            p = proto[i]
            if (
                mode & MODE_DNS
                and (hit or mode & MODE_DNS_ALL)
                and flags[i] & FL_PORTS
                and p in (UDP, TCP)
                and (sport[i] == DNS_PORT or dport[i] == DNS_PORT)
            ):
                kind |= KIND_DNS
            if p == TCP and mode & (MODE_TLS | MODE_HTTP):
                offset = payload_offset[i]
                first = buf[offset]
                if (
                    mode & MODE_TLS
                    and first == TLS_HANDSHAKE
                    and length >= 6
                    and buf[offset + 1] == TLS_MAJOR
                ):
                    kind |= KIND_TLS
                if mode & MODE_HTTP and method_first[first]:
                    kind |= KIND_HTTP
        if kind:
            candidate_rows[candidates] = i
            candidate_kind[candidates] = kind
            candidates += 1
    return hits, candidates


@compiled
def accumulate(
    flow_of, first_ns, last_ns, packets, byte_counts, tcp_flags, port_hit, ttl, with_ttl,
    f_first, f_last, f_packets, f_bytes, f_flags, f_port, f_ttl_min, f_ttl_max, f_ttl_seen,
):  # fmt: skip
    """Fold selected units into the numeric state of their flows (row ``flow_of[i]``)."""
    for i in range(flow_of.shape[0]):
        f = flow_of[i]
        if first_ns[i] < f_first[f]:
            f_first[f] = first_ns[i]
        if last_ns[i] > f_last[f]:
            f_last[f] = last_ns[i]
        f_packets[f] += packets[i]
        f_bytes[f] += byte_counts[i]
        f_flags[f] |= tcp_flags[i]
        if port_hit[i]:
            f_port[f] = True
        if with_ttl:
            value = ttl[i]
            if value < f_ttl_min[f]:
                f_ttl_min[f] = value
            if value > f_ttl_max[f]:
                f_ttl_max[f] = value
            f_ttl_seen[f] = True
