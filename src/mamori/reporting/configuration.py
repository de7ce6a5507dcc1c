"""Where reporting's rule files come from: the packaged defaults or an operator's copy.

The Act leaves deadlines, report scope and the forms of other laws to later orders
(R-4.2-12, R-4.2-23, R-4.2-25), so they live in TOML files, not code. A file of the
same name under ``$MAMORI_HOME/reporting/`` replaces the packaged one.
"""

from __future__ import annotations

import hashlib
import tomllib
from pathlib import Path
from typing import Any

from mamori.config import get_settings
from mamori.errors import InvalidInput

PACKAGED = Path(__file__).parent / "config"


def config_path(name: str) -> Path:
    """The file in force for ``name`` (e.g. ``workflows.toml``, ``mappings/generic.toml``)."""
    override = get_settings().home / "reporting" / name
    return override if override.is_file() else PACKAGED / name


def read_toml(path: Path) -> tuple[dict[str, Any], str]:
    """The parsed file and its SHA-256 (recorded with each decision that used it)."""
    raw = path.read_bytes()
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise InvalidInput(f"{path.name} is not valid TOML: {exc}", file=path.name) from None
    return data, hashlib.sha256(raw).hexdigest()
