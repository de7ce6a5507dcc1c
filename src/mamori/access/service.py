"""The access domain's public API: authorization, authentication, accounts, roster.

Other domains call these functions (keyword-only, ``session=`` first) and never touch
the access tables. ``authorize`` is the one choke point, deny by default.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from mamori.access.accounts import (
    create_user,
    designate_handler,
    enroll_totp,
    get_user,
    issue_api_token,
    list_roster,
    list_users,
    revoke_api_token,
    revoke_designation,
    set_language,
    unlock_sign_in,
)
from mamori.access.authentication import (
    SignInLocked,
    authenticate,
    declare_purpose,
    end_login,
    principal_for_api_token,
    principal_for_login,
    principal_for_token,
    principal_for_user,
    start_login,
)
from mamori.access.authorization import authorize, permitted
from mamori.access.demo import demo_totp_code
from mamori.access.models import Designation, Organisation, User
from mamori.access.organisations import (
    ORGANISATION_KINDS,
    create_organisation,
    get_organisation,
    list_organisations,
)
from mamori.access.principal import Principal, Resource
from mamori.access.principals import BOOTSTRAP, admin_exists
from mamori.errors import Forbidden


def bootstrap_principal(*, session: Session) -> Principal:
    """The platform acting on first start, before any administrator exists."""
    if admin_exists(session):
        raise Forbidden("an administrator exists: act as an administrator (--as USER)")
    return Principal.system(BOOTSTRAP.removeprefix("system:"))


def needs_bootstrap(*, session: Session) -> bool:
    """True until the first administrator account exists."""
    return not admin_exists(session)


__all__ = [
    "ORGANISATION_KINDS",
    "Designation",
    "Organisation",
    "Principal",
    "Resource",
    "SignInLocked",
    "User",
    "authenticate",
    "authorize",
    "bootstrap_principal",
    "create_organisation",
    "create_user",
    "declare_purpose",
    "demo_totp_code",
    "designate_handler",
    "end_login",
    "enroll_totp",
    "get_organisation",
    "get_user",
    "issue_api_token",
    "list_organisations",
    "list_roster",
    "list_users",
    "needs_bootstrap",
    "permitted",
    "principal_for_api_token",
    "principal_for_login",
    "principal_for_token",
    "principal_for_user",
    "revoke_api_token",
    "revoke_designation",
    "set_language",
    "start_login",
    "unlock_sign_in",
]
