"""Extraction: any seekable binary file in, a metadata record out.

`extract.extract_metadata` is the one entry point; `formats/` holds one header
reader per container family, the other modules parse the metadata blocks
(EXIF, XMP, IPTC, ICC) and derive the record's fields.

Pure: imports neither boto3/botocore nor `chalicelib.catalog` nor the service
modules, so it runs and is tested without AWS.
"""
