"""Parsers of presented credentials (API tokens, login tokens, one-time codes), tested
with hypothesis: any text is either accepted exactly or refused with one generic error."""

from __future__ import annotations

import pyotp
import pytest
from hypothesis import given
from hypothesis import strategies as st

from mamori.access import passwords, tokens, totp
from mamori.access.purposes import PURPOSES, declarable, get_purpose
from mamori.access.roles import ROLE_LABELS, ROLES, validate_roles
from mamori.errors import InvalidInput, Unauthenticated


@given(st.text(max_size=200))
def test_parse_api_token_accepts_or_refuses_generically(text: str) -> None:
    try:
        parsed = tokens.parse_api_token(text)
    except Unauthenticated as exc:
        assert exc.detail == tokens.BAD_TOKEN
    else:
        assert str(parsed) == text.strip()


@given(st.just(None).map(lambda _: tokens.new_api_token()))
def test_issued_api_tokens_round_trip(token: tokens.ApiToken) -> None:
    assert tokens.parse_api_token(str(token)) == token
    assert tokens.same_digest(str(token), tokens.digest(str(token)))
    assert not tokens.same_digest(str(token) + "x", tokens.digest(str(token)))


@given(st.text(alphabet="abcdef0123456789", min_size=16, max_size=16),
       st.text(alphabet="ABCxyz019_-", min_size=43, max_size=43))
def test_well_formed_api_tokens_parse(key_id: str, secret: str) -> None:
    parsed = tokens.parse_api_token(f"mamori_{key_id}_{secret}")
    assert (parsed.key_id, parsed.secret) == (key_id, secret)


@given(st.text(max_size=200))
def test_login_tokens_accept_or_refuse_generically(text: str) -> None:
    try:
        assert tokens.check_login_token(text) == text
    except Unauthenticated as exc:
        assert exc.detail == "invalid or expired login session"


def test_new_login_tokens_are_accepted() -> None:
    assert tokens.check_login_token(tokens.new_login_token())


@given(st.text(max_size=20))
def test_one_time_codes_other_than_six_digits_never_match(code: str) -> None:
    secret = totp.demo_secret("demo-admin")
    step = totp.matching_step(secret, code, at=1_700_000_000)
    if step is not None:
        assert code.strip().isdigit() and len(code.strip()) == 6


@given(st.integers(min_value=1_600_000_000, max_value=2_000_000_000), st.integers(-1, 1))
def test_the_code_of_a_neighbouring_step_matches_that_step(now: int, drift: int) -> None:
    secret = totp.demo_secret("demo-comms_handler")
    at = now + drift * totp.STEP_SECONDS
    code = pyotp.TOTP(secret).at(at)
    step = totp.matching_step(secret, code, at=now)
    assert step is not None and abs(step - now // totp.STEP_SECONDS) <= 1


def test_password_policy_never_echoes_the_password() -> None:
    for bad in ("short", "x" * (passwords.MAX_LENGTH + 1)):
        with pytest.raises(InvalidInput) as caught:
            passwords.check_policy(bad)
        assert bad not in caught.value.detail
    hashed = passwords.hash_password("correct horse")
    assert "correct horse" not in hashed and hashed.startswith("$argon2id$")
    assert passwords.verify_password(hashed, "correct horse")
    assert not passwords.verify_password(hashed, "wrong horse")
    assert not passwords.verify_password(None, "mamori-no-such-user")
    assert not passwords.verify_password("not a hash", "x")


def test_purposes_and_roles_are_labelled_in_both_languages() -> None:
    for purpose in PURPOSES.values():
        assert purpose.ja and purpose.en and purpose.label("ja") == purpose.ja
    assert set(ROLE_LABELS) == set(ROLES)
    assert all(label["ja"] and label["en"] for label in ROLE_LABELS.values())
    assert PURPOSES["criminal_investigation"].forbidden
    assert "criminal_investigation" not in {p.code for p in declarable()}
    assert PURPOSES["specified_damage_prevention"].ja == "特定被害防止目的"
    with pytest.raises(InvalidInput, match="never permitted"):
        get_purpose("criminal_investigation")
    with pytest.raises(InvalidInput, match="unknown"):
        get_purpose("curiosity")
    assert validate_roles(["admin", "admin"]) == {"admin"}
