"""Compiled record walkers and packet header decoding for pcap and pcapng.

A walker starts at ``pos`` in the chunk buffer, validates each record header,
decodes the packet into row ``n`` of the batch columns and moves on, until the
batch is full, the next record is not wholly in the buffer, a pcapng block needs
the Python side (section header, interface description), or the structure is
broken. It returns ``(reason, pos, n, need)``: ``pos`` is the first byte not yet
consumed and ``need`` the number of bytes the next record occupies when known.
Nothing is written for a record that fails validation.

Decoding writes the fields of packet ``i`` straight into the batch columns and
never copies packet bytes anywhere else. Offsets are positions in the chunk
buffer; ``end`` is the end of the captured bytes that belong to the current
layer. Every loop advances by at least four bytes, so a crafted packet cannot
make the walk spin. Tunnels are not followed: the outer IP header is the one
reported, and its payload (GRE, IP-in-IP, VXLAN ...) is the transport payload.

Everything the compiled code uses lives in this one module on purpose: numba's
on-disk cache (``cache=True``) is invalidated only when the cached function's own
source file changes, so constants or callees kept elsewhere could go stale.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic

# No reference counting: these functions never allocate, and counting the array
# arguments at every call between them costs more than the decoding itself.
compiled = njit(cache=True, _nrt=False)  # type: ignore[call-overload]

PREFETCH_AHEAD = 8192
"""Bytes of the chunk asked into cache ahead of the record being decoded."""
CACHE_LINE = 64


@intrinsic
def _prefetch(typingctx: Any, array: Any, index: Any) -> Any:
    """Ask the CPU to bring ``array[index]`` into cache: a hint, never a fault or a result.

    Each record's position depends on the previous record's length, so without
    a hint the walk waits on one memory miss per packet; fetching the chunk a few
    kilobytes ahead overlaps those misses.
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
def prefetch_until(buf: np.ndarray, done: int, target: int) -> int:
    """Prefetch the cache lines of ``buf[done:target]``; returns the new ``done``."""
    stop = min(target, buf.shape[0])
    while done < stop:
        prefetch(buf, done)
        done += CACHE_LINE
    return max(done, stop)


# -- batch column rows (see layout.Columns) -------------------------------------------

# int64 rows
I64_TS_NS = 0
I64_RECORD_OFFSET = 1
I64_ROWS = 2

# uint64 rows (IPv6 addresses as two big-endian halves)
U64_SRC6_HI = 0
U64_SRC6_LO = 1
U64_DST6_HI = 2
U64_DST6_LO = 3
U64_ROWS = 4

# uint32 rows
U32_SRC4 = 0
U32_DST4 = 1
U32_WIRE_LEN = 2
U32_CAP_LEN = 3
U32_IP_LEN = 4
U32_FRAG_ID = 5
U32_DATA_OFF = 6
U32_L3_OFF = 7
U32_L4_OFF = 8
U32_PAYLOAD_OFF = 9
U32_PAYLOAD_LEN = 10
U32_ROWS = 11

# uint16 rows
U16_LINKTYPE = 0
U16_IFACE = 1
U16_SPORT = 2
U16_DPORT = 3
U16_TCP_FLAGS = 4
U16_FRAG_OFF = 5
U16_VLAN_OUTER = 6
U16_VLAN_INNER = 7
U16_ROWS = 8

# uint8 rows
U8_STATUS = 0
U8_FLAGS = 1
U8_FAMILY = 2
U8_PROTO = 3
U8_TTL = 4
U8_ICMP_TYPE = 5
U8_ICMP_CODE = 6
U8_VLAN_COUNT = 7
U8_ROWS = 8


# Packet status codes (PacketStatus) and flag bits (PacketFlag), as plain ints.
ST_OK = 0
ST_NOT_IP = 1
ST_UNSUPPORTED_LINK = 2
ST_TRUNCATED = 3
ST_MALFORMED = 4
ST_COUNT = 5

FL_PORTS = 1
FL_ICMP = 2
FL_FRAGMENT = 4
FL_MORE_FRAGMENTS = 8
FL_DONT_FRAGMENT = 16
FL_PAYLOAD = 32

# -- link types (tcpdump.org LINKTYPE_* values) --------------------------------------

LINKTYPE_NULL = 0  # BSD loopback, address family in the capturing host's byte order
LINKTYPE_ETHERNET = 1  # 802.1Q/802.1ad/QinQ, LLC/SNAP, MPLS, PPPoE, NSH, clear MACsec
LINKTYPE_PPP = 9
LINKTYPE_RAW_BSD = 12  # DLT_RAW on most BSDs
LINKTYPE_RAW_OPENBSD = 14  # DLT_RAW on OpenBSD
LINKTYPE_PPP_HDLC = 50
LINKTYPE_RAW = 101
LINKTYPE_C_HDLC = 104  # Cisco HDLC
LINKTYPE_LOOP = 108  # OpenBSD loopback, address family in network byte order
LINKTYPE_LINUX_SLL = 113
LINKTYPE_IPV4 = 228
LINKTYPE_IPV6 = 229
LINKTYPE_LINUX_SLL2 = 276


# -- packet decoding -----------------------------------------------------------------

ETH_IPV4 = 0x0800
ETH_IPV6 = 0x86DD
ETH_VLAN = 0x8100
ETH_QINQ = 0x88A8
ETH_QINQ_OLD = 0x9100
ETH_MPLS = 0x8847
ETH_MPLS_MC = 0x8848
ETH_PPPOE_SESSION = 0x8864
ETH_MACSEC = 0x88E5
ETH_NSH = 0x894F
ETH_MAX_LENGTH = 1500  # values up to this are 802.3 length fields, not types

PROTO_HOPOPTS = 0
PROTO_ICMP = 1
PROTO_TCP = 6
PROTO_UDP = 17
PROTO_DCCP = 33
PROTO_ROUTING = 43
PROTO_FRAGMENT = 44
PROTO_AH = 51
PROTO_ICMPV6 = 58
PROTO_DSTOPTS = 60
PROTO_SCTP = 132
PROTO_UDPLITE = 136

ARPHRD_NETLINK = 824


@compiled
def be16(buf: np.ndarray, off: int) -> np.int64:
    return (np.int64(buf[off]) << 8) | np.int64(buf[off + 1])


@compiled
def be32(buf: np.ndarray, off: int) -> np.int64:
    return (
        (np.int64(buf[off]) << 24)
        | (np.int64(buf[off + 1]) << 16)
        | (np.int64(buf[off + 2]) << 8)
        | np.int64(buf[off + 3])
    )


@compiled
def le32(buf: np.ndarray, off: int) -> np.int64:
    return (
        (np.int64(buf[off + 3]) << 24)
        | (np.int64(buf[off + 2]) << 16)
        | (np.int64(buf[off + 1]) << 8)
        | np.int64(buf[off])
    )


@compiled
def be64u(buf: np.ndarray, off: int) -> np.uint64:
    value = np.uint64(0)
    for k in range(8):
        value = (value << np.uint64(8)) | np.uint64(buf[off + k])
    return value


@compiled
def _set_payload(u8, u32, i, start, end) -> None:
    if end < start:
        end = start
    u32[U32_PAYLOAD_OFF, i] = start
    u32[U32_PAYLOAD_LEN, i] = end - start
    u8[U8_FLAGS, i] |= FL_PAYLOAD


@compiled
def decode_transport(buf, off, end, proto, i, u8, u16, u32) -> None:
    """Ports, TCP flags or ICMP type/code, and the payload slice after the header."""
    u32[U32_L4_OFF, i] = off
    avail = end - off
    if proto == PROTO_TCP:
        if avail < 4:
            u8[U8_STATUS, i] = ST_TRUNCATED
            return
        u16[U16_SPORT, i] = be16(buf, off)
        u16[U16_DPORT, i] = be16(buf, off + 2)
        u8[U8_FLAGS, i] |= FL_PORTS
        if avail < 20:
            u8[U8_STATUS, i] = ST_TRUNCATED
            return
        u16[U16_TCP_FLAGS, i] = be16(buf, off + 12) & 0x0FFF
        hlen = (np.int64(buf[off + 12]) >> 4) * 4
        if hlen < 20:
            u8[U8_STATUS, i] = ST_MALFORMED
            return
        if hlen > avail:
            u8[U8_STATUS, i] = ST_TRUNCATED
            return
        _set_payload(u8, u32, i, off + hlen, end)
    elif proto in (PROTO_UDP, PROTO_UDPLITE):
        if avail < 4:
            u8[U8_STATUS, i] = ST_TRUNCATED
            return
        u16[U16_SPORT, i] = be16(buf, off)
        u16[U16_DPORT, i] = be16(buf, off + 2)
        u8[U8_FLAGS, i] |= FL_PORTS
        if avail < 8:
            u8[U8_STATUS, i] = ST_TRUNCATED
            return
        stop = end
        if proto == PROTO_UDP:
            ulen = be16(buf, off + 4)
            if ulen != 0:  # zero: jumbogram or offloaded length, bounded by IP instead
                if ulen < 8:
                    u8[U8_STATUS, i] = ST_MALFORMED
                    return
                stop = min(end, off + ulen)
        _set_payload(u8, u32, i, off + 8, stop)
    elif proto in (PROTO_SCTP, PROTO_DCCP):
        if avail < 4:
            u8[U8_STATUS, i] = ST_TRUNCATED
            return
        u16[U16_SPORT, i] = be16(buf, off)
        u16[U16_DPORT, i] = be16(buf, off + 2)
        u8[U8_FLAGS, i] |= FL_PORTS
        if proto == PROTO_SCTP:
            hlen = np.int64(12)
        else:
            if avail < 5:
                u8[U8_STATUS, i] = ST_TRUNCATED
                return
            hlen = np.int64(buf[off + 4]) * 4
            if hlen < 12:
                u8[U8_STATUS, i] = ST_MALFORMED
                return
        if hlen > avail:
            u8[U8_STATUS, i] = ST_TRUNCATED
            return
        _set_payload(u8, u32, i, off + hlen, end)
    elif proto in (PROTO_ICMP, PROTO_ICMPV6):
        if avail < 2:
            u8[U8_STATUS, i] = ST_TRUNCATED
            return
        u8[U8_ICMP_TYPE, i] = buf[off]
        u8[U8_ICMP_CODE, i] = buf[off + 1]
        u8[U8_FLAGS, i] |= FL_ICMP
        if avail < 8:
            u8[U8_STATUS, i] = ST_TRUNCATED
            return
        _set_payload(u8, u32, i, off + 8, end)
    else:
        _set_payload(u8, u32, i, off, end)


@compiled
def decode_ipv4(buf, off, end, i, u8, u16, u32) -> None:
    u32[U32_L3_OFF, i] = off
    if end - off < 1:
        u8[U8_STATUS, i] = ST_TRUNCATED
        return
    if (buf[off] >> 4) != 4:
        u8[U8_STATUS, i] = ST_MALFORMED
        return
    if end - off < 20:
        u8[U8_STATUS, i] = ST_TRUNCATED
        return
    hlen = (np.int64(buf[off]) & 0x0F) * 4
    total = be16(buf, off + 2)
    if hlen < 20 or (total != 0 and total < hlen):
        u8[U8_STATUS, i] = ST_MALFORMED
        return
    proto = np.int64(buf[off + 9])
    u8[U8_FAMILY, i] = 4
    u8[U8_PROTO, i] = proto
    u8[U8_TTL, i] = buf[off + 8]
    u32[U32_IP_LEN, i] = total
    u32[U32_SRC4, i] = be32(buf, off + 12)
    u32[U32_DST4, i] = be32(buf, off + 16)
    frag = be16(buf, off + 6)
    u32[U32_FRAG_ID, i] = be16(buf, off + 4)
    frag_off = (frag & 0x1FFF) * 8
    u16[U16_FRAG_OFF, i] = frag_off
    flags = 0
    if frag & 0x4000:
        flags |= FL_DONT_FRAGMENT
    if frag & 0x2000:
        flags |= FL_MORE_FRAGMENTS | FL_FRAGMENT
    if frag_off:
        flags |= FL_FRAGMENT
    u8[U8_FLAGS, i] |= flags
    if hlen > end - off:
        u8[U8_STATUS, i] = ST_TRUNCATED
        return
    stop = end if total == 0 else min(end, off + total)  # zero: segmentation offload
    if frag_off:
        u32[U32_L4_OFF, i] = off + hlen
        _set_payload(u8, u32, i, off + hlen, stop)
        return
    nxt = off + hlen
    if proto == PROTO_AH:
        if stop - nxt < 8:
            u8[U8_STATUS, i] = ST_TRUNCATED
            return
        proto = np.int64(buf[nxt])
        nxt += (np.int64(buf[nxt + 1]) + 2) * 4
        u8[U8_PROTO, i] = proto
        if nxt > stop:
            u8[U8_STATUS, i] = ST_TRUNCATED
            return
    decode_transport(buf, nxt, stop, proto, i, u8, u16, u32)


@compiled
def decode_ipv6(buf, off, end, i, u8, u16, u32, u64) -> None:
    u32[U32_L3_OFF, i] = off
    if end - off < 1:
        u8[U8_STATUS, i] = ST_TRUNCATED
        return
    if (buf[off] >> 4) != 6:
        u8[U8_STATUS, i] = ST_MALFORMED
        return
    if end - off < 40:
        u8[U8_STATUS, i] = ST_TRUNCATED
        return
    plen = be16(buf, off + 4)
    nh = np.int64(buf[off + 6])
    u8[U8_FAMILY, i] = 6
    u8[U8_TTL, i] = buf[off + 7]
    u32[U32_IP_LEN, i] = plen + 40
    u64[U64_SRC6_HI, i] = be64u(buf, off + 8)
    u64[U64_SRC6_LO, i] = be64u(buf, off + 16)
    u64[U64_DST6_HI, i] = be64u(buf, off + 24)
    u64[U64_DST6_LO, i] = be64u(buf, off + 32)
    stop = end if plen == 0 else min(end, off + 40 + plen)  # zero: jumbogram or offload
    nxt = off + 40
    while True:
        u8[U8_PROTO, i] = nh
        if nh in (PROTO_HOPOPTS, PROTO_ROUTING, PROTO_DSTOPTS):
            if stop - nxt < 8:
                u8[U8_STATUS, i] = ST_TRUNCATED
                return
            nh = np.int64(buf[nxt])
            nxt += (np.int64(buf[nxt + 1]) + 1) * 8
        elif nh == PROTO_AH:
            if stop - nxt < 8:
                u8[U8_STATUS, i] = ST_TRUNCATED
                return
            nh = np.int64(buf[nxt])
            nxt += (np.int64(buf[nxt + 1]) + 2) * 4
        elif nh == PROTO_FRAGMENT:
            if stop - nxt < 8:
                u8[U8_STATUS, i] = ST_TRUNCATED
                return
            nh = np.int64(buf[nxt])
            frag = be16(buf, nxt + 2)
            frag_off = frag & 0xFFF8
            u16[U16_FRAG_OFF, i] = frag_off
            u32[U32_FRAG_ID, i] = be32(buf, nxt + 4)
            flags = FL_FRAGMENT
            if frag & 1:
                flags |= FL_MORE_FRAGMENTS
            u8[U8_FLAGS, i] |= flags
            nxt += 8
            if frag_off:
                u8[U8_PROTO, i] = nh
                u32[U32_L4_OFF, i] = nxt
                _set_payload(u8, u32, i, nxt, stop)
                return
        else:
            break
        if nxt > stop:
            u8[U8_STATUS, i] = ST_TRUNCATED
            return
    decode_transport(buf, nxt, stop, nh, i, u8, u16, u32)


@compiled
def decode_ip(buf, off, end, i, u8, u16, u32, u64) -> None:
    """What the link layer announced as IPv4: IPv6 too if the version says so.

    Wireshark does the same (and not the reverse), so both tools see one packet.
    """
    if end - off < 1:
        u8[U8_STATUS, i] = ST_TRUNCATED
        return
    version = buf[off] >> 4
    if version == 4:
        decode_ipv4(buf, off, end, i, u8, u16, u32)
    elif version == 6:
        decode_ipv6(buf, off, end, i, u8, u16, u32, u64)
    else:
        u8[U8_STATUS, i] = ST_MALFORMED


@compiled
def decode_ethertype(buf, off, end, ethertype, i, u8, u16, u32, u64) -> None:
    """Follow VLAN tags, LLC/SNAP, MPLS labels and PPPoE down to IPv4 or IPv6."""
    et = ethertype
    tags = 0
    while True:
        if et == ETH_IPV4:
            decode_ip(buf, off, end, i, u8, u16, u32, u64)
            return
        if et == ETH_IPV6:
            decode_ipv6(buf, off, end, i, u8, u16, u32, u64)
            return
        if et in (ETH_VLAN, ETH_QINQ, ETH_QINQ_OLD):
            if end - off < 4:
                u8[U8_STATUS, i] = ST_TRUNCATED
                return
            vid = be16(buf, off) & 0x0FFF
            if tags == 0:
                u16[U16_VLAN_OUTER, i] = vid
            elif tags == 1:
                u16[U16_VLAN_INNER, i] = vid
            tags += 1
            u8[U8_VLAN_COUNT, i] = min(tags, 255)
            et = be16(buf, off + 2)
            off += 4
        elif et <= ETH_MAX_LENGTH:
            # 802.3 length field: only LLC/SNAP with an EtherType goes further.
            if end - off < 8:
                u8[U8_STATUS, i] = ST_NOT_IP
                return
            if buf[off] != 0xAA or buf[off + 1] != 0xAA or buf[off + 2] != 0x03:
                u8[U8_STATUS, i] = ST_NOT_IP
                return
            et = be16(buf, off + 6)
            off += 8
            if et <= ETH_MAX_LENGTH:
                u8[U8_STATUS, i] = ST_NOT_IP
                return
        elif et in (ETH_MPLS, ETH_MPLS_MC):
            while True:
                if end - off < 4:
                    u8[U8_STATUS, i] = ST_TRUNCATED
                    return
                bottom = buf[off + 2] & 1
                off += 4
                if bottom:
                    break
            if end - off < 1:
                u8[U8_STATUS, i] = ST_TRUNCATED
                return
            version = buf[off] >> 4
            if version == 4:
                et = ETH_IPV4
            elif version == 6:
                et = ETH_IPV6
            else:
                u8[U8_STATUS, i] = ST_NOT_IP
                return
        elif et == ETH_MACSEC:
            # SecTAG after the EtherType: TCI/AN, short length, packet number, and
            # the 8-byte SCI when the SC bit is set. Only integrity-protected,
            # unencrypted frames (E and C bits clear) carry a readable EtherType.
            if end - off < 6:
                u8[U8_STATUS, i] = ST_TRUNCATED
                return
            tci = buf[off]
            if tci & 0x0C:
                u8[U8_STATUS, i] = ST_NOT_IP
                return
            off += 14 if tci & 0x20 else 6
            if end - off < 2:
                u8[U8_STATUS, i] = ST_TRUNCATED
                return
            et = be16(buf, off)
            off += 2
        elif et == ETH_NSH:
            # Network Service Header: length in 4-byte words, next protocol 1 or 2.
            if end - off < 8:
                u8[U8_STATUS, i] = ST_TRUNCATED
                return
            hlen = (np.int64(buf[off + 1]) & 0x3F) * 4
            nxt = buf[off + 3]
            if hlen < 8:
                u8[U8_STATUS, i] = ST_MALFORMED
                return
            off += hlen
            if nxt == 1:
                et = ETH_IPV4
            elif nxt == 2:
                et = ETH_IPV6
            elif nxt == 5:
                et = ETH_MPLS
            else:
                u8[U8_STATUS, i] = ST_NOT_IP
                return
        elif et == ETH_PPPOE_SESSION:
            if end - off < 8:
                u8[U8_STATUS, i] = ST_TRUNCATED
                return
            ppp = be16(buf, off + 6)
            off += 8
            if ppp == 0x0021:
                et = ETH_IPV4
            elif ppp == 0x0057:
                et = ETH_IPV6
            elif ppp == 0x0281:
                et = ETH_MPLS
            else:
                u8[U8_STATUS, i] = ST_NOT_IP
                return
        else:
            u8[U8_STATUS, i] = ST_NOT_IP
            return


@compiled
def _by_version(buf, off, end, i, u8, u16, u32, u64) -> None:
    if end - off < 1:
        u8[U8_STATUS, i] = ST_TRUNCATED
        return
    version = buf[off] >> 4
    if version == 4:
        decode_ipv4(buf, off, end, i, u8, u16, u32)
    elif version == 6:
        decode_ipv6(buf, off, end, i, u8, u16, u32, u64)
    else:
        u8[U8_STATUS, i] = ST_NOT_IP


@compiled
def _by_address_family(buf, off, end, family, i, u8, u16, u32, u64) -> None:
    if family == 2:
        decode_ip(buf, off, end, i, u8, u16, u32, u64)
    elif family in (10, 24, 28, 30):
        decode_ipv6(buf, off, end, i, u8, u16, u32, u64)
    else:
        u8[U8_STATUS, i] = ST_NOT_IP


@compiled
def _ppp(buf, off, end, i, u8, u16, u32, u64) -> None:
    if end - off >= 2 and buf[off] == 0xFF and buf[off + 1] == 0x03:
        off += 2
    if end - off < 1:
        u8[U8_STATUS, i] = ST_TRUNCATED
        return
    if buf[off] & 1:  # protocol field compressed to one byte
        proto = np.int64(buf[off])
        off += 1
    else:
        if end - off < 2:
            u8[U8_STATUS, i] = ST_TRUNCATED
            return
        proto = be16(buf, off)
        off += 2
    if proto == 0x21:
        et = ETH_IPV4
    elif proto == 0x57:
        et = ETH_IPV6
    elif proto == 0x281:
        et = ETH_MPLS
    elif proto == 0x283:
        et = ETH_MPLS_MC
    else:
        u8[U8_STATUS, i] = ST_NOT_IP
        return
    decode_ethertype(buf, off, end, et, i, u8, u16, u32, u64)


@compiled
def decode_packet(buf, start, caplen, linktype, i, u8, u16, u32, u64) -> None:
    """Decode one captured frame of the given link type into row ``i``."""
    end = start + caplen
    if linktype == LINKTYPE_ETHERNET:
        if caplen < 14:
            u8[U8_STATUS, i] = ST_TRUNCATED
            return
        decode_ethertype(buf, start + 14, end, be16(buf, start + 12), i, u8, u16, u32, u64)
    elif linktype in (LINKTYPE_RAW, LINKTYPE_RAW_BSD, LINKTYPE_RAW_OPENBSD):
        _by_version(buf, start, end, i, u8, u16, u32, u64)
    elif linktype == LINKTYPE_IPV4:
        decode_ip(buf, start, end, i, u8, u16, u32, u64)
    elif linktype == LINKTYPE_IPV6:
        decode_ipv6(buf, start, end, i, u8, u16, u32, u64)
    elif linktype == LINKTYPE_LINUX_SLL:
        if caplen < 16:
            u8[U8_STATUS, i] = ST_TRUNCATED
            return
        if be16(buf, start + 2) == ARPHRD_NETLINK:
            u8[U8_STATUS, i] = ST_NOT_IP
            return
        decode_ethertype(buf, start + 16, end, be16(buf, start + 14), i, u8, u16, u32, u64)
    elif linktype == LINKTYPE_LINUX_SLL2:
        if caplen < 20:
            u8[U8_STATUS, i] = ST_TRUNCATED
            return
        if be16(buf, start + 8) == ARPHRD_NETLINK:
            u8[U8_STATUS, i] = ST_NOT_IP
            return
        decode_ethertype(buf, start + 20, end, be16(buf, start), i, u8, u16, u32, u64)
    elif linktype in (LINKTYPE_NULL, LINKTYPE_LOOP):
        if caplen < 4:
            u8[U8_STATUS, i] = ST_TRUNCATED
            return
        if linktype == LINKTYPE_LOOP:
            family = be32(buf, start)
        else:
            family = le32(buf, start)
            if family & 0xFFFF0000:  # written by a big-endian host
                family = be32(buf, start)
        _by_address_family(buf, start + 4, end, family, i, u8, u16, u32, u64)
    elif linktype in (LINKTYPE_PPP, LINKTYPE_PPP_HDLC):
        _ppp(buf, start, end, i, u8, u16, u32, u64)
    elif linktype == LINKTYPE_C_HDLC:
        if caplen < 4:
            u8[U8_STATUS, i] = ST_TRUNCATED
            return
        decode_ethertype(buf, start + 4, end, be16(buf, start + 2), i, u8, u16, u32, u64)
    else:
        u8[U8_STATUS, i] = ST_UNSUPPORTED_LINK


# -- record walkers ------------------------------------------------------------------

R_FULL = 0
R_NEED_MORE = 1
R_BLOCK = 2  # a pcapng block for the Python side: section header or interface description
R_ERR_RECORD_TOO_LONG = 10
R_ERR_BLOCK_LENGTH = 11
R_ERR_BLOCK_TOO_LONG = 12
R_ERR_TRAILER = 13
R_ERR_INTERFACE = 14
R_ERR_BODY = 15

ERROR_REASONS = {
    R_ERR_RECORD_TOO_LONG: "record captured length exceeds the limit",
    R_ERR_BLOCK_LENGTH: "block length is below 12 or not a multiple of 4",
    R_ERR_BLOCK_TOO_LONG: "block length exceeds the limit",
    R_ERR_TRAILER: "block trailing length does not match its leading length",
    R_ERR_INTERFACE: "packet refers to an interface that was not described",
    R_ERR_BODY: "block body is shorter than its fields say",
}

PCAP_RECORD_HEADER = 16
PCAPNG_SHB = 0x0A0D0D0A
PCAPNG_IDB = 1
PCAPNG_PB = 2  # obsolete Packet Block
PCAPNG_SPB = 3
PCAPNG_EPB = 6
NS_PER_S = 1_000_000_000


@compiled
def rd16(buf: np.ndarray, off: int, big: bool) -> np.int64:
    if big:
        return (np.int64(buf[off]) << 8) | np.int64(buf[off + 1])
    return (np.int64(buf[off + 1]) << 8) | np.int64(buf[off])


@compiled
def rd32(buf: np.ndarray, off: int, big: bool) -> np.int64:
    if big:
        return (
            (np.int64(buf[off]) << 24)
            | (np.int64(buf[off + 1]) << 16)
            | (np.int64(buf[off + 2]) << 8)
            | np.int64(buf[off + 3])
        )
    return (
        (np.int64(buf[off + 3]) << 24)
        | (np.int64(buf[off + 2]) << 16)
        | (np.int64(buf[off + 1]) << 8)
        | np.int64(buf[off])
    )


@compiled
def walk_pcap(
    buf,
    pos,
    filled,
    base,
    big,
    nano,
    linktype,
    max_caplen,
    n,
    limit,
    decode,
    i64,
    u8,
    u16,
    u32,
    u64,
):
    """Walk classic pcap records; ``base`` is the file offset of ``buf[0]``."""
    frac_mul = 1 if nano else 1000
    fetched = pos
    while n < limit:
        fetched = prefetch_until(buf, fetched, min(pos + PREFETCH_AHEAD, filled))
        if filled - pos < PCAP_RECORD_HEADER:
            return R_NEED_MORE, pos, n, PCAP_RECORD_HEADER
        caplen = rd32(buf, pos + 8, big)
        if caplen > max_caplen:
            return R_ERR_RECORD_TOO_LONG, pos, n, 0
        need = PCAP_RECORD_HEADER + caplen
        if filled - pos < need:
            return R_NEED_MORE, pos, n, need
        data = pos + PCAP_RECORD_HEADER
        i64[I64_TS_NS, n] = rd32(buf, pos, big) * NS_PER_S + rd32(buf, pos + 4, big) * frac_mul
        i64[I64_RECORD_OFFSET, n] = base + pos
        u16[U16_LINKTYPE, n] = linktype
        u32[U32_WIRE_LEN, n] = rd32(buf, pos + 12, big)
        u32[U32_CAP_LEN, n] = caplen
        u32[U32_DATA_OFF, n] = data
        if decode:
            decode_packet(buf, data, caplen, linktype, n, u8, u16, u32, u64)
        pos += need
        n += 1
    return R_FULL, pos, n, 0


@compiled
def units_to_ns(units: np.uint64, per_second: np.uint64, ns_per_unit: int) -> np.int64:
    """Interface time units since the epoch to nanoseconds (wrapping like C)."""
    if ns_per_unit > 0:
        return np.int64(units * np.uint64(ns_per_unit))
    secs = units // per_second
    rem = units % per_second
    if per_second <= np.uint64(1) << np.uint64(34):
        nsec = np.int64(rem * np.uint64(NS_PER_S) // per_second)
    else:
        nsec = np.int64(np.float64(rem) / np.float64(per_second) * 1e9)
    return np.int64(secs) * NS_PER_S + nsec


@compiled
def walk_pcapng(
    buf,
    pos,
    filled,
    base,
    big,
    max_block,
    n,
    limit,
    decode,
    if_link,
    if_snap,
    if_per_second,
    if_ns_per_unit,
    if_offset_ns,
    n_if,
    i64,
    u8,
    u16,
    u32,
    u64,
):
    """Walk pcapng blocks of one section; interfaces come from the ``if_*`` arrays."""
    fetched = pos
    while n < limit:
        fetched = prefetch_until(buf, fetched, min(pos + PREFETCH_AHEAD, filled))
        if filled - pos < 12:
            return R_NEED_MORE, pos, n, 12
        btype = rd32(buf, pos, big)
        if btype == PCAPNG_SHB:
            return R_BLOCK, pos, n, 0
        blen = rd32(buf, pos + 4, big)
        if blen < 12 or blen % 4:
            return R_ERR_BLOCK_LENGTH, pos, n, 0
        if blen > max_block:
            return R_ERR_BLOCK_TOO_LONG, pos, n, 0
        if filled - pos < blen:
            return R_NEED_MORE, pos, n, blen
        if rd32(buf, pos + blen - 4, big) != blen:
            return R_ERR_TRAILER, pos, n, 0
        if btype == PCAPNG_IDB:
            return R_BLOCK, pos, n, 0
        if btype in (PCAPNG_EPB, PCAPNG_PB):
            if blen < 32:
                return R_ERR_BODY, pos, n, 0
            iface = rd32(buf, pos + 8, big) if btype == PCAPNG_EPB else rd16(buf, pos + 8, big)
            if iface >= n_if:
                return R_ERR_INTERFACE, pos, n, 0
            caplen = rd32(buf, pos + 20, big)
            if caplen > blen - 32:
                return R_ERR_BODY, pos, n, 0
            units = (np.uint64(rd32(buf, pos + 12, big)) << np.uint64(32)) | np.uint64(
                rd32(buf, pos + 16, big)
            )
            ts = units_to_ns(units, if_per_second[iface], if_ns_per_unit[iface])
            i64[I64_TS_NS, n] = ts + if_offset_ns[iface]
            wire = rd32(buf, pos + 24, big)
            data = pos + 28
        elif btype == PCAPNG_SPB:
            if blen < 16:
                return R_ERR_BODY, pos, n, 0
            if n_if == 0:
                return R_ERR_INTERFACE, pos, n, 0
            iface = 0
            wire = rd32(buf, pos + 8, big)
            caplen = min(wire, blen - 16)
            snap = if_snap[0]
            if snap > 0:
                caplen = min(caplen, snap)
            i64[I64_TS_NS, n] = 0  # simple packet blocks carry no timestamp
            data = pos + 12
        else:
            pos += blen  # statistics, name resolution, custom and unknown blocks
            continue
        linktype = if_link[iface]
        i64[I64_RECORD_OFFSET, n] = base + pos
        u16[U16_LINKTYPE, n] = linktype
        u16[U16_IFACE, n] = iface
        u32[U32_WIRE_LEN, n] = wire
        u32[U32_CAP_LEN, n] = caplen
        u32[U32_DATA_OFF, n] = data
        if decode:
            decode_packet(buf, data, caplen, linktype, n, u8, u16, u32, u64)
        pos += blen
        n += 1
    return R_FULL, pos, n, 0
