"""Who the CLI acts as: ``--as USER`` plus that user's API token in ``MAMORI_TOKEN``.

The CLI goes through the same ``authorize()`` as the web. In demo mode
(``MAMORI_DEMO=1``, set by ``mamori demo``) the token may be omitted.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from mamori.access.principal import Principal
from mamori.config import get_settings
from mamori.errors import Unauthenticated


@dataclass
class CliState:
    acting_as: str | None = None
    purpose: str | None = None
    json_output: bool = False


state = CliState()


def current_principal(session: Session) -> Principal:
    """The principal for this invocation; a clear error when it cannot be established."""
    from mamori.access import service as access_service

    settings = get_settings()
    username = state.acting_as
    if not username:
        raise Unauthenticated("this command acts as a user: pass --as USER (and MAMORI_TOKEN)")
    token = settings.token
    if token:
        principal = access_service.principal_for_token(
            session=session, username=username, token=token, via="cli"
        )
    elif settings.demo:
        principal = access_service.principal_for_user(session=session, username=username, via="cli")
    else:
        raise Unauthenticated("MAMORI_TOKEN is not set: create one with `mamori user token`")
    if state.purpose:
        # Declared like a web session's purpose: validated against the purposes list
        # and audited, so a CLI purpose is never merely asserted.
        principal = access_service.declare_purpose(
            session=session, login_token=None, principal=principal, purpose=state.purpose
        )
    return principal
