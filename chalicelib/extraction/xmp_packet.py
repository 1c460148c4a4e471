"""XMP packets as writers really store them: other encodings, junk after the end, cut short.

The XMP specification allows UTF-16 and UTF-32 packets (with or without a byte
order mark); editors leave bytes after `<?xpacket end?>`; some writers cut the
trailer off. ExifTool reads all of these, and the title, keywords and dates
in them are what users search by. Everything here only rearranges the
packet's own text into UTF-8 XML: the hardened parse in xmp.py still decides
what the XML may contain (no DTDs, no entities).
"""

from __future__ import annotations

import re

_BOMS = (
    (b"\x00\x00\xfe\xff", "utf-32-be"),
    (b"\xff\xfe\x00\x00", "utf-32-le"),
    (b"\xfe\xff", "utf-16-be"),
    (b"\xff\xfe", "utf-16-le"),
    (b"\xef\xbb\xbf", "utf-8"),
)
_DECLARATION = re.compile(r"^\s*<\?xml\b[^>]*\?>")
_ROOT_END = (b"</x:xmpmeta>", b"</x:xapmeta>", b"</rdf:RDF>")
_WRAPPERS = ((b"<x:xmpmeta", b"</x:xmpmeta>"), (b"<x:xapmeta", b"</x:xapmeta>"))


def as_utf8(packet: bytes) -> bytes:
    """The packet in UTF-8: UTF-16 and UTF-32 are recognised by their byte order mark or by
    the NUL bytes around the first "<"; their XML declaration (which names the old
    encoding) is dropped. UTF-8 and single-byte packets are returned as they are."""
    codec = next((name for bom, name in _BOMS if packet.startswith(bom)), None)
    if codec is None:
        codec = _guess_wide(packet[:256])
        if codec is None:
            return packet
    text = packet.decode(codec, "replace").lstrip("\ufeff")
    return _DECLARATION.sub("", text, count=1).encode("utf-8")


def _guess_wide(head: bytes) -> str | None:
    at = head.find(b"<")
    if at < 0 or b"\x00" not in head:
        return None
    if head[at + 1 : at + 4] == b"\x00\x00\x00" and at % 4 == 0:
        return "utf-32-le"
    if at >= 3 and head[at - 3 : at] == b"\x00\x00\x00" and at % 4 == 3:
        return "utf-32-be"
    if head[at + 1 : at + 2] == b"\x00" and at % 2 == 0:
        return "utf-16-le"
    if at >= 1 and head[at - 1 : at] == b"\x00" and at % 2 == 1:
        return "utf-16-be"
    return None


def without_trailer(packet: bytes) -> bytes:
    """The packet up to the end of its root element: whatever follows (the closing
    `<?xpacket end?>`, padding, an editor's junk) is not needed."""
    for end in _ROOT_END:
        at = packet.rfind(end)
        if at >= 0:
            return packet[: at + len(end)]
    return packet


def salvage(packet: bytes) -> bytes | None:
    """A packet cut short, closed after its last complete description; None when there is
    none to keep."""
    at = packet.rfind(b"</rdf:Description>")
    if at < 0 or b"<rdf:RDF" not in packet:
        return None
    kept = packet[: at + len(b"</rdf:Description>")] + b"</rdf:RDF>"
    for start, end in _WRAPPERS:
        if start in kept:
            kept += end
    return kept
