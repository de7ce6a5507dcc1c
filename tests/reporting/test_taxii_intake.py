"""A TAXII 2.1 client (taxii2-client) pushes precursor information to the intake."""

from __future__ import annotations

import pytest
from requests import HTTPError
from taxii2client.v21 import ApiRoot, Collection

from mamori.reporting import service
from mamori.reporting.taxii_intake import COLLECTION_ID, ROOT

INDICATOR = {
    "type": "indicator", "spec_version": "2.1",
    "id": "indicator--1f1b1d3e-6b1e-4a8e-9f67-3f2b6a1c0d11",
    "created": "2026-11-21T00:00:00.000Z", "modified": "2026-11-21T00:00:00.000Z",
    "pattern": "[domain-name:value = 'c2.example.org'] AND "
               "[network-traffic:dst_port = 8443]",
    "pattern_type": "stix", "valid_from": "2026-11-21T00:00:00Z",
}


def test_taxii_client_adds_objects(live_server, web_world) -> None:
    user = web_world.world["sakura"].username
    token = web_world.tokens["sakura"]
    root = ApiRoot(f"{live_server}{ROOT}/", user=user, password=token)
    assert [c.id for c in root.collections] == [COLLECTION_ID]
    collection = Collection(f"{live_server}{ROOT}/collections/{COLLECTION_ID}/",
                            user=user, password=token)
    assert collection.can_write and not collection.can_read
    status = collection.add_objects({"objects": [INDICATOR]})
    assert status.status == "complete"
    assert (status.success_count, status.failure_count) == (1, 0)
    from mamori.db import session_scope

    with session_scope() as session:
        stored = service.list_precursors(session=session,
                                         principal=web_world.world["analyst"])
    assert [p["id"] for p in stored] == [INDICATOR["id"]]
    bad = dict(INDICATOR, id="indicator--2f1b1d3e-6b1e-4a8e-9f67-3f2b6a1c0d12",
               pattern="[email-message:subject = 'invoice']")
    with pytest.raises(HTTPError, match="422"):
        collection.add_objects({"objects": [bad]})
    stranger = Collection(f"{live_server}{ROOT}/collections/{COLLECTION_ID}/",
                          user=user, password="mamori_bad")
    with pytest.raises(HTTPError, match="401"):
        stranger.add_objects({"objects": [INDICATOR]})
