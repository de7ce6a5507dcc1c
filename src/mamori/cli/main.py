"""Entry point of the ``mamori`` command: global options and the domain sub-commands.

Each domain owns a ``cli.py`` with a Typer ``app``; this module only mounts them.
"""

from __future__ import annotations

import importlib
import os
import sys

import typer
from rich.console import Console

from mamori.cli.context import state
from mamori.errors import MamoriError

app = typer.Typer(
    name="mamori",
    help="mamori — Active Cyber Defense information platform.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
err = Console(stderr=True)

# (command name, module with a Typer ``app``); order is the order of ``--help``.
SUBCOMMANDS: list[tuple[str, str]] = [
    ("user", "mamori.access.cli"),
    ("audit", "mamori.audit.cli"),
    ("agreement", "mamori.governance.cli.agreement"),
    ("consent", "mamori.governance.cli.consent"),
    ("measure", "mamori.governance.cli.measure"),
    ("cooperation", "mamori.governance.cli.cooperation"),
    ("retention", "mamori.governance.cli.retention"),
    ("oversight", "mamori.governance.cli.oversight"),
    ("operator", "mamori.registry.operator_cli"),
    ("registry", "mamori.registry.cli"),
    ("report", "mamori.reporting.cli"),
    ("vulns", "mamori.vulns.cli"),
    ("intel", "mamori.intel.cli"),
    ("product", "mamori.products.cli"),
    ("recipient", "mamori.dissemination.cli.recipient"),
    ("provision", "mamori.dissemination.cli.provision"),
    ("select", "mamori.selection.cli.select"),
    ("selectors", "mamori.selection.cli.selectors"),
]
# Plain commands a module registers on the root app itself (``register(app)``).
ROOT_COMMANDS: list[str] = [
    "mamori.cli.basic",
]


@app.callback()
def _global(
    acting_as: str | None = typer.Option(
        None, "--as", help="Act as this user (its API token goes in MAMORI_TOKEN)."
    ),
    purpose: str | None = typer.Option(
        None, "--purpose", help="Purpose of use declared for this invocation."
    ),
) -> None:
    state.acting_as = acting_as or os.environ.get("MAMORI_AS")
    state.purpose = purpose


def _mount() -> None:
    for name, module_name in SUBCOMMANDS:
        module = importlib.import_module(module_name)
        app.add_typer(module.app, name=name)
    for module_name in ROOT_COMMANDS:
        importlib.import_module(module_name).register(app)


_mount()


def main() -> None:
    """Run the CLI; user-caused errors print one line and exit 2.

    Standalone mode lets click answer usage errors (exit 2) and keep ``typer.Exit``
    codes; our own errors propagate out of it and are answered here.
    """
    try:
        app()
    except MamoriError as exc:
        err.print(f"error: {exc.detail}", markup=False, highlight=False, soft_wrap=True)
        sys.exit(2)


if __name__ == "__main__":
    main()
