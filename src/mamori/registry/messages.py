"""Input errors that a person can read in Japanese or English.

The message is a catalogue entry (``locale/*.po``) with ``%(name)s`` placeholders, so
the portal shows it in the reader's language while the API and the CLI get the English
text. The location (file row, field) is kept apart from the message, and no value the
user submitted is ever repeated in it: only field names, row numbers and counts.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mamori.errors import InvalidInput


def N_(message: str) -> str:
    """Mark ``message`` for the catalogue; it is translated where it is shown."""
    return message


ROW = N_("row %(row)s")
ITEM = N_("component %(item)s")


class RegistryInputError(InvalidInput):
    """Invalid input to the register; ``detail`` is English, :meth:`localise` any language."""

    def __init__(
        self,
        message: str,
        *,
        field: str | None = None,
        row: int | None = None,
        item: int | None = None,
        **params: Any,
    ) -> None:
        self.message_id = message
        self.params = params
        self.field = field
        self.row = row
        self.item = item
        extra: dict[str, Any] = {}
        if field is not None:
            extra["field"] = field
        if row is not None:
            extra["row"] = row
        if item is not None:
            extra["item"] = item
        super().__init__(self._render(lambda m: m), **extra)

    def located(self, *, row: int | None = None, item: int | None = None) -> RegistryInputError:
        """The same error, placed at a file row or an SBOM component."""
        return RegistryInputError(
            self.message_id, field=self.field, row=row if row is not None else self.row,
            item=item if item is not None else self.item, **self.params,
        )

    def _render(self, gettext: Callable[[str], str]) -> str:
        where: list[str] = []
        if self.row is not None:
            where.append(gettext(ROW) % {"row": self.row})
        if self.item is not None:
            where.append(gettext(ITEM) % {"item": self.item})
        if self.field:
            where.append(self.field)
        text = gettext(self.message_id)
        if self.params:
            text = text % self.params
        return f"{', '.join(where)}: {text}" if where else text

    def localise(self, gettext: Callable[[str], str]) -> str:
        """The message in the language of ``gettext``."""
        return self._render(gettext)
