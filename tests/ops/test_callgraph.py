"""ops/callgraph.py: which code each Lambda function can reach, on small programs."""

from __future__ import annotations

from pathlib import Path

from ops.callgraph import calls_by_function, entry_points

APP = """
from chalice import Chalice
app = Chalice(app_name="x")

@app.middleware("http")
def middle(request, get_response):
    return get_response(request)

@app.route("/a")
def view():
    return deps.catalog.get("k")

@app.on_s3_event(bucket="b")
def created(event):
    return handle(event, deps.ingestor.object_created)

@app.lambda_function(name="repair")
def repair_function(event, context):
    return run()

if deps.settings.schedule:
    @app.schedule("rate(1 day)", name="nightly")
    def nightly(event):
        return run()
"""

LIB = """
from dataclasses import dataclass

@dataclass
class Settings:
    counter_shards: int = 1
    schedule: str = ""

class Catalog:
    def __init__(self, client, shards):
        self._client = client

    def get(self, key):
        return self._client.get_item(TableName="t", Key={})

    def counter_shards(self):
        return self._client.batch_get_item(RequestItems={})

    def entries(self):
        return self._client.scan(TableName="t")

class Ingestor:
    def object_created(self, event):
        entries = 3  # a local variable, not Catalog.entries
        return self._s3.get_object(Bucket="b", Key=event)

class Deps:
    @property
    def catalog(self):
        return Catalog(None, self.settings.counter_shards)  # a number, not the method

def handle(event, action):
    return action(event)

def _objects():
    return client.list_objects_v2(Bucket="b")

def _records():
    return catalog.entries()

PHASES = {"objects": _objects, "records": _records}

def run():
    for phase in PHASES.values():
        phase()
"""


def operations(tmp_path: Path) -> dict[str, set[str]]:
    (tmp_path / "app.py").write_text(APP)
    (tmp_path / "lib.py").write_text(LIB)
    paths = [tmp_path / "app.py", tmp_path / "lib.py"]
    found = calls_by_function(tmp_path / "app.py", paths, tmp_path)
    return {function: {call.operation for call in calls} for function, calls in found.items()}


def test_entry_points_follow_chalice_names(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text(APP)
    assert entry_points(tmp_path / "app.py") == {
        "api_handler": {"middle", "view"},
        "created": {"created"},
        "repair": {"repair_function"},
        "nightly": {"nightly"},
    }


def test_each_function_reaches_only_its_own_calls(tmp_path: Path) -> None:
    assert operations(tmp_path) == {
        # deps.catalog (a property) -> Catalog(...) (its constructor) -> .get(...)
        "api_handler": {"get_item"},
        # a bound method passed as a callback; a local `entries` is not Catalog.entries
        "created": {"get_object"},
        # a dispatch table's functions; .entries() called by name
        "repair": {"list_objects_v2", "scan"},
        "nightly": {"list_objects_v2", "scan"},
    }
