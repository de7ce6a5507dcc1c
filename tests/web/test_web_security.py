"""Security headers, cookie flags and CSRF protection."""

from __future__ import annotations

from sqlalchemy import Engine


def test_security_headers_everywhere(client, env, web) -> None:
    for path in ("/", "/login", "/api/v1/health", "/static/css/mamori.css", "/no-such-page"):
        response = client.get(path, headers={"accept": web.BROWSER})
        headers = response.headers
        csp = headers["content-security-policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp.split("script-src")[1]
        assert "frame-ancestors 'none'" in csp and "object-src 'none'" in csp
        assert headers["x-frame-options"] == "DENY"
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "same-origin"
        assert "camera=()" in headers["permissions-policy"]
    assert client.get("/login").headers["cache-control"] == "no-store"


def test_no_inline_script_in_pages(client, env, web) -> None:
    for path in ("/", "/login"):
        text = client.get(path, headers={"accept": web.BROWSER}).text
        assert "<script>" not in text and "<style" not in text and "onclick" not in text
        assert 'src="/static/vendor/htmx/htmx.min.js"' in text
    htmx = client.get("/static/vendor/htmx/htmx.min.js")
    assert htmx.status_code == 200 and "htmx" in htmx.text
    assert client.get("/static/vendor/htmx/LICENSE").status_code == 200


def test_csrf_cookie_flags(client, env, web) -> None:
    response = client.get("/login")
    cookie = next(c for c in web.set_cookies(response) if c.startswith("mamori_csrf="))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/" in cookie
    token = client.cookies["mamori_csrf"]
    assert f'name="csrf_token" value="{token}"' in response.text
    # The token stays the same for this browser; it is issued once.
    assert not [c for c in web.set_cookies(client.get("/login")) if c.startswith("mamori_csrf=")]


def test_https_cookies_are_secure(app, accounts, web) -> None:
    from fastapi.testclient import TestClient

    client = TestClient(app, base_url="https://mamori.example", follow_redirects=False)
    response = web.log_in(client, "kenji")
    assert response.status_code == 303
    for cookie in web.set_cookies(response):
        assert "Secure" in cookie
    assert "max-age" in client.get("/login").headers["strict-transport-security"]


def test_login_without_csrf_token_is_403_and_changes_nothing(
    make_client, accounts, engine: Engine, web
) -> None:
    client = make_client(accept_language="en")
    web.csrf_token(client)
    before = web.database_state(engine)
    form = {"username": "kenji", "password": web.PASSWORD}
    missing = client.post("/login", data=form, headers={"accept": "application/json"})
    assert missing.status_code == 403
    assert missing.headers["content-type"] == "application/problem+json"
    wrong = client.post(
        "/login", data={**form, "csrf_token": "x" * 43}, headers={"accept": "application/json"}
    )
    assert wrong.status_code == 403
    page = client.post("/login", data=form, headers={"accept": web.BROWSER})
    assert page.status_code == 403 and "security token" in page.text
    assert "mamori_login" not in client.cookies
    assert web.database_state(engine) == before


def test_token_from_another_browser_is_refused(make_client, accounts, web) -> None:
    attacker = make_client()
    victim = make_client()
    stolen_shape = web.csrf_token(attacker)
    web.csrf_token(victim)
    form = {"username": "kenji", "password": web.PASSWORD, "csrf_token": stolen_shape}
    assert victim.post("/login", data=form).status_code == 403


def test_logout_without_csrf_token_keeps_the_login(make_client, accounts, web) -> None:
    client = make_client(accept_language="en")
    web.log_in(client, "kenji")
    assert client.post("/logout").status_code == 403
    assert client.get("/home", headers={"accept": web.BROWSER}).status_code == 200


def test_cookie_json_request_needs_the_csrf_header(make_client, accounts, web) -> None:
    client = make_client()
    web.log_in(client, "kenji")
    body = {"language": "en"}
    refused = client.put("/api/v1/me/language", json=body, headers={"accept": "application/json"})
    assert refused.status_code == 403
    allowed = client.put(
        "/api/v1/me/language", json=body, headers={"x-csrf-token": web.csrf_token(client)}
    )
    assert allowed.status_code == 200


def test_bearer_clients_need_no_csrf_token(client, accounts) -> None:
    headers = {"authorization": f"Bearer {accounts['alice'].api_token}"}
    response = client.put("/api/v1/me/language", json={"language": "ja"}, headers=headers)
    assert response.status_code == 200


def test_basic_auth_form_posts_still_need_csrf(client, accounts) -> None:
    import base64

    value = base64.b64encode(f"alice:{accounts['alice'].api_token}".encode()).decode()
    response = client.post(
        "/logout", data={"x": "1"}, headers={"authorization": f"Basic {value}"}
    )
    assert response.status_code == 403
