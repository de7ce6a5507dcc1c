"""Japanese and English UI text: every domain's Babel catalogues, merged at startup.

Each domain keeps ``locale/ja.po`` and ``locale/en.po`` beside its code; there is
no compile step: the ``.po`` files are read with Babel and compiled to ``.mo`` in
memory, so that a domain adds UI text by editing its own catalogue only.
"""

from __future__ import annotations

import gettext as gettext_module
import io
import logging
import pkgutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

import mamori

LANGUAGES: tuple[str, ...] = ("ja", "en")
LANGUAGE_NAMES: dict[str, str] = {"ja": "日本語", "en": "English"}

log = logging.getLogger(__name__)

Translations = gettext_module.GNUTranslations


def N_(message: str) -> str:
    """Mark ``message`` for translation where it is defined; translate it where shown."""
    return message


def domain_dirs(subdir: str) -> list[Path]:
    """``mamori/<domain>/<subdir>`` folders that exist: web's first, then by domain name."""
    root = Path(mamori.__file__).parent
    names = sorted(info.name for info in pkgutil.iter_modules([str(root)]) if info.ispkg)
    ordered = ["web", *(name for name in names if name != "web")]
    return [root / name / subdir for name in ordered if (root / name / subdir).is_dir()]


def catalogue_files(language: str) -> list[Path]:
    """Every domain's ``locale/<language>.po``, web's first."""
    return [d / f"{language}.po" for d in domain_dirs("locale") if (d / f"{language}.po").is_file()]


def read_catalogue(path: Path, language: str) -> Catalog:
    with path.open("rb") as handle:
        return read_po(handle, locale=language)


MessageId = str | tuple[str, ...] | list[str]
MessageText = str | tuple[str, ...] | list[str] | None


def _messages(catalog: Catalog) -> Iterator[tuple[MessageId, MessageText, str | None]]:
    for message in catalog:
        if message.id and not message.fuzzy:
            yield message.id, message.string, message.context


def merge_catalogues(language: str, paths: list[Path] | None = None) -> Catalog:
    """One catalogue for ``language``; on a clash the first domain (web) wins."""
    merged = Catalog(locale=language, domain="mamori")
    for path in catalogue_files(language) if paths is None else paths:
        for msgid, msgstr, context in _messages(read_catalogue(path, language)):
            existing = merged.get(msgid, context=context)
            if existing is not None:
                if existing.string != msgstr:
                    log.warning("msgid %r differs in %s; the first is kept", msgid, path)
                continue
            merged.add(msgid, msgstr, context=context)
    return merged


def compile_translations(catalog: Catalog) -> Translations:
    """The ``gettext`` object for a catalogue, compiled in memory."""
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return gettext_module.GNUTranslations(buffer)


def load_translations() -> dict[str, Translations]:
    """Every supported language's merged, compiled catalogue."""
    return {language: compile_translations(merge_catalogues(language)) for language in LANGUAGES}


@dataclass(frozen=True)
class Translator:
    """The translation functions for one language, for Python code and templates."""

    language: str
    translations: Translations

    def gettext(self, message: str) -> str:
        return self.translations.gettext(message)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return self.translations.ngettext(singular, plural, n)

    def pick(self, *, ja: str, en: str) -> str:
        """Choose between two texts that are stored with both languages (nav labels)."""
        return ja if self.language == "ja" else en


GettextFunc = Callable[[str], str]


def normalise_language(value: str | None) -> str | None:
    """``ja``, ``ja-JP``, ``EN_us`` → a supported code; anything else → None."""
    if not value:
        return None
    primary = value.strip().replace("_", "-").split("-", 1)[0].lower()
    return primary if primary in LANGUAGES else None


def parse_accept_language(header: str | None) -> list[tuple[str, float]]:
    """RFC 9110 ``Accept-Language`` → ``[(range, q)]`` best first; malformed parts are skipped."""
    if not header:
        return []
    ranges: list[tuple[int, str, float]] = []
    for position, part in enumerate(header.split(",")):
        fields = [field.strip() for field in part.split(";")]
        tag = fields[0]
        if not tag or not all(ch.isalnum() or ch in "-_*" for ch in tag) or not tag.isascii():
            continue
        quality = 1.0
        for param in fields[1:]:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value.strip())
                except ValueError:
                    quality = -1.0
        if not 0.0 <= quality <= 1.0:
            continue
        ranges.append((position, tag, quality))
    ranges.sort(key=lambda item: (-item[2], item[0]))
    return [(tag, quality) for _, tag, quality in ranges]


def negotiate_language(header: str | None) -> str | None:
    """The best supported language the client accepts, or None when none is."""
    for tag, quality in parse_accept_language(header):
        if quality <= 0.0:
            continue
        if tag == "*":
            return None
        code = normalise_language(tag)
        if code:
            return code
    return None
