"""Which service a request is for, worked out once per host.

moto's server matches every request's host against every service's URL
patterns, listing moto's package directory each time (~2 ms a request, a
dozen requests an event). The answer depends on the host alone.
"""

from __future__ import annotations

from typing import Any

from moto.moto_server.werkzeug_app import DomainDispatcherApplication

from devstack.moto_patches.patching import Patches

patches = Patches()
_known: dict[str | None, Any] = {}


def install() -> None:
    patches.apply({(DomainDispatcherApplication, "get_backend_for_host"): _backend_for_host})


def _backend_for_host(self: DomainDispatcherApplication, host: str | None) -> Any:
    if host not in _known:
        _known[host] = patches.original(DomainDispatcherApplication, "get_backend_for_host")(
            self, host
        )
    return _known[host]
