"""Small SVG badges a label or a journalist can embed: what a release or a recording declares.

Built with ElementTree, so any text (a release title in the tooltip) is
escaped, and serialized by ``registry.public.xml_output``, so a code point
XML 1.0 forbids becomes U+FFFD instead of an ill-formed SVG. Accessible: ``role="img"``, an ``aria-label`` and a ``<title>``.
The words carry the meaning; colour only repeats it.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from provenance import vocabulary
from registry.public import xml_output

SVG_NS = "http://www.w3.org/2000/svg"

# (visible words, background colour); colours pass WCAG AA with white text.
# "No AI (declared)" and "No declaration" must never be confused: they differ in their first
# word and in length, not by one letter ("none declared" / "not declared" did).
STATES = {
    vocabulary.NONE: ("No AI (declared)", "#1e6b34"),
    vocabulary.PARTLY: ("Partly AI", "#8a5a00"),
    vocabulary.ALL: ("Entirely AI", "#9b1c1c"),
    "not_declared": ("No declaration", "#555555"),
    "withdrawn": ("Withdrawn", "#444444"),
}
LEFT_TEXT = "AI disclosure"
LEFT_COLOUR = "#2b2b2b"


def _text_width(text: str) -> int:
    # Verdana 11px averages ~7px a character; narrow letters pull it down a little.
    narrow = sum(1 for c in text if c in "iljt.,:; ")
    return int(7 * (len(text) - narrow) + 4 * narrow) + 12


def badge_state(level: str | None, status: str | None) -> str:
    if level is None:
        return "not_declared"
    if status == vocabulary.STATUS_WITHDRAWN:
        return "withdrawn"
    return level


def badge_label(state: str) -> str:
    """Full wording, as read by a screen reader."""
    if state == "withdrawn":
        return "AI disclosure: declaration withdrawn"
    if state == "not_declared":
        return "AI disclosure: no declaration in the registry"
    return f"AI disclosure: {STATES[state][0]}"


def render_badge(state: str, subject: str | None = None) -> bytes:
    words, colour = STATES[state]
    label = badge_label(state)
    title = f"{subject}: {label}" if subject else label
    left_w = _text_width(LEFT_TEXT)
    right_w = _text_width(words)
    width = left_w + right_w
    ET.register_namespace("", SVG_NS)
    svg = ET.Element(
        f"{{{SVG_NS}}}svg",
        {
            "width": str(width),
            "height": "20",
            "viewBox": f"0 0 {width} 20",
            "role": "img",
            "aria-label": label,
        },
    )
    ET.SubElement(svg, f"{{{SVG_NS}}}title").text = title
    ET.SubElement(svg, f"{{{SVG_NS}}}rect", {"width": str(left_w), "height": "20", "rx": "3", "fill": LEFT_COLOUR})
    ET.SubElement(
        svg,
        f"{{{SVG_NS}}}rect",
        {"x": str(left_w), "width": str(right_w), "height": "20", "rx": "3", "fill": colour},
    )
    # Square off the join between the two halves.
    ET.SubElement(svg, f"{{{SVG_NS}}}rect", {"x": str(left_w), "width": "4", "height": "20", "fill": colour})
    group = ET.SubElement(
        svg,
        f"{{{SVG_NS}}}g",
        {
            "fill": "#ffffff",
            "text-anchor": "middle",
            "font-family": "Verdana,DejaVu Sans,sans-serif",
            "font-size": "11",
            "aria-hidden": "true",
        },
    )
    ET.SubElement(group, f"{{{SVG_NS}}}text", {"x": str(left_w // 2), "y": "14"}).text = LEFT_TEXT
    ET.SubElement(group, f"{{{SVG_NS}}}text", {"x": str(left_w + right_w // 2), "y": "14"}).text = words
    return xml_output.tostring(svg, xml_declaration=False)
