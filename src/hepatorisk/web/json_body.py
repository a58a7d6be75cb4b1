"""Request bodies read strictly: one JSON loader and one content-type rule for every route family.

``load_json`` accepts exactly one reading of a body, or refuses it:

* not UTF-8, not JSON (truncated, trailing data), nested deeper than ``MAX_DEPTH``, or a
  number too long to read: ``InvalidJsonError`` (answered 400, saying what is wrong, never
  echoing the body);
* a key given twice in one object (``{"value": 48, "value": 4800}``: which one would be
  read?) or a non-finite number (``NaN``, ``Infinity``, ``1e400``): ``RefusedValuesError``,
  naming the path of each (answered 422 for that field).

``JsonBodyRoute`` reads the body of every route with a JSON body this way, before FastAPI
validates it, and refuses a body whose content type is not JSON (``BodyError``, 415). The FHIR
route reads its body with the same loader (``hepatorisk.fhir.http``).

The duplicate-key check costs one ``dict`` per object (the decoder builds the objects through
``object_pairs_hook``); paths are looked up only when something is refused.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Coroutine
from email.message import Message
from itertools import accumulate
from typing import Any, ClassVar

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError

from hepatorisk.web.openapi import DocumentedRoute

__all__ = [
    "MAX_DEPTH",
    "BodyError",
    "InvalidJsonError",
    "JsonBodyRoute",
    "RefusedValuesError",
    "is_json_media_type",
    "load_json",
    "media_type",
]

MAX_DEPTH = 64

Loc = tuple[str | int, ...]


class BodyError(Exception):
    """A body refused as a whole (400 not parseable, 415 not JSON); ``detail`` says why."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


class InvalidJsonError(BodyError):
    def __init__(self, detail: str) -> None:
        super().__init__(400, detail)


class RefusedValuesError(Exception):
    """Values JSON can carry but a request cannot: (path, kind, message) of each."""

    def __init__(self, problems: list[tuple[Loc, str, str]]) -> None:
        super().__init__(f"{len(problems)} refused value(s)")
        self.problems = problems

    def errors(self, prefix: Loc = ("body",)) -> list[dict[str, Any]]:
        """As pydantic-style errors (what ``RequestValidationError`` carries)."""
        return [
            {"type": kind, "loc": (*prefix, *loc), "msg": message, "input": None}
            for loc, kind, message in self.problems
        ]


_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"')
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_STEP = {ord("["): 1, ord("{"): 1, ord("]"): -1, ord("}"): -1}


def _depth(text: str) -> int:
    """The deepest nesting of arrays and objects (brackets inside strings do not count)."""
    brackets = _NOT_BRACKET.sub("", _STRING.sub("", text))
    return max(accumulate(map(_STEP.__getitem__, map(ord, brackets))), default=0)


def load_json(raw: bytes) -> Any:
    """The one reading of ``raw``, or ``InvalidJsonError`` / ``RefusedValuesError``."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidJsonError(f"body is not valid UTF-8 (byte {exc.start})") from None
    # fast path: fewer opening brackets than the limit cannot nest deeper than it
    if text.count("{") + text.count("[") > MAX_DEPTH and _depth(text) > MAX_DEPTH:
        raise InvalidJsonError(f"body is nested deeper than {MAX_DEPTH} levels")
    duplicates: list[tuple[dict[str, Any], str]] = []
    non_finite: list[bool] = []

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        obj = dict(items)
        if len(obj) != len(items):
            seen: set[str] = set()
            for key, _ in items:
                if key in seen:
                    duplicates.append((obj, key))
                    break
                seen.add(key)
        return obj

    def number(token: str) -> float:
        value = float(token)
        if math.isinf(value):
            non_finite.append(True)
        return value

    def constant(token: str) -> float:
        non_finite.append(True)
        return float(token)

    try:
        data = json.loads(
            text, object_pairs_hook=pairs, parse_float=number, parse_constant=constant
        )
    except json.JSONDecodeError as exc:
        raise InvalidJsonError(
            f"body is not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})"
        ) from None
    except (ValueError, RecursionError):  # e.g. an integer of more than 4,300 digits
        raise InvalidJsonError("body is not valid JSON: a value cannot be read") from None
    if duplicates or non_finite:
        raise RefusedValuesError(_problems(data, duplicates, bool(non_finite)))
    return data


def _problems(
    data: Any, duplicates: list[tuple[dict[str, Any], str]], non_finite: bool
) -> list[tuple[Loc, str, str]]:
    """Where each refused value is (walks the parsed body once; only for refused bodies)."""
    dup_keys = {id(obj): key for obj, key in duplicates}
    problems: list[tuple[Loc, str, str]] = []
    stack: list[tuple[Loc, Any]] = [((), data)]
    while stack:
        loc, node = stack.pop()
        if isinstance(node, dict):
            if id(node) in dup_keys:
                key = dup_keys[id(node)]
                problems.append(((*loc, key), "duplicate_key", "duplicate key"))
            stack.extend(((*loc, k), v) for k, v in reversed(node.items()))
        elif isinstance(node, list):
            stack.extend(((*loc, i), v) for i, v in reversed(list(enumerate(node))))
        elif non_finite and isinstance(node, float) and not math.isfinite(node):
            problems.append((loc, "finite_number", "Input should be a finite number"))
    return problems


def media_type(request: Request) -> str:
    """The request's media type, lower case, without parameters ('' if none)."""
    message = Message()
    message["content-type"] = request.headers.get("content-type", "")
    return message.get_content_type() if request.headers.get("content-type") else ""


def is_json_media_type(media: str) -> bool:
    """``application/json`` or ``application/<anything>+json`` (as FastAPI reads them)."""
    kind, _, subtype = media.partition("/")
    return kind == "application" and (subtype == "json" or subtype.endswith("+json"))


class _StrictJsonRequest(Request):
    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            self._json = load_json(await self.body())
        return self._json


class JsonBodyRoute(DocumentedRoute):
    """A route whose JSON body is read by ``load_json``: 415 for a body that is not JSON by its
    content type, 400 for one that is not JSON, 422 naming each duplicated key or non-finite
    number; then FastAPI validates it as usual."""

    #: read by ``web.openapi``: a JSON body route also answers 415
    reads_json_body: ClassVar[bool] = True

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        if self.body_field is None:
            return handler

        async def route(request: Request) -> Response:
            strict = _StrictJsonRequest(request.scope, request.receive)
            media = media_type(strict)
            if not is_json_media_type(media):
                shown = f"content type {media!r}" if media else "no content type"
                raise BodyError(415, f"{shown}; send application/json")
            if await strict.body():
                try:
                    await strict.json()
                except RefusedValuesError as exc:
                    raise RequestValidationError(exc.errors()) from None
            return await handler(strict)

        return route
