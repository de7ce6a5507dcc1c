"""The one error the application-layer parsers raise. It never carries payload bytes."""

from __future__ import annotations

from mamori.errors import InvalidInput


class ParseError(InvalidInput):
    """The payload is not a well-formed message of the expected protocol.

    ``protocol`` names the parser, ``offset`` the byte position in the payload and
    ``reason`` what was wrong there; none of them contain payload content.
    """

    def __init__(self, protocol: str, offset: int, reason: str) -> None:
        super().__init__(
            f"{protocol} parse error at payload offset {offset}: {reason}",
            protocol=protocol,
            offset=offset,
            reason=reason,
        )
        self.protocol = protocol
        self.offset = offset
        self.reason = reason


class Incomplete(ParseError):
    """The message continues beyond the bytes given (another segment or record)."""
