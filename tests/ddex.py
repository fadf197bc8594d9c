"""The official DDEX ERN 4.3.2 schema, read from where the project keeps it (never copied into the repository).

DDEX's licence lets us use the XSDs but not redistribute them, so they live in
``../shared/ddex/xsd`` beside the repository (``DDEX_XSD_DIR`` overrides). Tests
that need them call :func:`ern_schema`, which skips, saying why, where they are absent.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
XSD_DIR = Path(os.environ.get("DDEX_XSD_DIR") or ROOT.parent / "shared" / "ddex" / "xsd")
ERN_432 = XSD_DIR / "ernv432" / "release-notification.xsd"
ALLOWED_VALUES = XSD_DIR / "allowed-value-sets.xsd"


def _require() -> None:
    if not ERN_432.is_file():
        pytest.skip(f"the DDEX ERN 4.3.2 XSD is not at {ERN_432} (set DDEX_XSD_DIR)")


@functools.cache
def _schema() -> Any:
    from lxml import etree

    return etree.XMLSchema(etree.parse(str(ERN_432)))


def ern_schema() -> Any:
    """The compiled ERN 4.3.2 ``lxml.etree.XMLSchema`` (it imports the allowed-value sets)."""
    _require()
    return _schema()


def schema_errors(xml: bytes) -> list[str]:
    """Every violation of ERN 4.3.2 in ``xml`` as ``line N: message``; empty when it is valid."""
    from lxml import etree

    schema = ern_schema()
    doc = etree.fromstring(xml, etree.XMLParser(resolve_entities=False, no_network=True))
    if schema.validate(doc):
        return []
    return [f"line {e.line}: {e.message}" for e in schema.error_log]


@functools.cache
def allowed_values(simple_type: str) -> frozenset[str]:
    """The enumeration of one ``xs:simpleType`` of the allowed-value sets (e.g. ``ContributorRole``)."""
    _require()
    from lxml import etree

    xs = "{http://www.w3.org/2001/XMLSchema}"
    tree = etree.parse(str(ALLOWED_VALUES))
    (node,) = tree.getroot().iterfind(f"{xs}simpleType[@name='{simple_type}']")
    return frozenset(e.get("value") for e in node.iter(f"{xs}enumeration"))
