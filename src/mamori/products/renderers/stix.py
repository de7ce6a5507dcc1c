"""The STIX 2.1 bundle, as the lint read it."""

from __future__ import annotations

from mamori.products.labels import serialise
from mamori.products.output import TierOutput


def render(output: TierOutput) -> str:
    return serialise(output) + "\n"
