"""A test domain "probe" added to the real policies, so that tests of the cross-domain
rules depend on no other domain's permits."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from mamori.access import policy


def extended_bundle() -> policy.PolicyBundle:
    """The real policies plus a test domain "probe", so that these tests depend on no
    other domain's permits: operators, communications handlers and the platform may
    probe.read anything; probe.purge is in the "system.comms_maintenance" group."""
    with tempfile.TemporaryDirectory() as name:
        directory = Path(name)
        for path in policy.POLICY_DIR.iterdir():
            if path.suffix in (".cedar", ".cedarschema"):
                shutil.copy(path, directory / path.name)
        (directory / "probe.cedarschema").write_text(
            'action "probe.read" appliesTo { principal: User, resource: Resource };\n'
            'action "probe.purge" in ["system.comms_maintenance"]\n'
            "  appliesTo { principal: User, resource: Resource };\n",
            encoding="utf-8",
        )
        (directory / "probe.cedar").write_text(
            '@id("probe.permit")\n'
            'permit (principal, action in [Action::"probe.read", Action::"probe.purge"], '
            "resource)\n"
            'when { principal in [Role::"system", Role::"operator", Role::"comms_handler"] };\n',
            encoding="utf-8",
        )
        return policy.load_bundle(directory)
