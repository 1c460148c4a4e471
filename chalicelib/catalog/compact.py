"""A record's fields packed into one compressed binary attribute (`doc`).

DynamoDB bills a write per started kilobyte of the item, twice inside a
transaction, and a camera JPEG's record is 2-2.5 KB as a nested map (the raw
`exif` map alone is half of it): 6 write units for the record, 8 with its
counter. Packed as deflated JSON with a preset dictionary of the record's
usual names, the same record is well under 1 KB: 2 + 2 units. It also has a
dozen attribute values instead of a few hundred, which makes every read and
write cheaper to (de)serialize.

The bytes are one version byte, then raw deflate (zlib's preset-dictionary
format) of compact UTF-8 JSON. A stored version's dictionary must never
change: a new dictionary gets a new version and `unpack` keeps the old one.
"""

from __future__ import annotations

import json
import zlib
from typing import Any

VERSION = 1


def pack(fields: dict[str, Any]) -> bytes:
    """JSON-ready fields (see records.normalize) as compact bytes."""
    text = json.dumps(fields, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    packer = zlib.compressobj(9, zlib.DEFLATED, -15, zdict=_DICTIONARIES[VERSION])
    return bytes([VERSION]) + packer.compress(text.encode("utf-8")) + packer.flush()


def unpack(blob: bytes) -> dict[str, Any]:
    version, body = blob[0], blob[1:]
    unpacker = zlib.decompressobj(-15, zdict=_DICTIONARIES[version])
    return json.loads(unpacker.decompress(body) + unpacker.flush())


_EXIF_NAMES = str.split(
    "ImageDescription Make Model Orientation XResolution YResolution ResolutionUnit Software "
    "ModifyDate Artist YCbCrPositioning Copyright XPTitle XPComment XPAuthor XPKeywords "
    "ExposureTime FNumber ExposureProgram ISO SensitivityType RecommendedExposureIndex "
    "ExifVersion DateTimeOriginal CreateDate OffsetTime OffsetTimeOriginal OffsetTimeDigitized "
    "ComponentsConfiguration CompressedBitsPerPixel ShutterSpeedValue ApertureValue "
    "BrightnessValue ExposureCompensation MaxApertureValue SubjectDistance MeteringMode "
    "LightSource Flash FocalLength SubjectArea UserComment SubSecTime SubSecTimeOriginal "
    "SubSecTimeDigitized FlashpixVersion ColorSpace ExifImageWidth ExifImageHeight "
    "FocalPlaneXResolution FocalPlaneYResolution FocalPlaneResolutionUnit SensingMethod "
    "FileSource SceneType CustomRendered ExposureMode WhiteBalance DigitalZoomRatio "
    "FocalLengthIn35mmFormat SceneCaptureType GainControl Contrast Saturation Sharpness "
    "SubjectDistanceRange ImageUniqueID OwnerName SerialNumber LensInfo LensMake LensModel "
    "LensSerialNumber CompositeImage GPSVersionID GPSLatitudeRef GPSLatitude GPSLongitudeRef "
    "GPSLongitude GPSAltitudeRef GPSAltitude GPSTimeStamp GPSSatellites GPSStatus "
    "GPSMeasureMode GPSDOP GPSSpeedRef GPSSpeed GPSTrackRef GPSTrack GPSImgDirectionRef "
    "GPSImgDirection GPSMapDatum GPSDestBearingRef GPSDestBearing GPSProcessingMethod "
    "GPSDateStamp GPSDifferential GPSHPositioningError InteropIndex InteropVersion"
)

# Version 1: a record's usual names and values, as they appear in its JSON
# (zlib finds matches anywhere in the dictionary; likely ones go last).
_DICTIONARIES = {
    1: (
        "".join(f'"{name}":' for name in _EXIF_NAMES)
        + '"iptc":{"keywords":["'
        + '"caption":"'
        + '"byline":["'
        + '"headline":"","city":"","country":"","credit":"","copyright_notice":"","'
        + '"xmp":{"title":"","description":"","keywords":["","creator":["","rating":'
        + ',"label":"","rights":"","city":"","country":"'
        + '"orientation":1,"display_width":'
        + ',"warnings":[]}'
        + '"dpi":[72,72],"dpi":[300,300],"icc_profile":"sRGB IEC61966-2.1","Display P3'
        + '"gps":{"latitude":'
        + ',"longitude":'
        + ',"altitude":'
        + '"taken_at_source":"DateTimeOriginal","taken_at":"20'
        + '"exposure":{"exposure_time":'
        + ',"f_number":'
        + ',"iso":'
        + ',"focal_length":'
        + ',"focal_length_35mm":'
        + ',"flash_fired":false}'
        + '"camera":{"make":"'
        + '","model":"'
        + '","lens":"'
        + '","serial":"'
        + '","software":"'
        + '"status":"ok","format":"JPEG","mime_type":"image/jpeg","width":'
        + ',"height":'
        + ',"mode":"RGB","orientation":1,"display_width":'
        + ',"display_height":'
        + ',"megapixels":'
        + ',"has_alpha":false,"animated":false,"frames":1,"dpi":null,"bit_depth":8,'
        + '"icc_profile":null,"camera":null,"exposure":null,"taken_at":null,'
        + '"taken_at_source":null,"gps":null,"exif":{"'
        + '"xmp":null,"iptc":null,"warnings":[]}'
        + '{"size":'
        + ',"etag":"'
        + '","last_modified":"20'
        + '","content_type":"image/jpeg","extension":"jpg","extracted_at":"20'
    ).encode("utf-8"),
}
