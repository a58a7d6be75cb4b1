"""The ``hepatorisk`` command: one sub-command module per stage, each a thin layer over the library.

Every module here exposes ``register(subparsers)``; handlers return an exit code. Errors the user
can fix (``HepatoriskError``) become a short message and exit code 2, never a traceback.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from hepatorisk import __version__
from hepatorisk.cli import cohort, data, db, monitor, report, serve, train
from hepatorisk.exceptions import HepatoriskError

__all__ = ["main"]

_COMMANDS = (cohort, data, report, serve, train, db, monitor)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hepatorisk",
        description="Liver-injury and relapse risk for kratom use during opioid-use-disorder "
        "treatment. Decision support only: it does not replace clinical judgement.",
    )
    parser.add_argument("--version", action="version", version=f"hepatorisk {__version__}")
    parser.add_argument("-q", "--quiet", action="store_true", help="only warnings and errors")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in _COMMANDS:
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.WARNING if args.quiet else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    try:
        return int(args.handler(args))
    except HepatoriskError as exc:
        sys.stderr.write(f"hepatorisk: error: {exc}\n")
        return 2


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
