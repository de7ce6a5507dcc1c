"""Renderers of tier outputs: a STIX 2.1 bundle, CSAF 2.0 for vulnerability products, a
printable HTML report and its PDF, and an ATT&CK Navigator layer.

:func:`render` refuses an output that did not pass the labels lint, lints it again, and
checks the rendered text itself for anything withheld before returning it: a renderer
can only show what the sanitiser let through.
"""

from __future__ import annotations

import html as html_module
from collections.abc import Callable

from mamori.errors import Conflict, InvalidInput
from mamori.products.labels import check_text, lint
from mamori.products.output import TierOutput
from mamori.products.renderers import csaf, html, navigator, pdf, stix
from mamori.products.vocabulary import Format

FORMATS: dict[str, tuple[str, str]] = {
    "stix": ("application/stix+json;version=2.1", "json"),
    "csaf": ("application/csaf+json", "json"),
    "html": ("text/html; charset=utf-8", "html"),
    "pdf": ("application/pdf", "pdf"),
    "navigator": ("application/json", "json"),
}


def _checked(output: TierOutput, name: str, text: str) -> str:
    findings = check_text(output, name, html_module.unescape(text) if name == "html" else text)
    if findings:
        raise Conflict(f"the {name} rendering holds withheld content ({findings[0].code}); "
                       "it is not released", field="format")
    return text


def render(*, output: TierOutput, format: Format) -> bytes:
    """The output in ``format``; refused unless it passes the labels lint."""
    if format not in FORMATS:
        raise InvalidInput(f"format: one of {', '.join(FORMATS)}", field="format")
    verdict = lint(output=output, tier=output.tier, audience=output.audience)
    if not output.lint.passed or not verdict.passed:
        first = (verdict.findings or output.lint.findings or ())[:1]
        reason = f" ({first[0].code} at {first[0].subject or 'the output'})" if first else ""
        raise Conflict("this output did not pass the labels lint and may not be sent"
                       + reason, field="output")
    if format == "stix":
        return stix.render(output).encode("utf-8")
    if format == "pdf":
        page = _checked(output, "html", html.render(output, printable=True))
        return pdf.render(output, page)
    text_renderers: dict[str, Callable[[TierOutput], str]] = {
        "csaf": csaf.render, "html": html.render, "navigator": navigator.render}
    return _checked(output, format, text_renderers[format](output)).encode("utf-8")


def file_name(output: TierOutput, format: Format) -> str:
    """``PRD-2026-0001-v2-tier3-council_member.json`` and the like; a CSAF document is
    named from its tracking id as CSAF §5.1 requires."""
    if format == "csaf":
        return csaf.file_name(output)
    extension = FORMATS[format][1]
    kind = "-layer" if format == "navigator" else ""
    return (f"{output.product_id}-v{output.version}-tier{output.tier}-"
            f"{output.audience.category}{kind}.{extension}")


def media_type(format: Format) -> str:
    return FORMATS[format][0]
