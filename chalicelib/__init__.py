"""The image-metadata service's code, by responsibility.

- `extraction/`: pure bytes-to-record code (no AWS, no catalog).
- `catalog/`: the DynamoDB layout and the pure arithmetic over it.
- the modules here: the service around them (events, downloads, uploads,
  reconcile, settings, wiring of the lazily created boto3 clients).
`tests/test_layering.py` enforces these boundaries.
"""
