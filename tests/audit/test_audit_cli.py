"""``mamori audit``: real users with real API tokens through the real authorize()."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from mamori.audit import service
from mamori.audit.verify import check_export
from mamori.db import get_engine
from mamori.errors import Forbidden


def _entries(n: int) -> None:
    with Session(get_engine()) as session:
        for i in range(n):
            service.record(session=session, actor="analyst", action="intel.add",
                           object_type="Indicator", object_id=str(i))
        session.commit()


def test_sth_verify_and_export(audit_cli: Any, tmp_path: Path) -> None:
    _entries(4)
    signed = audit_cli("sth", "--json")
    assert signed.exit_code == 0, signed.output
    head = json.loads(signed.output)
    size = head["tree_size"]
    assert size >= 4 and len(head["signature"]) == 128  # the users' own entries count too

    plain = audit_cli("sth")
    assert plain.exit_code == 0 and head["key_id"] in plain.output
    assert "署名付きツリーヘッド" in plain.output  # Japanese by default

    verified = audit_cli("verify")
    assert verified.exit_code == 0, verified.output
    assert f"{size} 件" in verified.output and "2" in verified.output

    target = tmp_path / "audit.json"
    exported = audit_cli("export", str(target))
    assert exported.exit_code == 0, exported.output
    lines = list(check_export(json.loads(target.read_text(encoding="utf-8"))))
    assert lines[-1].startswith(f"OK: {size} entries"), lines
    with Session(get_engine()) as session:
        newest = service.list_entries(session=session, limit=1).items[0]
    assert (newest.actor, newest.action, newest.details["entries"]) == (
        "inspector", "audit.export", size)


def test_english_output(audit_cli: Any, monkeypatch: Any) -> None:
    monkeypatch.setenv("MAMORI_DEFAULT_LANGUAGE", "en")
    _entries(1)
    result = audit_cli("verify")
    assert result.exit_code == 0 and "audit log intact" in result.output


def test_other_roles_are_refused_and_the_refusal_is_audited(audit_cli: Any, tmp_path: Path) -> None:
    _entries(2)
    audit_cli("verify")  # creates the users
    for args in (["verify"], ["sth"], ["export", str(tmp_path / "x.json")]):
        result = audit_cli(*args, user="analyst")
        assert isinstance(result.exception, Forbidden), result.output
    assert not (tmp_path / "x.json").exists()
    with Session(get_engine()) as session:
        denied = service.list_entries(session=session, action="access.denied")
        assert denied.total == 3 and {e.actor for e in denied.items} == {"analyst"}
        assert service.list_tree_heads(session=session) == []
        assert service.verify_log(session=session).ok
