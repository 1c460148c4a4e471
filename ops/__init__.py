"""Operational tooling run from a developer machine; never deployed to Lambda."""
