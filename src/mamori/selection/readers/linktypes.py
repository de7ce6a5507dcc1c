"""Names of the link-layer header types (tcpdump.org LINKTYPE_* values) decoded.

Any other value is read without error; its packets get
:attr:`PacketStatus.UNSUPPORTED_LINK` and are counted.
"""

from __future__ import annotations

from .walk import (
    LINKTYPE_C_HDLC,
    LINKTYPE_ETHERNET,
    LINKTYPE_IPV4,
    LINKTYPE_IPV6,
    LINKTYPE_LINUX_SLL,
    LINKTYPE_LINUX_SLL2,
    LINKTYPE_LOOP,
    LINKTYPE_NULL,
    LINKTYPE_PPP,
    LINKTYPE_PPP_HDLC,
    LINKTYPE_RAW,
    LINKTYPE_RAW_BSD,
    LINKTYPE_RAW_OPENBSD,
)

SUPPORTED_LINKTYPES: dict[int, str] = {
    LINKTYPE_NULL: "NULL",
    LINKTYPE_ETHERNET: "ETHERNET",
    LINKTYPE_PPP: "PPP",
    LINKTYPE_RAW_BSD: "RAW",
    LINKTYPE_RAW_OPENBSD: "RAW",
    LINKTYPE_PPP_HDLC: "PPP_HDLC",
    LINKTYPE_RAW: "RAW",
    LINKTYPE_C_HDLC: "C_HDLC",
    LINKTYPE_LOOP: "LOOP",
    LINKTYPE_LINUX_SLL: "LINUX_SLL",
    LINKTYPE_IPV4: "IPV4",
    LINKTYPE_IPV6: "IPV6",
    LINKTYPE_LINUX_SLL2: "LINUX_SLL2",
}

# The pcap header's link-type word carries FCS information in its upper bits.
LINKTYPE_MASK = 0xFFFF


def linktype_name(linktype: int) -> str:
    """A short name for a link type, or its number for ones the readers do not decode."""
    return SUPPORTED_LINKTYPES.get(linktype, f"LINKTYPE_{linktype}")
