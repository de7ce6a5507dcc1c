"""The sealed zone's import rule, checked on the source (AST) of every module.

Inside the zone only ``mamori.config``, ``mamori.errors``, ``mamori.db``, ``mamori.audit``
and the read-only gate ``mamori.governance.gate`` may be imported from the rest of
the platform. The boundary modules (the CLI, the web views, the export, the service
layer, the retention registration and the demo step) may also reach the access and
governance services to authorize and register — and the zone never imports them.
"""

from __future__ import annotations

import ast
from pathlib import Path

import mamori.selection

PACKAGE = Path(mamori.selection.__file__).parent
ZONE_ALLOWED = ("mamori.config", "mamori.errors", "mamori.db", "mamori.audit",
                "mamori.governance.gate", "mamori.selection")
BOUNDARY = ("cli", "views", "export", "service", "retention", "demo")
BOUNDARY_ALLOWED = (*ZONE_ALLOWED, "mamori.access.service", "mamori.access.principal",
                    "mamori.governance.service", "mamori.governance.constants",
                    "mamori.governance.demo",
                    "mamori.cli", "mamori.web")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path) -> list[tuple[int, str]]:
    """Absolute names of every import in a module (relative ones resolved)."""
    module = _module_name(path)
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                name = ".".join([*base, node.module] if node.module else base)
            else:
                name = node.module or ""
            found += [(node.lineno, f"{name}.{alias.name}") for alias in node.names]
    return found


def _is_boundary(path: Path) -> bool:
    rel = path.relative_to(PACKAGE)
    return rel.parts[0].removesuffix(".py") in BOUNDARY


def _allowed(name: str, allowed: tuple[str, ...]) -> bool:
    if not name.startswith("mamori"):
        return True  # the standard library and third-party packages
    return any(name == a or name.startswith(a + ".") for a in allowed)


def test_the_zone_imports_only_what_the_architecture_allows() -> None:
    violations = []
    for path in sorted(PACKAGE.rglob("*.py")):
        allowed = BOUNDARY_ALLOWED if _is_boundary(path) else ZONE_ALLOWED
        for line, name in _imports(path):
            if not _allowed(name, allowed):
                violations.append(f"{path.relative_to(PACKAGE)}:{line} imports {name}")
    assert violations == []


def test_the_zone_does_not_import_its_boundary() -> None:
    boundary = {f"mamori.selection.{b}" for b in BOUNDARY}
    violations = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if _is_boundary(path):
            continue
        for line, name in _imports(path):
            if any(name == b or name.startswith(b + ".") for b in boundary):
                violations.append(f"{path.relative_to(PACKAGE)}:{line} imports {name}")
    assert violations == []


def test_the_checker_sees_a_violation(tmp_path: Path) -> None:
    """The scan is not vacuous: an import of another domain's tables is caught."""
    fake = PACKAGE / "_import_rule_probe.py"
    try:
        fake.write_text("from mamori.registry import models\nfrom .core import select_batch\n")
        names = [n for _, n in _imports(fake)]
        assert "mamori.registry.models" in names
        assert "mamori.selection.core.select_batch" in names
        assert not _allowed("mamori.registry.models", ZONE_ALLOWED)
        assert not _allowed("mamori.access.service", ZONE_ALLOWED)
        assert _allowed("mamori.access.service", BOUNDARY_ALLOWED)
    finally:
        fake.unlink()
