"""``mamori user``: first start, acting as a user with a token, one-line errors (exit 2)."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from rich.console import Console
from sqlalchemy.orm import Session

from mamori.access.demo import seed
from mamori.config import reset_settings_cache
from worlds import invoke

Run = tuple[int, str, str]
Mamori = Callable[..., Run]


@pytest.fixture
def mamori(
    env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Mamori:
    def run(*args: str, token: str | None = None, stdin: str = "") -> Run:
        if token is None:
            monkeypatch.delenv("MAMORI_TOKEN", raising=False)
        else:
            monkeypatch.setenv("MAMORI_TOKEN", token)
        reset_settings_cache()
        return invoke(capsys, monkeypatch, *args, stdin=io.StringIO(stdin))

    return run


def _bootstrap(mamori: Mamori) -> str:
    code, _, err = mamori("user", "org-add", "cao", "--kind", "cabinet_office",
                          "--name-ja", "内閣府", "--name-en", "Cabinet Office")
    assert code == 0, err
    code, out, err = mamori("user", "add", "root", "--role", "admin", "--org", "cao",
                            "--password-stdin", stdin="correct horse battery\n")
    assert code == 0, err
    token = out.strip().splitlines()[-1]
    assert token.startswith("mamori_")
    return str(token)


def test_first_start_then_act_as_the_administrator(mamori: Mamori) -> None:
    root = _bootstrap(mamori)
    code, _, err = mamori("--as", "root", "user", "add", "ana", "--role", "analyst",
                          "--org", "cao", "--display-name", "Ana", "--password-stdin",
                          token=root, stdin="another good password\n")
    assert code == 0, err
    code, out, _ = mamori("--as", "root", "user", "list", "--json", token=root)
    assert code == 0
    assert [u["username"] for u in json.loads(out)] == ["ana", "root"]
    code, out, err = mamori("--as", "root", "user", "token", "ana", "--name", "feed",
                            token=root)
    assert code == 0, err
    ana = out.strip()
    code, out, _ = mamori("--as", "ana", "user", "whoami", token=ana)
    assert code == 0 and "roles=analyst" in out
    code, out, _ = mamori("--as", "ana", "--purpose", "specified_damage_prevention",
                          "user", "whoami", token=ana)
    assert "purpose=specified_damage_prevention" in out
    code, out, _ = mamori("--as", "root", "user", "orgs", "--json", token=root)
    assert [o["code"] for o in json.loads(out)] == ["cao"]


def test_errors_are_one_line_and_exit_2(mamori: Mamori) -> None:
    root = _bootstrap(mamori)
    cases = [
        (("user", "list"), None, "pass --as USER"),
        (("--as", "root", "user", "list"), "mamori_0000000000000000_" + "A" * 43,
         "invalid, expired or revoked token"),
        (("--as", "ghost", "user", "list"), root, "invalid, expired or revoked token"),
        (("--as", "root", "user", "list"), "garbage", "invalid, expired or revoked token"),
        (("--as", "root", "user", "show", "ghost"), root, "no user 'ghost'"),
        (("--as", "root", "user", "add", "x1", "--role", "analyst", "--org", "nowhere",
          "--password-stdin"), root, "no organisation 'nowhere'"),
        (("--as", "root", "user", "add", "x1", "--role", "wizard", "--org", "cao",
          "--password-stdin"), root, "unknown role 'wizard'"),
        (("--as", "root", "user", "designate", "root", "--training-date", "yesterday"), root,
         "training_date must be a date"),
        (("user", "add", "x2", "--role", "admin", "--org", "cao", "--password-stdin"), None,
         "pass --as USER"),
    ]
    for args, token, message in cases:
        code, out, err = mamori(*args, token=token, stdin="a good password\n")
        assert code == 2, (args, out, err)
        flat = " ".join(err.split())  # rich may wrap a long line at the console width
        assert flat.startswith("error: ") and message in flat, (args, err)


def test_operator_cannot_manage_accounts(mamori: Mamori) -> None:
    root = _bootstrap(mamori)
    mamori("--as", "root", "user", "add", "opal", "--role", "operator", "--org", "cao",
           "--password-stdin", token=root, stdin="operator password\n")
    _, out, _ = mamori("--as", "root", "user", "token", "opal", token=root)
    opal = out.strip()
    code, _, err = mamori("--as", "opal", "user", "list", token=opal)
    assert code == 2 and "opal may not user.list" in err
    code, out, _ = mamori("--as", "opal", "user", "show", "opal", "--json", token=opal)
    assert code == 0 and json.loads(out)["username"] == "opal"


def test_roster_commands(mamori: Mamori) -> None:
    root = _bootstrap(mamori)
    mamori("--as", "root", "user", "add", "hana", "--role", "comms_handler", "--org", "cao",
           "--password-stdin", token=root, stdin="handler password\n")
    code, out, err = mamori("--as", "root", "user", "totp", "hana", token=root)
    assert code == 0 and out.startswith("otpauth://totp/"), err
    code, _, err = mamori("--as", "root", "user", "designate", "hana", "--training-date",
                          "2025-04-01", token=root)
    assert code == 0, err
    code, out, _ = mamori("--as", "root", "user", "roster", "--json", token=root)
    entries = json.loads(out)
    assert [e["username"] for e in entries] == ["hana"]
    assert entries[0]["training_completed_on"] == "2025-04-01"
    code, _, _ = mamori("--as", "root", "user", "undesignate", "hana", token=root)
    assert code == 0
    _, out, _ = mamori("--as", "root", "user", "roster", "--json", token=root)
    assert json.loads(out) == []


def test_purposes_need_no_account(mamori: Mamori) -> None:
    code, out, _ = mamori("user", "purposes", "--json")
    codes = {p["code"] for p in json.loads(out)}
    assert code == 0 and "specified_damage_prevention" in codes
    assert "criminal_investigation" not in codes


def test_demo_accounts_act_without_a_token_in_demo_mode(
    mamori: Mamori, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MAMORI_DEMO", "1")
    reset_settings_cache()
    seed(session=session, console=Console(quiet=True))
    session.commit()
    code, out, err = mamori("--as", "demo-admin", "user", "list", "--json")
    assert code == 0, err
    assert "demo-committee_inspector" in {u["username"] for u in json.loads(out)}
    monkeypatch.delenv("MAMORI_DEMO")
    code, _, err = mamori("--as", "demo-admin", "user", "list")
    assert code == 2 and "MAMORI_TOKEN is not set" in err


def test_unlock_ends_a_lockout(mamori: Mamori, monkeypatch: pytest.MonkeyPatch) -> None:
    from mamori.access import service
    from mamori.db import session_scope
    from mamori.errors import Unauthenticated

    root = _bootstrap(mamori)
    mamori("--as", "root", "user", "add", "ana", "--role", "analyst", "--org", "cao",
           "--password-stdin", token=root, stdin="another good password\n")
    monkeypatch.setenv("MAMORI_SIGN_IN_LOCKOUT_THRESHOLD", "2")
    reset_settings_cache()
    for password in ("wrong", "wrong", "another good password"):
        with session_scope() as session, pytest.raises(Unauthenticated):
            service.authenticate(session=session, username="ana", password=password)
    code, out, err = mamori("--as", "root", "user", "unlock", "ana", token=root)
    assert code == 0 and "ana: サインインのロックを解除しました" in out, err
    code, out, _ = mamori("--as", "root", "user", "unlock", "ana", token=root)
    assert code == 0 and "ana: ロックされていませんでした" in out
    with session_scope() as session:
        service.authenticate(session=session, username="ana", password="another good password")
    code, _, err = mamori("--as", "root", "user", "unlock", "ghost", token=root)
    assert code == 2 and "no user 'ghost'" in err
