"""A small world of organisations and accounts for the access tests."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from mamori.access import service
from mamori.access.principal import Principal
from mamori.access.principals import find_user, principal_of

PASSWORD = "correct horse battery"


@dataclass
class World:
    session: Session
    root: Principal
    cao: int
    electric: int
    railway: int

    def add_user(
        self, username: str, *roles: str, org: int | None = None, password: str = PASSWORD
    ) -> Principal:
        service.create_user(
            session=self.session, principal=self.root, username=username,
            display_name=username.title(), roles=list(roles),
            organisation_id=org or self.cao, password=password,
        )
        return self.principal(username)

    def principal(
        self, username: str, *, mfa: bool = False, purpose: str | None = None
    ) -> Principal:
        user = find_user(self.session, username)
        assert user is not None
        return principal_of(self.session, user, mfa=mfa, via="web", purpose=purpose)
