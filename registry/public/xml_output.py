"""An ElementTree as bytes that are always well-formed XML 1.0, whatever text the tree holds.

ElementTree escapes ``<``, ``&`` and quotes but writes every other code point
as it is, so a title holding U+FFFF or a control character made the ERN
export and the badges ill-formed (and a lone surrogate made them a 500).
Input refuses those characters (``provenance.text.refusal``), but rows stored
before that rule, or written behind the services' back, still reach the
exporters; every text, tail and attribute value goes through
``provenance.text.xml_safe`` on the way out.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from provenance.text import xml_safe


def tostring(root: ET.Element, *, xml_declaration: bool) -> bytes:
    for el in root.iter():
        if el.text:
            el.text = xml_safe(el.text)
        if el.tail:
            el.tail = xml_safe(el.tail)
        el.attrib.update({name: xml_safe(value) for name, value in el.attrib.items()})
    return ET.tostring(root, encoding="utf-8", xml_declaration=xml_declaration)
