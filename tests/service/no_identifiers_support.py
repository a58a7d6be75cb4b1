"""Requests with planted identifiers: a distinctive string in every string field, valid and hostile.

Shared by test_no_identifiers.py (the app in-process, every log record and the audit database)
and test_serve_cli.py (a real ``hepatorisk serve``: its stdout and stderr). Every planted value
starts with :data:`PLANT`, so one search finds any of them.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from typing import Any

from service_support import patient

PLANT = "MRN-PLANT"
JSON = {"Content-Type": "application/json"}

Path = tuple[str | int, ...]


def planted(label: str) -> str:
    return f"{PLANT}-{label}"


def leaves(value: Any, path: Path = ()) -> Iterator[Path]:
    """The path of every scalar in a JSON value."""
    if isinstance(value, dict):
        for k, v in value.items():
            yield from leaves(v, (*path, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from leaves(v, (*path, i))
    else:
        yield path


def objects(value: Any, path: Path = ()) -> Iterator[Path]:
    """The path of every object in a JSON value."""
    if isinstance(value, dict):
        yield path
        for k, v in value.items():
            yield from objects(v, (*path, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from objects(v, (*path, i))


def label(path: Path) -> str:
    return ".".join(str(p) for p in path) or "root"


def replaced(body: Any, path: Path, value: Any) -> Any:
    out = copy.deepcopy(body)
    target = out
    for p in path[:-1]:
        target = target[p]
    target[path[-1]] = value
    return out


def with_unknown_field(body: Any, path: Path) -> Any:
    out = copy.deepcopy(body)
    target = out
    for p in path:
        target = target[p]
    target["unknown_field"] = planted(f"unknown@{label(path)}")
    return out


def planted_variants(body: Any) -> Iterator[tuple[str, Any]]:
    """``body`` with one planted string in place of each scalar (a string where a number,
    a boolean, a code or a free text goes), then with an unknown field in each object."""
    for path in leaves(body):
        yield f"string@{label(path)}", replaced(body, path, planted(label(path)))
    for path in objects(body):
        yield f"unknown@{label(path)}", with_unknown_field(body, path)


def valid_planted_patient() -> dict[str, Any]:
    """A valid /v1 body whose identifier is planted (it must be stored only as its hash)."""
    return patient(patient_ref=planted("patient_ref"))


def _raw(text: str) -> bytes:
    return text.encode()


def hostile_bodies() -> list[bytes]:
    """Raw /v1/assess bodies, each with planted strings, that no parser may echo: every string
    field replaced; unknown fields; patient_ref of the wrong type or too long; duplicate keys;
    truncated JSON; bad UTF-8; deep nesting; a non-finite number beside a planted reference."""
    base = valid_planted_patient()
    bodies = [_raw(json.dumps(b)) for _, b in planted_variants(base)]
    ref = planted("patient_ref")
    text = json.dumps(base)
    bodies += [
        _raw(json.dumps(base | {"patient_ref": [ref]})),
        _raw(json.dumps(base | {"patient_ref": {"value": ref}})),
        _raw(json.dumps(base | {"patient_ref": ref * 2000})),
        _raw(json.dumps(base | {"labs": ref})),
        _raw(json.dumps(base | {"demographics": [ref]})),
        _raw(text[:-1] + f', "patient_ref": "{planted("duplicate")}"}}'),  # duplicate key
        _raw(text.replace('"sex": "male"', f'"sex": "male", "sex": "{planted("dup-sex")}"')),
        _raw(text[: text.index(ref) + len(ref) + 3]),  # truncated after the reference
        _raw(f'{{"patient_ref": "{ref}", "demographics": {{"age": 41, "sex": ')
        + b"\xff\xfe"
        + b"}}",  # bad UTF-8 after the reference
        _raw(f'{{"patient_ref": "{ref}", "x": ' + "[" * 5000 + "]" * 5000 + "}"),
        _raw(text.replace('"cows": 6', '"cows": NaN')),  # non-finite beside the reference
        _raw(text.replace('"value": 48', '"value": 1e400')),
        _raw(f'[{{"patient_ref": "{ref}"}}]'),  # an array, not an object
        _raw(f'"{ref}"'),  # a bare string
        _raw(f"{ref}"),  # not JSON at all
    ]
    return bodies
