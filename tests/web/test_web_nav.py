"""The navigation registry: domains add sections; each principal sees only theirs."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from mamori.access.principal import Principal
from mamori.web import nav


@pytest.fixture
def scratch_entries() -> Iterator[list[str]]:
    added: list[str] = []
    yield added
    for url in added:
        nav.unregister(url)


def test_entries_by_role_action_and_test(session, scratch_entries) -> None:
    scratch_entries += ["/x-analysts", "/x-orgs", "/x-never", "/x-all"]
    nav.register(url="/x-analysts", label_ja="分析", label_en="Analysis", roles={"analyst"})
    nav.register(url="/x-orgs", label_ja="組織", label_en="Organisations",
                 action="organisation.list", resource_type="organisation")
    nav.register(url="/x-never", label_ja="無", label_en="Never",
                 when=lambda *, session, principal: False)
    nav.register(url="/x-all", label_ja="全員", label_en="Everyone", order=1)

    analyst = Principal(username="a", roles=frozenset({"analyst"}), user_id=1)
    admin = Principal(username="r", roles=frozenset({"admin"}), user_id=2, mfa=True)
    seen_by_analyst = [e.url for e in nav.visible_entries(session=session, principal=analyst)]
    seen_by_admin = [e.url for e in nav.visible_entries(session=session, principal=admin)]
    assert {"/x-analysts", "/x-orgs", "/x-all"} <= set(seen_by_analyst)
    assert "/x-never" not in seen_by_analyst
    assert "/x-analysts" not in seen_by_admin and "/x-all" in seen_by_admin
    assert seen_by_analyst.index("/x-all") < seen_by_analyst.index("/x-analysts")
    supplier = Principal(username="s", roles=frozenset({"supplier"}), user_id=3)
    assert "/x-orgs" in [e.url for e in nav.visible_entries(session=session, principal=supplier)]
    nobody = Principal(username="n", roles=frozenset(), user_id=4)
    assert "/x-orgs" not in [e.url for e in nav.visible_entries(session=session, principal=nobody)]


def test_registration_is_idempotent_and_bilingual(scratch_entries) -> None:
    scratch_entries.append("/x-twice")
    nav.register(url="/x-twice", label_ja="一", label_en="One")
    entry = nav.register(url="/x-twice", label_ja="二", label_en="Two")
    assert [e for e in nav.entries() if e.url == "/x-twice"] == [entry]
    assert entry.label("ja") == "二" and entry.label("en") == "Two"
    with pytest.raises(ValueError):
        nav.register(url="https://elsewhere.example", label_ja="外", label_en="Out")


def test_a_registered_section_shows_on_home(make_client, accounts, web, scratch_entries) -> None:
    scratch_entries.append("/x-reports")
    nav.register(url="/x-reports", label_ja="報告の一覧", label_en="Reports",
                 roles={"analyst"}, description_ja="届いた報告", description_en="Reports received")
    client = make_client()
    web.log_in(client, "kenji")
    page = client.get("/home", headers={"accept": web.BROWSER}).text
    assert 'href="/x-reports"' in page and "報告の一覧" in page and "届いた報告" in page
