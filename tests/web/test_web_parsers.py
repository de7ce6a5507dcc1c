"""The small parsers at the edge: Authorization headers and post-login targets."""

from __future__ import annotations

import base64

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mamori.errors import Unauthenticated
from mamori.web.credentials import BasicCredentials, BearerCredentials, parse_authorization
from mamori.web.login import safe_next
from mamori.web.security import is_token_shaped, new_csrf_token

TOKEN_TEXT = st.text(
    alphabet=st.characters(min_codepoint=33, max_codepoint=126), min_size=1, max_size=80
)


@given(TOKEN_TEXT)
def test_bearer_round_trip(token: str) -> None:
    assert parse_authorization(f"Bearer {token}") == BearerCredentials(token=token)
    assert parse_authorization(f"bearer   {token}  ") == BearerCredentials(token=token)


@given(
    st.text(min_size=1, max_size=40).filter(lambda u: ":" not in u),
    st.text(min_size=1, max_size=80),
)
def test_basic_round_trip(username: str, token: str) -> None:
    value = base64.b64encode(f"{username}:{token}".encode()).decode()
    assert parse_authorization(f"Basic {value}") == BasicCredentials(username, token)


@given(st.text(max_size=200))
def test_any_header_parses_or_is_unauthenticated(header: str) -> None:
    try:
        result = parse_authorization(header)
    except Unauthenticated as exc:
        assert exc.detail in {  # fixed messages: the header's value is never repeated
            "the bearer token is missing or malformed",
            "the basic credentials are not valid base64 of user:token",
            "the basic credentials must be user:token",
            "unsupported authorization scheme: use Bearer or Basic",
        }
    else:
        assert isinstance(result, BearerCredentials | BasicCredentials)


@pytest.mark.parametrize(
    "header",
    ["", "Bearer", "Bearer two words", "Basic", "Basic ****", "Basic " + base64.b64encode(
        b"no-colon").decode(), "Digest abc", "Basic " + base64.b64encode(b":token").decode()],
)
def test_malformed_headers_are_refused(header: str) -> None:
    with pytest.raises(Unauthenticated):
        parse_authorization(header)


@given(st.text(max_size=300))
def test_safe_next_never_leaves_the_site(target: str) -> None:
    result = safe_next(target)
    assert result.startswith("/") and not result.startswith("//")
    assert "\\" not in result and result.isprintable()
    assert result == target or result == "/home"


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/reports?id=3", "/reports?id=3"),
        ("https://evil.example/", "/home"),
        ("//evil.example/", "/home"),
        ("/\\evil.example", "/home"),
        ("javascript:alert(1)", "/home"),
        ("/logout", "/home"),
        (None, "/home"),
    ],
)
def test_safe_next_examples(target: str | None, expected: str) -> None:
    assert safe_next(target) == expected


@given(st.text(max_size=60))
def test_csrf_token_shape(text: str) -> None:
    assert is_token_shaped(new_csrf_token())
    if is_token_shaped(text):
        assert len(text) == 43 and text.isascii()
