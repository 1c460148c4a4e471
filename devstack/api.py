"""`python -m devstack.api`: the app's routes on loopback, as `chalice local` serves them.

The same server as `chalice local` (Chalice's LocalDevServer, the stage's
config and environment, answering like API Gateway: devstack/localapi.py),
run as a child of `python -m devstack` so that it dies with it, with one log
line per request (the app's JSON line; Chalice's access line is dropped) and
without its reloader (the parent restarts this process when RELOAD=1 and
app.py or chalicelib/ change).
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys

from devstack.lifeline import die_with_parent
from devstack.stages import PROJECT_DIR


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--stage", default="local")
    parser.add_argument("--parent-pid", type=int)
    args = parser.parse_args(argv)
    die_with_parent(args.parent_pid)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is for the parent to handle
    quiet_logs()

    from chalice.cli.factory import CLIFactory
    from chalice.local import ChaliceRequestHandler, create_local_server

    from devstack import localapi

    localapi.patch()  # any method reaches the app; http.server's own errors are JSON
    # The app's middleware logs each request as one JSON line; this is the other.
    ChaliceRequestHandler.log_request = lambda self, *args: None  # type: ignore[method-assign]
    # http.server sends headers and body separately: without TCP_NODELAY every
    # keep-alive response waits ~40 ms for the client's delayed ACK.
    ChaliceRequestHandler.disable_nagle_algorithm = True
    factory = CLIFactory(project_dir=str(PROJECT_DIR))
    config = factory.create_config_obj(chalice_stage_name=args.stage)
    try:
        server = create_local_server(config.chalice_app, config, "127.0.0.1", args.port)
    except OSError as error:
        print(f"devstack: the API cannot listen on port {args.port}: {error.strerror}")
        return 3
    server.server.serve_forever()
    return 0


def quiet_logs() -> None:
    """Handler lines at INFO as in Lambda; no SDK chatter such as 'Found credentials...'."""
    logging.basicConfig(stream=sys.stdout, level=logging.INFO, format="%(message)s")
    for noisy in ("botocore", "boto3", "urllib3"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


if __name__ == "__main__":
    sys.exit(main())
