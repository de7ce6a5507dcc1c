"""Login and logout in Japanese and English; failed logins change nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from mamori.config import reset_settings_cache

BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


def test_login_and_logout_in_japanese(web, make_client, accounts) -> None:
    client = make_client(accept_language="ja,en;q=0.5")
    page = client.get("/login", headers={"accept": BROWSER})
    assert page.status_code == 200
    assert '<html lang="ja">' in page.text
    assert "ユーザー名" in page.text and "パスワード" in page.text

    response = web.log_in(client, "kenji")
    assert response.status_code == 303
    assert response.headers["location"] == "/home"
    login_cookie = next(c for c in web.set_cookies(response) if c.startswith("mamori_login="))
    assert "HttpOnly" in login_cookie and "SameSite=Lax" in login_cookie

    home = client.get("/home", headers={"accept": BROWSER})
    assert home.status_code == 200
    assert "分析 健二 さん、ようこそ" in home.text
    assert "内閣府" in home.text and "分析担当者" in home.text

    out = client.post("/logout", data={"csrf_token": web.csrf_token(client)})
    assert out.status_code == 303 and out.headers["location"] == "/"
    assert any(c.startswith("mamori_login=") and "Max-Age=0" in c for c in web.set_cookies(out))
    after = client.get("/home", headers={"accept": BROWSER})
    assert after.status_code == 303
    assert after.headers["location"] == "/login?next=%2Fhome"


def test_logged_out_token_no_longer_works(web, make_client, accounts) -> None:
    client = make_client()
    web.log_in(client, "kenji")
    stolen = client.cookies["mamori_login"]
    client.post("/logout", data={"csrf_token": web.csrf_token(client)})
    replay = make_client(accept="application/json")
    replay.cookies.set("mamori_login", stolen)
    assert replay.get("/api/v1/me").status_code == 401


def test_login_in_english_by_accept_language(web, make_client, accounts) -> None:
    client = make_client(accept_language="en-GB,en;q=0.9,ja;q=0.2")
    page = client.get("/login", headers={"accept": BROWSER})
    assert '<html lang="en">' in page.text
    assert "User name" in page.text and "Password" in page.text
    assert web.log_in(client, "alice").status_code == 303
    home = client.get("/home", headers={"accept": BROWSER})
    assert "Welcome, Alice Analyst" in home.text
    assert "Cabinet Office" in home.text and "Analyst" in home.text


def test_user_setting_beats_accept_language(web, make_client, accounts) -> None:
    client = make_client(accept_language="en")
    web.log_in(client, "kenji")  # kenji's setting is Japanese
    home = client.get("/home", headers={"accept": BROWSER})
    assert '<html lang="ja">' in home.text


def test_language_switch_before_and_after_login(web, make_client, accounts) -> None:
    client = make_client(accept_language="ja")
    switched = client.get("/login?lang=en", headers={"accept": BROWSER})
    assert '<html lang="en">' in switched.text
    assert any(c.startswith("lang=en") for c in web.set_cookies(switched))
    again = client.get("/login", headers={"accept": BROWSER})
    assert '<html lang="en">' in again.text  # the cookie remembers the switch

    web.log_in(client, "kenji")  # the choice made before login becomes kenji's setting
    assert '<html lang="en">' in client.get("/home", headers={"accept": BROWSER}).text

    back = client.get("/home?lang=ja", headers={"accept": BROWSER})
    assert '<html lang="ja">' in back.text
    fresh = make_client(accept_language="en")
    web.log_in(fresh, "kenji")
    assert '<html lang="ja">' in fresh.get("/home", headers={"accept": BROWSER}).text


def test_unknown_user_and_wrong_password_get_401_and_change_nothing(
    web, make_client, accounts, engine: Engine
) -> None:
    client = make_client(accept_language="en")
    web.csrf_token(client)
    before = web.database_state(engine)
    for username, password in (("kenji", "wrong password!"), ("nobody", web.PASSWORD)):
        response = web.log_in(client, username, password)
        assert response.status_code == 401
        assert "Login failed. Check your user name, password and one-time code" in response.text
        assert "mamori_login" not in response.headers.get("set-cookie", "")
        assert "wrong password!" not in response.text
    assert web.database_state(engine) == before
    assert client.get("/home", headers={"accept": BROWSER}).status_code == 303


def test_failed_login_page_in_japanese(web, make_client, accounts) -> None:
    client = make_client(accept_language="ja")
    response = web.log_in(client, "kenji", "wrong password!")
    assert response.status_code == 401
    assert "ログインできませんでした" in response.text


@pytest.mark.parametrize(("language", "text"), [
    ("en", "Too many failed sign-ins for this account. Try again in 15 minutes"),
    ("ja", "サインインの失敗が多すぎます。15 分後に再度お試しいただくか"),
])
def test_a_locked_account_is_told_so_in_its_language(
    web, make_client, accounts, monkeypatch: pytest.MonkeyPatch, language: str, text: str
) -> None:
    monkeypatch.setenv("MAMORI_SIGN_IN_LOCKOUT_THRESHOLD", "2")
    monkeypatch.setenv("MAMORI_SIGN_IN_LOCKOUT_MINUTES", "15")
    reset_settings_cache()
    client = make_client(accept_language=language)
    for _ in range(2):
        assert text not in web.log_in(client, "kenji", "wrong password!").text
    response = web.log_in(client, "kenji")  # the right password, too late
    assert response.status_code == 401 and text in response.text
    assert "mamori_login" not in response.headers.get("set-cookie", "")
    assert client.get("/home", headers={"accept": BROWSER}).status_code == 303


def test_login_redirects_only_to_local_pages(web, make_client, accounts) -> None:
    client = make_client()
    data = {
        "username": "kenji", "password": web.PASSWORD, "csrf_token": web.csrf_token(client),
        "next": "//evil.example/steal",
    }
    assert client.post("/login", data=data).headers["location"] == "/home"
    client.post("/logout", data={"csrf_token": web.csrf_token(client)})
    data["next"] = "/api/v1/me"
    assert client.post("/login", data=data).headers["location"] == "/api/v1/me"


def test_demo_login_page_shows_accounts_and_codes(web, make_client, demo_mode) -> None:
    from mamori.access.demo import demo_totp_code

    client = make_client(accept_language="en")
    page = client.get("/login", headers={"accept": BROWSER})
    assert "Demo accounts" in page.text
    assert "demo-analyst" in page.text and "demo-comms_handler" in page.text
    before = demo_totp_code("demo-admin")
    fragment = client.get("/login/demo-accounts")
    after = demo_totp_code("demo-admin")
    assert fragment.status_code == 200 and "demo-admin" in fragment.text
    assert before is not None and (before in fragment.text or after in fragment.text)
    assert "<html" not in fragment.text


def test_no_demo_hint_outside_demo_mode(web, make_client, accounts) -> None:
    client = make_client(accept_language="en")
    page = client.get("/login", headers={"accept": BROWSER})
    assert "Demo accounts" not in page.text
    assert client.get("/login/demo-accounts").status_code == 204
