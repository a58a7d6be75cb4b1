"""Getting the vendored public files: copy from a folder or download, always checking SHA-256.

Nothing here runs unless asked (``hepatorisk data fetch``); loaders only *verify*. Every file is
written to a temporary name and renamed once its checksum matches, so an interrupted fetch never
leaves a file that looks valid.
"""

from __future__ import annotations

import hashlib
import logging
import shutil
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from hepatorisk.data.registry import DataFile, Dataset, get_dataset
from hepatorisk.exceptions import DataSourceError

__all__ = [
    "FetchResult",
    "Opener",
    "fetch_dataset",
    "sha256_bytes",
    "sha256_file",
    "verify_dataset",
    "verify_file",
]

log = logging.getLogger(__name__)

# Given a URL, return its bytes or raise OSError. The default uses urllib; tests pass a fake.
Opener = Callable[[str], bytes]
_TIMEOUT_S = 60
_CHUNK = 1 << 20


@dataclass(frozen=True)
class FetchResult:
    """What happened to one file: ``kept`` (already valid), ``copied`` or ``downloaded``."""

    name: str
    action: str
    origin: str


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def verify_file(path: Path, expected: DataFile, dataset: str, how_to_fix: str = "") -> None:
    """Refuse a missing, truncated or altered file, naming it and the checksum it should have."""
    how_to_fix = how_to_fix or (
        f"Restore it with 'hepatorisk data fetch {dataset} --dest {path.parent}' "
        "(add --from DIR to copy from a local folder)."
    )
    if not path.is_file():
        raise DataSourceError(
            f"{path}: file missing; expected {expected.name} with SHA-256 {expected.sha256} "
            f"({expected.size} bytes). {how_to_fix}"
        )
    size = path.stat().st_size
    found = sha256_file(path)
    if found != expected.sha256:
        state = "truncated" if size < expected.size else "altered"
        raise DataSourceError(
            f"{path}: {state} file; expected SHA-256 {expected.sha256} ({expected.size} bytes), "
            f"found SHA-256 {found} ({size} bytes). {how_to_fix}"
        )


def verify_dataset(folder: Path, dataset: Dataset | str) -> None:
    """Check every file of ``dataset`` in ``folder``; all problems are reported together."""
    ds = get_dataset(dataset) if isinstance(dataset, str) else dataset
    if not folder.is_dir():
        raise DataSourceError(
            f"{folder}: no such folder; expected the {len(ds.files)} {ds.name} files there. "
            f"Get them with 'hepatorisk data fetch {ds.name} --dest {folder}'."
        )
    problems = []
    for item in ds.files:
        try:
            verify_file(folder / item.name, item, ds.name)
        except DataSourceError as exc:
            problems.append(str(exc))
    if problems:
        raise DataSourceError(
            f"{folder}: {len(problems)} of {len(ds.files)} {ds.name} file(s) failed verification:\n"
            + "\n".join(f"  - {p}" for p in problems)
        )


def fetch_dataset(
    name: str,
    dest: Path,
    *,
    source: Path | None = None,
    opener: Opener | None = None,
) -> list[FetchResult]:
    """Fill ``dest`` with every file of dataset ``name``, from ``source`` or from its public URLs.

    Files already in ``dest`` with the right checksum are kept. A file whose bytes do not match
    the pinned SHA-256 is never written.
    """
    ds = get_dataset(name)
    dest.mkdir(parents=True, exist_ok=True)
    results = []
    for item in ds.files:
        target = dest / item.name
        if target.is_file() and sha256_file(target) == item.sha256:
            results.append(FetchResult(item.name, "kept", str(target)))
            continue
        if source is not None:
            results.append(_copy(item, source, target, ds.name))
        else:
            results.append(_download(item, target, opener or _urlopen))
    return results


def _copy(item: DataFile, source: Path, target: Path, dataset: str) -> FetchResult:
    if not source.is_dir():
        raise DataSourceError(
            f"{source}: not a folder; expected a folder holding the {dataset} files "
            f"(a previous fetch, or a copy of the published package)"
        )
    origin = source / item.name
    if not origin.is_file() and item.layout_path:
        origin = source / item.layout_path  # the published R-package layout keeps .rda in data/
    verify_file(
        origin,
        item,
        dataset,
        how_to_fix=f"The --from folder {source} does not hold the "
        "published bytes; point --from at an unmodified copy.",
    )
    tmp = target.with_name(target.name + ".part")
    shutil.copyfile(origin, tmp)
    _finish(tmp, target, item, str(origin))
    log.info("copied %s from %s", item.name, origin)
    return FetchResult(item.name, "copied", str(origin))


def _download(item: DataFile, target: Path, opener: Opener) -> FetchResult:
    attempts = []
    for url in item.urls:
        try:
            data = opener(url)
        except OSError as exc:
            attempts.append(f"{url}: {exc}")
            continue
        found = sha256_bytes(data)
        if found != item.sha256:
            attempts.append(f"{url}: SHA-256 {found} ({len(data)} bytes)")
            continue
        tmp = target.with_name(target.name + ".part")
        tmp.write_bytes(data)
        _finish(tmp, target, item, url)
        log.info("downloaded %s from %s", item.name, url)
        return FetchResult(item.name, "downloaded", url)
    raise DataSourceError(
        f"{item.name}: no public origin gave the expected bytes (SHA-256 {item.sha256}, "
        f"{item.size} bytes). Tried:\n" + "\n".join(f"  - {a}" for a in attempts) + "\n"
        "Check your network, or copy the files from a folder you trust with --from DIR."
    )


def _finish(tmp: Path, target: Path, item: DataFile, origin: str) -> None:
    found = sha256_file(tmp)
    if found != item.sha256:  # pragma: no cover - the source changed while being copied
        tmp.unlink()
        raise DataSourceError(
            f"{origin}: copy of {item.name} has SHA-256 {found}, expected {item.sha256}"
        )
    tmp.replace(target)


def _urlopen(url: str) -> bytes:
    request = urllib.request.Request(url, headers={"User-Agent": "hepatorisk-data-fetch"})
    try:
        with urllib.request.urlopen(request, timeout=_TIMEOUT_S) as response:
            return bytes(response.read())
    except (urllib.error.URLError, TimeoutError) as exc:
        raise OSError(str(getattr(exc, "reason", exc))) from None
