"""Structured output for models without a JSON mode: prompt-based, parsed, checked.

The Spaces' models have no constrained decoding, so the JSON schema goes into the prompt,
the answer is parsed (code fences and surrounding prose tolerated) and checked, and on a
failure the model is asked once more with the problem spelled out. Both framework
wrappers drive the same `StructuredRequest`; a real model may still answer badly, and then
the caller gets `StructuredOutputError` with the raw text.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Generator, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from .errors import SpaceError

T = TypeVar("T")

#: Marker the instructions use before the schema (the replica's backends look for it).
SCHEMA_MARKER = "JSON schema:"
#: Attempts per request: the first answer and one re-ask.
ATTEMPTS = 2


class StructuredOutputError(SpaceError):
    """The model's answer is not a valid instance of the requested schema, also after one
    re-ask. `raw_text` is the last answer, `problem` what was wrong with it."""

    def __init__(self, message: str, *, raw_text: str, problem: str, space: str | None = None):
        super().__init__(message, space=space)
        self.raw_text = raw_text
        self.problem = problem


@dataclass(frozen=True)
class StructuredRequest(Generic[T]):
    """One schema and the function that turns parsed JSON into the caller's value
    (raising `ValueError` — pydantic's `ValidationError` is one — when it does not fit)."""

    schema: Mapping[str, Any]
    convert: Callable[[Any], T]

    def instructions(self) -> str:
        return (
            "Answer with one JSON object that conforms to the JSON schema below, and "
            "nothing else: no explanation, no code fences.\n"
            f"{SCHEMA_MARKER}\n{json.dumps(self.schema, ensure_ascii=False)}"
        )

    def reask(self, problem: str) -> str:
        return f"Your answer could not be used ({problem}). " + self.instructions()

    def parse(self, text: str) -> tuple[T | None, str | None]:
        """(value, None) for a valid answer, else (None, what was wrong)."""
        try:
            found = first_json(text)
        except ValueError as exc:
            return None, str(exc)
        problem = check_instance(self.schema, found)
        if problem is not None:
            return None, problem
        try:
            return self.convert(found), None
        except ValueError as exc:
            return None, f"it does not fit the schema: {' '.join(str(exc).split())[:500]}"

    def failure(self, raw_text: str, problem: str, space: str | None) -> StructuredOutputError:
        return StructuredOutputError(
            f"the model did not answer with valid JSON for the schema after {ATTEMPTS} "
            f"attempts ({problem}); the raw answer is in .raw_text. Spaces have no JSON mode: "
            "simplify the schema, or describe the fields in the prompt",
            raw_text=raw_text,
            problem=problem,
            space=space,
        )


def first_json(text: str) -> Any:
    """The first JSON object or array in `text`. Raises `ValueError` saying why not."""
    decoder = json.JSONDecoder()
    starts = [i for i, c in enumerate(text) if c in "{["]
    if not starts:
        raise ValueError("the answer contains no JSON object")
    error = "the answer contains no complete JSON object"
    for start in starts[:50]:  # bounded: a long answer full of brackets is not re-scanned
        try:
            value, _ = decoder.raw_decode(text, start)
        except json.JSONDecodeError as exc:
            error = f"the JSON is invalid: {exc.msg} at character {exc.pos}"
            continue
        return value
    raise ValueError(error)


_TYPES: dict[str, tuple[type, ...]] = {
    "object": (dict,),
    "array": (list,),
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "null": (type(None),),
}


def check_instance(schema: Mapping[str, Any], value: Any, where: str = "the answer") -> str | None:
    """The first way `value` breaks `schema` (types, required keys, enums, `$ref` to `$defs`),
    or None. A small subset of JSON Schema, enough to re-ask for dict and TypedDict schemas
    (pydantic classes validate themselves afterwards)."""
    return _check(schema, value, where, schema.get("$defs") or schema.get("definitions") or {})


def _check(
    schema: Mapping[str, Any], value: Any, where: str, defs: Mapping[str, Any]
) -> str | None:
    ref = schema.get("$ref")
    if isinstance(ref, str):
        schema = defs.get(ref.rsplit("/", 1)[-1], {})
    alternatives = schema.get("anyOf") or schema.get("oneOf")
    if alternatives:
        problems = [_check(alt, value, where, defs) for alt in alternatives]
        return None if any(p is None for p in problems) else problems[0]
    if "enum" in schema and value not in schema["enum"]:
        return f"{where} must be one of {schema['enum']}"
    kinds = schema.get("type")
    kinds = [kinds] if isinstance(kinds, str) else kinds or []
    if kinds and not any(_is(value, k) for k in kinds):
        return f"{where} must be of type {' or '.join(kinds)}"
    if isinstance(value, dict):
        for name in schema.get("required", []):
            if name not in value:
                return f"{where} lacks the required field {name!r}"
        for name, sub in (schema.get("properties") or {}).items():
            if name in value:
                problem = _check(sub, value[name], f"field {name!r}", defs)
                if problem:
                    return problem
    if isinstance(value, list) and isinstance(schema.get("items"), Mapping):
        for i, item in enumerate(value):
            problem = _check(schema["items"], item, f"{where}[{i}]", defs)
            if problem:
                return problem
    return None


def _is(value: Any, kind: str) -> bool:
    if kind in ("integer", "number") and isinstance(value, bool):
        return False
    return isinstance(value, _TYPES.get(kind, (object,)))


M = TypeVar("M")
A = TypeVar("A")
#: What a run of attempts ends with: the last answer, the value, or the error.
Outcome = tuple[A, T | None, StructuredOutputError | None]


def structured_attempts(
    request: StructuredRequest[T],
    messages: M,
    retry: Callable[[M, A, str], M],
    text_of: Callable[[A], str],
    space: str | None = None,
) -> Generator[M, A, Outcome[A, T]]:
    """The attempts of one request, whatever the framework: yields the messages to send,
    is sent the model's answer, and returns (answer, value, None) for a valid answer or
    (answer, None, error) after the last attempt. `retry(messages, answer, reask)` builds
    the next attempt's messages. Run it with `drive` / `adrive`."""
    for attempt in range(1, ATTEMPTS + 1):
        answer = yield messages
        value, problem = request.parse(text_of(answer))
        if problem is None:
            return answer, value, None
        if attempt == ATTEMPTS:
            return answer, None, request.failure(text_of(answer), problem, space)
        messages = retry(messages, answer, request.reask(problem))
    raise AssertionError("unreachable")  # pragma: no cover


def drive(run: Generator[M, A, Outcome[A, T]], ask: Callable[[M], A]) -> Outcome[A, T]:
    messages = next(run)
    while True:
        try:
            messages = run.send(ask(messages))
        except StopIteration as finished:
            return finished.value  # type: ignore[no-any-return]


async def adrive(
    run: Generator[M, A, Outcome[A, T]], ask: Callable[[M], Awaitable[A]]
) -> Outcome[A, T]:
    messages = next(run)
    while True:
        try:
            messages = run.send(await ask(messages))
        except StopIteration as finished:
            return finished.value  # type: ignore[no-any-return]
