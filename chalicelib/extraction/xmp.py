"""XMP packets (RDF/XML) flattened to `{"prefix:Name": value}`.

Parsed with defusedxml (no DTDs, no entities: no billion laughs, no external
reads). Simple properties become strings, Bag/Seq lists of strings, Alt its
`x-default` entry; structures are skipped. Prefixes are the conventional ones
for well-known namespaces (whatever the packet calls them), else the packet's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from xml.etree import ElementTree

from defusedxml.ElementTree import fromstring as defused_fromstring

from chalicelib.extraction.bounded import MAX_LIST_ITEMS, SizedDict, clean_text
from chalicelib.extraction.xmp_packet import as_utf8, salvage, without_trailer

MAX_XMP_BYTES = 2 * 1024 * 1024  # a packet larger than this is ignored
MAX_PROPERTIES = 200
MAX_PROPERTIES_BYTES = 24 * 1024
MAX_ITEM_CHARS = 200  # one list item (a keyword, a creator)

_XMLNS = re.compile(rb'xmlns:([A-Za-z_][\w.-]*)\s*=\s*["\']([^"\']*)["\']')
_FOREIGN_ENCODING = re.compile(rb"encoding\s*=\s*[\"'](?![Uu][Tt][Ff]-?8[\"'])")
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"

PREFIXES = {
    "http://purl.org/dc/elements/1.1/": "dc",
    "http://ns.adobe.com/xap/1.0/": "xmp",
    "http://ns.adobe.com/xap/1.0/rights/": "xmpRights",
    "http://ns.adobe.com/xap/1.0/mm/": "xmpMM",
    "http://ns.adobe.com/photoshop/1.0/": "photoshop",
    "http://ns.adobe.com/tiff/1.0/": "tiff",
    "http://ns.adobe.com/exif/1.0/": "exif",
    "http://ns.adobe.com/exif/1.0/aux/": "aux",
    "http://cipa.jp/exif/1.0/": "exifEX",
    "http://iptc.org/std/Iptc4xmpCore/1.0/xmlns/": "Iptc4xmpCore",
    "http://iptc.org/std/Iptc4xmpExt/2008-02-29/": "Iptc4xmpExt",
    "http://ns.adobe.com/lightroom/1.0/": "lr",
    "http://ns.microsoft.com/photo/1.0/": "MicrosoftPhoto",
    "http://ns.google.com/photos/1.0/panorama/": "GPano",
    "http://ns.useplus.org/ldf/xmp/1.0/": "plus",
    "http://ns.adobe.com/pdf/1.3/": "pdf",
}
# Develop settings and edit histories: large, and not about the picture.
SKIPPED_NAMESPACES = {"http://ns.adobe.com/camera-raw-settings/1.0/"}
SKIPPED_PROPERTIES = {"photoshop:DocumentAncestors"}


@dataclass
class XmpData:
    properties: dict[str, Any]
    warnings: list[str] = field(default_factory=list)


def parse_xmp(packet: bytes) -> XmpData:
    """Properties of an XMP packet; raises ValueError when it is not well-formed XML."""
    if len(packet) > MAX_XMP_BYTES:
        return XmpData({}, [f"XMP packet of {len(packet)} bytes ignored (too large)"])
    # Writers pad packets with NULs or whitespace; XML allows neither outside the root.
    packet = as_utf8(packet).strip(b"\x00 \t\r\n")
    start = packet.find(b"<")
    if start < 0:
        raise ValueError("no XML in the XMP packet")
    packet = without_trailer(packet[start:])
    prefixes = {
        uri.decode("utf-8", "replace"): prefix.decode() for prefix, uri in _XMLNS.findall(packet)
    }
    warnings = []
    try:
        root = _parse(packet)
    except ElementTree.ParseError:
        repaired = salvage(packet)
        if repaired is None:
            raise
        root = _parse(repaired)
        warnings.append("XMP packet is cut short: read up to its last complete description")
    properties = SizedDict(MAX_PROPERTIES_BYTES, MAX_PROPERTIES)
    rdf = root if root.tag == f"{{{RDF}}}RDF" else root.find(f"{{{RDF}}}RDF")
    for description in rdf.iterfind(f"{{{RDF}}}Description") if rdf is not None else ():
        for name, value in description.attrib.items():
            key = _qualified(name, prefixes)
            if key:
                properties.add(key, clean_text(value))
        for element in description:
            key = _qualified(element.tag, prefixes)
            if key:
                properties.add(key, _value(element))
    if properties.dropped:
        warnings.append(f"{properties.dropped} XMP properties dropped (size limit)")
    return XmpData(properties.items, warnings)


def _parse(packet: bytes) -> Any:
    """The element tree, through defusedxml unless the packet cannot hold a DTD.

    Entity attacks need a DOCTYPE, which needs "<!". In a packet without NUL
    bytes (so not UTF-16/32) and without a foreign encoding declaration, the
    bytes "<!" are the only way to write it; such packets (all real XMP) take
    the C parser, four times faster than defusedxml's Python-level one.
    """
    if b"<!" in packet or b"\x00" in packet or _FOREIGN_ENCODING.search(packet[:256]):
        return defused_fromstring(packet, forbid_dtd=True)
    return ElementTree.fromstring(packet)


def _qualified(tag: str, prefixes: dict[str, str]) -> str | None:
    if not tag.startswith("{"):
        return None
    uri, _, local = tag[1:].partition("}")
    if uri in (RDF, "http://www.w3.org/XML/1998/namespace") or uri in SKIPPED_NAMESPACES:
        return None
    prefix = PREFIXES.get(uri) or prefixes.get(uri) or "ns"
    key = f"{prefix}:{local}"
    return None if key in SKIPPED_PROPERTIES else key


def _value(element: Any) -> str | list[str] | None:
    resource = element.get(f"{{{RDF}}}resource")
    if resource is not None:
        return clean_text(resource)
    children = list(element)
    if not children:
        return clean_text(element.text)
    container = children[0]
    if len(children) != 1 or container.tag not in (
        f"{{{RDF}}}Alt",
        f"{{{RDF}}}Bag",
        f"{{{RDF}}}Seq",
    ):
        return None  # a structure
    items = [li for li in container if li.tag == f"{{{RDF}}}li" and not len(li)]
    if container.tag == f"{{{RDF}}}Alt":
        default = next((li for li in items if li.get(XML_LANG) == "x-default"), None)
        chosen = default if default is not None else (items[0] if items else None)
        return clean_text(chosen.text) if chosen is not None else None
    values = [clean_text(li.text, MAX_ITEM_CHARS) for li in items[:MAX_LIST_ITEMS]]
    return [v for v in values if v] or None
