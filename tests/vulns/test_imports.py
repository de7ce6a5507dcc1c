"""Importing feeds: every kind detected by content, provenance of every fact, files
all-or-nothing, newer KEV catalogues accepted and older ones refused, the cvelistV5
bulk zip layout, and matching against the register right after an import."""

from __future__ import annotations

import io
import json
import shutil
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mamori.errors import Conflict, Forbidden, InvalidInput
from mamori.vulns import service
from mamori.vulns.ingest.kev import VENDORED
from mamori.vulns.models import (
    Applicability,
    Vulnerability,
    VulnFact,
    VulnMatch,
    VulnSource,
)

from .conftest import CVE_DIR, DATA, World, audit_count, kev_subset

KEV_CVES = ("CVE-2021-44228", "CVE-2025-29824", "CVE-2023-1389", "CVE-2014-0160")


def counts(session: Session) -> tuple[int, ...]:
    return tuple(int(session.scalar(select(func.count()).select_from(model)) or 0)
                 for model in (Vulnerability, VulnSource, VulnFact, Applicability, VulnMatch))


def active(session: Session, world: World) -> dict[tuple[str, str], tuple[str, str | None]]:
    names = {v: k for k, v in world.components.items()}
    rows = session.execute(select(VulnMatch, Vulnerability.key).join(
        Vulnerability, Vulnerability.id == VulnMatch.vulnerability_id).where(
        VulnMatch.active.is_(True))).all()
    return {(names[m.component_id], key): (m.status, m.review_reason) for m, key in rows}


def test_import_kev_and_cve_records_then_match(
    session: Session, world: World, tmp_path: Path, shared_data: Path
) -> None:
    analyst = world["analyst"]
    kev = service.import_path(session=session, principal=analyst,
                              path=kev_subset(tmp_path, shared_data, KEV_CVES))
    assert [f.kind for f in kev.files] == ["kev"] and kev.files[0].records == 4
    records = service.import_path(session=session, principal=analyst, path=CVE_DIR)
    assert {f.kind for f in records.files} == {"cve5"} and not records.failed
    session.commit()

    assert active(session, world) == {
        ("ems-01/OpenSSH", "CVE-2024-6387"): ("affected", None),
        ("ems-01/log4j-core", "CVE-2021-44228"): ("affected", None),
        ("ems-01/Windows Server 2019", "CVE-2025-29824"): ("possible",
                                                          "unknown_component_version"),
        ("ems-01/openssl", "CVE-2014-0160"): ("possible", "name_only"),
        ("router-01/Archer AX21 firmware", "CVE-2023-1389"): ("affected", None),
    }
    vuln = service.get_vulnerability(session=session, principal=world["sakura"],
                                     key="CVE-2024-6387")
    assert vuln.sources == ["cve5:adp:CISA-ADP", "cve5:cna"]
    assert (vuln.cvss_score, vuln.severity, vuln.kev) == (8.1, "high", False)
    log4shell = service.get_vulnerability(session=session, principal=analyst,
                                          key="CVE-2021-44228")
    assert log4shell.kev and log4shell.cvss_score == 10.0 and "kev" in log4shell.sources
    sources = service.list_sources(session=session, principal=analyst)
    assert {s.kind for s in sources} == {"kev", "cve5"}
    assert all(len(s.digest) == 64 and s.fetched_at is not None for s in sources)
    assert audit_count(session, "vulns.imported") == 2


def test_jvn_and_csaf_add_their_facts(session: Session, world: World) -> None:
    analyst = world["analyst"]
    service.import_path(session=session, principal=analyst, path=CVE_DIR / "CVE-2024-6387.json")
    result = service.import_path(session=session, principal=analyst, path=DATA / "jvn")
    assert sorted(f.kind for f in result.files) == ["jvn", "jvn"]
    vuln = service.get_vulnerability(session=session, principal=analyst,
                                     key="JVNDB-2024-999901")
    assert vuln.key == "CVE-2024-6387"
    assert vuln.title_ja == "OpenSSH におけるシグナルハンドラの競合状態に関する脆弱性"
    assert "jvn:JVNDB-2024-999901" in vuln.sources and vuln.aliases == ["JVNDB-2024-999901"]

    csaf = service.import_path(session=session, principal=analyst, path=DATA / "csaf")
    assert csaf.files[0].kind == "csaf"
    session.commit()
    found = active(session, world)
    assert found[("rtu-01/RTU-500 firmware", "EXC-2026-001")] == ("affected", None)
    assert found[("rtu-01/RTU-500 firmware", "JVNDB-2024-999902")] == ("affected", None)


def test_a_malformed_file_changes_nothing(session: Session, world: World,
                                         tmp_path: Path) -> None:
    analyst = world["analyst"]
    service.import_path(session=session, principal=analyst, path=CVE_DIR / "CVE-2021-44228.json")
    session.commit()
    before = counts(session)
    broken = json.loads((CVE_DIR / "CVE-2024-6387.json").read_text("utf-8"))
    broken["containers"]["adp"][0]["cpeApplicability"][0]["nodes"][0]["cpeMatch"][1][
        "criteria"] = "cpe:2.3:a:openbsd"
    path = tmp_path / "CVE-2024-6387.json"
    path.write_text(json.dumps(broken), encoding="utf-8")
    with pytest.raises(InvalidInput) as caught:
        service.import_path(session=session, principal=analyst, path=path)
    assert "cpeMatch[1].criteria" in caught.value.detail
    session.rollback()
    assert counts(session) == before

    folder = tmp_path / "mixed"
    folder.mkdir()
    shutil.copy(path, folder / "bad.json")
    shutil.copy(CVE_DIR / "CVE-2025-29824.json", folder / "good.json")
    result = service.import_path(session=session, principal=analyst, path=folder)
    assert [bool(f.error) for f in result.files] == [True, False]
    assert "cpeMatch[1].criteria" in (result.files[0].error or "")
    session.commit()
    assert counts(session)[0] == before[0] + 1, "the good file is kept, the bad one is not"


def test_the_same_file_is_not_imported_twice(session: Session, world: World) -> None:
    analyst = world["analyst"]
    first = service.import_path(session=session, principal=analyst, path=DATA / "csaf")
    again = service.import_path(session=session, principal=analyst, path=DATA / "csaf")
    assert not first.files[0].unchanged and again.files[0].unchanged
    assert again.files[0].source_id == first.files[0].source_id


def test_newer_kev_replaces_older_kev_is_refused(
    session: Session, world: World, tmp_path: Path, shared_data: Path
) -> None:
    analyst = world["analyst"]
    service.import_path(session=session, principal=analyst, path=VENDORED)
    session.commit()
    total = session.scalar(select(func.count()).select_from(Vulnerability)
                           .where(Vulnerability.kev.is_(True)))
    assert total == 1404
    newer = kev_subset(tmp_path, shared_data, KEV_CVES, version="2025.09.01")
    service.import_path(session=session, principal=analyst, path=newer)
    session.commit()
    kev_now = set(session.scalars(select(Vulnerability.key).where(Vulnerability.kev.is_(True))))
    assert kev_now == set(KEV_CVES), "entries the newer catalogue dropped lose the KEV mark"
    before = counts(session)
    older = kev_subset(tmp_path, shared_data, KEV_CVES[:1], version="2025.01.01",
                       name="old.json")
    with pytest.raises(Conflict, match=r"older than the stored 2025\.09\.01"):
        service.import_path(session=session, principal=analyst, path=older)
    session.rollback()
    assert counts(session) == before


def test_the_cvelist_bulk_zip_layout(session: Session, world: World, tmp_path: Path) -> None:
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w") as archive:
        for path in sorted(CVE_DIR.glob("*.json")):
            year = path.stem.split("-")[1]
            number = path.stem.split("-")[2]
            archive.write(path, f"cves/{year}/{number[:-3]}xxx/{path.name}")
        archive.writestr("cves/delta.json", json.dumps({"fetchTime": "x"}))
        archive.writestr("cves/2024/6xxx/CVE-2024-9999.json", "{broken")
    outer = tmp_path / "2025-08-25_all_CVEs_at_midnight.zip"
    with zipfile.ZipFile(outer, "w") as archive:
        archive.writestr("cves.zip", inner.getvalue())
    result = service.import_path(session=session, principal=world["analyst"], path=outer)
    report = result.files[0]
    assert (report.kind, report.records) == ("cve5", 7)
    assert report.error is not None and "CVE-2024-9999.json" in report.error
    fact = session.scalars(select(VulnFact).where(VulnFact.origin == "cve5:cna")).first()
    assert fact is not None and fact.source_id == report.source_id
    assert result.new_matches == 4


def test_only_the_agency_imports(session: Session, world: World) -> None:
    with pytest.raises(Forbidden):
        service.import_path(session=session, principal=world["sakura"], path=DATA / "csaf")
    with pytest.raises(Forbidden):
        service.import_path(session=session, principal=world["tsubasa"], path=DATA / "csaf")
