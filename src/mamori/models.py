"""Imports every domain's tables so that the metadata (and Alembic) sees them all."""

from mamori.access import models as access_models  # noqa: F401
from mamori.audit import models as audit_models  # noqa: F401
from mamori.dissemination import models as dissemination_models  # noqa: F401
from mamori.governance import models as governance_models  # noqa: F401
from mamori.intel import models as intel_models  # noqa: F401
from mamori.products import models as products_models  # noqa: F401
from mamori.registry import models as registry_models  # noqa: F401
from mamori.reporting import models as reporting_models  # noqa: F401
from mamori.selection import models as selection_models  # noqa: F401
from mamori.vulns import models as vulns_models  # noqa: F401
