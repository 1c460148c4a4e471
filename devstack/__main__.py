"""`python -m devstack` (what `make dev` runs): the whole service on loopback.

`python -m devstack upload FILE...` (what `make upload` runs) uploads images
to the running stack as a browser would. See devstack/stack.py and
devstack/upload.py.
"""

from __future__ import annotations

import sys


def main(argv: list[str]) -> int:
    if argv[:1] == ["upload"]:
        from devstack.upload import main as upload

        return upload(argv[1:])
    if argv:
        print("usage: python -m devstack [upload FILE...]", file=sys.stderr)
        return 2
    from devstack.stack import main as stack

    return stack()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
