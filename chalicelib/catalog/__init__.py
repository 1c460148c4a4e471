"""The catalog: records, counters and indexes in one DynamoDB table.

`layout` names the table's items and indexes, `catalog.Catalog` reads and
writes them (a record and its counters in one transaction), `summary` and
`paging` are pure arithmetic over what is stored.

Never imports `chalicelib.extraction` or the service modules: what a record
holds is decided elsewhere; the catalog only stores, counts and finds it.
"""
