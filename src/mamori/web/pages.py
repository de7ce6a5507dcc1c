"""The public landing page, the home page of each role and the purpose-of-use form."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from sqlalchemy.orm import Session
from starlette.responses import RedirectResponse, Response

from mamori.access.principal import Principal, Resource
from mamori.access.purposes import Purpose, declarable
from mamori.access.roles import ROLE_LABELS
from mamori.errors import Forbidden, InvalidInput
from mamori.web import nav
from mamori.web.deps import LoggedInPage, LoggedInPageRequest, Page
from mamori.web.i18n import N_
from mamori.web.roles import guides_for
from mamori.web.templating import render

router = APIRouter(include_in_schema=False)

PURPOSE_ACTION = "purpose.declare"
NO_PURPOSE_ROLE = N_("None of your roles declares a purpose of use.")
BROWSER_ONLY = N_(
    "A purpose of use is declared for a browser login; API clients pass it with each request."
)


def declarable_purposes(*, session: Session, principal: Principal) -> list[Purpose]:
    """The purposes of use this principal's roles may declare (the policy decides)."""
    from mamori.access import service as access

    return [
        purpose
        for purpose in declarable()
        if access.permitted(
            session=session, principal=principal, action=PURPOSE_ACTION,
            resource=Resource(type="purpose", id=purpose.code),
        )
    ]


def may_declare_purpose(*, session: Session, principal: Principal) -> bool:
    return bool(declarable_purposes(session=session, principal=principal))


nav.register(
    url="/purpose",
    label_ja="利用目的の宣言",
    label_en="Purpose of use",
    when=may_declare_purpose,
    description_ja="このログインで情報を扱う目的を宣言します。",
    description_en="Declare why you handle information during this login.",
    order=10,
)


@router.get("/")
def landing(request: Request, _current: Page) -> Response:
    """What the platform is and how the secrecy of communications is protected (public)."""
    return render(request, "web/landing.html")


def _purpose_context(current: LoggedInPageRequest, principal: Principal) -> dict[str, Any]:
    from mamori.access.purposes import PURPOSES

    language = current.language
    declared = PURPOSES.get(principal.purpose or "")
    options = declarable_purposes(session=current.session, principal=principal)
    return {
        "purposes": [(p.code, p.label(language)) for p in options],
        "current_purpose": declared.label(language) if declared else None,
        "current_purpose_code": principal.purpose,
    }


def _organisation_name(current: LoggedInPageRequest, code: str) -> str:
    """The organisation's name in the page's language (its code if the directory is closed)."""
    from mamori.access import service as access

    resource = Resource(type="organisation", id=code)
    if not access.permitted(
        session=current.session, principal=current.principal, action="organisation.list",
        resource=resource,
    ):
        return code
    organisation = access.get_organisation(
        session=current.session, principal=current.principal, code=code
    )
    return organisation.name(current.language)


def _identity(current: LoggedInPageRequest) -> dict[str, Any]:
    from mamori.access import service as access

    principal = current.principal
    user = access.get_user(
        session=current.session, principal=principal, username=principal.username
    )
    return {
        "display_name": user.display_name,
        "organisation": _organisation_name(current, user.organisation_code),
        "role_labels": [
            ROLE_LABELS[role][current.language] for role in sorted(principal.roles)
            if role in ROLE_LABELS
        ],
    }


@router.get("/home")
def home(request: Request, current: LoggedInPage) -> Response:
    """The principal's home: who they are, what their roles may do, their sections."""
    context: dict[str, Any] = {
        **_identity(current),
        "guides": [
            (ROLE_LABELS[guide.role][current.language], guide)
            for guide in guides_for(current.principal.roles)
        ],
    }
    context.update(_purpose_context(current, current.principal))
    context["can_declare_purpose"] = bool(context["purposes"])
    return render(request, "web/home.html", context)


@router.get("/purpose")
def purpose_form(request: Request, current: LoggedInPage) -> Response:
    context = _purpose_context(current, current.principal)
    if not context["purposes"]:
        raise Forbidden(NO_PURPOSE_ROLE)
    return render(request, "web/purpose.html", context)


@router.post("/purpose")
def declare_purpose(
    request: Request,
    current: LoggedInPage,
    purpose: Annotated[str, Form(min_length=1, max_length=64)],
) -> Response:
    """Declare the purpose of use for this login; htmx gets the refreshed panel back."""
    from mamori.access import service as access

    token = getattr(request.state, "login_token", None)
    if token is None:
        raise InvalidInput(BROWSER_ONLY, field="purpose")
    principal = access.declare_purpose(
        session=current.session, login_token=token, principal=current.principal, purpose=purpose
    )
    if request.headers.get("hx-request"):
        return render(request, "web/_purpose.html", _purpose_context(current, principal))
    return RedirectResponse("/home", status_code=303)
