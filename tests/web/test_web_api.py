"""The JSON API: bearer and basic clients, problem+json errors, OpenAPI."""

from __future__ import annotations

import base64

from sqlalchemy import Engine

JSON = {"accept": "application/json"}


def _bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}", **JSON}


def _basic(username: str, token: str) -> dict[str, str]:
    value = base64.b64encode(f"{username}:{token}".encode()).decode()
    return {"authorization": f"Basic {value}", **JSON}


def test_me_with_bearer_and_basic(client, accounts) -> None:
    alice = accounts["alice"]
    me = client.get("/api/v1/me", headers=_bearer(alice.api_token))
    assert me.status_code == 200
    body = me.json()
    assert body["username"] == "alice" and body["roles"] == ["analyst"] and body["via"] == "api"
    basic = client.get("/api/v1/me", headers=_basic("alice", alice.api_token))
    assert basic.status_code == 200 and basic.json()["username"] == "alice"


def test_bad_bearer_token_is_401_problem_and_changes_nothing(
    client, accounts, engine: Engine, web
) -> None:
    before = web.database_state(engine)
    good = accounts["alice"].api_token
    forged = good[:-4] + ("AAAA" if not good.endswith("AAAA") else "BBBB")
    for headers in (
        _bearer(forged),
        _bearer("not-a-token"),
        {"authorization": "Bearer", **JSON},
        {"authorization": "Token abc", **JSON},
        {"authorization": "Basic !!!notbase64", **JSON},
        _basic("kenji", good),  # alice's token presented as kenji's
    ):
        response = client.get("/api/v1/me", headers=headers)
        assert response.status_code == 401, headers
        assert response.headers["content-type"] == "application/problem+json"
        problem = response.json()
        assert problem["status"] == 401 and problem["title"] == "Authentication required"
        assert good not in response.text and forged not in response.text
        assert response.headers["www-authenticate"].startswith("Bearer")
    assert web.database_state(engine) == before


def test_anonymous_api_call_is_401(client, accounts) -> None:
    response = client.get("/api/v1/me", headers=JSON)
    assert response.status_code == 401
    assert response.json()["detail"] == "Please log in first."


def test_malformed_json_is_422_problem_and_changes_nothing(
    client, accounts, engine: Engine, web
) -> None:
    headers = {**_bearer(accounts["alice"].api_token), "content-type": "application/json"}
    before = web.database_state(engine)
    response = client.put("/api/v1/me/language", content=b'{"language": ', headers=headers)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == 422 and body["errors"]
    assert all("input" not in error for error in body["errors"])
    assert web.database_state(engine) == before


def test_invalid_value_names_the_field_without_echoing_it(
    client, accounts, engine: Engine, web
) -> None:
    headers = _bearer(accounts["alice"].api_token)
    before = web.database_state(engine)
    secret_looking = "zz-do-not-echo-7f3a"
    response = client.put(
        "/api/v1/me/language", json={"language": secret_looking}, headers=headers
    )
    assert response.status_code == 422
    body = response.json()
    assert body["errors"][0]["field"] == "language"
    assert "language" in body["detail"]
    assert secret_looking not in response.text
    extra = client.put(
        "/api/v1/me/language", json={"language": "en", "x": secret_looking}, headers=headers
    )
    assert extra.status_code == 422 and secret_looking not in extra.text
    assert web.database_state(engine) == before


def test_language_setting_through_the_api(client, accounts, make_client, web) -> None:
    headers = _bearer(accounts["kenji"].api_token)
    assert client.put("/api/v1/me/language", json={"language": "en"}, headers=headers).json() == {
        "language": "en"
    }
    browser = make_client(accept_language="ja")
    web.log_in(browser, "kenji")
    assert '<html lang="en">' in browser.get("/home", headers={"accept": web.BROWSER}).text


def test_malformed_form_is_422_and_never_echoes_values(
    make_client, accounts, engine: Engine, web
) -> None:
    client = make_client(accept_language="en")
    before = web.database_state(engine)
    data = {"password": "hunter2-secret-value", "csrf_token": web.csrf_token(client)}
    response = client.post("/login", data=data, headers=JSON)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert [e["field"] for e in response.json()["errors"]] == ["username"]
    assert "hunter2-secret-value" not in response.text
    page = client.post("/login", data=data, headers={"accept": web.BROWSER})
    assert page.status_code == 422 and "text/html" in page.headers["content-type"]
    assert "username" in page.text and "hunter2-secret-value" not in page.text
    assert web.database_state(engine) == before


def test_unknown_path_is_404_problem_or_page(make_client, env, web) -> None:
    client = make_client(accept_language="ja")
    api = client.get("/api/v1/nothing-here", headers=JSON)
    assert api.status_code == 404
    assert api.headers["content-type"] == "application/problem+json"
    assert api.json()["title"] == "Not Found"
    page = client.get("/nothing-here", headers={"accept": web.BROWSER})
    assert page.status_code == 404
    assert "見つかりません" in page.text and '<html lang="ja">' in page.text


def test_wrong_method_is_405_problem(client, env) -> None:
    response = client.delete("/api/v1/health", headers=JSON)
    assert response.status_code == 405
    assert response.headers["content-type"] == "application/problem+json"


def test_health(client, env) -> None:
    response = client.get("/api/v1/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok" and body["database"] in {"sqlite", "postgresql"}


def test_openapi_and_docs(client, env, web) -> None:
    spec = client.get("/openapi.json").json()
    assert {"/api/v1/me", "/api/v1/health", "/api/v1/me/language"} <= set(spec["paths"])
    assert "/login" not in spec["paths"]  # browser pages are not part of the API
    docs = client.get("/docs", headers={"accept": web.BROWSER})
    assert docs.status_code == 200
    assert "/static/vendor/swagger-ui/swagger-ui-bundle.js" in docs.text
    assert "<script>" not in docs.text  # no inline script: the CSP forbids it
    bundle = client.get("/static/vendor/swagger-ui/swagger-ui-bundle.js")
    assert bundle.status_code == 200 and "SwaggerUIBundle" in bundle.text
