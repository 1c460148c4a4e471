"""The pixels tests share the extraction tests' hostile corpus (tests/extraction)."""

from __future__ import annotations

import sys
from pathlib import Path

EXTRACTION_TESTS = str(Path(__file__).resolve().parent.parent / "extraction")
if EXTRACTION_TESTS not in sys.path:
    sys.path.append(EXTRACTION_TESTS)
