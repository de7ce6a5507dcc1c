"""The printable report as PDF, printed by headless Chromium from the HTML page.

Chromium lays out Japanese and English text with the system's fonts (Debian packages
``chromium`` and ``fonts-ipafont-gothic``) and is the browser the test suite already
needs. The page goes through a private temporary folder that is removed at once; for
that reason an output holding communications-derived content is never printed.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from mamori.errors import Conflict
from mamori.products.output import TierOutput
from mamori.products.vocabulary import COMMS

BROWSERS = ("chromium", "chromium-browser", "google-chrome")
TIMEOUT_SECONDS = 120


def browser() -> str | None:
    return next((path for name in BROWSERS if (path := shutil.which(name))), None)


def render(output: TierOutput, page: str) -> bytes:
    if any(COMMS in origin.labels and not (origin.provision_derived or origin.independent)
           for origin in output.origins.values()):
        raise Conflict("an output holding communications-derived content is not printed "
                       "to PDF; use the STIX or HTML form inside the platform", field="format")
    program = browser()
    if program is None:
        raise Conflict("PDF needs Chromium (Debian package chromium); it is not installed",
                       field="format")
    with tempfile.TemporaryDirectory(prefix="mamori-pdf-") as folder:
        work = Path(folder)
        source, target = work / "report.html", work / "report.pdf"
        source.write_text(page, encoding="utf-8")
        command = [program, "--headless=new", "--no-sandbox", "--disable-gpu",
                   "--no-first-run", "--disable-extensions", "--incognito",
                   f"--user-data-dir={work / 'profile'}", "--no-pdf-header-footer",
                   f"--print-to-pdf={target}", source.as_uri()]
        try:
            subprocess.run(command, check=False, capture_output=True,  # noqa: S603
                           timeout=TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            raise Conflict("printing the PDF took too long", field="format") from None
        if not target.is_file() or not target.read_bytes().startswith(b"%PDF-"):
            raise Conflict("Chromium did not print the PDF", field="format")
        return target.read_bytes()
