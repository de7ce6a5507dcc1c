"""Translations: complete in Japanese and English; Accept-Language parsing."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from mamori.web import catalogue_check
from mamori.web.i18n import (
    LANGUAGES,
    compile_translations,
    merge_catalogues,
    negotiate_language,
    normalise_language,
    parse_accept_language,
)


def _report(found: list[catalogue_check.Use]) -> dict[str, list[str]]:
    return {
        language: sorted({f"{use.path}:{use.line}: {use.msgid!r}" for use in uses})
        for language, uses in catalogue_check.missing(found).items()
    }


def test_every_template_text_is_translated_in_both_languages() -> None:
    """Every msgid in any domain's templates has a Japanese and an English text."""
    found = list(catalogue_check.template_uses())
    assert len({use.msgid for use in found}) > 50  # the scan really reads the templates
    assert _report(found) == {language: [] for language in LANGUAGES}


def test_every_text_marked_in_code_is_translated_in_both_languages() -> None:
    """Every ``N_()``/``_()`` text in any domain's Python code, likewise."""
    found = list(catalogue_check.python_uses())
    assert any(use.path.name == "roles.py" for use in found)
    assert _report(found) == {language: [] for language in LANGUAGES}


def test_the_check_finds_an_untranslated_text(tmp_path: Path) -> None:
    (tmp_path / "page.html").write_text(
        '{% trans %}Log in{% endtrans %} {{ _("A text nobody translated") }}', encoding="utf-8"
    )
    found = list(catalogue_check.template_uses([tmp_path]))
    assert {use.msgid for use in found} == {"Log in", "A text nobody translated"}
    missing = catalogue_check.missing(found)
    assert [use.msgid for use in missing["ja"]] == ["A text nobody translated"]
    assert [use.msgid for use in missing["en"]] == ["A text nobody translated"]


def test_empty_or_fuzzy_translations_count_as_missing(tmp_path: Path) -> None:
    po = tmp_path / "ja.po"
    po.write_text(
        'msgid "Log in"\nmsgstr ""\n\n#, fuzzy\nmsgid "Log out"\nmsgstr "ログアウト"\n\n'
        'msgid "Home"\nmsgstr "ホーム"\n',
        encoding="utf-8",
    )
    assert catalogue_check.translated_ids("ja", [po]) == {"Home"}


def test_catalogues_merge_with_the_first_domain_winning(tmp_path: Path) -> None:
    first, second = tmp_path / "a.po", tmp_path / "b.po"
    first.write_text('msgid "Home"\nmsgstr "ホーム"\n', encoding="utf-8")
    second.write_text(
        'msgid "Home"\nmsgstr "家"\n\nmsgid "Reports"\nmsgstr "報告"\n', encoding="utf-8"
    )
    translations = compile_translations(merge_catalogues("ja", [first, second]))
    assert translations.gettext("Home") == "ホーム"
    assert translations.gettext("Reports") == "報告"
    assert translations.gettext("Untranslated") == "Untranslated"


def test_accept_language_examples() -> None:
    assert negotiate_language("ja-JP,ja;q=0.9,en;q=0.8") == "ja"
    assert negotiate_language("fr-FR, en-US;q=0.7, ja;q=0.5") == "en"
    assert negotiate_language("en;q=0.2, ja;q=0.9") == "ja"
    assert negotiate_language("fr, de") is None
    assert negotiate_language("ja;q=0, en;q=0.1") == "en"
    assert negotiate_language("*") is None
    assert negotiate_language("") is None
    assert negotiate_language(None) is None
    assert parse_accept_language("en;q=abc, ja") == [("ja", 1.0)]
    assert normalise_language("EN_us") == "en" and normalise_language("jpn") is None


@given(st.text(max_size=200))
def test_accept_language_never_fails_on_any_header(header: str) -> None:
    ranges = parse_accept_language(header)
    assert all(0.0 <= q <= 1.0 for _, q in ranges)
    assert [q for _, q in ranges] == sorted((q for _, q in ranges), reverse=True)
    assert negotiate_language(header) in {None, *LANGUAGES}


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["ja", "en", "en-US", "fr", "de-DE", "ja-JP", "*"]),
            st.integers(min_value=0, max_value=1000),
        ),
        min_size=1,
        max_size=6,
    )
)
def test_negotiation_picks_the_best_supported_language(choices: list[tuple[str, int]]) -> None:
    header = ", ".join(f"{tag};q={q / 1000:.3f}" for tag, q in choices)
    result = negotiate_language(header)
    acceptable = [(q, -i, tag) for i, (tag, q) in enumerate(choices) if q > 0]
    if not acceptable:
        assert result is None
        return
    best_q = max(q for q, _, _ in acceptable)
    first_best = next(tag for tag, q in choices if q == best_q)
    expected = None if first_best == "*" else normalise_language(first_best)
    if expected is None and first_best != "*":
        later = sorted(acceptable, reverse=True)
        expected = next(
            (normalise_language(t) for _, _, t in later if t == "*" or normalise_language(t)),
            None,
        )
    assert result == expected
