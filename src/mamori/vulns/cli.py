"""``mamori vulns``: feeds, matching, exposure, the domestic exploited-vulnerability
catalogue, supplier coordination and CSAF advisories. Commands act as ``--as USER``,
except the export of the public catalogue, which is public information."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy.orm import Session

from mamori.access.principal import Principal
from mamori.cli.context import current_principal
from mamori.db import session_scope
from mamori.errors import InvalidInput
from mamori.vulns import service
from mamori.vulns.models import CaseOut

app = typer.Typer(help="Vulnerabilities: CVE, JVN, KEV and CSAF feeds matched against the "
                       "register; the catalogue of vulnerabilities exploited in Japan.",
                  no_args_is_help=True)
catalogue_app = typer.Typer(help="The catalogue of vulnerabilities exploited in Japan.",
                            no_args_is_help=True)
supplier_app = typer.Typer(help="Suppliers (電子計算機等供給者) and their ministries.",
                           no_args_is_help=True)
case_app = typer.Typer(help="Coordinating undisclosed vulnerabilities with suppliers (Art 42).",
                       no_args_is_help=True)
advisories_app = typer.Typer(help="CSAF 2.0 advisories.", no_args_is_help=True)
app.add_typer(catalogue_app, name="catalogue")
app.add_typer(supplier_app, name="supplier")
app.add_typer(case_app, name="case")
app.add_typer(advisories_app, name="advisories")
out = Console()


@contextmanager
def acting() -> Iterator[tuple[Session, Principal]]:
    with session_scope() as session:
        yield session, current_principal(session)


def print_json(value: Any) -> None:
    typer.echo(json.dumps(value, ensure_ascii=False, indent=2, default=str))


def _date(value: str | None, field: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(f"{field} is a date YYYY-MM-DD", field=field) from None


# --- feeds and matching ---------------------------------------------------------------


@app.command("import")
def import_(
    path: Path = typer.Argument(..., help="A KEV, CVE JSON 5, JVN or CSAF file, a folder of "
                                          "them, or a cvelistV5 bulk zip."),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """Import vulnerability information (kinds are detected by content) and match it
    against the register."""
    with acting() as (session, principal):
        result = service.import_path(session=session, principal=principal, path=path)
    if as_json:
        print_json(result.model_dump(mode="json"))
    else:
        for item in result.files:
            state = "unchanged" if item.unchanged else f"{item.records} record(s)"
            out.print(f"{item.path}: {item.kind}, {state}"
                      + (f" — {item.error}" if item.error else ""), markup=False)
        out.print(f"{result.new_matches} new match(es), {result.notices} notice(s)")
    if result.failed:
        raise typer.Exit(2)


@app.command("match")
def match(operator: int | None = typer.Option(None, "--operator", help="Operator id.")) -> None:
    """Match the register (or one operator's computers) against every statement again."""
    with acting() as (session, principal):
        result = service.refresh_matches(session=session, principal=principal,
                                         operator_id=operator)
    out.print(f"{result.components} component(s) matched: {len(result.new)} new, "
              f"{result.ended} ended, {result.changed} changed, {result.lapsed} "
              "suppression(s) lapsed")


@app.command("exposure")
def exposure(
    operator: int | None = typer.Option(None, "--operator", help="Operator id."),
    sector: str | None = typer.Option(None, "--sector", help="A sector, across operators."),
    category: str | None = typer.Option(None, "--category", help="A device category."),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """What affects an operator's computers (or a sector's, or a device category's),
    exploited-in-Japan first, then KEV, then severity."""
    with acting() as (session, principal):
        if operator is not None:
            result: Any = service.operator_exposure(session=session, principal=principal,
                                                    operator_id=operator)
        elif sector or category:
            result = service.overview(session=session, principal=principal, sector=sector,
                                      device_category=category)
        else:
            raise InvalidInput("name --operator, --sector or --category", field="operator")
    if as_json:
        print_json(result.model_dump(mode="json"))
        return
    table = Table("vulnerability", "status", "JP", "KEV", "CVSS", "where")
    for item in result.items:
        vuln = item.vulnerability
        where = (", ".join(c.name for c in item.computers) if operator is not None
                 else f"{item.operators} operator(s), {item.computers} computer(s)")
        status = "suppressed" if getattr(item, "suppressed", False) else vuln.status
        table.add_row(vuln.key, status, "●" if vuln.exploited_in_japan else "",
                      "●" if vuln.kev else "", str(vuln.cvss_score or ""), where)
    out.print(table)


@app.command("show")
def show(key: str = typer.Argument(..., help="CVE id, JVNDB id or case reference.")) -> None:
    """A vulnerability with the origins of its facts."""
    with acting() as (session, principal):
        print_json(service.get_vulnerability(session=session, principal=principal, key=key)
                   .model_dump(mode="json"))


@app.command("sources")
def sources() -> None:
    """The imported files: kind, digest, when fetched, who imported them."""
    with acting() as (session, principal):
        rows = service.list_sources(session=session, principal=principal)
    table = Table("id", "kind", "file", "records", "sha-256", "fetched", "by")
    for row in rows:
        table.add_row(str(row.id), row.kind, row.name, str(row.records), row.digest[:16],
                      str(row.fetched_at or ""), row.imported_by)
    out.print(table)


@app.command("suppress")
def suppress(
    vulnerability: str = typer.Option(..., "--vulnerability", help="CVE id or other key."),
    component: int = typer.Option(..., "--component", help="Component id."),
    reason: str = typer.Option(..., "--reason",
                               help=f"One of: {', '.join(service.SUPPRESSION_REASONS)}."),
    note: str | None = typer.Option(None, "--note"),
) -> None:
    """Record that a matched component is not affected, and why."""
    with acting() as (session, principal):
        service.suppress(session=session, principal=principal, vulnerability_key=vulnerability,
                         component_id=component, reason=reason, note=note)
    out.print("suppressed")


@app.command("notifications")
def notifications(unread: bool = typer.Option(False, "--unread")) -> None:
    """The notices of your organisation."""
    with acting() as (session, principal):
        rows = service.list_notifications(session=session, principal=principal,
                                          unread_only=unread)
    print_json([r.model_dump(mode="json") for r in rows])


# --- the catalogue --------------------------------------------------------------------


@catalogue_app.command("confirm")
def catalogue_confirm(
    cve: str = typer.Argument(...),
    incident: int | None = typer.Option(None, "--incident", help="Incident report id."),
    analysis: str | None = typer.Option(None, "--analysis", help="Analysis reference."),
    name_ja: str = typer.Option(..., "--name-ja"),
    description_ja: str = typer.Option(..., "--description-ja"),
    action_ja: str = typer.Option(..., "--action-ja"),
    note: str | None = typer.Option(None, "--note", help="Internal note on the evidence."),
    vendor: str | None = typer.Option(None, "--vendor", help="Default: from KEV or the CPE."),
    product: str | None = typer.Option(None, "--product", help="Default: from KEV or the CPE."),
    name_en: str | None = typer.Option(None, "--name-en", help="Default: from KEV or CVE."),
    action_en: str | None = typer.Option(None, "--action-en", help="Default: from KEV."),
) -> None:
    """Enter a vulnerability confirmed exploited in Japan (English fields from KEV/CVE)."""
    with acting() as (session, principal):
        entry = service.confirm_exploitation(
            session=session, principal=principal, cve_id=cve, incident_id=incident,
            analysis_ref=analysis, evidence_note=note, name_ja=name_ja,
            description_ja=description_ja, action_ja=action_ja, vendor_project=vendor,
            product=product, name_en=name_en, action_en=action_en)
    out.print(f"{entry.cve_id} entered the catalogue; due {entry.due_date}")


@catalogue_app.command("withdraw")
def catalogue_withdraw(cve: str = typer.Argument(...),
                       reason: str = typer.Option(..., "--reason")) -> None:
    with acting() as (session, principal):
        service.withdraw_catalogue_entry(session=session, principal=principal, cve_id=cve,
                                         reason=reason)
    out.print(f"{cve} withdrawn")


@catalogue_app.command("export")
def catalogue_export(
    file: Path = typer.Argument(..., help="Where to write."),
    fmt: str = typer.Option("json", "--format", help="json (KEV schema + Japanese) or csv."),
) -> None:
    """Write the public catalogue (no account needed: it is public information)."""
    with session_scope() as session:
        count = service.export_catalogue(session=session, fmt=fmt, path=file)
    out.print(f"{count} entr{'y' if count == 1 else 'ies'} written to {file}", markup=False)


# --- suppliers and cases --------------------------------------------------------------


@supplier_app.command("add")
def supplier_add(
    name: str = typer.Option(..., "--name"),
    ministry: str = typer.Option(..., "--ministry", help="Business ministry code."),
    name_en: str | None = typer.Option(None, "--name-en"),
    organisation: str | None = typer.Option(None, "--organisation",
                                            help="Sign-in organisation code."),
    cpe_vendor: list[str] = typer.Option([], "--cpe-vendor", help="CPE vendor (repeatable)."),
) -> None:
    with acting() as (session, principal):
        supplier = service.add_supplier(session=session, principal=principal, name=name,
                                        business_ministry=ministry, name_en=name_en,
                                        organisation=organisation, cpe_vendors=cpe_vendor)
    print_json(supplier.model_dump(mode="json"))


@supplier_app.command("list")
def supplier_list() -> None:
    with acting() as (session, principal):
        print_json([s.model_dump(mode="json")
                    for s in service.list_suppliers(session=session, principal=principal)])


@case_app.command("open")
def case_open(
    supplier: int = typer.Option(..., "--supplier", help="Supplier id."),
    title: str = typer.Option(..., "--title"),
    summary: str = typer.Option(..., "--summary"),
    product_cpe: str = typer.Option(..., "--product-cpe"),
    affected: str | None = typer.Option(None, "--affected", help="vers: range."),
    urgency: str = typer.Option("high", "--urgency"),
    cve: str | None = typer.Option(None, "--cve", help="A reserved CVE id, if any."),
    embargo: str | None = typer.Option(None, "--embargo-until", help="YYYY-MM-DD."),
) -> None:
    with acting() as (session, principal):
        case = service.open_case(session=session, principal=principal, supplier_id=supplier,
                                 title=title, summary=summary, product_cpe=product_cpe,
                                 affected=affected, urgency=urgency, cve_id=cve,
                                 embargo_until=_date(embargo, "embargo_until"))
    print_json(case.model_dump(mode="json"))


def _step(name: str, case_id: int, **extra: Any) -> None:
    actions: dict[str, Callable[..., CaseOut]] = {
        "send": service.send_case, "ack": service.acknowledge_case, "fix": service.report_fix,
        "publish": service.publish_case, "close": service.close_case, "show": service.get_case}
    with acting() as (session, principal):
        case = actions[name](session=session, principal=principal, case_id=case_id, **extra)
    print_json(case.model_dump(mode="json"))


@case_app.command("send")
def case_send(case: int = typer.Argument(...)) -> None:
    """Give the undisclosed vulnerability to its supplier."""
    _step("send", case)


@case_app.command("ack")
def case_ack(case: int = typer.Argument(...), note: str | None = typer.Option(None)) -> None:
    _step("ack", case, note=note)


@case_app.command("fix")
def case_fix(case: int = typer.Argument(...), version: str = typer.Option(..., "--version"),
             note: str | None = typer.Option(None)) -> None:
    _step("fix", case, fix_version=version, note=note)


@case_app.command("publish")
def case_publish(case: int = typer.Argument(...)) -> None:
    _step("publish", case)


@case_app.command("close")
def case_close(case: int = typer.Argument(...)) -> None:
    _step("close", case)


@case_app.command("show")
def case_show(case: int = typer.Argument(...)) -> None:
    _step("show", case)


@case_app.command("list")
def case_list() -> None:
    with acting() as (session, principal):
        print_json([c.model_dump(mode="json")
                    for c in service.list_cases(session=session, principal=principal)])


@case_app.command("request")
def case_request(case: int = typer.Argument(...), measures: str = typer.Option(..., "--measures"),
                 due: str | None = typer.Option(None, "--due", help="YYYY-MM-DD.")) -> None:
    """Request the supplier to take measures (Art 42(1))."""
    with acting() as (session, principal):
        request = service.request_measures(session=session, principal=principal, case_id=case,
                                           measures=measures, due_date=_date(due, "due"))
    print_json(request.model_dump(mode="json"))


@case_app.command("answer")
def case_answer(request: int = typer.Argument(...),
                response: str = typer.Option(..., "--response")) -> None:
    with acting() as (session, principal):
        answered = service.respond_measures(session=session, principal=principal,
                                            request_id=request, response=response)
    print_json(answered.model_dump(mode="json"))


# --- advisories -----------------------------------------------------------------------


@advisories_app.command("generate")
def advisories_generate(case: int | None = typer.Option(None, "--case"),
                        cve: str | None = typer.Option(None, "--cve")) -> None:
    """A CSAF 2.0 advisory from a published case or a catalogue entry."""
    if (case is None) == (cve is None):
        raise InvalidInput("name exactly one of --case and --cve", field="case")
    with acting() as (session, principal):
        if case is not None:
            advisory = service.advisory_from_case(session=session, principal=principal,
                                                  case_id=case)
        else:
            advisory = service.advisory_from_catalogue(session=session, principal=principal,
                                                       cve_id=cve or "")
    out.print(f"{advisory.tracking_id} version {advisory.version}", markup=False)


@advisories_app.command("list")
def advisories_list() -> None:
    with acting() as (session, principal):
        rows = service.list_advisories(session=session, principal=principal)
    for row in rows:
        out.print(f"{row.tracking_id}  v{row.version}  {row.source_kind}", markup=False)


@advisories_app.command("export")
def advisories_export(directory: Path = typer.Argument(..., help="Folder to write into.")) -> None:
    """One CSAF 2.0 JSON file per advisory (its newest version)."""
    with acting() as (session, principal):
        written = service.export_advisories(session=session, principal=principal,
                                            directory=directory)
    out.print(f"{len(written)} advisor{'y' if len(written) == 1 else 'ies'} written to "
              f"{directory}", markup=False)
