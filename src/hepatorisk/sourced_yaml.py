"""YAML configuration in which every parameter carries its source.

A parameter is written ``name: {value: ..., source: "..."}``; the source is a citation (a row of
``clinical-facts.md``, a guideline, a figure computed from vendored data) or starts with
``assumption:``. Loading strips the sources into a side table and remembers each key's line, so an
invalid value is reported as ``file:line: key: problem``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from hepatorisk.exceptions import ConfigError, DataSourceError

__all__ = ["SourcedConfig", "load_sourced_yaml", "merge_overrides", "validate_model"]

M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True)
class SourcedConfig:
    """Values (sources stripped), the source of every parameter, and the line of every key."""

    values: dict[str, Any]
    sources: dict[str, str]
    lines: dict[str, tuple[str, int]]


def load_sourced_yaml(path: Path, *, require_sources: bool = True) -> SourcedConfig:
    """Read ``path``; refuse parameters without a source when ``require_sources`` is set."""
    try:
        text = path.read_text()
    except OSError as exc:
        raise DataSourceError(f"{path}: cannot read configuration ({exc.strerror})") from None
    try:
        node = yaml.compose(text)
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark is not None else str(path)
        raise ConfigError(f"{where}: not valid YAML ({getattr(exc, 'problem', exc)})") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}:1: expected a mapping of parameter groups at the top level")
    lines = {key: (str(path), line) for key, line in _key_lines(node)}
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    _strip(raw, "", values, sources, lines, require_sources)
    return SourcedConfig(values=values, sources=sources, lines=lines)


def merge_overrides(base: SourcedConfig, override: SourcedConfig) -> SourcedConfig:
    """Overlay ``override`` on ``base``; overridden parameters take its sources and lines."""
    values = _deep_merge(base.values, override.values)
    return SourcedConfig(
        values=values,
        sources={**base.sources, **override.sources},
        lines={**base.lines, **override.lines},
    )


def validate_model(model: type[M], config: SourcedConfig) -> M:
    """Build ``model`` from the values; validation errors become ``file:line: key`` messages."""
    try:
        return model.model_validate(config.values)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            key = ".".join(str(p) for p in err["loc"])
            file, line = _nearest_line(config.lines, key)
            problems.append(f"{file}:{line}: {key}: {err['msg']} (got {err.get('input')!r})")
        raise ConfigError("invalid configuration:\n  " + "\n  ".join(problems)) from None


def _strip(
    raw: Mapping[str, Any],
    prefix: str,
    values: dict[str, Any],
    sources: dict[str, str],
    lines: Mapping[str, tuple[str, int]],
    require_sources: bool,
) -> None:
    for key, item in raw.items():
        dotted = f"{prefix}{key}"
        if isinstance(item, dict) and "value" in item:
            extra = set(item) - {"value", "source"}
            source = item.get("source")
            if extra or (require_sources and not (isinstance(source, str) and source.strip())):
                file, line = lines.get(dotted, ("<config>", 0))
                raise ConfigError(
                    f"{file}:{line}: parameter {dotted!r} must be {{value: ..., source: '...'}} "
                    "with a non-empty source (a citation, or 'assumption: why')"
                )
            values[key] = item["value"]
            sources[dotted] = str(source or f"override in {lines.get(dotted, ('?',))[0]}")
        elif isinstance(item, dict):
            values[key] = {}
            _strip(item, dotted + ".", values[key], sources, lines, require_sources)
        elif require_sources:
            file, line = lines.get(dotted, ("<config>", 0))
            raise ConfigError(
                f"{file}:{line}: parameter {dotted!r} has no source; write it as "
                f"{{value: {item!r}, source: '...'}}"
            )
        else:
            values[key] = item
            sources[dotted] = f"override in {lines.get(dotted, ('?',))[0]}"


def _key_lines(node: yaml.Node | None, prefix: str = "") -> Iterator[tuple[str, int]]:
    if not isinstance(node, yaml.MappingNode):
        return
    for key_node, value_node in node.value:
        dotted = f"{prefix}{key_node.value}"
        yield dotted, key_node.start_mark.line + 1
        yield from _key_lines(value_node, dotted + ".")


def _nearest_line(lines: Mapping[str, tuple[str, int]], key: str) -> tuple[str, int]:
    parts = key.split(".")
    while parts:
        found = lines.get(".".join(parts))
        if found is not None:
            return found
        parts.pop()
    return ("<config>", 0)


def _deep_merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged
