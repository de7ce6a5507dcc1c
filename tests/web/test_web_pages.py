"""The public landing page, a home page per role and the purpose-of-use form."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from mamori.access.principal import ROLES


def test_landing_is_public_in_both_languages(make_client, env, web) -> None:
    ja = make_client(accept_language="ja").get("/", headers={"accept": web.BROWSER})
    assert ja.status_code == 200
    assert "通信の秘密の保護の仕組み" in ja.text
    assert "法の規律により保護されます" in ja.text  # R-2.2-5
    assert "選別前の情報を人が見ることはできません" in ja.text  # R-3.3-11
    en = make_client(accept_language="en").get("/", headers={"accept": web.BROWSER})
    assert "How the secrecy of communications is protected" in en.text
    assert "protected by the rules of the law" in en.text
    assert 'href="/login"' in en.text


def test_language_links_keep_the_page(make_client, env, web) -> None:
    page = make_client(accept_language="ja").get("/", headers={"accept": web.BROWSER})
    assert 'href="/?lang=en"' in page.text and ">English<" in page.text


def _demo_login(client, web, username: str):
    from mamori.access.demo import demo_totp_code

    return web.log_in(client, username, password=username, totp_code=demo_totp_code(username))


@pytest.mark.slow
def test_home_page_for_every_role(make_client, demo_env, web) -> None:
    """Each role's home says who you are, what the role may do, and your sections."""
    from mamori.access.roles import ROLE_LABELS
    from mamori.web.roles import GUIDES

    assert set(GUIDES) == set(ROLES)
    client = make_client(accept_language="en")
    for role in ROLES:
        username = f"demo-{role}"
        assert _demo_login(client, web, username).status_code == 303, role
        page = client.get("/home", headers={"accept": web.BROWSER, "accept-language": "en"})
        assert page.status_code == 200, role
        # Demo accounts' setting is Japanese: the page follows the user's setting.
        assert '<html lang="ja">' in page.text
        assert ROLE_LABELS[role]["ja"] in page.text
        assert username in page.text
        english = client.get("/home?lang=en", headers={"accept": web.BROWSER})
        assert ROLE_LABELS[role]["en"] in english.text
        assert GUIDES[role].summary in english.text
        declares = role in {"analyst", "comms_handler", "committee_inspector", "admin"}
        assert ('action="/purpose"' in english.text) == declares, role
        assert ('href="/purpose"' in english.text) == declares, role
        purpose_page = client.get("/purpose", headers={"accept": web.BROWSER})
        assert purpose_page.status_code == (200 if declares else 403), role
        handler_line = "Yes: on the roster with current training"
        assert (handler_line in english.text) == (role == "comms_handler")
        client.get("/home?lang=ja")
        client.post("/logout", data={"csrf_token": web.csrf_token(client)})


def test_declare_purpose_as_comms_handler(make_client, demo_env, web, engine: Engine) -> None:
    client = make_client(accept_language="en")
    assert _demo_login(client, web, "demo-comms_handler").status_code == 303
    home = client.get("/home?lang=en", headers={"accept": web.BROWSER})
    assert 'action="/purpose"' in home.text and "No purpose is declared" in home.text

    token = web.csrf_token(client)
    fragment = client.post(
        "/purpose",
        data={"purpose": "specified_damage_prevention", "csrf_token": token},
        headers={"hx-request": "true"},
    )
    assert fragment.status_code == 200 and "<html" not in fragment.text
    assert "Specified damage-prevention purpose" in fragment.text
    me = client.get("/api/v1/me", headers={"accept": "application/json"})
    assert me.json()["purpose"] == "specified_damage_prevention"

    before = web.database_state(engine)
    refused = client.post(
        "/purpose",
        data={"purpose": "criminal_investigation", "csrf_token": token},
        headers={"accept": "application/json"},
    )
    assert refused.status_code == 403
    unknown = client.post(
        "/purpose", data={"purpose": "curiosity", "csrf_token": token},
        headers={"accept": "application/json"},
    )
    assert unknown.status_code == 422
    assert web.database_state(engine) == before
    me = client.get("/api/v1/me", headers={"accept": "application/json"})
    assert me.json()["purpose"] == "specified_damage_prevention"

    plain = client.post(
        "/purpose", data={"purpose": "specified_damage_prevention", "csrf_token": token}
    )
    assert plain.status_code == 303 and plain.headers["location"] == "/home"


def test_home_needs_login(client, env, web) -> None:
    response = client.get("/home", headers={"accept": web.BROWSER})
    assert response.status_code == 303 and response.headers["location"].startswith("/login")
    assert client.get("/home", headers={"accept": "application/json"}).status_code == 401
