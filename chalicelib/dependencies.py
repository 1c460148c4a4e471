"""The boto3 clients and adapters the handlers use, created on first use.

Nothing here touches AWS at import time, so `chalice deploy` can import the
app anywhere, and tests can swap in a fresh set inside `moto.mock_aws`.
`AWS_ENDPOINT_URL` (honoured by boto3 itself) points everything at a local
emulator.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

import boto3
from botocore.config import Config

from chalicelib.catalog.catalog import Catalog
from chalicelib.ingest import Ingestor
from chalicelib.pixel_queue import PixelHooks, PixelQueue
from chalicelib.previews import PixelStage
from chalicelib.settings import Settings


class Dependencies:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    @cached_property
    def s3(self) -> Any:
        # SigV4 for presigned URLs; retries in standard mode for throttling.
        return boto3.client(
            "s3", config=Config(signature_version="s3v4", retries={"mode": "standard"})
        )

    @cached_property
    def dynamodb(self) -> Any:
        return boto3.client("dynamodb", config=Config(retries={"mode": "standard"}))

    @cached_property
    def catalog(self) -> Catalog:
        s = self.settings
        return Catalog(self.dynamodb, s.table, s.counter_shards, s.tombstone_ttl)

    @cached_property
    def sqs(self) -> Any:
        return boto3.client("sqs", config=Config(retries={"mode": "standard"}))

    @cached_property
    def pixel_hooks(self) -> PixelHooks | None:
        """What the metadata handlers do for the pixel stage (None: it is off)."""
        s = self.settings
        if not s.previews:
            return None
        queue = PixelQueue(self.sqs, s.pixels_queue)
        return PixelHooks(self.s3, s.bucket, s.prefix, s.derived_prefix, queue)

    @cached_property
    def ingestor(self) -> Ingestor:
        s = self.settings
        return Ingestor(self.s3, self.catalog, s.bucket, s.prefix, pixels=self.pixel_hooks)

    @cached_property
    def pixel_stage(self) -> PixelStage:
        return PixelStage(self.s3, self.catalog, self.settings)
