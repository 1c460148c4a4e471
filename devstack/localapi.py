"""`python -m devstack.localapi local ...`: `chalice local`, answering like API Gateway.

http.server answers a method it has no `do_<METHOD>` for (TRACE, QUERY, ...)
with its own HTML 501, and its protocol errors (a malformed request line,
headers too long, a bad Content-Length) with HTML too, or not at all. Deployed,
such requests never reach http.server. Here:

- every method reaches the local gateway, so the app answers an undeclared
  one with Chalice's JSON 405 and an `Allow` header, exactly as it answers
  PUT or DELETE (API Gateway answers them with a JSON 403 of its own);
- http.server's own errors are JSON, `{"message": ...}`, API Gateway's shape;
- a handler failure the gateway does not catch is a JSON 502 (what API
  Gateway answers when the Lambda fails), never a dropped connection.

Chalice's reloader (`--autoreload`) runs its worker with this process's
command line, so the worker is patched too.
"""

from __future__ import annotations

import json
import sys
from typing import Any

import chalice.cli
from chalice.local import ChaliceRequestHandler

_original_handle = ChaliceRequestHandler._generic_handle


def _any_method(self: ChaliceRequestHandler, name: str) -> Any:
    # http.server looks up `do_<METHOD>`; any method goes to the gateway.
    if name.startswith("do_"):
        return self._generic_handle
    raise AttributeError(name)


def _json_error(
    self: ChaliceRequestHandler, code: int, message: str | None = None, explain: str | None = None
) -> None:
    short = self.responses.get(code, ("Error",))[0]
    body = json.dumps({"message": message or short}).encode()
    self.log_error("code %d, message %s", code, message)
    self.send_response(code, message)
    self.send_header("Connection", "close")
    with_body = code >= 200 and code not in (204, 304) and self.command != "HEAD"
    if with_body:
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
    self.end_headers()
    if with_body:
        self.wfile.write(body)


def _guarded_handle(self: ChaliceRequestHandler) -> None:
    length = self.headers.get("content-length", "0")
    if not length.isascii() or not length.isdigit():
        self.send_error(400, "Bad Request: invalid Content-Length")
        return
    try:
        _original_handle(self)
    except Exception:  # noqa: BLE001 - answered, as API Gateway answers a failed Lambda
        self.log_error("the local gateway failed on %s %s", self.command, self.path)
        self.send_error(502, "Internal server error")


def patch() -> None:
    ChaliceRequestHandler.__getattr__ = _any_method  # type: ignore[attr-defined]
    ChaliceRequestHandler.send_error = _json_error  # type: ignore[method-assign]
    ChaliceRequestHandler._generic_handle = _guarded_handle  # type: ignore[method-assign]
    for name in ("do_GET", "do_PUT", "do_POST", "do_HEAD", "do_DELETE", "do_PATCH", "do_OPTIONS"):
        setattr(ChaliceRequestHandler, name, _guarded_handle)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    patch()
    # The reloader re-runs sys.argv as a command: make it this module again.
    sys.argv = [sys.executable, "-m", "devstack.localapi", *args]
    return chalice.cli.cli.main(args=args, prog_name="chalice", obj={})


if __name__ == "__main__":
    sys.exit(main())
