"""The ``cohort.json`` manifest every cohort folder carries (synthetic, ctn0094, nhanes).

``cohort describe`` reads ``kind`` to pick its Table 1; modelling reads ``feature_sets`` and
``outcomes`` so that no caller hard-codes column lists.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from hepatorisk import __version__
from hepatorisk.cohorts.kinds import KINDS
from hepatorisk.exceptions import DataContractError, DataSourceError

__all__ = ["MANIFEST_NAME", "CohortManifest", "read_manifest", "write_manifest"]

MANIFEST_NAME = "cohort.json"


@dataclass(frozen=True)
class CohortManifest:
    """What a cohort folder holds: its kind, tables, named feature sets and outcome columns."""

    kind: str
    tables: list[str]
    feature_sets: dict[str, list[str]]
    outcomes: list[str]
    hepatorisk_version: str = __version__
    extra: dict[str, object] = field(default_factory=dict)


def write_manifest(manifest: CohortManifest, directory: Path) -> Path:
    if manifest.kind not in KINDS:
        raise DataContractError(f"cohort kind {manifest.kind!r} is not one of {', '.join(KINDS)}")
    data = asdict(manifest)
    extra = data.pop("extra")
    path = directory / MANIFEST_NAME
    path.write_text(json.dumps({**data, **extra}, indent=2) + "\n")
    return path


def read_manifest(directory: Path) -> CohortManifest:
    """Load ``cohort.json``; a missing or malformed manifest says what a cohort folder needs."""
    path = directory / MANIFEST_NAME
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise DataSourceError(
            f"{path}: not found; expected a folder written by 'hepatorisk cohort build' or "
            "'hepatorisk cohort generate'"
        ) from None
    except json.JSONDecodeError as exc:
        raise DataContractError(f"{path}: not valid JSON ({exc})") from None
    required = ("kind", "tables", "feature_sets", "outcomes", "hepatorisk_version")
    missing = [k for k in required if k not in data]
    if missing or data.get("kind") not in KINDS:
        raise DataContractError(
            f"{path}: expected keys {', '.join(required)} and kind in {', '.join(KINDS)}; "
            f"missing {missing or 'none'}, kind {data.get('kind')!r}"
        )
    extra = {k: v for k, v in data.items() if k not in required}
    return CohortManifest(
        kind=data["kind"],
        tables=list(data["tables"]),
        feature_sets={k: list(v) for k, v in data["feature_sets"].items()},
        outcomes=list(data["outcomes"]),
        hepatorisk_version=data["hepatorisk_version"],
        extra=extra,
    )
