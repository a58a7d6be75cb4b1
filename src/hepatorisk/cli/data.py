"""``hepatorisk data``: fetch or verify the public datasets (the only command that downloads)."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from hepatorisk.data import DATASETS, fetch_dataset, get_dataset, verify_dataset
from hepatorisk.paths import PUBLIC_DATA

log = logging.getLogger(__name__)


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    data = sub.add_parser("data", help="fetch or verify the public datasets (SHA-256 checked)")
    actions = data.add_subparsers(dest="action", required=True, metavar="ACTION")

    fetch = actions.add_parser(
        "fetch",
        help="download a dataset from its public origin or copy it (--from); SHA-256 checked",
    )
    fetch.add_argument("name", choices=sorted(DATASETS), help="dataset to fetch")
    fetch.add_argument(
        "--dest", type=Path, default=None, help="target folder (default: data/public/<folder>)"
    )
    fetch.add_argument(
        "--from",
        dest="source",
        type=Path,
        default=None,
        help="copy from this local folder instead of downloading",
    )
    fetch.set_defaults(handler=_fetch)

    verify = actions.add_parser("verify", help="check every file of a dataset against its SHA-256")
    verify.add_argument("name", choices=sorted(DATASETS), help="dataset to verify")
    verify.add_argument(
        "--dir", type=Path, default=None, help="folder to check (default: data/public/<folder>)"
    )
    verify.set_defaults(handler=_verify)


def _default_folder(name: str) -> Path:
    return PUBLIC_DATA / get_dataset(name).folder


def _fetch(args: argparse.Namespace) -> int:
    dest = args.dest or _default_folder(args.name)
    results = fetch_dataset(args.name, dest, source=args.source)
    counts: dict[str, int] = {}
    for result in results:
        counts[result.action] = counts.get(result.action, 0) + 1
    summary = ", ".join(f"{n} {action}" for action, n in sorted(counts.items()))
    log.info("%s: %d files verified in %s (%s)", args.name, len(results), dest, summary)
    return 0


def _verify(args: argparse.Namespace) -> int:
    folder = args.dir or _default_folder(args.name)
    verify_dataset(folder, args.name)
    log.info("%s: every file in %s matches its SHA-256", args.name, folder)
    return 0
