"""Plain selector lists: one selector per line, ``#`` starts a comment.

A line is ``VALUE`` or ``KIND VALUE`` (optionally ``KIND VALUE ID``):

* ``198.51.100.7``, ``203.0.113.0/24``, ``2001:db8::/32`` — addresses and CIDRs;
* ``evil.example`` (that name), ``*.evil.example`` (it and every name below it);
* ``port 4444``, ``port tcp/4444``, ``port udp/53``;
* ``ja3 <32 hex digits>``, ``ja4 t13d1516h2_8daaf6152771_b186095e22b6``;
* ``ip``, ``domain`` and ``domain_suffix`` may also be written as the kind.

A line that cannot be read is an error naming its line number and the reason;
the value itself is not repeated.
"""

from __future__ import annotations

import ipaddress

from mamori.errors import InvalidInput

from .content import DOMAIN, IP, JA3_RE, JA4_RE, KINDS, Parsed, domain_selector, make_selector

MAX_LINE = 4096


def _bare(value: str) -> str:
    """The kind a bare value has."""
    try:
        ipaddress.ip_network(value, strict=False)
        return IP
    except ValueError:
        pass
    lowered = value.lower()
    if JA3_RE.match(lowered):
        return "ja3"
    if JA4_RE.match(lowered):
        return "ja4"
    return DOMAIN


def parse_plain(text: str, *, source: str) -> Parsed:
    """Selectors of a plain list; raises InvalidInput at the first unreadable line."""
    parsed = Parsed(source=source, format="list")
    for number, raw in enumerate(text.splitlines(), start=1):
        if len(raw) > MAX_LINE:
            raise InvalidInput(f"{source}: line {number}: longer than {MAX_LINE} characters")
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        parts = line.split()
        try:
            if len(parts) == 1:
                kind = _bare(parts[0])
                selector = (
                    domain_selector(parts[0]) if kind == DOMAIN
                    else make_selector(kind, parts[0])
                )
            elif len(parts) in (2, 3) and parts[0].lower() in KINDS:
                ident = parts[2] if len(parts) == 3 else None
                selector = make_selector(parts[0].lower(), parts[1], ident)
            else:
                raise ValueError(
                    f"expected VALUE or KIND VALUE [ID] with KIND one of {', '.join(KINDS)}"
                )
        except ValueError as exc:
            raise InvalidInput(f"{source}: line {number}: {exc}", line=number) from None
        parsed.selectors.append(selector)
    return parsed
