"""``mamori product``: compose products, build and export their tiers, and keep the
criteria for releasable selected information.

Every command acts as ``--as USER`` (token in ``MAMORI_TOKEN``); a product holding
communications-derived content needs a designated handler with a declared purpose.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from sqlalchemy.orm import Session

from mamori.access.principal import Principal
from mamori.cli.context import current_principal
from mamori.db import session_scope
from mamori.errors import InvalidInput
from mamori.products import service
from mamori.products.audience import Audience, parse_audience
from mamori.products.models import Product
from mamori.products.output import TierOutput
from mamori.products.vocabulary import Format

app = typer.Typer(
    help="Products (総合整理分析情報): compose, version, build tiers 1-3, export.",
    no_args_is_help=True,
)
criteria_app = typer.Typer(help="Criteria for releasable selected information (Art 29).",
                           no_args_is_help=True)
app.add_typer(criteria_app, name="criteria")
out = Console()
FORMATS = ("stix", "csaf", "html", "pdf", "navigator")
# The recipient a tier is usually for, when --audience is not given.
DEFAULT_AUDIENCE = {1: "administrative_body", 2: "council_member", 3: "computer_user_public"}


@contextmanager
def _acting() -> Iterator[tuple[Session, Principal]]:
    with session_scope() as session:
        yield session, current_principal(session)


def _json(value: Any) -> None:
    typer.echo(json.dumps(value, ensure_ascii=False, indent=2, default=str))


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InvalidInput(f"cannot read {path.name}: {exc.strerror}", field="file") from None
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise InvalidInput(f"{path.name}: not UTF-8 JSON", field="file") from None


def _summary(product: Product) -> None:
    state = "current" if product.is_current else \
        f"superseded (current version {product.current_version})"
    out.print(f"{product.id} version {product.version}, {state}: {product.title_en}",
              highlight=False)
    out.print(f"  use {product.use}; readers {', '.join(product.readers)}; "
              f"{len(product.object_ids)} objects; labels {', '.join(product.labels) or '-'}",
              highlight=False)


def _audience(text: str | None, tier: int) -> Audience:
    return parse_audience(text or DEFAULT_AUDIENCE.get(tier, "administrative_body"))


def _tier(value: int) -> int:
    if value not in (1, 2, 3):
        raise InvalidInput("--tier: 1, 2 or 3", field="tier")
    return value


@app.command("compose")
def compose(
    spec: Path = typer.Argument(..., help="The product as JSON: title_ja, title_en, "
                                "narrative_ja, narrative_en, use, readers, object_ids, "
                                "actions_ja, actions_en."),
    supersedes: str | None = typer.Option(None, "--supersedes",
                                          help="Make the next version of this product."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Compose a product (or its next version) from store objects and a narrative."""
    data = _read_json(spec)
    if not isinstance(data, dict):
        raise InvalidInput(f"{spec.name}: expected a JSON object", field="file")
    known = {"title_ja", "title_en", "narrative_ja", "narrative_en", "use", "readers",
             "object_ids", "actions_ja", "actions_en"}
    unknown = sorted(set(data) - known)
    if unknown:
        raise InvalidInput(f"{spec.name}: unknown field {unknown[0]!r}", field="file")
    with _acting() as (session, principal):
        product = service.compose_product(
            session=session, principal=principal, title_ja=data.get("title_ja", ""),
            title_en=data.get("title_en", ""), narrative_ja=data.get("narrative_ja", ""),
            narrative_en=data.get("narrative_en", ""), use=data.get("use", ""),
            readers=data.get("readers", []), object_ids=data.get("object_ids", []),
            actions_ja=data.get("actions_ja", ""), actions_en=data.get("actions_en", ""),
            supersedes=supersedes)
    if as_json:
        _json(product.model_dump(mode="json"))
    else:
        _summary(product)


@app.command("show")
def show(
    product_id: str = typer.Argument(..., help="PRD-YYYY-NNNN"),
    version: int | None = typer.Option(None, "--version", help="A version (default: current)."),
) -> None:
    """One product version (JSON); an old version says which one is current."""
    with _acting() as (session, principal):
        product = service.get_product(session=session, principal=principal,
                                      product_id=product_id, version=version)
    _json(product.model_dump(mode="json"))


@app.command("list")
def list_products(
    include_superseded: bool = typer.Option(False, "--all", help="Superseded versions too."),
    use: str | None = typer.Option(None, "--use", help="tactical, operational or strategic."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """The products you may read, newest first."""
    with _acting() as (session, principal):
        products = service.list_products(session=session, principal=principal,
                                         include_superseded=include_superseded, use=use)
    if as_json:
        _json([p.model_dump(mode="json") for p in products])
        return
    for product in products:
        _summary(product)
    if not products:
        out.print("no products")


def _report_lines(output: TierOutput) -> None:
    verdict = "passed" if output.lint.passed else "FAILED"
    out.print(f"{output.product_id} v{output.version} tier {output.tier} for "
              f"{output.audience.category}: {len(output.objects)} objects, "
              f"digest {output.digest}, lint {verdict}", highlight=False)
    for reason, count in output.report.counts().items():
        out.print(f"  sanitised: {reason} x{count}", highlight=False)
    for finding in output.lint.findings:
        out.print(f"  lint: {finding.code} at {finding.subject or '-'} {finding.detail}",
                  highlight=False)


@app.command("build")
def build(
    product_id: str = typer.Argument(...),
    tier: int = typer.Option(..., "--tier", help="1, 2 or 3."),
    audience: str | None = typer.Option(None, "--audience",
                                        help="CATEGORY or CATEGORY:ORGANISATION_ID."),
    as_json: bool = typer.Option(False, "--json", help="The summary and sanitisation report."),
) -> None:
    """Build a tier output and show what the sanitiser did and the lint's verdict."""
    with _acting() as (session, principal):
        output = service.build_tier(session=session, principal=principal,
                                    product_id=product_id, tier=_tier(tier),
                                    audience=_audience(audience, tier))
    if as_json:
        _json(output.summary())
    else:
        _report_lines(output)


@app.command("export")
def export(
    product_id: str = typer.Argument(...),
    directory: Path = typer.Argument(..., help="Folder to write into (created if needed)."),
    tier: int = typer.Option(..., "--tier", help="1, 2 or 3."),
    formats: list[str] = typer.Option(["stix"], "--format",
                                      help="stix, csaf, html, pdf or navigator (repeatable)."),
    audience: str | None = typer.Option(
        None, "--audience", help="CATEGORY or CATEGORY:ORGANISATION_ID (default: "
        "administrative_body for tier 1, council_member for 2, computer_user_public for 3)."),
) -> None:
    """Build a tier output and write it in each format; refused unless it passes the lint."""
    chosen = [f.strip().lower() for f in formats]
    bad = [f for f in chosen if f not in FORMATS]
    if bad:
        raise InvalidInput(f"--format: one of {', '.join(FORMATS)}", field="format")
    if directory.exists() and not directory.is_dir():
        raise InvalidInput(f"{directory.name} is a file, not a folder", field="directory")
    with _acting() as (session, principal):
        output = service.build_tier(session=session, principal=principal,
                                    product_id=product_id, tier=_tier(tier),
                                    audience=_audience(audience, tier))
    rendered: list[tuple[str, bytes]] = []
    for fmt in chosen:
        name: Format = fmt  # type: ignore[assignment]
        rendered.append((service.file_name(output, name), service.render(output=output,
                                                                         format=name)))
    try:
        directory.mkdir(parents=True, exist_ok=True)
        for file_name, data in rendered:
            (directory / file_name).write_bytes(data)
    except OSError as exc:
        raise InvalidInput(f"cannot write into {directory.name}: {exc.strerror}",
                           field="directory") from None
    for file_name, _ in rendered:
        out.print(f"written: {directory / file_name}", highlight=False)


@app.command("builds")
def builds(product_id: str = typer.Argument(...)) -> None:
    """The record of every tier output built of a product (JSON)."""
    with _acting() as (session, principal):
        records = service.list_builds(session=session, principal=principal,
                                      product_id=product_id)
    _json([r.model_dump(mode="json") for r in records])


@app.command("determine")
def determine(
    stix_id: str = typer.Argument(..., help="The store object (selected information)."),
    answers: list[str] = typer.Option(..., "--answer", help="KEY=yes|no, one per criterion."),
    decision_ref: str = typer.Option(..., "--decision-ref", help="The decision's reference."),
) -> None:
    """Determine whether selected information meets the criteria in force (releasable)."""
    parsed: dict[str, bool] = {}
    for item in answers:
        key, sep, value = item.partition("=")
        if not sep or value.strip().lower() not in ("yes", "no"):
            raise InvalidInput("--answer: KEY=yes or KEY=no", field="answers")
        parsed[key.strip()] = value.strip().lower() == "yes"
    with _acting() as (session, principal):
        result = service.determine(session=session, principal=principal, stix_id=stix_id,
                                   answers=parsed, decision_ref=decision_ref)
    _json(result.model_dump(mode="json"))


@criteria_app.command("show")
def criteria_show() -> None:
    """The criteria version in force (JSON)."""
    with _acting() as (session, principal):
        _json(service.current_criteria(session=session, principal=principal)
              .model_dump(mode="json"))


@criteria_app.command("history")
def criteria_history() -> None:
    """Every criteria version (JSON)."""
    with _acting() as (session, principal):
        _json([c.model_dump(mode="json")
               for c in service.criteria_history(session=session, principal=principal)])


@criteria_app.command("set")
def criteria_set(
    items: Path = typer.Argument(..., help="JSON list of {key, ja, en}."),
    decision_ref: str = typer.Option(..., "--decision-ref",
                                     help="The instrument (e.g. the Cabinet Office Order)."),
    reason: str | None = typer.Option(None, "--reason"),
    reassess: bool = typer.Option(False, "--reassess",
                                  help="Earlier determinations must be made again."),
) -> None:
    """Record a new criteria version (administrators)."""
    data = _read_json(items)
    if not isinstance(data, list):
        raise InvalidInput(f"{items.name}: expected a JSON list", field="file")
    with _acting() as (session, principal):
        result = service.set_criteria(session=session, principal=principal, items=data,
                                      decision_ref=decision_ref, reason=reason,
                                      reassess=reassess)
    out.print(f"criteria version {result.version} recorded", highlight=False)
