"""Completeness of the UI catalogues: every text a page shows, in Japanese and English.

Scans every domain's templates (``{% trans %}``, ``_()``) and Python modules
(``N_()``, ``_()``, ``gettext()``) for message ids and reports those that a language's
merged catalogue lacks or leaves untranslated (empty or fuzzy).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from babel.messages.extract import extract_python
from jinja2.ext import babel_extract

from mamori.web.i18n import LANGUAGES, catalogue_files, domain_dirs, read_catalogue
from mamori.web.templating import JINJA_EXTENSIONS

KEYWORDS = {"_": None, "N_": None, "gettext": None, "ngettext": (1, 2)}
TEMPLATE_SUFFIXES = (".html", ".xml", ".txt", ".j2")


@dataclass(frozen=True)
class Use:
    """A message id and where it is used."""

    msgid: str
    path: Path
    line: int


def _ids(message: str | tuple[str | None, ...] | list[str] | None) -> list[str]:
    if message is None:
        return []
    if isinstance(message, str):
        return [message]
    return [m for m in message if m]


def template_uses(folders: list[Path] | None = None) -> Iterator[Use]:
    """Message ids in the templates under ``folders`` (default: every domain's)."""
    options = {"extensions": ",".join(JINJA_EXTENSIONS), "trimmed": "false"}
    for folder in domain_dirs("templates") if folders is None else folders:
        for path in sorted(folder.rglob("*")):
            if path.suffix not in TEMPLATE_SUFFIXES:
                continue
            with path.open("rb") as handle:
                for line, _func, message, _comments in babel_extract(
                    handle, list(KEYWORDS), [], options
                ):
                    for msgid in _ids(message):
                        yield Use(msgid, path, line)


def python_uses(root: Path | None = None) -> Iterator[Use]:
    """Message ids marked in the Python modules under ``root`` (default: the package)."""
    root = root or Path(__file__).resolve().parents[1]
    for path in sorted(root.rglob("*.py")):
        with path.open("rb") as handle:
            for line, _func, message, _comments in extract_python(handle, KEYWORDS, [], {}):
                for msgid in _ids(message):
                    yield Use(msgid, path, line)


def uses() -> list[Use]:
    return [*template_uses(), *python_uses()]


def translated_ids(language: str, paths: list[Path] | None = None) -> set[str]:
    """Message ids with a non-empty, non-fuzzy translation in any domain's catalogue."""
    done: set[str] = set()
    for path in catalogue_files(language) if paths is None else paths:
        for message in read_catalogue(path, language):
            if not message.id or message.fuzzy:
                continue
            strings = message.string if isinstance(message.string, tuple) else (message.string,)
            if all(strings):
                done.update(_ids(message.id))
    return done


def missing(
    found: list[Use] | None = None, catalogues: dict[str, list[Path]] | None = None
) -> dict[str, list[Use]]:
    """Per language, the uses whose message id has no translation."""
    found = uses() if found is None else found
    result: dict[str, list[Use]] = {}
    for language in LANGUAGES:
        done = translated_ids(language, None if catalogues is None else catalogues[language])
        result[language] = [use for use in found if use.msgid not in done]
    return result
