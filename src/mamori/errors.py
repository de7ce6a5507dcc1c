"""Errors a user can cause. Each maps to an HTTP status and a CLI exit code 2.

Messages are written for the person who caused them and never carry
communications content: callers pass field names and ids, not payloads.
"""

from __future__ import annotations

from typing import Any


class MamoriError(Exception):
    """Base of all user-facing errors."""

    status_code = 400
    title = "Bad request"

    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra

    def problem(self, instance: str | None = None) -> dict[str, Any]:
        """RFC 9457 problem details."""
        body: dict[str, Any] = {
            "type": f"https://mamori.example/problems/{type(self).__name__}",
            "title": self.title,
            "status": self.status_code,
            "detail": self.detail,
        }
        if instance:
            body["instance"] = instance
        body.update(self.extra)
        return body


class InvalidInput(MamoriError):
    status_code = 422
    title = "Invalid input"


class NotFound(MamoriError):
    status_code = 404
    title = "Not found"


class Conflict(MamoriError):
    status_code = 409
    title = "Conflict"


class Unauthenticated(MamoriError):
    status_code = 401
    title = "Authentication required"


class Forbidden(MamoriError):
    status_code = 403
    title = "Forbidden"
