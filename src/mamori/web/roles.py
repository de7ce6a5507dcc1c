"""What each role may do, in plain words, for the home page (translated in templates)."""

from __future__ import annotations

from dataclasses import dataclass

from mamori.access.principal import ROLES
from mamori.web.i18n import N_


@dataclass(frozen=True)
class RoleGuide:
    role: str
    summary: str
    may: tuple[str, ...]
    may_not: tuple[str, ...]


GUIDES: dict[str, RoleGuide] = {
    guide.role: guide
    for guide in (
        RoleGuide(
            role="analyst",
            summary=N_("You organise and analyse the information collected from every channel."),
            may=(
                N_("Correlate reports, notifications, council sharing and feeds."),
                N_("Draft analysis products for each of the three tiers."),
                N_("Prepare provision to recipients, within their entitlements."),
            ),
            may_not=(
                N_(
                    "See communications-derived data unless you are also a designated handler "
                    "with a declared purpose."
                ),
            ),
        ),
        RoleGuide(
            role="comms_handler",
            summary=N_(
                "You handle selected communications information, only for the purpose "
                "the law allows."
            ),
            may=(
                N_(
                    "Work with selected communications information after declaring a purpose "
                    "of use."
                ),
                N_("Turn it into information that can be provided, with the sanitiser."),
            ),
            may_not=(
                N_("Browse or search communications information freely."),
                N_("Use it for criminal investigation or any purpose you did not declare."),
            ),
        ),
        RoleGuide(
            role="operator",
            summary=N_(
                "You report for your organisation under the law and receive what helps you."
            ),
            may=(
                N_("Notify specified critical computers and keep the notification current."),
                N_("Report incidents: preliminary, updates and final report."),
                N_("Read the products and alerts your organisation is entitled to."),
            ),
            may_not=(N_("See other organisations' reports or notifications."),),
        ),
        RoleGuide(
            role="council_member",
            summary=N_(
                "You share threat information with the other members of your council groups."
            ),
            may=(
                N_("Share and read information inside your groups."),
                N_("Answer requests for materials."),
            ),
            may_not=(N_("Pass council information outside the consent given for it."),),
        ),
        RoleGuide(
            role="supplier",
            summary=N_("You receive vulnerability information and requests about your products."),
            may=(
                N_("Read vulnerability information about your products."),
                N_("Answer requests and coordinate fixes and advisories."),
            ),
            may_not=(N_("See information about other suppliers' products."),),
        ),
        RoleGuide(
            role="committee_inspector",
            summary=N_("You check that communications information is handled as the law requires."),
            may=(
                N_("Review approval requests for transmission measures."),
                N_("Inspect handling records and verify the tamper-evident audit log."),
            ),
            may_not=(N_("Change operational data: inspection is read-only."),),
        ),
        RoleGuide(
            role="ministry_liaison",
            summary=N_("You follow the operators your ministry supervises."),
            may=(
                N_("See notifications and reports of operators under your ministry."),
                N_("Receive information provided to administrative bodies."),
            ),
            may_not=(N_("See communications-derived data."),),
        ),
        RoleGuide(
            role="admin",
            summary=N_("You manage accounts, roles, designated handlers and settings."),
            may=(
                N_("Create users, grant roles and keep the roster of designated handlers."),
                N_("Set retention and other configuration."),
            ),
            may_not=(N_("See communications information: administration gives no access to it."),),
        ),
        RoleGuide(
            role="recipient",
            summary=N_("You receive the information the law allows your organisation."),
            may=(
                N_(
                    "Read the products provided to your organisation, "
                    "in the portal and over TAXII."
                ),
                N_("Acknowledge and rate them, and say what you did."),
            ),
            may_not=(N_("See anything beyond your organisation's entitlement."),),
        ),
    )
}


def guides_for(roles: frozenset[str]) -> list[RoleGuide]:
    """The guides for ``roles``, in the canonical role order."""
    return [GUIDES[role] for role in ROLES if role in roles]
