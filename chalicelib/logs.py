"""One JSON log line per event and per request, through Chalice's own logger.

CloudWatch Logs Insights parses JSON lines natively, so every field can be
queried (`filter action = "superseded"`, `stats avg(duration_ms) by path`).
Powertools' Logger would add its decorators around the raw (event, context)
handler, which Chalice keeps to itself; a plain JSON line needs no dependency.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


@contextmanager
def logged(logger: logging.Logger, **fields: Any) -> Iterator[dict[str, Any]]:
    """Yield a dict to add fields to; log it as one JSON line with the duration.

    If the block raises, the line is logged at ERROR with `error`: the
    exception's type and message (enough to act on without a stack trace), and
    the exception propagates: Lambda retries events, Chalice answers requests.
    """
    started = time.perf_counter()
    line = dict(fields)
    try:
        yield line
    except Exception as error:
        line["error"] = f"{type(error).__name__}: {error}"[:500]
        line["duration_ms"] = _elapsed_ms(started)
        logger.error(json.dumps(line, default=str))
        raise
    line["duration_ms"] = _elapsed_ms(started)
    logger.info(json.dumps(line, default=str))


def _elapsed_ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 1)
