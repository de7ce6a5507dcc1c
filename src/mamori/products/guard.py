"""How the products domain asks the one choke point and writes the audit log.

Resources: ``product`` (a product: its id and the handling labels of what it holds, so
that a product holding COMMS content is behind the communications gate),
``product.criteria`` (the criteria for releasable selected information) and
``product.determination`` (a determination, labelled COMMS: it is made on selected
communications information).
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import partial

from mamori.access import service as access
from mamori.access.principal import Resource
from mamori.audit import service as audit_service
from mamori.products.vocabulary import COMMS

LEGAL_BASIS = "Act No. 42 of 2025, Arts 27-29, 38-45"


def product(product_id: str = "", labels: Iterable[str] = ()) -> Resource:
    return Resource(type="product", id=product_id, labels=frozenset(labels))


def criteria() -> Resource:
    return Resource(type="product.criteria")


def determination(stix_id: str = "") -> Resource:
    return Resource(type="product.determination", id=stix_id, labels=frozenset({COMMS}))


# The one authorization choke point, re-exported so this domain's callers import one module.
authorize = access.authorize
permitted = access.permitted


# One audit entry in the caller's transaction, by the principal (ids, counts, codes only).
audit = partial(audit_service.record_by, legal_basis=LEGAL_BASIS)
